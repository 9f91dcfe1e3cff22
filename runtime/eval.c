/* eval.c — one node evaluated outside a running plan (see eval.h): its
 * operator context, shape inference with the runtime's output checks,
 * foldability, and computing it now. compile.c, the graph passes and the
 * operator test harness all go through here; none of them plans memory or
 * runs graphs here.
 */
#include "eval.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"

void ortc_eval_ctx_bind(ortc_opctx *c, const ortc_node *n, ortc_tensor **tp, ortc_layout **lp,
                        int *ip, bool *bp, int threads, ortc_errbuf *err)
{
    memset(c, 0, sizeof *c);
    c->node = n;
    c->n_in = n->n_inputs;
    c->n_out = n->n_outputs;
    c->in = tp;
    c->out = tp + n->n_inputs;
    c->in_layout = lp;
    c->out_layout = lp + n->n_inputs;
    c->inplace = ip;
    c->view = ip + n->n_outputs;
    c->out_blocked_ok = bp;
    c->threads = threads;
    c->err = err;
    for (int i = 0; i < n->n_inputs + n->n_outputs; i++) {
        tp[i] = NULL;
        lp[i] = NULL;
    }
    for (int k = 0; k < n->n_outputs; k++) {
        ip[k] = -1;
        ip[n->n_outputs + k] = -1;
        bp[k] = false;
    }
}

static size_t round_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

int ortc_node_ctx_init(ortc_node_ctx *x, const ortc_node *n, int threads, ortc_errbuf *err)
{
    memset(x, 0, sizeof *x);
    size_t m = (size_t)n->n_inputs + (size_t)n->n_outputs;
    size_t o = (size_t)n->n_outputs;
    /* one block: tensors, layouts, their pointers, ints, bools */
    size_t off_l = round_up(m * sizeof(ortc_tensor), alignof(ortc_layout));
    size_t off_tp = round_up(off_l + m * sizeof(ortc_layout), alignof(ortc_tensor *));
    size_t off_lp = off_tp + m * sizeof(ortc_tensor *);
    size_t off_i = round_up(off_lp + m * sizeof(ortc_layout *), alignof(int));
    size_t off_b = off_i + 2 * o * sizeof(int);
    char *b = calloc(1, off_b + o * sizeof(bool) + 1);
    if (!b)
        return -1;
    x->block = b;
    x->t = (ortc_tensor *)(void *)b;
    x->l = (ortc_layout *)(void *)(b + off_l);
    ortc_opctx *c = &x->c;
    ortc_eval_ctx_bind(c, n, (ortc_tensor **)(void *)(b + off_tp),
                       (ortc_layout **)(void *)(b + off_lp), (int *)(void *)(b + off_i),
                       (bool *)(b + off_b), threads, err);
    for (size_t j = 0; j < m; j++) {
        const ortc_value *v = (int)j < n->n_inputs ? n->inputs[j] : n->outputs[j - n->n_inputs];
        if (!v)
            continue;
        x->t[j].dtype = ORTC_DTYPE_UNDEFINED;
        x->t[j].rank = -1;
        /* inputs: the type the file declares (outputs: infer sets it) */
        x->l[j] = (ortc_layout){.plain = true, .bytes = 0};
        if ((int)j < n->n_inputs && v->type != ORTC_TYPE_TENSOR)
            x->l[j] = (ortc_layout){.plain = true, .type = v->type, .dynamic = true};
        c->in[j] = &x->t[j]; /* c->out == c->in + n_in */
        c->in_layout[j] = &x->l[j];
    }
    return 0;
}

void ortc_node_ctx_free(ortc_node_ctx *x)
{
    free(x->block);
    memset(x, 0, sizeof *x);
}

/* ---- inference ------------------------------------------------------------------- */

/* Output k of data-dependent size: what infer can say is consistent (its
 * type, its dtype, the dims it knows) and agrees with what the model
 * declares; the size is checked when a run makes it (operator.h). */
