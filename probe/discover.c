#include "probe/discover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/autoconfig.h"
#include "probe/conn.h"
#include "probe/dns.h"
#include "probe/plan.h"
#include "probe/trace.h"

#define MAX_HOSTS (MS_DISCOVERY_MAX_HOSTS + 6) /* + the conventional names */
#define MAX_QUERIES 32
#define MAX_CANDIDATES 64

enum service {
    SVC_IMAPS,
    SVC_IMAP,
    SVC_POP3S,
    SVC_POP3,
    SVC_SUBMISSIONS,
    SVC_SUBMISSION,
    SVC_COUNT
};

/* RFC 6186 / 8314 services, implicit TLS first within each protocol. */
static const struct {
    const char *label;
    enum ms_protocol protocol;
    enum ms_security security;
} services[SVC_COUNT] = {
    [SVC_IMAPS] = {"_imaps._tcp", MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT},
    [SVC_IMAP] = {"_imap._tcp", MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS},
    [SVC_POP3S] = {"_pop3s._tcp", MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT},
    [SVC_POP3] = {"_pop3._tcp", MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS},
    [SVC_SUBMISSIONS] = {"_submissions._tcp", MS_PROTOCOL_SUBMISSION, MS_SECURITY_IMPLICIT},
    [SVC_SUBMISSION] = {"_submission._tcp", MS_PROTOCOL_SUBMISSION, MS_SECURITY_STARTTLS},
};

enum query_kind { Q_SRV, Q_MX, Q_HOST };

struct query_ctx {
    struct ms_discover *d;
    enum query_kind kind;
    size_t index; /* service (Q_SRV) or host (Q_HOST) */
    size_t fact;  /* index into facts->queries */
    double t0;
    bool answered; /* its fact is recorded */
    bool returned; /* the resolver is done with it (its callback ran) */
};

struct host_entry {
    char name[MS_MAX_HOST + 1];
    bool pinned; /* --resolve knows it: the session needs no DNS */
    bool asked, done, ok;
    double resolve_ms;
    struct ms_dns_answer answer;
};

struct ms_discover {
    struct ms_session_env *env;
    struct ms_discovery *facts;
    double t0;
    size_t pending;
    bool planned; /* candidates built (SRV and MX answered) */
    bool finished;
    struct ms_dns_records records[SVC_COUNT];
    bool srv_found[SVC_COUNT]; /* the service has SRV records (maybe ".") */
    struct ms_dns_records mx;
    struct host_entry hosts[MAX_HOSTS];
    size_t host_count;
    struct query_ctx *queries[MAX_QUERIES]; /* heap: an answer may outlive the run */
    size_t query_count;                     /* here too: facts may be gone at free time */
    size_t endpoints_added;
    struct ms_autoconfig *ac; /* what mail programs fetch (issue 16), NULL with --no-autoconfig */
    bool dns_done;            /* every DNS question answered (duration_ms recorded) */
};

/* The usual names, in the order mail programs guess them. */
static const struct {
    const char *prefix;
    unsigned protocols;
} conventional[] = {
    {"imap.", MS_WANT(MS_PROTOCOL_IMAP)},
    {"pop.", MS_WANT(MS_PROTOCOL_POP3)},
    {"pop3.", MS_WANT(MS_PROTOCOL_POP3)},
    {"smtp.", MS_WANT(MS_PROTOCOL_SUBMISSION)},
    {"mail.", MS_WANT_ALL},
    {"", MS_WANT_ALL},
};

static void maybe_finish(struct ms_discover *d);
static void plan_candidates(struct ms_discover *d);

static const char *status_word(enum ms_dns_status st)
{
    switch (st) {
    case MS_DNS_OK: return "ok";
    case MS_DNS_NO_SUCH_HOST: return "nxdomain";
    case MS_DNS_NO_ADDRESS: return "nodata";
    case MS_DNS_TIMEOUT: return "timeout";
    default: return "error";
    }
}

