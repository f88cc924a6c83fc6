#include "probe/trace.h"

#include <stdio.h>

#include "probe/loop.h"
#include "probe/redact.h"
#include "probe/text.h"

void ms_trace_write(const struct ms_request *req, double t0, const char *endpoint_id,
                    const char *dir, const char *text, size_t len)
{
    char clean[1024], line[1400];
    ms_text_sanitize(clean, sizeof clean, text, len);
    ms_redact(req->redactor, clean, sizeof clean); /* a server echoing the secret */
    int n = snprintf(line, sizeof line, "[%8.3f] %s %s %s", ms_loop_now() - t0, endpoint_id, dir,
                     clean);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (req->trace_sink)
        req->trace_sink(req->trace_arg, line, used);
    else
        fprintf(stderr, "%s\n", line);
}
