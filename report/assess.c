/* The judge: facts (struct ms_result) in, findings and statuses out. Pure: no sockets,
 * no clock (the probe's started_at is "now"), no output. Every message carries the
 * evidence it was decided on; every remedy says what a helpdesk or an admin can do. */
#include "report/assess.h"

/* Only the X509_V_ERR_* numbers (macros): report/ links no OpenSSL. */
#include <limits.h>
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
    bool one_host;       /* all endpoints share one host: name them by port only */
    bool not_offered[2]; /* by enum ms_protocol: the domain's SRV records say "not offered" */
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

/* Discovery: the domain says the protocol is not offered, so a guessed endpoint of it that
 * is closed is expected, not an alarm. */
static int judge_closed_not_offered(struct ctx *c, long i, const char *code)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    char lab[320], ev[300];
    struct ms_finding *f = add(c, MS_SEVERITY_INFO, code, i);
    if (!f)
        return MS_ENOMEM;
    ep_label(c, ep, lab, sizeof lab);
    evidence(ep->failure_message, ev, sizeof ev);
    put(f->message, sizeof f->message,
        "%s %s%s; expected, since %s says %s is not offered (SRV target '.').", lab,
        strncmp(code, "dns.", 4) == 0 ? "does not resolve" : "is closed", ev,
        c->r->discovery.domain, proto_upper(ep->protocol));
    put(f->remedy, sizeof f->remedy,
        "Nothing to do if %s is meant to be off. If it should work, publish SRV records that "
        "name the server and open port %u.",
        proto_upper(ep->protocol), (unsigned)ep->port);
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
    if ((r->bare_host || r->discovery.performed) && !ep->required && is_closure(ep->failure)) {
        int rc = judge_closed_sibling(c, i, code);
        if (rc <= 0)
            return rc;
        if (c->not_offered[ep->protocol])
            return judge_closed_not_offered(c, i, code);
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
        if (ep->source == MS_SOURCE_SRV && ep->source_name[0]) {
            app(f->message, sizeof f->message,
                " The SRV record %s names this host, so mail programs that follow it will "
                "refuse the connection.",
                ep->source_name);
            app(f->remedy, sizeof f->remedy,
                " Or change the SRV record %s to name a host the certificate covers.",
                ep->source_name);
        }
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

/* One family connects and the other does not (checked on the first address of each, when
 * the host has both): mail programs that pick the broken one first hang or fail. */
static int judge_families(struct ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_family_check *v4 = &ep->ipv4, *v6 = &ep->ipv6;
    if (!v4->tried || !v6->tried)
        return 0;
    bool ok4 = v4->failure == MS_FAILURE_NONE, ok6 = v6->failure == MS_FAILURE_NONE;
    if (ok4 == ok6)
        return 0;
    const struct ms_family_check *good = ok4 ? v4 : v6, *bad = ok4 ? v6 : v4;
    const char *gname = ok4 ? "IPv4" : "IPv6", *bname = ok4 ? "IPv6" : "IPv4";
    const char *code = ms_assess_failure_code(bad->failure);
    char lab[320], ms[48] = "";
    struct ms_finding *f =
        add(c, MS_SEVERITY_WARNING, ok4 ? "tcp.ipv6_unreachable" : "tcp.ipv4_unreachable", i);
    if (!f)
        return MS_ENOMEM;
    ep_label(c, ep, lab, sizeof lab);
    if (good->connect_ms >= 0)
        put(ms, sizeof ms, " in %.1f ms", good->connect_ms);
    put(f->message, sizeof f->message, "%s: %s (%s) connects%s but %s (%s) does not: %s%s%s%s. %s",
        lab, gname, good->address[0] ? good->address : "first address", ms, bname,
        bad->address[0] ? bad->address : "first address",
        bad->message[0] ? bad->message : "no connection", code ? " (" : "", code ? code : "",
        code ? ")" : "",
        ok4 ? "Mail programs that try IPv6 first may hang."
            : "Mail programs that try IPv4 first may hang, and those on networks without IPv6 "
              "cannot connect at all.");
    if (ok4)
        put(f->remedy, sizeof f->remedy,
            "Fix IPv6 for %s: check that its AAAA record (%s) points to the mail server, that "
            "the server listens on port %u over IPv6, and that firewalls and routes let IPv6 "
            "through to that port; or remove the AAAA record.",
            ep->host, bad->address, (unsigned)ep->port);
    else
        put(f->remedy, sizeof f->remedy,
            "Fix IPv4 for %s: check that its A record (%s) points to the mail server, that the "
            "server listens on port %u over IPv4, and that firewalls and routes let IPv4 "
            "through to that port.",
            ep->host, bad->address, (unsigned)ep->port);
    if (bad->failure == MS_FAILURE_TCP_UNREACHABLE)
        app(f->remedy, sizeof f->remedy,
            " \"Unreachable\" can also mean this machine has no %s route: check from another "
            "network.",
            bname);
    return 0;
}

/* The SRV services of a protocol (implicit TLS first). */
static const char *const imap_services[] = {"_imaps._tcp", "_imap._tcp", NULL};
static const char *const pop3_services[] = {"_pop3s._tcp", "_pop3._tcp", NULL};

static const char *const *services_of(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? imap_services : pop3_services;
}

/* True when the SRV query name ("_imaps._tcp.example.com") is of service label. */
static bool query_is_service(const char *name, const char *label)
{
    size_t n = strlen(label);
    return strncasecmp(name, label, n) == 0 && name[n] == '.';
}

/* Some SRV record of protocol p names a real server (a target other than "."). */
static bool srv_names_server(const struct ms_result *r, enum ms_protocol p)
{
    const struct ms_discovery *d = &r->discovery;
    for (size_t k = 0; k < d->candidate_count; k++)
        if (d->candidates[k].source == MS_SOURCE_SRV && d->candidates[k].protocol == p)
            return true;
    for (size_t q = 0; q < d->query_count; q++) {
        const struct ms_dns_query_fact *qf = &d->queries[q];
        if (strcmp(qf->type, "SRV") != 0)
            continue;
        bool ours = false;
        for (const char *const *l = services_of(p); *l; l++)
            if (query_is_service(qf->name, *l))
                ours = true;
        if (!ours)
            continue;
        /* answers are "priority weight port target" */
        for (size_t a = 0; a < qf->answers.count; a++) {
            const char *target = strrchr(qf->answers.items[a], ' ');
            target = target ? target + 1 : qf->answers.items[a];
            if (strcmp(target, ".") != 0 && target[0])
                return true;
        }
    }
    return false;
}

/* Which of p's services the domain declared not offered, as "_pop3._tcp, _pop3s._tcp". */
static size_t not_offered_labels(const struct ms_result *r, enum ms_protocol p, char *buf,
                                 size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *l = services_of(p); *l; l++)
        if (ms_strlist_has(&r->discovery.srv_not_offered, *l))
            app(buf, cap, "%s%s", n++ ? ", " : "", *l);
    return n;
}

