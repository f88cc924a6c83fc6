/* Non-blocking TCP connect helpers. */
#ifndef MS_CONN_H
#define MS_CONN_H

#include <stddef.h>
#include <sys/socket.h>

#include "probe/dns.h"
#include "probe/loop.h"
#include "probe/request.h"
#include "probe/result.h"

#define MS_CONN_MAX_ATTEMPTS 4     /* connects in flight at once for one endpoint */
#define MS_CONN_ATTEMPT_DELAY 0.25 /* RFC 8305: start the next address 250 ms later */

struct ms_connector;

/* Called once: with a connected fd (ownership passes) and its address index, or with
 * fd -1, the last errno and a summary of every address's error. */
typedef void (*ms_connector_done_cb)(void *arg, int fd, size_t addr_index, int err,
                                     const char *errors);
/* Called as each attempt starts (for the trace). */
typedef void (*ms_connector_attempt_cb)(void *arg, size_t addr_index);

struct ms_connect_attempt {
    struct ms_connector *connector;
    int fd;
    size_t addr_index;
    struct ms_loop_watch watch;
};

/* Happy Eyeballs (RFC 8305) over a list of addresses: the first attempt starts at once, the
 * next one 250 ms later or as soon as one fails, the first to connect wins. Embedded in its
 * owner; the owner bounds the whole race with its own timer and cancels. Running out of
 * file descriptors is never a result: the attempt waits for one (ms_loop_fd_wait). */
struct ms_connector {
    struct ms_loop *loop;
    struct ms_dns_answer *addrs; /* not owned; ports are set in place */
    size_t next;
    struct ms_connect_attempt attempts[MS_CONN_MAX_ATTEMPTS];
    size_t active;
    struct ms_loop_timer delay;
    int last_err;
    char errors[200];
    bool done;
    /* socket() found no free descriptor (EMFILE/ENFILE): back-pressure, not a failure. The
     * address is tried again when a descriptor is released (the loop's queue). */
    struct ms_loop_fd_waiter fd_wait;
    const struct ms_connect_policy *policy; /* NULL: connect anywhere */
    size_t denied;                          /* addresses the policy refused */
    ms_connector_done_cb on_done;
    ms_connector_attempt_cb on_attempt;
    void *arg;
};

/* Start a non-blocking connect. Returns a socket fd (connect in progress or done) or a
 * negative errno value when the attempt failed at once. */
int ms_conn_start(const struct sockaddr *addr, socklen_t len);

/* A connect the policy refused: a pseudo errno (above every real one) that
 * ms_conn_failure maps to MS_FAILURE_TCP_DENIED. */
#define MS_CONN_EPOLICY 4096

/* Whether policy allows connecting to addr (its port included). Returns 0, or
 * MS_CONN_EPOLICY with why filled ("127.0.0.1 is a loopback address (this machine)").
 * policy NULL allows everything. */
int ms_conn_check(const struct ms_connect_policy *policy, const struct sockaddr *addr, char *why,
                  size_t cap);

/* ms_conn_start after ms_conn_check: -MS_CONN_EPOLICY when the policy refuses addr. */
int ms_conn_open(const struct ms_connect_policy *policy, const struct sockaddr *addr,
                 socklen_t len);

/* strerror, and words for MS_CONN_EPOLICY. */
const char *ms_conn_strerror(int err);

/* The outcome of a connect that became writable: 0 or a positive errno value. */
int ms_conn_result(int fd);

/* What a connect errno means for the report. */
enum ms_failure ms_conn_failure(int err);

/* Order addrs the RFC 8305 way: families interleaved, the first family first. */
void ms_conn_interleave(struct ms_dns_answer *addrs);

/* Start racing connects to addrs on port, skipping the addresses policy refuses (NULL:
 * none); when it refuses them all, on_done gets MS_CONN_EPOLICY. on_done runs later from
 * the loop, or before this returns when every address fails at once. */
void ms_connector_start(struct ms_connector *c, struct ms_loop *loop, struct ms_dns_answer *addrs,
                        uint16_t port, const struct ms_connect_policy *policy,
                        ms_connector_done_cb on_done, ms_connector_attempt_cb on_attempt,
                        void *arg);

/* Close every attempt still in flight; on_done will not run. Safe to call twice. */
void ms_connector_cancel(struct ms_connector *c);

/* "127.0.0.1" / "::1" for addr, into buf. */
void ms_conn_format_address(const struct sockaddr *addr, char *buf, size_t cap);

#endif
