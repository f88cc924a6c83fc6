/* Server identification (report/server_id.h): one ordered table of the words each server
 * software puts in its greeting or POP3 IMPLEMENTATION capability.
 *
 * Where the patterns come from (each is a server's default; admins can change greetings):
 *   [nmap]    nmap-service-probes of nmap 7.93 (Debian package nmap-common), the
 *             "match imap" and "match pop3" lines;
 *   [mailkit] MailKit, MailKit/Net/Imap/ImapEngine.cs, DetectQuirksMode();
 *   [cyrus]   Cyrus IMAP, imap/pop3d.c: "IMPLEMENTATION Cyrus POP3 %s";
 *   [courier] Courier, imap/pop3dcapa.c: "IMPLEMENTATION Courier Mail Server";
 *   [mailutils] GNU Mailutils, pop3d/capa.c: "IMPLEMENTATION %s" with PACKAGE_STRING
 *             ("GNU Mailutils 3.15"), and "XTLSREQUIRED" before sign-in when TLS is required;
 *   [stalwart] Stalwart, crates/imap/src/lib.rs: SERVER_GREETING "Stalwart IMAP4rev2 at
 *             your service.";
 *   [smtp]    the SMTP greetings' defaults: Postfix smtpd_banner "$myhostname ESMTP
 *             $mail_name" (postconf(5)), Exim smtp_banner "$smtp_active_hostname ESMTP Exim
 *             $version_number $tod_full" (Exim's spec, chapter 14), Sendmail "$j Sendmail $v/$Z;
 *             $b" (cf/README), Exchange's "Microsoft ESMTP MAIL Service ready at ..." and
 *             Gmail's "... ESMTP ... - gsmtp" (nmap-service-probes "match smtp"). */
#include "report/server_id.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"

enum how {
    WORDS,  /* text occurs as whole words (ASCII case ignored) */
    PREFIX, /* the greeting's text (after status and [code]) starts with it */
};

struct rule {
    enum ms_server_software sw;
    enum how how;
    const char *text;
    enum ms_server_confidence conf;
    const char *high_if;       /* non-NULL: HIGH when these words follow, else MEDIUM */
    bool version;              /* the version is the next number-like token after text... */
    const char *version_after; /* ... or after these words, when given */
};

#define HIGH MS_SERVER_CONFIDENCE_HIGH
#define MEDIUM MS_SERVER_CONFIDENCE_MEDIUM

