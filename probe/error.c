#include "probe/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *ms_strerror(int code)
{
    switch (code) {
    case MS_OK: return "success";
    case MS_ENOMEM: return "out of memory";
    case MS_EINVAL: return "invalid argument";
    case MS_EPROTO: return "protocol violation";
    case MS_ETOOBIG: return "input exceeds a limit";
    case MS_EIO: return "input/output error";
    case MS_ECLOSED: return "connection closed by peer";
    case MS_ETIMEOUT: return "timed out";
    case MS_ETLS: return "TLS error";
    case MS_EDNS: return "name resolution failed";
    case MS_EAGAIN: return "incomplete input";
    case MS_ERESET: return "connection reset by peer";
    default: return "unknown error";
    }
}

int ms_error_set(struct ms_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}
