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
    case MS_PHASE_AUTH: return "while signing in";
    case MS_PHASE_ACCOUNT: return "while its folders and quota were read after sign-in";
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

/* The secure siblings of endpoint i (same protocol), each with its own security, as
 * "h:995 (implicit TLS) and h:110 (STARTTLS)"; returns how many there are. The first one
 * goes to *first. */
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
        app(buf, cap, "%s%s (%s)",
            count == 1       ? ""
            : count == total ? " and "
                             : ", ",
            port, security_words(s->security));
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
        "Nothing to do if port %u is closed on purpose: mail programs should use %s. "
        "If port %u should work, check that the server listens on it and that the firewall "
        "allows it.",
        (unsigned)ep->port, sibs, (unsigned)ep->port);
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

    /* BYE in answer to the credentials is the server's verdict on them: the auth.* finding
     * (judge_auth) quotes it. */
    if (ep->failure == MS_FAILURE_PROTO_BYE && ep->failure_phase == MS_PHASE_AUTH &&
        ep->auth.attempted)
        return 0;

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

    /* Signed in, then the read-only account queries failed: the account works, some of its
     * facts are missing. */
    if (ep->completed_securely && ep->auth.ok && ep->failure != MS_FAILURE_INTERNAL &&
        (ep->failure_phase == MS_PHASE_ACCOUNT || ep->failure_phase == MS_PHASE_CAPABILITY)) {
        struct ms_finding *f = add(c, MS_SEVERITY_WARNING, code, i);
        if (!f)
            return MS_ENOMEM;
        put(f->message, sizeof f->message,
            "%s signed in, then failed %s%s; the account's features are partly unknown.", lab,
            ep->failure_phase == MS_PHASE_ACCOUNT ? "while its folders and quota were read"
                                                  : "to list its capabilities after sign-in",
            ev);
        put(f->remedy, sizeof f->remedy,
            "Check the server's logs for errors after sign-in (mail storage, permissions, "
            "quota backend); mailscope --trace shows the exchange.");
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

/* ---- sign-in ------------------------------------------------------------------------ */

/* needle occurs in hay, ignoring ASCII case. */
static bool has_text(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; p && *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

/* A size given in KiB, the way people read it: "512 KB", "2.0 MB", "10 MB", "1.5 GB". */
static void fmt_kb(long long kb, char *buf, size_t cap)
{
    if (kb < 1024) {
        put(buf, cap, "%lld KB", kb < 0 ? 0 : kb);
        return;
    }
    double v = (double)kb / 1024.0;
    const char *unit = "MB";
    if (v >= 1024.0) {
        v /= 1024.0;
        unit = "GB";
    }
    if (v >= 1024.0) {
        v /= 1024.0;
        unit = "TB";
    }
    if (v < 9.95)
        put(buf, cap, "%.1f %s", v, unit);
    else
        put(buf, cap, "%.0f %s", v, unit);
}

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

enum rule_kind {
    RULE_CODE,         /* the response code equals match (ASCII case ignored) */
    RULE_PHRASE,       /* the text holds match as whole words (ASCII case ignored) */
    RULE_PROTO_PHRASE, /* ... and names a protocol (IMAP, IMAP4, POP, POP3) */
};

struct auth_rule {
    const char *match;
    enum rule_kind kind;
    enum ms_auth_outcome outcome;
    enum auth_hint hint;
};

/* How a refused sign-in is read: the first rule that matches wins. The order matters:
 * "not now" answers before anything about the account (an [IN-USE] mailbox is not a wrong
 * password), the protocol before the account ("IMAP access is disabled for this account"),
 * the account before the generic credential codes ([AUTH] and AUTHENTICATIONFAILED also
 * come with Dovecot's nologin reasons and Gmail's "not enabled for POP access"). */
static const struct auth_rule auth_rules[] = {
    /* 1. not now: the same sign-in may work later */
    {"IN-USE", RULE_CODE, MS_AUTH_IN_USE, HINT_NONE},           /* POP3 RFC 2449 */
    {"INUSE", RULE_CODE, MS_AUTH_IN_USE, HINT_NONE},            /* IMAP RFC 5530 */
    {"LOGIN-DELAY", RULE_CODE, MS_AUTH_LOGIN_DELAY, HINT_NONE}, /* POP3 RFC 2449 */
    {"SYS/TEMP", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},      /* POP3 RFC 3206 */
    {"UNAVAILABLE", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},   /* IMAP RFC 5530 */
    {"SERVERBUG", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"LIMIT", RULE_CODE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"lock maildrop", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE}, /* POP3 servers without codes */
    {"maildrop locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"maildrop is locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"maildrop already locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox is locked", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox in use", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"mailbox is in use", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"already in use", RULE_PHRASE, MS_AUTH_IN_USE, HINT_NONE},
    {"temporarily", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"temporary", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"try again later", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"try later", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"too many connections", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    {"maximum number of connections", RULE_PHRASE, MS_AUTH_TEMPORARY, HINT_NONE},
    /* 2. password sign-in or the mechanism is off (here: no cleartext password without TLS
     * is not a wrong password) */
    {"PRIVACYREQUIRED", RULE_CODE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_PRIVACY},
    {"plaintext authentication disallowed", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE,
     HINT_PRIVACY},
    {"cleartext authentication disallowed", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE,
     HINT_PRIVACY},
    {"basic authentication", RULE_PHRASE, MS_AUTH_BASIC_AUTH_DISABLED, HINT_NONE},
    {"basic auth", RULE_PHRASE, MS_AUTH_BASIC_AUTH_DISABLED, HINT_NONE},
    {"unsupported authentication mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"unknown authentication mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"unsupported mechanism", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"mechanism not supported", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    {"mechanism is not supported", RULE_PHRASE, MS_AUTH_MECHANISM_UNAVAILABLE, HINT_NONE},
    /* 3. this account may not use this protocol */
    {"user is authenticated but not connected", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED,
     HINT_EXCHANGE}, /* Exchange / Microsoft 365 */
    {"not enabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE}, /* Gmail, Zimbra */
    {"not allowed to use", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"access is disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE}, /* nologin reasons */
    {"access disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"access is not allowed", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"access not allowed", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"disabled", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"not allowed", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"not permitted", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    {"denied", RULE_PROTO_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    /* 4. the account itself */
    {"EXPIRED", RULE_CODE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},      /* IMAP RFC 5530 */
    {"CONTACTADMIN", RULE_CODE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE}, /* IMAP RFC 5530 */
    {"account disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"account is disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"account has been disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"user disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"user is disabled", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"locked", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"expired", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"suspended", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    {"deactivated", RULE_PHRASE, MS_AUTH_LOCKED_OR_EXPIRED, HINT_NONE},
    /* 5. "disabled" naming neither the account nor a protocol: most often the protocol */
    {"disabled", RULE_PHRASE, MS_AUTH_PROTOCOL_DISABLED, HINT_NONE},
    /* 6. the credentials */
    {"AUTHORIZATIONFAILED", RULE_CODE, MS_AUTH_FAILED, HINT_AUTHZ},
    {"SYS/PERM", RULE_CODE, MS_AUTH_FAILED, HINT_PERM},
    {"WEBALERT", RULE_CODE, MS_AUTH_FAILED, HINT_WEB_LOGIN},
    {"web browser", RULE_PHRASE, MS_AUTH_FAILED, HINT_WEB_LOGIN},
    {"application-specific password", RULE_PHRASE, MS_AUTH_FAILED, HINT_APP_PASSWORD},
    {"app password", RULE_PHRASE, MS_AUTH_FAILED, HINT_APP_PASSWORD},
    {"AUTHENTICATIONFAILED", RULE_CODE, MS_AUTH_FAILED, HINT_NONE},
    {"AUTH", RULE_CODE, MS_AUTH_FAILED, HINT_NONE},
};

/* Why the probe did not send the credentials (its own words, probe/imap.c and pop3.c). */
static const struct {
    const char *words;
    enum ms_auth_outcome outcome;
} not_sent_rules[] = {
    {"another endpoint", MS_AUTH_NOT_CHOSEN},
    {"not encrypted", MS_AUTH_NOT_ATTEMPTED_INSECURE},
    {"did not verify", MS_AUTH_NOT_ATTEMPTED_INSECURE},
    {"verified TLS", MS_AUTH_NOT_ATTEMPTED_INSECURE},
    {"only OAuth2", MS_AUTH_BASIC_AUTH_DISABLED},
    {"password sign-in is turned off", MS_AUTH_BASIC_AUTH_DISABLED},
    {"cannot carry", MS_AUTH_NOT_ATTEMPTED},
    {"line break", MS_AUTH_NOT_ATTEMPTED},
    {"no OAuth2 mechanism", MS_AUTH_MECHANISM_UNAVAILABLE},
    {"no password sign-in", MS_AUTH_MECHANISM_UNAVAILABLE},
    {"mechanism", MS_AUTH_MECHANISM_UNAVAILABLE},
};

static bool word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* phrase occurs in text as whole words, ignoring ASCII case ("in use" not in "in user"). */
static bool has_phrase(const char *text, const char *phrase)
{
    size_t n = strlen(phrase);
    if (!text || n == 0)
        return false;
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, phrase, n) == 0 && (p == text || !word_char(p[-1])) && !word_char(p[n]))
            return true;
    return false;
}

static bool names_protocol(const char *text)
{
    return has_phrase(text, "imap") || has_phrase(text, "imap4") || has_phrase(text, "pop") ||
           has_phrase(text, "pop3");
}

/* The response code's name: the first word of code ("SYS/TEMP"), else of a "[CODE ...]" in
 * text. */
static void code_name(const char *code, const char *text, char *buf, size_t cap)
{
    const char *src = code && code[0] ? code : NULL;
    buf[0] = '\0';
    if (!src && text) {
        const char *b = strchr(text, '[');
        src = b ? b + 1 : NULL;
    }
    if (!src)
        return;
    size_t n = strcspn(src, " ]");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, src, n);
    buf[n] = '\0';
}

static enum ms_auth_outcome classify_answer(const char *code, const char *text,
                                            enum auth_hint *hint)
{
    char name[64];
    if (!text)
        text = "";
    code_name(code, text, name, sizeof name);
    bool proto = names_protocol(text);
    for (size_t k = 0; k < sizeof auth_rules / sizeof auth_rules[0]; k++) {
        const struct auth_rule *r = &auth_rules[k];
        bool hit = r->kind == RULE_CODE
                       ? name[0] && strcasecmp(name, r->match) == 0
                       : has_phrase(text, r->match) && (r->kind == RULE_PHRASE || proto);
        if (hit) {
            *hint = r->hint;
            return r->outcome;
        }
    }
    *hint = HINT_NONE;
    return MS_AUTH_FAILED;
}

enum ms_auth_outcome ms_assess_auth_answer(const char *code, const char *text)
{
    enum auth_hint hint;
    return classify_answer(code, text, &hint);
}

static bool is_token_mech(const char *mech)
{
    return strcasecmp(mech, "XOAUTH2") == 0 || strcasecmp(mech, "OAUTHBEARER") == 0;
}

/* The session ended before sign-in because TLS could not be set up (no STARTTLS, STARTTLS
 * refused, a failed handshake). */
static bool stopped_for_tls(const struct ms_endpoint_result *ep)
{
    return ep->failure == MS_FAILURE_STARTTLS_NOT_OFFERED ||
           ep->failure == MS_FAILURE_STARTTLS_REFUSED || ep->failure == MS_FAILURE_TLS_HANDSHAKE ||
           ep->failure == MS_FAILURE_TLS_TIMEOUT;
}

static enum ms_auth_outcome auth_outcome(const struct ms_endpoint_result *ep, enum auth_hint *hint)
{
    const struct ms_auth_facts *au = &ep->auth;
    *hint = HINT_NONE;
    if (!au->wanted)
        return MS_AUTH_NONE;
    if (au->attempted && au->ok) {
        /* Exchange accepts the password of a mailbox whose protocol is off, then answers
         * every command with these words. */
        if ((ep->failure != MS_FAILURE_NONE &&
             has_phrase(ep->failure_message, "user is authenticated but not connected")) ||
            has_phrase(au->refused_after_login, "user is authenticated but not connected")) {
            *hint = HINT_EXCHANGE;
            return MS_AUTH_PROTOCOL_DISABLED;
        }
        return MS_AUTH_OK;
    }
    if (au->attempted) {
        if (au->status[0])
            return classify_answer(au->code, au->server_response, hint);
        /* BYE instead of a verdict: its words are the verdict. */
        if (ep->failure == MS_FAILURE_PROTO_BYE && ep->failure_phase == MS_PHASE_AUTH)
            return classify_answer("", ep->failure_message, hint);
        return MS_AUTH_UNFINISHED;
    }
    if (!au->not_attempted_reason[0]) {
        /* The session stopped because TLS could not be had: that is why nothing was sent. */
        if (stopped_for_tls(ep))
            return MS_AUTH_NOT_ATTEMPTED_INSECURE;
        return au->chosen || ep->failure != MS_FAILURE_NONE ? MS_AUTH_NONE : MS_AUTH_NOT_CHOSEN;
    }
    for (size_t k = 0; k < sizeof not_sent_rules / sizeof not_sent_rules[0]; k++)
        if (has_text(au->not_attempted_reason, not_sent_rules[k].words))
            return not_sent_rules[k].outcome;
    /* a reason in other words, on a connection without verified TLS */
    if (!ep->tls.established || !ep->tls.verified)
        return MS_AUTH_NOT_ATTEMPTED_INSECURE;
    return MS_AUTH_NOT_ATTEMPTED;
}

enum ms_auth_outcome ms_assess_auth(const struct ms_endpoint_result *ep)
{
    enum auth_hint hint;
    return auth_outcome(ep, &hint);
}

const char *ms_auth_outcome_code(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_FAILED: return "auth.failed";
    case MS_AUTH_PROTOCOL_DISABLED: return "auth.protocol_disabled";
    case MS_AUTH_BASIC_AUTH_DISABLED: return "auth.basic_auth_disabled";
    case MS_AUTH_MECHANISM_UNAVAILABLE: return "auth.mechanism_unavailable";
    case MS_AUTH_LOCKED_OR_EXPIRED: return "auth.account_locked_or_expired";
    case MS_AUTH_LOGIN_DELAY: return "auth.login_delay";
    case MS_AUTH_IN_USE: return "auth.mailbox_in_use";
    case MS_AUTH_TEMPORARY: return "auth.temporary_failure";
    case MS_AUTH_NOT_ATTEMPTED_INSECURE: return "auth.not_attempted_insecure";
    case MS_AUTH_NOT_ATTEMPTED: return "auth.not_attempted";
    default: return NULL;
    }
}

const char *ms_auth_outcome_name(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_OK: return "ok";
    case MS_AUTH_NOT_CHOSEN: return "not_chosen";
    case MS_AUTH_UNFINISHED: return "unfinished";
    case MS_AUTH_NONE: return "none";
    default: break;
    }
    const char *code = ms_auth_outcome_code(o);
    return code ? code + 5 : "none";
}

static enum ms_severity auth_severity(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_LOGIN_DELAY:
    case MS_AUTH_IN_USE:
    case MS_AUTH_TEMPORARY: return MS_SEVERITY_WARNING;
    case MS_AUTH_NOT_ATTEMPTED_INSECURE:
    case MS_AUTH_NOT_ATTEMPTED: return MS_SEVERITY_INFO;
    default: return MS_SEVERITY_CRITICAL;
    }
}

/* Findings about the account (its credentials, its rights, its state) rather than the
 * server: they do not change which server settings are best. */
static bool is_account_code(const char *code)
{
    static const char *const codes[] = {
        "auth.failed",
        "auth.protocol_disabled",
        "auth.basic_auth_disabled",
        "auth.mechanism_unavailable",
        "auth.account_locked_or_expired",
        "auth.login_delay",
        "auth.mailbox_in_use",
        "auth.temporary_failure",
        "auth.not_attempted",
        "auth.not_attempted_insecure",
        "account.quota_nearly_full",
    };
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
        if (strcmp(code, codes[k]) == 0)
            return true;
    return false;
}

/* The outcome in a few words, for verdicts and the summary. */
static const char *outcome_words(enum ms_auth_outcome o)
{
    switch (o) {
    case MS_AUTH_OK: return "signed in";
    case MS_AUTH_FAILED: return "the server rejected the credentials";
    case MS_AUTH_PROTOCOL_DISABLED: return "the account may not use this protocol";
    case MS_AUTH_BASIC_AUTH_DISABLED: return "password sign-in is turned off (OAuth2 only)";
    case MS_AUTH_MECHANISM_UNAVAILABLE: return "no sign-in mechanism fits the secret given";
    case MS_AUTH_LOCKED_OR_EXPIRED: return "the account is locked, disabled or expired";
    case MS_AUTH_LOGIN_DELAY: return "too soon after the last sign-in (LOGIN-DELAY)";
    case MS_AUTH_IN_USE: return "the mailbox is in use by another session";
    case MS_AUTH_TEMPORARY: return "the server failed temporarily";
    case MS_AUTH_NOT_ATTEMPTED_INSECURE: return "not tried: no verified TLS";
    case MS_AUTH_NOT_ATTEMPTED: return "not tried";
    case MS_AUTH_UNFINISHED: return "the session ended before the server answered";
    case MS_AUTH_NOT_CHOSEN: return "another endpoint signs in";
    default: return "no sign-in";
    }
}

/* The server's answer as it reads on the wire: the verdict word, then its text (IMAP's
 * text lacks the word, POP3's has it). */
static void server_words(const struct ms_auth_facts *au, char *buf, size_t cap)
{
    const char *t = au->server_response;
    size_t sl = strlen(au->status);
    if (!t[0])
        put(buf, cap, "%s", au->status[0] ? au->status : "(no words)");
    else if (sl && strncasecmp(t, au->status, sl) != 0)
        put(buf, cap, "%s %s", au->status, t);
    else
        put(buf, cap, "%s", t);
}

size_t ms_assess_mechanisms(const struct ms_endpoint_result *ep, char (*names)[32], size_t max,
                            bool with_user_command)
{
    const struct ms_strlist *caps =
        ep->tls.established && ep->caps_after_tls_read ? &ep->caps_after_tls : &ep->caps_before_tls;
    size_t n = 0;
    if (ep->protocol == MS_PROTOCOL_IMAP) {
        for (size_t k = 0; k < caps->count && n < max; k++)
            if (strncasecmp(caps->items[k], "AUTH=", 5) == 0 && caps->items[k][5])
                snprintf(names[n++], 32, "%.31s", caps->items[k] + 5);
        return n;
    }
    const char *sasl = pop3_cap(caps, "SASL");
    for (const char *p = sasl ? sasl + 4 : NULL; p && *p && n < max;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len)
            snprintf(names[n++], 32, "%.*s", (int)(len > 31 ? 31 : len), p);
        p += len;
    }
    if (with_user_command && pop3_cap(caps, "USER") && n < max)
        snprintf(names[n++], 32, "USER");
    return n;
}

/* "PLAIN, LOGIN, XOAUTH2" of an endpoint's offered mechanisms; "" when none. */
static void mechanisms_line(const struct ms_endpoint_result *ep, char *buf, size_t cap)
{
    char names[32][32];
    size_t n = ms_assess_mechanisms(ep, names, 32, true);
    buf[0] = '\0';
    for (size_t k = 0; k < n; k++)
        app(buf, cap, "%s%s", k ? ", " : "", names[k]);
}

static bool offers_oauth(const struct ms_endpoint_result *ep)
{
    char names[32][32];
    size_t n = ms_assess_mechanisms(ep, names, 32, true);
    for (size_t k = 0; k < n; k++)
        if (is_token_mech(names[k]))
            return true;
    return false;
}

static int judge_auth(struct ctx *c, long i)
{
    const struct ms_result *r = c->r;
    const struct ms_endpoint_result *ep = &r->endpoints[i];
    const struct ms_auth_facts *au = &ep->auth;
    enum auth_hint hint;
    enum ms_auth_outcome o = auth_outcome(ep, &hint);
    const char *code = ms_auth_outcome_code(o);
    if (!code)
        return 0;
    struct ms_finding *f = add(c, auth_severity(o), code, i);
    if (!f)
        return MS_ENOMEM;
    char lab[320], words[400], mechs[200], oauth[260] = "";
    const char *who = r->user[0] ? r->user : "the user";
    const char *proto = proto_upper(ep->protocol);
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;
    bool token = is_token_mech(au->mechanism);
    char *m = f->message, *rm = f->remedy;
    size_t mc = sizeof f->message, rc = sizeof f->remedy;
    ep_label(c, ep, lab, sizeof lab);
    if (au->attempted && au->status[0])
        server_words(au, words, sizeof words);
    else if (au->attempted && ep->failure_message[0])
        put(words, sizeof words, "%s", ep->failure_message);
    else if (au->not_attempted_reason[0])
        put(words, sizeof words, "%s", au->not_attempted_reason);
    else
        put(words, sizeof words,
            "the session stopped before sign-in (%s%s%s); credentials are "
            "sent only over verified TLS",
            ms_assess_failure_code(ep->failure), ep->failure_message[0] ? ": " : "",
            ep->failure_message);
    mechanisms_line(ep, mechs, sizeof mechs);
    if (au->oauth_error[0])
        put(oauth, sizeof oauth, " The OAuth2 error was: %s.", au->oauth_error);

    switch (o) {
    case MS_AUTH_FAILED:
        if (hint == HINT_AUTHZ) {
            put(m, mc,
                "Signing in as %s on %s failed: the credentials were accepted, but the "
                "server will not let them open this mailbox (\"%s\").",
                who, lab, words);
            put(rm, rc,
                "Check the user name (some servers want the full e-mail address, others "
                "only the local part) and, for a shared or delegated mailbox, the "
                "rights of the signing-in account.");
        } else if (hint == HINT_PERM) {
            put(m, mc,
                "Signing in as %s on %s failed: the server reports a permanent problem "
                "with this account (\"%s\").",
                who, lab, words);
            put(rm, rc,
                "This is not necessarily a wrong password: ask the mail admin to check "
                "the account and the server's logs for %s.",
                who);
        } else if (token) {
            put(m, mc,
                "Signing in as %s on %s with an OAuth2 token (%s) failed: the server "
                "rejected the token (\"%s\").%s",
                who, lab, au->mechanism, words, oauth);
            put(rm, rc,
                "Get a fresh access token (they expire, often after an hour) with the "
                "mail scope (Google: https://mail.google.com/; Microsoft 365: "
                "https://outlook.office.com/%s), and check that the user name is the "
                "token's account.",
                imap ? "IMAP.AccessAsUser.All" : "POP.AccessAsUser.All");
        } else {
            put(m, mc,
                "Signing in as %s on %s failed: the server rejected the credentials "
                "(%s): \"%s\".%s",
                who, lab, au->mechanism[0] ? au->mechanism : "password", words, oauth);
            if (hint == HINT_WEB_LOGIN)
                put(rm, rc,
                    "The provider wants a sign-in in a web browser first (a security "
                    "check): sign in to webmail from this network, then try again. If "
                    "it persists, use an app password or OAuth2.");
            else if (hint == HINT_APP_PASSWORD)
                put(rm, rc,
                    "The account has multi-factor authentication on: create an app "
                    "password in the account's security settings and use it instead "
                    "of the normal password, or use OAuth2.");
            else
                put(rm, rc,
                    "Check the user name and password (try them in webmail). If they are "
                    "right, the account may need an app password (when multi-factor "
                    "authentication is on), or the provider turned password sign-in "
                    "off for mail programs%s.",
                    offers_oauth(ep) ? " (the server offers OAuth2: try --oauth2-token-file)" : "");
        }
        break;
    case MS_AUTH_PROTOCOL_DISABLED:
        if (hint == HINT_EXCHANGE && au->ok)
            put(m, mc,
                "The account %s may not use %s: %s accepted the password, then refused "
                "every command with \"User is authenticated but not connected.\" "
                "(Exchange and Microsoft 365 say this when %s is disabled for the "
                "mailbox).",
                who, proto, lab, proto);
        else
            put(m, mc, "The account %s may not use %s: signing in on %s was refused with \"%s\".",
                who, proto, lab, words);
        put(rm, rc,
            "Ask the mail admin to enable %s for this mailbox (Microsoft 365/Exchange: "
            "Set-CASMailbox -Identity %s -%sEnabled $true; Google: enable %s in Gmail's "
            "settings and the admin console; Dovecot: the user's nologin or per-protocol "
            "passdb), or use %s if it works.",
            proto, who, imap ? "Imap" : "Pop", imap ? "IMAP" : "POP", imap ? "POP3" : "IMAP");
        break;
    case MS_AUTH_BASIC_AUTH_DISABLED:
        if (au->attempted)
            put(m, mc,
                "Signing in as %s on %s was refused: password sign-in (basic "
                "authentication) is turned off (\"%s\").",
                who, lab, words);
        else
            put(m, mc,
                "%s offers only OAuth2 sign-in (%s): password sign-in (basic "
                "authentication) is turned off, so mailscope did not send the password.",
                lab, mechs[0] ? mechs : "no password mechanism");
        put(rm, rc,
            "Use OAuth2 (modern authentication): a mail program that supports it, and "
            "mailscope --oauth2-token-file with a token for %s; or ask the admin to "
            "allow basic authentication for %s.",
            who, proto);
        break;
    case MS_AUTH_MECHANISM_UNAVAILABLE:
        if (hint == HINT_PRIVACY) {
            put(m, mc,
                "Signing in as %s on %s was refused: the server takes passwords only over "
                "TLS (\"%s\"); the password was not judged.",
                who, lab, words);
            put(rm, rc,
                "Sign in over TLS: use port %u (implicit TLS) or STARTTLS, never "
                "plaintext.",
                implicit_port(c, ep->protocol));
            break;
        }
        if (au->attempted)
            put(m, mc,
                "Signing in as %s on %s failed: the server does not take the mechanism "
                "%s (\"%s\"); it offers %s.",
                who, lab, au->mechanism, words, mechs[0] ? mechs : "no mechanism");
        else
            put(m, mc, "mailscope could not sign in as %s on %s: %s (offered: %s).", who, lab,
                words, mechs[0] ? mechs : "none");
        if (has_text(au->not_attempted_reason, "OAuth2"))
            put(rm, rc,
                "This server does not take OAuth2 tokens for %s: sign in with the "
                "password (MAILSCOPE_PASSWORD or --password-file) instead, or ask the "
                "provider which host takes OAuth2.",
                proto);
        else if (au->attempted)
            put(rm, rc,
                "Choose a mechanism the server offers (--auth-mech), or leave the choice "
                "to mailscope.");
        else
            put(rm, rc,
                "Ask the admin to offer password sign-in over TLS with PLAIN or LOGIN "
                "(Dovecot: auth_mechanisms = plain login), or sign in with an OAuth2 "
                "token if the server takes one.");
        break;
    case MS_AUTH_LOCKED_OR_EXPIRED:
        put(m, mc,
            "Signing in as %s on %s was refused: the account is locked, disabled or its "
            "password has expired (\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Ask the mail admin or helpdesk to unlock the account or reset the password; "
            "sign in to webmail to see whether it asks for a new password.");
        break;
    case MS_AUTH_LOGIN_DELAY:
        put(m, mc,
            "Signing in as %s on %s was refused because the last sign-in was too recent "
            "(\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Wait a few minutes and try again; set mail programs to check for mail no "
            "more often than the server's LOGIN-DELAY allows.");
        break;
    case MS_AUTH_IN_USE:
        put(m, mc,
            "Signing in as %s on %s was refused because the mailbox is in use by another "
            "session (\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Another program (a phone, another computer) has the mailbox open%s: close "
            "it or wait until it is done, then try again.",
            imap ? "" : " over POP3, which allows one session at a time");
        break;
    case MS_AUTH_TEMPORARY:
        put(m, mc,
            "Signing in as %s on %s failed because of a temporary problem on the "
            "server's side (\"%s\").",
            who, lab, words);
        put(rm, rc,
            "Try again in a few minutes. If it persists, the admin should check the "
            "server's logs (authentication backend, storage, connection limits).");
        break;
    case MS_AUTH_NOT_ATTEMPTED_INSECURE:
        put(m, mc, "mailscope did not sign in as %s on %s: %s.", who, lab, words);
        put(rm, rc,
            "Fix the endpoint's TLS (see the other findings) or use an endpoint with "
            "verified TLS; --allow-insecure-auth sends the credentials anyway, on a "
            "network you trust only.");
        break;
    default:
        put(m, mc, "mailscope did not sign in as %s on %s: %s.", who, lab,
            words[0] ? words : "no reason given");
        put(rm, rc,
            "Check the user name and the secret; --auth-mech PLAIN (or LOGIN, XOAUTH2, "
            "OAUTHBEARER) picks the mechanism; --trace shows the exchange without the "
            "secret.");
        break;
    }
    return 0;
}

/* The account's quota after sign-in: nearly full is a warning (new mail will bounce). */
static int judge_quota(struct ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    const struct ms_account_facts *a = &ep->account;
    if (!a->read || !a->quota_read || a->quota_storage_limit_kb <= 0 ||
        a->quota_storage_used_kb < 0)
        return 0;
    long long pct = a->quota_storage_used_kb * 100 / a->quota_storage_limit_kb;
    if (pct < 90)
        return 0;
    struct ms_finding *f = add(c, MS_SEVERITY_WARNING, "account.quota_nearly_full", i);
    if (!f)
        return MS_ENOMEM;
    char used[32], limit[32];
    fmt_kb(a->quota_storage_used_kb, used, sizeof used);
    fmt_kb(a->quota_storage_limit_kb, limit, sizeof limit);
    put(f->message, sizeof f->message,
        "The mailbox of %s is %s: %s of %s used (%lld%%, quota root \"%s\"); new mail will be "
        "refused when it is full.",
        c->r->user[0] ? c->r->user : "the user", pct >= 100 ? "full" : "nearly full", used, limit,
        pct, a->quota_root);
    put(f->remedy, sizeof f->remedy,
        "Delete or archive old mail (empty Trash and Junk too), or ask the mail admin for a "
        "larger quota.");
    return 0;
}

/* --injection-test: the server answered a command injected before STARTTLS inside TLS. */
static int judge_injection(struct ctx *c, long i)
{
    const struct ms_endpoint_result *ep = &c->r->endpoints[i];
    if (!ep->injection.vulnerable)
        return 0;
    struct ms_finding *f = add(c, MS_SEVERITY_CRITICAL, "starttls.command_injection", i);
    if (!f)
        return MS_ENOMEM;
    char lab[320];
    const char *cmd = starttls_cmd(ep->protocol);
    ep_label(c, ep, lab, sizeof lab);
    put(f->message, sizeof f->message,
        "%s executes commands injected before %s: a %s sent in the same packet as %s was "
        "answered inside the TLS session (\"%s\"). An attacker on the network path can run "
        "commands in the user's encrypted session (STARTTLS command injection, CVE-2011-0411 "
        "class).",
        lab, cmd, ep->protocol == MS_PROTOCOL_IMAP ? "NOOP" : "CAPA", cmd,
        ep->injection.evidence[0] ? ep->injection.evidence : "no text");
    put(f->remedy, sizeof f->remedy,
        "Update the mail server, or the proxy or load balancer in front of it: after %s it "
        "must discard everything received before the TLS handshake. Until then configure mail "
        "programs for port %u (implicit TLS) and close port %u.",
        cmd, implicit_port(c, ep->protocol), (unsigned)ep->port);
    return 0;
}

/* The sign-in that speaks for protocol p: the endpoint that sent credentials (one that
 * signed in first), else the one whose reason for not sending them is a finding (the chosen
 * one first), else none. Returns its outcome; *idx is the endpoint or -1. */
static enum ms_auth_outcome protocol_auth(const struct ms_result *r, enum ms_protocol p, long *idx,
                                          enum auth_hint *hint)
{
    long best = -1;
    int best_rank = 0;
    enum ms_auth_outcome out = MS_AUTH_NONE;
    *hint = HINT_NONE;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        enum auth_hint h;
        if (ep->protocol != p)
            continue;
        enum ms_auth_outcome o = auth_outcome(ep, &h);
        int rank = o == MS_AUTH_OK                       ? 6
                   : ep->auth.attempted                  ? 5
                   : !ms_auth_outcome_code(o)            ? 0
                   : ep->auth.chosen                     ? 4
                   : o == MS_AUTH_NOT_ATTEMPTED_INSECURE ? 2
                                                         : 3;
        bool better_tie = rank == best_rank && rank > 0 && best >= 0 &&
                          ep->security == MS_SECURITY_IMPLICIT &&
                          r->endpoints[best].security != MS_SECURITY_IMPLICIT;
        if (rank > best_rank || better_tie) {
            best = (long)i;
            best_rank = rank;
            out = o;
            *hint = h;
        }
    }
    *idx = best;
    return out;
}

/* The endpoint works for mail programs: secure, and no critical finding about the server
 * (findings about the account, such as a rejected password, do not count). */
static bool endpoint_works(const struct ms_result *r, const struct ms_finding *f, size_t n,
                           size_t i)
{
    if (!ms_assess_endpoint_secure(&r->endpoints[i]))
        return false;
    for (size_t k = 0; k < n; k++)
        if (f[k].endpoint_index == (long)i && f[k].severity == MS_SEVERITY_CRITICAL &&
            !is_account_code(f[k].code))
            return false;
    return true;
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
/* How many of discovery's DNS questions timed out; *asked gets how many were asked. */
static size_t dns_timeouts(const struct ms_discovery *d, size_t *asked)
{
    size_t n = 0;
    for (size_t k = 0; k < d->query_count; k++)
        if (strcmp(d->queries[k].status, "timeout") == 0)
            n++;
    *asked = d->query_count;
    return n;
}

/* Questions that got no answer at all: the resolver, not the domain, is the problem. */
static int judge_dns_silence(struct ctx *c)
{
    const struct ms_discovery *d = &c->r->discovery;
    size_t asked, silent = dns_timeouts(d, &asked);
    if (silent == 0)
        return 0;
    bool all = silent == asked;
    struct ms_finding *f =
        add(c, all ? MS_SEVERITY_CRITICAL : MS_SEVERITY_WARNING, "dns.timeout", -1);
    if (!f)
        return MS_ENOMEM;
    char names[300] = "";
    for (size_t k = 0, shown = 0; k < d->query_count && shown < 3; k++)
        if (strcmp(d->queries[k].status, "timeout") == 0)
            app(names, sizeof names, "%s%s %s", shown++ ? ", " : "", d->queries[k].name,
                d->queries[k].type);
    if (all)
        put(f->message, sizeof f->message,
            "DNS did not answer: all %zu questions about %s timed out (%s%s), so mailscope "
            "could not find the mail servers.",
            asked, d->domain, names, silent > 3 ? ", ..." : "");
    else
        put(f->message, sizeof f->message,
            "DNS did not answer %zu of %zu questions about %s (%s%s); servers named only "
            "there were not found.",
            silent, asked, d->domain, names, silent > 3 ? ", ..." : "");
    put(f->remedy, sizeof f->remedy,
        "Check this machine's resolver (/etc/resolv.conf) or the --dns-server given, and that "
        "UDP and TCP port 53 reach it; a server name instead of an e-mail address, with "
        "--resolve HOST:ADDRESS, bypasses discovery.");
    return 0;
}

static int judge_discovery(struct ctx *c)
{
    const struct ms_result *r = c->r;
    const struct ms_discovery *d = &r->discovery;
    struct ms_finding *f;
    if (!d->performed)
        return 0;
    if (judge_dns_silence(c) < 0)
        return MS_ENOMEM;

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
        else if (qf && strcmp(qf->status, "nodata") == 0 && r->only_family)
            put(how, sizeof how, "the name has no %s record (only %s was asked for, by -%d)",
                r->only_family == 4 ? "IPv4 (A)" : "IPv6 (AAAA)",
                r->only_family == 4 ? "IPv4" : "IPv6", r->only_family);
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
        {"starttls.command_injection", "executes commands injected before STARTTLS"},
        {"auth.failed", "rejected the credentials"},
        {"auth.protocol_disabled", "refused this account the protocol"},
        {"auth.basic_auth_disabled", "allows only OAuth2 sign-in"},
        {"auth.mechanism_unavailable", "offers no usable sign-in mechanism"},
        {"auth.account_locked_or_expired", "says the account is locked or expired"},
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
            a->findings[k].severity == MS_SEVERITY_CRITICAL &&
            !is_account_code(a->findings[k].code))
            return reason_words(a->findings[k].code);
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
    size_t asked, silent = dns_timeouts(d, &asked);
    if (asked > 0 && silent == asked)
        put(buf, cap, "no server was found because DNS did not answer");
    else if (n == 0)
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
        if (r->endpoints[i].protocol == v->protocol &&
            endpoint_works(r, a->findings, a->finding_count, i))
            n_total_works++;
    /* Working endpoints: implicit TLS first (what to recommend), then in endpoint order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->endpoint_count; i++) {
            const struct ms_endpoint_result *ep = &r->endpoints[i];
            char port[300];
            if (ep->protocol != v->protocol ||
                !endpoint_works(r, a->findings, a->finding_count, i) ||
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
        if (ep->protocol != v->protocol || endpoint_works(r, a->findings, a->finding_count, i))
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
    /* The account's side: a sign-in that went wrong is part of the answer. */
    long at;
    enum auth_hint hint;
    enum ms_auth_outcome o = protocol_auth(r, v->protocol, &at, &hint);
    const char *code = ms_auth_outcome_code(o);
    if (code && auth_severity(o) != MS_SEVERITY_INFO) {
        char port[300];
        ep_port(c, &r->endpoints[at], port, sizeof port);
        app(v->summary, sizeof v->summary, " Signing in as %s on %s failed: %s.",
            r->user[0] ? r->user : "the user", port,
            o == MS_AUTH_PROTOCOL_DISABLED
                ? (v->protocol == MS_PROTOCOL_IMAP ? "IMAP is disabled for this account"
                                                   : "POP3 is disabled for this account")
                : outcome_words(o));
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

/* srv: each endpoint's status without the findings about the account (a rejected password
 * does not make other server settings better); NULL when there are no endpoints. */
static void recommend(const struct ctx *c, struct ms_assessment *a, const enum ms_status *srv)
{
    const struct ms_result *r = c->r;
    a->recommended[0] = a->recommended[1] = -1;
    a->preferred = -1;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        enum ms_status st = srv ? srv[i] : MS_STATUS_UNKNOWN;
        if (!ms_assess_endpoint_secure(ep) || ep->security == MS_SECURITY_NONE ||
            (st != MS_STATUS_OK && st != MS_STATUS_WARNING))
            continue;
        long *best = &a->recommended[ep->protocol == MS_PROTOCOL_IMAP ? 0 : 1];
        if (*best < 0 || rank_cmp(r, srv, i, (size_t)*best) < 0)
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

/* ---- the account-feature summary ------------------------------------------------------ */

static const struct {
    const char *id, *question, *label;
} feature_text[MS_FEATURE_COUNT] = {
    [MS_FEATURE_PROTOCOL_ENABLED] = {"protocol_enabled", "Is POP3/IMAP enabled for this account?",
                                     "Enabled for this account?"},
    [MS_FEATURE_LEAVE_MAIL_ON_SERVER] = {"leave_mail_on_server",
                                         "Can mail stay on the server so several computers see "
                                         "it?",
                                         "Mail stays on the server?"},
    [MS_FEATURE_SERVER_FOLDERS] = {"server_folders", "Can I use several server folders?",
                                   "Several server folders?"},
    [MS_FEATURE_SENT_ITEMS_ON_SERVER] = {"sent_items_on_server",
                                         "Are sent items kept on the server?",
                                         "Sent items on the server?"},
    [MS_FEATURE_SHARED_FOLDERS] = {"shared_folders", "Can I reach public/shared folders?",
                                   "Public/shared folders?"},
    [MS_FEATURE_HEADERS_ONLY_DOWNLOAD] = {"headers_only_download", "Can I read only headers first?",
                                          "Headers-only download?"},
    [MS_FEATURE_PUSH_MAIL] = {"push_mail", "Does new mail arrive by push?", "Push mail?"},
    [MS_FEATURE_MIN_POLL_INTERVAL] = {"min_poll_interval",
                                      "How often may a mail program check for new mail?",
                                      "Shortest poll interval"},
    [MS_FEATURE_SECURE_CONNECTION] = {"secure_connection", "Is the connection secure?",
                                      "Secure connection?"},
    [MS_FEATURE_SIGN_IN_METHODS] = {"sign_in_methods", "How can I sign in?", "Sign-in methods"},
    [MS_FEATURE_QUOTA] = {"quota", "Is the mailbox near full?", "Mailbox quota"},
};

#define DEFAULT_POLL_S 300 /* 5 minutes: more often only adds load */

/* What the summary knows about one protocol. */
struct pview {
    enum ms_protocol p;
    bool in_play;
    const struct ms_endpoint_result *ep; /* the endpoint whose facts answer, or NULL */
    const struct ms_endpoint_result *au; /* the endpoint whose sign-in decides, or NULL */
    enum ms_auth_outcome outcome;
    bool signed_in;  /* ep signed in */
    bool account;    /* ... and its account facts were read */
    char needs[240]; /* the evidence of answers that need sign-in */
};

/* Capabilities after sign-in (NULL when not read), before it (over TLS when TLS was up),
 * and the best of both. */
static const struct ms_strlist *caps_login(const struct ms_endpoint_result *ep)
{
    return ep->caps_after_login_read && ep->caps_after_login.count ? &ep->caps_after_login : NULL;
}

static const struct ms_strlist *caps_pre(const struct ms_endpoint_result *ep)
{
    if (ep->caps_after_tls_read)
        return &ep->caps_after_tls;
    return ep->caps_before_tls_read && !ep->tls.established ? &ep->caps_before_tls : NULL;
}

static const struct ms_strlist *caps_best(const struct ms_endpoint_result *ep)
{
    const struct ms_strlist *l = caps_login(ep);
    return l ? l : caps_pre(ep);
}

static bool has_cap(const struct ms_endpoint_result *ep, const struct ms_strlist *caps,
                    const char *name)
{
    if (!caps)
        return false;
    return ep->protocol == MS_PROTOCOL_IMAP ? ms_strlist_has(caps, name)
                                            : pop3_cap(caps, name) != NULL;
}

/* A POP3 "EXPIRE 30 [USER]" / "LOGIN-DELAY 900 [USER]" value: -1 for NEVER, -2 unreadable. */
static long pop3_cap_value(const char *line, bool *per_user)
{
    const char *p = strchr(line, ' ');
    *per_user = false;
    if (!p)
        return -2;
    while (*p == ' ')
        p++;
    if (strncasecmp(p, "NEVER", 5) == 0 && (p[5] == '\0' || p[5] == ' ')) {
        *per_user = has_phrase(p + 5, "USER");
        return -1;
    }
    char *end = NULL;
    long v = strtol(p, &end, 10);
    if (end == p || v < 0 || (*end != '\0' && *end != ' '))
        return -2;
    *per_user = has_phrase(end, "USER");
    return v;
}

/* POP3 EXPIRE: -1 never, -2 not said, else days; *after: said after sign-in (per user). */
static long pop3_expire(const struct pview *v, bool *after, bool *per_user)
{
    const struct ms_endpoint_result *ep = v->ep;
    const struct ms_strlist *l = caps_login(ep);
    const char *line;
    *after = true;
    *per_user = false;
    if (v->account && ep->account.pop3_expire_days != -2)
        return ep->account.pop3_expire_days;
    if (l && (line = pop3_cap(l, "EXPIRE")))
        return pop3_cap_value(line, per_user);
    *after = false;
    const struct ms_strlist *pre = caps_pre(ep);
    if (pre && (line = pop3_cap(pre, "EXPIRE")))
        return pop3_cap_value(line, per_user);
    return -2;
}

/* POP3 LOGIN-DELAY in seconds: -1 not known, 0 none said after sign-in. */
static long pop3_login_delay(const struct pview *v, bool *after)
{
    const struct ms_endpoint_result *ep = v->ep;
    const struct ms_strlist *l = caps_login(ep);
    const char *line;
    bool per_user;
    *after = true;
    if (v->account && ep->account.pop3_login_delay_s >= 0)
        return ep->account.pop3_login_delay_s;
    if (l && (line = pop3_cap(l, "LOGIN-DELAY"))) {
        long d = pop3_cap_value(line, &per_user);
        return d < 0 ? -1 : d;
    }
    if (v->signed_in && ep->caps_after_login_read)
        return 0;
    *after = false;
    const struct ms_strlist *pre = caps_pre(ep);
    if (pre && (line = pop3_cap(pre, "LOGIN-DELAY"))) {
        long d = pop3_cap_value(line, &per_user);
        return d < 0 ? -1 : d;
    }
    return -1;
}

/* The answer and evidence of one protocol. */
static void answer(struct ms_feature *f, enum ms_protocol p, bool positive, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void answer(struct ms_feature *f, enum ms_protocol p, bool positive, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(f->answer[p], sizeof f->answer[p], fmt, ap);
    va_end(ap);
    f->positive[p] = positive;
}

/* The words of a sign-in: the server's answer, else why it did not happen. */
static void sign_in_words(const struct ms_endpoint_result *ep, char *buf, size_t cap)
{
    const struct ms_auth_facts *au = &ep->auth;
    if (au->attempted && au->status[0])
        server_words(au, buf, cap);
    else if (au->attempted && ep->failure_message[0])
        put(buf, cap, "%s", ep->failure_message);
    else if (au->not_attempted_reason[0])
        put(buf, cap, "%s", au->not_attempted_reason);
    else if (stopped_for_tls(ep))
        put(buf, cap, "the session stopped before sign-in (%s)",
            ms_assess_failure_code(ep->failure));
    else
        put(buf, cap, "no words");
}

static void f_protocol_enabled(const struct ctx *c, const struct pview *v, struct ms_feature *f,
                               char *ev, size_t evc)
{
    enum ms_protocol p = v->p;
    char words[400] = "";
    if (v->au)
        sign_in_words(v->au, words, sizeof words);
    switch (v->outcome) {
    case MS_AUTH_OK:
        answer(f, p, true, "yes");
        put(ev, evc, "signed in on %s (%s)", v->au->id, v->au->auth.mechanism);
        break;
    case MS_AUTH_FAILED: /* a wrong password says nothing about the protocol */
        answer(f, p, false, "unknown");
        put(ev, evc, "sign-in failed, credentials rejected: \"%s\"", words);
        break;
    case MS_AUTH_PROTOCOL_DISABLED:
        answer(f, p, false, "no");
        put(ev, evc, "refused on %s: \"%s\"", v->au->id, words);
        break;
    case MS_AUTH_BASIC_AUTH_DISABLED:
        answer(f, p, false, "OAuth2 only");
        put(ev, evc, "%s", words);
        break;
    case MS_AUTH_LOCKED_OR_EXPIRED:
    case MS_AUTH_LOGIN_DELAY:
    case MS_AUTH_IN_USE:
    case MS_AUTH_TEMPORARY:
        answer(f, p, false, "unknown");
        put(ev, evc, "sign-in refused, %s: \"%s\"", outcome_words(v->outcome), words);
        break;
    case MS_AUTH_MECHANISM_UNAVAILABLE:
    case MS_AUTH_NOT_ATTEMPTED_INSECURE:
    case MS_AUTH_NOT_ATTEMPTED:
        answer(f, p, false, "unknown");
        put(ev, evc, "not signed in: %s", words);
        break;
    case MS_AUTH_UNFINISHED:
        answer(f, p, false, "unknown");
        put(ev, evc, "sign-in did not finish: %s", words);
        break;
    default:
        answer(f, p, false, "unknown");
        if (!c->r->credentials_given)
            put(ev, evc, "%s", MS_NEEDS_SIGN_IN_NO_CREDENTIALS);
        else
            put(ev, evc, "no %s endpoint got as far as sign-in", proto_upper(p));
        break;
    }
}

static void f_leave_mail(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    if (v->p == MS_PROTOCOL_IMAP) {
        answer(f, v->p, true, "yes");
        put(ev, evc, "IMAP keeps mail on the server");
        return;
    }
    const struct ms_strlist *caps = caps_best(ep);
    int uidl = -1; /* unknown */
    char uidl_ev[64] = "";
    if (v->account && ep->account.pop3_uidl_tried) {
        uidl = ep->account.pop3_uidl_works;
        put(uidl_ev, sizeof uidl_ev, "UIDL %s after sign-in", uidl ? "works" : "failed");
    } else if (caps) {
        uidl = has_cap(ep, caps, "UIDL");
        put(uidl_ev, sizeof uidl_ev, "%s", uidl ? "UIDL offered" : "no UIDL in CAPA");
    }
    bool after, per_user;
    long expire = pop3_expire(v, &after, &per_user);
    const char *when = after ? " after sign-in" : " before sign-in";
    if (expire == 0) {
        answer(f, v->p, false, "no");
        put(ev, evc, "EXPIRE 0%s: the server deletes mail once it is downloaded", when);
    } else if (uidl < 0) {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "CAPA was not read");
    } else if (!uidl) {
        answer(f, v->p, false, "no");
        put(ev, evc, "%s: mail programs cannot tell which messages they already downloaded",
            uidl_ev);
    } else if (expire > 0) {
        answer(f, v->p, true, "yes, %ld days", expire);
        put(ev, evc, "%s; EXPIRE %ld%s: downloaded mail is deleted after %ld days", uidl_ev, expire,
            when, expire);
    } else {
        answer(f, v->p, true, "yes");
        put(ev, evc, "%s; EXPIRE %s%s%s", uidl_ev, expire == -1 ? "NEVER" : "not said",
            expire == -1 ? when : "",
            after || v->signed_in ? "" : " (the per-user EXPIRE shows only after sign-in)");
    }
}

static bool is_sent_name(const char *name)
{
    static const char *const names[] = {"Sent", "Sent Items", "Sent Messages", "Sent Mail"};
    const char *leaf = name;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '.')
            leaf = p + 1;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcasecmp(leaf, names[k]) == 0)
            return true;
    return false;
}

static void f_folders(const struct pview *v, enum ms_feature_id id, struct ms_feature *f, char *ev,
                      size_t evc)
{
    const struct ms_account_facts *a = &v->ep->account;
    if (!v->account) {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "%s", v->needs);
        return;
    }
    if (id == MS_FEATURE_SERVER_FOLDERS) {
        size_t selectable = 0;
        for (size_t k = 0; k < a->folder_count; k++)
            if (!a->folders[k].noselect)
                selectable++;
        answer(f, v->p, a->folder_count > 1, "%zu%s folder%s", a->folder_count,
               a->folders_truncated ? "+" : "", a->folder_count == 1 ? "" : "s");
        put(ev, evc, "LIST after sign-in: %zu folder%s%s", a->folder_count,
            a->folder_count == 1 ? "" : "s", a->folders_truncated ? " (list cut at the cap)" : "");
        if (selectable != a->folder_count)
            app(ev, evc, ", %zu not selectable", a->folder_count - selectable);
        return;
    }
    if (id == MS_FEATURE_SENT_ITEMS_ON_SERVER) {
        const struct ms_folder *by_name = NULL;
        for (size_t k = 0; k < a->folder_count; k++) {
            const struct ms_folder *fo = &a->folders[k];
            if (has_phrase(fo->special_use, "Sent") && strstr(fo->special_use, "\\")) {
                answer(f, v->p, true, "yes");
                put(ev, evc, "\\Sent folder \"%s\" (SPECIAL-USE)", fo->name);
                return;
            }
            if (!by_name && !fo->noselect && is_sent_name(fo->name))
                by_name = fo;
        }
        if (by_name) {
            answer(f, v->p, true, "yes");
            put(ev, evc, "folder \"%s\" (by its name; no \\Sent flag)", by_name->name);
            return;
        }
        answer(f, v->p, false, "no");
        put(ev, evc, "no folder is flagged \\Sent or named Sent%s",
            a->list_special_use ? "" : " (the server lists no SPECIAL-USE flags)");
        return;
    }
    /* shared folders */
    if (!a->namespace_read) {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "%s",
            has_cap(v->ep, caps_login(v->ep), "NAMESPACE") ? "NAMESPACE gave no answer"
                                                           : "no NAMESPACE capability");
        return;
    }
    if (a->ns_other_users.count == 0 && a->ns_shared.count == 0) {
        answer(f, v->p, false, "no");
        put(ev, evc, "NAMESPACE lists personal folders only");
        return;
    }
    answer(f, v->p, true, "yes");
    put(ev, evc, "NAMESPACE");
    if (a->ns_other_users.count)
        app(ev, evc, " other users \"%s\"", a->ns_other_users.items[0]);
    if (a->ns_shared.count)
        app(ev, evc, "%s shared \"%s\"", a->ns_other_users.count ? "," : "", a->ns_shared.items[0]);
}

