/* Pure reader of what mail programs fetch to set themselves up: Thunderbird's autoconfig
 * file (clientConfig 1.1: incomingServer/outgoingServer) and Microsoft Autodiscover's POX
 * response (Response/Account/Protocol, redirects, errors). Bytes in, settings out; no
 * sockets, no state between calls.
 *
 * Hostile input: the XML is read with expat; a document type declaration (DOCTYPE) is
 * refused outright, so no entity is ever declared or expanded (no billion laughs, no
 * external entities). Hard caps: MS_AC_MAX_BODY bytes, MS_AC_MAX_DEPTH nested elements,
 * MS_AC_MAX_SERVERS settings kept (more sets `truncated`), MS_AC_MAX_TEXT bytes of text per
 * field (longer text is cut and marked). Cost is linear in the bytes. */
#ifndef MS_AUTOCONFIG_PARSE_H
#define MS_AUTOCONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define MS_AC_MAX_BODY (128 * 1024)
#define MS_AC_MAX_DEPTH 32
#define MS_AC_MAX_SERVERS 16
#define MS_AC_MAX_TEXT 255

enum ms_ac_format {
    MS_AC_FORMAT_AUTOCONFIG,   /* <clientConfig> */
    MS_AC_FORMAT_AUTODISCOVER, /* <Autodiscover> (POX response schema 2006a) */
};

/* The kind of server a setting describes. */
enum ms_ac_type { MS_AC_IMAP, MS_AC_POP3, MS_AC_SMTP };

/* How a mail program is told to protect the connection. */
enum ms_ac_socket {
    MS_AC_SOCKET_TLS,      /* autoconfig "SSL", Autodiscover SSL on / Encryption SSL */
    MS_AC_SOCKET_STARTTLS, /* autoconfig "STARTTLS", Autodiscover Encryption TLS */
    MS_AC_SOCKET_PLAIN,    /* autoconfig "plain", Autodiscover SSL off / Encryption None */
};

/* One server setting, as the file gives it (placeholders expanded). */
struct ms_ac_server {
    enum ms_ac_type type;
    bool incoming; /* incomingServer (IMAP, POP3) vs outgoingServer (SMTP) */
    char hostname[MS_AC_MAX_TEXT + 1];
    unsigned port;
    enum ms_ac_socket socket;
    char socket_text[32];                      /* as written: "SSL", "on", "TLS" */
    char authentication[MS_AC_MAX_TEXT + 1];   /* "password-cleartext, OAuth2", "SPA on" */
    char username[MS_AC_MAX_TEXT + 1];         /* expanded: "alice@example.com" */
    char username_pattern[MS_AC_MAX_TEXT + 1]; /* as written: "%EMAILADDRESS%" */
    unsigned long line;                        /* where the setting starts in the file */
};

enum ms_ac_action {
    MS_AC_ACTION_SETTINGS,      /* servers below */
    MS_AC_ACTION_REDIRECT_ADDR, /* Autodiscover: ask again for redirect (an address) */
    MS_AC_ACTION_REDIRECT_URL,  /* Autodiscover: ask redirect (an https URL) */
    MS_AC_ACTION_ERROR,         /* Autodiscover: an <Error> (error_code, error_message) */
};

struct ms_ac_doc {
    enum ms_ac_format format;
    bool valid; /* parsed, and has what a mail program needs */
    /* when not valid: what is wrong and where (line 0: not about a place) */
    char error[200];
    unsigned long line, column;

    char provider[MS_AC_MAX_TEXT + 1]; /* emailProvider id, or Autodiscover DisplayName */
    enum ms_ac_action action;
    char redirect[MS_AC_MAX_TEXT + 1]; /* RedirectAddr / RedirectUrl */
    char error_code[16];               /* Autodiscover <ErrorCode> */
    char error_message[MS_AC_MAX_TEXT + 1];

    struct ms_ac_server servers[MS_AC_MAX_SERVERS]; /* in the file's order */
    size_t server_count;
    size_t skipped; /* settings of other kinds (EXCH, WEB, ews, ...): not mail servers here */
    bool truncated; /* more than MS_AC_MAX_SERVERS settings */
};

/* What the placeholders stand for (%EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%;
 * %REALNAME% is empty). local may be "" (a domain without an address). */
struct ms_ac_address {
    const char *local;
    const char *domain;
};

/* Read len bytes of body as the expected format. Always fills *out (valid or not, with
 * the reason); returns 0, or MS_ENOMEM when the XML reader could not be set up. A document
 * of the other format is invalid ("not an autoconfig file: the root element is ..."). */
int ms_autoconfig_parse(const char *body, size_t len, enum ms_ac_format format,
                        const struct ms_ac_address *address, struct ms_ac_doc *out);

/* Expand the placeholders of pattern into dst (cap bytes, NUL-terminated, cut when too
 * long). Unknown placeholders stay as written. */
void ms_autoconfig_expand(const char *pattern, const struct ms_ac_address *address, char *dst,
                          size_t cap);

const char *ms_ac_type_name(enum ms_ac_type t);     /* "imap", "pop3", "smtp" */
const char *ms_ac_socket_name(enum ms_ac_socket s); /* "tls", "starttls", "plain" */

/* The Autodiscover POX request for address (the 2006 request schema, outlook response
 * schema 2006a) into dst; returns its length, or 0 when it does not fit. The address is
 * XML-escaped. */
size_t ms_autodiscover_request(const char *address, char *dst, size_t cap);

#endif
