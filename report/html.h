/* The HTML report (the helpdesk page of `mailscope serve`): a renderer like text.c and
 * json.c. It reads the same assessment and judges nothing; its words are the text report's
 * (report/text.h). Every string that came from a server or a user (greetings, capabilities,
 * refusals, certificate names, host names, the target) goes through ms_html_escape, the
 * one escape function. No inline script or style: the page's stylesheet styles it by class,
 * the timing picture is inline SVG with presentation attributes only. */
#ifndef MS_REPORT_HTML_H
#define MS_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "probe/result.h"
#include "report/assess.h"

/* Write text with & < > " ' as character references (safe in element content and in
 * quoted attribute values). NULL writes nothing. */
void ms_html_escape(FILE *out, const char *text);
/* The same for len bytes (a transcript; NUL bytes become U+FFFD). */
void ms_html_escape_n(FILE *out, const char *text, size_t len);

struct ms_html_options {
    const char *transcript; /* the redacted transcript, NULL or "" when there is none */
    size_t transcript_len;
    const char *transcript_url; /* where to download it (a same-site path), or NULL */
};

/* The report as one <section class="report" id="report"> element: verdicts, the account
 * summary, "Use these settings", findings worst first, the timing picture, the endpoints
 * (collapsible), the transcript. opt may be NULL. Returns 0 or MS_EIO. */
int ms_report_html(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                   const struct ms_html_options *opt);

/* One endpoint's facts as soon as it finished (result->endpoints[index]), as an open
 * <details class="endpoint live"> element without a status (that is judged with the
 * whole result). Returns 0 or MS_EIO. */
int ms_report_html_endpoint(FILE *out, const struct ms_result *result, size_t index);

#endif
