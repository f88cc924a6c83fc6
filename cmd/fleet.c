#include "cmd/fleet.h"

#include "cmd/say.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe/engine.h"
#include "probe/loop.h"
#include "probe/plan.h"

#define MS_FLEET_MAX_LINE 1024

struct fleet {
    const struct ms_options *opt;
    ms_render_fn render;
    void *render_arg;
    FILE *in;
    /* A pipe or terminal is read only when it has data (the event loop watches it), so
     * targets already running are not held up by a slow writer. */
    bool stream;
    char buf[2 * MS_FLEET_MAX_LINE];
    size_t buf_len;
    bool eof, skipping; /* skipping: the rest of an over-long line */
    size_t line_no;
    size_t total; /* targets in the file, 0 when unknown (stdin) */
    size_t finished;
    size_t by_status[4];
    int worst;
    bool progress;
    double t0;
};

/* Count the targets up front so the progress line can show a total and an ETA. */
static size_t count_targets(FILE *f)
{
    char line[MS_FLEET_MAX_LINE];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line + strspn(line, " \t");
        if (*p && *p != '#' && *p != '\n' && *p != '\r')
            n++;
    }
    rewind(f);
    return n;
}

/* Count one finished target. The run's exit code is the worst target's: CRITICAL outranks
 * UNKNOWN (a target judged broken says more than one that could not be judged), as within
 * one target's report. */
static void record(struct fleet *fl, int status)
{
    static const int rank[4] = {0, 1, 3, 2}; /* OK, WARNING, CRITICAL, UNKNOWN */
    if (status < 0 || status > 3)
        status = MS_STATUS_UNKNOWN;
    fl->by_status[status]++;
    fl->finished++;
    if (rank[status] > rank[fl->worst])
        fl->worst = status;
}

static void show_progress(struct fleet *fl, bool final)
{
    if (!fl->progress)
        return;
    double elapsed = ms_loop_now() - fl->t0;
    double rate = elapsed > 0 ? (double)fl->finished / elapsed : 0;
    size_t failures = fl->by_status[2] + fl->by_status[3];
    char eta[32] = "";
    if (fl->total && rate > 0 && fl->finished < fl->total)
        snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(fl->total - fl->finished) / rate);
    if (fl->total)
        fprintf(stderr, "\r\033[K%zu/%zu done, %zu failing, %.1f/s%s", fl->finished, fl->total,
                failures, rate, eta);
    else
        fprintf(stderr, "\r\033[K%zu done, %zu failing, %.1f/s", fl->finished, failures, rate);
    if (final)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* "target [user=NAME]" -> a request planned like a command-line target. Returns 1, 0 at
 * the end of the file, or MS_EINVAL for a bad line (reported and skipped by the caller). */
static int parse_line(struct fleet *fl, struct ms_request *req, char *line, struct ms_error *err)
{
    const struct ms_options *opt = fl->opt;
    char *save = NULL;
    char *target_text = strtok_r(line, " \t\r\n", &save);
    if (!target_text || target_text[0] == '#')
        return 0;
    *req = opt->request; /* the shared options; no endpoints yet */
    req->endpoints = NULL;
    req->endpoint_count = req->endpoint_capacity = 0;
    req->bare_host = req->want_imap = req->want_pop3 = false;
    req->discover_domain[0] = req->discover_user[0] = '\0';
    req->auth_user = NULL;
    for (char *word = strtok_r(NULL, " \t\r\n", &save); word;
         word = strtok_r(NULL, " \t\r\n", &save)) {
        if (word[0] == '#')
            break;
        if (strncmp(word, "user=", 5) != 0 || !word[5] || strlen(word + 5) > MS_MAX_HOST)
            return ms_error_set(err, MS_EINVAL,
                                "unexpected '%s' (only user=NAME may follow the target)", word);
        snprintf(req->auth_user_storage, sizeof req->auth_user_storage, "%s", word + 5);
    }
    struct ms_target target;
    int rc = ms_plan_parse_target(target_text, &target, err);
    if (rc == 0)
        rc = ms_plan_add(req, &target, &opt->ports, opt->want_imap, opt->want_pop3, err);
    if (rc < 0)
        return rc;
    snprintf(req->target, sizeof req->target, "%s", target_text);
    /* Sign in when the line names a user (or an e-mail target) and a secret was given. */
    if (opt->request.auth_password || opt->request.auth_token) {
        if (req->auth_user_storage[0])
            req->auth_user = req->auth_user_storage;
        else if (target.is_discovery && target.user[0]) {
            char address[2 * (MS_MAX_HOST + 1)];
            snprintf(address, sizeof address, "%s@%s", target.user, target.host);
            if (strlen(address) > MS_MAX_HOST)
                return ms_error_set(err, MS_EINVAL,
                                    "the e-mail address is too long to sign in with");
            memcpy(req->auth_user_storage, address, strlen(address) + 1);
            req->auth_user = req->auth_user_storage;
        } else
            req->auth_user = opt->request.auth_user;
    }
    return 1;
}

