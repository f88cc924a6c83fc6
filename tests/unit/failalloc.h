/* Allocation-failure injection for tests/unit/test_torture.c alone: tests/CMakeLists.txt links
 * that one program with -Wl,--wrap=malloc,calloc,realloc,strdup,strndup,free, so every call the
 * code under test (and the test) makes goes through failalloc.c; every other test keeps the
 * real allocator. fa_init() routes jansson's allocations here too (json_set_alloc_funcs):
 * jansson is a shared library, which --wrap does not reach.
 *
 * Counting starts at fa_arm(): the Nth allocation from then on returns NULL (FA_ONLY: that
 * one alone; FA_FROM: that one and every later one). Allocations made inside libc itself
 * (stdio buffers, open_memstream) are neither counted nor failed.
 *
 * The shim also keeps the set of live allocations it made (stored masked, so LeakSanitizer
 * still sees a leak as a leak), so a test can check after each run that nothing was left.
 *
 * Memory nobody wrote: the ASan build fills fresh blocks with 0xbe, so reading one shows as a
 * wrong result; valgrind --track-origins=yes on the normal build names the read.
 * FA_TRACE=1 in the environment prints a backtrace where the first failing allocation of a
 * run was made (addresses: resolve them with addr2line -e build/tests/test_torture). */
#ifndef MS_TEST_FAILALLOC_H
#define MS_TEST_FAILALLOC_H

#include <stdbool.h>
#include <stddef.h>

enum fa_mode {
    FA_ONLY, /* fail the Nth allocation; later ones succeed (a caller that goes on) */
    FA_FROM, /* fail the Nth and every later one (memory stays exhausted) */
};

/* Route jansson's allocations through the shim. Call once, before any jansson call. */
void fa_init(void);

/* Start counting; the nth allocation (n >= 1) fails as mode says. n == 0: count only. */
void fa_arm(unsigned long n, enum fa_mode mode);

/* Stop counting and failing. Returns how many allocations were asked for since fa_arm. */
unsigned long fa_disarm(void);

/* Whether an allocation failed (was made to fail) since the last fa_arm. */
bool fa_fired(void);

/* Allocations made through the shim and not yet freed. */
size_t fa_live(void);

#endif
