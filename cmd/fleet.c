#include "cmd/fleet.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/localfile.h"
#include "cmd/say.h"
#include "probe/engine.h"
#include "probe/loop.h"
#include "probe/plan.h"

#define MS_FLEET_MAX_LINE 1024

struct fleet {
    const struct ms_options *opt;
    ms_render_fn render;
    void *render_arg;
    int fd;
    /* A pipe or terminal (stdin) is read only when it has data (the event loop watches it),
     * so targets already running are not held up by a slow writer. */
    bool stream;
    char buf[2 * MS_FLEET_MAX_LINE];
    size_t buf_len;
    bool eof, skipping; /* skipping: the rest of an over-long line */
    int read_errno;     /* reading the targets file failed: the run stops there */
    size_t line_no;
    size_t total; /* targets in the file, 0 when unknown (stdin) */
    size_t finished;
    size_t by_status[4];
    int worst;
    bool progress;
    double t0;
    struct ms_engine_stop stop; /* SIGINT/SIGTERM, or stdout gone */
    bool write_failed;          /* stdout is gone: nothing more is written */
    size_t unwritten;           /* targets finished but not written (stdout gone) */
};

enum { LINE_TOO_LONG = 2 };

/* The next line of the targets file into line (NUL-terminated; *len bytes, the line end
 * included): 1, LINE_TOO_LONG (a line longer than the buffer, skipped whole), 0 at the end,
 * MS_EAGAIN when a stream has no whole line yet (never blocks: a stream is read only when
 * poll() says there is data), or MS_EIO (fl->read_errno says why). Lines are byte strings:
 * a NUL byte is part of the line, never its end. */
static int read_line(struct fleet *fl, char *line, size_t cap, size_t *len)
{
    for (;;) {
        char *nl = memchr(fl->buf, '\n', fl->buf_len);
        if (nl || (fl->eof && fl->buf_len > 0) || fl->buf_len == sizeof fl->buf) {
            size_t n = nl ? (size_t)(nl - fl->buf) + 1 : fl->buf_len;
            bool was_skipping = fl->skipping;
            fl->skipping = !nl && !fl->eof; /* longer than the buffer: drop the rest too */
            bool fits = n < cap;
            if (!was_skipping && fits) {
                memcpy(line, fl->buf, n);
                line[n] = '\0';
                *len = n;
            }
            memmove(fl->buf, fl->buf + n, fl->buf_len - n);
            fl->buf_len -= n;
            if (was_skipping)
                continue;
            fl->line_no++;
            return fits ? 1 : LINE_TOO_LONG;
        }
        if (fl->eof)
            return 0;
        if (fl->stream) {
            struct pollfd p = {.fd = fl->fd, .events = POLLIN};
            if (poll(&p, 1, 0) <= 0)
                return MS_EAGAIN;
        }
        ssize_t n = read(fl->fd, fl->buf + fl->buf_len, sizeof fl->buf - fl->buf_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            fl->read_errno = errno;
            return MS_EIO;
        }
        if (n == 0)
            fl->eof = true;
        else
            fl->buf_len += (size_t)n;
    }
}

/* Count the targets up front so the progress line can show a total and an ETA (a regular
 * file only: it is read again from the start). */
