#include "probe/smtp_parse.h"

#include <stdlib.h>
#include <string.h>

#include "probe/error.h"
#include "probe/text.h"

struct line {
    struct ms_text_line t;
    bool final; /* "NNN text" or "NNN": the reply's last line */
};

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Check the first bytes of a line (avail of them, maybe fewer than its header) as far as
 * they go: the reply code (RFC 5321: %x32-35 %x30-35 %x30-39; on a continuation line the
 * first line's three digits, given as code), then ' ', '-' or the line end. Returns 0 or
 * MS_EPROTO. */
static int check_head(const char *s, size_t avail, const char *code)
{
    static const char lo[3] = {'2', '0', '0'}, hi[3] = {'5', '5', '9'};
    for (size_t i = 0; i < avail && i < 3; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = code ? c == (unsigned char)code[i] : c >= lo[i] && c <= hi[i];
        if (!ok)
            return MS_EPROTO;
    }
    if (avail > 3 && s[3] != ' ' && s[3] != '-' && s[3] != '\r' && s[3] != '\n')
        return MS_EPROTO;
    if (avail > 4 && s[3] == '\r' && s[4] != '\n')
        return MS_EPROTO; /* "NNN" + CR is only a line end */
    return 0;
}

/* The line starting at pos (pos < MS_SMTP_MAX_REPLY). Decides as early as the bytes allow:
 * a bad header or a NUL is MS_EPROTO, a line past MS_SMTP_MAX_LINE or past the reply cap is
 * MS_ETOOBIG even before its LF; otherwise an unfinished line is MS_EAGAIN. */
static int find_line(const char *buf, size_t len, size_t pos, const char *code, struct line *l)
{
    int rc = check_head(buf + pos, len - pos, code);
    if (rc)
        return rc;
    rc = ms_text_find_line(buf, len, pos, MS_SMTP_MAX_LINE, MS_SMTP_MAX_REPLY, &l->t);
    if (rc)
        return rc;
    /* check_head saw the header: len >= 3, and byte 3 is ' ' or '-' when len > 3 */
    l->final = l->t.len == 3 || buf[pos + 3] == ' ';
    return 0;
}

/* Length of an RFC 3463 enhanced status code "class.subject.detail" (class = the reply
 * code's first digit, which must be 2, 4 or 5; subject and detail 1-3 digits) at the start
 * of s, followed by a space or the end; 0 when there is none. */
static size_t enhanced_len(const char *s, size_t n, int code)
{
    int cls = code / 100;
    if (cls == 3 || n < 5 || s[0] != '0' + cls || s[1] != '.')
        return 0;
    size_t i = 2, digits = 0;
    while (i < n && digits < 3 && is_digit((unsigned char)s[i])) {
        i++;
        digits++;
    }
    if (!digits || i >= n || s[i] != '.')
        return 0;
    i++;
    digits = 0;
    while (i < n && digits < 3 && is_digit((unsigned char)s[i])) {
        i++;
        digits++;
    }
    if (!digits || (i < n && s[i] != ' '))
        return 0;
    return i;
}

/* The text of line l: after "NNN-" / "NNN ", without the reply's enhanced code. */
static int line_text(const char *buf, const struct line *l, struct ms_smtp_reply *r, char **out)
{
    const char *t = buf + l->t.start + 3;
    size_t n = l->t.len - 3;
    if (n) { /* the separator */
        t++;
        n--;
    }
    size_t k = strlen(r->enhanced);
    if (k && n >= k && memcmp(t, r->enhanced, k) == 0 && (n == k || t[k] == ' ')) {
        while (k < n && t[k] == ' ')
            k++;
        t += k;
        n -= k;
    }
    return ms_text_dup(t, n, out);
}

int ms_smtp_parse(const char *buf, size_t len, struct ms_smtp_reply *out, size_t *used)
{
    struct ms_smtp_reply r = {0};
    struct line l;
    size_t pos = 0, count = 0;
    int rc;

    *out = (struct ms_smtp_reply){0};
    *used = 0;
    if (!buf || !len) {
        rc = MS_EAGAIN;
        goto out;
    }

    /* Dry run: find the final line and enforce the caps before allocating. */
    for (;;) {
        if (pos >= MS_SMTP_MAX_REPLY) {
            rc = MS_ETOOBIG;
            goto out;
        }
        rc = find_line(buf, len, pos, count ? buf : NULL, &l);
        if (rc)
            goto out;
        pos += l.t.total;
        count++;
        if (l.final)
            break;
        if (count == MS_SMTP_MAX_LINES) { /* a continuation line announces one more */
            rc = MS_ETOOBIG;
            goto out;
        }
    }

    r.code = (buf[0] - '0') * 100 + (buf[1] - '0') * 10 + (buf[2] - '0');
    r.lines = calloc(count, sizeof *r.lines);
    if (!r.lines) {
        rc = MS_ENOMEM;
        goto out;
    }
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        find_line(buf, len, at, i ? buf : NULL, &l); /* succeeded in the dry run */
        at += l.t.total;
        if (i == 0 && l.t.len > 4) {
            size_t k = enhanced_len(buf + 4, l.t.len - 4, r.code);
            memcpy(r.enhanced, buf + 4, k); /* k <= 9 */
            r.enhanced[k] = '\0';
        }
        rc = line_text(buf, &l, &r, &r.lines[i]);
        if (rc)
            goto out;
        r.line_count++;
    }
    *out = r;
    r = (struct ms_smtp_reply){0}; /* transferred */
    *used = pos;
    rc = 1;
out:
    ms_smtp_reply_free(&r);
    return rc;
}

bool ms_smtp_may_complete(const char *buf, size_t len, size_t from)
{
    if (!buf || from >= len)
        return false;
    if (len >= MS_SMTP_MAX_REPLY)
        return true;     /* the reply cap decides now */
    size_t start = from; /* the start of the line that holds byte `from` */
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    const char *lf;
    while ((lf = memchr(buf + from, '\n', len - from)) != NULL) {
        const char *l = buf + start;
        size_t n = (size_t)(lf - l);
        bool continuation = n >= 4 && l[3] == '-' && check_head(l, 4, start ? buf : NULL) == 0;
        if (!continuation)
            return true; /* a final line, or one the parser refuses */
        start = from = (size_t)(lf - buf) + 1;
    }
    return false;
}

void ms_smtp_reply_free(struct ms_smtp_reply *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->line_count; i++)
        free(r->lines[i]);
    free(r->lines);
    *r = (struct ms_smtp_reply){0};
}

size_t ms_smtp_reply_text(const struct ms_smtp_reply *r, char *dst, size_t cap)
{
    size_t n = 0;
    if (!dst || !cap)
        return 0;
    for (size_t i = 0; r && i < r->line_count && n + 1 < cap; i++) {
        const char *t = r->lines[i];
        if (!*t)
            continue;
        if (n)
            dst[n++] = ' ';
        while (*t && n + 1 < cap)
            dst[n++] = *t++;
    }
    dst[n] = '\0';
    return n;
}
