/* compile.c — turns a graph plus concrete input shapes into a plan:
 * shape/dtype inference node by node and folding of nodes whose inputs are
 * known at compile time (both through eval.c), kernel preparation,
 * views/in-place, and memory planning into one arena. Sub-plans of
 * subgraphs are compiled here too, on an operator's request (subgraph.c).
 * Running a plan is executor.c's job.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "eval.h"
#include "planner.h"
#include "poison.h"
#include "session_impl.h"

#define MAX_DIM_PARAMS 64

static void *alloc_aligned(size_t bytes)
{
    size_t n = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, n ? n : 64);
}

void ortc_plan_free(ortc_plan *p)
{
    if (!p)
        return;
    for (int k = 1; k < ORTC_MAX_CONTEXTS; k++)
        ortc_exec_free(p, p->exec[k]);
    /* releasing a step frees the sub-plans its operator compiled */
    for (int i = 0; p->steps && i < p->n_steps; i++) {
        ortc_step *st = &p->steps[i];
        if (st->node && st->node->op && st->node->op->release && st->ctx.state)
            st->node->op->release(&st->ctx);
    }
    free(p->steps);
    free(p->subplans);
    ortc_segment_free(p);
    free(p->deferred);
    free(p->cut_slots);
    free(p->cut_data);
    for (int k = 0; p->pools && k < ORTC_MAX_CONTEXTS; k++)
        ortc_pool_free(&p->pools[k]);
    free(p->pools);
    for (int k = 0; p->stage && k < ORTC_MAX_CONTEXTS; k++)
        ortc_pool_free(&p->stage[k]);
    free(p->stage);
    if (p->owned)
        for (int v = 0; v < p->n_values + p->n_outer; v++)
            free(p->owned[v]);
    free(p->owned);
    if (p->key)
        for (int i = 0; i < p->n_inputs; i++)
            if (p->key_bytes[i])
                free(p->key[i].data);
    free(p->key);
    free(p->key_bytes);
    free(p->outer);
    free(p->outer_src);
    free(p->tensors);
    free(p->shapes);
    free(p->layouts);
    free(p->bind);
    free(p->is_static);
    free(p->ptr_pool);
    free(p->layout_pool);
    free(p->int_pool);
    free(p->bool_pool);
    free(p->arena);
    free(p->scratch);
    free(p->buffers);
    free(p->buffer_value);
    free(p->buffer_n_values);
    ortc_poison_free(p->poison);
    free(p);
}

int ortc_plan_slot(const ortc_plan *p, const ortc_value *v)
{
    if (v->graph == p->graph)
        return v->index;
    for (int k = 0; k < p->n_outer; k++)
        if (p->outer[k] == v)
            return p->n_values + k;
    return -1;
}

#define SLOT(p, v) ortc_plan_slot((p), (v))

/* ---- which graph inputs determine shapes ----------------------------------- */

static void mark_needed(ortc_session *s, ortc_value *v, char *seen)
{
    if (!v || seen[v->index])
        return;
    seen[v->index] = 1;
    if (v->kind == ORTC_VALUE_CONSTANT)
        return;
    if (v->kind == ORTC_VALUE_INPUT) {
        const ortc_graph *g = s->model->graph;
        for (int i = 0; i < g->n_inputs; i++)
            if (g->inputs[i] == v)
                s->key_data_input[i] = true;
        return;
    }
    const ortc_node *p = v->producer;
    if (!p || (p->op && (p->op->flags & ORTC_OP_SHAPE_ONLY)))
        return;
    for (int i = 0; i < p->n_inputs; i++)
        if (p->inputs[i] && p->inputs[i]->graph == v->graph)
            mark_needed(s, p->inputs[i], seen);
}

ortc_status ortc_session_find_key_inputs(ortc_session *s)
{
    ortc_graph *g = s->model->graph;
    s->key_data_input = calloc((size_t)g->n_inputs + 1, sizeof *s->key_data_input);
    char *seen = calloc((size_t)g->n_values + 1, 1);
    if (!s->key_data_input || !seen) {
        free(seen);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const ortc_node *n = g->nodes[i];
        uint32_t mask = n->op ? n->op->data_inputs : 0;
        for (int k = 0; k < n->n_inputs && k < 32; k++)
            if ((mask >> k) & 1u)
                mark_needed(s, n->inputs[k], seen);
    }
    free(seen);
    return ORTC_STATUS_OK;
}

/* ---- input checks ------------------------------------------------------------ */

typedef struct {
    const char *name;
    int64_t value;
    const char *input;
} dim_binding;

static ortc_status check_input(ortc_session *s, int i, const ortc_value *v, const ortc_tensor *t,
                               dim_binding *params, int *n_params)
{
    char have[160], want[160];
    if (t->dtype != v->dtype && v->dtype != ORTC_DTYPE_UNDEFINED)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "input %d '%s' has dtype %s; the model expects %s", i, v->name,
                            ortc_dtype_name(t->dtype), ortc_dtype_name(v->dtype));
    if (t->rank < 0 || t->rank > ORTC_MAX_RANK)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "input %d '%s' has rank %d; ortc supports 0..%d", i, v->name, t->rank,
                            ORTC_MAX_RANK);
    bool bad = v->rank >= 0 && v->rank != t->rank;
    for (int d = 0; !bad && v->rank >= 0 && d < t->rank; d++) {
        if (t->dims[d] < 0)
            bad = true;
        else if (v->dims[d].value >= 0 && v->dims[d].value != t->dims[d])
            bad = true;
    }
    if (bad)
        return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                            "input %d '%s' has shape %s; the model expects %s", i, v->name,
                            ortc_shape_str(have, sizeof have, t->rank, t->dims),
                            ortc_value_shape_str(want, sizeof want, v));
    for (int d = 0; v->rank >= 0 && d < t->rank; d++) {
        const char *p = v->dims[d].param;
        if (!p || v->dims[d].value >= 0)
            continue;
        int k;
        for (k = 0; k < *n_params; k++)
            if (!strcmp(params[k].name, p))
                break;
        if (k == *n_params) {
            if (*n_params < MAX_DIM_PARAMS)
                params[(*n_params)++] = (dim_binding){p, t->dims[d], v->name};
        } else if (params[k].value != t->dims[d]) {
            return ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                                "input '%s' dim %d ('%s') is %lld but input '%s' set '%s' to %lld",
                                v->name, d, p, (long long)t->dims[d], params[k].input, p,
                                (long long)params[k].value);
        }
    }
    if (ortc_tensor_numel(t) < 0)
        return ortc_err_set(&s->err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "input %d '%s' shape %s has too many elements", i, v->name,
                            ortc_shape_str(have, sizeof have, t->rank, t->dims));
    return ORTC_STATUS_OK;
}

