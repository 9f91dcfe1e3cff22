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
#include "error.h"
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

int ortc_precision_available(int precision)
{
    switch (precision) {
    case ORTC_PRECISION_FP32: return 1;
    case ORTC_PRECISION_BF16: return ortc_backend_has_bf16() ? 1 : 0;
    default: return 0;
    }
}

/* What plan steps are asked to compute in (ortc_options.precision): bf16
 * only where oneDNN has bf16 kernels for this CPU and kernels are not the
 * reference ones; otherwise fp32, said once through the log. */
static ortc_status session_precision(ortc_session *s)
{
    s->precision = ORTC_PRECISION_FP32;
    switch (s->opts.precision) {
    case ORTC_PRECISION_FP32: return ORTC_STATUS_OK;
    case ORTC_PRECISION_BF16:
        if (s->opts.reference)
            session_log(s, ORTC_LOG_WARNING,
                        "precision bf16 ignored: reference kernels compute in fp32");
        else if (!ortc_precision_available(ORTC_PRECISION_BF16))
            session_log(s, ORTC_LOG_WARNING,
                        "precision bf16: this CPU has no bfloat16 support oneDNN can use "
                        "(AVX-512 BF16 or AMX); running fp32");
        else
            s->precision = ORTC_PRECISION_BF16;
        return ORTC_STATUS_OK;
    default:
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "options: precision %d is not one of 0 (fp32), 1 (bf16)",
                            s->opts.precision);
    }
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
    ortc_status st = session_precision(s);
    if (!st)
        st = ortc_model_resolve(model, &s->err);
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
    ORTC_TRY(ortc_model_load(&m, path));
    ortc_status st = ortc_session_create_from_model(out, m, opts);
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
    ORTC_TRY(ortc_model_load_buffer(&m, data, size, base_dir));
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

/* Concurrent failing runs rewrite s->err (under the lock): the message is
 * copied under the lock into the calling thread's buffer, so a reader never
 * sees one half-written. */
const char *ortc_session_last_error(const ortc_session *s)
{
    static _Thread_local char copy[ORTC_ERR_MAX];
    if (!s)
        return "";
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    memcpy(copy, s->err.msg, sizeof copy);
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return copy;
}

/* ---- plan cache ------------------------------------------------------------------ */

