/* OpenSSL: one client context per run, one SSL per connection, non-blocking handshakes,
 * and the facts a report needs about the negotiated session and the certificate. */
#ifndef MS_TLS_H
#define MS_TLS_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "probe/error.h"
#include "probe/result.h"

/* A client context that trusts the system store plus ca_file (may be NULL). It accepts
 * every protocol version OpenSSL can speak, so an outdated server is reported, not lost.
 * Returns 0, MS_ENOMEM or MS_ETLS (with err->message naming the bad file). */
int ms_tls_context_new(const char *ca_file, SSL_CTX **out, struct ms_error *err);

/* Load the system trust store into ctx once (later calls do nothing). The engine calls it
 * when the loop first idles, so the parsing (~15 ms for a CA bundle) overlaps the first
 * round trips; ms_tls_handshake calls it before its first step, in case a connection
 * got there first (loopback). */
void ms_tls_load_system_store(SSL_CTX *ctx);

/* A client SSL on fd for host: SNI (not for IP literals), host-name checks, and every
 * verification error recorded into facts (which must outlive the SSL) instead of aborting
 * the handshake, so the probe can read capabilities and report all problems at once.
 * Returns 0 or MS_ENOMEM. */
int ms_tls_new(SSL_CTX *ctx, int fd, const char *host, struct ms_tls_facts *facts, SSL **out);

/* Advance the handshake. Returns 0 when done, MS_EAGAIN with *want (MS_LOOP_READ or
 * MS_LOOP_WRITE) when it needs the socket, MS_ECLOSED when the peer closed, or MS_ETLS
 * with err->message saying why (alert, protocol error). */
int ms_tls_handshake(SSL *ssl, unsigned *want, struct ms_error *err);

/* Fill facts after a completed handshake: version, cipher, verification, certificate.
 * now: epoch seconds of the probe's start (for days_left). */
void ms_tls_collect_facts(SSL *ssl, const char *host, int64_t now, struct ms_tls_facts *facts);

/* The TLS audit's context (--tls-audit): like ms_tls_context_new, with every protocol
 * version this OpenSSL has and security level 0, for the audit's handshakes only. */
int ms_tls_audit_context_new(const char *ca_file, SSL_CTX **out, struct ms_error *err);

/* The certificate's SHA-256 fingerprint, "AA:BB:..." upper-case hex (cap >= 96), "" on error. */
void ms_tls_fingerprint(X509 *cert, char *out, size_t cap);

/* name in one-line RFC 2253 form, sanitized, into out. */
void ms_tls_format_name(const X509_NAME *name, char *out, size_t cap);

/* Describe the OpenSSL error queue (and clear it) into buf. */
void ms_tls_describe_error(char *buf, size_t cap);

#endif
