#include "report/require.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"

static const char *const feature_ids[] = {
    "protocol_enabled",  "leave_mail_on_server",  "server_folders", "sent_items_on_server",
    "shared_folders",    "headers_only_download", "push_mail",      "min_poll_interval",
    "secure_connection", "sign_in_methods",       "quota",          "can_send",
    "max_message_size",
};

#define VALID_FORMS                                                                                \
    "valid items: imap, pop3, submission, imaps, imap+starttls, pop3s, pop3+stls, submissions, "   \
    "submission+starttls, login, imap:CAP, pop3:CAP, smtp:EXT, smtp:SIZE>=BYTES, tls>=1.2, "       \
    "cert-days>=N, a feature (protocol_enabled, leave_mail_on_server, server_folders, "            \
    "sent_items_on_server, shared_folders, headers_only_download, push_mail, min_poll_interval, "  \
    "secure_connection, sign_in_methods, quota, can_send, max_message_size) or a finding code "    \
    "(e.g. auth.failed)"

static int parse_op(const char *s, enum ms_req_op *op, const char **rest)
{
    static const struct {
        const char *text;
        enum ms_req_op op;
    } ops[] = {
        {">=", MS_REQ_GE}, {"<=", MS_REQ_LE}, {">", MS_REQ_GT}, {"<", MS_REQ_LT}, {"=", MS_REQ_EQ}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(s, ops[i].text, n) == 0) {
            *op = ops[i].op;
            *rest = s + n;
            return 0;
        }
    }
    return MS_EINVAL;
}

static bool compare(long have, enum ms_req_op op, long want)
{
    switch (op) {
    case MS_REQ_GE: return have >= want;
    case MS_REQ_GT: return have > want;
    case MS_REQ_LE: return have <= want;
    case MS_REQ_LT: return have < want;
    default: return have == want;
    }
}

static bool compare_u64(uint64_t have, enum ms_req_op op, uint64_t want)
{
    switch (op) {
    case MS_REQ_GE: return have >= want;
    case MS_REQ_GT: return have > want;
    case MS_REQ_LE: return have <= want;
    case MS_REQ_LT: return have < want;
    default: return have == want;
    }
}

/* "1.2" -> 12; "1.0" -> 10; "1" -> 10. */
static bool parse_tls_version(const char *s, long *out)
{
    if (strcmp(s, "1") == 0 || strcmp(s, "1.0") == 0)
        *out = 10;
    else if (strcmp(s, "1.1") == 0)
        *out = 11;
    else if (strcmp(s, "1.2") == 0)
        *out = 12;
    else if (strcmp(s, "1.3") == 0)
        *out = 13;
    else
        return false;
    return true;
}

/* A code the catalogue has, for --forbid: a misspelt one is a usage error, not a silent
 * "never raised". */
static bool is_finding_code(const char *s)
{
    const struct ms_catalogue_entry *e = ms_catalogue_find(s);
    /* the language's own findings are not items */
    return e && ms_catalogue_id(e) != MS_F_REQUIRE_UNMET &&
           ms_catalogue_id(e) != MS_F_FORBID_PRESENT;
}

