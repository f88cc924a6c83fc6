#include "probe/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/conn.h"
#include "probe/text.h"
#include "probe/tls.h"
#include "probe/trace.h"

/* Watchers are owned here and never freed while the loop runs (the loop may still hold an
 * event for one that was just released): slots come from chunks kept until ms_http_free. */
#define SLOTS_PER_CHUNK 32
#define TRACE_BODY_MAX 2048 /* body bytes --trace shows per transfer */

struct sock_slot {
    struct ms_loop_watch watch;
    struct ms_http *h;
    curl_socket_t fd;
    bool used;
    struct sock_slot *next_free;
};

struct chunk {
    struct sock_slot slots[SLOTS_PER_CHUNK];
    struct chunk *next;
};

struct ms_http_transfer {
    struct ms_http *h;
    CURL *easy;
    struct curl_slist *resolve, *connect_to, *headers;
    char *post_body;
    char *body;
    size_t body_len, body_cap, max_body;
    bool too_large;
    char content_type[128];
    ms_http_cb cb;
    void *arg;
    double t0;
    char errbuf[CURL_ERROR_SIZE];
    /* trace */
    const struct ms_request *trace_req;
    double trace_t0;
    char trace_id[64];
    size_t traced_body;
    struct ms_http_transfer *prev, *next; /* in flight */
};

struct ms_http {
    struct ms_loop *loop;
    SSL_CTX *tls_ctx;
    CURLM *multi;
    struct ms_loop_timer timer;
    struct chunk *chunks;
    struct sock_slot *free_slots;
    struct ms_http_transfer *active;
    int running;
};

static bool curl_ready;

static void check_done(struct ms_http *h);

static struct sock_slot *slot_get(struct ms_http *h)
{
    if (!h->free_slots) {
        struct chunk *c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        c->next = h->chunks;
        h->chunks = c;
        for (size_t i = 0; i < SLOTS_PER_CHUNK; i++) {
            ms_loop_watch_init(&c->slots[i].watch);
            c->slots[i].h = h;
            c->slots[i].next_free = h->free_slots;
            h->free_slots = &c->slots[i];
        }
    }
    struct sock_slot *s = h->free_slots;
    h->free_slots = s->next_free;
    s->used = true;
    return s;
}

static void slot_put(struct ms_http *h, struct sock_slot *s)
{
    ms_loop_unwatch(h->loop, &s->watch);
    s->used = false;
    s->next_free = h->free_slots;
    h->free_slots = s;
}

static void on_socket_event(void *arg, unsigned events)
{
    struct sock_slot *s = arg;
    struct ms_http *h = s->h;
    int flags = (events & MS_LOOP_READ ? CURL_CSELECT_IN : 0) |
                (events & MS_LOOP_WRITE ? CURL_CSELECT_OUT : 0);
    curl_multi_socket_action(h->multi, s->fd, flags, &h->running);
    check_done(h);
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct ms_http *h = userp;
    struct sock_slot *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            slot_put(h, s);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = slot_get(h);
        if (!s)
            return -1; /* curl fails the transfer */
        s->fd = fd;
        curl_multi_assign(h->multi, fd, s);
    }
    unsigned events = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? MS_LOOP_READ : 0u) |
                      (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? MS_LOOP_WRITE : 0u);
    if (ms_loop_watch(h->loop, &s->watch, fd, events, on_socket_event, s) < 0)
        return -1;
    return 0;
}

static void on_timer(void *arg)
{
    struct ms_http *h = arg;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
    check_done(h);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct ms_http *h = userp;
    if (timeout_ms < 0) {
        ms_loop_timer_cancel(h->loop, &h->timer);
        return 0;
    }
    /* Never call back into curl from here: a 0 ms timer runs on the loop's next turn. */
    return ms_loop_timer_set(h->loop, &h->timer, (double)timeout_ms / 1000.0, on_timer, h) < 0 ? -1
                                                                                               : 0;
}

int ms_http_new(struct ms_loop *loop, SSL_CTX *tls_ctx, struct ms_http **out, struct ms_error *err)
{
    if (!curl_ready) {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK)
            return ms_error_set(err, MS_EIO, "cannot set up libcurl: %s", curl_easy_strerror(rc));
        curl_ready = true;
    }
    struct ms_http *h = calloc(1, sizeof *h);
    if (!h)
        return ms_error_set(err, MS_ENOMEM, "out of memory");
    h->loop = loop;
    h->tls_ctx = tls_ctx;
    ms_loop_timer_init(&h->timer);
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return ms_error_set(err, MS_ENOMEM, "cannot set up libcurl's multi handle");
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    *out = h;
    return 0;
}

/* ---- one transfer ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct ms_http_transfer *t = arg;
    size_t len = size * n;
    if (t->body_len + len > t->max_body) {
        t->too_large = true;
        return 0; /* CURLE_WRITE_ERROR: the transfer stops */
    }
    if (t->body_len + len + 1 > t->body_cap) {
        size_t cap = t->body_cap ? t->body_cap : 4096;
        while (cap < t->body_len + len + 1)
            cap *= 2;
        char *grown = realloc(t->body, cap);
        if (!grown)
            return 0;
        t->body = grown;
        t->body_cap = cap;
    }
    memcpy(t->body + t->body_len, data, len);
    t->body_len += len;
    t->body[t->body_len] = '\0';
    return len;
}

