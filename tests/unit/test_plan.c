/* Targets, ports and pins -> endpoints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>
// clang-format off: cmocka.h needs the headers above
// clang-format on

#include "probe/plan.h"

static void test_bare_host(void **state)
{
    (void)state;
    struct ms_target t;
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_target("Mail.Example.COM", &t, &err), 0);
    assert_false(t.is_url);
    assert_string_equal(t.host, "mail.example.com");
    assert_int_equal(t.port, 0);
}

static void test_urls(void **state)
{
    (void)state;
    struct ms_target t;
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_target("imaps://mail.example.com", &t, &err), 0);
    assert_true(t.is_url);
    assert_int_equal(t.protocol, MS_PROTOCOL_IMAP);
    assert_int_equal(t.security, MS_SECURITY_IMPLICIT);
    assert_int_equal(t.port, 0);

    assert_int_equal(ms_plan_parse_target("POP3://mail.example.com:1110/", &t, &err), 0);
    assert_int_equal(t.protocol, MS_PROTOCOL_POP3);
    assert_int_equal(t.security, MS_SECURITY_STARTTLS);
    assert_int_equal(t.port, 1110);

    assert_int_equal(ms_plan_parse_target("imap://[::1]:10143", &t, &err), 0);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 10143);

    assert_int_equal(ms_plan_parse_target("pop3s://127.0.0.2", &t, &err), 0);
    assert_string_equal(t.host, "127.0.0.2");
}

static void test_bad_targets(void **state)
{
    (void)state;
    struct ms_target t;
    struct ms_error err = {0};
    const char *bad[] = {
        "",
        "http://example.com",
        "imaps://",
        "imaps://host:0",
        "imaps://host:65536",
        "imaps://host:12x",
        "imaps://user@host",
        "imaps://host/INBOX",
        "host:993",
        "bad host",
        "a..b",
        "[::1",
        "imap://[::1]x",
        "imap://[nothost]:1",
        "@example.com",
        "al ice@example.com",
        "alice@localhost",
        "alice@127.0.0.1",
        "alice@",
        "-host-with-\x01",
        "imaps://host:99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(ms_plan_parse_target(bad[i], &t, &err), MS_EINVAL);
        assert_true(strlen(err.message) > 0);
    }
    char longname[400];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(ms_plan_parse_target(longname, &t, &err), MS_EINVAL);
}

/* RFC 3986: an IPv6 literal in a URL is bracketed. "imaps://::1:993" would otherwise be
 * read as the address ::1:993 on the default port; it is refused with the bracketed form. */
static void test_unbracketed_ipv6_url(void **state)
{
    (void)state;
    struct ms_target t;
    struct ms_error err = {0};
    static const struct {
        const char *text, *hint;
    } cases[] = {
        {"imaps://::1:993", "imaps://[::1]:993"},
        {"imap://::1", "imap://[::1]"},
        {"pop3s://2001:db8::5:995", "pop3s://[2001:db8::5]:995"},
        {"POP3://fe80::1", "POP3://[fe80::1]"},
        {"imaps://2001:db8::zz:993", "imaps://[2001:db8::zz:993]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(ms_plan_parse_target(cases[i].text, &t, &err), MS_EINVAL);
        assert_non_null(strstr(err.message, "bracket"));
        assert_non_null(strstr(err.message, cases[i].hint));
    }
    /* A bare IPv6 literal (no URL) takes no port and needs no brackets. */
    assert_int_equal(ms_plan_parse_target("::1", &t, &err), 0);
    assert_string_equal(t.host, "::1");
    assert_int_equal(ms_plan_parse_target("imaps://[::1]:993", &t, &err), 0);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 993);
}

static void test_email_and_domain(void **state)
{
    (void)state;
    struct ms_target t;
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_target("Alice.Smith+tag@Example.COM", &t, &err), 0);
    assert_true(t.is_discovery);
    assert_false(t.is_url);
    assert_string_equal(t.host, "example.com");
    assert_string_equal(t.user, "Alice.Smith+tag");
    assert_int_equal(ms_plan_parse_domain("example.org.", &t, &err), 0);
    assert_true(t.is_discovery);
    assert_string_equal(t.host, "example.org");
    assert_string_equal(t.user, "");
    assert_int_equal(ms_plan_parse_domain("nodot", &t, &err), MS_EINVAL);

    /* A discovery target must stand alone. */
    static struct ms_request req;
    memset(&req, 0, sizeof req);
    struct ms_ports ports = ms_plan_default_ports();
    assert_int_equal(ms_plan_parse_target("bob@example.net", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT(MS_PROTOCOL_IMAP), &err), 0);
    assert_string_equal(req.discover_domain, "example.net");
    assert_string_equal(req.discover_user, "bob");
    assert_true(req.want[MS_PROTOCOL_IMAP]);
    assert_false(req.want[MS_PROTOCOL_POP3]);
    assert_int_equal(req.endpoint_count, 0);
    assert_int_equal(ms_plan_parse_target("mail.example.net", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT_RECEIVE, &err), MS_EINVAL);
    ms_request_release(&req);
    memset(&req, 0, sizeof req);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT_RECEIVE, &err), 0);
    assert_int_equal(ms_plan_parse_target("bob@example.net", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT_RECEIVE, &err), MS_EINVAL);
    ms_request_release(&req);
}

