/* What mail programs are told (issue 16): the settings autoconfig files and Autodiscover
 * responses publish, checked against the endpoints that were probed. Decisions only: the
 * words are in catalogue.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/assess_internal.h"

#define MAX_LISTED 3 /* sources named in one message */

static bool is_autodiscover(enum ms_pub_method m)
{
    return m >= MS_PUB_AUTODISCOVER_DOMAIN;
}

/* The sources in the order each program uses them: Thunderbird, then Outlook. */
static const enum ms_pub_method program_order[2][7] = {
    {MS_PUB_AUTOCONFIG, MS_PUB_WELL_KNOWN, MS_PUB_AUTOCONFIG_HTTP, MS_PUB_WELL_KNOWN_HTTP,
     MS_PUB_ISPDB, MS_PUB_MX_AUTOCONFIG, MS_PUB_MX_ISPDB},
    {MS_PUB_AUTODISCOVER_DOMAIN, MS_PUB_AUTODISCOVER, MS_PUB_AUTODISCOVER_REDIRECT,
     MS_PUB_AUTODISCOVER_SRV, MS_PUB_METHOD_COUNT, MS_PUB_METHOD_COUNT, MS_PUB_METHOD_COUNT},
};

static const struct ms_pub_source *source(const struct ms_result *r, int m)
{
    const struct ms_published *p = &r->discovery.published;
    if (!p->performed || !p->sources || m < 0 || m >= MS_PUB_METHOD_COUNT)
        return NULL;
    return &p->sources[m];
}

static bool has_settings(const struct ms_pub_source *s)
{
    return s && s->outcome == MS_PUB_SETTINGS && s->server_count > 0;
}

/* The protocol of a setting (SMTP: submission); false for a kind mailscope does not probe. */
static bool setting_protocol(const struct ms_pub_server *ps, enum ms_protocol *p)
{
    if (strcmp(ps->type, "imap") == 0)
        *p = MS_PROTOCOL_IMAP;
    else if (strcmp(ps->type, "pop3") == 0)
        *p = MS_PROTOCOL_POP3;
    else if (strcmp(ps->type, "smtp") == 0)
        *p = MS_PROTOCOL_SUBMISSION;
    else
        return false;
    return true;
}

/* The endpoint that checked a setting (a plaintext one is probed with STARTTLS), or -1. */
static long setting_endpoint(const struct ms_result *r, const struct ms_pub_server *ps)
{
    enum ms_protocol p;
    if (!setting_protocol(ps, &p))
        return -1;
    enum ms_security sec = ps->security == MS_SECURITY_NONE ? MS_SECURITY_STARTTLS : ps->security;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        if (ep->protocol == p && ep->security == sec && ep->port == ps->port &&
            strcasecmp(ep->host, ps->host) == 0)
            return (long)i;
    }
    return -1;
}

/* Why a setting's candidate was not probed, or NULL. */
static const char *candidate_dropped(const struct ms_result *r, const struct ms_pub_server *ps)
{
    enum ms_protocol p;
    if (!setting_protocol(ps, &p))
        return NULL;
    enum ms_security sec = ps->security == MS_SECURITY_NONE ? MS_SECURITY_STARTTLS : ps->security;
    for (size_t k = 0; k < r->discovery.candidate_count; k++) {
        const struct ms_candidate *cd = &r->discovery.candidates[k];
        if (cd->protocol == p && cd->security == sec && cd->port == ps->port &&
            strcasecmp(cd->host, ps->host) == 0 && cd->dropped[0])
            return cd->dropped;
    }
    return NULL;
}

/* Endpoint i works: secure, and no critical finding about the server. */
static bool endpoint_ok(const struct ms_result *r, const struct ms_finding *f, size_t n, long i)
{
    if (i < 0 || !ms_assess_endpoint_secure(&r->endpoints[i]))
        return false;
    for (size_t k = 0; k < n; k++)
        if (f[k].endpoint_index == i && f[k].severity == MS_SEVERITY_CRITICAL &&
            !ms_assess_is_account(&f[k]))
            return false;
    return true;
}

