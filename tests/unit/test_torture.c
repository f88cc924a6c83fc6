/* Allocation-failure torture (DESIGN.md convention 4, issue 12 section 4): every operation of
 * the pure libraries runs with its Nth allocation failing, for N = 1, 2, ... until it
 * succeeds, once with only the Nth failing (FA_ONLY) and once with every allocation from the
 * Nth on failing (FA_FROM). Each failed run must return the documented error and leave its
 * outputs empty or consistent as its header says; every run must free what it allocated
 * (failalloc.c counts live allocations; under ASan, LeakSanitizer checks at exit too); a
 * run that succeeds must give exactly what a run without failures gives.
 *
 * The allocator is replaced in this program only (tests/CMakeLists.txt: -Wl,--wrap=...). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
// clang-format on
#include <openssl/x509_vfy.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above first */
#include <cmocka.h>
#include <jansson.h>

#include "failalloc.h"
#include "fixture.h"
#include "probe/caps.h"
#include "probe/error.h"
#include "probe/imap_account.h"
#include "probe/imap_parse.h"
#include "probe/plan.h"
#include "probe/pop3_parse.h"
#include "probe/sasl.h"
#include "probe/strlist.h"
#include "probe/text.h"
#include "report/assess.h"
#include "report/json.h"
#include "report/nagios.h"
#include "report/prometheus.h"
#include "report/require.h"
#include "report/text.h"

/* ---- the driver ------------------------------------------------------------------------ */

/* One operation under torture. st is the caller's state, shared by the callbacks. */
struct op {
    void (*setup)(void *st);                      /* inputs and empty outputs; may be NULL */
    int (*run)(void *st);                         /* the operation: allocations may fail */
    void (*check)(void *st, int rc, bool failed); /* failed: an allocation failed in run */
    void (*teardown)(void *st);                   /* free outputs (and inputs); may be NULL */
};

#define MAX_N 200000 /* no operation here makes this many allocations */

/* What is running, for messages. */
static struct {
    const char *name;
    unsigned long n; /* 0: the run without failures */
    enum fa_mode mode;
} now;

/* Fail the test, naming the operation, N and the mode. */
static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_msg("%s, N=%lu%s: %s", now.name, now.n,
             now.n == 0            ? " (no failure)"
             : now.mode == FA_ONLY ? " (only)"
                                   : " (and later)",
             msg);
}

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            failf(__VA_ARGS__);                                                                    \
    } while (0)

static void expect_rc(int rc, int want)
{
    EXPECT(rc == want, "returned %d (%s), expected %d (%s)", rc, ms_strerror(rc), want,
           ms_strerror(want));
}

/* got must equal want; else fail showing the first line that differs. */
static void expect_same(const char *got, const char *want, const char *what)
{
    if (strcmp(got, want) == 0)
        return;
    size_t line = 1, start = 0;
    for (size_t i = 0; got[i] == want[i]; i++)
        if (got[i] == '\n') {
            line++;
            start = i + 1;
        }
    int glen = (int)strcspn(got + start, "\n"), wlen = (int)strcspn(want + start, "\n");
    failf("%s differs from the run without failures at line %zu:\n  got:      %.*s\n"
          "  expected: %.*s",
          what, line, glen > 400 ? 400 : glen, got + start, wlen > 400 ? 400 : wlen, want + start);
}

/* "what(input)" as a printable name, the input cut to 50 bytes. */
static void input_name(char *name, size_t cap, const char *what, const char *in, size_t len)
{
    char clean[64];
    ms_text_sanitize(clean, sizeof clean, in, len < 50 ? len : 50);
    snprintf(name, cap, "%s(%s)", what, clean);
}

/* What a run without failures gave: the first one stores it, every later successful run must
 * give the same (rc, bytes consumed, the output as text). */
struct ref {
    bool set;
    int rc;
    size_t consumed;
    char *text; /* free() when done */
};

/* Compare a successful run's rc, consumed and text (taken: freed here or kept) with ref. */
static void expect_ref(struct ref *ref, int rc, size_t consumed, char *text, const char *what)
{
    if (!ref->set) {
        *ref = (struct ref){true, rc, consumed, text};
        return;
    }
    expect_rc(rc, ref->rc);
    EXPECT(consumed == ref->consumed, "consumed %zu, expected %zu", consumed, ref->consumed);
    expect_same(text, ref->text, what);
    free(text);
}

static void one_run(const struct op *op, void *st, unsigned long n, enum fa_mode mode, bool *fired,
                    unsigned long *calls, bool first)
{
    size_t before = fa_live();
    now.n = n;
    now.mode = mode;
    if (op->setup)
        op->setup(st);
    fa_arm(n, mode);
    int rc = op->run(st);
    *calls = fa_disarm();
    *fired = fa_fired();
    op->check(st, rc, *fired);
    if (op->teardown)
        op->teardown(st);
    EXPECT(first || fa_live() == before, "%zu allocation(s) left behind", fa_live() - before);
}

/* Run op without failures, then with the Nth allocation failing for N = 1, 2, ... until it
 * succeeds, in both modes (so the last run of each mode is a whole run without failures,
 * held to the leak check too). Returns how many allocations a run without failures makes. */
static unsigned long torture(const char *name, const struct op *op, void *st)
{
    bool fired;
    unsigned long total, calls;
    now.name = name;
    one_run(op, st, 0, FA_ONLY, &fired, &total, true);
    const enum fa_mode modes[] = {FA_FROM, FA_ONLY};
    for (size_t m = 0; m < 2; m++) {
        for (unsigned long n = 1;; n++) {
            EXPECT(n <= MAX_N, "never succeeds");
            one_run(op, st, n, modes[m], &fired, &calls, false);
            if (!fired) {
                EXPECT(n == total + 1 && calls == total,
                       "succeeded after %lu allocations; the run without failures made %lu", calls,
                       total);
                break;
            }
            EXPECT(calls >= n, "failed an allocation it did not make");
        }
    }
    print_message("  %-72s %5lu allocations\n", name, total);
    now.name = NULL;
    return total;
}

/* ---- describing outputs (open_memstream: libc allocates, not counted) ------------------- */

struct mem {
    FILE *f;
    char *buf;
    size_t len;
};

static FILE *mem_open(struct mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    return m->f;
}

/* Close the stream; the text is the caller's (free()). */
static char *mem_close(struct mem *m)
{
    assert_int_equal(fclose(m->f), 0);
    m->f = NULL;
    char *s = m->buf;
    m->buf = NULL;
    return s;
}

static void put_bytes(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
    fputc('"', f);
}

static void put_str(FILE *f, const char *s)
{
    if (s)
        put_bytes(f, s, strlen(s));
    else
        fputs("NULL", f);
}

static void put_strlist(FILE *f, const struct ms_strlist *l)
{
    fprintf(f, "[%zu%s:", l->count, l->truncated ? " truncated" : "");
    for (size_t i = 0; i < l->count; i++) {
        fputc(' ', f);
        put_str(f, l->items[i]);
    }
    fputc(']', f);
}

/* A list is consistent and holds a prefix of want's items (what was appended before an
 * allocation failed), with `truncated` only when want has it and every item made it. */
static void expect_strlist_prefix(const struct ms_strlist *got, const struct ms_strlist *want)
{
    EXPECT(got->count <= got->cap && got->count <= want->count,
           "list of %zu items (%zu slots) after failure; %zu expected at most", got->count,
           got->cap, want->count);
    EXPECT(got->count == 0 || got->items, "items NULL with %zu items", got->count);
    for (size_t i = 0; i < got->count; i++)
        EXPECT(got->items[i] && strcmp(got->items[i], want->items[i]) == 0,
               "item %zu is \"%s\", expected \"%s\"", i, got->items[i] ? got->items[i] : "(null)",
               want->items[i]);
    EXPECT(!got->truncated || (want->truncated && got->count == want->count),
           "truncated set on a list cut by a failure");
}

/* ---- the shim itself: a torture that cannot fail proves nothing -------------------------- */

