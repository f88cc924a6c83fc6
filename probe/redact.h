/* Redaction of the secret (password or OAuth2 token) from what a server sends back: a
 * server may quote the client's command in its refusal ("NO LOGIN alice S3cr3t", "-ERR PASS
 * ...") or echo a SASL response in base64. Every string from a server is passed through
 * this before it is stored in the result or written to the trace. */
#ifndef MS_REDACT_H
#define MS_REDACT_H

#include <stddef.h>

#include "probe/result.h"

#define MS_REDACT_MAX_FORMS 8
#define MS_REDACTED "<redacted>"

struct ms_redactor {
    char *forms[MS_REDACT_MAX_FORMS]; /* strings that betray the secret, longest first */
    size_t count;
};

/* The forms of secret (NULL: none): the secret itself, and for each of the three alignments
 * it can have inside a longer base64 blob (the SASL PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER
 * messages all contain it) the run of 4-character groups made only of its bytes. Forms
 * shorter than is safe to look for (raw 4, base64 8 characters) are left out. Returns 0 or
 * MS_ENOMEM (then r holds no forms). */
int ms_redactor_init(struct ms_redactor *r, const char *secret);
void ms_redactor_free(struct ms_redactor *r);

/* Replace every form in the NUL-terminated text (a buffer of cap bytes) with "<redacted>".
 * Returns the number of replacements. NULL r does nothing. */
size_t ms_redact(const struct ms_redactor *r, char *text, size_t cap);

/* Redact every string an endpoint's result holds that came from a server. */
void ms_redact_endpoint(const struct ms_redactor *r, struct ms_endpoint_result *ep);

#endif