static void f_headers_only(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    if (v->p == MS_PROTOCOL_IMAP) {
        answer(f, v->p, true, "yes");
        put(ev, evc, "IMAP FETCH BODY.PEEK[HEADER]");
        return;
    }
    const struct ms_strlist *caps = caps_best(ep);
    if (v->account && ep->account.pop3_top_tried) {
        answer(f, v->p, ep->account.pop3_top_works, "%s",
               ep->account.pop3_top_works ? "yes" : "no");
        put(ev, evc, "TOP %s after sign-in", ep->account.pop3_top_works ? "works" : "failed");
    } else if (caps) {
        bool top = has_cap(ep, caps, "TOP");
        answer(f, v->p, top, "%s", top ? "yes" : "no");
        put(ev, evc, "%s", top ? "TOP offered" : "no TOP in CAPA");
    } else {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "CAPA was not read");
    }
}

static void f_push(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    if (v->p == MS_PROTOCOL_POP3) {
        answer(f, v->p, false, "no");
        put(ev, evc, "POP3 has no push: mail programs poll");
        return;
    }
    const struct ms_strlist *login = caps_login(ep), *pre = caps_pre(ep);
    if (has_cap(ep, login, "IDLE") || has_cap(ep, pre, "IDLE")) {
        answer(f, v->p, true, "yes");
        put(ev, evc, "IDLE %s sign-in", has_cap(ep, login, "IDLE") ? "after" : "before");
    } else if (login) {
        answer(f, v->p, false, "no");
        put(ev, evc, "no IDLE after sign-in");
    } else {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "no IDLE before sign-in (servers may add it after); %s", v->needs);
    }
}

