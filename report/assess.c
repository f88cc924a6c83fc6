/* The judge: facts (struct ms_result) in, findings and statuses out. Pure: no sockets,
 * no clock (the probe's started_at is "now"), no output. Every message carries the
 * evidence it was decided on; every remedy says what a helpdesk or an admin can do.
 *
 * This file runs the judges and turns their findings into statuses and verdicts; the
 * judges live in assess_endpoint.c (one endpoint's session), assess_auth.c (sign-in),
 * assess_discovery.c (the domain's DNS), the best settings in assess_recommend.c, the
 * account-feature summary in assess_summary.c, shared helpers in assess_util.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/assess_internal.h"

const char *ms_severity_name(enum ms_severity s)
{
    switch (s) {
    case MS_SEVERITY_INFO: return "info";
    case MS_SEVERITY_WARNING: return "warning";
    default: return "critical";
    }
}

const char *ms_status_name(enum ms_status s)
{
    switch (s) {
    case MS_STATUS_OK: return "ok";
    case MS_STATUS_WARNING: return "warning";
    case MS_STATUS_CRITICAL: return "critical";
    default: return "unknown";
    }
}

bool ms_assess_endpoint_secure(const struct ms_endpoint_result *ep)
{
    /* verified already covers chain and host name; the other checks only guard against a
     * probe that filled the facts inconsistently, so "secure" never contradicts a finding. */
    return ep->completed_securely && ep->tls.established && ep->tls.verified &&
           ep->tls.verify_error_count == 0 &&
           (!ep->tls.has_certificate || ep->tls.cert.hostname_match);
}

/* ---- ordering and statuses ----------------------------------------------------------- */

/* The endpoint works for mail programs: secure, and no critical finding about the server
 * (findings about the account, such as a rejected password, do not count). */
static bool endpoint_works(const struct ms_result *r, const struct ms_finding *f, size_t n,
                           size_t i)
{
    if (!ms_assess_endpoint_secure(&r->endpoints[i]))
        return false;
    for (size_t k = 0; k < n; k++)
        if (f[k].endpoint_index == (long)i && f[k].severity == MS_SEVERITY_CRITICAL &&
            !ms_assess_is_account(&f[k]))
            return false;
    return true;
}

/* Worst first; then endpoint order (findings about no endpoint first); then code. */
static int finding_cmp(const struct ms_finding *a, const struct ms_finding *b)
{
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if (a->endpoint_index != b->endpoint_index)
        return a->endpoint_index < b->endpoint_index ? -1 : 1;
    return strcmp(a->code, b->code);
}

/* Insertion sort: stable, and the lists are short. */
static void sort_findings(struct ms_finding *f, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct ms_finding tmp = f[i];
        size_t j = i;
        while (j > 0 && finding_cmp(&f[j - 1], &tmp) > 0) {
            f[j] = f[j - 1];
            j--;
        }
        f[j] = tmp;
    }
}

static bool is_internal(const struct ms_finding *f)
{
    return (ms_catalogue[f->id].flags & MS_FF_INTERNAL) != 0;
}

/* Status accumulator: the worst severity seen, where an internal error (we could not
 * judge) makes it unknown unless something is critical anyway. */
struct status_acc {
    enum ms_status worst;
    bool internal;
};

static void acc_add(struct status_acc *s, const struct ms_finding *f)
{
    if (is_internal(f)) {
        s->internal = true;
        return;
    }
    enum ms_status st = f->severity == MS_SEVERITY_CRITICAL  ? MS_STATUS_CRITICAL
                        : f->severity == MS_SEVERITY_WARNING ? MS_STATUS_WARNING
                                                             : MS_STATUS_OK;
    if (st > s->worst)
        s->worst = st;
}

static enum ms_status acc_status(const struct status_acc *s)
{
    if (s->internal && s->worst != MS_STATUS_CRITICAL)
        return MS_STATUS_UNKNOWN;
    return s->worst;
}