static void check_setting(const struct ms_assess_ctx *c, const struct ms_finding *f, size_t n,
                          const struct ms_pub_server *ps, struct ms_pub_verdict *v)
{
    const struct ms_result *r = c->r;
    enum ms_protocol p = MS_PROTOCOL_IMAP;
    *v = (struct ms_pub_verdict){.check = MS_PUB_NOT_CHECKED, .endpoint = -1};
    if (!setting_protocol(ps, &p)) {
        ms_assess_put(v->words, sizeof v->words, "not checked (a kind of server not probed)");
        return;
    }
    long i = setting_endpoint(r, ps);
    v->endpoint = i;
    if (i < 0) {
        const char *dropped = candidate_dropped(r, ps);
        if (dropped && strcmp(dropped, "does not resolve") == 0) {
            v->check = MS_PUB_BROKEN;
            ms_assess_put(v->words, sizeof v->words, "%s does not resolve", ps->host);
        } else {
            ms_assess_put(v->words, sizeof v->words, "not checked (%s)",
                          dropped       ? dropped
                          : !r->want[p] ? "not asked for (--protocols)"
                                        : "not probed");
        }
        return;
    }
    bool ok = endpoint_ok(r, f, n, i);
    const char *reason = ok ? NULL : ms_assess_endpoint_reason(c, f, n, (size_t)i);
    if (ps->security == MS_SECURITY_NONE) {
        v->check = MS_PUB_INSECURE;
        if (ok)
            ms_assess_put(v->words, sizeof v->words,
                          "insecure: told to use no encryption, while the server offers %s",
                          ms_assess_starttls_cmd(p));
        else
            ms_assess_put(v->words, sizeof v->words, "insecure: no encryption, and it %s", reason);
        return;
    }
    v->check = ok ? MS_PUB_WORKS : MS_PUB_BROKEN;
    if (ok && p == MS_PROTOCOL_SUBMISSION && ps->port == 25) /* the endpoint has the finding */
        ms_assess_put(v->words, sizeof v->words,
                      "works here, but port 25 is for mail between servers and often blocked "
                      "for mail programs");
    else
        ms_assess_put(v->words, sizeof v->words, "%s", ok ? "works" : reason);
}

/* "the autoconfig file https://..." / "Autodiscover https://..." */
static void source_label(const struct ms_pub_source *s, char *buf, size_t cap)
{
    const char *url = s->final_url[0] ? s->final_url : s->url;
    if (is_autodiscover(s->method))
        ms_assess_put(buf, cap, "Autodiscover (%s)", url);
    else if (s->method == MS_PUB_ISPDB || s->method == MS_PUB_MX_ISPDB)
        ms_assess_put(buf, cap, "the autoconfig database entry %s", url);
    else
        ms_assess_put(buf, cap, "the autoconfig file %s", url);
}

static const char *security_words(enum ms_security s)
{
    return s == MS_SECURITY_IMPLICIT ? "SSL/TLS" : s == MS_SECURITY_STARTTLS ? "STARTTLS" : "none";
}

/* The best working endpoint of protocol p, as "host:port (SSL/TLS)", or "". */
static void suggestion(const struct ms_assess_ctx *c, enum ms_protocol p, char *buf, size_t cap)
{
    const struct ms_result *r = c->r;
    long best = -1;
    buf[0] = '\0';
    for (size_t i = 0; i < r->endpoint_count; i++) {
        if (r->endpoints[i].protocol != p || !endpoint_ok(r, c->f, c->n, (long)i))
            continue;
        if (best < 0 || ms_assess_rank_cmp(r, NULL, i, (size_t)best) < 0)
            best = (long)i;
    }
    if (best >= 0)
        ms_assess_put(buf, cap, "%s:%u (%s)", r->endpoints[best].host,
                      (unsigned)r->endpoints[best].port,
                      security_words(r->endpoints[best].security));
}

/* A published setting and the sources that name it. */
struct group {
    const struct ms_pub_server *ps;
    struct ms_pub_verdict v;
    char sources[700];
    size_t count;
};

static bool same_setting(const struct ms_pub_server *a, const struct ms_pub_server *b)
{
    return strcmp(a->type, b->type) == 0 && a->port == b->port && a->security == b->security &&
           strcasecmp(a->host, b->host) == 0;
}

