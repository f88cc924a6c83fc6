/* Unit tests of the requirement language (--require / --forbid) and of the monitoring
 * thresholds (-w/-c, --cert-crit-days) in report/require.c: parsing every item kind, the
 * usage errors, evaluation against hand-built facts, the require.unmet / forbid.present
 * findings, perf.response_time, and the certificate-days upgrade. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fixture.h"
#include "probe/error.h"
#include "probe/result.h"
#include "report/assess.h"
#include "report/require.h"

/* ---- fixtures (fixture.h: fx_bare_host() and the other shared builders) ------------ */

/* The endpoint's port answered RST: nothing else happened. */
static void refused(struct ms_endpoint_result *ep)
{
    fx_fail_at(ep, MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "connection refused");
    ep->timings_ms = (struct ms_timings){1, -1, -1, -1, 2};
}

/* Credentials given; the implicit-TLS endpoints signed in (ok or not), the others left it. */
static void signed_in(struct ms_result *r, bool imap_ok, bool pop3_ok)
{
    fx_credentials(r);
    fx_answer_auth(&r->endpoints[I993], "PLAIN", imap_ok ? "OK" : "NO",
                   imap_ok ? "" : "AUTHENTICATIONFAILED",
                   imap_ok ? "Logged in" : "Authentication failed.");
    fx_answer_auth(&r->endpoints[P995], "PLAIN", pop3_ok ? "+OK" : "-ERR", pop3_ok ? "" : "AUTH",
                   pop3_ok ? "Logged in" : "Authentication failed.");
}

static void assess(const struct ms_result *r, struct ms_assessment *a)
{
    assert_int_equal(ms_assess(r, NULL, a), 0);
}

/* Parse one list into a fresh set; the return code. */
static int parse(const char *list, bool forbid, struct ms_requirements *reqs, struct ms_error *err)
{
    memset(reqs, 0, sizeof *reqs);
    memset(err, 0, sizeof *err);
    return ms_require_parse(list, forbid, reqs, err);
}

/* Parse a one-item list that must be accepted; the item. */
static struct ms_requirement one(const char *text, bool forbid)
{
    struct ms_requirements reqs;
    struct ms_error err;
    int rc = parse(text, forbid, &reqs, &err);
    if (rc != 0)
        fail_msg("'%s' was rejected: %s", text, err.message);
    assert_int_equal(reqs.count, 1);
    assert_int_equal(reqs.items[0].forbid, forbid);
    return reqs.items[0];
}

/* Parse a list that must be rejected; the message. */
static const char *rejected(const char *text, bool forbid)
{
    static struct ms_error err;
    struct ms_requirements reqs;
    int rc = parse(text, forbid, &reqs, &err);
    if (rc != MS_EINVAL)
        fail_msg("'%s' was accepted (rc %d, %zu items)", text, rc, reqs.count);
    assert_int_equal(err.code, MS_EINVAL);
    assert_true(strlen(err.message) > 10);
    assert_null(strchr(err.message, '\n')); /* one line on stderr */
    return err.message;
}

/* Whether TEXT (one item, --require or --forbid) holds for r / a. */
static bool holds(const char *text, bool forbid, const struct ms_result *r,
                  const struct ms_assessment *a)
{
    struct ms_requirement item = one(text, forbid);
    return ms_require_holds(&item, r, a);
}

static size_t count_code(const struct ms_assessment *a, const char *code, long idx)
{
    size_t n = 0;
    for (size_t i = 0; i < a->finding_count; i++)
        if (strcmp(a->findings[i].code, code) == 0 &&
            (idx == -2 || a->findings[i].endpoint_index == idx))
            n++;
    return n;
}

static void assert_worst_first(const struct ms_assessment *a)
{
    for (size_t i = 1; i < a->finding_count; i++)
        if (a->findings[i].severity > a->findings[i - 1].severity)
            fail_msg("finding %zu (%s) is worse than finding %zu (%s)", i, a->findings[i].code,
                     i - 1, a->findings[i - 1].code);
}

/* Apply a --require (forbid=false) or --forbid list to a fresh assessment of r. */
static void apply(const char *list, bool forbid, const struct ms_result *r, struct ms_assessment *a)
{
    struct ms_requirements reqs;
    struct ms_error err;
    if (parse(list, forbid, &reqs, &err) != 0)
        fail_msg("'%s' was rejected: %s", list, err.message);
    assert_int_equal(ms_require_apply(&reqs, r, a), 0);
    assert_worst_first(a);
}

/* ---- parsing --------------------------------------------------------------------- */

static void test_parse_protocols_endpoints_login(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum ms_req_kind kind;
        enum ms_protocol protocol;
        enum ms_security security; /* ENDPOINT only */
    } cases[] = {
        {"imap", MS_REQ_PROTOCOL, MS_PROTOCOL_IMAP, 0},
        {"pop3", MS_REQ_PROTOCOL, MS_PROTOCOL_POP3, 0},
        {"imaps", MS_REQ_ENDPOINT, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT},
        {"imap+starttls", MS_REQ_ENDPOINT, MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS},
        {"pop3s", MS_REQ_ENDPOINT, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT},
        {"pop3+stls", MS_REQ_ENDPOINT, MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS},
        {"login", MS_REQ_LOGIN, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int forbid = 0; forbid < 2; forbid++) {
            struct ms_requirement r = one(cases[i].text, forbid);
            assert_int_equal(r.kind, cases[i].kind);
            assert_string_equal(r.text, cases[i].text);
            if (cases[i].kind != MS_REQ_LOGIN)
                assert_int_equal(r.protocol, cases[i].protocol);
            if (cases[i].kind == MS_REQ_ENDPOINT)
                assert_int_equal(r.security, cases[i].security);
        }
    }
    /* near misses are not words */
    rejected("imap4", false);
    rejected("pop", false);
    rejected("imap+stls", false);     /* STLS is POP3's */
    rejected("pop3+starttls", false); /* STARTTLS is IMAP's */
    rejected("imaps+starttls", false);
    rejected("logins", false);
}

