#include "probe/audit.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/dns.h"
#include "probe/session.h"
#include "probe/text.h"
#include "probe/tls.h"
#include "probe/tlsa.h"

enum ms_tls_probe_kind {
    MS_TP_VERSION,       /* param: enum ms_audit_version */
    MS_TP_WEAK,          /* param: enum ms_weak_class */
    MS_TP_GROUP,         /* param: enum ms_audit_group */
    MS_TP_GROUP_REVERSE, /* every group, in the opposite order */
    MS_TP_DHE,
    MS_TP_NO_SNI,
    MS_TP_BEST, /* default versions, SNI, OCSP request: chain, stapling, DANE */
};

#define MS_AUDIT_MAX_PROBES (MS_AV_COUNT + MS_WC_COUNT + MS_AG_COUNT + 4)

struct ms_tls_probe {
    struct ms_audit *audit;
    enum ms_tls_probe_kind kind;
    int param;
    struct ms_audit_probe *out;
    char label[32];
    bool up; /* the handshake completed */
};

struct dane_ticket {
    struct ms_audit *a; /* NULL once the audit stopped waiting */
};

/* A certificate's DER and public key DER, kept from the best handshake for DANE. */
struct kept_cert {
    unsigned char *der, *spki;
    size_t der_len, spki_len;
    bool leaf, anchor;
};

struct ms_audit {
    struct ms_tls_audit *facts;
    SSL_CTX *ctx;
    struct ms_tls_probe probes[MS_AUDIT_MAX_PROBES];
    size_t count;
    struct ms_audit_probe sni, reverse; /* the no-SNI and reverse-order handshakes */
    struct ms_session_env *env;
    struct dane_ticket *ticket; /* the TLSA question in flight */
    struct ms_tlsa_answer *tlsa;
    struct kept_cert certs[2 * MS_MAX_CHAIN];
    size_t cert_count;
};

static const char *const version_labels[MS_AV_COUNT] = {"ssl3", "tls1.0", "tls1.1", "tls1.2",
                                                        "tls1.3"};
static const int version_numbers[MS_AV_COUNT] = {SSL3_VERSION, TLS1_VERSION, TLS1_1_VERSION,
                                                 TLS1_2_VERSION, TLS1_3_VERSION};
static const char *const weak_labels[MS_WC_COUNT] = {"null", "anon", "export",    "des",
                                                     "rc4",  "rsa",  "cbc-tls1.0"};
/* One cipher string per class (TLS <= 1.2); NULL: no handshake of its own. */
static const char *const weak_ciphers[MS_WC_COUNT] = {
    [MS_WC_NULL] = "eNULL:@SECLEVEL=0",
    [MS_WC_ANON] = "aNULL:!eNULL:@SECLEVEL=0",
    [MS_WC_EXPORT] = "EXP:@SECLEVEL=0",
    [MS_WC_DES] = "DES:3DES:!aNULL:!eNULL:@SECLEVEL=0",
    [MS_WC_RC4] = "RC4:!aNULL:!eNULL:@SECLEVEL=0",
    [MS_WC_STATIC_RSA] = "kRSA:!aNULL:!eNULL:@SECLEVEL=0",
};
static const char *const group_names[MS_AG_COUNT] = {"X25519", "P-256", "P-384", "P-521", "X448"};
#define GROUPS_FORWARD "X25519:P-256:P-384:P-521:X448"
#define GROUPS_REVERSE "X448:P-521:P-384:P-256:X25519"
#define CIPHERS_ANY "ALL:@SECLEVEL=0"
#define CIPHERS_ECDHE "kECDHE:!aNULL:!eNULL:@SECLEVEL=0"
#define CIPHERS_DHE "kDHE:!aNULL:!eNULL:@SECLEVEL=0"

static void init_probe(struct ms_audit_probe *p)
{
    memset(p, 0, sizeof *p);
    p->ms = -1;
}