/* ---- step contexts ------------------------------------------------------------ */

/* Step context for node n, its arrays in pool storage, bound to p's
 * tensors and layouts. */
static void ctx_bind(ortc_plan *p, ortc_opctx *c, ortc_node *n, ortc_tensor **pp, ortc_layout **lp,
                     int *ip, bool *bp, ortc_session *s)
{
    ortc_eval_ctx_bind(c, n, pp, lp, ip, bp, s->opts.threads, &s->err);
    c->subgraphs = &ortc_plan_subgraphs;
    c->runtime = p;
    c->pool = &p->root->pools[0];
    c->options = &s->opts;
    c->precision = s->precision;
    for (int i = 0; i < n->n_inputs; i++) {
        ortc_value *v = n->inputs[i];
        c->in[i] = v ? &p->tensors[SLOT(p, v)] : NULL;
        c->in_layout[i] = v ? &p->layouts[SLOT(p, v)] : NULL;
    }
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_value *v = n->outputs[k];
        c->out[k] = v ? &p->tensors[SLOT(p, v)] : NULL;
        c->out_layout[k] = v ? &p->layouts[SLOT(p, v)] : NULL;
    }
}

static ortc_eval_env eval_env(ortc_session *s)
{
    return (ortc_eval_env){s->opts.threads, s->opts.reference != 0, s->opts.max_tensor_bytes,
                           &s->backend, &s->err};
}

static ortc_status ensure_backend(ortc_session *s)
{
    if (s->backend || s->opts.reference)
        return ORTC_STATUS_OK;
    return ortc_backend_create(&s->backend, s->opts.threads, &s->err);
}

/* Evaluates node n now (all inputs known): outputs become plan-owned
 * constants. */
static ortc_status fold_node(ortc_session *s, ortc_plan *p, ortc_opctx *c)
{
    ortc_node *n = (ortc_node *)c->node;
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_value *v = n->outputs[k];
        if (!v)
            continue;
        size_t bytes = p->layouts[SLOT(p, v)].bytes;
        p->owned[SLOT(p, v)] = alloc_aligned(bytes);
        if (!p->owned[SLOT(p, v)])
            return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                                "out of memory folding node '%s'", n->name);
        memset(p->owned[SLOT(p, v)], 0, bytes);
        p->tensors[SLOT(p, v)].data = p->owned[SLOT(p, v)];
    }
    ortc_eval_env env = eval_env(s);
    c->precision = ORTC_PRECISION_FP32; /* constants are computed exactly once: in fp32 */
    ortc_status st = ortc_eval_run(c, &env, NULL);
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_value *v = n->outputs[k];
        if (!v)
            continue;
        p->is_static[SLOT(p, v)] = true;
        p->bind[SLOT(p, v)] = (ortc_binding){ORTC_BIND_CONST, 0, 0, p->owned[SLOT(p, v)]};
    }
    return st;
}

/* Whether a step makes a STRING output: never folded, since an operator
 * that makes strings keeps them in its state, which folding frees (the
 * graph passes refuse strings too, pass_common.c). */
static bool makes_strings(const ortc_opctx *c)
{
    for (int k = 0; k < c->n_out; k++)
        if (c->out[k] && c->out[k]->dtype == ORTC_DTYPE_STRING)
            return true;
    return false;
}

static bool value_static(const void *plan, const ortc_value *v)
{
    const ortc_plan *p = plan;
    return p->is_static[SLOT(p, v)];
}

/* output k's consumers all take blocked layouts and it is not a graph output */
static bool blocked_ok(const ortc_value *v)
{
    if (!v || v->is_output || v->n_uses == 0)
        return false;
    for (int u = 0; u < v->n_uses; u++) {
        const ortc_node *c = v->uses[u].node;
        if (!c->op || !(c->op->flags & ORTC_OP_ACCEPTS_BLOCKED) || v->uses[u].input < 0)
            return false;
    }
    return true;
}

/* ---- memory planning ------------------------------------------------------------ */

/* A value a join may place: an activation of this plan (no binding yet, a
 * static size, some bytes) made by one of its steps. */
static bool join_placeable(const ortc_plan *p, const int *def, int v)
{
    return p->bind[v].kind == ORTC_BIND_NONE && !p->layouts[v].dynamic && p->layouts[v].bytes &&
           def[v] >= 0;
}

/* Concat without copies. A step whose op declared joins_inputs (output 0
 * is its inputs' bytes one after the other) is not run when its inputs'
 * producers write straight into their slices of its output: jroot[v] is
 * then the value whose arena buffer v lives in, at byte sub[v] of it
 * (jroot[v] == v: that buffer's own value; -1: no join). Walked from the
 * last step back, so a Concat read by a later Concat is placed in the later
 * one's buffer first and its own inputs nest in its slice; a Concat whose
 * inputs all already sit in one buffer in its order (DenseNet: each
 * layer's Concat is a prefix of the block's last) becomes a view of them.
 * A value is placed at most once (so each slice has one writer), never
 * when it is the caller's, a constant, of run-time size, or read twice by
 * the same Concat; all or nothing per step. skip[si]: step si joins. */
