/* Unit tests of the assessor: hand-built facts in, findings, severities and statuses out. */
#include <openssl/x509_vfy.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fixture.h"
#include "probe/result.h"
#include "report/assess.h"

/* ---- fixtures (fixture.h: fx_healthy_endpoint(), fx_fail_at() and the other shared ones) */

static void set_cert(struct ms_endpoint_result *ep, long days_left)
{
    struct ms_tls_facts *t = &ep->tls;
    struct ms_cert_facts *c = &t->cert;
    static const char *const san[] = {"DNS:" HOST, "DNS:imap.example.com", NULL};
    ms_strlist_free(&c->san);
    fx_add_strs(&c->san, san);
    t->has_certificate = true;
    snprintf(c->subject, sizeof c->subject, "CN=%s", HOST);
    snprintf(c->issuer, sizeof c->issuer, "CN=Example CA,O=Example Trust,C=US");
    c->not_before_epoch = NOW - 60 * DAY;
    c->not_after_epoch = NOW + days_left * DAY;
    time_t nb = (time_t)c->not_before_epoch, na = (time_t)c->not_after_epoch;
    struct tm tm;
    strftime(c->not_before, sizeof c->not_before, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&nb, &tm));
    strftime(c->not_after, sizeof c->not_after, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&na, &tm));
    c->days_left = days_left;
    c->hostname_match = true;
    c->self_signed = false;
    snprintf(c->key_type, sizeof c->key_type, "EC");
    c->key_bits = 256;
    snprintf(c->signature_algorithm, sizeof c->signature_algorithm, "ecdsa-with-SHA256");
    snprintf(c->sha256_fingerprint, sizeof c->sha256_fingerprint, "AB:CD");
}

/* What sets this file's healthy endpoints apart from fx_healthy_endpoint(): a Dovecot
 * that sends LITERAL+ (and POP3 PIPELINING before TLS), these timings, and a certificate
 * from set_cert(). */
static void details(struct ms_endpoint_result *ep)
{
    static const char *const imap_pre[] = {"IMAP4rev1", "LITERAL+", "STARTTLS", "LOGINDISABLED",
                                           NULL};
    static const char *const imap_post[] = {"IMAP4rev1", "LITERAL+", "IDLE", "AUTH=PLAIN", NULL};
    static const char *const pop3_pre[] = {"CAPA", "TOP", "UIDL", "STLS", "PIPELINING", NULL};
    static const char *const pop3_post[] = {"CAPA", "TOP", "UIDL", "USER", "SASL PLAIN LOGIN",
                                            NULL};
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;
    fx_as_dovecot(ep, imap ? imap_pre : pop3_pre, imap ? imap_post : pop3_post);
    ep->timings_ms = (struct ms_timings){1.5, 10.25, 20.0, 2.0, 40.0};
    set_cert(ep, 365);
}

/* The four endpoints of a bare host, all healthy: 143, 993, 110, 995. */
static void bare_host(struct ms_result *r)
{
    fx_bare_host(r, false);
    r->duration_ms = 55.5;
    for (size_t i = 0; i < r->endpoint_count; i++)
        details(&r->endpoints[i]);
}

static void assess(const struct ms_result *r, int warn_days, struct ms_assessment *a)
{
    struct ms_assess_options opt = {.cert_warn_days = warn_days};
    assert_int_equal(ms_assess(r, &opt, a), 0);
    /* Invariants of every assessment: sorted worst first, stable by endpoint then code,
     * every finding complete, endpoints named by their id. */
    for (size_t i = 0; i < a->finding_count; i++) {
        const struct ms_finding *f = &a->findings[i];
        assert_non_null(f->code);
        assert_non_null(strchr(f->code, '.'));
        assert_true(strlen(f->message) > 10);
        assert_true(strlen(f->remedy) > 10);
        if (f->endpoint_index >= 0) {
            assert_true((size_t)f->endpoint_index < r->endpoint_count);
            assert_ptr_equal(f->endpoint, r->endpoints[f->endpoint_index].id);
        } else {
            assert_null(f->endpoint);
        }
        if (i > 0) {
            const struct ms_finding *p = &a->findings[i - 1];
            assert_true(p->severity >= f->severity);
            if (p->severity == f->severity) {
                assert_true(p->endpoint_index <= f->endpoint_index);
                if (p->endpoint_index == f->endpoint_index)
                    assert_true(strcmp(p->code, f->code) <= 0);
            }
        }
        /* one finding per problem per endpoint (findings about the domain, endpoint -1, may
         * repeat a code: one per SRV record or protocol) */
        for (size_t j = 0; j < i && f->endpoint_index >= 0; j++)
            assert_false(a->findings[j].endpoint_index == f->endpoint_index &&
                         strcmp(a->findings[j].code, f->code) == 0);
    }
}

static size_t count_code(const struct ms_assessment *a, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < a->finding_count; i++)
        if (strcmp(a->findings[i].code, code) == 0)
            n++;
    return n;
}

static bool has(const struct ms_assessment *a, const char *code, long idx)
{
    for (size_t i = 0; i < a->finding_count; i++)
        if (strcmp(a->findings[i].code, code) == 0 && a->findings[i].endpoint_index == idx)
            return true;
    return false;
}

static const struct ms_protocol_verdict *verdict(const struct ms_assessment *a, enum ms_protocol p)
{
    for (size_t i = 0; i < a->verdict_count; i++)
        if (a->verdicts[i].protocol == p)
            return &a->verdicts[i];
    fail_msg("no verdict for %s", ms_protocol_name(p));
    return NULL;
}

/* Discovery of example.com for alice: IMAP on imap.example.com:993 (from SRV) works; the
 * caller adds queries, candidates and more endpoints. */
