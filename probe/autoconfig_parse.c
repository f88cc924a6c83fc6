#include "probe/autoconfig_parse.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "probe/text.h"

/* Where the reader is: the path of element names that matter (others are "other"). */
enum elem {
    E_OTHER,
    /* autoconfig */
    E_CLIENT_CONFIG,
    E_EMAIL_PROVIDER,
    E_INCOMING,
    E_OUTGOING,
    E_HOSTNAME,
    E_PORT,
    E_SOCKET_TYPE,
    E_USERNAME,
    E_AUTHENTICATION,
    /* Autodiscover */
    E_AUTODISCOVER,
    E_RESPONSE,
    E_USER,
    E_DISPLAY_NAME,
    E_ACCOUNT,
    E_ACTION,
    E_REDIRECT_ADDR,
    E_REDIRECT_URL,
    E_PROTOCOL,
    E_TYPE,
    E_SERVER,
    E_AD_PORT,
    E_SSL,
    E_ENCRYPTION,
    E_LOGIN_NAME,
    E_SPA,
    E_ERROR,
    E_ERROR_CODE,
    E_MESSAGE,
};

/* One server being read, before it is checked. */
struct pending {
    bool open;
    bool known_type; /* a mail server kind this reader knows */
    struct ms_ac_server s;
    char port[16], type[16], ssl[8], encryption[16], spa[8];
    bool has_hostname, has_port, has_socket, has_username;
};

struct reader {
    XML_Parser xp;
    struct ms_ac_doc *doc;
    const struct ms_ac_address *address;
    enum ms_ac_format format;
    enum elem stack[MS_AC_MAX_DEPTH];
    size_t depth;
    char text[MS_AC_MAX_TEXT + 1]; /* the current leaf element's text */
    size_t text_len;
    bool text_cut;
    bool root_seen;
    bool provider_seen, response_seen, account_seen, error_seen;
    char action[32];
    struct pending p;
    bool failed; /* doc->error is set; the parser is stopped */
};

static void fail(struct reader *r, const char *fmt, const char *arg)
{
    if (r->failed)
        return;
    r->failed = true;
    snprintf(r->doc->error, sizeof r->doc->error, fmt, arg ? arg : "");
    r->doc->line = (unsigned long)XML_GetCurrentLineNumber(r->xp);
    r->doc->column = (unsigned long)XML_GetCurrentColumnNumber(r->xp) + 1;
    XML_StopParser(r->xp, XML_FALSE);
}

/* The element name without a namespace prefix ("a:Server" -> "Server"). */
static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

static enum elem parent(const struct reader *r)
{
    return r->depth ? r->stack[r->depth - 1] : E_OTHER;
}

static enum elem classify(const struct reader *r, const char *name)
{
    static const struct {
        enum elem parent;
        const char *name;
        enum elem e;
    } rules[] = {
        {E_CLIENT_CONFIG, "emailProvider", E_EMAIL_PROVIDER},
        {E_EMAIL_PROVIDER, "incomingServer", E_INCOMING},
        {E_EMAIL_PROVIDER, "outgoingServer", E_OUTGOING},
        {E_INCOMING, "hostname", E_HOSTNAME},
        {E_INCOMING, "port", E_PORT},
        {E_INCOMING, "socketType", E_SOCKET_TYPE},
        {E_INCOMING, "username", E_USERNAME},
        {E_INCOMING, "authentication", E_AUTHENTICATION},
        {E_OUTGOING, "hostname", E_HOSTNAME},
        {E_OUTGOING, "port", E_PORT},
        {E_OUTGOING, "socketType", E_SOCKET_TYPE},
        {E_OUTGOING, "username", E_USERNAME},
        {E_OUTGOING, "authentication", E_AUTHENTICATION},
        {E_AUTODISCOVER, "Response", E_RESPONSE},
        {E_RESPONSE, "User", E_USER},
        {E_USER, "DisplayName", E_DISPLAY_NAME},
        {E_RESPONSE, "Account", E_ACCOUNT},
        {E_RESPONSE, "Error", E_ERROR},
        {E_ERROR, "ErrorCode", E_ERROR_CODE},
        {E_ERROR, "Message", E_MESSAGE},
        {E_ACCOUNT, "Action", E_ACTION},
        {E_ACCOUNT, "RedirectAddr", E_REDIRECT_ADDR},
        {E_ACCOUNT, "RedirectUrl", E_REDIRECT_URL},
        {E_ACCOUNT, "Protocol", E_PROTOCOL},
        {E_PROTOCOL, "Type", E_TYPE},
        {E_PROTOCOL, "Server", E_SERVER},
        {E_PROTOCOL, "Port", E_AD_PORT},
        {E_PROTOCOL, "SSL", E_SSL},
        {E_PROTOCOL, "Encryption", E_ENCRYPTION},
        {E_PROTOCOL, "LoginName", E_LOGIN_NAME},
        {E_PROTOCOL, "SPA", E_SPA},
    };
    enum elem up = parent(r);
    if (r->depth == 0)
        return strcmp(name, "clientConfig") == 0   ? E_CLIENT_CONFIG
               : strcmp(name, "Autodiscover") == 0 ? E_AUTODISCOVER
                                                   : E_OTHER;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].parent == up && strcmp(rules[i].name, name) == 0)
            return rules[i].e;
    return E_OTHER;
}