static void plan_joins(ortc_plan *p, const int *def, int *jroot, size_t *sub, bool *skip)
{
    for (int si = p->n_steps - 1; si >= 0; si--) {
        const ortc_step *st = &p->steps[si];
        const ortc_node *n = st->node;
        if (!st->ctx.joins_inputs || st->use_reference || n->n_outputs < 1 || !n->outputs[0])
            continue;
        int y = SLOT(p, n->outputs[0]);
        if (y < 0 || !join_placeable(p, def, y))
            continue;
        /* the buffer and base the inputs must sit at: y's when placed,
         * else the one the placed inputs agree on, else y's own */
        int r = jroot[y];
        size_t base = r >= 0 ? sub[y] : 0, off = 0;
        bool ok = true, any_placed = false, any_free = false;
        for (int i = 0; i < n->n_inputs && ok; i++) {
            const ortc_value *u = n->inputs[i];
            int ui = u && u->graph == p->graph ? SLOT(p, u) : -1;
            if (ui < 0) {
                ok = false;
                break;
            }
            size_t bytes = p->layouts[ui].bytes;
            for (int j = 0; j < i && ok; j++)
                ok = !bytes || n->inputs[j] != u;
            if (!bytes || !ok)
                continue;
            if (jroot[ui] >= 0) {
                any_placed = true;
                if (r < 0 && jroot[y] < 0 && sub[ui] >= off) {
                    r = jroot[ui];
                    base = sub[ui] - off;
                }
                ok = jroot[ui] == r && sub[ui] == base + off;
            } else {
                any_free = true;
                ok = join_placeable(p, def, ui) && def[ui] < si;
            }
            off += bytes;
        }
        if (!ok || off != p->layouts[y].bytes || (any_placed && any_free && jroot[y] < 0))
            continue;
        if (jroot[y] < 0 && !any_placed) {
            r = y; /* y's buffer holds its inputs */
            base = 0;
        }
        jroot[y] = r;
        sub[y] = base;
        off = 0;
        for (int i = 0; i < n->n_inputs; i++) {
            int ui = SLOT(p, n->inputs[i]);
            size_t bytes = p->layouts[ui].bytes;
            if (bytes && jroot[ui] < 0) {
                jroot[ui] = r;
                sub[ui] = base + off;
            }
            off += bytes;
        }
        skip[si] = true;
    }
}

static ortc_status plan_memory(ortc_session *s, ortc_plan *p)
{
    const ortc_graph *g = p->graph;
    int nv = p->n_values + p->n_outer;
    int *def = malloc((size_t)nv * sizeof *def);
    int *last = malloc((size_t)nv * sizeof *last);
    int *root = malloc((size_t)nv * sizeof *root);
    int *buf_of = malloc((size_t)nv * sizeof *buf_of);
    ortc_plan_buffer *bufs = calloc((size_t)nv + 1, sizeof *bufs);
    int *owner = calloc((size_t)nv + 1, sizeof *owner);
    int *n_held = calloc((size_t)nv + 1, sizeof *n_held);
    int *jroot = malloc(((size_t)nv + 1) * sizeof *jroot);
    size_t *sub = calloc((size_t)nv + 1, sizeof *sub);
    bool *joins = calloc((size_t)p->n_steps + 1, sizeof *joins);
    ortc_status status = ORTC_STATUS_OK;
    if (!def || !last || !root || !buf_of || !bufs || !owner || !n_held || !jroot || !sub ||
        !joins) {
        status = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory planning memory");
        goto out;
    }
    for (int v = 0; v < nv; v++) {
        def[v] = -1;
        last[v] = -1;
        root[v] = v;
        buf_of[v] = -1;
        jroot[v] = -1;
    }
    for (int si = 0; si < p->n_steps; si++) {
        ortc_node *n = p->steps[si].node;
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] && n->inputs[i]->graph == g)
                last[SLOT(p, n->inputs[i])] = si;
        for (int i = 0; i < n->n_implicit; i++)
            if (n->implicit_inputs[i]->graph == g)
                last[SLOT(p, n->implicit_inputs[i])] = si;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k])
                def[SLOT(p, n->outputs[k])] = si;
    }
    /* what the continuation reads stays alive to the end of this plan */
    for (int di = 0; di < p->n_deferred; di++) {
        const ortc_node *n = p->deferred[di];
        for (int i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] && n->inputs[i]->graph == g)
                last[SLOT(p, n->inputs[i])] = p->n_steps;
        for (int i = 0; i < n->n_implicit; i++)
            if (n->implicit_inputs[i]->graph == g)
                last[SLOT(p, n->implicit_inputs[i])] = p->n_steps;
    }
    /* a continuation's graph outputs live in its arena until segment.c
     * copies them out after its last step: without this, an output no step
     * reads dies where it is made and a later output may take its bytes */
    for (int k = 0; p->prefix && k < g->n_outputs; k++) {
        const ortc_value *v = g->outputs[k];
        if (v->graph == g && SLOT(p, v) >= 0)
            last[SLOT(p, v)] = p->n_steps;
    }

    plan_joins(p, def, jroot, sub, joins);

    size_t n_bufs = 0, naive = 0;
    for (int si = 0; si < p->n_steps; si++) {
        ortc_step *st = &p->steps[si];
        ortc_node *n = st->node;
        bool all_views = n->n_outputs > 0;
        if (joins[si])
            p->stats.n_joined_steps++;
        for (int k = 0; k < n->n_outputs; k++) {
            ortc_value *w = n->outputs[k];
            if (!w)
                continue;
            int wi = SLOT(p, w);
            if (p->layouts[wi].dynamic) { /* made at run time in the run's pool */
                p->bind[wi] = (ortc_binding){ORTC_BIND_DYNAMIC, 0, 0, NULL};
                st->ctx.view[k] = -1;
                st->ctx.inplace[k] = -1;
                all_views = false;
                p->stats.n_dynamic_values++;
                continue;
            }
            p->stats.n_static_values++;
            if (p->bind[wi].kind == ORTC_BIND_OUTPUT) {
                st->ctx.view[k] = -1; /* caller memory: compute into it */
                st->ctx.inplace[k] = -1;
                all_views = false;
                continue;
            }
            naive += p->layouts[wi].bytes;
            if (jroot[wi] >= 0) { /* a slice of a join's buffer (plan_joins) */
                int r = jroot[wi];
                if (buf_of[r] < 0) { /* its first writer: the buffer starts here */
                    buf_of[r] = (int)n_bufs;
                    owner[n_bufs] = r;
                    bufs[n_bufs].size = p->layouts[r].bytes;
                    bufs[n_bufs].first = si;
                    bufs[n_bufs].last = last[r] > si ? last[r] : si;
                    p->bind[r] = (ortc_binding){ORTC_BIND_ARENA, 0, 0, NULL};
                    n_bufs++;
                }
                root[wi] = r;
                buf_of[wi] = buf_of[r];
                p->bind[wi] = (ortc_binding){ORTC_BIND_ARENA, 0, 0, NULL};
                ortc_plan_buffer *b = &bufs[buf_of[r]];
                if (last[wi] > b->last)
                    b->last = last[wi];
                st->ctx.view[k] = -1; /* the producer writes the slice itself */
                st->ctx.inplace[k] = -1;
                if (!joins[si])
                    all_views = false;
                continue;
            }
            int j = st->ctx.view[k] >= 0 ? st->ctx.view[k] : st->ctx.inplace[k];
            ortc_value *u = j >= 0 && j < n->n_inputs ? n->inputs[j] : NULL;
            bool is_view =
                st->ctx.view[k] >= 0 && u && p->layouts[SLOT(p, u)].plain && p->layouts[wi].plain;
            bool is_inplace = false;
            if (!is_view && st->ctx.inplace[k] >= 0 && u) {
                int r = root[SLOT(p, u)];
                is_inplace = p->bind[r].kind == ORTC_BIND_ARENA && buf_of[r] >= 0 &&
                             bufs[buf_of[r]].last == si &&
                             p->layouts[SLOT(p, u)].bytes == p->layouts[wi].bytes;
                /* not when another input reads the same buffer (a view of it):
                 * the kernel would overwrite what it still has to read */
                for (int i = 0; is_inplace && i < n->n_inputs; i++)
                    if (i != j && n->inputs[i] && SLOT(p, n->inputs[i]) >= 0 &&
                        root[SLOT(p, n->inputs[i])] == r)
                        is_inplace = false;
            }
            if (is_view || is_inplace) {
                int r = root[SLOT(p, u)];
                root[wi] = r;
                sub[wi] = sub[SLOT(p, u)];
                p->bind[wi] = p->bind[r];
                if (p->bind[r].kind == ORTC_BIND_ARENA) {
                    buf_of[wi] = buf_of[r];
                    ortc_plan_buffer *b = &bufs[buf_of[r]];
                    if (last[wi] > b->last)
                        b->last = last[wi];
                }
                if (!is_view)
                    all_views = false;
                continue;
            }
            st->ctx.view[k] = -1;
            st->ctx.inplace[k] = -1;
            all_views = false;
            p->bind[wi] = (ortc_binding){ORTC_BIND_ARENA, 0, 0, NULL};
            buf_of[wi] = (int)n_bufs;
            owner[n_bufs] = wi;
            bufs[n_bufs].size = p->layouts[wi].bytes;
            bufs[n_bufs].first = si;
            bufs[n_bufs].last = last[wi] > si ? last[wi] : si;
            n_bufs++;
        }
        st->skip = all_views && !st->use_reference;
        /* extend buffers of values read here (aliases read through roots) */
        for (int i = 0; i < n->n_inputs; i++) {
            ortc_value *u = n->inputs[i];
            if (u && u->graph == g && buf_of[SLOT(p, u)] >= 0 && bufs[buf_of[SLOT(p, u)]].last < si)
                bufs[buf_of[SLOT(p, u)]].last = si;
        }
    }
    size_t arena = ortc_plan_assign(bufs, n_bufs);
    if (arena == (size_t)-1) {
        status = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory planning memory");
        goto out;
    }
