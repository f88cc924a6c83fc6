/* The report's rules for SMTP submission (issue 14), on hand-built results (fixture.h:
 * fx_submission_host): how the reply code and the enhanced status code of an AUTH answer
 * become auth.* outcomes, the submission.* findings, the summary's can_send and
 * max_message_size, and the recommended outgoing server. */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "probe/result.h"
#include "report/assess.h"

static void assess(const struct ms_result *r, struct ms_assessment *a)
{
    assert_int_equal(ms_assess(r, NULL, a), 0);
}

/* The one finding with this code (on endpoint idx, -2: any), or NULL; fails on two. */
static const struct ms_finding *finding(const struct ms_assessment *a, const char *code, long idx)
{
    const struct ms_finding *found = NULL;
    for (size_t i = 0; i < a->finding_count; i++) {
        const struct ms_finding *f = &a->findings[i];
        if (strcmp(f->code, code) != 0 || (idx != -2 && f->endpoint_index != idx))
            continue;
        if (found)
            fail_msg("two %s findings", code);
        found = f;
    }
    return found;
}

static const struct ms_answer_value *answer(const struct ms_assessment *a, enum ms_feature_id id)
{
    return &a->summary.features[id].answers[MS_PROTOCOL_SUBMISSION];
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

/* ---- AUTH answers: reply code + enhanced status code + words -> outcome -------------------- */

static const struct {
    const char *reply, *enhanced, *text;
    enum ms_auth_outcome outcome;
    const char *code;   /* the finding */
    const char *quoted; /* what its message must quote */
} answers[] = {
    {"535", "5.7.8", "Error: authentication failed: (reason unavailable)", MS_AUTH_FAILED,
     "auth.failed", "\"535 5.7.8 Error: authentication failed"},
    {"535", "5.7.8", "Username and Password not accepted.", MS_AUTH_FAILED, "auth.failed",
     "535 5.7.8 Username and Password not accepted."},
    {"535", "5.7.3", "Authentication unsuccessful", MS_AUTH_FAILED, "auth.failed",
     "535 5.7.3 Authentication unsuccessful"}, /* Exchange */
    {"535", "", "authentication failed", MS_AUTH_FAILED, "auth.failed",
     "\"535 authentication failed\""}, /* no enhanced code: none invented */
    {"534", "5.7.9", "Authentication mechanism is too weak", MS_AUTH_MECHANISM_UNAVAILABLE,
     "auth.mechanism_unavailable", "5.7.9"},
    {"534", "5.7.9", "Application-specific password required.", MS_AUTH_FAILED, "auth.failed",
     "Application-specific password required"}, /* Gmail: the words decide */
    {"534", "5.7.14", "Please log in via your web browser and then try again.", MS_AUTH_FAILED,
     "auth.failed", "5.7.14"},
    {"538", "5.7.11", "Encryption required for requested authentication mechanism",
     MS_AUTH_MECHANISM_UNAVAILABLE, "auth.mechanism_unavailable", "Encryption required"},
    {"530", "5.7.0", "Must issue a STARTTLS command first", MS_AUTH_MECHANISM_UNAVAILABLE,
     "auth.mechanism_unavailable", "STARTTLS"},
    {"504", "5.5.4", "Unrecognized authentication type", MS_AUTH_MECHANISM_UNAVAILABLE,
     "auth.mechanism_unavailable", "Unrecognized authentication type"},
    {"454", "4.7.0", "Temporary authentication failure", MS_AUTH_TEMPORARY,
     "auth.temporary_failure", "454 4.7.0 Temporary authentication failure"},
    {"421", "4.7.0", "Too many failed attempts, closing", MS_AUTH_TEMPORARY,
     "auth.temporary_failure", "421 4.7.0"},
    {"535", "5.7.139",
     "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
     MS_AUTH_PROTOCOL_DISABLED, "auth.protocol_disabled", "Tenant"},
    {"535", "5.7.139",
     "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.",
     MS_AUTH_PROTOCOL_DISABLED, "auth.protocol_disabled", "Mailbox"},
    {"535", "5.7.139", "Authentication unsuccessful, basic authentication is disabled.",
     MS_AUTH_BASIC_AUTH_DISABLED, "auth.basic_auth_disabled", "basic authentication"},
    {"535", "5.7.8", "Error: account is disabled", MS_AUTH_LOCKED_OR_EXPIRED,
     "auth.account_locked_or_expired", "account is disabled"},
};

static void test_auth_answers(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof answers / sizeof answers[0]; k++) {
        struct ms_result r;
        struct ms_assessment a;
        fx_submission_host(&r, true);
        fx_answer_smtp_auth(&r.endpoints[S465], "PLAIN", answers[k].reply, answers[k].enhanced,
                            answers[k].text);
        assess(&r, &a);
        print_message("%s %s %s\n", answers[k].reply, answers[k].enhanced, answers[k].text);
        assert_int_equal(ms_assess_auth(&r.endpoints[S465]), answers[k].outcome);
        const struct ms_finding *f = finding(&a, answers[k].code, S465);
        if (!f)
            fail_msg("no %s for %s %s", answers[k].code, answers[k].reply, answers[k].enhanced);
        assert_contains(f->message, answers[k].quoted);
        assert_contains(f->message, "alice");
        /* never signed in, never "can send" */
        assert_int_not_equal(answer(&a, MS_FEATURE_CAN_SEND)->answer, MS_ANSWER_YES);
        assert_int_equal(a.summary.signed_in[MS_PROTOCOL_SUBMISSION], -1);
        /* the other endpoint left sign-in to this one: no finding of its own */
        for (size_t i = 0; i < a.finding_count; i++)
            if (strncmp(a.findings[i].code, "auth.", 5) == 0)
                assert_int_equal(a.findings[i].endpoint_index, S465);
        fx_done(&r, &a);
    }
}

