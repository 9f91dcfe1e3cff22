/* operator.h — the operator interface and registry shared by runtime/ and
 * operators/. An operator is a registry row: the facts it declares and
 * callbacks over an ortc_opctx (infer, prepare, run, release, reference,
 * flops for the profile, post_op for fusion, compile for operators that own
 * subgraphs); the runtime fills the context, operators never see files,
 * protobuf or the planner. Private: not installed.
 */
#ifndef ORTC_OPERATOR_H
#define ORTC_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ortc/ortc.h"
#include "ir.h"

struct ortc_backend;
struct ortc_subplan;
struct ortc_subgraph_services;
struct ortc_pool;

/* Concurrent ortc_session_run calls use up to this many execution contexts
 * per plan; context 0 is the plan's own. */
#define ORTC_MAX_CONTEXTS ORTC_MAX_CONCURRENT_RUNS

/* How a value is laid out in memory. Plain = dense row-major ortc_tensor.
 * Blocked layouts are oneDNN memory descriptors known only to operators/;
 * the runtime sees their byte size and inserts conversions to plain where a
 * consumer cannot take them (see ORTC_OP_ACCEPTS_BLOCKED). */
typedef struct ortc_layout {
    bool plain;
    size_t bytes; /* storage size in this layout */
    void *desc;   /* blocked: a descriptor owned by the producing step */
    /* What the value is (see "values of data-dependent size" below): a
     * tensor (zero-initialised layouts are), a sequence or an optional. */
    ortc_type type;
    /* Its size is known only at run time: a sequence, an optional, or a
     * tensor whose infer left dims unknown. It lives in the run's pool,
     * never in the arena; `bytes` is 0. */
    bool dynamic;
} ortc_layout;

typedef struct ortc_opctx {
    const ortc_node *node;
    int n_in, n_out;
    /* in[i]: NULL for an omitted optional input. dtype/rank/dims are set
     * before infer. data: set before run; before infer it is set only for
     * inputs whose contents are known at compile time (constants and folded
     * values, and graph inputs that feed a data_inputs slot). */
    ortc_tensor **in;
    /* out[k]: NULL for an omitted optional output. infer sets dtype, rank
     * and dims; the runtime sets data before run. */
    ortc_tensor **out;
    ortc_layout **in_layout;  /* NULL entries for omitted inputs */
    ortc_layout **out_layout; /* prepare may replace the default (plain) */
    /* out_blocked_ok[k]: every consumer of output k accepts a blocked
     * layout, so prepare may choose one; otherwise output k must be plain. */
    const bool *out_blocked_ok;
    void *state;                  /* the operator's own, from prepare */
    struct ortc_backend *backend; /* engine/stream; NULL in reference mode */
    int threads;
    /* Set by prepare: */
    size_t scratch_bytes; /* scratch needed by run (shared by all steps) */
    int *inplace;         /* [n_out], -1: output k may share input j's memory */
    int *view;            /* [n_out], -1: output k IS input j's memory
                                 reinterpreted (plain layout, no copy); run
                                 is then not called for this step */
    /* Set by prepare: output 0's bytes are exactly input 0's bytes, then
     * input 1's, ... (each input in its own layout, nothing between or
     * after), so the runtime may have each input's producer write straight
     * into its slice of output 0 and then not run this step (Concat; see
     * runtime/compile.c, plan_joins). */
    bool joins_inputs;
    /* The kernel run will use, for profiles: oneDNN's implementation name
     * ("brgconv:avx512_core", "jit:uni", "ref:any"; set by the oneDNN glue
     * when it creates the op's primitive) or "ortc:<kernel>" for this
     * project's own; NULL: the op's plain-C kernel. Static or owned by the
     * op's state. */
    const char *impl;
    /* Set by the runtime before run: */
    void *scratch;
    /* Error sink (runtime-owned). */
    struct ortc_errbuf *err;
    /* Which execution context runs this ctx (0: the plan's own). Kernel
     * state (primitives, weights) is shared by all contexts and read-only at
     * run except for per-context objects the backend glue keeps itself
     * (operators/dnnl_util.h, ortc_dnnl_mem). */
    int context;
    /* The runtime's subgraph services (see "subgraphs" below): set in the
     * contexts of plan steps, at compile and at run; NULL where graphs
     * cannot be compiled (graph passes, single-operator tests). */
    const struct ortc_subgraph_services *subgraphs;
    void *runtime; /* the runtime's own (the plan of this step); opaque */
    /* The run's pool for values of data-dependent size (per execution
     * context; see below). NULL where there is none (graph passes, op tests):
     * allocating from it then fails. */
    struct ortc_pool *pool;
    /* The session's options, for the limits on data-dependent sizes
     * (ortc_op_max_*); NULL: the defaults. */
    const ortc_options *options;
    /* Set by the runtime before prepare: the precision the session asks of
     * the ops that offer bf16 (Conv, ConvTranspose, Gemm, MatMul):
     * ORTC_PRECISION_BF16 only in the plan steps of a bf16 session on a CPU
     * with oneDNN bf16 kernels (never when folding constants, in graph
     * passes or in reference mode); FP32 (0) elsewhere. */
    ortc_precision precision;
    /* Set by prepare: the kernel computes with bf16 inputs and weights and
     * fp32 accumulation (profiles and `ortc info` say "bf16"). An op that
     * cannot (no oneDNN kernel but its reference one) stays fp32. */
    bool bf16;
    /* Set by prepare: bit i, run never reads input i's data (a constant the
     * op keeps its own packed copy of), so the runtime may free the
     * constant's bytes (compile.c). Inputs 0..31 only. */
    uint32_t packed_inputs;
} ortc_opctx;

