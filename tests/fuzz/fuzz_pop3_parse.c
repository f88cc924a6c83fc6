/* Fuzz target: ms_pop3_parse over a byte stream in single-line mode, multi-line mode and
 * alternating modes, response after response, checking the contract's invariants. */
#include <stdbool.h>

#include "fuzz_check.h"
#include "probe/error.h"
#include "probe/pop3_parse.h"

static void check_response(const struct ms_pop3_response *r, bool multiline)
{
    FUZZ_CHECK(r->text != NULL);
    FUZZ_CHECK(strlen(r->text) <= MS_POP3_MAX_LINE);
    FUZZ_CHECK(strchr(r->text, '\n') == NULL);
    switch (r->status) {
    case MS_POP3_OK:
    case MS_POP3_ERR: break;
    case MS_POP3_CONTINUE: FUZZ_CHECK(r->code == NULL); break;
    default: FUZZ_CHECK(!"unknown status");
    }
    if (r->code) {
        size_t n = strlen(r->code);
        FUZZ_CHECK(n > 0 && !strchr(r->code, ']') && !strchr(r->code, ' '));
    }
    if (!multiline || r->status != MS_POP3_OK)
        FUZZ_CHECK(r->line_count == 0);
    FUZZ_CHECK(r->line_count <= MS_POP3_MAX_LINES);
    FUZZ_CHECK((r->line_count == 0) == (r->lines == NULL));
    for (size_t i = 0; i < r->line_count; i++) {
        FUZZ_CHECK(r->lines[i] != NULL);
        FUZZ_CHECK(strlen(r->lines[i]) <= MS_POP3_MAX_LINE);
        FUZZ_CHECK(strchr(r->lines[i], '\n') == NULL);
    }
}

/* Streaming consistency: a prefix of the buffer either waits or gives the same answer. */
static void check_prefix(const char *p, size_t k, bool multi, int rc_full, size_t used_full)
{
    char *cut = fuzz_copy(p, k);
    struct ms_pop3_response r;
    size_t used;
    int rc = ms_pop3_parse(cut, k, multi, &r, &used);
    free(cut);
    if (rc == 1)
        ms_pop3_response_free(&r);
    if (rc != MS_EAGAIN) {
        FUZZ_CHECK(rc == rc_full);
        FUZZ_CHECK(used == used_full);
    }
}

/* mode: 0 single-line, 1 multi-line, 2 alternating starting with multi-line. */
static void run(const char *p, size_t left, int mode)
{
    for (unsigned n = 0;; n++) {
        bool multi = mode == 1 || (mode == 2 && n % 2 == 0);
        struct ms_pop3_response r;
        size_t used = 7;
        int rc = ms_pop3_parse(p, left, multi, &r, &used);
        if (rc != 1) {
            FUZZ_CHECK(rc == MS_EAGAIN || rc == MS_EPROTO || rc == MS_ETOOBIG);
            FUZZ_CHECK(used == 0 && r.text == NULL && r.code == NULL && r.lines == NULL);
            if (rc == MS_EAGAIN)
                FUZZ_CHECK(left < MS_POP3_MAX_RESPONSE);
            check_prefix(p, left / 2, multi, rc, used);
            break;
        }
        FUZZ_CHECK(used > 0 && used <= left && used <= MS_POP3_MAX_RESPONSE);
        FUZZ_CHECK(p[used - 1] == '\n');
        check_response(&r, multi);
        ms_pop3_response_free(&r);

        /* Without its last byte the response is incomplete, never anything else. */
        char *cut = fuzz_copy(p, used - 1);
        struct ms_pop3_response r2;
        size_t used2;
        rc = ms_pop3_parse(cut, used - 1, multi, &r2, &used2);
        free(cut);
        FUZZ_CHECK(rc == MS_EAGAIN);
        check_prefix(p, left / 2, multi, 1, used);

        p += used;
        left -= used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int mode = 0; mode < 3; mode++)
        run((const char *)data, size, mode);
    return 0;
}
