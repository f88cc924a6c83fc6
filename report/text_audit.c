#include "report/text_audit.h"

#include <string.h>

#include "report/assess.h"
#include "report/clients.h"

#define INDENT "                " /* the value column of the endpoint block */

static const char *mark(const struct ms_audit_probe *p)
{
    switch (p->outcome) {
    case MS_AUDIT_ACCEPTED: return "yes";
    case MS_AUDIT_REFUSED: return "no";
    case MS_AUDIT_RESET: return "no(reset)";
    case MS_AUDIT_TIMEOUT: return "?(timeout)";
    case MS_AUDIT_UNTESTABLE: return "untestable";
    case MS_AUDIT_ERROR: return "?(error)";
    default: return "-";
    }
}

/* "name mark" cells, wrapped at 78 columns under the value column. */
static void cells(FILE *f, const char *head, const char *const *names,
                  const struct ms_audit_probe *p, size_t n)
{
    size_t start = (size_t)fprintf(f, "%-10s", head) + strlen(INDENT), col = start;
    for (size_t i = 0; i < n; i++) {
        char cell[48];
        int len = snprintf(cell, sizeof cell, "%s %s", names[i], mark(&p[i]));
        if (col > start && col + (size_t)len + 2 > 78) {
            fprintf(f, "\n" INDENT "%-10s", "");
            col = start;
        }
        col += (size_t)fprintf(f, "%s%s", col > start ? "  " : "", cell);
    }
    fputc('\n', f);
}

void ms_text_audit(FILE *f, const struct ms_endpoint_result *ep)
{
    static const char *const versions[MS_AV_COUNT] = {"SSLv3", "TLS1.0", "TLS1.1", "TLS1.2",
                                                      "TLS1.3"};
    static const char *const weak[MS_WC_COUNT] = {"NULL", "anon",   "EXPORT",    "DES/3DES",
                                                  "RC4",  "RSA-kx", "CBC@TLS1.0"};
    static const char *const groups[MS_AG_COUNT] = {"X25519", "P-256", "P-384", "P-521", "X448"};
    const struct ms_tls_audit *a = ep->audit;
    if (!a)
        return;
    fprintf(f, "  %-14s", "TLS audit");
    cells(f, "versions", versions, a->versions, MS_AV_COUNT);
    fputs(INDENT, f);
    cells(f, "weak", weak, a->weak, MS_WC_COUNT);
    fputs(INDENT, f);
    cells(f, "groups", groups, a->groups, MS_AG_COUNT);
    if (a->group_forward[0] && a->group_reverse[0])
        fprintf(f, INDENT "%-10s%s (offered both ways round: %s, %s)\n", "",
                strcmp(a->group_forward, a->group_reverse) == 0 ? "server's preference"
                                                                : "client's preference",
                a->group_forward, a->group_reverse);
    fprintf(f, INDENT "%-10s", "DHE");
    if (a->dhe.outcome == MS_AUDIT_ACCEPTED)
        fprintf(f, "%d bits (%s)\n", a->dhe.kx_bits, a->dhe.cipher);
    else
        fprintf(f, "%s\n", ms_audit_outcome_words(a->dhe.outcome));

    const struct ms_chain_facts *ch = &a->chain;
    fprintf(f, INDENT "%-10s", "chain");
    if (!ch->read)
        fprintf(f, "not read (%s)\n", a->best.note[0] ? a->best.note : "no handshake");
    else
        fprintf(
            f, "%zu sent%s%s%s%s%s%s\n", ch->sent, ch->issuer_missing ? ", issuer not sent: " : "",
            ch->issuer_missing ? ch->missing_issuer : "",
            ch->completed_by_store ? " (this machine knows it)" : "",
            ch->wrong_order ? ", out of order" : "", ch->unused_certs ? ", extra certificates" : "",
            !ch->issuer_missing && !ch->wrong_order ? ", complete" : "");
    const struct ms_sni_facts *s = &a->sni;
    fprintf(f, INDENT "%-10s", "no SNI");
    if (s->outcome != MS_AUDIT_ACCEPTED)
        fprintf(f, "%s\n", ms_audit_outcome_words(s->outcome));
    else if (s->same_certificate)
        fprintf(f, "the same certificate\n");
    else
        fprintf(f, "another certificate: %s%s\n", s->subject,
                s->hostname_match ? "" : " (not for this host)");
    fprintf(f, INDENT "%-10s", "OCSP");
    if (!a->ocsp.tested || a->best.outcome != MS_AUDIT_ACCEPTED)
        fprintf(f, "not checked\n");
    else
        fprintf(f, "%s%s%s%s\n", a->ocsp.stapled ? "stapled" : "not stapled",
                a->ocsp.status[0] ? " (" : "", a->ocsp.status, a->ocsp.status[0] ? ")" : "");
    const struct ms_dane_facts *d = &a->dane;
    fprintf(f, INDENT "%-10s", "DANE");
    if (!d->queried)
        fprintf(f, "not asked (an IP address)\n");
    else if (d->count == 0 &&
             (strcmp(d->status, "nxdomain") == 0 || strcmp(d->status, "nodata") == 0))
        fprintf(f, "no TLSA records at %s (%s%s)\n", d->name, d->status,
                d->validated ? ", DNSSEC-validated" : "");
    else if (d->count == 0 && strncmp(d->message, "TLSA lookup failed", 18) == 0)
        fprintf(f, "%s: %s\n", d->message, d->name);
    else if (d->count == 0) /* a timeout or a resolver error: never "no TLSA records" */
        fprintf(f, "TLSA lookup failed (%s%s%s): %s\n", d->status[0] ? d->status : "timeout",
                d->message[0] ? ": " : "", d->message, d->name);
    else
        fprintf(f, "%zu TLSA record%s at %s, %s, %s\n", d->count, d->count == 1 ? "" : "s", d->name,
                d->validated ? "DNSSEC-validated" : "not validated",
                !d->checked  ? "not compared (no chain)"
                : d->matched ? "match"
                             : "NO MATCH");
}

