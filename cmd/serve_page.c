/* The helpdesk page of `mailscope serve`:
 *
 *   GET  /                 the form: an e-mail address or host name (advanced: protocols,
 *                          ports; user and password only over HTTPS or from loopback)
 *   POST /check            the form (CSRF token required): without a password, 303 to the
 *                          shareable GET /check?target=...; with one, the result at once
 *   GET  /check?target=T   the result page, streamed: each endpoint as it finishes, then
 *                          the whole report (report/html.c); works without JavaScript
 *   GET  /check/events?target=T   the same as server-sent events (the page's script)
 *   GET  /static/NAME      the page's CSS and JS, compiled into the binary
 *
 * Probes start through ms_serve_probe_start (serve_probe.c): the same connect policy, rate
 * limit, caps and ports as the API. Every string from a request or a server goes through
 * ms_html_escape. The password is read from the POST body only, handed to the probe (which
 * copies and wipes it), wiped from the body, and never written anywhere. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/serve.h"
#include "cmd/serve_probe.h"
#include "report/html.h"

/* cmake/embed.cmake */
struct ms_static_file {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct ms_static_file ms_static_files[];
extern const size_t ms_static_file_count;

#define HTML "text/html; charset=utf-8"
#define CSRF_LIFETIME_S (4 * 3600)
#define MAX_FIELD 600
#define HELD_MAX (2u << 20)

/* ---- CSRF: a token the form carries, HMAC(secret, issue time); the secret is random per
 * process, so a token works on the instance that issued it, for CSRF_LIFETIME_S ---- */

static unsigned char csrf_secret[32];
static bool csrf_ready;

static bool csrf_init(void)
{
    if (!csrf_ready && RAND_bytes(csrf_secret, sizeof csrf_secret) == 1)
        csrf_ready = true;
    return csrf_ready;
}

static void csrf_mac(long long when, char out[65])
{
    char msg[32];
    unsigned char mac[32];
    unsigned len = sizeof mac;
    int n = snprintf(msg, sizeof msg, "csrf:%lld", when);
    HMAC(EVP_sha256(), csrf_secret, sizeof csrf_secret, (const unsigned char *)msg, (size_t)n, mac,
         &len);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

static void csrf_token(char *out, size_t cap)
{
    char mac[65];
    long long now = (long long)time(NULL);
    csrf_mac(now, mac);
    snprintf(out, cap, "%lld.%s", now, mac);
}

static bool csrf_valid(const char *token)
{
    if (!token || !csrf_ready)
        return false;
    char *end = NULL;
    long long when = strtoll(token, &end, 10);
    long long now = (long long)time(NULL);
    if (end == token || *end != '.' || when > now + 60 || now - when > CSRF_LIFETIME_S)
        return false;
    char mac[65];
    csrf_mac(when, mac);
    return strlen(end + 1) == 64 && CRYPTO_memcmp(mac, end + 1, 64) == 0;
}

/* ---- form bodies (application/x-www-form-urlencoded) ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decode in place; false when it decodes to a NUL byte. */
static bool form_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') {
            *o++ = ' ';
        } else if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            char c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            if (!c)
                return false;
            *o++ = c;
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return true;
}

struct form {
    char *copy; /* the body, split and decoded in place (wiped and freed by form_free) */
    size_t cap;
    const char *csrf, *target, *protocols, *ports, *user, *password;
};

static void form_free(struct form *f)
{
    if (f->copy) {
        explicit_bzero(f->copy, f->cap);
        free(f->copy);
    }
    f->copy = NULL;
}

/* Returns NULL or what is wrong. Empty fields count as absent. */
static const char *form_parse(struct ms_http_request *r, struct form *f)
{
    size_t len = 0;
    const char *body = ms_http_body(r, &len);
    const char *type = ms_http_header(r, "Content-Type");
    if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0)
        return "the form is sent as application/x-www-form-urlencoded";
    f->cap = len + 1;
    f->copy = malloc(f->cap);
    if (!f->copy)
        return "out of memory";
    memcpy(f->copy, body ? body : "", len);
    f->copy[len] = '\0';
    ms_http_wipe_body(r); /* it may hold a password */
    static const char *const names[] = {"csrf", "target", "protocols", "ports", "user", "password"};
    const char **slots[] = {&f->csrf, &f->target, &f->protocols, &f->ports, &f->user, &f->password};
    for (char *p = f->copy, *next; p && *p; p = next) {
        next = strchr(p, '&');
        if (next)
            *next++ = '\0';
        char *eq = strchr(p, '=');
        char *value = eq ? eq + 1 : p + strlen(p);
        if (eq)
            *eq = '\0';
        if (!form_decode(p) || !form_decode(value))
            return "a form field holds a NUL byte";
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcmp(p, names[i]) != 0)
                continue;
            if (*slots[i])
                return "a form field is given twice";
            if (strlen(value) > MAX_FIELD)
                return "a form field is too long";
            *slots[i] = *value ? value : NULL;
        }
    }
    return NULL;
}

