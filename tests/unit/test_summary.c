/* Unit tests of sign-in judgement and the account-feature summary in the assessor: the
 * classification of the server's words (RFC 5530 / RFC 2449+3206 codes, well-known
 * phrases), the auth.* and starttls.command_injection findings, every summary answer and
 * the send/receive schedule, from hand-built facts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>

#include "fixture.h"
#include "probe/result.h"
#include "report/assess.h"
#include "report/text.h"

/* ---- fixtures (fixture.h: fx_bare_host() and the other shared builders) ------------ */

static const char *const imap_login[] = {
    "IMAP4rev1", "SASL-IR",       "ID",          "ENABLE", "IDLE",    "SORT", "NAMESPACE",
    "CHILDREN",  "LIST-EXTENDED", "SPECIAL-USE", "QUOTA",  "UIDPLUS", "MOVE", NULL};

/* alice's mailbox as the test Dovecot serves it (tests/servers/dovecot.sh). */
static void dovecot_account(struct ms_result *r)
{
    static const char *const personal[] = {"", NULL};
    static const char *const shared[] = {"Public/", NULL};
    struct ms_endpoint_result *im = &r->endpoints[I993], *po = &r->endpoints[P995];
    fx_answer_auth(im, "PLAIN", "OK", "",
                   "[CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE SORT] Logged in");
    fx_add_strs(&im->caps_after_login, imap_login);
    im->caps_after_login_read = true;
    struct ms_account_facts *a = &im->account;
    a->read = true;
    a->list_special_use = true;
    fx_folder(a, "INBOX", "", false);
    fx_folder(a, "Sent", "\\Sent", false);
    fx_folder(a, "Drafts", "\\Drafts", false);
    fx_folder(a, "Trash", "\\Trash", false);
    fx_folder(a, "Junk", "\\Junk", false);
    fx_folder(a, "Archive", "\\Archive", false);
    fx_folder(a, "Projects", "", false);
    fx_folder(a, "Projects/2026", "", false);
    fx_folder(a, "Public", "", true);
    fx_folder(a, "Public/Announcements", "", false);
    a->namespace_read = true;
    fx_add_strs(&a->ns_personal, personal);
    fx_add_strs(&a->ns_shared, shared);
    a->inbox_messages = 5;
    a->inbox_unseen = 2;
    a->quota_read = true;
    a->quota_storage_used_kb = 2048;
    a->quota_storage_limit_kb = 10240;
    snprintf(a->quota_root, sizeof a->quota_root, "User quota");

    fx_answer_auth(po, "PLAIN", "+OK", "", "+OK Logged in.");
    fx_add_strs(&po->caps_after_login, fx_pop3_caps_tls);
    po->caps_after_login_read = true;
    a = &po->account;
    a->read = true;
    a->pop3_messages = 5;
    a->pop3_octets = 3210;
    a->pop3_uidl_tried = a->pop3_top_tried = true;
    a->pop3_uidl_works = a->pop3_top_works = true;
}

static void assess(const struct ms_result *r, struct ms_assessment *a)
{
    assert_int_equal(ms_assess(r, NULL, a), 0);
    for (size_t i = 0; i < a->finding_count; i++) {
        assert_true(strlen(a->findings[i].message) > 10);
        assert_true(strlen(a->findings[i].remedy) > 10);
    }
    if (getenv("MS_DUMP"))
        assert_int_equal(ms_report_text(stderr, r, a, false), 0);
}

static size_t count_prefix(const struct ms_assessment *a, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < a->finding_count; i++)
        if (strncmp(a->findings[i].code, prefix, strlen(prefix)) == 0)
            n++;
    return n;
}

static const struct ms_feature *feat(const struct ms_assessment *a, enum ms_feature_id id)
{
    return &a->summary.features[id];
}

#define IMAP_IS(a, id, v) assert_string_equal(feat(a, id)->answers[MS_PROTOCOL_IMAP].text, v)
#define POP3_IS(a, id, v) assert_string_equal(feat(a, id)->answers[MS_PROTOCOL_POP3].text, v)
#define EVIDENCE_HAS(a, id, s) assert_non_null(strstr(feat(a, id)->evidence, s))

/* ---- classification ---------------------------------------------------------------- */

static void test_classification_table(void **state)
{
    (void)state;
    static const struct {
        const char *code, *text;
        enum ms_auth_outcome want;
    } cases[] = {
        /* RFC 5530 IMAP response codes */
        {"AUTHENTICATIONFAILED", "Authentication failed.", MS_AUTH_FAILED}, /* Dovecot */
        {"AUTHORIZATIONFAILED", "Not authorized", MS_AUTH_FAILED},
        {"UNAVAILABLE", "Temporary authentication failure.", MS_AUTH_TEMPORARY},
        {"UNAVAILABLE", "Internal error occurred.", MS_AUTH_TEMPORARY},
        {"SERVERBUG", "Something broke", MS_AUTH_TEMPORARY},
        {"LIMIT", "Too many sessions", MS_AUTH_TEMPORARY},
        {"PRIVACYREQUIRED", "Plaintext authentication disallowed on non-secure connections.",
         MS_AUTH_MECHANISM_UNAVAILABLE},
        /* Dovecot's POP3 answer to USER without TLS: not a wrong password */
        {"AUTH",
         "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) "
         "connections.",
         MS_AUTH_MECHANISM_UNAVAILABLE},
        {"CONTACTADMIN", "Contact your administrator", MS_AUTH_LOCKED_OR_EXPIRED},
        {"EXPIRED", "Password expired", MS_AUTH_LOCKED_OR_EXPIRED},
        {"INUSE", "Mailbox is in use", MS_AUTH_IN_USE},
        /* POP3 RFC 2449 / 3206 */
        {"AUTH", "Authentication failed.", MS_AUTH_FAILED},
        {"SYS/TEMP", "Try again", MS_AUTH_TEMPORARY},
        {"SYS/PERM", "Cannot open the maildrop", MS_AUTH_FAILED},
        {"SYS/PERM", "Your account has been locked", MS_AUTH_LOCKED_OR_EXPIRED},
        {"IN-USE", "Mailbox locked by another session", MS_AUTH_IN_USE},
        {"LOGIN-DELAY", "Minimum time between logins not reached", MS_AUTH_LOGIN_DELAY},
        /* codes written by a server into the text (no separate code) */
        {"", "-ERR [IN-USE] Unable to lock maildrop", MS_AUTH_IN_USE},
        {"", "[AUTHENTICATIONFAILED] Authentication failed.", MS_AUTH_FAILED},
        {"", "-ERR [SYS/TEMP] Service busy", MS_AUTH_TEMPORARY},
        /* code with arguments, lower case */
        {"login-delay 900", "wait", MS_AUTH_LOGIN_DELAY},
        /* Exchange / Microsoft 365, Gmail, Dovecot nologin reasons */
        {"", "User is authenticated but not connected.", MS_AUTH_PROTOCOL_DISABLED},
        {"", "AUTHENTICATE failed.", MS_AUTH_FAILED},
        {"", "LOGIN failed.", MS_AUTH_FAILED},
        {"ALERT",
         "Your account is not enabled for IMAP use. Please visit your Gmail settings page.",
         MS_AUTH_PROTOCOL_DISABLED},
        {"SYS/PERM", "Your account is not enabled for POP access.", MS_AUTH_PROTOCOL_DISABLED},
        {"ALERT", "IMAP access is disabled for this account", MS_AUTH_PROTOCOL_DISABLED},
        {"AUTH", "POP3 access is disabled for this account", MS_AUTH_PROTOCOL_DISABLED},
        {"", "You are not allowed to use this service", MS_AUTH_PROTOCOL_DISABLED},
        {"", "POP3 denied for this user", MS_AUTH_PROTOCOL_DISABLED},
        {"", "Login disabled", MS_AUTH_PROTOCOL_DISABLED},
        {"", "Basic authentication is disabled", MS_AUTH_BASIC_AUTH_DISABLED},
        {"", "Unsupported authentication mechanism.", MS_AUTH_MECHANISM_UNAVAILABLE},
        /* the account itself */
        {"", "Account disabled", MS_AUTH_LOCKED_OR_EXPIRED},
        {"", "Your account is suspended", MS_AUTH_LOCKED_OR_EXPIRED},
        {"", "account locked after too many failures", MS_AUTH_LOCKED_OR_EXPIRED},
        /* not now */
        {"", "Service temporarily unavailable, try again later", MS_AUTH_TEMPORARY},
        {"", "Maximum number of connections from user+IP exceeded", MS_AUTH_TEMPORARY},
        {"", "maildrop already locked", MS_AUTH_IN_USE},
        /* credentials, with their remedies */
        {"", "[ALERT] Application-specific password required", MS_AUTH_FAILED},
        {"WEBALERT", "Please log in via your web browser", MS_AUTH_FAILED},
        {"", "Invalid credentials", MS_AUTH_FAILED},
        {"", "", MS_AUTH_FAILED},
        /* whole words only: "in user" is not "in use", "locker" is not "locked" */
        {"", "no such mailbox in user's storage locker", MS_AUTH_FAILED},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        enum ms_auth_outcome got = ms_assess_auth_answer(cases[k].code, cases[k].text);
        if (got != cases[k].want)
            fail_msg("[%s] \"%s\": got %s, want %s", cases[k].code, cases[k].text,
                     ms_auth_outcome_name(got), ms_auth_outcome_name(cases[k].want));
    }
    assert_int_equal(ms_assess_auth_answer(NULL, NULL), MS_AUTH_FAILED);
}

