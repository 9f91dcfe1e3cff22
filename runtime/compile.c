/* compile.c — turns the graph plus concrete input shapes into a plan:
 * shape/dtype inference node by node, folding of nodes whose inputs are
 * known at compile time, kernel preparation, views/in-place, and memory
 * planning into one arena. Running a plan is session.c's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "planner.h"
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
    for (int i = 0; p->steps && i < p->n_steps; i++) {
        ortc_step *st = &p->steps[i];
        if (st->node && st->node->op && st->node->op->release && st->ctx.state)
            st->node->op->release(&st->ctx);
        ortc_plan_free(st->branch[0]);
        ortc_plan_free(st->branch[1]);
        free(st->branch_out);
    }
    free(p->steps);
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
    free(p->layouts);
    free(p->bind);
    free(p->is_static);
    free(p->ptr_pool);
    free(p->layout_pool);
    free(p->int_pool);
    free(p->bool_pool);
    free(p->arena);
    free(p->scratch);
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

/* Points ctx's arrays at pool storage for node n. */
static void ctx_bind(ortc_plan *p, ortc_opctx *c, ortc_node *n, ortc_tensor **pp, ortc_layout **lp,
                     int *ip, bool *bp, ortc_session *s)
{
    memset(c, 0, sizeof *c);
    c->node = n;
    c->n_in = n->n_inputs;
    c->n_out = n->n_outputs;
    c->in = pp;
    c->out = pp + n->n_inputs;
    c->in_layout = lp;
    c->out_layout = lp + n->n_inputs;
    c->inplace = ip;
    c->view = ip + n->n_outputs;
    c->out_blocked_ok = bp;
    c->threads = s->opts.threads;
    c->err = &s->err;
    for (int i = 0; i < n->n_inputs; i++) {
        ortc_value *v = n->inputs[i];
        c->in[i] = v ? &p->tensors[SLOT(p, v)] : NULL;
        c->in_layout[i] = v ? &p->layouts[SLOT(p, v)] : NULL;
    }
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_value *v = n->outputs[k];
        c->out[k] = v ? &p->tensors[SLOT(p, v)] : NULL;
        c->out_layout[k] = v ? &p->layouts[SLOT(p, v)] : NULL;
        c->inplace[k] = -1;
        c->view[k] = -1;
    }
}

static ortc_status ensure_backend(ortc_session *s)
{
    if (s->backend || s->opts.reference)
        return ORTC_STATUS_OK;
    return ortc_backend_create(&s->backend, s->opts.threads, &s->err);
}

/* Checks out[k] after infer and sets its plain layout. */
static ortc_status check_outputs(ortc_session *s, ortc_plan *p, ortc_node *n)
{
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_value *v = n->outputs[k];
        if (!v)
            continue;
        ortc_tensor *t = &p->tensors[SLOT(p, v)];
        char sh[160];
        if (t->dtype == ORTC_DTYPE_UNDEFINED || t->rank < 0 || t->rank > ORTC_MAX_RANK)
            return ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                                "node '%s' (%s): shape inference left output '%s' undefined",
                                n->name, n->op_type, v->name);
        if (ortc_tensor_numel(t) < 0 || (ortc_tensor_numel(t) > 0 && ortc_tensor_bytes(t) == 0))
            return ortc_err_set(&s->err, ORTC_STATUS_LIMIT_EXCEEDED,
                                "node '%s' (%s): output '%s' shape %s is too large", n->name,
                                n->op_type, v->name,
                                ortc_shape_str(sh, sizeof sh, t->rank, t->dims));
        if (ortc_tensor_bytes(t) > s->opts.max_tensor_bytes)
            return ortc_err_set(&s->err, ORTC_STATUS_LIMIT_EXCEEDED,
                                "node '%s' (%s): output '%s' %s %s needs %zu bytes, above the "
                                "limit of %zu bytes per tensor (session option "
                                "max_tensor_bytes)",
                                n->name, n->op_type, v->name, ortc_dtype_name(t->dtype),
                                ortc_shape_str(sh, sizeof sh, t->rank, t->dims),
                                ortc_tensor_bytes(t), s->opts.max_tensor_bytes);
        p->layouts[SLOT(p, v)] = (ortc_layout){true, ortc_tensor_bytes(t), NULL};
        /* a declared graph output must agree with what we inferred */
        if (v->is_output && v->declared) {
            bool bad = v->dtype != ORTC_DTYPE_UNDEFINED && v->dtype != t->dtype;
            bad |= v->rank >= 0 && v->rank != t->rank;
            for (int d = 0; !bad && v->rank >= 0 && d < t->rank; d++)
                bad |= v->dims[d].value >= 0 && v->dims[d].value != t->dims[d];
            if (bad) {
                char want[160];
                return ortc_err_set(&s->err, ORTC_STATUS_INVALID_MODEL,
                                    "graph output '%s': node '%s' (%s) produces %s %s but the "
                                    "model declares %s %s",
                                    v->name, n->name, n->op_type, ortc_dtype_name(t->dtype),
                                    ortc_shape_str(sh, sizeof sh, t->rank, t->dims),
                                    ortc_dtype_name(v->dtype),
                                    ortc_value_shape_str(want, sizeof want, v));
            }
        }
    }
    return ORTC_STATUS_OK;
}

