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
    /* --injection-test: one extra connection per STARTTLS endpoint, reported into it. */
    struct ms_session *aux_sessions;
    struct ms_endpoint_spec *aux_specs;
    struct ms_endpoint_result *aux_results;
    size_t *aux_for;
    size_t aux_count;
};

static void start_injection_probe(struct ms_engine *engine, size_t main_index)
{
    if (!engine->aux_sessions || engine->aux_count >= MS_MAX_ENDPOINTS)
        return;
    size_t k = engine->aux_count++;
    engine->aux_specs[k] = engine->specs[main_index];
    engine->aux_specs[k].injection_probe = true;
    engine->aux_for[k] = main_index;
    ms_session_start(&engine->aux_sessions[k], &engine->env, &engine->aux_specs[k],
                     &engine->aux_results[k], NULL, 0);
}

/* Move each injection probe's verdict into the endpoint it tested; free the rest. */
static void collect_injection_probes(struct ms_engine *engine, bool keep_verdicts)
{
    for (size_t k = 0; k < engine->aux_count; k++) {
        struct ms_endpoint_result *aux = &engine->aux_results[k];
        if (keep_verdicts) {
            struct ms_injection_facts *dst = &engine->result->endpoints[engine->aux_for[k]].injection;
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
                         aux->failure != MS_FAILURE_NONE ? aux->failure_message : "the check did not finish");
                snprintf(dst->note, sizeof dst->note, "%.*s", (int)sizeof dst->note - 1, note);
            }
        }
        ms_strlist_free(&aux->addresses);
        ms_strlist_free(&aux->caps_before_tls);
        ms_strlist_free(&aux->caps_after_tls);
        ms_strlist_free(&aux->caps_after_login);
        ms_strlist_free(&aux->tls.cert.san);
    }
}

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
    if (env->request->injection_test && spec->security == MS_SECURITY_STARTTLS)
        start_injection_probe(engine, i);
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
    for (size_t i = 0; i < engine->aux_count; i++)
        ms_session_deadline(&engine->aux_sessions[i]);
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
    if (req->injection_test) {
        engine.aux_sessions = calloc(MS_MAX_ENDPOINTS, sizeof *engine.aux_sessions);
        engine.aux_specs = calloc(MS_MAX_ENDPOINTS, sizeof *engine.aux_specs);
        engine.aux_results = calloc(MS_MAX_ENDPOINTS, sizeof *engine.aux_results);
        engine.aux_for = calloc(MS_MAX_ENDPOINTS, sizeof *engine.aux_for);
        if (!engine.aux_sessions || !engine.aux_specs || !engine.aux_results || !engine.aux_for) {
            rc = ms_error_set(err, MS_ENOMEM, "out of memory");
            goto out;
        }
    }
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
    for (size_t i = 0; i < engine.aux_count; i++)
        ms_session_cleanup(&engine.aux_sessions[i]);
    collect_injection_probes(&engine, rc == 0);
    ms_dns_free(engine.env.dns); /* after the loop: pending callbacks see finished sessions */
    ms_discover_free(engine.discover);
    free(engine.sessions);
    free(engine.specs);
    free(engine.aux_sessions);
    free(engine.aux_specs);
    free(engine.aux_results);
    free(engine.aux_for);
    SSL_CTX_free(engine.env.tls_ctx);
    ms_loop_free(engine.env.loop);
    out->duration_ms = (ms_loop_now() - engine.env.t0) * 1000.0;
    if (rc < 0)
        ms_result_free(out);
    return rc;
}
