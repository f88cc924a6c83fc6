#include "probe/tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe/loop.h"
#include "probe/text.h"

static int facts_index = -1; /* SSL ex_data slot holding the struct ms_tls_facts * */
static int store_pending_index =
    -1; /* SSL_CTX ex_data slot: non-NULL until the system store is in */

/* dir holds certificates by subject hash ("5ad8a5d6.0", c_rehash / update-ca-certificates). */
static bool hashed_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d));) {
        const char *n = e->d_name;
        found = strlen(n) >= 10 && strspn(n, "0123456789abcdef") == 8 && n[8] == '.' &&
                isdigit((unsigned char)n[9]);
    }
    closedir(d);
    return found;
}

/* The system trust store. Parsing the whole CA bundle file costs ~15 ms on every run (half
 * of a loopback probe); a hashed directory is read lazily, only the issuers a chain needs.
 * SSL_CERT_FILE / SSL_CERT_DIR are honoured as OpenSSL's own defaults honour them. */
void ms_tls_load_system_store(SSL_CTX *ctx)
{
    if (!SSL_CTX_get_ex_data(ctx, store_pending_index))
        return;
    SSL_CTX_set_ex_data(ctx, store_pending_index, NULL);
    const char *file_env = getenv(X509_get_default_cert_file_env());
    /* SSL_CERT_FILE naming the default bundle itself (some images export it) changes
     * nothing: the hashed directory beside it holds the same certificates. */
    char env_path[PATH_MAX], default_path[PATH_MAX];
    if (file_env && realpath(file_env, env_path) &&
        realpath(X509_get_default_cert_file(), default_path) && strcmp(env_path, default_path) == 0)
        file_env = NULL;
    const char *dir = getenv(X509_get_default_cert_dir_env());
    if (!dir || !*dir)
        dir = X509_get_default_cert_dir();
    if (!(file_env && *file_env) && hashed_dir(dir) && SSL_CTX_load_verify_dir(ctx, dir) == 1)
        return;
    ERR_clear_error();
    if (SSL_CTX_set_default_verify_paths(ctx) != 1)
        ERR_clear_error(); /* no system store is not fatal: --ca-file may still verify */
}

int ms_tls_context_new(const char *ca_file, SSL_CTX **out, struct ms_error *err)
{
    int rc = 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return ms_error_set(err, MS_ENOMEM, "cannot create a TLS context");
    if (facts_index < 0)
        facts_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (store_pending_index < 0)
        store_pending_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    /* A diagnostic client must be able to talk to old servers to say they are old: allow
     * TLS 1.0 and the security level it needs. Weak parameters are reported as findings. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    /* Idle connections (most of a fleet's, waiting for a server) give their 34 KiB of record
     * buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* The system store is loaded later, while the first connections are on their way
     * (ms_tls_load_system_store), not before them. */
    SSL_CTX_set_ex_data(ctx, store_pending_index, ctx);
    FILE *probe_file = ca_file ? fopen(ca_file, "r") : NULL;
    if (ca_file && !probe_file) {
        rc = ms_error_set(err, MS_ETLS, "cannot read CA file '%s': %s", ca_file, strerror(errno));
        goto out;
    }
    if (probe_file)
        fclose(probe_file);
    if (ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        char why[160];
        ms_tls_describe_error(why, sizeof why);
        rc = ms_error_set(err, MS_ETLS, "cannot load CA file '%s': %s", ca_file, why);
        goto out;
    }
    *out = ctx;
    ctx = NULL; /* transferred */
out:
    SSL_CTX_free(ctx);
    return rc;
}

int ms_tls_audit_context_new(const char *ca_file, SSL_CTX **out, struct ms_error *err)
{
    SSL_CTX *ctx = NULL;
    int rc = ms_tls_context_new(ca_file, &ctx, err);
    if (rc < 0)
        return rc;
    /* The audit's own context: every version this OpenSSL has (SSLv3 where it is built),
     * security level 0 (a ClientHello that offers what old servers want), and servers
     * that predate RFC 5746 are still talked to. The probe's context is left alone. */
    SSL_CTX_set_min_proto_version(ctx, 0);
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
    *out = ctx;
    return 0;
}

static void record_verify_error(struct ms_tls_facts *facts, int code, enum ms_cert_problem problem)
{
    for (size_t i = 0; i < facts->verify_error_count; i++)
        if (facts->verify_errors[i] == code)
            return;
    if (facts->verify_error_count == 0)
        snprintf(facts->verify_error, sizeof facts->verify_error, "%s",
                 X509_verify_cert_error_string(code));
    if (facts->verify_error_count < MS_MAX_VERIFY_ERRORS) {
        facts->cert_problems[facts->verify_error_count] = problem;
        facts->verify_errors[facts->verify_error_count++] = code;
    }
}