static void test_parse_case(void **state)
{
    (void)state;
    struct ms_requirement r = one("IMAP", false);
    assert_int_equal(r.kind, MS_REQ_PROTOCOL);
    assert_int_equal(r.protocol, MS_PROTOCOL_IMAP);
    assert_string_equal(r.text, "IMAP"); /* messages quote the item as written */
    r = one("Pop3S", false);
    assert_int_equal(r.kind, MS_REQ_ENDPOINT);
    assert_int_equal(r.protocol, MS_PROTOCOL_POP3);
    assert_int_equal(r.security, MS_SECURITY_IMPLICIT);
    r = one("IMAP+STARTTLS", false);
    assert_int_equal(r.security, MS_SECURITY_STARTTLS);
    r = one("POP3+STLS", true);
    assert_int_equal(r.security, MS_SECURITY_STARTTLS);
    assert_int_equal(one("Login", false).kind, MS_REQ_LOGIN);
    r = one("TLS>=1.2", false);
    assert_int_equal(r.kind, MS_REQ_TLS);
    assert_int_equal(r.value, 12);
    r = one("Cert-Days>=21", false);
    assert_int_equal(r.kind, MS_REQ_CERT_DAYS);
    assert_int_equal(r.value, 21);
    r = one("IMAP:idle", false);
    assert_int_equal(r.kind, MS_REQ_CAPABILITY);
    assert_int_equal(r.protocol, MS_PROTOCOL_IMAP);
    assert_string_equal(r.name, "idle");
    r = one("Pop3:uidl", false);
    assert_int_equal(r.protocol, MS_PROTOCOL_POP3);
    assert_string_equal(r.name, "uidl");
    /* feature ids and finding codes ignore case too, and are kept as the report spells them */
    r = one("PUSH_MAIL", false);
    assert_int_equal(r.kind, MS_REQ_FEATURE);
    assert_string_equal(r.name, "push_mail");
    r = one("TLS.CERT_EXPIRED", true);
    assert_int_equal(r.kind, MS_REQ_FINDING);
    assert_string_equal(r.name, "tls.cert_expired");
    r = one("tls.Cert_Expired", true);
    assert_string_equal(r.name, "tls.cert_expired");
    rejected("push-mail", false);
    rejected("tls.cert expired", true);
}

static void test_parse_features(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "protocol_enabled",  "leave_mail_on_server",  "server_folders", "sent_items_on_server",
        "shared_folders",    "headers_only_download", "push_mail",      "min_poll_interval",
        "secure_connection", "sign_in_methods",       "quota",
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct ms_requirement r = one(ids[i], false);
        assert_int_equal(r.kind, MS_REQ_FEATURE);
        assert_string_equal(r.name, ids[i]);
    }
    /* the language knows every feature the assessor answers (no drift between the two) */
    struct ms_result res = {0};
    struct ms_assessment a;
    res.want[MS_PROTOCOL_IMAP] = res.want[MS_PROTOCOL_POP3] = true;
    assess(&res, &a);
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        assert_non_null(a.summary.features[k].id);
        struct ms_requirement r = one(a.summary.features[k].id, false);
        assert_int_equal(r.kind, MS_REQ_FEATURE);
    }
    fx_done(&res, &a);
    rejected("push", false);
    rejected("push_mail_", false);
    rejected("push-mail", false);
}

static void test_parse_capabilities(void **state)
{
    (void)state;
    struct ms_requirement r = one("imap:IDLE", false);
    assert_int_equal(r.kind, MS_REQ_CAPABILITY);
    assert_int_equal(r.protocol, MS_PROTOCOL_IMAP);
    assert_string_equal(r.name, "IDLE");
    assert_string_equal(r.text, "imap:IDLE");
    r = one("pop3:UIDL", false);
    assert_int_equal(r.kind, MS_REQ_CAPABILITY);
    assert_int_equal(r.protocol, MS_PROTOCOL_POP3);
    assert_string_equal(r.name, "UIDL");
    r = one("imap:AUTH=XOAUTH2", false);
    assert_int_equal(r.protocol, MS_PROTOCOL_IMAP);
    assert_string_equal(r.name, "AUTH=XOAUTH2");
    r = one("pop3:RESP-CODES", true);
    assert_string_equal(r.name, "RESP-CODES");
    r = one("imap:X-GM-EXT-1", false);
    assert_string_equal(r.name, "X-GM-EXT-1");

    const char *msg = rejected("imap:", false);
    assert_non_null(strstr(msg, "imap:"));
    assert_non_null(strstr(msg, "capability name"));
    rejected("pop3:", true);
    rejected("imap:SASL PLAIN", false); /* one word */
    rejected("lmtp:STARTTLS", false);
    rejected("imaps:IDLE", false);

    /* the name's room is 63 bytes */
    char item[128];
    snprintf(item, sizeof item, "imap:%.*s", 63,
             "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ");
    assert_int_equal(strlen(one(item, false).name), 63);
    snprintf(item, sizeof item, "imap:%.*s", 64,
             "ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ");
    rejected(item, false);
}

