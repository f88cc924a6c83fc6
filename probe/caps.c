#include "probe/caps.h"

#include <string.h>

#include "probe/error.h"
#include "probe/result.h"
#include "probe/text.h"

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    if (!a || !b || alen != strlen(b))
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

/* Append one capability as sent when it is printable ASCII, else its ms_text_sanitize
 * form (the result model holds printable ASCII only). One that does not fit in
 * MS_MAX_CAPABILITY_LEN bytes (after escaping) is dropped and marks the list truncated:
 * a cut capability name would be a wrong fact. */
static int add_cap(struct ms_strlist *list, const char *s, size_t len)
{
    char clean[MS_MAX_CAPABILITY_LEN + 1];
    size_t need = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        need += c >= 0x20 && c <= 0x7e ? 1 : 4;
    }
    if (need > MS_MAX_CAPABILITY_LEN) {
        list->truncated = true;
        return 0;
    }
    if (need != len) {
        len = ms_text_sanitize(clean, sizeof clean, s, len);
        s = clean;
    }
    return ms_strlist_append(list, s, len, MS_MAX_CAPABILITIES);
}

/* The values that hold capabilities, or NULL: "* CAPABILITY ..." data, or the code args
 * of "[CAPABILITY ...]" in a greeting (untagged OK/PREAUTH) or a tagged OK. */
static const struct ms_imap_value *imap_caps_values(const struct ms_imap_response *r)
{
    if (r->kind == MS_IMAP_UNTAGGED && !r->has_number && r->keyword &&
        ieq(r->keyword, strlen(r->keyword), "CAPABILITY"))
        return &r->data;
    if (!r->code || !ieq(r->code, strlen(r->code), "CAPABILITY"))
        return NULL;
    if (r->kind == MS_IMAP_UNTAGGED &&
        (r->status == MS_IMAP_STATUS_OK || r->status == MS_IMAP_STATUS_PREAUTH))
        return &r->code_args;
    if (r->kind == MS_IMAP_TAGGED && r->status == MS_IMAP_STATUS_OK)
        return &r->code_args;
    return NULL;
}

int ms_caps_from_imap(const struct ms_imap_response *r, struct ms_strlist *list)
{
    int rc = 0;
    const struct ms_imap_value *v = r ? imap_caps_values(r) : NULL;
    if (!v || v->type != MS_IMAP_VALUE_LIST)
        goto out;
    for (size_t i = 0; i < v->count; i++) {
        const struct ms_imap_value *item = &v->items[i];
        if (item->type != MS_IMAP_VALUE_ATOM || !item->str || !item->len)
            continue;
        rc = add_cap(list, item->str, item->len);
        if (rc)
            goto out;
    }
    rc = 1;
out:
    return rc;
}

int ms_caps_from_pop3(const struct ms_pop3_response *r, struct ms_strlist *list)
{
    int rc = 0;
    if (!r || r->status != MS_POP3_OK)
        goto out;
    for (size_t i = 0; i < r->line_count; i++) {
        const char *line = r->lines[i];
        size_t len = strlen(line); /* lines hold no NUL: the parser rejects them */
        if (!len)
            continue; /* an empty line names no capability */
        rc = add_cap(list, line, len);
        if (rc)
            goto out;
    }
out:
    return rc;
}

/* The item whose first word (up to a space) is name, ignoring case, or NULL. */
static const char *find_first_word(const struct ms_strlist *caps, const char *name)
{
    if (!caps || !name)
        return NULL;
    for (size_t i = 0; i < caps->count; i++) {
        const char *item = caps->items[i];
        const char *sp = strchr(item, ' ');
        size_t word = sp ? (size_t)(sp - item) : strlen(item);
        if (ieq(item, word, name))
            return item;
    }
    return NULL;
}

const char *ms_caps_pop3_find(const struct ms_strlist *caps, const char *name)
{
    return find_first_word(caps, name);
}

int ms_caps_from_smtp(const struct ms_smtp_reply *r, struct ms_strlist *list)
{
    int rc = 0;
    if (!r || r->code != 250)
        goto out;
    for (size_t i = 1; i < r->line_count; i++) {
        const char *line = r->lines[i];
        while (*line == ' ')
            line++;
        size_t len = strlen(line); /* lines hold no NUL: the parser rejects them */
        while (len && line[len - 1] == ' ')
            len--;
        if (!len)
            continue; /* an empty line names no extension */
        rc = add_cap(list, line, len);
        if (rc)
            goto out;
    }
out:
    return rc;
}

const char *ms_caps_smtp_find(const struct ms_strlist *caps, const char *name)
{
    return find_first_word(caps, name);
}

/* Append each space-separated word of s to mechs, once. */
static int add_words(struct ms_strlist *mechs, const char *s)
{
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (!n)
            break;
        bool seen = false;
        for (size_t i = 0; i < mechs->count && !seen; i++)
            seen = ieq(s, n, mechs->items[i]);
        if (!seen) {
            int rc = ms_strlist_append(mechs, s, n, MS_MAX_CAPABILITIES);
            if (rc)
                return rc;
        }
        s += n;
    }
    return 0;
}

/* The mechanism words of an AUTH line ("AUTH PLAIN LOGIN" or "AUTH=PLAIN LOGIN"), or NULL. */
static const char *auth_words(const char *item)
{
    size_t word = strcspn(item, " ");
    if (ieq(item, word, "AUTH"))
        return item + word;
    if (word > 5 && ieq(item, 5, "AUTH="))
        return item + 5;
    return NULL;
}

int ms_caps_smtp_auth(const struct ms_strlist *caps, struct ms_strlist *mechs)
{
    int rc = 0;
    for (size_t i = 0; caps && mechs && i < caps->count; i++) {
        const char *words = auth_words(caps->items[i]);
        if (words && (rc = add_words(mechs, words)))
            break;
    }
    return rc;
}

size_t ms_caps_smtp_mechs(const struct ms_strlist *caps, char (*names)[MS_SMTP_MECH_NAME],
                          size_t max)
{
    size_t n = 0;
    for (size_t i = 0; caps && i < caps->count; i++) {
        for (const char *s = auth_words(caps->items[i]); s && *s;) {
            while (*s == ' ')
                s++;
            size_t len = strcspn(s, " ");
            bool seen = len == 0 || len >= MS_SMTP_MECH_NAME; /* RFC 4422: 20 at most */
            for (size_t k = 0; k < n && !seen; k++)
                seen = ieq(s, len, names[k]);
            if (!seen && n < max) {
                memcpy(names[n], s, len);
                names[n++][len] = '\0';
            }
            s += len;
        }
    }
    return n;
}

bool ms_caps_smtp_offers(const struct ms_strlist *caps, const char *mechanism)
{
    for (size_t i = 0; caps && i < caps->count; i++) {
        for (const char *s = auth_words(caps->items[i]); s && *s;) {
            while (*s == ' ')
                s++;
            size_t len = strcspn(s, " ");
            if (len && ieq(s, len, mechanism))
                return true;
            s += len;
        }
    }
    return false;
}

int ms_caps_smtp_size(const struct ms_strlist *caps, uint64_t *limit)
{
    const char *item = find_first_word(caps, "SIZE");
    uint64_t v = 0;
    if (!item)
        return 0;
    const char *p = item + 4;
    while (*p == ' ')
        p++;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return MS_EPROTO;
        v = v * 10 + d;
    }
    while (*p == ' ')
        p++;
    if (*p)
        return MS_EPROTO; /* "SIZE 10MB", "SIZE -1", "SIZE 1 2" */
    if (limit)
        *limit = v;
    return 1;
}
