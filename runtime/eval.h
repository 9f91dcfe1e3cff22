/* eval.h — evaluating one node outside a running plan, the single
 * implementation behind compile.c's per-plan inference and folding, the
 * graph passes' static inference and constant folding, and the operator
 * unit-test harness: building a node's operator context, shape inference
 * with the runtime's checks of every output, deciding whether a node can be
 * folded, and computing it now. It plans no memory and runs no graph.
 * Private.
 */
#ifndef ORTC_EVAL_H
#define ORTC_EVAL_H

#include <stdbool.h>

#include "error.h"
#include "ir.h"
#include "operator.h"
#include "ortc/ortc.h"

struct ortc_backend;

/* What evaluation needs from its caller. */
typedef struct ortc_eval_env {
    int threads;
    bool reference;          /* reference kernels where the op has one */
    size_t max_tensor_bytes; /* 0: ORTC_DEFAULT_MAX_TENSOR_BYTES */
    /* The backend slot: created there on first need (never in reference
     * mode); the caller destroys it. */
    struct ortc_backend **backend;
    /* Failures that are not the operator's verdict on its inputs: out of
     * memory, no backend, an output above max_tensor_bytes. */
    ortc_errbuf *err;
} ortc_eval_env;

/* Points c's arrays at caller storage for node n and clears the rest:
 * tp and lp hold n_in + n_out entries, ip 2 * n_out, bp n_out. Entries of
 * in/out/in_layout/out_layout start NULL (the caller binds present
 * values); inplace and view start at -1; blocked_ok false. */
void ortc_eval_ctx_bind(ortc_opctx *c, const ortc_node *n, ortc_tensor **tp, ortc_layout **lp,
                        int *ip, bool *bp, int threads, ortc_errbuf *err);

/* A context for n with storage of its own: every present input and output
 * bound to a tensor of the context (dtype UNDEFINED, rank -1, no data) and
 * a plain layout. -1 on out of memory. */
typedef struct ortc_node_ctx {
    ortc_opctx c;
    ortc_tensor *t; /* [n_in + n_out] */
    ortc_layout *l; /* [n_in + n_out] */
    void *block;    /* the one allocation behind all arrays */
} ortc_node_ctx;

int ortc_node_ctx_init(ortc_node_ctx *x, const ortc_node *n, int threads, ortc_errbuf *err);
void ortc_node_ctx_free(ortc_node_ctx *x);

/* Shape inference of c's node: op->infer, or, for an operator owning
 * subgraphs, op->compile where c->subgraphs is set (elsewhere such a node
 * is refused). Then every present output is checked — dtype and rank set,
 * element count and byte size representable, at most env->max_tensor_bytes,
 * and, for a graph output the file declares, the declared dtype and dims —
 * and given a plain layout of its size. On failure *fatal (may be NULL)
 * tells the caller's kind of failure (message in env->err) from the op or
 * an output being refused (message in c->err, naming node and output);
 * speculative callers ignore only the latter. */
ortc_status ortc_eval_infer(ortc_opctx *c, const ortc_eval_env *env, bool *fatal);

/* Whether n may be computed at compile time: it has an operator with a
 * kernel, not NO_FOLD nor DYNAMIC, it owns no subgraph and reads no outer
 * value, and
 * what it reads is known — for a SHAPE_ONLY op the shapes (always, once it
 * is inferred), otherwise the contents of every present input, as
 * known(arg, v) says. */
bool ortc_eval_foldable(const ortc_node *n, bool (*known)(const void *arg, const ortc_value *v),
                        const void *arg);

/* Computes c's node now. c is inferred; every present input has its data;
 * out[k]->data are caller buffers of the output's plain byte size. Uses
 * the reference kernel when env->reference and the op has one; otherwise,
 * as a plan step runs, prepare (with env's backend unless in reference
 * mode), scratch, outputs that are views copied from their input, run
 * unless every output is a view, a wait for the backend, and release.
 * Failures and *fatal as for ortc_eval_infer; an op choosing a blocked
 * layout, or a view of an input of another size, is refused. */
ortc_status ortc_eval_run(ortc_opctx *c, const ortc_eval_env *env, bool *fatal);

/* ortc_eval_run in its three parts, for a caller that gives prepare the
 * data of constant inputs only and run all of it (the operator tests):
 * prepare (backend, op->prepare, c->scratch allocated), compute (views,
 * run or reference, wait), release (op->release, scratch freed; call it
 * also after a failed prepare). */
ortc_status ortc_eval_prepare(ortc_opctx *c, const ortc_eval_env *env, bool *fatal);
ortc_status ortc_eval_compute(ortc_opctx *c, const ortc_eval_env *env);
void ortc_eval_release(ortc_opctx *c, const ortc_eval_env *env);

#endif /* ORTC_EVAL_H */
