/* The result model: the one contract between probe/ (which fills it with facts seen on
 * the network) and report/ (which judges and renders them). Plain structs, no verdicts.
 * Adding a fact = one field here, filled in probe/, judged and rendered in report/.
 *
 * All strings are NUL-terminated printable ASCII (server bytes pass through
 * ms_text_sanitize), so they can go straight into text or JSON. */
#ifndef MS_RESULT_H
#define MS_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/strlist.h"

#define MS_MAX_CAPABILITIES 512 /* capabilities kept per list; more sets `truncated` */
#define MS_MAX_CAPABILITY_LEN 256
#define MS_MAX_ADDRESSES 16    /* resolved addresses kept per endpoint */
#define MS_MAX_VERIFY_ERRORS 8 /* distinct certificate verification errors kept */

/* Receiving (IMAP, POP3) and sending (SMTP submission, RFC 6409/8314). */
enum ms_protocol { MS_PROTOCOL_IMAP, MS_PROTOCOL_POP3, MS_PROTOCOL_SUBMISSION, MS_PROTOCOL_COUNT };

enum ms_security {
    MS_SECURITY_IMPLICIT, /* TLS from the first byte (993, 995) */
    MS_SECURITY_STARTTLS, /* plaintext, then STARTTLS (IMAP) / STLS (POP3) */
    MS_SECURITY_NONE,     /* plaintext only (never chosen by default) */
};

/* Where an endpoint's session was when something happened. */
enum ms_phase {
    MS_PHASE_RESOLVE,
    MS_PHASE_CONNECT,
    MS_PHASE_TLS, /* TLS handshake (implicit, or after STARTTLS) */
    MS_PHASE_GREETING,
    MS_PHASE_CAPABILITY, /* CAPABILITY / CAPA, before or after TLS */
    MS_PHASE_STARTTLS,   /* the STARTTLS / STLS command and its answer */
    MS_PHASE_AUTH,       /* signing in */
    MS_PHASE_ACCOUNT,    /* the read-only account queries after sign-in */
    MS_PHASE_LOGOUT,
    MS_PHASE_DONE,
};

/* Why an endpoint's session stopped early: what was observed, not how bad it is. */
enum ms_failure {
    MS_FAILURE_NONE,
    MS_FAILURE_DNS_NO_SUCH_HOST, /* NXDOMAIN */
    MS_FAILURE_DNS_NO_ADDRESS,   /* the name exists but has no A/AAAA (of the allowed family) */
    MS_FAILURE_DNS_TIMEOUT,
    MS_FAILURE_DNS_ERROR,       /* SERVFAIL, refused, or another resolver error */
    MS_FAILURE_TCP_REFUSED,     /* every address answered RST */
    MS_FAILURE_TCP_TIMEOUT,     /* no address answered within the timeout */
    MS_FAILURE_TCP_UNREACHABLE, /* network/host unreachable, or no route */
    MS_FAILURE_TCP_RESET,       /* the server accepted the connection, then reset it (TCP RST) */
    MS_FAILURE_TLS_HANDSHAKE,   /* the handshake failed (alert, garbage, close) */
    MS_FAILURE_TLS_TIMEOUT,     /* the handshake did not finish in time */
    MS_FAILURE_TLS_CLIENT_CERT, /* the server wants a client certificate (alert after asking) */
    MS_FAILURE_STARTTLS_NOT_OFFERED, /* STARTTLS/STLS absent from the capabilities */
    MS_FAILURE_STARTTLS_REFUSED,     /* the server answered STARTTLS/STLS with NO/BAD/-ERR */
    MS_FAILURE_STARTTLS_INJECTED,    /* plaintext bytes followed the STARTTLS OK: an attack */
    MS_FAILURE_PROTO_BYE,            /* IMAP * BYE instead of a greeting or an answer */
    MS_FAILURE_PROTO_REFUSED,        /* SMTP 554/421: the server will not serve this client now */
    MS_FAILURE_PROTO_PREAUTH,        /* IMAP * PREAUTH on a plaintext connection */
    MS_FAILURE_PROTO_UNEXPECTED_GREETING, /* not a greeting of this protocol (POP3 -ERR, HTTP...) */
    MS_FAILURE_PROTO_MALFORMED,           /* bytes that break the protocol, or exceed a hard cap */
    MS_FAILURE_PROTO_CLOSED,              /* the server closed the connection mid-session */
    MS_FAILURE_PROTO_TIMEOUT, /* the server stopped answering within the phase timeout */
    MS_FAILURE_INTERNAL,      /* out of memory or a local system error */
    MS_FAILURE_TCP_DENIED,    /* the request's connect policy refused every address (serve:
                                 private addresses, ports that are not mail ports) */
};

