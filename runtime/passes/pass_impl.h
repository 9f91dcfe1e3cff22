/* pass_impl.h — what the graph passes share: the pass context (options,
 * errors, a per-value table of statically known dtypes/shapes), evaluation
 * of a node at optimisation time, change notes and graph dumps for logging,
 * and the passes themselves (pass_*.c). Private; tests call the passes one
 * by one through this header.
 */
#ifndef ORTC_PASS_IMPL_H
#define ORTC_PASS_IMPL_H

#include <stdbool.h>

#include "error.h"
#include "ir.h"
#include "operator.h"
#include "ortc/ortc.h"

typedef struct ortc_pass_stats {
    int folded;        /* nodes evaluated into initializers */
    int inlined;       /* If nodes replaced by their branch */
    int identities;    /* Identity nodes removed */
    int dropouts;      /* inference Dropout nodes removed */
    int pads;          /* Pad nodes that pad nothing removed */
    int pads_fused;    /* zero Pads merged into the next AveragePool/Conv */
    int gap;           /* spatial ReduceMeans made GlobalAveragePool */
    int bn_folded;     /* BatchNormalization folded into Conv weights */
    int lrn;           /* decomposed LRNs replaced by one LRN node */
    int lrn_kept;      /* decomposed LRNs recognised but left (even size) */
    int ln;            /* decomposed layer normalizations replaced by one node */
    int swish;         /* x * Sigmoid(x) folded into a producer (SiLU) */
    int hard_swish;    /* x * HardSigmoid(x) (1/6, 0.5) folded into a producer */
    int bias;          /* Add of a constant vector folded into a MatMul (post-op bias) */
    int scaled;        /* Mul by a per-column constant folded into a MatMul's weights */
    int gelu;          /* GELU written out (Div, Erf, Add, Mul, Mul) folded into a producer */
    int fused;         /* element-wise/Add nodes folded into a producer */
    int fc_transposed; /* fully connected weights stored input-major (pass_fc.c) */
    int dead_nodes;    /* nodes whose outputs nothing reads */
    int dead_values;   /* initializers nothing reads any more (data freed) */
    int qdq_groups;    /* DQ -> Conv/Gemm/MatMul -> Q groups made int8 ops (pass_qdq.c) */
    int qdq_moved;     /* data movement between quantized values run in int8 */
    int qdq_quant;     /* float32 element-wise ops folded into a QuantizeLinear */
    int concats;       /* Concats reading an earlier Concat's output (pass_concat.c) */
} ortc_pass_stats;

/* What the passes know about a value of the graph without running it. */
typedef struct ortc_pass_info {
    ortc_dtype dtype; /* UNDEFINED: unknown */
    int rank;         /* -1: shape not fully known; else every dim >= 0 */
    int64_t dims[ORTC_MAX_RANK];
    const void *data; /* constants only */
} ortc_pass_info;

typedef struct ortc_pass_ctx {
    ortc_model *model;
    ortc_graph *g;
    ortc_options opts;
    ortc_errbuf *err;
    ortc_errbuf scratch; /* failures of speculative infer/evaluation */
    /* for evaluation: created on first need; the caller's or own_backend */
    struct ortc_backend **backend;
    struct ortc_backend *own_backend;
    ortc_pass_info *info; /* [info_cap], by value index; see ortc_pass_infer */
    int info_cap;
    /* the shapes under two values of every symbolic dim (ortc_pass_probe):
     * made on first need, dropped by ortc_pass_infer */
    ortc_pass_info *probe[2];
    int probe_cap;
    bool verbose;  /* log change notes and graph dumps (DEBUG) */
    bool pads_now; /* ortc_pass_eliminate also removes zero Pads (ortc_pass_pads) */
    ortc_pass_stats stats;
} ortc_pass_ctx;

/* opts may be NULL (defaults, no logging). */
void ortc_pass_ctx_init(ortc_pass_ctx *pc, ortc_model *m, const ortc_options *opts,
                        ortc_errbuf *err);
void ortc_pass_ctx_free(ortc_pass_ctx *pc);

/* Relinks and re-sorts the graph after an edit (error names the pass). */
ortc_status ortc_pass_finalize(ortc_pass_ctx *pc, const char *pass);
/* After an edit in the middle of a scan that goes on reading shapes:
 * ortc_pass_finalize, then ortc_pass_infer for the values the edit made. */
ortc_status ortc_pass_refresh(ortc_pass_ctx *pc, const char *pass);

