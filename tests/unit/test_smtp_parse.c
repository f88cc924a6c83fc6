/* Unit tests of the pure SMTP reply parser (probe/smtp_parse.c) and the EHLO capability
 * helpers (probe/caps.c).
 *
 * The server transcripts are real ones, with client addresses replaced by documentation
 * addresses and server names kept where public: Postfix 3.7 as tests/servers/postfix.sh
 * runs it; Exim from a public transcript of Exim 4.66 (a multi-line greeting) and from
 * Exim's own test suite (test/stdout/0300); Exchange Online (smtp.office365.com) and Gmail
 * (smtp.gmail.com) from client debug logs quoted in public bug reports (email-oauth2-proxy,
 * nodemailer, PHPMailer, docker-postfix); MailEnable's old "AUTH=LOGIN" form from a
 * public enough_mail bug report. */
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

#include "probe/caps.h"
#include "probe/error.h"
#include "probe/result.h"
#include "probe/smtp_parse.h"

/* Parse n bytes from an exact-size heap copy so ASan sees any read past the end. */
static int parse_n(const char *s, size_t n, struct ms_smtp_reply *r, size_t *used)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n)
        memcpy(copy, s, n);
    int rc = ms_smtp_parse(copy, n, r, used);
    free(copy);
    return rc;
}

/* Every strict prefix of a complete reply asks for more and returns nothing. */
static void check_prefixes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ms_smtp_reply r;
        size_t used = 99;
        int rc = parse_n(s, i, &r, &used);
        if (rc != MS_EAGAIN)
            fail_msg("prefix %zu/%zu of \"%.*s\": got %d", i, n, (int)n, s, rc);
        assert_int_equal(used, 0);
        assert_null(r.lines);
        assert_int_equal(r.line_count, 0);
    }
}

/* A complete reply: prefixes wait, the reply parses, bytes after it are left alone. */
static void parse_full(const char *s, struct ms_smtp_reply *r)
{
    size_t n = strlen(s), used = 0;
    check_prefixes(s, n);

    char *more = malloc(n + 12);
    assert_non_null(more);
    memcpy(more, s, n);
    memcpy(more + n, "250 next\r\n", 10);
    assert_int_equal(parse_n(more, n + 10, r, &used), 1);
    free(more);
    assert_int_equal(used, n);
    ms_smtp_reply_free(r);

    assert_int_equal(parse_n(s, n, r, &used), 1);
    assert_int_equal(used, n);
    assert_non_null(r->lines);
    assert_true(r->line_count >= 1);
}

static void expect_rc_n(const char *s, size_t n, int want)
{
    struct ms_smtp_reply r;
    size_t used = 42;
    int rc = parse_n(s, n, &r, &used);
    if (rc != want)
        fail_msg("\"%.*s\": want %d, got %d", (int)(n > 200 ? 200 : n), s, want, rc);
    assert_int_equal(used, 0);
    assert_null(r.lines);
    assert_int_equal(r.line_count, 0);
}

static void expect_rc(const char *s, int want)
{
    expect_rc_n(s, strlen(s), want);
}

static void assert_lines(const struct ms_smtp_reply *r, const char *const *want, size_t n)
{
    assert_int_equal(r->line_count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r->lines[i], want[i]);
}

#define LINES(r, ...)                                                                              \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        assert_lines((r), want_, sizeof want_ / sizeof want_[0]);                                  \
    } while (0)

/* The EHLO reply's extension lines, as caps.c keeps them. */
static void caps_of(const char *ehlo, struct ms_strlist *caps)
{
    struct ms_smtp_reply r;
    parse_full(ehlo, &r);
    assert_int_equal(r.code, 250);
    *caps = (struct ms_strlist){0};
    assert_int_equal(ms_caps_from_smtp(&r, caps), 0);
    ms_smtp_reply_free(&r);
}

static void assert_list(const struct ms_strlist *l, const char *const *want, size_t n)
{
    if (l->count != n) {
        for (size_t i = 0; i < l->count; i++)
            print_message("  item %zu: %s\n", i, l->items[i]);
        fail_msg("want %zu items, got %zu", n, l->count);
    }
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->items[i], want[i]);
}

#define LIST(l, ...)                                                                               \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        assert_list((l), want_, sizeof want_ / sizeof want_[0]);                                   \
    } while (0)

static void assert_mechs(const struct ms_strlist *caps, const char *const *want, size_t n)
{
    struct ms_strlist mechs = {0};
    assert_int_equal(ms_caps_smtp_auth(caps, &mechs), 0);
    assert_list(&mechs, want, n);
    ms_strlist_free(&mechs);
    /* the allocation-free forms agree */
    char names[64][MS_SMTP_MECH_NAME];
    assert_int_equal(ms_caps_smtp_mechs(caps, names, 64), n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(names[i], want[i]);
        assert_true(ms_caps_smtp_offers(caps, want[i]));
    }
    assert_false(ms_caps_smtp_offers(caps, "NOT-OFFERED"));
    if (n > 1) /* max bounds what is written */
        assert_int_equal(ms_caps_smtp_mechs(caps, names, 1), 1);
}

#define MECHS(l, ...)                                                                              \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        assert_mechs((l), want_, sizeof want_ / sizeof want_[0]);                                  \
    } while (0)