static void test_failalloc(void **state)
{
    (void)state;
    size_t live = fa_live();
    fa_arm(2, FA_ONLY);
    char *a = malloc(8), *b = malloc(8), *c = strdup("c");
    assert_true(fa_fired());
    assert_int_equal(fa_disarm(), 3);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c); /* FA_ONLY: the one after succeeds */
    assert_int_equal(fa_live(), live + 2);
    a[7] = 'x';

    fa_arm(1, FA_FROM);
    void *d = realloc(a, 64), *e = calloc(2, 8);
    if (d) /* never: but GCC's -Wuse-after-free cannot know that a survives */
        a = d;
    json_t *o = json_object(); /* jansson goes through the shim too */
    assert_int_equal(fa_disarm(), 3);
    assert_null(d);
    assert_null(e);
    assert_null(o);
    free(a); /* a is still valid after the failed realloc */
    free(c);
    assert_int_equal(fa_live(), live);

    fa_arm(0, FA_ONLY); /* counting only */
    o = json_object();
    assert_non_null(o);
    assert_false(fa_fired());
    assert_true(fa_disarm() >= 1);
    assert_true(fa_live() > live);
    json_decref(o);
    assert_int_equal(fa_live(), live);
}

/* ---- probe/strlist.c -------------------------------------------------------------------- */

struct strlist_st {
    struct ms_strlist list, want;
    bool have_want;
};

static int strlist_run(void *arg)
{
    struct strlist_st *st = arg;
    char item[32];
    for (int i = 0; i < 40; i++) { /* past the 8 and 16 slots, into the limit of 32 */
        int n = snprintf(item, sizeof item, "item-%d", i);
        int rc = ms_strlist_append(&st->list, item, (size_t)n, 32);
        if (rc)
            return rc;
    }
    return 0;
}

static void strlist_check(void *arg, int rc, bool failed)
{
    struct strlist_st *st = arg;
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        expect_strlist_prefix(&st->list, &st->want);
        return;
    }
    expect_rc(rc, 0);
    EXPECT(st->list.count == 32 && st->list.truncated, "32 items and truncated expected");
    EXPECT(ms_strlist_has(&st->list, "ITEM-31") && !ms_strlist_has(&st->list, "item-32"),
           "ms_strlist_has");
    EXPECT(ms_strlist_find_prefix(&st->list, "item-3") == st->list.items[3], "find_prefix");
    if (!st->have_want) {
        st->want = st->list;
        st->list = (struct ms_strlist){0}; /* transferred: the reference */
        st->have_want = true;
    }
}

static void strlist_teardown(void *arg)
{
    struct strlist_st *st = arg;
    ms_strlist_free(&st->list);
}

static void test_strlist(void **state)
{
    (void)state;
    struct strlist_st st = {0};
    const struct op op = {NULL, strlist_run, strlist_check, strlist_teardown};
    assert_true(torture("ms_strlist_append x40", &op, &st) >= 4);
    ms_strlist_free(&st.want);
}

/* ---- probe/text.c and the other functions that must not allocate ------------------------- */

static int no_alloc_run(void *arg)
{
    char out[64], *text = arg;
    static const char raw[] = "caf\xc3\xa9 \x01\x7f tab\there and a long tail that will be cut";
    size_t n = ms_text_sanitize(out, sizeof out, raw, sizeof raw - 1);
    n += ms_text_sanitize(out, 4, raw, sizeof raw - 1);
    n += ms_text_sanitize(out, 1, raw, 3);
    ms_sasl_describe_challenge("eyJzdGF0dXMiOiI0MDEifQ==", 24, out, sizeof out);
    n += strlen(out);
    ms_sasl_describe_challenge("not base64 \x02", 12, out, sizeof out);
    n += strlen(out);
    char quoted[64];
    n += (size_t)ms_imap_quote("My \"Folder\"", quoted, sizeof quoted);
    snprintf(text, 256, "%zu %s %s", n, out, quoted);
    return 0;
}

static void no_alloc_check(void *arg, int rc, bool failed)
{
    (void)arg;
    EXPECT(!failed, "allocated");
    expect_rc(rc, 0);
}

static void test_text_no_alloc(void **state)
{
    (void)state;
    char text[256];
    const struct op op = {NULL, no_alloc_run, no_alloc_check, NULL};
    assert_int_equal(torture("ms_text_sanitize, ms_sasl_describe_challenge", &op, text), 0);
    assert_non_null(strstr(text, " not base64 \\x02 \"My \\\"Folder\\\"\""));
}

/* ---- probe/imap_parse.c ------------------------------------------------------------------ */

static void put_imap_value(FILE *f, const struct ms_imap_value *v)
{
    switch (v->type) {
    case MS_IMAP_VALUE_ATOM:
        fputs("atom:", f);
        put_bytes(f, v->str, v->len);
        break;
    case MS_IMAP_VALUE_STRING:
        fputs("string:", f);
        put_bytes(f, v->str, v->len);
        break;
    case MS_IMAP_VALUE_NIL: fputs("NIL", f); break;
    case MS_IMAP_VALUE_LIST:
        fputc('(', f);
        for (size_t i = 0; i < v->count; i++) {
            if (i)
                fputc(' ', f);
            put_imap_value(f, &v->items[i]);
        }
        fputc(')', f);
        break;
    }
}

static void put_imap(FILE *f, const struct ms_imap_response *r)
{
    fprintf(f, "kind=%d tag=%s status=%d code=", (int)r->kind, r->tag, (int)r->status);
    put_str(f, r->code);
    fputs(" args=", f);
    put_imap_value(f, &r->code_args);
    fputs(" text=", f);
    put_str(f, r->text);
    fprintf(f, " number=%d:%u keyword=", r->has_number, r->number);
    put_str(f, r->keyword);
    fputs(" data=", f);
    put_imap_value(f, &r->data);
}

static bool imap_value_empty(const struct ms_imap_value *v)
{
    return !v->str && !v->len && !v->items && !v->count;
}

struct imap_st {
    const char *in;
    size_t len;
    struct ms_imap_response out;
    size_t consumed;
    struct ref ref; /* put_imap() of the response without failures */
};

static int imap_run(void *arg)
{
    struct imap_st *st = arg;
    return ms_imap_parse(st->in, st->len, &st->out, &st->consumed);
}

static void imap_check(void *arg, int rc, bool failed)
{
    struct imap_st *st = arg;
    const struct ms_imap_response *r = &st->out;
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        EXPECT(st->consumed == 0, "consumed %zu", st->consumed);
        EXPECT(!r->code && !r->text && !r->keyword && imap_value_empty(&r->code_args) &&
                   imap_value_empty(&r->data) && !r->tag[0],
               "the response is not empty after MS_ENOMEM");
        return;
    }
    struct mem m;
    put_imap(mem_open(&m), r);
    expect_ref(&st->ref, rc, st->consumed, mem_close(&m), "the response");
}

static void imap_teardown(void *arg)
{
    struct imap_st *st = arg;
    ms_imap_response_free(&st->out);
}

/* Responses a real server sends, and the parser's harder paths (literals, nesting, codes
 * that fall back to raw words or to text). */
static const char *const imap_inputs[] = {
    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
    "AUTH=PLAIN] Dovecot ready.\r\n",
    "* CAPABILITY IMAP4rev1 IDLE NAMESPACE QUOTA SPECIAL-USE LIST-EXTENDED AUTH=PLAIN AUTH=LOGIN "
    "AUTH=XOAUTH2 AUTH=OAUTHBEARER X1 X2 X3 X4 X5 X6 X7 X8 X9 X10\r\n",
    "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent \\\"Items\\\"\"\r\n",
    "* LIST (\\Noselect \\HasChildren) \"/\" {6}\r\nPublic\r\n",
    "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Public/\" \"/\" \"X-PARAM\" (\"a\" "
    "\"b\")))\r\n",
    "* STATUS INBOX (MESSAGES 3 UNSEEN 1)\r\n",
    "* QUOTAROOT INBOX \"User quota\"\r\n",
    "* QUOTA \"User quota\" (STORAGE 2048 10240 MESSAGE 5 1000)\r\n",
    "* 3 EXISTS\r\n",
    "* 1 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM)] ~{13}\r\nFrom: a@b\r\n\r\n NIL)\n",
    "a1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
    "a2 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n",
    "+ eyJzdGF0dXMiOiI0MDEifQ==\r\n",
    "+\r\n",
    "* OK [XFOO \"unbalanced] text\r\n",
    "* OK [BADCHARSET (UTF-8] x\r\n",
    "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
    "* BYE [ALERT] going down\r\n",
    "* PREAUTH [CAPABILITY IMAP4rev1] logged in as admin\r\n",
    "* OK [unclosed code\r\n",
#define IMAP_COMPLETE 20 /* the inputs above are whole responses; those below are not */
    /* No complete response, or not IMAP: nothing may be allocated. */
    "* OK [CAPABILITY IMAP4rev1",
    "* LIST (\\Noselect) \"/\" {6}\r\nPub",
    "HTTP/1.1 400 Bad Request\r\n",
    "* OK \0nul\r\n",
};