static void untestable(struct ms_audit_probe *p, const char *why)
{
    p->outcome = MS_AUDIT_UNTESTABLE;
    snprintf(p->note, sizeof p->note, "%s", why);
}

static struct ms_tls_probe *add(struct ms_audit *a, enum ms_tls_probe_kind kind, int param,
                                struct ms_audit_probe *out, const char *label)
{
    struct ms_tls_probe *p = &a->probes[a->count++];
    *p = (struct ms_tls_probe){.audit = a, .kind = kind, .param = param, .out = out};
    snprintf(p->label, sizeof p->label, "audit-%s", label);
    return p;
}

/* Can this OpenSSL offer the cipher string at all? */
static bool ciphers_available(SSL_CTX *ctx, const char *list)
{
    SSL *ssl = SSL_new(ctx);
    bool ok = ssl && SSL_set_cipher_list(ssl, list) == 1;
    SSL_free(ssl);
    ERR_clear_error();
    return ok;
}

struct ms_audit *ms_audit_new(struct ms_tls_audit *facts, SSL_CTX *ctx)
{
    struct ms_audit *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->facts = facts;
    a->ctx = ctx;
    for (int v = 0; v < MS_AV_COUNT; v++) {
        init_probe(&facts->versions[v]);
#ifdef OPENSSL_NO_SSL3
        if (v == MS_AV_SSL3) {
            untestable(&facts->versions[v], "this OpenSSL build cannot speak SSLv3");
            continue;
        }
#endif
        add(a, MS_TP_VERSION, v, &facts->versions[v], version_labels[v]);
    }
    for (int w = 0; w < MS_WC_COUNT; w++) {
        init_probe(&facts->weak[w]);
        if (!weak_ciphers[w])
            continue; /* judged from the TLS 1.0 handshake */
        if (!ciphers_available(ctx, weak_ciphers[w])) {
            untestable(&facts->weak[w], "this OpenSSL build has no such cipher suites to offer");
            continue;
        }
        add(a, MS_TP_WEAK, w, &facts->weak[w], weak_labels[w]);
    }
    for (int g = 0; g < MS_AG_COUNT; g++) {
        init_probe(&facts->groups[g]);
        char label[24];
        snprintf(label, sizeof label, "group-%s", group_names[g]);
        add(a, MS_TP_GROUP, g, &facts->groups[g], label);
    }
    init_probe(&a->reverse);
    add(a, MS_TP_GROUP_REVERSE, 0, &a->reverse, "group-order");
    init_probe(&facts->dhe);
    add(a, MS_TP_DHE, 0, &facts->dhe, "dhe");
    init_probe(&a->sni);
    add(a, MS_TP_NO_SNI, 0, &a->sni, "no-sni");
    init_probe(&facts->best);
    add(a, MS_TP_BEST, 0, &facts->best, "chain");
    facts->handshakes = (unsigned)a->count;
    return a;
}

void ms_audit_free(struct ms_audit *a)
{
    if (!a)
        return;
    if (a->ticket) {
        a->ticket->a = NULL; /* the resolver's answer, if it ever comes, frees it */
        a->ticket = NULL;
    }
    for (size_t i = 0; i < a->cert_count; i++) {
        OPENSSL_free(a->certs[i].der);
        OPENSSL_free(a->certs[i].spki);
    }
    free(a->tlsa);
    free(a);
}

size_t ms_audit_probe_count(const struct ms_audit *a)
{
    return a->count;
}

struct ms_tls_probe *ms_audit_probe_at(struct ms_audit *a, size_t k)
{
    return k < a->count ? &a->probes[k] : NULL;
}

const char *ms_tls_probe_label(const struct ms_tls_probe *p)
{
    return p->label;
}

/* ---- one handshake ---- */

SSL_CTX *ms_tls_probe_ctx(const struct ms_tls_probe *p)
{
    return p->audit->ctx;
}

