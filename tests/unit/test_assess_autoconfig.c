/* Unit tests of the judge of what mail programs are told (report/assess_autoconfig.c): the
 * setting verdicts, each autoconfig.* finding and its absence, and recommended's note, for
 * the incoming and the outgoing (SMTP submission) settings, on hand-built results
 * (tests/unit/fixture.c). */
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

/* Sending asked for, and a healthy submission endpoint on HOST:port (a Postfix: AUTH only
 * after TLS) appended to the result; returns its index. */
static long add_submission(struct ms_result *r, enum ms_security sec, uint16_t port)
{
    static const char *const pre[] = {"PIPELINING",          "SIZE 26214400", "STARTTLS",
                                      "ENHANCEDSTATUSCODES", "8BITMIME",      NULL};
    static const char *const post[] = {"PIPELINING",          "SIZE 26214400", "AUTH PLAIN LOGIN",
                                       "ENHANCEDSTATUSCODES", "8BITMIME",      NULL};
    r->want[MS_PROTOCOL_SUBMISSION] = true;
    r->endpoints = realloc(r->endpoints, (r->endpoint_count + 1) * sizeof *r->endpoints);
    assert_non_null(r->endpoints);
    struct ms_endpoint_result *ep = &r->endpoints[r->endpoint_count];
    memset(ep, 0, sizeof *ep);
    fx_healthy_endpoint(ep, MS_PROTOCOL_SUBMISSION, sec, port);
    snprintf(ep->id, sizeof ep->id, "%s://%s:%u",
             sec == MS_SECURITY_IMPLICIT ? "submissions"
             : port == 25                ? "smtp"
                                         : "submission",
             HOST, (unsigned)port);
    snprintf(ep->greeting, sizeof ep->greeting, "220 " HOST " ESMTP Postfix");
    if (sec == MS_SECURITY_STARTTLS) {
        fx_set_strs(&ep->caps_before_tls, pre);
        snprintf(ep->starttls_response, sizeof ep->starttls_response,
                 "220 2.0.0 Ready to start TLS");
    }
    fx_set_strs(&ep->caps_after_tls, post);
    return (long)r->endpoint_count++;
}

