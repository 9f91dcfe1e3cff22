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
 * last_dim). It then folds a constant per-column scale after such a
 * MatMul into its weights (fold_scale): MatMul(x, W) [+ bias], optionally
 * through a Transpose, then Mul by a constant c that varies only along
 * the MatMul's last axis (ConvNeXt's layer scale, gamma (C, 1, 1) after the
 * block's NHWC -> NCHW Transpose) becomes MatMul(x, W * c) [+ bias * c]
 * and the Mul goes. Rounding: the product of each weight with c instead of
 * that of the sum (covered by the zoo tests' 1e-4 relative tolerance).
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
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

/* The constant float tensor of v, or NULL. */
static const ortc_tensor *const_float(const ortc_value *v)
{
    if (!v || v->kind != ORTC_VALUE_CONSTANT || !v->constant ||
        v->constant->t.dtype != ORTC_DTYPE_FLOAT)
        return NULL;
    return &v->constant->t;
}

/* c (rank <= r) broadcast right-aligned to rank r varies at most along
 * axis `axis`, where it has n or 1 entries: *step is its element stride
 * along j in [0, n) (0: one value for all). */
static bool scale_along(const ortc_tensor *c, int r, int axis, int64_t n, int64_t *step)
{
    if (c->rank > r)
        return false;
    *step = 0;
    for (int d = 0; d < c->rank; d++) {
        int at = r - c->rank + d;
        if (c->dims[d] == 1)
            continue;
        if (at != axis || c->dims[d] != n)
            return false;
        *step = 1; /* the only dim above 1: contiguous */
    }
    return true;
}

/* Whether constant v is read by node p alone, in storage of its own (the
 * session owns its graph's constants), so p's pass may rewrite it. */
static bool only_read_by(const ortc_pass_ctx *pc, const ortc_value *v, const ortc_node *p)
{
    if (v->graph != pc->g || v->kind != ORTC_VALUE_CONSTANT || !v->constant || v->is_output ||
        v->constant->released || !v->constant->owned || v->constant->t.data != v->constant->owned)
        return false;
    for (int u = 0; u < v->n_uses; u++)
        if (v->uses[u].node != p)
            return false;
    return true;
}

/* MatMul p with constant (K, N) weights and no post-op but a bias, read by
 * a Mul (directly, or through a Transpose) by a constant c along p's last
 * axis: weights W * c, bias * c; the Mul removed. *done when it did. The
 * weights are scaled in place when p alone reads them: a new tensor's
 * first touch cost ConvNeXt-T (51 MB of scaled weights) about 120 ms of
 * page faults and zeroing at session creation. They then cannot be read
 * again from the file (their origin goes), as a new tensor could not. */
static ortc_status fold_scale(ortc_pass_ctx *pc, ortc_node *p, bool *done)
{
    const ortc_tensor *w = p->n_inputs > 1 ? const_float(p->inputs[1]) : NULL;
    bool has_bias = p->n_post_ops == 1 && p->post_ops[0].kind == ORTC_POST_OP_BIAS;
    if (!ortc_pass_is_op(p, "MatMul") || !w || w->rank != 2 || (p->n_post_ops && !has_bias) ||
        p->n_outputs != 1 || !p->outputs[0])
        return ORTC_STATUS_OK;
    const int64_t k = w->dims[0], n = w->dims[1];
    const ortc_tensor *bias = has_bias ? const_float(p->inputs[ORTC_FUSED_BIAS_INPUT]) : NULL;
    if (has_bias && (!bias || bias->rank != 1 || bias->dims[0] != n))
        return ORTC_STATUS_OK;
    /* the reader: a Mul, or a Transpose with perm whose only reader is one */
    ortc_node *t = ortc_pass_single_user(p->outputs[0]), *m = t;
    int r = 1, axis = 0; /* a direct Mul: c of rank 1 only (p's rank may be unknown) */
    if (ortc_pass_is_op(t, "Transpose")) {
        size_t np = 0;
        const int64_t *perm = ortc_node_attr_ints(t, "perm", &np);
        if (!perm || np < 1 || np > ORTC_MAX_RANK || t->n_outputs != 1 || !t->outputs[0])
            return ORTC_STATUS_OK;
        r = (int)np;
        axis = -1;
        for (int d = 0; d < r; d++)
            if (perm[d] == r - 1)
                axis = d; /* where p's last axis lands */
        m = axis >= 0 ? ortc_pass_single_user(t->outputs[0]) : NULL;
    } else {
        t = NULL;
    }
    ortc_value *y = t ? t->outputs[0] : p->outputs[0];
    /* Mul from opset 7 (numpy broadcasting, no 'broadcast'/'axis') */
    if (!ortc_pass_is_op(m, "Mul") || ortc_node_version(m) < 7 || m->n_inputs != 2 ||
        m->n_outputs != 1 || !m->outputs[0] || m->inputs[0] == m->inputs[1] ||
        (m->inputs[0] != y && m->inputs[1] != y))
        return ORTC_STATUS_OK;
    ortc_value *cv = m->inputs[m->inputs[0] == y ? 1 : 0];
    const ortc_tensor *c = const_float(cv);
    int64_t step;
    if (!c || !scale_along(c, r, axis, n, &step))
        return ORTC_STATUS_OK;
    const float *cs = c->data;
    for (int64_t j = 0; j < (step ? n : 1); j++)
        if (!(cs[j] - cs[j] == 0.0f))
            return ORTC_STATUS_OK; /* Inf/NaN: W * c would differ from (xW) * c */
    ortc_value *wv = p->inputs[1];
    const bool in_place = only_read_by(pc, wv, p);
    ortc_const_tensor *nw = in_place ? NULL : ortc_const_tensor_new(ORTC_DTYPE_FLOAT, 2, w->dims);
    ortc_const_tensor *nb = has_bias ? ortc_const_tensor_new(ORTC_DTYPE_FLOAT, 1, &n) : NULL;
    if ((!in_place && !nw) || (has_bias && !nb)) {
        ortc_const_tensor_free(nw);
        ortc_const_tensor_free(nb);
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory scaling '%s'",
                            p->name);
    }
    const float *src = w->data;
    float *dw = in_place ? wv->constant->owned : nw->t.data;
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < n; j++)
            dw[i * n + j] = src[i * n + j] * cs[j * step];
    if (in_place) {
        ortc_const_origin_unref(wv->constant->origin);
        wv->constant->origin = NULL;
    }
    if (nb) {
        const float *b = bias->data;
        float *db = nb->t.data;
        for (int64_t j = 0; j < n; j++)
            db[j] = b[j] * cs[j * step];
    }
    char base[600];
    snprintf(base, sizeof base, "%s_scaled", wv->name);
    ortc_value *wn = in_place ? wv : ortc_ir_add_constant(pc->g, base, nw);
    ortc_value *bn = NULL;
    if (wn && nb) {
        snprintf(base, sizeof base, "%s_scaled", p->inputs[ORTC_FUSED_BIAS_INPUT]->name);
        bn = ortc_ir_add_constant(pc->g, base, nb);
    } else {
        ortc_const_tensor_free(nb);
    }
    if (!wn || (has_bias && !bn))
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory scaling '%s'",
                            p->name);
    ortc_value *old[3] = {in_place ? NULL : wv, has_bias ? p->inputs[ORTC_FUSED_BIAS_INPUT] : NULL,
                          cv};
    p->inputs[1] = wn;
    if (bn)
        p->inputs[ORTC_FUSED_BIAS_INPUT] = bn;
    /* the Transpose (or p) now writes what the Mul wrote */
    if (t)
        t->outputs[0] = m->outputs[0];
    else
        p->outputs[0] = m->outputs[0];
    char l1[300], l2[300];
    ortc_pass_note(pc, "passes: bias: %s (scale '%s') folded into the weights of %s",
                   ortc_pass_node_label(l1, sizeof l1, m), cv->name,
                   ortc_pass_node_label(l2, sizeof l2, p));
    for (int i = 0; i < 3; i++)
        if (old[i])
            ortc_pass_release_constant(pc, old[i], p, m);
    ortc_ir_remove_node(pc->g, m);
    pc->stats.scaled++;
    *done = true;
    return ortc_pass_finalize(pc, "bias");
}

ortc_status ortc_pass_bias(ortc_pass_ctx *pc)
{
    ORTC_TRY(ortc_pass_fold_into_producers(pc, fuse_bias));
    for (int i = 0; i < pc->g->n_nodes; i++) {
        bool done = false;
        ORTC_TRY(fold_scale(pc, pc->g->nodes[i], &done));
        if (done)
            i = -1; /* finalize may have re-sorted: rescan */
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_pass_fuse(ortc_pass_ctx *pc)
{
    return ortc_pass_fold_into_producers(pc, fuse_one); /* a chain: Conv -> Add -> Relu */
}