static void test_outcome_names_and_codes(void **state)
{
    (void)state;
    assert_null(ms_auth_outcome_code(MS_AUTH_OK));
    assert_null(ms_auth_outcome_code(MS_AUTH_NONE));
    assert_null(ms_auth_outcome_code(MS_AUTH_NOT_CHOSEN));
    assert_null(ms_auth_outcome_code(MS_AUTH_UNFINISHED));
    assert_string_equal(ms_auth_outcome_code(MS_AUTH_LOCKED_OR_EXPIRED),
                        "auth.account_locked_or_expired");
    assert_string_equal(ms_auth_outcome_code(MS_AUTH_IN_USE), "auth.mailbox_in_use");
    assert_string_equal(ms_auth_outcome_code(MS_AUTH_TEMPORARY), "auth.temporary_failure");
    assert_string_equal(ms_auth_outcome_name(MS_AUTH_OK), "ok");
    assert_string_equal(ms_auth_outcome_name(MS_AUTH_NOT_CHOSEN), "not_chosen");
    assert_string_equal(ms_auth_outcome_name(MS_AUTH_NOT_ATTEMPTED_INSECURE),
                        "not_attempted_insecure");
    assert_string_equal(ms_auth_outcome_name(MS_AUTH_BASIC_AUTH_DISABLED), "basic_auth_disabled");
}

/* From the facts of one endpoint: what each way of (not) signing in means. */
static void test_outcome_from_facts(void **state)
{
    (void)state;
    struct ms_result r;
    fx_bare_host(&r, true);
    struct ms_endpoint_result *ep = &r.endpoints[I993];
    assert_int_equal(ms_assess_auth(&r.endpoints[I143]), MS_AUTH_NOT_CHOSEN);
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_NONE); /* chosen, nothing happened yet */
    fx_answer_auth(ep, "PLAIN", "OK", "", "Logged in");
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_OK);
    /* Exchange: password accepted, every command refused */
    ep->failure = MS_FAILURE_PROTO_MALFORMED;
    ep->failure_phase = MS_PHASE_CAPABILITY;
    snprintf(ep->failure_message, sizeof ep->failure_message,
             "the server answered CAPABILITY with BAD User is authenticated but not connected.");
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_PROTOCOL_DISABLED);
    /* BYE instead of a verdict: its words decide */
    memset(&ep->auth, 0, sizeof ep->auth);
    ep->auth.wanted = ep->auth.chosen = ep->auth.attempted = true;
    ep->failure = MS_FAILURE_PROTO_BYE;
    ep->failure_phase = MS_PHASE_AUTH;
    snprintf(ep->failure_message, sizeof ep->failure_message,
             "the server closed the session: [UNAVAILABLE] Try later");
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_TEMPORARY);
    /* a timeout before the verdict: no verdict */
    ep->failure = MS_FAILURE_PROTO_TIMEOUT;
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_UNFINISHED);
    /* the probe's reasons for not sending credentials */
    static const struct {
        enum ms_auth_skip skip;
        enum ms_auth_outcome want;
    } reasons[] = {
        {MS_AUTH_SKIP_NOT_ENCRYPTED, MS_AUTH_NOT_ATTEMPTED_INSECURE},
        {MS_AUTH_SKIP_NO_TLS, MS_AUTH_NOT_ATTEMPTED_INSECURE},
        {MS_AUTH_SKIP_CERT_UNVERIFIED, MS_AUTH_NOT_ATTEMPTED_INSECURE},
        {MS_AUTH_SKIP_OAUTH2_ONLY, MS_AUTH_BASIC_AUTH_DISABLED},
        {MS_AUTH_SKIP_NO_OAUTH2_MECH, MS_AUTH_MECHANISM_UNAVAILABLE},
        {MS_AUTH_SKIP_NO_PASSWORD_MECH, MS_AUTH_MECHANISM_UNAVAILABLE},
        {MS_AUTH_SKIP_FORCED_NOT_OFFERED, MS_AUTH_MECHANISM_UNAVAILABLE},
        {MS_AUTH_SKIP_UNKNOWN_MECH, MS_AUTH_MECHANISM_UNAVAILABLE},
        {MS_AUTH_SKIP_UNENCODABLE, MS_AUTH_NOT_ATTEMPTED},
        {MS_AUTH_SKIP_LINE_BREAK, MS_AUTH_NOT_ATTEMPTED},
        {MS_AUTH_SKIP_NOT_CHOSEN, MS_AUTH_NOT_CHOSEN},
        {MS_AUTH_SKIP_LOCAL_ERROR, MS_AUTH_NOT_ATTEMPTED},
    };
    ep->failure = MS_FAILURE_NONE;
    ep->auth.attempted = false;
    for (size_t k = 0; k < sizeof reasons / sizeof reasons[0]; k++) {
        /* the words are evidence only: the typed reason decides */
        fx_not_attempted(ep, reasons[k].skip, "words that must not matter");
        assert_int_equal(ms_assess_auth(ep), reasons[k].want);
    }
    /* a local error on a connection without verified TLS: insecure */
    fx_not_attempted(ep, MS_AUTH_SKIP_LOCAL_ERROR, "out of memory");
    ep->tls.verified = false;
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_NOT_ATTEMPTED_INSECURE);
    /* no reason, but the session stopped because TLS could not be had */
    ep->auth.not_attempted_reason[0] = '\0';
    ep->auth.chosen = false;
    ep->failure = MS_FAILURE_STARTTLS_NOT_OFFERED;
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_NOT_ATTEMPTED_INSECURE);
    ep->failure = MS_FAILURE_TCP_REFUSED; /* closed: nothing to say about sign-in */
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_NONE);
    ep->auth.wanted = false;
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_NONE);
    ms_result_free(&r);
}

