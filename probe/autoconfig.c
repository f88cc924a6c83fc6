#include "probe/autoconfig.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe/autoconfig_parse.h"
#include "probe/dns.h"
#include "probe/http.h"
#include "probe/text.h"
#include "probe/trace.h"

#define MAX_HOPS 5 /* redirects followed per source (Autodiscover redirectAddr included) */

/* A DNS question's link back to its job: the job may be gone before the resolver answers. */
struct ticket {
    struct job *job;
};

struct job {
    struct ms_autoconfig *ac;
    struct ms_pub_source *src;
    bool started, finished;
    bool autodiscover;  /* the body is an Autodiscover response */
    bool post;          /* POST the Autodiscover request (else GET) */
    bool want_redirect; /* the http redirect method: only a redirect to https counts */
    char url[600];
    char host[MS_MAX_HOST + 1];
    uint16_t port, connect_port;
    bool https;
    char address[300]; /* the address asked about (Autodiscover body, autoconfig query) */
    char seen[MAX_HOPS + 1][300];
    size_t hops;
    struct ms_dns_answer addrs;
    struct ms_http_transfer *transfer;
    struct ticket *ticket;
    double t0;
};

struct ms_autoconfig {
    struct ms_session_env *env;
    struct ms_published *facts;
    struct ms_autoconfig_hooks hooks;
    char domain[MS_MAX_HOST + 1];
    char user[MS_MAX_HOST + 1];
    struct job jobs[MS_PUB_METHOD_COUNT];
    size_t open; /* jobs started and not finished */
    bool mx_known, aborted, done_told;
    struct ms_loop_timer kick; /* tells `done` from the loop, never from inside a call */
    double t0;
};

static void job_fetch(struct job *j);
static void job_resolve(struct job *j);

/* ---- small helpers ---- */

/* Copy src into dst (cap bytes), cut when too long. */
static void cpy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool in_domain(const char *host, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);
    return strcasecmp(host, domain) == 0 ||
           (h > d && host[h - d - 1] == '.' && strcasecmp(host + h - d, domain) == 0);
}

static bool literal_address(const char *text, enum ms_family family, struct ms_dns_answer *a)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        len = sizeof *in4;
        if (family == MS_FAMILY_IPV6)
            return true;
    } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        len = sizeof *in6;
        if (family == MS_FAMILY_IPV4)
            return true;
    } else {
        return false;
    }
    if (a->count < MS_DNS_MAX_ADDRESSES) {
        a->addrs[a->count] = ss;
        a->addr_lens[a->count++] = len;
    }
    return true;
}

/* The host's addresses without DNS: an IP literal, or --resolve pins. */
static bool known_addresses(const struct ms_autoconfig *ac, const char *host,
                            struct ms_dns_answer *a)
{
    const struct ms_request *req = ac->env->request;
    *a = (struct ms_dns_answer){0};
    if (literal_address(host, req->family, a))
        return true;
    bool pinned = false;
    for (size_t i = 0; i < req->pin_count; i++)
        if (strcasecmp(req->pins[i].host, host) == 0) {
            pinned = true;
            literal_address(req->pins[i].address, req->family, a);
        }
    return pinned;
}

static void trace_event(const struct job *j, const char *fmt, const char *arg)
{
    const struct ms_request *req = j->ac->env->request;
    if (!req->trace)
        return;
    char line[700], id[64];
    snprintf(line, sizeof line, fmt, arg);
    snprintf(id, sizeof id, "http:%s", ms_pub_method_name(j->src->method));
    ms_trace_write(req, j->ac->env->t0, id, "--", line, strlen(line));
}

static void on_kick(void *arg)
{
    struct ms_autoconfig *ac = arg;
    if (ac->open == 0 && ac->mx_known && !ac->done_told) {
        ac->done_told = true;
        ac->facts->duration_ms = (ms_loop_now() - ac->t0) * 1000.0;
        ac->hooks.done(ac->hooks.arg);
    }
}

static void maybe_done(struct ms_autoconfig *ac)
{
    if (ac->open == 0 && ac->mx_known && !ac->done_told)
        ms_loop_timer_set(ac->env->loop, &ac->kick, 0, on_kick, ac);
}