static void test_imap_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof imap_inputs / sizeof imap_inputs[0]; i++) {
        struct imap_st st = {.in = imap_inputs[i], .len = strlen(imap_inputs[i])};
        if (i == sizeof imap_inputs / sizeof imap_inputs[0] - 1)
            st.len = 11; /* the NUL and what follows */
        char name[160];
        input_name(name, sizeof name, "ms_imap_parse", st.in, st.len);
        const struct op op = {NULL, imap_run, imap_check, imap_teardown};
        unsigned long n = torture(name, &op, &st);
        if (i < IMAP_COMPLETE) {
            assert_int_equal(st.ref.rc, 1);
            assert_true(n > 0);
        } else {
            assert_true(st.ref.rc < 0);
            assert_int_equal(n, 0); /* no complete response: nothing allocated */
        }
        free(st.ref.text);
    }
}

/* ---- probe/pop3_parse.c ------------------------------------------------------------------ */

static void put_pop3(FILE *f, const struct ms_pop3_response *r)
{
    fprintf(f, "status=%d code=", (int)r->status);
    put_str(f, r->code);
    fputs(" text=", f);
    put_str(f, r->text);
    fprintf(f, " lines=%zu%s", r->line_count, r->lines ? "" : " NULL");
    for (size_t i = 0; i < r->line_count; i++) {
        fputc(' ', f);
        put_str(f, r->lines[i]);
    }
}

struct pop3_st {
    const char *in;
    bool multiline;
    struct ms_pop3_response out;
    size_t consumed;
    struct ref ref;
};

static int pop3_run(void *arg)
{
    struct pop3_st *st = arg;
    return ms_pop3_parse(st->in, strlen(st->in), st->multiline, &st->out, &st->consumed);
}

static void pop3_check(void *arg, int rc, bool failed)
{
    struct pop3_st *st = arg;
    const struct ms_pop3_response *r = &st->out;
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        EXPECT(st->consumed == 0, "consumed %zu", st->consumed);
        EXPECT(!r->code && !r->text && !r->lines && !r->line_count,
               "the response is not empty after MS_ENOMEM");
        return;
    }
    struct mem m;
    put_pop3(mem_open(&m), r);
    expect_ref(&st->ref, rc, st->consumed, mem_close(&m), "the response");
}

static void pop3_teardown(void *arg)
{
    struct pop3_st *st = arg;
    ms_pop3_response_free(&st->out);
}

static const struct {
    const char *in;
    bool multiline;
} pop3_inputs[] = {
    {"+OK Dovecot ready.\r\n", false},
    {"-ERR [AUTH] Authentication failed.\r\n", false},
    {"-ERR [SYS/TEMP] try later\r\n", true},
    {"+ \r\n", false},
    {"+ dXNlcg==\r\n", false},
    {"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSASL PLAIN "
     "LOGIN\r\nEXPIRE NEVER\r\nLOGIN-DELAY 600\r\n..stuffed\r\nUSER\r\n.\r\n",
     true},
    {"+OK 2 messages\n1 120\n2 200\n.\n", true},
    {"+OK\r\n.\r\n", true},
#define POP3_COMPLETE 8 /* whole responses above, none below */
    /* incomplete, or not POP3: nothing allocated */
    {"+OK\r\nCAPA\r\n", true},
    {"* OK IMAP4rev1\r\n", false},
};

static void test_pop3_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pop3_inputs / sizeof pop3_inputs[0]; i++) {
        struct pop3_st st = {.in = pop3_inputs[i].in, .multiline = pop3_inputs[i].multiline};
        char name[160];
        input_name(name, sizeof name, "ms_pop3_parse", st.in, strlen(st.in));
        const struct op op = {NULL, pop3_run, pop3_check, pop3_teardown};
        unsigned long n = torture(name, &op, &st);
        if (i < POP3_COMPLETE) {
            assert_int_equal(st.ref.rc, 1);
            assert_true(n > 0);
        } else {
            assert_true(st.ref.rc < 0);
            assert_int_equal(n, 0);
        }
        free(st.ref.text);
    }
}

/* ---- probe/caps.c ------------------------------------------------------------------------- */

struct caps_st {
    const char *in;
    bool pop3;
    struct ms_imap_response imap;
    struct ms_pop3_response resp;
    struct ms_strlist list, want;
    int want_rc;
    bool have_want;
};

static void caps_setup(void *arg)
{
    struct caps_st *st = arg;
    size_t used;
    if (st->pop3)
        assert_int_equal(ms_pop3_parse(st->in, strlen(st->in), true, &st->resp, &used), 1);
    else
        assert_int_equal(ms_imap_parse(st->in, strlen(st->in), &st->imap, &used), 1);
    /* The list already holds capabilities (as after a greeting): appends grow it. */
    static const char *const before[] = {"A1", "A2", "A3", "A4", "A5", "A6", "A7", NULL};
    fx_add_strs(&st->list, before);
}

static int caps_run(void *arg)
{
    struct caps_st *st = arg;
    return st->pop3 ? ms_caps_from_pop3(&st->resp, &st->list)
                    : ms_caps_from_imap(&st->imap, &st->list);
}

static void caps_check(void *arg, int rc, bool failed)
{
    struct caps_st *st = arg;
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        expect_strlist_prefix(&st->list, &st->want);
        return;
    }
    if (!st->have_want) {
        st->want_rc = rc;
        st->want = st->list;
        st->list = (struct ms_strlist){0}; /* transferred: the reference */
        st->have_want = true;
        return;
    }
    expect_rc(rc, st->want_rc);
    struct mem m1, m2;
    put_strlist(mem_open(&m1), &st->list);
    put_strlist(mem_open(&m2), &st->want);
    char *got = mem_close(&m1), *want = mem_close(&m2);
    expect_same(got, want, "the capabilities");
    free(got);
    free(want);
}

static void caps_teardown(void *arg)
{
    struct caps_st *st = arg;
    ms_imap_response_free(&st->imap);
    ms_pop3_response_free(&st->resp);
    ms_strlist_free(&st->list);
}

static void test_caps(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool pop3;
    } inputs[] = {
        {"* OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Hi\r\n",
         false},
        {"* CAPABILITY IMAP4rev1 IDLE NAMESPACE QUOTA SPECIAL-USE X\x01Y \"quoted\" AUTH=PLAIN "
         "AUTH=LOGIN AUTH=XOAUTH2 X1 X2 X3 X4 X5 X6 X7 X8 X9 X10 X11 X12\r\n",
         false},
        {"a2 OK [CAPABILITY IMAP4rev1 IDLE NAMESPACE] Logged in\r\n", false},
        {"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSASL PLAIN "
         "LOGIN\r\nEXPIRE NEVER\r\nLOGIN-DELAY 600\r\nUSER\r\n\r\nX-\x02\r\n.\r\n",
         true},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        struct caps_st st = {.in = inputs[i].in, .pop3 = inputs[i].pop3};
        char name[160];
        input_name(name, sizeof name, st.pop3 ? "ms_caps_from_pop3" : "ms_caps_from_imap", st.in,
                   strlen(st.in));
        const struct op op = {caps_setup, caps_run, caps_check, caps_teardown};
        assert_true(torture(name, &op, &st) > 0);
        if (st.pop3)
            assert_non_null(ms_caps_pop3_find(&st.want, "login-delay"));
        ms_strlist_free(&st.want);
    }
}

/* ---- probe/imap_account.c ----------------------------------------------------------------- */

