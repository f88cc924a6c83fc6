#include "probe/tlsa.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "probe/error.h"

enum { DNS_HEADER = 12, TYPE_TLSA = 52, CLASS_IN = 1 };

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Skip a (possibly compressed) name at *off. Returns 0 or MS_EPROTO. */
static int skip_name(const unsigned char *msg, size_t len, size_t *off)
{
    size_t p = *off;
    for (unsigned labels = 0; labels < 128; labels++) {
        if (p >= len)
            return MS_EPROTO;
        unsigned c = msg[p];
        if (c == 0) {
            *off = p + 1;
            return 0;
        }
        if ((c & 0xC0) == 0xC0) { /* a pointer ends the name */
            if (p + 2 > len)
                return MS_EPROTO;
            *off = p + 2;
            return 0;
        }
        if (c & 0xC0)
            return MS_EPROTO; /* extended label types: not in answers we ask for */
        p += 1 + c;
    }
    return MS_EPROTO;
}

int ms_tlsa_parse(const unsigned char *msg, size_t len, struct ms_tlsa_answer *out)
{
    memset(out, 0, sizeof *out);
    if (!msg || len < DNS_HEADER || !(msg[2] & 0x80)) /* QR: a response */
        return MS_EPROTO;
    out->truncated = (msg[2] & 0x02) != 0;
    out->authenticated = (msg[3] & 0x20) != 0;
    out->rcode = msg[3] & 0x0F;
    unsigned qd = get16(msg + 4), an = get16(msg + 6);
    size_t off = DNS_HEADER;
    for (unsigned i = 0; i < qd; i++) {
        if (skip_name(msg, len, &off) < 0 || off + 4 > len)
            return MS_EPROTO;
        off += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        if (skip_name(msg, len, &off) < 0 || off + 10 > len)
            return MS_EPROTO;
        unsigned type = get16(msg + off), cls = get16(msg + off + 2);
        size_t rdlen = get16(msg + off + 8);
        off += 10;
        if (off + rdlen > len)
            return MS_EPROTO;
        if (type == TYPE_TLSA && cls == CLASS_IN && rdlen >= 3 && out->count < MS_MAX_TLSA) {
            struct ms_tlsa_raw *r = &out->records[out->count++];
            r->usage = msg[off];
            r->selector = msg[off + 1];
            r->matching_type = msg[off + 2];
            size_t n = rdlen - 3;
            r->truncated = n > sizeof r->data;
            r->len = r->truncated ? sizeof r->data : n;
            memcpy(r->data, msg + off + 3, r->len);
        }
        off += rdlen;
    }
    return 0;
}

void ms_tlsa_status(const struct ms_tlsa_answer *ans, char *status, size_t status_cap,
                    char *message, size_t message_cap)
{
    /* RFC 1035 4.1.1 and RFC 6895 2.3: the response codes a header can carry */
    static const char *const names[16] = {
        "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE", "DSOTYPENI",
    };
    const char *word = "error";
    if (message_cap)
        message[0] = '\0';
    switch (ans->rcode) {
    case 0: word = ans->count ? "ok" : "nodata"; break;
    case 3: word = "nxdomain"; break;
    case 2:
        word = "servfail";
        snprintf(message, message_cap,
                 "TLSA lookup failed (SERVFAIL: DNSSEC validation may have failed)");
        break;
    default:
        if (ans->rcode >= 0 && ans->rcode < 16 && names[ans->rcode])
            snprintf(message, message_cap, "TLSA lookup failed (%s)", names[ans->rcode]);
        else
            snprintf(message, message_cap, "TLSA lookup failed (response code %d)", ans->rcode);
        break;
    }
    snprintf(status, status_cap, "%s", word);
}

static bool digest_equals(const struct ms_tlsa_raw *rec, const unsigned char *in, size_t in_len)
{
    if (rec->matching_type == 0)
        return !rec->truncated && rec->len == in_len && memcmp(rec->data, in, in_len) == 0;
    const EVP_MD *md = rec->matching_type == 1   ? EVP_sha256()
                       : rec->matching_type == 2 ? EVP_sha512()
                                                 : NULL;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (!md || EVP_Digest(in, in_len, out, &out_len, md, NULL) != 1)
        return false;
    return rec->len == out_len && memcmp(rec->data, out, out_len) == 0;
}

bool ms_tlsa_match(const struct ms_tlsa_raw *rec, const struct ms_tlsa_cert *certs, size_t n)
{
    if (rec->usage > 3 || rec->selector > 1 || rec->matching_type > 2)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct ms_tlsa_cert *c = &certs[i];
        bool ee = rec->usage == 1 || rec->usage == 3;
        if (ee != c->leaf)
            continue;
        if (rec->usage == 0 && !c->anchor)
            continue;
        const unsigned char *in = rec->selector == 0 ? c->der : c->spki;
        size_t in_len = rec->selector == 0 ? c->der_len : c->spki_len;
        if (in && in_len && digest_equals(rec, in, in_len))
            return true;
    }
    return false;
}

void ms_tlsa_hex(const struct ms_tlsa_raw *rec, char *buf, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < rec->len; i++) {
        if (o + 2 + 4 >= cap) {
            snprintf(buf + o, cap - o, "...");
            return;
        }
        o += (size_t)snprintf(buf + o, cap - o, "%02x", rec->data[i]);
    }
}
