/* Allocation-failure injection (failalloc.h). Linked only into test_torture, whose link line
 * renames the allocator: a call to malloc in any object of that program reaches __wrap_malloc
 * here, and __real_malloc is libc's (or ASan's) malloc. */
#include "failalloc.h"

#include <errno.h>
#include <execinfo.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t count, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t count, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

static struct {
    bool armed;
    enum fa_mode mode;
    unsigned long fail_at; /* 0: never */
    unsigned long calls;   /* allocations asked for since fa_arm */
    bool fired;
} fa;

/* ---- the live set: open addressing over masked pointers --------------------------------
 * A pointer is stored XORed with MASK so the table does not keep a leaked block reachable in
 * LeakSanitizer's eyes. 0 is an empty slot, 1 a deleted one (no heap pointer masks to 0 or 1:
 * it would be a non-canonical address). */
#define SLOTS_BITS 17
#define SLOTS (1u << SLOTS_BITS)
#define MASK ((uintptr_t)0xa5a5a5a5a5a5a5a5u)
#define EMPTY ((uintptr_t)0)
#define DELETED ((uintptr_t)1)

static uintptr_t slots[SLOTS], spare[SLOTS];
static size_t live, deleted;

static size_t slot_of(uintptr_t key)
{
    return (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15u) >> (64 - SLOTS_BITS));
}

static void put_key(uintptr_t *table, uintptr_t key)
{
    size_t i = slot_of(key);
    while (table[i] != EMPTY && table[i] != DELETED)
        i = (i + 1) & (SLOTS - 1);
    table[i] = key;
}

static void rebuild(void)
{
    memcpy(spare, slots, sizeof slots);
    memset(slots, 0, sizeof slots);
    for (size_t i = 0; i < SLOTS; i++)
        if (spare[i] != EMPTY && spare[i] != DELETED)
            put_key(slots, spare[i]);
    deleted = 0;
}

static void track(void *p)
{
    if (!p)
        return;
    if (live + 1 > SLOTS / 2) {
        fputs("failalloc: too many live allocations to track\n", stderr);
        abort();
    }
    if (live + deleted + 1 > SLOTS / 4 * 3)
        rebuild();
    put_key(slots, (uintptr_t)p ^ MASK);
    live++;
}

/* Forget p; false when the shim did not make it (libc's own allocations). */
static bool untrack(void *p)
{
    uintptr_t key = (uintptr_t)p ^ MASK;
    for (size_t i = slot_of(key); slots[i] != EMPTY; i = (i + 1) & (SLOTS - 1)) {
        if (slots[i] == key) {
            slots[i] = DELETED;
            live--;
            deleted++;
            return true;
        }
    }
    return false;
}

/* ---- counting and failing ------------------------------------------------------------- */

static bool should_fail(void)
{
    if (!fa.armed)
        return false;
    fa.calls++;
    if (fa.fail_at && (fa.calls == fa.fail_at || (fa.mode == FA_FROM && fa.calls > fa.fail_at))) {
        if (!fa.fired && getenv("FA_TRACE")) { /* where the first failing allocation was made */
            void *frames[16];
            backtrace_symbols_fd(frames, backtrace(frames, 16), 2);
        }
        fa.fired = true;
        errno = ENOMEM;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_malloc(n);
    track(p);
    return p;
}

void *__wrap_calloc(size_t count, size_t n)
{
    if (should_fail())
        return NULL;
    void *p = __real_calloc(count, n);
    track(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL; /* p stays valid, as with a real failure */
    void *q = __real_realloc(p, n);
    if (q || n == 0) {
        if (p)
            untrack(p);
        track(q);
    }
    return q;
}

char *__wrap_strdup(const char *s)
{
    if (should_fail())
        return NULL;
    char *p = __real_strdup(s);
    track(p);
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    if (should_fail())
        return NULL;
    char *p = __real_strndup(s, n);
    track(p);
    return p;
}

void __wrap_free(void *p)
{
    if (p)
        untrack(p);
    __real_free(p);
}

void fa_init(void)
{
    json_set_alloc_funcs(__wrap_malloc, __wrap_free);
}

void fa_arm(unsigned long n, enum fa_mode mode)
{
    fa.armed = true;
    fa.mode = mode;
    fa.fail_at = n;
    fa.calls = 0;
    fa.fired = false;
}

unsigned long fa_disarm(void)
{
    fa.armed = false;
    return fa.calls;
}

bool fa_fired(void)
{
    return fa.fired;
}

size_t fa_live(void)
{
    return live;
}