struct ms_cert_facts {
    char subject[256]; /* one-line RFC 2253 form */
    char issuer[256];
    struct ms_strlist san; /* DNS names and IP addresses, as "DNS:x" / "IP:x" */
    char not_before[32];   /* ISO 8601 UTC, e.g. 2026-01-31T12:00:00Z */
    char not_after[32];
    int64_t not_before_epoch; /* seconds since 1970 */
    int64_t not_after_epoch;
    long days_left;      /* whole days from the probe's start to not_after (<0: expired) */
    bool hostname_match; /* the certificate covers the host name (or IP) asked for */
    bool self_signed;
    char key_type[16]; /* RSA, EC, ED25519, ED448, DSA, other */
    int key_bits;
    char signature_algorithm[64]; /* e.g. sha256WithRSAEncryption */
    char sha256_fingerprint[96];  /* AA:BB:... upper-case hex */
};

/* A certificate problem, as OpenSSL's verification saw it (typed, so report/ needs no
 * OpenSSL header; the numbers stay in verify_errors[] as evidence). */
enum ms_cert_problem {
    MS_CERT_OK,
    MS_CERT_EXPIRED, /* a certificate in the chain has expired */
    MS_CERT_NOT_YET_VALID,
    MS_CERT_NAME_MISMATCH,        /* host name, IP address or e-mail does not match */
    MS_CERT_SELF_SIGNED,          /* the server's own certificate is self-signed */
    MS_CERT_SELF_SIGNED_IN_CHAIN, /* the chain ends in an untrusted self-signed root */
    MS_CERT_UNKNOWN_ISSUER,       /* an issuer is unknown here (unknown CA, or omitted) */
    MS_CERT_CHAIN_INCOMPLETE,     /* the leaf cannot be verified: intermediates missing */
    MS_CERT_REVOKED,
    MS_CERT_BAD_SIGNATURE, /* a signature in the chain is invalid */
    MS_CERT_KEY_TOO_SMALL, /* the certificate's own key */
    MS_CERT_CA_KEY_TOO_SMALL,
    MS_CERT_WEAK_SIGNATURE,  /* a too weak signature algorithm in the chain */
    MS_CERT_INVALID_CA,      /* an issuer in the chain is not a valid CA */
    MS_CERT_INVALID_PURPOSE, /* not meant for TLS servers */
    MS_CERT_UNTRUSTED,       /* the root is not trusted for this purpose */
    MS_CERT_NO_CERTIFICATE,  /* the server sent none */
    MS_CERT_OTHER,           /* anything else: verify_error has OpenSSL's words */
};

struct ms_tls_facts {
    bool attempted;   /* a handshake was started */
    bool established; /* the handshake completed */
    char version[16]; /* TLSv1.3, TLSv1.2, ... */
    char cipher[64];
    bool verified; /* chain and host name verified: safe to send secrets */
    int verify_errors[MS_MAX_VERIFY_ERRORS]; /* OpenSSL X509_V_ERR_* values seen, in order:
                                                evidence (JSON); judges use cert_problems */
    enum ms_cert_problem cert_problems[MS_MAX_VERIFY_ERRORS]; /* the same, typed */
    size_t verify_error_count;
    char verify_error[160];     /* text of the first verification error, "" when verified */
    char handshake_error[256];  /* why the handshake failed, "" otherwise */
    bool client_cert_requested; /* the server sent a CertificateRequest */
    int alert;                  /* the last TLS alert the server sent, when alert_text is set */
    char alert_text[64];        /* ... in OpenSSL's words ("certificate required") */
    bool has_certificate;       /* cert below is filled */
    struct ms_cert_facts cert;
};

/* Milliseconds spent in each phase; -1 when the phase was not reached. */
struct ms_timings {
    double resolve;
    double connect;
    double tls;      /* sum of handshakes (implicit or after STARTTLS) */
    double greeting; /* from connected (or TLS up) to the greeting */
    double total;    /* from the endpoint's start to its end */
};

/* How an endpoint (or a discovery candidate) came to be probed. */
enum ms_source {
    MS_SOURCE_TARGET,       /* named by the user (bare host or URL) */
    MS_SOURCE_SRV,          /* an RFC 6186 / 8314 SRV record */
    MS_SOURCE_MX,           /* a host named by an MX record, on the standard ports */
    MS_SOURCE_CONVENTIONAL, /* a guessed name: imap.<domain>, pop.<domain>, mail.<domain>, ... */
    MS_SOURCE_AUTOCONFIG,   /* a server a Thunderbird autoconfig file names (issue 16) */
    MS_SOURCE_AUTODISCOVER, /* a server a Microsoft Autodiscover response names */
};

