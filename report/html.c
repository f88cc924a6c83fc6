/* The HTML report: verdicts first (the text report's words), the account summary table,
 * "Use these settings", findings worst first with their remedies, a timing picture (inline
 * SVG, one time axis), the endpoints as collapsible details, the redacted transcript.
 * Static markup is written as is; everything else goes through ms_html_escape. */
#include "report/html.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "probe/error.h"
#include "report/server_id.h"
#include "report/text.h"

void ms_html_escape_n(FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; text && i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        case '\0': fputs("\xef\xbf\xbd", out); break;
        default: fputc(c, out);
        }
    }
}

void ms_html_escape(FILE *out, const char *text)
{
    if (text)
        ms_html_escape_n(out, text, strlen(text));
}

/* Format, then escape: for sentences built from server strings. */
static void hf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hf(FILE *f, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ms_html_escape(f, buf);
}

static const char *upper(const char *word, char *buf, size_t cap)
{
    size_t i = 0;
    for (; word[i] && i + 1 < cap; i++)
        buf[i] = word[i] >= 'a' && word[i] <= 'z' ? (char)(word[i] - 'a' + 'A') : word[i];
    buf[i] = '\0';
    return buf;
}

/* <span class="tag st-ok">OK</span> */
static void tag(FILE *f, const char *cls_prefix, const char *word)
{
    char up[32];
    fprintf(f, "<span class=\"tag %s%s\">%s</span>", cls_prefix, word, upper(word, up, sizeof up));
}

static double round1(double ms)
{
    return (double)(long long)(ms * 10.0 + 0.5) / 10.0;
}

/* ---- endpoints ---- */

static void row_start(FILE *f, const char *name)
{
    fprintf(f, "<div class=\"row\"><dt>%s</dt><dd>", name);
}

static void row_end(FILE *f)
{
    fputs("</dd></div>\n", f);
}

static void caps_row(FILE *f, const char *name, const struct ms_strlist *caps, bool read)
{
    row_start(f, name);
    if (!read) {
        fputs("(not read)", f);
    } else if (caps->count == 0) {
        fputs("(none)", f);
    } else {
        fputs("<span class=\"caps\">", f);
        for (size_t i = 0; i < caps->count; i++) {
            fputs("<code>", f);
            ms_html_escape(f, caps->items[i]);
            fputs("</code> ", f);
        }
        if (caps->truncated)
            fputs("(list cut: too many)", f);
        fputs("</span>", f);
    }
    row_end(f);
}

static void tls_rows(FILE *f, const struct ms_tls_facts *t)
{
    row_start(f, "TLS");
    if (t->established)
        hf(f, "%s, %s", t->version[0] ? t->version : "(version unknown)",
           t->cipher[0] ? t->cipher : "(cipher unknown)");
    else
        hf(f, "handshake failed%s%s", t->handshake_error[0] ? ": " : "", t->handshake_error);
    row_end(f);
    if (!t->has_certificate)
        return;
    const struct ms_cert_facts *c = &t->cert;
    char subj[256], iss[256];
    ms_assess_cert_cn(c->subject, subj, sizeof subj, "(none)");
    ms_assess_cert_cn(c->issuer, iss, sizeof iss, "(none)");
    row_start(f, "certificate");
    hf(f, "%s, issued by %s%s", subj, iss, c->self_signed ? " (self-signed)" : "");
    fputs("<br>", f);
    if (c->days_left < 0)
        hf(f, "valid until %s (expired %ld day%s ago)", c->not_after, -c->days_left,
           c->days_left == -1 ? "" : "s");
    else
        hf(f, "valid until %s (%ld day%s left)", c->not_after, c->days_left,
           c->days_left == 1 ? "" : "s");
    fputs("<br>", f);
    if (t->verified)
        fputs("verified (trusted chain, name matches)", f);
    else
        hf(f, "NOT verified: %s%s", t->verify_error[0] ? t->verify_error : "reason unknown",
           c->hostname_match ? "" : "; the name does not match");
    if (c->san.count) {
        fputs("<br>names: ", f);
        for (size_t i = 0; i < c->san.count && i < 20; i++) {
            fputs("<code>", f);
            ms_html_escape(f, c->san.items[i]);
            fputs("</code> ", f);
        }
        if (c->san.count > 20)
            fprintf(f, "and %zu more", c->san.count - 20);
    }
    row_end(f);
}

