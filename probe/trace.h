/* The --trace transcript (stderr, or the request's sink): one line per protocol line or event,
 * stamped with seconds since the run began and the endpoint id, so parallel sessions stay readable.
 */
#ifndef MS_TRACE_H
#define MS_TRACE_H

#include <stddef.h>

#include "probe/request.h"

/* dir: "C:" (client), "S:" (server), "--" (event), "!!" (failure). text is raw bytes,
 * written sanitized to req->trace_sink (stderr when it has none). */
void ms_trace_write(const struct ms_request *req, double t0, const char *endpoint_id,
                    const char *dir, const char *text, size_t len);

#endif
