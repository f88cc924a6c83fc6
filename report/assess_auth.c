/* Sign-in: what a sign-in (or its absence) on one endpoint means, read from the server's
 * own words by one ordered table (auth_rules), and the findings about the account. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/assess_internal.h"

/* ---- sign-in ------------------------------------------------------------------------ */

enum rule_kind {
    RULE_CODE,         /* the response code equals match (ASCII case ignored) */
    RULE_PHRASE,       /* the text holds match as whole words (ASCII case ignored) */
    RULE_PROTO_PHRASE, /* ... and names a protocol (IMAP, IMAP4, POP, POP3) */
};

struct auth_rule {
    const char *match;
    enum rule_kind kind;
    enum ms_auth_outcome outcome;
    enum auth_hint hint;
};

/* How a refused sign-in is read: the first rule that matches wins. The order matters:
 * "not now" answers before anything about the account (an [IN-USE] mailbox is not a wrong
 * password), the protocol before the account ("IMAP access is disabled for this account"),
 * the account before the generic credential codes ([AUTH] and AUTHENTICATIONFAILED also
 * come with Dovecot's nologin reasons and Gmail's "not enabled for POP access"). */
static const struct auth_rule auth_rules[] = {
    /* 1. not now: the same sign-in may work later */
    {"IN-USE", RULE_CODE, MS_AUTH_IN_USE, HINT_NONE},           /* POP3 RFC 2449 */
    {"INUSE", RULE_CODE, MS_AUTH_IN_USE, HINT_NONE},            /* IMAP RFC 5530 */
    {"LOGIN-DELAY", RULE_CODE, MS_AUTH_LOGIN_DELAY, HINT_NONE}, /* POP3 RFC 2449 */
    {"SYS/TEMP", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},      /* POP3 RFC 3206 */
    {"UNAVAILABLE", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},   /* IMAP RFC 5530 */
    {"SERVERBUG", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"LIMIT", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"lock maildrop", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE}, /* POP3 servers without codes */
    {"maildrop locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"maildrop is locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"maildrop already locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox is locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox in use", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox is in use", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"already in use", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"temporarily", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"temporary", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"try again later", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"try later", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"too many connections", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"maximum number of connections", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    /* 2. password sign-in or the mechanism is off (here: no cleartext password without TLS
     * is not a wrong password) */
    {"PRIVACYREQUIRED", RULE_CODE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_PRIVACY},
    {"plaintext authentication disallowed", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE,
     HINT_PRIVACY},
    {"cleartext authentication disallowed", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE,
     HINT_PRIVACY},
    {"basic authentication", RULE_PHRASE, MS_AUTH_BASIC_AUTH_DISABLED, HINT_NONE},
    {"basic auth", RULE_PHRASE, MS_AUTH_BASIC_AUTH_DISABLED, HINT_NONE},
    {"unsupported authentication mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"unknown authentication mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"unsupported mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"mechanism not supported", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"mechanism is not supported", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    /* 3. this account may not use this protocol */
    {"user is authenticated but not connected", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED,
     HINT_EXCHANGE}, /* Exchange / Microsoft 365 */
    {"not enabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE}, /* Gmail, Zimbra */
    {"not allowed to use", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"access is disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE}, /* nologin reasons */
    {"access disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"access is not allowed", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"access not allowed", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"disabled", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"not allowed", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"not permitted", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"denied", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    /* 4. the account itself */
    {"EXPIRED", RULE_CODE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},      /* IMAP RFC 5530 */
    {"CONTACTADMIN", RULE_CODE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE}, /* IMAP RFC 5530 */
    {"account disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"account is disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"account has been disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"user disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"user is disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"locked", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"expired", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"suspended", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"deactivated", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    /* 5. "disabled" naming neither the account nor a protocol: most often the protocol */
    {"disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    /* 6. the credentials */
    {"AUTHORIZATIONFAILED", RULE_CODE, MS_AUTH_FAILED, HINT_AUTHZ},
    {"SYS/PERM", RULE_CODE, MS_AUTH_FAILED, HINT_PERM},
    {"WEBALERT", RULE_CODE, MS_AUTH_FAILED, HINT_WEB_LOGIN},
    {"web browser", RULE_PHRASE, MS_AUTH_FAILED, HINT_WEB_LOGIN},
    {"application-specific password", RULE_PHRASE, MS_AUTH_FAILED, HINT_APP_PASSWORD},
    {"app password", RULE_PHRASE, MS_AUTH_FAILED, HINT_APP_PASSWORD},
    {"AUTHENTICATIONFAILED", RULE_CODE, MS_AUTH_FAILED, HINT_NONE},
    {"AUTH", RULE_CODE, MS_AUTH_FAILED, HINT_NONE},
};

/* What the probe's reason for not sending the credentials means. */
static enum ms_auth_outcome skip_outcome(const struct ms_endpoint_result *ep)
{
    switch (ep->auth.skip) {
    case MS_AUTH_SKIP_NOT_CHOSEN: return MS_AUTH_NOT_CHOSEN;
    case MS_AUTH_SKIP_NOT_ENCRYPTED:
    case MS_AUTH_SKIP_NO_TLS:
    case MS_AUTH_SKIP_CERT_UNVERIFIED: return MS_AUTH_NOT_ATTEMPTED_INSECURE;
    case MS_AUTH_SKIP_OAUTH2_ONLY: return MS_AUTH_BASIC_AUTH_DISABLED;
    case MS_AUTH_SKIP_NO_OAUTH2_MECH:
    case MS_AUTH_SKIP_NO_PASSWORD_MECH:
    case MS_AUTH_SKIP_FORCED_NOT_OFFERED:
    case MS_AUTH_SKIP_UNKNOWN_MECH: return MS_AUTH_MECHANISM_UNAVAILABLE;
    case MS_AUTH_SKIP_UNENCODABLE:
    case MS_AUTH_SKIP_LINE_BREAK: return MS_AUTH_NOT_ATTEMPTED;
    default: break;
    }
    /* no typed reason, on a connection without verified TLS */
    if (!ep->tls.established || !ep->tls.verified)
        return MS_AUTH_NOT_ATTEMPTED_INSECURE;
    return MS_AUTH_NOT_ATTEMPTED;
}

static bool names_protocol(const char *text)
{
    return has_phrase(text, "imap") || has_phrase(text, "imap4") || has_phrase(text, "pop") ||
           has_phrase(text, "pop3");
}

/* The response code's name: the first word of code ("SYS/TEMP"), else of a "[CODE ...]" in
 * text. */
static void code_name(const char *code, const char *text, char *buf, size_t cap)
{
    const char *src = code && code[0] ? code : NULL;
    buf[0] = '\0';
    if (!src && text) {
        const char *b = strchr(text, '[');
        src = b ? b + 1 : NULL;
    }
    if (!src)
        return;
    size_t n = strcspn(src, " ]");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, src, n);
    buf[n] = '\0';
}

static enum ms_auth_outcome classify_answer(const char *code, const char *text,
                                            enum auth_hint *hint)
{
    char name[64];
    if (!text)
        text = "";
    code_name(code, text, name, sizeof name);
    bool proto = names_protocol(text);
    for (size_t k = 0; k < sizeof auth_rules / sizeof auth_rules[0]; k++) {
        const struct auth_rule *r = &auth_rules[k];
        bool hit = r->kind == RULE_CODE
                       ? name[0] && strcasecmp(name, r->match) == 0
                       : has_phrase(text, r->match) && (r->kind == RULE_PHRASE || proto);
        if (hit) {
            *hint = r->hint;
            return r->outcome;
        }
    }
    *hint = HINT_NONE;
    return MS_AUTH_FAILED;
}

enum ms_auth_outcome ms_assess_auth_answer(const char *code, const char *text)
{
    enum auth_hint hint;
    return classify_answer(code, text, &hint);
}

bool is_token_mech(const char *mech)
{
    return strcasecmp(mech, "XOAUTH2") == 0 || strcasecmp(mech, "OAUTHBEARER") == 0;
}

/* The session ended before sign-in because TLS could not be set up (no STARTTLS, STARTTLS
 * refused, a failed handshake). */
bool stopped_for_tls(const struct ms_endpoint_result *ep)
{
    return ep->failure == MS_FAILURE_STARTTLS_NOT_OFFERED ||
           ep->failure == MS_FAILURE_STARTTLS_REFUSED || ep->failure == MS_FAILURE_TLS_HANDSHAKE ||
           ep->failure == MS_FAILURE_TLS_TIMEOUT;
}

static enum ms_auth_outcome auth_outcome(const struct ms_endpoint_result *ep, enum auth_hint *hint)
{
    const struct ms_auth_facts *au = &ep->auth;
    *hint = HINT_NONE;
    if (!au->wanted)
        return MS_AUTH_NONE;
    if (au->attempted && au->ok) {
        /* Exchange accepts the password of a mailbox whose protocol is off, then answers
         * every command with these words. */
        if ((ep->failure != MS_FAILURE_NONE &&
             has_phrase(ep->failure_message, "user is authenticated but not connected")) ||
            has_phrase(au->refused_after_login, "user is authenticated but not connected")) {
            *hint = HINT_EXCHANGE;
            return MS_AUTH_PROTOCOL_DISABLED;
        }
        return MS_AUTH_OK;
    }
    if (au->attempted) {
        if (au->status[0])
            return classify_answer(au->code, au->server_response, hint);
        /* BYE instead of a verdict: its words are the verdict. */
        if (ep->failure == MS_FAILURE_PROTO_BYE && ep->failure_phase == MS_PHASE_AUTH)
            return classify_answer("", ep->failure_message, hint);
        return MS_AUTH_UNFINISHED;
    }
    if (!au->not_attempted_reason[0]) {
        /* The session stopped because TLS could not be had: that is why nothing was sent. */
        if (stopped_for_tls(ep))
            return MS_AUTH_NOT_ATTEMPTED_INSECURE;
        return au->chosen || ep->failure != MS_FAILURE_NONE ? MS_AUTH_NONE : MS_AUTH_NOT_CHOSEN;
    }
    return skip_outcome(ep);
}

enum ms_auth_outcome ms_assess_auth(const struct ms_endpoint_result *ep)
{
    enum auth_hint hint;
    return auth_outcome(ep, &hint);
}

const char *ms_auth_outcome_code(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_FAILED: return "auth.failed";
    case MS_AUTH_PROTOCOL_DISABLED: return "auth.protocol_disabled";
    case MS_AUTH_BASIC_AUTH_DISABLED: return "auth.basic_auth_disabled";
    case MS_AUTH_MECHANISM_UNAVAILABLE: return "auth.mechanism_unavailable";
    case MS_AUTH_LOCKED_OR_EXPIRED: return "auth.account_locked_or_expired";
    case MS_AUTH_LOGIN_DELAY: return "auth.login_delay";
    case MS_AUTH_IN_USE: return "auth.mailbox_in_use";
    case MS_AUTH_TEMPORARY: return "auth.temporary_failure";
    case MS_AUTH_NOT_ATTEMPTED_INSECURE: return "auth.not_attempted_insecure";
    case MS_AUTH_NOT_ATTEMPTED: return "auth.not_attempted";
    default: return NULL;
    }
}

const char *ms_auth_outcome_name(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_OK: return "ok";
    case MS_AUTH_NOT_CHOSEN: return "not_chosen";
    case MS_AUTH_UNFINISHED: return "unfinished";
    case MS_AUTH_NONE: return "none";
    default: break;
    }
    const char *code = ms_auth_outcome_code(o);
    return code ? code + 5 : "none";
}

enum ms_severity auth_severity(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_LOGIN_DELAY:
    case MS_AUTH_IN_USE:
    case MS_AUTH_TEMPORARY: return MS_SEVERITY_WARNING;
    case MS_AUTH_NOT_ATTEMPTED_INSECURE:
    case MS_AUTH_NOT_ATTEMPTED: return MS_SEVERITY_INFO;
    default: return MS_SEVERITY_CRITICAL;
    }
}

/* Findings about the account (its credentials, its rights, its state) rather than the
 * server: they do not change which server settings are best. */
bool is_account_code(const char *code)
{
    static const char *const codes[] = {
        "auth.failed",
        "auth.protocol_disabled",
        "auth.basic_auth_disabled",
        "auth.mechanism_unavailable",
        "auth.account_locked_or_expired",
        "auth.login_delay",
        "auth.mailbox_in_use",
        "auth.temporary_failure",
        "auth.not_attempted",
        "auth.not_attempted_insecure",
        "account.quota_nearly_full",
    };
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
        if (strcmp(code, codes[k]) == 0)
            return true;
    return false;
}

/* The outcome in a few words, for verdicts and the summary. */
const char *outcome_words(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_OK: return "signed in";
    case MS_AUTH_FAILED: return "the server rejected the credentials";
    case MS_AUTH_PROTOCOL_DISABLED: return "the account may not use this protocol";
    case MS_AUTH_BASIC_AUTH_DISABLED: return "password sign-in is turned off (OAuth2 only)";
    case MS_AUTH_MECHANISM_UNAVAILABLE: return "no sign-in mechanism fits the secret given";
    case MS_AUTH_LOCKED_OR_EXPIRED: return "the account is locked, disabled or expired";
    case MS_AUTH_LOGIN_DELAY: return "too soon after the last sign-in (LOGIN-DELAY)";
    case MS_AUTH_IN_USE: return "the mailbox is in use by another session";
    case MS_AUTH_TEMPORARY: return "the server failed temporarily";
    case MS_AUTH_NOT_ATTEMPTED_INSECURE: return "not tried: no verified TLS";
    case MS_AUTH_NOT_ATTEMPTED: return "not tried";
    case MS_AUTH_UNFINISHED: return "the session ended before the server answered";
    case MS_AUTH_NOT_CHOSEN: return "another endpoint signs in";
    default: return "no sign-in";
    }
}

/* The server's answer as it reads on the wire: the verdict word, then its text (IMAP's
 * text lacks the word, POP3's has it). */
void server_words(const struct ms_auth_facts *au, char *buf, size_t cap)
{
    const char *t = au->server_response;
    size_t sl = strlen(au->status);
    if (!t[0])
        put(buf, cap, "%s", au->status[0] ? au->status : "(no words)");
    else if (sl && strncasecmp(t, au->status, sl) != 0)
        put(buf, cap, "%s %s", au->status, t);
    else
        put(buf, cap, "%s", t);
}

size_t ms_assess_mechanisms(const struct ms_endpoint_result *ep, char (*names)[32], size_t max,
                            bool with_user_command)
{
    const struct ms_strlist *caps =
        ep->tls.established && ep->caps_after_tls_read ? &ep->caps_after_tls : &ep->caps_before_tls;
    size_t n = 0;
    if (ep->protocol == MS_PROTOCOL_IMAP) {
        for (size_t k = 0; k < caps->count && n < max; k++)
            if (strncasecmp(caps->items[k], "AUTH=", 5) == 0 && caps->items[k][5])
                snprintf(names[n++], 32, "%.31s", caps->items[k] + 5);
        return n;
    }
    const char *sasl = pop3_cap(caps, "SASL");
    for (const char *p = sasl ? sasl + 4 : NULL; p && *p && n < max;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len)
            snprintf(names[n++], 32, "%.*s", (int)(len > 31 ? 31 : len), p);
        p += len;
    }
    if (with_user_command && pop3_cap(caps, "USER") && n < max)
        snprintf(names[n++], 32, "USER");
    return n;
}

