/* What mail programs fetch to set themselves up (issue 16), fetched the way they fetch it,
 * in the event loop beside discovery's DNS questions: Thunderbird's autoconfig (the
 * provider's https and http URLs, an ISPDB-like --autoconfig-db, the MX host's domain) and
 * Microsoft Autodiscover POX (POST to the domain and to autodiscover.<domain>, the http
 * redirect method, SRV _autodiscover._tcp). Each source's facts go into struct
 * ms_published; the servers a source names are handed to discovery as candidates. Never
 * sends credentials. */
#ifndef MS_AUTOCONFIG_H
#define MS_AUTOCONFIG_H

#include "probe/result.h"
#include "probe/session.h"

struct ms_autoconfig;

struct ms_autoconfig_hooks {
    /* A source finished with settings (src->servers): add them as candidates. */
    void (*published)(void *arg, const struct ms_pub_source *src);
    /* Every source has finished (or the run's deadline came): discovery may finish. */
    void (*done)(void *arg);
    void *arg;
};

/* Start fetching for domain (user: the address's local part, "" for a bare domain) into
 * facts. Returns 0 or MS_ENOMEM (nothing is left running). Hooks are called from the loop,
 * never from inside this call. */
int ms_autoconfig_start(struct ms_session_env *env, struct ms_published *facts, const char *domain,
                        const char *user, const struct ms_autoconfig_hooks *hooks,
                        struct ms_autoconfig **out);

/* Discovery learned the domain's best MX host (NULL: none): start the MX-based sources. */
void ms_autoconfig_mx(struct ms_autoconfig *ac, const char *mx_host);

/* True while some source has not finished. */
bool ms_autoconfig_busy(const struct ms_autoconfig *ac);

/* The run's deadline passed: stop every fetch, recording it as timed out. */
void ms_autoconfig_abort(struct ms_autoconfig *ac);

/* Free (after the resolver's callbacks can no longer reach it: they find orphaned tickets). */
void ms_autoconfig_free(struct ms_autoconfig *ac);

#endif
