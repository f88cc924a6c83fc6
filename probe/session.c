#include "probe/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "probe/audit.h"
#include "probe/conn.h"
#include "probe/redact.h"
#include "probe/text.h"
#include "probe/tls.h"
#include "probe/trace.h"

static void on_io(void *arg, unsigned events);
static void on_input(struct ms_session *s);

static double elapsed_ms(double since)
{
    return (ms_loop_now() - since) * 1000.0;
}

static void trace(struct ms_session *s, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void trace(struct ms_session *s, const char *dir, const char *fmt, ...)
{
    if (!s->env->request->trace)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ms_trace_write(s->env->request, s->env->t0, s->res->id, dir, text, strlen(text));
}

/* The server ended TLS because it wants a client certificate: it asked for one and then
 * sent certificate_required (TLS 1.3, after the handshake), or handshake_failure or
 * bad_certificate (TLS 1.2). */
static bool client_cert_refused(const struct ms_tls_facts *t)
{
    enum { HANDSHAKE_FAILURE = 40, BAD_CERTIFICATE = 42, CERTIFICATE_REQUIRED = 116 };
    if (!t->alert_text[0])
        return false;
    return t->alert == CERTIFICATE_REQUIRED ||
           (t->client_cert_requested &&
            (t->alert == HANDSHAKE_FAILURE || t->alert == BAD_CERTIFICATE));
}

/* A failed read or write: a reset is not a close, nor is a refusal for want of a client
 * certificate. */
static enum ms_failure io_failure(const struct ms_session *s, int rc)
{
    if (s->line.ssl && client_cert_refused(&s->res->tls))
        return MS_FAILURE_TLS_CLIENT_CERT;
    return rc == MS_ERESET ? MS_FAILURE_TCP_RESET : MS_FAILURE_PROTO_CLOSED;
}

static void on_timeout(void *arg)
{
    struct ms_session *s = arg;
    if (s->transport == MS_TRANSPORT_OPEN && s->state == s->ops->state_injection_wait) {
        /* Silence inside TLS is the answer: the injected command was dropped. */
        s->res->injection.tested = true;
        s->ops->finish(s);
        return;
    }
    static const enum ms_failure by_phase[] = {
        [MS_PHASE_RESOLVE] = MS_FAILURE_DNS_TIMEOUT,
        [MS_PHASE_CONNECT] = MS_FAILURE_TCP_TIMEOUT,
        [MS_PHASE_TLS] = MS_FAILURE_TLS_TIMEOUT,
    };
    enum ms_failure f =
        (unsigned)s->phase < sizeof by_phase / sizeof by_phase[0] && by_phase[s->phase]
            ? by_phase[s->phase]
            : MS_FAILURE_PROTO_TIMEOUT;
    ms_session_fail(s, f, "no progress within %g s during the %s phase", s->env->request->timeout_s,
                    ms_phase_name(s->phase));
}

static void arm_timeout(struct ms_session *s)
{
    s->t_phase = ms_loop_now();
    if (ms_loop_timer_set(s->env->loop, &s->timer, s->env->request->timeout_s, on_timeout, s) < 0)
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory arming a timer");
}

static void set_transport(struct ms_session *s, enum ms_transport_state t, enum ms_phase phase)
{
    s->transport = t;
    s->phase = phase;
    arm_timeout(s);
}

void ms_session_set_state_timeout(struct ms_session *s, int state, enum ms_phase phase,
                                  double timeout)
{
    ms_session_set_state(s, state, phase);
    if (!s->finished && ms_loop_timer_set(s->env->loop, &s->timer, timeout, on_timeout, s) < 0)
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory arming a timer");
}

void ms_session_set_state(struct ms_session *s, int state, enum ms_phase phase)
{
    if (s->finished)
        return;
    if (state != s->state)
        trace(s, "--", "state %s -> %s", s->ops->state_names[s->state], s->ops->state_names[state]);
    s->state = state;
    s->phase = phase;
    arm_timeout(s);
}

static void close_transport(struct ms_session *s, bool polite)
{
    ms_connector_cancel(&s->connector);
    ms_loop_timer_cancel(s->env->loop, &s->resume);
    ms_loop_unwatch(s->env->loop, &s->watch);
    ms_loop_timer_cancel(s->env->loop, &s->timer);
    if (s->fd >= 0 && polite) {
        /* One best-effort attempt to send the queued LOGOUT/QUIT and a close_notify:
         * waiting for the server's goodbye would only add a round trip. */
        ms_line_flush(&s->line, NULL);
        if (s->ssl)
            SSL_shutdown(s->ssl);
    }
    if (s->ssl) {
        SSL_free(s->ssl);
        s->ssl = NULL;
        s->line.ssl = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    ms_line_free(&s->line);
    s->transport = MS_TRANSPORT_CLOSED;
}

static void auth_poke(struct ms_session_env *env);

static void finish(struct ms_session *s, bool polite)
{
    if (s->finished)
        return;
    close_transport(s, polite);
    s->finished = true;
    /* a server may have echoed the secret in anything it said */
    ms_redact_endpoint(s->env->request->redactor, s->res);
    auth_poke(s->env);
    s->res->timings_ms.total = elapsed_ms(s->t_start);
    if (s->env->on_session_done) /* serve: stream endpoints as they finish */
        s->env->on_session_done(s->env, s);
    ms_session_env_release(s->env);
}

void ms_session_note_failure(struct ms_session *s, enum ms_failure failure, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    s->res->failure = failure;
    s->res->failure_phase = s->phase;
    ms_text_sanitize(s->res->failure_message, sizeof s->res->failure_message, text, strlen(text));
    trace(s, "!!", "%s in %s: %s (going on)", ms_failure_name(failure), ms_phase_name(s->phase),
          s->res->failure_message);
}

void ms_session_fail(struct ms_session *s, enum ms_failure failure, const char *fmt, ...)
{
    if (s->finished)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct ms_endpoint_result *res = s->res;
    res->failure = failure;
    res->failure_phase = s->phase;
    ms_text_sanitize(res->failure_message, sizeof res->failure_message, text, strlen(text));
    res->completed_securely = false;
    /* A STARTTLS endpoint that stays plaintext: say why the credentials were not sent. */
    bool no_tls =
        failure == MS_FAILURE_STARTTLS_NOT_OFFERED || failure == MS_FAILURE_STARTTLS_REFUSED;
    if (no_tls && s->env->request->auth_user && !res->auth.attempted &&
        !res->auth.not_attempted_reason[0]) {
        res->auth.skip = MS_AUTH_SKIP_NO_TLS;
        snprintf(res->auth.not_attempted_reason, sizeof res->auth.not_attempted_reason,
                 "the server offers no way to encrypt this connection; mailscope sends "
                 "credentials only over verified TLS (--allow-insecure-auth overrides)");
    }
    trace(s, "!!", "%s in %s: %s", ms_failure_name(failure), ms_phase_name(s->phase),
          res->failure_message);
    finish(s, false);
}

void ms_session_fail_parse(struct ms_session *s, int rc, const char *what)
{
    if (rc == MS_ENOMEM)
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory parsing %s", what);
    else if (rc == MS_ETOOBIG)
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "%s exceeds the size limit (%zu bytes)",
                        what, s->ops->max_response());
    else
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "%s is not valid protocol syntax", what);
}

