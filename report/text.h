/* The human report: verdict per protocol, one block per endpoint, findings worst first. */
#ifndef MS_REPORT_TEXT_H
#define MS_REPORT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "probe/result.h"
#include "report/assess.h"

/* Write the text report to out; color adds ANSI colours (the caller decides: a terminal
 * and no NO_COLOR). Returns 0 or MS_EIO. */
int ms_report_text(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                   bool color);

#endif