static void timings_text(FILE *f, const struct ms_timings *t)
{
    static const char *const names[] = {"resolve", "connect", "TLS", "greeting", "total"};
    const double v[] = {t->resolve, t->connect, t->tls, t->greeting, t->total};
    bool any = false;
    for (size_t i = 0; i < 5; i++) {
        if (v[i] < 0)
            continue;
        fprintf(f, "%s%s %.1f ms", any ? ", " : "", names[i], round1(v[i]));
        any = true;
    }
    if (!any)
        fputs("(none)", f);
}

static void auth_row(FILE *f, const struct ms_result *r, const struct ms_endpoint_result *ep)
{
    const struct ms_auth_facts *au = &ep->auth;
    if (!r->credentials_given || !(au->attempted || au->not_attempted_reason[0]))
        return;
    row_start(f, "sign-in");
    if (au->attempted && au->ok) {
        hf(f, "OK as %s (%s)", r->user, au->mechanism);
    } else if (au->attempted) {
        const char *code = ms_auth_outcome_code(ms_assess_auth(ep));
        hf(f, "FAILED as %s (%s)%s%s%s ", r->user, au->mechanism, code ? ", " : "",
           code ? code : "", au->server_response[0] || au->status[0] ? ":" : "");
        fputs("<q class=\"server\">", f);
        if (au->status[0] && strncasecmp(au->server_response, au->status, strlen(au->status)))
            hf(f, "%s ", au->status);
        ms_html_escape(f, au->server_response);
        fputs("</q>", f);
        if (au->oauth_error[0]) {
            fputs(" (OAuth2 error: <q class=\"server\">", f);
            ms_html_escape(f, au->oauth_error);
            fputs("</q>)", f);
        }
    } else {
        hf(f, "not tried: %s", au->not_attempted_reason);
    }
    row_end(f);
    const struct ms_account_facts *ac = &ep->account;
    if (ac->read && ep->protocol == MS_PROTOCOL_IMAP) {
        row_start(f, "folders");
        fprintf(f, "%zu%s", ac->folder_count, ac->folders_truncated ? "+" : "");
        for (size_t k = 0; k < ac->folder_count && k < 50; k++) {
            const struct ms_folder *fo = &ac->folders[k];
            fputs(k ? ", " : ": ", f);
            fputs("<code>", f);
            ms_html_escape(f, fo->name);
            fputs("</code>", f);
            if (fo->special_use[0])
                hf(f, " (%s)", fo->special_use);
        }
        row_end(f);
        if (ac->quota_read && ac->quota_storage_used_kb >= 0) {
            row_start(f, "quota");
            if (ac->quota_storage_limit_kb > 0)
                fprintf(f, "%lld KB of %lld KB used (%lld%%)", ac->quota_storage_used_kb,
                        ac->quota_storage_limit_kb,
                        ac->quota_storage_used_kb * 100 / ac->quota_storage_limit_kb);
            else
                fprintf(f, "%lld KB used, no limit", ac->quota_storage_used_kb);
            row_end(f);
        }
    } else if (ac->read && ac->pop3_messages >= 0) {
        row_start(f, "mailbox");
        fprintf(f, "%ld message%s, %lld octets", ac->pop3_messages,
                ac->pop3_messages == 1 ? "" : "s", ac->pop3_octets < 0 ? 0 : ac->pop3_octets);
        row_end(f);
    }
}