static void put_account(FILE *f, const struct ms_account_facts *a)
{
    fprintf(f, "folders=%zu%s", a->folder_count, a->folders_truncated ? " truncated" : "");
    for (size_t i = 0; i < a->folder_count; i++)
        fprintf(f, " [%s|%s|%d]", a->folders[i].name, a->folders[i].special_use,
                a->folders[i].noselect);
    fprintf(f, " ns=%d ", a->namespace_read);
    put_strlist(f, &a->ns_personal);
    put_strlist(f, &a->ns_other_users);
    put_strlist(f, &a->ns_shared);
    fprintf(f, " inbox=%ld/%ld quota=%d %lld/%lld root=%s", a->inbox_messages, a->inbox_unseen,
            a->quota_read, a->quota_storage_used_kb, a->quota_storage_limit_kb, a->quota_root);
}

struct account_st {
    struct ms_imap_response *responses;
    size_t count;
    struct ms_account_facts account;
    struct ref ref;
};

static int account_run(void *arg)
{
    struct account_st *st = arg;
    for (size_t i = 0; i < st->count; i++) {
        int rc = ms_imap_account_take(&st->responses[i], &st->account);
        if (rc)
            return rc;
    }
    return 0;
}

static void account_free(struct ms_account_facts *a)
{
    free(a->folders);
    ms_strlist_free(&a->ns_personal);
    ms_strlist_free(&a->ns_other_users);
    ms_strlist_free(&a->ns_shared);
    memset(a, 0, sizeof *a);
    fx_account_unknown(a);
}

static void account_check(void *arg, int rc, bool failed)
{
    struct account_st *st = arg;
    const struct ms_account_facts *a = &st->account;
    if (failed) {
        /* What was taken before the failure stays, consistent and freeable. */
        expect_rc(rc, MS_ENOMEM);
        EXPECT(a->folder_count <= MS_MAX_FOLDERS && (a->folder_count == 0 || a->folders),
               "folders inconsistent");
        return;
    }
    expect_rc(rc, 0);
    struct mem m;
    put_account(mem_open(&m), a);
    expect_ref(&st->ref, rc, 0, mem_close(&m), "the account facts");
}

static void account_teardown(void *arg)
{
    struct account_st *st = arg;
    account_free(&st->account);
}

static void test_imap_account(void **state)
{
    (void)state;
    static const char *const lines[] = {
        "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Public/\" \"/\") (\"Shared/\" "
        "\"/\"))\r\n",
        "* STATUS INBOX (MESSAGES 3 UNSEEN 1)\r\n",
        "* QUOTAROOT INBOX \"User quota\"\r\n",
        "* QUOTA \"User quota\" (STORAGE 2048 10240)\r\n",
        "* LIST (\\HasNoChildren) \"/\" INBOX\r\n",
        "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n",
        "* LIST (\\Noselect) \"/\" Public\r\n",
    };
    struct account_st st = {0};
    st.count = 40; /* past the 32 folders one allocation holds */
    st.responses = calloc(st.count, sizeof *st.responses);
    assert_non_null(st.responses);
    for (size_t i = 0; i < st.count; i++) {
        char buf[128];
        const char *line = lines[i < 7 ? i : 4 + i % 3];
        if (i >= 7) {
            snprintf(buf, sizeof buf, "* LIST (\\HasNoChildren) \"/\" \"Folder %zu\"\r\n", i);
            line = buf;
        }
        size_t used;
        assert_int_equal(ms_imap_parse(line, strlen(line), &st.responses[i], &used), 1);
    }
    fx_account_unknown(&st.account);
    const struct op op = {NULL, account_run, account_check, account_teardown};
    assert_true(torture("ms_imap_account_take", &op, &st) > 0);
    assert_non_null(strstr(st.ref.text, "folders=36"));
    free(st.ref.text);
    for (size_t i = 0; i < st.count; i++)
        ms_imap_response_free(&st.responses[i]);
    free(st.responses);
}

/* ---- probe/sasl.c ------------------------------------------------------------------------- */

struct sasl_st {
    int what; /* index into the cases of sasl_run */
    char *out;
    char *want;
    int want_rc;
    bool have_want;
};

static int sasl_run(void *arg)
{
    struct sasl_st *st = arg;
    static const unsigned char bytes[100] = {1, 2, 3, 250, 251, 252};
    switch (st->what) {
    case 0: return ms_base64_encode(bytes, 0, &st->out);
    case 1: return ms_base64_encode(bytes, 1, &st->out);
    case 2: return ms_base64_encode(bytes, 100, &st->out);
    case 3: return ms_sasl_initial_response(MS_SASL_PLAIN, "alice", "s3cret", NULL, 0, &st->out);
    case 4:
        return ms_sasl_initial_response(MS_SASL_XOAUTH2, "alice@example.com", "tok", NULL, 0,
                                        &st->out);
    case 5:
        return ms_sasl_initial_response(MS_SASL_OAUTHBEARER, "alice@example.com", "tok",
                                        "imap.example.com", 993, &st->out);
    case 6: return ms_sasl_login_reply(0, "alice", "s3cret", &st->out);
    case 7: return ms_sasl_login_reply(1, "alice", "s3cret", &st->out);
    /* refused inputs: no allocation needed to say so */
    case 8: return ms_sasl_login_reply(2, "alice", "s3cret", &st->out);
    case 9: return ms_sasl_initial_response(MS_SASL_OAUTHBEARER, "a,b", "tok", "h", 993, &st->out);
    case 10:
        return ms_sasl_initial_response(MS_SASL_PLAIN, "alice", "new\nline", NULL, 0, &st->out);
    case 11: return ms_sasl_initial_response(MS_SASL_LOGIN, "alice", "pw", NULL, 0, &st->out);
    }
    return -100;
}

#define SASL_CASES 12

static void sasl_check(void *arg, int rc, bool failed)
{
    struct sasl_st *st = arg;
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        EXPECT(!st->out, "*out is not NULL after MS_ENOMEM");
        return;
    }
    if (!st->have_want) {
        st->want_rc = rc;
        st->want = st->out ? strdup(st->out) : NULL;
        st->have_want = true;
    }
    expect_rc(rc, st->want_rc);
    EXPECT((rc == 0) == (st->out != NULL), "*out is %s with rc %d", st->out ? "set" : "NULL", rc);
    if (st->out)
        expect_same(st->out, st->want, "the message");
}

static void sasl_teardown(void *arg)
{
    struct sasl_st *st = arg;
    ms_sasl_free_secret(st->out);
    st->out = NULL;
}

static void test_sasl(void **state)
{
    (void)state;
    for (int i = 0; i < SASL_CASES; i++) {
        struct sasl_st st = {.what = i};
        char name[64];
        snprintf(name, sizeof name, "sasl case %d", i);
        const struct op op = {NULL, sasl_run, sasl_check, sasl_teardown};
        unsigned long n = torture(name, &op, &st);
        if (st.want_rc != 0)
            assert_int_equal(n, 0); /* refused before allocating */
        free(st.want);
    }
}

/* ---- probe/plan.c ------------------------------------------------------------------------- */

static void put_request(FILE *f, const struct ms_request *req)
{
    fprintf(f, "bare=%d imap=%d pop3=%d discover=%s/%s n=%zu", req->bare_host,
            req->want[MS_PROTOCOL_IMAP], req->want[MS_PROTOCOL_POP3], req->discover_domain,
            req->discover_user, req->endpoint_count);
    for (size_t i = 0; i < req->endpoint_count; i++) {
        const struct ms_endpoint_spec *e = &req->endpoints[i];
        fprintf(f, " [%d %d %s %u %d %d]", (int)e->protocol, (int)e->security, e->host,
                (unsigned)e->port, e->required, (int)e->source);
    }
}

struct plan_st {
    const char *const *targets;
    struct ms_request req;
    struct ms_error err;
    size_t added;      /* targets added */
    size_t want_count; /* endpoints of the whole run */
    struct ms_endpoint_spec want[64];
    struct ref ref;
};

static int plan_run(void *arg)
{
    struct plan_st *st = arg;
    struct ms_ports ports = ms_plan_default_ports();
    for (st->added = 0; st->targets[st->added]; st->added++) {
        struct ms_target t;
        int rc = ms_plan_parse_target(st->targets[st->added], &t, &st->err);
        if (rc == 0)
            rc = ms_plan_add(&st->req, &t, &ports, MS_WANT_RECEIVE, &st->err);
        if (rc)
            return rc;
    }
    return 0;
}

