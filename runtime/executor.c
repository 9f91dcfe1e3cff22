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

static void bind_values(ortc_plan *p, const ortc_tensor *inputs, ortc_tensor *outputs)
{
    int ns = p->n_values + p->n_outer;
    for (int v = 0; v < ns; v++) {
        const ortc_binding *b = &p->bind[v];
        switch (b->kind) {
        case ORTC_BIND_CONST: p->tensors[v].data = b->ptr; break;
        case ORTC_BIND_ARENA: /* a zero-byte arena is NULL */
            p->tensors[v].data = p->arena ? (char *)p->arena + b->offset : NULL;
            break;
        case ORTC_BIND_INPUT: p->tensors[v].data = inputs[b->index].data; break;
        case ORTC_BIND_OUTPUT: p->tensors[v].data = outputs[b->index].data; break;
        case ORTC_BIND_OUTER: p->tensors[v].data = p->outer_src[b->index]->data; break;
        case ORTC_BIND_NONE: break;
        }
    }
}

static ortc_status run_if(ortc_session *s, ortc_plan *p, ortc_step *step)
{
    const ortc_tensor *cond = step->ctx.in[0];
    int b = *(const uint8_t *)cond->data ? 0 : 1;
    ortc_plan *branch = step->branch[b];
    if (!branch)
        return ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                            "internal: node '%s' (If) took a branch compiled out",
                            step->node->name);
    for (int k = 0; k < step->node->n_outputs; k++)
        if (step->ctx.out[k])
            step->branch_out[k] = *step->ctx.out[k];
    (void)p;
    return ortc_plan_execute(s, branch, NULL, step->branch_out);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static inline ortc_status run_step(ortc_session *s, ortc_plan *p, ortc_step *step)
{
    const ortc_operator *op = step->node->op;
    if (op->flags & ORTC_OP_CONTROL_FLOW)
        return run_if(s, p, step);
    return step->use_reference ? op->reference(&step->ctx) : op->run(&step->ctx);
}

/* Runs p's steps; with start_ms/ms (one element per step) also times each
 * step, waiting for the backend after it so the time is the step's own.
 * Without them (NULL) this is the plain loop. */
static inline ortc_status execute(ortc_session *s, ortc_plan *p, const ortc_tensor *inputs,
                                  ortc_tensor *outputs, double *start_ms, double *ms)
{
    bind_values(p, inputs, outputs);
    double t0 = start_ms ? now_ms() : 0;
    for (int i = 0; i < p->n_steps; i++) {
        ortc_step *step = &p->steps[i];
        if (start_ms) {
            double a = now_ms();
            ortc_status st = step->skip ? ORTC_STATUS_OK : run_step(s, p, step);
            if (!st && !step->skip && s->backend)
                st = ortc_backend_wait(s->backend, &s->err);
            double b = now_ms();
            start_ms[i] = a - t0;
            ms[i] = b - a;
            if (st)
                return st;
            continue;
        }
        if (step->skip)
            continue;
        ortc_status st = run_step(s, p, step);
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
        const ortc_tensor *t = &p->tensors[sl];
        size_t bytes = ortc_tensor_bytes(t);
        if (bytes && outputs[k].data != t->data)
            memcpy(outputs[k].data, t->data, bytes);
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_plan_execute(ortc_session *s, ortc_plan *p, const ortc_tensor *inputs,
                              ortc_tensor *outputs)
{
    return execute(s, p, inputs, outputs, NULL, NULL);
}

ortc_status ortc_plan_execute_profiled(ortc_session *s, ortc_plan *p, const ortc_tensor *inputs,
                                       ortc_tensor *outputs, double *start_ms, double *ms)
{
    return execute(s, p, inputs, outputs, start_ms, ms);
}
