/* The account-feature summary (DESIGN.md) and the send/receive schedule: a pure function of
 * the result, so the text and JSON reports agree. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/caps.h"
#include "report/assess_internal.h"

/* ---- the account-feature summary ------------------------------------------------------ */

static const struct {
    const char *id, *question, *label;
} feature_text[MS_FEATURE_COUNT] = {
    [MS_FEATURE_PROTOCOL_ENABLED] = {"protocol_enabled", "Is POP3/IMAP enabled for this account?",
                                     "Enabled for this account?"},
    [MS_FEATURE_LEAVE_MAIL_ON_SERVER] = {"leave_mail_on_server",
                                         "Can mail stay on the server so several computers see "
                                         "it?",
                                         "Mail stays on the server?"},
    [MS_FEATURE_SERVER_FOLDERS] = {"server_folders", "Can I use several server folders?",
                                   "Several server folders?"},
    [MS_FEATURE_SENT_ITEMS_ON_SERVER] = {"sent_items_on_server",
                                         "Are sent items kept on the server?",
                                         "Sent items on the server?"},
    [MS_FEATURE_SHARED_FOLDERS] = {"shared_folders", "Can I reach public/shared folders?",
                                   "Public/shared folders?"},
    [MS_FEATURE_HEADERS_ONLY_DOWNLOAD] = {"headers_only_download", "Can I read only headers first?",
                                          "Headers-only download?"},
    [MS_FEATURE_PUSH_MAIL] = {"push_mail", "Does new mail arrive by push?", "Push mail?"},
    [MS_FEATURE_MIN_POLL_INTERVAL] = {"min_poll_interval",
                                      "How often may a mail program check for new mail?",
                                      "Shortest poll interval"},
    [MS_FEATURE_SECURE_CONNECTION] = {"secure_connection", "Is the connection secure?",
                                      "Secure connection?"},
    [MS_FEATURE_SIGN_IN_METHODS] = {"sign_in_methods", "How can I sign in?", "Sign-in methods"},
    [MS_FEATURE_QUOTA] = {"quota", "Is the mailbox near full?", "Mailbox quota"},
    [MS_FEATURE_CAN_SEND] = {"can_send", "Can I send mail (SMTP submission)?", "Can send mail?"},
    [MS_FEATURE_MAX_MESSAGE_SIZE] = {"max_message_size", "How large may a message be?",
                                     "Largest message"},
};

/* Which side a question is about: receiving (IMAP, POP3), sending (submission), or both. */
static bool about_receiving(int id)
{
    return id != MS_FEATURE_PROTOCOL_ENABLED && id != MS_FEATURE_SECURE_CONNECTION &&
           id != MS_FEATURE_SIGN_IN_METHODS && id != MS_FEATURE_CAN_SEND &&
           id != MS_FEATURE_MAX_MESSAGE_SIZE;
}

static bool about_sending(int id)
{
    return id == MS_FEATURE_CAN_SEND || id == MS_FEATURE_MAX_MESSAGE_SIZE;
}

#define DEFAULT_POLL_S 300 /* 5 minutes: more often only adds load */

/* What the summary knows about one protocol. */
struct pview {
    enum ms_protocol p;
    bool in_play;
    const struct ms_endpoint_result *ep; /* the endpoint whose facts answer, or NULL */
    const struct ms_endpoint_result *au; /* the endpoint whose sign-in decides, or NULL */
    enum ms_auth_outcome outcome;
    bool signed_in;  /* ep signed in */
    bool account;    /* ... and its account facts were read */
    char needs[240]; /* the evidence of answers that need sign-in */
};

/* Capabilities after sign-in (NULL when not read), before it (over TLS when TLS was up),
 * and the best of both. */
static const struct ms_strlist *caps_login(const struct ms_endpoint_result *ep)
{
    return ep->caps_after_login_read && ep->caps_after_login.count ? &ep->caps_after_login : NULL;
}

static const struct ms_strlist *caps_pre(const struct ms_endpoint_result *ep)
{
    if (ep->caps_after_tls_read)
        return &ep->caps_after_tls;
    return ep->caps_before_tls_read && !ep->tls.established ? &ep->caps_before_tls : NULL;
}

static const struct ms_strlist *caps_best(const struct ms_endpoint_result *ep)
{
    const struct ms_strlist *l = caps_login(ep);
    return l ? l : caps_pre(ep);
}

static bool has_cap(const struct ms_endpoint_result *ep, const struct ms_strlist *caps,
                    const char *name)
{
    if (!caps)
        return false;
    switch (ep->protocol) {
    case MS_PROTOCOL_IMAP: return ms_strlist_has(caps, name);
    case MS_PROTOCOL_POP3: return ms_assess_pop3_cap(caps, name) != NULL;
    default: return ms_caps_smtp_find(caps, name) != NULL;
    }
}

/* POP3 EXPIRE: -1 never, -2 not said, -3 said but unreadable (proto.capability_malformed),
 * else days; *after: said after sign-in (per user). Read from the raw capability lists
 * (assess_caps.c), after sign-in first. */
static long pop3_expire(const struct pview *v, bool *after, bool *per_user)
{
    const struct ms_strlist *lists[2] = {caps_login(v->ep), caps_pre(v->ep)};
    *per_user = false;
    for (int k = 0; k < 2; k++) {
        struct ms_pop3_value pv;
        *after = k == 0;
        ms_assess_pop3_value(lists[k], "EXPIRE", &pv);
        if (!pv.line)
            continue;
        *per_user = pv.per_user;
        return pv.value == -2 ? -3 : pv.value;
    }
    *after = false;
    return -2;
}

