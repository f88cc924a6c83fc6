#include "probe/engine.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "probe/audit.h"
#include "probe/conn.h"
#include "probe/discover.h"
#include "probe/dns.h"
#include "probe/http.h"
#include "probe/loop.h"
#include "probe/redact.h"
#include "probe/session.h"
#include "probe/tls.h"

_Static_assert(MS_ENGINE_FDS_PER_ENDPOINT == MS_CONN_MAX_ATTEMPTS + 2,
               "an endpoint's descriptors: its connection race and two family checks");

struct ms_engine;

/* One request being probed: its sessions, its result, its deadline. */
struct ms_run {
    struct ms_session_env env; /* first: sessions reach the run through it */
    struct ms_engine *engine;
    struct ms_request *request;     /* owned copy */
    struct ms_result *result;       /* owned until handed to the caller */
    struct ms_endpoint_spec *specs; /* stable copies of every endpoint's spec */
    struct ms_session *sessions;
    size_t capacity; /* room in specs, sessions and result->endpoints */
    size_t weight;   /* endpoints counted against the concurrency bound */
    struct ms_loop_timer deadline;
    struct ms_discover *discover;
    struct ms_side *sides;                    /* side connections, reported at the end */
    struct ms_audit **audits;                 /* --tls-audit: per endpoint, or NULL */
    struct ms_redactor redactor;              /* the secret's forms, kept out of the result */
    struct ms_run *next_done;                 /* finished runs waiting to be handed back */
    struct ms_run *prev_active, *next_active; /* the engine's runs in flight */
    bool abandoned;                           /* ended by a stop: freed without a result */
};

struct ms_engine {
    struct ms_loop *loop;
    struct ms_dns *dns;
    struct ms_http *http; /* autoconfig / Autodiscover fetches, created on first use */
    SSL_CTX *tls_ctx;
    const struct ms_fleet_settings *settings;
    struct ms_error *dns_error;
    struct ms_request_source source;
    bool source_done;
    int source_error;
    size_t limit; /* endpoints in flight at most: the settings' bound, sized to the fds */
    ms_result_cb done;
    void *done_arg;
    size_t inflight;         /* endpoints of the runs in progress */
    size_t runs;             /* runs in progress */
    struct ms_run *finished; /* runs to hand back from the loop's next turn */
    struct ms_loop_timer reap;
    struct ms_loop_timer trust;        /* loads the system trust store on the first idle turn */
    struct ms_loop_watch source_watch; /* the source's fd, while it has nothing ready */
    struct ms_run *active;             /* runs in flight (not yet finished) */
    struct ms_loop_timer drain;        /* a stop: abandons the runs still in flight */
    struct ms_loop_signals signals;    /* SIGINT/SIGTERM when settings->stop asks */
    SSL_CTX *audit_ctx;                /* --tls-audit's handshakes (created on first use) */
};

static void on_trust(void *arg)
{
    struct ms_engine *engine = arg;
    ms_tls_load_system_store(engine->tls_ctx);
}

/* A connection beside an endpoint's main session: the --injection-test, or the check
 * whether a password would be taken before TLS. Its own result is folded into the
 * endpoint's when the run ends. Allocated one by one: sessions must not move. */
struct ms_side {
    struct ms_session session;
    struct ms_endpoint_spec spec;
    struct ms_endpoint_result result;
    size_t for_index; /* the endpoint it reports into */
    size_t slot;      /* a pool member: its index in the endpoint's pool.members */
    struct ms_side *next;
};

static void start_side(struct ms_run *run, size_t main_index, bool injection);

/* The main session s advertised password sign-in before TLS: check it on a connection of its
 * own, which starts from the capabilities s read (one round trip less). */
static void start_plaintext_check(struct ms_session_env *env, struct ms_session *s)
{
    struct ms_run *run = (struct ms_run *)env;
    size_t i = (size_t)(s - run->sessions);
    if (i < env->session_count)
        start_side(run, i, false);
}

