/* The JSON report. Field names are API (report/schema.json): add, never rename.
 * Every jansson constructor may return NULL (out of memory, or a string that is not
 * UTF-8); json_object_set_new / json_array_append_new take ownership of the value even
 * when they fail and fail on a NULL value, so one check per call covers both. */
#include "report/json.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "probe/error.h"
#include "report/json_audit.h"
#include "report/server_id.h"

#ifndef MS_VERSION
#define MS_VERSION "unknown"
#endif

/* Set key to value (stolen); returns -1 on any failure. */
static int set(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value);
}

static json_t *str(const char *s)
{
    return json_string(s ? s : "");
}

/* "" means "not seen": null, so scripts need not compare with the empty string. */
static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

/* Milliseconds, rounded to 0.1; a phase not reached (<0) is null. */
static json_t *ms_value(double v)
{
    if (v < 0)
        return json_null();
    return json_real((double)(long long)(v * 10.0 + 0.5) / 10.0);
}

static json_t *strlist(const struct ms_strlist *list)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < list->count; i++) {
        if (json_array_append_new(arr, json_string(list->items[i]))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *timings(const struct ms_timings *t)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "resolve", ms_value(t->resolve)) || set(o, "connect", ms_value(t->connect)) ||
        set(o, "tls", ms_value(t->tls)) || set(o, "greeting", ms_value(t->greeting)) ||
        set(o, "total", ms_value(t->total))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *capabilities(const struct ms_endpoint_result *ep)
{
    json_t *o = json_object(), *trunc = NULL, *ret = NULL;
    if (!o)
        goto out;
    if (set(o, "before_tls",
            ep->caps_before_tls_read ? strlist(&ep->caps_before_tls) : json_null()) ||
        set(o, "after_tls", ep->caps_after_tls_read ? strlist(&ep->caps_after_tls) : json_null()) ||
        set(o, "after_login",
            ep->caps_after_login_read ? strlist(&ep->caps_after_login) : json_null()) ||
        set(o, "from_greeting", json_boolean(ep->caps_from_greeting)))
        goto out;
    /* Truncation is a fact about the lists, kept apart so the arrays stay plain strings. */
    if (!(trunc = json_object()) ||
        set(trunc, "before_tls", json_boolean(ep->caps_before_tls.truncated)) ||
        set(trunc, "after_tls", json_boolean(ep->caps_after_tls.truncated)) ||
        set(trunc, "after_login", json_boolean(ep->caps_after_login.truncated)))
        goto out;
    json_t *tr = trunc;
    trunc = NULL; /* transferred (set steals it even when it fails) */
    if (set(o, "truncated", tr))
        goto out;
    ret = o;
    o = NULL; /* transferred to the caller */
out:
    json_decref(trunc);
    json_decref(o);
    return ret;
}

static json_t *certificate(const struct ms_cert_facts *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "subject", str(c->subject)) || set(o, "issuer", str(c->issuer)) ||
        set(o, "san", strlist(&c->san)) || set(o, "not_before", str_or_null(c->not_before)) ||
        set(o, "not_after", str_or_null(c->not_after)) ||
        set(o, "days_left", json_integer(c->days_left)) ||
        set(o, "hostname_match", json_boolean(c->hostname_match)) ||
        set(o, "self_signed", json_boolean(c->self_signed)) ||
        set(o, "key_type", str_or_null(c->key_type)) ||
        set(o, "key_bits", json_integer(c->key_bits)) ||
        set(o, "signature_algorithm", str_or_null(c->signature_algorithm)) ||
        set(o, "sha256_fingerprint", str_or_null(c->sha256_fingerprint))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *tls(const struct ms_tls_facts *t)
{
    json_t *o = NULL, *codes = NULL, *ret = NULL;
    if (!t->attempted)
        return json_null();
    if (!(o = json_object()) || !(codes = json_array()))
        goto out;
    for (size_t i = 0; i < t->verify_error_count && i < MS_MAX_VERIFY_ERRORS; i++)
        if (json_array_append_new(codes, json_integer(t->verify_errors[i])))
            goto out;
    if (set(o, "established", json_boolean(t->established)) ||
        set(o, "version", str_or_null(t->version)) || set(o, "cipher", str_or_null(t->cipher)) ||
        set(o, "verified", json_boolean(t->verified)) ||
        set(o, "verify_error", t->verified ? json_null() : str_or_null(t->verify_error)))
        goto out;
    json_t *c = codes;
    codes = NULL; /* transferred (set steals it even when it fails) */
    if (set(o, "verify_error_codes", c) ||
        set(o, "handshake_error", str_or_null(t->handshake_error)) ||
        set(o, "client_cert_requested", json_boolean(t->client_cert_requested)) ||
        set(o, "alert", str_or_null(t->alert_text)) ||
        set(o, "certificate", t->has_certificate ? certificate(&t->cert) : json_null()))
        goto out;
    ret = o;
    o = NULL; /* transferred to the caller */
out:
    json_decref(codes);
    json_decref(o);
    return ret;
}

static json_t *error_obj(const struct ms_endpoint_result *ep)
{
    const char *code = ms_assess_failure_code(ep->failure);
    json_t *o;
    if (!code)
        return json_null();
    if (!(o = json_object()))
        return NULL;
    if (set(o, "code", json_string(code)) ||
        set(o, "failure", json_string(ms_failure_name(ep->failure))) ||
        set(o, "phase", json_string(ms_phase_name(ep->failure_phase))) ||
        set(o, "message", str(ep->failure_message))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* An integer that is null when negative (-1: not known / not applicable). */
static json_t *int_or_null(long v)
{
    return v < 0 ? json_null() : json_integer(v);
}

/* The TCP check on one family's first address; null when it was not tried. */
static json_t *family(const struct ms_family_check *fc)
{
    json_t *o;
    if (!fc->tried)
        return json_null();
    if (!(o = json_object()))
        return NULL;
    bool ok = fc->failure == MS_FAILURE_NONE;
    const char *code = ms_assess_failure_code(fc->failure);
    if (set(o, "address", str_or_null(fc->address)) || set(o, "ok", json_boolean(ok)) ||
        set(o, "error", code ? json_string(code) : json_null()) ||
        set(o, "connect_ms", ok ? ms_value(fc->connect_ms) : json_null()) ||
        set(o, "message", str_or_null(fc->message))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *families(const struct ms_endpoint_result *ep)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "ipv4", family(&ep->ipv4)) || set(o, "ipv6", family(&ep->ipv6))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *srv(const struct ms_endpoint_result *ep)
{
    if (ep->source != MS_SOURCE_SRV || ep->srv_priority < 0)
        return json_null();
    return json_pack("{s:i,s:o}", "priority", ep->srv_priority, "weight",
                     int_or_null(ep->srv_weight));
}

/* A count or size that is null when negative (-1: not known). */
static json_t *ll_or_null(long long v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

/* The response code's name ("SYS/TEMP"); null when none, or when it only carried data
 * (IMAP's [CAPABILITY ...] in a tagged OK is not a verdict). */
static json_t *code_or_null(const char *code)
{
    size_t n = strcspn(code, " ");
    if (n == 0 || (n == 10 && strncasecmp(code, "CAPABILITY", 10) == 0))
        return json_null();
    return json_stringn(code, n);
}

/* Sign-in on this endpoint; null when no credentials were given for the run. */
static json_t *auth_obj(const struct ms_result *r, const struct ms_endpoint_result *ep)
{
    const struct ms_auth_facts *au = &ep->auth;
    json_t *o = NULL, *mechs = NULL;
    char names[32][32];
    if (!r->credentials_given)
        return json_null();
    size_t n = ms_assess_mechanisms(ep, names, 32, false);
    if (!(o = json_object()) || !(mechs = json_array()))
        goto fail;
    for (size_t k = 0; k < n; k++)
        if (json_array_append_new(mechs, json_string(names[k])))
            goto fail;
    json_t *m = mechs;
    mechs = NULL; /* transferred (set steals it even when it fails) */
    if (set(o, "mechanisms", m) || set(o, "chosen", json_boolean(au->chosen)) ||
        set(o, "attempted", json_boolean(au->attempted)) || set(o, "ok", json_boolean(au->ok)) ||
        set(o, "outcome", json_string(ms_auth_outcome_name(ms_assess_auth(ep)))) ||
        set(o, "mechanism", str_or_null(au->mechanism)) ||
        set(o, "status", str_or_null(au->status)) || set(o, "code", code_or_null(au->code)) ||
        set(o, "server_response", str_or_null(au->server_response)) ||
        set(o, "oauth_error", str_or_null(au->oauth_error)) ||
        set(o, "refused_after_login", str_or_null(au->refused_after_login)) ||
        set(o, "not_attempted_reason", str_or_null(au->not_attempted_reason)))
        goto fail;
    return o;
fail:
    json_decref(mechs);
    json_decref(o);
    return NULL;
}

/* "\\Sent \\Archive" -> ["\\Sent", "\\Archive"] */
static json_t *words(const char *s)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t n = strcspn(s, " ");
        if (n && json_array_append_new(arr, json_stringn(s, n))) {
            json_decref(arr);
            return NULL;
        }
        s += n;
    }
    return arr;
}

static json_t *folders(const struct ms_account_facts *a)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < a->folder_count; i++) {
        const struct ms_folder *f = &a->folders[i];
        json_t *o = json_object();
        if (!o || set(o, "name", str(f->name)) || set(o, "special_use", words(f->special_use)) ||
            set(o, "noselect", json_boolean(f->noselect))) {
            json_decref(o);
            json_decref(arr);
            return NULL;
        }
        if (json_array_append_new(arr, o)) { /* steals o even when it fails */
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *namespaces(const struct ms_account_facts *a)
{
    if (!a->namespace_read)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "personal", strlist(&a->ns_personal)) ||
        set(o, "other_users", strlist(&a->ns_other_users)) ||
        set(o, "shared", strlist(&a->ns_shared))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *quota(const struct ms_account_facts *a)
{
    if (!a->quota_read)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "storage_used_kb", ll_or_null(a->quota_storage_used_kb)) ||
        set(o, "storage_limit_kb", ll_or_null(a->quota_storage_limit_kb)) ||
        set(o, "root", str(a->quota_root))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *inbox(const struct ms_account_facts *a)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "messages", int_or_null(a->inbox_messages)) ||
        set(o, "unseen", int_or_null(a->inbox_unseen))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *pop3_account(const struct ms_account_facts *a)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    /* expire_days: -2 (not said) is null, -1 (NEVER) stays -1 */
    if (set(o, "messages", int_or_null(a->pop3_messages)) ||
        set(o, "octets", ll_or_null(a->pop3_octets)) ||
        set(o, "expire_days",
            a->pop3_expire_days < -1 ? json_null() : json_integer(a->pop3_expire_days)) ||
        set(o, "login_delay_seconds", int_or_null(a->pop3_login_delay_s)) ||
        set(o, "uidl", a->pop3_uidl_tried ? json_boolean(a->pop3_uidl_works) : json_null()) ||
        set(o, "top", a->pop3_top_tried ? json_boolean(a->pop3_top_works) : json_null())) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* What the account offers (read after sign-in); null when it was not read. */
static json_t *account_obj(const struct ms_endpoint_result *ep)
{
    const struct ms_account_facts *a = &ep->account;
    bool imap = ep->protocol == MS_PROTOCOL_IMAP;
    if (!a->read)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "folders", imap ? folders(a) : json_null()) ||
        set(o, "folders_truncated", json_boolean(a->folders_truncated)) ||
        set(o, "special_use_listed", json_boolean(a->list_special_use)) ||
        set(o, "namespaces", imap ? namespaces(a) : json_null()) ||
        set(o, "inbox", imap ? inbox(a) : json_null()) ||
        set(o, "quota", imap ? quota(a) : json_null()) ||
        set(o, "pop3", imap ? json_null() : pop3_account(a))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* --injection-test; null when the check did not run on this endpoint. */
static json_t *injection_obj(const struct ms_endpoint_result *ep)
{
    const struct ms_injection_facts *in = &ep->injection;
    if (!in->tested && !in->note[0])
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "tested", json_boolean(in->tested)) ||
        set(o, "vulnerable", json_boolean(in->vulnerable)) ||
        set(o, "evidence", str_or_null(in->evidence)) || set(o, "note", str_or_null(in->note))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The plaintext sign-in check (a separate connection); null when it did not run. */
static json_t *plaintext_check_obj(const struct ms_endpoint_result *ep)
{
    static const char *const methods[] = {
        [MS_PLAINTEXT_NONE] = NULL,
        [MS_PLAINTEXT_SASL_CANCEL] = "sasl_cancel",
        [MS_PLAINTEXT_LOGIN_RANDOM] = "login_random_user",
        [MS_PLAINTEXT_USER_RANDOM] = "user_random_user",
    };
    const struct ms_plaintext_check *pc = &ep->plaintext_check;
    if (!pc->tried)
        return json_null();
    const char *verdict = ms_plaintext_verdict_name(ms_assess_plaintext_verdict(ep));
    const char *method =
        (unsigned)pc->method < sizeof methods / sizeof methods[0] ? methods[pc->method] : NULL;
    json_t *o = json_object();
    if (!o || set(o, "method", method ? json_string(method) : json_null()) ||
        set(o, "sent", str_or_null(pc->sent)) || set(o, "status", str_or_null(pc->status)) ||
        set(o, "code", str_or_null(pc->code)) || set(o, "answer", str_or_null(pc->answer)) ||
        set(o, "verdict", verdict ? json_string(verdict) : json_null()) ||
        set(o, "note", str_or_null(pc->note))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *endpoint_id(const struct ms_result *r, long i)
{
    return i >= 0 && (size_t)i < r->endpoint_count ? json_string(r->endpoints[i].id) : json_null();
}

/* One protocol's answer: {"answer", "value", "unit", "text"} (+ quota "limit", "percent"). */
static json_t *answer_json(const struct ms_answer_value *v)
{
    const char *unit = ms_unit_name(v->unit);
    json_t *o = json_object();
    if (!o || set(o, "answer", str(ms_answer_name(v->answer))) ||
        set(o, "value",
            v->has_number  ? json_integer(v->number)
            : v->string[0] ? json_string(v->string)
                           : json_null()) ||
        set(o, "unit", v->has_number && unit ? json_string(unit) : json_null()) ||
        set(o, "text", str(v->text)) ||
        (v->unit == MS_UNIT_KIB &&
         (set(o, "limit", v->limit_kib < 0 ? json_null() : json_integer(v->limit_kib)) ||
          set(o, "percent", v->percent < 0 ? json_null() : json_integer(v->percent))))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The account-feature summary, decided in the assessment. */
static json_t *summary(const struct ms_result *r, const struct ms_assessment *a)
{
    const struct ms_summary *s = &a->summary;
    json_t *o = NULL, *arr = NULL, *si = NULL;
    if (!(o = json_object()) || !(arr = json_array()))
        goto fail;
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        const struct ms_feature *f = &s->features[k];
        json_t *fo = json_object();
        if (!fo || set(fo, "id", str(f->id)) || set(fo, "question", str(f->question)) ||
            set(fo, "imap", answer_json(&f->answers[MS_PROTOCOL_IMAP])) ||
            set(fo, "pop3", answer_json(&f->answers[MS_PROTOCOL_POP3])) ||
            set(fo, "submission", answer_json(&f->answers[MS_PROTOCOL_SUBMISSION])) ||
            set(fo, "evidence", str(f->evidence))) {
            json_decref(fo);
            goto fail;
        }
        if (json_array_append_new(arr, fo))
            goto fail;
    }
    json_t *t = arr;
    arr = NULL; /* transferred (set steals it even when it fails) */
    if (set(o, "features", t) || set(o, "schedule", str(s->schedule)) ||
        set(o, "poll_interval_seconds",
            s->poll_interval_s < 0 ? json_null() : json_integer(s->poll_interval_s)) ||
        !(si = json_object()) || set(si, "imap", endpoint_id(r, s->signed_in[MS_PROTOCOL_IMAP])) ||
        set(si, "pop3", endpoint_id(r, s->signed_in[MS_PROTOCOL_POP3])) ||
        set(si, "submission", endpoint_id(r, s->signed_in[MS_PROTOCOL_SUBMISSION])))
        goto fail;
    t = si;
    si = NULL; /* transferred */
    if (set(o, "signed_in", t))
        goto fail;
    return o;
fail:
    json_decref(si);
    json_decref(arr);
    json_decref(o);
    return NULL;
}

/* The server software identified (report/server_id.h), null when none was. */
static json_t *server_obj(const struct ms_endpoint_result *ep)
{
    struct ms_server_id id;
    ms_server_identify(ep, &id);
    if (id.software == MS_SERVER_UNKNOWN)
        return json_null();
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "software", str(ms_server_software_name(id.software))) ||
        set(o, "name", str(ms_server_software_label(id.software))) ||
        set(o, "version", str_or_null(id.version)) ||
        set(o, "from", str(ms_server_source_name(id.from))) ||
        set(o, "confidence", str(ms_server_confidence_name(id.confidence)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *endpoint(const struct ms_result *r, const struct ms_endpoint_result *ep,
                        enum ms_status status)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "id", str(ep->id)) || set(o, "protocol", str(ms_protocol_name(ep->protocol))) ||
        set(o, "port", json_integer(ep->port)) ||
        set(o, "security", str(ms_security_name(ep->security))) || set(o, "host", str(ep->host)) ||
        set(o, "address", str_or_null(ep->address)) ||
        set(o, "addresses", strlist(&ep->addresses)) || set(o, "families", families(ep)) ||
        set(o, "required", json_boolean(ep->required)) ||
        set(o, "source", str(ms_source_name(ep->source))) ||
        set(o, "source_name", str_or_null(ep->source_name)) || set(o, "srv", srv(ep)) ||
        set(o, "status", str(ms_status_name(status))) ||
        set(o, "timings_ms", timings(&ep->timings_ms)) ||
        set(o, "greeting", str_or_null(ep->greeting)) || set(o, "server", server_obj(ep)) ||
        set(o, "capabilities", capabilities(ep)) ||
        set(o, "starttls_response", str_or_null(ep->starttls_response)) ||
        set(o, "alerts_ignored_before_tls", json_integer(ep->alerts_ignored_before_tls)) ||
        set(o, "tls", tls(&ep->tls)) ||
        set(o, "completed_securely", json_boolean(ep->completed_securely)) ||
        set(o, "error", error_obj(ep)) || set(o, "auth", auth_obj(r, ep)) ||
        set(o, "account", account_obj(ep)) || set(o, "injection", injection_obj(ep)) ||
        set(o, "plaintext_check", plaintext_check_obj(ep)) ||
        set(o, "tls_audit", ms_json_tls_audit(ep)) || set(o, "pool", ms_json_pool(ep))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *finding(const struct ms_finding *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "severity", str(ms_severity_name(f->severity))) || set(o, "code", str(f->code)) ||
        set(o, "endpoint", f->endpoint ? json_string(f->endpoint) : json_null()) ||
        set(o, "message", str(f->message)) || set(o, "remedy", str(f->remedy))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *verdict(const struct ms_protocol_verdict *v)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "protocol", str(ms_protocol_name(v->protocol))) ||
        set(o, "available", json_boolean(v->available)) ||
        set(o, "offered", json_boolean(!v->not_offered)) ||
        set(o, "status", str(ms_status_name(v->status))) || set(o, "summary", str(v->summary))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *query(const struct ms_dns_query_fact *q)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = strcmp(q->status, "ok") == 0;
    if (set(o, "name", str(q->name)) || set(o, "type", str(q->type)) ||
        set(o, "status", str(q->status[0] ? q->status : "error")) ||
        set(o, "message", ok ? json_null() : str_or_null(q->message)) ||
        set(o, "duration_ms", ms_value(q->duration_ms)) ||
        set(o, "answers", strlist(&q->answers))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *candidate(const struct ms_result *r, const struct ms_candidate *cd)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool probed = cd->endpoint_index >= 0 && (size_t)cd->endpoint_index < r->endpoint_count;
    if (set(o, "host", str(cd->host)) || set(o, "port", json_integer(cd->port)) ||
        set(o, "protocol", str(ms_protocol_name(cd->protocol))) ||
        set(o, "security", str(ms_security_name(cd->security))) ||
        set(o, "source", str(ms_source_name(cd->source))) ||
        set(o, "source_name", str_or_null(cd->source_name)) ||
        set(o, "priority", int_or_null(cd->priority)) ||
        set(o, "weight", int_or_null(cd->weight)) ||
        set(o, "endpoint", probed ? str(r->endpoints[cd->endpoint_index].id) : json_null()) ||
        set(o, "dropped", str_or_null(cd->dropped))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The discovery facts; null when the target was not a domain or an e-mail address. */
static json_t *discovery(const struct ms_result *r)
{
    const struct ms_discovery *d = &r->discovery;
    json_t *o = NULL, *arr = NULL, *ret = NULL;
    if (!d->performed)
        return json_null();
    if (!(o = json_object()))
        goto out;
    if (set(o, "domain", str(d->domain)) || set(o, "user", str_or_null(d->user)) ||
        set(o, "resolver", str_or_null(d->resolver)) ||
        set(o, "duration_ms", ms_value(d->duration_ms)))
        goto out;
    if (!(arr = json_array()))
        goto out;
    for (size_t i = 0; i < d->query_count; i++)
        if (json_array_append_new(arr, query(&d->queries[i])))
            goto out;
    json_t *a = arr;
    arr = NULL; /* transferred (set steals it even when it fails) */
    if (set(o, "queries", a) || !(arr = json_array()))
        goto out;
    for (size_t i = 0; i < d->candidate_count; i++)
        if (json_array_append_new(arr, candidate(r, &d->candidates[i])))
            goto out;
    a = arr;
    arr = NULL; /* transferred */
    if (set(o, "candidates", a) || set(o, "srv_not_offered", strlist(&d->srv_not_offered)) ||
        set(o, "srv_unresolvable", strlist(&d->srv_unresolvable)) ||
        set(o, "submission", strlist(&d->submission)))
        goto out;
    ret = o;
    o = NULL; /* transferred to the caller */
out:
    json_decref(arr);
    json_decref(o);
    return ret;
}

/* ---- what mail programs are told (autoconfig, Autodiscover) ---- */

static json_t *pub_setting(const struct ms_result *r, const struct ms_pub_server *ps,
                           const struct ms_pub_verdict *v)
{
    bool probed = v && v->endpoint >= 0 && (size_t)v->endpoint < r->endpoint_count;
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (set(o, "type", str(ps->type)) || set(o, "host", str(ps->host)) ||
        set(o, "port", json_integer(ps->port)) ||
        set(o, "security", str(ms_security_name(ps->security))) ||
        set(o, "security_text", str_or_null(ps->security_text)) ||
        set(o, "authentication", str_or_null(ps->authentication)) ||
        set(o, "username", str_or_null(ps->username)) ||
        set(o, "username_pattern", str_or_null(ps->username_pattern)) ||
        set(o, "line", ps->line ? json_integer((json_int_t)ps->line) : json_null()) ||
        set(o, "check", str(v ? ms_pub_check_name(v->check) : "not_checked")) ||
        set(o, "check_text", str(v ? v->words : "not checked")) ||
        set(o, "endpoint", probed ? str(r->endpoints[v->endpoint].id) : json_null())) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *exchange(const struct ms_http_exchange *x)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "method", x->method, "url", x->url, "address",
                     str_or_null(x->address), "status",
                     x->status ? json_integer(x->status) : json_null(), "failure",
                     x->failure != MS_HTTP_OK ? str(ms_http_failure_name(x->failure)) : json_null(),
                     "message", str_or_null(x->message), "duration_ms", ms_value(x->duration_ms));
}

/* Why a fetched certificate did not verify, in words (never NULL). */
static const char *cert_words(enum ms_cert_problem p)
{
    const char *w = ms_phrase_cert_problem(p);
    return w                             ? w
           : p == MS_CERT_EXPIRED        ? "the certificate has expired"
           : p == MS_CERT_NOT_YET_VALID  ? "the certificate is not valid yet"
           : p == MS_CERT_NAME_MISMATCH  ? "the certificate does not name the host"
           : p == MS_CERT_NO_CERTIFICATE ? "the server sent no certificate"
                                         : "the certificate did not verify";
}

static json_t *pub_source(const struct ms_result *r, const struct ms_assessment *a,
                          const struct ms_pub_source *s)
{
    json_t *o = json_object(), *arr = NULL;
    if (!o)
        return NULL;
    bool failed = s->outcome == MS_PUB_FAILED || s->failure != MS_HTTP_OK;
    const char *cert = s->failure == MS_HTTP_CERT ? cert_words(s->cert_problem) : NULL;
    if (set(o, "method", str(ms_pub_method_name(s->method))) ||
        set(o, "program",
            str(s->method >= MS_PUB_AUTODISCOVER_DOMAIN ? "outlook" : "thunderbird")) ||
        set(o, "url", str_or_null(s->url)) || set(o, "final_url", str_or_null(s->final_url)) ||
        set(o, "outcome", str(ms_pub_outcome_name(s->outcome))) ||
        set(o, "failure", failed ? str(ms_http_failure_name(s->failure)) : json_null()) ||
        set(o, "certificate_problem", str_or_null(cert)) ||
        set(o, "http_status", s->status ? json_integer(s->status) : json_null()) ||
        set(o, "message", str_or_null(s->message)) ||
        set(o, "error_line",
            s->error_line ? json_integer((json_int_t)s->error_line) : json_null()) ||
        set(o, "error_column",
            s->error_column ? json_integer((json_int_t)s->error_column) : json_null()) ||
        set(o, "plain_http", json_boolean(s->plain_http)) ||
        set(o, "redirected_to", str_or_null(s->redirected_to)) ||
        set(o, "redirect_address", str_or_null(s->redirect_address)) ||
        set(o, "provider", str_or_null(s->provider)) ||
        set(o, "autodiscover_error_code", str_or_null(s->error_code)) ||
        set(o, "duration_ms",
            s->outcome == MS_PUB_SKIPPED ? json_null() : ms_value(s->duration_ms)) ||
        set(o, "settings_truncated", json_boolean(s->servers_truncated)) ||
        set(o, "settings_skipped", json_integer((json_int_t)s->servers_skipped)))
        goto fail;
    if (!(arr = json_array()))
        goto fail;
    for (size_t k = 0; s->outcome == MS_PUB_SETTINGS && k < s->server_count; k++)
        if (json_array_append_new(
                arr, pub_setting(r, &s->servers[k], ms_assess_pub_verdict(r, a, s->method, k))))
            goto fail;
    if (set(o, "settings", arr)) {
        arr = NULL;
        goto fail;
    }
    if (!(arr = json_array()))
        goto fail;
    for (size_t k = 0; k < s->exchange_count; k++)
        if (json_array_append_new(arr, exchange(&s->exchanges[k])))
            goto fail;
    if (set(o, "exchanges", arr)) {
        arr = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(arr);
    json_decref(o);
    return NULL;
}

/* What mail programs fetch and are told; null without discovery or with --no-autoconfig. */
static json_t *autoconfig(const struct ms_result *r, const struct ms_assessment *a)
{
    const struct ms_published *p = &r->discovery.published;
    if (!p->performed || !p->sources)
        return json_null();
    json_t *o = json_object(), *arr = NULL;
    if (!o)
        return NULL;
    int tb = a->pub_program[0], ol = a->pub_program[1];
    if (set(o, "address", str(p->address)) || set(o, "mx_domain", str_or_null(p->mx_domain)) ||
        set(o, "duration_ms", ms_value(p->duration_ms)) ||
        set(o, "thunderbird",
            tb >= 0 ? str(ms_pub_method_name((enum ms_pub_method)tb)) : json_null()) ||
        set(o, "outlook", ol >= 0 ? str(ms_pub_method_name((enum ms_pub_method)ol)) : json_null()))
        goto fail;
    if (!(arr = json_array()))
        goto fail;
    for (int m = 0; m < MS_PUB_METHOD_COUNT; m++)
        if (json_array_append_new(arr, pub_source(r, a, &p->sources[m])))
            goto fail;
    if (set(o, "sources", arr)) {
        arr = NULL;
        goto fail;
    }
    return o;
fail:
    json_decref(arr);
    json_decref(o);
    return NULL;
}

static json_t *setting(const struct ms_endpoint_result *ep)
{
    if (!ep)
        return json_null();
    return json_pack("{s:s,s:i,s:s,s:s}", "host", ep->host, "port", (int)ep->port, "security",
                     ms_security_name(ep->security), "endpoint", ep->id);
}

/* The settings to type into a mail program. */
static json_t *recommended(const struct ms_result *r, const struct ms_assessment *a)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool pref = a->preferred == MS_PROTOCOL_IMAP || a->preferred == MS_PROTOCOL_POP3;
    if (set(o, "imap", setting(ms_assess_recommended(r, a, MS_PROTOCOL_IMAP))) ||
        set(o, "pop3", setting(ms_assess_recommended(r, a, MS_PROTOCOL_POP3))) ||
        set(o, "submission", setting(ms_assess_recommended(r, a, MS_PROTOCOL_SUBMISSION))) ||
        set(o, "preferred",
            pref && ms_assess_recommended(r, a, (enum ms_protocol)a->preferred)
                ? json_string(ms_protocol_name((enum ms_protocol)a->preferred))
                : json_null()) ||
        /* the name a mail program's setup asks for, for both servers: the one given */
        set(o, "user_name", r->credentials_given && r->user[0] ? str(r->user) : json_null()) ||
        /* only when there is something to say: the keys above stay what they were */
        (a->autoconfig_note[0] && set(o, "autoconfig_note", str(a->autoconfig_note)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The whole document; NULL when out of memory. */
static json_t *build(const struct ms_result *r, const struct ms_assessment *a)
{
    json_t *root = NULL, *arr = NULL, *ret = NULL;
    char started[32] = "";
    time_t t = (time_t)r->started_at;
    struct tm tm;

    if (gmtime_r(&t, &tm))
        strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);

    if (!(root = json_object()))
        goto out;
    json_t *me = json_pack("{s:s}", "version", MS_VERSION);
    if (set(root, "mailscope", me) ||
        set(root, "schema_version", json_integer(MS_SCHEMA_VERSION)) ||
        set(root, "target", str(r->target)) ||
        set(root, "user", r->credentials_given ? str(r->user) : json_null()) ||
        set(root, "status", str(ms_status_name(a->status))) ||
        set(root, "duration_ms", ms_value(r->duration_ms < 0 ? 0 : r->duration_ms)) ||
        set(root, "started_at", str_or_null(started)))
        goto out;

    if (!(arr = json_array()))
        goto out;
    for (size_t i = 0; i < a->verdict_count; i++)
        if (json_array_append_new(arr, verdict(&a->verdicts[i])))
            goto out;
    if (set(root, "verdicts", arr)) {
        arr = NULL; /* consumed */
        goto out;
    }
    arr = NULL; /* transferred */
    if (set(root, "summary", summary(r, a)) || set(root, "recommended", recommended(r, a)) ||
        set(root, "discovery", discovery(r)) || set(root, "autoconfig", autoconfig(r, a)))
        goto out;

    if (!(arr = json_array()))
        goto out;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        enum ms_status st = a->endpoint_status ? a->endpoint_status[i] : MS_STATUS_UNKNOWN;
        if (json_array_append_new(arr, endpoint(r, &r->endpoints[i], st)))
            goto out;
    }
    if (set(root, "endpoints", arr)) {
        arr = NULL;
        goto out;
    }

    if (!(arr = json_array()))
        goto out;
    for (size_t i = 0; i < a->finding_count; i++)
        if (json_array_append_new(arr, finding(&a->findings[i])))
            goto out;
    if (set(root, "findings", arr)) {
        arr = NULL;
        goto out;
    }
    arr = NULL; /* transferred */
    if (set(root, "clients", ms_json_clients(r)))
        goto out;
    ret = root;
    root = NULL; /* transferred to the caller */
out:
    json_decref(arr);
    json_decref(root);
    return ret;
}

/* The serialised document. jansson 2.14 ignores a dump callback's failure while it writes
 * an object's key and goes on (akheron/jansson#655): after one failed append the next ones
 * could succeed and yield a document with a key missing. So the first failure sticks: every
 * later append fails too, and `failed` is checked besides json_dump_callback's result. */
struct text {
    char *data;
    size_t len, cap;
    bool failed;
};

static int append_text(const char *s, size_t n, void *arg)
{
    struct text *t = arg;
    if (t->failed)
        return -1;
    if (n >= t->cap - t->len) { /* keep one byte spare */
        size_t cap = t->cap ? t->cap : 16384;
        while (n >= cap - t->len)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = true;
            return -1;
        }
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    return 0;
}

/* The document is built and serialised in memory first, so running out of memory writes
 * nothing: a reader gets a whole document or none. */
static int dump(FILE *out, const struct ms_result *result, const struct ms_assessment *a,
                size_t flags)
{
    int rc = 0;
    struct text text = {0};
    json_t *root = build(result, a);
    if (!root) {
        rc = MS_ENOMEM;
        goto out;
    }
    /* 15 significant digits: 0.1 ms values print as 12.3, not 12.300000000000001. */
    if (json_dump_callback(root, append_text, &text, flags | JSON_REAL_PRECISION(15)) != 0 ||
        text.failed) {
        rc = MS_ENOMEM;
        goto out;
    }
    if (fwrite(text.data, 1, text.len, out) != text.len || fputc('\n', out) == EOF ||
        fflush(out) == EOF || ferror(out))
        rc = MS_EIO;
out:
    free(text.data);
    json_decref(root);
    return rc;
}

static int dump_event(FILE *out, json_t *event)
{
    int rc = 0;
    if (!event)
        return MS_ENOMEM;
    if (json_dumpf(event, out, JSON_COMPACT | JSON_REAL_PRECISION(15)) != 0)
        rc = ferror(out) ? MS_EIO : MS_ENOMEM;
    else if (fputc('\n', out) == EOF || fflush(out) == EOF || ferror(out))
        rc = MS_EIO;
    json_decref(event);
    return rc;
}

int ms_report_json_endpoint_event(FILE *out, const struct ms_result *result, size_t index)
{
    if (index >= result->endpoint_count)
        return MS_EINVAL;
    json_t *ep = endpoint(result, &result->endpoints[index], MS_STATUS_UNKNOWN);
    if (ep)
        json_object_del(ep, "status");
    return dump_event(out, ep ? json_pack("{s:s, s:I, s:o}", "event", "endpoint", "index",
                                          (json_int_t)index, "endpoint", ep)
                              : NULL);
}

int ms_report_json_report_event(FILE *out, const struct ms_result *result,
                                const struct ms_assessment *a)
{
    json_t *report = build(result, a);
    return dump_event(out,
                      report ? json_pack("{s:s, s:o}", "event", "report", "report", report) : NULL);
}

int ms_report_json(FILE *out, const struct ms_result *result, const struct ms_assessment *a)
{
    return dump(out, result, a, JSON_INDENT(2));
}

int ms_report_json_line(FILE *out, const struct ms_result *result, const struct ms_assessment *a)
{
    return dump(out, result, a, JSON_COMPACT);
}
