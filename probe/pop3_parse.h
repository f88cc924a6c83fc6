/* Pure POP3 response parser (RFC 1939, 2449, 3206, 5034): bytes in, one response out.
 * The caller says whether the command it sent expects a multi-line answer (CAPA, LIST,
 * UIDL without argument, TOP): only then does "+OK" begin a block ended by ".".
 * Lines are dot-unstuffed. No sockets, no state between calls.
 *
 * Hard caps: a line is at most MS_POP3_MAX_LINE bytes, a multi-line block at most
 * MS_POP3_MAX_LINES lines and MS_POP3_MAX_RESPONSE bytes; more is MS_ETOOBIG. */
#ifndef MS_POP3_PARSE_H
#define MS_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define MS_POP3_MAX_LINE 8192
#define MS_POP3_MAX_LINES 4096
#define MS_POP3_MAX_RESPONSE (256 * 1024)

enum ms_pop3_status {
    MS_POP3_OK,       /* "+OK" */
    MS_POP3_ERR,      /* "-ERR" */
    MS_POP3_CONTINUE, /* "+ " or "+" alone: a SASL challenge (RFC 5034) */
};

struct ms_pop3_response {
    enum ms_pop3_status status;
    char *code;   /* RFC 2449 extended code without brackets ("SYS/TEMP", "AUTH",
                     "IN-USE", "LOGIN-DELAY"), or NULL */
    char *text;   /* rest of the first line after status and code; never NULL */
    char **lines; /* multi-line body, dot-unstuffed, without line ends; NULL when none */
    size_t line_count;
};

/* Parse one response from buf. multiline: the command expects a multi-line answer.
 * Returns 1 with *out filled and *consumed set, MS_EAGAIN (need more bytes; nothing
 * allocated), MS_EPROTO (not a POP3 response: e.g. a first line not starting with +OK,
 * -ERR or +), MS_ETOOBIG, or MS_ENOMEM. A bare LF is accepted as a line end. */
int ms_pop3_parse(const char *buf, size_t len, bool multiline, struct ms_pop3_response *out,
                  size_t *consumed);

void ms_pop3_response_free(struct ms_pop3_response *r);

#endif
