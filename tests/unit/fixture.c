/* Hand-built results shared by the unit tests (fixture.h). Not a test program itself:
 * tests/CMakeLists.txt builds it once as ms_unit_fixture and links it into each. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fixture.h"

const char *const fx_imap_caps_tls[] = {"IMAP4rev1", "SASL-IR",    "ID",         "ENABLE", "IDLE",
                                        "LITERAL+",  "AUTH=PLAIN", "AUTH=LOGIN", NULL};
const char *const fx_pop3_caps_tls[] = {
    "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN LOGIN",
    NULL};

const char *const fx_smtp_caps_pre_tls[] = {
    "PIPELINING", "SIZE 26214400", "VRFY",     "ETRN",     "STARTTLS", "ENHANCEDSTATUSCODES",
    "8BITMIME",   "DSN",           "SMTPUTF8", "CHUNKING", NULL};
const char *const fx_smtp_caps_tls[] = {"PIPELINING",
                                        "SIZE 26214400",
                                        "VRFY",
                                        "ETRN",
                                        "AUTH PLAIN LOGIN",
                                        "ENHANCEDSTATUSCODES",
                                        "8BITMIME",
                                        "DSN",
                                        "SMTPUTF8",
                                        "CHUNKING",
                                        NULL};

void fx_add_strs(struct ms_strlist *list, const char *const *items)
{
    for (; *items; items++)
        fx_add_str(list, *items);
}

void fx_add_str(struct ms_strlist *list, const char *item)
{
    assert_int_equal(ms_strlist_append(list, item, strlen(item), MS_MAX_CAPABILITIES), 0);
}

void fx_set_strs(struct ms_strlist *list, const char *const *items)
{
    ms_strlist_free(list);
    fx_add_strs(list, items);
}

void fx_result(struct ms_result *r, size_t n)
{
    memset(r, 0, sizeof *r);
    snprintf(r->target, sizeof r->target, "%s", HOST);
    r->started_at = NOW;
    if (n) {
        r->endpoints = calloc(n, sizeof *r->endpoints);
        assert_non_null(r->endpoints);
    }
    r->endpoint_count = n;
}

void fx_healthy_endpoint(struct ms_endpoint_result *ep, enum ms_protocol p, enum ms_security s,
                         uint16_t port)
{
    static const char *const imap_pre[] = {"IMAP4rev1", "STARTTLS", "LOGINDISABLED", NULL};
    static const char *const pop3_pre[] = {"CAPA", "TOP", "UIDL", "STLS", NULL};
    bool imap = p == MS_PROTOCOL_IMAP;
    ep->protocol = p;
    ep->security = s;
    ep->port = port;
    fx_set_host(ep, HOST);
    ep->srv_priority = ep->srv_weight = -1;
    fx_add_str(&ep->addresses, "192.0.2.10");
    snprintf(ep->address, sizeof ep->address, "192.0.2.10");
    ep->timings_ms = (struct ms_timings){1, 2, 3, 4, 10};
    snprintf(ep->greeting, sizeof ep->greeting, "%s", imap ? "* OK ready" : "+OK ready");
    if (s == MS_SECURITY_STARTTLS) {
        fx_add_strs(&ep->caps_before_tls, imap ? imap_pre : pop3_pre);
        ep->caps_before_tls_read = true;
        snprintf(ep->starttls_response, sizeof ep->starttls_response, "%s",
                 imap ? "OK Begin TLS negotiation now." : "+OK Begin TLS negotiation");
    }
    fx_add_strs(&ep->caps_after_tls, imap ? fx_imap_caps_tls : fx_pop3_caps_tls);
    ep->caps_after_tls_read = true;
    struct ms_tls_facts *t = &ep->tls;
    t->attempted = t->established = t->verified = true;
    snprintf(t->version, sizeof t->version, "TLSv1.3");
    snprintf(t->cipher, sizeof t->cipher, "TLS_AES_256_GCM_SHA384");
    t->has_certificate = true;
    fx_add_str(&t->cert.san, "DNS:" HOST);
    snprintf(t->cert.subject, sizeof t->cert.subject, "CN=%s", HOST);
    snprintf(t->cert.issuer, sizeof t->cert.issuer, "CN=Test CA");
    t->cert.not_before_epoch = NOW - 10 * DAY;
    t->cert.not_after_epoch = NOW + 365 * DAY;
    snprintf(t->cert.not_after, sizeof t->cert.not_after, "2027-01-01T00:00:00Z");
    t->cert.days_left = 365;
    t->cert.hostname_match = true;
    ep->completed_securely = true;
    ep->failure_phase = MS_PHASE_DONE;
    fx_account_unknown(&ep->account);
}

void fx_as_dovecot(struct ms_endpoint_result *ep, const char *const *caps_before_tls,
                   const char *const *caps_after_tls)
{
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;
    fx_add_str(&ep->addresses, "2001:db8::10");
    snprintf(ep->greeting, sizeof ep->greeting, "%s",
             imap ? "* OK Dovecot ready." : "+OK Dovecot ready.");
    if (ep->security == MS_SECURITY_STARTTLS) {
        fx_set_strs(&ep->caps_before_tls, caps_before_tls);
        snprintf(ep->starttls_response, sizeof ep->starttls_response, "%s",
                 imap ? "a1 OK Begin TLS negotiation now." : "+OK Begin TLS negotiation");
    }
    fx_set_strs(&ep->caps_after_tls, caps_after_tls);
}

void fx_bare_host(struct ms_result *r, bool credentials)
{
    fx_result(r, 4);
    r->bare_host = r->want[MS_PROTOCOL_IMAP] = r->want[MS_PROTOCOL_POP3] = true;
    r->duration_ms = 100;
    fx_healthy_endpoint(&r->endpoints[I143], MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143);
    fx_healthy_endpoint(&r->endpoints[I993], MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993);
    fx_healthy_endpoint(&r->endpoints[P110], MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS, 110);
    fx_healthy_endpoint(&r->endpoints[P995], MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    if (credentials)
        fx_credentials(r);
}

void fx_credentials(struct ms_result *r)
{
    assert_int_equal(r->endpoint_count, 4);
    r->credentials_given = true;
    snprintf(r->user, sizeof r->user, "alice");
    for (size_t i = 0; i < 4; i++) {
        struct ms_auth_facts *au = &r->endpoints[i].auth;
        au->wanted = true;
        if (i == I143 || i == P110)
            fx_not_attempted(&r->endpoints[i], MS_AUTH_SKIP_NOT_CHOSEN,
                             "another endpoint of this protocol was chosen to sign in");
        else
            au->chosen = true;
    }
}

void fx_not_attempted(struct ms_endpoint_result *ep, enum ms_auth_skip skip, const char *words)
{
    ep->auth.skip = skip;
    snprintf(ep->auth.not_attempted_reason, sizeof ep->auth.not_attempted_reason, "%s", words);
}

void fx_answer_auth(struct ms_endpoint_result *ep, const char *mechanism, const char *status,
                    const char *code, const char *text)
{
    struct ms_auth_facts *au = &ep->auth;
    au->attempted = true;
    au->ok = strcmp(status, "OK") == 0 || strcmp(status, "+OK") == 0;
    snprintf(au->mechanism, sizeof au->mechanism, "%s", mechanism);
    snprintf(au->status, sizeof au->status, "%s", status);
    snprintf(au->code, sizeof au->code, "%s", code);
    snprintf(au->server_response, sizeof au->server_response, "%s", text);
}

void fx_signed_in(struct ms_result *r)
{
    static const char *const login_caps[] = {"IMAP4rev1",   "IDLE",          "NAMESPACE", "QUOTA",
                                             "SPECIAL-USE", "LIST-EXTENDED", NULL};
    static const char *const shared[] = {"Public/", NULL};
    static const char *const personal[] = {"", NULL};
    assert_int_equal(r->endpoint_count, 4);
    struct ms_endpoint_result *im = &r->endpoints[I993];
    fx_answer_auth(im, "PLAIN", "OK", "CAPABILITY IMAP4rev1 IDLE NAMESPACE QUOTA",
                   "[CAPABILITY IMAP4rev1 IDLE NAMESPACE QUOTA] Logged in");
    fx_add_strs(&im->caps_after_login, login_caps);
    im->caps_after_login_read = true;
    struct ms_account_facts *a = &im->account;
    a->read = a->list_special_use = a->namespace_read = a->quota_read = true;
    fx_folder(a, "INBOX", "", false);
    fx_folder(a, "Sent", "\\Sent", false);
    fx_folder(a, "Archive", "\\Archive \\All", false);
    fx_folder(a, "Public", "", true);
    fx_add_strs(&a->ns_personal, personal);
    fx_add_strs(&a->ns_shared, shared);
    a->inbox_messages = 5;
    a->inbox_unseen = 2;
    a->quota_storage_used_kb = 2048;
    a->quota_storage_limit_kb = 10240;
    snprintf(a->quota_root, sizeof a->quota_root, "User quota");

    fx_answer_auth(&r->endpoints[P995], "PLAIN", "-ERR", "AUTH",
                   "-ERR [AUTH] POP3 access is disabled for this account");

    r->endpoints[I143].injection.tested = true;
    snprintf(r->endpoints[I143].injection.note, sizeof r->endpoints[I143].injection.note,
             "the server ended the connection when a command followed STARTTLS (safe)");
    r->endpoints[P110].injection.tested = r->endpoints[P110].injection.vulnerable = true;
    snprintf(r->endpoints[P110].injection.evidence, sizeof r->endpoints[P110].injection.evidence,
             "+OK Capability list follows");
}

void fx_discovery(struct ms_result *r)
{
    struct ms_discovery *d = &r->discovery;
    d->performed = true;
    snprintf(d->domain, sizeof d->domain, "example.com");
    snprintf(d->user, sizeof d->user, "alice");
    d->duration_ms = 41.26;
    d->queries = calloc(8, sizeof *d->queries);
    d->candidates = calloc(8, sizeof *d->candidates);
    assert_non_null(d->queries);
    assert_non_null(d->candidates);
}

void fx_account_unknown(struct ms_account_facts *account)
{
    account->inbox_messages = account->inbox_unseen = -1;
    account->quota_storage_used_kb = account->quota_storage_limit_kb = -1;
    account->pop3_messages = -1;
    account->pop3_octets = -1;
    account->pop3_expire_days = -2;
    account->pop3_login_delay_s = -1;
}

void fx_set_host(struct ms_endpoint_result *ep, const char *host)
{
    snprintf(ep->host, sizeof ep->host, "%s", host);
    snprintf(ep->id, sizeof ep->id, "%s%s://%s:%u",
             ep->protocol == MS_PROTOCOL_IMAP ? "imap" : "pop3",
             ep->security == MS_SECURITY_IMPLICIT ? "s" : "", host, (unsigned)ep->port);
}

void fx_set_san(struct ms_endpoint_result *ep, const char *host)
{
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", host);
    ms_strlist_free(&ep->tls.cert.san);
    fx_add_str(&ep->tls.cert.san, san);
}

void fx_bad_cert(struct ms_endpoint_result *ep, const int *errors, size_t n, const char *text)
{
    assert_true(n <= MS_MAX_VERIFY_ERRORS);
    ep->tls.verified = false;
    ep->completed_securely = false;
    for (size_t i = 0; i < n; i++) {
        ep->tls.verify_errors[i] = errors[i];
        ep->tls.cert_problems[i] = ms_cert_problem_from_openssl(errors[i]);
    }
    ep->tls.verify_error_count = n;
    snprintf(ep->tls.verify_error, sizeof ep->tls.verify_error, "%s", text);
}

void fx_fail_at(struct ms_endpoint_result *ep, enum ms_failure failure, enum ms_phase phase,
                const char *msg)
{
    ep->failure = failure;
    ep->failure_phase = phase;
    snprintf(ep->failure_message, sizeof ep->failure_message, "%s", msg);
    ep->completed_securely = false;
    if (phase <= MS_PHASE_CONNECT) {
        ep->address[0] = '\0';
        ep->greeting[0] = '\0';
        ep->timings_ms.tls = ep->timings_ms.greeting = -1;
        if (phase == MS_PHASE_RESOLVE) {
            ep->timings_ms.connect = -1;
            ms_strlist_free(&ep->addresses);
        }
        ms_strlist_free(&ep->caps_before_tls);
        ep->caps_before_tls_read = false;
        ep->starttls_response[0] = '\0';
    }
    if (phase <= MS_PHASE_STARTTLS && phase != MS_PHASE_TLS) {
        ms_strlist_free(&ep->tls.cert.san);
        memset(&ep->tls, 0, sizeof ep->tls);
    }
    if (phase <= MS_PHASE_STARTTLS) {
        ms_strlist_free(&ep->caps_after_tls);
        ep->caps_after_tls_read = false;
    }
}

void fx_folder(struct ms_account_facts *account, const char *name, const char *special_use,
               bool noselect)
{
    struct ms_folder *folders =
        realloc(account->folders, (account->folder_count + 1) * sizeof *account->folders);
    assert_non_null(folders);
    account->folders = folders;
    struct ms_folder *f = &account->folders[account->folder_count++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->special_use, sizeof f->special_use, "%s", special_use);
    f->noselect = noselect;
}

const struct ms_finding *fx_find(const struct ms_assessment *a, const char *code, long idx)
{
    for (size_t i = 0; i < a->finding_count; i++)
        if (strcmp(a->findings[i].code, code) == 0 && a->findings[i].endpoint_index == idx)
            return &a->findings[i];
    fail_msg("no finding %s for endpoint %ld", code, idx);
    return NULL;
}

void fx_done(struct ms_result *r, struct ms_assessment *a)
{
    /* every template the assessment expanded found its variables */
    unsigned long missing = ms_catalogue_missing_vars;
    ms_catalogue_missing_vars = 0;
    assert_int_equal(missing, 0);
    ms_assessment_free(a);
    ms_result_free(r);
}

