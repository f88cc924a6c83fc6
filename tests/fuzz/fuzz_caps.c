/* Fuzz target: capability extraction. The input is read as an IMAP stream (every
 * response offered to ms_caps_from_imap) and as POP3 multi-line responses (offered to
 * ms_caps_from_pop3); the lists must stay within their caps and printable. */
#include <stdbool.h>
#include <strings.h>

#include "fuzz_check.h"
#include "probe/caps.h"
#include "probe/error.h"
#include "probe/result.h"

static void check_list(const struct ms_strlist *l)
{
    FUZZ_CHECK(l->count <= MS_MAX_CAPABILITIES);
    FUZZ_CHECK(l->count <= l->cap);
    for (size_t i = 0; i < l->count; i++) {
        const char *s = l->items[i];
        size_t n = strlen(s);
        FUZZ_CHECK(n > 0 && n <= MS_MAX_CAPABILITY_LEN);
        for (size_t j = 0; j < n; j++)
            FUZZ_CHECK((unsigned char)s[j] >= 0x20 && (unsigned char)s[j] <= 0x7e);
        if (i < 8)
            FUZZ_CHECK(ms_strlist_has(l, s));
    }
}

static void check_find(const struct ms_strlist *l, const char *name)
{
    const char *hit = ms_caps_pop3_find(l, name);
    if (!hit)
        return;
    bool member = false;
    for (size_t i = 0; i < l->count; i++)
        member |= l->items[i] == hit;
    FUZZ_CHECK(member);
    size_t n = strlen(name);
    FUZZ_CHECK(strncasecmp(hit, name, n) == 0 && (hit[n] == '\0' || hit[n] == ' '));
}

static void imap_stream(const char *p, size_t left)
{
    struct ms_strlist list = {0};
    for (;;) {
        struct ms_imap_response r;
        size_t used;
        if (ms_imap_parse(p, left, &r, &used) != 1)
            break;
        size_t before = list.count;
        int rc = ms_caps_from_imap(&r, &list);
        FUZZ_CHECK(rc == 0 || rc == 1);
        if (rc == 0)
            FUZZ_CHECK(list.count == before);
        ms_imap_response_free(&r);
        check_list(&list);
        p += used;
        left -= used;
    }
    check_find(&list, "IMAP4rev1");
    ms_strlist_free(&list);
}

static void pop3_stream(const char *p, size_t left)
{
    struct ms_strlist list = {0};
    for (;;) {
        struct ms_pop3_response r;
        size_t used;
        if (ms_pop3_parse(p, left, true, &r, &used) != 1)
            break;
        FUZZ_CHECK(ms_caps_from_pop3(&r, &list) == 0);
        ms_pop3_response_free(&r);
        check_list(&list);
        p += used;
        left -= used;
    }
    static const char *const names[] = {"SASL", "EXPIRE", "LOGIN-DELAY", "TOP", "UIDL",
                                        "STLS", "USER",   "x",           ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        check_find(&list, names[i]);
    /* Every item's first word finds an item with that word. */
    for (size_t i = 0; i < list.count && i < 32; i++) {
        char word[MS_MAX_CAPABILITY_LEN + 1];
        size_t n = strcspn(list.items[i], " ");
        memcpy(word, list.items[i], n);
        word[n] = '\0';
        if (n)
            FUZZ_CHECK(ms_caps_pop3_find(&list, word) != NULL);
    }
    ms_strlist_free(&list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imap_stream((const char *)data, size);
    pop3_stream((const char *)data, size);
    return 0;
}