/* The server's words as quoted beside the status: the enhanced code once, not twice. */
static void test_server_words(void **state)
{
    (void)state;
    struct ms_auth_facts au = {0};
    char buf[400];
    snprintf(au.status, sizeof au.status, "535");
    snprintf(au.code, sizeof au.code, "5.7.8");
    snprintf(au.server_response, sizeof au.server_response, "Error: authentication failed");
    ms_assess_server_words(&au, buf, sizeof buf);
    assert_string_equal(buf, "535 5.7.8 Error: authentication failed");
    au.server_response[0] = '\0';
    ms_assess_server_words(&au, buf, sizeof buf);
    assert_string_equal(buf, "535 5.7.8");
    /* IMAP: the response code is no enhanced status code, and stays in its brackets */
    snprintf(au.status, sizeof au.status, "NO");
    snprintf(au.code, sizeof au.code, "AUTHENTICATIONFAILED");
    snprintf(au.server_response, sizeof au.server_response,
             "[AUTHENTICATIONFAILED] Authentication failed.");
    ms_assess_server_words(&au, buf, sizeof buf);
    assert_string_equal(buf, "NO [AUTHENTICATIONFAILED] Authentication failed.");
    /* POP3 without a code */
    snprintf(au.status, sizeof au.status, "-ERR");
    au.code[0] = '\0';
    snprintf(au.server_response, sizeof au.server_response, "-ERR nope");
    ms_assess_server_words(&au, buf, sizeof buf);
    assert_string_equal(buf, "-ERR nope");
}

/* ---- signed in ------------------------------------------------------------------------ */

static void test_signed_in(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_submission_host(&r, true);
    fx_answer_smtp_auth(&r.endpoints[S465], "PLAIN", "235", "2.7.0", "Authentication successful");
    assess(&r, &a);
    assert_int_equal(a.status, MS_STATUS_OK);
    assert_int_equal(a.finding_count, 0);
    assert_int_equal(ms_assess_auth(&r.endpoints[S465]), MS_AUTH_OK);
    assert_int_equal(answer(&a, MS_FEATURE_CAN_SEND)->answer, MS_ANSWER_YES);
    assert_contains(a.summary.features[MS_FEATURE_CAN_SEND].evidence, "no mail was sent");
    assert_int_equal(answer(&a, MS_FEATURE_PROTOCOL_ENABLED)->answer, MS_ANSWER_YES);
    assert_int_equal(a.summary.signed_in[MS_PROTOCOL_SUBMISSION], S465);
    /* receiving was not asked: n/a, not unknown */
    assert_int_equal(a.summary.features[MS_FEATURE_CAN_SEND].answers[MS_PROTOCOL_IMAP].answer,
                     MS_ANSWER_NA);
    fx_done(&r, &a);

    /* signed in over TLS whose certificate was not verified (--allow-insecure-auth): the
     * sign-in worked, but that is not a mail program's secure setting */
    fx_submission_host(&r, true);
    fx_answer_smtp_auth(&r.endpoints[S465], "PLAIN", "235", "2.7.0", "Authentication successful");
    for (size_t i = 0; i < r.endpoint_count; i++) {
        r.endpoints[i].tls.verified = false;
        r.endpoints[i].completed_securely = false;
    }
    assess(&r, &a);
    assert_int_not_equal(answer(&a, MS_FEATURE_CAN_SEND)->answer, MS_ANSWER_YES);
    assert_int_equal(a.recommended[MS_PROTOCOL_SUBMISSION], -1);
    fx_done(&r, &a);
}

