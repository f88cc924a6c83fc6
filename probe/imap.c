/* The IMAP4 session: greeting -> [CAPABILITY] -> STARTTLS -> TLS -> CAPABILITY -> LOGOUT.
 * One handler per state; the pure parser (imap_parse.c) does all the byte work. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
#include "probe/imap_parse.h"
#include "probe/session.h"
#include "probe/text.h"

enum imap_state {
    IMAP_GREETING,
    IMAP_CAPABILITY,      /* CAPABILITY sent (before or after TLS) */
    IMAP_STARTTLS,        /* STARTTLS sent */
    IMAP_DONE,
};

static const char *const imap_state_names[] = {
    [IMAP_GREETING] = "greeting",
    [IMAP_CAPABILITY] = "capability",
    [IMAP_STARTTLS] = "starttls",
    [IMAP_DONE] = "done",
};

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
    return tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
}

static void mark_caps_read(struct ms_session *s)
{
    if (tls_up(s))
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

/* Capabilities are known (from the greeting or CAPABILITY): take the next step. */
static void caps_known(struct ms_session *s)
{
    mark_caps_read(s);
    if (tls_up(s)) {
        /* Secure means a mail program could use it: TLS up and the certificate verified. */
        s->res->completed_securely = s->res->tls.verified;
        ms_session_set_state(s, IMAP_DONE, MS_PHASE_LOGOUT);
        snprintf(s->tag, sizeof s->tag, "M%u", ++s->next_tag);
        char line[64];
        snprintf(line, sizeof line, "%s LOGOUT", s->tag);
        ms_session_send(s, line);
        ms_session_finish(s);
        return;
    }
    if (!ms_strlist_has(&s->res->caps_before_tls, "STARTTLS")) {
        ms_session_fail(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                        "the server does not offer STARTTLS before sign-in");
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
        ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING,
                        "not an IMAP greeting: \"%s\"", s->res->greeting);
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
}

/* A tagged or untagged response while a command of ours is outstanding. */
static void on_reply(struct ms_session *s, const struct ms_imap_response *r)
{
    char text[300];
    response_text(r, text, sizeof text);
    if (r->kind == MS_IMAP_UNTAGGED) {
        if (r->status == MS_IMAP_STATUS_BYE) {
            ms_session_fail(s, MS_FAILURE_PROTO_BYE, "the server closed the session: %s", text);
            return;
        }
        note_alert(s, r);
        if (s->state == IMAP_CAPABILITY && take_caps(s, r) < 0)
            return;
        return; /* other untagged data is allowed at any time and not needed here */
    }
    if (r->kind == MS_IMAP_CONTINUATION) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "unexpected continuation request (\"+ %s\")", text);
        return;
    }
    if (strcmp(r->tag, s->tag) != 0) {
        char tag[80];
        ms_text_sanitize(tag, sizeof tag, r->tag, strlen(r->tag));
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "tagged response for a command never sent (tag \"%s\", expected \"%s\")",
                        tag, s->tag);
        return;
    }
    if (s->state == IMAP_STARTTLS) {
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
    /* IMAP_CAPABILITY */
    if (r->status != MS_IMAP_STATUS_OK) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "the server answered CAPABILITY with %s %s",
                        status_word(r->status), text);
        return;
    }
    if (take_caps(s, r) < 0) /* a [CAPABILITY] code in the tagged OK counts too */
        return;
    caps_known(s);
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

static void imap_on_tls_up(struct ms_session *s)
{
    send_tagged(s, "CAPABILITY", IMAP_CAPABILITY, MS_PHASE_CAPABILITY);
}

const struct ms_proto_ops ms_imap_ops = {
    .state_names = imap_state_names,
    .max_response = imap_max_response,
    .begin = imap_begin,
    .on_input = imap_on_input,
    .on_tls_up = imap_on_tls_up,
};
