#include "probe/result.h"

/* Only the X509_V_ERR_* numbers (macros): ms_cert_problem_from_openssl links no OpenSSL. */
#include <openssl/x509_vfy.h>
#include <stdlib.h>

const char *ms_protocol_name(enum ms_protocol p)
{
    return p == MS_PROTOCOL_IMAP ? "imap" : "pop3";
}

const char *ms_security_name(enum ms_security s)
{
    switch (s) {
    case MS_SECURITY_IMPLICIT: return "implicit";
    case MS_SECURITY_STARTTLS: return "starttls";
    default: return "none";
    }
}

const char *ms_phase_name(enum ms_phase p)
{
    static const char *const names[] = {
        [MS_PHASE_RESOLVE] = "resolve",
        [MS_PHASE_CONNECT] = "connect",
        [MS_PHASE_TLS] = "tls",
        [MS_PHASE_GREETING] = "greeting",
        [MS_PHASE_CAPABILITY] = "capability",
        [MS_PHASE_STARTTLS] = "starttls",
        [MS_PHASE_AUTH] = "auth",
        [MS_PHASE_ACCOUNT] = "account",
        [MS_PHASE_LOGOUT] = "logout",
        [MS_PHASE_DONE] = "done",
    };
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "unknown";
}

const char *ms_failure_name(enum ms_failure f)
{
    static const char *const names[] = {
        [MS_FAILURE_NONE] = "none",
        [MS_FAILURE_DNS_NO_SUCH_HOST] = "dns_no_such_host",
        [MS_FAILURE_DNS_NO_ADDRESS] = "dns_no_address",
        [MS_FAILURE_DNS_TIMEOUT] = "dns_timeout",
        [MS_FAILURE_DNS_ERROR] = "dns_error",
        [MS_FAILURE_TCP_REFUSED] = "tcp_refused",
        [MS_FAILURE_TCP_RESET] = "tcp_reset",
        [MS_FAILURE_TCP_TIMEOUT] = "tcp_timeout",
        [MS_FAILURE_TCP_UNREACHABLE] = "tcp_unreachable",
        [MS_FAILURE_TLS_HANDSHAKE] = "tls_handshake",
        [MS_FAILURE_TLS_TIMEOUT] = "tls_timeout",
        [MS_FAILURE_TLS_CLIENT_CERT] = "tls_client_cert",
        [MS_FAILURE_STARTTLS_NOT_OFFERED] = "starttls_not_offered",
        [MS_FAILURE_STARTTLS_REFUSED] = "starttls_refused",
        [MS_FAILURE_STARTTLS_INJECTED] = "starttls_injected",
        [MS_FAILURE_PROTO_BYE] = "proto_bye",
        [MS_FAILURE_PROTO_PREAUTH] = "proto_preauth",
        [MS_FAILURE_PROTO_UNEXPECTED_GREETING] = "proto_unexpected_greeting",
        [MS_FAILURE_PROTO_MALFORMED] = "proto_malformed",
        [MS_FAILURE_PROTO_CLOSED] = "proto_closed",
        [MS_FAILURE_PROTO_TIMEOUT] = "proto_timeout",
        [MS_FAILURE_INTERNAL] = "internal",
    };
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "unknown";
}

const char *ms_source_name(enum ms_source s)
{
    switch (s) {
    case MS_SOURCE_SRV: return "srv";
    case MS_SOURCE_MX: return "mx";
    case MS_SOURCE_CONVENTIONAL: return "conventional";
    default: return "target";
    }
}

void ms_endpoint_result_free(struct ms_endpoint_result *ep)
{
    ms_strlist_free(&ep->addresses);
    ms_strlist_free(&ep->caps_before_tls);
    ms_strlist_free(&ep->caps_after_tls);
    ms_strlist_free(&ep->tls.cert.san);
    ms_strlist_free(&ep->caps_after_login);
    ms_strlist_free(&ep->account.ns_personal);
    ms_strlist_free(&ep->account.ns_other_users);
    ms_strlist_free(&ep->account.ns_shared);
    free(ep->account.folders);
    ep->account.folders = NULL;
    ep->account.folder_count = 0;
    free(ep->audit);
    ep->audit = NULL;
    free(ep->pool.members);
    ep->pool.members = NULL;
    ep->pool.member_count = 0;
}

void ms_result_free(struct ms_result *result)
{
    struct ms_discovery *d = &result->discovery;
    for (size_t i = 0; i < d->query_count; i++)
        ms_strlist_free(&d->queries[i].answers);
    free(d->queries);
    free(d->candidates);
    ms_strlist_free(&d->srv_not_offered);
    ms_strlist_free(&d->srv_unresolvable);
    ms_strlist_free(&d->submission);
    *d = (struct ms_discovery){0};
    for (size_t i = 0; i < result->endpoint_count; i++)
        ms_endpoint_result_free(&result->endpoints[i]);
    free(result->endpoints);
    result->endpoints = NULL;
    result->endpoint_count = 0;
}

/* OpenSSL's verification error as a typed problem for the report. */
enum ms_cert_problem ms_cert_problem_from_openssl(int code)
{
    switch (code) {
    case X509_V_OK: return MS_CERT_OK;
    case X509_V_ERR_CERT_HAS_EXPIRED: return MS_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID: return MS_CERT_NOT_YET_VALID;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return MS_CERT_NAME_MISMATCH;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: return MS_CERT_SELF_SIGNED;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: return MS_CERT_SELF_SIGNED_IN_CHAIN;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: return MS_CERT_UNKNOWN_ISSUER;
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: return MS_CERT_CHAIN_INCOMPLETE;
    case X509_V_ERR_CERT_REVOKED: return MS_CERT_REVOKED;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE: return MS_CERT_BAD_SIGNATURE;
    case X509_V_ERR_EE_KEY_TOO_SMALL: return MS_CERT_KEY_TOO_SMALL;
    case X509_V_ERR_CA_KEY_TOO_SMALL: return MS_CERT_CA_KEY_TOO_SMALL;
    case X509_V_ERR_CA_MD_TOO_WEAK: return MS_CERT_WEAK_SIGNATURE;
    case X509_V_ERR_INVALID_CA: return MS_CERT_INVALID_CA;
    case X509_V_ERR_INVALID_PURPOSE: return MS_CERT_INVALID_PURPOSE;
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED: return MS_CERT_UNTRUSTED;
    default: return MS_CERT_OTHER;
    }
}