/* A TCP connect to the first address of one family, made beside the main session so the
 * report can say when one family works and the other does not. */
struct ms_family_check {
    bool tried;
    char address[64];
    enum ms_failure failure; /* MS_FAILURE_NONE: connected */
    double connect_ms;       /* -1 when it did not connect */
    char message[128];
};

#define MS_MAX_FOLDERS 500 /* folders kept from LIST; more sets folders_truncated */

/* Why credentials were not sent on an endpoint (auth.not_attempted_reason has the words). */
enum ms_auth_skip {
    MS_AUTH_SKIP_NONE,               /* sent, or nothing recorded */
    MS_AUTH_SKIP_NOT_CHOSEN,         /* another endpoint of this protocol signs in */
    MS_AUTH_SKIP_NOT_ENCRYPTED,      /* the connection is plaintext */
    MS_AUTH_SKIP_NO_TLS,             /* STARTTLS/STLS not offered or refused */
    MS_AUTH_SKIP_CERT_UNVERIFIED,    /* TLS is up but the certificate did not verify */
    MS_AUTH_SKIP_OAUTH2_ONLY,        /* a password was given; only OAuth2 is offered */
    MS_AUTH_SKIP_NO_OAUTH2_MECH,     /* no OAuth2 mechanism is offered for the token (or the
                                        one --auth-mech names) */
    MS_AUTH_SKIP_NO_PASSWORD_MECH,   /* a password was given; no mechanism this tool knows */
    MS_AUTH_SKIP_FORCED_NOT_OFFERED, /* --auth-mech names a mechanism the server lacks */
    MS_AUTH_SKIP_UNKNOWN_MECH,       /* --auth-mech names a mechanism this tool lacks */
    MS_AUTH_SKIP_UNENCODABLE,        /* the user name or secret has bytes the way cannot carry */
    MS_AUTH_SKIP_LINE_BREAK,         /* POP3 USER/PASS: a line break in the user or password */
    MS_AUTH_SKIP_LOCAL_ERROR,        /* out of memory */
};

/* Sign-in: what was tried and what the server said (never the secret). */
struct ms_auth_facts {
    bool wanted;    /* credentials were given */
    bool chosen;    /* this endpoint was picked to sign in for its protocol */
    bool attempted; /* credentials were sent */
    bool ok;
    enum ms_auth_skip skip;         /* why credentials were not sent (typed) */
    char not_attempted_reason[240]; /* ... in words, to quote; "" when they were sent */
    char mechanism[24];             /* "PLAIN", "LOGIN", "XOAUTH2", "OAUTHBEARER", "USER" (POP3
                                       USER/PASS), "IMAP LOGIN" */
    char status[8];                /* the server's verdict word: "OK", "NO", "BAD", "+OK", "-ERR" */
    char code[48];                 /* RFC 5530 / RFC 2449+3206 response code, e.g.
                                      "AUTHENTICATIONFAILED", "SYS/TEMP", "" when none */
    char server_response[320];     /* the server's final text, sanitized */
    char oauth_error[200];         /* XOAUTH2/OAUTHBEARER error JSON challenge, sanitized */
    char refused_after_login[240]; /* the first account query the server refused after an
                                      accepted sign-in: "NAMESPACE: BAD ...", sanitized (Exchange
                                      answers every command so when the protocol is off) */
};

struct ms_folder {
    char name[200];       /* as sent (modified UTF-7 for IMAP), sanitized */
    char special_use[64]; /* "\\Sent" etc. (space-separated), "" when none */
    bool noselect;
};

/* What the account offers, read after a successful sign-in (read-only). */
struct ms_account_facts {
    bool read; /* sign-in worked and the queries ran */
    /* IMAP */
    struct ms_folder *folders; /* owned */
    size_t folder_count;
    bool folders_truncated;
    bool list_special_use; /* LIST RETURN (SPECIAL-USE) was used */
    bool namespace_read;
    struct ms_strlist ns_personal, ns_other_users, ns_shared; /* prefixes ("" is a prefix) */
    long inbox_messages, inbox_unseen;                        /* -1 when not known */
    bool quota_read;
    long long quota_storage_used_kb, quota_storage_limit_kb; /* -1 when not known */
    char quota_root[128];
    /* POP3 */
    long pop3_messages; /* STAT; -1 when not known */
    long long pop3_octets;
    bool pop3_uidl_works, pop3_top_works;
    bool pop3_uidl_tried, pop3_top_tried;
    long pop3_expire_days;   /* EXPIRE after sign-in: -1 NEVER, -2 not said */
    long pop3_login_delay_s; /* LOGIN-DELAY after sign-in; -1 not said */
};

