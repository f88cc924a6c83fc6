/* The judge: a pure function from facts (struct ms_result) to findings, per-endpoint and
 * overall status. Knows nothing about sockets or output formats. */
#ifndef MS_ASSESS_H
#define MS_ASSESS_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/result.h"

enum ms_severity { MS_SEVERITY_INFO, MS_SEVERITY_WARNING, MS_SEVERITY_CRITICAL };

/* Nagios order: the exit code is the numeric value. */
enum ms_status { MS_STATUS_OK = 0, MS_STATUS_WARNING = 1, MS_STATUS_CRITICAL = 2, MS_STATUS_UNKNOWN = 3 };

#define MS_ASSESS_DEFAULT_CERT_WARN_DAYS 14

struct ms_assess_options {
    int cert_warn_days;            /* tls.cert_expires_soon when days_left < this (default 14) */
};

struct ms_finding {
    enum ms_severity severity;
    const char *code;              /* stable dotted code, static storage: "tls.cert_expired" */
    const char *endpoint;          /* an endpoint id (points into the result), or NULL */
    char message[640];             /* what is wrong, with the evidence */
    char remedy[512];              /* what to do, in words a helpdesk can act on */
    long endpoint_index;           /* index into result->endpoints, -1 when endpoint is NULL */
};

/* One line per requested protocol: can it be used securely? */
struct ms_protocol_verdict {
    enum ms_protocol protocol;
    bool available;                /* at least one endpoint is secure (ms_assess_endpoint_secure) */
    bool not_offered;              /* discovery: the domain's SRV records say the protocol is not
                                    * offered (target "."), and none names a real server */
    enum ms_status status;
    char summary[256];             /* "IMAP works securely on 993 (implicit TLS) and 143 (STARTTLS)" */
};

struct ms_assessment {
    enum ms_status status;         /* overall */
    struct ms_finding *findings;   /* sorted worst first, then by endpoint order */
    size_t finding_count;
    enum ms_status *endpoint_status; /* parallel to result->endpoints */
    struct ms_protocol_verdict verdicts[2];
    size_t verdict_count;

    /* Best settings, ranked like a careful client (RFC 8314): only endpoints that are secure
     * (ms_assess_endpoint_secure) and not critical; implicit TLS before STARTTLS; then SRV
     * (lower priority, then higher weight) before MX (lower preference) before conventional
     * names before other endpoints; then ok before warning; then endpoint order. Never
     * plaintext. Indexed by enum ms_protocol: the index into result->endpoints, or -1. */
    long recommended[2];
    int preferred;                 /* enum ms_protocol to set up first, -1 when none: IMAP over
                                    * POP3 unless IMAP was not requested */
    char not_recommended[2][320];  /* why recommended[p] is -1 for a requested protocol, in one
                                    * phrase ("port 993 has an expired certificate"); "" else */
};

/* Judge result. opt may be NULL (defaults). On error out is left empty (safe to free).
 * Statuses: an endpoint's status is its worst finding (info -> ok); a finding
 * internal.error makes a status unknown unless something else there is critical.
 * Returns 0 or MS_ENOMEM. */
int ms_assess(const struct ms_result *result, const struct ms_assess_options *opt,
              struct ms_assessment *out);

/* An endpoint a mail program can use safely: it completed securely (TLS up, capabilities
 * read over TLS) and its certificate chain and host name verified. */
bool ms_assess_endpoint_secure(const struct ms_endpoint_result *ep);

/* The endpoint recommended for protocol p, or NULL (bounds-checked: safe on any assessment
 * that ms_assess filled or ms_assessment_free emptied). */
const struct ms_endpoint_result *ms_assess_recommended(const struct ms_result *result,
                                                       const struct ms_assessment *a,
                                                       enum ms_protocol p);

/* The finding code a session failure maps to ("tcp.refused"), NULL for MS_FAILURE_NONE. */
const char *ms_assess_failure_code(enum ms_failure f);

void ms_assessment_free(struct ms_assessment *a);

const char *ms_severity_name(enum ms_severity s); /* "info", "warning", "critical" */
const char *ms_status_name(enum ms_status s);     /* "ok", "warning", "critical", "unknown" */

#endif
