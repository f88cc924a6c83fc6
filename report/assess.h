/* The judge: a pure function from facts (struct ms_result) to findings, per-endpoint and
 * overall status. Knows nothing about sockets or output formats. */
#ifndef MS_ASSESS_H
#define MS_ASSESS_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/result.h"
#include "report/catalogue.h"

/* Nagios order: the exit code is the numeric value. */
enum ms_status {
    MS_STATUS_OK = 0,
    MS_STATUS_WARNING = 1,
    MS_STATUS_CRITICAL = 2,
    MS_STATUS_UNKNOWN = 3
};

#define MS_ASSESS_DEFAULT_CERT_WARN_DAYS 14

struct ms_assess_options {
    int cert_warn_days; /* tls.cert_expires_soon when days_left < this (default 14) */
};

struct ms_finding {
    enum ms_finding_id id; /* its row in the catalogue (report/catalogue.h) */
    enum ms_severity severity;
    const char *code;     /* stable dotted code, static storage: "tls.cert_expired" */
    const char *endpoint; /* an endpoint id (points into the result), or NULL */
    char message[640];    /* what is wrong, with the evidence */
    char remedy[768];     /* what to do, in words a helpdesk can act on */
    long endpoint_index;  /* index into result->endpoints, -1 when endpoint is NULL */
};

/* One line per requested protocol: can it be used securely? */
struct ms_protocol_verdict {
    enum ms_protocol protocol;
    bool available;   /* at least one endpoint is secure (ms_assess_endpoint_secure)
                       * and has no critical finding about the server (findings
                       * about the account, auth.*, do not count) */
    bool not_offered; /* discovery: the domain's SRV records say the protocol is not
                       * offered (target "."), and none names a real server */
    enum ms_status status;
    char summary[400]; /* "IMAP works securely on 993 (implicit TLS) and 143 (STARTTLS)" */
};

/* ---- sign-in ------------------------------------------------------------------------
 * What a sign-in (or its absence) on one endpoint means, decided from the server's own
 * words: response codes (RFC 5530 IMAP, RFC 2449/3206 POP3) and well-known phrases (one
 * table in assess_auth.c; README: report/FINDINGS.md "Sign-in"). */
enum ms_auth_outcome {
    MS_AUTH_NONE,                   /* nothing to judge: no credentials, or the session ended
                                     * before sign-in */
    MS_AUTH_OK,                     /* signed in */
    MS_AUTH_NOT_CHOSEN,             /* another endpoint of the protocol signs in: no finding */
    MS_AUTH_UNFINISHED,             /* credentials sent, but the session failed before the
                                     * server's verdict (the failure's own finding says why) */
    MS_AUTH_FAILED,                 /* auth.failed: credentials rejected */
    MS_AUTH_PROTOCOL_DISABLED,      /* auth.protocol_disabled: the account may not use it */
    MS_AUTH_BASIC_AUTH_DISABLED,    /* auth.basic_auth_disabled: only OAuth2 */
    MS_AUTH_MECHANISM_UNAVAILABLE,  /* auth.mechanism_unavailable */
    MS_AUTH_LOCKED_OR_EXPIRED,      /* auth.account_locked_or_expired */
    MS_AUTH_LOGIN_DELAY,            /* auth.login_delay: too soon after the last sign-in */
    MS_AUTH_IN_USE,                 /* auth.mailbox_in_use */
    MS_AUTH_TEMPORARY,              /* auth.temporary_failure */
    MS_AUTH_NOT_ATTEMPTED_INSECURE, /* auth.not_attempted_insecure: no verified TLS */
    MS_AUTH_NOT_ATTEMPTED,          /* auth.not_attempted: another local reason */
};

/* Classify a refused sign-in from the server's answer: code is the response code as the
 * probe stored it ("AUTHENTICATIONFAILED", "SYS/TEMP"; "" when none, then a "[CODE]" in text
 * counts), text the server's words. Never returns NONE, OK, NOT_CHOSEN or UNFINISHED; an
 * answer no rule recognises is MS_AUTH_FAILED. NULL strings count as "". */
