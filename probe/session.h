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
struct ms_http;

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
    /* Optional: session s finished; its facts are final but for family checks still open. */
    void (*on_session_done)(struct ms_session_env *env, struct ms_session *s);
    int (*need_dns)(struct ms_session_env *env); /* creates env->dns on first use */
    /* Add and start an endpoint found at run time (discovery), its addresses already known
     * (or NULL: resolve or use --resolve). Returns its index in the result, or -1 when the
     * endpoint table is full. */
    long (*add_endpoint)(struct ms_session_env *env, const struct ms_endpoint_spec *spec,
                         const struct ms_dns_answer *known,
                         double resolve_ms); /* The main session s advertised password sign-in
                                                before TLS: start the check. */
    void (*plaintext_check)(struct ms_session_env *env, struct ms_session *s);
    struct ms_session *sessions;                  /* every session, for choosing who signs in */
    struct ms_http *http;                         /* autoconfig fetches; NULL until needed */
    int (*need_http)(struct ms_session_env *env); /* creates env->http on first use */
    /* A main session connected (s->addr_index is its address): start what runs beside it
     * on that address or the others (the TLS audit, the address pool). May be NULL. */
    void (*connected)(struct ms_session_env *env, struct ms_session *s);
    size_t session_count;
    bool auth_claimed[MS_PROTOCOL_COUNT]; /* per protocol: an endpoint is signing in */
};

/* A protocol's part in signing in: what the server offers and how the protocol sends the
 * commands. probe/signin.c chooses the mechanism and runs the exchange with these. */
struct ms_signin_ops {
    const char *command_name;  /* the fact's mechanism for the password command: "IMAP LOGIN" */
    bool command_before_login; /* try the password command before SASL LOGIN (POP3 USER/PASS) */
    /* The protocol's words for why nothing was sent. */
    const char *command_not_offered; /* --auth-mech USER, but the command is off */
    const char *no_oauth2;           /* a token, but no OAuth2 mechanism */
    const char *no_password;         /* a password, but no way to send it */
    /* The capabilities were read (false: a POP3 server without CAPA; forcing is trusted). */
    bool (*caps_known)(struct ms_session *s);
    bool (*offers)(struct ms_session *s, const char *mechanism); /* a SASL mechanism */
    bool (*offers_command)(struct ms_session *s);                /* the password command */
    bool (*initial_response_allowed)(struct ms_session *s);      /* IMAP SASL-IR; POP3 always */
    /* Start SASL mechanism; initial_response (secret, base64) or NULL. */
    void (*send_sasl)(
        struct ms_session *s, const char *mechanism,
        const char *initial_response); /* Send the password command after calling ms_signin_started;
                                        * or return why it cannot carry the credentials (*why:
                                        * words) without sending anything. */
    enum ms_auth_skip (*send_command)(struct ms_session *s, const char **why);
    /* The plaintext check: the words of the SASL and password commands ("AUTHENTICATE",
     * "LOGIN"), and sending the password command with a throwaway user and password. */
    const char *sasl_verb, *command_verb;
    void (*send_check_command)(struct ms_session *s, const char *user, const char *password);
    /* The capabilities before TLS offer a way to send a password in the clear. */
    bool (*advertised_before_tls)(struct ms_session *s);
};

/* A protocol's hooks. Each is called with the session in a consistent state and may call
 * the ms_session_* functions below, including ones that finish the session. The shared
 * layers drive them: session.c (transport, the input loop, the STARTTLS decision, TLS up,
 * state timeouts) and signin.c (the sign-in exchange). */
struct ms_proto_ops {
    const char *name;               /* "IMAP", "POP3" (in messages) */
    const char *a_name;             /* "an IMAP", "a POP3" */
    const char *starttls_command;   /* "STARTTLS", "STLS" */
    const char *const *state_names; /* indexed by the protocol's state enum */
    /* The protocol's states the shared layers enter or test. */ int state_greeting, state_starttls,
        state_auth, state_auth_wait, state_injection_wait, state_check;
    size_t state_size;            /* bytes of the protocol's own per-session state (s->proto) */
    size_t (*max_response)(void); /* input buffer cap */
    void (*begin)(struct ms_session *s); /* connected (and implicit TLS up): await greeting */
    /* Parse one reply from buf into the protocol's state: 0 (*used bytes), MS_EAGAIN, or an
     * error. */
    int (*parse)(struct ms_session *s, const char *buf, size_t len, size_t *used);
    /* Cheap: can bytes buf[from..len) complete a reply that starts at buf[0]? (false: wait
     * for more; keeps a reply sent in tiny pieces from being re-parsed at every piece) */
    bool (*may_complete)(struct ms_session *s, const char *buf, size_t len, size_t from);
    /* How many of a parsed reply's used bytes the trace may show (NULL: all). */
    size_t (*traced)(struct ms_session *s, const char *buf, size_t used);
    /* Act on the parsed reply (raw: its first bytes, for the greeting), then free it. */
    void (*on_reply)(struct ms_session *s, const char *raw, size_t raw_len);
    /* The capabilities before TLS: 1 STARTTLS is listed, 0 it is not, -1 unknown (no list). */
    int (*starttls_listed)(struct ms_session *s);
    /* Send STARTTLS (injection: with a harmless second command in the same segment). */
    void (*send_starttls)(struct ms_session *s, bool injection);
    void (*request_caps)(struct ms_session *s); /* TLS is up: ask for the capabilities */
    void (*finish)(struct ms_session *s);       /* LOGOUT / QUIT and close */
    const struct ms_signin_ops *signin;
};