/* Where a URL points: 0, or -1 when it is not an http(s) URL mailscope can fetch. */
struct aim {
    char url[600];
    char host[MS_MAX_HOST + 1];  /* IPv6 without brackets */
    uint16_t port, connect_port; /* the URL's port; where to connect (--ports https=/http=) */
    bool https;
};

static int parse_aim(const struct ms_autoconfig *ac, const char *url, struct aim *out)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *explicit_port = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
              (strcasecmp(scheme, "https") == 0 || strcasecmp(scheme, "http") == 0);
    if (ok) {
        bool has_port = curl_url_get(u, CURLUPART_PORT, &explicit_port, 0) == CURLUE_OK;
        size_t hl = strlen(host);
        if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') /* curl keeps IPv6 brackets */
            snprintf(out->host, sizeof out->host, "%.*s", (int)(hl - 2), host + 1);
        else
            cpy(out->host, sizeof out->host, host);
        cpy(out->url, sizeof out->url, url);
        out->https = strcasecmp(scheme, "https") == 0;
        out->port = (uint16_t)atoi(port);
        const struct ms_ports *ports = &ac->env->request->ports;
        out->connect_port = has_port ? out->port : out->https ? ports->https : ports->http;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(explicit_port);
    curl_url_cleanup(u);
    return ok ? 0 : -1;
}

static void aim_job(struct job *j, const struct aim *a)
{
    cpy(j->url, sizeof j->url, a->url);
    cpy(j->host, sizeof j->host, a->host);
    j->port = a->port;
    j->connect_port = a->connect_port;
    j->https = a->https;
}

/* ---- ending a source ---- */

static void finish(struct job *j, enum ms_pub_outcome outcome, const char *fmt, const char *arg)
{
    if (j->finished)
        return;
    j->finished = true;
    j->src->outcome = outcome;
    if (fmt && !j->src->message[0])
        snprintf(j->src->message, sizeof j->src->message, fmt, arg ? arg : "");
    j->src->duration_ms = (ms_loop_now() - j->t0) * 1000.0;
    if (j->ticket) {
        j->ticket->job = NULL; /* the resolver's callback frees it */
        j->ticket = NULL;
    }
    if (j->transfer) {
        ms_http_cancel(j->ac->env->http, j->transfer);
        j->transfer = NULL;
    }
    if (j->started) {
        j->ac->open--;
        maybe_done(j->ac);
    }
}

static void fail_http(struct job *j, enum ms_http_failure f, const char *message)
{
    j->src->failure = f;
    finish(j, f == MS_HTTP_DNS ? MS_PUB_NOT_FOUND : MS_PUB_FAILED, "%s", message);
}

