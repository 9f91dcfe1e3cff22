/* post_ops.h — the operators' side of the fusion contract (operator.h):
 * checking a node's typed post-op list (runtime/ir.h, ortc_node.post_ops)
 * in infer, and applying it in plain C (reference kernels and plain-C fast
 * paths). Backend-independent: the oneDNN attribute is built in
 * dnnl_util.c. Private to operators/.
 */
#ifndef ORTC_POST_OPS_H
#define ORTC_POST_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "operator.h"

/* Checks c->node's post-ops for an op whose output 0 has shape
 * (rank, dims): known kinds, at most one sum; with a sum, input
 * ORTC_FUSED_SUM_INPUT present, float32 and of the output's shape; without
 * one, that input absent. INVALID_MODEL naming the entry otherwise. */
ortc_status ortc_post_ops_check(ortc_opctx *c, int rank, const int64_t *dims);
/* Whether po may follow n's current list (graph passes ask before fusing):
 * a sum only as the first entry, and no entry that maps onto a oneDNN
 * eltwise algorithm the list already uses (see post_ops.c for why). */
bool ortc_post_ops_can_append(const ortc_node *n, const ortc_post_op *po);
/* Whether n's list has a sum. */
bool ortc_post_ops_has_sum(const ortc_node *n);
/* Whether n's list starts with a bias (ops with ORTC_OP_POST_OP_BIAS: the
 * op adds input ORTC_FUSED_BIAS_INPUT itself, e.g. as oneDNN's bias). */
bool ortc_post_ops_has_bias(const ortc_node *n);
/* The input checks every op that applies post-ops starts with: min_in to
 * max_in inputs of its own, all float32, and one output; with post-ops,
 * room for the summand (input ORTC_FUSED_SUM_INPUT, checked by
 * ortc_post_ops_check). */
ortc_status ortc_post_ops_check_inputs(ortc_opctx *c, int min_in, int max_in);
// y: (n) output 0 of c, plain. Applies c->node's post-ops in order, in
// place, with the element-wise reference formulas; a sum adds
// c->in[ORTC_FUSED_SUM_INPUT] (n elements).
void ortc_post_ops_apply(const ortc_opctx *c, float *y, int64_t n);

#endif