/* Group the settings (incoming and outgoing) whose check is want, across sources. Returns the
 * count. */
static size_t group_settings(const struct ms_assess_ctx *c, enum ms_pub_check want, struct group *g,
                             size_t max)
{
    size_t n = 0;
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        const struct ms_pub_source *s = source(c->r, m);
        if (!has_settings(s))
            continue;
        for (size_t k = 0; k < s->server_count; k++) {
            const struct ms_pub_server *ps = &s->servers[k];
            struct ms_pub_verdict v;
            check_setting(c, c->f, c->n, ps, &v);
            if (v.check != want)
                continue;
            size_t j = 0;
            while (j < n && !same_setting(g[j].ps, ps))
                j++;
            if (j == n) {
                if (n == max)
                    continue;
                g[n++] = (struct group){.ps = ps, .v = v};
            }
            char label[400];
            source_label(s, label, sizeof label);
            if (strstr(g[j].sources, label))
                continue;
            if (g[j].count < MAX_LISTED)
                ms_assess_app(g[j].sources, sizeof g[j].sources, "%s%s", g[j].count ? " and " : "",
                              label);
            g[j].count++;
            if (g[j].count == 1 && label[0] == 't') /* a sentence starts with a capital */
                g[j].sources[0] = 'T';
        }
    }
    return n;
}

/* The variables a group's finding shares: sources, several, proto, host, port, suggest. */
static void group_vars(const struct ms_assess_ctx *c, const struct group *g,
                       struct ms_assess_vars *vs, char *port, size_t port_cap, char *suggest,
                       size_t suggest_cap)
{
    enum ms_protocol p = MS_PROTOCOL_IMAP;
    setting_protocol(g->ps, &p);
    snprintf(port, port_cap, "%u", (unsigned)g->ps->port);
    suggestion(c, p, suggest, suggest_cap);
    ms_assess_var(vs, "sources", g->sources);
    ms_assess_var(vs, "several", g->count > 1 ? "yes" : "");
    ms_assess_var(vs, "proto", ms_assess_proto_upper(p));
    ms_assess_var(vs, "host", g->ps->host);
    ms_assess_var(vs, "port", port);
    ms_assess_var(vs, "suggest", suggest);
}

static int judge_broken(struct ms_assess_ctx *c)
{
    struct group g[16];
    size_t n = group_settings(c, MS_PUB_BROKEN, g, 16);
    for (size_t k = 0; k < n; k++) {
        char port[16], suggest[320];
        struct ms_assess_vars vs = {.n = 0};
        group_vars(c, &g[k], &vs, port, sizeof port, suggest, sizeof suggest);
        ms_assess_var(&vs, "security", security_words(g[k].ps->security));
        ms_assess_var(&vs, "reason", g[k].v.words);
        int rc =
            ms_assess_emit(c, MS_F_AUTOCONFIG_POINTS_TO_BROKEN, MS_SEV_DEFAULT, g[k].v.endpoint,
                           MS_MSG(MS_F_AUTOCONFIG_POINTS_TO_BROKEN, MS_T_DEFAULT),
                           MS_REM(MS_F_AUTOCONFIG_POINTS_TO_BROKEN, MS_T_DEFAULT), &vs);
        if (rc)
            return rc;
    }
    return 0;
}

