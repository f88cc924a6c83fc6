/* Command-line options -> a probe request plus how to report. */
#ifndef MS_OPTIONS_H
#define MS_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "cmd/credentials.h"
#include "probe/error.h"
#include "probe/request.h"
#include "report/assess.h"
#include "report/require.h"

enum ms_format {
    MS_FORMAT_TEXT,
    MS_FORMAT_JSON,
    MS_FORMAT_JSONL,
    MS_FORMAT_NAGIOS,
    MS_FORMAT_PROMETHEUS
};

struct ms_options {
    struct ms_request request;
    struct ms_pin pins[MS_MAX_PINS]; /* --resolve; request.pins points here */
    struct ms_assess_options assess;
    enum ms_format format;
    struct ms_requirements requirements;  /* --require / --forbid */
    struct ms_thresholds thresholds;      /* -w/-c, --cert-crit-days */
    struct ms_credential_sources secrets; /* where sign-in secrets come from */
    char email_user[2 * MS_MAX_HOST + 2]; /* user name taken from an e-mail target */
    const char *targets_file; /* --targets-file: many targets, one per line ("-": stdin) */
    size_t concurrency;       /* endpoints in flight at most */
    bool quiet;               /* no progress line */
    struct ms_ports ports;    /* for planning targets read later */
    unsigned want;            /* --protocols (MS_WANT bits), 0: each target's default */
    bool show_help;
    bool show_version;
    const char *explain; /* --explain CODE|all: print the catalogue row(s) and exit */
    const char *client;  /* --client NAME: the mail-program report for this program only */
};

#define MS_DEFAULT_TIMEOUT_S 10.0
#define MS_DEFAULT_DEADLINE_S 30.0
#define MS_DEFAULT_CERT_WARN_DAYS 14
#define MS_DEFAULT_CONCURRENCY 100
#define MS_MAX_CONCURRENCY 10000

/* Parse argv. Returns 0, or MS_EINVAL with err->message (a usage error), or MS_ENOMEM. */
int ms_options_parse(int argc, char **argv, struct ms_options *opt, struct ms_error *err);

void ms_options_usage(FILE *out);

/* "--timeout" TEXT: seconds above 0 and at most 3600 into *out. Returns 0 or MS_EINVAL. */
int ms_options_seconds(const char *name, const char *text, double *out, struct ms_error *err);

/* Append one --dns-server IP[:PORT] to a comma-separated list of cap bytes. Returns 0 or
 * MS_EINVAL (empty, a comma in it, no room). */
int ms_options_add_dns_server(char *list, size_t cap, const char *text, struct ms_error *err);

#endif
