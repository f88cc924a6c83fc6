/* Fuzz the SASL challenge decoder and base64 with arbitrary server bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[256];
    ms_sasl_describe_challenge((const char *)data, size, text, sizeof text);
    if (strlen(text) >= sizeof text)
        abort();
    unsigned char out[64];
    size_t n = 0;
    if (ms_base64_decode((const char *)data, size, out, sizeof out, &n) == 0) {
        char *again = NULL;
        if (n > sizeof out || ms_base64_encode(out, n, &again) != 0)
            abort();
        unsigned char back[64];
        size_t m = 0;
        if (ms_base64_decode(again, strlen(again), back, sizeof back, &m) != 0 || m != n ||
            memcmp(back, out, n) != 0)
            abort();
        free(again);
    }
    return 0;
}
