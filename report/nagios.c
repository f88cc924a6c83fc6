#include "report/nagios.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "probe/error.h"

static const char *const status_words[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

/* A perfdata label: letters, digits and '_' only, so no quoting question arises. */
static void label_of(bool one_host, const struct ms_endpoint_result *ep, char *buf, size_t cap)
{
    char scheme[16]; /* the endpoint URL's scheme without "+plain": "imaps", "submission" */
    size_t sl = strcspn(ep->id, ":+");
    snprintf(scheme, sizeof scheme, "%.*s", (int)(sl < sizeof scheme ? sl : sizeof scheme - 1),
             ep->id);
    bool standard = (ep->port == 993 || ep->port == 143 || ep->port == 995 || ep->port == 110 ||
                     ep->port == 465 || ep->port == 587 || ep->port == 25);
    if (one_host && standard)
        snprintf(buf, cap, "%s", scheme);
    else if (one_host)
        snprintf(buf, cap, "%s_%u", scheme, (unsigned)ep->port);
    else
        snprintf(buf, cap, "%s_%s_%u", ep->host, scheme, (unsigned)ep->port);
    for (char *p = buf; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            *p = '_';
}

/* Plugin output text: '|' starts perfdata and a newline ends the status line, so neither may
 * come from a server's or a finding's words. */
static void put_text(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc(*s == '|' ? '/' : (*s == '\n' || *s == '\r') ? ' ' : *s, out);
}

/* The finding that decided the status (findings come worst first), or NULL when OK. */
static const struct ms_finding *deciding_finding(const struct ms_assessment *a)
{
    if (a->status == MS_STATUS_OK || a->finding_count == 0)
        return NULL;
    enum ms_severity want =
        a->status == MS_STATUS_WARNING ? MS_SEVERITY_WARNING : MS_SEVERITY_CRITICAL;
    for (size_t i = 0; i < a->finding_count; i++)
        if (a->findings[i].severity == want)
            return &a->findings[i];
    return NULL;
}

/* A threshold in the perfdata grammar ([-0-9.]+, never an exponent: %g would write 1e-05
 * for -w 0.00001), to the nanosecond; empty when not set (0), since "0" would be a
 * threshold of its own. */
static void threshold(char *buf, size_t cap, double v)
{
    buf[0] = '\0';
    if (!(v > 0))
        return;
    snprintf(buf, cap, "%.9f", v);
    char *end = buf + strlen(buf);
    while (end > buf && end[-1] == '0')
        *--end = '\0';
    if (end > buf && end[-1] == '.')
        *--end = '\0';
}

int ms_report_nagios(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                     const struct ms_thresholds *t)
{
    unsigned st = (unsigned)a->status < 4 ? (unsigned)a->status : 3;
    fprintf(out, "MAILSCOPE %s - ", status_words[st]);
    /* The reason first: a pager shows only the start of the line. */
    const struct ms_finding *why = deciding_finding(a);
    size_t more = 0;
    for (size_t i = 0; why && i < a->finding_count; i++)
        if (&a->findings[i] != why && a->findings[i].severity == why->severity)
            more++;
    if (why) {
        put_text(out, why->message);
        if (more)
            fprintf(out, " (+%zu more)", more);
        fputc(' ', out);
    }
    for (size_t i = 0; i < a->verdict_count; i++) {
        if (i)
            fputc(' ', out);
        put_text(out, a->verdicts[i].summary);
    }
    if (a->verdict_count == 0)
        put_text(out, result->target);
    fputs(" |", out);
    char w[32], c[32], cw[32], cc[32];
    threshold(w, sizeof w, t->warning_s);
    threshold(c, sizeof c, t->critical_s);
    threshold(cw, sizeof cw, t->cert_warn_days);
    threshold(cc, sizeof cc, t->cert_crit_days);
    bool one_host = true; /* labels name the host only when there are several */
    for (size_t i = 1; i < result->endpoint_count; i++)
        if (strcmp(result->endpoints[i].host, result->endpoints[0].host) != 0)
            one_host = false;
    for (size_t i = 0; i < result->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &result->endpoints[i];
        char label[300];
        label_of(one_host, ep, label, sizeof label);
        if (ep->timings_ms.total >= 0)
            fprintf(out, " '%s_time'=%.3fs;%s;%s;0;", label, ep->timings_ms.total / 1000.0, w, c);
        if (ep->tls.has_certificate)
            fprintf(out, " '%s_cert_days'=%ld;%s;%s;;", label, ep->tls.cert.days_left, cw, cc);
    }
    fprintf(out, " 'duration'=%.3fs;;;0;\n", result->duration_ms / 1000.0);
    /* Long output: the findings, worst first, then the endpoints in one line each. */
    for (size_t i = 0; i < a->finding_count; i++) {
        const struct ms_finding *f = &a->findings[i];
        fprintf(out, "%s %s%s%s: ",
                f->severity == MS_SEVERITY_CRITICAL  ? "CRITICAL"
                : f->severity == MS_SEVERITY_WARNING ? "WARNING"
                                                     : "INFO",
                f->code, f->endpoint ? " " : "", f->endpoint ? f->endpoint : "");
        put_text(out, f->message);
        fputc('\n', out);
    }
    for (size_t i = 0; i < result->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &result->endpoints[i];
        unsigned es = a->endpoint_status && (unsigned)a->endpoint_status[i] < 4
                          ? (unsigned)a->endpoint_status[i]
                          : 3;
        fprintf(out, "%s %s%s%s%s%s%s\n", status_words[es], ep->id, ep->address[0] ? " (" : "",
                ep->address, ep->address[0] ? ")" : "", ep->tls.established ? " " : "",
                ep->tls.established ? ep->tls.version : "");
    }
    return ferror(out) ? MS_EIO : 0;
}
