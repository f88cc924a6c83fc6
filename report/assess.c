/* The judge: facts (struct ms_result) in, findings and statuses out. Pure: no sockets,
 * no clock (the probe's started_at is "now"), no output. Every message carries the
 * evidence it was decided on; every remedy says what a helpdesk or an admin can do. */
#include "report/assess.h"

/* Only the X509_V_ERR_* numbers (macros): report/ links no OpenSSL. */
#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"

struct ctx {
    const struct ms_result *r;
    int warn_days;
    bool one_host; /* all endpoints share one host: name them by port only */
    struct ms_finding *f;
    size_t n;
    size_t cap;
};

const char *ms_severity_name(enum ms_severity s)
{
    switch (s) {
    case MS_SEVERITY_INFO: return "info";
    case MS_SEVERITY_WARNING: return "warning";
    default: return "critical";
    }
}

const char *ms_status_name(enum ms_status s)
{
    switch (s) {
    case MS_STATUS_OK: return "ok";
    case MS_STATUS_WARNING: return "warning";
    case MS_STATUS_CRITICAL: return "critical";
    default: return "unknown";
    }
}

const char *ms_assess_failure_code(enum ms_failure f)
{
    switch (f) {
    case MS_FAILURE_NONE: return NULL;
    case MS_FAILURE_DNS_NO_SUCH_HOST: return "dns.no_such_host";
    case MS_FAILURE_DNS_NO_ADDRESS: return "dns.no_address";
    case MS_FAILURE_DNS_TIMEOUT: return "dns.timeout";
    case MS_FAILURE_DNS_ERROR: return "dns.error";
    case MS_FAILURE_TCP_REFUSED: return "tcp.refused";
    case MS_FAILURE_TCP_TIMEOUT: return "tcp.timeout";
    case MS_FAILURE_TCP_UNREACHABLE: return "tcp.unreachable";
    case MS_FAILURE_TLS_HANDSHAKE: return "tls.handshake_failed";
    case MS_FAILURE_TLS_TIMEOUT: return "tls.timeout";
    case MS_FAILURE_STARTTLS_NOT_OFFERED: return "starttls.not_offered";
    case MS_FAILURE_STARTTLS_REFUSED: return "starttls.refused";
    case MS_FAILURE_STARTTLS_INJECTED: return "starttls.injected_data";
    case MS_FAILURE_PROTO_BYE: return "proto.bye";
    case MS_FAILURE_PROTO_PREAUTH: return "proto.preauth_without_tls";
    case MS_FAILURE_PROTO_UNEXPECTED_GREETING: return "proto.unexpected_greeting";
    case MS_FAILURE_PROTO_MALFORMED: return "proto.malformed_response";
    case MS_FAILURE_PROTO_CLOSED: return "proto.closed";
    case MS_FAILURE_PROTO_TIMEOUT: return "proto.timeout";
    case MS_FAILURE_INTERNAL: return "internal.error";
    }
    return "internal.error";
}

bool ms_assess_endpoint_secure(const struct ms_endpoint_result *ep)
{
    /* verified already covers chain and host name; the other checks only guard against a
     * probe that filled the facts inconsistently, so "secure" never contradicts a finding. */
    return ep->completed_securely && ep->tls.established && ep->tls.verified &&
           ep->tls.verify_error_count == 0 &&
           (!ep->tls.has_certificate || ep->tls.cert.hostname_match);
}

/* ---- small string helpers ---------------------------------------------------------- */

/* vsnprintf into dst; output that does not fit ends with "..." so a reader sees the cut. */
static void vput(char *dst, size_t cap, const char *fmt, va_list ap)
{
    int n = vsnprintf(dst, cap, fmt, ap);
    if (n >= 0 && (size_t)n >= cap && cap >= 4)
        memcpy(dst + cap - 4, "...", 4);
}

static void put(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(dst, cap, fmt, ap);
    va_end(ap);
}

