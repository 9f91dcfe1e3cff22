/* session.c — the public session API: create from a file, buffer or model;
 * find or compile the plan for the inputs' shapes; run it, optionally timing
 * every step (profiling). A run binds the caller's tensors and the arena to
 * the plan's values and calls each step's kernel; it allocates nothing.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "options.h"
#include "passes/passes.h"
#include "session_impl.h"

static void session_log(const ortc_session *s, ortc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void session_log(const ortc_session *s, ortc_log_level level, const char *fmt, ...)
{
    if (!s->opts.log || level > s->opts.log_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->opts.log(s->opts.log_user, level, msg);
}

static bool all_inputs_static(const ortc_session *s)
{
    const ortc_graph *g = s->model->graph;
    for (int i = 0; i < g->n_inputs; i++) {
        const ortc_value *v = g->inputs[i];
        if (s->key_data_input[i] || v->rank < 0 || v->dtype == ORTC_DTYPE_UNDEFINED)
            return false;
        for (int d = 0; d < v->rank; d++)
            if (v->dims[d].value < 0)
                return false;
    }
    return true;
}

static ortc_status get_plan(ortc_session *s, const ortc_tensor *inputs, size_t n_inputs,
                            ortc_plan **out);

/* Grows the profile buffers to hold n steps (at compile time, never in a run). */
static ortc_status reserve_profile(ortc_session *s, size_t n)
{
    if (n <= s->prof_cap)
        return ORTC_STATUS_OK;
    double *st = realloc(s->prof_start_ms, n * sizeof *st);
    if (st)
        s->prof_start_ms = st;
    double *ms = st ? realloc(s->prof_ms, n * sizeof *ms) : NULL;
    if (ms)
        s->prof_ms = ms;
    if (!st || !ms)
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                            "out of memory for the profile of %zu steps", n);
    s->prof_cap = n;
    return ORTC_STATUS_OK;
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1; older C library headers lack it */
#endif

/* ortc_options.huge_pages: the whole 2 MB pages of constants that start on
 * a 2 MB boundary (the loader aligns those of 2 MB and more) are advised as
 * huge pages and collapsed into them now. Advice only: a kernel without
 * THP or MADV_COLLAPSE refuses and nothing changes. */
static void weights_to_huge_pages(const ortc_graph *g)
{
    const size_t huge = (size_t)2 << 20;
    for (int i = 0; i < g->n_values; i++) {
        const ortc_value *v = g->values[i];
        if (v->kind != ORTC_VALUE_CONSTANT || !v->constant || !v->constant->owned)
            continue;
        const ortc_tensor *t = &v->constant->t;
        size_t bytes = ortc_tensor_bytes(t) & ~(huge - 1);
        if (!bytes || (uintptr_t)t->data % huge)
            continue;
        madvise(t->data, bytes, MADV_HUGEPAGE);
        madvise(t->data, bytes, MADV_COLLAPSE);
    }
}