/* A document came: read it and keep what it says. */
static void take_document(struct job *j, const char *body, size_t len)
{
    struct ms_pub_source *src = j->src;
    struct ms_ac_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
        return;
    }
    const char *at = strchr(j->address, '@');
    char local[MS_MAX_HOST + 1] = "";
    if (at && (size_t)(at - j->address) < sizeof local)
        snprintf(local, sizeof local, "%.*s", (int)(at - j->address), j->address);
    struct ms_ac_address address = {j->ac->user[0] ? local : "", j->ac->domain};
    if (ms_autoconfig_parse(body, len,
                            j->autodiscover ? MS_AC_FORMAT_AUTODISCOVER : MS_AC_FORMAT_AUTOCONFIG,
                            &address, doc) < 0) {
        free(doc);
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
        return;
    }
    if (!doc->valid) {
        src->error_line = doc->line;
        src->error_column = doc->column;
        finish(j, MS_PUB_INVALID, "%s", doc->error);
        free(doc);
        return;
    }
    cpy(src->provider, sizeof src->provider, doc->provider);
    if (doc->action == MS_AC_ACTION_ERROR) {
        cpy(src->error_code, sizeof src->error_code, doc->error_code);
        finish(j, MS_PUB_AD_ERROR, "%s", doc->error_message[0] ? doc->error_message : "error");
        free(doc);
        return;
    }
    if (doc->action == MS_AC_ACTION_REDIRECT_ADDR || doc->action == MS_AC_ACTION_REDIRECT_URL) {
        char target[300];
        cpy(target, sizeof target, doc->redirect);
        enum ms_ac_action action = doc->action;
        free(doc);
        if (j->hops >= MAX_HOPS) {
            finish(j, MS_PUB_REDIRECT_REFUSED, "more than %s redirects", "5");
            return;
        }
        j->hops++;
        if (action == MS_AC_ACTION_REDIRECT_ADDR) {
            const char *dom = strchr(target, '@');
            if (!dom || !dom[1]) {
                finish(j, MS_PUB_INVALID, "redirectAddr '%s' is not an e-mail address", target);
                return;
            }
            cpy(src->redirect_address, sizeof src->redirect_address, target);
            if (!in_domain(dom + 1, j->ac->domain) && !src->redirected_to[0])
                cpy(src->redirected_to, sizeof src->redirected_to, dom + 1);
            cpy(j->address, sizeof j->address, target);
            trace_event(j, "Autodiscover redirectAddr: asking again for %s", target);
            job_fetch(j); /* the same URL, the new address */
            return;
        }
        /* redirectUrl: POST there (https only) */
        struct aim a;
        if (parse_aim(j->ac, target, &a) < 0 || !a.https) {
            finish(j, MS_PUB_REDIRECT_REFUSED, "redirectUrl '%s' is not an https URL", target);
            return;
        }
        aim_job(j, &a);
        if (!in_domain(j->host, j->ac->domain) && !src->redirected_to[0])
            cpy(src->redirected_to, sizeof src->redirected_to, j->host);
        job_resolve(j);
        return;
    }
    src->servers = calloc(doc->server_count ? doc->server_count : 1, sizeof *src->servers);
    if (!src->servers) {
        free(doc);
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
        return;
    }
    for (size_t i = 0; i < doc->server_count; i++) {
        const struct ms_ac_server *in = &doc->servers[i];
        struct ms_pub_server *out = &src->servers[i];
        cpy(out->type, sizeof out->type, ms_ac_type_name(in->type));
        cpy(out->host, sizeof out->host, in->hostname);
        out->port = (uint16_t)in->port;
        out->security = in->socket == MS_AC_SOCKET_TLS        ? MS_SECURITY_IMPLICIT
                        : in->socket == MS_AC_SOCKET_STARTTLS ? MS_SECURITY_STARTTLS
                                                              : MS_SECURITY_NONE;
        cpy(out->security_text, sizeof out->security_text, in->socket_text);
        cpy(out->authentication, sizeof out->authentication, in->authentication);
        cpy(out->username, sizeof out->username, in->username);
        snprintf(out->username_pattern, sizeof out->username_pattern, "%s", in->username_pattern);
        out->line = in->line;
    }
    src->server_count = doc->server_count;
    src->servers_truncated = doc->truncated;
    src->servers_skipped = doc->skipped;
    src->plain_http = !j->https;
    cpy(src->final_url, sizeof src->final_url, j->url);
    free(doc);
    finish(j, MS_PUB_SETTINGS, NULL, NULL);
    j->ac->hooks.published(j->ac->hooks.arg, src);
}

/* A redirect: follow it when the rules allow. */
static void follow(struct job *j, const char *location)
{
    struct ms_pub_source *src = j->src;
    if (j->hops >= MAX_HOPS) {
        finish(j, MS_PUB_REDIRECT_REFUSED, "more than %s redirects", "5");
        return;
    }
    for (size_t i = 0; i <= j->hops; i++)
        if (strcmp(j->seen[i], location) == 0) {
            finish(j, MS_PUB_REDIRECT_REFUSED, "a redirect loop (back to %s)", location);
            return;
        }
    struct aim a;
    const char *why = NULL;
    if (parse_aim(j->ac, location, &a) < 0)
        why = "a redirect to '%s', which is not an http or https URL";
    else if (j->https && !a.https)
        why = "a redirect from https to plain http ('%s')";
    else if (j->want_redirect && !a.https)
        why = "the http redirect method must lead to https, not to '%s'";
    if (why) {
        finish(j, MS_PUB_REDIRECT_REFUSED, why, location);
        return;
    }
    j->hops++;
    cpy(j->seen[j->hops], sizeof j->seen[j->hops], location);
    aim_job(j, &a);
    if (!in_domain(j->host, j->ac->domain) && !src->redirected_to[0] &&
        !(src->method == MS_PUB_MX_AUTOCONFIG && j->ac->facts->mx_domain[0] &&
          in_domain(j->host, j->ac->facts->mx_domain)))
        cpy(src->redirected_to, sizeof src->redirected_to, j->host);
    if (j->want_redirect) { /* found the https URL: now ask it */
        j->want_redirect = false;
        j->post = true;
    }
    trace_event(j, "following the redirect to %s", location);
    job_resolve(j);
}

