#include "cmd/serve_http.h"

#include <arpa/inet.h>
#ifdef MS_HAVE_GNUTLS
#include <gnutls/gnutls.h>
#endif
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe/addr.h"

#define MS_HTTP_MAX_EXTRA_HEADERS 8
#define MS_HTTP_STREAM_MAX (4u << 20) /* bytes a streamed answer may have queued */

/* ---- --version ---- */

#ifdef MS_HAVE_GNUTLS
static const char *gnutls_running(void)
{
    return gnutls_check_version(NULL);
}
#endif

size_t ms_http_libversions(struct ms_libversion out[MS_HTTP_LIBVERSIONS])
{
    /* MHD_VERSION is 0xMMmmpp(ss): hex digits read as decimal ("0.9.75", "1.0.1-2"). */
    static char mhd_built[32];
    unsigned v = MHD_VERSION;
    int n = snprintf(mhd_built, sizeof mhd_built, "%x.%x.%x", (v >> 24) & 0xffu, (v >> 16) & 0xffu,
                     (v >> 8) & 0xffu);
    if ((v & 0xffu) && n > 0 && (size_t)n < sizeof mhd_built)
        snprintf(mhd_built + n, sizeof mhd_built - (size_t)n, "-%x", v & 0xffu);
    size_t count = 0;
    out[count++] = (struct ms_libversion){"libmicrohttpd", mhd_built, MHD_get_version};
#ifdef MS_HAVE_GNUTLS
    out[count++] = (struct ms_libversion){"GnuTLS", GNUTLS_VERSION, gnutls_running};
#endif
    return count;
}

struct ms_http_daemon {
    struct ms_http *http;
    struct MHD_Daemon *mhd;
    struct ms_loop_watch watch;
    struct ms_loop_timer timer;
};

/* One TCP connection: bounds the time its requests take to arrive. */
struct ms_http_conn {
    struct ms_http *http;
    int fd;
    struct ms_loop_timer deadline;
};

struct ms_http_request {
    struct ms_http *http;
    struct MHD_Connection *conn;
    struct ms_http_conn *tcp;
    struct ms_http_request *prev, *next; /* every live request */
    const struct ms_http_route *route;
    char *raw_uri; /* as received, for the access log */
    char *path;    /* decoded, without the query */
    char method[8];
    char version[16];
    double t0;
    bool seen_headers; /* the access handler ran once */
    bool dispatched;   /* the route's handler ran */
    bool in_handler;   /* inside MHD's access handler: answers are queued at once */
    bool suspended;
    bool answered;
    bool too_large;
    char *body;
    size_t body_len, body_cap;
    /* an answer waiting for the connection to be resumed */
    struct MHD_Response *pending;
    unsigned pending_status;
    unsigned status; /* answered with, 0 when MHD answered on its own */
    uint64_t bytes;
    char *extra[MS_HTTP_MAX_EXTRA_HEADERS][2]; /* name, value (malloc'd: a Location can be long) */
    size_t extra_count;
    /* streamed answer */
    bool streaming, stream_ended;
    char *stream;
    size_t stream_len, stream_pos, stream_cap;
    /* access log extras */
    char log_target[300];
    bool log_user;
    void (*on_close)(void *arg);
    void *on_close_arg;
};

struct ms_http {
    struct ms_loop *loop;
    const struct ms_http_settings *settings;
    struct ms_http_daemon daemons[MS_HTTP_MAX_LISTEN];
    size_t daemon_count;
    bool tls;
    bool quiesced;
    size_t active;
    struct ms_http_request *requests;
    struct ms_http_stats stats;
};

/* ---- listen addresses ---- */

