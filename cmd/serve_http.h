/* The HTTP front door of `mailscope serve`: libmicrohttpd daemons driven by mailscope's own
 * event loop (MHD_USE_EPOLL without threads: each daemon's epoll fd is a loop watcher,
 * MHD_run runs on readiness, MHD_get_timeout arms a loop timer), a route table, bounded
 * requests (URL, headers, body, time to send them, connections), suspend/resume for
 * answers that wait for a probe, streamed answers, security headers on every response,
 * and the access log (common log format, on stderr).
 *
 * Adding a route: one row in the table given to ms_http_start (see cmd/serve.c). Its
 * handler runs once per request, when the whole request is in; it answers at once with
 * ms_http_respond / ms_http_problem, or calls ms_http_suspend and answers later from any
 * loop callback (the connection is resumed for it), or streams with ms_http_stream_*. */
#ifndef MS_SERVE_HTTP_H
#define MS_SERVE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cmd/version.h"
#include "probe/error.h"
#include "probe/loop.h"

#define MS_HTTP_MAX_LISTEN 8
#define MS_HTTP_MAX_ROUTES 32

/* Every response gets this policy unless its route sets another one. */
#define MS_HTTP_CSP_STRICT                                                                         \
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

enum { MS_HTTP_GET = 1, MS_HTTP_POST = 2 }; /* GET allows HEAD too */

struct ms_http;
struct ms_http_request;

typedef void (*ms_http_handler)(void *app, struct ms_http_request *r);

struct ms_http_route {
    const char *path; /* exact path, or a prefix when it ends with '/' */
    unsigned methods; /* MS_HTTP_GET | MS_HTTP_POST */
    const char *name; /* label in metrics: "check", "probe", "healthz" */
    ms_http_handler handler;
    size_t max_body; /* bytes a request body may have; 0: the server's max_body when the
                        route takes POST, else none */
    const char *csp; /* Content-Security-Policy; NULL: MS_HTTP_CSP_STRICT */
};

/* A listen address: IPv4 "127.0.0.1:PORT" or IPv6 "[::1]:PORT". */
struct ms_http_listen {
    struct sockaddr_storage addr;
    socklen_t len;
    char text[80]; /* as given */
};

struct ms_http_settings {
    struct ms_http_listen listen[MS_HTTP_MAX_LISTEN];
    size_t listen_count;
    const char *tls_cert_pem, *tls_key_pem; /* PEM text; NULL: plain HTTP */
    unsigned max_connections;               /* open connections per listen address */
    unsigned max_connections_per_client;    /* 0: no per-client bound */
    double request_timeout_s; /* a request's headers and body must be in within this (also the
                               * keep-alive idle bound): slow senders are cut off */
    size_t max_header_bytes;  /* request line + headers (MHD's per-connection memory) */
    size_t max_url;           /* bytes of the request target, query included */
    size_t max_body;          /* a POST body, unless the route says otherwise */
    const struct ms_http_route *routes;
    size_t route_count;
    void *app; /* handed to handlers */
    /* Access log: how a query argument's value is written (NULL: every value is
     * "<redacted>"). Writes into out (cap bytes). */
    void (*log_arg)(void *app, const char *name, const char *value, char *out, size_t cap);
};

/* Parse "ADDR:PORT" ("[v6]:PORT"). Returns 0 or MS_EINVAL with err. */
int ms_http_parse_listen(const char *text, struct ms_http_listen *out, struct ms_error *err);

/* Bind every listen address and join the loop. settings (and its routes) must outlive the
 * server. Returns 0, or MS_EINVAL / MS_EIO / MS_ENOMEM with err (bad TLS key, port in use). */
int ms_http_start(struct ms_loop *loop, const struct ms_http_settings *settings,
                  struct ms_http **out, struct ms_error *err);

/* Stop accepting connections (SIGTERM); requests that arrive on open connections get 503,
 * every response closes its connection. */
void ms_http_quiesce(struct ms_http *http);

/* Requests in progress: received, partly received, waiting or being sent. */
size_t ms_http_active(const struct ms_http *http);

/* Close everything (answers still waiting are dropped). */
void ms_http_destroy(struct ms_http *http);