/* POP3 LOGIN-DELAY in seconds: -1 not known (or unreadable), 0 none said after sign-in. */
static long pop3_login_delay(const struct pview *v, bool *after)
{
    const struct ms_endpoint_result *ep = v->ep;
    struct ms_pop3_value pv;
    *after = true;
    ms_assess_pop3_value(caps_login(ep), "LOGIN-DELAY", &pv);
    if (pv.line)
        return pv.value >= 0 ? pv.value : -1;
    if (v->signed_in && ep->caps_after_login_read)
        return 0;
    *after = false;
    ms_assess_pop3_value(caps_pre(ep), "LOGIN-DELAY", &pv);
    return pv.line && pv.value >= 0 ? pv.value : -1;
}

const char *ms_answer_name(enum ms_answer a)
{
    switch (a) {
    case MS_ANSWER_YES: return "yes";
    case MS_ANSWER_NO: return "no";
    case MS_ANSWER_UNKNOWN: return "unknown";
    default: return "n/a";
    }
}

const char *ms_unit_name(enum ms_unit u)
{
    switch (u) {
    case MS_UNIT_DAYS: return "days";
    case MS_UNIT_FOLDERS: return "folders";
    case MS_UNIT_SECONDS: return "seconds";
    case MS_UNIT_KIB: return "KiB";
    default: return NULL;
    }
}

/* One protocol's answer and the words the text report prints for it. */
static struct ms_answer_value *answer(struct ms_feature *f, enum ms_protocol p, enum ms_answer a,
                                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static struct ms_answer_value *answer(struct ms_feature *f, enum ms_protocol p, enum ms_answer a,
                                      const char *fmt, ...)
{
    struct ms_answer_value *v = &f->answers[p];
    memset(v, 0, sizeof *v);
    v->answer = a;
    v->limit_kib = -1;
    v->percent = -1;
    va_list ap;
    va_start(ap, fmt);
    ms_assess_vput(v->text, sizeof v->text, fmt, ap);
    va_end(ap);
    return v;
}

static void number(struct ms_answer_value *v, long long n, enum ms_unit unit)
{
    v->has_number = true;
    v->number = n;
    v->unit = unit;
}

/* The value is the answer's words themselves ("PLAIN, LOGIN", "OAuth2 only"). */
static void words_value(struct ms_answer_value *v)
{
    snprintf(v->string, sizeof v->string, "%s", v->text);
}

/* The words of a sign-in: the server's answer, else why it did not happen. */
static void sign_in_words(const struct ms_endpoint_result *ep, char *buf, size_t cap)
{
    const struct ms_auth_facts *au = &ep->auth;
    if (au->attempted && au->status[0])
        ms_assess_server_words(au, buf, cap);
    else if (au->attempted && ep->failure_message[0])
        ms_assess_put(buf, cap, "%s", ep->failure_message);
    else if (au->not_attempted_reason[0])
        ms_assess_put(buf, cap, "%s", au->not_attempted_reason);
    else if (ms_assess_stopped_for_tls(ep))
        ms_assess_put(buf, cap, "the session stopped before sign-in (%s)",
                      ms_assess_failure_code(ep->failure));
    else
        ms_assess_put(buf, cap, "no words");
}

static void f_protocol_enabled(const struct ms_assess_ctx *c, const struct pview *v,
                               struct ms_feature *f, char *ev, size_t evc)
{
    enum ms_protocol p = v->p;
    char words[400] = "";
    if (v->au)
        sign_in_words(v->au, words, sizeof words);
    switch (v->outcome) {
    case MS_AUTH_OK:
        answer(f, p, MS_ANSWER_YES, "yes");
        ms_assess_put(ev, evc, "signed in on %s (%s)", v->au->id, v->au->auth.mechanism);
        break;
    case MS_AUTH_FAILED: /* a wrong password says nothing about the protocol */
        answer(f, p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "sign-in failed, credentials rejected: \"%s\"", words);
        break;
    case MS_AUTH_PROTOCOL_DISABLED:
        answer(f, p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "refused on %s: \"%s\"", v->au->id, words);
        break;
    case MS_AUTH_BASIC_AUTH_DISABLED:
        words_value(answer(f, p, MS_ANSWER_UNKNOWN, "OAuth2 only"));
        ms_assess_put(ev, evc, "%s", words);
        break;
    case MS_AUTH_LOCKED_OR_EXPIRED:
    case MS_AUTH_LOGIN_DELAY:
    case MS_AUTH_IN_USE:
    case MS_AUTH_TEMPORARY:
        answer(f, p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "sign-in refused, %s: \"%s\"", ms_assess_outcome_words(v->outcome),
                      words);
        break;
    case MS_AUTH_MECHANISM_UNAVAILABLE:
    case MS_AUTH_NOT_ATTEMPTED_INSECURE:
    case MS_AUTH_NOT_ATTEMPTED:
        answer(f, p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "not signed in: %s", words);
        break;
    case MS_AUTH_UNFINISHED:
        answer(f, p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "sign-in did not finish: %s", words);
        break;
    default:
        answer(f, p, MS_ANSWER_UNKNOWN, "unknown");
        if (!c->r->credentials_given)
            ms_assess_put(ev, evc, "%s", MS_NEEDS_SIGN_IN_NO_CREDENTIALS);
        else
            ms_assess_put(ev, evc, "no %s endpoint got as far as sign-in",
                          ms_assess_proto_upper(p));
        break;
    }
}

static void f_leave_mail(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    if (v->p == MS_PROTOCOL_IMAP) {
        answer(f, v->p, MS_ANSWER_YES, "yes");
        ms_assess_put(ev, evc, "IMAP keeps mail on the server");
        return;
    }
    const struct ms_strlist *caps = caps_best(ep);
    int uidl = -1; /* unknown */
    char uidl_ev[64] = "";
    if (v->account && ep->account.pop3_uidl_tried) {
        uidl = ep->account.pop3_uidl_works;
        ms_assess_put(uidl_ev, sizeof uidl_ev, "UIDL %s after sign-in", uidl ? "works" : "failed");
    } else if (caps) {
        uidl = has_cap(ep, caps, "UIDL");
        ms_assess_put(uidl_ev, sizeof uidl_ev, "%s", uidl ? "UIDL offered" : "no UIDL in CAPA");
    }
    bool after, per_user;
    long expire = pop3_expire(v, &after, &per_user);
    const char *when = after ? " after sign-in" : " before sign-in";
    if (expire == -3) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "%s; EXPIRE%s could not be read (see %s)",
                      uidl_ev[0] ? uidl_ev : "CAPA was not read", when,
                      ms_catalogue[MS_F_PROTO_CAPABILITY_MALFORMED].code);
    } else if (expire == 0) {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "EXPIRE 0%s: the server deletes mail once it is downloaded", when);
    } else if (uidl < 0) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "CAPA was not read");
    } else if (!uidl) {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc,
                      "%s: mail programs cannot tell which messages they already downloaded",
                      uidl_ev);
    } else if (expire > 0) {
        number(answer(f, v->p, MS_ANSWER_YES, "yes, %ld days", expire), expire, MS_UNIT_DAYS);
        ms_assess_put(ev, evc, "%s; EXPIRE %ld%s: downloaded mail is deleted after %ld days",
                      uidl_ev, expire, when, expire);
    } else {
        answer(f, v->p, MS_ANSWER_YES, "yes");
        ms_assess_put(ev, evc, "%s; EXPIRE %s%s%s", uidl_ev, expire == -1 ? "NEVER" : "not said",
                      expire == -1 ? when : "",
                      after || v->signed_in ? ""
                                            : " (the per-user EXPIRE shows only after sign-in)");
    }
}

