/* The API routes: /api/v1/check and /api/v1/transcript (GET with query arguments, POST
 * with a JSON body that may sign in), /probe (Prometheus, blackbox_exporter style),
 * /metrics (the daemon's own), /problems/ (what each problem type means). */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd/serve.h"
#include "cmd/serve_probe.h"
#include "probe/addr.h"
#include "report/json.h"
#include "report/prometheus.h"

#define BAD_PARAM "/problems/bad-parameter"

enum output { OUT_JSON, OUT_NDJSON, OUT_TRANSCRIPT, OUT_PROMETHEUS };

#define MS_SERVE_HELD_MAX (4u << 20) /* endpoint events held back before the stream starts */

/* One API request waiting for its probe. */
struct call {
    struct ms_serve *srv;
    struct ms_http_request *r;
    struct ms_serve_probe *probe; /* NULL once it has answered */
    enum output out;
    /* OUT_NDJSON: events are held until an endpoint has connected (until then the answer
     * may still be 403: the target's addresses were all refused), then streamed. */
    bool streaming;
    char *held;
    size_t held_len;
};

static void respond_refusal(struct ms_http_request *r, const struct ms_serve_refusal *why)
{
    if (why->retry_after_s > 0) {
        char secs[32];
        snprintf(secs, sizeof secs, "%.0f", why->retry_after_s + 0.999);
        ms_http_add_header(r, "Retry-After", secs);
    }
    ms_http_problem(r, why->status, why->type, why->title, why->param, "%s", why->detail);
}

/* The HTTP request went away (answered, or the client left): the probe is not wanted. */
static void call_closed(void *arg)
{
    struct call *c = arg;
    ms_serve_probe_cancel(c->probe);
    free(c->held);
    free(c);
}

/* ---- streamed checks (Accept: application/x-ndjson) ---- */

static bool connected(const struct ms_endpoint_result *ep)
{
    return ep->failure == MS_FAILURE_NONE || ep->failure_phase > MS_PHASE_CONNECT;
}

/* Start the stream with what was held back. Returns false when it cannot. */
static bool stream_start(struct call *c)
{
    if (c->streaming)
        return true;
    if (ms_http_stream_begin(c->r, 200, "application/x-ndjson") < 0)
        return false;
    c->streaming = true;
    int rc = c->held_len ? ms_http_stream_write(c->r, c->held, c->held_len) : 0;
    free(c->held);
    c->held = NULL;
    c->held_len = 0;
    return rc == 0;
}

static void emit(struct call *c, char *line, size_t len)
{
    if (c->streaming) {
        if (ms_http_stream_write(c->r, line, len) < 0)
            ms_http_stream_end(c->r); /* the client does not keep up: cut the stream */
    } else if (c->held_len + len <= MS_SERVE_HELD_MAX) {
        char *grown = realloc(c->held, c->held_len + len);
        if (grown) {
            memcpy(grown + c->held_len, line, len);
            c->held = grown;
            c->held_len += len;
        }
    }
    free(line);
}

static void call_endpoint(void *arg, const struct ms_result *result, size_t index)
{
    struct call *c = arg;
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (!f)
        return;
    int rc = ms_report_json_endpoint_event(f, result, index);
    if (fclose(f) != 0 || rc < 0) {
        free(line);
        return;
    }
    if (connected(&result->endpoints[index]) && !stream_start(c)) {
        free(line);
        return;
    }
    emit(c, line, len);
}

