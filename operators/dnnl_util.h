/* dnnl_util.h — oneDNN glue shared by operator families: the backend
 * struct, a checked-call macro, descriptor helpers, memory objects as each
 * execution context sees them, a small "step" (one primitive with its
 * arguments and scratchpad), blocked-layout plumbing (input descriptors,
 * output layouts, run-time reorders into scratch), and the oneDNN side of
 * the fusion contract (post-op attributes, the summand of a fused sum).
 * The oneDNN 2.x specifics live here and in dnnl_prim.c, so a move to 3.x
 * touches few files. Whole single-primitive operators: dnnl_prim.h.
 * Private to operators/.
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
    struct ortc_pack_queue *pack; /* weights packed while compiling (dnnl_pack.c) */
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

/* ---- memory descriptors (f32 unless typed) -----------------------------
 * Rank 0 is described as the 1-D shape [1]. */

/* Dense row-major. */
ortc_status ortc_dnnl_md_plain(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                               const int64_t *dims);
/* Explicit strides in elements (e.g. a transposed matrix); NULL: plain. */
ortc_status ortc_dnnl_md_strided(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                                 const int64_t *dims, const int64_t *strides);
/* A layout by oneDNN format tag (dnnl_acdb, dnnl_aBcd16b, ...). */
ortc_status ortc_dnnl_md_tag(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                             dnnl_format_tag_t tag);
/* oneDNN's element type for d (u8, s8, s32, f32); dnnl_data_type_undef
 * for the others. */
dnnl_data_type_t ortc_dnnl_type(ortc_dtype d);
/* A descriptor of (rank, dims) with element type d: dense row-major when
 * tag is dnnl_format_tag_undef, else by tag (dnnl_format_tag_any: the
 * primitive chooses). */
ortc_status ortc_dnnl_md_typed(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                               ortc_dtype d, dnnl_format_tag_t tag);
/* format_tag_any: the primitive chooses. */
ortc_status ortc_dnnl_md_any(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims);
/* The descriptor of execution argument `arg` (DNNL_ARG_SRC, ...) of a
 * primitive descriptor; NULL when it has none. */
const dnnl_memory_desc_t *ortc_dnnl_pd_md(const_dnnl_primitive_desc_t pd, int arg);

/* ---- layouts between steps ----------------------------------------------
 * A blocked value carries the producer's dnnl_memory_desc_t (ortc_layout
 * desc, owned by the producer's state); consumers copy it in prepare. */

/* Whether input i arrives in a blocked layout. */
bool ortc_dnnl_in_blocked(const ortc_opctx *c, int i);
/* Whether output k may be left in a blocked layout (every consumer takes
 * one; for an int8/uint8 output, one of int8 values: see below). */
bool ortc_dnnl_out_blocked_ok(const ortc_opctx *c, int k);
/* Whether output k has consumers and each declares ORTC_OP_BLOCKED_INT8. */
bool ortc_dnnl_consumers_take_int8(const ortc_opctx *c, int k);
/* Input i's descriptor: the producer's when blocked, else dense row-major
 * over its dims in its own element type (float32 for the types oneDNN
 * lacks). */
ortc_status ortc_dnnl_md_input(ortc_opctx *c, int i, dnnl_memory_desc_t *md);
/* Whether md is the dense row-major layout of its own dims. */
bool ortc_dnnl_md_is_plain(const dnnl_memory_desc_t *md);
/* Declares output k's layout: plain when *md is dense row-major, else
 * blocked with desc = md (which must live in the op's state until release).
 * A blocked md when out_blocked_ok[k] is false is an internal error. */
ortc_status ortc_dnnl_set_out_layout(ortc_opctx *c, int k, const dnnl_memory_desc_t *md);
/* bf16 mode (ortc_options.precision): whether the session asks c's kernel
 * to compute in bf16 (c->precision; never in reference mode). The op then
 * describes its source and weights as bf16 (ortc_dnnl_md_bf16), keeps its
 * destination and bias f32 and checks the chosen implementation: where
 * oneDNN has only its reference one (or none) the op builds its fp32
 * kernel instead. On success it sets c->bf16. */
