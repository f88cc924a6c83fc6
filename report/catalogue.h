/* The finding catalogue: one row per finding code, the one place a code's data lives: its
 * string, usual severity, flags, the short phrases verdicts and summaries use, what it
 * means and why it matters (for people: report/FINDINGS.md, `mailscope --explain`), and
 * the message and remedy templates the judges expand. Judges decide; the catalogue speaks.
 *
 * Templates name variables in braces: "{endpoint} refused the connection{?evidence: (
 * {evidence})}." {name} is the variable's value; {?name:text} is text when the variable is
 * not empty, {!name:text} when it is. Values are inserted as they are (never expanded). */
#ifndef MS_CATALOGUE_H
#define MS_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/result.h"
#include "report/server_id.h"

enum ms_severity { MS_SEVERITY_INFO, MS_SEVERITY_WARNING, MS_SEVERITY_CRITICAL };

enum ms_finding_id {
    MS_F_DNS_NO_SUCH_HOST,
    MS_F_DNS_NO_ADDRESS,
    MS_F_DNS_TIMEOUT,
    MS_F_DNS_ERROR,
    MS_F_DNS_SRV_NOT_OFFERED,
    MS_F_DNS_SRV_TARGET_UNRESOLVABLE,
    MS_F_TCP_REFUSED,
    MS_F_TCP_TIMEOUT,
    MS_F_TCP_UNREACHABLE,
    MS_F_TCP_RESET,
    MS_F_TCP_DENIED,
    MS_F_TCP_IPV6_UNREACHABLE,
    MS_F_TCP_IPV4_UNREACHABLE,
    MS_F_TCP_POOL_MEMBER_DOWN,
    MS_F_TLS_HANDSHAKE_FAILED,
    MS_F_TLS_TIMEOUT,
    MS_F_TLS_CLIENT_CERT_REQUIRED,
    MS_F_TLS_CERT_EXPIRED,
    MS_F_TLS_CERT_NOT_YET_VALID,
    MS_F_TLS_CERT_HOSTNAME_MISMATCH,
    MS_F_TLS_CERT_UNTRUSTED,
    MS_F_TLS_CERT_EXPIRES_SOON,
    MS_F_TLS_PROTOCOL_OUTDATED,
    MS_F_TLS_NOT_USED,
    MS_F_TLS_WEAK_CIPHER,
    MS_F_TLS_DH_WEAK,
    MS_F_TLS_CHAIN_INCOMPLETE,
    MS_F_TLS_CHAIN_WRONG_ORDER,
    MS_F_TLS_CHAIN_SHA1,
    MS_F_TLS_SNI_REQUIRED,
    MS_F_TLS_OCSP_NOT_STAPLED,
    MS_F_TLS_MUST_STAPLE_VIOLATED,
    MS_F_TLS_DANE_MISMATCH,
    MS_F_TLS_DANE_UNVALIDATED,
    MS_F_TLS_DANE_LOOKUP_FAILED,
    MS_F_TLS_POOL_INCONSISTENT,
    MS_F_STARTTLS_NOT_OFFERED,
    MS_F_STARTTLS_REFUSED,
    MS_F_STARTTLS_COMMAND_INJECTION,
    MS_F_STARTTLS_INJECTED_DATA,
    MS_F_PROTO_BYE,
    MS_F_PROTO_SERVICE_REFUSED,
    MS_F_PROTO_PREAUTH_WITHOUT_TLS,
    MS_F_PROTO_UNEXPECTED_GREETING,
    MS_F_PROTO_MALFORMED_RESPONSE,
    MS_F_PROTO_CLOSED,
    MS_F_PROTO_TIMEOUT,
    MS_F_PROTO_UNAVAILABLE,
    MS_F_PROTO_ALERT_IGNORED,
    MS_F_PROTO_CAPABILITY_MALFORMED,
    MS_F_AUTH_PLAINTEXT_LOGIN_ALLOWED,
    MS_F_AUTH_PLAINTEXT_REFUSAL_UNANNOUNCED,
    MS_F_SUBMISSION_AUTH_BEFORE_TLS,
    MS_F_SUBMISSION_NO_AUTH,
    MS_F_SUBMISSION_PORT25,
    MS_F_AUTH_FAILED,
    MS_F_AUTH_PROTOCOL_DISABLED,
    MS_F_AUTH_BASIC_AUTH_DISABLED,
    MS_F_AUTH_MECHANISM_UNAVAILABLE,
    MS_F_AUTH_ACCOUNT_LOCKED_OR_EXPIRED,
    MS_F_AUTH_LOGIN_DELAY,
    MS_F_AUTH_MAILBOX_IN_USE,
    MS_F_AUTH_TEMPORARY_FAILURE,
    MS_F_AUTH_NOT_ATTEMPTED_INSECURE,
    MS_F_AUTH_NOT_ATTEMPTED,
    MS_F_ACCOUNT_QUOTA_NEARLY_FULL,
    /* what mail programs are told (autoconfig, Autodiscover; issue 16) */
    MS_F_AUTOCONFIG_POINTS_TO_BROKEN,
    MS_F_AUTOCONFIG_INSECURE,
    MS_F_AUTOCONFIG_DISAGREES,
    MS_F_AUTOCONFIG_INVALID,
    MS_F_AUTODISCOVER_REDIRECT_OTHER_DOMAIN,
    MS_F_AUTOCONFIG_USERNAME_PATTERN,
    MS_F_PERF_RESPONSE_TIME,
    MS_F_REQUIRE_UNMET,
    MS_F_FORBID_PRESENT,
    MS_F_INTERNAL_ERROR,
    MS_F_COUNT
};

