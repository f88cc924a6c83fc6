/* The POP3 session: greeting -> CAPA (+ STLS in the same write) -> TLS -> CAPA ->
 * [sign in -> CAPA, STAT, UIDL 1, TOP 1 0] -> QUIT.
 * Read-only: never DELE. One handler per state; the pure parser (pop3_parse.c) does all
 * the byte work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
#include "probe/pop3_parse.h"
#include "probe/sasl.h"
#include "probe/session.h"
#include "probe/text.h"

#define MAX_CHALLENGES 4

enum pop3_state {
    POP3_GREETING,
    POP3_CAPA,           /* CAPA sent (before or after TLS) */
    POP3_STLS,           /* STLS sent */
    POP3_AUTH_WAIT,      /* waiting to learn whether this endpoint signs in */
    POP3_AUTH,           /* AUTH, or USER then PASS */
    POP3_ACCOUNT,        /* account queries in flight */
    POP3_INJECTION_WAIT, /* injection probe: does the pipelined CAPA get an answer in TLS? */
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
    [POP3_DONE] = "done",
};

static size_t pop3_max_response(void)
{
    return MS_POP3_MAX_RESPONSE + 1024;
}

static bool tls_up(const struct ms_session *s)
{
    return s->line.ssl != NULL;
}

static const struct ms_strlist *session_caps(const struct ms_session *s)
{
    return tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
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

static void not_attempted(struct ms_session *s, const char *why)
{
    snprintf(s->res->auth.not_attempted_reason, sizeof s->res->auth.not_attempted_reason, "%s",
             why);
    quit(s);
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

/* ---- sign-in ---- */

static const char *choose_mechanism(struct ms_session *s, enum ms_sasl_mech *mech, bool *user_pass)
{
    const struct ms_request *req = s->env->request;
    const struct ms_strlist *caps = session_caps(s);
    bool capa = tls_up(s) ? s->res->caps_after_tls_read : s->res->caps_before_tls_read;
    *mech = MS_SASL_NONE;
    *user_pass = false;
    if (req->auth_mech[0]) {
        if (strcasecmp(req->auth_mech, "USER") == 0) {
            if (capa && !ms_caps_pop3_find(caps, "USER"))
                return "the server offers no mechanism for --auth-mech USER (no USER capability)";
            *user_pass = true;
            return NULL;
        }
        /* Forcing picks among what the server offers (see imap.c). */
        if (capa && !sasl_offers(caps, req->auth_mech))
            return ms_session_forced_not_offered(s);
        *mech = ms_sasl_from_name(req->auth_mech);
        return NULL;
    }
    if (req->auth_token) {
        if (sasl_offers(caps, "XOAUTH2"))
            *mech = MS_SASL_XOAUTH2;
        else if (sasl_offers(caps, "OAUTHBEARER"))
            *mech = MS_SASL_OAUTHBEARER;
        else
            return "the server offers no OAuth2 mechanism (SASL XOAUTH2 or OAUTHBEARER)";
        return NULL;
    }
    if (sasl_offers(caps, "PLAIN"))
        *mech = MS_SASL_PLAIN;
    else if (ms_caps_pop3_find(caps, "USER") || !capa)
        *user_pass = true; /* RFC 1939 servers without CAPA know USER/PASS */
    else if (sasl_offers(caps, "LOGIN"))
        *mech = MS_SASL_LOGIN;
    else if (sasl_offers(caps, "XOAUTH2") || sasl_offers(caps, "OAUTHBEARER"))
        return "the server offers only OAuth2 sign-in (password sign-in is turned off)";
    else
        return "the server offers no password sign-in (no USER, no SASL PLAIN or LOGIN)";
    return NULL;
}

static void begin_auth(struct ms_session *s)
{
    const struct ms_request *req = s->env->request;
    struct ms_auth_facts *auth = &s->res->auth;
    enum ms_sasl_mech mech;
    bool user_pass;
    const char *why = choose_mechanism(s, &mech, &user_pass);
    if (why) {
        not_attempted(s, why);
        return;
    }
    if (user_pass) {
        if (strpbrk(req->auth_user, "\r\n") ||
            (req->auth_password && strpbrk(req->auth_password, "\r\n"))) {
            not_attempted(s, "the user name or password contains a line break");
            return;
        }
        snprintf(auth->mechanism, sizeof auth->mechanism, "USER");
        s->auth_mech = -1;
        s->auth_step = 0;
        auth->attempted = true;
        char line[300];
        snprintf(line, sizeof line, "USER %s", req->auth_user);
        send_command(s, line, POP3_AUTH, MS_PHASE_AUTH);
        return;
    }
    if (mech == MS_SASL_NONE) {
        not_attempted(s, "--auth-mech names a mechanism this tool does not know");
        return;
    }
    snprintf(auth->mechanism, sizeof auth->mechanism, "%s", ms_sasl_name(mech));
    s->auth_mech = mech;
    s->auth_step = 0;
    auth->attempted = true;
    ms_session_set_state(s, POP3_AUTH, MS_PHASE_AUTH);
    char line[64];
    snprintf(line, sizeof line, "AUTH %s", ms_sasl_name(mech));
    if (mech == MS_SASL_LOGIN) {
        ms_session_send(s, line);
        return;
    }
    const char *secret = req->auth_token ? req->auth_token : req->auth_password;
    char *ir = NULL;
    int rc =
        ms_sasl_initial_response(mech, req->auth_user, secret, s->spec->host, s->spec->port, &ir);
    if (rc < 0) {
        auth->attempted = false;
        not_attempted(s, rc == MS_EINVAL
                             ? "the user name or secret has bytes this mechanism cannot carry"
                             : "out of memory");
        return;
    }
    /* RFC 5034: the initial response rides on the AUTH line. */
    strncat(line, " ", sizeof line - strlen(line) - 1);
    ms_session_send_secret(s, line, ir);
    ms_sasl_free_secret(ir);
}

static void pop3_on_auth_turn(struct ms_session *s, bool chosen)
{
    if (!chosen) {
        not_attempted(s, "another endpoint of this protocol was chosen to sign in");
        return;
    }
    begin_auth(s);
}

static void start_sign_in(struct ms_session *s)
{
    if (!s->env->request->auth_user) {
        quit(s);
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
        ms_session_set_state(s, POP3_AUTH_WAIT, MS_PHASE_AUTH);
        return;
    }
    pop3_on_auth_turn(s, turn == 1);
}

/* ---- account queries ---- */

static void plan_query(struct ms_session *s, const char *command)
{
    if (s->pending_count < sizeof s->pending / sizeof s->pending[0])
        snprintf(s->pending[s->pending_count++], sizeof s->pending[0], "%s", command);
}

static bool server_pipelines(const struct ms_session *s)
{
    return ms_caps_pop3_find(session_caps(s), "PIPELINING") != NULL;
}

/* Send what may go now: everything when the server pipelines, else one at a time. */
static void send_planned(struct ms_session *s)
{
    bool pipelining = server_pipelines(s);
    while (s->pending_sent < s->pending_count && (pipelining || s->pending_sent == 0)) {
        ms_session_send(s, s->pending[s->pending_sent++]);
    }
}

static void next_query(struct ms_session *s)
{
    /* Drop the answered command from the front of the plan. */
    memmove(&s->pending[0], &s->pending[1], (s->pending_count - 1) * sizeof s->pending[0]);
    s->pending_count--;
    s->pending_sent--;
    if (s->pending_count == 0) {
        s->res->account.read = true;
        quit(s);
        return;
    }
    send_planned(s);
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

static void on_account_reply(struct ms_session *s, const struct ms_pop3_response *r)
{
    struct ms_account_facts *a = &s->res->account;
    const char *command = s->pending[0];
    bool ok = r->status == MS_POP3_OK;
    if (!ok) {
        char text[300];
        response_text(r, text, sizeof text);
        ms_session_note_refusal(s, command, text);
    }
    if (strcmp(command, "CAPA") == 0) {
        s->res->caps_after_login_read = ok;
        if (ok && ms_caps_from_pop3(r, &s->res->caps_after_login) < 0) {
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing capabilities");
            return;
        }
        take_login_caps(s);
    } else if (strcmp(command, "STAT") == 0 && ok) {
        long long octets = -1;
        long messages = -1;
        if (sscanf(r->text, "%ld %lld", &messages, &octets) == 2 && messages >= 0 && octets >= 0) {
            a->pop3_messages = messages;
            a->pop3_octets = octets;
        }
        if (a->pop3_messages > 0 && !server_pipelines(s)) {
            plan_query(s, "UIDL 1");
            plan_query(s, "TOP 1 0");
        }
    } else if (strncmp(command, "UIDL", 4) == 0) {
        /* Pipelined with STAT: on an empty mailbox "-ERR no such message" says nothing
         * about UIDL, so only an answer about a message that exists counts. */
        if (ok || a->pop3_messages > 0) {
            a->pop3_uidl_tried = true;
            a->pop3_uidl_works = ok;
        }
    } else if (strncmp(command, "TOP", 3) == 0) {
        if (ok || a->pop3_messages > 0) {
            a->pop3_top_tried = true;
            a->pop3_top_works = ok;
        }
    }
    next_query(s);
}

static void start_account_queries(struct ms_session *s)
{
    ms_session_set_state(s, POP3_ACCOUNT, MS_PHASE_ACCOUNT);
    s->pending_count = s->pending_sent = 0;
    plan_query(s, "CAPA"); /* the per-user EXPIRE and LOGIN-DELAY appear only now */
    plan_query(s, "STAT");
    /* A pipelining server gets the message-1 probes at once (one round trip for all);
     * others get them after STAT, and only when there is a message 1. */
    if (server_pipelines(s)) {
        plan_query(s, "UIDL 1");
        plan_query(s, "TOP 1 0");
    }
    send_planned(s);
}

static void on_auth_reply(struct ms_session *s, const struct ms_pop3_response *r, const char *text)
{
    const struct ms_request *req = s->env->request;
    struct ms_auth_facts *auth = &s->res->auth;
    if (r->status == MS_POP3_CONTINUE) {
        if (++s->challenges > MAX_CHALLENGES) {
            ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                            "the server sent more than %d sign-in challenges", MAX_CHALLENGES);
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
        /* An OAuth2 error challenge: note it and end the exchange (RFC 7628 3.2.3). */
        ms_sasl_describe_challenge(r->text, strlen(r->text), auth->oauth_error,
                                   sizeof auth->oauth_error);
        ms_session_send(s, s->auth_mech == MS_SASL_OAUTHBEARER ? "AQ==" : "");
        return;
    }
    if (s->auth_mech == -1 && s->auth_step == 0 && r->status == MS_POP3_OK) {
        s->auth_step = 1; /* USER accepted: now PASS */
        ms_session_send_secret(s, "PASS ", req->auth_password ? req->auth_password : "");
        return;
    }
    snprintf(auth->status, sizeof auth->status, "%s", r->status == MS_POP3_OK ? "+OK" : "-ERR");
    if (r->code)
        ms_text_sanitize(auth->code, sizeof auth->code, r->code, strlen(r->code));
    ms_text_sanitize(auth->server_response, sizeof auth->server_response, text, strlen(text));
    if (r->status != MS_POP3_OK) {
        quit(s);
        return;
    }
    auth->ok = true;
    start_account_queries(s);
}

/* ---- before sign-in ---- */

static void after_capa(struct ms_session *s, bool capa_worked)
{
    if (tls_up(s)) {
        s->res->caps_after_tls_read = capa_worked;
        /* Secure means a mail program could use it: TLS up and the certificate verified. */
        s->res->completed_securely = s->res->tls.verified;
        start_sign_in(s);
        return;
    }
    s->res->caps_before_tls_read = capa_worked;
    bool stls_listed = ms_caps_pop3_find(&s->res->caps_before_tls, "STLS") != NULL;
    bool plaintext_ok = ms_session_plaintext_sign_in(s);
    if (s->starttls_pipelined && (!capa_worked || stls_listed || plaintext_ok)) {
        ms_session_set_state(s, POP3_STLS, MS_PHASE_STARTTLS); /* its answer is next */
        return;
    }
    /* CAPA says STLS is not offered: no need to wait for the pipelined STLS's answer. */
    s->starttls_pipelined = false;
    if (s->spec->injection_probe) {
        if (capa_worked && !ms_caps_pop3_find(&s->res->caps_before_tls, "STLS")) {
            snprintf(s->res->injection.note, sizeof s->res->injection.note, "STLS is not offered");
            quit(s);
            return;
        }
        /* STLS and CAPA in one segment (see imap.c). */
        send_command(s, "STLS", POP3_STLS, MS_PHASE_STARTTLS);
        ms_session_send(s, "CAPA");
        return;
    }
    /* A server without CAPA (RFC 1939 only) may still know STLS: ask it directly. */
    if (capa_worked && !ms_caps_pop3_find(&s->res->caps_before_tls, "STLS")) {
        if (ms_session_plaintext_sign_in(s)) {
            ms_session_note_failure(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                                    "the server does not offer STLS before sign-in");
            start_sign_in(s);
            return;
        }
        ms_session_fail(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                        "the server does not offer STLS before sign-in");
        return;
    }
    send_command(s, "STLS", POP3_STLS, MS_PHASE_STARTTLS);
}

static void on_response(struct ms_session *s, const struct ms_pop3_response *r, const char *raw,
                        size_t raw_len)
{
    char text[300];
    response_text(r, text, sizeof text);
    if (s->state == POP3_INJECTION_WAIT) {
        s->res->injection.tested = true;
        s->res->injection.vulnerable = true;
        snprintf(s->res->injection.evidence, sizeof s->res->injection.evidence, "%.250s", text);
        quit(s);
        return;
    }
    if (r->status == MS_POP3_CONTINUE && s->state != POP3_AUTH) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected continuation (\"+ %s\")",
                        r->text);
        return;
    }
    switch ((enum pop3_state)s->state) {
    case POP3_GREETING:
        ms_session_greeting(s, raw, raw_len);
        if (r->status != MS_POP3_OK) {
            ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING,
                            "the server did not greet with +OK: \"%s\"", s->res->greeting);
            return;
        }
        send_command(s, "CAPA", POP3_CAPA, MS_PHASE_CAPABILITY);
        /* STLS rides with CAPA: one round trip less, and nothing follows STLS before its
         * answer, so this is not the pattern STARTTLS injection is made of. (The injection
         * probe reads CAPA first: it wants to know whether STLS is offered.) */
        if (s->spec->security == MS_SECURITY_STARTTLS && !s->spec->injection_probe) {
            ms_session_send(s, "STLS");
            s->starttls_pipelined = true;
        }
        return;
    case POP3_CAPA:
        if (r->status == MS_POP3_OK) {
            struct ms_strlist *caps =
                tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
            if (ms_caps_from_pop3(r, caps) < 0) {
                ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing capabilities");
                return;
            }
        }
        after_capa(s, r->status == MS_POP3_OK);
        return;
    case POP3_STLS:
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
        return;
    case POP3_AUTH: on_auth_reply(s, r, text); return;
    case POP3_ACCOUNT: on_account_reply(s, r); return;
    default:
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected response in state %s: %s",
                        pop3_state_names[s->state], text);
        return;
    }
}

