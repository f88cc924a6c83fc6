/* The judge's shared helpers (report/assess_internal.h): bounded string formatting, how
 * messages name an endpoint, capability and phrase lookups, and adding a finding. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "report/assess_internal.h"

/* ---- small string helpers ---------------------------------------------------------- */

/* vsnprintf into dst; output that does not fit ends with "..." so a reader sees the cut. */
void ms_assess_vput(char *dst, size_t cap, const char *fmt, va_list ap)
{
    int n = vsnprintf(dst, cap, fmt, ap);
    if (n >= 0 && (size_t)n >= cap && cap >= 4)
        memcpy(dst + cap - 4, "...", 4);
}

void ms_assess_put(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ms_assess_vput(dst, cap, fmt, ap);
    va_end(ap);
}

void ms_assess_app(char *dst, size_t cap, const char *fmt, ...)
{
    size_t len = strlen(dst);
    if (len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    ms_assess_vput(dst + len, cap - len, fmt, ap);
    va_end(ap);
}

/* "993", or "host:993" when the run covers several hosts. */
void ms_assess_ep_port(const struct ms_assess_ctx *c, const struct ms_endpoint_result *ep,
                       char *buf, size_t cap)
{
    if (c->one_host)
        ms_assess_put(buf, cap, "%u", (unsigned)ep->port);
    else if (strchr(ep->host, ':'))
        ms_assess_put(buf, cap, "[%s]:%u", ep->host, (unsigned)ep->port);
    else
        ms_assess_put(buf, cap, "%s:%u", ep->host, (unsigned)ep->port);
}

/* "IMAP on 993": how messages name an endpoint. */
void ms_assess_ep_label(const struct ms_assess_ctx *c, const struct ms_endpoint_result *ep,
                        char *buf, size_t cap)
{
    char port[300];
    ms_assess_ep_port(c, ep, port, sizeof port);
    ms_assess_put(buf, cap, "%s on %s", ms_assess_proto_upper(ep->protocol), port);
}

/* The port of an implicit-TLS endpoint of the same protocol to recommend instead. */
unsigned ms_assess_implicit_port(const struct ms_assess_ctx *c, enum ms_protocol p)
{
    for (size_t j = 0; j < c->r->endpoint_count; j++) {
        const struct ms_endpoint_result *s = &c->r->endpoints[j];
        if (s->protocol == p && s->security == MS_SECURITY_IMPLICIT)
            return s->port;
    }
    return ms_assess_standard_implicit_port(p);
}

/* A size given in KiB, the way people read it: "512 KB", "2.0 MB", "10 MB", "1.5 GB". */
void ms_assess_fmt_kb(long long kb, char *buf, size_t cap)
{
    if (kb < 1024) {
        ms_assess_put(buf, cap, "%lld KB", kb < 0 ? 0 : kb);
        return;
    }
    double v = (double)kb / 1024.0;
    const char *unit = "MB";
    if (v >= 1024.0) {
        v /= 1024.0;
        unit = "GB";
    }
    if (v >= 1024.0) {
        v /= 1024.0;
        unit = "TB";
    }
    if (v < 9.95)
        ms_assess_put(buf, cap, "%.1f %s", v, unit);
    else
        ms_assess_put(buf, cap, "%.0f %s", v, unit);
}

static bool word_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* phrase occurs in text as whole words, ignoring ASCII case ("in use" not in "in user"). */
bool ms_assess_has_phrase(const char *text, const char *phrase)
{
    size_t n = strlen(phrase);
    if (!text || n == 0)
        return false;
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, phrase, n) == 0 && (p == text || !word_char(p[-1])) && !word_char(p[n]))
            return true;
    return false;
}

/* POP3: the CAPA line whose first word is name, or NULL. */
const char *ms_assess_pop3_cap(const struct ms_strlist *caps, const char *name)
{
    size_t nl = strlen(name);
    for (size_t k = 0; k < caps->count; k++) {
        const char *s = caps->items[k];
        if (strncasecmp(s, name, nl) == 0 && (s[nl] == '\0' || s[nl] == ' '))
            return s;
    }
    return NULL;
}

/* ---- adding a finding -------------------------------------------------------------- */

bool ms_assess_is_account(const struct ms_finding *f)
{
    return (ms_catalogue[f->id].flags & MS_FF_ACCOUNT) != 0;
}

void ms_assess_var(struct ms_assess_vars *vs, const char *name, const char *value)
{
    for (size_t i = 0; i < vs->n; i++)
        if (strcmp(vs->v[i].name, name) == 0) {
            vs->v[i].value = value; /* a judge's own value overrides the usual one */
            return;
        }
    if (vs->n < MS_ASSESS_MAX_VARS)
        vs->v[vs->n++] = (struct ms_var){name, value};
}

