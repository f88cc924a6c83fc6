#include "probe/result.h"

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
        [MS_FAILURE_TCP_TIMEOUT] = "tcp_timeout",
        [MS_FAILURE_TCP_UNREACHABLE] = "tcp_unreachable",
        [MS_FAILURE_TLS_HANDSHAKE] = "tls_handshake",
        [MS_FAILURE_TLS_TIMEOUT] = "tls_timeout",
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
    for (size_t i = 0; i < result->endpoint_count; i++) {
        struct ms_endpoint_result *ep = &result->endpoints[i];
        ms_strlist_free(&ep->addresses);
        ms_strlist_free(&ep->caps_before_tls);
        ms_strlist_free(&ep->caps_after_tls);
        ms_strlist_free(&ep->tls.cert.san);
        ms_strlist_free(&ep->caps_after_login);
        ms_strlist_free(&ep->account.ns_personal);
        ms_strlist_free(&ep->account.ns_other_users);
        ms_strlist_free(&ep->account.ns_shared);
        free(ep->account.folders);
    }
    free(result->endpoints);
    result->endpoints = NULL;
    result->endpoint_count = 0;
}
