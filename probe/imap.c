/* The IMAP4 session: greeting -> [CAPABILITY] -> STARTTLS -> TLS -> CAPABILITY ->
 * [sign in -> CAPABILITY -> NAMESPACE, LIST, STATUS, GETQUOTAROOT (pipelined)] -> LOGOUT.
 * Read-only: never SELECT, STORE or EXPUNGE. One handler per state; the pure parser
 * (imap_parse.c) does all the byte work. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
#include "probe/imap_account.h"
#include "probe/imap_parse.h"
#include "probe/sasl.h"
#include "probe/session.h"
#include "probe/text.h"

#define MAX_CHALLENGES 4 /* no mechanism we use needs more: the rest is a server stalling */

enum imap_state {
    IMAP_GREETING,
    IMAP_CAPABILITY,       /* CAPABILITY sent (before or after TLS) */
    IMAP_STARTTLS,         /* STARTTLS sent */
    IMAP_AUTH_WAIT,        /* waiting to learn whether this endpoint signs in */
    IMAP_AUTHENTICATE,     /* AUTHENTICATE or LOGIN sent */
    IMAP_LOGIN_CAPABILITY, /* CAPABILITY after sign-in */
    IMAP_ACCOUNT,          /* account queries in flight */
    IMAP_INJECTION_WAIT,   /* injection probe: does the pipelined NOOP get an answer in TLS? */
    IMAP_DONE,
};

static const char *const imap_state_names[] = {
    [IMAP_GREETING] = "greeting",
    [IMAP_CAPABILITY] = "capability",
    [IMAP_STARTTLS] = "starttls",
    [IMAP_AUTH_WAIT] = "auth-wait",
    [IMAP_AUTHENTICATE] = "authenticate",
    [IMAP_LOGIN_CAPABILITY] = "login-capability",
    [IMAP_ACCOUNT] = "account",
    [IMAP_INJECTION_WAIT] = "injection-wait",
    [IMAP_DONE] = "done",
};

static void start_sign_in(struct ms_session *s);

static size_t imap_max_response(void)
{
    return MS_IMAP_MAX_RESPONSE + 1024;
}

static bool tls_up(const struct ms_session *s)
{
    return s->line.ssl != NULL;
}

static struct ms_strlist *current_caps(struct ms_session *s)
{
    if (s->res->auth.ok)
        return &s->res->caps_after_login;
    return tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
}

static void mark_caps_read(struct ms_session *s)
{
    if (s->res->auth.ok)
        s->res->caps_after_login_read = true;
    else if (tls_up(s))
        s->res->caps_after_tls_read = true;
    else
        s->res->caps_before_tls_read = true;
}

static void send_tagged(struct ms_session *s, const char *command, enum imap_state next,
                        enum ms_phase phase)
{
    char line[128];
    snprintf(s->tag, sizeof s->tag, "M%u", ++s->next_tag);
    snprintf(line, sizeof line, "%s %s", s->tag, command);
    ms_session_set_state(s, next, phase);
    ms_session_send(s, line);
}

static void logout(struct ms_session *s)
{
    ms_session_set_state(s, IMAP_DONE, MS_PHASE_LOGOUT);
    char line[64];
    snprintf(s->tag, sizeof s->tag, "M%u", ++s->next_tag);
    snprintf(line, sizeof line, "%s LOGOUT", s->tag);
    ms_session_send(s, line);
    ms_session_finish(s);
}