static void discovered(struct ms_result *r)
{
    fx_result(r, 8); /* room for discovered_endpoint() */
    r->endpoint_count = 1;
    snprintf(r->target, sizeof r->target, "alice@example.com");
    r->want[MS_PROTOCOL_IMAP] = r->want[MS_PROTOCOL_POP3] = true;
    struct ms_endpoint_result *ep = &r->endpoints[0];
    fx_healthy_endpoint(ep, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    details(ep);
    fx_set_host(ep, "imap.example.com");
    ep->source = MS_SOURCE_SRV;
    snprintf(ep->source_name, sizeof ep->source_name, "_imaps._tcp.example.com");
    ep->srv_priority = 0;
    ep->srv_weight = 1;
    struct ms_discovery *d = &r->discovery;
    d->performed = true;
    snprintf(d->domain, sizeof d->domain, "example.com");
    snprintf(d->user, sizeof d->user, "alice");
    d->queries = calloc(16, sizeof *d->queries);
    d->candidates = calloc(16, sizeof *d->candidates);
    assert_non_null(d->queries);
    assert_non_null(d->candidates);
    d->duration_ms = 12.5;
}

/* A discovery query; answers NULL-terminated. */
static void query(struct ms_result *r, const char *name, const char *type, const char *status,
                  const char *const *answers)
{
    struct ms_dns_query_fact *q = &r->discovery.queries[r->discovery.query_count++];
    snprintf(q->name, sizeof q->name, "%s", name);
    snprintf(q->type, sizeof q->type, "%s", type);
    snprintf(q->status, sizeof q->status, "%s", status);
    q->duration_ms = 3.25;
    if (strcmp(status, "ok") != 0)
        snprintf(q->message, sizeof q->message, "%s", status);
    if (answers)
        fx_add_strs(&q->answers, answers);
}

/* A further endpoint of the discovered domain, with its candidate. */
static struct ms_endpoint_result *discovered_endpoint(struct ms_result *r, const char *host,
                                                      enum ms_protocol p, enum ms_security s,
                                                      uint16_t port, enum ms_source source)
{
    size_t i = r->endpoint_count++;
    struct ms_endpoint_result *ep = &r->endpoints[i];
    fx_healthy_endpoint(ep, p, s, port);
    details(ep);
    fx_set_host(ep, host);
    ep->source = source;
    snprintf(ep->source_name, sizeof ep->source_name, "%s",
             source == MS_SOURCE_MX ? "example.com MX" : "conventional name");
    struct ms_candidate *c = &r->discovery.candidates[r->discovery.candidate_count++];
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = port;
    c->protocol = p;
    c->security = s;
    c->source = source;
    snprintf(c->source_name, sizeof c->source_name, "%s", ep->source_name);
    c->priority = source == MS_SOURCE_MX ? 10 : -1;
    c->weight = -1;
    c->endpoint_index = (long)i;
    return ep;
}

static void family(struct ms_family_check *fc, const char *address, enum ms_failure f,
                   const char *msg)
{
    fc->tried = true;
    snprintf(fc->address, sizeof fc->address, "%s", address);
    fc->failure = f;
    fc->connect_ms = f == MS_FAILURE_NONE ? 4.25 : -1;
    snprintf(fc->message, sizeof fc->message, "%s", msg);
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_all_fine(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(a.finding_count, 0);
    assert_int_equal(a.verdict_count, 2);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(a.endpoint_status[i], MS_STATUS_OK);
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_IMAP);
    assert_true(v->available);
    assert_int_equal(v->status, MS_STATUS_OK);
    assert_string_equal(v->summary,
                        "IMAP works securely on 993 (implicit TLS) and 143 (STARTTLS).");
    v = verdict(&a, MS_PROTOCOL_POP3);
    assert_true(v->available);
    assert_string_equal(v->summary,
                        "POP3 works securely on 995 (implicit TLS) and 110 (STARTTLS).");
    assert_int_equal(a.verdicts[0].protocol, MS_PROTOCOL_IMAP);
    fx_done(&r, &a);
}

/* DANE facts of the TLS audit on endpoint 0, nothing else audited. */
static struct ms_dane_facts *dane_on(struct ms_result *r)
{
    struct ms_tls_audit *au = calloc(1, sizeof *au);
    assert_non_null(au);
    r->endpoints[0].audit = au;
    au->dane.queried = true;
    snprintf(au->dane.name, sizeof au->dane.name, "_993._tcp." HOST);
    return &au->dane;
}

static const struct ms_finding *finding(const struct ms_assessment *a, const char *code)
{
    for (size_t i = 0; i < a->finding_count; i++)
        if (strcmp(a->findings[i].code, code) == 0)
            return &a->findings[i];
    return NULL;
}

static void test_dane(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    /* a SERVFAIL for the TLSA question: a warning, and no other DANE finding */
    bare_host(&r);
    struct ms_dane_facts *d = dane_on(&r);
    snprintf(d->status, sizeof d->status, "servfail");
    assess(&r, 14, &a);
    const struct ms_finding *f = finding(&a, "tls.dane_lookup_failed");
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_int_equal(f->endpoint_index, 0);
    assert_non_null(strstr(f->message, "_993._tcp." HOST));
    assert_non_null(strstr(f->message, "SERVFAIL"));
    assert_int_equal(count_code(&a, "tls.dane_lookup_failed"), 1);
    assert_int_equal(count_code(&a, "tls.dane_mismatch") + count_code(&a, "tls.dane_unvalidated"),
                     0);
    fx_done(&r, &a);
    /* a timeout or NXDOMAIN: nothing (mailscope's resolver, or simply no DANE) */
    static const char *const quiet[] = {"timeout", "nxdomain", "nodata", "error"};
    for (size_t k = 0; k < sizeof quiet / sizeof quiet[0]; k++) {
        bare_host(&r);
        d = dane_on(&r);
        snprintf(d->status, sizeof d->status, "%s", quiet[k]);
        d->validated = k == 1;
        assess(&r, 14, &a);
        assert_int_equal(count_code(&a, "tls.dane_lookup_failed") +
                             count_code(&a, "tls.dane_mismatch") +
                             count_code(&a, "tls.dane_unvalidated"),
                         0);
        fx_done(&r, &a);
    }
    /* validated records that match nothing: critical, nothing else */
    bare_host(&r);
    d = dane_on(&r);
    snprintf(d->status, sizeof d->status, "ok");
    d->validated = d->checked = true;
    d->count = 1;
    assess(&r, 14, &a);
    f = finding(&a, "tls.dane_mismatch");
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_int_equal(
        count_code(&a, "tls.dane_unvalidated") + count_code(&a, "tls.dane_lookup_failed"), 0);
    fx_done(&r, &a);
    /* unvalidated records that match: info only */
    bare_host(&r);
    d = dane_on(&r);
    snprintf(d->status, sizeof d->status, "ok");
    d->checked = d->matched = true;
    d->count = 1;
    assess(&r, 14, &a);
    f = finding(&a, "tls.dane_unvalidated");
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_int_equal(count_code(&a, "tls.dane_mismatch") + count_code(&a, "tls.dane_lookup_failed"),
                     0);
    fx_done(&r, &a);
}

static void test_null_options_default_warn_days(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    set_cert(&r.endpoints[1], 13);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(count_code(&a, "tls.cert_expires_soon"), 1);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    ms_assessment_free(&a);
    set_cert(&r.endpoints[1], MS_ASSESS_DEFAULT_CERT_WARN_DAYS);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    assert_int_equal(a.finding_count, 0);
    fx_done(&r, &a);
}

static void test_expired_cert(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_CERT_HAS_EXPIRED};
    bare_host(&r);
    for (size_t i = 0; i < 4; i++) {
        set_cert(&r.endpoints[i], -31); /* 2025-12-01 */
        fx_bad_cert(&r.endpoints[i], errs, 1, "certificate has expired");
    }
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(count_code(&a, "tls.cert_expired"), 4); /* one per endpoint */
    assert_int_equal(count_code(&a, "tls.cert_expires_soon"), 0);
    assert_int_equal(count_code(&a, "tls.cert_hostname_mismatch"), 0);
    assert_int_equal(count_code(&a, "tls.cert_untrusted"), 0);
    for (long i = 0; i < 4; i++) {
        const struct ms_finding *f = fx_find(&a, "tls.cert_expired", i);
        assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
        assert_non_null(strstr(f->message, "2025-12-01T00:00:00Z"));
        assert_non_null(strstr(f->message, "31 days ago"));
        assert_non_null(
            strstr(f->remedy, "Renew the certificate for mail.example.com (expired 2025-12-01)"));
        assert_int_equal(a.endpoint_status[i], MS_STATUS_CRITICAL);
    }
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_IMAP);
    assert_false(v->available);
    assert_int_equal(v->status, MS_STATUS_CRITICAL);
    assert_string_equal(v->summary, "IMAP is not available securely: port 143 has an expired "
                                    "certificate, port 993 has an expired certificate.");
    /* The per-protocol findings already say it: no extra protocol-level finding. */
    assert_int_equal(count_code(&a, "proto.unavailable"), 0);
    fx_done(&r, &a);
}

static void test_expired_by_date_only(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    /* expired two hours ago: days_left still 0, the dates decide */
    set_cert(&r.endpoints[1], 0);
    r.endpoints[1].tls.cert.not_after_epoch = NOW - 7200;
    r.endpoints[1].tls.verified = false;
    assess(&r, 14, &a);
    assert_true(has(&a, "tls.cert_expired", 1));
    assert_false(has(&a, "tls.cert_expires_soon", 1));
    assert_false(has(&a, "tls.cert_untrusted", 1));
    fx_done(&r, &a);
}

static void test_chain_expired(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_CERT_HAS_EXPIRED};
    bare_host(&r);
    fx_bad_cert(&r.endpoints[1], errs, 1, "certificate has expired");
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "tls.cert_expired", 1);
    assert_non_null(strstr(f->message, "chain"));
    assert_non_null(strstr(f->remedy, "intermediate"));
    fx_done(&r, &a);
}

static void test_not_yet_valid(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_CERT_NOT_YET_VALID};
    bare_host(&r);
    r.endpoints[3].tls.cert.not_before_epoch = NOW + DAY;
    snprintf(r.endpoints[3].tls.cert.not_before, 32, "2026-01-02T00:00:00Z");
    fx_bad_cert(&r.endpoints[3], errs, 1, "certificate is not yet valid");
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "tls.cert_not_yet_valid", 3);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "2026-01-02"));
    assert_int_equal(a.finding_count, 1);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    /* POP3 110 still works: the protocol is available but the run is critical */
    assert_true(verdict(&a, MS_PROTOCOL_POP3)->available);
    assert_int_equal(verdict(&a, MS_PROTOCOL_POP3)->status, MS_STATUS_CRITICAL);
    assert_int_equal(verdict(&a, MS_PROTOCOL_IMAP)->status, MS_STATUS_OK);
    fx_done(&r, &a);
}

static void test_hostname_mismatch(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_HOSTNAME_MISMATCH};
    static const char *const san[] = {"DNS:other.example.net", "DNS:*.other.example.net", NULL};
    bare_host(&r);
    for (size_t i = 0; i < 4; i++) {
        struct ms_cert_facts *c = &r.endpoints[i].tls.cert;
        ms_strlist_free(&c->san);
        fx_add_strs(&c->san, san);
        snprintf(c->subject, sizeof c->subject, "CN=other.example.net");
        c->hostname_match = false;
        fx_bad_cert(&r.endpoints[i], errs, 1, "hostname mismatch");
    }
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.finding_count, 4);
    for (long i = 0; i < 4; i++) {
        const struct ms_finding *f = fx_find(&a, "tls.cert_hostname_mismatch", i);
        assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
        assert_non_null(strstr(f->message, HOST));
        assert_non_null(strstr(f->message, "other.example.net, *.other.example.net"));
        assert_null(strstr(f->message, "DNS:"));
        assert_non_null(strstr(f->remedy, HOST));
    }
    assert_int_equal(count_code(&a, "tls.cert_untrusted"), 0);
    fx_done(&r, &a);
}

static void test_mismatch_without_verify_error(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    /* only the fact says it; still one finding, and no "untrusted" on top */
    r.endpoints[0].tls.cert.hostname_match = false;
    r.endpoints[0].tls.verified = false;
    r.endpoints[0].completed_securely = false;
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 1);
    assert_true(has(&a, "tls.cert_hostname_mismatch", 0));
    fx_done(&r, &a);
}