static bool key_matches(const ortc_plan *p, const ortc_tensor *in)
{
    for (int i = 0; i < p->n_inputs; i++) {
        const ortc_tensor *k = &p->key[i];
        if (p->graph->inputs[i]->type != ORTC_TYPE_TENSOR)
            continue; /* sequences and optionals: one plan takes them all */
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
    ORTC_TRY(ortc_plan_compile(s, inputs, &p));
    ortc_status st = ORTC_STATUS_OK;
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

/* dtype and shape of every output as compiled (dims -1 where only a run
 * tells); with `run`, outputs of data-dependent size are left as the run
 * set them. */
static void fill_outputs(const ortc_session *s, const ortc_plan *p, ortc_tensor *outputs,
                         size_t n_outputs, bool run)
{
    const ortc_graph *g = s->model->graph;
    for (size_t k = 0; k < n_outputs && k < (size_t)g->n_outputs; k++) {
        bool dynamic = ortc_plan_output_dynamic(p, (int)k);
        if (run && dynamic)
            continue;
        const ortc_tensor *t = &p->shapes[ortc_plan_slot(p, g->outputs[k])];
        outputs[k].dtype = t->dtype;
        outputs[k].rank = t->rank;
        if (dynamic && p->bind[ortc_plan_slot(p, g->outputs[k])].kind == ORTC_BIND_DEFERRED) {
            /* computed after a cut: what the model declares */
            outputs[k].dtype = g->outputs[k]->dtype;
            outputs[k].rank = -1;
        }
        for (int d = 0; d < ORTC_MAX_RANK; d++)
            outputs[k].dims[d] = d < outputs[k].rank ? t->dims[d] : 0;
    }
}

/* A malloc'd copy of src (strings too) in *dst; OUT_OF_MEMORY on failure,
 * dst then zeroed. */
static ortc_status export_tensor(const ortc_tensor *src, ortc_tensor *dst)
{
    ortc_tensor t = *src;
    size_t bytes = ortc_tensor_bytes(src);
    t.data = malloc(bytes ? bytes : 1);
    if (!t.data) {
        memset(dst, 0, sizeof *dst);
        return ORTC_STATUS_OUT_OF_MEMORY;
    }
    if (src->dtype == ORTC_DTYPE_STRING) {
        int64_t n = ortc_tensor_numel(src);
        char **to = t.data;
        char *const *from = src->data;
        for (int64_t i = 0; i < n; i++)
            if (!(to[i] = strdup(from[i] ? from[i] : ""))) {
                t.dtype = ORTC_DTYPE_STRING;
                t.rank = 1;
                t.dims[0] = i;
                ortc_tensor_release(&t);
                memset(dst, 0, sizeof *dst);
                return ORTC_STATUS_OUT_OF_MEMORY;
            }
    } else if (bytes) {
        memcpy(t.data, src->data, bytes);
    }
    *dst = t;
    return ORTC_STATUS_OK;
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
        fill_outputs(s, p, outputs, n_outputs, false);
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

/* ---- the plan, piece by piece ------------------------------------------------------ */

size_t ortc_session_plan_buffers(const ortc_session *s, ortc_plan_buffer_info *out, size_t max)
{
    if (!s)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    const ortc_plan *p = s->last;
    size_t n = p ? (size_t)p->n_buffers : 0;
    for (size_t i = 0; out && i < n && i < max; i++) {
        const ortc_value *v = p->graph->values[p->buffer_value[i]];
        out[i] = (ortc_plan_buffer_info){
            .name = v->name ? v->name : "",
            .offset = p->buffers[i].offset,
            .bytes = p->buffers[i].size,
            .first_step = p->buffers[i].first,
            .last_step = p->buffers[i].last,
            .n_values = p->buffer_n_values[i],
        };
    }
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return n;
}

/* ortc_plan_step_info.precision of a compiled step. */
static const char *step_precision(const ortc_step *st)
{
    if (st->ctx.bf16 && !st->use_reference)
        return "bf16";
    const ortc_tensor *y = st->ctx.n_out > 0 ? st->ctx.out[0] : NULL;
    if (!y || y->dtype == ORTC_DTYPE_FLOAT || y->dtype == ORTC_DTYPE_UNDEFINED)
        return "fp32";
    return ortc_dtype_name(y->dtype);
}

/* The plan last compiled with step i, under s->lock; sets the error if none. */
static const ortc_plan *plan_with_step(const ortc_session *s, size_t i)
{
    const ortc_plan *p = s->last;
    if (!p)
        ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                     "no plan compiled yet (call ortc_session_output_shapes or run first)");
    else if (i >= (size_t)p->n_steps)
        ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "step %zu out of range (the plan has %d)",
                     i, p->n_steps);
    else
        return p;
    return NULL;
}

ortc_status ortc_session_plan_step(const ortc_session *s, size_t i, ortc_plan_step_info *info)
{
    if (!s || !info)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL argument");
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    const ortc_plan *p = plan_with_step(s, i);
    if (p) {
        const ortc_step *st = &p->steps[i];
        const ortc_node *n = st->node;
        *info = (ortc_plan_step_info){
            .node_name = n->name ? n->name : "",
            .op_type = n->op_type,
            .domain = n->domain ? n->domain : "",
            .n_inputs = st->ctx.n_in,
            .n_outputs = st->ctx.n_out,
            .view = st->skip,
            .reference = st->use_reference,
            .precision = step_precision(st),
        };
        for (int k = 0; k < n->n_post_ops; k++) {
            char one[64];
            ortc_strbuf_append(info->post_ops, sizeof info->post_ops, "%s%s", k ? ", " : "",
                               ortc_post_op_str(one, sizeof one, &n->post_ops[k]));
        }
    }
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return p ? ORTC_STATUS_OK : ORTC_STATUS_INVALID_ARGUMENT;
}

ortc_status ortc_session_plan_step_value(const ortc_session *s, size_t i, int output, size_t k,
                                         ortc_plan_value_info *info)
{
    if (!s || !info)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL argument");
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    const ortc_plan *p = plan_with_step(s, i);
    const ortc_node *n = p ? p->steps[i].node : NULL;
    int count = n ? (output ? n->n_outputs : n->n_inputs) : 0;
    if (p && k >= (size_t)count) {
        ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "%s %zu of step %zu out of range (%d)",
                     output ? "output" : "input", k, i, count);
        p = NULL;
    }
    if (p) {
        const ortc_value *v = output ? n->outputs[k] : n->inputs[k];
        *info = (ortc_plan_value_info){.name = "", .place = ORTC_PLACE_NONE};
        int slot = v ? ortc_plan_slot(p, v) : -1;
        if (slot >= 0) {
            const ortc_tensor *t = &p->tensors[slot];
            info->name = v->name ? v->name : "";
            info->dtype = t->dtype;
            info->rank = t->rank;
            memcpy(info->dims, t->dims, sizeof info->dims);
            ortc_backend_layout_str(&p->layouts[slot], info->layout, sizeof info->layout);
            info->bytes = p->layouts[slot].bytes;
            switch (p->bind[slot].kind) {
            case ORTC_BIND_CONST: info->place = ORTC_PLACE_CONSTANT; break;
            case ORTC_BIND_ARENA:
                info->place = ORTC_PLACE_ARENA;
                info->offset = p->bind[slot].offset;
                break;
            case ORTC_BIND_INPUT: info->place = ORTC_PLACE_INPUT; break;
            case ORTC_BIND_OUTPUT: info->place = ORTC_PLACE_OUTPUT; break;
            case ORTC_BIND_OUTER: info->place = ORTC_PLACE_OUTER; break;
            case ORTC_BIND_DYNAMIC:
            case ORTC_BIND_DEFERRED:
            case ORTC_BIND_PREFIX: info->place = ORTC_PLACE_DYNAMIC; break;
            case ORTC_BIND_NONE: info->place = ORTC_PLACE_NONE; break;
            }
        }
    }
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return p ? ORTC_STATUS_OK : ORTC_STATUS_INVALID_ARGUMENT;
}