static struct query_ctx *new_query(struct ms_discover *d, enum query_kind kind, size_t index,
                                   const char *name, const char *type)
{
    struct ms_discovery *f = d->facts;
    if (f->query_count >= MAX_QUERIES)
        return NULL;
    struct query_ctx *q = malloc(sizeof *q);
    if (!q)
        return NULL;
    d->queries[f->query_count] = q;
    d->query_count = f->query_count + 1;
    struct ms_dns_query_fact *fact = &f->queries[f->query_count];
    *q = (struct query_ctx){
        .d = d, .kind = kind, .index = index, .fact = f->query_count, .t0 = ms_loop_now()};
    snprintf(fact->name, sizeof fact->name, "%s", name);
    snprintf(fact->type, sizeof fact->type, "%s", type);
    snprintf(fact->status, sizeof fact->status, "pending");
    f->query_count++;
    d->pending++;
    return q;
}

/* The resolver called back with q: from now on q is ours to free. Returns false (and frees
 * q) when its run is gone. */
static bool returned(struct query_ctx *q)
{
    q->returned = true;
    if (q->d)
        return true;
    free(q);
    return false;
}

/* Record the end of a query; false when the answer comes too late to matter. */
static bool answer_query(struct query_ctx *q, enum ms_dns_status status, const char *message)
{
    struct ms_discover *d = q->d;
    if (status == MS_DNS_CANCELLED || q->answered || d->finished)
        return false;
    q->answered = true;
    d->pending--;
    struct ms_dns_query_fact *fact = &d->facts->queries[q->fact];
    fact->duration_ms = (ms_loop_now() - q->t0) * 1000.0;
    snprintf(fact->status, sizeof fact->status, "%s", status_word(status));
    if (status != MS_DNS_OK && message)
        snprintf(fact->message, sizeof fact->message, "%s", message);
    return true;
}

static void trace_query(const struct ms_discover *d, size_t fact)
{
    if (!d->env->request->trace)
        return;
    const struct ms_dns_query_fact *f = &d->facts->queries[fact];
    char line[900];
    int n = snprintf(line, sizeof line, "%s %s: %s (%.1f ms)", f->type, f->name, f->status,
                     f->duration_ms);
    for (size_t i = 0; i < f->answers.count && n > 0 && (size_t)n < sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%s", i ? ", " : " ",
                      f->answers.items[i]);
    ms_trace_write(d->env->request, d->env->t0, "discovery", "--", line, strlen(line));
}

static void add_answer(struct ms_discover *d, size_t fact, const char *text)
{
    ms_strlist_append(&d->facts->queries[fact].answers, text, strlen(text), MS_DNS_MAX_RECORDS * 2);
}

/* ---- hosts ---- */

static struct host_entry *find_host(struct ms_discover *d, const char *name)
{
    for (size_t i = 0; i < d->host_count; i++)
        if (strcasecmp(d->hosts[i].name, name) == 0)
            return &d->hosts[i];
    return NULL;
}

static bool is_pinned(const struct ms_discover *d, const char *name)
{
    const struct ms_request *req = d->env->request;
    for (size_t i = 0; i < req->pin_count; i++)
        if (strcasecmp(req->pins[i].host, name) == 0)
            return true;
    return false;
}

static void start_waiting_candidates(struct ms_discover *d, const struct host_entry *h);

static void on_host_resolved(void *arg, enum ms_dns_status status,
                             const struct ms_dns_answer *answer)
{
    struct query_ctx *q = arg;
    if (!returned(q))
        return;
    struct ms_discover *d = q->d;
    if (!answer_query(q, status, answer ? answer->message : NULL))
        return;
    struct host_entry *h = &d->hosts[q->index];
    h->done = true;
    h->ok = status == MS_DNS_OK && answer && answer->count > 0;
    h->resolve_ms = d->facts->queries[q->fact].duration_ms;
    if (h->ok) {
        h->answer = *answer;
        for (size_t i = 0; i < answer->count; i++) {
            char text[64];
            ms_conn_format_address((const struct sockaddr *)&answer->addrs[i], text, sizeof text);
            add_answer(d, q->fact, text);
        }
    }
    trace_query(d, q->fact);
    if (d->planned)
        start_waiting_candidates(d, h);
    maybe_finish(d);
}

