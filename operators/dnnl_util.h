/* dnnl_util.h — oneDNN glue shared by operator families: the backend
 * struct, a checked-call macro, descriptor helpers, a small "step" (one
 * primitive with its arguments and scratchpad), blocked-layout plumbing
 * (input descriptors, output layouts, run-time reorders into scratch) and
 * the fusion contract's post-op list (parse, oneDNN attribute, plain-C
 * application). The oneDNN 2.x specifics live here so a move to 3.x
 * touches few files. Private to operators/.
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
    dnnl_stream_t stream;                     /* context 0 */
    dnnl_stream_t streams[ORTC_MAX_CONTEXTS]; /* [k]: context k (0 unused) */
    int threads;
};

/* The stream of the context running c (oneDNN streams are not thread-safe). */
dnnl_stream_t ortc_dnnl_stream(const ortc_opctx *c);

/* Records "oneDNN call <text> failed at <file>:<line>: <status>" through
 * ortc_op_error (so the message names the node) and returns
 * ORTC_STATUS_RUNTIME_ERROR from the enclosing function. */
ortc_status ortc_dnnl_error(ortc_opctx *c, dnnl_status_t s, const char *call, const char *file,
                            int line);
#define DNNL_CHECK(c, call)                                                                        \
    do {                                                                                           \
        dnnl_status_t dnnl_check_s_ = (call);                                                      \
        if (dnnl_check_s_ != dnnl_success)                                                         \
            return ortc_dnnl_error((c), dnnl_check_s_, #call, __FILE__, __LINE__);                 \
    } while (0)

/* ---- memory descriptors (f32) ------------------------------------------
 * Rank 0 is described as the 1-D shape [1]. */

/* Dense row-major. */
ortc_status ortc_dnnl_md_plain(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                               const int64_t *dims);
/* Explicit strides in elements (e.g. a transposed matrix). */
ortc_status ortc_dnnl_md_strided(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                                 const int64_t *dims, const int64_t *strides);
/* format_tag_any: the primitive chooses. */
ortc_status ortc_dnnl_md_any(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims);

/* ---- layouts between steps ----------------------------------------------
 * A blocked value carries the producer's dnnl_memory_desc_t (ortc_layout
 * desc, owned by the producer's state); consumers copy it in prepare. */

/* Whether input i arrives in a blocked layout. */
bool ortc_dnnl_in_blocked(const ortc_opctx *c, int i);
/* Input i's descriptor: the producer's when blocked, else dense row-major
 * over its dims. */
ortc_status ortc_dnnl_md_input(ortc_opctx *c, int i, dnnl_memory_desc_t *md);
/* Whether md is the dense row-major layout of its own dims. */
bool ortc_dnnl_md_is_plain(const dnnl_memory_desc_t *md);
/* Declares output k's layout: plain when *md is dense row-major, else
 * blocked with desc = md (which must live in the op's state until release).
 * A blocked md when out_blocked_ok[k] is false is an internal error. */
ortc_status ortc_dnnl_set_out_layout(ortc_opctx *c, int k, const dnnl_memory_desc_t *md);
/* The implementation oneDNN chose ("brgconv:avx512_core", "ref:any", ...). */
const char *ortc_dnnl_impl_name(const_dnnl_primitive_desc_t pd);
/* oneDNN's reference implementations: correct but slow. */
bool ortc_dnnl_impl_is_ref(const_dnnl_primitive_desc_t pd);

/* ---- primitives -------------------------------------------------------- */

#define ORTC_DNNL_MAX_ARGS 8

/* One primitive ready to execute: its arguments are memory objects created
 * in prepare whose data handles run points at the step's tensors. */
typedef struct ortc_dnnl_step {
    dnnl_primitive_t prim; /* NULL: not built */
    dnnl_memory_t scratch; /* NULL: no scratchpad needed */
    size_t scratch_off;    /* where in c->scratch the scratchpad starts */
    int n_args;
    dnnl_exec_arg_t args[ORTC_DNNL_MAX_ARGS];
    /* contexts 1..: their own memory objects for args (the scratchpad is
     * one of them), created on the context's first run */
    dnnl_memory_t clone[ORTC_MAX_CONTEXTS][ORTC_DNNL_MAX_ARGS];
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
 * memory (handle set at run to c->scratch + st->scratch_off, which the
 * caller sets beforehand; 0 by default) and raises c->scratch_bytes to
 * what it needs. */
ortc_status ortc_dnnl_step_create(ortc_opctx *c, ortc_dnnl_step *st,
                                  const_dnnl_primitive_desc_t pd);
/* A memory object for md without a buffer (run sets the handle). *mem is
 * also recorded as argument `arg` of st when st is not NULL. */
ortc_status ortc_dnnl_step_mem(ortc_opctx *c, ortc_dnnl_step *st, int arg,
                               const dnnl_memory_desc_t *md, dnnl_memory_t *mem);
/* Sets a data handle (const data is only read by the primitive). In
 * contexts other than 0 the handle is recorded in c and applied to that
 * context's own copy of mem by the next step run. */
ortc_status ortc_dnnl_set(ortc_opctx *c, dnnl_memory_t mem, const void *data);
/* Executes on the backend's stream (no wait, no allocation). */
ortc_status ortc_dnnl_step_run(ortc_opctx *c, ortc_dnnl_step *st);
void ortc_dnnl_step_free(ortc_dnnl_step *st);

/* ---- scratch buffers and run-time reorders -------------------------------
 * An op's scratch is [its own buffers][primitive scratchpads]: reserve the
 * buffers first (ortc_dnnl_scratch_take), then create steps with
 * scratch_off = *used. All steps of one op run in turn, so their
 * scratchpads share the region after the buffers. */

/* Reserves `bytes` (64-byte aligned) after *used; returns the offset and
 * raises c->scratch_bytes. */
size_t ortc_dnnl_scratch_take(ortc_opctx *c, size_t *used, size_t bytes);
/* c->scratch + off. */
void *ortc_dnnl_scratch_at(const ortc_opctx *c, size_t off);

/* A reorder between two layouts of the same tensor, run at every run. */
typedef struct ortc_dnnl_reorder {
    ortc_dnnl_step step;
    dnnl_memory_t from, to;
} ortc_dnnl_reorder;
/* scratch_off: where its scratchpad (if any) may go, as for steps. */
ortc_status ortc_dnnl_reorder_init(ortc_opctx *c, ortc_dnnl_reorder *r,
                                   const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                   size_t scratch_off);
ortc_status ortc_dnnl_reorder_run(ortc_opctx *c, ortc_dnnl_reorder *r, const void *from, void *to);
void ortc_dnnl_reorder_free(ortc_dnnl_reorder *r);

/* Plain copies of the blocked inputs, for plain-C fallbacks (reference
 * kernels read dense row-major data). */
#define ORTC_DNNL_MAX_UNBLOCK 4
typedef struct ortc_dnnl_unblock {
    int n;
    int input[ORTC_DNNL_MAX_UNBLOCK];
    size_t off[ORTC_DNNL_MAX_UNBLOCK];
    ortc_dnnl_reorder r[ORTC_DNNL_MAX_UNBLOCK];
} ortc_dnnl_unblock;
/* Plans a reorder to plain in scratch for every blocked input of c. */
ortc_status ortc_dnnl_unblock_init(ortc_opctx *c, ortc_dnnl_unblock *u, size_t *used);
/* Runs them and fills *v as a copy of c whose blocked inputs point at the
 * plain copies (ins/ptrs: storage for c->n_in entries, at most
 * ORTC_DNNL_MAX_IO). */
#define ORTC_DNNL_MAX_IO 8
ortc_status ortc_dnnl_unblock_run(ortc_opctx *c, ortc_dnnl_unblock *u, ortc_opctx *v,
                                  ortc_tensor *ins, ortc_tensor **ptrs);
void ortc_dnnl_unblock_free(ortc_dnnl_unblock *u);

/* Reorders constant data described by src_md into a new 64-byte aligned
 * buffer in layout dst_md (prepare time; waits for completion). On success
 * *buf owns the bytes (free()) and *mem (destroy) wraps them. */
ortc_status ortc_dnnl_reorder_const(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                                    const dnnl_memory_desc_t *src_md, const void *src, void **buf,
                                    dnnl_memory_t *mem);

/* Weights for a primitive: when the data is constant and the primitive's
 * chosen layout differs from the plain one, reordered once into an owned
 * buffer; otherwise the user's tensor is bound at every run. */
typedef struct ortc_dnnl_weights {
    dnnl_memory_t mem;
    void *packed; /* owned reordered copy; NULL: bind the input at run */
} ortc_dnnl_weights;

/* Sets up w for argument `arg` of st: `want` is the primitive's weights md
 * (queried from its pd), `user` the plain md of the input, `data` its
 * contents when constant (NULL otherwise, and then want must equal user). */
ortc_status ortc_dnnl_weights_init(ortc_opctx *c, ortc_dnnl_step *st, int arg, ortc_dnnl_weights *w,
                                   const dnnl_memory_desc_t *want, const dnnl_memory_desc_t *user,
                                   const void *data);
/* Binds the input when not packed. */
ortc_status ortc_dnnl_weights_bind(ortc_opctx *c, ortc_dnnl_weights *w, const void *data);
void ortc_dnnl_weights_free(ortc_dnnl_weights *w);

/* ---- fused post-ops (operator.h's fusion contract) ------------------------ */

typedef enum ortc_post_op_kind {
    ORTC_PO_RELU,       /* max(x, 0) */
    ORTC_PO_LEAKY_RELU, /* a: alpha */
    ORTC_PO_CLIP,       /* a: min, b: max */
    ORTC_PO_SIGMOID,
    ORTC_PO_TANH,
    ORTC_PO_ELU,          /* a: alpha */
    ORTC_PO_HARD_SIGMOID, /* a: alpha, b: beta */
    ORTC_PO_SUM           /* += input ORTC_FUSED_SUM_INPUT */
} ortc_post_op_kind;

#define ORTC_MAX_POST_OPS 8

typedef struct ortc_post_ops {
    int n;
    struct {
        ortc_post_op_kind kind;
        float a, b;
    } op[ORTC_MAX_POST_OPS];
    bool has_sum;
} ortc_post_ops;

/* Reads and validates the node's ORTC_ATTR_POST_OPS (absent: empty list).
 * INVALID_MODEL naming the entry for an unknown name, a wrong argument
 * count or a malformed number, more than one "sum", or a list longer than
 * ORTC_MAX_POST_OPS. */
ortc_status ortc_post_ops_parse(ortc_opctx *c, ortc_post_ops *po);
/* With "sum": input ORTC_FUSED_SUM_INPUT must be present, float32 and of the
 * output's shape (rank/dims); without: it must be absent. */
ortc_status ortc_post_ops_check_sum(ortc_opctx *c, const ortc_post_ops *po, int rank,
                                    const int64_t *dims);
// y: (n) plain; sum: (n) the summand (NULL without "sum"). Applies the list
// in order, in place, with the eltwise reference formulas.
void ortc_post_ops_apply_ref(float *y, const float *sum, int64_t n, const ortc_post_ops *po);
/* Appends the list to attr's post-ops, after a leading sum with scale
 * `first_sum` when it is not 0 (Gemm's beta * C). Eltwise entries map to
 * oneDNN algorithms with ONNX's formulas (hard_sigmoid is linear then
 * clip_v2; clip with min > max is linear(0, max), numpy's answer). */
ortc_status ortc_post_ops_to_attr(ortc_opctx *c, dnnl_primitive_attr_t attr, float first_sum,
                                  const ortc_post_ops *po);

/* The summand of a fused "sum" must sit in the destination before the
 * primitive runs: nothing to do when the planner put the output in place
 * over it (same pointer; requested by ortc_dnnl_sum_init through
 * c->inplace[0] when the layouts match and no other input is the same
 * value), a copy when only the pointer differs, a reorder when the layouts
 * differ. */
typedef struct ortc_dnnl_sum_src {
    bool active;
    bool reorder;
    size_t bytes;
    ortc_dnnl_reorder r;
} ortc_dnnl_sum_src;
/* may_inplace: the primitive's destination is out[0] (not scratch). */
ortc_status ortc_dnnl_sum_init(ortc_opctx *c, ortc_dnnl_sum_src *ss, const ortc_post_ops *po,
                               const dnnl_memory_desc_t *dst, size_t scratch_off, bool may_inplace);
/* Before the primitive: puts the summand into dst (out[0]'s data, or the
 * op's scratch). Fails (rather than compute garbage) if out[0] is dst and
 * overlaps another input. */
ortc_status ortc_dnnl_sum_run(ortc_opctx *c, ortc_dnnl_sum_src *ss, void *dst);
void ortc_dnnl_sum_free(ortc_dnnl_sum_src *ss);

/* Number of oneDNN primitive executions started by operators since the
 * process began (atomic). Tests use it to tell the oneDNN path from a
 * plain-C fallback. */
uint64_t ortc_dnnl_exec_count(void);

#endif
