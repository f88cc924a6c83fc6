/* mailscope: argv -> request -> probe -> assess -> render -> exit code. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmd/fleet.h"
#include "cmd/localfile.h"
#include "cmd/options.h"
#include "cmd/say.h"
#include "cmd/version.h"
#include "probe/engine.h"
#include "report/assess.h"
#include "report/clients.h"
#include "report/explain.h"
#include "report/json.h"
#include "report/nagios.h"
#include "report/prometheus.h"
#include "report/require.h"
#include "report/text.h"

static bool want_color(void)
{
    const char *no_color = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && !(no_color && *no_color);
}

/* --format prometheus groups series by family: they are collected here, written at the end. */
static struct ms_prom *prometheus;

/* All of buf to fd: one write() unless the kernel takes less. 0, or -1 with errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Render one report into memory (out), per format. Returns 0 or a negative MS_E* code. */
static int render_into(const struct ms_options *opt, FILE *out, const struct ms_result *result,
                       const struct ms_assessment *assessment)
{
    switch (opt->format) {
    case MS_FORMAT_NAGIOS: return ms_report_nagios(out, result, assessment, &opt->thresholds);
    case MS_FORMAT_JSON: return ms_report_json(out, result, assessment);
    case MS_FORMAT_JSONL: return ms_report_json_line(out, result, assessment);
    default: {
        int rc = ms_report_text(out, result, assessment, want_color());
        if (rc == 0 && opt->targets_file)
            rc = fputs("\n", out) < 0 ? MS_EIO : 0;
        return rc;
    }
    }
}

/* Judge and print one target's result; returns its status (0..3), or MS_RENDER_FAILED when
 * stdout cannot take it. The report is built in memory and written with one write(): a
 * reader never sees half a JSON line, whatever happens after. */
static int render(void *arg, const struct ms_request *req, const struct ms_result *result)
{
    (void)req;
    const struct ms_options *opt = arg;
    struct ms_assessment assessment = {0};
    if (ms_assess(result, &opt->assess, &assessment) < 0 ||
        ms_thresholds_apply(&opt->thresholds, result, &assessment) < 0 ||
        ms_require_apply(&opt->requirements, result, &assessment) < 0) {
        ms_assessment_free(&assessment);
        fputs("mailscope: out of memory\n", stderr);
        return MS_STATUS_UNKNOWN;
    }
    int status = (int)assessment.status;
    if (opt->format == MS_FORMAT_PROMETHEUS) { /* written at the end, all targets at once */
        int rc = ms_prom_add(prometheus, result, &assessment);
        ms_assessment_free(&assessment);
        if (rc < 0) {
            fputs("mailscope: out of memory\n", stderr);
            return MS_STATUS_UNKNOWN;
        }
        return status;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int rc = mem ? render_into(opt, mem, result, &assessment) : MS_ENOMEM;
    if (mem && fclose(mem) != 0 && rc == 0)
        rc = MS_ENOMEM;
    ms_assessment_free(&assessment);
    if (rc < 0) {
        free(buf);
        fputs("mailscope: out of memory\n", stderr);
        return MS_STATUS_UNKNOWN;
    }
    rc = write_all(STDOUT_FILENO, buf, len);
    int saved = errno;
    free(buf);
    if (rc < 0) {
        ms_say("cannot write the report: %s", strerror(saved));
        return MS_RENDER_FAILED;
    }
    return status;
}

/* An error that ends the run: stderr always; with --format nagios also the status line on
 * stdout, since a monitoring system shows only that. */
static void report_error(const struct ms_options *opt, const char *message, bool usage)
{
    char clean[4 * sizeof((struct ms_error *)0)->message];
    ms_say_clean(clean, sizeof clean, message);
    fprintf(stderr, "mailscope: %s\n%s", clean,
            usage ? "Try 'mailscope --help' for more information.\n" : "");
    if (opt && opt->format == MS_FORMAT_NAGIOS)
        printf("MAILSCOPE UNKNOWN - %s\n", clean);
}

/* Everything written to stdout since errno was cleared reached it: 0, or 3 with the reason
 * on stderr (a full disk, a closed stdout, a closed pipe). */
static int flush_stdout(const char *what)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return MS_STATUS_OK;
    ms_say("cannot write %s: %s", what, errno ? strerror(errno) : "write error");
    return MS_STATUS_UNKNOWN;
}

/* Wipe and unmap the secrets once no sign-in can follow. */
static void forget_secrets(struct ms_options *opt, struct ms_credentials *secrets)
{
    ms_credentials_wipe(secrets);
    opt->request.auth_password = opt->request.auth_token = NULL;
}

/* Many endpoints in flight need many descriptors: take the hard limit when the soft one is
 * lower (the engine sizes its in-flight bound to what there is). */
static void raise_fd_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_cur == lim.rlim_max)
        return;
    rlim_t soft = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) == 0 || lim.rlim_max != RLIM_INFINITY)
        return;
    /* An unlimited hard limit: the kernel's ceiling is fs.nr_open. */
    lim.rlim_cur = 1048576;
    while (lim.rlim_cur > soft && setrlimit(RLIMIT_NOFILE, &lim) < 0)
        lim.rlim_cur /= 2;
}

