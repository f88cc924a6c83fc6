/* DANE: TLSA records out of raw DNS answers (header flags, the AD bit, compression, hostile
 * lengths) and matching them against a chain (usages, selectors, matching types). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>
#include <openssl/evp.h>

#include "probe/error.h"
#include "probe/tlsa.h"

/* A response for _993._tcp.mail.example.com TLSA with the given flags and one TLSA record
 * (usage, selector, type, data), its owner a compression pointer to the question. */
static size_t build(unsigned char *m, unsigned char flags2, int usage, int sel, int type,
                    const unsigned char *data, size_t dlen)
{
    static const unsigned char q[] = "\x04_993\x04_tcp\x04mail\x07"
                                     "example\x03"
                                     "com";
    size_t n = 0;
    const unsigned char hdr[12] = {0x12, 0x34, 0x81, flags2, 0, 1, 0, 1, 0, 0, 0, 0};
    memcpy(m, hdr, 12);
    n = 12;
    memcpy(m + n, q, sizeof q); /* with its final zero */
    n += sizeof q;
    const unsigned char qt[4] = {0, 52, 0, 1};
    memcpy(m + n, qt, 4);
    n += 4;
    const unsigned char rr[10] = {0, 52, 0, 1, 0, 0, 0x0e, 0x10, 0, (unsigned char)(dlen + 3)};
    m[n++] = 0xC0;
    m[n++] = 12; /* pointer to the question's name */
    memcpy(m + n, rr, 10);
    n += 10;
    m[n++] = (unsigned char)usage;
    m[n++] = (unsigned char)sel;
    m[n++] = (unsigned char)type;
    memcpy(m + n, data, dlen);
    return n + dlen;
}

static void test_parse_ad_bit(void **state)
{
    (void)state;
    unsigned char m[512], d[32] = {1, 2, 3};
    struct ms_tlsa_answer a;
    size_t n = build(m, 0xA0 /* RA + AD */, 3, 1, 1, d, sizeof d);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    assert_true(a.authenticated);
    assert_int_equal(a.rcode, 0);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.records[0].usage, 3);
    assert_int_equal(a.records[0].selector, 1);
    assert_int_equal(a.records[0].matching_type, 1);
    assert_int_equal(a.records[0].len, 32);
    assert_memory_equal(a.records[0].data, d, 32);
    n = build(m, 0x80, 3, 1, 1, d, sizeof d);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    assert_false(a.authenticated);
    char hex[16];
    ms_tlsa_hex(&a.records[0], hex, sizeof hex);
    assert_string_equal(hex, "0102030000...");
}

static void test_parse_hostile(void **state)
{
    (void)state;
    unsigned char m[512], d[32] = {0};
    struct ms_tlsa_answer a;
    size_t n = build(m, 0x80, 3, 1, 1, d, sizeof d);
    for (size_t cut = 0; cut < n; cut++) /* every truncation is refused, never read past */
        assert_int_equal(ms_tlsa_parse(m, cut, &a), MS_EPROTO);
    m[2] = 0x01; /* a query, not a response */
    assert_int_equal(ms_tlsa_parse(m, n, &a), MS_EPROTO);
    m[2] = 0x81;
    m[3] = 0x83; /* NXDOMAIN */
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    assert_int_equal(a.rcode, 3);
    /* a label loop of pointers is cut off */
    unsigned char loop[14] = {0, 0, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12};
    assert_int_equal(ms_tlsa_parse(loop, sizeof loop, &a), MS_EPROTO);
}

/* A header-only response (the question, no records) with response code rcode. */
static size_t build_rcode(unsigned char *m, int rcode)
{
    unsigned char d[32] = {0};
    size_t n = build(m, 0x80, 3, 1, 1, d, sizeof d);
    m[3] = (unsigned char)(0x80 | rcode); /* RA + the code */
    m[7] = 0;                             /* ANCOUNT 0: the record is left unread */
    return n;
}

