#include "probe/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/error.h"

size_t ms_text_sanitize(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        size_t need = (c >= 0x20 && c <= 0x7e) ? 1 : 4;
        if (out + need + 1 > cap) {
            if (cap >= 4) {
                out = out > cap - 4 ? cap - 4 : out;
                memcpy(dst + out, "...", 3);
                out += 3;
            }
            break;
        }
        if (need == 1) {
            dst[out++] = (char)c;
        } else {
            dst[out++] = '\\';
            dst[out++] = 'x';
            dst[out++] = hex[c >> 4];
            dst[out++] = hex[c & 15];
        }
    }
    dst[out] = '\0';
    return out;
}

int ms_text_find_line(const char *buf, size_t len, size_t pos, size_t max_line, size_t max_total,
                      struct ms_text_line *l)
{
    const char *s = buf + pos;
    size_t avail = len - pos;
    size_t room = max_total - pos;
    size_t scan = avail;
    if (scan > max_line + 2)
        scan = max_line + 2; /* longest line: content + CRLF */
    if (scan > room)
        scan = room;
    const char *lf = memchr(s, '\n', scan);
    size_t n = lf ? (size_t)(lf - s) : scan;
    if (memchr(s, '\0', n))
        return MS_EPROTO;
    if (!lf) /* a shorter scan than avail means a cap cut it */
        return scan == max_line + 2 || scan == room ? MS_ETOOBIG : MS_EAGAIN;
    l->start = pos;
    l->total = n + 1;
    if (n && s[n - 1] == '\r')
        n--;
    if (n > max_line)
        return MS_ETOOBIG;
    l->len = n;
    return 0;
}

int ms_text_dup(const char *s, size_t n, char **out)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return MS_ENOMEM;
    memcpy(copy, s, n);
    copy[n] = '\0';
    *out = copy;
    return 0;
}
