/* Unit tests of the pure IMAP response parser (probe/imap_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "probe/error.h"
#include "probe/imap_parse.h"

/* Parse n bytes from an exact-size heap copy so ASan sees any read past the end. */
static int parse_n(const char *s, size_t n, struct ms_imap_response *r, size_t *used)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    int rc = ms_imap_parse(copy, n, r, used);
    free(copy); /* the response owns copies of everything it keeps */
    return rc;
}

static int parse_s(const char *s, struct ms_imap_response *r, size_t *used)
{
    return parse_n(s, strlen(s), r, used);
}

/* Every strict prefix of a complete response is MS_EAGAIN with nothing to free. */
static void check_prefixes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ms_imap_response r;
        size_t used = 99;
        int rc = parse_n(s, i, &r, &used);
        if (rc != MS_EAGAIN)
            fail_msg("prefix of %zu/%zu bytes of \"%.*s\": got %d", i, n, (int)n, s, rc);
        assert_int_equal(used, 0);
        assert_null(r.text);
        assert_null(r.keyword);
        assert_null(r.code);
        assert_null(r.data.items);
    }
}

/* Parse a complete response of n bytes: its prefixes must ask for more, trailing bytes
 * must not change what is consumed, and the invariants of the result must hold. */
static void parse_full_n(const char *s, size_t n, struct ms_imap_response *r)
{
    size_t used = 0;
    check_prefixes(s, n);

    char *more = malloc(n + 16);
    assert_non_null(more);
    memcpy(more, s, n);
    memcpy(more + n, "A9 OK trailing\r\n", 16);
    int rc = parse_n(more, n + 16, r, &used);
    free(more);
    assert_int_equal(rc, 1);
    assert_int_equal(used, n);
    ms_imap_response_free(r);

    rc = parse_n(s, n, r, &used);
    assert_int_equal(rc, 1);
    assert_int_equal(used, n);
    assert_non_null(r->text);
    assert_int_equal(r->code_args.type, MS_IMAP_VALUE_LIST);
    assert_int_equal(r->data.type, MS_IMAP_VALUE_LIST);
    assert_true(r->code_args.count == 0 || r->code_args.items);
    assert_true(r->data.count == 0 || r->data.items);
}

static void parse_full(const char *s, struct ms_imap_response *r)
{
    parse_full_n(s, strlen(s), r);
}

static void expect_rc(const char *s, int want)
{
    struct ms_imap_response r;
    size_t used = 42;
    int rc = parse_s(s, &r, &used);
    if (rc != want)
        fail_msg("\"%s\": want %d, got %d", s, want, rc);
    assert_int_equal(used, 0);
    assert_null(r.text);
}

static void expect_rc_n(const char *s, size_t n, int want)
{
    struct ms_imap_response r;
    size_t used = 42;
    int rc = parse_n(s, n, &r, &used);
    if (rc != want)
        fail_msg("%zu bytes: want %d, got %d", n, want, rc);
    assert_int_equal(used, 0);
}

static void assert_atom(const struct ms_imap_value *v, const char *s)
{
    assert_int_equal(v->type, MS_IMAP_VALUE_ATOM);
    assert_int_equal(v->len, strlen(s));
    assert_string_equal(v->str, s);
}

static void assert_string_value(const struct ms_imap_value *v, const char *s)
{
    assert_int_equal(v->type, MS_IMAP_VALUE_STRING);
    assert_int_equal(v->len, strlen(s));
    assert_string_equal(v->str, s);
}

/* ---- greetings and status responses ---- */

static void test_greeting_with_capability_code(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
               "STARTTLS AUTH=PLAIN] Dovecot ready.\r\n",
               &r);
    assert_int_equal(r.kind, MS_IMAP_UNTAGGED);
    assert_int_equal(r.status, MS_IMAP_STATUS_OK);
    assert_string_equal(r.code, "CAPABILITY");
    assert_int_equal(r.code_args.count, 9);
    assert_atom(&r.code_args.items[0], "IMAP4rev1");
    assert_atom(&r.code_args.items[7], "STARTTLS");
    assert_atom(&r.code_args.items[8], "AUTH=PLAIN");
    assert_string_equal(r.text, "Dovecot ready.");
    assert_null(r.keyword);
    assert_int_equal(r.data.count, 0);
    assert_false(r.has_number);
    ms_imap_response_free(&r);
}

static void test_greeting_waiting_for_auth(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* OK Waiting for authentication process to respond..\r\n", &r);
    assert_int_equal(r.kind, MS_IMAP_UNTAGGED);
    assert_int_equal(r.status, MS_IMAP_STATUS_OK);
    assert_null(r.code);
    assert_int_equal(r.code_args.count, 0);
    assert_null(r.code_args.items);
    assert_string_equal(r.text, "Waiting for authentication process to respond..");
    ms_imap_response_free(&r);
}

