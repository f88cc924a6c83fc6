#include "probe/strlist.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"

int ms_strlist_append(struct ms_strlist *list, const char *s, size_t len, size_t limit)
{
    if (list->count >= limit) {
        list->truncated = true;
        return 0;
    }
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        char **items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return MS_ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return MS_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    list->items[list->count++] = copy;
    return 0;
}

int ms_strlist_copy(struct ms_strlist *dst, const struct ms_strlist *src)
{
    for (size_t i = 0; i < src->count; i++)
        if (ms_strlist_append(dst, src->items[i], strlen(src->items[i]), (size_t)-1) < 0)
            return MS_ENOMEM;
    dst->truncated = dst->truncated || src->truncated;
    return 0;
}

bool ms_strlist_has(const struct ms_strlist *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcasecmp(list->items[i], name) == 0)
            return true;
    return false;
}

const char *ms_strlist_find_prefix(const struct ms_strlist *list, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < list->count; i++)
        if (strncasecmp(list->items[i], prefix, n) == 0)
            return list->items[i];
    return NULL;
}

void ms_strlist_free(struct ms_strlist *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    *list = (struct ms_strlist){0};
}