static void app(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void app(char *dst, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(dst);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vput(dst + len, cap - len, fmt, ap);
    va_end(ap);
}

static const char *proto_upper(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "IMAP" : "POP3";
}

/* The protocol's name for the STARTTLS command. */
static const char *starttls_cmd(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "STARTTLS" : "STLS";
}

static const char *security_words(enum ms_security s)
{
    switch (s) {
    case MS_SECURITY_IMPLICIT: return "implicit TLS";
    case MS_SECURITY_STARTTLS: return "STARTTLS";
    default: return "no TLS";
    }
}

/* "993", or "host:993" when the run covers several hosts. */
static void ep_port(const struct ctx *c, const struct ms_endpoint_result *ep, char *buf, size_t cap)
{
    if (c->one_host)
        put(buf, cap, "%u", (unsigned)ep->port);
    else if (strchr(ep->host, ':'))
        put(buf, cap, "[%s]:%u", ep->host, (unsigned)ep->port);
    else
        put(buf, cap, "%s:%u", ep->host, (unsigned)ep->port);
}

/* "IMAP on 993": how messages name an endpoint. */
static void ep_label(const struct ctx *c, const struct ms_endpoint_result *ep, char *buf,
                     size_t cap)
{
    char port[300];
    ep_port(c, ep, port, sizeof port);
    put(buf, cap, "%s on %s", proto_upper(ep->protocol), port);
}

/* " (evidence)" from the probe's words, or "" when it left none. */
static void evidence(const char *words, char *buf, size_t cap)
{
    if (words && words[0])
        put(buf, cap, " (%s)", words);
    else
        buf[0] = '\0';
}

static const char *phase_words(enum ms_phase p)
{
    switch (p) {
    case MS_PHASE_RESOLVE: return "while its name was resolved";
    case MS_PHASE_CONNECT: return "while connecting";
    case MS_PHASE_TLS: return "during the TLS handshake";
    case MS_PHASE_GREETING: return "before its greeting";
    case MS_PHASE_CAPABILITY: return "while listing its capabilities";
    case MS_PHASE_STARTTLS: return "in answer to STARTTLS";
    case MS_PHASE_LOGOUT: return "while logging out";
    default: return "at the end of the session";
    }
}

/* The value of "CN=" in an RFC 2253 name, or the whole name when it has none. */
static void name_cn(const char *dn, char *buf, size_t cap)
{
    const char *p = dn;
    while (p && *p) {
        if (strncasecmp(p, "CN=", 3) == 0 && (p == dn || p[-1] == ',')) {
            p += 3;
            size_t n = 0;
            /* stop at an unescaped comma */
            while (p[n] && !(p[n] == ',' && (n == 0 || p[n - 1] != '\\')))
                n++;
            put(buf, cap, "%.*s", (int)(n > 255 ? 255 : n), p);
            return;
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
    put(buf, cap, "%s", dn[0] ? dn : "(no subject)");
}

/* The names a certificate covers, "a, b, c", from its SANs (prefix dropped), else its CN. */
static void cert_names(const struct ms_cert_facts *cert, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < cert->san.count; i++) {
        const char *s = cert->san.items[i];
        if (strncasecmp(s, "DNS:", 4) == 0 || strncmp(s, "IP:", 3) == 0)
            s = strchr(s, ':') + 1;
        app(buf, cap, "%s%s", i ? ", " : "", s);
    }
    if (!buf[0]) {
        if (cert->subject[0]) {
            char cn[256];
            name_cn(cert->subject, cn, sizeof cn);
            put(buf, cap, "%s (subject only, no alternative names)", cn);
        } else {
            put(buf, cap, "no names at all");
        }
    }
}

/* Capabilities joined by spaces, for evidence. */
static void caps_line(const struct ms_strlist *caps, const char *sep, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < caps->count; i++)
        app(buf, cap, "%s%s", i ? sep : "", caps->items[i]);
    if (!buf[0])
        put(buf, cap, "(none)");
}

/* ---- findings ---------------------------------------------------------------------- */

static struct ms_finding *add(struct ctx *c, enum ms_severity sev, const char *code, long idx)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct ms_finding *f = realloc(c->f, cap * sizeof *f);
        if (!f)
            return NULL;
        c->f = f;
        c->cap = cap;
    }
    struct ms_finding *f = &c->f[c->n++];
    memset(f, 0, sizeof *f);
    f->severity = sev;
    f->code = code;
    f->endpoint_index = idx;
    f->endpoint = idx >= 0 ? c->r->endpoints[idx].id : NULL;
    return f;
}

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

/* The secure siblings of endpoint i (same protocol), as "995" or "995 and 1995"; returns
 * how many there are. The first one's security goes to *first. */
static size_t secure_siblings(const struct ctx *c, size_t i, char *buf, size_t cap,
                              const struct ms_endpoint_result **first)
{
    const struct ms_result *r = c->r;
    size_t count = 0, total = 0;
    for (size_t j = 0; j < r->endpoint_count; j++)
        if (j != i && r->endpoints[j].protocol == r->endpoints[i].protocol &&
            ms_assess_endpoint_secure(&r->endpoints[j]))
            total++;
    buf[0] = '\0';
    *first = NULL;
    for (size_t j = 0; j < r->endpoint_count; j++) {
        const struct ms_endpoint_result *s = &r->endpoints[j];
        if (j == i || s->protocol != r->endpoints[i].protocol || !ms_assess_endpoint_secure(s))
            continue;
        char port[300];
        ep_port(c, s, port, sizeof port);
        count++;
        app(buf, cap, "%s%s", count == 1 ? "" : count == total ? " and " : ", ", port);
        if (!*first)
            *first = s;
    }
    return count;
}

/* The port of an implicit-TLS endpoint of the same protocol to recommend instead. */
static unsigned implicit_port(const struct ctx *c, enum ms_protocol p)
{
    for (size_t j = 0; j < c->r->endpoint_count; j++) {
        const struct ms_endpoint_result *s = &c->r->endpoints[j];
        if (s->protocol == p && s->security == MS_SECURITY_IMPLICIT)
            return s->port;
    }
    return p == MS_PROTOCOL_IMAP ? 993 : 995;
}

/* A bare host's endpoint that is merely closed while a sibling works: info, not an alarm. */
static int judge_closed_sibling(struct ctx *c, long i, const char *code)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_endpoint_result *first = NULL;
    char sibs[320], lab[320], ev[300];
    size_t n = secure_siblings(c, (size_t)i, sibs, sizeof sibs, &first);
    if (n == 0)
        return 1; /* no sibling works: not this rule */
    struct ms_finding *f = add(c, MS_SEVERITY_INFO, code, i);
    if (!f)
        return MS_ENOMEM;
    ep_label(c, ep, lab, sizeof lab);
    evidence(ep->failure_message, ev, sizeof ev);
    bool dns = strncmp(code, "dns.", 4) == 0;
    put(f->message, sizeof f->message, "%s %s; %s on %s %s%s.", lab,
        dns ? "does not resolve" : "is closed", proto_upper(ep->protocol), sibs,
        n == 1 ? "works" : "work", ev);
    put(f->remedy, sizeof f->remedy,
        "Nothing to do if port %u is closed on purpose: mail programs should use %s (%s). "
        "If port %u should work, check that the server listens on it and that the firewall "
        "allows it.",
        (unsigned)ep->port, sibs, security_words(first->security), (unsigned)ep->port);
    return 0;
}

