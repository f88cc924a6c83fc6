/* `mailscope serve` settings: the command line over a JSON config file (jansson), validated
 * at start with errors that name the key. Modules say how a target is probed: protocols,
 * ports (also the only ports a target may be probed on), requirements, thresholds,
 * timeouts, and optionally who signs in (secrets read from files at start). */
#ifndef MS_SERVE_CONFIG_H
#define MS_SERVE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/credentials.h"
#include "cmd/serve_http.h"
#include "probe/error.h"
#include "probe/request.h"
#include "report/assess.h"
#include "report/require.h"

#define MS_SERVE_MAX_MODULES 64
#define MS_SERVE_MAX_TRUSTED 32
#define MS_SERVE_MODULE_NAME 64

/* 127.0.0.1:11995: outside Prometheus's exporter range 9100-9999, which is fully allocated
 * (see README "mailscope serve"). */
#define MS_SERVE_DEFAULT_LISTEN "127.0.0.1:11995"

struct ms_serve_module {
    char name[MS_SERVE_MODULE_NAME];
    unsigned want; /* MS_WANT() bits of the protocols probed; 0: the target's default (a host:
                    * IMAP and POP3; an e-mail address: also submission) */
    struct ms_ports ports; /* a bare host's endpoints */
    /* The only ports a target may be probed on: the module's ports plus allowed_ports. */
    uint16_t allowed[MS_MAX_POLICY_PORTS];
    size_t allowed_count;
    struct ms_requirements requirements;
    struct ms_thresholds thresholds;
    struct ms_assess_options assess;
    double timeout_s, deadline_s;
    bool injection_test;
    /* Sign-in (login checks): the secret is read from its file at start. */
    char user[MS_MAX_HOST + 1];
    char auth_mech[16];
    char password_file[PATH_MAX];
    char token_file[PATH_MAX];
    struct ms_credentials secret; /* read at start; wiped by ms_serve_config_free */
};

/* A client network: address and prefix length. */
struct ms_serve_cidr {
    uint8_t addr[16]; /* IPv4 as IPv4-mapped IPv6 */
    unsigned prefix;  /* over the 128 bits */
};

struct ms_serve_limits {
    unsigned max_connections;            /* open HTTP connections per listen address */
    unsigned max_connections_per_client; /* 0: none */
    size_t max_probes;                   /* probes waiting or running: more get 429 */
    double rate_per_minute;              /* probes a client may start per minute (0: no limit) */
    double burst;                        /* ... and at once */
    struct ms_serve_cidr trusted[MS_SERVE_MAX_TRUSTED]; /* not rate-limited (Prometheus) */
    size_t trusted_count;
    double request_timeout_s; /* a request's headers and body must arrive within this */
    size_t max_header_bytes;  /* request line + headers */
    size_t max_url;           /* request target */
    size_t max_body;          /* POST body */
    size_t max_transcript;    /* bytes of transcript kept per probe */
    double drain_timeout_s;   /* SIGTERM: in-flight probes get this long to finish */
};

struct ms_serve_config {
    struct ms_http_listen listen[MS_HTTP_MAX_LISTEN];
    size_t listen_count;
    bool allow_private;
    char tls_cert[PATH_MAX], tls_key[PATH_MAX];
    char ca_file[PATH_MAX];
    char dns_servers[512]; /* "ip[:port],..." */
    double timeout_s, deadline_s;
    size_t concurrency; /* endpoints in flight */
    struct ms_serve_limits limits;
    struct ms_serve_module *modules; /* modules[0] is "default" */
    size_t module_count;
};

/* Built-in defaults: one module "default" (both protocols, the four standard ports). */
/* A module's own ports (imap, imaps, pop3, pop3s, submission, submissions) and whether its
 * protocols use each (a module without protocols of its own uses all six). */
#define MS_SERVE_OWN_PORTS 6
void ms_serve_module_ports(const struct ms_serve_module *m, uint16_t own[MS_SERVE_OWN_PORTS],
                           bool wanted[MS_SERVE_OWN_PORTS]);

/* "imap, pop3, submission": the protocols of want (all three when 0). */
void ms_serve_protocol_names(unsigned want, const char *sep, char *buf, size_t cap);

int ms_serve_config_init(struct ms_serve_config *cfg);

/* Read a JSON config file over cfg. Errors name the file and the key:
 * "serve.json: modules.imap_only.ports.imaps: a port number (1-65535) is needed". Returns 0,
 * MS_EINVAL or MS_ENOMEM. */
int ms_serve_config_load(struct ms_serve_config *cfg, const char *path, struct ms_error *err);

/* Checks across keys and files (readable TLS key and certificate, CA file, secrets), and
 * reads the modules' secrets. Returns 0 or MS_EINVAL with err. */
int ms_serve_config_finish(struct ms_serve_config *cfg, struct ms_error *err);

/* The module called name, or NULL. */
const struct ms_serve_module *ms_serve_config_module(const struct ms_serve_config *cfg,
                                                     const char *name);

/* Whether addr (a client) is in the trusted networks. */
bool ms_serve_config_trusted(const struct ms_serve_config *cfg, const struct sockaddr *addr);

/* The longest deadline of any module (the SIGTERM drain bound starts from it). */
double ms_serve_config_max_deadline(const struct ms_serve_config *cfg);

void ms_serve_config_free(struct ms_serve_config *cfg);

#endif