/* Capabilities are known (from the greeting or CAPABILITY): take the next step. */
static void caps_known(struct ms_session *s)
{
    mark_caps_read(s);
    if (tls_up(s)) {
        /* Secure means a mail program could use it: TLS up and the certificate verified. */
        s->res->completed_securely = s->res->tls.verified;
        start_sign_in(s);
        return;
    }
    bool listed = ms_strlist_has(&s->res->caps_before_tls, "STARTTLS");
    if (s->starttls_pipelined && (listed || ms_session_plaintext_sign_in(s))) {
        /* STARTTLS went out with CAPABILITY: its answer is next. */
        snprintf(s->tag, sizeof s->tag, "%s", s->starttls_tag);
        ms_session_set_state(s, IMAP_STARTTLS, MS_PHASE_STARTTLS);
        return;
    }
    s->starttls_pipelined = false; /* not offered: no need to wait for its refusal */
    if (!listed && s->spec->injection_probe) {
        snprintf(s->res->injection.note, sizeof s->res->injection.note, "STARTTLS is not offered");
        logout(s);
        return;
    }
    if (!listed) {
        if (ms_session_plaintext_sign_in(s)) {
            /* The user accepted a plaintext sign-in: say what is wrong and go on. */
            ms_session_note_failure(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                                    "the server does not offer STARTTLS before sign-in");
            start_sign_in(s);
            return;
        }
        ms_session_fail(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                        "the server does not offer STARTTLS before sign-in");
        return;
    }
    if (s->spec->injection_probe) {
        /* STARTTLS and a harmless command in one segment: a server that keeps the second
         * in its buffer across the switch answers it inside TLS (CVE-2011-0411 class). */
        unsigned char rnd[4] = {0};
        RAND_bytes(rnd, sizeof rnd);
        snprintf(s->pending[0], sizeof s->pending[0], "I%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
                 rnd[3]);
        send_tagged(s, "STARTTLS", IMAP_STARTTLS, MS_PHASE_STARTTLS);
        char line[64];
        snprintf(line, sizeof line, "%s NOOP", s->pending[0]);
        ms_session_send(s, line);
        return;
    }
    send_tagged(s, "STARTTLS", IMAP_STARTTLS, MS_PHASE_STARTTLS);
}

static void response_text(const struct ms_imap_response *r, char *buf, size_t cap)
{
    char code[96] = "";
    if (r->code)
        snprintf(code, sizeof code, "[%s] ", r->code);
    char raw[400];
    snprintf(raw, sizeof raw, "%s%s", code, r->text ? r->text : "");
    ms_text_sanitize(buf, cap, raw, strlen(raw));
}

static const char *status_word(enum ms_imap_status st)
{
    switch (st) {
    case MS_IMAP_STATUS_OK: return "OK";
    case MS_IMAP_STATUS_NO: return "NO";
    case MS_IMAP_STATUS_BAD: return "BAD";
    case MS_IMAP_STATUS_BYE: return "BYE";
    case MS_IMAP_STATUS_PREAUTH: return "PREAUTH";
    default: return "";
    }
}

/* Before TLS, [ALERT] texts could come from an attacker: never show them, only count. */
static void note_alert(struct ms_session *s, const struct ms_imap_response *r)
{
    if (r->code && strcasecmp(r->code, "ALERT") == 0 && !tls_up(s))
        s->res->alerts_ignored_before_tls++;
}

static int take_caps(struct ms_session *s, const struct ms_imap_response *r)
{
    /* Capabilities sent before TLS are never carried over: the list restarts after TLS. */
    int rc = ms_caps_from_imap(r, current_caps(s));
    if (rc < 0)
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing capabilities");
    return rc;
}

static void on_greeting(struct ms_session *s, const struct ms_imap_response *r, const char *raw,
                        size_t raw_len)
{
    char text[300];
    response_text(r, text, sizeof text);
    ms_session_greeting(s, raw, raw_len);
    if (r->kind != MS_IMAP_UNTAGGED ||
        (r->status != MS_IMAP_STATUS_OK && r->status != MS_IMAP_STATUS_PREAUTH &&
         r->status != MS_IMAP_STATUS_BYE)) {
        ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING, "not an IMAP greeting: \"%s\"",
                        s->res->greeting);
        return;
    }
    if (r->status == MS_IMAP_STATUS_BYE) {
        ms_session_fail(s, MS_FAILURE_PROTO_BYE, "the server said BYE instead of hello: %s", text);
        return;
    }
    if (r->status == MS_IMAP_STATUS_PREAUTH && !tls_up(s)) {
        /* Already signed in over plaintext: STARTTLS is no longer allowed (RFC 9051). */
        ms_session_fail(s, MS_FAILURE_PROTO_PREAUTH,
                        "the server signed the connection in (PREAUTH) before TLS: %s", text);
        return;
    }
    note_alert(s, r);
    int rc = take_caps(s, r);
    if (rc < 0)
        return;
    if (rc == 1) {
        s->res->caps_from_greeting = true;
        caps_known(s);
        return;
    }
    send_tagged(s, "CAPABILITY", IMAP_CAPABILITY, MS_PHASE_CAPABILITY);
    /* STARTTLS rides with CAPABILITY (RFC 9051 5.5 allows pipelining; nothing follows
     * STARTTLS before its answer). The injection probe reads the capabilities first. */
    if (!tls_up(s) && s->spec->security == MS_SECURITY_STARTTLS && !s->spec->injection_probe) {
        char line[32];
        snprintf(s->starttls_tag, sizeof s->starttls_tag, "M%u", ++s->next_tag);
        snprintf(line, sizeof line, "%s STARTTLS", s->starttls_tag);
        ms_session_send(s, line);
        s->starttls_pipelined = true;
    }
}

