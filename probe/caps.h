/* Capability lists: from IMAP responses and POP3 CAPA bodies into ms_strlist, and the
 * questions the probe asks of them. Pure functions, fuzzed. */
#ifndef MS_CAPS_H
#define MS_CAPS_H

#include "probe/imap_parse.h"
#include "probe/pop3_parse.h"
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

#endif