static int judge_failure(struct ctx *c, long i)
{
    const struct ms_result *r = c->r;
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    const char *code = ms_assess_failure_code(ep->failure);
    char lab[320], ev[300];
    unsigned port = ep->port;

    if (!code)
        return 0;
    if (r->bare_host && !ep->required && is_closure(ep->failure)) {
        int rc = judge_closed_sibling(c, i, code);
        if (rc <= 0)
            return rc;
    }

    ep_label(c, ep, lab, sizeof lab);
    evidence(ep->failure_message, ev, sizeof ev);

    /* A session that worked and only stumbled while saying goodbye is not an alarm. */
    if (ep->completed_securely &&
        (ep->failure_phase == MS_PHASE_LOGOUT || ep->failure_phase == MS_PHASE_DONE) &&
        ep->failure != MS_FAILURE_INTERNAL) {
        struct ms_finding *f = add(c, MS_SEVERITY_INFO, code, i);
        if (!f)
            return MS_ENOMEM;
        put(f->message, sizeof f->message,
            "%s did not end the session cleanly %s%s; the session itself worked.", lab,
            phase_words(ep->failure_phase), ev);
        put(f->remedy, sizeof f->remedy,
            "Nothing to do for users. Admins may check the server logs for errors at "
            "logout.");
        return 0;
    }

    struct ms_finding *f = add(c, MS_SEVERITY_CRITICAL, code, i);
    if (!f)
        return MS_ENOMEM;
    char *m = f->message, *rm = f->remedy;
    size_t mc = sizeof f->message, rc = sizeof f->remedy;
    const char *cmd = starttls_cmd(ep->protocol);
    /* The resolver's words already name the host: they are the message, not an echo. */
    bool dns_says_all = ep->failure <= MS_FAILURE_DNS_ERROR && ep->failure_message[0] &&
                        ep->host[0] && strstr(ep->failure_message, ep->host);

    switch (ep->failure) {
    case MS_FAILURE_DNS_NO_SUCH_HOST:
        if (dns_says_all)
            put(m, mc, "%s: %s.", lab, ep->failure_message);
        else
            put(m, mc, "%s: the name %s does not exist in DNS (NXDOMAIN)%s.", lab, ep->host, ev);
        put(rm, rc,
            "Check the spelling of %s. If it is right, add an A and/or AAAA record for it at "
            "the domain's DNS provider.",
            ep->host);
        break;
    case MS_FAILURE_DNS_NO_ADDRESS:
        if (dns_says_all)
            put(m, mc, "%s: %s.", lab, ep->failure_message);
        else
            put(m, mc,
                "%s: the name %s exists in DNS but has no address (no A or AAAA "
                "record)%s.",
                lab, ep->host, ev);
        put(rm, rc,
            "Add an A (IPv4) and/or AAAA (IPv6) record for %s at the DNS provider. If -4 or "
            "-6 was given, try without it.",
            ep->host);
        break;
    case MS_FAILURE_DNS_TIMEOUT:
        if (dns_says_all)
            put(m, mc, "%s: %s.", lab, ep->failure_message);
        else
            put(m, mc, "%s: DNS did not answer in time for %s%s.", lab, ep->host, ev);
        put(rm, rc,
            "Check this machine's DNS resolver (/etc/resolv.conf) and network, then try "
            "again; --resolve %s:ADDRESS bypasses DNS to test the server itself.",
            ep->host);
        break;
    case MS_FAILURE_DNS_ERROR:
        if (dns_says_all)
            put(m, mc, "%s: %s.", lab, ep->failure_message);
        else
            put(m, mc, "%s: resolving %s failed%s.", lab, ep->host, ev);
        put(rm, rc,
            "Check the DNS servers of the domain: a SERVFAIL often means broken DNSSEC or "
            "unreachable name servers. Ask the DNS provider, or test the server with "
            "--resolve %s:ADDRESS.",
            ep->host);
        break;
    case MS_FAILURE_TCP_REFUSED:
        put(m, mc, "%s: %s refused the connection%s.", lab, ep->address[0] ? ep->address : ep->host,
            ev);
        put(rm, rc,
            "Check that the mail server runs and listens on port %u, and that port %u is open "
            "in the firewall.",
            port, port);
        break;
    case MS_FAILURE_TCP_TIMEOUT:
        put(m, mc, "%s: no answer when connecting to port %u of %s%s.", lab, port, ep->host, ev);
        put(rm, rc,
            "A firewall probably drops port %u: open it in the server's and the network's "
            "firewall, and check that the server is up and %s points to it.",
            port, ep->host);
        break;
    case MS_FAILURE_TCP_UNREACHABLE:
        put(m, mc, "%s: the network or host is unreachable%s.", lab, ev);
        put(rm, rc,
            "Check this machine's network connection and its route to %s (VPN, IPv6 "
            "connectivity: try -4).",
            ep->host);
        break;
    case MS_FAILURE_TLS_HANDSHAKE: {
        char hs[300];
        evidence(ep->tls.handshake_error[0] ? ep->tls.handshake_error : ep->failure_message, hs,
                 sizeof hs);
        put(m, mc, "%s: the TLS handshake failed%s.", lab, hs);
        if (ep->security == MS_SECURITY_IMPLICIT)
            put(rm, rc,
                "Check the server's TLS setup on port %u: a certificate and key must be "
                "configured and TLS 1.2 or 1.3 enabled. On port %u the server must speak TLS "
                "from the first byte (implicit TLS), not plaintext.",
                port, port);
        else
            put(rm, rc,
                "Check the server's TLS setup: a certificate and key must be configured and "
                "TLS 1.2 or 1.3 enabled. The server agreed to %s but could not complete the "
                "handshake.",
                cmd);
        break;
    }
    case MS_FAILURE_TLS_TIMEOUT:
        put(m, mc, "%s: the TLS handshake did not finish in time%s.", lab, ev);
        put(rm, rc,
            "Check the server's load and logs; a firewall or proxy may block TLS on port %u. "
            "If the server is just slow, try a larger --timeout.",
            port);
        break;
    case MS_FAILURE_STARTTLS_NOT_OFFERED: {
        char caps[400];
        if (ep->caps_before_tls_read) {
            caps_line(&ep->caps_before_tls, " ", caps, sizeof caps);
            put(m, mc,
                "%s does not offer %s, so passwords and mail would cross the network "
                "unencrypted; its capabilities before TLS are: %s.",
                lab, cmd, caps);
        } else {
            put(m, mc,
                "%s does not offer %s, so passwords and mail would cross the network "
                "unencrypted%s.",
                lab, cmd, ev);
        }
        put(rm, rc,
            "Enable TLS for port %u on the server (e.g. Dovecot: ssl = required with ssl_cert "
            "and ssl_key), or close port %u and configure mail programs for port %u with "
            "implicit TLS.",
            port, port, implicit_port(c, ep->protocol));
        break;
    }
    case MS_FAILURE_STARTTLS_REFUSED:
        put(m, mc, "%s refused %s: the server answered \"%s\".", lab, cmd,
            ep->starttls_response[0] ? ep->starttls_response
            : ep->failure_message[0] ? ep->failure_message
                                     : "(nothing)");
        put(rm, rc,
            "The server advertises %s but cannot start TLS: usually its certificate or key "
            "is missing or unreadable. Check the server's TLS configuration and logs; "
            "meanwhile use port %u (implicit TLS).",
            cmd, implicit_port(c, ep->protocol));
        break;
    case MS_FAILURE_STARTTLS_INJECTED:
        put(m, mc,
            "%s sent data right after agreeing to %s, before the TLS handshake: a "
            "STARTTLS injection attack or a broken middlebox. mailscope stopped, as a mail "
            "program should%s.",
            lab, cmd, ev);
        put(rm, rc,
            "Look for a firewall, proxy or antivirus that inspects mail traffic on port %u "
            "and turn its mail inspection off; update the mail server. Until then use port "
            "%u (implicit TLS).",
            port, implicit_port(c, ep->protocol));
        break;
    case MS_FAILURE_PROTO_BYE:
        put(m, mc, "%s said BYE instead of serving the session %s%s.", lab,
            phase_words(ep->failure_phase), ev);
        put(rm, rc,
            "Read the server's words: common causes are too many connections from one "
            "address, a server shutting down, or the service being disabled. Check the "
            "server logs.");
        break;
    case MS_FAILURE_PROTO_PREAUTH:
        put(m, mc,
            "%s greeted with PREAUTH on a plaintext connection: it signed the client "
            "in without a password and before TLS, so STARTTLS cannot protect the session%s.",
            lab, ev);
        put(rm, rc,
            "Turn off pre-authentication for connections from untrusted networks (it belongs "
            "to trusted local setups only), or use port %u (implicit TLS).",
            implicit_port(c, ep->protocol));
        break;
    case MS_FAILURE_PROTO_UNEXPECTED_GREETING:
        if (ep->greeting[0])
            put(m, mc, "%s did not greet like a %s server: it sent \"%s\"%s.", lab,
                proto_upper(ep->protocol), ep->greeting, ev);
        else
            put(m, mc, "%s did not greet like a %s server%s.", lab, proto_upper(ep->protocol), ev);
        put(rm, rc,
            "Check that port %u runs a %s server and not another service; check the port "
            "numbers (--ports) and any proxy in front of the server.",
            port, proto_upper(ep->protocol));
        break;
    case MS_FAILURE_PROTO_MALFORMED:
        put(m, mc, "%s sent a response that breaks the %s protocol %s%s.", lab,
            proto_upper(ep->protocol), phase_words(ep->failure_phase), ev);
        put(rm, rc,
            "Check the server software and its version, and any proxy or firewall that "
            "rewrites mail traffic; mailscope --trace shows the exact exchange.");
        break;
    case MS_FAILURE_PROTO_CLOSED:
        put(m, mc, "%s closed the connection %s%s.", lab, phase_words(ep->failure_phase), ev);
        put(rm, rc,
            "Check the server logs for why it drops the connection (limits on connections "
            "per address, TLS or configuration errors, crashes).");
        break;
    case MS_FAILURE_PROTO_TIMEOUT:
        put(m, mc, "%s stopped answering %s%s.", lab, phase_words(ep->failure_phase), ev);
        put(rm, rc,
            "Check the server's load and logs; a firewall may cut the connection. If the "
            "server is just slow, try a larger --timeout.");
        break;
    default:
        put(m, mc, "mailscope could not finish checking %s because of a local error%s.", lab, ev);
        put(rm, rc,
            "Run mailscope again; if it happens again, report a bug with the output of "
            "--trace.");
        break;
    }
    return 0;
}