int ms_tls_probe_setup(const struct ms_tls_probe *p, SSL *ssl)
{
    int min = 0, max = 0; /* 0: every version the context allows */
    const char *ciphers = CIPHERS_ANY, *groups = GROUPS_FORWARD;
    switch (p->kind) {
    case MS_TP_VERSION: min = max = version_numbers[p->param]; break;
    case MS_TP_WEAK:
        max = TLS1_2_VERSION;
        ciphers = weak_ciphers[p->param];
        break;
    case MS_TP_GROUP:
        groups = group_names[p->param];
        ciphers = CIPHERS_ECDHE; /* under TLS 1.2 only the ECDHE suites use the group */
        break;
    case MS_TP_GROUP_REVERSE:
        groups = GROUPS_REVERSE;
        ciphers = CIPHERS_ECDHE;
        break;
    case MS_TP_DHE:
        max = TLS1_2_VERSION;
        ciphers = CIPHERS_DHE;
        break;
    case MS_TP_NO_SNI:
        if (SSL_set_tlsext_host_name(ssl, NULL) != 1)
            return MS_ENOMEM;
        break;
    case MS_TP_BEST:
        if (SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp) != 1)
            return MS_ENOMEM;
        break;
    }
    bool ok = SSL_set_min_proto_version(ssl, min) == 1 &&
              SSL_set_max_proto_version(ssl, max) == 1 && SSL_set_cipher_list(ssl, ciphers) == 1 &&
              SSL_set1_groups_list(ssl, groups) == 1;
    ERR_clear_error();
    return ok ? 0 : MS_ETLS;
}

/* The key exchange: its group ("X25519", "P-256", "DH", "RSA") and the key's bits. */
static void key_exchange(SSL *ssl, char *group, size_t cap, int *bits)
{
    EVP_PKEY *key = NULL;
    group[0] = '\0';
    *bits = 0;
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    if (SSL_get_peer_tmp_key(ssl, &key) != 1 || !key) {
        if (c && SSL_CIPHER_get_kx_nid(c) == NID_kx_rsa)
            snprintf(group, cap, "RSA");
        ERR_clear_error();
        return;
    }
    *bits = EVP_PKEY_get_bits(key);
    char name[64] = "";
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_X25519: snprintf(group, cap, "X25519"); break;
    case EVP_PKEY_X448: snprintf(group, cap, "X448"); break;
    case EVP_PKEY_DH: snprintf(group, cap, "DH"); break;
    case EVP_PKEY_EC:
        EVP_PKEY_get_group_name(key, name, sizeof name, NULL);
        snprintf(group, cap, "%s",
                 strcmp(name, "prime256v1") == 0  ? "P-256"
                 : strcmp(name, "secp384r1") == 0 ? "P-384"
                 : strcmp(name, "secp521r1") == 0 ? "P-521"
                                                  : name);
        break;
    default: snprintf(group, cap, "%s", EVP_PKEY_get0_type_name(key)); break;
    }
    EVP_PKEY_free(key);
    ERR_clear_error();
}

static bool is_cbc(const SSL_CIPHER *c)
{
    int nid = c ? SSL_CIPHER_get_cipher_nid(c) : NID_undef;
    const char *sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
    return sn && strstr(sn, "CBC") != NULL;
}

/* ---- the chain (best handshake) ---- */

static void ca_issuers_url(X509 *cert, char *out, size_t cap)
{
    AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
    out[0] = '\0';
    for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
        ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
        if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers && ad->location->type == GEN_URI) {
            const ASN1_IA5STRING *uri = ad->location->d.uniformResourceIdentifier;
            ms_text_sanitize(out, cap, (const char *)ASN1_STRING_get0_data(uri),
                             (size_t)ASN1_STRING_length(uri));
            break;
        }
    }
    AUTHORITY_INFO_ACCESS_free(aia);
}