static bool is_sent_name(const char *name)
{
    static const char *const names[] = {"Sent", "Sent Items", "Sent Messages", "Sent Mail"};
    const char *leaf = name;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == '.')
            leaf = p + 1;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcasecmp(leaf, names[k]) == 0)
            return true;
    return false;
}

static void f_folders(const struct pview *v, enum ms_feature_id id, struct ms_feature *f, char *ev,
                      size_t evc)
{
    const struct ms_account_facts *a = &v->ep->account;
    if (!v->account) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "%s", v->needs);
        return;
    }
    if (id == MS_FEATURE_SERVER_FOLDERS) {
        size_t selectable = 0;
        for (size_t k = 0; k < a->folder_count; k++)
            if (!a->folders[k].noselect)
                selectable++;
        number(answer(f, v->p, a->folder_count > 1 ? MS_ANSWER_YES : MS_ANSWER_NO, "%zu%s folder%s",
                      a->folder_count, a->folders_truncated ? "+" : "",
                      a->folder_count == 1 ? "" : "s"),
               (long long)a->folder_count, MS_UNIT_FOLDERS);
        ms_assess_put(ev, evc, "LIST after sign-in: %zu folder%s%s", a->folder_count,
                      a->folder_count == 1 ? "" : "s",
                      a->folders_truncated ? " (list cut at the cap)" : "");
        if (selectable != a->folder_count)
            ms_assess_app(ev, evc, ", %zu not selectable", a->folder_count - selectable);
        return;
    }
    if (id == MS_FEATURE_SENT_ITEMS_ON_SERVER) {
        const struct ms_folder *by_name = NULL;
        for (size_t k = 0; k < a->folder_count; k++) {
            const struct ms_folder *fo = &a->folders[k];
            if (ms_assess_has_phrase(fo->special_use, "Sent") && strstr(fo->special_use, "\\")) {
                answer(f, v->p, MS_ANSWER_YES, "yes");
                ms_assess_put(ev, evc, "\\Sent folder \"%s\" (SPECIAL-USE)", fo->name);
                return;
            }
            if (!by_name && !fo->noselect && is_sent_name(fo->name))
                by_name = fo;
        }
        if (by_name) {
            answer(f, v->p, MS_ANSWER_YES, "yes");
            ms_assess_put(ev, evc, "folder \"%s\" (by its name; no \\Sent flag)", by_name->name);
            return;
        }
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "no folder is flagged \\Sent or named Sent%s",
                      a->list_special_use ? "" : " (the server lists no SPECIAL-USE flags)");
        return;
    }
    /* shared folders */
    if (!a->namespace_read) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "%s",
                      has_cap(v->ep, caps_login(v->ep), "NAMESPACE") ? "NAMESPACE gave no answer"
                                                                     : "no NAMESPACE capability");
        return;
    }
    if (a->ns_other_users.count == 0 && a->ns_shared.count == 0) {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "NAMESPACE lists personal folders only");
        return;
    }
    answer(f, v->p, MS_ANSWER_YES, "yes");
    ms_assess_put(ev, evc, "NAMESPACE");
    if (a->ns_other_users.count)
        ms_assess_app(ev, evc, " other users \"%s\"", a->ns_other_users.items[0]);
    if (a->ns_shared.count)
        ms_assess_app(ev, evc, "%s shared \"%s\"", a->ns_other_users.count ? "," : "",
                      a->ns_shared.items[0]);
}

