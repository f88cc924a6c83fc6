/* Targets -> endpoints. A target is a bare host (its standard endpoints: IMAP and POP3, and
 * SMTP submission when asked for) or a URL naming exactly one endpoint: imap:// (STARTTLS),
 * imaps://, pop3:// (STLS), pop3s://, submission:// (STARTTLS, 587), submissions://
 * (implicit TLS, 465), smtp:// (STARTTLS on the relay port 25), with an optional :port, or an
 * e-mail address (discovery of its domain's servers).
 * Pure functions, unit-tested and fuzzed. */
#ifndef MS_PLAN_H
#define MS_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "probe/error.h"
#include "probe/request.h"

struct ms_target {
    bool is_url;
    bool is_discovery;          /* an e-mail address or --discover: host is the domain */
    char user[MS_MAX_HOST + 1]; /* the local part of an e-mail address, or "" */
    enum ms_protocol protocol;  /* URL only */
    enum ms_security security;  /* URL only */
    bool smtp_relay;            /* URL only: smtp:// (the relay port 25, not for mail programs) */
    char host[MS_MAX_HOST + 1]; /* IPv6 literals without brackets */
    uint16_t port;              /* 0: the standard port */
};

/* A set of protocols: bits 1u << enum ms_protocol. 0 means the target's default: IMAP and
 * POP3 for a host, all three for an e-mail address, the URL's own for a URL. */
#define MS_WANT(p) (1u << (p))
#define MS_WANT_RECEIVE (MS_WANT(MS_PROTOCOL_IMAP) | MS_WANT(MS_PROTOCOL_POP3))
#define MS_WANT_ALL (MS_WANT_RECEIVE | MS_WANT(MS_PROTOCOL_SUBMISSION))

/* --protocols "imap,pop3,submission" (also "all", "pop", "imap4", "smtp") into *want.
 * Returns 0 or MS_EINVAL. */
int ms_plan_parse_protocols(const char *text, unsigned *want, struct ms_error *err);

/* The standard ports: 143, 993, 110, 995, 587, 465. */
struct ms_ports ms_plan_default_ports(void);

/* Parse one target. Returns 0 or MS_EINVAL with err->message saying what is wrong. */
int ms_plan_parse_target(const char *text, struct ms_target *out, struct ms_error *err);

/* Parse "imap=10143,imaps=10993,pop3=10110,pop3s=10995" (any subset) into ports.
 * Returns 0 or MS_EINVAL. */
int ms_plan_parse_ports(const char *text, struct ms_ports *ports, struct ms_error *err);

/* Parse "host:address" (--resolve). The address may be bracketed IPv6. Returns 0 or MS_EINVAL. */
int ms_plan_parse_pin(const char *text, struct ms_pin *out, struct ms_error *err);

/* Discovery target for the domain (--discover DOMAIN). Returns 0 or MS_EINVAL. */
int ms_plan_parse_domain(const char *text, struct ms_target *out, struct ms_error *err);

/* Append target's endpoints to req (discovery target: records the domain for the engine,
 * which finds endpoints at run time; it must be the only target) (bare host: each wanted protocol's
 * two endpoints, in the order imaps, imap, pop3s, pop3; URL: that one endpoint, required). Sets
 * want[] / bare_host from what was added. Endpoints already present are not
 * repeated. Returns 0, MS_EINVAL (a URL of an unwanted protocol, too many endpoints), or
 * MS_ENOMEM (err says so; the endpoints added before the failure stay, and
 * ms_request_release frees them). */
int ms_plan_add(struct ms_request *req, const struct ms_target *target,
                const struct ms_ports *ports, unsigned want, struct ms_error *err);

/* Fair shares of a cap between the two families of discovered candidates: receiving
 * (IMAP and POP3, n[0] candidates) and sending (submission, n[1]). Each family gets as many
 * as it has, up to half the cap, plus whatever the other family leaves unused; so dead
 * receiving candidates can never starve the sending side, nor the reverse. quota[f] <= n[f]
 * and quota[0] + quota[1] <= cap. */
void ms_plan_fair_shares(const size_t n[2], size_t cap, size_t quota[2]);

#endif