#ifndef NDEBUG
    if (ortc_plan_has_conflict(bufs, n_bufs)) {
        status = ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                              "internal: memory plan has overlapping live buffers");
        goto out;
    }
#endif
    /* the slices of joins, one writer per byte (always: few values) */
    size_t n_slices = 0;
    ortc_plan_slice *slices = malloc(((size_t)nv + 1) * sizeof *slices);
    if (!slices) {
        status = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory planning memory");
        goto out;
    }
    for (int v = 0; v < nv; v++)
        if (jroot[v] >= 0 && jroot[v] != v && def[v] >= 0 && !joins[def[v]])
            slices[n_slices++] = (ortc_plan_slice){(size_t)buf_of[v], sub[v], p->layouts[v].bytes};
    int bad = ortc_plan_slices_conflict(slices, n_slices, bufs, n_bufs);
    free(slices);
    if (bad) {
        status = ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                              "internal: memory plan has overlapping Concat slices");
        goto out;
    }
    for (int v = 0; v < nv; v++)
        if (p->bind[v].kind == ORTC_BIND_ARENA && buf_of[v] >= 0) {
            p->bind[v].offset = bufs[buf_of[v]].offset + sub[v];
            n_held[buf_of[v]]++;
        }
    p->stats.arena_bytes = arena;
    p->stats.lower_bound_bytes = ortc_plan_lower_bound(bufs, n_bufs);
    p->stats.naive_bytes = naive;
    if ((status = ortc_poison_plan(s, p, bufs, n_bufs)))
        goto out;
    if (arena > s->opts.max_arena_bytes ||
        p->stats.scratch_bytes > s->opts.max_arena_bytes - arena) {
        status =
            ortc_err_set(&s->err, ORTC_STATUS_LIMIT_EXCEEDED,
                         "the activations need an arena of %zu bytes plus %zu of scratch, above "
                         "the limit of %zu bytes (session option max_arena_bytes)",
                         arena, p->stats.scratch_bytes, s->opts.max_arena_bytes);
        goto out;
    }
    if (arena) {
        p->arena = alloc_aligned(arena);
        if (!p->arena)
            status = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                                  "out of memory: activation arena of %zu bytes", arena);
#ifndef NDEBUG
        else
            memset(p->arena, 0xA5, arena); /* poison: reading unwritten memory shows */
#endif
    }
    /* kept for ortc_session_plan_buffers */
    p->n_buffers = (int)n_bufs;
    p->buffers = bufs;
    p->buffer_value = owner;
    p->buffer_n_values = n_held;
    bufs = NULL;
    owner = n_held = NULL;
out:
    free(def);
    free(last);
    free(root);
    free(buf_of);
    free(bufs);
    free(owner);
    free(n_held);
    free(jroot);
    free(sub);
    free(joins);
    return status;
}

/* ---- compile --------------------------------------------------------------------- */

/* The slots of a continuation that its nodes do not compute: read from
 * the prefix plan (PREFIX), or fixed when the prefix knows them (CONST).
 * The cut values take the shapes (and data) they have in the running
 * prefix, which makes them static here; the data is copied into p. */
