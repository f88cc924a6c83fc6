/* Fuzz target: ms_smtp_parse over a byte stream, reply after reply, checking the contract's
 * invariants and streaming consistency; every 250 reply also goes through the EHLO
 * capability helpers (ms_caps_from_smtp, ms_caps_smtp_find, _auth, _size). */
#include <stdbool.h>
#include <strings.h>

#include "fuzz_check.h"
#include "probe/caps.h"
#include "probe/error.h"
#include "probe/result.h"
#include "probe/smtp_parse.h"

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static void check_reply(const struct ms_smtp_reply *r, const char *raw, size_t used)
{
    FUZZ_CHECK(r->code >= 200 && r->code <= 559);
    FUZZ_CHECK(r->code % 100 <= 59);
    FUZZ_CHECK(r->line_count >= 1 && r->line_count <= MS_SMTP_MAX_LINES);
    FUZZ_CHECK(r->lines != NULL);
    FUZZ_CHECK(used <= MS_SMTP_MAX_REPLY);
    for (size_t i = 0; i < r->line_count; i++) {
        FUZZ_CHECK(r->lines[i] != NULL);
        FUZZ_CHECK(strlen(r->lines[i]) <= MS_SMTP_MAX_LINE);
        FUZZ_CHECK(strchr(r->lines[i], '\n') == NULL);
    }
    /* the code is the first three bytes */
    FUZZ_CHECK(raw[0] - '0' == r->code / 100 && raw[1] - '0' == r->code / 10 % 10 &&
               raw[2] - '0' == r->code % 10);
    /* enhanced: empty, or class.subject.detail with the reply's class */
    size_t n = strlen(r->enhanced);
    FUZZ_CHECK(n <= MS_SMTP_ENHANCED_MAX);
    if (n) {
        const char *e = r->enhanced;
        FUZZ_CHECK(e[0] == '0' + r->code / 100 && e[0] != '3' && e[1] == '.');
        const char *dot = strchr(e + 2, '.');
        FUZZ_CHECK(dot != NULL);
        size_t subject = (size_t)(dot - (e + 2)), detail = strlen(dot + 1);
        FUZZ_CHECK(subject >= 1 && subject <= 3 && digits(e + 2, subject));
        FUZZ_CHECK(detail >= 1 && detail <= 3 && digits(dot + 1, detail));
    }
    char text[512];
    size_t t = ms_smtp_reply_text(r, text, sizeof text);
    FUZZ_CHECK(t < sizeof text && strlen(text) == t);
}

static void check_list(const struct ms_strlist *l)
{
    FUZZ_CHECK(l->count <= MS_MAX_CAPABILITIES && l->count <= l->cap);
    for (size_t i = 0; i < l->count; i++) {
        const char *s = l->items[i];
        size_t n = strlen(s);
        FUZZ_CHECK(n > 0 && n <= MS_MAX_CAPABILITY_LEN);
        FUZZ_CHECK(s[0] != ' ' && s[n - 1] != ' ');
        for (size_t j = 0; j < n; j++)
            FUZZ_CHECK((unsigned char)s[j] >= 0x20 && (unsigned char)s[j] <= 0x7e);
    }
}

static void check_caps(const struct ms_smtp_reply *r)
{
    struct ms_strlist caps = {0}, mechs = {0};
    FUZZ_CHECK(ms_caps_from_smtp(r, &caps) == 0);
    if (r->code != 250)
        FUZZ_CHECK(caps.count == 0);
    FUZZ_CHECK(caps.count < r->line_count || caps.count == 0);
    check_list(&caps);

    static const char *const names[] = {"STARTTLS", "AUTH", "SIZE", "PIPELINING", "8BITMIME"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *hit = ms_caps_smtp_find(&caps, names[i]);
        if (!hit)
            continue;
        size_t k = strlen(names[i]);
        FUZZ_CHECK(strncasecmp(hit, names[i], k) == 0 && (hit[k] == '\0' || hit[k] == ' '));
    }

    FUZZ_CHECK(ms_caps_smtp_auth(&caps, &mechs) == 0);
    check_list(&mechs);
    for (size_t i = 0; i < mechs.count; i++) {
        FUZZ_CHECK(strchr(mechs.items[i], ' ') == NULL);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcasecmp(mechs.items[i], mechs.items[j]) != 0);
    }

    uint64_t limit = 7;
    int rc = ms_caps_smtp_size(&caps, &limit);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == MS_EPROTO);
    FUZZ_CHECK((rc == 0) == (ms_caps_smtp_find(&caps, "SIZE") == NULL));
    if (rc != 1)
        FUZZ_CHECK(limit == 7);
    ms_strlist_free(&mechs);
    ms_strlist_free(&caps);
}

/* Streaming consistency: a prefix of the buffer either waits or gives the same answer; and
 * when it waits, ms_smtp_may_complete may say "no" for the rest only if the whole buffer
 * does not complete a reply either (the session would skip that parse). */
static void check_prefix(const char *p, size_t k, size_t left, int rc_full, size_t used_full)
{
    char *cut = fuzz_copy(p, k);
    struct ms_smtp_reply r;
    size_t used;
    int rc = ms_smtp_parse(cut, k, &r, &used);
    free(cut);
    if (rc == 1)
        ms_smtp_reply_free(&r);
    if (rc != MS_EAGAIN) {
        FUZZ_CHECK(rc == rc_full);
        FUZZ_CHECK(used == used_full);
    } else if (k < left && k > 0) {
        char *all = fuzz_copy(p, left);
        bool may = ms_smtp_may_complete(all, left, k);
        free(all);
        if (!may)
            FUZZ_CHECK(rc_full != 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t left = size;
    for (;;) {
        char *buf = fuzz_copy(p, left);
        struct ms_smtp_reply r;
        size_t used = 7;
        int rc = ms_smtp_parse(buf, left, &r, &used);
        if (rc != 1) {
            free(buf);
            FUZZ_CHECK(rc == MS_EAGAIN || rc == MS_EPROTO || rc == MS_ETOOBIG);
            FUZZ_CHECK(used == 0 && r.lines == NULL && r.line_count == 0);
            if (rc == MS_EAGAIN)
                FUZZ_CHECK(left < MS_SMTP_MAX_REPLY);
            check_prefix(p, left / 2, left, rc, used);
            break;
        }
        FUZZ_CHECK(used > 0 && used <= left);
        FUZZ_CHECK(p[used - 1] == '\n');
        check_reply(&r, p, used);
        check_caps(&r);
        ms_smtp_reply_free(&r);
        free(buf);

        /* Without its last byte the reply is incomplete, never anything else. */
        char *cut = fuzz_copy(p, used - 1);
        struct ms_smtp_reply r2;
        size_t used2;
        rc = ms_smtp_parse(cut, used - 1, &r2, &used2);
        free(cut);
        FUZZ_CHECK(rc == MS_EAGAIN);
        check_prefix(p, left / 2, left, 1, used);

        p += used;
        left -= used;
    }
    return 0;
}