static int parse_item(const char *text, bool forbid, struct ms_requirement *r, struct ms_error *err)
{
    *r = (struct ms_requirement){.forbid = forbid};
    snprintf(r->text, sizeof r->text, "%s", text);
    static const struct {
        const char *name;
        enum ms_req_kind kind;
        enum ms_protocol protocol;
        enum ms_security security;
    } words[] = {
        {"imap", MS_REQ_PROTOCOL, MS_PROTOCOL_IMAP, MS_SECURITY_NONE},
        {"pop3", MS_REQ_PROTOCOL, MS_PROTOCOL_POP3, MS_SECURITY_NONE},
        {"imaps", MS_REQ_ENDPOINT, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT},
        {"imap+starttls", MS_REQ_ENDPOINT, MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS},
        {"pop3s", MS_REQ_ENDPOINT, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT},
        {"pop3+stls", MS_REQ_ENDPOINT, MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS},
        {"submission", MS_REQ_PROTOCOL, MS_PROTOCOL_SUBMISSION, MS_SECURITY_NONE},
        {"submissions", MS_REQ_ENDPOINT, MS_PROTOCOL_SUBMISSION, MS_SECURITY_IMPLICIT},
        {"submission+starttls", MS_REQ_ENDPOINT, MS_PROTOCOL_SUBMISSION, MS_SECURITY_STARTTLS},
        {"login", MS_REQ_LOGIN, MS_PROTOCOL_IMAP, MS_SECURITY_NONE},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcasecmp(text, words[i].name) == 0) {
            r->kind = words[i].kind;
            r->protocol = words[i].protocol;
            r->security = words[i].security;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof feature_ids / sizeof feature_ids[0]; i++) {
        if (strcasecmp(text, feature_ids[i]) == 0) {
            r->kind = MS_REQ_FEATURE;
            snprintf(r->name, sizeof r->name, "%s", feature_ids[i]);
            return 0;
        }
    }
    const char *rest = NULL;
    if (strncasecmp(text, "smtp:SIZE", 9) == 0 && parse_op(text + 9, &r->op, &rest) == 0) {
        /* RFC 1870: the largest message in bytes, as EHLO says it */
        char *end = NULL;
        long long bytes = strtoll(rest, &end, 10);
        if (!*rest || *end || bytes < 0 || bytes > 1000000000000LL)
            return ms_error_set(err, MS_EINVAL,
                                "'%s': smtp:SIZE compares with a whole number of bytes", text);
        r->kind = MS_REQ_SMTP_SIZE;
        r->value = (long)bytes;
        return 0;
    }
    if (strncasecmp(text, "imap:", 5) == 0 || strncasecmp(text, "pop3:", 5) == 0 ||
        strncasecmp(text, "smtp:", 5) == 0) {
        if (!text[5] || strlen(text + 5) >= sizeof r->name || strchr(text + 5, ' '))
            return ms_error_set(err, MS_EINVAL, "'%s': a capability name must follow the colon",
                                text);
        /* an EHLO keyword has no '<', '>' or '=' ("AUTH=" asks for a mechanism) */
        bool smtp = strncasecmp(text, "smtp:", 5) == 0;
        bool auth = strncasecmp(text + 5, "AUTH=", 5) == 0;
        if (smtp && strpbrk(auth ? text + 10 : text + 5, "<>="))
            return ms_error_set(err, MS_EINVAL,
                                "'%s': only smtp:SIZE compares (e.g. smtp:SIZE>=10000000)", text);
        r->kind = MS_REQ_CAPABILITY;
        r->protocol = strncasecmp(text, "imap:", 5) == 0   ? MS_PROTOCOL_IMAP
                      : strncasecmp(text, "pop3:", 5) == 0 ? MS_PROTOCOL_POP3
                                                           : MS_PROTOCOL_SUBMISSION;
        snprintf(r->name, sizeof r->name, "%s", text + 5);
        return 0;
    }
    if (strncasecmp(text, "tls", 3) == 0 && parse_op(text + 3, &r->op, &rest) == 0) {
        if (!parse_tls_version(rest, &r->value))
            return ms_error_set(err, MS_EINVAL, "'%s': TLS versions are 1.0, 1.1, 1.2, 1.3", text);
        r->kind = MS_REQ_TLS;
        return 0;
    }
    if (strncasecmp(text, "cert-days", 9) == 0 && parse_op(text + 9, &r->op, &rest) == 0) {
        char *end = NULL;
        long days = strtol(rest, &end, 10);
        if (!*rest || *end || days < -100000 || days > 100000)
            return ms_error_set(err, MS_EINVAL, "'%s': cert-days needs a whole number", text);
        r->kind = MS_REQ_CERT_DAYS;
        r->value = days;
        return 0;
    }
    /* Every word of the language ignores case; codes are stored as the report spells them. */
    char lower[sizeof r->name];
    size_t n = 0;
    for (; text[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)text[n]);
    lower[n] = '\0';
    if (!text[n] && is_finding_code(lower)) {
        r->kind = MS_REQ_FINDING;
        snprintf(r->name, sizeof r->name, "%s", lower);
        return 0;
    }
    /* The item is cut to 24 bytes so that a long one cannot push the list out of the message. */
    return ms_error_set(err, MS_EINVAL, "--%s: unknown item '%.24s'; %s",
                        forbid ? "forbid" : "require", text, VALID_FORMS);
}