/* Evaluates node n now (all inputs known): outputs become plan-owned
 * constants. */
static ortc_status fold_node(ortc_session *s, ortc_plan *p, ortc_opctx *c)
{
    ortc_node *n = (ortc_node *)c->node;
    const ortc_operator *op = n->op;
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
    ortc_status st = ORTC_STATUS_OK;
    bool reference = s->opts.reference && op->reference;
    if (reference) {
        st = op->reference(c);
    } else {
        if ((st = ensure_backend(s)))
            return st;
        c->backend = s->backend;
        ortc_backend_enter(s->backend);
        void *scratch = NULL;
        st = ortc_op_prepare(op, c);
        if (!st && c->scratch_bytes) {
            scratch = alloc_aligned(c->scratch_bytes);
            if (!scratch)
                st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
            c->scratch = scratch;
        }
        for (int k = 0; !st && k < n->n_outputs; k++)
            if (n->outputs[k] && !p->layouts[SLOT(p, n->outputs[k])].plain)
                st = ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                                  "node '%s' chose a blocked layout for a folded output", n->name);
        bool all_views = n->n_outputs > 0;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] && c->view[k] < 0)
                all_views = false;
        if (!st && all_views) {
            for (int k = 0; k < n->n_outputs; k++)
                if (n->outputs[k])
                    memcpy(c->out[k]->data, c->in[c->view[k]]->data,
                           p->layouts[SLOT(p, n->outputs[k])].bytes);
        } else if (!st) {
            st = op->run(c);
            if (!st && s->backend) /* none in reference mode */
                st = ortc_backend_wait(s->backend, &s->err);
        }
        if (op->release)
            op->release(c);
        free(scratch);
        c->state = NULL;
    }
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_value *v = n->outputs[k];
        if (!v)
            continue;
        p->is_static[SLOT(p, v)] = true;
        p->bind[SLOT(p, v)] = (ortc_binding){ORTC_BIND_CONST, 0, 0, p->owned[SLOT(p, v)]};
    }
    return st;
}

static bool node_foldable(const ortc_plan *p, const ortc_node *n)
{
    if (n->op->flags & ORTC_OP_NO_FOLD)
        return false;
    if (n->n_implicit)
        return false;
    for (int a = 0; a < n->n_attrs; a++)
        if (n->attrs[a].type == ORTC_ATTR_GRAPH || n->attrs[a].type == ORTC_ATTR_GRAPHS)
            return false;
    if (n->op->flags & ORTC_OP_SHAPE_ONLY)
        return true;
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] && !p->is_static[SLOT(p, n->inputs[i])])
            return false;
    return true;
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

