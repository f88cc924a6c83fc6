/* Unit tests of capability extraction (probe/caps.c), driven through the real parsers. */
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

static void imap(const char *s, struct ms_imap_response *r)
{
    size_t used;
    assert_int_equal(ms_imap_parse(s, strlen(s), r, &used), 1);
    assert_int_equal(used, strlen(s));
}

static void pop3(const char *s, struct ms_pop3_response *r)
{
    size_t used;
    assert_int_equal(ms_pop3_parse(s, strlen(s), true, r, &used), 1);
    assert_int_equal(used, strlen(s));
}

/* Capabilities an IMAP response yields; returns ms_caps_from_imap's result. */
static int imap_caps(const char *s, struct ms_strlist *list)
{
    struct ms_imap_response r;
    imap(s, &r);
    int rc = ms_caps_from_imap(&r, list);
    ms_imap_response_free(&r);
    return rc;
}

static void assert_printable(const struct ms_strlist *list)
{
    for (size_t i = 0; i < list->count; i++) {
        size_t n = strlen(list->items[i]);
        assert_true(n > 0 && n <= MS_MAX_CAPABILITY_LEN);
        for (size_t j = 0; j < n; j++) {
            unsigned char c = (unsigned char)list->items[i][j];
            assert_true(c >= 0x20 && c <= 0x7e);
        }
    }
}

static void test_imap_greeting_code(void **state)
{
    (void)state;
    struct ms_strlist list = {0};
    assert_int_equal(imap_caps("* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN "
                               "LOGINDISABLED] Dovecot ready.\r\n",
                               &list),
                     1);
    assert_int_equal(list.count, 5);
    assert_string_equal(list.items[0], "IMAP4rev1");
    assert_string_equal(list.items[3], "AUTH=PLAIN");
    assert_true(ms_strlist_has(&list, "logindisabled"));
    assert_false(list.truncated);
    ms_strlist_free(&list);

    assert_int_equal(imap_caps("* PREAUTH [CAPABILITY IMAP4rev1 IDLE] hi\r\n", &list), 1);
    assert_int_equal(list.count, 2);
    ms_strlist_free(&list);

    /* Lower-case code name, as some servers send it. */
    assert_int_equal(imap_caps("* OK [capability imap4rev1] hi\r\n", &list), 1);
    assert_string_equal(list.items[0], "imap4rev1");
    ms_strlist_free(&list);
}

static void test_imap_capability_data(void **state)
{
    (void)state;
    struct ms_strlist list = {0};
    assert_int_equal(imap_caps("* CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE IDLE SORT "
                               "SORT=DISPLAY SPECIAL-USE QUOTA NAMESPACE AUTH=PLAIN "
                               "AUTH=XOAUTH2\r\n",
                               &list),
                     1);
    assert_int_equal(list.count, 12);
    assert_string_equal(list.items[11], "AUTH=XOAUTH2");
    assert_string_equal(ms_strlist_find_prefix(&list, "auth="), "AUTH=PLAIN");
    ms_strlist_free(&list);

    /* An empty list still is a capability response. */
    assert_int_equal(imap_caps("* CAPABILITY\r\n", &list), 1);
    assert_int_equal(list.count, 0);
    ms_strlist_free(&list);

    /* Appends to what the list holds (the caller decides when to start afresh). */
    assert_int_equal(imap_caps("* CAPABILITY A\r\n", &list), 1);
    assert_int_equal(imap_caps("* CAPABILITY B\r\n", &list), 1);
    assert_int_equal(list.count, 2);
    ms_strlist_free(&list);
}

static void test_imap_tagged_ok(void **state)
{
    (void)state;
    struct ms_strlist list = {0};
    assert_int_equal(
        imap_caps("A1 OK [CAPABILITY IMAP4rev1 IDLE LOGINDISABLED] Logged in\r\n", &list), 1);
    assert_int_equal(list.count, 3);
    ms_strlist_free(&list);
}