static void assert_size(const struct ms_strlist *caps, int want_rc, uint64_t want)
{
    uint64_t limit = 12345;
    assert_int_equal(ms_caps_smtp_size(caps, &limit), want_rc);
    if (want_rc == 1)
        assert_true(limit == want);
    else
        assert_true(limit == 12345); /* untouched */
}

/* ---- greetings ------------------------------------------------------------------------ */

static void test_greeting_single(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    parse_full("220 mail.test.example ESMTP Postfix\r\n", &r);
    assert_int_equal(r.code, 220);
    assert_string_equal(r.enhanced, "");
    LINES(&r, "mail.test.example ESMTP Postfix");
    ms_smtp_reply_free(&r);

    parse_full(
        "220 smtp.gmail.com ESMTP d2-20020a05600c34c200b0040e3635ca65sm12345wmq.2 - gsmtp\r\n", &r);
    assert_int_equal(r.code, 220);
    LINES(&r, "smtp.gmail.com ESMTP d2-20020a05600c34c200b0040e3635ca65sm12345wmq.2 - gsmtp");
    ms_smtp_reply_free(&r);

    parse_full("220 AM3PR05CA0094.outlook.office365.com Microsoft ESMTP MAIL Service ready at "
               "Wed, 9 Nov 2022 10:09:41 +0000\r\n",
               &r);
    assert_int_equal(r.code, 220);
    assert_string_equal(r.enhanced, "");
    ms_smtp_reply_free(&r);

    /* "220" alone, and "220 " with empty text */
    parse_full("220\r\n", &r);
    assert_int_equal(r.code, 220);
    LINES(&r, "");
    ms_smtp_reply_free(&r);
    parse_full("220 \r\n", &r);
    LINES(&r, "");
    ms_smtp_reply_free(&r);
}

static void test_greeting_multiline(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    /* Exim 4.66 with a banner over three lines */
    parse_full(
        "220-server1.exampledomain.com ESMTP Exim 4.66 #1 Wed, 09 May 2007 23:55:12 +0200\r\n"
        "220-We do not authorize the use of this system to transport unsolicited,\r\n"
        "220 and/or bulk e-mail.\r\n",
        &r);
    assert_int_equal(r.code, 220);
    LINES(&r, "server1.exampledomain.com ESMTP Exim 4.66 #1 Wed, 09 May 2007 23:55:12 +0200",
          "We do not authorize the use of this system to transport unsolicited,",
          "and/or bulk e-mail.");
    char text[256];
    size_t n = ms_smtp_reply_text(&r, text, sizeof text);
    assert_int_equal(n, strlen(text));
    assert_string_equal(text, "server1.exampledomain.com ESMTP Exim 4.66 #1 Wed, 09 May 2007 "
                              "23:55:12 +0200 We do not authorize the use of this system to "
                              "transport unsolicited, and/or bulk e-mail.");
    /* cut to the buffer, always terminated */
    assert_int_equal(ms_smtp_reply_text(&r, text, 10), 9);
    assert_string_equal(text, "server1.e");
    assert_int_equal(ms_smtp_reply_text(&r, text, 1), 0);
    assert_string_equal(text, "");
    ms_smtp_reply_free(&r);

    /* empty continuation lines ("220-") are lines too */
    parse_full("220-\r\n220-mx.example.org\r\n220 ready\r\n", &r);
    LINES(&r, "", "mx.example.org", "ready");
    assert_int_equal(ms_smtp_reply_text(&r, text, sizeof text), strlen("mx.example.org ready"));
    assert_string_equal(text, "mx.example.org ready");
    ms_smtp_reply_free(&r);
}

static void test_greeting_refusals(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    parse_full("421 4.3.2 Service not available, closing transmission channel\r\n", &r);
    assert_int_equal(r.code, 421);
    assert_string_equal(r.enhanced, "4.3.2");
    LINES(&r, "Service not available, closing transmission channel");
    ms_smtp_reply_free(&r);

    parse_full(
        "421 mx.example.org Too many concurrent SMTP connections; please try again later\r\n", &r);
    assert_int_equal(r.code, 421);
    assert_string_equal(r.enhanced, "");
    ms_smtp_reply_free(&r);

    parse_full("554 mail.example.org ESMTP not accepting messages\r\n", &r);
    assert_int_equal(r.code, 554);
    assert_string_equal(r.enhanced, "");
    LINES(&r, "mail.example.org ESMTP not accepting messages");
    ms_smtp_reply_free(&r);

    parse_full("554-mail.example.org\r\n554 5.7.1 No SMTP service here\r\n", &r);
    assert_int_equal(r.code, 554);
    /* the enhanced code is read from the first line only */
    assert_string_equal(r.enhanced, "");
    LINES(&r, "mail.example.org", "5.7.1 No SMTP service here");
    ms_smtp_reply_free(&r);
}

/* ---- EHLO replies of real servers ------------------------------------------------------- */

#define POSTFIX_HEAD                                                                               \
    "250-mail.test.example\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-VRFY\r\n250-ETRN\r\n"
#define POSTFIX_TAIL                                                                               \
    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"

