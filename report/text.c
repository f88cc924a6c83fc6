/* The human report: verdicts first (the answer), then what the account can do (the
 * summary table, the schedule, the sign-in per protocol), then one block per endpoint (the
 * evidence), then the findings worst first, each with its remedy. Wrapped at 80 columns;
 * ANSI colours only when the caller asks. */
#include "report/text.h"
#include "report/text_audit.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "probe/error.h"
#include "report/server_id.h"

#define WIDTH 80
#define LABEL_WIDTH 16 /* "  caps over TLS " */

/* Word wrapper: col is the current column; continuation lines start at indent. */
struct wr {
    FILE *f;
    size_t col;
    size_t indent;
    bool fresh; /* nothing written on this line yet: no space before the next word */
};

static void wr_start(struct wr *w, FILE *f, size_t col, size_t indent)
{
    w->f = f;
    w->col = col;
    w->indent = indent;
    w->fresh = true;
}

static void wr_word(struct wr *w, const char *word, size_t len)
{
    if (len == 0)
        return;
    if (!w->fresh && w->col + 1 + len > WIDTH) {
        fprintf(w->f, "\n%*s", (int)w->indent, "");
        w->col = w->indent;
    } else if (!w->fresh) {
        fputc(' ', w->f);
        w->col++;
    }
    fwrite(word, 1, len, w->f);
    w->col += len;
    w->fresh = false;
}

static void wr_text(struct wr *w, const char *text)
{
    while (*text) {
        while (*text == ' ')
            text++;
        size_t n = strcspn(text, " ");
        wr_word(w, text, n);
        text += n;
    }
}