static void make_verdict(const struct ms_assess_ctx *c, struct ms_protocol_verdict *v,
                         const struct ms_assessment *a)
{
    const struct ms_result *r = c->r;
    char works[200] = "", broken[200] = "";
    size_t n_works = 0, n_total_works = 0, n_broken = 0, warnings = 0;
    bool tls_up = false;

    for (size_t i = 0; i < r->endpoint_count; i++)
        if (r->endpoints[i].protocol == v->protocol &&
            endpoint_works(r, a->findings, a->finding_count, i))
            n_total_works++;
    /* Working endpoints: implicit TLS first (what to recommend), then in endpoint order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &r->endpoints[i];
            char port[300];
            if (ep->protocol != v->protocol ||
                !endpoint_works(r, a->findings, a->finding_count, i) ||
                (ep->security == MS_SECURITY_IMPLICIT) != (pass == 0))
                continue;
            ms_assess_ep_port(c, ep, port, sizeof port);
            n_works++;
            ms_assess_app(works, sizeof works, "%s%s (%s)",
                          n_works == 1               ? ""
                          : n_works == n_total_works ? " and "
                                                     : ", ",
                          port, ms_phrase_security(ep->security));
            for (size_t k = 0; k < a->finding_count; k++)
                if (a->findings[k].endpoint_index == (long)i &&
                    a->findings[k].severity == MS_SEVERITY_WARNING)
                    warnings++;
        }
    }
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        char port[300];
        if (ep->protocol != v->protocol || endpoint_works(r, a->findings, a->finding_count, i))
            continue;
        ms_assess_ep_port(c, ep, port, sizeof port);
        if (ep->tls.established)
            tls_up = true;
        ms_assess_app(broken, sizeof broken, "%s%s%s %s", n_broken ? ", " : "",
                      c->one_host ? "port " : "", port,
                      ms_assess_endpoint_reason(c, a->findings, a->finding_count, i));
        n_broken++;
    }
    const char *name = ms_assess_proto_upper(v->protocol);
    const char *domain = r->discovery.performed ? r->discovery.domain : "";
    if (v->available) {
        ms_assess_put(v->summary, sizeof v->summary, "%s works securely on %s", name, works);
        if (warnings)
            ms_assess_app(v->summary, sizeof v->summary, ", with %zu warning%s", warnings,
                          warnings == 1 ? "" : "s");
        if (n_broken)
            ms_assess_app(v->summary, sizeof v->summary, "; %s", broken);
        ms_assess_app(v->summary, sizeof v->summary, ".");
    } else if (v->not_offered) {
        char labels[64];
        ms_assess_not_offered_labels(r, v->protocol, labels, sizeof labels);
        ms_assess_put(v->summary, sizeof v->summary, "%s is not offered by %s (%s SRV target '.')",
                      name, domain, labels);
        if (n_broken)
            ms_assess_app(v->summary, sizeof v->summary, "; %s", broken);
        ms_assess_app(v->summary, sizeof v->summary, ".");
    } else if (n_broken) {
        ms_assess_put(v->summary, sizeof v->summary, "%s is not available%s%s%s: %s.", name,
                      tls_up ? " securely" : "", domain[0] ? " for " : "", domain, broken);
    } else if (domain[0]) {
        char why[200];
        ms_assess_no_server_words(c, v->protocol, why, sizeof why);
        ms_assess_put(v->summary, sizeof v->summary, "%s is not available for %s: %s.", name,
                      domain, why);
    } else {
        ms_assess_put(v->summary, sizeof v->summary,
                      "%s is not available: no endpoint was checked.", name);
    }
    /* The account's side: a sign-in that went wrong is part of the answer. */
    long at;
    enum ms_auth_hint hint;
    enum ms_auth_outcome o = ms_assess_protocol_auth(r, v->protocol, &at, &hint);
    const char *code = ms_auth_outcome_code(o);
    if (code && ms_assess_auth_severity(o) != MS_SEVERITY_INFO) {
        char port[300];
        ms_assess_ep_port(c, &r->endpoints[at], port, sizeof port);
        ms_assess_app(v->summary, sizeof v->summary, " Signing in as %s on %s failed: %s.",
                      r->user[0] ? r->user : "the user", port,
                      o == MS_AUTH_PROTOCOL_DISABLED
                          ? (v->protocol == MS_PROTOCOL_IMAP ? "IMAP is disabled for this account"
                                                             : "POP3 is disabled for this account")
                          : ms_assess_outcome_words(o));
    }
}