static void test_mechanisms(void **state)
{
    (void)state;
    struct ms_result r;
    fx_bare_host(&r, false);
    char names[8][32];
    size_t n = ms_assess_mechanisms(&r.endpoints[I993], names, 8, true);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "PLAIN");
    assert_string_equal(names[1], "LOGIN");
    n = ms_assess_mechanisms(&r.endpoints[P995], names, 8, false); /* SASL only */
    assert_int_equal(n, 2);
    n = ms_assess_mechanisms(&r.endpoints[P995], names, 8, true);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "PLAIN");
    assert_string_equal(names[1], "LOGIN");
    assert_string_equal(names[2], "USER");
    assert_int_equal(ms_assess_mechanisms(&r.endpoints[P995], names, 1, true), 1); /* bounded */
    /* STARTTLS endpoint whose TLS failed: the capabilities it was offered before TLS */
    struct ms_endpoint_result *ep = &r.endpoints[I143];
    ep->tls.established = false;
    assert_int_equal(ms_assess_mechanisms(ep, names, 8, true), 0); /* LOGINDISABLED, no AUTH= */
    ms_result_free(&r);
}

/* ---- findings ---------------------------------------------------------------------- */

static void test_signed_in_no_findings(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    dovecot_account(&r);
    assess(&r, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(a.finding_count, 0); /* "another endpoint was chosen" is not a finding */
    assert_int_equal(a.summary.signed_in[MS_PROTOCOL_IMAP], I993);
    assert_int_equal(a.summary.signed_in[MS_PROTOCOL_POP3], P995);
    assert_int_equal(a.summary.auth[MS_PROTOCOL_IMAP], MS_AUTH_OK);
    assert_null(strstr(a.verdicts[0].summary, "Signing in"));
    fx_done(&r, &a);
}

static void test_auth_failed_is_critical(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    fx_answer_auth(&r.endpoints[I993], "PLAIN", "NO", "AUTHENTICATIONFAILED",
                   "[AUTHENTICATIONFAILED] Authentication failed.");
    fx_answer_auth(&r.endpoints[P995], "PLAIN", "+OK", "", "+OK Logged in.");
    assess(&r, &a);
    assert_int_equal(a.status, MS_STATUS_CRITICAL); /* exit 2 */
    const struct ms_finding *f = fx_find(&a, "auth.failed", I993);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "alice"));
    assert_non_null(strstr(f->message, "NO [AUTHENTICATIONFAILED] Authentication failed."));
    assert_non_null(strstr(f->remedy, "app password"));
    assert_int_equal(count_prefix(&a, "auth."), 1);
    assert_int_equal(a.verdicts[0].status, MS_STATUS_CRITICAL);
    assert_true(a.verdicts[0].available); /* the server works; the account does not */
    assert_non_null(strstr(a.verdicts[0].summary, "IMAP works securely on 993"));
    assert_non_null(strstr(a.verdicts[0].summary,
                           "Signing in as alice on 993 failed: the server rejected the "
                           "credentials."));
    assert_int_equal(a.verdicts[1].status, MS_STATUS_OK);
    /* the settings stay right: a wrong password does not make 143 better than 993 */
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], I993);
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "unknown"); /* says nothing about IMAP */
    POP3_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_PROTOCOL_ENABLED, "Authentication failed.");
    IMAP_IS(&a, MS_FEATURE_SERVER_FOLDERS, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_SERVER_FOLDERS, "needs sign-in (the server rejected");
    assert_int_equal(a.summary.signed_in[MS_PROTOCOL_IMAP], -1);
    /* sign-in failed on IMAP: no push promised; POP3 works, so poll it */
    assert_non_null(strstr(a.summary.schedule, "Poll: check POP3 every 5 minutes"));
    ms_assessment_free(&a);

    /* an OAuth2 token rejected: the token remedy, the error JSON in the message */
    struct ms_auth_facts *au = &r.endpoints[I993].auth;
    snprintf(au->mechanism, sizeof au->mechanism, "XOAUTH2");
    snprintf(au->oauth_error, sizeof au->oauth_error,
             "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}");
    assess(&r, &a);
    f = fx_find(&a, "auth.failed", I993);
    assert_non_null(strstr(f->message, "\"status\":\"401\""));
    assert_non_null(strstr(f->remedy, "fresh access token"));
    assert_non_null(strstr(f->remedy, "IMAP.AccessAsUser.All"));
    fx_done(&r, &a);
}

static void test_protocol_disabled_dovecot_nologin(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    dovecot_account(&r);
    /* imaponly: POP3 refuses the right password with the nologin reason */
    struct ms_endpoint_result *po = &r.endpoints[P995];
    ms_strlist_free(&po->caps_after_login);
    po->caps_after_login_read = false;
    memset(&po->account, 0, sizeof po->account);
    po->account.pop3_expire_days = -2;
    po->account.pop3_login_delay_s = -1;
    po->auth.ok = false;
    fx_answer_auth(po, "PLAIN", "-ERR", "AUTH",
                   "-ERR [AUTH] POP3 access is disabled for this account");
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "auth.protocol_disabled", P995);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "may not use POP3"));
    assert_non_null(strstr(f->message, "POP3 access is disabled for this account"));
    assert_non_null(strstr(f->remedy, "Set-CASMailbox -Identity alice -PopEnabled $true"));
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    POP3_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "no");
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "yes");
    assert_non_null(strstr(a.verdicts[1].summary, "POP3 is disabled for this account"));
    /* IMAP works with IDLE: push */
    assert_true(strncmp(a.summary.schedule, "Push:", 5) == 0);
    assert_int_equal(a.summary.poll_interval_s, 0);
    ms_assessment_free(&a);

    /* Exchange: IMAP accepts the password and then says these words */
    struct ms_endpoint_result *im = &r.endpoints[I993];
    im->account.read = false;
    im->failure = MS_FAILURE_PROTO_MALFORMED;
    im->failure_phase = MS_PHASE_CAPABILITY;
    snprintf(im->failure_message, sizeof im->failure_message,
             "the server answered CAPABILITY with BAD User is authenticated but not connected.");
    assess(&r, &a);
    f = fx_find(&a, "auth.protocol_disabled", I993);
    assert_non_null(strstr(f->message, "Exchange"));
    assert_non_null(strstr(f->remedy, "-ImapEnabled $true"));
    /* the failure after sign-in is a warning of its own, not an alarm about the server */
    assert_int_equal(fx_find(&a, "proto.malformed_response", I993)->severity, MS_SEVERITY_WARNING);
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "no");
    assert_non_null(strstr(a.summary.schedule, "No schedule: signing in failed"));
    assert_int_equal(a.summary.poll_interval_s, -1);
    fx_done(&r, &a);
}

