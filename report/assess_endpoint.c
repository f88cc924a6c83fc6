/* Findings about one endpoint's session: how it failed, its certificate and TLS version,
 * password sign-in before TLS, ignored alerts, plaintext use, IPv4/IPv6 reachability and
 * STARTTLS command injection. Decisions only: the words are in catalogue.c. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
#include "probe/error.h"
#include "report/assess_internal.h"

/* ---- small helpers ----------------------------------------------------------------- */

/* The names a certificate covers, "a, b, c", from its SANs (prefix dropped), else its CN. */
static void cert_names(const struct ms_cert_facts *cert, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < cert->san.count; i++) {
        const char *s = cert->san.items[i];
        if (strncasecmp(s, "DNS:", 4) == 0 || strncmp(s, "IP:", 3) == 0)
            s = strchr(s, ':') + 1;
        ms_assess_app(buf, cap, "%s%s", i ? ", " : "", s);
    }
    if (!buf[0]) {
        if (cert->subject[0]) {
            char cn[256];
            ms_assess_cert_cn(cert->subject, cn, sizeof cn, "(no subject)");
            ms_assess_put(buf, cap, "%s (subject only, no alternative names)", cn);
        } else {
            ms_assess_put(buf, cap, "no names at all");
        }
    }
}

/* Capabilities joined by spaces, for evidence. */
static void caps_line(const struct ms_strlist *caps, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < caps->count; i++)
        ms_assess_app(buf, cap, "%s%s", i ? " " : "", caps->items[i]);
    if (!buf[0])
        ms_assess_put(buf, cap, "(none)");
}

int ms_assess_failure_id(enum ms_failure f)
{
    static const int ids[] = {
        [MS_FAILURE_NONE] = -1,
        [MS_FAILURE_DNS_NO_SUCH_HOST] = MS_F_DNS_NO_SUCH_HOST,
        [MS_FAILURE_DNS_NO_ADDRESS] = MS_F_DNS_NO_ADDRESS,
        [MS_FAILURE_DNS_TIMEOUT] = MS_F_DNS_TIMEOUT,
        [MS_FAILURE_DNS_ERROR] = MS_F_DNS_ERROR,
        [MS_FAILURE_TCP_REFUSED] = MS_F_TCP_REFUSED,
        [MS_FAILURE_TCP_TIMEOUT] = MS_F_TCP_TIMEOUT,
        [MS_FAILURE_TCP_UNREACHABLE] = MS_F_TCP_UNREACHABLE,
        [MS_FAILURE_TCP_RESET] = MS_F_TCP_RESET,
        [MS_FAILURE_TLS_HANDSHAKE] = MS_F_TLS_HANDSHAKE_FAILED,
        [MS_FAILURE_TLS_TIMEOUT] = MS_F_TLS_TIMEOUT,
        [MS_FAILURE_TLS_CLIENT_CERT] = MS_F_TLS_CLIENT_CERT_REQUIRED,
        [MS_FAILURE_STARTTLS_NOT_OFFERED] = MS_F_STARTTLS_NOT_OFFERED,
        [MS_FAILURE_STARTTLS_REFUSED] = MS_F_STARTTLS_REFUSED,
        [MS_FAILURE_STARTTLS_INJECTED] = MS_F_STARTTLS_INJECTED_DATA,
        [MS_FAILURE_PROTO_BYE] = MS_F_PROTO_BYE,
        [MS_FAILURE_PROTO_REFUSED] = MS_F_PROTO_SERVICE_REFUSED,
        [MS_FAILURE_PROTO_PREAUTH] = MS_F_PROTO_PREAUTH_WITHOUT_TLS,
        [MS_FAILURE_PROTO_UNEXPECTED_GREETING] = MS_F_PROTO_UNEXPECTED_GREETING,
        [MS_FAILURE_PROTO_MALFORMED] = MS_F_PROTO_MALFORMED_RESPONSE,
        [MS_FAILURE_PROTO_CLOSED] = MS_F_PROTO_CLOSED,
        [MS_FAILURE_PROTO_TIMEOUT] = MS_F_PROTO_TIMEOUT,
        [MS_FAILURE_INTERNAL] = MS_F_INTERNAL_ERROR,
        [MS_FAILURE_TCP_DENIED] = MS_F_TCP_DENIED,
    };
    return (unsigned)f < sizeof ids / sizeof ids[0] ? ids[f] : MS_F_INTERNAL_ERROR;
}

const char *ms_assess_failure_code(enum ms_failure f)
{
    int id = ms_assess_failure_id(f);
    return id < 0 ? NULL : ms_catalogue[id].code;
}

/* ---- how a session failed ------------------------------------------------------------ */

