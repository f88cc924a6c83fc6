/* Private to the judge (report/assess*.c): the context its files share and the functions
 * one of them defines for the others. Not part of the public interface (report/assess.h).
 * Each function's comment is at its definition. */
#ifndef MS_ASSESS_INTERNAL_H
#define MS_ASSESS_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "report/assess.h"

struct ctx {
    const struct ms_result *r;
    int warn_days;
    bool one_host;       /* all endpoints share one host: name them by port only */
    bool not_offered[2]; /* by enum ms_protocol: the domain's SRV records say "not offered" */
    struct ms_finding *f;
    size_t n;
    size_t cap;
};

/* A variant of a finding's remedy, picked by the rule that decided the outcome. */
enum auth_hint {
    HINT_NONE,
    HINT_PRIVACY,      /* PRIVACYREQUIRED: no sign-in without TLS */
    HINT_AUTHZ,        /* AUTHORIZATIONFAILED: accepted, but may not act as that user */
    HINT_PERM,         /* SYS/PERM without further words */
    HINT_WEB_LOGIN,    /* the provider wants a browser sign-in first */
    HINT_APP_PASSWORD, /* the provider wants an app password */
    HINT_EXCHANGE,     /* Exchange / Microsoft 365 words */
};

static inline const char *proto_upper(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "IMAP" : "POP3";
}

/* The protocol's name for the STARTTLS command. */
static inline const char *starttls_cmd(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "STARTTLS" : "STLS";
}

/* assess_util.c: string helpers, endpoint labels, adding a finding */
void vput(char *dst, size_t cap, const char *fmt, va_list ap);
void put(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void app(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *security_words(enum ms_security s);
void ep_port(const struct ctx *c, const struct ms_endpoint_result *ep, char *buf, size_t cap);
void ep_label(const struct ctx *c, const struct ms_endpoint_result *ep, char *buf, size_t cap);
unsigned implicit_port(const struct ctx *c, enum ms_protocol p);
void fmt_kb(long long kb, char *buf, size_t cap);
bool has_phrase(const char *text, const char *phrase);
const char *pop3_cap(const struct ms_strlist *caps, const char *name);
struct ms_finding *add(struct ctx *c, enum ms_severity sev, const char *code, long idx);

/* The judges: each adds its findings about endpoint i (or about the domain) to c and
 * returns 0 or MS_ENOMEM. */
/* assess_endpoint.c */
int judge_failure(struct ctx *c, long i);
int judge_cert(struct ctx *c, long i);
int judge_tls_version(struct ctx *c, long i);
int judge_plaintext_login(struct ctx *c, long i);
int judge_misc(struct ctx *c, long i);
int judge_families(struct ctx *c, long i);
int judge_injection(struct ctx *c, long i);
/* assess_auth.c */
int judge_auth(struct ctx *c, long i);
int judge_quota(struct ctx *c, long i);
/* assess_discovery.c */
int judge_discovery(struct ctx *c);

/* assess_auth.c: sign-in */
bool is_token_mech(const char *mech);
bool stopped_for_tls(const struct ms_endpoint_result *ep);
enum ms_severity auth_severity(enum ms_auth_outcome o);
bool is_account_code(const char *code);
const char *outcome_words(enum ms_auth_outcome o);
void server_words(const struct ms_auth_facts *au, char *buf, size_t cap);
enum ms_auth_outcome protocol_auth(const struct ms_result *r, enum ms_protocol p, long *idx,
                                   enum auth_hint *hint);

/* assess_discovery.c: what the domain's DNS says */
const char *const *services_of(enum ms_protocol p);
size_t not_offered_labels(const struct ms_result *r, enum ms_protocol p, char *buf, size_t cap);
bool protocol_not_offered(const struct ms_result *r, enum ms_protocol p);
size_t dns_timeouts(const struct ms_discovery *d, size_t *asked);
void no_server_words(const struct ctx *c, enum ms_protocol p, char *buf, size_t cap);

/* assess.c: verdicts */
const char *endpoint_reason(const struct ctx *c, const struct ms_assessment *a, size_t i);

/* assess_recommend.c: best settings */
int rank_cmp(const struct ms_result *r, const enum ms_status *st, size_t i, size_t j);
void recommend(const struct ctx *c, struct ms_assessment *a, const enum ms_status *srv);

/* assess_summary.c: the account-feature summary and schedule */
void make_summary(const struct ctx *c, struct ms_assessment *a);

#endif