/* "PLAIN, LOGIN, XOAUTH2" of an endpoint's offered mechanisms; "" when none. */
static void mechanisms_line(const struct ms_endpoint_result *ep, char *buf, size_t cap)
{
    char names[32][32];
    size_t n = ms_assess_mechanisms(ep, names, 32, true);
    buf[0] = '\0';
    for (size_t k = 0; k < n; k++)
        app(buf, cap, "%s%s", k ? ", " : "", names[k]);
}

static bool offers_oauth(const struct ms_endpoint_result *ep)
{
    char names[32][32];
    size_t n = ms_assess_mechanisms(ep, names, 32, true);
    for (size_t k = 0; k < n; k++)
        if (is_token_mech(names[k]))
            return true;
    return false;
}

int judge_auth(struct ctx *c, long i)
{
    const struct ms_result *r = c->r;
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    const struct ms_auth_facts *au = &ep->auth;
    enum auth_hint hint;
    enum ms_auth_outcome o = auth_outcome(ep, &hint);
    const char *code = ms_auth_outcome_code(o);
    if (!code)
        return 0;
    struct ms_finding *f = add(c, auth_severity(o), code, i);
    if (!f)
        return MS_ENOMEM;
    char lab[320], words[400], mechs[200], oauth[260] = "";
    const char *who = r->user[0] ? r->user : "the user";
    const char *proto = proto_upper(ep->protocol);
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;
    bool token = is_token_mech(au->mechanism);
    char *m = f->message, *rm = f->remedy;
    size_t mc = sizeof f->message, rc = sizeof f->remedy;
    ep_label(c, ep, lab, sizeof lab);
    if (au->attempted && au->status[0])
        server_words(au, words, sizeof words);
    else if (au->attempted && ep->failure_message[0])
        put(words, sizeof words, "%s", ep->failure_message);
    else if (au->not_attempted_reason[0])
        put(words, sizeof words, "%s", au->not_attempted_reason);
    else
        put(words, sizeof words,
            "the session stopped before sign-in (%s%s%s); credentials are "
            "sent only over verified TLS",
            ms_assess_failure_code(ep->failure), ep->failure_message[0] ? ": " : "",
            ep->failure_message);
    mechanisms_line(ep, mechs, sizeof mechs);
    if (au->oauth_error[0])
        put(oauth, sizeof oauth, " The OAuth2 error was: %s.", au->oauth_error);

    switch (o) {
    case MS_AUTH_FAILED:
        if (hint == HINT_AUTHZ) {
            put(m, mc,
                "Signing in as %s on %s failed: the credentials were accepted, but the "
                "server will not let them open this mailbox (\"%s\").",
                who, lab, words);
            put(rm, rc,
                "Check the user name (some servers want the full e-mail address, others "
                "only the local part) and, for a shared or delegated mailbox, the "
                "rights of the signing-in account.");
        } else if (hint == HINT_PERM) {
            put(m, mc,
                "Signing in as %s on %s failed: the server reports a permanent problem "
                "with this account (\"%s\").",
                who, lab, words);
            put(rm, rc,
                "This is not necessarily a wrong password: ask the mail admin to check "
                "the account and the server's logs for %s.",
                who);
        } else if (token) {
            put(m, mc,
                "Signing in as %s on %s with an OAuth2 token (%s) failed: the server "
                "rejected the token (\"%s\").%s",
                who, lab, au->mechanism, words, oauth);
            put(rm, rc,
                "Get a fresh access token (they expire, often after an hour) with the "
                "mail scope (Google: https://mail.google.com/; Microsoft 365: "
                "https://outlook.office.com/%s), and check that the user name is the "
                "token's account.",
                imap ? "IMAP.AccessAsUser.All" : "POP.AccessAsUser.All");
        } else {
            put(m, mc,
                "Signing in as %s on %s failed: the server rejected the credentials "
                "(%s): \"%s\".%s",
                who, lab, au->mechanism[0] ? au->mechanism : "password", words, oauth);
            if (hint == HINT_WEB_LOGIN)
                put(rm, rc,
                    "The provider wants a sign-in in a web browser first (a security "
                    "check): sign in to webmail from this network, then try again. If "
                    "it persists, use an app password or OAuth2.");
            else if (hint == HINT_APP_PASSWORD)
                put(rm, rc,
                    "The account has multi-factor authentication on: create an app "
                    "password in the account's security settings and use it instead "
                    "of the normal password, or use OAuth2.");
            else
                put(rm, rc,
                    "Check the user name and password (try them in webmail). If they are "
                    "right, the account may need an app password (when multi-factor "
                    "authentication is on), or the provider turned password sign-in "
                    "off for mail programs%s.",
                    offers_oauth(ep) ? " (the server offers OAuth2: try --oauth2-token-file)" : "");
        }
        break;
    case MS_AUTH_PROTOCOL_DISABLED:
        if (hint == HINT_EXCHANGE && au->ok)
            put(m, mc,
                "The account %s may not use %s: %s accepted the password, then refused "
                "every command with \"User is authenticated but not connected.\" "
                "(Exchange and Microsoft 365 say this when %s is disabled for the "
                "mailbox).",
                who, proto, lab, proto);
        else
            put(m, mc, "The account %s may not use %s: signing in on %s was refused with \"%s\".",
                who, proto, lab, words);
        put(rm, rc,
            "Ask the mail admin to enable %s for this mailbox (Microsoft 365/Exchange: "
            "Set-CASMailbox -Identity %s -%sEnabled $true; Google: enable %s in Gmail's "
            "settings and the admin console; Dovecot: the user's nologin or per-protocol "
            "passdb), or use %s if it works.",
            proto, who, imap ? "Imap" : "Pop", imap ? "IMAP" : "POP", imap ? "POP3" : "IMAP");
        break;
    case MS_AUTH_BASIC_AUTH_DISABLED:
        if (au->attempted)
            put(m, mc,
                "Signing in as %s on %s was refused: password sign-in (basic "
                "authentication) is turned off (\"%s\").",
                who, lab, words);
        else
            put(m, mc,
                "%s offers only OAuth2 sign-in (%s): password sign-in (basic "
                "authentication) is turned off, so mailscope did not send the password.",
                lab, mechs[0] ? mechs : "no password mechanism");
        put(rm, rc,
            "Use OAuth2 (modern authentication): a mail program that supports it, and "
            "mailscope --oauth2-token-file with a token for %s; or ask the admin to "
            "allow basic authentication for %s.",
            who, proto);
        break;
    case MS_AUTH_MECHANISM_UNAVAILABLE:
        if (hint == HINT_PRIVACY) {
            put(m, mc,
                "Signing in as %s on %s was refused: the server takes passwords only over "
                "TLS (\"%s\"); the password was not judged.",
                who, lab, words);
            put(rm, rc,
                "Sign in over TLS: use port %u (implicit TLS) or STARTTLS, never "
                "plaintext.",
                implicit_port(c, ep->protocol));
            break;
        }
        if (au->attempted)
            put(m, mc,
                "Signing in as %s on %s failed: the server does not take the mechanism "
                "%s (\"%s\"); it offers %s.",
                who, lab, au->mechanism, words, mechs[0] ? mechs : "no mechanism");
        else
            put(m, mc, "mailscope could not sign in as %s on %s: %s (offered: %s).", who, lab,
                words, mechs[0] ? mechs : "none");
        if (au->skip == MS_AUTH_SKIP_NO_OAUTH2_MECH)
            put(rm, rc,
                "This server does not take OAuth2 tokens for %s: sign in with the "
                "password (MAILSCOPE_PASSWORD or --password-file) instead, or ask the "
                "provider which host takes OAuth2.",
                proto);
        else if (au->attempted)
            put(rm, rc,
                "Choose a mechanism the server offers (--auth-mech), or leave the choice "
                "to mailscope.");
        else
            put(rm, rc,
                "Ask the admin to offer password sign-in over TLS with PLAIN or LOGIN "
                "(Dovecot: auth_mechanisms = plain login), or sign in with an OAuth2 "
                "token if the server takes one.");
        break;
    case MS_AUTH_LOCKED_OR_EXPIRED:
        put(m, mc,
            "Signing in as %s on %s was refused: the account is locked, disabled or its "
            "password has expired (\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Ask the mail admin or helpdesk to unlock the account or reset the password; "
            "sign in to webmail to see whether it asks for a new password.");
        break;
    case MS_AUTH_LOGIN_DELAY:
        put(m, mc,
            "Signing in as %s on %s was refused because the last sign-in was too recent "
            "(\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Wait a few minutes and try again; set mail programs to check for mail no "
            "more often than the server's LOGIN-DELAY allows.");
        break;
    case MS_AUTH_IN_USE:
        put(m, mc,
            "Signing in as %s on %s was refused because the mailbox is in use by another "
            "session (\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Another program (a phone, another computer) has the mailbox open%s: close "
            "it or wait until it is done, then try again.",
            imap ? "" : " over POP3, which allows one session at a time");
        break;
    case MS_AUTH_TEMPORARY:
        put(m, mc,
            "Signing in as %s on %s failed because of a temporary problem on the "
            "server's side (\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Try again in a few minutes. If it persists, the admin should check the "
            "server's logs (authentication backend, storage, connection limits).");
        break;
    case MS_AUTH_NOT_ATTEMPTED_INSECURE:
        put(m, mc, "mailscope did not sign in as %s on %s: %s.", who, lab, words);
        put(rm, rc,
            "Fix the endpoint's TLS (see the other findings) or use an endpoint with "
            "verified TLS; --allow-insecure-auth sends the credentials anyway, on a "
            "network you trust only.");
        break;
    default:
        put(m, mc, "mailscope did not sign in as %s on %s: %s.", who, lab,
            words[0] ? words : "no reason given");
        put(rm, rc,
            "Check the user name and the secret; --auth-mech PLAIN (or LOGIN, XOAUTH2, "
            "OAUTHBEARER) picks the mechanism; --trace shows the exchange without the "
            "secret.");
        break;
    }
    return 0;
}