static void test_ports(void **state)
{
    (void)state;
    struct ms_ports p = ms_plan_default_ports();
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_ports("imap=10143,imaps=10993,pop3=10110,pop3s=10995", &p, &err),
                     0);
    assert_int_equal(p.imap, 10143);
    assert_int_equal(p.imaps, 10993);
    assert_int_equal(p.pop3, 10110);
    assert_int_equal(p.pop3s, 10995);
    p = ms_plan_default_ports();
    assert_int_equal(ms_plan_parse_ports("pop3=1110", &p, &err), 0);
    assert_int_equal(p.pop3, 1110);
    assert_int_equal(p.imaps, 993);
    assert_int_equal(ms_plan_parse_ports("smtp=25", &p, &err), MS_EINVAL);
    assert_int_equal(ms_plan_parse_ports("imap=", &p, &err), MS_EINVAL);
    assert_int_equal(ms_plan_parse_ports("imap", &p, &err), MS_EINVAL);
    assert_int_equal(ms_plan_parse_ports("imap=70000", &p, &err), MS_EINVAL);
    assert_int_equal(ms_plan_parse_ports("", &p, &err), MS_EINVAL);
}

static void test_pins(void **state)
{
    (void)state;
    struct ms_pin pin;
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_pin("mail.test.example:127.0.0.2", &pin, &err), 0);
    assert_string_equal(pin.host, "mail.test.example");
    assert_string_equal(pin.address, "127.0.0.2");
    assert_int_equal(ms_plan_parse_pin("mail.test.example:[::1]", &pin, &err), 0);
    assert_string_equal(pin.address, "::1");
    assert_int_equal(ms_plan_parse_pin("mail.test.example:::1", &pin, &err), 0);
    assert_string_equal(pin.address, "::1");
    assert_int_equal(ms_plan_parse_pin("mail.test.example", &pin, &err), MS_EINVAL);
    assert_int_equal(ms_plan_parse_pin("mail.test.example:not-an-ip", &pin, &err), MS_EINVAL);
    assert_int_equal(ms_plan_parse_pin(":127.0.0.1", &pin, &err), MS_EINVAL);
}

static void test_plan_bare_and_urls(void **state)
{
    (void)state;
    static struct ms_request req;
    memset(&req, 0, sizeof req);
    struct ms_ports ports = ms_plan_default_ports();
    struct ms_target t;
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_target("mail.example.com", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT_RECEIVE, &err), 0);
    assert_int_equal(req.endpoint_count, 4);
    assert_true(req.bare_host && req.want[MS_PROTOCOL_IMAP] && req.want[MS_PROTOCOL_POP3]);
    assert_int_equal(req.endpoints[0].port, 993);
    assert_int_equal(req.endpoints[0].security, MS_SECURITY_IMPLICIT);
    assert_int_equal(req.endpoints[1].port, 143);
    assert_int_equal(req.endpoints[1].security, MS_SECURITY_STARTTLS);
    assert_int_equal(req.endpoints[2].port, 995);
    assert_int_equal(req.endpoints[3].port, 110);
    for (size_t i = 0; i < 4; i++)
        assert_false(req.endpoints[i].required);

    /* The same endpoint named again by URL is not repeated, but becomes required. */
    assert_int_equal(ms_plan_parse_target("imaps://mail.example.com", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT_RECEIVE, &err), 0);
    assert_int_equal(req.endpoint_count, 4);
    assert_true(req.endpoints[0].required);

    assert_int_equal(ms_plan_parse_target("pop3://other.example.com", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT_RECEIVE, &err), 0);
    assert_int_equal(req.endpoint_count, 5);
    assert_int_equal(req.endpoints[4].port, 110);
    assert_true(req.endpoints[4].required);

    /* A copy owns its own endpoint list. */
    static struct ms_request copy;
    assert_int_equal(ms_request_copy(&copy, &req), 0);
    assert_int_equal(copy.endpoint_count, 5);
    assert_ptr_not_equal(copy.endpoints, req.endpoints);
    assert_string_equal(copy.endpoints[4].host, "other.example.com");
    ms_request_release(&req);
    assert_int_equal(req.endpoint_count, 0);
    assert_null(req.endpoints);
    assert_int_equal(copy.endpoints[4].port, 110);
    ms_request_release(&copy);
}

static void test_plan_protocol_filter(void **state)
{
    (void)state;
    static struct ms_request req;
    memset(&req, 0, sizeof req);
    struct ms_ports ports = ms_plan_default_ports();
    struct ms_target t;
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_target("mail.example.com", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT(MS_PROTOCOL_POP3), &err), 0);
    assert_int_equal(req.endpoint_count, 2);
    assert_false(req.want[MS_PROTOCOL_IMAP]);
    assert_true(req.want[MS_PROTOCOL_POP3]);
    assert_int_equal(ms_plan_parse_target("imaps://mail.example.com", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, MS_WANT(MS_PROTOCOL_POP3), &err), MS_EINVAL);
    ms_request_release(&req);
}