static void f_headers_only(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    if (v->p == MS_PROTOCOL_IMAP) {
        answer(f, v->p, MS_ANSWER_YES, "yes");
        ms_assess_put(ev, evc, "IMAP FETCH BODY.PEEK[HEADER]");
        return;
    }
    const struct ms_strlist *caps = caps_best(ep);
    if (v->account && ep->account.pop3_top_tried) {
        answer(f, v->p, ep->account.pop3_top_works ? MS_ANSWER_YES : MS_ANSWER_NO, "%s",
               ep->account.pop3_top_works ? "yes" : "no");
        ms_assess_put(ev, evc, "TOP %s after sign-in",
                      ep->account.pop3_top_works ? "works" : "failed");
    } else if (caps) {
        bool top = has_cap(ep, caps, "TOP");
        answer(f, v->p, top ? MS_ANSWER_YES : MS_ANSWER_NO, "%s", top ? "yes" : "no");
        ms_assess_put(ev, evc, "%s", top ? "TOP offered" : "no TOP in CAPA");
    } else {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "CAPA was not read");
    }
}

static void f_push(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    if (v->p == MS_PROTOCOL_POP3) {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "POP3 has no push: mail programs poll");
        return;
    }
    const struct ms_strlist *login = caps_login(ep), *pre = caps_pre(ep);
    if (has_cap(ep, login, "IDLE") || has_cap(ep, pre, "IDLE")) {
        answer(f, v->p, MS_ANSWER_YES, "yes");
        ms_assess_put(ev, evc, "IDLE %s sign-in", has_cap(ep, login, "IDLE") ? "after" : "before");
    } else if (login) {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "no IDLE after sign-in");
    } else {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "no IDLE before sign-in (servers may add it after); %s", v->needs);
    }
}

static void f_poll(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    if (v->p == MS_PROTOCOL_IMAP) {
        bool idle = has_cap(v->ep, caps_best(v->ep), "IDLE");
        number(answer(f, v->p, MS_ANSWER_YES, "none"), 0, MS_UNIT_SECONDS);
        ms_assess_put(ev, evc, "IMAP has no LOGIN-DELAY%s", idle ? "; IDLE pushes new mail" : "");
        return;
    }
    bool after;
    long d = pop3_login_delay(v, &after);
    if (d < 0) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        if (v->signed_in)
            ms_assess_put(ev, evc, "CAPA after sign-in was not read");
        else
            ms_assess_put(ev, evc, "%s (the per-user LOGIN-DELAY shows only after sign-in)",
                          v->needs);
    } else if (d == 0) {
        number(answer(f, v->p, MS_ANSWER_YES, "none"), 0, MS_UNIT_SECONDS);
        ms_assess_put(ev, evc, "no LOGIN-DELAY after sign-in");
    } else {
        number(answer(f, v->p, MS_ANSWER_YES, "%ld s", d), d, MS_UNIT_SECONDS);
        ms_assess_put(ev, evc, "LOGIN-DELAY %ld %s sign-in%s", d, after ? "after" : "before",
                      after ? "" : " (server-wide)");
    }
}

static void f_secure(const struct ms_assess_ctx *c, const struct ms_assessment *a,
                     const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_protocol_verdict *vd = NULL;
    for (size_t k = 0; k < a->verdict_count; k++)
        if (a->verdicts[k].protocol == v->p)
            vd = &a->verdicts[k];
    const struct ms_endpoint_result *rec = ms_assess_recommended(c->r, a, v->p);
    if (vd && vd->available) {
        answer(f, v->p, MS_ANSWER_YES, "yes");
        if (rec)
            ms_assess_put(ev, evc, "%s on %u, %s, certificate verified",
                          ms_phrase_security(rec->security), (unsigned)rec->port,
                          rec->tls.version[0] ? rec->tls.version : "TLS");
        else
            ms_assess_put(ev, evc, "%s", vd->summary);
    } else {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "%s",
                      a->not_recommended[v->p][0] ? a->not_recommended[v->p]
                      : vd                        ? vd->summary
                                                  : "no endpoint was checked");
    }
}