int ms_http_parse_listen(const char *text, struct ms_http_listen *out, struct ms_error *err)
{
    char host[64];
    const char *port_text = NULL;
    memset(out, 0, sizeof *out);
    if (strlen(text) >= sizeof out->text)
        return ms_error_set(err, MS_EINVAL, "--listen '%s' is too long", text);
    snprintf(out->text, sizeof out->text, "%s", text);
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            return ms_error_set(err, MS_EINVAL,
                                "--listen '%s': write an IPv6 address as [ADDRESS]:PORT", text);
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon || strchr(text, ':') != colon || (size_t)(colon - text) >= sizeof host)
            return ms_error_set(err, MS_EINVAL,
                                "--listen '%s': use ADDRESS:PORT (IPv6: [ADDRESS]:PORT)", text);
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    }
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    if (!*port_text || *end || port < 0 || port > 65535)
        return ms_error_set(err, MS_EINVAL, "--listen '%s': the port must be 0-65535", text);
    struct sockaddr_in *in = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->addr;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        out->len = sizeof *in;
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        out->len = sizeof *in6;
    } else {
        return ms_error_set(err, MS_EINVAL,
                            "--listen '%s': '%s' is not an IP address (host names are not "
                            "resolved here)",
                            text, host);
    }
    return 0;
}

/* ---- metrics ---- */

static void count(struct ms_http *http, const struct ms_http_route *route, unsigned status)
{
    struct ms_http_stats *st = &http->stats;
    int index = route ? (int)(route - http->settings->routes) : -1;
    for (size_t i = 0; i < st->count_len; i++)
        if (st->counts[i].route == index && st->counts[i].status == status) {
            st->counts[i].count++;
            return;
        }
    if (st->count_len < sizeof st->counts / sizeof st->counts[0])
        st->counts[st->count_len++] = (struct ms_http_count){index, status, 1};
}

const struct ms_http_stats *ms_http_stats(const struct ms_http *http)
{
    return &http->stats;
}

const struct ms_http_route *ms_http_routes(const struct ms_http *http, size_t *n)
{
    *n = http->settings->route_count;
    return http->settings->routes;
}

bool ms_http_is_tls(const struct ms_http *http)
{
    return http->tls;
}

size_t ms_http_active(const struct ms_http *http)
{
    return http->active;
}

/* ---- the access log ---- */

/* Printable ASCII only, quotes and backslashes escaped: a log line stays one line. */
static void log_escape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < cap; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", *p);
        else
            out[o++] = (char)*p;
    }
    out[o] = '\0';
}

struct log_query {
    struct ms_http *http;
    char *out;
    size_t cap, len;
};

size_t ms_http_url_encode(const char *in, const char *keep, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p) || strchr(keep, *p)) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return o;
}

static enum MHD_Result log_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct log_query *q = cls;
    const struct ms_http_settings *s = q->http->settings;
    char shown[400] = "<redacted>", name[100], enc[600];
    if (value && s->log_arg)
        s->log_arg(s->app, key, value, shown, sizeof shown);
    /* the access log keeps <redacted> and paths readable */
    ms_http_url_encode(key, "@:,<>/", name, sizeof name);
    ms_http_url_encode(shown, "@:,<>/", enc, sizeof enc);
    int n = snprintf(q->out + q->len, q->cap - q->len, "%c%s%s%s", q->len ? '&' : '?', name,
                     value ? "=" : "", value ? enc : "");
    if (n > 0 && (size_t)n < q->cap - q->len)
        q->len += (size_t)n;
    return MHD_YES;
}

static void access_log(struct ms_http_request *r)
{
    char client[64] = "-", when[64], path[256] = "-", query[1024] = "", line[4096];
    const char *c = r->conn ? ms_http_client(r) : NULL;
    if (c)
        snprintf(client, sizeof client, "%s", c);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    if (r->raw_uri) {
        /* The path only: the query is rebuilt from the parsed arguments, values redacted
         * unless the application says they may be logged. */
        char raw[256];
        snprintf(raw, sizeof raw, "%.*s", (int)strcspn(r->raw_uri, "?"), r->raw_uri);
        log_escape(raw, path, sizeof path);
        if (r->conn && strchr(r->raw_uri, '?')) {
            struct log_query q = {r->http, query, sizeof query, 0};
            MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, log_query_arg, &q);
        }
    }
    char status[16] = "-", bytes[24] = "-", target[700] = "";
    if (r->status)
        snprintf(status, sizeof status, "%u", r->status);
    if (r->status)
        snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)r->bytes);
    if (r->log_target[0]) {
        char esc[sizeof target - 16];
        log_escape(r->log_target, esc, sizeof esc);
        snprintf(target, sizeof target, " target=\"%s\"", esc);
    }
    char esc_query[sizeof query];
    log_escape(query, esc_query, sizeof esc_query);
    snprintf(line, sizeof line, "%s - %s [%s] \"%s %s%s %s\" %s %s%s\n", client,
             r->log_user ? "<redacted>" : "-", when, r->method[0] ? r->method : "-", path,
             esc_query, r->version[0] ? r->version : "-", status, bytes, target);
    fputs(line, stderr);
}

