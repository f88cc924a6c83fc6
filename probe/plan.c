#include "probe/plan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ms_ports ms_plan_default_ports(void)
{
    return (struct ms_ports){.imap = 143,
                             .imaps = 993,
                             .pop3 = 110,
                             .pop3s = 995,
                             .submission = 587,
                             .submissions = 465,
                             .https = 443,
                             .http = 80};
}

static bool is_ipv6(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET6, s, buf) == 1;
}

/* A DNS name (letters, digits, '-', '_', dots; labels 1..63) or an IPv4 literal. */
static bool valid_hostname(const char *s)
{
    size_t len = strlen(s), label = 0;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-' && c != '_')
            return false;
        if (++label > 63)
            return false;
    }
    return true;
}

static int parse_port(const char *text, size_t len, uint16_t *port)
{
    if (len == 0 || len > 5)
        return MS_EINVAL;
    unsigned long value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i]))
            return MS_EINVAL;
        value = value * 10 + (unsigned long)(text[i] - '0');
    }
    if (value == 0 || value > 65535)
        return MS_EINVAL;
    *port = (uint16_t)value;
    return 0;
}

/* A URL's authority with two colons or more and no brackets: an IPv6 literal written the way
 * RFC 3986 forbids ("imaps://::1:993" is ambiguous). Refused with the bracketed form. */
static int unbracketed_ipv6(const char *scheme, size_t scheme_len, const char *auth,
                            struct ms_error *err)
{
    const char *last = strrchr(auth, ':');
    size_t digits = strlen(last + 1);
    char prefix[MS_MAX_HOST + 8];
    size_t prefix_len = (size_t)(last - auth);
    memcpy(prefix, auth, prefix_len);
    prefix[prefix_len] = '\0';
    bool port = digits > 0 && digits <= 5 && strspn(last + 1, "0123456789") == digits;
    if (port && is_ipv6(prefix))
        return ms_error_set(err, MS_EINVAL,
                            "an IPv6 address in a URL needs brackets (RFC 3986): %.*s[%s]:%s",
                            (int)scheme_len, scheme, prefix, last + 1);
    return ms_error_set(err, MS_EINVAL,
                        "an IPv6 address in a URL needs brackets (RFC 3986): %.*s[%s]",
                        (int)scheme_len, scheme, auth);
}

/* host[:port] or [v6][:port] or a bare IPv6 literal (no port) into out. scheme: the URL's
 * "imaps://" as written, or NULL for a bare host (which takes no port). */
static int parse_authority(const char *text, size_t len, const char *scheme, size_t scheme_len,
                           struct ms_target *out, struct ms_error *err)
{
    bool allow_port = scheme != NULL;
    char buf[MS_MAX_HOST + 8];
    if (len == 0)
        return ms_error_set(err, MS_EINVAL, "the target has no host name");
    if (len >= sizeof buf)
        return ms_error_set(err, MS_EINVAL, "the host name is longer than %d characters",
                            MS_MAX_HOST);
    memcpy(buf, text, len);
    buf[len] = '\0';
    const char *port = NULL;
    char *host = buf;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close)
            return ms_error_set(err, MS_EINVAL, "'[' without ']' in '%s'", buf);
        *close = '\0';
        host = buf + 1;
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return ms_error_set(err, MS_EINVAL, "unexpected text after ']' in the target");
        if (!is_ipv6(host))
            return ms_error_set(err, MS_EINVAL, "'%s' is not an IPv6 address", host);
    } else if (scheme && strchr(buf, ':') != strrchr(buf, ':')) {
        return unbracketed_ipv6(scheme, scheme_len, buf, err);
    } else if (is_ipv6(buf)) {
        host = buf; /* bare IPv6 literal: no port possible */
    } else {
        char *colon = strchr(buf, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
        if (!valid_hostname(host))
            return ms_error_set(err, MS_EINVAL, "'%s' is not a valid host name", host);
    }
    if (port) {
        if (!allow_port)
            return ms_error_set(
                err, MS_EINVAL,
                "a bare host takes no port; use a URL such as imaps://%s:%s or --ports", host,
                port);
        if (parse_port(port, strlen(port), &out->port) < 0)
            return ms_error_set(err, MS_EINVAL, "'%s' is not a port number (1-65535)", port);
    }
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    size_t host_len = strlen(host);
    if (host_len > MS_MAX_HOST)
        return ms_error_set(err, MS_EINVAL, "the host name is longer than %d characters",
                            MS_MAX_HOST);
    memcpy(out->host, host, host_len + 1);
    return 0;
}