static void plan_check(void *arg, int rc, bool failed)
{
    struct plan_st *st = arg;
    const struct ms_request *req = &st->req;
    EXPECT(req->endpoint_count <= req->endpoint_capacity &&
               (req->endpoint_count == 0 || req->endpoints),
           "endpoint list inconsistent: %zu of %zu", req->endpoint_count, req->endpoint_capacity);
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        EXPECT(st->err.code == MS_ENOMEM && st->err.message[0], "err not filled: %d \"%s\"",
               st->err.code, st->err.message);
        /* The endpoints added before the failure are the first of the whole run's. */
        EXPECT(req->endpoint_count <= st->want_count, "too many endpoints");
        for (size_t i = 0; i < req->endpoint_count; i++) {
            const struct ms_endpoint_spec *e = &req->endpoints[i], *w = &st->want[i];
            EXPECT(e->protocol == w->protocol && e->security == w->security &&
                       strcmp(e->host, w->host) == 0 && e->port == w->port &&
                       e->required == w->required && e->source == w->source,
                   "endpoint %zu differs", i);
        }
        return;
    }
    expect_rc(rc, 0);
    struct mem m;
    put_request(mem_open(&m), req);
    if (!st->ref.set) {
        assert_true(req->endpoint_count <= 64);
        st->want_count = req->endpoint_count;
        for (size_t i = 0; i < req->endpoint_count; i++)
            st->want[i] = req->endpoints[i];
    }
    expect_ref(&st->ref, rc, 0, mem_close(&m), "the request");
}

static void plan_teardown(void *arg)
{
    struct plan_st *st = arg;
    ms_request_release(&st->req);
    memset(&st->req, 0, sizeof st->req);
    st->err = (struct ms_error){0};
}

struct copy_st {
    struct ms_request src, dst;
    char *want;
};

static int copy_run(void *arg)
{
    struct copy_st *st = arg;
    return ms_request_copy(&st->dst, &st->src);
}

static void copy_check(void *arg, int rc, bool failed)
{
    struct copy_st *st = arg;
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        EXPECT(!st->dst.endpoints && !st->dst.endpoint_count && !st->dst.endpoint_capacity,
               "the copy holds endpoints after MS_ENOMEM");
        return;
    }
    expect_rc(rc, 0);
    EXPECT(st->dst.endpoints != st->src.endpoints, "the copy shares the endpoints");
    struct mem m;
    put_request(mem_open(&m), &st->dst);
    char *got = mem_close(&m);
    expect_same(got, st->want, "the copy");
    free(got);
}

static void copy_teardown(void *arg)
{
    struct copy_st *st = arg;
    ms_request_release(&st->dst);
}

static void test_plan(void **state)
{
    (void)state;
    /* 1, 2, 6 and then 14 endpoints: the list grows from 4 to 8 to 16 slots. */
    static const char *const many[] = {"imaps://a.example.com",
                                       "pop3://b.example.com:1110",
                                       "c.example.com",
                                       "[2001:db8::1]",
                                       "d.example.com",
                                       "imaps://A.example.com/",
                                       NULL};
    static const char *const discovery[] = {"alice@example.com", NULL};
    static const char *const bad[] = {"imaps://a.example.com", "ftp://x", NULL};
    const char *const *runs[] = {many, discovery, bad};
    for (size_t k = 0; k < 3; k++) {
        struct plan_st st = {.targets = runs[k]};
        const struct op op = {NULL, plan_run, plan_check, plan_teardown};
        if (k == 2) {
            /* A refused target is MS_EINVAL, however memory stands: check it by hand. */
            fa_arm(0, FA_ONLY);
            assert_int_equal(plan_run(&st), MS_EINVAL);
            assert_int_equal(fa_disarm(), 1); /* the first URL's endpoint */
            plan_teardown(&st);
            continue;
        }
        unsigned long n =
            torture(k == 0 ? "ms_plan_add (six targets)" : "ms_plan_add (discovery)", &op, &st);
        if (k == 0) {
            assert_int_equal(n, 3);
            assert_int_equal(st.want_count, 14);
        } else {
            assert_int_equal(n, 0); /* discovery: the engine finds the endpoints */
        }
        free(st.ref.text);
    }

    struct copy_st cp = {0};
    struct plan_st st = {.targets = many};
    assert_int_equal(plan_run(&st), 0);
    cp.src = st.req;
    struct mem m;
    put_request(mem_open(&m), &cp.src);
    cp.want = mem_close(&m);
    const struct op op = {NULL, copy_run, copy_check, copy_teardown};
    assert_int_equal(torture("ms_request_copy", &op, &cp), 1);
    free(cp.want);
    plan_teardown(&st);
}

/* ---- results for the assessor and the renderers ------------------------------------------ */

static void set_family(struct ms_family_check *fc, const char *address, enum ms_failure f)
{
    fc->tried = true;
    snprintf(fc->address, sizeof fc->address, "%s", address);
    fc->failure = f;
    fc->connect_ms = f == MS_FAILURE_NONE ? 4.25 : -1;
    snprintf(fc->message, sizeof fc->message, "%s", f == MS_FAILURE_NONE ? "" : "no route");
}

/* fx_signed_in(), with a fifth folder, a second shared namespace, a nearly full quota and
 * 993's IPv6 address unreachable. */
static void signed_in(struct ms_result *r)
{
    fx_bare_host(r, true);
    fx_signed_in(r);
    struct ms_account_facts *a = &r->endpoints[I993].account;
    fx_folder(a, "Trash", "\\Trash", false);
    fx_add_str(&a->ns_shared, "Shared/");
    a->quota_storage_used_kb = 9728;
    set_family(&r->endpoints[I993].ipv4, "192.0.2.10", MS_FAILURE_NONE);
    set_family(&r->endpoints[I993].ipv6, "2001:db8::10", MS_FAILURE_TCP_UNREACHABLE);
}

/* Many hosts, each with another problem: one finding of (nearly) every kind, more findings
 * than the assessor's first allocation holds. */