static bool is_closure(enum ms_failure f)
{
    switch (f) {
    case MS_FAILURE_DNS_NO_SUCH_HOST:
    case MS_FAILURE_DNS_NO_ADDRESS:
    case MS_FAILURE_DNS_TIMEOUT:
    case MS_FAILURE_DNS_ERROR:
    case MS_FAILURE_TCP_REFUSED:
    case MS_FAILURE_TCP_TIMEOUT:
    case MS_FAILURE_TCP_UNREACHABLE: return true;
    default: return false;
    }
}

/* The secure siblings of endpoint i (same protocol), each with its own security, as
 * "h:995 (implicit TLS) and h:110 (STARTTLS)"; returns how many there are. */
static size_t secure_siblings(const struct ms_assess_ctx *c, size_t i, char *buf, size_t cap)
{
    const struct ms_result *r = c->r;
    size_t count = 0, total = 0;
    for (size_t j = 0; j < r->endpoint_count; j++)
        if (j != i && r->endpoints[j].protocol == r->endpoints[i].protocol &&
            ms_assess_endpoint_secure(&r->endpoints[j]))
            total++;
    buf[0] = '\0';
    for (size_t j = 0; j < r->endpoint_count; j++) {
        const struct ms_endpoint_result *s = &r->endpoints[j];
        if (j == i || s->protocol != r->endpoints[i].protocol || !ms_assess_endpoint_secure(s))
            continue;
        char port[300];
        ms_assess_ep_port(c, s, port, sizeof port);
        count++;
        ms_assess_app(buf, cap, "%s%s (%s)",
                      count == 1       ? ""
                      : count == total ? " and "
                                       : ", ",
                      port, ms_phrase_security(s->security));
    }
    return count;
}

/* A closure (dns.*, tcp.*) in a context that makes it expected: a sibling works, or the
 * domain says the protocol is not offered. Returns 1 when no such context applies. */
static int judge_expected_closure(struct ms_assess_ctx *c, long i, int id)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    struct ms_assess_vars vs;
    char sibs[320];
    size_t n = secure_siblings(c, (size_t)i, sibs, sizeof sibs);
    enum ms_context ctx;
    if (n > 0)
        ctx = MS_CTX_CLOSED_SIBLING;
    else if (c->not_offered[ep->protocol])
        ctx = MS_CTX_CLOSED_NOT_OFFERED;
    else
        return 1;
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "siblings", sibs);
    ms_assess_var(&vs, "several", n > 1 ? "yes" : "");
    ms_assess_var(&vs, "dns", ep->failure <= MS_FAILURE_DNS_ERROR ? "yes" : "");
    ms_assess_var(&vs, "domain", c->r->discovery.domain);
    return ms_assess_emit(c, id, MS_SEVERITY_INFO, i, ms_context_templates[ctx].message,
                          ms_context_templates[ctx].remedy, &vs);
}

/* The message variant and its extra variables for a failure the judge reports as such. */
static int failure_message(const struct ms_endpoint_result *ep, struct ms_assess_vars *vs,
                           char *caps, size_t cap)
{
    /* The resolver's words already name the host: they are the message, not an echo. */
    if (ep->failure <= MS_FAILURE_DNS_ERROR && ep->failure_message[0] && ep->host[0] &&
        strstr(ep->failure_message, ep->host))
        return MS_T_DNS_RESOLVER_WORDS;
    switch (ep->failure) {
    case MS_FAILURE_TCP_REFUSED:
        ms_assess_var(vs, "address", ep->address[0] ? ep->address : ep->host);
        return MS_T_DEFAULT;
    case MS_FAILURE_TLS_HANDSHAKE:
        if (ep->tls.handshake_error[0])
            ms_assess_var(vs, "evidence", ep->tls.handshake_error); /* overrides the probe's */
        return MS_T_DEFAULT;
    case MS_FAILURE_STARTTLS_NOT_OFFERED:
        if (!ep->caps_before_tls_read)
            return MS_T_DEFAULT;
        caps_line(&ep->caps_before_tls, caps, cap);
        ms_assess_var(vs, "caps", caps);
        return MS_T_NOT_OFFERED_CAPS;
    case MS_FAILURE_TLS_CLIENT_CERT:
        ms_assess_var(vs, "alert", ep->tls.alert_text);
        return MS_T_DEFAULT;
    case MS_FAILURE_STARTTLS_REFUSED:
        ms_assess_var(vs, "answer",
                      ep->starttls_response[0] ? ep->starttls_response
                      : ep->failure_message[0] ? ep->failure_message
                                               : "(nothing)");
        return MS_T_DEFAULT;
    case MS_FAILURE_PROTO_REFUSED:
        /* 4xx (421 closing, 450 busy): not now; 5xx (554, 550): not for this client */
        return ep->failure_reply_code >= 400 && ep->failure_reply_code < 500
                   ? MS_T_REFUSED_TEMPORARY
                   : MS_T_DEFAULT;
    default: return MS_T_DEFAULT;
    }
}