void ms_session_finish(struct ms_session *s)
{
    if (s->finished)
        return;
    trace(s, "--", "done");
    s->phase = MS_PHASE_DONE;
    finish(s, true);
}

void ms_session_send(struct ms_session *s, const char *line)
{
    if (s->finished)
        return;
    size_t len = strlen(line);
    if (ms_line_queue(&s->line, line, len) < 0 || ms_line_queue(&s->line, "\r\n", 2) < 0) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory queueing a command");
        return;
    }
    if (s->env->request->trace)
        ms_trace_write(s->env->request, s->env->t0, s->res->id, "C:", line, len);
}

void ms_session_send_secret(struct ms_session *s, const char *visible, const char *secret)
{
    if (s->finished)
        return;
    size_t vlen = strlen(visible);
    if (ms_line_queue(&s->line, visible, vlen) < 0 ||
        ms_line_queue(&s->line, secret, strlen(secret)) < 0 ||
        ms_line_queue(&s->line, "\r\n", 2) < 0) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory queueing a command");
        return;
    }
    if (s->env->request->trace) {
        char shown[300];
        snprintf(shown, sizeof shown, "%s<redacted>", visible);
        ms_trace_write(s->env->request, s->env->t0, s->res->id, "C:", shown, strlen(shown));
    }
}

/* ---- who signs in ---- */

static bool preferred(const struct ms_session *a, const struct ms_session *b)
{
    bool ai = a->spec->security == MS_SECURITY_IMPLICIT,
         bi = b->spec->security == MS_SECURITY_IMPLICIT;
    if (ai != bi)
        return ai; /* implicit TLS first (RFC 8314) */
    return a < b;  /* then the order endpoints were planned in */
}

static int evaluate_turn(struct ms_session *s)
{
    struct ms_session_env *env = s->env;
    int p = s->spec->protocol;
    if (env->auth_claimed[p])
        return -1;
    for (size_t i = 0; i < env->session_count; i++) {
        const struct ms_session *t = &env->sessions[i];
        if (t != s && t->spec && (int)t->spec->protocol == p && !t->finished &&
            t->auth_turn != MS_AUTH_DECIDED && preferred(t, s))
            return 0;
    }
    env->auth_claimed[p] = true;
    return 1;
}

int ms_session_auth_turn(struct ms_session *s)
{
    int turn = evaluate_turn(s);
    s->auth_turn = turn == 0 ? MS_AUTH_WAITING : MS_AUTH_DECIDED;
    s->res->auth.chosen = turn == 1;
    if (turn == 0)
        trace(s, "--", "waiting: a preferred endpoint may sign in first");
    if (turn != 0)
        auth_poke(s->env);
    return turn;
}

void ms_session_auth_pass(struct ms_session *s)
{
    s->auth_turn = MS_AUTH_DECIDED;
    auth_poke(s->env);
}

/* Something changed (a session finished or decided): tell waiting sessions their turn. */
static void auth_poke(struct ms_session_env *env)
{
    for (size_t i = 0; i < env->session_count; i++) {
        struct ms_session *w = &env->sessions[i];
        if (w->finished || w->auth_turn != MS_AUTH_WAITING)
            continue;
        int turn = evaluate_turn(w);
        if (turn == 0)
            continue;
        w->auth_turn = MS_AUTH_DECIDED;
        w->res->auth.chosen = turn == 1;
        ms_signin_turn(w, turn == 1);
    }
}

bool ms_session_plaintext_sign_in(const struct ms_session *s)
{
    return s->env->request->auth_user && s->env->request->allow_insecure_auth;
}