static void test_ehlo_postfix(void **state)
{
    (void)state;
    struct ms_strlist caps;
    caps_of(POSTFIX_HEAD "250-STARTTLS\r\n" POSTFIX_TAIL, &caps);
    LIST(&caps, "PIPELINING", "SIZE 26214400", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
         "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING");
    assert_string_equal(ms_caps_smtp_find(&caps, "starttls"), "STARTTLS");
    assert_null(ms_caps_smtp_find(&caps, "AUTH"));
    assert_size(&caps, 1, 26214400);
    struct ms_strlist none = {0};
    assert_int_equal(ms_caps_smtp_auth(&caps, &none), 0);
    assert_int_equal(none.count, 0);
    ms_strlist_free(&caps);

    /* after STARTTLS: AUTH, no STARTTLS */
    caps_of(POSTFIX_HEAD "250-AUTH PLAIN LOGIN\r\n" POSTFIX_TAIL, &caps);
    assert_null(ms_caps_smtp_find(&caps, "STARTTLS"));
    assert_string_equal(ms_caps_smtp_find(&caps, "AUTH"), "AUTH PLAIN LOGIN");
    MECHS(&caps, "PLAIN", "LOGIN");
    ms_strlist_free(&caps);

    /* the weak listener: both AUTH forms (broken_sasl_auth_clients), mechanisms once */
    caps_of(POSTFIX_HEAD
            "250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n" POSTFIX_TAIL,
            &caps);
    assert_string_equal(ms_caps_smtp_find(&caps, "AUTH"), "AUTH PLAIN LOGIN");
    assert_string_equal(ms_caps_smtp_find(&caps, "AUTH=PLAIN"), "AUTH=PLAIN LOGIN");
    MECHS(&caps, "PLAIN", "LOGIN");
    ms_strlist_free(&caps);
}

static void test_ehlo_exim(void **state)
{
    (void)state;
    struct ms_strlist caps;
    caps_of("250-server1.exampledomain.com Hello [192.0.2.2]\r\n250-SIZE 52428800\r\n"
            "250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 HELP\r\n",
            &caps);
    LIST(&caps, "SIZE 52428800", "PIPELINING", "AUTH PLAIN LOGIN", "STARTTLS", "HELP");
    assert_size(&caps, 1, 52428800);
    MECHS(&caps, "PLAIN", "LOGIN");
    ms_strlist_free(&caps);

    /* Exim's test suite: no TLS, no AUTH */
    caps_of("250-myhost.test.ex Hello abcd [192.0.2.4]\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
            "250-PIPELINING\r\n250 HELP\r\n",
            &caps);
    LIST(&caps, "SIZE 52428800", "8BITMIME", "PIPELINING", "HELP");
    assert_null(ms_caps_smtp_find(&caps, "STARTTLS"));
    ms_strlist_free(&caps);
}

static void test_ehlo_exchange_online(void **state)
{
    (void)state;
    struct ms_strlist caps;
    /* smtp.office365.com:587 before STARTTLS */
    caps_of("250-AM3PR05CA0094.outlook.office365.com Hello [192.0.2.24]\r\n250-SIZE 157286400\r\n"
            "250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n"
            "250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n",
            &caps);
    LIST(&caps, "SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS",
         "8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8");
    assert_size(&caps, 1, 157286400);
    assert_null(ms_caps_smtp_find(&caps, "AUTH"));
    ms_strlist_free(&caps);

    /* after STARTTLS: OAuth only, or with basic authentication still allowed */
    caps_of("250-AM3PR05CA0094.outlook.office365.com Hello [192.0.2.24]\r\n250-SIZE 157286400\r\n"
            "250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-AUTH LOGIN XOAUTH2\r\n"
            "250-8BITMIME\r\n250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n",
            &caps);
    MECHS(&caps, "LOGIN", "XOAUTH2");
    assert_null(ms_caps_smtp_find(&caps, "STARTTLS"));
    ms_strlist_free(&caps);
}

static void test_ehlo_gmail(void **state)
{
    (void)state;
    struct ms_strlist caps;
    /* smtp.gmail.com:587 before and after STARTTLS */
    caps_of("250-smtp.gmail.com at your service, [192.0.2.226]\r\n250-SIZE 35882577\r\n"
            "250-8BITMIME\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n"
            "250-CHUNKING\r\n250 SMTPUTF8\r\n",
            &caps);
    LIST(&caps, "SIZE 35882577", "8BITMIME", "STARTTLS", "ENHANCEDSTATUSCODES", "PIPELINING",
         "CHUNKING", "SMTPUTF8");
    ms_strlist_free(&caps);

    caps_of("250-smtp.gmail.com at your service, [192.0.2.226]\r\n250-SIZE 35882577\r\n"
            "250-8BITMIME\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n"
            "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n",
            &caps);
    MECHS(&caps, "LOGIN", "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN", "OAUTHBEARER", "XOAUTH");
    assert_size(&caps, 1, 35882577);
    assert_non_null(ms_caps_smtp_find(&caps, "SMTPUTF8"));
    assert_non_null(ms_caps_smtp_find(&caps, "chunking"));
    ms_strlist_free(&caps);
}

