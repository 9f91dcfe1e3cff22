/* pass_fold.c — constant folding on the IR: nodes whose inputs are all
 * constants (and SHAPE_ONLY nodes whose input shape is fully static) are
 * evaluated once and their outputs become initializers; an If whose
 * condition is constant is replaced by the nodes of the branch it takes.
 * Repeats to a fixpoint. Dynamic dims are left to compile.c's per-plan
 * folding.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

/* One sweep in order: infer each node, fold it when possible. Folded nodes
 * are removed afterwards. */
static ortc_status fold_sweep(ortc_pass_ctx *pc, bool *changed)
{
    ortc_graph *g = pc->g;
    ORTC_TRY(ortc_pass_infer(pc));
    ortc_status st = ORTC_STATUS_OK;
    int n_nodes = g->n_nodes;
    bool *dead = calloc((size_t)n_nodes + 1, sizeof *dead);
    ortc_const_tensor **out = NULL;
    if (!dead)
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory folding");
    int folded = 0;
    for (int i = 0; i < n_nodes && !st; i++) {
        ortc_node *n = g->nodes[i];
        ortc_pass_infer_node(pc, n);
        if (!ortc_pass_foldable(pc, n))
            continue;
        ortc_const_tensor **p = realloc(out, ((size_t)n->n_outputs + 1) * sizeof *p);
        if (!p) {
            st = ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory folding");
            break;
        }
        out = p;
        bool ok;
        /* refused (a folded graph output disagreeing with the file, say):
         * compile.c reports it */
        if ((st = ortc_pass_evaluate(pc, n, out, &ok)) || !ok)
            continue;
        char lab[300], sh[160];
        for (int k = 0; k < n->n_outputs; k++) {
            ortc_value *v = n->outputs[k];
            if (!v)
                continue;
            ortc_value_set_constant(v, out[k]);
            v->producer = NULL; /* finalize relinks intermediates only */
            out[k] = NULL;
            ortc_pass_info *in = &pc->info[v->index];
            in->dtype = v->constant->t.dtype;
            in->rank = v->constant->t.rank;
            memcpy(in->dims, v->constant->t.dims, sizeof in->dims);
            in->data = v->constant->t.data;
            ortc_pass_note(pc, "passes: fold: node %s -> initializer '%s' %s %s",
                           ortc_pass_node_label(lab, sizeof lab, n), v->name,
                           ortc_dtype_name(in->dtype),
                           ortc_shape_str(sh, sizeof sh, in->rank, in->dims));
        }
        dead[i] = true;
        folded++;
        /* inputs only this node read go now, not at the end of the passes */
        for (int k = 0; k < n->n_inputs; k++)
            ortc_pass_release_constant(pc, n->inputs[k], n, NULL);
    }
    free(out);
    if (!st && folded) {
        /* collect first: removing renumbers */
        ortc_node **gone = malloc((size_t)folded * sizeof *gone);
        if (!gone) {
            free(dead);
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory folding");
        }
        int m = 0;
        for (int i = 0; i < n_nodes; i++)
            if (dead[i])
                gone[m++] = g->nodes[i];
        for (int i = 0; i < m; i++)
            ortc_ir_remove_node(g, gone[i]);
        free(gone);
        pc->stats.folded += folded;
        *changed = true;
        st = ortc_pass_finalize(pc, "fold");
    }
    free(dead);
    return st;
}

/* Points every read of a `bg` value inside subgraph sg (any depth) at its
 * copy in map; subgraphs directly under bg now hang under parent. */
static void remap_subgraph(ortc_graph *sg, const ortc_graph *bg, ortc_value **map,
                           ortc_graph *parent);

/* Points node m's reads of `bg` values, also inside its subgraphs (any
 * depth), at their copies in map; subgraphs directly under bg now hang
 * under `parent`, the graph m is in (or moves to). */
static void remap_node(ortc_node *m, const ortc_graph *bg, ortc_value **map, ortc_graph *parent)
{
    for (int k = 0; k < m->n_inputs; k++)
        if (m->inputs[k] && m->inputs[k]->graph == bg)
            m->inputs[k] = map[m->inputs[k]->index];
    ortc_subgraph_it it = {0};
    for (ortc_graph *sg; (sg = ortc_node_next_subgraph(m, &it));)
        remap_subgraph(sg, bg, map, parent);
}

static void remap_subgraph(ortc_graph *sg, const ortc_graph *bg, ortc_value **map,
                           ortc_graph *parent)
{
    if (sg->parent == bg)
        sg->parent = parent;
    for (int i = 0; i < sg->n_nodes; i++)
        remap_node(sg->nodes[i], bg, map, sg);
    for (int k = 0; k < sg->n_outputs; k++)
        if (sg->outputs[k]->graph == bg)
            sg->outputs[k] = map[sg->outputs[k]->index];
}

/* Replaces If node n (constant condition) by the nodes of the branch it
 * takes. *done is false when the If is left alone (malformed: compile.c
 * reports it). */