/* ---- requests ---- */

const char *ms_http_method(const struct ms_http_request *r)
{
    return r->method;
}

const char *ms_http_path(const struct ms_http_request *r)
{
    return r->path ? r->path : "";
}

const char *ms_http_arg(const struct ms_http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct args_iter {
    bool (*fn)(void *arg, const char *name, const char *value);
    void *arg;
};

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    struct args_iter *it = cls;
    return it->fn(it->arg, key, value) ? MHD_YES : MHD_NO;
}

void ms_http_args(const struct ms_http_request *r,
                  bool (*fn)(void *arg, const char *name, const char *value), void *arg)
{
    struct args_iter it = {fn, arg};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, each_arg, &it);
}

const char *ms_http_header(const struct ms_http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *ms_http_body(const struct ms_http_request *r, size_t *len)
{
    *len = r->body_len;
    return r->body;
}

void ms_http_wipe_body(struct ms_http_request *r)
{
    if (r->body)
        explicit_bzero(r->body, r->body_cap);
}

const struct sockaddr *ms_http_client_addr(const struct ms_http_request *r)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info ? info->client_addr : NULL;
}

const char *ms_http_client(const struct ms_http_request *r)
{
    static char text[64];
    const struct sockaddr *sa = ms_http_client_addr(r);
    if (!sa)
        return "-";
    const void *raw = sa->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (!inet_ntop(sa->sa_family, raw, text, sizeof text))
        return "-";
    return text;
}

bool ms_http_request_tls(const struct ms_http_request *r)
{
    return r->http->tls;
}

bool ms_http_draining(const struct ms_http_request *r)
{
    return r->http->quiesced;
}

int ms_http_add_header(struct ms_http_request *r, const char *name, const char *value)
{
    if (r->extra_count >= MS_HTTP_MAX_EXTRA_HEADERS)
        return MS_ENOMEM;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return MS_ENOMEM;
    }
    r->extra[r->extra_count][0] = n;
    r->extra[r->extra_count][1] = v;
    r->extra_count++;
    return 0;
}

void ms_http_on_close(struct ms_http_request *r, void (*fn)(void *arg), void *arg)
{
    r->on_close = fn;
    r->on_close_arg = arg;
}

void ms_http_log_target(struct ms_http_request *r, const char *target, bool user_given)
{
    snprintf(r->log_target, sizeof r->log_target, "%s", target ? target : "");
    r->log_user = user_given;
}

/* Security headers on every answer (RFC 9110 / W3C CSP / Fetch). */
static void decorate(struct ms_http_request *r, struct MHD_Response *resp)
{
    const char *csp = r->route && r->route->csp ? r->route->csp : MS_HTTP_CSP_STRICT;
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    for (size_t i = 0; i < r->extra_count; i++)
        MHD_add_response_header(resp, r->extra[i][0], r->extra[i][1]);
    if (r->http->quiesced)
        MHD_add_response_header(resp, "Connection", "close");
}

static void on_daemon_timer(void *arg);

/* MHD without an internal thread has no way to wake itself for a resumed connection: run
 * every daemon on the loop's next turn. */
static void resume(struct ms_http_request *r)
{
    MHD_resume_connection(r->conn);
    for (size_t i = 0; i < r->http->daemon_count; i++) {
        struct ms_http_daemon *d = &r->http->daemons[i];
        ms_loop_timer_set(r->http->loop, &d->timer, 0, on_daemon_timer, d);
    }
}

