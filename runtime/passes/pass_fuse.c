/* pass_fuse.c — folds the single reader of a float32 node's output into
 * that node as a fused post-op (operators/operator.h, "fusion contract"):
 * producers are the nodes whose operator declares ORTC_OP_POST_OPS; the
 * follower describes itself through its operator's post_op callback
 * (element-wise Relu, LeakyRelu, Clip, ... with their own parameters and
 * defaults; an Add whose operands share one shape becomes a "sum", operand
 * appended as input ORTC_FUSED_SUM_INPUT, for producers that also declare
 * ORTC_OP_POST_OP_SUM). Knows no operator by name.
 * ortc_pass_bias, run before the activation patterns (pass_act.c) so that
 * they and the fusions here chain onto the same producer, folds an Add of
 * a constant 1-D float vector of the output's last dim (nn.Linear's bias
 * after its MatMul) into producers that declare ORTC_OP_POST_OP_BIAS, as
 * post-op "bias" with the vector in input ORTC_FUSED_BIAS_INPUT. The last
 * dim is read from the static shape or, under a symbolic batch, from both
 * probes (ortc_pass_probe) when they agree, else from the weights (see
 * last_dim).
 */
#include "ir_edit.h"
#include "pass_impl.h"
#include "post_ops.h"

static bool has_sum(const ortc_node *n)
{
    for (int i = 0; i < n->n_post_ops; i++)
        if (n->post_ops[i].kind == ORTC_POST_OP_SUM)
            return true;
    return false;
}

/* Folds the single reader of p's output into p; *done when it did. */
static ortc_status fuse_one(ortc_pass_ctx *pc, ortc_node *p, bool *done)
{
    ortc_value *y = p->outputs[0];
    ortc_node *e = ortc_pass_single_user(y);
    if (!e || e->n_outputs != 1 || !e->outputs[0])
        return ORTC_STATUS_OK;
    int at = y->uses[0].input; /* e reads y there */
    ortc_post_op po;
    if (!ortc_pass_post_op(pc, e, at, ORTC_DTYPE_FLOAT, &po) || !ortc_pass_accepts_post_op(p, &po))
        return ORTC_STATUS_OK;
    ortc_value *sum = NULL;
    if (po.kind == ORTC_POST_OP_SUM) {
        /* the summand is e's other operand, in p's input slot for it */
        if (!(p->op->flags & ORTC_OP_POST_OP_SUM) || has_sum(p) ||
            p->n_inputs > ORTC_FUSED_SUM_INPUT || e->n_inputs != 2)
            return ORTC_STATUS_OK;
        sum = e->inputs[1 - at];
        if (ortc_ir_set_input_count(p, ORTC_FUSED_SUM_INPUT + 1))
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory fusing");
        p->inputs[ORTC_FUSED_SUM_INPUT] = sum;
    }
    ortc_node_add_post_op(p, po); /* room checked above */
    p->outputs[0] = e->outputs[0];
    char l1[300], l2[300], entry[96];
    ortc_pass_note(pc, "passes: fuse: %s folded into %s as post-op '%s'%s%s%s",
                   ortc_pass_node_label(l1, sizeof l1, e), ortc_pass_node_label(l2, sizeof l2, p),
                   ortc_post_op_str(entry, sizeof entry, &po), sum ? " (operand '" : "",
                   sum ? sum->name : "", sum ? "')" : "");
    ortc_ir_remove_node(pc->g, e);
    pc->stats.fused++;
    *done = true;
    return ortc_pass_finalize(pc, "fuse");
}

/* The last dim of p's output v: static, or alike under both probes, or
 * else that of p's weights, input 1, when a constant of rank >= 2
 * (operator.h, ORTC_OP_POST_OP_BIAS: probes lose the shape after a
 * Reshape to computed dims, ViT's patch embedding); -1 unknown. */
static int64_t last_dim(ortc_pass_ctx *pc, const ortc_node *p, const ortc_value *v)
{
    const ortc_pass_info *in = ortc_pass_value(pc, v);
    if (in && in->rank >= 1)
        return in->dims[in->rank - 1];
    const ortc_pass_info *a = ortc_pass_probe(pc, v, 0), *b = ortc_pass_probe(pc, v, 1);
    if (a && b && a->rank >= 1 && b->rank >= 1 && a->dims[a->rank - 1] == b->dims[b->rank - 1])
        return a->dims[a->rank - 1];
    const ortc_value *w = p->n_inputs > 1 ? p->inputs[1] : NULL;
    if (w && w->kind == ORTC_VALUE_CONSTANT && w->constant && w->constant->t.rank >= 2)
        return w->constant->t.dims[w->constant->t.rank - 1];
    return -1;
}

/* Folds y + bias after p into p when bias is a constant float (N) and y's
 * last dim is N; *done when it did. */
static ortc_status fuse_bias(ortc_pass_ctx *pc, ortc_node *p, bool *done)
{
    ortc_value *y = p->outputs[0];
    ortc_node *e = ortc_pass_single_user(y);
    if (!(p->op->flags & ORTC_OP_POST_OP_BIAS) || p->n_post_ops || !ortc_pass_is_op(e, "Add") ||
        e->n_inputs != 2 || e->n_outputs != 1 || !e->outputs[0] || e->inputs[0] == e->inputs[1] ||
        (p->n_inputs > ORTC_FUSED_BIAS_INPUT && p->inputs[ORTC_FUSED_BIAS_INPUT]))
        return ORTC_STATUS_OK;
    ortc_value *b = e->inputs[1 - y->uses[0].input];
    const ortc_tensor *t =
        b && b->kind == ORTC_VALUE_CONSTANT && b->constant ? &b->constant->t : NULL;
    ortc_post_op po = {ORTC_POST_OP_BIAS, 0.0f, 0.0f};
    if (!t || t->dtype != ORTC_DTYPE_FLOAT || t->rank != 1 || t->dims[0] < 1 ||
        last_dim(pc, p, y) != t->dims[0] || !ortc_pass_accepts_post_op(p, &po))
        return ORTC_STATUS_OK;
    if (p->n_inputs <= ORTC_FUSED_BIAS_INPUT &&
        ortc_ir_set_input_count(p, ORTC_FUSED_BIAS_INPUT + 1))
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory fusing a bias");
    p->inputs[ORTC_FUSED_BIAS_INPUT] = b;
    ortc_node_add_post_op(p, po); /* the list was empty */
    p->outputs[0] = e->outputs[0];
    char l1[300], l2[300];
    ortc_pass_note(pc, "passes: bias: %s folded into %s as post-op 'bias' (operand '%s')",
                   ortc_pass_node_label(l1, sizeof l1, e), ortc_pass_node_label(l2, sizeof l2, p),
                   b->name);
    ortc_ir_remove_node(pc->g, e);
    pc->stats.bias++;
    *done = true;
    return ortc_pass_finalize(pc, "bias");
}

ortc_status ortc_pass_bias(ortc_pass_ctx *pc)
{
    return ortc_pass_fold_into_producers(pc, fuse_bias);
}

ortc_status ortc_pass_fuse(ortc_pass_ctx *pc)
{
    return ortc_pass_fold_into_producers(pc, fuse_one); /* a chain: Conv -> Add -> Relu */
}
