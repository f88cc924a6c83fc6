/* The --trace transcript on stderr: one line per protocol line or event, stamped with
 * seconds since the run began and the endpoint id, so parallel sessions stay readable. */
#ifndef MS_TRACE_H
#define MS_TRACE_H

#include <stddef.h>

/* dir: "C:" (client), "S:" (server), "--" (event), "!!" (failure). text is raw bytes,
 * printed sanitized. */
void ms_trace_write(double t0, const char *endpoint_id, const char *dir, const char *text,
                    size_t len);

#endif