/* The domain says p is not offered: some service of it has the SRV target "." and no SRV
 * record of p names a server. Services without SRV records say nothing either way. */
static bool protocol_not_offered(const struct ms_result *r, enum ms_protocol p)
{
    char labels[64];
    return r->discovery.performed && not_offered_labels(r, p, labels, sizeof labels) > 0 &&
           !srv_names_server(r, p);
}

/* The discovery query asking for host's addresses, or NULL. */
static const struct ms_dns_query_fact *host_query(const struct ms_result *r, const char *host)
{
    for (size_t q = 0; q < r->discovery.query_count; q++) {
        const struct ms_dns_query_fact *qf = &r->discovery.queries[q];
        if (strcmp(qf->type, "SRV") != 0 && strcmp(qf->type, "MX") != 0 &&
            strcasecmp(qf->name, host) == 0)
            return qf;
    }
    return NULL;
}

/* Findings about the domain's DNS, not about one endpoint. */
static int judge_discovery(struct ctx *c)
{
    const struct ms_result *r = c->r;
    const struct ms_discovery *d = &r->discovery;
    struct ms_finding *f;
    if (!d->performed)
        return 0;

    for (int p = 0; p < 2; p++) {
        enum ms_protocol proto = p == 0 ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3;
        enum ms_protocol other = p == 0 ? MS_PROTOCOL_POP3 : MS_PROTOCOL_IMAP;
        char labels[64];
        if (not_offered_labels(r, proto, labels, sizeof labels) == 0)
            continue;
        if (!(f = add(c, MS_SEVERITY_INFO, "dns.srv_not_offered", -1)))
            return MS_ENOMEM;
        /* a secure endpoint of it, found another way, although the domain says "no" */
        long works = -1;
        for (size_t i = 0; i < r->endpoint_count && works < 0; i++)
            if (r->endpoints[i].protocol == proto && ms_assess_endpoint_secure(&r->endpoints[i]))
                works = (long)i;
        if (c->not_offered[proto] && works >= 0) {
            const struct ms_endpoint_result *ep = &r->endpoints[works];
            put(f->message, sizeof f->message,
                "%s says %s (%s) is not offered (SRV target '.'), yet %s works on %s:%u (found "
                "by %s); mail programs that follow SRV records will not use it.",
                d->domain, proto_upper(proto), labels, proto_upper(proto), ep->host,
                (unsigned)ep->port, ep->source_name[0] ? ep->source_name : "its name");
            put(f->remedy, sizeof f->remedy,
                "If %s is meant to be offered, replace the '.' record with one that names the "
                "server, e.g. %s.%s. SRV 0 1 %u %s.; if it is meant to be off, turn it off on "
                "the server too.",
                proto_upper(proto),
                services_of(proto)[ep->security == MS_SECURITY_IMPLICIT ? 0 : 1], d->domain,
                (unsigned)ep->port, ep->host);
        } else if (c->not_offered[proto]) {
            put(f->message, sizeof f->message, "%s says %s (%s) is not offered (SRV target '.').",
                d->domain, proto_upper(proto), labels);
            put(f->remedy, sizeof f->remedy,
                "Nothing to do if %s is meant to be off%s%s. If it should work, replace the "
                "'.' record with one that names the server, e.g. %s.%s. SRV 0 1 %u "
                "%s.%s.",
                proto_upper(proto), c->not_offered[other] ? "" : ": mail programs should use ",
                c->not_offered[other] ? "" : proto_upper(other), services_of(proto)[0], d->domain,
                proto == MS_PROTOCOL_IMAP ? 993u : 995u, proto == MS_PROTOCOL_IMAP ? "imap" : "pop",
                d->domain);
        } else {
            put(f->message, sizeof f->message,
                "%s says %s (%s) is not offered (SRV target '.'); other SRV records name %s "
                "servers, so mail programs use those.",
                d->domain, proto_upper(proto), labels, proto_upper(proto));
            put(f->remedy, sizeof f->remedy,
                "Nothing to do if that way of reaching %s is meant to be off (RFC 8314 "
                "recommends implicit TLS on port %u). If it should work, replace the '.' record "
                "with one that names the server.",
                proto_upper(proto), proto == MS_PROTOCOL_IMAP ? 993u : 995u);
        }
    }

    for (size_t k = 0; k < d->srv_unresolvable.count; k++) {
        const char *line = d->srv_unresolvable.items[k]; /* "_imaps._tcp.example.com -> host" */
        const char *arrow = strstr(line, " -> ");
        char service[300], host[300], how[200] = "", port[32] = "";
        if (arrow) {
            put(service, sizeof service, "%.*s", (int)(arrow - line), line);
            put(host, sizeof host, "%s", arrow + 4);
        } else {
            put(service, sizeof service, "an SRV record");
            put(host, sizeof host, "%s", line);
        }
        for (size_t j = 0; j < d->candidate_count; j++) {
            const struct ms_candidate *cd = &d->candidates[j];
            if (cd->source == MS_SOURCE_SRV && strcasecmp(cd->host, host) == 0 &&
                strcasecmp(cd->source_name, service) == 0) {
                put(port, sizeof port, " (port %u)", (unsigned)cd->port);
                break;
            }
        }
        const struct ms_dns_query_fact *qf = host_query(r, host);
        if (qf && strcmp(qf->status, "nxdomain") == 0)
            put(how, sizeof how, "the name does not exist (NXDOMAIN)");
        else if (qf && strcmp(qf->status, "nodata") == 0)
            put(how, sizeof how, "the name has no A or AAAA record");
        else if (qf && strcmp(qf->status, "ok") != 0)
            put(how, sizeof how, "looking it up failed: %s%s%s", qf->status,
                qf->message[0] ? ", " : "", qf->message);
        else
            put(how, sizeof how, "it has no address");
        if (!(f = add(c, MS_SEVERITY_WARNING, "dns.srv_target_unresolvable", -1)))
            return MS_ENOMEM;
        put(f->message, sizeof f->message,
            "%s names %s%s, but %s; mail programs that follow the SRV record cannot connect "
            "there.",
            service, host, port, how);
        put(f->remedy, sizeof f->remedy,
            "Add an A and/or AAAA record for %s, or correct the SRV record %s to name the "
            "mail server's real host name (an existing name, not an alias).",
            host, service);
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

/* Discovery found no endpoint of p to probe: why, from its candidates. */
static void no_server_words(const struct ctx *c, enum ms_protocol p, char *buf, size_t cap)
{
    const struct ms_discovery *d = &c->r->discovery;
    size_t n = 0, unresolved = 0;
    const char *reason = NULL, *first = "";
    for (size_t k = 0; k < d->candidate_count; k++) {
        const struct ms_candidate *cd = &d->candidates[k];
        if (cd->protocol != p)
            continue;
        if (n++ == 0)
            first = cd->host;
        if (strcmp(cd->dropped, "does not resolve") == 0)
            unresolved++;
        else if (cd->dropped[0] && !reason)
            reason = cd->dropped;
    }
    if (n == 0)
        put(buf, cap, "no server was found (no candidate from SRV, MX or conventional names)");
    else if (unresolved == n && n == 1)
        put(buf, cap, "no server was found (the only candidate, %s, does not resolve)", first);
    else if (unresolved == n)
        put(buf, cap, "no server was found (none of the %zu candidates resolves)", n);
    else
        put(buf, cap, "no server was found (candidates not probed: %s)",
            reason ? reason : "unknown reason");
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
    const char *domain = r->discovery.performed ? r->discovery.domain : "";
    if (v->available) {
        put(v->summary, sizeof v->summary, "%s works securely on %s", name, works);
        if (warnings)
            app(v->summary, sizeof v->summary, ", with %zu warning%s", warnings,
                warnings == 1 ? "" : "s");
        if (n_broken)
            app(v->summary, sizeof v->summary, "; %s", broken);
        app(v->summary, sizeof v->summary, ".");
    } else if (v->not_offered) {
        char labels[64];
        not_offered_labels(r, v->protocol, labels, sizeof labels);
        put(v->summary, sizeof v->summary, "%s is not offered by %s (%s SRV target '.')", name,
            domain, labels);
        if (n_broken)
            app(v->summary, sizeof v->summary, "; %s", broken);
        app(v->summary, sizeof v->summary, ".");
    } else if (n_broken) {
        put(v->summary, sizeof v->summary, "%s is not available%s%s%s: %s.", name,
            tls_up ? " securely" : "", domain[0] ? " for " : "", domain, broken);
    } else if (domain[0]) {
        char why[200];
        no_server_words(c, v->protocol, why, sizeof why);
        put(v->summary, sizeof v->summary, "%s is not available for %s: %s.", name, domain, why);
    } else {
        put(v->summary, sizeof v->summary, "%s is not available: no endpoint was checked.", name);
    }
}

/* ---- best settings ------------------------------------------------------------------ */

static int security_rank(enum ms_security s)
{
    return s == MS_SECURITY_IMPLICIT ? 0 : s == MS_SECURITY_STARTTLS ? 1 : 2;
}

static int source_rank(enum ms_source s)
{
    switch (s) {
    case MS_SOURCE_SRV: return 0;
    case MS_SOURCE_MX: return 1;
    case MS_SOURCE_CONVENTIONAL: return 2;
    default: return 3;
    }
}

/* The MX preference of the host of endpoint i (from its discovery candidate). */
static long mx_preference(const struct ms_result *r, size_t i)
{
    for (size_t k = 0; k < r->discovery.candidate_count; k++) {
        const struct ms_candidate *cd = &r->discovery.candidates[k];
        if (cd->endpoint_index == (long)i && cd->source == MS_SOURCE_MX && cd->priority >= 0)
            return cd->priority;
    }
    return LONG_MAX;
}

/* <0 when endpoint i is the better one to configure, >0 when j is: implicit TLS before
 * STARTTLS; SRV (priority, then weight) before MX (preference) before conventional names
 * before others; ok before warning (st may be NULL); then endpoint order. */
static int rank_cmp(const struct ms_result *r, const enum ms_status *st, size_t i, size_t j)
{
    const struct ms_endpoint_result *a = &r->endpoints[i], *b = &r->endpoints[j];
    int x = security_rank(a->security), y = security_rank(b->security);
    if (x != y)
        return x < y ? -1 : 1;
    x = source_rank(a->source);
    y = source_rank(b->source);
    if (x != y)
        return x < y ? -1 : 1;
    if (a->source == MS_SOURCE_SRV) {
        long pa = a->srv_priority < 0 ? LONG_MAX : a->srv_priority;
        long pb = b->srv_priority < 0 ? LONG_MAX : b->srv_priority;
        if (pa != pb)
            return pa < pb ? -1 : 1;
        if (a->srv_weight != b->srv_weight) /* the heavier record first */
            return a->srv_weight > b->srv_weight ? -1 : 1;
    } else if (a->source == MS_SOURCE_MX) {
        long pa = mx_preference(r, i), pb = mx_preference(r, j);
        if (pa != pb)
            return pa < pb ? -1 : 1;
    }
    if (st && st[i] != st[j])
        return st[i] < st[j] ? -1 : 1;
    return i < j ? -1 : i > j ? 1 : 0;
}

/* How far endpoint i got: a secure session (but a critical finding) > TLS up > connected. */
static int progress(const struct ms_endpoint_result *ep)
{
    if (ms_assess_endpoint_secure(ep))
        return 3;
    if (ep->tls.established)
        return 2;
    return ep->address[0] ? 1 : 0;
}

/* Why protocol p has no recommendation, in one phrase. */
static void why_not(const struct ctx *c, const struct ms_assessment *a, enum ms_protocol p,
                    bool not_offered, char *buf, size_t cap)
{
    const struct ms_result *r = c->r;
    long best = -1;
    size_t others = 0;
    if (not_offered) {
        put(buf, cap, "%s says it is not offered (SRV target '.')", r->discovery.domain);
        return;
    }
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        if (ep->protocol != p)
            continue;
        if (best < 0) {
            best = (long)i;
            continue;
        }
        others++;
        int gi = progress(ep), gb = progress(&r->endpoints[best]);
        if (gi > gb || (gi == gb && rank_cmp(r, a->endpoint_status, i, (size_t)best) < 0))
            best = (long)i;
    }
    if (best < 0) {
        if (r->discovery.performed) {
            char why[200];
            no_server_words(c, p, why, sizeof why);
            put(buf, cap, "%s", why);
        } else {
            put(buf, cap, "no endpoint was checked");
        }
        return;
    }
    char port[300];
    ep_port(c, &r->endpoints[best], port, sizeof port);
    put(buf, cap, "%s%s %s", c->one_host ? "port " : "", port, endpoint_reason(c, a, (size_t)best));
    if (others)
        app(buf, cap, " (%zu other endpoint%s failed too)", others, others == 1 ? "" : "s");
}

static void recommend(const struct ctx *c, struct ms_assessment *a)
{
    const struct ms_result *r = c->r;
    a->recommended[0] = a->recommended[1] = -1;
    a->preferred = -1;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        enum ms_status st = a->endpoint_status ? a->endpoint_status[i] : MS_STATUS_UNKNOWN;
        if (!ms_assess_endpoint_secure(ep) || ep->security == MS_SECURITY_NONE ||
            (st != MS_STATUS_OK && st != MS_STATUS_WARNING))
            continue;
        long *best = &a->recommended[ep->protocol == MS_PROTOCOL_IMAP ? 0 : 1];
        if (*best < 0 || rank_cmp(r, a->endpoint_status, i, (size_t)*best) < 0)
            *best = (long)i;
    }
    /* IMAP first (several devices, folders, push), unless only POP3 was asked for. */
    const enum ms_protocol order[2] = {
        r->want_imap || !r->want_pop3 ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3,
        r->want_imap || !r->want_pop3 ? MS_PROTOCOL_POP3 : MS_PROTOCOL_IMAP};
    for (int k = 0; k < 2 && a->preferred < 0; k++)
        if (a->recommended[order[k]] >= 0)
            a->preferred = (int)order[k];
    for (size_t k = 0; k < a->verdict_count; k++) {
        const struct ms_protocol_verdict *v = &a->verdicts[k];
        if (a->recommended[v->protocol] < 0)
            why_not(c, a, v->protocol, v->not_offered, a->not_recommended[v->protocol],
                    sizeof a->not_recommended[v->protocol]);
    }
}

