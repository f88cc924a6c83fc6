/* Findings about one endpoint's session: how it failed, its certificate and TLS version,
 * password sign-in before TLS, ignored alerts, plaintext use, IPv4/IPv6 reachability and
 * STARTTLS command injection. */
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/assess_internal.h"

/* ---- small string helpers ---------------------------------------------------------- */

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
            ms_assess_cert_cn(cert->subject, cn, sizeof cn, "(no subject)");
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

int judge_failure(struct ctx *c, long i)
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

/* Plain words for the verification errors that are neither dates nor names. */
static const char *verify_words(enum ms_cert_problem p)
{
    switch (p) {
    case MS_CERT_SELF_SIGNED: return "the certificate is self-signed";
    case MS_CERT_SELF_SIGNED_IN_CHAIN: return "the chain ends in an untrusted self-signed root";
    case MS_CERT_UNKNOWN_ISSUER:
        return "its issuer is unknown here (an unknown CA, or the server omits intermediates)";
    case MS_CERT_CHAIN_INCOMPLETE:
        return "the chain is incomplete (the server omits intermediate certificates)";
    case MS_CERT_REVOKED: return "the certificate has been revoked";
    case MS_CERT_BAD_SIGNATURE: return "a signature in the chain is invalid";
    case MS_CERT_KEY_TOO_SMALL: return "the certificate's key is too small";
    case MS_CERT_CA_KEY_TOO_SMALL: return "the CA's key is too small";
    case MS_CERT_WEAK_SIGNATURE: return "the chain uses a too weak signature algorithm";
    case MS_CERT_INVALID_CA: return "an issuer in the chain is not a valid CA";
    case MS_CERT_INVALID_PURPOSE: return "the certificate is not meant for TLS servers";
    case MS_CERT_UNTRUSTED: return "the root CA is not trusted for this purpose";
    default: return NULL;
    }
}

static int judge_untrusted(struct ctx *c, long i, bool other_cert_finding)
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

    struct ms_finding *f = add(c, MS_SEVERITY_CRITICAL, "tls.cert_untrusted", i);
    if (!f)
        return MS_ENOMEM;
    char lab[320], subj[256], issuer[256];
    ep_label(c, ep, lab, sizeof lab);
    ms_assess_cert_cn(t->cert.subject, subj, sizeof subj, "(no subject)");
    ms_assess_cert_cn(t->cert.issuer, issuer, sizeof issuer, "(no subject)");
    const char *words = verify_words(first);

    if (no_cert) {
        put(f->message, sizeof f->message,
            "%s sent no certificate, so mail programs cannot tell it is the real server.", lab);
    } else if (first == MS_CERT_SELF_SIGNED || first == MS_CERT_SELF_SIGNED_IN_CHAIN) {
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

    if (first == MS_CERT_SELF_SIGNED || first == MS_CERT_SELF_SIGNED_IN_CHAIN)
        put(f->remedy, sizeof f->remedy,
            "Replace the certificate for %s with one from a public CA (e.g. Let's Encrypt). "
            "With a private CA, install the CA on every client and pass --ca-file to "
            "mailscope.",
            ep->host);
    else if (first == MS_CERT_UNKNOWN_ISSUER || first == MS_CERT_CHAIN_INCOMPLETE)
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

int judge_cert(struct ctx *c, long i)
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
    bool expired = leaf_expired || has_problem(t, MS_CERT_EXPIRED);
    bool nyv = has_problem(t, MS_CERT_NOT_YET_VALID) ||
               (t->has_certificate && r->started_at > 0 && cert->not_before_epoch > r->started_at);
    /* hostname_match is only trusted from a completed handshake; before that, only
     * OpenSSL's own verdict counts. */
    bool mismatch = has_problem(t, MS_CERT_NAME_MISMATCH) ||
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

int judge_tls_version(struct ctx *c, long i)
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

int judge_plaintext_login(struct ctx *c, long i)
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

int judge_misc(struct ctx *c, long i)
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
int judge_families(struct ctx *c, long i)
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

/* --injection-test: the server answered a command injected before STARTTLS inside TLS. */
int judge_injection(struct ctx *c, long i)
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