enum ms_auth_outcome ms_assess_auth_answer(const char *code, const char *text);

/* The outcome of sign-in on one endpoint, from its auth facts (and, for a session that
 * ended while signing in, its failure). */
enum ms_auth_outcome ms_assess_auth(const struct ms_endpoint_result *ep);

/* The server's answer to the credentials as quoted to people: the status ("535", "NO",
 * "-ERR"), SMTP's enhanced status code ("5.7.8") and the words, into buf (cap bytes);
 * "(no words)" when there are none. */
void ms_assess_server_words(const struct ms_auth_facts *au, char *buf, size_t cap);

/* The finding code of an outcome ("auth.failed"), NULL for NONE, OK, NOT_CHOSEN, UNFINISHED. */
const char *ms_auth_outcome_code(enum ms_auth_outcome o);

/* Stable lower-case name for JSON: "none", "ok", "not_chosen", "unfinished", "failed",
 * "protocol_disabled", ... (the finding code without "auth."). */
const char *ms_auth_outcome_name(enum ms_auth_outcome o);

/* The sign-in mechanisms an endpoint offers, as sent: IMAP AUTH=X from the capabilities the
 * sign-in would use (over TLS when TLS is up, else before), POP3 the words of its SASL line
 * and, with_user_command, "USER" when USER is offered (a command, not a SASL mechanism: the
 * JSON "mechanisms" list leaves it out). Fills up to max names (each cut to 31 bytes);
 * returns how many. */
size_t ms_assess_mechanisms(const struct ms_endpoint_result *ep, char (*names)[32], size_t max,
                            bool with_user_command);

/* What kind of secret a sign-in mechanism takes. */
enum ms_mech_kind {
    MS_MECH_PASSWORD,    /* PLAIN, LOGIN, CRAM-*, DIGEST-MD5, SCRAM-* (and -PLUS), POP3 USER,
                          * the IMAP LOGIN command */
    MS_MECH_OAUTH2,      /* XOAUTH2, OAUTHBEARER */
    MS_MECH_KERBEROS,    /* GSSAPI, GS2-KRB5, GS2-KRB5-PLUS, KERBEROS_V4/V5 */
    MS_MECH_CERTIFICATE, /* EXTERNAL (a TLS client certificate) */
    MS_MECH_ANONYMOUS,   /* ANONYMOUS */
    MS_MECH_OTHER,       /* NTLM, SAML20, OPENID20, SECURID, ... and any unknown name */
    MS_MECH_KIND_COUNT
};

/* The kind of a mechanism name (ASCII case ignored; NULL is other): one table in
 * assess_auth.c decides for the summary and the sign-in findings alike. */
enum ms_mech_kind ms_assess_mechanism_kind(const char *mech);
const char *ms_mech_kind_name(enum ms_mech_kind k); /* "password", "OAuth2", "Kerberos", ... */

/* ---- the account-feature summary (DESIGN.md) --------------------------------------- */

enum ms_feature_id {
    MS_FEATURE_PROTOCOL_ENABLED,
    MS_FEATURE_LEAVE_MAIL_ON_SERVER,
    MS_FEATURE_SERVER_FOLDERS,
    MS_FEATURE_SENT_ITEMS_ON_SERVER,
    MS_FEATURE_SHARED_FOLDERS,
    MS_FEATURE_HEADERS_ONLY_DOWNLOAD,
    MS_FEATURE_PUSH_MAIL,
    MS_FEATURE_MIN_POLL_INTERVAL,
    MS_FEATURE_SECURE_CONNECTION,
    MS_FEATURE_SIGN_IN_METHODS,
    MS_FEATURE_QUOTA,
    MS_FEATURE_CAN_SEND,         /* sending (SMTP submission) only */
    MS_FEATURE_MAX_MESSAGE_SIZE, /* SMTP SIZE */
    MS_FEATURE_COUNT,
};

#define MS_NEEDS_SIGN_IN_NO_CREDENTIALS "needs sign-in (no credentials given)"

