/* Discovery: from a mail domain to the endpoints worth probing, the way a careful mail
 * client finds them: RFC 6186 / 8314 SRV records, MX hosts and conventional names, all
 * asked at once in the event loop. Endpoints start as soon as their host resolves. */
#ifndef MS_DISCOVER_H
#define MS_DISCOVER_H

#include "probe/request.h"
#include "probe/result.h"
#include "probe/session.h"

/* At most this many endpoints come from discovery; further candidates are listed as
 * dropped ("limit reached"). */
#define MS_DISCOVERY_MAX_ENDPOINTS 32
/* Distinct candidate hosts whose addresses are looked up. */
#define MS_DISCOVERY_MAX_HOSTS 12

struct ms_discover;

/* Start discovery of req->discover_domain, recording every question and answer in facts
 * and adding endpoints through env->add_endpoint. Counts as one open session in env until
 * it is done. Returns 0 or MS_ENOMEM. */
int ms_discover_start(struct ms_session_env *env, struct ms_discovery *facts,
                      struct ms_discover **out);

/* The run's deadline passed: record the questions still open as timed out and stop. */
void ms_discover_abort(struct ms_discover *d);

/* Free after the resolver is gone (its callbacks refer to d). */
void ms_discover_free(struct ms_discover *d);

#endif
