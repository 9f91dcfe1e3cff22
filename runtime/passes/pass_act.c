/* pass_act.c — activations that exporters write out as several nodes,
 * folded into the producing node as one fused post-op: SiLU / swish
 * (PyTorch's nn.SiLU, EfficientNet's activation), exported as
 * y = Mul(x, Sigmoid(x)) or Mul(Sigmoid(x), x), becomes post-op "swish" of
 * x's producer, and hard swish exported before opset 14 (MobileNetV3's
 * nn.Hardswish) as Mul(x, HardSigmoid(x)) with alpha 1/6 and beta 0.5
 * becomes "hard_swish", and GELU through Erf as PyTorch exports it
 * (nn.GELU: ViT, ConvNeXt, Swin, BERT),
 *   y = Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)
 * (Div by sqrt 2 or Mul by 1/sqrt 2, to 1e-6 relative; the 0.5 on x first
 * or last; operands of Add and Mul in either order) becomes "gelu_erf",
 * when that producer takes post-ops
 * (ORTC_OP_POST_OPS and its post_op_ok) and nothing else reads x or the
 * Sigmoid (GELU: any of its intermediates). Runs before "fuse", so
 * followers of the Mul then chain onto the
 * same producer. Rounding: one rounding of x * sigmoid(x) instead of two
 * (hard swish: x / 6 instead of x * float(1/6)); covered by the zoo tests'
 * 1e-4 relative tolerance and the post-op unit tests.
 */
#include <math.h>

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

/* The single reader of v when it is `op` of ONNX's domain with two inputs,
 * one of them v, and one output (*other: its other input). */
static ortc_node *binary_reader(const ortc_value *v, const char *op, ortc_value **other)
{
    ortc_node *n = ortc_pass_single_user(v);
    if (!ortc_pass_is_op(n, op) || n->n_inputs != 2 || n->n_outputs != 1 || !n->outputs[0] ||
        n->inputs[0] == n->inputs[1])
        return NULL;
    *other = n->inputs[n->inputs[0] == v ? 1 : 0];
    return n;
}

/* v is a constant float scalar within 1e-6 relative of want. */
static bool const_near(const ortc_value *v, double want)
{
    float f;
    return v && v->kind == ORTC_VALUE_CONSTANT && ortc_pass_const_float(v, &f) &&
           fabs((double)f - want) <= 1e-6 * want;
}

/* The GELU after x (both its readers), as the nodes to remove (the last one
 * makes the result); 0 when it is not one. */
static int gelu_nodes(const ortc_value *x, ortc_node *out[5])
{
    if (x->is_output || x->n_uses != 2)
        return 0;
    for (int u = 0; u < 2; u++) {
        ortc_node *d = x->uses[u].node, *other = x->uses[1 - u].node;
        /* d = x / sqrt 2 or x * (1 / sqrt 2); e = Erf(d); a = e + 1 */
        if (!d || !other || d == other || d->n_inputs != 2 || d->inputs[0] != x ||
            d->n_outputs != 1)
            continue;
        bool div = ortc_pass_is_op(d, "Div");
        if (!(div ? const_near(d->inputs[1], sqrt(2.0))
                  : ortc_pass_is_op(d, "Mul") && const_near(d->inputs[1], sqrt(0.5))))
            continue;
        ortc_node *e = ortc_pass_single_user(d->outputs[0]);
        ortc_value *one, *k, *k2;
        if (!ortc_pass_is_op(e, "Erf") || e->n_inputs != 1 || e->n_outputs != 1 || !e->outputs[0])
            continue;
        ortc_node *a = binary_reader(e->outputs[0], "Add", &one);
        if (!a || !const_near(one, 1.0))
            continue;
        /* other = x * a, then * 0.5; or other = x * 0.5, then * a */
        if (!ortc_pass_is_op(other, "Mul") || other->n_inputs != 2 || other->n_outputs != 1 ||
            !other->outputs[0] || other->inputs[0] == other->inputs[1])
            continue;
        ortc_value *o = other->inputs[other->inputs[0] == x ? 1 : 0];
        ortc_node *last = NULL;
        if (o == a->outputs[0] && ortc_pass_single_user(o) == other)
            last = binary_reader(other->outputs[0], "Mul", &k);
        else if (const_near(o, 0.5) && ortc_pass_single_user(a->outputs[0]))
            last = binary_reader(other->outputs[0], "Mul", &k2);
        if (!last)
            continue;
        if (o == a->outputs[0] ? !const_near(k, 0.5) : ortc_pass_single_user(a->outputs[0]) != last)
            continue;
        out[0] = d;
        out[1] = e;
        out[2] = a;
        out[3] = other;
        out[4] = last;
        return 5;
    }
    return 0;
}

/* Folds the GELU after p into p; *done when it did. */
static ortc_status fuse_gelu(ortc_pass_ctx *pc, ortc_node *p, bool *done)
{
    ortc_node *g[5];
    ortc_post_op po = {ORTC_POST_OP_GELU_ERF, 0.0f, 0.0f};
    if (!gelu_nodes(p->outputs[0], g) || !ortc_pass_accepts_post_op(p, &po))
        return ORTC_STATUS_OK;
    ortc_node_add_post_op(p, po); /* room checked above */
    p->outputs[0] = g[4]->outputs[0];
    char l1[300], l2[300], l3[300];
    ortc_pass_note(pc, "passes: act: GELU from %s to %s folded into %s as post-op 'gelu_erf'",
                   ortc_pass_node_label(l1, sizeof l1, g[0]),
                   ortc_pass_node_label(l2, sizeof l2, g[4]),
                   ortc_pass_node_label(l3, sizeof l3, p));
    for (int i = 0; i < 5; i++)
        ortc_ir_remove_node(pc->g, g[i]);
    pc->stats.gelu++;
    *done = true;
    return ortc_pass_finalize(pc, "act");
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

static ortc_status fuse_act(ortc_pass_ctx *pc, ortc_node *p, bool *done)
{
    ortc_status st = fuse_swish(pc, p, done);
    if (!st && !*done)
        st = fuse_gelu(pc, p, done);
    return st;
}

ortc_status ortc_pass_act(ortc_pass_ctx *pc)
{
    return ortc_pass_fold_into_producers(pc, fuse_act);
}