static void f_sign_in(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    const struct ms_strlist *pre = caps_pre(ep);
    char names[32][32], list[256] = "", by_kind[MS_MECH_KIND_COUNT][200];
    memset(by_kind, 0, sizeof by_kind);
    size_t n = ms_assess_mechanisms(ep, names, 32, true);
    for (size_t k = 0; k < n; k++) {
        enum ms_mech_kind kind = ms_assess_mechanism_kind(names[k]);
        ms_assess_app(list, sizeof list, "%s%s", k ? ", " : "", names[k]);
        ms_assess_app(by_kind[kind], sizeof by_kind[kind], "%s%s", by_kind[kind][0] ? ", " : "",
                      names[k]);
    }
    const char *where = ep->tls.established ? "over TLS" : "without TLS";
    if (v->p == MS_PROTOCOL_IMAP && !n && pre && !ms_strlist_has(pre, "LOGINDISABLED")) {
        words_value(answer(f, v->p, MS_ANSWER_YES, "IMAP LOGIN"));
        ms_assess_put(ev, evc, "no AUTH= mechanism, LOGIN command allowed %s on %u", where,
                      (unsigned)ep->port);
        return;
    }
    if (v->p == MS_PROTOCOL_POP3 && !pre) {
        words_value(answer(f, v->p, MS_ANSWER_YES, "USER (assumed)"));
        ms_assess_put(ev, evc, "no CAPA: RFC 1939 servers take USER/PASS");
        return;
    }
    if (!pre) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "capabilities were not read");
        return;
    }
    if (!n) {
        answer(f, v->p, MS_ANSWER_NO, "none");
        ms_assess_put(ev, evc, "%s offered %s on %u",
                      v->p == MS_PROTOCOL_IMAP   ? "LOGINDISABLED and no AUTH= mechanism"
                      : v->p == MS_PROTOCOL_POP3 ? "no USER and no SASL mechanism"
                                                 : "no AUTH mechanism",
                      where, (unsigned)ep->port);
        return;
    }
    /* the value is the list as offered; the words the text report prints may be cut */
    struct ms_answer_value *a = answer(f, v->p, MS_ANSWER_YES, "%s", list);
    snprintf(a->string, sizeof a->string, "%s", list);
    /* password and OAuth2 always (yes or no), the other kinds when offered */
    ms_assess_put(ev, evc, "%s on %u: ", where, (unsigned)ep->port);
    for (int k = 0; k < MS_MECH_KIND_COUNT; k++) {
        const char *have = by_kind[k];
        bool always = k == MS_MECH_PASSWORD || k == MS_MECH_OAUTH2;
        if (!have[0] && !always)
            continue;
        ms_assess_app(ev, evc, "%s%s", k ? ", " : "", ms_mech_kind_name((enum ms_mech_kind)k));
        if (k == MS_MECH_OTHER)
            ms_assess_app(ev, evc, ": %s", have);
        else
            ms_assess_app(ev, evc, " %s%s%s", have[0] ? "yes (" : "no", have, have[0] ? ")" : "");
    }
}

static void f_quota(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    const struct ms_account_facts *a = &ep->account;
    if (v->p == MS_PROTOCOL_POP3) {
        answer(f, v->p, MS_ANSWER_NA, "n/a");
        ms_assess_put(ev, evc, "POP3 cannot ask for a quota");
        if (v->account && a->pop3_messages >= 0 && a->pop3_octets >= 0) {
            char size[32];
            ms_assess_fmt_kb((a->pop3_octets + 1023) / 1024, size, sizeof size);
            ms_assess_app(ev, evc, "; STAT: %ld message%s, %s", a->pop3_messages,
                          a->pop3_messages == 1 ? "" : "s", size);
        }
        return;
    }
    if (!v->account) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "%s", v->needs);
        return;
    }
    if (!a->quota_read || a->quota_storage_used_kb < 0) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "%s",
                      has_cap(ep, caps_login(ep), "QUOTA")
                          ? "QUOTA offered, but GETQUOTAROOT INBOX gave no storage quota"
                          : "the server offers no QUOTA extension");
        return;
    }
    char used[32], limit[32];
    ms_assess_fmt_kb(a->quota_storage_used_kb, used, sizeof used);
    if (a->quota_storage_limit_kb > 0) {
        ms_assess_fmt_kb(a->quota_storage_limit_kb, limit, sizeof limit);
        long long pct = a->quota_storage_used_kb * 100 / a->quota_storage_limit_kb;
        struct ms_answer_value *q =
            answer(f, v->p, MS_ANSWER_YES, "%s of %s (%lld%%)", used, limit, pct);
        number(q, a->quota_storage_used_kb, MS_UNIT_KIB);
        q->limit_kib = a->quota_storage_limit_kb;
        q->percent = (int)(pct > 100000 ? 100000 : pct);
        ms_assess_put(ev, evc, "GETQUOTAROOT INBOX: root \"%s\", STORAGE %lld of %lld KB",
                      a->quota_root, a->quota_storage_used_kb, a->quota_storage_limit_kb);
    } else {
        number(answer(f, v->p, MS_ANSWER_YES, "%s used, no limit", used), a->quota_storage_used_kb,
               MS_UNIT_KIB);
        ms_assess_put(ev, evc, "GETQUOTAROOT INBOX: root \"%s\", STORAGE %lld KB, no limit",
                      a->quota_root, a->quota_storage_used_kb);
    }
}

/* Sending: yes only when sign-in worked on a secure endpoint (no mail is sent: signing in is
 * the proof); no when no endpoint is secure or the account may not send. */
static void f_can_send(const struct ms_assess_ctx *c, const struct ms_assessment *a,
                       const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *rec = ms_assess_recommended(c->r, a, v->p);
    char words[400] = "";
    if (v->au)
        sign_in_words(v->au, words, sizeof words);
    if (v->outcome == MS_AUTH_OK && v->au && ms_assess_endpoint_secure(v->au)) {
        answer(f, v->p, MS_ANSWER_YES, "yes");
        ms_assess_put(ev, evc, "signed in on %s (%s); no mail was sent", v->au->id,
                      v->au->auth.mechanism);
    } else if (v->outcome == MS_AUTH_PROTOCOL_DISABLED) {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "refused on %s: \"%s\"", v->au->id, words);
    } else if (!rec) {
        answer(f, v->p, MS_ANSWER_NO, "no");
        ms_assess_put(ev, evc, "%s",
                      a->not_recommended[v->p][0] ? a->not_recommended[v->p]
                                                  : "no submission server can be used securely");
    } else {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "%s:%u is ready; %s", rec->host, (unsigned)rec->port,
                      !c->r->credentials_given ? MS_NEEDS_SIGN_IN_NO_CREDENTIALS : v->needs);
    }
}