/* --trace: one line per header or body line; bodies cut at TRACE_BODY_MAX bytes. */
static void trace_lines(struct ms_http_transfer *t, const char *dir, const char *data, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t line = nl ? (size_t)(nl - data) : len;
        size_t shown = line;
        if (shown && data[shown - 1] == '\r')
            shown--;
        if (shown)
            ms_trace_write(t->trace_req, t->trace_t0, t->trace_id, dir, data, shown);
        size_t step = nl ? line + 1 : line;
        data += step;
        len -= step;
    }
}

static int on_debug(CURL *easy, curl_infotype type, char *data, size_t len, void *arg)
{
    (void)easy;
    struct ms_http_transfer *t = arg;
    switch (type) {
    case CURLINFO_TEXT:
        if (len < 4 || strncmp(data, "TLSv", 4) != 0) /* not every handshake message */
            trace_lines(t, "--", data, len);
        break;
    case CURLINFO_HEADER_OUT: trace_lines(t, "C:", data, len); break;
    case CURLINFO_DATA_OUT: trace_lines(t, "C:", data, len); break;
    case CURLINFO_HEADER_IN: trace_lines(t, "S:", data, len); break;
    case CURLINFO_DATA_IN: {
        size_t room = t->traced_body < TRACE_BODY_MAX ? TRACE_BODY_MAX - t->traced_body : 0;
        size_t shown = len < room ? len : room;
        if (shown)
            trace_lines(t, "S:", data, shown);
        if (shown < len && t->traced_body + shown >= TRACE_BODY_MAX && room > 0) {
            char note[80];
            snprintf(note, sizeof note, "(the rest of the body is not shown: %d bytes shown)",
                     TRACE_BODY_MAX);
            ms_trace_write(t->trace_req, t->trace_t0, t->trace_id, "--", note, strlen(note));
        }
        t->traced_body += len;
        break;
    }
    default: break;
    }
    return 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct ms_http_transfer *t = arg;
    size_t len = size * n;
    if (len > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
        const char *v = data + 13;
        size_t vl = len - 13;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        ms_text_sanitize(t->content_type, sizeof t->content_type, v, vl);
    }
    return len;
}

/* Every connection trusts exactly the probes' store: the system store (loaded now if the
 * engine has not yet) and --ca-file. */
static CURLcode on_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
    (void)easy;
    struct ms_http *h = arg;
    ms_tls_load_system_store(h->tls_ctx);
    SSL_CTX_set1_cert_store(ssl_ctx, SSL_CTX_get_cert_store(h->tls_ctx));
    return CURLE_OK;
}

static void unlink_transfer(struct ms_http *h, struct ms_http_transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else if (h->active == t)
        h->active = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

static void free_transfer(struct ms_http *h, struct ms_http_transfer *t)
{
    if (t->easy) {
        curl_multi_remove_handle(h->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->resolve);
    curl_slist_free_all(t->connect_to);
    curl_slist_free_all(t->headers);
    free(t->post_body);
    free(t->body);
    free(t);
}

/* "host:port:addr1,addr2" for CURLOPT_RESOLVE (IPv6 in brackets). */
static struct curl_slist *resolve_entry(const struct ms_http_request *req, uint16_t port)
{
    char line[1400];
    int n = snprintf(line, sizeof line, "%s:%u:", req->host, (unsigned)port);
    for (size_t i = 0; req->addrs && i < req->addrs->count && n > 0 && (size_t)n < sizeof line;
         i++) {
        char a[64];
        ms_conn_format_address((const struct sockaddr *)&req->addrs->addrs[i], a, sizeof a);
        /* format_address gives "[v6]:port"-free text: the bare address */
        bool v6 = strchr(a, ':') != NULL;
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%s%s%s", i ? "," : "", v6 ? "[" : "", a,
                      v6 ? "]" : "");
    }
    if (n < 0 || (size_t)n >= sizeof line)
        return NULL;
    return curl_slist_append(NULL, line);
}

int ms_http_fetch(struct ms_http *h, const struct ms_http_request *req, ms_http_cb cb, void *arg,
                  struct ms_http_transfer **out)
{
    struct ms_http_transfer *t = calloc(1, sizeof *t);
    if (!t)
        return MS_ENOMEM;
    t->h = h;
    t->cb = cb;
    t->arg = arg;
    t->max_body = req->max_body;
    t->t0 = ms_loop_now();
    t->trace_req = req->trace_req && req->trace_req->trace ? req->trace_req : NULL;
    t->trace_t0 = req->trace_t0;
    snprintf(t->trace_id, sizeof t->trace_id, "%s", req->trace_id ? req->trace_id : "http");
    t->easy = curl_easy_init();
    if (!t->easy)
        goto oom;
    uint16_t connect_port = req->connect_port ? req->connect_port : req->port;
    if (req->addrs && req->addrs->count > 0) {
        if (!(t->resolve = resolve_entry(req, connect_port)))
            goto oom;
        curl_easy_setopt(t->easy, CURLOPT_RESOLVE, t->resolve);
    }
    if (connect_port != req->port) {
        char line[600];
        snprintf(line, sizeof line, "%s:%u:%s:%u", req->host, (unsigned)req->port, req->host,
                 (unsigned)connect_port);
        if (!(t->connect_to = curl_slist_append(NULL, line)))
            goto oom;
        curl_easy_setopt(t->easy, CURLOPT_CONNECT_TO, t->connect_to);
    }
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "mailscope/" MS_VERSION);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout_s * 1000.0));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(req->timeout_s * 1000.0));
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    /* The probes' trust store, not curl's own CA bundle. */
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, h);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->post_body) {
        if (!(t->post_body = strdup(req->post_body)))
            goto oom;
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->post_body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(t->post_body));
        char ct[160];
        snprintf(ct, sizeof ct, "Content-Type: %s",
                 req->content_type ? req->content_type : "text/xml");
        if (!(t->headers = curl_slist_append(NULL, ct)))
            goto oom;
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    }
    if (t->trace_req) {
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, t);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        goto oom;
    t->next = h->active;
    if (h->active)
        h->active->prev = t;
    h->active = t;
    if (out)
        *out = t;
    return 0;