const char *ortc_session_dynamic_value(const ortc_session *s, size_t i)
{
    if (!s)
        return NULL;
    const char *name = NULL;
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    const ortc_plan *p = s->last;
    for (int v = 0; p && v < p->n_values && !name; v++) {
        ortc_bind_kind k = p->bind[v].kind;
        if ((k == ORTC_BIND_DYNAMIC || k == ORTC_BIND_DEFERRED ||
             (k == ORTC_BIND_INPUT && p->layouts[v].dynamic)) &&
            i-- == 0)
            name = p->graph->values[v]->name;
    }
    pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
    return name;
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

/* One run in an execution context of p: acquired (s locked on entry,
 * unlocked on return), executed, released. */
typedef struct run_ctx {
    ortc_plan *p;
    int k;
    ortc_exec *e;
    bool profile;
} run_ctx;

static ortc_status run_acquire(ortc_session *s, ortc_plan *p, run_ctx *r)
{
    r->p = p;
    r->profile = s->profiling;
    p->n_busy++;
    r->k = acquire_context(s, p, r->profile);
    if (r->k < 0) {
        p->n_busy--;
        ortc_status st = ortc_err_publish(&s->err);
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    r->e = r->k ? p->exec[r->k] : NULL;
    if (!r->profile)
        s->prof_plan = NULL; /* the profile describes the last run only */
    pthread_mutex_unlock(&s->lock);
    /* what the last run in this context made of data-dependent size goes */
    ortc_pool_reset(&p->pools[r->k]);
    return ORTC_STATUS_OK;
}

/* The caller's tensors as a run binds them. oneDNN's JIT kernels may move
 * data with instructions that need 64-byte alignment (oneDNN 2.6's linear
 * resampling stores with vmovntps on an AMD Zen 5 and faulted on a 16-byte
 * aligned malloc'd output), so an input or output tensor whose data is not
 * 64-byte aligned runs through an aligned copy in the context's staging
 * pool, which keeps its memory across runs (after the first such run this
 * allocates nothing). in / out: the arrays the run takes; NULL when every
 * tensor is aligned (the caller's own arrays, as they are). */
typedef struct staged_io {
    ortc_tensor *in, *out;
} staged_io;

static bool needs_stage(const ortc_tensor *t)
{
    return t->data && ((uintptr_t)t->data & 63) && t->dtype != ORTC_DTYPE_STRING;
}

static bool stage_input(const ortc_value *v, const ortc_tensor *t)
{
    return (v->type == ORTC_TYPE_TENSOR || v->type == ORTC_TYPE_OPTIONAL_TENSOR) && needs_stage(t);
}

/* Output k's bytes as the plan makes it (its data is not data-dependent:
 * the caller gave a buffer). */
static size_t output_bytes(const ortc_plan *p, int k)
{
    return ortc_tensor_bytes(&p->shapes[ortc_plan_slot(p, p->graph->outputs[k])]);
}

static ortc_status stage_io(ortc_session *s, run_ctx *r, const ortc_tensor *inputs,
                            ortc_tensor *outputs, staged_io *io)
{
    const ortc_graph *g = s->model->graph;
    const int ni = g->n_inputs, no = g->n_outputs;
    bool any = false;
    io->in = io->out = NULL;
    for (int i = 0; i < ni && !any; i++)
        any = stage_input(g->inputs[i], &inputs[i]);
    for (int k = 0; k < no && !any; k++)
        any = needs_stage(&outputs[k]);
    if (!any)
        return ORTC_STATUS_OK;
    ortc_pool *pool = &r->p->stage[r->k];
    ortc_pool_reset(pool);
    io->in = ortc_pool_alloc(pool, ((size_t)ni + 1) * sizeof *io->in);
    io->out = ortc_pool_alloc(pool, ((size_t)no + 1) * sizeof *io->out);
    if (!io->in || !io->out)
        goto oom;
    if (ni) /* a model without inputs may pass NULL */
        memcpy(io->in, inputs, (size_t)ni * sizeof *io->in);
    if (no)
        memcpy(io->out, outputs, (size_t)no * sizeof *io->out);
    for (int i = 0; i < ni; i++) {
        if (!stage_input(g->inputs[i], &inputs[i]))
            continue;
        size_t bytes = ortc_tensor_bytes(&inputs[i]);
        if (!(io->in[i].data = ortc_pool_alloc(pool, bytes)))
            goto oom;
        memcpy(io->in[i].data, inputs[i].data, bytes);
    }
    for (int k = 0; k < no; k++)
        if (needs_stage(&outputs[k]) &&
            !(io->out[k].data = ortc_pool_alloc(pool, output_bytes(r->p, k))))
            goto oom;
    return ORTC_STATUS_OK;
oom:
    io->in = io->out = NULL;
    return ortc_err_set(r->e ? &r->e->err : &r->p->run_err, ORTC_STATUS_OUT_OF_MEMORY,
                        "out of memory for aligned copies of the caller's tensors");
}

/* After the run (status st): staged outputs' data to the caller's
 * buffers; what the run set in the others (data-dependent outputs) to the
 * caller's array. */
static void unstage_outputs(const ortc_plan *p, ortc_tensor *outputs, const staged_io *io,
                            ortc_status st)
{
    for (int k = 0; io->out && k < p->graph->n_outputs; k++) {
        if (!needs_stage(&outputs[k])) {
            outputs[k] = io->out[k];
            continue;
        }
        size_t bytes = output_bytes(p, k);
        if (!st && bytes)
            memcpy(outputs[k].data, io->out[k].data, bytes);
    }
}

static ortc_status run_execute(ortc_session *s, run_ctx *r, const ortc_tensor *inputs,
                               ortc_tensor *outputs)
{
    ortc_plan *p = r->p;
    staged_io io;
    ortc_status st = stage_io(s, r, inputs, outputs, &io);
    if (st)
        return st;
    ortc_tensor *caller_out = outputs;
    if (io.in)
        inputs = io.in;
    if (io.out)
        outputs = io.out;
    if (s->backend)
        ortc_backend_enter(s->backend);
    if (!r->profile) {
        st = ortc_plan_execute(s, p, r->e, inputs, outputs);
    } else {
        /* profiling runs in context 0 only; buffers were reserved when
         * profiling was enabled or p compiled */
        s->prof_plan = (size_t)p->n_steps <= s->prof_cap ? p : NULL;
        st = ortc_plan_execute_profiled(s, p, inputs, outputs, s->prof_start_ms, s->prof_ms);
        if (st)
            s->prof_plan = NULL;
    }
    ortc_errbuf *ebuf = r->e ? &r->e->err : &p->run_err;
    if (!st && s->backend && p->n_steps)
        st = ortc_backend_wait_context(s->backend, r->k, ebuf);
    unstage_outputs(p, caller_out, &io, st);
    return st;
}

/* Releases the context; st: the run's status (its message in the
 * context's error buffer, or `msg` when not NULL). */
static ortc_status run_release(ortc_session *s, run_ctx *r, ortc_status st, const char *msg)
{
    ortc_plan *p = r->p;
    ortc_errbuf *ebuf = r->e ? &r->e->err : &p->run_err;
    pthread_mutex_lock(&s->lock);
    if (st)
        ortc_err_set(&s->err, st, "%s", msg ? msg : ebuf->msg);
    p->busy[r->k] = false;
    p->n_busy--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
    return st;
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
    for (size_t i = 0; !st && i < n_inputs; i++) {
        if (g->inputs[i]->type != ORTC_TYPE_TENSOR)
            st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                              "input %zu '%s' is a %s: run the model with ortc_session_run_any", i,
                              g->inputs[i]->name, ortc_type_name(g->inputs[i]->type));
        else if (!inputs[i].data && ortc_tensor_numel(&inputs[i]) != 0)
            st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT, "input %zu '%s' has no data",
                              i, g->inputs[i]->name);
    }
    if (!st)
        st = get_plan(s, inputs, n_inputs, &p);
    for (size_t k = 0; !st && k < n_outputs; k++) {
        const ortc_tensor *t = &p->shapes[ortc_plan_slot(p, g->outputs[k])];
        ortc_type ty = ortc_plan_output_type(p, (int)k);
        if (ty != ORTC_TYPE_TENSOR)
            st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                              "output %zu '%s' is a %s: run the model with ortc_session_run_any", k,
                              g->outputs[k]->name, ortc_type_name(ty));
        else if (ortc_plan_output_dynamic(p, (int)k) && outputs[k].data)
            st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                              "output %zu '%s' has a shape that depends on the input data: pass "
                              "its data as NULL and the run allocates it (free it with "
                              "ortc_tensor_release)",
                              k, g->outputs[k]->name);
        else if (!ortc_plan_output_dynamic(p, (int)k) && !outputs[k].data &&
                 ortc_tensor_numel(t) != 0)
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
    run_ctx r;
    ORTC_TRY(run_acquire(s, p, &r));
    st = run_execute(s, &r, inputs, outputs);
    /* outputs of data-dependent size: from the pool to the caller's heap */
    const char *msg = NULL;
    for (size_t k = 0; k < n_outputs; k++) {
        if (!ortc_plan_output_dynamic(p, (int)k))
            continue;
        if (!st && export_tensor(&outputs[k], &outputs[k])) {
            st = ORTC_STATUS_OUT_OF_MEMORY;
            msg = "out of memory for an output of data-dependent size";
        }
        if (st) /* nothing of the pool reaches the caller */
            for (size_t j = 0; j <= k; j++)
                if (ortc_plan_output_dynamic(p, (int)j))
                    ortc_tensor_release(&outputs[j]);
    }
    if (!st) {
        pthread_mutex_lock(&s->lock);
        fill_outputs(s, p, outputs, n_outputs, true);
        pthread_mutex_unlock(&s->lock);
    }
    return run_release(s, &r, st, msg);
}

