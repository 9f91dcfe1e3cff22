/* dnnl_util.h — oneDNN glue shared by operator families: the backend
 * struct, a checked-call macro, descriptor helpers and a small "step" (one
 * primitive with its arguments and scratchpad). The oneDNN 2.x specifics
 * live here so a move to 3.x touches few files. Private to operators/.
 */
#ifndef ORTC_DNNL_UTIL_H
#define ORTC_DNNL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <oneapi/dnnl/dnnl.h>

#include "backend.h"
#include "operator.h"

struct ortc_backend {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int threads;
};

/* Records "oneDNN call <text> failed at <file>:<line>: <status>" through
 * ortc_op_error (so the message names the node) and returns
 * ORTC_STATUS_RUNTIME_ERROR from the enclosing function. */
ortc_status ortc_dnnl_error(ortc_opctx *c, dnnl_status_t s, const char *call, const char *file,
                            int line);
#define DNNL_CHECK(c, call)                                                     \
    do {                                                                        \
        dnnl_status_t dnnl_check_s_ = (call);                                   \
        if (dnnl_check_s_ != dnnl_success)                                      \
            return ortc_dnnl_error((c), dnnl_check_s_, #call, __FILE__, __LINE__); \
    } while (0)

/* ---- memory descriptors (f32) ------------------------------------------
 * Rank 0 is described as the 1-D shape [1]. Activations are always plain
 * for now; these helpers are where a later pass can let layouts flow. */

/* Dense row-major. */
ortc_status ortc_dnnl_md_plain(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                               const int64_t *dims);
/* Explicit strides in elements (e.g. a transposed matrix). */
ortc_status ortc_dnnl_md_strided(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                                 const int64_t *dims, const int64_t *strides);
/* format_tag_any: the primitive chooses (weights only, for now). */
ortc_status ortc_dnnl_md_any(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                             const int64_t *dims);

/* ---- primitives -------------------------------------------------------- */

#define ORTC_DNNL_MAX_ARGS 8

/* One primitive ready to execute: its arguments are memory objects created
 * in prepare whose data handles run points at the step's tensors. */
typedef struct ortc_dnnl_step {
    dnnl_primitive_t prim;     /* NULL: not built */
    dnnl_memory_t scratch;     /* NULL: no scratchpad needed */
    int n_args;
    dnnl_exec_arg_t args[ORTC_DNNL_MAX_ARGS];
} ortc_dnnl_step;

/* A new attribute set in user scratchpad mode (caller destroys it). */
ortc_status ortc_dnnl_attr_new(ortc_opctx *c, dnnl_primitive_attr_t *attr);
/* Primitive descriptor for an op descriptor (dnnl_*_desc_t). attr may be
 * NULL: user scratchpad mode is applied either way. On dnnl_unimplemented
 * *pd is NULL and OK is returned with *unimplemented set (when the pointer
 * is not NULL; otherwise it is an error) so callers can fall back to the
 * plain-C kernel. */
ortc_status ortc_dnnl_pd_create(ortc_opctx *c, dnnl_primitive_desc_t *pd, const void *op_desc,
                                const_dnnl_primitive_attr_t attr, bool *unimplemented);
/* Builds the primitive from pd (pd stays the caller's), its scratchpad
 * memory (handle set at run from c->scratch) and raises c->scratch_bytes to
 * what it needs. */
ortc_status ortc_dnnl_step_create(ortc_opctx *c, ortc_dnnl_step *st,
                                  const_dnnl_primitive_desc_t pd);
/* A memory object for md without a buffer (run sets the handle). *mem is
 * also recorded as argument `arg` of st when st is not NULL. */
ortc_status ortc_dnnl_step_mem(ortc_opctx *c, ortc_dnnl_step *st, int arg,
                               const dnnl_memory_desc_t *md, dnnl_memory_t *mem);
/* Sets a data handle (const data is only read by the primitive). */
ortc_status ortc_dnnl_set(ortc_opctx *c, dnnl_memory_t mem, const void *data);
/* Executes on the backend's stream (no wait, no allocation). */
ortc_status ortc_dnnl_step_run(ortc_opctx *c, ortc_dnnl_step *st);
void ortc_dnnl_step_free(ortc_dnnl_step *st);

/* Reorders constant data described by src_md into a new 64-byte aligned
 * buffer in layout dst_md (prepare time; waits for completion). On success
 * *buf owns the bytes (free()) and *mem (destroy) wraps them. */
ortc_status ortc_dnnl_reorder_const(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                                    const dnnl_memory_desc_t *src_md, const void *src,
                                    void **buf, dnnl_memory_t *mem);

/* Weights for a primitive: when the data is constant and the primitive's
 * chosen layout differs from the plain one, reordered once into an owned
 * buffer; otherwise the user's tensor is bound at every run. */
typedef struct ortc_dnnl_weights {
    dnnl_memory_t mem;
    void *packed;   /* owned reordered copy; NULL: bind the input at run */
} ortc_dnnl_weights;

/* Sets up w for argument `arg` of st: `want` is the primitive's weights md
 * (queried from its pd), `user` the plain md of the input, `data` its
 * contents when constant (NULL otherwise, and then want must equal user). */
ortc_status ortc_dnnl_weights_init(ortc_opctx *c, ortc_dnnl_step *st, int arg,
                                   ortc_dnnl_weights *w, const dnnl_memory_desc_t *want,
                                   const dnnl_memory_desc_t *user, const void *data);
/* Binds the input when not packed. */
ortc_status ortc_dnnl_weights_bind(ortc_opctx *c, ortc_dnnl_weights *w, const void *data);
void ortc_dnnl_weights_free(ortc_dnnl_weights *w);

/* Number of oneDNN primitive executions started by operators since the
 * process began (atomic). Tests use it to tell the oneDNN path from a
 * plain-C fallback. */
uint64_t ortc_dnnl_exec_count(void);

#endif
