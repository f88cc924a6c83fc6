/* Unit tests of server identification (report/server_id.c) against real greetings and
 * IMPLEMENTATION capabilities (each from the source named in server_id.c), and of the
 * remedies that name the identified server's settings (catalogue.c ms_server_settings). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fixture.h"
#include "probe/result.h"
#include "report/assess.h"
#include "report/server_id.h"

struct banner {
    const char *greeting, *implementation;
    enum ms_server_software software;
    const char *version;
    enum ms_server_source from;
    enum ms_server_confidence confidence;
};

#define GREETING MS_SERVER_FROM_GREETING
#define IMPL MS_SERVER_FROM_IMPLEMENTATION
#define HIGH MS_SERVER_CONFIDENCE_HIGH
#define MEDIUM MS_SERVER_CONFIDENCE_MEDIUM
#define NONE MS_SERVER_CONFIDENCE_NONE
#define NO_SOURCE MS_SERVER_FROM_NONE

static const struct banner banners[] = {
    /* SMTP submission servers: their default greetings (report/server_id.c, [smtp]) */
    {"220 mail.example.com ESMTP Postfix", NULL, MS_SERVER_POSTFIX, "", GREETING, HIGH},
    {"220 mail.example.com ESMTP Postfix (Debian/GNU)", NULL, MS_SERVER_POSTFIX, "", GREETING,
     HIGH},
    {"220 mail.example.com ESMTP Exim 4.96 Fri, 04 Dec 2026 20:00:00 +0000", NULL, MS_SERVER_EXIM,
     "4.96", GREETING, HIGH},
    {"220 mail.example.com ESMTP Sendmail 8.17.1.9/8.17.1.9; Fri, 4 Dec 2026 20:00:00 GMT", NULL,
     MS_SERVER_SENDMAIL, "8.17.1.9", GREETING, HIGH},
    {"220 AM0PR01CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Fri, 4 Dec "
     "2026 20:00:00 +0000",
     NULL, MS_SERVER_EXCHANGE, "", GREETING, HIGH},
    {"220 smtp.gmail.com ESMTP a640c23a62f3a-a7a3b5a7b0cmsm1 - gsmtp", NULL, MS_SERVER_GMAIL, "",
     GREETING, HIGH},
    {"220 mail.example.com ESMTP ready", NULL, MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
    /* Dovecot: nmap-service-probes, MailKit, Debian's package */
    {"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
     "LOGINDISABLED] Dovecot (Debian) ready.",
     NULL, MS_SERVER_DOVECOT, "", GREETING, HIGH},
    {"* OK Dovecot ready.", NULL, MS_SERVER_DOVECOT, "", GREETING, HIGH},
    {"* OK Dovecot (Ubuntu) ready.", NULL, MS_SERVER_DOVECOT, "", GREETING, HIGH},
    {"* OK Dovecot at mail.example.com is ready.", NULL, MS_SERVER_DOVECOT, "", GREETING, HIGH},
    {"+OK Dovecot ready.", NULL, MS_SERVER_DOVECOT, "", GREETING, HIGH},
    {"+OK Dovecot DA ready.", NULL, MS_SERVER_DOVECOT, "", GREETING, HIGH},
    {"* OK Welcome to Example Mail, powered by Dovecot", NULL, MS_SERVER_DOVECOT, "", GREETING,
     MEDIUM},
    {"* OK Dovecot 2.4.1 ready.", NULL, MS_SERVER_DOVECOT, "2.4.1", GREETING, HIGH},
    /* Courier */
    {"* OK [CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT "
     "THREAD=REFERENCES SORT QUOTA IDLE ACL ACL2=UNION STARTTLS ENABLE UTF8=ACCEPT] Courier-IMAP "
     "ready. Copyright 1998-2018 Double Precision, Inc.  See COPYING for distribution "
     "information.",
     NULL, MS_SERVER_COURIER, "", GREETING, HIGH},
    {"+OK Hello there.", NULL, MS_SERVER_COURIER, "", GREETING, MEDIUM},
    {"+OK Hello there.", "Courier Mail Server", MS_SERVER_COURIER, "", IMPL, HIGH},
    /* Cyrus */
    {"* OK mail.example.com Cyrus IMAP v2.4.17-Debian-2.4.17+caldav~beta9-3 server ready", NULL,
     MS_SERVER_CYRUS, "2.4.17-Debian-2.4.17+caldav~beta9-3", GREETING, HIGH},
    {"* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE] mail.example.com Cyrus IMAP "
     "3.0.8-Debian-3.0.8-6+deb10u4 server ready",
     NULL, MS_SERVER_CYRUS, "3.0.8-Debian-3.0.8-6+deb10u4", GREETING, HIGH},
    {"* OK mail.example.com Cyrus IMAP4 v2.3.7-Invoca-RPM-2.3.7-7.el5_6.4 server ready", NULL,
     MS_SERVER_CYRUS, "2.3.7-Invoca-RPM-2.3.7-7.el5_6.4", GREETING, HIGH},
    {"+OK example.com Cyrus POP3 v2.3.7-Invoca-RPM-2.3.7-7.el5_6.4 server ready "
     "<2488404358.1644174792@example.com>",
     NULL, MS_SERVER_CYRUS, "2.3.7-Invoca-RPM-2.3.7-7.el5_6.4", GREETING, HIGH},
    {"+OK mail00 Cyrus POP3 Murder v2.2.13 server ready", NULL, MS_SERVER_CYRUS, "2.2.13", GREETING,
     HIGH},
    {"+OK ready", "Cyrus POP3 3.8.1", MS_SERVER_CYRUS, "3.8.1", IMPL, HIGH},
    /* Exchange, Exchange Online */
    {"* OK The Microsoft Exchange IMAP4 service is ready.", NULL, MS_SERVER_EXCHANGE, "", GREETING,
     HIGH},
    {"* OK The Microsoft Exchange IMAP4 service is ready. "
     "[TQBOADIAUABSADIAMQAwADEAQwBBADAAMAAzADYALgBuAGEAbQBwAHIAZAAyADEALgBwAHIAbwBkAC4AbwB1AHQAbABv"
     "AG8"
     "AawAuAGMAbwBtAA==]",
     NULL, MS_SERVER_EXCHANGE, "", GREETING, HIGH},
    {"+OK The Microsoft Exchange POP3 service is ready.", NULL, MS_SERVER_EXCHANGE, "", GREETING,
     HIGH},
    {"* OK Microsoft Exchange Server 2003 IMAP4rev1 server version 6.5.7638.1 (mail.example.com) "
     "ready.",
     NULL, MS_SERVER_EXCHANGE, "6.5.7638.1", GREETING, HIGH},
    /* GNU Mailutils */
    {"* OK IMAP4rev1 GNU mailutils 3.15", NULL, MS_SERVER_MAILUTILS, "3.15", GREETING, HIGH},
    {"+OK POP3 Ready <1234.1700000000@mail.example.com>", "GNU Mailutils 3.15", MS_SERVER_MAILUTILS,
     "3.15", IMPL, HIGH},
    /* Zimbra */
    {"* OK mail.example.com Zimbra IMAP4rev1 server ready", NULL, MS_SERVER_ZIMBRA, "", GREETING,
     HIGH},
    {"+OK mail.example.com Zimbra POP3 server ready", NULL, MS_SERVER_ZIMBRA, "", GREETING, HIGH},
    /* hMailServer */
    {"* OK IMAPrev1 Service Ready - hMailServer 5.6.8-B2574", NULL, MS_SERVER_HMAILSERVER,
     "5.6.8-B2574", GREETING, HIGH},
    {"+OK (POP3) hMailServer 5.6.7", NULL, MS_SERVER_HMAILSERVER, "5.6.7", GREETING, HIGH},
    {"* OK IMAPrev1", NULL, MS_SERVER_HMAILSERVER, "", GREETING, MEDIUM},
    /* Gmail */
    {"* OK Gimap ready for requests from 192.0.2.1 h98mb854172451pjb", NULL, MS_SERVER_GMAIL, "",
     GREETING, HIGH},
    {"+OK Gpop ready for requests from 192.0.2.1 x13mb1896pjq", NULL, MS_SERVER_GMAIL, "", GREETING,
     HIGH},
    /* UW IMAP */
    {"* OK [CAPABILITY IMAP4REV1 I18NLEVEL=1 LITERAL+ SASL-IR LOGIN-REFERRALS STARTTLS "
     "LOGINDISABLED] mail.example.com IMAP4rev1 2007f.404 at Thu, 1 Jan 2026 00:00:00 +0000 (UTC)",
     NULL, MS_SERVER_UW, "2007f.404", GREETING, MEDIUM},
    {"+OK POP3 mail.example.com v2007f.104 server ready", NULL, MS_SERVER_UW, "2007f.104", GREETING,
     MEDIUM},
    /* Kerio, MDaemon, Axigen, Stalwart, Qpopper */
    {"* OK Kerio Connect 9.2.1 IMAP4rev1 server ready", NULL, MS_SERVER_KERIO, "9.2.1", GREETING,
     HIGH},
    {"+OK Kerio MailServer 6.7.3 POP3 server ready <1234.5678@mail.example.com>", NULL,
     MS_SERVER_KERIO, "6.7.3", GREETING, HIGH},
    {"* OK mail.example.com IMAP4rev1 MDaemon 19.0.2 ready", NULL, MS_SERVER_MDAEMON, "19.0.2",
     GREETING, HIGH},
    {"+OK mail.example.com POP MDaemon 9.0.4 ready <MDAEMON-F200801011200.AA0000@example.com>",
     NULL, MS_SERVER_MDAEMON, "9.0.4", GREETING, HIGH},
    {"* OK Axigen-10.3.1 (Linux/x64) IMAP4rev1 service is ready", NULL, MS_SERVER_AXIGEN, "10.3.1",
     GREETING, HIGH},
    {"* OK AXIGEN IMAP4rev1 service is ready", NULL, MS_SERVER_AXIGEN, "", GREETING, HIGH},
    {"* OK [CAPABILITY IMAP4rev2 IMAP4rev1 ENABLE SASL-IR LITERAL+ ID UTF8=ACCEPT AUTH=PLAIN "
     "AUTH=OAUTHBEARER AUTH=XOAUTH2] Stalwart IMAP4rev2 at your service.",
     NULL, MS_SERVER_STALWART, "", GREETING, HIGH},
    {"+OK Qpopper (version 4.1.0) at mail.example.com starting.", NULL, MS_SERVER_QPOPPER, "4.1.0",
     GREETING, HIGH},
    {"+OK QPOP (version 2.53) at mail.example.com starting.", NULL, MS_SERVER_QPOPPER, "2.53",
     GREETING, HIGH},
    /* IMPLEMENTATION wins over the greeting; one that names nothing known does not */
    {"+OK Dovecot ready.", "Cyrus POP3 3.8.1", MS_SERVER_CYRUS, "3.8.1", IMPL, HIGH},
    {"+OK Dovecot ready.", "ACME mail 1.0", MS_SERVER_DOVECOT, "", GREETING, HIGH},
    /* nothing to go by: never a guess */
    {"* OK ready", NULL, MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
    {"* OK [CAPABILITY IMAP4rev1 STARTTLS] mail.dovecot-fans.example IMAP ready", NULL,
     MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
    {"* OK imap.zimbra.example.org ready", NULL, MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
    {"+OK POP3 server ready <abc@mail.example.com>", NULL, MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
    {"* OK IMAP4rev1 server ready 2026", NULL, MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
    {"", "", MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
    {NULL, NULL, MS_SERVER_UNKNOWN, "", NO_SOURCE, NONE},
};

static void test_banners(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof banners / sizeof banners[0]; k++) {
        const struct banner *b = &banners[k];
        struct ms_server_id id;
        ms_server_identify_text(b->greeting, b->implementation, &id);
        if (id.software != b->software || strcmp(id.version, b->version) != 0 ||
            id.from != b->from || id.confidence != b->confidence)
            fail_msg(
                "\"%s\" / \"%s\": %s \"%s\" from %s %s, expected %s \"%s\" from %s %s",
                b->greeting ? b->greeting : "(null)",
                b->implementation ? b->implementation : "(null)",
                ms_server_software_label(id.software), id.version,
                ms_server_source_name(id.from) ? ms_server_source_name(id.from) : "-",
                ms_server_confidence_name(id.confidence) ? ms_server_confidence_name(id.confidence)
                                                         : "-",
                ms_server_software_label(b->software), b->version,
                ms_server_source_name(b->from) ? ms_server_source_name(b->from) : "-",
                ms_server_confidence_name(b->confidence) ? ms_server_confidence_name(b->confidence)
                                                         : "-");
    }
    /* every software has an id and a name */
    for (int s = MS_SERVER_DOVECOT; s < MS_SERVER_COUNT; s++) {
        assert_non_null(ms_server_software_name((enum ms_server_software)s));
        assert_non_null(ms_server_software_label((enum ms_server_software)s));
    }
    assert_null(ms_server_software_name(MS_SERVER_UNKNOWN));
}

/* From an endpoint: POP3 IMPLEMENTATION in any capability list; Mailutils' XTLSREQUIRED. */
static void test_endpoint(void **state)
{
    (void)state;
    struct ms_result r;
    fx_bare_host(&r, false);
    struct ms_server_id id;
    struct ms_endpoint_result *po = &r.endpoints[P995];
    snprintf(po->greeting, sizeof po->greeting, "+OK POP3 Ready <1234.1700000000@example.com>");
    ms_server_identify(po, &id);
    assert_int_equal(id.software, MS_SERVER_UNKNOWN);
    fx_add_str(&po->caps_after_login, "IMPLEMENTATION GNU Mailutils 3.15");
    po->caps_after_login_read = true;
    ms_server_identify(po, &id);
    assert_int_equal(id.software, MS_SERVER_MAILUTILS);
    assert_int_equal(id.from, MS_SERVER_FROM_IMPLEMENTATION);
    assert_string_equal(id.version, "3.15");
    ms_strlist_free(&po->caps_after_login);
    struct ms_endpoint_result *p110 = &r.endpoints[P110];
    snprintf(p110->greeting, sizeof p110->greeting, "+OK POP3 Ready <1.2@example.com>");
    fx_add_str(&p110->caps_before_tls, "XTLSREQUIRED");
    ms_server_identify(p110, &id);
    assert_int_equal(id.software, MS_SERVER_MAILUTILS);
    assert_int_equal(id.from, MS_SERVER_FROM_CAPABILITIES);
    assert_int_equal(id.confidence, MS_SERVER_CONFIDENCE_MEDIUM);
    /* Exchange's words after an accepted password, when nothing else names it */
    struct ms_endpoint_result *p995 = &r.endpoints[P995];
    snprintf(p995->auth.refused_after_login, sizeof p995->auth.refused_after_login,
             "STAT: -ERR User is authenticated but not connected.");
    ms_server_identify(p995, &id);
    assert_int_equal(id.software, MS_SERVER_EXCHANGE);
    assert_string_equal(ms_server_source_name(id.from), "sign_in");
    assert_int_equal(id.confidence, MS_SERVER_CONFIDENCE_MEDIUM);
    /* IMPLEMENTATION is a POP3 capability: an IMAP list holding that word says nothing */
    struct ms_endpoint_result *im = &r.endpoints[I993];
    fx_add_str(&im->caps_after_tls, "IMPLEMENTATION");
    ms_server_identify(im, &id);
    assert_int_equal(id.software, MS_SERVER_UNKNOWN);
    ms_result_free(&r);
}

/* The remedy of finding code on endpoint idx after assessing r. */
static const char *remedy_of(const struct ms_result *r, struct ms_assessment *a, const char *code,
                             long idx)
{
    assert_int_equal(ms_assess(r, NULL, a), 0);
    if (getenv("MS_DUMP"))
        for (size_t k = 0; k < a->finding_count; k++)
            fprintf(stderr, "%s: %s\n", a->findings[k].code, a->findings[k].remedy);
    return fx_find(a, code, idx)->remedy;
}

static void greet(struct ms_endpoint_result *ep, const char *greeting)
{
    snprintf(ep->greeting, sizeof ep->greeting, "%s", greeting);
}

/* Assess r (then free it): finding code on endpoint idx has a remedy that says has and not
 * lacks. */
static void expect_remedy(struct ms_result *r, const char *code, long idx, const char *has,
                          const char *lacks)
{
    struct ms_assessment a;
    const char *rem = remedy_of(r, &a, code, idx);
    if (!strstr(rem, has) || strstr(rem, lacks))
        fail_msg("%s: remedy \"%s\"", r->endpoints[idx].greeting, rem);
    fx_done(r, &a);
}

/* tls.protocol_outdated names the identified server's setting, examples for an unknown one,
 * and says when it does not know the setting of a server it identified. */
static void test_remedy_tls_version(void **state)
{
    (void)state;
    static const struct {
        const char *greeting, *has, *lacks;
    } cases[] = {
        {"* OK Dovecot ready.", "(Dovecot: ssl_min_protocol = TLSv1.2)", "Cyrus"},
        {"* OK mail Cyrus IMAP v3.0.8 server ready",
         "(Cyrus: tls_versions: tls1_2 tls1_3 in "
         "imapd.conf)",
         "Dovecot"},
        {"* OK IMAP4rev1 GNU mailutils 3.15",
         "(GNU Mailutils: ssl-priorities in the server's tls "
         "block",
         "Dovecot"},
        {"* OK Courier-IMAP ready.",
         "(Courier: TLS_PROTOCOL in imapd-ssl, values in "
         "couriertls(1))",
         "Dovecot"},
        {"* OK Kerio Connect 9.2.1 IMAP4rev1 server ready",
         "(Kerio Connect: mailscope does not know this setting's name; see the server's "
         "documentation)",
         "Dovecot"},
        {"* OK ready",
         "(the server software was not identified; for example Dovecot: ssl_min_protocol = "
         "TLSv1.2; Cyrus: tls_versions: tls1_2 tls1_3)",
         "GNU"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ms_result r;
        fx_bare_host(&r, false);
        greet(&r.endpoints[I993], cases[k].greeting);
        snprintf(r.endpoints[I993].tls.version, sizeof r.endpoints[I993].tls.version, "TLSv1");
        expect_remedy(&r, "tls.protocol_outdated", I993, cases[k].has, cases[k].lacks);
    }
}

/* Password sign-in before TLS: the setting of the server seen, by protocol and version. */
static void test_remedy_plaintext(void **state)
{
    (void)state;
    static const char *const imap_pre[] = {"IMAP4rev1", "STARTTLS", "AUTH=PLAIN", NULL};
    static const char *const pop3_pre[] = {"CAPA", "USER", "STLS", NULL};
    static const struct {
        long idx;
        const char *greeting, *impl, *has, *lacks;
    } cases[] = {
        /* the case: GNU Mailutils was told to change Dovecot's setting */
        {I143, "* OK IMAP4rev1 GNU mailutils 3.15", NULL,
         "(GNU Mailutils: tls-mode required in the server block)", "Dovecot"},
        {P110, "+OK POP3 Ready <1.2@example.com>", "GNU Mailutils 3.15",
         "(GNU Mailutils: tls-mode required in the server block)", "Dovecot"},
        {P110, "+OK Hello there.", NULL, "(Courier: POP3_TLS_REQUIRED=1 in pop3d-ssl)", "IMAP_"},
        {I143, "* OK Courier-IMAP ready.", NULL, "(Courier: IMAP_TLS_REQUIRED=1 in imapd-ssl)",
         "POP3_"},
        {P110, "+OK The Microsoft Exchange POP3 service is ready.", NULL,
         "(Exchange: Set-PopSettings -LoginType SecureLogin, then restart the POP3 services)",
         "Dovecot"},
        {I143, "* OK mail Zimbra IMAP4rev1 server ready", NULL,
         "(Zimbra: zmprov mcf zimbraImapCleartextLoginEnabled FALSE)", "Dovecot"},
        {I143, "* OK mail Cyrus IMAP v3.0.8 server ready", NULL,
         "(Cyrus: allowplaintext: no in imapd.conf)", "Dovecot"},
        {I143, "* OK Dovecot (Debian) ready.", NULL,
         "(Dovecot 2.3: disable_plaintext_auth = yes; Dovecot 2.4: auth_allow_cleartext = no)",
         "Courier"},
        {I143, "* OK Dovecot 2.4.1 ready.", NULL, "(Dovecot 2.4: auth_allow_cleartext = no)",
         "2.3"},
        {I143, "* OK Dovecot 2.3.21 ready.", NULL, "(Dovecot 2.3: disable_plaintext_auth = yes)",
         "2.4"},
        {P110, "+OK ready", NULL,
         "(the server software was not identified; for example Dovecot 2.3: "
         "disable_plaintext_auth = yes, Dovecot 2.4: auth_allow_cleartext = no; Courier: "
         "POP3_TLS_REQUIRED=1; Cyrus: allowplaintext: no; Exchange: Set-PopSettings -LoginType "
         "SecureLogin)",
         "Mailutils"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ms_result r;
        fx_bare_host(&r, false);
        struct ms_endpoint_result *ep = &r.endpoints[cases[k].idx];
        greet(ep, cases[k].greeting);
        fx_set_strs(&ep->caps_before_tls, ep->protocol == MS_PROTOCOL_IMAP ? imap_pre : pop3_pre);
        if (cases[k].impl) {
            char line[100];
            snprintf(line, sizeof line, "IMPLEMENTATION %s", cases[k].impl);
            fx_add_str(&ep->caps_after_tls, line);
        }
        expect_remedy(&r, "auth.plaintext_login_allowed", cases[k].idx, cases[k].has,
                      cases[k].lacks);
    }
}

/* STARTTLS not offered, the protocol refused to the account, a reset: each topic. */
static void test_remedy_other_topics(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    greet(&r.endpoints[I143], "* OK Courier-IMAP ready.");
    fx_fail_at(&r.endpoints[I143], MS_FAILURE_STARTTLS_NOT_OFFERED, MS_PHASE_STARTTLS,
               "STARTTLS is not offered");
    const char *rem = remedy_of(&r, &a, "starttls.not_offered", I143);
    assert_non_null(strstr(rem, "(Courier: TLS_CERTFILE in imapd-ssl, and IMAPDSTARTTLS=YES)"));
    fx_done(&r, &a);

    fx_bare_host(&r, true);
    struct ms_endpoint_result *im = &r.endpoints[I993];
    greet(im, "* OK mail.example.com Zimbra IMAP4rev1 server ready");
    fx_answer_auth(im, "PLAIN", "NO", "", "NO [AUTH] IMAP access is disabled for this account");
    rem = remedy_of(&r, &a, "auth.protocol_disabled", I993);
    assert_non_null(strstr(rem, "(Zimbra: zmprov ma alice zimbraImapEnabled TRUE)"));
    assert_null(strstr(rem, "Set-CASMailbox"));
    fx_done(&r, &a);

    fx_bare_host(&r, false);
    greet(&r.endpoints[P995], "+OK The Microsoft Exchange POP3 service is ready.");
    fx_fail_at(&r.endpoints[P995], MS_FAILURE_TCP_RESET, MS_PHASE_CAPABILITY,
               "Connection reset by peer");
    rem = remedy_of(&r, &a, "tcp.reset", P995);
    assert_non_null(strstr(rem, "(Exchange: Set-PopSettings -MaxConnectionsPerUser)"));
    fx_done(&r, &a);

    fx_bare_host(&r, false); /* reset before the greeting: examples */
    fx_fail_at(&r.endpoints[P995], MS_FAILURE_TCP_RESET, MS_PHASE_GREETING,
               "Connection reset by peer");
    r.endpoints[P995].greeting[0] = '\0';
    rem = remedy_of(&r, &a, "tcp.reset", P995);
    assert_non_null(strstr(rem, "(the server software was not identified; for example Dovecot: "
                                "mail_max_userip_connections, process_limit; Courier: "
                                "MAXDAEMONS, MAXPERIP in pop3d)"));
    fx_done(&r, &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_banners),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_remedy_tls_version),
        cmocka_unit_test(test_remedy_plaintext),
        cmocka_unit_test(test_remedy_other_topics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