bool ms_session_auth_allowed(struct ms_session *s, char *reason, size_t cap,
                             enum ms_auth_skip *skip)
{
    const struct ms_endpoint_result *res = s->res;
    if (s->env->request->allow_insecure_auth)
        return true;
    if (!s->line.ssl) {
        *skip = MS_AUTH_SKIP_NOT_ENCRYPTED;
        snprintf(reason, cap,
                 "the connection is not encrypted; mailscope sends credentials only "
                 "over verified TLS (--allow-insecure-auth overrides)");
        return false;
    }
    if (!res->tls.verified) {
        *skip = MS_AUTH_SKIP_CERT_UNVERIFIED;
        snprintf(reason, cap,
                 "the certificate did not verify (%s); credentials are sent only over "
                 "verified TLS (--allow-insecure-auth overrides)",
                 res->tls.verify_error);
        return false;
    }
    return true;
}

void ms_session_note_refusal(struct ms_session *s, const char *what, const char *text)
{
    char *dst = s->res->auth.refused_after_login;
    if (dst[0])
        return;
    char raw[400];
    snprintf(raw, sizeof raw, "%s: %s", what, text);
    ms_text_sanitize(dst, sizeof s->res->auth.refused_after_login, raw, strlen(raw));
}

void ms_session_trace_in(struct ms_session *s, const char *raw, size_t len)
{
    if (!s->env->request->trace)
        return;
    /* One trace line per protocol line, as the server sent them. */
    while (len > 0) {
        const char *eol = memchr(raw, '\n', len);
        size_t line = eol ? (size_t)(eol - raw) : len;
        size_t shown = line;
        while (shown > 0 && raw[shown - 1] == '\r')
            shown--;
        ms_trace_write(s->env->request, s->env->t0, s->res->id, "S:", raw, shown);
        size_t step = eol ? line + 1 : line;
        raw += step;
        len -= step;
    }
}

void ms_session_greeting(struct ms_session *s, const char *raw, size_t len)
{
    const char *eol = memchr(raw, '\n', len);
    if (eol)
        len = (size_t)(eol - raw);
    while (len > 0 && raw[len - 1] == '\r')
        len--;
    ms_text_sanitize(s->res->greeting, sizeof s->res->greeting, raw, len);
    s->res->timings_ms.greeting = elapsed_ms(s->t_ready);
}

/* ---- TLS ---- */

static void update_interest(struct ms_session *s, unsigned events)
{
    if (!s->finished && ms_loop_watch(s->env->loop, &s->watch, s->fd, events, on_io, s) < 0)
        ms_session_fail(s, MS_FAILURE_INTERNAL, "cannot watch the socket");
}

/* Send what a protocol hook queued outside the pump, and watch for what comes next. */
static void send_queued(struct ms_session *s)
{
    if (s->finished || s->transport != MS_TRANSPORT_OPEN)
        return;
    struct ms_error err = {0};
    int rc = ms_line_flush(&s->line, &err);
    if (rc < 0 && rc != MS_EAGAIN) {
        ms_session_fail(s, io_failure(s, rc), "%s (during the %s phase)", err.message,
                        ms_phase_name(s->phase));
        return;
    }
    update_interest(s, ms_line_interest(&s->line));
}

static void tls_step(struct ms_session *s)
{
    struct ms_error err = {0};
    unsigned want = 0;
    int rc = ms_tls_handshake(s->ssl, &want, &err);
    if (rc == MS_EAGAIN) {
        update_interest(s, want);
        return;
    }
    s->res->timings_ms.tls =
        (s->res->timings_ms.tls < 0 ? 0 : s->res->timings_ms.tls) + elapsed_ms(s->t_phase);
    if (rc < 0 && client_cert_refused(&s->res->tls)) {
        snprintf(s->res->tls.handshake_error, sizeof s->res->tls.handshake_error, "%.255s",
                 err.message);
        ms_session_fail(s, MS_FAILURE_TLS_CLIENT_CERT,
                        "the server asked for a client certificate and ended the handshake "
                        "(TLS alert: %s)",
                        s->res->tls.alert_text);
        return;
    }
    if (rc == MS_ERESET) {
        ms_session_fail(s, MS_FAILURE_TCP_RESET, "%s", err.message);
        return;
    }
    if (rc < 0) {
        snprintf(s->res->tls.handshake_error, sizeof s->res->tls.handshake_error, "%.255s",
                 err.message);
        ms_session_fail(s, MS_FAILURE_TLS_HANDSHAKE, "TLS handshake failed: %s", err.message);
        return;
    }
    ms_tls_collect_facts(s->ssl, s->spec->host, s->env->started_at, &s->res->tls);
    trace(s, "--", "TLS up: %s %s, certificate %s", s->res->tls.version, s->res->tls.cipher,
          s->res->tls.verified ? "verified" : s->res->tls.verify_error);
    if (s->spec->tls_probe) {
        /* An audit handshake: what it says is all it is for. */
        ms_tls_probe_tls_up(s->spec->tls_probe, s->ssl, s->env->started_at);
        ms_session_finish(s);
        return;
    }
    s->line.ssl = s->ssl;
    s->transport = MS_TRANSPORT_OPEN;
    update_interest(s, MS_LOOP_READ);
    if (s->spec->security == MS_SECURITY_IMPLICIT) {
        s->t_ready = ms_loop_now();
        s->ops->begin(s);
    } else if (s->spec->injection_probe) {
        /* Nothing is sent inside TLS: an answer now is to the injected command. */
        double wait = s->env->request->timeout_s < 2.0 ? s->env->request->timeout_s : 2.0;
        ms_session_set_state_timeout(s, s->ops->state_injection_wait, MS_PHASE_STARTTLS, wait);
    } else {
        s->ops->request_caps(s);
    }
    send_queued(s);
    /* TLS 1.3 servers often send the greeting in the same flight as the handshake's end:
     * those bytes may already sit in OpenSSL's buffer, where epoll cannot see them. */
    if (!s->finished && SSL_pending(s->ssl) > 0)
        on_io(s, MS_LOOP_READ);
}

