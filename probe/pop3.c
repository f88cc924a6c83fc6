/* The POP3 session: greeting -> CAPA (+ STLS in the same write) -> TLS -> CAPA ->
 * [sign in -> CAPA, STAT, UIDL 1, TOP 1 0] -> QUIT.
 * Read-only: never DELE. What is POP3's own lives here: its states, capabilities, commands
 * and which answers are multi-line; the transport, the STARTTLS decision and the sign-in
 * exchange are shared (session.c, signin.c); the pure parser (pop3_parse.c) does the bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
#include "probe/pop3_parse.h"
#include "probe/session.h"
#include "probe/text.h"

enum pop3_state {
    POP3_GREETING,
    POP3_CAPA,      /* CAPA sent (before or after TLS) */
    POP3_STLS,      /* STLS sent */
    POP3_AUTH_WAIT, /* waiting to learn whether this endpoint signs in */
    POP3_AUTH,      /* AUTH, or USER then PASS */
    POP3_ACCOUNT,
    /* account queries in flight */ POP3_INJECTION_WAIT, /* injection probe: does the pipelined CAPA
                                                            get an answer in TLS? */
    POP3_PLAINTEXT_CHECK, /* plaintext check: its AUTH or USER sent */
    POP3_DONE,
};

static const char *const pop3_state_names[] = {
    [POP3_GREETING] = "greeting",
    [POP3_CAPA] = "capa",
    [POP3_STLS] = "stls",
    [POP3_AUTH_WAIT] = "auth-wait",
    [POP3_AUTH] = "auth",
    [POP3_ACCOUNT] = "account",
    [POP3_INJECTION_WAIT] = "injection-wait",
    [POP3_PLAINTEXT_CHECK] = "plaintext-check",
    [POP3_DONE] = "done",
};

/* The commands whose answers the account queries wait for. */
enum pop3_command { CMD_CAPA, CMD_STAT, CMD_UIDL, CMD_TOP };
static const char *const command_text[] = {
    [CMD_CAPA] = "CAPA",
    [CMD_STAT] = "STAT",
    [CMD_UIDL] = "UIDL 1",
    [CMD_TOP] = "TOP 1 0",
};

/* What the protocol keeps per session (s->proto). */
struct pop3 {
    struct ms_pop3_response r; /* the reply being handled */
};

static struct pop3 *pop3_of(struct ms_session *s)
{
    return s->proto;
}

static size_t pop3_max_response(void)
{
    return MS_POP3_MAX_RESPONSE + 1024;
}

static const struct ms_strlist *session_caps(const struct ms_session *s)
{
    return ms_session_tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
}

static void response_text(const struct ms_pop3_response *r, char *buf, size_t cap)
{
    char raw[400];
    snprintf(raw, sizeof raw, "%s%s%s%s", r->status == MS_POP3_OK ? "+OK" : "-ERR",
             r->code ? " [" : "", r->code ? r->code : "", r->code ? "]" : "");
    size_t used = strlen(raw);
    snprintf(raw + used, sizeof raw - used, " %s", r->text ? r->text : "");
    ms_text_sanitize(buf, cap, raw, strlen(raw));
}

static void send_command(struct ms_session *s, const char *command, enum pop3_state next,
                         enum ms_phase phase)
{
    ms_session_set_state(s, next, phase);
    ms_session_send(s, command);
}

static void quit(struct ms_session *s)
{
    ms_session_set_state(s, POP3_DONE, MS_PHASE_LOGOUT);
    ms_session_send(s, "QUIT");
    ms_session_finish(s);
}

