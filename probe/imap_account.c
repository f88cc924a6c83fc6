#include "probe/imap_account.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe/error.h"
#include "probe/text.h"

static const char *const special_flags[] = {"\\All",  "\\Archive", "\\Drafts", "\\Flagged",
                                            "\\Junk", "\\Sent",    "\\Trash"};

static const struct ms_imap_value *item(const struct ms_imap_value *list, size_t i)
{
    return list && list->type == MS_IMAP_VALUE_LIST && i < list->count ? &list->items[i] : NULL;
}

static bool is_text(const struct ms_imap_value *v)
{
    return v && (v->type == MS_IMAP_VALUE_ATOM || v->type == MS_IMAP_VALUE_STRING);
}

/* "* LIST (\HasNoChildren \Sent) "/" Sent" */
static int take_list(const struct ms_imap_response *r, struct ms_account_facts *a)
{
    const struct ms_imap_value *flags = item(&r->data, 0), *name = item(&r->data, 2);
    if (!flags || flags->type != MS_IMAP_VALUE_LIST || !is_text(name))
        return 0;
    if (a->folder_count >= MS_MAX_FOLDERS) {
        a->folders_truncated = true;
        return 0;
    }
    if (a->folder_count % 32 == 0) {
        struct ms_folder *grown = realloc(a->folders, (a->folder_count + 32) * sizeof *grown);
        if (!grown)
            return MS_ENOMEM;
        a->folders = grown;
    }
    struct ms_folder *f = &a->folders[a->folder_count++];
    memset(f, 0, sizeof *f);
    ms_text_sanitize(f->name, sizeof f->name, name->str, name->len);
    size_t used = 0;
    for (size_t i = 0; i < flags->count; i++) {
        const struct ms_imap_value *flag = &flags->items[i];
        if (flag->type != MS_IMAP_VALUE_ATOM)
            continue;
        if (strcasecmp(flag->str, "\\Noselect") == 0 || strcasecmp(flag->str, "\\NonExistent") == 0)
            f->noselect = true;
        for (size_t k = 0; k < sizeof special_flags / sizeof special_flags[0]; k++) {
            size_t n = strlen(special_flags[k]);
            /* Some servers send "\sent": report the RFC 6154 spelling. */
            if (strcasecmp(flag->str, special_flags[k]) == 0 &&
                used + n + 2 <= sizeof f->special_use) {
                if (used)
                    f->special_use[used++] = ' ';
                memcpy(f->special_use + used, special_flags[k], n + 1);
                used += n;
            }
        }
    }
    return 0;
}

/* One NAMESPACE group: NIL or ((prefix delim [extensions])...). */
static int take_namespace_group(const struct ms_imap_value *group, struct ms_strlist *out)
{
    if (!group || group->type != MS_IMAP_VALUE_LIST)
        return 0;
    for (size_t i = 0; i < group->count; i++) {
        const struct ms_imap_value *prefix = item(&group->items[i], 0);
        if (!is_text(prefix))
            continue;
        char clean[200];
        size_t n = ms_text_sanitize(clean, sizeof clean, prefix->str, prefix->len);
        if (ms_strlist_append(out, clean, n, 32) < 0)
            return MS_ENOMEM;
    }
    return 0;
}

static int take_namespace(const struct ms_imap_response *r, struct ms_account_facts *a)
{
    a->namespace_read = true;
    int rc = take_namespace_group(item(&r->data, 0), &a->ns_personal);
    if (rc == 0)
        rc = take_namespace_group(item(&r->data, 1), &a->ns_other_users);
    if (rc == 0)
        rc = take_namespace_group(item(&r->data, 2), &a->ns_shared);
    return rc;
}

static long long number_of(const struct ms_imap_value *v)
{
    if (!v || v->type != MS_IMAP_VALUE_ATOM || v->len == 0 || v->len > 18)
        return -1;
    long long n = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->str[i] < '0' || v->str[i] > '9')
            return -1;
        n = n * 10 + (v->str[i] - '0');
    }
    return n;
}

/* "* STATUS INBOX (MESSAGES 3 UNSEEN 1)" */
static void take_status(const struct ms_imap_response *r, struct ms_account_facts *a)
{
    const struct ms_imap_value *name = item(&r->data, 0), *attrs = item(&r->data, 1);
    if (!is_text(name) || strcasecmp(name->str, "INBOX") != 0 || !attrs ||
        attrs->type != MS_IMAP_VALUE_LIST)
        return;
    for (size_t i = 0; i + 1 < attrs->count; i += 2) {
        long long n = number_of(&attrs->items[i + 1]);
        if (ms_imap_value_is(&attrs->items[i], "MESSAGES"))
            a->inbox_messages = (long)n;
        else if (ms_imap_value_is(&attrs->items[i], "UNSEEN"))
            a->inbox_unseen = (long)n;
    }
}

/* "* QUOTAROOT INBOX root" and "* QUOTA root (STORAGE used limit ...)" (RFC 9208: KiB) */
static void take_quota(const struct ms_imap_response *r, struct ms_account_facts *a)
{
    if (strcasecmp(r->keyword, "QUOTAROOT") == 0) {
        const struct ms_imap_value *root = item(&r->data, 1);
        if (is_text(root))
            ms_text_sanitize(a->quota_root, sizeof a->quota_root, root->str, root->len);
        return;
    }
    const struct ms_imap_value *resources = item(&r->data, 1);
    if (!resources || resources->type != MS_IMAP_VALUE_LIST)
        return;
    for (size_t i = 0; i + 2 < resources->count; i += 3) {
        if (!ms_imap_value_is(&resources->items[i], "STORAGE"))
            continue;
        a->quota_read = true;
        a->quota_storage_used_kb = number_of(&resources->items[i + 1]);
        a->quota_storage_limit_kb = number_of(&resources->items[i + 2]);
    }
}

int ms_imap_account_take(const struct ms_imap_response *r, struct ms_account_facts *a)
{
    if (r->kind != MS_IMAP_UNTAGGED || !r->keyword)
        return 0;
    if (strcasecmp(r->keyword, "LIST") == 0)
        return take_list(r, a);
    if (strcasecmp(r->keyword, "NAMESPACE") == 0)
        return take_namespace(r, a);
    if (strcasecmp(r->keyword, "STATUS") == 0)
        take_status(r, a);
    else if (strcasecmp(r->keyword, "QUOTAROOT") == 0 || strcasecmp(r->keyword, "QUOTA") == 0)
        take_quota(r, a);
    return 0;
}

int ms_imap_quote(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    if (cap < 3)
        return MS_EINVAL;
    out[o++] = '"';
    for (const char *p = in; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\r' || c == '\n' || c == 0 || c >= 0x80)
            return MS_EINVAL; /* would need a literal; not worth it for a user name */
        if (o + 3 >= cap)
            return MS_EINVAL;
        if (c == '"' || c == '\\')
            out[o++] = '\\';
        out[o++] = (char)c;
    }
    out[o++] = '"';
    out[o] = '\0';
    return 0;
}