static bool has_verify_error(const struct ms_tls_facts *t, int code)
{
    for (size_t k = 0; k < t->verify_error_count && k < MS_MAX_VERIFY_ERRORS; k++)
        if (t->verify_errors[k] == code)
            return true;
    return false;
}

static bool is_expiry_or_name_error(int e)
{
    return e == 0 || e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID ||
           e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_EMAIL_MISMATCH ||
           e == X509_V_ERR_IP_ADDRESS_MISMATCH;
}

/* Plain words for the verification errors that are neither dates nor names. */
static const char *verify_words(int e)
{
    switch (e) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: return "the certificate is self-signed";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return "the chain ends in an untrusted self-signed root";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
        return "its issuer is unknown here (an unknown CA, or the server omits intermediates)";
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return "the chain is incomplete (the server omits intermediate certificates)";
    case X509_V_ERR_CERT_REVOKED: return "the certificate has been revoked";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return "a signature in the chain is invalid";
    case X509_V_ERR_EE_KEY_TOO_SMALL: return "the certificate's key is too small";
    case X509_V_ERR_CA_KEY_TOO_SMALL: return "the CA's key is too small";
    case X509_V_ERR_CA_MD_TOO_WEAK: return "the chain uses a too weak signature algorithm";
    case X509_V_ERR_INVALID_CA: return "an issuer in the chain is not a valid CA";
    case X509_V_ERR_INVALID_PURPOSE: return "the certificate is not meant for TLS servers";
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED: return "the root CA is not trusted for this purpose";
    default: return NULL;
    }
}