static void wr_fmt(struct wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wr_fmt(struct wr *w, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    wr_text(w, buf);
}

static void wr_end(struct wr *w)
{
    fputc('\n', w->f);
    w->col = 0;
}

static const char *status_color(enum ms_status s)
{
    switch (s) {
    case MS_STATUS_OK: return "\033[32m";
    case MS_STATUS_WARNING: return "\033[33m";
    case MS_STATUS_CRITICAL: return "\033[31m";
    default: return "\033[35m";
    }
}

static enum ms_status severity_status(enum ms_severity s)
{
    return s == MS_SEVERITY_CRITICAL  ? MS_STATUS_CRITICAL
           : s == MS_SEVERITY_WARNING ? MS_STATUS_WARNING
                                      : MS_STATUS_OK;
}

/* Print word in upper case, coloured by status when asked; returns its visible width. */
static size_t print_tag(FILE *f, const char *word, enum ms_status s, bool color)
{
    size_t n = strlen(word);
    if (color)
        fputs(status_color(s), f);
    for (size_t i = 0; i < n; i++)
        fputc(word[i] >= 'a' && word[i] <= 'z' ? word[i] - 'a' + 'A' : word[i], f);
    if (color)
        fputs("\033[0m", f);
    return n;
}

/* Start a "  label        value" line; returns a wrapper positioned at the value. */
static void label(struct wr *w, FILE *f, const char *name)
{
    fprintf(f, "  %-*s", LABEL_WIDTH - 2, name);
    wr_start(w, f, LABEL_WIDTH, LABEL_WIDTH);
}

const char *ms_text_security_words(enum ms_security s)
{
    switch (s) {
    case MS_SECURITY_IMPLICIT: return "implicit TLS";
    case MS_SECURITY_STARTTLS: return "plaintext, then STARTTLS";
    default: return "plaintext only (no TLS)";
    }
}

static void print_caps(FILE *f, const char *name, const struct ms_strlist *caps, bool read,
                       const char *not_read)
{
    struct wr w;
    label(&w, f, name);
    if (!read) {
        wr_text(&w, not_read);
    } else if (caps->count == 0) {
        wr_text(&w, "(none)");
    } else {
        for (size_t i = 0; i < caps->count; i++)
            wr_word(&w, caps->items[i], strlen(caps->items[i]));
        if (caps->truncated)
            wr_text(&w, "(list cut: too many)");
    }
    wr_end(&w);
}

static void print_timings(FILE *f, const struct ms_timings *t)
{
    static const char *const names[] = {"resolve", "connect", "TLS", "greeting", "total"};
    const double v[] = {t->resolve, t->connect, t->tls, t->greeting, t->total};
    struct wr w;
    size_t last = 5;
    label(&w, f, "timings");
    for (size_t i = 0; i < 5; i++)
        if (v[i] >= 0)
            last = i;
    for (size_t i = 0; i < 5; i++) {
        if (v[i] < 0)
            continue;
        /* the comma ends an item so lines break after it, never before */
        /* rounded like the JSON report, so both show the same number */
        wr_fmt(&w, "%s %.1f ms%s", names[i], (double)(long long)(v[i] * 10.0 + 0.5) / 10.0,
               i < last ? "," : "");
    }
    if (last == 5)
        wr_text(&w, "(none)");
    wr_end(&w);
}

static void print_tls(FILE *f, const struct ms_tls_facts *t)
{
    struct wr w;
    label(&w, f, "TLS");
    if (t->established)
        wr_fmt(&w, "%s, %s", t->version[0] ? t->version : "(version unknown)",
               t->cipher[0] ? t->cipher : "(cipher unknown)");
    else
        wr_fmt(&w, "handshake failed%s%s", t->handshake_error[0] ? ": " : "", t->handshake_error);
    wr_end(&w);
    if (!t->has_certificate)
        return;

    const struct ms_cert_facts *c = &t->cert;
    char subj[256], iss[256];
    ms_assess_cert_cn(c->subject, subj, sizeof subj, "(none)");
    ms_assess_cert_cn(c->issuer, iss, sizeof iss, "(none)");
    label(&w, f, "certificate");
    wr_fmt(&w, "%s, issued by %s%s", subj, iss, c->self_signed ? " (self-signed)" : "");
    wr_end(&w);
    fprintf(f, "%*s", LABEL_WIDTH, "");
    wr_start(&w, f, LABEL_WIDTH, LABEL_WIDTH);
    if (c->days_left < 0)
        wr_fmt(&w, "valid until %s (expired %ld day%s ago)", c->not_after, -c->days_left,
               c->days_left == -1 ? "" : "s");
    else
        wr_fmt(&w, "valid until %s (%ld day%s left)", c->not_after, c->days_left,
               c->days_left == 1 ? "" : "s");
    wr_end(&w);
    fprintf(f, "%*s", LABEL_WIDTH, "");
    wr_start(&w, f, LABEL_WIDTH, LABEL_WIDTH);
    if (c->key_type[0])
        wr_fmt(&w, "key %s %d bits%s%s", c->key_type, c->key_bits,
               c->signature_algorithm[0] ? ", signed with " : "", c->signature_algorithm);
    else
        wr_text(&w, "key unknown");
    wr_end(&w);
    fprintf(f, "%*s", LABEL_WIDTH, "");
    wr_start(&w, f, LABEL_WIDTH, LABEL_WIDTH);
    if (t->verified)
        wr_text(&w, "verified (trusted chain, name matches)");
    else
        wr_fmt(&w, "NOT verified: %s%s", t->verify_error[0] ? t->verify_error : "reason unknown",
               c->hostname_match ? "" : "; the name does not match");
    wr_end(&w);
}

/* "SRV _imaps._tcp.example.com (priority 0, weight 1)", "MX of example.com", ... */
static void print_source(FILE *f, const struct ms_endpoint_result *ep)
{
    struct wr w;
    label(&w, f, "found by");
    switch (ep->source) {
    case MS_SOURCE_SRV:
        wr_fmt(&w, "SRV %s", ep->source_name[0] ? ep->source_name : "record");
        if (ep->srv_priority >= 0)
            wr_fmt(&w, "(priority %d, weight %d)", ep->srv_priority, ep->srv_weight);
        break;
    case MS_SOURCE_MX:
        wr_fmt(&w, "MX (%s)", ep->source_name[0] ? ep->source_name : "record");
        break;
    case MS_SOURCE_CONVENTIONAL: wr_text(&w, "conventional name (a guess)"); break;
    case MS_SOURCE_AUTOCONFIG:
    case MS_SOURCE_AUTODISCOVER:
        wr_fmt(&w, "%s %s", ep->source == MS_SOURCE_AUTOCONFIG ? "autoconfig" : "Autodiscover",
               ep->source_name);
        break;
    default: wr_text(&w, "target"); break;
    }
    wr_end(&w);
}

static void print_family(FILE *f, const char *name, const struct ms_family_check *fc)
{
    struct wr w;
    if (!fc->tried)
        return;
    label(&w, f, name);
    if (fc->failure == MS_FAILURE_NONE) {
        if (fc->connect_ms >= 0)
            wr_fmt(&w, "%s connects (%.1f ms)", fc->address,
                   (double)(long long)(fc->connect_ms * 10.0 + 0.5) / 10.0);
        else
            wr_fmt(&w, "%s connects", fc->address);
    } else {
        wr_fmt(&w, "%s FAILS: %s", fc->address, ms_assess_failure_code(fc->failure));
        if (fc->message[0])
            wr_fmt(&w, "(%s)", fc->message);
    }
    wr_end(&w);
}

/* ---- the account summary ---------------------------------------------------------- */

#define Q_WIDTH 30  /* the question column, after a 2-space indent */
#define A_WIDTH 22  /* each protocol's column */
#define A3_WIDTH 15 /* ... when there are three */

/* The next line of cell text at most w wide, from *s (words wrap; a longer word is cut). */
static size_t cell_line(const char **s, size_t w, char *buf, size_t cap)
{
    const char *p = *s;
    size_t len = 0, last_break = 0;
    while (*p == ' ')
        p++;
    while (p[len] && len < w) {
        if (p[len] == ' ')
            last_break = len;
        len++;
    }
    if (p[len] && p[len] != ' ' && last_break > 0)
        len = last_break;
    if (len >= cap)
        len = cap - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
    *s = p + len;
    return len;
}

/* Each protocol's column: three (receiving and sending) share the width two had. */
static size_t answer_width(size_t columns)
{
    return columns > 2 ? A3_WIDTH : A_WIDTH;
}

/* One table row: cells wrap inside their columns. */
static void print_row(FILE *f, const char *q, const char *const *cells, size_t n)
{
    const char *rest[4] = {q, n > 0 ? cells[0] : "", n > 1 ? cells[1] : "", n > 2 ? cells[2] : ""};
    const size_t aw = answer_width(n);
    const size_t widths[4] = {Q_WIDTH, aw, aw, aw};
    for (int line = 0; line < 8; line++) {
        char out[4][64];
        bool any = false;
        for (size_t k = 0; k <= n; k++) {
            cell_line(&rest[k], widths[k], out[k], sizeof out[k]);
            if (out[k][0])
                any = true;
        }
        if (!any && line > 0)
            break;
        char row[256];
        int len = snprintf(row, sizeof row, "  %-*s", Q_WIDTH, out[0]);
        for (size_t k = 1; k <= n && len > 0 && (size_t)len < sizeof row; k++)
            len += snprintf(row + len, sizeof row - (size_t)len, " %-*s", (int)aw, out[k]);
        if (len < 0)
            len = 0;
        if ((size_t)len >= sizeof row)
            len = sizeof row - 1;
        while (len > 0 && row[len - 1] == ' ') /* no trailing blanks */
            len--;
        fprintf(f, "%.*s\n", len, row);
    }
}

const char *ms_text_protocol_word(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "IMAP" : p == MS_PROTOCOL_POP3 ? "POP3" : "SMTP";
}

/* A coloured tag as the next word of a wrapped line. */
static void wr_tag(struct wr *w, const char *word, enum ms_status st, bool color)
{
    size_t len = strlen(word);
    if (!w->fresh && w->col + 1 + len > WIDTH) {
        fprintf(w->f, "\n%*s", (int)w->indent, "");
        w->col = w->indent;
    } else if (!w->fresh) {
        fputc(' ', w->f);
        w->col++;
    }
    w->col += print_tag(w->f, word, st, color);
    w->fresh = false;
}

/* "Signed in as alice on imaps://host:993: OK (PLAIN)" or what went wrong, per protocol. */
static void print_sign_in(FILE *f, const struct ms_result *r, const struct ms_assessment *a,
                          bool color)
{
    const struct ms_summary *s = &a->summary;
    struct wr w;
    if (!r->credentials_given) {
        fputs("Not signed in (no credentials given): answers that need sign-in are unknown.\n", f);
        return;
    }
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++) {
        if (!s->in_play[p])
            continue;
        long at = s->auth_endpoint[p];
        enum ms_auth_outcome o = s->auth[p];
        if (at < 0 || (size_t)at >= r->endpoint_count) {
            wr_start(&w, f, 0, 4);
            wr_fmt(&w, "Sign-in as %s to %s: not tried: no %s endpoint got as far as sign-in.",
                   r->user, ms_text_protocol_word((enum ms_protocol)p),
                   ms_text_protocol_word((enum ms_protocol)p));
            wr_end(&w);
            continue;
        }
        const struct ms_endpoint_result *ep = &r->endpoints[at];
        const struct ms_auth_facts *au = &ep->auth;
        wr_start(&w, f, 0, 4);
        if (o == MS_AUTH_OK) {
            wr_fmt(&w, "Signed in as %s on %s:", r->user, ep->id);
            wr_tag(&w, "ok", MS_STATUS_OK, color);
            wr_fmt(&w, "(%s)", au->mechanism[0] ? au->mechanism : "?");
            wr_end(&w);
            continue;
        }
        const char *code = ms_auth_outcome_code(o);
        enum ms_status st =
            !code ? MS_STATUS_UNKNOWN
            : o == MS_AUTH_LOGIN_DELAY || o == MS_AUTH_IN_USE || o == MS_AUTH_TEMPORARY
                ? MS_STATUS_WARNING
            : o == MS_AUTH_NOT_ATTEMPTED || o == MS_AUTH_NOT_ATTEMPTED_INSECURE
                ? MS_STATUS_OK
                : MS_STATUS_CRITICAL;
        wr_fmt(&w, "Sign-in as %s on %s:", r->user, ep->id);
        if (au->attempted) {
            wr_tag(&w, "failed", st, color);
            if (au->mechanism[0])
                wr_fmt(&w, "(%s)", au->mechanism);
            if (code)
                wr_fmt(&w, "%s:", code);
            if (au->status[0] || au->server_response[0]) {
                char words[400];
                ms_assess_server_words(au, words, sizeof words);
                wr_text(&w, words);
            } else if (ep->failure_message[0]) {
                wr_text(&w, ep->failure_message);
            }
            if (au->oauth_error[0])
                wr_fmt(&w, "(OAuth2 error: %s)", au->oauth_error);
        } else {
            wr_tag(&w, "not tried", st, color);
            if (code)
                wr_fmt(&w, "%s:", code);
            wr_text(&w, au->not_attempted_reason[0] ? au->not_attempted_reason : "no reason given");
        }
        wr_end(&w);
    }
}

