/* The address classes behind `mailscope serve`'s deny list: every range at its edges, and
 * the IPv6 forms that carry an IPv4 address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "probe/addr.h"

static void expect(const char *text, enum ms_addr_class want)
{
    enum ms_addr_class got = MS_ADDR_PUBLIC;
    if (!ms_addr_classify_text(text, &got))
        fail_msg("%s: not parsed as an address", text);
    if (got != want)
        fail_msg("%s: %s, expected %s", text, ms_addr_class_name(got), ms_addr_class_name(want));
    /* the socket-address form agrees */
    struct sockaddr_storage ss = {0};
    if (strchr(text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, text, &in6->sin6_addr);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        inet_pton(AF_INET, text, &in->sin_addr);
    }
    assert_int_equal(ms_addr_classify((struct sockaddr *)&ss), want);
}

static void test_ipv4_ranges(void **state)
{
    (void)state;
    expect("0.0.0.0", MS_ADDR_UNSPECIFIED);
    expect("0.255.255.255", MS_ADDR_UNSPECIFIED);
    expect("1.0.0.0", MS_ADDR_PUBLIC);
    expect("127.0.0.1", MS_ADDR_LOOPBACK);
    expect("127.255.255.255", MS_ADDR_LOOPBACK);
    expect("126.255.255.255", MS_ADDR_PUBLIC);
    expect("128.0.0.0", MS_ADDR_PUBLIC);
    expect("10.0.0.0", MS_ADDR_PRIVATE);
    expect("10.255.255.255", MS_ADDR_PRIVATE);
    expect("11.0.0.0", MS_ADDR_PUBLIC);
    expect("172.15.255.255", MS_ADDR_PUBLIC);
    expect("172.16.0.0", MS_ADDR_PRIVATE);
    expect("172.31.255.255", MS_ADDR_PRIVATE);
    expect("172.32.0.0", MS_ADDR_PUBLIC);
    expect("192.167.255.255", MS_ADDR_PUBLIC);
    expect("192.168.0.0", MS_ADDR_PRIVATE);
    expect("192.168.255.255", MS_ADDR_PRIVATE);
    expect("192.169.0.0", MS_ADDR_PUBLIC);
    expect("100.63.255.255", MS_ADDR_PUBLIC);
    expect("100.64.0.0", MS_ADDR_SHARED);
    expect("100.127.255.255", MS_ADDR_SHARED);
    expect("100.128.0.0", MS_ADDR_PUBLIC);
    expect("169.253.255.255", MS_ADDR_PUBLIC);
    expect("169.254.0.0", MS_ADDR_LINK_LOCAL);
    expect("169.254.169.254", MS_ADDR_LINK_LOCAL); /* cloud metadata */
    expect("169.255.0.0", MS_ADDR_PUBLIC);
    expect("223.255.255.255", MS_ADDR_PUBLIC);
    expect("224.0.0.0", MS_ADDR_MULTICAST);
    expect("239.255.255.255", MS_ADDR_MULTICAST);
    expect("240.0.0.0", MS_ADDR_RESERVED);
    expect("255.255.255.255", MS_ADDR_RESERVED);
    expect("192.0.0.8", MS_ADDR_RESERVED);
    expect("192.0.1.0", MS_ADDR_PUBLIC);
    expect("198.18.0.1", MS_ADDR_RESERVED);
    expect("198.19.255.255", MS_ADDR_RESERVED);
    expect("198.20.0.0", MS_ADDR_PUBLIC);
    expect("8.8.8.8", MS_ADDR_PUBLIC);
    expect("93.184.216.34", MS_ADDR_PUBLIC);
}

