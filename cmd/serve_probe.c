#include "cmd/serve_probe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "probe/addr.h"
#include "probe/engine.h"
#include "probe/plan.h"
#include "report/require.h"

struct ms_serve_probe {
    struct ms_serve *srv;
    struct ms_request req; /* owned while queued; moved to the engine when it runs */
    const struct ms_serve_module *module;
    struct ms_serve_probe_callbacks cb;
    bool cancelled, running;
    struct ms_serve_probe *prev, *next; /* the queue, then the running list */
    char *password, *token;             /* from the request body: wiped with the probe */
    char user[MS_MAX_HOST + 1];
    bool want_transcript;
    char *transcript;
    size_t transcript_len, transcript_cap;
    bool transcript_cut;
    double t_queued, t_started;
};

/* Upper bounds (seconds) of the probe duration histogram; the last bucket is +Inf. */
static const double duration_bounds[MS_SERVE_HISTOGRAM_BUCKETS - 1] = {0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                                                       5,    10,  20,   30,  60};

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void free_probe(struct ms_serve_probe *p)
{
    ms_request_release(&p->req);
    wipe_free(p->password);
    wipe_free(p->token);
    explicit_bzero(p->user, sizeof p->user);
    free(p->transcript);
    free(p);
}

/* ---- the queue (the engine's request source) ---- */

static void list_push(struct ms_serve_probe_list *l, struct ms_serve_probe *p)
{
    p->prev = l->tail;
    p->next = NULL;
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
    l->count++;
}

static void list_remove(struct ms_serve_probe_list *l, struct ms_serve_probe *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        l->head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        l->tail = p->prev;
    p->prev = p->next = NULL;
    l->count--;
}

