#include "cmd/serve_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/credentials.h"
#include "cmd/options.h"
#include "probe/plan.h"
#include "probe/tls.h"

#define MS_SERVE_DEFAULT_TIMEOUT_S 10.0
#define MS_SERVE_DEFAULT_DEADLINE_S 30.0

static void module_defaults(struct ms_serve_module *m, const char *name)
{
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->want = 0;
    m->ports = ms_plan_default_ports();
    m->assess.cert_warn_days = MS_ASSESS_DEFAULT_CERT_WARN_DAYS;
}

int ms_serve_config_init(struct ms_serve_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->timeout_s = MS_SERVE_DEFAULT_TIMEOUT_S;
    cfg->deadline_s = MS_SERVE_DEFAULT_DEADLINE_S;
    cfg->concurrency = 400;
    struct ms_serve_limits *l = &cfg->limits;
    l->max_connections = 4096;
    l->max_connections_per_client = 0;
    l->max_probes = 1000;
    l->rate_per_minute = 60;
    l->burst = 20;
    l->request_timeout_s = 10;
    l->max_header_bytes = 16384;
    l->max_url = 2048;
    l->max_body = 8192;
    l->max_transcript = 256 * 1024;
    l->drain_timeout_s = 0; /* 0: the longest module deadline plus 5 s */
    cfg->modules = calloc(1, sizeof *cfg->modules);
    if (!cfg->modules)
        return MS_ENOMEM;
    module_defaults(&cfg->modules[0], "default");
    cfg->module_count = 1;
    return 0;
}

void ms_serve_config_free(struct ms_serve_config *cfg)
{
    for (size_t i = 0; i < cfg->module_count; i++) {
        ms_credentials_wipe(&cfg->modules[i].secret);
    }
    free(cfg->modules);
    cfg->modules = NULL;
    cfg->module_count = 0;
}

const struct ms_serve_module *ms_serve_config_module(const struct ms_serve_config *cfg,
                                                     const char *name)
{
    for (size_t i = 0; i < cfg->module_count; i++)
        if (strcmp(cfg->modules[i].name, name) == 0)
            return &cfg->modules[i];
    return NULL;
}

double ms_serve_config_max_deadline(const struct ms_serve_config *cfg)
{
    double max = cfg->deadline_s;
    for (size_t i = 0; i < cfg->module_count; i++)
        if (cfg->modules[i].deadline_s > max)
            max = cfg->modules[i].deadline_s;
    return max;
}

/* ---- trusted networks ---- */

static int parse_cidr(const char *text, struct ms_serve_cidr *out)
{
    char addr[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n >= sizeof addr)
        return MS_EINVAL;
    memcpy(addr, text, n);
    addr[n] = '\0';
    memset(out, 0, sizeof *out);
    unsigned max;
    struct in_addr v4;
    if (inet_pton(AF_INET, addr, &v4) == 1) {
        out->addr[10] = out->addr[11] = 0xff;
        memcpy(out->addr + 12, &v4, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
        max = 128;
    } else {
        return MS_EINVAL;
    }
    unsigned prefix = max;
    if (slash) {
        char *end = NULL;
        long p = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || p < 0 || p > (long)max)
            return MS_EINVAL;
        prefix = (unsigned)p;
    }
    out->prefix = prefix + (128 - max);
    return 0;
}

static bool cidr_match(const struct ms_serve_cidr *c, const uint8_t *a)
{
    unsigned bits = c->prefix;
    for (unsigned i = 0; i < 16 && bits > 0; i++, bits = bits > 8 ? bits - 8 : 0) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((a[i] & mask) != (c->addr[i] & mask))
            return false;
    }
    return true;
}

