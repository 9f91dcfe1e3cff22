/* ir.h — ortc's in-memory graph: models, graphs, values, nodes, attributes.
 * Built by onnx/ (the loader) and by tests; validated and executed by
 * runtime/; operators/ read node attributes through it. Knows nothing of
 * protobuf or oneDNN. Private: not installed.
 */
#ifndef ORTC_IR_H
#define ORTC_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ortc/ortc.h"

struct ortc_operator;
struct ortc_graph;

typedef enum ortc_attr_type { /* ONNX AttributeProto.AttributeType numbers */
                              ORTC_ATTR_UNDEFINED = 0,
                              ORTC_ATTR_FLOAT = 1,
                              ORTC_ATTR_INT = 2,
                              ORTC_ATTR_STRING = 3,
                              ORTC_ATTR_TENSOR = 4,
                              ORTC_ATTR_GRAPH = 5,
                              ORTC_ATTR_FLOATS = 6,
                              ORTC_ATTR_INTS = 7,
                              ORTC_ATTR_STRINGS = 8,
                              ORTC_ATTR_TENSORS = 9,
                              ORTC_ATTR_GRAPHS = 10,
                              ORTC_ATTR_TYPE_PROTO = 13 /* a value type (Optional's `type`) */
} ortc_attr_type;

/* Where a constant's bytes can be read again: a model file, open as long as
 * any constant read from it lives (ortc_const_origin_new/_unref). */
typedef struct ortc_const_origin ortc_const_origin;
struct ortc_errbuf;

/* A constant tensor whose bytes the model owns (weights, tensor attributes). */
typedef struct ortc_const_tensor {
    ortc_tensor t; /* t.data points at `owned` (or is NULL for 0 elements) */
    void *owned;   /* freed with the model; for STRING, also each char* */
    /* Its bytes as stored at `origin_offset` of `origin` (a reference; NULL:
     * nowhere to read them again). A session may then free them while every
     * step that reads them keeps its own packed copy (compile.c): `released`
     * is set, t.data and owned are NULL until ortc_const_reacquire. */
    ortc_const_origin *origin;
    uint64_t origin_offset;
    bool released;
    /* a compiled step reads t.data at run time: never released */
    bool plain_used;
} ortc_const_tensor;

typedef struct ortc_attr {
    char *name;
    ortc_attr_type type;
    float f;
    int64_t i;
    char *s;              /* NUL-terminated copy */
    size_t s_len;         /* bytes, without the terminator */
    ortc_const_tensor *t; /* owned */
    struct ortc_graph *g; /* owned */
    size_t n;             /* element count of the list below */
    float *floats;
    int64_t *ints;
    char **strings;
    ortc_const_tensor **tensors;
    struct ortc_graph **graphs;
    /* TYPE_PROTO: the type it names (tensor, sequence, optional) and its
     * tensors' element type (UNDEFINED when the file leaves it out) */
    ortc_type vtype;
    ortc_dtype vdtype;
} ortc_attr;

typedef enum ortc_value_kind {
    ORTC_VALUE_INTERMEDIATE = 0, /* produced by a node */
    ORTC_VALUE_INPUT,            /* graph input fed by the caller */
    ORTC_VALUE_CONSTANT          /* initializer or folded constant */
} ortc_value_kind;

/* ---- fused post-ops ------------------------------------------------------
 * Element-wise operations a graph pass folded into a node (operators/
 * operator.h, "fusion contract"), applied to the node's output 0 in list
 * order. Typed data, set only by graph passes (and tests): files cannot
 * express them. */
