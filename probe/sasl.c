#include "probe/sasl.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "probe/text.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const char *ms_sasl_name(enum ms_sasl_mech mech)
{
    switch (mech) {
    case MS_SASL_PLAIN: return "PLAIN";
    case MS_SASL_LOGIN: return "LOGIN";
    case MS_SASL_XOAUTH2: return "XOAUTH2";
    case MS_SASL_OAUTHBEARER: return "OAUTHBEARER";
    default: return "";
    }
}

enum ms_sasl_mech ms_sasl_from_name(const char *name)
{
    for (int m = MS_SASL_PLAIN; m <= MS_SASL_OAUTHBEARER; m++)
        if (strcasecmp(name, ms_sasl_name((enum ms_sasl_mech)m)) == 0)
            return (enum ms_sasl_mech)m;
    return MS_SASL_NONE;
}

void ms_sasl_free_secret(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

int ms_base64_encode(const unsigned char *in, size_t len, char **out)
{
    size_t n = 4 * ((len + 2) / 3);
    char *p = malloc(n + 1);
    if (!p)
        return MS_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        p[o++] = b64_alphabet[(v >> 18) & 63];
        p[o++] = b64_alphabet[(v >> 12) & 63];
        p[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        p[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    p[o] = '\0';
    *out = p;
    return 0;
}

static int b64_value(unsigned char c)
{
    const char *hit = c ? strchr(b64_alphabet, c) : NULL;
    return hit ? (int)(hit - b64_alphabet) : -1;
}

/* Decode into out (cap bytes), or only check when out is NULL. */
static int base64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                         size_t *out_len)
{
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    size_t i = 0;
    for (; i < len && in[i] != '='; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return MS_EPROTO;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (out && o >= cap)
                return MS_ETOOBIG;
            if (out)
                out[o] = (unsigned char)(acc >> bits);
            o++;
            acc &= (1u << bits) - 1;
        }
    }
    size_t pad = 0;
    for (; i < len; i++, pad++)
        if (in[i] != '=' || pad >= 2)
            return MS_EPROTO;
    if (bits >= 6) /* one lone base64 digit cannot encode a byte */
        return MS_EPROTO;
    *out_len = o;
    return 0;
}

int ms_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *out_len)
{
    return base64_decode(in, len, out, cap, out_len);
}

bool ms_base64_valid(const char *in, size_t len)
{
    size_t n;
    return in && base64_decode(in, len, NULL, 0, &n) == 0;
}

static bool has_byte(const char *s, const char *bytes)
{
    return strpbrk(s, bytes) != NULL;
}

/* Base64 of the len bytes at msg, wiping msg afterwards. */
static int encode_and_wipe(char *msg, size_t len, char **out)
{
    int rc = ms_base64_encode((const unsigned char *)msg, len, out);
    explicit_bzero(msg, len);
    free(msg);
    return rc;
}

int ms_sasl_initial_response(enum ms_sasl_mech mech, const char *user, const char *secret,
                             const char *host, uint16_t port, char **out)
{
    *out = NULL;
    size_t ulen = strlen(user), slen = strlen(secret), hlen = host ? strlen(host) : 0;
    size_t cap = ulen + slen + hlen + 64;
    if (has_byte(user, "\r\n\x01") || has_byte(secret, "\r\n\x01") ||
        (host && has_byte(host, "\r\n\x01")))
        return MS_EINVAL;
    /* RFC 7628 GS2 header with the authzid: a comma or '=' in it would need escaping. */
    if (mech == MS_SASL_OAUTHBEARER && has_byte(user, ",="))
        return MS_EINVAL;
    if (mech != MS_SASL_PLAIN && mech != MS_SASL_XOAUTH2 && mech != MS_SASL_OAUTHBEARER)
        return MS_EINVAL; /* LOGIN has no initial response */
    char *msg = malloc(cap);
    if (!msg)
        return MS_ENOMEM;
    size_t len = 0;
    switch (mech) {
    case MS_SASL_PLAIN:
        /* authzid empty, authcid, password: "\0user\0secret" */
        msg[len++] = '\0';
        memcpy(msg + len, user, ulen);
        len += ulen;
        msg[len++] = '\0';
        memcpy(msg + len, secret, slen);
        len += slen;
        break;
    case MS_SASL_XOAUTH2:
        len = (size_t)snprintf(msg, cap,
                               "user=%s\x01"
                               "auth=Bearer %s\x01\x01",
                               user, secret);
        break;
    case MS_SASL_OAUTHBEARER:
        len = (size_t)snprintf(msg, cap,
                               "n,a=%s,\x01host=%s\x01port=%u\x01"
                               "auth=Bearer %s\x01\x01",
                               user, host ? host : "", (unsigned)port, secret);
        break;
    default: break; /* refused above */
    }
    return encode_and_wipe(msg, len, out);
}

int ms_sasl_login_reply(unsigned step, const char *user, const char *password, char **out)
{
    *out = NULL;
    if (step > 1)
        return MS_EPROTO;
    const char *value = step == 0 ? user : password;
    size_t len = strlen(value);
    char *copy = malloc(len + 1);
    if (!copy)
        return MS_ENOMEM;
    memcpy(copy, value, len + 1);
    return encode_and_wipe(copy, len, out);
}

void ms_sasl_describe_challenge(const char *b64, size_t len, char *text, size_t cap)
{
    unsigned char decoded[MS_SASL_MAX_CHALLENGE];
    size_t n = 0;
    if (len > 0 && ms_base64_decode(b64, len, decoded, sizeof decoded, &n) == 0)
        ms_text_sanitize(text, cap, (const char *)decoded, n);
    else
        ms_text_sanitize(text, cap, b64, len);
}
