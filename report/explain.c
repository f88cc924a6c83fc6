/* `mailscope --explain`: the catalogue's rows as a person or a script reads them. The same
 * rows generate report/FINDINGS.md's table (tests/docs/check_findings.py). */
#include "report/explain.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/catalogue.h"

static const char *severity_word(enum ms_severity s)
{
    return s == MS_SEVERITY_INFO ? "info" : s == MS_SEVERITY_WARNING ? "warning" : "critical";
}

/* The documentation's footnote marks (report/FINDINGS.md), said in words for a terminal. */
static const struct {
    const char *mark, *words;
} notes[] = {
    {"info\u2020", "info when the endpoint is merely closed (a bare host or a discovered "
                   "server) while another endpoint of the same protocol works"},
    {"\u2021", ""},
};

/* Write text wrapped at 80 columns after indent, without Markdown code-span backticks. */
static int wrapped(FILE *out, const char *label, const char *text)
{
    const int width = 80, indent = 2;
    int col = fprintf(out, "%*s%s", indent, "", label);
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        char word[512];
        size_t w = 0;
        for (size_t i = 0; i < n && w + 1 < sizeof word; i++)
            if (p[i] != '`')
                word[w++] = p[i];
        word[w] = '\0';
        if (w == 0) {
            p += n;
            continue;
        }
        if (col + 1 + (int)w > width && col > indent + 4) {
            if (fprintf(out, "\n%*s", indent + 4, "") < 0)
                return MS_EIO;
            col = indent + 4;
        } else if (fputc(' ', out) == EOF) {
            return MS_EIO;
        } else {
            col++;
        }
        if (fputs(word, out) == EOF)
            return MS_EIO;
        col += (int)w;
        p += n;
    }
    return fputc('\n', out) == EOF ? MS_EIO : 0;
}

static int explain_text(FILE *out, const struct ms_catalogue_entry *e)
{
    char severity[400];
    snprintf(severity, sizeof severity, "%s", e->severity_doc);
    for (size_t k = 0; k < sizeof notes / sizeof notes[0]; k++) {
        char *mark = strstr(severity, notes[k].mark);
        if (!mark)
            continue;
        char rest[400];
        snprintf(rest, sizeof rest, "%s", mark + strlen(notes[k].mark));
        snprintf(mark, sizeof severity - (size_t)(mark - severity), "%s%s", notes[k].words, rest);
    }
    if (fprintf(out, "%s\n", e->code) < 0)
        return MS_EIO;
    int rc;
    if ((rc = wrapped(out, "Severity:", severity)) ||
        (rc = wrapped(out, "What it means:", e->when)) ||
        (rc = wrapped(out, "Why it matters:", e->why)) ||
        (rc = wrapped(out, "What to do:", e->remedy_doc)))
        return rc;
    return 0;
}

static json_t *row_json(const struct ms_catalogue_entry *e)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:s}", "code", e->code, "severity",
                  severity_word(e->severity), "severity_doc", e->severity_doc, "about_account",
                  (e->flags & MS_FF_ACCOUNT) != 0, "internal", (e->flags & MS_FF_INTERNAL) != 0,
                  "when", e->when, "why", e->why, "remedy", e->remedy_doc);
    return o;
}

int ms_report_explain(FILE *out, const char *code, bool json)
{
    bool all = strcasecmp(code, "all") == 0;
    const struct ms_catalogue_entry *one = all ? NULL : ms_catalogue_find(code);
    if (!all && !one)
        return MS_EINVAL;
    if (!json) {
        for (size_t i = 0; i < MS_F_COUNT; i++) {
            if (!all && &ms_catalogue[i] != one)
                continue;
            if ((all && i > 0 && fputc('\n', out) == EOF))
                return MS_EIO;
            int rc = explain_text(out, &ms_catalogue[i]);
            if (rc)
                return rc;
        }
        return fflush(out) == 0 ? 0 : MS_EIO;
    }
    json_t *doc = all ? json_array() : row_json(one);
    if (!doc)
        return MS_ENOMEM;
    for (size_t i = 0; all && i < MS_F_COUNT; i++)
        if (json_array_append_new(doc, row_json(&ms_catalogue[i])) < 0) {
            json_decref(doc);
            return MS_ENOMEM;
        }
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 ||
                     fputc('\n', out) == EOF || fflush(out) != 0
                 ? MS_EIO
                 : 0;
    json_decref(doc);
    return rc;
}