/* Queue resp now (inside the access handler) or when the connection is resumed. */
static int deliver(struct ms_http_request *r, unsigned status, struct MHD_Response *resp,
                   uint64_t bytes)
{
    if (r->answered) {
        MHD_destroy_response(resp);
        return MS_EINVAL;
    }
    decorate(r, resp);
    r->answered = true;
    r->status = status;
    r->bytes = bytes;
    count(r->http, r->route, status);
    if (status == 413 || status == 414)
        r->http->stats.too_large++;
    if (r->in_handler) {
        enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
        MHD_destroy_response(resp);
        return ok == MHD_YES ? 0 : MS_EIO;
    }
    r->pending = resp;
    r->pending_status = status;
    if (r->suspended) {
        r->suspended = false;
        resume(r);
    }
    return 0;
}

int ms_http_respond_owned(struct ms_http_request *r, unsigned status, const char *content_type,
                          char *body, size_t len)
{
    struct MHD_Response *resp =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MS_ENOMEM;
    }
    if (content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    return deliver(r, status, resp, len);
}

int ms_http_respond(struct ms_http_request *r, unsigned status, const char *content_type,
                    const char *body, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return MS_ENOMEM;
    if (len)
        memcpy(copy, body, len);
    copy[len] = '\0';
    return ms_http_respond_owned(r, status, content_type, copy, len);
}

int ms_http_problem(struct ms_http_request *r, unsigned status, const char *type, const char *title,
                    const char *param, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", title, "status",
                            (int)status, "detail", detail);
    if (doc && param) {
        json_t *bad = json_pack("[{s:s, s:s}]", "name", param, "reason", detail);
        if (!bad || json_object_set_new(doc, "invalid-params", bad) < 0) {
            json_decref(doc);
            doc = NULL;
        }
    }
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
    json_decref(doc);
    if (!text)
        return ms_http_respond(r, 500, "text/plain", "out of memory\n", 14);
    size_t len = strlen(text);
    char *body = malloc(len + 2);
    if (!body) {
        free(text);
        return MS_ENOMEM;
    }
    memcpy(body, text, len);
    body[len++] = '\n';
    body[len] = '\0';
    free(text);
    return ms_http_respond_owned(r, status, "application/problem+json", body, len);
}

void ms_http_suspend(struct ms_http_request *r)
{
    if (r->answered || r->suspended)
        return;
    r->suspended = true;
    MHD_suspend_connection(r->conn);
}

/* ---- streamed answers ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct ms_http_request *r = cls;
    size_t have = r->stream_len - r->stream_pos;
    if (have > 0) {
        size_t n = have < max ? have : max;
        memcpy(buf, r->stream + r->stream_pos, n);
        r->stream_pos += n;
        r->bytes += n;
        if (r->stream_pos == r->stream_len)
            r->stream_pos = r->stream_len = 0;
        return (ssize_t)n;
    }
    if (r->stream_ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing yet: wait without polling (resumed by the next write). */
    r->suspended = true;
    MHD_suspend_connection(r->conn);
    return 0;
}

int ms_http_stream_begin(struct ms_http_request *r, unsigned status, const char *content_type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, r, NULL);
    if (!resp)
        return MS_ENOMEM;
    MHD_add_response_header(resp, "Content-Type", content_type);
    r->streaming = true;
    return deliver(r, status, resp, 0);
}

int ms_http_stream_write(struct ms_http_request *r, const char *data, size_t len)
{
    if (!r->streaming || r->stream_ended)
        return MS_EINVAL;
    if (r->stream_len + len > MS_HTTP_STREAM_MAX)
        return MS_ETOOBIG;
    if (r->stream_len + len > r->stream_cap) {
        size_t cap = r->stream_cap ? r->stream_cap : 4096;
        while (cap < r->stream_len + len)
            cap *= 2;
        char *grown = realloc(r->stream, cap);
        if (!grown)
            return MS_ENOMEM;
        r->stream = grown;
        r->stream_cap = cap;
    }
    memcpy(r->stream + r->stream_len, data, len);
    r->stream_len += len;
    if (r->suspended && !r->pending) {
        r->suspended = false;
        resume(r);
    }
    return 0;
}