static void test_ehlo_old_auth_form(void **state)
{
    (void)state;
    struct ms_strlist caps;
    /* MailEnable: the RFC 2554 draft form "AUTH=" beside the standard one */
    caps_of("250-win18.misterdomain.eu [192.0.2.34], this server offers 5 extensions\r\n"
            "250-AUTH LOGIN\r\n250-SIZE 52428800\r\n250-HELP\r\n250-AUTH=LOGIN\r\n250 STARTTLS\r\n",
            &caps);
    MECHS(&caps, "LOGIN");
    ms_strlist_free(&caps);

    /* only the old form, mechanisms in any case, each once */
    caps_of("250-mx.example.org\r\n250-AUTH=LOGIN PLAIN\r\n250-auth=plain CRAM-MD5\r\n"
            "250 REQUIRETLS\r\n",
            &caps);
    assert_null(ms_caps_smtp_find(&caps, "AUTH"));
    MECHS(&caps, "LOGIN", "PLAIN", "CRAM-MD5");
    assert_non_null(ms_caps_smtp_find(&caps, "REQUIRETLS"));
    ms_strlist_free(&caps);

    /* "AUTH" without mechanisms, "AUTH=" with nothing after it: no mechanism */
    caps_of("250-mx.example.org\r\n250-AUTH\r\n250 AUTH=\r\n", &caps);
    LIST(&caps, "AUTH", "AUTH=");
    struct ms_strlist mechs = {0};
    assert_int_equal(ms_caps_smtp_auth(&caps, &mechs), 0);
    assert_int_equal(mechs.count, 0);
    ms_strlist_free(&caps);
}

static void test_ehlo_caps_edges(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    struct ms_strlist caps = {0};

    /* a one-line EHLO reply names only the server: no extensions */
    parse_full("250 mx.example.org Hello\r\n", &r);
    assert_int_equal(ms_caps_from_smtp(&r, &caps), 0);
    assert_int_equal(caps.count, 0);
    ms_smtp_reply_free(&r);

    /* a refusal carries no extensions */
    parse_full("502-5.5.1 EHLO not implemented\r\n502 5.5.1 SIZE 1000\r\n", &r);
    assert_int_equal(ms_caps_from_smtp(&r, &caps), 0);
    assert_int_equal(caps.count, 0);
    ms_smtp_reply_free(&r);
    assert_int_equal(ms_caps_from_smtp(NULL, &caps), 0);

    /* spaces around a keyword line are dropped, empty lines skipped, 8-bit bytes escaped */
    caps_of("250-mx.example.org\r\n250-  PIPELINING  \r\n250-\r\n250- \r\n250-X\xff\x01Y\r\n"
            "250 SIZE\r\n",
            &caps);
    LIST(&caps, "PIPELINING", "X\\xff\\x01Y", "SIZE");
    assert_size(&caps, 1, 0); /* no fixed limit */
    ms_strlist_free(&caps);

    /* SIZE parameters */
    caps_of("250-a\r\n250 SIZE 0\r\n", &caps);
    assert_size(&caps, 1, 0);
    ms_strlist_free(&caps);
    caps_of("250-a\r\n250 SIZE 18446744073709551615\r\n", &caps);
    assert_size(&caps, 1, UINT64_MAX);
    ms_strlist_free(&caps);
    caps_of("250-a\r\n250 SIZE 18446744073709551616\r\n", &caps);
    assert_size(&caps, MS_EPROTO, 0);
    ms_strlist_free(&caps);
    caps_of("250-a\r\n250 SIZE 10MB\r\n", &caps);
    assert_size(&caps, MS_EPROTO, 0);
    ms_strlist_free(&caps);
    caps_of("250-a\r\n250 SIZE -1\r\n", &caps);
    assert_size(&caps, MS_EPROTO, 0);
    ms_strlist_free(&caps);
    caps_of("250-a\r\n250 size   1000  \r\n", &caps);
    assert_size(&caps, 1, 1000);
    ms_strlist_free(&caps);
    caps_of("250-a\r\n250 SIZEX 1000\r\n", &caps);
    assert_size(&caps, 0, 0);
    ms_strlist_free(&caps);
    assert_size(NULL, 0, 0);

    /* as many extension lines as a reply may hold: all kept */
    size_t cap = MS_SMTP_MAX_REPLY;
    char *big = malloc(cap);
    assert_non_null(big);
    size_t n = (size_t)snprintf(big, cap, "250-mx.example.org\r\n");
    for (int i = 0; i < MS_SMTP_MAX_LINES - 2; i++)
        n += (size_t)snprintf(big + n, cap - n, "250-X%d\r\n", i);
    n += (size_t)snprintf(big + n, cap - n, "250 LAST\r\n");
    size_t used;
    assert_int_equal(parse_n(big, n, &r, &used), 1);
    assert_int_equal(r.line_count, MS_SMTP_MAX_LINES);
    caps = (struct ms_strlist){0};
    assert_int_equal(ms_caps_from_smtp(&r, &caps), 0);
    assert_int_equal(caps.count, MS_SMTP_MAX_LINES - 1);
    assert_false(caps.truncated);
    assert_string_equal(caps.items[MS_SMTP_MAX_LINES - 2], "LAST");
    ms_strlist_free(&caps);
    ms_smtp_reply_free(&r);
    free(big);
}

/* ---- enhanced status codes and the refusals the session classifies ---------------------- */

