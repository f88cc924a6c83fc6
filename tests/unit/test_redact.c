/* Redacting the secret from what servers send back: raw, and base64 at every alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "probe/redact.h"
#include "probe/sasl.h"

#define SECRET "S3cr3t-canary-9"

/* base64 of the bytes prefix + SECRET + suffix (a SASL message carrying the secret). */
static char *b64_around(const char *prefix, size_t plen, const char *suffix)
{
    char msg[256];
    size_t n = 0;
    memcpy(msg, prefix, plen);
    n += plen;
    memcpy(msg + n, SECRET, strlen(SECRET));
    n += strlen(SECRET);
    memcpy(msg + n, suffix, strlen(suffix));
    n += strlen(suffix);
    char *out = NULL;
    assert_int_equal(ms_base64_encode((const unsigned char *)msg, n, &out), 0);
    return out;
}

static bool leaks(const struct ms_redactor *r, const char *text)
{
    for (size_t i = 0; i < r->count; i++)
        if (strstr(text, r->forms[i]))
            return true;
    return strstr(text, SECRET) != NULL;
}

static void test_forms(void **state)
{
    (void)state;
    struct ms_redactor r;
    assert_int_equal(ms_redactor_init(&r, SECRET), 0);
    assert_int_equal(r.count, 4); /* raw + three alignments */
    ms_redactor_free(&r);
    assert_int_equal(ms_redactor_init(&r, NULL), 0);
    assert_int_equal(r.count, 0);
    assert_int_equal(ms_redactor_init(&r, "abc"), 0); /* too short to look for safely */
    assert_int_equal(r.count, 0);
}

static void test_raw_echo(void **state)
{
    (void)state;
    struct ms_redactor r;
    assert_int_equal(ms_redactor_init(&r, SECRET), 0);
    char text[200] = "NO [AUTHENTICATIONFAILED] LOGIN alice " SECRET " failed; PASS " SECRET;
    assert_int_equal(ms_redact(&r, text, sizeof text), 2);
    assert_string_equal(text, "NO [AUTHENTICATIONFAILED] LOGIN alice <redacted> failed; PASS "
                              "<redacted>");
    ms_redactor_free(&r);
}

static void test_base64_every_alignment(void **state)
{
    (void)state;
    struct ms_redactor r;
    assert_int_equal(ms_redactor_init(&r, SECRET), 0);
    /* PLAIN (\0user\0secret), LOGIN (secret alone), XOAUTH2, OAUTHBEARER, and shifted blobs */
    static const struct {
        const char *prefix;
        size_t plen;
        const char *suffix;
    } msgs[] = {
        {"\0alice\0", 7, ""},
        {"", 0, ""},
        {"user=alice\1auth=Bearer ", 23, "\1\1"},
        {"n,a=alice,\1host=mail.example.com\1port=993\1auth=Bearer ", 54, "\1\1"},
        {"x", 1, "yz"},
        {"xy", 2, "z"},
    };
    for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
        char *b64 = b64_around(msgs[k].prefix, msgs[k].plen, msgs[k].suffix);
        char text[512];
        snprintf(text, sizeof text, "BAD echo of your line: %s", b64);
        assert_true(ms_redact(&r, text, sizeof text) >= 1);
        assert_false(leaks(&r, text));
        assert_non_null(strstr(text, "<redacted>"));
        ms_sasl_free_secret(b64);
    }
    ms_redactor_free(&r);
}

static void test_cut_at_capacity(void **state)
{
    (void)state;
    struct ms_redactor r;
    assert_int_equal(ms_redactor_init(&r, SECRET), 0);
    char text[24] = "x " SECRET " tail";
    ms_redact(&r, text, sizeof text);
    assert_false(leaks(&r, text));
    assert_true(strlen(text) < sizeof text);
    char tiny[8] = "ab";
    ms_redact(&r, tiny, sizeof tiny);
    assert_string_equal(tiny, "ab");
    ms_redactor_free(&r);
}

static void test_endpoint_strings(void **state)
{
    (void)state;
    struct ms_redactor r;
    assert_int_equal(ms_redactor_init(&r, SECRET), 0);
    struct ms_endpoint_result ep;
    memset(&ep, 0, sizeof ep);
    snprintf(ep.auth.server_response, sizeof ep.auth.server_response, "-ERR PASS %s", SECRET);
    snprintf(ep.failure_message, sizeof ep.failure_message, "BYE %s", SECRET);
    snprintf(ep.greeting, sizeof ep.greeting, "* OK %s", SECRET);
    const char *cap = "X-" SECRET;
    assert_int_equal(ms_strlist_append(&ep.caps_after_login, cap, strlen(cap), 10), 0);
    ms_redact_endpoint(&r, &ep);
    assert_false(leaks(&r, ep.auth.server_response));
    assert_false(leaks(&r, ep.failure_message));
    assert_false(leaks(&r, ep.greeting));
    assert_string_equal(ep.caps_after_login.items[0], "X-<redacted>");
    ms_endpoint_result_free(&ep);
    ms_redactor_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_raw_echo),
        cmocka_unit_test(test_base64_every_alignment),
        cmocka_unit_test(test_cut_at_capacity),
        cmocka_unit_test(test_endpoint_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