static void on_response(void *arg, const struct ms_http_response *r)
{
    struct job *j = arg;
    struct ms_pub_source *src = j->src;
    j->transfer = NULL;
    if (src->exchange_count < MS_PUB_MAX_EXCHANGES) {
        struct ms_http_exchange *x = &src->exchanges[src->exchange_count++];
        cpy(x->method, sizeof x->method, j->post ? "POST" : "GET");
        ms_text_sanitize(x->url, sizeof x->url, j->url, strlen(j->url));
        cpy(x->address, sizeof x->address, r->address);
        x->status = r->status;
        x->failure = r->failure;
        cpy(x->message, sizeof x->message, r->message);
        x->duration_ms = r->duration_ms;
    }
    src->status = r->status;
    if (r->failure != MS_HTTP_OK) {
        src->cert_problem = r->cert_problem;
        fail_http(j, r->failure, r->message);
        return;
    }
    long st = r->status;
    if (st >= 300 && st < 400 && st != 304) {
        if (!r->location[0]) {
            finish(j, MS_PUB_HTTP_ERROR, "a redirect without a Location%s", "");
            return;
        }
        follow(j, r->location);
        return;
    }
    if (j->want_redirect) {
        char what[32];
        snprintf(what, sizeof what, "%ld", st);
        finish(j, st == 404 || st == 410 ? MS_PUB_NOT_FOUND : MS_PUB_HTTP_ERROR,
               "HTTP %s instead of a redirect to https", what);
        return;
    }
    if (st == 401 || st == 403) {
        finish(j, MS_PUB_SIGN_IN_REQUIRED, "HTTP %s: the server wants a sign-in",
               st == 401 ? "401" : "403");
        return;
    }
    if (st == 404 || st == 410) {
        finish(j, MS_PUB_NOT_FOUND, "HTTP %s", st == 404 ? "404 Not Found" : "410 Gone");
        return;
    }
    if (st != 200) {
        char what[32];
        snprintf(what, sizeof what, "%ld", st);
        finish(j, MS_PUB_HTTP_ERROR, "HTTP %s", what);
        return;
    }
    take_document(j, r->body, r->body_len);
}

/* ---- resolve, then fetch ---- */

static void job_fetch(struct job *j)
{
    struct ms_autoconfig *ac = j->ac;
    const struct ms_request *req = ac->env->request;
    char body[2048] = "";
    if (j->post && !ms_autodiscover_request(j->address, body, sizeof body)) {
        fail_http(j, MS_HTTP_LOCAL, "the address is too long for an Autodiscover request");
        return;
    }
    char id[64];
    snprintf(id, sizeof id, "http:%s", ms_pub_method_name(j->src->method));
    struct ms_http_request hr = {.url = j->url,
                                 .host = j->host,
                                 .port = j->port,
                                 .connect_port = j->connect_port,
                                 .addrs = &j->addrs,
                                 .post_body = j->post ? body : NULL,
                                 .content_type = "text/xml; charset=utf-8",
                                 .timeout_s = req->timeout_s,
                                 .max_body = MS_AC_MAX_BODY,
                                 .trace_req = req,
                                 .trace_t0 = ac->env->t0,
                                 .trace_id = id};
    if (ms_http_fetch(ac->env->http, &hr, on_response, j, &j->transfer) < 0)
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
}

