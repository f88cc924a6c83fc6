#include "probe/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* c-ares opens few sockets (one per server and transport); a fixed pool keeps watcher
 * memory stable while the loop may still hold events for a closed one. */
#define MS_DNS_MAX_SOCKETS 32

/* One c-ares channel. The raw one (ms_dns_query_raw: TLSA) is made with
 * ARES_FLAG_NOCHECKRESP: c-ares 1.18 otherwise takes a SERVFAIL, REFUSED or NOTIMP answer
 * for a broken server, asks again and finally reports "Could not contact DNS servers",
 * losing the answer; a validating resolver's SERVFAIL is what a bogus (failed DNSSEC
 * validation) answer looks like, so the raw channel hands every answer over as it came. */
struct ms_dns_chan {
    struct ms_dns *dns;
    ares_channel channel;
    bool ready;
};

struct ms_dns_socket {
    struct ms_loop_watch watch;
    struct ms_dns_chan *chan;
};

struct ms_dns {
    struct ms_loop *loop;
    struct ms_dns_chan main, raw;
    struct ms_loop_timer timer;
    struct ms_dns_socket sockets[MS_DNS_MAX_SOCKETS];
};

struct ms_dns_query {
    struct ms_dns *dns;
    ms_dns_cb cb;
    void *arg;
};

static void rearm_timer(struct ms_dns *dns);
static enum ms_dns_status status_of(int status);

static void on_socket_event(void *arg, unsigned events)
{
    struct ms_dns_socket *s = arg;
    int fd = s->watch.fd;
    struct ms_dns *dns = s->chan->dns; /* s may be unwatched (and reused) in there */
    ares_process_fd(s->chan->channel, events & MS_LOOP_READ ? fd : ARES_SOCKET_BAD,
                    events & MS_LOOP_WRITE ? fd : ARES_SOCKET_BAD);
    rearm_timer(dns);
}