static void start_handshake(struct ms_session *s)
{
    const struct ms_tls_probe *probe = s->spec->tls_probe;
    SSL_CTX *ctx = probe ? ms_tls_probe_ctx(probe) : s->env->tls_ctx;
    if (ms_tls_new(ctx, s->fd, s->spec->host, &s->res->tls, &s->ssl) < 0) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "cannot create a TLS session");
        return;
    }
    if (probe && ms_tls_probe_setup(probe, s->ssl) < 0) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "this OpenSSL refused the audit's settings");
        return;
    }
    trace(s, "--", "TLS handshake");
    set_transport(s, MS_TRANSPORT_HANDSHAKE, MS_PHASE_TLS);
    tls_step(s);
}

void ms_session_start_tls(struct ms_session *s)
{
    if (s->finished)
        return;
    if (s->line.in_len > 0 && s->spec->injection_probe) {
        char sample[120];
        ms_text_sanitize(sample, sizeof sample, s->line.in, s->line.in_len);
        snprintf(s->res->injection.note, sizeof s->res->injection.note,
                 "the server answered the pipelined command in plaintext before TLS (\"%s\")",
                 sample);
        ms_line_consume(&s->line, s->line.in_len);
    } else if (s->line.in_len > 0) {
        char sample[120];
        ms_text_sanitize(sample, sizeof sample, s->line.in, s->line.in_len);
        ms_session_fail(s, MS_FAILURE_STARTTLS_INJECTED,
                        "%zu plaintext bytes followed the server's STARTTLS answer before the "
                        "TLS handshake (\"%s\"): someone may be injecting responses",
                        s->line.in_len, sample);
        return;
    }
    if (ms_line_flush(&s->line, NULL) != 0) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "unsent bytes before the TLS handshake");
        return;
    }
    start_handshake(s);
}

/* ---- the STARTTLS decision ---- */

void ms_session_caps_before_tls(struct ms_session *s)
{
    const struct ms_proto_ops *ops = s->ops;
    if (s->spec->plaintext_check) {
        ms_signin_check_plaintext(s);
        return;
    }
    /* Password sign-in advertised before TLS: does the server really take it? */
    if (!ms_session_is_side(s->spec) && !s->env->request->no_plaintext_check &&
        s->env->plaintext_check && !s->check_started && ops->signin->advertised_before_tls(s)) {
        s->check_started = true;
        s->env->plaintext_check(s->env, s);
    }
    int listed = ops->starttls_listed(s);
    bool plaintext_ok = ms_session_plaintext_sign_in(s);
    if (s->starttls_pipelined && (listed != 0 || plaintext_ok)) {
        /* STARTTLS went out with the capability request: its answer is next. */
        ms_session_set_state(s, ops->state_starttls, MS_PHASE_STARTTLS);
        return;
    }
    s->starttls_pipelined = false; /* not offered: no need to wait for its refusal */
    if (s->spec->injection_probe) {
        if (listed == 0) {
            snprintf(s->res->injection.note, sizeof s->res->injection.note, "%s is not offered",
                     ops->starttls_command);
            ops->finish(s);
            return;
        }
        ops->send_starttls(s, true);
        return;
    }
    if (listed == 0) {
        if (plaintext_ok) {
            /* The user accepted a plaintext sign-in: say what is wrong and go on. */
            ms_session_note_failure(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                                    "the server does not offer %s before sign-in",
                                    ops->starttls_command);
            ms_signin_start(s);
            return;
        }
        ms_session_fail(s, MS_FAILURE_STARTTLS_NOT_OFFERED,
                        "the server does not offer %s before sign-in", ops->starttls_command);
        return;
    }
    ops->send_starttls(s, false);
}

/* ---- commands in flight ---- */

struct ms_command *ms_session_command(struct ms_session *s, int kind, const char *tag,
                                      unsigned flags,
                                      void (*done)(struct ms_session *, const struct ms_command *))
{
    if (s->command_count >= MS_MAX_COMMANDS) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "too many commands in flight");
        return NULL;
    }
    struct ms_command *c = &s->commands[s->command_count++];
    *c = (struct ms_command){.kind = kind, .flags = flags, .done = done};
    snprintf(c->tag, sizeof c->tag, "%s", tag ? tag : "");
    return c;
}

const struct ms_command *ms_session_command_next(const struct ms_session *s)
{
    return s->command_count ? &s->commands[0] : NULL;
}

bool ms_session_command_take(struct ms_session *s, const char *tag, struct ms_command *out)
{
    for (size_t i = 0; i < s->command_count; i++) {
        if (tag && strcmp(s->commands[i].tag, tag) != 0)
            continue;
        *out = s->commands[i];
        memmove(&s->commands[i], &s->commands[i + 1],
                (s->command_count - i - 1) * sizeof s->commands[0]);
        s->command_count--;
        return true;
    }
    return false;
}

/* ---- input: one reply at a time, through the protocol's parser ---- */