/* Facts an operator declares in its registry row (ortc_operator.flags). The
 * runtime and the graph passes act on them; the registry self-test
 * (ortc_registry_validate) checks they are consistent. */
enum {
    /* The op handles blocked layouts on its inputs (checks in_layout in
     * prepare). Without it the runtime converts inputs to plain first. */
    ORTC_OP_ACCEPTS_BLOCKED = 1u << 0,
    /* Output depends on something besides inputs (randomness): never folded. */
    ORTC_OP_NO_FOLD = 1u << 1,
    /* run reads only the shapes of its inputs, never their contents (Shape,
     * Size): foldable at compile time as soon as shapes are known. */
    ORTC_OP_SHAPE_ONLY = 1u << 2,
    /* The op applies the node's fused post-ops (fusion contract below);
     * graph passes fuse element-wise followers only into such ops. */
    ORTC_OP_POST_OPS = 1u << 4,
    /* Output 0 is always input 0's bytes under another shape (Reshape,
     * Flatten, ...): ortc_op_prepare declares the view, run only copies when
     * the runtime could not alias. */
    ORTC_OP_VIEW = 1u << 5,
    /* Output 0 may always overwrite input 0 (each element of input 0 is read
     * before the output element at its place is written). */
    ORTC_OP_INPLACE = 1u << 6,
    /* prepare may declare output 0 a view of an input, depending on the
     * node's shapes and attributes (Slice taking everything, say). */
    ORTC_OP_MAY_VIEW = 1u << 7,
    /* prepare may declare that output 0 reuses an input's memory. */
    ORTC_OP_MAY_INPLACE = 1u << 8,
    /* With ORTC_OP_POST_OPS: graph passes also fold a following Add into
     * the op as a "sum" post-op (summand in input ORTC_FUSED_SUM_INPUT). */
    ORTC_OP_POST_OP_SUM = 1u << 9,
    /* The op takes values of data-dependent size (see "values of data-
     * dependent size" below): its infer accepts unknown dims (-1), unknown
     * ranks and sequence/optional inputs, checking their types itself, and
     * its run reads the actual shapes. Without it, a node reading such a
     * tensor is compiled at run time once its shape is known (and a
     * sequence or optional input is refused). Plain C only. */
    ORTC_OP_DYNAMIC = 1u << 10,
    /* With ORTC_OP_POST_OPS: graph passes also fold a following Add of a
     * constant 1-D vector over the last axis into the op as a "bias"
     * post-op (the vector in input ORTC_FUSED_BIAS_INPUT, which the op
     * leaves free). Such an op's output has the last dim of its input 1
     * when that is a constant of rank >= 2 (weights (K, N)): the pass reads
     * N there when shapes are symbolic. */
    ORTC_OP_POST_OP_BIAS = 1u << 11,
    /* With ORTC_OP_ACCEPTS_BLOCKED: the op also takes blocked layouts of
     * int8/uint8 values (oneDNN int8 descriptors). Blocked-layout code
     * written for float32 does not, so an int8/uint8 output stays blocked
     * only when every consumer says this (ortc_dnnl_out_blocked_ok). */
    ORTC_OP_BLOCKED_INT8 = 1u << 12,
};

