#include "report/clients.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define Y MS_FACT_YES
#define N MS_FACT_NO
#define U MS_FACT_UNKNOWN
#define CLIENT(name, vers, t10, t11, t12, t13, sni, ii, is, pi, ps, oauth, src)                    \
    {name, vers, {t10, t11, t12, t13}, sni, {ii, pi}, {is, ps}, oauth, src},

const struct ms_client ms_clients[] = {
#include "report/clients.def"
};
const size_t ms_client_count = sizeof ms_clients / sizeof ms_clients[0];
const char *ms_client_filter = NULL;

static const char *const tls_words[4] = {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"};

const char *ms_fact_name(enum ms_fact f)
{
    return f == Y ? "yes" : f == N ? "no" : "unknown";
}

bool ms_client_matches(size_t k, const char *name)
{
    const char *n = ms_clients[k].name;
    size_t len = strlen(name);
    for (const char *p = n; len && *p; p++)
        if (strncasecmp(p, name, len) == 0)
            return true;
    return false;
}

/* The TLS versions the endpoint accepts: from its audit, else only the one negotiated
 * (accepted[v]: 1 yes, 0 no, -1 not known). */
static void server_versions(const struct ms_endpoint_result *ep, int accepted[4])
{
    static const char *const names[4] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
    for (int v = 0; v < 4; v++) {
        if (ep->audit) {
            enum ms_audit_outcome o = ep->audit->versions[MS_AV_TLS10 + v].outcome;
            accepted[v] = o == MS_AUDIT_ACCEPTED                         ? 1
                          : o == MS_AUDIT_REFUSED || o == MS_AUDIT_RESET ? 0
                                                                         : -1;
        } else {
            accepted[v] = strcmp(ep->tls.version, names[v]) == 0 ? 1 : -1;
        }
    }
}

/* One endpoint: YES, NO (reason) or UNKNOWN (reason). */
static enum ms_fact judge_endpoint(const struct ms_client *c, const struct ms_endpoint_result *ep,
                                   char *why, size_t cap)
{
    if (!ep->tls.established || ep->security == MS_SECURITY_NONE) {
        snprintf(why, cap, "%.120s did not complete TLS", ep->id);
        return N;
    }
    if (!ep->tls.verified) {
        snprintf(why, cap, "the certificate of %.120s does not verify", ep->id);
        return N;
    }
    enum ms_fact mode = ep->security == MS_SECURITY_IMPLICIT ? c->implicit[ep->protocol]
                                                             : c->starttls[ep->protocol];
    const char *mode_words = ep->security == MS_SECURITY_IMPLICIT ? "implicit TLS" : "STARTTLS";
    if (mode == N) {
        snprintf(why, cap, "it cannot use %s for %s", mode_words,
                 ep->protocol == MS_PROTOCOL_IMAP ? "IMAP" : "POP3");
        return N;
    }
    int acc[4];
    server_versions(ep, acc);
    bool common = false, maybe = false;
    char speaks[64] = "", server[64] = "";
    for (int v = 0; v < 4; v++) {
        common = common || (acc[v] == 1 && c->tls[v] == Y);
        maybe = maybe || (acc[v] != 0 && c->tls[v] != N && !(acc[v] == 1 && c->tls[v] == Y));
        if (c->tls[v] == Y)
            snprintf(speaks + strlen(speaks), sizeof speaks - strlen(speaks), "%s%s",
                     speaks[0] ? ", " : "", tls_words[v]);
        if (acc[v] == 1)
            snprintf(server + strlen(server), sizeof server - strlen(server), "%s%s",
                     server[0] ? ", " : "", tls_words[v]);
    }
    if (!common) {
        if (maybe || !speaks[0]) {
            snprintf(why, cap, "not known whether it speaks %.50s (it speaks %.50s)",
                     server[0] ? server : "what the server accepts",
                     speaks[0] ? speaks : "nothing documented");
            return U;
        }
        snprintf(why, cap, "needs %s, the server accepts %s", speaks, server);
        return N;
    }
    const struct ms_sni_facts *sni = ep->audit ? &ep->audit->sni : NULL;
    bool sni_matters = sni && sni->tested && sni->outcome == MS_AUDIT_ACCEPTED &&
                       !sni->same_certificate && !sni->hostname_match;
    if (sni_matters && c->sni == N) {
        snprintf(why, cap,
                 "it sends no SNI and %.120s then presents a certificate for another name", ep->id);
        return N;
    }
    if (sni_matters && c->sni == U) {
        snprintf(why, cap, "not known whether it sends SNI, which %.120s needs", ep->id);
        return U;
    }
    if (mode == U) {
        snprintf(why, cap, "not known whether it can use %s", mode_words);
        return U;
    }
    why[0] = '\0';
    return Y;
}

/* Better endpoints first: IMAP before POP3, implicit TLS before STARTTLS. */
static int rank(const struct ms_endpoint_result *ep)
{
    return (ep->protocol == MS_PROTOCOL_IMAP ? 0 : 2) +
           (ep->security == MS_SECURITY_IMPLICIT ? 0 : 1);
}

bool ms_clients_apply(const struct ms_result *r)
{
    for (size_t i = 0; i < r->endpoint_count; i++)
        if (r->endpoints[i].audit && r->endpoints[i].protocol != MS_PROTOCOL_SUBMISSION)
            return true;
    return false;
}

void ms_client_judge(const struct ms_result *r, size_t k, struct ms_client_verdict *out)
{
    const struct ms_client *c = &ms_clients[k];
    *out = (struct ms_client_verdict){.can = N, .endpoint = -1};
    snprintf(out->reason, sizeof out->reason, "no endpoint to connect to");
    int best_rank[3] = {99, 99, 99}; /* by verdict: Y, U, N */
    for (size_t i = 0; i < r->endpoint_count; i++) {
        char why[240];
        if (r->endpoints[i].protocol == MS_PROTOCOL_SUBMISSION)
            continue; /* the matrix answers "can it fetch mail here": IMAP and POP3 */
        enum ms_fact f = judge_endpoint(c, &r->endpoints[i], why, sizeof why);
        int slot = f == Y ? 0 : f == U ? 1 : 2, rk = rank(&r->endpoints[i]);
        int cur = out->can == Y ? 0 : out->can == U ? 1 : 2;
        if (slot < cur || (slot == cur && rk < best_rank[slot])) {
            out->can = f;
            out->endpoint = (long)i;
            snprintf(out->reason, sizeof out->reason, "%s", why);
            best_rank[slot] = rk;
        }
    }
}
