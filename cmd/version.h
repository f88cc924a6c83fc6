/* --version: the program's version (the CMake project version, plus `git describe` when it
 * was built from a git checkout) and, for every library it links, the version it runs with
 * and the one it was built against (a bug report needs both: a distribution may update a
 * shared library under a built binary). */
#ifndef MS_VERSION_H
#define MS_VERSION_H

#include <stdio.h>

struct ms_libversion {
    const char *name;             /* as people know it: "OpenSSL", "c-ares" */
    const char *built;            /* the headers' version, at compile time */
    const char *(*running)(void); /* the loaded library's own answer, at run time */
};

/* Prints "PROGRAM VERSION[ (git DESCRIBE)]" and one line per library: the ones every
 * mailscope program links (the probe and the report: OpenSSL, c-ares, jansson, the C
 * library), then `extra` (a program's own, e.g. the HTTP server's). Returns 0, or -1 when
 * stdout reports an error. */
int ms_version_print(FILE *out, const char *program, const struct ms_libversion *extra,
                     size_t n_extra);

#endif