/* The facts of one endpoint: a <dl> of rows. */
static void endpoint_facts(FILE *f, const struct ms_result *r, const struct ms_endpoint_result *ep)
{
    fputs("<dl class=\"facts\">\n", f);
    row_start(f, "address");
    ms_html_escape(f, ep->address[0] ? ep->address : "none connected");
    if (ep->addresses.count > 1 || (ep->addresses.count == 1 && !ep->address[0])) {
        fputs(" (resolved: ", f);
        for (size_t i = 0; i < ep->addresses.count; i++) {
            ms_html_escape(f, ep->addresses.items[i]);
            fputs(i + 1 < ep->addresses.count ? ", " : ")", f);
        }
    }
    row_end(f);
    if (ep->source != MS_SOURCE_TARGET) {
        row_start(f, "found by");
        hf(f, "%s %s", ms_source_name(ep->source), ep->source_name);
        row_end(f);
    }
    row_start(f, "security");
    ms_html_escape(f, ms_text_security_words(ep->security));
    row_end(f);
    row_start(f, "timings");
    timings_text(f, &ep->timings_ms);
    row_end(f);
    if (ep->greeting[0]) {
        row_start(f, "greeting");
        fputs("<q class=\"server\">", f);
        ms_html_escape(f, ep->greeting);
        fputs("</q>", f);
        row_end(f);
    }
    struct ms_server_id sid;
    ms_server_identify(ep, &sid);
    if (sid.software != MS_SERVER_UNKNOWN) {
        row_start(f, "server");
        hf(f, "%s%s%s%s", ms_server_software_label(sid.software), sid.version[0] ? " " : "",
           sid.version, sid.confidence == MS_SERVER_CONFIDENCE_HIGH ? "" : " (likely)");
        row_end(f);
    }
    if (ep->security != MS_SECURITY_IMPLICIT)
        caps_row(f, "caps pre-TLS", &ep->caps_before_tls, ep->caps_before_tls_read);
    if (ep->starttls_response[0]) {
        row_start(f, "STARTTLS");
        fputs("<q class=\"server\">", f);
        ms_html_escape(f, ep->starttls_response);
        fputs("</q>", f);
        row_end(f);
    }
    if (ep->tls.attempted)
        tls_rows(f, &ep->tls);
    if (ep->tls.established || ep->caps_after_tls_read)
        caps_row(f, "caps over TLS", &ep->caps_after_tls, ep->caps_after_tls_read);
    if (ep->caps_after_login_read)
        caps_row(f, "caps sign-in", &ep->caps_after_login, true);
    auth_row(f, r, ep);
    if (ep->injection.tested || ep->injection.note[0]) {
        row_start(f, "injection");
        if (ep->injection.vulnerable)
            hf(f, "VULNERABLE: a command sent with STARTTLS was answered inside TLS (\"%s\")",
               ep->injection.evidence);
        else if (ep->injection.tested)
            hf(f, "safe%s%s", ep->injection.note[0] ? ": " : "", ep->injection.note);
        else
            hf(f, "no verdict: %s", ep->injection.note);
        row_end(f);
    }
    if (ep->failure != MS_FAILURE_NONE) {
        row_start(f, "stopped");
        hf(f, "%s (%s)", ms_assess_failure_code(ep->failure), ms_phase_name(ep->failure_phase));
        if (ep->failure_message[0]) {
            fputs(": <q class=\"server\">", f);
            ms_html_escape(f, ep->failure_message);
            fputs("</q>", f);
        }
        row_end(f);
    }
    fputs("</dl>\n", f);
}

int ms_report_html_endpoint(FILE *out, const struct ms_result *result, size_t index)
{
    if (index >= result->endpoint_count)
        return 0;
    const struct ms_endpoint_result *ep = &result->endpoints[index];
    fprintf(out, "<details class=\"endpoint live\" open><summary><code>");
    ms_html_escape(out, ep->id);
    fputs("</code> <span class=\"state\">", out);
    if (ep->failure == MS_FAILURE_NONE)
        fputs(ep->completed_securely ? "finished: secure" : "finished", out);
    else
        hf(out, "stopped: %s", ms_assess_failure_code(ep->failure));
    fputs("</span></summary>\n", out);
    endpoint_facts(out, result, ep);
    fputs("</details>\n", out);
    if (fflush(out) == EOF || ferror(out))
        return MS_EIO;
    return 0;
}