static void start_side(struct ms_run *run, size_t main_index, bool injection)
{
    struct ms_side *side = calloc(1, sizeof *side);
    if (!side) {
        snprintf(run->result->endpoints[main_index].plaintext_check.note,
                 sizeof run->result->endpoints[main_index].plaintext_check.note, "out of memory");
        return;
    }
    side->spec = run->specs[main_index];
    side->spec.injection_probe = injection;
    side->spec.plaintext_check = !injection;
    side->for_index = main_index;
    side->next = run->sides;
    run->sides = side;
    if (!injection) {
        const struct ms_endpoint_result *main = &run->result->endpoints[main_index];
        side->result.caps_before_tls_read = true;
        if (ms_strlist_copy(&side->result.caps_before_tls, &main->caps_before_tls) < 0) {
            snprintf(run->result->endpoints[main_index].plaintext_check.note,
                     sizeof run->result->endpoints[main_index].plaintext_check.note,
                     "out of memory");
            return;
        }
    }
    ms_session_start(&side->session, &run->env, &side->spec, &side->result, NULL, 0);
}

/* The injection test's verdict, from what its connection saw. */
static void collect_injection(struct ms_injection_facts *dst, const struct ms_endpoint_result *aux)
{
    *dst = aux->injection;
    bool dropped = aux->starttls_response[0] && (aux->failure == MS_FAILURE_TLS_HANDSHAKE ||
                                                 aux->failure == MS_FAILURE_PROTO_CLOSED);
    if (!dst->tested && dropped) {
        /* Refusing the handshake after injected bytes is the safe reaction. */
        dst->tested = true;
        snprintf(dst->note, sizeof dst->note,
                 "the server ended the connection when a command followed STARTTLS (safe)");
    } else if (!dst->tested && !dst->note[0]) {
        char note[sizeof aux->failure_message + 16];
        snprintf(note, sizeof note, "no verdict: %s",
                 aux->failure != MS_FAILURE_NONE ? aux->failure_message
                                                 : "the check did not finish");
        snprintf(dst->note, sizeof dst->note, "%.*s", (int)sizeof dst->note - 1, note);
    }
}

/* The plaintext check's facts; without an answer, why not. */
static void collect_plaintext_check(struct ms_plaintext_check *dst,
                                    const struct ms_endpoint_result *aux)
{
    *dst = aux->plaintext_check;
    dst->tried = true;
    if (!dst->answered && !dst->note[0])
        snprintf(dst->note, sizeof dst->note, "%.*s", (int)sizeof dst->note - 1,
                 aux->failure != MS_FAILURE_NONE ? aux->failure_message
                                                 : "the check did not finish");
}

/* Move each side connection's verdict into the endpoint it checked; free the rest. */
static void collect_sides(struct ms_run *run)
{
    for (struct ms_side *side = run->sides; side; side = side->next) {
        struct ms_endpoint_result *ep = &run->result->endpoints[side->for_index];
        if (side->spec.tls_probe)
            ms_audit_side_done(side->spec.tls_probe, &side->result, ep);
        else if (side->spec.pool_member)
            ms_pool_member_fill(&ep->pool.members[side->slot], &side->result);
        else if (side->spec.injection_probe)
            collect_injection(&ep->injection, &side->result);
        else
            collect_plaintext_check(&ep->plaintext_check, &side->result);
        ms_endpoint_result_free(&side->result);
    }
    for (size_t i = 0; i < run->env.session_count; i++) {
        struct ms_endpoint_result *ep = &run->result->endpoints[i];
        if (run->audits && run->audits[i])
            ms_audit_finish(run->audits[i], ep);
        for (size_t k = 0; k < ep->pool.member_count; k++)
            if (ep->pool.members[k].main)
                ms_pool_member_fill(&ep->pool.members[k], ep);
    }
}

/* ---- issue 15: the TLS audit and the address pool, beside a main session ---- */

/* A side connection to one address of the main session s (its own spec copy, labelled). */
static struct ms_side *start_side_at(struct ms_run *run, size_t main_index, struct ms_session *s,
                                     size_t addr, struct ms_tls_probe *probe, const char *label)
{
    struct ms_side *side = calloc(1, sizeof *side);
    if (!side)
        return NULL;
    side->spec = run->specs[main_index];
    side->spec.tls_probe = probe;
    side->spec.pool_member = probe == NULL;
    side->spec.side_label = label;
    side->for_index = main_index;
    side->slot = addr;
    side->next = run->sides;
    run->sides = side;
    struct ms_dns_answer one = {.count = 1, .total = 1};
    one.addrs[0] = s->addrs->addrs[addr];
    one.addr_lens[0] = s->addrs->addr_lens[addr];
    ms_session_start(&side->session, &run->env, &side->spec, &side->result, &one, 0);
    return side;
}