int ms_plan_parse_target(const char *text, struct ms_target *out, struct ms_error *err)
{
    static const struct {
        const char *scheme;
        enum ms_protocol protocol;
        enum ms_security security;
    } schemes[] = {
        {"imaps://", MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT},
        {"imap://", MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS},
        {"pop3s://", MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT},
        {"pop3://", MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS},
        {"submissions://", MS_PROTOCOL_SUBMISSION, MS_SECURITY_IMPLICIT},
        {"submission://", MS_PROTOCOL_SUBMISSION, MS_SECURITY_STARTTLS},
        /* the relay port 25, as some users configure it: probed as STARTTLS submission and
         * always reported (submission.port25) */
        {"smtp://", MS_PROTOCOL_SUBMISSION, MS_SECURITY_STARTTLS},
    };
    *out = (struct ms_target){0};
    size_t len = strlen(text);
    if (strstr(text, "://")) {
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
            size_t n = strlen(schemes[i].scheme);
            if (len < n || strncasecmp(text, schemes[i].scheme, n) != 0)
                continue;
            out->is_url = true;
            out->protocol = schemes[i].protocol;
            out->security = schemes[i].security;
            out->smtp_relay = strcmp(schemes[i].scheme, "smtp://") == 0;
            const char *auth = text + n;
            size_t auth_len = strcspn(auth, "/?#");
            if (strchr(auth, '@') && strchr(auth, '@') < auth + auth_len)
                return ms_error_set(err, MS_EINVAL,
                                    "user names do not belong in the URL; use --user");
            /* Allow a trailing "/" but no path: a path would mean a mailbox we do not probe. */
            if (auth[auth_len] != '\0' && strcmp(auth + auth_len, "/") != 0)
                return ms_error_set(err, MS_EINVAL, "'%s': a target URL takes no path or query",
                                    text);
            return parse_authority(auth, auth_len, text, n, out, err);
        }
        return ms_error_set(err, MS_EINVAL,
                            "unknown scheme in '%s' (use imap://, imaps://, pop3://, pop3s://, "
                            "submission://, submissions:// or smtp://)",
                            text);
    }
    const char *at = strrchr(text, '@');
    if (at) {
        size_t user_len = (size_t)(at - text);
        if (user_len == 0 || user_len > 64)
            return ms_error_set(err, MS_EINVAL, "'%s' is not an e-mail address (bad local part)",
                                text);
        for (size_t i = 0; i < user_len; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c <= 0x20 || c >= 0x7f || c == '@')
                return ms_error_set(err, MS_EINVAL,
                                    "'%s' is not an e-mail address (bad local part)", text);
        }
        int rc = ms_plan_parse_domain(at + 1, out, err);
        if (rc == 0) {
            memcpy(out->user, text, user_len);
            out->user[user_len] = '\0';
        }
        return rc;
    }
    return parse_authority(text, len, NULL, 0, out, err);
}