bool ms_serve_config_trusted(const struct ms_serve_config *cfg, const struct sockaddr *addr)
{
    uint8_t a[16] = {0};
    if (addr->sa_family == AF_INET) {
        a[10] = a[11] = 0xff;
        memcpy(a + 12, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    } else if (addr->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
    } else {
        return false;
    }
    for (size_t i = 0; i < cfg->limits.trusted_count; i++)
        if (cidr_match(&cfg->limits.trusted[i], a))
            return true;
    return false;
}

/* ---- the JSON file ---- */

struct loader {
    const char *file;
    struct ms_error *err;
};

static int bad(struct loader *ld, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct loader *ld, const char *key, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ms_error_set(ld->err, MS_EINVAL, "%s: %s: %s", ld->file, key, what);
}

/* Every member of obj must be one of known (NULL-terminated). */
static int check_keys(struct loader *ld, const char *where, json_t *obj, const char *const *known)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp(known[i], key) == 0;
        if (!ok) {
            char list[400] = "";
            size_t used = 0;
            for (size_t i = 0; known[i] && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                         known[i]);
            char path[200];
            snprintf(path, sizeof path, "%s%s%.60s", where, where[0] ? "." : "", key);
            return bad(ld, path, "unknown key (known here: %s)", list);
        }
    }
    return 0;
}

static void key_path(char *out, size_t cap, const char *where, const char *key)
{
    snprintf(out, cap, "%s%s%s", where, where[0] ? "." : "", key);
}

static int get_seconds(struct loader *ld, json_t *obj, const char *where, const char *key,
                       double max, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char path[200];
    key_path(path, sizeof path, where, key);
    if (!json_is_number(v) || !(json_number_value(v) > 0) || json_number_value(v) > max)
        return bad(ld, path, "a number of seconds above 0 and at most %g is needed", max);
    *out = json_number_value(v);
    return 0;
}