/* The resolver answered ticket arg: its job, or NULL when the job is gone or the resolver is
 * shutting down. The ticket is freed either way. */
static struct job *claim(void *arg, bool cancelled)
{
    struct ticket *t = arg;
    struct job *j = t->job;
    free(t);
    if (j)
        j->ticket = NULL;
    return cancelled ? NULL : j;
}

static void on_resolved(void *arg, enum ms_dns_status status, const struct ms_dns_answer *answer)
{
    struct job *j = claim(arg, status == MS_DNS_CANCELLED);
    if (!j)
        return;
    if (status != MS_DNS_OK || !answer || answer->count == 0) {
        char why[300];
        snprintf(why, sizeof why, "%s: %s", j->host,
                 status == MS_DNS_NO_SUCH_HOST ? "no such host (NXDOMAIN)"
                 : status == MS_DNS_NO_ADDRESS ? "no address"
                 : status == MS_DNS_TIMEOUT    ? "DNS did not answer"
                                               : "DNS error");
        j->src->failure = MS_HTTP_DNS;
        finish(j,
               status == MS_DNS_NO_SUCH_HOST || status == MS_DNS_NO_ADDRESS ? MS_PUB_NOT_FOUND
                                                                            : MS_PUB_FAILED,
               "%s", why);
        return;
    }
    j->addrs = *answer;
    job_fetch(j);
}

static void job_resolve(struct job *j)
{
    struct ms_autoconfig *ac = j->ac;
    if (known_addresses(ac, j->host, &j->addrs)) {
        if (j->addrs.count == 0) {
            fail_http(j, MS_HTTP_DNS, "no address of the family allowed (-4/-6)");
            return;
        }
        job_fetch(j);
        return;
    }
    struct ticket *t = malloc(sizeof *t);
    if (!t) {
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
        return;
    }
    t->job = j;
    j->ticket = t;
    if (ms_dns_resolve(ac->env->dns, j->host, ac->env->request->family, on_resolved, t) < 0) {
        j->ticket = NULL;
        free(t);
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
    }
}

/* Begin a source at url (scheme://host[:port]/path). */
static void job_start_url(struct job *j, const char *url, bool https, const char *host,
                          uint16_t port, uint16_t connect_port)
{
    cpy(j->url, sizeof j->url, url);
    cpy(j->src->url, sizeof j->src->url, url);
    cpy(j->seen[0], sizeof j->seen[0], url);
    cpy(j->host, sizeof j->host, host);
    j->https = https;
    j->port = port;
    j->connect_port = connect_port;
    j->started = true;
    j->ac->open++;
    job_resolve(j);
}

static struct job *job_init(struct ms_autoconfig *ac, enum ms_pub_method m)
{
    struct job *j = &ac->jobs[m];
    *j = (struct job){.ac = ac, .src = &ac->facts->sources[m], .t0 = ms_loop_now()};
    *j->src = (struct ms_pub_source){.method = m};
    cpy(j->address, sizeof j->address, ac->facts->address);
    return j;
}

static void skip(struct ms_autoconfig *ac, enum ms_pub_method m, const char *why)
{
    struct job *j = job_init(ac, m);
    j->finished = true;
    j->src->outcome = MS_PUB_SKIPPED;
    cpy(j->src->message, sizeof j->src->message, why);
}

/* An autoconfig URL of host (the provider's or the MX domain's): https or http. */
static void start_autoconfig(struct ms_autoconfig *ac, enum ms_pub_method m, const char *host,
                             const char *path, bool https, bool query)
{
    struct job *j = job_init(ac, m);
    const struct ms_ports *ports = &ac->env->request->ports;
    char url[600], *esc = NULL;
    if (query && ac->user[0]) {
        esc = curl_easy_escape(NULL, ac->facts->address, 0);
        if (!esc) {
            j->started = true;
            ac->open++;
            fail_http(j, MS_HTTP_LOCAL, "out of memory");
            return;
        }
    }
    snprintf(url, sizeof url, "%s://%s%s%s%s", https ? "https" : "http", host, path,
             esc ? "?emailaddress=" : "", esc ? esc : "");
    curl_free(esc);
    job_start_url(j, url, https, host, https ? 443 : 80, https ? ports->https : ports->http);
}