/* A session that ended in AUTH without a verdict (a 250 to AUTH, a non-base64 challenge):
 * the probe leaves no status, the failure speaks; no auth.* finding invents a verdict. */
static void test_auth_protocol_violation(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_submission_host(&r, true);
    struct ms_endpoint_result *ep = &r.endpoints[S465];
    ep->auth.attempted = true;
    snprintf(ep->auth.mechanism, sizeof ep->auth.mechanism, "PLAIN");
    fx_fail_at(ep, MS_FAILURE_PROTO_MALFORMED, MS_PHASE_AUTH,
               "the server answered AUTH with \"250 2.0.0 OK\", which is neither 235 (signed "
               "in), 334 (a challenge) nor an error: not signed in");
    assess(&r, &a);
    assert_int_equal(ms_assess_auth(ep), MS_AUTH_UNFINISHED);
    assert_non_null(finding(&a, "proto.malformed_response", S465));
    assert_null(finding(&a, "auth.failed", -2));
    assert_int_not_equal(answer(&a, MS_FEATURE_CAN_SEND)->answer, MS_ANSWER_YES);
    assert_int_equal(a.summary.signed_in[MS_PROTOCOL_SUBMISSION], -1);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

/* ---- submission.* findings ------------------------------------------------------------- */

static void test_no_auth(void **state)
{
    (void)state;
    static const char *const no_auth[] = {"PIPELINING", "SIZE 10240000", "8BITMIME", NULL};
    struct ms_result r;
    struct ms_assessment a;
    fx_submission_host(&r, false);
    fx_set_strs(&r.endpoints[S465].caps_after_tls, no_auth);
    assess(&r, &a);
    const struct ms_finding *f = finding(&a, "submission.no_auth", S465);
    assert_non_null(f);
    assert_null(finding(&a, "submission.no_auth", S587)); /* 587 offers AUTH over TLS */
    assert_null(finding(&a, "submission.auth_before_tls", -2));
    fx_done(&r, &a);

    /* AUTH only before TLS, none after: the server takes no sign-in a mail program would send
     * (and the before-TLS offer is its own warning) */
    fx_submission_host(&r, false);
    fx_add_str(&r.endpoints[S587].caps_before_tls, "AUTH PLAIN LOGIN");
    fx_set_strs(&r.endpoints[S587].caps_after_tls, no_auth);
    assess(&r, &a);
    assert_non_null(finding(&a, "submission.no_auth", S587));
    assert_non_null(finding(&a, "submission.auth_before_tls", S587));
    fx_done(&r, &a);

    /* a session that never got to EHLO over TLS says nothing about AUTH */
    fx_submission_host(&r, false);
    fx_fail_at(&r.endpoints[S587], MS_FAILURE_STARTTLS_REFUSED, MS_PHASE_STARTTLS,
               "STARTTLS was refused: 454 4.7.0 TLS not available");
    r.endpoints[S587].caps_after_tls_read = false;
    ms_strlist_free(&r.endpoints[S587].caps_after_tls);
    assess(&r, &a);
    assert_null(finding(&a, "submission.no_auth", -2));
    assert_non_null(finding(&a, "starttls.refused", S587));
    fx_done(&r, &a);
}

static void test_auth_before_tls(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;

    /* confirmed: AUTH PLAIN got 334 on a separate connection */
    fx_submission_host(&r, false);
    struct ms_endpoint_result *ep = &r.endpoints[S587];
    fx_add_str(&ep->caps_before_tls, "AUTH PLAIN LOGIN");
    ep->plaintext_check = (struct ms_plaintext_check){
        .tried = true, .answered = true, .method = MS_PLAINTEXT_SASL_CANCEL};
    snprintf(ep->plaintext_check.sent, sizeof ep->plaintext_check.sent, "AUTH PLAIN");
    snprintf(ep->plaintext_check.status, sizeof ep->plaintext_check.status, "+");
    assess(&r, &a);
    const struct ms_finding *f = finding(&a, "submission.auth_before_tls", S587);
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_contains(f->message, "AUTH PLAIN LOGIN");
    assert_contains(f->message, "confirmed");
    assert_contains(f->message, "334");
    assert_null(finding(&a, "auth.plaintext_login_allowed", -2)); /* SMTP has its own code */
    assert_int_equal(a.status, MS_STATUS_WARNING);
    fx_done(&r, &a);

    /* refused with 538 5.7.11 when asked: the advertisement lies, which is its own finding */
    fx_submission_host(&r, false);
    ep = &r.endpoints[S587];
    fx_add_str(&ep->caps_before_tls, "AUTH PLAIN");
    ep->plaintext_check = (struct ms_plaintext_check){
        .tried = true, .answered = true, .method = MS_PLAINTEXT_SASL_CANCEL};
    snprintf(ep->plaintext_check.sent, sizeof ep->plaintext_check.sent, "AUTH PLAIN");
    snprintf(ep->plaintext_check.status, sizeof ep->plaintext_check.status, "538");
    snprintf(ep->plaintext_check.code, sizeof ep->plaintext_check.code, "5.7.11");
    snprintf(ep->plaintext_check.answer, sizeof ep->plaintext_check.answer,
             "Encryption required for requested authentication mechanism");
    assess(&r, &a);
    assert_null(finding(&a, "submission.auth_before_tls", -2));
    f = finding(&a, "auth.plaintext_refusal_unannounced", S587);
    assert_non_null(f);
    assert_contains(f->message, "538 5.7.11");
    fx_done(&r, &a);

    /* only OAuth2 before TLS: no password can go out in clear text, nothing to say */
    fx_submission_host(&r, false);
    fx_add_str(&r.endpoints[S587].caps_before_tls, "AUTH XOAUTH2 OAUTHBEARER");
    assess(&r, &a);
    assert_null(finding(&a, "submission.auth_before_tls", -2));
    fx_done(&r, &a);
}

static void test_port25(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_submission_host(&r, false);
    r.endpoints[S587].port = 25;
    assess(&r, &a);
    const struct ms_finding *f = finding(&a, "submission.port25", S587);
    assert_non_null(f);
    assert_int_equal(f->severity, MS_SEVERITY_WARNING);
    assert_contains(f->message, "is port 25");
    assert_null(finding(&a, "submission.port25", S465));
    fx_done(&r, &a);

    /* an smtp:// URL on another port: the relay scheme the user configured, reported too */
    fx_submission_host(&r, false);
    r.endpoints[S587].smtp_url = true;
    assess(&r, &a);
    f = finding(&a, "submission.port25", S587);
    assert_non_null(f);
    assert_contains(f->message, "smtp://");
    assert_null(finding(&a, "submission.port25", S465));
    fx_done(&r, &a);
}

/* ---- the summary: the largest message ------------------------------------------------- */

static void test_max_message_size(void **state)
{
    (void)state;
    static const struct {
        const char *size;      /* the SIZE line over TLS, NULL: none */
        enum ms_answer answer; /* max_message_size */
        long long kib;         /* the number, -1: none */
        const char *text;      /* the words */
    } rows[] = {
        {"SIZE 26214400", MS_ANSWER_YES, 25600, "25 MB"},
        {"SIZE 35882577", MS_ANSWER_YES, 35042, NULL}, /* Gmail */
        {"SIZE 0", MS_ANSWER_YES, -1, "no fixed limit"},
        {"SIZE", MS_ANSWER_YES, -1, "no fixed limit"},
        {"SIZE lots", MS_ANSWER_UNKNOWN, -1, "unknown"},
        {"SIZE 99999999999999999999999", MS_ANSWER_UNKNOWN, -1, "unknown"},
        {NULL, MS_ANSWER_UNKNOWN, -1, "not said"},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        struct ms_result r;
        struct ms_assessment a;
        const char *caps[] = {"PIPELINING", "AUTH PLAIN", rows[k].size, NULL};
        fx_submission_host(&r, false);
        fx_set_strs(&r.endpoints[S465].caps_after_tls, caps);
        fx_set_strs(&r.endpoints[S587].caps_after_tls, caps);
        assess(&r, &a);
        const struct ms_answer_value *v = answer(&a, MS_FEATURE_MAX_MESSAGE_SIZE);
        print_message("%s -> %s %s\n", rows[k].size ? rows[k].size : "(none)",
                      ms_answer_name(v->answer), v->text);
        assert_int_equal(v->answer, rows[k].answer);
        if (rows[k].kib >= 0) {
            assert_true(v->has_number);
            assert_int_equal(v->number, rows[k].kib);
            assert_int_equal(v->unit, MS_UNIT_KIB);
        } else {
            assert_false(v->has_number);
        }
        if (rows[k].text)
            assert_string_equal(v->text, rows[k].text);
        fx_done(&r, &a);
    }
}

/* What was said over TLS decides, not what was said before it. */
static void test_size_after_tls_decides(void **state)
{
    (void)state;
    static const char *const pre[] = {"SIZE 10485760", "STARTTLS", NULL};
    static const char *const tls[] = {"SIZE 52428800", "AUTH PLAIN", NULL};
    struct ms_result r;
    struct ms_assessment a;
    fx_submission_host(&r, false);
    fx_set_strs(&r.endpoints[S587].caps_before_tls, pre);
    fx_set_strs(&r.endpoints[S587].caps_after_tls, tls);
    fx_set_strs(&r.endpoints[S465].caps_after_tls, tls);
    assess(&r, &a);
    assert_int_equal(answer(&a, MS_FEATURE_MAX_MESSAGE_SIZE)->number, 51200);
    fx_done(&r, &a);
}

/* ---- the recommended outgoing server --------------------------------------------------- */

static void test_recommended(void **state)
{
    (void)state;
    struct ms_result r;
    struct ms_assessment a;
    fx_submission_host(&r, false);
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_SUBMISSION], S465); /* RFC 8314: 465 first */
    assert_int_equal(a.recommended[MS_PROTOCOL_IMAP], -1);
    fx_done(&r, &a);

    /* 465 refused: 587 with STARTTLS */
    fx_submission_host(&r, false);
    fx_fail_at(&r.endpoints[S465], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "connection refused");
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_SUBMISSION], S587);
    assert_int_equal(answer(&a, MS_FEATURE_CAN_SEND)->answer, MS_ANSWER_UNKNOWN);
    fx_done(&r, &a);

    /* neither secure: nothing recommended, and sending is a no, with the reason */
    fx_submission_host(&r, false);
    fx_fail_at(&r.endpoints[S465], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "connection refused");
    fx_fail_at(&r.endpoints[S587], MS_FAILURE_STARTTLS_NOT_OFFERED, MS_PHASE_STARTTLS,
               "the server does not offer STARTTLS");
    assess(&r, &a);
    assert_int_equal(a.recommended[MS_PROTOCOL_SUBMISSION], -1);
    assert_int_equal(answer(&a, MS_FEATURE_CAN_SEND)->answer, MS_ANSWER_NO);
    assert_true(strlen(a.not_recommended[MS_PROTOCOL_SUBMISSION]) > 0);
    assert_int_equal(a.status, MS_STATUS_CRITICAL);
    fx_done(&r, &a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_answers),
        cmocka_unit_test(test_server_words),
        cmocka_unit_test(test_signed_in),
        cmocka_unit_test(test_auth_protocol_violation),
        cmocka_unit_test(test_no_auth),
        cmocka_unit_test(test_auth_before_tls),
        cmocka_unit_test(test_port25),
        cmocka_unit_test(test_max_message_size),
        cmocka_unit_test(test_size_after_tls_decides),
        cmocka_unit_test(test_recommended),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