const struct ms_endpoint_result *ms_assess_recommended(const struct ms_result *result,
                                                       const struct ms_assessment *a,
                                                       enum ms_protocol p)
{
    if ((unsigned)p > 1)
        return NULL;
    long i = a->recommended[p];
    if (i < 0 || (size_t)i >= result->endpoint_count)
        return NULL;
    return &result->endpoints[i];
}

/* ---- entry points ------------------------------------------------------------------ */

int ms_assess(const struct ms_result *result, const struct ms_assess_options *opt,
              struct ms_assessment *out)
{
    struct ctx c = {.r = result, .warn_days = MS_ASSESS_DEFAULT_CERT_WARN_DAYS, .one_host = true};
    enum ms_status *ep_status = NULL;
    int rc = 0;

    memset(out, 0, sizeof *out);
    out->recommended[0] = out->recommended[1] = -1;
    out->preferred = -1;
    if (opt)
        c.warn_days = opt->cert_warn_days;
    for (size_t i = 1; i < result->endpoint_count; i++)
        if (strcasecmp(result->endpoints[i].host, result->endpoints[0].host) != 0)
            c.one_host = false;
    c.not_offered[MS_PROTOCOL_IMAP] = protocol_not_offered(result, MS_PROTOCOL_IMAP);
    c.not_offered[MS_PROTOCOL_POP3] = protocol_not_offered(result, MS_PROTOCOL_POP3);

