/* Discovery: what the domain's DNS says (SRV records that say "not offered", SRV targets
 * without an address, questions without an answer) and why it found no server. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/assess_internal.h"

/* The SRV services of a protocol (implicit TLS first). */
static const char *const imap_services[] = {"_imaps._tcp", "_imap._tcp", NULL};
static const char *const pop3_services[] = {"_pop3s._tcp", "_pop3._tcp", NULL};
static const char *const submission_services[] = {"_submissions._tcp", "_submission._tcp", NULL};

const char *const *ms_assess_services_of(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP   ? imap_services
           : p == MS_PROTOCOL_POP3 ? pop3_services
                                   : submission_services;
}

/* True when the SRV query name ("_imaps._tcp.example.com") is of service label. */
static bool query_is_service(const char *name, const char *label)
{
    size_t n = strlen(label);
    return strncasecmp(name, label, n) == 0 && name[n] == '.';
}

/* Some SRV record of protocol p names a real server (a target other than "."). */
static bool srv_names_server(const struct ms_result *r, enum ms_protocol p)
{
    const struct ms_discovery *d = &r->discovery;
    for (size_t k = 0; k < d->candidate_count; k++)
        if (d->candidates[k].source == MS_SOURCE_SRV && d->candidates[k].protocol == p)
            return true;
    for (size_t q = 0; q < d->query_count; q++) {
        const struct ms_dns_query_fact *qf = &d->queries[q];
        if (strcmp(qf->type, "SRV") != 0)
            continue;
        bool ours = false;
        for (const char *const *l = ms_assess_services_of(p); *l; l++)
            if (query_is_service(qf->name, *l))
                ours = true;
        if (!ours)
            continue;
        /* answers are "priority weight port target" */
        for (size_t a = 0; a < qf->answers.count; a++) {
            const char *target = strrchr(qf->answers.items[a], ' ');
            target = target ? target + 1 : qf->answers.items[a];
            if (strcmp(target, ".") != 0 && target[0])
                return true;
        }
    }
    return false;
}

/* Which of p's services the domain declared not offered, as "_pop3._tcp, _pop3s._tcp". */
size_t ms_assess_not_offered_labels(const struct ms_result *r, enum ms_protocol p, char *buf,
                                    size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *l = ms_assess_services_of(p); *l; l++)
        if (ms_strlist_has(&r->discovery.srv_not_offered, *l))
            ms_assess_app(buf, cap, "%s%s", n++ ? ", " : "", *l);
    return n;
}

/* The domain says p is not offered: some service of it has the SRV target "." and no SRV
 * record of p names a server. Services without SRV records say nothing either way. */
bool ms_assess_protocol_not_offered(const struct ms_result *r, enum ms_protocol p)
{
    char labels[64];
    return r->discovery.performed &&
           ms_assess_not_offered_labels(r, p, labels, sizeof labels) > 0 && !srv_names_server(r, p);
}

/* The discovery query asking for host's addresses, or NULL. */
static const struct ms_dns_query_fact *host_query(const struct ms_result *r, const char *host)
{
    for (size_t q = 0; q < r->discovery.query_count; q++) {
        const struct ms_dns_query_fact *qf = &r->discovery.queries[q];
        if (strcmp(qf->type, "SRV") != 0 && strcmp(qf->type, "MX") != 0 &&
            strcasecmp(qf->name, host) == 0)
            return qf;
    }
    return NULL;
}

/* Findings about the domain's DNS, not about one endpoint. */
/* How many of discovery's DNS questions got no answer (*timeouts of them timed out, the
 * rest failed: refused, SERVFAIL, unreachable); *asked gets how many were asked. */
size_t ms_assess_dns_failures(const struct ms_discovery *d, size_t *asked, size_t *timeouts)
{
    size_t failed = 0;
    *timeouts = 0;
    for (size_t k = 0; k < d->query_count; k++) {
        bool timeout = strcmp(d->queries[k].status, "timeout") == 0;
        if (timeout || strcmp(d->queries[k].status, "error") == 0)
            failed++;
        if (timeout)
            (*timeouts)++;
    }
    *asked = d->query_count;
    return failed;
}

/* Up to three of the questions with this status, "name TYPE, ...". */
static size_t failed_names(const struct ms_discovery *d, const char *status, char *buf, size_t cap,
                           const char **message)
{
    size_t n = 0;
    buf[0] = '\0';
    *message = "";
    for (size_t k = 0; k < d->query_count; k++) {
        if (strcmp(d->queries[k].status, status) != 0)
            continue;
        if (n++ < 3)
            ms_assess_app(buf, cap, "%s%s %s", n > 1 ? ", " : "", d->queries[k].name,
                          d->queries[k].type);
        if (!**message)
            *message = d->queries[k].message;
    }
    return n;
}

