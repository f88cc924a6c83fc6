/* The IMAP4 session: greeting -> [CAPABILITY] -> STARTTLS -> TLS -> CAPABILITY ->
 * [sign in -> CAPABILITY -> NAMESPACE, LIST, STATUS, GETQUOTAROOT (pipelined)] -> LOGOUT.
 * Read-only: never SELECT, STORE or EXPUNGE. What is IMAP's own lives here: its states,
 * tags, capabilities and commands; the transport, the STARTTLS decision and the sign-in
 * exchange are shared (session.c, signin.c); the pure parser (imap_parse.c) does the bytes. */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
#include "probe/imap_account.h"
#include "probe/imap_parse.h"
#include "probe/session.h"
#include "probe/text.h"

enum imap_state {
    IMAP_GREETING,
    IMAP_CAPABILITY,       /* CAPABILITY sent (before or after TLS) */
    IMAP_STARTTLS,         /* STARTTLS sent */
    IMAP_AUTH_WAIT,        /* waiting to learn whether this endpoint signs in */
    IMAP_AUTHENTICATE,     /* AUTHENTICATE or LOGIN sent */
    IMAP_LOGIN_CAPABILITY, /* CAPABILITY after sign-in */
    IMAP_ACCOUNT,
    /* account queries in flight */ IMAP_INJECTION_WAIT, /* injection probe: does the pipelined NOOP
                                                            get an answer in TLS? */
    IMAP_PLAINTEXT_CHECK, /* plaintext check: its AUTHENTICATE or LOGIN sent */
    IMAP_DONE,
    IMAP_STATE_COUNT,
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
    [IMAP_PLAINTEXT_CHECK] = "plaintext-check",
    [IMAP_DONE] = "done",
};

/* What the protocol keeps per session (s->proto). */
struct imap {
    struct ms_imap_response r; /* the reply being handled */
    unsigned next_tag;
};

static struct imap *imap_of(struct ms_session *s)
{
    return s->proto;
}

static size_t imap_max_response(void)
{
    return MS_IMAP_MAX_RESPONSE + 1024;
}

static struct ms_strlist *current_caps(struct ms_session *s)
{
    if (s->res->auth.ok)
        return &s->res->caps_after_login;
    return ms_session_tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
}

/* Capabilities that describe the session before sign-in (pre-TLS ones are never trusted
 * once TLS is up). */
static const struct ms_strlist *auth_caps(struct ms_session *s)
{
    return ms_session_tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
}

static void mark_caps_read(struct ms_session *s)
{
    if (s->res->auth.ok)
        s->res->caps_after_login_read = true;
    else if (ms_session_tls_up(s))
        s->res->caps_after_tls_read = true;
    else
        s->res->caps_before_tls_read = true;
}

static void new_tag(struct ms_session *s, char *tag, size_t cap)
{
    snprintf(tag, cap, "M%u", ++imap_of(s)->next_tag);
}

/* Send "TAG command" and await its answer (queued in flight). */
static void send_tagged(struct ms_session *s, const char *command)
{
    char tag[16], line[128];
    new_tag(s, tag, sizeof tag);
    if (!ms_session_command(s, 0, tag, 0, NULL))
        return;
    snprintf(line, sizeof line, "%s %s", tag, command);
    ms_session_send(s, line);
}

static void logout(struct ms_session *s)
{
    ms_session_set_state(s, IMAP_DONE, MS_PHASE_LOGOUT);
    char tag[16], line[64];
    new_tag(s, tag, sizeof tag);
    snprintf(line, sizeof line, "%s LOGOUT", tag);
    ms_session_send(s, line);
    ms_session_finish(s);
}

static void start_account_queries(struct ms_session *s);

/* Capabilities are known (from the greeting or CAPABILITY): take the next step. */
static void caps_known(struct ms_session *s)
{
    mark_caps_read(s);
    if (!ms_session_tls_up(s)) {
        ms_session_caps_before_tls(s);
        return;
    }
    /* Secure means a mail program could use it: TLS up and the certificate verified. */
    s->res->completed_securely = s->res->tls.verified;
    ms_signin_start(s);
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
    if (r->code && strcasecmp(r->code, "ALERT") == 0 && !ms_session_tls_up(s))
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
    if (r->status == MS_IMAP_STATUS_PREAUTH && !ms_session_tls_up(s)) {
        /* Already signed in over plaintext: STARTTLS is no longer allowed (RFC 9051). */
        ms_session_fail(s, MS_FAILURE_PROTO_PREAUTH,
                        "the server signed the connection in (PREAUTH) before TLS: %s", text);
        return;
    }
    note_alert(s, r);
    if (s->spec->plaintext_check) { /* it starts from the main session's capabilities */
        caps_known(s);
        return;
    }
    int rc = take_caps(s, r);
    if (rc < 0)
        return;
    if (rc == 1) {
        s->res->caps_from_greeting = true;
        caps_known(s);
        return;
    }
    ms_session_set_state(s, IMAP_CAPABILITY, MS_PHASE_CAPABILITY);
    send_tagged(s, "CAPABILITY");
    /* STARTTLS rides with CAPABILITY (RFC 9051 5.5 allows pipelining; nothing follows
     * STARTTLS before its answer). The injection probe reads the capabilities first. */
    if (!ms_session_tls_up(s) && s->spec->security == MS_SECURITY_STARTTLS &&
        !s->spec->injection_probe && !s->spec->plaintext_check) {
        send_tagged(s, "STARTTLS");
        s->starttls_pipelined = true;
    }
}

