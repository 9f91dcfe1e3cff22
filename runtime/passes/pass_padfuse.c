/* pass_padfuse.c — a constant-zero Pad of the spatial dims read only by an
 * AveragePool (floor mode, no dilation; count_include_pad set, or no pads
 * of its own) or a Conv (explicit pads) becomes that node's own padding:
 * the window sees the same zeros, and AveragePool divides by the whole
 * window either way. PyTorch exports avg_pool2d(padding=p) with its default
 * count_include_pad as such a Pad (inception_v3's pooling branches); the
 * Pad runs only on plain data and so made its producer's output plain. Not
 * for MaxPool (its padding is -inf) nor other Pad modes or values, nor
 * where a merged pad would reach the window's size (oneDNN: reference
 * kernels only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

/* The Pad's pads (2 * rank entries, begins then ends) when it is a
 * constant-mode pad with value 0 and non-negative pads; NULL otherwise. */
static const int64_t *zero_pad_pads(const ortc_node *pad, int *rank)
{
    int version = ortc_node_version(pad);
    const char *mode = ortc_node_attr_string(pad, "mode", "constant");
    if (strcmp(mode, "constant") || pad->n_outputs != 1 || !pad->outputs[0] || pad->n_inputs < 1 ||
        !pad->inputs[0])
        return NULL;
    const int64_t *pads;
    int64_t count;
    if (version < 11) {
        const ortc_attr *a = ortc_node_attr(pad, version < 2 ? "paddings" : "pads");
        const ortc_attr *v = ortc_node_attr(pad, "value");
        if (!a || a->type != ORTC_ATTR_INTS || (v && (v->type != ORTC_ATTR_FLOAT || v->f != 0)))
            return NULL;
        pads = a->ints;
        count = (int64_t)a->n;
    } else {
        if (pad->n_inputs > 3) /* opset 18's axes */
            return NULL;
        const ortc_value *p = pad->n_inputs > 1 ? pad->inputs[1] : NULL;
        const ortc_value *v = pad->n_inputs > 2 ? pad->inputs[2] : NULL;
        float value = 0;
        if (!p || p->kind != ORTC_VALUE_CONSTANT || !p->constant ||
            p->constant->t.dtype != ORTC_DTYPE_INT64 || p->constant->t.rank != 1 ||
            (v && !ortc_pass_const_float(v, &value)) || value != 0)
            return NULL;
        pads = p->constant->t.data;
        count = ortc_tensor_numel(&p->constant->t);
    }
    if (count < 6 || count % 2 || count > 2 * ORTC_MAX_RANK)
        return NULL;
    *rank = (int)(count / 2);
    for (int64_t i = 0; i < count; i++)
        if (pads[i] < 0)
            return NULL;
    /* batch and channels unpadded */
    if (pads[0] || pads[1] || pads[*rank] || pads[*rank + 1])
        return NULL;
    return pads;
}

/* Attribute `name` of n, mutable; NULL when absent. */
static ortc_attr *find_attr(ortc_node *n, const char *name)
{
    for (int i = 0; i < n->n_attrs; i++)
        if (!strcmp(n->attrs[i].name, name))
            return &n->attrs[i];
    return NULL;
}

static bool ints_all(const ortc_node *n, const char *name, int64_t want, size_t count)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    if (!a)
        return true;
    if (a->type != ORTC_ATTR_INTS || (count && a->n != count))
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->ints[i] != want)
            return false;
    return true;
}

/* Whether consumer (reading the Pad's output as its input 0) takes the
 * Pad's zeros as padding of its own, given rank - 2 spatial dims. */
static bool consumer_ok(const ortc_node *n, int nsp)
{
    if (n->n_inputs < 1 || n->n_post_ops > 0)
        return false;
    const char *auto_pad = ortc_node_attr_string(n, "auto_pad", "NOTSET");
    if (strcmp(auto_pad, "NOTSET"))
        return false;
    const ortc_attr *pads = ortc_node_attr(n, "pads");
    if (pads && (pads->type != ORTC_ATTR_INTS || pads->n != (size_t)(2 * nsp)))
        return false;
    if (ortc_pass_is_op(n, "Conv"))
        return n->n_inputs >= 2;
    if (!ortc_pass_is_op(n, "AveragePool") || ortc_node_version(n) < 7 || n->n_outputs != 1)
        return false;
    if (ortc_node_attr_int(n, "ceil_mode", 0) != 0 || !ints_all(n, "dilations", 1, 0))
        return false;
    /* its own pads must count as the Pad's do */
    return ortc_node_attr_int(n, "count_include_pad", 0) == 1 || ints_all(n, "pads", 0, 0);
}

/* Whether every merged pad stays below the node's (dilated) window: oneDNN
 * has only its reference kernels for larger pads, and ONNX's pooling
 * requires it. The window from kernel_shape, else a Conv's constant
 * weights; unknown: false. */
