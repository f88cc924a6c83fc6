/* Capability lists: from IMAP responses, POP3 CAPA bodies and SMTP EHLO replies into
 * ms_strlist, and the questions the probe asks of them. Pure functions, fuzzed. */
#ifndef MS_CAPS_H
#define MS_CAPS_H

#include <stdint.h>

#include "probe/imap_parse.h"
#include "probe/pop3_parse.h"
#include "probe/smtp_parse.h"
#include "probe/strlist.h"

/* Append the capabilities of an IMAP response to list: the data of "* CAPABILITY ..."
 * or the args of a "[CAPABILITY ...]" response code. Each capability is kept as sent
 * (atoms only; other values are skipped). Caps: MS_MAX_CAPABILITIES items of at most
 * MS_MAX_CAPABILITY_LEN bytes (longer ones are dropped and `truncated` set).
 * Returns 1 when the response carried capabilities, 0 when it did not, or MS_ENOMEM. */
int ms_caps_from_imap(const struct ms_imap_response *r, struct ms_strlist *list);

/* Append each line of a POP3 CAPA body to list, as sent ("SASL PLAIN LOGIN",
 * "EXPIRE 0"), with the same caps. Returns 0 or MS_ENOMEM. */
int ms_caps_from_pop3(const struct ms_pop3_response *r, struct ms_strlist *list);

/* POP3: the line whose first word is name (case-insensitive), or NULL. */
const char *ms_caps_pop3_find(const struct ms_strlist *caps, const char *name);

/* SMTP: append the extension lines of an EHLO reply to list, as sent ("SIZE 26214400",
 * "AUTH PLAIN LOGIN", the old form "AUTH=PLAIN LOGIN", "STARTTLS"), with the same caps.
 * The reply's first line names the server (RFC 5321 4.1.1.1) and is skipped; only a 250
 * reply carries extensions. Returns 0 or MS_ENOMEM. */
int ms_caps_from_smtp(const struct ms_smtp_reply *r, struct ms_strlist *list);

/* SMTP: the line whose keyword (first word) is name, ignoring case, or NULL. The old form
 * "AUTH=PLAIN LOGIN" has the keyword "AUTH=PLAIN": ms_caps_smtp_auth() reads both forms. */
const char *ms_caps_smtp_find(const struct ms_strlist *caps, const char *name);

/* SMTP: append the SASL mechanisms offered ("AUTH PLAIN LOGIN" and the old "AUTH=PLAIN
 * LOGIN" lines, RFC 4954) to mechs, each once (ASCII case ignored), in the order first
 * seen, at most MS_MAX_CAPABILITIES. Returns 0 or MS_ENOMEM. */
int ms_caps_smtp_auth(const struct ms_strlist *caps, struct ms_strlist *mechs);

/* SMTP: the same without allocating: up to max mechanisms into names (longer names than
 * MS_SMTP_MECH_NAME - 1 bytes are skipped); returns how many. */
#define MS_SMTP_MECH_NAME 32
size_t ms_caps_smtp_mechs(const struct ms_strlist *caps, char (*names)[MS_SMTP_MECH_NAME],
                          size_t max);

/* SMTP: the AUTH lines offer mechanism (ASCII case ignored). */
bool ms_caps_smtp_offers(const struct ms_strlist *caps, const char *mechanism);

/* SMTP SIZE (RFC 1870): 1 with *limit set when SIZE is offered (the largest message in
 * bytes; 0 when the server names no fixed limit: "SIZE" alone or "SIZE 0"), 0 when it is
 * not offered, MS_EPROTO when its parameter is not a decimal number that fits 64 bits. */
int ms_caps_smtp_size(const struct ms_strlist *caps, uint64_t *limit);

#endif