/* ---- the page around the report ---- */

static void page_head(FILE *f)
{
    fputs("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"referrer\" content=\"no-referrer\">\n<title>mailscope</title>\n"
          "<link rel=\"stylesheet\" href=\"/static/page.css\">\n"
          "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
          "<script src=\"/static/page.js\" defer></script>\n</head>\n<body>\n"
          "<header class=\"top\"><a class=\"brand\" href=\"/\">mailscope</a> <span "
          "class=\"tagline\">can this account use its mail servers, securely?</span></header>\n"
          "<main>\n",
          f);
}

static void page_foot(FILE *f)
{
    fputs("</main>\n<footer class=\"foot\">mailscope " MS_VERSION
          " &middot; checks run from this server &middot; <a href=\"/\">new check</a></footer>\n"
          "</body>\n</html>\n",
          f);
}

static void input(FILE *f, const char *name, const char *label, const char *value,
                  const char *placeholder, const char *extra)
{
    fprintf(f, "<label for=\"f-%s\">%s</label>\n<input id=\"f-%s\" name=\"%s\" %s", name, label,
            name, name, extra);
    if (placeholder)
        fprintf(f, " placeholder=\"%s\"", placeholder);
    if (value) {
        fputs(" value=\"", f);
        ms_html_escape(f, value);
        fputc('"', f);
    }
    fputs(">\n", f);
}

