/* pass_ln.c — recognises layer normalization over the last axis as
 * exporters write it before opset 17 (PyTorch's nn.LayerNorm: ViT,
 * ConvNeXt, transformers), float32, after folding:
 *
 *   m = ReduceMean(x, axes=[last], keepdims=1)
 *   d = Sub(x, m)
 *   v = ReduceMean(Pow(d, 2), axes=[last], keepdims=1)
 *   n = Div(d, Sqrt(Add(v, eps)))
 *   y = Add(Mul(n, scale), bias)      (either operand order; bias optional)
 *
 * with eps, scale and bias constants (scale and bias 1-D), and replaces it by
 * one LayerNormalization (ONNX 17: axis -1, epsilon eps, float statistics;
 * oneDNN's layer normalization) computing the same formula. The node is the
 * opset-17 operator whatever the model's opset (the decomposition is its
 * definition). The last axis: axes [-1], or the static rank of x (or its
 * rank under both probes of the symbolic dims, ortc_pass_probe) less 1. Every
 * intermediate must have no other reader; otherwise nothing changes.
 * Rounding: one pass computing mean and variance instead of nine nodes;
 * covered by the zoo tests' 1e-4 relative tolerance.
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

/* The producer of v when it is an `op` node whose output v has exactly one
 * reader, `reader`, at input `at` (-1: any). */
static ortc_node *only_for(const ortc_value *v, const char *op, const ortc_node *reader, int at)
{
    if (!v || v->kind != ORTC_VALUE_INTERMEDIATE || ortc_pass_single_user(v) != reader ||
        (at >= 0 && v->uses[0].input != at))
        return NULL;
    ortc_node *p = v->producer;
    return ortc_pass_is_op(p, op) && p->n_outputs == 1 ? p : NULL;
}

/* x's rank: static, or the same under both probes; -1 unknown. */
static int rank_of(ortc_pass_ctx *pc, const ortc_value *x)
{
    const ortc_pass_info *in = ortc_pass_value(pc, x);
    if (in && in->rank >= 0)
        return in->rank;
    return ortc_pass_probe_rank(pc, x);
}

/* ReduceMean(x) over the last axis only, keepdims 1 (axes as an attribute:
 * opsets before 18). */
static bool mean_last(ortc_pass_ctx *pc, const ortc_node *r, const ortc_value *x)
{
    if (!r || r->n_inputs != 1 || r->inputs[0] != x || ortc_node_version(r) >= 18 ||
        ortc_node_attr_int(r, "keepdims", 1) != 1)
        return false;
    size_t n = 0;
    const int64_t *axes = ortc_node_attr_ints(r, "axes", &n);
    if (!axes || n != 1)
        return false;
    if (axes[0] == -1)
        return true; /* the last axis at any rank */
    int rank = rank_of(pc, x);
    return rank >= 1 && axes[0] == rank - 1;
}

/* The other operand of binary node b (b reads `v` at one input), when it
 * is a float constant of rank <= 1 (scalar_only: one element). */
static ortc_value *const_operand(const ortc_node *b, const ortc_value *v, bool scalar_only)
{
    if (!b || b->n_inputs != 2 || (b->inputs[0] == v) == (b->inputs[1] == v))
        return NULL;
    ortc_value *o = b->inputs[b->inputs[0] == v ? 1 : 0];
    if (!o || o->kind != ORTC_VALUE_CONSTANT || !o->constant ||
        o->constant->t.dtype != ORTC_DTYPE_FLOAT || o->constant->t.rank > 1 ||
        (scalar_only && ortc_tensor_numel(&o->constant->t) != 1) ||
        (!scalar_only && o->constant->t.rank != 1))
        return NULL;
    return o;
}

typedef struct ln_match {
    ortc_node *nodes[9];
    int n;
    ortc_value *x, *scale, *bias, *y;
    float eps;
} ln_match;

