/* error.h — error messages with context, the thread-local last error
 * behind ortc_last_error(), and ORTC_TRY (return a failed status). Library
 * code formats, never prints. Private.
 */
#ifndef ORTC_ERROR_H
#define ORTC_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "ortc/ortc.h"

#define ORTC_ERR_MAX 4096

/* ORTC_TRY(expr): evaluates expr (an ortc_status) once and returns it from
 * the calling function when it is not ORTC_STATUS_OK. The one spelling of
 * "call, return on error"; a failure that must free or roll back something
 * first keeps an explicit `if (st) { ...; return st; }`. */
#define ORTC_TRY(...)                                                                              \
    do {                                                                                           \
        ortc_status ortc_try_status_ = (__VA_ARGS__);                                              \
        if (ortc_try_status_)                                                                      \
            return ortc_try_status_;                                                               \
    } while (0)

typedef struct ortc_errbuf {
    ortc_status status;
    char msg[ORTC_ERR_MAX];
} ortc_errbuf;

/* Sets e (if not NULL) and the thread's last error; returns status. */
ortc_status ortc_err_set(ortc_errbuf *e, ortc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ortc_status ortc_err_setv(ortc_errbuf *e, ortc_status status, const char *fmt, va_list ap);
/* Prepends "prefix: " to e's message (and the thread's last error). */
void ortc_err_prefix(ortc_errbuf *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies e's message to the thread's last error; returns e->status. */
ortc_status ortc_err_publish(const ortc_errbuf *e);
void ortc_err_clear(ortc_errbuf *e);

/* Appends formatted text to buf (NUL-terminated, truncates with "..."). */
void ortc_strbuf_append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* ORTC_ERROR_H */
