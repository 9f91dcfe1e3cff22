/* pass_eliminate.c — removal passes: Identity and inference-mode Dropout
 * nodes, and (after LRN recognition, whose pattern has PyTorch's Pad,
 * zero for size 1) Pad nodes that pad nothing (readers read the input
 * instead), and dead nodes and initializers
 * (nothing reads them and they are not graph outputs). A node is kept when
 * removing it would change a result or hide an error its operator reports.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

static bool float_type(ortc_dtype t)
{
    return t == ORTC_DTYPE_FLOAT || t == ORTC_DTYPE_DOUBLE || t == ORTC_DTYPE_FLOAT16 ||
           t == ORTC_DTYPE_BFLOAT16;
}

static bool unread(const ortc_value *v)
{
    return !v || (v->n_uses == 0 && !v->is_output);
}

static bool attr_absent_or(const ortc_node *n, const char *name, ortc_attr_type type)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    return !a || a->type == type;
}

/* A Dropout that ortc runs as a copy (see operators/tensor/shape.c): inference
 * mode known from constants, mask unread, valid input types. */
static bool dropout_is_copy(const ortc_pass_ctx *pc, const ortc_node *n)
{
    if (n->n_inputs < 1 || !n->inputs[0] || n->n_outputs < 1 || n->n_outputs > 2 ||
        !n->outputs[0] || (n->n_outputs == 2 && !unread(n->outputs[1])))
        return false;
    const ortc_pass_info *x = ortc_pass_value(pc, n->inputs[0]);
    if (!x || !float_type(x->dtype))
        return false;
    int version = ortc_node_version(n);
    if (version < 12) {
        return n->n_inputs == 1 && attr_absent_or(n, "ratio", ORTC_ATTR_FLOAT) &&
               (version >= 7 || attr_absent_or(n, "is_test", ORTC_ATTR_INT));
    }
    if (n->n_inputs > 3 || !attr_absent_or(n, "seed", ORTC_ATTR_INT))
        return false;
    const ortc_value *r = n->n_inputs > 1 ? n->inputs[1] : NULL;
    const ortc_value *t = n->n_inputs > 2 ? n->inputs[2] : NULL;
    double ratio = 0.5;
    if (r) {
        if (r->kind != ORTC_VALUE_CONSTANT || !r->constant ||
            ortc_tensor_numel(&r->constant->t) != 1)
            return false;
        switch (r->constant->t.dtype) {
        case ORTC_DTYPE_FLOAT: ratio = *(const float *)r->constant->t.data; break;
        case ORTC_DTYPE_DOUBLE: ratio = *(const double *)r->constant->t.data; break;
        default: return false;
        }
    }
    if (!t)
        return true;
    if (t->kind != ORTC_VALUE_CONSTANT || !t->constant || t->constant->t.dtype != ORTC_DTYPE_BOOL ||
        ortc_tensor_numel(&t->constant->t) != 1)
        return false;
    bool training = *(const uint8_t *)t->constant->t.data != 0;
    return !training || ratio == 0;
}

