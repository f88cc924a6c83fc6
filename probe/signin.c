/* Signing in, shared by the protocols (like curl's SASL layer): who signs in, choosing the
 * mechanism from what the server offers, SASL initial responses and LOGIN steps, OAuth2
 * error challenges, the challenge cap, and the auth facts. Each protocol supplies the
 * commands and what its capabilities say (struct ms_signin_ops). */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe/sasl.h"
#include "probe/session.h"
#include "probe/text.h"

/* No mechanism we use needs more: the rest is a server stalling. */
#define MAX_CHALLENGES 4

void ms_signin_skip(struct ms_session *s, enum ms_auth_skip skip, const char *why)
{
    s->res->auth.skip = skip;
    snprintf(s->res->auth.not_attempted_reason, sizeof s->res->auth.not_attempted_reason, "%s",
             why);
    s->ops->finish(s);
}

/* The way to sign in: a SASL mechanism (*mech), or the protocol's password command
 * (*command). Returns MS_AUTH_SKIP_NONE, or why none fits with its words in *why. */
static enum ms_auth_skip choose(struct ms_session *s, enum ms_sasl_mech *mech, bool *command,
                                const char **why)
{
    const struct ms_request *req = s->env->request;
    const struct ms_signin_ops *p = s->ops->signin;
    *mech = MS_SASL_NONE;
    *command = false;
    if (req->auth_mech[0]) {
        if (strcasecmp(req->auth_mech, "USER") == 0) {
            if (!p->offers_command(s)) {
                *why = p->command_not_offered;
                return MS_AUTH_SKIP_FORCED_NOT_OFFERED;
            }
            *command = true;
            return MS_AUTH_SKIP_NONE;
        }
        /* Forcing picks among what the server offers: a secret never goes to a mechanism
         * the server did not announce. */
        if (p->caps_known(s) && !p->offers(s, req->auth_mech)) {
            snprintf(s->why, sizeof s->why,
                     "the server does not offer the mechanism %s that --auth-mech asks for",
                     req->auth_mech);
            *why = s->why;
            bool oauth2 = strcasecmp(req->auth_mech, "XOAUTH2") == 0 ||
                          strcasecmp(req->auth_mech, "OAUTHBEARER") == 0;
            return oauth2 ? MS_AUTH_SKIP_NO_OAUTH2_MECH : MS_AUTH_SKIP_FORCED_NOT_OFFERED;
        }
        *mech = ms_sasl_from_name(req->auth_mech);
        return MS_AUTH_SKIP_NONE;
    }
    bool oauth2 = p->offers(s, "XOAUTH2") || p->offers(s, "OAUTHBEARER");
    if (req->auth_token) {
        if (!oauth2) {
            *why = p->no_oauth2;
            return MS_AUTH_SKIP_NO_OAUTH2_MECH;
        }
        *mech = p->offers(s, "XOAUTH2") ? MS_SASL_XOAUTH2 : MS_SASL_OAUTHBEARER;
        return MS_AUTH_SKIP_NONE;
    }
    bool login = p->offers(s, "LOGIN"), cmd = p->offers_command(s);
    if (p->offers(s, "PLAIN"))
        *mech = MS_SASL_PLAIN;
    else if (cmd && (p->command_before_login || !login))
        *command = true;
    else if (login)
        *mech = MS_SASL_LOGIN;
    else if (oauth2) {
        *why = "the server offers only OAuth2 sign-in (password sign-in is turned off)";
        return MS_AUTH_SKIP_OAUTH2_ONLY;
    } else {
        *why = p->no_password;
        return MS_AUTH_SKIP_NO_PASSWORD_MECH;
    }
    return MS_AUTH_SKIP_NONE;
}

void ms_signin_started(struct ms_session *s)
{
    struct ms_auth_facts *auth = &s->res->auth;
    snprintf(auth->mechanism, sizeof auth->mechanism, "%s", s->ops->signin->command_name);
    s->auth_mech = -1;
    s->auth_step = 0;
    auth->attempted = true;
    ms_session_set_state(s, s->ops->state_auth, MS_PHASE_AUTH);
}