/* The host entry for name, asking DNS for it if nobody has. NULL when the table is full. */
static struct host_entry *want_host(struct ms_discover *d, const char *name)
{
    struct host_entry *h = find_host(d, name);
    if (h)
        return h;
    if (d->host_count >= MAX_HOSTS)
        return NULL;
    size_t index = d->host_count++;
    h = &d->hosts[index];
    *h = (struct host_entry){0};
    snprintf(h->name, sizeof h->name, "%s", name);
    if (is_pinned(d, name)) {
        h->pinned = h->done = h->ok = true;
        return h;
    }
    struct query_ctx *q = new_query(d, Q_HOST, index, name, "A+AAAA");
    h->asked = true;
    if (!q || ms_dns_resolve(d->env->dns, name, d->env->request->family, on_host_resolved, q) < 0) {
        if (q) {
            q->answered = q->returned = true;
            d->pending--;
        }
        h->done = true; /* treated as not resolving */
    }
    return h;
}

/* ---- SRV and MX ---- */

static void on_srv(void *arg, enum ms_dns_status status, const struct ms_dns_records *records)
{
    struct query_ctx *q = arg;
    if (!returned(q))
        return;
    struct ms_discover *d = q->d;
    if (!answer_query(q, status, records ? records->message : NULL))
        return;
    if (status == MS_DNS_OK && records) {
        d->records[q->index] = *records;
        d->srv_found[q->index] = records->count > 0;
        for (size_t i = 0; i < records->count; i++) {
            const struct ms_dns_record *r = &records->items[i];
            char text[300];
            snprintf(text, sizeof text, "%d %d %u %s", r->priority, r->weight, r->port, r->host);
            add_answer(d, q->fact, text);
            if (services[q->index].protocol == MS_PROTOCOL_SUBMISSION) {
                char line[340];
                snprintf(line, sizeof line, "%s: %s", services[q->index].label, text);
                ms_strlist_append(&d->facts->submission, line, strlen(line), 32);
            }
        }
    }
    trace_query(d, q->fact);
    plan_candidates(d);
    maybe_finish(d);
}

static void on_mx(void *arg, enum ms_dns_status status, const struct ms_dns_records *records)
{
    struct query_ctx *q = arg;
    if (!returned(q))
        return;
    struct ms_discover *d = q->d;
    if (!answer_query(q, status, records ? records->message : NULL))
        return;
    const char *best = NULL;
    int best_pref = 0;
    for (size_t i = 0; status == MS_DNS_OK && records && i < records->count; i++)
        if (strcmp(records->items[i].host, ".") != 0 &&
            (!best || records->items[i].priority < best_pref)) {
            best = records->items[i].host;
            best_pref = records->items[i].priority;
        }
    ms_autoconfig_mx(d->ac, best);
    if (status == MS_DNS_OK && records) {
        d->mx = *records;
        for (size_t i = 0; i < records->count; i++) {
            char text[300];
            snprintf(text, sizeof text, "%d %s", records->items[i].priority,
                     records->items[i].host);
            add_answer(d, q->fact, text);
        }
    }
    trace_query(d, q->fact);
    plan_candidates(d);
    maybe_finish(d);
}

/* ---- candidates ---- */

static bool wanted(const struct ms_discover *d, enum ms_protocol p)
{
    return d->env->request->want[p];
}

static uint16_t standard_port(const struct ms_discover *d, enum ms_protocol p, enum ms_security s)
{
    const struct ms_ports *ports = &d->env->request->ports;
    bool implicit = s == MS_SECURITY_IMPLICIT;
    switch (p) {
    case MS_PROTOCOL_IMAP: return implicit ? ports->imaps : ports->imap;
    case MS_PROTOCOL_POP3: return implicit ? ports->pop3s : ports->pop3;
    default: return implicit ? ports->submissions : ports->submission;
    }
}

