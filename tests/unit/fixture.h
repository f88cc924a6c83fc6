/* Hand-built results shared by the unit tests of the assessor, the requirement language and
 * the renderers (test_assess.c, test_summary.c, test_require.c, test_recommend.c,
 * test_report_json.c). Each test file adds its own details on top (a different greeting,
 * other capabilities, a certificate problem) right after these builders.
 *
 * The builders check every allocation with cmocka assertions, so they may only be called
 * from a running cmocka test. Everything they build is freed by ms_result_free(). */
#ifndef MS_TEST_FIXTURE_H
#define MS_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/result.h"
#include "report/assess.h"

#define HOST "mail.example.com"
#define NOW 1767225600 /* 2026-01-01T00:00:00Z: every result starts then */
#define DAY 86400

enum { I143, I993, P110, P995 }; /* endpoint order of fx_bare_host() */
enum { S465, S587 };             /* endpoint order of fx_submission_host() */

/* The capabilities fx_healthy_endpoint() reads after TLS (NULL-terminated). */
extern const char *const fx_imap_caps_tls[];
extern const char *const fx_pop3_caps_tls[];
/* What a Postfix submission service says to EHLO before TLS (STARTTLS, no AUTH) and after
 * (AUTH PLAIN LOGIN, SIZE 26214400 = 25 MiB), as tests/servers/postfix.sh's listeners do. */
extern const char *const fx_smtp_caps_pre_tls[];
extern const char *const fx_smtp_caps_tls[];

/* Append each string of the NULL-terminated items (at most MS_MAX_CAPABILITIES in all). */
void fx_add_strs(struct ms_strlist *list, const char *const *items);

/* Append one string. */
void fx_add_str(struct ms_strlist *list, const char *item);

/* Replace the list's strings with the NULL-terminated items. */
void fx_set_strs(struct ms_strlist *list, const char *const *items);

/* An empty result for HOST that started at NOW, with n zeroed endpoints for the caller to
 * fill (none when n is 0). No protocol is wanted yet. */
void fx_result(struct ms_result *r, size_t n);

/* A healthy endpoint on HOST: address 192.0.2.10, a greeting, the capabilities of a typical
 * Dovecot before (STARTTLS only) and after TLS, TLS 1.3 with a verified certificate for
 * HOST valid for another 365 days, the session run to the end, and the account facts as
 * probe/session.c starts every endpoint (fx_account_unknown). ep is filled, not cleared. */
void fx_healthy_endpoint(struct ms_endpoint_result *ep, enum ms_protocol p, enum ms_security s,
                         uint16_t port);

/* Make a healthy endpoint look like a Dovecot with an IPv6 address too (2001:db8::10):
 * its greeting and tagged STARTTLS answer, and these capabilities before TLS (STARTTLS
 * endpoints only) and after it. */
void fx_as_dovecot(struct ms_endpoint_result *ep, const char *const *caps_before_tls,
                   const char *const *caps_after_tls);

/* The four endpoints of a bare host (I143, I993, P110, P995), all healthy; with
 * credentials, fx_credentials() too. */
void fx_bare_host(struct ms_result *r, bool credentials);

/* Credentials given for alice: every endpoint of fx_bare_host() wanted sign-in, 993 and 995
 * were chosen, and 143 and 110 left it to them. Nothing was sent yet (fx_answer_auth). */
void fx_credentials(struct ms_result *r);

/* Credentials were not sent on ep: the probe's typed reason and its words. */
void fx_not_attempted(struct ms_endpoint_result *ep, enum ms_auth_skip skip, const char *words);

/* The server's verdict on the credentials sent on ep: ok when status is "OK" or "+OK". */
void fx_answer_auth(struct ms_endpoint_result *ep, const char *mechanism, const char *status,
                    const char *code, const char *text);

/* fx_bare_host() with credentials, signed in as alice: IMAP works on 993 (account read:
 * four folders, namespaces, quota 2048 of 10240 KB), POP3 on 995 refuses the account with
 * Dovecot's nologin reason; 143 and 110 left sign-in to them; the injection test found 110
 * vulnerable and 143 safe. r holds the four endpoints of fx_bare_host() (any details). */
void fx_signed_in(struct ms_result *r);

/* Discovery was performed for alice@example.com (41.26 ms), with room for 8 queries and 8
 * candidates for the caller to fill. */
void fx_discovery(struct ms_result *r);

/* The account facts nobody has read yet: every count -1 (unknown), EXPIRE -2 (not said). */
void fx_account_unknown(struct ms_account_facts *account);

/* Give ep another host name (and the id that goes with it); the certificate stays. */
void fx_set_host(struct ms_endpoint_result *ep, const char *host);

/* The certificate's alternative names become DNS:host alone. */
void fx_set_san(struct ms_endpoint_result *ep, const char *host);

/* The handshake completed but the certificate did not verify: the n OpenSSL X509_V_ERR_*
 * values in errors, and text for the first. */
void fx_bad_cert(struct ms_endpoint_result *ep, const int *errors, size_t n, const char *text);

/* The session stopped at phase with failure and msg: the facts of later phases were never
 * gathered (what the probe leaves behind). */
void fx_fail_at(struct ms_endpoint_result *ep, enum ms_failure failure, enum ms_phase phase,
                const char *msg);

/* Append a folder to an account's LIST. */
void fx_folder(struct ms_account_facts *account, const char *name, const char *special_use,
               bool noselect);

/* The finding with code about endpoint idx (-1: about none), or fail the test. */
const struct ms_finding *fx_find(const struct ms_assessment *a, const char *code, long idx);

/* Free an assessment and its result. */
void fx_done(struct ms_result *r, struct ms_assessment *a);

/* SMTP submission on HOST as `--protocols submission` probes it (issue 14): S465 (implicit
 * TLS) and S587 (STARTTLS), both healthy Postfix endpoints (fx_smtp_caps_*, greeting
 * "220 HOST ESMTP Postfix"). With credentials, alice's sign-in is wanted, S465 was chosen
 * and S587 left it to it; nothing was answered yet (fx_answer_auth with an SMTP status). */
void fx_submission_host(struct ms_result *r, bool credentials);

/* One healthy SMTP submission endpoint (as in fx_submission_host), ep filled, not cleared. */
void fx_submission_endpoint(struct ms_endpoint_result *ep, enum ms_security s, uint16_t port);

/* The SMTP server's answer to AUTH on ep: the reply code ("235" signs in), the enhanced
 * status code ("2.7.0", "" for none) and the words after it. */
void fx_answer_smtp_auth(struct ms_endpoint_result *ep, const char *mechanism, const char *reply,
                         const char *enhanced, const char *text);

#endif