static void test_enhanced_codes(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    static const struct {
        const char *reply;
        int code;
        const char *enhanced;
        const char *text;
    } cases[] = {
        {"250 2.0.0 Ok\r\n", 250, "2.0.0", "Ok"},
        {"220 2.0.0 Ready to start TLS\r\n", 220, "2.0.0", "Ready to start TLS"},
        {"235 2.7.0 Authentication successful\r\n", 235, "2.7.0", "Authentication successful"},
        {"221 2.0.0 Bye\r\n", 221, "2.0.0", "Bye"},
        /* Postfix with a wrong password (through Dovecot) */
        {"535 5.7.8 Error: authentication failed: (reason unavailable)\r\n", 535, "5.7.8",
         "Error: authentication failed: (reason unavailable)"},
        {"535 5.7.8 Error: authentication failed: authentication failure\r\n", 535, "5.7.8",
         "Error: authentication failed: authentication failure"},
        /* RFC 4954 section 6 */
        {"534 5.7.9 Authentication mechanism is too weak\r\n", 534, "5.7.9",
         "Authentication mechanism is too weak"},
        {"538 5.7.11 Encryption required for requested authentication mechanism\r\n", 538, "5.7.11",
         "Encryption required for requested authentication mechanism"},
        {"530 5.7.0 Authentication required\r\n", 530, "5.7.0", "Authentication required"},
        {"530 5.7.0 Must issue a STARTTLS command first\r\n", 530, "5.7.0",
         "Must issue a STARTTLS command first"},
        {"454 4.7.0 Temporary authentication failure\r\n", 454, "4.7.0",
         "Temporary authentication failure"},
        {"454 4.7.0 TLS not available due to local problem\r\n", 454, "4.7.0",
         "TLS not available due to local problem"},
        {"554 5.7.1 <someone@outside.example.org>: Relay access denied\r\n", 554, "5.7.1",
         "<someone@outside.example.org>: Relay access denied"},
        /* Exchange Online */
        {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
         "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
         "[MN2PR05CA0004.namprd05.prod.outlook.com 2023-09-12T20:59:57.214Z 08DBB276B7E699C4]\r\n",
         535, "5.7.139",
         "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit "
         "https://aka.ms/smtp_auth_disabled for more information. "
         "[MN2PR05CA0004.namprd05.prod.outlook.com 2023-09-12T20:59:57.214Z 08DBB276B7E699C4]"},
        {"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
         "Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. "
         "[TY1PR01CA0183.jpnprd01.prod.outlook.com]\r\n",
         535, "5.7.139",
         "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit "
         "https://aka.ms/smtp_auth_disabled for more information. "
         "[TY1PR01CA0183.jpnprd01.prod.outlook.com]"},
        {"535 5.7.139 Authentication unsuccessful, basic authentication is disabled.\r\n", 535,
         "5.7.139", "Authentication unsuccessful, basic authentication is disabled."},
        {"535 5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]\r\n", 535,
         "5.7.3", "Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]"},
        {"504 5.7.4 Unrecognized authentication type\r\n", 504, "5.7.4",
         "Unrecognized authentication type"},
        /* a code alone */
        {"250 2.1.5\r\n", 250, "2.1.5", ""},
        {"250 2.1.5   \r\n", 250, "2.1.5", ""},
        /* not an enhanced code: wrong class, too many digits, no separator, a 3yz reply */
        {"250 5.0.0 odd\r\n", 250, "", "5.0.0 odd"},
        {"550 5.7.1390 x\r\n", 550, "", "5.7.1390 x"},
        {"550 5.1234.1 x\r\n", 550, "", "5.1234.1 x"},
        {"550 5.7. x\r\n", 550, "", "5.7. x"},
        {"550 5..1 x\r\n", 550, "", "5..1 x"},
        {"550 5.7.1: x\r\n", 550, "", "5.7.1: x"},
        {"550 5.7\r\n", 550, "", "5.7"},
        {"354 3.0.0 go ahead\r\n", 354, "", "3.0.0 go ahead"},
        {"334 VXNlcm5hbWU6\r\n", 334, "", "VXNlcm5hbWU6"},
        {"334 \r\n", 334, "", ""},
        {"334\r\n", 334, "", ""},
        {"250 2.0.0\tOk\r\n", 250, "", "2.0.0\tOk"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse_full(cases[i].reply, &r);
        assert_int_equal(r.code, cases[i].code);
        assert_string_equal(r.enhanced, cases[i].enhanced);
        assert_int_equal(r.line_count, 1);
        assert_string_equal(r.lines[0], cases[i].text);
        ms_smtp_reply_free(&r);
    }
}

static void test_enhanced_multiline(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    /* Gmail: the code on every line, two spaces after it on the last */
    parse_full("535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
               "535 5.7.8  https://support.google.com/mail/?p=BadCredentials "
               "d2-20020a05600c34c200b0040e3635ca65sm12345wmq.2 - gsmtp\r\n",
               &r);
    assert_int_equal(r.code, 535);
    assert_string_equal(r.enhanced, "5.7.8");
    LINES(&r, "Username and Password not accepted. For more information, go to",
          "https://support.google.com/mail/?p=BadCredentials "
          "d2-20020a05600c34c200b0040e3635ca65sm12345wmq.2 - gsmtp");
    ms_smtp_reply_free(&r);

    parse_full("534-5.7.9 Application-specific password required. Learn more at\r\n"
               "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor "
               "d2-20020a05600c34c200b0040e3635ca65sm12345wmq.2 - gsmtp\r\n",
               &r);
    assert_int_equal(r.code, 534);
    assert_string_equal(r.enhanced, "5.7.9");
    assert_string_equal(r.lines[0], "Application-specific password required. Learn more at");
    ms_smtp_reply_free(&r);

    /* a continuation line with another enhanced code keeps it in its text */
    parse_full("550-5.1.1 first\r\n550-5.1.2 second\r\n550 5.1.1\r\n", &r);
    assert_string_equal(r.enhanced, "5.1.1");
    LINES(&r, "first", "5.1.2 second", "");
    ms_smtp_reply_free(&r);

    /* only the first line decides */
    parse_full("550-no code here\r\n550 5.1.1 but here\r\n", &r);
    assert_string_equal(r.enhanced, "");
    LINES(&r, "no code here", "5.1.1 but here");
    ms_smtp_reply_free(&r);
}

/* ---- framing, errors and caps ----------------------------------------------------------- */

static void test_bare_lf(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    parse_full("250-mx.example.org\n250-PIPELINING\r\n250 SIZE 1000\n", &r);
    LINES(&r, "mx.example.org", "PIPELINING", "SIZE 1000");
    ms_smtp_reply_free(&r);
    parse_full("220\n", &r);
    LINES(&r, "");
    ms_smtp_reply_free(&r);
    /* a CR inside the text is kept, only the one before LF ends the line */
    parse_full("250 a\rb\r\r\n", &r);
    LINES(&r, "a\rb\r");
    ms_smtp_reply_free(&r);
}

static void test_pipelined_replies(void **state)
{
    (void)state;
    /* MAIL, RCPT, DATA answered in one segment: one reply per call, in order */
    const char *s = "250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n250 2.1.5 still\r\n554 5.5.1 Error: no valid "
                    "recipients\r\n";
    size_t n = strlen(s), at = 0, used;
    struct ms_smtp_reply r;
    static const int codes[] = {250, 250, 554};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(parse_n(s + at, n - at, &r, &used), 1);
        assert_int_equal(r.code, codes[i]);
        ms_smtp_reply_free(&r);
        at += used;
    }
    assert_int_equal(at, n);
    expect_rc_n(s + at, 0, MS_EAGAIN);
    /* no buffer at all */
    used = 5;
    assert_int_equal(ms_smtp_parse(NULL, 0, &r, &used), MS_EAGAIN);
    assert_int_equal(used, 0);
    assert_null(r.lines);
}