/* The two families of candidates that share the caps fairly: 0 receiving (IMAP, POP3),
 * 1 sending (submission). */
static int family(enum ms_protocol p)
{
    return p == MS_PROTOCOL_SUBMISSION;
}

static bool wanted_family(const struct ms_discover *d, int fam)
{
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
        if (family(p) == fam && wanted(d, p))
            return true;
    return false;
}

static size_t count_family(const struct ms_discovery *f, int fam)
{
    size_t n = 0;
    for (size_t i = 0; i < f->candidate_count; i++)
        n += family(f->candidates[i].protocol) == fam;
    return n;
}

static void add_candidate(struct ms_discover *d, const char *host, uint16_t port,
                          enum ms_protocol protocol, enum ms_security security,
                          enum ms_source source, const char *source_name, int priority, int weight)
{
    struct ms_discovery *f = d->facts;
    for (size_t i = 0; i < f->candidate_count; i++) {
        const struct ms_candidate *c = &f->candidates[i];
        if (c->port == port && c->protocol == protocol && c->security == security &&
            strcasecmp(c->host, host) == 0)
            return; /* each endpoint is probed once, under its first (best) source */
    }
    if (f->candidate_count >= MAX_CANDIDATES)
        return;
    /* With both families wanted, each may fill half the list: many receiving candidates
     * (SRV records, guesses) never leave the sending side without room, nor the reverse. */
    int fam = family(protocol);
    if (wanted_family(d, !fam) && count_family(f, fam) >= MAX_CANDIDATES / 2)
        return;
    struct ms_candidate *c = &f->candidates[f->candidate_count++];
    *c = (struct ms_candidate){.port = port,
                               .protocol = protocol,
                               .security = security,
                               .source = source,
                               .priority = priority,
                               .weight = weight,
                               .endpoint_index = -1};
    snprintf(c->host, sizeof c->host, "%s", host);
    snprintf(c->source_name, sizeof c->source_name, "%s", source_name);
}

/* Guessed endpoints of a host: every wanted service of the protocols (MS_WANT bits) that
 * SRV did not speak for. */
static void add_guesses(struct ms_discover *d, const char *host, unsigned protocols,
                        enum ms_source source, const char *source_name, int priority)
{
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        enum ms_protocol p = services[svc].protocol;
        if (d->srv_found[svc] || !wanted(d, p) || !(protocols & MS_WANT(p)))
            continue;
        add_candidate(d, host, standard_port(d, p, services[svc].security), p,
                      services[svc].security, source, source_name, priority, -1);
    }
}

static int compare_records(const void *a, const void *b)
{
    const struct ms_dns_record *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->weight != y->weight) /* within a priority, the heavier record first */
        return x->weight > y->weight ? -1 : 1;
    return strcmp(x->host, y->host);
}

static void start_candidate(struct ms_discover *d, struct ms_candidate *c,
                            const struct host_entry *h)
{
    if (!h->ok) {
        snprintf(c->dropped, sizeof c->dropped, "does not resolve");
        if (c->source == MS_SOURCE_SRV) {
            char line[600];
            snprintf(line, sizeof line, "%s -> %s", c->source_name, c->host);
            if (!ms_strlist_has(&d->facts->srv_unresolvable, line))
                ms_strlist_append(&d->facts->srv_unresolvable, line, strlen(line), 32);
        }
        return;
    }
    struct ms_endpoint_spec spec = {.protocol = c->protocol,
                                    .security = c->security,
                                    .port = c->port,
                                    .source = c->source,
                                    .srv_priority = c->source == MS_SOURCE_SRV ? c->priority : -1,
                                    .srv_weight = c->source == MS_SOURCE_SRV ? c->weight : -1};
    snprintf(spec.host, sizeof spec.host, "%s", c->host);
    snprintf(spec.source_name, sizeof spec.source_name, "%s", c->source_name);
    c->endpoint_index =
        d->env->add_endpoint(d->env, &spec, h->pinned ? NULL : &h->answer, h->resolve_ms);
    if (c->endpoint_index < 0)
        snprintf(c->dropped, sizeof c->dropped, "limit reached");
}