int ms_plan_parse_domain(const char *text, struct ms_target *out, struct ms_error *err)
{
    *out = (struct ms_target){0};
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '.')
        len--; /* "example.com." is the same domain */
    if (len == 0 || len > MS_MAX_HOST)
        return ms_error_set(err, MS_EINVAL, "'%s' is not a domain name", text);
    memcpy(out->host, text, len);
    out->host[len] = '\0';
    if (!valid_hostname(out->host) || !strchr(out->host, '.'))
        return ms_error_set(err, MS_EINVAL, "'%s' is not a domain name", text);
    unsigned char buf[4];
    if (inet_pton(AF_INET, out->host, buf) == 1)
        return ms_error_set(err, MS_EINVAL, "'%s' is an address, not a domain name", text);
    for (char *p = out->host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    out->is_discovery = true;
    return 0;
}

int ms_plan_parse_ports(const char *text, struct ms_ports *ports, struct ms_error *err)
{
    const char *p = text;
    if (!*p)
        return ms_error_set(err, MS_EINVAL, "--ports needs NAME=PORT pairs");
    while (*p) {
        size_t item = strcspn(p, ",");
        const char *eq = memchr(p, '=', item);
        if (!eq)
            return ms_error_set(err, MS_EINVAL, "--ports: '%.*s' is not NAME=PORT", (int)item, p);
        size_t name_len = (size_t)(eq - p);
        uint16_t value;
        if (parse_port(eq + 1, item - name_len - 1, &value) < 0)
            return ms_error_set(err, MS_EINVAL, "--ports: '%.*s' is not a port number (1-65535)",
                                (int)(item - name_len - 1), eq + 1);
        uint16_t *slot = NULL;
        if (name_len == 10 && strncasecmp(p, "submission", 10) == 0)
            slot = &ports->submission;
        else if (name_len == 11 && strncasecmp(p, "submissions", 11) == 0)
            slot = &ports->submissions;
        else if (name_len == 4 && strncasecmp(p, "imap", 4) == 0)
            slot = &ports->imap;
        else if (name_len == 5 && strncasecmp(p, "imaps", 5) == 0)
            slot = &ports->imaps;
        else if (name_len == 4 && strncasecmp(p, "pop3", 4) == 0)
            slot = &ports->pop3;
        else if (name_len == 5 && strncasecmp(p, "pop3s", 5) == 0)
            slot = &ports->pop3s;
        else if (name_len == 5 && strncasecmp(p, "https", 5) == 0)
            slot = &ports->https; /* autoconfig / Autodiscover (issue 16) */
        else if (name_len == 4 && strncasecmp(p, "http", 4) == 0)
            slot = &ports->http;
        if (!slot)
            return ms_error_set(err, MS_EINVAL,
                                "--ports: unknown name '%.*s' (use imap, imaps, pop3, pop3s, "
                                "submission, submissions, https, http)",
                                (int)name_len, p);
        *slot = value;
        p += item;
        if (*p == ',')
            p++;
    }
    return 0;
}

int ms_plan_parse_pin(const char *text, struct ms_pin *out, struct ms_error *err)
{
    *out = (struct ms_pin){0};
    const char *colon = strchr(text, ':');
    if (!colon || colon == text)
        return ms_error_set(err, MS_EINVAL, "--resolve needs HOST:ADDRESS, got '%s'", text);
    size_t host_len = (size_t)(colon - text);
    if (host_len > MS_MAX_HOST)
        return ms_error_set(err, MS_EINVAL, "--resolve: host name too long");
    memcpy(out->host, text, host_len);
    out->host[host_len] = '\0';
    if (!valid_hostname(out->host))
        return ms_error_set(err, MS_EINVAL, "--resolve: '%s' is not a valid host name", out->host);
    const char *addr = colon + 1;
    size_t addr_len = strlen(addr);
    if (addr_len >= 2 && addr[0] == '[' && addr[addr_len - 1] == ']') {
        addr++;
        addr_len -= 2;
    }
    if (addr_len == 0 || addr_len >= sizeof out->address)
        return ms_error_set(err, MS_EINVAL, "--resolve: '%s' is not an IP address", colon + 1);
    memcpy(out->address, addr, addr_len);
    out->address[addr_len] = '\0';
    unsigned char buf[16];
    if (inet_pton(AF_INET, out->address, buf) != 1 && inet_pton(AF_INET6, out->address, buf) != 1)
        return ms_error_set(err, MS_EINVAL, "--resolve: '%s' is not an IP address", out->address);
    return 0;
}

