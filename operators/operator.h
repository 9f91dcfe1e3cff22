/* operator.h — the operator interface and registry shared by runtime/ and
 * operators/. An operator is callbacks over an ortc_opctx; the runtime
 * fills the context, operators never see files, protobuf or the planner.
 * Private: not installed.
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

/* Concurrent ortc_session_run calls use up to this many execution contexts
 * per plan; context 0 is the plan's own. */
#define ORTC_MAX_CONTEXTS ORTC_MAX_CONCURRENT_RUNS
#define ORTC_OPCTX_MAX_BINDS 16

/* How a value is laid out in memory. Plain = dense row-major ortc_tensor.
 * Blocked layouts are oneDNN memory descriptors known only to operators/;
 * the runtime sees their byte size and inserts conversions to plain where a
 * consumer cannot take them (see ORTC_OP_ACCEPTS_BLOCKED). */
typedef struct ortc_layout {
    bool plain;
    size_t bytes; /* storage size in this layout */
    void *desc;   /* blocked: a descriptor owned by the producing step */
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
    /* Set by the runtime before run: */
    void *scratch;
    /* Error sink (runtime-owned). */
    struct ortc_errbuf *err;
    /* Which execution context runs this ctx (0: the plan's own). Kernel
     * state (primitives, weights) is shared by all contexts and read-only at
     * run; operators/dnnl_util.c keeps per-context oneDNN memory objects and
     * records the data handles an op sets for a context here. */
    int context;
    int n_bind;
    struct {
        void *mem;
        void *data;
    } bind[ORTC_OPCTX_MAX_BINDS];
    /* The runtime's subgraph services (see "subgraphs" below): set in the
     * contexts of plan steps, at compile and at run; NULL where graphs
     * cannot be compiled (graph passes, single-operator tests). */
    const struct ortc_subgraph_services *subgraphs;
    void *runtime; /* the runtime's own (the plan of this step); opaque */
} ortc_opctx;

enum {
    /* The op handles blocked layouts on its inputs (checks in_layout in
     * prepare). Without it the runtime converts inputs to plain first. */
    ORTC_OP_ACCEPTS_BLOCKED = 1u << 0,
    /* Output depends on something besides inputs (randomness): never folded. */
    ORTC_OP_NO_FOLD = 1u << 1,
    /* run reads only the shapes of its inputs, never their contents (Shape,
     * Size): foldable at compile time as soon as shapes are known. */
    ORTC_OP_SHAPE_ONLY = 1u << 2,
    /* The op applies ORTC_ATTR_POST_OPS (fusion contract below); graph
     * passes fuse element-wise followers only into such ops. */
    ORTC_OP_POST_OPS = 1u << 4,
};

typedef struct ortc_operator {
    const char *domain; /* "" = ai.onnx */
    const char *op_type;
    int since_version; /* chosen: highest since_version <= model opset */
    unsigned flags;
    /* Bit i set: infer needs the contents of input i (Reshape's shape,
     * Unsqueeze-13's axes, ...). The runtime makes them available at compile
     * time (constants, folding, or by keying the plan on a graph input). */
    uint32_t data_inputs;
    /* Check attributes, input count, dtypes and shapes; set outputs' dtype
     * and shape. Must not allocate state. */
    ortc_status (*infer)(ortc_opctx *c);
    /* Optional: build kernel state (primitives, packed weights), choose
     * layouts, declare scratch/in-place/view. Called after infer, once per
     * compiled plan. Constant inputs have data here. */
    ortc_status (*prepare)(ortc_opctx *c);
    /* Compute outputs. Never allocates, never logs. */
    ortc_status (*run)(ortc_opctx *c);
    /* Optional: free c->state. */
    void (*release)(ortc_opctx *c);
    /* Plain-C reference kernel for oneDNN-backed ops (NULL for plain-C ops,
     * whose run is already the reference). Called without prepare. */
    ortc_status (*reference)(ortc_opctx *c);
    /* Operators whose attributes hold graphs (If; Loop, Scan): called
     * instead of infer when a plan is compiled (infer is NULL). Compiles
     * the subgraphs it needs through c->subgraphs, keeps the sub-plans in
     * c->state and sets outputs' dtype and shape as infer does. See
     * "subgraphs" below. */
    ortc_status (*compile)(ortc_opctx *c);
} ortc_operator;

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
     * input i (NULL when g has none; data is not read). The sub-plan is the
     * caller's to free. */
    ortc_status (*compile)(ortc_opctx *c, const ortc_graph *g, const char *label,
                           const ortc_tensor *inputs, struct ortc_subplan **out);
    /* dtype and shape of sub-plan output k (data NULL); safe at run. */
    ortc_tensor (*output)(const struct ortc_subplan *sp, int k);
    /* Runs sp in c's execution context: inputs[i]->data (NULL when g has
     * no inputs) are read, outputs[k]->data written (every output needs a
     * buffer of its byte size). */
    ortc_status (*run)(ortc_opctx *c, struct ortc_subplan *sp, ortc_tensor *const *inputs,
                       ortc_tensor *const *outputs);
    void (*free)(struct ortc_subplan *sp); /* NULL is a no-op */
} ortc_subgraph_services;

