#include "cmd/serve.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cmd/options.h"
#include "cmd/serve_probe.h"
#include "cmd/version.h"
#include "probe/engine.h"

/* ---- the route table --------------------------------------------------------------------
 * One row per path. The helpdesk page adds its rows here (GET /, GET /check, its assets
 * under /static/, its event stream), with a `csp` of its own where it needs one. */
static void healthz(void *app, struct ms_http_request *r);

static const struct ms_http_route routes[] = {
    {"/healthz", MS_HTTP_GET, "healthz", healthz, 0, NULL},
    {"/api/v1/check", MS_HTTP_GET | MS_HTTP_POST, "check", ms_serve_api_check, 0, NULL},
    {"/api/v1/transcript", MS_HTTP_GET | MS_HTTP_POST, "transcript", ms_serve_api_transcript, 0,
     NULL},
    {"/probe", MS_HTTP_GET, "probe", ms_serve_api_probe, 0, NULL},
    {"/metrics", MS_HTTP_GET, "metrics", ms_serve_api_metrics, 0, NULL},
    {"/problems/", MS_HTTP_GET, "problems", ms_serve_api_problems, 0, NULL},
    /* the helpdesk page */
    {"/", MS_HTTP_GET, "page", ms_serve_page_form, 0, MS_SERVE_PAGE_CSP},
    {"/check", MS_HTTP_GET | MS_HTTP_POST, "page_check", ms_serve_page_check, 0, MS_SERVE_PAGE_CSP},
    {"/check/events", MS_HTTP_GET, "page_events", ms_serve_page_events, 0, MS_SERVE_PAGE_CSP},
    {"/static/", MS_HTTP_GET, "static", ms_serve_page_static, 0, MS_SERVE_PAGE_CSP},
};

static void healthz(void *app, struct ms_http_request *r)
{
    struct ms_serve *srv = app;
    if (srv->draining) {
        ms_http_respond(r, 503, "text/plain; charset=utf-8", "shutting down\n", 14);
        return;
    }
    ms_http_respond(r, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

/* ---- options ---- */

enum {
    OPT_LISTEN = 256,
    OPT_CONFIG,
    OPT_CHECK_CONFIG,
    OPT_ALLOW_PRIVATE,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_CA_FILE,
    OPT_DNS_SERVER,
    OPT_TIMEOUT,
    OPT_DEADLINE,
    OPT_CONCURRENCY,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"check-config", required_argument, NULL, OPT_CHECK_CONFIG},
    {"allow-private", no_argument, NULL, OPT_ALLOW_PRIVATE},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"dns-server", required_argument, NULL, OPT_DNS_SERVER},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"deadline", required_argument, NULL, OPT_DEADLINE},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
    fputs("Usage: mailscope serve [OPTIONS]\n"
          "\n"
          "Run mailscope as a service: a JSON API, a Prometheus /probe endpoint (the\n"
          "blackbox_exporter convention) and the daemon's own /metrics, from one event loop.\n"
          "\n"
          "Options:\n"
          "  --listen ADDR:PORT       listen here (repeatable; IPv6 as [ADDR]:PORT);\n"
          "                           default " MS_SERVE_DEFAULT_LISTEN "\n"
          "  --config FILE            settings and modules from a JSON file (the options\n"
          "                           below override it)\n"
          "  --check-config FILE      validate FILE (and the files it names), print a summary,\n"
          "                           and exit: 0 valid, 3 not\n"
          "  --allow-private          also probe loopback, private, link-local, ... addresses\n"
          "                           (intranet use, tests); refused with 403 otherwise\n"
          "  --tls-cert FILE          serve HTTPS with this certificate (PEM, full chain)...\n"
          "  --tls-key FILE           ...and this key (PEM)\n"
          "  --ca-file FILE           also trust these CAs when checking mail servers\n"
          "  --dns-server IP[:PORT]   ask this DNS server (repeatable)\n"
          "  --timeout SECONDS        bound on each phase of each endpoint (10)\n"
          "  --deadline SECONDS       bound on each probe (30)\n"
          "  --concurrency N          endpoints probed at once, over all requests (400)\n"
          "  -h, --help               show this help\n"
          "  --version                show the version and the libraries' versions\n"
          "\n"
          "Endpoints:\n"
          "  GET  /                 the helpdesk page (a form; sign-in over HTTPS or loopback)\n"
          "  GET  /check?target=T   its result page, streamed as endpoints finish\n"
          "  POST /check            the form (CSRF token); GET /check/events: the same as SSE\n"
          "  GET  /api/v1/check?target=T[&module=M][&protocols=imap,pop3,submission]\n"
          "                           [&ports=imaps=993,...]\n"
          "       the JSON report (the command line's JSON report)\n"
          "  POST /api/v1/check       the same from a JSON body, which may sign in:\n"
          "       {\"target\": T, \"user\": U, \"password\": P} (HTTPS or a loopback client only)\n"
          "  GET|POST /api/v1/transcript   the same check's redacted protocol transcript\n"
          "  GET  /probe?target=T&module=M   Prometheus text exposition (probe_success, ...)\n"
          "  GET  /metrics            the daemon's own metrics\n"
          "  GET  /healthz            200 ok while serving\n"
          "\n"
          "SIGTERM or SIGINT: stop accepting, let probes in flight finish (bounded), exit 0.\n"
          "\n"
          "Examples:\n"
          "  mailscope serve\n"
          "  mailscope serve --listen 0.0.0.0:11995 --listen '[::]:11995' --config "
          "/etc/mailscope/serve.json\n"
          "  mailscope serve --check-config /etc/mailscope/serve.json\n"
          "  mailscope serve --tls-cert /etc/mailscope/cert.pem --tls-key /etc/mailscope/key.pem\n"
          "  curl 'http://127.0.0.1:11995/api/v1/check?target=mail.example.com'\n"
          "  curl 'http://127.0.0.1:11995/probe?target=mail.example.com&module=default'\n"
          "  curl -H 'Content-Type: application/json' -d @signin.json \\\n"
          "       http://127.0.0.1:11995/api/v1/check   # {\"target\": ..., \"password\": ...}\n",
          out);
}

