/* string_store.c — per-execution-context string buffers (string_store.h). */
#include "string_store.h"

#include <stdlib.h>
#include <string.h>

ortc_status ortc_string_store_reserve(ortc_opctx *c, ortc_string_store *s, size_t bytes, char **out)
{
    int k = c->context;
    *out = NULL;
    if (k < 0 || k >= ORTC_MAX_CONTEXTS)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: execution context %d", k);
    if (bytes == 0)
        bytes = 1;
    if (bytes > ORTC_DEFAULT_MAX_TENSOR_BYTES)
        return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                             "the strings of output 0 need %zu bytes, above ortc's limit of %llu",
                             bytes, (unsigned long long)ORTC_DEFAULT_MAX_TENSOR_BYTES);
    if (s->cap[k] < bytes) {
        /* grow by at least half, so slowly growing inputs reallocate rarely */
        size_t cap = s->cap[k] + s->cap[k] / 2;
        if (cap < bytes)
            cap = bytes;
        char *nb = realloc(s->buf[k], cap);
        if (!nb)
            return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                                 "out of memory: %zu bytes for the strings of output 0", bytes);
        s->buf[k] = nb;
        s->cap[k] = cap;
    }
    *out = s->buf[k];
    return ORTC_STATUS_OK;
}

void ortc_string_store_free(ortc_string_store *s)
{
    for (int k = 0; k < ORTC_MAX_CONTEXTS; k++)
        free(s->buf[k]);
    memset(s, 0, sizeof *s);
}
