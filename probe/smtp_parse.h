/* Pure SMTP reply parser (RFC 5321 section 4.2, enhanced status codes RFC 2034/3463):
 * bytes in, one reply out. No sockets, no state between calls: the caller keeps the
 * unconsumed bytes and calls again when more arrive.
 *
 * A reply is one or more lines "NNN-text" ending with "NNN text" (or "NNN" alone); every
 * line carries the same three-digit code (RFC 5321's Reply-code: 2-5, 0-5, 0-9). A bare
 * LF is accepted as a line end, as real servers send it. The parser decides as early as
 * the bytes allow: a line that cannot begin a reply line ("HTTP/1.1", "* OK", a NUL,
 * another code on a continuation line) is MS_EPROTO, a line or reply past its cap is
 * MS_ETOOBIG, both without waiting for the line end. So a prefix of the input either
 * waits (MS_EAGAIN) or gets exactly the answer the whole input gets. One call costs
 * O(len); a caller that calls again after every read (as the sessions do) rescans at most
 * MS_SMTP_MAX_REPLY bytes each time.
 *
 * Hard caps: a line is at most MS_SMTP_MAX_LINE bytes (without its line end), a reply at
 * most MS_SMTP_MAX_LINES lines and MS_SMTP_MAX_REPLY bytes (with line ends). */
#ifndef MS_SMTP_PARSE_H
#define MS_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define MS_SMTP_MAX_LINE 2048
#define MS_SMTP_MAX_LINES 128
#define MS_SMTP_MAX_REPLY (32 * 1024)
#define MS_SMTP_ENHANCED_MAX 11 /* "5.999.999" and a NUL fit */

struct ms_smtp_reply {
    int code; /* the three-digit reply code, 200..559 */
    /* RFC 3463 enhanced status code "class.subject.detail" at the start of the first
     * line's text ("5.7.8", "5.7.139"), when its class is the reply code's first digit;
     * "" when absent. */
    char enhanced[MS_SMTP_ENHANCED_MAX + 1];
    /* The text of every line, in order, without the code, the separator and the line end;
     * a leading enhanced status code equal to `enhanced` (and the spaces after it) is
     * removed from each line that carries it. May hold any byte but NUL and LF. */
    char **lines;
    size_t line_count; /* >= 1 */
};

/* Parse one reply from the len bytes at buf.
 * Returns 1 with *out filled and *used set to the bytes of the reply (line ends included),
 *         MS_EAGAIN when buf holds no complete reply yet,
 *         MS_EPROTO when the bytes cannot be an SMTP reply,
 *         MS_ETOOBIG when a cap is exceeded,
 *         MS_ENOMEM.
 * On every return except 1, *used is 0 and *out needs no freeing. */
int ms_smtp_parse(const char *buf, size_t len, struct ms_smtp_reply *out, size_t *used);

void ms_smtp_reply_free(struct ms_smtp_reply *r);

/* For a session that parsed buf[0..from) and got MS_EAGAIN, and now holds len bytes: can
 * the bytes from `from` on complete the reply? False only when every line they end is a
 * well-formed continuation line ("NNN-" with the reply's code), so ms_smtp_parse() would
 * still say MS_EAGAIN or report an error that can wait for the next line end or for
 * MS_SMTP_MAX_REPLY bytes (true from then on). Costs O(len - from) plus the line holding
 * `from`: re-parsing only when this says true keeps the session's cost linear however a
 * server slices its replies (struct ms_proto_ops.may_complete). */
bool ms_smtp_may_complete(const char *buf, size_t len, size_t from);

/* The reply's lines joined with single spaces into dst (capacity cap > 0, always
 * NUL-terminated; cut when it does not fit), as the words to quote. Returns the length
 * written. The bytes are as the server sent them: sanitize before storing (text.h). */
size_t ms_smtp_reply_text(const struct ms_smtp_reply *r, char *dst, size_t cap);

#endif
