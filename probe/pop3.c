/* The POP3 session: greeting -> CAPA -> STLS -> TLS -> CAPA -> QUIT.
 * One handler per state; the pure parser (pop3_parse.c) does all the byte work. */
#include <stdio.h>
#include <string.h>

#include "probe/caps.h"
#include "probe/pop3_parse.h"
#include "probe/session.h"
#include "probe/text.h"

enum pop3_state {
    POP3_GREETING,
    POP3_CAPA,   /* CAPA sent (before or after TLS) */
    POP3_STLS,   /* STLS sent */
    POP3_DONE,
};

static const char *const pop3_state_names[] = {
    [POP3_GREETING] = "greeting",
    [POP3_CAPA] = "capa",
    [POP3_STLS] = "stls",
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

static void after_capa(struct ms_session *s, bool capa_worked)
{
    if (tls_up(s)) {
        s->res->caps_after_tls_read = capa_worked;
        /* Secure means a mail program could use it: TLS up and the certificate verified. */
        s->res->completed_securely = s->res->tls.verified;
        ms_session_set_state(s, POP3_DONE, MS_PHASE_LOGOUT);
        ms_session_send(s, "QUIT");
        ms_session_finish(s);
        return;
    }
    s->res->caps_before_tls_read = capa_worked;
    /* A server without CAPA (RFC 1939 only) may still know STLS: ask it directly. */
    if (capa_worked && !ms_caps_pop3_find(&s->res->caps_before_tls, "STLS")) {
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
    switch ((enum pop3_state)s->state) {
    case POP3_GREETING:
        ms_session_greeting(s, raw, raw_len);
        if (r->status != MS_POP3_OK) {
            ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING,
                            "the server did not greet with +OK: \"%s\"", s->res->greeting);
            return;
        }
        send_command(s, "CAPA", POP3_CAPA, MS_PHASE_CAPABILITY);
        return;
    case POP3_CAPA:
        if (r->status == MS_POP3_OK) {
            struct ms_strlist *caps = tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
            if (ms_caps_from_pop3(r, caps) < 0) {
                ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing capabilities");
                return;
            }
        } else if (r->status != MS_POP3_ERR) {
            ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected answer to CAPA: %s", text);
            return;
        }
        after_capa(s, r->status == MS_POP3_OK);
        return;
    case POP3_STLS:
        ms_text_sanitize(s->res->starttls_response, sizeof s->res->starttls_response, text,
                         strlen(text));
        if (r->status == MS_POP3_OK) {
            ms_session_start_tls(s);
        } else if (!s->res->caps_before_tls_read) {
            ms_session_fail(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                            "the server knows neither CAPA nor STLS: %s", text);
        } else {
            ms_session_fail(s, MS_FAILURE_STARTTLS_REFUSED, "STLS was refused: %s", text);
        }
        return;
    default:
        return;
    }
}

static void pop3_on_input(struct ms_session *s)
{
    while (!s->finished && s->transport == MS_TRANSPORT_OPEN && s->line.in_len > 0) {
        struct ms_pop3_response r;
        size_t used = 0;
        int rc = ms_pop3_parse(s->line.in, s->line.in_len, s->state == POP3_CAPA, &r, &used);
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
        ms_session_trace_in(s, s->line.in, used);
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

static void pop3_on_tls_up(struct ms_session *s)
{
    send_command(s, "CAPA", POP3_CAPA, MS_PHASE_CAPABILITY);
}

const struct ms_proto_ops ms_pop3_ops = {
    .state_names = pop3_state_names,
    .max_response = pop3_max_response,
    .begin = pop3_begin,
    .on_input = pop3_on_input,
    .on_tls_up = pop3_on_tls_up,
};
