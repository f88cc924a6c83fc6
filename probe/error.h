/* Error codes shared by every module: actions return 0 or a negative MS_E* value. */
#ifndef MS_ERROR_H
#define MS_ERROR_H

enum {
    MS_OK = 0,
    MS_ENOMEM = -1,   /* an allocation failed */
    MS_EINVAL = -2,   /* bad argument or bad user input */
    MS_EPROTO = -3,   /* the peer sent something that breaks the protocol */
    MS_ETOOBIG = -4,  /* input exceeds a hard cap (line, literal, list, depth) */
    MS_EIO = -5,      /* a system call failed; see errno in the error struct */
    MS_ECLOSED = -6,  /* the peer closed the connection */
    MS_ETIMEOUT = -7, /* a phase or the whole run ran out of time */
    MS_ETLS = -8,     /* OpenSSL reported an error */
    MS_EDNS = -9,     /* name resolution failed */
    MS_EAGAIN = -10,  /* no complete unit yet; call again when more bytes arrive */
    MS_ERESET = -11,  /* the peer reset the connection (TCP RST) */
};

/* Details for a failed action, filled by the callee when the caller passes one. */
struct ms_error {
    int code;          /* the MS_E* value returned */
    char message[512]; /* one line, no secrets, printable ASCII */
};

/* Static English text for an MS_E* code (never NULL). */
const char *ms_strerror(int code);

/* Fill err (when not NULL) with code and a printf-style message; returns code. */
int ms_error_set(struct ms_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
