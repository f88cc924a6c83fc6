/* The local files a user names (--targets-file, --password-file, --oauth2-token-file,
 * --ca-file), opened without ever blocking: open() on a FIFO without a writer waits for one
 * forever, whatever --deadline says, so every open is O_NONBLOCK and the caller decides,
 * from the file's type, how to read it. */
#ifndef MS_LOCALFILE_H
#define MS_LOCALFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "probe/error.h"

enum ms_file_kind {
    MS_FILE_REGULAR, /* returned blocking: reads never wait */
    MS_FILE_STREAM,  /* a pipe, FIFO, socket or character device: returned non-blocking */
};

/* Open path for reading. A directory is refused. what names the file in messages ("the
 * password file 'PATH': Is a directory"). Returns the fd (O_CLOEXEC) and its kind, or
 * MS_EINVAL with err. */
int ms_localfile_open(const char *path, const char *what, enum ms_file_kind *kind,
                      struct ms_error *err);

/* The kind of an fd already open (stdin), or MS_EINVAL with err for a directory or an fd
 * that cannot be examined. */
int ms_localfile_kind(int fd, const char *path, const char *what, enum ms_file_kind *kind,
                      struct ms_error *err);

/* Check that path is a regular file one can open, for a file another library opens itself
 * with a blocking open (OpenSSL and --ca-file). Returns 0 or MS_EINVAL with err. */
int ms_localfile_check_regular(const char *path, const char *what, struct ms_error *err);

/* Read into buf (capacity cap) until a line end ('\n'), the end of the file or a full
 * buffer; *len gets the bytes read (the line end included, when it came). A stream is
 * waited for at most wait_s seconds in all. Returns 0, or MS_EINVAL with err (an I/O
 * error, or nothing more came within wait_s). */
int ms_localfile_read_line(int fd, enum ms_file_kind kind, char *buf, size_t cap, size_t *len,
                           double wait_s, const char *path, const char *what, struct ms_error *err);

#endif