/* Questions that got no answer: the resolver, not the domain, is the problem. Timeouts are
 * dns.timeout, failures (refused, SERVFAIL, unreachable, truncated with no TCP) dns.error;
 * critical when no question was answered at all. */
static int judge_dns_failures(struct ms_assess_ctx *c)
{
    const struct ms_discovery *d = &c->r->discovery;
    size_t asked, timeouts, failed = ms_assess_dns_failures(d, &asked, &timeouts);
    if (failed == 0)
        return 0;
    bool all = failed == asked;
    static const struct {
        const char *status;
        enum ms_finding_id id;
    } kinds[] = {{"timeout", MS_F_DNS_TIMEOUT}, {"error", MS_F_DNS_ERROR}};
    for (size_t k = 0; k < 2; k++) {
        char names[300], n_asked[24], n_count[24];
        const char *message;
        size_t n = failed_names(d, kinds[k].status, names, sizeof names, &message);
        /* all failed: one critical finding, of the kind most questions got */
        if (n == 0 || (all && k == 0 && timeouts * 2 < failed) ||
            (all && k == 1 && timeouts * 2 >= failed))
            continue;
        snprintf(n_asked, sizeof n_asked, "%zu", asked);
        snprintf(n_count, sizeof n_count, "%zu", all ? failed : n);
        struct ms_assess_vars vs = {.n = 0};
        ms_assess_var(&vs, "asked", n_asked);
        ms_assess_var(&vs, "silent", n_count);
        ms_assess_var(&vs, "domain", d->domain);
        ms_assess_var(&vs, "names", names);
        ms_assess_var(&vs, "more", n > 3 ? "yes" : "");
        ms_assess_var(&vs, "resolver", d->resolver);
        ms_assess_var(&vs, "message", message);
        int v = all ? MS_T_DNS_DISCOVERY_ALL : MS_T_DNS_DISCOVERY_SOME;
        int rc = ms_assess_emit(c, kinds[k].id, all ? MS_SEVERITY_CRITICAL : MS_SEVERITY_WARNING,
                                -1, MS_MSG(kinds[k].id, v), MS_REM(kinds[k].id, v), &vs);
        if (rc)
            return rc;
    }
    return 0;
}

