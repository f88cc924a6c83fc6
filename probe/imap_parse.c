#include "probe/imap_parse.h"

#include <stdlib.h>
#include <string.h>

#include "probe/error.h"

/* The parser runs twice over the same bytes: a dry run that allocates nothing and only
 * decides "complete / incomplete / broken / too big", then, when complete, a build run
 * that allocates. So MS_EAGAIN never costs an allocation, and the build run can only
 * fail with MS_ENOMEM. Both runs execute the same code; `build` only gates allocation. */
struct parser {
    const char *buf;
    size_t len;            /* bytes available at buf */
    size_t pos;            /* next byte to read */
    size_t nvalues;        /* values parsed so far (MS_IMAP_MAX_VALUES) */
    size_t no_close_until; /* no ']' before the line end at this offset (see read_atom) */
    bool build;
};

static const char *const status_names[] = {
    [MS_IMAP_STATUS_OK] = "OK",           [MS_IMAP_STATUS_NO] = "NO",
    [MS_IMAP_STATUS_BAD] = "BAD",         [MS_IMAP_STATUS_BYE] = "BYE",
    [MS_IMAP_STATUS_PREAUTH] = "PREAUTH",
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool bytes_ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

/* Whether n more bytes are readable at pos: 0, MS_ETOOBIG when they would take the
 * response past its cap (known before the bytes arrive), or MS_EAGAIN. */
static int need_at(const struct parser *p, size_t at, size_t n)
{
    if (at > MS_IMAP_MAX_RESPONSE || n > MS_IMAP_MAX_RESPONSE - at)
        return MS_ETOOBIG;
    if (p->len < at + n)
        return MS_EAGAIN;
    return 0;
}

static int need(const struct parser *p, size_t n)
{
    return need_at(p, p->pos, n);
}

static int dup_bytes(const struct parser *p, const char *s, size_t n, char **out)
{
    if (!p->build)
        return 0;
    char *copy = malloc(n + 1);
    if (!copy)
        return MS_ENOMEM;
    memcpy(copy, s, n);
    copy[n] = '\0';
    *out = copy;
    return 0;
}

static void value_free(struct ms_imap_value *v)
{
    free(v->str);
    for (size_t i = 0; i < v->count; i++)
        value_free(&v->items[i]);
    free(v->items);
    *v = (struct ms_imap_value){.type = v->type};
}

/* Lenient atom: anything but space, ( ) " { and line ends; inside a [code], not ]. */
static bool is_atom_char(unsigned char c, bool in_code)
{
    switch (c) {
    case '\0':
    case '\r':
    case '\n':
    case ' ':
    case '(':
    case ')':
    case '"':
    case '{': return false;
    case ']': return !in_code;
    default: return true;
    }
}

static int skip_spaces(struct parser *p)
{
    for (;;) {
        int rc = need(p, 1);
        if (rc)
            return rc;
        if (p->buf[p->pos] != ' ')
            return 0;
        p->pos++;
    }
}

/* Is the line ending at pos? Sets *eol_len to 1 (LF) or 2 (CRLF), or 0 when not. */
static int line_end(const struct parser *p, size_t *eol_len)
{
    int rc = need(p, 1);
    if (rc)
        return rc;
    *eol_len = 0;
    if (p->buf[p->pos] == '\n') {
        *eol_len = 1;
    } else if (p->buf[p->pos] == '\r') {
        rc = need(p, 2);
        if (rc)
            return rc;
        if (p->buf[p->pos + 1] == '\n')
            *eol_len = 2;
    }
    return 0;
}

static int expect_line_end(struct parser *p)
{
    size_t eol;
    int rc = line_end(p, &eol);
    if (rc)
        return rc;
    if (!eol)
        return MS_EPROTO;
    p->pos += eol;
    return 0;
}

/* Human text up to the line end, which is consumed. A lone CR is kept as a byte. */
static int read_text(struct parser *p, char **out)
{
    size_t start = p->pos;
    for (;;) {
        int rc = need(p, 1);
        if (rc)
            return rc;
        char c = p->buf[p->pos];
        if (c == '\0')
            return MS_EPROTO;
        if (c == '\n')
            break;
        p->pos++;
    }
    size_t end = p->pos;
    if (end > start && p->buf[end - 1] == '\r')
        end--;
    p->pos++; /* the LF */
    return dup_bytes(p, p->buf + start, end - start, out);
}

/* A word at the start of a response (tag, status, keyword): atom chars but not '[' so
 * "* OK[ALERT]" still reads as OK. Returns its length in *n (may be 0). */
static int read_word(struct parser *p, size_t max, size_t *n)
{
    size_t start = p->pos;
    for (;;) {
        int rc = need(p, 1);
        if (rc)
            return rc;
        unsigned char c = (unsigned char)p->buf[p->pos];
        if (!is_atom_char(c, false) || c == '[')
            break;
        if (p->pos - start >= max)
            return MS_ETOOBIG;
        p->pos++;
    }
    *n = p->pos - start;
    return 0;
}

/* Atom. Outside a [code], a bracketed section that closes on the same line belongs to
 * the atom even with spaces or parens in it: BODY[HEADER.FIELDS (FROM)]. */
static int read_atom(struct parser *p, bool in_code, size_t *start, size_t *n)
{
    *start = p->pos;
    for (;;) {
        int rc = need(p, 1);
        if (rc)
            return rc;
        unsigned char c = (unsigned char)p->buf[p->pos];
        if (c == '[' && !in_code && p->pos >= p->no_close_until) {
            size_t q = p->pos + 1;
            for (;;) {
                rc = need_at(p, q, 1);
                if (rc)
                    return rc;
                char d = p->buf[q];
                if (d == ']' || d == '\r' || d == '\n' || d == '\0')
                    break;
                q++;
            }
            if (p->buf[q] == ']') {
                p->pos = q + 1;
                continue;
            }
            /* Remember the miss so a line full of '[' stays linear. */
            p->no_close_until = q;
        }
        if (!is_atom_char(c, in_code))
            break;
        p->pos++;
    }
    *n = p->pos - *start;
    return 0;
}

static int read_quoted(struct parser *p, struct ms_imap_value *v)
{
    size_t start = ++p->pos; /* after the opening quote */
    size_t outlen = 0;
    for (;;) {
        int rc = need(p, 1);
        if (rc)
            return rc;
        char c = p->buf[p->pos];
        if (c == '"')
            break;
        if (c == '\\') {
            /* Lenient: a backslash quotes any next byte, not just \ and ". */
            rc = need(p, 2);
            if (rc)
                return rc;
            c = p->buf[++p->pos];
        }
        if (c == '\0' || c == '\r' || c == '\n')
            return MS_EPROTO;
        p->pos++;
        outlen++;
    }
    size_t end = p->pos++; /* the closing quote */
    v->type = MS_IMAP_VALUE_STRING;
    if (!p->build)
        return 0;
    char *s = malloc(outlen + 1);
    if (!s)
        return MS_ENOMEM;
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        if (p->buf[i] == '\\')
            i++;
        s[o++] = p->buf[i];
    }
    s[o] = '\0';
    v->str = s;
    v->len = o;
    return 0;
}