static void on_input(struct ms_session *s)
{
    const struct ms_proto_ops *ops = s->ops;
    while (!s->finished && s->transport == MS_TRANSPORT_OPEN && s->line.in_len > 0) {
        /* Bytes a parser already saw as incomplete are parsed again only when the new
         * ones can complete the reply: the cost stays linear however the server slices it. */
        if (s->scanned > 0 && s->scanned < s->line.in_len && s->line.in_len < s->line.in_max &&
            !ops->may_complete(s, s->line.in, s->line.in_len, s->scanned))
            return;
        size_t used = 0;
        int rc = ops->parse(s, s->line.in, s->line.in_len, &used);
        if (rc == MS_EAGAIN) {
            s->scanned = s->line.in_len;
            return;
        }
        s->scanned = 0;
        if (rc < 0) {
            ms_session_trace_in(s, s->line.in, s->line.in_len > 200 ? 200 : s->line.in_len);
            if (s->state == ops->state_greeting && rc == MS_EPROTO) {
                ms_session_greeting(s, s->line.in, s->line.in_len);
                ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING, "not %s greeting: \"%s\"",
                                ops->a_name, s->res->greeting);
            } else {
                char what[32];
                snprintf(what, sizeof what, "%s response", ops->a_name);
                ms_session_fail_parse(s, rc, what);
            }
            return;
        }
        ms_session_trace_in(s, s->line.in, ops->traced ? ops->traced(s, s->line.in, used) : used);
        /* Consume before acting: STARTTLS must see only the bytes after its answer. */
        char raw[512];
        size_t raw_len = used < sizeof raw ? used : sizeof raw;
        memcpy(raw, s->line.in, raw_len);
        ms_line_consume(&s->line, used);
        ops->on_reply(s, raw, raw_len);
    }
}

/* ---- the I/O pump ---- */

static void on_resume(void *arg)
{
    on_io(arg, MS_LOOP_READ);
}

/* Read what is there and hand it to the protocol, but at most a few buffers per turn: a
 * server that floods must not starve the loop (and with it every timeout and the
 * deadline). epoll reports the socket again; bytes OpenSSL already holds do not wake
 * epoll, so they get a zero-delay timer. */
static void pump_input(struct ms_session *s)
{
    bool fresh = false;
    for (int fills = 0;; fills++) {
        struct ms_error err = {0};
        if (fills >= MS_SESSION_FILLS_PER_TURN) {
            if (fresh)
                on_input(s);
            if (!s->finished && s->transport == MS_TRANSPORT_OPEN && s->line.ssl &&
                SSL_pending(s->line.ssl) > 0 &&
                ms_loop_timer_set(s->env->loop, &s->resume, 0, on_resume, s) < 0)
                ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory arming a timer");
            return;
        }
        int rc = ms_line_fill(&s->line, &err);
        if (rc > 0) {
            fresh = true;
            continue;
        }
        if (fresh || rc == MS_ETOOBIG) {
            on_input(s);
            if (s->finished || s->transport != MS_TRANSPORT_OPEN)
                return;
            fresh = false;
            if (rc == MS_ETOOBIG) {
                if (s->line.in_len >= s->line.in_max) {
                    ms_session_fail_parse(s, MS_ETOOBIG, "a server response");
                    return;
                }
                continue;
            }
        }
        if (rc == MS_EAGAIN)
            return;
        if (rc == MS_ENOMEM)
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory reading a response");
        else
            ms_session_fail(s, io_failure(s, rc), "%s (during the %s phase)", err.message,
                            ms_phase_name(s->phase));
        return;
    }
}

static void pump(struct ms_session *s, unsigned events)
{
    struct ms_error err = {0};
    if ((events & MS_LOOP_WRITE) || s->line.want_read_for_write) {
        int rc = ms_line_flush(&s->line, &err);
        if (rc < 0 && rc != MS_EAGAIN) {
            ms_session_fail(s, MS_FAILURE_PROTO_CLOSED, "%s (during the %s phase)", err.message,
                            ms_phase_name(s->phase));
            return;
        }
    }
    if (events & MS_LOOP_READ)
        pump_input(s);
    if (s->finished || s->transport != MS_TRANSPORT_OPEN)
        return;
    /* Send what the protocol queued in answer. */
    int rc = ms_line_flush(&s->line, &err);
    if (rc < 0 && rc != MS_EAGAIN) {
        ms_session_fail(s, io_failure(s, rc), "%s (during the %s phase)", err.message,
                        ms_phase_name(s->phase));
        return;
    }
    update_interest(s, ms_line_interest(&s->line));
}

/* ---- connect ---- */

static void on_connected(struct ms_session *s)
{
    s->res->timings_ms.connect = elapsed_ms(s->t_phase);
    trace(s, "--", "connected to %s", s->res->address);
    if (!ms_session_is_side(s->spec) && s->env->connected)
        s->env->connected(s->env, s);
    ms_line_init(&s->line, s->fd, s->ops->max_response());
    if (s->spec->security == MS_SECURITY_IMPLICIT) {
        start_handshake(s);
        return;
    }
    s->transport = MS_TRANSPORT_OPEN;
    s->t_ready = ms_loop_now();
    update_interest(s, MS_LOOP_READ);
    s->ops->begin(s);
    send_queued(s);
}

static void on_connect_attempt(void *arg, size_t index)
{
    struct ms_session *s = arg;
    /* Until one connects, the report names the address tried last. */
    ms_conn_format_address((struct sockaddr *)&s->addrs->addrs[index], s->res->address,
                           sizeof s->res->address);
    trace(s, "--", "connecting to %s port %u", s->res->address, (unsigned)s->spec->port);
}