static int get_count(struct loader *ld, json_t *obj, const char *where, const char *key,
                     long long min, long long max, long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char path[200];
    key_path(path, sizeof path, where, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(ld, path, "a whole number from %lld to %lld is needed", min, max);
    *out = json_integer_value(v);
    return 0;
}

static int get_bool(struct loader *ld, json_t *obj, const char *where, const char *key, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char path[200];
    key_path(path, sizeof path, where, key);
    if (!json_is_boolean(v))
        return bad(ld, path, "true or false is needed");
    *out = json_is_true(v);
    return 0;
}

static int get_string(struct loader *ld, json_t *obj, const char *where, const char *key, char *out,
                      size_t cap)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char path[200];
    key_path(path, sizeof path, where, key);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
        return bad(ld, path, "a non-empty string of at most %zu characters is needed", cap - 1);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return bad(ld, path, "the string holds a NUL character");
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

/* A string or an array of strings; fn is called for each. */
static int each_string(struct loader *ld, json_t *obj, const char *where, const char *key,
                       int (*fn)(struct loader *ld, const char *path, const char *s, void *arg),
                       void *arg)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    char path[200];
    key_path(path, sizeof path, where, key);
    if (json_is_string(v))
        return fn(ld, path, json_string_value(v), arg);
    if (!json_is_array(v))
        return bad(ld, path, "a string or an array of strings is needed");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        char ipath[240];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        if (!json_is_string(item))
            return bad(ld, ipath, "a string is needed");
        int rc = fn(ld, ipath, json_string_value(item), arg);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int add_listen(struct loader *ld, const char *path, const char *s, void *arg)
{
    struct ms_serve_config *cfg = arg;
    struct ms_error e = {0};
    if (cfg->listen_count >= MS_HTTP_MAX_LISTEN)
        return bad(ld, path, "at most %d listen addresses", MS_HTTP_MAX_LISTEN);
    if (ms_http_parse_listen(s, &cfg->listen[cfg->listen_count], &e) < 0)
        return bad(ld, path, "%s", e.message);
    cfg->listen_count++;
    return 0;
}

static int add_dns(struct loader *ld, const char *path, const char *s, void *arg)
{
    struct ms_serve_config *cfg = arg;
    struct ms_error e = {0};
    if (ms_options_add_dns_server(cfg->dns_servers, sizeof cfg->dns_servers, s, &e) < 0)
        return bad(ld, path, "one IP[:PORT] per string, at most %zu characters in all",
                   sizeof cfg->dns_servers - 1);
    return 0;
}

static int add_trusted(struct loader *ld, const char *path, const char *s, void *arg)
{
    struct ms_serve_limits *l = arg;
    if (l->trusted_count >= MS_SERVE_MAX_TRUSTED)
        return bad(ld, path, "at most %d trusted networks", MS_SERVE_MAX_TRUSTED);
    if (parse_cidr(s, &l->trusted[l->trusted_count]) < 0)
        return bad(ld, path, "'%s' is not an address or a network (ADDRESS/PREFIX)", s);
    l->trusted_count++;
    return 0;
}

static int add_require(struct loader *ld, const char *path, const char *s, void *arg)
{
    struct ms_error e = {0};
    if (ms_require_parse(s, false, arg, &e) < 0)
        return bad(ld, path, "%s", e.message);
    return 0;
}

static int add_forbid(struct loader *ld, const char *path, const char *s, void *arg)
{
    struct ms_error e = {0};
    if (ms_require_parse(s, true, arg, &e) < 0)
        return bad(ld, path, "%s", e.message);
    return 0;
}

void ms_serve_module_ports(const struct ms_serve_module *m, uint16_t own[MS_SERVE_OWN_PORTS],
                           bool wanted[MS_SERVE_OWN_PORTS])
{
    const uint16_t ports[MS_SERVE_OWN_PORTS] = {m->ports.imap,       m->ports.imaps,
                                                m->ports.pop3,       m->ports.pop3s,
                                                m->ports.submission, m->ports.submissions};
    const enum ms_protocol of[MS_SERVE_OWN_PORTS] = {
        MS_PROTOCOL_IMAP, MS_PROTOCOL_IMAP,       MS_PROTOCOL_POP3,
        MS_PROTOCOL_POP3, MS_PROTOCOL_SUBMISSION, MS_PROTOCOL_SUBMISSION};
    for (size_t k = 0; k < MS_SERVE_OWN_PORTS; k++) {
        own[k] = ports[k];
        wanted[k] = !m->want || (m->want & MS_WANT(of[k]));
    }
}

void ms_serve_protocol_names(unsigned want, const char *sep, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++) {
        if (want && !(want & MS_WANT(p)))
            continue;
        int n = snprintf(buf + used, cap - used, "%s%s", used ? sep : "",
                         ms_protocol_name((enum ms_protocol)p));
        if (n < 0 || (size_t)n >= cap - used)
            return;
        used += (size_t)n;
    }
}

static int add_protocol(struct loader *ld, const char *path, const char *s, void *arg)
{
    unsigned *want = arg, one = 0;
    struct ms_error e = {0};
    if (ms_plan_parse_protocols(s, &one, &e) < 0 || strchr(s, ','))
        return bad(ld, path, "unknown protocol '%s' (imap, pop3, submission or all)", s);
    *want |= one;
    return 0;
}

static int load_ports(struct loader *ld, json_t *obj, const char *where, struct ms_ports *ports)
{
    static const char *const names[] = {"imap",       "imaps",       "pop3", "pop3s",
                                        "submission", "submissions", NULL};
    if (!json_is_object(obj))
        return bad(ld, where, "an object such as {\"imaps\": 993} is needed");
    int rc = check_keys(ld, where, obj, names);
    uint16_t *slots[] = {&ports->imap,  &ports->imaps,      &ports->pop3,
                         &ports->pop3s, &ports->submission, &ports->submissions};
    for (size_t i = 0; rc == 0 && names[i]; i++) {
        long long v = slots[i][0];
        rc = get_count(ld, obj, where, names[i], 1, 65535, &v);
        *slots[i] = (uint16_t)v;
    }
    return rc;
}