int ms_assess_judge_failure(struct ms_assess_ctx *c, long i)
{
    const struct ms_result *r = c->r;
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    int id = ms_assess_failure_id(ep->failure);
    if (id < 0)
        return 0;
    if ((r->bare_host || r->discovery.performed) && !ep->required && is_closure(ep->failure)) {
        int rc = judge_expected_closure(c, i, id);
        if (rc <= 0)
            return rc;
    }

    /* BYE in answer to the credentials is the server's verdict on them: the auth.* finding
     * (judge_auth) quotes it. */
    if (ep->failure == MS_FAILURE_PROTO_BYE && ep->failure_phase == MS_PHASE_AUTH &&
        ep->auth.attempted)
        return 0;

    struct ms_assess_vars vs;
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "phase", ms_phrase_phase(ep->failure_phase));
    ms_assess_var(&vs, "greeting", ep->greeting);
    bool internal = ep->failure == MS_FAILURE_INTERNAL;

    /* A session that worked and only stumbled while saying goodbye is not an alarm. */
    if (ep->completed_securely && !internal &&
        (ep->failure_phase == MS_PHASE_LOGOUT || ep->failure_phase == MS_PHASE_DONE))
        return ms_assess_emit(c, id, MS_SEVERITY_INFO, i,
                              ms_context_templates[MS_CTX_AT_LOGOUT].message,
                              ms_context_templates[MS_CTX_AT_LOGOUT].remedy, &vs);

    /* Signed in, then the read-only account queries failed: the account works, some of its
     * facts are missing. */
    if (ep->completed_securely && ep->auth.ok && !internal &&
        (ep->failure_phase == MS_PHASE_ACCOUNT || ep->failure_phase == MS_PHASE_CAPABILITY)) {
        ms_assess_var(&vs, "account", ep->failure_phase == MS_PHASE_ACCOUNT ? "yes" : "");
        return ms_assess_emit(c, id, MS_SEVERITY_WARNING, i,
                              ms_context_templates[MS_CTX_AFTER_SIGN_IN].message,
                              ms_context_templates[MS_CTX_AFTER_SIGN_IN].remedy, &vs);
    }

    char caps[400];
    int message = failure_message(ep, &vs, caps, sizeof caps);
    int remedy = ep->failure == MS_FAILURE_TLS_HANDSHAKE && ep->security != MS_SECURITY_IMPLICIT
                     ? MS_T_HANDSHAKE_STARTTLS
                 : ep->failure == MS_FAILURE_PROTO_REFUSED ? message
                                                           : MS_T_DEFAULT;
    return ms_assess_emit(c, id, MS_SEVERITY_CRITICAL, i, MS_MSG(id, message), MS_REM(id, remedy),
                          &vs);
}

/* ---- the certificate ------------------------------------------------------------------ */

static bool has_problem(const struct ms_tls_facts *t, enum ms_cert_problem p)
{
    for (size_t k = 0; k < t->verify_error_count && k < MS_MAX_VERIFY_ERRORS; k++)
        if (t->cert_problems[k] == p)
            return true;
    return false;
}

static bool is_expiry_or_name_error(enum ms_cert_problem p)
{
    return p == MS_CERT_OK || p == MS_CERT_EXPIRED || p == MS_CERT_NOT_YET_VALID ||
           p == MS_CERT_NAME_MISMATCH;
}