static void test_self_signed(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT};
    bare_host(&r);
    for (size_t i = 0; i < 4; i++) {
        struct ms_cert_facts *c = &r.endpoints[i].tls.cert;
        c->self_signed = true;
        snprintf(c->issuer, sizeof c->issuer, "%s", c->subject);
        fx_bad_cert(&r.endpoints[i], errs, 1, "self-signed certificate");
    }
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.finding_count, 4);
    for (long i = 0; i < 4; i++) {
        const struct ms_finding *f = fx_find(&a, "tls.cert_untrusted", i);
        assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
        assert_non_null(strstr(f->message, "self-signed"));
        assert_non_null(strstr(f->remedy, "public CA"));
    }
    assert_string_equal(verdict(&a, MS_PROTOCOL_POP3)->summary,
                        "POP3 is not available securely: port 110 has an untrusted certificate, "
                        "port 995 has an untrusted certificate.");
    fx_done(&r, &a);
}

static void test_self_signed_in_chain(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN};
    bare_host(&r);
    fx_bad_cert(&r.endpoints[2], errs, 1, "self-signed certificate in certificate chain");
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 1);
    assert_non_null(strstr(fx_find(&a, "tls.cert_untrusted", 2)->message, "self-signed root"));
    fx_done(&r, &a);
}

static void test_untrusted_issuer(void **state)
{
    (void)state;
    const int cases[] = {X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                         X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
                         X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT};
    for (size_t k = 0; k < 3; k++) {
        struct ms_result r;
        struct ms_assessment a;
        bare_host(&r);
        for (size_t i = 0; i < 4; i++)
            fx_bad_cert(&r.endpoints[i], &cases[k], 1, "unable to get local issuer certificate");
        assess(&r, 14, &a);
        assert_int_equal(a.status, MS_STATUS_CRITICAL);
        assert_int_equal(count_code(&a, "tls.cert_untrusted"), 4);
        assert_int_equal(a.finding_count, 4);
        const struct ms_finding *f = fx_find(&a, "tls.cert_untrusted", 1);
        assert_non_null(strstr(f->message, "Example CA"));
        assert_non_null(strstr(f->remedy, "full chain"));
        assert_non_null(strstr(f->remedy, "--ca-file"));
        fx_done(&r, &a);
    }
}

static void test_untrusted_other_reason(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_CERT_REVOKED};
    const int weird[] = {X509_V_ERR_PATH_LOOP};
    bare_host(&r);
    fx_bad_cert(&r.endpoints[1], errs, 1, "certificate revoked");
    fx_bad_cert(&r.endpoints[3], weird, 1, "path loop");
    /* not verified, no error code at all: still reported, never silently "fine" */
    fx_bad_cert(&r.endpoints[0], NULL, 0, "");
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 3);
    assert_non_null(strstr(fx_find(&a, "tls.cert_untrusted", 1)->message, "revoked"));
    assert_non_null(strstr(fx_find(&a, "tls.cert_untrusted", 3)->message, "path loop"));
    assert_non_null(strstr(fx_find(&a, "tls.cert_untrusted", 0)->message, "no reason given"));
    fx_done(&r, &a);
}

static void test_several_cert_problems_no_duplicates(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                        X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_HOSTNAME_MISMATCH,
                        X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE};
    bare_host(&r);
    set_cert(&r.endpoints[1], -2);
    r.endpoints[1].tls.cert.hostname_match = false;
    fx_bad_cert(&r.endpoints[1], errs, 5, "certificate has expired");
    assess(&r, 14, &a); /* assess() checks there are no duplicates */
    assert_int_equal(a.finding_count, 3);
    assert_true(has(&a, "tls.cert_expired", 1));
    assert_true(has(&a, "tls.cert_hostname_mismatch", 1));
    assert_true(has(&a, "tls.cert_untrusted", 1));
    /* sorted by code within an endpoint */
    assert_string_equal(a.findings[0].code, "tls.cert_expired");
    assert_string_equal(a.findings[1].code, "tls.cert_hostname_mismatch");
    assert_string_equal(a.findings[2].code, "tls.cert_untrusted");
    fx_done(&r, &a);
}

static void test_expires_soon(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    for (size_t i = 0; i < 4; i++)
        set_cert(&r.endpoints[i], 5);
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(a.finding_count, 4);
    for (long i = 0; i < 4; i++) {
        const struct ms_finding *f = fx_find(&a, "tls.cert_expires_soon", i);
        assert_int_equal(f->severity, MS_SEVERITY_WARNING);
        assert_non_null(strstr(f->message, "in 5 days"));
        assert_non_null(strstr(f->message, "2026-01-06"));
        assert_int_equal(a.endpoint_status[i], MS_STATUS_WARNING);
    }
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_IMAP);
    assert_true(v->available);
    assert_int_equal(v->status, MS_STATUS_WARNING);
    assert_string_equal(v->summary, "IMAP works securely on 993 (implicit TLS) and 143 "
                                    "(STARTTLS), with 2 warnings.");
    ms_assessment_free(&a);

    /* below the threshold: fine */
    assess(&r, 2, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(a.finding_count, 0);
    ms_assessment_free(&a);
    /* exactly at the threshold: days_left < warn_days is false */
    assess(&r, 5, &a);
    assert_int_equal(a.finding_count, 0);
    ms_assessment_free(&a);
    assess(&r, 6, &a);
    assert_int_equal(a.finding_count, 4);
    ms_assessment_free(&a);
    /* 0 turns the check off */
    assess(&r, 0, &a);
    assert_int_equal(a.finding_count, 0);
    fx_done(&r, &a);
}

static void test_expires_today(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    set_cert(&r.endpoints[1], 0);
    r.endpoints[1].tls.cert.not_after_epoch = NOW + 3600;
    assess(&r, 14, &a);
    assert_non_null(strstr(fx_find(&a, "tls.cert_expires_soon", 1)->message, "today"));
    fx_done(&r, &a);
}

static void test_tls_outdated(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    snprintf(r.endpoints[1].tls.version, 16, "TLSv1.1");
    snprintf(r.endpoints[3].tls.version, 16, "TLSv1");
    snprintf(r.endpoints[0].tls.version, 16, "TLSv1.2");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(a.finding_count, 2);
    const struct ms_finding *f = fx_find(&a, "tls.protocol_outdated", 1);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_non_null(strstr(f->message, "TLSv1.1"));
    assert_non_null(strstr(f->remedy, "TLS 1.2"));
    assert_int_equal(fx_find(&a, "tls.protocol_outdated", 3)->severity, MS_SEVERITY_WARNING);
    assert_true(verdict(&a, MS_PROTOCOL_IMAP)->available);
    ms_assessment_free(&a);

    snprintf(r.endpoints[1].tls.version, 16, "SSLv3");
    assess(&r, 14, &a);
    assert_int_equal(fx_find(&a, "tls.protocol_outdated", 1)->severity, MS_SEVERITY_CRITICAL);
    fx_done(&r, &a);
}

static void test_closed_port_sibling_works(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    fx_fail_at(&r.endpoints[2], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT,
               "192.0.2.10 port 110: Connection refused");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(a.finding_count, 1);
    const struct ms_finding *f = fx_find(&a, "tcp.refused", 2);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_string_equal(f->endpoint, "pop3://mail.example.com:110");
    assert_non_null(strstr(f->message, "POP3 on 110 is closed; POP3 on 995 (implicit TLS) works"));
    assert_non_null(strstr(f->message, "Connection refused"));
    assert_non_null(strstr(f->remedy, "995"));
    assert_int_equal(a.endpoint_status[2], MS_STATUS_OK);
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_POP3);
    assert_true(v->available);
    assert_int_equal(v->status, MS_STATUS_OK);
    assert_string_equal(
        v->summary, "POP3 works securely on 995 (implicit TLS); port 110 refused the connection.");
    fx_done(&r, &a);
}

static void test_closed_sibling_timeout_unreachable(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    fx_fail_at(&r.endpoints[0], MS_FAILURE_TCP_TIMEOUT, MS_PHASE_CONNECT, "no answer in 10 s");
    fx_fail_at(&r.endpoints[3], MS_FAILURE_TCP_UNREACHABLE, MS_PHASE_CONNECT, "no route to host");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(fx_find(&a, "tcp.timeout", 0)->severity, MS_SEVERITY_INFO);
    assert_int_equal(fx_find(&a, "tcp.unreachable", 3)->severity, MS_SEVERITY_INFO);
    assert_non_null(
        strstr(fx_find(&a, "tcp.timeout", 0)->message, "IMAP on 993 (implicit TLS) works"));
    fx_done(&r, &a);
}

