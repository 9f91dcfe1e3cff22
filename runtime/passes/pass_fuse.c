/* pass_fuse.c — folds the single reader of a float32 node's output into
 * that node as a fused post-op (operators/operator.h, "fusion contract"):
 * producers are the nodes whose operator declares ORTC_OP_POST_OPS; the
 * follower describes itself through its operator's post_op callback
 * (element-wise Relu, LeakyRelu, Clip, ... with their own parameters and
 * defaults; an Add whose operands share one shape becomes a "sum", operand
 * appended as input ORTC_FUSED_SUM_INPUT, for producers that also declare
 * ORTC_OP_POST_OP_SUM). Knows no operator by name.
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

ortc_status ortc_pass_fuse(ortc_pass_ctx *pc)
{
    return ortc_pass_fold_into_producers(pc, fuse_one); /* a chain: Conv -> Add -> Relu */
}