/* {n}CRLF<n bytes>, {n+} (LITERAL+) or ~{n} (literal8). The size is checked digit by
 * digit so a huge announcement fails before its bytes (or even its '}') arrive. */
static int read_literal(struct parser *p, struct ms_imap_value *v)
{
    int rc;
    size_t size = 0, digits = 0;
    if (p->buf[p->pos] == '~')
        p->pos++;
    p->pos++; /* '{' */
    for (;;) {
        rc = need(p, 1);
        if (rc)
            return rc;
        char c = p->buf[p->pos];
        if (c < '0' || c > '9')
            break;
        size = size * 10 + (size_t)(c - '0');
        if (size > MS_IMAP_MAX_LITERAL)
            return MS_ETOOBIG;
        digits++;
        p->pos++;
    }
    if (!digits)
        return MS_EPROTO;
    if (p->buf[p->pos] == '+') {
        p->pos++;
        rc = need(p, 1);
        if (rc)
            return rc;
    }
    if (p->buf[p->pos] != '}')
        return MS_EPROTO;
    p->pos++;
    rc = expect_line_end(p);
    if (rc)
        return rc;
    rc = need(p, size);
    if (rc)
        return rc;
    v->type = MS_IMAP_VALUE_STRING;
    rc = dup_bytes(p, p->buf + p->pos, size, &v->str);
    if (rc)
        return rc;
    v->len = size;
    p->pos += size;
    return 0;
}