static int load_module(struct loader *ld, const char *name, json_t *obj, struct ms_serve_module *m)
{
    static const char *const known[] = {
        "protocols", "ports",          "allowed_ports",  "require",   "forbid",   "warning",
        "critical",  "cert_warn_days", "cert_crit_days", "timeout",   "deadline", "injection_test",
        "user",      "password_file",  "token_file",     "auth_mech", NULL};
    char where[MS_SERVE_MODULE_NAME + 16];
    snprintf(where, sizeof where, "modules.%s", name);
    if (!json_is_object(obj))
        return bad(ld, where, "an object is needed");
    int rc = check_keys(ld, where, obj, known);
    if (rc < 0)
        return rc;
    json_t *protocols = json_object_get(obj, "protocols");
    if (protocols) {
        unsigned want = 0;
        if ((rc = each_string(ld, obj, where, "protocols", add_protocol, &want)) < 0)
            return rc;
        if (!want) {
            char path[MS_SERVE_MODULE_NAME + 128];
            snprintf(path, sizeof path, "%s.protocols", where);
            return bad(ld, path, "name imap, pop3, submission or all");
        }
        m->want = want;
    }
    json_t *ports = json_object_get(obj, "ports");
    if (ports) {
        char path[MS_SERVE_MODULE_NAME + 24];
        snprintf(path, sizeof path, "%s.ports", where);
        if ((rc = load_ports(ld, ports, path, &m->ports)) < 0)
            return rc;
    }
    json_t *allowed = json_object_get(obj, "allowed_ports");
    if (allowed) {
        char path[MS_SERVE_MODULE_NAME + 32];
        snprintf(path, sizeof path, "%s.allowed_ports", where);
        if (!json_is_array(allowed) || json_array_size(allowed) > MS_MAX_POLICY_PORTS - 4)
            return bad(ld, path, "an array of at most %d port numbers is needed",
                       MS_MAX_POLICY_PORTS - 4);
        size_t i;
        json_t *item;
        json_array_foreach(allowed, i, item)
        {
            if (!json_is_integer(item) || json_integer_value(item) < 1 ||
                json_integer_value(item) > 65535)
                return bad(ld, path, "item %zu: a port number (1-65535) is needed", i);
            m->allowed[m->allowed_count++] = (uint16_t)json_integer_value(item);
        }
    }
    if ((rc = each_string(ld, obj, where, "require", add_require, &m->requirements)) < 0 ||
        (rc = each_string(ld, obj, where, "forbid", add_forbid, &m->requirements)) < 0 ||
        (rc = get_seconds(ld, obj, where, "warning", 3600, &m->thresholds.warning_s)) < 0 ||
        (rc = get_seconds(ld, obj, where, "critical", 3600, &m->thresholds.critical_s)) < 0 ||
        (rc = get_seconds(ld, obj, where, "timeout", 3600, &m->timeout_s)) < 0 ||
        (rc = get_seconds(ld, obj, where, "deadline", 3600, &m->deadline_s)) < 0 ||
        (rc = get_bool(ld, obj, where, "injection_test", &m->injection_test)) < 0 ||
        (rc = get_string(ld, obj, where, "user", m->user, sizeof m->user)) < 0 ||
        (rc = get_string(ld, obj, where, "password_file", m->password_file,
                         sizeof m->password_file)) < 0 ||
        (rc = get_string(ld, obj, where, "token_file", m->token_file, sizeof m->token_file)) < 0 ||
        (rc = get_string(ld, obj, where, "auth_mech", m->auth_mech, sizeof m->auth_mech)) < 0)
        return rc;
    long long days = m->assess.cert_warn_days;
    if ((rc = get_count(ld, obj, where, "cert_warn_days", 0, 3650, &days)) < 0)
        return rc;
    m->assess.cert_warn_days = (int)days;
    days = 0;
    if ((rc = get_count(ld, obj, where, "cert_crit_days", 0, 3650, &days)) < 0)
        return rc;
    m->thresholds.cert_crit_days = (int)days;
    if (m->auth_mech[0]) {
        static const char *const mechs[] = {"PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER", "USER"};
        bool ok = false;
        for (size_t i = 0; i < sizeof mechs / sizeof mechs[0] && !ok; i++)
            if (strcasecmp(m->auth_mech, mechs[i]) == 0) {
                snprintf(m->auth_mech, sizeof m->auth_mech, "%s", mechs[i]);
                ok = true;
            }
        if (!ok) {
            char path[MS_SERVE_MODULE_NAME + 128];
            snprintf(path, sizeof path, "%s.auth_mech", where);
            return bad(ld, path, "PLAIN, LOGIN, XOAUTH2, OAUTHBEARER or USER");
        }
    }
    if ((m->password_file[0] || m->token_file[0]) && !m->user[0])
        return bad(ld, where, "a password_file or token_file needs a user");
    if (m->user[0] && !m->password_file[0] && !m->token_file[0])
        return bad(ld, where, "a user needs a password_file or a token_file");
    if (m->password_file[0] && m->token_file[0])
        return bad(ld, where, "give a password_file or a token_file, not both");
    return 0;
}