/* "SASL PLAIN LOGIN" offers mech. */
static bool sasl_offers(const struct ms_strlist *caps, const char *mech)
{
    const char *line = ms_caps_pop3_find(caps, "SASL");
    if (!line)
        return false;
    char words[MS_MAX_CAPABILITY_LEN + 1];
    snprintf(words, sizeof words, "%s", line);
    char *save = NULL;
    strtok_r(words, " ", &save); /* "SASL" */
    for (char *w = strtok_r(NULL, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (strcasecmp(w, mech) == 0)
            return true;
    return false;
}

/* ---- sign-in: POP3's part ---- */

static bool pop3_caps_known(struct ms_session *s)
{
    return ms_session_tls_up(s) ? s->res->caps_after_tls_read : s->res->caps_before_tls_read;
}

static bool pop3_offers(struct ms_session *s, const char *mechanism)
{
    return sasl_offers(session_caps(s), mechanism);
}

static bool pop3_offers_command(struct ms_session *s)
{
    /* RFC 1939 servers without CAPA know USER/PASS. */
    return ms_caps_pop3_find(session_caps(s), "USER") || !pop3_caps_known(s);
}

static bool pop3_initial_response_allowed(struct ms_session *s)
{
    (void)s;
    return true; /* RFC 5034: the initial response rides on the AUTH line */
}

static void pop3_send_sasl(struct ms_session *s, const char *mechanism, const char *ir)
{
    char line[64];
    snprintf(line, sizeof line, "AUTH %s%s", mechanism, ir ? " " : "");
    if (ir)
        ms_session_send_secret(s, line, ir);
    else
        ms_session_send(s, line);
}

static enum ms_auth_skip pop3_send_user(struct ms_session *s, const char **why)
{
    const struct ms_request *req = s->env->request;
    if (strpbrk(req->auth_user, "\r\n") ||
        (req->auth_password && strpbrk(req->auth_password, "\r\n"))) {
        *why = "the user name or password contains a line break";
        return MS_AUTH_SKIP_LINE_BREAK;
    }
    ms_signin_started(s);
    char line[300];
    snprintf(line, sizeof line, "USER %s", req->auth_user);
    ms_session_send(s, line);
    return MS_AUTH_SKIP_NONE;
}

static void pop3_send_check_user(struct ms_session *s, const char *user, const char *password)
{
    (void)password; /* never PASS: USER alone shows whether the server takes it */
    char line[64];
    snprintf(line, sizeof line, "USER %s", user);
    ms_session_send(s, line);
}

/* USER, or SASL PLAIN/LOGIN, before STLS. */
static bool pop3_advertised_before_tls(struct ms_session *s)
{
    const struct ms_strlist *caps = &s->res->caps_before_tls;
    return s->res->caps_before_tls_read &&
           (ms_caps_pop3_find(caps, "USER") || sasl_offers(caps, "PLAIN") ||
            sasl_offers(caps, "LOGIN"));
}

static const struct ms_signin_ops pop3_signin = {
    .command_name = "USER",
    .command_before_login = true,
    .command_not_offered =
        "the server offers no mechanism for --auth-mech USER (no USER capability)",
    .no_oauth2 = "the server offers no OAuth2 mechanism (SASL XOAUTH2 or OAUTHBEARER)",
    .no_password = "the server offers no password sign-in (no USER, no SASL PLAIN or LOGIN)",
    .caps_known = pop3_caps_known,
    .offers = pop3_offers,
    .offers_command = pop3_offers_command,
    .initial_response_allowed = pop3_initial_response_allowed,
    .send_sasl = pop3_send_sasl,
    .send_command = pop3_send_user,
    .sasl_verb = "AUTH",
    .command_verb = "USER",
    .send_check_command = pop3_send_check_user,
    .advertised_before_tls = pop3_advertised_before_tls,
};

/* ---- account queries ---- */

static bool server_pipelines(const struct ms_session *s)
{
    return ms_caps_pop3_find(session_caps(s), "PIPELINING") != NULL;
}

/* Send what may go now: everything when the server pipelines, else one at a time. */
static void send_planned(struct ms_session *s)
{
    bool pipelining = server_pipelines(s);
    for (size_t i = 0; i < s->command_count; i++) {
        struct ms_command *c = &s->commands[i];
        if (c->sent)
            continue;
        if (!pipelining && i > 0)
            break;
        c->sent = true;
        ms_session_send(s, command_text[c->kind]);
    }
}

static void on_account_answer(struct ms_session *s, const struct ms_command *c);

static void plan_query(struct ms_session *s, enum pop3_command kind)
{
    bool multiline = kind == CMD_CAPA || kind == CMD_TOP;
    ms_session_command(s, kind, NULL,
                       (multiline ? MS_CMD_MULTILINE : 0) | (kind == CMD_TOP ? MS_CMD_PRIVATE : 0),
                       on_account_answer);
}

static long parse_long(const char *text, long fallback)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    return end != text && v >= 0 ? v : fallback;
}

static void take_login_caps(struct ms_session *s)
{
    struct ms_account_facts *a = &s->res->account;
    const char *expire = ms_caps_pop3_find(&s->res->caps_after_login, "EXPIRE");
    if (expire && strlen(expire) > 7)
        a->pop3_expire_days =
            strncasecmp(expire + 7, "NEVER", 5) == 0 ? -1 : parse_long(expire + 7, -2);
    const char *delay = ms_caps_pop3_find(&s->res->caps_after_login, "LOGIN-DELAY");
    if (delay && strlen(delay) > 12)
        a->pop3_login_delay_s = parse_long(delay + 12, -1);
}

static void on_account_answer(struct ms_session *s, const struct ms_command *c)
{
    const struct ms_pop3_response *r = &pop3_of(s)->r;
    struct ms_account_facts *a = &s->res->account;
    bool ok = r->status == MS_POP3_OK;
    if (!ok) {
        char text[300];
        response_text(r, text, sizeof text);
        ms_session_note_refusal(s, command_text[c->kind], text);
    }
    switch ((enum pop3_command)c->kind) {
    case CMD_CAPA:
        s->res->caps_after_login_read = ok;
        if (ok && ms_caps_from_pop3(r, &s->res->caps_after_login) < 0) {
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing capabilities");
            return;
        }
        take_login_caps(s);
        break;
    case CMD_STAT:
        if (!ok)
            break;
        long long octets = -1;
        long messages = -1;
        if (sscanf(r->text, "%ld %lld", &messages, &octets) == 2 && messages >= 0 && octets >= 0) {
            a->pop3_messages = messages;
            a->pop3_octets = octets;
        }
        if (a->pop3_messages > 0 && !server_pipelines(s)) {
            plan_query(s, CMD_UIDL);
            plan_query(s, CMD_TOP);
        }
        break;
    case CMD_UIDL:
        /* Pipelined with STAT: on an empty mailbox "-ERR no such message" says nothing
         * about UIDL, so only an answer about a message that exists counts. */
        if (ok || a->pop3_messages > 0) {
            a->pop3_uidl_tried = true;
            a->pop3_uidl_works = ok;
        }
        break;
    case CMD_TOP:
        if (ok || a->pop3_messages > 0) {
            a->pop3_top_tried = true;
            a->pop3_top_works = ok;
        }
        break;
    }
    if (s->finished)
        return;
    if (s->command_count == 0) {
        s->res->account.read = true;
        quit(s);
        return;
    }
    send_planned(s);
}

static void start_account_queries(struct ms_session *s)
{
    ms_session_set_state(s, POP3_ACCOUNT, MS_PHASE_ACCOUNT);
    plan_query(s, CMD_CAPA); /* the per-user EXPIRE and LOGIN-DELAY appear only now */
    plan_query(s, CMD_STAT);
    /* A pipelining server gets the message-1 probes at once (one round trip for all);
     * others get them after STAT, and only when there is a message 1. */
    if (server_pipelines(s)) {
        plan_query(s, CMD_UIDL);
        plan_query(s, CMD_TOP);
    }
    send_planned(s);
}

static void on_auth_reply(struct ms_session *s, const struct ms_pop3_response *r, const char *text)
{
    const struct ms_request *req = s->env->request;
    if (r->status == MS_POP3_CONTINUE) {
        ms_signin_challenge(s, r->text);
        return;
    }
    if (s->auth_mech == -1 && s->auth_step == 0 && r->status == MS_POP3_OK) {
        s->auth_step = 1; /* USER accepted: now PASS */
        ms_session_send_secret(s, "PASS ", req->auth_password ? req->auth_password : "");
        return;
    }
    if (ms_signin_answer(s, r->status == MS_POP3_OK, r->status == MS_POP3_OK ? "+OK" : "-ERR",
                         r->code, text))
        start_account_queries(s);
}

/* ---- before sign-in ---- */

static void after_capa(struct ms_session *s, bool capa_worked)
{
    if (ms_session_tls_up(s)) {
        s->res->caps_after_tls_read = capa_worked;
        /* Secure means a mail program could use it: TLS up and the certificate verified. */
        s->res->completed_securely = s->res->tls.verified;
        ms_signin_start(s);
        return;
    }
    s->res->caps_before_tls_read = capa_worked;
    ms_session_caps_before_tls(s);
}

static void on_stls_answer(struct ms_session *s, const struct ms_pop3_response *r, const char *text)
{
    ms_text_sanitize(s->res->starttls_response, sizeof s->res->starttls_response, text,
                     strlen(text));
    if (r->status == MS_POP3_OK) {
        ms_session_start_tls(s);
    } else if (s->starttls_pipelined && s->res->caps_before_tls_read &&
               !ms_caps_pop3_find(&s->res->caps_before_tls, "STLS")) {
        /* Not offered, and the refusal says so: as if STLS had not been sent. */
        s->starttls_pipelined = false;
        after_capa(s, true);
    } else if (!s->res->caps_before_tls_read) {
        ms_session_fail(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                        "the server knows neither CAPA nor STLS: %s", text);
    } else {
        ms_session_fail(s, MS_FAILURE_STARTTLS_REFUSED, "STLS was refused: %s", text);
    }
}

static void pop3_on_reply(struct ms_session *s, const char *raw, size_t raw_len)
{
    const struct ms_pop3_response *r = &pop3_of(s)->r;
    char text[300];
    response_text(r, text, sizeof text);
    struct ms_command c;
    if (s->state == POP3_INJECTION_WAIT) {
        s->res->injection.tested = true;
        s->res->injection.vulnerable = true;
        snprintf(s->res->injection.evidence, sizeof s->res->injection.evidence, "%.250s", text);
        quit(s);
    } else if (s->state == POP3_PLAINTEXT_CHECK) {
        ms_signin_check_answer(s,
                               r->status == MS_POP3_CONTINUE ? "+"
                               : r->status == MS_POP3_OK     ? "+OK"
                                                             : "-ERR",
                               r->code, r->text);
    } else if (r->status == MS_POP3_CONTINUE && s->state != POP3_AUTH) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected continuation (\"+ %s\")",
                        r->text);
    } else if (s->state == POP3_GREETING) {
        ms_session_greeting(s, raw, raw_len);
        if (r->status != MS_POP3_OK) {
            ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING,
                            "the server did not greet with +OK: \"%s\"", s->res->greeting);
        } else if (s->spec->plaintext_check) {
            after_capa(s, true); /* it starts from the main session's capabilities */
        } else {
            send_command(s, "CAPA", POP3_CAPA, MS_PHASE_CAPABILITY);
            /* STLS rides with CAPA: one round trip less, and nothing follows STLS before
             * its answer, so this is not the pattern STARTTLS injection is made of. (The
             * injection probe reads CAPA first: it wants to know whether STLS is offered.) */
            if (s->spec->security == MS_SECURITY_STARTTLS && !s->spec->injection_probe &&
                !s->spec->plaintext_check) {
                ms_session_send(s, "STLS");
                s->starttls_pipelined = true;
            }
        }
    } else if (s->state == POP3_CAPA) {
        struct ms_strlist *caps =
            ms_session_tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
        if (r->status == MS_POP3_OK && ms_caps_from_pop3(r, caps) < 0)
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing capabilities");
        else
            after_capa(s, r->status == MS_POP3_OK);
    } else if (s->state == POP3_STLS) {
        on_stls_answer(s, r, text);
    } else if (s->state == POP3_AUTH) {
        on_auth_reply(s, r, text);
    } else if (s->state == POP3_ACCOUNT && ms_session_command_take(s, NULL, &c)) {
        c.done(s, &c);
    } else {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected response in state %s: %s",
                        pop3_state_names[s->state], text);
    }
    ms_pop3_response_free(&pop3_of(s)->r);
}