enum ms_finding_flags {
    MS_FF_ACCOUNT = 1,  /* about the account (credentials, rights, state), not the server */
    MS_FF_INTERNAL = 2, /* mailscope could not judge: makes a status unknown */
};

#define MS_MAX_TEMPLATES 6

/* What a remedy asks an admin to change on the server: the setting differs by server
 * software (ms_server_settings below). */
enum ms_server_topic {
    MS_TOPIC_NONE,
    MS_TOPIC_TLS_ENABLE,          /* offer TLS (STARTTLS/STLS) on a port */
    MS_TOPIC_TLS_MIN_VERSION,     /* make TLS 1.2 the minimum */
    MS_TOPIC_PLAINTEXT_LOGIN,     /* refuse passwords before TLS */
    MS_TOPIC_PASSWORD_MECHANISMS, /* offer PLAIN / LOGIN over TLS */
    MS_TOPIC_PROTOCOL_ACCESS,     /* let a mailbox use IMAP / POP3 */
    MS_TOPIC_CONNECTION_LIMITS,   /* connection limits that turn clients away */
    MS_TOPIC_COUNT
};

struct ms_catalogue_entry {
    const char *code;          /* stable, dotted, lower case: the API */
    enum ms_severity severity; /* the usual severity (judges may lower or raise it) */
    unsigned flags;            /* enum ms_finding_flags */
    const char *reason;        /* why an endpoint is not usable, after its name: "refused the
                                  connection"; NULL when the code never makes it unusable */
    const char *outcome;       /* sign-in codes: the outcome in a few words */
    /* For people (report/FINDINGS.md, --explain); Markdown code spans allowed. */
    const char *severity_doc;   /* "critical (info†)": when the severity varies */
    const char *when;           /* what it means: when it is raised */
    const char *why;            /* why it matters */
    const char *remedy_doc;     /* what to do, in general */
    enum ms_server_topic topic; /* the server setting its remedies name as
                                   {server_setting}, MS_TOPIC_NONE when none */
    /* What the report says, by variant (index 0 is the usual one). */
    const char *messages[MS_MAX_TEMPLATES];
    const char *remedies[MS_MAX_TEMPLATES];
};

extern const struct ms_catalogue_entry ms_catalogue[MS_F_COUNT];