static void f_poll(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    if (v->p == MS_PROTOCOL_IMAP) {
        bool idle = has_cap(v->ep, caps_best(v->ep), "IDLE");
        answer(f, v->p, true, "none");
        put(ev, evc, "IMAP has no LOGIN-DELAY%s", idle ? "; IDLE pushes new mail" : "");
        return;
    }
    bool after;
    long d = pop3_login_delay(v, &after);
    if (d < 0) {
        answer(f, v->p, false, "unknown");
        if (v->signed_in)
            put(ev, evc, "CAPA after sign-in was not read");
        else
            put(ev, evc, "%s (the per-user LOGIN-DELAY shows only after sign-in)", v->needs);
    } else if (d == 0) {
        answer(f, v->p, true, "none");
        put(ev, evc, "no LOGIN-DELAY after sign-in");
    } else {
        answer(f, v->p, true, "%ld s", d);
        put(ev, evc, "LOGIN-DELAY %ld %s sign-in%s", d, after ? "after" : "before",
            after ? "" : " (server-wide)");
    }
}

static void f_secure(const struct ctx *c, const struct ms_assessment *a, const struct pview *v,
                     struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_protocol_verdict *vd = NULL;
    for (size_t k = 0; k < a->verdict_count; k++)
        if (a->verdicts[k].protocol == v->p)
            vd = &a->verdicts[k];
    const struct ms_endpoint_result *rec = ms_assess_recommended(c->r, a, v->p);
    if (vd && vd->available) {
        answer(f, v->p, true, "yes");
        if (rec)
            put(ev, evc, "%s on %u, %s, certificate verified", security_words(rec->security),
                (unsigned)rec->port, rec->tls.version[0] ? rec->tls.version : "TLS");
        else
            put(ev, evc, "%s", vd->summary);
    } else {
        answer(f, v->p, false, "no");
        put(ev, evc, "%s",
            a->not_recommended[v->p][0] ? a->not_recommended[v->p]
            : vd                        ? vd->summary
                                        : "no endpoint was checked");
    }
}

