#include "probe/redact.h"

#include <stdlib.h>
#include <string.h>

#include "probe/error.h"
#include "probe/sasl.h"
#include "probe/text.h"

#define MS_REDACT_MAX_SHOWN 1024

static int add_form(struct ms_redactor *r, const char *s, size_t len, size_t min)
{
    if (len < min || r->count >= MS_REDACT_MAX_FORMS)
        return 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return MS_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    r->forms[r->count++] = copy;
    return 0;
}

int ms_redactor_init(struct ms_redactor *r, const char *secret)
{
    memset(r, 0, sizeof *r);
    if (!secret || !*secret)
        return 0;
    size_t len = strlen(secret);
    int rc = add_form(r, secret, len, 4);
    /* as it reads after the sanitizer escaped it (a secret with non-ASCII or control bytes) */
    char shown[3 * MS_REDACT_MAX_SHOWN];
    ms_text_sanitize(shown, sizeof shown, secret, len);
    if (rc == 0 && strcmp(shown, secret) != 0)
        rc = add_form(r, shown, strlen(shown), 4);
    explicit_bzero(shown, sizeof shown);
    unsigned char *buf = malloc(len + 2);
    if (!buf)
        rc = MS_ENOMEM;
    for (size_t k = 0; rc == 0 && k < 3; k++) {
        /* The secret k bytes into a blob: group g (bytes 3g..3g+2) is the secret's alone
         * from the first whole group to the last one. */
        memset(buf, 0, k);
        memcpy(buf + k, secret, len);
        char *enc = NULL;
        if ((rc = ms_base64_encode(buf, k + len, &enc)) < 0)
            break;
        size_t first = (k + 2) / 3, last = (k + len) / 3;
        if (last > first)
            rc = add_form(r, enc + 4 * first, 4 * (last - first), 8);
        ms_sasl_free_secret(enc);
    }
    if (buf) {
        explicit_bzero(buf, len + 2);
        free(buf);
    }
    if (rc < 0) {
        ms_redactor_free(r);
        return rc;
    }
    /* Longest first: a form inside another is then already gone. */
    for (size_t i = 1; i < r->count; i++)
        for (size_t j = i; j > 0 && strlen(r->forms[j]) > strlen(r->forms[j - 1]); j--) {
            char *t = r->forms[j];
            r->forms[j] = r->forms[j - 1];
            r->forms[j - 1] = t;
        }
    return 0;
}

void ms_redactor_free(struct ms_redactor *r)
{
    for (size_t i = 0; i < r->count; i++) {
        explicit_bzero(r->forms[i], strlen(r->forms[i]));
        free(r->forms[i]);
    }
    memset(r, 0, sizeof *r);
}

size_t ms_redact(const struct ms_redactor *r, char *text, size_t cap)
{
    size_t done = 0;
    if (!r || !text || cap == 0)
        return 0;
    const size_t mark = sizeof MS_REDACTED - 1;
    for (size_t f = 0; f < r->count; f++) {
        const char *form = r->forms[f];
        size_t flen = strlen(form);
        char *p = text;
        while ((p = strstr(p, form))) {
            size_t tail = strlen(p + flen);
            size_t at = (size_t)(p - text);
            /* the text after the form moves; what no longer fits is cut */
            if (at + mark >= cap) {
                *p = '\0';
                done++;
                break;
            }
            size_t keep = tail;
            if (at + mark + keep >= cap)
                keep = cap - 1 - at - mark;
            memmove(p + mark, p + flen, keep);
            memcpy(p, MS_REDACTED, mark);
            p[mark + keep] = '\0';
            p += mark;
            done++;
        }
    }
    return done;
}

static void redact_list(const struct ms_redactor *r, struct ms_strlist *l)
{
    for (size_t i = 0; i < l->count; i++) {
        /* each replacement turns 4+ bytes into "<redacted>": 3x the length always fits */
        size_t len = strlen(l->items[i]), cap = 3 * len + sizeof MS_REDACTED;
        char *tmp = malloc(cap);
        if (!tmp) {
            ms_redact(r, l->items[i], len + 1); /* the secret still goes; the mark is cut */
            continue;
        }
        memcpy(tmp, l->items[i], len + 1);
        if (ms_redact(r, tmp, cap)) {
            free(l->items[i]);
            l->items[i] = tmp;
        } else {
            free(tmp);
        }
    }
}

#define REDACT(r, field) ms_redact(r, field, sizeof field)

void ms_redact_endpoint(const struct ms_redactor *r, struct ms_endpoint_result *ep)
{
    if (!r || r->count == 0)
        return;
    REDACT(r, ep->greeting);
    REDACT(r, ep->failure_message);
    REDACT(r, ep->starttls_response);
    REDACT(r, ep->tls.handshake_error);
    REDACT(r, ep->tls.verify_error);
    REDACT(r, ep->auth.server_response);
    REDACT(r, ep->auth.oauth_error);
    REDACT(r, ep->auth.refused_after_login);
    REDACT(r, ep->auth.code);
    REDACT(r, ep->auth.not_attempted_reason);
    REDACT(r, ep->injection.evidence);
    REDACT(r, ep->injection.note);
    REDACT(r, ep->plaintext_check.answer);
    REDACT(r, ep->plaintext_check.note);
    redact_list(r, &ep->caps_before_tls);
    redact_list(r, &ep->caps_after_tls);
    redact_list(r, &ep->caps_after_login);
    redact_list(r, &ep->account.ns_personal);
    redact_list(r, &ep->account.ns_other_users);
    redact_list(r, &ep->account.ns_shared);
    for (size_t i = 0; i < ep->account.folder_count; i++)
        REDACT(r, ep->account.folders[i].name);
}