static void print_summary(FILE *f, const struct ms_result *r, const struct ms_assessment *a,
                          bool color)
{
    const struct ms_summary *s = &a->summary;
    enum ms_protocol cols[MS_PROTOCOL_COUNT];
    bool any_source;
    size_t n = ms_summary_columns(s, cols, &any_source);
    if (n == 0)
        return;
    if (any_source) {
        fprintf(f, "%-*s", Q_WIDTH + 2, "Account summary");
        for (size_t k = 0; k < n; k++) {
            const char *head = ms_text_protocol_word(cols[k]);
            if (k + 1 == n)
                fprintf(f, " %s", head);
            else
                fprintf(f, " %-*s", (int)answer_width(n), head);
        }
        fputc('\n', f);
        for (int id = 0; id < MS_FEATURE_COUNT; id++) {
            const struct ms_feature *ft = &s->features[id];
            const char *cells[MS_PROTOCOL_COUNT];
            bool applies = false; /* a question no protocol in play answers is left out */
            for (size_t k = 0; k < n; k++) {
                cells[k] = ft->answers[cols[k]].text;
                applies |= ft->answers[cols[k]].answer != MS_ANSWER_NA;
            }
            if (applies)
                print_row(f, ft->label ? ft->label : "", cells, n);
        }
    }
    struct wr w;
    fputs("Schedule: ", f);
    wr_start(&w, f, 10, 2);
    wr_text(&w, s->schedule);
    wr_end(&w);
    print_sign_in(f, r, a, color);
    fputc('\n', f);
}

