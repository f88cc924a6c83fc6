/* The SMTP submission session (RFC 6409, 8314): greeting -> EHLO -> STARTTLS -> TLS -> EHLO
 * -> [AUTH] -> QUIT, or with implicit TLS (465) greeting -> EHLO -> [AUTH] -> QUIT. Never
 * MAIL, RCPT, DATA or BDAT: no mail is sent. What is SMTP's own lives here: its states,
 * replies, EHLO and words; the transport, the STARTTLS decision and the sign-in exchange
 * are shared (session.c, signin.c); the pure parser (smtp_parse.c) does the bytes.
 * EHLO is never pipelined with STARTTLS (RFC 2920 3.1): the capabilities must be known. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "probe/caps.h"
#include "probe/session.h"
#include "probe/smtp_parse.h"
#include "probe/text.h"

enum smtp_state {
    SMTP_GREETING,
    SMTP_EHLO,            /* EHLO sent (before or after TLS) */
    SMTP_HELO,            /* EHLO refused: HELO sent (no extensions, so no STARTTLS or AUTH) */
    SMTP_STARTTLS,        /* STARTTLS sent */
    SMTP_AUTH_WAIT,       /* waiting to learn whether this endpoint signs in */
    SMTP_AUTH,            /* AUTH sent */
    SMTP_INJECTION_WAIT,  /* injection probe: does the pipelined NOOP get an answer in TLS? */
    SMTP_PLAINTEXT_CHECK, /* plaintext check: AUTH sent before TLS */
    SMTP_DONE,
};

static const char *const smtp_state_names[] = {
    [SMTP_GREETING] = "greeting",
    [SMTP_EHLO] = "ehlo",
    [SMTP_HELO] = "helo",
    [SMTP_STARTTLS] = "starttls",
    [SMTP_AUTH_WAIT] = "auth-wait",
    [SMTP_AUTH] = "auth",
    [SMTP_INJECTION_WAIT] = "injection-wait",
    [SMTP_PLAINTEXT_CHECK] = "plaintext-check",
    [SMTP_DONE] = "done",
};

/* What the protocol keeps per session (s->proto). */
struct smtp {
    struct ms_smtp_reply r; /* the reply being handled */
};

static struct smtp *smtp_of(struct ms_session *s)
{
    return s->proto;
}

static size_t smtp_max_response(void)
{
    return MS_SMTP_MAX_REPLY + 1024;
}

static struct ms_strlist *current_caps(struct ms_session *s)
{
    return ms_session_tls_up(s) ? &s->res->caps_after_tls : &s->res->caps_before_tls;
}

/* "535 5.7.8 words": the reply as quoted, sanitized. */
static void reply_text(const struct ms_smtp_reply *r, char *buf, size_t cap)
{
    char words[400], raw[460];
    ms_smtp_reply_text(r, words, sizeof words);
    snprintf(raw, sizeof raw, "%d%s%s %s", r->code, r->enhanced[0] ? " " : "", r->enhanced, words);
    ms_text_sanitize(buf, cap, raw, strlen(raw));
}

static void send_command(struct ms_session *s, const char *command, enum smtp_state next,
                         enum ms_phase phase)
{
    ms_session_set_state(s, next, phase);
    ms_session_send(s, command);
}

static void quit(struct ms_session *s)
{
    ms_session_set_state(s, SMTP_DONE, MS_PHASE_LOGOUT);
    ms_session_send(s, "QUIT");
    ms_session_finish(s);
}

/* EHLO with our own address as a domain literal (RFC 5321 4.1.3): a client without a DNS
 * name of its own must not invent one. */
static void send_hello(struct ms_session *s, const char *verb, enum smtp_state next)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char addr[INET6_ADDRSTRLEN] = "127.0.0.1", line[96];
    bool v6 = false;
    if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
            if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
                inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], addr, sizeof addr);
            else
                v6 = inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr) != NULL;
        } else if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
        }
    }
    snprintf(line, sizeof line, "%s [%s%s]", verb, v6 ? "IPv6:" : "", addr);
    send_command(s, line, next, MS_PHASE_CAPABILITY);
}

static bool offers_auth(const struct ms_strlist *caps)
{
    char names[1][MS_SMTP_MECH_NAME];
    return ms_caps_smtp_mechs(caps, names, 1) > 0;
}

/* ---- the capabilities ---- */

static void caps_known(struct ms_session *s)
{
    if (ms_session_tls_up(s)) {
        s->res->caps_after_tls_read = true;
        /* Secure means a mail program could use it: TLS up and the certificate verified. */
        s->res->completed_securely = s->res->tls.verified;
        ms_signin_start(s);
        return;
    }
    s->res->caps_before_tls_read = true;
    ms_session_caps_before_tls(s);
}