typedef enum ortc_post_op_kind {
    ORTC_POST_OP_RELU,         /* max(x, 0) */
    ORTC_POST_OP_LEAKY_RELU,   /* x < 0 ? alpha * x : x */
    ORTC_POST_OP_CLIP,         /* min(max(x, alpha), beta) (numpy's order) */
    ORTC_POST_OP_SIGMOID,      /* 1 / (1 + e^-x) */
    ORTC_POST_OP_TANH,         /* tanh(x) */
    ORTC_POST_OP_ELU,          /* x < 0 ? alpha * (e^x - 1) : x */
    ORTC_POST_OP_HARD_SIGMOID, /* max(0, min(1, alpha * x + beta)) */
    ORTC_POST_OP_SUM,          /* x + the node's input ORTC_FUSED_SUM_INPUT */
    ORTC_POST_OP_HARD_SWISH,   /* x * max(0, min(1, x / 6 + 0.5)) */
    ORTC_POST_OP_SWISH,        /* x * sigmoid(x) (SiLU: a Sigmoid and a Mul in ONNX) */
    ORTC_POST_OP_GELU_ERF,     /* x / 2 * (1 + erf(x / sqrt 2)) (GELU: Div, Erf, Add, 2 Mul) */
    /* x + the node's input ORTC_FUSED_BIAS_INPUT, a 1-D float tensor of
     * the output's last dim, along the last axis: only first in the list,
     * only on ops with ORTC_OP_POST_OP_BIAS (a MatMul's following Add) */
    ORTC_POST_OP_BIAS,
    ORTC_POST_OP_KINDS
} ortc_post_op_kind;

typedef struct ortc_post_op {
    ortc_post_op_kind kind;
    float alpha, beta; /* as above; 0 where unused */
} ortc_post_op;

#define ORTC_MAX_POST_OPS 8
/* The input slot of the summand of ORTC_POST_OP_SUM (the slots before it
 * may be omitted, e.g. Conv without bias). */
#define ORTC_FUSED_SUM_INPUT 3
/* The input slot of the addend of ORTC_POST_OP_BIAS. */
#define ORTC_FUSED_BIAS_INPUT 2

/* A dim: value >= 0 when known; -1 when unknown or symbolic (then `param`
 * may name it, e.g. "batch"). */
typedef struct ortc_dim {
    int64_t value;
    char *param;
} ortc_dim;

typedef struct ortc_use {
    struct ortc_node *node;
    int input; /* index into node->inputs */
} ortc_use;

/* A named edge of the graph. */
typedef struct ortc_value {
    char *name;
    int index;                /* position in its graph's values array */
    struct ortc_graph *graph; /* the graph that owns it */
    ortc_value_kind kind;
    bool is_output; /* listed in the graph's outputs */
    bool declared;  /* dtype/shape came from the file */
    /* TENSOR unless the file declares a sequence or an optional; then
     * dtype/rank/dims describe its tensors (what the file says of them) */
    ortc_type type;
    ortc_dtype dtype; /* UNDEFINED when not declared */
    int rank;         /* -1 when unknown */
    ortc_dim dims[ORTC_MAX_RANK];
    ortc_const_tensor *constant; /* kind == CONSTANT: the data (owned) */
    struct ortc_node *producer;  /* kind == INTERMEDIATE */
    int producer_output;
    ortc_use *uses;
    int n_uses, cap_uses;
} ortc_value;

typedef struct ortc_node {
    char *name; /* may be "" */
    char *op_type;
    char *domain; /* "" for ai.onnx ("ai.onnx" is normalised to "") */
    int index;    /* position in graph->nodes */
    int opset;    /* the model's opset for this domain */
    int n_inputs, n_outputs;
    ortc_value **inputs;  /* NULL entries: omitted optional input ("") */
    ortc_value **outputs; /* NULL entries: omitted optional output */
    int n_attrs;
    ortc_attr *attrs;
    /* Values of this graph (or enclosing ones) that subgraphs in the
     * attributes read from the outer scope: dependencies of this node for
     * ordering and liveness. Set by ortc_graph_finalize. */
    ortc_value **implicit_inputs;
    int n_implicit;
    const struct ortc_operator *op; /* resolved by the registry */
    int n_post_ops;                 /* fused followers (see above), in order */
    ortc_post_op post_ops[ORTC_MAX_POST_OPS];
} ortc_node;