static int judge_insecure(struct ms_assess_ctx *c)
{
    struct group g[16];
    size_t n = group_settings(c, MS_PUB_INSECURE, g, 16);
    for (size_t k = 0; k < n; k++) {
        enum ms_protocol p = MS_PROTOCOL_IMAP;
        setting_protocol(g[k].ps, &p);
        char port[16], suggest[320];
        bool tls = endpoint_ok(c->r, c->f, c->n, g[k].v.endpoint);
        struct ms_assess_vars vs = {.n = 0};
        group_vars(c, &g[k], &vs, port, sizeof port, suggest, sizeof suggest);
        ms_assess_var(&vs, "text", g[k].ps->security_text);
        ms_assess_var(&vs, "tls", tls ? ms_assess_starttls_cmd(p) : "");
        int rc = ms_assess_emit(c, MS_F_AUTOCONFIG_INSECURE, MS_SEV_DEFAULT, -1,
                                MS_MSG(MS_F_AUTOCONFIG_INSECURE, MS_T_DEFAULT),
                                MS_REM(MS_F_AUTOCONFIG_INSECURE, MS_T_DEFAULT), &vs);
        if (rc)
            return rc;
    }
    /* The file comes only over plain http: Thunderbird takes it all the same. */
    if (has_settings(source(c->r, MS_PUB_AUTOCONFIG)) ||
        has_settings(source(c->r, MS_PUB_WELL_KNOWN)))
        return 0;
    const struct ms_pub_source *http =
        has_settings(source(c->r, MS_PUB_AUTOCONFIG_HTTP))   ? source(c->r, MS_PUB_AUTOCONFIG_HTTP)
        : has_settings(source(c->r, MS_PUB_WELL_KNOWN_HTTP)) ? source(c->r, MS_PUB_WELL_KNOWN_HTTP)
                                                             : NULL;
    if (!http)
        return 0;
    struct ms_assess_vars vs = {.n = 0};
    ms_assess_var(&vs, "domain", c->r->discovery.domain);
    ms_assess_var(&vs, "url", http->final_url[0] ? http->final_url : http->url);
    return ms_assess_emit(c, MS_F_AUTOCONFIG_INSECURE, MS_SEV_DEFAULT, -1,
                          MS_MSG(MS_F_AUTOCONFIG_INSECURE, MS_T_INSECURE_HTTP_ONLY),
                          MS_REM(MS_F_AUTOCONFIG_INSECURE, MS_T_INSECURE_HTTP_ONLY), &vs);
}

/* The source program k (0 Thunderbird, 1 Outlook) would use, or -1: the first with an
 * incoming server (a program sets an account up from one; its outgoing server comes along). */
static int program_source(const struct ms_result *r, int k)
{
    for (size_t i = 0; i < 7; i++) {
        enum ms_pub_method m = program_order[k][i];
        if (m == MS_PUB_METHOD_COUNT)
            break;
        const struct ms_pub_source *s = source(r, m);
        if (!has_settings(s))
            continue;
        for (size_t j = 0; j < s->server_count; j++)
            if (strcmp(s->servers[j].type, "smtp") != 0)
                return (int)m;
    }
    return -1;
}

/* The first setting of protocol p in source m, or NULL. */
static const struct ms_pub_server *first_of(const struct ms_result *r, int m, enum ms_protocol p)
{
    const struct ms_pub_source *s = source(r, m);
    if (!has_settings(s))
        return NULL;
    for (size_t j = 0; j < s->server_count; j++) {
        enum ms_protocol q;
        if (setting_protocol(&s->servers[j], &q) && q == p)
            return &s->servers[j];
    }
    return NULL;
}

