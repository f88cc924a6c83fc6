#include "cmd/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/localfile.h"
#include "cmd/say.h"
#include "probe/request.h"

/* One slot per secret: the secret, a CR LF, the terminating NUL. */
#define SLOT (MS_MAX_SECRET + 3)

static char *token_slot(struct ms_credentials *c)
{
    return c->pages;
}

static char *password_slot(struct ms_credentials *c)
{
    return (char *)c->pages + SLOT;
}

/* Map the pages the secrets live on, before the first secret byte is copied: no core dump
 * from here on, those pages never in one, and never swapped out when mlock is allowed. */
static int map_pages(struct ms_credentials *c)
{
    if (c->pages)
        return 0;
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    long page = sysconf(_SC_PAGESIZE);
    size_t ps = page > 0 ? (size_t)page : 4096;
    size_t size = (2 * SLOT + ps - 1) / ps * ps;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return MS_ENOMEM;
    /* Best effort both: non-dumpable already keeps the pages out of a core dump; a low
     * RLIMIT_MEMLOCK (ulimit -l) only means the pages may be swapped. */
    madvise(p, size, MADV_DONTDUMP);
    c->locked = mlock(p, size) == 0;
    c->pages = p;
    c->pages_size = size;
    return 0;
}

void ms_credentials_wipe(struct ms_credentials *cred)
{
    if (cred->pages) {
        explicit_bzero(cred->pages, cred->pages_size);
        if (cred->locked)
            munlock(cred->pages, cred->pages_size);
        munmap(cred->pages, cred->pages_size);
    }
    *cred = (struct ms_credentials){0};
}

/* Take a secret out of the environment into slot: copy it, then overwrite and remove the
 * original so it does not linger in this process or reach a child. *found says whether
 * there was one. */
static int from_env(const char *name, struct ms_credentials *c, bool token, bool *found,
                    struct ms_error *err)
{
    *found = false;
    char *value = getenv(name);
    if (!value || !*value)
        return 0;
    size_t len = strlen(value);
    int rc = map_pages(c);
    if (rc == 0 && len > MS_MAX_SECRET)
        rc = ms_error_set(err, MS_EINVAL, "%s is longer than %d bytes", name, MS_MAX_SECRET);
    if (rc == 0) {
        memcpy(token ? token_slot(c) : password_slot(c), value, len + 1);
        *found = true;
    }
    explicit_bzero(value, len);
    unsetenv(name);
    return rc;
}

/* The secret in slot[0..len) ends at the first line end: cut it there and wipe the rest of
 * the slot. Returns the secret's length. */
static size_t cut_line(char *slot, size_t len)
{
    size_t end = 0;
    while (end < len && slot[end] != '\n' && slot[end] != '\r')
        end++;
    explicit_bzero(slot + end, SLOT - end);
    return end;
}

/* Like ssh with a private key: a secret others can read is worth a warning, not a refusal. */
static void warn_if_shared(int fd, const char *what, const char *path)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
        ms_say("warning: the %s file '%s' can be read by other users (mode %04o); keep it "
               "private: chmod 600 '%s'",
               what, path, (unsigned)(st.st_mode & 07777), path);
}

/* The first line of path, without its line end, read straight into slot. */
static int from_file(const char *path, const char *what, double wait_s, char *slot,
                     struct ms_error *err)
{
    enum ms_file_kind kind;
    int fd = ms_localfile_open(path, what, &kind, err);
    if (fd < 0)
        return fd;
    warn_if_shared(fd, what, path);
    size_t len = 0;
    int rc = ms_localfile_read_line(fd, kind, slot, SLOT - 1, &len, wait_s, path, what, err);
    close(fd);
    size_t end = cut_line(slot, len);
    if (rc == 0 && end == len && len == SLOT - 1)
        rc = ms_error_set(err, MS_EINVAL,
                          "the first line of the %s file '%s' is longer than %d bytes", what, path,
                          MS_MAX_SECRET);
    else if (rc == 0 && memchr(slot, '\0', end))
        rc = ms_error_set(err, MS_EINVAL, "the %s file '%s' holds a NUL byte", what, path);
    else if (rc == 0 && end == 0)
        rc = ms_error_set(err, MS_EINVAL, "the %s file '%s' is empty", what, path);
    if (rc < 0)
        explicit_bzero(slot, SLOT);
    return rc;
}