/* Whether the server uses TLS (HTTPS). */
bool ms_http_is_tls(const struct ms_http *http);

/* The HTTP layer's libraries, for --version (cmd/version.h): libmicrohttpd and, when
 * mailscope-serve links it (HTTPS), GnuTLS. Fills out[] and returns the number of rows. */
#define MS_HTTP_LIBVERSIONS 2
size_t ms_http_libversions(struct ms_libversion out[MS_HTTP_LIBVERSIONS]);

/* Counters for /metrics. */
struct ms_http_count {
    int route; /* index into the route table; -1: no route matched */
    unsigned status;
    uint64_t count;
};
struct ms_http_stats {
    struct ms_http_count counts[128]; /* by route and status, first seen first */
    size_t count_len;
    uint64_t request_timeouts; /* connections cut off for sending too slowly */
    uint64_t too_large;        /* 413/414 */
    uint64_t connections_open; /* now */
};
const struct ms_http_stats *ms_http_stats(const struct ms_http *http);
const struct ms_http_route *ms_http_routes(const struct ms_http *http, size_t *count);

/* ---- one request, for handlers ---- */

const char *ms_http_method(const struct ms_http_request *r); /* "GET", "HEAD", "POST" */
const char *ms_http_path(const struct ms_http_request *r);
/* A query argument (decoded), NULL when absent; "" for "?name". */
const char *ms_http_arg(const struct ms_http_request *r, const char *name);
/* Call fn for every query argument in order (value NULL for "?name"); stops when fn returns
 * false. */
void ms_http_args(const struct ms_http_request *r,
                  bool (*fn)(void *arg, const char *name, const char *value), void *arg);
const char *ms_http_header(const struct ms_http_request *r, const char *name);
/* The request body (NUL-terminated), NULL when there is none. */
const char *ms_http_body(const struct ms_http_request *r, size_t *len);
/* Wipe the body in place (it held a password). */
void ms_http_wipe_body(struct ms_http_request *r);
const struct sockaddr *ms_http_client_addr(const struct ms_http_request *r);
const char *ms_http_client(const struct ms_http_request *r); /* "192.0.2.1", "2001:db8::1" */
bool ms_http_request_tls(const struct ms_http_request *r);
bool ms_http_draining(const struct ms_http_request *r);

/* Extra response header for this request's answer (Retry-After, Allow, ...). */
/* Percent-encodes IN into OUT (CAP bytes, always terminated, cut short rather than
 * overflowing): unreserved characters and those in KEEP stay as they are. Returns the
 * length written. */
size_t ms_http_url_encode(const char *in, const char *keep, char *out, size_t cap);

int ms_http_add_header(struct ms_http_request *r, const char *name, const char *value);

/* Answer with a copy of body. Returns 0 or MS_ENOMEM (then the connection is dropped). */
int ms_http_respond(struct ms_http_request *r, unsigned status, const char *content_type,
                    const char *body, size_t len);
/* The same, taking ownership of a malloc'd body. */
int ms_http_respond_owned(struct ms_http_request *r, unsigned status, const char *content_type,
                          char *body, size_t len);
/* An RFC 9457 problem details answer (application/problem+json): type is "about:blank" or
 * a path under /problems/, param names the bad query parameter or JSON member (or NULL). */
int ms_http_problem(struct ms_http_request *r, unsigned status, const char *type, const char *title,
                    const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The handler answers later: call one of the respond functions from any loop callback. */
void ms_http_suspend(struct ms_http_request *r);

/* Called once when the request is over (answered and sent, or the client went away), before
 * r is freed: detach whatever still points at r. */
void ms_http_on_close(struct ms_http_request *r, void (*fn)(void *arg), void *arg);

/* The access log line also says target="..." (POST requests name their target in the body)
 * and whether a user name was given (never which). */
void ms_http_log_target(struct ms_http_request *r, const char *target, bool user_given);

/* ---- streamed answers (server-sent events, JSON lines) ---- */

/* Start a response of unknown length; then write pieces as they come and end it. */
int ms_http_stream_begin(struct ms_http_request *r, unsigned status, const char *content_type);
int ms_http_stream_write(struct ms_http_request *r, const char *data, size_t len);
void ms_http_stream_end(struct ms_http_request *r);

#endif