static void on_hello_answer(struct ms_session *s, const struct ms_smtp_reply *r, const char *text)
{
    if (r->code == 250) {
        if (s->state == SMTP_EHLO && ms_caps_from_smtp(r, current_caps(s)) < 0) {
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory storing capabilities");
            return;
        }
        caps_known(s);
        return;
    }
    if (s->state == SMTP_EHLO && r->code >= 500) {
        /* RFC 5321 4.1.4: a server that knows no EHLO may still know HELO (no extensions) */
        send_hello(s, "HELO", SMTP_HELO);
        return;
    }
    s->res->failure_reply_code = r->code;
    /* 4xx: not now (421 closing, 450 busy); 550/554: not for this client (RFC 5321 4.2.2,
     * 4.3.2). Anything else to a plain HELO is a server that does not speak SMTP properly. */
    bool refused = (r->code >= 400 && r->code < 500) || r->code == 550 || r->code == 554;
    ms_session_fail(s, refused ? MS_FAILURE_PROTO_REFUSED : MS_FAILURE_PROTO_MALFORMED,
                    "the server answered %s with \"%s\"", s->state == SMTP_EHLO ? "EHLO" : "HELO",
                    text);
}

static void on_greeting(struct ms_session *s, const struct ms_smtp_reply *r, const char *raw,
                        size_t raw_len, const char *text)
{
    ms_session_greeting(s, raw, raw_len);
    if (r->code == 554 || r->code == 421) {
        /* 554: no service for this client; 421: busy or shutting down (RFC 5321 3.1) */
        s->res->failure_reply_code = r->code;
        ms_session_fail(s, MS_FAILURE_PROTO_REFUSED, "the server refused the session: \"%s\"",
                        text);
        return;
    }
    if (r->code != 220) {
        ms_session_fail(s, MS_FAILURE_PROTO_UNEXPECTED_GREETING, "not an SMTP greeting: \"%s\"",
                        s->res->greeting);
        return;
    }
    send_hello(s, "EHLO", SMTP_EHLO);
}

static void on_starttls_answer(struct ms_session *s, const struct ms_smtp_reply *r,
                               const char *text)
{
    ms_text_sanitize(s->res->starttls_response, sizeof s->res->starttls_response, text,
                     strlen(text));
    if (r->code == 220) {
        ms_session_start_tls(s);
        return;
    }
    ms_session_fail(s, MS_FAILURE_STARTTLS_REFUSED, "STARTTLS was refused: %s", text);
}

static void on_auth_answer(struct ms_session *s, const struct ms_smtp_reply *r, const char *text)
{
    if (r->code == 334) {
        char challenge[MS_SMTP_MAX_LINE + 1];
        ms_smtp_reply_text(r, challenge, sizeof challenge);
        ms_signin_challenge(s, challenge);
        return;
    }
    if (r->code != 235 && r->code < 400) {
        /* RFC 4954 4: 235 (signed in), 334 (a challenge) or an error; a 250 is not success */
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "the server answered AUTH with \"%s\", which is neither 235 (signed in), "
                        "334 (a challenge) nor an error: not signed in",
                        text);
        return;
    }
    char status[12];
    snprintf(status, sizeof status, "%d", r->code);
    char words[400];
    ms_smtp_reply_text(r, words, sizeof words);
    if (ms_signin_answer(s, r->code == 235, status, r->enhanced, words))
        quit(s); /* signed in: nothing more to read, and nothing is ever sent */
}

static void on_check_answer(struct ms_session *s, const struct ms_smtp_reply *r)
{
    char status[8], words[400];
    snprintf(status, sizeof status, "%d", r->code);
    ms_smtp_reply_text(r, words, sizeof words);
    ms_signin_check_answer(s, r->code == 334 ? "+" : status, r->enhanced, words);
}

static void smtp_on_reply(struct ms_session *s, const char *raw, size_t raw_len)
{
    struct ms_smtp_reply *r = &smtp_of(s)->r;
    char text[400];
    reply_text(r, text, sizeof text);
    switch ((enum smtp_state)s->state) {
    case SMTP_GREETING: on_greeting(s, r, raw, raw_len, text); break;
    case SMTP_EHLO:
    case SMTP_HELO: on_hello_answer(s, r, text); break;
    case SMTP_STARTTLS: on_starttls_answer(s, r, text); break;
    case SMTP_AUTH: on_auth_answer(s, r, text); break;
    case SMTP_PLAINTEXT_CHECK: on_check_answer(s, r); break;
    case SMTP_INJECTION_WAIT: {
        /* Nothing was sent inside TLS yet: any reply is to the injected command. */
        struct ms_injection_facts *inj = &s->res->injection;
        inj->tested = true;
        inj->vulnerable = true;
        snprintf(inj->evidence, sizeof inj->evidence, "%.250s", text);
        quit(s);
        break;
    }
    default:
        if (r->code == 421) { /* the server may close any time with 421 (RFC 5321 3.8) */
            s->res->failure_reply_code = r->code;
            ms_session_fail(s, MS_FAILURE_PROTO_REFUSED, "the server ended the session: \"%s\"",
                            text);
            break;
        }
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED, "unexpected reply in state %s: %s",
                        smtp_state_names[s->state], text);
        break;
    }
    ms_smtp_reply_free(r);
}

