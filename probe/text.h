/* Making server-supplied bytes safe to store, print and put in JSON. */
#ifndef MS_TEXT_H
#define MS_TEXT_H

#include <stddef.h>

/* Copy len bytes of src into dst (capacity cap > 0, always NUL-terminated) as printable
 * ASCII: bytes outside 0x20..0x7e become "\xHH". Output that does not fit is cut and
 * ends with "..." so a reader sees it was cut. Returns the length written. */
size_t ms_text_sanitize(char *dst, size_t cap, const char *src, size_t len);

/* One line of a line-based response (POP3, SMTP) inside a buffer. */
struct ms_text_line {
    size_t start; /* offset of the first byte */
    size_t len;   /* content length, without CRLF / LF */
    size_t total; /* bytes including the line end */
};

/* The line starting at pos of the len bytes at buf, for a response that may hold at most
 * max_total bytes in all (pos < max_total) and lines of at most max_line bytes. A bare LF
 * ends a line too. Decides as early as the bytes allow: a NUL in the line is MS_EPROTO, a
 * line past max_line or past max_total is MS_ETOOBIG even before its LF; otherwise an
 * unfinished line is MS_EAGAIN. Returns 0 with *l filled. One call costs O(max_line). */
int ms_text_find_line(const char *buf, size_t len, size_t pos, size_t max_line, size_t max_total,
                      struct ms_text_line *l);

/* A NUL-terminated copy of the n bytes at s in *out. Returns 0 or MS_ENOMEM. */
int ms_text_dup(const char *s, size_t n, char **out);

#endif
