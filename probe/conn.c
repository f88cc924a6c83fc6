#include "probe/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <unistd.h>

int ms_conn_start(const struct sockaddr *addr, socklen_t len)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        return -errno;
    /* Commands are small and latency matters more than packet count. */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, addr, len) == 0 || errno == EINPROGRESS)
        return fd;
    int err = errno;
    close(fd);
    return -err;
}

int ms_conn_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

enum ms_failure ms_conn_failure(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return MS_FAILURE_TCP_REFUSED;
    case ETIMEDOUT:
        return MS_FAILURE_TCP_TIMEOUT;
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
        return MS_FAILURE_INTERNAL;
    default:
        return MS_FAILURE_TCP_UNREACHABLE; /* ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ... */
    }
}

void ms_conn_format_address(const struct sockaddr *addr, char *buf, size_t cap)
{
    const void *raw = addr->sa_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)addr)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)addr)->sin_addr;
    if (!inet_ntop(addr->sa_family, raw, buf, (socklen_t)cap))
        snprintf(buf, cap, "?");
}