static void on_connect_done(void *arg, int fd, size_t index, int err, const char *errors)
{
    struct ms_session *s = arg;
    if (fd < 0 && ms_conn_failure(err) == MS_FAILURE_TCP_RESET) {
        /* The handshake completed, then the server reset: it was reached, and said no. */
        s->res->timings_ms.connect = elapsed_ms(s->t_phase);
        s->phase = MS_PHASE_GREETING;
        ms_session_fail(s, MS_FAILURE_TCP_RESET,
                        "the server accepted the connection to port %u, then reset it: %s",
                        (unsigned)s->spec->port, errors);
        return;
    }
    if (fd < 0) {
        ms_session_fail(s, ms_conn_failure(err), "cannot connect to port %u: %s",
                        (unsigned)s->spec->port, errors);
        return;
    }
    s->fd = fd;
    s->addr_index = index;
    ms_conn_format_address((struct sockaddr *)&s->addrs->addrs[index], s->res->address,
                           sizeof s->res->address);
    on_connected(s);
}

/* ---- per-family checks ---- */

static void family_end(struct ms_family_probe *p, enum ms_failure failure, const char *message)
{
    if (!p->active)
        return;
    p->active = false;
    ms_loop_unwatch(p->s->env->loop, &p->watch);
    ms_loop_timer_cancel(p->s->env->loop, &p->timer);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->out->failure = failure;
    p->out->connect_ms = failure == MS_FAILURE_NONE ? elapsed_ms(p->t0) : -1;
    snprintf(p->out->message, sizeof p->out->message, "%s", message);
    trace(p->s, "--", "family check %s: %s", p->out->address, failure ? message : "connected");
    ms_session_env_release(p->s->env);
}

static void on_family_io(void *arg, unsigned events)
{
    (void)events;
    struct ms_family_probe *p = arg;
    int err = ms_conn_result(p->fd);
    family_end(p, err ? ms_conn_failure(err) : MS_FAILURE_NONE, err ? strerror(err) : "connected");
}

static void on_family_timeout(void *arg)
{
    family_end(arg, MS_FAILURE_TCP_TIMEOUT, "no answer to the connection attempt");
}

static void family_start(struct ms_session *s, struct ms_family_probe *p,
                         struct ms_family_check *out, size_t index)
{
    *p = (struct ms_family_probe){.s = s, .out = out, .fd = -1, .t0 = ms_loop_now()};
    ms_loop_watch_init(&p->watch);
    ms_loop_timer_init(&p->timer);
    out->tried = true;
    out->connect_ms = -1;
    out->failure = MS_FAILURE_TCP_TIMEOUT; /* until it answers */
    ms_conn_format_address((struct sockaddr *)&s->addrs->addrs[index], out->address,
                           sizeof out->address);
    p->active = true;
    s->env->open_sessions++;
    int fd = ms_conn_open(&s->env->request->policy, (struct sockaddr *)&s->addrs->addrs[index],
                          s->addrs->addr_lens[index]);
    if (fd == -ENETUNREACH || fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT) {
        /* This machine has no route for the family: that says nothing about the server. */
        family_end(p, MS_FAILURE_NONE,
                   "not checked: this machine has no route for this address family");
        out->tried = false;
        return;
    }
    if (fd < 0) {
        family_end(p, ms_conn_failure(-fd), ms_conn_strerror(-fd));
        return;
    }
    p->fd = fd;
    if (ms_loop_watch(s->env->loop, &p->watch, fd, MS_LOOP_WRITE, on_family_io, p) < 0 ||
        ms_loop_timer_set(s->env->loop, &p->timer, s->env->request->timeout_s, on_family_timeout,
                          p) < 0)
        family_end(p, MS_FAILURE_INTERNAL, "cannot watch the socket");
}

/* When the host has both families, check each one's first address on its own, so the
 * report can say "IPv6 is broken" even when Happy Eyeballs hid it. */
static void start_family_checks(struct ms_session *s)
{
    long first[2] = {-1, -1};
    for (size_t i = 0; i < s->addrs->count; i++) {
        int fam = s->addrs->addrs[i].ss_family == AF_INET6 ? 1 : 0;
        if (first[fam] < 0)
            first[fam] = (long)i;
    }
    if (first[0] < 0 || first[1] < 0)
        return;
    family_start(s, &s->family[0], &s->res->ipv4, (size_t)first[0]);
    family_start(s, &s->family[1], &s->res->ipv6, (size_t)first[1]);
}

static void connect_start(struct ms_session *s)
{
    set_transport(s, MS_TRANSPORT_CONNECTING, MS_PHASE_CONNECT);
    ms_conn_interleave(s->addrs);
    ms_connector_start(&s->connector, s->env->loop, s->addrs, s->spec->port,
                       &s->env->request->policy, on_connect_done, on_connect_attempt, s);
    if (!ms_session_is_side(s->spec)) /* the main session's job */
        start_family_checks(s);
}

static void on_io(void *arg, unsigned events)
{
    struct ms_session *s = arg;
    switch (s->transport) {
    case MS_TRANSPORT_HANDSHAKE: tls_step(s); break;
    case MS_TRANSPORT_OPEN: pump(s, events); break;
    default: break;
    }
}

/* ---- resolve ---- */

static void record_addresses(struct ms_session *s)
{
    for (size_t i = 0; i < s->addrs->count; i++) {
        char text[64];
        ms_conn_format_address((struct sockaddr *)&s->addrs->addrs[i], text, sizeof text);
        if (ms_strlist_append(&s->res->addresses, text, strlen(text), MS_MAX_ADDRESSES) < 0) {
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory");
            return;
        }
    }
}

