#include "probe/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static enum ms_addr_class classify_v4(uint32_t a) /* host byte order */
{
    uint8_t first = (uint8_t)(a >> 24);
    if (first == 0)
        return MS_ADDR_UNSPECIFIED;
    if (first == 127)
        return MS_ADDR_LOOPBACK;
    if (first == 10 || (a & 0xfff00000u) == 0xac100000u || (a & 0xffff0000u) == 0xc0a80000u)
        return MS_ADDR_PRIVATE;
    if ((a & 0xffc00000u) == 0x64400000u)
        return MS_ADDR_SHARED;
    if ((a & 0xffff0000u) == 0xa9fe0000u)
        return MS_ADDR_LINK_LOCAL;
    if ((a & 0xf0000000u) == 0xe0000000u)
        return MS_ADDR_MULTICAST;
    if ((a & 0xf0000000u) == 0xf0000000u || (a & 0xffffff00u) == 0xc0000000u ||
        (a & 0xfffe0000u) == 0xc6120000u)
        return MS_ADDR_RESERVED;
    return MS_ADDR_PUBLIC;
}

static uint32_t v4_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static enum ms_addr_class classify_v6(const uint8_t *b)
{
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (all_zero(b, 16))
        return MS_ADDR_UNSPECIFIED;
    if (all_zero(b, 15) && b[15] == 1)
        return MS_ADDR_LOOPBACK;
    /* IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, IPv4-compatible ::/96 and
     * the NAT64 well-known prefix 64:ff9b::/96 all reach the IPv4 address in the last four
     * bytes; 6to4 2002::/16 reaches the one in bytes 2-5. */
    if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
        return classify_v4(v4_at(b + 12));
    if (all_zero(b, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
        return classify_v4(v4_at(b + 12));
    if (all_zero(b, 12))
        return classify_v4(v4_at(b + 12));
    if (memcmp(b, nat64, sizeof nat64) == 0)
        return classify_v4(v4_at(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02)
        return classify_v4(v4_at(b + 2));
    if (b[0] == 0xff)
        return MS_ADDR_MULTICAST;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return MS_ADDR_LINK_LOCAL;
    if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
        return MS_ADDR_UNIQUE_LOCAL;
    if ((b[0] == 0x01 && b[1] == 0x00 && all_zero(b + 2, 6)) ||
        (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 &&
         b[5] == 0x01))
        return MS_ADDR_RESERVED;
    return MS_ADDR_PUBLIC;
}

enum ms_addr_class ms_addr_classify(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        return classify_v4(ntohl(in->sin_addr.s_addr));
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        return classify_v6(in6->sin6_addr.s6_addr);
    }
    return MS_ADDR_RESERVED;
}

bool ms_addr_classify_text(const char *text, enum ms_addr_class *out)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        *out = classify_v4(ntohl(v4.s_addr));
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6) == 1) {
        *out = classify_v6(v6.s6_addr);
        return true;
    }
    return false;
}

const char *ms_addr_class_words(enum ms_addr_class c)
{
    switch (c) {
    case MS_ADDR_PUBLIC: return "a public address";
    case MS_ADDR_UNSPECIFIED: return "an unspecified address";
    case MS_ADDR_LOOPBACK: return "a loopback address (this machine)";
    case MS_ADDR_PRIVATE: return "a private network address (RFC 1918)";
    case MS_ADDR_SHARED: return "a carrier-grade NAT address (RFC 6598)";
    case MS_ADDR_LINK_LOCAL: return "a link-local address";
    case MS_ADDR_MULTICAST: return "a multicast address";
    case MS_ADDR_UNIQUE_LOCAL: return "a unique-local IPv6 address";
    case MS_ADDR_RESERVED: return "a reserved address";
    }
    return "a reserved address";
}

const char *ms_addr_class_name(enum ms_addr_class c)
{
    switch (c) {
    case MS_ADDR_PUBLIC: return "public";
    case MS_ADDR_UNSPECIFIED: return "unspecified";
    case MS_ADDR_LOOPBACK: return "loopback";
    case MS_ADDR_PRIVATE: return "private";
    case MS_ADDR_SHARED: return "shared";
    case MS_ADDR_LINK_LOCAL: return "link_local";
    case MS_ADDR_MULTICAST: return "multicast";
    case MS_ADDR_UNIQUE_LOCAL: return "unique_local";
    case MS_ADDR_RESERVED: return "reserved";
    }
    return "reserved";
}