/* ---- values of any type ------------------------------------------------------------ */

/* The tensor that stands for input i (given as v, declared as the graph's
 * input i) in the plan key and the run; sequences get their data later. */
static ortc_status any_input(ortc_session *s, size_t i, const ortc_any *v, ortc_tensor *t)
{
    const ortc_value *gv = s->model->graph->inputs[i];
    ortc_type want = gv->type;
    bool optional = want == ORTC_TYPE_OPTIONAL_TENSOR || want == ORTC_TYPE_OPTIONAL_SEQUENCE;
    bool seq = want == ORTC_TYPE_SEQUENCE || want == ORTC_TYPE_OPTIONAL_SEQUENCE;
    memset(t, 0, sizeof *t);
    if (v->type == ORTC_TYPE_NONE && optional) {
        t->dtype = gv->dtype;
        t->rank = -1;
        return ORTC_STATUS_OK;
    }
    if ((v->type == ORTC_TYPE_SEQUENCE) != seq ||
        (v->type != ORTC_TYPE_SEQUENCE && v->type != ORTC_TYPE_TENSOR))
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "input %zu '%s' is a %s; the model expects a %s", i, gv->name,
                            ortc_type_name(v->type), ortc_type_name(want));
    if (v->type == ORTC_TYPE_TENSOR) {
        *t = v->tensor;
        if (!t->data && ortc_tensor_numel(t) != 0)
            return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT, "input %zu '%s' has no data",
                                i, gv->name);
        return ORTC_STATUS_OK;
    }
    ortc_dtype elem = v->elem_dtype;
    if (!v->length && elem == ORTC_DTYPE_UNDEFINED) /* an empty one from a file says none */
        elem = gv->dtype;
    if (gv->dtype != ORTC_DTYPE_UNDEFINED && elem != gv->dtype)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "input %zu '%s' is a sequence of %s; the model expects %s", i, gv->name,
                            ortc_dtype_name(elem), ortc_dtype_name(gv->dtype));
    if (v->length && !v->tensors)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "input %zu '%s': a sequence of %zu tensors without them", i, gv->name,
                            v->length);
    int64_t max = s->opts.max_sequence_length;
    if ((int64_t)v->length > max || v->length > (size_t)INT64_MAX)
        return ortc_err_set(&s->err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "input %zu '%s' is a sequence of %zu tensors, above the limit of %lld "
                            "(session option max_sequence_length)",
                            i, gv->name, v->length, (long long)max);
    for (size_t j = 0; j < v->length; j++) {
        const ortc_tensor *x = &v->tensors[j];
        if (x->dtype != v->elem_dtype || x->rank < 0 || x->rank > ORTC_MAX_RANK ||
            ortc_tensor_numel(x) < 0 || (!x->data && ortc_tensor_numel(x) != 0))
            return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                                "input %zu '%s': sequence item %zu is not a %s tensor with data "
                                "(dtype %s, rank %d)",
                                i, gv->name, j, ortc_dtype_name(v->elem_dtype),
                                ortc_dtype_name(x->dtype), x->rank);
    }
    t->dtype = elem;
    t->rank = -1;
    return ORTC_STATUS_OK;
}

