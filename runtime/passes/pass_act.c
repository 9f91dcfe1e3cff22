/* pass_act.c — activations that exporters write out as several nodes,
 * folded into the producing node as one fused post-op: SiLU / swish
 * (PyTorch's nn.SiLU, EfficientNet's activation), exported as
 * y = Mul(x, Sigmoid(x)) or Mul(Sigmoid(x), x), becomes post-op "swish" of
 * x's producer, and hard swish exported before opset 14 (MobileNetV3's
 * nn.Hardswish) as Mul(x, HardSigmoid(x)) with alpha 1/6 and beta 0.5
 * becomes "hard_swish", when that producer takes post-ops
 * (ORTC_OP_POST_OPS and its post_op_ok) and nothing else reads x or the
 * Sigmoid. Runs before "fuse", so followers of the Mul then chain onto the
 * same producer. Rounding: one rounding of x * sigmoid(x) instead of two
 * (hard swish: x / 6 instead of x * float(1/6)); covered by the zoo tests'
 * 1e-4 relative tolerance and the post-op unit tests.
 */
#include "ir_edit.h"
#include "pass_impl.h"
#include "post_ops.h"

/* Mul(x, s) or Mul(s, x) with s = Sigmoid(x) or HardSigmoid(x): the
 * gate, or NULL. */
static ortc_node *swish_sigmoid(const ortc_node *mul, const ortc_value *x)
{
    if (!ortc_pass_is_op(mul, "Mul") || mul->n_inputs != 2 || mul->n_outputs != 1 ||
        !mul->outputs[0])
        return NULL;
    for (int k = 0; k < 2; k++) {
        const ortc_value *s = mul->inputs[1 - k];
        if (mul->inputs[k] != x || !s || s == x || s->kind != ORTC_VALUE_INTERMEDIATE)
            continue;
        ortc_node *sig = s->producer;
        if ((ortc_pass_is_op(sig, "Sigmoid") || ortc_pass_is_op(sig, "HardSigmoid")) &&
            sig->n_inputs == 1 && sig->inputs[0] == x && sig->n_outputs == 1 &&
            ortc_pass_single_user(s) == mul)
            return sig;
    }
    return NULL;
}

/* Folds x * sigmoid(x) after p into p; *done when it did. */
static ortc_status fuse_swish(ortc_pass_ctx *pc, ortc_node *p, bool *done)
{
    ortc_value *x = p->outputs[0];
    if (x->is_output || x->n_uses != 2)
        return ORTC_STATUS_OK;
    ortc_node *mul = NULL, *sig = NULL;
    for (int u = 0; u < 2 && !sig; u++) {
        mul = x->uses[u].node;
        sig = swish_sigmoid(mul, x);
    }
    /* the gate must describe itself as a post-op (float32, its attributes):
     * sigmoid, or hard sigmoid with hard swish's alpha and beta */
    ortc_post_op desc, po = {ORTC_POST_OP_SWISH, 1.0f, 0.0f};
    if (!sig || !ortc_pass_post_op(pc, sig, 0, ORTC_DTYPE_FLOAT, &desc))
        return ORTC_STATUS_OK;
    bool hard = desc.kind == ORTC_POST_OP_HARD_SIGMOID && desc.alpha == (float)(1.0 / 6.0) &&
                desc.beta == 0.5f;
    if (hard)
        po = (ortc_post_op){ORTC_POST_OP_HARD_SWISH, 0.0f, 0.0f};
    if ((desc.kind != ORTC_POST_OP_SIGMOID && !hard) || !ortc_pass_accepts_post_op(p, &po))
        return ORTC_STATUS_OK;
    ortc_node_add_post_op(p, po); /* room checked above */
    p->outputs[0] = mul->outputs[0];
    char l1[300], l2[300];
    ortc_pass_note(pc, "passes: act: %s * %s folded into %s as post-op '%s'",
                   ortc_pass_node_label(l1, sizeof l1, mul), sig->op_type,
                   ortc_pass_node_label(l2, sizeof l2, p), hard ? "hard_swish" : "swish");
    ortc_ir_remove_node(pc->g, mul);
    ortc_ir_remove_node(pc->g, sig);
    if (hard)
        pc->stats.hard_swish++;
    else
        pc->stats.swish++;
    *done = true;
    return ortc_pass_finalize(pc, "act");
}

ortc_status ortc_pass_act(ortc_pass_ctx *pc)
{
    return ortc_pass_fold_into_producers(pc, fuse_swish);
}
