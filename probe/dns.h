/* Name resolution through c-ares, driven by the event loop (c-ares 1.18 API:
 * ARES_OPT_SOCK_STATE_CB, ares_process_fd, ares_timeout). */
#ifndef MS_DNS_H
#define MS_DNS_H

#include <sys/socket.h>

#include "probe/error.h"
#include "probe/loop.h"
#include "probe/request.h"

#define MS_DNS_MAX_ADDRESSES MS_MAX_ADDRESSES

enum ms_dns_status {
    MS_DNS_OK,
    MS_DNS_NO_SUCH_HOST, /* NXDOMAIN */
    MS_DNS_NO_ADDRESS,   /* the name exists, but no address of the asked family */
    MS_DNS_TIMEOUT,
    MS_DNS_ERROR,     /* anything else, with a message */
    MS_DNS_CANCELLED, /* the resolver is shutting down: ignore */
};

struct ms_dns_answer {
    struct sockaddr_storage addrs[MS_DNS_MAX_ADDRESSES];
    socklen_t addr_lens[MS_DNS_MAX_ADDRESSES];
    size_t count;
    size_t total;      /* addresses the name has, before the cap of MS_DNS_MAX_ADDRESSES */
    char message[128]; /* c-ares's words when status is not OK */
};

typedef void (*ms_dns_cb)(void *arg, enum ms_dns_status status, const struct ms_dns_answer *answer);

struct ms_dns;

/* servers_csv: "ip[:port],..." to use instead of the system resolvers, or NULL.
 * timeout_s bounds each query attempt. Returns 0, MS_ENOMEM, MS_EDNS or MS_EINVAL. */
int ms_dns_new(struct ms_loop *loop, const char *servers_csv, double timeout_s, struct ms_dns **out,
               struct ms_error *err);

/* Resolve host's addresses (A and/or AAAA, per family); cb runs from the loop, exactly once
 * (with MS_DNS_CANCELLED when ms_dns_free comes first). IPv6 addresses come first when
 * both families are present. Returns 0 or MS_ENOMEM. */
int ms_dns_resolve(struct ms_dns *dns, const char *host, enum ms_family family, ms_dns_cb cb,
                   void *arg);

#define MS_DNS_MAX_RECORDS 16

enum ms_dns_type { MS_DNS_SRV, MS_DNS_MX };

/* One SRV (priority, weight, port, host) or MX (priority = preference, host) record. */
struct ms_dns_record {
    char host[256]; /* without the final dot; "." for an SRV "service not offered" */
    int priority;
    int weight;
    unsigned port;
};

struct ms_dns_records {
    struct ms_dns_record items[MS_DNS_MAX_RECORDS];
    size_t count;
    char message[128]; /* c-ares's words when status is not OK */
};

typedef void (*ms_dns_records_cb)(void *arg, enum ms_dns_status status,
                                  const struct ms_dns_records *records);

/* Ask for name's SRV or MX records (no search domains). cb runs exactly once, from the
 * loop (MS_DNS_CANCELLED when ms_dns_free comes first); NODATA is MS_DNS_NO_ADDRESS.
 * Returns 0 or MS_ENOMEM. */
int ms_dns_query(struct ms_dns *dns, const char *name, enum ms_dns_type type, ms_dns_records_cb cb,
                 void *arg);

/* A raw DNS answer (the whole message) for a question asked with the AD bit set, so a
 * validating resolver says whether it validated the answer (RFC 6840 5.7). cb runs exactly
 * once from the loop: status MS_DNS_OK with msg/len (parse it: probe/tlsa.h), another status
 * with msg NULL. Returns 0 or MS_ENOMEM. */
typedef void (*ms_dns_raw_cb)(void *arg, enum ms_dns_status status, const unsigned char *msg,
                              size_t len, const char *message);
int ms_dns_query_raw(struct ms_dns *dns, const char *name, int type, ms_dns_raw_cb cb, void *arg);

void ms_dns_free(struct ms_dns *dns);

#endif