/* Sign-in, account facts and the injection check of one endpoint. */
static void print_account(FILE *f, const struct ms_result *r, const struct ms_endpoint_result *ep)
{
    struct wr w;
    const struct ms_auth_facts *au = &ep->auth;
    if (ep->caps_after_login_read)
        print_caps(f, "caps sign-in", &ep->caps_after_login, true, "(not read)");
    if (r->credentials_given && (au->attempted || au->not_attempted_reason[0])) {
        enum ms_auth_outcome o = ms_assess_auth(ep);
        label(&w, f, "sign-in");
        if (au->attempted && au->ok) {
            wr_fmt(&w, "OK as %s (%s)", r->user, au->mechanism);
        } else if (au->attempted) {
            const char *code = ms_auth_outcome_code(o);
            wr_fmt(&w, "FAILED as %s (%s)%s%s%s", r->user, au->mechanism, code ? ", " : "",
                   code ? code : "", au->server_response[0] || au->status[0] ? ":" : "");
            char words[400];
            ms_assess_server_words(au, words, sizeof words);
            if (au->server_response[0] || au->status[0])
                wr_text(&w, words);
        } else {
            wr_fmt(&w, "not tried: %s", au->not_attempted_reason);
        }
        wr_end(&w);
        if (au->oauth_error[0]) {
            label(&w, f, "OAuth2 error");
            wr_text(&w, au->oauth_error);
            wr_end(&w);
        }
    }
    const struct ms_account_facts *ac = &ep->account;
    if (ac->read && ep->protocol == MS_PROTOCOL_IMAP) {
        size_t selectable = 0, special = 0;
        for (size_t k = 0; k < ac->folder_count; k++) {
            if (!ac->folders[k].noselect)
                selectable++;
            if (ac->folders[k].special_use[0])
                special++;
        }
        label(&w, f, "folders");
        wr_fmt(&w, "%zu%s (%zu selectable)%s", ac->folder_count, ac->folders_truncated ? "+" : "",
               selectable, special ? ";" : "");
        for (size_t k = 0, seen = 0; k < ac->folder_count; k++) {
            const struct ms_folder *fo = &ac->folders[k];
            if (!fo->special_use[0])
                continue;
            seen++;
            wr_fmt(&w, "%s %s%s", fo->special_use, fo->name, seen < special ? "," : "");
        }
        wr_end(&w);
        if (ac->namespace_read) {
            const struct {
                const char *name;
                const struct ms_strlist *l;
            } ns[] = {{"personal", &ac->ns_personal},
                      {"other users", &ac->ns_other_users},
                      {"shared", &ac->ns_shared}};
            char line[700] = "";
            size_t len = 0;
            for (size_t k = 0; k < 3; k++) {
                if (!ns[k].l->count)
                    continue;
                len = strlen(line);
                snprintf(line + len, sizeof line - len, "%s%s", len ? "; " : "", ns[k].name);
                for (size_t j = 0; j < ns[k].l->count; j++) {
                    len = strlen(line);
                    snprintf(line + len, sizeof line - len, " \"%s\"%s", ns[k].l->items[j],
                             j + 1 < ns[k].l->count ? "," : "");
                }
            }
            label(&w, f, "namespaces");
            wr_text(&w, line[0] ? line : "(none)");
            wr_end(&w);
        }
        if (ac->inbox_messages >= 0) {
            label(&w, f, "inbox");
            wr_fmt(&w, "%ld message%s", ac->inbox_messages, ac->inbox_messages == 1 ? "" : "s");
            if (ac->inbox_unseen >= 0)
                wr_fmt(&w, "(%ld unseen)", ac->inbox_unseen);
            wr_end(&w);
        }
        if (ac->quota_read && ac->quota_storage_used_kb >= 0) {
            label(&w, f, "quota");
            if (ac->quota_storage_limit_kb > 0)
                wr_fmt(&w, "%lld KB of %lld KB used (%lld%%)", ac->quota_storage_used_kb,
                       ac->quota_storage_limit_kb,
                       ac->quota_storage_used_kb * 100 / ac->quota_storage_limit_kb);
            else
                wr_fmt(&w, "%lld KB used, no limit", ac->quota_storage_used_kb);
            if (ac->quota_root[0])
                wr_fmt(&w, "(root \"%s\")", ac->quota_root);
            wr_end(&w);
        }
    } else if (ac->read) {
        label(&w, f, "mailbox");
        if (ac->pop3_messages >= 0)
            wr_fmt(&w, "%ld message%s, %lld octets%s", ac->pop3_messages,
                   ac->pop3_messages == 1 ? "" : "s", ac->pop3_octets < 0 ? 0 : ac->pop3_octets,
                   ac->pop3_uidl_tried || ac->pop3_top_tried ? ";" : "");
        else
            wr_text(&w, "STAT gave no answer;");
        if (ac->pop3_uidl_tried)
            wr_fmt(&w, "UIDL %s%s", ac->pop3_uidl_works ? "works" : "fails",
                   ac->pop3_top_tried ? "," : "");
        if (ac->pop3_top_tried)
            wr_fmt(&w, "TOP %s", ac->pop3_top_works ? "works" : "fails");
        wr_end(&w);
        label(&w, f, "policy");
        if (ac->pop3_expire_days == -1)
            wr_text(&w, "EXPIRE NEVER,");
        else if (ac->pop3_expire_days >= 0)
            wr_fmt(&w, "EXPIRE %ld%s,", ac->pop3_expire_days,
                   ac->pop3_expire_days == 0 ? " (deleted after download)" : " days");
        else
            wr_text(&w, "EXPIRE not said,");
        if (ac->pop3_login_delay_s >= 0)
            wr_fmt(&w, "LOGIN-DELAY %ld s", ac->pop3_login_delay_s);
        else
            wr_text(&w, "LOGIN-DELAY not said");
        wr_end(&w);
    }
    const struct ms_injection_facts *in = &ep->injection;
    if (in->tested || in->note[0]) {
        label(&w, f, "injection");
        const char *cmd = ep->protocol == MS_PROTOCOL_POP3 ? "STLS" : "STARTTLS";
        if (in->vulnerable)
            wr_fmt(&w, "VULNERABLE: a command sent with %s was answered inside TLS (\"%s\")", cmd,
                   in->evidence);
        else if (in->tested && in->note[0])
            wr_fmt(&w, "safe: %s", in->note);
        else if (in->tested)
            wr_fmt(&w, "safe: commands sent with %s were not executed", cmd);
        else
            wr_fmt(&w, "no verdict: %s", in->note);
        wr_end(&w);
    }
}