static ortc_status bind_prefix(ortc_session *s, ortc_plan *p, const ortc_plan_src *src)
{
    const ortc_plan *q = src->prefix;
    int ns = p->n_values + p->n_outer;
    char *made = calloc((size_t)ns + 1, 1);
    if (!made)
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < q->n_deferred; i++) {
        const ortc_node *n = q->deferred[i];
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k])
                made[SLOT(p, n->outputs[k])] = 1;
    }
    for (int v = 0; v < ns; v++) {
        if (made[v] || p->bind[v].kind == ORTC_BIND_CONST)
            continue;
        /* from the running prefix's own context: q->tensors are context
         * 0's, which another run may be rewriting */
        p->tensors[v] = src->prefix_src[v];
        p->tensors[v].data = NULL;
        p->layouts[v] = q->layouts[v];
        p->is_static[v] = q->is_static[v];
        if (q->bind[v].kind == ORTC_BIND_CONST) {
            p->bind[v] = q->bind[v];
            p->tensors[v].data = q->bind[v].ptr;
        } else {
            p->bind[v] = (ortc_binding){ORTC_BIND_PREFIX, v, 0, NULL};
        }
    }
    free(made);
    for (int c = 0; c < q->n_cut; c++) {
        int v = q->cut_slots[c];
        const ortc_tensor *now = &src->prefix_src[v];
        p->tensors[v] = *now;
        p->tensors[v].data = NULL;
        size_t bytes = ortc_tensor_bytes(now);
        p->layouts[v] = (ortc_layout){.plain = true, .bytes = bytes};
        if (!q->cut_data[c])
            continue;
        p->owned[v] = malloc(bytes ? bytes : 1);
        if (!p->owned[v])
            return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
        if (bytes)
            memcpy(p->owned[v], now->data, bytes);
        p->tensors[v].data = p->owned[v];
        p->is_static[v] = true;
        p->bind[v] = (ortc_binding){ORTC_BIND_CONST, 0, 0, p->owned[v]};
    }
    return ORTC_STATUS_OK;
}

/* Whether node n must wait for a continuation: it reads a value computed
 * by one, or (its operator not taking values of data-dependent size) a
 * tensor of data-dependent shape or a shape-determining input known only
 * at run time. A sequence or optional input such an operator cannot take
 * is an error. */
static ortc_status must_defer(ortc_session *s, const ortc_plan *p, const ortc_node *n, bool *defer)
{
    *defer = false;
    for (int i = 0; i < n->n_inputs + n->n_implicit; i++) {
        const ortc_value *v = i < n->n_inputs ? n->inputs[i] : n->implicit_inputs[i - n->n_inputs];
        if (v && SLOT(p, v) >= 0 && p->bind[SLOT(p, v)].kind == ORTC_BIND_DEFERRED)
            *defer = true;
    }
    if (*defer || (n->op->flags & ORTC_OP_DYNAMIC))
        return ORTC_STATUS_OK;
    for (int i = 0; i < n->n_inputs; i++) {
        const ortc_value *v = n->inputs[i];
        if (!v)
            continue;
        int sl = SLOT(p, v);
        const ortc_layout *l = &p->layouts[sl];
        if (l->type != ORTC_TYPE_TENSOR)
            return ortc_err_set(
                &s->err, ORTC_STATUS_INVALID_MODEL,
                "node '%s' (%s-%d): input '%s' is of type %s; %s takes tensors only", n->name,
                n->op_type, ortc_node_version(n), v->name, ortc_type_name(l->type), n->op_type);
        if (l->dynamic)
            *defer = true;
        if (i < 32 && ((n->op->data_inputs >> i) & 1u) && !p->is_static[sl])
            *defer = true;
    }
    return ORTC_STATUS_OK;
}

/* Adds slot sl to p's cut values (data: its contents key too). */
static int add_cut(ortc_plan *p, int sl, bool data)
{
    for (int c = 0; c < p->n_cut; c++)
        if (p->cut_slots[c] == sl) {
            p->cut_data[c] |= data;
            return 0;
        }
    int *ns = realloc(p->cut_slots, (size_t)(p->n_cut + 1) * sizeof *ns);
    if (!ns)
        return -1;
    p->cut_slots = ns;
    bool *nd = realloc(p->cut_data, (size_t)(p->n_cut + 1) * sizeof *nd);
    if (!nd)
        return -1;
    p->cut_data = nd;
    p->cut_slots[p->n_cut] = sl;
    p->cut_data[p->n_cut++] = data;
    return 0;
}

/* The cut values: what the deferred nodes read of this plan's values whose
 * shape is known only at run time, or whose contents they need to infer
 * shapes and this plan does not know. */
static ortc_status find_cuts(ortc_session *s, ortc_plan *p)
{
    for (int d = 0; d < p->n_deferred; d++) {
        const ortc_node *n = p->deferred[d];
        if (n->op->flags & ORTC_OP_DYNAMIC)
            continue; /* takes them as they come */
        for (int i = 0; i < n->n_inputs + n->n_implicit; i++) {
            const ortc_value *v =
                i < n->n_inputs ? n->inputs[i] : n->implicit_inputs[i - n->n_inputs];
            int sl = v ? SLOT(p, v) : -1;
            if (sl < 0 || p->bind[sl].kind == ORTC_BIND_DEFERRED ||
                p->layouts[sl].type != ORTC_TYPE_TENSOR)
                continue;
            bool data =
                i < n->n_inputs && i < 32 && ((n->op->data_inputs >> i) & 1u) && !p->is_static[sl];
            if ((p->layouts[sl].dynamic || data) && add_cut(p, sl, data))
                return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
        }
    }
    return ORTC_STATUS_OK;
}

/* ---- constants kept only packed ---------------------------------------------- */

/* A constant of at least this size whose every consuming step keeps its
 * own packed copy (ortc_opctx.packed_inputs) is freed once the last of
 * them is prepared, and read back from the model file before the next
 * compile: the one-shot peak then holds each weight once, not plain and
 * packed (r3d_18: 127 MiB less). */
#define RELEASE_MIN ((size_t)64 << 10)

/* Whether this compile may free constants: the top-level graph, every
 * node compiled now (no continuation compiled later from these bytes), no
 * operator that compiles subgraphs (they read enclosing constants by
 * name). */
static bool release_allowed(const ortc_session *s, const ortc_plan *p, const ortc_graph *g)
{
    if (g != s->model->graph || p->prefix || p->n_deferred || s->opts.reference)
        return false;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->op && g->nodes[i]->op->compile)
            return false;
    return true;
}