static void start_audit(struct ms_run *run, size_t i, struct ms_session *s)
{
    struct ms_engine *engine = run->engine;
    struct ms_endpoint_result *ep = &run->result->endpoints[i];
    struct ms_error err = {0};
    if (!engine->audit_ctx &&
        ms_tls_audit_context_new(run->request->ca_file, &engine->audit_ctx, &err) < 0)
        return;
    if (!run->audits && !(run->audits = calloc(run->capacity, sizeof *run->audits)))
        return;
    if (!(ep->audit = calloc(1, sizeof *ep->audit)))
        return;
    struct ms_audit *a = ms_audit_new(ep->audit, engine->audit_ctx);
    if (!a) {
        free(ep->audit);
        ep->audit = NULL;
        return;
    }
    run->audits[i] = a;
    for (size_t k = 0; k < ms_audit_probe_count(a); k++) {
        struct ms_tls_probe *p = ms_audit_probe_at(a, k);
        start_side_at(run, i, s, s->addr_index, p, ms_tls_probe_label(p));
    }
    ms_audit_dane_start(a, &run->env, s->spec->host, s->spec->port);
}

/* Every address of a host with several: one connection each besides the main session's. */
static void start_pool(struct ms_run *run, size_t i, struct ms_session *s)
{
    struct ms_endpoint_result *ep = &run->result->endpoints[i];
    size_t n = s->addrs->count;
    ep->pool.address_count = s->addrs->total > n ? s->addrs->total : n;
    ep->pool.capped = s->addrs->total > n;
    if (n < 2 || ep->pool.members)
        return;
    if (!(ep->pool.members = calloc(n, sizeof *ep->pool.members)))
        return;
    ep->pool.member_count = n;
    for (size_t k = 0; k < n; k++) {
        struct ms_pool_member *m = &ep->pool.members[k];
        ms_conn_format_address((struct sockaddr *)&s->addrs->addrs[k], m->address,
                               sizeof m->address);
        m->family = s->addrs->addrs[k].ss_family == AF_INET6 ? 6 : 4;
        m->main = k == s->addr_index;
        m->timings_ms = (struct ms_timings){-1, -1, -1, -1, -1};
        if (!m->main && !start_side_at(run, i, s, k, NULL, m->address)) {
            m->failure = MS_FAILURE_INTERNAL;
            snprintf(m->error, sizeof m->error, "out of memory");
        }
    }
}

static void on_main_connected(struct ms_session_env *env, struct ms_session *s)
{
    struct ms_run *run = (struct ms_run *)env;
    size_t i = (size_t)(s - run->sessions);
    if (i >= env->session_count)
        return;
    start_pool(run, i, s);
    if (env->request->tls_audit && s->spec->security != MS_SECURITY_NONE)
        start_audit(run, i, s);
}

static long add_endpoint(struct ms_session_env *env, const struct ms_endpoint_spec *spec,
                         const struct ms_dns_answer *known, double resolve_ms)
{
    struct ms_run *run = (struct ms_run *)env;
    if (env->session_count >= run->capacity)
        return -1;
    size_t i = env->session_count++;
    run->specs[i] = *spec;
    run->result->endpoint_count = env->session_count;
    ms_session_start(&run->sessions[i], env, &run->specs[i], &run->result->endpoints[i], known,
                     resolve_ms);
    if (env->request->injection_test && spec->security == MS_SECURITY_STARTTLS)
        start_side(run, i, true);
    return (long)i;
}

static void on_session_done(struct ms_session_env *env, struct ms_session *s)
{
    struct ms_run *run = (struct ms_run *)env;
    const struct ms_fleet_settings *settings = run->engine->settings;
    /* Side connections (injection test, plaintext sign-in check) report into their
     * endpoint, which is reported when it finishes itself. */
    if (s->spec->injection_probe || s->spec->plaintext_check)
        return;
    settings->on_endpoint(settings->endpoint_arg, run->request, run->result,
                          (size_t)(s - run->sessions));
}