/* Infers shapes, then runs fold(pc, p, &done) (done false on entry; fold
 * sets it when it folded) on every node p whose op takes post-ops
 * (ORTC_OP_POST_OPS) while p may take one more (ortc_pass_takes_post_op):
 * again on p while it folds (a chain), then from the first node again
 * (finalize may have re-sorted). */
ortc_status ortc_pass_fold_into_producers(ortc_pass_ctx *pc,
                                          ortc_status (*fold)(ortc_pass_ctx *pc, ortc_node *p,
                                                              bool *done));

/* Shape inference: fills pc->info for every value of the top-level graph
 * (constants, inputs with fully static declared shapes, then each node's
 * op->infer when all its inputs are fully known and the inputs infer reads
 * have known contents), and records inferred shapes on undeclared
 * intermediate values of the IR (for display). Dims stay unknown otherwise;
 * dtypes are propagated further where an op keeps its input's dtype. */
ortc_status ortc_pass_infer(ortc_pass_ctx *pc);
/* pc->info entry of v (a value of the top-level graph). */
/* Infers node n's outputs from pc->info of its inputs (as above). */
void ortc_pass_infer_node(ortc_pass_ctx *pc, ortc_node *n);
const ortc_pass_info *ortc_pass_value(const ortc_pass_ctx *pc, const ortc_value *v);
bool ortc_pass_shape_known(const ortc_pass_ctx *pc, const ortc_value *v);
/* v's shape inferred with every symbolic dim of the graph's inputs (a
 * dim_param such as 'batch') set to value j (0 or 1) of two probe values
 * (see pass_common.c): what a decision may read when the static shape is
 * unknown, accepting it only when it comes out alike under both probes.
 * NULL when unknown under that probe. As of the last ortc_pass_infer (the
 * table is made then, on first need): values made since are unknown. */
const ortc_pass_info *ortc_pass_probe(ortc_pass_ctx *pc, const ortc_value *v, int j);
/* v's rank when both probes know it and agree; else -1. */
int ortc_pass_probe_rank(ortc_pass_ctx *pc, const ortc_value *v);

/* Whether n can be folded into initializers now (pc->info current): the
 * runtime's rule (eval.h) with every input a constant (SHAPE_ONLY ops:
 * every input shape known), no string input, and some output. */
bool ortc_pass_foldable(const ortc_pass_ctx *pc, const ortc_node *n);
/* Evaluates a foldable node n now (eval.h). On success out[k]
 * (k < n_outputs; NULL for omitted outputs) are new constant tensors owned
 * by the caller and *ok is true. When n is not foldable or the op refuses
 * (infer/prepare/run error, a string output), *ok is false and nothing is
 * allocated; only failures that are not the op's (out of memory, an output
 * above max_tensor_bytes, no backend) are returned as errors. */
ortc_status ortc_pass_evaluate(ortc_pass_ctx *pc, ortc_node *n, ortc_const_tensor **out, bool *ok);

/* Node n described as a fused post-op on its input `input` by its
 * operator's post_op callback (operators/operator.h, fusion contract), with
 * the inputs as pc->info knows them (data of constants) and input `input`
 * of dtype `dtype` (the producer's) where shape inference could not tell.
 * Where it refuses and some input's shape has symbolic dims, the callback
 * is asked again under both probes (ortc_pass_probe) and its answer taken
 * when both agree. False when n's operator has no such callback or
 * refuses. */
bool ortc_pass_post_op(ortc_pass_ctx *pc, ortc_node *n, int input, ortc_dtype dtype,
                       ortc_post_op *out);

/* Logging: a change note (DEBUG, only when pc->verbose) and a summary
 * line (INFO). Messages start with "passes". */