ortc_status ortc_session_create_from_model(ortc_session **out, ortc_model *model,
                                           const ortc_options *opts)
{
    if (!out) {
        ortc_model_free(model);
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "session: NULL output pointer");
    }
    *out = NULL;
    if (!model || !model->graph)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "session: no model");
    ortc_session *s = calloc(1, sizeof *s);
    if (!s) {
        ortc_model_free(model);
        return ortc_err_set(NULL, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    s->model = model;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    if (opts)
        s->opts = *opts;
    else
        ortc_options_init(&s->opts);
    ortc_options_complete(&s->opts);
    s->max_contexts = s->opts.max_concurrent_runs <= 0 ? ORTC_DEFAULT_CONCURRENT_RUNS
                                                       : s->opts.max_concurrent_runs;
    if (s->max_contexts > ORTC_MAX_CONTEXTS)
        s->max_contexts = ORTC_MAX_CONTEXTS;
    ortc_status st = ortc_model_resolve(model, &s->err);
    if (!st && s->opts.optimize)
        st = ortc_passes_run(model, &s->opts, &s->backend, &s->err);
    if (!st && s->opts.huge_pages)
        weights_to_huge_pages(model->graph);
    if (!st)
        st = ortc_session_find_key_inputs(s);
    /* with static input shapes, compile now so every error surfaces here */
    if (!st && all_inputs_static(s)) {
        const ortc_graph *g = model->graph;
        ortc_tensor *in = calloc((size_t)g->n_inputs + 1, sizeof *in);
        if (!in) {
            st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
        } else {
            for (int i = 0; i < g->n_inputs; i++) {
                const ortc_value *v = g->inputs[i];
                in[i].dtype = v->dtype;
                in[i].rank = v->rank;
                for (int d = 0; d < v->rank; d++)
                    in[i].dims[d] = v->dims[d].value;
            }
            ortc_plan *p;
            st = get_plan(s, in, (size_t)g->n_inputs, &p);
            free(in);
        }
    }
    if (st) {
        ortc_err_publish(&s->err);
        ortc_session_destroy(s);
        return st;
    }
    *out = s;
    return ORTC_STATUS_OK;
}

ortc_status ortc_session_create(ortc_session **out, const char *path, const ortc_options *opts)
{
    if (out)
        *out = NULL;
    ortc_model *m = NULL;
    ortc_status st = ortc_model_load(&m, path);
    if (st)
        return st;
    st = ortc_session_create_from_model(out, m, opts);
    /* loader errors name the file already; compile errors name the node */
    if (st && strncmp(ortc_last_error(), path, strlen(path)) != 0)
        ortc_err_prefix(NULL, "%s", path);
    return st;
}

ortc_status ortc_session_create_from_buffer(ortc_session **out, const void *data, size_t size,
                                            const char *base_dir, const ortc_options *opts)
{
    if (out)
        *out = NULL;
    ortc_model *m = NULL;
    ortc_status st = ortc_model_load_buffer(&m, data, size, base_dir);
    if (st)
        return st;
    return ortc_session_create_from_model(out, m, opts);
}

void ortc_session_destroy(ortc_session *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_plans; i++)
        ortc_plan_free(s->plans[i]);
    free(s->plans);
    free(s->key_data_input);
    free(s->prof_start_ms);
    free(s->prof_ms);
    ortc_backend_destroy(s->backend);
    ortc_model_free(s->model);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const ortc_model *ortc_session_model(const ortc_session *s)
{
    return s ? s->model : NULL;
}

size_t ortc_session_input_count(const ortc_session *s)
{
    return s ? ortc_model_input_count(s->model) : 0;
}

size_t ortc_session_output_count(const ortc_session *s)
{
    return s ? ortc_model_output_count(s->model) : 0;
}

ortc_status ortc_session_input_info(const ortc_session *s, size_t i, ortc_value_info *info)
{
    return ortc_model_input(s ? s->model : NULL, i, info);
}

ortc_status ortc_session_output_info(const ortc_session *s, size_t i, ortc_value_info *info)
{
    return ortc_model_output(s ? s->model : NULL, i, info);
}

const char *ortc_session_last_error(const ortc_session *s)
{
    return s ? s->err.msg : "";
}

/* ---- plan cache ------------------------------------------------------------------ */

static bool key_matches(const ortc_plan *p, const ortc_tensor *in)
{
    for (int i = 0; i < p->n_inputs; i++) {
        const ortc_tensor *k = &p->key[i];
        if (k->dtype != in[i].dtype || k->rank != in[i].rank)
            return false;
        for (int d = 0; d < k->rank; d++)
            if (k->dims[d] != in[i].dims[d])
                return false;
        if (p->key_bytes[i] && ortc_tensor_bytes(&in[i]) &&
            memcmp(k->data, in[i].data, ortc_tensor_bytes(&in[i])) != 0)
            return false;
    }
    return true;
}

/* The start of a call with inputs: s locked (the caller unlocks), its
 * error cleared, the tensor counts checked. */
static ortc_status begin_io_call(ortc_session *s, const ortc_tensor *inputs, size_t n_inputs,
                                 size_t n_outputs, bool need_outputs)
{
    pthread_mutex_lock(&s->lock);
    ortc_err_clear(&s->err);
    const ortc_graph *g = s->model->graph;
    if (n_inputs != (size_t)g->n_inputs)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "the model has %d input%s; %zu given", g->n_inputs,
                            g->n_inputs == 1 ? "" : "s", n_inputs);
    if (need_outputs && n_outputs != (size_t)g->n_outputs)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "the model has %d output%s; %zu given", g->n_outputs,
                            g->n_outputs == 1 ? "" : "s", n_outputs);
    if (n_inputs && !inputs)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT, "inputs is NULL");
    return ORTC_STATUS_OK;
}