static bool is_password_mech(const char *m)
{
    return !is_token_mech(m) && strcasecmp(m, "GSSAPI") != 0 && strcasecmp(m, "EXTERNAL") != 0 &&
           strcasecmp(m, "ANONYMOUS") != 0;
}

static void f_sign_in(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    const struct ms_strlist *pre = caps_pre(ep);
    char names[32][32], list[200] = "", pw[160] = "", oauth[80] = "";
    size_t n = ms_assess_mechanisms(ep, names, 32, true);
    for (size_t k = 0; k < n; k++) {
        app(list, sizeof list, "%s%s", k ? ", " : "", names[k]);
        if (is_token_mech(names[k]))
            app(oauth, sizeof oauth, "%s%s", oauth[0] ? ", " : "", names[k]);
        else if (is_password_mech(names[k]))
            app(pw, sizeof pw, "%s%s", pw[0] ? ", " : "", names[k]);
    }
    const char *where = ep->tls.established ? "over TLS" : "without TLS";
    if (v->p == MS_PROTOCOL_IMAP && !n && pre && !ms_strlist_has(pre, "LOGINDISABLED")) {
        answer(f, v->p, true, "IMAP LOGIN");
        put(ev, evc, "no AUTH= mechanism, LOGIN command allowed %s on %u", where,
            (unsigned)ep->port);
        return;
    }
    if (v->p == MS_PROTOCOL_POP3 && !pre) {
        answer(f, v->p, true, "USER (assumed)");
        put(ev, evc, "no CAPA: RFC 1939 servers take USER/PASS");
        return;
    }
    if (!pre) {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "capabilities were not read");
        return;
    }
    if (!n) {
        answer(f, v->p, false, "none");
        put(ev, evc, "%s offered %s on %u",
            v->p == MS_PROTOCOL_IMAP ? "LOGINDISABLED and no AUTH= mechanism"
                                     : "no USER and no SASL mechanism",
            where, (unsigned)ep->port);
        return;
    }
    answer(f, v->p, true, "%s", list);
    put(ev, evc, "%s on %u: password %s%s%s, OAuth2 %s%s%s", where, (unsigned)ep->port,
        pw[0] ? "yes (" : "no", pw, pw[0] ? ")" : "", oauth[0] ? "yes (" : "no", oauth,
        oauth[0] ? ")" : "");
}