static int valid_module_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= MS_SERVE_MODULE_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(name[i] == '_' || name[i] == '-' || name[i] == '.' ||
              (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9')))
            return false;
    return true;
}

static int load_modules(struct loader *ld, json_t *obj, struct ms_serve_config *cfg)
{
    if (!json_is_object(obj))
        return bad(ld, "modules", "an object of named modules is needed");
    if (json_object_size(obj) > MS_SERVE_MAX_MODULES)
        return bad(ld, "modules", "at most %d modules", MS_SERVE_MAX_MODULES);
    struct ms_serve_module *modules = calloc(json_object_size(obj) + 1, sizeof *modules);
    if (!modules)
        return MS_ENOMEM;
    size_t n = 0;
    modules[n++] = cfg->modules[0]; /* "default", replaced if the file defines it */
    const char *name;
    json_t *value;
    json_object_foreach(obj, name, value)
    {
        if (!valid_module_name(name)) {
            free(modules);
            return bad(ld, "modules", "'%.80s' is not a module name (letters, digits, . _ -)",
                       name);
        }
        struct ms_serve_module *m = strcmp(name, "default") == 0 ? &modules[0] : &modules[n++];
        module_defaults(m, name);
        int rc = load_module(ld, name, value, m);
        if (rc < 0) {
            free(modules);
            return rc;
        }
    }
    free(cfg->modules);
    cfg->modules = modules;
    cfg->module_count = n;
    return 0;
}

static int load_limits(struct loader *ld, json_t *obj, struct ms_serve_limits *l)
{
    static const char *const known[] = {"max_connections",
                                        "max_connections_per_client",
                                        "max_probes",
                                        "rate_per_minute",
                                        "burst",
                                        "trusted_clients",
                                        "request_timeout",
                                        "max_header_bytes",
                                        "max_url_bytes",
                                        "max_body_bytes",
                                        "max_transcript_bytes",
                                        "drain_timeout",
                                        NULL};
    if (!json_is_object(obj))
        return bad(ld, "limits", "an object is needed");
    int rc = check_keys(ld, "limits", obj, known);
    long long v;
    if (rc < 0)
        return rc;
#define COUNT(key, min, max, field)                                                                \
    do {                                                                                           \
        v = (long long)(field);                                                                    \
        if ((rc = get_count(ld, obj, "limits", key, min, max, &v)) < 0)                            \
            return rc;                                                                             \
        field = v;                                                                                 \
    } while (0)
    COUNT("max_connections", 1, 100000, l->max_connections);
    COUNT("max_connections_per_client", 0, 100000, l->max_connections_per_client);
    COUNT("max_probes", 1, 100000, l->max_probes);
    COUNT("max_header_bytes", 4096, 1 << 20, l->max_header_bytes);
    COUNT("max_url_bytes", 256, 65536, l->max_url);
    COUNT("max_body_bytes", 256, 1 << 20, l->max_body);
    COUNT("max_transcript_bytes", 0, 64 << 20, l->max_transcript);
#undef COUNT
    json_t *rate = json_object_get(obj, "rate_per_minute");
    if (rate &&
        (!json_is_number(rate) || json_number_value(rate) < 0 || json_number_value(rate) > 1e6))
        return bad(ld, "limits.rate_per_minute",
                   "a number of probes per minute from 0 (no limit) to 1000000 is needed");
    if (rate)
        l->rate_per_minute = json_number_value(rate);
    json_t *burst = json_object_get(obj, "burst");
    if (burst &&
        (!json_is_number(burst) || json_number_value(burst) < 1 || json_number_value(burst) > 1e6))
        return bad(ld, "limits.burst", "a number from 1 to 1000000 is needed");
    if (burst)
        l->burst = json_number_value(burst);
    if ((rc = get_seconds(ld, obj, "limits", "request_timeout", 600, &l->request_timeout_s)) < 0 ||
        (rc = get_seconds(ld, obj, "limits", "drain_timeout", 3600, &l->drain_timeout_s)) < 0 ||
        (rc = each_string(ld, obj, "limits", "trusted_clients", add_trusted, l)) < 0)
        return rc;
    return 0;
}

int ms_serve_config_load(struct ms_serve_config *cfg, const char *path, struct ms_error *err)
{
    static const char *const known[] = {"listen",      "allow_private", "tls",      "ca_file",
                                        "dns_servers", "timeout",       "deadline", "concurrency",
                                        "limits",      "modules",       NULL};
    struct loader ld = {path, err};
    json_error_t jerr;
    int rc = 0;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line < 1)
            return ms_error_set(err, MS_EINVAL, "%s: %s", path, jerr.text);
        return ms_error_set(err, MS_EINVAL, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                            jerr.text);
    }
    if (!json_is_object(root)) {
        rc = bad(&ld, "(top level)", "a JSON object is needed");
        goto out;
    }
    if ((rc = check_keys(&ld, "", root, known)) < 0)
        goto out;
    if (json_object_get(root, "listen")) {
        cfg->listen_count = 0;
        if ((rc = each_string(&ld, root, "", "listen", add_listen, cfg)) < 0)
            goto out;
    }
    json_t *tls = json_object_get(root, "tls");
    if (tls) {
        static const char *const tls_keys[] = {"cert", "key", NULL};
        if (!json_is_object(tls)) {
            rc = bad(&ld, "tls", "an object {\"cert\": FILE, \"key\": FILE} is needed");
            goto out;
        }
        if ((rc = check_keys(&ld, "tls", tls, tls_keys)) < 0 ||
            (rc = get_string(&ld, tls, "tls", "cert", cfg->tls_cert, sizeof cfg->tls_cert)) < 0 ||
            (rc = get_string(&ld, tls, "tls", "key", cfg->tls_key, sizeof cfg->tls_key)) < 0)
            goto out;
    }
    if (json_object_get(root, "dns_servers"))
        cfg->dns_servers[0] = '\0';
    long long conc = (long long)cfg->concurrency;
    if ((rc = get_bool(&ld, root, "", "allow_private", &cfg->allow_private)) < 0 ||
        (rc = get_string(&ld, root, "", "ca_file", cfg->ca_file, sizeof cfg->ca_file)) < 0 ||
        (rc = each_string(&ld, root, "", "dns_servers", add_dns, cfg)) < 0 ||
        (rc = get_seconds(&ld, root, "", "timeout", 3600, &cfg->timeout_s)) < 0 ||
        (rc = get_seconds(&ld, root, "", "deadline", 3600, &cfg->deadline_s)) < 0 ||
        (rc = get_count(&ld, root, "", "concurrency", 1, 100000, &conc)) < 0)
        goto out;
    cfg->concurrency = (size_t)conc;
    json_t *limits = json_object_get(root, "limits");
    if (limits && (rc = load_limits(&ld, limits, &cfg->limits)) < 0)
        goto out;
    json_t *modules = json_object_get(root, "modules");
    if (modules && (rc = load_modules(&ld, modules, cfg)) < 0)
        goto out;