static void print_endpoint(FILE *f, const struct ms_result *r, const struct ms_endpoint_result *ep,
                           enum ms_status st, bool color)
{
    struct wr w;
    if (color)
        fputs("\033[1m", f);
    fputs(ep->id, f);
    if (color)
        fputs("\033[0m", f);
    fputs("  ", f);
    print_tag(f, ms_status_name(st), st, color);
    /* closed while a sibling works: say why a failed endpoint is still OK */
    if (st == MS_STATUS_OK && ep->failure != MS_FAILURE_NONE && !ep->completed_securely)
        fprintf(f, " (not usable; another %s endpoint works)", ms_text_protocol_word(ep->protocol));
    fputc('\n', f);

    label(&w, f, "address");
    if (ep->address[0])
        wr_text(&w, ep->address);
    else
        wr_text(&w, "none connected");
    if (ep->addresses.count > 1 || (ep->addresses.count == 1 && !ep->address[0])) {
        wr_text(&w, "(resolved:");
        for (size_t i = 0; i < ep->addresses.count; i++)
            wr_fmt(&w, "%s%s", ep->addresses.items[i], i + 1 < ep->addresses.count ? "," : ")");
    }
    wr_end(&w);

    print_family(f, "IPv4", &ep->ipv4);
    print_family(f, "IPv6", &ep->ipv6);
    if (ep->source != MS_SOURCE_TARGET)
        print_source(f, ep);

    label(&w, f, "security");
    wr_text(&w, ms_text_security_words(ep->security));
    wr_end(&w);
    print_timings(f, &ep->timings_ms);
    if (ep->greeting[0]) {
        label(&w, f, "greeting");
        wr_text(&w, ep->greeting);
        wr_end(&w);
    }
    struct ms_server_id sid;
    ms_server_identify(ep, &sid);
    if (sid.software != MS_SERVER_UNKNOWN) {
        static const char *const from[] = {
            [MS_SERVER_FROM_GREETING] = "the greeting",
            [MS_SERVER_FROM_IMPLEMENTATION] = "POP3 IMPLEMENTATION",
            [MS_SERVER_FROM_CAPABILITIES] = "the capabilities",
            [MS_SERVER_FROM_SIGN_IN] = "its answer to the sign-in",
        };
        label(&w, f, "server");
        wr_fmt(&w, "%s%s%s (from %s%s)", ms_server_software_label(sid.software),
               sid.version[0] ? " " : "", sid.version, from[sid.from],
               sid.confidence == MS_SERVER_CONFIDENCE_HIGH ? "" : ", likely");
        wr_end(&w);
    }
    if (ep->security != MS_SECURITY_IMPLICIT)
        print_caps(f, "caps pre-TLS", &ep->caps_before_tls, ep->caps_before_tls_read, "(not read)");
    if (ep->starttls_response[0]) {
        label(&w, f, "STARTTLS");
        wr_text(&w, ep->starttls_response);
        wr_end(&w);
    }
    if (ep->tls.attempted)
        print_tls(f, &ep->tls);
    if (ep->tls.established || ep->caps_after_tls_read)
        print_caps(f, "caps over TLS", &ep->caps_after_tls, ep->caps_after_tls_read, "(not read)");
    print_account(f, r, ep);
    ms_text_audit(f, ep);
    ms_text_pool(f, ep);
    if (ep->failure != MS_FAILURE_NONE) {
        label(&w, f, "stopped");
        wr_fmt(&w, "%s (%s)%s%s", ms_assess_failure_code(ep->failure),
               ms_phase_name(ep->failure_phase), ep->failure_message[0] ? ": " : "",
               ep->failure_message);
        wr_end(&w);
    }
    fputc('\n', f);
}

/* What discovery asked and found: one line per question, then the candidates it dropped,
 * grouped by host and reason. */