/* SMTP SIZE (RFC 1870): the largest message the server takes. */
static void f_max_size(const struct pview *v, struct ms_feature *f, char *ev, size_t evc)
{
    const struct ms_endpoint_result *ep = v->ep;
    const struct ms_strlist *caps = caps_best(ep);
    uint64_t limit = 0;
    int rc = caps ? ms_caps_smtp_size(caps, &limit) : 0;
    if (!caps) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "EHLO was not read");
    } else if (rc < 0) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "unknown");
        ms_assess_put(ev, evc, "\"%s\" on %u is not a size", ms_caps_smtp_find(caps, "SIZE"),
                      (unsigned)ep->port);
    } else if (rc == 0) {
        answer(f, v->p, MS_ANSWER_UNKNOWN, "not said");
        ms_assess_put(ev, evc,
                      "no SIZE in EHLO on %u: the limit shows only when a message is "
                      "refused",
                      (unsigned)ep->port);
    } else if (limit == 0) {
        answer(f, v->p, MS_ANSWER_YES, "no fixed limit");
        ms_assess_put(ev, evc, "SIZE without a number on %u", (unsigned)ep->port);
    } else {
        char size[32];
        long long kib = (long long)((limit + 1023) / 1024);
        ms_assess_fmt_kb(kib, size, sizeof size);
        number(answer(f, v->p, MS_ANSWER_YES, "%s", size), kib, MS_UNIT_KIB);
        ms_assess_put(ev, evc, "SIZE %llu on %u (attachments grow by a third when encoded)",
                      (unsigned long long)limit, (unsigned)ep->port);
    }
}

/* The endpoint whose facts answer for p: the one that tried to sign in, else the
 * recommended one, else the one that got furthest (capabilities read) and ranks best. */
static long summary_source(const struct ms_assess_ctx *c, const struct ms_assessment *a,
                           enum ms_protocol p, long auth_at)
{
    const struct ms_result *r = c->r;
    if (auth_at >= 0 && r->endpoints[auth_at].auth.attempted && caps_pre(&r->endpoints[auth_at]))
        return auth_at;
    if (a->recommended[p] >= 0)
        return a->recommended[p];
    long best = -1;
    for (size_t i = 0; i < r->endpoint_count; i++) {
        const struct ms_endpoint_result *ep = &r->endpoints[i];
        if (ep->protocol != p || !caps_pre(ep))
            continue;
        if (best < 0) {
            best = (long)i;
            continue;
        }
        bool si = ms_assess_endpoint_secure(ep),
             sb = ms_assess_endpoint_secure(&r->endpoints[best]);
        if ((si && !sb) ||
            (si == sb && ms_assess_rank_cmp(r, a->endpoint_status, i, (size_t)best) < 0))
            best = (long)i;
    }
    return best;
}

