/* Secrets for sign-in: from the environment, a file, or a no-echo prompt; never from argv.
 *
 * Held on pages of their own, mapped for them alone: excluded from core dumps
 * (MADV_DONTDUMP), locked in memory when RLIMIT_MEMLOCK allows (else they simply stay
 * unlocked), wiped (explicit_bzero) and unmapped by ms_credentials_wipe. From the moment
 * a secret is read the process is also non-dumpable (PR_SET_DUMPABLE 0: no core dump, no
 * ptrace by other users), until it exits: copies the sign-in made on the way (TLS records,
 * SASL messages) may linger in freed memory after the wipe. */
#ifndef MS_CREDENTIALS_H
#define MS_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/error.h"

#define MS_MAX_SECRET 4096

struct ms_credentials {
    char *password; /* NULL when none; points into the secret pages */
    char *token;    /* OAuth2 access token, NULL when none */
    void *pages;    /* the mapping holding both, or NULL */
    size_t pages_size;
    bool locked; /* mlock succeeded */
};

/* Where to look, from the options. */
struct ms_credential_sources {
    const char *user;          /* --user (NULL: no sign-in) */
    const char *password_file; /* --password-file */
    const char *token_file;    /* --oauth2-token-file */
    bool per_target_users;     /* a targets file may name users: read a secret without --user */
    double wait_s;             /* a pipe or FIFO must deliver the secret within this (--deadline) */
};

/* Read the secret for src->user: token (MAILSCOPE_OAUTH2_TOKEN, --oauth2-token-file) or
 * password (MAILSCOPE_PASSWORD, --password-file, else a prompt on the terminal). The
 * environment variables are wiped and removed once read. A secret file that other users
 * may read is used, with a warning on stderr. Returns 0, MS_EINVAL (with err: unreadable
 * file, empty secret, no way to get one), or MS_ENOMEM. */
int ms_credentials_load(const struct ms_credential_sources *src, struct ms_credentials *out,
                        struct ms_error *err);

/* Wipe and unmap the secrets (safe on an empty struct, and twice). */
void ms_credentials_wipe(struct ms_credentials *cred);

#endif