static void test_imap_no_caps(void **state)
{
    (void)state;
    struct ms_strlist list = {0};
    static const char *const none[] = {
        "A1 NO [CAPABILITY IMAP4rev1] nope\r\n",
        "A1 BAD [CAPABILITY IMAP4rev1] nope\r\n",
        "* BYE [CAPABILITY IMAP4rev1] bye\r\n",
        "* NO [CAPABILITY IMAP4rev1] no\r\n",
        "* OK [ALERT] hello\r\n",
        "* OK hello\r\n",
        "* 3 EXISTS\r\n",
        "* 3 CAPABILITY IMAP4rev1\r\n",
        "* LIST () \"/\" INBOX\r\n",
        "+ CAPABILITY\r\n",
        "A1 OK CAPABILITY completed\r\n",
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        int rc = imap_caps(none[i], &list);
        if (rc != 0)
            fail_msg("\"%s\": %d", none[i], rc);
        assert_int_equal(list.count, 0);
    }
    assert_false(list.truncated);
    assert_int_equal(ms_caps_from_imap(NULL, &list), 0);
    ms_strlist_free(&list);
}

static void test_imap_only_atoms(void **state)
{
    (void)state;
    struct ms_strlist list = {0};
    assert_int_equal(imap_caps("* CAPABILITY IMAP4rev1 \"QUOTED\" NIL (LIST) {3}\r\nLIT "
                               "IDLE\r\n",
                               &list),
                     1);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0], "IMAP4rev1");
    assert_string_equal(list.items[1], "IDLE");
    ms_strlist_free(&list);
}

static void test_imap_long_and_many(void **state)
{
    (void)state;
    struct ms_strlist list = {0};
    char *s = malloc(64 + 2 * MS_MAX_CAPABILITY_LEN + 8);
    assert_non_null(s);
    /* One at the length cap is kept, one past it dropped. */
    strcpy(s, "* CAPABILITY A ");
    size_t o = strlen(s);
    memset(s + o, 'k', MS_MAX_CAPABILITY_LEN);
    o += MS_MAX_CAPABILITY_LEN;
    s[o++] = ' ';
    memset(s + o, 'd', MS_MAX_CAPABILITY_LEN + 1);
    o += MS_MAX_CAPABILITY_LEN + 1;
    strcpy(s + o, " Z\r\n");
    assert_int_equal(imap_caps(s, &list), 1);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.items[0], "A");
    assert_int_equal(strlen(list.items[1]), MS_MAX_CAPABILITY_LEN);
    assert_string_equal(list.items[2], "Z");
    assert_true(list.truncated);
    ms_strlist_free(&list);
    free(s);

    /* More than MS_MAX_CAPABILITIES: the first ones are kept. */
    size_t n = MS_MAX_CAPABILITIES + 10;
    s = malloc(32 + n * 8);
    assert_non_null(s);
    strcpy(s, "* CAPABILITY");
    o = strlen(s);
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(s + o, " C%zu", i);
    strcpy(s + o, "\r\n");
    assert_int_equal(imap_caps(s, &list), 1);
    assert_int_equal(list.count, MS_MAX_CAPABILITIES);
    assert_string_equal(list.items[0], "C0");
    assert_string_equal(list.items[MS_MAX_CAPABILITIES - 1], "C511");
    assert_true(list.truncated);
    ms_strlist_free(&list);

    /* Exactly MS_MAX_CAPABILITIES: not truncated. */
    strcpy(s, "* CAPABILITY");
    o = strlen(s);
    for (size_t i = 0; i < MS_MAX_CAPABILITIES; i++)
        o += (size_t)sprintf(s + o, " C%zu", i);
    strcpy(s + o, "\r\n");
    assert_int_equal(imap_caps(s, &list), 1);
    assert_int_equal(list.count, MS_MAX_CAPABILITIES);
    assert_false(list.truncated);
    ms_strlist_free(&list);
    free(s);
}

static void test_imap_unprintable_atoms(void **state)
{
    (void)state;
    struct ms_strlist list = {0};
    assert_int_equal(imap_caps("* CAPABILITY X\xffY \x01Z OK\r\n", &list), 1);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.items[0], "X\\xffY");
    assert_string_equal(list.items[1], "\\x01Z");
    assert_string_equal(list.items[2], "OK");
    assert_printable(&list);
    ms_strlist_free(&list);

    /* Short as sent, but too long once escaped: dropped. */
    char s[32 + MS_MAX_CAPABILITY_LEN];
    strcpy(s, "* CAPABILITY ");
    size_t o = strlen(s);
    memset(s + o, '\x80', MS_MAX_CAPABILITY_LEN / 4 + 1);
    o += MS_MAX_CAPABILITY_LEN / 4 + 1;
    strcpy(s + o, " B\r\n");
    assert_int_equal(imap_caps(s, &list), 1);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0], "B");
    assert_true(list.truncated);
    ms_strlist_free(&list);
}