/* The sequence inputs, in the run's pool of context k. */
static ortc_status any_sequences(ortc_session *s, ortc_pool *pool, const ortc_any *inputs, size_t n,
                                 ortc_tensor *in, char *msg, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const ortc_any *v = &inputs[i];
        if (v->type != ORTC_TYPE_SEQUENCE)
            continue;
        ortc_sequence *q = ortc_pool_alloc(pool, sizeof *q);
        ortc_tensor *items = q ? ortc_pool_alloc(pool, v->length * sizeof *items) : NULL;
        if (!items) {
            snprintf(msg, len,
                     "input %zu '%s': no room for a sequence of %zu tensors in the run's pool "
                     "(session option max_dynamic_bytes: %zu)",
                     i, s->model->graph->inputs[i]->name, v->length, ortc_pool_limit(pool));
            return ORTC_STATUS_LIMIT_EXCEEDED;
        }
        if (v->length)
            memcpy(items, v->tensors, v->length * sizeof *items);
        *q = (ortc_sequence){.dtype = in[i].dtype,
                             .length = (int64_t)v->length,
                             .items = items,
                             .used = NULL,
                             .cap = (int64_t)v->length};
        in[i].data = q;
    }
    return ORTC_STATUS_OK;
}

/* Output t (of type ty, as the run left it) as the caller's ortc_any. */
static ortc_status any_output(ortc_type ty, const ortc_tensor *t, bool dynamic, ortc_any *out)
{
    memset(out, 0, sizeof *out);
    bool seq = ty == ORTC_TYPE_SEQUENCE || ty == ORTC_TYPE_OPTIONAL_SEQUENCE;
    if ((ty == ORTC_TYPE_OPTIONAL_TENSOR && t->rank < 0) ||
        (ty == ORTC_TYPE_OPTIONAL_SEQUENCE && !t->data)) {
        out->type = ORTC_TYPE_NONE;
        return ORTC_STATUS_OK;
    }
    if (!seq) {
        out->type = ORTC_TYPE_TENSOR;
        if (!dynamic) { /* already the caller's buffer */
            out->tensor = *t;
            return ORTC_STATUS_OK;
        }
        return export_tensor(t, &out->tensor);
    }
    const ortc_sequence *q = t->data;
    out->type = ORTC_TYPE_SEQUENCE;
    out->elem_dtype = q->dtype;
    out->tensors = calloc((size_t)q->length + 1, sizeof *out->tensors);
    if (!out->tensors)
        return ORTC_STATUS_OUT_OF_MEMORY;
    for (int64_t j = 0; j < q->length; j++) {
        if (export_tensor(&q->items[j], &out->tensors[j]))
            return ORTC_STATUS_OUT_OF_MEMORY;
        out->length = (size_t)j + 1;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_session_run_any(ortc_session *s, const ortc_any *inputs, size_t n_inputs,
                                 ortc_any *outputs, size_t n_outputs)
{
    if (!s)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL session");
    for (size_t k = 0; outputs && k < n_outputs; k++)
        memset(&outputs[k], 0, sizeof outputs[k]);
    pthread_mutex_lock(&s->lock);
    ortc_err_clear(&s->err);
    const ortc_graph *g = s->model->graph;
    ortc_status st = ORTC_STATUS_OK;
    if (n_inputs != (size_t)g->n_inputs || n_outputs != (size_t)g->n_outputs)
        st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                          "the model has %d inputs and %d outputs; %zu and %zu given", g->n_inputs,
                          g->n_outputs, n_inputs, n_outputs);
    else if ((n_inputs && !inputs) || (n_outputs && !outputs))
        st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT, "inputs or outputs is NULL");
    ortc_tensor *in = st ? NULL : calloc(n_inputs + 1, sizeof *in);
    ortc_tensor *out = st ? NULL : calloc(n_outputs + 1, sizeof *out);
    if (!st && (!in || !out))
        st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    for (size_t i = 0; !st && i < n_inputs; i++)
        st = any_input(s, i, &inputs[i], &in[i]);
    ortc_plan *p = NULL;
    if (!st)
        st = get_plan(s, in, n_inputs, &p);
    if (!st)
        fill_outputs(s, p, out, n_outputs, false);
    for (size_t k = 0; !st && k < n_outputs; k++) {
        out[k].data = NULL;
        if (ortc_plan_output_type(p, (int)k) != ORTC_TYPE_TENSOR ||
            ortc_plan_output_dynamic(p, (int)k))
            continue;
        size_t bytes = ortc_tensor_bytes(&out[k]);
        /* 64-byte aligned, so the run computes into it (stage_io) */
        if (!(out[k].data = aligned_alloc(64, bytes ? (bytes + 63) & ~(size_t)63 : 64)))
            st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                              "out of memory for output %zu (%zu bytes)", k, bytes);
    }
    if (st) {
        for (size_t k = 0; out && k < n_outputs; k++)
            free(out[k].data);
        free(in);
        free(out);
        ortc_err_publish(&s->err);
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    run_ctx r;
    if ((st = run_acquire(s, p, &r))) {
        for (size_t k = 0; k < n_outputs; k++)
            free(out[k].data);
        free(in);
        free(out);
        return st;
    }
    char msg[512] = "";
    st = any_sequences(s, &p->pools[r.k], inputs, n_inputs, in, msg, sizeof msg);
    if (!st)
        st = run_execute(s, &r, in, out);
    for (size_t k = 0; k < n_outputs; k++) {
        bool dynamic = ortc_plan_output_dynamic(p, (int)k);
        if (!st && any_output(ortc_plan_output_type(p, (int)k), &out[k], dynamic, &outputs[k])) {
            st = ORTC_STATUS_OUT_OF_MEMORY;
            snprintf(msg, sizeof msg, "out of memory for output %zu", k);
        }
        if (st && !dynamic && outputs[k].tensor.data != out[k].data)
            free(out[k].data); /* not handed over */
    }
    if (st)
        for (size_t k = 0; k < n_outputs; k++)
            ortc_any_release(&outputs[k]);
    free(in);
    free(out);
    return run_release(s, &r, st, msg[0] ? msg : NULL);
}

/* ---- profiling -------------------------------------------------------------------- */

ortc_status ortc_session_set_profiling(ortc_session *s, int enable)
{
    if (!s)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "NULL session");
    if (enable) {
        size_t n = 0;
        pthread_mutex_lock(&s->lock); /* concurrent runs may be adding plans */
        for (int i = 0; i < s->n_plans; i++)
            if ((size_t)s->plans[i]->n_steps > n)
                n = (size_t)s->plans[i]->n_steps;
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
            .precision = step_precision(st),
        };
    }
    return n;
}