/* A discovery candidate from SRV record name (probed as endpoint idx, -1: not probed). */
static void add_srv(struct ms_result *r, const char *name, const char *host, uint16_t port,
                    enum ms_security sec, long idx)
{
    struct ms_discovery *d = &r->discovery;
    d->candidates = realloc(d->candidates, (d->candidate_count + 1) * sizeof *d->candidates);
    assert_non_null(d->candidates);
    struct ms_candidate *c = &d->candidates[d->candidate_count++];
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    c->protocol = MS_PROTOCOL_SUBMISSION;
    c->security = sec;
    c->source = MS_SOURCE_SRV;
    snprintf(c->source_name, sizeof c->source_name, "%s." DOMAIN, name);
    c->endpoint_index = idx;
    if (idx < 0)
        snprintf(c->dropped, sizeof c->dropped, "does not resolve");
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

/* setup(), with sending on HOST: 465 and 587 (both in SRV records), and an autoconfig file
 * naming IMAP on 993 and SMTP on 587 (STARTTLS). */
static void setup_sending(struct ms_result *r, long *s465, long *s587)
{
    setup(r);
    *s465 = add_submission(r, MS_SECURITY_IMPLICIT, 465);
    *s587 = add_submission(r, MS_SECURITY_STARTTLS, 587);
    add_srv(r, "_submissions._tcp", HOST, 465, MS_SECURITY_IMPLICIT, *s465);
    add_srv(r, "_submission._tcp", HOST, 587, MS_SECURITY_STARTTLS, *s587);
    publish(r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(r, MS_PUB_AUTOCONFIG, "smtp", HOST, 587, MS_SECURITY_STARTTLS);
}

/* The outgoing server a file names is judged like the incoming ones. */
static void test_outgoing_works_and_note(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    long s465, s587;
    setup_sending(&r, &s465, &s587);
    publish(&r, MS_PUB_AUTODISCOVER, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTODISCOVER, "smtp", HOST, 465, MS_SECURITY_IMPLICIT);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    const struct ms_pub_verdict *v = ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 1);
    assert_int_equal(v->check, MS_PUB_WORKS);
    assert_int_equal(v->endpoint, s587);
    assert_string_equal(v->words, "works");
    v = ms_assess_pub_verdict(&r, &a, MS_PUB_AUTODISCOVER, 1);
    assert_int_equal(v->check, MS_PUB_WORKS);
    assert_int_equal(v->endpoint, s465);
    /* autoconfig's 587 and Autodiscover's 465 differ: both work, so only untidy */
    const struct ms_finding *f = find(&a, "autoconfig.disagrees");
    assert_non_null(f);
    assert_int_equal(count(&a, "autoconfig.disagrees"), 1); /* IMAP agrees */
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "different SMTP servers"));
    assert_non_null(strstr(f->message, HOST ":587"));
    assert_non_null(strstr(f->message, HOST ":465"));
    assert_int_equal(count(&a, "autoconfig.points_to_broken"), 0);
    assert_int_equal(count(&a, "autoconfig.insecure"), 0);
    /* mailscope recommends 465: Thunderbird would set up 587 */
    assert_non_null(strstr(a.autoconfig_note,
                           "Thunderbird (autoconfig) would set up SMTP at " HOST
                           ":587 (STARTTLS), which works too, but implicit TLS is preferred "
                           "(RFC 8314); mailscope recommends " HOST ":465 (SSL/TLS)."));
    assert_null(strstr(a.autoconfig_note, "Outlook"));
    assert_int_equal(ms_catalogue_missing_vars, 0);
    ms_assessment_free(&a);

    /* sending not asked for: the setting is not checked, and nothing is said about it */
    r.want[MS_PROTOCOL_SUBMISSION] = false;
    r.endpoint_count -= 2;
    r.discovery.candidate_count = 0;
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    v = ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 1);
    assert_int_equal(v->check, MS_PUB_NOT_CHECKED);
    assert_string_equal(v->words, "not checked (not asked for (--protocols))");
    assert_int_equal(count(&a, "autoconfig.disagrees"), 0);
    assert_string_equal(a.autoconfig_note, "");
    r.endpoint_count += 2;
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_outgoing_broken_insecure_port25(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    setup(&r);
    long s465 = add_submission(&r, MS_SECURITY_IMPLICIT, 465);
    long s587 = add_submission(&r, MS_SECURITY_STARTTLS, 587);
    r.endpoints[s465].failure = MS_FAILURE_TCP_REFUSED;
    r.endpoints[s465].failure_phase = MS_PHASE_CONNECT;
    r.endpoints[s465].completed_securely = false;
    r.endpoints[s465].tls.established = false;
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTOCONFIG, "smtp", HOST, 465, MS_SECURITY_IMPLICIT);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 1)->check, MS_PUB_BROKEN);
    const struct ms_finding *f = find(&a, "autoconfig.points_to_broken");
    assert_non_null(f);
    assert_int_equal(count(&a, "autoconfig.points_to_broken"), 1);
    assert_int_equal(f->endpoint_index, s465);
    assert_non_null(strstr(f->message, "to use SMTP at " HOST ":465 (SSL/TLS)"));
    assert_non_null(strstr(f->message, "refused the connection"));
    assert_non_null(strstr(f->remedy, HOST ":587 (STARTTLS) works"));
    assert_non_null(strstr(a.autoconfig_note, "would set up SMTP at " HOST ":465"));
    assert_non_null(strstr(a.autoconfig_note, "mailscope recommends " HOST ":587 (STARTTLS)"));
    ms_assessment_free(&a);
    ms_result_free(&r);

    /* plaintext: probed with STARTTLS on its port, which the server offers */
    setup(&r);
    s587 = add_submission(&r, MS_SECURITY_STARTTLS, 587);
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTOCONFIG, "smtp", HOST, 587, MS_SECURITY_NONE);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    const struct ms_pub_verdict *v = ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 1);
    assert_int_equal(v->check, MS_PUB_INSECURE);
    assert_int_equal(v->endpoint, s587);
    assert_non_null(strstr(v->words, "while the server offers STARTTLS"));
    f = find(&a, "autoconfig.insecure");
    assert_non_null(f);
    assert_int_equal(count(&a, "autoconfig.insecure"), 1);
    assert_non_null(strstr(f->message, "to use SMTP at " HOST ":587 without encryption (plain)"));
    assert_non_null(strstr(f->message, "The server offers STARTTLS there."));
    assert_non_null(strstr(a.autoconfig_note, "sends passwords without encryption"));
    ms_assessment_free(&a);
    ms_result_free(&r);

    /* port 25: it works, but the endpoint's own finding says what is wrong with it */
    setup(&r);
    long s25 = add_submission(&r, MS_SECURITY_STARTTLS, 25);
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTOCONFIG, "smtp", HOST, 25, MS_SECURITY_STARTTLS);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    v = ms_assess_pub_verdict(&r, &a, MS_PUB_AUTOCONFIG, 1);
    assert_int_equal(v->check, MS_PUB_WORKS);
    assert_int_equal(v->endpoint, s25);
    assert_non_null(strstr(v->words, "port 25 is for mail between servers"));
    assert_non_null(fx_find(&a, "submission.port25", s25));
    assert_int_equal(count(&a, "autoconfig.points_to_broken"), 0);
    ms_assessment_free(&a);
    /* ... and mailscope recommends a submission port when there is one */
    add_submission(&r, MS_SECURITY_IMPLICIT, 465);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_non_null(strstr(a.autoconfig_note,
                           "would set up SMTP at " HOST ":25 (STARTTLS), which works here, but "
                           "port 25 is for mail between servers and often blocked for mail "
                           "programs; mailscope recommends " HOST ":465 (SSL/TLS)."));
    ms_assessment_free(&a);
    ms_result_free(&r);
}