/* The account's quota after sign-in: nearly full is a warning (new mail will bounce). */
int judge_quota(struct ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_account_facts *a = &ep->account;
    if (!a->read || !a->quota_read || a->quota_storage_limit_kb <= 0 ||
        a->quota_storage_used_kb < 0)
        return 0;
    long long pct = a->quota_storage_used_kb * 100 / a->quota_storage_limit_kb;
    if (pct < 90)
        return 0;
    struct ms_finding *f = add(c, MS_SEVERITY_WARNING, "account.quota_nearly_full", i);
    if (!f)
        return MS_ENOMEM;
    char used[32], limit[32];
    fmt_kb(a->quota_storage_used_kb, used, sizeof used);
    fmt_kb(a->quota_storage_limit_kb, limit, sizeof limit);
    put(f->message, sizeof f->message,
        "The mailbox of %s is %s: %s of %s used (%lld%%, quota root \"%s\"); new mail will be "
        "refused when it is full.",
        c->r->user[0] ? c->r->user : "the user", pct >= 100 ? "full" : "nearly full", used, limit,
        pct, a->quota_root);
    put(f->remedy, sizeof f->remedy,
        "Delete or archive old mail (empty Trash and Junk too), or ask the mail admin for a "
        "larger quota.");
    return 0;
}

