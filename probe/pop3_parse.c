#include "probe/pop3_parse.h"

#include <stdlib.h>
#include <string.h>

#include "probe/error.h"
#include "probe/text.h"

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Does s (n bytes) start with the ASCII word w, ignoring case? */
static bool starts_with(const char *s, size_t n, const char *w)
{
    size_t wlen = strlen(w);
    if (n < wlen)
        return false;
    for (size_t i = 0; i < wlen; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)w[i]))
            return false;
    return true;
}

/* The line starting at pos, within the caps of a POP3 response. */
static int find_line(const char *buf, size_t len, size_t pos, struct ms_text_line *l)
{
    return ms_text_find_line(buf, len, pos, MS_POP3_MAX_LINE, MS_POP3_MAX_RESPONSE, l);
}

/* Could s (n bytes) begin the word w followed by a space or a line end? */
static bool word_possible(const char *s, size_t n, const char *w)
{
    size_t wlen = strlen(w);
    for (size_t i = 0; i < n && i < wlen; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)w[i]))
            return false;
    return n <= wlen || s[wlen] == ' ' || s[wlen] == '\r' || s[wlen] == '\n';
}

/* Can the n bytes at s still begin "+OK", "-ERR" or "+"? Lets a non-POP3 peer
 * ("HTTP/1.1 400", "220 smtp") fail at once instead of after a whole line. */
static bool prefix_possible(const char *s, size_t n)
{
    if (n > 5)
        n = 5; /* the longest decision looks at s[4] */
    if (n == 0)
        return true;
    if (s[0] == '-')
        return word_possible(s, n, "-ERR");
    if (s[0] != '+')
        return false;
    if (n == 1 || s[1] == ' ' || s[1] == '\r' || s[1] == '\n')
        return true;
    return word_possible(s, n, "+OK");
}

/* The status of a complete first line, and where the text after it starts. */
static int classify(const char *s, size_t n, enum ms_pop3_status *status, size_t *rest)
{
    if (starts_with(s, n, "+OK") && (n == 3 || s[3] == ' ')) {
        *status = MS_POP3_OK;
        *rest = 3;
    } else if (starts_with(s, n, "-ERR") && (n == 4 || s[4] == ' ')) {
        *status = MS_POP3_ERR;
        *rest = 4;
    } else if (n >= 1 && s[0] == '+' && (n == 1 || s[1] == ' ')) {
        *status = MS_POP3_CONTINUE;
        *rest = n == 1 ? 1 : 2; /* the challenge after "+ ", untouched */
    } else {
        return MS_EPROTO;
    }
    return 0;
}

/* Code and text of the first line, whose status is known. */
static int parse_status(const char *s, size_t n, size_t i, struct ms_pop3_response *r)
{
    size_t code_start = 0, code_len = 0;
    if (r->status == MS_POP3_CONTINUE)
        return ms_text_dup(s + i, n - i, &r->text);
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && s[i] == '[') {
        /* A code is one bracketed word: "[SYS/TEMP]", "[IN-USE]". */
        size_t j = i + 1;
        while (j < n && s[j] != ']' && s[j] != ' ' && (unsigned char)s[j] > 0x20 &&
               (unsigned char)s[j] < 0x7f)
            j++;
        if (j < n && s[j] == ']' && j > i + 1) {
            code_start = i + 1;
            code_len = j - i - 1;
            i = j + 1;
            while (i < n && s[i] == ' ')
                i++;
        }
    }
    if (code_len) {
        int rc = ms_text_dup(s + code_start, code_len, &r->code);
        if (rc)
            return rc;
    }
    return ms_text_dup(s + i, n - i, &r->text);
}

int ms_pop3_parse(const char *buf, size_t len, bool multiline, struct ms_pop3_response *out,
                  size_t *consumed)
{
    struct ms_pop3_response r = {0};
    struct ms_text_line first, l;
    size_t pos, rest, count = 0;
    int rc;

    *out = (struct ms_pop3_response){0};
    *consumed = 0;
    if (!buf || !len) {
        rc = MS_EAGAIN;
        goto out;
    }
    if (!prefix_possible(buf, len)) {
        rc = MS_EPROTO;
        goto out;
    }
    rc = find_line(buf, len, 0, &first);
    if (rc)
        goto out;
    rc = classify(buf, first.len, &r.status, &rest);
    if (rc)
        goto out;
    pos = first.total;

    /* Dry run over the body: find its end and enforce the caps before allocating. */
    bool body = multiline && r.status == MS_POP3_OK;
    if (body) {
        for (;;) {
            if (pos >= MS_POP3_MAX_RESPONSE) {
                rc = MS_ETOOBIG;
                goto out;
            }
            rc = find_line(buf, len, pos, &l);
            if (rc)
                goto out;
            pos += l.total;
            if (l.len == 1 && buf[l.start] == '.')
                break;
            if (++count > MS_POP3_MAX_LINES) {
                rc = MS_ETOOBIG;
                goto out;
            }
        }
    }

    rc = parse_status(buf, first.len, rest, &r);
    if (rc)
        goto out;
    if (count) {
        r.lines = calloc(count, sizeof *r.lines);
        if (!r.lines) {
            rc = MS_ENOMEM;
            goto out;
        }
        size_t at = first.total;
        for (size_t i = 0; i < count; i++) {
            find_line(buf, len, at, &l); /* succeeded in the dry run */
            at += l.total;
            size_t skip = l.len && buf[l.start] == '.'; /* dot-unstuffing: "..x" -> ".x" */
            rc = ms_text_dup(buf + l.start + skip, l.len - skip, &r.lines[i]);
            if (rc)
                goto out;
            r.line_count++;
        }
    }
    *out = r;
    r = (struct ms_pop3_response){0}; /* transferred */
    *consumed = pos;
    rc = 1;
out:
    ms_pop3_response_free(&r);
    return rc;
}

void ms_pop3_response_free(struct ms_pop3_response *r)
{
    if (!r)
        return;
    free(r->code);
    free(r->text);
    for (size_t i = 0; i < r->line_count; i++)
        free(r->lines[i]);
    free(r->lines);
    *r = (struct ms_pop3_response){0};
}
