/* Making server-supplied bytes safe to store, print and put in JSON. */
#ifndef MS_TEXT_H
#define MS_TEXT_H

#include <stddef.h>

/* Copy len bytes of src into dst (capacity cap > 0, always NUL-terminated) as printable
 * ASCII: bytes outside 0x20..0x7e become "\xHH". Output that does not fit is cut and
 * ends with "..." so a reader sees it was cut. Returns the length written. */
size_t ms_text_sanitize(char *dst, size_t cap, const char *src, size_t len);

#endif