static void begin(struct ms_session *s)
{
    const struct ms_request *req = s->env->request;
    const struct ms_signin_ops *p = s->ops->signin;
    struct ms_auth_facts *auth = &s->res->auth;
    enum ms_sasl_mech mech;
    bool command;
    const char *why = "";
    enum ms_auth_skip skip = choose(s, &mech, &command, &why);
    if (skip == MS_AUTH_SKIP_NONE && command)
        skip = p->send_command(s, &why);
    if (skip != MS_AUTH_SKIP_NONE) {
        ms_signin_skip(s, skip, why);
        return;
    }
    if (command)
        return;
    if (mech == MS_SASL_NONE) {
        ms_signin_skip(s, MS_AUTH_SKIP_UNKNOWN_MECH,
                       "--auth-mech names a mechanism this tool does not know");
        return;
    }
    snprintf(auth->mechanism, sizeof auth->mechanism, "%s", ms_sasl_name(mech));
    s->auth_mech = mech;
    s->auth_step = 0;
    char *ir = NULL;
    if (mech != MS_SASL_LOGIN) {
        const char *secret = req->auth_token ? req->auth_token : req->auth_password;
        int rc = ms_sasl_initial_response(mech, req->auth_user, secret, s->spec->host,
                                          s->spec->port, &ir);
        if (rc < 0) {
            ms_signin_skip(s, rc == MS_EINVAL ? MS_AUTH_SKIP_UNENCODABLE : MS_AUTH_SKIP_LOCAL_ERROR,
                           rc == MS_EINVAL
                               ? "the user name or secret has bytes this mechanism cannot carry"
                               : "out of memory");
            return;
        }
    }
    auth->attempted = true;
    ms_session_set_state(s, s->ops->state_auth, MS_PHASE_AUTH);
    if (ir && p->initial_response_allowed(s)) {
        p->send_sasl(s, ms_sasl_name(mech), ir);
        ms_sasl_free_secret(ir);
        return;
    }
    s->auth_pending = ir; /* sent at the server's "+" */
    p->send_sasl(s, ms_sasl_name(mech), NULL);
}

void ms_signin_turn(struct ms_session *s, bool chosen)
{
    if (!chosen) {
        ms_signin_skip(s, MS_AUTH_SKIP_NOT_CHOSEN,
                       "another endpoint of this protocol was chosen to sign in");
        return;
    }
    begin(s);
}

void ms_signin_start(struct ms_session *s)
{
    if (!s->env->request->auth_user || s->spec->pool_member) { /* sign-in stays on one address */
        s->ops->finish(s);
        return;
    }
    char reason[200];
    enum ms_auth_skip skip = MS_AUTH_SKIP_NONE;
    if (!ms_session_auth_allowed(s, reason, sizeof reason, &skip)) {
        ms_session_auth_pass(s);
        ms_signin_skip(s, skip, reason);
        return;
    }
    int turn = ms_session_auth_turn(s);
    if (turn == 0) {
        ms_session_set_state(s, s->ops->state_auth_wait, MS_PHASE_AUTH);
        return;
    }
    ms_signin_turn(s, turn == 1);
}

void ms_signin_challenge(struct ms_session *s, const char *text)
{
    const struct ms_request *req = s->env->request;
    if (++s->challenges > MAX_CHALLENGES) {
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "the server sent more than %d sign-in challenges", MAX_CHALLENGES);
        return;
    }
    text = text ? text : "";
    bool secret_next = s->auth_pending || (s->auth_mech == MS_SASL_LOGIN && s->auth_step < 2);
    if (secret_next && !ms_base64_valid(text, strlen(text))) {
        /* RFC 4954 4, RFC 3501 7.5, RFC 5034 4: a challenge is base64. A server that sends
         * anything else is not speaking SASL: it gets no user name and no password. */
        ms_sasl_free_secret(s->auth_pending);
        s->auth_pending = NULL;
        ms_session_fail(s, MS_FAILURE_PROTO_MALFORMED,
                        "the server's %s challenge is not base64 (\"%.80s\"): the credentials "
                        "were not sent",
                        ms_sasl_name(s->auth_mech), text);
        return;
    }
    if (s->auth_pending) {
        ms_session_send_secret(s, "", s->auth_pending);
        ms_sasl_free_secret(s->auth_pending);
        s->auth_pending = NULL;
        return;
    }
    if (s->auth_mech == MS_SASL_LOGIN && s->auth_step < 2) {
        char *reply = NULL;
        if (ms_sasl_login_reply(s->auth_step++, req->auth_user,
                                req->auth_password ? req->auth_password : "", &reply) < 0) {
            ms_session_fail(s, MS_FAILURE_INTERNAL, "out of memory");
            return;
        }
        ms_session_send_secret(s, "", reply);
        ms_sasl_free_secret(reply);
        return;
    }
    /* An OAuth2 error challenge (RFC 7628 3.2.2 / XOAUTH2): note it and end the exchange
     * with the reply each mechanism expects. */
    ms_sasl_describe_challenge(text, strlen(text), s->res->auth.oauth_error,
                               sizeof s->res->auth.oauth_error);
    ms_session_send(s, s->auth_mech == MS_SASL_OAUTHBEARER ? "AQ==" : "");
}