static int judge_untrusted(struct ctx *c, long i, bool other_cert_finding)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_tls_facts *t = &ep->tls;
    int first = 0;
    for (size_t k = 0; k < t->verify_error_count && k < MS_MAX_VERIFY_ERRORS; k++)
        if (!is_expiry_or_name_error(t->verify_errors[k])) {
            first = t->verify_errors[k];
            break;
        }
    bool no_cert = t->established && !t->has_certificate && !t->verified;
    /* Not verified, and nothing else explains it: say so rather than stay silent. */
    bool unexplained = t->established && !t->verified && !other_cert_finding && !first;
    if (!first && !no_cert && !unexplained)
        return 0;

    struct ms_finding *f = add(c, MS_SEVERITY_CRITICAL, "tls.cert_untrusted", i);
    if (!f)
        return MS_ENOMEM;
    char lab[320], subj[256], issuer[256];
    ep_label(c, ep, lab, sizeof lab);
    name_cn(t->cert.subject, subj, sizeof subj);
    name_cn(t->cert.issuer, issuer, sizeof issuer);
    const char *words = verify_words(first);

    if (no_cert) {
        put(f->message, sizeof f->message,
            "%s sent no certificate, so mail programs cannot tell it is the real server.", lab);
    } else if (first == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
               first == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN) {
        put(f->message, sizeof f->message,
            "The certificate of %s is not trusted: %s (subject %s, issuer %s); mail programs "
            "will refuse it or warn.",
            lab, words, subj, issuer);
    } else if (words) {
        put(f->message, sizeof f->message,
            "The certificate of %s is not trusted: %s (subject %s, issuer %s).", lab, words, subj,
            issuer);
    } else {
        put(f->message, sizeof f->message,
            "The certificate of %s could not be verified: %s (subject %s, issuer %s).", lab,
            t->verify_error[0] ? t->verify_error : "no reason given", subj, issuer);
    }

    if (first == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
        first == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
        put(f->remedy, sizeof f->remedy,
            "Replace the certificate for %s with one from a public CA (e.g. Let's Encrypt). "
            "With a private CA, install the CA on every client and pass --ca-file to "
            "mailscope.",
            ep->host);
    else if (first == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
             first == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
             first == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
        put(f->remedy, sizeof f->remedy,
            "Configure the server to send the full chain: its certificate plus the CA's "
            "intermediate certificates (e.g. fullchain.pem, not cert.pem), then reload it. "
            "With a private CA, install the CA on every client and pass --ca-file to "
            "mailscope.");
    else
        put(f->remedy, sizeof f->remedy,
            "Install a valid certificate for %s from a trusted CA, with its full chain, and "
            "reload the mail server.",
            ep->host);
    return 0;
}

static int judge_cert(struct ctx *c, long i)
{
    const struct ms_result *r = c->r;
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    const struct ms_tls_facts *t = &ep->tls;
    const struct ms_cert_facts *cert = &t->cert;
    char lab[320];
    struct ms_finding *f;

    if (!t->attempted || (!t->has_certificate && t->verify_error_count == 0 && !t->established))
        return 0;
    ep_label(c, ep, lab, sizeof lab);

    bool leaf_expired = t->has_certificate &&
                        (cert->days_left < 0 || (r->started_at > 0 && cert->not_after_epoch > 0 &&
                                                 cert->not_after_epoch <= r->started_at));
    bool expired = leaf_expired || has_verify_error(t, X509_V_ERR_CERT_HAS_EXPIRED);
    bool nyv = has_verify_error(t, X509_V_ERR_CERT_NOT_YET_VALID) ||
               (t->has_certificate && r->started_at > 0 && cert->not_before_epoch > r->started_at);
    /* hostname_match is only trusted from a completed handshake; before that, only
     * OpenSSL's own verdict counts. */
    bool mismatch = has_verify_error(t, X509_V_ERR_HOSTNAME_MISMATCH) ||
                    has_verify_error(t, X509_V_ERR_IP_ADDRESS_MISMATCH) ||
                    (t->has_certificate && t->established && !cert->hostname_match);

    if (expired) {
        if (!(f = add(c, MS_SEVERITY_CRITICAL, "tls.cert_expired", i)))
            return MS_ENOMEM;
        if (!t->has_certificate) {
            put(f->message, sizeof f->message,
                "The certificate of %s has expired (%s); mail programs will refuse to connect.",
                lab, t->verify_error[0] ? t->verify_error : "certificate has expired");
            put(f->remedy, sizeof f->remedy,
                "Renew the certificate for %s; until then mail programs will refuse to "
                "connect. Then reload the mail server so it uses the new one.",
                ep->host);
        } else if (leaf_expired) {
            long ago = cert->days_left < 0 ? -cert->days_left : 0;
            put(f->message, sizeof f->message,
                "The certificate of %s expired on %s (%ld day%s ago); mail programs will "
                "refuse to connect.",
                lab, cert->not_after[0] ? cert->not_after : "(unknown)", ago, ago == 1 ? "" : "s");
            put(f->remedy, sizeof f->remedy,
                "Renew the certificate for %s (expired %.10s); until then mail programs will "
                "refuse to connect. Then reload the mail server so it uses the new one.",
                ep->host, cert->not_after[0] ? cert->not_after : "unknown");
        } else {
            put(f->message, sizeof f->message,
                "A certificate in the chain sent by %s has expired (%s); the server's own "
                "certificate is valid until %s.",
                lab, t->verify_error[0] ? t->verify_error : "certificate has expired",
                cert->not_after);
            put(f->remedy, sizeof f->remedy,
                "Install the CA's current intermediate certificate(s) in the server's chain "
                "file (e.g. fullchain.pem) and reload the mail server.");
        }
    }
    if (nyv) {
        if (!(f = add(c, MS_SEVERITY_CRITICAL, "tls.cert_not_yet_valid", i)))
            return MS_ENOMEM;
        put(f->message, sizeof f->message,
            "The certificate of %s is not valid yet: it starts on %s.", lab,
            cert->not_before[0] ? cert->not_before : "(unknown)");
        put(f->remedy, sizeof f->remedy,
            "Check the clocks of this machine and of the server. If both are right, install "
            "a certificate for %s that is valid now.",
            ep->host);
    }
    if (mismatch) {
        char names[400];
        cert_names(cert, names, sizeof names);
        if (!(f = add(c, MS_SEVERITY_CRITICAL, "tls.cert_hostname_mismatch", i)))
            return MS_ENOMEM;
        if (t->has_certificate)
            put(f->message, sizeof f->message,
                "The certificate of %s does not cover the name %s: it is for %s.", lab, ep->host,
                names);
        else
            put(f->message, sizeof f->message, "The certificate of %s does not cover the name %s.",
                lab, ep->host);
        put(f->remedy, sizeof f->remedy,
            "Install a certificate whose subject alternative names include %s, or configure "
            "mail programs with a name the certificate covers%s%s%s.",
            ep->host, t->has_certificate && cert->san.count ? " (" : "",
            t->has_certificate && cert->san.count ? names : "",
            t->has_certificate && cert->san.count ? ")" : "");
    }
    int rc = judge_untrusted(c, i, expired || nyv || mismatch);
    if (rc)
        return rc;

    if (t->has_certificate && !expired && c->warn_days > 0 && cert->days_left < c->warn_days) {
        if (!(f = add(c, MS_SEVERITY_WARNING, "tls.cert_expires_soon", i)))
            return MS_ENOMEM;
        if (cert->days_left == 0)
            put(f->message, sizeof f->message, "The certificate of %s expires today (%s).", lab,
                cert->not_after);
        else
            put(f->message, sizeof f->message, "The certificate of %s expires on %s, in %ld day%s.",
                lab, cert->not_after, cert->days_left, cert->days_left == 1 ? "" : "s");
        put(f->remedy, sizeof f->remedy,
            "Renew the certificate for %s before %.10s, check that automatic renewal (e.g. "
            "certbot) works, and that the mail server reloads the renewed certificate.",
            ep->host, cert->not_after);
    }
    return 0;
}

static int judge_tls_version(struct ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const char *v = ep->tls.version;
    if (!ep->tls.established)
        return 0;
    bool ssl = strcmp(v, "SSLv3") == 0 || strcmp(v, "SSLv2") == 0;
    if (!ssl && strcmp(v, "TLSv1") != 0 && strcmp(v, "TLSv1.1") != 0)
        return 0;
    /* SSL is broken outright; TLS 1.0/1.1 still encrypts but mail programs drop it. */
    struct ms_finding *f =
        add(c, ssl ? MS_SEVERITY_CRITICAL : MS_SEVERITY_WARNING, "tls.protocol_outdated", i);
    if (!f)
        return MS_ENOMEM;
    char lab[320];
    ep_label(c, ep, lab, sizeof lab);
    put(f->message, sizeof f->message,
        "%s negotiated %s, an outdated protocol version that current mail programs refuse; "
        "TLS 1.2 or 1.3 is expected.",
        lab, v);
    put(f->remedy, sizeof f->remedy,
        "Enable TLS 1.2 and 1.3 on the server and make them the minimum (Dovecot: "
        "ssl_min_protocol = TLSv1.2); update the server's OpenSSL if it lacks them.");
    return 0;
}

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

/* POP3: the CAPA line whose first word is name, or NULL. */
static const char *pop3_cap(const struct ms_strlist *caps, const char *name)
{
    size_t nl = strlen(name);
    for (size_t k = 0; k < caps->count; k++) {
        const char *s = caps->items[k];
        if (strncasecmp(s, name, nl) == 0 && (s[nl] == '\0' || s[nl] == ' '))
            return s;
    }
    return NULL;
}

static int judge_plaintext_login(struct ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_strlist *caps = &ep->caps_before_tls;
    char lab[320], how[400];

    if (ep->security == MS_SECURITY_IMPLICIT || !ep->caps_before_tls_read)
        return 0;
    if (ep->protocol == MS_PROTOCOL_IMAP) {
        if (ms_strlist_has(caps, "LOGINDISABLED"))
            return 0;
        put(how, sizeof how,
            "its capabilities before TLS lack LOGINDISABLED, so the LOGIN "
            "command is allowed");
        bool plain = ms_strlist_has(caps, "AUTH=PLAIN"), login = ms_strlist_has(caps, "AUTH=LOGIN");
        if (plain || login)
            app(how, sizeof how, ", and they offer%s%s", plain ? " AUTH=PLAIN" : "",
                login ? " AUTH=LOGIN" : "");
    } else {
        const char *user = pop3_cap(caps, "USER");
        const char *sasl = pop3_cap(caps, "SASL");
        bool sasl_pw = sasl && (line_has_word(sasl, "PLAIN") || line_has_word(sasl, "LOGIN"));
        if (!user && !sasl_pw)
            return 0;
        put(how, sizeof how, "before STLS it offers %s%s%s", user ? "USER" : "",
            user && sasl_pw ? " and " : "", sasl_pw ? sasl : "");
    }
    struct ms_finding *f = add(c, MS_SEVERITY_WARNING, "auth.plaintext_login_allowed", i);
    if (!f)
        return MS_ENOMEM;
    ep_label(c, ep, lab, sizeof lab);
    put(f->message, sizeof f->message,
        "%s lets mail programs send a password before TLS: %s. A misconfigured mail program "
        "would send the password unencrypted.",
        lab, how);
    put(f->remedy, sizeof f->remedy,
        "Refuse password sign-in before TLS on the server (Dovecot 2.3: "
        "disable_plaintext_auth = yes; 2.4: auth_allow_cleartext = no), and configure mail "
        "programs for %s or port %u (implicit TLS).",
        starttls_cmd(ep->protocol), implicit_port(c, ep->protocol));
    return 0;
}

static int judge_misc(struct ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    char lab[320];
    struct ms_finding *f;

    ep_label(c, ep, lab, sizeof lab);
    if (ep->alerts_ignored_before_tls > 0) {
        if (!(f = add(c, MS_SEVERITY_INFO, "proto.alert_ignored", i)))
            return MS_ENOMEM;
        put(f->message, sizeof f->message,
            "%s sent %d [ALERT] message%s before TLS; mailscope ignored %s, because anyone on "
            "the network path could have injected %s.",
            lab, ep->alerts_ignored_before_tls, ep->alerts_ignored_before_tls == 1 ? "" : "s",
            ep->alerts_ignored_before_tls == 1 ? "it" : "them",
            ep->alerts_ignored_before_tls == 1 ? "it" : "them");
        put(f->remedy, sizeof f->remedy,
            "Nothing to do for users. Admins who want users to see an alert should send it "
            "after TLS is up.");
    }
    /* A session that ran without TLS at all (security none) worked, but not securely. */
    if (ep->security == MS_SECURITY_NONE && ep->failure == MS_FAILURE_NONE &&
        !ep->completed_securely) {
        if (!(f = add(c, MS_SEVERITY_CRITICAL, "tls.not_used", i)))
            return MS_ENOMEM;
        put(f->message, sizeof f->message,
            "%s was used without TLS: passwords and mail would cross the network unencrypted.",
            lab);
        put(f->remedy, sizeof f->remedy,
            "Configure mail programs for port %u (implicit TLS) or for %s, never for "
            "plaintext.",
            implicit_port(c, ep->protocol), starttls_cmd(ep->protocol));
    }
    return 0;
}

/* ---- ordering and statuses ----------------------------------------------------------- */

/* Worst first; then endpoint order (findings about no endpoint first); then code. */
static int finding_cmp(const struct ms_finding *a, const struct ms_finding *b)
{
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    if (a->endpoint_index != b->endpoint_index)
        return a->endpoint_index < b->endpoint_index ? -1 : 1;
    return strcmp(a->code, b->code);
}

/* Insertion sort: stable, and the lists are short. */
static void sort_findings(struct ms_finding *f, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct ms_finding tmp = f[i];
        size_t j = i;
        while (j > 0 && finding_cmp(&f[j - 1], &tmp) > 0) {
            f[j] = f[j - 1];
            j--;
        }
        f[j] = tmp;
    }
}