static int add_endpoint(struct ms_request *req, enum ms_protocol protocol,
                        enum ms_security security, const char *host, uint16_t port, bool required,
                        struct ms_error *err)
{
    for (size_t i = 0; i < req->endpoint_count; i++) {
        struct ms_endpoint_spec *e = &req->endpoints[i];
        if (e->protocol == protocol && e->security == security && e->port == port &&
            strcmp(e->host, host) == 0) {
            e->required = e->required || required;
            return 0;
        }
    }
    if (req->endpoint_count >= MS_MAX_ENDPOINTS)
        return ms_error_set(err, MS_EINVAL, "too many endpoints (at most %d)", MS_MAX_ENDPOINTS);
    if (req->endpoint_count == req->endpoint_capacity) {
        size_t cap = req->endpoint_capacity ? 2 * req->endpoint_capacity : 4;
        struct ms_endpoint_spec *grown = realloc(req->endpoints, cap * sizeof *grown);
        if (!grown)
            return ms_error_set(err, MS_ENOMEM, "out of memory");
        req->endpoints = grown;
        req->endpoint_capacity = cap;
    }
    struct ms_endpoint_spec *e = &req->endpoints[req->endpoint_count++];
    *e = (struct ms_endpoint_spec){.protocol = protocol,
                                   .security = security,
                                   .port = port,
                                   .required = required,
                                   .source = MS_SOURCE_TARGET,
                                   .srv_priority = -1,
                                   .srv_weight = -1};
    snprintf(e->host, sizeof e->host, "%s", host);
    req->want[protocol] = true;
    return 0;
}

int ms_plan_parse_protocols(const char *text, unsigned *want, struct ms_error *err)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {
        {"imap", MS_WANT(MS_PROTOCOL_IMAP)},
        {"imap4", MS_WANT(MS_PROTOCOL_IMAP)},
        {"pop3", MS_WANT(MS_PROTOCOL_POP3)},
        {"pop", MS_WANT(MS_PROTOCOL_POP3)},
        {"submission", MS_WANT(MS_PROTOCOL_SUBMISSION)},
        {"smtp", MS_WANT(MS_PROTOCOL_SUBMISSION)},
        {"all", MS_WANT_ALL},
    };
    *want = 0;
    char buf[128];
    if (strlen(text) >= sizeof buf)
        return ms_error_set(err, MS_EINVAL, "--protocols: the list is too long");
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] && strcasecmp(tok, names[k].name) != 0)
            k++;
        if (k == sizeof names / sizeof names[0])
            return ms_error_set(err, MS_EINVAL,
                                "--protocols: unknown protocol '%.32s' (use imap, pop3, "
                                "submission or all)",
                                tok);
        *want |= names[k].bits;
    }
    if (!*want)
        return ms_error_set(err, MS_EINVAL, "--protocols needs imap, pop3, submission or all");
    return 0;
}

/* The standard port of a protocol and security (port 25 for smtp://). */
static uint16_t standard_port(const struct ms_target *t)
{
    bool implicit = t->security == MS_SECURITY_IMPLICIT;
    switch (t->protocol) {
    case MS_PROTOCOL_IMAP: return implicit ? 993 : 143;
    case MS_PROTOCOL_POP3: return implicit ? 995 : 110;
    default: return t->smtp_relay ? 25 : implicit ? 465 : 587;
    }
}