int ms_require_parse(const char *list, bool forbid, struct ms_requirements *out,
                     struct ms_error *err)
{
    char buf[1024];
    if (strlen(list) >= sizeof buf)
        return ms_error_set(err, MS_EINVAL, "the --%s list is too long",
                            forbid ? "forbid" : "require");
    snprintf(buf, sizeof buf, "%s", list);
    size_t added = 0;
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        size_t len = strlen(item);
        while (len > 0 && item[len - 1] == ' ')
            item[--len] = '\0';
        if (!*item)
            continue;
        if (out->count >= MS_MAX_REQUIREMENTS)
            return ms_error_set(err, MS_EINVAL, "too many --require/--forbid items (at most %d)",
                                MS_MAX_REQUIREMENTS);
        int rc = parse_item(item, forbid, &out->items[out->count], err);
        if (rc < 0)
            return rc;
        out->count++;
        added++;
    }
    if (!added)
        return ms_error_set(err, MS_EINVAL, "--%s needs at least one item; %s",
                            forbid ? "forbid" : "require", VALID_FORMS);
    return 0;
}

static long tls_minor(const char *version)
{
    if (strcmp(version, "TLSv1.3") == 0)
        return 13;
    if (strcmp(version, "TLSv1.2") == 0)
        return 12;
    if (strcmp(version, "TLSv1.1") == 0)
        return 11;
    if (strcmp(version, "TLSv1") == 0 || strcmp(version, "TLSv1.0") == 0)
        return 10;
    return 0; /* SSLv3 and older */
}

static bool capability_offered(const struct ms_endpoint_result *ep, const char *name)
{
    const struct ms_strlist *lists[] = {&ep->caps_after_login, &ep->caps_after_tls};
    for (size_t i = 0; i < 2; i++) {
        switch (ep->protocol) {
        case MS_PROTOCOL_IMAP:
            if (ms_strlist_has(lists[i], name))
                return true;
            break;
        case MS_PROTOCOL_POP3:
            if (ms_caps_pop3_find(lists[i], name))
                return true;
            break;
        default: /* "AUTH=PLAIN" asks for a mechanism, in either AUTH form */
            if (strncasecmp(name, "AUTH=", 5) == 0 ? ms_caps_smtp_offers(lists[i], name + 5)
                                                   : ms_caps_smtp_find(lists[i], name) != NULL)
                return true;
            break;
        }
    }
    return false;
}

bool ms_require_holds(const struct ms_requirement *item, const struct ms_result *result,
                      const struct ms_assessment *a)
{
    switch (item->kind) {
    case MS_REQ_PROTOCOL:
        for (size_t i = 0; i < a->verdict_count; i++)
            if (a->verdicts[i].protocol == item->protocol)
                return a->verdicts[i].available;
        return false;
    case MS_REQ_ENDPOINT:
        for (size_t i = 0; i < result->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &result->endpoints[i];
            if (ep->protocol == item->protocol && ep->security == item->security &&
                ep->completed_securely)
                return true;
        }
        return false;
    case MS_REQ_CAPABILITY:
        for (size_t i = 0; i < result->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &result->endpoints[i];
            if (ep->protocol == item->protocol && ep->tls.established &&
                capability_offered(ep, item->name))
                return true;
        }
        return false;
    /* login, tls and cert-days hold for --require when every sign-in / session / certificate
     * satisfies them (and there is one), for --forbid when any does: `--forbid tls<1.2` must
     * fire when one endpoint of four negotiates TLS 1.0. */
    case MS_REQ_LOGIN: {
        bool tried = false;
        for (size_t i = 0; i < result->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &result->endpoints[i];
            if (ep->auth.attempted) {
                tried = true;
                if (ep->auth.ok != !item->forbid)
                    return item->forbid;
            }
        }
        return tried && !item->forbid;
    }
    case MS_REQ_TLS: {
        bool any = false;
        for (size_t i = 0; i < result->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &result->endpoints[i];
            if (!ep->tls.established)
                continue;
            any = true;
            if (compare(tls_minor(ep->tls.version), item->op, item->value) == item->forbid)
                return item->forbid;
        }
        return any && !item->forbid;
    }
    case MS_REQ_CERT_DAYS: {
        bool any = false;
        for (size_t i = 0; i < result->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &result->endpoints[i];
            if (!ep->tls.has_certificate)
                continue;
            any = true;
            if (compare(ep->tls.cert.days_left, item->op, item->value) == item->forbid)
                return item->forbid;
        }
        return any && !item->forbid;
    }
    case MS_REQ_FINDING:
        for (size_t i = 0; i < a->finding_count; i++)
            if (strcmp(a->findings[i].code, item->name) == 0)
                return true;
        return false;
    case MS_REQ_FEATURE: return ms_assess_feature_holds(a, item->name);
    case MS_REQ_SMTP_SIZE:
        for (size_t i = 0; i < result->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &result->endpoints[i];
            uint64_t limit = 0;
            if (ep->protocol != MS_PROTOCOL_SUBMISSION || !ep->tls.established ||
                !ep->caps_after_tls_read || ms_caps_smtp_size(&ep->caps_after_tls, &limit) != 1)
                continue;
            /* SIZE 0 or without a number: no fixed limit, larger than any number */
            if (limit == 0 ? item->op == MS_REQ_GE || item->op == MS_REQ_GT
                           : compare_u64(limit, item->op, (uint64_t)item->value))
                return true;
        }
        return false;
    }
    return false;
}

