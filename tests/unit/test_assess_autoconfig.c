/* Unit tests of the judge of what mail programs are told (report/assess_autoconfig.c): the
 * setting verdicts, each autoconfig.* finding and its absence, and recommended's note, on
 * hand-built results (tests/unit/fixture.c). */
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
#include "report/assess.h"
#include "report/catalogue.h"

#define DOMAIN "example.com"

/* A discovery result for DOMAIN on the bare host's four healthy endpoints, with every
 * published source "not found" until a test fills one. */
static void setup(struct ms_result *r)
{
    fx_bare_host(r, false);
    r->bare_host = false;
    r->discovery.performed = true;
    snprintf(r->discovery.domain, sizeof r->discovery.domain, DOMAIN);
    snprintf(r->discovery.user, sizeof r->discovery.user, "alice");
    struct ms_published *p = &r->discovery.published;
    p->performed = true;
    snprintf(p->address, sizeof p->address, "alice@" DOMAIN);
    p->sources = calloc(MS_PUB_METHOD_COUNT, sizeof *p->sources);
    assert_non_null(p->sources);
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        p->sources[m].method = (enum ms_pub_method)m;
        p->sources[m].outcome = MS_PUB_NOT_FOUND;
    }
}

/* Source m gives one setting. */
static struct ms_pub_server *publish(struct ms_result *r, enum ms_pub_method m, const char *type,
                                     const char *host, uint16_t port, enum ms_security sec)
{
    struct ms_pub_source *s = &r->discovery.published.sources[m];
    s->outcome = MS_PUB_SETTINGS;
    snprintf(s->url, sizeof s->url, "https://autoconfig." DOMAIN "/mail/config-v1.1.xml");
    s->servers = realloc(s->servers, (s->server_count + 1) * sizeof *s->servers);
    assert_non_null(s->servers);
    struct ms_pub_server *ps = &s->servers[s->server_count++];
    memset(ps, 0, sizeof *ps);
    snprintf(ps->type, sizeof ps->type, "%s", type);
    snprintf(ps->host, sizeof ps->host, "%s", host);
    ps->port = port;
    ps->security = sec;
    snprintf(ps->security_text, sizeof ps->security_text,
             sec == MS_SECURITY_NONE ? "plain" : "SSL");
    return ps;
}

static size_t count(const struct ms_assessment *a, const char *code)
{
    size_t n = 0;
    for (size_t k = 0; k < a->finding_count; k++)
        n += strcmp(a->findings[k].code, code) == 0;
    return n;
}

static const struct ms_finding *find(const struct ms_assessment *a, const char *code)
{
    for (size_t k = 0; k < a->finding_count; k++)
        if (strcmp(a->findings[k].code, code) == 0)
            return &a->findings[k];
    return NULL;
}