static void wake(struct ms_serve *srv)
{
    uint64_t one = 1;
    if (srv->wake_fd >= 0 && write(srv->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        fprintf(stderr, "mailscope serve: cannot wake the engine: %s\n", strerror(errno));
}

static int source_next(void *arg, struct ms_request *req)
{
    struct ms_serve *srv = arg;
    uint64_t count;
    if (read(srv->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
        return MS_EIO;
    struct ms_serve_probe *p = srv->queue.head;
    if (!p)
        return srv->draining ? 0 : MS_EAGAIN;
    list_remove(&srv->queue, p);
    *req = p->req; /* the endpoint list moves to the engine */
    p->req.endpoints = NULL;
    p->req.endpoint_count = p->req.endpoint_capacity = 0;
    p->running = true;
    p->t_started = ms_loop_now();
    list_push(&srv->running, p);
    srv->stats.probes_started++;
    return 1;
}

/* ---- engine callbacks ---- */

static void on_trace(void *arg, const char *line, size_t len)
{
    struct ms_serve_probe *p = arg;
    size_t max = p->srv->cfg.limits.max_transcript;
    if (p->transcript_cut)
        return;
    if (p->transcript_len + len + 64 > max) {
        static const char cut[] = "[the transcript is longer than this service keeps]\n";
        len = 0;
        line = NULL;
        p->transcript_cut = true;
        if (p->transcript_len + sizeof cut > p->transcript_cap)
            return;
        memcpy(p->transcript + p->transcript_len, cut, sizeof cut - 1);
        p->transcript_len += sizeof cut - 1;
        p->transcript[p->transcript_len] = '\0';
        return;
    }
    if (p->transcript_len + len + 2 > p->transcript_cap) {
        size_t cap = p->transcript_cap ? p->transcript_cap : 4096;
        while (cap < p->transcript_len + len + 2)
            cap *= 2;
        if (cap > max + 64)
            cap = max + 64;
        char *grown = realloc(p->transcript, cap);
        if (!grown) {
            p->transcript_cut = true;
            return;
        }
        p->transcript = grown;
        p->transcript_cap = cap;
    }
    memcpy(p->transcript + p->transcript_len, line, len);
    p->transcript_len += len;
    p->transcript[p->transcript_len++] = '\n';
    p->transcript[p->transcript_len] = '\0';
}

static void on_endpoint(void *arg, const struct ms_request *req, const struct ms_result *result,
                        size_t index)
{
    (void)arg;
    struct ms_serve_probe *p = req->context;
    if (!p->cancelled && p->cb.on_endpoint)
        p->cb.on_endpoint(p->cb.arg, result, index);
}

/* Refused by the policy: no endpoint got connected, and at least one was refused. */
static bool denied(const struct ms_result *r, char *reason, size_t cap)
{
    const struct ms_endpoint_result *first = NULL;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        if (ep->failure == MS_FAILURE_TCP_DENIED) {
            if (!first)
                first = ep;
        } else if (ep->failure == MS_FAILURE_NONE || ep->failure_phase > MS_PHASE_CONNECT) {
            return false; /* something connected: the report stands */
        }
    }
    if (!first)
        return false;
    snprintf(reason, cap, "%.200s: %.190s", first->host, first->failure_message);
    return true;
}

static void record_duration(struct ms_serve *srv, double seconds)
{
    struct ms_serve_stats *st = &srv->stats;
    for (size_t i = 0; i < MS_SERVE_HISTOGRAM_BUCKETS; i++)
        if (i == MS_SERVE_HISTOGRAM_BUCKETS - 1 || seconds <= duration_bounds[i])
            st->duration_buckets[i]++;
    st->duration_count++;
    st->duration_sum += seconds;
}

static void on_result(void *arg, const struct ms_request *req, struct ms_result *result)
{
    struct ms_serve *srv = arg;
    struct ms_serve_probe *p = req->context;
    double now = ms_loop_now();
    list_remove(&srv->running, p);
    srv->stats.probes_finished++;
    record_duration(srv, now - p->t_started);
    if (!p->cancelled) {
        struct ms_assessment a = {0};
        struct ms_serve_outcome o = {.result = result,
                                     .assessment = &a,
                                     .module = p->module,
                                     .transcript = p->transcript ? p->transcript : "",
                                     .transcript_len = p->transcript_len,
                                     .queued_s = p->t_started - p->t_queued,
                                     .duration_s = now - p->t_started};
        const struct ms_serve_module *m = p->module;
        if (ms_assess(result, &m->assess, &a) < 0 ||
            ms_thresholds_apply(&m->thresholds, result, &a) < 0 ||
            ms_require_apply(&m->requirements, result, &a) < 0) {
            ms_assessment_free(&a);
            o.assessment = NULL; /* the caller answers 500 */
        }
        o.denied = denied(result, o.denied_reason, sizeof o.denied_reason);
        if (o.denied)
            srv->stats.rejections[MS_REJECT_DENIED]++;
        p->cb.on_done(p->cb.arg, &o);
        ms_assessment_free(&a);
    }
    ms_result_free(result);
    free(result);
    free_probe(p);
}

/* ---- starting a probe ---- */

static int refuse(struct ms_serve_refusal *why, unsigned status, const char *type,
                  const char *title, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int refuse(struct ms_serve_refusal *why, unsigned status, const char *type,
                  const char *title, const char *param, const char *fmt, ...)
{
    why->status = status;
    why->type = type;
    why->title = title;
    why->param = param;
    why->retry_after_s = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->detail, sizeof why->detail, fmt, ap);
    va_end(ap);
    return status >= 500 && status != 503 ? MS_ENOMEM : MS_EINVAL;
}

#define BAD_PARAM "/problems/bad-parameter"
#define DENIED "/problems/target-denied"

static bool port_allowed(const struct ms_serve_module *m, uint16_t port)
{
    for (size_t i = 0; i < m->allowed_count; i++)
        if (m->allowed[i] == port)
            return true;
    return false;
}

static void allowed_list(const struct ms_serve_module *m, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m->allowed_count && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%u", i ? ", " : "",
                                 (unsigned)m->allowed[i]);
}

/* Protocols and ports from the request, within what the module allows. */
static int plan(struct ms_serve_probe *p, const struct ms_serve_probe_params *in,
                struct ms_target *target, struct ms_serve_refusal *why)
{
    const struct ms_serve_module *m = p->module;
    struct ms_error err = {0};
    unsigned want = m->want; /* 0: the target's default */
    char allowed[160];
    allowed_list(m, allowed, sizeof allowed);
    if (in->protocols) {
        char names[64];
        ms_serve_protocol_names(m->want, ", ", names, sizeof names);
        if (ms_plan_parse_protocols(in->protocols, &want, &err) < 0)
            return refuse(
                why, 400, BAD_PARAM, "Bad parameter", "protocols", "%s (module %s probes %s)",
                err.message + (strncmp(err.message, "--", 2) == 0 ? 2 : 0), m->name, names);
        if (m->want && (want & ~m->want))
            return refuse(why, 400, BAD_PARAM, "Bad parameter", "protocols",
                          "protocols: module %s probes only %s", m->name, names);
    }
    struct ms_ports ports = m->ports;
    if (in->ports) {
        if (ms_plan_parse_ports(in->ports, &ports, &err) < 0)
            return refuse(why, 400, BAD_PARAM, "Bad parameter", "ports", "ports: %s", err.message);
        struct ms_serve_module given = *m;
        uint16_t own[MS_SERVE_OWN_PORTS];
        bool wanted[MS_SERVE_OWN_PORTS];
        given.ports = ports;
        given.want = want;
        ms_serve_module_ports(&given, own, wanted);
        for (size_t i = 0; i < MS_SERVE_OWN_PORTS; i++)
            if (wanted[i] && !port_allowed(m, own[i]))
                return refuse(why, 403, DENIED, "Port not allowed", "ports",
                              "port %u is not a mail port module %s may probe (allowed: %s)",
                              (unsigned)own[i], m->name, allowed);
    }
    if (ms_plan_add(&p->req, target, &ports, want, &err) < 0)
        return refuse(why, 400, BAD_PARAM, "Bad parameter", "target", "target: %s", err.message);
    for (size_t i = 0; i < p->req.endpoint_count; i++) {
        const struct ms_endpoint_spec *ep = &p->req.endpoints[i];
        enum ms_addr_class cls;
        if (!port_allowed(m, ep->port))
            return refuse(why, 403, DENIED, "Port not allowed", "target",
                          "port %u is not a mail port module %s may probe (allowed: %s)",
                          (unsigned)ep->port, m->name, allowed);
        if (!p->srv->cfg.allow_private && ms_addr_classify_text(ep->host, &cls) &&
            cls != MS_ADDR_PUBLIC)
            return refuse(why, 403, DENIED, "Target not allowed", "target",
                          "%s is %s, which this service does not connect to", ep->host,
                          ms_addr_class_words(cls));
    }
    return 0;
}

/* Who signs in, with what: the request body's user and secret, else the module's. */
static int sign_in(struct ms_serve_probe *p, const struct ms_serve_probe_params *in,
                   const struct ms_target *target, struct ms_serve_refusal *why)
{
    const struct ms_serve_module *m = p->module;
    const char *user = in->user, *password = in->password, *token = in->token;
    if (!user && !password && !token) {
        if (!m->user[0])
            return 0;
        user = m->user;
        password = m->secret.password;
        token = m->secret.token;
    }
    if (!password && !token)
        return refuse(why, 400, BAD_PARAM, "Bad parameter", "password",
                      "a user signs in with a password or a token");
    if (!user) {
        if (!(target->is_discovery && target->user[0]))
            return refuse(why, 400, BAD_PARAM, "Bad parameter", "user",
                          "name the user who signs in (or give an e-mail address as target)");
        if (snprintf(p->user, sizeof p->user, "%s@%s", target->user, target->host) >=
            (int)sizeof p->user)
            return refuse(why, 400, BAD_PARAM, "Bad parameter", "target",
                          "the e-mail address is too long to sign in with");
    } else {
        if (!*user || strlen(user) > MS_MAX_HOST || strpbrk(user, "\r\n"))
            return refuse(why, 400, BAD_PARAM, "Bad parameter", "user",
                          "a user name of at most %d characters, on one line", MS_MAX_HOST);
        snprintf(p->user, sizeof p->user, "%s", user);
    }
    if ((password && !(p->password = strdup(password))) || (token && !(p->token = strdup(token))))
        return refuse(why, 500, "about:blank", "Internal Server Error", NULL, "out of memory");
    p->req.auth_user = p->user;
    p->req.auth_password = p->password;
    p->req.auth_token = p->token;
    snprintf(p->req.auth_mech, sizeof p->req.auth_mech, "%s", m->auth_mech);
    return 0;
}

int ms_serve_probe_start(struct ms_serve *srv, const struct ms_serve_probe_params *in,
                         const struct ms_serve_probe_callbacks *cb, struct ms_serve_probe **out,
                         struct ms_serve_refusal *why)
{
    int rc = 0;
    struct ms_error err = {0};
    struct ms_target target;
    struct ms_serve_probe *p = NULL;
    const struct ms_serve_config *cfg = &srv->cfg;
    if (srv->draining) {
        srv->stats.rejections[MS_REJECT_SHUTTING_DOWN]++;
        rc = refuse(why, 503, "/problems/shutting-down", "Service shutting down", NULL,
                    "this mailscope instance is shutting down; try again (another one)");
        why->retry_after_s = 5;
        return rc;
    }
    if (!in->target || !*in->target) {
        rc = refuse(why, 400, BAD_PARAM, "Bad parameter", "target",
                    "target is missing: a host name, an e-mail address or a URL such as "
                    "imaps://mail.example.com");
        goto out;
    }
    if (strlen(in->target) >= sizeof p->req.target) {
        rc = refuse(why, 400, BAD_PARAM, "Bad parameter", "target",
                    "target is longer than %zu characters", sizeof p->req.target - 1);
        goto out;
    }
    if (ms_plan_parse_target(in->target, &target, &err) < 0) {
        rc = refuse(why, 400, BAD_PARAM, "Bad parameter", "target", "target: %s", err.message);
        goto out;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        rc = refuse(why, 500, "about:blank", "Internal Server Error", NULL, "out of memory");
        goto out;
    }
    p->srv = srv;
    p->module = in->module;
    p->cb = *cb;
    struct ms_request *req = &p->req;
    snprintf(req->target, sizeof req->target, "%s", in->target);
    req->timeout_s = in->module->timeout_s;
    req->deadline_s = in->module->deadline_s;
    if (in->deadline_s > 0 && in->deadline_s < req->deadline_s)
        req->deadline_s = in->deadline_s;
    req->injection_test = in->module->injection_test;
    req->policy.deny_private = !cfg->allow_private;
    memcpy(req->policy.ports, in->module->allowed, sizeof req->policy.ports);
    req->policy.port_count = in->module->allowed_count;
    req->context = p;
    if (in->transcript) {
        p->want_transcript = true;
        req->trace = true;
        req->trace_sink = on_trace;
        req->trace_arg = p;
    }
    if ((rc = plan(p, in, &target, why)) < 0 || (rc = sign_in(p, in, &target, why)) < 0)
        goto out;
    double retry = 0;
    if (!ms_serve_rate_take(srv, in->client, &retry)) {
        srv->stats.rejections[MS_REJECT_RATE_LIMITED]++;
        rc = refuse(why, 429, "/problems/rate-limited", "Too many requests", NULL,
                    "this client started too many checks; try again in %.0f s", retry + 0.5);
        why->retry_after_s = retry;
        goto out;
    }
    if (srv->queue.count + srv->running.count >= cfg->limits.max_probes) {
        srv->stats.rejections[MS_REJECT_BUSY]++;
        rc = refuse(why, 429, "/problems/busy", "Too many checks in progress", NULL,
                    "this service runs %zu checks at most and is full; try again shortly",
                    cfg->limits.max_probes);
        why->retry_after_s = 5;
        goto out;
    }
    p->t_queued = ms_loop_now();
    list_push(&srv->queue, p);
    wake(srv);
    *out = p;
    p = NULL;
out:
    if (rc < 0 && why->status == 400)
        srv->stats.rejections[MS_REJECT_BAD_REQUEST]++;
    if (rc < 0 && why->status == 403)
        srv->stats.rejections[MS_REJECT_DENIED]++;
    if (p)
        free_probe(p);
    return rc;
}

void ms_serve_probe_cancel(struct ms_serve_probe *p)
{
    if (!p)
        return;
    p->cancelled = true;
    if (!p->running) {
        list_remove(&p->srv->queue, p);
        free_probe(p);
    }
}

int ms_serve_probe_run(struct ms_serve *srv, struct ms_error *err)
{
    const struct ms_serve_config *cfg = &srv->cfg;
    srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->wake_fd < 0)
        return ms_error_set(err, MS_EIO, "cannot create an eventfd: %s", strerror(errno));
    struct ms_request *base = &srv->base;
    base->ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL;
    snprintf(base->dns_servers, sizeof base->dns_servers, "%s", cfg->dns_servers);
    base->timeout_s = cfg->timeout_s;
    base->deadline_s = cfg->deadline_s;
    struct ms_fleet_settings settings = {.base = base,
                                         .concurrency = cfg->concurrency,
                                         .loop = srv->loop,
                                         .on_endpoint = on_endpoint,
                                         .endpoint_arg = srv,
                                         .stop = &srv->stop};
    struct ms_request_source source = {source_next, srv, srv->wake_fd};
    int rc = ms_engine_run_many(&settings, source, on_result, srv, err);
    /* Probes the drain abandoned (freed by the engine without a result): 503. */
    while (srv->running.head) {
        struct ms_serve_probe *p = srv->running.head;
        list_remove(&srv->running, p);
        if (!p->cancelled) {
            struct ms_serve_outcome o = {
                .module = p->module, .shutting_down = true, .transcript = ""};
            p->cb.on_done(p->cb.arg, &o);
        }
        free_probe(p);
    }
    return rc;
}

void ms_serve_probe_drain(struct ms_serve *srv)
{
    while (srv->queue.head) {
        struct ms_serve_probe *p = srv->queue.head;
        list_remove(&srv->queue, p);
        srv->stats.rejections[MS_REJECT_SHUTTING_DOWN]++;
        if (!p->cancelled) {
            struct ms_serve_outcome o = {
                .module = p->module, .shutting_down = true, .transcript = ""};
            p->cb.on_done(p->cb.arg, &o);
        }
        free_probe(p);
    }
    wake(srv); /* the source says it is done */
}

void ms_serve_probe_free_all(struct ms_serve *srv)
{
    while (srv->queue.head) {
        struct ms_serve_probe *p = srv->queue.head;
        list_remove(&srv->queue, p);
        free_probe(p);
    }
}
