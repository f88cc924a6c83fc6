#include "probe/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "probe/addr.h"

int ms_conn_start(const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        return -errno;
    /* Commands are small and latency matters more than packet count. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, addr, len) == 0 || errno == EINPROGRESS)
        return fd;
    int err = errno;
    close(fd);
    return -err;
}

int ms_conn_check(const struct ms_connect_policy *policy, const struct sockaddr *addr, char *why,
                  size_t cap)
{
    if (!policy)
        return 0;
    char text[64];
    uint16_t port =
        ntohs(addr->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port
                                          : ((const struct sockaddr_in *)addr)->sin_port);
    if (policy->port_count > 0) {
        bool allowed = false;
        for (size_t i = 0; i < policy->port_count && !allowed; i++)
            allowed = policy->ports[i] == port;
        if (!allowed) {
            snprintf(why, cap, "port %u is not a mail port this service may connect to",
                     (unsigned)port);
            return MS_CONN_EPOLICY;
        }
    }
    enum ms_addr_class cls = ms_addr_classify(addr);
    if (policy->deny_private && cls != MS_ADDR_PUBLIC) {
        ms_conn_format_address(addr, text, sizeof text);
        snprintf(why, cap, "%s is %s, which this service does not connect to", text,
                 ms_addr_class_words(cls));
        return MS_CONN_EPOLICY;
    }
    return 0;
}

int ms_conn_open(const struct ms_connect_policy *policy, const struct sockaddr *addr, socklen_t len)
{
    char why[160];
    if (ms_conn_check(policy, addr, why, sizeof why) != 0)
        return -MS_CONN_EPOLICY;
    return ms_conn_start(addr, len);
}

const char *ms_conn_strerror(int err)
{
    return err == MS_CONN_EPOLICY ? "refused by the connect policy" : strerror(err);
}

int ms_conn_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

enum ms_failure ms_conn_failure(int err)
{
    switch (err) {
    case MS_CONN_EPOLICY: return MS_FAILURE_TCP_DENIED;
    case ECONNREFUSED: return MS_FAILURE_TCP_REFUSED;
    case ETIMEDOUT: return MS_FAILURE_TCP_TIMEOUT;
    /* At the end of a non-blocking connect: the handshake completed, then the peer reset. */
    case ECONNRESET: return MS_FAILURE_TCP_RESET;
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE: return MS_FAILURE_INTERNAL;
    default: return MS_FAILURE_TCP_UNREACHABLE; /* ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ... */
    }
}

void ms_conn_format_address(const struct sockaddr *addr, char *buf, size_t cap)
{
    const void *raw = addr->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)addr)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)addr)->sin_addr;
    if (!inet_ntop(addr->sa_family, raw, buf, (socklen_t)cap))
        snprintf(buf, cap, "?");
}

void ms_conn_interleave(struct ms_dns_answer *addrs)
{
    struct ms_dns_answer sorted = {0};
    size_t v6[MS_DNS_MAX_ADDRESSES], v4[MS_DNS_MAX_ADDRESSES], n6 = 0, n4 = 0;
    for (size_t i = 0; i < addrs->count; i++) {
        if (addrs->addrs[i].ss_family == AF_INET6)
            v6[n6++] = i;
        else
            v4[n4++] = i;
    }
    bool six_first = addrs->count > 0 && addrs->addrs[0].ss_family == AF_INET6;
    size_t *first = six_first ? v6 : v4, *second = six_first ? v4 : v6;
    size_t nfirst = six_first ? n6 : n4, nsecond = six_first ? n4 : n6;
    for (size_t i = 0; i < nfirst || i < nsecond; i++) {
        if (i < nfirst) {
            sorted.addrs[sorted.count] = addrs->addrs[first[i]];
            sorted.addr_lens[sorted.count++] = addrs->addr_lens[first[i]];
        }
        if (i < nsecond) {
            sorted.addrs[sorted.count] = addrs->addrs[second[i]];
            sorted.addr_lens[sorted.count++] = addrs->addr_lens[second[i]];
        }
    }
    memcpy(addrs->addrs, sorted.addrs, sizeof sorted.addrs);
    memcpy(addrs->addr_lens, sorted.addr_lens, sizeof sorted.addr_lens);
}

static void close_attempt(struct ms_connector *c, struct ms_connect_attempt *a)
{
    if (a->fd < 0)
        return;
    ms_loop_unwatch(c->loop, &a->watch);
    close(a->fd);
    a->fd = -1;
    c->active--;
    ms_loop_fds_released(c->loop);
}

void ms_connector_cancel(struct ms_connector *c)
{
    if (!c->loop)
        return;
    for (size_t i = 0; i < MS_CONN_MAX_ATTEMPTS; i++)
        close_attempt(c, &c->attempts[i]);
    ms_loop_timer_cancel(c->loop, &c->delay);
    ms_loop_fd_wait_cancel(c->loop, &c->fd_wait);
    c->done = true;
}