/* A summary answer that scripts can read (JSON "answer", "value", "unit", "text"). */
enum ms_answer {
    MS_ANSWER_NA,      /* "n/a": the question does not apply, or the protocol was not checked */
    MS_ANSWER_YES,     /* "yes": the feature is there (or the value is known and usable) */
    MS_ANSWER_NO,      /* "no" */
    MS_ANSWER_UNKNOWN, /* "unknown" */
};

enum ms_unit { MS_UNIT_NONE, MS_UNIT_DAYS, MS_UNIT_FOLDERS, MS_UNIT_SECONDS, MS_UNIT_KIB };

struct ms_answer_value {
    enum ms_answer answer;
    enum ms_unit unit;   /* of number */
    bool has_number;     /* the value is number (e.g. 31 days, 6 folders, 300 seconds) */
    long long number;    /* quota: KiB used */
    char string[256];    /* else the value is this string when not empty ("PLAIN, LOGIN") */
    long long limit_kib; /* quota: the limit in KiB, -1 when none */
    int percent;         /* quota: used of the limit, -1 when there is no limit */
    char text[96];       /* the words the text report prints ("yes, 31 days") */
};

struct ms_feature {
    const char *id;       /* "protocol_enabled" (static storage) */
    const char *question; /* the helpdesk's question, in words (static) */
    const char *label;    /* a short form of it for the text table (static) */
    struct ms_answer_value answers[MS_PROTOCOL_COUNT]; /* indexed by enum ms_protocol */
    char evidence[768];                                /* what decided it, "IMAP: ...; POP3: ..." */
};

const char *ms_answer_name(enum ms_answer a); /* "yes", "no", "unknown", "n/a" */
const char *ms_unit_name(enum ms_unit u);     /* "days", "folders", "seconds", "KiB", NULL */

struct ms_summary {
    struct ms_feature features[MS_FEATURE_COUNT]; /* in enum ms_feature_id order */
    bool in_play[MS_PROTOCOL_COUNT];              /* by enum ms_protocol: requested or probed */
    long source[MS_PROTOCOL_COUNT];        /* the endpoint whose facts answer for the protocol: the
                                            * one that signed in, else the recommended one, else the
                                            * best one that read capabilities; -1 when none */
    long auth_endpoint[MS_PROTOCOL_COUNT]; /* the endpoint whose sign-in decides the protocol's
                                            * outcome (the one that tried, else the one that says
                                            * why it did not); -1 when none */
    enum ms_auth_outcome
        auth[MS_PROTOCOL_COUNT];       /* that outcome (MS_AUTH_NONE without credentials) */
    long signed_in[MS_PROTOCOL_COUNT]; /* the endpoint where sign-in worked, -1 */
    long poll_interval_s;              /* the recommended poll interval; 0 with push, -1 when
                                        * there is no schedule */
    char schedule[640];                /* the recommended send/receive schedule, in words */
};

/* The protocols the summary has a column for (in play), in enum order, into COLS; returns
 * their count. *ANY_SOURCE: some protocol has an endpoint whose facts answer for it. */
size_t ms_summary_columns(const struct ms_summary *s, enum ms_protocol cols[MS_PROTOCOL_COUNT],
                          bool *any_source);

/* ---- what mail programs are told (autoconfig, Autodiscover; issue 16) ----------------- */

/* How a setting a mail program is told fares against what was probed. */
enum ms_pub_check {
    MS_PUB_WORKS,       /* its endpoint works securely */
    MS_PUB_INSECURE,    /* the setting says no encryption (the endpoint may offer TLS) */
    MS_PUB_BROKEN,      /* its endpoint failed, or is not secure */
    MS_PUB_NOT_CHECKED, /* not probed: sending, a protocol not asked for, the endpoint limit */
};

struct ms_pub_verdict {
    enum ms_pub_check check;
    long endpoint;   /* index into result->endpoints of the endpoint that checked it, or -1 */
    char words[200]; /* "works", "refused the connection", "not checked: ..." */
};