static bool must_staple(X509 *cert)
{
    enum { STATUS_REQUEST = 5 };
    STACK_OF(ASN1_INTEGER) *features = X509_get_ext_d2i(cert, NID_tlsfeature, NULL, NULL);
    bool found = false;
    for (int i = 0; features && i < sk_ASN1_INTEGER_num(features); i++)
        if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)) == STATUS_REQUEST)
            found = true;
    sk_ASN1_INTEGER_pop_free(features, ASN1_INTEGER_free);
    return found;
}

static void describe_cert(X509 *cert, int64_t now, struct ms_chain_cert *out)
{
    ms_tls_format_name(X509_get_subject_name(cert), out->subject, sizeof out->subject);
    ms_tls_format_name(X509_get_issuer_name(cert), out->issuer, sizeof out->issuer);
    out->self_signed = X509_self_signed(cert, 0) == 1;
    out->is_ca = X509_check_ca(cert) > 0;
    time_t t = (time_t)now;
    out->expired = X509_cmp_time(X509_get0_notAfter(cert), &t) < 0;
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
        strftime(out->not_after, sizeof out->not_after, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int sig = X509_get_signature_nid(cert), md = NID_undef;
    snprintf(out->signature_algorithm, sizeof out->signature_algorithm, "%s", OBJ_nid2ln(sig));
    out->sha1 = OBJ_find_sigid_algs(sig, &md, NULL) == 1 && (md == NID_sha1 || md == NID_md5);
    ca_issuers_url(cert, out->ca_issuers, sizeof out->ca_issuers);
    out->must_staple = must_staple(cert);
    ms_tls_fingerprint(cert, out->sha256_fingerprint, sizeof out->sha256_fingerprint);
    ERR_clear_error();
}

static bool issued_by(X509 *issuer, X509 *subject)
{
    bool yes = X509_check_issued(issuer, subject) == X509_V_OK;
    ERR_clear_error();
    return yes;
}

static void keep_cert(struct ms_audit *a, X509 *cert, bool leaf, bool anchor)
{
    if (a->cert_count >= sizeof a->certs / sizeof a->certs[0])
        return;
    struct kept_cert *k = &a->certs[a->cert_count];
    unsigned char *der = NULL, *spki = NULL;
    int dl = i2d_X509(cert, &der);
    int sl = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
    if (dl <= 0 || sl <= 0) {
        OPENSSL_free(der);
        OPENSSL_free(spki);
        ERR_clear_error();
        return;
    }
    *k = (struct kept_cert){.der = der,
                            .spki = spki,
                            .der_len = (size_t)dl,
                            .spki_len = (size_t)sl,
                            .leaf = leaf,
                            .anchor = anchor};
    a->cert_count++;
}

static void read_chain(struct ms_audit *a, SSL *ssl, int64_t now)
{
    struct ms_chain_facts *ch = &a->facts->chain;
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl);
    STACK_OF(X509) *path = SSL_get0_verified_chain(ssl);
    int n = sent ? sk_X509_num(sent) : 0;
    if (n <= 0)
        return;
    ch->read = true;
    ch->sent = (size_t)n;
    ch->count = n < MS_MAX_CHAIN ? (size_t)n : MS_MAX_CHAIN;
    for (size_t i = 0; i < ch->count; i++)
        describe_cert(sk_X509_value(sent, (int)i), now, &ch->certs[i]);
    ch->verified = SSL_get_verify_result(ssl) == X509_V_OK;
    ch->verified_length = path ? (size_t)sk_X509_num(path) : 0;

    /* The path through what was sent: from the leaf, each certificate's issuer among the
     * others. Out of sequence is wrong order; left over is unused. */
    bool on_path[MS_MAX_CHAIN] = {true};
    size_t last = 0, length = 1;
    for (size_t step = 0; step < ch->count; step++) {
        X509 *cur = sk_X509_value(sent, (int)last);
        if (X509_self_signed(cur, 0) == 1)
            break;
        size_t next = ch->count;
        for (size_t j = 0; j < ch->count; j++)
            if (!on_path[j] && issued_by(sk_X509_value(sent, (int)j), cur)) {
                next = j;
                break;
            }
        if (next == ch->count)
            break;
        if (next != last + 1)
            ch->wrong_order = true;
        on_path[next] = true;
        last = next;
        length++;
    }
    ch->unused_certs = length < ch->count;
    X509 *end = sk_X509_value(sent, (int)last);
    ERR_clear_error();
    if (X509_self_signed(end, 0) == 1) {
        ch->ends_at_anchor = true;
    } else if (path && (size_t)sk_X509_num(path) > length &&
               issued_by(sk_X509_value(path, (int)length), end)) {
        /* This machine's store found the issuer: a root, or an intermediate it happens to
         * know (which a client without it would miss). */
        X509 *issuer = sk_X509_value(path, (int)length);
        bool root = X509_self_signed(issuer, 0) == 1;
        ch->ends_at_anchor = root;
        ch->issuer_missing = !root;
        ch->completed_by_store = !root;
    } else {
        ch->issuer_missing = true;
    }
    if (ch->issuer_missing) {
        ms_tls_format_name(X509_get_issuer_name(end), ch->missing_issuer,
                           sizeof ch->missing_issuer);
        ca_issuers_url(end, ch->missing_issuer_url, sizeof ch->missing_issuer_url);
    }
    ERR_clear_error();

    /* DANE: the sent certificates, and the CAs of the verified path (PKIX-TA). */
    for (size_t i = 0; i < ch->count; i++)
        keep_cert(a, sk_X509_value(sent, (int)i), i == 0, false);
    for (int i = 1; ch->verified && path && i < sk_X509_num(path); i++)
        keep_cert(a, sk_X509_value(path, i), false, true);
}

