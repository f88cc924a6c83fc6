/* Unit tests of the best-settings ranking in the assessor (struct ms_assessment
 * recommended / preferred / not_recommended): which endpoint a careful client (RFC 8314)
 * would configure, from hand-built facts. */
#include <openssl/x509_vfy.h>
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
#include "probe/result.h"
#include "report/assess.h"

#define DOMAIN "example.com" /* HOST is mail.example.com */

/* ---- fixtures -------------------------------------------------------------------- */

/* A healthy endpoint (fx_healthy_endpoint) on host, its certificate issued for host, with
 * only a few capabilities (no IDLE, AUTH= or USER). */
static void good(struct ms_endpoint_result *ep, const char *host, enum ms_protocol p,
                 enum ms_security s, uint16_t port)
{
    static const char *const imap_pre[] = {"STARTTLS", "LOGINDISABLED", NULL};
    static const char *const pop3_pre[] = {"STLS", "TOP", NULL};
    static const char *const imap_tls[] = {"IMAP4rev1", NULL};
    static const char *const pop3_tls[] = {"UIDL", NULL};
    bool imap = p == MS_PROTOCOL_IMAP;
    fx_healthy_endpoint(ep, p, s, port);
    if (s == MS_SECURITY_STARTTLS)
        fx_set_strs(&ep->caps_before_tls, imap ? imap_pre : pop3_pre);
    fx_set_strs(&ep->caps_after_tls, imap ? imap_tls : pop3_tls);
    fx_set_host(ep, host);
    fx_set_san(ep, host);
    snprintf(ep->tls.cert.subject, sizeof ep->tls.cert.subject, "CN=%s", host);
}

static void from_srv(struct ms_endpoint_result *ep, const char *service, int priority, int weight)
{
    ep->source = MS_SOURCE_SRV;
    snprintf(ep->source_name, sizeof ep->source_name, "%s.%s", service, DOMAIN);
    ep->srv_priority = priority;
    ep->srv_weight = weight;
}

static void from_mx(struct ms_endpoint_result *ep)
{
    ep->source = MS_SOURCE_MX;
    snprintf(ep->source_name, sizeof ep->source_name, "%s MX", DOMAIN);
}

static void guessed(struct ms_endpoint_result *ep)
{
    ep->source = MS_SOURCE_CONVENTIONAL;
    snprintf(ep->source_name, sizeof ep->source_name, "conventional name");
}

/* A result with n endpoints (filled by the test); discovery performed when domain. */
static void result(struct ms_result *r, size_t n, bool discovery)
{
    fx_result(r, n);
    r->want[MS_PROTOCOL_IMAP] = r->want[MS_PROTOCOL_POP3] = true;
    r->bare_host = !discovery;
    if (discovery) {
        snprintf(r->target, sizeof r->target, "alice@" DOMAIN);
        r->discovery.performed = true;
        snprintf(r->discovery.domain, sizeof r->discovery.domain, DOMAIN);
        snprintf(r->discovery.user, sizeof r->discovery.user, "alice");
        r->discovery.candidates = calloc(16, sizeof *r->discovery.candidates);
        assert_non_null(r->discovery.candidates);
    }
}

/* The discovery candidate behind endpoint i (MX preference lives there). */
static void candidate_for(struct ms_result *r, size_t i, int priority)
{
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    struct ms_candidate *c = &r->discovery.candidates[r->discovery.candidate_count++];
    snprintf(c->host, sizeof c->host, "%s", ep->host);
    c->port = ep->port;
    c->protocol = ep->protocol;
    c->security = ep->security;
    c->source = ep->source;
    snprintf(c->source_name, sizeof c->source_name, "%s", ep->source_name);
    c->priority = priority;
    c->weight = ep->source == MS_SOURCE_SRV ? ep->srv_weight : -1;
    c->endpoint_index = (long)i;
}

static void unverified(struct ms_endpoint_result *ep)
{
    fx_bad_cert(ep, (const int[]){X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT}, 1,
                "self-signed certificate");
}