static void test_parse_comparisons(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum ms_req_kind kind;
        enum ms_req_op op;
        long value;
    } ok[] = {
        {"tls>=1.2", MS_REQ_TLS, MS_REQ_GE, 12},
        {"tls>1.1", MS_REQ_TLS, MS_REQ_GT, 11},
        {"tls<=1.3", MS_REQ_TLS, MS_REQ_LE, 13},
        {"tls<1.2", MS_REQ_TLS, MS_REQ_LT, 12},
        {"tls=1.3", MS_REQ_TLS, MS_REQ_EQ, 13},
        {"tls>=1", MS_REQ_TLS, MS_REQ_GE, 10},
        {"tls>=1.0", MS_REQ_TLS, MS_REQ_GE, 10},
        {"cert-days>=21", MS_REQ_CERT_DAYS, MS_REQ_GE, 21},
        {"cert-days>0", MS_REQ_CERT_DAYS, MS_REQ_GT, 0},
        {"cert-days<=30", MS_REQ_CERT_DAYS, MS_REQ_LE, 30},
        {"cert-days<7", MS_REQ_CERT_DAYS, MS_REQ_LT, 7},
        {"cert-days=5", MS_REQ_CERT_DAYS, MS_REQ_EQ, 5},
        {"cert-days>=-1", MS_REQ_CERT_DAYS, MS_REQ_GE, -1},
        {"cert-days>=100000", MS_REQ_CERT_DAYS, MS_REQ_GE, 100000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct ms_requirement r = one(ok[i].text, i % 2);
        assert_int_equal(r.kind, ok[i].kind);
        assert_int_equal(r.op, ok[i].op);
        assert_int_equal(r.value, ok[i].value);
        assert_string_equal(r.text, ok[i].text);
    }
    const char *msg = rejected("tls>=1.4", false);
    assert_non_null(strstr(msg, "tls>=1.4"));
    assert_non_null(strstr(msg, "1.0, 1.1, 1.2, 1.3"));
    rejected("tls>=2", false);
    rejected("tls>=1.2.0", false);
    rejected("tls>=", false);
    rejected("tls=>1.2", false);
    rejected("tls!=1.2", false);
    rejected("tls", false);
    rejected("tls1.2", false);
    rejected("sslv3>=1", false);
    msg = rejected("cert-days>=abc", false);
    assert_non_null(strstr(msg, "whole number"));
    rejected("cert-days>=", false);
    rejected("cert-days>=21x", false);
    rejected("cert-days>=2.5", false);
    rejected("cert-days>=100001", false);
    rejected("cert-days", false);
    rejected("cert-days21", false);
    rejected("certdays>=21", false);
}

static void test_parse_finding_codes(void **state)
{
    (void)state;
    static const char *const codes[] = {
        "auth.plaintext_login_allowed",
        "tls.cert_expired",
        "tls.cert_expires_soon",
        "perf.response_time",
        "internal.error",
        "dns.no_such_host",
        "tcp.refused",
        "starttls.not_offered",
        "proto.unavailable",
        "account.quota_nearly_full",
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        struct ms_requirement r = one(codes[i], true);
        assert_int_equal(r.kind, MS_REQ_FINDING);
        assert_string_equal(r.name, codes[i]);
        assert_int_equal(one(codes[i], false).kind, MS_REQ_FINDING);
    }
    rejected("foo.bar", true);         /* not a family */
    rejected("tls.cert_expird", true); /* not a code: a typo must not pass silently */
    rejected("tls.", true);
    rejected(".cert_expired", true);
    rejected("tls.cert-expired", true);
    rejected("require.unmet", true); /* the language's own findings are not items */
    rejected("forbid.present", true);
}

static void test_parse_lists(void **state)
{
    (void)state;
    struct ms_requirements reqs;
    struct ms_error err;
    assert_int_equal(parse("imap,pop3,tls>=1.2", false, &reqs, &err), 0);
    assert_int_equal(reqs.count, 3);
    assert_int_equal(reqs.items[0].kind, MS_REQ_PROTOCOL);
    assert_int_equal(reqs.items[1].kind, MS_REQ_PROTOCOL);
    assert_int_equal(reqs.items[2].kind, MS_REQ_TLS);

    /* empty items and surrounding spaces are ignored; the text keeps no spaces */
    assert_int_equal(parse(",,imap,, ,pop3:UIDL ,,", false, &reqs, &err), 0);
    assert_int_equal(reqs.count, 2);
    assert_string_equal(reqs.items[0].text, "imap");
    assert_string_equal(reqs.items[1].text, "pop3:UIDL");
    assert_int_equal(parse("  imap:IDLE  ,   cert-days>=21   ", true, &reqs, &err), 0);
    assert_int_equal(reqs.count, 2);
    assert_string_equal(reqs.items[0].name, "IDLE");
    assert_int_equal(reqs.items[1].value, 21);
    assert_true(reqs.items[0].forbid && reqs.items[1].forbid);

    /* spaces inside an item make it another item */
    rejected("tls >= 1.2", false);
    rejected("cert-days >=21", false);

    /* repeatable: each option appends, with its own forbid flag */
    assert_int_equal(parse("imap", false, &reqs, &err), 0);
    assert_int_equal(ms_require_parse("pop3,auth.plaintext_login_allowed", true, &reqs, &err), 0);
    assert_int_equal(ms_require_parse("login", false, &reqs, &err), 0);
    assert_int_equal(reqs.count, 4);
    assert_false(reqs.items[0].forbid);
    assert_true(reqs.items[1].forbid);
    assert_true(reqs.items[2].forbid);
    assert_false(reqs.items[3].forbid);
    assert_int_equal(reqs.items[3].kind, MS_REQ_LOGIN);

    /* nothing at all is a usage error that still lists the valid items */
    const char *msg = rejected("", false);
    assert_non_null(strstr(msg, "--require needs at least one item"));
    assert_non_null(strstr(msg, "imap"));
    msg = rejected(",,,", true);
    assert_non_null(strstr(msg, "--forbid needs at least one item"));
    rejected(" , ,", false);

    /* at most MS_MAX_REQUIREMENTS items, over any number of options */
    memset(&reqs, 0, sizeof reqs);
    for (int i = 0; i < MS_MAX_REQUIREMENTS; i++)
        assert_int_equal(ms_require_parse(i % 2 ? "imap" : "pop3:UIDL", false, &reqs, &err), 0);
    assert_int_equal(reqs.count, MS_MAX_REQUIREMENTS);
    assert_int_equal(ms_require_parse("imap", false, &reqs, &err), MS_EINVAL);
    assert_non_null(strstr(err.message, "too many"));
    assert_int_equal(reqs.count, MS_MAX_REQUIREMENTS);

    /* a list too long for the parser's buffer is refused, not cut */
    char big[1100];
    memset(big, 0, sizeof big);
    for (size_t n = 0; n + 6 < sizeof big - 1;)
        n += (size_t)snprintf(big + n, sizeof big - n, "imap,");
    assert_true(strlen(big) >= 1024);
    msg = rejected(big, false);
    assert_non_null(strstr(msg, "too long"));
}