static void read_ocsp(struct ms_audit *a, SSL *ssl)
{
    struct ms_ocsp_facts *o = &a->facts->ocsp;
    o->tested = true;
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    o->must_staple = leaf && must_staple(leaf);
    const unsigned char *resp = NULL;
    long len = SSL_get_tlsext_status_ocsp_resp(ssl, &resp);
    if (len <= 0 || !resp)
        return;
    o->stapled = true;
    OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &resp, len);
    OCSP_BASICRESP *basic = r ? OCSP_response_get1_basic(r) : NULL;
    STACK_OF(X509) *path = SSL_get0_verified_chain(ssl);
    STACK_OF(X509) *sent = SSL_get_peer_cert_chain(ssl);
    X509 *issuer = path && sk_X509_num(path) > 1   ? sk_X509_value(path, 1)
                   : sent && sk_X509_num(sent) > 1 ? sk_X509_value(sent, 1)
                                                   : NULL;
    OCSP_CERTID *id = leaf && issuer ? OCSP_cert_to_id(NULL, leaf, issuer) : NULL;
    int status = -1, reason = 0;
    if (basic && id && OCSP_resp_find_status(basic, id, &status, &reason, NULL, NULL, NULL) == 1)
        snprintf(o->status, sizeof o->status, "%s",
                 status == V_OCSP_CERTSTATUS_GOOD      ? "good"
                 : status == V_OCSP_CERTSTATUS_REVOKED ? "revoked"
                                                       : "unknown");
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(r);
    ERR_clear_error();
}

void ms_tls_probe_tls_up(struct ms_tls_probe *p, SSL *ssl, int64_t now)
{
    struct ms_audit_probe *o = p->out;
    p->up = true;
    o->outcome = MS_AUDIT_ACCEPTED;
    snprintf(o->version, sizeof o->version, "%s", SSL_get_version(ssl));
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    snprintf(o->cipher, sizeof o->cipher, "%s", c ? SSL_CIPHER_get_name(c) : "");
    o->cbc = is_cbc(c);
    key_exchange(ssl, o->group, sizeof o->group, &o->kx_bits);
    if (p->kind == MS_TP_BEST) {
        read_chain(p->audit, ssl, now);
        read_ocsp(p->audit, ssl);
    }
}