static bool merged_below_window(const ortc_node *n, const int64_t *pad, int rank)
{
    int nsp = rank - 2;
    size_t nk = 0, nd = 0, np = 0;
    const int64_t *k = ortc_node_attr_ints(n, "kernel_shape", &nk);
    const int64_t *dil = ortc_node_attr_ints(n, "dilations", &nd);
    const int64_t *own = ortc_node_attr_ints(n, "pads", &np);
    if (!k && ortc_pass_is_op(n, "Conv")) {
        const ortc_value *w = n->inputs[1];
        if (w->kind == ORTC_VALUE_CONSTANT && w->constant && w->constant->t.rank == rank) {
            k = w->constant->t.dims + 2;
            nk = (size_t)nsp;
        }
    }
    if (!k || nk != (size_t)nsp || (dil && nd != (size_t)nsp) || (own && np != (size_t)(2 * nsp)))
        return false;
    for (int d = 0; d < nsp; d++) {
        int64_t window = (k[d] - 1) * (dil ? dil[d] : 1) + 1;
        int64_t begin = pad[2 + d] + (own ? own[d] : 0);
        int64_t end = pad[rank + 2 + d] + (own ? own[nsp + d] : 0);
        if (k[d] < 1 || begin >= window || end >= window)
            return false;
    }
    return true;
}

/* Sets n's pads to its own plus the Pad's spatial ones (Pad: begins then
 * ends over all dims; the node: begins then ends over spatial dims). */
static ortc_status merge_pads(ortc_pass_ctx *pc, ortc_node *n, const int64_t *pad, int rank)
{
    int nsp = rank - 2;
    int64_t *sum = malloc((size_t)(2 * nsp) * sizeof *sum);
    ortc_attr *a = find_attr(n, "pads");
    if (sum && !a)
        a = ortc_node_add_attr(n, "pads", ORTC_ATTR_INTS);
    ortc_attr *cip = NULL;
    if (sum && a && ortc_pass_is_op(n, "AveragePool")) {
        cip = find_attr(n, "count_include_pad");
        if (!cip)
            cip = ortc_node_add_attr(n, "count_include_pad", ORTC_ATTR_INT);
        if (cip)
            a = find_attr(n, "pads"); /* the attribute array may have moved */
    }
    if (!sum || !a || (ortc_pass_is_op(n, "AveragePool") && !cip)) {
        free(sum);
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY,
                            "out of memory merging a Pad into '%s'", n->name);
    }
    for (int d = 0; d < nsp; d++) {
        sum[d] = pad[2 + d] + (a->ints ? a->ints[d] : 0);
        sum[nsp + d] = pad[rank + 2 + d] + (a->ints ? a->ints[nsp + d] : 0);
    }
    free(a->ints);
    a->ints = sum;
    a->n = (size_t)(2 * nsp);
    if (cip) {
        cip->type = ORTC_ATTR_INT;
        cip->i = 1;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_pass_padfuse(ortc_pass_ctx *pc)
{
    ortc_graph *g = pc->g;
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *pad = g->nodes[i];
        int rank = 0;
        const int64_t *pads = ortc_pass_is_op(pad, "Pad") ? zero_pad_pads(pad, &rank) : NULL;
        if (!pads)
            continue;
        ortc_value *x = pad->inputs[0], *y = pad->outputs[0];
        /* x's type and rank known (statically, or under both probes of the
         * symbolic dims): the Pad's own checks (pads for every dim) pass */
        const ortc_pass_info *xi = ortc_pass_value(pc, x);
        const ortc_pass_info *xp = ortc_pass_probe(pc, x, 0);
        ortc_dtype dtype = xi && xi->dtype ? xi->dtype : xp ? xp->dtype : ORTC_DTYPE_UNDEFINED;
        int xrank = xi && xi->rank >= 0 ? xi->rank : ortc_pass_probe_rank(pc, x);
        if (dtype != ORTC_DTYPE_FLOAT || xrank != rank || y->is_output)
            continue;
        ortc_node *n = ortc_pass_single_user(y);
        if (!n || n->inputs[0] != y || !consumer_ok(n, rank - 2) ||
            !merged_below_window(n, pads, rank))
            continue;
        bool other = false; /* y read as another input too */
        for (int k = 1; k < n->n_inputs; k++)
            other |= n->inputs[k] == y;
        if (other)
            continue;
        ORTC_TRY(merge_pads(pc, n, pads, rank));
        n->inputs[0] = x;
        char l1[300], l2[300];
        ortc_pass_note(pc, "passes: padfuse: merged %s into %s's pads",
                       ortc_pass_node_label(l1, sizeof l1, pad),
                       ortc_pass_node_label(l2, sizeof l2, n));
        ortc_ir_remove_node(g, pad);
        pc->stats.pads_fused++;
        ORTC_TRY(ortc_pass_refresh(pc, "padfuse"));
        i = -1; /* order may have changed */
    }
    return ORTC_STATUS_OK;
}
