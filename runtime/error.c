/* error.c — formatting of error messages and the thread-local last error.
 * Does not log: the session decides whether to pass messages to a callback.
 */
#include "error.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[ORTC_ERR_MAX];

static void copy_truncated(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n < len) {
        memcpy(dst, src, n + 1);
        return;
    }
    memcpy(dst, src, len - 4);
    memcpy(dst + len - 4, "...", 4);
}

ortc_status ortc_err_setv(ortc_errbuf *e, ortc_status status, const char *fmt, va_list ap)
{
    char tmp[ORTC_ERR_MAX];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n >= (int)sizeof tmp)
        memcpy(tmp + sizeof tmp - 4, "...", 4);
    if (e) {
        e->status = status;
        memcpy(e->msg, tmp, sizeof tmp);
    }
    memcpy(last_error, tmp, sizeof tmp);
    return status;
}

ortc_status ortc_err_set(ortc_errbuf *e, ortc_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ortc_err_setv(e, status, fmt, ap);
    va_end(ap);
    return status;
}

void ortc_err_prefix(ortc_errbuf *e, const char *fmt, ...)
{
    char pre[512], tmp[ORTC_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    const char *old = e ? e->msg : last_error;
    int n = snprintf(tmp, sizeof tmp, "%s: %s", pre, old);
    if (n >= (int)sizeof tmp)
        memcpy(tmp + sizeof tmp - 4, "...", 4);
    if (e)
        memcpy(e->msg, tmp, sizeof tmp);
    memcpy(last_error, tmp, sizeof tmp);
}

ortc_status ortc_err_publish(const ortc_errbuf *e)
{
    copy_truncated(last_error, sizeof last_error, e->msg);
    return e->status;
}

void ortc_err_clear(ortc_errbuf *e)
{
    e->status = ORTC_STATUS_OK;
    e->msg[0] = '\0';
}

void ortc_strbuf_append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strnlen(buf, len);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= len - used && len >= 4)
        memcpy(buf + len - 4, "...", 4);
}

const char *ortc_last_error(void)
{
    return last_error;
}

const char *ortc_status_name(ortc_status status)
{
    switch (status) {
    case ORTC_STATUS_OK: return "OK";
    case ORTC_STATUS_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case ORTC_STATUS_IO_ERROR: return "IO_ERROR";
    case ORTC_STATUS_INVALID_MODEL: return "INVALID_MODEL";
    case ORTC_STATUS_UNSUPPORTED: return "UNSUPPORTED";
    case ORTC_STATUS_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case ORTC_STATUS_LIMIT_EXCEEDED: return "LIMIT_EXCEEDED";
    case ORTC_STATUS_RUNTIME_ERROR: return "RUNTIME_ERROR";
    }
    return "UNKNOWN_STATUS";
}