bool ortc_dnnl_bf16_wanted(const ortc_opctx *c);
/* The same descriptor with bfloat16 elements (same dims, layout or any). */
void ortc_dnnl_md_bf16(dnnl_memory_desc_t *md);
/* The implementation oneDNN chose ("brgconv:avx512_core", "ref:any", ...). */
const char *ortc_dnnl_impl_name(const_dnnl_primitive_desc_t pd);
/* oneDNN's reference implementations: correct but slow. */
bool ortc_dnnl_impl_is_ref(const_dnnl_primitive_desc_t pd);
/* Whether oneDNN has only its reference implementation for a descriptor
 * (*pd from ortc_dnnl_pd_create), or none (unimpl); then *pd, when set, is
 * destroyed and NULL. */
bool ortc_dnnl_pd_only_ref(dnnl_primitive_desc_t *pd, bool unimpl);

/* ---- memory objects ------------------------------------------------------
 * A oneDNN memory object carries its data handle, and execution contexts
 * run concurrently: each context k binds its own object. [0] is created in
 * prepare; [k] on context k's first run, with [0]'s descriptor (and [0]'s
 * handle when the op never sets one at run: packed weights, fixed data). */
typedef struct ortc_dnnl_mem {
    dnnl_memory_t m[ORTC_MAX_CONTEXTS];
} ortc_dnnl_mem;

/* Sets the data handle for the context running c (const data is only read
 * by the primitive); creates that context's object on first use. */
ortc_status ortc_dnnl_set(ortc_opctx *c, ortc_dnnl_mem *mem, const void *data);
/* Destroys every context's object (a zeroed mem is a no-op). */
void ortc_dnnl_mem_free(ortc_dnnl_mem *mem);

/* ---- primitives -------------------------------------------------------- */

/* an LSTM with peepholes takes 10 arguments and its scratchpad */
#define ORTC_DNNL_MAX_ARGS 12

/* One primitive ready to execute: its arguments are memory objects (owned
 * by the op's state) created in prepare whose handles run sets. The step
 * owns its scratchpad object. Steps and their memory objects must not move
 * once created (they refer to each other). */
typedef struct ortc_dnnl_step {
    dnnl_primitive_t prim; /* NULL: not built */
    /* prim is being created on the compile's other threads (dnnl_pack.c):
     * set until the compiler's ortc_backend_pack_wait; compiling thread only */
    struct ortc_backend *later;
    char impl[48]; /* oneDNN's implementation name (c->impl points here) */
    /* runs on the calling thread alone: a small element-wise step, where
     * waking the other kernel threads costs more than the work */
    bool serial;
    ortc_dnnl_mem scratch; /* no objects: no scratchpad needed */
    size_t scratch_off;    /* where in c->scratch the scratchpad starts */
    int n_args;
    struct {
        int arg;
        ortc_dnnl_mem *mem;
    } args[ORTC_DNNL_MAX_ARGS];
} ortc_dnnl_step;

/* A new attribute set in user scratchpad mode (caller destroys it). */
ortc_status ortc_dnnl_attr_new(ortc_opctx *c, dnnl_primitive_attr_t *attr);
/* Scales the primitive's result by `scale` (oneDNN 2.x output scales). */
ortc_status ortc_dnnl_attr_scale(ortc_opctx *c, dnnl_primitive_attr_t attr, float scale);
/* Appends y = alpha * y to attr's post-ops (an eltwise linear post-op). */
ortc_status ortc_dnnl_attr_linear(ortc_opctx *c, dnnl_primitive_attr_t attr, float alpha);
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
 * what it needs. Records the implementation's name as c->impl unless pd is
 * a reorder and the op already named a kernel (the op's own primitive, not
 * the reorders around it, names the step in profiles). */
ortc_status ortc_dnnl_step_create(ortc_opctx *c, ortc_dnnl_step *st,
                                  const_dnnl_primitive_desc_t pd);
/* A memory object for md without a buffer (run sets the handle), recorded
 * as argument `arg` of st when st is not NULL. */
ortc_status ortc_dnnl_step_mem(ortc_opctx *c, ortc_dnnl_step *st, int arg,
                               const dnnl_memory_desc_t *md, ortc_dnnl_mem *mem);
/* Executes on the context's stream (no wait; no allocation after the
 * context's first run). */
ortc_status ortc_dnnl_step_run(ortc_opctx *c, ortc_dnnl_step *st);
/* Whether a step of pd runs on the calling thread alone (the `serial` of
 * its ortc_dnnl_step): an element-wise kind with a small output. */