static void print_discovery(FILE *f, const struct ms_result *r)
{
    const struct ms_discovery *d = &r->discovery;
    struct wr w;
    fputs("Discovery for ", f);
    wr_start(&w, f, 14, 2);
    wr_fmt(&w, "%s (%s%s%s%.0f ms)", d->domain, d->user[0] ? "user " : "", d->user,
           d->user[0] ? ", " : "", d->duration_ms < 0 ? 0.0 : d->duration_ms);
    wr_end(&w);
    for (size_t i = 0; i < d->query_count; i++) {
        const struct ms_dns_query_fact *q = &d->queries[i];
        bool ok = strcmp(q->status, "ok") == 0;
        fprintf(f, "  %-6s ", q->type);
        wr_start(&w, f, 9, 11);
        wr_fmt(&w, "%s %s", q->name, q->status[0] ? q->status : "error");
        if (!ok && q->message[0])
            wr_fmt(&w, "(%s)", q->message);
        if (q->duration_ms >= 0)
            wr_fmt(&w, "%.1f ms%s", (double)(long long)(q->duration_ms * 10.0 + 0.5) / 10.0,
                   q->answers.count ? ":" : "");
        else if (q->answers.count)
            wr_text(&w, ":");
        /* an answer ("0 1 993 imap.example.com") is kept on one line */
        for (size_t k = 0; k < q->answers.count; k++) {
            char ans[320];
            int n = snprintf(ans, sizeof ans, "%s%s", q->answers.items[k],
                             k + 1 < q->answers.count ? "," : "");
            wr_word(&w, ans, n < 0 ? 0 : (size_t)n >= sizeof ans ? sizeof ans - 1 : (size_t)n);
        }
        wr_end(&w);
    }
    /* dropped candidates: one line per host and reason, with the ports */
    for (size_t i = 0; i < d->candidate_count; i++) {
        const struct ms_candidate *c = &d->candidates[i];
        bool seen = false;
        if (!c->dropped[0])
            continue;
        for (size_t j = 0; j < i && !seen; j++)
            seen = d->candidates[j].dropped[0] && strcasecmp(d->candidates[j].host, c->host) == 0 &&
                   strcmp(d->candidates[j].dropped, c->dropped) == 0;
        if (seen)
            continue;
        char ports[128] = "";
        size_t np = 0;
        for (size_t j = i; j < d->candidate_count; j++) {
            const struct ms_candidate *o = &d->candidates[j];
            size_t len = strlen(ports);
            if (strcasecmp(o->host, c->host) == 0 && strcmp(o->dropped, c->dropped) == 0 &&
                len + 8 < sizeof ports) {
                snprintf(ports + len, sizeof ports - len, "%s%u", np ? " " : "", (unsigned)o->port);
                np++;
            }
        }
        fputs("  dropped ", f);
        wr_start(&w, f, 10, 12);
        wr_fmt(&w, "%s (%s, port%s %s): %s", c->host, ms_source_name(c->source), np > 1 ? "s" : "",
               ports, c->dropped);
        wr_end(&w);
    }
    fputc('\n', f);
}

/* ---- what mail programs will be told (autoconfig, Autodiscover) ---- */

const char *ms_text_pub_security(enum ms_security s)
{
    return s == MS_SECURITY_IMPLICIT   ? "SSL/TLS"
           : s == MS_SECURITY_STARTTLS ? "STARTTLS"
                                       : "no encryption";
}

const char *ms_text_pub_outcome_words(const struct ms_pub_source *s)
{
    switch (s->outcome) {
    case MS_PUB_SETTINGS: return "settings";
    case MS_PUB_NOT_FOUND: return "nothing there";
    case MS_PUB_SIGN_IN_REQUIRED: return "requires sign-in";
    case MS_PUB_INVALID: return "invalid";
    case MS_PUB_HTTP_ERROR: return "HTTP error";
    case MS_PUB_REDIRECT_REFUSED: return "redirect not followed";
    case MS_PUB_AD_ERROR: return "Autodiscover error";
    case MS_PUB_SKIPPED: return "not asked";
    case MS_PUB_PENDING: return "unfinished";
    default: return "failed";
    }
}

/* Per source: where it was asked, what came back, each setting and whether it works; the
 * SRV records beside them; then what Thunderbird and Outlook would use. */