/* The form, filled with what was asked (never the password). */
static void page_form(FILE *f, struct ms_http_request *r, const char *target, const char *protocols,
                      const char *ports, const char *user)
{
    char token[128];
    csrf_token(token, sizeof token);
    fputs("<form class=\"check-form\" id=\"check-form\" method=\"post\" action=\"/check\">\n", f);
    fprintf(f, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", token);
    input(f, "target", "E-mail address or mail server", target,
          "alice@example.com or mail.example.com",
          "type=\"text\" required maxlength=\"500\" autocomplete=\"email\" autocapitalize=\"none\" "
          "spellcheck=\"false\"");
    fprintf(f, "<details class=\"advanced\"%s><summary>Advanced</summary>\n",
            protocols || ports ? " open" : "");
    input(f, "protocols", "Protocols", protocols, "imap,pop3,submission",
          "type=\"text\" maxlength=\"100\" autocapitalize=\"none\" spellcheck=\"false\"");
    input(f, "ports", "Ports", ports, "imaps=993,pop3s=995,submission=587",
          "type=\"text\" maxlength=\"200\" autocapitalize=\"none\" spellcheck=\"false\"");
    fputs("</details>\n", f);
    if (ms_serve_signin_allowed(r)) {
        fputs("<details class=\"signin-fields\"", f);
        fputs(user ? " open" : "", f);
        fputs("><summary>Sign in (optional): what can this account do?</summary>\n"
              "<p class=\"note\">The password travels only in this form's POST body. It is "
              "never stored, logged, put in a URL or shown back; a result with sign-in has no "
              "shareable link.</p>\n",
              f);
        input(f, "user", "User name", user, NULL,
              "type=\"text\" maxlength=\"255\" autocomplete=\"username\" autocapitalize=\"none\" "
              "spellcheck=\"false\"");
        input(f, "password", "Password", NULL, NULL,
              "type=\"password\" maxlength=\"500\" autocomplete=\"current-password\"");
        fputs("</details>\n", f);
    } else {
        fputs("<p class=\"note\">Sign-in (user and password) is offered only over HTTPS or to "
              "a browser on this machine: this connection is neither.</p>\n",
              f);
    }
    fputs("<button type=\"submit\" class=\"go\">Check</button>\n</form>\n", f);
}

/* Render into memory; returns NULL on failure. */
static FILE *mem(char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    return open_memstream(buf, len);
}

static int finish(FILE *f, char **buf)
{
    if (fclose(f) != 0) {
        free(*buf);
        *buf = NULL;
        return -1;
    }
    return 0;
}

/* A whole page: the form, then a problem box (title and detail) when given. */
static void respond_page(struct ms_http_request *r, unsigned status, const char *target,
                         const char *protocols, const char *ports, const char *title,
                         const char *detail)
{
    char *buf;
    size_t len;
    FILE *f = mem(&buf, &len);
    if (!f) {
        ms_http_respond(r, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    page_head(f);
    page_form(f, r, target, protocols, ports, NULL);
    if (title) {
        fprintf(f, "<section class=\"problem\" role=\"alert\"><h2>");
        ms_html_escape(f, title);
        fputs("</h2><p>", f);
        ms_html_escape(f, detail);
        fputs("</p></section>\n", f);
    } else {
        fputs("<div id=\"result\" class=\"result\"></div>\n", f);
    }
    page_foot(f);
    if (finish(f, &buf) < 0) {
        ms_http_respond(r, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    ms_http_respond_owned(r, status, HTML, buf, len);
}

static void refusal_page(struct ms_http_request *r, const struct ms_serve_refusal *why,
                         const char *target, const char *protocols, const char *ports)
{
    if (why->retry_after_s > 0) {
        char secs[32];
        snprintf(secs, sizeof secs, "%.0f", why->retry_after_s + 0.999);
        ms_http_add_header(r, "Retry-After", secs);
    }
    respond_page(r, why->status, target, protocols, ports, why->title, why->detail);
}

void ms_serve_page_form(void *app, struct ms_http_request *r)
{
    (void)app;
    if (!csrf_init()) {
        ms_http_respond(r, 500, "text/plain", "no random numbers\n", 18);
        return;
    }
    respond_page(r, 200, NULL, NULL, NULL, NULL, NULL);
}

void ms_serve_page_static(void *app, struct ms_http_request *r)
{
    (void)app;
    const char *name = ms_http_path(r) + strlen("/static/");
    for (size_t i = 0; i < ms_static_file_count; i++) {
        const struct ms_static_file *s = &ms_static_files[i];
        if (strcmp(s->name, name) != 0)
            continue;
        const char *dot = strrchr(name, '.');
        const char *type = !dot                       ? "application/octet-stream"
                           : strcmp(dot, ".css") == 0 ? "text/css; charset=utf-8"
                           : strcmp(dot, ".js") == 0  ? "text/javascript; charset=utf-8"
                           : strcmp(dot, ".svg") == 0 ? "image/svg+xml"
                                                      : "application/octet-stream";
        ms_http_respond(r, 200, type, (const char *)s->data, s->len);
        return;
    }
    ms_http_problem(r, 404, "about:blank", "Not Found", NULL, "no such file: /static/%.100s", name);
}

/* ---- a check from the page ---- */

enum page_mode { PAGE_HTML, PAGE_EVENTS };

struct page_call {
    struct ms_serve *srv;
    struct ms_http_request *r;
    struct ms_serve_probe *probe;
    enum page_mode mode;
    bool streaming;
    bool signs_in;
    char *held; /* PAGE_HTML: endpoint fragments before the page starts */
    size_t held_len;
    char target[MAX_FIELD + 1], protocols[MAX_FIELD + 1], ports[MAX_FIELD + 1], user[MAX_FIELD + 1];
    char transcript_url[3 * (3 * MAX_FIELD) + 64];
};

static void page_closed(void *arg)
{
    struct page_call *c = arg;
    ms_serve_probe_cancel(c->probe);
    free(c->held);
    free(c);
}

/* Write text as one server-sent event (each line a data: line). */
static int sse(struct ms_http_request *r, const char *event, const char *text, size_t len)
{
    char *buf;
    size_t blen;
    FILE *f = mem(&buf, &blen);
    if (!f)
        return MS_ENOMEM;
    fprintf(f, "event: %s\ndata: ", event);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
            continue;
        if (text[i] == '\n' || text[i] == '\r')
            fputs("\ndata: ", f);
        else
            fputc(text[i], f);
    }
    fputs("\n\n", f);
    if (finish(f, &buf) < 0)
        return MS_ENOMEM;
    int rc = ms_http_stream_write(r, buf, blen);
    free(buf);
    return rc;
}

/* PAGE_HTML: the start of the result page, then what was held back. */
static bool page_start(struct page_call *c)
{
    if (c->streaming)
        return true;
    if (ms_http_stream_begin(c->r, 200, HTML) < 0)
        return false;
    c->streaming = true;
    char *buf;
    size_t len;
    FILE *f = mem(&buf, &len);
    if (!f)
        return false;
    page_head(f);
    page_form(f, c->r, c->target, c->protocols[0] ? c->protocols : NULL,
              c->ports[0] ? c->ports : NULL, c->user[0] ? c->user : NULL);
    fputs("<div id=\"result\" class=\"result\">\n<section class=\"progress\" id=\"progress\">"
          "<h2>Checking <span class=\"target\">",
          f);
    ms_html_escape(f, c->target);
    fputs("</span>&hellip;</h2><p class=\"note\">Each endpoint shows here as it finishes; the "
          "report follows when the last one is done.</p>\n<div id=\"live\">\n",
          f);
    if (finish(f, &buf) < 0)
        return false;
    int rc = ms_http_stream_write(c->r, buf, len);
    free(buf);
    if (rc == 0 && c->held_len)
        rc = ms_http_stream_write(c->r, c->held, c->held_len);
    free(c->held);
    c->held = NULL;
    c->held_len = 0;
    return rc == 0;
}

static bool connected(const struct ms_endpoint_result *ep)
{
    return ep->failure == MS_FAILURE_NONE || ep->failure_phase > MS_PHASE_CONNECT;
}

static void page_endpoint(void *arg, const struct ms_result *result, size_t index)
{
    struct page_call *c = arg;
    char *buf;
    size_t len;
    FILE *f = mem(&buf, &len);
    if (!f)
        return;
    int rc = ms_report_html_endpoint(f, result, index);
    if (finish(f, &buf) < 0 || rc < 0) {
        free(buf);
        return;
    }
    if (c->mode == PAGE_EVENTS) {
        if (sse(c->r, "endpoint", buf, len) < 0)
            ms_http_stream_end(c->r);
    } else if (c->streaming || connected(&result->endpoints[index])) {
        if (!page_start(c) || ms_http_stream_write(c->r, buf, len) < 0)
            ms_http_stream_end(c->r);
    } else if (c->held_len + len <= HELD_MAX) {
        char *grown = realloc(c->held, c->held_len + len);
        if (grown) {
            memcpy(grown + c->held_len, buf, len);
            c->held = grown;
            c->held_len += len;
        }
    }
    free(buf);
}

/* A problem box (a fragment), for the event stream and a page already started. */
static char *problem_box(const char *title, const char *detail, size_t *len)
{
    char *buf;
    FILE *f = mem(&buf, len);
    if (!f)
        return NULL;
    fputs("<section class=\"problem\" role=\"alert\"><h2>", f);
    ms_html_escape(f, title);
    fputs("</h2><p>", f);
    ms_html_escape(f, detail);
    fputs("</p></section>\n", f);
    return finish(f, &buf) < 0 ? NULL : buf;
}

static void page_done(void *arg, const struct ms_serve_outcome *o)
{
    struct page_call *c = arg;
    struct ms_http_request *r = c->r;
    c->probe = NULL; /* it frees itself after this */
    const char *title = NULL, *detail = NULL;
    unsigned status = 200;
    if (o->shutting_down) {
        status = 503, title = "Service shutting down";
        detail = "this mailscope instance is shutting down; try again (another one)";
        ms_http_add_header(r, "Retry-After", "5");
    } else if (o->denied) {
        status = 403, title = "Target not allowed", detail = o->denied_reason;
    } else if (!o->assessment) {
        status = 500, title = "Internal Server Error", detail = "out of memory";
    }
    if (title && c->mode == PAGE_HTML && !c->streaming) {
        respond_page(r, status, c->target, c->protocols[0] ? c->protocols : NULL,
                     c->ports[0] ? c->ports : NULL, title, detail);
        return;
    }
    char *body = NULL;
    size_t len = 0;
    if (title) {
        body = problem_box(title, detail, &len);
    } else {
        FILE *f = mem(&body, &len);
        struct ms_html_options opt = {o->transcript, o->transcript_len,
                                      c->signs_in ? NULL : c->transcript_url};
        int rc = f ? ms_report_html(f, o->result, o->assessment, &opt) : MS_ENOMEM;
        if (!f || finish(f, &body) < 0 || rc < 0) {
            free(body);
            body = problem_box("Internal Server Error", "the report could not be written", &len);
        }
    }
    if (c->mode == PAGE_EVENTS) {
        if (body)
            sse(r, title ? "problem" : "report", body, len);
    } else if (page_start(c)) {
        static const char close_live[] = "</div></section>\n";
        ms_http_stream_write(r, close_live, sizeof close_live - 1);
        if (body)
            ms_http_stream_write(r, body, len);
        char *foot;
        size_t flen;
        FILE *f = mem(&foot, &flen);
        if (f) {
            fputs("</div>\n", f);
            page_foot(f);
            if (finish(f, &foot) == 0) {
                ms_http_stream_write(r, foot, flen);
                free(foot);
            }
        }
    } else if (!c->streaming) {
        ms_http_respond(r, 500, "text/plain", "out of memory\n", 14);
    }
    free(body);
    ms_http_stream_end(r);
}

static void url_arg(char *out, size_t cap, const char *name, const char *value)
{
    size_t o = strlen(out);
    if (!value || !*value || o + strlen(name) + 3 >= cap)
        return;
    o += (size_t)snprintf(out + o, cap - o, "%s%s=", strchr(out, '?') ? "&" : "?", name);
    ms_http_url_encode(value, "@:,", out + o, cap - o);
}

/* Start a check for the page; answers the request (now or later). */
static void start(struct ms_serve *srv, struct ms_http_request *r, enum page_mode mode,
                  const char *target, const char *protocols, const char *ports, const char *user,
                  const char *password)
{
    struct page_call *c = calloc(1, sizeof *c);
    if (!c) {
        ms_http_respond(r, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    c->srv = srv;
    c->r = r;
    c->mode = mode;
    c->signs_in = user || password;
    snprintf(c->target, sizeof c->target, "%s", target ? target : "");
    snprintf(c->protocols, sizeof c->protocols, "%s", protocols ? protocols : "");
    snprintf(c->ports, sizeof c->ports, "%s", ports ? ports : "");
    snprintf(c->user, sizeof c->user, "%s", user ? user : "");
    snprintf(c->transcript_url, sizeof c->transcript_url, "/api/v1/transcript");
    url_arg(c->transcript_url, sizeof c->transcript_url, "target", c->target);
    url_arg(c->transcript_url, sizeof c->transcript_url, "protocols", c->protocols);
    url_arg(c->transcript_url, sizeof c->transcript_url, "ports", c->ports);
    struct ms_serve_probe_params p = {
        .target = target,
        .module = ms_serve_config_module(&srv->cfg, "default"),
        .protocols = protocols,
        .ports = ports,
        .user = user,
        .password = password,
        .transcript = true,
        .client = ms_http_client_addr(r),
    };
    struct ms_serve_probe_callbacks cb = {page_endpoint, page_done, c};
    struct ms_serve_refusal why = {0};
    if (!p.module) {
        why = (struct ms_serve_refusal){.status = 500, .title = "No default module"};
        snprintf(why.detail, sizeof why.detail,
                 "this service's configuration has no module "
                 "called default");
    }
    if (!p.module || ms_serve_probe_start(srv, &p, &cb, &c->probe, &why) < 0) {
        free(c);
        if (mode == PAGE_EVENTS) {
            /* An event stream cannot show a status to the script: it falls back to the
             * page (GET /check), which shows the refusal with its status. */
            if (why.retry_after_s > 0) {
                char secs[32];
                snprintf(secs, sizeof secs, "%.0f", why.retry_after_s + 0.999);
                ms_http_add_header(r, "Retry-After", secs);
            }
            ms_http_respond(r, why.status, "text/plain; charset=utf-8", why.detail,
                            strlen(why.detail));
        } else {
            refusal_page(r, &why, target, protocols, ports);
        }
        return;
    }
    ms_http_on_close(r, page_closed, c);
    if (mode == PAGE_EVENTS) {
        if (ms_http_stream_begin(r, 200, "text/event-stream") == 0) {
            c->streaming = true;
            static const char hello[] = "retry: 86400000\n\n";
            ms_http_stream_write(r, hello, sizeof hello - 1);
        }
        return;
    }
    ms_http_suspend(r);
}

struct query {
    const char *target, *protocols, *ports;
    char problem[200];
};

static bool take_arg(void *arg, const char *name, const char *value)
{
    struct query *q = arg;
    const char **slot = strcmp(name, "target") == 0      ? &q->target
                        : strcmp(name, "protocols") == 0 ? &q->protocols
                        : strcmp(name, "ports") == 0     ? &q->ports
                                                         : NULL;
    if (strcmp(name, "password") == 0 || strcmp(name, "user") == 0 || strcmp(name, "token") == 0) {
        snprintf(q->problem, sizeof q->problem,
                 "%s: credentials never go in a URL (logs and histories keep URLs); use the "
                 "form's sign-in fields",
                 name);
        return false;
    }
    if (!slot) {
        snprintf(q->problem, sizeof q->problem, "%.60s: unknown parameter", name);
        return false;
    }
    if (*slot) {
        snprintf(q->problem, sizeof q->problem, "%.60s: given more than once", name);
        return false;
    }
    if (value && strlen(value) > MAX_FIELD) {
        snprintf(q->problem, sizeof q->problem, "%.60s: longer than %d characters", name,
                 MAX_FIELD);
        return false;
    }
    *slot = value && *value ? value : NULL;
    return true;
}

static void get_check(struct ms_serve *srv, struct ms_http_request *r, enum page_mode mode)
{
    struct query q = {0};
    ms_http_args(r, take_arg, &q);
    if (q.problem[0]) {
        srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
        if (mode == PAGE_EVENTS)
            ms_http_respond(r, 400, "text/plain; charset=utf-8", q.problem, strlen(q.problem));
        else
            respond_page(r, 400, NULL, NULL, NULL, "Bad parameter", q.problem);
        return;
    }
    if (!q.target && mode == PAGE_HTML) {
        respond_page(r, 200, NULL, q.protocols, q.ports, NULL, NULL);
        return;
    }
    start(srv, r, mode, q.target, q.protocols, q.ports, NULL, NULL);
}

void ms_serve_page_check(void *app, struct ms_http_request *r)
{
    struct ms_serve *srv = app;
    if (!csrf_init()) {
        ms_http_respond(r, 500, "text/plain", "no random numbers\n", 18);
        return;
    }
    if (strcmp(ms_http_method(r), "POST") != 0) {
        get_check(srv, r, PAGE_HTML);
        return;
    }
    struct form f = {0};
    const char *bad = form_parse(r, &f);
    bool signs_in = f.user || f.password;
    char logged[300];
    ms_serve_redact_target(f.target ? f.target : "-", logged, sizeof logged);
    ms_http_log_target(r, logged, f.user != NULL);
    if (bad) {
        srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
        respond_page(r, 400, NULL, NULL, NULL, "Bad form", bad);
    } else if (!csrf_valid(f.csrf)) {
        srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
        respond_page(r, 403, f.target, f.protocols, f.ports, "The form has expired",
                     "this form did not come from this page, or is more than a few hours old: "
                     "check again from the page shown here");
    } else if (signs_in && !ms_serve_signin_allowed(r)) {
        srv->stats.rejections[MS_REJECT_DENIED]++;
        respond_page(r, 403, f.target, f.protocols, f.ports, "Sign-in needs HTTPS",
                     "a user name and password are accepted only over HTTPS or from this "
                     "machine (loopback); nothing was checked. Leave them empty to check the "
                     "servers without signing in, or start the service with --tls-cert and "
                     "--tls-key");
    } else if (!signs_in) {
        /* No secret: the result has a URL of its own, to share. */
        char where[3 * (3 * MAX_FIELD) + 64] = "/check";
        url_arg(where, sizeof where, "target", f.target);
        url_arg(where, sizeof where, "protocols", f.protocols);
        url_arg(where, sizeof where, "ports", f.ports);
        ms_http_add_header(r, "Location", where);
        respond_page(r, 303, f.target, f.protocols, f.ports, "See the result",
                     "the result is at its own address");
    } else {
        start(srv, r, PAGE_HTML, f.target, f.protocols, f.ports, f.user, f.password);
    }
    form_free(&f);
}

void ms_serve_page_events(void *app, struct ms_http_request *r)
{
    get_check(app, r, PAGE_EVENTS);
}