/* ---- the timing picture ---- */

#define SVG_W 560.0
#define SVG_LEFT 8.0
#define SVG_RIGHT 8.0
#define SVG_ROW 40.0
#define PHASE_REST "capabilities, sign-in and the rest"

struct phase {
    const char *name, *cls;
    double ms;
};

/* The phases of one endpoint in the order it went through them (STARTTLS: the handshake
 * comes after the greeting), then what the session spent after them. */
static size_t phases_of(const struct ms_endpoint_result *ep, struct phase out[6])
{
    const struct ms_timings *t = &ep->timings_ms;
    size_t n = 0;
    double sum = 0;
    struct phase list[5] = {{"resolve", "ph-resolve", t->resolve},
                            {"connect", "ph-connect", t->connect},
                            {"TLS", "ph-tls", t->tls},
                            {"greeting", "ph-greeting", t->greeting},
                            {NULL, NULL, -1}};
    if (ep->security != MS_SECURITY_IMPLICIT) {
        list[2] = (struct phase){"greeting", "ph-greeting", t->greeting};
        list[3] = (struct phase){"TLS", "ph-tls", t->tls};
    }
    for (size_t i = 0; i < 4; i++) {
        if (list[i].ms < 0)
            continue;
        out[n++] = list[i];
        sum += list[i].ms;
    }
    if (t->total > sum + 0.05)
        out[n++] = (struct phase){PHASE_REST, "ph-rest", t->total - sum};
    return n;
}

static void nice_axis(double max_ms, double *step)
{
    static const double steps[] = {1,   2,   5,   10,  20,  50,  100, 200,
                                   500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5};
    *step = steps[sizeof steps / sizeof steps[0] - 1];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (max_ms / steps[i] <= 6) {
            *step = steps[i];
            return;
        }
}

static void timeline(FILE *f, const struct ms_result *r)
{
    double max = 0;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        struct phase ph[6];
        size_t n = phases_of(&r->endpoints[i], ph);
        double sum = 0;
        for (size_t k = 0; k < n; k++)
            sum += ph[k].ms;
        if (sum > max)
            max = sum;
    }
    if (r->endpoint_count == 0 || max <= 0)
        return;
    double step;
    nice_axis(max, &step);
    double axis_max = step;
    while (axis_max < max)
        axis_max += step;
    double width = SVG_W - SVG_LEFT - SVG_RIGHT;
    double height = (double)r->endpoint_count * SVG_ROW + 30;
    fputs("<section class=\"timeline\"><h2>Timing</h2>\n<div class=\"scroll\">\n", f);
    fprintf(f,
            "<svg class=\"timeline-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f "
            "%.0f\" role=\"img\" aria-label=\"Phases of each endpoint on one time axis\">\n",
            SVG_W, height);
    double bottom = (double)r->endpoint_count * SVG_ROW + 4;
    for (double v = 0; v <= axis_max + step / 2; v += step) {
        double x = SVG_LEFT + width * v / axis_max;
        fprintf(f,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#c8ccd0\" stroke-width=\"1\"/>"
                "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
                "text-anchor=\"%s\" fill=\"#444\">%g ms</text>\n",
                x, x, bottom, x, bottom + 16,
                v == 0                    ? "start"
                : v + step / 2 > axis_max ? "end"
                                          : "middle",
                v);
    }
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        struct phase ph[6];
        size_t n = phases_of(ep, ph);
        double y = (double)i * SVG_ROW;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222\">", SVG_LEFT, y + 14);
        ms_html_escape(f, ep->id);
        if (ep->failure != MS_FAILURE_NONE)
            hf(f, " (stopped: %s)", ms_assess_failure_code(ep->failure));
        fputs("</text>\n", f);
        double x = SVG_LEFT;
        for (size_t k = 0; k < n; k++) {
            double w = width * ph[k].ms / axis_max;
            fprintf(f,
                    "<rect class=\"%s\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"14\">"
                    "<title>",
                    ph[k].cls, x, y + 19, w < 0.5 ? 0.5 : w);
            hf(f, "%s: %s %.1f ms", ep->id, ph[k].name, round1(ph[k].ms));
            fputs("</title></rect>\n", f);
            x += w;
        }
    }
    fputs("</svg>\n</div>\n<p class=\"legend\">", f);
    static const struct {
        const char *cls, *name;
    } legend[] = {{"ph-resolve", "resolve"},
                  {"ph-connect", "connect"},
                  {"ph-tls", "TLS handshake"},
                  {"ph-greeting", "greeting"},
                  {"ph-rest", PHASE_REST}};
    for (size_t i = 0; i < sizeof legend / sizeof legend[0]; i++)
        fprintf(f, "<span class=\"key\"><span class=\"swatch %s\"></span>%s</span> ", legend[i].cls,
                legend[i].name);
    fputs("</p><p class=\"note\">Every endpoint starts at 0 (they run at the same time). "
          "With STARTTLS the handshake is drawn after the greeting; the commands around it "
          "are in the last part.</p>\n</section>\n",
          f);
}

