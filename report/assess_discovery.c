/* Discovery: what the domain's DNS says (SRV records that say "not offered", SRV targets
 * without an address, questions without an answer) and why it found no server. */
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/assess_internal.h"

/* The SRV services of a protocol (implicit TLS first). */
static const char *const imap_services[] = {"_imaps._tcp", "_imap._tcp", NULL};
static const char *const pop3_services[] = {"_pop3s._tcp", "_pop3._tcp", NULL};

const char *const *services_of(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? imap_services : pop3_services;
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
        for (const char *const *l = services_of(p); *l; l++)
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
size_t not_offered_labels(const struct ms_result *r, enum ms_protocol p, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *l = services_of(p); *l; l++)
        if (ms_strlist_has(&r->discovery.srv_not_offered, *l))
            app(buf, cap, "%s%s", n++ ? ", " : "", *l);
    return n;
}

/* The domain says p is not offered: some service of it has the SRV target "." and no SRV
 * record of p names a server. Services without SRV records say nothing either way. */
bool protocol_not_offered(const struct ms_result *r, enum ms_protocol p)
{
    char labels[64];
    return r->discovery.performed && not_offered_labels(r, p, labels, sizeof labels) > 0 &&
           !srv_names_server(r, p);
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
/* How many of discovery's DNS questions timed out; *asked gets how many were asked. */
size_t dns_timeouts(const struct ms_discovery *d, size_t *asked)
{
    size_t n = 0;
    for (size_t k = 0; k < d->query_count; k++)
        if (strcmp(d->queries[k].status, "timeout") == 0)
            n++;
    *asked = d->query_count;
    return n;
}

/* Questions that got no answer at all: the resolver, not the domain, is the problem. */
static int judge_dns_silence(struct ctx *c)
{
    const struct ms_discovery *d = &c->r->discovery;
    size_t asked, silent = dns_timeouts(d, &asked);
    if (silent == 0)
        return 0;
    bool all = silent == asked;
    struct ms_finding *f =
        add(c, all ? MS_SEVERITY_CRITICAL : MS_SEVERITY_WARNING, "dns.timeout", -1);
    if (!f)
        return MS_ENOMEM;
    char names[300] = "";
    for (size_t k = 0, shown = 0; k < d->query_count && shown < 3; k++)
        if (strcmp(d->queries[k].status, "timeout") == 0)
            app(names, sizeof names, "%s%s %s", shown++ ? ", " : "", d->queries[k].name,
                d->queries[k].type);
    if (all)
        put(f->message, sizeof f->message,
            "DNS did not answer: all %zu questions about %s timed out (%s%s), so mailscope "
            "could not find the mail servers.",
            asked, d->domain, names, silent > 3 ? ", ..." : "");
    else
        put(f->message, sizeof f->message,
            "DNS did not answer %zu of %zu questions about %s (%s%s); servers named only "
            "there were not found.",
            silent, asked, d->domain, names, silent > 3 ? ", ..." : "");
    put(f->remedy, sizeof f->remedy,
        "Check this machine's resolver (/etc/resolv.conf) or the --dns-server given, and that "
        "UDP and TCP port 53 reach it; a server name instead of an e-mail address, with "
        "--resolve HOST:ADDRESS, bypasses discovery.");
    return 0;
}

int judge_discovery(struct ctx *c)
{
    const struct ms_result *r = c->r;
    const struct ms_discovery *d = &r->discovery;
    struct ms_finding *f;
    if (!d->performed)
        return 0;
    if (judge_dns_silence(c) < 0)
        return MS_ENOMEM;

    for (int p = 0; p < 2; p++) {
        enum ms_protocol proto = p == 0 ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3;
        enum ms_protocol other = p == 0 ? MS_PROTOCOL_POP3 : MS_PROTOCOL_IMAP;
        char labels[64];
        if (not_offered_labels(r, proto, labels, sizeof labels) == 0)
            continue;
        if (!(f = add(c, MS_SEVERITY_INFO, "dns.srv_not_offered", -1)))
            return MS_ENOMEM;
        /* a secure endpoint of it, found another way, although the domain says "no" */
        long works = -1;
        for (size_t i = 0; i < r->endpoint_count && works < 0; i++)
            if (r->endpoints[i].protocol == proto && ms_assess_endpoint_secure(&r->endpoints[i]))
                works = (long)i;
        if (c->not_offered[proto] && works >= 0) {
            const struct ms_endpoint_result *ep = &r->endpoints[works];
            put(f->message, sizeof f->message,
                "%s says %s (%s) is not offered (SRV target '.'), yet %s works on %s:%u (found "
                "by %s); mail programs that follow SRV records will not use it.",
                d->domain, proto_upper(proto), labels, proto_upper(proto), ep->host,
                (unsigned)ep->port, ep->source_name[0] ? ep->source_name : "its name");
            put(f->remedy, sizeof f->remedy,
                "If %s is meant to be offered, replace the '.' record with one that names the "
                "server, e.g. %s.%s. SRV 0 1 %u %s.; if it is meant to be off, turn it off on "
                "the server too.",
                proto_upper(proto),
                services_of(proto)[ep->security == MS_SECURITY_IMPLICIT ? 0 : 1], d->domain,
                (unsigned)ep->port, ep->host);
        } else if (c->not_offered[proto]) {
            put(f->message, sizeof f->message, "%s says %s (%s) is not offered (SRV target '.').",
                d->domain, proto_upper(proto), labels);
            put(f->remedy, sizeof f->remedy,
                "Nothing to do if %s is meant to be off%s%s. If it should work, replace the "
                "'.' record with one that names the server, e.g. %s.%s. SRV 0 1 %u "
                "%s.%s.",
                proto_upper(proto), c->not_offered[other] ? "" : ": mail programs should use ",
                c->not_offered[other] ? "" : proto_upper(other), services_of(proto)[0], d->domain,
                proto == MS_PROTOCOL_IMAP ? 993u : 995u, proto == MS_PROTOCOL_IMAP ? "imap" : "pop",
                d->domain);
        } else {
            put(f->message, sizeof f->message,
                "%s says %s (%s) is not offered (SRV target '.'); other SRV records name %s "
                "servers, so mail programs use those.",
                d->domain, proto_upper(proto), labels, proto_upper(proto));
            put(f->remedy, sizeof f->remedy,
                "Nothing to do if that way of reaching %s is meant to be off (RFC 8314 "
                "recommends implicit TLS on port %u). If it should work, replace the '.' record "
                "with one that names the server.",
                proto_upper(proto), proto == MS_PROTOCOL_IMAP ? 993u : 995u);
        }
    }

    for (size_t k = 0; k < d->srv_unresolvable.count; k++) {
        const char *line = d->srv_unresolvable.items[k]; /* "_imaps._tcp.example.com -> host" */
        const char *arrow = strstr(line, " -> ");
        char service[300], host[300], how[200] = "", port[32] = "";
        if (arrow) {
            put(service, sizeof service, "%.*s", (int)(arrow - line), line);
            put(host, sizeof host, "%s", arrow + 4);
        } else {
            put(service, sizeof service, "an SRV record");
            put(host, sizeof host, "%s", line);
        }
        for (size_t j = 0; j < d->candidate_count; j++) {
            const struct ms_candidate *cd = &d->candidates[j];
            if (cd->source == MS_SOURCE_SRV && strcasecmp(cd->host, host) == 0 &&
                strcasecmp(cd->source_name, service) == 0) {
                put(port, sizeof port, " (port %u)", (unsigned)cd->port);
                break;
            }
        }
        const struct ms_dns_query_fact *qf = host_query(r, host);
        if (qf && strcmp(qf->status, "nxdomain") == 0)
            put(how, sizeof how, "the name does not exist (NXDOMAIN)");
        else if (qf && strcmp(qf->status, "nodata") == 0 && r->only_family)
            put(how, sizeof how, "the name has no %s record (only %s was asked for, by -%d)",
                r->only_family == 4 ? "IPv4 (A)" : "IPv6 (AAAA)",
                r->only_family == 4 ? "IPv4" : "IPv6", r->only_family);
        else if (qf && strcmp(qf->status, "nodata") == 0)
            put(how, sizeof how, "the name has no A or AAAA record");
        else if (qf && strcmp(qf->status, "ok") != 0)
            put(how, sizeof how, "looking it up failed: %s%s%s", qf->status,
                qf->message[0] ? ", " : "", qf->message);
        else
            put(how, sizeof how, "it has no address");
        if (!(f = add(c, MS_SEVERITY_WARNING, "dns.srv_target_unresolvable", -1)))
            return MS_ENOMEM;
        put(f->message, sizeof f->message,
            "%s names %s%s, but %s; mail programs that follow the SRV record cannot connect "
            "there.",
            service, host, port, how);
        put(f->remedy, sizeof f->remedy,
            "Add an A and/or AAAA record for %s, or correct the SRV record %s to name the "
            "mail server's real host name (an existing name, not an alias).",
            host, service);
    }
    return 0;
}

/* Discovery found no endpoint of p to probe: why, from its candidates. */
void no_server_words(const struct ctx *c, enum ms_protocol p, char *buf, size_t cap)
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
    size_t asked, silent = dns_timeouts(d, &asked);
    if (asked > 0 && silent == asked)
        put(buf, cap, "no server was found because DNS did not answer");
    else if (n == 0)
        put(buf, cap, "no server was found (no candidate from SRV, MX or conventional names)");
    else if (unresolved == n && n == 1)
        put(buf, cap, "no server was found (the only candidate, %s, does not resolve)", first);
    else if (unresolved == n)
        put(buf, cap, "no server was found (none of the %zu candidates resolves)", n);
    else
        put(buf, cap, "no server was found (candidates not probed: %s)",
            reason ? reason : "unknown reason");
}
