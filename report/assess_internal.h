/* Private to the judge (report/assess*.c): the context its files share and the functions
 * one of them defines for the others. Not part of the public interface (report/assess.h).
 * Each function's comment is at its definition.
 *
 * Who calls whom (no cycles): assess.c runs the judges (assess_endpoint.c, assess_auth.c,
 * assess_discovery.c), then the verdicts, assess_recommend.c and assess_summary.c; all of
 * them use assess_util.c; the words come from catalogue.c. */
#ifndef MS_ASSESS_INTERNAL_H
#define MS_ASSESS_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "report/assess.h"
#include "report/catalogue.h"

struct ms_assess_ctx {
    const struct ms_result *r;
    int warn_days;
    bool one_host;                       /* all endpoints share one host: name them by port only */
    bool not_offered[MS_PROTOCOL_COUNT]; /* by enum ms_protocol: the domain's SRV records say "not
                                            offered" */
    struct ms_finding *f;
    size_t n;
    size_t cap;
};

/* A variant of a finding's remedy, picked by the rule that decided the outcome. */
enum ms_auth_hint {
    MS_HINT_NONE,
    MS_HINT_PRIVACY,      /* PRIVACYREQUIRED: no sign-in without TLS */
    MS_HINT_AUTHZ,        /* AUTHORIZATIONFAILED: accepted, but may not act as that user */
    MS_HINT_PERM,         /* SYS/PERM without further words */
    MS_HINT_WEB_LOGIN,    /* the provider wants a browser sign-in first */
    MS_HINT_APP_PASSWORD, /* the provider wants an app password */
    MS_HINT_EXCHANGE,     /* Exchange / Microsoft 365 words */
    MS_HINT_SMTP_TENANT,  /* Microsoft 365: SMTP AUTH is off for the whole tenant */
    MS_HINT_SMTP_MAILBOX, /* Microsoft 365: SMTP AUTH is off for this mailbox */
};

static inline const char *ms_assess_proto_upper(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "IMAP" : p == MS_PROTOCOL_POP3 ? "POP3" : "SMTP";
}

/* The same with its indefinite article, as it is read aloud: "an IMAP", "a POP3", "an SMTP". */
static inline const char *ms_assess_a_proto(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "an IMAP" : p == MS_PROTOCOL_POP3 ? "a POP3" : "an SMTP";
}

/* The standard implicit-TLS port of a protocol (RFC 8314): 993, 995, 465. */
static inline unsigned ms_assess_standard_implicit_port(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? 993 : p == MS_PROTOCOL_POP3 ? 995 : 465;
}

/* The protocol's name for the STARTTLS command. */
static inline const char *ms_assess_starttls_cmd(enum ms_protocol p)
{
    return p == MS_PROTOCOL_POP3 ? "STLS" : "STARTTLS";
}

