#include "cmd/version.h"

#include <ares.h>
#include <curl/curl.h>
#include <expat.h>
#include <gnu/libc-version.h>
#include <jansson.h>
#include <libpsl.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <string.h>

#include "ms_version_git.h" /* generated at build time: MS_VERSION_GIT, "" outside git */

#define MS_STR2(x) #x
#define MS_STR(x) MS_STR2(x)

static const char *openssl_running(void)
{
    return OpenSSL_version(OPENSSL_VERSION_STRING);
}

static const char *cares_running(void)
{
    return ares_version(NULL);
}

static const char *curl_running(void)
{
    const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    return info ? info->version : NULL;
}

/* XML_ExpatVersion() says "expat_2.5.0". */
static const char *expat_running(void)
{
    const XML_LChar *v = XML_ExpatVersion();
    return v && strncmp(v, "expat_", 6) == 0 ? v + 6 : v;
}

/* psl_get_version() says "0.21.2 (+libidn2/2.3.3)": the version is the first word. */
static const char *psl_running(void)
{
    static char version[32];
    const char *v = psl_get_version();
    if (!v)
        return NULL;
    snprintf(version, sizeof version, "%.*s", (int)strcspn(v, " "), v);
    return version;
}

/* The libraries of ms_probe and ms_report, which every mailscope program links. A library
 * linked later is one row here (and a one-line wrapper above when its version call takes
 * arguments); tests/cmd/test_version.py fails while a linked library has no row. */
static const struct ms_libversion common[] = {
    {"OpenSSL", OPENSSL_VERSION_STR, openssl_running},
    {"c-ares", ARES_VERSION_STR, cares_running},
    {"jansson", JANSSON_VERSION, jansson_version_str},
    {"glibc", MS_STR(__GLIBC__) "." MS_STR(__GLIBC_MINOR__), gnu_get_libc_version},
    {"libcurl", LIBCURL_VERSION, curl_running},
    {"expat", MS_STR(XML_MAJOR_VERSION) "." MS_STR(XML_MINOR_VERSION) "." MS_STR(XML_MICRO_VERSION),
     expat_running},
    {"libpsl", PSL_VERSION, psl_running},
};

static void print_lib(FILE *out, const struct ms_libversion *lib)
{
    const char *running = lib->running();
    fprintf(out, "  %-14s %-10s (built with %s)\n", lib->name, running ? running : "unknown",
            lib->built);
}

int ms_version_print(FILE *out, const char *program, const struct ms_libversion *extra,
                     size_t n_extra)
{
    if (MS_VERSION_GIT[0])
        fprintf(out, "%s %s (git %s)\n", program, MS_VERSION, MS_VERSION_GIT);
    else
        fprintf(out, "%s %s\n", program, MS_VERSION);
    fputs("libraries:\n", out);
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        print_lib(out, &common[i]);
    for (size_t i = 0; i < n_extra; i++)
        print_lib(out, &extra[i]);
    return ferror(out) ? -1 : 0;
}