/* Where an operator's kernels run. */
typedef enum ortc_op_backend {
    ORTC_BACKEND_C = 0, /* plain C: run is its own reference */
    ORTC_BACKEND_ONEDNN /* oneDNN where it can; `reference` is the plain-C kernel */
} ortc_op_backend;

/* Element-type sets for ortc_operator.dtypes: bit d is ortc_dtype d. */
#define ORTC_DT(d) (1u << ORTC_DTYPE_##d)
#define ORTC_DTYPES_FLOAT (ORTC_DT(FLOAT) | ORTC_DT(DOUBLE))
#define ORTC_DTYPES_SIGNED (ORTC_DT(INT8) | ORTC_DT(INT16) | ORTC_DT(INT32) | ORTC_DT(INT64))
#define ORTC_DTYPES_UNSIGNED (ORTC_DT(UINT8) | ORTC_DT(UINT16) | ORTC_DT(UINT32) | ORTC_DT(UINT64))
#define ORTC_DTYPES_INT (ORTC_DTYPES_SIGNED | ORTC_DTYPES_UNSIGNED)
/* float16 and float32/64 and every integer (the binary arithmetic ops) */
#define ORTC_DTYPES_NUMERIC (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DTYPES_INT)
/* every element type (data movement works on bytes) */
#define ORTC_DTYPES_ALL (((1u << (ORTC_DTYPE_BFLOAT16 + 1)) - 1) & ~1u)

/* Whether dtype d is in the set `mask`. */
static inline bool ortc_dtype_in(uint32_t mask, ortc_dtype d)
{
    return (unsigned)d < 32 && ((mask >> d) & 1u);
}