/* smtp:// is probed as STARTTLS submission, on port 25 unless the URL names another, and
 * keeps the mark that makes the report say submission.port25 (even on another port). */
static void test_plan_smtp_url(void **state)
{
    (void)state;
    static struct ms_request req;
    memset(&req, 0, sizeof req);
    struct ms_ports ports = ms_plan_default_ports();
    struct ms_target t;
    struct ms_error err = {0};
    assert_int_equal(ms_plan_parse_target("smtp://mail.example.com", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, 0, &err), 0);
    assert_int_equal(ms_plan_parse_target("smtp://mail.example.com:2525", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, 0, &err), 0);
    assert_int_equal(ms_plan_parse_target("submission://mail.example.com", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, 0, &err), 0);
    assert_int_equal(req.endpoint_count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(req.endpoints[i].protocol, MS_PROTOCOL_SUBMISSION);
        assert_int_equal(req.endpoints[i].security, MS_SECURITY_STARTTLS);
    }
    assert_int_equal(req.endpoints[0].port, 25);
    assert_true(req.endpoints[0].smtp_url);
    assert_int_equal(req.endpoints[1].port, 2525);
    assert_true(req.endpoints[1].smtp_url);
    assert_int_equal(req.endpoints[2].port, 587);
    assert_false(req.endpoints[2].smtp_url);
    /* the same endpoint named both ways is probed once, and keeps the smtp:// mark */
    assert_int_equal(ms_plan_parse_target("smtp://mail.example.com:587", &t, &err), 0);
    assert_int_equal(ms_plan_add(&req, &t, &ports, 0, &err), 0);
    assert_int_equal(req.endpoint_count, 3);
    assert_true(req.endpoints[2].smtp_url);
    ms_request_release(&req);
}

/* Discovery's endpoint cap between receiving and sending candidates (issue 14): many dead
 * receiving candidates leave the sending side its half, and a family that needs less leaves
 * the rest to the other. */
static void test_plan_fair_shares(void **state)
{
    (void)state;
    static const struct {
        size_t n0, n1, cap, q0, q1;
    } rows[] = {
        {40, 1, 32, 31, 1}, /* 40 dead IMAP/POP3 SRV records and one submission SRV */
        {40, 10, 32, 22, 10}, {40, 40, 32, 16, 16}, {5, 40, 32, 5, 27},
        {52, 6, 32, 26, 6},   {32, 0, 32, 32, 0}, /* receiving only: the whole cap, as before */
        {0, 50, 32, 0, 32},   {3, 4, 32, 3, 4},     {0, 0, 32, 0, 0},
        {16, 16, 32, 16, 16}, {17, 17, 33, 17, 16}, /* an odd cap: the extra one goes to receiving
                                                     */
        {1, 1, 1, 1, 0},      {0, 1, 1, 0, 1},      {9, 9, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t n[2] = {rows[i].n0, rows[i].n1}, q[2] = {99, 99};
        ms_plan_fair_shares(n, rows[i].cap, q);
        print_message("row %zu: %zu+%zu of %zu -> %zu+%zu\n", i, n[0], n[1], rows[i].cap, q[0],
                      q[1]);
        assert_int_equal(q[0], rows[i].q0);
        assert_int_equal(q[1], rows[i].q1);
        assert_true(q[0] + q[1] <= rows[i].cap && q[0] <= n[0] && q[1] <= n[1]);
    }
}

static void test_plan_too_many(void **state)
{
    (void)state;
    static struct ms_request req;
    memset(&req, 0, sizeof req);
    struct ms_ports ports = ms_plan_default_ports();
    struct ms_error err = {0};
    int rc = 0;
    for (int i = 1; i <= MS_MAX_ENDPOINTS + 1 && rc == 0; i++) {
        struct ms_target t;
        char url[64];
        snprintf(url, sizeof url, "imaps://h.example:%d", i);
        assert_int_equal(ms_plan_parse_target(url, &t, &err), 0);
        rc = ms_plan_add(&req, &t, &ports, MS_WANT_RECEIVE, &err);
    }
    assert_int_equal(rc, MS_EINVAL);
    assert_int_equal(req.endpoint_count, MS_MAX_ENDPOINTS);
    ms_request_release(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_host),          cmocka_unit_test(test_urls),
        cmocka_unit_test(test_bad_targets),        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_email_and_domain),   cmocka_unit_test(test_pins),
        cmocka_unit_test(test_plan_bare_and_urls), cmocka_unit_test(test_plan_protocol_filter),
        cmocka_unit_test(test_plan_smtp_url),      cmocka_unit_test(test_plan_fair_shares),
        cmocka_unit_test(test_plan_too_many),      cmocka_unit_test(test_unbracketed_ipv6_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