int ms_plan_add(struct ms_request *req, const struct ms_target *target,
                const struct ms_ports *ports, unsigned want, struct ms_error *err)
{
    int rc = 0;
    bool chosen = want != 0; /* --protocols was given */
    if (!want)
        want = target->is_discovery ? MS_WANT_ALL : MS_WANT_RECEIVE;
    if (target->is_discovery || req->discover_domain[0]) {
        if (!target->is_discovery || req->discover_domain[0] || req->endpoint_count > 0)
            return ms_error_set(err, MS_EINVAL,
                                "an e-mail address or --discover must be the only target");
        memcpy(req->discover_domain, target->host, sizeof req->discover_domain);
        memcpy(req->discover_user, target->user, sizeof req->discover_user);
        for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
            req->want[p] = (want & MS_WANT(p)) != 0;
        req->ports = *ports;
        return 0;
    }
    if (target->is_url) {
        bool wanted = !chosen || (want & MS_WANT(target->protocol));
        if (!wanted)
            return ms_error_set(err, MS_EINVAL, "a %s URL was given, but --protocols excludes %s",
                                ms_protocol_name(target->protocol),
                                ms_protocol_name(target->protocol));
        uint16_t port = target->port ? target->port : standard_port(target);
        rc = add_endpoint(req, target->protocol, target->security, target->host, port, true, err);
        for (size_t i = 0; rc == 0 && target->smtp_relay && i < req->endpoint_count; i++) {
            struct ms_endpoint_spec *e = &req->endpoints[i];
            if (e->protocol == target->protocol && e->security == target->security &&
                e->port == port && strcmp(e->host, target->host) == 0)
                e->smtp_url = true; /* reported as the user wrote it (submission.port25) */
        }
        return rc;
    }
    req->bare_host = true;
    if (want & MS_WANT(MS_PROTOCOL_IMAP)) {
        rc = add_endpoint(req, MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, target->host, ports->imaps,
                          false, err);
        if (rc == 0)
            rc = add_endpoint(req, MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, target->host,
                              ports->imap, false, err);
    }
    if (rc == 0 && (want & MS_WANT(MS_PROTOCOL_POP3))) {
        rc = add_endpoint(req, MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, target->host, ports->pop3s,
                          false, err);
        if (rc == 0)
            rc = add_endpoint(req, MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS, target->host,
                              ports->pop3, false, err);
    }
    if (rc == 0 && (want & MS_WANT(MS_PROTOCOL_SUBMISSION))) {
        rc = add_endpoint(req, MS_PROTOCOL_SUBMISSION, MS_SECURITY_IMPLICIT, target->host,
                          ports->submissions, false, err);
        if (rc == 0)
            rc = add_endpoint(req, MS_PROTOCOL_SUBMISSION, MS_SECURITY_STARTTLS, target->host,
                              ports->submission, false, err);
    }
    return rc;
}

void ms_request_release(struct ms_request *req)
{
    free(req->endpoints);
    req->endpoints = NULL;
    req->endpoint_count = req->endpoint_capacity = 0;
}

int ms_request_copy(struct ms_request *dst, const struct ms_request *src)
{
    *dst = *src;
    dst->endpoints = NULL;
    dst->endpoint_capacity = 0;
    if (src->endpoint_count == 0)
        return 0;
    dst->endpoints = malloc(src->endpoint_count * sizeof *dst->endpoints);
    if (!dst->endpoints) {
        dst->endpoint_count = 0;
        return MS_ENOMEM;
    }
    memcpy(dst->endpoints, src->endpoints, src->endpoint_count * sizeof *dst->endpoints);
    dst->endpoint_capacity = src->endpoint_count;
    return 0;
}

void ms_plan_fair_shares(const size_t n[2], size_t cap, size_t quota[2])
{
    size_t half[2] = {cap - cap / 2, cap / 2}; /* an odd cap: receiving gets the extra one */
    for (int f = 0; f < 2; f++)
        quota[f] = n[f] < half[f] ? n[f] : half[f];
    for (int f = 0; f < 2; f++) { /* what one family leaves, the other may use */
        size_t spare = cap - quota[0] - quota[1], more = n[f] - quota[f];
        quota[f] += more < spare ? more : spare;
    }
}