typedef struct ortc_operator {
    const char *domain; /* NULL or "" = ai.onnx */
    const char *op_type;
    /* The ONNX versions of the operator this row implements: since..until
     * (inclusive). A model's node gets the row with the highest `since` not
     * above the model's opset for the domain, so the newest row also serves
     * later opsets. Rows of one (domain, op_type) never overlap. */
    int since, until;
    /* Every ONNX since-version within since..until, ascending (the points
     * where the spec changed; ortc_op_version picks the one that applies).
     * May be left out when since == until. */
    int versions[ORTC_MAX_OP_VERSIONS];
    ortc_op_backend backend;
    /* Element types of the op's data (ONNX's type constraint T: input 0 and
     * the inputs sharing its type; for Constant, the output). infer refuses
     * the others (see ortc_op_check_input). */
    uint32_t dtypes;
    unsigned flags; /* ORTC_OP_* above */
    /* Bit i set: infer needs the contents of input i (Reshape's shape,
     * Unsqueeze-13's axes, ...). The runtime makes them available at compile
     * time (constants, folding, or by keying the plan on a graph input). */
    uint32_t data_inputs;
    /* Check attributes, input count, dtypes and shapes; set outputs' dtype
     * and shape. Must not allocate state. */
    ortc_status (*infer)(ortc_opctx *c);
    /* Optional: build kernel state (primitives, packed weights), choose
     * layouts, declare scratch/in-place/view. Called (through
     * ortc_op_prepare) after infer, once per compiled plan. Constant inputs
     * have data here. */
    ortc_status (*prepare)(ortc_opctx *c);
    /* Compute outputs. Never allocates, never logs. */
    ortc_status (*run)(ortc_opctx *c);
    /* Optional: free c->state. */
    void (*release)(ortc_opctx *c);
    /* Optional: floating-point operations of one run (2 x multiply-adds)
     * from the shapes in c, for the profile; 0 when the shapes do not fit. */
    double (*flops)(const ortc_opctx *c);
    /* Plain-C reference kernel for oneDNN-backed ops (NULL for plain-C ops,
     * whose run is already the reference). Called without prepare. */
    ortc_status (*reference)(ortc_opctx *c);
    /* Optional (element-wise ops): describes the node as a post-op applied
     * to its input `input` (fusion contract below), with its parameters
     * read as the op's own infer reads them (attributes and their defaults;
     * constant inputs have data, as for infer). An error status when this
     * node cannot be one (a bound known only at run time, an attribute the
     * post-op cannot express, another dtype than float32); graph passes
     * then leave the node alone and discard the message. */
    ortc_status (*post_op)(ortc_opctx *c, int input, ortc_post_op *out);
    /* Optional (with ORTC_OP_POST_OPS): whether node n, whose list so far
     * is n->post_ops, can apply po after it on its fast path (BatchNorm:
     * oneDNN fuses a single ReLU only); NULL: any list the fusion contract
     * allows. */
    bool (*post_op_ok)(const ortc_node *n, const ortc_post_op *po);
    /* Operators whose attributes hold graphs (If; Loop, Scan): called
     * instead of infer when a plan is compiled (infer is NULL). Compiles
     * the subgraphs it needs through c->subgraphs, keeps the sub-plans in
     * c->state and sets outputs' dtype and shape as infer does. See
     * "subgraphs" below. */
    ortc_status (*compile)(ortc_opctx *c);
} ortc_operator;

/* ---- registration --------------------------------------------------------
 * Every family file declares its operators with this one macro: op type,
 * the first and last ONNX version the row implements, then designated
 * initializers for the other fields (.versions, .backend, .dtypes, .flags,
 * .data_inputs and the callbacks). For example:
 *
 *   ORTC_OP("Add", 1, 14, .versions = {1, 6, 7, 13, 14},
 *           .backend = ORTC_BACKEND_ONEDNN, .dtypes = ORTC_DTYPES_NUMERIC,
 *           .infer = binary_infer, .prepare = binary_prepare, .run = binary_run,
 *           .release = binary_release, .reference = binary_reference),
 *
 * A row stays separate from its neighbours only where callbacks or facts
 * differ (ReduceSum-13 reads its axes from an input: its own row). Operators
 * of another domain add .domain = "com.example". */
#define ORTC_OP(name, since_v, until_v, ...)                                                       \
    {                                                                                              \
        .op_type = (name), .since = (since_v), .until = (until_v), __VA_ARGS__                     \
    }

/* ---- subgraphs ------------------------------------------------------------
 * An operator owns the graphs in its node's attributes. In `compile` it
 * compiles each one it may run into a sub-plan: a plan of the graph nested
 * in the calling plan, whose reads of enclosing graphs' values (the node's
 * implicit inputs, at any depth) are bound to where the calling plan keeps
 * them — constants and values known at compile time as such (so nested
 * folding works), the rest read at run time from the calling execution
 * context. `run` then runs sub-plans in the calling context, as often as it
 * likes; the runtime gives every execution context its own copy of a
 * sub-plan's activations, so concurrent runs never share them, and a run
 * allocates nothing. `prepare` may declare scratch, which (unlike state)
 * is per execution context: the place for per-run buffers and tensors.
 * `release` frees the sub-plans; it is called whenever c->state is set,
 * also after a failed compile. The node, sub-plans included, is one step:
 * one profile entry. Errors are the step's: a sub-plan's compile error
 * comes back prefixed "node 'NAME' (OP) LABEL: ", a run error as the
 * failing kernel wrote it.
 *
 * A graph with inputs (a Loop body: iteration number, condition, carried
 * values; a Scan body: slices) is compiled for given input dtypes and
 * shapes, then run any number of times with new input data of those
 * shapes. Sub-plan outputs are computed into buffers the operator names at
 * each run (its own outputs, slices of them, or its scratch); outputs must
 * not overlap inputs. When run returns the outputs are written. */