static int parse_list(struct parser *p, struct ms_imap_value *list, bool in_code, int depth,
                      char close);

static int parse_value(struct parser *p, struct ms_imap_value *v, bool in_code, int depth)
{
    int rc;
    if (++p->nvalues > MS_IMAP_MAX_VALUES)
        return MS_ETOOBIG;
    char c = p->buf[p->pos]; /* the caller has seen this byte */
    if (c == '(') {
        if (depth >= MS_IMAP_MAX_DEPTH)
            return MS_ETOOBIG;
        p->pos++;
        v->type = MS_IMAP_VALUE_LIST;
        return parse_list(p, v, in_code, depth + 1, ')');
    }
    if (c == '"')
        return read_quoted(p, v);
    if (c == '{')
        return read_literal(p, v);
    if (c == '~') {
        rc = need(p, 2);
        if (rc)
            return rc;
        if (p->buf[p->pos + 1] == '{')
            return read_literal(p, v);
    }
    size_t start, n;
    rc = read_atom(p, in_code, &start, &n);
    if (rc)
        return rc;
    if (!n)
        return MS_EPROTO; /* ), ] in a code, a NUL or a lone CR where a value belongs */
    if (bytes_ieq(p->buf + start, n, "NIL")) {
        v->type = MS_IMAP_VALUE_NIL;
        return 0;
    }
    v->type = MS_IMAP_VALUE_ATOM;
    rc = dup_bytes(p, p->buf + start, n, &v->str);
    if (rc)
        return rc;
    v->len = n;
    return 0;
}

static int list_push(struct ms_imap_value *list, size_t *cap, struct ms_imap_value *item)
{
    if (list->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct ms_imap_value *items = realloc(list->items, ncap * sizeof *items);
        if (!items)
            return MS_ENOMEM;
        list->items = items;
        *cap = ncap;
    }
    list->items[list->count++] = *item;
    *item = (struct ms_imap_value){0}; /* transferred */
    return 0;
}

/* Values until close: ')' (consumed), ']' (left for the caller) or '\n' meaning the line
 * end (left for the caller). Values need not be separated by spaces (leniency). */
static int parse_list(struct parser *p, struct ms_imap_value *list, bool in_code, int depth,
                      char close)
{
    int rc;
    size_t cap = 0;
    struct ms_imap_value item = {0};
    list->type = MS_IMAP_VALUE_LIST;
    for (;;) {
        rc = skip_spaces(p);
        if (rc)
            goto out;
        char c = p->buf[p->pos];
        if (c == ')' && close == ')') {
            p->pos++;
            goto out;
        }
        if (c == ']' && close == ']')
            goto out;
        size_t eol;
        rc = line_end(p, &eol);
        if (rc)
            goto out;
        if (eol) {
            if (close != '\n')
                rc = MS_EPROTO; /* a list or code left open at the line end */
            goto out;
        }
        rc = parse_value(p, &item, in_code, depth);
        if (rc)
            goto out;
        if (p->build) {
            rc = list_push(list, &cap, &item);
            if (rc)
                goto out;
        }
    }
out:
    value_free(&item);
    return rc;
}

/* "[CODE args]" parsed as values. */
static int parse_code(struct parser *p, struct ms_imap_response *r)
{
    size_t start, n;
    p->pos++; /* '[' */
    int rc = read_atom(p, true, &start, &n);
    if (rc)
        return rc;
    if (!n)
        return MS_EPROTO;
    rc = dup_bytes(p, p->buf + start, n, &r->code);
    if (rc)
        return rc;
    rc = parse_list(p, &r->code_args, true, 0, ']');
    if (rc)
        return rc;
    p->pos++; /* ']' */
    return 0;
}

