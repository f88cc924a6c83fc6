/* Judges of issue 15's facts: the TLS audit (--tls-audit) and the address pool. Decisions
 * only; the words are the catalogue's. */
#include <stdio.h>
#include <string.h>

#include "report/assess_internal.h"

static const char *const version_names[MS_AV_COUNT] = {"SSLv3", "TLS 1.0", "TLS 1.1", "TLS 1.2",
                                                       "TLS 1.3"};
static const char *const weak_names[MS_WC_COUNT] = {"NULL (no encryption)",
                                                    "anonymous (no authentication)",
                                                    "EXPORT",
                                                    "DES/3DES",
                                                    "RC4",
                                                    "static RSA key exchange (no forward secrecy)",
                                                    "CBC under TLS 1.0"};

const char *ms_audit_outcome_words(enum ms_audit_outcome o)
{
    switch (o) {
    case MS_AUDIT_ACCEPTED: return "accepted";
    case MS_AUDIT_REFUSED: return "refused";
    case MS_AUDIT_RESET: return "refused (connection reset)";
    case MS_AUDIT_TIMEOUT: return "no answer";
    case MS_AUDIT_UNTESTABLE: return "untestable with this OpenSSL";
    case MS_AUDIT_ERROR: return "not reached (connection failed)";
    default: return "not run";
    }
}

static bool accepted(const struct ms_audit_probe *p)
{
    return p->outcome == MS_AUDIT_ACCEPTED;
}

/* tls.protocol_outdated: old versions accepted beside the newer one negotiated. */
static int judge_versions(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_tls_audit *a = ep->audit;
    const char *v = ep->tls.version;
    bool negotiated_old = strcmp(v, "TLSv1") == 0 || strcmp(v, "TLSv1.1") == 0 ||
                          strcmp(v, "SSLv3") == 0 || !ep->tls.established;
    if (negotiated_old) /* ms_assess_judge_tls_version says so already (or no TLS) */
        return 0;
    char versions[64] = "";
    for (int k = MS_AV_SSL3; k <= MS_AV_TLS11; k++)
        if (accepted(&a->versions[k]))
            ms_assess_app(versions, sizeof versions, "%s%s", versions[0] ? ", " : "",
                          version_names[k]);
    if (!versions[0])
        return 0;
    struct ms_assess_vars vs;
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "versions", versions);
    ms_assess_var(&vs, "version", v);
    return ms_assess_emit(c, MS_F_TLS_PROTOCOL_OUTDATED,
                          accepted(&a->versions[MS_AV_SSL3]) ? MS_SEVERITY_CRITICAL
                                                             : MS_SEVERITY_WARNING,
                          i, MS_MSG(MS_F_TLS_PROTOCOL_OUTDATED, MS_T_OUTDATED_ACCEPTED),
                          MS_REM(MS_F_TLS_PROTOCOL_OUTDATED, MS_T_DEFAULT), &vs);
}

static int judge_ciphers(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_tls_audit *a = ep->audit;
    char classes[600] = "";
    bool critical = false;
    for (int k = 0; k < MS_WC_COUNT; k++) {
        const struct ms_audit_probe *p = &a->weak[k];
        if (!accepted(p))
            continue;
        critical = critical || k == MS_WC_NULL || k == MS_WC_ANON || k == MS_WC_EXPORT;
        ms_assess_app(classes, sizeof classes, "%s%s (%s)", classes[0] ? ", " : "", weak_names[k],
                      p->cipher[0] ? p->cipher : "suite not named");
    }
    int rc = 0;
    if (classes[0]) {
        struct ms_assess_vars vs;
        ms_assess_endpoint_vars(c, ep, &vs);
        ms_assess_var(&vs, "classes", classes);
        rc = ms_assess_emit(c, MS_F_TLS_WEAK_CIPHER,
                            critical ? MS_SEVERITY_CRITICAL : MS_SEVERITY_WARNING, i,
                            MS_MSG(MS_F_TLS_WEAK_CIPHER, MS_T_DEFAULT),
                            MS_REM(MS_F_TLS_WEAK_CIPHER, MS_T_DEFAULT), &vs);
    }
    if (rc || !accepted(&a->dhe) || a->dhe.kx_bits <= 0 || a->dhe.kx_bits >= 2048)
        return rc;
    struct ms_assess_vars vs;
    char bits[16];
    snprintf(bits, sizeof bits, "%d", a->dhe.kx_bits);
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "bits", bits);
    ms_assess_var(&vs, "cipher", a->dhe.cipher);
    return ms_assess_emit(c, MS_F_TLS_DH_WEAK, MS_SEV_DEFAULT, i,
                          MS_MSG(MS_F_TLS_DH_WEAK, MS_T_DEFAULT),
                          MS_REM(MS_F_TLS_DH_WEAK, MS_T_DEFAULT), &vs);
}