static void make_schedule(const struct ms_assess_ctx *c, struct ms_assessment *a, struct pview *v)
{
    const struct ms_result *r = c->r;
    struct ms_summary *s = &a->summary;
    bool usable[2];
    for (int p = 0; p < 2; p++)
        usable[p] = v[p].in_play && v[p].ep && a->recommended[p] >= 0 &&
                    (!r->credentials_given || v[p].outcome == MS_AUTH_OK);
    struct pview *im = &v[MS_PROTOCOL_IMAP], *po = &v[MS_PROTOCOL_POP3];
    bool push = usable[MS_PROTOCOL_IMAP] && has_cap(im->ep, caps_best(im->ep), "IDLE");
    bool after;
    long delay = po->ep ? pop3_login_delay(po, &after) : -1;
    bool per_user;
    long expire = po->in_play && po->ep ? pop3_expire(po, &after, &per_user) : -2;
    bool use_pop3 = false;
    struct pview *sub = &v[MS_PROTOCOL_SUBMISSION];

    if (!im->in_play && !po->in_play) {
        s->poll_interval_s = -1;
        s->schedule[0] = '\0';
    } else if (push) {
        s->poll_interval_s = 0;
        ms_assess_put(
            s->schedule, sizeof s->schedule,
            "Push: use IMAP with IDLE; new mail arrives at once, no polling needed (where IDLE "
            "is not used, check every %d minutes).",
            DEFAULT_POLL_S / 60);
    } else if (usable[MS_PROTOCOL_IMAP] &&
               (a->preferred != MS_PROTOCOL_POP3 || !usable[MS_PROTOCOL_POP3])) {
        s->poll_interval_s = DEFAULT_POLL_S;
        ms_assess_put(s->schedule, sizeof s->schedule,
                      "Poll: IMAP offers no IDLE (push) here; check for new mail every %d minutes.",
                      DEFAULT_POLL_S / 60);
    } else if (usable[MS_PROTOCOL_POP3]) {
        use_pop3 = true;
        long secs = delay > DEFAULT_POLL_S ? delay : DEFAULT_POLL_S;
        long minutes = (secs + 59) / 60;
        s->poll_interval_s = minutes * 60;
        ms_assess_put(s->schedule, sizeof s->schedule, "Poll: check POP3 every %ld minutes",
                      minutes);
        if (delay > DEFAULT_POLL_S)
            ms_assess_app(s->schedule, sizeof s->schedule,
                          " (the server allows one sign-in per %ld s: LOGIN-DELAY).", delay);
        else if (delay > 0)
            ms_assess_app(s->schedule, sizeof s->schedule,
                          " (LOGIN-DELAY %ld s; checking more often only adds load).", delay);
        else if (delay == 0)
            ms_assess_app(s->schedule, sizeof s->schedule,
                          " (no LOGIN-DELAY; checking more often only adds load).");
        else
            ms_assess_app(s->schedule, sizeof s->schedule,
                          " (the LOGIN-DELAY is not known%s; checking more often only adds load).",
                          r->credentials_given ? "" : " without sign-in");
    } else {
        bool refused = false;
        for (int p = 0; p < 2; p++)
            if (v[p].in_play && ms_auth_outcome_code(v[p].outcome) &&
                ms_assess_auth_severity(v[p].outcome) != MS_SEVERITY_INFO)
                refused = true;
        s->poll_interval_s = -1;
        ms_assess_put(s->schedule, sizeof s->schedule, "No schedule: %s.",
                      refused ? "signing in failed wherever it was tried (see the findings)"
                              : "no protocol can be used securely (see the findings)");
    }
    if (expire == 0)
        ms_assess_app(
            s->schedule, sizeof s->schedule,
            " Warning: the POP3 server deletes mail after download (EXPIRE 0): use IMAP, or do "
            "not rely on POP3 to keep copies on the server.");
    else if (use_pop3 && expire > 0)
        ms_assess_app(s->schedule, sizeof s->schedule,
                      " POP3 keeps downloaded mail for %ld days only (EXPIRE %ld).", expire,
                      expire);
    if (sub->in_play) {
        const struct ms_endpoint_result *rec = ms_assess_recommended(r, a, MS_PROTOCOL_SUBMISSION);
        const char *sp = s->schedule[0] ? " " : "";
        if (rec && (!r->credentials_given || sub->outcome == MS_AUTH_OK))
            ms_assess_app(s->schedule, sizeof s->schedule, "%sSend through %s:%u (%s)%s.", sp,
                          rec->host, (unsigned)rec->port, ms_phrase_security(rec->security),
                          r->credentials_given ? ", signed in" : "");
        else if (rec)
            ms_assess_app(s->schedule, sizeof s->schedule,
                          "%sSending: %s:%u is secure, but signing in failed (see the findings).",
                          sp, rec->host, (unsigned)rec->port);
        else
            ms_assess_app(s->schedule, sizeof s->schedule,
                          "%sSending: no submission server can be used securely (see the "
                          "findings).",
                          sp);
    }
    if (!s->schedule[0])
        ms_assess_put(s->schedule, sizeof s->schedule, "No schedule: nothing was checked.");
}