/* ---- folding the side connections in ---- */

static void finish_sni(struct ms_audit *a, const struct ms_endpoint_result *main,
                       const struct ms_endpoint_result *nosni);
static void fold_failure(struct ms_audit_probe *o, const struct ms_endpoint_result *side);

void ms_audit_side_done(struct ms_tls_probe *p, const struct ms_endpoint_result *side,
                        const struct ms_endpoint_result *main)
{
    struct ms_audit_probe *o = p->out;
    if (side->timings_ms.connect >= 0 && side->timings_ms.tls >= 0)
        o->ms = side->timings_ms.connect + side->timings_ms.tls;
    snprintf(o->alert, sizeof o->alert, "%s", side->tls.alert_text);
    if (!p->up)
        fold_failure(o, side);
    if (p->kind == MS_TP_NO_SNI)
        finish_sni(p->audit, main, side);
}

/* Why a handshake did not complete, from how its connection ended. */
static void fold_failure(struct ms_audit_probe *o, const struct ms_endpoint_result *side)
{
    bool in_tls = side->failure_phase == MS_PHASE_TLS;
    switch (side->failure) {
    case MS_FAILURE_TLS_HANDSHAKE:
    case MS_FAILURE_TLS_CLIENT_CERT: o->outcome = MS_AUDIT_REFUSED; break;
    case MS_FAILURE_PROTO_CLOSED: o->outcome = in_tls ? MS_AUDIT_REFUSED : MS_AUDIT_ERROR; break;
    case MS_FAILURE_TCP_RESET: o->outcome = in_tls ? MS_AUDIT_RESET : MS_AUDIT_ERROR; break;
    case MS_FAILURE_TLS_TIMEOUT: o->outcome = MS_AUDIT_TIMEOUT; break;
    case MS_FAILURE_INTERNAL:
        /* a setting this OpenSSL refused (ms_tls_probe_setup) */
        o->outcome = MS_AUDIT_UNTESTABLE;
        break;
    default: o->outcome = MS_AUDIT_ERROR; break;
    }
    snprintf(o->note, sizeof o->note, "%.199s",
             side->tls.handshake_error[0] ? side->tls.handshake_error : side->failure_message);
}

static void finish_sni(struct ms_audit *a, const struct ms_endpoint_result *main,
                       const struct ms_endpoint_result *nosni)
{
    struct ms_sni_facts *sni = &a->facts->sni;
    sni->tested = true;
    sni->outcome = a->sni.outcome;
    snprintf(sni->note, sizeof sni->note, "%s", a->sni.note);
    if (a->sni.outcome != MS_AUDIT_ACCEPTED || !nosni || !nosni->tls.has_certificate)
        return;
    const struct ms_cert_facts *c = &nosni->tls.cert;
    snprintf(sni->subject, sizeof sni->subject, "%s", c->subject);
    snprintf(sni->sha256_fingerprint, sizeof sni->sha256_fingerprint, "%s", c->sha256_fingerprint);
    sni->hostname_match = c->hostname_match;
    sni->same_certificate = main->tls.has_certificate &&
                            strcmp(main->tls.cert.sha256_fingerprint, c->sha256_fingerprint) == 0;
}

