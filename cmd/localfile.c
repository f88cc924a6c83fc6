#include "cmd/localfile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ms_localfile_kind(int fd, const char *path, const char *what, enum ms_file_kind *kind,
                      struct ms_error *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return ms_error_set(err, MS_EINVAL, "cannot read the %s file '%s': %s", what, path,
                            strerror(errno));
    if (S_ISDIR(st.st_mode))
        return ms_error_set(err, MS_EINVAL, "cannot read the %s file '%s': %s", what, path,
                            strerror(EISDIR));
    *kind = S_ISREG(st.st_mode) ? MS_FILE_REGULAR : MS_FILE_STREAM;
    return 0;
}

int ms_localfile_open(const char *path, const char *what, enum ms_file_kind *kind,
                      struct ms_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ms_error_set(err, MS_EINVAL, "cannot read the %s file '%s': %s", what, path,
                            strerror(errno));
    int rc = ms_localfile_kind(fd, path, what, kind, err);
    if (rc == 0 && *kind == MS_FILE_REGULAR) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
            rc = ms_error_set(err, MS_EINVAL, "cannot read the %s file '%s': %s", what, path,
                              strerror(errno));
    }
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int ms_localfile_check_regular(const char *path, const char *what, struct ms_error *err)
{
    enum ms_file_kind kind;
    int fd = ms_localfile_open(path, what, &kind, err);
    if (fd < 0)
        return fd;
    close(fd);
    if (kind != MS_FILE_REGULAR)
        return ms_error_set(err, MS_EINVAL,
                            "the %s file '%s' is not a regular file (a FIFO, pipe or device)", what,
                            path);
    return 0;
}

int ms_localfile_read_line(int fd, enum ms_file_kind kind, char *buf, size_t cap, size_t *len,
                           double wait_s, const char *path, const char *what, struct ms_error *err)
{
    double end = now_s() + wait_s;
    *len = 0;
    while (*len < cap && !memchr(buf, '\n', *len)) {
        if (kind == MS_FILE_STREAM) {
            double left = end - now_s();
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int n = left > 0 ? poll(&p, 1, (int)(left * 1000.0) + 1) : 0;
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return ms_error_set(err, MS_EINVAL, "cannot read the %s file '%s': %s", what, path,
                                    strerror(errno));
            if (n == 0)
                return ms_error_set(err, MS_EINVAL,
                                    "nothing came from the %s file '%s' within %g s (--deadline):"
                                    " a FIFO nobody writes to?",
                                    what, path, wait_s);
        }
        ssize_t got = read(fd, buf + *len, cap - *len);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got < 0)
            return ms_error_set(err, MS_EINVAL, "cannot read the %s file '%s': %s", what, path,
                                strerror(errno));
        if (got == 0)
            break;
        *len += (size_t)got;
    }
    return 0;
}