static void refused(struct ms_endpoint_result *ep)
{
    fx_fail_at(ep, MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
}

static void assess(const struct ms_result *r, struct ms_assessment *a)
{
    assert_int_equal(ms_assess(r, NULL, a), 0);
    /* invariants: a recommendation is a secure endpoint of its protocol, never plaintext */
    for (int p = 0; p < 2; p++) {
        long i = a->recommended[p];
        if (i < 0) {
            assert_int_equal(i, -1);
            assert_null(ms_assess_recommended(r, a, (enum ms_protocol)p));
            continue;
        }
        assert_true((size_t)i < r->endpoint_count);
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        assert_ptr_equal(ms_assess_recommended(r, a, (enum ms_protocol)p), ep);
        assert_int_equal(ep->protocol, p);
        assert_true(ms_assess_endpoint_secure(ep));
        assert_int_not_equal(ep->security, MS_SECURITY_NONE);
        assert_string_equal(a->not_recommended[p], "");
    }
    if (a->preferred >= 0)
        assert_true(a->recommended[a->preferred] >= 0);
    else
        assert_true(a->recommended[0] < 0 && a->recommended[1] < 0);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_implicit_beats_starttls(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    result(&r, 4, false);
    good(&r.endpoints[0], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143);
    good(&r.endpoints[1], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    good(&r.endpoints[2], "mail." DOMAIN, MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS, 110);
    good(&r.endpoints[3], "mail." DOMAIN, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 1);
    assert_int_equal(a.recommended[MS_PROTOCOL_POP3], 3);
    assert_int_equal(a.preferred, MS_PROTOCOL_IMAP);
    ms_assessment_free(&a);

    /* implicit TLS broken: STARTTLS is the fallback, never nothing */
    refused(&r.endpoints[1]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 0);
    assert_int_equal(r.endpoints[a.recommended[MS_PROTOCOL_IMAP]].security, MS_SECURITY_STARTTLS);
    fx_done(&r, &a);
}

/* Sending: the outgoing server is recommended like the incoming ones (implicit TLS first),
 * named in the schedule, and never "preferred". */
static void test_submission_recommended(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const smtp_pre[] = {"PIPELINING", "STARTTLS", NULL};
    static const char *const smtp_tls[] = {"PIPELINING", "SIZE 1048576", "AUTH PLAIN LOGIN", NULL};
    result(&r, 4, false);
    r.want[MS_PROTOCOL_SUBMISSION] = true;
    good(&r.endpoints[0], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    good(&r.endpoints[1], "mail." DOMAIN, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    good(&r.endpoints[2], "smtp." DOMAIN, MS_PROTOCOL_SUBMISSION, MS_SECURITY_STARTTLS, 587);
    good(&r.endpoints[3], "smtp." DOMAIN, MS_PROTOCOL_SUBMISSION, MS_SECURITY_IMPLICIT, 465);
    fx_set_strs(&r.endpoints[2].caps_before_tls, smtp_pre);
    for (int k = 2; k < 4; k++)
        fx_set_strs(&r.endpoints[k].caps_after_tls, smtp_tls);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_SUBMISSION], 3);
    assert_int_equal(a.preferred, MS_PROTOCOL_IMAP);
    assert_non_null(strstr(a.summary.schedule, "Send through smtp." DOMAIN ":465"));
    const struct ms_feature *size = &a.summary.features[MS_FEATURE_MAX_MESSAGE_SIZE];
    assert_string_equal(size->answers[MS_PROTOCOL_SUBMISSION].text, "1.0 MB");
    assert_int_equal(size->answers[MS_PROTOCOL_IMAP].answer, MS_ANSWER_NA);
    /* no credentials: the server is ready, whether the account may send is not known */
    const struct ms_feature *send = &a.summary.features[MS_FEATURE_CAN_SEND];
    assert_int_equal(send->answers[MS_PROTOCOL_SUBMISSION].answer, MS_ANSWER_UNKNOWN);
    ms_assessment_free(&a);

    /* both submission endpoints refused: none recommended, and the reason is said */
    refused(&r.endpoints[2]);
    refused(&r.endpoints[3]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_SUBMISSION], -1);
    assert_true(strlen(a.not_recommended[MS_PROTOCOL_SUBMISSION]) > 10);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 0);
    assert_string_equal(
        a.summary.features[MS_FEATURE_CAN_SEND].answers[MS_PROTOCOL_SUBMISSION].text, "no");
    assert_non_null(strstr(a.summary.schedule, "Sending: no submission server"));
    fx_done(&r, &a);
}

static void test_implicit_beats_srv_starttls(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    /* SRV only for _imap._tcp (STARTTLS); a guessed host answers on 993 */
    result(&r, 2, true);
    good(&r.endpoints[0], "imap." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143);
    from_srv(&r.endpoints[0], "_imap._tcp", 0, 1);
    good(&r.endpoints[1], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    guessed(&r.endpoints[1]);
    r.want[MS_PROTOCOL_POP3] = false;
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 1);
    assert_int_equal(a.recommended[MS_PROTOCOL_POP3], -1);
    assert_int_equal(a.preferred, MS_PROTOCOL_IMAP);
    fx_done(&r, &a);
}

static void test_srv_priority_then_weight(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    result(&r, 4, true);
    good(&r.endpoints[0], "a." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    from_srv(&r.endpoints[0], "_imaps._tcp", 10, 100);
    good(&r.endpoints[1], "b." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    from_srv(&r.endpoints[1], "_imaps._tcp", 5, 1);
    good(&r.endpoints[2], "c." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    from_srv(&r.endpoints[2], "_imaps._tcp", 5, 10);
    good(&r.endpoints[3], "d." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    from_srv(&r.endpoints[3], "_imaps._tcp", 5, 10);
    for (size_t i = 0; i < 4; i++)
        candidate_for(&r, i, r.endpoints[i].srv_priority);
    r.want[MS_PROTOCOL_POP3] = false;
    assess(&r, &a);
    /* priority 5 before 10; within 5 the heavier (10) first; equal: endpoint order */
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 2);
    ms_assessment_free(&a);

    unverified(&r.endpoints[2]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 3);
    ms_assessment_free(&a);

    unverified(&r.endpoints[3]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 1);
    ms_assessment_free(&a);

    refused(&r.endpoints[1]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 0);
    fx_done(&r, &a);
}

static void test_srv_beats_mx_beats_conventional(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    /* endpoint order is the opposite of the preference */
    result(&r, 5, true);
    good(&r.endpoints[0], "imap." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    guessed(&r.endpoints[0]);
    good(&r.endpoints[1], "mx2." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    from_mx(&r.endpoints[1]);
    good(&r.endpoints[2], "mx1." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    from_mx(&r.endpoints[2]);
    good(&r.endpoints[3], "srv." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    from_srv(&r.endpoints[3], "_imaps._tcp", 20, 0);
    good(&r.endpoints[4], "target." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    candidate_for(&r, 0, -1);
    candidate_for(&r, 1, 20); /* MX preference 20 */
    candidate_for(&r, 2, 10); /* MX preference 10: the better MX */
    candidate_for(&r, 3, 20);
    r.want[MS_PROTOCOL_POP3] = false;

    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 3); /* SRV, although priority 20 */
    ms_assessment_free(&a);

    refused(&r.endpoints[3]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 2); /* the lower MX preference */
    ms_assessment_free(&a);

    unverified(&r.endpoints[2]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 1);
    ms_assessment_free(&a);

    refused(&r.endpoints[1]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 0); /* conventional before others */
    ms_assessment_free(&a);

    refused(&r.endpoints[0]);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 4);
    fx_done(&r, &a);
}

static void test_unverified_never_recommended(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    result(&r, 3, false);
    good(&r.endpoints[0], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143);
    good(&r.endpoints[1], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    good(&r.endpoints[2], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_NONE, 143);
    r.want[MS_PROTOCOL_POP3] = false;
    unverified(&r.endpoints[0]);
    unverified(&r.endpoints[1]);
    /* a plaintext session that "worked" */
    ms_strlist_free(&r.endpoints[2].tls.cert.san);
    r.endpoints[2].tls = (struct ms_tls_facts){0};
    r.endpoints[2].completed_securely = false;
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], -1);
    assert_int_equal(a.preferred, -1);
    /* why: the endpoint that got furthest, implicit TLS first */
    assert_string_equal(a.not_recommended[MS_PROTOCOL_IMAP],
                        "port 993 has an untrusted certificate (2 other endpoints failed too)");
    assert_string_equal(a.not_recommended[MS_PROTOCOL_POP3], "");
    ms_assessment_free(&a);

    /* chain verified but the host name does not match: still not recommended */
    r.endpoints[1].tls.verified = true;
    r.endpoints[1].tls.verify_error_count = 0;
    r.endpoints[1].tls.verify_error[0] = '\0';
    r.endpoints[1].completed_securely = true;
    r.endpoints[1].tls.cert.hostname_match = false;
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], -1);
    assert_non_null(strstr(a.not_recommended[MS_PROTOCOL_IMAP], "certificate for another name"));
    ms_assessment_free(&a);

    /* secure session, verified, but a critical finding (SSLv3): not recommended either */
    r.endpoints[1].tls.cert.hostname_match = true;
    snprintf(r.endpoints[1].tls.version, sizeof r.endpoints[1].tls.version, "SSLv3");
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], -1);
    assert_non_null(strstr(a.not_recommended[MS_PROTOCOL_IMAP], "outdated TLS version"));
    ms_assessment_free(&a);

    /* fixed: now it is the one */
    snprintf(r.endpoints[1].tls.version, sizeof r.endpoints[1].tls.version, "TLSv1.2");
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 1);
    assert_int_equal(a.preferred, MS_PROTOCOL_IMAP);
    fx_done(&r, &a);
}

static void test_ok_before_warning(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    result(&r, 2, false);
    good(&r.endpoints[0], "a." DOMAIN, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    good(&r.endpoints[1], "b." DOMAIN, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    r.want[MS_PROTOCOL_IMAP] = false;
    r.endpoints[0].tls.cert.days_left = 3; /* tls.cert_expires_soon: warning */
    assess(&r, &a);
    assert_int_equal(a.endpoint_status[0], MS_STATUS_WARNING);
    assert_int_equal(a.recommended[MS_PROTOCOL_POP3], 1);
    ms_assessment_free(&a);
    /* a warning alone never disqualifies */
    r.endpoints[1].tls.cert.days_left = 2;
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_POP3], 0);
    fx_done(&r, &a);
}

static void test_pop3_only_request_prefers_pop3(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    result(&r, 2, false);
    good(&r.endpoints[0], "mail." DOMAIN, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    good(&r.endpoints[1], "mail." DOMAIN, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    assess(&r, &a);
    assert_int_equal(a.preferred, MS_PROTOCOL_IMAP); /* both asked for: IMAP first */
    ms_assessment_free(&a);

    r.want[MS_PROTOCOL_IMAP] = false; /* --protocols pop3 (an IMAP URL target was named too) */
    assess(&r, &a);
    assert_int_equal(a.preferred, MS_PROTOCOL_POP3);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 0);
    assert_int_equal(a.recommended[MS_PROTOCOL_POP3], 1);
    ms_assessment_free(&a);

    /* IMAP wanted but broken: POP3 is what works */
    r.want[MS_PROTOCOL_IMAP] = true;
    refused(&r.endpoints[0]);
    assess(&r, &a);
    assert_int_equal(a.preferred, MS_PROTOCOL_POP3);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], -1);
    assert_string_equal(a.not_recommended[MS_PROTOCOL_IMAP], "port 993 refused the connection");
    fx_done(&r, &a);
}

