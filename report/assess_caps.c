/* Capabilities as the report reads them: POP3 EXPIRE and LOGIN-DELAY values (RFC 2449),
 * and the finding about capability tokens that are malformed (proto.capability_malformed).
 * A malformed token is read only where its meaning is certain (a name glued to a number or
 * to NEVER: "EXPIRENEVER", "LOGIN-DELAY900"); otherwise it is ignored, as mail programs
 * that follow the RFCs ignore it. The report decides from the raw capability list: the
 * probe's own reading of EXPIRE/LOGIN-DELAY after sign-in (account facts) takes a number
 * followed by anything ("EXPIRE 30x" as 30) and skips glued tokens. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/assess_internal.h"

/* The length of the first word of s. */
static size_t word_len(const char *s)
{
    return strcspn(s, " ");
}

/* The value words after the name: "30", "NEVER" (EXPIRE only), then "USER" at most. */
static long read_value(const char *p, bool never_ok, bool *per_user)
{
    *per_user = false;
    while (*p == ' ')
        p++;
    size_t n = word_len(p);
    long v = -2;
    if (never_ok && n == 5 && strncasecmp(p, "NEVER", 5) == 0) {
        v = -1;
    } else if (n > 0 && n < 10) {
        v = 0;
        for (size_t k = 0; k < n && v >= 0; k++)
            v = isdigit((unsigned char)p[k]) ? v * 10 + (p[k] - '0') : -2;
    }
    if (v == -2)
        return -2;
    p += n;
    while (*p == ' ')
        p++;
    if (!*p)
        return v;
    n = word_len(p);
    if (n == 4 && strncasecmp(p, "USER", 4) == 0) {
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (!*q) {
            *per_user = true;
            return v;
        }
    }
    return -2; /* more words than the RFC's: their meaning is not certain */
}

void ms_assess_pop3_value(const struct ms_strlist *caps, const char *name,
                          struct ms_pop3_value *out)
{
    size_t nl = strlen(name);
    bool never_ok = strcasecmp(name, "EXPIRE") == 0;
    memset(out, 0, sizeof *out);
    out->value = -2;
    if (!caps)
        return;
    const char *line = ms_assess_pop3_cap(caps, name);
    if (line) {
        out->line = line;
        out->value = read_value(line + nl, never_ok, &out->per_user);
        out->malformed = out->value == -2;
        return;
    }
    /* the name glued to its value: "EXPIRENEVER", "EXPIRE30 USER", "LOGIN-DELAY900" */
    for (size_t k = 0; k < caps->count; k++) {
        const char *s = caps->items[k];
        if (strncasecmp(s, name, nl) != 0 || !isalnum((unsigned char)s[nl]))
            continue;
        out->line = s;
        out->malformed = true;
        out->glued = true;
        out->value = read_value(s + nl, never_ok, &out->per_user);
        return;
    }
}

/* ---- proto.capability_malformed ------------------------------------------------------ */

struct malformed {
    const char *token;    /* the capability as listed */
    char read_as[64];     /* "EXPIRE NEVER"; "" when ignored */
    const char *how;      /* how it was read, or why it was ignored */
    const char *expected; /* the standard form */
};

