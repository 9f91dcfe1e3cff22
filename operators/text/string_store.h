/* string_store.h — where operators keep the strings they make at run time
 * (StringNormalizer's case changes, Cast to string): one growable byte
 * buffer per execution context, held in the operator's state, so concurrent
 * runs never share one. The char* of the STRING output point into it and
 * stay valid until the same node runs again in the same execution context
 * (the session's next run, for a graph output) or the plan is freed. A run
 * allocates only when it needs more bytes than every earlier run of that
 * node in that context did. The runtime never folds a node with a STRING
 * output (folding would free the state under the constant).
 */
#ifndef ORTC_TEXT_STRING_STORE_H
#define ORTC_TEXT_STRING_STORE_H

#include <stddef.h>

#include "operator.h"

typedef struct ortc_string_store {
    char *buf[ORTC_MAX_CONTEXTS];
    size_t cap[ORTC_MAX_CONTEXTS];
} ortc_string_store;

/* *out = at least `bytes` (>= 1) of storage for c's execution context; the
 * previous contents may move. An error recorded on c when it cannot grow
 * (OUT_OF_MEMORY) or `bytes` is above ORTC_DEFAULT_MAX_TENSOR_BYTES, the
 * limit of one tensor (LIMIT_EXCEEDED). */
ortc_status ortc_string_store_reserve(ortc_opctx *c, ortc_string_store *s, size_t bytes,
                                      char **out);

/* Frees every context's buffer and zeroes s. */
void ortc_string_store_free(ortc_string_store *s);

#endif /* ORTC_TEXT_STRING_STORE_H */