static ortc_status check_dynamic_output(ortc_opctx *c, int k)
{
    const ortc_node *n = c->node;
    const ortc_value *v = n->outputs[k];
    const ortc_tensor *t = c->out[k];
    ortc_layout *lay = c->out_layout[k];
    char sh[160];
    bool bad = t->rank < -1 || t->rank > ORTC_MAX_RANK || lay->type > ORTC_TYPE_OPTIONAL_SEQUENCE;
    for (int d = 0; !bad && d < t->rank; d++)
        bad = t->dims[d] < -1;
    if (bad || (lay->type == ORTC_TYPE_TENSOR && t->dtype == ORTC_DTYPE_UNDEFINED))
        return ortc_err_set(c->err, ORTC_STATUS_RUNTIME_ERROR,
                            "node '%s' (%s): shape inference left output '%s' undefined", n->name,
                            n->op_type, v->name);
    if (v->is_output && v->declared) {
        bool differ = v->type != lay->type;
        differ |= v->dtype != ORTC_DTYPE_UNDEFINED && t->dtype != ORTC_DTYPE_UNDEFINED &&
                  v->dtype != t->dtype;
        /* a tensor's known dims against the declared ones (a sequence's
         * tensors may each have another shape) */
        if (lay->type == ORTC_TYPE_TENSOR || lay->type == ORTC_TYPE_OPTIONAL_TENSOR) {
            differ |= v->rank >= 0 && t->rank >= 0 && v->rank != t->rank;
            for (int d = 0; !differ && v->rank >= 0 && d < t->rank; d++)
                differ |=
                    v->dims[d].value >= 0 && t->dims[d] >= 0 && v->dims[d].value != t->dims[d];
        }
        if (differ) {
            char want[160];
            return ortc_err_set(
                c->err, ORTC_STATUS_INVALID_MODEL,
                "graph output '%s': node '%s' (%s) produces a %s of %s %s but the "
                "model declares a %s of %s %s",
                v->name, n->name, n->op_type, ortc_type_name(lay->type), ortc_dtype_name(t->dtype),
                ortc_shape_str(sh, sizeof sh, t->rank, t->dims), ortc_type_name(v->type),
                ortc_dtype_name(v->dtype), ortc_value_shape_str(want, sizeof want, v));
        }
    }
    *lay = (ortc_layout){.plain = true, .type = lay->type, .dynamic = true};
    return ORTC_STATUS_OK;
}

/* The runtime's checks of output k after infer (see eval.h). */
static ortc_status check_output(ortc_opctx *c, int k, const ortc_eval_env *env, bool *fatal)
{
    const ortc_node *n = c->node;
    const ortc_value *v = n->outputs[k];
    const ortc_tensor *t = c->out[k];
    char sh[160];
    ortc_layout *lay = c->out_layout[k];
    if (lay->dynamic || lay->type != ORTC_TYPE_TENSOR)
        return check_dynamic_output(c, k);
    if (v->is_output && v->declared && v->type != ORTC_TYPE_TENSOR)
        return ortc_err_set(c->err, ORTC_STATUS_INVALID_MODEL,
                            "graph output '%s': node '%s' (%s) produces a tensor but the model "
                            "declares a %s",
                            v->name, n->name, n->op_type, ortc_type_name(v->type));
    if (t->dtype == ORTC_DTYPE_UNDEFINED || t->rank < 0 || t->rank > ORTC_MAX_RANK)
        return ortc_err_set(c->err, ORTC_STATUS_RUNTIME_ERROR,
                            "node '%s' (%s): shape inference left output '%s' undefined", n->name,
                            n->op_type, v->name);
    if (ortc_tensor_numel(t) < 0 || (ortc_tensor_numel(t) > 0 && ortc_tensor_bytes(t) == 0))
        return ortc_err_set(c->err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "node '%s' (%s): output '%s' shape %s is too large", n->name,
                            n->op_type, v->name, ortc_shape_str(sh, sizeof sh, t->rank, t->dims));
    size_t limit = env->max_tensor_bytes ? env->max_tensor_bytes : ORTC_DEFAULT_MAX_TENSOR_BYTES;
    if (ortc_tensor_bytes(t) > limit) {
        *fatal = true;
        return ortc_err_set(env->err, ORTC_STATUS_LIMIT_EXCEEDED,
                            "node '%s' (%s): output '%s' %s %s needs %zu bytes, above the limit of "
                            "%zu bytes per tensor (session option max_tensor_bytes)",
                            n->name, n->op_type, v->name, ortc_dtype_name(t->dtype),
                            ortc_shape_str(sh, sizeof sh, t->rank, t->dims), ortc_tensor_bytes(t),
                            limit);
    }
    /* a declared graph output must agree with what was inferred */
    if (v->is_output && v->declared) {
        bool bad = v->dtype != ORTC_DTYPE_UNDEFINED && v->dtype != t->dtype;
        bad |= v->rank >= 0 && v->rank != t->rank;
        for (int d = 0; !bad && v->rank >= 0 && d < t->rank; d++)
            bad |= v->dims[d].value >= 0 && v->dims[d].value != t->dims[d];
        if (bad) {
            char want[160];
            return ortc_err_set(c->err, ORTC_STATUS_INVALID_MODEL,
                                "graph output '%s': node '%s' (%s) produces %s %s but the model "
                                "declares %s %s",
                                v->name, n->name, n->op_type, ortc_dtype_name(t->dtype),
                                ortc_shape_str(sh, sizeof sh, t->rank, t->dims),
                                ortc_dtype_name(v->dtype),
                                ortc_value_shape_str(want, sizeof want, v));
        }
    }
    *c->out_layout[k] = (ortc_layout){.plain = true, .bytes = ortc_tensor_bytes(t)};
    return ORTC_STATUS_OK;
}

