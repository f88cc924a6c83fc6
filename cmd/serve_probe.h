/* Probes as a service, for the routes of `mailscope serve` (the API, /probe, the helpdesk
 * page): a request is planned and checked against the connect policy and the limits, queued,
 * run by the one long-running engine when it has room, and handed back through callbacks:
 * each endpoint as it finishes (so a page can show it at once), then the whole result with
 * its assessment and redacted transcript.
 *
 *   struct ms_serve_probe_params p = {.target = "mail.example.com", .module = m, ...};
 *   struct ms_serve_refusal why;
 *   if (ms_serve_probe_start(srv, &p, &callbacks, &probe, &why) < 0)
 *       answer why.status with why.title / why.detail (RFC 9457)
 *   ... on_endpoint(arg, result_so_far, i) ... on_done(arg, &outcome) ...
 *   ms_serve_probe_cancel(probe) when the client goes away first.
 */
#ifndef MS_SERVE_PROBE_H
#define MS_SERVE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "cmd/serve.h"
#include "probe/result.h"
#include "report/assess.h"

struct ms_serve_probe;

/* A finished probe. Everything points into memory that lives only during on_done. */
struct ms_serve_outcome {
    const struct ms_result *result;         /* NULL when the probe never ran */
    const struct ms_assessment *assessment; /* with the module's thresholds and requirements */
    const struct ms_serve_module *module;
    /* The connect policy refused the target: no endpoint connected, and at least one was
     * refused (tcp.denied). reason names the address and why. */
    bool denied;
    char denied_reason[400];
    bool shutting_down;     /* not run: the service stopped first */
    const char *transcript; /* the redacted transcript ("" unless asked for) */
    size_t transcript_len;
    double queued_s;   /* waiting for room in the engine */
    double duration_s; /* running */
};

struct ms_serve_probe_callbacks {
    /* An endpoint finished: result->endpoints[index] (the result so far; read-only, valid
     * during the call). NULL: not wanted. */
    void (*on_endpoint)(void *arg, const struct ms_result *result, size_t index);
    /* The probe finished (or could not run). Always called exactly once, unless cancelled. */
    void (*on_done)(void *arg, const struct ms_serve_outcome *outcome);
    void *arg;
};

struct ms_serve_probe_params {
    const char *target;                   /* host, URL or e-mail address */
    const struct ms_serve_module *module; /* never NULL */
    const char *protocols;                /* "imap", "pop3", "imap,pop3"; NULL: the module's */
    const char *ports;                    /* "imaps=993,..."; NULL: the module's */
    /* Sign-in from the request body: copied (and wiped after the probe); NULL: the module's
     * user, if it has one. */
    const char *user;
    const char *password;
    const char *token;
    bool transcript;               /* keep the redacted transcript */
    double deadline_s;             /* 0: the module's; else the smaller of both */
    const struct sockaddr *client; /* for the rate limit */
};

/* Why a probe was not started: an HTTP status and RFC 9457 problem details. */
struct ms_serve_refusal {
    unsigned status;  /* 400, 403, 429, 503 */
    const char *type; /* "/problems/bad-parameter", ... */
    const char *title;
    const char *param; /* the bad parameter, or NULL */
    char detail[400];
    double retry_after_s; /* 429/503: seconds, 0 when none */
};

/* Plan and queue a probe. Returns 0 with *out, or MS_EINVAL / MS_ENOMEM with *why filled
 * (status 500 for out of memory); the callbacks are never called then. */
int ms_serve_probe_start(struct ms_serve *srv, const struct ms_serve_probe_params *params,
                         const struct ms_serve_probe_callbacks *cb, struct ms_serve_probe **out,
                         struct ms_serve_refusal *why);

/* The caller no longer wants the answer: no callback runs after this. A queued probe is
 * dropped, a running one finishes and is freed then. */
void ms_serve_probe_cancel(struct ms_serve_probe *p);

/* Run the engine in srv->loop until the drain is over. Returns 0, or a set-up error. */
int ms_serve_probe_run(struct ms_serve *srv, struct ms_error *err);

/* SIGTERM: queued probes are answered (shutting_down), the engine takes no more. */
void ms_serve_probe_drain(struct ms_serve *srv);

/* Free what is left at exit. */
void ms_serve_probe_free_all(struct ms_serve *srv);

#endif
