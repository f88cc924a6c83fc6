/* Non-blocking TCP connect helpers. */
#ifndef MS_CONN_H
#define MS_CONN_H

#include <stddef.h>
#include <sys/socket.h>

#include "probe/result.h"

/* Start a non-blocking connect. Returns a socket fd (connect in progress or done) or a
 * negative errno value when the attempt failed at once. */
int ms_conn_start(const struct sockaddr *addr, socklen_t len);

/* The outcome of a connect that became writable: 0 or a positive errno value. */
int ms_conn_result(int fd);

/* What a connect errno means for the report. */
enum ms_failure ms_conn_failure(int err);

/* "127.0.0.1" / "::1" for addr, into buf. */
void ms_conn_format_address(const struct sockaddr *addr, char *buf, size_t cap);

#endif