/* --injection-test: STARTTLS plus a second command in one segment, on its own connection
 * (the USENIX Security 2021 STARTTLS study). */
struct ms_injection_facts {
    bool tested;        /* the check reached a verdict */
    bool vulnerable;    /* the server answered the injected command inside TLS */
    char evidence[256]; /* what came back inside TLS, sanitized */
    char note[200];     /* why there is no verdict, or what else was seen */
};

/* Whether a password would be taken before TLS, checked on a separate plaintext connection
 * with a harmless exchange (never the user's credentials): SASL PLAIN/LOGIN cancelled at
 * the server's "+", or a random user name that cannot exist. The report judges the answer. */
enum ms_plaintext_method {
    MS_PLAINTEXT_NONE,
    MS_PLAINTEXT_SASL_CANCEL,  /* IMAP AUTHENTICATE / POP3 AUTH <mechanism>, "*" at the "+" */
    MS_PLAINTEXT_LOGIN_RANDOM, /* IMAP LOGIN with a random user and password */
    MS_PLAINTEXT_USER_RANDOM,  /* POP3 USER with a random user (never PASS) */
};

struct ms_plaintext_check {
    bool tried;                      /* a check connection was started */
    bool answered;                   /* the server answered the step */
    enum ms_plaintext_method method; /* NONE: no step was sent (see note) */
    char sent[120];                  /* what was sent, e.g. "AUTHENTICATE PLAIN" */
    char status[8];                  /* "+", "OK", "NO", "BAD", "+OK", "-ERR" */
    char code[48];                   /* the response code, "" when none */
    char answer[320];                /* the server's words, sanitized */
    char note[200];                  /* why there is no answer, "" otherwise */
};

/* ---- --tls-audit and the address pool (issue 15): what extra handshakes and connections
 * beside the main session saw. Facts only; report/assess_audit.c judges them. ---- */

/* How one audit handshake ended. */
enum ms_audit_outcome {
    MS_AUDIT_NOT_RUN,    /* not attempted (the endpoint failed first, or no TLS) */
    MS_AUDIT_UNTESTABLE, /* this OpenSSL build cannot offer it (note says why) */
    MS_AUDIT_ACCEPTED,   /* the handshake completed */
    MS_AUDIT_REFUSED,    /* the server answered with an alert or ended the handshake */
    MS_AUDIT_RESET,      /* the server reset the connection on the ClientHello */
    MS_AUDIT_TIMEOUT,    /* no answer within the timeout or the run's deadline */
    MS_AUDIT_ERROR,      /* no handshake: connect, greeting or STARTTLS failed (note) */
};

/* Protocol versions probed, one handshake each (SSLv3 only where OpenSSL still has it). */
enum ms_audit_version {
    MS_AV_SSL3,
    MS_AV_TLS10,
    MS_AV_TLS11,
    MS_AV_TLS12,
    MS_AV_TLS13,
    MS_AV_COUNT
};

/* Weak cipher-suite classes, one handshake each offering only that class (TLS <= 1.2).
 * CBC_TLS10 needs none of its own: it is the TLS 1.0 handshake's suite being CBC. */
enum ms_weak_class {
    MS_WC_NULL,       /* no encryption (eNULL) */
    MS_WC_ANON,       /* no authentication (aNULL) */
    MS_WC_EXPORT,     /* 40/56-bit export suites */
    MS_WC_DES,        /* DES and 3DES */
    MS_WC_RC4,        /* RC4 */
    MS_WC_STATIC_RSA, /* RSA key exchange: no forward secrecy */
    MS_WC_CBC_TLS10,  /* a CBC suite under TLS 1.0 (BEAST) */
    MS_WC_COUNT
};

/* Key-exchange groups probed one by one (TLS 1.3 key share or TLS 1.2 ECDHE curve). */
enum ms_audit_group { MS_AG_X25519, MS_AG_P256, MS_AG_P384, MS_AG_P521, MS_AG_X448, MS_AG_COUNT };

struct ms_audit_probe {
    enum ms_audit_outcome outcome;
    char version[16]; /* negotiated: "TLSv1.2" */
    char cipher[64];  /* negotiated suite, OpenSSL's name */
    bool cbc;         /* the suite is a CBC one */
    char group[24];   /* key exchange group or "DH" / "RSA" ("" unknown) */
    int kx_bits;      /* bits of the server's ephemeral key, 0 unknown */
    char alert[64];   /* the server's alert in OpenSSL's words, "" none */
    char note[200];   /* why not accepted, or why untestable */
    double ms;        /* connect to end of handshake, -1 when not reached */
};

