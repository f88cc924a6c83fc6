/* Fuzz target: the autoconfig / Autodiscover reader. The input is read as both formats;
 * whatever comes back stays within its caps, printable, and consistent: a valid document
 * has what a mail program needs, an invalid one has a reason and no settings. */
#include <stdbool.h>
#include <string.h>

#include "fuzz_check.h"
#include "probe/autoconfig_parse.h"

static void check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    FUZZ_CHECK(n < cap);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e);
}

static void check(const struct ms_ac_doc *d, enum ms_ac_format f)
{
    FUZZ_CHECK(d->format == f);
    FUZZ_CHECK(d->server_count <= MS_AC_MAX_SERVERS);
    check_text(d->provider, sizeof d->provider);
    check_text(d->redirect, sizeof d->redirect);
    check_text(d->error_code, sizeof d->error_code);
    check_text(d->error_message, sizeof d->error_message);
    if (!d->valid) {
        FUZZ_CHECK(d->error[0] != '\0');
        FUZZ_CHECK(d->server_count == 0 && !d->truncated);
        return;
    }
    FUZZ_CHECK(d->error[0] == '\0');
    bool incoming = false;
    for (size_t i = 0; i < d->server_count; i++) {
        const struct ms_ac_server *s = &d->servers[i];
        FUZZ_CHECK(s->hostname[0] != '\0');
        FUZZ_CHECK(s->port >= 1 && s->port <= 65535);
        FUZZ_CHECK(s->incoming == (s->type != MS_AC_SMTP));
        FUZZ_CHECK(s->socket == MS_AC_SOCKET_TLS || s->socket == MS_AC_SOCKET_STARTTLS ||
                   s->socket == MS_AC_SOCKET_PLAIN);
        check_text(s->hostname, sizeof s->hostname);
        check_text(s->username, sizeof s->username);
        check_text(s->username_pattern, sizeof s->username_pattern);
        check_text(s->authentication, sizeof s->authentication);
        check_text(s->socket_text, sizeof s->socket_text);
        incoming |= s->incoming;
    }
    if (f == MS_AC_FORMAT_AUTOCONFIG)
        FUZZ_CHECK(incoming && d->action == MS_AC_ACTION_SETTINGS);
    else if (d->action == MS_AC_ACTION_SETTINGS)
        FUZZ_CHECK(d->server_count > 0);
    else if (d->action != MS_AC_ACTION_ERROR)
        FUZZ_CHECK(d->redirect[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ms_ac_address a = {"alice", "example.com"};
    struct ms_ac_doc d;
    const char *p = (const char *)data;
    if (ms_autoconfig_parse(p, size, MS_AC_FORMAT_AUTOCONFIG, &a, &d) == 0)
        check(&d, MS_AC_FORMAT_AUTOCONFIG);
    if (ms_autoconfig_parse(p, size, MS_AC_FORMAT_AUTODISCOVER, &a, &d) == 0)
        check(&d, MS_AC_FORMAT_AUTODISCOVER);
    return 0;
}
