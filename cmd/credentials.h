/* Secrets for sign-in: from the environment, a file, or a no-echo prompt; never from argv.
 * Held in memory this module owns and wipes. */
#ifndef MS_CREDENTIALS_H
#define MS_CREDENTIALS_H

#include <stdbool.h>

#include "probe/error.h"

#define MS_MAX_SECRET 4096

struct ms_credentials {
    char *password; /* NULL when none */
    char *token;    /* OAuth2 access token, NULL when none */
};

/* Where to look, from the options. */
struct ms_credential_sources {
    const char *user;          /* --user (NULL: no sign-in) */
    const char *password_file; /* --password-file */
    const char *token_file;    /* --oauth2-token-file */
    bool per_target_users;     /* a targets file may name users: read a secret without --user */
};

/* Read the secret for src->user: token (MAILSCOPE_OAUTH2_TOKEN, --oauth2-token-file) or
 * password (MAILSCOPE_PASSWORD, --password-file, else a prompt on the terminal). The
 * environment variables are wiped and removed once read. Returns 0, MS_EINVAL (with err:
 * unreadable file, empty secret, no way to get one), or MS_ENOMEM. */
int ms_credentials_load(const struct ms_credential_sources *src, struct ms_credentials *out,
                        struct ms_error *err);

void ms_credentials_wipe(struct ms_credentials *cred);

#endif
