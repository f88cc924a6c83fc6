/* Best settings: which endpoint to configure for each protocol, and why none when there is
 * none. */
#include <limits.h>

#include "report/assess_internal.h"

/* ---- best settings ------------------------------------------------------------------ */

static int security_rank(enum ms_security s)
{
    return s == MS_SECURITY_IMPLICIT ? 0 : s == MS_SECURITY_STARTTLS ? 1 : 2;
}

static int source_rank(enum ms_source s)
{
    switch (s) {
    case MS_SOURCE_SRV: return 0;
    case MS_SOURCE_AUTOCONFIG: /* published by the domain like SRV, for one program */
    case MS_SOURCE_AUTODISCOVER: return 1;
    case MS_SOURCE_MX: return 2;
    case MS_SOURCE_CONVENTIONAL: return 3;
    default: return 4;
    }
}

/* The MX preference of the host of endpoint i (from its discovery candidate). */
static long mx_preference(const struct ms_result *r, size_t i)
{
    for (size_t k = 0; k < r->discovery.candidate_count; k++) {
        const struct ms_candidate *cd = &r->discovery.candidates[k];
        if (cd->endpoint_index == (long)i && cd->source == MS_SOURCE_MX && cd->priority >= 0)
            return cd->priority;
    }
    return LONG_MAX;
}

/* <0 when endpoint i is the better one to configure, >0 when j is: implicit TLS before
 * STARTTLS; SRV (priority, then weight) before MX (preference) before conventional names
 * before others; ok before warning (st may be NULL); then endpoint order. */
int ms_assess_rank_cmp(const struct ms_result *r, const enum ms_status *st, size_t i, size_t j)
{
    const struct ms_endpoint_result *a = &r->endpoints[i], *b = &r->endpoints[j];
    int x = security_rank(a->security), y = security_rank(b->security);
    if (x != y)
        return x < y ? -1 : 1;
    x = source_rank(a->source);
    y = source_rank(b->source);
    if (x != y)
        return x < y ? -1 : 1;
    if (a->source == MS_SOURCE_SRV) {
        long pa = a->srv_priority < 0 ? LONG_MAX : a->srv_priority;
        long pb = b->srv_priority < 0 ? LONG_MAX : b->srv_priority;
        if (pa != pb)
            return pa < pb ? -1 : 1;
        if (a->srv_weight != b->srv_weight) /* the heavier record first */
            return a->srv_weight > b->srv_weight ? -1 : 1;
    } else if (a->source == MS_SOURCE_MX) {
        long pa = mx_preference(r, i), pb = mx_preference(r, j);
        if (pa != pb)
            return pa < pb ? -1 : 1;
    }
    if (st && st[i] != st[j])
        return st[i] < st[j] ? -1 : 1;
    return i < j ? -1 : i > j ? 1 : 0;
}

/* How far endpoint i got: a secure session (but a critical finding) > TLS up > connected. */
static int progress(const struct ms_endpoint_result *ep)
{
    if (ms_assess_endpoint_secure(ep))
        return 3;
    if (ep->tls.established)
        return 2;
    return ep->address[0] ? 1 : 0;
}

/* Why protocol p has no recommendation, in one phrase. */
static void why_not(const struct ms_assess_ctx *c, const struct ms_assessment *a,
                    enum ms_protocol p, bool not_offered, char *buf, size_t cap)
{
    const struct ms_result *r = c->r;
    long best = -1;
    size_t others = 0;
    if (not_offered) {
        ms_assess_put(buf, cap, "%s says it is not offered (SRV target '.')", r->discovery.domain);
        return;
    }
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        if (ep->protocol != p)
            continue;
        if (best < 0) {
            best = (long)i;
            continue;
        }
        others++;
        int gi = progress(ep), gb = progress(&r->endpoints[best]);
        if (gi > gb || (gi == gb && ms_assess_rank_cmp(r, a->endpoint_status, i, (size_t)best) < 0))
            best = (long)i;
    }
    if (best < 0) {
        if (r->discovery.performed) {
            char why[200];
            ms_assess_no_server_words(c, p, why, sizeof why);
            ms_assess_put(buf, cap, "%s", why);
        } else {
            ms_assess_put(buf, cap, "no endpoint was checked");
        }
        return;
    }
    char port[300];
    ms_assess_ep_port(c, &r->endpoints[best], port, sizeof port);
    ms_assess_put(buf, cap, "%s%s %s", c->one_host ? "port " : "", port,
                  ms_assess_endpoint_reason(c, a->findings, a->finding_count, (size_t)best));
    if (others)
        ms_assess_app(buf, cap, " (%zu other endpoint%s failed too)", others,
                      others == 1 ? "" : "s");
}

/* srv: each endpoint's status without the findings about the account (a rejected password
 * does not make other server settings better); NULL when there are no endpoints. */
void ms_assess_recommend(const struct ms_assess_ctx *c, struct ms_assessment *a,
                         const enum ms_status *srv)
{
    const struct ms_result *r = c->r;
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
        a->recommended[p] = -1;
    a->preferred = -1;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        enum ms_status st = srv ? srv[i] : MS_STATUS_UNKNOWN;
        if (!ms_assess_endpoint_secure(ep) || ep->security == MS_SECURITY_NONE ||
            (st != MS_STATUS_OK && st != MS_STATUS_WARNING))
            continue;
        long *best = &a->recommended[ep->protocol];
        if (*best < 0 || ms_assess_rank_cmp(r, srv, i, (size_t)*best) < 0)
            *best = (long)i;
    }
    /* The way to receive mail: IMAP first (several devices, folders, push), unless only
     * POP3 was asked for. Submission is the other half of a setup, never "preferred". */
    bool imap_first = r->want[MS_PROTOCOL_IMAP] || !r->want[MS_PROTOCOL_POP3];
    const enum ms_protocol order[2] = {imap_first ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3,
                                       imap_first ? MS_PROTOCOL_POP3 : MS_PROTOCOL_IMAP};
    for (int k = 0; k < 2 && a->preferred < 0; k++)
        if (a->recommended[order[k]] >= 0)
            a->preferred = (int)order[k];
    for (size_t k = 0; k < a->verdict_count; k++) {
        const struct ms_protocol_verdict *v = &a->verdicts[k];
        if (a->recommended[v->protocol] < 0)
            why_not(c, a, v->protocol, v->not_offered, a->not_recommended[v->protocol],
                    sizeof a->not_recommended[v->protocol]);
    }
}

const struct ms_endpoint_result *ms_assess_recommended(const struct ms_result *result,
                                                       const struct ms_assessment *a,
                                                       enum ms_protocol p)
{
    if ((unsigned)p >= MS_PROTOCOL_COUNT)
        return NULL;
    long i = a->recommended[p];
    if (i < 0 || (size_t)i >= result->endpoint_count)
        return NULL;
    return &result->endpoints[i];
}