bool ortc_dnnl_pd_runs_serial(const_dnnl_primitive_desc_t pd);
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
    ortc_dnnl_mem from, to;
} ortc_dnnl_reorder;
/* scratch_off: where its scratchpad (if any) may go, as for steps. */
ortc_status ortc_dnnl_reorder_init(ortc_opctx *c, ortc_dnnl_reorder *r,
                                   const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                   size_t scratch_off);
ortc_status ortc_dnnl_reorder_run(ortc_opctx *c, ortc_dnnl_reorder *r, const void *from, void *to);
void ortc_dnnl_reorder_free(ortc_dnnl_reorder *r); /* a zeroed r is a no-op */

/* Plain copies of the blocked inputs, for plain-C fallbacks (reference
 * kernels read dense row-major data). */
#define ORTC_DNNL_MAX_UNBLOCK 4
#define ORTC_DNNL_MAX_IO 10 /* QLinearConv's 9 inputs */
typedef struct ortc_dnnl_unblock {
    int n;
    int input[ORTC_DNNL_MAX_UNBLOCK];
    size_t off[ORTC_DNNL_MAX_UNBLOCK];
    ortc_dnnl_reorder r[ORTC_DNNL_MAX_UNBLOCK];
} ortc_dnnl_unblock;
/* Plans a reorder to plain (in the input's own element type) in scratch
 * for every blocked input of c (none
 * planned, and no limit on c->n_in, when no input is blocked). */
ortc_status ortc_dnnl_unblock_init(ortc_opctx *c, ortc_dnnl_unblock *u, size_t *used);
/* Runs them and fills *v as a copy of c whose blocked inputs point at the
 * plain copies (ins/ptrs: storage for c->n_in entries, at most
 * ORTC_DNNL_MAX_IO). */
ortc_status ortc_dnnl_unblock_run(ortc_opctx *c, ortc_dnnl_unblock *u, ortc_opctx *v,
                                  ortc_tensor *ins, ortc_tensor **ptrs);
void ortc_dnnl_unblock_free(ortc_dnnl_unblock *u);
/* reference(c), or reference on the plain copies when u (may be NULL)
 * planned any. */
ortc_status ortc_dnnl_unblock_call(ortc_opctx *c, ortc_dnnl_unblock *u,
                                   ortc_status (*reference)(ortc_opctx *c));

/* The layouts around a kernel (a primitive, or a kernel of this project)
 * that reads input `input` in layout src and writes output `output` in
 * layout dst: the input reordered into scratch when it arrives in another
 * layout; the output kept in dst when dst is plain or every consumer takes
 * a blocked layout (declared through ortc_dnnl_set_out_layout), otherwise
 * written to scratch and reordered into the plain output. */
typedef struct ortc_dnnl_io {
    int input, output; /* -1: not handled */
    bool reorder_in;   /* input: reordered into scratch at in_off */
    size_t in_off;
    ortc_dnnl_reorder in_r;
    bool via_scratch; /* output: written at out_off, then reordered */
    size_t out_off;
    ortc_dnnl_reorder out_r;
    dnnl_memory_desc_t dst_md; /* the kernel's output layout (a blocked
                                   out_layout desc points here) */
} ortc_dnnl_io;
/* input / output: -1 to leave that side alone (src / dst then unused).
 * x_md: how the input arrives (NULL: ortc_dnnl_md_input); blocked_ok:
 * whether the output may stay blocked (NULL: ortc_dnnl_out_blocked_ok); a
 * reordered output is plain in the output's own element type.
 * Buffers are reserved after *used; the reorders' scratchpads go after
 * them (*used on return), where the kernel's may go too. */
ortc_status ortc_dnnl_io_init(ortc_opctx *c, ortc_dnnl_io *io, int input,
                              const dnnl_memory_desc_t *x_md, const dnnl_memory_desc_t *src,
                              int output, const dnnl_memory_desc_t *dst,
                              bool (*blocked_ok)(const ortc_opctx *c, int k), size_t *used);
/* Before the kernel: *src is the input to read (x itself, or its reordered
 * copy) and *dst where to write (output `output`'s data, or scratch). */
ortc_status ortc_dnnl_io_begin(ortc_opctx *c, ortc_dnnl_io *io, const void *x, const void **src,
                               void **dst);
/* After the kernel: the scratch result reordered into the output. */
ortc_status ortc_dnnl_io_end(ortc_opctx *c, ortc_dnnl_io *io, void *dst);
void ortc_dnnl_io_free(ortc_dnnl_io *io);