/* Record each problem and carry on: the report wants all of them, and the probe still
 * reads capabilities over an unverified channel (it never sends secrets there). */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    if (!preverify_ok) {
        SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
        struct ms_tls_facts *facts = ssl ? SSL_get_ex_data(ssl, facts_index) : NULL;
        if (facts)
            record_verify_error(facts, X509_STORE_CTX_get_error(store),
                                ms_cert_problem_from_openssl(X509_STORE_CTX_get_error(store)));
    }
    return 1;
}

static bool is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* What the server sends that no API returns afterwards: a CertificateRequest (it wants a
 * client certificate), and its alerts (in TLS 1.3 certificate_required comes after the
 * handshake, on the first read). */
static void on_message(int write_p, int version, int content_type, const void *buf, size_t len,
                       SSL *ssl, void *arg)
{
    (void)version;
    (void)arg;
    struct ms_tls_facts *facts = SSL_get_ex_data(ssl, facts_index);
    const unsigned char *p = buf;
    if (write_p || !facts || len == 0)
        return;
    if (content_type == SSL3_RT_HANDSHAKE && p[0] == SSL3_MT_CERTIFICATE_REQUEST) {
        facts->client_cert_requested = true;
    } else if (content_type == SSL3_RT_ALERT && len >= 2) {
        facts->alert = p[1];
        snprintf(facts->alert_text, sizeof facts->alert_text, "%s",
                 SSL_alert_desc_string_long((p[0] << 8) | p[1]));
    }
}

int ms_tls_new(SSL_CTX *ctx, int fd, const char *host, struct ms_tls_facts *facts, SSL **out)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return MS_ENOMEM;
    bool ok = SSL_set_fd(ssl, fd) == 1 && SSL_set_ex_data(ssl, facts_index, facts) == 1;
    if (ok)
        SSL_set_msg_callback(ssl, on_message);
    if (ok && is_ip_literal(host)) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1;
    } else if (ok) {
        ok = SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    }
    if (!ok) {
        SSL_free(ssl);
        ERR_clear_error();
        return MS_ENOMEM;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, verify_cb);
    facts->attempted = true;
    *out = ssl;
    return 0;
}

void ms_tls_describe_error(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    if (reason)
        snprintf(buf, cap, "%s", reason);
    else if (e)
        ERR_error_string_n(e, buf, cap);
    else
        snprintf(buf, cap, "unknown TLS error");
    ERR_clear_error();
}

int ms_tls_handshake(SSL *ssl, unsigned *want, struct ms_error *err)
{
    /* The server's certificate may already be waiting when the ClientHello goes out (a
     * fast server, a slow client): the store must be there before the first call. On a
     * real network the engine has loaded it during the TCP handshake already. */
    ms_tls_load_system_store(SSL_get_SSL_CTX(ssl));
    ERR_clear_error();
    errno = 0; /* SSL_ERROR_SYSCALL leaves the socket's error here */
    int r = SSL_connect(ssl);
    if (r == 1)
        return 0;
    switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ: *want = MS_LOOP_READ; return MS_EAGAIN;
    case SSL_ERROR_WANT_WRITE: *want = MS_LOOP_WRITE; return MS_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return ms_error_set(err, MS_ECLOSED,
                            "the server closed the connection during the TLS handshake");
    case SSL_ERROR_SYSCALL:
        if (errno == ECONNRESET)
            return ms_error_set(err, MS_ERESET,
                                "the server reset the connection during the TLS handshake");
        if (ERR_peek_error() == 0)
            return ms_error_set(err, MS_ECLOSED,
                                "the server closed the connection during the TLS handshake");
        break;
    default: break;
    }
    char why[200];
    ms_tls_describe_error(why, sizeof why);
    if (strstr(why, "unexpected eof"))
        return ms_error_set(err, MS_ECLOSED,
                            "the server closed the connection during the TLS handshake");
    return ms_error_set(err, MS_ETLS, "%s", why);
}

static void format_time(const ASN1_TIME *t, char *iso, size_t cap, int64_t *epoch)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
        snprintf(iso, cap, "unknown");
        *epoch = 0;
        return;
    }
    strftime(iso, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
    *epoch = (int64_t)timegm(&tm);
}