/* A tagged or untagged response while a command of ours is outstanding. */
/* ---- sign-in ---- */

/* Capabilities that describe the session as it is now (pre-TLS ones are never trusted
 * once TLS is up). */
static const struct ms_strlist *auth_caps(struct ms_session *s)
{
    return tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
}

static void not_attempted(struct ms_session *s, const char *why)
{
    snprintf(s->res->auth.not_attempted_reason, sizeof s->res->auth.not_attempted_reason, "%s",
             why);
    logout(s);
}

/* The mechanism to use, or MS_SASL_NONE with *login_cmd for the LOGIN command; NULL reason
 * when one was found. */
static const char *choose_mechanism(struct ms_session *s, enum ms_sasl_mech *mech, bool *login_cmd)
{
    const struct ms_request *req = s->env->request;
    const struct ms_strlist *caps = auth_caps(s);
    *mech = MS_SASL_NONE;
    *login_cmd = false;
    if (req->auth_mech[0]) {
        if (strcasecmp(req->auth_mech, "USER") == 0 ||
            strcasecmp(req->auth_mech, "LOGIN-COMMAND") == 0) {
            if (ms_strlist_has(caps, "LOGINDISABLED"))
                return "the server offers no mechanism for --auth-mech USER (LOGINDISABLED)";
            *login_cmd = true;
            return NULL;
        }
        /* Forcing picks among what the server offers: a secret never goes to a mechanism
         * the server did not announce. */
        char wanted[32];
        snprintf(wanted, sizeof wanted, "AUTH=%s", req->auth_mech);
        if (!ms_strlist_has(caps, wanted))
            return ms_session_forced_not_offered(s);
        *mech = ms_sasl_from_name(req->auth_mech);
        return NULL;
    }
    if (req->auth_token) {
        if (ms_strlist_has(caps, "AUTH=XOAUTH2"))
            *mech = MS_SASL_XOAUTH2;
        else if (ms_strlist_has(caps, "AUTH=OAUTHBEARER"))
            *mech = MS_SASL_OAUTHBEARER;
        else
            return "the server offers no OAuth2 mechanism (AUTH=XOAUTH2 or AUTH=OAUTHBEARER)";
        return NULL;
    }
    if (ms_strlist_has(caps, "AUTH=PLAIN"))
        *mech = MS_SASL_PLAIN;
    else if (ms_strlist_has(caps, "AUTH=LOGIN"))
        *mech = MS_SASL_LOGIN;
    else if (!ms_strlist_has(caps, "LOGINDISABLED"))
        *login_cmd = true;
    else if (ms_strlist_has(caps, "AUTH=XOAUTH2") || ms_strlist_has(caps, "AUTH=OAUTHBEARER"))
        return "the server offers only OAuth2 sign-in (password sign-in is turned off)";
    else
        return "the server offers no password sign-in mechanism this tool knows (LOGINDISABLED)";
    return NULL;
}

static void begin_auth(struct ms_session *s)
{
    const struct ms_request *req = s->env->request;
    struct ms_auth_facts *auth = &s->res->auth;
    enum ms_sasl_mech mech;
    bool login_cmd;
    const char *why = choose_mechanism(s, &mech, &login_cmd);
    if (why) {
        not_attempted(s, why);
        return;
    }
    const char *secret = req->auth_token ? req->auth_token : req->auth_password;
    char line[600];
    snprintf(s->tag, sizeof s->tag, "M%u", ++s->next_tag);
    if (login_cmd) {
        char user[300], pass[600];
        if (ms_imap_quote(req->auth_user, user, sizeof user) < 0 ||
            ms_imap_quote(secret, pass, sizeof pass) < 0) {
            explicit_bzero(pass, sizeof pass);
            not_attempted(s, "the user name or password has characters the IMAP LOGIN command "
                             "cannot carry; try --auth-mech PLAIN");
            return;
        }
        snprintf(auth->mechanism, sizeof auth->mechanism, "IMAP LOGIN");
        s->auth_mech = -1;
        snprintf(line, sizeof line, "%s LOGIN %s ", s->tag, user);
        auth->attempted = true;
        ms_session_set_state(s, IMAP_AUTHENTICATE, MS_PHASE_AUTH);
        ms_session_send_secret(s, line, pass);
        explicit_bzero(pass, sizeof pass);
        return;
    }
    if (mech == MS_SASL_NONE) {
        not_attempted(s, "--auth-mech names a mechanism this tool does not know");
        return;
    }
    snprintf(auth->mechanism, sizeof auth->mechanism, "%s", ms_sasl_name(mech));
    s->auth_mech = mech;
    s->auth_step = 0;
    char *ir = NULL;
    if (mech != MS_SASL_LOGIN) {
        int rc = ms_sasl_initial_response(mech, req->auth_user, secret, s->spec->host,
                                          s->spec->port, &ir);
        if (rc < 0) {
            not_attempted(s, rc == MS_EINVAL
                                 ? "the user name or secret has bytes this mechanism cannot carry"
                                 : "out of memory");
            return;
        }
    }
    auth->attempted = true;
    ms_session_set_state(s, IMAP_AUTHENTICATE, MS_PHASE_AUTH);
    if (ir && ms_strlist_has(auth_caps(s), "SASL-IR")) {
        snprintf(line, sizeof line, "%s AUTHENTICATE %s ", s->tag, ms_sasl_name(mech));
        ms_session_send_secret(s, line, ir);
        ms_sasl_free_secret(ir);
        return;
    }
    s->auth_pending = ir; /* sent at the server's "+" */
    snprintf(line, sizeof line, "%s AUTHENTICATE %s", s->tag, ms_sasl_name(mech));
    ms_session_send(s, line);
}