static void test_both_pop3_refused(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    fx_fail_at(&r.endpoints[2], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
    fx_fail_at(&r.endpoints[3], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.finding_count, 2);
    for (long i = 2; i < 4; i++) {
        const struct ms_finding *f = fx_find(&a, "tcp.refused", i);
        assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
        assert_non_null(strstr(f->remedy, "firewall"));
        assert_int_equal(a.endpoint_status[i], MS_STATUS_CRITICAL);
    }
    assert_non_null(strstr(fx_find(&a, "tcp.refused", 3)->remedy, "port 995"));
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_POP3);
    assert_false(v->available);
    assert_int_equal(v->status, MS_STATUS_CRITICAL);
    assert_string_equal(v->summary,
                        "POP3 is not available: port 110 refused the connection, port 995 "
                        "refused the connection.");
    assert_int_equal(verdict(&a, MS_PROTOCOL_IMAP)->status, MS_STATUS_OK);
    fx_done(&r, &a);
}

static void test_sibling_with_bad_cert_does_not_count(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_CERT_HAS_EXPIRED};
    bare_host(&r);
    fx_fail_at(&r.endpoints[2], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
    set_cert(&r.endpoints[3], -1);
    fx_bad_cert(&r.endpoints[3], errs, 1, "certificate has expired");
    assess(&r, 14, &a);
    assert_int_equal(fx_find(&a, "tcp.refused", 2)->severity, MS_SEVERITY_CRITICAL);
    assert_false(verdict(&a, MS_PROTOCOL_POP3)->available);
    fx_done(&r, &a);
}

static void test_url_target_refused_is_critical(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    /* URL targets: pop3://...:110 and pop3s://...:995 named explicitly */
    r.bare_host = false;
    r.want[MS_PROTOCOL_IMAP] = false;
    ms_strlist_free(&r.endpoints[0].addresses);
    ms_strlist_free(&r.endpoints[0].caps_before_tls);
    ms_strlist_free(&r.endpoints[0].caps_after_tls);
    ms_strlist_free(&r.endpoints[0].tls.cert.san);
    ms_strlist_free(&r.endpoints[1].addresses);
    ms_strlist_free(&r.endpoints[1].caps_after_tls);
    ms_strlist_free(&r.endpoints[1].tls.cert.san);
    memmove(&r.endpoints[0], &r.endpoints[2], 2 * sizeof r.endpoints[0]);
    r.endpoint_count = 2;
    r.endpoints[0].required = r.endpoints[1].required = true;
    fx_fail_at(&r.endpoints[0], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.finding_count, 1);
    assert_int_equal(fx_find(&a, "tcp.refused", 0)->severity, MS_SEVERITY_CRITICAL);
    assert_int_equal(a.verdict_count, 1);
    assert_true(verdict(&a, MS_PROTOCOL_POP3)->available);
    assert_int_equal(verdict(&a, MS_PROTOCOL_POP3)->status, MS_STATUS_CRITICAL);
    ms_assessment_free(&a);

    /* a required endpoint on a bare host (mixed) is required too */
    r.bare_host = true;
    assess(&r, 14, &a);
    assert_int_equal(fx_find(&a, "tcp.refused", 0)->severity, MS_SEVERITY_CRITICAL);
    fx_done(&r, &a);
}

static void test_dns_no_such_host(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    for (size_t i = 0; i < 4; i++)
        fx_fail_at(&r.endpoints[i], MS_FAILURE_DNS_NO_SUCH_HOST, MS_PHASE_RESOLVE, "NXDOMAIN");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(count_code(&a, "dns.no_such_host"), 4);
    assert_non_null(strstr(fx_find(&a, "dns.no_such_host", 0)->message, HOST));
    assert_non_null(strstr(fx_find(&a, "dns.no_such_host", 0)->message, "NXDOMAIN"));
    ms_assessment_free(&a);
    /* the resolver's words name the host already: they are the message, not an echo */
    snprintf(r.endpoints[1].failure_message, sizeof r.endpoints[1].failure_message,
             "%s does not exist in DNS (NXDOMAIN)", HOST);
    assess(&r, 14, &a);
    assert_string_equal(fx_find(&a, "dns.no_such_host", 1)->message,
                        "IMAP on 993: mail.example.com does not exist in DNS (NXDOMAIN).");
    assert_string_equal(
        verdict(&a, MS_PROTOCOL_IMAP)->summary,
        "IMAP is not available: port 143 does not resolve (no such host), port 993 does "
        "not resolve (no such host).");
    fx_done(&r, &a);
}

static void test_failure_codes(void **state)
{
    (void)state;
    static const struct {
        enum ms_failure f;
        enum ms_phase phase;
        const char *code;
    } cases[] = {
        {MS_FAILURE_DNS_NO_ADDRESS, MS_PHASE_RESOLVE, "dns.no_address"},
        {MS_FAILURE_DNS_TIMEOUT, MS_PHASE_RESOLVE, "dns.timeout"},
        {MS_FAILURE_DNS_ERROR, MS_PHASE_RESOLVE, "dns.error"},
        {MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "tcp.refused"},
        {MS_FAILURE_TCP_TIMEOUT, MS_PHASE_CONNECT, "tcp.timeout"},
        {MS_FAILURE_TCP_UNREACHABLE, MS_PHASE_CONNECT, "tcp.unreachable"},
        {MS_FAILURE_TLS_HANDSHAKE, MS_PHASE_TLS, "tls.handshake_failed"},
        {MS_FAILURE_TLS_TIMEOUT, MS_PHASE_TLS, "tls.timeout"},
        {MS_FAILURE_STARTTLS_NOT_OFFERED, MS_PHASE_CAPABILITY, "starttls.not_offered"},
        {MS_FAILURE_STARTTLS_REFUSED, MS_PHASE_STARTTLS, "starttls.refused"},
        {MS_FAILURE_STARTTLS_INJECTED, MS_PHASE_STARTTLS, "starttls.injected_data"},
        {MS_FAILURE_PROTO_BYE, MS_PHASE_GREETING, "proto.bye"},
        {MS_FAILURE_PROTO_PREAUTH, MS_PHASE_GREETING, "proto.preauth_without_tls"},
        {MS_FAILURE_PROTO_UNEXPECTED_GREETING, MS_PHASE_GREETING, "proto.unexpected_greeting"},
        {MS_FAILURE_PROTO_MALFORMED, MS_PHASE_CAPABILITY, "proto.malformed_response"},
        {MS_FAILURE_PROTO_CLOSED, MS_PHASE_CAPABILITY, "proto.closed"},
        {MS_FAILURE_PROTO_TIMEOUT, MS_PHASE_GREETING, "proto.timeout"},
        {MS_FAILURE_INTERNAL, MS_PHASE_CONNECT, "internal.error"},
    };
    assert_null(ms_assess_failure_code(MS_FAILURE_NONE));
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ms_result r;
        struct ms_assessment a;
        assert_string_equal(ms_assess_failure_code(cases[k].f), cases[k].code);
        /* on a URL target (required) every failure is critical */
        bare_host(&r);
        r.bare_host = false;
        for (size_t i = 0; i < 4; i++)
            r.endpoints[i].required = true;
        fx_fail_at(&r.endpoints[0], cases[k].f, cases[k].phase, "evidence words");
        assess(&r, 14, &a);
        const struct ms_finding *f = fx_find(&a, cases[k].code, 0);
        assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
        assert_int_equal(a.findings[0].endpoint_index, 0);
        if (cases[k].f != MS_FAILURE_STARTTLS_REFUSED &&
            cases[k].f != MS_FAILURE_STARTTLS_NOT_OFFERED)
            assert_non_null(strstr(f->message, "evidence words"));
        if (cases[k].f == MS_FAILURE_INTERNAL) {
            assert_int_equal(a.status, MS_STATUS_UNKNOWN);
            assert_int_equal(a.endpoint_status[0], MS_STATUS_UNKNOWN);
        } else {
            assert_int_equal(a.status, MS_STATUS_CRITICAL);
            assert_int_equal(a.endpoint_status[0], MS_STATUS_CRITICAL);
        }
        fx_done(&r, &a);
    }
}

static void test_starttls_not_offered(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const caps[] = {"IMAP4rev1", "LITERAL+", "LOGINDISABLED", NULL};
    bare_host(&r);
    struct ms_endpoint_result *ep = &r.endpoints[0];
    fx_fail_at(ep, MS_FAILURE_STARTTLS_NOT_OFFERED, MS_PHASE_CAPABILITY,
               "STARTTLS is not in the capabilities");
    ms_strlist_free(&ep->caps_before_tls);
    fx_add_strs(&ep->caps_before_tls, caps);
    ep->starttls_response[0] = '\0';
    assess(&r, 14, &a);
    /* critical even though 993 works: the sibling rule is for closed ports only */
    const struct ms_finding *f = fx_find(&a, "starttls.not_offered", 0);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "IMAP4rev1 LITERAL+ LOGINDISABLED"));
    assert_non_null(strstr(f->remedy, "993"));
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.finding_count, 1);
    assert_true(verdict(&a, MS_PROTOCOL_IMAP)->available);
    assert_string_equal(
        verdict(&a, MS_PROTOCOL_IMAP)->summary,
        "IMAP works securely on 993 (implicit TLS); port 143 does not offer STARTTLS.");
    fx_done(&r, &a);
}