static void f_quota(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    const struct ms_account_facts *a = &ep->account;
    if (v->p == MS_PROTOCOL_POP3) {
        answer(f, v->p, false, "n/a");
        put(ev, evc, "POP3 cannot ask for a quota");
        if (v->account && a->pop3_messages >= 0 && a->pop3_octets >= 0) {
            char size[32];
            fmt_kb((a->pop3_octets + 1023) / 1024, size, sizeof size);
            app(ev, evc, "; STAT: %ld message%s, %s", a->pop3_messages,
                a->pop3_messages == 1 ? "" : "s", size);
        }
        return;
    }
    if (!v->account) {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "%s", v->needs);
        return;
    }
    if (!a->quota_read || a->quota_storage_used_kb < 0) {
        answer(f, v->p, false, "unknown");
        put(ev, evc, "%s",
            has_cap(ep, caps_login(ep), "QUOTA")
                ? "QUOTA offered, but GETQUOTAROOT INBOX gave no storage quota"
                : "the server offers no QUOTA extension");
        return;
    }
    char used[32], limit[32];
    fmt_kb(a->quota_storage_used_kb, used, sizeof used);
    if (a->quota_storage_limit_kb > 0) {
        fmt_kb(a->quota_storage_limit_kb, limit, sizeof limit);
        answer(f, v->p, true, "%s of %s (%lld%%)", used, limit,
               a->quota_storage_used_kb * 100 / a->quota_storage_limit_kb);
        put(ev, evc, "GETQUOTAROOT INBOX: root \"%s\", STORAGE %lld of %lld KB", a->quota_root,
            a->quota_storage_used_kb, a->quota_storage_limit_kb);
    } else {
        answer(f, v->p, true, "%s used, no limit", used);
        put(ev, evc, "GETQUOTAROOT INBOX: root \"%s\", STORAGE %lld KB, no limit", a->quota_root,
            a->quota_storage_used_kb);
    }
}