/* An over-long line is that target's UNKNOWN result. */
static void skip_long_line(struct fleet *fl)
{
    fprintf(stderr, "mailscope: targets file line %zu is longer than %d characters: skipped\n",
            fl->line_no, MS_FLEET_MAX_LINE - 2);
    record(fl, MS_STATUS_UNKNOWN);
}

/* The next line of a pipe or terminal into line: 1, 0 at the end, MS_EAGAIN when no whole
 * line is there yet (never blocks: read() only runs when poll() says there is data). */
static int stream_line(struct fleet *fl, char *line, size_t cap)
{
    for (;;) {
        char *nl = memchr(fl->buf, '\n', fl->buf_len);
        if (nl || (fl->eof && fl->buf_len > 0) || fl->buf_len == sizeof fl->buf) {
            size_t len = nl ? (size_t)(nl - fl->buf) + 1 : fl->buf_len;
            bool was_skipping = fl->skipping;
            fl->skipping = !nl && !fl->eof; /* longer than the buffer: drop the rest too */
            bool fits = len < cap;
            if (!was_skipping) {
                fl->line_no++;
                if (fits) {
                    memcpy(line, fl->buf, len);
                    line[len] = '\0';
                } else {
                    skip_long_line(fl);
                }
            }
            memmove(fl->buf, fl->buf + len, fl->buf_len - len);
            fl->buf_len -= len;
            if (!was_skipping && fits)
                return 1;
            continue;
        }
        if (fl->eof)
            return 0;
        struct pollfd p = {.fd = fileno(fl->in), .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return MS_EAGAIN;
        ssize_t n = read(p.fd, fl->buf + fl->buf_len, sizeof fl->buf - fl->buf_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            return MS_EAGAIN;
        if (n <= 0)
            fl->eof = true;
        else
            fl->buf_len += (size_t)n;
    }
}

/* The next line of a regular file: 1, or 0 at the end. */
static int file_line(struct fleet *fl, char *line, size_t cap)
{
    while (fgets(line, (int)cap, fl->in)) {
        fl->line_no++;
        size_t len = strlen(line);
        if (len == cap - 1 && line[len - 1] != '\n') {
            int c;
            while ((c = fgetc(fl->in)) != EOF && c != '\n')
                ;
            skip_long_line(fl);
            continue;
        }
        return 1;
    }
    return 0;
}

static int next_request(void *arg, struct ms_request *req)
{
    struct fleet *fl = arg;
    char line[MS_FLEET_MAX_LINE];
    int got;
    while ((got = fl->stream ? stream_line(fl, line, sizeof line)
                             : file_line(fl, line, sizeof line)) == 1) {
        struct ms_error err = {0};
        int rc = parse_line(fl, req, line, &err);
        if (rc != 1)
            ms_request_release(req);
        if (rc == 1) {
            return 1;
        }
        if (rc < 0) {
            /* A bad line is that target's UNKNOWN result: say so, count it, go on. */
            ms_say("targets file line %zu: %s", fl->line_no, err.message);
            record(fl, MS_STATUS_UNKNOWN);
        }
    }
    return got;
}

static void on_result(void *arg, const struct ms_request *req, struct ms_result *result)
{
    struct fleet *fl = arg;
    int status = fl->render(fl->render_arg, req, result);
    ms_result_free(result);
    free(result);
    record(fl, status);
    show_progress(fl, false);
}

int ms_fleet_run(const struct ms_options *opt, ms_render_fn render, void *render_arg,
                 struct ms_error *err)
{
    struct fleet fl = {.opt = opt, .render = render, .render_arg = render_arg, .t0 = ms_loop_now()};
    bool from_stdin = strcmp(opt->targets_file, "-") == 0;
    fl.in = from_stdin ? stdin : fopen(opt->targets_file, "r");
    if (!fl.in) {
        ms_error_set(err, MS_EINVAL, "cannot read the targets file '%s': %s", opt->targets_file,
                     strerror(errno));
        return -1;
    }
    struct stat st;
    fl.stream = from_stdin && !(fstat(fileno(stdin), &st) == 0 && S_ISREG(st.st_mode));
    fl.progress = !opt->quiet && isatty(STDERR_FILENO);
    if (fl.progress && !from_stdin) /* the total is for the progress line only */
        fl.total = count_targets(fl.in);
    struct ms_fleet_settings settings = {.base = &opt->request, .concurrency = opt->concurrency};
    struct ms_request_source source = {next_request, &fl, fl.stream ? fileno(stdin) : -1};
    int rc = ms_engine_run_many(&settings, source, on_result, &fl, err);
    show_progress(&fl, true);
    if (!from_stdin)
        fclose(fl.in);
    if (rc < 0)
        return -1;
    fprintf(stderr, "mailscope: %zu target%s: %zu ok, %zu warning, %zu critical, %zu unknown\n",
            fl.finished, fl.finished == 1 ? "" : "s", fl.by_status[0], fl.by_status[1],
            fl.by_status[2], fl.by_status[3]);
    return fl.worst;
}
