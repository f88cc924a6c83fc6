/* Unit tests of the renderers: the JSON report (parsed back with jansson, field by field,
 * and validated against report/schema.json when python3-jsonschema is there) and the
 * text report (layout, widths, colour). */
#include <jansson.h>
#include <openssl/x509_vfy.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fixture.h"
#include "probe/error.h"
#include "probe/result.h"
#include "report/assess.h"
#include "report/json.h"
#include "report/text.h"

/* ---- fixtures (the scenarios of test_assess.c, smaller; fixture.h builds the base) --- */

/* What sets this file's healthy endpoints apart from fx_healthy_endpoint(): a Dovecot with
 * more capabilities, measured timings, and a certificate with every field the report shows
 * (issuer, dates, key, fingerprint). */
static void details(struct ms_endpoint_result *ep)
{
    static const char *const imap_pre[] = {
        "IMAP4rev1", "SASL-IR",  "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE",
        "LITERAL+",  "STARTTLS", "LOGINDISABLED",   NULL};
    static const char *const imap_post[] = {
        "IMAP4rev1",    "SASL-IR",  "LOGIN-REFERRALS", "ID",         "ENABLE",
        "IDLE",         "LITERAL+", "AUTH=PLAIN",      "AUTH=LOGIN", "AUTH=OAUTHBEARER",
        "AUTH=XOAUTH2", NULL};
    static const char *const pop3_pre[] = {
        "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", NULL};
    static const char *const pop3_post[] = {"CAPA", "TOP", "UIDL", "USER", "SASL PLAIN LOGIN",
                                            NULL};
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;

    fx_as_dovecot(ep, imap ? imap_pre : pop3_pre, imap ? imap_post : pop3_post);
    ep->timings_ms = (struct ms_timings){1.04, 12.345, 20.0, 2.25, 40.96};
    if (ep->security != MS_SECURITY_STARTTLS)
        ep->timings_ms.greeting = 1.0;
    struct ms_cert_facts *c = &ep->tls.cert;
    snprintf(c->issuer, sizeof c->issuer, "CN=mailscope Test CA,O=mailscope");
    snprintf(c->not_before, sizeof c->not_before, "2025-11-01T00:00:00Z");
    c->not_before_epoch = NOW - 61 * DAY;
    snprintf(c->key_type, sizeof c->key_type, "EC");
    c->key_bits = 256;
    snprintf(c->signature_algorithm, sizeof c->signature_algorithm, "ecdsa-with-SHA256");
    char *fp = c->sha256_fingerprint;
    for (int i = 0; i < 32; i++)
        fp += sprintf(fp, "%s%02X", i ? ":" : "", (unsigned)(i * 7 + 1) & 0xff);
}

static void bare_host(struct ms_result *r)
{
    fx_bare_host(r, false);
    r->duration_ms = 123.456;
    for (size_t i = 0; i < r->endpoint_count; i++)
        details(&r->endpoints[i]);
}

/* POP3 110 refused at connect: no address used, no TLS, nothing read. */
static void refuse(struct ms_endpoint_result *ep)
{
    fx_fail_at(ep, MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "192.0.2.10: Connection refused");
}

static void expire(struct ms_endpoint_result *ep)
{
    fx_bad_cert(ep, (const int[]){X509_V_ERR_CERT_HAS_EXPIRED}, 1, "certificate has expired");
    ep->tls.cert.days_left = -31;
    ep->tls.cert.not_after_epoch = NOW - 31 * DAY;
    snprintf(ep->tls.cert.not_after, sizeof ep->tls.cert.not_after, "2025-12-01T00:00:00Z");
}

/* alice@example.com: SRV names imap.example.com:993 (works; its IPv6 does not connect) and
 * gone.example.com (does not resolve); _pop3._tcp is "."; the MX host does not resolve;
 * the conventional pop.example.com:995 works. */
static void discovered(struct ms_result *r)
{
    static const char *const imaps[] = {"0 1 993 imap.example.com", "10 5 993 gone.example.com",
                                        NULL};
    static const char *const dot[] = {"0 0 0 .", NULL};
    static const char *const mx[] = {"10 mx.example.com", NULL};
    static const char *const sub[] = {"0 1 465 smtp.example.com", NULL};
    static const char *const addrs[] = {"192.0.2.20", "2001:db8::20", NULL};
    fx_result(r, 2);
    snprintf(r->target, sizeof r->target, "alice@example.com");
    r->want[MS_PROTOCOL_IMAP] = r->want[MS_PROTOCOL_POP3] = true;
    r->duration_ms = 250.0;
    for (size_t i = 0; i < 2; i++) {
        struct ms_endpoint_result *ep = &r->endpoints[i];
        bool imap = i == 0;
        const char *host = imap ? "imap.example.com" : "pop.example.com";
        fx_healthy_endpoint(ep, imap ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT,
                            imap ? 993 : 995);
        details(ep);
        fx_set_host(ep, host);
        fx_set_san(ep, host);
    }
    struct ms_endpoint_result *ep = &r->endpoints[0];
    ep->source = MS_SOURCE_SRV;
    snprintf(ep->source_name, sizeof ep->source_name, "_imaps._tcp.example.com");
    ep->srv_priority = 0;
    ep->srv_weight = 1;
    ep->ipv4 = (struct ms_family_check){.tried = true,
                                        .address = "192.0.2.10",
                                        .failure = MS_FAILURE_NONE,
                                        .connect_ms = 3.14,
                                        .message = "connected"};
    ep->ipv6 = (struct ms_family_check){.tried = true,
                                        .address = "2001:db8::10",
                                        .failure = MS_FAILURE_TCP_TIMEOUT,
                                        .connect_ms = -1,
                                        .message = "no answer to the connection attempt"};
    ep = &r->endpoints[1];
    ep->source = MS_SOURCE_CONVENTIONAL;
    snprintf(ep->source_name, sizeof ep->source_name, "conventional name");
    ep->srv_priority = ep->srv_weight = -1;

    fx_discovery(r);
    struct ms_discovery *d = &r->discovery;
    static const struct {
        const char *name, *type, *status, *message;
        const char *const *answers;
    } qs[] = {
        {"_imaps._tcp.example.com", "SRV", "ok", "", imaps},
        {"_pop3._tcp.example.com", "SRV", "ok", "", dot},
        {"_pop3s._tcp.example.com", "SRV", "nxdomain", "Domain name not found", NULL},
        {"_submissions._tcp.example.com", "SRV", "ok", "", sub},
        {"example.com", "MX", "ok", "", mx},
        {"imap.example.com", "A+AAAA", "ok", "", addrs},
        {"gone.example.com", "A+AAAA", "nxdomain", "Domain name not found", NULL},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        struct ms_dns_query_fact *q = &d->queries[d->query_count++];
        snprintf(q->name, sizeof q->name, "%s", qs[i].name);
        snprintf(q->type, sizeof q->type, "%s", qs[i].type);
        snprintf(q->status, sizeof q->status, "%s", qs[i].status);
        snprintf(q->message, sizeof q->message, "%s", qs[i].message);
        q->duration_ms = 2.5 + (double)i;
        if (qs[i].answers)
            fx_add_strs(&q->answers, qs[i].answers);
    }
    static const struct ms_candidate cs[] = {
        {.host = "imap.example.com",
         .port = 993,
         .protocol = MS_PROTOCOL_IMAP,
         .security = MS_SECURITY_IMPLICIT,
         .source = MS_SOURCE_SRV,
         .source_name = "_imaps._tcp.example.com",
         .priority = 0,
         .weight = 1,
         .endpoint_index = 0},
        {.host = "gone.example.com",
         .port = 993,
         .protocol = MS_PROTOCOL_IMAP,
         .security = MS_SECURITY_IMPLICIT,
         .source = MS_SOURCE_SRV,
         .source_name = "_imaps._tcp.example.com",
         .priority = 10,
         .weight = 5,
         .endpoint_index = -1,
         .dropped = "does not resolve"},
        {.host = "mx.example.com",
         .port = 995,
         .protocol = MS_PROTOCOL_POP3,
         .security = MS_SECURITY_IMPLICIT,
         .source = MS_SOURCE_MX,
         .source_name = "example.com MX",
         .priority = 10,
         .weight = -1,
         .endpoint_index = -1,
         .dropped = "does not resolve"},
        {.host = "mx.example.com",
         .port = 143,
         .protocol = MS_PROTOCOL_IMAP,
         .security = MS_SECURITY_STARTTLS,
         .source = MS_SOURCE_MX,
         .source_name = "example.com MX",
         .priority = 10,
         .weight = -1,
         .endpoint_index = -1,
         .dropped = "does not resolve"},
        {.host = "pop.example.com",
         .port = 995,
         .protocol = MS_PROTOCOL_POP3,
         .security = MS_SECURITY_IMPLICIT,
         .source = MS_SOURCE_CONVENTIONAL,
         .source_name = "conventional name",
         .priority = -1,
         .weight = -1,
         .endpoint_index = 1},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        d->candidates[d->candidate_count++] = cs[i];
    static const char *const no[] = {"_pop3._tcp", NULL};
    static const char *const unres[] = {"_imaps._tcp.example.com -> gone.example.com", NULL};
    static const char *const subm[] = {"_submissions._tcp: 0 1 465 smtp.example.com", NULL};
    fx_add_strs(&d->srv_not_offered, no);
    fx_add_strs(&d->srv_unresolvable, unres);
    fx_add_strs(&d->submission, subm);
}

/* bare_host() signed in as alice (fx_signed_in). */
static void signed_in(struct ms_result *r)
{
    bare_host(r);
    fx_credentials(r);
    fx_signed_in(r);
}

/* POP3 995 signs in; its account says EXPIRE NEVER, LOGIN-DELAY 600, empty mailbox. */
static void pop3_account(struct ms_result *r)
{
    signed_in(r);
    struct ms_endpoint_result *po = &r->endpoints[3];
    struct ms_auth_facts *au = &po->auth;
    au->ok = true;
    snprintf(au->status, sizeof au->status, "+OK");
    au->code[0] = '\0';
    snprintf(au->server_response, sizeof au->server_response, "+OK Logged in.");
    fx_add_str(&po->caps_after_login, "EXPIRE NEVER");
    fx_add_str(&po->caps_after_login, "LOGIN-DELAY 600");
    po->caps_after_login_read = true;
    po->account.read = true;
    po->account.pop3_messages = 0;
    po->account.pop3_octets = 0;
    po->account.pop3_expire_days = -1;
    po->account.pop3_login_delay_s = 600;
}

/* Render r as JSON into a string (caller frees). */
static char *render_json(const struct ms_result *r, struct ms_assessment *a)
{
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(ms_assess(r, NULL, a), 0);
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(ms_report_json(f, r, a), 0);
    assert_int_equal(fclose(f), 0);
    assert_true(len > 0);
    assert_int_equal(buf[len - 1], '\n');
    return buf;
}

static json_t *parse(const char *s)
{
    json_error_t err;
    json_t *doc = json_loads(s, 0, &err);
    if (!doc)
        fail_msg("report is not JSON: %s (line %d)", err.text, err.line);
    return doc;
}

static char *render_text(const struct ms_result *r, const struct ms_assessment *a, bool color)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(ms_report_text(f, r, a, color), 0);
    assert_int_equal(fclose(f), 0);
    if (getenv("MS_DUMP"))
        fputs(buf, stderr);
    return buf;
}