static void many_problems(struct ms_result *r)
{
    static const struct {
        enum ms_protocol p;
        enum ms_security s;
        uint16_t port;
    } eps[] = {
        {MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143},
        {MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993},
        {MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993},
        {MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993},
        {MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993},
        {MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143},
        {MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143},
        {MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS, 110},
        {MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995},
        {MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995},
        {MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995},
        {MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993},
        {MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143},
        {MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995},
        {MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993},
        {MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995},
        {MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993},
        {MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995},
        {MS_PROTOCOL_POP3, MS_SECURITY_STARTTLS, 110},
    };
    const size_t n = sizeof eps / sizeof eps[0];
    fx_result(r, n);
    snprintf(r->target, sizeof r->target, "h0.example.com h1.example.com and more");
    r->want[MS_PROTOCOL_IMAP] = r->want[MS_PROTOCOL_POP3] = true;
    r->duration_ms = 321.5;
    r->credentials_given = true;
    snprintf(r->user, sizeof r->user, "bob");
    for (size_t i = 0; i < n; i++) {
        struct ms_endpoint_result *ep = &r->endpoints[i];
        char host[64];
        fx_healthy_endpoint(ep, eps[i].p, eps[i].s, eps[i].port);
        snprintf(host, sizeof host, "h%zu.example.com", i);
        fx_set_host(ep, host);
        fx_set_san(ep, host);
        ep->timings_ms.total = 5.0 + 10.0 * (double)i; /* for the response-time thresholds */
    }
    struct ms_endpoint_result *ep = r->endpoints;
    /* 0: plaintext login before STARTTLS, ignored alerts, STARTTLS injection */
    static const char *const plain[] = {"IMAP4rev1", "STARTTLS", "AUTH=PLAIN", "AUTH=LOGIN", NULL};
    fx_set_strs(&ep[0].caps_before_tls, plain);
    ep[0].alerts_ignored_before_tls = 2;
    ep[0].injection.tested = ep[0].injection.vulnerable = true;
    snprintf(ep[0].injection.evidence, sizeof ep[0].injection.evidence, "a2 OK NOOP done");
    /* 1: expired; 2: another host's certificate; 3: self-signed */
    const int expired[] = {X509_V_ERR_CERT_HAS_EXPIRED};
    fx_bad_cert(&ep[1], expired, 1, "certificate has expired");
    ep[1].tls.cert.days_left = -3;
    ep[1].tls.cert.not_after_epoch = NOW - 3 * DAY;
    const int mismatch[] = {X509_V_ERR_HOSTNAME_MISMATCH};
    fx_bad_cert(&ep[2], mismatch, 1, "hostname mismatch");
    ep[2].tls.cert.hostname_match = false;
    fx_set_san(&ep[2], "other.example.net");
    const int self[] = {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, X509_V_ERR_HOSTNAME_MISMATCH};
    fx_bad_cert(&ep[3], self, 2, "self-signed certificate");
    ep[3].tls.cert.self_signed = true;
    ep[3].tls.cert.hostname_match = false;
    /* 4: TLS 1.0, a certificate that expires in 5 days, IPv6 unreachable */
    snprintf(ep[4].tls.version, sizeof ep[4].tls.version, "TLSv1");
    ep[4].tls.cert.days_left = 5;
    ep[4].tls.cert.not_after_epoch = NOW + 5 * DAY;
    set_family(&ep[4].ipv4, "192.0.2.10", MS_FAILURE_NONE);
    set_family(&ep[4].ipv6, "2001:db8::10", MS_FAILURE_TCP_UNREACHABLE);
    fx_fail_at(&ep[5], MS_FAILURE_STARTTLS_NOT_OFFERED, MS_PHASE_STARTTLS,
               "STARTTLS is not in the capabilities");
    fx_fail_at(&ep[6], MS_FAILURE_STARTTLS_INJECTED, MS_PHASE_STARTTLS,
               "12 bytes followed the STARTTLS answer before TLS");
    fx_fail_at(&ep[7], MS_FAILURE_STARTTLS_REFUSED, MS_PHASE_STARTTLS, "-ERR not now");
    fx_fail_at(&ep[8], MS_FAILURE_TCP_REFUSED, MS_PHASE_CONNECT, "connection refused");
    fx_fail_at(&ep[9], MS_FAILURE_DNS_NO_SUCH_HOST, MS_PHASE_RESOLVE, "no such host");
    fx_fail_at(&ep[10], MS_FAILURE_TLS_HANDSHAKE, MS_PHASE_TLS, "handshake failed");
    ms_strlist_free(&ep[10].tls.cert.san);
    memset(&ep[10].tls, 0, sizeof ep[10].tls);
    ep[10].tls.attempted = true;
    snprintf(ep[10].tls.handshake_error, sizeof ep[10].tls.handshake_error, "wrong version number");
    fx_fail_at(&ep[11], MS_FAILURE_PROTO_BYE, MS_PHASE_GREETING, "* BYE Too many connections");
    fx_fail_at(&ep[12], MS_FAILURE_PROTO_PREAUTH, MS_PHASE_GREETING, "* PREAUTH logged in");
    fx_fail_at(&ep[13], MS_FAILURE_PROTO_MALFORMED, MS_PHASE_CAPABILITY, "a line too long");
    fx_fail_at(&ep[14], MS_FAILURE_PROTO_TIMEOUT, MS_PHASE_GREETING, "no greeting in 10 s");
    fx_fail_at(&ep[15], MS_FAILURE_INTERNAL, MS_PHASE_CAPABILITY, "out of memory");
    /* 16, 17: sign-in refused (credentials; a temporary failure) */
    ep[16].auth.wanted = ep[16].auth.chosen = true;
    fx_answer_auth(&ep[16], "PLAIN", "NO", "AUTHENTICATIONFAILED",
                   "[AUTHENTICATIONFAILED] Authentication failed.");
    ep[17].auth.wanted = ep[17].auth.chosen = true;
    fx_answer_auth(&ep[17], "USER", "-ERR", "SYS/TEMP", "-ERR [SYS/TEMP] try again later");
    /* 18: a password, but the server offers OAuth2 only; closed at logout */
    fx_fail_at(&ep[18], MS_FAILURE_PROTO_CLOSED, MS_PHASE_LOGOUT, "closed at logout");
    ep[18].auth.wanted = ep[18].auth.chosen = true;
    fx_not_attempted(&ep[18], MS_AUTH_SKIP_OAUTH2_ONLY, "only OAuth2 is offered");
}

/* An e-mail address: SRV, MX and conventional names, with queries that failed, an SRV record
 * saying "not offered" and one whose target does not resolve. */
static void discovered(struct ms_result *r)
{
    fx_result(r, 3);
    snprintf(r->target, sizeof r->target, "alice@example.com");
    r->want[MS_PROTOCOL_IMAP] = r->want[MS_PROTOCOL_POP3] = true;
    static const struct {
        const char *host;
        enum ms_protocol p;
        enum ms_security s;
        uint16_t port;
        enum ms_source source;
        const char *source_name;
    } eps[] = {
        {"imap.example.com", MS_PROTOCOL_IMAP, MS_SECURITY_IMPLICIT, 993, MS_SOURCE_SRV,
         "_imaps._tcp.example.com"},
        {"mx.example.com", MS_PROTOCOL_IMAP, MS_SECURITY_STARTTLS, 143, MS_SOURCE_MX,
         "example.com MX"},
        {"pop.example.com", MS_PROTOCOL_POP3, MS_SECURITY_IMPLICIT, 995, MS_SOURCE_CONVENTIONAL,
         "conventional name"},
    };
    fx_discovery(r);
    struct ms_discovery *d = &r->discovery;
    for (size_t i = 0; i < 3; i++) {
        struct ms_endpoint_result *ep = &r->endpoints[i];
        fx_healthy_endpoint(ep, eps[i].p, eps[i].s, eps[i].port);
        fx_set_host(ep, eps[i].host);
        fx_set_san(ep, eps[i].host);
        ep->source = eps[i].source;
        snprintf(ep->source_name, sizeof ep->source_name, "%s", eps[i].source_name);
        ep->srv_priority = eps[i].source == MS_SOURCE_SRV ? 0 : -1;
        ep->srv_weight = eps[i].source == MS_SOURCE_SRV ? 1 : -1;
        struct ms_candidate *c = &d->candidates[d->candidate_count++];
        snprintf(c->host, sizeof c->host, "%s", eps[i].host);
        c->port = eps[i].port;
        c->protocol = eps[i].p;
        c->security = eps[i].s;
        c->source = eps[i].source;
        snprintf(c->source_name, sizeof c->source_name, "%s", eps[i].source_name);
        c->priority = eps[i].source == MS_SOURCE_CONVENTIONAL ? -1 : 10;
        c->weight = -1;
        c->endpoint_index = (long)i;
    }
    struct ms_candidate *c = &d->candidates[d->candidate_count++];
    *c = d->candidates[0];
    snprintf(c->host, sizeof c->host, "gone.example.com");
    c->endpoint_index = -1;
    snprintf(c->dropped, sizeof c->dropped, "does not resolve");
    static const struct {
        const char *name, *type, *status;
        const char *const answers[3];
    } qs[] = {
        {"_imaps._tcp.example.com",
         "SRV",
         "ok",
         {"0 1 993 imap.example.com", "10 5 993 gone.example.com", NULL}},
        {"_imap._tcp.example.com", "SRV", "nxdomain", {NULL}},
        {"_pop3._tcp.example.com", "SRV", "ok", {"0 0 0 .", NULL}},
        {"_pop3s._tcp.example.com", "SRV", "timeout", {NULL}},
        {"_submissions._tcp.example.com", "SRV", "ok", {"0 1 465 smtp.example.com", NULL}},
        {"example.com", "MX", "ok", {"10 mx.example.com", NULL}},
        {"gone.example.com", "A+AAAA", "nxdomain", {NULL}},
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        struct ms_dns_query_fact *q = &d->queries[d->query_count++];
        snprintf(q->name, sizeof q->name, "%s", qs[i].name);
        snprintf(q->type, sizeof q->type, "%s", qs[i].type);
        snprintf(q->status, sizeof q->status, "%s", qs[i].status);
        if (strcmp(qs[i].status, "ok") != 0)
            snprintf(q->message, sizeof q->message, "%s", qs[i].status);
        q->duration_ms = 2.5 + (double)i;
        fx_add_strs(&q->answers, qs[i].answers);
    }
    fx_add_str(&d->srv_not_offered, "_pop3._tcp");
    fx_add_str(&d->srv_unresolvable, "_imaps._tcp -> gone.example.com");
    fx_add_str(&d->submission, "_submissions._tcp: 0 1 465 smtp.example.com");
}