/* The sign-in that speaks for protocol p: the endpoint that sent credentials (one that
 * signed in first), else the one whose reason for not sending them is a finding (the chosen
 * one first), else none. Returns its outcome; *idx is the endpoint or -1. */
enum ms_auth_outcome protocol_auth(const struct ms_result *r, enum ms_protocol p, long *idx,
                                   enum auth_hint *hint)
{
    long best = -1;
    int best_rank = 0;
    enum ms_auth_outcome out = MS_AUTH_NONE;
    *hint = HINT_NONE;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        enum auth_hint h;
        if (ep->protocol != p)
            continue;
        enum ms_auth_outcome o = auth_outcome(ep, &h);
        int rank = o == MS_AUTH_OK                       ? 6
                   : ep->auth.attempted                  ? 5
                   : !ms_auth_outcome_code(o)            ? 0
                   : ep->auth.chosen                     ? 4
                   : o == MS_AUTH_NOT_ATTEMPTED_INSECURE ? 2
                                                         : 3;
        bool better_tie = rank == best_rank && rank > 0 && best >= 0 &&
                          ep->security == MS_SECURITY_IMPLICIT &&
                          r->endpoints[best].security != MS_SECURITY_IMPLICIT;
        if (rank > best_rank || better_tie) {
            best = (long)i;
            best_rank = rank;
            out = o;
            *hint = h;
        }
    }
    *idx = best;
    return out;
}