/* Fallback for codes whose arguments are free text ("[XFOO "unbalanced]"): the code
 * name and space-separated raw words up to the first ']' on the line, all atoms. */
static int parse_code_raw(struct parser *p, struct ms_imap_response *r)
{
    int rc;
    struct ms_imap_value item = {0};
    size_t cap = 0;
    bool first = true;
    p->pos++; /* '[' */
    for (;;) {
        if (!first) {
            rc = skip_spaces(p);
            if (rc)
                goto out;
        }
        size_t start = p->pos;
        for (;;) {
            rc = need(p, 1);
            if (rc)
                goto out;
            char c = p->buf[p->pos];
            if (c == ' ' || c == ']')
                break;
            if (c == '\r' || c == '\n' || c == '\0') {
                rc = MS_EPROTO;
                goto out;
            }
            p->pos++;
        }
        size_t n = p->pos - start;
        if (first) {
            if (!n) {
                rc = MS_EPROTO;
                goto out;
            }
            rc = dup_bytes(p, p->buf + start, n, &r->code);
            if (rc)
                goto out;
            first = false;
        } else if (n) {
            if (++p->nvalues > MS_IMAP_MAX_VALUES) {
                rc = MS_ETOOBIG;
                goto out;
            }
            item.type = MS_IMAP_VALUE_ATOM;
            item.len = n;
            rc = dup_bytes(p, p->buf + start, n, &item.str);
            if (rc)
                goto out;
            if (p->build) {
                rc = list_push(&r->code_args, &cap, &item);
                if (rc)
                    goto out;
            }
        }
        if (p->buf[p->pos] == ']') {
            p->pos++;
            break;
        }
    }
out:
    value_free(&item);
    return rc;
}

static void code_reset(struct ms_imap_response *r)
{
    free(r->code);
    r->code = NULL;
    value_free(&r->code_args);
    r->code_args.type = MS_IMAP_VALUE_LIST;
}

/* [SP] ["[" code "]" [SP]] text. A bracket that does not form a code is text. */
static int parse_resp_text(struct parser *p, struct ms_imap_response *r)
{
    int rc = skip_spaces(p);
    if (rc)
        return rc;
    if (p->buf[p->pos] == '[') {
        size_t save_pos = p->pos, save_values = p->nvalues;
        rc = parse_code(p, r);
        if (rc == MS_EPROTO) {
            code_reset(r);
            p->pos = save_pos;
            p->nvalues = save_values;
            rc = parse_code_raw(p, r);
            if (rc == MS_EPROTO) {
                code_reset(r);
                p->pos = save_pos;
                p->nvalues = save_values;
                rc = 0;
            }
        }
        if (rc)
            return rc;
        rc = skip_spaces(p);
        if (rc)
            return rc;
    }
    return read_text(p, &r->text);
}

static enum ms_imap_status status_of(const char *s, size_t n)
{
    for (size_t i = MS_IMAP_STATUS_OK; i < sizeof status_names / sizeof status_names[0]; i++)
        if (bytes_ieq(s, n, status_names[i]))
            return (enum ms_imap_status)i;
    return MS_IMAP_STATUS_NONE;
}

static int parse_untagged(struct parser *p, struct ms_imap_response *r)
{
    size_t start, n;
    int rc = read_word(p, MS_IMAP_MAX_RESPONSE, &n);
    if (rc)
        return rc;
    start = p->pos - n;
    if (!n)
        return MS_EPROTO;
    bool digits = true;
    for (size_t i = 0; i < n; i++)
        if (p->buf[start + i] < '0' || p->buf[start + i] > '9')
            digits = false;
    if (digits) {
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            v = v * 10 + (uint64_t)(p->buf[start + i] - '0');
            if (v > UINT32_MAX)
                return MS_EPROTO;
        }
        r->has_number = true;
        r->number = (uint32_t)v;
        if (p->buf[p->pos] != ' ')
            return MS_EPROTO;
        rc = skip_spaces(p);
        if (rc)
            return rc;
        rc = read_word(p, MS_IMAP_MAX_RESPONSE, &n);
        if (rc)
            return rc;
        start = p->pos - n;
        if (!n)
            return MS_EPROTO;
    } else {
        r->status = status_of(p->buf + start, n);
        if (r->status != MS_IMAP_STATUS_NONE)
            return parse_resp_text(p, r);
    }
    rc = dup_bytes(p, p->buf + start, n, &r->keyword);
    if (rc)
        return rc;
    rc = parse_list(p, &r->data, false, 0, '\n');
    if (rc)
        return rc;
    rc = expect_line_end(p);
    if (rc)
        return rc;
    return dup_bytes(p, "", 0, &r->text);
}

