/* Shared by the fuzz targets: an invariant check that survives NDEBUG and makes
 * libFuzzer (or the replay program) stop with the failed condition. */
#ifndef MS_FUZZ_CHECK_H
#define MS_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An exact-size heap copy of n bytes, so ASan flags any read past n. */
static inline char *fuzz_copy(const char *s, size_t n)
{
    char *c = malloc(n ? n : 1);
    FUZZ_CHECK(c != NULL);
    if (n)
        memcpy(c, s, n);
    return c;
}

#endif