/* ---- assess_util.c: strings, endpoint labels, adding a finding ---- */
void ms_assess_vput(char *dst, size_t cap, const char *fmt, va_list ap);
void ms_assess_put(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ms_assess_app(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ms_assess_ep_port(const struct ms_assess_ctx *c, const struct ms_endpoint_result *ep,
                       char *buf, size_t cap);
void ms_assess_ep_label(const struct ms_assess_ctx *c, const struct ms_endpoint_result *ep,
                        char *buf, size_t cap);
unsigned ms_assess_implicit_port(const struct ms_assess_ctx *c, enum ms_protocol p);
void ms_assess_fmt_kb(long long kb, char *buf, size_t cap);
bool ms_assess_has_phrase(const char *text, const char *phrase);
const char *ms_assess_pop3_cap(const struct ms_strlist *caps, const char *name);
bool ms_assess_is_account(const struct ms_finding *f);

/* Template variables for one finding: the endpoint's usual ones, then a judge's own. */
#define MS_ASSESS_MAX_VARS 32
struct ms_assess_vars {
    struct ms_var v[MS_ASSESS_MAX_VARS];
    size_t n;
    /* storage for the endpoint's usual values */
    char endpoint[320], port[16], implicit_port[16];
};
void ms_assess_var(struct ms_assess_vars *vs, const char *name, const char *value);
/* endpoint ("IMAP on 993"), host, port, implicit_port, cmd (STARTTLS/STLS), proto (IMAP),
 * a_proto ("an IMAP", "an SMTP": the article fits the sound), evidence (the probe's words about its
 * failure). */
void ms_assess_endpoint_vars(const struct ms_assess_ctx *c, const struct ms_endpoint_result *ep,
                             struct ms_assess_vars *vs);

/* Add finding id about endpoint idx (-1: about none) to c, with severity (MS_SEV_DEFAULT: the
 * catalogue's), message and remedy expanded from the templates. Returns 0 or MS_ENOMEM. */
#define MS_SEV_DEFAULT (-1)
int ms_assess_emit(struct ms_assess_ctx *c, enum ms_finding_id id, int severity, long idx,
                   const char *message, const char *remedy, const struct ms_assess_vars *vs);
/* The setting an admin changes on endpoint ep's server (NULL: none known) for topic, in
 * words for a remedy, into buf (cap bytes; returned): the identified server's own setting
 * (report/server_id.h, ms_server_settings in catalogue.c), "<server>: mailscope does not
 * know this setting's name; ..." when it is identified but its setting is not known here,
 * else examples of common servers said to be examples. ms_assess_emit fills
 * {server_setting} with it for a row whose topic is set, unless the judge set it. */
const char *ms_assess_server_setting(const struct ms_assess_ctx *c,
                                     const struct ms_endpoint_result *ep,
                                     enum ms_server_topic topic, char *buf, size_t cap);
#define MS_MSG(id, variant) (ms_catalogue[id].messages[variant])
#define MS_REM(id, variant) (ms_catalogue[id].remedies[variant])

/* ---- the judges: each adds its findings about endpoint i (or about the domain) to c and
 * returns 0 or MS_ENOMEM ---- */
/* assess_endpoint.c */
int ms_assess_judge_failure(struct ms_assess_ctx *c, long i);
int ms_assess_judge_cert(struct ms_assess_ctx *c, long i);
int ms_assess_judge_tls_version(struct ms_assess_ctx *c, long i);
int ms_assess_judge_plaintext_login(struct ms_assess_ctx *c, long i);
int ms_assess_judge_misc(struct ms_assess_ctx *c, long i);
int ms_assess_judge_families(struct ms_assess_ctx *c, long i);
int ms_assess_judge_injection(struct ms_assess_ctx *c, long i);
/* The finding id a session failure maps to, -1 for MS_FAILURE_NONE. */
int ms_assess_failure_id(enum ms_failure f);
/* Why endpoint i is not usable, in a few words, from its failure or worst finding. */
const char *ms_assess_endpoint_reason(const struct ms_assess_ctx *c, const struct ms_finding *f,
                                      size_t n, size_t i);
/* assess_audit.c (issue 15: --tls-audit and the address pool) */
int ms_assess_judge_audit(struct ms_assess_ctx *c, long i);
int ms_assess_judge_pool(struct ms_assess_ctx *c, long i);
/* assess_auth.c */
int ms_assess_judge_auth(struct ms_assess_ctx *c, long i);
int ms_assess_judge_quota(struct ms_assess_ctx *c, long i);
int ms_assess_judge_submission(struct ms_assess_ctx *c, long i);
bool ms_assess_stopped_for_tls(const struct ms_endpoint_result *ep);
const char *ms_assess_outcome_words(enum ms_auth_outcome o);
enum ms_severity ms_assess_auth_severity(enum ms_auth_outcome o);
enum ms_auth_outcome ms_assess_protocol_auth(const struct ms_result *r, enum ms_protocol p,
                                             long *idx, enum ms_auth_hint *hint);
/* assess_caps.c */
int ms_assess_judge_capabilities(struct ms_assess_ctx *c, long i);
/* A POP3 EXPIRE / LOGIN-DELAY capability (RFC 2449) as the report reads it from a raw list. */
struct ms_pop3_value {
    const char *line; /* the capability as listed (in the list), NULL when absent */
    long value;       /* >= 0 the days or seconds, -1 NEVER (EXPIRE), -2 absent or ignored */
    bool per_user;    /* followed by USER */
    bool malformed;   /* not as RFC 2449 writes it (proto.capability_malformed) */
    bool glued;       /* ... the name glued to its value ("EXPIRENEVER"), read when certain */
};
void ms_assess_pop3_value(const struct ms_strlist *caps, const char *name,
                          struct ms_pop3_value *out);
/* assess_discovery.c */
int ms_assess_judge_discovery(struct ms_assess_ctx *c);
const char *const *ms_assess_services_of(enum ms_protocol p);
size_t ms_assess_not_offered_labels(const struct ms_result *r, enum ms_protocol p, char *buf,
                                    size_t cap);
bool ms_assess_protocol_not_offered(const struct ms_result *r, enum ms_protocol p);
size_t ms_assess_dns_failures(const struct ms_discovery *d, size_t *asked, size_t *timeouts);
void ms_assess_no_server_words(const struct ms_assess_ctx *c, enum ms_protocol p, char *buf,
                               size_t cap);
/* assess_autoconfig.c */
int ms_assess_judge_autoconfig(struct ms_assess_ctx *c);
int ms_assess_autoconfig_verdicts(const struct ms_assess_ctx *c, struct ms_assessment *a);
/* assess_recommend.c */
int ms_assess_rank_cmp(const struct ms_result *r, const enum ms_status *st, size_t i, size_t j);
void ms_assess_recommend(const struct ms_assess_ctx *c, struct ms_assessment *a,
                         const enum ms_status *srv);
/* assess_summary.c */
void ms_assess_make_summary(const struct ms_assess_ctx *c, struct ms_assessment *a);

#endif