static void addresses_ready(struct ms_session *s)
{
    record_addresses(s);
    if (!s->finished)
        connect_start(s);
}

static void on_resolved(void *arg, enum ms_dns_status status, const struct ms_dns_answer *answer)
{
    struct ms_dns_ticket *ticket = arg;
    struct ms_session *s = ticket->s;
    free(ticket);
    if (!s)
        return; /* the session ended while the resolver worked */
    s->ticket = NULL;
    if (status == MS_DNS_CANCELLED || s->finished || s->transport != MS_TRANSPORT_RESOLVING)
        return;
    s->res->timings_ms.resolve = elapsed_ms(s->t_start);
    const char *host = s->spec->host;
    const char *why = answer ? answer->message : "";
    switch (status) {
    case MS_DNS_OK: break;
    case MS_DNS_NO_SUCH_HOST:
        ms_session_fail(s, MS_FAILURE_DNS_NO_SUCH_HOST, "%s does not exist in DNS (NXDOMAIN)",
                        host);
        return;
    case MS_DNS_NO_ADDRESS:
        ms_session_fail(s, MS_FAILURE_DNS_NO_ADDRESS, "%s exists but has no %s address", host,
                        s->env->request->family == MS_FAMILY_IPV4   ? "IPv4 (A)"
                        : s->env->request->family == MS_FAMILY_IPV6 ? "IPv6 (AAAA)"
                                                                    : "A or AAAA");
        return;
    case MS_DNS_TIMEOUT:
        ms_session_fail(s, MS_FAILURE_DNS_TIMEOUT, "no DNS answer for %s", host);
        return;
    default: ms_session_fail(s, MS_FAILURE_DNS_ERROR, "resolving %s failed: %s", host, why); return;
    }
    s->addrs = malloc(sizeof *s->addrs);
    if (!s->addrs) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory");
        return;
    }
    *s->addrs = *answer;
    addresses_ready(s);
}

static bool family_allowed(const struct ms_session *s, int af)
{
    enum ms_family f = s->env->request->family;
    return f == MS_FAMILY_ANY || (f == MS_FAMILY_IPV4 && af == AF_INET) ||
           (f == MS_FAMILY_IPV6 && af == AF_INET6);
}

/* Add a literal address; returns false when it is not an IP literal. */
static bool add_literal(struct ms_session *s, const char *text)
{
    struct ms_dns_answer *a = s->addrs;
    if (a->count >= MS_DNS_MAX_ADDRESSES)
        return true;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&a->addrs[a->count];
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->addrs[a->count];
    memset(&a->addrs[a->count], 0, sizeof a->addrs[a->count]);
    if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        a->addr_lens[a->count] = sizeof *in4;
    } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        a->addr_lens[a->count] = sizeof *in6;
    } else {
        return false;
    }
    if (family_allowed(s, a->addrs[a->count].ss_family))
        a->count++;
    return true;
}

/* IP literals and --resolve pins need no DNS. Returns true when handled. */
static bool use_known_addresses(struct ms_session *s)
{
    const struct ms_request *req = s->env->request;
    /* An IP literal is its own address; otherwise every --resolve pin for the host. */
    bool known = add_literal(s, s->spec->host);
    for (size_t i = 0; !known && i < req->pin_count; i++)
        if (strcasecmp(req->pins[i].host, s->spec->host) == 0)
            add_literal(s, req->pins[i].address);
    for (size_t i = 0; !known && i < req->pin_count; i++)
        if (strcasecmp(req->pins[i].host, s->spec->host) == 0)
            known = true;
    if (!known)
        return false;
    s->res->timings_ms.resolve = 0;
    if (s->addrs->count == 0) {
        ms_session_fail(s, MS_FAILURE_DNS_NO_ADDRESS,
                        "%s has no address of the family allowed (-4/-6)", s->spec->host);
        return true;
    }
    trace(s, "--", "address known without DNS (IP literal or --resolve)");
    addresses_ready(s);
    return true;
}

static void format_id(const struct ms_endpoint_spec *spec, char *id, size_t cap)
{
    static const char *const schemes[MS_PROTOCOL_COUNT][3] = {
        [MS_PROTOCOL_IMAP] = {[MS_SECURITY_IMPLICIT] = "imaps",
                              [MS_SECURITY_STARTTLS] = "imap",
                              [MS_SECURITY_NONE] = "imap+plain"},
        [MS_PROTOCOL_POP3] = {[MS_SECURITY_IMPLICIT] = "pop3s",
                              [MS_SECURITY_STARTTLS] = "pop3",
                              [MS_SECURITY_NONE] = "pop3+plain"},
        [MS_PROTOCOL_SUBMISSION] = {[MS_SECURITY_IMPLICIT] = "submissions",
                                    [MS_SECURITY_STARTTLS] = "submission",
                                    [MS_SECURITY_NONE] = "submission+plain"},
    };
    bool v6 = strchr(spec->host, ':') != NULL;
    const char *scheme = spec->smtp_url ? "smtp" : schemes[spec->protocol][spec->security];
    snprintf(id, cap, "%s://%s%s%s:%u%s%s", scheme, v6 ? "[" : "", spec->host, v6 ? "]" : "",
             (unsigned)spec->port,
             spec->injection_probe   ? "#injection-test"
             : spec->plaintext_check ? "#plaintext-check"
             : spec->side_label      ? "#"
                                     : "",
             spec->side_label && !spec->injection_probe && !spec->plaintext_check ? spec->side_label
                                                                                  : "");
}