static const struct rule rules[] = {
    /* [nmap] "Dovecot ready.", "Dovecot (Ubuntu) ready.", "Dovecot at HOST is ready.",
     * "Dovecot DA ready.", "+OK Dovecot ready."; [mailkit] "Dovecot ready." */
    {MS_SERVER_DOVECOT, WORDS, "Dovecot", MEDIUM, "ready", true,
     NULL}, /* a custom greeting may show the version */
    /* [nmap], [mailkit] "Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc." */
    {MS_SERVER_COURIER, WORDS, "Courier-IMAP", HIGH, NULL, false, NULL},
    /* [courier] IMPLEMENTATION */
    {MS_SERVER_COURIER, WORDS, "Courier Mail Server", HIGH, NULL, false, NULL},
    /* [nmap] "+OK Hello there." is Courier's POP3 greeting */
    {MS_SERVER_COURIER, PREFIX, "Hello there.", MEDIUM, NULL, false, NULL},
    /* [nmap] "HOST Cyrus IMAP4 v2.3.7 server ready", "HOST Cyrus IMAP 3.0.8-Debian-3.0.8-6
     * server ready", "HOST Cyrus POP3 v2.4.17 server ready", "Cyrus IMAP4 Murder v2.x";
     * [mailkit] " Cyrus IMAP "; [cyrus] "IMPLEMENTATION Cyrus POP3 3.x" */
    {MS_SERVER_CYRUS, WORDS, "Cyrus IMAP4", HIGH, NULL, true, NULL},
    {MS_SERVER_CYRUS, WORDS, "Cyrus IMAP", HIGH, NULL, true, NULL},
    {MS_SERVER_CYRUS, WORDS, "Cyrus POP3", HIGH, NULL, true, NULL},
    /* [nmap] "The Microsoft Exchange IMAP4 service is ready.", "+OK The Microsoft Exchange
     * POP3 service is ready. [base64]" (Exchange Online), "Microsoft Exchange Server 2003
     * IMAP4rev1 server version 6.5.7638.1 (HOST) ready."; [mailkit] the same */
    {MS_SERVER_EXCHANGE, WORDS, "Microsoft Exchange", HIGH, NULL, false, "version"},
    /* [nmap] "* OK IMAP4rev1 GNU mailutils 3.x"; [mailutils] "IMPLEMENTATION GNU Mailutils
     * 3.15" */
    {MS_SERVER_MAILUTILS, WORDS, "GNU Mailutils", HIGH, NULL, true, NULL},
    /* [nmap] "HOST Zimbra IMAP4rev1 service ready", "HOST Zimbra POP3 server ready" */
    {MS_SERVER_ZIMBRA, WORDS, "Zimbra", HIGH, NULL, false, NULL},
    /* [nmap] "IMAPrev1 Service Ready - hMailServer 5.6.7", "+OK (POP3) hMailServer 5.6.7" */
    {MS_SERVER_HMAILSERVER, WORDS, "hMailServer", HIGH, NULL, true, NULL},
    /* [mailkit] a greeting "IMAPrev1" is hMailServer's default (its IMAPConnection.cpp) */
    {MS_SERVER_HMAILSERVER, PREFIX, "IMAPrev1", MEDIUM, NULL, false, NULL},
    /* [nmap], [mailkit] "Gimap ready for requests from 192.0.2.1 x", "+OK Gpop ready ..." */
    {MS_SERVER_GMAIL, PREFIX, "Gimap ready", HIGH, NULL, false, NULL},
    {MS_SERVER_GMAIL, PREFIX, "Gpop ready", HIGH, NULL, false, NULL},
    /* [nmap] "Kerio Connect 9.2.1 IMAP4rev1 server ready", "Kerio MailServer 6.7.3 POP3
     * server ready <...>" */
    {MS_SERVER_KERIO, WORDS, "Kerio Connect", HIGH, NULL, true, NULL},
    {MS_SERVER_KERIO, WORDS, "Kerio MailServer", HIGH, NULL, true, NULL},
    /* [nmap] "HOST IMAP4rev1 MDaemon 19.0.2 ready", "+OK HOST POP MDaemon 9.0.4 ready" */
    {MS_SERVER_MDAEMON, WORDS, "MDaemon", HIGH, NULL, true, NULL},
    /* [nmap] "Axigen-10.3.1 (Linux/x64) IMAP4rev1 service is ready", "AXIGEN IMAP4rev1
     * service is ready", "+OK AXIGEN POP3 server on HOST ready" */
    {MS_SERVER_AXIGEN, WORDS, "Axigen-", HIGH, NULL, true, NULL},
    {MS_SERVER_AXIGEN, WORDS, "Axigen", HIGH, NULL, true, NULL},
    /* [stalwart] */
    {MS_SERVER_STALWART, WORDS, "Stalwart", HIGH, NULL, false, NULL},
    /* [nmap] "+OK Qpopper (version 4.1.0) at HOST starting.", "+OK QPOP (version 2.53) at" */
    {MS_SERVER_QPOPPER, WORDS, "Qpopper", HIGH, NULL, false, "version"},
    {MS_SERVER_QPOPPER, WORDS, "QPOP", HIGH, NULL, false, "version"},
    /* [smtp] "220 mail.example.com ESMTP Postfix", "... ESMTP Postfix (Debian/GNU)" */
    {MS_SERVER_POSTFIX, WORDS, "ESMTP Postfix", HIGH, NULL, false, NULL},
    /* [smtp] "220 mail.example.com ESMTP Exim 4.96 Fri, 04 Dec 2026 20:00:00 +0000" */
    {MS_SERVER_EXIM, WORDS, "ESMTP Exim", HIGH, NULL, true, NULL},
    /* [smtp] "220 mail.example.com ESMTP Sendmail 8.17.1.9/8.17.1.9; Fri, 4 Dec 2026" */
    {MS_SERVER_SENDMAIL, WORDS, "ESMTP Sendmail", HIGH, NULL, true, NULL},
    /* [smtp] "220 AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at
     * Fri, 4 Dec 2026 ..." (Exchange and Exchange Online) */
    {MS_SERVER_EXCHANGE, WORDS, "Microsoft ESMTP MAIL Service", HIGH, NULL, false, "Version:"},
    /* [smtp] "220 smtp.gmail.com ESMTP a640c23a62f3a-a7a3b5a7b0cmsm1 - gsmtp" */
    {MS_SERVER_GMAIL, WORDS, "gsmtp", HIGH, NULL, false, NULL},
};

static bool name_char(char c)
{
    /* a host name, an address or a path continues with these: "mail.dovecot-fans.org" */
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_' || c == '@' || c == '/';
}

/* Where text occurs in s as whole words (ASCII case ignored), or NULL. A text that ends with
 * '-' may be followed by anything ("Axigen-10.3"). */
