/* Unit tests of the pure POP3 response parser (probe/pop3_parse.c). */
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

#include "probe/error.h"
#include "probe/pop3_parse.h"

/* Parse n bytes from an exact-size heap copy so ASan sees any read past the end. */
static int parse_n(const char *s, size_t n, bool multi, struct ms_pop3_response *r, size_t *used)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    int rc = ms_pop3_parse(copy, n, multi, r, used);
    free(copy);
    return rc;
}

static void check_prefixes(const char *s, size_t n, bool multi)
{
    for (size_t i = 0; i < n; i++) {
        struct ms_pop3_response r;
        size_t used = 99;
        int rc = parse_n(s, i, multi, &r, &used);
        if (rc != MS_EAGAIN)
            fail_msg("prefix %zu/%zu of \"%.*s\": got %d", i, n, (int)n, s, rc);
        assert_int_equal(used, 0);
        assert_null(r.text);
        assert_null(r.lines);
    }
}

/* A complete response: prefixes ask for more, trailing bytes are left alone. */
static void parse_full(const char *s, bool multi, struct ms_pop3_response *r)
{
    size_t n = strlen(s), used = 0;
    check_prefixes(s, n, multi);

    char *more = malloc(n + 10);
    assert_non_null(more);
    memcpy(more, s, n);
    memcpy(more + n, "+OK next\r\n", 10);
    assert_int_equal(parse_n(more, n + 10, multi, r, &used), 1);
    free(more);
    assert_int_equal(used, n);
    ms_pop3_response_free(r);

    assert_int_equal(parse_n(s, n, multi, r, &used), 1);
    assert_int_equal(used, n);
    assert_non_null(r->text);
    assert_true(r->line_count == 0 || r->lines);
}

static void expect_rc_n(const char *s, size_t n, bool multi, int want)
{
    struct ms_pop3_response r;
    size_t used = 42;
    int rc = parse_n(s, n, multi, &r, &used);
    if (rc != want)
        fail_msg("\"%.*s\" (multi %d): want %d, got %d", (int)n, s, multi, want, rc);
    assert_int_equal(used, 0);
    assert_null(r.text);
    assert_null(r.lines);
}

static void expect_rc(const char *s, bool multi, int want)
{
    expect_rc_n(s, strlen(s), multi, want);
}