static void finish_dane(struct ms_audit *a)
{
    struct ms_dane_facts *d = &a->facts->dane;
    if (!a->tlsa)
        return;
    d->count = a->tlsa->count;
    struct ms_tlsa_cert certs[2 * MS_MAX_CHAIN];
    for (size_t i = 0; i < a->cert_count; i++)
        certs[i] = (struct ms_tlsa_cert){.der = a->certs[i].der,
                                         .der_len = a->certs[i].der_len,
                                         .spki = a->certs[i].spki,
                                         .spki_len = a->certs[i].spki_len,
                                         .leaf = a->certs[i].leaf,
                                         .anchor = a->certs[i].anchor};
    d->checked = a->cert_count > 0;
    for (size_t i = 0; i < a->tlsa->count; i++) {
        const struct ms_tlsa_raw *raw = &a->tlsa->records[i];
        struct ms_tlsa_record *r = &d->records[i];
        r->usage = raw->usage;
        r->selector = raw->selector;
        r->matching_type = raw->matching_type;
        ms_tlsa_hex(raw, r->data, sizeof r->data);
        r->matched = d->checked && ms_tlsa_match(raw, certs, a->cert_count);
        d->matched = d->matched || r->matched;
    }
}

void ms_audit_finish(struct ms_audit *a, const struct ms_endpoint_result *main)
{
    struct ms_tls_audit *f = a->facts;
    /* CBC under TLS 1.0: the TLS 1.0 handshake's suite. */
    struct ms_audit_probe *t10 = &f->versions[MS_AV_TLS10], *cbc = &f->weak[MS_WC_CBC_TLS10];
    *cbc = *t10;
    if (t10->outcome == MS_AUDIT_ACCEPTED && !t10->cbc)
        cbc->outcome = MS_AUDIT_REFUSED; /* TLS 1.0, but not with a CBC suite */
    snprintf(f->group_forward, sizeof f->group_forward, "%s",
             f->best.outcome == MS_AUDIT_ACCEPTED ? f->best.group : "");
    snprintf(f->group_reverse, sizeof f->group_reverse, "%s",
             a->reverse.outcome == MS_AUDIT_ACCEPTED ? a->reverse.group : "");
    (void)main;
    finish_dane(a);
}

/* ---- DANE: TLSA records ---- */

static void on_tlsa(void *arg, enum ms_dns_status status, const unsigned char *msg, size_t len,
                    const char *message)
{
    struct dane_ticket *t = arg;
    struct ms_audit *a = t->a;
    free(t);
    if (!a || status == MS_DNS_CANCELLED)
        return;
    a->ticket = NULL;
    struct ms_dane_facts *d = &a->facts->dane;
    struct ms_tlsa_answer *ans = status == MS_DNS_OK ? calloc(1, sizeof *ans) : NULL;
    if (status == MS_DNS_OK && ans && ms_tlsa_parse(msg, len, ans) == 0) {
        d->validated = ans->authenticated;
        ms_tlsa_status(ans, d->status, sizeof d->status, d->message, sizeof d->message);
        if (ans->rcode != 0)
            ans->count = 0; /* records beside a failure are not an answer */
        a->tlsa = ans;
        ans = NULL; /* transferred */
    } else {
        snprintf(d->status, sizeof d->status, "%s",
                 status == MS_DNS_NO_SUCH_HOST ? "nxdomain"
                 : status == MS_DNS_NO_ADDRESS ? "nodata"
                 : status == MS_DNS_TIMEOUT    ? "timeout"
                                               : "error");
        snprintf(d->message, sizeof d->message, "%s",
                 status == MS_DNS_OK ? "the answer is not a valid DNS message" : message);
    }
    free(ans);
    ms_session_env_release(a->env);
}

static bool ip_literal(const char *host)
{
    return strchr(host, ':') || strspn(host, "0123456789.") == strlen(host);
}