out:
    json_decref(root);
    return rc;
}

static int readable(const char *what, const char *path, struct ms_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ms_error_set(err, MS_EINVAL, "cannot read the %s '%s': %s", what, path,
                            strerror(errno));
    fclose(f);
    return 0;
}

int ms_serve_config_finish(struct ms_serve_config *cfg, struct ms_error *err)
{
    int rc = 0;
    if (cfg->listen_count == 0) {
        rc = ms_http_parse_listen(MS_SERVE_DEFAULT_LISTEN, &cfg->listen[0], err);
        if (rc < 0)
            return rc;
        cfg->listen_count = 1;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0])
        return ms_error_set(err, MS_EINVAL,
                            "HTTPS needs both a certificate and a key (--tls-cert and --tls-key)");
    if (cfg->tls_cert[0] && ((rc = readable("TLS certificate", cfg->tls_cert, err)) < 0 ||
                             (rc = readable("TLS key", cfg->tls_key, err)) < 0))
        return rc;
    if (cfg->ca_file[0]) {
        SSL_CTX *ctx = NULL;
        rc = ms_tls_context_new(cfg->ca_file, &ctx, err);
        SSL_CTX_free(ctx);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < cfg->module_count; i++) {
        struct ms_serve_module *m = &cfg->modules[i];
        if (m->timeout_s <= 0)
            m->timeout_s = cfg->timeout_s;
        if (m->deadline_s <= 0)
            m->deadline_s = cfg->deadline_s;
        m->thresholds.cert_warn_days = m->assess.cert_warn_days;
        /* The module's own ports first, then its extra allowed ports (duplicates once). */
        uint16_t all[MS_MAX_POLICY_PORTS];
        size_t n = 0;
        uint16_t own[MS_SERVE_OWN_PORTS];
        bool wanted[MS_SERVE_OWN_PORTS];
        ms_serve_module_ports(m, own, wanted);
        for (size_t k = 0; k < MS_SERVE_OWN_PORTS + m->allowed_count && n < MS_MAX_POLICY_PORTS;
             k++) {
            if (k < MS_SERVE_OWN_PORTS && !wanted[k])
                continue;
            uint16_t p = k < MS_SERVE_OWN_PORTS ? own[k] : m->allowed[k - MS_SERVE_OWN_PORTS];
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = all[j] == p;
            if (!dup)
                all[n++] = p;
        }
        memcpy(m->allowed, all, n * sizeof all[0]);
        m->allowed_count = n;
        /* The module's secret, from its file only (serve.c drops the environment's). */
        struct ms_error e = {0};
        struct ms_credential_sources src = {
            .user = m->user,
            .password_file = m->password_file[0] ? m->password_file : NULL,
            .token_file = m->token_file[0] ? m->token_file : NULL,
            .wait_s = 10,
        };
        if (m->user[0] && !m->secret.pages && ms_credentials_load(&src, &m->secret, &e) < 0)
            return ms_error_set(err, MS_EINVAL, "modules.%s.%s: %s", m->name,
                                m->token_file[0] ? "token_file" : "password_file", e.message);
    }
    if (cfg->limits.drain_timeout_s <= 0)
        cfg->limits.drain_timeout_s = ms_serve_config_max_deadline(cfg) + 5;
    return 0;
}
