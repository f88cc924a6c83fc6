/* The text report's lines for issue 15's facts: an endpoint's TLS audit matrix and its
 * address pool. Private to report/text.c. */
#ifndef MS_REPORT_TEXT_AUDIT_H
#define MS_REPORT_TEXT_AUDIT_H

#include <stdio.h>

#include "probe/result.h"

void ms_text_audit(FILE *f, const struct ms_endpoint_result *ep);
void ms_text_pool(FILE *f, const struct ms_endpoint_result *ep);
/* "Mail programs": which can connect, when an endpoint was audited (--client narrows it). */
void ms_text_clients(FILE *f, const struct ms_result *r);

#endif