/* SRV: a file agrees with the domain's SRV records when one of them names its server (a
 * domain may publish _submissions and _submission); it disagrees when none does. */
static void test_outgoing_srv(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    long s465, s587;
    setup_sending(&r, &s465, &s587);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(count(&a, "autoconfig.disagrees"), 0);
    ms_assessment_free(&a);
    ms_result_free(&r);

    setup(&r);
    add_submission(&r, MS_SECURITY_STARTTLS, 587);
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    publish(&r, MS_PUB_AUTOCONFIG, "smtp", HOST, 587, MS_SECURITY_STARTTLS);
    add_srv(&r, "_submission._tcp", "smtp.other.example", 587, MS_SECURITY_STARTTLS, -1);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    const struct ms_finding *f = find(&a, "autoconfig.disagrees");
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING); /* the SRV target does not resolve */
    assert_non_null(strstr(f->message, "different SMTP servers"));
    assert_non_null(
        strstr(f->message, "SRV (_submission._tcp." DOMAIN ") says smtp.other.example:587"));
    assert_non_null(strstr(f->remedy, HOST ":587 (STARTTLS) works"));
    ms_assessment_free(&a);
    ms_result_free(&r);
}

/* --user signed in for sending: the outgoing setting's user name is checked too. */
static void test_outgoing_username(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    setup(&r);
    long s465 = add_submission(&r, MS_SECURITY_IMPLICIT, 465);
    r.credentials_given = true;
    snprintf(r.user, sizeof r.user, "alice");
    r.endpoints[s465].auth.wanted = r.endpoints[s465].auth.chosen = true;
    fx_answer_auth(&r.endpoints[s465], "PLAIN", "235", "2.7.0", "Authentication successful");
    r.endpoints[s465].auth.ok = true;
    publish(&r, MS_PUB_AUTOCONFIG, "imap", HOST, 993, MS_SECURITY_IMPLICIT);
    struct ms_pub_server *ps =
        publish(&r, MS_PUB_AUTOCONFIG, "smtp", HOST, 465, MS_SECURITY_IMPLICIT);
    snprintf(ps->username, sizeof ps->username, "alice@" DOMAIN);
    snprintf(ps->username_pattern, sizeof ps->username_pattern, "%%EMAILADDRESS%%");
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    const struct ms_finding *f = find(&a, "autoconfig.username_pattern");
    assert_non_null(f);
    assert_int_equal(count(&a, "autoconfig.username_pattern"), 1); /* IMAP did not sign in */
    assert_non_null(strstr(f->message, "SMTP"));
    assert_non_null(strstr(f->message, "\"alice@" DOMAIN "\" (%EMAILADDRESS%)"));
    ms_assessment_free(&a);
    ms_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_agree),
        cmocka_unit_test(test_broken_and_note),
        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_disagrees_invalid_redirect),
        cmocka_unit_test(test_username),
        cmocka_unit_test(test_outgoing_works_and_note),
        cmocka_unit_test(test_outgoing_broken_insecure_port25),
        cmocka_unit_test(test_outgoing_srv),
        cmocka_unit_test(test_outgoing_username),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
