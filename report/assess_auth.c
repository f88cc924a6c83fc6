/* Sign-in: what a sign-in (or its absence) on one endpoint means, read from the server's
 * own words by one ordered table (auth_rules), and the findings about the account. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
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
    enum ms_auth_hint hint;
};

/* How a refused sign-in is read: the first rule that matches wins. The order matters:
 * "not now" answers before anything about the account (an [IN-USE] mailbox is not a wrong
 * password), the protocol before the account ("IMAP access is disabled for this account"),
 * the account before the generic credential codes ([AUTH] and AUTHENTICATIONFAILED also
 * come with Dovecot's nologin reasons and Gmail's "not enabled for POP access"). */
static const struct auth_rule auth_rules[] = {
    /* 1. not now: the same sign-in may work later */
    {"IN-USE", RULE_CODE, MS_AUTH_IN_USE, MS_HINT_NONE},           /* POP3 RFC 2449 */
    {"INUSE", RULE_CODE, MS_AUTH_IN_USE, MS_HINT_NONE},            /* IMAP RFC 5530 */
    {"LOGIN-DELAY", RULE_CODE, MS_AUTH_LOGIN_DELAY, MS_HINT_NONE}, /* POP3 RFC 2449 */
    {"SYS/TEMP", RULE_CODE, MS_AUTH_TEMPORARY, MS_HINT_NONE},      /* POP3 RFC 3206 */
    {"UNAVAILABLE", RULE_CODE, MS_AUTH_TEMPORARY, MS_HINT_NONE},   /* IMAP RFC 5530 */
    {"SERVERBUG", RULE_CODE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    {"LIMIT", RULE_CODE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    {"lock maildrop", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE}, /* POP3 servers without codes */
    {"maildrop locked", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"maildrop is locked", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"maildrop already locked", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"mailbox locked", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"mailbox is locked", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"mailbox in use", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"mailbox is in use", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"already in use", RULE_PHRASE, MS_AUTH_IN_USE, MS_HINT_NONE},
    {"temporarily", RULE_PHRASE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    {"temporary", RULE_PHRASE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    {"try again later", RULE_PHRASE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    {"try later", RULE_PHRASE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    {"too many connections", RULE_PHRASE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    {"maximum number of connections", RULE_PHRASE, MS_AUTH_TEMPORARY, MS_HINT_NONE},
    /* 2. password sign-in or the mechanism is off (here: no cleartext password without TLS
     * is not a wrong password) */
    {"PRIVACYREQUIRED", RULE_CODE, MS_AUTH_MECHANISM_UNAVAILABLE, MS_HINT_PRIVACY},
    {"plaintext authentication disallowed", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE,
     MS_HINT_PRIVACY},
    {"cleartext authentication disallowed", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE,
     MS_HINT_PRIVACY},
    {"basic authentication", RULE_PHRASE, MS_AUTH_BASIC_AUTH_DISABLED, MS_HINT_NONE},
    /* Microsoft 365: "user is locked by your organization's security defaults policy" is
     * password sign-in turned off, not a locked account */
    {"security defaults", RULE_PHRASE, MS_AUTH_BASIC_AUTH_DISABLED, MS_HINT_NONE},
    {"basic auth", RULE_PHRASE, MS_AUTH_BASIC_AUTH_DISABLED, MS_HINT_NONE},
    {"unsupported authentication mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE,
     MS_HINT_NONE},
    {"unknown authentication mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, MS_HINT_NONE},
    {"unsupported mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, MS_HINT_NONE},
    {"mechanism not supported", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, MS_HINT_NONE},
    {"mechanism is not supported", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, MS_HINT_NONE},
    /* 3. this account may not use this protocol */
    {"user is authenticated but not connected", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED,
     MS_HINT_EXCHANGE}, /* Exchange / Microsoft 365 */
    /* Microsoft 365 SMTP: "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication
     * is disabled for the Tenant." (or "... for the Mailbox.") */
    {"SmtpClientAuthentication is disabled for the Tenant", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED,
     MS_HINT_SMTP_TENANT},
    {"SmtpClientAuthentication is disabled for the Mailbox", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED,
     MS_HINT_SMTP_MAILBOX},
    {"SmtpClientAuthentication is disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"not enabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE}, /* Gmail, Zimbra */
    {"not allowed to use", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"access is disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED,
     MS_HINT_NONE}, /* nologin reasons */
    {"access disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"access is not allowed", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"access not allowed", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"disabled", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"not allowed", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"not permitted", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    {"denied", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    /* 4. the account itself */
    {"EXPIRED", RULE_CODE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},      /* IMAP RFC 5530 */
    {"CONTACTADMIN", RULE_CODE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE}, /* IMAP RFC 5530 */
    {"account disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"account is disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"account has been disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"user disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"user is disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"locked", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"expired", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"suspended", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    {"deactivated", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, MS_HINT_NONE},
    /* 5. "disabled" naming neither the account nor a protocol: most often the protocol */
    {"disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, MS_HINT_NONE},
    /* 6. the credentials */
    {"AUTHORIZATIONFAILED", RULE_CODE, MS_AUTH_FAILED, MS_HINT_AUTHZ},
    {"SYS/PERM", RULE_CODE, MS_AUTH_FAILED, MS_HINT_PERM},
    {"WEBALERT", RULE_CODE, MS_AUTH_FAILED, MS_HINT_WEB_LOGIN},
    {"web browser", RULE_PHRASE, MS_AUTH_FAILED, MS_HINT_WEB_LOGIN},
    {"application-specific password", RULE_PHRASE, MS_AUTH_FAILED, MS_HINT_APP_PASSWORD},
    {"app password", RULE_PHRASE, MS_AUTH_FAILED, MS_HINT_APP_PASSWORD},
    {"AUTHENTICATIONFAILED", RULE_CODE, MS_AUTH_FAILED, MS_HINT_NONE},
    {"AUTH", RULE_CODE, MS_AUTH_FAILED, MS_HINT_NONE},
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
    return ms_assess_has_phrase(text, "imap") || ms_assess_has_phrase(text, "imap4") ||
           ms_assess_has_phrase(text, "pop") || ms_assess_has_phrase(text, "pop3") ||
           ms_assess_has_phrase(text, "smtp");
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
                                            enum ms_auth_hint *hint)
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
                       : ms_assess_has_phrase(text, r->match) && (r->kind == RULE_PHRASE || proto);
        if (hit) {
            *hint = r->hint;
            return r->outcome;
        }
    }
    *hint = MS_HINT_NONE;
    return MS_AUTH_FAILED;
}

enum ms_auth_outcome ms_assess_auth_answer(const char *code, const char *text)
{
    enum ms_auth_hint hint;
    return classify_answer(code, text, &hint);
}

/* An SMTP AUTH answer (RFC 4954 6, RFC 3463): the reply code and enhanced status code say
 * what they say without words, except where providers reuse them (Gmail's 534 5.7.9 asks for
 * an app password, its 534 5.7.14 for a browser sign-in; Microsoft 365 puts everything under
 * 535 5.7.139): there the words decide. */
static enum ms_auth_outcome classify_smtp(const char *status, const char *enhanced,
                                          const char *text, enum ms_auth_hint *hint)
{
    int reply = atoi(status);
    *hint = MS_HINT_NONE;
    if (reply >= 400 && reply < 500) /* 454 4.7.0 and every transient reply: not now */
        return MS_AUTH_TEMPORARY;
    if (reply == 538 || strcmp(enhanced, "5.7.11") == 0 ||
        (reply == 530 && ms_assess_has_phrase(text, "STARTTLS"))) {
        *hint = MS_HINT_PRIVACY; /* encryption required for the mechanism / TLS first */
        return MS_AUTH_MECHANISM_UNAVAILABLE;
    }
    if (reply == 504 || strcmp(enhanced, "5.5.4") == 0)
        return MS_AUTH_MECHANISM_UNAVAILABLE; /* unrecognised authentication type */
    enum ms_auth_outcome o = classify_answer("", text, hint);
    if (o != MS_AUTH_FAILED || *hint != MS_HINT_NONE)
        return o;
    if (reply == 534 || strcmp(enhanced, "5.7.9") == 0)
        return MS_AUTH_MECHANISM_UNAVAILABLE; /* mechanism too weak */
    return MS_AUTH_FAILED;                    /* 535 5.7.8 and the rest: the credentials */
}

/* What kind of secret a SASL mechanism (or the POP3 USER / IMAP LOGIN command) takes: the
 * first row whose name equals the mechanism, or is a prefix of it when it ends with '-',
 * decides; no row: other. */
static const struct {
    const char *name;
    enum ms_mech_kind kind;
} mech_kinds[] = {
    {"PLAIN", MS_MECH_PASSWORD},
    {"LOGIN", MS_MECH_PASSWORD},
    {"USER", MS_MECH_PASSWORD},       /* POP3 USER/PASS (a command, RFC 1939) */
    {"IMAP LOGIN", MS_MECH_PASSWORD}, /* the IMAP LOGIN command, as the auth facts name it */
    {"CRAM-", MS_MECH_PASSWORD},      /* CRAM-MD5 (RFC 2195), Courier's CRAM-SHA1/-SHA256 */
    {"DIGEST-MD5", MS_MECH_PASSWORD},
    {"SCRAM-", MS_MECH_PASSWORD}, /* SCRAM-SHA-1, SCRAM-SHA-256, ... and their -PLUS */
    {"XOAUTH2", MS_MECH_OAUTH2},
    {"OAUTHBEARER", MS_MECH_OAUTH2},
    {"GSSAPI", MS_MECH_KERBEROS},
    {"GS2-KRB5", MS_MECH_KERBEROS},
    {"GS2-KRB5-PLUS", MS_MECH_KERBEROS},
    {"KERBEROS_V4", MS_MECH_KERBEROS},
    {"KERBEROS_V5", MS_MECH_KERBEROS},
    {"EXTERNAL", MS_MECH_CERTIFICATE},
    {"ANONYMOUS", MS_MECH_ANONYMOUS},
    /* other: NTLM, SAML20, OPENID20, SECURID, OTP, XOAUTH (OAuth 1.0), and anything unknown */
};

enum ms_mech_kind ms_assess_mechanism_kind(const char *mech)
{
    for (size_t k = 0; mech && k < sizeof mech_kinds / sizeof mech_kinds[0]; k++) {
        const char *n = mech_kinds[k].name;
        size_t len = strlen(n);
        if (n[len - 1] == '-' ? strncasecmp(mech, n, len) == 0 && mech[len]
                              : strcasecmp(mech, n) == 0)
            return mech_kinds[k].kind;
    }
    return MS_MECH_OTHER;
}

const char *ms_mech_kind_name(enum ms_mech_kind k)
{
    static const char *const names[MS_MECH_KIND_COUNT] = {
        [MS_MECH_PASSWORD] = "password",   [MS_MECH_OAUTH2] = "OAuth2",
        [MS_MECH_KERBEROS] = "Kerberos",   [MS_MECH_CERTIFICATE] = "certificate",
        [MS_MECH_ANONYMOUS] = "anonymous", [MS_MECH_OTHER] = "other",
    };
    return (unsigned)k < MS_MECH_KIND_COUNT ? names[k] : "other";
}

/* The session ended before sign-in because TLS could not be set up (no STARTTLS, STARTTLS
 * refused, a failed handshake). */
bool ms_assess_stopped_for_tls(const struct ms_endpoint_result *ep)
{
    return ep->failure == MS_FAILURE_STARTTLS_NOT_OFFERED ||
           ep->failure == MS_FAILURE_STARTTLS_REFUSED || ep->failure == MS_FAILURE_TLS_HANDSHAKE ||
           ep->failure == MS_FAILURE_TLS_TIMEOUT;
}

static enum ms_auth_outcome auth_outcome(const struct ms_endpoint_result *ep,
                                         enum ms_auth_hint *hint)
{
    const struct ms_auth_facts *au = &ep->auth;
    *hint = MS_HINT_NONE;
    if (!au->wanted)
        return MS_AUTH_NONE;
    if (au->attempted && au->ok) {
        /* Exchange accepts the password of a mailbox whose protocol is off, then answers
         * every command with these words. */
        if ((ep->failure != MS_FAILURE_NONE &&
             ms_assess_has_phrase(ep->failure_message,
                                  "user is authenticated but not connected")) ||
            ms_assess_has_phrase(au->refused_after_login,
                                 "user is authenticated but not connected")) {
            *hint = MS_HINT_EXCHANGE;
            return MS_AUTH_PROTOCOL_DISABLED;
        }
        return MS_AUTH_OK;
    }
    if (au->attempted) {
        if (au->status[0] && ep->protocol == MS_PROTOCOL_SUBMISSION)
            return classify_smtp(au->status, au->code, au->server_response, hint);
        if (au->status[0])
            return classify_answer(au->code, au->server_response, hint);
        /* BYE instead of a verdict: its words are the verdict. */
        if (ep->failure == MS_FAILURE_PROTO_BYE && ep->failure_phase == MS_PHASE_AUTH)
            return classify_answer("", ep->failure_message, hint);
        return MS_AUTH_UNFINISHED;
    }
    if (!au->not_attempted_reason[0]) {
        /* The session stopped because TLS could not be had: that is why nothing was sent. */
        if (ms_assess_stopped_for_tls(ep))
            return MS_AUTH_NOT_ATTEMPTED_INSECURE;
        return au->chosen || ep->failure != MS_FAILURE_NONE ? MS_AUTH_NONE : MS_AUTH_NOT_CHOSEN;
    }
    return skip_outcome(ep);
}

enum ms_auth_outcome ms_assess_auth(const struct ms_endpoint_result *ep)
{
    enum ms_auth_hint hint;
    return auth_outcome(ep, &hint);
}

/* The finding an outcome raises, -1 for NONE, OK, NOT_CHOSEN and UNFINISHED. */
static int outcome_id(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_FAILED: return MS_F_AUTH_FAILED;
    case MS_AUTH_PROTOCOL_DISABLED: return MS_F_AUTH_PROTOCOL_DISABLED;
    case MS_AUTH_BASIC_AUTH_DISABLED: return MS_F_AUTH_BASIC_AUTH_DISABLED;
    case MS_AUTH_MECHANISM_UNAVAILABLE: return MS_F_AUTH_MECHANISM_UNAVAILABLE;
    case MS_AUTH_LOCKED_OR_EXPIRED: return MS_F_AUTH_ACCOUNT_LOCKED_OR_EXPIRED;
    case MS_AUTH_LOGIN_DELAY: return MS_F_AUTH_LOGIN_DELAY;
    case MS_AUTH_IN_USE: return MS_F_AUTH_MAILBOX_IN_USE;
    case MS_AUTH_TEMPORARY: return MS_F_AUTH_TEMPORARY_FAILURE;
    case MS_AUTH_NOT_ATTEMPTED_INSECURE: return MS_F_AUTH_NOT_ATTEMPTED_INSECURE;
    case MS_AUTH_NOT_ATTEMPTED: return MS_F_AUTH_NOT_ATTEMPTED;
    default: return -1;
    }
}

const char *ms_auth_outcome_code(enum ms_auth_outcome o)
{
    int id = outcome_id(o);
    return id < 0 ? NULL : ms_catalogue[id].code;
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

enum ms_severity ms_assess_auth_severity(enum ms_auth_outcome o)
{
    int id = outcome_id(o);
    return id < 0 ? MS_SEVERITY_CRITICAL : ms_catalogue[id].severity;
}

/* The outcome in a few words, for verdicts and the summary. */
const char *ms_assess_outcome_words(enum ms_auth_outcome o)
{
    int id = outcome_id(o);
    if (id >= 0)
        return ms_catalogue[id].outcome;
    switch (o) {
    case MS_AUTH_OK: return "signed in";
    case MS_AUTH_UNFINISHED: return "the session ended before the server answered";
    case MS_AUTH_NOT_CHOSEN: return "another endpoint signs in";
    default: return "no sign-in";
    }
}

/* An RFC 3463 enhanced status code ("5.7.8", "4.7.0"): SMTP's, kept beside the reply code. */
static bool is_enhanced_code(const char *code)
{
    return code[0] >= '2' && code[0] <= '5' && code[1] == '.';
}

void ms_assess_server_words(const struct ms_auth_facts *au, char *buf, size_t cap)
{
    const char *t = au->server_response;
    size_t sl = strlen(au->status);
    /* SMTP's enhanced status code says what the words may not ("535 5.7.8 ..."): keep it */
    char status[32];
    if (au->status[0] && is_enhanced_code(au->code) &&
        strncasecmp(t, au->code, strlen(au->code)) != 0)
        ms_assess_put(status, sizeof status, "%s %s", au->status, au->code);
    else
        ms_assess_put(status, sizeof status, "%s", au->status);
    if (!t[0])
        ms_assess_put(buf, cap, "%s", status[0] ? status : "(no words)");
    else if (sl && strncasecmp(t, au->status, sl) != 0)
        ms_assess_put(buf, cap, "%s %s", status, t);
    else
        ms_assess_put(buf, cap, "%s", t);
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
    if (ep->protocol == MS_PROTOCOL_SUBMISSION) {
        return ms_caps_smtp_mechs(caps, names, max);
    }
    const char *sasl = ms_assess_pop3_cap(caps, "SASL");
    for (const char *p = sasl ? sasl + 4 : NULL; p && *p && n < max;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len)
            snprintf(names[n++], 32, "%.*s", (int)(len > 31 ? 31 : len), p);
        p += len;
    }
    if (with_user_command && ms_assess_pop3_cap(caps, "USER") && n < max)
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
        ms_assess_app(buf, cap, "%s%s", k ? ", " : "", names[k]);
}

static bool offers_oauth(const struct ms_endpoint_result *ep)
{
    char names[32][32];
    size_t n = ms_assess_mechanisms(ep, names, 32, true);
    for (size_t k = 0; k < n; k++)
        if (ms_assess_mechanism_kind(names[k]) == MS_MECH_OAUTH2)
            return true;
    return false;
}

/* Which message and remedy an outcome gets, from how it was decided. */
static void auth_templates(const struct ms_endpoint_result *ep, enum ms_auth_outcome o,
                           enum ms_auth_hint hint, int *message, int *remedy)
{
    const struct ms_auth_facts *au = &ep->auth;
    *message = *remedy = MS_T_DEFAULT;
    switch (o) {
    case MS_AUTH_FAILED:
        if (hint == MS_HINT_AUTHZ)
            *message = *remedy = MS_T_FAILED_AUTHZ;
        else if (hint == MS_HINT_PERM)
            *message = *remedy = MS_T_FAILED_PERM;
        else if (ms_assess_mechanism_kind(au->mechanism) == MS_MECH_OAUTH2)
            *message = *remedy = MS_T_FAILED_TOKEN;
        else if (hint == MS_HINT_WEB_LOGIN)
            *remedy = MS_T_FAILED_FIX_WEB_LOGIN;
        else if (hint == MS_HINT_APP_PASSWORD)
            *remedy = MS_T_FAILED_FIX_APP_PASSWORD;
        break;
    case MS_AUTH_PROTOCOL_DISABLED:
        if (hint == MS_HINT_EXCHANGE && au->ok)
            *message = MS_T_DISABLED_EXCHANGE;
        else if (hint == MS_HINT_SMTP_TENANT)
            *message = *remedy = MS_T_DISABLED_SMTP_TENANT;
        else if (hint == MS_HINT_SMTP_MAILBOX)
            *message = *remedy = MS_T_DISABLED_SMTP_MAILBOX;
        else if (ep->protocol == MS_PROTOCOL_SUBMISSION)
            *remedy = MS_T_DISABLED_FIX_SMTP;
        break;
    case MS_AUTH_BASIC_AUTH_DISABLED:
        if (!au->attempted)
            *message = MS_T_AUTH_NOT_SENT;
        break;
    case MS_AUTH_MECHANISM_UNAVAILABLE:
        if (hint == MS_HINT_PRIVACY) {
            *message = MS_T_MECH_PRIVACY;
            *remedy = MS_T_MECH_FIX_PRIVACY;
            break;
        }
        if (!au->attempted)
            *message = MS_T_AUTH_NOT_SENT;
        *remedy = au->skip == MS_AUTH_SKIP_NO_OAUTH2_MECH ? MS_T_MECH_FIX_OAUTH2
                  : au->attempted                         ? MS_T_MECH_FIX_FORCED
                                                          : MS_T_DEFAULT;
        break;
    default: break;
    }
}

int ms_assess_judge_auth(struct ms_assess_ctx *c, long i)
{
    const struct ms_result *r = c->r;
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    const struct ms_auth_facts *au = &ep->auth;
    enum ms_auth_hint hint;
    enum ms_auth_outcome o = auth_outcome(ep, &hint);
    int id = outcome_id(o);
    if (id < 0)
        return 0;
    struct ms_assess_vars vs;
    char words[400], mechs[200];
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;
    ms_assess_endpoint_vars(c, ep, &vs);
    if (au->attempted && au->status[0]) {
        ms_assess_server_words(au, words, sizeof words);
    } else if (au->attempted && ep->failure_message[0]) {
        ms_assess_put(words, sizeof words, "%s", ep->failure_message);
    } else if (au->not_attempted_reason[0]) {
        ms_assess_put(words, sizeof words, "%s", au->not_attempted_reason);
    } else {
        struct ms_var stop[] = {{"code", ms_assess_failure_code(ep->failure)},
                                {"evidence", ep->failure_message}};
        ms_catalogue_expand(words, sizeof words, ms_phrase_templates[MS_PH_STOPPED_BEFORE_SIGN_IN],
                            stop, 2);
    }
    mechanisms_line(ep, mechs, sizeof mechs);
    ms_assess_var(&vs, "user", r->user[0] ? r->user : "the user");
    ms_assess_var(&vs, "words", words[0] || o != MS_AUTH_NOT_ATTEMPTED ? words : "no reason given");
    ms_assess_var(&vs, "mechanism",
                  au->mechanism[0] || o != MS_AUTH_FAILED ? au->mechanism : "password");
    ms_assess_var(&vs, "mechanisms",
                  mechs[0]                                              ? mechs
                  : o == MS_AUTH_BASIC_AUTH_DISABLED                    ? "no password mechanism"
                  : o == MS_AUTH_MECHANISM_UNAVAILABLE && au->attempted ? "no mechanism"
                                                                        : "none");
    ms_assess_var(&vs, "oauth_error", au->oauth_error);
    ms_assess_var(&vs, "offers_oauth2", offers_oauth(ep) ? "yes" : "");
    ms_assess_var(&vs, "imap", imap ? "yes" : "");
    ms_assess_var(&vs, "other_proto",
                  imap                               ? "POP3"
                  : ep->protocol == MS_PROTOCOL_POP3 ? "IMAP"
                                                     : "another way to send");
    int message, remedy;
    auth_templates(ep, o, hint, &message, &remedy);
    return ms_assess_emit(c, id, MS_SEV_DEFAULT, i, MS_MSG(id, message), MS_REM(id, remedy), &vs);
}

/* The account's quota after sign-in: nearly full is a warning (new mail will bounce). */
int ms_assess_judge_quota(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_account_facts *a = &ep->account;
    if (!a->read || !a->quota_read || a->quota_storage_limit_kb <= 0 ||
        a->quota_storage_used_kb < 0)
        return 0;
    long long pct = a->quota_storage_used_kb * 100 / a->quota_storage_limit_kb;
    if (pct < 90)
        return 0;
    struct ms_assess_vars vs;
    char used[32], limit[32], percent[24];
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_fmt_kb(a->quota_storage_used_kb, used, sizeof used);
    ms_assess_fmt_kb(a->quota_storage_limit_kb, limit, sizeof limit);
    snprintf(percent, sizeof percent, "%lld", pct);
    ms_assess_var(&vs, "user", c->r->user[0] ? c->r->user : "the user");
    ms_assess_var(&vs, "full", pct >= 100 ? "yes" : "");
    ms_assess_var(&vs, "used", used);
    ms_assess_var(&vs, "limit", limit);
    ms_assess_var(&vs, "percent", percent);
    ms_assess_var(&vs, "root", a->quota_root);
    return ms_assess_emit(c, MS_F_ACCOUNT_QUOTA_NEARLY_FULL, MS_SEV_DEFAULT, i,
                          MS_MSG(MS_F_ACCOUNT_QUOTA_NEARLY_FULL, MS_T_DEFAULT),
                          MS_REM(MS_F_ACCOUNT_QUOTA_NEARLY_FULL, MS_T_DEFAULT), &vs);
}

/* The sign-in that speaks for protocol p: the endpoint that sent credentials (one that
 * signed in first), else the one whose reason for not sending them is a finding (the chosen
 * one first), else none. Returns its outcome; *idx is the endpoint or -1. */
enum ms_auth_outcome ms_assess_protocol_auth(const struct ms_result *r, enum ms_protocol p,
                                             long *idx, enum ms_auth_hint *hint)
{
    long best = -1;
    int best_rank = 0;
    enum ms_auth_outcome out = MS_AUTH_NONE;
    *hint = MS_HINT_NONE;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        enum ms_auth_hint h;
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