/* Which answers are multi-line depends on the command being answered. */
static bool expects_multiline(const struct ms_session *s)
{
    if (s->state == POP3_CAPA)
        return true;
    if (s->state == POP3_ACCOUNT && s->pending_count > 0)
        return strcmp(s->pending[0], "CAPA") == 0 || strncmp(s->pending[0], "TOP", 3) == 0;
    return false;
}

static void pop3_on_input(struct ms_session *s)
{
    while (!s->finished && s->transport == MS_TRANSPORT_OPEN && s->line.in_len > 0) {
        struct ms_pop3_response r;
        size_t used = 0;
        int rc = ms_pop3_parse(s->line.in, s->line.in_len, expects_multiline(s), &r, &used);
        if (rc == MS_EAGAIN)
            return;
        if (rc < 0) {
            ms_session_trace_in(s, s->line.in, s->line.in_len > 200 ? 200 : s->line.in_len);
            if (s->state == POP3_GREETING && rc == MS_EPROTO) {
                ms_session_greeting(s, s->line.in, s->line.in_len);
                ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING,
                                "not a POP3 greeting: \"%s\"", s->res->greeting);
            } else {
                ms_session_fail_parse(s, rc, "a POP3 response");
            }
            return;
        }
        /* TOP's body is the user's mail: never trace it, only its status line. */
        bool private = s->state == POP3_ACCOUNT && s->pending_count > 0 &&
                       strncmp(s->pending[0], "TOP", 3) == 0;
        const char *eol = memchr(s->line.in, '\n', used);
        ms_session_trace_in(s, s->line.in, private && eol ? (size_t)(eol - s->line.in) : used);
        char raw[512];
        size_t raw_len = used < sizeof raw ? used : sizeof raw;
        memcpy(raw, s->line.in, raw_len);
        /* Consume before acting: STLS must see only the bytes after its answer. */
        ms_line_consume(&s->line, used);
        on_response(s, &r, raw, raw_len);
        ms_pop3_response_free(&r);
    }
}

static void pop3_begin(struct ms_session *s)
{
    ms_session_set_state(s, POP3_GREETING, MS_PHASE_GREETING);
}

static bool pop3_on_state_timeout(struct ms_session *s)
{
    if (s->state != POP3_INJECTION_WAIT)
        return false;
    s->res->injection.tested = true;
    quit(s);
    return true;
}

static void pop3_on_tls_up(struct ms_session *s)
{
    if (s->spec->injection_probe) {
        double wait = s->env->request->timeout_s < 2.0 ? s->env->request->timeout_s : 2.0;
        ms_session_set_state_timeout(s, POP3_INJECTION_WAIT, MS_PHASE_STARTTLS, wait);
        return;
    }
    send_command(s, "CAPA", POP3_CAPA, MS_PHASE_CAPABILITY);
}

const struct ms_proto_ops ms_pop3_ops = {
    .state_names = pop3_state_names,
    .max_response = pop3_max_response,
    .begin = pop3_begin,
    .on_input = pop3_on_input,
    .on_tls_up = pop3_on_tls_up,
    .on_auth_turn = pop3_on_auth_turn,
    .on_state_timeout = pop3_on_state_timeout,
};
