/* executor.c — runs a compiled plan: binds the caller's tensors, the arena
 * and enclosing-plan values to the plan's slots, then calls each step's
 * kernel in order (an operator owning subgraphs runs its sub-plans from its
 * kernel, through subgraph.c). A profiled run also times each step into
 * caller-provided arrays. Never allocates; compile.c decided everything.
 */
#include <string.h>
#include <time.h>

#include "backend.h"
#include "error.h"
#include "poison.h"
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

/* The caller's tensors: an array (session runs) or pointers (sub-plans).
 * Inputs are only read. */
typedef struct io_list {
    ortc_tensor *arr;
    ortc_tensor *const *ptr;
} io_list;

static inline ortc_tensor *io_tensor(io_list io, int i)
{
    return io.ptr ? io.ptr[i] : &io.arr[i];
}

static inline void *io_data(io_list io, int i)
{
    return io_tensor(io, i)->data;
}

/* Slot v takes src: its data, and for a value of data-dependent size its
 * shape too. */
static inline void take(ortc_plan *p, ortc_tensor *t, int v, const ortc_tensor *src)
{
    if (p->layouts[v].dynamic)
        t[v] = *src;
    else
        t[v].data = src->data;
}

static void bind_values(ortc_plan *p, ortc_exec *e, io_list inputs, io_list outputs)
{
    int ns = p->n_values + p->n_outer;
    ortc_tensor *t = ex_tensors(p, e);
    void *arena = e ? e->arena : p->arena;
    ortc_tensor **outer = e ? e->outer_src : p->outer_src;
    const ortc_tensor *prefix = e ? e->prefix_src : p->prefix_src;
    for (int v = 0; v < ns; v++) {
        const ortc_binding *b = &p->bind[v];
        switch (b->kind) {
        case ORTC_BIND_CONST: t[v].data = b->ptr; break;
        case ORTC_BIND_ARENA: /* a zero-byte arena is NULL */
            t[v].data = arena ? (char *)arena + b->offset : NULL;
            break;
        case ORTC_BIND_INPUT: take(p, t, v, io_tensor(inputs, b->index)); break;
        case ORTC_BIND_OUTPUT: t[v].data = io_data(outputs, b->index); break;
        case ORTC_BIND_OUTER: take(p, t, v, outer[b->index]); break;
        case ORTC_BIND_PREFIX: take(p, t, v, &prefix[b->index]); break;
        case ORTC_BIND_DYNAMIC: /* its step sets shape and data */
        case ORTC_BIND_DEFERRED: t[v].data = NULL; break;
        case ORTC_BIND_NONE: break;
        }
    }
}

/* Graph output k's final tensor: computed into the caller's memory, copied
 * there (constants, inputs, outer values, a value listed twice), or, when
 * its size is data-dependent, handed over as it is (pool memory). */
static void deliver_output(ortc_plan *p, ortc_exec *e, io_list outputs, int k)
{
    int sl = ortc_plan_slot(p, p->graph->outputs[k]);
    const ortc_binding *b = &p->bind[sl];
    if (b->kind == ORTC_BIND_OUTPUT && b->index == k)
        return;
    const ortc_tensor *t = &ex_tensors(p, e)[sl];
    if (p->layouts[sl].dynamic || b->kind == ORTC_BIND_DEFERRED) {
        *io_tensor(outputs, k) = *t;
        return;
    }
    size_t bytes = ortc_tensor_bytes(t);
    void *dst = io_data(outputs, k);
    if (bytes && dst != t->data)
        memcpy(dst, t->data, bytes);
}

const ortc_errbuf *ortc_exec_error(const ortc_plan *p, const ortc_exec *e)
{
    return e ? &e->err : &p->run_err;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static inline ortc_status run_step(ortc_plan *p, ortc_exec *e, int i)
{
    ortc_step *step = &p->steps[i];
    const ortc_operator *op = step->node->op;
    ortc_opctx *c = ex_ctx(p, e, i);
    return step->use_reference ? op->reference(c) : op->run(c);
}

/* Runs p's steps; with start_ms/ms (one element per step) also times each
 * step, waiting for the backend after it so the time is the step's own.
 * Without them (NULL) this is the plain loop. */
static inline ortc_status execute(ortc_session *s, ortc_plan *p, ortc_exec *e, io_list inputs,
                                  io_list outputs, double *start_ms, double *ms)
{
    bind_values(p, e, inputs, outputs);
    ortc_poison_run_begin(p, e);
    double t0 = start_ms ? now_ms() : 0;
    for (int i = 0; i < p->n_steps; i++) {
        ortc_step *step = &p->steps[i];
        ortc_poison_step_begin(p, e, i);
        if (start_ms) {
            double a = now_ms();
            ortc_status st = step->skip ? ORTC_STATUS_OK : run_step(p, e, i);
            if (!st && !step->skip && s->backend)
                st = ortc_backend_wait(s->backend, &p->run_err);
            double b = now_ms();
            ortc_poison_step_end(p, e, i);
            start_ms[i] = a - t0;
            ms[i] = b - a;
            if (st)
                return st;
            continue;
        }
        ortc_status st = step->skip ? ORTC_STATUS_OK : run_step(p, e, i);
        ortc_poison_step_end(p, e, i);
        if (st)
            return st;
    }
    /* the nodes after a value of data-dependent size (segment.c) */
    if (p->n_deferred) {
        ORTC_TRY(ortc_segment_continue(s, p, e));
    }
    for (int k = 0; !p->prefix && k < p->graph->n_outputs; k++)
        deliver_output(p, e, outputs, k);
    return ORTC_STATUS_OK;
}

ortc_status ortc_plan_execute(ortc_session *s, ortc_plan *p, ortc_exec *e,
                              const ortc_tensor *inputs, ortc_tensor *outputs)
{
    /* inputs are only read */
    return execute(s, p, e, (io_list){(ortc_tensor *)inputs, NULL}, (io_list){outputs, NULL}, NULL,
                   NULL);
}

ortc_status ortc_plan_execute_ptrs(ortc_session *s, ortc_plan *p, ortc_exec *e,
                                   ortc_tensor *const *inputs, ortc_tensor *const *outputs)
{
    return execute(s, p, e, (io_list){NULL, inputs}, (io_list){NULL, outputs}, NULL, NULL);
}

ortc_status ortc_plan_execute_profiled(ortc_session *s, ortc_plan *p, const ortc_tensor *inputs,
                                       ortc_tensor *outputs, double *start_ms, double *ms)
{
    return execute(s, p, NULL, (io_list){(ortc_tensor *)inputs, NULL}, (io_list){outputs, NULL},
                   start_ms, ms);
}