static int judge_disagrees(struct ms_assess_ctx *c)
{
    const struct ms_result *r = c->r;
    for (int pi = 0; pi < MS_PROTOCOL_COUNT; pi++) {
        enum ms_protocol p = (enum ms_protocol)pi;
        if (!r->want[p]) /* not asked for (--protocols): its settings are not checked */
            continue;
        struct {
            char label[400];
            const char *host;
            unsigned port;
            bool works;
        } said[3];
        size_t n = 0;
        for (int k = 0; k < 2; k++) {
            int m = program_source(r, k);
            const struct ms_pub_server *ps = m >= 0 ? first_of(r, m, p) : NULL;
            if (!ps)
                continue;
            struct ms_pub_verdict v;
            check_setting(c, c->f, c->n, ps, &v);
            const struct ms_pub_source *s = source(r, m);
            ms_assess_put(said[n].label, sizeof said[n].label, "%s (%s)",
                          k == 0 ? "autoconfig" : "Autodiscover",
                          s->final_url[0] ? s->final_url : s->url);
            said[n].host = ps->host;
            said[n].port = ps->port;
            said[n].works = v.check == MS_PUB_WORKS;
            n++;
        }
        /* SRV: the record that names what a program is told, else the best one (a domain may
         * publish both services of a protocol: _submissions and _submission) */
        const struct ms_candidate *srv = NULL;
        for (size_t k = 0; k < r->discovery.candidate_count; k++) {
            const struct ms_candidate *cd = &r->discovery.candidates[k];
            if (cd->source != MS_SOURCE_SRV || cd->protocol != p)
                continue;
            bool named = false;
            for (size_t j = 0; j < n && !named; j++)
                named = cd->port == said[j].port && strcasecmp(cd->host, said[j].host) == 0;
            if (!srv || named)
                srv = cd;
            if (named)
                break;
        }
        if (srv) {
            ms_assess_put(said[n].label, sizeof said[n].label, "SRV (%s)", srv->source_name);
            said[n].host = srv->host;
            said[n].port = srv->port;
            said[n].works =
                srv->endpoint_index >= 0 && endpoint_ok(r, c->f, c->n, srv->endpoint_index);
            n++;
        }
        bool differ = false, all_work = true;
        for (size_t k = 0; k < n; k++) {
            all_work &= said[k].works;
            if (k && (said[k].port != said[0].port || strcasecmp(said[k].host, said[0].host)))
                differ = true;
        }
        if (!differ)
            continue;
        char list[1400] = "", suggest[320];
        for (size_t k = 0; k < n; k++)
            ms_assess_app(list, sizeof list, "%s%s says %s:%u",
                          k ? (k + 1 == n ? " and " : ", ") : "", said[k].label, said[k].host,
                          said[k].port);
        suggestion(c, p, suggest, sizeof suggest);
        struct ms_assess_vars vs = {.n = 0};
        ms_assess_var(&vs, "proto", ms_assess_proto_upper(p));
        ms_assess_var(&vs, "list", list);
        ms_assess_var(&vs, "suggest", suggest);
        int rc = ms_assess_emit(c, MS_F_AUTOCONFIG_DISAGREES,
                                all_work ? MS_SEVERITY_INFO : MS_SEV_DEFAULT, -1,
                                MS_MSG(MS_F_AUTOCONFIG_DISAGREES, MS_T_DEFAULT),
                                MS_REM(MS_F_AUTOCONFIG_DISAGREES, MS_T_DEFAULT), &vs);
        if (rc)
            return rc;
    }
    return 0;
}

static int judge_invalid(struct ms_assess_ctx *c)
{
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        const struct ms_pub_source *s = source(c->r, m);
        if (!s || s->outcome != MS_PUB_INVALID)
            continue;
        char line[24] = "", column[24] = "";
        if (s->error_line)
            snprintf(line, sizeof line, "%lu", s->error_line);
        if (s->error_line && s->error_column)
            snprintf(column, sizeof column, "%lu", s->error_column);
        struct ms_assess_vars vs = {.n = 0};
        ms_assess_var(&vs, "kind",
                      is_autodiscover(s->method) ? "The Autodiscover response"
                                                 : "The autoconfig file");
        ms_assess_var(&vs, "url", s->final_url[0] ? s->final_url : s->url);
        ms_assess_var(&vs, "error", s->message);
        ms_assess_var(&vs, "line", line);
        ms_assess_var(&vs, "column", column);
        int rc = ms_assess_emit(c, MS_F_AUTOCONFIG_INVALID, MS_SEV_DEFAULT, -1,
                                MS_MSG(MS_F_AUTOCONFIG_INVALID, MS_T_DEFAULT),
                                MS_REM(MS_F_AUTOCONFIG_INVALID, MS_T_DEFAULT), &vs);
        if (rc)
            return rc;
    }
    return 0;
}