static void test_other_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *status, *code, *text, *finding, *remedy;
        enum ms_severity sev;
        const char *enabled;
    } cases[] = {
        {"NO", "EXPIRED", "[EXPIRED] Password expired", "auth.account_locked_or_expired", "unlock",
         MS_SEVERITY_CRITICAL, "unknown"},
        {"NO", "UNAVAILABLE", "[UNAVAILABLE] Temporary authentication failure.",
         "auth.temporary_failure", "few minutes", MS_SEVERITY_WARNING, "unknown"},
        {"NO", "INUSE", "[INUSE] Mailbox in use", "auth.mailbox_in_use", "Another program",
         MS_SEVERITY_WARNING, "unknown"},
        {"NO", "", "Unsupported authentication mechanism.", "auth.mechanism_unavailable",
         "--auth-mech", MS_SEVERITY_CRITICAL, "unknown"},
        {"NO", "", "Basic authentication is disabled for this tenant", "auth.basic_auth_disabled",
         "OAuth2", MS_SEVERITY_CRITICAL, "OAuth2 only"},
        {"NO", "PRIVACYREQUIRED",
         "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) "
         "connections.",
         "auth.mechanism_unavailable", "over TLS", MS_SEVERITY_CRITICAL, "unknown"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ms_result r;
        struct ms_assessment a;
        fx_bare_host(&r, true);
        fx_answer_auth(&r.endpoints[I993], "PLAIN", cases[k].status, cases[k].code, cases[k].text);
        assess(&r, &a);
        const struct ms_finding *f = fx_find(&a, cases[k].finding, I993);
        assert_int_equal(f->severity, cases[k].sev);
        assert_non_null(strstr(f->message, cases[k].text));
        if (!strstr(f->remedy, cases[k].remedy))
            fail_msg("%s: remedy \"%s\" lacks \"%s\"", cases[k].finding, f->remedy,
                     cases[k].remedy);
        IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, cases[k].enabled);
        assert_int_equal(count_prefix(&a, "auth."), 1);
        fx_done(&r, &a);
    }

    /* POP3 [LOGIN-DELAY] on sign-in: warning */
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    fx_answer_auth(&r.endpoints[P995], "USER", "-ERR", "LOGIN-DELAY",
                   "-ERR [LOGIN-DELAY] Minimum time between logins not reached");
    fx_answer_auth(&r.endpoints[I993], "PLAIN", "OK", "", "Logged in");
    assess(&r, &a);
    assert_int_equal(fx_find(&a, "auth.login_delay", P995)->severity, MS_SEVERITY_WARNING);
    assert_int_equal(a.status, MS_STATUS_WARNING); /* exit 1 */
    POP3_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_PROTOCOL_ENABLED, "too soon after the last sign-in");
    fx_done(&r, &a);
}

/* Only XOAUTH2 offered, a password given: the probe did not send it. */
static void test_basic_auth_disabled(void **state)
{
    (void)state;
    static const char *const o365[] = {"IMAP4",   "IMAP4rev1", "AUTH=XOAUTH2", "SASL-IR",
                                       "UIDPLUS", "ID",        "UNSELECT",     "CHILDREN",
                                       "IDLE",    "NAMESPACE", "LITERAL+",     NULL};
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    struct ms_endpoint_result *im = &r.endpoints[I993];
    fx_set_strs(&im->caps_after_tls, o365);
    fx_not_attempted(im, MS_AUTH_SKIP_OAUTH2_ONLY,
                     "the server offers only OAuth2 sign-in (password sign-in is turned off)");
    fx_answer_auth(&r.endpoints[P995], "PLAIN", "+OK", "", "+OK Logged in.");
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "auth.basic_auth_disabled", I993);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "offers only OAuth2 sign-in (XOAUTH2)"));
    assert_non_null(strstr(f->remedy, "Use OAuth2 (modern authentication)"));
    assert_non_null(strstr(f->remedy, "allow basic authentication"));
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "OAuth2 only");
    IMAP_IS(&a, MS_FEATURE_SIGN_IN_METHODS, "XOAUTH2");
    EVIDENCE_HAS(&a, MS_FEATURE_SIGN_IN_METHODS, "password no, OAuth2 yes (XOAUTH2)");
    fx_done(&r, &a);
}

/* A token given, but the server takes no OAuth2 mechanism. */
static void test_token_without_oauth_mech(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    fx_not_attempted(&r.endpoints[I993], MS_AUTH_SKIP_NO_OAUTH2_MECH,
                     "the server offers no OAuth2 mechanism (AUTH=XOAUTH2 or AUTH=OAUTHBEARER)");
    fx_not_attempted(&r.endpoints[P995], MS_AUTH_SKIP_NO_OAUTH2_MECH,
                     "the server offers no OAuth2 mechanism (SASL XOAUTH2 or OAUTHBEARER)");
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "auth.mechanism_unavailable", I993);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "offered: PLAIN, LOGIN"));
    assert_non_null(strstr(f->remedy, "sign in with the password"));
    fx_find(&a, "auth.mechanism_unavailable", P995);
    assert_int_equal(count_prefix(&a, "auth."), 2);
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_PROTOCOL_ENABLED, "not signed in: the server offers no OAuth2");
    assert_non_null(strstr(a.summary.schedule, "No schedule"));
    fx_done(&r, &a);
}

/* The only IMAP endpoint has a bad certificate: credentials are not sent (info). */
static void test_insecure_not_attempted(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    for (size_t i = I143; i <= I993; i++) {
        struct ms_endpoint_result *ep = &r.endpoints[i];
        fx_bad_cert(ep, (const int[]){18}, 1, /* X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT */
                    "self-signed certificate");
        ep->auth.chosen = false;
        fx_not_attempted(ep, MS_AUTH_SKIP_CERT_UNVERIFIED,
                         "the certificate did not verify (self-signed certificate); credentials "
                         "are sent only over verified TLS (--allow-insecure-auth overrides)");
    }
    fx_answer_auth(&r.endpoints[P995], "PLAIN", "+OK", "", "+OK Logged in.");
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "auth.not_attempted_insecure", I993);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "did not sign in as alice"));
    assert_non_null(strstr(f->remedy, "--allow-insecure-auth"));
    fx_find(&a, "auth.not_attempted_insecure", I143);
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_PROTOCOL_ENABLED, "IMAP: not signed in: the certificate did not");
    IMAP_IS(&a, MS_FEATURE_SECURE_CONNECTION, "no");
    POP3_IS(&a, MS_FEATURE_SECURE_CONNECTION, "yes");
    POP3_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "yes");
    assert_non_null(strstr(a.summary.schedule, "Poll: check POP3"));
    fx_done(&r, &a);
}

/* A plaintext-only server: the session stopped at STARTTLS, nothing was sent. */
static void test_stopped_without_tls(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    r.endpoint_count = 1; /* imap://...:143 only */
    r.bare_host = false;
    r.want[MS_PROTOCOL_POP3] = false;
    struct ms_endpoint_result *ep = &r.endpoints[I143];
    ep->auth.not_attempted_reason[0] = '\0';
    ep->failure = MS_FAILURE_STARTTLS_NOT_OFFERED;
    ep->failure_phase = MS_PHASE_CAPABILITY;
    snprintf(ep->failure_message, sizeof ep->failure_message,
             "the server does not offer STARTTLS before sign-in");
    ep->completed_securely = false;
    ep->tls.attempted = ep->tls.established = ep->tls.verified = false;
    ep->tls.has_certificate = false;
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "auth.not_attempted_insecure", I143);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_non_null(strstr(f->message, "the session stopped before sign-in (starttls.not_offered: "
                                       "the server does not offer STARTTLS before sign-in)"));
    assert_non_null(strstr(f->remedy, "--allow-insecure-auth"));
    fx_find(&a, "starttls.not_offered", I143);
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "unknown");
    r.endpoint_count = 4;
    fx_done(&r, &a);
}