static bool release_candidate(const ortc_graph *g, const ortc_value *v)
{
    if (!v || v->kind != ORTC_VALUE_CONSTANT || !v->constant || v->graph != g)
        return false;
    const ortc_const_tensor *c = v->constant;
    if (!c->origin || c->released || c->plain_used || ortc_tensor_bytes(&c->t) < RELEASE_MIN)
        return false;
    for (int k = 0; k < g->n_outputs; k++)
        if (g->outputs[k] == v)
            return false;
    return true;
}

/* Released constants of g read back (a later compile folds, infers and
 * packs from them). */
static ortc_status reacquire_constants(ortc_session *s, const ortc_graph *g)
{
    for (int i = 0; i < g->n_values; i++) {
        ortc_value *v = g->values[i];
        if (v->kind != ORTC_VALUE_CONSTANT || !v->constant || !v->constant->released)
            continue;
        ORTC_TRY(ortc_const_reacquire(v->constant, v->name, &s->err));
    }
    return ORTC_STATUS_OK;
}

/* Constants whose last consumer has been prepared wait here until the
 * packing thread has done the jobs queued up to then (which may read
 * them); without the thread (be NULL) they are freed at once. */
typedef struct release_queue {
    struct ortc_backend *be;
    int *slot;
    size_t *ticket;
    int n, head;
} release_queue;

static void release_const(ortc_plan *p, int sl)
{
    ortc_const_release(p->graph->values[sl]->constant);
    p->tensors[sl].data = NULL;
    p->bind[sl].ptr = NULL;
}

/* Frees the queued constants whose packing jobs are done (all: every one). */
static void release_ready(ortc_plan *p, release_queue *r, bool all)
{
    if (!r || r->head == r->n)
        return;
    size_t done = all ? SIZE_MAX : ortc_backend_pack_done(r->be);
    while (r->head < r->n && r->ticket[r->head] <= done)
        release_const(p, r->slot[r->head++]);
}

/* After step si's prepare: constants it reads at run are marked so; those
 * whose last consuming step this was, all keeping packed copies, are freed
 * or queued in r (pending: per slot, consuming input slots of steps not
 * yet prepared; NULL: nothing is freed by this compile). */
static void note_packed(ortc_plan *p, const ortc_step *step, int *pending, release_queue *r)
{
    const ortc_node *n = step->node;
    for (int k = 0; k < n->n_inputs; k++) {
        ortc_value *v = n->inputs[k];
        if (!v || v->kind != ORTC_VALUE_CONSTANT || !v->constant)
            continue;
        bool packed = k < 32 && (step->ctx.packed_inputs & ((uint32_t)1 << k));
        if (!packed)
            v->constant->plain_used = true;
    }
    for (int k = 0; pending && k < n->n_inputs; k++) {
        ortc_value *v = n->inputs[k];
        if (!v || v->kind != ORTC_VALUE_CONSTANT || !v->constant)
            continue;
        int sl = SLOT(p, v);
        if (sl < 0 || pending[sl] <= 0 || --pending[sl] || !release_candidate(p->graph, v))
            continue;
        if (r->be) {
            r->slot[r->n] = sl;
            r->ticket[r->n++] = ortc_backend_pack_queued(r->be);
        } else {
            release_const(p, sl);
        }
    }
}