void ms_audit_dane_start(struct ms_audit *a, struct ms_session_env *env, const char *host,
                         unsigned port)
{
    struct ms_dane_facts *d = &a->facts->dane;
    if (ip_literal(host))
        return;
    d->queried = true;
    snprintf(d->name, sizeof d->name, "_%u._tcp.%s", port, host);
    a->env = env;
    if (env->need_dns(env) < 0) {
        snprintf(d->status, sizeof d->status, "error");
        snprintf(d->message, sizeof d->message, "cannot start the DNS resolver");
        return;
    }
    struct dane_ticket *t = malloc(sizeof *t);
    if (!t) {
        snprintf(d->status, sizeof d->status, "error");
        snprintf(d->message, sizeof d->message, "out of memory");
        return;
    }
    t->a = a;
    a->ticket = t;
    env->open_sessions++;
    enum { TYPE_TLSA = 52 };
    if (ms_dns_query_raw(env->dns, d->name, TYPE_TLSA, on_tlsa, t) < 0) {
        free(t);
        a->ticket = NULL;
        snprintf(d->status, sizeof d->status, "error");
        snprintf(d->message, sizeof d->message, "the name cannot be asked");
        ms_session_env_release(env);
    }
}

void ms_audit_deadline(struct ms_audit *a)
{
    if (!a || !a->ticket)
        return;
    a->ticket->a = NULL;
    a->ticket = NULL;
    snprintf(a->facts->dane.status, sizeof a->facts->dane.status, "timeout");
    snprintf(a->facts->dane.message, sizeof a->facts->dane.message,
             "no answer before the run's deadline");
    ms_session_env_release(a->env);
}

/* ---- the pool ---- */

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* First 16 hex digits of SHA-256 over the capabilities, sorted, upper case, one per line:
 * equal lists give equal digests whatever order a server lists them in. */
static void caps_digest(const struct ms_strlist *caps, char *out, size_t cap)
{
    out[0] = '\0';
    if (caps->count == 0)
        return;
    const char **sorted = malloc(caps->count * sizeof *sorted);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (sorted && md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
        for (size_t i = 0; i < caps->count; i++)
            sorted[i] = caps->items[i];
        qsort(sorted, caps->count, sizeof *sorted, cmp_str);
        bool ok = true;
        for (size_t i = 0; ok && i < caps->count; i++) {
            char upper[MS_MAX_CAPABILITY_LEN + 2];
            size_t k = 0;
            for (; sorted[i][k] && k < MS_MAX_CAPABILITY_LEN; k++)
                upper[k] = (char)(sorted[i][k] >= 'a' && sorted[i][k] <= 'z' ? sorted[i][k] - 32
                                                                             : sorted[i][k]);
            upper[k++] = '\n';
            ok = EVP_DigestUpdate(md, upper, k) == 1;
        }
        if (ok && EVP_DigestFinal_ex(md, d, &n) == 1)
            for (unsigned int i = 0; i < 8 && i < n && 2 * i + 2 < cap; i++)
                sprintf(out + 2 * i, "%02x", d[i]);
    }
    EVP_MD_CTX_free(md);
    free(sorted);
}

void ms_pool_member_fill(struct ms_pool_member *m, const struct ms_endpoint_result *r)
{
    m->failure = r->failure;
    m->failure_phase = r->failure_phase;
    snprintf(m->error, sizeof m->error, "%s",
             r->failure != MS_FAILURE_NONE ? r->failure_message : "");
    m->timings_ms = r->timings_ms;
    snprintf(m->tls_version, sizeof m->tls_version, "%s", r->tls.established ? r->tls.version : "");
    m->tls_verified = r->tls.established && r->tls.verified;
    m->cert_days_left = r->tls.has_certificate ? r->tls.cert.days_left : 0;
    snprintf(m->cert_fingerprint, sizeof m->cert_fingerprint, "%s",
             r->tls.has_certificate ? r->tls.cert.sha256_fingerprint : "");
    snprintf(m->cert_not_after, sizeof m->cert_not_after, "%s",
             r->tls.has_certificate ? r->tls.cert.not_after : "");
    caps_digest(r->caps_after_tls_read ? &r->caps_after_tls : &r->caps_before_tls, m->caps_digest,
                sizeof m->caps_digest);
}