static void test_injection(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    struct ms_endpoint_result *ep = &r.endpoints[I143];
    ep->injection.tested = true;
    ep->injection.vulnerable = true;
    snprintf(ep->injection.evidence, sizeof ep->injection.evidence, "Ia1b2c3d4 OK NOOP completed.");
    struct ms_endpoint_result *pe = &r.endpoints[P110];
    pe->injection.tested = true; /* safe: no finding */
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "starttls.command_injection", I143);
    assert_int_equal(f->severity, MS_SEVERITY_CRITICAL);
    assert_non_null(strstr(f->message, "Ia1b2c3d4 OK NOOP completed."));
    assert_non_null(strstr(f->remedy, "port 993"));
    assert_int_equal(a.finding_count, 1);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    /* 993 still works; 143 is named as broken and never recommended */
    assert_true(a.verdicts[0].available);
    assert_string_equal(a.verdicts[0].summary,
                        "IMAP works securely on 993 (implicit TLS); port 143 executes commands "
                        "injected before STARTTLS.");
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], I993);
    ms_assessment_free(&a);
    /* the only IMAP endpoint: not available securely */
    r.endpoints[I993].completed_securely = false;
    r.endpoints[I993].tls.verified = false;
    r.endpoints[I993].failure = MS_FAILURE_TCP_REFUSED;
    r.endpoints[I993].failure_phase = MS_PHASE_CONNECT;
    assess(&r, &a);
    assert_false(a.verdicts[0].available);
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], -1);
    IMAP_IS(&a, MS_FEATURE_SECURE_CONNECTION, "no");
    fx_done(&r, &a);
}

static void test_quota_nearly_full_and_account_phase(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    dovecot_account(&r);
    r.endpoints[I993].account.quota_storage_used_kb = 9728; /* 95% */
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "account.quota_nearly_full", I993);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_non_null(strstr(f->message, "9.5 MB of 10 MB used (95%"));
    IMAP_IS(&a, MS_FEATURE_QUOTA, "9.5 MB of 10 MB (95%)");
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], I993);
    ms_assessment_free(&a);

    /* the account queries stopped answering: a warning, the account facts unknown */
    r.endpoints[I993].account.quota_storage_used_kb = 2048;
    r.endpoints[I993].account.read = false;
    r.endpoints[I993].failure = MS_FAILURE_PROTO_TIMEOUT;
    r.endpoints[I993].failure_phase = MS_PHASE_ACCOUNT;
    snprintf(r.endpoints[I993].failure_message, sizeof r.endpoints[I993].failure_message,
             "no answer within 10 s");
    assess(&r, &a);
    f = fx_find(&a, "proto.timeout", I993);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_non_null(strstr(f->message, "signed in, then failed while its folders and quota"));
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "yes");
    IMAP_IS(&a, MS_FEATURE_SERVER_FOLDERS, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_SERVER_FOLDERS, "account queries did not finish");
    assert_int_equal(a.status, MS_STATUS_WARNING);
    fx_done(&r, &a);
}

/* ---- the summary ------------------------------------------------------------------- */

static void test_summary_full_account(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, true);
    dovecot_account(&r);
    assess(&r, &a);
    const struct ms_summary *s = &a.summary;
    static const char *const ids[] = {
        "protocol_enabled",  "leave_mail_on_server",  "server_folders", "sent_items_on_server",
        "shared_folders",    "headers_only_download", "push_mail",      "min_poll_interval",
        "secure_connection", "sign_in_methods",       "quota",          "can_send",
        "max_message_size"};
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        assert_string_equal(s->features[k].id, ids[k]);
        assert_true(strlen(s->features[k].question) > 10);
        assert_true(strlen(s->features[k].label) <= 30);
        assert_true(strlen(s->features[k].evidence) > 5);
    }
    assert_true(s->in_play[0] && s->in_play[1]);
    assert_int_equal(s->source[MS_PROTOCOL_IMAP], I993);
    assert_int_equal(s->source[MS_PROTOCOL_POP3], P995);

    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "yes");
    POP3_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_PROTOCOL_ENABLED,
                 "IMAP: signed in on imaps://" HOST ":993 (PLAIN)");
    IMAP_IS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "yes");
    POP3_IS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER,
                 "POP3: UIDL works after sign-in; EXPIRE not said");
    IMAP_IS(&a, MS_FEATURE_SERVER_FOLDERS, "10 folders");
    POP3_IS(&a, MS_FEATURE_SERVER_FOLDERS, "no");
    EVIDENCE_HAS(&a, MS_FEATURE_SERVER_FOLDERS, "LIST after sign-in: 10 folders, 1 not selectable");
    IMAP_IS(&a, MS_FEATURE_SENT_ITEMS_ON_SERVER, "yes");
    POP3_IS(&a, MS_FEATURE_SENT_ITEMS_ON_SERVER, "n/a");
    EVIDENCE_HAS(&a, MS_FEATURE_SENT_ITEMS_ON_SERVER, "\\Sent folder \"Sent\"");
    IMAP_IS(&a, MS_FEATURE_SHARED_FOLDERS, "yes");
    POP3_IS(&a, MS_FEATURE_SHARED_FOLDERS, "n/a");
    EVIDENCE_HAS(&a, MS_FEATURE_SHARED_FOLDERS, "NAMESPACE shared \"Public/\"");
    IMAP_IS(&a, MS_FEATURE_HEADERS_ONLY_DOWNLOAD, "yes");
    POP3_IS(&a, MS_FEATURE_HEADERS_ONLY_DOWNLOAD, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_HEADERS_ONLY_DOWNLOAD, "TOP works after sign-in");
    IMAP_IS(&a, MS_FEATURE_PUSH_MAIL, "yes");
    POP3_IS(&a, MS_FEATURE_PUSH_MAIL, "no");
    EVIDENCE_HAS(&a, MS_FEATURE_PUSH_MAIL, "IDLE after sign-in");
    IMAP_IS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "none");
    POP3_IS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "none");
    EVIDENCE_HAS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "no LOGIN-DELAY after sign-in");
    IMAP_IS(&a, MS_FEATURE_SECURE_CONNECTION, "yes");
    POP3_IS(&a, MS_FEATURE_SECURE_CONNECTION, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_SECURE_CONNECTION, "implicit TLS on 993, TLSv1.3");
    IMAP_IS(&a, MS_FEATURE_SIGN_IN_METHODS, "PLAIN, LOGIN");
    POP3_IS(&a, MS_FEATURE_SIGN_IN_METHODS, "PLAIN, LOGIN, USER");
    EVIDENCE_HAS(&a, MS_FEATURE_SIGN_IN_METHODS, "password yes (PLAIN, LOGIN), OAuth2 no");
    IMAP_IS(&a, MS_FEATURE_QUOTA, "2.0 MB of 10 MB (20%)");
    POP3_IS(&a, MS_FEATURE_QUOTA, "n/a");
    EVIDENCE_HAS(&a, MS_FEATURE_QUOTA, "root \"User quota\", STORAGE 2048 of 10240 KB");
    EVIDENCE_HAS(&a, MS_FEATURE_QUOTA, "STAT: 5 messages, 4 KB");

    assert_true(strncmp(s->schedule, "Push: use IMAP with IDLE", 24) == 0);
    assert_null(strstr(s->schedule, "EXPIRE"));
    assert_int_equal(s->poll_interval_s, 0);

    assert_true(ms_assess_feature_holds(&a, "push_mail"));
    assert_true(ms_assess_feature_holds(&a, "quota"));
    assert_true(ms_assess_feature_holds(&a, "shared_folders"));
    assert_false(ms_assess_feature_holds(&a, "no_such_feature"));
    ms_assessment_free(&a);

    /* no \Sent flag, but a folder named "Sent Items"; no shared namespace */
    struct ms_account_facts *ac = &r.endpoints[I993].account;
    ac->folders[1].special_use[0] = '\0';
    snprintf(ac->folders[1].name, sizeof ac->folders[1].name, "INBOX.Sent Items");
    ms_strlist_free(&ac->ns_shared);
    ac->quota_storage_limit_kb = -1;
    assess(&r, &a);
    IMAP_IS(&a, MS_FEATURE_SENT_ITEMS_ON_SERVER, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_SENT_ITEMS_ON_SERVER, "\"INBOX.Sent Items\" (by its name");
    IMAP_IS(&a, MS_FEATURE_SHARED_FOLDERS, "no");
    assert_false(ms_assess_feature_holds(&a, "shared_folders"));
    IMAP_IS(&a, MS_FEATURE_QUOTA, "2.0 MB used, no limit");
    ms_assessment_free(&a);
    snprintf(ac->folders[1].name, sizeof ac->folders[1].name, "Outbox copies");
    assess(&r, &a);
    IMAP_IS(&a, MS_FEATURE_SENT_ITEMS_ON_SERVER, "no");
    fx_done(&r, &a);
}

