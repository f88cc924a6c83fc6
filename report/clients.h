/* Which mail programs can connect (issue 15, 1b): the data file report/clients.def judged
 * against an audited result. Pure: facts in, one verdict per program out. */
#ifndef MS_REPORT_CLIENTS_H
#define MS_REPORT_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/result.h"

enum ms_fact { MS_FACT_UNKNOWN, MS_FACT_YES, MS_FACT_NO };

struct ms_client {
    const char *name, *versions;
    enum ms_fact tls[4]; /* TLS 1.0, 1.1, 1.2, 1.3 */
    enum ms_fact sni;
    /* by enum ms_protocol; sending (submission) is not in clients.def yet: unknown */
    enum ms_fact implicit[MS_PROTOCOL_COUNT], starttls[MS_PROTOCOL_COUNT];
    enum ms_fact oauth2;
    const char *source;
};

extern const struct ms_client ms_clients[];
extern const size_t ms_client_count;

struct ms_client_verdict {
    enum ms_fact can; /* YES: can connect; NO: cannot; UNKNOWN: not known for sure */
    long endpoint;    /* the endpoint to use (YES), or the one the reason is about; -1 */
    char reason[240]; /* why not, or what is not known, in one line; "" for YES */
};

/* The matrix answers "can this program fetch mail here": it applies when an IMAP or POP3
 * endpoint was audited (not for sending alone). */
bool ms_clients_apply(const struct ms_result *r);

/* The verdict for ms_clients[k] on result r (meaningful when ms_clients_apply(r)). */
void ms_client_judge(const struct ms_result *r, size_t k, struct ms_client_verdict *out);
/* Does NAME (case-insensitive; a part of the name is enough) name ms_clients[k]? */
bool ms_client_matches(size_t k, const char *name);
/* --client NAME for the renderers (NULL: every program). */
extern const char *ms_client_filter;
const char *ms_fact_name(enum ms_fact f); /* "yes", "no", "unknown" */

#endif
