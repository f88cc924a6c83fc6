/* The JSON of issue 15's facts: an endpoint's "tls_audit" and "pool" objects (schema.json
 * $defs tls_audit and pool). Private to report/json.c. */
#ifndef MS_REPORT_JSON_AUDIT_H
#define MS_REPORT_JSON_AUDIT_H

#include <jansson.h>

#include "probe/result.h"

/* null when the endpoint was not audited; NULL when out of memory. */
json_t *ms_json_tls_audit(const struct ms_endpoint_result *ep);
/* null when the host has one address; NULL when out of memory. */
json_t *ms_json_pool(const struct ms_endpoint_result *ep);

/* The mail programs and whether each can connect (--client narrows it); null when no
 * endpoint was audited; NULL when out of memory. */
json_t *ms_json_clients(const struct ms_result *r);

const char *ms_audit_outcome_name(enum ms_audit_outcome o); /* "accepted", ... */

#endif