/* ---- the summary ---- */

static void sign_in_lines(FILE *f, const struct ms_result *r, const struct ms_assessment *a)
{
    const struct ms_summary *s = &a->summary;
    if (!r->credentials_given) {
        fputs("<p class=\"signin\">Not signed in (no credentials given): answers that need "
              "sign-in are unknown.</p>\n",
              f);
        return;
    }
    fputs("<ul class=\"signin\">\n", f);
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++) {
        if (!s->in_play[p])
            continue;
        long at = s->auth_endpoint[p];
        const char *word = ms_text_protocol_word((enum ms_protocol)p);
        fputs("<li>", f);
        if (at < 0 || (size_t)at >= r->endpoint_count) {
            hf(f, "Sign-in as %s to %s: not tried: no %s endpoint got as far as sign-in.", r->user,
               word, word);
            fputs("</li>\n", f);
            continue;
        }
        const struct ms_endpoint_result *ep = &r->endpoints[at];
        const struct ms_auth_facts *au = &ep->auth;
        enum ms_auth_outcome o = s->auth[p];
        if (o == MS_AUTH_OK) {
            hf(f, "Signed in as %s on %s: ", r->user, ep->id);
            tag(f, "st-", "ok");
            hf(f, " (%s)", au->mechanism[0] ? au->mechanism : "?");
        } else {
            const char *code = ms_auth_outcome_code(o);
            hf(f, "Sign-in as %s on %s: ", r->user, ep->id);
            if (au->attempted) {
                tag(f, "st-", "critical");
                hf(f, " failed%s%s%s%s ", au->mechanism[0] ? " (" : "", au->mechanism,
                   au->mechanism[0] ? ")" : "", code ? "" : ":");
                if (code)
                    hf(f, "%s: ", code);
                fputs("<q class=\"server\">", f);
                ms_html_escape(f,
                               au->server_response[0] ? au->server_response : ep->failure_message);
                fputs("</q>", f);
            } else {
                hf(f, "not tried%s%s: %s", code ? ": " : "", code ? code : "",
                   au->not_attempted_reason[0] ? au->not_attempted_reason : "no reason given");
            }
        }
        fputs("</li>\n", f);
    }
    fputs("</ul>\n", f);
}

static const char *answer_class(enum ms_answer a)
{
    switch (a) {
    case MS_ANSWER_YES: return "ans-yes";
    case MS_ANSWER_NO: return "ans-no";
    case MS_ANSWER_UNKNOWN: return "ans-unknown";
    default: return "ans-na";
    }
}