static void start_waiting_candidates(struct ms_discover *d, const struct host_entry *h)
{
    struct ms_discovery *f = d->facts;
    for (size_t i = 0; i < f->candidate_count; i++) {
        struct ms_candidate *c = &f->candidates[i];
        if (c->endpoint_index < 0 && !c->dropped[0] && strcasecmp(c->host, h->name) == 0)
            start_candidate(d, c, h);
    }
}

/* Once SRV and MX have answered: order the candidates, cap them, and start each whose host
 * is known; the others start when their host resolves. */
static void plan_candidates(struct ms_discover *d)
{
    struct ms_discovery *f = d->facts;
    if (d->planned || d->finished)
        return;
    for (size_t i = 0; i < f->query_count; i++)
        if (d->queries[i]->kind != Q_HOST && !d->queries[i]->answered)
            return;
    d->planned = true;

    for (int svc = 0; svc < SVC_COUNT; svc++) {
        struct ms_dns_records *r = &d->records[svc];
        char source[300];
        snprintf(source, sizeof source, "%s.%s", services[svc].label, f->domain);
        qsort(r->items, r->count, sizeof r->items[0], compare_records);
        for (size_t i = 0; i < r->count; i++) {
            if (strcmp(r->items[i].host, ".") == 0) {
                if (!ms_strlist_has(&f->srv_not_offered, services[svc].label))
                    ms_strlist_append(&f->srv_not_offered, services[svc].label,
                                      strlen(services[svc].label), SVC_COUNT);
                continue;
            }
            if (!wanted(d, services[svc].protocol) || r->items[i].port == 0 ||
                r->items[i].port > 65535)
                continue;
            add_candidate(d, r->items[i].host, (uint16_t)r->items[i].port, services[svc].protocol,
                          services[svc].security, MS_SOURCE_SRV, source, r->items[i].priority,
                          r->items[i].weight);
        }
    }
    qsort(d->mx.items, d->mx.count, sizeof d->mx.items[0], compare_records);
    for (size_t i = 0; i < d->mx.count; i++) {
        char source[300];
        snprintf(source, sizeof source, "%s MX", f->domain);
        if (strcmp(d->mx.items[i].host, ".") != 0) /* RFC 7505 null MX */
            add_guesses(d, d->mx.items[i].host, MS_WANT_RECEIVE, MS_SOURCE_MX, source,
                        d->mx.items[i].priority);
    }
    for (size_t i = 0; i < sizeof conventional / sizeof conventional[0]; i++) {
        char host[MS_MAX_HOST + 8];
        snprintf(host, sizeof host, "%s%s", conventional[i].prefix, f->domain);
        if (strlen(host) <= MS_MAX_HOST)
            add_guesses(d, host, conventional[i].protocols, MS_SOURCE_CONVENTIONAL,
                        "conventional name", -1);
    }
    /* Sending: the MX hosts come last (they take mail from other servers, and only some
     * also take submission). */
    for (size_t i = 0; i < d->mx.count; i++) {
        char source[300];
        snprintf(source, sizeof source, "%s MX", f->domain);
        if (strcmp(d->mx.items[i].host, ".") != 0)
            add_guesses(d, d->mx.items[i].host, MS_WANT(MS_PROTOCOL_SUBMISSION), MS_SOURCE_MX,
                        source, d->mx.items[i].priority);
    }

    /* Keep the best of each family within its fair share of the endpoint cap, taking the
     * families in turns so that neither fills the host table first. */
    size_t n[2] = {count_family(f, 0), count_family(f, 1)}, quota[2], kept[2] = {0, 0};
    size_t next[2] = {0, 0};
    ms_plan_fair_shares(n, MS_DISCOVERY_MAX_ENDPOINTS, quota);
    for (int turn = 0; next[0] < f->candidate_count || next[1] < f->candidate_count; turn = !turn) {
        size_t i = next[turn];
        while (i < f->candidate_count && family(f->candidates[i].protocol) != turn)
            i++;
        next[turn] = i + 1;
        if (i >= f->candidate_count)
            continue;
        struct ms_candidate *c = &f->candidates[i];
        struct host_entry *h = kept[turn] < quota[turn] ? want_host(d, c->host) : NULL;
        if (!h) {
            snprintf(c->dropped, sizeof c->dropped, "limit reached");
            continue;
        }
        kept[turn]++;
        if (h->done)
            start_candidate(d, c, h);
    }
}