/* ---- sign-in: IMAP's part ---- */

static bool imap_caps_known(struct ms_session *s)
{
    (void)s;
    return true; /* a session reaches sign-in only with its capabilities read */
}

static bool imap_offers(struct ms_session *s, const char *mechanism)
{
    char cap[40];
    snprintf(cap, sizeof cap, "AUTH=%s", mechanism);
    return ms_strlist_has(auth_caps(s), cap);
}

static bool imap_offers_command(struct ms_session *s)
{
    return !ms_strlist_has(auth_caps(s), "LOGINDISABLED");
}

static bool imap_initial_response_allowed(struct ms_session *s)
{
    return ms_strlist_has(auth_caps(s), "SASL-IR");
}

static void imap_send_sasl(struct ms_session *s, const char *mechanism, const char *ir)
{
    char tag[16], line[64];
    new_tag(s, tag, sizeof tag);
    if (!ms_session_command(s, 0, tag, 0, NULL))
        return;
    snprintf(line, sizeof line, "%s AUTHENTICATE %s%s", tag, mechanism, ir ? " " : "");
    if (ir)
        ms_session_send_secret(s, line, ir);
    else
        ms_session_send(s, line);
}

static enum ms_auth_skip imap_send_login(struct ms_session *s, const char **why)
{
    const struct ms_request *req = s->env->request;
    const char *secret = req->auth_token ? req->auth_token : req->auth_password;
    char user[300], pass[600], tag[16], line[400];
    if (ms_imap_quote(req->auth_user, user, sizeof user) < 0 ||
        ms_imap_quote(secret, pass, sizeof pass) < 0) {
        explicit_bzero(pass, sizeof pass);
        *why = "the user name or password has characters the IMAP LOGIN command cannot carry; "
               "try --auth-mech PLAIN";
        return MS_AUTH_SKIP_UNENCODABLE;
    }
    ms_signin_started(s);
    new_tag(s, tag, sizeof tag);
    if (ms_session_command(s, 0, tag, 0, NULL)) {
        snprintf(line, sizeof line, "%s LOGIN %s ", tag, user);
        ms_session_send_secret(s, line, pass);
    }
    explicit_bzero(pass, sizeof pass);
    return MS_AUTH_SKIP_NONE;
}

static void imap_send_check_login(struct ms_session *s, const char *user, const char *password)
{
    char tag[16], line[128];
    new_tag(s, tag, sizeof tag);
    if (!ms_session_command(s, 0, tag, 0, NULL))
        return;
    snprintf(line, sizeof line, "%s LOGIN %s ", tag, user); /* both atoms: no quoting */
    ms_session_send_secret(s, line, password);
}

/* No LOGINDISABLED before TLS: the LOGIN command (and AUTH= mechanisms) may carry a password. */
static bool imap_advertised_before_tls(struct ms_session *s)
{
    return !ms_strlist_has(&s->res->caps_before_tls, "LOGINDISABLED");
}

static const struct ms_signin_ops imap_signin = {
    .command_name = "IMAP LOGIN",
    .command_before_login = false,
    .command_not_offered = "the server offers no mechanism for --auth-mech USER (LOGINDISABLED)",
    .no_oauth2 = "the server offers no OAuth2 mechanism (AUTH=XOAUTH2 or AUTH=OAUTHBEARER)",
    .no_password =
        "the server offers no password sign-in mechanism this tool knows (LOGINDISABLED)",
    .caps_known = imap_caps_known,
    .offers = imap_offers,
    .offers_command = imap_offers_command,
    .initial_response_allowed = imap_initial_response_allowed,
    .send_sasl = imap_send_sasl,
    .send_command = imap_send_login,
    .sasl_verb = "AUTHENTICATE",
    .command_verb = "LOGIN",
    .send_check_command = imap_send_check_login,
    .advertised_before_tls = imap_advertised_before_tls,
};

/* ---- after sign-in ---- */

static void queue_query(struct ms_session *s, const char *command)
{
    send_tagged(s, command);
}