void fx_submission_endpoint(struct ms_endpoint_result *ep, enum ms_security s, uint16_t port)
{
    fx_healthy_endpoint(ep, MS_PROTOCOL_SUBMISSION, s, port);
    snprintf(ep->greeting, sizeof ep->greeting, "220 %s ESMTP Postfix", HOST);
    ms_strlist_free(&ep->caps_before_tls);
    ep->caps_before_tls_read = false;
    ep->starttls_response[0] = '\0';
    if (s == MS_SECURITY_STARTTLS) {
        fx_add_strs(&ep->caps_before_tls, fx_smtp_caps_pre_tls);
        ep->caps_before_tls_read = true;
        snprintf(ep->starttls_response, sizeof ep->starttls_response,
                 "220 2.0.0 Ready to start TLS");
    }
    fx_set_strs(&ep->caps_after_tls, fx_smtp_caps_tls);
}

void fx_submission_host(struct ms_result *r, bool credentials)
{
    fx_result(r, 2);
    r->bare_host = r->want[MS_PROTOCOL_SUBMISSION] = true;
    r->duration_ms = 100;
    fx_submission_endpoint(&r->endpoints[S465], MS_SECURITY_IMPLICIT, 465);
    fx_submission_endpoint(&r->endpoints[S587], MS_SECURITY_STARTTLS, 587);
    if (!credentials)
        return;
    r->credentials_given = true;
    snprintf(r->user, sizeof r->user, "alice");
    r->endpoints[S465].auth.wanted = r->endpoints[S587].auth.wanted = true;
    r->endpoints[S465].auth.chosen = true;
    fx_not_attempted(&r->endpoints[S587], MS_AUTH_SKIP_NOT_CHOSEN,
                     "another endpoint of this protocol was chosen to sign in");
}

void fx_answer_smtp_auth(struct ms_endpoint_result *ep, const char *mechanism, const char *reply,
                         const char *enhanced, const char *text)
{
    fx_answer_auth(ep, mechanism, reply, enhanced, text);
    ep->auth.ok = strcmp(reply, "235") == 0;
}