/* The message of an unknown item names the item and lists every valid form, in one line
 * (it is what a CI job's log shows). */
static void assert_lists_valid_items(const char *msg)
{
    static const char *const want[] = {
        "imap",
        "pop3",
        "imaps",
        "imap+starttls",
        "pop3s",
        "pop3+stls",
        "login",
        "imap:",
        "pop3:",
        "tls>=1.2",
        "cert-days>=",
        "protocol_enabled",
        "leave_mail_on_server",
        "server_folders",
        "sent_items_on_server",
        "shared_folders",
        "headers_only_download",
        "push_mail",
        "min_poll_interval",
        "secure_connection",
        "sign_in_methods",
        "quota",
        "finding code",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(msg, want[i]))
            fail_msg("the message does not list '%s' (%zu bytes): %s", want[i], strlen(msg), msg);
}

static void test_parse_unknown_item(void **state)
{
    (void)state;
    const char *msg = rejected("bogus", false);
    assert_non_null(strstr(msg, "--require"));
    assert_non_null(strstr(msg, "unknown item 'bogus'"));
    assert_lists_valid_items(msg);

    msg = rejected("imap,pop3,bogus,login", true);
    assert_non_null(strstr(msg, "--forbid"));
    assert_non_null(strstr(msg, "'bogus'"));
    assert_lists_valid_items(msg);

    /* a long unknown item must not push the list out of the message */
    char item[400];
    memset(item, 'x', sizeof item - 1);
    item[sizeof item - 1] = '\0';
    msg = rejected(item, false);
    assert_lists_valid_items(msg);
}

/* ---- evaluation ------------------------------------------------------------------ */