static void test_summary_no_credentials(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    assess(&r, &a);
    assert_int_equal(a.finding_count, 0);
    assert_int_equal(a.summary.auth[0], MS_AUTH_NONE);
    assert_int_equal(a.summary.signed_in[0], -1);
    assert_int_equal(a.summary.auth_endpoint[1], -1);
    IMAP_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "unknown");
    POP3_IS(&a, MS_FEATURE_PROTOCOL_ENABLED, "unknown");
    assert_string_equal(feat(&a, MS_FEATURE_PROTOCOL_ENABLED)->evidence,
                        "IMAP: " MS_NEEDS_SIGN_IN_NO_CREDENTIALS
                        "; POP3: " MS_NEEDS_SIGN_IN_NO_CREDENTIALS);
    static const enum ms_feature_id needs[] = {MS_FEATURE_SERVER_FOLDERS,
                                               MS_FEATURE_SENT_ITEMS_ON_SERVER,
                                               MS_FEATURE_SHARED_FOLDERS, MS_FEATURE_QUOTA};
    for (size_t k = 0; k < sizeof needs / sizeof needs[0]; k++) {
        IMAP_IS(&a, needs[k], "unknown");
        EVIDENCE_HAS(&a, needs[k], "IMAP: " MS_NEEDS_SIGN_IN_NO_CREDENTIALS);
    }
    /* what the capabilities answer without sign-in */
    IMAP_IS(&a, MS_FEATURE_PUSH_MAIL, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_PUSH_MAIL, "IDLE before sign-in");
    POP3_IS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER,
                 "the per-user EXPIRE shows only after sign-in");
    POP3_IS(&a, MS_FEATURE_HEADERS_ONLY_DOWNLOAD, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_HEADERS_ONLY_DOWNLOAD, "TOP offered");
    POP3_IS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_MIN_POLL_INTERVAL, MS_NEEDS_SIGN_IN_NO_CREDENTIALS);
    IMAP_IS(&a, MS_FEATURE_SIGN_IN_METHODS, "PLAIN, LOGIN");
    IMAP_IS(&a, MS_FEATURE_SECURE_CONNECTION, "yes");
    assert_true(strncmp(a.summary.schedule, "Push:", 5) == 0);
    ms_assessment_free(&a);

    /* no IDLE before sign-in and no credentials: unknown, not no */
    static const char *const bare[] = {"IMAP4rev1", "AUTH=PLAIN", NULL};
    fx_set_strs(&r.endpoints[I993].caps_after_tls, bare);
    fx_set_strs(&r.endpoints[I143].caps_after_tls, bare);
    assess(&r, &a);
    IMAP_IS(&a, MS_FEATURE_PUSH_MAIL, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_PUSH_MAIL, "no IDLE before sign-in");
    assert_non_null(strstr(a.summary.schedule, "Poll: IMAP offers no IDLE"));
    assert_int_equal(a.summary.poll_interval_s, 300);
    ms_assessment_free(&a);

    /* only IMAP asked for: POP3 answers n/a */
    ms_result_free(&r);
    fx_bare_host(&r, false);
    r.want[MS_PROTOCOL_POP3] = false;
    r.endpoint_count = 2;
    assess(&r, &a);
    assert_false(a.summary.in_play[MS_PROTOCOL_POP3]);
    for (int k = 0; k < MS_FEATURE_COUNT; k++)
        POP3_IS(&a, (enum ms_feature_id)k, "n/a");
    assert_null(strstr(feat(&a, MS_FEATURE_PUSH_MAIL)->evidence, "POP3"));
    r.endpoint_count = 4;
    fx_done(&r, &a);
}