int ms_assess_judge_discovery(struct ms_assess_ctx *c)
{
    const struct ms_result *r = c->r;
    const struct ms_discovery *d = &r->discovery;
    int rc;
    if (!d->performed)
        return 0;
    if ((rc = judge_dns_failures(c)))
        return rc;

    for (int p = 0; p < MS_PROTOCOL_COUNT; p++) {
        enum ms_protocol proto = (enum ms_protocol)p;
        /* the other way to receive mail, when one of IMAP and POP3 is off */
        int other = proto == MS_PROTOCOL_IMAP   ? MS_PROTOCOL_POP3
                    : proto == MS_PROTOCOL_POP3 ? MS_PROTOCOL_IMAP
                                                : -1;
        char labels[64], port[16];
        if (ms_assess_not_offered_labels(r, proto, labels, sizeof labels) == 0)
            continue;
        /* a secure endpoint of it, found another way, although the domain says "no" */
        long works = -1;
        for (size_t i = 0; i < r->endpoint_count && works < 0; i++)
            if (r->endpoints[i].protocol == proto && ms_assess_endpoint_secure(&r->endpoints[i]))
                works = (long)i;
        struct ms_assess_vars vs = {.n = 0};
        ms_assess_var(&vs, "domain", d->domain);
        ms_assess_var(&vs, "proto", ms_assess_proto_upper(proto));
        ms_assess_var(&vs, "labels", labels);
        int v;
        if (c->not_offered[proto] && works >= 0) {
            const struct ms_endpoint_result *ep = &r->endpoints[works];
            snprintf(port, sizeof port, "%u", (unsigned)ep->port);
            ms_assess_var(&vs, "host", ep->host);
            ms_assess_var(&vs, "found_by", ep->source_name[0] ? ep->source_name : "its name");
            ms_assess_var(
                &vs, "service",
                ms_assess_services_of(proto)[ep->security == MS_SECURITY_IMPLICIT ? 0 : 1]);
            v = MS_T_SRV_WORKS_ANYWAY;
        } else if (c->not_offered[proto]) {
            snprintf(port, sizeof port, "%u", ms_assess_standard_implicit_port(proto));
            ms_assess_var(&vs, "other",
                          other < 0 || c->not_offered[other]
                              ? ""
                              : ms_assess_proto_upper((enum ms_protocol)other));
            ms_assess_var(&vs, "service", ms_assess_services_of(proto)[0]);
            ms_assess_var(&vs, "prefix",
                          proto == MS_PROTOCOL_IMAP   ? "imap"
                          : proto == MS_PROTOCOL_POP3 ? "pop"
                                                      : "smtp");
            v = MS_T_DEFAULT;
        } else {
            snprintf(port, sizeof port, "%u", ms_assess_standard_implicit_port(proto));
            v = MS_T_SRV_OTHER_RECORDS;
        }
        ms_assess_var(&vs, "port", port);
        if ((rc = ms_assess_emit(c, MS_F_DNS_SRV_NOT_OFFERED, MS_SEV_DEFAULT, -1,
                                 MS_MSG(MS_F_DNS_SRV_NOT_OFFERED, v),
                                 MS_REM(MS_F_DNS_SRV_NOT_OFFERED, v), &vs)))
            return rc;
    }

    for (size_t k = 0; k < d->srv_unresolvable.count; k++) {
        const char *line = d->srv_unresolvable.items[k]; /* "_imaps._tcp.example.com -> host" */
        const char *arrow = strstr(line, " -> ");
        char service[300], host[300], how[200], port[16] = "";
        if (arrow) {
            ms_assess_put(service, sizeof service, "%.*s", (int)(arrow - line), line);
            ms_assess_put(host, sizeof host, "%s", arrow + 4);
        } else {
            ms_assess_put(service, sizeof service, "an SRV record");
            ms_assess_put(host, sizeof host, "%s", line);
        }
        for (size_t j = 0; j < d->candidate_count; j++) {
            const struct ms_candidate *cd = &d->candidates[j];
            if (cd->source == MS_SOURCE_SRV && strcasecmp(cd->host, host) == 0 &&
                strcasecmp(cd->source_name, service) == 0) {
                snprintf(port, sizeof port, "%u", (unsigned)cd->port);
                break;
            }
        }
        const struct ms_dns_query_fact *qf = host_query(r, host);
        enum ms_phrase ph = MS_PH_SRV_NO_ADDRESS;
        if (qf && strcmp(qf->status, "nxdomain") == 0)
            ph = MS_PH_SRV_NXDOMAIN;
        else if (qf && strcmp(qf->status, "nodata") == 0)
            ph = r->only_family ? MS_PH_SRV_NODATA_FAMILY : MS_PH_SRV_NODATA;
        else if (qf && strcmp(qf->status, "ok") != 0)
            ph = MS_PH_SRV_LOOKUP_FAILED;
        struct ms_var hv[] = {{"v4", r->only_family == 4 ? "yes" : ""},
                              {"status", qf ? qf->status : ""},
                              {"message", qf ? qf->message : ""}};
        ms_catalogue_expand(how, sizeof how, ms_phrase_templates[ph], hv, 3);
        struct ms_assess_vars vs = {.n = 0};
        ms_assess_var(&vs, "service", service);
        ms_assess_var(&vs, "host", host);
        ms_assess_var(&vs, "port", port);
        ms_assess_var(&vs, "how", how);
        if ((rc = ms_assess_emit(c, MS_F_DNS_SRV_TARGET_UNRESOLVABLE, MS_SEV_DEFAULT, -1,
                                 MS_MSG(MS_F_DNS_SRV_TARGET_UNRESOLVABLE, MS_T_DEFAULT),
                                 MS_REM(MS_F_DNS_SRV_TARGET_UNRESOLVABLE, MS_T_DEFAULT), &vs)))
            return rc;
    }
    return 0;
}

/* Discovery found no endpoint of p to probe: why, from its candidates. */
void ms_assess_no_server_words(const struct ms_assess_ctx *c, enum ms_protocol p, char *buf,
                               size_t cap)
{
    const struct ms_discovery *d = &c->r->discovery;
    size_t n = 0, unresolved = 0;
    const char *reason = NULL, *first = "";
    for (size_t k = 0; k < d->candidate_count; k++) {
        const struct ms_candidate *cd = &d->candidates[k];
        if (cd->protocol != p)
            continue;
        if (n++ == 0)
            first = cd->host;
        if (strcmp(cd->dropped, "does not resolve") == 0)
            unresolved++;
        else if (cd->dropped[0] && !reason)
            reason = cd->dropped;
    }
    size_t asked, timeouts, failed = ms_assess_dns_failures(d, &asked, &timeouts);
    char count[24];
    snprintf(count, sizeof count, "%zu", n);
    enum ms_phrase ph = asked > 0 && failed == asked && timeouts == failed
                            ? MS_PH_NO_SERVER_DNS_SILENT
                        : asked > 0 && failed == asked ? MS_PH_NO_SERVER_DNS_FAILED
                        : n == 0                       ? MS_PH_NO_SERVER_NO_CANDIDATE
                        : unresolved == n && n == 1    ? MS_PH_NO_SERVER_ONLY_CANDIDATE
                        : unresolved == n              ? MS_PH_NO_SERVER_NONE_RESOLVES
                                                       : MS_PH_NO_SERVER_NOT_PROBED;
    struct ms_var vars[] = {
        {"host", first}, {"count", count}, {"reason", reason ? reason : "unknown reason"}};
    ms_catalogue_expand(buf, cap, ms_phrase_templates[ph], vars, 3);
}