static int judge_chain(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_chain_facts *ch = &ep->audit->chain;
    if (!ch->read)
        return 0;
    struct ms_assess_vars vs;
    char name[256], count[24];
    int rc;
    const char *url = ch->missing_issuer_url; /* named by the certificate it issued */
    if (ch->issuer_missing && (ch->completed_by_store || url[0])) {
        ms_assess_endpoint_vars(c, ep, &vs);
        ms_assess_cert_cn(ch->missing_issuer, name, sizeof name, "(no name)");
        ms_assess_var(&vs, "issuer", name);
        ms_assess_var(&vs, "url", url);
        int v = ch->completed_by_store ? MS_T_DEFAULT : MS_T_CHAIN_AIA;
        if ((rc = ms_assess_emit(c, MS_F_TLS_CHAIN_INCOMPLETE, MS_SEV_DEFAULT, i,
                                 MS_MSG(MS_F_TLS_CHAIN_INCOMPLETE, v),
                                 MS_REM(MS_F_TLS_CHAIN_INCOMPLETE, MS_T_DEFAULT), &vs)))
            return rc;
    }
    if (ch->wrong_order || ch->unused_certs) {
        ms_assess_endpoint_vars(c, ep, &vs);
        snprintf(count, sizeof count, "%zu", ch->sent);
        ms_assess_var(&vs, "count", count);
        if ((rc = ms_assess_emit(c, MS_F_TLS_CHAIN_WRONG_ORDER, MS_SEV_DEFAULT, i,
                                 MS_MSG(MS_F_TLS_CHAIN_WRONG_ORDER, MS_T_DEFAULT),
                                 MS_REM(MS_F_TLS_CHAIN_WRONG_ORDER, MS_T_DEFAULT), &vs)))
            return rc;
    }
    for (size_t k = 0; k < ch->count; k++) {
        const struct ms_chain_cert *cert = &ch->certs[k];
        if (!cert->sha1 || cert->self_signed)
            continue;
        ms_assess_endpoint_vars(c, ep, &vs);
        ms_assess_cert_cn(cert->subject, name, sizeof name, "(no name)");
        ms_assess_var(&vs, "subject", name);
        ms_assess_var(&vs, "algorithm", cert->signature_algorithm);
        return ms_assess_emit(c, MS_F_TLS_CHAIN_SHA1, MS_SEV_DEFAULT, i,
                              MS_MSG(MS_F_TLS_CHAIN_SHA1, MS_T_DEFAULT),
                              MS_REM(MS_F_TLS_CHAIN_SHA1, MS_T_DEFAULT), &vs);
    }
    return 0;
}

static int judge_sni_ocsp(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_tls_audit *a = ep->audit;
    struct ms_assess_vars vs;
    char subject[256];
    int rc;
    if (a->sni.tested && a->sni.outcome == MS_AUDIT_ACCEPTED && !a->sni.same_certificate &&
        ep->tls.has_certificate) {
        ms_assess_endpoint_vars(c, ep, &vs);
        ms_assess_cert_cn(a->sni.subject, subject, sizeof subject, "(no subject)");
        ms_assess_var(&vs, "subject", subject);
        bool match = a->sni.hostname_match;
        if ((rc = ms_assess_emit(
                 c, MS_F_TLS_SNI_REQUIRED, match ? MS_SEVERITY_INFO : MS_SEVERITY_WARNING, i,
                 MS_MSG(MS_F_TLS_SNI_REQUIRED, match ? MS_T_DEFAULT : MS_T_SNI_NO_MATCH),
                 MS_REM(MS_F_TLS_SNI_REQUIRED, MS_T_DEFAULT), &vs)))
            return rc;
    }
    if (!a->ocsp.tested || a->ocsp.stapled || !accepted(&a->best))
        return 0;
    enum ms_finding_id id =
        a->ocsp.must_staple ? MS_F_TLS_MUST_STAPLE_VIOLATED : MS_F_TLS_OCSP_NOT_STAPLED;
    ms_assess_endpoint_vars(c, ep, &vs);
    return ms_assess_emit(c, id, MS_SEV_DEFAULT, i, MS_MSG(id, MS_T_DEFAULT),
                          MS_REM(id, MS_T_DEFAULT), &vs);
}