/* Which answers are multi-line depends on the command being answered. */
static bool expects_multiline(const struct ms_session *s)
{
    if (s->state == POP3_CAPA)
        return true;
    const struct ms_command *c = ms_session_command_next(s);
    return s->state == POP3_ACCOUNT && c && (c->flags & MS_CMD_MULTILINE);
}

static int pop3_parse(struct ms_session *s, const char *buf, size_t len, size_t *used)
{
    int rc = ms_pop3_parse(buf, len, expects_multiline(s), &pop3_of(s)->r, used);
    return rc < 0 ? rc : 0;
}

/* A single-line answer ends at its first line end; a multi-line one (after +OK) at a line
 * that is only ".". */
static bool pop3_may_complete(struct ms_session *s, const char *buf, size_t len, size_t from)
{
    const char *first = memchr(buf, '\n', len);
    if (!first || (size_t)(first - buf) >= from)
        return first != NULL; /* the first line ends in the new bytes */
    if (!expects_multiline(s) || buf[0] != '+')
        return true;
    size_t start = from >= 3 ? from - 3 : 0; /* "\n.\r\n" may straddle the old end */
    for (const char *p = buf + start; (p = memchr(p, '\n', (size_t)(buf + len - p))); p++) {
        size_t rest = (size_t)(buf + len - p);
        if (rest >= 3 && p[1] == '.' &&
            (p[2] == '\n' || (p[2] == '\r' && rest >= 4 && p[3] == '\n')))
            return true;
    }
    return false;
}