void ms_assess_make_summary(const struct ms_assess_ctx *c, struct ms_assessment *a)
{
    const struct ms_result *r = c->r;
    struct ms_summary *s = &a->summary;
    struct pview v[MS_PROTOCOL_COUNT];
    memset(v, 0, sizeof v);
    for (int k = 0; k < MS_PROTOCOL_COUNT; k++) {
        enum ms_protocol p = (enum ms_protocol)k;
        struct pview *pv = &v[p];
        enum ms_auth_hint hint;
        long at;
        pv->p = p;
        pv->in_play = r->want[p];
        for (size_t i = 0; i < r->endpoint_count; i++)
            if (r->endpoints[i].protocol == p)
                pv->in_play = true;
        pv->outcome = ms_assess_protocol_auth(r, p, &at, &hint);
        pv->au = at >= 0 ? &r->endpoints[at] : NULL;
        long src = pv->in_play ? summary_source(c, a, p, at) : -1;
        pv->ep = src >= 0 ? &r->endpoints[src] : NULL;
        pv->signed_in = pv->outcome == MS_AUTH_OK && src == at;
        pv->account = pv->signed_in && pv->ep->account.read;
        if (!r->credentials_given)
            ms_assess_put(pv->needs, sizeof pv->needs, "%s", MS_NEEDS_SIGN_IN_NO_CREDENTIALS);
        else if (pv->signed_in)
            ms_assess_put(pv->needs, sizeof pv->needs,
                          "signed in, but the account queries did not finish");
        else if (pv->outcome == MS_AUTH_NONE || pv->outcome == MS_AUTH_NOT_CHOSEN)
            ms_assess_put(pv->needs, sizeof pv->needs,
                          "needs sign-in (no %s endpoint got as far as sign-in)",
                          ms_assess_proto_upper(p));
        else
            ms_assess_put(pv->needs, sizeof pv->needs, "needs sign-in (%s)",
                          ms_assess_outcome_words(pv->outcome));
        s->in_play[p] = pv->in_play;
        s->source[p] = src;
        s->auth_endpoint[p] = at;
        s->auth[p] = pv->outcome;
        s->signed_in[p] = pv->outcome == MS_AUTH_OK ? at : -1;
    }

    for (int id = 0; id < MS_FEATURE_COUNT; id++) {
        struct ms_feature *f = &s->features[id];
        char ev[MS_PROTOCOL_COUNT][600];
        f->id = feature_text[id].id;
        f->question = feature_text[id].question;
        if (id == MS_FEATURE_PROTOCOL_ENABLED && v[MS_PROTOCOL_SUBMISSION].in_play)
            f->question = v[MS_PROTOCOL_IMAP].in_play || v[MS_PROTOCOL_POP3].in_play
                              ? "Are POP3/IMAP and sending (SMTP) enabled for this account?"
                              : "Is sending (SMTP) enabled for this account?";
        f->label = feature_text[id].label;
        f->evidence[0] = '\0';
        for (int k = 0; k < MS_PROTOCOL_COUNT; k++) {
            struct pview *pv = &v[k];
            enum ms_protocol p = pv->p;
            ev[p][0] = '\0';
            bool sending = p == MS_PROTOCOL_SUBMISSION;
            if (!pv->in_play || (sending && about_receiving(id)) ||
                (!sending && about_sending(id))) {
                answer(f, p, MS_ANSWER_NA, "n/a");
                continue;
            }
            if (id == MS_FEATURE_CAN_SEND) {
                f_can_send(c, a, pv, f, ev[p], sizeof ev[p]);
                continue;
            }
            /* questions that do not apply to POP3 */
            if (p == MS_PROTOCOL_POP3 && id == MS_FEATURE_SERVER_FOLDERS) {
                answer(f, p, MS_ANSWER_NO, "no");
                ms_assess_put(ev[p], sizeof ev[p], "POP3 reads only the inbox");
                continue;
            }
            if (p == MS_PROTOCOL_POP3 &&
                (id == MS_FEATURE_SENT_ITEMS_ON_SERVER || id == MS_FEATURE_SHARED_FOLDERS)) {
                answer(f, p, MS_ANSWER_NA, "n/a");
                ms_assess_put(ev[p], sizeof ev[p], "POP3 has no folders%s",
                              id == MS_FEATURE_SENT_ITEMS_ON_SERVER
                                  ? ": mail programs keep sent items on the computer"
                                  : "");
                continue;
            }
            if (id == MS_FEATURE_PROTOCOL_ENABLED) {
                if (!pv->au && !pv->ep && r->credentials_given) {
                    answer(f, p, MS_ANSWER_UNKNOWN, "unknown");
                    ms_assess_put(ev[p], sizeof ev[p], "no %s endpoint worked",
                                  ms_assess_proto_upper(p));
                } else {
                    f_protocol_enabled(c, pv, f, ev[p], sizeof ev[p]);
                }
                continue;
            }
            if (id == MS_FEATURE_SECURE_CONNECTION) {
                f_secure(c, a, pv, f, ev[p], sizeof ev[p]);
                continue;
            }
            if (!pv->ep) {
                answer(f, p, MS_ANSWER_UNKNOWN, "unknown");
                ms_assess_put(ev[p], sizeof ev[p], "no %s endpoint answered",
                              ms_assess_proto_upper(p));
                continue;
            }
            switch (id) {
            case MS_FEATURE_LEAVE_MAIL_ON_SERVER: f_leave_mail(pv, f, ev[p], sizeof ev[p]); break;
            case MS_FEATURE_SERVER_FOLDERS:
            case MS_FEATURE_SENT_ITEMS_ON_SERVER:
            case MS_FEATURE_SHARED_FOLDERS:
                f_folders(pv, (enum ms_feature_id)id, f, ev[p], sizeof ev[p]);
                break;
            case MS_FEATURE_HEADERS_ONLY_DOWNLOAD:
                f_headers_only(pv, f, ev[p], sizeof ev[p]);
                break;
            case MS_FEATURE_PUSH_MAIL: f_push(pv, f, ev[p], sizeof ev[p]); break;
            case MS_FEATURE_MIN_POLL_INTERVAL: f_poll(pv, f, ev[p], sizeof ev[p]); break;
            case MS_FEATURE_SIGN_IN_METHODS: f_sign_in(pv, f, ev[p], sizeof ev[p]); break;
            case MS_FEATURE_MAX_MESSAGE_SIZE: f_max_size(pv, f, ev[p], sizeof ev[p]); break;
            default: f_quota(pv, f, ev[p], sizeof ev[p]); break;
            }
        }
        for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
            if (ev[p][0])
                ms_assess_app(f->evidence, sizeof f->evidence, "%s%s: %s",
                              f->evidence[0] ? "; " : "",
                              ms_assess_proto_upper((enum ms_protocol)p), ev[p]);
        if (!f->evidence[0])
            ms_assess_put(f->evidence, sizeof f->evidence, "%s",
                          about_sending(id)     ? "sending (SMTP submission) was not checked"
                          : about_receiving(id) ? "receiving (IMAP, POP3) was not checked"
                                                : "no protocol was checked");
    }
    make_schedule(c, a, v);
}

bool ms_assess_feature_holds(const struct ms_assessment *a, const char *id)
{
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        const struct ms_feature *f = &a->summary.features[k];
        if (!f->id || strcmp(f->id, id) != 0)
            continue;
        for (int p = 0; p < MS_PROTOCOL_COUNT; p++)
            if (a->summary.in_play[p] && f->answers[p].answer == MS_ANSWER_YES)
                return true;
        return false;
    }
    return false;
}

size_t ms_summary_columns(const struct ms_summary *s, enum ms_protocol cols[MS_PROTOCOL_COUNT],
                          bool *any_source)
{
    size_t n = 0;
    *any_source = false;
    for (int p = 0; p < MS_PROTOCOL_COUNT; p++) {
        if (s->in_play[p])
            cols[n++] = (enum ms_protocol)p;
        if (s->source[p] >= 0)
            *any_source = true;
    }
    return n;
}
