/* string_store.c — per-execution-context string buffers (string_store.h). */
#include "string_store.h"

#include <stdlib.h>
#include <string.h>

char *ortc_string_store_reserve(ortc_opctx *c, ortc_string_store *s, size_t bytes)
{
    int k = c->context;
    if (k < 0 || k >= ORTC_MAX_CONTEXTS) {
        ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: execution context %d", k);
        return NULL;
    }
    if (bytes == 0)
        bytes = 1;
    if (s->cap[k] < bytes) {
        /* grow by at least half, so slowly growing inputs reallocate rarely */
        size_t cap = s->cap[k] + s->cap[k] / 2;
        if (cap < bytes)
            cap = bytes;
        char *nb = realloc(s->buf[k], cap);
        if (!nb) {
            ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                          "out of memory: %zu bytes for the strings of output 0", bytes);
            return NULL;
        }
        s->buf[k] = nb;
        s->cap[k] = cap;
    }
    return s->buf[k];
}

void ortc_string_store_free(ortc_string_store *s)
{
    for (int k = 0; k < ORTC_MAX_CONTEXTS; k++)
        free(s->buf[k]);
    memset(s, 0, sizeof *s);
}