static void start_autodiscover(struct ms_autoconfig *ac, enum ms_pub_method m, const char *host)
{
    struct job *j = job_init(ac, m);
    const struct ms_ports *ports = &ac->env->request->ports;
    char url[600];
    bool https = m != MS_PUB_AUTODISCOVER_REDIRECT;
    snprintf(url, sizeof url, "%s://%s/autodiscover/autodiscover.xml", https ? "https" : "http",
             host);
    j->autodiscover = true;
    j->post = https;
    j->want_redirect = !https;
    job_start_url(j, url, https, host, https ? 443 : 80, https ? ports->https : ports->http);
}

/* --autoconfig-db: DIR/<domain>[.xml] read now (a local file: small and never a pipe), or
 * URL/<domain> fetched like the others. */
static void start_ispdb(struct ms_autoconfig *ac, enum ms_pub_method m, const char *domain)
{
    const char *db = ac->env->request->autoconfig_db;
    struct job *j = job_init(ac, m);
    j->started = true;
    ac->open++;
    if (strncasecmp(db, "http://", 7) == 0 || strncasecmp(db, "https://", 8) == 0) {
        char url[600];
        size_t n = strlen(db);
        snprintf(url, sizeof url, "%s%s%s", db, n && db[n - 1] == '/' ? "" : "/", domain);
        struct aim a;
        if (parse_aim(ac, url, &a) < 0) {
            fail_http(j, MS_HTTP_LOCAL, "--autoconfig-db is not a usable URL");
            return;
        }
        aim_job(j, &a);
        cpy(j->src->url, sizeof j->src->url, url);
        cpy(j->seen[0], sizeof j->seen[0], url);
        job_resolve(j);
        return;
    }
    char path[4096];
    int fd = -1;
    for (int k = 0; k < 2 && fd < 0; k++) {
        snprintf(path, sizeof path, "%s/%s%s", db, domain, k ? ".xml" : "");
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    }
    cpy(j->src->url, sizeof j->src->url, path);
    cpy(j->url, sizeof j->url, path);
    struct stat st;
    if (fd < 0) {
        finish(j, MS_PUB_NOT_FOUND, "no file for %s in the directory", domain);
        return;
    }
    char *buf = NULL;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= MS_AC_MAX_BODY &&
        (buf = malloc((size_t)st.st_size + 1)))
        n = read(fd, buf, (size_t)st.st_size);
    close(fd);
    if (n < 0) {
        free(buf);
        j->src->failure = MS_HTTP_LOCAL;
        finish(j, MS_PUB_FAILED, "cannot read %s (not a regular file, or over 128 KiB)", path);
        return;
    }
    j->https = true; /* a local file: no network attacker */
    take_document(j, buf, (size_t)n);
    free(buf);
}

static void on_srv(void *arg, enum ms_dns_status status, const struct ms_dns_records *records)
{
    struct job *j = claim(arg, status == MS_DNS_CANCELLED);
    if (!j)
        return;
    const struct ms_dns_record *best = NULL;
    for (size_t i = 0; status == MS_DNS_OK && records && i < records->count; i++) {
        const struct ms_dns_record *r = &records->items[i];
        if (strcmp(r->host, ".") == 0 || r->port == 0 || r->port > 65535)
            continue;
        if (!best || r->priority < best->priority ||
            (r->priority == best->priority && r->weight > best->weight))
            best = r;
    }
    if (!best) {
        j->src->failure =
            status == MS_DNS_OK || status == MS_DNS_NO_SUCH_HOST || status == MS_DNS_NO_ADDRESS
                ? MS_HTTP_OK
                : MS_HTTP_DNS;
        finish(j, j->src->failure == MS_HTTP_OK ? MS_PUB_NOT_FOUND : MS_PUB_FAILED, "%s",
               status == MS_DNS_OK ? "no usable SRV record" : "no SRV record");
        return;
    }
    char url[600];
    snprintf(url, sizeof url, "https://%s:%u/autodiscover/autodiscover.xml", best->host,
             best->port);
    cpy(j->url, sizeof j->url, url);
    cpy(j->seen[0], sizeof j->seen[0], url);
    cpy(j->host, sizeof j->host, best->host);
    j->https = true;
    j->port = j->connect_port = (uint16_t)best->port;
    if (!in_domain(j->host, j->ac->domain))
        cpy(j->src->redirected_to, sizeof j->src->redirected_to, j->host);
    trace_event(j, "SRV answered: %s", url);
    job_resolve(j);
}

