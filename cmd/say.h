/* Messages to the person running mailscope. Every one is sanitised like the reports
 * (probe/text.c: bytes outside printable ASCII become \xHH), since it may quote a target
 * from the command line, a targets-file line or a file name, and a terminal acts on the
 * escape sequences (OSC, CSI, BEL) such text can hold. */
#ifndef MS_SAY_H
#define MS_SAY_H

#include <stddef.h>

/* "mailscope: <message>\n" on stderr, the message formatted then sanitised. */
void ms_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* text, sanitised, into dst (capacity cap > 0). */
void ms_say_clean(char *dst, size_t cap, const char *text);

#endif