void ms_assess_endpoint_vars(const struct ms_assess_ctx *c, const struct ms_endpoint_result *ep,
                             struct ms_assess_vars *vs)
{
    vs->n = 0;
    ms_assess_ep_label(c, ep, vs->endpoint, sizeof vs->endpoint);
    snprintf(vs->port, sizeof vs->port, "%u", (unsigned)ep->port);
    snprintf(vs->implicit_port, sizeof vs->implicit_port, "%u",
             ms_assess_implicit_port(c, ep->protocol));
    ms_assess_var(vs, "endpoint", vs->endpoint);
    ms_assess_var(vs, "host", ep->host);
    ms_assess_var(vs, "port", vs->port);
    ms_assess_var(vs, "implicit_port", vs->implicit_port);
    ms_assess_var(vs, "cmd", ms_assess_starttls_cmd(ep->protocol));
    ms_assess_var(vs, "proto", ms_assess_proto_upper(ep->protocol));
    ms_assess_var(vs, "a_proto", ms_assess_a_proto(ep->protocol));
    ms_assess_var(vs, "evidence", ep->failure_message);
}

/* Dovecot's settings changed names in 2.4: 23 or 24 from a version shown, 0 when none. */
static int dovecot_generation(const char *version)
{
    int major = 0, minor = 0;
    if (sscanf(version, "%d.%d", &major, &minor) != 2)
        return 0;
    return major > 2 || (major == 2 && minor >= 4) ? 24 : 23;
}

const char *ms_assess_server_setting(const struct ms_assess_ctx *c,
                                     const struct ms_endpoint_result *ep,
                                     enum ms_server_topic topic, char *buf, size_t cap)
{
    struct ms_server_id id = {.software = MS_SERVER_UNKNOWN};
    if (ep)
        ms_server_identify(ep, &id);
    const struct ms_server_settings *t =
        (unsigned)topic < MS_TOPIC_COUNT ? &ms_server_settings[topic] : NULL;
    const char *tpl = NULL;
    if (!t || topic == MS_TOPIC_NONE) {
        buf[0] = '\0';
        return buf;
    }
    if (id.software == MS_SERVER_UNKNOWN) {
        tpl = t->examples;
    } else {
        tpl = t->by_server[id.software];
        int gen = id.software == MS_SERVER_DOVECOT ? dovecot_generation(id.version) : 0;
        if (gen == 23 && t->dovecot_23)
            tpl = t->dovecot_23;
        else if (gen == 24 && t->dovecot_24)
            tpl = t->dovecot_24;
        if (!tpl)
            tpl = t->unknown;
    }
    struct ms_var vars[] = {
        {"server", ms_server_software_label(id.software)},
        {"imap", ep && ep->protocol == MS_PROTOCOL_IMAP ? "yes" : ""},
        {"user", c && c->r->user[0] ? c->r->user : "USER"},
    };
    ms_catalogue_expand(buf, cap, tpl, vars, sizeof vars / sizeof vars[0]);
    return buf;
}

int ms_assess_emit(struct ms_assess_ctx *c, enum ms_finding_id id, int severity, long idx,
                   const char *message, const char *remedy, const struct ms_assess_vars *vs)
{
    /* {server_setting}: the row's topic, for the endpoint's server, unless the judge set it */
    struct ms_var vars[MS_ASSESS_MAX_VARS + 1];
    char setting[400];
    size_t nv = vs->n;
    memcpy(vars, vs->v, nv * sizeof vars[0]);
    bool set = false;
    for (size_t k = 0; k < nv; k++)
        if (strcmp(vars[k].name, "server_setting") == 0)
            set = true;
    if (!set && ms_catalogue[id].topic != MS_TOPIC_NONE) {
        ms_assess_server_setting(c, idx >= 0 ? &c->r->endpoints[idx] : NULL, ms_catalogue[id].topic,
                                 setting, sizeof setting);
        vars[nv++] = (struct ms_var){"server_setting", setting};
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct ms_finding *f = realloc(c->f, cap * sizeof *f);
        if (!f)
            return MS_ENOMEM;
        c->f = f;
        c->cap = cap;
    }
    struct ms_finding *f = &c->f[c->n++];
    memset(f, 0, sizeof *f);
    f->id = id;
    f->code = ms_catalogue[id].code;
    f->severity = severity < 0 ? ms_catalogue[id].severity : (enum ms_severity)severity;
    f->endpoint_index = idx;
    f->endpoint = idx >= 0 ? c->r->endpoints[idx].id : NULL;
    ms_catalogue_expand(f->message, sizeof f->message, message, vars, nv);
    ms_catalogue_expand(f->remedy, sizeof f->remedy, remedy, vars, nv);
    return 0;
}

void ms_assess_cert_cn(const char *dn, char *buf, size_t cap, const char *none)
{
    for (const char *p = dn; p && *p;) {
        if (strncasecmp(p, "CN=", 3) == 0 && (p == dn || p[-1] == ',')) {
            p += 3;
            size_t n = 0;
            while (p[n] &&
                   !(p[n] == ',' && (n == 0 || p[n - 1] != '\\'))) /* an unescaped comma ends it */
                n++;
            ms_assess_put(buf, cap, "%.*s", (int)(n > 255 ? 255 : n), p);
            return;
        }
        p = strchr(p, ',');
        if (p)
            p++;
    }
    ms_assess_put(buf, cap, "%s", dn[0] ? dn : none);
}
