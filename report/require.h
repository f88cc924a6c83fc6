/* --require / --forbid: what a CI job states must (or must not) hold, checked against the
 * facts and the assessment. Each unmet item becomes a critical finding. */
#ifndef MS_REQUIRE_H
#define MS_REQUIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/error.h"
#include "probe/result.h"
#include "report/assess.h"

#define MS_MAX_REQUIREMENTS 64

enum ms_req_kind {
    MS_REQ_PROTOCOL,   /* imap, pop3: available securely */
    MS_REQ_ENDPOINT,   /* imaps, imap+starttls, pop3s, pop3+stls: that kind completed securely */
    MS_REQ_FEATURE,    /* a summary feature id answered yes (or with a value) */
    MS_REQ_CAPABILITY, /* imap:IDLE, pop3:UIDL: offered over TLS (or after sign-in) */
    MS_REQ_LOGIN,      /* sign-in worked wherever it was tried */
    MS_REQ_TLS,        /* tls>=1.2: every TLS session negotiated at least that */
    MS_REQ_CERT_DAYS,  /* cert-days>=21: every certificate has that many days left */
    MS_REQ_FINDING,    /* a finding code is present (mostly with --forbid) */
    MS_REQ_SMTP_SIZE,  /* smtp:SIZE>=N: a submission server over TLS takes N-byte messages */
};

enum ms_req_op { MS_REQ_GE, MS_REQ_GT, MS_REQ_LE, MS_REQ_LT, MS_REQ_EQ };

struct ms_requirement {
    bool forbid; /* --forbid: the item must not hold */
    enum ms_req_kind kind;
    char text[96];             /* the item as written, for messages */
    enum ms_protocol protocol; /* PROTOCOL, ENDPOINT, CAPABILITY */
    enum ms_security security; /* ENDPOINT */
    char name[64];             /* FEATURE id, CAPABILITY name, FINDING code */
    enum ms_req_op op;         /* TLS, CERT_DAYS */
    long value; /* TLS: minor version x10 (12 = 1.2); CERT_DAYS: days; SMTP_SIZE: bytes */
};

struct ms_requirements {
    struct ms_requirement items[MS_MAX_REQUIREMENTS];
    size_t count;
};

/* Monitoring thresholds (-w/-c, --cert-warn-days/--cert-crit-days). */
struct ms_thresholds {
    double warning_s, critical_s; /* endpoint response time, 0 = none */
    int cert_warn_days;           /* as given to the assessment */
    int cert_crit_days;           /* 0 = none */
};

/* Apply the thresholds: `perf.response_time` (warning/critical) per slow endpoint, and a
 * certificate that expires within cert_crit_days makes its tls.cert_expires_soon critical.
 * Returns 0 or MS_ENOMEM (then a is as it was). */
int ms_thresholds_apply(const struct ms_thresholds *t, const struct ms_result *result,
                        struct ms_assessment *a);

/* Parse a comma-separated list and append its items. Returns 0 or MS_EINVAL with
 * err->message naming the bad item and listing the valid forms. */
int ms_require_parse(const char *list, bool forbid, struct ms_requirements *out,
                     struct ms_error *err);

/* Whether one item holds for this run. */
bool ms_require_holds(const struct ms_requirement *item, const struct ms_result *result,
                      const struct ms_assessment *a);

/* Add a critical `require.unmet` / `forbid.present` finding for each item that fails, and
 * raise the status. Returns 0 or MS_ENOMEM (then a is as it was). */
int ms_require_apply(const struct ms_requirements *reqs, const struct ms_result *result,
                     struct ms_assessment *a);

#endif