static int judge_untrusted(struct ms_assess_ctx *c, long i, bool other_cert_finding)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_tls_facts *t = &ep->tls;
    enum ms_cert_problem first = MS_CERT_OK;
    for (size_t k = 0; k < t->verify_error_count && k < MS_MAX_VERIFY_ERRORS; k++)
        if (!is_expiry_or_name_error(t->cert_problems[k])) {
            first = t->cert_problems[k];
            break;
        }
    bool no_cert = t->established && !t->has_certificate && !t->verified;
    /* Not verified, and nothing else explains it: say so rather than stay silent. */
    bool unexplained = t->established && !t->verified && !other_cert_finding && !first;
    if (!first && !no_cert && !unexplained)
        return 0;

    struct ms_assess_vars vs;
    char subj[256], issuer[256];
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_cert_cn(t->cert.subject, subj, sizeof subj, "(no subject)");
    ms_assess_cert_cn(t->cert.issuer, issuer, sizeof issuer, "(no subject)");
    const char *words = ms_phrase_cert_problem(first);
    ms_assess_var(&vs, "subject", subj);
    ms_assess_var(&vs, "issuer", issuer);
    ms_assess_var(&vs, "words", words);
    ms_assess_var(&vs, "verify_error", t->verify_error[0] ? t->verify_error : "no reason given");
    bool self_signed = first == MS_CERT_SELF_SIGNED || first == MS_CERT_SELF_SIGNED_IN_CHAIN;
    int message = no_cert       ? MS_T_UNTRUSTED_NO_CERT
                  : self_signed ? MS_T_UNTRUSTED_SELF_SIGNED
                  : words       ? MS_T_UNTRUSTED_WORDS
                                : MS_T_DEFAULT;
    int remedy = self_signed ? MS_T_UNTRUSTED_FIX_SELF_SIGNED
                 : first == MS_CERT_UNKNOWN_ISSUER || first == MS_CERT_CHAIN_INCOMPLETE
                     ? MS_T_UNTRUSTED_FIX_CHAIN
                     : MS_T_DEFAULT;
    return ms_assess_emit(c, MS_F_TLS_CERT_UNTRUSTED, MS_SEV_DEFAULT, i,
                          MS_MSG(MS_F_TLS_CERT_UNTRUSTED, message),
                          MS_REM(MS_F_TLS_CERT_UNTRUSTED, remedy), &vs);
}

int ms_assess_judge_cert(struct ms_assess_ctx *c, long i)
{
    const struct ms_result *r = c->r;
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    const struct ms_tls_facts *t = &ep->tls;
    const struct ms_cert_facts *cert = &t->cert;
    int rc;

    if (!t->attempted || (!t->has_certificate && t->verify_error_count == 0 && !t->established))
        return 0;
    struct ms_assess_vars vs;
    char ago[24], days[24], date[16], names[400];
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "not_after", cert->not_after);
    ms_assess_var(&vs, "not_before", cert->not_before[0] ? cert->not_before : "(unknown)");
    snprintf(date, sizeof date, "%.10s", cert->not_after[0] ? cert->not_after : "unknown");
    ms_assess_var(&vs, "expiry_date", date);

    bool leaf_expired = t->has_certificate &&
                        (cert->days_left < 0 || (r->started_at > 0 && cert->not_after_epoch > 0 &&
                                                 cert->not_after_epoch <= r->started_at));
    bool expired = leaf_expired || has_problem(t, MS_CERT_EXPIRED);
    bool nyv = has_problem(t, MS_CERT_NOT_YET_VALID) ||
               (t->has_certificate && r->started_at > 0 && cert->not_before_epoch > r->started_at);
    /* hostname_match is only trusted from a completed handshake; before that, only
     * OpenSSL's own verdict counts. */
    bool mismatch = has_problem(t, MS_CERT_NAME_MISMATCH) ||
                    (t->has_certificate && t->established && !cert->hostname_match);

    if (expired) {
        long n = leaf_expired && cert->days_left < 0 ? -cert->days_left : 0;
        snprintf(ago, sizeof ago, "%ld", n);
        struct ms_assess_vars e = vs;
        ms_assess_var(&e, "ago", ago);
        ms_assess_var(&e, "plural", n == 1 ? "" : "yes");
        ms_assess_var(&e, "verify_error",
                      t->verify_error[0] ? t->verify_error : "certificate has expired");
        if (leaf_expired)
            ms_assess_var(&e, "not_after", cert->not_after[0] ? cert->not_after : "(unknown)");
        int v = !t->has_certificate ? MS_T_EXPIRED_NO_CERT
                : leaf_expired      ? MS_T_DEFAULT
                                    : MS_T_EXPIRED_CHAIN;
        if ((rc = ms_assess_emit(c, MS_F_TLS_CERT_EXPIRED, MS_SEV_DEFAULT, i,
                                 MS_MSG(MS_F_TLS_CERT_EXPIRED, v), MS_REM(MS_F_TLS_CERT_EXPIRED, v),
                                 &e)))
            return rc;
    }
    if (nyv && (rc = ms_assess_emit(c, MS_F_TLS_CERT_NOT_YET_VALID, MS_SEV_DEFAULT, i,
                                    MS_MSG(MS_F_TLS_CERT_NOT_YET_VALID, MS_T_DEFAULT),
                                    MS_REM(MS_F_TLS_CERT_NOT_YET_VALID, MS_T_DEFAULT), &vs)))
        return rc;
    if (mismatch) {
        struct ms_assess_vars m = vs;
        cert_names(cert, names, sizeof names);
        ms_assess_var(&m, "names", names);
        ms_assess_var(&m, "san", t->has_certificate && cert->san.count ? names : "");
        ms_assess_var(&m, "srv", ep->source == MS_SOURCE_SRV ? ep->source_name : "");
        int v = t->has_certificate ? MS_T_DEFAULT : MS_T_MISMATCH_NO_CERT;
        if ((rc = ms_assess_emit(c, MS_F_TLS_CERT_HOSTNAME_MISMATCH, MS_SEV_DEFAULT, i,
                                 MS_MSG(MS_F_TLS_CERT_HOSTNAME_MISMATCH, v),
                                 MS_REM(MS_F_TLS_CERT_HOSTNAME_MISMATCH, MS_T_DEFAULT), &m)))
            return rc;
    }
    if ((rc = judge_untrusted(c, i, expired || nyv || mismatch)))
        return rc;

    if (t->has_certificate && !expired && c->warn_days > 0 && cert->days_left < c->warn_days) {
        snprintf(days, sizeof days, "%ld", cert->days_left);
        ms_assess_var(&vs, "days", days);
        ms_assess_var(&vs, "plural", cert->days_left == 1 ? "" : "yes");
        int v = cert->days_left == 0 ? MS_T_EXPIRES_TODAY : MS_T_DEFAULT;
        return ms_assess_emit(c, MS_F_TLS_CERT_EXPIRES_SOON, MS_SEV_DEFAULT, i,
                              MS_MSG(MS_F_TLS_CERT_EXPIRES_SOON, v),
                              MS_REM(MS_F_TLS_CERT_EXPIRES_SOON, MS_T_DEFAULT), &vs);
    }
    return 0;
}