static void maybe_finish(struct ms_discover *d)
{
    if (d->finished || !d->planned || d->pending > 0)
        return;
    if (!d->dns_done) {
        d->dns_done = true;
        d->facts->duration_ms = (ms_loop_now() - d->t0) * 1000.0;
    }
    if (ms_autoconfig_busy(d->ac)) /* its servers may still become candidates */
        return;
    d->finished = true;
    ms_session_env_release(d->env);
}

/* ---- what mail programs fetch (probe/autoconfig.c) ---- */

static size_t kept_candidates(const struct ms_discover *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->facts->candidate_count; i++)
        n += d->facts->candidates[i].dropped[0] == '\0';
    return n;
}

/* A source named servers: each IMAP, POP3 or SMTP (submission) one not yet a candidate
 * becomes one (a plaintext setting is probed with STARTTLS on its port: whether the server
 * could do better; SMTP on port 25 too, and the report says port 25 is not for mail
 * programs). */
static void on_published(void *arg, const struct ms_pub_source *src)
{
    struct ms_discover *d = arg;
    struct ms_discovery *f = d->facts;
    if (d->finished)
        return;
    enum ms_source source =
        src->method >= MS_PUB_AUTODISCOVER_DOMAIN ? MS_SOURCE_AUTODISCOVER : MS_SOURCE_AUTOCONFIG;
    const char *name = src->final_url[0] ? src->final_url : src->url;
    for (size_t i = 0; i < src->server_count; i++) {
        const struct ms_pub_server *ps = &src->servers[i];
        enum ms_protocol p;
        if (strcmp(ps->type, "imap") == 0)
            p = MS_PROTOCOL_IMAP;
        else if (strcmp(ps->type, "pop3") == 0)
            p = MS_PROTOCOL_POP3;
        else if (strcmp(ps->type, "smtp") == 0)
            p = MS_PROTOCOL_SUBMISSION;
        else
            continue;
        if (!wanted(d, p) || !ps->host[0] || strlen(ps->host) > MS_MAX_HOST)
            continue;
        enum ms_security sec =
            ps->security == MS_SECURITY_NONE ? MS_SECURITY_STARTTLS : ps->security;
        size_t before = f->candidate_count, kept = kept_candidates(d);
        add_candidate(d, ps->host, ps->port, p, sec, source, name, (int)i, -1);
        if (f->candidate_count == before || !d->planned)
            continue; /* probed already, or plan_candidates will take it */
        struct ms_candidate *c = &f->candidates[before];
        struct host_entry *h = kept < MS_DISCOVERY_MAX_ENDPOINTS ? want_host(d, c->host) : NULL;
        if (!h) {
            snprintf(c->dropped, sizeof c->dropped, "limit reached");
            continue;
        }
        if (h->done)
            start_candidate(d, c, h);
    }
}

static void on_published_done(void *arg)
{
    maybe_finish(arg);
}