static void print_published(FILE *f, const struct ms_result *r, const struct ms_assessment *a)
{
    const struct ms_published *p = &r->discovery.published;
    struct wr w;
    fputs("What mail programs will be told ", f);
    wr_start(&w, f, 32, 2);
    wr_fmt(&w, "(for %s, %.0f ms)", p->address, p->duration_ms < 0 ? 0.0 : p->duration_ms);
    wr_end(&w);
    for (int k = 0; k < 2; k++) {
        int m = a->pub_program[k];
        fprintf(f, "  %-12s", k == 0 ? "Thunderbird" : "Outlook");
        wr_start(&w, f, 14, 16);
        if (m >= 0)
            wr_fmt(&w, "uses %s %s", ms_pub_method_name((enum ms_pub_method)m),
                   p->sources[m].final_url[0] ? p->sources[m].final_url : p->sources[m].url);
        else
            wr_text(&w, k == 0 ? "finds no autoconfig file (it guesses names)"
                               : "finds no Autodiscover settings");
        wr_end(&w);
    }
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        const struct ms_pub_source *s = &p->sources[m];
        fprintf(f, "  %-21s ", ms_pub_method_name((enum ms_pub_method)m));
        wr_start(&w, f, 24, 26);
        if (s->url[0])
            wr_text(&w, s->url);
        wr_fmt(&w, "%s%s", s->url[0] ? "-> " : "", ms_text_pub_outcome_words(s));
        if (s->status && s->outcome != MS_PUB_SETTINGS)
            wr_fmt(&w, "(HTTP %ld)", s->status);
        if (s->message[0] && s->outcome != MS_PUB_SETTINGS)
            wr_fmt(&w, "- %s", s->message);
        if (s->redirected_to[0])
            wr_fmt(&w, "(leads to %s, another domain)", s->redirected_to);
        if (s->plain_http && s->outcome == MS_PUB_SETTINGS)
            wr_text(&w, "(over plain http)");
        wr_end(&w);
        for (size_t k = 0; s->outcome == MS_PUB_SETTINGS && k < s->server_count; k++) {
            const struct ms_pub_server *ps = &s->servers[k];
            const struct ms_pub_verdict *v = ms_assess_pub_verdict(r, a, (enum ms_pub_method)m, k);
            char type[8];
            snprintf(type, sizeof type, "%s", ps->type);
            for (char *c = type; *c; c++)
                *c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
            fprintf(f, "      %-5s ", type);
            wr_start(&w, f, 12, 14);
            wr_fmt(&w, "%s:%u %s%s%s:", ps->host, (unsigned)ps->port,
                   ms_text_pub_security(ps->security), ps->username[0] ? ", user " : "",
                   ps->username);
            wr_text(&w, v ? v->words : "not checked");
            wr_end(&w);
        }
    }
    const struct ms_discovery *d = &r->discovery;
    for (size_t k = 0; k < d->candidate_count; k++) {
        const struct ms_candidate *cd = &d->candidates[k];
        if (cd->source != MS_SOURCE_SRV)
            continue;
        const enum ms_status *st = a->endpoint_status;
        bool probed = cd->endpoint_index >= 0 && (size_t)cd->endpoint_index < r->endpoint_count;
        fprintf(f, "  %-21s ", "srv");
        wr_start(&w, f, 24, 26);
        wr_fmt(&w, "%s -> %s:%u %s:", cd->source_name, cd->host, (unsigned)cd->port,
               ms_text_pub_security(cd->security));
        wr_text(&w, !probed ? cd->dropped
                    : ms_assess_endpoint_secure(&r->endpoints[cd->endpoint_index]) &&
                            (!st || st[cd->endpoint_index] != MS_STATUS_CRITICAL)
                        ? "works"
                        : "does not work");
        wr_end(&w);
    }
    fputc('\n', f);
}

const char *ms_text_setting_security(enum ms_security s)
{
    return s == MS_SECURITY_IMPLICIT ? "SSL/TLS" : "STARTTLS";
}

/* One "Use these settings" line: server, port and security, or why there is none. */
static void print_setting(FILE *f, const char *head, const struct ms_endpoint_result *rec,
                          const char *why, size_t host_w, int port_w)
{
    struct wr w;
    if (rec) {
        char line[1024]; /* host_w <= 255: always fits */
        snprintf(line, sizeof line, "  %-22s server %-*.255s  port %-*u  security %s", head,
                 (int)(host_w > 255 ? 255 : host_w), rec->host, port_w > 5 ? 5 : port_w,
                 (unsigned)rec->port, ms_text_setting_security(rec->security));
        if (strlen(line) <= WIDTH) {
            fprintf(f, "%s\n", line);
        } else { /* a very long host name: let the words wrap instead */
            fprintf(f, "  %-22s ", head);
            wr_start(&w, f, 25, 27);
            wr_fmt(&w, "server %s port %u security %s", rec->host, (unsigned)rec->port,
                   ms_text_setting_security(rec->security));
            wr_end(&w);
        }
        return;
    }
    fprintf(f, "  %-22s ", head);
    wr_start(&w, f, 25, 27);
    wr_fmt(&w, "none secure: %s", why[0] ? why : "not checked");
    wr_end(&w);
}

/* The rows of "Use these settings": incoming first (the preferred protocol, then the
 * alternative), then outgoing; a row per protocol recommended or asked about. */
size_t ms_text_settings(const struct ms_result *r, const struct ms_assessment *a,
                        struct ms_text_setting rows[MS_PROTOCOL_COUNT])
{
    bool wanted[MS_PROTOCOL_COUNT] = {false};
    size_t n = 0;
    for (size_t i = 0; i < a->verdict_count; i++)
        wanted[a->verdicts[i].protocol] = true;
    const enum ms_protocol order[MS_PROTOCOL_COUNT] = {
        a->preferred == MS_PROTOCOL_POP3 ? MS_PROTOCOL_POP3 : MS_PROTOCOL_IMAP,
        a->preferred == MS_PROTOCOL_POP3 ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3,
        MS_PROTOCOL_SUBMISSION};
    bool incoming_shown = false;
    for (int k = 0; k < MS_PROTOCOL_COUNT; k++) {
        enum ms_protocol p = order[k];
        const struct ms_endpoint_result *rec = ms_assess_recommended(r, a, p);
        if (!rec && !wanted[p])
            continue;
        struct ms_text_setting *row = &rows[n++];
        snprintf(row->head, sizeof row->head, "%s (%s):",
                 p == MS_PROTOCOL_SUBMISSION ? "Outgoing mail"
                 : incoming_shown            ? "Alternative"
                                             : "Incoming mail",
                 ms_text_protocol_word(p));
        if (p != MS_PROTOCOL_SUBMISSION)
            incoming_shown = true;
        row->protocol = p;
        row->endpoint = rec;
        row->why = a->not_recommended[p];
    }
    return n;
}