/* Reorders constant data described by src_md into a new 64-byte aligned
 * buffer in layout dst_md (prepare time; waits for completion). On success
 * *buf owns the bytes (free()) and *mem (destroy) wraps them. */
ortc_status ortc_dnnl_reorder_const(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                                    const dnnl_memory_desc_t *src_md, const void *src, void **buf,
                                    dnnl_memory_t *mem);

/* Fills dst (dst_md's size, not yet touched) with src in dst_md's layout
 * on `stream`, and waits: the Winograd transform of dnnl_wino.c or a
 * reorder primitive, by up to `threads` threads (one below 1 MB). Errors
 * name c->node. */
ortc_status ortc_dnnl_pack_now(ortc_opctx *c, dnnl_stream_t stream,
                               const dnnl_memory_desc_t *dst_md, const dnnl_memory_desc_t *src_md,
                               const void *src, void *dst, int threads);
/* Queues that packing for the packing thread (dnnl_pack.c) when the
 * compiler turned it on (ortc_backend_pack_async); false: not queued, pack
 * now. */
bool ortc_dnnl_pack_later(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                          const dnnl_memory_desc_t *src_md, const void *src, void *dst);
/* Queues the creation of st->prim from (a copy of) pd for the packing
 * threads, as for packing; false: not queued, create it now. st must stay
 * where it is until ortc_backend_pack_wait or ortc_dnnl_create_settle. */
bool ortc_dnnl_create_later(ortc_opctx *c, ortc_dnnl_step *st, const_dnnl_primitive_desc_t pd);
/* Waits for st's queued creation (taking queued jobs up to it): st->prim
 * is then set, unless it or an earlier job failed (the wait reports it). */
void ortc_dnnl_create_settle(ortc_dnnl_step *st);
/* Waits for the packing thread and frees its queue (backend destruction). */
void ortc_dnnl_pack_free(struct ortc_backend *be);

/* Weights for a primitive: when the data is constant and the primitive's
 * chosen layout differs from the plain one, reordered once into an owned
 * buffer; otherwise the user's tensor is bound at every run. When the data
 * is one of the step's inputs, the packing may finish on the packing thread
 * (ortc_dnnl_pack_later): the packed bytes are there once the compiler's
 * ortc_backend_pack_wait returns. */
typedef struct ortc_dnnl_weights {
    ortc_dnnl_mem mem;
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

/* Appends c->node's post-ops to attr, after a leading sum with scale
 * `first_sum` when it is not 0 (Gemm's beta * C). Entries map to oneDNN
 * algorithms with ONNX's formulas (hard_sigmoid is linear then clip_v2;
 * clip with min > max is linear(0, max), numpy's answer). */
ortc_status ortc_post_ops_to_attr(ortc_opctx *c, dnnl_primitive_attr_t attr, float first_sum);
/* The same with only the first `count` entries of the node's list (an op
 * that applies the rest itself, e.g. gemm.c's GELU). */
ortc_status ortc_post_ops_to_attr_first(ortc_opctx *c, dnnl_primitive_attr_t attr, float first_sum,
                                        int count);

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
/* Inactive unless c->node has a sum. may_inplace: the primitive's
 * destination is out[0] (not scratch). */
ortc_status ortc_dnnl_sum_init(ortc_opctx *c, ortc_dnnl_sum_src *ss, const dnnl_memory_desc_t *dst,
                               size_t scratch_off, bool may_inplace);
/* Before the primitive: puts the summand into dst (out[0]'s data, or the
 * op's scratch). Fails (rather than compute garbage) if out[0] is dst and
 * overlaps another input. */
ortc_status ortc_dnnl_sum_run(ortc_opctx *c, ortc_dnnl_sum_src *ss, void *dst);
void ortc_dnnl_sum_free(ortc_dnnl_sum_src *ss);

/* Whether x[0..n) holds a NaN: oneDNN's max/min drop NaNs where ONNX, like
 * numpy, propagates them, so such inputs take the plain-C kernels. */
bool ortc_f32_any_nan(const float *x, int64_t n);

/* Number of oneDNN primitive executions started by operators since the
 * process began (atomic). Tests use it to tell the oneDNN path from a
 * plain-C fallback. */
uint64_t ortc_dnnl_exec_count(void);

#endif
