/* Account facts from real-world IMAP responses (Dovecot, Exchange, Gmail quirks). */
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
#include "probe/imap_account.h"

static void feed(struct ms_account_facts *a, const char *wire)
{
    struct ms_imap_response r;
    size_t used = 0;
    size_t len = strlen(wire);
    size_t off = 0;
    while (off < len) {
        assert_int_equal(ms_imap_parse(wire + off, len - off, &r, &used), 1);
        assert_int_equal(ms_imap_account_take(&r, a), 0);
        ms_imap_response_free(&r);
        off += used;
    }
}

static struct ms_account_facts fresh(void)
{
    struct ms_account_facts a = {0};
    a.inbox_messages = a.inbox_unseen = -1;
    a.quota_storage_used_kb = a.quota_storage_limit_kb = -1;
    return a;
}

static void done(struct ms_account_facts *a)
{
    free(a->folders);
    ms_strlist_free(&a->ns_personal);
    ms_strlist_free(&a->ns_other_users);
    ms_strlist_free(&a->ns_shared);
}

static void test_list_special_use(void **state)
{
    (void)state;
    struct ms_account_facts a = fresh();
    feed(&a, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
             "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n"
             "* LIST (\\HasNoChildren \\trash) \"/\" \"Deleted Items\"\r\n"
             "* LIST (\\Noselect \\HasChildren) \"/\" Projects\r\n"
             "* LIST () \"/\" {12}\r\nProjects/\"x\"\r\n"
             "* LIST (\\All \\Archive) NIL Archive\r\n");
    assert_int_equal(a.folder_count, 6);
    assert_string_equal(a.folders[0].name, "INBOX");
    assert_string_equal(a.folders[0].special_use, "");
    assert_string_equal(a.folders[1].special_use, "\\Sent");
    assert_string_equal(a.folders[2].name, "Deleted Items");
    assert_string_equal(a.folders[2].special_use, "\\Trash"); /* lower case from the server */
    assert_true(a.folders[3].noselect);
    assert_string_equal(a.folders[4].name, "Projects/\"x\"");
    assert_string_equal(a.folders[5].special_use, "\\All \\Archive");
    done(&a);
}

static void test_list_cap(void **state)
{
    (void)state;
    struct ms_account_facts a = fresh();
    char line[64];
    for (int i = 0; i < MS_MAX_FOLDERS + 5; i++) {
        snprintf(line, sizeof line, "* LIST () \"/\" f%d\r\n", i);
        feed(&a, line);
    }
    assert_int_equal(a.folder_count, MS_MAX_FOLDERS);
    assert_true(a.folders_truncated);
    done(&a);
}

static void test_namespace(void **state)
{
    (void)state;
    struct ms_account_facts a = fresh();
    feed(&a, "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Public/\" "
             "\"/\")(\"#shared/\" \"/\" \"X-PARAM\" (\"a\")))\r\n");
    assert_true(a.namespace_read);
    assert_int_equal(a.ns_personal.count, 1);
    assert_string_equal(a.ns_personal.items[0], "");
    assert_int_equal(a.ns_other_users.count, 1);
    assert_int_equal(a.ns_shared.count, 2);
    assert_string_equal(a.ns_shared.items[1], "#shared/");
    done(&a);
    a = fresh();
    feed(&a, "* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n");
    assert_int_equal(a.ns_personal.count, 1);
    assert_int_equal(a.ns_other_users.count, 0);
    assert_int_equal(a.ns_shared.count, 0);
    done(&a);
}

static void test_status_and_quota(void **state)
{
    (void)state;
    struct ms_account_facts a = fresh();
    feed(&a, "* STATUS INBOX (MESSAGES 17 UNSEEN 3)\r\n"
             "* STATUS Sent (MESSAGES 99 UNSEEN 0)\r\n"
             "* QUOTAROOT INBOX \"User quota\"\r\n"
             "* QUOTA \"User quota\" (STORAGE 2048 10240 MESSAGE 17 1000)\r\n");
    assert_int_equal(a.inbox_messages, 17);
    assert_int_equal(a.inbox_unseen, 3);
    assert_string_equal(a.quota_root, "User quota");
    assert_true(a.quota_read);
    assert_int_equal(a.quota_storage_used_kb, 2048);
    assert_int_equal(a.quota_storage_limit_kb, 10240);
    done(&a);
}

static void test_garbage_is_ignored(void **state)
{
    (void)state;
    struct ms_account_facts a = fresh();
    feed(&a, "* LIST \"not a list\" \"/\" x\r\n"
             "* STATUS INBOX (MESSAGES abc UNSEEN)\r\n"
             "* QUOTA root (STORAGE 99999999999999999999 1)\r\n"
             "* NAMESPACE 1 2 3\r\n"
             "* 4 EXISTS\r\n");
    assert_int_equal(a.folder_count, 0);
    assert_int_equal(a.inbox_messages, -1);
    assert_int_equal(a.quota_storage_used_kb, -1);
    assert_int_equal(a.ns_personal.count, 0);
    done(&a);
}

static void test_quote(void **state)
{
    (void)state;
    char out[32];
    assert_int_equal(ms_imap_quote("alice", out, sizeof out), 0);
    assert_string_equal(out, "\"alice\"");
    assert_int_equal(ms_imap_quote("a\"b\\c", out, sizeof out), 0);
    assert_string_equal(out, "\"a\\\"b\\\\c\"");
    assert_int_equal(ms_imap_quote("line\r\nbreak", out, sizeof out), MS_EINVAL);
    assert_int_equal(ms_imap_quote("caf\xc3\xa9", out, sizeof out), MS_EINVAL);
    assert_int_equal(ms_imap_quote("0123456789012345678901234567890123456789", out, sizeof out),
                     MS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_special_use),   cmocka_unit_test(test_list_cap),
        cmocka_unit_test(test_namespace),          cmocka_unit_test(test_status_and_quota),
        cmocka_unit_test(test_garbage_is_ignored), cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