static size_t count_targets(struct fleet *fl)
{
    char line[MS_FLEET_MAX_LINE];
    size_t n = 0, len = 0;
    int got;
    while ((got = read_line(fl, line, sizeof line, &len)) > 0) {
        char *p = line + strspn(line, " \t");
        if (got == LINE_TOO_LONG || (*p && *p != '#' && *p != '\n' && *p != '\r'))
            n++;
    }
    lseek(fl->fd, 0, SEEK_SET);
    fl->buf_len = 0;
    fl->eof = fl->skipping = false;
    fl->line_no = 0;
    fl->read_errno = 0;
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

/* Clear the progress line before a message takes its place. */
static void clear_progress(struct fleet *fl)
{
    if (fl->progress)
        fputs("\r\033[K", stderr);
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
    req->bare_host = false;
    memset(req->want, 0, sizeof req->want);
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
        rc = ms_plan_add(req, &target, &opt->ports, opt->want, err);
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

static int next_request(void *arg, struct ms_request *req)
{
    struct fleet *fl = arg;
    char line[MS_FLEET_MAX_LINE];
    size_t len = 0;
    int got;
    while ((got = read_line(fl, line, sizeof line, &len)) > 0) {
        /* A bad line is that target's UNKNOWN result: say so, count it, go on. */
        if (got == LINE_TOO_LONG) {
            clear_progress(fl);
            ms_say("targets file line %zu is longer than %d characters: skipped", fl->line_no,
                   MS_FLEET_MAX_LINE - 2);
            record(fl, MS_STATUS_UNKNOWN);
            continue;
        }
        if (memchr(line, '\0', len)) {
            clear_progress(fl);
            ms_say("targets file line %zu holds a NUL byte: skipped", fl->line_no);
            record(fl, MS_STATUS_UNKNOWN);
            continue;
        }
        struct ms_error err = {0};
        int rc = parse_line(fl, req, line, &err);
        if (rc == 1)
            return 1;
        ms_request_release(req);
        if (rc < 0) {
            clear_progress(fl);
            ms_say("targets file line %zu: %s", fl->line_no, err.message);
            record(fl, MS_STATUS_UNKNOWN);
        }
    }
    /* A read error ends the list here; the targets in flight still finish. */
    return got == MS_EIO ? 0 : got;
}

static void on_result(void *arg, const struct ms_request *req, struct ms_result *result)
{
    struct fleet *fl = arg;
    int status = MS_RENDER_FAILED;
    if (!fl->write_failed) {
        clear_progress(fl);
        status = fl->render(fl->render_arg, req, result);
    }
    ms_result_free(result);
    free(result);
    if (status == MS_RENDER_FAILED) {
        /* stdout is gone (a closed pipe: | head -1): stop here rather than fail once per
         * target left */
        fl->unwritten++;
        if (!fl->write_failed)
            ms_engine_drain(fl->stop.engine, 0);
        fl->write_failed = true;
        return;
    }
    record(fl, status);
    show_progress(fl, false);
}

static const char *signal_name(int signo)
{
    return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
}

static void on_signal(void *arg, int signo, bool first)
{
    struct fleet *fl = arg;
    clear_progress(fl);
    if (first)
        ms_say("%s: starting no more targets; those in flight have %g s to finish (again: stop "
               "now)",
               signal_name(signo), fl->stop.drain_s);
    else
        ms_say("%s again: abandoning the targets in flight now", signal_name(signo));
}

int ms_fleet_run(const struct ms_options *opt, ms_render_fn render, void *render_arg,
                 struct ms_error *err)
{
    struct fleet fl = {.opt = opt, .render = render, .render_arg = render_arg, .t0 = ms_loop_now()};
    bool from_stdin = strcmp(opt->targets_file, "-") == 0;
    enum ms_file_kind kind;
    const char *name = from_stdin ? "(stdin)" : opt->targets_file;
    if (from_stdin) {
        fl.fd = STDIN_FILENO;
        if (ms_localfile_kind(fl.fd, name, "targets", &kind, err) < 0)
            return -1;
    } else {
        /* A FIFO by name would block open() until a writer comes, and is refused: a pipe
         * comes on stdin (--targets-file -), where a slow writer is expected. */
        fl.fd = ms_localfile_open(opt->targets_file, "targets", &kind, err);
        if (fl.fd < 0)
            return -1;
        if (kind != MS_FILE_REGULAR) {
            close(fl.fd);
            ms_error_set(err, MS_EINVAL,
                         "the targets file '%s' is not a regular file (a FIFO, pipe or device); "
                         "to read targets from a pipe, use --targets-file - and connect it to "
                         "stdin",
                         opt->targets_file);
            return -1;
        }
    }
    fl.stream = kind == MS_FILE_STREAM;
    fl.progress = !opt->quiet && isatty(STDERR_FILENO);
    if (fl.progress && !fl.stream) /* the total is for the progress line only */
        fl.total = count_targets(&fl);
    size_t fit = ms_engine_fd_concurrency(opt->concurrency, opt->request.injection_test);
    if (fit < opt->concurrency) {
        struct rlimit lim = {0};
        getrlimit(RLIMIT_NOFILE, &lim);
        ms_say("%zu endpoints in flight at most (not %zu): the limit of %llu open files "
               "(ulimit -n) allows no more",
               fit, opt->concurrency, (unsigned long long)lim.rlim_cur);
    }
    fl.stop = (struct ms_engine_stop){
        .drain_s = MS_FLEET_DRAIN_S, .watch_signals = true, .on_signal = on_signal, .arg = &fl};
    struct ms_fleet_settings settings = {
        .base = &opt->request, .concurrency = opt->concurrency, .stop = &fl.stop};
    struct ms_request_source source = {next_request, &fl, fl.stream ? fl.fd : -1};
    int rc = ms_engine_run_many(&settings, source, on_result, &fl, err);
    show_progress(&fl, true);
    if (!from_stdin)
        close(fl.fd);
    if (rc < 0)
        return -1;
    if (fl.stop.signo)
        ms_say("interrupted by %s: %zu target%s in flight abandoned unreported, the rest not "
               "started",
               signal_name(fl.stop.signo), fl.stop.abandoned, fl.stop.abandoned == 1 ? "" : "s");
    if (fl.write_failed)
        ms_say("stopped: stdout is gone; %zu finished target%s not written, %zu abandoned, the "
               "rest not started",
               fl.unwritten, fl.unwritten == 1 ? "" : "s", fl.stop.abandoned);
    if (fl.read_errno)
        ms_say("cannot read the targets file '%s' after line %zu: %s; the targets after it "
               "were not probed",
               name, fl.line_no, strerror(fl.read_errno));
    fprintf(stderr, "mailscope: %zu target%s: %zu ok, %zu warning, %zu critical, %zu unknown\n",
            fl.finished, fl.finished == 1 ? "" : "s", fl.by_status[0], fl.by_status[1],
            fl.by_status[2], fl.by_status[3]);
    bool cut_short = fl.read_errno || fl.stop.signo || fl.write_failed;
    return cut_short ? MS_STATUS_UNKNOWN : fl.worst;
}