typedef struct ortc_graph {
    char *name;
    struct ortc_graph *parent; /* enclosing graph for If/Loop bodies */
    struct ortc_model *model;
    ortc_node **nodes;
    int n_nodes, cap_nodes;
    ortc_value **values;
    int n_values, cap_values;
    ortc_value **inputs; /* graph inputs fed by the caller, in order */
    int n_inputs;
    ortc_value **outputs;
    int n_outputs;
    struct ortc_name_map *map; /* name -> value (this scope only) */
} ortc_graph;

typedef struct ortc_opset_import {
    char *domain;
    int64_t version;
} ortc_opset_import;

/* The loaded model (the public opaque ortc_model). */
struct ortc_model {
    ortc_graph *graph;
    int64_t ir_version;
    char *producer_name, *producer_version, *domain, *doc;
    int64_t model_version;
    ortc_opset_import *opsets;
    int n_opsets;
    char *path; /* file it came from ("" for a buffer) */
    char *dir;  /* folder for external data (NULL: refuse external data) */
    /* ModelProto.metadata_props (in file order) and graph.doc_string, kept
     * for ortc_model_metadata / ortc_model_get_info; "" / 0 when absent. */
    char **meta_keys, **meta_values;
    int n_meta;
    char *graph_doc;
};

/* ---- construction (loader, tests) --------------------------------------
 * All functions return NULL / an error status on allocation failure. Strings
 * are copied. */

/* An empty model (free with the public ortc_model_free). */
ortc_model *ortc_model_new(void);
int ortc_model_add_opset(ortc_model *m, const char *domain, int64_t version);
/* Version imported for `domain` ("" / "ai.onnx" are the same); -1 if absent. */
int64_t ortc_model_opset_version(const ortc_model *m, const char *domain);

ortc_graph *ortc_graph_new(ortc_model *model, ortc_graph *parent, const char *name);
void ortc_graph_free(ortc_graph *g);

/* The value named `name` in this graph scope, created (kind INTERMEDIATE,
 * dtype UNDEFINED, rank -1) if absent. Does not search parents. */
ortc_value *ortc_graph_get_value(ortc_graph *g, const char *name);
/* Lookup in this scope, then enclosing graphs. NULL if absent. */
ortc_value *ortc_graph_find_value(const ortc_graph *g, const char *name);
/* Lookup in this scope only. */
ortc_value *ortc_graph_find_local(const ortc_graph *g, const char *name);

/* Appends a node with room for the given input/output counts (all NULL)
 * and no attributes. */
ortc_node *ortc_graph_add_node(ortc_graph *g, const char *op_type, const char *domain,
                               const char *name, int n_inputs, int n_outputs);
/* Appends an attribute slot (zeroed apart from name and type). */
ortc_attr *ortc_node_add_attr(ortc_node *n, const char *name, ortc_attr_type type);

/* Appends a fused post-op to n: 0, or -1 when n has ORTC_MAX_POST_OPS. */
int ortc_node_add_post_op(ortc_node *n, ortc_post_op po);

int ortc_graph_add_input(ortc_graph *g, ortc_value *v);
int ortc_graph_add_output(ortc_graph *g, ortc_value *v);

/* Allocates a constant tensor of the given type and shape with zeroed data
 * (STRING: an array of NULL char*, each later set with malloc'd strings). */
ortc_const_tensor *ortc_const_tensor_new(ortc_dtype dtype, int rank, const int64_t *dims);
void ortc_const_tensor_free(ortc_const_tensor *t);

/* An origin reading `fd` (duplicated; the caller keeps its own), a file of
 * `size` bytes; one reference, NULL when out of descriptors or memory. */
