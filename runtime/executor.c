/* executor.c — runs a compiled plan: binds the caller's tensors, the arena
 * and enclosing-plan values to the plan's slots, then calls each step's
 * kernel in order; If steps run the branch their condition selects. A
 * profiled run also times each step into caller-provided arrays. Never
 * allocates; compile.c decided everything.
 */
#include <string.h>
#include <time.h>

#include "backend.h"
#include "session_impl.h"

/* Per-context views of the plan's mutable parts (e NULL: context 0). */
static inline ortc_tensor *ex_tensors(ortc_plan *p, ortc_exec *e)
{
    return e ? e->tensors : p->tensors;
}

static inline ortc_opctx *ex_ctx(ortc_plan *p, ortc_exec *e, int i)
{
    return e ? &e->ctx[i] : &p->steps[i].ctx;
}

static void bind_values(ortc_plan *p, ortc_exec *e, const ortc_tensor *inputs, ortc_tensor *outputs)
{
    int ns = p->n_values + p->n_outer;
    ortc_tensor *t = ex_tensors(p, e);
    void *arena = e ? e->arena : p->arena;
    ortc_tensor **outer = e ? e->outer_src : p->outer_src;
    for (int v = 0; v < ns; v++) {
        const ortc_binding *b = &p->bind[v];
        switch (b->kind) {
        case ORTC_BIND_CONST: t[v].data = b->ptr; break;
        case ORTC_BIND_ARENA: /* a zero-byte arena is NULL */
            t[v].data = arena ? (char *)arena + b->offset : NULL;
            break;
        case ORTC_BIND_INPUT: t[v].data = inputs[b->index].data; break;
        case ORTC_BIND_OUTPUT: t[v].data = outputs[b->index].data; break;
        case ORTC_BIND_OUTER: t[v].data = outer[b->index]->data; break;
        case ORTC_BIND_NONE: break;
        }
    }
}

const ortc_errbuf *ortc_exec_error(const ortc_plan *p, const ortc_exec *e)
{
    return e ? &e->err : &p->run_err;
}

static ortc_status run_if(ortc_session *s, ortc_plan *p, ortc_exec *e, int i)
{
    ortc_step *step = &p->steps[i];
    ortc_opctx *c = ex_ctx(p, e, i);
    int b = *(const uint8_t *)c->in[0]->data ? 0 : 1;
    ortc_plan *branch = step->branch[b];
    if (!branch)
        return ortc_err_set(c->err, ORTC_STATUS_RUNTIME_ERROR,
                            "internal: node '%s' (If) took a branch compiled out",
                            step->node->name);
    ortc_tensor *bout = e ? e->branch_out[i] : step->branch_out;
    for (int k = 0; k < step->node->n_outputs; k++)
        if (c->out[k])
            bout[k] = *c->out[k];
    ortc_exec *be = e ? e->branch[2 * i + b] : NULL;
    ortc_status st = ortc_plan_execute(s, branch, be, NULL, bout);
    if (st) /* the branch's message becomes this context's */
        ortc_err_set(c->err, st, "%s", ortc_exec_error(branch, be)->msg);
    return st;
}
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static inline ortc_status run_step(ortc_session *s, ortc_plan *p, ortc_exec *e, int i)
{
    ortc_step *step = &p->steps[i];
    const ortc_operator *op = step->node->op;
    if (op->flags & ORTC_OP_CONTROL_FLOW)
        return run_if(s, p, e, i);
    ortc_opctx *c = ex_ctx(p, e, i);
    return step->use_reference ? op->reference(c) : op->run(c);
}

/* Runs p's steps; with start_ms/ms (one element per step) also times each
 * step, waiting for the backend after it so the time is the step's own.
 * Without them (NULL) this is the plain loop. */
static inline ortc_status execute(ortc_session *s, ortc_plan *p, ortc_exec *e,
                                  const ortc_tensor *inputs, ortc_tensor *outputs, double *start_ms,
                                  double *ms)
{
    bind_values(p, e, inputs, outputs);
    double t0 = start_ms ? now_ms() : 0;
    for (int i = 0; i < p->n_steps; i++) {
        ortc_step *step = &p->steps[i];
        if (start_ms) {
            double a = now_ms();
            ortc_status st = step->skip ? ORTC_STATUS_OK : run_step(s, p, e, i);
            if (!st && !step->skip && s->backend)
                st = ortc_backend_wait(s->backend, &p->run_err);
            double b = now_ms();
            start_ms[i] = a - t0;
            ms[i] = b - a;
            if (st)
                return st;
            continue;
        }
        if (step->skip)
            continue;
        ortc_status st = run_step(s, p, e, i);
        if (st)
            return st;
    }
    /* outputs not computed in place: constants, inputs, outer values, or a
     * value listed twice */
    const ortc_graph *g = p->graph;
    for (int k = 0; k < g->n_outputs; k++) {
        int sl = ortc_plan_slot(p, g->outputs[k]);
        const ortc_binding *b = &p->bind[sl];
        if (b->kind == ORTC_BIND_OUTPUT && b->index == k)
            continue;
        const ortc_tensor *t = &ex_tensors(p, e)[sl];
        size_t bytes = ortc_tensor_bytes(t);
        if (bytes && outputs[k].data != t->data)
            memcpy(outputs[k].data, t->data, bytes);
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_plan_execute(ortc_session *s, ortc_plan *p, ortc_exec *e,
                              const ortc_tensor *inputs, ortc_tensor *outputs)
{
    return execute(s, p, e, inputs, outputs, NULL, NULL);
}

ortc_status ortc_plan_execute_profiled(ortc_session *s, ortc_plan *p, const ortc_tensor *inputs,
                                       ortc_tensor *outputs, double *start_ms, double *ms)
{
    return execute(s, p, NULL, inputs, outputs, start_ms, ms);
}