static int need_dns(struct ms_session_env *env)
{
    struct ms_engine *engine = ((struct ms_run *)env)->engine;
    if (!engine->dns) {
        const struct ms_request *base = engine->settings->base;
        int rc = ms_dns_new(engine->loop, base->dns_servers[0] ? base->dns_servers : NULL,
                            base->timeout_s, &engine->dns, engine->dns_error);
        if (rc < 0)
            return rc;
    }
    env->dns = engine->dns;
    return 0;
}

static int need_http(struct ms_session_env *env)
{
    struct ms_engine *engine = ((struct ms_run *)env)->engine;
    if (!engine->http) {
        int rc = ms_http_new(engine->loop, engine->tls_ctx, &engine->http, NULL);
        if (rc < 0)
            return rc;
    }
    env->http = engine->http;
    return 0;
}

/* The run is out of time: everything still open ends now, charged to its phase. */
static void on_deadline(void *arg)
{
    struct ms_run *run = arg;
    ms_discover_abort(run->discover);
    for (size_t i = 0; i < run->env.session_count; i++)
        ms_session_deadline(&run->sessions[i]);
    for (struct ms_side *side = run->sides; side; side = side->next)
        ms_session_deadline(&side->session);
    for (size_t i = 0; run->audits && i < run->env.session_count; i++)
        ms_audit_deadline(run->audits[i]);
}

static void free_run(struct ms_run *run)
{
    if (!run)
        return;
    ms_redactor_free(&run->redactor);
    if (run->engine)
        ms_loop_timer_cancel(run->engine->loop, &run->deadline);
    for (size_t i = 0; i < run->env.session_count; i++)
        ms_session_cleanup(&run->sessions[i]);
    while (run->sides) {
        struct ms_side *side = run->sides;
        run->sides = side->next;
        ms_session_cleanup(&side->session);
        ms_endpoint_result_free(&side->result);
        free(side);
    }
    for (size_t i = 0; run->audits && i < run->capacity; i++)
        ms_audit_free(run->audits[i]);
    free(run->audits);
    ms_discover_free(run->discover);
    if (run->result) {
        ms_result_free(run->result);
        free(run->result);
    }
    free(run->sessions);
    free(run->specs);
    if (run->request)
        ms_request_release(run->request);
    free(run->request);
    free(run);
}

static void admit_runs(struct ms_engine *engine);

/* Hand finished runs back outside the callbacks that finished them (their sessions may
 * still be on the stack), then admit more. */
static void on_reap(void *arg)
{
    struct ms_engine *engine = arg;
    while (engine->finished) {
        struct ms_run *run = engine->finished;
        engine->finished = run->next_done;
        collect_sides(run);
        run->result->duration_ms = (ms_loop_now() - run->env.t0) * 1000.0;
        ms_discover_free(run->discover); /* it points into the result handed back below */
        run->discover = NULL;
        struct ms_result *result = run->result;
        run->result = NULL; /* transferred */
        engine->inflight -= run->weight;
        engine->runs--;
        if (run->abandoned) {
            ms_result_free(result);
            free(result);
            if (engine->settings->stop)
                engine->settings->stop->abandoned++;
        } else {
            engine->done(engine->done_arg, run->request, result);
        }
        free_run(run);
    }
    ms_loop_fds_released(engine->loop); /* the runs' sockets are closed */
    admit_runs(engine);
}

static void link_active(struct ms_engine *engine, struct ms_run *run)
{
    run->prev_active = NULL;
    run->next_active = engine->active;
    if (engine->active)
        engine->active->prev_active = run;
    engine->active = run;
}

static void unlink_active(struct ms_engine *engine, struct ms_run *run)
{
    if (run->prev_active)
        run->prev_active->next_active = run->next_active;
    else if (engine->active == run)
        engine->active = run->next_active;
    if (run->next_active)
        run->next_active->prev_active = run->prev_active;
    run->prev_active = run->next_active = NULL;
}