void ms_discover_abort(struct ms_discover *d)
{
    if (!d || d->finished)
        return;
    ms_autoconfig_abort(d->ac);
    for (size_t i = 0; i < d->facts->query_count; i++) {
        struct query_ctx *q = d->queries[i];
        if (q->answered)
            continue;
        answer_query(q, MS_DNS_TIMEOUT, "no answer before the run's deadline");
    }
    d->planned = true;
    maybe_finish(d);
}

int ms_discover_start(struct ms_session_env *env, struct ms_discovery *facts,
                      struct ms_discover **out)
{
    const struct ms_request *req = env->request;
    struct ms_discover *d = calloc(1, sizeof *d);
    if (!d)
        return MS_ENOMEM;
    facts->queries = calloc(MAX_QUERIES, sizeof *facts->queries);
    facts->candidates = calloc(MAX_CANDIDATES, sizeof *facts->candidates);
    if (!facts->queries || !facts->candidates) {
        free(d);
        return MS_ENOMEM;
    }
    facts->performed = true;
    if (env->request->dns_servers[0])
        snprintf(facts->resolver, sizeof facts->resolver, "%.150s", env->request->dns_servers);
    else
        snprintf(facts->resolver, sizeof facts->resolver,
                 "this machine's resolvers (/etc/resolv.conf)");
    snprintf(facts->domain, sizeof facts->domain, "%s", req->discover_domain);
    snprintf(facts->user, sizeof facts->user, "%s", req->discover_user);
    d->env = env;
    d->facts = facts;
    d->t0 = ms_loop_now();
    env->open_sessions++;
    *out = d;
    if (env->need_dns(env) < 0) {
        ms_discover_abort(d);
        return 0;
    }
    /* What mail programs fetch, beside the DNS questions (never with --no-autoconfig). */
    if (!req->no_autoconfig) {
        struct ms_autoconfig_hooks hooks = {on_published, on_published_done, d};
        if (ms_autoconfig_start(env, &facts->published, facts->domain, facts->user, &hooks,
                                &d->ac) < 0)
            d->ac = NULL; /* out of memory: discovery goes on without it */
    }
    /* Every question at once: SRV for each service, MX, and the conventional names. */
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        if (!wanted(d, services[svc].protocol))
            continue;
        char name[300];
        snprintf(name, sizeof name, "%s.%s", services[svc].label, facts->domain);
        struct query_ctx *q = new_query(d, Q_SRV, (size_t)svc, name, "SRV");
        if (q && ms_dns_query(env->dns, name, MS_DNS_SRV, on_srv, q) < 0) {
            q->returned = true;
            answer_query(q, MS_DNS_ERROR, "out of memory");
        }
    }
    struct query_ctx *q = new_query(d, Q_MX, 0, facts->domain, "MX");
    if (q && ms_dns_query(env->dns, facts->domain, MS_DNS_MX, on_mx, q) < 0) {
        q->returned = true;
        answer_query(q, MS_DNS_ERROR, "out of memory");
        q = NULL;
    }
    if (!q)
        ms_autoconfig_mx(d->ac, NULL); /* no MX answer will come */
    for (size_t i = 0; i < sizeof conventional / sizeof conventional[0]; i++) {
        bool any = false;
        for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
            any = any || (req->want[p] && (conventional[i].protocols & MS_WANT(p)));
        if (!any)
            continue;
        char host[MS_MAX_HOST + 8];
        snprintf(host, sizeof host, "%s%s", conventional[i].prefix, facts->domain);
        if (strlen(host) <= MS_MAX_HOST)
            want_host(d, host);
    }
    plan_candidates(d); /* in case every answer came synchronously */
    maybe_finish(d);
    return 0;
}

void ms_discover_free(struct ms_discover *d)
{
    if (!d)
        return;
    ms_autoconfig_free(d->ac);
    for (size_t i = 0; i < d->query_count; i++) {
        if (d->queries[i]->returned)
            free(d->queries[i]);
        else
            d->queries[i]->d = NULL; /* its callback frees it */
    }
    free(d);
}