static void test_holds_protocols_and_endpoints(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    for (int f = 0; f < 2; f++) {
        assert_true(holds("imap", f, &r, &a));
        assert_true(holds("pop3", f, &r, &a));
        assert_true(holds("imaps", f, &r, &a));
        assert_true(holds("imap+starttls", f, &r, &a));
        assert_true(holds("pop3s", f, &r, &a));
        assert_true(holds("pop3+stls", f, &r, &a));
    }
    ms_assessment_free(&a);

    /* 993 closed: IMAP still works on 143, but imaps no longer holds */
    refused(&r.endpoints[I993]);
    assess(&r, &a);
    assert_true(holds("imap", false, &r, &a));
    assert_false(holds("imaps", false, &r, &a));
    assert_true(holds("imap+starttls", false, &r, &a));
    ms_assessment_free(&a);

    /* 143 completes TLS but the certificate is not verified: not secure, so not there */
    r.endpoints[I143].completed_securely = false;
    r.endpoints[I143].tls.verified = false;
    r.endpoints[I143].tls.cert.hostname_match = false;
    assess(&r, &a);
    assert_false(holds("imap", false, &r, &a));
    assert_false(holds("imap+starttls", false, &r, &a));
    assert_true(holds("pop3", false, &r, &a));
    fx_done(&r, &a);

    /* only POP3 was asked for (--protocols pop3): imap cannot hold */
    fx_result(&r, 2);
    r.bare_host = true;
    r.want[MS_PROTOCOL_POP3] = true;
    fx_healthy_endpoint(&r.endpoints[0], MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS, 110);
    fx_healthy_endpoint(&r.endpoints[1], MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    assess(&r, &a);
    assert_false(holds("imap", false, &r, &a));
    assert_false(holds("imaps", false, &r, &a));
    assert_false(holds("imap:IDLE", false, &r, &a));
    assert_true(holds("pop3", false, &r, &a));
    assert_true(holds("pop3s", false, &r, &a));
    assert_true(holds("pop3+stls", false, &r, &a));
    fx_done(&r, &a);
}

static void test_holds_capabilities(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_true(holds("imap:IDLE", false, &r, &a));
    assert_true(holds("imap:idle", false, &r, &a)); /* capability names: any case */
    assert_true(holds("imap:AUTH=PLAIN", false, &r, &a));
    assert_false(holds("imap:AUTH=XOAUTH2", false, &r, &a));
    assert_true(holds("pop3:UIDL", false, &r, &a));
    assert_true(holds("pop3:uidl", false, &r, &a));
    assert_true(holds("pop3:SASL", false, &r, &a)); /* a POP3 capability is its first word */
    assert_false(holds("pop3:PLAIN", false, &r, &a));
    assert_false(holds("pop3:IDLE", false, &r, &a)); /* another protocol's */
    assert_false(holds("imap:UIDL", false, &r, &a));
    assert_false(holds("pop3:STLS", false, &r, &a)); /* only before TLS */
    assert_false(holds("imap:LOGINDISABLED", false, &r, &a));
    assert_false(holds("imap:QUOTA", false, &r, &a));
    ms_assessment_free(&a);

    /* one endpoint offering it is enough; after sign-in counts too */
    fx_add_str(&r.endpoints[I993].caps_after_tls, "AUTH=XOAUTH2");
    fx_add_str(&r.endpoints[I143].caps_after_login, "QUOTA");
    r.endpoints[I143].caps_after_login_read = true;
    assess(&r, &a);
    assert_true(holds("imap:AUTH=XOAUTH2", false, &r, &a));
    assert_true(holds("imap:auth=xoauth2", false, &r, &a));
    assert_true(holds("imap:QUOTA", false, &r, &a));
    ms_assessment_free(&a);

    /* without TLS nothing counts, even a capability list the server sent */
    for (size_t i = 0; i < r.endpoint_count; i++)
        r.endpoints[i].tls.established = false;
    assess(&r, &a);
    assert_false(holds("imap:IDLE", false, &r, &a));
    assert_false(holds("pop3:UIDL", false, &r, &a));
    assert_false(holds("imap:QUOTA", false, &r, &a));
    fx_done(&r, &a);
}

/* SMTP: smtp:EXT, smtp:AUTH=MECH (either AUTH form), smtp:SIZE with a comparison in bytes
 * (issue 14), and the submission endpoint words. */
static void test_smtp_items(void **state)
{
    (void)state;
    struct ms_requirement it = one("smtp:SIZE>=10000000", false);
    assert_int_equal(it.kind, MS_REQ_SMTP_SIZE);
    assert_int_equal(it.op, MS_REQ_GE);
    assert_int_equal(it.value, 10000000);
    assert_int_equal(one("smtp:size<5", true).kind, MS_REQ_SMTP_SIZE);
    assert_int_equal(one("smtp:SIZE", false).kind, MS_REQ_CAPABILITY); /* offered at all */
    assert_int_equal(one("smtp:AUTH=PLAIN", false).kind, MS_REQ_CAPABILITY);
    assert_int_equal(one("imap:AUTH=PLAIN", false).kind, MS_REQ_CAPABILITY);
    assert_non_null(strstr(rejected("smtp:SIZE>=ten", false), "whole number of bytes"));
    assert_non_null(strstr(rejected("smtp:SIZE>=-1", false), "whole number of bytes"));
    assert_non_null(strstr(rejected("smtp:SIZE>=", false), "whole number of bytes"));
    /* a comparison on another keyword would never hold: refused, not silently unmet */
    assert_non_null(strstr(rejected("smtp:PIPELINING>=1", false), "only smtp:SIZE compares"));
    assert_non_null(strstr(rejected("smtp:AUTH=PLAIN>1", false), "only smtp:SIZE compares"));

    struct ms_result r;
    struct ms_assessment a;
    fx_submission_host(&r, false);
    assess(&r, &a);
    assert_true(holds("submission", false, &r, &a));
    assert_true(holds("submissions", false, &r, &a));
    assert_true(holds("submission+starttls", false, &r, &a));
    assert_false(holds("imap", false, &r, &a));
    assert_true(holds("smtp:AUTH=PLAIN", false, &r, &a));
    assert_true(holds("smtp:auth=login", false, &r, &a));
    assert_false(holds("smtp:AUTH=XOAUTH2", false, &r, &a));
    assert_true(holds("smtp:PIPELINING", false, &r, &a));
    assert_false(holds("smtp:STARTTLS", false, &r, &a)); /* only before TLS */
    assert_true(holds("smtp:SIZE>=26214400", false, &r, &a));
    assert_true(holds("smtp:SIZE<=26214400", false, &r, &a));
    assert_true(holds("smtp:SIZE=26214400", false, &r, &a));
    assert_false(holds("smtp:SIZE>26214400", false, &r, &a));
    assert_false(holds("smtp:SIZE<1000", false, &r, &a));
    assert_true(holds("max_message_size", false, &r, &a));
    assert_false(holds("can_send", false, &r, &a)); /* not signed in: unknown */
    ms_assessment_free(&a);

    /* the old form "AUTH=PLAIN LOGIN" and "SIZE 0" (no fixed limit, larger than any number) */
    static const char *const old_form[] = {"AUTH=LOGIN", "SIZE 0", NULL};
    fx_set_strs(&r.endpoints[S465].caps_after_tls, old_form);
    fx_set_strs(&r.endpoints[S587].caps_after_tls, old_form);
    assess(&r, &a);
    assert_true(holds("smtp:AUTH=LOGIN", false, &r, &a));
    assert_false(holds("smtp:AUTH=PLAIN", false, &r, &a));
    assert_true(holds("smtp:SIZE>=1000000000", false, &r, &a));
    assert_false(holds("smtp:SIZE<=1000", false, &r, &a));
    ms_assessment_free(&a);

    /* without TLS nothing counts: EHLO before TLS is not what a mail program may use */
    for (size_t i = 0; i < r.endpoint_count; i++)
        r.endpoints[i].tls.established = false;
    assess(&r, &a);
    assert_false(holds("smtp:AUTH=LOGIN", false, &r, &a));
    assert_false(holds("smtp:SIZE>=1", false, &r, &a));
    fx_done(&r, &a);
}

static void test_holds_login(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_false(holds("login", false, &r, &a)); /* never tried: not met */
    assert_false(holds("login", true, &r, &a));  /* and not present */
    fx_done(&r, &a);

    fx_bare_host(&r, false);
    signed_in(&r, true, true);
    assess(&r, &a);
    assert_true(holds("login", false, &r, &a));
    assert_true(holds("login", true, &r, &a));
    fx_done(&r, &a);

    /* IMAP signs in, POP3 refuses: `--require login` is not met, and `--forbid login`
     * (say, for an account that should be disabled) finds a sign-in that worked */
    fx_bare_host(&r, false);
    signed_in(&r, true, false);
    assess(&r, &a);
    assert_false(holds("login", false, &r, &a));
    assert_true(holds("login", true, &r, &a));
    fx_done(&r, &a);

    fx_bare_host(&r, false);
    signed_in(&r, false, false);
    assess(&r, &a);
    assert_false(holds("login", false, &r, &a));
    assert_false(holds("login", true, &r, &a));
    fx_done(&r, &a);
}

static void test_holds_tls_versions(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_true(holds("tls>=1.2", false, &r, &a));
    assert_true(holds("tls>=1.3", false, &r, &a));
    assert_true(holds("tls=1.3", false, &r, &a));
    assert_true(holds("tls>1.2", false, &r, &a));
    assert_false(holds("tls<1.3", false, &r, &a));
    assert_false(holds("tls<1.2", true, &r, &a)); /* nothing old to forbid */
    ms_assessment_free(&a);

    snprintf(r.endpoints[P110].tls.version, sizeof r.endpoints[P110].tls.version, "TLSv1.2");
    assess(&r, &a);
    assert_true(holds("tls>=1.2", false, &r, &a));
    assert_false(holds("tls>=1.3", false, &r, &a)); /* every session must */
    assert_false(holds("tls=1.3", false, &r, &a));
    assert_true(holds("tls<=1.3", false, &r, &a));
    assert_false(holds("tls<1.2", true, &r, &a));
    assert_true(holds("tls<1.3", true, &r, &a)); /* one session is below 1.3 */
    ms_assessment_free(&a);

    snprintf(r.endpoints[I143].tls.version, sizeof r.endpoints[I143].tls.version, "TLSv1");
    assess(&r, &a);
    assert_false(holds("tls>=1.2", false, &r, &a));
    assert_true(holds("tls>=1.0", false, &r, &a));
    /* --forbid tls<1.2 fires when one endpoint of four negotiates TLS 1.0 */
    assert_true(holds("tls<1.2", true, &r, &a));
    assert_true(holds("tls=1", true, &r, &a));
    ms_assessment_free(&a);

    snprintf(r.endpoints[I993].tls.version, sizeof r.endpoints[I993].tls.version, "SSLv3");
    assess(&r, &a);
    assert_false(holds("tls>=1.0", false, &r, &a)); /* older than any TLS */
    ms_assessment_free(&a);

    /* no TLS session at all: a requirement on its version is not met (not vacuously true) */
    for (size_t i = 0; i < r.endpoint_count; i++)
        r.endpoints[i].tls.established = false;
    assess(&r, &a);
    assert_false(holds("tls>=1.2", false, &r, &a));
    assert_false(holds("tls<1.2", true, &r, &a));
    fx_done(&r, &a);
}

static void test_holds_cert_days(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_true(holds("cert-days>=21", false, &r, &a));
    assert_true(holds("cert-days>=365", false, &r, &a));
    assert_false(holds("cert-days>365", false, &r, &a));
    assert_true(holds("cert-days=365", false, &r, &a));
    assert_false(holds("cert-days<21", true, &r, &a));
    ms_assessment_free(&a);

    r.endpoints[P995].tls.cert.days_left = 10;
    assess(&r, &a);
    assert_false(holds("cert-days>=21", false, &r, &a)); /* every certificate must */
    assert_true(holds("cert-days>=10", false, &r, &a));
    assert_true(holds("cert-days<21", true, &r, &a)); /* one is about to expire */
    assert_false(holds("cert-days<10", true, &r, &a));
    ms_assessment_free(&a);

    /* an unverified certificate still has a date */
    r.endpoints[P995].tls.verified = false;
    r.endpoints[P995].tls.cert.days_left = -3;
    assess(&r, &a);
    assert_false(holds("cert-days>=0", false, &r, &a));
    assert_true(holds("cert-days<0", true, &r, &a));
    ms_assessment_free(&a);

    for (size_t i = 0; i < r.endpoint_count; i++)
        r.endpoints[i].tls.has_certificate = false;
    assess(&r, &a);
    assert_false(holds("cert-days>=21", false, &r, &a));
    assert_false(holds("cert-days<21", true, &r, &a));
    fx_done(&r, &a);
}

static void test_holds_features(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_true(holds("push_mail", false, &r, &a));            /* IMAP IDLE */
    assert_true(holds("leave_mail_on_server", false, &r, &a)); /* IMAP, and POP3 UIDL */
    assert_true(holds("headers_only_download", false, &r, &a));
    assert_true(holds("secure_connection", false, &r, &a));
    assert_false(holds("quota", false, &r, &a)); /* needs sign-in: no credentials */
    assert_false(holds("shared_folders", false, &r, &a));
    /* the language asks the assessor's own answer */
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        const struct ms_feature *f = &a.summary.features[k];
        assert_int_equal(holds(f->id, false, &r, &a), ms_assess_feature_holds(&a, f->id));
    }
    ms_assessment_free(&a);

    /* no IDLE anywhere: no push */
    for (size_t i = 0; i < 2; i++) {
        struct ms_strlist *caps = &r.endpoints[i].caps_after_tls;
        ms_strlist_free(caps);
        static const char *const no_idle[] = {"IMAP4rev1", "AUTH=PLAIN", NULL};
        fx_add_strs(caps, no_idle);
    }
    assess(&r, &a);
    assert_false(holds("push_mail", false, &r, &a));
    assert_false(holds("push_mail", true, &r, &a));
    fx_done(&r, &a);
}

