/* Secrets in memory: non-dumpable process, a page excluded from core dumps (and locked when
 * RLIMIT_MEMLOCK allows), wiped and unmapped at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* cmocka needs the headers above first */
#include <cmocka.h>
// clang-format off: cmocka.h needs the headers above
// clang-format on

#include "cmd/credentials.h"

#define CANARY "Vk3-unit-canary-58qa"

/* The VmFlags of the mapping that holds addr ("" when none does), from /proc/self/smaps. */
static void mapping_flags(const void *addr, char *flags, size_t cap)
{
    flags[0] = '\0';
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    bool inside = false;
    uintptr_t a = (uintptr_t)addr;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            inside = a >= lo && a < hi;
            continue;
        }
        if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, cap, "%.*s", (int)(cap - 1), line + 8);
            break;
        }
    }
    fclose(f);
}

static bool has_flag(const char *flags, const char *flag)
{
    char want[8];
    snprintf(want, sizeof want, " %s", flag);
    for (const char *p = flags; (p = strstr(p, want)); p++)
        if (p[3] == ' ' || p[3] == '\n' || p[3] == '\0')
            return true;
    return false;
}

static char *write_secret_file(const char *content, mode_t mode)
{
    static char path[] = "/tmp/ms-unit-secret.XXXXXX";
    strcpy(path, "/tmp/ms-unit-secret.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    fchmod(fd, mode);
    close(fd);
    return path;
}

static void test_file_secret_on_a_page_of_its_own(void **state)
{
    (void)state;
    char *path = write_secret_file(CANARY "\nsecond line\n", 0600);
    struct ms_credential_sources src = {.user = "alice", .password_file = path, .wait_s = 2};
    struct ms_credentials cred;
    struct ms_error err = {0};
    assert_int_equal(ms_credentials_load(&src, &cred, &err), 0);
    unlink(path);
    assert_non_null(cred.password);
    assert_null(cred.token);
    assert_string_equal(cred.password, CANARY);
    /* While the secret is held: no core dump at all, and its page never in one. */
    assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    char flags[256];
    mapping_flags(cred.password, flags, sizeof flags);
    assert_true(has_flag(flags, "dd")); /* MADV_DONTDUMP */
    /* The line after the secret was read onto the page too: it is wiped. */
    const char *after = cred.password + strlen(CANARY);
    for (size_t i = 0; i < 32; i++)
        assert_int_equal(after[i], 0);
    const char *where = cred.password;
    ms_credentials_wipe(&cred);
    assert_null(cred.password);
    mapping_flags(where, flags, sizeof flags);
    assert_string_equal(flags, ""); /* unmapped */
    ms_credentials_wipe(&cred);     /* twice is harmless */
}

static void test_environment_secret_moves_to_the_page(void **state)
{
    (void)state;
    setenv("MAILSCOPE_PASSWORD", "pw-" CANARY, 1);
    setenv("MAILSCOPE_OAUTH2_TOKEN", "tok-" CANARY, 1);
    struct ms_credential_sources src = {.user = "alice", .wait_s = 2};
    struct ms_credentials cred;
    struct ms_error err = {0};
    assert_int_equal(ms_credentials_load(&src, &cred, &err), 0);
    assert_null(getenv("MAILSCOPE_PASSWORD"));
    assert_null(getenv("MAILSCOPE_OAUTH2_TOKEN"));
    assert_null(cred.password); /* the token wins */
    assert_non_null(cred.token);
    assert_string_equal(cred.token, "tok-" CANARY);
    char flags[256];
    mapping_flags(cred.token, flags, sizeof flags);
    assert_true(has_flag(flags, "dd"));
    ms_credentials_wipe(&cred);
}

static void test_no_secret_no_mapping(void **state)
{
    (void)state;
    unsetenv("MAILSCOPE_PASSWORD");
    unsetenv("MAILSCOPE_OAUTH2_TOKEN");
    struct ms_credential_sources src = {.per_target_users = true, .wait_s = 2};
    struct ms_credentials cred;
    struct ms_error err = {0};
    assert_int_equal(ms_credentials_load(&src, &cred, &err), 0);
    assert_null(cred.password);
    assert_null(cred.token);
    ms_credentials_wipe(&cred);
}

/* Under RLIMIT_MEMLOCK 0 (and without CAP_IPC_LOCK) mlock fails: the secret is held all the
 * same, unlocked but still out of core dumps. In a child: the limits are for good. */
static void test_low_memlock_falls_back(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit none = {0, 0};
        if (setrlimit(RLIMIT_MEMLOCK, &none) < 0)
            _exit(10);
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(11); /* root's CAP_IPC_LOCK ignores the limit */
        setenv("MAILSCOPE_PASSWORD", CANARY, 1);
        struct ms_credential_sources src = {.user = "alice", .wait_s = 2};
        struct ms_credentials cred;
        struct ms_error err = {0};
        if (ms_credentials_load(&src, &cred, &err) != 0 || !cred.password ||
            strcmp(cred.password, CANARY) != 0)
            _exit(12);
        char flags[256];
        mapping_flags(cred.password, flags, sizeof flags);
        if (!has_flag(flags, "dd"))
            _exit(13);
        if (has_flag(flags, "lo"))
            _exit(14); /* the limit did not apply: the test proves nothing */
        if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
            _exit(15);
        ms_credentials_wipe(&cred);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_secret_on_a_page_of_its_own),
        cmocka_unit_test(test_environment_secret_moves_to_the_page),
        cmocka_unit_test(test_no_secret_no_mapping),
        cmocka_unit_test(test_low_memlock_falls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