static void imap_on_auth_turn(struct ms_session *s, bool chosen)
{
    if (!chosen) {
        not_attempted(s, "another endpoint of this protocol was chosen to sign in");
        return;
    }
    begin_auth(s);
}

/* After the capabilities over TLS: sign in when asked and allowed, else log out. */
static void start_sign_in(struct ms_session *s)
{
    if (!s->env->request->auth_user) {
        logout(s);
        return;
    }
    char reason[200];
    if (!ms_session_auth_allowed(s, reason, sizeof reason)) {
        ms_session_auth_pass(s);
        not_attempted(s, reason);
        return;
    }
    int turn = ms_session_auth_turn(s);
    if (turn == 0) {
        ms_session_set_state(s, IMAP_AUTH_WAIT, MS_PHASE_AUTH);
        return;
    }
    imap_on_auth_turn(s, turn == 1);
}

/* A "+" while signing in: the next part of the exchange. */
static void on_challenge(struct ms_session *s, const struct ms_imap_response *r)
{
    const struct ms_request *req = s->env->request;
    if (++s->challenges > MAX_CHALLENGES) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "the server sent more than %d sign-in challenges", MAX_CHALLENGES);
        return;
    }
    if (s->auth_pending) {
        ms_session_send_secret(s, "", s->auth_pending);
        ms_sasl_free_secret(s->auth_pending);
        s->auth_pending = NULL;
        return;
    }
    if (s->auth_mech == MS_SASL_LOGIN && s->auth_step < 2) {
        char *reply = NULL;
        if (ms_sasl_login_reply(s->auth_step++, req->auth_user,
                                req->auth_password ? req->auth_password : "", &reply) < 0) {
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory");
            return;
        }
        ms_session_send_secret(s, "", reply);
        ms_sasl_free_secret(reply);
        return;
    }
    /* OAuth2 error challenge (RFC 7628 3.2.2 / XOAUTH2): note it and end the exchange. */
    const char *text = r->text ? r->text : "";
    ms_sasl_describe_challenge(text, strlen(text), s->res->auth.oauth_error,
                               sizeof s->res->auth.oauth_error);
    ms_session_send(s, s->auth_mech == MS_SASL_OAUTHBEARER ? "AQ==" : "");
}

static void queue_query(struct ms_session *s, const char *command)
{
    if (s->pending_count >= sizeof s->pending / sizeof s->pending[0])
        return;
    char line[128];
    snprintf(s->pending[s->pending_count], sizeof s->pending[0], "M%u", ++s->next_tag);
    snprintf(line, sizeof line, "%s %s", s->pending[s->pending_count], command);
    s->pending_count++;
    ms_session_send(s, line);
}

