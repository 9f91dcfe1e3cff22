/* pass_gap.c — ReduceMean over every spatial axis of a float (N, C, H, W, ...)
 * tensor (axes 2..rank-1, what x.mean([2, 3]) exports) becomes
 * GlobalAveragePool, followed by Flatten when keepdims is 0: the same means,
 * but read in whatever blocked layout the producing Conv chose (ReduceMean
 * runs plain, so the Conv before it wrote plain: a GEMM convolution or a
 * reorder). mnasnet and shufflenet_v2 end this way. Other axes, non-float
 * unknown ranks and rank 3 (sequences) are left alone. Runs after post-op
 * fusion, so a Conv's activation is no longer between them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

/* The ReduceMean's axes attribute (opsets 1-13; ortc has no ReduceMean-18,
 * whose axes are an input); *count -1 when absent or malformed (the
 * operator reports that). */
static const int64_t *mean_axes(const ortc_node *n, int64_t *count)
{
    *count = -1;
    const ortc_attr *a = ortc_node_attr(n, "axes");
    if (!n->op || ortc_node_version(n) >= 18 || !a || a->type != ORTC_ATTR_INTS)
        return NULL;
    *count = (int64_t)a->n;
    return a->ints;
}

/* axes are exactly {2, ..., rank-1} (negative ones counted from the end). */
static bool spatial_axes(const int64_t *axes, int64_t count, int rank)
{
    if (count != rank - 2)
        return false;
    bool seen[ORTC_MAX_RANK] = {false};
    for (int64_t i = 0; i < count; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (a < 2 || a >= rank || seen[a])
            return false;
        seen[a] = true;
    }
    return true;
}

/* x written by a Conv with constant weights (its activation fused into it
 * by now): x has the weights' rank and type (ONNX's Conv: Y's rank is W's,
 * one type T). For where shape inference lost the rank upstream
 * (shufflenet_v2: Reshape to shapes computed from Shape under a symbolic
 * batch, which the probes cannot evaluate either). */
static bool conv_out(const ortc_value *x, ortc_dtype *dtype, int *rank)
{
    const ortc_node *p = x->producer;
    if (!ortc_pass_is_op(p, "Conv") || p->n_outputs != 1 || p->outputs[0] != x || p->n_inputs < 2 ||
        !p->inputs[1])
        return false;
    const ortc_value *w = p->inputs[1];
    if (w->kind != ORTC_VALUE_CONSTANT || !w->constant)
        return false;
    *dtype = w->constant->t.dtype;
    *rank = w->constant->t.rank;
    return true;
}

static bool is_spatial_mean(ortc_pass_ctx *pc, const ortc_node *n)
{
    if (!ortc_pass_is_op(n, "ReduceMean") || n->n_inputs != 1 || !n->inputs[0] ||
        n->n_outputs != 1 || !n->outputs[0] || n->n_post_ops > 0)
        return false;
    const ortc_value *x = n->inputs[0];
    const ortc_pass_info *xi = ortc_pass_value(pc, x);
    const ortc_pass_info *xp = ortc_pass_probe(pc, x, 0);
    ortc_dtype dtype = xi && xi->dtype ? xi->dtype : xp ? xp->dtype : ORTC_DTYPE_UNDEFINED;
    int rank = xi && xi->rank >= 0 ? xi->rank : ortc_pass_probe_rank(pc, x);
    if (rank < 0 || !dtype)
        conv_out(x, &dtype, &rank);
    if (dtype != ORTC_DTYPE_FLOAT || rank < 4) /* images and volumes, not sequences */
        return false;
    const ortc_attr *kd = ortc_node_attr(n, "keepdims");
    if (kd && (kd->type != ORTC_ATTR_INT || (kd->i != 0 && kd->i != 1)))
        return false;
    int64_t count;
    const int64_t *axes = mean_axes(n, &count);
    return axes && spatial_axes(axes, count, rank);
}

ortc_status ortc_pass_gap(ortc_pass_ctx *pc)
{
    ortc_graph *g = pc->g;
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
        if (!is_spatial_mean(pc, n))
            continue;
        bool keep = ortc_node_attr_int(n, "keepdims", 1) != 0;
        ortc_value *x = n->inputs[0], *y = n->outputs[0];
        char name[600];
        snprintf(name, sizeof name, "%s_gap", n->name);
        ortc_node *gap = ortc_ir_insert_node(g, n->index, "GlobalAveragePool", "", name, 1, 1);
        ortc_value *mid = NULL;
        ortc_node *flat = NULL;
        if (gap && !keep) {
            mid = ortc_ir_new_value(g, name);
            snprintf(name, sizeof name, "%s_flatten", n->name);
            flat = mid ? ortc_ir_insert_node(g, n->index, "Flatten", "", name, 1, 1) : NULL;
        }
        if (!gap || !gap->op || (!keep && (!flat || !flat->op)))
            return ortc_err_set(
                pc->err, gap && !gap->op ? ORTC_STATUS_RUNTIME_ERROR : ORTC_STATUS_OUT_OF_MEMORY,
                "internal: could not add GlobalAveragePool for ReduceMean '%s'", n->name);
        gap->inputs[0] = x;
        gap->outputs[0] = keep ? y : mid;
        if (flat) { /* Flatten's default axis 1: (N, C, 1, ...) -> (N, C) */
            flat->inputs[0] = mid;
            flat->outputs[0] = y;
        }
        char lab[300];
        ortc_pass_note(pc, "passes: gap: %s averages every spatial axis: GlobalAveragePool '%s'%s",
                       ortc_pass_node_label(lab, sizeof lab, n), gap->name,
                       keep ? "" : " then Flatten");
        ortc_ir_remove_node(g, n);
        pc->stats.gap++;
        ORTC_TRY(ortc_pass_refresh(pc, "gap"));
        i = -1; /* order may have changed */
    }
    return ORTC_STATUS_OK;
}
