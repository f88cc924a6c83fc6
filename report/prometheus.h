/* Prometheus text exposition (format 0.0.4) of one or many runs, e.g. for the
 * node_exporter textfile collector. Families are grouped, so series from many targets are
 * collected first and written once at the end. */
#ifndef MS_REPORT_PROMETHEUS_H
#define MS_REPORT_PROMETHEUS_H

#include <stdio.h>

#include "probe/result.h"
#include "report/assess.h"

struct ms_prom;

/* Returns NULL when out of memory. */
struct ms_prom *ms_prom_new(void);

/* Add one run's series. Returns 0 or MS_ENOMEM; then p is as it was before the call (none
 * of the run's series, its target not remembered), so p can still be written or added to. */
int ms_prom_add(struct ms_prom *p, const struct ms_result *result, const struct ms_assessment *a);

/* How many results were left out because their target had been added already. */
size_t ms_prom_duplicates(const struct ms_prom *p);

/* Write every family with its HELP and TYPE lines. Returns 0 or MS_EIO. */
int ms_prom_write(struct ms_prom *p, FILE *out);

void ms_prom_free(struct ms_prom *p);

/* One run as a `mailscope serve` /probe answer, in blackbox_exporter's convention (so its
 * dashboards and alert rules carry over): probe_success (1 when the run's status is OK or
 * WARNING, 0 when CRITICAL or UNKNOWN), probe_duration_seconds (the whole run), then the
 * families of --format prometheus. Returns 0, MS_ENOMEM or MS_EIO. */
int ms_prom_write_probe(FILE *out, const struct ms_result *result, const struct ms_assessment *a);

#endif