enum { R_FIXTURE, R_SIGNED_IN, R_PROBLEMS, R_DISCOVERY, R_COUNT };

static void make_result(int which, struct ms_result *r)
{
    switch (which) {
    case R_FIXTURE: fx_bare_host(r, false); break;
    case R_SIGNED_IN: signed_in(r); break;
    case R_PROBLEMS: many_problems(r); break;
    default: discovered(r); break;
    }
}

static const char *const result_names[R_COUNT] = {"fx_bare_host", "signed_in", "many_problems",
                                                  "discovered"};

/* ---- report/json.c, text.c, nagios.c, prometheus.c ---------------------------------------- */

enum render_kind { RENDER_JSON, RENDER_JSON_LINE, RENDER_TEXT, RENDER_NAGIOS };

struct render_st {
    enum render_kind kind;
    const struct ms_result *r;
    const struct ms_assessment *a;
    struct mem m;
    struct ref ref;
};

static void render_setup(void *arg)
{
    struct render_st *st = arg;
    mem_open(&st->m);
}

static int render_run(void *arg)
{
    struct render_st *st = arg;
    const struct ms_thresholds t = {.warning_s = 0.05, .cert_warn_days = 14, .cert_crit_days = 7};
    switch (st->kind) {
    case RENDER_JSON: return ms_report_json(st->m.f, st->r, st->a);
    case RENDER_JSON_LINE: return ms_report_json_line(st->m.f, st->r, st->a);
    case RENDER_TEXT: return ms_report_text(st->m.f, st->r, st->a, true);
    case RENDER_NAGIOS: return ms_report_nagios(st->m.f, st->r, st->a, &t);
    }
    return -100;
}

static void render_check(void *arg, int rc, bool failed)
{
    struct render_st *st = arg;
    char *got = mem_close(&st->m);
    if (failed) {
        /* The JSON writers write a whole document or nothing. */
        EXPECT(rc == MS_ENOMEM, "returned %d (%s), expected MS_ENOMEM", rc, ms_strerror(rc));
        EXPECT(got[0] == '\0', "wrote %zu bytes before failing: %.200s", strlen(got), got);
        free(got);
        return;
    }
    expect_ref(&st->ref, rc, 0, got, "the report");
}

static void test_render(void **state)
{
    (void)state;
    static const char *const kinds[] = {"ms_report_json", "ms_report_json_line", "ms_report_text",
                                        "ms_report_nagios"};
    for (int which = 0; which < R_COUNT; which++) {
        struct ms_result r;
        struct ms_assessment a;
        make_result(which, &r);
        assert_int_equal(ms_assess(&r, NULL, &a), 0);
        for (int k = RENDER_JSON; k <= RENDER_NAGIOS; k++) {
            if (k == RENDER_JSON_LINE && which != R_FIXTURE)
                continue; /* the same document as RENDER_JSON, but for its layout: once is enough */
            struct render_st st = {.kind = (enum render_kind)k, .r = &r, .a = &a};
            char name[96];
            snprintf(name, sizeof name, "%s(%s)", kinds[k], result_names[which]);
            const struct op op = {render_setup, render_run, render_check, NULL};
            unsigned long n = torture(name, &op, &st);
            if (k >= RENDER_TEXT)
                assert_int_equal(n, 0); /* the text renderers need no memory */
            else
                assert_true(n > 100);
            free(st.ref.text);
        }
        fx_done(&r, &a);
    }
}

/* Prometheus: a fleet of runs (one repeated) collected into one exposition. */
struct prom_st {
    struct ms_result *r;
    struct ms_assessment *a;
    size_t runs;      /* results in r/a */
    const int *order; /* indexes into r/a, -1 ends */
    struct ms_prom *p;
    size_t added;        /* ms_prom_add calls that returned 0 */
    char *want[8];       /* the exposition after the first k adds */
    size_t want_dups[8]; /* ms_prom_duplicates after the first k adds */
    bool new_failed;
};