static bool same_shape(const ortc_pass_info *a, const ortc_pass_info *b)
{
    if (!a || !b || a->rank < 0 || a->rank != b->rank)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

/* A Pad whose pads are all 0 (attribute before opset 11, a constant input
 * from 11): a copy. Its shape inference must have accepted it (pads for
 * each dim, a valid mode and constant value) and given the input's shape,
 * statically or under both probes of the symbolic dims (ortc_pass_probe),
 * so removing it hides no error the operator would report. DenseNet's
 * transitions (AvgPool2d exported as a zero Pad before AveragePool) read
 * the Pad in the plain layout only. */
static bool pad_is_copy(ortc_pass_ctx *pc, const ortc_node *n)
{
    if (n->n_inputs < 1 || !n->inputs[0] || n->n_outputs != 1 || !n->outputs[0])
        return false;
    const int64_t *pads = NULL;
    int64_t count = 0;
    if (ortc_node_version(n) < 11) {
        const ortc_attr *a = ortc_node_attr(n, ortc_node_version(n) < 2 ? "paddings" : "pads");
        if (!a || a->type != ORTC_ATTR_INTS)
            return false;
        pads = a->ints;
        count = a->n;
    } else {
        const ortc_value *p = n->n_inputs > 1 ? n->inputs[1] : NULL;
        if (!p || p->kind != ORTC_VALUE_CONSTANT || !p->constant ||
            p->constant->t.dtype != ORTC_DTYPE_INT64)
            return false;
        pads = p->constant->t.data;
        count = ortc_tensor_numel(&p->constant->t);
    }
    for (int64_t i = 0; i < count; i++)
        if (pads[i] != 0)
            return false;
    const ortc_value *x = n->inputs[0], *y = n->outputs[0];
    if (same_shape(ortc_pass_value(pc, x), ortc_pass_value(pc, y)))
        return true;
    for (int j = 0; j < 2; j++)
        if (!same_shape(ortc_pass_probe(pc, x, j), ortc_pass_probe(pc, y, j)))
            return false;
    return true;
}

ortc_status ortc_pass_eliminate(ortc_pass_ctx *pc)
{
    ortc_graph *g = pc->g;
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
        bool identity = ortc_pass_is_op(n, "Identity") && n->n_inputs == 1 && n->inputs[0] &&
                        n->n_outputs == 1 && n->outputs[0];
        bool dropout = ortc_pass_is_op(n, "Dropout") && dropout_is_copy(pc, n);
        bool pad = pc->pads_now && ortc_pass_is_op(n, "Pad") && pad_is_copy(pc, n);
        if (!identity && !dropout && !pad)
            continue;
        ortc_value *in = n->inputs[0], *out = n->outputs[0];
        if (!ortc_ir_forward_value(g, out, in))
            continue; /* both names must survive: keep the copy */
        char lab[300];
        ortc_pass_note(pc, "passes: eliminate: removed %s; readers of '%s' read '%s'",
                       ortc_pass_node_label(lab, sizeof lab, n),
                       out->is_output ? in->name : out->name,
                       out->is_output ? out->name : in->name);
        if (identity)
            pc->stats.identities++;
        else if (dropout)
            pc->stats.dropouts++;
        else
            pc->stats.pads++;
        ortc_ir_remove_node(g, n);
        ORTC_TRY(ortc_pass_finalize(pc, "eliminate"));
        i = -1; /* order may have changed */
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_pass_pads(ortc_pass_ctx *pc)
{
    pc->pads_now = true;
    ortc_status st = ortc_pass_eliminate(pc);
    pc->pads_now = false;
    return st;
}

ortc_status ortc_pass_dead(ortc_pass_ctx *pc)
{
    ortc_graph *g = pc->g;
    bool *needed = calloc((size_t)g->n_values + 1, sizeof *needed);
    bool *live = calloc((size_t)g->n_nodes + 1, sizeof *live);
    if (!needed || !live) {
        free(needed);
        free(live);
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory in dead-node pass");
    }
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k]->graph == g)
            needed[g->outputs[k]->index] = true;
    /* reverse topological order: a node lives when something needs an output */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const ortc_node *n = g->nodes[i];
        for (int k = 0; k < n->n_outputs && !live[i]; k++)
            live[i] = n->outputs[k] && needed[n->outputs[k]->index];
        if (!live[i])
            continue;
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] && n->inputs[k]->graph == g)
                needed[n->inputs[k]->index] = true;
        for (int k = 0; k < n->n_implicit; k++)
            if (n->implicit_inputs[k]->graph == g)
                needed[n->implicit_inputs[k]->index] = true;
    }
    int removed = 0;
    char lab[300];
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        if (live[i])
            continue;
        ortc_pass_note(pc, "passes: dead: removed %s (nothing reads its outputs)",
                       ortc_pass_node_label(lab, sizeof lab, g->nodes[i]));
        ortc_ir_remove_node(g, g->nodes[i]);
        removed++;
    }
    int dropped = 0;
    for (int i = 0; i < g->n_values; i++) {
        ortc_value *v = g->values[i];
        if (v->kind != ORTC_VALUE_CONSTANT || !v->constant || needed[i] || v->is_output)
            continue;
        ortc_pass_note(pc, "passes: dead: dropped initializer '%s' (%zu bytes)", v->name,
                       ortc_tensor_bytes(&v->constant->t));
        ortc_ir_drop_value(v);
        dropped++;
    }
    free(needed);
    free(live);
    pc->stats.dead_nodes += removed;
    pc->stats.dead_values += dropped;
    return removed ? ortc_pass_finalize(pc, "dead") : ORTC_STATUS_OK;
}