static int judge_dane(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_dane_facts *d = &ep->audit->dane;
    struct ms_assess_vars vs;
    if (d->queried && strcmp(d->status, "servfail") == 0) {
        ms_assess_endpoint_vars(c, ep, &vs);
        ms_assess_var(&vs, "name", d->name);
        return ms_assess_emit(c, MS_F_TLS_DANE_LOOKUP_FAILED, MS_SEV_DEFAULT, i,
                              MS_MSG(MS_F_TLS_DANE_LOOKUP_FAILED, MS_T_DEFAULT),
                              MS_REM(MS_F_TLS_DANE_LOOKUP_FAILED, MS_T_DEFAULT), &vs);
    }
    if (!d->queried || d->count == 0)
        return 0;
    char count[24];
    snprintf(count, sizeof count, "%zu", d->count);
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "name", d->name);
    ms_assess_var(&vs, "count", count);
    ms_assess_var(&vs, "plural", d->count == 1 ? "" : "yes");
    int rc;
    if (d->checked && !d->matched &&
        (rc = ms_assess_emit(
             c, MS_F_TLS_DANE_MISMATCH, d->validated ? MS_SEVERITY_CRITICAL : MS_SEVERITY_WARNING,
             i, MS_MSG(MS_F_TLS_DANE_MISMATCH, d->validated ? MS_T_DEFAULT : MS_T_DANE_UNVALIDATED),
             MS_REM(MS_F_TLS_DANE_MISMATCH, MS_T_DEFAULT), &vs)))
        return rc;
    if (d->validated)
        return 0;
    return ms_assess_emit(c, MS_F_TLS_DANE_UNVALIDATED, MS_SEV_DEFAULT, i,
                          MS_MSG(MS_F_TLS_DANE_UNVALIDATED, MS_T_DEFAULT),
                          MS_REM(MS_F_TLS_DANE_UNVALIDATED, MS_T_DEFAULT), &vs);
}

int ms_assess_judge_audit(struct ms_assess_ctx *c, long i)
{
    if (!c->r->endpoints[i].audit)
        return 0;
    int rc;
    if ((rc = judge_versions(c, i)) || (rc = judge_ciphers(c, i)) || (rc = judge_chain(c, i)) ||
        (rc = judge_sni_ocsp(c, i)))
        return rc;
    return judge_dane(c, i);
}

/* ---- the pool ---- */

/* A member whose family already failed its own check is that finding's, not this one's. */
static bool family_reported(const struct ms_endpoint_result *ep, const struct ms_pool_member *m)
{
    const struct ms_family_check *f = m->family == 6 ? &ep->ipv6 : &ep->ipv4;
    const struct ms_family_check *o = m->family == 6 ? &ep->ipv4 : &ep->ipv6;
    return f->tried && o->tried && f->failure != MS_FAILURE_NONE && o->failure == MS_FAILURE_NONE;
}