/* Render into memory through a FILE (the renderers write to streams). */
static char *render(enum output out, const struct ms_serve_outcome *o, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    int rc = out == OUT_JSON     ? ms_report_json(f, o->result, o->assessment)
             : out == OUT_NDJSON ? ms_report_json_report_event(f, o->result, o->assessment)
                                 : ms_prom_write_probe(f, o->result, o->assessment);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void call_done(void *arg, const struct ms_serve_outcome *o)
{
    struct call *c = arg;
    struct ms_http_request *r = c->r;
    c->probe = NULL; /* it frees itself after this */
    if (c->streaming && (o->shutting_down || !o->assessment)) {
        ms_http_stream_end(r); /* cut short: the client sees no report line */
        return;
    }
    if (o->shutting_down) {
        ms_http_add_header(r, "Retry-After", "5");
        ms_http_problem(r, 503, "/problems/shutting-down", "Service shutting down", NULL,
                        "this mailscope instance is shutting down; try again (another one)");
        return;
    }
    if (o->denied) {
        ms_http_problem(r, 403, "/problems/target-denied", "Target not allowed", "target", "%s",
                        o->denied_reason);
        return;
    }
    if (!o->assessment) {
        ms_http_problem(r, 500, "about:blank", "Internal Server Error", NULL, "out of memory");
        return;
    }
    if (c->out == OUT_TRANSCRIPT) {
        ms_http_respond(r, 200, "text/plain; charset=utf-8", o->transcript, o->transcript_len);
        return;
    }
    size_t len = 0;
    char *body = render(c->out, o, &len);
    if (!body && c->streaming) {
        ms_http_stream_end(r);
        return;
    }
    if (!body) {
        ms_http_problem(r, 500, "about:blank", "Internal Server Error", NULL,
                        "the report could not be written");
        return;
    }
    if (c->out == OUT_NDJSON) {
        if (stream_start(c))
            emit(c, body, len);
        else
            free(body);
        ms_http_stream_end(r);
        return;
    }
    ms_http_respond_owned(r, 200,
                          c->out == OUT_JSON ? "application/json"
                                             : "text/plain; version=0.0.4; charset=utf-8",
                          body, len);
}

static void start(struct ms_serve *srv, struct ms_http_request *r, enum output out,
                  struct ms_serve_probe_params *params)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c) {
        ms_http_problem(r, 500, "about:blank", "Internal Server Error", NULL, "out of memory");
        return;
    }
    c->srv = srv;
    c->r = r;
    c->out = out;
    params->client = ms_http_client_addr(r);
    params->transcript = out == OUT_TRANSCRIPT;
    struct ms_serve_probe_callbacks cb = {
        .on_endpoint = out == OUT_NDJSON ? call_endpoint : NULL, .on_done = call_done, .arg = c};
    struct ms_serve_refusal why = {0};
    if (ms_serve_probe_start(srv, params, &cb, &c->probe, &why) < 0) {
        free(c);
        respond_refusal(r, &why);
        return;
    }
    ms_http_on_close(r, call_closed, c);
    ms_http_suspend(r);
}

/* ---- query arguments ---- */

struct query {
    const char *const *known;
    const char *values[8]; /* parallel to known */
    char problem[160];
    char param[64];
};

static bool take_arg(void *arg, const char *name, const char *value)
{
    struct query *q = arg;
    if (strcmp(name, "password") == 0 || strcmp(name, "token") == 0 || strcmp(name, "user") == 0) {
        snprintf(q->param, sizeof q->param, "%s", name);
        snprintf(q->problem, sizeof q->problem,
                 "%s: credentials never go in a URL (logs and histories keep URLs); POST a JSON "
                 "body to /api/v1/check instead",
                 name);
        return false;
    }
    for (size_t i = 0; q->known[i]; i++) {
        if (strcmp(q->known[i], name) != 0)
            continue;
        if (q->values[i]) {
            snprintf(q->param, sizeof q->param, "%.60s", name);
            snprintf(q->problem, sizeof q->problem, "%.60s: given more than once", name);
            return false;
        }
        q->values[i] = value ? value : "";
        return true;
    }
    snprintf(q->param, sizeof q->param, "%.60s", name);
    snprintf(q->problem, sizeof q->problem, "%.60s: unknown parameter", name);
    return false;
}

static bool read_query(struct ms_http_request *r, struct query *q)
{
    ms_http_args(r, take_arg, q);
    if (!q->problem[0])
        return true;
    ms_http_problem(r, 400, BAD_PARAM, "Bad parameter", q->param, "%s", q->problem);
    return false;
}

static const struct ms_serve_module *module_or_400(struct ms_serve *srv, struct ms_http_request *r,
                                                   const char *name)
{
    const struct ms_serve_module *m = ms_serve_config_module(&srv->cfg, name ? name : "default");
    if (!m) {
        srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
        ms_http_problem(r, 400, BAD_PARAM, "Bad parameter", "module",
                        "module: no module called '%.100s' in this service's configuration", name);
    }
    return m;
}

/* ---- POST bodies (may sign in) ---- */

struct body {
    json_t *doc;
    const char *target, *module, *protocols, *ports, *user, *password, *token;
};