bool ms_signin_answer(struct ms_session *s, bool ok, const char *status, const char *code,
                      const char *text)
{
    struct ms_auth_facts *auth = &s->res->auth;
    ms_sasl_free_secret(s->auth_pending);
    s->auth_pending = NULL;
    snprintf(auth->status, sizeof auth->status, "%s", status);
    if (code)
        ms_text_sanitize(auth->code, sizeof auth->code, code, strlen(code));
    ms_text_sanitize(auth->server_response, sizeof auth->server_response, text, strlen(text));
    if (!ok) {
        s->ops->finish(s);
        return false;
    }
    auth->ok = true;
    return true;
}

/* ---- is a password taken before TLS? (a separate connection, never the user's secret) ---- */

void ms_signin_check_plaintext(struct ms_session *s)
{
    const struct ms_signin_ops *p = s->ops->signin;
    struct ms_plaintext_check *pc = &s->res->plaintext_check;
    pc->tried = true;
    if (!p->caps_known(s)) {
        snprintf(pc->note, sizeof pc->note, "no capability list before TLS: nothing to check");
        s->ops->finish(s);
        return;
    }
    /* Least intrusive first: a SASL exchange cancelled at the server's "+" sends nothing;
     * only without PLAIN/LOGIN does a random user that cannot exist go out. */
    const char *mech = p->offers(s, "PLAIN") ? "PLAIN" : p->offers(s, "LOGIN") ? "LOGIN" : NULL;
    ms_session_set_state(s, s->ops->state_check, MS_PHASE_AUTH);
    if (mech) {
        pc->method = MS_PLAINTEXT_SASL_CANCEL;
        snprintf(pc->sent, sizeof pc->sent, "%s %s", p->sasl_verb, mech);
        p->send_sasl(s, mech, NULL);
        return;
    }
    if (!p->offers_command(s)) {
        snprintf(pc->note, sizeof pc->note,
                 "the capabilities before TLS offer no way to send a password");
        s->ops->finish(s);
        return;
    }
    unsigned char rnd[12] = {0};
    RAND_bytes(rnd, sizeof rnd);
    char user[40], password[24];
    snprintf(user, sizeof user, "mailscope-probe-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    snprintf(password, sizeof password, "%02x%02x%02x%02x%02x%02x%02x%02x", rnd[4], rnd[5], rnd[6],
             rnd[7], rnd[8], rnd[9], rnd[10], rnd[11]);
    bool with_password = strcmp(p->command_verb, "LOGIN") == 0;
    pc->method = with_password ? MS_PLAINTEXT_LOGIN_RANDOM : MS_PLAINTEXT_USER_RANDOM;
    snprintf(pc->sent, sizeof pc->sent, "%s %s%s", p->command_verb, user,
             with_password ? " <random password>" : "");
    p->send_check_command(s, user, password);
}

void ms_signin_check_answer(struct ms_session *s, const char *status, const char *code,
                            const char *text)
{
    struct ms_plaintext_check *pc = &s->res->plaintext_check;
    pc->answered = true;
    snprintf(pc->status, sizeof pc->status, "%s", status);
    if (code)
        ms_text_sanitize(pc->code, sizeof pc->code, code, strlen(code));
    text = text ? text : "";
    ms_text_sanitize(pc->answer, sizeof pc->answer, text, strlen(text));
    if (strcmp(status, "+") == 0)
        ms_session_send(s, "*"); /* cancel (RFC 3501 6.2.2, RFC 5034): nothing was sent */
    s->ops->finish(s);
}
