/* The JSON report (jansson). Field names are API: see report/schema.json. */
#ifndef MS_REPORT_JSON_H
#define MS_REPORT_JSON_H

#include <stdio.h>

#include "probe/result.h"
#include "report/assess.h"

#define MS_SCHEMA_VERSION 2

/* Write the report as one JSON document (indented, ending with a newline) to out.
 * Returns 0, MS_ENOMEM (nothing was written), or MS_EIO. */
int ms_report_json(FILE *out, const struct ms_result *result, const struct ms_assessment *a);

/* The same document on one line (JSON Lines), for one target of many. */
int ms_report_json_line(FILE *out, const struct ms_result *result, const struct ms_assessment *a);

/* A streamed check (`mailscope serve`, Accept: application/x-ndjson), one line per event:
 * an endpoint's facts as soon as it finishes - the report's endpoint object without
 * "status", which is judged with the whole result:
 *   {"event":"endpoint","index":N,"endpoint":{...}}
 * and at the end the whole report:
 *   {"event":"report","report":{...}}
 * Returns 0, MS_ENOMEM or MS_EIO. */
int ms_report_json_endpoint_event(FILE *out, const struct ms_result *result, size_t index);
int ms_report_json_report_event(FILE *out, const struct ms_result *result,
                                const struct ms_assessment *a);

#endif