#define MS_MAX_CHAIN 10 /* certificates kept from what the server sent */

struct ms_chain_cert {
    char subject[256];
    char issuer[256];
    bool self_signed;
    bool is_ca;
    bool expired; /* not_after before the probe's start */
    char not_after[32];
    char signature_algorithm[64];
    bool sha1;            /* signed with SHA-1 (or MD5) */
    char ca_issuers[200]; /* its AIA caIssuers URL, "" none */
    bool must_staple;     /* TLS Feature status_request (RFC 7633) */
    char sha256_fingerprint[96];
};

/* The chain as the server sent it, and what a client can make of it. */
struct ms_chain_facts {
    bool read; /* a handshake completed and the chain was read */
    struct ms_chain_cert certs[MS_MAX_CHAIN];
    size_t count;                 /* as sent (leaf first), at most MS_MAX_CHAIN kept */
    size_t sent;                  /* how many the server sent */
    bool verified;                /* OpenSSL verified the leaf with this machine's store */
    size_t verified_length;       /* certificates in the verified path (0: none) */
    bool ends_at_anchor;          /* the last one sent is self-signed or issued by a trust anchor */
    bool issuer_missing;          /* the last one sent names an issuer that was not sent and
                                     is not a trust anchor here */
    char missing_issuer[256];     /* that issuer's name */
    char missing_issuer_url[200]; /* where the certificate naming it says it can be fetched
                                     (its AIA caIssuers), "" none */
    bool completed_by_store;      /* ... and this machine's store supplied it (a known
                                     intermediate): the path exists, the server omits it */
    bool wrong_order;             /* a certificate is not followed by its issuer */
    bool unused_certs;            /* certificates that belong to no path from the leaf */
};

struct ms_sni_facts {
    bool tested;
    enum ms_audit_outcome outcome; /* the handshake without SNI */
    char note[200];
    bool same_certificate; /* the one without SNI is the one with SNI */
    char subject[256];     /* the certificate without SNI */
    char sha256_fingerprint[96];
    bool hostname_match; /* it covers the host name anyway */
};

struct ms_ocsp_facts {
    bool tested;      /* a handshake asked for a stapled OCSP response */
    bool stapled;     /* the server sent one */
    char status[16];  /* the leaf's status in it: "good", "revoked", "unknown", "" */
    bool must_staple; /* the leaf demands stapling (RFC 7633) */
};

#define MS_MAX_TLSA 8

struct ms_tlsa_record {
    int usage, selector, matching_type;
    char data[132]; /* the association data in hex (a full certificate: its first 64 bytes) */
    bool matched;   /* it matches the chain the server sent (per its usage) */
};

struct ms_dane_facts {
    bool queried;      /* TLSA for _PORT._tcp.HOST was asked */
    char name[300];    /* "_993._tcp.mail.example.com" */
    char status[16];   /* "ok", "nxdomain", "nodata", "servfail" (the resolver failed: a
                          validating one's answer to a bogus RRset), "timeout", "error" */
    char message[128]; /* the resolver's words when not ok ("TLSA lookup failed (...)") */
    bool validated;    /* the answer came with the AD bit from the resolver */
    struct ms_tlsa_record records[MS_MAX_TLSA];
    size_t count;
    bool checked; /* the records were compared with a chain */
    bool matched; /* at least one usable record matches */
};

struct ms_tls_audit {
    struct ms_audit_probe versions[MS_AV_COUNT];
    struct ms_audit_probe weak[MS_WC_COUNT];
    struct ms_audit_probe groups[MS_AG_COUNT];
    /* The server's choice among all groups, offered in two opposite orders: the same choice
     * twice means it follows its own preference. */
    char group_forward[24], group_reverse[24];
    struct ms_audit_probe dhe;  /* only finite-field DHE suites offered (TLS <= 1.2) */
    struct ms_audit_probe best; /* default versions, SNI, OCSP request: chain and stapling */
    struct ms_chain_facts chain;
    struct ms_sni_facts sni;
    struct ms_ocsp_facts ocsp;
    struct ms_dane_facts dane;
    unsigned handshakes; /* connections the audit opened */
};

/* One address of a host with several (a pool): its own connection, TLS, greeting and
 * capabilities, never a sign-in. */