/* TOP's body is the user's mail: never trace it, only its status line. */
static size_t pop3_traced(struct ms_session *s, const char *buf, size_t used)
{
    const struct ms_command *c = ms_session_command_next(s);
    const char *eol = memchr(buf, '\n', used);
    bool private = s->state == POP3_ACCOUNT && c && (c->flags & MS_CMD_PRIVATE);
    return private && eol ? (size_t)(eol - buf) : used;
}

static void pop3_begin(struct ms_session *s)
{
    ms_session_set_state(s, POP3_GREETING, MS_PHASE_GREETING);
}

static int pop3_starttls_listed(struct ms_session *s)
{
    if (!s->res->caps_before_tls_read)
        return -1; /* a server without CAPA (RFC 1939 only) may still know STLS */
    return ms_caps_pop3_find(&s->res->caps_before_tls, "STLS") ? 1 : 0;
}

static void pop3_send_starttls(struct ms_session *s, bool injection)
{
    send_command(s, "STLS", POP3_STLS, MS_PHASE_STARTTLS);
    if (injection)
        ms_session_send(s, "CAPA"); /* in the same segment (see imap.c) */
}

static void pop3_request_caps(struct ms_session *s)
{
    send_command(s, "CAPA", POP3_CAPA, MS_PHASE_CAPABILITY);
}

const struct ms_proto_ops ms_pop3_ops = {
    .name = "POP3",
    .a_name = "a POP3",
    .starttls_command = "STLS",
    .state_names = pop3_state_names,
    .state_greeting = POP3_GREETING,
    .state_starttls = POP3_STLS,
    .state_auth = POP3_AUTH,
    .state_auth_wait = POP3_AUTH_WAIT,
    .state_injection_wait = POP3_INJECTION_WAIT,
    .state_check = POP3_PLAINTEXT_CHECK,
    .state_size = sizeof(struct pop3),
    .max_response = pop3_max_response,
    .begin = pop3_begin,
    .parse = pop3_parse,
    .may_complete = pop3_may_complete,
    .traced = pop3_traced,
    .on_reply = pop3_on_reply,
    .starttls_listed = pop3_starttls_listed,
    .send_starttls = pop3_send_starttls,
    .request_caps = pop3_request_caps,
    .finish = quit,
    .signin = &pop3_signin,
};