/* ---- entry points ------------------------------------------------------------------ */

int ms_assess(const struct ms_result *result, const struct ms_assess_options *opt,
              struct ms_assessment *out)
{
    struct ms_assess_ctx c = {
        .r = result, .warn_days = MS_ASSESS_DEFAULT_CERT_WARN_DAYS, .one_host = true};
    enum ms_status *ep_status = NULL;
    enum ms_status *srv_status = NULL; /* without findings about the account */
    int rc = 0;

    memset(out, 0, sizeof *out);
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
        out->recommended[p] = -1;
    out->preferred = -1;
    out->pub_program[0] = out->pub_program[1] = -1;
    if (opt)
        c.warn_days = opt->cert_warn_days;
    for (size_t i = 1; i < result->endpoint_count; i++)
        if (strcasecmp(result->endpoints[i].host, result->endpoints[0].host) != 0)
            c.one_host = false;
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
        c.not_offered[p] = ms_assess_protocol_not_offered(result, (enum ms_protocol)p);

    for (size_t i = 0; i < result->endpoint_count; i++) {
        long idx = (long)i;
        if ((rc = ms_assess_judge_failure(&c, idx)) || (rc = ms_assess_judge_cert(&c, idx)) ||
            (rc = ms_assess_judge_tls_version(&c, idx)) ||
            (rc = ms_assess_judge_plaintext_login(&c, idx)) ||
            (rc = ms_assess_judge_misc(&c, idx)) || (rc = ms_assess_judge_families(&c, idx)) ||
            (rc = ms_assess_judge_auth(&c, idx)) || (rc = ms_assess_judge_injection(&c, idx)) ||
            (rc = ms_assess_judge_quota(&c, idx)) || (rc = ms_assess_judge_submission(&c, idx)) ||
            (rc = ms_assess_judge_capabilities(&c, idx)) || (rc = ms_assess_judge_audit(&c, idx)) ||
            (rc = ms_assess_judge_pool(&c, idx)))
            goto out;
    }
    if ((rc = ms_assess_judge_discovery(&c)) || (rc = ms_assess_judge_autoconfig(&c)))
        goto out;

