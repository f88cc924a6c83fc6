#include "report/prometheus.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/error.h"

enum family {
    F_PROBE_SUCCESS,
    F_PROBE_DURATION,
    F_PHASE_DURATION,
    F_TLS_VERSION,
    F_CERT_NOT_AFTER,
    F_CAPABILITY,
    F_LOGIN_SUCCESS,
    F_FINDING,
    F_STATUS,
    F_FEATURE,
    F_FEATURE_VALUE,
    F_COUNT,
};

static const struct {
    const char *name, *help;
} families[F_COUNT] = {
    [F_PROBE_SUCCESS] =
        {"mailscope_probe_success",
         "1 when the endpoint completed securely (TLS up, certificate verified), else 0."},
    [F_PROBE_DURATION] = {"mailscope_probe_duration_seconds", "Time the endpoint's check took."},
    [F_PHASE_DURATION] = {"mailscope_probe_phase_duration_seconds",
                          "Time spent in each phase of the endpoint's check."},
    [F_TLS_VERSION] = {"mailscope_tls_version_info",
                       "The TLS version negotiated (value always 1)."},
    [F_CERT_NOT_AFTER] = {"mailscope_cert_not_after_timestamp_seconds",
                          "When the server certificate expires (Unix time). Days left: "
                          "(mailscope_cert_not_after_timestamp_seconds - time()) / 86400."},
    [F_CAPABILITY] = {"mailscope_capability",
                      "A capability the server offers over TLS (value always 1)."},
    [F_LOGIN_SUCCESS] = {"mailscope_login_success", "1 when sign-in worked, 0 when it failed."},
    [F_FINDING] = {"mailscope_finding",
                   "Findings of the check with this code, severity and endpoint (a count)."},
    [F_STATUS] = {"mailscope_status", "The run's status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN."},
    [F_FEATURE] = {"mailscope_feature",
                   "An account-summary answer: 1 yes, 0 no (unknown and n/a are left out)."},
    [F_FEATURE_VALUE] = {"mailscope_feature_value",
                         "An account-summary value in base units (seconds, bytes, folders): "
                         "POP3 EXPIRE, LOGIN-DELAY, server folders, quota used."},
};

struct buffer {
    char *data;
    size_t len, cap;
};

struct ms_prom {
    struct buffer series[F_COUNT];
    /* Targets added so far (open addressing; a target listed twice would repeat series, and
     * a fleet may add thousands, so no linear search). */
    char **seen;
    size_t seen_cap, seen_count;
    size_t duplicates;
    bool failed; /* an append ran out of memory during the current ms_prom_add */
};

struct ms_prom *ms_prom_new(void)
{
    return calloc(1, sizeof(struct ms_prom));
}

void ms_prom_free(struct ms_prom *p)
{
    if (!p)
        return;
    for (int i = 0; i < F_COUNT; i++)
        free(p->series[i].data);
    for (size_t i = 0; i < p->seen_cap; i++)
        free(p->seen[i]);
    free(p->seen);
    free(p);
}

