/* DANE (RFC 6698, 7671): TLSA records out of a raw DNS answer, and whether they match a
 * certificate chain. Pure functions (bytes in, facts out): unit-tested and fuzzed. */
#ifndef MS_TLSA_H
#define MS_TLSA_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/result.h"

#define MS_TLSA_MAX_DATA                                                                           \
    1024 /* association data kept per record (a full certificate may be                            \
            larger: it then never matches) */

struct ms_tlsa_raw {
    int usage, selector, matching_type;
    unsigned char data[MS_TLSA_MAX_DATA];
    size_t len;
    bool truncated;
};

struct ms_tlsa_answer {
    int rcode;          /* 0 NOERROR, 3 NXDOMAIN, ... */
    bool authenticated; /* the AD bit */
    bool truncated;     /* the TC bit */
    struct ms_tlsa_raw records[MS_MAX_TLSA];
    size_t count;
};

/* Parse a DNS response message: header flags and the TLSA (type 52) records of its answer
 * section. Returns 0, or MS_EPROTO for a message that is not a valid DNS response. */
int ms_tlsa_parse(const unsigned char *msg, size_t len, struct ms_tlsa_answer *out);

/* What a parsed answer says about the TLSA question, as struct ms_dane_facts keeps it:
 * status "ok" (records), "nodata" (NOERROR, none), "nxdomain", "servfail" (the resolver
 * failed: a validating resolver's answer to a bogus, failed-validation, RRset) or "error"
 * (another response code); message: "" or, for a failure, words naming the response code
 * ("TLSA lookup failed (SERVFAIL: DNSSEC validation may have failed)"). */
void ms_tlsa_status(const struct ms_tlsa_answer *ans, char *status, size_t status_cap,
                    char *message, size_t message_cap);

/* A certificate of the chain, in DER, with its SubjectPublicKeyInfo in DER. */
struct ms_tlsa_cert {
    const unsigned char *der;
    size_t der_len;
    const unsigned char *spki;
    size_t spki_len;
    bool leaf;   /* the server's own certificate */
    bool anchor; /* usage 0: on the path this machine verified (a CA of it) */
};

/* Does rec match the chain? Usages 1 and 3 (PKIX-EE, DANE-EE) match the leaf; 0 (PKIX-TA)
 * a CA on the verified path; 2 (DANE-TA) any CA certificate the server sent. Selectors 0
 * (whole certificate) and 1 (public key); matching types 0 (exact), 1 (SHA-256) and 2
 * (SHA-512). An unknown usage, selector or type never matches (RFC 7671 4.1: unusable). */
bool ms_tlsa_match(const struct ms_tlsa_raw *rec, const struct ms_tlsa_cert *certs, size_t n);

/* rec's data as lower-case hex into buf (cut with "..." when it does not fit). */
void ms_tlsa_hex(const struct ms_tlsa_raw *rec, char *buf, size_t cap);

#endif