    for (size_t i = 0; i < result->endpoint_count; i++) {
        long idx = (long)i;
        if ((rc = judge_failure(&c, idx)) || (rc = judge_cert(&c, idx)) ||
            (rc = judge_tls_version(&c, idx)) || (rc = judge_plaintext_login(&c, idx)) ||
            (rc = judge_misc(&c, idx)) || (rc = judge_families(&c, idx)))
            goto out;
    }
    if ((rc = judge_discovery(&c)))
        goto out;

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
        v->not_offered = !v->available && c.not_offered[v->protocol];
        for (size_t k = 0; k < c.n; k++)
            if (c.f[k].endpoint_index >= 0 &&
                result->endpoints[c.f[k].endpoint_index].protocol == v->protocol &&
                c.f[k].severity == MS_SEVERITY_CRITICAL)
                critical = true;
        /* Unavailable must be critical (unless the domain says it is not offered); say so
         * when no endpoint finding already does. */
        if (!v->available && !v->not_offered && !critical) {
            struct ms_finding *f = add(&c, MS_SEVERITY_CRITICAL, "proto.unavailable", -1);
            if (!f) {
                rc = MS_ENOMEM;
                goto out;
            }
            const char *name = proto_upper(v->protocol);
            unsigned implicit = v->protocol == MS_PROTOCOL_IMAP ? 993u : 995u;
            bool probed = false;
            for (size_t i = 0; i < result->endpoint_count; i++)
                if (result->endpoints[i].protocol == v->protocol)
                    probed = true;
            if (result->discovery.performed && !probed) {
                char why[200];
                no_server_words(&c, v->protocol, why, sizeof why);
                put(f->message, sizeof f->message, "%s is not available for %s: %s.", name,
                    result->discovery.domain, why);
                put(f->remedy, sizeof f->remedy,
                    "Publish SRV records for the mail domain (e.g. %s.%s. SRV 0 1 %u "
                    "mail.%s.) and an A/AAAA record for the server, or ask the provider "
                    "for the server's name and run mailscope on it.",
                    services_of(v->protocol)[0], result->discovery.domain, implicit,
                    result->discovery.domain);
            } else {
                put(f->message, sizeof f->message,
                    "%s is not available securely%s%s: no %s endpoint completed a TLS session "
                    "with a verified certificate.",
                    name, result->discovery.performed ? " for " : "",
                    result->discovery.performed ? result->discovery.domain : "", name);
                put(f->remedy, sizeof f->remedy,
                    "Offer %s on port %u with implicit TLS (or STARTTLS on port %u) and a "
                    "valid certificate; run mailscope --trace to see what the server does.",
                    name, implicit, v->protocol == MS_PROTOCOL_IMAP ? 143u : 110u);
            }
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
        if (!v->available && !v->not_offered && v->status != MS_STATUS_UNKNOWN)
            v->status = MS_STATUS_CRITICAL;
        make_verdict(&c, v, out);
    }
    recommend(&c, out);

out:
    free(c.f);
    free(ep_status);
    if (rc) {
        ms_assessment_free(out);
        memset(out, 0, sizeof *out);
        out->recommended[0] = out->recommended[1] = -1;
        out->preferred = -1;
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
    a->recommended[0] = a->recommended[1] = -1;
    a->preferred = -1;
}