/* The status after a finding of this severity: the worst wins, except that UNKNOWN (an
 * internal error) yields only to CRITICAL, as in ms_assess. */
static enum ms_status raise_status(enum ms_status current, enum ms_severity severity)
{
    enum ms_status st = severity == MS_SEVERITY_CRITICAL  ? MS_STATUS_CRITICAL
                        : severity == MS_SEVERITY_WARNING ? MS_STATUS_WARNING
                                                          : MS_STATUS_OK;
    if (current == MS_STATUS_UNKNOWN)
        return st == MS_STATUS_CRITICAL ? st : current;
    return st > current ? st : current;
}

/* A finding about endpoint i raises that endpoint's status too. */
static void raise_endpoint(struct ms_assessment *a, size_t i, enum ms_severity severity)
{
    if (a->endpoint_status)
        a->endpoint_status[i] = raise_status(a->endpoint_status[i], severity);
}

/* A finding's code and words from its catalogue row. */
static void fill(struct ms_finding *f, enum ms_finding_id id, const struct ms_var *vars, size_t n)
{
    f->id = id;
    f->code = ms_catalogue[id].code;
    ms_catalogue_expand(f->message, sizeof f->message, ms_catalogue[id].messages[MS_T_DEFAULT],
                        vars, n);
    ms_catalogue_expand(f->remedy, sizeof f->remedy, ms_catalogue[id].remedies[MS_T_DEFAULT], vars,
                        n);
}

/* Room for n more findings: the apply functions reserve it first, so running out of memory
 * leaves the assessment as it was. Returns 0 or MS_ENOMEM. */
static int reserve_findings(struct ms_assessment *a, size_t n)
{
    if (n == 0)
        return 0;
    struct ms_finding *grown = realloc(a->findings, (a->finding_count + n) * sizeof *grown);
    if (!grown)
        return MS_ENOMEM;
    a->findings = grown;
    return 0;
}

/* Put f after the findings at least as severe, keeping worst-first order, and raise the
 * status. The room for it was reserved (or freed by taking f out). */
static struct ms_finding *place_finding(struct ms_assessment *a, const struct ms_finding *f)
{
    size_t at = 0;
    while (at < a->finding_count && a->findings[at].severity >= f->severity)
        at++;
    memmove(&a->findings[at + 1], &a->findings[at], (a->finding_count - at) * sizeof *f);
    a->finding_count++;
    a->findings[at] = *f;
    a->status = raise_status(a->status, f->severity);
    return &a->findings[at];
}

/* A new zeroed finding of this severity, about no endpoint yet, in its place. */
static struct ms_finding *insert_finding(struct ms_assessment *a, enum ms_severity severity)
{
    const struct ms_finding f = {.severity = severity, .endpoint_index = -1};
    return place_finding(a, &f);
}

/* The severity of endpoint ep's response-time finding and the threshold it crossed; INFO
 * when it needs none. */