void ortc_pass_note(ortc_pass_ctx *pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ortc_pass_log(ortc_pass_ctx *pc, ortc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Logs the graph, one node a line, under `title` (DEBUG, verbose only). */
void ortc_pass_dump(ortc_pass_ctx *pc, const char *title);
/* "'name' (Op)" for messages. */
const char *ortc_pass_node_label(char *buf, size_t len, const ortc_node *n);

/* Small matchers shared by the passes. */
bool ortc_pass_is_op(const ortc_node *n, const char *op_type);
/* The only reader of v: NULL when v is a graph output, has no reader, more
 * than one, or is read by a subgraph. */
ortc_node *ortc_pass_single_user(const ortc_value *v);
/* Frees initializer v now when it is not a graph output and only nodes a
 * and b (b may be NULL), which the caller is removing or has rewired, read
 * it (uses as of the last finalize): weights replaced by folded ones never
 * coexist with them for long. Counts in stats.dead_values. */
void ortc_pass_release_constant(ortc_pass_ctx *pc, ortc_value *v, const ortc_node *a,
                                const ortc_node *b);
/* A post-op producer's output dtype (output 0): inferred, else that of any
 * input with a known dtype (one type T for inputs and output of these ops;
 * with a symbolic batch only the weights' is known). */
ortc_dtype ortc_pass_node_dtype(const ortc_pass_ctx *pc, const ortc_node *p);
/* Whether producer p may take one more fused post-op: one output, room
 * left, float32 (the dtype the post-ops are applied in). */
bool ortc_pass_takes_post_op(const ortc_pass_ctx *pc, const ortc_node *p);
/* Whether po may follow p's post-ops: the list's rules
 * (ortc_post_ops_can_append) and p's operator's own (post_op_ok). */
bool ortc_pass_accepts_post_op(const ortc_node *p, const ortc_post_op *po);
/* A constant float scalar (any shape with one element) in *out. */
bool ortc_pass_const_float(const ortc_value *v, float *out);

/* ---- the passes, in pipeline order. Each starts with pc->info current
 * (ortc_pass_infer), finalizes the graph it edits and adds to pc->stats.
 * ---- */

/* QDQ groups (DequantizeLinear -> Conv/Gemm/MatMul -> QuantizeLinear) into
 * int8 QLinearConv/QLinearMatMul nodes; data movement between quantized
 * values in int8 (see pass_qdq.c). */
ortc_status ortc_pass_qdq(ortc_pass_ctx *pc);
/* Constant folding (nodes whose inputs are constants; SHAPE_ONLY nodes
 * whose input shapes are known) and inlining of If nodes with a constant
 * condition, to a fixpoint. */
ortc_status ortc_pass_fold(ortc_pass_ctx *pc);
/* Identity nodes and inference Dropout nodes whose mask nothing reads. */
ortc_status ortc_pass_eliminate(ortc_pass_ctx *pc);
/* Conv followed only by a BatchNormalization with constant parameters:
 * new Conv weights and bias. */
ortc_status ortc_pass_fold_bn(ortc_pass_ctx *pc);
/* PyTorch's decomposed LocalResponseNorm -> one LRN node (odd sizes). */
ortc_status ortc_pass_lrn(ortc_pass_ctx *pc);
/* The same, and Pad nodes whose pads are all 0 (after "lrn": the
 * decomposed LRN of size 1 has one). */
ortc_status ortc_pass_pads(ortc_pass_ctx *pc);
/* A zero Pad of the spatial dims read only by an AveragePool or Conv
 * merged into its pads (see pass_padfuse.c). */
ortc_status ortc_pass_padfuse(ortc_pass_ctx *pc);
/* ReduceMean over every spatial axis -> GlobalAveragePool (+ Flatten for
 * keepdims 0), which reads blocked layouts (see pass_gap.c). */
ortc_status ortc_pass_gap(ortc_pass_ctx *pc);
ortc_status ortc_pass_concat(ortc_pass_ctx *pc);
/* Layer normalization over the last axis written out as ReduceMean, Sub,
 * Pow, Sqrt, Div, Mul, Add -> one LayerNormalization (see pass_ln.c). */
ortc_status ortc_pass_ln(ortc_pass_ctx *pc);
/* Add of a constant (N) vector after a producer with ORTC_OP_POST_OP_BIAS
 * -> its post-op "bias"; then a MatMul's per-column constant scale (a Mul,
 * maybe after a Transpose) -> its weights (see pass_fuse.c). */
ortc_status ortc_pass_bias(ortc_pass_ctx *pc);
/* Activations written out as several nodes (SiLU: x * Sigmoid(x); hard
 * swish: x * HardSigmoid(x); GELU: x / 2 * (1 + Erf(x / sqrt 2))) into
 * the producer's fused post-ops (see pass_act.c). */
ortc_status ortc_pass_act(ortc_pass_ctx *pc);
/* Element-wise followers and Add into the producer's fused post-ops. */
ortc_status ortc_pass_fuse(ortc_pass_ctx *pc);
/* Gemm over constant (N, K) weights fed by a ReLU: weights transposed to
 * (K, N), transB = 0 (see pass_fc.c). */
ortc_status ortc_pass_fc(ortc_pass_ctx *pc);
/* Nodes nobody reads, then initializers nobody reads (data freed). */
ortc_status ortc_pass_dead(ortc_pass_ctx *pc);

/* The whole pipeline with statistics (ortc_passes_run without them). */
ortc_status ortc_passes_run_stats(ortc_model *m, const ortc_options *opts, ortc_errbuf *err,
                                  ortc_pass_stats *stats);

#endif
