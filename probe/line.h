/* Buffered, bounded I/O on one connection, plaintext or TLS: what both protocol state
 * machines share (curl's "pingpong" idea). Framing is left to the pure parsers. */
#ifndef MS_LINE_H
#define MS_LINE_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "probe/error.h"

struct ms_line {
    int fd;
    SSL *ssl; /* NULL while plaintext; not owned */
    char *in; /* received, not yet consumed bytes */
    size_t in_len, in_cap;
    size_t in_max; /* hard cap: a response larger than this is an error */
    char *out;     /* queued, not yet sent bytes */
    size_t out_len, out_off, out_cap;
    bool want_write_for_read; /* TLS: a read needs the socket writable */
    bool want_read_for_write; /* TLS: a write needs the socket readable */
};

void ms_line_init(struct ms_line *line, int fd, size_t in_max);
void ms_line_free(struct ms_line *line);

/* Read what the socket has into the buffer. Returns the number of bytes added (>0),
 * MS_EAGAIN (nothing now), MS_ECLOSED, MS_ETOOBIG (buffer full at in_max), MS_EIO or
 * MS_ETLS (err says why). */
int ms_line_fill(struct ms_line *line, struct ms_error *err);

/* Drop the first n buffered input bytes. */
void ms_line_consume(struct ms_line *line, size_t n);

/* Queue bytes for sending. Returns 0 or MS_ENOMEM. */
int ms_line_queue(struct ms_line *line, const char *data, size_t len);

/* Send queued bytes. Returns 0 when all are sent, MS_EAGAIN when some remain,
 * MS_ECLOSED, MS_EIO or MS_ETLS. */
int ms_line_flush(struct ms_line *line, struct ms_error *err);

/* MS_LOOP_READ/WRITE the loop should watch for, given what is queued. */
unsigned ms_line_interest(const struct ms_line *line);

#endif
