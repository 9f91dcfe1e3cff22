/* helper_ops.c — single-operator harness for unit tests (see helper_ops.h).
 * It runs one node through the runtime's own evaluation (runtime/eval.h);
 * whole-graph behaviour is tested elsewhere.
 */
#include "helper_ops.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "helper_common.h"
#include "eval.h"

op_case *opc_new(const char *op_type, int opset, int n_in, int n_out)
{
    op_case *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_le(n_in, OPC_MAX_IO);
    ck_assert_int_le(n_out, OPC_MAX_IO);
    c->model = ortc_model_new();
    ck_assert_ptr_nonnull(c->model);
    ck_assert_int_eq(ortc_model_add_opset(c->model, "", opset), 0);
    c->g = ortc_graph_new(c->model, NULL, "test");
    c->model->graph = c->g;
    c->node = ortc_graph_add_node(c->g, op_type, "", "n0", n_in, n_out);
    ck_assert_ptr_nonnull(c->node);
    char name[32];
    for (int k = 0; k < n_out; k++) {
        snprintf(name, sizeof name, "out%d", k);
        c->node->outputs[k] = ortc_graph_get_value(c->g, name);
    }
    return c;
}

void opc_free(op_case *c)
{
    if (!c)
        return;
    for (int k = 0; k < OPC_MAX_IO; k++)
        free(c->out[k].data);
    ortc_model_free(c->model);
    free(c);
}

void opc_attr_int(op_case *c, const char *name, int64_t v)
{
    node_attr_int(c->node, name, v);
}

void opc_attr_float(op_case *c, const char *name, float v)
{
    node_attr_float(c->node, name, v);
}

void opc_attr_string(op_case *c, const char *name, const char *v)
{
    node_attr_string(c->node, name, v);
}

void opc_attr_ints(op_case *c, const char *name, const int64_t *v, size_t n)
{
    node_attr_ints(c->node, name, v, n);
}

void opc_attr_floats(op_case *c, const char *name, const float *v, size_t n)
{
    node_attr_floats(c->node, name, v, n);
}

void opc_input(op_case *c, int i, ortc_dtype dtype, int rank, const int64_t *dims, const void *data,
               bool constant)
{
    ck_assert_int_lt(i, c->node->n_inputs);
    if (dtype == ORTC_DTYPE_UNDEFINED) {
        c->node->inputs[i] = NULL;
        return;
    }
    char name[32];
    snprintf(name, sizeof name, "in%d", i);
    ortc_value *v = ortc_graph_get_value(c->g, name);
    ortc_value_set_shape(v, dtype, rank, dims);
    v->kind = constant ? ORTC_VALUE_CONSTANT : ORTC_VALUE_INPUT;
    c->node->inputs[i] = v;
    c->in[i].dtype = dtype;
    c->in[i].rank = rank;
    for (int d = 0; d < rank; d++)
        c->in[i].dims[d] = dims[d];
    c->in[i].data = (void *)data;
    c->in_const[i] = constant;
}

void opc_set_post_ops(ortc_node *n, const char *list)
{
    char copy[256];
    ck_assert_uint_lt(strlen(list), sizeof copy);
    strcpy(copy, list);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *arg = strchr(tok, ':');
        if (arg)
            *arg++ = '\0';
        ortc_post_op po = {ORTC_POST_OP_KINDS, 0.0f, 0.0f};
        for (int k = 0; k < ORTC_POST_OP_KINDS; k++)
            if (!strcmp(ortc_post_op_name((ortc_post_op_kind)k), tok))
                po.kind = (ortc_post_op_kind)k;
        ck_assert_msg(po.kind != ORTC_POST_OP_KINDS, "test list \"%s\": no post-op '%s'", list,
                      tok);
        char *end = arg;
        if (arg)
            po.alpha = strtof(arg, &end);
        if (end && *end == ':')
            po.beta = strtof(end + 1, NULL);
        ck_assert_int_eq(ortc_node_add_post_op(n, po), 0);
    }
}

ortc_status opc_run(op_case *c, int reference, int threads)
{
    ortc_node *n = c->node;
    ortc_err_clear(&c->err);
    n->op = ortc_registry_find(n->domain, n->op_type, n->opset);
    if (!n->op)
        return ortc_err_set(&c->err, ORTC_STATUS_UNSUPPORTED, "no operator %s at opset %d",
                            n->op_type, n->opset);
    for (int k = 0; k < n->n_outputs; k++) {
        free(c->out[k].data);
        memset(&c->out[k], 0, sizeof c->out[k]);
    }
    /* the runtime's own evaluation of one node (eval.h), as compile.c folds
     * one: infer sees the data of constant inputs only */
    ortc_node_ctx x;
    if (ortc_node_ctx_init(&x, n, threads, &c->err))
        return ortc_err_set(&c->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    ortc_opctx *ctx = &x.c;
    for (int i = 0; i < n->n_inputs; i++) {
        if (!n->inputs[i])
            continue;
        *ctx->in[i] = c->in[i];
        if (!c->in_const[i])
            ctx->in[i]->data = NULL;
        ctx->in_layout[i]->bytes = ortc_tensor_bytes(&c->in[i]);
    }
    struct ortc_backend *be = NULL;
    ortc_eval_env env = {threads > 0 ? threads : 1, reference != 0, 0, &be, &c->err};
    ortc_status st = ortc_eval_infer(ctx, &env, NULL);
    bool prepared = !st;
    if (!st)
        st = ortc_eval_prepare(ctx, &env, NULL);
    /* run: every input's data; outputs in buffers of their own */
    for (int i = 0; !st && i < n->n_inputs; i++)
        if (n->inputs[i])
            ctx->in[i]->data = c->in[i].data;
    for (int k = 0; !st && k < n->n_outputs; k++) {
        if (!ctx->out[k])
            continue;
        size_t bytes = ortc_tensor_bytes(ctx->out[k]);
        ctx->out[k]->data = calloc(1, bytes ? bytes : 1);
        c->out[k] = *ctx->out[k];
        if (!c->out[k].data)
            st = ortc_err_set(&c->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    if (!st)
        st = ortc_eval_compute(ctx, &env);
    if (prepared)
        ortc_eval_release(ctx, &env);
    ortc_node_ctx_free(&x);
    ortc_backend_destroy(be);
    return st;
}

void opc_fill_uniform(float *x, int64_t n, float lo, float hi, uint64_t *seed)
{
    for (int64_t i = 0; i < n; i++) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(*seed >> 11) / (double)(1ull << 53);
        x[i] = (float)(lo + (hi - lo) * u);
    }
}

void opc_assert_close(const float *got, const float *exp, int64_t n, double rtol, double atol,
                      const char *what)
{
    int64_t worst = -1;
    double worst_excess = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], e = exp[i];
        if ((isnan(g) && isnan(e)) || g == e) /* g == e also accepts equal infinities */
            continue;
        double err = fabs(g - e), tol = atol + rtol * fabs(e);
        if (!(err <= tol) && (worst < 0 || err - tol > worst_excess || isnan(err))) {
            worst = i;
            worst_excess = isnan(err) ? INFINITY : err - tol;
        }
    }
    ck_assert_msg(worst < 0,
                  "%s: %lld elements, worst at %lld: got %.9g expected %.9g (rtol %g atol %g)",
                  what, (long long)n, (long long)worst, worst >= 0 ? got[worst] : 0.0,
                  worst >= 0 ? exp[worst] : 0.0, rtol, atol);
}