static void test_ipv6_ranges(void **state)
{
    (void)state;
    expect("::", MS_ADDR_UNSPECIFIED);
    expect("::1", MS_ADDR_LOOPBACK);
    expect("fc00::", MS_ADDR_UNIQUE_LOCAL);
    expect("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", MS_ADDR_UNIQUE_LOCAL);
    expect("fe80::1", MS_ADDR_LINK_LOCAL);
    expect("febf:ffff::1", MS_ADDR_LINK_LOCAL);
    expect("fec0::1", MS_ADDR_UNIQUE_LOCAL); /* deprecated site-local */
    expect("ff02::1", MS_ADDR_MULTICAST);
    expect("ff0e::1", MS_ADDR_MULTICAST);
    expect("100::1", MS_ADDR_RESERVED);
    expect("64:ff9b:1::1", MS_ADDR_RESERVED);
    expect("2001:4860:4860::8888", MS_ADDR_PUBLIC);
    expect("2a00:1450:4001::1", MS_ADDR_PUBLIC);
    expect("fbff::1", MS_ADDR_PUBLIC);
}

static void test_ipv4_inside_ipv6(void **state)
{
    (void)state;
    /* IPv4-mapped */
    expect("::ffff:127.0.0.1", MS_ADDR_LOOPBACK);
    expect("::ffff:10.0.0.1", MS_ADDR_PRIVATE);
    expect("::ffff:172.16.5.4", MS_ADDR_PRIVATE);
    expect("::ffff:192.168.1.1", MS_ADDR_PRIVATE);
    expect("::ffff:100.64.0.1", MS_ADDR_SHARED);
    expect("::ffff:169.254.169.254", MS_ADDR_LINK_LOCAL);
    expect("::ffff:224.0.0.1", MS_ADDR_MULTICAST);
    expect("::ffff:0.0.0.0", MS_ADDR_UNSPECIFIED);
    expect("::ffff:8.8.8.8", MS_ADDR_PUBLIC);
    /* IPv4-translated (SIIT) */
    expect("::ffff:0:127.0.0.1", MS_ADDR_LOOPBACK);
    expect("::ffff:0:8.8.8.8", MS_ADDR_PUBLIC);
    /* IPv4-compatible (deprecated) */
    expect("::127.0.0.1", MS_ADDR_LOOPBACK);
    expect("::10.1.1.1", MS_ADDR_PRIVATE);
    expect("::8.8.8.8", MS_ADDR_PUBLIC);
    /* NAT64 well-known prefix */
    expect("64:ff9b::7f00:1", MS_ADDR_LOOPBACK);
    expect("64:ff9b::a00:1", MS_ADDR_PRIVATE);
    expect("64:ff9b::808:808", MS_ADDR_PUBLIC);
    /* 6to4 */
    expect("2002:7f00:1::1", MS_ADDR_LOOPBACK);
    expect("2002:c0a8:101::1", MS_ADDR_PRIVATE);
    expect("2002:808:808::1", MS_ADDR_PUBLIC);
}

static void test_not_addresses(void **state)
{
    (void)state;
    enum ms_addr_class c;
    assert_false(ms_addr_classify_text("mail.example.com", &c));
    assert_false(ms_addr_classify_text("", &c));
    assert_false(ms_addr_classify_text("127.0.0.1.5", &c));
    assert_false(ms_addr_classify_text("[::1]", &c));
    struct sockaddr sa = {.sa_family = AF_UNIX};
    assert_int_equal(ms_addr_classify(&sa), MS_ADDR_RESERVED);
}

static void test_words(void **state)
{
    (void)state;
    for (int c = MS_ADDR_PUBLIC; c <= MS_ADDR_RESERVED; c++) {
        assert_non_null(strstr(ms_addr_class_words((enum ms_addr_class)c), "address"));
        assert_true(strlen(ms_addr_class_name((enum ms_addr_class)c)) > 0);
    }
    assert_string_equal(ms_addr_class_name(MS_ADDR_LOOPBACK), "loopback");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_ranges),
        cmocka_unit_test(test_ipv6_ranges),
        cmocka_unit_test(test_ipv4_inside_ipv6),
        cmocka_unit_test(test_not_addresses),
        cmocka_unit_test(test_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