static ortc_status get_plan(ortc_session *s, const ortc_tensor *inputs, size_t n_inputs,
                            ortc_plan **out)
{
    (void)n_inputs;
    s->tick++;
    for (int i = 0; i < s->n_plans; i++)
        if (key_matches(s->plans[i], inputs)) {
            s->plans[i]->last_used = s->tick;
            *out = s->last = s->plans[i];
            return ORTC_STATUS_OK;
        }
    ortc_plan *p = NULL;
    ortc_status st = ortc_plan_compile(s, inputs, &p);
    if (st)
        return st;
    if (s->profiling && (st = reserve_profile(s, (size_t)p->n_steps))) {
        ortc_plan_free(p);
        return st;
    }
    p->last_used = s->tick;
    int lru = -1; /* the least recently used plan no run is using */
    for (int i = 0; s->n_plans >= s->opts.max_plans && i < s->n_plans; i++)
        if (!s->plans[i]->n_busy && (lru < 0 || s->plans[i]->last_used < s->plans[lru]->last_used))
            lru = i;
    if (lru >= 0) {
        if (s->last == s->plans[lru])
            s->last = NULL;
        if (s->prof_plan == s->plans[lru])
            s->prof_plan = NULL;
        ortc_plan_free(s->plans[lru]);
        s->plans[lru] = s->plans[--s->n_plans];
    }
    ortc_plan **np = realloc(s->plans, (size_t)(s->n_plans + 1) * sizeof *np);
    if (!np) {
        ortc_plan_free(p);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    s->plans = np;
    s->plans[s->n_plans++] = p;
    *out = s->last = p;
    char shape[160];
    const ortc_graph *g = s->model->graph;
    session_log(s, ORTC_LOG_INFO,
                "compiled a plan for input '%s' %s: %zu steps, %zu folded, arena %zu bytes "
                "(lower bound %zu, naive %zu)",
                g->n_inputs ? g->inputs[0]->name : "",
                g->n_inputs ? ortc_shape_str(shape, sizeof shape, inputs[0].rank, inputs[0].dims)
                            : "[]",
                p->stats.n_steps, p->stats.n_folded, p->stats.arena_bytes,
                p->stats.lower_bound_bytes, p->stats.naive_bytes);
    return ORTC_STATUS_OK;
}

static void fill_outputs(const ortc_session *s, const ortc_plan *p, ortc_tensor *outputs,
                         size_t n_outputs)
{
    const ortc_graph *g = s->model->graph;
    for (size_t k = 0; k < n_outputs && k < (size_t)g->n_outputs; k++) {
        const ortc_tensor *t = &p->tensors[ortc_plan_slot(p, g->outputs[k])];
        outputs[k].dtype = t->dtype;
        outputs[k].rank = t->rank;
        for (int d = 0; d < ORTC_MAX_RANK; d++)
            outputs[k].dims[d] = d < t->rank ? t->dims[d] : 0;
    }
}

ortc_status ortc_session_output_shapes(ortc_session *s, const ortc_tensor *inputs, size_t n_inputs,
                                       ortc_tensor *outputs, size_t n_outputs)
{
    if (!s)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL session");
    ortc_status st = begin_io_call(s, inputs, n_inputs, n_outputs, outputs != NULL);
    ortc_plan *p;
    if (!st)
        st = get_plan(s, inputs, n_inputs, &p);
    if (!st && outputs)
        fill_outputs(s, p, outputs, n_outputs);
    if (st)
        ortc_err_publish(&s->err);
    pthread_mutex_unlock(&s->lock);
    return st;
}

ortc_status ortc_session_plan_stats(const ortc_session *s, ortc_plan_stats *stats)
{
    if (!s || !stats)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL argument");
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    bool have = s->last != NULL;
    if (have)
        *stats = s->last->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    if (!have)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "no plan compiled yet (the model has dynamic input shapes: call "
                            "ortc_session_output_shapes or run first)");
    return ORTC_STATUS_OK;
}

/* ---- run -------------------------------------------------------------------------- */

/* A free execution context of p for this run (0 is the plan's own), made
 * when needed; waits while all are busy. Called and returns with s->lock
 * held; p->n_busy counts runs holding or waiting for a context of p (so p is
 * not evicted meanwhile). -1 on error (in s->err). */
static int acquire_context(ortc_session *s, ortc_plan *p, bool only_zero)
{
    for (;;) {
        if (!p->busy[0]) {
            p->busy[0] = true;
            return 0;
        }
        for (int k = 1; !only_zero && k < s->max_contexts; k++) {
            if (p->busy[k])
                continue;
            if (!p->exec[k]) {
                ortc_status st =
                    s->backend ? ortc_backend_add_context(s->backend, k, &s->err) : ORTC_STATUS_OK;
                if (st)
                    return -1;
                if (!(p->exec[k] = ortc_exec_create(p, k, NULL))) {
                    ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                                 "out of memory for a concurrent run's activations "
                                 "(%zu bytes of arena)",
                                 p->stats.arena_bytes);
                    return -1;
                }
            }
            p->busy[k] = true;
            return k;
        }
        pthread_cond_wait(&s->idle, &s->lock);
    }
}

