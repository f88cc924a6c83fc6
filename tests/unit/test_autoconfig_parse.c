/* Unit tests of the autoconfig / Autodiscover reader (probe/autoconfig_parse.c).
 *
 * The documents follow Thunderbird's clientConfig 1.1 format (the ISPDB's files, e.g. the
 * shape of its entries for large providers) and Microsoft's Autodiscover POX response
 * schema 2006a as hosting panels publish it (IMAP/POP3/SMTP Protocol blocks, redirectAddr,
 * an Error response). */
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

#include "probe/autoconfig_parse.h"
#include "probe/error.h"

static const struct ms_ac_address alice = {"alice", "example.com"};

/* Parse from an exact-size heap copy so ASan sees any read past the end. */
static void parse(const char *s, enum ms_ac_format f, struct ms_ac_doc *doc)
{
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    assert_int_equal(ms_autoconfig_parse(copy, n, f, &alice, doc), 0);
    free(copy);
}

static const char good[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<clientConfig version=\"1.1\">\n"
                           "  <emailProvider id=\"example.com\">\n"
                           "    <domain>example.com</domain>\n"
                           "    <displayName>Example Mail</displayName>\n"
                           "    <incomingServer type=\"imap\">\n"
                           "      <hostname>imap.%EMAILDOMAIN%</hostname>\n"
                           "      <port>993</port>\n"
                           "      <socketType>SSL</socketType>\n"
                           "      <authentication>password-cleartext</authentication>\n"
                           "      <authentication>OAuth2</authentication>\n"
                           "      <username>%EMAILADDRESS%</username>\n"
                           "    </incomingServer>\n"
                           "    <incomingServer type=\"pop3\">\n"
                           "      <hostname>pop.example.com</hostname>\n"
                           "      <port>110</port>\n"
                           "      <socketType>STARTTLS</socketType>\n"
                           "      <username>%EMAILLOCALPART%</username>\n"
                           "    </incomingServer>\n"
                           "    <incomingServer type=\"exchange\">\n"
                           "      <hostname>outlook.example.com</hostname>\n"
                           "    </incomingServer>\n"
                           "    <outgoingServer type=\"smtp\">\n"
                           "      <hostname>smtp.example.com</hostname>\n"
                           "      <port>587</port>\n"
                           "      <socketType>STARTTLS</socketType>\n"
                           "      <username>%EMAILADDRESS%</username>\n"
                           "    </outgoingServer>\n"
                           "    <documentation url=\"https://example.com/help\"><descr "
                           "lang=\"en\">x</descr></documentation>\n"
                           "  </emailProvider>\n"
                           "</clientConfig>\n";

static void test_autoconfig_good(void **state)
{
    (void)state;
    struct ms_ac_doc d;
    parse(good, MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_true(d.valid);
    assert_string_equal(d.provider, "example.com");
    assert_int_equal(d.server_count, 3);
    assert_int_equal(d.skipped, 1);
    const struct ms_ac_server *s = &d.servers[0];
    assert_int_equal(s->type, MS_AC_IMAP);
    assert_true(s->incoming);
    assert_string_equal(s->hostname, "imap.example.com");
    assert_int_equal(s->port, 993);
    assert_int_equal(s->socket, MS_AC_SOCKET_TLS);
    assert_string_equal(s->socket_text, "SSL");
    assert_string_equal(s->authentication, "password-cleartext, OAuth2");
    assert_string_equal(s->username, "alice@example.com");
    assert_string_equal(s->username_pattern, "%EMAILADDRESS%");
    assert_int_equal(s->line, 6);
    s = &d.servers[1];
    assert_int_equal(s->type, MS_AC_POP3);
    assert_int_equal(s->socket, MS_AC_SOCKET_STARTTLS);
    assert_string_equal(s->username, "alice");
    s = &d.servers[2];
    assert_int_equal(s->type, MS_AC_SMTP);
    assert_false(s->incoming);
    assert_int_equal(s->port, 587);
}

static void test_autoconfig_plain_and_wrong_root(void **state)
{
    (void)state;
    struct ms_ac_doc d;
    parse("<clientConfig><emailProvider id='x'><incomingServer type='pop3'>"
          "<hostname>mail.x</hostname><port>110</port><socketType>plain</socketType>"
          "</incomingServer></emailProvider></clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_true(d.valid);
    assert_int_equal(d.servers[0].socket, MS_AC_SOCKET_PLAIN);
    assert_string_equal(d.servers[0].username, ""); /* no username element */

    parse("<html><body>Not found</body></html>", MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "root element is <html>"));
    assert_int_equal(d.line, 1);

    parse(good, MS_AC_FORMAT_AUTODISCOVER, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "not an Autodiscover response"));
}

static void test_autoconfig_invalid(void **state)
{
    (void)state;
    struct ms_ac_doc d;
    /* not well-formed, with the line */
    parse("<clientConfig>\n<emailProvider id='x'>\n<incomingServer type='imap'>\n"
          "<hostname>a</host>\n",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "not well-formed XML"));
    assert_int_equal(d.line, 4);
    assert_int_equal(d.server_count, 0);
    /* a required field missing */
    parse("<clientConfig>\n<emailProvider id='x'>\n\n<incomingServer type='imap'>\n"
          "<hostname>a</hostname><socketType>SSL</socketType>\n</incomingServer>\n"
          "</emailProvider></clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_string_equal(d.error, "incomingServer port is missing (line 4)");
    assert_int_equal(d.line, 4);
    /* bad values */
    parse("<clientConfig><emailProvider><incomingServer type='imap'><hostname>a</hostname>"
          "<port>99999</port><socketType>SSL</socketType></incomingServer></emailProvider>"
          "</clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "99999"));
    parse("<clientConfig><emailProvider><incomingServer type='imap'><hostname>a</hostname>"
          "<port>993</port><socketType>maybe</socketType></incomingServer></emailProvider>"
          "</clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "socketType 'maybe'"));
    /* no incoming server at all */
    parse("<clientConfig><emailProvider id='x'><outgoingServer type='smtp'><hostname>a</hostname>"
          "<port>25</port><socketType>plain</socketType></outgoingServer></emailProvider>"
          "</clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_string_equal(d.error, "no IMAP or POP3 incomingServer");
    parse("", MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    parse("   ", MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    parse("<clientConfig/>", MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_string_equal(d.error, "no <emailProvider> in <clientConfig>");
}

static void test_entities_refused(void **state)
{
    (void)state;
    struct ms_ac_doc d;
    /* billion laughs: refused at the DOCTYPE, nothing expanded */
    parse("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
          " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
          " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n]>\n"
          "<clientConfig><emailProvider><incomingServer type='imap'><hostname>&lol3;"
          "</hostname></incomingServer></emailProvider></clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "DOCTYPE"));
    assert_int_equal(d.line, 2);
    /* an external entity */
    parse("<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><clientConfig/>", MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "DOCTYPE"));
    /* an undeclared entity is an XML error */
    parse("<clientConfig><emailProvider><incomingServer type='imap'><hostname>&x;</hostname>"
          "</incomingServer></emailProvider></clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    /* the predefined entities and character references are fine */
    parse("<clientConfig><emailProvider id='a&amp;b'><incomingServer type='imap'>"
          "<hostname>imap&#46;example.com</hostname><port>993</port><socketType>SSL</socketType>"
          "</incomingServer></emailProvider></clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_true(d.valid);
    assert_string_equal(d.provider, "a&b");
    assert_string_equal(d.servers[0].hostname, "imap.example.com");
}

static void test_caps(void **state)
{
    (void)state;
    struct ms_ac_doc d;
    /* deep nesting */
    char deep[4096] = "<clientConfig>";
    for (int i = 0; i < 40; i++)
        strcat(deep, "<a>");
    parse(deep, MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "nested deeper"));
    /* more servers than kept */
    char *many = malloc(64 * 1024);
    assert_non_null(many);
    strcpy(many, "<clientConfig><emailProvider id='x'>");
    for (int i = 0; i < MS_AC_MAX_SERVERS + 4; i++)
        sprintf(many + strlen(many),
                "<incomingServer type='imap'><hostname>h%d</hostname><port>993</port>"
                "<socketType>SSL</socketType></incomingServer>",
                i);
    strcat(many, "</emailProvider></clientConfig>");
    parse(many, MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_true(d.valid);
    assert_true(d.truncated);
    assert_int_equal(d.server_count, MS_AC_MAX_SERVERS);
    free(many);
    /* a body over the cap is refused without reading it */
    char *big = malloc(MS_AC_MAX_BODY + 1);
    assert_non_null(big);
    memset(big, ' ', MS_AC_MAX_BODY + 1);
    assert_int_equal(
        ms_autoconfig_parse(big, MS_AC_MAX_BODY + 1, MS_AC_FORMAT_AUTOCONFIG, NULL, &d), 0);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "larger than"));
    free(big);
    /* a host name longer than kept is an error, not a cut name */
    char longname[1024] = "<clientConfig><emailProvider><incomingServer type='imap'><hostname>";
    for (int i = 0; i < 300; i++)
        strcat(longname, "a");
    strcat(longname, "</hostname><port>1</port><socketType>SSL</socketType></incomingServer>"
                     "</emailProvider></clientConfig>");
    parse(longname, MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "longer than 255"));
    /* control bytes are made printable */
    parse("<clientConfig><emailProvider id='x'><incomingServer type='imap'><hostname>a\x01"
          "b</hostname><port>993</port><socketType>SSL</socketType></incomingServer>"
          "</emailProvider></clientConfig>",
          MS_AC_FORMAT_AUTOCONFIG, &d);
    assert_false(d.valid); /* expat refuses the control byte */
}

static const char pox[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n"
    "<Autodiscover "
    "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\r\n"
    "  <Response "
    "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">\r\n"
    "    <User><DisplayName>Example</DisplayName></User>\r\n"
    "    <Account>\r\n"
    "      <AccountType>email</AccountType>\r\n"
    "      <Action>settings</Action>\r\n"
    "      <Protocol>\r\n"
    "        <Type>IMAP</Type>\r\n"
    "        <Server>mail.example.com</Server>\r\n"
    "        <Port>993</Port>\r\n"
    "        <DomainRequired>off</DomainRequired>\r\n"
    "        <LoginName>alice@example.com</LoginName>\r\n"
    "        <SPA>off</SPA>\r\n"
    "        <SSL>on</SSL>\r\n"
    "        <AuthRequired>on</AuthRequired>\r\n"
    "      </Protocol>\r\n"
    "      <Protocol>\r\n"
    "        <Type>POP3</Type>\r\n"
    "        <Server>mail.example.com</Server>\r\n"
    "        <Port>110</Port>\r\n"
    "        <SSL>off</SSL>\r\n"
    "      </Protocol>\r\n"
    "      <Protocol>\r\n"
    "        <Type>SMTP</Type>\r\n"
    "        <Server>mail.example.com</Server>\r\n"
    "        <Port>587</Port>\r\n"
    "        <Encryption>TLS</Encryption>\r\n"
    "      </Protocol>\r\n"
    "      <Protocol><Type>EXCH</Type><Server>ex.example.com</Server></Protocol>\r\n"
    "    </Account>\r\n"
    "  </Response>\r\n"
    "</Autodiscover>\r\n";

static void test_autodiscover(void **state)
{
    (void)state;
    struct ms_ac_doc d;
    parse(pox, MS_AC_FORMAT_AUTODISCOVER, &d);
    assert_true(d.valid);
    assert_int_equal(d.action, MS_AC_ACTION_SETTINGS);
    assert_string_equal(d.provider, "Example");
    assert_int_equal(d.server_count, 3);
    assert_int_equal(d.skipped, 1);
    assert_int_equal(d.servers[0].type, MS_AC_IMAP);
    assert_int_equal(d.servers[0].socket, MS_AC_SOCKET_TLS);
    assert_string_equal(d.servers[0].socket_text, "SSL on");
    assert_string_equal(d.servers[0].username, "alice@example.com");
    assert_string_equal(d.servers[0].authentication, "SPA off");
    assert_int_equal(d.servers[1].type, MS_AC_POP3);
    assert_int_equal(d.servers[1].socket, MS_AC_SOCKET_PLAIN);
    assert_int_equal(d.servers[2].type, MS_AC_SMTP);
    assert_false(d.servers[2].incoming);
    assert_int_equal(d.servers[2].socket, MS_AC_SOCKET_STARTTLS);

    /* namespace prefixes, a missing port */
    parse("<a:Autodiscover xmlns:a='x'><a:Response><a:Account><a:Action>settings</a:Action>"
          "<a:Protocol><a:Type>IMAP</a:Type><a:Server>m</a:Server><a:Encryption>SSL"
          "</a:Encryption></a:Protocol></a:Account></a:Response></a:Autodiscover>",
          MS_AC_FORMAT_AUTODISCOVER, &d);
    assert_true(d.valid);
    assert_int_equal(d.servers[0].port, 993);

    parse("<Autodiscover><Response><Account><Action>redirectAddr</Action>"
          "<RedirectAddr>bob@other.example</RedirectAddr></Account></Response></Autodiscover>",
          MS_AC_FORMAT_AUTODISCOVER, &d);
    assert_true(d.valid);
    assert_int_equal(d.action, MS_AC_ACTION_REDIRECT_ADDR);
    assert_string_equal(d.redirect, "bob@other.example");

    parse("<Autodiscover><Response><Account><Action>redirectUrl</Action></Account></Response>"
          "</Autodiscover>",
          MS_AC_FORMAT_AUTODISCOVER, &d);
    assert_false(d.valid);

    parse("<Autodiscover><Response><Error Time='1' Id='2'><ErrorCode>600</ErrorCode>"
          "<Message>Invalid Request</Message></Error></Response></Autodiscover>",
          MS_AC_FORMAT_AUTODISCOVER, &d);
    assert_true(d.valid);
    assert_int_equal(d.action, MS_AC_ACTION_ERROR);
    assert_string_equal(d.error_code, "600");
    assert_string_equal(d.error_message, "Invalid Request");

    parse("<Autodiscover><Response><Account><Action>settings</Action><Protocol><Type>IMAP"
          "</Type><Port>993</Port></Protocol></Account></Response></Autodiscover>",
          MS_AC_FORMAT_AUTODISCOVER, &d);
    assert_false(d.valid);
    assert_non_null(strstr(d.error, "without a Server"));
}

static void test_expand_and_request(void **state)
{
    (void)state;
    char out[64];
    ms_autoconfig_expand("%EMAILLOCALPART%+x@%EMAILDOMAIN% %REALNAME%%UNKNOWN%", &alice, out,
                         sizeof out);
    assert_string_equal(out, "alice+x@example.com %UNKNOWN%");
    struct ms_ac_address dom = {"", "example.com"};
    ms_autoconfig_expand("%EMAILADDRESS%", &dom, out, sizeof out);
    assert_string_equal(out, "example.com");
    ms_autoconfig_expand("%EMAILADDRESS%%EMAILADDRESS%", &alice, out, 20);
    assert_int_equal(strlen(out), 19);
    ms_autoconfig_expand("abc", &alice, out, 1);
    assert_string_equal(out, "");

    char req[1024];
    size_t n = ms_autodiscover_request("a<b>&\"'@example.com", req, sizeof req);
    assert_true(n > 0 && n == strlen(req));
    assert_non_null(strstr(req, "<EMailAddress>a&lt;b&gt;&amp;&quot;&apos;@example.com<"));
    assert_non_null(strstr(req, "responseschema/2006a"));
    struct ms_ac_doc d;
    assert_int_equal(ms_autoconfig_parse(req, n, MS_AC_FORMAT_AUTODISCOVER, NULL, &d), 0);
    assert_false(d.valid); /* a request is not a response */
    assert_int_equal(ms_autodiscover_request("x@y", req, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_autoconfig_good),
        cmocka_unit_test(test_autoconfig_plain_and_wrong_root),
        cmocka_unit_test(test_autoconfig_invalid),
        cmocka_unit_test(test_entities_refused),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_autodiscover),
        cmocka_unit_test(test_expand_and_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