/* Independent read-only queries, pipelined: one round trip for all of them. */
static void start_account_queries(struct ms_session *s)
{
    const struct ms_strlist *caps = &s->res->caps_after_login;
    ms_session_set_state(s, IMAP_ACCOUNT, MS_PHASE_ACCOUNT);
    s->pending_count = 0;
    if (ms_strlist_has(caps, "NAMESPACE"))
        queue_query(s, "NAMESPACE");
    bool extended = ms_strlist_has(caps, "LIST-EXTENDED") && ms_strlist_has(caps, "SPECIAL-USE");
    s->res->account.list_special_use = extended;
    queue_query(s, extended ? "LIST \"\" \"*\" RETURN (SPECIAL-USE)" : "LIST \"\" \"*\"");
    queue_query(s, "STATUS INBOX (MESSAGES UNSEEN)");
    if (ms_strlist_has(caps, "QUOTA") || ms_strlist_find_prefix(caps, "QUOTA="))
        queue_query(s, "GETQUOTAROOT INBOX");
}

static void on_auth_result(struct ms_session *s, const struct ms_imap_response *r, const char *text)
{
    struct ms_auth_facts *auth = &s->res->auth;
    ms_sasl_free_secret(s->auth_pending);
    s->auth_pending = NULL;
    snprintf(auth->status, sizeof auth->status, "%s", status_word(r->status));
    if (r->code)
        ms_text_sanitize(auth->code, sizeof auth->code, r->code, strlen(r->code));
    ms_text_sanitize(auth->server_response, sizeof auth->server_response, text, strlen(text));
    if (r->status != MS_IMAP_STATUS_OK) {
        logout(s);
        return;
    }
    auth->ok = true;
    if (take_caps(s, r) < 0)
        return;
    if (s->res->caps_after_login.count > 0) {
        s->res->caps_after_login_read = true;
        start_account_queries(s);
        return;
    }
    send_tagged(s, "CAPABILITY", IMAP_LOGIN_CAPABILITY, MS_PHASE_CAPABILITY);
}

static bool take_pending(struct ms_session *s, const char *tag)
{
    for (size_t i = 0; i < s->pending_count; i++) {
        if (strcmp(s->pending[i], tag) == 0) {
            memmove(&s->pending[i], &s->pending[i + 1],
                    (s->pending_count - i - 1) * sizeof s->pending[0]);
            s->pending_count--;
            return true;
        }
    }
    return false;
}

/* A tagged or untagged response while a command of ours is outstanding. */
static void on_reply(struct ms_session *s, const struct ms_imap_response *r)
{
    char text[300];
    response_text(r, text, sizeof text);
    if (s->state == IMAP_INJECTION_WAIT) {
        /* Nothing was sent inside TLS yet: any answer is to the injected command. */
        struct ms_injection_facts *inj = &s->res->injection;
        inj->tested = true;
        inj->vulnerable = true;
        snprintf(inj->evidence, sizeof inj->evidence, "%.20s %s %.200s",
                 r->kind == MS_IMAP_TAGGED ? r->tag : "*", status_word(r->status), text);
        logout(s);
        return;
    }
    if (r->kind == MS_IMAP_UNTAGGED) {
        if (r->status == MS_IMAP_STATUS_BYE) {
            ms_session_fail(s, MS_FAILURE_PROTO_BYE, "the server closed the session: %s", text);
            return;
        }
        note_alert(s, r);
        if ((s->state == IMAP_CAPABILITY || s->state == IMAP_LOGIN_CAPABILITY) &&
            take_caps(s, r) < 0)
            return;
        if (s->state == IMAP_ACCOUNT && ms_imap_account_take(r, &s->res->account) < 0)
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing account facts");
        return; /* other untagged data is allowed at any time */
    }
    if (r->kind == MS_IMAP_CONTINUATION) {
        if (s->state == IMAP_AUTHENTICATE) {
            on_challenge(s, r);
            return;
        }
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected continuation request (\"+ %s\")",
                        text);
        return;
    }
    bool ours = s->state == IMAP_ACCOUNT ? take_pending(s, r->tag) : strcmp(r->tag, s->tag) == 0;
    if (!ours) {
        char tag[80];
        ms_text_sanitize(tag, sizeof tag, r->tag, strlen(r->tag));
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "tagged response for a command never sent (tag \"%s\", expected \"%s\")",
                        tag, s->state == IMAP_ACCOUNT ? "a query's" : s->tag);
        return;
    }
    switch ((enum imap_state)s->state) {
    case IMAP_STARTTLS: {
        if (r->status != MS_IMAP_STATUS_OK && s->starttls_pipelined &&
            !ms_strlist_has(&s->res->caps_before_tls, "STARTTLS")) {
            /* Not offered, and the refusal says so: as if STARTTLS had not been sent. */
            s->starttls_pipelined = false;
            caps_known(s);
            return;
        }
        if (r->status != MS_IMAP_STATUS_OK) {
            ms_text_sanitize(s->res->starttls_response, sizeof s->res->starttls_response, text,
                             strlen(text));
            ms_session_fail(s, MS_FAILURE_STARTTLS_REFUSED, "STARTTLS was refused: %s %s",
                            status_word(r->status), text);
            return;
        }
        char answer[sizeof text + 4];
        snprintf(answer, sizeof answer, "OK %s", text);
        ms_text_sanitize(s->res->starttls_response, sizeof s->res->starttls_response, answer,
                         strlen(answer));
        ms_session_start_tls(s);
        return;
    }
    case IMAP_AUTHENTICATE: on_auth_result(s, r, text); return;
    case IMAP_ACCOUNT:
        /* A query the server refuses (NO) just leaves that fact unknown; the first refusal's
         * words are kept, since they can say the account may not use IMAP at all. */
        if (r->status != MS_IMAP_STATUS_OK) {
            char answer[sizeof text + 8];
            snprintf(answer, sizeof answer, "%s %s", status_word(r->status), text);
            ms_session_note_refusal(s, "a query after sign-in", answer);
        }
        if (s->pending_count == 0) {
            s->res->account.read = true;
            logout(s);
        }
        return;
    case IMAP_CAPABILITY:
    case IMAP_LOGIN_CAPABILITY:
        if (r->status != MS_IMAP_STATUS_OK) {
            ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                            "the server answered CAPABILITY with %s %s", status_word(r->status),
                            text);
            return;
        }
        if (take_caps(s, r) < 0) /* a [CAPABILITY] code in the tagged OK counts too */
            return;
        if (s->state == IMAP_LOGIN_CAPABILITY) {
            s->res->caps_after_login_read = true;
            start_account_queries(s);
            return;
        }
        caps_known(s);
        return;
    default:
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "a tagged response arrived in state %s",
                        imap_state_names[s->state]);
        return;
    }
}