struct cli {
    const char *config, *check_config;
    struct ms_http_listen listen[MS_HTTP_MAX_LISTEN];
    size_t listen_count;
    bool allow_private, help, version;
    const char *tls_cert, *tls_key, *ca_file;
    char dns_servers[512];
    double timeout_s, deadline_s;
    size_t concurrency;
};

static int parse_cli(int argc, char **argv, struct cli *cli, struct ms_error *err)
{
    int rc = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            if (cli->listen_count >= MS_HTTP_MAX_LISTEN)
                return ms_error_set(err, MS_EINVAL, "at most %d --listen addresses",
                                    MS_HTTP_MAX_LISTEN);
            rc = ms_http_parse_listen(optarg, &cli->listen[cli->listen_count++], err);
            break;
        case OPT_CONFIG: cli->config = optarg; break;
        case OPT_CHECK_CONFIG: cli->check_config = optarg; break;
        case OPT_ALLOW_PRIVATE: cli->allow_private = true; break;
        case OPT_TLS_CERT: cli->tls_cert = optarg; break;
        case OPT_TLS_KEY: cli->tls_key = optarg; break;
        case OPT_CA_FILE: cli->ca_file = optarg; break;
        case OPT_DNS_SERVER:
            rc = ms_options_add_dns_server(cli->dns_servers, sizeof cli->dns_servers, optarg, err);
            break;
        case OPT_TIMEOUT: rc = ms_options_seconds("--timeout", optarg, &cli->timeout_s, err); break;
        case OPT_DEADLINE:
            rc = ms_options_seconds("--deadline", optarg, &cli->deadline_s, err);
            break;
        case OPT_CONCURRENCY: {
            char *end = NULL;
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || n < 1 || n > 100000)
                return ms_error_set(err, MS_EINVAL,
                                    "--concurrency needs a whole number from 1 to 100000");
            cli->concurrency = (size_t)n;
            break;
        }
        case 'h': cli->help = true; return 0;
        case OPT_VERSION: cli->version = true; return 0;
        case ':':
            return ms_error_set(err, MS_EINVAL, "option '%s' needs a value", argv[optind - 1]);
        default: return ms_error_set(err, MS_EINVAL, "unknown option '%s'", argv[optind - 1]);
        }
        if (rc < 0)
            return rc;
    }
    if (optind < argc)
        return ms_error_set(err, MS_EINVAL,
                            "'serve' takes no targets ('%s'): clients name them in requests",
                            argv[optind]);
    return 0;
}

