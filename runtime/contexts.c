/* contexts.c — execution contexts for concurrent runs of one plan: copies
 * of what a run writes (tensors, step contexts, arena, scratch; the same
 * for its sub-plans) around the shared, read-only plan (kernel state,
 * weights, bindings). Made when runs overlap, kept with the plan.
 */
#include <stdlib.h>
#include <string.h>

#include "session_impl.h"

static void *alloc_aligned(size_t bytes)
{
    size_t n = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, n ? n : 64);
}

/* t's counterpart in e (t points into p->tensors) */
static ortc_tensor *map_tensor(const ortc_plan *p, ortc_exec *e, const ortc_tensor *t)
{
    return t ? &e->tensors[t - p->tensors] : NULL;
}

void ortc_exec_free(ortc_plan *p, ortc_exec *e)
{
    if (!e)
        return;
    ortc_segment_free_context(p, e->id);
    for (int j = 0; j < p->n_subplans; j++) {
        ortc_plan *sp = p->subplans[j];
        ortc_exec_free(sp, sp->exec[e->id]);
        sp->exec[e->id] = NULL;
    }
    if (p->exec[e->id] == e)
        p->exec[e->id] = NULL;
    free(e->tensors);
    free(e->ctx);
    free(e->ptr_pool);
    free(e->outer_src);
    free(e->arena);
    free(e->scratch);
    free(e);
}

ortc_exec *ortc_exec_create(ortc_plan *p, int k, ortc_tensor **outer_src)
{
    ortc_exec *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->id = k;
    int ns = p->n_values + p->n_outer;
    size_t n_io = 0;
    for (int i = 0; i < p->n_steps; i++)
        n_io += (size_t)p->steps[i].ctx.n_in + (size_t)p->steps[i].ctx.n_out;
    e->tensors = malloc(((size_t)ns + 1) * sizeof *e->tensors);
    e->ctx = calloc((size_t)p->n_steps + 1, sizeof *e->ctx);
    e->ptr_pool = calloc(n_io + 1, sizeof *e->ptr_pool);
    e->outer_src = calloc((size_t)p->n_outer + 1, sizeof *e->outer_src);
    e->arena = p->stats.arena_bytes ? alloc_aligned(p->stats.arena_bytes) : NULL;
    e->scratch = p->stats.scratch_bytes ? alloc_aligned(p->stats.scratch_bytes) : NULL;
    if (!e->tensors || !e->ctx || !e->ptr_pool || !e->outer_src ||
        (p->stats.arena_bytes && !e->arena) || (p->stats.scratch_bytes && !e->scratch))
        goto fail;
    /* shapes only: context 0 may be running and rebinding p->tensors' data */
    for (int v = 0; v < ns; v++)
        e->tensors[v] = p->shapes[v];
    for (int j = 0; j < p->n_outer; j++)
        e->outer_src[j] = outer_src ? outer_src[j] : p->outer_src[j];
    size_t off = 0;
    for (int i = 0; i < p->n_steps; i++) {
        const ortc_step *st = &p->steps[i];
        ortc_opctx *c = &e->ctx[i];
        *c = st->ctx; /* shares state, layouts, in-place and view decisions
                       * (fields a run of context 0 never writes) */
        c->in = e->ptr_pool + off;
        c->out = c->in + st->ctx.n_in;
        off += (size_t)st->ctx.n_in + (size_t)st->ctx.n_out;
        for (int j = 0; j < st->ctx.n_in; j++)
            c->in[j] = map_tensor(p, e, st->ctx.in[j]);
        for (int j = 0; j < st->ctx.n_out; j++)
            c->out[j] = map_tensor(p, e, st->ctx.out[j]);
        c->scratch = e->scratch;
        c->err = &e->err;
        c->context = k;
        c->pool = &p->root->pools[k];
    }
    /* sub-plans read their outer values from this context's tensors */
    for (int j = 0; j < p->n_subplans; j++) {
        ortc_plan *sp = p->subplans[j];
        ortc_tensor **src = calloc((size_t)sp->n_outer + 1, sizeof *src);
        if (!src)
            goto fail;
        for (int o = 0; o < sp->n_outer; o++)
            src[o] = map_tensor(p, e, sp->outer_src[o]);
        sp->exec[k] = ortc_exec_create(sp, k, src);
        free(src);
        if (!sp->exec[k])
            goto fail;
    }
    return e;
fail:
    ortc_exec_free(p, e);
    return NULL;
}