static int smtp_parse(struct ms_session *s, const char *buf, size_t len, size_t *used)
{
    int rc = ms_smtp_parse(buf, len, &smtp_of(s)->r, used);
    return rc < 0 ? rc : 0;
}

static bool smtp_may_complete(struct ms_session *s, const char *buf, size_t len, size_t from)
{
    (void)s;
    return ms_smtp_may_complete(buf, len, from);
}

static void smtp_begin(struct ms_session *s)
{
    ms_session_set_state(s, SMTP_GREETING, MS_PHASE_GREETING);
}

static int smtp_starttls_listed(struct ms_session *s)
{
    return ms_caps_smtp_find(&s->res->caps_before_tls, "STARTTLS") ? 1 : 0;
}

static void smtp_send_starttls(struct ms_session *s, bool injection)
{
    send_command(s, "STARTTLS", SMTP_STARTTLS, MS_PHASE_STARTTLS);
    if (injection)
        ms_session_send(s, "NOOP"); /* in the same segment (see imap.c) */
}

static void smtp_request_caps(struct ms_session *s)
{
    send_hello(s, "EHLO", SMTP_EHLO); /* RFC 3207 4.2: forget everything, ask again */
}

/* ---- sign-in: SMTP's part (RFC 4954) ---- */

static bool smtp_caps_known(struct ms_session *s)
{
    return ms_session_tls_up(s) ? s->res->caps_after_tls_read : s->res->caps_before_tls_read;
}

static bool smtp_offers(struct ms_session *s, const char *mechanism)
{
    return ms_caps_smtp_offers(current_caps(s), mechanism);
}

static bool smtp_offers_command(struct ms_session *s)
{
    (void)s;
    return false; /* SMTP has no password command of its own */
}

static bool smtp_initial_response_allowed(struct ms_session *s)
{
    (void)s;
    return true; /* RFC 4954 4: the initial response rides on the AUTH line */
}

static void smtp_send_sasl(struct ms_session *s, const char *mechanism, const char *ir)
{
    char line[64];
    snprintf(line, sizeof line, "AUTH %s%s", mechanism, ir ? " " : "");
    if (ir)
        ms_session_send_secret(s, line, ir);
    else
        ms_session_send(s, line);
}

static enum ms_auth_skip smtp_send_command(struct ms_session *s, const char **why)
{
    (void)s;
    *why = "SMTP has no password command of its own; --auth-mech PLAIN or LOGIN";
    return MS_AUTH_SKIP_FORCED_NOT_OFFERED;
}

static void smtp_send_check_command(struct ms_session *s, const char *user, const char *password)
{
    (void)user;
    (void)password;
    quit(s); /* unreachable: offers_command is false */
}

static bool smtp_advertised_before_tls(struct ms_session *s)
{
    return offers_auth(&s->res->caps_before_tls);
}

static const struct ms_signin_ops smtp_signin = {
    .command_name = "AUTH",
    .command_before_login = false,
    .command_not_offered = "SMTP has no USER command: --auth-mech PLAIN or LOGIN",
    .no_oauth2 = "the server offers no OAuth2 mechanism (AUTH XOAUTH2 or OAUTHBEARER)",
    .no_password = "the server offers no password sign-in (no AUTH PLAIN or LOGIN)",
    .caps_known = smtp_caps_known,
    .offers = smtp_offers,
    .offers_command = smtp_offers_command,
    .initial_response_allowed = smtp_initial_response_allowed,
    .send_sasl = smtp_send_sasl,
    .send_command = smtp_send_command,
    .sasl_verb = "AUTH",
    .command_verb = "",
    .send_check_command = smtp_send_check_command,
    .advertised_before_tls = smtp_advertised_before_tls,
};

const struct ms_proto_ops ms_smtp_ops = {
    .name = "SMTP",
    .a_name = "an SMTP",
    .starttls_command = "STARTTLS",
    .state_names = smtp_state_names,
    .state_greeting = SMTP_GREETING,
    .state_starttls = SMTP_STARTTLS,
    .state_auth = SMTP_AUTH,
    .state_auth_wait = SMTP_AUTH_WAIT,
    .state_injection_wait = SMTP_INJECTION_WAIT,
    .state_check = SMTP_PLAINTEXT_CHECK,
    .state_size = sizeof(struct smtp),
    .max_response = smtp_max_response,
    .begin = smtp_begin,
    .parse = smtp_parse,
    .may_complete = smtp_may_complete,
    .on_reply = smtp_on_reply,
    .starttls_listed = smtp_starttls_listed,
    .send_starttls = smtp_send_starttls,
    .request_caps = smtp_request_caps,
    .finish = quit,
    .signin = &smtp_signin,
};