static void test_starttls_refused(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    struct ms_endpoint_result *ep = &r.endpoints[2];
    fx_fail_at(ep, MS_FAILURE_STARTTLS_REFUSED, MS_PHASE_STARTTLS, "STLS refused");
    snprintf(ep->starttls_response, sizeof ep->starttls_response,
             "-ERR TLS support not configured");
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "starttls.refused", 2);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "STLS"));
    assert_non_null(strstr(f->message, "-ERR TLS support not configured"));
    fx_done(&r, &a);
}

static void test_starttls_injected(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    fx_fail_at(&r.endpoints[0], MS_FAILURE_STARTTLS_INJECTED, MS_PHASE_STARTTLS,
               "12 bytes followed the STARTTLS answer before TLS");
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "starttls.injected_data", 0);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "injection"));
    assert_non_null(strstr(f->message, "12 bytes"));
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

static void test_preauth(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    fx_fail_at(&r.endpoints[0], MS_FAILURE_PROTO_PREAUTH, MS_PHASE_GREETING,
               "* PREAUTH IMAP4rev1 server logged in as admin");
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "proto.preauth_without_tls", 0);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "PREAUTH"));
    assert_non_null(strstr(f->message, "logged in as admin"));
    fx_done(&r, &a);
}

static void test_bye(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    fx_fail_at(&r.endpoints[1], MS_FAILURE_PROTO_BYE, MS_PHASE_GREETING,
               "* BYE Too many connections from your IP");
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "proto.bye", 1);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "Too many connections from your IP"));
    assert_string_equal(verdict(&a, MS_PROTOCOL_IMAP)->summary,
                        "IMAP works securely on 143 (STARTTLS); port 993 said BYE.");
    fx_done(&r, &a);
}

static void test_tls_handshake_failed(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    struct ms_endpoint_result *ep = &r.endpoints[3];
    fx_fail_at(ep, MS_FAILURE_TLS_HANDSHAKE, MS_PHASE_TLS, "handshake failed");
    ms_strlist_free(&ep->tls.cert.san);
    memset(&ep->tls, 0, sizeof ep->tls);
    ep->tls.attempted = true;
    snprintf(ep->tls.handshake_error, sizeof ep->tls.handshake_error, "wrong version number");
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 1); /* no certificate findings without a certificate */
    const struct ms_finding *f = fx_find(&a, "tls.handshake_failed", 3);
    assert_non_null(strstr(f->message, "wrong version number"));
    assert_non_null(strstr(f->remedy, "implicit TLS"));
    fx_done(&r, &a);
}

static void test_plaintext_login_imap(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const caps[] = {"IMAP4rev1", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN", NULL};
    static const char *const bare[] = {"IMAP4rev1", "STARTTLS", NULL};
    bare_host(&r);
    ms_strlist_free(&r.endpoints[0].caps_before_tls);
    fx_add_strs(&r.endpoints[0].caps_before_tls, caps);
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(a.finding_count, 1);
    const struct ms_finding *f = fx_find(&a, "auth.plaintext_login_allowed", 0);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_non_null(strstr(f->message, "LOGINDISABLED"));
    assert_non_null(strstr(f->message, "AUTH=PLAIN AUTH=LOGIN"));
    assert_non_null(strstr(f->remedy, "disable_plaintext_auth"));
    ms_assessment_free(&a);

    /* no AUTH= at all but no LOGINDISABLED: the LOGIN command is allowed */
    ms_strlist_free(&r.endpoints[0].caps_before_tls);
    fx_add_strs(&r.endpoints[0].caps_before_tls, bare);
    assess(&r, 14, &a);
    assert_true(has(&a, "auth.plaintext_login_allowed", 0));
    ms_assessment_free(&a);

    /* capabilities not read before TLS: no evidence, no finding */
    r.endpoints[0].caps_before_tls_read = false;
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 0);
    fx_done(&r, &a);
}

/* The plaintext check's answer decides: confirmed stands, a refusal for TLS is an info. */
static void set_check(struct ms_endpoint_result *ep, enum ms_plaintext_method m, const char *sent,
                      const char *status, const char *code, const char *answer)
{
    struct ms_plaintext_check *pc = &ep->plaintext_check;
    memset(pc, 0, sizeof *pc);
    pc->tried = true;
    pc->method = m;
    pc->answered = status != NULL;
    snprintf(pc->sent, sizeof pc->sent, "%s", sent);
    snprintf(pc->status, sizeof pc->status, "%s", status ? status : "");
    snprintf(pc->code, sizeof pc->code, "%s", code ? code : "");
    snprintf(pc->answer, sizeof pc->answer, "%s", answer ? answer : "");
    if (!status)
        snprintf(pc->note, sizeof pc->note, "no progress within 2 s during the auth phase");
}

static void test_plaintext_check_verdicts(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const caps[] = {"IMAP4rev1", "STARTTLS", "AUTH=PLAIN", NULL};
    static const char *const pop[] = {"CAPA", "USER", "STLS", NULL};
    bare_host(&r);
    ms_strlist_free(&r.endpoints[0].caps_before_tls);
    fx_add_strs(&r.endpoints[0].caps_before_tls, caps);
    struct ms_endpoint_result *im = &r.endpoints[0];

    /* "+" to AUTHENTICATE PLAIN: confirmed, the warning says so */
    set_check(im, MS_PLAINTEXT_SASL_CANCEL, "AUTHENTICATE PLAIN", "+", NULL, "");
    assert_int_equal(ms_assess_plaintext_verdict(im), MS_PLAINTEXT_CONFIRMED);
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "auth.plaintext_login_allowed", 0);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_non_null(strstr(f->message, "confirmed it on a separate connection"));
    assert_non_null(strstr(f->message, "AUTHENTICATE PLAIN"));
    ms_assessment_free(&a);

    /* a random user judged: "invalid credentials" proves it checks them */
    set_check(im, MS_PLAINTEXT_LOGIN_RANDOM, "LOGIN mailscope-probe-01020304 <random password>",
              "NO", "AUTHENTICATIONFAILED", "Authentication failed.");
    assert_int_equal(ms_assess_plaintext_verdict(im), MS_PLAINTEXT_CONFIRMED);

    /* refused because TLS is required: no warning, an info that the list does not say so */
    set_check(im, MS_PLAINTEXT_SASL_CANCEL, "AUTHENTICATE PLAIN", "NO", "PRIVACYREQUIRED",
              "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.");
    assert_int_equal(ms_assess_plaintext_verdict(im), MS_PLAINTEXT_REFUSED);
    assess(&r, 14, &a);
    assert_false(has(&a, "auth.plaintext_login_allowed", 0));
    f = fx_find(&a, "auth.plaintext_refusal_unannounced", 0);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "Plaintext authentication disallowed"));
    assert_non_null(strstr(f->remedy, "LOGINDISABLED"));
    assert_int_equal(a.status, MS_STATUS_OK);
    ms_assessment_free(&a);

    /* the words "TLS required" without a code count too; checked before [AUTH] */
    set_check(im, MS_PLAINTEXT_LOGIN_RANDOM, "LOGIN x <random password>", "NO", "AUTH",
              "TLS required to log in");
    assert_int_equal(ms_assess_plaintext_verdict(im), MS_PLAINTEXT_REFUSED);

    /* an answer that says neither, or none: the warning stays, "not confirmed" and why */
    set_check(im, MS_PLAINTEXT_SASL_CANCEL, "AUTHENTICATE PLAIN", "BAD", NULL, "Unknown command");
    assert_int_equal(ms_assess_plaintext_verdict(im), MS_PLAINTEXT_NOT_CONFIRMED);
    assess(&r, 14, &a);
    f = fx_find(&a, "auth.plaintext_login_allowed", 0);
    assert_non_null(strstr(f->message, "Advertised, not confirmed"));
    assert_non_null(strstr(f->message, "Unknown command"));
    ms_assessment_free(&a);
    set_check(im, MS_PLAINTEXT_SASL_CANCEL, "AUTHENTICATE PLAIN", NULL, NULL, NULL);
    assert_int_equal(ms_assess_plaintext_verdict(im), MS_PLAINTEXT_NOT_CONFIRMED);
    assess(&r, 14, &a);
    assert_non_null(
        strstr(fx_find(&a, "auth.plaintext_login_allowed", 0)->message, "no progress within 2 s"));
    ms_assessment_free(&a);

    /* --no-confirm: the warning rests on the advertisement and says the check was off */
    memset(&im->plaintext_check, 0, sizeof im->plaintext_check);
    r.plaintext_check_off = true;
    assess(&r, 14, &a);
    assert_non_null(
        strstr(fx_find(&a, "auth.plaintext_login_allowed", 0)->message, "--no-confirm"));
    ms_assessment_free(&a);
    r.plaintext_check_off = false;

    /* POP3 USER with a random user: +OK means PASS would follow */
    struct ms_endpoint_result *po = &r.endpoints[2];
    ms_strlist_free(&po->caps_before_tls);
    fx_add_strs(&po->caps_before_tls, pop);
    po->caps_before_tls_read = true;
    set_check(po, MS_PLAINTEXT_USER_RANDOM, "USER mailscope-probe-01020304", "+OK", NULL, "");
    assert_int_equal(ms_assess_plaintext_verdict(po), MS_PLAINTEXT_CONFIRMED);
    /* Dovecot's answer with disable_plaintext_auth = yes */
    set_check(po, MS_PLAINTEXT_USER_RANDOM, "USER mailscope-probe-01020304", "-ERR", "AUTH",
              "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.");
    assert_int_equal(ms_assess_plaintext_verdict(po), MS_PLAINTEXT_REFUSED);
    /* nothing sent (no way offered): unchecked */
    set_check(po, MS_PLAINTEXT_NONE, "", NULL, NULL, NULL);
    assert_int_equal(ms_assess_plaintext_verdict(po), MS_PLAINTEXT_UNCHECKED);
    fx_done(&r, &a);
}