static void test_nothing_found_by_discovery(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    result(&r, 0, true);
    struct ms_candidate *c = &r.discovery.candidates[r.discovery.candidate_count++];
    snprintf(c->host, sizeof c->host, "imap." DOMAIN);
    c->port = 993;
    c->protocol = MS_PROTOCOL_IMAP;
    c->source = MS_SOURCE_CONVENTIONAL;
    c->priority = c->weight = -1;
    c->endpoint_index = -1;
    snprintf(c->dropped, sizeof c->dropped, "does not resolve");
    assess(&r, &a);
    assert_int_equal(a.preferred, -1);
    assert_string_equal(
        a.not_recommended[MS_PROTOCOL_IMAP],
        "no server was found (the only candidate, imap.example.com, does not resolve)");
    assert_string_equal(a.not_recommended[MS_PROTOCOL_POP3],
                        "no server was found (no candidate from SRV, MX or conventional names)");
    fx_done(&r, &a);
}

static void test_error_leaves_no_recommendation(void **state)
{
    (void)state;
    struct ms_assessment a;
    memset(&a, 0, sizeof a);
    ms_assessment_free(&a);
    assert_int_equal(a.recommended[0], -1);
    assert_int_equal(a.recommended[1], -1);
    assert_int_equal(a.preferred, -1);
    struct ms_result r = {0};
    assert_null(ms_assess_recommended(&r, &a, MS_PROTOCOL_IMAP));
    a.recommended[0] = 5; /* out of range: never dereferenced */
    assert_null(ms_assess_recommended(&r, &a, MS_PROTOCOL_IMAP));
    assert_null(ms_assess_recommended(&r, &a, (enum ms_protocol)7));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_implicit_beats_starttls),
        cmocka_unit_test(test_submission_recommended),
        cmocka_unit_test(test_implicit_beats_srv_starttls),
        cmocka_unit_test(test_srv_priority_then_weight),
        cmocka_unit_test(test_srv_beats_mx_beats_conventional),
        cmocka_unit_test(test_unverified_never_recommended),
        cmocka_unit_test(test_ok_before_warning),
        cmocka_unit_test(test_pop3_only_request_prefers_pop3),
        cmocka_unit_test(test_nothing_found_by_discovery),
        cmocka_unit_test(test_error_leaves_no_recommendation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