static void test_ok_and_err(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    parse_full("+OK Dovecot ready.\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_OK);
    assert_null(r.code);
    assert_string_equal(r.text, "Dovecot ready.");
    assert_null(r.lines);
    assert_int_equal(r.line_count, 0);
    ms_pop3_response_free(&r);

    parse_full("+OK\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_OK);
    assert_string_equal(r.text, "");
    ms_pop3_response_free(&r);

    parse_full("-ERR Unknown command.\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_ERR);
    assert_string_equal(r.text, "Unknown command.");
    ms_pop3_response_free(&r);

    parse_full("-ERR\r\n", true, &r);
    assert_int_equal(r.status, MS_POP3_ERR);
    assert_string_equal(r.text, "");
    ms_pop3_response_free(&r);

    /* Status words in lower case are accepted. */
    parse_full("+ok fine\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_OK);
    ms_pop3_response_free(&r);
    parse_full("-err bad\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_ERR);
    ms_pop3_response_free(&r);
}

static void test_extended_codes(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    parse_full("-ERR [SYS/TEMP] Try again later\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_ERR);
    assert_string_equal(r.code, "SYS/TEMP");
    assert_string_equal(r.text, "Try again later");
    ms_pop3_response_free(&r);

    parse_full("-ERR [AUTH] Authentication failed.\r\n", false, &r);
    assert_string_equal(r.code, "AUTH");
    ms_pop3_response_free(&r);

    parse_full("-ERR [IN-USE] Mailbox locked\r\n", false, &r);
    assert_string_equal(r.code, "IN-USE");
    ms_pop3_response_free(&r);

    parse_full("-ERR [LOGIN-DELAY]\r\n", false, &r);
    assert_string_equal(r.code, "LOGIN-DELAY");
    assert_string_equal(r.text, "");
    ms_pop3_response_free(&r);

    parse_full("+OK [XTEST] ok with code\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_OK);
    assert_string_equal(r.code, "XTEST");
    assert_string_equal(r.text, "ok with code");
    ms_pop3_response_free(&r);

    /* Only right after the status word. */
    parse_full("-ERR Try later [SYS/TEMP]\r\n", false, &r);
    assert_null(r.code);
    assert_string_equal(r.text, "Try later [SYS/TEMP]");
    ms_pop3_response_free(&r);

    /* Not codes: empty, with spaces, unterminated. */
    parse_full("-ERR [] x\r\n", false, &r);
    assert_null(r.code);
    assert_string_equal(r.text, "[] x");
    ms_pop3_response_free(&r);
    parse_full("-ERR [not a code] x\r\n", false, &r);
    assert_null(r.code);
    assert_string_equal(r.text, "[not a code] x");
    ms_pop3_response_free(&r);
    parse_full("-ERR [SYS/TEMP\r\n", false, &r);
    assert_null(r.code);
    assert_string_equal(r.text, "[SYS/TEMP");
    ms_pop3_response_free(&r);
}

static void test_continuation(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    parse_full("+ dGVzdA==\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_CONTINUE);
    assert_string_equal(r.text, "dGVzdA==");
    assert_null(r.code);
    ms_pop3_response_free(&r);

    parse_full("+\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_CONTINUE);
    assert_string_equal(r.text, "");
    ms_pop3_response_free(&r);

    parse_full("+ \n", false, &r);
    assert_int_equal(r.status, MS_POP3_CONTINUE);
    assert_string_equal(r.text, "");
    ms_pop3_response_free(&r);

    /* A challenge is never a multi-line block, and keeps its text untouched. */
    parse_full("+  [x]\r\n", true, &r);
    assert_int_equal(r.status, MS_POP3_CONTINUE);
    assert_string_equal(r.text, " [x]");
    assert_null(r.lines);
    ms_pop3_response_free(&r);

    /* "+OK" is not a continuation. */
    parse_full("+OK\r\n", false, &r);
    assert_int_equal(r.status, MS_POP3_OK);
    ms_pop3_response_free(&r);
}

static void test_multiline_capa(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    static const char capa[] = "+OK Capability list follows\r\n"
                               "TOP\r\n"
                               "UIDL\r\n"
                               "RESP-CODES\r\n"
                               "SASL PLAIN LOGIN\r\n"
                               "EXPIRE NEVER\r\n"
                               "IMPLEMENTATION Dovecot\r\n"
                               ".\r\n";
    parse_full(capa, true, &r);
    assert_int_equal(r.status, MS_POP3_OK);
    assert_string_equal(r.text, "Capability list follows");
    assert_int_equal(r.line_count, 6);
    assert_string_equal(r.lines[0], "TOP");
    assert_string_equal(r.lines[3], "SASL PLAIN LOGIN");
    assert_string_equal(r.lines[5], "IMPLEMENTATION Dovecot");
    ms_pop3_response_free(&r);

    /* The same bytes, single-line: only the status line. */
    size_t used;
    assert_int_equal(parse_n(capa, sizeof capa - 1, false, &r, &used), 1);
    assert_int_equal(used, strlen("+OK Capability list follows\r\n"));
    assert_null(r.lines);
    ms_pop3_response_free(&r);

    /* Empty body. */
    parse_full("+OK\r\n.\r\n", true, &r);
    assert_int_equal(r.line_count, 0);
    assert_null(r.lines);
    ms_pop3_response_free(&r);

    /* Bare LF line ends, and empty lines inside the body. */
    parse_full("+OK 2 messages\n1 120\n\n2 200\n.\n", true, &r);
    assert_int_equal(r.line_count, 3);
    assert_string_equal(r.lines[0], "1 120");
    assert_string_equal(r.lines[1], "");
    assert_string_equal(r.lines[2], "2 200");
    ms_pop3_response_free(&r);

    /* -ERR to a multi-line command is one line. */
    size_t n;
    static const char err[] = "-ERR no\r\nTOP\r\n.\r\n";
    assert_int_equal(parse_n(err, sizeof err - 1, true, &r, &n), 1);
    assert_int_equal(n, 9);
    assert_int_equal(r.status, MS_POP3_ERR);
    assert_null(r.lines);
    ms_pop3_response_free(&r);
}

static void test_dot_stuffing(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    parse_full("+OK\r\n..x\r\n..\r\n...\r\n. \r\n.y\r\nplain.\r\n.\r\n", true, &r);
    assert_int_equal(r.line_count, 6);
    assert_string_equal(r.lines[0], ".x");
    assert_string_equal(r.lines[1], ".");
    assert_string_equal(r.lines[2], "..");
    assert_string_equal(r.lines[3], " ");
    assert_string_equal(r.lines[4], "y"); /* unstuffed though the server forgot to stuff */
    assert_string_equal(r.lines[5], "plain.");
    ms_pop3_response_free(&r);

    /* ".." alone is data, not the end. */
    expect_rc("+OK\r\n..\r\n", true, MS_EAGAIN);
    /* "." followed by other bytes is not the end either. */
    expect_rc("+OK\r\n.x\r\n", true, MS_EAGAIN);
}

static void test_missing_final_dot(void **state)
{
    (void)state;
    expect_rc("+OK\r\nTOP\r\nUIDL\r\n", true, MS_EAGAIN);
    expect_rc("+OK\r\nTOP\r\n.", true, MS_EAGAIN);
    expect_rc("+OK\r\nTOP\r\n.\r", true, MS_EAGAIN);
    expect_rc("+OK", true, MS_EAGAIN);
    expect_rc("+OK\r", false, MS_EAGAIN);
    expect_rc("", false, MS_EAGAIN);
    expect_rc("-", false, MS_EAGAIN);
    expect_rc("-ER", false, MS_EAGAIN);
    expect_rc("+", false, MS_EAGAIN);

    struct ms_pop3_response r;
    size_t used = 3;
    assert_int_equal(ms_pop3_parse(NULL, 0, true, &r, &used), MS_EAGAIN);
    assert_int_equal(used, 0);
}

static void test_not_pop3(void **state)
{
    (void)state;
    expect_rc("HTTP/1.1 400 Bad Request\r\n", false, MS_EPROTO);
    expect_rc("220 smtp.example.com ESMTP\r\n", true, MS_EPROTO);
    expect_rc("* OK IMAP4rev1 ready\r\n", false, MS_EPROTO);
    expect_rc("+OKAY\r\n", false, MS_EPROTO);
    expect_rc("+Ok\tx\r\n", false, MS_EPROTO);
    expect_rc("-ERROR x\r\n", false, MS_EPROTO);
    expect_rc("-OK\r\n", false, MS_EPROTO);
    expect_rc("+X\r\n", false, MS_EPROTO);
    expect_rc(" +OK\r\n", false, MS_EPROTO);
    expect_rc("\r\n", false, MS_EPROTO);
    expect_rc("\n", true, MS_EPROTO);
    /* Decided on the first bytes, before a line end arrives. */
    expect_rc("H", false, MS_EPROTO);
    expect_rc("220", false, MS_EPROTO);
    expect_rc("+OKAY", false, MS_EPROTO);
    expect_rc("-ERRx", false, MS_EPROTO);
    expect_rc("+x", false, MS_EPROTO);
}

static void test_nul(void **state)
{
    (void)state;
    static const char first[] = "+OK he\0llo\r\n";
    static const char body[] = "+OK\r\nTO\0P\r\n.\r\n";
    static const char early[] = "+OK \0";
    expect_rc_n(first, sizeof first - 1, false, MS_EPROTO);
    expect_rc_n(body, sizeof body - 1, true, MS_EPROTO);
    expect_rc_n(early, sizeof early - 1, false, MS_EPROTO);
    expect_rc_n("\0", 1, false, MS_EPROTO);
    /* In single-line mode the body bytes are not looked at. */
    struct ms_pop3_response r;
    size_t used;
    assert_int_equal(parse_n(body, sizeof body - 1, false, &r, &used), 1);
    assert_int_equal(used, 5);
    ms_pop3_response_free(&r);
}

static char *repeat(char c, size_t n, const char *prefix, const char *suffix)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(pl + n + sl + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    memset(s + pl, c, n);
    memcpy(s + pl + n, suffix, sl + 1);
    return s;
}

static void test_line_cap(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    size_t used;
    char *s = repeat('a', MS_POP3_MAX_LINE - 4, "+OK ", "\r\n");
    assert_int_equal(parse_n(s, strlen(s), false, &r, &used), 1);
    assert_int_equal(strlen(r.text), MS_POP3_MAX_LINE - 4);
    ms_pop3_response_free(&r);
    free(s);

    s = repeat('a', MS_POP3_MAX_LINE - 3, "+OK ", "\r\n");
    expect_rc(s, false, MS_ETOOBIG);
    free(s);
    s = repeat('a', MS_POP3_MAX_LINE - 3, "+OK ", "\n");
    expect_rc(s, false, MS_ETOOBIG);
    free(s);
    /* Without any line end: decided once the cap is visibly passed. */
    s = repeat('a', MS_POP3_MAX_LINE + 10, "+OK ", "");
    expect_rc(s, false, MS_ETOOBIG);
    expect_rc_n(s, MS_POP3_MAX_LINE + 2, false, MS_ETOOBIG);
    expect_rc_n(s, MS_POP3_MAX_LINE + 1, false, MS_EAGAIN);
    free(s);

    /* Body lines have the same cap. */
    s = repeat('b', MS_POP3_MAX_LINE, "+OK\r\n", "\r\n.\r\n");
    assert_int_equal(parse_n(s, strlen(s), true, &r, &used), 1);
    assert_int_equal(strlen(r.lines[0]), MS_POP3_MAX_LINE);
    ms_pop3_response_free(&r);
    free(s);
    s = repeat('b', MS_POP3_MAX_LINE + 1, "+OK\r\n", "\r\n.\r\n");
    expect_rc(s, true, MS_ETOOBIG);
    free(s);
}

static void test_line_count_cap(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    size_t used;
    size_t n = MS_POP3_MAX_LINES;
    char *s = malloc(8 + (n + 1) * 2 + 4);
    assert_non_null(s);
    size_t o = 0;
    memcpy(s, "+OK\n", 4);
    o = 4;
    for (size_t i = 0; i < n; i++) {
        s[o++] = 'x';
        s[o++] = '\n';
    }
    memcpy(s + o, ".\n", 3);
    assert_int_equal(parse_n(s, o + 2, true, &r, &used), 1);
    assert_int_equal(r.line_count, n);
    ms_pop3_response_free(&r);
    memcpy(s + o, "x\n.\n", 5);
    expect_rc_n(s, o + 4, true, MS_ETOOBIG);
    /* Decided without the final dot. */
    expect_rc_n(s, o + 2, true, MS_ETOOBIG);
    free(s);
}

static void test_response_cap(void **state)
{
    (void)state;
    /* 40 lines of 8000 bytes: under the line caps, over the byte cap. */
    size_t line = 8000, lines = MS_POP3_MAX_RESPONSE / 8000 + 2;
    size_t total = 5 + lines * (line + 2) + 3;
    char *s = malloc(total);
    assert_non_null(s);
    memcpy(s, "+OK\r\n", 5);
    size_t o = 5;
    for (size_t i = 0; i < lines; i++) {
        memset(s + o, 'c', line);
        memcpy(s + o + line, "\r\n", 2);
        o += line + 2;
    }
    memcpy(s + o, ".\r\n", 3);
    expect_rc_n(s, total, true, MS_ETOOBIG);
    /* Decided as soon as the cap is passed, before the end. */
    expect_rc_n(s, MS_POP3_MAX_RESPONSE + 1, true, MS_ETOOBIG);
    expect_rc_n(s, MS_POP3_MAX_RESPONSE - 1, true, MS_EAGAIN);
    /* Single-line mode only reads the first line. */
    struct ms_pop3_response r;
    size_t used;
    assert_int_equal(parse_n(s, total, false, &r, &used), 1);
    assert_int_equal(used, 5);
    ms_pop3_response_free(&r);
    free(s);
}

static void test_several_responses(void **state)
{
    (void)state;
    static const char s[] = "+OK\r\nTOP\r\n.\r\n-ERR [AUTH] no\r\n+ abc\r\n";
    struct ms_pop3_response r;
    size_t used, off = 0, left = sizeof s - 1;
    assert_int_equal(parse_n(s + off, left, true, &r, &used), 1);
    assert_int_equal(r.line_count, 1);
    ms_pop3_response_free(&r);
    off += used;
    left -= used;
    assert_int_equal(parse_n(s + off, left, true, &r, &used), 1);
    assert_string_equal(r.code, "AUTH");
    ms_pop3_response_free(&r);
    off += used;
    left -= used;
    assert_int_equal(parse_n(s + off, left, false, &r, &used), 1);
    assert_int_equal(r.status, MS_POP3_CONTINUE);
    assert_int_equal(used, left);
    ms_pop3_response_free(&r);
    ms_pop3_response_free(&r); /* twice is harmless */
    ms_pop3_response_free(NULL);
}

static void test_crlf_details(void **state)
{
    (void)state;
    struct ms_pop3_response r;
    /* A lone CR is data; CR CR LF keeps one CR. */
    parse_full("+OK a\rb\r\r\n", false, &r);
    assert_string_equal(r.text, "a\rb\r");
    ms_pop3_response_free(&r);
    /* Terminator with a bare LF after CRLF lines. */
    parse_full("+OK\r\nUSER\r\n.\n", true, &r);
    assert_int_equal(r.line_count, 1);
    ms_pop3_response_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_and_err),   cmocka_unit_test(test_extended_codes),
        cmocka_unit_test(test_continuation), cmocka_unit_test(test_multiline_capa),
        cmocka_unit_test(test_dot_stuffing), cmocka_unit_test(test_missing_final_dot),
        cmocka_unit_test(test_not_pop3),     cmocka_unit_test(test_nul),
        cmocka_unit_test(test_line_cap),     cmocka_unit_test(test_line_count_cap),
        cmocka_unit_test(test_response_cap), cmocka_unit_test(test_several_responses),
        cmocka_unit_test(test_crlf_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
