#include "probe/trace.h"

#include <stdio.h>

#include "probe/loop.h"
#include "probe/text.h"

void ms_trace_write(double t0, const char *endpoint_id, const char *dir, const char *text,
                    size_t len)
{
    char clean[1024];
    ms_text_sanitize(clean, sizeof clean, text, len);
    fprintf(stderr, "[%8.3f] %s %s %s\n", ms_loop_now() - t0, endpoint_id, dir, clean);
}