/* The endpoint whose facts answer for p: the one that tried to sign in, else the
 * recommended one, else the one that got furthest (capabilities read) and ranks best. */
static long summary_source(const struct ctx *c, const struct ms_assessment *a, enum ms_protocol p,
                           long auth_at)
{
    const struct ms_result *r = c->r;
    if (auth_at >= 0 && r->endpoints[auth_at].auth.attempted && caps_pre(&r->endpoints[auth_at]))
        return auth_at;
    if (a->recommended[p] >= 0)
        return a->recommended[p];
    long best = -1;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        if (ep->protocol != p || !caps_pre(ep))
            continue;
        if (best < 0) {
            best = (long)i;
            continue;
        }
        bool si = ms_assess_endpoint_secure(ep),
             sb = ms_assess_endpoint_secure(&r->endpoints[best]);
        if ((si && !sb) || (si == sb && rank_cmp(r, a->endpoint_status, i, (size_t)best) < 0))
            best = (long)i;
    }
    return best;
}

static void make_schedule(const struct ctx *c, struct ms_assessment *a, struct pview *v)
{
    const struct ms_result *r = c->r;
    struct ms_summary *s = &a->summary;
    bool usable[2];
    for (int p = 0; p < 2; p++)
        usable[p] = v[p].in_play && v[p].ep && a->recommended[p] >= 0 &&
                    (!r->credentials_given || v[p].outcome == MS_AUTH_OK);
    struct pview *im = &v[MS_PROTOCOL_IMAP], *po = &v[MS_PROTOCOL_POP3];
    bool push = usable[MS_PROTOCOL_IMAP] && has_cap(im->ep, caps_best(im->ep), "IDLE");
    bool after;
    long delay = po->ep ? pop3_login_delay(po, &after) : -1;
    bool per_user;
    long expire = po->in_play && po->ep ? pop3_expire(po, &after, &per_user) : -2;
    bool use_pop3 = false;

    if (push) {
        s->poll_interval_s = 0;
        put(s->schedule, sizeof s->schedule,
            "Push: use IMAP with IDLE; new mail arrives at once, no polling needed (where IDLE "
            "is not used, check every %d minutes).",
            DEFAULT_POLL_S / 60);
    } else if (usable[MS_PROTOCOL_IMAP] &&
               (a->preferred != MS_PROTOCOL_POP3 || !usable[MS_PROTOCOL_POP3])) {
        s->poll_interval_s = DEFAULT_POLL_S;
        put(s->schedule, sizeof s->schedule,
            "Poll: IMAP offers no IDLE (push) here; check for new mail every %d minutes.",
            DEFAULT_POLL_S / 60);
    } else if (usable[MS_PROTOCOL_POP3]) {
        use_pop3 = true;
        long secs = delay > DEFAULT_POLL_S ? delay : DEFAULT_POLL_S;
        long minutes = (secs + 59) / 60;
        s->poll_interval_s = minutes * 60;
        put(s->schedule, sizeof s->schedule, "Poll: check POP3 every %ld minutes", minutes);
        if (delay > DEFAULT_POLL_S)
            app(s->schedule, sizeof s->schedule,
                " (the server allows one sign-in per %ld s: LOGIN-DELAY).", delay);
        else if (delay > 0)
            app(s->schedule, sizeof s->schedule,
                " (LOGIN-DELAY %ld s; checking more often only adds load).", delay);
        else if (delay == 0)
            app(s->schedule, sizeof s->schedule,
                " (no LOGIN-DELAY; checking more often only adds load).");
        else
            app(s->schedule, sizeof s->schedule,
                " (the LOGIN-DELAY is not known%s; checking more often only adds load).",
                r->credentials_given ? "" : " without sign-in");
    } else {
        bool refused = false;
        for (int p = 0; p < 2; p++)
            if (v[p].in_play && ms_auth_outcome_code(v[p].outcome) &&
                auth_severity(v[p].outcome) != MS_SEVERITY_INFO)
                refused = true;
        s->poll_interval_s = -1;
        put(s->schedule, sizeof s->schedule, "No schedule: %s.",
            refused ? "signing in failed wherever it was tried (see the findings)"
                    : "no protocol can be used securely (see the findings)");
    }
    if (expire == 0)
        app(s->schedule, sizeof s->schedule,
            " Warning: the POP3 server deletes mail after download (EXPIRE 0): use IMAP, or do "
            "not rely on POP3 to keep copies on the server.");
    else if (use_pop3 && expire > 0)
        app(s->schedule, sizeof s->schedule,
            " POP3 keeps downloaded mail for %ld days only (EXPIRE %ld).", expire, expire);
}