static int judge_pool_down(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_pool_facts *p = &ep->pool;
    char members[600] = "", addresses[400] = "", failed[24], total[24];
    size_t down = 0, up = 0;
    for (size_t k = 0; k < p->member_count; k++) {
        const struct ms_pool_member *m = &p->members[k];
        if (m->failure == MS_FAILURE_NONE) {
            up++;
            continue;
        }
        if (family_reported(ep, m))
            continue;
        down++;
        ms_assess_app(members, sizeof members, "%s%s (%s)", members[0] ? "; " : "", m->address,
                      m->error[0] ? m->error : ms_failure_name(m->failure));
        ms_assess_app(addresses, sizeof addresses, "%s%s", addresses[0] ? ", " : "", m->address);
    }
    if (down == 0 || up == 0)
        return 0; /* all down: the endpoint's own failure says it */
    struct ms_assess_vars vs;
    ms_assess_endpoint_vars(c, ep, &vs);
    snprintf(failed, sizeof failed, "%zu", down);
    snprintf(total, sizeof total, "%zu", p->member_count);
    ms_assess_var(&vs, "failed", failed);
    ms_assess_var(&vs, "total", total);
    ms_assess_var(&vs, "members", members);
    ms_assess_var(&vs, "addresses", addresses);
    ms_assess_var(&vs, "plural", down == 1 ? "" : "yes");
    return ms_assess_emit(c, MS_F_TCP_POOL_MEMBER_DOWN, MS_SEV_DEFAULT, i,
                          MS_MSG(MS_F_TCP_POOL_MEMBER_DOWN, MS_T_DEFAULT),
                          MS_REM(MS_F_TCP_POOL_MEMBER_DOWN, MS_T_DEFAULT), &vs);
}

/* Members that answered, compared with the first that did. */
static int judge_pool_consistency(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_pool_facts *p = &ep->pool;
    const struct ms_pool_member *ref = NULL;
    for (size_t k = 0; k < p->member_count && !ref; k++)
        if (p->members[k].failure == MS_FAILURE_NONE && p->members[k].tls_version[0])
            ref = &p->members[k];
    if (!ref)
        return 0;
    char diff[700] = "", addresses[400] = "", bad[200] = "";
    for (size_t k = 0; k < p->member_count; k++) {
        const struct ms_pool_member *m = &p->members[k];
        ms_assess_app(addresses, sizeof addresses, "%s%s", addresses[0] ? ", " : "", m->address);
        if (m == ref || m->failure != MS_FAILURE_NONE || !m->tls_version[0])
            continue;
        if (strcmp(m->cert_fingerprint, ref->cert_fingerprint) != 0) {
            ms_assess_app(diff, sizeof diff, "%s%s has another certificate than %s",
                          diff[0] ? "; " : "", m->address, ref->address);
            if (m->cert_days_left < 0 || ref->cert_days_left < 0) {
                const struct ms_pool_member *x = m->cert_days_left < 0 ? m : ref;
                ms_assess_app(diff, sizeof diff, " (%s's expired on %.10s)", x->address,
                              x->cert_not_after);
                ms_assess_app(bad, sizeof bad, "%s%s", bad[0] ? ", " : "", x->address);
            } else if (m->tls_verified != ref->tls_verified) {
                const struct ms_pool_member *x = m->tls_verified ? ref : m;
                ms_assess_app(diff, sizeof diff, " (%s's does not verify)", x->address);
                ms_assess_app(bad, sizeof bad, "%s%s", bad[0] ? ", " : "", x->address);
            }
        }
        if (strcmp(m->tls_version, ref->tls_version) != 0)
            ms_assess_app(diff, sizeof diff, "%s%s negotiates %s, %s %s", diff[0] ? "; " : "",
                          m->address, m->tls_version, ref->address, ref->tls_version);
        if (strcmp(m->caps_digest, ref->caps_digest) != 0)
            ms_assess_app(diff, sizeof diff, "%s%s lists other capabilities than %s",
                          diff[0] ? "; " : "", m->address, ref->address);
    }
    if (!diff[0])
        return 0;
    struct ms_assess_vars vs;
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "differences", diff);
    ms_assess_var(&vs, "addresses", addresses);
    ms_assess_var(&vs, "bad", bad);
    return ms_assess_emit(
        c, MS_F_TLS_POOL_INCONSISTENT, MS_SEV_DEFAULT, i,
        MS_MSG(MS_F_TLS_POOL_INCONSISTENT, bad[0] ? MS_T_POOL_EXPIRED : MS_T_DEFAULT),
        MS_REM(MS_F_TLS_POOL_INCONSISTENT, MS_T_DEFAULT), &vs);
}

int ms_assess_judge_pool(struct ms_assess_ctx *c, long i)
{
    if (!c->r->endpoints[i].pool.members)
        return 0;
    int rc = judge_pool_down(c, i);
    return rc ? rc : judge_pool_consistency(c, i);
}