static void test_all_agree(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    setup(&r);
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTOCONFIG, "smtp", HOST, 587, MS_SECURITY_STARTTLS);
    publish(&r, MS_PUB_AUTODISCOVER, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(a.pub_program[0], MS_PUB_AUTOCONFIG);
    assert_int_equal(a.pub_program[1], MS_PUB_AUTODISCOVER);
    const struct ms_pub_verdict *v = ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 0);
    assert_non_null(v);
    assert_int_equal(v->check, MS_PUB_WORKS);
    assert_int_equal(v->endpoint, I993);
    v = ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 1);
    assert_int_equal(v->check, MS_PUB_NOT_CHECKED);
    assert_null(ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 2));
    assert_null(ms_assess_pub_verdict(&r, &a, MS_PUB_WELL_KNOWN, 0));
    for (int f = MS_F_AUTOCONFIG_POINTS_TO_BROKEN; f <= MS_F_AUTOCONFIG_USERNAME_PATTERN; f++)
        assert_int_equal(count(&a, ms_catalogue[f].code), 0);
    assert_string_equal(a.autoconfig_note, "");
    assert_int_equal(a.status, MS_STATUS_OK);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_broken_and_note(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    setup(&r);
    r.endpoints[I993].failure = MS_FAILURE_TCP_REFUSED;
    r.endpoints[I993].completed_securely = false;
    r.endpoints[I993].tls.established = false;
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTODISCOVER, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(count(&a, "autoconfig.points_to_broken"), 1); /* one per server */
    const struct ms_finding *f = find(&a, "autoconfig.points_to_broken");
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_int_equal(f->endpoint_index, I993);
    assert_non_null(strstr(f->message, "refused the connection"));
    assert_non_null(strstr(f->message, "The autoconfig file"));
    assert_non_null(strstr(f->message, "and Autodiscover"));
    assert_non_null(strstr(f->remedy, HOST ":143 (STARTTLS) works"));
    assert_non_null(strstr(a.autoconfig_note, "Thunderbird (autoconfig) would set up IMAP"));
    assert_non_null(strstr(a.autoconfig_note, "Outlook"));
    assert_int_equal(ms_catalogue_missing_vars, 0);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_insecure(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    setup(&r);
    publish(&r, MS_PUB_AUTOCONFIG, "pop3", HOST, 110, MS_SECURITY_NONE);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 0)->check, MS_PUB_INSECURE);
    assert_int_equal(ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 0)->endpoint, P110);
    const struct ms_finding *f = find(&a, "autoconfig.insecure");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "without encryption (plain)"));
    assert_non_null(strstr(f->message, "offers STLS"));
    ms_assessment_free(&a);
    ms_result_free(&r);

    /* http only, and the https file wins when there is one */
    setup(&r);
    publish(&r, MS_PUB_AUTOCONFIG_HTTP, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(a.pub_program[0], MS_PUB_AUTOCONFIG_HTTP);
    f = find(&a, "autoconfig.insecure");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "only served over plain http"));
    ms_assessment_free(&a);
    publish(&r, MS_PUB_WELL_KNOWN, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(a.pub_program[0], MS_PUB_WELL_KNOWN);
    assert_int_equal(count(&a, "autoconfig.insecure"), 0);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_disagrees_invalid_redirect(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    setup(&r);
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTODISCOVER, "imap", "imap.other.example", 993, MS_SECURITY_IMPLICIT);
    struct ms_pub_source *s = &r.discovery.published.sources[MS_PUB_WELL_KNOWN];
    s->outcome = MS_PUB_INVALID;
    snprintf(s->message, sizeof s->message, "not well-formed XML: mismatched tag");
    s->error_line = 7;
    s->error_column = 3;
    s = &r.discovery.published.sources[MS_PUB_AUTODISCOVER];
    snprintf(s->redirected_to, sizeof s->redirected_to, "evil.example");
    s = &r.discovery.published.sources[MS_PUB_AUTODISCOVER_REDIRECT];
    snprintf(s->redirected_to, sizeof s->redirected_to, "evil.example"); /* told once */
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    const struct ms_finding *f = find(&a, "autoconfig.disagrees");
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING); /* imap.other.example was not probed */
    assert_non_null(strstr(f->message, "imap.other.example:993"));
    f = find(&a, "autoconfig.invalid");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "(line 7, column 3)"));
    assert_int_equal(count(&a, "autodiscover.redirect_other_domain"), 1);
    assert_non_null(
        strstr(find(&a, "autodiscover.redirect_other_domain")->message, "evil.example"));
    assert_int_equal(ms_catalogue_missing_vars, 0);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_username(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    setup(&r);
    fx_credentials(&r);
    r.endpoints[I993].auth.attempted = r.endpoints[I993].auth.ok = true;
    snprintf(r.user, sizeof r.user, "alice");
    struct ms_pub_server *ps =
        publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    snprintf(ps->username, sizeof ps->username, "alice@" DOMAIN);
    snprintf(ps->username_pattern, sizeof ps->username_pattern, "%%EMAILADDRESS%%");
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    const struct ms_finding *f = find(&a, "autoconfig.username_pattern");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "\"alice@" DOMAIN "\" (%EMAILADDRESS%)"));
    assert_non_null(strstr(f->remedy, "%EMAILLOCALPART%"));
    ms_assessment_free(&a);
    snprintf(ps->username, sizeof ps->username, "ALICE");
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(count(&a, "autoconfig.username_pattern"), 0);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_agree), cmocka_unit_test(test_broken_and_note),
        cmocka_unit_test(test_insecure),  cmocka_unit_test(test_disagrees_invalid_redirect),
        cmocka_unit_test(test_username),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