/* The command line over the config file. */
static void apply_cli(const struct cli *cli, struct ms_serve_config *cfg)
{
    if (cli->listen_count) {
        memcpy(cfg->listen, cli->listen, cli->listen_count * sizeof cli->listen[0]);
        cfg->listen_count = cli->listen_count;
    }
    if (cli->allow_private)
        cfg->allow_private = true;
    if (cli->tls_cert)
        snprintf(cfg->tls_cert, sizeof cfg->tls_cert, "%s", cli->tls_cert);
    if (cli->tls_key)
        snprintf(cfg->tls_key, sizeof cfg->tls_key, "%s", cli->tls_key);
    if (cli->ca_file)
        snprintf(cfg->ca_file, sizeof cfg->ca_file, "%s", cli->ca_file);
    if (cli->dns_servers[0])
        snprintf(cfg->dns_servers, sizeof cfg->dns_servers, "%s", cli->dns_servers);
    if (cli->timeout_s > 0)
        cfg->timeout_s = cli->timeout_s;
    if (cli->deadline_s > 0)
        cfg->deadline_s = cli->deadline_s;
    if (cli->concurrency)
        cfg->concurrency = cli->concurrency;
}

static void print_summary(FILE *out, const char *file, const struct ms_serve_config *cfg)
{
    fprintf(out, "%s: valid\n", file);
    for (size_t i = 0; i < cfg->listen_count; i++)
        fprintf(out, "  listen %s (%s)\n", cfg->listen[i].text,
                cfg->tls_cert[0] ? "HTTPS" : "HTTP");
    fprintf(out, "  private addresses: %s\n", cfg->allow_private ? "allowed" : "refused");
    for (size_t i = 0; i < cfg->module_count; i++) {
        const struct ms_serve_module *m = &cfg->modules[i];
        char protocols[64];
        ms_serve_protocol_names(m->want, "+", protocols, sizeof protocols);
        fprintf(out, "  module %s: %s%s, ports", m->name, protocols, m->want ? "" : " (by target)");
        for (size_t k = 0; k < m->allowed_count; k++)
            fprintf(out, "%s%u", k ? "," : " ", (unsigned)m->allowed[k]);
        fprintf(out, ", timeout %gs, deadline %gs, %zu requirement%s%s%s\n", m->timeout_s,
                m->deadline_s, m->requirements.count, m->requirements.count == 1 ? "" : "s",
                m->user[0] ? ", signs in as " : "", m->user[0] ? m->user : "");
    }
}

/* ---- start-up helpers ---- */

/* jansson frees through this: a request body's password (and the lexer's copies of it) is
 * wiped, not left in freed memory. */
static void *json_alloc(size_t n)
{
    return malloc(n);
}

