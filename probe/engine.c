#include "probe/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe/discover.h"
#include "probe/dns.h"
#include "probe/loop.h"
#include "probe/session.h"
#include "probe/tls.h"

struct ms_engine {
    struct ms_session_env env;      /* first: sessions reach the engine through it */
    struct ms_error *dns_error;
    struct ms_loop_timer deadline;
    struct ms_result *result;       /* endpoints has room for MS_MAX_ENDPOINTS */
    struct ms_endpoint_spec *specs; /* stable copies of every endpoint's spec */
    struct ms_session *sessions;
    struct ms_discover *discover;
};

static long add_endpoint(struct ms_session_env *env, const struct ms_endpoint_spec *spec,
                         const struct ms_dns_answer *known, double resolve_ms)
{
    struct ms_engine *engine = (struct ms_engine *)env;
    if (engine->env.session_count >= MS_MAX_ENDPOINTS)
        return -1;
    size_t i = engine->env.session_count++;
    engine->specs[i] = *spec;
    engine->result->endpoint_count = engine->env.session_count;
    ms_session_start(&engine->sessions[i], env, &engine->specs[i], &engine->result->endpoints[i],
                     known, resolve_ms);
    return (long)i;
}

static int need_dns(struct ms_session_env *env)
{
    struct ms_engine *engine = (struct ms_engine *)env;
    if (env->dns)
        return 0;
    return ms_dns_new(env->loop, env->request->dns_servers[0] ? env->request->dns_servers : NULL,
                      env->request->timeout_s, &env->dns, engine->dns_error);
}

/* The whole run is out of time: everything still open ends now, charged to its phase. */
static void on_deadline(void *arg)
{
    struct ms_engine *engine = arg;
    ms_discover_abort(engine->discover);
    for (size_t i = 0; i < engine->env.session_count; i++)
        ms_session_deadline(&engine->sessions[i]);
}

int ms_engine_run(const struct ms_request *req, struct ms_result *out, struct ms_error *err)
{
    int rc = 0;
    struct ms_engine engine = {0};
    struct ms_error dns_error = {0};
    *out = (struct ms_result){0};
    snprintf(out->target, sizeof out->target, "%s", req->target);
    out->bare_host = req->bare_host;
    out->want_imap = req->want_imap;
    out->want_pop3 = req->want_pop3;
    out->credentials_given = req->auth_user != NULL;
    if (req->auth_user)
        snprintf(out->user, sizeof out->user, "%s", req->auth_user);
    out->started_at = (int64_t)time(NULL);

    engine.env.request = req;
    engine.env.need_dns = need_dns;
    engine.env.add_endpoint = add_endpoint;
    engine.result = out;
    engine.env.started_at = out->started_at;
    engine.env.t0 = ms_loop_now();
    engine.dns_error = &dns_error;
    ms_loop_timer_init(&engine.deadline);

    rc = ms_loop_new(&engine.env.loop);
    if (rc < 0) {
        ms_error_set(err, rc, "cannot create the event loop");
        goto out;
    }
    rc = ms_tls_context_new(req->ca_file, &engine.env.tls_ctx, err);
    if (rc < 0)
        goto out;
    if (req->dns_servers[0]) {
        /* A bad --dns-server is the user's mistake: say so before probing anything. */
        rc = need_dns(&engine.env);
        if (rc < 0) {
            *err = dns_error;
            goto out;
        }
    }
    out->endpoints = calloc(MS_MAX_ENDPOINTS, sizeof *out->endpoints);
    engine.sessions = calloc(MS_MAX_ENDPOINTS, sizeof *engine.sessions);
    engine.env.sessions = engine.sessions;
    engine.specs = calloc(MS_MAX_ENDPOINTS, sizeof *engine.specs);
    if (!out->endpoints || !engine.sessions || !engine.specs) {
        rc = ms_error_set(err, MS_ENOMEM, "out of memory");
        goto out;
    }

    rc = ms_loop_timer_set(engine.env.loop, &engine.deadline, req->deadline_s, on_deadline, &engine);
    if (rc < 0) {
        ms_error_set(err, rc, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < req->endpoint_count; i++)
        add_endpoint(&engine.env, &req->endpoints[i], NULL, 0);
    if (req->discover_domain[0]) {
        rc = ms_discover_start(&engine.env, &out->discovery, &engine.discover);
        if (rc < 0) {
            ms_error_set(err, rc, "out of memory");
            goto out;
        }
    }
    if (engine.env.open_sessions > 0) {
        rc = ms_loop_run(engine.env.loop);
        if (rc < 0) {
            ms_error_set(err, rc, "the event loop failed");
            goto out;
        }
    }
out:
    if (engine.env.loop)
        ms_loop_timer_cancel(engine.env.loop, &engine.deadline);
    for (size_t i = 0; i < engine.env.session_count; i++)
        ms_session_cleanup(&engine.sessions[i]);
    ms_dns_free(engine.env.dns); /* after the loop: pending callbacks see finished sessions */
    ms_discover_free(engine.discover);
    free(engine.sessions);
    free(engine.specs);
    SSL_CTX_free(engine.env.tls_ctx);
    ms_loop_free(engine.env.loop);
    out->duration_ms = (ms_loop_now() - engine.env.t0) * 1000.0;
    if (rc < 0)
        ms_result_free(out);
    return rc;
}