static void note_text(struct ms_connector *c, const char *text)
{
    size_t used = strlen(c->errors);
    if (used < sizeof c->errors - 1)
        snprintf(c->errors + used, sizeof c->errors - used, "%s%s", used ? "; " : "", text);
}

static void note_error(struct ms_connector *c, size_t index, int err)
{
    char address[64], text[sizeof address + 128];
    ms_conn_format_address((struct sockaddr *)&c->addrs->addrs[index], address, sizeof address);
    snprintf(text, sizeof text, "%s: %s", address, strerror(err));
    note_text(c, text);
    c->last_err = err;
}

static void launch(struct ms_connector *c);

static void on_delay(void *arg)
{
    launch(arg);
}

static void on_attempt_io(void *arg, unsigned events)
{
    (void)events;
    struct ms_connect_attempt *a = arg;
    struct ms_connector *c = a->connector;
    int err = ms_conn_result(a->fd);
    if (err) {
        note_error(c, a->addr_index, err);
        close_attempt(c, a);
        launch(c); /* RFC 8305: a failure starts the next address at once */
        return;
    }
    int fd = a->fd;
    size_t index = a->addr_index;
    ms_loop_unwatch(c->loop, &a->watch);
    a->fd = -1;
    c->active--;
    ms_connector_cancel(c);
    c->on_done(c->arg, fd, index, 0, "");
}

static void on_fd_free(void *arg)
{
    launch(arg);
}

static void launch(struct ms_connector *c)
{
    ms_loop_timer_cancel(c->loop, &c->delay);
    ms_loop_fd_wait_cancel(c->loop, &c->fd_wait);
    while (!c->done && c->next < c->addrs->count && c->active < MS_CONN_MAX_ATTEMPTS) {
        size_t index = c->next++;
        struct ms_connect_attempt *a = NULL;
        for (size_t i = 0; i < MS_CONN_MAX_ATTEMPTS && !a; i++)
            if (c->attempts[i].fd < 0)
                a = &c->attempts[i];
        char why[160];
        if (ms_conn_check(c->policy, (struct sockaddr *)&c->addrs->addrs[index], why, sizeof why) !=
            0) {
            note_text(c, why); /* never connected to, not even tried */
            c->denied++;
            continue;
        }
        int fd =
            ms_conn_start((struct sockaddr *)&c->addrs->addrs[index], c->addrs->addr_lens[index]);
        if (fd == -EMFILE || fd == -ENFILE) {
            /* No descriptor free: this address waits for one, the race goes on. */
            c->next--;
            ms_loop_fd_wait(c->loop, &c->fd_wait, on_fd_free, c);
            return;
        }
        if (c->on_attempt)
            c->on_attempt(c->arg, index);
        if (fd < 0) {
            note_error(c, index, -fd);
            continue;
        }
        a->fd = fd;
        a->addr_index = index;
        c->active++;
        if (ms_loop_watch(c->loop, &a->watch, fd, MS_LOOP_WRITE, on_attempt_io, a) < 0) {
            note_error(c, index, ENOMEM);
            close_attempt(c, a);
            continue;
        }
        break; /* one new attempt per step; the next after the delay */
    }
    if (c->done)
        return;
    if (c->active == 0 && c->next >= c->addrs->count) {
        c->done = true;
        /* Refused by the policy only when it refused every address: an address tried and
         * refused by the server says more. */
        int err = c->denied == c->addrs->count ? MS_CONN_EPOLICY
                  : c->last_err                ? c->last_err
                                               : EHOSTUNREACH;
        c->on_done(c->arg, -1, 0, err, c->errors);
        return;
    }
    if (c->next < c->addrs->count)
        ms_loop_timer_set(c->loop, &c->delay, MS_CONN_ATTEMPT_DELAY, on_delay, c);
}

void ms_connector_start(struct ms_connector *c, struct ms_loop *loop, struct ms_dns_answer *addrs,
                        uint16_t port, const struct ms_connect_policy *policy,
                        ms_connector_done_cb on_done, ms_connector_attempt_cb on_attempt, void *arg)
{
    *c = (struct ms_connector){.loop = loop,
                               .addrs = addrs,
                               .policy = policy,
                               .on_done = on_done,
                               .on_attempt = on_attempt,
                               .arg = arg};
    ms_loop_timer_init(&c->delay);
    ms_loop_fd_waiter_init(&c->fd_wait);
    for (size_t i = 0; i < MS_CONN_MAX_ATTEMPTS; i++) {
        c->attempts[i] = (struct ms_connect_attempt){.connector = c, .fd = -1};
        ms_loop_watch_init(&c->attempts[i].watch);
    }
    for (size_t i = 0; i < addrs->count; i++) {
        struct sockaddr_storage *sa = &addrs->addrs[i];
        if (sa->ss_family == AF_INET6)
            ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
        else
            ((struct sockaddr_in *)sa)->sin_port = htons(port);
    }
    launch(c);
}