static const char *find_words(const char *s, const char *text)
{
    size_t n = strlen(text);
    bool open_end = n && !isalnum((unsigned char)text[n - 1]);
    for (const char *p = s; *p; p++)
        if (strncasecmp(p, text, n) == 0 && (p == s || !name_char(p[-1])) &&
            (open_end || !name_char(p[n]) || (p[n] == '.' && !name_char(p[n + 1]))))
            return p;
    return NULL;
}

/* The greeting's text after "* OK", "+OK" and a "[CODE ...]". */
static const char *greeting_text(const char *g)
{
    if (g[0] == '*' && g[1] == ' ') {
        g += 2;
        while (*g && *g != ' ')
            g++; /* OK, PREAUTH, BYE */
    } else if (g[0] == '+' || g[0] == '-') {
        while (*g && *g != ' ')
            g++; /* +OK, -ERR */
    }
    while (*g == ' ')
        g++;
    if (*g == '[') {
        const char *close = strchr(g, ']');
        if (close) {
            g = close + 1;
            while (*g == ' ')
                g++;
        }
    }
    return g;
}

/* The number-like token at p (after spaces, "Murder", an opening '(' and a 'v'): it starts
 * with a digit. "" when there is none. */
static void take_version(const char *p, char *buf, size_t cap)
{
    buf[0] = '\0';
    while (*p == ' ' || *p == '(')
        p++;
    if (strncasecmp(p, "Murder ", 7) == 0)
        p += 7;
    if ((*p == 'v' || *p == 'V') && isdigit((unsigned char)p[1]))
        p++;
    if (!isdigit((unsigned char)*p))
        return;
    size_t n = 0;
    while (p[n] && (isalnum((unsigned char)p[n]) || strchr(".+~_-", p[n])))
        n++;
    while (n && (p[n - 1] == '.' || p[n - 1] == '-'))
        n--; /* "5.6.7." at the end of a sentence */
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

/* UW IMAP's version in its greeting: "IMAP4rev1 2007f.404 at", "+OK POP3 HOST v2007f.104
 * server ready" ([nmap]; [mailkit] " IMAP4rev1 2007f."): a word v?YYYY[a-z].N. */
static bool uw_version(const char *s, char *buf, size_t cap)
{
    if (!find_words(s, "IMAP4rev1") && !find_words(s, "POP3"))
        return false;
    for (const char *p = s; *p; p++) {
        if (p != s && p[-1] != ' ')
            continue;
        const char *q = *p == 'v' ? p + 1 : p;
        if (!(q[0] == '1' || q[0] == '2') || !isdigit((unsigned char)q[1]) ||
            !isdigit((unsigned char)q[2]) || !isdigit((unsigned char)q[3]))
            continue;
        const char *r = q + 4;
        if (isalpha((unsigned char)*r))
            r++;
        if (*r != '.' || !isdigit((unsigned char)r[1]))
            continue;
        size_t n = strcspn(q, " ");
        snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), q);
        return true;
    }
    return false;
}

static bool match_rules(const char *text, bool greeting, enum ms_server_source from,
                        struct ms_server_id *out)
{
    const char *body = greeting ? greeting_text(text) : text;
    for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
        const struct rule *r = &rules[k];
        const char *at = NULL;
        if (r->how == PREFIX)
            at = strncasecmp(body, r->text, strlen(r->text)) == 0 ? body : NULL;
        else
            at = find_words(body, r->text);
        if (!at)
            continue;
        const char *after = at + strlen(r->text);
        out->software = r->sw;
        out->from = from;
        out->confidence = r->conf;
        if (r->high_if && find_words(after, r->high_if))
            out->confidence = HIGH;
        if (r->version) {
            take_version(after, out->version, sizeof out->version);
        } else if (r->version_after) {
            const char *v = find_words(after, r->version_after);
            if (v)
                take_version(v + strlen(r->version_after), out->version, sizeof out->version);
        }
        return true;
    }
    if (greeting && uw_version(body, out->version, sizeof out->version)) {
        out->software = MS_SERVER_UW;
        out->from = from;
        out->confidence = MEDIUM;
        return true;
    }
    return false;
}

void ms_server_identify_text(const char *greeting, const char *implementation,
                             struct ms_server_id *out)
{
    memset(out, 0, sizeof *out);
    if (implementation && match_rules(implementation, false, MS_SERVER_FROM_IMPLEMENTATION, out))
        return;
    memset(out, 0, sizeof *out);
    if (greeting && match_rules(greeting, true, MS_SERVER_FROM_GREETING, out))
        return;
    memset(out, 0, sizeof *out);
}