static void on_run_idle(struct ms_session_env *env)
{
    struct ms_run *run = (struct ms_run *)env;
    struct ms_engine *engine = run->engine;
    unlink_active(engine, run);
    ms_loop_timer_cancel(engine->loop, &run->deadline);
    run->next_done = engine->finished;
    engine->finished = run;
    ms_loop_timer_set(engine->loop, &engine->reap, 0, on_reap, engine);
}

static size_t run_capacity(const struct ms_request *req)
{
    return req->discover_domain[0] ? MS_MAX_ENDPOINTS
                                   : (req->endpoint_count ? req->endpoint_count : 1);
}

/* Set up and start one request. Returns 0 or MS_ENOMEM; on error nothing is left running. */
static int start_run(struct ms_engine *engine, struct ms_request *req)
{
    struct ms_run *run = calloc(1, sizeof *run);
    if (!run) {
        ms_request_release(req);
        free(req);
        return MS_ENOMEM;
    }
    run->engine = engine;
    run->request = req;
    /* What a server echoes of the secret never reaches the result or the trace. */
    if (ms_redactor_init(&run->redactor, req->auth_token  ? req->auth_token
                                         : req->auth_user ? req->auth_password
                                                          : NULL) < 0) {
        free_run(run);
        return MS_ENOMEM;
    }
    req->redactor = &run->redactor;
    run->capacity = run_capacity(req);
    run->weight = req->discover_domain[0] ? 8 : req->endpoint_count;
    run->result = calloc(1, sizeof *run->result);
    run->sessions = calloc(run->capacity, sizeof *run->sessions);
    run->specs = calloc(run->capacity, sizeof *run->specs);
    if (run->result)
        run->result->endpoints = calloc(run->capacity, sizeof *run->result->endpoints);
    bool ok = run->result && run->result->endpoints && run->sessions && run->specs;
    if (!ok) {
        free_run(run);
        return MS_ENOMEM;
    }
    struct ms_result *out = run->result;
    snprintf(out->target, sizeof out->target, "%s", req->target);
    out->bare_host = req->bare_host;
    memcpy(out->want, req->want, sizeof out->want);
    out->credentials_given = req->auth_user != NULL;
    out->plaintext_check_off = req->no_plaintext_check;
    out->only_family = req->family == MS_FAMILY_IPV4 ? 4 : req->family == MS_FAMILY_IPV6 ? 6 : 0;
    if (req->auth_user)
        snprintf(out->user, sizeof out->user, "%s", req->auth_user);
    out->started_at = (int64_t)time(NULL);

    struct ms_session_env *env = &run->env;
    env->loop = engine->loop;
    env->dns = engine->dns;
    env->tls_ctx = engine->tls_ctx;
    env->request = req;
    env->t0 = ms_loop_now();
    env->started_at = out->started_at;
    env->need_dns = need_dns;
    env->http = engine->http;
    env->need_http = need_http;
    env->add_endpoint = add_endpoint;
    env->plaintext_check = start_plaintext_check;
    env->connected = on_main_connected;
    env->sessions = run->sessions;
    env->on_idle = on_run_idle;
    if (engine->settings->on_endpoint)
        env->on_session_done = on_session_done;
    ms_loop_timer_init(&run->deadline);

    engine->inflight += run->weight;
    engine->runs++;
    /* Held open while starting, so a run whose endpoints all fail at once ends cleanly. */
    env->open_sessions++;
    if (ms_loop_timer_set(engine->loop, &run->deadline, req->deadline_s, on_deadline, run) < 0) {
        env->open_sessions--;
        engine->inflight -= run->weight;
        engine->runs--;
        free_run(run);
        return MS_ENOMEM;
    }
    link_active(engine, run);
    for (size_t i = 0; i < req->endpoint_count; i++)
        add_endpoint(env, &req->endpoints[i], NULL, 0);
    int rc = 0;
    if (req->discover_domain[0])
        rc = ms_discover_start(env, &out->discovery, &run->discover);
    ms_session_env_release(env);
    return rc;
}

static void on_source_ready(void *arg, unsigned events)
{
    (void)events;
    struct ms_engine *engine = arg;
    ms_loop_unwatch(engine->loop, &engine->source_watch);
    admit_runs(engine);
}