static void start_srv(struct ms_autoconfig *ac)
{
    struct job *j = job_init(ac, MS_PUB_AUTODISCOVER_SRV);
    snprintf(j->src->url, sizeof j->src->url, "_autodiscover._tcp.%s", ac->domain);
    j->autodiscover = j->post = true;
    j->started = true;
    ac->open++;
    struct ticket *t = malloc(sizeof *t);
    if (!t) {
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
        return;
    }
    t->job = j;
    j->ticket = t;
    if (ms_dns_query(ac->env->dns, j->src->url, MS_DNS_SRV, on_srv, t) < 0) {
        j->ticket = NULL;
        free(t);
        fail_http(j, MS_HTTP_LOCAL, "out of memory");
    }
}

/* ---- the public part ---- */

int ms_autoconfig_start(struct ms_session_env *env, struct ms_published *facts, const char *domain,
                        const char *user, const struct ms_autoconfig_hooks *hooks,
                        struct ms_autoconfig **out)
{
    struct ms_autoconfig *ac = calloc(1, sizeof *ac);
    if (!ac)
        return MS_ENOMEM;
    facts->sources = calloc(MS_PUB_METHOD_COUNT, sizeof *facts->sources);
    if (!facts->sources) {
        free(ac);
        return MS_ENOMEM;
    }
    ac->env = env;
    ac->facts = facts;
    ac->hooks = *hooks;
    ac->t0 = ms_loop_now();
    ms_loop_timer_init(&ac->kick);
    cpy(ac->domain, sizeof ac->domain, domain);
    cpy(ac->user, sizeof ac->user, user);
    facts->performed = true;
    snprintf(facts->address, sizeof facts->address, "%s@%s", user[0] ? user : "postmaster", domain);
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++)
        job_init(ac, (enum ms_pub_method)m)->finished = true; /* until started */
    *out = ac;
    if (env->need_http(env) < 0) {
        for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
            struct ms_pub_source *s = &facts->sources[m];
            s->outcome = MS_PUB_FAILED;
            s->failure = MS_HTTP_LOCAL;
            snprintf(s->message, sizeof s->message, "libcurl could not be set up");
        }
        ac->mx_known = true;
        maybe_done(ac);
        return 0;
    }
    char host[MS_MAX_HOST + 16];
    snprintf(host, sizeof host, "autoconfig.%s", domain);
    start_autoconfig(ac, MS_PUB_AUTOCONFIG, host, "/mail/config-v1.1.xml", true, true);
    start_autoconfig(ac, MS_PUB_WELL_KNOWN, domain, "/.well-known/autoconfig/mail/config-v1.1.xml",
                     true, false);
    start_autoconfig(ac, MS_PUB_AUTOCONFIG_HTTP, host, "/mail/config-v1.1.xml", false, true);
    start_autoconfig(ac, MS_PUB_WELL_KNOWN_HTTP, domain,
                     "/.well-known/autoconfig/mail/config-v1.1.xml", false, false);
    if (env->request->autoconfig_db)
        start_ispdb(ac, MS_PUB_ISPDB, domain);
    else
        skip(ac, MS_PUB_ISPDB, "no --autoconfig-db given");
    start_autodiscover(ac, MS_PUB_AUTODISCOVER_DOMAIN, domain);
    snprintf(host, sizeof host, "autodiscover.%s", domain);
    start_autodiscover(ac, MS_PUB_AUTODISCOVER, host);
    start_autodiscover(ac, MS_PUB_AUTODISCOVER_REDIRECT, host);
    start_srv(ac);
    skip(ac, MS_PUB_MX_AUTOCONFIG, "waiting for the MX answer");
    skip(ac, MS_PUB_MX_ISPDB, "waiting for the MX answer");
    return 0;
}