struct ms_pool_member {
    char address[64];
    int family; /* 4 or 6 */
    bool main;  /* the address the main session used (its facts, no extra connection) */
    enum ms_failure failure; /* MS_FAILURE_NONE: it answered like a mail server should */
    enum ms_phase failure_phase;
    char error[256]; /* failure_message */
    struct ms_timings timings_ms;
    char tls_version[16];
    bool tls_verified;
    char cert_fingerprint[96];
    char cert_not_after[32];
    long cert_days_left;
    char caps_digest[20]; /* first 16 hex digits of SHA-256 over the sorted capabilities */
};

struct ms_pool_facts {
    size_t address_count;           /* addresses the host has (all of them, resolved) */
    bool capped;                    /* more than MS_MAX_ADDRESSES: only the first were probed */
    struct ms_pool_member *members; /* owned; NULL when the host has one address */
    size_t member_count;
};

struct ms_endpoint_result {
    char id[300]; /* stable name, a URL: "imaps://host:993" */
    enum ms_protocol protocol;
    enum ms_security security;
    uint16_t port;
    char host[256]; /* the name used for DNS, SNI and certificate checks */
    bool required;  /* named explicitly by the user (URL target) */
    /* Named by an smtp:// URL: the relay scheme (port 25 unless the URL names another),
     * which the user configured for sending; probed as STARTTLS submission, its id says
     * "smtp://", and it always gets submission.port25. */
    bool smtp_url;
    enum ms_source source; /* the first source that named it */
    char source_name[300]; /* e.g. "_imaps._tcp.example.com" or "example.com MX"; "" for targets */
    int srv_priority;      /* SRV only; -1 otherwise */
    int srv_weight;

    struct ms_strlist addresses; /* every address resolved (or pinned), in order */
    char address[64];            /* the address the session used, "" if none */

    struct ms_timings timings_ms;
    char greeting[512];                /* the server's greeting line, sanitized */
    struct ms_strlist caps_before_tls; /* as sent; empty for implicit TLS */
    struct ms_strlist caps_after_tls;
    struct ms_strlist caps_after_login; /* IMAP CAPABILITY / POP3 CAPA after sign-in */
    bool caps_after_login_read;
    bool caps_before_tls_read;     /* a capability list was received before TLS */
    bool caps_after_tls_read;      /* ... and after TLS */
    bool caps_from_greeting;       /* IMAP: taken from the greeting's [CAPABILITY] code */
    char starttls_response[256];   /* the server's answer to STARTTLS/STLS, "" if not sent */
    int alerts_ignored_before_tls; /* IMAP [ALERT]s received before TLS and not shown */

    struct ms_tls_facts tls;

    struct ms_family_check ipv4, ipv6; /* tried only when the host has both families */

    struct ms_auth_facts auth;
    struct ms_account_facts account;
    struct ms_injection_facts injection;
    struct ms_plaintext_check plaintext_check;
    struct ms_tls_audit *audit; /* --tls-audit: owned, NULL when not audited */
    struct ms_pool_facts pool;  /* every address of the host (issue 15) */

    bool completed_securely;     /* TLS up, certificate verified, capabilities read over TLS */
    enum ms_failure failure;     /* MS_FAILURE_NONE when the session ran to the end */
    enum ms_phase failure_phase; /* where it failed (meaningful when failure != NONE) */
    char failure_message[256];   /* what happened, in words, with the server's text */
    int failure_reply_code;      /* SMTP: the reply code that ended the session (421, 554), or 0 */
};

/* One DNS question asked during discovery. */
struct ms_dns_query_fact {
    char name[300];    /* "_imaps._tcp.example.com" */
    char type[8];      /* "SRV", "MX", "A+AAAA" */
    char status[16];   /* "ok", "nxdomain", "nodata", "timeout", "error" */
    char message[128]; /* resolver's words when not ok */
    double duration_ms;
    struct ms_strlist answers; /* "0 1 993 imap.example.com", "10 mx.example.com", "192.0.2.1" */
};

/* A host/port/protocol that discovery considered. */
struct ms_candidate {
    char host[256];
    uint16_t port;
    enum ms_protocol protocol;
    enum ms_security security;
    enum ms_source source;
    char source_name[300];
    int priority;        /* SRV priority / MX preference; -1 for guesses */
    int weight;          /* SRV weight; -1 otherwise */
    long endpoint_index; /* index into endpoints[] when probed, else -1 */
    char dropped[64];    /* why not probed: "does not resolve", "limit reached", "" */
};

/* ---- what mail programs fetch to set themselves up (autoconfig, Autodiscover) ---- */