ortc_status ortc_plan_compile_src(ortc_session *s, const ortc_plan_src *src, ortc_plan **out)
{
    *out = NULL;
    ortc_plan *p = calloc(1, sizeof *p);
    if (!p)
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    const ortc_graph *g = src->graph;
    const ortc_plan *q = src->prefix;
    const ortc_tensor *inputs = q ? NULL : src->inputs;
    int n_outer = q ? q->n_outer : src->n_outer;
    int nv = g->n_values, ni = inputs ? g->n_inputs : 0;
    int ns = nv + n_outer;
    /* a continuation compiles its prefix's deferred nodes; a plan, them all */
    ortc_node *const *nodes = q ? q->deferred : g->nodes;
    int n_nodes = q ? q->n_deferred : g->n_nodes;
    p->graph = g;
    p->session = s;
    p->root = src->root ? src->root : p;
    p->prefix = q;
    p->n_values = nv;
    p->n_inputs = ni;
    p->n_outer = n_outer;
    p->outer = calloc((size_t)n_outer + 1, sizeof *p->outer);
    p->outer_src = calloc((size_t)n_outer + 1, sizeof *p->outer_src);
    p->key = calloc((size_t)ni + 1, sizeof *p->key);
    p->key_bytes = calloc((size_t)ni + 1, sizeof *p->key_bytes);
    p->tensors = calloc((size_t)ns + 1, sizeof *p->tensors);
    p->layouts = calloc((size_t)ns + 1, sizeof *p->layouts);
    p->bind = calloc((size_t)ns + 1, sizeof *p->bind);
    p->owned = calloc((size_t)ns + 1, sizeof *p->owned);
    p->is_static = calloc((size_t)ns + 1, sizeof *p->is_static);
    p->deferred = calloc((size_t)n_nodes + 1, sizeof *p->deferred);
    size_t n_io = 0;
    for (int i = 0; i < n_nodes; i++)
        n_io += (size_t)nodes[i]->n_inputs + (size_t)nodes[i]->n_outputs;
    p->steps = calloc((size_t)n_nodes + 1, sizeof *p->steps);
    p->ptr_pool = calloc(n_io + 1, sizeof *p->ptr_pool);
    p->layout_pool = calloc(n_io + 1, sizeof *p->layout_pool);
    p->int_pool = calloc(2 * n_io + 1, sizeof *p->int_pool);
    p->bool_pool = calloc(n_io + 1, sizeof *p->bool_pool);
    if (p->root == p && (p->pools = calloc(ORTC_MAX_CONTEXTS, sizeof *p->pools)))
        for (int k = 0; k < ORTC_MAX_CONTEXTS; k++)
            ortc_pool_init(&p->pools[k], s->opts.max_dynamic_bytes);
    if (p->root == p)
        p->stage = calloc(ORTC_MAX_CONTEXTS, sizeof *p->stage); /* zeroed: empty, no limit */
    ortc_status st = ORTC_STATUS_OK;
    /* whether this compile packs weights on the backend's second thread,
     * and whether an enclosing compile did (a subgraph's, during the
     * outer plan's prepare, packs on its own thread) */
    bool async = false, outer_async = false, paused = false;
    release_queue rel = {0};
    if (!p->outer || !p->outer_src || !p->key || !p->key_bytes || !p->tensors || !p->layouts ||
        !p->bind || !p->owned || !p->is_static || !p->steps || !p->ptr_pool || !p->layout_pool ||
        !p->int_pool || !p->bool_pool || !p->deferred ||
        (p->root == p && (!p->pools || !p->stage))) {
        st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory compiling");
        goto fail;
    }

    if (g == s->model->graph && (st = reacquire_constants(s, g)))
        goto fail;
    for (int v = 0; v < ns; v++)
        p->tensors[v].rank = -1;
    for (int v = 0; v < nv; v++) {
        ortc_value *val = g->values[v];
        if (val->kind == ORTC_VALUE_CONSTANT && val->constant) {
            p->tensors[v] = val->constant->t;
            p->is_static[v] = true;
            p->bind[v] = (ortc_binding){ORTC_BIND_CONST, 0, 0, val->constant->t.data};
            p->layouts[v] =
                (ortc_layout){.plain = true, .bytes = ortc_tensor_bytes(&val->constant->t)};
        }
    }
    if (q) {
        memcpy(p->outer, q->outer, (size_t)n_outer * sizeof *p->outer);
        memcpy(p->outer_src, q->outer_src, (size_t)n_outer * sizeof *p->outer_src);
        if ((st = bind_prefix(s, p, src)))
            goto fail;
    }
    for (int k = 0; !q && k < n_outer; k++) {
        int sl = nv + k;
        p->outer[k] = src->outer[k];
        p->outer_src[k] = src->outer_src[k];
        p->tensors[sl] = *src->outer_src[k];
        p->layouts[sl] =
            (ortc_layout){.plain = true, .bytes = ortc_tensor_bytes(src->outer_src[k])};
        if (src->outer_layouts && src->outer_layouts[k]->dynamic)
            p->layouts[sl] =
                (ortc_layout){.plain = true, .type = src->outer_layouts[k]->type, .dynamic = true};
        if (src->outer_static[k]) {
            p->is_static[sl] = true;
            p->bind[sl] = (ortc_binding){ORTC_BIND_CONST, 0, 0, src->outer_src[k]->data};
        } else {
            p->tensors[sl].data = NULL;
            p->bind[sl] = (ortc_binding){ORTC_BIND_OUTER, k, 0, NULL};
        }
    }
    dim_binding params[MAX_DIM_PARAMS];
    int n_params = 0;
    for (int i = 0; i < ni; i++) {
        ortc_value *v = g->inputs[i];
        ortc_tensor *t = &p->tensors[SLOT(p, v)];
        /* its type: as the operator compiling a subgraph says, else as the
         * file declares */
        ortc_layout lay = src->input_layouts ? src->input_layouts[i]
                          : v->type != ORTC_TYPE_TENSOR
                              ? (ortc_layout){.plain = true, .type = v->type, .dynamic = true}
                              : (ortc_layout){.plain = true, .bytes = 0};
        p->bind[SLOT(p, v)] = (ortc_binding){ORTC_BIND_INPUT, i, 0, NULL};
        if (lay.dynamic) {
            /* a sequence, an optional, or a shape only the run gives */
            *t = inputs[i];
            t->data = NULL;
            if (lay.type != ORTC_TYPE_TENSOR) {
                t->dtype = v->dtype != ORTC_DTYPE_UNDEFINED ? v->dtype : inputs[i].dtype;
                t->rank = -1;
            }
            p->key[i] = *t;
            p->layouts[SLOT(p, v)] =
                (ortc_layout){.plain = true, .type = lay.type, .dynamic = true};
            continue;
        }
        if ((st = check_input(s, i, v, &inputs[i], params, &n_params)))
            goto fail;
        *t = inputs[i];
        t->data = NULL;
        p->key[i] = *t;
        p->layouts[SLOT(p, v)] = (ortc_layout){.plain = true, .bytes = ortc_tensor_bytes(t)};
        if (src->key_data && src->key_data[i]) {
            size_t bytes = ortc_tensor_bytes(&inputs[i]);
            if (bytes && !inputs[i].data) {
                st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_ARGUMENT,
                                  "input '%s' determines output shapes, so its data is needed "
                                  "to compile; got NULL",
                                  v->name);
                goto fail;
            }
            p->key[i].data = malloc(bytes ? bytes : 1);
            if (!p->key[i].data) {
                st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
                goto fail;
            }
            if (bytes)
                memcpy(p->key[i].data, inputs[i].data, bytes);
            p->key_bytes[i] = bytes ? bytes : 1;
            t->data = p->key[i].data;
            p->is_static[SLOT(p, v)] = true;
        }
    }
    for (int k = g->n_outputs - 1; !q && k >= 0; k--) {
        ortc_value *v = g->outputs[k];
        if (v->graph == g && v->kind == ORTC_VALUE_INTERMEDIATE)
            p->bind[SLOT(p, v)] = (ortc_binding){ORTC_BIND_OUTPUT, k, 0, NULL};
    }

    /* infer + fold, node by node; nodes that must wait for data-dependent
     * shapes go to the continuation (segment.c) */
    size_t io_off = 0;
    int n_steps = 0;
    for (int i = 0; i < n_nodes; i++) {
        ortc_node *n = nodes[i];
        if (!n->op) {
            st = ortc_err_set(&s->err, ORTC_STATUS_UNSUPPORTED,
                              "node '%s': operator %s is not supported at opset %d", n->name,
                              n->op_type, n->opset);
            goto fail;
        }
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] && SLOT(p, n->inputs[k]) < 0) {
                st = ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                                  "internal: node '%s' reads '%s', which its plan cannot see",
                                  n->name, n->inputs[k]->name);
                goto fail;
            }
        bool defer;
        if ((st = must_defer(s, p, n, &defer)))
            goto fail;
        if (defer) {
            for (int k = 0; k < n->n_outputs; k++)
                if (n->outputs[k])
                    p->bind[SLOT(p, n->outputs[k])] =
                        (ortc_binding){ORTC_BIND_DEFERRED, 0, 0, NULL};
            p->deferred[p->n_deferred++] = n;
            continue;
        }
        ortc_step *step = &p->steps[n_steps];
        step->node = n;
        ctx_bind(p, &step->ctx, n, p->ptr_pool + io_off, p->layout_pool + io_off,
                 p->int_pool + 2 * io_off, p->bool_pool + io_off, s);
        io_off += (size_t)n->n_inputs + (size_t)n->n_outputs;
        /* infer sees data only for static inputs; shapes of others */
        ortc_eval_env env = eval_env(s);
        if ((st = ortc_eval_infer(&step->ctx, &env, NULL)))
            goto fail;
        bool dynamic = false;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] && p->layouts[SLOT(p, n->outputs[k])].dynamic)
                dynamic = true;
        if (!dynamic && ortc_eval_foldable(n, value_static, p) && !makes_strings(&step->ctx)) {
            if ((st = fold_node(s, p, &step->ctx)))
                goto fail;
            memset(step, 0, sizeof *step);
            p->stats.n_folded++;
            continue;
        }
        step->use_reference = s->opts.reference && n->op->reference;
        n_steps++;
    }
    p->n_steps = n_steps;
    p->stats.n_deferred_nodes = (size_t)p->n_deferred;
    if ((st = find_cuts(s, p)))
        goto fail;

    for (int k = 0; k < g->n_outputs; k++) {
        ortc_value *v = g->outputs[k];
        int sl = SLOT(p, v);
        if (sl < 0 ||
            (p->tensors[sl].rank < 0 && !p->layouts[sl].dynamic &&
             p->bind[sl].kind != ORTC_BIND_DEFERRED && p->bind[sl].kind != ORTC_BIND_PREFIX)) {
            st = ortc_err_set(&s->err, ORTC_STATUS_INVALID_MODEL,
                              "graph output '%s' has no shape after inference", v->name);
            goto fail;
        }
    }

    /* prepare kernels in order; layouts flow from producers to consumers */
    if (n_steps && (st = ensure_backend(s)))
        goto fail;
    if (s->backend)
        ortc_backend_enter(s->backend);
    /* the root plan's weights are packed on a second thread while this one
     * creates the next steps' primitives: when the session has threads to
     * spare; the run waits for none of it (all done before plan_memory) */
    outer_async = ortc_backend_pack_async(s->backend, false);
    paused = true;
    async = !outer_async && !q && g == s->model->graph && s->opts.threads > 1 && n_steps > 1;
    if (async)
        ortc_backend_pack_async(s->backend, true);
    size_t scratch = 0;
    int *pending = NULL;
    if (release_allowed(s, p, g) && (pending = calloc((size_t)ns + 1, sizeof *pending))) {
        for (int si = 0; si < n_steps; si++)
            for (int k = 0; k < p->steps[si].node->n_inputs; k++) {
                ortc_value *v = p->steps[si].node->inputs[k];
                if (release_candidate(g, v) && SLOT(p, v) >= 0)
                    pending[SLOT(p, v)]++;
            }
        if (async) {
            rel.slot = malloc(((size_t)ns + 1) * sizeof *rel.slot);
            rel.ticket = malloc(((size_t)ns + 1) * sizeof *rel.ticket);
            if (!rel.slot || !rel.ticket) { /* then nothing is freed */
                free(pending);
                pending = NULL;
            }
            rel.be = s->backend;
        }
    }
    for (int si = 0; si < n_steps; si++) {
        ortc_step *step = &p->steps[si];
        ortc_node *n = step->node;
        step->ctx.backend = s->backend;
        bool *ok = (bool *)step->ctx.out_blocked_ok;
        for (int k = 0; k < n->n_outputs; k++)
            ok[k] = blocked_ok(n->outputs[k]);
        if (!step->use_reference && (st = ortc_op_prepare(n->op, &step->ctx))) {
            free(pending);
            goto fail;
        }
        note_packed(p, step, pending, &rel);
        release_ready(p, &rel, false);
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] && !p->layouts[SLOT(p, n->outputs[k])].plain && !ok[k]) {
                st = ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                                  "internal: node '%s' chose a blocked layout for output %d "
                                  "whose consumers need plain data",
                                  n->name, k);
                free(pending);
                goto fail;
            }
        if (step->ctx.scratch_bytes > scratch)
            scratch = step->ctx.scratch_bytes;
    }
    free(pending);
    if (async) {
        async = false;
        ortc_backend_pack_async(s->backend, false);
        if ((st = ortc_backend_pack_wait(s->backend, &s->err)))
            goto fail;
        release_ready(p, &rel, true);
    }
    paused = false;
    ortc_backend_pack_async(s->backend, outer_async);
    p->stats.n_steps = (size_t)n_steps;
    p->stats.scratch_bytes = scratch;
    if ((st = plan_memory(s, p)))
        goto fail;
    if (scratch) {
        p->scratch = alloc_aligned(scratch);
        if (!p->scratch) {
            st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                              "out of memory: %zu bytes of kernel scratch", scratch);
            goto fail;
        }
    }
    for (int si = 0; si < n_steps; si++) {
        p->steps[si].ctx.scratch = p->scratch;
        p->steps[si].ctx.err = &p->run_err; /* kernel errors of context 0 */
    }
    if (!(p->shapes = malloc(((size_t)ns + 1) * sizeof *p->shapes))) {
        st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory compiling");
        goto fail;
    }
    for (int v = 0; v < ns; v++) {
        p->shapes[v] = p->tensors[v];
        p->shapes[v].data = NULL;
    }
    free(rel.slot);
    free(rel.ticket);
    *out = p;
    return ORTC_STATUS_OK;
fail:
    /* the packing thread may still fill buffers of this plan's steps; a
     * failure of its (earlier) job is the one reported */
    if (async) {
        ortc_backend_pack_async(s->backend, false);
        ortc_status pst = ortc_backend_pack_wait(s->backend, &s->err);
        if (pst)
            st = pst;
    }
    if (paused)
        ortc_backend_pack_async(s->backend, outer_async);
    free(rel.slot);
    free(rel.ticket);
    /* steps not yet counted (one failing in infer, one whose operator
     * compiled sub-plans) still own state; untouched steps are zero */
    p->n_steps = n_nodes;
    ortc_plan_free(p);
    return st;
}

ortc_status ortc_plan_compile(ortc_session *s, const ortc_tensor *inputs, ortc_plan **out)
{
    ortc_plan_src src = {.graph = s->model->graph, .inputs = inputs, .key_data = s->key_data_input};
    return ortc_plan_compile_src(s, &src, out);
}