static void append(struct ms_prom *p, enum family f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(struct ms_prom *p, enum family f, const char *fmt, ...)
{
    struct buffer *b = &p->series[f];
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            p->failed = true;
            return;
        }
        if (b->data && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            p->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
}

/* A label value with \, " and newline escaped (the exposition format's rules). */
static void escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 3 < cap; in++) {
        if (*in == '\\' || *in == '"') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static size_t slot_of(char *const *table, size_t cap, const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        h = (h ^ *c) * 1099511628211u;
    size_t i = (size_t)h & (cap - 1);
    while (table[i] && strcmp(table[i], s) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

/* Room in the table for one more target. Returns 0 or MS_ENOMEM (the table unchanged). */
static int reserve_target(struct ms_prom *p)
{
    if (2 * (p->seen_count + 1) <= p->seen_cap)
        return 0;
    size_t cap = p->seen_cap ? 2 * p->seen_cap : 64;
    char **table = calloc(cap, sizeof *table);
    if (!table)
        return MS_ENOMEM;
    for (size_t i = 0; i < p->seen_cap; i++)
        if (p->seen[i])
            table[slot_of(table, cap, p->seen[i])] = p->seen[i];
    free(p->seen);
    p->seen = table;
    p->seen_cap = cap;
    return 0;
}

size_t ms_prom_duplicates(const struct ms_prom *p)
{
    return p->duplicates;
}

int ms_prom_add(struct ms_prom *p, const struct ms_result *result, const struct ms_assessment *a)
{
    /* An exposition may hold each series once: a target seen before keeps its first result. */
    if (p->seen_cap && p->seen[slot_of(p->seen, p->seen_cap, result->target)]) {
        p->duplicates++;
        return 0;
    }
    /* All or nothing: out of memory, the run's series and its target are dropped again, so
     * the exposition stays one a scraper accepts and a later run can still be added. */
    size_t len[F_COUNT];
    for (int f = 0; f < F_COUNT; f++)
        len[f] = p->series[f].len;
    char *copy = NULL;
    if (reserve_target(p) < 0 || !(copy = strdup(result->target)))
        return MS_ENOMEM;
    char target[600];
    escape(result->target, target, sizeof target);
    append(p, F_STATUS, "mailscope_status{target=\"%s\"} %d\n", target, (int)a->status);
    for (size_t i = 0; i < result->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &result->endpoints[i];
        char host[600], labels[1400];
        escape(ep->host, host, sizeof host);
        snprintf(labels, sizeof labels,
                 "target=\"%s\",host=\"%s\",protocol=\"%s\",port=\"%u\",security=\"%s\"", target,
                 host, ms_protocol_name(ep->protocol), (unsigned)ep->port,
                 ms_security_name(ep->security));
        append(p, F_PROBE_SUCCESS, "mailscope_probe_success{%s} %d\n", labels,
               ep->completed_securely ? 1 : 0);
        if (ep->timings_ms.total >= 0)
            append(p, F_PROBE_DURATION, "mailscope_probe_duration_seconds{%s} %.6f\n", labels,
                   ep->timings_ms.total / 1000.0);
        const struct {
            const char *name;
            double ms;
        } phases[] = {{"resolve", ep->timings_ms.resolve},
                      {"connect", ep->timings_ms.connect},
                      {"tls", ep->timings_ms.tls},
                      {"greeting", ep->timings_ms.greeting}};
        for (size_t k = 0; k < sizeof phases / sizeof phases[0]; k++)
            if (phases[k].ms >= 0)
                append(p, F_PHASE_DURATION,
                       "mailscope_probe_phase_duration_seconds{%s,phase=\"%s\"} %.6f\n", labels,
                       phases[k].name, phases[k].ms / 1000.0);
        if (ep->tls.established)
            append(p, F_TLS_VERSION, "mailscope_tls_version_info{%s,version=\"%s\"} 1\n", labels,
                   ep->tls.version);
        /* No days-left family: promtool rejects a non-base unit ("days"); the timestamp is the
         * Prometheus way, and alert rules subtract time(). */
        if (ep->tls.has_certificate)
            append(p, F_CERT_NOT_AFTER, "mailscope_cert_not_after_timestamp_seconds{%s} %lld\n",
                   labels, (long long)ep->tls.cert.not_after_epoch);
        const struct ms_strlist *caps = &ep->caps_after_tls;
        for (size_t k = 0; k < caps->count; k++) {
            char cap[600];
            escape(caps->items[k], cap, sizeof cap);
            bool seen = false; /* a server may repeat one; a series must appear once */
            for (size_t j = 0; j < k && !seen; j++)
                seen = strcmp(caps->items[j], caps->items[k]) == 0;
            if (!seen)
                append(p, F_CAPABILITY, "mailscope_capability{%s,capability=\"%s\"} 1\n", labels,
                       cap);
        }
        if (ep->auth.attempted)
            append(p, F_LOGIN_SUCCESS, "mailscope_login_success{%s} %d\n", labels,
                   ep->auth.ok ? 1 : 0);
    }
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        const struct ms_feature *f = &a->summary.features[k];
        for (int pr = 0; pr < MS_PROTOCOL_COUNT; pr++) {
            const struct ms_answer_value *v = &f->answers[pr];
            const char *proto = ms_protocol_name((enum ms_protocol)pr);
            if (v->answer == MS_ANSWER_YES || v->answer == MS_ANSWER_NO)
                append(p, F_FEATURE,
                       "mailscope_feature{target=\"%s\",protocol=\"%s\",feature=\"%s\"} %d\n",
                       target, proto, f->id, v->answer == MS_ANSWER_YES);
            if (!v->has_number || v->answer != MS_ANSWER_YES)
                continue;
            long long n = v->unit == MS_UNIT_DAYS  ? v->number * 86400
                          : v->unit == MS_UNIT_KIB ? v->number * 1024
                                                   : v->number;
            const char *unit = v->unit == MS_UNIT_DAYS || v->unit == MS_UNIT_SECONDS ? "seconds"
                               : v->unit == MS_UNIT_KIB                              ? "bytes"
                                                                                     : "folders";
            append(p, F_FEATURE_VALUE,
                   "mailscope_feature_value{target=\"%s\",protocol=\"%s\",feature=\"%s\","
                   "unit=\"%s\"} %lld\n",
                   target, proto, f->id, unit, n);
        }
    }
    for (size_t i = 0; i < a->finding_count; i++) {
        const struct ms_finding *f = &a->findings[i];
        char endpoint[600];
        escape(f->endpoint ? f->endpoint : "", endpoint, sizeof endpoint);
        /* Two findings with the same code and endpoint would be one series: count them. */
        bool seen = false;
        int count = 0;
        for (size_t j = 0; j < a->finding_count; j++) {
            const struct ms_finding *g = &a->findings[j];
            bool same = strcmp(g->code, f->code) == 0 && g->severity == f->severity &&
                        ((!g->endpoint && !f->endpoint) ||
                         (g->endpoint && f->endpoint && strcmp(g->endpoint, f->endpoint) == 0));
            if (same && j < i)
                seen = true;
            count += same;
        }
        if (!seen)
            append(
                p, F_FINDING,
                "mailscope_finding{target=\"%s\",endpoint=\"%s\",code=\"%s\",severity=\"%s\"} %d\n",
                target, endpoint, f->code, ms_severity_name(f->severity), count);
    }
    if (p->failed) {
        for (int f = 0; f < F_COUNT; f++)
            p->series[f].len = len[f];
        p->failed = false;
        free(copy);
        return MS_ENOMEM;
    }
    p->seen[slot_of(p->seen, p->seen_cap, result->target)] = copy;
    p->seen_count++;
    return 0;
}

int ms_prom_write_probe(FILE *out, const struct ms_result *result, const struct ms_assessment *a)
{
    bool success = a->status == MS_STATUS_OK || a->status == MS_STATUS_WARNING;
    fprintf(out,
            "# HELP probe_success Whether the probe succeeded: 1 when the check's status is OK "
            "or WARNING.\n# TYPE probe_success gauge\nprobe_success %d\n"
            "# HELP probe_duration_seconds How long the probe took.\n"
            "# TYPE probe_duration_seconds gauge\nprobe_duration_seconds %.6f\n",
            success ? 1 : 0, result->duration_ms / 1000.0);
    struct ms_prom *p = ms_prom_new();
    if (!p)
        return MS_ENOMEM;
    int rc = ms_prom_add(p, result, a);
    if (rc == 0)
        rc = ms_prom_write(p, out);
    ms_prom_free(p);
    return rc;
}

int ms_prom_write(struct ms_prom *p, FILE *out)
{
    for (int f = 0; f < F_COUNT; f++) {
        if (!p->series[f].len)
            continue;
        fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", families[f].name, families[f].help,
                families[f].name);
        fwrite(p->series[f].data, 1, p->series[f].len, out);
    }
    return fflush(out) == 0 && !ferror(out) ? 0 : MS_EIO;
}