static void imap_on_input(struct ms_session *s)
{
    while (!s->finished && s->transport == MS_TRANSPORT_OPEN && s->line.in_len > 0) {
        struct ms_imap_response r;
        size_t used = 0;
        int rc = ms_imap_parse(s->line.in, s->line.in_len, &r, &used);
        if (rc == MS_EAGAIN)
            return;
        if (rc < 0) {
            ms_session_trace_in(s, s->line.in, s->line.in_len > 200 ? 200 : s->line.in_len);
            if (s->state == IMAP_GREETING && rc == MS_EPROTO) {
                ms_session_greeting(s, s->line.in, s->line.in_len);
                ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING,
                                "not an IMAP greeting: \"%s\"", s->res->greeting);
            } else {
                ms_session_fail_parse(s, rc, "an IMAP response");
            }
            return;
        }
        ms_session_trace_in(s, s->line.in, used);
        /* Consume before acting: STARTTLS must see only the bytes after its answer. */
        char raw[512];
        size_t raw_len = used < sizeof raw ? used : sizeof raw;
        memcpy(raw, s->line.in, raw_len);
        ms_line_consume(&s->line, used);
        if (s->state == IMAP_GREETING)
            on_greeting(s, &r, raw, raw_len);
        else
            on_reply(s, &r);
        ms_imap_response_free(&r);
    }
}

static void imap_begin(struct ms_session *s)
{
    ms_session_set_state(s, IMAP_GREETING, MS_PHASE_GREETING);
}

static bool imap_on_state_timeout(struct ms_session *s)
{
    if (s->state != IMAP_INJECTION_WAIT)
        return false;
    s->res->injection.tested = true; /* silence inside TLS: the injected command was dropped */
    logout(s);
    return true;
}

static void imap_on_tls_up(struct ms_session *s)
{
    if (s->spec->injection_probe) {
        double wait = s->env->request->timeout_s < 2.0 ? s->env->request->timeout_s : 2.0;
        ms_session_set_state_timeout(s, IMAP_INJECTION_WAIT, MS_PHASE_STARTTLS, wait);
        return;
    }
    send_tagged(s, "CAPABILITY", IMAP_CAPABILITY, MS_PHASE_CAPABILITY);
}

const struct ms_proto_ops ms_imap_ops = {
    .state_names = imap_state_names,
    .max_response = imap_max_response,
    .begin = imap_begin,
    .on_input = imap_on_input,
    .on_tls_up = imap_on_tls_up,
    .on_auth_turn = imap_on_auth_turn,
    .on_state_timeout = imap_on_state_timeout,
};
