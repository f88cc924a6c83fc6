/* Per-client rate limit: a token bucket per client address (IPv4 address, IPv6 /64 - one
 * IPv6 host usually owns a whole /64), in a fixed table of MS_SERVE_RATE_SLOTS slots, so an
 * attacker with many addresses costs a bounded amount of memory. A full neighbourhood
 * recycles its least recently used slot: that client starts with a full bucket again, which
 * only ever errs towards letting a request through; the global cap on probes still holds. */
#include <netinet/in.h>
#include <string.h>

#include "cmd/serve.h"

#define MS_SERVE_RATE_PROBE 16 /* slots looked at per client */

static void client_key(const struct sockaddr *addr, uint8_t key[16])
{
    memset(key, 0, 16);
    if (addr->sa_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        return;
    }
    const uint8_t *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, sizeof mapped) == 0)
        memcpy(key, a, 16); /* an IPv4 client on an IPv6 socket: the same key as IPv4 */
    else
        memcpy(key, a, 8);
}

static size_t slot_of(const uint8_t key[16])
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (size_t i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211u;
    return (size_t)(h % MS_SERVE_RATE_SLOTS);
}

bool ms_serve_rate_take(struct ms_serve *srv, const struct sockaddr *client, double *retry_after)
{
    const struct ms_serve_limits *l = &srv->cfg.limits;
    *retry_after = 0;
    if (!client || l->rate_per_minute <= 0 || ms_serve_config_trusted(&srv->cfg, client))
        return true;
    uint8_t key[16];
    client_key(client, key);
    double now = ms_loop_now(), per_second = l->rate_per_minute / 60.0;
    size_t start = slot_of(key);
    struct ms_serve_rate_entry *e = NULL, *victim = NULL;
    for (size_t i = 0; i < MS_SERVE_RATE_PROBE && !e; i++) {
        struct ms_serve_rate_entry *s = &srv->rate[(start + i) % MS_SERVE_RATE_SLOTS];
        if (s->used && memcmp(s->key, key, 16) == 0)
            e = s;
        else if (!victim || (victim->used && (!s->used || s->last < victim->last)))
            victim = s; /* a free slot, else the least recently used one */
    }
    if (!e) {
        e = victim;
        memcpy(e->key, key, 16);
        e->used = true;
        e->tokens = l->burst;
        e->last = now;
    }
    e->tokens += (now - e->last) * per_second;
    if (e->tokens > l->burst)
        e->tokens = l->burst;
    e->last = now;
    if (e->tokens >= 1.0) {
        e->tokens -= 1.0;
        return true;
    }
    *retry_after = (1.0 - e->tokens) / per_second;
    return false;
}