int ms_assess_judge_tls_version(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const char *v = ep->tls.version;
    if (!ep->tls.established)
        return 0;
    bool ssl = strcmp(v, "SSLv3") == 0 || strcmp(v, "SSLv2") == 0;
    if (!ssl && strcmp(v, "TLSv1") != 0 && strcmp(v, "TLSv1.1") != 0)
        return 0;
    /* SSL is broken outright; TLS 1.0/1.1 still encrypts but mail programs drop it. */
    struct ms_assess_vars vs;
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "version", v);
    return ms_assess_emit(c, MS_F_TLS_PROTOCOL_OUTDATED,
                          ssl ? MS_SEVERITY_CRITICAL : MS_SEVERITY_WARNING, i,
                          MS_MSG(MS_F_TLS_PROTOCOL_OUTDATED, MS_T_DEFAULT),
                          MS_REM(MS_F_TLS_PROTOCOL_OUTDATED, MS_T_DEFAULT), &vs);
}

/* ---- sign-in before TLS ------------------------------------------------------------- */

/* True when word (case-insensitive) is one of the space-separated words of line after the
 * first one. */
static bool line_has_word(const char *line, const char *word)
{
    size_t wl = strlen(word);
    const char *p = strchr(line, ' ');
    while (p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == wl && strncasecmp(p, word, wl) == 0)
            return true;
        p = p[n] ? p + n : NULL;
    }
    return false;
}

/* Words in a refusal of the plaintext check that say why: TLS is required, or the way is off
 * (so no password goes there either way). */
static bool refused_for_tls(const struct ms_plaintext_check *pc)
{
    static const char *const phrases[] = {
        "tls",        "ssl",         "starttls",          "stls",          "encryption",
        "encrypted",  "plaintext",   "plain text",        "cleartext",     "clear text",
        "insecure",   "non-secure",  "secure connection", "logindisabled", "disabled",
        "disallowed", "not allowed", "not permitted",     "privacy"};
    if (strcasecmp(pc->code, "PRIVACYREQUIRED") == 0)
        return true;
    /* SMTP: 538 "encryption required" (RFC 4954), 5.7.11 (RFC 5248) */
    if (strcmp(pc->status, "538") == 0 || strcmp(pc->code, "5.7.11") == 0)
        return true;
    for (size_t k = 0; k < sizeof phrases / sizeof phrases[0]; k++)
        if (ms_assess_has_phrase(pc->answer, phrases[k]))
            return true;
    return false;
}

