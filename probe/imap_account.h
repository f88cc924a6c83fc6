/* What IMAP responses after sign-in say about the account: LIST, NAMESPACE, STATUS,
 * QUOTAROOT/QUOTA. Pure functions over parsed responses, unit-tested. */
#ifndef MS_IMAP_ACCOUNT_H
#define MS_IMAP_ACCOUNT_H

#include "probe/imap_parse.h"
#include "probe/result.h"

/* Fold one untagged response into the account facts; responses of other kinds are
 * ignored. Returns 0 or MS_ENOMEM. */
int ms_imap_account_take(const struct ms_imap_response *r, struct ms_account_facts *account);

/* The IMAP string form of a mailbox name or atom ("INBOX", "\"My Folder\""), for
 * commands. Returns 0, or MS_EINVAL when it cannot be sent as a quoted string. */
int ms_imap_quote(const char *in, char *out, size_t cap);

#endif
