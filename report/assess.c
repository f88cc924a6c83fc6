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

const char *ms_assess_failure_code(enum ms_failure f)
{
    switch (f) {
    case MS_FAILURE_NONE: return NULL;
    case MS_FAILURE_DNS_NO_SUCH_HOST: return "dns.no_such_host";
    case MS_FAILURE_DNS_NO_ADDRESS: return "dns.no_address";
    case MS_FAILURE_DNS_TIMEOUT: return "dns.timeout";
    case MS_FAILURE_DNS_ERROR: return "dns.error";
    case MS_FAILURE_TCP_REFUSED: return "tcp.refused";
    case MS_FAILURE_TCP_TIMEOUT: return "tcp.timeout";
    case MS_FAILURE_TCP_UNREACHABLE: return "tcp.unreachable";
    case MS_FAILURE_TLS_HANDSHAKE: return "tls.handshake_failed";
    case MS_FAILURE_TLS_TIMEOUT: return "tls.timeout";
    case MS_FAILURE_STARTTLS_NOT_OFFERED: return "starttls.not_offered";
    case MS_FAILURE_STARTTLS_REFUSED: return "starttls.refused";
    case MS_FAILURE_STARTTLS_INJECTED: return "starttls.injected_data";
    case MS_FAILURE_PROTO_BYE: return "proto.bye";
    case MS_FAILURE_PROTO_PREAUTH: return "proto.preauth_without_tls";
    case MS_FAILURE_PROTO_UNEXPECTED_GREETING: return "proto.unexpected_greeting";
    case MS_FAILURE_PROTO_MALFORMED: return "proto.malformed_response";
    case MS_FAILURE_PROTO_CLOSED: return "proto.closed";
    case MS_FAILURE_PROTO_TIMEOUT: return "proto.timeout";
    case MS_FAILURE_INTERNAL: return "internal.error";
    }
    return "internal.error";
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
            !is_account_code(f[k].code))
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
    return strcmp(f->code, "internal.error") == 0;
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

/* A short phrase for why an endpoint is not usable, from a finding code. */
static const char *reason_words(const char *code)
{
    static const struct {
        const char *code, *words;
    } tab[] = {
        {"dns.no_such_host", "does not resolve (no such host)"},
        {"dns.no_address", "has no address in DNS"},
        {"dns.timeout", "could not be resolved in time"},
        {"dns.error", "could not be resolved"},
        {"tcp.refused", "refused the connection"},
        {"tcp.timeout", "did not answer (connection timed out)"},
        {"tcp.unreachable", "is unreachable"},
        {"tls.handshake_failed", "failed the TLS handshake"},
        {"tls.timeout", "timed out in the TLS handshake"},
        {"tls.cert_expired", "has an expired certificate"},
        {"tls.cert_not_yet_valid", "has a certificate that is not valid yet"},
        {"tls.cert_hostname_mismatch", "has a certificate for another name"},
        {"tls.cert_untrusted", "has an untrusted certificate"},
        {"tls.protocol_outdated", "uses an outdated TLS version"},
        {"tls.not_used", "does not use TLS"},
        {"starttls.not_offered", "does not offer STARTTLS"},
        {"starttls.refused", "refused STARTTLS"},
        {"starttls.injected_data", "injected data after STARTTLS"},
        {"proto.bye", "said BYE"},
        {"proto.preauth_without_tls", "sent PREAUTH before TLS"},
        {"proto.unexpected_greeting", "sent an unexpected greeting"},
        {"proto.malformed_response", "sent a malformed response"},
        {"proto.closed", "closed the connection"},
        {"proto.timeout", "stopped answering"},
        {"internal.error", "could not be checked (internal error)"},
        {"starttls.command_injection", "executes commands injected before STARTTLS"},
        {"auth.failed", "rejected the credentials"},
        {"auth.protocol_disabled", "refused this account the protocol"},
        {"auth.basic_auth_disabled", "allows only OAuth2 sign-in"},
        {"auth.mechanism_unavailable", "offers no usable sign-in mechanism"},
        {"auth.account_locked_or_expired", "says the account is locked or expired"},
    };
    for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++)
        if (strcmp(tab[k].code, code) == 0)
            return tab[k].words;
    return "did not complete securely";
}

/* Why endpoint i is not usable: its session failure, else its worst certificate or TLS
 * finding (a->findings is sorted). */