/* A refusal that judged the throwaway credentials: the server would have taken real ones. */
static bool judged_credentials(const struct ms_plaintext_check *pc)
{
    static const char *const codes[] = {"AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "AUTH"};
    static const char *const phrases[] = {
        "invalid",     "incorrect",    "wrong",        "failed",       "failure",
        "bad user",    "bad password", "unknown user", "no such user", "user unknown",
        "credentials", "password",     "denied"};
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
        if (strcasecmp(pc->code, codes[k]) == 0)
            return true;
    /* SMTP: 535 5.7.8 "authentication credentials invalid" (RFC 4954) */
    if (strcmp(pc->status, "535") == 0 || strcmp(pc->code, "5.7.8") == 0)
        return true;
    for (size_t k = 0; k < sizeof phrases / sizeof phrases[0]; k++)
        if (ms_assess_has_phrase(pc->answer, phrases[k]))
            return true;
    return false;
}

enum ms_plaintext_verdict ms_assess_plaintext_verdict(const struct ms_endpoint_result *ep)
{
    const struct ms_plaintext_check *pc = &ep->plaintext_check;
    if (!pc->tried || pc->method == MS_PLAINTEXT_NONE)
        return MS_PLAINTEXT_UNCHECKED;
    if (!pc->answered)
        return MS_PLAINTEXT_NOT_CONFIRMED;
    /* "+": the exchange goes on; "+OK" to USER: PASS is next; OK: a random user got in */
    if (strcmp(pc->status, "+") == 0 || strcmp(pc->status, "+OK") == 0 ||
        strcmp(pc->status, "OK") == 0)
        return MS_PLAINTEXT_CONFIRMED;
    if (refused_for_tls(pc)) /* checked first: "[AUTH] Plaintext authentication disallowed" */
        return MS_PLAINTEXT_REFUSED;
    return judged_credentials(pc) ? MS_PLAINTEXT_CONFIRMED : MS_PLAINTEXT_NOT_CONFIRMED;
}

const char *ms_plaintext_verdict_name(enum ms_plaintext_verdict v)
{
    switch (v) {
    case MS_PLAINTEXT_CONFIRMED: return "confirmed";
    case MS_PLAINTEXT_REFUSED: return "refused";
    case MS_PLAINTEXT_NOT_CONFIRMED: return "not_confirmed";
    default: return NULL;
    }
}

/* The server's answer to the check, as quoted: status and words ("538 5.7.11 words" for
 * SMTP, whose enhanced code is not bracketed). */
static void check_answer_words(const struct ms_endpoint_result *ep, char *buf, size_t cap)
{
    const struct ms_plaintext_check *pc = &ep->plaintext_check;
    if (ep->protocol == MS_PROTOCOL_SUBMISSION) /* "+" is how the probe stores a 334 */
        ms_assess_put(buf, cap, "%s%s%s%s%s", strcmp(pc->status, "+") ? pc->status : "334",
                      pc->code[0] ? " " : "", pc->code, pc->answer[0] ? " " : "", pc->answer);
    else if (pc->answer[0] && strcmp(pc->status, "+") != 0)
        ms_assess_put(buf, cap, "%s%s%s%s %s", pc->status, pc->code[0] ? " [" : "", pc->code,
                      pc->code[0] ? "]" : "", pc->answer);
    else
        ms_assess_put(buf, cap, "%s%s%s", pc->status, pc->answer[0] ? " " : "", pc->answer);
}

int ms_assess_judge_plaintext_login(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_strlist *caps = &ep->caps_before_tls;
    struct ms_assess_vars vs;
    char offers[64] = "", answer[400], why[240];
    int v = MS_T_DEFAULT;

    if (ep->security == MS_SECURITY_IMPLICIT || !ep->caps_before_tls_read)
        return 0;
    ms_assess_endpoint_vars(c, ep, &vs);
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;
    bool smtp = ep->protocol == MS_PROTOCOL_SUBMISSION;
    enum ms_finding_id id = MS_F_AUTH_PLAINTEXT_LOGIN_ALLOWED;
    int refusal_fix = MS_T_DEFAULT;
    ms_assess_var(&vs, "imap", imap ? "yes" : "");
    if (smtp) {
        bool plain = ms_caps_smtp_offers(caps, "PLAIN"), login = ms_caps_smtp_offers(caps, "LOGIN");
        if (!plain && !login)
            return 0;
        snprintf(offers, sizeof offers, "AUTH%s%s", plain ? " PLAIN" : "", login ? " LOGIN" : "");
        ms_assess_var(&vs, "offers", offers);
        ms_assess_var(&vs, "user", "");
        ms_assess_var(&vs, "both", "");
        ms_assess_var(&vs, "sasl", offers);
        id = MS_F_SUBMISSION_AUTH_BEFORE_TLS;
        refusal_fix = MS_T_REFUSAL_FIX_SMTP;
    } else if (imap) {
        if (ms_strlist_has(caps, "LOGINDISABLED"))
            return 0;
        bool plain = ms_strlist_has(caps, "AUTH=PLAIN"), login = ms_strlist_has(caps, "AUTH=LOGIN");
        snprintf(offers, sizeof offers, "%s%s", plain ? " AUTH=PLAIN" : "",
                 login ? " AUTH=LOGIN" : "");
        ms_assess_var(&vs, "offers", offers);
    } else {
        const char *user = ms_assess_pop3_cap(caps, "USER");
        const char *sasl = ms_assess_pop3_cap(caps, "SASL");
        bool sasl_pw = sasl && (line_has_word(sasl, "PLAIN") || line_has_word(sasl, "LOGIN"));
        if (!user && !sasl_pw)
            return 0;
        ms_assess_var(&vs, "user", user ? "USER" : "");
        ms_assess_var(&vs, "both", user && sasl_pw ? "yes" : "");
        ms_assess_var(&vs, "sasl", sasl_pw ? sasl : "");
        v = MS_T_PLAINTEXT_POP3;
    }
    /* Advertised: what did the server do when asked? */
    const struct ms_plaintext_check *pc = &ep->plaintext_check;
    enum ms_plaintext_verdict verdict = ms_assess_plaintext_verdict(ep);
    check_answer_words(ep, answer, sizeof answer);
    ms_assess_var(&vs, "sent", pc->sent);
    ms_assess_var(&vs, "answer", answer);
    ms_assess_var(&vs, "confirmed", "");
    ms_assess_var(&vs, "unconfirmed", "");
    ms_assess_var(&vs, "why", "");
    if (verdict == MS_PLAINTEXT_REFUSED)
        return ms_assess_emit(c, MS_F_AUTH_PLAINTEXT_REFUSAL_UNANNOUNCED, MS_SEV_DEFAULT, i,
                              MS_MSG(MS_F_AUTH_PLAINTEXT_REFUSAL_UNANNOUNCED, MS_T_DEFAULT),
                              MS_REM(MS_F_AUTH_PLAINTEXT_REFUSAL_UNANNOUNCED, refusal_fix), &vs);
    if (verdict == MS_PLAINTEXT_CONFIRMED) {
        ms_assess_var(&vs, "confirmed", "yes");
    } else {
        if (c->r->plaintext_check_off)
            ms_assess_put(why, sizeof why, "the check was turned off (--no-confirm)");
        else if (!pc->tried)
            ms_assess_put(why, sizeof why, "the check did not run");
        else if (pc->answered)
            ms_assess_put(why, sizeof why, "the server answered %s with \"%s\", which says neither",
                          pc->sent, answer);
        else
            ms_assess_put(why, sizeof why, "%s", pc->note[0] ? pc->note : "no answer");
        ms_assess_var(&vs, "unconfirmed", "yes");
        ms_assess_var(&vs, "why", why);
    }
    if (smtp)
        return ms_assess_emit(c, id, MS_SEV_DEFAULT, i, MS_MSG(id, MS_T_DEFAULT),
                              MS_REM(id, MS_T_DEFAULT), &vs);
    return ms_assess_emit(c, id, MS_SEV_DEFAULT, i, MS_MSG(id, v), MS_REM(id, MS_T_DEFAULT), &vs);
}

int ms_assess_judge_misc(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    struct ms_assess_vars vs;
    char count[16];
    int rc;

    ms_assess_endpoint_vars(c, ep, &vs);
    if (ep->alerts_ignored_before_tls > 0) {
        snprintf(count, sizeof count, "%d", ep->alerts_ignored_before_tls);
        ms_assess_var(&vs, "count", count);
        ms_assess_var(&vs, "plural", ep->alerts_ignored_before_tls == 1 ? "" : "yes");
        if ((rc = ms_assess_emit(c, MS_F_PROTO_ALERT_IGNORED, MS_SEV_DEFAULT, i,
                                 MS_MSG(MS_F_PROTO_ALERT_IGNORED, MS_T_DEFAULT),
                                 MS_REM(MS_F_PROTO_ALERT_IGNORED, MS_T_DEFAULT), &vs)))
            return rc;
    }
    /* A session that ran without TLS at all (security none) worked, but not securely. */
    if (ep->security == MS_SECURITY_NONE && ep->failure == MS_FAILURE_NONE &&
        !ep->completed_securely)
        return ms_assess_emit(c, MS_F_TLS_NOT_USED, MS_SEV_DEFAULT, i,
                              MS_MSG(MS_F_TLS_NOT_USED, MS_T_DEFAULT),
                              MS_REM(MS_F_TLS_NOT_USED, MS_T_DEFAULT), &vs);
    return 0;
}

/* One family connects and the other does not (checked on the first address of each, when
 * the host has both): mail programs that pick the broken one first hang or fail. */
int ms_assess_judge_families(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_family_check *v4 = &ep->ipv4, *v6 = &ep->ipv6;
    if (!v4->tried || !v6->tried)
        return 0;
    bool ok4 = v4->failure == MS_FAILURE_NONE, ok6 = v6->failure == MS_FAILURE_NONE;
    if (ok4 == ok6)
        return 0;
    const struct ms_family_check *good = ok4 ? v4 : v6, *bad = ok4 ? v6 : v4;
    struct ms_assess_vars vs;
    char ms[24] = "";
    ms_assess_endpoint_vars(c, ep, &vs);
    if (good->connect_ms >= 0)
        snprintf(ms, sizeof ms, "%.1f", good->connect_ms);
    ms_assess_var(&vs, "good_ms", ms);
    ms_assess_var(&vs, "good_address", good->address[0] ? good->address : "first address");
    ms_assess_var(&vs, "bad_address", bad->address[0] ? bad->address : "first address");
    ms_assess_var(&vs, "bad_address_raw", bad->address);
    ms_assess_var(&vs, "bad_message", bad->message[0] ? bad->message : "no connection");
    ms_assess_var(&vs, "bad_code", ms_assess_failure_code(bad->failure));
    ms_assess_var(&vs, "no_route", bad->failure == MS_FAILURE_TCP_UNREACHABLE ? "yes" : "");
    enum ms_finding_id id = ok4 ? MS_F_TCP_IPV6_UNREACHABLE : MS_F_TCP_IPV4_UNREACHABLE;
    return ms_assess_emit(c, id, MS_SEV_DEFAULT, i, MS_MSG(id, MS_T_DEFAULT),
                          MS_REM(id, MS_T_DEFAULT), &vs);
}

/* --injection-test: the server answered a command injected before STARTTLS inside TLS. */
int ms_assess_judge_injection(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    if (!ep->injection.vulnerable)
        return 0;
    struct ms_assess_vars vs;
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "probe_command", ep->protocol == MS_PROTOCOL_POP3 ? "CAPA" : "NOOP");
    ms_assess_var(&vs, "evidence", ep->injection.evidence[0] ? ep->injection.evidence : "no text");
    return ms_assess_emit(c, MS_F_STARTTLS_COMMAND_INJECTION, MS_SEV_DEFAULT, i,
                          MS_MSG(MS_F_STARTTLS_COMMAND_INJECTION, MS_T_DEFAULT),
                          MS_REM(MS_F_STARTTLS_COMMAND_INJECTION, MS_T_DEFAULT), &vs);
}

