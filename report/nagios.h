/* Monitoring Plugins output: one status line with performance data, then the long output. */
#ifndef MS_REPORT_NAGIOS_H
#define MS_REPORT_NAGIOS_H

#include <stdio.h>

#include "probe/result.h"
#include "report/assess.h"
#include "report/require.h"

/* Write the plugin output. Returns 0 or MS_EIO. */
int ms_report_nagios(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                     const struct ms_thresholds *t);

#endif
