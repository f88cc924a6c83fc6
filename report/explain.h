/* `mailscope --explain CODE`: a catalogue row for people (text) or scripts (JSON). */
#ifndef MS_EXPLAIN_H
#define MS_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

/* Print the row of code ("all": every row) to out. Returns 0, MS_EINVAL for an unknown
 * code, or MS_EIO / MS_ENOMEM. */
int ms_report_explain(FILE *out, const char *code, bool json);

#endif
