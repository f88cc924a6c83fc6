/* What cmd/ asks probe/ to do: the endpoints to probe and how. Filled by cmd/ (options)
 * and probe/plan.c (targets -> endpoints); read-only for the engine. */
#ifndef MS_REQUEST_H
#define MS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/result.h"

struct ms_redactor;
struct ms_tls_probe;

#define MS_MAX_HOST 255
#define MS_MAX_PINS 32
#define MS_MAX_ENDPOINTS 64

enum ms_family { MS_FAMILY_ANY, MS_FAMILY_IPV4, MS_FAMILY_IPV6 };

/* One endpoint to probe. */
struct ms_endpoint_spec {
    enum ms_protocol protocol;
    enum ms_security security;
    char host[MS_MAX_HOST + 1]; /* DNS name or IP literal (IPv6 without brackets) */
    uint16_t port;
    bool required;         /* named by a URL target: its failure is critical */
    bool smtp_url;         /* named by an smtp:// URL (the relay scheme, issue 14) */
    enum ms_source source; /* how it was found */
    char source_name[300];
    int srv_priority; /* SRV only, else -1 */
    int srv_weight;
    bool injection_probe; /* a separate connection testing STARTTLS command injection */
    bool plaintext_check; /* a separate connection checking whether a password would be
                             taken before TLS (never with the user's credentials) */
    /* Issue 15: side connections of the TLS audit and of the address pool. */
    struct ms_tls_probe *tls_probe; /* an audit handshake: how to configure it, where its
                                       facts go (probe/audit.h); stops once TLS is up */
    bool pool_member;               /* another address of the host: TLS, greeting and
                                       capabilities, never a sign-in */
    const char *side_label;         /* the side's name in its id and trace ("audit-tls1.0") */
};

/* Port numbers for a bare host's (or a guessed host's) standard endpoints, and the ports the
 * autoconfig and Autodiscover URLs without a port are fetched from (443, 80). */
struct ms_ports {
    uint16_t imap, imaps, pop3, pop3s, submission, submissions;
    uint16_t https, http;
};

#define MS_MAX_POLICY_PORTS 16

/* Where the probe may connect, checked on every address actually connected to (after DNS,
 * so a name whose answer changes between a check and the connect cannot slip through), for
 * the main connection and every side connection (family checks, injection test). The
 * default (all zero) allows everything; `mailscope serve` fills it. A refused connect is
 * the fact MS_FAILURE_TCP_DENIED. */
struct ms_connect_policy {
    bool deny_private;                   /* refuse every class but MS_ADDR_PUBLIC (probe/addr.h) */
    uint16_t ports[MS_MAX_POLICY_PORTS]; /* the ports allowed; port_count 0 = any port */
    size_t port_count;
};

/* --resolve HOST:ADDRESS: use ADDRESS for HOST without asking DNS. */
struct ms_pin {
    char host[MS_MAX_HOST + 1];
    char address[64]; /* IPv4 or IPv6 literal, no brackets */
};

struct ms_request {
    char target[512];             /* the targets as given, for the report */
    bool bare_host;               /* endpoints came from a bare host name */
    bool want[MS_PROTOCOL_COUNT]; /* protocols asked about (enum ms_protocol) */

    /* Owned by the request (ms_plan_add grows it; ms_request_release frees it): a fleet holds
     * one request per target in flight, so it costs what its endpoints need, not 64 slots. */
    struct ms_endpoint_spec *endpoints;
    size_t endpoint_count;
    size_t endpoint_capacity;

    char discover_domain[MS_MAX_HOST + 1]; /* non-empty: find the endpoints from DNS */
    char discover_user[MS_MAX_HOST + 1];   /* local part of the e-mail address given */
    struct ms_ports ports;                 /* standard ports for bare and guessed hosts */

    const struct ms_pin *pins; /* --resolve pins: shared and read-only, owned by cmd/ */
    size_t pin_count;

    const char *ca_file; /* extra trust anchors (PEM), or NULL */
    enum ms_family family;
    double timeout_s;  /* bound on each phase of each endpoint */
    double deadline_s; /* bound on the whole run */
    bool trace;        /* protocol transcript (to trace_sink, else stderr) */
    /* Where trace lines go: one call per line (no newline, sanitized); NULL = stderr.
     * `mailscope serve` keeps each request's transcript for its page. */
    void (*trace_sink)(void *arg, const char *line, size_t len);
    /* The secret's forms, redacted from everything a server sends (set by the engine). */
    const struct ms_redactor *redactor;
    void *trace_arg;

    /* Sign-in (optional). The secrets point into memory cmd/ owns and wipes; they never
     * reach the result, the trace or a message. */
    const char *auth_user;                   /* NULL: no sign-in */
    char auth_user_storage[MS_MAX_HOST + 1]; /* holds auth_user when it came from a targets file */
    const char *auth_password;               /* NULL when a token is used */
    const char *auth_token;                  /* OAuth2 access token, or NULL */
    char auth_mech[16];                      /* forced mechanism ("PLAIN", "LOGIN", "XOAUTH2",
                                                "OAUTHBEARER", "USER"), "" = best offered */
    bool allow_insecure_auth;                /* send credentials without verified TLS too */
    bool injection_test;                     /* --injection-test on every STARTTLS endpoint */
    bool no_plaintext_check;                 /* --no-confirm: do not confirm plaintext sign-in */
    bool tls_audit;                          /* --tls-audit: versions, suites, chain, SNI, DANE */
    char dns_servers[512]; /* --dns-server list "ip[:port],...", "" = system resolvers */

    struct ms_connect_policy policy; /* where connects may go (serve); all zero = anywhere */
    void *context; /* the submitter's own pointer (serve: its HTTP request); probe/ never
                      reads it, it comes back with the request in the callbacks */
    /* What mail programs fetch (issue 16): autoconfig and Autodiscover, with discovery. */
    bool no_autoconfig;        /* --no-autoconfig */
    const char *autoconfig_db; /* --autoconfig-db DIR|URL: an ISPDB-like source, or NULL */
};

/* Free the request's endpoint list (the request itself stays usable, with none). */
void ms_request_release(struct ms_request *req);

/* *dst = *src with its own copy of the endpoint list. Returns 0 or MS_ENOMEM. */
int ms_request_copy(struct ms_request *dst, const struct ms_request *src);

#endif