void ms_text_pool(FILE *f, const struct ms_endpoint_result *ep)
{
    const struct ms_pool_facts *p = &ep->pool;
    if (!p->members)
        return;
    fprintf(f, "  %-14s%zu addresses%s\n", "pool", p->address_count,
            p->capped ? " (only the first 16 probed)" : "");
    for (size_t i = 0; i < p->member_count; i++) {
        const struct ms_pool_member *m = &p->members[i];
        const char *code = ms_assess_failure_code(m->failure);
        fprintf(f, INDENT "%s%s: ", m->address, m->main ? " (main)" : "");
        if (code)
            fprintf(f, "%s (%s)\n", code, m->error);
        else
            fprintf(f, "ok, %s, certificate %.23s..., caps %s\n",
                    m->tls_version[0] ? m->tls_version : "no TLS",
                    m->cert_fingerprint[0] ? m->cert_fingerprint : "none",
                    m->caps_digest[0] ? m->caps_digest : "none");
    }
}

void ms_text_clients(FILE *f, const struct ms_result *r)
{
    if (!ms_clients_apply(r))
        return;
    fputs("Mail programs (from the TLS audit; report/clients.def says what each can do):\n", f);
    for (size_t k = 0; k < ms_client_count; k++) {
        if (ms_client_filter && !ms_client_matches(k, ms_client_filter))
            continue;
        struct ms_client_verdict v;
        ms_client_judge(r, k, &v);
        const struct ms_endpoint_result *ep = v.endpoint >= 0 ? &r->endpoints[v.endpoint] : NULL;
        fprintf(f, "  %-36s ", ms_clients[k].name);
        if (v.can == MS_FACT_YES && ep)
            fprintf(f, "can connect: %s, port %u, %s\n",
                    ep->protocol == MS_PROTOCOL_IMAP ? "IMAP" : "POP3", (unsigned)ep->port,
                    ep->security == MS_SECURITY_IMPLICIT ? "SSL/TLS" : "STARTTLS");
        else
            fprintf(f, "%s: %s\n", v.can == MS_FACT_NO ? "cannot" : "unknown", v.reason);
    }
    fputc('\n', f);
}