static int prom_run(void *arg)
{
    struct prom_st *st = arg;
    st->added = 0;
    st->new_failed = false;
    if (!(st->p = ms_prom_new())) {
        st->new_failed = true;
        return MS_ENOMEM;
    }
    for (; st->order[st->added] >= 0; st->added++) {
        int i = st->order[st->added];
        int rc = ms_prom_add(st->p, &st->r[i], &st->a[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static char *prom_text(struct ms_prom *p)
{
    struct mem m;
    assert_int_equal(ms_prom_write(p, mem_open(&m)), 0);
    return mem_close(&m);
}

static void prom_check(void *arg, int rc, bool failed)
{
    struct prom_st *st = arg;
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        if (st->new_failed) {
            EXPECT(!st->p, "ms_prom_new failed but returned a collector");
            return;
        }
    } else {
        expect_rc(rc, 0);
    }
    /* A failed add leaves the collector as it was: the runs added before, and only they. */
    char *got = prom_text(st->p);
    expect_same(got, st->want[st->added], "the exposition");
    EXPECT(ms_prom_duplicates(st->p) == st->want_dups[st->added], "duplicates %zu, expected %zu",
           ms_prom_duplicates(st->p), st->want_dups[st->added]);
    free(got);
}

static void prom_teardown(void *arg)
{
    struct prom_st *st = arg;
    ms_prom_free(st->p);
    st->p = NULL;
}

static void test_prometheus(void **state)
{
    (void)state;
    struct ms_result r[R_COUNT];
    struct ms_assessment a[R_COUNT];
    for (int i = 0; i < R_COUNT; i++) {
        make_result(i, &r[i]);
        assert_int_equal(ms_assess(&r[i], NULL, &a[i]), 0);
    }
    static const int order[] = {R_SIGNED_IN, R_PROBLEMS, R_SIGNED_IN, R_DISCOVERY, R_FIXTURE, -1};
    struct prom_st st = {.r = r, .a = a, .runs = R_COUNT, .order = order};
    /* The expositions after 0, 1, ... runs, from collectors that never ran out of memory. */
    for (size_t k = 0; k <= 5; k++) {
        struct ms_prom *p = ms_prom_new();
        assert_non_null(p);
        for (size_t j = 0; j < k; j++)
            assert_int_equal(ms_prom_add(p, &r[order[j]], &a[order[j]]), 0);
        st.want[k] = prom_text(p);
        st.want_dups[k] = ms_prom_duplicates(p);
        ms_prom_free(p);
    }
    assert_int_equal(st.want_dups[5], 2); /* signed_in twice; fx_bare_host has its target */
    const struct op op = {NULL, prom_run, prom_check, prom_teardown};
    assert_true(torture("ms_prom_add (a fleet of five)", &op, &st) > 5);
    for (size_t k = 0; k <= 5; k++)
        free(st.want[k]);
    for (int i = 0; i < R_COUNT; i++)
        fx_done(&r[i], &a[i]);
}

/* ---- report/require.c --------------------------------------------------------------------- */

/* Everything an assessment holds, as text. */
static void put_assessment(FILE *f, const struct ms_assessment *a)
{
    fprintf(f, "status=%d findings=%zu\n", (int)a->status, a->finding_count);
    for (size_t i = 0; i < a->finding_count; i++) {
        const struct ms_finding *x = &a->findings[i];
        fprintf(f, "  %d %s %ld %s | %s | %s\n", (int)x->severity, x->code, x->endpoint_index,
                x->endpoint ? x->endpoint : "-", x->message, x->remedy);
    }
    fprintf(f, "endpoint_status=%s\n", a->endpoint_status ? "" : "NULL");
    for (size_t i = 0; i < a->verdict_count; i++) {
        const struct ms_protocol_verdict *v = &a->verdicts[i];
        fprintf(f, "verdict %d %d %d %d %s\n", (int)v->protocol, v->available, v->not_offered,
                (int)v->status, v->summary);
    }
    fprintf(f, "recommended=%ld,%ld preferred=%d not=%s|%s\n", a->recommended[0], a->recommended[1],
            a->preferred, a->not_recommended[0], a->not_recommended[1]);
    const struct ms_summary *s = &a->summary;
    for (int k = 0; k < MS_FEATURE_COUNT; k++) {
        const struct ms_feature *x = &s->features[k];
        fprintf(f, "feature %s", x->id ? x->id : "-");
        for (int p = 0; p < 2; p++) {
            const struct ms_answer_value *v = &x->answers[p];
            fprintf(f, " [%d %d %d %lld %s %lld %d %s]", (int)v->answer, (int)v->unit,
                    v->has_number, v->number, v->string, v->limit_kib, v->percent, v->text);
        }
        fprintf(f, " %s\n", x->evidence);
    }
    fprintf(f,
            "in_play=%d%d source=%ld,%ld auth_ep=%ld,%ld auth=%d,%d signed=%ld,%ld poll=%ld %s\n",
            s->in_play[0], s->in_play[1], s->source[0], s->source[1], s->auth_endpoint[0],
            s->auth_endpoint[1], (int)s->auth[0], (int)s->auth[1], s->signed_in[0], s->signed_in[1],
            s->poll_interval_s, s->schedule);
}

static void put_statuses(FILE *f, const struct ms_assessment *a, size_t n)
{
    for (size_t i = 0; a->endpoint_status && i < n; i++)
        fprintf(f, " %d", (int)a->endpoint_status[i]);
    fputc('\n', f);
}

static char *describe_assessment(const struct ms_assessment *a, size_t endpoints)
{
    struct mem m;
    FILE *f = mem_open(&m);
    put_assessment(f, a);
    put_statuses(f, a, endpoints);
    return mem_close(&m);
}

struct require_st {
    const struct ms_result *r;
    const struct ms_requirements *reqs;
    const struct ms_thresholds *t;
    struct ms_assessment a;
    char *before; /* the assessment before the thresholds and requirements */
    struct ref ref;
};

static void require_setup(void *arg)
{
    struct require_st *st = arg;
    assert_int_equal(ms_assess(st->r, NULL, &st->a), 0);
}

static int require_run(void *arg)
{
    struct require_st *st = arg;
    int rc = ms_thresholds_apply(st->t, st->r, &st->a);
    if (rc)
        return rc;
    return ms_require_apply(st->reqs, st->r, &st->a);
}

static void require_check(void *arg, int rc, bool failed)
{
    struct require_st *st = arg;
    char *got = describe_assessment(&st->a, st->r->endpoint_count);
    if (failed) {
        expect_rc(rc, MS_ENOMEM);
        /* A failed apply leaves the assessment as it was before that call. */
        if (strcmp(got, st->before) != 0 && strcmp(got, st->ref.text) != 0) {
            /* after the thresholds, before the requirements */
            struct ms_assessment b;
            assert_int_equal(ms_assess(st->r, NULL, &b), 0);
            assert_int_equal(ms_thresholds_apply(st->t, st->r, &b), 0);
            char *mid = describe_assessment(&b, st->r->endpoint_count);
            ms_assessment_free(&b);
            expect_same(got, mid, "the assessment after MS_ENOMEM (neither before nor after)");
            free(mid);
        }
        free(got);
        return;
    }
    expect_ref(&st->ref, rc, 0, got, "the assessment");
}

static void require_teardown(void *arg)
{
    struct require_st *st = arg;
    ms_assessment_free(&st->a);
}

static void test_require(void **state)
{
    (void)state;
    struct ms_requirements reqs = {0};
    struct ms_error err = {0};
    /* Parsing needs no memory. */
    fa_arm(1, FA_FROM);
    int rc = ms_require_parse("imap, pop3,imaps,imap+starttls,pop3s,pop3+stls,login,imap:IDLE,"
                              "pop3:UIDL,tls>=1.2,cert-days>=21,push_mail,quota,server_folders",
                              false, &reqs, &err);
    if (rc == 0)
        rc =
            ms_require_parse("tls.cert_expired,auth.plaintext_login_allowed,Starttls.Injected_data,"
                             "pop3:USER,tls<1.2",
                             true, &reqs, &err);
    struct ms_requirements bad = {0};
    int bad_rc = ms_require_parse("imap,nonsense", false, &bad, &err);
    assert_int_equal(fa_disarm(), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(bad_rc, MS_EINVAL);
    assert_int_equal(reqs.count, 19);

    const struct ms_thresholds t = {
        .warning_s = 0.02, .critical_s = 0.1, .cert_warn_days = 14, .cert_crit_days = 7};
    for (int which = 0; which < R_COUNT; which++) {
        struct ms_result r;
        make_result(which, &r);
        struct require_st st = {.r = &r, .reqs = &reqs, .t = &t};
        struct ms_assessment b;
        assert_int_equal(ms_assess(&r, NULL, &b), 0);
        st.before = describe_assessment(&b, r.endpoint_count);
        ms_assessment_free(&b);
        char name[96];
        snprintf(name, sizeof name, "ms_thresholds_apply + ms_require_apply(%s)",
                 result_names[which]);
        const struct op op = {require_setup, require_run, require_check, require_teardown};
        assert_true(torture(name, &op, &st) > 0);
        if (which == R_PROBLEMS) /* tls.cert_expires_soon made critical by --cert-crit-days */
            assert_non_null(strstr(st.ref.text, "2 tls.cert_expires_soon 4"));
        free(st.before);
        free(st.ref.text);
        ms_result_free(&r);
    }
}

/* ---- report/assess*.c --------------------------------------------------------------------- */

struct assess_st {
    const struct ms_result *r;
    const struct ms_assess_options *opt;
    struct ms_assessment a;
    struct ref ref;
};

static int assess_run(void *arg)
{
    struct assess_st *st = arg;
    return ms_assess(st->r, st->opt, &st->a);
}

static void assess_check(void *arg, int rc, bool failed)
{
    struct assess_st *st = arg;
    struct ms_assessment *a = &st->a;
    if (failed) {
        /* "On error out is left empty (safe to free)". */
        expect_rc(rc, MS_ENOMEM);
        EXPECT(!a->findings && !a->finding_count && !a->endpoint_status && !a->verdict_count,
               "the assessment is not empty after MS_ENOMEM (%zu findings, %zu verdicts)",
               a->finding_count, a->verdict_count);
        EXPECT(a->recommended[0] == -1 && a->recommended[1] == -1 && a->preferred == -1,
               "recommended %ld/%ld, preferred %d after MS_ENOMEM", a->recommended[0],
               a->recommended[1], a->preferred);
        EXPECT(!ms_assess_recommended(st->r, a, MS_PROTOCOL_IMAP) &&
                   !ms_assess_recommended(st->r, a, MS_PROTOCOL_POP3),
               "a recommendation after MS_ENOMEM");
        ms_assessment_free(a);
        ms_assessment_free(a); /* twice: safe */
        return;
    }
    expect_ref(&st->ref, rc, 0, describe_assessment(a, st->r->endpoint_count), "the assessment");
}

static void assess_teardown(void *arg)
{
    struct assess_st *st = arg;
    ms_assessment_free(&st->a);
}

static void test_assess(void **state)
{
    (void)state;
    const struct ms_assess_options opt = {.cert_warn_days = 30};
    for (int which = 0; which < R_COUNT; which++) {
        struct ms_result r;
        make_result(which, &r);
        for (int o = 0; o < 2; o++) {
            struct assess_st st = {.r = &r, .opt = o ? &opt : NULL};
            char name[96];
            snprintf(name, sizeof name, "ms_assess(%s%s)", result_names[which],
                     o ? ", cert_warn_days 30" : "");
            const struct op op = {NULL, assess_run, assess_check, assess_teardown};
            unsigned long n = torture(name, &op, &st);
            assert_true(n >= 2); /* the findings and the statuses */
            if (which == R_PROBLEMS)
                assert_true(strstr(st.ref.text, "findings=") &&
                            strtoul(strstr(st.ref.text, "findings=") + 9, NULL, 10) > 16);
            free(st.ref.text);
        }
        ms_result_free(&r);
    }
}

int main(void)
{
    fa_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failalloc),     cmocka_unit_test(test_strlist),
        cmocka_unit_test(test_text_no_alloc), cmocka_unit_test(test_imap_parse),
        cmocka_unit_test(test_pop3_parse),    cmocka_unit_test(test_caps),
        cmocka_unit_test(test_imap_account),  cmocka_unit_test(test_sasl),
        cmocka_unit_test(test_plan),          cmocka_unit_test(test_render),
        cmocka_unit_test(test_prometheus),    cmocka_unit_test(test_require),
        cmocka_unit_test(test_assess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