/* Ask on the terminal with echo off, straight into slot. */
static int from_prompt(const char *user, char *slot, struct ms_error *err)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return ms_error_set(err, MS_EINVAL, "no terminal to ask for the password");
    struct termios saved, quiet;
    bool restore = tcgetattr(fd, &saved) == 0;
    if (restore) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    char clean[4 * (MS_MAX_HOST + 1)];
    ms_say_clean(clean, sizeof clean, user);
    dprintf(fd, "Password for %s: ", clean);
    ssize_t n = read(fd, slot, SLOT - 1);
    dprintf(fd, "\n");
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &saved);
    close(fd);
    size_t end = cut_line(slot, n > 0 ? (size_t)n : 0);
    if (end == 0 || memchr(slot, '\0', end)) {
        explicit_bzero(slot, SLOT);
        return ms_error_set(err, MS_EINVAL, "no password entered");
    }
    return 0;
}

/* Take the token (or the password): from file when given, else the environment's copy
 * already in its slot. */
static int take(struct ms_credentials *c, bool token, const char *file, const char *what,
                double wait_s, struct ms_error *err)
{
    int rc = file ? map_pages(c) : 0;
    char *slot = c->pages ? (token ? token_slot(c) : password_slot(c)) : NULL;
    if (rc == 0 && file)
        rc = from_file(file, what, wait_s, slot, err);
    if (rc == 0)
        *(token ? &c->token : &c->password) = slot;
    return rc;
}

/* The secret the user supplied, in order of precedence: --oauth2-token-file,
 * MAILSCOPE_OAUTH2_TOKEN, --password-file, MAILSCOPE_PASSWORD (both variables are already
 * in their slots). *taken says whether there was one. */
static int take_given_secret(const struct ms_credential_sources *src, bool env_token,
                             bool env_password, struct ms_credentials *out, bool *taken,
                             struct ms_error *err)
{
    *taken = true;
    if (src->token_file || env_token)
        return take(out, true, src->token_file, "OAuth2 token", src->wait_s, err);
    if (src->password_file || env_password)
        return take(out, false, src->password_file, "password", src->wait_s, err);
    *taken = false;
    return 0;
}

int ms_credentials_load(const struct ms_credential_sources *src, struct ms_credentials *out,
                        struct ms_error *err)
{
    int rc = 0;
    *out = (struct ms_credentials){0};
    /* Read (and so remove) both variables even without --user: secrets do not linger. */
    bool env_password = false, env_token = false;
    if ((rc = from_env("MAILSCOPE_PASSWORD", out, false, &env_password, err)) < 0 ||
        (rc = from_env("MAILSCOPE_OAUTH2_TOKEN", out, true, &env_token, err)) < 0)
        goto out;
    if (!src->user && !src->per_target_users) {
        if (src->password_file || src->token_file)
            rc = ms_error_set(err, MS_EINVAL, "a password or token file needs --user");
        goto out;
    }
    bool taken = false;
    rc = take_given_secret(src, env_token, env_password, out, &taken, err);
    /* Without --user (a targets file names the users) there is no one to prompt for. */
    if (rc < 0 || taken || !src->user)
        goto out;
    if (isatty(STDIN_FILENO)) {
        if ((rc = map_pages(out)) == 0)
            rc = from_prompt(src->user, password_slot(out), err);
        if (rc == 0)
            out->password = password_slot(out);
    } else
        rc =
            ms_error_set(err, MS_EINVAL,
                         "--user needs a password: set MAILSCOPE_PASSWORD, use --password-file, "
                         "or run on a terminal to be asked (or MAILSCOPE_OAUTH2_TOKEN for OAuth2)");
out:
    if (rc < 0 || (!out->password && !out->token)) {
        ms_credentials_wipe(out);
        return rc;
    }
    /* Only the secret in use stays. */
    if (out->token)
        explicit_bzero(password_slot(out), SLOT);
    else
        explicit_bzero(token_slot(out), SLOT);
    return rc;
}