static void test_holds_finding_codes(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_false(holds("tls.cert_expires_soon", true, &r, &a));
    ms_assessment_free(&a);
    r.endpoints[I993].tls.cert.days_left = 5;
    assess(&r, &a);
    assert_true(holds("tls.cert_expires_soon", true, &r, &a));
    assert_true(holds("tls.cert_expires_soon", false, &r, &a));
    assert_false(holds("tls.cert_expired", true, &r, &a));
    fx_done(&r, &a);
}

/* ---- findings -------------------------------------------------------------------- */

static void test_apply_all_met(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    size_t before = a.finding_count;
    apply(
        "imap:IDLE,pop3:UIDL,tls>=1.2,cert-days>=21,imap,pop3,imaps,imap+starttls,pop3s,pop3+stls,"
        "push_mail,leave_mail_on_server",
        false, &r, &a);
    apply("tls<1.2,cert-days<21,auth.plaintext_login_allowed,tls.cert_expired,login,quota", true,
          &r, &a);
    assert_int_equal(a.finding_count, before);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(count_code(&a, "require.unmet", -2), 0);
    assert_int_equal(count_code(&a, "forbid.present", -2), 0);
    fx_done(&r, &a);
}

static void test_apply_unmet_and_present(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    apply("imap:AUTH=XOAUTH2", false, &r, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(count_code(&a, "require.unmet", -2), 1);
    const struct ms_finding *f = fx_find(&a, "require.unmet", -1);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_null(f->endpoint);
    assert_non_null(strstr(f->message, "imap:AUTH=XOAUTH2"));
    assert_non_null(strstr(f->remedy, "imap:AUTH=XOAUTH2"));
    assert_non_null(strstr(f->remedy, "--require"));
    ms_assessment_free(&a);

    /* --forbid pop3 on a server that offers it */
    assess(&r, &a);
    apply("pop3", true, &r, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    f = fx_find(&a, "forbid.present", -1);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_null(f->endpoint);
    assert_non_null(strstr(f->message, "pop3"));
    assert_non_null(strstr(f->remedy, "--forbid"));
    assert_int_equal(count_code(&a, "require.unmet", -2), 0);
    ms_assessment_free(&a);

    /* one finding per failing item, each naming its own item as written */
    assess(&r, &a);
    apply("imap, Login ,tls>=1.2,cert-days>=400,imap:AUTH=XOAUTH2", false, &r, &a);
    apply("pop3+STLS,push_mail,tls<1.2", true, &r, &a);
    assert_int_equal(count_code(&a, "require.unmet", -1), 3);
    assert_int_equal(count_code(&a, "forbid.present", -1), 2);
    static const char *const named[] = {"Login", "cert-days>=400", "imap:AUTH=XOAUTH2", "pop3+STLS",
                                        "push_mail"};
    for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
        bool seen = false;
        for (size_t i = 0; i < a.finding_count; i++) {
            const char *code = a.findings[i].code;
            if ((!strcmp(code, "require.unmet") || !strcmp(code, "forbid.present")) &&
                strstr(a.findings[i].message, named[k]))
                seen = true;
        }
        if (!seen)
            fail_msg("no finding names '%s'", named[k]);
    }
    for (size_t i = 0; i < a.finding_count; i++)
        if (!strcmp(a.findings[i].code, "require.unmet"))
            assert_null(strstr(a.findings[i].message, "tls>=1.2")); /* that one holds */
    fx_done(&r, &a);
}

static void test_apply_keeps_worst_first(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    r.endpoints[P995].tls.cert.days_left = 5; /* a warning of the assessor's */
    assess(&r, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(count_code(&a, "tls.cert_expires_soon", P995), 1);
    apply("imap:AUTH=XOAUTH2", false, &r, &a); /* apply() checks the order */
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_string_equal(a.findings[0].code, "require.unmet");
    assert_int_equal(count_code(&a, "tls.cert_expires_soon", P995), 1);
    /* a requirement says nothing about an endpoint: their statuses stay */
    assert_int_equal(a.endpoint_status[P995], MS_STATUS_WARNING);
    assert_int_equal(a.endpoint_status[I993], MS_STATUS_OK);
    fx_done(&r, &a);
}

/* assess.h: an internal error makes the status UNKNOWN unless something is critical. A
 * failed requirement is critical: a CI job must see exit 2, not 3. */
static void test_apply_critical_beats_unknown(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    a.status = MS_STATUS_UNKNOWN;
    struct ms_thresholds t = {.warning_s = 0.001, .cert_warn_days = 14};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0); /* warnings do not hide an UNKNOWN */
    assert_int_equal(a.status, MS_STATUS_UNKNOWN);
    apply("imap:AUTH=XOAUTH2", false, &r, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

/* ---- thresholds ------------------------------------------------------------------ */

static void test_thresholds_none(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    r.endpoints[I993].timings_ms.total = 60000;
    r.endpoints[P995].tls.cert.days_left = 1;
    assess(&r, &a);
    size_t before = a.finding_count;
    enum ms_status st = a.status;
    struct ms_thresholds t = {.cert_warn_days = 14};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(a.finding_count, before);
    assert_int_equal(a.status, st);
    assert_int_equal(count_code(&a, "perf.response_time", -2), 0);
    assert_int_equal(fx_find(&a, "tls.cert_expires_soon", P995)->severity, MS_SEVERITY_WARNING);
    fx_done(&r, &a);
}

static void test_thresholds_response_time(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    r.endpoints[I993].timings_ms.total = 1500; /* the others took 10 ms */
    assess(&r, &a);
    assert_int_equal(a.status, MS_STATUS_OK);

    /* -w 1: a warning about 993 only */
    struct ms_thresholds t = {.warning_s = 1.0, .cert_warn_days = 14};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(count_code(&a, "perf.response_time", -2), 1);
    const struct ms_finding *f = fx_find(&a, "perf.response_time", I993);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_string_equal(f->endpoint, r.endpoints[I993].id);
    assert_non_null(strstr(f->message, "1.500 s"));
    assert_non_null(strstr(f->message, "warning threshold of 1 s"));
    assert_true(strlen(f->remedy) > 10);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(a.endpoint_status[I993], MS_STATUS_WARNING);
    assert_int_equal(a.endpoint_status[I143], MS_STATUS_OK);
    assert_worst_first(&a);
    ms_assessment_free(&a);

    /* -w 0.5 -c 1: critical, and one finding, not two */
    assess(&r, &a);
    t = (struct ms_thresholds){.warning_s = 0.5, .critical_s = 1.0, .cert_warn_days = 14};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(count_code(&a, "perf.response_time", -2), 1);
    f = fx_find(&a, "perf.response_time", I993);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "critical threshold of 1 s"));
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.endpoint_status[I993], MS_STATUS_CRITICAL);
    ms_assessment_free(&a);

    /* -c 2: 1.5 s is under it; -w 0.005: every endpoint is over (10 ms) */
    assess(&r, &a);
    t = (struct ms_thresholds){.warning_s = 0.005, .critical_s = 2.0, .cert_warn_days = 14};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(count_code(&a, "perf.response_time", -2), 4);
    for (long i = 0; i < 4; i++) {
        assert_int_equal(fx_find(&a, "perf.response_time", i)->severity, MS_SEVERITY_WARNING);
        assert_int_equal(a.endpoint_status[i], MS_STATUS_WARNING);
    }
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_worst_first(&a);
    ms_assessment_free(&a);

    /* exactly at the threshold is not over it */
    r.endpoints[I993].timings_ms.total = 1000;
    assess(&r, &a);
    t = (struct ms_thresholds){.warning_s = 1.0, .critical_s = 1.0, .cert_warn_days = 14};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(count_code(&a, "perf.response_time", -2), 0);
    ms_assessment_free(&a);

    /* an endpoint that was never timed is never slow */
    r.endpoints[I993].timings_ms.total = -1;
    assess(&r, &a);
    t = (struct ms_thresholds){.warning_s = 0.001, .critical_s = 0.002, .cert_warn_days = 14};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(count_code(&a, "perf.response_time", I993), 0);
    assert_int_equal(count_code(&a, "perf.response_time", -2), 3);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

static void test_thresholds_cert_crit_days(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    r.endpoints[P995].tls.cert.days_left = 5;
    assess(&r, &a);
    assert_int_equal(fx_find(&a, "tls.cert_expires_soon", P995)->severity, MS_SEVERITY_WARNING);
    assert_int_equal(a.status, MS_STATUS_WARNING);

    /* --cert-crit-days 7: 5 days left is critical now; still one finding */
    struct ms_thresholds t = {.cert_warn_days = 14, .cert_crit_days = 7};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(count_code(&a, "tls.cert_expires_soon", -2), 1);
    const struct ms_finding *f = fx_find(&a, "tls.cert_expires_soon", P995);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_string_equal(f->endpoint, r.endpoints[P995].id);
    assert_true(strlen(f->message) > 10 && strlen(f->remedy) > 10);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.endpoint_status[P995], MS_STATUS_CRITICAL);
    assert_int_equal(a.endpoint_status[P110], MS_STATUS_OK);
    assert_worst_first(&a);
    ms_assessment_free(&a);

    /* --cert-crit-days 5: not within 5 days (5 is not < 5): stays a warning */
    assess(&r, &a);
    t.cert_crit_days = 5;
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(fx_find(&a, "tls.cert_expires_soon", P995)->severity, MS_SEVERITY_WARNING);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    ms_assessment_free(&a);

    /* two endpoints within the critical window, and a slow one: all upgraded, order kept */
    r.endpoints[I143].tls.cert.days_left = 2;
    r.endpoints[I993].timings_ms.total = 3000;
    assess(&r, &a);
    t = (struct ms_thresholds){
        .warning_s = 1, .critical_s = 2, .cert_warn_days = 14, .cert_crit_days = 7};
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(fx_find(&a, "tls.cert_expires_soon", I143)->severity, MS_SEVERITY_CRITICAL);
    assert_int_equal(fx_find(&a, "tls.cert_expires_soon", P995)->severity, MS_SEVERITY_CRITICAL);
    assert_int_equal(fx_find(&a, "perf.response_time", I993)->severity, MS_SEVERITY_CRITICAL);
    assert_int_equal(count_code(&a, "tls.cert_expires_soon", -2), 2);
    assert_worst_first(&a);
    ms_assessment_free(&a);

    /* an expired certificate is already critical (tls.cert_expired): nothing to upgrade */
    r.endpoints[I143].tls.cert.days_left = 365;
    r.endpoints[I993].timings_ms.total = 10;
    r.endpoints[P995].tls.cert.days_left = -3;
    r.endpoints[P995].tls.cert.not_after_epoch = NOW - 3 * DAY;
    fx_bad_cert(&r.endpoints[P995], (const int[]){10}, 1, /* X509_V_ERR_CERT_HAS_EXPIRED */
                "certificate has expired");
    assess(&r, &a);
    size_t before = a.finding_count;
    assert_int_equal(ms_thresholds_apply(&t, &r, &a), 0);
    assert_int_equal(a.finding_count, before);
    assert_int_equal(count_code(&a, "tls.cert_expires_soon", -2), 0);
    fx_done(&r, &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_protocols_endpoints_login),
        cmocka_unit_test(test_parse_case),
        cmocka_unit_test(test_parse_features),
        cmocka_unit_test(test_parse_capabilities),
        cmocka_unit_test(test_parse_comparisons),
        cmocka_unit_test(test_parse_finding_codes),
        cmocka_unit_test(test_parse_lists),
        cmocka_unit_test(test_parse_unknown_item),
        cmocka_unit_test(test_holds_protocols_and_endpoints),
        cmocka_unit_test(test_holds_capabilities),
        cmocka_unit_test(test_smtp_items),
        cmocka_unit_test(test_holds_login),
        cmocka_unit_test(test_holds_tls_versions),
        cmocka_unit_test(test_holds_cert_days),
        cmocka_unit_test(test_holds_features),
        cmocka_unit_test(test_holds_finding_codes),
        cmocka_unit_test(test_apply_all_met),
        cmocka_unit_test(test_apply_unmet_and_present),
        cmocka_unit_test(test_apply_keeps_worst_first),
        cmocka_unit_test(test_apply_critical_beats_unknown),
        cmocka_unit_test(test_thresholds_none),
        cmocka_unit_test(test_thresholds_response_time),
        cmocka_unit_test(test_thresholds_cert_crit_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