static void test_not_smtp(void **state)
{
    (void)state;
    expect_rc("HTTP/1.1 400 Bad Request\r\n", MS_EPROTO);
    expect_rc("H", MS_EPROTO); /* decided at the first byte */
    expect_rc("* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", MS_EPROTO);
    expect_rc("+OK Dovecot ready.\r\n", MS_EPROTO);
    expect_rc("\r\n", MS_EPROTO);
    expect_rc("\n", MS_EPROTO);
    expect_rc(" 220 x\r\n", MS_EPROTO);
    expect_rc("125 x\r\n", MS_EPROTO); /* first digit 2-5 */
    expect_rc("620 x\r\n", MS_EPROTO);
    expect_rc("260 x\r\n", MS_EPROTO); /* second digit 0-5 */
    expect_rc("2a0 x\r\n", MS_EPROTO);
    expect_rc("22", MS_EAGAIN);
    expect_rc("22\r\n", MS_EPROTO);
    expect_rc("220x\r\n", MS_EPROTO);
    expect_rc("220x", MS_EPROTO); /* decided at the fourth byte */
    expect_rc("220\t ready\r\n", MS_EPROTO);
    expect_rc("220\rX\r\n", MS_EPROTO); /* a CR after the code only ends the line */
    expect_rc("220\r", MS_EAGAIN);
    expect_rc("2200 x\r\n", MS_EPROTO);
}

static void test_mixed_codes(void **state)
{
    (void)state;
    expect_rc("250-mx.example.org\r\n251 PIPELINING\r\n", MS_EPROTO);
    expect_rc("250-mx.example.org\r\n251", MS_EPROTO); /* before the line ends */
    expect_rc("250-mx.example.org\r\n2", MS_EAGAIN);
    expect_rc("250-mx.example.org\r\n25", MS_EAGAIN);
    expect_rc("250-mx.example.org\r\n550 5.0.0 no\r\n", MS_EPROTO);
    expect_rc("250-mx.example.org\r\n250-a\r\n250-b\r\n205 c\r\n", MS_EPROTO);
    /* the same code throughout: fine, also with a bare "250" as the last line */
    struct ms_smtp_reply r;
    parse_full("250-mx.example.org\r\n250\r\n", &r);
    LINES(&r, "mx.example.org", "");
    ms_smtp_reply_free(&r);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    expect_rc_n("220 a\0b\r\n", 9, MS_EPROTO);
    expect_rc_n("220 a\0", 6, MS_EPROTO); /* before the line ends */
    expect_rc_n("220-a\r\n220 \0\r\n", 14, MS_EPROTO);
    expect_rc_n("22\0", 3, MS_EPROTO);
    expect_rc_n("\0", 1, MS_EPROTO);
}