/* The registrable ("base") domain of host by the Public Suffix List, as Thunderbird finds
 * it ("mx1.mail.example.co.uk" -> "example.co.uk"); "" when there is none. */
static void base_domain(const char *host, char *out, size_t cap)
{
    static psl_ctx_t *psl;
    static bool tried;
    if (!tried) {
        tried = true;
        psl = psl_latest(NULL);
    }
    const char *base = psl ? psl_registrable_domain(psl, host) : NULL;
    snprintf(out, cap, "%s", base ? base : "");
}

void ms_autoconfig_mx(struct ms_autoconfig *ac, const char *mx_host)
{
    if (!ac || ac->mx_known)
        return;
    ac->mx_known = true;
    if (ac->aborted || !ac->env->http) {
        maybe_done(ac);
        return;
    }
    char base[MS_MAX_HOST + 1] = "";
    if (mx_host && *mx_host)
        base_domain(mx_host, base, sizeof base);
    const char *why = !mx_host || !*mx_host               ? "the domain has no MX record"
                      : !base[0]                          ? "the MX host has no base domain"
                      : strcasecmp(base, ac->domain) == 0 ? "the MX host is in the domain itself"
                                                          : NULL;
    if (why) {
        snprintf(ac->facts->sources[MS_PUB_MX_AUTOCONFIG].message,
                 sizeof ac->facts->sources[MS_PUB_MX_AUTOCONFIG].message, "%s", why);
        snprintf(ac->facts->sources[MS_PUB_MX_ISPDB].message,
                 sizeof ac->facts->sources[MS_PUB_MX_ISPDB].message, "%s", why);
        maybe_done(ac);
        return;
    }
    cpy(ac->facts->mx_domain, sizeof ac->facts->mx_domain, base);
    char host[MS_MAX_HOST + 16];
    snprintf(host, sizeof host, "autoconfig.%s", base);
    start_autoconfig(ac, MS_PUB_MX_AUTOCONFIG, host, "/mail/config-v1.1.xml", true, true);
    if (ac->env->request->autoconfig_db)
        start_ispdb(ac, MS_PUB_MX_ISPDB, base);
    else
        snprintf(ac->facts->sources[MS_PUB_MX_ISPDB].message,
                 sizeof ac->facts->sources[MS_PUB_MX_ISPDB].message, "no --autoconfig-db given");
    maybe_done(ac);
}

bool ms_autoconfig_busy(const struct ms_autoconfig *ac)
{
    return ac && !ac->done_told;
}

void ms_autoconfig_abort(struct ms_autoconfig *ac)
{
    if (!ac || ac->aborted)
        return;
    ac->aborted = true;
    ac->mx_known = true;
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        struct job *j = &ac->jobs[m];
        if (j->started && !j->finished) {
            j->src->failure = MS_HTTP_TIMEOUT;
            finish(j, MS_PUB_FAILED, "no answer before the run's deadline%s", "");
        }
    }
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++)
        if (ac->facts->sources[m].outcome == MS_PUB_SKIPPED &&
            strncmp(ac->facts->sources[m].message, "waiting", 7) == 0)
            snprintf(ac->facts->sources[m].message, sizeof ac->facts->sources[m].message,
                     "the run's deadline came before the MX answer");
    /* Told at once: the run is ending. */
    if (!ac->done_told) {
        ac->done_told = true;
        ms_loop_timer_cancel(ac->env->loop, &ac->kick);
        ac->facts->duration_ms = (ms_loop_now() - ac->t0) * 1000.0;
        ac->hooks.done(ac->hooks.arg);
    }
}

void ms_autoconfig_free(struct ms_autoconfig *ac)
{
    if (!ac)
        return;
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++) {
        struct job *j = &ac->jobs[m];
        if (j->ticket)
            j->ticket->job = NULL;
        if (j->transfer && ac->env->http)
            ms_http_cancel(ac->env->http, j->transfer);
    }
    ms_loop_timer_cancel(ac->env->loop, &ac->kick);
    free(ac);
}