void ms_tls_format_name(const X509_NAME *name, char *out, size_t cap)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len = 0;
    out[0] = '\0';
    if (!bio)
        return;
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
        len = BIO_get_mem_data(bio, &data);
    if (len > 0)
        ms_text_sanitize(out, cap, data, (size_t)len);
    BIO_free(bio);
}

static void collect_sans(X509 *cert, struct ms_strlist *san)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        char value[300], clean[300], entry[310];
        value[0] = '\0';
        if (gn->type == GEN_DNS) {
            const ASN1_IA5STRING *s = gn->d.dNSName;
            ms_text_sanitize(value, sizeof value, (const char *)ASN1_STRING_get0_data(s),
                             (size_t)ASN1_STRING_length(s));
            snprintf(entry, sizeof entry, "DNS:%s", value);
        } else if (gn->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *ip = gn->d.iPAddress;
            int len = ASN1_STRING_length(ip);
            int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;
            if (af < 0 || !inet_ntop(af, ASN1_STRING_get0_data(ip), value, sizeof value))
                continue;
            snprintf(entry, sizeof entry, "IP:%s", value);
        } else {
            continue;
        }
        size_t n = ms_text_sanitize(clean, sizeof clean, entry, strlen(entry));
        if (ms_strlist_append(san, clean, n, 100) < 0)
            break;
    }
    GENERAL_NAMES_free(names);
}

static void collect_key(X509 *cert, struct ms_cert_facts *c)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    const char *type = "other";
    if (key) {
        switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA: type = "RSA"; break;
        case EVP_PKEY_EC: type = "EC"; break;
        case EVP_PKEY_ED25519: type = "ED25519"; break;
        case EVP_PKEY_ED448: type = "ED448"; break;
        case EVP_PKEY_DSA: type = "DSA"; break;
        default: break;
        }
        c->key_bits = EVP_PKEY_get_bits(key);
    }
    snprintf(c->key_type, sizeof c->key_type, "%s", type);
}

static void collect_certificate(X509 *cert, const char *host, int64_t now, struct ms_cert_facts *c)
{
    ms_tls_format_name(X509_get_subject_name(cert), c->subject, sizeof c->subject);
    ms_tls_format_name(X509_get_issuer_name(cert), c->issuer, sizeof c->issuer);
    collect_sans(cert, &c->san);
    format_time(X509_get0_notBefore(cert), c->not_before, sizeof c->not_before,
                &c->not_before_epoch);
    format_time(X509_get0_notAfter(cert), c->not_after, sizeof c->not_after, &c->not_after_epoch);
    int64_t left = c->not_after_epoch - now;
    /* Floor division: a certificate that expired an hour ago has -1 days left, not 0. */
    c->days_left = (long)(left >= 0 ? left / 86400 : -((-left + 86399) / 86400));
    c->hostname_match = is_ip_literal(host) ? X509_check_ip_asc(cert, host, 0) == 1
                                            : X509_check_host(cert, host, 0, 0, NULL) == 1;
    c->self_signed = X509_self_signed(cert, 0) == 1;
    collect_key(cert, c);
    snprintf(c->signature_algorithm, sizeof c->signature_algorithm, "%s",
             OBJ_nid2ln(X509_get_signature_nid(cert)));
    ms_tls_fingerprint(cert, c->sha256_fingerprint, sizeof c->sha256_fingerprint);
    ERR_clear_error();
}

void ms_tls_fingerprint(X509 *cert, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    out[0] = '\0';
    if (cap < 96 || X509_digest(cert, EVP_sha256(), md, &md_len) != 1)
        return;
    char *p = out;
    for (unsigned int i = 0; i < md_len && i < 32; i++)
        p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
}

void ms_tls_collect_facts(SSL *ssl, const char *host, int64_t now, struct ms_tls_facts *facts)
{
    facts->established = true;
    snprintf(facts->version, sizeof facts->version, "%s", SSL_get_version(ssl));
    const char *cipher = SSL_get_cipher_name(ssl);
    snprintf(facts->cipher, sizeof facts->cipher, "%s", cipher ? cipher : "");
    long result = SSL_get_verify_result(ssl);
    if (result != X509_V_OK)
        record_verify_error(facts, (int)result, ms_cert_problem_from_openssl((int)result));
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (cert) {
        facts->has_certificate = true;
        collect_certificate(cert, host, now, &facts->cert);
        X509_free(cert);
    } else {
        record_verify_error(facts, X509_V_ERR_UNSPECIFIED, MS_CERT_NO_CERTIFICATE);
        snprintf(facts->verify_error, sizeof facts->verify_error, "the server sent no certificate");
    }
    facts->verified = facts->verify_error_count == 0;
}