static void on_timer(void *arg)
{
    struct ms_dns *dns = arg;
    ares_process_fd(dns->main.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    if (dns->raw.ready)
        ares_process_fd(dns->raw.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm_timer(dns);
}

static void rearm_timer(struct ms_dns *dns)
{
    /* the sooner of the two channels' next timeouts */
    struct timeval tv, tv2, *next = ares_timeout(dns->main.channel, NULL, &tv);
    if (dns->raw.ready) {
        struct timeval *raw = ares_timeout(dns->raw.channel, next, &tv2);
        if (raw) {
            tv = *raw;
            next = &tv;
        }
    }
    if (next)
        ms_loop_timer_set(dns->loop, &dns->timer, (double)next->tv_sec + next->tv_usec / 1e6,
                          on_timer, dns);
    else
        ms_loop_timer_cancel(dns->loop, &dns->timer);
}

static struct ms_dns_socket *find_socket(struct ms_dns *dns, int fd)
{
    for (size_t i = 0; i < MS_DNS_MAX_SOCKETS; i++)
        if (dns->sockets[i].watch.fd == fd)
            return &dns->sockets[i];
    return NULL;
}

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct ms_dns_chan *chan = data;
    struct ms_dns *dns = chan->dns;
    struct ms_dns_socket *s = find_socket(dns, fd);
    if (!readable && !writable) {
        if (s)
            ms_loop_unwatch(dns->loop, &s->watch);
        return;
    }
    if (!s)
        s = find_socket(dns, -1);
    if (!s)
        return; /* pool exhausted: the query will time out and say so */
    s->chan = chan;
    ms_loop_watch(dns->loop, &s->watch, fd,
                  (readable ? MS_LOOP_READ : 0u) | (writable ? MS_LOOP_WRITE : 0u), on_socket_event,
                  s);
}

/* Make chan's channel with the resolver options (and flags) and the servers. */
static int chan_init(struct ms_dns_chan *chan, struct ms_dns *dns, const char *servers_csv,
                     double timeout_s, int flags, struct ms_error *err)
{
    struct ares_options opts = {0};
    chan->dns = dns;
    opts.sock_state_cb = on_sock_state;
    opts.sock_state_cb_data = chan;
    int timeout_ms = (int)(timeout_s * 1000.0 / 2.0);
    opts.timeout = timeout_ms < 200 ? 200 : timeout_ms;
    opts.tries = 2;
    opts.flags = flags;
    int status = ares_init_options(&chan->channel, &opts,
                                   ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                                       (flags ? ARES_OPT_FLAGS : 0));
    if (status != ARES_SUCCESS)
        return ms_error_set(err, MS_EDNS, "c-ares: %s", ares_strerror(status));
    chan->ready = true;
    if (servers_csv && *servers_csv) {
        status = ares_set_servers_ports_csv(chan->channel, servers_csv);
        if (status != ARES_SUCCESS)
            return ms_error_set(err, MS_EINVAL, "bad DNS server list '%s': %s", servers_csv,
                                ares_strerror(status));
    }
    return 0;
}

int ms_dns_new(struct ms_loop *loop, const char *servers_csv, double timeout_s, struct ms_dns **out,
               struct ms_error *err)
{
    int rc = 0;
    bool library = false;
    struct ms_dns *dns = calloc(1, sizeof *dns);
    if (!dns)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    dns->loop = loop;
    ms_loop_timer_init(&dns->timer);
    for (size_t i = 0; i < MS_DNS_MAX_SOCKETS; i++)
        ms_loop_watch_init(&dns->sockets[i].watch);

    int status = ares_library_init(ARES_LIB_INIT_ALL);
    if (status != ARES_SUCCESS) {
        rc = ms_error_set(err, MS_EDNS, "c-ares: %s", ares_strerror(status));
        goto out;
    }
    library = true;
    if ((rc = chan_init(&dns->main, dns, servers_csv, timeout_s, 0, err)) < 0 ||
        (rc = chan_init(&dns->raw, dns, servers_csv, timeout_s, ARES_FLAG_NOCHECKRESP, err)) < 0)
        goto out;
    *out = dns;
    dns = NULL; /* transferred */
out:
    if (dns) {
        if (dns->raw.ready)
            ares_destroy(dns->raw.channel);
        if (dns->main.ready)
            ares_destroy(dns->main.channel);
        dns->raw.ready = dns->main.ready = false;
        if (library)
            ares_library_cleanup();
    }
    ms_dns_free(dns);
    return rc;
}

static void add_address(struct ms_dns_answer *answer, const struct sockaddr *sa, socklen_t len)
{
    answer->total++;
    if (answer->count >= MS_DNS_MAX_ADDRESSES || len > sizeof answer->addrs[0])
        return;
    memcpy(&answer->addrs[answer->count], sa, len);
    answer->addr_lens[answer->count] = len;
    answer->count++;
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *result)
{
    (void)timeouts;
    struct ms_dns_query *q = arg;
    struct ms_dns_answer *answer = calloc(1, sizeof *answer);
    enum ms_dns_status st;
    if (!answer) {
        st = MS_DNS_ERROR;
    } else if (status == ARES_SUCCESS) {
        /* IPv6 first, then IPv4: the order a modern client tries them in. */
        for (int pass = 0; pass < 2; pass++)
            for (struct ares_addrinfo_node *n = result ? result->nodes : NULL; n; n = n->ai_next)
                if ((pass == 0) == (n->ai_family == AF_INET6))
                    add_address(answer, n->ai_addr, n->ai_addrlen);
        st = answer->count ? MS_DNS_OK : MS_DNS_NO_ADDRESS;
    } else {
        st = status_of(status);
        snprintf(answer->message, sizeof answer->message, "%s", ares_strerror(status));
    }
    if (result)
        ares_freeaddrinfo(result);
    q->cb(q->arg, answer ? st : MS_DNS_ERROR, answer);
    free(answer);
    free(q);
}

int ms_dns_resolve(struct ms_dns *dns, const char *host, enum ms_family family, ms_dns_cb cb,
                   void *arg)
{
    struct ms_dns_query *q = malloc(sizeof *q);
    if (!q)
        return MS_ENOMEM;
    *q = (struct ms_dns_query){.dns = dns, .cb = cb, .arg = arg};
    struct ares_addrinfo_hints hints = {
        .ai_family = family == MS_FAMILY_IPV4   ? AF_INET
                     : family == MS_FAMILY_IPV6 ? AF_INET6
                                                : AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
    };
    ares_getaddrinfo(dns->main.channel, host, NULL, &hints, on_addrinfo, q);
    rearm_timer(dns);
    return 0;
}

struct ms_dns_record_query {
    enum ms_dns_type type;
    ms_dns_records_cb cb;
    void *arg;
};

static enum ms_dns_status status_of(int status)
{
    switch (status) {
    case ARES_SUCCESS: return MS_DNS_OK;
    case ARES_ENOTFOUND: return MS_DNS_NO_SUCH_HOST;
    case ARES_ENODATA: return MS_DNS_NO_ADDRESS;
    case ARES_ETIMEOUT: return MS_DNS_TIMEOUT;
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED: return MS_DNS_CANCELLED;
    default: return MS_DNS_ERROR;
    }
}

static void copy_host(char *dst, size_t cap, const char *src)
{
    /* c-ares gives "" for the root; an SRV target of "." means "not offered" (RFC 2782). */
    size_t len = strlen(src);
    while (len > 0 && src[len - 1] == '.')
        len--;
    if (len == 0) {
        snprintf(dst, cap, ".");
        return;
    }
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void parse_records(enum ms_dns_type type, const unsigned char *abuf, int alen,
                          struct ms_dns_records *out, int *status)
{
    if (type == MS_DNS_SRV) {
        struct ares_srv_reply *srv = NULL;
        *status = ares_parse_srv_reply(abuf, alen, &srv);
        for (struct ares_srv_reply *r = srv; *status == ARES_SUCCESS && r; r = r->next) {
            if (out->count >= MS_DNS_MAX_RECORDS)
                break;
            struct ms_dns_record *rec = &out->items[out->count++];
            copy_host(rec->host, sizeof rec->host, r->host);
            rec->priority = r->priority;
            rec->weight = r->weight;
            rec->port = r->port;
        }
        ares_free_data(srv);
    } else {
        struct ares_mx_reply *mx = NULL;
        *status = ares_parse_mx_reply(abuf, alen, &mx);
        for (struct ares_mx_reply *r = mx; *status == ARES_SUCCESS && r; r = r->next) {
            if (out->count >= MS_DNS_MAX_RECORDS)
                break;
            struct ms_dns_record *rec = &out->items[out->count++];
            copy_host(rec->host, sizeof rec->host, r->host);
            rec->priority = r->priority;
            rec->weight = -1;
        }
        ares_free_data(mx);
    }
    if (*status == ARES_SUCCESS && out->count == 0)
        *status = ARES_ENODATA;
}

static void on_records(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    struct ms_dns_record_query *q = arg;
    struct ms_dns_records *records = calloc(1, sizeof *records);
    if (!records) {
        q->cb(q->arg, MS_DNS_ERROR, NULL);
        free(q);
        return;
    }
    if (status == ARES_SUCCESS)
        parse_records(q->type, abuf, alen, records, &status);
    if (status != ARES_SUCCESS)
        snprintf(records->message, sizeof records->message, "%s", ares_strerror(status));
    q->cb(q->arg, status_of(status), records);
    free(records);
    free(q);
}

int ms_dns_query(struct ms_dns *dns, const char *name, enum ms_dns_type type, ms_dns_records_cb cb,
                 void *arg)
{
    struct ms_dns_record_query *q = malloc(sizeof *q);
    if (!q)
        return MS_ENOMEM;
    *q = (struct ms_dns_record_query){.type = type, .cb = cb, .arg = arg};
    ares_query(dns->main.channel, name, ns_c_in, type == MS_DNS_SRV ? ns_t_srv : ns_t_mx,
               on_records, q);
    rearm_timer(dns);
    return 0;
}

struct ms_dns_raw_query {
    ms_dns_raw_cb cb;
    void *arg;
};

static void on_raw(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    struct ms_dns_raw_query *q = arg;
    if (status == ARES_SUCCESS && abuf && alen > 0)
        q->cb(q->arg, MS_DNS_OK, abuf, (size_t)alen, "");
    else
        q->cb(q->arg, status_of(status), NULL, 0, ares_strerror(status));
    free(q);
}

int ms_dns_query_raw(struct ms_dns *dns, const char *name, int type, ms_dns_raw_cb cb, void *arg)
{
    struct ms_dns_raw_query *q = malloc(sizeof *q);
    unsigned char *buf = NULL;
    int len = 0;
    if (!q)
        return MS_ENOMEM;
    *q = (struct ms_dns_raw_query){.cb = cb, .arg = arg};
    /* EDNS (a TLSA answer outgrows 512 bytes) and the AD bit: a validating resolver then
     * says whether it validated the answer. */
    if (ares_create_query(name, ns_c_in, type, 0, 1, &buf, &len, 1232) != ARES_SUCCESS || len < 4) {
        ares_free_string(buf);
        free(q);
        return MS_EINVAL; /* a name DNS cannot carry */
    }
    buf[3] |= 0x20; /* AD */
    ares_send(dns->raw.channel, buf, len, on_raw, q);
    ares_free_string(buf);
    rearm_timer(dns);
    return 0;
}

void ms_dns_free(struct ms_dns *dns)
{
    if (!dns)
        return;
    if (dns->main.ready) {
        /* runs pending callbacks with ARES_EDESTRUCTION */
        ares_destroy(dns->main.channel);
        if (dns->raw.ready)
            ares_destroy(dns->raw.channel);
        ares_library_cleanup();
    }
    for (size_t i = 0; i < MS_DNS_MAX_SOCKETS; i++)
        ms_loop_unwatch(dns->loop, &dns->sockets[i].watch);
    ms_loop_timer_cancel(dns->loop, &dns->timer);
    free(dns);
}