ortc_status ortc_eval_infer(ortc_opctx *c, const ortc_eval_env *env, bool *fatal)
{
    bool dummy;
    if (!fatal)
        fatal = &dummy;
    *fatal = false;
    const ortc_operator *op = c->node->op;
    ortc_status st;
    if (op->compile) {
        if (!c->subgraphs)
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                 "its subgraphs are compiled only within a plan");
        st = op->compile(c);
    } else if (op->infer) {
        st = op->infer(c);
    } else {
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: the operator has no infer");
    }
    for (int k = 0; !st && k < c->n_out; k++)
        if (c->out[k])
            st = check_output(c, k, env, fatal);
    return st;
}

/* ---- folding ----------------------------------------------------------------------- */

bool ortc_eval_foldable(const ortc_node *n, bool (*known)(const void *arg, const ortc_value *v),
                        const void *arg)
{
    const ortc_operator *op = n->op;
    /* ops on values of data-dependent size make them in a run's pool */
    if (!op || !op->infer || !op->run || op->compile ||
        (op->flags & (ORTC_OP_NO_FOLD | ORTC_OP_DYNAMIC)) || n->n_implicit)
        return false;
    for (int a = 0; a < n->n_attrs; a++)
        if (n->attrs[a].type == ORTC_ATTR_GRAPH || n->attrs[a].type == ORTC_ATTR_GRAPHS)
            return false;
    if (op->flags & ORTC_OP_SHAPE_ONLY)
        return true;
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] && !known(arg, n->inputs[i]))
            return false;
    return true;
}

/* Outputs that are views of an input get its bytes. Whether all are. */
static ortc_status copy_views(ortc_opctx *c, bool *all_views)
{
    *all_views = c->n_out > 0;
    for (int k = 0; k < c->n_out; k++) {
        if (!c->out[k])
            continue;
        int j = c->view[k];
        if (j < 0) {
            *all_views = false;
            continue;
        }
        const ortc_tensor *src = j < c->n_in ? c->in[j] : NULL;
        size_t bytes = ortc_tensor_bytes(c->out[k]);
        if (!src || ortc_tensor_bytes(src) != bytes || (bytes && !src->data))
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: output %d is a view of input %d, which has another "
                                 "size",
                                 k, j);
        if (bytes)
            memcpy(c->out[k]->data, src->data, bytes);
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_eval_prepare(ortc_opctx *c, const ortc_eval_env *env, bool *fatal)
{
    bool dummy;
    if (!fatal)
        fatal = &dummy;
    *fatal = false;
    const ortc_node *n = c->node;
    const ortc_operator *op = n->op;
    if (env->reference && op->reference)
        return ORTC_STATUS_OK;
    ortc_status st = ORTC_STATUS_OK;
    if (!env->reference && env->backend && !*env->backend &&
        (st = ortc_backend_create(env->backend, env->threads, env->err))) {
        *fatal = true;
        return st;
    }
    c->backend = env->reference || !env->backend ? NULL : *env->backend;
    if (c->backend)
        ortc_backend_enter(c->backend);
    ORTC_TRY(ortc_op_prepare(op, c));
    if (c->scratch_bytes) {
        c->scratch = aligned_alloc(64, round_up(c->scratch_bytes, 64));
        if (!c->scratch) {
            *fatal = true;
            return ortc_err_set(env->err, ORTC_STATUS_OUT_OF_MEMORY,
                                "out of memory: %zu bytes of scratch evaluating node '%s'",
                                c->scratch_bytes, n->name);
        }
    }
    for (int k = 0; k < c->n_out; k++)
        if (c->out[k] && !c->out_layout[k]->plain)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: chose a blocked layout for output %d, which is "
                                 "computed now and must be plain",
                                 k);
    return ORTC_STATUS_OK;
}

ortc_status ortc_eval_compute(ortc_opctx *c, const ortc_eval_env *env)
{
    const ortc_operator *op = c->node->op;
    if (env->reference && op->reference)
        return op->reference(c);
    bool all_views;
    ortc_status st = copy_views(c, &all_views);
    if (!st && !all_views) {
        st = op->run(c);
        if (!st && c->backend)
            st = ortc_backend_wait(c->backend, c->err);
    }
    return st;
}

void ortc_eval_release(ortc_opctx *c, const ortc_eval_env *env)
{
    const ortc_operator *op = c->node->op;
    if (!(env->reference && op->reference) && op->release)
        op->release(c);
    c->state = NULL;
    free(c->scratch);
    c->scratch = NULL;
}

ortc_status ortc_eval_run(ortc_opctx *c, const ortc_eval_env *env, bool *fatal)
{
    ortc_status st = ortc_eval_prepare(c, env, fatal);
    if (!st)
        st = ortc_eval_compute(c, env);
    ortc_eval_release(c, env);
    return st;
}