static int judge_redirects(struct ms_assess_ctx *c)
{
    for (int m = MS_PUB_AUTODISCOVER_DOMAIN; m < MS_PUB_METHOD_COUNT; m++) {
        const struct ms_pub_source *s = source(c->r, m);
        if (!s || !s->redirected_to[0])
            continue;
        bool told = false; /* one finding per target */
        for (int e = MS_PUB_AUTODISCOVER_DOMAIN; e < m && !told; e++) {
            const struct ms_pub_source *o = source(c->r, e);
            told = o && strcasecmp(o->redirected_to, s->redirected_to) == 0;
        }
        if (told)
            continue;
        struct ms_assess_vars vs = {.n = 0};
        ms_assess_var(&vs, "domain", c->r->discovery.domain);
        ms_assess_var(&vs, "url", s->url);
        ms_assess_var(&vs, "target", s->redirected_to);
        int rc = ms_assess_emit(c, MS_F_AUTODISCOVER_REDIRECT_OTHER_DOMAIN, MS_SEV_DEFAULT, -1,
                                MS_MSG(MS_F_AUTODISCOVER_REDIRECT_OTHER_DOMAIN, MS_T_DEFAULT),
                                MS_REM(MS_F_AUTODISCOVER_REDIRECT_OTHER_DOMAIN, MS_T_DEFAULT), &vs);
        if (rc)
            return rc;
    }
    return 0;
}