static void test_plaintext_login_pop3(void **state)
{
    (void)state;
    static const char *const user[] = {"CAPA", "TOP", "USER", "STLS", NULL};
    static const char *const sasl[] = {"CAPA", "STLS", "SASL SCRAM-SHA-256 PLAIN", NULL};
    static const char *const login[] = {"STLS", "sasl login", NULL};
    static const char *const safe[] = {"CAPA", "STLS", "SASL SCRAM-SHA-256 GSSAPI", "USERX", NULL};
    const char *const *cases[] = {user, sasl, login, safe};
    const bool expect[] = {true, true, true, false};
    for (size_t k = 0; k < 4; k++) {
        struct ms_result r;
        struct ms_assessment a;
        bare_host(&r);
        ms_strlist_free(&r.endpoints[2].caps_before_tls);
        fx_add_strs(&r.endpoints[2].caps_before_tls, cases[k]);
        assess(&r, 14, &a);
        assert_int_equal(has(&a, "auth.plaintext_login_allowed", 2), expect[k]);
        if (expect[k]) {
            const struct ms_finding *f = fx_find(&a, "auth.plaintext_login_allowed", 2);
            assert_int_equal(f->severity, MS_SEVERITY_WARNING);
            assert_non_null(strstr(f->message, "before STLS"));
            assert_int_equal(a.status, MS_STATUS_WARNING);
        } else {
            assert_int_equal(a.status, MS_STATUS_OK);
        }
        fx_done(&r, &a);
    }
}

static void test_alert_ignored(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    r.endpoints[0].alerts_ignored_before_tls = 2;
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    const struct ms_finding *f = fx_find(&a, "proto.alert_ignored", 0);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "2 [ALERT] messages"));
    fx_done(&r, &a);
}

static void test_close_at_logout_is_info(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    r.endpoints[1].failure = MS_FAILURE_PROTO_CLOSED;
    r.endpoints[1].failure_phase = MS_PHASE_LOGOUT;
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(fx_find(&a, "proto.closed", 1)->severity, MS_SEVERITY_INFO);
    fx_done(&r, &a);
}

static void test_internal_error_with_critical(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    fx_fail_at(&r.endpoints[0], MS_FAILURE_INTERNAL, MS_PHASE_CONNECT, "out of memory");
    fx_fail_at(&r.endpoints[2], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "refused");
    fx_fail_at(&r.endpoints[3], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "refused");
    assess(&r, 14, &a);
    /* something is definitely broken: critical beats "could not tell" */
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.endpoint_status[0], MS_STATUS_UNKNOWN);
    assert_int_equal(verdict(&a, MS_PROTOCOL_IMAP)->status, MS_STATUS_UNKNOWN);
    assert_int_equal(verdict(&a, MS_PROTOCOL_POP3)->status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

static void test_protocol_without_endpoints(void **state)
{
    (void)state;
    struct ms_result r = {0};
    struct ms_assessment a;
    r.want[MS_PROTOCOL_IMAP] = true;
    r.bare_host = true;
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.finding_count, 1);
    const struct ms_finding *f = fx_find(&a, "proto.unavailable", -1);
    assert_null(f->endpoint);
    assert_int_equal(a.verdict_count, 1);
    assert_false(a.verdicts[0].available);
    assert_int_equal(a.verdicts[0].status, MS_STATUS_CRITICAL);
    assert_null(a.endpoint_status);
    fx_done(&r, &a);
}

static void test_plaintext_only_endpoint(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    r.bare_host = false;
    r.want[MS_PROTOCOL_POP3] = false;
    r.endpoint_count = 1; /* ms_result_free below only sees one; free the rest by hand */
    for (size_t i = 1; i < 4; i++) {
        ms_strlist_free(&r.endpoints[i].addresses);
        ms_strlist_free(&r.endpoints[i].caps_before_tls);
        ms_strlist_free(&r.endpoints[i].caps_after_tls);
        ms_strlist_free(&r.endpoints[i].tls.cert.san);
    }
    struct ms_endpoint_result *ep = &r.endpoints[0];
    ep->security = MS_SECURITY_NONE;
    ep->required = true;
    ms_strlist_free(&ep->caps_after_tls);
    ep->caps_after_tls_read = false;
    ms_strlist_free(&ep->tls.cert.san);
    memset(&ep->tls, 0, sizeof ep->tls);
    ep->completed_securely = false;
    assess(&r, 14, &a);
    assert_int_equal(fx_find(&a, "tls.not_used", 0)->severity, MS_SEVERITY_CRITICAL);
    assert_false(has(&a, "proto.unavailable", -1));
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

static void test_sorting_and_several_hosts(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_CERT_HAS_EXPIRED};
    static const char *const caps[] = {"IMAP4rev1", "STARTTLS", NULL};
    bare_host(&r);
    r.bare_host = false;
    snprintf(r.endpoints[3].host, sizeof r.endpoints[3].host, "pop.example.org");
    ms_strlist_free(&r.endpoints[0].caps_before_tls);
    fx_add_strs(&r.endpoints[0].caps_before_tls, caps); /* warning on 0 */
    set_cert(&r.endpoints[1], -3);
    fx_bad_cert(&r.endpoints[1], errs, 1, "certificate has expired"); /* critical on 1 */
    r.endpoints[2].alerts_ignored_before_tls = 1;                     /* info on 2 */
    set_cert(&r.endpoints[3], 3);                                     /* warning on 3 */
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 4);
    assert_string_equal(a.findings[0].code, "tls.cert_expired");
    assert_string_equal(a.findings[1].code, "auth.plaintext_login_allowed");
    assert_string_equal(a.findings[2].code, "tls.cert_expires_soon");
    assert_string_equal(a.findings[3].code, "proto.alert_ignored");
    /* several hosts: endpoints are named host:port */
    assert_non_null(strstr(a.findings[2].message, "POP3 on pop.example.org:995"));
    assert_non_null(strstr(a.findings[0].message, "IMAP on mail.example.com:993"));
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ms_status_name(MS_STATUS_OK), "ok");
    assert_string_equal(ms_status_name(MS_STATUS_WARNING), "warning");
    assert_string_equal(ms_status_name(MS_STATUS_CRITICAL), "critical");
    assert_string_equal(ms_status_name(MS_STATUS_UNKNOWN), "unknown");
    assert_string_equal(ms_severity_name(MS_SEVERITY_INFO), "info");
    assert_string_equal(ms_severity_name(MS_SEVERITY_WARNING), "warning");
    assert_string_equal(ms_severity_name(MS_SEVERITY_CRITICAL), "critical");
    /* the exit code is the status value (Nagios) */
    assert_int_equal(MS_STATUS_OK, 0);
    assert_int_equal(MS_STATUS_WARNING, 1);
    assert_int_equal(MS_STATUS_CRITICAL, 2);
    assert_int_equal(MS_STATUS_UNKNOWN, 3);
}

static void test_status_is_worst_severity(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    /* info only -> ok */
    r.endpoints[0].alerts_ignored_before_tls = 1;
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    ms_assessment_free(&a);
    /* info + warning -> warning */
    set_cert(&r.endpoints[1], 1);
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(a.endpoint_status[0], MS_STATUS_OK);
    assert_int_equal(a.endpoint_status[1], MS_STATUS_WARNING);
    ms_assessment_free(&a);
    /* + critical -> critical */
    fx_fail_at(&r.endpoints[2], MS_FAILURE_PROTO_TIMEOUT, MS_PHASE_GREETING, "");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(a.findings[0].severity, MS_SEVERITY_CRITICAL);
    assert_string_equal(a.findings[0].code, "proto.timeout");
    fx_done(&r, &a);
}

/* ---- discovery, families ------------------------------------------------------------ */

