/* One endpoint's session: the transport part (resolve -> connect -> [TLS]) shared by
 * both protocols, the I/O pump, the per-state timeout, and the calls a protocol state
 * machine (imap.c, pop3.c) makes. Internal to probe/. */
#ifndef MS_SESSION_H
#define MS_SESSION_H

#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdbool.h>

#include "probe/conn.h"
#include "probe/dns.h"
#include "probe/line.h"
#include "probe/loop.h"
#include "probe/request.h"
#include "probe/result.h"

struct ms_session;

/* What the engine shares with every session. */
struct ms_session_env {
    struct ms_loop *loop;
    struct ms_dns *dns; /* NULL until first needed */
    SSL_CTX *tls_ctx;
    const struct ms_request *request;
    double t0;            /* monotonic start of the run, for trace stamps */
    int64_t started_at;   /* epoch seconds of the run's start */
    size_t open_sessions; /* sessions, checks and discovery not finished yet */
    void (*on_idle)(struct ms_session_env *env); /* open_sessions dropped to 0 */
    int (*need_dns)(struct ms_session_env *env); /* creates env->dns on first use */
    /* Add and start an endpoint found at run time (discovery), its addresses already known
     * (or NULL: resolve or use --resolve). Returns its index in the result, or -1 when the
     * endpoint table is full. */
    long (*add_endpoint)(struct ms_session_env *env, const struct ms_endpoint_spec *spec,
                         const struct ms_dns_answer *known, double resolve_ms);
    struct ms_session *sessions; /* every session, for choosing who signs in */
    size_t session_count;
    bool auth_claimed[2]; /* per protocol: an endpoint is signing in */
};

/* A protocol's hooks. Each is called with the session in a consistent state and may call
 * the ms_session_* functions below, including ones that finish the session. */
struct ms_proto_ops {
    const char *const *state_names;          /* indexed by the protocol's state enum */
    size_t (*max_response)(void);            /* input buffer cap */
    void (*begin)(struct ms_session *s);     /* connected (and implicit TLS up): await greeting */
    void (*on_input)(struct ms_session *s);  /* bytes are buffered in s->line.in */
    void (*on_tls_up)(struct ms_session *s); /* the STARTTLS handshake completed */
    /* A session that waited for its turn to sign in learns it: true = go ahead. */
    void (*on_auth_turn)(struct ms_session *s, bool chosen);
    /* The state's timeout fired; return true when that is an answer, not a failure. */
    bool (*on_state_timeout)(struct ms_session *s);
};

/* Where a session is on the way to signing in (one endpoint per protocol signs in). */
enum ms_auth_turn { MS_AUTH_NOT_YET, MS_AUTH_WAITING, MS_AUTH_DECIDED };

#define MS_SESSION_FILLS_PER_TURN 8 /* buffer reads per readiness event before yielding */

enum ms_transport_state {
    MS_TRANSPORT_IDLE,
    MS_TRANSPORT_RESOLVING,
    MS_TRANSPORT_CONNECTING,
    MS_TRANSPORT_HANDSHAKE,
    MS_TRANSPORT_OPEN, /* the protocol owns the conversation */
    MS_TRANSPORT_CLOSED,
};

/* A connect-only check of one address family, beside the main session. */
struct ms_family_probe {
    struct ms_session *s;
    struct ms_family_check *out; /* res->ipv4 or res->ipv6 */
    int fd;
    struct ms_loop_watch watch;
    struct ms_loop_timer timer;
    double t0;
    bool active;
};

/* A DNS question's link back to its session: the session may end (and its memory go)
 * before the resolver answers, so the answer finds the ticket, not the session. */
struct ms_dns_ticket {
    struct ms_session *s; /* NULL once the session no longer waits */
};

struct ms_session {
    struct ms_session_env *env;
    const struct ms_endpoint_spec *spec;
    struct ms_endpoint_result *res;
    const struct ms_proto_ops *ops;

    enum ms_transport_state transport;
    int state;           /* the protocol's state */
    enum ms_phase phase; /* what a timeout in this state means */
    bool finished;

    int fd;
    SSL *ssl;
    struct ms_line line;
    struct ms_loop_watch watch;
    struct ms_loop_timer timer;  /* the current state's timeout */
    struct ms_loop_timer resume; /* more input is waiting inside OpenSSL */