typedef struct ortc_subgraph_services {
    /* Compiles g (a graph attribute of c->node; label names it in errors,
     * e.g. "then_branch") with inputs[i] giving the dtype and shape of g's
     * input i (NULL when g has none; data is not read) and layouts[i] its
     * type and whether its size is known only at run time (NULL: every
     * input a tensor of the given shape; a dynamic input's dims may be -1).
     * The sub-plan is the caller's to free. */
    ortc_status (*compile)(ortc_opctx *c, const ortc_graph *g, const char *label,
                           const ortc_tensor *inputs, const ortc_layout *layouts,
                           struct ortc_subplan **out);
    /* dtype and shape of sub-plan output k (data NULL; dims -1 where only
     * a run tells); safe at run. */
    ortc_tensor (*output)(const struct ortc_subplan *sp, int k);
    /* Type of output k and whether its size is known only at run time. */
    ortc_layout (*output_layout)(const struct ortc_subplan *sp, int k);
    /* The contents of output k when known at compile time (a constant or
     * folded value, e.g. a Loop body's condition), else NULL. */
    const void *(*output_constant)(const struct ortc_subplan *sp, int k);
    /* Runs sp in c's execution context: inputs[i] (NULL when g has no
     * inputs) are read — for an input compiled as dynamic its dims too —
     * and outputs[k] written: a static output into outputs[k]->data, a
     * buffer of its byte size; a dynamic one (output_layout) by setting
     * *outputs[k] (dims and data in the run's pool, or an input's data,
     * valid until the run ends). */
    ortc_status (*run)(ortc_opctx *c, struct ortc_subplan *sp, ortc_tensor *const *inputs,
                       ortc_tensor *const *outputs);
    void (*free)(struct ortc_subplan *sp); /* NULL is a no-op */
} ortc_subgraph_services;

/* ---- values of data-dependent size ----------------------------------------
 * Most values have a size the plan knows from the input shapes: they live
 * in the arena. Some do not: sequences and optionals (their type, in
 * ortc_layout.type), and tensors whose shape depends on data (NonZero's
 * output, a Loop's scan outputs when a condition ends it, ...). An
 * operator's infer declares such outputs (ortc_op_set_output_dynamic,
 * ortc_op_set_output_type); its run then produces them through
 * ortc_op_output / ortc_op_output_ref / ortc_op_set_output_seq, which take
 * memory from the run's pool (c->pool): per execution context, freed when
 * the next run starts, bounded by the session option max_dynamic_bytes. A
 * node reading such a tensor is compiled once its shape is seen, unless
 * its operator declares ORTC_OP_DYNAMIC (runtime/compile.c, "segments").
 *
 * At run time a value of type SEQUENCE (or a present OPTIONAL_SEQUENCE)
 * is an ortc_tensor whose data points at an ortc_sequence (dtype: the
 * element type, rank -1); an OPTIONAL_TENSOR holding a tensor is that
 * tensor. An optional holding nothing has rank -1 and data NULL. Values
 * read are never written: a sequence operator makes a new sequence (which
 * may share storage with the old one, see ortc_op_seq_insert). */
typedef struct ortc_sequence {
    ortc_dtype dtype; /* element type */
    int64_t length;
    ortc_tensor *items; /* [length]: read-only */
    /* storage shared by sequences that extend one another: how many items
     * of it are in use and its capacity (ortc_op_seq_insert) */
    int64_t *used;
    int64_t cap;
} ortc_sequence;