static int parse_response(struct parser *p, struct ms_imap_response *r)
{
    size_t n;
    int rc = need(p, 1);
    if (rc)
        return rc;
    r->code_args.type = MS_IMAP_VALUE_LIST;
    r->data.type = MS_IMAP_VALUE_LIST;
    char c = p->buf[p->pos];
    if (c == '+') {
        /* "+ text", "+" alone; "+OK" is a POP3 greeting, not a continuation. */
        r->kind = MS_IMAP_CONTINUATION;
        p->pos++;
        rc = need(p, 1);
        if (rc)
            return rc;
        c = p->buf[p->pos];
        if (c == ' ')
            p->pos++;
        else if (c != '\r' && c != '\n')
            return MS_EPROTO;
        return read_text(p, &r->text);
    }
    if (c == '*') {
        r->kind = MS_IMAP_UNTAGGED;
        p->pos++;
        rc = need(p, 1);
        if (rc)
            return rc;
        if (p->buf[p->pos] != ' ')
            return MS_EPROTO;
        rc = skip_spaces(p);
        if (rc)
            return rc;
        return parse_untagged(p, r);
    }
    r->kind = MS_IMAP_TAGGED;
    rc = read_word(p, MS_IMAP_MAX_TAG, &n);
    if (rc)
        return rc;
    if (!n || p->buf[p->pos] != ' ')
        return MS_EPROTO;
    memcpy(r->tag, p->buf + p->pos - n, n);
    r->tag[n] = '\0';
    rc = skip_spaces(p);
    if (rc)
        return rc;
    rc = read_word(p, MS_IMAP_MAX_RESPONSE, &n);
    if (rc)
        return rc;
    r->status = status_of(p->buf + p->pos - n, n);
    /* A tagged response is a command's completion: only OK, NO or BAD. */
    if (r->status != MS_IMAP_STATUS_OK && r->status != MS_IMAP_STATUS_NO &&
        r->status != MS_IMAP_STATUS_BAD)
        return MS_EPROTO;
    return parse_resp_text(p, r);
}

int ms_imap_parse(const char *buf, size_t len, struct ms_imap_response *out, size_t *consumed)
{
    struct ms_imap_response r = {0};
    struct parser p = {.buf = buf, .len = buf ? len : 0};
    *out = (struct ms_imap_response){0};
    *consumed = 0;

    int rc = parse_response(&p, &r); /* dry run: nothing allocated */
    if (rc)
        goto out;
    size_t used = p.pos;

    r = (struct ms_imap_response){0};
    p = (struct parser){.buf = buf, .len = len, .build = true};
    rc = parse_response(&p, &r);
    if (rc) {
        ms_imap_response_free(&r); /* only MS_ENOMEM can get here */
        goto out;
    }
    *out = r;
    *consumed = used;
    rc = 1;
out:
    return rc;
}

void ms_imap_response_free(struct ms_imap_response *r)
{
    if (!r)
        return;
    free(r->code);
    value_free(&r->code_args);
    free(r->text);
    free(r->keyword);
    value_free(&r->data);
    *r = (struct ms_imap_response){0};
}

bool ms_imap_value_is(const struct ms_imap_value *v, const char *s)
{
    if (!v || !s || !v->str)
        return false;
    if (v->type != MS_IMAP_VALUE_ATOM && v->type != MS_IMAP_VALUE_STRING)
        return false;
    return bytes_ieq(v->str, v->len, s);
}