oom:
    free_transfer(h, t);
    return MS_ENOMEM;
}

static enum ms_http_failure classify(struct ms_http_transfer *t, CURLcode rc, long os_errno)
{
    if (t->too_large)
        return MS_HTTP_TOO_LARGE;
    switch (rc) {
    case CURLE_OK: return MS_HTTP_OK;
    case CURLE_COULDNT_CONNECT:
        return os_errno == ECONNREFUSED ? MS_HTTP_REFUSED
               : os_errno == ETIMEDOUT  ? MS_HTTP_TIMEOUT
                                        : MS_HTTP_UNREACHABLE;
    case CURLE_OPERATION_TIMEDOUT: return MS_HTTP_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION: return MS_HTTP_CERT;
    case CURLE_SSL_CONNECT_ERROR: return MS_HTTP_TLS; /* its verify result is stale there */
    case CURLE_FILESIZE_EXCEEDED: return MS_HTTP_TOO_LARGE;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR: return MS_HTTP_LOCAL;
    case CURLE_COULDNT_RESOLVE_HOST: return MS_HTTP_DNS;
    default: return MS_HTTP_PROTOCOL;
    }
}

/* Hand every finished transfer to its owner. Callbacks may start or cancel others. */
static void check_done(struct ms_http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct ms_http_transfer *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        if (!t)
            continue;
        CURLcode rc = msg->data.result;
        struct ms_http_response r = {0};
        long os_errno = 0, verify = 0;
        char *primary = NULL, *redirect = NULL;
        curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
        curl_easy_getinfo(t->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
        curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &primary);
        curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &redirect);
        r.failure = classify(t, rc, os_errno);
        if (r.failure == MS_HTTP_CERT)
            r.cert_problem =
                verify > 1 /* 1: curl's "not verified" */ ? ms_cert_problem_from_openssl(
                                                                (int)verify)
                                                          : MS_CERT_NAME_MISMATCH;
        if (r.failure == MS_HTTP_TOO_LARGE)
            snprintf(r.message, sizeof r.message, "the body is larger than %zu bytes", t->max_body);
        else if (r.failure != MS_HTTP_OK)
            ms_text_sanitize(r.message, sizeof r.message,
                             t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc),
                             strlen(t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc)));
        if (r.failure != MS_HTTP_OK)
            r.status = 0;
        if (primary)
            snprintf(r.address, sizeof r.address, "%s", primary);
        if (redirect && r.failure == MS_HTTP_OK)
            ms_text_sanitize(r.location, sizeof r.location, redirect, strlen(redirect));
        snprintf(r.content_type, sizeof r.content_type, "%s", t->content_type);
        r.body = t->body ? t->body : "";
        r.body_len = r.failure == MS_HTTP_OK ? t->body_len : 0;
        r.duration_ms = (ms_loop_now() - t->t0) * 1000.0;
        unlink_transfer(h, t);
        ms_http_cb cb = t->cb;
        void *arg = t->arg;
        cb(arg, &r);
        free_transfer(h, t); /* after the callback: r.body points into it */
    }
}

void ms_http_cancel(struct ms_http *h, struct ms_http_transfer *t)
{
    if (!h || !t)
        return;
    unlink_transfer(h, t);
    free_transfer(h, t);
}

void ms_http_free(struct ms_http *h)
{
    if (!h)
        return;
    while (h->active) {
        struct ms_http_transfer *t = h->active;
        unlink_transfer(h, t);
        free_transfer(h, t);
    }
    curl_multi_cleanup(h->multi); /* closes the cached connections (their sockets) */
    ms_loop_timer_cancel(h->loop, &h->timer);
    for (struct chunk *c = h->chunks; c;) {
        for (size_t i = 0; i < SLOTS_PER_CHUNK; i++)
            ms_loop_unwatch(h->loop, &c->slots[i].watch);
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    free(h);
}