static void json_release(void *p)
{
    if (p) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

static int read_pem(const char *path, char **out, struct ms_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ms_error_set(err, MS_EINVAL, "cannot read '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (1u << 20)) {
                rc = ms_error_set(err, MS_EINVAL, "'%s' is larger than 1 MiB", path);
                goto out;
            }
            char *grown = realloc(buf, cap);
            if (!grown) {
                rc = MS_ENOMEM;
                goto out;
            }
            buf = grown;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
out:
    if (buf) {
        explicit_bzero(buf, cap);
        free(buf);
    }
    fclose(f);
    return rc;
}

/* Connections, probes and their sockets need file descriptors: take the hard limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* ---- SIGTERM: drain (the engine's stop does the probes' part) ---- */

static void on_flush(void *arg)
{
    struct ms_serve *srv = arg;
    if (ms_http_active(srv->http) == 0 || ms_loop_now() >= srv->flush_deadline) {
        ms_loop_stop(srv->loop);
        return;
    }
    ms_loop_timer_set(srv->loop, &srv->flush_timer, 0.02, on_flush, srv);
}

/* From the engine's loop, as each SIGTERM/SIGINT comes; the engine then stops admitting
 * and drains (first) or abandons the probes in flight (later ones). */
static void on_signal(void *arg, int signo, bool first)
{
    struct ms_serve *srv = arg;
    if (!first) {
        fprintf(stderr, "mailscope serve: %s again: abandoning %zu probe%s in flight\n",
                strsignal(signo), srv->running.count, srv->running.count == 1 ? "" : "s");
        srv->forced = true;
        return;
    }
    srv->draining = true;
    ms_http_quiesce(srv->http);
    ms_serve_probe_drain(srv); /* queued probes are answered 503 */
    fprintf(stderr,
            "mailscope serve: shutting down (%s): %zu probe%s in flight, waiting at most %.0f s\n",
            strsignal(signo), srv->running.count, srv->running.count == 1 ? "" : "s",
            srv->cfg.limits.drain_timeout_s);
}

/* What a query argument looks like in the access log: targets are logged (an e-mail
 * address without its user part), the other known arguments as given, the rest redacted. */
void ms_serve_redact_target(const char *target, char *out, size_t cap)
{
    const char *at = strchr(target, '@');
    if (at && !strstr(target, "://"))
        snprintf(out, cap, "<redacted>%.200s", at);
    else
        snprintf(out, cap, "%.300s", target);
}

static void log_arg(void *app, const char *name, const char *value, char *out, size_t cap)
{
    (void)app;
    if (strcmp(name, "target") == 0) {
        ms_serve_redact_target(value, out, cap);
    } else if (strcmp(name, "module") == 0 || strcmp(name, "protocols") == 0 ||
               strcmp(name, "ports") == 0) {
        snprintf(out, cap, "%.100s", value);
    } else {
        snprintf(out, cap, "<redacted>");
    }
}

static int setup_http(struct ms_serve *srv, struct ms_error *err)
{
    struct ms_http_settings *hs = &srv->http_settings;
    const struct ms_serve_config *cfg = &srv->cfg;
    int rc;
    if (cfg->tls_cert[0] && ((rc = read_pem(cfg->tls_cert, &srv->tls_cert_pem, err)) < 0 ||
                             (rc = read_pem(cfg->tls_key, &srv->tls_key_pem, err)) < 0))
        return rc;
    memcpy(hs->listen, cfg->listen, sizeof hs->listen);
    hs->listen_count = cfg->listen_count;
    hs->tls_cert_pem = srv->tls_cert_pem;
    hs->tls_key_pem = srv->tls_key_pem;
    hs->max_connections = cfg->limits.max_connections;
    hs->max_connections_per_client = cfg->limits.max_connections_per_client;
    hs->request_timeout_s = cfg->limits.request_timeout_s;
    hs->max_header_bytes = cfg->limits.max_header_bytes;
    hs->max_url = cfg->limits.max_url;
    hs->max_body = cfg->limits.max_body;
    hs->routes = routes;
    hs->route_count = sizeof routes / sizeof routes[0];
    hs->app = srv;
    hs->log_arg = log_arg;
    return ms_http_start(srv->loop, hs, &srv->http, err);
}

static void free_serve(struct ms_serve *srv)
{
    ms_http_destroy(srv->http);
    srv->http = NULL;
    ms_serve_probe_free_all(srv);
    if (srv->loop)
        ms_loop_timer_cancel(srv->loop, &srv->flush_timer);
    if (srv->wake_fd >= 0)
        close(srv->wake_fd);
    if (srv->tls_key_pem) {
        explicit_bzero(srv->tls_key_pem, strlen(srv->tls_key_pem));
        free(srv->tls_key_pem);
    }
    free(srv->tls_cert_pem);
    free(srv->rate);
    ms_serve_config_free(&srv->cfg);
    ms_loop_free(srv->loop);
    free(srv);
}

/* Sign-in secrets come from the request body or a module's file, never from the
 * environment: wipe what is there, so a module's file is what counts. */
static void drop_env_secret(const char *name)
{
    char *value = getenv(name);
    if (value)
        explicit_bzero(value, strlen(value));
    unsetenv(name);
}

int ms_serve_main(int argc, char **argv)
{
    int exit_code = 3, rc;
    drop_env_secret("MAILSCOPE_PASSWORD");
    drop_env_secret("MAILSCOPE_OAUTH2_TOKEN");
    struct ms_error err = {0};
    struct cli cli = {0};
    struct ms_serve *srv = calloc(1, sizeof *srv);
    if (!srv) {
        fputs("mailscope serve: out of memory\n", stderr);
        return 3;
    }
    srv->wake_fd = -1;
    ms_loop_timer_init(&srv->flush_timer);
    if (ms_serve_config_init(&srv->cfg) < 0) {
        fputs("mailscope serve: out of memory\n", stderr);
        goto out;
    }
    if (parse_cli(argc, argv, &cli, &err) < 0) {
        fprintf(stderr, "mailscope serve: %s\nTry 'mailscope serve --help'.\n", err.message);
        goto out;
    }
    if (cli.help || cli.version) {
        errno = 0;
        if (cli.help) {
            usage(stdout);
        } else {
            struct ms_libversion libs[MS_HTTP_LIBVERSIONS];
            ms_version_print(stdout, "mailscope-serve", libs, ms_http_libversions(libs));
        }
        if (fflush(stdout) == 0 && !ferror(stdout))
            exit_code = 0;
        else
            fprintf(stderr, "mailscope serve: cannot write the %s: %s\n",
                    cli.help ? "help" : "version", errno ? strerror(errno) : "write error");
        goto out;
    }
    const char *file = cli.check_config ? cli.check_config : cli.config;
    if (file && (rc = ms_serve_config_load(&srv->cfg, file, &err)) < 0) {
        fprintf(stderr, "mailscope serve: %s\n", err.message);
        goto out;
    }
    apply_cli(&cli, &srv->cfg);
    if ((rc = ms_serve_config_finish(&srv->cfg, &err)) < 0) {
        fprintf(stderr, "mailscope serve: %s%s%s\n", file ? file : "", file ? ": " : "",
                err.message);
        goto out;
    }
    if (cli.check_config) {
        print_summary(stdout, cli.check_config, &srv->cfg);
        exit_code = 0;
        goto out;
    }
    raise_fd_limit();
    json_set_alloc_funcs(json_alloc, json_release);
    srv->started_at = (double)time(NULL);
    srv->rate = calloc(MS_SERVE_RATE_SLOTS, sizeof *srv->rate);
    if (!srv->rate || ms_loop_new(&srv->loop) < 0) {
        fputs("mailscope serve: out of memory\n", stderr);
        goto out;
    }
    if ((rc = setup_http(srv, &err)) < 0) {
        fprintf(stderr, "mailscope serve: %s\n", err.message);
        goto out;
    }
    for (size_t i = 0; i < srv->cfg.listen_count; i++)
        fprintf(stderr, "mailscope serve: listening on %s://%s/\n",
                srv->tls_cert_pem ? "https" : "http", srv->cfg.listen[i].text);
    srv->stop = (struct ms_engine_stop){.drain_s = srv->cfg.limits.drain_timeout_s,
                                        .watch_signals = true,
                                        .on_signal = on_signal,
                                        .arg = srv};
    rc = ms_serve_probe_run(srv, &err); /* the loop runs in here until the drain is done */
    if (rc < 0) {
        fprintf(stderr, "mailscope serve: %s\n", err.message);
        goto out;
    }
    /* Let the last answers go out (probes the drain abandoned are answered 503 now). */
    srv->flush_deadline = ms_loop_now() + (srv->forced ? 1.0 : 5.0);
    ms_loop_timer_set(srv->loop, &srv->flush_timer, 0, on_flush, srv);
    ms_loop_run(srv->loop);
    fprintf(stderr, "mailscope serve: stopped\n");
    exit_code = 0;
out:
    free_serve(srv);
    return exit_code;
}