void ms_server_identify(const struct ms_endpoint_result *ep, struct ms_server_id *out)
{
    const struct ms_strlist *lists[] = {&ep->caps_after_login, &ep->caps_after_tls,
                                        &ep->caps_before_tls};
    const char *impl = NULL;
    bool xtlsrequired = false;
    if (ep->protocol == MS_PROTOCOL_POP3)
        for (size_t k = 0; k < 3; k++) {
            const char *line = ms_caps_pop3_find(lists[k], "IMPLEMENTATION");
            if (line && !impl)
                impl = line + strlen("IMPLEMENTATION");
            if (ms_caps_pop3_find(lists[k], "XTLSREQUIRED"))
                xtlsrequired = true;
        }
    while (impl && *impl == ' ')
        impl++;
    ms_server_identify_text(ep->greeting, impl, out);
    if (out->software != MS_SERVER_UNKNOWN)
        return;
    if (xtlsrequired) {
        out->software = MS_SERVER_MAILUTILS; /* [mailutils] */
        out->from = MS_SERVER_FROM_CAPABILITIES;
        out->confidence = MEDIUM;
        return;
    }
    /* Exchange and Exchange Online answer every command so after accepting the password of
     * a mailbox whose protocol is off (report/assess_auth.c, auth_rules) */
    static const char exchange[] = "User is authenticated but not connected";
    if (find_words(ep->auth.server_response, exchange) ||
        find_words(ep->auth.refused_after_login, exchange) ||
        find_words(ep->failure_message, exchange)) {
        out->software = MS_SERVER_EXCHANGE;
        out->from = MS_SERVER_FROM_SIGN_IN;
        out->confidence = MEDIUM;
    }
}

const char *ms_server_software_name(enum ms_server_software s)
{
    static const char *const names[MS_SERVER_COUNT] = {
        [MS_SERVER_DOVECOT] = "dovecot",
        [MS_SERVER_COURIER] = "courier",
        [MS_SERVER_CYRUS] = "cyrus",
        [MS_SERVER_EXCHANGE] = "exchange",
        [MS_SERVER_MAILUTILS] = "mailutils",
        [MS_SERVER_ZIMBRA] = "zimbra",
        [MS_SERVER_HMAILSERVER] = "hmailserver",
        [MS_SERVER_GMAIL] = "gmail",
        [MS_SERVER_UW] = "uw-imap",
        [MS_SERVER_KERIO] = "kerio",
        [MS_SERVER_MDAEMON] = "mdaemon",
        [MS_SERVER_AXIGEN] = "axigen",
        [MS_SERVER_STALWART] = "stalwart",
        [MS_SERVER_QPOPPER] = "qpopper",
        [MS_SERVER_POSTFIX] = "postfix",
        [MS_SERVER_EXIM] = "exim",
        [MS_SERVER_SENDMAIL] = "sendmail",
    };
    return (unsigned)s < MS_SERVER_COUNT ? names[s] : NULL;
}

const char *ms_server_software_label(enum ms_server_software s)
{
    static const char *const labels[MS_SERVER_COUNT] = {
        [MS_SERVER_UNKNOWN] = "an unidentified server",
        [MS_SERVER_DOVECOT] = "Dovecot",
        [MS_SERVER_COURIER] = "Courier",
        [MS_SERVER_CYRUS] = "Cyrus IMAP",
        [MS_SERVER_EXCHANGE] = "Microsoft Exchange",
        [MS_SERVER_MAILUTILS] = "GNU Mailutils",
        [MS_SERVER_ZIMBRA] = "Zimbra",
        [MS_SERVER_HMAILSERVER] = "hMailServer",
        [MS_SERVER_GMAIL] = "Gmail",
        [MS_SERVER_UW] = "UW IMAP",
        [MS_SERVER_KERIO] = "Kerio Connect",
        [MS_SERVER_MDAEMON] = "MDaemon",
        [MS_SERVER_AXIGEN] = "Axigen",
        [MS_SERVER_STALWART] = "Stalwart",
        [MS_SERVER_QPOPPER] = "Qpopper",
        [MS_SERVER_POSTFIX] = "Postfix",
        [MS_SERVER_EXIM] = "Exim",
        [MS_SERVER_SENDMAIL] = "Sendmail",
    };
    return (unsigned)s < MS_SERVER_COUNT ? labels[s] : labels[0];
}

const char *ms_server_source_name(enum ms_server_source s)
{
    switch (s) {
    case MS_SERVER_FROM_GREETING: return "greeting";
    case MS_SERVER_FROM_IMPLEMENTATION: return "implementation";
    case MS_SERVER_FROM_CAPABILITIES: return "capabilities";
    case MS_SERVER_FROM_SIGN_IN: return "sign_in";
    default: return NULL;
    }
}

const char *ms_server_confidence_name(enum ms_server_confidence c)
{
    switch (c) {
    case MS_SERVER_CONFIDENCE_HIGH: return "high";
    case MS_SERVER_CONFIDENCE_MEDIUM: return "medium";
    default: return NULL;
    }
}