/* How one HTTP fetch ended below HTTP (an HTTP answer of any status is MS_HTTP_OK). */
enum ms_http_failure {
    MS_HTTP_OK,
    MS_HTTP_DNS,         /* the host has no address (NXDOMAIN, no A/AAAA, no answer) */
    MS_HTTP_REFUSED,     /* connection refused */
    MS_HTTP_TIMEOUT,     /* no answer in time (connect, TLS, the response, the deadline) */
    MS_HTTP_UNREACHABLE, /* network or host unreachable */
    MS_HTTP_TLS,         /* the TLS handshake failed */
    MS_HTTP_CERT,        /* the certificate did not verify (cert_problem says why) */
    MS_HTTP_TOO_LARGE,   /* the body exceeded the cap */
    MS_HTTP_PROTOCOL,    /* not HTTP, or the server closed or reset the connection */
    MS_HTTP_LOCAL,       /* out of memory or another local error */
};

/* Where a mail program looks, in the order the program uses (Thunderbird: the provider's
 * autoconfig over https, then http, then an ISPDB, then the MX host's domain; Outlook:
 * Autodiscover POX at the domain, at autodiscover.<domain>, the http redirect, SRV). */
enum ms_pub_method {
    MS_PUB_AUTOCONFIG,      /* https://autoconfig.D/mail/config-v1.1.xml?emailaddress=A */
    MS_PUB_WELL_KNOWN,      /* https://D/.well-known/autoconfig/mail/config-v1.1.xml */
    MS_PUB_AUTOCONFIG_HTTP, /* the same two over plain http */
    MS_PUB_WELL_KNOWN_HTTP,
    MS_PUB_ISPDB,                 /* --autoconfig-db: a local ISPDB-like directory or URL */
    MS_PUB_MX_AUTOCONFIG,         /* https://autoconfig.<MX host's base domain>/... */
    MS_PUB_MX_ISPDB,              /* --autoconfig-db for the MX host's base domain */
    MS_PUB_AUTODISCOVER_DOMAIN,   /* POST https://D/autodiscover/autodiscover.xml */
    MS_PUB_AUTODISCOVER,          /* POST https://autodiscover.D/autodiscover/autodiscover.xml */
    MS_PUB_AUTODISCOVER_REDIRECT, /* GET http://autodiscover.D/autodiscover/autodiscover.xml:
                                     a redirect to https, then POST there */
    MS_PUB_AUTODISCOVER_SRV,      /* SRV _autodiscover._tcp.D, then POST https://target:port */
    MS_PUB_METHOD_COUNT
};

/* What a source said, in the end. */
enum ms_pub_outcome {
    MS_PUB_PENDING,          /* not finished (the run ended first: see failure) */
    MS_PUB_SETTINGS,         /* a valid document with server settings */
    MS_PUB_NOT_FOUND,        /* nothing published there: no such host, 404/410, no SRV */
    MS_PUB_SIGN_IN_REQUIRED, /* 401 (or 403) without credentials: Outlook asks the user to
                                sign in (mailscope never sends credentials there) */
    MS_PUB_INVALID,          /* a document that does not parse or lacks required fields */
    MS_PUB_HTTP_ERROR,       /* another HTTP status (5xx, an unexpected 2xx/3xx) */
    MS_PUB_FAILED,           /* the fetch failed below HTTP (failure says how) */
    MS_PUB_REDIRECT_REFUSED, /* a redirect not followed: loop, too many, https to http, or
                                to a scheme other than http(s) */
    MS_PUB_AD_ERROR,         /* an Autodiscover <Error> response */
    MS_PUB_SKIPPED,          /* not asked: nothing to ask (no MX, the MX's domain is D, no
                                --autoconfig-db) */
};

/* One server setting a mail program is told (an incomingServer/outgoingServer of an
 * autoconfig file, a Protocol of an Autodiscover response). */
struct ms_pub_server {
    char type[8];   /* "imap", "pop3", "smtp" */
    char host[256]; /* placeholders expanded */
    uint16_t port;
    enum ms_security security;  /* IMPLICIT (SSL), STARTTLS, NONE (plain) */
    char security_text[32];     /* as written: "SSL", "STARTTLS", "plain", "SSL on" */
    char authentication[256];   /* "password-cleartext, OAuth2", "SPA off", "" */
    char username[256];         /* the user name a program will use (expanded), "" */
    char username_pattern[256]; /* as written: "%EMAILADDRESS%", "" */
    unsigned long line;         /* where the setting starts in the document */
};

#define MS_PUB_MAX_EXCHANGES 6 /* requests kept per source (a redirect chain) */

/* One HTTP request of a source. */
struct ms_http_exchange {
    char method[8];   /* "GET", "POST" */
    char url[300];    /* sanitized */
    char address[64]; /* the address connected to, "" */
    long status;      /* the HTTP status, 0 when none */
    enum ms_http_failure failure;
    char message[160];
    double duration_ms;
};