static void test_greeting_preauth_bye(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* PREAUTH [CAPABILITY IMAP4rev1] Logged in as alice\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_PREAUTH);
    assert_string_equal(r.code, "CAPABILITY");
    assert_int_equal(r.code_args.count, 1);
    assert_string_equal(r.text, "Logged in as alice");
    ms_imap_response_free(&r);

    parse_full("* BYE Too many connections from your IP\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_BYE);
    assert_string_equal(r.text, "Too many connections from your IP");
    ms_imap_response_free(&r);

    parse_full("* NO [ALERT] Quota exceeded (mailbox for user is full)\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_NO);
    assert_string_equal(r.code, "ALERT");
    assert_int_equal(r.code_args.count, 0);
    assert_string_equal(r.text, "Quota exceeded (mailbox for user is full)");
    ms_imap_response_free(&r);

    parse_full("* BAD Unexpected\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_BAD);
    ms_imap_response_free(&r);
}

static void test_status_without_text(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* OK\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_OK);
    assert_string_equal(r.text, "");
    ms_imap_response_free(&r);

    parse_full("A1 OK\r\n", &r);
    assert_int_equal(r.kind, MS_IMAP_TAGGED);
    assert_string_equal(r.tag, "A1");
    assert_string_equal(r.text, "");
    ms_imap_response_free(&r);

    parse_full("* OK [ALERT]\r\n", &r);
    assert_string_equal(r.code, "ALERT");
    assert_string_equal(r.text, "");
    ms_imap_response_free(&r);

    /* No space between the status and the code: still a code. */
    parse_full("* OK[READ-WRITE] Select completed.\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_OK);
    assert_string_equal(r.code, "READ-WRITE");
    assert_string_equal(r.text, "Select completed.");
    ms_imap_response_free(&r);
}

static void test_lower_case_keywords(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* ok hello\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_OK);
    assert_string_equal(r.text, "hello");
    ms_imap_response_free(&r);

    parse_full("a1 ok done\r\n", &r);
    assert_int_equal(r.kind, MS_IMAP_TAGGED);
    assert_string_equal(r.tag, "a1");
    assert_int_equal(r.status, MS_IMAP_STATUS_OK);
    ms_imap_response_free(&r);

    parse_full("a2 No [authenticationfailed] Authentication failed.\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_NO);
    assert_string_equal(r.code, "authenticationfailed");
    ms_imap_response_free(&r);

    parse_full("* capability imap4rev1 starttls\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_NONE);
    assert_string_equal(r.keyword, "capability");
    assert_int_equal(r.data.count, 2);
    ms_imap_response_free(&r);

    parse_full("* preauth hi\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_PREAUTH);
    ms_imap_response_free(&r);
}

static void test_tagged(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("A0001 OK [CAPABILITY IMAP4rev1 IDLE NAMESPACE QUOTA] Logged in\r\n", &r);
    assert_int_equal(r.kind, MS_IMAP_TAGGED);
    assert_string_equal(r.tag, "A0001");
    assert_int_equal(r.status, MS_IMAP_STATUS_OK);
    assert_string_equal(r.code, "CAPABILITY");
    assert_int_equal(r.code_args.count, 4);
    assert_atom(&r.code_args.items[3], "QUOTA");
    assert_string_equal(r.text, "Logged in");
    ms_imap_response_free(&r);

    parse_full("A2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_NO);
    assert_string_equal(r.code, "AUTHENTICATIONFAILED");
    assert_string_equal(r.text, "Authentication failed.");
    ms_imap_response_free(&r);

    parse_full("A3 BAD Error in IMAP command received by server.\r\n", &r);
    assert_int_equal(r.status, MS_IMAP_STATUS_BAD);
    ms_imap_response_free(&r);

    /* Tags are any atom. */
    parse_full("x.1-2_a/b! OK done\r\n", &r);
    assert_string_equal(r.tag, "x.1-2_a/b!");
    ms_imap_response_free(&r);

    /* Several spaces are tolerated. */
    parse_full("A4  OK   spaced\r\n", &r);
    assert_string_equal(r.tag, "A4");
    assert_string_equal(r.text, "spaced");
    ms_imap_response_free(&r);
}

static void test_tag_length_cap(void **state)
{
    (void)state;
    char line[MS_IMAP_MAX_TAG + 32];
    struct ms_imap_response r;
    memset(line, 'T', MS_IMAP_MAX_TAG);
    strcpy(line + MS_IMAP_MAX_TAG, " OK x\r\n");
    parse_full(line, &r);
    assert_int_equal(strlen(r.tag), MS_IMAP_MAX_TAG);
    ms_imap_response_free(&r);

    memset(line, 'T', MS_IMAP_MAX_TAG + 1);
    strcpy(line + MS_IMAP_MAX_TAG + 1, " OK x\r\n");
    expect_rc(line, MS_ETOOBIG);
    /* Decided as soon as the 65th tag byte is seen. */
    expect_rc_n(line, MS_IMAP_MAX_TAG + 1, MS_ETOOBIG);
}

/* ---- response codes ---- */

static void test_code_nested_lists(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
               "Flags permitted.\r\n",
               &r);
    assert_string_equal(r.code, "PERMANENTFLAGS");
    assert_int_equal(r.code_args.count, 1);
    const struct ms_imap_value *l = &r.code_args.items[0];
    assert_int_equal(l->type, MS_IMAP_VALUE_LIST);
    assert_int_equal(l->count, 6);
    assert_atom(&l->items[0], "\\Answered");
    assert_atom(&l->items[5], "\\*");
    assert_string_equal(r.text, "Flags permitted.");
    ms_imap_response_free(&r);

    parse_full("A1 NO [BADCHARSET (UTF-8 \"X-Y\")] Unsupported charset\r\n", &r);
    assert_string_equal(r.code, "BADCHARSET");
    assert_int_equal(r.code_args.count, 1);
    l = &r.code_args.items[0];
    assert_int_equal(l->count, 2);
    assert_atom(&l->items[0], "UTF-8");
    assert_string_value(&l->items[1], "X-Y");
    ms_imap_response_free(&r);

    parse_full("* OK [XDEEP (a (b (c NIL)) \"q\") 7] text\r\n", &r);
    assert_string_equal(r.code, "XDEEP");
    assert_int_equal(r.code_args.count, 2);
    l = &r.code_args.items[0];
    assert_int_equal(l->count, 3);
    assert_atom(&l->items[0], "a");
    assert_int_equal(l->items[1].type, MS_IMAP_VALUE_LIST);
    assert_int_equal(l->items[1].items[1].type, MS_IMAP_VALUE_LIST);
    assert_int_equal(l->items[1].items[1].items[1].type, MS_IMAP_VALUE_NIL);
    assert_string_value(&l->items[2], "q");
    assert_atom(&r.code_args.items[1], "7");
    ms_imap_response_free(&r);

    parse_full("* OK [UIDVALIDITY 1700000000] UIDs valid\r\n", &r);
    assert_string_equal(r.code, "UIDVALIDITY");
    assert_atom(&r.code_args.items[0], "1700000000");
    ms_imap_response_free(&r);

    parse_full("* OK [REFERRAL imap://user;AUTH=*@server2/] Try there\r\n", &r);
    assert_atom(&r.code_args.items[0], "imap://user;AUTH=*@server2/");
    ms_imap_response_free(&r);
}

static void test_code_lenient_fallbacks(void **state)
{
    (void)state;
    struct ms_imap_response r;
    /* Free-text code arguments that are not IMAP values are kept as raw words. */
    parse_full("* NO [XFOO \"unbalanced (x] text here\r\n", &r);
    assert_string_equal(r.code, "XFOO");
    assert_int_equal(r.code_args.count, 2);
    assert_atom(&r.code_args.items[0], "\"unbalanced");
    assert_atom(&r.code_args.items[1], "(x");
    assert_string_equal(r.text, "text here");
    ms_imap_response_free(&r);

    /* A bracket that never closes is just text. */
    parse_full("* OK [no close here\r\n", &r);
    assert_null(r.code);
    assert_int_equal(r.code_args.count, 0);
    assert_string_equal(r.text, "[no close here");
    ms_imap_response_free(&r);

    parse_full("* OK [] empty\r\n", &r);
    assert_null(r.code);
    assert_string_equal(r.text, "[] empty");
    ms_imap_response_free(&r);

    /* A bracket later in the text is not a code. */
    parse_full("* OK Microsoft Exchange ready. [TQBOADIAUAAy]\r\n", &r);
    assert_null(r.code);
    assert_string_equal(r.text, "Microsoft Exchange ready. [TQBOADIAUAAy]");
    ms_imap_response_free(&r);

    /* Brackets inside text after a code stay text. */
    parse_full("* NO [SERVERBUG] Internal error. [2024-01-01 10:00:00]\r\n", &r);
    assert_string_equal(r.code, "SERVERBUG");
    assert_string_equal(r.text, "Internal error. [2024-01-01 10:00:00]");
    ms_imap_response_free(&r);
}

/* ---- untagged data ---- */

static void test_capability_data(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
               "STARTTLS LOGINDISABLED\r\n",
               &r);
    assert_int_equal(r.kind, MS_IMAP_UNTAGGED);
    assert_int_equal(r.status, MS_IMAP_STATUS_NONE);
    assert_string_equal(r.keyword, "CAPABILITY");
    assert_null(r.code);
    assert_string_equal(r.text, "");
    assert_int_equal(r.data.count, 9);
    assert_atom(&r.data.items[8], "LOGINDISABLED");
    ms_imap_response_free(&r);

    parse_full("* CAPABILITY\r\n", &r);
    assert_string_equal(r.keyword, "CAPABILITY");
    assert_int_equal(r.data.count, 0);
    assert_null(r.data.items);
    ms_imap_response_free(&r);
}

static void test_numbered_data(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* 23 EXISTS\r\n", &r);
    assert_true(r.has_number);
    assert_int_equal(r.number, 23);
    assert_string_equal(r.keyword, "EXISTS");
    assert_int_equal(r.status, MS_IMAP_STATUS_NONE);
    assert_int_equal(r.data.count, 0);
    ms_imap_response_free(&r);

    parse_full("* 0 RECENT\r\n", &r);
    assert_int_equal(r.number, 0);
    ms_imap_response_free(&r);

    parse_full("* 4294967295 EXPUNGE\r\n", &r);
    assert_int_equal(r.number, UINT32_MAX);
    ms_imap_response_free(&r);

    expect_rc("* 4294967296 EXISTS\r\n", MS_EPROTO);
    expect_rc("* 99999999999999999999999 EXISTS\r\n", MS_EPROTO);
    expect_rc("* 23\r\n", MS_EPROTO);
    expect_rc("* 23 \r\n", MS_EPROTO);
}

static void test_list_namespace_status_quota(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n", &r);
    assert_string_equal(r.keyword, "LIST");
    assert_int_equal(r.data.count, 3);
    assert_int_equal(r.data.items[0].type, MS_IMAP_VALUE_LIST);
    assert_atom(&r.data.items[0].items[1], "\\Sent");
    assert_string_value(&r.data.items[1], "/");
    assert_atom(&r.data.items[2], "Sent");
    ms_imap_response_free(&r);

    parse_full("* LIST (\\HasNoChildren \\sent) NIL \"Sent Items\"\r\n", &r);
    assert_int_equal(r.data.items[1].type, MS_IMAP_VALUE_NIL);
    assert_null(r.data.items[1].str);
    assert_string_value(&r.data.items[2], "Sent Items");
    ms_imap_response_free(&r);

    parse_full("* LIST (\\HasChildren \\Noselect) \"/\" [Gmail]/Sent\r\n", &r);
    assert_atom(&r.data.items[2], "[Gmail]/Sent");
    ms_imap_response_free(&r);

    parse_full("* NAMESPACE ((\"\" \"/\")) NIL ((\"#shared/\" \"/\") (\"Public/\" \".\"))\r\n", &r);
    assert_string_equal(r.keyword, "NAMESPACE");
    assert_int_equal(r.data.count, 3);
    assert_int_equal(r.data.items[0].count, 1);
    assert_string_value(&r.data.items[0].items[0].items[0], "");
    assert_string_value(&r.data.items[0].items[0].items[1], "/");
    assert_int_equal(r.data.items[1].type, MS_IMAP_VALUE_NIL);
    assert_int_equal(r.data.items[2].count, 2);
    assert_string_value(&r.data.items[2].items[0].items[0], "#shared/");
    assert_string_value(&r.data.items[2].items[1].items[1], ".");
    ms_imap_response_free(&r);

    parse_full("* STATUS INBOX (MESSAGES 3 UNSEEN 1)\r\n", &r);
    assert_string_equal(r.keyword, "STATUS");
    assert_atom(&r.data.items[0], "INBOX");
    assert_int_equal(r.data.items[1].count, 4);
    assert_atom(&r.data.items[1].items[3], "1");
    ms_imap_response_free(&r);

    parse_full("* QUOTAROOT INBOX \"User quota\"\r\n", &r);
    assert_string_equal(r.keyword, "QUOTAROOT");
    assert_atom(&r.data.items[0], "INBOX");
    assert_string_value(&r.data.items[1], "User quota");
    ms_imap_response_free(&r);

    parse_full("* QUOTA \"User quota\" (STORAGE 10 1024 MESSAGE 3 1000)\r\n", &r);
    assert_string_equal(r.keyword, "QUOTA");
    assert_string_value(&r.data.items[0], "User quota");
    assert_int_equal(r.data.items[1].count, 6);
    assert_atom(&r.data.items[1].items[0], "STORAGE");
    assert_atom(&r.data.items[1].items[2], "1024");
    ms_imap_response_free(&r);

    parse_full("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n", &r);
    assert_int_equal(r.data.items[0].count, 5);
    ms_imap_response_free(&r);

    parse_full("* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n", &r);
    assert_int_equal(r.data.items[0].count, 4);
    assert_int_equal(r.data.items[0].items[3].type, MS_IMAP_VALUE_NIL);
    ms_imap_response_free(&r);

    parse_full("* SEARCH\r\n", &r);
    assert_int_equal(r.data.count, 0);
    ms_imap_response_free(&r);

    parse_full("* ENABLED CONDSTORE UTF8=ACCEPT\r\n", &r);
    assert_int_equal(r.data.count, 2);
    ms_imap_response_free(&r);

    /* Unknown untagged responses parse as keyword + values. */
    parse_full("* XSOMETHING a \"b\" (c)\r\n", &r);
    assert_string_equal(r.keyword, "XSOMETHING");
    assert_int_equal(r.data.count, 3);
    ms_imap_response_free(&r);
}

static void test_quoted_escapes(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* LIST () \"/\" \"a\\\"b\\\\c\"\r\n", &r);
    assert_string_value(&r.data.items[2], "a\"b\\c");
    ms_imap_response_free(&r);

    parse_full("* LIST () \"/\" \"caf\xc3\xa9\"\r\n", &r); /* 8-bit kept as sent */
    assert_string_value(&r.data.items[2], "caf\xc3\xa9");
    ms_imap_response_free(&r);

    expect_rc("* LIST () \"/\" \"open\r\n", MS_EPROTO);
    expect_rc("* LIST () \"/\" \"a\\\r\n", MS_EPROTO);
}

static void test_fetch_section_atom(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("* 1 FETCH (UID 7 BODY[HEADER.FIELDS (FROM DATE)] {6}\r\nFrom:\n)\r\n", &r);
    assert_int_equal(r.number, 1);
    assert_string_equal(r.keyword, "FETCH");
    assert_int_equal(r.data.count, 1);
    const struct ms_imap_value *l = &r.data.items[0];
    assert_int_equal(l->count, 4);
    assert_atom(&l->items[2], "BODY[HEADER.FIELDS (FROM DATE)]");
    assert_string_value(&l->items[3], "From:\n");
    ms_imap_response_free(&r);

    /* A bracket that does not close on the line leaves the usual atom rules. */
    parse_full("* XFOO a[b (c)\r\n", &r);
    assert_int_equal(r.data.count, 2);
    assert_atom(&r.data.items[0], "a[b");
    ms_imap_response_free(&r);
}

/* ---- literals ---- */

static void test_literal_in_list(void **state)
{
    (void)state;
    struct ms_imap_response r;
    static const char s[] = "* LIST () \"/\" {5}\r\nSent{}\r\n";
    parse_full(s, &r);
    assert_int_equal(r.data.count, 4);
    assert_string_value(&r.data.items[2], "Sent{");
    assert_atom(&r.data.items[3], "}"); /* '}' is an atom char (leniency) */
    ms_imap_response_free(&r);

    parse_full("* LIST () \"/\" {6}\r\nSent{}\r\n", &r);
    assert_int_equal(r.data.count, 3);
    assert_string_value(&r.data.items[2], "Sent{}");
    ms_imap_response_free(&r);

    parse_full("* LIST () \"/\" {4}\r\nSent\r\n", &r);
    assert_string_value(&r.data.items[2], "Sent");
    ms_imap_response_free(&r);

    /* Bare LF after the announcement, LITERAL+ and literal8 forms, empty literal. */
    parse_full("* LIST () \"/\" {4}\nSent\n", &r);
    assert_string_value(&r.data.items[2], "Sent");
    ms_imap_response_free(&r);

    parse_full("* LIST () \"/\" {4+}\r\nSent\r\n", &r);
    assert_string_value(&r.data.items[2], "Sent");
    ms_imap_response_free(&r);

    parse_full("* XBIN ~{3}\r\nabc\r\n", &r);
    assert_string_value(&r.data.items[0], "abc");
    ms_imap_response_free(&r);

    parse_full("* LIST () \"/\" {0}\r\n\r\n", &r);
    assert_string_value(&r.data.items[2], "");
    ms_imap_response_free(&r);

    /* Two literals, and one inside a nested list. */
    parse_full("* XTWO ({3}\r\nabc {2}\r\nde) x\r\n", &r);
    assert_int_equal(r.data.count, 2);
    assert_string_value(&r.data.items[0].items[0], "abc");
    assert_string_value(&r.data.items[0].items[1], "de");
    assert_atom(&r.data.items[1], "x");
    ms_imap_response_free(&r);
}

static void test_literal_bytes_kept(void **state)
{
    (void)state;
    struct ms_imap_response r;
    /* CRLF, NUL and 8-bit bytes inside a literal are data. */
    static const char s[] = "* XDATA {7}\r\na\r\n\0b\xff)\r\n";
    size_t n = sizeof s - 1;
    parse_full_n(s, n, &r);
    assert_int_equal(r.data.count, 1);
    assert_int_equal(r.data.items[0].type, MS_IMAP_VALUE_STRING);
    assert_int_equal(r.data.items[0].len, 7);
    assert_memory_equal(r.data.items[0].str, "a\r\n\0b\xff)", 7);
    assert_int_equal(r.data.items[0].str[7], '\0');
    ms_imap_response_free(&r);
}

static void test_literal_split_across_calls(void **state)
{
    (void)state;
    /* The stream arrives in pieces: feed growing prefixes as a session would. */
    static const char s[] = "* LIST (\\HasNoChildren) \"/\" {11}\r\nSent Items\n\r\n"
                            "A1 OK LIST completed\r\n";
    size_t n = sizeof s - 1, first = strstr(s, "A1") - s;
    size_t got = 0, used = 0;
    struct ms_imap_response r;
    for (size_t avail = 0; avail <= n; avail++) {
        int rc = parse_n(s, avail, &r, &used);
        if (avail < first) {
            assert_int_equal(rc, MS_EAGAIN);
            continue;
        }
        assert_int_equal(rc, 1);
        assert_int_equal(used, first);
        assert_string_value(&r.data.items[2], "Sent Items\n");
        ms_imap_response_free(&r);
        got++;
    }
    assert_int_equal(got, n - first + 1);

    /* The rest, after consuming the first response. */
    check_prefixes(s + first, n - first);
    assert_int_equal(parse_n(s + first, n - first, &r, &used), 1);
    assert_int_equal(r.kind, MS_IMAP_TAGGED);
    ms_imap_response_free(&r);
}

static void test_literal_too_big(void **state)
{
    (void)state;
    char buf[64];
    /* At the cap: needs its bytes. Over: fails at once. */
    snprintf(buf, sizeof buf, "* X {%d}\r\n", MS_IMAP_MAX_LITERAL);
    expect_rc(buf, MS_EAGAIN);
    snprintf(buf, sizeof buf, "* X {%d}\r\n", MS_IMAP_MAX_LITERAL + 1);
    expect_rc(buf, MS_ETOOBIG);
    expect_rc("* X {9223372036854775808}\r\n", MS_ETOOBIG);
    expect_rc("* X {18446744073709551616}\r\n", MS_ETOOBIG);
    expect_rc("* X {999999999999999999999999999999999999999999999999\r\n", MS_ETOOBIG);
    /* Before the '}' arrives: the digits alone are enough to decide. */
    expect_rc("* X {9223372036854775808", MS_ETOOBIG);
    expect_rc("* OK [BADCHARSET ({99999999}\r\n", MS_ETOOBIG);
    /* Leading zeros are only digits. */
    {
        struct ms_imap_response r;
        size_t used;
        assert_int_equal(parse_s("* X {000000000000000000000003}\r\nabc\r\n", &r, &used), 1);
        assert_string_value(&r.data.items[0], "abc");
        ms_imap_response_free(&r);
    }
    /* Malformed announcements. */
    expect_rc("* X {}\r\n", MS_EPROTO);
    expect_rc("* X {-1}\r\n", MS_EPROTO);
    expect_rc("* X {3x}\r\nabc\r\n", MS_EPROTO);
    expect_rc("* X {3} \r\nabc\r\n", MS_EPROTO);
    expect_rc("* X {3}\rabc\r\n", MS_EPROTO);
}

static void test_literal_at_cap_fits(void **state)
{
    (void)state;
    size_t n = MS_IMAP_MAX_LITERAL;
    char head[32];
    int hl = snprintf(head, sizeof head, "* X {%zu}\r\n", n);
    size_t total = (size_t)hl + n + 2;
    char *s = malloc(total);
    assert_non_null(s);
    memcpy(s, head, (size_t)hl);
    memset(s + hl, 'z', n);
    memcpy(s + hl + n, "\r\n", 2);
    struct ms_imap_response r;
    size_t used;
    assert_int_equal(parse_n(s, total, &r, &used), 1);
    assert_int_equal(used, total);
    assert_int_equal(r.data.items[0].len, n);
    ms_imap_response_free(&r);
    /* Missing its last byte: incomplete, not an error. */
    assert_int_equal(parse_n(s, total - 3, &r, &used), MS_EAGAIN);
    free(s);
}

static void test_response_cap(void **state)
{
    (void)state;
    struct ms_imap_response r;
    size_t used;
    /* Two literals that together cross the response cap: refused as soon as the second
     * announcement is seen, before its bytes. */
    size_t n = MS_IMAP_MAX_LITERAL;
    char head[32];
    int hl = snprintf(head, sizeof head, "* X {%zu}\r\n", n);
    size_t total = (size_t)hl + n + 16;
    char *s = malloc(total);
    assert_non_null(s);
    memcpy(s, head, (size_t)hl);
    memset(s + hl, 'z', n);
    int tl = snprintf(s + hl + n, 16, " {%zu}\r\n", n);
    assert_int_equal(parse_n(s, (size_t)hl + n + (size_t)tl, &r, &used), MS_ETOOBIG);
    free(s);

    /* A line longer than the cap. */
    size_t big = MS_IMAP_MAX_RESPONSE + 10;
    s = malloc(big);
    assert_non_null(s);
    memcpy(s, "* OK ", 5);
    memset(s + 5, 'a', big - 7);
    memcpy(s + big - 2, "\r\n", 2);
    assert_int_equal(parse_n(s, big, &r, &used), MS_ETOOBIG);
    /* Decided without the line end once the cap is passed. */
    assert_int_equal(parse_n(s, MS_IMAP_MAX_RESPONSE + 1, &r, &used), MS_ETOOBIG);
    assert_int_equal(parse_n(s, MS_IMAP_MAX_RESPONSE, &r, &used), MS_ETOOBIG);
    assert_int_equal(parse_n(s, MS_IMAP_MAX_RESPONSE - 1, &r, &used), MS_EAGAIN);
    /* Exactly at the cap is fine. */
    memcpy(s + MS_IMAP_MAX_RESPONSE - 2, "\r\n", 2);
    assert_int_equal(parse_n(s, MS_IMAP_MAX_RESPONSE, &r, &used), 1);
    assert_int_equal(used, MS_IMAP_MAX_RESPONSE);
    ms_imap_response_free(&r);
    free(s);
}

/* ---- caps on depth and value count ---- */

static char *nested(int depth, const char *prefix)
{
    size_t pl = strlen(prefix);
    char *s = malloc(pl + (size_t)depth * 2 + 8);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    size_t o = pl;
    for (int i = 0; i < depth; i++)
        s[o++] = '(';
    s[o++] = 'x';
    for (int i = 0; i < depth; i++)
        s[o++] = ')';
    strcpy(s + o, "\r\n");
    return s;
}

static void test_depth_cap(void **state)
{
    (void)state;
    struct ms_imap_response r;
    char *s = nested(MS_IMAP_MAX_DEPTH, "* X ");
    parse_full(s, &r);
    const struct ms_imap_value *v = &r.data;
    for (int i = 0; i < MS_IMAP_MAX_DEPTH; i++) {
        assert_int_equal(v->count, 1);
        v = &v->items[0];
        assert_int_equal(v->type, MS_IMAP_VALUE_LIST);
    }
    assert_atom(&v->items[0], "x");
    ms_imap_response_free(&r);
    free(s);

    s = nested(MS_IMAP_MAX_DEPTH + 1, "* X ");
    expect_rc(s, MS_ETOOBIG);
    /* Decided at the 17th '(' without waiting for the rest. */
    expect_rc_n(s, 4 + MS_IMAP_MAX_DEPTH + 1, MS_ETOOBIG);
    free(s);

    s = nested(MS_IMAP_MAX_DEPTH + 1, "* OK [X ");
    expect_rc(s, MS_ETOOBIG);
    free(s);

    s = nested(100000, "* X ");
    expect_rc(s, MS_ETOOBIG);
    free(s);
}

static void test_value_count_cap(void **state)
{
    (void)state;
    struct ms_imap_response r;
    size_t used;
    size_t cap = 16 + MS_IMAP_MAX_VALUES * 2 + 8;
    char *s = malloc(cap);
    assert_non_null(s);
    strcpy(s, "* SEARCH");
    size_t o = strlen(s);
    for (int i = 0; i < MS_IMAP_MAX_VALUES; i++) {
        s[o++] = ' ';
        s[o++] = '7';
    }
    memcpy(s + o, "\r\n", 3);
    assert_int_equal(parse_s(s, &r, &used), 1);
    assert_int_equal(r.data.count, MS_IMAP_MAX_VALUES);
    ms_imap_response_free(&r);
    memcpy(s + o, " 7\r\n", 5);
    assert_int_equal(parse_s(s, &r, &used), MS_ETOOBIG);
    free(s);

    /* Lists count as values too: each " (x)" is two. */
    size_t m = MS_IMAP_MAX_VALUES / 2 + 1;
    s = malloc(16 + m * 4 + 4);
    assert_non_null(s);
    strcpy(s, "* X");
    o = 3;
    for (size_t i = 0; i < m - 1; i++) {
        memcpy(s + o, " (x)", 4);
        o += 4;
    }
    memcpy(s + o, "\r\n", 3);
    assert_int_equal(parse_s(s, &r, &used), 1);
    assert_int_equal(r.data.count, MS_IMAP_MAX_VALUES / 2);
    ms_imap_response_free(&r);
    memcpy(s + o, " (x)\r\n", 7);
    assert_int_equal(parse_s(s, &r, &used), MS_ETOOBIG);
    free(s);

    /* Code arguments and data share one budget. */
    size_t k = MS_IMAP_MAX_VALUES;
    s = malloc(32 + k * 2 + 8);
    assert_non_null(s);
    strcpy(s, "* OK [X");
    o = strlen(s);
    for (size_t i = 0; i < k; i++) {
        s[o++] = ' ';
        s[o++] = 'a';
    }
    memcpy(s + o, "] x\r\n", 6);
    assert_int_equal(parse_s(s, &r, &used), 1);
    assert_int_equal(r.code_args.count, k);
    ms_imap_response_free(&r);
    memcpy(s + o, " b] x\r\n", 8);
    assert_int_equal(parse_s(s, &r, &used), MS_ETOOBIG);
    free(s);
}

/* ---- malformed input ---- */

static void test_nul_bytes(void **state)
{
    (void)state;
    static const char text[] = "* OK hel\0lo\r\n";
    static const char atom[] = "* CAPABILITY IMAP\0rev1\r\n";
    static const char quoted[] = "* LIST () \"/\" \"a\0b\"\r\n";
    static const char tag[] = "A\0 OK x\r\n";
    static const char cont[] = "+ ab\0c\r\n";
    static const char code[] = "* OK [AL\0ERT] x\r\n";
    expect_rc_n(text, sizeof text - 1, MS_EPROTO);
    expect_rc_n(atom, sizeof atom - 1, MS_EPROTO);
    expect_rc_n(quoted, sizeof quoted - 1, MS_EPROTO);
    expect_rc_n(tag, sizeof tag - 1, MS_EPROTO);
    expect_rc_n(cont, sizeof cont - 1, MS_EPROTO);
    expect_rc_n(code, sizeof code - 1, MS_EPROTO);
    /* Decided before the line ends. */
    expect_rc_n(text, 9, MS_EPROTO);
    expect_rc_n("\0", 1, MS_EPROTO);
}

static void test_crlf_and_lf(void **state)
{
    (void)state;
    struct ms_imap_response a, b;
    parse_full("* OK [CAPABILITY IMAP4rev1] ready\r\n", &a);
    parse_full("* OK [CAPABILITY IMAP4rev1] ready\n", &b);
    assert_string_equal(a.text, b.text);
    assert_string_equal(a.code, b.code);
    ms_imap_response_free(&a);
    ms_imap_response_free(&b);

    /* A lone CR inside human text is kept; inside values it is an error. */
    parse_full("* OK a\rb\r\n", &a);
    assert_string_equal(a.text, "a\rb");
    ms_imap_response_free(&a);
    expect_rc("* CAPABILITY a\rb\r\n", MS_EPROTO);
    /* Text ending in CR CR LF keeps one CR. */
    parse_full("A1 OK x\r\r\n", &a);
    assert_string_equal(a.text, "x\r");
    ms_imap_response_free(&a);
}

static void test_garbage(void **state)
{
    (void)state;
    expect_rc("HTTP/1.1 400 Bad Request\r\n", MS_EPROTO);
    expect_rc("220 smtp.example.com ESMTP Postfix\r\n", MS_EPROTO);
    expect_rc("+OK Dovecot ready.\r\n", MS_EPROTO);
    expect_rc("-ERR nope\r\n", MS_EPROTO);
    expect_rc("A1 FOO bar\r\n", MS_EPROTO);
    expect_rc("A1 BYE tagged bye\r\n", MS_EPROTO);
    expect_rc("A1 PREAUTH x\r\n", MS_EPROTO);
    expect_rc("A1\r\n", MS_EPROTO);
    expect_rc("A1 \r\n", MS_EPROTO);
    expect_rc("*\r\n", MS_EPROTO);
    expect_rc("* \r\n", MS_EPROTO);
    expect_rc("*OK x\r\n", MS_EPROTO);
    expect_rc("* (x)\r\n", MS_EPROTO);
    expect_rc("* [ALERT] x\r\n", MS_EPROTO);
    expect_rc("\r\n", MS_EPROTO);
    expect_rc("\n", MS_EPROTO);
    expect_rc(" A1 OK x\r\n", MS_EPROTO);
    expect_rc("(A1 OK x\r\n", MS_EPROTO);
    expect_rc("* LIST (a b\r\n", MS_EPROTO);
    expect_rc("* LIST a b)\r\n", MS_EPROTO);
    expect_rc("* X ((a)\r\n", MS_EPROTO);
    /* Decided early: the first bytes already rule IMAP out. */
    expect_rc("+OK", MS_EPROTO);
    expect_rc("*X", MS_EPROTO);
    expect_rc("HTTP/1.1 400 ", MS_EPROTO);
}

static void test_incomplete(void **state)
{
    (void)state;
    struct ms_imap_response r;
    size_t used = 5;
    assert_int_equal(ms_imap_parse(NULL, 0, &r, &used), MS_EAGAIN);
    assert_int_equal(used, 0);
    expect_rc("", MS_EAGAIN);
    expect_rc("*", MS_EAGAIN);
    expect_rc("* OK", MS_EAGAIN);
    expect_rc("* OK hi\r", MS_EAGAIN);
    expect_rc("A1", MS_EAGAIN);
    expect_rc("+", MS_EAGAIN);
    expect_rc("* LIST () \"/\" {5}\r\nSe", MS_EAGAIN);
    expect_rc("* LIST () \"/\" {5}\r\nSent{", MS_EAGAIN);
    expect_rc("* X {12", MS_EAGAIN);
    expect_rc("* OK [CAPABILITY IMAP4rev1", MS_EAGAIN);
}

/* ---- continuation ---- */

static void test_continuation(void **state)
{
    (void)state;
    struct ms_imap_response r;
    parse_full("+ dGVzdA==\r\n", &r);
    assert_int_equal(r.kind, MS_IMAP_CONTINUATION);
    assert_string_equal(r.text, "dGVzdA==");
    assert_int_equal(r.status, MS_IMAP_STATUS_NONE);
    assert_null(r.code);
    assert_null(r.keyword);
    ms_imap_response_free(&r);

    parse_full("+\r\n", &r);
    assert_int_equal(r.kind, MS_IMAP_CONTINUATION);
    assert_string_equal(r.text, "");
    ms_imap_response_free(&r);

    parse_full("+ \n", &r);
    assert_string_equal(r.text, "");
    ms_imap_response_free(&r);

    parse_full("+ Ready for literal data [x]\r\n", &r);
    assert_string_equal(r.text, "Ready for literal data [x]");
    assert_null(r.code);
    ms_imap_response_free(&r);
}

/* ---- streams and helpers ---- */

static void test_several_responses(void **state)
{
    (void)state;
    static const char s[] = "* CAPABILITY IMAP4rev1 IDLE\r\n"
                            "* 3 EXISTS\n"
                            "A1 OK done\r\n";
    const char *p = s;
    size_t left = sizeof s - 1, used;
    struct ms_imap_response r;
    assert_int_equal(parse_n(p, left, &r, &used), 1);
    assert_string_equal(r.keyword, "CAPABILITY");
    ms_imap_response_free(&r);
    p += used;
    left -= used;
    assert_int_equal(parse_n(p, left, &r, &used), 1);
    assert_int_equal(r.number, 3);
    ms_imap_response_free(&r);
    p += used;
    left -= used;
    assert_int_equal(parse_n(p, left, &r, &used), 1);
    assert_string_equal(r.tag, "A1");
    ms_imap_response_free(&r);
    assert_int_equal(used, left);
}

static void test_value_is(void **state)
{
    (void)state;
    struct ms_imap_response r;
    size_t used;
    static const char s[] = "* X Idle \"StartTLS\" NIL (a) {3}\r\na\0b\r\n";
    assert_int_equal(parse_n(s, sizeof s - 1, &r, &used), 1);
    assert_true(ms_imap_value_is(&r.data.items[0], "IDLE"));
    assert_false(ms_imap_value_is(&r.data.items[0], "IDLEX"));
    assert_false(ms_imap_value_is(&r.data.items[0], "IDL"));
    assert_true(ms_imap_value_is(&r.data.items[1], "starttls"));
    assert_false(ms_imap_value_is(&r.data.items[2], "NIL"));
    assert_false(ms_imap_value_is(&r.data.items[3], "a"));
    assert_false(ms_imap_value_is(&r.data.items[4], "a")); /* "a\0b": length counts */
    assert_false(ms_imap_value_is(NULL, "a"));
    assert_false(ms_imap_value_is(&r.data.items[0], NULL));
    ms_imap_response_free(&r);

    /* Freeing twice, or a zeroed response, is harmless. */
    ms_imap_response_free(&r);
    ms_imap_response_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting_with_capability_code),
        cmocka_unit_test(test_greeting_waiting_for_auth),
        cmocka_unit_test(test_greeting_preauth_bye),
        cmocka_unit_test(test_status_without_text),
        cmocka_unit_test(test_lower_case_keywords),
        cmocka_unit_test(test_tagged),
        cmocka_unit_test(test_tag_length_cap),
        cmocka_unit_test(test_code_nested_lists),
        cmocka_unit_test(test_code_lenient_fallbacks),
        cmocka_unit_test(test_capability_data),
        cmocka_unit_test(test_numbered_data),
        cmocka_unit_test(test_list_namespace_status_quota),
        cmocka_unit_test(test_quoted_escapes),
        cmocka_unit_test(test_fetch_section_atom),
        cmocka_unit_test(test_literal_in_list),
        cmocka_unit_test(test_literal_bytes_kept),
        cmocka_unit_test(test_literal_split_across_calls),
        cmocka_unit_test(test_literal_too_big),
        cmocka_unit_test(test_literal_at_cap_fits),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_value_count_cap),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_crlf_and_lf),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_several_responses),
        cmocka_unit_test(test_value_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