/* Keys of obj, exactly, in this order. */
static void assert_keys(const json_t *obj, const char *const *keys)
{
    assert_true(json_is_object(obj));
    size_t n = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        (void)value;
        assert_non_null(keys[n]);
        if (strcmp(key, keys[n]) != 0)
            fail_msg("key %zu is %s, expected %s", n, key, keys[n]);
        n++;
    }
    assert_null(keys[n]);
}

static const char *sget(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static void assert_null_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_null(v))
        fail_msg("%s should be null", key);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void test_json_all_fine(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    char *s = render_json(&r, &a);
    json_t *doc = parse(s);

    static const char *const top[] = {"mailscope", "schema_version", "target",     "user",
                                      "status",    "duration_ms",    "started_at", "verdicts",
                                      "summary",   "recommended",    "discovery",  "autoconfig",
                                      "endpoints", "findings",       "clients",    NULL};
    assert_keys(doc, top);
    assert_string_equal(sget(json_object_get(doc, "mailscope"), "version"), MS_VERSION);
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), MS_SCHEMA_VERSION);
    assert_string_equal(sget(doc, "target"), HOST);
    assert_string_equal(sget(doc, "status"), "ok");
    assert_string_equal(sget(doc, "started_at"), "2026-01-01T00:00:00Z");
    assert_true(json_real_value(json_object_get(doc, "duration_ms")) == 123.5);
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 0);
    assert_null_at(doc, "discovery");
    assert_null_at(doc, "autoconfig");
    json_t *rec = json_object_get(doc, "recommended");
    static const char *const rkeys[] = {"imap",      "pop3",      "submission",
                                        "preferred", "user_name", NULL};
    static const char *const skeys[] = {"host", "port", "security", "endpoint", NULL};
    assert_keys(rec, rkeys);
    assert_keys(json_object_get(rec, "imap"), skeys);
    assert_string_equal(sget(json_object_get(rec, "imap"), "host"), HOST);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "imap"), "port")),
                     993);
    assert_string_equal(sget(json_object_get(rec, "imap"), "security"), "implicit");
    assert_string_equal(sget(json_object_get(rec, "imap"), "endpoint"), "imaps://" HOST ":993");
    assert_string_equal(sget(json_object_get(rec, "pop3"), "endpoint"), "pop3s://" HOST ":995");
    assert_string_equal(sget(rec, "preferred"), "imap");

    json_t *verdicts = json_object_get(doc, "verdicts");
    assert_int_equal(json_array_size(verdicts), 2);
    static const char *const vkeys[] = {"protocol", "available", "offered",
                                        "status",   "summary",   NULL};
    json_t *v = json_array_get(verdicts, 0);
    assert_keys(v, vkeys);
    assert_string_equal(sget(v, "protocol"), "imap");
    assert_true(json_is_true(json_object_get(v, "available")));
    assert_true(json_is_true(json_object_get(v, "offered")));
    assert_string_equal(sget(v, "status"), "ok");
    assert_string_equal(sget(v, "summary"),
                        "IMAP works securely on 993 (implicit TLS) and 143 (STARTTLS).");
    assert_string_equal(sget(json_array_get(verdicts, 1), "protocol"), "pop3");

    json_t *eps = json_object_get(doc, "endpoints");
    assert_int_equal(json_array_size(eps), 4);
    static const char *const ekeys[] = {"id",
                                        "protocol",
                                        "port",
                                        "security",
                                        "host",
                                        "address",
                                        "addresses",
                                        "families",
                                        "required",
                                        "source",
                                        "source_name",
                                        "srv",
                                        "status",
                                        "timings_ms",
                                        "greeting",
                                        "server",
                                        "capabilities",
                                        "starttls_response",
                                        "alerts_ignored_before_tls",
                                        "tls",
                                        "completed_securely",
                                        "error",
                                        "auth",
                                        "account",
                                        "injection",
                                        "plaintext_check",
                                        "tls_audit",
                                        "pool",
                                        NULL};
    json_t *e = json_array_get(eps, 0);
    assert_keys(e, ekeys);
    assert_string_equal(sget(e, "id"), "imap://mail.example.com:143");
    assert_string_equal(sget(e, "protocol"), "imap");
    assert_int_equal(json_integer_value(json_object_get(e, "port")), 143);
    assert_string_equal(sget(e, "security"), "starttls");
    assert_string_equal(sget(e, "host"), HOST);
    assert_string_equal(sget(e, "address"), "192.0.2.10");
    assert_int_equal(json_array_size(json_object_get(e, "addresses")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "addresses"), 1)),
                        "2001:db8::10");
    assert_true(json_is_false(json_object_get(e, "required")));
    assert_string_equal(sget(e, "source"), "target");
    assert_null_at(e, "source_name");
    assert_null_at(e, "srv");
    static const char *const famkeys[] = {"ipv4", "ipv6", NULL};
    assert_keys(json_object_get(e, "families"), famkeys);
    assert_null_at(json_object_get(e, "families"), "ipv4"); /* not tried */
    assert_null_at(json_object_get(e, "families"), "ipv6");
    assert_string_equal(sget(e, "status"), "ok");
    assert_string_equal(sget(e, "greeting"), "* OK Dovecot ready.");
    json_t *srv = json_object_get(e, "server"); /* identified from the greeting */
    static const char *const srvkeys[] = {"software", "name",       "version",
                                          "from",     "confidence", NULL};
    assert_keys(srv, srvkeys);
    assert_string_equal(sget(srv, "software"), "dovecot");
    assert_string_equal(sget(srv, "name"), "Dovecot");
    assert_null_at(srv, "version");
    assert_string_equal(sget(srv, "from"), "greeting");
    assert_string_equal(sget(srv, "confidence"), "high");
    assert_string_equal(sget(e, "starttls_response"), "a1 OK Begin TLS negotiation now.");
    assert_true(json_is_true(json_object_get(e, "completed_securely")));
    assert_null_at(e, "error");
    assert_null_at(e, "auth"); /* no credentials */
    assert_null_at(e, "account");
    assert_null_at(e, "injection");
    assert_null_at(e, "plaintext_check");
    assert_null_at(e, "tls_audit"); /* --tls-audit not given */
    assert_null_at(e, "pool");      /* the pool was not probed */
    assert_null_at(doc, "user");

    json_t *t = json_object_get(e, "timings_ms");
    static const char *const tkeys[] = {"resolve", "connect", "tls", "greeting", "total", NULL};
    assert_keys(t, tkeys);
    assert_true(json_real_value(json_object_get(t, "resolve")) == 1.0);
    assert_true(json_real_value(json_object_get(t, "connect")) == 12.3);
    assert_true(json_real_value(json_object_get(t, "greeting")) == 2.3);
    assert_true(json_real_value(json_object_get(t, "total")) == 41.0);
    /* 0.1 ms resolution without binary noise in the text */
    assert_non_null(strstr(s, "\"connect\": 12.3,"));
    assert_null(strstr(s, "000000"));

    json_t *caps = json_object_get(e, "capabilities");
    json_t *before = json_object_get(caps, "before_tls");
    assert_int_equal(json_array_size(before), 9);
    assert_string_equal(json_string_value(json_array_get(before, 7)), "STARTTLS");
    assert_string_equal(json_string_value(json_array_get(before, 8)), "LOGINDISABLED");
    assert_int_equal(json_array_size(json_object_get(caps, "after_tls")), 11);
    assert_true(json_is_false(json_object_get(json_object_get(caps, "truncated"), "before_tls")));
    assert_true(json_is_false(json_object_get(json_object_get(caps, "truncated"), "after_login")));
    assert_null_at(caps, "after_login");

    json_t *tls = json_object_get(e, "tls");
    assert_string_equal(sget(tls, "version"), "TLSv1.3");
    assert_string_equal(sget(tls, "cipher"), "TLS_AES_256_GCM_SHA384");
    assert_true(json_is_true(json_object_get(tls, "verified")));
    assert_null_at(tls, "verify_error");
    assert_null_at(tls, "handshake_error");
    json_t *cert = json_object_get(tls, "certificate");
    static const char *const ckeys[] = {"subject",
                                        "issuer",
                                        "san",
                                        "not_before",
                                        "not_after",
                                        "days_left",
                                        "hostname_match",
                                        "self_signed",
                                        "key_type",
                                        "key_bits",
                                        "signature_algorithm",
                                        "sha256_fingerprint",
                                        NULL};
    assert_keys(cert, ckeys);
    assert_string_equal(sget(cert, "subject"), "CN=" HOST);
    assert_string_equal(json_string_value(json_array_get(json_object_get(cert, "san"), 0)),
                        "DNS:" HOST);
    assert_string_equal(sget(cert, "not_after"), "2027-01-01T00:00:00Z");
    assert_int_equal(json_integer_value(json_object_get(cert, "days_left")), 365);
    assert_true(json_is_true(json_object_get(cert, "hostname_match")));
    assert_true(json_is_false(json_object_get(cert, "self_signed")));
    assert_int_equal(json_integer_value(json_object_get(cert, "key_bits")), 256);
    assert_int_equal(strlen(sget(cert, "sha256_fingerprint")), 95);

    /* implicit TLS: nothing before TLS */
    e = json_array_get(eps, 1);
    assert_string_equal(sget(e, "security"), "implicit");
    assert_null_at(json_object_get(e, "capabilities"), "before_tls");
    assert_null_at(e, "starttls_response");

    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_json_failures_and_nulls(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    refuse(&r.endpoints[2]);
    expire(&r.endpoints[1]);
    char *s = render_json(&r, &a);
    json_t *doc = parse(s);

    assert_string_equal(sget(doc, "status"), "critical");
    json_t *e = json_array_get(json_object_get(doc, "endpoints"), 2);
    assert_string_equal(sget(e, "id"), "pop3://mail.example.com:110");
    assert_null_at(e, "address");
    assert_null_at(e, "greeting");
    assert_null_at(e, "server"); /* nothing to identify it by */
    assert_null_at(e, "tls");
    assert_null_at(e, "starttls_response");
    assert_null_at(json_object_get(e, "capabilities"), "before_tls");
    assert_null_at(json_object_get(e, "capabilities"), "after_tls");
    assert_null_at(json_object_get(e, "timings_ms"), "tls");
    assert_null_at(json_object_get(e, "timings_ms"), "greeting");
    assert_true(json_is_real(json_object_get(json_object_get(e, "timings_ms"), "connect")));
    assert_string_equal(sget(e, "status"), "ok"); /* closed, but 995 works: info */
    json_t *err = json_object_get(e, "error");
    assert_string_equal(sget(err, "code"), "tcp.refused");
    assert_string_equal(sget(err, "failure"), "tcp_refused");
    assert_string_equal(sget(err, "phase"), "connect");
    assert_string_equal(sget(err, "message"), "192.0.2.10: Connection refused");

    e = json_array_get(json_object_get(doc, "endpoints"), 1);
    assert_string_equal(sget(e, "status"), "critical");
    json_t *tls = json_object_get(e, "tls");
    assert_true(json_is_false(json_object_get(tls, "verified")));
    assert_string_equal(sget(tls, "verify_error"), "certificate has expired");
    assert_int_equal(
        json_integer_value(json_array_get(json_object_get(tls, "verify_error_codes"), 0)),
        X509_V_ERR_CERT_HAS_EXPIRED);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(tls, "certificate"), "days_left")), -31);
    assert_null_at(e, "error"); /* the session itself ran to the end */

    json_t *findings = json_object_get(doc, "findings");
    assert_int_equal(json_array_size(findings), 2);
    static const char *const fkeys[] = {"severity", "code", "endpoint", "message", "remedy", NULL};
    json_t *f = json_array_get(findings, 0);
    assert_keys(f, fkeys);
    assert_string_equal(sget(f, "severity"), "critical");
    assert_string_equal(sget(f, "code"), "tls.cert_expired");
    assert_string_equal(sget(f, "endpoint"), "imaps://mail.example.com:993");
    assert_non_null(strstr(sget(f, "message"), "2025-12-01"));
    f = json_array_get(findings, 1);
    assert_string_equal(sget(f, "severity"), "info");
    assert_string_equal(sget(f, "code"), "tcp.refused");
    assert_string_equal(sget(f, "endpoint"), "pop3://mail.example.com:110");

    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_json_null_endpoint_and_empty(void **state)
{
    (void)state;
    struct ms_result r = {0};
    struct ms_assessment a;
    r.want[MS_PROTOCOL_POP3] = true;
    r.bare_host = true;
    r.duration_ms = 0.04;
    char *s = render_json(&r, &a);
    json_t *doc = parse(s);
    assert_string_equal(sget(doc, "status"), "critical");
    assert_int_equal(json_array_size(json_object_get(doc, "endpoints")), 0);
    json_t *f = json_array_get(json_object_get(doc, "findings"), 0);
    assert_string_equal(sget(f, "code"), "proto.unavailable");
    assert_null_at(f, "endpoint");
    assert_true(json_real_value(json_object_get(doc, "duration_ms")) == 0.0);
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
}

