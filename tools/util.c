/* util.c — error messages and whole-file reads for the tools/ library (see
 * util.h). Nothing here knows a file format.
 */
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ortc_tools_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int ortc_tools_read_file(const char *path, size_t max_size, char **data, size_t *size, char *err,
                         size_t errlen)
{
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        ortc_tools_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    for (;;) {
        if (n + 1 >= cap) { /* room for the data read next and the NUL */
            size_t ncap = cap ? cap * 2 : (size_t)1 << 16;
            char *nb = ncap < cap ? NULL : realloc(buf, ncap);
            if (!nb) {
                ortc_tools_err(err, errlen, "%s: out of memory", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (max_size && n > max_size) {
            ortc_tools_err(err, errlen, "%s: out of memory (file too large?)", path);
            goto done;
        }
        if (got == 0) {
            if (ferror(f)) {
                ortc_tools_err(err, errlen, "%s: read error", path);
                goto done;
            }
            break;
        }
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    fclose(f);
    return rc;
}

void *ortc_tools_alloc_tensor(size_t bytes)
{
    if (bytes > SIZE_MAX - 64)
        return NULL;
    return aligned_alloc(64, bytes ? (bytes + 63) & ~(size_t)63 : 64);
}