static ortc_status plan_memory(ortc_session *s, ortc_plan *p)
{
    const ortc_graph *g = p->graph;
    int nv = p->n_values + p->n_outer;
    int *def = malloc((size_t)nv * sizeof *def);
    int *last = malloc((size_t)nv * sizeof *last);
    int *root = malloc((size_t)nv * sizeof *root);
    int *buf_of = malloc((size_t)nv * sizeof *buf_of);
    ortc_plan_buffer *bufs = calloc((size_t)nv + 1, sizeof *bufs);
    if (!def || !last || !root || !buf_of || !bufs) {
        free(def);
        free(last);
        free(root);
        free(buf_of);
        free(bufs);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory planning memory");
    }
    for (int v = 0; v < nv; v++) {
        def[v] = -1;
        last[v] = -1;
        root[v] = v;
        buf_of[v] = -1;
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

    size_t n_bufs = 0, naive = 0;
    for (int si = 0; si < p->n_steps; si++) {
        ortc_step *st = &p->steps[si];
        ortc_node *n = st->node;
        bool all_views = n->n_outputs > 0;
        for (int k = 0; k < n->n_outputs; k++) {
            ortc_value *w = n->outputs[k];
            if (!w)
                continue;
            int wi = SLOT(p, w);
            if (p->bind[wi].kind == ORTC_BIND_OUTPUT) {
                st->ctx.view[k] = -1; /* caller memory: compute into it */
                st->ctx.inplace[k] = -1;
                all_views = false;
                continue;
            }
            naive += p->layouts[wi].bytes;
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
    ortc_status st = ORTC_STATUS_OK;
    if (arena == (size_t)-1) {
        st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory planning memory");
        goto out;
    }
#ifndef NDEBUG
    if (ortc_plan_has_conflict(bufs, n_bufs)) {
        st = ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                          "internal: memory plan has overlapping live buffers");
        goto out;
    }
#endif
    for (int v = 0; v < nv; v++)
        if (p->bind[v].kind == ORTC_BIND_ARENA && buf_of[v] >= 0)
            p->bind[v].offset = bufs[buf_of[v]].offset;
    p->stats.arena_bytes = arena;
    p->stats.lower_bound_bytes = ortc_plan_lower_bound(bufs, n_bufs);
    p->stats.naive_bytes = naive;
    if (arena > s->opts.max_arena_bytes ||
        p->stats.scratch_bytes > s->opts.max_arena_bytes - arena) {
        st = ortc_err_set(&s->err, ORTC_STATUS_LIMIT_EXCEEDED,
                          "the activations need an arena of %zu bytes plus %zu of scratch, above "
                          "the limit of %zu bytes (session option max_arena_bytes)",
                          arena, p->stats.scratch_bytes, s->opts.max_arena_bytes);
        goto out;
    }
    if (arena) {
        p->arena = alloc_aligned(arena);
        if (!p->arena)
            st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                              "out of memory: activation arena of %zu bytes", arena);
#ifndef NDEBUG
        else
            memset(p->arena, 0xA5, arena); /* poison: reading unwritten memory shows */
#endif
    }
out:
    free(def);
    free(last);
    free(root);
    free(buf_of);
    free(bufs);
    return st;
}

/* ---- compile --------------------------------------------------------------------- */

static ortc_status compile_graph(ortc_session *s, const ortc_graph *g, const ortc_tensor *inputs,
                                 int n_outer, ortc_value *const *outer, ortc_tensor **outer_src,
                                 const bool *outer_static, ortc_plan **out);

/* If: compile the branch(es) against the enclosing plan's current tensors;
 * the If outputs take the branch outputs' dtype and shape. */
static ortc_status compile_if(ortc_session *s, ortc_plan *p, ortc_step *step)
{
    ortc_node *n = step->node;
    ortc_opctx *c = &step->ctx;
    char sh[160];
    const ortc_attr *br[2] = {ortc_node_attr(n, "then_branch"), ortc_node_attr(n, "else_branch")};
    for (int b = 0; b < 2; b++)
        if (!br[b] || br[b]->type != ORTC_ATTR_GRAPH || !br[b]->g)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' must be a graph",
                                 b ? "else_branch" : "then_branch");
    if (ortc_op_check_arity(c, 1, 1, 0, 4096))
        return c->err->status;
    const ortc_tensor *cond = c->in[0];
    if (cond->dtype != ORTC_DTYPE_BOOL || ortc_tensor_numel(cond) != 1)
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "condition must be one bool element; got %s %s",
            ortc_dtype_name(cond->dtype), ortc_shape_str(sh, sizeof sh, cond->rank, cond->dims));
    for (int b = 0; b < 2; b++)
        if (br[b]->g->n_outputs != n->n_outputs)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL, "%s has %d outputs; the If node has %d",
                b ? "else_branch" : "then_branch", br[b]->g->n_outputs, n->n_outputs);
    int k_outer = n->n_implicit;
    ortc_tensor **src = calloc((size_t)k_outer + 1, sizeof *src);
    bool *stat = calloc((size_t)k_outer + 1, sizeof *stat);
    step->branch_out = calloc((size_t)n->n_outputs + 1, sizeof *step->branch_out);
    if (!src || !stat || !step->branch_out) {
        free(src);
        free(stat);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    ortc_status st = ORTC_STATUS_OK;
    for (int k = 0; k < k_outer; k++) {
        int sl = SLOT(p, n->implicit_inputs[k]);
        if (sl < 0) {
            st = ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: outer value '%s' unseen",
                               n->implicit_inputs[k]->name);
            goto out;
        }
        src[k] = &p->tensors[sl];
        stat[k] = p->is_static[sl];
    }
    /* a condition known now selects one branch for good */
    int only = p->is_static[SLOT(p, n->inputs[0])] ? (*(const uint8_t *)cond->data ? 0 : 1) : -1;
    for (int b = 0; b < 2; b++) {
        if (only >= 0 && b != only)
            continue;
        st = compile_graph(s, br[b]->g, NULL, k_outer, n->implicit_inputs, src, stat,
                           &step->branch[b]);
        if (st) {
            ortc_err_prefix(&s->err, "node '%s' (If) %s", n->name,
                            b ? "else_branch" : "then_branch");
            goto out;
        }
    }
    for (int k = 0; k < n->n_outputs; k++) {
        if (!c->out[k])
            continue;
        const ortc_tensor *t[2] = {NULL, NULL};
        for (int b = 0; b < 2; b++)
            if (step->branch[b]) {
                const ortc_graph *bg = br[b]->g;
                t[b] = &step->branch[b]->tensors[SLOT(step->branch[b], bg->outputs[k])];
            }
        const ortc_tensor *first = t[0] ? t[0] : t[1];
        if (t[0] && t[1]) {
            bool same = t[0]->dtype == t[1]->dtype && t[0]->rank == t[1]->rank;
            for (int d = 0; same && d < t[0]->rank; d++)
                same = t[0]->dims[d] == t[1]->dims[d];
            if (!same) {
                char s2[160];
                st = ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                   "output %d: then_branch gives %s %s, else_branch %s %s; an "
                                   "output shape that depends on the condition's value is not "
                                   "supported",
                                   k, ortc_dtype_name(t[0]->dtype),
                                   ortc_shape_str(sh, sizeof sh, t[0]->rank, t[0]->dims),
                                   ortc_dtype_name(t[1]->dtype),
                                   ortc_shape_str(s2, sizeof s2, t[1]->rank, t[1]->dims));
                goto out;
            }
        }
        ortc_op_set_output(c, k, first->dtype, first->rank, first->dims);
    }
