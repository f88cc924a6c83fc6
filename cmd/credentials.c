#include "cmd/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void ms_credentials_wipe(struct ms_credentials *cred)
{
    wipe_free(cred->password);
    wipe_free(cred->token);
    cred->password = cred->token = NULL;
}

/* Take a secret out of the environment: copy it, then overwrite and remove the original
 * so it does not linger in this process or reach a child. */
static int from_env(const char *name, char **out)
{
    char *value = getenv(name);
    if (!value || !*value)
        return 0;
    *out = strdup(value);
    explicit_bzero(value, strlen(value));
    unsetenv(name);
    return *out ? 0 : MS_ENOMEM;
}

/* The first line of path, without its line end. */
static int from_file(const char *path, const char *what, char **out, struct ms_error *err)
{
    int rc = 0;
    char buf[MS_MAX_SECRET + 2];
    FILE *f = fopen(path, "r");
    if (!f)
        return ms_error_set(err, MS_EINVAL, "cannot read the %s file '%s': %s", what, path,
                            strerror(errno));
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        rc = ms_error_set(err, MS_EINVAL, "the %s file '%s' is empty", what, path);
        goto out;
    }
    *out = strdup(buf);
    if (!*out)
        rc = MS_ENOMEM;
out:
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* Ask on the terminal with echo off. */
static int from_prompt(const char *user, char **out, struct ms_error *err)
{
    int rc = 0;
    char buf[MS_MAX_SECRET + 2];
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
    dprintf(fd, "Password for %s: ", user);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    dprintf(fd, "\n");
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &saved);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        rc = ms_error_set(err, MS_EINVAL, "no password entered");
        goto out;
    }
    *out = strdup(buf);
    if (!*out)
        rc = MS_ENOMEM;
out:
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* The secret the user supplied, in order of precedence: --oauth2-token-file,
 * MAILSCOPE_OAUTH2_TOKEN, --password-file, MAILSCOPE_PASSWORD. *taken says whether there was
 * one; an environment value moves into out (its pointer is cleared). */
static int take_given_secret(const struct ms_credential_sources *src, char **env_token,
                             char **env_password, struct ms_credentials *out, bool *taken,
                             struct ms_error *err)
{
    *taken = true;
    if (src->token_file)
        return from_file(src->token_file, "OAuth2 token", &out->token, err);
    if (*env_token) {
        out->token = *env_token;
        *env_token = NULL;
        return 0;
    }
    if (src->password_file)
        return from_file(src->password_file, "password", &out->password, err);
    if (*env_password) {
        out->password = *env_password;
        *env_password = NULL;
        return 0;
    }
    *taken = false;
    return 0;
}

int ms_credentials_load(const struct ms_credential_sources *src, struct ms_credentials *out,
                        struct ms_error *err)
{
    int rc = 0;
    *out = (struct ms_credentials){0};
    /* Read (and so remove) both variables even without --user: secrets do not linger. */
    char *env_password = NULL, *env_token = NULL;
    if ((rc = from_env("MAILSCOPE_PASSWORD", &env_password)) < 0 ||
        (rc = from_env("MAILSCOPE_OAUTH2_TOKEN", &env_token)) < 0)
        goto out;
    if (!src->user && !src->per_target_users) {
        if (src->password_file || src->token_file)
            rc = ms_error_set(err, MS_EINVAL, "a password or token file needs --user");
        goto out;
    }
    bool taken = false;
    rc = take_given_secret(src, &env_token, &env_password, out, &taken, err);
    /* Without --user (a targets file names the users) there is no one to prompt for. */
    if (rc < 0 || taken || !src->user)
        goto out;
    if (isatty(STDIN_FILENO))
        rc = from_prompt(src->user, &out->password, err);
    else
        rc =
            ms_error_set(err, MS_EINVAL,
                         "--user needs a password: set MAILSCOPE_PASSWORD, use --password-file, "
                         "or run on a terminal to be asked (or MAILSCOPE_OAUTH2_TOKEN for OAuth2)");
out:
    wipe_free(env_password);
    wipe_free(env_token);
    if (rc < 0)
        ms_credentials_wipe(out);
    return rc;
}