/* Variants of a row's messages[] / remedies[] (each row uses its own, from 1). */
enum {
    MS_T_DEFAULT = 0,
    /* dns.no_such_host, dns.no_address, dns.timeout, dns.error */
    MS_T_DNS_RESOLVER_WORDS = 1, /* the resolver's words already name the host */
    MS_T_DNS_DISCOVERY_ALL = 2,  /* dns.timeout: every discovery question timed out */
    MS_T_DNS_DISCOVERY_SOME = 3, /* dns.timeout: some did */
    /* dns.srv_not_offered */
    MS_T_SRV_WORKS_ANYWAY = 1,
    MS_T_SRV_OTHER_RECORDS = 2,
    /* tls.handshake_failed */
    MS_T_HANDSHAKE_STARTTLS = 1,
    /* tls.cert_expired */
    MS_T_EXPIRED_NO_CERT = 1,
    MS_T_EXPIRED_CHAIN = 2,
    /* tls.cert_hostname_mismatch */
    MS_T_MISMATCH_NO_CERT = 1,
    /* tls.cert_untrusted: messages */
    MS_T_UNTRUSTED_NO_CERT = 1,
    MS_T_UNTRUSTED_SELF_SIGNED = 2,
    MS_T_UNTRUSTED_WORDS = 3,
    /* tls.cert_untrusted: remedies */
    MS_T_UNTRUSTED_FIX_SELF_SIGNED = 1,
    MS_T_UNTRUSTED_FIX_CHAIN = 2,
    /* tls.cert_expires_soon */
    MS_T_EXPIRES_TODAY = 1,
    /* tls.protocol_outdated: the audit found old versions accepted beside a newer one */
    MS_T_OUTDATED_ACCEPTED = 1,
    /* tls.sni_required */
    MS_T_SNI_NO_MATCH = 1,
    /* tls.chain_incomplete */
    MS_T_CHAIN_AIA = 1, /* the leaf names where its issuer can be fetched */
    /* tls.dane_mismatch */
    MS_T_DANE_UNVALIDATED = 1,
    /* tls.pool_inconsistent */
    MS_T_POOL_EXPIRED = 1,
    /* starttls.not_offered */
    MS_T_NOT_OFFERED_CAPS = 1,
    /* tcp.ipv*_unreachable remedies */
    MS_T_FAMILY_NO_ROUTE = 1, /* "unreachable" can mean this machine has no route */
    /* proto.unavailable */
    MS_T_UNAVAILABLE_NO_SERVER = 1, /* discovery found nothing to probe */
    MS_T_UNAVAILABLE_FIX_DNS = 1,   /* remedy: every DNS question timed out */
    MS_T_UNAVAILABLE_PUBLISH_SRV = 2,
    /* auth.failed: messages */
    MS_T_FAILED_AUTHZ = 1,
    MS_T_FAILED_PERM = 2,
    MS_T_FAILED_TOKEN = 3,
    /* auth.failed: remedies */
    MS_T_FAILED_FIX_AUTHZ = 1,
    MS_T_FAILED_FIX_PERM = 2,
    MS_T_FAILED_FIX_TOKEN = 3,
    MS_T_FAILED_FIX_WEB_LOGIN = 4,
    MS_T_FAILED_FIX_APP_PASSWORD = 5,
    /* auth.protocol_disabled */
    MS_T_DISABLED_EXCHANGE = 1,
    MS_T_DISABLED_SMTP_TENANT = 2,  /* Microsoft 365 5.7.139: message and remedy */
    MS_T_DISABLED_SMTP_MAILBOX = 3, /* message and remedy */
    MS_T_DISABLED_FIX_SMTP = 4,     /* remedy: SMTP AUTH off, no provider named */
    /* auth.basic_auth_disabled, auth.mechanism_unavailable */
    MS_T_AUTH_NOT_SENT = 1,
    MS_T_MECH_PRIVACY = 2,    /* PRIVACYREQUIRED: message and remedy */
    MS_T_MECH_FIX_OAUTH2 = 1, /* remedies */
    MS_T_MECH_FIX_FORCED = 2,
    MS_T_MECH_FIX_PRIVACY = 3,
    /* proto.service_refused */
    MS_T_REFUSED_TEMPORARY = 1, /* 421: busy or shutting down */
    /* auth.plaintext_refusal_unannounced: remedies */
    MS_T_REFUSAL_FIX_SMTP = 1,
    /* auth.plaintext_login_allowed */
    MS_T_PLAINTEXT_POP3 = 1,
    /* proto.capability_malformed: remedies */
    MS_T_MALFORMED_IGNORED = 1, /* the token was ignored (not read) */
    /* autoconfig.insecure */
    MS_T_INSECURE_HTTP_ONLY = 1,
};