    struct ms_dns_answer *addrs;  /* owned */
    struct ms_dns_ticket *ticket; /* the question in flight, or NULL */
    struct ms_connector connector;
    struct ms_family_probe family[2]; /* [0] IPv4, [1] IPv6 */
    double t_start, t_phase, t_ready;
    enum ms_auth_turn auth_turn;
    char *auth_pending;      /* a secret reply awaiting the server's "+" (wiped) */
    unsigned auth_step;      /* SASL LOGIN step */
    unsigned challenges;     /* continuation requests seen while signing in */
    int auth_mech;           /* enum ms_sasl_mech, or -1 for IMAP LOGIN / POP3 USER */
    char pending[8][16];     /* commands in flight: IMAP tags / POP3 command names */
    char why[160];           /* a composed reason handed to not_attempted() */
    bool starttls_pipelined; /* STARTTLS/STLS went out with CAPABILITY/CAPA, its answer is next */
    char starttls_tag[16];   /* IMAP: the pipelined STARTTLS's tag */
    size_t pending_count;
    size_t pending_sent; /* POP3: planned commands sent so far */
    unsigned next_tag;   /* IMAP command tags */
    char tag[16];        /* IMAP: the tag awaited */
};

/* Enter a state with its own timeout (seconds) instead of the phase timeout. */
void ms_session_set_state_timeout(struct ms_session *s, int state, enum ms_phase phase,
                                  double timeout);

/* Set up a session for spec writing into res, and start it (resolving or connecting).
 * known: addresses already resolved (resolve_ms is what that took), or NULL.
 * Failures are recorded in res; the session may be finished on return. */
void ms_session_start(struct ms_session *s, struct ms_session_env *env,
                      const struct ms_endpoint_spec *spec, struct ms_endpoint_result *res,
                      const struct ms_dns_answer *known, double resolve_ms);

/* One thing counted in open_sessions is over; calls env->on_idle at zero. */
void ms_session_env_release(struct ms_session_env *env);

/* The run's deadline passed: end the session (charged to its phase) and its checks. */
void ms_session_deadline(struct ms_session *s);

/* Free what the session still holds (after the loop ran). */
void ms_session_cleanup(struct ms_session *s);

/* --- for protocol state machines --- */

/* Enter a protocol state: logs the transition into the trace, records the phase a timeout
 * would be charged to, and re-arms the state's timeout. */
void ms_session_set_state(struct ms_session *s, int state, enum ms_phase phase);

/* Queue one command line (CRLF added) and trace it. */
void ms_session_send(struct ms_session *s, const char *line);

/* The first response line arrived: record the greeting time and the line itself. */
void ms_session_greeting(struct ms_session *s, const char *raw, size_t len);

/* STARTTLS/STLS was accepted: refuse if plaintext bytes already follow the answer
 * (injection), else start the handshake; the protocol's on_tls_up runs when it is done.
 * An injection probe expects its own pipelined command's answer there and drops it. */
void ms_session_start_tls(struct ms_session *s);

/* Queue a command whose tail is secret: the trace shows `visible <redacted>`. */
void ms_session_send_secret(struct ms_session *s, const char *visible, const char *secret);

/* The session reached the point of signing in. Returns 1: sign in now; 0: wait (a better
 * endpoint of the same protocol may still sign in; ops->on_auth_turn will say); -1: another
 * endpoint signs in for this protocol. */
int ms_session_auth_turn(struct ms_session *s);

/* The session will not sign in (no credentials, insecure): let waiting siblings go. */
void ms_session_auth_pass(struct ms_session *s);

/* Whether credentials may be sent here: verified TLS, or --allow-insecure-auth. When not,
 * fills reason. */
bool ms_session_auth_allowed(struct ms_session *s, char *reason, size_t cap);
/* Credentials were given and may go over plaintext (--allow-insecure-auth): an endpoint
 * without STARTTLS still signs in. */
bool ms_session_plaintext_sign_in(const struct ms_session *s);
/* After an accepted sign-in, a query was refused: keep the first refusal's words. */
void ms_session_note_refusal(struct ms_session *s, const char *what, const char *text);
/* The reason for an --auth-mech the server does not announce (names both sides). */
const char *ms_session_forced_not_offered(struct ms_session *s);

/* Record a problem as the endpoint's failure without ending the session (the session goes
 * on, e.g. to sign in on an endpoint the user allowed to be insecure). */
void ms_session_note_failure(struct ms_session *s, enum ms_failure failure, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Trace a received response (raw bytes, sanitized for printing). */
void ms_session_trace_in(struct ms_session *s, const char *raw, size_t len);

/* Record why the session stopped and close it. */
void ms_session_fail(struct ms_session *s, enum ms_failure failure, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The conversation is over: flush what is queued (best effort) and close. */
void ms_session_finish(struct ms_session *s);

/* Map a parser's error code to a failure with the standard wording. */
void ms_session_fail_parse(struct ms_session *s, int rc, const char *what);

#endif
