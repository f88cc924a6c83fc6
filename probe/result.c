#include "probe/result.h"

/* Only the X509_V_ERR_* numbers (macros): ms_cert_problem_from_openssl links no OpenSSL. */
#include <openssl/x509_vfy.h>
#include <stdlib.h>

const char *ms_protocol_name(enum ms_protocol p)
{
    switch (p) {
    case MS_PROTOCOL_IMAP: return "imap";
    case MS_PROTOCOL_POP3: return "pop3";
    default: return "submission";
    }
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
        [MS_FAILURE_PROTO_REFUSED] = "proto_refused",
        [MS_FAILURE_PROTO_PREAUTH] = "proto_preauth",
        [MS_FAILURE_PROTO_UNEXPECTED_GREETING] = "proto_unexpected_greeting",
        [MS_FAILURE_PROTO_MALFORMED] = "proto_malformed",
        [MS_FAILURE_PROTO_CLOSED] = "proto_closed",
        [MS_FAILURE_PROTO_TIMEOUT] = "proto_timeout",
        [MS_FAILURE_INTERNAL] = "internal",
        [MS_FAILURE_TCP_DENIED] = "tcp_denied",
    };
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "unknown";
}

const char *ms_source_name(enum ms_source s)
{
    switch (s) {
    case MS_SOURCE_SRV: return "srv";
    case MS_SOURCE_MX: return "mx";
    case MS_SOURCE_CONVENTIONAL: return "conventional";
    case MS_SOURCE_AUTOCONFIG: return "autoconfig";
    case MS_SOURCE_AUTODISCOVER: return "autodiscover";
    default: return "target";
    }
}

const char *ms_pub_method_name(enum ms_pub_method m)
{
    static const char *const names[MS_PUB_METHOD_COUNT] = {
        [MS_PUB_AUTOCONFIG] = "autoconfig",
        [MS_PUB_WELL_KNOWN] = "well_known",
        [MS_PUB_AUTOCONFIG_HTTP] = "autoconfig_http",
        [MS_PUB_WELL_KNOWN_HTTP] = "well_known_http",
        [MS_PUB_ISPDB] = "ispdb",
        [MS_PUB_MX_AUTOCONFIG] = "mx_autoconfig",
        [MS_PUB_MX_ISPDB] = "mx_ispdb",
        [MS_PUB_AUTODISCOVER_DOMAIN] = "autodiscover_domain",
        [MS_PUB_AUTODISCOVER] = "autodiscover",
        [MS_PUB_AUTODISCOVER_REDIRECT] = "autodiscover_redirect",
        [MS_PUB_AUTODISCOVER_SRV] = "autodiscover_srv",
    };
    return (unsigned)m < MS_PUB_METHOD_COUNT ? names[m] : "unknown";
}

const char *ms_pub_outcome_name(enum ms_pub_outcome o)
{
    switch (o) {
    case MS_PUB_PENDING: return "unfinished";
    case MS_PUB_SETTINGS: return "settings";
    case MS_PUB_NOT_FOUND: return "not_found";
    case MS_PUB_SIGN_IN_REQUIRED: return "sign_in_required";
    case MS_PUB_INVALID: return "invalid";
    case MS_PUB_HTTP_ERROR: return "http_error";
    case MS_PUB_FAILED: return "failed";
    case MS_PUB_REDIRECT_REFUSED: return "redirect_refused";
    case MS_PUB_AD_ERROR: return "autodiscover_error";
    default: return "skipped";
    }
}

const char *ms_http_failure_name(enum ms_http_failure f)
{
    switch (f) {
    case MS_HTTP_OK: return "ok";
    case MS_HTTP_DNS: return "dns";
    case MS_HTTP_REFUSED: return "refused";
    case MS_HTTP_TIMEOUT: return "timeout";
    case MS_HTTP_UNREACHABLE: return "unreachable";
    case MS_HTTP_TLS: return "tls";
    case MS_HTTP_CERT: return "certificate";
    case MS_HTTP_TOO_LARGE: return "too_large";
    case MS_HTTP_PROTOCOL: return "protocol";
    default: return "local";
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
    for (size_t i = 0; d->published.sources && i < MS_PUB_METHOD_COUNT; i++)
        free(d->published.sources[i].servers);
    free(d->published.sources);
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