/* The server settings a remedy names ({server_setting}), per topic: the identified
 * server's own setting (by_server[], NULL when mailscope does not know it: then unknown),
 * or for an unidentified server examples of common servers, said to be examples.
 * Variables: {server} (the software's name), {imap} ("yes" for IMAP, "" for POP3), {user}. */
struct ms_server_settings {
    const char *examples;                   /* the server was not identified */
    const char *unknown;                    /* identified, its setting not known here */
    const char *by_server[MS_SERVER_COUNT]; /* by enum ms_server_software */
    const char *dovecot_23, *dovecot_24;    /* Dovecot whose version is known (else
                                               by_server[MS_SERVER_DOVECOT]); NULL: same */
};
extern const struct ms_server_settings ms_server_settings[MS_TOPIC_COUNT];

/* Templates shared by every code: a failure in a context that changes its weight. */
enum ms_context {
    MS_CTX_CLOSED_SIBLING,     /* closed or unresolvable, while a sibling works: info */
    MS_CTX_CLOSED_NOT_OFFERED, /* closed, and the domain says the protocol is not offered */
    MS_CTX_AT_LOGOUT,          /* the session worked and stumbled while saying goodbye */
    MS_CTX_AFTER_SIGN_IN,      /* signed in, then the account queries failed */
    MS_CTX_COUNT
};

struct ms_context_templates {
    const char *message, *remedy;
};
extern const struct ms_context_templates ms_context_templates[MS_CTX_COUNT];

/* Phrase templates: parts of messages, verdicts and summaries a judge picks between. */
enum ms_phrase {
    MS_PH_STOPPED_BEFORE_SIGN_IN, /* {code} {evidence} */
    MS_PH_SRV_NXDOMAIN,           /* why an SRV target has no address */
    MS_PH_SRV_NODATA_FAMILY,      /* {v4}: only IPv4 was asked for (-4), else only IPv6 */
    MS_PH_SRV_NODATA,
    MS_PH_SRV_LOOKUP_FAILED, /* {status} {message} */
    MS_PH_SRV_NO_ADDRESS,
    MS_PH_NO_SERVER_DNS_SILENT, /* why discovery found no server */
    MS_PH_NO_SERVER_DNS_FAILED,
    MS_PH_NO_SERVER_NO_CANDIDATE,
    MS_PH_NO_SERVER_ONLY_CANDIDATE, /* {host} */
    MS_PH_NO_SERVER_NONE_RESOLVES,  /* {count} */
    MS_PH_NO_SERVER_NOT_PROBED,     /* {reason} */
    MS_PH_COUNT
};
extern const char *const ms_phrase_templates[MS_PH_COUNT];

/* Phrases judges and renderers put into messages, verdicts and summaries. */
const char *ms_phrase_phase(enum ms_phase p);               /* "while connecting" */
const char *ms_phrase_security(enum ms_security s);         /* "implicit TLS" */
const char *ms_phrase_cert_problem(enum ms_cert_problem p); /* plain words, NULL for none */

/* One variable of a template. */
struct ms_var {
    const char *name;
    const char *value; /* NULL counts as "" */
};

/* Expand template into dst (cap bytes, always NUL-terminated; text that does not fit ends
 * with "..."). A variable the template names but vars lacks expands to "" and is counted
 * in ms_catalogue_missing_vars (the unit tests keep it at 0). */
void ms_catalogue_expand(char *dst, size_t cap, const char *tpl, const struct ms_var *vars,
                         size_t n);
extern unsigned long ms_catalogue_missing_vars;

/* The row of a code ("tls.cert_expired", ASCII case ignored), or NULL. */
const struct ms_catalogue_entry *ms_catalogue_find(const char *code);
/* The id of a row (a pointer into ms_catalogue). */
enum ms_finding_id ms_catalogue_id(const struct ms_catalogue_entry *e);

#endif
