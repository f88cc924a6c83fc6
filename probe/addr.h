/* Address classes for the connect policy of `mailscope serve`: a service that connects
 * where strangers say must not reach this machine or the networks behind it. Pure
 * functions over socket addresses (unit-tested, no I/O). */
#ifndef MS_ADDR_H
#define MS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum ms_addr_class {
    MS_ADDR_PUBLIC,       /* none of the below: a global unicast address */
    MS_ADDR_UNSPECIFIED,  /* 0.0.0.0/8 ("this network"), :: */
    MS_ADDR_LOOPBACK,     /* 127.0.0.0/8, ::1 */
    MS_ADDR_PRIVATE,      /* RFC 1918: 10/8, 172.16/12, 192.168/16 */
    MS_ADDR_SHARED,       /* RFC 6598 carrier-grade NAT: 100.64/10 */
    MS_ADDR_LINK_LOCAL,   /* 169.254/16, fe80::/10 */
    MS_ADDR_MULTICAST,    /* 224/4, ff00::/8 */
    MS_ADDR_UNIQUE_LOCAL, /* fc00::/7 (and the deprecated site-local fec0::/10) */
    MS_ADDR_RESERVED,     /* 240/4 and 255.255.255.255, 192.0.0/24 (IETF), 198.18/15
                           * (benchmarking), 100::/64 (discard), 64:ff9b:1::/48 (local
                           * NAT64): never a public mail server */
};

/* The class of addr (AF_INET or AF_INET6; anything else is MS_ADDR_RESERVED). IPv6 forms
 * that carry an IPv4 address are judged by that address: IPv4-mapped ::ffff:a.b.c.d,
 * IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d (RFC 6052) and 6to4 2002:AABB:CCDD::
 * (RFC 3056), so ::ffff:127.0.0.1 is loopback. */
enum ms_addr_class ms_addr_classify(const struct sockaddr *addr);

/* The same for an IPv4 or IPv6 literal (IPv6 without brackets). Returns false when text
 * is not an address literal. */
bool ms_addr_classify_text(const char *text, enum ms_addr_class *out);

/* Words for a class: "a loopback address", "a private network address (RFC 1918)", ... */
const char *ms_addr_class_words(enum ms_addr_class c);

/* A short stable name: "public", "loopback", "private", "shared", "link_local",
 * "multicast", "unique_local", "unspecified", "reserved". */
const char *ms_addr_class_name(enum ms_addr_class c);

#endif