static bool is_internal(const struct ms_finding *f)
{
    return strcmp(f->code, "internal.error") == 0;
}

/* Status accumulator: the worst severity seen, where an internal error (we could not
 * judge) makes it unknown unless something is critical anyway. */
struct status_acc {
    enum ms_status worst;
    bool internal;
};

static void acc_add(struct status_acc *s, const struct ms_finding *f)
{
    if (is_internal(f)) {
        s->internal = true;
        return;
    }
    enum ms_status st = f->severity == MS_SEVERITY_CRITICAL  ? MS_STATUS_CRITICAL
                        : f->severity == MS_SEVERITY_WARNING ? MS_STATUS_WARNING
                                                             : MS_STATUS_OK;
    if (st > s->worst)
        s->worst = st;
}

static enum ms_status acc_status(const struct status_acc *s)
{
    if (s->internal && s->worst != MS_STATUS_CRITICAL)
        return MS_STATUS_UNKNOWN;
    return s->worst;
}

/* A short phrase for why an endpoint is not usable, from a finding code. */
static const char *reason_words(const char *code)
{
    static const struct {
        const char *code, *words;
    } tab[] = {
        {"dns.no_such_host", "does not resolve (no such host)"},
        {"dns.no_address", "has no address in DNS"},
        {"dns.timeout", "could not be resolved in time"},
        {"dns.error", "could not be resolved"},
        {"tcp.refused", "refused the connection"},
        {"tcp.timeout", "did not answer (connection timed out)"},
        {"tcp.unreachable", "is unreachable"},
        {"tls.handshake_failed", "failed the TLS handshake"},
        {"tls.timeout", "timed out in the TLS handshake"},
        {"tls.cert_expired", "has an expired certificate"},
        {"tls.cert_not_yet_valid", "has a certificate that is not valid yet"},
        {"tls.cert_hostname_mismatch", "has a certificate for another name"},
        {"tls.cert_untrusted", "has an untrusted certificate"},
        {"tls.protocol_outdated", "uses an outdated TLS version"},
        {"tls.not_used", "does not use TLS"},
        {"starttls.not_offered", "does not offer STARTTLS"},
        {"starttls.refused", "refused STARTTLS"},
        {"starttls.injected_data", "injected data after STARTTLS"},
        {"proto.bye", "said BYE"},
        {"proto.preauth_without_tls", "sent PREAUTH before TLS"},
        {"proto.unexpected_greeting", "sent an unexpected greeting"},
        {"proto.malformed_response", "sent a malformed response"},
        {"proto.closed", "closed the connection"},
        {"proto.timeout", "stopped answering"},
        {"internal.error", "could not be checked (internal error)"},
    };
    for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++)
        if (strcmp(tab[k].code, code) == 0)
            return tab[k].words;
    return "did not complete securely";
}

