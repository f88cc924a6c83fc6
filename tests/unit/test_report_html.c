/* Unit tests of the HTML renderer (report/html.c): the escape function, a hostile server's
 * words rendered as text (never markup), the verdict lines in the text report's words, the
 * account summary table, "Use these settings", findings worst first, the endpoint details,
 * the timing picture and the transcript. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fixture.h"
#include "probe/result.h"
#include "report/assess.h"
#include "report/html.h"
#include "report/text.h"

#define HOSTILE_GREETING                                                                           \
    "* OK <script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\"> & 'ready'"
#define HOSTILE_REFUSAL "NO <script>document.title='owned'</script><img src=x onerror=alert(1)>"

static char *escape(const char *in)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    ms_html_escape(f, in);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *render(const struct ms_result *r, const struct ms_assessment *a,
                    const struct ms_html_options *opt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(ms_report_html(f, r, a, opt), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static char *render_text(const struct ms_result *r, const struct ms_assessment *a)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(ms_report_text(f, r, a, false), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* The text report's words without its line wrapping: runs of blanks and line ends become
 * one space. */
static void squash(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\n') {
            if (o > s && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* No markup from outside: the only tags in the output are the renderer's own. */
static void assert_no_foreign_markup(const char *html)
{
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "onerror=\""));
    assert_null(strstr(html, "<svg/"));
}

static void count_between(const char *html, const char *open, const char *close, size_t *n)
{
    *n = 0;
    for (const char *p = html; (p = strstr(p, open)); p++) {
        assert_non_null(strstr(p, close));
        (*n)++;
    }
}

static void test_escape(void **state)
{
    (void)state;
    char *s = escape("<a href=\"x\">Tom & 'Jerry'</a>");
    assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    free(s);
    s = escape("plain text: imaps://mail.example.com:993");
    assert_string_equal(s, "plain text: imaps://mail.example.com:993");
    free(s);
    s = escape("");
    assert_string_equal(s, "");
    free(s);
    s = escape(NULL);
    assert_string_equal(s, "");
    free(s);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ms_html_escape_n(f, "a\0<b", 4);
    fclose(f);
    assert_string_equal(buf, "a\xef\xbf\xbd&lt;b");
    free(buf);
}

/* A server whose greeting, STARTTLS refusal, capabilities and certificate names carry
 * markup: everything shows as text. */