/* The pattern ending at the Div `div` (n = d / sqrt(v + eps)). */
static bool match_ln(ortc_pass_ctx *pc, ortc_node *div, ln_match *m)
{
    memset(m, 0, sizeof *m);
    if (!ortc_pass_is_op(div, "Div") || div->n_inputs != 2 || div->n_outputs != 1 ||
        !div->outputs[0])
        return false;
    ortc_value *d = div->inputs[0];
    ortc_node *sqrt = only_for(div->inputs[1], "Sqrt", div, 1);
    ortc_node *add_eps = sqrt ? only_for(sqrt->inputs[0], "Add", sqrt, 0) : NULL;
    if (!add_eps || !d || d->kind != ORTC_VALUE_INTERMEDIATE || d->n_uses != 2 || d->is_output)
        return false;
    ortc_node *sub = d->producer;
    if (!ortc_pass_is_op(sub, "Sub") || sub->n_inputs != 2 || sub->n_outputs != 1)
        return false;
    ortc_value *x = sub->inputs[0];
    ortc_node *mean = only_for(sub->inputs[1], "ReduceMean", sub, 1);
    if (!x || !mean || !mean_last(pc, mean, x))
        return false;
    /* v = ReduceMean(Pow(d, 2)), read by add_eps */
    ortc_value *v = NULL;
    for (int k = 0; k < 2 && !v; k++)
        if (add_eps->inputs[k] && add_eps->inputs[1 - k] &&
            add_eps->inputs[1 - k]->kind == ORTC_VALUE_CONSTANT)
            v = add_eps->inputs[k];
    ortc_node *var = only_for(v, "ReduceMean", add_eps, -1);
    ortc_node *pow = var ? only_for(var->inputs[0], "Pow", var, 0) : NULL;
    float two = 0;
    if (!pow || pow->n_inputs != 2 || pow->inputs[0] != d || !mean_last(pc, var, var->inputs[0]) ||
        !ortc_pass_const_float(pow->inputs[1], &two) || two != 2.0f)
        return false;
    ortc_value *eps = const_operand(add_eps, v, true);
    if (!eps || !ortc_pass_const_float(eps, &m->eps) || !(m->eps >= 0.0f))
        return false;
    /* the scale (required by LayerNormalization-17), then the bias */
    ortc_value *n = div->outputs[0];
    ortc_node *mul = ortc_pass_single_user(n);
    if (!ortc_pass_is_op(mul, "Mul") || mul->n_outputs != 1 || !mul->outputs[0] ||
        !(m->scale = const_operand(mul, n, false)))
        return false;
    m->y = mul->outputs[0];
    ortc_node *add_b = ortc_pass_single_user(m->y);
    if (ortc_pass_is_op(add_b, "Add") && add_b->n_outputs == 1 && add_b->outputs[0] &&
        (m->bias = const_operand(add_b, m->y, false)))
        m->y = add_b->outputs[0];
    else
        add_b = NULL;
    /* x is float32: Mul takes one type T and the scale is float32 */
    ortc_node *all[9] = {mean, sub, pow, var, add_eps, sqrt, div, mul, add_b};
    for (int i = 0; i < 9; i++)
        if (all[i])
            m->nodes[m->n++] = all[i];
    m->x = x;
    return true;
}

ortc_status ortc_pass_ln(ortc_pass_ctx *pc)
{
    ortc_graph *g = pc->g;
    const ortc_operator *op = ortc_registry_find("", "LayerNormalization", 17);
    if (!op)
        return ORTC_STATUS_OK;
    for (int i = 0; i < g->n_nodes; i++) {
        ln_match m;
        if (!match_ln(pc, g->nodes[i], &m))
            continue;
        ortc_node *last = m.nodes[m.n - 1];
        char name[600];
        snprintf(name, sizeof name, "%s_layernorm", last->name);
        ortc_node *ln =
            ortc_ir_insert_node(g, last->index, "LayerNormalization", "", name, m.bias ? 3 : 2, 1);
        ortc_attr *a[2] = {NULL};
        if (ln) {
            a[0] = ortc_node_add_attr(ln, "axis", ORTC_ATTR_INT);
            a[1] = a[0] ? ortc_node_add_attr(ln, "epsilon", ORTC_ATTR_FLOAT) : NULL;
        }
        if (!a[1])
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY,
                                "out of memory adding LayerNormalization");
        ln->attrs[0].i = -1; /* re-fetch: adding attributes reallocates the array */
        ln->attrs[1].f = m.eps;
        ln->opset = 17;
        ln->op = op;
        ln->inputs[0] = m.x;
        ln->inputs[1] = m.scale;
        if (m.bias)
            ln->inputs[2] = m.bias;
        ln->outputs[0] = m.y;
        char lab[300];
        ortc_pass_note(pc,
                       "passes: ln: %d nodes from '%s' to %s are layer normalization over the "
                       "last axis: replaced by LayerNormalization '%s' epsilon=%g",
                       m.n, m.x->name, ortc_pass_node_label(lab, sizeof lab, last), ln->name,
                       (double)m.eps);
        for (int k = 0; k < m.n; k++)
            ortc_ir_remove_node(g, m.nodes[k]);
        pc->stats.ln++;
        ORTC_TRY(ortc_pass_refresh(pc, "ln"));
        i = -1; /* order may have changed */
    }
    return ORTC_STATUS_OK;
}