static void test_srv_not_offered_not_critical(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const dot[] = {"0 0 0 .", NULL};
    static const char *const imaps[] = {"0 1 993 imap.example.com", NULL};
    discovered(&r);
    query(&r, "_imaps._tcp.example.com", "SRV", "ok", imaps);
    query(&r, "_pop3._tcp.example.com", "SRV", "ok", dot);
    query(&r, "_pop3s._tcp.example.com", "SRV", "nxdomain", NULL);
    fx_add_strs(&r.discovery.srv_not_offered, (const char *const[]){"_pop3._tcp", NULL});
    assess(&r, 14, &a);

    assert_int_equal(a.status, MS_STATUS_OK);
    const struct ms_finding *f = fx_find(&a, "dns.srv_not_offered", -1);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_null(f->endpoint);
    assert_string_equal(f->message,
                        "example.com says POP3 (_pop3._tcp) is not offered (SRV target '.').");
    assert_non_null(strstr(f->remedy, "mail programs should use IMAP"));
    assert_false(has(&a, "proto.unavailable", -1));
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_POP3);
    assert_false(v->available);
    assert_true(v->not_offered);
    assert_int_equal(v->status, MS_STATUS_OK);
    assert_string_equal(v->summary,
                        "POP3 is not offered by example.com (_pop3._tcp SRV target '.').");
    assert_false(verdict(&a, MS_PROTOCOL_IMAP)->not_offered);
    assert_string_equal(a.not_recommended[MS_PROTOCOL_POP3],
                        "example.com says it is not offered (SRV target '.')");
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 0);
    ms_assessment_free(&a);

    /* a guessed POP3 endpoint that is closed is expected, not an alarm */
    struct ms_endpoint_result *ep = discovered_endpoint(
        &r, "pop.example.com", MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995, MS_SOURCE_CONVENTIONAL);
    fx_fail_at(ep, MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    f = fx_find(&a, "tcp.refused", 1);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "says POP3 is not offered"));
    assert_int_equal(verdict(&a, MS_PROTOCOL_POP3)->status, MS_STATUS_OK);
    assert_string_equal(verdict(&a, MS_PROTOCOL_POP3)->summary,
                        "POP3 is not offered by example.com (_pop3._tcp SRV target '.'); "
                        "pop.example.com:995 refused the connection.");
    ms_assessment_free(&a);

    /* ... but one that answers with a broken certificate is still judged */
    fx_fail_at(ep, MS_FAILURE_TLS_HANDSHAKE, MS_PHASE_TLS, "wrong version number");
    assess(&r, 14, &a);
    assert_int_equal(fx_find(&a, "tls.handshake_failed", 1)->severity, MS_SEVERITY_CRITICAL);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

static void test_srv_not_offered_both_protocols(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const dot[] = {"0 0 0 .", NULL};
    discovered(&r);
    /* nothing probed: the endpoint of the fixture goes */
    ms_strlist_free(&r.endpoints[0].addresses);
    ms_strlist_free(&r.endpoints[0].caps_after_tls);
    ms_strlist_free(&r.endpoints[0].tls.cert.san);
    r.endpoint_count = 0;
    query(&r, "_imaps._tcp.example.com", "SRV", "ok", dot);
    query(&r, "_imap._tcp.example.com", "SRV", "ok", dot);
    query(&r, "_pop3s._tcp.example.com", "SRV", "ok", dot);
    query(&r, "_pop3._tcp.example.com", "SRV", "ok", dot);
    fx_add_strs(
        &r.discovery.srv_not_offered,
        (const char *const[]){"_imaps._tcp", "_imap._tcp", "_pop3s._tcp", "_pop3._tcp", NULL});
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(count_code(&a, "dns.srv_not_offered"), 2);
    assert_int_equal(count_code(&a, "proto.unavailable"), 0);
    assert_string_equal(a.findings[0].message, "example.com says IMAP (_imaps._tcp, _imap._tcp) is "
                                               "not offered (SRV target '.').");
    assert_null(strstr(a.findings[0].remedy, "should use"));
    for (size_t k = 0; k < a.verdict_count; k++) {
        assert_true(a.verdicts[k].not_offered);
        assert_int_equal(a.verdicts[k].status, MS_STATUS_OK);
    }
    assert_int_equal(a.preferred, -1);
    fx_done(&r, &a);
}

static void test_srv_not_offered_one_service_only(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const dot[] = {"0 0 0 .", NULL};
    static const char *const pop3s[] = {"0 0 995 pop.example.com", NULL};
    discovered(&r);
    query(&r, "_pop3._tcp.example.com", "SRV", "ok", dot);
    query(&r, "_pop3s._tcp.example.com", "SRV", "ok", pop3s);
    fx_add_strs(&r.discovery.srv_not_offered, (const char *const[]){"_pop3._tcp", NULL});
    struct ms_endpoint_result *ep = discovered_endpoint(&r, "pop.example.com", MS_PROTOCOL_POP3,
                                                        MS_SECURITY_IMPLICIT, 995, MS_SOURCE_SRV);
    fx_fail_at(ep, MS_FAILURE_TCP_TIMEOUT, MS_PHASE_CONNECT, "no answer");
    assess(&r, 14, &a);
    /* _pop3s._tcp names a server: POP3 is offered, and broken */
    const struct ms_finding *f = fx_find(&a, "dns.srv_not_offered", -1);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "other SRV records name POP3 servers"));
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_POP3);
    assert_false(v->not_offered);
    assert_int_equal(v->status, MS_STATUS_CRITICAL);
    assert_string_equal(v->summary, "POP3 is not available for example.com: pop.example.com:995 "
                                    "did not answer (connection timed out).");
    assert_int_equal(fx_find(&a, "tcp.timeout", 1)->severity, MS_SEVERITY_CRITICAL);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

static void test_discovery_nothing_found_is_critical(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    discovered(&r);
    query(&r, "_pop3s._tcp.example.com", "SRV", "nxdomain", NULL);
    query(&r, "pop.example.com", "A+AAAA", "nxdomain", NULL);
    struct ms_candidate *c = &r.discovery.candidates[r.discovery.candidate_count++];
    *c = (struct ms_candidate){.port = 995,
                               .protocol = MS_PROTOCOL_POP3,
                               .security = MS_SECURITY_IMPLICIT,
                               .source = MS_SOURCE_CONVENTIONAL,
                               .priority = -1,
                               .weight = -1,
                               .endpoint_index = -1};
    snprintf(c->host, sizeof c->host, "pop.example.com");
    snprintf(c->dropped, sizeof c->dropped, "does not resolve");
    c[1] = c[0];
    c[1].port = 110;
    r.discovery.candidate_count++;
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    const struct ms_protocol_verdict *v = verdict(&a, MS_PROTOCOL_POP3);
    assert_false(v->available);
    assert_false(v->not_offered);
    assert_int_equal(v->status, MS_STATUS_CRITICAL);
    assert_string_equal(v->summary, "POP3 is not available for example.com: no server was found "
                                    "(none of the 2 candidates resolves).");
    const struct ms_finding *f = fx_find(&a, "proto.unavailable", -1);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_string_equal(f->message, "POP3 is not available for example.com: no server was found "
                                    "(none of the 2 candidates resolves).");
    assert_non_null(strstr(f->remedy, "_pop3s._tcp.example.com. SRV 0 1 995"));
    assert_int_equal(verdict(&a, MS_PROTOCOL_IMAP)->status, MS_STATUS_OK);
    assert_int_equal(a.preferred, MS_PROTOCOL_IMAP);
    fx_done(&r, &a);
}

static void test_srv_target_unresolvable_warning(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    static const char *const imaps[] = {"0 1 993 imap.example.com", "5 1 993 gone.example.com",
                                        NULL};
    discovered(&r);
    query(&r, "_imaps._tcp.example.com", "SRV", "ok", imaps);
    query(&r, "gone.example.com", "A+AAAA", "nxdomain", NULL);
    struct ms_candidate *c = &r.discovery.candidates[r.discovery.candidate_count++];
    *c = (struct ms_candidate){.port = 993,
                               .protocol = MS_PROTOCOL_IMAP,
                               .security = MS_SECURITY_IMPLICIT,
                               .source = MS_SOURCE_SRV,
                               .priority = 5,
                               .weight = 1,
                               .endpoint_index = -1};
    snprintf(c->host, sizeof c->host, "gone.example.com");
    snprintf(c->source_name, sizeof c->source_name, "_imaps._tcp.example.com");
    snprintf(c->dropped, sizeof c->dropped, "does not resolve");
    fx_add_strs(&r.discovery.srv_unresolvable,
                (const char *const[]){"_imaps._tcp.example.com -> gone.example.com", NULL});
    r.want[MS_PROTOCOL_POP3] = false;
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(a.finding_count, 1);
    const struct ms_finding *f = fx_find(&a, "dns.srv_target_unresolvable", -1);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_string_equal(f->message,
                        "_imaps._tcp.example.com names gone.example.com (port 993), but the name "
                        "does not exist (NXDOMAIN); mail programs that follow the SRV record "
                        "cannot connect there.");
    assert_non_null(strstr(f->remedy, "Add an A and/or AAAA record for gone.example.com"));
    /* IMAP itself works, through the other record */
    assert_int_equal(verdict(&a, MS_PROTOCOL_IMAP)->status, MS_STATUS_OK);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 0);
    ms_assessment_free(&a);

    /* no data, and an entry without an arrow, still say something useful */
    snprintf(r.discovery.queries[1].status, sizeof r.discovery.queries[1].status, "nodata");
    fx_add_strs(&r.discovery.srv_unresolvable, (const char *const[]){"odd.example.com", NULL});
    assess(&r, 14, &a);
    assert_int_equal(count_code(&a, "dns.srv_target_unresolvable"), 2);
    assert_non_null(strstr(a.findings[0].message, "has no A or AAAA record"));
    assert_non_null(strstr(a.findings[1].message, "an SRV record names odd.example.com"));
    fx_done(&r, &a);
}