/* Independent read-only queries, pipelined: one round trip for all of them. */
static void start_account_queries(struct ms_session *s)
{
    const struct ms_strlist *caps = &s->res->caps_after_login;
    ms_session_set_state(s, IMAP_ACCOUNT, MS_PHASE_ACCOUNT);
    if (ms_strlist_has(caps, "NAMESPACE"))
        queue_query(s, "NAMESPACE");
    bool extended = ms_strlist_has(caps, "LIST-EXTENDED") && ms_strlist_has(caps, "SPECIAL-USE");
    s->res->account.list_special_use = extended;
    queue_query(s, extended ? "LIST \"\" \"*\" RETURN (SPECIAL-USE)" : "LIST \"\" \"*\"");
    queue_query(s, "STATUS INBOX (MESSAGES UNSEEN)");
    if (ms_strlist_has(caps, "QUOTA") || ms_strlist_find_prefix(caps, "QUOTA="))
        queue_query(s, "GETQUOTAROOT INBOX");
}

/* ---- tagged answers, one handler per state ---- */

static void on_starttls_answer(struct ms_session *s, const struct ms_imap_response *r,
                               const char *text)
{
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
    char answer[304];
    snprintf(answer, sizeof answer, "OK %s", text);
    ms_text_sanitize(s->res->starttls_response, sizeof s->res->starttls_response, answer,
                     strlen(answer));
    ms_session_start_tls(s);
}

static void on_auth_answer(struct ms_session *s, const struct ms_imap_response *r, const char *text)
{
    if (!ms_signin_answer(s, r->status == MS_IMAP_STATUS_OK, status_word(r->status), r->code, text))
        return;
    if (take_caps(s, r) < 0)
        return;
    if (s->res->caps_after_login.count > 0) {
        s->res->caps_after_login_read = true;
        start_account_queries(s);
        return;
    }
    ms_session_set_state(s, IMAP_LOGIN_CAPABILITY, MS_PHASE_CAPABILITY);
    send_tagged(s, "CAPABILITY");
}

static void on_account_answer(struct ms_session *s, const struct ms_imap_response *r,
                              const char *text)
{
    /* A query the server refuses (NO) just leaves that fact unknown; the first refusal's
     * words are kept, since they can say the account may not use IMAP at all. */
    if (r->status != MS_IMAP_STATUS_OK) {
        char answer[308];
        snprintf(answer, sizeof answer, "%s %s", status_word(r->status), text);
        ms_session_note_refusal(s, "a query after sign-in", answer);
    }
    if (s->command_count == 0) {
        s->res->account.read = true;
        logout(s);
    }
}

static void on_caps_answer(struct ms_session *s, const struct ms_imap_response *r, const char *text)
{
    if (r->status != MS_IMAP_STATUS_OK) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "the server answered CAPABILITY with %s %s",
                        status_word(r->status), text);
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
}

typedef void (*tagged_handler)(struct ms_session *, const struct ms_imap_response *, const char *);
static void on_check_answer(struct ms_session *s, const struct ms_imap_response *r,
                            const char *text)
{
    (void)text;
    ms_signin_check_answer(s, status_word(r->status), r->code, r->text);
}

static const tagged_handler on_tagged[IMAP_STATE_COUNT] = {
    [IMAP_PLAINTEXT_CHECK] = on_check_answer, [IMAP_CAPABILITY] = on_caps_answer,
    [IMAP_LOGIN_CAPABILITY] = on_caps_answer, [IMAP_STARTTLS] = on_starttls_answer,
    [IMAP_AUTHENTICATE] = on_auth_answer,     [IMAP_ACCOUNT] = on_account_answer,
};

/* Nothing was sent inside TLS yet: any answer is to the injected command. */
static void on_injected_answer(struct ms_session *s, const struct ms_imap_response *r,
                               const char *text)
{
    struct ms_injection_facts *inj = &s->res->injection;
    inj->tested = true;
    inj->vulnerable = true;
    snprintf(inj->evidence, sizeof inj->evidence, "%.20s %s %.200s",
             r->kind == MS_IMAP_TAGGED ? r->tag : "*", status_word(r->status), text);
    logout(s);
}

static void on_untagged(struct ms_session *s, const struct ms_imap_response *r, const char *text)
{
    if (r->status == MS_IMAP_STATUS_BYE) {
        ms_session_fail(s, MS_FAILURE_PROTO_BYE, "the server closed the session: %s", text);
        return;
    }
    note_alert(s, r);
    if ((s->state == IMAP_CAPABILITY || s->state == IMAP_LOGIN_CAPABILITY) && take_caps(s, r) < 0)
        return;
    if (s->state == IMAP_ACCOUNT && ms_imap_account_take(r, &s->res->account) < 0)
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing account facts");
    /* other untagged data is allowed at any time */
}