static void test_line_cap(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    size_t used;
    char *s = malloc(MS_SMTP_MAX_LINE + 16);
    assert_non_null(s);

    /* exactly MS_SMTP_MAX_LINE bytes of content: fine, with CRLF or LF */
    memcpy(s, "250 ", 4);
    memset(s + 4, 'a', MS_SMTP_MAX_LINE - 4);
    memcpy(s + MS_SMTP_MAX_LINE, "\r\n", 2);
    assert_int_equal(parse_n(s, MS_SMTP_MAX_LINE + 2, &r, &used), 1);
    assert_int_equal(used, MS_SMTP_MAX_LINE + 2);
    assert_int_equal(strlen(r.lines[0]), MS_SMTP_MAX_LINE - 4);
    ms_smtp_reply_free(&r);
    s[MS_SMTP_MAX_LINE] = '\n';
    assert_int_equal(parse_n(s, MS_SMTP_MAX_LINE + 1, &r, &used), 1);
    ms_smtp_reply_free(&r);

    /* one byte more: too big, with or without its line end, decided before the LF */
    memset(s + 4, 'a', MS_SMTP_MAX_LINE - 3);
    memcpy(s + MS_SMTP_MAX_LINE + 1, "\r\n", 2);
    expect_rc_n(s, MS_SMTP_MAX_LINE + 3, MS_ETOOBIG);
    s[MS_SMTP_MAX_LINE + 1] = '\n';
    expect_rc_n(s, MS_SMTP_MAX_LINE + 2, MS_ETOOBIG);
    memset(s + 4, 'a', MS_SMTP_MAX_LINE + 8);
    expect_rc_n(s, MS_SMTP_MAX_LINE + 2, MS_ETOOBIG);
    expect_rc_n(s, MS_SMTP_MAX_LINE + 12, MS_ETOOBIG);
    expect_rc_n(s, MS_SMTP_MAX_LINE + 1, MS_EAGAIN); /* could still end in CRLF */

    /* the same on a continuation line */
    memcpy(s, "250-", 4);
    expect_rc_n(s, MS_SMTP_MAX_LINE + 12, MS_ETOOBIG);
    free(s);
}

/* A reply of `lines` lines "250-x..." (the last "250 end"), each `width` bytes with CRLF. */
static char *many_lines(size_t lines, size_t width, size_t *len)
{
    char *s = malloc(lines * width + 1);
    assert_non_null(s);
    for (size_t i = 0; i < lines; i++) {
        char *l = s + i * width;
        memcpy(l, i + 1 < lines ? "250-" : "250 ", 4);
        memset(l + 4, 'x', width - 6);
        memcpy(l + width - 2, "\r\n", 2);
    }
    *len = lines * width;
    return s;
}

static void test_too_many_lines(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    size_t len, used;
    char *s = many_lines(MS_SMTP_MAX_LINES, 16, &len);
    assert_int_equal(parse_n(s, len, &r, &used), 1);
    assert_int_equal(r.line_count, MS_SMTP_MAX_LINES);
    assert_int_equal(used, len);
    ms_smtp_reply_free(&r);
    free(s);

    s = many_lines(MS_SMTP_MAX_LINES + 1, 16, &len);
    expect_rc_n(s, len, MS_ETOOBIG);
    /* decided when the last allowed line turns out to be a continuation */
    expect_rc_n(s, MS_SMTP_MAX_LINES * 16, MS_ETOOBIG);
    expect_rc_n(s, MS_SMTP_MAX_LINES * 16 - 1, MS_EAGAIN);
    free(s);

    /* a flood of continuation lines never ends: too big, not "wait for more" */
    s = many_lines(5000, 8, &len);
    expect_rc_n(s, len, MS_ETOOBIG);
    free(s);
}

static void test_reply_cap(void **state)
{
    (void)state;
    struct ms_smtp_reply r;
    size_t len, used;
    /* MS_SMTP_MAX_REPLY bytes exactly (lines of 256 bytes): fine */
    size_t width = MS_SMTP_MAX_REPLY / MS_SMTP_MAX_LINES;
    char *s = many_lines(MS_SMTP_MAX_LINES, width, &len);
    assert_int_equal(len, MS_SMTP_MAX_REPLY);
    assert_int_equal(parse_n(s, len, &r, &used), 1);
    assert_int_equal(used, MS_SMTP_MAX_REPLY);
    ms_smtp_reply_free(&r);
    free(s);

    /* fewer, longer lines past the cap: too big, before the last line ends */
    s = many_lines(20, 2000, &len);
    expect_rc_n(s, len, MS_ETOOBIG);
    expect_rc_n(s, MS_SMTP_MAX_REPLY + 1, MS_ETOOBIG);
    expect_rc_n(s, MS_SMTP_MAX_REPLY - 1, MS_EAGAIN);
    free(s);
}

/* A reply split at every byte position, fed as it would arrive: the same replies come out. */
static void test_split_everywhere(void **state)
{
    (void)state;
    const char *stream =
        "220-server1.exampledomain.com ESMTP Exim 4.66\r\n220 and/or bulk e-mail.\r\n"
        "250-smtp.gmail.com at your service, [192.0.2.226]\r\n250-SIZE 35882577\r\n"
        "250-8BITMIME\n250-AUTH LOGIN PLAIN XOAUTH2\r\n250 SMTPUTF8\r\n"
        "535-5.7.8 Username and Password not accepted.\r\n535 5.7.8  https://x - gsmtp\r\n";
    size_t n = strlen(stream);
    /* reference: the whole stream at once */
    struct ms_smtp_reply ref[3];
    size_t at = 0, used;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(parse_n(stream + at, n - at, &ref[i], &used), 1);
        at += used;
    }
    assert_int_equal(at, n);

    /* every split point of the stream into two deliveries */
    for (size_t cut = 0; cut <= n; cut++) {
        size_t have = cut, start = 0;
        int got = 0;
        bool second = false;
        for (;;) {
            struct ms_smtp_reply r;
            int rc = parse_n(stream + start, have - start, &r, &used);
            if (rc == MS_EAGAIN) {
                if (second)
                    break;
                have = n; /* the rest arrives */
                second = true;
                continue;
            }
            assert_int_equal(rc, 1);
            assert_true(got < 3);
            assert_int_equal(r.code, ref[got].code);
            assert_string_equal(r.enhanced, ref[got].enhanced);
            assert_int_equal(r.line_count, ref[got].line_count);
            for (size_t i = 0; i < r.line_count; i++)
                assert_string_equal(r.lines[i], ref[got].lines[i]);
            ms_smtp_reply_free(&r);
            got++;
            start += used;
        }
        assert_int_equal(got, 3);
        assert_int_equal(start, n);
    }

    /* byte by byte: each reply completes exactly at its last byte */
    size_t start = 0;
    int got = 0;
    for (size_t have = 1; have <= n; have++) {
        struct ms_smtp_reply r;
        int rc = parse_n(stream + start, have - start, &r, &used);
        if (rc == MS_EAGAIN)
            continue;
        assert_int_equal(rc, 1);
        assert_int_equal(start + used, have);
        assert_int_equal(r.code, ref[got].code);
        ms_smtp_reply_free(&r);
        got++;
        start = have;
    }
    assert_int_equal(got, 3);
    for (int i = 0; i < 3; i++)
        ms_smtp_reply_free(&ref[i]);
}