/* POP3 with EXPIRE 0 and LOGIN-DELAY 900 after sign-in; no IMAP. */
static void test_summary_pop3_expire_login_delay(void **state)
{
    (void)state;
    static const char *const capa[] = {
        "CAPA", "TOP", "UIDL", "RESP-CODES", "EXPIRE 0", "USER", "LOGIN-DELAY 900", NULL};
    static const char *const pre[] = {
        "CAPA", "TOP", "UIDL", "USER", "EXPIRE 30 USER", "LOGIN-DELAY 300 USER", NULL};
    struct ms_result r;
    struct ms_assessment a;
    fx_result(&r, 2);
    r.want[MS_PROTOCOL_POP3] = true;
    r.credentials_given = true;
    snprintf(r.user, sizeof r.user, "alice");
    fx_healthy_endpoint(&r.endpoints[0], MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS, 110);
    fx_healthy_endpoint(&r.endpoints[1], MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995);
    r.endpoints[0].auth.wanted = r.endpoints[1].auth.wanted = r.endpoints[1].auth.chosen = true;
    fx_not_attempted(&r.endpoints[0], MS_AUTH_SKIP_NOT_CHOSEN,
                     "another endpoint of this protocol was chosen to sign in");
    struct ms_endpoint_result *po = &r.endpoints[1];
    fx_set_strs(&po->caps_after_tls, pre);
    fx_answer_auth(po, "USER", "+OK", "", "+OK Logged in.");
    fx_add_strs(&po->caps_after_login, capa);
    po->caps_after_login_read = true;
    po->account.read = true;
    po->account.pop3_messages = 0;
    po->account.pop3_octets = 0;
    po->account.pop3_expire_days = 0;
    po->account.pop3_login_delay_s = 900;
    assess(&r, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_false(a.summary.in_play[MS_PROTOCOL_IMAP]);
    POP3_IS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "no");
    EVIDENCE_HAS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER,
                 "EXPIRE 0 after sign-in: the server deletes mail once it is downloaded");
    POP3_IS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "900 s");
    EVIDENCE_HAS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "LOGIN-DELAY 900 after sign-in");
    POP3_IS(&a, MS_FEATURE_HEADERS_ONLY_DOWNLOAD, "yes"); /* empty mailbox: from CAPA */
    IMAP_IS(&a, MS_FEATURE_PUSH_MAIL, "n/a");
    assert_string_equal(a.summary.schedule,
                        "Poll: check POP3 every 15 minutes (the server allows one sign-in per "
                        "900 s: LOGIN-DELAY). Warning: the POP3 server deletes mail after "
                        "download (EXPIRE 0): use IMAP, or do not rely on POP3 to keep copies on "
                        "the server.");
    assert_int_equal(a.summary.poll_interval_s, 900);
    ms_assessment_free(&a);

    /* not signed in: the server-wide values before sign-in, said so */
    r.credentials_given = false;
    memset(&po->auth, 0, sizeof po->auth);
    memset(&r.endpoints[0].auth, 0, sizeof r.endpoints[0].auth);
    po->account.read = false;
    po->caps_after_login_read = false;
    ms_strlist_free(&po->caps_after_login);
    assess(&r, &a);
    POP3_IS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "yes, 30 days");
    EVIDENCE_HAS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "EXPIRE 30 before sign-in");
    POP3_IS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "300 s");
    EVIDENCE_HAS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "before sign-in (server-wide)");
    assert_string_equal(a.summary.schedule,
                        "Poll: check POP3 every 5 minutes (LOGIN-DELAY 300 s; checking more "
                        "often only adds load). POP3 keeps downloaded mail for 30 days only "
                        "(EXPIRE 30).");
    fx_done(&r, &a);
}

static void test_mechanism_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *mech;
        enum ms_mech_kind kind;
    } cases[] = {
        {"PLAIN", MS_MECH_PASSWORD},
        {"login", MS_MECH_PASSWORD},
        {"USER", MS_MECH_PASSWORD},
        {"IMAP LOGIN", MS_MECH_PASSWORD},
        {"CRAM-MD5", MS_MECH_PASSWORD},
        {"CRAM-SHA256", MS_MECH_PASSWORD},
        {"DIGEST-MD5", MS_MECH_PASSWORD},
        {"SCRAM-SHA-1", MS_MECH_PASSWORD},
        {"SCRAM-SHA-256-PLUS", MS_MECH_PASSWORD},
        {"XOAUTH2", MS_MECH_OAUTH2},
        {"oauthbearer", MS_MECH_OAUTH2},
        {"GSSAPI", MS_MECH_KERBEROS},
        {"GS2-KRB5", MS_MECH_KERBEROS},
        {"GS2-KRB5-PLUS", MS_MECH_KERBEROS},
        {"EXTERNAL", MS_MECH_CERTIFICATE},
        {"ANONYMOUS", MS_MECH_ANONYMOUS},
        {"NTLM", MS_MECH_OTHER},
        {"SAML20", MS_MECH_OTHER},
        {"OPENID20", MS_MECH_OTHER},
        {"SECURID", MS_MECH_OTHER},
        {"XOAUTH", MS_MECH_OTHER}, /* OAuth 1.0, not OAuth2 */
        {"SCRAM-", MS_MECH_OTHER}, /* a prefix alone names nothing */
        {"PLAINX", MS_MECH_OTHER},
        {"", MS_MECH_OTHER},
        {NULL, MS_MECH_OTHER},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (ms_assess_mechanism_kind(cases[k].mech) != cases[k].kind)
            fail_msg("%s: kind %d, expected %d", cases[k].mech ? cases[k].mech : "(null)",
                     (int)ms_assess_mechanism_kind(cases[k].mech), (int)cases[k].kind);
    assert_string_equal(ms_mech_kind_name(MS_MECH_OAUTH2), "OAuth2");
    assert_string_equal(ms_mech_kind_name(MS_MECH_KIND_COUNT), "other");
}

/* A server that advertises sixteen mechanisms: each is counted in its own kind, and the
 * answer's value is the whole list as offered. */
static void test_summary_sixteen_mechanisms(void **state)
{
    (void)state;
    static const char *const mechs[] = {
        "PLAIN",   "LOGIN",       "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS",
        "XOAUTH2", "OAUTHBEARER", "GSSAPI",   "GS2-KRB5",   "EXTERNAL",    "ANONYMOUS",
        "NTLM",    "SAML20",      "OPENID20", "SECURID",    NULL};
    static const char *const list =
        "PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256-PLUS, XOAUTH2, "
        "OAUTHBEARER, GSSAPI, GS2-KRB5, EXTERNAL, ANONYMOUS, NTLM, SAML20, OPENID20, SECURID";
    static const char *const kinds =
        "password yes (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1, SCRAM-SHA-256-PLUS), "
        "OAuth2 yes (XOAUTH2, OAUTHBEARER), Kerberos yes (GSSAPI, GS2-KRB5), certificate yes "
        "(EXTERNAL), anonymous yes (ANONYMOUS), other: NTLM, SAML20, OPENID20, SECURID";
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    struct ms_endpoint_result *im = &r.endpoints[I993], *po = &r.endpoints[P995];
    ms_strlist_free(&im->caps_after_tls);
    fx_add_str(&im->caps_after_tls, "IMAP4rev1");
    char cap[64], sasl[300] = "SASL";
    for (size_t k = 0; mechs[k]; k++) {
        snprintf(cap, sizeof cap, "AUTH=%s", mechs[k]);
        fx_add_str(&im->caps_after_tls, cap);
        strcat(sasl, " ");
        strcat(sasl, mechs[k]);
    }
    static const char *const capa[] = {"CAPA", "TOP", "UIDL", NULL};
    fx_set_strs(&po->caps_after_tls, capa);
    fx_add_str(&po->caps_after_tls, sasl);
    assess(&r, &a);
    const struct ms_feature *f = feat(&a, MS_FEATURE_SIGN_IN_METHODS);
    for (int p = 0; p < 2; p++) {
        assert_int_equal(f->answers[p].answer, MS_ANSWER_YES);
        assert_string_equal(f->answers[p].string, list);
    }
    char want[700];
    snprintf(want, sizeof want, "IMAP: over TLS on 993: %s; POP3: over TLS on 995: %s", kinds,
             kinds);
    assert_string_equal(f->evidence, want);

    /* only password mechanisms: the words as before (password and OAuth2, yes or no) */
    fx_set_strs(&im->caps_after_tls, fx_imap_caps_tls);
    ms_assessment_free(&a);
    assess(&r, &a);
    EVIDENCE_HAS(&a, MS_FEATURE_SIGN_IN_METHODS,
                 "IMAP: over TLS on 993: password yes (PLAIN, LOGIN), OAuth2 no;");
    IMAP_IS(&a, MS_FEATURE_SIGN_IN_METHODS, "PLAIN, LOGIN");
    fx_done(&r, &a);
}