void ms_session_start(struct ms_session *s, struct ms_session_env *env,
                      const struct ms_endpoint_spec *spec, struct ms_endpoint_result *res,
                      const struct ms_dns_answer *known, double resolve_ms)
{
    extern const struct ms_proto_ops ms_imap_ops, ms_pop3_ops, ms_smtp_ops;
    static const struct ms_proto_ops *const ops[MS_PROTOCOL_COUNT] = {
        [MS_PROTOCOL_IMAP] = &ms_imap_ops,
        [MS_PROTOCOL_POP3] = &ms_pop3_ops,
        [MS_PROTOCOL_SUBMISSION] = &ms_smtp_ops,
    };
    *s = (struct ms_session){.env = env, .spec = spec, .res = res, .fd = -1};
    s->ops = ops[spec->protocol];
    s->auth_mech = -1;
    ms_loop_watch_init(&s->watch);
    ms_loop_timer_init(&s->timer);
    ms_loop_timer_init(&s->resume);
    s->t_start = ms_loop_now();
    env->open_sessions++;

    format_id(spec, res->id, sizeof res->id);
    res->protocol = spec->protocol;
    res->security = spec->security;
    res->port = spec->port;
    res->required = spec->required;
    res->smtp_url = spec->smtp_url;
    res->source = spec->source;
    snprintf(res->source_name, sizeof res->source_name, "%s", spec->source_name);
    res->srv_priority = spec->srv_priority;
    res->srv_weight = spec->srv_weight;
    snprintf(res->host, sizeof res->host, "%s", spec->host);
    res->timings_ms = (struct ms_timings){-1, -1, -1, -1, -1};
    res->account.inbox_messages = res->account.inbox_unseen = -1;
    res->account.quota_storage_used_kb = res->account.quota_storage_limit_kb = -1;
    res->account.pop3_messages = -1;
    res->account.pop3_octets = -1;
    res->account.pop3_expire_days = -2;
    res->account.pop3_login_delay_s = -1;
    res->auth.wanted = env->request->auth_user != NULL;
    res->failure_phase = MS_PHASE_RESOLVE;

    s->proto = calloc(1, s->ops->state_size);
    s->addrs = calloc(1, sizeof *s->addrs);
    if (!s->addrs || !s->proto) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory");
        return;
    }
    if (known) {
        *s->addrs = *known;
        res->timings_ms.resolve = resolve_ms;
        s->t_start -= resolve_ms / 1000.0; /* the total includes the lookup done for it */
        addresses_ready(s);
        return;
    }
    if (use_known_addresses(s))
        return;
    free(s->addrs);
    s->addrs = NULL;
    set_transport(s, MS_TRANSPORT_RESOLVING, MS_PHASE_RESOLVE);
    trace(s, "--", "resolving %s", spec->host);
    if (env->need_dns(env) < 0) {
        ms_session_fail(s, MS_FAILURE_DNS_ERROR, "cannot start the DNS resolver");
        return;
    }
    s->ticket = malloc(sizeof *s->ticket);
    if (!s->ticket) {
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory");
        return;
    }
    s->ticket->s = s;
    if (ms_dns_resolve(env->dns, spec->host, env->request->family, on_resolved, s->ticket) < 0) {
        free(s->ticket);
        s->ticket = NULL;
        ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory");
    }
}

void ms_session_deadline(struct ms_session *s)
{
    for (int i = 0; i < 2; i++)
        family_end(&s->family[i], MS_FAILURE_TCP_TIMEOUT, "no answer before the run's deadline");
    if (s->finished)
        return;
    enum ms_failure f = s->phase == MS_PHASE_RESOLVE   ? MS_FAILURE_DNS_TIMEOUT
                        : s->phase == MS_PHASE_CONNECT ? MS_FAILURE_TCP_TIMEOUT
                        : s->phase == MS_PHASE_TLS     ? MS_FAILURE_TLS_TIMEOUT
                                                       : MS_FAILURE_PROTO_TIMEOUT;
    ms_session_fail(s, f, "the run's deadline (%g s) passed during the %s phase",
                    s->env->request->deadline_s, ms_phase_name(s->phase));
}

bool ms_session_is_side(const struct ms_endpoint_spec *spec)
{
    return spec->injection_probe || spec->plaintext_check || spec->tls_probe || spec->pool_member;
}

void ms_session_env_release(struct ms_session_env *env)
{
    if (--env->open_sessions == 0 && env->on_idle)
        env->on_idle(env);
}

void ms_session_cleanup(struct ms_session *s)
{
    if (s->ticket) {
        s->ticket->s = NULL; /* the resolver's answer, if it ever comes, frees it */
        s->ticket = NULL;
    }
    if (s->auth_pending) {
        explicit_bzero(s->auth_pending, strlen(s->auth_pending));
        free(s->auth_pending);
        s->auth_pending = NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (s->family[i].active) {
            ms_loop_unwatch(s->env->loop, &s->family[i].watch);
            ms_loop_timer_cancel(s->env->loop, &s->family[i].timer);
            if (s->family[i].fd >= 0)
                close(s->family[i].fd);
        }
        s->family[i].fd = -1;
        s->family[i].active = false;
    }
    if (!s->finished)
        close_transport(s, false);
    free(s->addrs);
    s->addrs = NULL;
    free(s->proto);
    s->proto = NULL;
}