const char *endpoint_reason(const struct ctx *c, const struct ms_assessment *a, size_t i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const char *code = ms_assess_failure_code(ep->failure);
    if (code)
        return reason_words(code);
    for (size_t k = 0; k < a->finding_count; k++)
        if (a->findings[k].endpoint_index == (long)i &&
            a->findings[k].severity == MS_SEVERITY_CRITICAL &&
            !is_account_code(a->findings[k].code))
            return reason_words(a->findings[k].code);
    for (size_t k = 0; k < a->finding_count; k++)
        if (a->findings[k].endpoint_index == (long)i &&
            a->findings[k].severity == MS_SEVERITY_CRITICAL)
            return reason_words(a->findings[k].code);
    return reason_words("");
}

static void make_verdict(const struct ctx *c, struct ms_protocol_verdict *v,
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
            ep_port(c, ep, port, sizeof port);
            n_works++;
            app(works, sizeof works, "%s%s (%s)",
                n_works == 1               ? ""
                : n_works == n_total_works ? " and "
                                           : ", ",
                port, security_words(ep->security));
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
        ep_port(c, ep, port, sizeof port);
        if (ep->tls.established)
            tls_up = true;
        app(broken, sizeof broken, "%s%s%s %s", n_broken ? ", " : "", c->one_host ? "port " : "",
            port, endpoint_reason(c, a, i));
        n_broken++;
    }
    const char *name = proto_upper(v->protocol);
    const char *domain = r->discovery.performed ? r->discovery.domain : "";
    if (v->available) {
        put(v->summary, sizeof v->summary, "%s works securely on %s", name, works);
        if (warnings)
            app(v->summary, sizeof v->summary, ", with %zu warning%s", warnings,
                warnings == 1 ? "" : "s");
        if (n_broken)
            app(v->summary, sizeof v->summary, "; %s", broken);
        app(v->summary, sizeof v->summary, ".");
    } else if (v->not_offered) {
        char labels[64];
        not_offered_labels(r, v->protocol, labels, sizeof labels);
        put(v->summary, sizeof v->summary, "%s is not offered by %s (%s SRV target '.')", name,
            domain, labels);
        if (n_broken)
            app(v->summary, sizeof v->summary, "; %s", broken);
        app(v->summary, sizeof v->summary, ".");
    } else if (n_broken) {
        put(v->summary, sizeof v->summary, "%s is not available%s%s%s: %s.", name,
            tls_up ? " securely" : "", domain[0] ? " for " : "", domain, broken);
    } else if (domain[0]) {
        char why[200];
        no_server_words(c, v->protocol, why, sizeof why);
        put(v->summary, sizeof v->summary, "%s is not available for %s: %s.", name, domain, why);
    } else {
        put(v->summary, sizeof v->summary, "%s is not available: no endpoint was checked.", name);
    }
    /* The account's side: a sign-in that went wrong is part of the answer. */
    long at;
    enum auth_hint hint;
    enum ms_auth_outcome o = protocol_auth(r, v->protocol, &at, &hint);
    const char *code = ms_auth_outcome_code(o);
    if (code && auth_severity(o) != MS_SEVERITY_INFO) {
        char port[300];
        ep_port(c, &r->endpoints[at], port, sizeof port);
        app(v->summary, sizeof v->summary, " Signing in as %s on %s failed: %s.",
            r->user[0] ? r->user : "the user", port,
            o == MS_AUTH_PROTOCOL_DISABLED
                ? (v->protocol == MS_PROTOCOL_IMAP ? "IMAP is disabled for this account"
                                                   : "POP3 is disabled for this account")
                : outcome_words(o));
    }
}

/* ---- entry points ------------------------------------------------------------------ */

int ms_assess(const struct ms_result *result, const struct ms_assess_options *opt,
              struct ms_assessment *out)
{
    struct ctx c = {.r = result, .warn_days = MS_ASSESS_DEFAULT_CERT_WARN_DAYS, .one_host = true};
    enum ms_status *ep_status = NULL;
    enum ms_status *srv_status = NULL; /* without findings about the account */
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->recommended[0] = out->recommended[1] = -1;
    out->preferred = -1;
    if (opt)
        c.warn_days = opt->cert_warn_days;
    for (size_t i = 1; i < result->endpoint_count; i++)
        if (strcasecmp(result->endpoints[i].host, result->endpoints[0].host) != 0)
            c.one_host = false;
    c.not_offered[MS_PROTOCOL_IMAP] = protocol_not_offered(result, MS_PROTOCOL_IMAP);
    c.not_offered[MS_PROTOCOL_POP3] = protocol_not_offered(result, MS_PROTOCOL_POP3);