static void test_status(void **state)
{
    (void)state;
    unsigned char m[512], d[32] = {0};
    struct ms_tlsa_answer a;
    char status[16], message[128];
    /* a validating resolver's answer to a bogus RRset: SERVFAIL, read and named */
    size_t n = build_rcode(m, 2);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    assert_int_equal(a.rcode, 2);
    assert_int_equal(a.count, 0);
    assert_false(a.authenticated);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(status, "servfail");
    assert_string_equal(message,
                        "TLSA lookup failed (SERVFAIL: DNSSEC validation may have failed)");
    /* SERVFAIL stays a failure even with records beside it */
    n = build(m, 0x82, 3, 1, 1, d, sizeof d);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    assert_int_equal(a.count, 1);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(status, "servfail");
    /* other failures: "error" with the code's name (or number) */
    n = build_rcode(m, 5);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(status, "error");
    assert_string_equal(message, "TLSA lookup failed (REFUSED)");
    n = build_rcode(m, 4);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(message, "TLSA lookup failed (NOTIMP)");
    n = build_rcode(m, 14);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(status, "error");
    assert_string_equal(message, "TLSA lookup failed (response code 14)");
    /* answers: records, none, no such name; no message */
    n = build(m, 0xA0, 3, 1, 1, d, sizeof d);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(status, "ok");
    assert_string_equal(message, "");
    n = build_rcode(m, 0);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(status, "nodata");
    assert_string_equal(message, "");
    n = build_rcode(m, 3);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    assert_string_equal(status, "nxdomain");
    assert_string_equal(message, "");
    /* small buffers are cut, never overrun */
    char tiny_status[4], tiny_message[8];
    n = build_rcode(m, 2);
    assert_int_equal(ms_tlsa_parse(m, n, &a), 0);
    ms_tlsa_status(&a, tiny_status, sizeof tiny_status, tiny_message, sizeof tiny_message);
    assert_string_equal(tiny_status, "ser");
    assert_string_equal(tiny_message, "TLSA lo");
}

static void digest(const EVP_MD *md, const unsigned char *in, size_t len, unsigned char *out,
                   unsigned *olen)
{
    assert_int_equal(EVP_Digest(in, len, out, olen, md, NULL), 1);
}

static void test_match(void **state)
{
    (void)state;
    static const unsigned char leaf[] = "leaf-der", leaf_spki[] = "leaf-spki", ca[] = "ca-der",
                               ca_spki[] = "ca-spki";
    struct ms_tlsa_cert chain[2] = {
        {.der = leaf, .der_len = 8, .spki = leaf_spki, .spki_len = 9, .leaf = true},
        {.der = ca, .der_len = 6, .spki = ca_spki, .spki_len = 7, .anchor = true},
    };
    struct ms_tlsa_raw r = {.usage = 3, .selector = 1, .matching_type = 1};
    unsigned len = 0;
    digest(EVP_sha256(), leaf_spki, 9, r.data, &len);
    r.len = len;
    assert_true(ms_tlsa_match(&r, chain, 2)); /* 3 1 1: DANE-EE, SPKI, SHA-256 */
    r.usage = 2;
    assert_false(ms_tlsa_match(&r, chain, 2)); /* DANE-TA never matches the leaf */
    digest(EVP_sha512(), ca, 6, r.data, &len);
    r.len = len;
    r.selector = 0;
    r.matching_type = 2;
    assert_true(ms_tlsa_match(&r, chain, 2)); /* 2 0 2: the CA, whole certificate, SHA-512 */
    r.usage = 0;
    chain[1].anchor = false;
    assert_false(ms_tlsa_match(&r, chain, 2)); /* PKIX-TA: only on the verified path */
    r = (struct ms_tlsa_raw){.usage = 1, .selector = 0, .matching_type = 0, .len = 8};
    memcpy(r.data, leaf, 8);
    assert_true(ms_tlsa_match(&r, chain, 2)); /* 1 0 0: exact */
    r.data[0] ^= 1;
    assert_false(ms_tlsa_match(&r, chain, 2));
    r.matching_type = 7; /* unknown: unusable, never a match */
    assert_false(ms_tlsa_match(&r, chain, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ad_bit),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
