/* SASL messages against the RFC examples, base64 both ways, challenge decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "probe/error.h"
#include "probe/sasl.h"

static void test_plain_rfc4616(void **state)
{
    (void)state;
    char *b64 = NULL;
    assert_int_equal(
        ms_sasl_initial_response(MS_SASL_PLAIN, "tim", "tanstaaftanstaaf", NULL, 0, &b64), 0);
    assert_string_equal(b64, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    ms_sasl_free_secret(b64);
}

static void test_xoauth2(void **state)
{
    (void)state;
    char *b64 = NULL;
    assert_int_equal(ms_sasl_initial_response(MS_SASL_XOAUTH2, "someuser@example.com",
                                              "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
                                              "imap.example.com", 993, &b64),
                     0);
    assert_string_equal(b64,
                        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRj"
                        "Mk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
    ms_sasl_free_secret(b64);
}

static void test_oauthbearer_rfc7628(void **state)
{
    (void)state;
    char *b64 = NULL;
    assert_int_equal(ms_sasl_initial_response(MS_SASL_OAUTHBEARER, "user@example.com",
                                              "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
                                              "server.example.com", 143, &b64),
                     0);
    assert_string_equal(
        b64, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAW"
             "F1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
    ms_sasl_free_secret(b64);
    /* A ',' in the authzid would need GS2 escaping: refused rather than sent wrong. */
    assert_int_equal(ms_sasl_initial_response(MS_SASL_OAUTHBEARER, "a,b", "t", "h", 1, &b64),
                     MS_EINVAL);
    assert_null(b64);
}

static void test_refuses_control_bytes(void **state)
{
    (void)state;
    char *b64 = NULL;
    assert_int_equal(ms_sasl_initial_response(MS_SASL_PLAIN, "al\rice", "pw", NULL, 0, &b64),
                     MS_EINVAL);
    assert_int_equal(ms_sasl_initial_response(MS_SASL_XOAUTH2, "alice",
                                              "tok\x01"
                                              "en",
                                              NULL, 0, &b64),
                     MS_EINVAL);
    assert_int_equal(ms_sasl_initial_response(MS_SASL_LOGIN, "alice", "pw", NULL, 0, &b64),
                     MS_EINVAL);
    assert_null(b64);
}

static void test_login_steps(void **state)
{
    (void)state;
    char *b64 = NULL;
    assert_int_equal(ms_sasl_login_reply(0, "alice", "secret", &b64), 0);
    assert_string_equal(b64, "YWxpY2U=");
    ms_sasl_free_secret(b64);
    assert_int_equal(ms_sasl_login_reply(1, "alice", "secret", &b64), 0);
    assert_string_equal(b64, "c2VjcmV0");
    ms_sasl_free_secret(b64);
    assert_int_equal(ms_sasl_login_reply(2, "alice", "secret", &b64), MS_EPROTO);
}

static void test_base64_roundtrip(void **state)
{
    (void)state;
    unsigned char data[256], back[256];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len < 20; len++) {
        char *b64 = NULL;
        size_t n = 0;
        assert_int_equal(ms_base64_encode(data, len, &b64), 0);
        assert_int_equal(strlen(b64), 4 * ((len + 2) / 3));
        assert_int_equal(ms_base64_decode(b64, strlen(b64), back, sizeof back, &n), 0);
        assert_int_equal(n, len);
        assert_memory_equal(back, data, len);
        ms_sasl_free_secret(b64);
    }
}

static void test_base64_invalid(void **state)
{
    (void)state;
    unsigned char out[8];
    size_t n;
    assert_int_equal(ms_base64_decode("ab$d", 4, out, sizeof out, &n), MS_EPROTO);
    assert_int_equal(ms_base64_decode("a", 1, out, sizeof out, &n), MS_EPROTO);
    assert_int_equal(ms_base64_decode("YQ===", 5, out, sizeof out, &n), MS_EPROTO);
    assert_int_equal(ms_base64_decode("YQ=a", 4, out, sizeof out, &n), MS_EPROTO);
    assert_int_equal(ms_base64_decode("YWJjZGVmZ2hpams=", 16, out, sizeof out, &n), MS_ETOOBIG);
    assert_int_equal(ms_base64_decode("YQ", 2, out, sizeof out, &n), 0); /* padding optional */
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 'a');
}

/* A challenge that may receive the credentials must be base64 (signin.c checks it). */
static void test_base64_valid(void **state)
{
    (void)state;
    assert_true(ms_base64_valid("", 0)); /* the empty challenge PLAIN and LOGIN may get */
    assert_true(ms_base64_valid("VXNlcm5hbWU6", 12));
    assert_true(ms_base64_valid("UGFzc3dvcmQ6", 12));
    assert_true(ms_base64_valid("YQ==", 4));
    assert_true(ms_base64_valid("YQ", 2)); /* padding optional */
    assert_false(ms_base64_valid("Enter your username please", 26));
    assert_false(ms_base64_valid("Username:", 9));
    assert_false(ms_base64_valid("a", 1));
    assert_false(ms_base64_valid("YQ===", 5));
    assert_false(ms_base64_valid("YQ==YQ", 6));
    assert_false(ms_base64_valid(NULL, 0));
}

static void test_describe_challenge(void **state)
{
    (void)state;
    char text[128];
    /* {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"} */
    const char *json = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWw"
                       "uZ29vZ2xlLmNvbS8ifQ==";
    ms_sasl_describe_challenge(json, strlen(json), text, sizeof text);
    assert_string_equal(
        text, "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}");
    ms_sasl_describe_challenge("not base64!\x01", 12, text, sizeof text);
    assert_string_equal(text, "not base64!\\x01");
    ms_sasl_describe_challenge("VXNlcm5hbWU6", 12, text, 5); /* cut, still terminated */
    assert_int_equal(strlen(text), 4);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(ms_sasl_from_name("xoauth2"), MS_SASL_XOAUTH2);
    assert_int_equal(ms_sasl_from_name("Plain"), MS_SASL_PLAIN);
    assert_int_equal(ms_sasl_from_name("CRAM-MD5"), MS_SASL_NONE);
    assert_string_equal(ms_sasl_name(MS_SASL_OAUTHBEARER), "OAUTHBEARER");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rfc4616),       cmocka_unit_test(test_xoauth2),
        cmocka_unit_test(test_oauthbearer_rfc7628), cmocka_unit_test(test_refuses_control_bytes),
        cmocka_unit_test(test_login_steps),         cmocka_unit_test(test_base64_roundtrip),
        cmocka_unit_test(test_base64_invalid),      cmocka_unit_test(test_base64_valid),
        cmocka_unit_test(test_describe_challenge),  cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