void ms_http_stream_end(struct ms_http_request *r)
{
    if (!r->streaming || r->stream_ended)
        return;
    r->stream_ended = true;
    if (r->suspended && !r->pending) {
        r->suspended = false;
        resume(r);
    }
}

/* ---- MHD callbacks ---- */

static void on_deadline(void *arg)
{
    struct ms_http_conn *c = arg;
    /* Too slow: cut the connection off. shutdown() keeps the fd (MHD still owns and closes
     * it) and MHD sees the end at once. */
    c->http->stats.request_timeouts++;
    shutdown(c->fd, SHUT_RDWR);
}

static void arm_deadline(struct ms_http_conn *c)
{
    if (ms_loop_timer_set(c->http->loop, &c->deadline, c->http->settings->request_timeout_s,
                          on_deadline, c) < 0)
        shutdown(c->fd, SHUT_RDWR);
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct ms_http *http = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ms_http_conn *c = calloc(1, sizeof *c);
        http->stats.connections_open++;
        if (!c) {
            if (info)
                shutdown(info->connect_fd, SHUT_RDWR);
            return;
        }
        c->http = http;
        c->fd = info ? info->connect_fd : -1;
        ms_loop_timer_init(&c->deadline);
        *socket_context = c;
        if (c->fd >= 0)
            arm_deadline(c);
        return;
    }
    http->stats.connections_open--;
    struct ms_http_conn *c = *socket_context;
    if (c) {
        ms_loop_timer_cancel(http->loop, &c->deadline);
        free(c);
        *socket_context = NULL;
    }
}

/* The request line is in: the request starts here (so the access log sees even requests
 * MHD answers on its own). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct ms_http *http = cls;
    struct ms_http_request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->http = http;
    r->conn = connection;
    r->t0 = ms_loop_now();
    r->raw_uri = strdup(uri ? uri : "");
    r->next = http->requests;
    if (http->requests)
        http->requests->prev = r;
    http->requests = r;
    http->active++;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    r->tcp = info ? info->socket_context : NULL;
    return r;
}

static void free_request(struct ms_http_request *r)
{
    if (r->on_close)
        r->on_close(r->on_close_arg);
    if (r->prev)
        r->prev->next = r->next;
    else
        r->http->requests = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->http->active--;
    if (r->pending)
        MHD_destroy_response(r->pending);
    if (r->body) {
        explicit_bzero(r->body, r->body_cap);
        free(r->body);
    }
    for (size_t i = 0; i < r->extra_count; i++) {
        free(r->extra[i][0]);
        free(r->extra[i][1]);
    }
    free(r->stream);
    free(r->path);
    free(r->raw_uri);
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    struct ms_http_request *r = *req_cls;
    if (!r)
        return;
    *req_cls = NULL;
    access_log(r);
    /* Keep-alive: the next request on this connection gets its own time bound. */
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct ms_http_conn *c = info ? info->socket_context : NULL;
    if (c && c->fd >= 0)
        arm_deadline(c);
    free_request(r);
}

static size_t route_max_body(const struct ms_http_request *r)
{
    if (r->route->max_body)
        return r->route->max_body;
    return r->route->methods & MS_HTTP_POST ? r->http->settings->max_body : 0;
}

static const struct ms_http_route *find_route(const struct ms_http *http, const char *path)
{
    const struct ms_http_settings *s = http->settings;
    for (size_t i = 0; i < s->route_count; i++) {
        const char *p = s->routes[i].path;
        size_t n = strlen(p);
        if (n > 1 && p[n - 1] == '/' ? strncmp(path, p, n) == 0 : strcmp(path, p) == 0)
            return &s->routes[i];
    }
    return NULL;
}

static unsigned method_bit(const char *method)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return MS_HTTP_GET;
    if (strcmp(method, "POST") == 0)
        return MS_HTTP_POST;
    return 0;
}