    /* Which protocols get a verdict: the requested ones, and any that was probed. */
    bool want[MS_PROTOCOL_COUNT];
    memcpy(want, result->want, sizeof want);
    for (size_t i = 0; i < result->endpoint_count; i++)
        want[result->endpoints[i].protocol] = true;
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++) {
        if (!want[p])
            continue;
        struct ms_protocol_verdict *v = &out->verdicts[out->verdict_count++];
        v->protocol = (enum ms_protocol)p;
        bool critical = false;
        for (size_t i = 0; i < result->endpoint_count; i++) {
            if (result->endpoints[i].protocol != v->protocol)
                continue;
            if (endpoint_works(result, c.f, c.n, i))
                v->available = true;
        }
        v->not_offered = !v->available && c.not_offered[v->protocol];
        for (size_t k = 0; k < c.n; k++)
            if (c.f[k].endpoint_index >= 0 &&
                result->endpoints[c.f[k].endpoint_index].protocol == v->protocol &&
                c.f[k].severity == MS_SEVERITY_CRITICAL)
                critical = true;
        /* Unavailable must be critical (unless the domain says it is not offered); say so
         * when no endpoint finding already does. */
        if (!v->available && !v->not_offered && !critical) {
            const char *name = ms_assess_proto_upper(v->protocol);
            bool imap = v->protocol == MS_PROTOCOL_IMAP;
            bool probed = false;
            for (size_t i = 0; i < result->endpoint_count; i++)
                if (result->endpoints[i].protocol == v->protocol)
                    probed = true;
            struct ms_assess_vars vs = {.n = 0};
            char why[200];
            ms_assess_var(&vs, "proto", name);
            ms_assess_var(&vs, "domain",
                          result->discovery.performed ? result->discovery.domain : "");
            ms_assess_var(&vs, "implicit", imap ? "993" : "995");
            ms_assess_var(&vs, "plain", imap ? "143" : "110");
            ms_assess_var(&vs, "service", ms_assess_services_of(v->protocol)[0]);
            int message = MS_T_DEFAULT, remedy = MS_T_DEFAULT;
            if (result->discovery.performed && !probed) {
                ms_assess_no_server_words(&c, v->protocol, why, sizeof why);
                ms_assess_var(&vs, "why", why);
                size_t asked, timeouts,
                    failed = ms_assess_dns_failures(&result->discovery, &asked, &timeouts);
                message = MS_T_UNAVAILABLE_NO_SERVER;
                remedy = asked > 0 && failed == asked ? MS_T_UNAVAILABLE_FIX_DNS
                                                      : MS_T_UNAVAILABLE_PUBLISH_SRV;
                ms_assess_var(
                    &vs, "dns_code",
                    ms_catalogue[timeouts * 2 >= failed ? MS_F_DNS_TIMEOUT : MS_F_DNS_ERROR].code);
            }
            if ((rc = ms_assess_emit(&c, MS_F_PROTO_UNAVAILABLE, MS_SEV_DEFAULT, -1,
                                     MS_MSG(MS_F_PROTO_UNAVAILABLE, message),
                                     MS_REM(MS_F_PROTO_UNAVAILABLE, remedy), &vs)))
                goto out;
        }
    }

    sort_findings(c.f, c.n);

    if (result->endpoint_count) {
        ep_status = calloc(result->endpoint_count, sizeof *ep_status);
        srv_status = calloc(result->endpoint_count, sizeof *srv_status);
        if (!ep_status || !srv_status) {
            rc = MS_ENOMEM;
            goto out;
        }
    }
    struct status_acc all = {MS_STATUS_OK, false};
    for (size_t i = 0; i < result->endpoint_count; i++) {
        struct status_acc s = {MS_STATUS_OK, false}, srv = {MS_STATUS_OK, false};
        for (size_t k = 0; k < c.n; k++) {
            if (c.f[k].endpoint_index != (long)i)
                continue;
            acc_add(&s, &c.f[k]);
            if (!ms_assess_is_account(&c.f[k]))
                acc_add(&srv, &c.f[k]);
        }
        ep_status[i] = acc_status(&s);
        srv_status[i] = acc_status(&srv);
    }
    for (size_t k = 0; k < c.n; k++)
        acc_add(&all, &c.f[k]);

    out->findings = c.f;
    out->finding_count = c.n;
    out->endpoint_status = ep_status;
    out->status = acc_status(&all);
    c.f = NULL; /* transferred */
    ep_status = NULL;

    for (size_t p = 0; p < out->verdict_count; p++) {
        struct ms_protocol_verdict *v = &out->verdicts[p];
        struct status_acc s = {MS_STATUS_OK, false};
        for (size_t k = 0; k < out->finding_count; k++) {
            const struct ms_finding *f = &out->findings[k];
            /* proto.unavailable (no endpoint) only exists when !available: covered below */
            if (f->endpoint_index >= 0 &&
                result->endpoints[f->endpoint_index].protocol == v->protocol)
                acc_add(&s, f);
        }
        v->status = acc_status(&s);
        if (!v->available && !v->not_offered && v->status != MS_STATUS_UNKNOWN)
            v->status = MS_STATUS_CRITICAL;
        make_verdict(&c, v, out);
    }
    ms_assess_recommend(&c, out, srv_status);
    ms_assess_make_summary(&c, out);
    if ((rc = ms_assess_autoconfig_verdicts(&c, out)))
        goto out;

out:
    free(c.f);
    free(ep_status);
    free(srv_status);
    if (rc) {
        ms_assessment_free(out);
        memset(out, 0, sizeof *out);
        for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
            out->recommended[p] = -1;
        out->preferred = -1;
        out->pub_program[0] = out->pub_program[1] = -1;
    }
    return rc;
}

void ms_assessment_free(struct ms_assessment *a)
{
    if (!a)
        return;
    free(a->findings);
    free(a->endpoint_status);
    free(a->pub_verdicts);
    a->pub_verdicts = NULL;
    a->pub_program[0] = a->pub_program[1] = -1;
    a->findings = NULL;
    a->endpoint_status = NULL;
    a->finding_count = 0;
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
        a->recommended[p] = -1;
    a->preferred = -1;
}
