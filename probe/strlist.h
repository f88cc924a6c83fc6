/* A growable list of owned C strings with a hard cap on its length. */
#ifndef MS_STRLIST_H
#define MS_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

struct ms_strlist {
    char **items; /* count owned NUL-terminated strings */
    size_t count;
    size_t cap;     /* allocated slots */
    bool truncated; /* an append was dropped because the list hit its limit */
};

/* Append a copy of the len bytes at s. When the list already holds `limit` items the
 * string is dropped and `truncated` set (returns 0: hitting a cap is a fact, not an error).
 * Returns 0 or MS_ENOMEM. */
int ms_strlist_append(struct ms_strlist *list, const char *s, size_t len, size_t limit);

/* True when some item equals name, ignoring ASCII case. */
bool ms_strlist_has(const struct ms_strlist *list, const char *name);

/* The first item that starts with prefix (ASCII case ignored), or NULL. */
const char *ms_strlist_find_prefix(const struct ms_strlist *list, const char *prefix);

/* Append a copy of every item of src to dst (same cap as src had). Returns 0 or MS_ENOMEM. */
int ms_strlist_copy(struct ms_strlist *dst, const struct ms_strlist *src);

void ms_strlist_free(struct ms_strlist *list);

#endif
