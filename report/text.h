/* The human report: verdict per protocol, one block per endpoint, findings worst first. */
#ifndef MS_REPORT_TEXT_H
#define MS_REPORT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "probe/result.h"
#include "report/assess.h"

/* Write the text report to out; color adds ANSI colours (the caller decides: a terminal
 * and no NO_COLOR). Returns 0 or MS_EIO. */
int ms_report_text(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                   bool color);

/* Words the text report uses that other renderers (report/html.c) reuse, so every format
 * says the same thing. */
const char *ms_text_protocol_word(enum ms_protocol p);    /* "IMAP", "POP3", "SMTP" */
const char *ms_text_security_words(enum ms_security s);   /* "implicit TLS", ... */
const char *ms_text_setting_security(enum ms_security s); /* "SSL/TLS", "STARTTLS" */
const char *ms_text_pub_security(enum ms_security s);     /* "SSL/TLS", ..., "no encryption" */
/* What a published source (autoconfig, Autodiscover) gave: "settings", "nothing there", ... */
const char *ms_text_pub_outcome_words(const struct ms_pub_source *s);

/* One row of "Use these settings". */
struct ms_text_setting {
    char head[32]; /* "Incoming mail (IMAP):", "Alternative (POP3):", "Outgoing mail (SMTP):" */
    enum ms_protocol protocol;
    const struct ms_endpoint_result *endpoint; /* the recommended one; NULL: none secure */
    const char *why;                           /* then why not ("" when not checked) */
};

/* The rows in the order the text report prints them; returns how many. */
size_t ms_text_settings(const struct ms_result *r, const struct ms_assessment *a,
                        struct ms_text_setting rows[MS_PROTOCOL_COUNT]);

/* When no protocol has a secure setting: true, with the sentence that says why in line
 * ("No secure setting was found: IMAP: ..."). False when there is a setting. */
bool ms_text_no_setting(const struct ms_result *r, const struct ms_assessment *a, char *line,
                        size_t cap);

/* With credentials: the note after the user name ("for every server above"), else NULL. */
const char *ms_text_user_note(const struct ms_result *r, const struct ms_assessment *a);

#endif