static void test_json_discovery(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    discovered(&r);
    char *s = render_json(&r, &a);
    json_t *doc = parse(s);
    assert_string_equal(sget(doc, "status"), "warning");

    json_t *d = json_object_get(doc, "discovery");
    static const char *const dkeys[] = {
        "domain",     "user",       "resolver",        "duration_ms",
        "queries",    "candidates", "srv_not_offered", "srv_unresolvable",
        "submission", NULL};
    assert_keys(d, dkeys);
    assert_string_equal(sget(d, "domain"), "example.com");
    assert_string_equal(sget(d, "user"), "alice");
    assert_true(json_real_value(json_object_get(d, "duration_ms")) == 41.3);

    json_t *qs = json_object_get(d, "queries");
    assert_int_equal(json_array_size(qs), 7);
    static const char *const qkeys[] = {"name",        "type",    "status", "message",
                                        "duration_ms", "answers", NULL};
    json_t *q = json_array_get(qs, 0);
    assert_keys(q, qkeys);
    assert_string_equal(sget(q, "name"), "_imaps._tcp.example.com");
    assert_string_equal(sget(q, "type"), "SRV");
    assert_string_equal(sget(q, "status"), "ok");
    assert_null_at(q, "message");
    assert_true(json_real_value(json_object_get(q, "duration_ms")) == 2.5);
    assert_int_equal(json_array_size(json_object_get(q, "answers")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(q, "answers"), 1)),
                        "10 5 993 gone.example.com");
    q = json_array_get(qs, 2);
    assert_string_equal(sget(q, "status"), "nxdomain");
    assert_string_equal(sget(q, "message"), "Domain name not found");
    assert_int_equal(json_array_size(json_object_get(q, "answers")), 0);

    json_t *cs = json_object_get(d, "candidates");
    assert_int_equal(json_array_size(cs), 5);
    static const char *const ckeys[] = {"host",     "port",        "protocol", "security",
                                        "source",   "source_name", "priority", "weight",
                                        "endpoint", "dropped",     NULL};
    json_t *c = json_array_get(cs, 0);
    assert_keys(c, ckeys);
    assert_string_equal(sget(c, "host"), "imap.example.com");
    assert_int_equal(json_integer_value(json_object_get(c, "port")), 993);
    assert_string_equal(sget(c, "protocol"), "imap");
    assert_string_equal(sget(c, "security"), "implicit");
    assert_string_equal(sget(c, "source"), "srv");
    assert_string_equal(sget(c, "source_name"), "_imaps._tcp.example.com");
    assert_int_equal(json_integer_value(json_object_get(c, "priority")), 0);
    assert_int_equal(json_integer_value(json_object_get(c, "weight")), 1);
    assert_string_equal(sget(c, "endpoint"), "imaps://imap.example.com:993");
    assert_null_at(c, "dropped");
    c = json_array_get(cs, 2);
    assert_string_equal(sget(c, "source"), "mx");
    assert_int_equal(json_integer_value(json_object_get(c, "priority")), 10);
    assert_null_at(c, "weight");
    assert_null_at(c, "endpoint");
    assert_string_equal(sget(c, "dropped"), "does not resolve");
    c = json_array_get(cs, 4);
    assert_string_equal(sget(c, "source"), "conventional");
    assert_null_at(c, "priority");
    assert_string_equal(sget(c, "endpoint"), "pop3s://pop.example.com:995");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "srv_not_offered"), 0)),
                        "_pop3._tcp");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(d, "srv_unresolvable"), 0)),
        "_imaps._tcp.example.com -> gone.example.com");
    assert_string_equal(json_string_value(json_array_get(json_object_get(d, "submission"), 0)),
                        "_submissions._tcp: 0 1 465 smtp.example.com");

    /* endpoints: source, srv, families */
    json_t *e = json_array_get(json_object_get(doc, "endpoints"), 0);
    assert_string_equal(sget(e, "source"), "srv");
    assert_string_equal(sget(e, "source_name"), "_imaps._tcp.example.com");
    static const char *const srvkeys[] = {"priority", "weight", NULL};
    assert_keys(json_object_get(e, "srv"), srvkeys);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "srv"), "priority")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "srv"), "weight")), 1);
    json_t *fam = json_object_get(e, "families");
    static const char *const fkeys[] = {"address", "ok", "error", "connect_ms", "message", NULL};
    json_t *v4 = json_object_get(fam, "ipv4"), *v6 = json_object_get(fam, "ipv6");
    assert_keys(v4, fkeys);
    assert_keys(v6, fkeys);
    assert_string_equal(sget(v4, "address"), "192.0.2.10");
    assert_true(json_is_true(json_object_get(v4, "ok")));
    assert_null_at(v4, "error");
    assert_true(json_real_value(json_object_get(v4, "connect_ms")) == 3.1);
    assert_string_equal(sget(v6, "address"), "2001:db8::10");
    assert_true(json_is_false(json_object_get(v6, "ok")));
    assert_string_equal(sget(v6, "error"), "tcp.timeout");
    assert_null_at(v6, "connect_ms");
    assert_string_equal(sget(v6, "message"), "no answer to the connection attempt");
    e = json_array_get(json_object_get(doc, "endpoints"), 1);
    assert_string_equal(sget(e, "source"), "conventional");
    assert_null_at(e, "srv");
    assert_null_at(json_object_get(e, "families"), "ipv4");

    /* verdicts: POP3 is offered (only _pop3._tcp is "."), IMAP works */
    json_t *v = json_array_get(json_object_get(doc, "verdicts"), 1);
    assert_string_equal(sget(v, "protocol"), "pop3");
    assert_true(json_is_true(json_object_get(v, "offered")));

    /* recommended */
    json_t *rec = json_object_get(doc, "recommended");
    assert_string_equal(sget(json_object_get(rec, "imap"), "host"), "imap.example.com");
    assert_string_equal(sget(json_object_get(rec, "pop3"), "host"), "pop.example.com");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rec, "pop3"), "port")),
                     995);
    assert_string_equal(sget(rec, "preferred"), "imap");

    /* findings: the family, the unresolvable SRV target, the partial not-offered */
    json_t *fs = json_object_get(doc, "findings");
    bool v6f = false, unres = false, notoff = false;
    for (size_t i = 0; i < json_array_size(fs); i++) {
        json_t *f = json_array_get(fs, i);
        const char *code = sget(f, "code");
        if (strcmp(code, "tcp.ipv6_unreachable") == 0) {
            v6f = true;
            assert_string_equal(sget(f, "severity"), "warning");
            assert_string_equal(sget(f, "endpoint"), "imaps://imap.example.com:993");
        } else if (strcmp(code, "dns.srv_target_unresolvable") == 0) {
            unres = true;
            assert_string_equal(sget(f, "severity"), "warning");
            assert_null_at(f, "endpoint");
        } else if (strcmp(code, "dns.srv_not_offered") == 0) {
            notoff = true;
            assert_string_equal(sget(f, "severity"), "info");
            assert_null_at(f, "endpoint");
        }
    }
    assert_true(v6f && unres && notoff);
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);

    /* nothing secure: both recommendations null, preferred null; POP3 only asked for */
    r.want[MS_PROTOCOL_IMAP] = false;
    r.endpoints[0].tls.verified = false;
    r.endpoints[0].completed_securely = false;
    r.endpoints[1].tls.verified = false;
    r.endpoints[1].completed_securely = false;
    s = render_json(&r, &a);
    doc = parse(s);
    rec = json_object_get(doc, "recommended");
    assert_null_at(rec, "imap");
    assert_null_at(rec, "pop3");
    assert_null_at(rec, "preferred");
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);

    /* only POP3 asked for and both work: POP3 first */
    r.endpoints[0].tls.verified = r.endpoints[0].completed_securely = true;
    r.endpoints[1].tls.verified = r.endpoints[1].completed_securely = true;
    s = render_json(&r, &a);
    doc = parse(s);
    assert_string_equal(sget(json_object_get(doc, "recommended"), "preferred"), "pop3");
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_json_not_offered_verdict(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    discovered(&r);
    /* _pop3s._tcp is "." too, and pop.example.com is only a closed guess */
    snprintf(r.discovery.queries[2].status, sizeof r.discovery.queries[2].status, "ok");
    assert_int_equal(ms_strlist_append(&r.discovery.queries[2].answers, "0 0 0 .", 7, 8), 0);
    assert_int_equal(ms_strlist_append(&r.discovery.srv_not_offered, "_pop3s._tcp", 11, 8), 0);
    refuse(&r.endpoints[1]);
    char *s = render_json(&r, &a);
    json_t *doc = parse(s);
    json_t *v = json_array_get(json_object_get(doc, "verdicts"), 1);
    assert_string_equal(sget(v, "protocol"), "pop3");
    assert_true(json_is_false(json_object_get(v, "available")));
    assert_true(json_is_false(json_object_get(v, "offered")));
    assert_string_equal(sget(v, "status"), "ok");
    assert_null_at(json_object_get(doc, "recommended"), "pop3");
    assert_string_equal(sget(doc, "status"), "warning"); /* IPv6 and the SRV target only */
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static json_t *feature(json_t *doc, const char *id)
{
    json_t *fs = json_object_get(json_object_get(doc, "summary"), "features");
    for (size_t i = 0; i < json_array_size(fs); i++)
        if (strcmp(sget(json_array_get(fs, i), "id"), id) == 0)
            return json_array_get(fs, i);
    fail_msg("no feature %s", id);
    return NULL;
}

static void test_json_sign_in_and_account(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    signed_in(&r);
    char *s = render_json(&r, &a);
    json_t *doc = parse(s);
    assert_string_equal(sget(doc, "user"), "alice");
    assert_string_equal(sget(doc, "status"), "critical");

    /* summary */
    json_t *sum = json_object_get(doc, "summary");
    static const char *const skeys[] = {"features", "schedule", "poll_interval_seconds",
                                        "signed_in", NULL};
    assert_keys(sum, skeys);
    static const char *const ids[] = {"protocol_enabled",
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
                                      "can_send",
                                      "max_message_size",
                                      NULL};
    json_t *fs = json_object_get(sum, "features");
    assert_int_equal(json_array_size(fs), 13);
    static const char *const fkeys[] = {"id",         "question", "imap", "pop3",
                                        "submission", "evidence", NULL};
    for (size_t i = 0; ids[i]; i++) {
        assert_keys(json_array_get(fs, i), fkeys);
        assert_string_equal(sget(json_array_get(fs, i), "id"), ids[i]);
    }
    json_t *f = feature(doc, "protocol_enabled");
    assert_string_equal(sget(f, "question"), "Is POP3/IMAP enabled for this account?");
    static const char *const akeys_plain[] = {"answer", "value", "unit", "text", NULL};
    assert_keys(json_object_get(f, "imap"), akeys_plain);
    assert_string_equal(sget(json_object_get(f, "imap"), "answer"), "yes");
    assert_string_equal(sget(json_object_get(f, "imap"), "text"), "yes");
    assert_null_at(json_object_get(f, "imap"), "value");
    assert_null_at(json_object_get(f, "imap"), "unit");
    assert_string_equal(sget(json_object_get(f, "pop3"), "answer"), "no");
    assert_non_null(strstr(sget(f, "evidence"), "POP3 access is disabled for this account"));
    /* a number with its unit, and the words beside it */
    json_t *folders = json_object_get(feature(doc, "server_folders"), "imap");
    assert_string_equal(sget(folders, "answer"), "yes");
    assert_int_equal(json_integer_value(json_object_get(folders, "value")), 4);
    assert_string_equal(sget(folders, "unit"), "folders");
    assert_string_equal(sget(folders, "text"), "4 folders");
    assert_string_equal(sget(json_object_get(feature(doc, "server_folders"), "pop3"), "answer"),
                        "no");
    assert_string_equal(
        sget(json_object_get(feature(doc, "sent_items_on_server"), "pop3"), "answer"), "n/a");
    /* quota: KiB used, the limit and the percentage */
    json_t *quota = json_object_get(feature(doc, "quota"), "imap");
    static const char *const qkeys[] = {"answer", "value",   "unit", "text",
                                        "limit",  "percent", NULL};
    assert_keys(quota, qkeys);
    assert_string_equal(sget(quota, "answer"), "yes");
    assert_int_equal(json_integer_value(json_object_get(quota, "value")), 2048);
    assert_string_equal(sget(quota, "unit"), "KiB");
    assert_int_equal(json_integer_value(json_object_get(quota, "limit")), 10240);
    assert_int_equal(json_integer_value(json_object_get(quota, "percent")), 20);
    assert_string_equal(sget(quota, "text"), "2.0 MB of 10 MB (20%)");
    assert_string_equal(sget(json_object_get(feature(doc, "push_mail"), "imap"), "answer"), "yes");
    /* words as the value */
    json_t *methods = json_object_get(feature(doc, "sign_in_methods"), "imap");
    assert_string_equal(sget(methods, "answer"), "yes");
    assert_string_equal(sget(methods, "value"), sget(methods, "text"));
    assert_null_at(methods, "unit");
    assert_true(strncmp(sget(sum, "schedule"), "Push:", 5) == 0);
    assert_int_equal(json_integer_value(json_object_get(sum, "poll_interval_seconds")), 0);
    json_t *si = json_object_get(sum, "signed_in");
    assert_string_equal(sget(si, "imap"), "imaps://" HOST ":993");
    assert_null_at(si, "pop3");

    /* endpoint auth: the chosen, the refused, the one that left it to another */
    json_t *eps = json_object_get(doc, "endpoints");
    json_t *e = json_array_get(eps, 1);
    json_t *au = json_object_get(e, "auth");
    static const char *const akeys[] = {"mechanisms",
                                        "chosen",
                                        "attempted",
                                        "ok",
                                        "outcome",
                                        "mechanism",
                                        "status",
                                        "code",
                                        "server_response",
                                        "oauth_error",
                                        "refused_after_login",
                                        "not_attempted_reason",
                                        NULL};
    assert_keys(au, akeys);
    json_t *mechs = json_object_get(au, "mechanisms");
    assert_int_equal(json_array_size(mechs), 4);
    assert_string_equal(json_string_value(json_array_get(mechs, 3)), "XOAUTH2");
    assert_true(json_is_true(json_object_get(au, "chosen")));
    assert_true(json_is_true(json_object_get(au, "ok")));
    assert_string_equal(sget(au, "outcome"), "ok");
    assert_string_equal(sget(au, "mechanism"), "PLAIN");
    assert_string_equal(sget(au, "status"), "OK");
    assert_null_at(au, "code");
    assert_null_at(au, "oauth_error");
    assert_null_at(au, "not_attempted_reason");
    json_t *caps = json_object_get(e, "capabilities");
    assert_int_equal(json_array_size(json_object_get(caps, "after_login")), 6);

    /* endpoint account (IMAP) */
    json_t *ac = json_object_get(e, "account");
    static const char *const ackeys[] = {"folders",
                                         "folders_truncated",
                                         "special_use_listed",
                                         "namespaces",
                                         "inbox",
                                         "quota",
                                         "pop3",
                                         NULL};
    assert_keys(ac, ackeys);
    json_t *fl = json_object_get(ac, "folders");
    assert_int_equal(json_array_size(fl), 4);
    static const char *const flkeys[] = {"name", "special_use", "noselect", NULL};
    assert_keys(json_array_get(fl, 2), flkeys);
    assert_string_equal(sget(json_array_get(fl, 2), "name"), "Archive");
    json_t *su = json_object_get(json_array_get(fl, 2), "special_use");
    assert_int_equal(json_array_size(su), 2);
    assert_string_equal(json_string_value(json_array_get(su, 0)), "\\Archive");
    assert_string_equal(json_string_value(json_array_get(su, 1)), "\\All");
    assert_int_equal(json_array_size(json_object_get(json_array_get(fl, 0), "special_use")), 0);
    assert_true(json_is_true(json_object_get(json_array_get(fl, 3), "noselect")));
    assert_true(json_is_false(json_object_get(ac, "folders_truncated")));
    json_t *ns = json_object_get(ac, "namespaces");
    assert_int_equal(json_array_size(json_object_get(ns, "other_users")), 0);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ns, "shared"), 0)),
                        "Public/");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ns, "personal"), 0)), "");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(ac, "inbox"), "unseen")),
                     2);
    json_t *q = json_object_get(ac, "quota");
    assert_int_equal(json_integer_value(json_object_get(q, "storage_used_kb")), 2048);
    assert_int_equal(json_integer_value(json_object_get(q, "storage_limit_kb")), 10240);
    assert_string_equal(sget(q, "root"), "User quota");
    assert_null_at(ac, "pop3");
    assert_null_at(e, "injection");

    /* the refused POP3 sign-in: its words, its code, no account */
    e = json_array_get(eps, 3);
    au = json_object_get(e, "auth");
    assert_true(json_is_true(json_object_get(au, "attempted")));
    assert_true(json_is_false(json_object_get(au, "ok")));
    assert_string_equal(sget(au, "outcome"), "protocol_disabled");
    assert_string_equal(sget(au, "status"), "-ERR");
    assert_string_equal(sget(au, "code"), "AUTH");
    assert_string_equal(sget(au, "server_response"),
                        "-ERR [AUTH] POP3 access is disabled for this account");
    mechs = json_object_get(au, "mechanisms");
    assert_int_equal(json_array_size(mechs), 2); /* SASL only: USER is a command */
    assert_string_equal(json_string_value(json_array_get(mechs, 1)), "LOGIN");
    assert_null_at(e, "account");
    assert_null_at(json_object_get(e, "capabilities"), "after_login");

    /* not chosen; the injection checks */
    e = json_array_get(eps, 0);
    au = json_object_get(e, "auth");
    assert_string_equal(sget(au, "outcome"), "not_chosen");
    assert_true(json_is_false(json_object_get(au, "attempted")));
    assert_string_equal(sget(au, "not_attempted_reason"),
                        "another endpoint of this protocol was chosen to sign in");
    json_t *inj = json_object_get(e, "injection");
    static const char *const ikeys[] = {"tested", "vulnerable", "evidence", "note", NULL};
    assert_keys(inj, ikeys);
    assert_true(json_is_true(json_object_get(inj, "tested")));
    assert_true(json_is_false(json_object_get(inj, "vulnerable")));
    assert_null_at(inj, "evidence");
    inj = json_object_get(json_array_get(eps, 2), "injection");
    assert_true(json_is_true(json_object_get(inj, "vulnerable")));
    assert_string_equal(sget(inj, "evidence"), "+OK Capability list follows");

    /* findings: the account and the injection */
    json_t *fds = json_object_get(doc, "findings");
    bool disabled = false, injection = false;
    for (size_t i = 0; i < json_array_size(fds); i++) {
        const char *code = sget(json_array_get(fds, i), "code");
        if (strcmp(code, "auth.protocol_disabled") == 0)
            disabled = true;
        if (strcmp(code, "starttls.command_injection") == 0)
            injection = true;
        assert_true(strcmp(code, "auth.not_attempted") != 0);
    }
    assert_true(disabled && injection);
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);

    /* a POP3 account: EXPIRE NEVER is -1, LOGIN-DELAY in seconds, UIDL/TOP not tried */
    pop3_account(&r);
    s = render_json(&r, &a);
    doc = parse(s);
    json_t *p3 = json_object_get(
        json_object_get(json_array_get(json_object_get(doc, "endpoints"), 3), "account"), "pop3");
    static const char *const pkeys[] = {"messages", "octets", "expire_days", "login_delay_seconds",
                                        "uidl",     "top",    NULL};
    assert_keys(p3, pkeys);
    assert_int_equal(json_integer_value(json_object_get(p3, "messages")), 0);
    assert_int_equal(json_integer_value(json_object_get(p3, "expire_days")), -1);
    assert_int_equal(json_integer_value(json_object_get(p3, "login_delay_seconds")), 600);
    assert_null_at(p3, "uidl");
    assert_null_at(p3, "top");
    assert_null_at(json_object_get(json_array_get(json_object_get(doc, "endpoints"), 3), "account"),
                   "folders");
    json_t *poll = json_object_get(feature(doc, "min_poll_interval"), "pop3");
    assert_string_equal(sget(poll, "text"), "600 s");
    assert_int_equal(json_integer_value(json_object_get(poll, "value")), 600);
    assert_string_equal(sget(poll, "unit"), "seconds");
    assert_string_equal(sget(json_object_get(json_object_get(doc, "summary"), "signed_in"), "pop3"),
                        "pop3s://" HOST ":995");
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
    /* EXPIRE not said: null */
    r.endpoints[3].account.pop3_expire_days = -2;
    r.endpoints[3].account.pop3_login_delay_s = -1;
    s = render_json(&r, &a);
    doc = parse(s);
    p3 = json_object_get(
        json_object_get(json_array_get(json_object_get(doc, "endpoints"), 3), "account"), "pop3");
    assert_null_at(p3, "expire_days");
    assert_null_at(p3, "login_delay_seconds");
    json_decref(doc);
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_json_write_error(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    FILE *f = fopen("/dev/null", "r"); /* every write fails */
    assert_non_null(f);
    assert_int_equal(ms_report_json(f, &r, &a), MS_EIO);
    assert_int_equal(ms_report_text(f, &r, &a, false), MS_EIO);
    fclose(f);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

/* ---- schema ---------------------------------------------------------------------- */

/* Write each scenario's report to a file and validate them all against report/schema.json
 * with python3-jsonschema (skipped when it is not installed). */
static void test_json_matches_schema(void **state)
{
    (void)state;
    char root[1024], dir[] = "/tmp/ms_report_json_XXXXXX", cmd[4096];
    snprintf(root, sizeof root, "%s", __FILE__);
    char *cut = strstr(root, "tests/unit/test_report_json.c");
    if (!cut || access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") != 0) {
        skip();
        return;
    }
    *cut = '\0';
    assert_non_null(mkdtemp(dir));

    struct ms_result r;
    struct ms_assessment a;
    for (int k = 0; k < 10; k++) {
        if (k == 7)
            signed_in(&r);
        else if (k == 8)
            pop3_account(&r);
        else if (k == 9)
            signed_in(&r);
        else if (k >= 4)
            discovered(&r);
        else
            bare_host(&r);
        if (k == 9) { /* the server stopped answering while signing in; no verdict */
            struct ms_endpoint_result *ep = &r.endpoints[1];
            memset(&ep->auth, 0, sizeof ep->auth);
            ep->auth.wanted = ep->auth.chosen = ep->auth.attempted = true;
            snprintf(ep->auth.mechanism, sizeof ep->auth.mechanism, "XOAUTH2");
            snprintf(ep->auth.oauth_error, sizeof ep->auth.oauth_error, "{\"status\":\"400\"}");
            ep->account.read = false;
            ep->caps_after_login_read = false;
            ep->failure = MS_FAILURE_PROTO_TIMEOUT;
            ep->failure_phase = MS_PHASE_AUTH;
            snprintf(ep->failure_message, sizeof ep->failure_message, "no answer within 10 s");
        } else if (k == 5) { /* nothing secure, families failing both ways, nothing resolves */
            r.endpoints[0].ipv4.failure = MS_FAILURE_TCP_REFUSED;
            r.endpoints[0].ipv4.connect_ms = -1;
            r.endpoints[0].ipv6.failure = MS_FAILURE_NONE;
            r.endpoints[0].ipv6.connect_ms = 1.5;
            r.endpoints[0].ipv6.message[0] = '\0';
            expire(&r.endpoints[0]);
            refuse(&r.endpoints[1]);
            r.discovery.user[0] = '\0';
        } else if (k == 6) { /* discovery that found nothing at all */
            for (size_t i = 0; i < r.endpoint_count; i++)
                refuse(&r.endpoints[i]);
            ms_result_free(&r);
            r.discovery.performed = true;
            snprintf(r.discovery.domain, sizeof r.discovery.domain, "example.com");
            r.discovery.duration_ms = -1;
        } else if (k == 1) {
            refuse(&r.endpoints[2]);
            expire(&r.endpoints[1]);
        } else if (k == 2) {
            for (size_t i = 0; i < 4; i++) {
                refuse(&r.endpoints[i]);
                r.endpoints[i].failure = MS_FAILURE_DNS_NO_SUCH_HOST;
                r.endpoints[i].failure_phase = MS_PHASE_RESOLVE;
                ms_strlist_free(&r.endpoints[i].addresses);
            }
        } else if (k == 3) {
            struct ms_endpoint_result *ep = &r.endpoints[3];
            ep->failure = MS_FAILURE_TLS_HANDSHAKE;
            ep->failure_phase = MS_PHASE_TLS;
            ep->completed_securely = false;
            ep->tls.established = false;
            ep->tls.has_certificate = false;
            ep->tls.verified = false;
            snprintf(ep->tls.handshake_error, sizeof ep->tls.handshake_error,
                     "wrong version number");
            ep->caps_after_tls_read = false;
            r.endpoints[0].alerts_ignored_before_tls = 1;
        }
        char *s = render_json(&r, &a);
        char path[128];
        snprintf(path, sizeof path, "%s/report%d.json", dir, k);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fputs(s, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        free(s);
        ms_assessment_free(&a);
        ms_result_free(&r);
    }
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '"
             "import json, sys, glob, jsonschema\n"
             "s = json.load(open(sys.argv[1]))\n"
             "cls = jsonschema.validators.validator_for(s)\n"
             "cls.check_schema(s)\n"
             "v = cls(s)\n"
             "files = sorted(glob.glob(sys.argv[2] + \"/*.json\"))\n"
             "assert len(files) == 10, files\n"
             "for p in files:\n"
             "    v.validate(json.load(open(p)))\n"
             "for bad in ({}, {\"status\": \"fine\"}):\n"
             "    assert not v.is_valid(bad)\n"
             "' %sreport/schema.json %s",
             root, dir);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", dir);
    assert_int_equal(rc, 0);
}

/* ---- text ------------------------------------------------------------------------ */

static void assert_width(const char *s, size_t width)
{
    size_t col = 0, line = 1;
    for (const char *p = s; *p; p++) {
        if (*p == '\n') {
            col = 0;
            line++;
        } else if (++col > width) {
            fail_msg("line %zu is wider than %zu columns", line, width);
        }
    }
}

static void test_text_layout(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    refuse(&r.endpoints[2]);
    expire(&r.endpoints[1]);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *s = render_text(&r, &a, false);

    /* verdicts lead */
    assert_true(strncmp(s, "OK        IMAP", 14) == 0 || strncmp(s, "CRITICAL  IMAP", 14) == 0);
    const char *pop = strstr(s, "\nOK        POP3 works securely on 995 (implicit TLS); port 110");
    assert_non_null(pop);
    const char *block = strstr(s, "\nimaps://mail.example.com:993  CRITICAL\n");
    const char *findings = strstr(s, "Findings, worst first:");
    assert_non_null(block);
    assert_non_null(findings);
    assert_true(pop < block && block < findings);
    assert_non_null(
        strstr(s, "\nOverall: CRITICAL for mail.example.com (2026-01-01 00:00:00 UTC, 123 ms)\n"));
    assert_non_null(strstr(s, "greeting 2.3 ms,")); /* rounded like the JSON */
    assert_non_null(
        strstr(s, "pop3://mail.example.com:110  OK (not usable; another POP3 endpoint works)\n"));
    assert_non_null(strstr(s, "none connected (resolved: 192.0.2.10, 2001:db8::10)"));
    /* endpoint block facts */
    assert_non_null(strstr(s, "192.0.2.10 (resolved: 192.0.2.10, 2001:db8::10)"));
    assert_non_null(strstr(s, "TLSv1.3, TLS_AES_256_GCM_SHA384"));
    assert_non_null(strstr(s, "mail.example.com, issued by mailscope Test CA"));
    assert_non_null(strstr(s, "expired 31 days ago"));
    assert_non_null(strstr(s, "NOT verified: certificate has expired"));
    assert_non_null(strstr(s, "LOGINDISABLED"));
    assert_non_null(strstr(s, "AUTH=XOAUTH2"));
    assert_non_null(strstr(s, "tcp.refused (connect)"));
    /* findings, worst first, each with its remedy */
    const char *crit = strstr(findings, "CRITICAL  tls.cert_expired");
    const char *info = strstr(findings, "INFO      tcp.refused");
    assert_non_null(crit);
    assert_non_null(info);
    assert_true(crit < info);
    assert_non_null(strstr(crit, "Fix: Renew the certificate"));
    assert_null(strchr(s, '\033'));
    assert_width(s, 80);
    free(s);

    s = render_text(&r, &a, true);
    assert_non_null(strstr(s, "\033[31mCRITICAL\033[0m"));
    assert_non_null(strstr(s, "\033[32mOK\033[0m"));
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_text_all_fine(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    r.endpoints[0].tls.cert.days_left = 3; /* one warning, yellow */
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *s = render_text(&r, &a, false);
    assert_true(strncmp(s, "WARNING   IMAP works securely", 29) == 0);
    assert_non_null(strstr(s, "\nOK        POP3 works securely on 995 (implicit TLS) and 110"));
    assert_non_null(strstr(s, "verified (trusted chain, name matches)"));
    assert_non_null(strstr(s, "tls.cert_expires_soon"));
    assert_non_null(strstr(s, "\n  server        Dovecot (from the greeting)\n"));
    assert_width(s, 80);
    free(s);
    s = render_text(&r, &a, true);
    assert_non_null(strstr(s, "\033[33mWARNING\033[0m"));
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_text_settings_block(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    bare_host(&r);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *s = render_text(&r, &a, false);
    const char *block = strstr(s, "\nUse these settings\n");
    assert_non_null(block);
    assert_true(block > strstr(s, "No findings."));
    assert_string_equal(block, "\nUse these settings\n"
                               "  Incoming mail (IMAP):  server mail.example.com  port 993  "
                               "security SSL/TLS\n"
                               "  Alternative (POP3):    server mail.example.com  port 995  "
                               "security SSL/TLS\n");
    free(s);
    ms_assessment_free(&a);

    /* 993 has an expired certificate: STARTTLS on 143 is the setting */
    expire(&r.endpoints[1]);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    s = render_text(&r, &a, false);
    assert_non_null(strstr(s, "\n  Incoming mail (IMAP):  server mail.example.com  port 143  "
                              "security STARTTLS\n"));
    assert_true(strstr(s, "Use these settings") > strstr(s, "Findings, worst first:"));
    free(s);
    ms_assessment_free(&a);

    /* only POP3 asked for (with an IMAP endpoint named too): POP3 first */
    r.want[MS_PROTOCOL_IMAP] = false;
    refuse(&r.endpoints[1]);
    r.endpoints[1].failure = MS_FAILURE_NONE; /* re-enable 993 below */
    ms_result_free(&r);
    bare_host(&r);
    r.want[MS_PROTOCOL_IMAP] = false;
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    s = render_text(&r, &a, false);
    assert_non_null(strstr(s, "Use these settings\n"
                              "  Incoming mail (POP3):  server mail.example.com  port 995  "
                              "security SSL/TLS\n"
                              "  Alternative (IMAP):    server mail.example.com  port 993  "));
    free(s);
    ms_assessment_free(&a);

    /* IMAP works, POP3 does not: say why on the alternative line */
    r.want[MS_PROTOCOL_IMAP] = true;
    refuse(&r.endpoints[2]);
    refuse(&r.endpoints[3]);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    s = render_text(&r, &a, false);
    assert_non_null(strstr(s, "  Alternative (POP3):    none secure: port 995 refused the "
                              "connection (1 other\n"
                              "                           endpoint failed too)\n"));
    assert_width(s, 80);
    free(s);
    ms_assessment_free(&a);

    /* nothing works: one line that says so and why */
    for (size_t i = 0; i < 2; i++)
        expire(&r.endpoints[i]);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    s = render_text(&r, &a, false);
    block = strstr(s, "\nUse these settings\n");
    assert_non_null(block);
    assert_string_equal(block, "\nUse these settings\n"
                               "  No secure setting was found: IMAP: port 993 has an expired "
                               "certificate (1\n"
                               "    other endpoint failed too); POP3: port 995 refused the "
                               "connection (1 other\n"
                               "    endpoint failed too).\n");
    assert_null(strstr(s, "Incoming mail"));
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);

    /* nothing checked at all */
    struct ms_result empty = {0};
    empty.want[MS_PROTOCOL_IMAP] = true;
    assert_int_equal(ms_assess(&empty, NULL, &a), 0);
    s = render_text(&empty, &a, false);
    assert_non_null(strstr(s, "No secure setting was found: IMAP: no endpoint was checked.\n"));
    free(s);
    ms_assessment_free(&a);
}

static void test_text_discovery(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    discovered(&r);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *s = render_text(&r, &a, false);
    const char *disc = strstr(s, "\nDiscovery for example.com (user alice, 41 ms)\n");
    const char *ep = strstr(s, "\nimaps://imap.example.com:993  WARNING\n");
    const char *findings = strstr(s, "Findings, worst first:");
    const char *settings = strstr(s, "\nUse these settings\n");
    assert_non_null(disc);
    assert_non_null(ep);
    assert_non_null(findings);
    assert_non_null(settings);
    assert_true(strstr(s, "Overall:") < disc && disc < ep && ep < findings && findings < settings);
    /* one line per question: status, time, answers */
    assert_non_null(strstr(disc, "\n  SRV    _imaps._tcp.example.com ok 2.5 ms: 0 1 993 "
                                 "imap.example.com,\n           10 5 993 gone.example.com\n"));
    assert_non_null(strstr(disc, "\n  SRV    _pop3s._tcp.example.com nxdomain (Domain name not "
                                 "found) 4.5 ms\n"));
    assert_non_null(strstr(disc, "\n  MX     example.com ok 6.5 ms: 10 mx.example.com\n"));
    assert_non_null(strstr(disc, "\n  A+AAAA imap.example.com ok 7.5 ms: 192.0.2.20, "
                                 "2001:db8::20\n"));
    /* dropped candidates, grouped by host and reason */
    assert_non_null(strstr(disc, "\n  dropped gone.example.com (srv, port 993): does not "
                                 "resolve\n"));
    assert_non_null(strstr(disc, "\n  dropped mx.example.com (mx, ports 995 143): does not "
                                 "resolve\n"));
    assert_null(strstr(strstr(disc, "mx.example.com (mx") + 1, "dropped mx.example.com"));
    /* submission SRV answers are probed like the others now: no "reported only" line */
    assert_null(strstr(disc, "reported only"));
    /* endpoint block: how it was found, both families */
    assert_non_null(strstr(ep, "\n  found by      SRV _imaps._tcp.example.com (priority 0, "
                               "weight 1)\n"));
    assert_non_null(strstr(ep, "\n  IPv4          192.0.2.10 connects (3.1 ms)\n"));
    assert_non_null(strstr(ep, "\n  IPv6          2001:db8::10 FAILS: tcp.timeout (no answer to "
                               "the connection\n                attempt)\n"));
    assert_non_null(strstr(s, "\n  found by      conventional name (a guess)\n"));
    assert_non_null(strstr(findings, "WARNING   tcp.ipv6_unreachable "
                                     "imaps://imap.example.com:993"));
    assert_non_null(strstr(findings, "WARNING   dns.srv_target_unresolvable"));
    assert_non_null(strstr(findings, "INFO      dns.srv_not_offered"));
    /* POP3 works on a guessed name although SRV says no: said, not hidden */
    assert_non_null(strstr(findings, "yet POP3 works on pop.example.com:995"));
    assert_string_equal(settings, "\nUse these settings\n"
                                  "  Incoming mail (IMAP):  server imap.example.com  port 993  "
                                  "security SSL/TLS\n"
                                  "  Alternative (POP3):    server pop.example.com   port 995  "
                                  "security SSL/TLS\n");
    assert_width(s, 80);
    free(s);
    ms_assessment_free(&a);

    /* a bare host has no discovery block */
    ms_result_free(&r);
    bare_host(&r);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    s = render_text(&r, &a, false);
    assert_null(strstr(s, "Discovery for"));
    assert_null(strstr(s, "found by"));
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);
}

static void test_text_summary(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    signed_in(&r);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *s = render_text(&r, &a, false);
    const char *overall = strstr(s, "\nOverall: CRITICAL");
    const char *imap_in =
        strstr(s, "\nSigned in as alice on imaps://mail.example.com:993: OK (PLAIN)\n");
    const char *pop3_in =
        strstr(s, "\nSign-in as alice on pop3s://mail.example.com:995: FAILED (PLAIN)\n"
                  "    auth.protocol_disabled: -ERR [AUTH] POP3 access is disabled for this "
                  "account\n");
    const char *table =
        strstr(s, "\nAccount summary                  IMAP                   POP3\n");
    const char *sched = strstr(s, "\nSchedule: Push: use IMAP with IDLE;");
    const char *first_ep = strstr(s, "\nimap://mail.example.com:143  ");
    assert_non_null(overall);
    assert_non_null(imap_in);
    assert_non_null(pop3_in);
    assert_non_null(table);
    assert_non_null(sched);
    assert_non_null(first_ep);
    /* verdicts, then the account: who signed in, the table, the schedule; then the evidence */
    assert_true(strncmp(s, "CRITICAL  IMAP", 14) == 0 || strncmp(s, "OK        IMAP", 14) == 0);
    assert_true(overall < table && table < sched && sched < imap_in && imap_in < pop3_in &&
                pop3_in < first_ep);
    /* the schedule comes before any endpoint is named */
    assert_true(sched < strstr(s, "imaps://"));
    assert_non_null(
        strstr(table, "\n  Enabled for this account?      yes                    no\n"));
    assert_non_null(
        strstr(table, "\n  Several server folders?        4 folders              no\n"));
    assert_non_null(
        strstr(table, "\n  Mailbox quota                  2.0 MB of 10 MB (20%)  n/a\n"));
    assert_non_null(strstr(
        table, "\n  Sign-in methods                PLAIN, LOGIN,          PLAIN, LOGIN, USER\n"
               "                                 OAUTHBEARER, XOAUTH2\n"));
    /* the verdict says what went wrong with the account */
    assert_non_null(
        strstr(a.verdicts[1].summary,
               "Signing in as alice on 995 failed: POP3 is disabled for this account."));
    assert_non_null(strstr(s, "Signing in as alice on 995 failed: POP3 is\n"));
    /* endpoint blocks: sign-in, account facts, the injection check */
    const char *im = strstr(s, "\nimaps://mail.example.com:993  ");
    assert_non_null(im);
    assert_non_null(
        strstr(im, "\n  caps sign-in  IMAP4rev1 IDLE NAMESPACE QUOTA SPECIAL-USE LIST-EXTENDED\n"));
    assert_non_null(strstr(im, "\n  sign-in       OK as alice (PLAIN)\n"));
    assert_non_null(
        strstr(im, "\n  folders       4 (3 selectable); \\Sent Sent, \\Archive \\All Archive\n"));
    assert_non_null(strstr(im, "\n  namespaces    personal \"\"; shared \"Public/\"\n"));
    assert_non_null(strstr(im, "\n  inbox         5 messages (2 unseen)\n"));
    assert_non_null(
        strstr(im, "\n  quota         2048 KB of 10240 KB used (20%) (root \"User quota\")\n"));
    assert_non_null(strstr(
        s, "\n  sign-in       not tried: another endpoint of this protocol was chosen to sign\n"));
    assert_non_null(strstr(
        s, "\n  sign-in       FAILED as alice (PLAIN), auth.protocol_disabled: -ERR [AUTH]\n"));
    assert_non_null(strstr(
        s, "\n  injection     VULNERABLE: a command sent with STLS was answered inside TLS\n"));
    assert_non_null(strstr(
        s, "\n  injection     safe: the server ended the connection when a command followed\n"));
    assert_non_null(strstr(s, "CRITICAL  starttls.command_injection pop3://mail.example.com:110"));
    assert_null(strchr(s, '\033'));
    assert_width(s, 80);
    assert_null(strstr(s, " \n")); /* no trailing blanks */
    free(s);
    /* colour only when asked (NO_COLOR is the caller's decision) */
    s = render_text(&r, &a, true);
    assert_non_null(
        strstr(s, "Signed in as alice on imaps://mail.example.com:993: \033[32mOK\033[0m (PLAIN)"));
    assert_non_null(strstr(s, ":995: \033[31mFAILED\033[0m (PLAIN)"));
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);

    /* POP3 account facts; a user name that does not fit in one line still wraps */
    pop3_account(&r);
    snprintf(r.user, sizeof r.user,
             "a.very.long.user.name.for.testing.the.wrapping@mail.example.com");
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    s = render_text(&r, &a, false);
    assert_non_null(strstr(s, "\n  mailbox       0 messages, 0 octets\n"));
    assert_non_null(strstr(s, "\n  policy        EXPIRE NEVER, LOGIN-DELAY 600 s\n"));
    assert_non_null(strstr(s, "\n  Shortest poll interval         none                   600 s\n"));
    assert_width(s, 80);
    free(s);
    ms_assessment_free(&a);
    ms_result_free(&r);

    /* no credentials: one line says so; only the protocol asked for gets a column */
    bare_host(&r);
    r.want[MS_PROTOCOL_POP3] = false;
    r.endpoint_count = 2;
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    s = render_text(&r, &a, false);
    assert_non_null(strstr(
        s, "\nNot signed in (no credentials given): answers that need sign-in are unknown.\n"));
    assert_non_null(strstr(s, "\nAccount summary                  IMAP\n"));
    assert_non_null(strstr(s, "\n  Enabled for this account?      unknown\n"));
    assert_null(strstr(s, "POP3\n"));
    assert_null(strstr(s, "sign-in       "));
    assert_width(s, 80);
    free(s);
    ms_assessment_free(&a);
    r.endpoint_count = 4;
    ms_result_free(&r);

    /* nothing answered: no table, but the schedule says why */
    struct ms_result empty = {0};
    empty.want[MS_PROTOCOL_IMAP] = true;
    assert_int_equal(ms_assess(&empty, NULL, &a), 0);
    s = render_text(&empty, &a, false);
    assert_null(strstr(s, "Account summary"));
    assert_non_null(strstr(
        s, "\nSchedule: No schedule: no protocol can be used securely (see the findings).\n"));
    free(s);
    ms_assessment_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_all_fine),
        cmocka_unit_test(test_json_failures_and_nulls),
        cmocka_unit_test(test_json_null_endpoint_and_empty),
        cmocka_unit_test(test_json_discovery),
        cmocka_unit_test(test_json_not_offered_verdict),
        cmocka_unit_test(test_json_sign_in_and_account),
        cmocka_unit_test(test_json_write_error),
        cmocka_unit_test(test_json_matches_schema),
        cmocka_unit_test(test_text_layout),
        cmocka_unit_test(test_text_all_fine),
        cmocka_unit_test(test_text_settings_block),
        cmocka_unit_test(test_text_discovery),
        cmocka_unit_test(test_text_summary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