static ortc_status inline_if(ortc_pass_ctx *pc, ortc_node *n, bool *done)
{
    ortc_graph *g = pc->g;
    *done = false;
    bool cond = *(const uint8_t *)n->inputs[0]->constant->t.data != 0;
    const char *which = cond ? "then_branch" : "else_branch";
    const ortc_attr *at = ortc_node_attr(n, which);
    if (!at || at->type != ORTC_ATTR_GRAPH || !at->g)
        return ORTC_STATUS_OK;
    ortc_graph *bg = at->g;
    if (bg->n_outputs != n->n_outputs || bg->n_inputs)
        return ORTC_STATUS_OK;
    /* every branch value read must be a constant or produced in the branch */
    for (int i = 0; i < bg->n_values; i++) {
        const ortc_value *v = bg->values[i];
        if (v->kind == ORTC_VALUE_INPUT)
            return ORTC_STATUS_OK;
    }
    char lab[300];
    ortc_pass_note(pc, "passes: fold: If %s has a constant condition (%s): inlining %s (%d nodes)",
                   ortc_pass_node_label(lab, sizeof lab, n), cond ? "true" : "false", which,
                   bg->n_nodes);

    ortc_value **map = calloc((size_t)bg->n_values + 1, sizeof *map);
    ortc_value **src = calloc((size_t)n->n_outputs + 1, sizeof *src);
    if (!map || !src) {
        free(map);
        free(src);
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory inlining an If");
    }
    /* the branch's own values get fresh names in the parent */
    for (int i = 0; i < bg->n_values; i++) {
        ortc_value *v = bg->values[i];
        if (!(v->kind == ORTC_VALUE_CONSTANT && v->constant) && !v->producer)
            continue;
        ortc_value *nv = ortc_ir_new_value(g, v->name);
        if (!nv) {
            free(map);
            free(src);
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory inlining");
        }
        if (v->kind == ORTC_VALUE_CONSTANT) {
            ortc_value_set_constant(nv, v->constant);
            v->constant = NULL;
        }
        map[i] = nv;
    }
    /* move the nodes in front of the If, their reads remapped */
    int pos = n->index;
    int moved = bg->n_nodes;
    for (int j = 0; j < moved; j++) {
        ortc_node *m = bg->nodes[j];
        remap_node(m, bg, map, g);
        for (int k = 0; k < m->n_outputs; k++)
            if (m->outputs[k]) {
                ortc_value *nv = map[m->outputs[k]->index];
                nv->producer = m;
                nv->producer_output = k;
                m->outputs[k] = nv;
            }
        if (ortc_ir_insert_existing(g, pos + j, m)) {
            /* nodes already moved stay in g; the rest are freed with bg */
            memmove(bg->nodes, bg->nodes + j, (size_t)(moved - j) * sizeof *bg->nodes);
            bg->n_nodes = moved - j;
            free(map);
            free(src);
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory inlining");
        }
    }
    bg->n_nodes = 0;
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_value *s = bg->outputs[k];
        src[k] = s->graph == bg ? map[s->index] : s;
    }
    /* the If's outputs now come from the branch's */
    ortc_status st = ORTC_STATUS_OK;
    int after = pos + moved; /* the If's position now */
    for (int k = 0; k < n->n_outputs && !st; k++) {
        ortc_value *out = n->outputs[k];
        if (!out)
            continue;
        ortc_value *s = src[k];
        /* an earlier output already took over this value's producer */
        for (int j = 0; j < k; j++)
            if (src[j] == s && n->outputs[j] && n->outputs[j]->is_output && s->producer == NULL &&
                s->graph == g && s->kind == ORTC_VALUE_INTERMEDIATE)
                s = n->outputs[j];
        if (ortc_ir_forward_value(g, out, s))
            continue;
        /* out keeps its name as a graph output: copy */
        ortc_node *id = ortc_ir_insert_node(g, after++, "Identity", "", n->name, 1, 1);
        if (!id) {
            st = ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory inlining");
            break;
        }
        id->inputs[0] = s;
        id->outputs[0] = out;
    }
    free(map);
    free(src);
    if (st)
        return st;
    ortc_ir_remove_node(g, n);
    pc->stats.inlined++;
    *done = true;
    return ortc_pass_finalize(pc, "fold (If inlining)");
}

static bool constant_condition(const ortc_node *n)
{
    if (!n->op || !ortc_pass_is_op(n, "If") || n->n_inputs != 1 || !n->inputs[0])
        return false;
    const ortc_value *c = n->inputs[0];
    return c->kind == ORTC_VALUE_CONSTANT && c->constant &&
           c->constant->t.dtype == ORTC_DTYPE_BOOL && ortc_tensor_numel(&c->constant->t) == 1;
}

ortc_status ortc_pass_fold(ortc_pass_ctx *pc)
{
    for (int round = 0; round < 1000; round++) {
        bool changed = false;
        ORTC_TRY(fold_sweep(pc, &changed));
        for (int i = 0; i < pc->g->n_nodes; i++) {
            ortc_node *n = pc->g->nodes[i];
            if (!constant_condition(n))
                continue;
            bool done;
            ORTC_TRY(inline_if(pc, n, &done));
            if (done) {
                changed = true;
                i = -1; /* nodes moved: rescan */
            }
        }
        if (!changed)
            return ORTC_STATUS_OK;
    }
    return ORTC_STATUS_OK;
}
