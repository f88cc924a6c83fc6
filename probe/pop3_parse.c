#include "probe/pop3_parse.h"

#include <stdlib.h>
#include <string.h>

#include "probe/error.h"

struct line {
    size_t start; /* offset of the first byte */
    size_t len;   /* content length, without CRLF / LF */
    size_t total; /* bytes including the line end */
};

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

/* The line starting at pos. Decides as early as the bytes allow: a NUL is MS_EPROTO and a
 * line past MS_POP3_MAX_LINE or past the response cap is MS_ETOOBIG even before its LF. */
static int find_line(const char *buf, size_t len, size_t pos, struct line *l)
{
    size_t avail = len - pos;
    size_t room = MS_POP3_MAX_RESPONSE - pos; /* pos < MS_POP3_MAX_RESPONSE here */
    size_t scan = avail;
    if (scan > MS_POP3_MAX_LINE + 2)
        scan = MS_POP3_MAX_LINE + 2; /* longest line: content + CRLF */
    if (scan > room)
        scan = room;
    const char *lf = memchr(buf + pos, '\n', scan);
    size_t n = lf ? (size_t)(lf - (buf + pos)) : scan;
    if (memchr(buf + pos, '\0', n))
        return MS_EPROTO;
    if (!lf) /* a shorter scan than avail means a cap cut it */
        return scan == MS_POP3_MAX_LINE + 2 || scan == room ? MS_ETOOBIG : MS_EAGAIN;
    l->start = pos;
    l->total = n + 1;
    if (n && buf[pos + n - 1] == '\r')
        n--;
    if (n > MS_POP3_MAX_LINE)
        return MS_ETOOBIG;
    l->len = n;
    return 0;
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

static int dup_bytes(const char *s, size_t n, char **out)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return MS_ENOMEM;
    memcpy(copy, s, n);
    copy[n] = '\0';
    *out = copy;
    return 0;
}

/* Code and text of the first line, whose status is known. */
static int parse_status(const char *s, size_t n, size_t i, struct ms_pop3_response *r)
{
    size_t code_start = 0, code_len = 0;
    if (r->status == MS_POP3_CONTINUE)
        return dup_bytes(s + i, n - i, &r->text);
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
        int rc = dup_bytes(s + code_start, code_len, &r->code);
        if (rc)
            return rc;
    }
    return dup_bytes(s + i, n - i, &r->text);
}

int ms_pop3_parse(const char *buf, size_t len, bool multiline, struct ms_pop3_response *out,
                  size_t *consumed)
{
    struct ms_pop3_response r = {0};
    struct line first, l;
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
            rc = dup_bytes(buf + l.start + skip, l.len - skip, &r.lines[i]);
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