const char *ms_pub_check_name(enum ms_pub_check c); /* "works", "insecure", "broken",
                                                       "not_checked" */

struct ms_assessment {
    enum ms_status status;       /* overall */
    struct ms_finding *findings; /* sorted worst first, then by endpoint order */
    size_t finding_count;
    enum ms_status *endpoint_status; /* parallel to result->endpoints */
    struct ms_protocol_verdict verdicts[MS_PROTOCOL_COUNT];
    size_t verdict_count;

    /* Best settings, ranked like a careful client (RFC 8314): only endpoints that are secure
     * (ms_assess_endpoint_secure) and not critical; implicit TLS before STARTTLS; then SRV
     * (lower priority, then higher weight) before MX (lower preference) before conventional
     * names before other endpoints; then ok before warning; then endpoint order. Never
     * plaintext. Indexed by enum ms_protocol: the index into result->endpoints, or -1. */
    long recommended[MS_PROTOCOL_COUNT];
    int preferred; /* enum ms_protocol to set up first, -1 when none: IMAP over
                    * POP3 unless IMAP was not requested */
    char not_recommended[MS_PROTOCOL_COUNT]
                        [320]; /* why recommended[p] is -1 for a requested protocol, in one
                                * phrase ("port 993 has an expired certificate"); "" else */

    /* The account-feature summary and schedule: a pure function of the result, so the text
     * and JSON reports agree. */
    struct ms_summary summary;

    /* What mail programs are told: one verdict per published setting (pub_first[m] is the
     * first of source m's, in result->discovery.published.sources[m].servers order); the
     * source Thunderbird (pub_program[0]) and Outlook (pub_program[1]) would use, -1 when
     * none; and, when what they would configure differs from `recommended`, why, in words. */
    struct ms_pub_verdict *pub_verdicts;
    size_t pub_first[MS_PUB_METHOD_COUNT];
    int pub_program[2];
    char autoconfig_note[800];
};

/* The verdict of setting k of published source m, or NULL. */
const struct ms_pub_verdict *ms_assess_pub_verdict(const struct ms_result *result,
                                                   const struct ms_assessment *a,
                                                   enum ms_pub_method m, size_t k);

/* True when feature id (e.g. "push_mail") is answered yes, or with a value that is not a
 * refusal, for some protocol in play. False for unknown ids. */
bool ms_assess_feature_holds(const struct ms_assessment *a, const char *id);

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

/* The value of "CN=" in an RFC 2253 name (escaped commas kept), else the whole name, else
 * `none` when the name is empty. */
void ms_assess_cert_cn(const char *dn, char *buf, size_t cap, const char *none);

/* What the plaintext check (a separate connection, probe/signin.c) showed. */
enum ms_plaintext_verdict {
    MS_PLAINTEXT_UNCHECKED,     /* no check ran, or it sent nothing (nothing to check) */
    MS_PLAINTEXT_CONFIRMED,     /* the server took the step: "+", "+OK", or it judged the
                                 * throwaway credentials ("invalid user or password") */
    MS_PLAINTEXT_REFUSED,       /* the server refused: TLS required, or the command is off */
    MS_PLAINTEXT_NOT_CONFIRMED, /* no answer, or one that says neither */
};
enum ms_plaintext_verdict ms_assess_plaintext_verdict(const struct ms_endpoint_result *ep);
/* "confirmed", "refused", "not_confirmed", NULL for unchecked. */
const char *ms_plaintext_verdict_name(enum ms_plaintext_verdict v);

/* The finding code a session failure maps to ("tcp.refused"), NULL for MS_FAILURE_NONE. */
const char *ms_assess_failure_code(enum ms_failure f);
/* How an audit handshake ended, in a few words ("refused", "no answer"). */
const char *ms_audit_outcome_words(enum ms_audit_outcome o);

void ms_assessment_free(struct ms_assessment *a);

const char *ms_severity_name(enum ms_severity s); /* "info", "warning", "critical" */
const char *ms_status_name(enum ms_status s);     /* "ok", "warning", "critical", "unknown" */

#endif