/* Sending: port 25 is not a submission port; a submission server without AUTH over TLS
 * takes no mail program's sign-in. */
int ms_assess_judge_submission(struct ms_assess_ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    struct ms_assess_vars vs;
    int rc;
    if (ep->protocol != MS_PROTOCOL_SUBMISSION)
        return 0;
    ms_assess_endpoint_vars(c, ep, &vs);
    ms_assess_var(&vs, "port25", ep->port == 25 ? "yes" : "");
    if ((ep->port == 25 || ep->smtp_url) &&
        (rc = ms_assess_emit(c, MS_F_SUBMISSION_PORT25, MS_SEV_DEFAULT, i,
                             MS_MSG(MS_F_SUBMISSION_PORT25, MS_T_DEFAULT),
                             MS_REM(MS_F_SUBMISSION_PORT25, MS_T_DEFAULT), &vs)))
        return rc;
    /* judged on what the server said over TLS only: before TLS, hiding AUTH is right */
    if (!ep->caps_after_tls_read)
        return 0;
    char names[1][MS_SMTP_MECH_NAME], caps[300] = "";
    if (ms_caps_smtp_mechs(&ep->caps_after_tls, names, 1) > 0)
        return 0;
    for (size_t k = 0; k < ep->caps_after_tls.count; k++)
        ms_assess_app(caps, sizeof caps, "%s%s", k ? " " : "", ep->caps_after_tls.items[k]);
    ms_assess_var(&vs, "caps", caps);
    return ms_assess_emit(c, MS_F_SUBMISSION_NO_AUTH, MS_SEV_DEFAULT, i,
                          MS_MSG(MS_F_SUBMISSION_NO_AUTH, MS_T_DEFAULT),
                          MS_REM(MS_F_SUBMISSION_NO_AUTH, MS_T_DEFAULT), &vs);
}

/* ---- why an endpoint is not usable ------------------------------------------------- */

const char *ms_assess_endpoint_reason(const struct ms_assess_ctx *c, const struct ms_finding *f,
                                      size_t n, size_t i)
{
    static const char fallback[] = "did not complete securely";
    int id = ms_assess_failure_id(c->r->endpoints[i].failure);
    if (id >= 0)
        return ms_catalogue[id].reason ? ms_catalogue[id].reason : fallback;
    /* its worst finding about the server, else about the account (f is sorted) */
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < n; k++)
            if (f[k].endpoint_index == (long)i && f[k].severity == MS_SEVERITY_CRITICAL &&
                (pass == 1 || !ms_assess_is_account(&f[k])))
                return ms_catalogue[f[k].id].reason ? ms_catalogue[f[k].id].reason : fallback;
    return fallback;
}