/* A tagged answer must be to the command in flight: the oldest one, or (pipelined account
 * queries) any of them. */
static void on_tagged_answer(struct ms_session *s, const struct ms_imap_response *r,
                             const char *text)
{
    const struct ms_command *next = ms_session_command_next(s);
    bool any = s->state == IMAP_ACCOUNT;
    struct ms_command c;
    bool ours =
        (any || (next && strcmp(next->tag, r->tag) == 0)) && ms_session_command_take(s, r->tag, &c);
    if (!ours) {
        char tag[80];
        ms_text_sanitize(tag, sizeof tag, r->tag, strlen(r->tag));
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "tagged response for a command never sent (tag \"%s\", expected \"%s\")",
                        tag,
                        any    ? "a query's"
                        : next ? next->tag
                               : "");
        return;
    }
    tagged_handler h = on_tagged[s->state];
    if (!h) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "a tagged response arrived in state %s",
                        imap_state_names[s->state]);
        return;
    }
    h(s, r, text);
}

static void imap_on_reply(struct ms_session *s, const char *raw, size_t raw_len)
{
    struct ms_imap_response *r = &imap_of(s)->r;
    char text[300];
    response_text(r, text, sizeof text);
    if (s->state == IMAP_GREETING)
        on_greeting(s, r, raw, raw_len);
    else if (s->state == IMAP_INJECTION_WAIT)
        on_injected_answer(s, r, text);
    else if (r->kind == MS_IMAP_UNTAGGED)
        on_untagged(s, r, text);
    else if (r->kind == MS_IMAP_CONTINUATION && s->state == IMAP_AUTHENTICATE)
        ms_signin_challenge(s, r->text);
    else if (r->kind == MS_IMAP_CONTINUATION && s->state == IMAP_PLAINTEXT_CHECK)
        ms_signin_check_answer(s, "+", NULL, r->text);
    else if (r->kind == MS_IMAP_CONTINUATION)
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected continuation request (\"+ %s\")",
                        text);
    else
        on_tagged_answer(s, r, text);
    ms_imap_response_free(r);
}

static int imap_parse(struct ms_session *s, const char *buf, size_t len, size_t *used)
{
    int rc = ms_imap_parse(buf, len, &imap_of(s)->r, used);
    return rc < 0 ? rc : 0;
}

/* An IMAP response ends with a line end (literals included). */
static bool imap_may_complete(struct ms_session *s, const char *buf, size_t len, size_t from)
{
    (void)s;
    return memchr(buf + from, '\n', len - from) != NULL;
}

static void imap_begin(struct ms_session *s)
{
    ms_session_set_state(s, IMAP_GREETING, MS_PHASE_GREETING);
}

static int imap_starttls_listed(struct ms_session *s)
{
    return ms_strlist_has(&s->res->caps_before_tls, "STARTTLS") ? 1 : 0;
}

static void imap_send_starttls(struct ms_session *s, bool injection)
{
    ms_session_set_state(s, IMAP_STARTTLS, MS_PHASE_STARTTLS);
    send_tagged(s, "STARTTLS");
    if (!injection)
        return;
    /* STARTTLS and a harmless command in one segment: a server that keeps the second in its
     * buffer across the switch answers it inside TLS (CVE-2011-0411 class). */
    unsigned char rnd[4] = {0};
    RAND_bytes(rnd, sizeof rnd);
    char line[64];
    snprintf(line, sizeof line, "I%02x%02x%02x%02x NOOP", rnd[0], rnd[1], rnd[2], rnd[3]);
    ms_session_send(s, line);
}

static void imap_request_caps(struct ms_session *s)
{
    ms_session_set_state(s, IMAP_CAPABILITY, MS_PHASE_CAPABILITY);
    send_tagged(s, "CAPABILITY");
}

const struct ms_proto_ops ms_imap_ops = {
    .name = "IMAP",
    .a_name = "an IMAP",
    .starttls_command = "STARTTLS",
    .state_names = imap_state_names,
    .state_greeting = IMAP_GREETING,
    .state_starttls = IMAP_STARTTLS,
    .state_auth = IMAP_AUTHENTICATE,
    .state_auth_wait = IMAP_AUTH_WAIT,
    .state_injection_wait = IMAP_INJECTION_WAIT,
    .state_check = IMAP_PLAINTEXT_CHECK,
    .state_size = sizeof(struct imap),
    .max_response = imap_max_response,
    .begin = imap_begin,
    .parse = imap_parse,
    .may_complete = imap_may_complete,
    .on_reply = imap_on_reply,
    .starttls_listed = imap_starttls_listed,
    .send_starttls = imap_send_starttls,
    .request_caps = imap_request_caps,
    .finish = logout,
    .signin = &imap_signin,
};