/* ms_smtp_may_complete is sound: when it says false, parsing the whole buffer still waits
 * or fails (never completes); and it says true where a reply can end. */
static void test_may_complete(void **state)
{
    (void)state;
    const char *ehlo = "250-smtp.gmail.com at your service\r\n250-SIZE 35882577\r\n"
                       "250-8BITMIME\n250 SMTPUTF8\r\n";
    size_t n = strlen(ehlo);
    /* only the last line's end can complete it */
    size_t last = n - 1;
    for (size_t from = 0; from < n; from++) {
        for (size_t len = from + 1; len <= n; len++) {
            bool may = ms_smtp_may_complete(ehlo, len, from);
            assert_int_equal(may, len > last && from <= last);
        }
    }
    /* nothing new, nothing to say */
    assert_false(ms_smtp_may_complete(ehlo, n, n));
    assert_false(ms_smtp_may_complete(NULL, 0, 0));

    /* a line the parser refuses is worth parsing at once */
    const char *mixed = "250-a\r\n251-b\r\n";
    assert_true(ms_smtp_may_complete(mixed, strlen(mixed), 7));
    const char *bad = "250-a\r\nxyz-b\r\n";
    assert_true(ms_smtp_may_complete(bad, strlen(bad), 7));
    const char *bare = "250-a\r\n250\r\n";
    assert_true(ms_smtp_may_complete(bare, strlen(bare), 7));
    /* the line end may straddle the old end: "\r" seen, "\n" new */
    const char *ok = "250 ok\r\n";
    assert_true(ms_smtp_may_complete(ok, 8, 7));
    /* continuation lines alone: wait, however they are sliced */
    const char *cont = "250-a\r\n250-b\r\n250-c";
    for (size_t from = 0; from < strlen(cont); from++)
        assert_false(ms_smtp_may_complete(cont, strlen(cont), from));

    /* at the reply cap the parser decides */
    size_t len;
    char *big = many_lines(5000, 8, &len);
    assert_false(ms_smtp_may_complete(big, MS_SMTP_MAX_REPLY - 1, 100));
    assert_true(ms_smtp_may_complete(big, MS_SMTP_MAX_REPLY, 100));
    free(big);

    /* soundness over every split of a stream of replies, good and bad */
    static const char nul_stream[] = "250-a\r\n250-b\0\r\n250 c\r\n";
    const char *streams[] = {
        "220-x\r\n220 y\r\n250-a\n250-b\r\n250 c\r\n535-5.7.8 no\r\n535 5.7.8 no\r\n",
        "250-a\r\n250-b\r\n251 c\r\n",
        nul_stream,
        "250-a\r\n25",
    };
    size_t lens[] = {strlen(streams[0]), strlen(streams[1]), sizeof nul_stream - 1,
                     strlen(streams[3])};
    for (size_t k = 0; k < 4; k++) {
        const char *st = streams[k];
        for (size_t from = 0; from < lens[k]; from++) {
            struct ms_smtp_reply r;
            size_t used;
            if (parse_n(st, from, &r, &used) != MS_EAGAIN) {
                if (used)
                    ms_smtp_reply_free(&r);
                continue; /* only a session that waited asks */
            }
            for (size_t l = from + 1; l <= lens[k]; l++) {
                if (ms_smtp_may_complete(st, l, from))
                    continue;
                int rc = parse_n(st, l, &r, &used);
                if (rc == 1)
                    fail_msg("stream %zu: may_complete(%zu, from %zu) said no, the reply "
                             "completes",
                             k, l, from);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_single),    cmocka_unit_test(test_greeting_multiline),
        cmocka_unit_test(test_greeting_refusals),  cmocka_unit_test(test_ehlo_postfix),
        cmocka_unit_test(test_ehlo_exim),          cmocka_unit_test(test_ehlo_exchange_online),
        cmocka_unit_test(test_ehlo_gmail),         cmocka_unit_test(test_ehlo_old_auth_form),
        cmocka_unit_test(test_ehlo_caps_edges),    cmocka_unit_test(test_enhanced_codes),
        cmocka_unit_test(test_enhanced_multiline), cmocka_unit_test(test_bare_lf),
        cmocka_unit_test(test_pipelined_replies),  cmocka_unit_test(test_not_smtp),
        cmocka_unit_test(test_mixed_codes),        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_line_cap),           cmocka_unit_test(test_too_many_lines),
        cmocka_unit_test(test_reply_cap),          cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_may_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