static bool read_body(struct ms_serve *srv, struct ms_http_request *r, struct body *b)
{
    static const char *const members[] = {"target", "module",   "protocols", "ports",
                                          "user",   "password", "token",     NULL};
    const char **slots[] = {&b->target, &b->module,   &b->protocols, &b->ports,
                            &b->user,   &b->password, &b->token};
    const char *type = ms_http_header(r, "Content-Type");
    size_t len = 0;
    const char *text = ms_http_body(r, &len);
    (void)srv;
    if (!type || strncasecmp(type, "application/json", 16) != 0) {
        ms_http_problem(r, 415, "/problems/unsupported-media-type", "Unsupported Media Type", NULL,
                        "POST a JSON object with Content-Type: application/json");
        return false;
    }
    json_error_t jerr;
    b->doc = text ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    ms_http_wipe_body(r); /* it may hold a password */
    if (!b->doc || !json_is_object(b->doc)) {
        ms_http_problem(r, 400, BAD_PARAM, "Bad request body", NULL,
                        "the body is not a JSON object%s%s", b->doc ? "" : ": ",
                        b->doc ? "" : (text ? jerr.text : "empty"));
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(b->doc, key, value)
    {
        size_t i = 0;
        while (members[i] && strcmp(members[i], key) != 0)
            i++;
        if (!members[i]) {
            ms_http_problem(r, 400, BAD_PARAM, "Bad parameter", key,
                            "%.60s: unknown member (known: target, module, protocols, ports, "
                            "user, password, token)",
                            key);
            return false;
        }
        if (!json_is_string(value) ||
            strlen(json_string_value(value)) != json_string_length(value)) {
            ms_http_problem(r, 400, BAD_PARAM, "Bad parameter", key, "%s: a string is needed", key);
            return false;
        }
        *slots[i] = json_string_value(value);
    }
    return true;
}

bool ms_serve_signin_allowed(struct ms_http_request *r)
{
    if (ms_http_request_tls(r))
        return true;
    const struct sockaddr *sa = ms_http_client_addr(r);
    return sa && ms_addr_classify(sa) == MS_ADDR_LOOPBACK;
}

static void check(struct ms_serve *srv, struct ms_http_request *r, enum output out)
{
    struct ms_serve_probe_params p = {0};
    if (strcmp(ms_http_method(r), "POST") == 0) {
        struct body b = {0};
        if (!read_body(srv, r, &b)) {
            srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
        } else {
            bool signs_in = b.user || b.password || b.token;
            char logged[300];
            ms_serve_redact_target(b.target ? b.target : "-", logged, sizeof logged);
            ms_http_log_target(r, logged, b.user != NULL);
            if (signs_in && !ms_serve_signin_allowed(r)) {
                srv->stats.rejections[MS_REJECT_DENIED]++;
                ms_http_problem(r, 403, "/problems/sign-in-needs-https", "Sign-in needs HTTPS",
                                "password",
                                "credentials are accepted only over HTTPS or from this machine "
                                "(loopback); start the service with --tls-cert and --tls-key");
            } else if ((p.module = module_or_400(srv, r, b.module))) {
                p.target = b.target;
                p.protocols = b.protocols;
                p.ports = b.ports;
                p.user = b.user;
                p.password = b.password;
                p.token = b.token;
                start(srv, r, out, &p); /* copies what it keeps */
            }
        }
        json_decref(b.doc); /* freed through the wiping allocator (serve.c) */
        return;
    }
    static const char *const known[] = {"target", "module", "protocols", "ports", NULL};
    struct query q = {.known = known};
    if (!read_query(r, &q)) {
        srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
        return;
    }
    if (!(p.module = module_or_400(srv, r, q.values[1])))
        return;
    p.target = q.values[0];
    p.protocols = q.values[2];
    p.ports = q.values[3];
    start(srv, r, out, &p);
}

/* JSON, or JSON lines as endpoints finish when the client asks for them. */
void ms_serve_api_check(void *app, struct ms_http_request *r)
{
    const char *accept = ms_http_header(r, "Accept");
    check(app, r, accept && strstr(accept, "application/x-ndjson") ? OUT_NDJSON : OUT_JSON);
}

void ms_serve_api_transcript(void *app, struct ms_http_request *r)
{
    check(app, r, OUT_TRANSCRIPT);
}

/* GET /probe?target=T&module=M: a Prometheus scrape, blackbox_exporter style. */
void ms_serve_api_probe(void *app, struct ms_http_request *r)
{
    struct ms_serve *srv = app;
    static const char *const known[] = {"target", "module", NULL};
    struct query q = {.known = known};
    if (!read_query(r, &q)) {
        srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
        return;
    }
    struct ms_serve_probe_params p = {.target = q.values[0]};
    if (!(p.module = module_or_400(srv, r, q.values[1])))
        return;
    /* Prometheus says how long it waits; answer within that (as blackbox_exporter does). */
    const char *scrape = ms_http_header(r, "X-Prometheus-Scrape-Timeout-Seconds");
    if (scrape) {
        char *end = NULL;
        double t = strtod(scrape, &end);
        if (end != scrape && t > 1.0)
            p.deadline_s = t - 0.5;
    }
    start(srv, r, OUT_PROMETHEUS, &p);
}

/* ---- /metrics ---- */

static void process_metrics(FILE *f, const struct ms_serve *srv)
{
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    FILE *stat = fopen("/proc/self/stat", "r");
    unsigned long utime = 0, stime = 0, vsize = 0;
    long rss = 0;
    if (stat) {
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, stat);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
        if (p)
            sscanf(p + 2,
                   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d "
                   "%*u %lu %ld",
                   &utime, &stime, &vsize, &rss);
        fclose(stat);
    }
    size_t fds = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        for (struct dirent *e; (e = readdir(d));)
            fds += e->d_name[0] != '.';
        closedir(d);
        fds--; /* the directory's own fd */
    }
    struct rlimit rl = {0};
    getrlimit(RLIMIT_NOFILE, &rl);
    fprintf(f,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %ld\n"
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %lu\n"
            "# HELP process_open_fds Number of open file descriptors.\n"
            "# TYPE process_open_fds gauge\nprocess_open_fds %zu\n"
            "# HELP process_max_fds Maximum number of open file descriptors.\n"
            "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n"
            "# HELP process_start_time_seconds Start time of the process since unix epoch in "
            "seconds.\n"
            "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.0f\n",
            ticks > 0 ? (double)(utime + stime) / (double)ticks : 0.0, rss * page, vsize, fds,
            (unsigned long long)rl.rlim_cur, srv->started_at);
}