/* Checks that need only the request line and headers. Returns true when r is answered. */
static bool early_checks(struct ms_http *http, struct ms_http_request *r, const char *url)
{
    const struct ms_http_settings *s = http->settings;
    if (strlen(r->raw_uri) > s->max_url) {
        ms_http_problem(r, 414, "about:blank", "URI Too Long", NULL,
                        "the request target has more than %zu bytes", s->max_url);
        return true;
    }
    if (http->quiesced) {
        ms_http_add_header(r, "Retry-After", "5");
        ms_http_problem(r, 503, "/problems/shutting-down", "Service shutting down", NULL,
                        "this mailscope instance is shutting down; try again (another one)");
        return true;
    }
    r->route = find_route(http, url);
    if (!r->route) {
        ms_http_problem(r, 404, "about:blank", "Not Found", NULL, "no such path: %s", url);
        return true;
    }
    if (!(method_bit(r->method) & r->route->methods)) {
        char allow[40];
        snprintf(allow, sizeof allow, "%s%s%s", r->route->methods & MS_HTTP_GET ? "GET, HEAD" : "",
                 (r->route->methods & MS_HTTP_GET) && (r->route->methods & MS_HTTP_POST) ? ", "
                                                                                         : "",
                 r->route->methods & MS_HTTP_POST ? "POST" : "");
        ms_http_add_header(r, "Allow", allow);
        ms_http_problem(r, 405, "about:blank", "Method Not Allowed", NULL,
                        "%s does not take %s (allowed: %s)", url, r->method, allow);
        return true;
    }
    const char *length = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Length");
    if (length) {
        char *end = NULL;
        unsigned long long n = strtoull(length, &end, 10);
        if (*end || n > route_max_body(r)) {
            ms_http_problem(r, 413, "about:blank", "Content Too Large", NULL,
                            "%s takes a body of at most %zu bytes", url, route_max_body(r));
            return true;
        }
    }
    return false;
}

static int take_body(struct ms_http_request *r, const char *data, size_t size)
{
    size_t max = r->route ? route_max_body(r) : 0;
    if (r->too_large || r->body_len + size > max) {
        r->too_large = true;
        return 0;
    }
    if (r->body_len + size + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        while (cap < r->body_len + size + 1)
            cap *= 2;
        char *grown = malloc(cap);
        if (!grown)
            return MS_ENOMEM;
        if (r->body) {
            memcpy(grown, r->body, r->body_len);
            explicit_bzero(r->body, r->body_cap);
            free(r->body);
        }
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, size);
    r->body_len += size;
    r->body[r->body_len] = '\0';
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct ms_http *http = cls;
    struct ms_http_request *r = *req_cls;
    if (!r)
        return MHD_NO; /* out of memory in on_uri: drop the connection */
    r->in_handler = true;
    enum MHD_Result result = MHD_YES;
    if (r->pending) { /* resumed with the answer */
        struct MHD_Response *resp = r->pending;
        r->pending = NULL;
        result = MHD_queue_response(connection, r->pending_status, resp);
        MHD_destroy_response(resp);
        goto out;
    }
    if (r->answered || r->dispatched) {
        *upload_data_size = 0; /* an early answer: the rest of the body is dropped */
        goto out;
    }
    if (!r->seen_headers) {
        r->seen_headers = true;
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->version, sizeof r->version, "%s", version);
        r->path = strdup(url);
        if (!r->path) {
            result = MHD_NO;
            goto out;
        }
        early_checks(http, r, url);
        goto out;
    }
    if (*upload_data_size > 0) {
        if (take_body(r, upload_data, *upload_data_size) < 0)
            result = MHD_NO;
        *upload_data_size = 0;
        goto out;
    }
    /* The whole request is in: no more time bound until the answer is sent. */
    if (r->tcp)
        ms_loop_timer_cancel(http->loop, &r->tcp->deadline);
    if (r->too_large) {
        ms_http_problem(r, 413, "about:blank", "Content Too Large", NULL,
                        "%s takes a body of at most %zu bytes", url, route_max_body(r));
        goto out;
    }
    r->dispatched = true;
    r->route->handler(http->settings->app, r);
    if (!r->answered && !r->suspended && !r->streaming)
        ms_http_problem(r, 500, "about:blank", "Internal Server Error", NULL,
                        "the handler gave no answer");