ortc_const_origin *ortc_const_origin_new(int fd, uint64_t size);
ortc_const_origin *ortc_const_origin_ref(ortc_const_origin *o);
void ortc_const_origin_unref(ortc_const_origin *o); /* NULL is a no-op */
/* Frees the bytes of a constant that has an origin (see ortc_const_tensor). */
void ortc_const_release(ortc_const_tensor *t);
/* Reads a released constant's bytes back from its origin; OK at once when
 * not released. Errors name `name` and the offset (a file that shrank or
 * cannot be read). */
ortc_status ortc_const_reacquire(ortc_const_tensor *t, const char *name, struct ortc_errbuf *err);

/* Makes v a constant holding `t` (ownership moves to v). */
void ortc_value_set_constant(ortc_value *v, ortc_const_tensor *t);
void ortc_value_set_shape(ortc_value *v, ortc_dtype dtype, int rank, const int64_t *dims);

/* Frees a node that belongs to no graph (attributes and subgraphs included). */
void ortc_node_free(ortc_node *n);

/* The graphs held by n's attributes (a GRAPH's, then each of a GRAPHS'),
 * one by one:
 *   ortc_subgraph_it it = {0};
 *   for (ortc_graph *sg; (sg = ortc_node_next_subgraph(n, &it));) ...
 * After a call, n->attrs[it.attr] is the attribute holding the graph. */
typedef struct ortc_subgraph_it {
    int attr;
    size_t item; /* 0: the attribute's g; i > 0: graphs[i - 1] */
} ortc_subgraph_it;
ortc_graph *ortc_node_next_subgraph(const ortc_node *n, ortc_subgraph_it *it);

/* Links producers and uses from node inputs/outputs, orders nodes
 * topologically (stable: file order when valid) and renumbers them. Errors
 * (written to err, errlen bytes): a value produced twice, produced by a node
 * but also an input/initializer, an input no one produces, a cycle. Recurses
 * into subgraphs. */
ortc_status ortc_graph_finalize(ortc_graph *g, char *err, size_t errlen);

/* ---- attribute lookup (operators) -------------------------------------- */

const ortc_attr *ortc_node_attr(const ortc_node *n, const char *name);
/* Typed getters: return `def` when absent. When present with another type
 * they return `def` too; operators validate types in infer with
 * ortc_node_attr_check. */
/* Whether n is the ONNX (default-domain: "" or NULL, ai.onnx being
 * normalised to "") operator op_type; false for NULL. */
bool ortc_node_is_onnx(const ortc_node *n, const char *op_type);
int64_t ortc_node_attr_int(const ortc_node *n, const char *name, int64_t def);
float ortc_node_attr_float(const ortc_node *n, const char *name, float def);
const char *ortc_node_attr_string(const ortc_node *n, const char *name, const char *def);
/* List attributes: *count set to its length (0 when absent). */
const int64_t *ortc_node_attr_ints(const ortc_node *n, const char *name, size_t *count);
const float *ortc_node_attr_floats(const ortc_node *n, const char *name, size_t *count);

/* Helpers. */
const char *ortc_attr_type_name(ortc_attr_type t);
/* "[1,3,224,224]" into buf ("?" for rank -1: a value of data-dependent
 * rank). */
const char *ortc_shape_str(char *buf, size_t len, int rank, const int64_t *dims);
/* "relu", "leaky_relu", ...; NULL for a kind out of range. */
const char *ortc_post_op_name(ortc_post_op_kind kind);
/* "relu", "leaky_relu(0.1)", "clip(-1, 1)", "hard_sigmoid(0.2, 0.5)",
 * "sum" into buf (for logs and messages; parameters printed with %g). */
const char *ortc_post_op_str(char *buf, size_t len, const ortc_post_op *po);
/* "[batch,3,224,224]" / "?" for unknown rank. */
const char *ortc_value_shape_str(char *buf, size_t len, const ortc_value *v);

#endif /* ORTC_IR_H */