static void admit_runs(struct ms_engine *engine)
{
    while (!engine->source_done && (engine->runs == 0 || engine->inflight < engine->limit)) {
        struct ms_request *req = calloc(1, sizeof *req);
        if (!req) {
            engine->source_error = MS_ENOMEM;
            engine->source_done = true;
            break;
        }
        int got = engine->source.next(engine->source.arg, req);
        if (engine->source_done) { /* a stop began inside next() */
            ms_request_release(req);
            free(req);
            break;
        }
        if (got == MS_EAGAIN && engine->source.wait_fd >= 0) {
            ms_request_release(req);
            free(req);
            if (ms_loop_watch(engine->loop, &engine->source_watch, engine->source.wait_fd,
                              MS_LOOP_READ, on_source_ready, engine) == 0)
                break;
            /* An fd epoll cannot watch: wait for it here, the only way left. */
            struct pollfd p = {.fd = engine->source.wait_fd, .events = POLLIN};
            if (poll(&p, 1, -1) < 0 && errno != EINTR) {
                engine->source_error = MS_EIO;
                engine->source_done = true;
                break;
            }
            continue;
        }
        if (got <= 0) {
            ms_request_release(req);
            free(req);
            engine->source_done = true;
            if (got < 0)
                engine->source_error = got;
            break;
        }
        int rc = start_run(engine, req); /* takes req */
        if (rc < 0) {
            engine->source_error = rc;
            engine->source_done = true;
        }
    }
    if (engine->source_done && engine->runs == 0)
        ms_loop_stop(engine->loop);
}

/* The stop's bound has passed: every run still in flight ends now, as at its deadline, and
 * is freed without a result when it is reaped. */
static void on_drain(void *arg)
{
    struct ms_engine *engine = arg;
    for (struct ms_run *run = engine->active; run; run = run->next_active)
        run->abandoned = true;
    while (engine->active) {
        struct ms_run *run = engine->active;
        on_deadline(run); /* ends every session: the run goes idle and leaves the list */
        if (engine->active == run)
            unlink_active(engine, run); /* never left waiting (defensive) */
    }
}

void ms_engine_drain(struct ms_engine *engine, double drain_s)
{
    double due = ms_loop_now() + (drain_s > 0 ? drain_s : 0);
    if (!engine->source_done) {
        engine->source_done = true;
        ms_loop_unwatch(engine->loop, &engine->source_watch);
    }
    if (engine->runs == 0 && !engine->finished) {
        ms_loop_stop(engine->loop);
        return;
    }
    if (!ms_loop_timer_armed(&engine->drain) || engine->drain.when > due)
        ms_loop_timer_set(engine->loop, &engine->drain, drain_s, on_drain, engine);
}

static void on_signal(void *arg, int signo)
{
    struct ms_engine *engine = arg;
    struct ms_engine_stop *stop = engine->settings->stop;
    bool first = stop->signo == 0;
    if (first)
        stop->signo = signo;
    if (stop->on_signal)
        stop->on_signal(stop->arg, signo, first);
    ms_engine_drain(engine, first ? stop->drain_s : 0);
}

size_t ms_engine_fd_concurrency(size_t wanted, bool injection_test)
{
    struct rlimit lim;
    if (wanted == 0)
        wanted = 1;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_cur == RLIM_INFINITY)
        return wanted;
    size_t per = MS_ENGINE_FDS_PER_ENDPOINT * (injection_test ? 2 : 1);
    size_t fds = (size_t)lim.rlim_cur;
    size_t budget = fds > MS_ENGINE_FDS_RESERVED ? (fds - MS_ENGINE_FDS_RESERVED) / per : 0;
    if (budget == 0)
        budget = 1;
    return budget < wanted ? budget : wanted;
}