    for (size_t i = 0; i < result->endpoint_count; i++) {
        long idx = (long)i;
        if ((rc = judge_failure(&c, idx)) || (rc = judge_cert(&c, idx)) ||
            (rc = judge_tls_version(&c, idx)) || (rc = judge_plaintext_login(&c, idx)) ||
            (rc = judge_misc(&c, idx)) || (rc = judge_families(&c, idx)) ||
            (rc = judge_auth(&c, idx)) || (rc = judge_injection(&c, idx)) ||
            (rc = judge_quota(&c, idx)))
            goto out;
    }
    if ((rc = judge_discovery(&c)))
        goto out;

    /* Which protocols get a verdict: the requested ones, and any that was probed. */
    bool want[2] = {result->want_imap, result->want_pop3};
    for (size_t i = 0; i < result->endpoint_count; i++)
        want[result->endpoints[i].protocol == MS_PROTOCOL_IMAP ? 0 : 1] = true;
    for (int p = 0; p < 2; p++) {
        if (!want[p])
            continue;
        struct ms_protocol_verdict *v = &out->verdicts[out->verdict_count++];
        v->protocol = p == 0 ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3;
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
            struct ms_finding *f = add(&c, MS_SEVERITY_CRITICAL, "proto.unavailable", -1);
            if (!f) {
                rc = MS_ENOMEM;
                goto out;
            }
            const char *name = proto_upper(v->protocol);
            unsigned implicit = v->protocol == MS_PROTOCOL_IMAP ? 993u : 995u;
            bool probed = false;
            for (size_t i = 0; i < result->endpoint_count; i++)
                if (result->endpoints[i].protocol == v->protocol)
                    probed = true;
            if (result->discovery.performed && !probed) {
                char why[200];
                no_server_words(&c, v->protocol, why, sizeof why);
                put(f->message, sizeof f->message, "%s is not available for %s: %s.", name,
                    result->discovery.domain, why);
                size_t asked, silent = dns_timeouts(&result->discovery, &asked);
                if (asked > 0 && silent == asked)
                    put(f->remedy, sizeof f->remedy,
                        "Fix DNS first (see dns.timeout), then run mailscope again.");
                else
                    put(f->remedy, sizeof f->remedy,
                        "Publish SRV records for the mail domain (e.g. %s.%s. SRV 0 1 %u "
                        "mail.%s.) and an A/AAAA record for the server, or ask the provider "
                        "for the server's name and run mailscope on it.",
                        services_of(v->protocol)[0], result->discovery.domain, implicit,
                        result->discovery.domain);
            } else {
                put(f->message, sizeof f->message,
                    "%s is not available securely%s%s: no %s endpoint completed a TLS session "
                    "with a verified certificate.",
                    name, result->discovery.performed ? " for " : "",
                    result->discovery.performed ? result->discovery.domain : "", name);
                put(f->remedy, sizeof f->remedy,
                    "Offer %s on port %u with implicit TLS (or STARTTLS on port %u) and a "
                    "valid certificate; run mailscope --trace to see what the server does.",
                    name, implicit, v->protocol == MS_PROTOCOL_IMAP ? 143u : 110u);
            }
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
            if (!is_account_code(c.f[k].code))
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
    recommend(&c, out, srv_status);
    make_summary(&c, out);

out:
    free(c.f);
    free(ep_status);
    free(srv_status);
    if (rc) {
        ms_assessment_free(out);
        memset(out, 0, sizeof *out);
        out->recommended[0] = out->recommended[1] = -1;
        out->preferred = -1;
    }
    return rc;
}

void ms_assessment_free(struct ms_assessment *a)
{
    if (!a)
        return;
    free(a->findings);
    free(a->endpoint_status);
    a->findings = NULL;
    a->endpoint_status = NULL;
    a->finding_count = 0;
    a->recommended[0] = a->recommended[1] = -1;
    a->preferred = -1;
}