static void summary(FILE *f, const struct ms_result *r, const struct ms_assessment *a)
{
    const struct ms_summary *s = &a->summary;
    enum ms_protocol cols[MS_PROTOCOL_COUNT];
    bool any_source;
    size_t n = ms_summary_columns(s, cols, &any_source);
    if (n == 0)
        return;
    fputs("<section class=\"summary\"><h2>Account summary</h2>\n", f);
    if (any_source) {
        fputs("<div class=\"scroll\"><table class=\"summary-table\">\n<thead><tr><th "
              "scope=\"col\">Question</th>",
              f);
        for (size_t k = 0; k < n; k++)
            fprintf(f, "<th scope=\"col\">%s</th>", ms_text_protocol_word(cols[k]));
        fputs("</tr></thead>\n<tbody>\n", f);
        for (int id = 0; id < MS_FEATURE_COUNT; id++) {
            const struct ms_feature *ft = &s->features[id];
            bool applies = false;
            for (size_t k = 0; k < n; k++)
                applies |= ft->answers[cols[k]].answer != MS_ANSWER_NA;
            if (!applies)
                continue;
            fputs("<tr><th scope=\"row\" title=\"", f);
            ms_html_escape(f, ft->question);
            fputs("\">", f);
            ms_html_escape(f, ft->label ? ft->label : ft->id);
            fputs("</th>", f);
            for (size_t k = 0; k < n; k++) {
                const struct ms_answer_value *v = &ft->answers[cols[k]];
                fprintf(f, "<td class=\"%s\" data-label=\"%s\">", answer_class(v->answer),
                        ms_text_protocol_word(cols[k]));
                ms_html_escape(f, v->text);
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</tbody></table></div>\n", f);
    }
    fputs("<p class=\"schedule\"><b>Schedule:</b> ", f);
    ms_html_escape(f, s->schedule);
    fputs("</p>\n", f);
    sign_in_lines(f, r, a);
    fputs("</section>\n", f);
}

/* ---- "Use these settings" ---- */

static void settings(FILE *f, const struct ms_result *r, const struct ms_assessment *a)
{
    char line[800];
    fputs("<section class=\"settings\" id=\"settings\"><h2>Use these settings</h2>\n", f);
    if (ms_text_no_setting(r, a, line, sizeof line)) {
        fputs("<p class=\"none\">", f);
        ms_html_escape(f, line);
        fputs("</p>\n</section>\n", f);
        return;
    }
    struct ms_text_setting rows[MS_PROTOCOL_COUNT];
    size_t n = ms_text_settings(r, a, rows);
    /* One plain-text block, easy to select and copy (and a copy button with JS). */
    fputs("<pre class=\"settings-text\" id=\"settings-text\">", f);
    /* spans only for the layout on narrow screens: the text is the text report's rows */
    for (size_t k = 0; k < n; k++) {
        const struct ms_endpoint_result *ep = rows[k].endpoint;
        fputs("<span class=\"setting\"><span class=\"head\">", f);
        hf(f, "%-22s", rows[k].head);
        fputs("</span> <span class=\"value\">", f);
        if (ep)
            hf(f, "server %s  port %u  security %s", ep->host, (unsigned)ep->port,
               ms_text_setting_security(ep->security));
        else
            hf(f, "none secure: %s", rows[k].why && rows[k].why[0] ? rows[k].why : "not checked");
        fputs("</span></span>\n", f);
    }
    const char *note = ms_text_user_note(r, a);
    if (note) {
        fputs("<span class=\"setting\"><span class=\"head\">", f);
        hf(f, "%-22s", "User name:");
        fputs("</span> <span class=\"value\">", f);
        hf(f, "%s (%s)", r->user, note);
        fputs("</span></span>\n", f);
    }
    fputs("</pre>\n<button type=\"button\" class=\"copy\" data-copy=\"settings-text\" "
          "hidden>Copy settings</button>\n",
          f);
    if (a->autoconfig_note[0]) {
        fputs("<p class=\"note\">", f);
        ms_html_escape(f, a->autoconfig_note);
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);
}

/* ---- findings ---- */

static void findings(FILE *f, const struct ms_assessment *a)
{
    fputs("<section class=\"findings\"><h2>Findings, worst first</h2>\n", f);
    if (a->finding_count == 0) {
        fputs("<p>No findings.</p>\n</section>\n", f);
        return;
    }
    fputs("<ol class=\"findings-list\">\n", f);
    for (size_t i = 0; i < a->finding_count; i++) {
        const struct ms_finding *fd = &a->findings[i];
        const char *sev = ms_severity_name(fd->severity);
        fprintf(f, "<li class=\"finding sev-%s\">", sev);
        tag(f, "sev-", sev);
        fputs(" <code class=\"code\">", f);
        ms_html_escape(f, fd->code);
        fputs("</code>", f);
        if (fd->endpoint) {
            fputs(" <span class=\"where\">", f);
            ms_html_escape(f, fd->endpoint);
            fputs("</span>", f);
        }
        fputs("<p class=\"message\">", f);
        ms_html_escape(f, fd->message);
        fputs("</p><p class=\"fix\"><b>Fix:</b> ", f);
        ms_html_escape(f, fd->remedy);
        fputs("</p></li>\n", f);
    }
    fputs("</ol>\n</section>\n", f);
}

/* ---- discovery and what mail programs are told ---- */

static void discovery(FILE *f, const struct ms_result *r)
{
    const struct ms_discovery *d = &r->discovery;
    fputs("<details class=\"discovery\"><summary>", f);
    hf(f, "Discovery for %s (%.0f ms)", d->domain, d->duration_ms < 0 ? 0.0 : d->duration_ms);
    fputs("</summary>\n<ul class=\"queries\">\n", f);
    for (size_t i = 0; i < d->query_count; i++) {
        const struct ms_dns_query_fact *q = &d->queries[i];
        fputs("<li><code>", f);
        ms_html_escape(f, q->type);
        fputs("</code> <code>", f);
        ms_html_escape(f, q->name);
        fputs("</code> ", f);
        hf(f, "%s", q->status[0] ? q->status : "error");
        if (strcmp(q->status, "ok") != 0 && q->message[0])
            hf(f, " (%s)", q->message);
        if (q->duration_ms >= 0)
            fprintf(f, " %.1f ms", round1(q->duration_ms));
        for (size_t k = 0; k < q->answers.count; k++) {
            fputs(k ? ", " : ": ", f);
            fputs("<code>", f);
            ms_html_escape(f, q->answers.items[k]);
            fputs("</code>", f);
        }
        fputs("</li>\n", f);
    }
    for (size_t i = 0; i < d->candidate_count; i++) {
        const struct ms_candidate *c = &d->candidates[i];
        if (!c->dropped[0])
            continue;
        fputs("<li>dropped ", f);
        hf(f, "%s:%u (%s): %s", c->host, (unsigned)c->port, ms_source_name(c->source), c->dropped);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n</details>\n", f);
}

static void published(FILE *f, const struct ms_result *r, const struct ms_assessment *a)
{
    const struct ms_published *p = &r->discovery.published;
    fputs("<section class=\"published\"><h2>What mail programs will be told</h2>\n<ul>\n", f);
    for (int k = 0; k < 2; k++) {
        int m = a->pub_program[k];
        fprintf(f, "<li><b>%s</b> ", k == 0 ? "Thunderbird" : "Outlook");
        if (m >= 0)
            hf(f, "uses %s %s", ms_pub_method_name((enum ms_pub_method)m),
               p->sources[m].final_url[0] ? p->sources[m].final_url : p->sources[m].url);
        else
            fputs(k == 0 ? "finds no autoconfig file (it guesses names)"
                         : "finds no Autodiscover settings",
                  f);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n<details><summary>Every place they look</summary>\n<ul class=\"sources\">\n", f);
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        const struct ms_pub_source *s = &p->sources[m];
        fputs("<li><code>", f);
        ms_html_escape(f, ms_pub_method_name((enum ms_pub_method)m));
        fputs("</code> ", f);
        if (s->url[0])
            hf(f, "%s -> ", s->url);
        ms_html_escape(f, ms_text_pub_outcome_words(s));
        if (s->status && s->outcome != MS_PUB_SETTINGS)
            fprintf(f, " (HTTP %ld)", s->status);
        if (s->message[0] && s->outcome != MS_PUB_SETTINGS)
            hf(f, " - %s", s->message);
        for (size_t k = 0; s->outcome == MS_PUB_SETTINGS && k < s->server_count; k++) {
            const struct ms_pub_server *ps = &s->servers[k];
            const struct ms_pub_verdict *v = ms_assess_pub_verdict(r, a, (enum ms_pub_method)m, k);
            fputs(k ? "; " : ": ", f);
            hf(f, "%s %s:%u %s: %s", ps->type, ps->host, (unsigned)ps->port,
               ms_text_pub_security(ps->security), v ? v->words : "not checked");
        }
        fputs("</li>\n", f);
    }
    fputs("</ul>\n</details>\n</section>\n", f);
}

/* ---- the whole report ---- */

int ms_report_html(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                   const struct ms_html_options *opt)
{
    const char *overall = ms_status_name(a->status);
    fprintf(out, "<section class=\"report st-%s\" id=\"report\">\n<div class=\"verdicts\">\n",
            overall);
    for (size_t i = 0; i < a->verdict_count; i++) {
        const struct ms_protocol_verdict *v = &a->verdicts[i];
        const char *st = ms_status_name(v->status);
        fprintf(out, "<p class=\"verdict st-%s\">", st);
        tag(out, "st-", st);
        fputs(" <span class=\"words\">", out);
        ms_html_escape(out, v->summary);
        fputs("</span></p>\n", out);
    }
    char when[32] = "";
    time_t t = (time_t)result->started_at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    fputs("<p class=\"overall\">Overall: ", out);
    tag(out, "st-", overall);
    hf(out, " for %s (%s, %.0f ms)", result->target, when,
       result->duration_ms < 0 ? 0.0 : result->duration_ms);
    fputs("</p>\n</div>\n", out);

    settings(out, result, a);
    summary(out, result, a);
    findings(out, a);
    if (result->discovery.performed && result->discovery.published.performed &&
        result->discovery.published.sources)
        published(out, result, a);
    timeline(out, result);

    fputs("<section class=\"endpoints\"><h2>Endpoints</h2>\n", out);
    if (result->discovery.performed)
        discovery(out, result);
    for (size_t i = 0; i < result->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &result->endpoints[i];
        enum ms_status st = a->endpoint_status ? a->endpoint_status[i] : MS_STATUS_UNKNOWN;
        fprintf(out, "<details class=\"endpoint st-%s\"><summary><code>", ms_status_name(st));
        ms_html_escape(out, ep->id);
        fputs("</code> ", out);
        tag(out, "st-", ms_status_name(st));
        if (st == MS_STATUS_OK && ep->failure != MS_FAILURE_NONE && !ep->completed_securely)
            hf(out, " (not usable; another %s endpoint works)",
               ms_text_protocol_word(ep->protocol));
        fputs("</summary>\n", out);
        endpoint_facts(out, result, ep);
        fputs("</details>\n", out);
    }
    fputs("</section>\n", out);

    if (opt && opt->transcript && opt->transcript_len) {
        fputs("<details class=\"transcript\"><summary>Protocol transcript (redacted)</summary>\n",
              out);
        if (opt->transcript_url) {
            fputs("<p><a href=\"", out);
            ms_html_escape(out, opt->transcript_url);
            fputs("\" download=\"mailscope-transcript.txt\">Download the transcript</a> (runs "
                  "the check again)</p>\n",
                  out);
        }
        fputs("<button type=\"button\" class=\"copy download\" data-download=\"transcript-text\" "
              "hidden>Save this transcript</button>\n<pre class=\"transcript-text\" "
              "id=\"transcript-text\">",
              out);
        ms_html_escape_n(out, opt->transcript, opt->transcript_len);
        fputs("</pre>\n</details>\n", out);
    }
    fputs("</section>\n", out);
    if (fflush(out) == EOF || ferror(out))
        return MS_EIO;
    return 0;
}