int ms_engine_run_many(const struct ms_fleet_settings *settings, struct ms_request_source source,
                       ms_result_cb done, void *arg, struct ms_error *err)
{
    int rc = 0;
    struct ms_error dns_error = {0};
    struct ms_engine engine = {
        .settings = settings,
        .source = source,
        .done = done,
        .done_arg = arg,
        .dns_error = &dns_error,
        .limit = ms_engine_fd_concurrency(settings->concurrency, settings->base->injection_test)};
    ms_loop_timer_init(&engine.reap);
    ms_loop_timer_init(&engine.trust);
    ms_loop_timer_init(&engine.drain);
    ms_loop_watch_init(&engine.source_watch);
    ms_loop_signals_init(&engine.signals);
    if (settings->loop)
        engine.loop = settings->loop;
    else
        rc = ms_loop_new(&engine.loop);
    if (rc < 0) {
        ms_error_set(err, rc, "cannot create the event loop");
        goto out;
    }
    if (settings->stop) {
        settings->stop->engine = &engine;
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        if (settings->stop->watch_signals &&
            (rc = ms_loop_signals_start(engine.loop, &engine.signals, &set, on_signal, &engine)) <
                0) {
            ms_error_set(err, rc, "cannot watch SIGINT and SIGTERM: %s", strerror(errno));
            goto out;
        }
    }
    rc = ms_tls_context_new(settings->base->ca_file, &engine.tls_ctx, err);
    if (rc < 0)
        goto out;
    if (settings->base->dns_servers[0]) {
        /* A bad --dns-server is the user's mistake: say so before probing anything. */
        rc = ms_dns_new(engine.loop, settings->base->dns_servers, settings->base->timeout_s,
                        &engine.dns, &dns_error);
        if (rc < 0) {
            *err = dns_error;
            goto out;
        }
    }
    admit_runs(&engine);
    if (ms_loop_timer_set(engine.loop, &engine.trust, 0, on_trust, &engine) < 0)
        ms_tls_load_system_store(engine.tls_ctx);
    if (engine.runs > 0 || engine.finished || !engine.source_done) {
        rc = ms_loop_run(engine.loop);
        if (rc < 0) {
            ms_error_set(err, rc, "the event loop failed");
            goto out;
        }
    }
    if (engine.source_error < 0) {
        rc = engine.source_error;
        if (!err || !err->message[0])
            ms_error_set(err, rc, "%s", ms_strerror(rc));
    }
out:
    while (engine.finished) { /* only on an error path */
        struct ms_run *run = engine.finished;
        engine.finished = run->next_done;
        free_run(run);
    }
    ms_http_free(engine.http); /* its transfers ended with their runs */
    ms_dns_free(engine.dns);   /* last: late answers find only orphaned tickets */
    if (engine.loop) {
        ms_loop_timer_cancel(engine.loop, &engine.reap);
        ms_loop_timer_cancel(engine.loop, &engine.trust);
        ms_loop_timer_cancel(engine.loop, &engine.drain);
        ms_loop_unwatch(engine.loop, &engine.source_watch);
        ms_loop_signals_stop(engine.loop, &engine.signals);
    }
    if (settings->stop)
        settings->stop->engine = NULL;
    SSL_CTX_free(engine.tls_ctx);
    SSL_CTX_free(engine.audit_ctx);
    if (!settings->loop)
        ms_loop_free(engine.loop);
    return rc;
}

/* ---- one request ---- */

struct single {
    const struct ms_request *req;
    bool given;
    struct ms_result *out;
    bool got;
};

static int single_next(void *arg, struct ms_request *req)
{
    struct single *one = arg;
    if (one->given)
        return 0;
    one->given = true;
    return ms_request_copy(req, one->req) < 0 ? MS_ENOMEM : 1;
}

static void single_done(void *arg, const struct ms_request *req, struct ms_result *result)
{
    (void)req;
    struct single *one = arg;
    *one->out = *result;
    one->got = true;
    free(result); /* the contents moved to *out */
}

int ms_engine_run(const struct ms_request *req, struct ms_result *out, struct ms_error *err)
{
    *out = (struct ms_result){0};
    struct single one = {.req = req, .out = out};
    struct ms_fleet_settings settings = {.base = req, .concurrency = MS_MAX_ENDPOINTS};
    int rc = ms_engine_run_many(&settings, (struct ms_request_source){single_next, &one, -1},
                                single_done, &one, err);
    if (rc == 0 && !one.got)
        rc = ms_error_set(err, MS_EIO, "the probe ended without a result");
    if (rc < 0)
        ms_result_free(out);
    return rc;
}