/* `mailscope serve` is the program mailscope-serve next to this one (see
 * cmd/serve_main.c); argv[1] ("serve") becomes its argv[0]. */
static int exec_serve(char **argv)
{
    static const char name[] = "mailscope-serve";
    char path[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof name);
    char *slash = n > 0 ? memchr(path, '/', (size_t)n) : NULL;
    if (!slash) {
        fputs("mailscope: cannot find where mailscope runs from (/proc/self/exe)\n", stderr);
        return MS_STATUS_UNKNOWN;
    }
    path[n] = '\0';
    slash = strrchr(path, '/');
    memcpy(slash + 1, name, sizeof name);
    argv[1] = path;
    execv(path, argv + 1);
    fprintf(stderr, "mailscope: cannot run %s: %s\n", path, strerror(errno));
    return MS_STATUS_UNKNOWN;
}

int main(int argc, char **argv)
{
    /* OpenSSL writes alerts with plain write(): a peer that reset the connection must be
     * an error to report, not a signal that kills the run. */
    signal(SIGPIPE, SIG_IGN);
    /* `mailscope serve ...`: the long-running service (a host called "serve" is still
     * reachable as imap://serve and friends). */
    if (argc > 1 && strcmp(argv[1], "serve") == 0)
        return exec_serve(argv);
    raise_fd_limit();
    struct ms_options *opt = calloc(1, sizeof *opt);
    struct ms_result result = {0};
    struct ms_error err = {0};
    struct ms_credentials secrets = {0};
    int exit_code = MS_STATUS_UNKNOWN;
    if (!opt) {
        fputs("mailscope: out of memory\n", stderr);
        return MS_STATUS_UNKNOWN;
    }
    if (ms_options_parse(argc, argv, opt, &err) < 0) {
        report_error(opt, err.message, true);
        goto out;
    }
    if (opt->show_help || opt->show_version) {
        errno = 0;
        if (opt->show_help)
            ms_options_usage(stdout);
        else
            ms_version_print(stdout, "mailscope", NULL, 0);
        exit_code = flush_stdout(opt->show_help ? "the help" : "the version");
        goto out;
    }
    ms_client_filter = opt->client; /* --client NAME: the mail-program report narrowed */
    if (opt->explain) {
        int rc = ms_report_explain(stdout, opt->explain, opt->format == MS_FORMAT_JSON);
        if (rc == MS_EINVAL)
            report_error(
                opt, "--explain: unknown finding code (mailscope --explain all lists them)", true);
        else if (rc < 0)
            fputs("mailscope: cannot write the explanation\n", stderr);
        exit_code = rc < 0 ? MS_STATUS_UNKNOWN : MS_STATUS_OK;
        goto out;
    }
    if (opt->format == MS_FORMAT_PROMETHEUS && !(prometheus = ms_prom_new())) {
        fputs("mailscope: out of memory\n", stderr);
        goto out;
    }
    /* OpenSSL opens --ca-file itself, with a blocking open(): a FIFO would hang it. */
    if (opt->request.ca_file && ms_localfile_check_regular(opt->request.ca_file, "CA", &err) < 0) {
        report_error(opt, err.message, false);
        goto out;
    }
    opt->secrets.per_target_users = opt->targets_file != NULL;
    opt->secrets.wait_s = opt->request.deadline_s;
    if (ms_credentials_load(&opt->secrets, &secrets, &err) < 0) {
        report_error(opt, err.message, false);
        goto out;
    }
    if (secrets.password || secrets.token) {
        opt->request.auth_user = opt->secrets.user; /* may be NULL: per-target users */
        opt->request.auth_password = secrets.password;
        opt->request.auth_token = secrets.token;
    }
    if (opt->targets_file) {
        exit_code = ms_fleet_run(opt, render, opt, &err);
        forget_secrets(opt, &secrets); /* sign-in is over for the whole fleet */
        if (exit_code < 0) {
            report_error(opt, err.message, false);
            exit_code = MS_STATUS_UNKNOWN;
        }
        goto write_prometheus;
    }
    if (!opt->request.auth_password && !opt->request.auth_token)
        opt->request.auth_user = NULL;
    int rc = ms_engine_run(&opt->request, &result, &err);
    forget_secrets(opt, &secrets); /* sign-in is over */
    if (rc < 0) {
        report_error(opt, err.message, false);
        goto out;
    }
    exit_code = render(opt, &opt->request, &result);
    if (exit_code < 0)
        exit_code = MS_STATUS_UNKNOWN;
write_prometheus:
    if (prometheus && ms_prom_duplicates(prometheus)) {
        size_t n = ms_prom_duplicates(prometheus);
        fprintf(stderr,
                "mailscope: %zu line%s repeated a target listed before; the Prometheus output "
                "has each target's first result only\n",
                n, n == 1 ? "" : "s");
    }
    if (prometheus && ms_prom_write(prometheus, stdout) < 0) {
        fputs("mailscope: cannot write the report\n", stderr);
        exit_code = MS_STATUS_UNKNOWN;
    }
out:
    ms_prom_free(prometheus);
    ms_credentials_wipe(&secrets);
    ms_result_free(&result);
    if (opt)
        ms_request_release(&opt->request);
    free(opt);
    return exit_code;
}
