/* Fuzz target: ms_imap_parse over a byte stream, response after response, checking the
 * contract's invariants on every result. */
#include <stdbool.h>

#include "fuzz_check.h"
#include "probe/error.h"
#include "probe/imap_parse.h"

/* Walks a value tree: types, NUL terminators, depth and the value budget. depth: how
 * many parenthesised lists enclose v (data and code_args themselves are depth 0). */
static void check_value(const struct ms_imap_value *v, int depth, size_t *values)
{
    switch (v->type) {
    case MS_IMAP_VALUE_ATOM:
        FUZZ_CHECK(v->str && v->len > 0 && v->str[v->len] == '\0');
        FUZZ_CHECK(memchr(v->str, '\0', v->len) == NULL);
        FUZZ_CHECK(ms_imap_value_is(v, v->str));
        FUZZ_CHECK(v->count == 0 && v->items == NULL);
        break;
    case MS_IMAP_VALUE_STRING:
        FUZZ_CHECK(v->str && v->str[v->len] == '\0');
        FUZZ_CHECK(v->len < MS_IMAP_MAX_RESPONSE);
        FUZZ_CHECK(v->count == 0 && v->items == NULL);
        (void)ms_imap_value_is(v, "INBOX");
        break;
    case MS_IMAP_VALUE_NIL:
        FUZZ_CHECK(v->str == NULL && v->count == 0 && v->items == NULL);
        FUZZ_CHECK(!ms_imap_value_is(v, "NIL"));
        break;
    case MS_IMAP_VALUE_LIST:
        FUZZ_CHECK(depth <= MS_IMAP_MAX_DEPTH);
        FUZZ_CHECK(v->str == NULL);
        FUZZ_CHECK(v->count == 0 || v->items != NULL);
        for (size_t i = 0; i < v->count; i++) {
            (*values)++;
            check_value(&v->items[i], depth + (v->items[i].type == MS_IMAP_VALUE_LIST), values);
        }
        break;
    default: FUZZ_CHECK(!"unknown value type");
    }
}

static void check_response(const struct ms_imap_response *r)
{
    size_t values = 0;
    FUZZ_CHECK(r->text != NULL);
    FUZZ_CHECK(r->code_args.type == MS_IMAP_VALUE_LIST);
    FUZZ_CHECK(r->data.type == MS_IMAP_VALUE_LIST);
    check_value(&r->code_args, 0, &values);
    check_value(&r->data, 0, &values);
    FUZZ_CHECK(values <= MS_IMAP_MAX_VALUES);
    FUZZ_CHECK(strchr(r->text, '\n') == NULL);
    if (!r->code)
        FUZZ_CHECK(r->code_args.count == 0);
    else
        FUZZ_CHECK(r->code[0] != '\0');
    switch (r->kind) {
    case MS_IMAP_TAGGED:
        FUZZ_CHECK(r->tag[0] != '\0' && strlen(r->tag) <= MS_IMAP_MAX_TAG);
        FUZZ_CHECK(r->status == MS_IMAP_STATUS_OK || r->status == MS_IMAP_STATUS_NO ||
                   r->status == MS_IMAP_STATUS_BAD);
        FUZZ_CHECK(r->keyword == NULL && r->data.count == 0 && !r->has_number);
        break;
    case MS_IMAP_UNTAGGED:
        FUZZ_CHECK(r->tag[0] == '\0');
        if (r->status == MS_IMAP_STATUS_NONE) {
            FUZZ_CHECK(r->keyword && r->keyword[0] && !r->code && r->text[0] == '\0');
        } else {
            FUZZ_CHECK(!r->keyword && r->data.count == 0 && !r->has_number);
        }
        break;
    case MS_IMAP_CONTINUATION:
        FUZZ_CHECK(r->status == MS_IMAP_STATUS_NONE && !r->code && !r->keyword);
        FUZZ_CHECK(r->data.count == 0 && !r->has_number);
        break;
    default: FUZZ_CHECK(!"unknown kind");
    }
}

/* Streaming consistency: the bytes arrive in pieces, so a parse of any prefix of what is
 * buffered must either wait (MS_EAGAIN) or give exactly the answer the whole buffer gives. */
static void check_prefix(const char *p, size_t k, int rc_full, size_t used_full)
{
    char *cut = fuzz_copy(p, k); /* exact size: ASan catches a read past k */
    struct ms_imap_response r;
    size_t used;
    int rc = ms_imap_parse(cut, k, &r, &used);
    free(cut);
    if (rc == 1)
        ms_imap_response_free(&r);
    if (rc != MS_EAGAIN) {
        FUZZ_CHECK(rc == rc_full);
        FUZZ_CHECK(used == used_full);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t left = size;
    for (;;) {
        struct ms_imap_response r;
        size_t used = 7;
        int rc = ms_imap_parse(p, left, &r, &used);
        if (rc != 1) {
            FUZZ_CHECK(rc == MS_EAGAIN || rc == MS_EPROTO || rc == MS_ETOOBIG);
            FUZZ_CHECK(used == 0 && r.text == NULL && r.code == NULL && r.keyword == NULL);
            FUZZ_CHECK(r.data.items == NULL && r.code_args.items == NULL);
            /* With a full response's worth of bytes, the answer is never "wait". */
            if (rc == MS_EAGAIN)
                FUZZ_CHECK(left < MS_IMAP_MAX_RESPONSE);
            check_prefix(p, left / 2, rc, used);
            break;
        }
        FUZZ_CHECK(used > 0 && used <= left && used <= MS_IMAP_MAX_RESPONSE);
        FUZZ_CHECK(p[used - 1] == '\n');
        check_response(&r);
        ms_imap_response_free(&r);

        /* The response needed its last byte: without it the parser must wait. */
        char *cut = fuzz_copy(p, used - 1);
        struct ms_imap_response r2;
        size_t used2;
        rc = ms_imap_parse(cut, used - 1, &r2, &used2);
        free(cut);
        FUZZ_CHECK(rc == MS_EAGAIN);
        check_prefix(p, left / 2, 1, used);

        p += used;
        left -= used;
    }
    return 0;
}
