/* SASL client messages (RFC 4422): PLAIN (RFC 4616), LOGIN, XOAUTH2, OAUTHBEARER
 * (RFC 7628), their base64 wire form, and decoding of server challenges. Pure functions;
 * buffers that held a secret are wiped before they are freed. */
#ifndef MS_SASL_H
#define MS_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_SASL_MAX_CHALLENGE 4096 /* decoded bytes of one server challenge we look at */

enum ms_sasl_mech {
    MS_SASL_NONE,
    MS_SASL_PLAIN,
    MS_SASL_LOGIN,
    MS_SASL_XOAUTH2,
    MS_SASL_OAUTHBEARER,
};

/* "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER" (or "" for NONE). */
const char *ms_sasl_name(enum ms_sasl_mech mech);

/* The mechanism named (case-insensitive), or MS_SASL_NONE. */
enum ms_sasl_mech ms_sasl_from_name(const char *name);

/* Base64 of len bytes into a new NUL-terminated string (*out). Returns 0 or MS_ENOMEM. */
int ms_base64_encode(const unsigned char *in, size_t len, char **out);

/* Decode base64 text (whitespace not allowed, padding optional) into out (cap bytes).
 * Returns 0 with *out_len set, MS_EPROTO on invalid input, MS_ETOOBIG when it does not fit. */
int ms_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *out_len);

/* Is the text valid base64 (as ms_base64_decode takes it; "" is: an empty challenge)? */
bool ms_base64_valid(const char *in, size_t len);

/* The base64 initial response of mech for user and secret (password, or OAuth2 token).
 * host/port only matter for OAUTHBEARER. LOGIN has no initial response: use
 * ms_sasl_login_reply. Returns 0, MS_EINVAL (CR/LF or ^A inside user or secret where the
 * format cannot carry it, ',' or '=' in an OAUTHBEARER user, or a mechanism without an initial
 * response: decided before anything is allocated), or MS_ENOMEM (*out stays NULL). Free *out
 * with ms_sasl_free_secret. */
int ms_sasl_initial_response(enum ms_sasl_mech mech, const char *user, const char *secret,
                             const char *host, uint16_t port, char **out);

/* LOGIN: the reply to the step-th challenge (0: user name, 1: password), base64-encoded.
 * Returns 0, MS_EPROTO (a third challenge), or MS_ENOMEM. */
int ms_sasl_login_reply(unsigned step, const char *user, const char *password, char **out);

/* Decode a server challenge (base64) into printable text for the report (e.g. the
 * XOAUTH2/OAUTHBEARER error JSON). Invalid base64 is shown as it was sent, sanitized.
 * Always NUL-terminates text. */
void ms_sasl_describe_challenge(const char *b64, size_t len, char *text, size_t cap);

/* Wipe and free a string that may hold a secret. NULL is fine. */
void ms_sasl_free_secret(char *s);

#endif
