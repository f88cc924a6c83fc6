/* `mailscope serve`: one long-running process, the same single event loop and probe engine,
 * serving HTTP. This header is shared by the cmd/serve*.c files:
 *
 *   serve_main.c     main() of mailscope-serve (`mailscope serve` execs it)
 *   serve.c          options, start-up, the route table, SIGTERM drain, /healthz
 *   serve_http.c     libmicrohttpd in the loop: routes, bounds, headers, access log
 *   serve_config.c   the JSON config file and its modules
 *   serve_probe.c    probes as a service: plan, policy, queue, engine callbacks
 *   serve_limits.c   per-client rate limit
 *   serve_api.c      /api/v1/check, /api/v1/transcript, /probe, /metrics, /problems/
 *   serve_page.c     the helpdesk page: /, /check, /check/events, /static/
 */
#ifndef MS_SERVE_H
#define MS_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/serve_config.h"
#include "cmd/serve_http.h"
#include "probe/engine.h"
#include "probe/loop.h"
#include "probe/request.h"

struct ms_serve_probe;

/* Probes in a doubly linked list, oldest first (serve_probe.c). */
struct ms_serve_probe_list {
    struct ms_serve_probe *head, *tail;
    size_t count;
};

/* Counters the daemon reports on /metrics (besides the HTTP layer's own). */
enum ms_serve_rejection {
    MS_REJECT_RATE_LIMITED, /* a client over its rate */
    MS_REJECT_BUSY,         /* the global cap on probes */
    MS_REJECT_DENIED,       /* the connect policy: private address or port */
    MS_REJECT_BAD_REQUEST,  /* a bad parameter */
    MS_REJECT_SHUTTING_DOWN,
    MS_REJECT_COUNT,
};

#define MS_SERVE_HISTOGRAM_BUCKETS 12

struct ms_serve_stats {
    uint64_t rejections[MS_REJECT_COUNT];
    uint64_t probes_started, probes_finished;
    /* probe duration (seconds): cumulative buckets, as Prometheus histograms count them */
    uint64_t duration_buckets[MS_SERVE_HISTOGRAM_BUCKETS];
    uint64_t duration_count;
    double duration_sum;
};

/* Token buckets per client address (IPv6 by /64), a fixed-size table. */
struct ms_serve_rate_entry {
    uint8_t key[16];
    bool used;
    double tokens;
    double last; /* monotonic seconds of the last refill */
};

#define MS_SERVE_RATE_SLOTS 4096

struct ms_serve {
    struct ms_serve_config cfg;
    struct ms_loop *loop;
    struct ms_http *http;
    struct ms_http_settings http_settings;
    char *tls_cert_pem, *tls_key_pem;
    struct ms_request base; /* what the engine shares: CA file, DNS servers, timeout */

    /* SIGTERM/SIGINT: the engine's graceful stop (it watches the signals, stops admitting,
     * abandons runs still going after limits.drain_timeout_s; a second signal at once). */
    struct ms_engine_stop stop;
    bool draining;
    bool forced; /* a second signal: answer what is left and go */
    struct ms_loop_timer flush_timer;
    double flush_deadline; /* monotonic: the last answers go out until then */

    /* Probes: queued here until the engine takes them (its request source), then running. */
    int wake_fd;                      /* eventfd: the engine's source has something (or is done) */
    struct ms_serve_probe_list queue; /* waiting for the engine (its request source) */
    struct ms_serve_probe_list running; /* handed to the engine, not finished */

    struct ms_serve_stats stats;
    struct ms_serve_rate_entry *rate; /* MS_SERVE_RATE_SLOTS */
    double started_at;                /* epoch seconds */
};

/* The handlers of the routes (serve_api.c). */
void ms_serve_api_check(void *app, struct ms_http_request *r);
void ms_serve_api_transcript(void *app, struct ms_http_request *r);
void ms_serve_api_probe(void *app, struct ms_http_request *r);
void ms_serve_api_metrics(void *app, struct ms_http_request *r);
void ms_serve_api_problems(void *app, struct ms_http_request *r);

/* The helpdesk page (serve_page.c). Its routes use MS_SERVE_PAGE_CSP. */
#define MS_SERVE_PAGE_CSP                                                                          \
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "            \
    "object-src 'none'"
void ms_serve_page_form(void *app, struct ms_http_request *r);
void ms_serve_page_check(void *app, struct ms_http_request *r);
void ms_serve_page_events(void *app, struct ms_http_request *r);
void ms_serve_page_static(void *app, struct ms_http_request *r);

/* May this request carry credentials? Only over HTTPS or from a loopback client. */
bool ms_serve_signin_allowed(struct ms_http_request *r);

/* serve_limits.c: may client start a probe now? true: yes (a token is taken); false: no, and
 * *retry_after says in how many seconds it may. Trusted clients are never limited. */
bool ms_serve_rate_take(struct ms_serve *srv, const struct sockaddr *client, double *retry_after);

/* A target as the access log shows it: an e-mail address loses its user part. */
void ms_serve_redact_target(const char *target, char *out, size_t cap);

/* `mailscope serve ...` (mailscope-serve's main): the exit code. */
int ms_serve_main(int argc, char **argv);

#endif
