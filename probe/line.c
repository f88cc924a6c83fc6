#include "probe/line.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/loop.h"
#include "probe/tls.h"

#define MS_LINE_CHUNK 4096

void ms_line_init(struct ms_line *line, int fd, size_t in_max)
{
    *line = (struct ms_line){.fd = fd, .in_max = in_max};
}

void ms_line_free(struct ms_line *line)
{
    free(line->in);
    free(line->out);
    line->in = line->out = NULL;
    line->in_len = line->in_cap = line->out_len = line->out_off = line->out_cap = 0;
}

static int grow_input(struct ms_line *line)
{
    if (line->in_cap - line->in_len >= MS_LINE_CHUNK / 4)
        return 0;
    if (line->in_cap >= line->in_max)
        return line->in_len < line->in_cap ? 0 : MS_ETOOBIG;
    size_t cap = line->in_cap ? line->in_cap * 2 : MS_LINE_CHUNK;
    if (cap > line->in_max)
        cap = line->in_max;
    char *in = realloc(line->in, cap);
    if (!in)
        return MS_ENOMEM;
    line->in = in;
    line->in_cap = cap;
    return 0;
}

/* Map a failed SSL_read_ex/SSL_write_ex (ssl_err = SSL_get_error) to an MS_E* code. */
static int tls_io_error(int ssl_err, struct ms_error *err)
{
    switch (ssl_err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return MS_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return ms_error_set(err, MS_ECLOSED, "the server closed the TLS session");
    case SSL_ERROR_SYSCALL:
        if (errno == ECONNRESET)
            return ms_error_set(err, MS_ERESET, "the server reset the connection (TCP RST)");
        if (ERR_peek_error() == 0)
            return ms_error_set(err, MS_ECLOSED,
                                "the server closed the connection without TLS close_notify");
        break;
    default: break;
    }
    char why[200];
    ms_tls_describe_error(why, sizeof why);
    if (strstr(why, "unexpected eof"))
        return ms_error_set(err, MS_ECLOSED,
                            "the server closed the connection without TLS close_notify");
    return ms_error_set(err, MS_ETLS, "TLS error: %s", why);
}

int ms_line_fill(struct ms_line *line, struct ms_error *err)
{
    int rc = grow_input(line);
    if (rc < 0)
        return rc;
    size_t room = line->in_cap - line->in_len;
    if (line->ssl) {
        ERR_clear_error();
        errno = 0; /* SSL_ERROR_SYSCALL leaves the socket's error here */
        line->want_write_for_read = false;
        size_t got = 0;
        int r = SSL_read_ex(line->ssl, line->in + line->in_len, room, &got);
        if (r == 1) {
            line->in_len += got;
            return (int)got;
        }
        int ssl_err = SSL_get_error(line->ssl, r);
        line->want_write_for_read = ssl_err == SSL_ERROR_WANT_WRITE;
        return tls_io_error(ssl_err, err);
    }
    ssize_t n = recv(line->fd, line->in + line->in_len, room, 0);
    if (n > 0) {
        line->in_len += (size_t)n;
        return (int)n;
    }
    if (n == 0)
        return ms_error_set(err, MS_ECLOSED, "the server closed the connection");
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MS_EAGAIN;
    if (errno == ECONNRESET)
        return ms_error_set(err, MS_ERESET, "the server reset the connection (TCP RST)");
    return ms_error_set(err, MS_EIO, "receive failed: %s", strerror(errno));
}

void ms_line_consume(struct ms_line *line, size_t n)
{
    if (n >= line->in_len) {
        line->in_len = 0;
        return;
    }
    memmove(line->in, line->in + n, line->in_len - n);
    line->in_len -= n;
}

int ms_line_queue(struct ms_line *line, const char *data, size_t len)
{
    if (line->out_off == line->out_len)
        line->out_off = line->out_len = 0;
    if (line->out_cap - line->out_len < len) {
        size_t cap = line->out_cap ? line->out_cap : 512;
        while (cap - line->out_len < len)
            cap *= 2;
        char *out = realloc(line->out, cap);
        if (!out)
            return MS_ENOMEM;
        line->out = out;
        line->out_cap = cap;
    }
    memcpy(line->out + line->out_len, data, len);
    line->out_len += len;
    return 0;
}

int ms_line_flush(struct ms_line *line, struct ms_error *err)
{
    while (line->out_off < line->out_len) {
        size_t left = line->out_len - line->out_off;
        if (line->ssl) {
            ERR_clear_error();
            errno = 0;
            line->want_read_for_write = false;
            size_t sent = 0;
            int r = SSL_write_ex(line->ssl, line->out + line->out_off, left, &sent);
            if (r != 1) {
                int ssl_err = SSL_get_error(line->ssl, r);
                line->want_read_for_write = ssl_err == SSL_ERROR_WANT_READ;
                return tls_io_error(ssl_err, err);
            }
            line->out_off += sent;
            continue;
        }
        ssize_t n = send(line->fd, line->out + line->out_off, left, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return MS_EAGAIN;
            if (errno == ECONNRESET)
                return ms_error_set(err, MS_ERESET, "the server reset the connection (TCP RST)");
            if (errno == EPIPE)
                return ms_error_set(err, MS_ECLOSED, "the server closed the connection");
            return ms_error_set(err, MS_EIO, "send failed: %s", strerror(errno));
        }
        line->out_off += (size_t)n;
    }
    line->out_off = line->out_len = 0;
    return 0;
}

unsigned ms_line_interest(const struct ms_line *line)
{
    unsigned ev = MS_LOOP_READ;
    if (line->out_off < line->out_len || line->want_write_for_read)
        ev |= MS_LOOP_WRITE;
    return ev;
}