out:
    free(src);
    free(stat);
    return st;
}

static ortc_status compile_graph(ortc_session *s, const ortc_graph *g, const ortc_tensor *inputs,
                                 int n_outer, ortc_value *const *outer, ortc_tensor **outer_src,
                                 const bool *outer_static, ortc_plan **out)
{
    *out = NULL;
    ortc_plan *p = calloc(1, sizeof *p);
    if (!p)
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    int nv = g->n_values, ni = inputs ? g->n_inputs : 0;
    int ns = nv + n_outer;
    p->graph = g;
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
    size_t n_io = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n_io += (size_t)g->nodes[i]->n_inputs + (size_t)g->nodes[i]->n_outputs;
    p->steps = calloc((size_t)g->n_nodes + 1, sizeof *p->steps);
    p->ptr_pool = calloc(n_io + 1, sizeof *p->ptr_pool);
    p->layout_pool = calloc(n_io + 1, sizeof *p->layout_pool);
    p->int_pool = calloc(2 * n_io + 1, sizeof *p->int_pool);
    p->bool_pool = calloc(n_io + 1, sizeof *p->bool_pool);
    ortc_status st = ORTC_STATUS_OK;
    if (!p->outer || !p->outer_src || !p->key || !p->key_bytes || !p->tensors || !p->layouts ||
        !p->bind || !p->owned || !p->is_static || !p->steps || !p->ptr_pool || !p->layout_pool ||
        !p->int_pool || !p->bool_pool) {
        st = ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory compiling");
        goto fail;
    }

    for (int v = 0; v < ns; v++)
        p->tensors[v].rank = -1;
    for (int v = 0; v < nv; v++) {
        ortc_value *val = g->values[v];
        if (val->kind == ORTC_VALUE_CONSTANT && val->constant) {
            p->tensors[v] = val->constant->t;
            p->is_static[v] = true;
            p->bind[v] = (ortc_binding){ORTC_BIND_CONST, 0, 0, val->constant->t.data};
            p->layouts[v] = (ortc_layout){true, ortc_tensor_bytes(&val->constant->t), NULL};
        }
    }
    for (int k = 0; k < n_outer; k++) {
        int sl = nv + k;
        p->outer[k] = outer[k];
        p->outer_src[k] = outer_src[k];
        p->tensors[sl] = *outer_src[k];
        p->layouts[sl] = (ortc_layout){true, ortc_tensor_bytes(outer_src[k]), NULL};
        if (outer_static[k]) {
            p->is_static[sl] = true;
            p->bind[sl] = (ortc_binding){ORTC_BIND_CONST, 0, 0, outer_src[k]->data};
        } else {
            p->tensors[sl].data = NULL;
            p->bind[sl] = (ortc_binding){ORTC_BIND_OUTER, k, 0, NULL};
        }
    }
    dim_binding params[MAX_DIM_PARAMS];
    int n_params = 0;
    for (int i = 0; i < ni; i++) {
        ortc_value *v = g->inputs[i];
        if ((st = check_input(s, i, v, &inputs[i], params, &n_params)))
            goto fail;
        ortc_tensor *t = &p->tensors[SLOT(p, v)];
        *t = inputs[i];
        t->data = NULL;
        p->key[i] = *t;
        p->bind[SLOT(p, v)] = (ortc_binding){ORTC_BIND_INPUT, i, 0, NULL};
        p->layouts[SLOT(p, v)] = (ortc_layout){true, ortc_tensor_bytes(t), NULL};
        if (s->key_data_input[i]) {
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
    for (int k = g->n_outputs - 1; k >= 0; k--) {
        ortc_value *v = g->outputs[k];
        if (v->graph == g && v->kind == ORTC_VALUE_INTERMEDIATE)
            p->bind[SLOT(p, v)] = (ortc_binding){ORTC_BIND_OUTPUT, k, 0, NULL};
    }

    /* infer + fold, node by node */
    size_t io_off = 0;
    int n_steps = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *n = g->nodes[i];
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
        ortc_step *step = &p->steps[n_steps];
        step->node = n;
        ctx_bind(p, &step->ctx, n, p->ptr_pool + io_off, p->layout_pool + io_off,
                 p->int_pool + 2 * io_off, p->bool_pool + io_off, s);
        io_off += (size_t)n->n_inputs + (size_t)n->n_outputs;
        if (n->op->flags & ORTC_OP_CONTROL_FLOW) {
            if ((st = compile_if(s, p, step)) || (st = check_outputs(s, p, n)))
                goto fail;
            n_steps++;
            continue;
        }
        /* infer sees data only for static inputs; shapes of others */
        if ((st = n->op->infer(&step->ctx)))
            goto fail;
        if ((st = check_outputs(s, p, n)))
            goto fail;
        if (node_foldable(p, n)) {
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

    for (int k = 0; k < g->n_outputs; k++) {
        ortc_value *v = g->outputs[k];
        int sl = SLOT(p, v);
        if (sl < 0 || p->tensors[sl].rank < 0) {
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
    size_t scratch = 0;
    for (int si = 0; si < n_steps; si++) {
        ortc_step *step = &p->steps[si];
        ortc_node *n = step->node;
        step->ctx.backend = s->backend;
        if (n->op->flags & ORTC_OP_CONTROL_FLOW)
            continue;
        bool *ok = (bool *)step->ctx.out_blocked_ok;
        for (int k = 0; k < n->n_outputs; k++)
            ok[k] = blocked_ok(n->outputs[k]);
        if (!step->use_reference && (st = ortc_op_prepare(n->op, &step->ctx)))
            goto fail;
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] && !p->layouts[SLOT(p, n->outputs[k])].plain && !ok[k]) {
                st = ortc_err_set(&s->err, ORTC_STATUS_RUNTIME_ERROR,
                                  "internal: node '%s' chose a blocked layout for output %d "
                                  "whose consumers need plain data",
                                  n->name, k);
                goto fail;
            }
        if (step->ctx.scratch_bytes > scratch)
            scratch = step->ctx.scratch_bytes;
    }
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
    *out = p;
    return ORTC_STATUS_OK;
fail:
    /* steps not yet counted (one failing in infer, an If whose branches were
     * compiled) still own state; untouched steps are zero */
    p->n_steps = g->n_nodes;
    ortc_plan_free(p);
    return st;
}

ortc_status ortc_plan_compile(ortc_session *s, const ortc_tensor *inputs, ortc_plan **out)
{
    return compile_graph(s, s->model->graph, inputs, 0, NULL, NULL, NULL, out);
}