struct ms_pub_source {
    enum ms_pub_method method;
    char url[300];       /* the first URL asked; for SRV, the record's name */
    char final_url[300]; /* where the document came from after redirects, "" */
    enum ms_pub_outcome outcome;
    enum ms_http_failure failure;      /* FAILED: how */
    enum ms_cert_problem cert_problem; /* failure CERT: why */
    long status;                       /* the last HTTP status, 0 when none */
    char message[256];                 /* why it did not give settings, in words, "" */
    unsigned long error_line;          /* INVALID: where (0: not about a place) */
    unsigned long error_column;
    bool plain_http;               /* the document came over plain http */
    char redirected_to[256];       /* a redirect to a host outside the domain: the host */
    char redirect_address[256];    /* Autodiscover redirectAddr followed: the address */
    char provider[128];            /* emailProvider id, Autodiscover DisplayName */
    char error_code[16];           /* Autodiscover <ErrorCode> */
    struct ms_pub_server *servers; /* owned; in the document's order */
    size_t server_count;
    bool servers_truncated;
    size_t servers_skipped; /* settings of kinds not probed here (Exchange, EWS) */
    struct ms_http_exchange exchanges[MS_PUB_MAX_EXCHANGES];
    size_t exchange_count;
    double duration_ms;
};

struct ms_published {
    bool performed;                /* fetched (discovery, and not --no-autoconfig) */
    char address[300];             /* the e-mail address asked about ("postmaster@D" without one) */
    char mx_domain[256];           /* the MX host's base domain used, "" */
    struct ms_pub_source *sources; /* owned: MS_PUB_METHOD_COUNT entries indexed by enum
                                      ms_pub_method when performed, else NULL */
    double duration_ms;
};

struct ms_discovery {
    bool performed;
    char domain[256];
    char user[256]; /* the local part when the target was an e-mail address */
    struct ms_dns_query_fact *queries;
    size_t query_count;
    struct ms_candidate *candidates;
    size_t candidate_count;
    struct ms_strlist srv_not_offered; /* services whose SRV target is ".": "_pop3._tcp" */
    struct ms_strlist
        srv_unresolvable; /* SRV targets without addresses: "_imaps._tcp -> x.example.com" */
    struct ms_strlist submission; /* the answers, "_submissions._tcp: 0 1 465 smtp.example.com" */
    double duration_ms;           /* from the first query to the last answer */
    char resolver[160]; /* who was asked: "127.0.0.1:53" (--dns-server), or the system's */
    struct ms_published published; /* autoconfig / Autodiscover (issue 16) */
};

struct ms_result {
    char target[512];             /* the target(s) as the user gave them, space-separated */
    bool bare_host;               /* a bare host: the four standard endpoints */
    bool want[MS_PROTOCOL_COUNT]; /* protocols the user asked about */
    bool credentials_given;       /* --user and a secret: sign-in was asked for */
    bool plaintext_check_off;     /* --no-confirm: advertised plaintext sign-in is not checked */
    char user[256];               /* the user name (not a secret) */
    int only_family;              /* 4 with -4, 6 with -6, 0 when both families were asked */
    int64_t started_at;           /* epoch seconds */
    double duration_ms;
    struct ms_endpoint_result *endpoints;
    size_t endpoint_count;
    struct ms_discovery discovery; /* performed only for e-mail / --discover targets */
};

const char *ms_protocol_name(enum ms_protocol p);         /* "imap", "pop3", "submission" */
const char *ms_security_name(enum ms_security s);         /* "implicit", "starttls", "none" */
const char *ms_phase_name(enum ms_phase p);               /* "resolve", "connect", ... */
const char *ms_failure_name(enum ms_failure f);           /* "none", "tcp_refused", ... */
const char *ms_source_name(enum ms_source s);             /* "target", "srv", "mx", "conventional",
                                                             "autoconfig", "autodiscover" */
const char *ms_pub_method_name(enum ms_pub_method m);     /* "autoconfig", "well_known", ... */
const char *ms_pub_outcome_name(enum ms_pub_outcome o);   /* "settings", "not_found", ... */
const char *ms_http_failure_name(enum ms_http_failure f); /* "ok", "refused", ... */

/* OpenSSL's X509_V_ERR_* verification error as a typed problem (probe/ and test fixtures). */
enum ms_cert_problem ms_cert_problem_from_openssl(int code);

/* Free what one endpoint's result owns (not the struct itself). */
void ms_endpoint_result_free(struct ms_endpoint_result *ep);

/* Free everything the result owns (not the struct itself). */
void ms_result_free(struct ms_result *result);

#endif