/* Input i's type (TENSOR for an omitted input) and whether it is dynamic. */
ortc_type ortc_op_in_type(const ortc_opctx *c, int i);
bool ortc_op_in_dynamic(const ortc_opctx *c, int i);
/* Name of a type for messages: "tensor", "sequence", "optional tensor". */
const char *ortc_type_name(ortc_type t);

/* infer: output k is a tensor known only at run time; dims[d] -1 where
 * unknown (rank -1 when unknown; dims may then be NULL). */
void ortc_op_set_output_dynamic(ortc_opctx *c, int k, ortc_dtype dtype, int rank,
                                const int64_t *dims);
/* infer: output k is a sequence or optional (elem_dtype: its tensors'). */
void ortc_op_set_output_type(ortc_opctx *c, int k, ortc_type type, ortc_dtype elem_dtype);

/* run: `bytes` from the run's pool (64-byte aligned), or NULL with an
 * error naming the node and the limit (max_dynamic_bytes). */
void *ortc_op_alloc(ortc_opctx *c, size_t bytes);
/* run: the buffer of tensor output k with this shape: for a static output
 * its own (the shape must be the inferred one), for a dynamic one a new
 * buffer from the pool (the output's dims are set; checked against
 * max_tensor_bytes). NULL with an error set on failure; a zero-byte output
 * may give any non-NULL pointer. */
void *ortc_op_output(ortc_opctx *c, int k, int rank, const int64_t *dims);
/* run: tensor output k is t: a dynamic output takes t's shape and data
 * (which must live until the run ends: pool memory or an input's), a
 * static one gets a copy of t's bytes. */
ortc_status ortc_op_output_ref(ortc_opctx *c, int k, const ortc_tensor *t);
/* run: a copy of t in the pool (NULL with an error set on failure). */
ortc_tensor *ortc_op_tensor_copy(ortc_opctx *c, const ortc_tensor *t);

/* Whether input i is an optional holding nothing (or omitted). */
bool ortc_op_in_none(const ortc_opctx *c, int i);
/* run: output k (an optional) holds nothing. */
void ortc_op_set_output_none(ortc_opctx *c, int k);
/* run: the sequence input i holds (NULL when it is an optional holding
 * nothing, or not a sequence). */
const ortc_sequence *ortc_op_in_seq(const ortc_opctx *c, int i);
/* run: output k (a sequence or optional sequence) is s. */
void ortc_op_set_output_seq(ortc_opctx *c, int k, const ortc_sequence *s);
/* run: a new empty sequence of element type dtype with room for `cap`
 * items, in the pool. NULL with an error set (also when cap is above
 * max_sequence_length). */
ortc_sequence *ortc_op_seq_new(ortc_opctx *c, ortc_dtype dtype, int64_t cap);
/* run: s with a copy of t inserted before position pos (0 <= pos <=
 * length). Appending shares s's storage when nothing was appended to it
 * since s was made, so a loop that appends runs in linear time; s itself
 * never changes. NULL with an error set on failure or above
 * max_sequence_length. */
ortc_sequence *ortc_op_seq_insert(ortc_opctx *c, const ortc_sequence *s, int64_t pos,
                                  const ortc_tensor *t);

/* The limits of the session's options on data-dependent sizes (ortc.h). */
int64_t ortc_op_max_loop_iterations(const ortc_opctx *c);
int64_t ortc_op_max_sequence_length(const ortc_opctx *c);
int64_t ortc_op_max_nms_boxes(const ortc_opctx *c);

/* The pool behind ortc_op_alloc (runtime/pool.c): bytes, or NULL when the
 * pool is NULL, over its limit or out of memory; how much it holds and its
 * limit, for messages. */
void *ortc_pool_alloc(struct ortc_pool *pool, size_t bytes);
size_t ortc_pool_used(const struct ortc_pool *pool);
size_t ortc_pool_limit(const struct ortc_pool *pool);
/* Whether p points into memory the pool handed out (this run or before). */
bool ortc_pool_owns(const struct ortc_pool *pool, const void *p);