/* The malformed tokens of one list (at most max). */
static size_t find_malformed(enum ms_protocol p, const struct ms_strlist *caps,
                             struct malformed *out, size_t max)
{
    size_t n = 0;
    if (p == MS_PROTOCOL_IMAP) {
        for (size_t k = 0; k < caps->count && n < max; k++)
            if (strcasecmp(caps->items[k], "AUTH=") == 0)
                out[n++] =
                    (struct malformed){caps->items[k], "", "no mechanism follows AUTH=",
                                       "AUTH= followed by a mechanism, e.g. AUTH=PLAIN (RFC 3501)"};
        return n;
    }
    static const struct {
        const char *name, *unit, *expected;
    } valued[] = {
        {"EXPIRE", "days",
         "EXPIRE followed by the days or NEVER, e.g. EXPIRE 30 or EXPIRE NEVER, optionally then "
         "USER (RFC 2449)"},
        {"LOGIN-DELAY", "seconds",
         "LOGIN-DELAY followed by the seconds, e.g. LOGIN-DELAY 900, optionally then USER (RFC "
         "2449)"},
    };
    for (size_t v = 0; v < sizeof valued / sizeof valued[0] && n < max; v++) {
        struct ms_pop3_value pv;
        ms_assess_pop3_value(caps, valued[v].name, &pv);
        if (!pv.malformed)
            continue;
        struct malformed *m = &out[n++];
        memset(m, 0, sizeof *m);
        m->token = pv.line;
        m->expected = valued[v].expected;
        if (pv.value == -2) {
            m->how = strcasecmp(valued[v].name, "EXPIRE") == 0
                         ? "its value is not a number of days or NEVER"
                         : "its value is not a number of seconds";
            continue;
        }
        if (pv.value == -1)
            snprintf(m->read_as, sizeof m->read_as, "%s NEVER%s", valued[v].name,
                     pv.per_user ? " USER" : "");
        else
            snprintf(m->read_as, sizeof m->read_as, "%s %ld%s", valued[v].name, pv.value,
                     pv.per_user ? " USER" : "");
        m->how = "the name is glued to its value, whose meaning is certain";
    }
    for (size_t k = 0; k < caps->count && n < max; k++) {
        const char *s = caps->items[k];
        if (strncasecmp(s, "SASL", 4) == 0 && isalnum((unsigned char)s[4]))
            out[n++] = (struct malformed){
                s, "", "a mechanism glued to SASL: mailscope, like mail programs, does not use it",
                "SASL followed by the mechanisms, e.g. SASL PLAIN LOGIN (RFC 2449)"};
    }
    return n;
}

int ms_assess_judge_capabilities(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct {
        const struct ms_strlist *caps;
        bool read;
        const char *where;
    } lists[] = {
        {&ep->caps_before_tls, ep->caps_before_tls_read, "before TLS"},
        {&ep->caps_after_tls, ep->caps_after_tls_read, "over TLS"},
        {&ep->caps_after_login, ep->caps_after_login_read, "after sign-in"},
    };
    enum { MAX = 8 };
    struct malformed all[MAX];
    char where[MAX][64];
    size_t n = 0;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        if (!lists[l].read)
            continue;
        struct malformed found[MAX];
        size_t m = find_malformed(ep->protocol, lists[l].caps, found, MAX);
        for (size_t k = 0; k < m; k++) {
            size_t j = 0;
            while (j < n && strcmp(all[j].token, found[k].token) != 0)
                j++;
            if (j == n) {
                if (n == MAX)
                    continue;
                all[n] = found[k];
                ms_assess_put(where[n++], sizeof where[0], "%s", lists[l].where);
            } else {
                ms_assess_app(where[j], sizeof where[0], " and %s", lists[l].where);
            }
        }
    }
    for (size_t k = 0; k < n; k++) {
        struct ms_assess_vars vs;
        ms_assess_endpoint_vars(c, ep, &vs);
        ms_assess_var(&vs, "token", all[k].token);
        ms_assess_var(&vs, "where", where[k]);
        ms_assess_var(&vs, "read_as", all[k].read_as);
        ms_assess_var(&vs, "how", all[k].how);
        ms_assess_var(&vs, "expected", all[k].expected);
        int rem = all[k].read_as[0] ? MS_T_DEFAULT : MS_T_MALFORMED_IGNORED;
        int rc = ms_assess_emit(c, MS_F_PROTO_CAPABILITY_MALFORMED, MS_SEV_DEFAULT, i,
                                MS_MSG(MS_F_PROTO_CAPABILITY_MALFORMED, MS_T_DEFAULT),
                                MS_REM(MS_F_PROTO_CAPABILITY_MALFORMED, rem), &vs);
        if (rc)
            return rc;
    }
    return 0;
}