static void make_summary(const struct ctx *c, struct ms_assessment *a)
{
    const struct ms_result *r = c->r;
    struct ms_summary *s = &a->summary;
    struct pview v[2];
    memset(v, 0, sizeof v);
    for (int k = 0; k < 2; k++) {
        enum ms_protocol p = k == 0 ? MS_PROTOCOL_IMAP : MS_PROTOCOL_POP3;
        struct pview *pv = &v[p];
        enum auth_hint hint;
        long at;
        pv->p = p;
        pv->in_play = p == MS_PROTOCOL_IMAP ? r->want_imap : r->want_pop3;
        for (size_t i = 0; i < r->endpoint_count; i++)
            if (r->endpoints[i].protocol == p)
                pv->in_play = true;
        pv->outcome = protocol_auth(r, p, &at, &hint);
        pv->au = at >= 0 ? &r->endpoints[at] : NULL;
        long src = pv->in_play ? summary_source(c, a, p, at) : -1;
        pv->ep = src >= 0 ? &r->endpoints[src] : NULL;
        pv->signed_in = pv->outcome == MS_AUTH_OK && src == at;
        pv->account = pv->signed_in && pv->ep->account.read;
        if (!r->credentials_given)
            put(pv->needs, sizeof pv->needs, "%s", MS_NEEDS_SIGN_IN_NO_CREDENTIALS);
        else if (pv->signed_in)
            put(pv->needs, sizeof pv->needs, "signed in, but the account queries did not finish");
        else if (pv->outcome == MS_AUTH_NONE || pv->outcome == MS_AUTH_NOT_CHOSEN)
            put(pv->needs, sizeof pv->needs, "needs sign-in (no %s endpoint got as far as sign-in)",
                proto_upper(p));
        else
            put(pv->needs, sizeof pv->needs, "needs sign-in (%s)", outcome_words(pv->outcome));
        s->in_play[p] = pv->in_play;
        s->source[p] = src;
        s->auth_endpoint[p] = at;
        s->auth[p] = pv->outcome;
        s->signed_in[p] = pv->outcome == MS_AUTH_OK ? at : -1;
    }

    for (int id = 0; id < MS_FEATURE_COUNT; id++) {
        struct ms_feature *f = &s->features[id];
        char ev[2][400];
        f->id = feature_text[id].id;
        f->question = feature_text[id].question;
        f->label = feature_text[id].label;
        f->evidence[0] = '\0';
        for (int k = 0; k < 2; k++) {
            struct pview *pv = &v[k];
            enum ms_protocol p = pv->p;
            ev[p][0] = '\0';
            if (!pv->in_play) {
                answer(f, p, false, "n/a");
                continue;
            }
            /* questions that do not apply to POP3 */
            if (p == MS_PROTOCOL_POP3 && id == MS_FEATURE_SERVER_FOLDERS) {
                answer(f, p, false, "no");
                put(ev[p], sizeof ev[p], "POP3 reads only the inbox");
                continue;
            }
            if (p == MS_PROTOCOL_POP3 &&
                (id == MS_FEATURE_SENT_ITEMS_ON_SERVER || id == MS_FEATURE_SHARED_FOLDERS)) {
                answer(f, p, false, "n/a");
                put(ev[p], sizeof ev[p], "POP3 has no folders%s",
                    id == MS_FEATURE_SENT_ITEMS_ON_SERVER
                        ? ": mail programs keep sent items on the computer"
                        : "");
                continue;
            }
            if (id == MS_FEATURE_PROTOCOL_ENABLED) {
                if (!pv->au && !pv->ep && r->credentials_given) {
                    answer(f, p, false, "unknown");
                    put(ev[p], sizeof ev[p], "no %s endpoint worked", proto_upper(p));
                } else {
                    f_protocol_enabled(c, pv, f, ev[p], sizeof ev[p]);
                }
                continue;
            }
            if (id == MS_FEATURE_SECURE_CONNECTION) {
                f_secure(c, a, pv, f, ev[p], sizeof ev[p]);
                continue;
            }
            if (!pv->ep) {
                answer(f, p, false, "unknown");
                put(ev[p], sizeof ev[p], "no %s endpoint answered", proto_upper(p));
                continue;
            }
            switch (id) {
            case MS_FEATURE_LEAVE_MAIL_ON_SERVER: f_leave_mail(pv, f, ev[p], sizeof ev[p]); break;
            case MS_FEATURE_SERVER_FOLDERS:
            case MS_FEATURE_SENT_ITEMS_ON_SERVER:
            case MS_FEATURE_SHARED_FOLDERS:
                f_folders(pv, (enum ms_feature_id)id, f, ev[p], sizeof ev[p]);
                break;
            case MS_FEATURE_HEADERS_ONLY_DOWNLOAD:
                f_headers_only(pv, f, ev[p], sizeof ev[p]);
                break;
            case MS_FEATURE_PUSH_MAIL: f_push(pv, f, ev[p], sizeof ev[p]); break;
            case MS_FEATURE_MIN_POLL_INTERVAL: f_poll(pv, f, ev[p], sizeof ev[p]); break;
            case MS_FEATURE_SIGN_IN_METHODS: f_sign_in(pv, f, ev[p], sizeof ev[p]); break;
            default: f_quota(pv, f, ev[p], sizeof ev[p]); break;
            }
        }
        for (int p = 0; p < 2; p++)
            if (ev[p][0])
                app(f->evidence, sizeof f->evidence, "%s%s: %s", f->evidence[0] ? "; " : "",
                    p == MS_PROTOCOL_IMAP ? "IMAP" : "POP3", ev[p]);
        if (!f->evidence[0])
            put(f->evidence, sizeof f->evidence, "no protocol was checked");
    }
    make_schedule(c, a, v);
}