/* ---- fusion contract ---------------------------------------------------
 * Graph passes (runtime/passes/pass_fuse.c) fold the single element-wise
 * follower of a float32 node whose operator has ORTC_OP_POST_OPS into that
 * node: the follower's operator describes itself (ortc_operator.post_op)
 * and the description is appended to node->post_ops (runtime/ir.h), typed
 * data applied to output 0 in order. A "sum" (ORTC_POST_OP_SUM, from an Add
 * and only into ops with ORTC_OP_POST_OP_SUM) adds the node's input
 * ORTC_FUSED_SUM_INPUT, of the output's shape and dtype. A "bias"
 * (ORTC_POST_OP_BIAS, first in the list, only into ops with
 * ORTC_OP_POST_OP_BIAS) adds input ORTC_FUSED_BIAS_INPUT, a float32 vector
 * of the output's last dim, along the last axis; such ops add it
 * themselves (oneDNN's bias argument) and oneDNN's attribute skips it;
 * GELU written out as several nodes arrives from runtime/passes/pass_act.c
 * as "gelu_erf". Operators that
 * declare ORTC_OP_POST_OPS apply the list exactly (oneDNN post-ops, or in
 * the reference kernel plain C after the main computation) and check it in
 * infer (operators/post_ops.h). Attribute names starting with "ortc_" are
 * reserved for the runtime: the loader refuses them in files. */

/* ---- registry ---------------------------------------------------------- */

/* The row for (domain, op_type) whose `since` is the highest not above
 * `opset`; NULL if none. domain NULL, "" and "ai.onnx" are the same. */
const ortc_operator *ortc_registry_find(const char *domain, const char *op_type, int opset);
/* Whether any version of (domain, op_type) is registered. */
bool ortc_registry_knows(const char *domain, const char *op_type);
/* Iterate all registered rows (`ortc info --ops`, the self-test). */
size_t ortc_registry_count(void);
const ortc_operator *ortc_registry_at(size_t i);

/* Checks the rows ops[0..n) against the registry's rules: well-formed
 * version ranges that never overlap for one (domain, op_type), a reference
 * kernel for every oneDNN-backed op and none for plain-C ones, declared
 * dtypes, and flags that agree with each other and with the callbacks (see
 * registry.c for each rule and why). Calls report(user, message) once per
 * problem and returns how many there were (0: consistent). */
size_t ortc_registry_validate(const ortc_operator *const *ops, size_t n,
                              void (*report)(void *user, const char *message), void *user);

/* Each operator family file defines a table with ORTC_OP rows and its
 * length with ORTC_OP_TABLE_END; registry.c lists the tables. */
#define ORTC_OP_TABLE(family)                                                                      \
    extern const ortc_operator ortc_ops_##family[];                                                \
    extern const size_t ortc_ops_##family##_count
#define ORTC_OP_TABLE_END(family)                                                                  \
    const size_t ortc_ops_##family##_count = sizeof ortc_ops_##family / sizeof *ortc_ops_##family

/* ---- versions --------------------------------------------------------------
 * Kernels branch on the ONNX version of the operator a node resolved to
 * (Add-7 broadcasts, Add-6 does not), never on the model's opset directly. */

/* The version of row `op` that applies at `opset`: the highest of its
 * versions not above opset (op->since when opset is below all of them). */
int ortc_operator_version(const ortc_operator *op, int opset);
/* The version node n resolved to; n->opset when it has no operator. */
int ortc_node_version(const ortc_node *n);
/* The version of the node being inferred, prepared or run. */
int ortc_op_version(const ortc_opctx *c);

/* ---- calling an operator ---------------------------------------------------- */

/* Declares the row's static aliasing (ORTC_OP_VIEW, ORTC_OP_INPLACE) in
 * c->view / c->inplace, then calls op->prepare when there is one. An alias
 * prepare declares that the row does not allow (no ORTC_OP_MAY_VIEW /
 * MAY_INPLACE) is an internal error naming the node. The runtime calls
 * this, never op->prepare directly. */