/* ---- fusion contract ---------------------------------------------------
 * Graph passes (runtime/passes/) fold element-wise followers into Conv,
 * ConvTranspose, Gemm and MatMul nodes by giving them the internal attribute
 * ORTC_ATTR_POST_OPS (STRINGS): operations applied to the node's output in
 * order, each "name" or "name:arg[:arg]" with C-locale float arguments:
 *   relu | leaky_relu:ALPHA | clip:MIN:MAX | sigmoid | tanh | elu:ALPHA |
 *   hard_sigmoid:ALPHA:BETA | sum
 * "sum" adds the node's input ORTC_FUSED_SUM_INPUT (same shape and dtype as
 * the output; the slots before it may be omitted, e.g. Conv without bias).
 * Operators that read the attribute apply the list exactly (oneDNN post-ops
 * or, in the reference kernel, plain C after the main computation); any other
 * op, or an unknown entry, is an error in infer. Internal attributes start
 * with "ortc_" and never come from files (the loader refuses them). */
#define ORTC_ATTR_POST_OPS "ortc_post_ops"
#define ORTC_FUSED_SUM_INPUT 3

/* ---- registry ---------------------------------------------------------- */

/* The operator for (domain, op_type) whose since_version is the highest not
 * above `opset`; NULL if none. */
const ortc_operator *ortc_registry_find(const char *domain, const char *op_type, int opset);
/* Whether any version of (domain, op_type) is registered. */
bool ortc_registry_knows(const char *domain, const char *op_type);
/* Iterate all registered operators (for `ortc info --ops`). */
size_t ortc_registry_count(void);
const ortc_operator *ortc_registry_at(size_t i);

/* Each operator family file defines a table and its length; registry.c
 * lists the tables. */
#define ORTC_OP_TABLE(family)                                                                      \
    extern const ortc_operator ortc_ops_##family[];                                                \
    extern const size_t ortc_ops_##family##_count

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
/* Error unless attribute `name` is absent or has type `type`. */
ortc_status ortc_op_check_attr(ortc_opctx *c, const char *name, ortc_attr_type type);

/* Sets out[k]'s dtype and shape. */
void ortc_op_set_output(ortc_opctx *c, int k, ortc_dtype dtype, int rank, const int64_t *dims);

/* numpy broadcasting of a and b into out (rank = max rank); error naming
 * both shapes when incompatible. */
ortc_status ortc_op_broadcast(ortc_opctx *c, const ortc_tensor *a, const ortc_tensor *b,
                              int *out_rank, int64_t *out_dims);

/* Normalises a possibly negative axis against rank; error when out of range. */
ortc_status ortc_op_axis(ortc_opctx *c, int64_t axis, int rank, int *out);

/* Reads element i of an integer tensor (INT32/INT64/...) as int64. */
int64_t ortc_tensor_get_int(const ortc_tensor *t, int64_t i);
/* Reads element i of a numeric tensor as double. */
double ortc_tensor_get_double(const ortc_tensor *t, int64_t i);

#endif /* ORTC_OPERATOR_H */