/* --user signed in: does each source tell mail programs to use that name? */
static int judge_username(struct ms_assess_ctx *c)
{
    const struct ms_result *r = c->r;
    if (!r->credentials_given || !r->user[0])
        return 0;
    for (int pi = 0; pi < MS_PROTOCOL_COUNT; pi++) {
        enum ms_protocol p = (enum ms_protocol)pi;
        bool signed_in = false;
        for (size_t i = 0; i < r->endpoint_count; i++)
            signed_in |= r->endpoints[i].protocol == p && r->endpoints[i].auth.ok;
        if (!signed_in)
            continue;
        struct group g[4];
        size_t n = 0;
        for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
            const struct ms_pub_server *ps = first_of(r, m, p);
            if (!ps || !ps->username[0] || strcasecmp(ps->username, r->user) == 0)
                continue;
            size_t j = 0;
            while (j < n && strcasecmp(g[j].ps->username, ps->username) != 0)
                j++;
            if (j == n) {
                if (n == 4)
                    continue;
                g[n++] = (struct group){.ps = ps};
            }
            char label[400];
            source_label(source(r, m), label, sizeof label);
            if (g[j].count < MAX_LISTED)
                ms_assess_app(g[j].sources, sizeof g[j].sources, "%s%s", g[j].count ? " and " : "",
                              label);
            if (g[j].count++ == 0 && label[0] == 't')
                g[j].sources[0] = 'T';
        }
        char address[600];
        ms_assess_put(address, sizeof address, "%s@%s", r->discovery.user, r->discovery.domain);
        const char *fix = strcasecmp(r->user, address) == 0             ? "%EMAILADDRESS%"
                          : strcasecmp(r->user, r->discovery.user) == 0 ? "%EMAILLOCALPART%"
                                                                        : "";
        for (size_t k = 0; k < n; k++) {
            struct ms_assess_vars vs = {.n = 0};
            ms_assess_var(&vs, "sources", g[k].sources);
            ms_assess_var(&vs, "several", g[k].count > 1 ? "yes" : "");
            ms_assess_var(&vs, "proto", ms_assess_proto_upper(p));
            ms_assess_var(&vs, "told", g[k].ps->username);
            ms_assess_var(&vs, "pattern",
                          strcmp(g[k].ps->username_pattern, g[k].ps->username) != 0
                              ? g[k].ps->username_pattern
                              : "");
            ms_assess_var(&vs, "user", r->user);
            ms_assess_var(&vs, "fix", fix);
            int rc = ms_assess_emit(c, MS_F_AUTOCONFIG_USERNAME_PATTERN, MS_SEV_DEFAULT, -1,
                                    MS_MSG(MS_F_AUTOCONFIG_USERNAME_PATTERN, MS_T_DEFAULT),
                                    MS_REM(MS_F_AUTOCONFIG_USERNAME_PATTERN, MS_T_DEFAULT), &vs);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int ms_assess_judge_autoconfig(struct ms_assess_ctx *c)
{
    const struct ms_published *p = &c->r->discovery.published;
    int rc;
    if (!p->performed || !p->sources)
        return 0;
    if ((rc = judge_broken(c)) || (rc = judge_insecure(c)) || (rc = judge_disagrees(c)) ||
        (rc = judge_invalid(c)) || (rc = judge_redirects(c)) || (rc = judge_username(c)))
        return rc;
    return 0;
}

/* ---- after the judges: each setting's verdict, and what `recommended` says about them ---- */

static bool matches_endpoint(const struct ms_pub_server *ps, const struct ms_endpoint_result *ep)
{
    return ps->port == ep->port && ps->security == ep->security &&
           strcasecmp(ps->host, ep->host) == 0;
}

int ms_assess_autoconfig_verdicts(const struct ms_assess_ctx *c, struct ms_assessment *a)
{
    const struct ms_result *r = c->r;
    a->pub_program[0] = a->pub_program[1] = -1;
    const struct ms_published *p = &r->discovery.published;
    if (!p->performed || !p->sources)
        return 0;
    size_t total = 0;
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        a->pub_first[m] = total;
        if (p->sources[m].outcome == MS_PUB_SETTINGS)
            total += p->sources[m].server_count;
    }
    a->pub_verdicts = calloc(total ? total : 1, sizeof *a->pub_verdicts);
    if (!a->pub_verdicts)
        return MS_ENOMEM;
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++)
        if (p->sources[m].outcome == MS_PUB_SETTINGS)
            for (size_t k = 0; k < p->sources[m].server_count; k++)
                check_setting(c, a->findings, a->finding_count, &p->sources[m].servers[k],
                              &a->pub_verdicts[a->pub_first[m] + k]);
    for (int k = 0; k < 2; k++)
        a->pub_program[k] = program_source(r, k);
    /* What Thunderbird and Outlook would configure, beside what mailscope recommends. */
    for (int pi = 0; pi < MS_PROTOCOL_COUNT; pi++) {
        enum ms_protocol proto = (enum ms_protocol)pi;
        const struct ms_endpoint_result *rec = ms_assess_recommended(r, a, proto);
        if (!rec)
            continue;
        for (int k = 0; k < 2; k++) {
            int m = a->pub_program[k];
            const struct ms_pub_server *ps = m >= 0 ? first_of(r, m, proto) : NULL;
            if (!ps || matches_endpoint(ps, rec))
                continue;
            const struct ms_pub_verdict *v =
                &a->pub_verdicts[a->pub_first[m] + (size_t)(ps - p->sources[m].servers)];
            if (v->check == MS_PUB_NOT_CHECKED)
                continue;
            bool relay = proto == MS_PROTOCOL_SUBMISSION && ps->port == 25;
            const char *why =
                v->check == MS_PUB_INSECURE ? "sends passwords without encryption"
                : v->check == MS_PUB_WORKS && !relay
                    ? (ps->security == MS_SECURITY_STARTTLS && rec->security == MS_SECURITY_IMPLICIT
                           ? "works too, but implicit TLS is preferred (RFC 8314)"
                           : "works too")
                    : v->words; /* broken: why; port 25: works here, but ... */
            ms_assess_app(a->autoconfig_note, sizeof a->autoconfig_note,
                          "%s%s (%s) would set up %s at %s:%u (%s), which %s; mailscope "
                          "recommends %s:%u (%s).",
                          a->autoconfig_note[0] ? " " : "", k == 0 ? "Thunderbird" : "Outlook",
                          ms_pub_method_name((enum ms_pub_method)m), ms_assess_proto_upper(proto),
                          ps->host, (unsigned)ps->port, security_words(ps->security), why,
                          rec->host, (unsigned)rec->port, security_words(rec->security));
        }
    }
    return 0;
}

const struct ms_pub_verdict *ms_assess_pub_verdict(const struct ms_result *result,
                                                   const struct ms_assessment *a,
                                                   enum ms_pub_method m, size_t k)
{
    const struct ms_pub_source *s = source(result, (int)m);
    if (!s || !a->pub_verdicts || s->outcome != MS_PUB_SETTINGS || k >= s->server_count)
        return NULL;
    return &a->pub_verdicts[a->pub_first[m] + k];
}

const char *ms_pub_check_name(enum ms_pub_check c)
{
    switch (c) {
    case MS_PUB_WORKS: return "works";
    case MS_PUB_INSECURE: return "insecure";
    case MS_PUB_BROKEN: return "broken";
    default: return "not_checked";
    }
}