ortc_status ortc_op_prepare(const ortc_operator *op, ortc_opctx *c);

/* ---- helpers for operator code ----------------------------------------- */

/* Records an error prefixed with the node: "node 'conv2' (Conv-11): ..." and
 * returns `status`. */
ortc_status ortc_op_error(ortc_opctx *c, ortc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Input/output counts: error naming the op unless min <= n <= max. */
ortc_status ortc_op_check_arity(ortc_opctx *c, int min_in, int max_in, int min_out, int max_out);
/* Error unless input i is present and has one of the listed dtypes
 * (terminated by ORTC_DTYPE_UNDEFINED). */
ortc_status ortc_op_check_dtype(ortc_opctx *c, int i, ...);
/* Error unless input i is present and its dtype is in `mask` (ORTC_DT
 * bits); the message lists the mask's dtypes. */
ortc_status ortc_op_check_dtypes(ortc_opctx *c, int i, uint32_t mask);
/* The dtypes the node's registry row declares (every dtype when the node
 * has no row yet). */
uint32_t ortc_op_dtypes(const ortc_opctx *c);
/* ortc_op_check_dtypes against the dtypes the node's row declares: for
 * input 0 and the inputs that share its type. */
ortc_status ortc_op_check_input(ortc_opctx *c, int i);
/* Writes the names of mask's dtypes, ", "-separated, to buf (float32,
 * float64, float16, bfloat16, int8, uint8, ... int64, uint64, bool, string,
 * complex64, complex128). */
void ortc_dtypes_str(char *buf, size_t size, uint32_t mask);
/* Error (INVALID_MODEL) unless input i has rank >= min_rank: "input 0 'x'
 * has shape [2,3] (rank 2); Conv needs rank >= 3 (N, C, spatial...)";
 * `layout` names the dims (NULL: no parenthesis). The one check of a
 * minimum rank: operators call it rather than writing the message. */
ortc_status ortc_op_check_min_rank(ortc_opctx *c, int i, int min_rank, const char *layout);
/* Error unless inputs i and j (both present) have the same dtype. */
ortc_status ortc_op_check_same_dtype(ortc_opctx *c, int i, int j);
/* Error unless attribute `name` is absent or has type `type`. */
ortc_status ortc_op_check_attr(ortc_opctx *c, const char *name, ortc_attr_type type);

/* Sets out[k]'s dtype and shape. */
void ortc_op_set_output(ortc_opctx *c, int k, ortc_dtype dtype, int rank, const int64_t *dims);

/* numpy broadcasting of dims a[0..ra) and b[0..rb), aligned on the right,
 * into out[0..max(ra, rb)): -1, or the first output dim where neither is 1
 * and they differ (then bad[] holds a's and b's dim there). The one rule
 * behind ortc_op_broadcast, Expand and MatMul's batch dims. */
int ortc_broadcast_dims(int ra, const int64_t *a, int rb, const int64_t *b, int64_t *out,
                        int64_t bad[2]);
/* numpy broadcasting of a and b into out (rank = max rank); error naming
 * both shapes when incompatible. */
ortc_status ortc_op_broadcast(ortc_opctx *c, const ortc_tensor *a, const ortc_tensor *b,
                              int *out_rank, int64_t *out_dims);

/* Normalises a possibly negative axis against rank; error when out of range. */
ortc_status ortc_op_axis(ortc_opctx *c, int64_t axis, int rank, int *out);

/* 2 x macs_per_element x elements of t (the FLOP count of a multiply-add
 * kernel, for ortc_operator.flops); 0 when t is NULL or the product is not
 * positive. */
double ortc_op_flops(const ortc_tensor *t, double macs_per_element);

/* Reads element i of an integer tensor (INT32/INT64/...) as int64. */
int64_t ortc_tensor_get_int(const ortc_tensor *t, int64_t i);
/* Reads element i of a numeric tensor as double. */
double ortc_tensor_get_double(const ortc_tensor *t, int64_t i);

#endif /* ORTC_OPERATOR_H */
