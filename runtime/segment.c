/* segment.c — running what follows a value whose size is known only at run
 * time. compile.c defers every node that needs such a value's shape (or
 * the contents of a shape-determining input the plan does not know) to a
 * continuation; here, when a run reaches the end of the plan, the
 * continuation compiled for the cut values' current shapes is found — or
 * compiled, once per shape seen, under the session lock — and executed in
 * the same execution context. Its graph outputs are handed back to the
 * plan in the run's pool. Plans without deferred nodes never come here.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "session_impl.h"

/* Whether continuation c was compiled for the cut values as they are now
 * in t (the prefix's tensors of the running context). */
static bool matches(const ortc_plan *p, const ortc_plan *c, const ortc_tensor *t)
{
    for (int i = 0; i < p->n_cut; i++) {
        int sl = p->cut_slots[i];
        const ortc_tensor *want = &c->tensors[sl], *now = &t[sl];
        if (want->dtype != now->dtype || want->rank != now->rank)
            return false;
        for (int d = 0; d < now->rank; d++)
            if (want->dims[d] != now->dims[d])
                return false;
        size_t bytes = ortc_tensor_bytes(now);
        if (p->cut_data[i] && bytes && memcmp(c->owned[sl], now->data, bytes) != 0)
            return false;
    }
    return true;
}

/* The continuation for t, compiled when none matches; the least recently
 * used idle one is dropped when there are opts.max_plans. Session lock
 * held; errors in s->err. */
static ortc_status find_or_compile(ortc_session *s, ortc_plan *p, const ortc_tensor *t,
                                   ortc_cont **out)
{
    s->tick++;
    for (int i = 0; i < p->n_conts; i++)
        if (matches(p, p->conts[i]->plan, t)) {
            *out = p->conts[i];
            (*out)->last_used = s->tick;
            return ORTC_STATUS_OK;
        }
    ortc_plan_src src = {.graph = p->graph, .root = p->root, .prefix = p, .prefix_src = t};
    ortc_plan *cp = NULL;
    ORTC_TRY(ortc_plan_compile_src(s, &src, &cp));
    cp->prefix_src = p->tensors; /* context 0 reads the prefix's own */
    int lru = -1;
    for (int i = 0; p->n_conts >= s->opts.max_plans && i < p->n_conts; i++)
        if (!p->conts[i]->n_busy && (lru < 0 || p->conts[i]->last_used < p->conts[lru]->last_used))
            lru = i;
    if (lru >= 0) {
        ortc_plan_free(p->conts[lru]->plan);
        free(p->conts[lru]);
        p->conts[lru] = p->conts[--p->n_conts];
    }
    ortc_cont *c = calloc(1, sizeof *c);
    ortc_cont **nc = c ? realloc(p->conts, (size_t)(p->n_conts + 1) * sizeof *nc) : NULL;
    if (!nc) {
        free(c);
        ortc_plan_free(cp);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    p->conts = nc;
    c->plan = cp;
    c->last_used = s->tick;
    p->conts[p->n_conts++] = c;
    *out = c;
    return ORTC_STATUS_OK;
}

/* The graph outputs the continuation computed (deferred in p) go to p's
 * tensors in context e, their bytes in the run's pool unless already
 * there. */
static ortc_status publish(ortc_plan *p, ortc_exec *e, ortc_plan *cp, ortc_exec *ce)
{
    int k = e ? e->id : 0;
    ortc_tensor *t = e ? e->tensors : p->tensors;
    const ortc_tensor *ct = ce ? ce->tensors : cp->tensors;
    ortc_pool *pool = &p->root->pools[k];
    ortc_errbuf *err = e ? &e->err : &p->run_err;
    const ortc_graph *g = p->graph;
    for (int o = 0; o < g->n_outputs; o++) {
        int sl = ortc_plan_slot(p, g->outputs[o]);
        if (p->bind[sl].kind != ORTC_BIND_DEFERRED)
            continue;
        t[sl] = ct[sl];
        if (cp->layouts[sl].type != ORTC_TYPE_TENSOR || ortc_pool_owns(pool, ct[sl].data))
            continue;
        size_t bytes = ortc_tensor_bytes(&ct[sl]);
        void *buf = ortc_pool_alloc(pool, bytes);
        const ortc_node *n = g->outputs[o]->producer;
        if (!buf)
            return ortc_err_set(err, ORTC_STATUS_LIMIT_EXCEEDED,
                                "node '%s' (%s): graph output '%s' needs %zu bytes; this run's "
                                "values of data-dependent size hold %zu already, and the limit "
                                "is %zu (session option max_dynamic_bytes)",
                                n ? n->name : "", n ? n->op_type : "", g->outputs[o]->name, bytes,
                                ortc_pool_used(pool), ortc_pool_limit(pool));
        if (bytes)
            memcpy(buf, ct[sl].data, bytes);
        t[sl].data = buf;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_segment_continue(ortc_session *s, ortc_plan *p, ortc_exec *e)
{
    int k = e ? e->id : 0;
    ortc_tensor *t = e ? e->tensors : p->tensors;
    ortc_errbuf *err = e ? &e->err : &p->run_err;
    pthread_mutex_lock(&s->lock);
    ortc_cont *c = NULL;
    ortc_status st = find_or_compile(s, p, t, &c);
    ortc_exec *ce = NULL;
    if (!st && k && !(ce = c->plan->exec[k])) {
        ce = ortc_exec_create(c->plan, k, e->outer_src);
        if (!ce)
            st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                              "out of memory for a concurrent run's activations");
        else
            ce->prefix_src = e->tensors;
        c->plan->exec[k] = ce;
    }
    if (st) {
        ortc_err_set(err, st, "%s", s->err.msg);
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    c->n_busy++;
    pthread_mutex_unlock(&s->lock);

    ortc_plan *cp = c->plan;
    st = ortc_plan_execute_ptrs(s, cp, ce, NULL, NULL);
    ortc_errbuf *cerr = ce ? &ce->err : &cp->run_err;
    if (!st && s->backend && cp->n_steps)
        st = ortc_backend_wait_context(s->backend, k, cerr);
    if (st)
        ortc_err_set(err, st, "%s", cerr->msg);
    else
        st = publish(p, e, cp, ce);

    pthread_mutex_lock(&s->lock);
    c->n_busy--;
    pthread_mutex_unlock(&s->lock);
    return st;
}

void ortc_segment_free(ortc_plan *p)
{
    for (int i = 0; i < p->n_conts; i++) {
        ortc_plan_free(p->conts[i]->plan);
        free(p->conts[i]);
    }
    free(p->conts);
    p->conts = NULL;
    p->n_conts = 0;
}

void ortc_segment_free_context(ortc_plan *p, int k)
{
    for (int i = 0; i < p->n_conts; i++) {
        ortc_plan *cp = p->conts[i]->plan;
        ortc_exec_free(cp, cp->exec[k]);
        cp->exec[k] = NULL;
    }
}

bool ortc_plan_output_dynamic(const ortc_plan *p, int k)
{
    int sl = ortc_plan_slot(p, p->graph->outputs[k]);
    return p->layouts[sl].dynamic || p->bind[sl].kind == ORTC_BIND_DEFERRED;
}

ortc_type ortc_plan_output_type(const ortc_plan *p, int k)
{
    const ortc_value *v = p->graph->outputs[k];
    int sl = ortc_plan_slot(p, v);
    return p->bind[sl].kind == ORTC_BIND_DEFERRED ? v->type : p->layouts[sl].type;
}