out:
    r->in_handler = false;
    return result;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    text[strcspn(text, "\r\n")] = '\0';
    fprintf(stderr, "mailscope serve: http: %s\n", text);
}

/* ---- the daemons in the loop ---- */

static void run_daemon(struct ms_http_daemon *d);

static void on_daemon_io(void *arg, unsigned events)
{
    (void)events;
    run_daemon(arg);
}

static void on_daemon_timer(void *arg)
{
    run_daemon(arg);
}

static void run_daemon(struct ms_http_daemon *d)
{
    MHD_run(d->mhd);
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(d->mhd, &ms) == MHD_YES)
        ms_loop_timer_set(d->http->loop, &d->timer, (double)ms / 1000.0, on_daemon_timer, d);
    else
        ms_loop_timer_cancel(d->http->loop, &d->timer);
}

static int start_daemon(struct ms_http *http, struct ms_http_daemon *d,
                        const struct ms_http_listen *l, struct ms_error *err)
{
    const struct ms_http_settings *s = http->settings;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (l->addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (http->tls)
        flags |= MHD_USE_TLS;
    unsigned idle = (unsigned)(s->request_timeout_s + 0.999);
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_mhd, http}, /* first, or MHD warns */
        {MHD_OPTION_SOCK_ADDR, 0, (void *)&l->addr},
        {MHD_OPTION_CONNECTION_LIMIT, s->max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->max_connections_per_client, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, idle ? idle : 1, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)s->max_header_bytes, NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, http},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, http},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, http},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {http->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)s->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)s->tls_cert_pem},
        /* TLS 1.2 and 1.3 only, whatever the system's GnuTLS default allows. */
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_END, 0, NULL},
    };
    d->http = http;
    ms_loop_watch_init(&d->watch);
    ms_loop_timer_init(&d->timer);
    d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, http, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    if (!d->mhd)
        return ms_error_set(err, MS_EIO,
                            "cannot listen on %s (address in use, not this machine's, or a bad "
                            "TLS certificate or key)",
                            l->text);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    if (!info ||
        ms_loop_watch(http->loop, &d->watch, info->epoll_fd, MS_LOOP_READ, on_daemon_io, d) < 0)
        return ms_error_set(err, MS_EIO, "cannot watch the HTTP server of %s", l->text);
    run_daemon(d);
    return 0;
}

int ms_http_start(struct ms_loop *loop, const struct ms_http_settings *settings,
                  struct ms_http **out, struct ms_error *err)
{
    int rc = 0;
    struct ms_http *http = calloc(1, sizeof *http);
    if (!http)
        return MS_ENOMEM;
    http->loop = loop;
    http->settings = settings;
    http->tls = settings->tls_cert_pem && settings->tls_key_pem;
    if (http->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        rc = ms_error_set(err, MS_EINVAL, "this libmicrohttpd has no TLS support (HTTPS)");
        goto out;
    }
    for (size_t i = 0; i < settings->listen_count; i++) {
        rc = start_daemon(http, &http->daemons[i], &settings->listen[i], err);
        if (http->daemons[i].mhd)
            http->daemon_count = i + 1;
        if (rc < 0)
            goto out;
    }
    *out = http;
    http = NULL;
out:
    ms_http_destroy(http);
    return rc;
}

void ms_http_quiesce(struct ms_http *http)
{
    if (http->quiesced)
        return;
    http->quiesced = true;
    for (size_t i = 0; i < http->daemon_count; i++) {
        MHD_socket fd = MHD_quiesce_daemon(http->daemons[i].mhd);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
}

void ms_http_destroy(struct ms_http *http)
{
    if (!http)
        return;
    /* MHD must not stop with suspended connections. */
    for (struct ms_http_request *r = http->requests; r; r = r->next) {
        if (r->suspended) {
            r->suspended = false;
            resume(r);
        }
    }
    for (size_t i = 0; i < http->daemon_count; i++) {
        struct ms_http_daemon *d = &http->daemons[i];
        ms_loop_unwatch(http->loop, &d->watch);
        ms_loop_timer_cancel(http->loop, &d->timer);
        MHD_stop_daemon(d->mhd);
    }
    free(http);
}
