/* mailscope: argv -> request -> probe -> assess -> render -> exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/options.h"
#include "probe/engine.h"
#include "report/assess.h"
#include "report/json.h"
#include "report/text.h"

static bool want_color(void)
{
    const char *no_color = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && !(no_color && *no_color);
}

int main(int argc, char **argv)
{
    struct ms_options *opt = calloc(1, sizeof *opt);
    struct ms_result result = {0};
    struct ms_assessment assessment = {0};
    struct ms_error err = {0};
    struct ms_credentials secrets = {0};
    int exit_code = MS_STATUS_UNKNOWN;
    if (!opt) {
        fputs("mailscope: out of memory\n", stderr);
        return MS_STATUS_UNKNOWN;
    }
    if (ms_options_parse(argc, argv, opt, &err) < 0) {
        fprintf(stderr, "mailscope: %s\nTry 'mailscope --help' for more information.\n", err.message);
        goto out;
    }
    if (opt->show_help) {
        ms_options_usage(stdout);
        exit_code = MS_STATUS_OK;
        goto out;
    }
    if (opt->show_version) {
        printf("mailscope %s\n", MS_VERSION);
        exit_code = MS_STATUS_OK;
        goto out;
    }
    if (ms_credentials_load(&opt->secrets, &secrets, &err) < 0) {
        fprintf(stderr, "mailscope: %s\n", err.message);
        goto out;
    }
    if (opt->secrets.user && (secrets.password || secrets.token)) {
        opt->request.auth_user = opt->secrets.user;
        opt->request.auth_password = secrets.password;
        opt->request.auth_token = secrets.token;
    }
    if (ms_engine_run(&opt->request, &result, &err) < 0) {
        fprintf(stderr, "mailscope: %s\n", err.message);
        goto out;
    }
    if (ms_assess(&result, &opt->assess, &assessment) < 0) {
        fputs("mailscope: out of memory\n", stderr);
        goto out;
    }
    int rc = opt->format == MS_FORMAT_JSON ? ms_report_json(stdout, &result, &assessment)
                                           : ms_report_text(stdout, &result, &assessment, want_color());
    if (rc < 0 || fflush(stdout) != 0) {
        fputs("mailscope: cannot write the report\n", stderr);
        goto out;
    }
    exit_code = (int)assessment.status;
out:
    ms_credentials_wipe(&secrets);
    ms_assessment_free(&assessment);
    ms_result_free(&result);
    free(opt);
    return exit_code;
}