static enum ms_severity slow(const struct ms_thresholds *t, const struct ms_endpoint_result *ep,
                             double *limit)
{
    double seconds = ep->timings_ms.total / 1000.0;
    if (ep->timings_ms.total < 0)
        return MS_SEVERITY_INFO;
    if (t->critical_s > 0 && seconds > t->critical_s) {
        *limit = t->critical_s;
        return MS_SEVERITY_CRITICAL;
    }
    if (t->warning_s > 0 && seconds > t->warning_s) {
        *limit = t->warning_s;
        return MS_SEVERITY_WARNING;
    }
    return MS_SEVERITY_INFO;
}

int ms_thresholds_apply(const struct ms_thresholds *t, const struct ms_result *result,
                        struct ms_assessment *a)
{
    size_t n = 0;
    double limit = 0;
    for (size_t i = 0; i < result->endpoint_count; i++)
        n += slow(t, &result->endpoints[i], &limit) != MS_SEVERITY_INFO;
    if (reserve_findings(a, n) < 0)
        return MS_ENOMEM;
    for (size_t i = 0; i < result->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &result->endpoints[i];
        enum ms_severity sev = slow(t, ep, &limit);
        if (sev != MS_SEVERITY_INFO) {
            struct ms_finding *f = insert_finding(a, sev);
            char seconds_s[32], limit_s[32], id_s[208];
            snprintf(seconds_s, sizeof seconds_s, "%.3f", ep->timings_ms.total / 1000.0);
            snprintf(limit_s, sizeof limit_s, "%g", limit);
            snprintf(id_s, sizeof id_s, "%.200s", ep->id);
            const struct ms_var vars[] = {{"id", id_s},
                                          {"seconds", seconds_s},
                                          {"critical", sev == MS_SEVERITY_CRITICAL ? "yes" : ""},
                                          {"limit", limit_s}};
            fill(f, MS_F_PERF_RESPONSE_TIME, vars, sizeof vars / sizeof vars[0]);
            f->endpoint = ep->id;
            f->endpoint_index = (long)i;
            raise_endpoint(a, i, sev);
        }
        if (t->cert_crit_days > 0 && ep->tls.has_certificate && ep->tls.cert.days_left >= 0 &&
            ep->tls.cert.days_left < t->cert_crit_days) {
            for (size_t k = 0; k < a->finding_count; k++) {
                struct ms_finding *f = &a->findings[k];
                if (f->endpoint_index == (long)i && f->id == MS_F_TLS_CERT_EXPIRES_SOON &&
                    f->severity != MS_SEVERITY_CRITICAL) {
                    /* Take it out and put it back as critical: no memory needed. */
                    struct ms_finding copy = *f;
                    memmove(f, f + 1, (a->finding_count - k - 1) * sizeof *f);
                    a->finding_count--;
                    copy.severity = MS_SEVERITY_CRITICAL;
                    place_finding(a, &copy);
                    raise_endpoint(a, i, MS_SEVERITY_CRITICAL);
                    break;
                }
            }
        }
    }
    return 0;
}

int ms_require_apply(const struct ms_requirements *reqs, const struct ms_result *result,
                     struct ms_assessment *a)
{
    bool unmet[MS_MAX_REQUIREMENTS] = {false};
    size_t n = 0;
    for (size_t i = 0; i < reqs->count && i < MS_MAX_REQUIREMENTS; i++) {
        const struct ms_requirement *item = &reqs->items[i];
        unmet[i] = ms_require_holds(item, result, a) == item->forbid;
        n += unmet[i];
    }
    if (reserve_findings(a, n) < 0)
        return MS_ENOMEM;
    for (size_t i = 0; i < reqs->count && i < MS_MAX_REQUIREMENTS; i++) {
        const struct ms_requirement *item = &reqs->items[i];
        if (!unmet[i])
            continue;
        struct ms_finding *f = insert_finding(a, MS_SEVERITY_CRITICAL); /* the caller said so */
        const struct ms_var vars[] = {{"item", item->text}};
        fill(f, item->forbid ? MS_F_FORBID_PRESENT : MS_F_REQUIRE_UNMET, vars, 1);
    }
    return 0;
}
