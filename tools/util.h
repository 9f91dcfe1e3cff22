/* util.h — what the tools/ library's files share: formatting a message into
 * the caller's error buffer, and reading a whole file. Not part of the
 * public API; the `ortc` command has its own helpers (cli.h).
 */
#ifndef ORTC_TOOLS_UTIL_H
#define ORTC_TOOLS_UTIL_H

#include <stddef.h>

/* Formats into err[0..errlen); does nothing when err is NULL or errlen 0. */
void ortc_tools_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads the file at `path` whole into *data (malloc'd, the caller frees it;
 * a NUL byte follows the *size bytes, so text can be parsed in place).
 * max_size > 0 refuses larger files ("out of memory (file too large?)").
 * 0, or -1 with *data NULL and a message that starts with the path:
 * "<path>: <strerror>", "<path>: out of memory", "<path>: read error". */
int ortc_tools_read_file(const char *path, size_t max_size, char **data, size_t *size, char *err,
                         size_t errlen);

/* bytes (at least 1) of 64-byte aligned memory for a tensor's data, free()d
 * as usual; NULL when out of memory. ortc runs a caller's tensor in place
 * only at that alignment (a misaligned one costs a copy each run). */
void *ortc_tools_alloc_tensor(size_t bytes);

#endif