bool ms_assess_feature_holds(const struct ms_assessment *a, const char *id)
{
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        const struct ms_feature *f = &a->summary.features[k];
        if (f->id && strcmp(f->id, id) == 0)
            return (a->summary.in_play[0] && f->positive[0]) ||
                   (a->summary.in_play[1] && f->positive[1]);
    }
    return false;
}

/* ---- entry points ------------------------------------------------------------------ */

int ms_assess(const struct ms_result *result, const struct ms_assess_options *opt,
              struct ms_assessment *out)
{
    struct ctx c = {.r = result, .warn_days = MS_ASSESS_DEFAULT_CERT_WARN_DAYS, .one_host = true};
    enum ms_status *ep_status = NULL;
    enum ms_status *srv_status = NULL; /* without findings about the account */
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
            (rc = judge_misc(&c, idx)) || (rc = judge_families(&c, idx)) ||
            (rc = judge_auth(&c, idx)) || (rc = judge_injection(&c, idx)) ||
            (rc = judge_quota(&c, idx)))
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
            if (endpoint_works(result, c.f, c.n, i))
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
                size_t asked, silent = dns_timeouts(&result->discovery, &asked);
                if (asked > 0 && silent == asked)
                    put(f->remedy, sizeof f->remedy,
                        "Fix DNS first (see dns.timeout), then run mailscope again.");
                else
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
        srv_status = calloc(result->endpoint_count, sizeof *srv_status);
        if (!ep_status || !srv_status) {
            rc = MS_ENOMEM;
            goto out;
        }
    }
    struct status_acc all = {MS_STATUS_OK, false};
    for (size_t i = 0; i < result->endpoint_count; i++) {
        struct status_acc s = {MS_STATUS_OK, false}, srv = {MS_STATUS_OK, false};
        for (size_t k = 0; k < c.n; k++) {
            if (c.f[k].endpoint_index != (long)i)
                continue;
            acc_add(&s, &c.f[k]);
            if (!is_account_code(c.f[k].code))
                acc_add(&srv, &c.f[k]);
        }
        ep_status[i] = acc_status(&s);
        srv_status[i] = acc_status(&srv);
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
    recommend(&c, out, srv_status);
    make_summary(&c, out);

out:
    free(c.f);
    free(ep_status);
    free(srv_status);
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