static void test_hostile_server(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a = {0};
    fx_bare_host(&r, false);
    for (size_t i = 0; i < r.endpoint_count; i++)
        snprintf(r.endpoints[i].greeting, sizeof r.endpoints[i].greeting, "%s", HOSTILE_GREETING);
    struct ms_endpoint_result *ep = &r.endpoints[I143];
    fx_fail_at(ep, MS_FAILURE_STARTTLS_REFUSED, MS_PHASE_STARTTLS, HOSTILE_REFUSAL);
    snprintf(ep->starttls_response, sizeof ep->starttls_response, "%s", HOSTILE_REFUSAL);
    fx_add_str(&ep->caps_before_tls, "X-<svg/onload=alert(1)>");
    snprintf(r.endpoints[I993].tls.cert.subject, sizeof r.endpoints[I993].tls.cert.subject,
             "CN=<img src=x onerror=alert(3)>");
    fx_set_san(&r.endpoints[I993], "<b>bold</b>.example");
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *html = render(&r, &a, NULL);

    assert_no_foreign_markup(html);
    assert_null(strstr(html, "<svg/onload"));
    assert_null(strstr(html, "<b>bold"));
    assert_non_null(strstr(html, "* OK &lt;script&gt;window.pwned=1&lt;/script&gt;&lt;img src=x "
                                 "onerror=&quot;window.pwned=2&quot;&gt; &amp; &#39;ready&#39;"));
    assert_non_null(strstr(html, "NO &lt;script&gt;document.title=&#39;owned&#39;&lt;/"
                                 "script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert_non_null(strstr(html, "<code>X-&lt;svg/onload=alert(1)&gt;</code>"));
    assert_non_null(strstr(html, "&lt;img src=x onerror=alert(3)&gt;"));
    assert_non_null(strstr(html, "DNS:&lt;b&gt;bold&lt;/b&gt;.example"));

    /* The live fragment of one endpoint escapes the same way. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(ms_report_html_endpoint(f, &r, I143), 0);
    fclose(f);
    assert_no_foreign_markup(buf);
    assert_non_null(strstr(buf, "<details class=\"endpoint live\" open>"));
    assert_non_null(strstr(buf, "stopped: starttls.refused"));
    assert_non_null(strstr(buf, "&lt;script&gt;document.title"));
    free(buf);

    /* A hostile target and transcript, too. */
    snprintf(r.target, sizeof r.target, "<script>x</script>@example.com");
    static const char transcript[] = "S: * OK <script>t()</script>\r\nC: a1 LOGOUT\r\n";
    struct ms_html_options opt = {transcript, sizeof transcript - 1,
                                  "/api/v1/transcript?target=a&b=\"<x>\""};
    free(html);
    html = render(&r, &a, &opt);
    assert_no_foreign_markup(html);
    assert_non_null(strstr(html, "for &lt;script&gt;x&lt;/script&gt;@example.com"));
    assert_non_null(strstr(html, "S: * OK &lt;script&gt;t()&lt;/script&gt;"));
    assert_non_null(strstr(html, "data-download=\"transcript-text\" hidden>"));
    assert_non_null(
        strstr(html, "href=\"/api/v1/transcript?target=a&amp;b=&quot;&lt;x&gt;&quot;\""));
    free(html);
    fx_done(&r, &a);
}

/* The verdict lines come first, in the text report's words; then the settings, the
 * summary table, the findings and the endpoints. */
static void test_layout_and_words(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a = {0};
    fx_bare_host(&r, true);
    fx_signed_in(&r);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *html = render(&r, &a, NULL);
    char *text = render_text(&r, &a);
    squash(text);
    assert_no_foreign_markup(html);

    /* verdicts: the same summary sentences, first in the document */
    assert_true(a.verdict_count >= 2);
    const char *first_verdict = strstr(html, "<p class=\"verdict");
    assert_non_null(first_verdict);
    for (size_t i = 0; i < a.verdict_count; i++) {
        assert_non_null(strstr(text, a.verdicts[i].summary));
        char *esc = escape(a.verdicts[i].summary);
        const char *at = strstr(html, esc);
        assert_non_null(at);
        assert_true(at < strstr(html, "id=\"settings\""));
        free(esc);
    }
    assert_non_null(strstr(html, "Overall: <span class=\"tag st-"));

    /* Use these settings: the text report's rows */
    const char *settings = strstr(html, "<h2>Use these settings</h2>");
    assert_non_null(settings);
    assert_true(settings > first_verdict);
    assert_non_null(strstr(html, "<span class=\"head\">Incoming mail (IMAP): </span> <span "
                                 "class=\"value\">server " HOST "  port 993  security SSL/TLS"));
    assert_non_null(strstr(text, "Incoming mail (IMAP):"));
    assert_non_null(strstr(html, "User name:            </span> <span class=\"value\">alice ("));
    assert_non_null(strstr(html, "class=\"copy\" data-copy=\"settings-text\" hidden"));

    /* the summary table: one column per protocol, a row per question answered */
    const char *table = strstr(html, "<table class=\"summary-table\">");
    assert_non_null(table);
    assert_non_null(strstr(table, "<th scope=\"col\">IMAP</th><th scope=\"col\">POP3</th>"));
    const struct ms_feature *enabled = &a.summary.features[MS_FEATURE_PROTOCOL_ENABLED];
    char *label = escape(enabled->label);
    assert_non_null(strstr(table, label));
    free(label);
    char *cell = escape(enabled->answers[MS_PROTOCOL_IMAP].text);
    assert_non_null(strstr(table, cell));
    free(cell);
    assert_non_null(strstr(html, "Signed in as alice on imaps://" HOST ":993"));

    /* findings worst first, each with its remedy */
    assert_true(a.finding_count > 0);
    const char *prev = html;
    for (size_t i = 0; i < a.finding_count; i++) {
        char *code = escape(a.findings[i].code);
        char needle[200];
        snprintf(needle, sizeof needle, "<code class=\"code\">%s</code>", code);
        free(code);
        const char *at = strstr(prev, needle);
        assert_non_null(at);
        prev = at;
    }
    size_t n_findings, n_fix;
    count_between(html, "<li class=\"finding sev-", "</li>", &n_findings);
    count_between(html, "<p class=\"fix\"><b>Fix:</b> ", "</p>", &n_fix);
    assert_int_equal(n_findings, a.finding_count);
    assert_int_equal(n_fix, a.finding_count);
    assert_non_null(strstr(html, "<li class=\"finding sev-critical\"><span class=\"tag "
                                 "sev-critical\">CRITICAL</span>"));

    /* endpoints: one collapsible block each, with its status */
    size_t n_details;
    count_between(html, "<details class=\"endpoint st-", "</details>", &n_details);
    assert_int_equal(n_details, r.endpoint_count);
    assert_non_null(strstr(html, "<dt>greeting</dt>"));
    assert_non_null(strstr(html, "<dt>caps over TLS</dt>"));
    assert_non_null(strstr(html, "<dt>sign-in</dt><dd>OK as alice"));
    /* no transcript section without a transcript */
    assert_null(strstr(html, "class=\"transcript\""));
    free(text);
    free(html);
    fx_done(&r, &a);
}

/* The timing picture: a bar per phase on one axis, widths in proportion. */
static void test_timeline(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a = {0};
    fx_bare_host(&r, false);
    r.endpoints[I993].timings_ms = (struct ms_timings){10, 20, 30, 10, 100};
    r.endpoints[I143].timings_ms = (struct ms_timings){10, 20, 30, 10, 200};
    r.endpoints[P110].timings_ms = (struct ms_timings){5, -1, -1, -1, 5};
    r.endpoints[P995].timings_ms = (struct ms_timings){-1, -1, -1, -1, -1};
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *html = render(&r, &a, NULL);
    const char *svg = strstr(html, "<svg class=\"timeline-svg\"");
    assert_non_null(svg);
    assert_non_null(strstr(svg, "</svg>"));
    /* 200 ms fits an axis of 200 ms in steps of 50 */
    assert_non_null(strstr(svg, ">200 ms</text>"));
    assert_null(strstr(svg, ">250 ms</text>"));
    /* implicit TLS: resolve, connect, TLS, greeting, rest; STARTTLS: greeting before TLS */
    const char *i993 = strstr(svg, "imaps://" HOST ":993: resolve 10.0 ms");
    assert_non_null(i993);
    const char *tls = strstr(i993, "imaps://" HOST ":993: TLS 30.0 ms");
    const char *greet = strstr(i993, "imaps://" HOST ":993: greeting 10.0 ms");
    assert_non_null(tls);
    assert_non_null(greet);
    assert_true(tls < greet);
    assert_non_null(
        strstr(svg, "imaps://" HOST ":993: capabilities, sign-in and the rest 30.0 ms"));
    const char *g143 = strstr(svg, "imap://" HOST ":143: greeting 10.0 ms");
    const char *t143 = strstr(svg, "imap://" HOST ":143: TLS 30.0 ms");
    assert_non_null(g143);
    assert_non_null(t143);
    assert_true(g143 < t143);
    /* 200 ms of 544 px width: the 143 rest bar (130 ms) is 353.60 wide */
    assert_non_null(strstr(svg, "width=\"353.60\""));
    assert_non_null(strstr(svg, "pop3://" HOST ":110: resolve 5.0 ms"));
    assert_null(strstr(svg, "pop3s://" HOST ":995: "));
    /* presentation attributes and classes only: no inline style */
    assert_null(strstr(html, "style="));
    free(html);
    fx_done(&r, &a);
}

/* Nothing secure: the settings box says why, in the text report's sentence. */
static void test_no_setting(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a = {0};
    fx_bare_host(&r, false);
    for (size_t i = 0; i < r.endpoint_count; i++)
        fx_fail_at(&r.endpoints[i], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT,
                   "192.0.2.10: Connection refused");
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *html = render(&r, &a, NULL);
    char *text = render_text(&r, &a);
    char line[800];
    assert_true(ms_text_no_setting(&r, &a, line, sizeof line));
    assert_non_null(strstr(line, "No secure setting was found:"));
    assert_non_null(strstr(text, "No secure setting was found:"));
    char *esc = escape(line);
    assert_non_null(strstr(html, esc));
    free(esc);
    assert_null(strstr(html, "settings-text"));
    assert_non_null(strstr(html, "tcp.refused"));
    free(text);
    free(html);
    fx_done(&r, &a);
}

/* Discovery: the questions asked and their answers, escaped like everything else. */
static void test_discovery(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a = {0};
    fx_bare_host(&r, false);
    fx_discovery(&r);
    struct ms_discovery *d = &r.discovery;
    struct ms_dns_query_fact *q = &d->queries[d->query_count++];
    snprintf(q->name, sizeof q->name, "_imaps._tcp.example.com");
    snprintf(q->type, sizeof q->type, "SRV");
    snprintf(q->status, sizeof q->status, "ok");
    q->duration_ms = 1.25;
    fx_add_str(&q->answers, "0 1 993 <img src=x onerror=alert(1)>.example.com");
    struct ms_candidate *c = &d->candidates[d->candidate_count++];
    snprintf(c->host, sizeof c->host, "pop.example.com");
    c->port = 995;
    c->source = MS_SOURCE_CONVENTIONAL;
    c->endpoint_index = -1;
    snprintf(c->dropped, sizeof c->dropped, "does not resolve");
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    char *html = render(&r, &a, NULL);
    assert_no_foreign_markup(html);
    assert_non_null(strstr(html, "<summary>Discovery for example.com (41 ms)</summary>"));
    assert_non_null(strstr(html, "<li><code>SRV</code> <code>_imaps._tcp.example.com</code> ok "
                                 "1.3 ms: <code>0 1 993 &lt;img src=x "
                                 "onerror=alert(1)&gt;.example.com</code></li>"));
    assert_non_null(
        strstr(html, "<li>dropped pop.example.com:995 (conventional): does not resolve</li>"));
    /* nothing published was fetched: no section for it */
    assert_null(strstr(html, "What mail programs will be told"));
    free(html);
    fx_done(&r, &a);
}

static void test_write_error(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a = {0};
    fx_bare_host(&r, false);
    assert_int_equal(ms_assess(&r, NULL, &a), 0);
    FILE *f = fopen("/dev/full", "w");
    if (f) {
        assert_int_not_equal(ms_report_html(f, &r, &a, NULL), 0);
        fclose(f);
    }
    fx_done(&r, &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),           cmocka_unit_test(test_hostile_server),
        cmocka_unit_test(test_layout_and_words), cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_no_setting),       cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
