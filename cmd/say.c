#include "cmd/say.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe/text.h"

void ms_say_clean(char *dst, size_t cap, const char *text)
{
    ms_text_sanitize(dst, cap, text, strlen(text));
}

void ms_say(const char *fmt, ...)
{
    char raw[2048], clean[4 * sizeof raw];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    ms_say_clean(clean, sizeof clean, raw);
    fprintf(stderr, "mailscope: %s\n", clean);
}
