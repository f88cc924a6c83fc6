#include "report/json_audit.h"

#include <string.h>

#include "report/assess.h"
#include "report/clients.h"

static json_t *nstr(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *ms_or_null(double v)
{
    return v < 0 ? json_null() : json_real((double)(long long)(v * 10.0 + 0.5) / 10.0);
}

const char *ms_audit_outcome_name(enum ms_audit_outcome o)
{
    static const char *const names[] = {
        [MS_AUDIT_NOT_RUN] = "not_run",   [MS_AUDIT_UNTESTABLE] = "untestable",
        [MS_AUDIT_ACCEPTED] = "accepted", [MS_AUDIT_REFUSED] = "refused",
        [MS_AUDIT_RESET] = "reset",       [MS_AUDIT_TIMEOUT] = "timeout",
        [MS_AUDIT_ERROR] = "error",
    };
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "error";
}

static json_t *probe(const struct ms_audit_probe *p)
{
    bool ok = p->outcome == MS_AUDIT_ACCEPTED;
    return json_pack(
        "{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "outcome", ms_audit_outcome_name(p->outcome),
        "version", ok ? nstr(p->version) : json_null(), "cipher",
        ok ? nstr(p->cipher) : json_null(), "group", ok ? nstr(p->group) : json_null(), "key_bits",
        ok && p->kx_bits > 0 ? json_integer(p->kx_bits) : json_null(), "alert", nstr(p->alert),
        "note", ok ? json_null() : nstr(p->note), "ms", ms_or_null(p->ms));
}

static const char *const version_keys[MS_AV_COUNT] = {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2",
                                                      "TLSv1.3"};
static const char *const weak_keys[MS_WC_COUNT] = {"null", "anon",       "export",    "des",
                                                   "rc4",  "static_rsa", "cbc_tls1.0"};
static const char *const group_keys[MS_AG_COUNT] = {"X25519", "P-256", "P-384", "P-521", "X448"};

/* {key: probe} for n probes; NULL when out of memory. */
static json_t *probes(const struct ms_audit_probe *p, const char *const *keys, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        if (json_object_set_new(o, keys[i], probe(&p[i]))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

static json_t *chain_cert(const struct ms_chain_cert *c)
{
    return json_pack("{s:s,s:s,s:b,s:b,s:b,s:o,s:s,s:b,s:o,s:b,s:s}", "subject", c->subject,
                     "issuer", c->issuer, "self_signed", c->self_signed, "ca", c->is_ca, "expired",
                     c->expired, "not_after", nstr(c->not_after), "signature_algorithm",
                     c->signature_algorithm, "sha1", c->sha1, "ca_issuers", nstr(c->ca_issuers),
                     "must_staple", c->must_staple, "sha256_fingerprint", c->sha256_fingerprint);
}

static json_t *chain(const struct ms_chain_facts *ch)
{
    if (!ch->read)
        return json_null();
    json_t *certs = json_array();
    for (size_t i = 0; certs && i < ch->count; i++)
        if (json_array_append_new(certs, chain_cert(&ch->certs[i]))) {
            json_decref(certs);
            return NULL;
        }
    return json_pack("{s:o,s:i,s:b,s:i,s:b,s:b,s:o,s:o,s:b,s:b,s:b}", "certificates", certs, "sent",
                     (json_int_t)ch->sent, "verified", ch->verified, "verified_length",
                     (json_int_t)ch->verified_length, "ends_at_anchor", ch->ends_at_anchor,
                     "issuer_missing", ch->issuer_missing, "missing_issuer",
                     ch->issuer_missing ? nstr(ch->missing_issuer) : json_null(),
                     "missing_issuer_url", nstr(ch->missing_issuer_url), "completed_by_store",
                     ch->completed_by_store, "wrong_order", ch->wrong_order, "unused_certificates",
                     ch->unused_certs);
}

static json_t *sni(const struct ms_sni_facts *s)
{
    if (!s->tested)
        return json_null();
    bool ok = s->outcome == MS_AUDIT_ACCEPTED;
    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "outcome", ms_audit_outcome_name(s->outcome),
                     "same_certificate", ok ? json_boolean(s->same_certificate) : json_null(),
                     "subject", ok ? nstr(s->subject) : json_null(), "sha256_fingerprint",
                     ok ? nstr(s->sha256_fingerprint) : json_null(), "hostname_match",
                     ok ? json_boolean(s->hostname_match) : json_null(), "note",
                     ok ? json_null() : nstr(s->note));
}

static json_t *dane(const struct ms_dane_facts *d)
{
    if (!d->queried)
        return json_null();
    json_t *recs = json_array();
    for (size_t i = 0; recs && i < d->count && i < MS_MAX_TLSA; i++) {
        const struct ms_tlsa_record *r = &d->records[i];
        if (json_array_append_new(
                recs, json_pack("{s:i,s:i,s:i,s:s,s:o}", "usage", r->usage, "selector", r->selector,
                                "matching_type", r->matching_type, "data", r->data, "matched",
                                d->checked ? json_boolean(r->matched) : json_null()))) {
            json_decref(recs);
            return NULL;
        }
    }
    return json_pack("{s:s,s:s,s:o,s:b,s:o,s:o}", "name", d->name, "status",
                     d->status[0] ? d->status : "timeout", "message", nstr(d->message), "validated",
                     d->validated, "records", recs, "matched",
                     d->checked && d->count ? json_boolean(d->matched) : json_null());
}

json_t *ms_json_tls_audit(const struct ms_endpoint_result *ep)
{
    const struct ms_tls_audit *a = ep->audit;
    if (!a)
        return json_null();
    const char *pref = NULL;
    if (a->group_forward[0] && a->group_reverse[0])
        pref = strcmp(a->group_forward, a->group_reverse) == 0 ? "server" : "client";
    const struct ms_ocsp_facts *o = &a->ocsp;
    return json_pack("{s:o,s:o,s:o,s:{s:o,s:o,s:o},s:o,s:o,s:o,s:o,s:o,s:o,s:i}", "versions",
                     probes(a->versions, version_keys, MS_AV_COUNT), "weak_ciphers",
                     probes(a->weak, weak_keys, MS_WC_COUNT), "groups",
                     probes(a->groups, group_keys, MS_AG_COUNT), "group_preference", "order",
                     pref ? json_string(pref) : json_null(), "offered_forward",
                     nstr(a->group_forward), "offered_reverse", nstr(a->group_reverse), "dhe",
                     probe(&a->dhe), "best", probe(&a->best), "chain", chain(&a->chain), "sni",
                     sni(&a->sni), "ocsp",
                     o->tested ? json_pack("{s:b,s:o,s:b}", "stapled", o->stapled, "status",
                                           nstr(o->status), "must_staple", o->must_staple)
                               : json_null(),
                     "dane", dane(&a->dane), "handshakes", (json_int_t)a->handshakes);
}

json_t *ms_json_pool(const struct ms_endpoint_result *ep)
{
    const struct ms_pool_facts *p = &ep->pool;
    if (!p->members)
        return json_null();
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < p->member_count; i++) {
        const struct ms_pool_member *m = &p->members[i];
        const char *code = ms_assess_failure_code(m->failure);
        json_t *t = json_pack(
            "{s:o,s:o,s:o,s:o,s:o}", "resolve", ms_or_null(-1), "connect",
            ms_or_null(m->timings_ms.connect), "tls", ms_or_null(m->timings_ms.tls), "greeting",
            ms_or_null(m->timings_ms.greeting), "total", ms_or_null(m->timings_ms.total));
        json_t *o = json_pack(
            "{s:s,s:i,s:b,s:s,s:o,s:o,s:o,s:o,s:b,s:o,s:o,s:o}", "address", m->address, "family",
            m->family, "main", m->main, "status", code ? "failed" : "ok", "error",
            code ? json_pack("{s:s,s:s,s:s}", "code", code, "phase",
                             ms_phase_name(m->failure_phase), "message", m->error)
                 : json_null(),
            "timings_ms", t, "tls_version", nstr(m->tls_version), "cert_fingerprint",
            nstr(m->cert_fingerprint), "tls_verified", m->tls_verified, "cert_not_after",
            nstr(m->cert_not_after), "cert_days_left",
            m->cert_fingerprint[0] ? json_integer(m->cert_days_left) : json_null(),
            "capability_digest", nstr(m->caps_digest));
        if (json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return json_pack("{s:i,s:b,s:i,s:o}", "address_count", (json_int_t)p->address_count, "capped",
                     p->capped, "cap", MS_MAX_ADDRESSES, "addresses", arr);
}

/* The mail-program matrix: null unless an IMAP or POP3 endpoint was audited. */
json_t *ms_json_clients(const struct ms_result *r)
{
    if (!ms_clients_apply(r))
        return json_null();
    json_t *arr = json_array();
    for (size_t k = 0; arr && k < ms_client_count; k++) {
        if (ms_client_filter && !ms_client_matches(k, ms_client_filter))
            continue;
        const struct ms_client *c = &ms_clients[k];
        struct ms_client_verdict v;
        ms_client_judge(r, k, &v);
        const struct ms_endpoint_result *ep = v.endpoint >= 0 ? &r->endpoints[v.endpoint] : NULL;
        json_t *use =
            v.can == MS_FACT_YES && ep
                ? json_pack("{s:s,s:s,s:i,s:s,s:s}", "endpoint", ep->id, "host", ep->host, "port",
                            (int)ep->port, "protocol", ms_protocol_name(ep->protocol), "security",
                            ms_security_name(ep->security))
                : json_null();
        json_t *o = json_pack(
            "{s:s,s:s,s:s,s:o,s:o,s:{s:s,s:s,s:s,s:s},s:s,s:{s:s,s:s},s:{s:s,s:s},s:s,s:s}", "name",
            c->name, "versions", c->versions, "can_connect", ms_fact_name(v.can), "use", use,
            "reason", nstr(v.reason), "tls", "1.0", ms_fact_name(c->tls[0]), "1.1",
            ms_fact_name(c->tls[1]), "1.2", ms_fact_name(c->tls[2]), "1.3", ms_fact_name(c->tls[3]),
            "sni", ms_fact_name(c->sni), "implicit_tls", "imap",
            ms_fact_name(c->implicit[MS_PROTOCOL_IMAP]), "pop3",
            ms_fact_name(c->implicit[MS_PROTOCOL_POP3]), "starttls", "imap",
            ms_fact_name(c->starttls[MS_PROTOCOL_IMAP]), "pop3",
            ms_fact_name(c->starttls[MS_PROTOCOL_POP3]), "oauth2", ms_fact_name(c->oauth2),
            "source", c->source);
        if (json_array_append_new(arr, o)) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}
