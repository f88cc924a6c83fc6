/* The probe: runs every endpoint of a request concurrently in one event loop and returns
 * the facts. Many requests (a fleet) share the loop, the resolver and the TLS context,
 * with a bound on the endpoints in flight; each finished request is handed back at once
 * and its memory freed, so memory does not grow with the number of targets. */
#ifndef MS_ENGINE_H
#define MS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/error.h"
#include "probe/request.h"
#include "probe/result.h"

/* Where the requests come from: next() fills *req (zeroed by the caller) and returns 1,
 * 0 when there are no more, or a negative MS_E* code to stop with an error. */
struct ms_request_source {
    /* 1: *req is the next request; 0: no more; MS_EAGAIN: none ready yet, ask again when
     * wait_fd is readable (a pipe the loop watches); other < 0: an error. */
    int (*next)(void *arg, struct ms_request *req);
    void *arg;
    int wait_fd; /* -1 when next never returns MS_EAGAIN */
};

/* One request finished: its result (free it with ms_result_free when done). */
typedef void (*ms_result_cb)(void *arg, const struct ms_request *req, struct ms_result *result);

struct ms_engine;

/* A graceful stop, for whoever drives the engine (a fleet, `serve`): the engine stops
 * admitting requests and gives the runs in flight drain_s seconds to finish; runs still
 * going then are abandoned: ended and freed without a result (done is not called). With
 * watch_signals, SIGINT and SIGTERM start it: they are noticed inside the event loop (a
 * signalfd; nothing runs in a signal handler) and stay blocked after the run; a second
 * signal abandons the runs in flight at once. */
struct ms_engine_stop {
    double drain_s;     /* in: how long the runs in flight may take to finish */
    bool watch_signals; /* in: SIGINT and SIGTERM start the stop */
    /* in, optional: told from the loop as each signal comes (first: it starts the drain;
     * later ones abandon the runs in flight at once) */
    void (*on_signal)(void *arg, int signo, bool first);
    void *arg;
    int signo;                /* out: the first signal that came, 0 if none */
    size_t abandoned;         /* out: runs ended without a result */
    struct ms_engine *engine; /* out: the running engine while ms_engine_run_many runs, else NULL */
};

/* One endpoint of a request finished (serve streams them): result->endpoints[index] holds
 * its facts (family checks may still run). result is the request's result so far, valid
 * only during the call and read-only; the callback must not call into the engine. */
typedef void (*ms_endpoint_cb)(void *arg, const struct ms_request *req,
                               const struct ms_result *result, size_t index);

struct ms_fleet_settings {
    const struct ms_request *base; /* ca_file, dns_servers, timeout, family, trace shared by all */
    size_t concurrency;            /* endpoints in flight at most (a request is started whole) */
    struct ms_engine_stop *stop;   /* optional: a graceful stop (signals, ms_engine_drain) */
    /* Optional, for a long-running service (`mailscope serve`): */
    struct ms_loop *loop;       /* run in this loop (the caller's watchers and timers share
                                   it; the caller frees it); NULL: a loop of the engine's own */
    ms_endpoint_cb on_endpoint; /* NULL: no per-endpoint calls */
    void *endpoint_arg;
};

/* Stop admitting requests (source.next is not called again) and abandon the runs still in
 * flight drain_s seconds from now (0: on the loop's next turn; an earlier call's shorter
 * bound stands). Callable from any callback the engine's loop runs: source.next, done,
 * on_signal. The run ends when the last run in flight has finished or been abandoned. */
void ms_engine_drain(struct ms_engine *engine, double drain_s);

/* File descriptors one endpoint may hold at once: its Happy Eyeballs race
 * (MS_CONN_MAX_ATTEMPTS sockets, one of them kept) and its two per-family checks; twice
 * that with --injection-test (a second connection with the same needs). */
#define MS_ENGINE_FDS_PER_ENDPOINT 6
/* Descriptors the process needs besides the endpoints: stdin/stdout/stderr, the epoll and
 * signal fds, the targets file, c-ares' sockets (UDP and TCP per DNS server), the files
 * OpenSSL opens to load the trust store, and slack. */
#define MS_ENGINE_FDS_RESERVED 16

/* The endpoints in flight the descriptor limit allows, at most wanted:
 * (RLIMIT_NOFILE soft limit - MS_ENGINE_FDS_RESERVED) / (MS_ENGINE_FDS_PER_ENDPOINT, x2 with
 * --injection-test), at least 1. ms_engine_run_many keeps to it; a descriptor that runs out
 * all the same (another process's share of ENFILE, a discovery larger than its weight) is
 * waited for, never a result. */
size_t ms_engine_fd_concurrency(size_t wanted, bool injection_test);

/* Probe every request of source, at most settings->concurrency endpoints at a time, calling
 * done for each as it finishes. Returns 0, or a set-up error (bad CA file, bad DNS server,
 * out of memory) with err->message. */
int ms_engine_run_many(const struct ms_fleet_settings *settings, struct ms_request_source source,
                       ms_result_cb done, void *arg, struct ms_error *err);

/* Probe every endpoint of req, bounded by req->deadline_s in all. On return 0, *out holds
 * one result per endpoint, in request order (free with ms_result_free). Failures of
 * endpoints are facts inside *out, not errors. Returns 0, MS_ENOMEM, MS_EIO, or MS_ETLS /
 * MS_EINVAL / MS_EDNS for a local set-up problem (bad CA file, bad DNS server list), with
 * err->message saying what. */
int ms_engine_run(const struct ms_request *req, struct ms_result *out, struct ms_error *err);

#endif