/* Why endpoint i is not usable: its session failure, else its worst certificate or TLS
 * finding (a->findings is sorted). */
static const char *endpoint_reason(const struct ctx *c, const struct ms_assessment *a, size_t i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const char *code = ms_assess_failure_code(ep->failure);
    if (code)
        return reason_words(code);
    for (size_t k = 0; k < a->finding_count; k++)
        if (a->findings[k].endpoint_index == (long)i &&
            a->findings[k].severity == MS_SEVERITY_CRITICAL)
            return reason_words(a->findings[k].code);
    return reason_words("");
}

static void make_verdict(const struct ctx *c, struct ms_protocol_verdict *v,
                         const struct ms_assessment *a)
{
    const struct ms_result *r = c->r;
    char works[200] = "", broken[200] = "";
    size_t n_works = 0, n_total_works = 0, n_broken = 0, warnings = 0;
    bool tls_up = false;

    for (size_t i = 0; i < r->endpoint_count; i++)
        if (r->endpoints[i].protocol == v->protocol && ms_assess_endpoint_secure(&r->endpoints[i]))
            n_total_works++;
    /* Working endpoints: implicit TLS first (what to recommend), then in endpoint order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &r->endpoints[i];
            char port[300];
            if (ep->protocol != v->protocol || !ms_assess_endpoint_secure(ep) ||
                (ep->security == MS_SECURITY_IMPLICIT) != (pass == 0))
                continue;
            ep_port(c, ep, port, sizeof port);
            n_works++;
            app(works, sizeof works, "%s%s (%s)",
                n_works == 1               ? ""
                : n_works == n_total_works ? " and "
                                           : ", ",
                port, security_words(ep->security));
            for (size_t k = 0; k < a->finding_count; k++)
                if (a->findings[k].endpoint_index == (long)i &&
                    a->findings[k].severity == MS_SEVERITY_WARNING)
                    warnings++;
        }
    }
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        char port[300];
        if (ep->protocol != v->protocol || ms_assess_endpoint_secure(ep))
            continue;
        ep_port(c, ep, port, sizeof port);
        if (ep->tls.established)
            tls_up = true;
        app(broken, sizeof broken, "%s%s%s %s", n_broken ? ", " : "", c->one_host ? "port " : "",
            port, endpoint_reason(c, a, i));
        n_broken++;
    }
    const char *name = proto_upper(v->protocol);
    if (v->available) {
        put(v->summary, sizeof v->summary, "%s works securely on %s", name, works);
        if (warnings)
            app(v->summary, sizeof v->summary, ", with %zu warning%s", warnings,
                warnings == 1 ? "" : "s");
        if (n_broken)
            app(v->summary, sizeof v->summary, "; %s", broken);
        app(v->summary, sizeof v->summary, ".");
    } else if (n_broken) {
        put(v->summary, sizeof v->summary, "%s is not available%s: %s.", name,
            tls_up ? " securely" : "", broken);
    } else {
        put(v->summary, sizeof v->summary, "%s is not available: no endpoint was checked.", name);
    }
}

/* ---- entry points ------------------------------------------------------------------ */

int ms_assess(const struct ms_result *result, const struct ms_assess_options *opt,
              struct ms_assessment *out)
{
    struct ctx c = {.r = result, .warn_days = MS_ASSESS_DEFAULT_CERT_WARN_DAYS, .one_host = true};
    enum ms_status *ep_status = NULL;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (opt)
        c.warn_days = opt->cert_warn_days;
    for (size_t i = 1; i < result->endpoint_count; i++)
        if (strcasecmp(result->endpoints[i].host, result->endpoints[0].host) != 0)
            c.one_host = false;

    for (size_t i = 0; i < result->endpoint_count; i++) {
        long idx = (long)i;
        if ((rc = judge_failure(&c, idx)) || (rc = judge_cert(&c, idx)) ||
            (rc = judge_tls_version(&c, idx)) || (rc = judge_plaintext_login(&c, idx)) ||
            (rc = judge_misc(&c, idx)))
            goto out;
    }

    /* Which protocols get a verdict: the requested ones, and any that was probed. */
    bool want[2] = {result->want_imap, result->want_pop3};
    for (size_t i = 0; i < result->endpoint_count; i++)
        want[result->endpoints[i].protocol == MS_PROTOCOL_IMAP ? 0 : 1] = true;
    for (int p = 0; p < 2; p++) {
        if (!want[p])
            continue;
        struct ms_protocol_verdict *v = &out->verdicts[out->verdict_count++];
        v->protocol = p == 0 ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3;
        bool critical = false;
        for (size_t i = 0; i < result->endpoint_count; i++) {
            if (result->endpoints[i].protocol != v->protocol)
                continue;
            if (ms_assess_endpoint_secure(&result->endpoints[i]))
                v->available = true;
        }
        for (size_t k = 0; k < c.n; k++)
            if (c.f[k].endpoint_index >= 0 &&
                result->endpoints[c.f[k].endpoint_index].protocol == v->protocol &&
                c.f[k].severity == MS_SEVERITY_CRITICAL)
                critical = true;
        /* Unavailable must be critical; say so when no endpoint finding already does. */
        if (!v->available && !critical) {
            struct ms_finding *f = add(&c, MS_SEVERITY_CRITICAL, "proto.unavailable", -1);
            if (!f) {
                rc = MS_ENOMEM;
                goto out;
            }
            put(f->message, sizeof f->message,
                "%s is not available securely: no %s endpoint completed a TLS session with a "
                "verified certificate.",
                proto_upper(v->protocol), proto_upper(v->protocol));
            put(f->remedy, sizeof f->remedy,
                "Offer %s on port %u with implicit TLS (or STARTTLS on port %u) and a valid "
                "certificate; run mailscope --trace to see what the server does.",
                proto_upper(v->protocol), v->protocol == MS_PROTOCOL_IMAP ? 993u : 995u,
                v->protocol == MS_PROTOCOL_IMAP ? 143u : 110u);
        }
    }

    sort_findings(c.f, c.n);

    if (result->endpoint_count) {
        ep_status = calloc(result->endpoint_count, sizeof *ep_status);
        if (!ep_status) {
            rc = MS_ENOMEM;
            goto out;
        }
    }
    struct status_acc all = {MS_STATUS_OK, false};
    for (size_t i = 0; i < result->endpoint_count; i++) {
        struct status_acc s = {MS_STATUS_OK, false};
        for (size_t k = 0; k < c.n; k++)
            if (c.f[k].endpoint_index == (long)i)
                acc_add(&s, &c.f[k]);
        ep_status[i] = acc_status(&s);
    }
    for (size_t k = 0; k < c.n; k++)
        acc_add(&all, &c.f[k]);

    out->findings = c.f;
    out->finding_count = c.n;
    out->endpoint_status = ep_status;
    out->status = acc_status(&all);
    c.f = NULL; /* transferred */
    ep_status = NULL;

    for (size_t p = 0; p < out->verdict_count; p++) {
        struct ms_protocol_verdict *v = &out->verdicts[p];
        struct status_acc s = {MS_STATUS_OK, false};
        for (size_t k = 0; k < out->finding_count; k++) {
            const struct ms_finding *f = &out->findings[k];
            /* proto.unavailable (no endpoint) only exists when !available: covered below */
            if (f->endpoint_index >= 0 &&
                result->endpoints[f->endpoint_index].protocol == v->protocol)
                acc_add(&s, f);
        }
        v->status = acc_status(&s);
        if (!v->available && v->status != MS_STATUS_UNKNOWN)
            v->status = MS_STATUS_CRITICAL;
        make_verdict(&c, v, out);
    }

out:
    free(c.f);
    free(ep_status);
    if (rc) {
        ms_assessment_free(out);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

void ms_assessment_free(struct ms_assessment *a)
{
    if (!a)
        return;
    free(a->findings);
    free(a->endpoint_status);
    a->findings = NULL;
    a->endpoint_status = NULL;
    a->finding_count = 0;
}