static void test_discovery_sibling_rule(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    discovered(&r);
    r.want[MS_PROTOCOL_POP3] = false;
    struct ms_endpoint_result *a143 =
        discovered_endpoint(&r, "imap.example.com", MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143,
                            MS_SOURCE_CONVENTIONAL);
    struct ms_endpoint_result *mx = discovered_endpoint(&r, "mx.example.com", MS_PROTOCOL_IMAP,
                                                        MS_SECURITY_IMPLICIT, 993, MS_SOURCE_MX);
    fx_fail_at(a143, MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
    fx_fail_at(mx, MS_FAILURE_TCP_TIMEOUT, MS_PHASE_CONNECT, "no answer");
    assess(&r, 14, &a);
    assert_false(r.endpoints[1].required);
    assert_int_equal(a.status, MS_STATUS_OK);
    const struct ms_finding *f = fx_find(&a, "tcp.refused", 1);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "IMAP on imap.example.com:143 is closed; IMAP on "
                                       "imap.example.com:993 (implicit TLS) works"));
    assert_int_equal(fx_find(&a, "tcp.timeout", 2)->severity, MS_SEVERITY_INFO);
    ms_assessment_free(&a);

    /* the working one breaks too: nothing works, and that is critical */
    fx_fail_at(&r.endpoints[0], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "Connection refused");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    assert_int_equal(fx_find(&a, "tcp.refused", 1)->severity, MS_SEVERITY_CRITICAL);
    assert_true(strncmp(verdict(&a, MS_PROTOCOL_IMAP)->summary,
                        "IMAP is not available for example.com: imap.example.com:993 refused",
                        66) == 0);
    fx_done(&r, &a);
}

static void test_srv_certificate_mismatch(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    const int errs[] = {X509_V_ERR_HOSTNAME_MISMATCH};
    discovered(&r);
    r.want[MS_PROTOCOL_POP3] = false;
    r.endpoints[0].tls.cert.hostname_match = false; /* the cert is for mail.example.com */
    fx_bad_cert(&r.endpoints[0], errs, 1, "hostname mismatch");
    assess(&r, 14, &a);
    const struct ms_finding *f = fx_find(&a, "tls.cert_hostname_mismatch", 0);
    assert_non_null(strstr(f->message, "does not cover the name imap.example.com"));
    assert_non_null(strstr(f->message, "The SRV record _imaps._tcp.example.com names this host"));
    assert_non_null(strstr(f->remedy, "change the SRV record _imaps._tcp.example.com"));
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], -1);
    fx_done(&r, &a);
}

static void test_ipv6_unreachable(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    family(&r.endpoints[1].ipv4, "192.0.2.10", MS_FAILURE_NONE, "connected");
    family(&r.endpoints[1].ipv6, "2001:db8::10", MS_FAILURE_TCP_TIMEOUT,
           "no answer to the connection attempt");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    assert_int_equal(a.finding_count, 1);
    const struct ms_finding *f = fx_find(&a, "tcp.ipv6_unreachable", 1);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_string_equal(f->message, "IMAP on 993: IPv4 (192.0.2.10) connects in 4.2 ms but IPv6 "
                                    "(2001:db8::10) does not: no answer to the connection attempt "
                                    "(tcp.timeout). Mail programs that try IPv6 first may hang.");
    assert_non_null(strstr(f->remedy, "AAAA record (2001:db8::10)"));
    assert_non_null(strstr(f->remedy, "firewalls and routes"));
    assert_null(strstr(f->remedy, "no IPv6 route"));
    assert_int_equal(a.endpoint_status[1], MS_STATUS_WARNING);
    /* a warning does not stop the endpoint from being the one to use */
    assert_true(verdict(&a, MS_PROTOCOL_IMAP)->available);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], 1);
    ms_assessment_free(&a);

    /* "unreachable" may be this machine's fault: the remedy says so */
    family(&r.endpoints[1].ipv6, "2001:db8::10", MS_FAILURE_TCP_UNREACHABLE,
           "Network is unreachable");
    assess(&r, 14, &a);
    f = fx_find(&a, "tcp.ipv6_unreachable", 1);
    assert_non_null(strstr(f->message, "(tcp.unreachable)"));
    assert_non_null(strstr(f->remedy, "this machine has no IPv6 route"));
    fx_done(&r, &a);
}

static void test_ipv4_unreachable(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    family(&r.endpoints[3].ipv4, "192.0.2.10", MS_FAILURE_TCP_REFUSED, "Connection refused");
    family(&r.endpoints[3].ipv6, "2001:db8::10", MS_FAILURE_NONE, "connected");
    assess(&r, 14, &a);
    assert_int_equal(a.status, MS_STATUS_WARNING);
    const struct ms_finding *f = fx_find(&a, "tcp.ipv4_unreachable", 3);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_non_null(strstr(f->message, "IPv6 (2001:db8::10) connects in 4.2 ms but IPv4 "
                                       "(192.0.2.10) does not: Connection refused (tcp.refused)"));
    assert_non_null(strstr(f->message, "networks without IPv6 cannot connect"));
    assert_non_null(strstr(f->remedy, "A record (192.0.2.10)"));
    assert_false(has(&a, "tcp.ipv6_unreachable", 3));
    ms_assessment_free(&a);

    /* both work, both fail, or only one tried: nothing to say about families */
    family(&r.endpoints[3].ipv4, "192.0.2.10", MS_FAILURE_NONE, "connected");
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 0);
    ms_assessment_free(&a);
    family(&r.endpoints[3].ipv4, "192.0.2.10", MS_FAILURE_TCP_REFUSED, "Connection refused");
    family(&r.endpoints[3].ipv6, "2001:db8::10", MS_FAILURE_TCP_REFUSED, "Connection refused");
    assess(&r, 14, &a);
    assert_int_equal(
        count_code(&a, "tcp.ipv4_unreachable") + count_code(&a, "tcp.ipv6_unreachable"), 0);
    ms_assessment_free(&a);
    r.endpoints[3].ipv6.tried = false;
    r.endpoints[3].ipv6.failure = MS_FAILURE_NONE;
    assess(&r, 14, &a);
    assert_int_equal(a.finding_count, 0);
    fx_done(&r, &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_fine),
        cmocka_unit_test(test_dane),
        cmocka_unit_test(test_null_options_default_warn_days),
        cmocka_unit_test(test_expired_cert),
        cmocka_unit_test(test_expired_by_date_only),
        cmocka_unit_test(test_chain_expired),
        cmocka_unit_test(test_not_yet_valid),
        cmocka_unit_test(test_hostname_mismatch),
        cmocka_unit_test(test_mismatch_without_verify_error),
        cmocka_unit_test(test_self_signed),
        cmocka_unit_test(test_self_signed_in_chain),
        cmocka_unit_test(test_untrusted_issuer),
        cmocka_unit_test(test_untrusted_other_reason),
        cmocka_unit_test(test_several_cert_problems_no_duplicates),
        cmocka_unit_test(test_expires_soon),
        cmocka_unit_test(test_expires_today),
        cmocka_unit_test(test_tls_outdated),
        cmocka_unit_test(test_closed_port_sibling_works),
        cmocka_unit_test(test_closed_sibling_timeout_unreachable),
        cmocka_unit_test(test_both_pop3_refused),
        cmocka_unit_test(test_sibling_with_bad_cert_does_not_count),
        cmocka_unit_test(test_url_target_refused_is_critical),
        cmocka_unit_test(test_dns_no_such_host),
        cmocka_unit_test(test_failure_codes),
        cmocka_unit_test(test_starttls_not_offered),
        cmocka_unit_test(test_starttls_refused),
        cmocka_unit_test(test_starttls_injected),
        cmocka_unit_test(test_preauth),
        cmocka_unit_test(test_bye),
        cmocka_unit_test(test_tls_handshake_failed),
        cmocka_unit_test(test_plaintext_login_imap),
        cmocka_unit_test(test_plaintext_login_pop3),
        cmocka_unit_test(test_plaintext_check_verdicts),
        cmocka_unit_test(test_alert_ignored),
        cmocka_unit_test(test_close_at_logout_is_info),
        cmocka_unit_test(test_internal_error_with_critical),
        cmocka_unit_test(test_protocol_without_endpoints),
        cmocka_unit_test(test_plaintext_only_endpoint),
        cmocka_unit_test(test_sorting_and_several_hosts),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_status_is_worst_severity),
        cmocka_unit_test(test_srv_not_offered_not_critical),
        cmocka_unit_test(test_srv_not_offered_both_protocols),
        cmocka_unit_test(test_srv_not_offered_one_service_only),
        cmocka_unit_test(test_discovery_nothing_found_is_critical),
        cmocka_unit_test(test_srv_target_unresolvable_warning),
        cmocka_unit_test(test_discovery_sibling_rule),
        cmocka_unit_test(test_srv_certificate_mismatch),
        cmocka_unit_test(test_ipv6_unreachable),
        cmocka_unit_test(test_ipv4_unreachable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
