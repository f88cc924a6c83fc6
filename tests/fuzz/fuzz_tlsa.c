/* Fuzz target: ms_tlsa_parse over a DNS message (any bytes), its status words, then every
 * record it returns matched against a small chain and printed as hex, checking the
 * contract's invariants. */
#include "fuzz_check.h"
#include "probe/error.h"
#include "probe/tlsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ms_tlsa_answer a;
    int rc = ms_tlsa_parse(data, size, &a);
    FUZZ_CHECK(rc == 0 || rc == MS_EPROTO);
    if (rc < 0)
        return 0;
    FUZZ_CHECK(a.count <= MS_MAX_TLSA);
    char status[16], message[128];
    ms_tlsa_status(&a, status, sizeof status, message, sizeof message);
    FUZZ_CHECK(strlen(status) > 0 && strlen(status) < sizeof status);
    FUZZ_CHECK((a.rcode == 0 || a.rcode == 3) == (message[0] == '\0'));
    static const unsigned char der[] = "certificate", spki[] = "key";
    const struct ms_tlsa_cert chain[1] = {
        {.der = der, .der_len = 11, .spki = spki, .spki_len = 3, .leaf = true}};
    for (size_t i = 0; i < a.count; i++) {
        FUZZ_CHECK(a.records[i].len <= MS_TLSA_MAX_DATA);
        (void)ms_tlsa_match(&a.records[i], chain, 1);
        char hex[40];
        ms_tlsa_hex(&a.records[i], hex, sizeof hex);
        FUZZ_CHECK(strlen(hex) < sizeof hex);
    }
    return 0;
}
