/* --tls-audit and the address pool (issue 15): the extra connections the engine runs beside
 * an endpoint's main session, and the facts they leave in its result.
 *
 * The audit plans one handshake per question (each protocol version; each weak suite class;
 * each key-exchange group and the server's preference; finite-field DHE; no SNI; and one
 * "best" handshake for the chain and OCSP stapling), each on its own connection that goes
 * only as far as TLS (implicit TLS: connect and handshake; STARTTLS: greeting, STARTTLS,
 * handshake). It asks DNS for the endpoint's TLSA records beside them. Its handshakes use
 * an SSL_CTX of their own (ms_tls_audit_context_new); the probe's context is untouched.
 *
 * The pool: every other address of a host with several gets a connection of its own (TLS,
 * greeting, capabilities; never a sign-in), summarised into ep->pool.members. */
#ifndef MS_AUDIT_H
#define MS_AUDIT_H

#include <openssl/ssl.h>
#include <stdbool.h>

#include "probe/result.h"

struct ms_session_env;
struct ms_audit;
struct ms_tls_probe;

/* Plan the audit of one endpoint into facts (owned by the caller's result). Probes this
 * OpenSSL cannot make are marked untestable at once. Returns NULL when out of memory. */
struct ms_audit *ms_audit_new(struct ms_tls_audit *facts, SSL_CTX *ctx);
void ms_audit_free(struct ms_audit *a);

/* The handshakes to run (each becomes a side connection with spec.tls_probe set). */
size_t ms_audit_probe_count(const struct ms_audit *a);
struct ms_tls_probe *ms_audit_probe_at(struct ms_audit *a, size_t k);
const char *ms_tls_probe_label(const struct ms_tls_probe *p); /* "audit-tls1.0" */

/* Ask for _PORT._tcp.HOST TLSA (counted in env->open_sessions until it is answered or
 * ms_audit_deadline ends it). Nothing is asked for an IP literal. */
void ms_audit_dane_start(struct ms_audit *a, struct ms_session_env *env, const char *host,
                         unsigned port);
/* The run's deadline: stop waiting for DNS. */
void ms_audit_deadline(struct ms_audit *a);

/* session.c: the handshake's context and settings; TLS is up (read what the handshake
 * says before the session closes). */
SSL_CTX *ms_tls_probe_ctx(const struct ms_tls_probe *p);
int ms_tls_probe_setup(const struct ms_tls_probe *p, SSL *ssl);
void ms_tls_probe_tls_up(struct ms_tls_probe *p, SSL *ssl, int64_t now);

/* engine.c, when the run ends: a probe's side connection ended with result side; then,
 * once every side is in, the conclusions that need all of them and the main session. */
void ms_audit_side_done(struct ms_tls_probe *p, const struct ms_endpoint_result *side,
                        const struct ms_endpoint_result *main);
void ms_audit_finish(struct ms_audit *a, const struct ms_endpoint_result *main);

/* Pool: what one address's connection saw (a side's result, or the main session's). */
void ms_pool_member_fill(struct ms_pool_member *m, const struct ms_endpoint_result *r);

#endif