bool ms_text_no_setting(const struct ms_result *r, const struct ms_assessment *a, char *line,
                        size_t cap)
{
    bool wanted[MS_PROTOCOL_COUNT] = {false};
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
        if (ms_assess_recommended(r, a, (enum ms_protocol)p))
            return false;
    for (size_t i = 0; i < a->verdict_count; i++)
        wanted[a->verdicts[i].protocol] = true;
    snprintf(line, cap, "No secure setting was found:");
    bool first = true;
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++) {
        size_t len = strlen(line);
        if (!wanted[p] || !a->not_recommended[p][0])
            continue;
        snprintf(line + len, cap - len, "%s %s: %s", first ? "" : ";",
                 ms_text_protocol_word((enum ms_protocol)p), a->not_recommended[p]);
        first = false;
    }
    size_t len = strlen(line);
    snprintf(line + len, cap - len, "%s.", first ? " no endpoint was checked" : "");
    return true;
}

const char *ms_text_user_note(const struct ms_result *r, const struct ms_assessment *a)
{
    if (!r->credentials_given || !r->user[0])
        return NULL;
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
        if (a->summary.signed_in[p] >= 0)
            return "for every server above";
    return "signing in with it failed: see the findings";
}

/* The block a helpdesk reads out on the phone: server, port and security per protocol,
 * incoming first (the preferred protocol, then the alternative), then outgoing. */
static void print_settings(FILE *f, const struct ms_result *r, const struct ms_assessment *a)
{
    struct ms_text_setting rows[MS_PROTOCOL_COUNT];
    struct wr w;
    char line[800];

    fputs("\nUse these settings\n", f);
    if (ms_text_no_setting(r, a, line, sizeof line)) {
        fputs("  ", f);
        wr_start(&w, f, 2, 4);
        wr_text(&w, line);
        wr_end(&w);
        return;
    }
    size_t n = ms_text_settings(r, a, rows);
    size_t host_w = 0;
    int port_w = 0;
    for (size_t k = 0; k < n; k++) {
        if (!rows[k].endpoint)
            continue;
        char digits[8];
        int len = snprintf(digits, sizeof digits, "%u", (unsigned)rows[k].endpoint->port);
        if (strlen(rows[k].endpoint->host) > host_w)
            host_w = strlen(rows[k].endpoint->host);
        if (len > port_w)
            port_w = len;
    }
    for (size_t k = 0; k < n; k++)
        print_setting(f, rows[k].head, rows[k].endpoint, rows[k].why, host_w, port_w);
    const char *note = ms_text_user_note(r, a);
    if (note) {
        fprintf(f, "  %-22s", "User name:");
        if (25 + strlen(r->user) > WIDTH) { /* a long name starts a line of its own */
            fputs("\n   ", f);
            wr_start(&w, f, 3, 4);
        } else {
            fputc(' ', f);
            wr_start(&w, f, 25, 27);
        }
        wr_fmt(&w, "%s (%s)", r->user, note);
        wr_end(&w);
    }
}

int ms_report_text(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                   bool color)
{
    struct wr w;

    /* The answer first: one line per protocol. */
    for (size_t i = 0; i < a->verdict_count; i++) {
        const struct ms_protocol_verdict *v = &a->verdicts[i];
        size_t n = print_tag(out, ms_status_name(v->status), v->status, color);
        fprintf(out, "%*s", (int)(10 - n), "");
        wr_start(&w, out, 10, 10);
        wr_text(&w, v->summary);
        wr_end(&w);
    }

    char when[32] = "";
    time_t t = (time_t)result->started_at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    fputs("Overall: ", out);
    print_tag(out, ms_status_name(a->status), a->status, color);
    fputc(' ', out);
    wr_start(&w, out, 10 + strlen(ms_status_name(a->status)), 2);
    wr_fmt(&w, "for %s (%s, %.0f ms)", result->target, when,
           result->duration_ms < 0 ? 0.0 : result->duration_ms);
    wr_end(&w);
    fputc('\n', out);

    /* What the account can do: the feature table, the schedule, who signed in where. */
    print_summary(out, result, a, color);

    if (result->discovery.performed)
        print_discovery(out, result);
    if (result->discovery.performed && result->discovery.published.performed &&
        result->discovery.published.sources)
        print_published(out, result, a);

    for (size_t i = 0; i < result->endpoint_count; i++)
        print_endpoint(out, result, &result->endpoints[i],
                       a->endpoint_status ? a->endpoint_status[i] : MS_STATUS_UNKNOWN, color);

    if (a->finding_count == 0) {
        fputs("No findings.\n", out);
    } else {
        fputs("Findings, worst first:\n", out);
        for (size_t i = 0; i < a->finding_count; i++) {
            const struct ms_finding *fd = &a->findings[i];
            fputs("  ", out);
            size_t n = print_tag(out, ms_severity_name(fd->severity), severity_status(fd->severity),
                                 color);
            fprintf(out, "%*s", (int)(10 - n), "");
            wr_start(&w, out, 12, 12);
            wr_fmt(&w, "%s%s%s", fd->code, fd->endpoint ? "  " : "",
                   fd->endpoint ? fd->endpoint : "");
            wr_end(&w);
            fprintf(out, "%12s", "");
            wr_start(&w, out, 12, 12);
            wr_text(&w, fd->message);
            wr_end(&w);
            fprintf(out, "%12s", "");
            wr_start(&w, out, 12, 17);
            wr_text(&w, "Fix:");
            wr_text(&w, fd->remedy);
            wr_end(&w);
        }
    }
    ms_text_clients(out, result);
    print_settings(out, result, a);
    if (a->autoconfig_note[0]) {
        fputs("  ", out);
        wr_start(&w, out, 2, 4);
        wr_text(&w, a->autoconfig_note);
        wr_end(&w);
    }
    if (fflush(out) == EOF || ferror(out))
        return MS_EIO;
    return 0;
}
