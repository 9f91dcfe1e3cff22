/* pass_bn.c — Conv followed by BatchNormalization (inference, constant
 * float parameters, the Conv's output read by nothing else) becomes one Conv
 * with new weights W*s and bias (B-mean)*s+beta, s = scale/sqrt(var+eps),
 * computed in double. The old weights stay when something else reads them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

/* A constant float tensor of shape [m]. */
static const float *param(const ortc_value *v, int64_t m)
{
    if (!v || v->kind != ORTC_VALUE_CONSTANT || !v->constant)
        return NULL;
    const ortc_tensor *t = &v->constant->t;
    if (t->dtype != ORTC_DTYPE_FLOAT || t->rank != 1 || t->dims[0] != m)
        return NULL;
    return t->data;
}

/* BatchNormalization in inference mode with only output Y. */
static bool bn_inference(const ortc_node *bn)
{
    if (bn->n_inputs != 5 || bn->n_outputs < 1 || !bn->outputs[0] || bn->n_post_ops > 0)
        return false;
    for (int k = 1; k < bn->n_outputs; k++)
        if (bn->outputs[k])
            return false;
    int version = ortc_node_version(bn);
    const ortc_attr *eps = ortc_node_attr(bn, "epsilon");
    if (eps && eps->type != ORTC_ATTR_FLOAT)
        return false;
    if (version >= 14 && ortc_node_attr_int(bn, "training_mode", 0) != 0)
        return false;
    if (version < 9 && ortc_node_attr_int(bn, "spatial", 1) != 1)
        return false;
    return true;
}

/* Tries to fold the BN that reads conv's output; *done when it did. */
static ortc_status try_fold(ortc_pass_ctx *pc, ortc_node *conv, bool *done)
{
    ortc_graph *g = pc->g;
    *done = false;
    if (conv->n_inputs < 2 || conv->n_inputs > 3 || conv->n_outputs != 1 || !conv->outputs[0] ||
        !conv->inputs[0] || !conv->inputs[1] || conv->n_post_ops > 0)
        return ORTC_STATUS_OK;
    ortc_node *bn = ortc_pass_single_user(conv->outputs[0]);
    if (!ortc_pass_is_op(bn, "BatchNormalization") || bn->inputs[0] != conv->outputs[0] ||
        !bn_inference(bn))
        return ORTC_STATUS_OK;
    const ortc_value *wv = conv->inputs[1];
    if (wv->kind != ORTC_VALUE_CONSTANT || !wv->constant)
        return ORTC_STATUS_OK;
    const ortc_tensor *w = &wv->constant->t;
    if (w->dtype != ORTC_DTYPE_FLOAT || w->rank < 3 || w->dims[0] <= 0)
        return ORTC_STATUS_OK;
    int64_t m = w->dims[0];
    const ortc_value *bv = conv->n_inputs > 2 ? conv->inputs[2] : NULL;
    const float *b = bv ? param(bv, m) : NULL;
    const float *scale = param(bn->inputs[1], m), *beta = param(bn->inputs[2], m),
                *mean = param(bn->inputs[3], m), *var = param(bn->inputs[4], m);
    if ((bv && !b) || !scale || !beta || !mean || !var)
        return ORTC_STATUS_OK;
    double eps = ortc_node_attr_float(bn, "epsilon", 1e-5f);
    for (int64_t c = 0; c < m; c++)
        if (!(var[c] + eps > 0))
            return ORTC_STATUS_OK; /* leave NaN/negative variance to the kernels */

    ortc_const_tensor *nw = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, w->rank, w->dims);
    ortc_const_tensor *nb = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, 1, &m);
    if (!nw || !nb) {
        ortc_const_tensor_free(nw);
        ortc_const_tensor_free(nb);
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY,
                            "out of memory folding BatchNormalization '%s'", bn->name);
    }
    int64_t per = ortc_tensor_numel(w) / m;
    const float *src = w->data;
    float *dw = nw->t.data, *db = nb->t.data;
    for (int64_t c = 0; c < m; c++) {
        double s = (double)scale[c] / sqrt((double)var[c] + eps);
        for (int64_t j = 0; j < per; j++)
            dw[c * per + j] = (float)((double)src[c * per + j] * s);
        db[c] = (float)(((b ? (double)b[c] : 0.0) - (double)mean[c]) * s + (double)beta[c]);
    }
    char base[600];
    snprintf(base, sizeof base, "%s_bn", wv->name);
    ortc_value *wn = ortc_ir_add_constant(g, base, nw);
    snprintf(base, sizeof base, "%s_bn_bias", conv->name[0] ? conv->name : wv->name);
    ortc_value *bnv = wn ? ortc_ir_add_constant(g, base, nb) : NULL;
    if (!wn)
        ortc_const_tensor_free(nb);
    if (!bnv || ortc_ir_set_input_count(conv, 3))
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY,
                            "out of memory folding BatchNormalization '%s'", bn->name);
    /* the originals go now unless something else reads them */
    ortc_value *old[6] = {conv->inputs[1], conv->n_inputs > 2 ? conv->inputs[2] : NULL,
                          bn->inputs[1],   bn->inputs[2],
                          bn->inputs[3],   bn->inputs[4]};
    conv->inputs[1] = wn;
    conv->inputs[2] = bnv;
    /* the Conv now writes what the BN wrote */
    ortc_value *y = bn->outputs[0];
    conv->outputs[0] = y;
    char l1[300], l2[300];
    ortc_pass_note(pc, "passes: bn: folded %s into %s: new weights '%s', bias '%s'",
                   ortc_pass_node_label(l1, sizeof l1, bn),
                   ortc_pass_node_label(l2, sizeof l2, conv), wn->name, bnv->name);
    for (int k = 0; k < 6; k++) {
        bool seen = false; /* BN may read one value twice */
        for (int j = 0; j < k; j++)
            seen |= old[j] == old[k];
        if (!seen)
            ortc_pass_release_constant(pc, old[k], conv, bn);
    }
    ortc_ir_remove_node(g, bn);
    pc->stats.bn_folded++;
    *done = true;
    return ortc_pass_finalize(pc, "bn");
}

ortc_status ortc_pass_fold_bn(ortc_pass_ctx *pc)
{
    for (int i = 0; i < pc->g->n_nodes; i++) {
        ortc_node *n = pc->g->nodes[i];
        if (!ortc_pass_is_op(n, "Conv"))
            continue;
        bool done;
        ORTC_TRY(try_fold(pc, n, &done));
    }
    return ORTC_STATUS_OK;
}