ortc_status ortc_session_run(ortc_session *s, const ortc_tensor *inputs, size_t n_inputs,
                             ortc_tensor *outputs, size_t n_outputs)
{
    if (!s)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL session");
    ortc_status st = begin_io_call(s, inputs, n_inputs, n_outputs, true);
    const ortc_graph *g = s->model->graph;
    ortc_plan *p = NULL;
    if (!st && n_outputs && !outputs)
        st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT, "outputs is NULL");
    for (size_t i = 0; !st && i < n_inputs; i++)
        if (!inputs[i].data && ortc_tensor_numel(&inputs[i]) != 0)
            st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT, "input %zu '%s' has no data",
                              i, g->inputs[i]->name);
    if (!st)
        st = get_plan(s, inputs, n_inputs, &p);
    for (size_t k = 0; !st && k < n_outputs; k++) {
        const ortc_tensor *t = &p->tensors[ortc_plan_slot(p, g->outputs[k])];
        if (!outputs[k].data && ortc_tensor_numel(t) != 0)
            st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                              "output %zu '%s' has no buffer (call ortc_session_output_shapes "
                              "for its size)",
                              k, g->outputs[k]->name);
    }
    if (st) {
        ortc_err_publish(&s->err);
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    bool profile = s->profiling;
    p->n_busy++;
    int k = acquire_context(s, p, profile);
    if (k < 0) {
        p->n_busy--;
        st = ortc_err_publish(&s->err);
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    ortc_exec *e = k ? p->exec[k] : NULL;
    if (!profile)
        s->prof_plan = NULL; /* the profile describes the last run only */
    pthread_mutex_unlock(&s->lock);

    if (s->backend)
        ortc_backend_enter(s->backend);
    if (!profile) {
        st = ortc_plan_execute(s, p, e, inputs, outputs);
    } else {
        /* profiling runs in context 0 only; buffers were reserved when
         * profiling was enabled or p compiled */
        s->prof_plan = (size_t)p->n_steps <= s->prof_cap ? p : NULL;
        st = ortc_plan_execute_profiled(s, p, inputs, outputs, s->prof_start_ms, s->prof_ms);
        if (st)
            s->prof_plan = NULL;
    }
    ortc_errbuf *ebuf = e ? &e->err : &p->run_err;
    if (!st && s->backend && p->n_steps)
        st = ortc_backend_wait_context(s->backend, k, ebuf);

    pthread_mutex_lock(&s->lock);
    if (st)
        ortc_err_set(&s->err, st, "%s", ebuf->msg);
    else
        fill_outputs(s, p, outputs, n_outputs);
    p->busy[k] = false;
    p->n_busy--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* ---- profiling -------------------------------------------------------------------- */

ortc_status ortc_session_set_profiling(ortc_session *s, int enable)
{
    if (!s)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL session");
    if (enable) {
        size_t n = 0;
        for (int i = 0; i < s->n_plans; i++)
            if ((size_t)s->plans[i]->n_steps > n)
                n = (size_t)s->plans[i]->n_steps;
        pthread_mutex_lock(&s->lock);
        ortc_status st = reserve_profile(s, n);
        if (st)
            ortc_err_publish(&s->err);
        else
            s->profiling = true;
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    pthread_mutex_lock(&s->lock);
    s->profiling = false;
    pthread_mutex_unlock(&s->lock);
    return ORTC_STATUS_OK;
}

/* The operator's count for the step (ortc_operator.flops); 0 for ops that
 * do not count. */
static double step_flops(const ortc_step *st)
{
    const ortc_operator *op = st->node->op;
    return op && op->flops ? op->flops(&st->ctx) : 0;
}

size_t ortc_session_profile(const ortc_session *s, ortc_profile_entry *out, size_t max)
{
    if (!s)
        return 0;
    const ortc_plan *p = s->prof_plan;
    if (!p)
        return 0;
    size_t n = (size_t)p->n_steps;
    for (size_t i = 0; out && i < n && i < max; i++) {
        const ortc_step *st = &p->steps[i];
        out[i] = (ortc_profile_entry){
            .node_name = st->node->name ? st->node->name : "",
            .op_type = st->node->op_type,
            .start_ms = s->prof_start_ms[i],
            .ms = s->prof_ms[i],
            .flops = step_flops(st),
            .n_inputs = st->ctx.n_in,
            .n_outputs = st->ctx.n_out,
            .inputs = (const ortc_tensor *const *)st->ctx.in,
            .outputs = (const ortc_tensor *const *)st->ctx.out,
            .impl = st->use_reference ? "ortc:reference"
                    : st->ctx.impl    ? st->ctx.impl
                                      : "ortc:c",
        };
    }
    return n;
}
