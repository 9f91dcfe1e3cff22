/* subgraph.c — the runtime's subgraph services to operators (operator.h,
 * "subgraphs"): compile a graph attribute of the calling node into a
 * sub-plan nested in the calling plan, its outer values bound to where that
 * plan keeps them; run it in the caller's execution context; free it. The
 * operators decide which subgraphs to compile and when to run them; this
 * file knows none of them.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "session_impl.h"

/* The plan the step of context c belongs to. */
static ortc_plan *caller_plan(const ortc_opctx *c)
{
    return c->runtime;
}

static ortc_status sub_register(ortc_plan *p, ortc_plan *sp)
{
    ortc_plan **np = realloc(p->subplans, (size_t)(p->n_subplans + 1) * sizeof *np);
    if (!np)
        return ORTC_STATUS_OUT_OF_MEMORY;
    p->subplans = np;
    p->subplans[p->n_subplans++] = sp;
    sp->parent = p;
    return ORTC_STATUS_OK;
}

static ortc_status sub_compile(ortc_opctx *c, const ortc_graph *g, const char *label,
                               const ortc_tensor *inputs, const ortc_layout *layouts,
                               struct ortc_subplan **out)
{
    *out = NULL;
    ortc_plan *p = caller_plan(c);
    ortc_session *s = p->session;
    const ortc_node *n = c->node;
    if (g->n_inputs && !inputs)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_MODEL,
                            "node '%s' (%s) %s: the graph has %d inputs; the operator gives none",
                            n->name, n->op_type, label, g->n_inputs);
    /* the node's implicit inputs are every outer value its subgraphs read */
    int k_outer = n->n_implicit;
    ortc_tensor **src = calloc((size_t)k_outer + 1, sizeof *src);
    bool *stat = calloc((size_t)k_outer + 1, sizeof *stat);
    ortc_layout **lay = calloc((size_t)k_outer + 1, sizeof *lay);
    if (!src || !stat || !lay) {
        free(src);
        free(stat);
        free(lay);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    ortc_status st = ORTC_STATUS_OK;
    for (int k = 0; k < k_outer && !st; k++) {
        int sl = ortc_plan_slot(p, n->implicit_inputs[k]);
        if (sl < 0) {
            st = ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: outer value '%s' unseen",
                               n->implicit_inputs[k]->name);
            break;
        }
        src[k] = &p->tensors[sl];
        stat[k] = p->is_static[sl];
        lay[k] = &p->layouts[sl];
    }
    ortc_plan *sp = NULL;
    if (!st) {
        ortc_plan_src ps = {.graph = g,
                            .inputs = g->n_inputs ? inputs : NULL,
                            .n_outer = k_outer,
                            .outer = n->implicit_inputs,
                            .outer_src = src,
                            .outer_static = stat,
                            .outer_layouts = lay,
                            .input_layouts = g->n_inputs ? layouts : NULL,
                            .root = p->root};
        st = ortc_plan_compile_src(s, &ps, &sp);
        if (st)
            ortc_err_prefix(&s->err, "node '%s' (%s) %s", n->name, n->op_type, label);
    }
    if (!st && sub_register(p, sp)) {
        ortc_plan_free(sp);
        st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    free(src);
    free(stat);
    free(lay);
    if (!st)
        *out = (struct ortc_subplan *)sp;
    return st;
}

static ortc_tensor sub_output(const struct ortc_subplan *h, int k)
{
    const ortc_plan *sp = (const ortc_plan *)h;
    /* as compiled: a run may be rewriting tensors meanwhile */
    ortc_tensor shape = sp->shapes[ortc_plan_slot(sp, sp->graph->outputs[k])];
    if (sp->bind[ortc_plan_slot(sp, sp->graph->outputs[k])].kind == ORTC_BIND_DEFERRED)
        shape = (ortc_tensor){.dtype = sp->graph->outputs[k]->dtype, .rank = -1};
    return shape;
}

static ortc_layout sub_output_layout(const struct ortc_subplan *h, int k)
{
    const ortc_plan *sp = (const ortc_plan *)h;
    const ortc_value *v = sp->graph->outputs[k];
    int sl = ortc_plan_slot(sp, v);
    if (sp->bind[sl].kind == ORTC_BIND_DEFERRED) /* computed by a continuation */
        return (ortc_layout){.plain = true, .type = v->type, .dynamic = true};
    return sp->layouts[sl];
}

static const void *sub_output_constant(const struct ortc_subplan *h, int k)
{
    const ortc_plan *sp = (const ortc_plan *)h;
    int sl = ortc_plan_slot(sp, sp->graph->outputs[k]);
    return sp->is_static[sl] && sp->bind[sl].kind == ORTC_BIND_CONST ? sp->bind[sl].ptr : NULL;
}

static ortc_status sub_run(ortc_opctx *c, struct ortc_subplan *h, ortc_tensor *const *inputs,
                           ortc_tensor *const *outputs)
{
    ortc_plan *sp = (ortc_plan *)h;
    ortc_exec *e = c->context ? sp->exec[c->context] : NULL;
    if (c->context && !e)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: a sub-plan lacks execution context %d", c->context);
    ortc_errbuf *err = e ? &e->err : &sp->run_err;
    ortc_session *s = sp->session;
    ortc_status st = ortc_plan_execute_ptrs(s, sp, e, inputs, outputs);
    /* the operator may read or copy what the sub-plan wrote */
    if (!st && s->backend && sp->n_steps)
        st = ortc_backend_wait_context(s->backend, c->context, err);
    if (st) /* the sub-plan's message becomes the step's */
        ortc_err_set(c->err, st, "%s", err->msg);
    return st;
}

static void sub_free(struct ortc_subplan *h)
{
    ortc_plan *sp = (ortc_plan *)h;
    if (!sp)
        return;
    ortc_plan *p = sp->parent;
    for (int j = 0; p && j < p->n_subplans; j++)
        if (p->subplans[j] == sp) {
            p->subplans[j] = p->subplans[--p->n_subplans];
            break;
        }
    ortc_plan_free(sp);
}

const ortc_subgraph_services ortc_plan_subgraphs = {
    .compile = sub_compile,
    .output = sub_output,
    .output_layout = sub_output_layout,
    .output_constant = sub_output_constant,
    .run = sub_run,
    .free = sub_free,
};
