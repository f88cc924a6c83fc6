/* HTTP(S) fetches through libcurl's multi-socket interface, driven by mailscope's event
 * loop (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION / curl_multi_socket_action): no
 * threads, no blocking call. libcurl never resolves a name here (its resolver may use a
 * thread): the caller resolves with c-ares and passes the addresses (CURLOPT_RESOLVE). It
 * never follows a redirect either (the caller decides, with its own rules), never uses a
 * proxy, and trusts exactly what the probes trust: the TLS context's certificate store
 * (the system store and --ca-file) is shared with every connection. */
#ifndef MS_HTTP_H
#define MS_HTTP_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe/dns.h"
#include "probe/error.h"
#include "probe/loop.h"
#include "probe/request.h"
#include "probe/result.h"

struct ms_http;
struct ms_http_transfer;

/* One request. Strings are copied; they need not outlive the call. */
struct ms_http_request {
    const char *url;                   /* http:// or https:// */
    const char *host;                  /* the URL's host (for the address override) */
    uint16_t port;                     /* the URL's port */
    uint16_t connect_port;             /* where to connect instead (0: port) */
    const struct ms_dns_answer *addrs; /* the host's addresses (NULL: an IP literal) */
    const char *post_body;             /* NULL: GET; else POST with this body */
    const char *content_type;          /* of the POST body */
    double timeout_s;                  /* the whole exchange */
    size_t max_body;                   /* more is MS_HTTP_TOO_LARGE */
    /* --trace: the request's transcript, labelled with id */
    const struct ms_request *trace_req;
    double trace_t0;
    const char *trace_id;
};

struct ms_http_response {
    enum ms_http_failure failure; /* MS_HTTP_OK: an HTTP answer came (any status) */
    char message[256];            /* what went wrong, in words; "" when OK */
    long status;                  /* HTTP status, 0 when none */
    char location[512];           /* the Location of a redirect, made absolute; "" */
    char content_type[128];
    const char *body; /* valid during the callback only; NUL-terminated */
    size_t body_len;
    enum ms_cert_problem cert_problem; /* MS_HTTP_CERT: what the verification said */
    char address[64];                  /* the address connected to, "" when none */
    double duration_ms;
};

typedef void (*ms_http_cb)(void *arg, const struct ms_http_response *response);

/* A fetcher on loop whose TLS connections trust tls_ctx's store. Returns 0, MS_ENOMEM or
 * MS_EIO (libcurl could not be set up: err says why). */
int ms_http_new(struct ms_loop *loop, SSL_CTX *tls_ctx, struct ms_http **out, struct ms_error *err);

/* Start a fetch; cb runs exactly once from the loop (never from inside this call), unless
 * the transfer is cancelled first. *out (may be NULL) identifies it for ms_http_cancel
 * until cb runs. Returns 0 or MS_ENOMEM. */
int ms_http_fetch(struct ms_http *h, const struct ms_http_request *req, ms_http_cb cb, void *arg,
                  struct ms_http_transfer **out);

/* Stop a transfer whose callback has not run; the callback never runs. */
void ms_http_cancel(struct ms_http *h, struct ms_http_transfer *t);

/* Cancel every transfer and free (after the loop ran). */
void ms_http_free(struct ms_http *h);

#endif
