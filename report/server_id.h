/* Which server software an endpoint runs, from what the probe saw: the greeting, POP3's
 * IMPLEMENTATION capability (RFC 2449) and, for two servers, a capability or a sign-in
 * answer only they send.
 * A pure function of the facts, so remedies can name the settings of the server actually
 * seen and the reports can show it. (IMAP's ID command, RFC 2971, would say more; the probe
 * does not send it.) */
#ifndef MS_SERVER_ID_H
#define MS_SERVER_ID_H

#include <stddef.h>

#include "probe/result.h"

enum ms_server_software {
    MS_SERVER_UNKNOWN,
    MS_SERVER_DOVECOT,
    MS_SERVER_COURIER,
    MS_SERVER_CYRUS,
    MS_SERVER_EXCHANGE, /* Exchange Server, Exchange Online (Microsoft 365, Outlook.com) */
    MS_SERVER_MAILUTILS,
    MS_SERVER_ZIMBRA,
    MS_SERVER_HMAILSERVER,
    MS_SERVER_GMAIL,
    MS_SERVER_UW,
    MS_SERVER_KERIO,
    MS_SERVER_MDAEMON,
    MS_SERVER_AXIGEN,
    MS_SERVER_STALWART,
    MS_SERVER_QPOPPER,
    MS_SERVER_POSTFIX, /* SMTP submission servers (issue 14) */
    MS_SERVER_EXIM,
    MS_SERVER_SENDMAIL,
    MS_SERVER_COUNT
};

/* Where the identification came from. */
enum ms_server_source {
    MS_SERVER_FROM_NONE,
    MS_SERVER_FROM_GREETING,
    MS_SERVER_FROM_IMPLEMENTATION, /* POP3 CAPA "IMPLEMENTATION ..." */
    MS_SERVER_FROM_CAPABILITIES,   /* a capability only that server sends */
    MS_SERVER_FROM_SIGN_IN,        /* words only that server answers a sign-in with */
};

enum ms_server_confidence {
    MS_SERVER_CONFIDENCE_NONE,
    MS_SERVER_CONFIDENCE_MEDIUM, /* the name or a form only it uses, not its usual words */
    MS_SERVER_CONFIDENCE_HIGH,   /* the server's own usual words ("Dovecot ready.") */
};

struct ms_server_id {
    enum ms_server_software software;
    enum ms_server_source from;
    enum ms_server_confidence confidence;
    char version[48]; /* as shown ("2.4.17-Debian-2.4.17+caldav~beta9-3"), "" when not shown */
};

/* Identify from a greeting line (as received: "* OK ...", "+OK ...", may be NULL) and a
 * POP3 IMPLEMENTATION capability's text (after the word, may be NULL). IMPLEMENTATION wins
 * over the greeting when both name a server. *out is always filled (UNKNOWN when nothing
 * matches). */
void ms_server_identify_text(const char *greeting, const char *implementation,
                             struct ms_server_id *out);

/* Identify an endpoint's server from its greeting and capability lists (any of before TLS,
 * over TLS, after sign-in), else from words only one server answers a sign-in with. */
void ms_server_identify(const struct ms_endpoint_result *ep, struct ms_server_id *out);

const char *ms_server_software_name(enum ms_server_software s);     /* "dovecot", NULL unknown */
const char *ms_server_software_label(enum ms_server_software s);    /* "Dovecot" */
const char *ms_server_source_name(enum ms_server_source s);         /* "greeting" */
const char *ms_server_confidence_name(enum ms_server_confidence c); /* "high", "medium" */

#endif