static void serve_metrics(FILE *f, struct ms_serve *srv)
{
    static const char *const reasons[MS_REJECT_COUNT] = {[MS_REJECT_RATE_LIMITED] = "rate_limited",
                                                         [MS_REJECT_BUSY] = "busy",
                                                         [MS_REJECT_DENIED] = "denied",
                                                         [MS_REJECT_BAD_REQUEST] = "bad_request",
                                                         [MS_REJECT_SHUTTING_DOWN] =
                                                             "shutting_down"};
    static const char *const bounds[MS_SERVE_HISTOGRAM_BUCKETS] = {
        "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "20", "30", "60", "+Inf"};
    const struct ms_http_stats *hs = ms_http_stats(srv->http);
    size_t route_count = 0;
    const struct ms_http_route *routes = ms_http_routes(srv->http, &route_count);
    fprintf(f, "# HELP mailscope_serve_build_info The mailscope version (value always 1).\n"
               "# TYPE mailscope_serve_build_info gauge\n"
               "mailscope_serve_build_info{version=\"" MS_VERSION "\"} 1\n");
    fprintf(f, "# HELP mailscope_serve_http_requests_total HTTP requests answered, by handler "
               "and status code.\n# TYPE mailscope_serve_http_requests_total counter\n");
    for (size_t i = 0; i < hs->count_len; i++) {
        const struct ms_http_count *c = &hs->counts[i];
        fprintf(f, "mailscope_serve_http_requests_total{handler=\"%s\",code=\"%u\"} %llu\n",
                c->route >= 0 && (size_t)c->route < route_count ? routes[c->route].name : "none",
                c->status, (unsigned long long)c->count);
    }
    fprintf(f,
            "# HELP mailscope_serve_http_connections Open HTTP connections.\n"
            "# TYPE mailscope_serve_http_connections gauge\n"
            "mailscope_serve_http_connections %llu\n"
            "# HELP mailscope_serve_probes_in_flight Probes waiting for room in the engine "
            "(queued) or running.\n"
            "# TYPE mailscope_serve_probes_in_flight gauge\n"
            "mailscope_serve_probes_in_flight{state=\"queued\"} %zu\n"
            "mailscope_serve_probes_in_flight{state=\"running\"} %zu\n"
            "# HELP mailscope_serve_probes_total Probes started.\n"
            "# TYPE mailscope_serve_probes_total counter\n"
            "mailscope_serve_probes_total %llu\n",
            (unsigned long long)hs->connections_open, srv->queue.count, srv->running.count,
            (unsigned long long)srv->stats.probes_started);
    fprintf(f, "# HELP mailscope_serve_rejections_total Requests refused, by reason.\n"
               "# TYPE mailscope_serve_rejections_total counter\n");
    for (size_t i = 0; i < MS_REJECT_COUNT; i++)
        fprintf(f, "mailscope_serve_rejections_total{reason=\"%s\"} %llu\n", reasons[i],
                (unsigned long long)srv->stats.rejections[i]);
    fprintf(f,
            "mailscope_serve_rejections_total{reason=\"request_timeout\"} %llu\n"
            "mailscope_serve_rejections_total{reason=\"too_large\"} %llu\n",
            (unsigned long long)hs->request_timeouts, (unsigned long long)hs->too_large);
    fprintf(f, "# HELP mailscope_serve_probe_duration_seconds How long probes ran.\n"
               "# TYPE mailscope_serve_probe_duration_seconds histogram\n");
    for (size_t i = 0; i < MS_SERVE_HISTOGRAM_BUCKETS; i++)
        fprintf(f, "mailscope_serve_probe_duration_seconds_bucket{le=\"%s\"} %llu\n", bounds[i],
                (unsigned long long)srv->stats.duration_buckets[i]);
    fprintf(f,
            "mailscope_serve_probe_duration_seconds_sum %.6f\n"
            "mailscope_serve_probe_duration_seconds_count %llu\n",
            srv->stats.duration_sum, (unsigned long long)srv->stats.duration_count);
    process_metrics(f, srv);
}

void ms_serve_api_metrics(void *app, struct ms_http_request *r)
{
    struct ms_serve *srv = app;
    static const char *const none[] = {NULL};
    struct query q = {.known = none};
    if (!read_query(r, &q))
        return;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        ms_http_problem(r, 500, "about:blank", "Internal Server Error", NULL, "out of memory");
        return;
    }
    serve_metrics(f, srv);
    if (fclose(f) != 0) {
        free(buf);
        ms_http_problem(r, 500, "about:blank", "Internal Server Error", NULL, "out of memory");
        return;
    }
    ms_http_respond_owned(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

/* ---- /problems/NAME: what a problem type means (RFC 9457 type URIs resolve here) ---- */

void ms_serve_api_problems(void *app, struct ms_http_request *r)
{
    (void)app;
    static const struct {
        const char *name, *text;
    } types[] = {
        {"bad-parameter",
         "A query parameter or JSON member is missing, unknown, repeated or malformed. The "
         "problem's invalid-params names it and says why.\n"},
        {"target-denied",
         "mailscope serve does not connect to loopback, private (RFC 1918), carrier-grade NAT, "
         "link-local, multicast, unspecified, unique-local or reserved addresses (also in their "
         "IPv4-mapped IPv6 forms), checked on the address actually connected to, nor to ports "
         "that are not the module's mail ports. The detail names the address or port. An admin "
         "may start the service with --allow-private for intranet use.\n"},
        {"rate-limited",
         "This client started more checks than the service allows per minute. Retry-After says "
         "when to try again.\n"},
        {"busy", "The service runs as many checks as it is configured to (limits.max_probes). "
                 "Retry-After says when to try again.\n"},
        {"shutting-down", "The service is shutting down and takes no new checks.\n"},
        {"sign-in-needs-https",
         "Credentials are accepted only over HTTPS or from a loopback client, in a POST body; "
         "they are never logged, stored or echoed.\n"},
        {"unsupported-media-type", "POST a JSON object with Content-Type: application/json.\n"},
    };
    const char *name = ms_http_path(r) + strlen("/problems/");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(name, types[i].name) == 0) {
            ms_http_respond(r, 200, "text/plain; charset=utf-8", types[i].text,
                            strlen(types[i].text));
            return;
        }
    ms_http_problem(r, 404, "about:blank", "Not Found", NULL, "no such problem type: %.100s", name);
}