/* Commands in flight: what answer comes next, for pipelined commands. */
#define MS_MAX_COMMANDS 8
enum ms_command_flags {
    MS_CMD_MULTILINE = 1, /* the answer may have several lines (POP3 CAPA, TOP) */
    MS_CMD_PRIVATE = 2,   /* the answer's body is the user's mail: trace its first line only */
};
struct ms_command {
    char tag[16]; /* IMAP tag, "" for untagged protocols */
    int kind;     /* the protocol's command id */
    unsigned flags;
    bool sent;
    /* Called with the command's answer parsed into the protocol's state. */
    void (*done)(struct ms_session *s, const struct ms_command *c);
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
    unsigned auth_step;      /* SASL LOGIN step; POP3 USER/PASS step */
    unsigned challenges;     /* continuation requests seen while signing in */
    int auth_mech;           /* enum ms_sasl_mech, or -1 for the protocol's password command */
    char why[160];           /* a composed reason for not signing in */
    bool starttls_pipelined; /* STARTTLS/STLS went out with CAPABILITY/CAPA, its answer is next */
    size_t scanned;          /* input bytes a parser saw without a complete reply */
    bool check_started;      /* the plaintext sign-in check was started for this endpoint */
    size_t addr_index;       /* the address in addrs the connection went to, once connected */

    struct ms_command commands[MS_MAX_COMMANDS]; /* in flight, oldest first */
    size_t command_count;

    void *proto; /* the protocol's own state (ops->state_size bytes, zeroed) */
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

/* A connection beside an endpoint's main session (injection test, plaintext check, TLS
 * audit, another address of the pool), not the endpoint's own. */
bool ms_session_is_side(const struct ms_endpoint_spec *spec);

/* TLS is up on the session's connection (implicit, or after STARTTLS/STLS). */
static inline bool ms_session_tls_up(const struct ms_session *s)
{
    return s->line.ssl != NULL;
}

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
 * fills reason and *skip. */
bool ms_session_auth_allowed(struct ms_session *s, char *reason, size_t cap,
                             enum ms_auth_skip *skip);
/* Credentials were given and may go over plaintext (--allow-insecure-auth): an endpoint
 * without STARTTLS still signs in. */
bool ms_session_plaintext_sign_in(const struct ms_session *s);
/* After an accepted sign-in, a query was refused: keep the first refusal's words. */
void ms_session_note_refusal(struct ms_session *s, const char *what, const char *text);

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

/* The capabilities before TLS are known: STARTTLS (or its pipelined answer), a plaintext
 * sign-in the user allowed, or the failure "not offered". */
void ms_session_caps_before_tls(struct ms_session *s);

/* Queue a command in flight (not sent: the protocol sends it). Returns it, or NULL after
 * failing the session when too many are in flight. */
struct ms_command *ms_session_command(struct ms_session *s, int kind, const char *tag,
                                      unsigned flags,
                                      void (*done)(struct ms_session *, const struct ms_command *));
/* The oldest command in flight, or NULL. */
const struct ms_command *ms_session_command_next(const struct ms_session *s);
/* Remove the command with this tag (or the oldest when tag is NULL) into *out; false when
 * there is none. */
bool ms_session_command_take(struct ms_session *s, const char *tag, struct ms_command *out);

/* ---- sign-in (probe/signin.c) ---- */

/* After the capabilities over TLS: sign in when asked and allowed, else finish. */
void ms_signin_start(struct ms_session *s);
/* A session that waited for its turn learns it: true = sign in now. */
void ms_signin_turn(struct ms_session *s, bool chosen);
/* The protocol's password command goes out now (from send_command): record it. */
void ms_signin_started(struct ms_session *s);
/* A continuation request ("+ text") while signing in. */
void ms_signin_challenge(struct ms_session *s, const char *text);
/* The server's verdict: record it. Returns true when signed in; else the session ends. */
bool ms_signin_answer(struct ms_session *s, bool ok, const char *status, const char *code,
                      const char *text);
/* Credentials are not sent here: record why and finish. */
void ms_signin_skip(struct ms_session *s, enum ms_auth_skip skip, const char *why);
/* A plaintext-check connection read the capabilities before TLS: take the least intrusive
 * step that shows whether a password would be taken (never the user's credentials). */
void ms_signin_check_plaintext(struct ms_session *s);
/* The server answered the check's step ("+" for a continuation request): record it, cancel
 * a SASL exchange, and finish. */
void ms_signin_check_answer(struct ms_session *s, const char *status, const char *code,
                            const char *text);

#endif