/* Malformed POP3 and IMAP capability tokens: read where the meaning is certain, said so. */
static void test_summary_malformed_caps(void **state)
{
    (void)state;
    static const char *const glued[] = {
        "CAPA", "TOP", "UIDL", "USER", "EXPIRENEVER", "LOGIN-DELAY900", "SASLPLAIN", NULL};
    static const char *const imap_pre[] = {"IMAP4rev1", "STARTTLS", "LOGINDISABLED", "AUTH=", NULL};
    static const char *const imap_tls[] = {"IMAP4rev1", "AUTH=", "AUTH=PLAIN", NULL};
    struct ms_result r;
    struct ms_assessment a;
    fx_bare_host(&r, false);
    struct ms_endpoint_result *po = &r.endpoints[P995], *im = &r.endpoints[I143];
    fx_set_strs(&po->caps_after_tls, glued);
    fx_set_strs(&im->caps_before_tls, imap_pre);
    fx_set_strs(&im->caps_after_tls, imap_tls);
    assess(&r, &a);
    const struct ms_finding *f = fx_find(&a, "proto.capability_malformed", P995);
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_INFO);
    assert_string_equal(f->message,
                        "POP3 on 995 lists a malformed capability (over TLS): \"EXPIRENEVER\"; "
                        "mailscope read it as \"EXPIRE NEVER\" (the name is glued to its value, "
                        "whose meaning is certain).");
    assert_non_null(strstr(f->remedy, "EXPIRE 30 or EXPIRE NEVER"));
    size_t n = 0, imap_n = 0;
    for (size_t k = 0; k < a.finding_count; k++) {
        const struct ms_finding *g = &a.findings[k];
        if (strcmp(g->code, "proto.capability_malformed") != 0)
            continue;
        if (g->endpoint_index == P995) {
            n++;
            if (strstr(g->message, "\"LOGIN-DELAY900\""))
                assert_non_null(strstr(g->message, "read it as \"LOGIN-DELAY 900\""));
            else if (strstr(g->message, "\"SASLPLAIN\""))
                assert_non_null(strstr(g->message, "ignored it (a mechanism glued to SASL"));
            else
                assert_non_null(strstr(g->message, "\"EXPIRENEVER\""));
        }
        if (g->endpoint_index == I143) {
            imap_n++; /* one finding for the token seen before and over TLS */
            assert_string_equal(g->message, "IMAP on 143 lists a malformed capability (before TLS "
                                            "and over TLS): \"AUTH=\"; mailscope ignored it (no "
                                            "mechanism follows AUTH=).");
            assert_non_null(strstr(g->remedy, "ignore \"AUTH=\" too"));
        }
    }
    assert_int_equal(n, 3);
    assert_int_equal(imap_n, 1);
    assert_int_equal(a.status, MS_STATUS_OK); /* info only */
    /* read: the summary answers from it; SASLPLAIN and AUTH= are not mechanisms */
    POP3_IS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "yes");
    EVIDENCE_HAS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "UIDL offered; EXPIRE NEVER before sign-in");
    POP3_IS(&a, MS_FEATURE_MIN_POLL_INTERVAL, "900 s");
    POP3_IS(&a, MS_FEATURE_SIGN_IN_METHODS, "USER");
    ms_assessment_free(&a);

    /* a value that is not a number: ignored, and the answer it decides is unknown */
    static const char *const bad[] = {"CAPA", "UIDL", "EXPIRE 30 MINUTES", "LOGIN-DELAY soon",
                                      NULL};
    fx_set_strs(&po->caps_after_tls, bad);
    assess(&r, &a);
    POP3_IS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER, "unknown");
    EVIDENCE_HAS(&a, MS_FEATURE_LEAVE_MAIL_ON_SERVER,
                 "UIDL offered; EXPIRE before sign-in could not be read (see "
                 "proto.capability_malformed)");
    f = fx_find(&a, "proto.capability_malformed", P995);
    assert_non_null(f);
    assert_non_null(strstr(f->message, "\"EXPIRE 30 MINUTES\"; mailscope ignored it (its value is "
                                       "not a number of days or NEVER)"));
    fx_done(&r, &a);
}

/* Nothing connected at all: every answer unknown, no schedule, nothing crashes. */
static void test_summary_nothing_works(void **state)
{
    (void)state;
    struct ms_result r = {0};
    struct ms_assessment a;
    r.want[MS_PROTOCOL_IMAP] = r.want[MS_PROTOCOL_POP3] = true;
    r.want[MS_PROTOCOL_SUBMISSION] = true;
    r.credentials_given = true;
    snprintf(r.user, sizeof r.user, "alice");
    assess(&r, &a);
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        const struct ms_feature *f = feat(&a, (enum ms_feature_id)k);
        if (k == MS_FEATURE_CAN_SEND || k == MS_FEATURE_MAX_MESSAGE_SIZE) {
            /* questions about sending: n/a for receiving, never yes for sending */
            assert_int_equal(f->answers[0].answer, MS_ANSWER_NA);
            assert_int_equal(f->answers[1].answer, MS_ANSWER_NA);
            assert_true(f->answers[MS_PROTOCOL_SUBMISSION].answer == MS_ANSWER_NO ||
                        f->answers[MS_PROTOCOL_SUBMISSION].answer == MS_ANSWER_UNKNOWN);
            continue;
        }
        assert_true(f->answers[0].answer == MS_ANSWER_UNKNOWN ||
                    f->answers[0].answer == MS_ANSWER_NO);
        assert_true(strcmp(f->answers[0].text, "unknown") == 0 ||
                    strcmp(f->answers[0].text, "no") == 0);
        assert_false(f->answers[0].answer == MS_ANSWER_YES ||
                     f->answers[1].answer == MS_ANSWER_YES);
    }
    assert_non_null(strstr(a.summary.schedule, "No schedule"));
    assert_non_null(strstr(a.summary.schedule, "Sending: no submission server"));
    assert_string_equal(feat(&a, MS_FEATURE_CAN_SEND)->answers[MS_PROTOCOL_SUBMISSION].text, "no");
    assert_int_equal(a.summary.source[0], -1);
    ms_assessment_free(&a);
    /* a failed assessment leaves a summary that is safe to read */
    struct ms_assessment empty = {0};
    assert_false(ms_assess_feature_holds(&empty, "push_mail"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classification_table),
        cmocka_unit_test(test_outcome_names_and_codes),
        cmocka_unit_test(test_outcome_from_facts),
        cmocka_unit_test(test_mechanisms),
        cmocka_unit_test(test_signed_in_no_findings),
        cmocka_unit_test(test_auth_failed_is_critical),
        cmocka_unit_test(test_protocol_disabled_dovecot_nologin),
        cmocka_unit_test(test_other_refusals),
        cmocka_unit_test(test_basic_auth_disabled),
        cmocka_unit_test(test_token_without_oauth_mech),
        cmocka_unit_test(test_insecure_not_attempted),
        cmocka_unit_test(test_stopped_without_tls),
        cmocka_unit_test(test_injection),
        cmocka_unit_test(test_quota_nearly_full_and_account_phase),
        cmocka_unit_test(test_summary_full_account),
        cmocka_unit_test(test_summary_no_credentials),
        cmocka_unit_test(test_summary_pop3_expire_login_delay),
        cmocka_unit_test(test_summary_nothing_works),
        cmocka_unit_test(test_mechanism_kinds),
        cmocka_unit_test(test_summary_sixteen_mechanisms),
        cmocka_unit_test(test_summary_malformed_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
