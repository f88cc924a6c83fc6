/* Pure IMAP4 response parser (RFC 9051 / 3501 syntax, leniently): bytes in, one complete
 * response out. No sockets, no state between calls: the caller keeps unconsumed bytes and
 * calls again when more arrive (the hiredis reader model). Driven by unit tests and fuzzers.
 *
 * Hard caps: a response (all its lines and literals) is at most MS_IMAP_MAX_RESPONSE bytes,
 * a literal at most MS_IMAP_MAX_LITERAL, a value tree at most MS_IMAP_MAX_DEPTH deep and
 * MS_IMAP_MAX_VALUES values in all. Exceeding one is MS_ETOOBIG, decided as soon as it is
 * visible (a literal announcing 2^63 bytes fails at once, without waiting for the bytes). */
#ifndef MS_IMAP_PARSE_H
#define MS_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_IMAP_MAX_RESPONSE (64 * 1024)
#define MS_IMAP_MAX_LITERAL (32 * 1024)
#define MS_IMAP_MAX_DEPTH 16
#define MS_IMAP_MAX_VALUES 4096
#define MS_IMAP_MAX_TAG 64

enum ms_imap_kind {
    MS_IMAP_UNTAGGED,     /* "* ..." */
    MS_IMAP_TAGGED,       /* "A1 OK ..." */
    MS_IMAP_CONTINUATION, /* "+ ..." */
};

enum ms_imap_status {
    MS_IMAP_STATUS_NONE, /* not a status response (e.g. "* CAPABILITY ...", "* 3 EXISTS") */
    MS_IMAP_STATUS_OK,
    MS_IMAP_STATUS_NO,
    MS_IMAP_STATUS_BAD,
    MS_IMAP_STATUS_BYE,
    MS_IMAP_STATUS_PREAUTH,
};

enum ms_imap_value_type {
    MS_IMAP_VALUE_ATOM,   /* atom or number, as sent: IMAP4rev1, AUTH=PLAIN, \Sent, 42 */
    MS_IMAP_VALUE_STRING, /* quoted string (unescaped) or literal {n} (raw bytes) */
    MS_IMAP_VALUE_NIL,
    MS_IMAP_VALUE_LIST, /* ( ... ) */
};

struct ms_imap_value {
    enum ms_imap_value_type type;
    char *str; /* ATOM/STRING: owned, NUL-terminated (may hold NULs: use len) */
    size_t len;
    struct ms_imap_value *items; /* LIST: owned array */
    size_t count;
};

struct ms_imap_response {
    enum ms_imap_kind kind;
    char tag[MS_IMAP_MAX_TAG + 1]; /* TAGGED only */
    enum ms_imap_status status;    /* tagged, or untagged OK/NO/BAD/BYE/PREAUTH */
    /* Response code of a status response: "[CODE args]". code is NULL when absent. */
    char *code;                     /* e.g. "CAPABILITY", "ALERT", "AUTHENTICATIONFAILED" */
    struct ms_imap_value code_args; /* LIST of the values after the code name (may be empty) */
    char *text;                     /* human text after the status and code (continuation:
                                       everything after "+ "); never NULL, may be "" */
    /* Untagged data responses ("* CAPABILITY a b", "* 3 EXISTS", "* LIST (...) "/" x"): */
    bool has_number; /* "* <number> KEYWORD" */
    uint32_t number;
    char *keyword;             /* as sent ("CAPABILITY", "EXISTS"); NULL for status responses */
    struct ms_imap_value data; /* LIST of the values after the keyword */
};

/* Parse one response from the len bytes at buf.
 * Returns 1 with *out filled and *consumed set to the bytes used (including the final CRLF;
 *           a bare LF is accepted as a line end),
 *         MS_EAGAIN when buf holds no complete response yet (nothing allocated),
 *         MS_EPROTO when the bytes cannot be an IMAP response,
 *         MS_ETOOBIG when a cap is exceeded,
 *         MS_ENOMEM.
 * On every return except 1, *out needs no freeing. */
int ms_imap_parse(const char *buf, size_t len, struct ms_imap_response *out, size_t *consumed);

void ms_imap_response_free(struct ms_imap_response *r);

/* Case-insensitive ASCII comparison of an ATOM/STRING value with s. */
bool ms_imap_value_is(const struct ms_imap_value *v, const char *s);

#endif