static void test_pop3_capa(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    struct ms_strlist list = {0};
    pop3("+OK Capability list follows\r\n"
         "TOP\r\n"
         "UIDL\r\n"
         "SASL PLAIN LOGIN XOAUTH2\r\n"
         "\r\n"
         "EXPIRE 0\r\n"
         "LOGIN-DELAY 900\r\n"
         "..dotted\r\n"
         "STLS\r\n"
         ".\r\n",
         &r);
    assert_int_equal(ms_caps_from_pop3(&r, &list), 0);
    ms_pop3_response_free(&r);
    assert_int_equal(list.count, 7); /* the empty line is skipped */
    assert_string_equal(list.items[0], "TOP");
    assert_string_equal(list.items[2], "SASL PLAIN LOGIN XOAUTH2");
    assert_string_equal(list.items[5], ".dotted");
    assert_false(list.truncated);

    assert_string_equal(ms_caps_pop3_find(&list, "sasl"), "SASL PLAIN LOGIN XOAUTH2");
    assert_string_equal(ms_caps_pop3_find(&list, "EXPIRE"), "EXPIRE 0");
    assert_string_equal(ms_caps_pop3_find(&list, "Login-Delay"), "LOGIN-DELAY 900");
    assert_string_equal(ms_caps_pop3_find(&list, "TOP"), "TOP");
    assert_string_equal(ms_caps_pop3_find(&list, "stls"), "STLS");
    assert_null(ms_caps_pop3_find(&list, "TO"));
    assert_null(ms_caps_pop3_find(&list, "TOPX"));
    assert_null(ms_caps_pop3_find(&list, "PLAIN"));
    assert_null(ms_caps_pop3_find(&list, "SASL PLAIN"));
    assert_null(ms_caps_pop3_find(&list, "USER"));
    assert_null(ms_caps_pop3_find(&list, ""));
    assert_null(ms_caps_pop3_find(&list, NULL));
    assert_null(ms_caps_pop3_find(NULL, "TOP"));
    ms_strlist_free(&list);
}

static void test_pop3_not_ok(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    struct ms_strlist list = {0};
    pop3("-ERR [SYS/PERM] no CAPA here\r\n", &r);
    assert_int_equal(ms_caps_from_pop3(&r, &list), 0);
    assert_int_equal(list.count, 0);
    ms_pop3_response_free(&r);
    assert_int_equal(ms_caps_from_pop3(NULL, &list), 0);
    assert_int_equal(list.count, 0);
}

static void test_pop3_long_many_unprintable(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    struct ms_strlist list = {0};
    size_t n = MS_MAX_CAPABILITIES + 5;
    char *s = malloc(64 + n * 12 + 2 * MS_MAX_CAPABILITY_LEN + 64);
    assert_non_null(s);
    size_t o = (size_t)sprintf(s, "+OK\r\nX-\x7f\xc3\xa9 a\r\n");
    memset(s + o, 'L', MS_MAX_CAPABILITY_LEN + 1);
    o += MS_MAX_CAPABILITY_LEN + 1;
    memcpy(s + o, "\r\n", 2);
    o += 2;
    for (size_t i = 0; i < n; i++)
        o += (size_t)sprintf(s + o, "CAP%zu\r\n", i);
    strcpy(s + o, ".\r\n");
    pop3(s, &r);
    free(s);
    assert_int_equal(ms_caps_from_pop3(&r, &list), 0);
    ms_pop3_response_free(&r);
    assert_int_equal(list.count, MS_MAX_CAPABILITIES);
    assert_true(list.truncated);
    assert_string_equal(list.items[0], "X-\\x7f\\xc3\\xa9 a");
    assert_string_equal(list.items[1], "CAP0");
    assert_printable(&list);
    assert_string_equal(ms_caps_pop3_find(&list, "x-\\x7f\\xc3\\xa9"), "X-\\x7f\\xc3\\xa9 a");
    ms_strlist_free(&list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imap_greeting_code),
        cmocka_unit_test(test_imap_capability_data),
        cmocka_unit_test(test_imap_tagged_ok),
        cmocka_unit_test(test_imap_no_caps),
        cmocka_unit_test(test_imap_only_atoms),
        cmocka_unit_test(test_imap_long_and_many),
        cmocka_unit_test(test_imap_unprintable_atoms),
        cmocka_unit_test(test_pop3_capa),
        cmocka_unit_test(test_pop3_not_ok),
        cmocka_unit_test(test_pop3_long_many_unprintable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