static bool is_leaf(enum elem e)
{
    switch (e) {
    case E_HOSTNAME:
    case E_PORT:
    case E_SOCKET_TYPE:
    case E_USERNAME:
    case E_AUTHENTICATION:
    case E_DISPLAY_NAME:
    case E_ACTION:
    case E_REDIRECT_ADDR:
    case E_REDIRECT_URL:
    case E_TYPE:
    case E_SERVER:
    case E_AD_PORT:
    case E_SSL:
    case E_ENCRYPTION:
    case E_LOGIN_NAME:
    case E_SPA:
    case E_ERROR_CODE:
    case E_MESSAGE: return true;
    default: return false;
    }
}

/* Store text (sanitized to printable ASCII, surrounding white space trimmed). */
static void put(char *dst, size_t cap, const char *text)
{
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' ||
                   text[len - 1] == '\r'))
        len--;
    while (len && (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')) {
        text++;
        len--;
    }
    ms_text_sanitize(dst, cap, text, len);
}

static void begin_server(struct reader *r, enum elem e, const char **attrs)
{
    struct pending *p = &r->p;
    *p = (struct pending){.open = true};
    p->s.line = (unsigned long)XML_GetCurrentLineNumber(r->xp);
    p->s.incoming = e == E_INCOMING;
    for (size_t i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
        if (strcmp(attrs[i], "type") == 0)
            put(p->type, sizeof p->type, attrs[i + 1]);
    if (e == E_PROTOCOL)
        return; /* the type is an element there */
    if (!p->type[0]) {
        fail(r, "%s without a type attribute",
             e == E_INCOMING ? "incomingServer" : "outgoingServer");
        return;
    }
}

static void on_start(void *arg, const char *name, const char **attrs)
{
    struct reader *r = arg;
    if (r->failed)
        return;
    if (r->depth >= MS_AC_MAX_DEPTH) {
        fail(r, "elements nested deeper than %s levels", "32");
        return;
    }
    const char *ln = local_name(name);
    enum elem e = classify(r, ln);
    if (r->depth == 0) {
        r->root_seen = true;
        bool want =
            r->format == MS_AC_FORMAT_AUTOCONFIG ? e == E_CLIENT_CONFIG : e == E_AUTODISCOVER;
        if (!want) {
            char what[80];
            snprintf(what, sizeof what, "%.60s", ln);
            fail(r,
                 r->format == MS_AC_FORMAT_AUTOCONFIG
                     ? "not an autoconfig file: the root element is <%s>, not <clientConfig>"
                     : "not an Autodiscover response: the root element is <%s>, not <Autodiscover>",
                 what);
            return;
        }
    }
    switch (e) {
    case E_EMAIL_PROVIDER:
        if (!r->provider_seen)
            for (size_t i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
                if (strcmp(attrs[i], "id") == 0)
                    put(r->doc->provider, sizeof r->doc->provider, attrs[i + 1]);
        r->provider_seen = true;
        break;
    case E_INCOMING:
    case E_OUTGOING:
    case E_PROTOCOL: begin_server(r, e, attrs); break;
    case E_RESPONSE: r->response_seen = true; break;
    case E_ACCOUNT: r->account_seen = true; break;
    case E_ERROR: r->error_seen = true; break;
    default: break;
    }
    r->stack[r->depth++] = e;
    r->text_len = 0;
    r->text_cut = false;
}

static void on_text(void *arg, const char *s, int len)
{
    struct reader *r = arg;
    if (r->failed || r->depth == 0 || !is_leaf(r->stack[r->depth - 1]) || len <= 0)
        return;
    size_t room = sizeof r->text - 1 - r->text_len;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy(r->text + r->text_len, s, n);
    r->text_len += n;
    if (n < (size_t)len)
        r->text_cut = true;
}

static bool parse_port(const char *text, unsigned *out)
{
    char *end = NULL;
    if (!*text || strspn(text, "0123456789") != strlen(text) || strlen(text) > 5)
        return false;
    unsigned long v = strtoul(text, &end, 10);
    if (v == 0 || v > 65535)
        return false;
    *out = (unsigned)v;
    return true;
}

/* An autoconfig incomingServer/outgoingServer is over: check it and keep it. */
static void end_autoconfig_server(struct reader *r)
{
    struct pending *p = &r->p;
    struct ms_ac_server *s = &p->s;
    if (strcasecmp(p->type, "imap") == 0 && s->incoming)
        s->type = MS_AC_IMAP;
    else if (strcasecmp(p->type, "pop3") == 0 && s->incoming)
        s->type = MS_AC_POP3;
    else if (strcasecmp(p->type, "smtp") == 0 && !s->incoming)
        s->type = MS_AC_SMTP;
    else {
        r->doc->skipped++; /* exchange, ews, jmap, ...: not probed here */
        return;
    }
    const char *missing = !p->has_hostname ? "hostname"
                          : !p->has_port   ? "port"
                          : !p->has_socket ? "socketType"
                                           : NULL;
    if (missing) {
        char what[80];
        snprintf(what, sizeof what, "%s %s", s->incoming ? "incomingServer" : "outgoingServer",
                 missing);
        r->doc->line = s->line;
        snprintf(r->doc->error, sizeof r->doc->error, "%s is missing (line %lu)", what, s->line);
        r->failed = true;
        XML_StopParser(r->xp, XML_FALSE);
        return;
    }
    if (r->doc->server_count >= MS_AC_MAX_SERVERS) {
        r->doc->truncated = true;
        return;
    }
    r->doc->servers[r->doc->server_count++] = *s;
}

/* An Autodiscover Protocol is over: keep IMAP/POP3/SMTP settings. */
static void end_autodiscover_server(struct reader *r)
{
    struct pending *p = &r->p;
    struct ms_ac_server *s = &p->s;
    if (strcasecmp(p->type, "IMAP") == 0)
        s->type = MS_AC_IMAP;
    else if (strcasecmp(p->type, "POP3") == 0)
        s->type = MS_AC_POP3;
    else if (strcasecmp(p->type, "SMTP") == 0)
        s->type = MS_AC_SMTP;
    else {
        r->doc->skipped++; /* EXCH, EXPR, WEB, ...: Exchange's own protocols */
        return;
    }
    s->incoming = s->type != MS_AC_SMTP;
    if (!p->has_hostname) {
        r->doc->line = s->line;
        snprintf(r->doc->error, sizeof r->doc->error, "Protocol %.8s without a Server (line %lu)",
                 p->type, s->line);
        r->failed = true;
        XML_StopParser(r->xp, XML_FALSE);
        return;
    }
    /* Encryption (None, SSL, TLS, Auto) wins over SSL (on, off; on when absent). */
    if (p->encryption[0]) {
        snprintf(s->socket_text, sizeof s->socket_text, "Encryption %s", p->encryption);
        if (strcasecmp(p->encryption, "None") == 0)
            s->socket = MS_AC_SOCKET_PLAIN;
        else if (strcasecmp(p->encryption, "TLS") == 0)
            s->socket = MS_AC_SOCKET_STARTTLS;
        else if (strcasecmp(p->encryption, "Auto") == 0)
            s->socket = (p->has_port && (s->port == 993 || s->port == 995 || s->port == 465))
                            ? MS_AC_SOCKET_TLS
                            : MS_AC_SOCKET_STARTTLS;
        else
            s->socket = MS_AC_SOCKET_TLS;
    } else {
        snprintf(s->socket_text, sizeof s->socket_text, "SSL %s", p->ssl[0] ? p->ssl : "(on)");
        s->socket = strcasecmp(p->ssl, "off") == 0 ? MS_AC_SOCKET_PLAIN : MS_AC_SOCKET_TLS;
    }
    if (!p->has_port) {
        bool tls = s->socket == MS_AC_SOCKET_TLS;
        s->port = s->type == MS_AC_IMAP   ? (tls ? 993 : 143)
                  : s->type == MS_AC_POP3 ? (tls ? 995 : 110)
                                          : (tls ? 465 : 587);
    }
    if (p->spa[0])
        snprintf(s->authentication, sizeof s->authentication, "SPA %s", p->spa);
    if (r->doc->server_count >= MS_AC_MAX_SERVERS) {
        r->doc->truncated = true;
        return;
    }
    r->doc->servers[r->doc->server_count++] = *s;
}

static void leaf_text(struct reader *r, enum elem e, const char *text)
{
    struct pending *p = &r->p;
    struct ms_ac_server *s = &p->s;
    switch (e) {
    case E_HOSTNAME:
    case E_SERVER: {
        char raw[MS_AC_MAX_TEXT + 1];
        put(raw, sizeof raw, text);
        ms_autoconfig_expand(raw, r->address, s->hostname, sizeof s->hostname);
        p->has_hostname = s->hostname[0] != '\0';
        break;
    }
    case E_PORT:
    case E_AD_PORT:
        put(p->port, sizeof p->port, text);
        if (!parse_port(p->port, &s->port)) {
            fail(r, "port '%s' is not a number from 1 to 65535", p->port);
            return;
        }
        p->has_port = true;
        break;
    case E_SOCKET_TYPE:
        put(s->socket_text, sizeof s->socket_text, text);
        if (strcasecmp(s->socket_text, "SSL") == 0 || strcasecmp(s->socket_text, "TLS") == 0)
            s->socket = MS_AC_SOCKET_TLS;
        else if (strcasecmp(s->socket_text, "STARTTLS") == 0)
            s->socket = MS_AC_SOCKET_STARTTLS;
        else if (strcasecmp(s->socket_text, "plain") == 0)
            s->socket = MS_AC_SOCKET_PLAIN;
        else {
            fail(r, "socketType '%s' is not SSL, STARTTLS or plain", s->socket_text);
            return;
        }
        p->has_socket = true;
        break;
    case E_USERNAME:
    case E_LOGIN_NAME:
        put(s->username_pattern, sizeof s->username_pattern, text);
        ms_autoconfig_expand(s->username_pattern, r->address, s->username, sizeof s->username);
        p->has_username = true;
        break;
    case E_AUTHENTICATION: {
        char word[64];
        put(word, sizeof word, text);
        size_t used = strlen(s->authentication);
        if (word[0] && used + strlen(word) + 3 < sizeof s->authentication)
            snprintf(s->authentication + used, sizeof s->authentication - used, "%s%s",
                     used ? ", " : "", word);
        break;
    }
    case E_TYPE: put(p->type, sizeof p->type, text); break;
    case E_SSL: put(p->ssl, sizeof p->ssl, text); break;
    case E_ENCRYPTION: put(p->encryption, sizeof p->encryption, text); break;
    case E_SPA: put(p->spa, sizeof p->spa, text); break;
    case E_DISPLAY_NAME:
        if (!r->doc->provider[0])
            put(r->doc->provider, sizeof r->doc->provider, text);
        break;
    case E_ACTION: put(r->action, sizeof r->action, text); break;
    case E_REDIRECT_ADDR:
    case E_REDIRECT_URL: put(r->doc->redirect, sizeof r->doc->redirect, text); break;
    case E_ERROR_CODE: put(r->doc->error_code, sizeof r->doc->error_code, text); break;
    case E_MESSAGE: put(r->doc->error_message, sizeof r->doc->error_message, text); break;
    default: break;
    }
}

static void on_end(void *arg, const char *name)
{
    struct reader *r = arg;
    (void)name;
    if (r->failed || r->depth == 0)
        return;
    enum elem e = r->stack[--r->depth];
    if (is_leaf(e)) {
        r->text[r->text_len] = '\0';
        if (r->text_cut && (e == E_HOSTNAME || e == E_SERVER || e == E_REDIRECT_URL)) {
            fail(r, "a %s longer than 255 bytes", e == E_REDIRECT_URL ? "URL" : "host name");
            return;
        }
        leaf_text(r, e, r->text);
        r->text_len = 0;
        return;
    }
    if ((e == E_INCOMING || e == E_OUTGOING) && r->p.open) {
        r->p.open = false;
        end_autoconfig_server(r);
    } else if (e == E_PROTOCOL && r->p.open) {
        r->p.open = false;
        end_autodiscover_server(r);
    }
}

static void on_doctype(void *arg, const char *name, const char *sysid, const char *pubid,
                       int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    fail(arg, "a document type declaration (DOCTYPE) is not allowed%s", "");
}

static void on_entity(void *arg, const char *name, int is_param, const char *value, int len,
                      const char *base, const char *sysid, const char *pubid, const char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)len;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(arg, "an entity declaration is not allowed%s", "");
}

/* What the whole document lacks, once it parsed. */
static void check_document(struct reader *r)
{
    struct ms_ac_doc *d = r->doc;
    if (r->format == MS_AC_FORMAT_AUTOCONFIG) {
        bool incoming = false;
        for (size_t i = 0; i < d->server_count; i++)
            incoming |= d->servers[i].incoming;
        if (!r->provider_seen)
            snprintf(d->error, sizeof d->error, "no <emailProvider> in <clientConfig>");
        else if (!incoming)
            snprintf(d->error, sizeof d->error, "no IMAP or POP3 incomingServer");
        d->action = MS_AC_ACTION_SETTINGS;
        d->valid = !d->error[0];
        return;
    }
    if (r->error_seen) {
        d->action = MS_AC_ACTION_ERROR;
        d->valid = true;
        return;
    }
    if (!r->response_seen || !r->account_seen) {
        snprintf(d->error, sizeof d->error, "no <Response><Account> in <Autodiscover>");
        return;
    }
    if (strcasecmp(r->action, "redirectAddr") == 0 || strcasecmp(r->action, "redirectUrl") == 0) {
        d->action = strcasecmp(r->action, "redirectAddr") == 0 ? MS_AC_ACTION_REDIRECT_ADDR
                                                               : MS_AC_ACTION_REDIRECT_URL;
        if (!d->redirect[0])
            snprintf(d->error, sizeof d->error, "Action %s without the %s", r->action,
                     d->action == MS_AC_ACTION_REDIRECT_ADDR ? "RedirectAddr" : "RedirectUrl");
    } else {
        d->action = MS_AC_ACTION_SETTINGS;
        if (d->server_count == 0)
            snprintf(d->error, sizeof d->error, "no IMAP, POP3 or SMTP Protocol in the Account");
    }
    d->valid = !d->error[0];
}

int ms_autoconfig_parse(const char *body, size_t len, enum ms_ac_format format,
                        const struct ms_ac_address *address, struct ms_ac_doc *out)
{
    static const struct ms_ac_address none = {"", ""};
    *out = (struct ms_ac_doc){.format = format};
    if (len > MS_AC_MAX_BODY) {
        snprintf(out->error, sizeof out->error, "larger than %d KiB", MS_AC_MAX_BODY / 1024);
        return 0;
    }
    if (len == 0 || !body) {
        snprintf(out->error, sizeof out->error, "empty");
        return 0;
    }
    struct reader *r = calloc(1, sizeof *r);
    if (!r)
        return MS_ENOMEM;
    r->doc = out;
    r->address = address ? address : &none;
    r->format = format;
    r->xp = XML_ParserCreate(NULL);
    if (!r->xp) {
        free(r);
        return MS_ENOMEM;
    }
    XML_SetUserData(r->xp, r);
    XML_SetElementHandler(r->xp, on_start, on_end);
    XML_SetCharacterDataHandler(r->xp, on_text);
    XML_SetStartDoctypeDeclHandler(r->xp, on_doctype);
    XML_SetEntityDeclHandler(r->xp, on_entity);
    XML_SetParamEntityParsing(r->xp, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(r->xp, body, (int)len, XML_TRUE) == XML_STATUS_ERROR && !r->failed) {
        enum XML_Error code = XML_GetErrorCode(r->xp);
        if (code == XML_ERROR_NO_MEMORY) {
            XML_ParserFree(r->xp);
            free(r);
            *out = (struct ms_ac_doc){.format = format};
            return MS_ENOMEM;
        }
        out->line = (unsigned long)XML_GetCurrentLineNumber(r->xp);
        out->column = (unsigned long)XML_GetCurrentColumnNumber(r->xp) + 1;
        snprintf(out->error, sizeof out->error, "not well-formed XML: %s",
                 XML_ErrorString(code) ? XML_ErrorString(code) : "error");
        r->failed = true;
    }
    if (!r->failed && !r->root_seen)
        snprintf(out->error, sizeof out->error, "no root element");
    else if (!r->failed)
        check_document(r);
    if (!out->valid && out->error[0] == '\0')
        snprintf(out->error, sizeof out->error, "not readable");
    if (!out->valid) {
        out->server_count = 0;
        out->truncated = false;
    }
    XML_ParserFree(r->xp);
    free(r);
    return 0;
}

void ms_autoconfig_expand(const char *pattern, const struct ms_ac_address *address, char *dst,
                          size_t cap)
{
    static const struct ms_ac_address none = {"", ""};
    const struct ms_ac_address *a = address ? address : &none;
    static const char *const names[] = {"%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%",
                                        "%REALNAME%"};
    size_t used = 0;
    if (cap == 0)
        return;
    dst[0] = '\0';
    for (const char *p = pattern; *p && used + 1 < cap;) {
        size_t k = 0, n = 0;
        for (; k < 4; k++) {
            n = strlen(names[k]);
            if (strncmp(p, names[k], n) == 0)
                break;
        }
        if (k == 4) {
            dst[used++] = *p++;
            dst[used] = '\0';
            continue;
        }
        int w = k == 0   ? snprintf(dst + used, cap - used, "%s%s%s", a->local,
                                  a->local[0] ? "@" : "", a->domain)
                : k == 1 ? snprintf(dst + used, cap - used, "%s", a->local)
                : k == 2 ? snprintf(dst + used, cap - used, "%s", a->domain)
                         : 0;
        used += w > 0 ? (size_t)w : 0;
        if (used >= cap)
            used = cap - 1;
        p += n;
    }
}

const char *ms_ac_type_name(enum ms_ac_type t)
{
    switch (t) {
    case MS_AC_IMAP: return "imap";
    case MS_AC_POP3: return "pop3";
    default: return "smtp";
    }
}

const char *ms_ac_socket_name(enum ms_ac_socket s)
{
    switch (s) {
    case MS_AC_SOCKET_TLS: return "tls";
    case MS_AC_SOCKET_STARTTLS: return "starttls";
    default: return "plain";
    }
}

size_t ms_autodiscover_request(const char *address, char *dst, size_t cap)
{
    char esc[6 * 256 + 1];
    size_t n = 0;
    for (const char *p = address; *p && n + 7 < sizeof esc; p++) {
        const char *rep = *p == '&'    ? "&amp;"
                          : *p == '<'  ? "&lt;"
                          : *p == '>'  ? "&gt;"
                          : *p == '"'  ? "&quot;"
                          : *p == '\'' ? "&apos;"
                                       : NULL;
        if (rep) {
            memcpy(esc + n, rep, strlen(rep));
            n += strlen(rep);
        } else if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f) {
            esc[n++] = *p;
        }
    }
    esc[n] = '\0';
    int len = snprintf(
        dst, cap,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
        "<Autodiscover "
        "xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/"
        "2006\">\r\n"
        "  <Request>\r\n"
        "    <EMailAddress>%s</EMailAddress>\r\n"
        "    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
        "responseschema/2006a</AcceptableResponseSchema>\r\n"
        "  </Request>\r\n"
        "</Autodiscover>\r\n",
        esc);
    return len < 0 || (size_t)len >= cap ? 0 : (size_t)len;
}
