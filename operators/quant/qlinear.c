/* qlinear.c — the output stage of the integer-accumulating operators
 * (qlinear.h): the plain-C store, the post-op check, the oneDNN attribute
 * and bias, and weights folded to int8 for oneDNN. No operator's shapes.
 */
#include "qlinear.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "plain_util.h"
#include "post_ops.h"

bool ortc_q_qdq_mode(const ortc_opctx *c)
{
    return ortc_node_attr_int(c->node, "ortc_qdq", 0) == 1;
}

ortc_status ortc_qlin_begin(ortc_opctx *c, ortc_qlin *p, const char *qlinear_op, int max_in,
                            bool *qdq, int *a, int *b)
{
    memset(p, 0, sizeof *p);
    p->qlinear = !strcmp(c->node->op_type, qlinear_op);
    *qdq = p->qlinear && ortc_q_qdq_mode(c);
    *a = 0;
    *b = p->qlinear ? 3 : 1;
    if (p->qlinear) {
        ORTC_TRY(ortc_op_check_arity(c, *qdq ? 5 : 8, *qdq ? 9 : max_in, 1, 1));
        for (int i = 0; i < 5; i++)
            if (i != 2 && !c->in[i])
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing",
                                     i);
    } else
        ORTC_TRY(ortc_op_check_arity(c, 2, 4, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, *a));
    return ortc_op_check_dtypes(c, *b, ORTC_DT(INT8) | ORTC_DT(UINT8));
}

ortc_status ortc_qlin_read_output(ortc_opctx *c, ortc_qlin *p, int rank, const int64_t *dims)
{
    const ortc_tensor *ys = ortc_plain_input(c, 6), *yz = ortc_plain_input(c, 7);
    if (yz && !ys)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "y_zero_point '%s' is set but y_scale is missing",
                             ortc_plain_input_name(c, 7));
    if (!ys) {
        p->ydtype = ORTC_DTYPE_FLOAT;
        return ORTC_STATUS_OK;
    }
    p->ydtype = yz ? yz->dtype : ORTC_DTYPE_UINT8;
    if (!ortc_q_is_8bit(p->ydtype))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "y_zero_point '%s' is %s; the output is uint8 or int8",
                             ortc_plain_input_name(c, 7), ortc_dtype_name(p->ydtype));
    return ortc_qparam_read(c, &p->y, p->ydtype, rank, dims, ORTC_Q_TENSOR, -1, 6, yz ? 7 : -1,
                            "the output");
}

ortc_status ortc_qlin_values(ortc_opctx *c, ortc_qlin *p)
{
    if (!p->qlinear) {
        p->x.zero = p->x.zero_in >= 0 ? c->in[p->x.zero_in]->data : NULL;
        p->w.zero = p->w.zero_in >= 0 ? c->in[p->w.zero_in]->data : NULL;
        return ORTC_STATUS_OK;
    }
    ORTC_TRY(ortc_qparam_values(c, &p->x));
    ORTC_TRY(ortc_qparam_values(c, &p->w));
    return ortc_q_is_8bit(p->ydtype) ? ortc_qparam_values(c, &p->y) : ORTC_STATUS_OK;
}

bool ortc_qlin_known(const ortc_opctx *c, const ortc_qlin *p)
{
    if (p->x.zero_in >= 0 && !c->in[p->x.zero_in]->data)
        return false;
    if (p->w.zero_in >= 0 && !c->in[p->w.zero_in]->data)
        return false;
    if (!p->qlinear)
        return true;
    return ortc_qparam_known(c, &p->x) && ortc_qparam_known(c, &p->w) &&
           (!ortc_q_is_8bit(p->ydtype) || ortc_qparam_known(c, &p->y));
}

bool ortc_qlin_constant(const ortc_opctx *c, const ortc_qlin *p, int w, int b)
{
    if (!c->in[w]->data || (b >= 0 && !c->in[b]->data))
        return false;
    return ortc_qlin_known(c, p);
}

ortc_qout ortc_qlin_out(const ortc_opctx *c, const ortc_qlin *p, int64_t x_at)
{
    ortc_qout o = {.dtype = p->ydtype, .post = c->node->n_post_ops ? c : NULL};
    if (!p->qlinear)
        return o;
    o.x_scale = p->x.scale[x_at];
    o.w_scale = p->w.scale;
    o.w_n = p->w.n;
    if (ortc_q_is_8bit(p->ydtype)) {
        o.y_scale = p->y.scale[0];
        o.y_zero = ortc_qparam_zero(&p->y, 0);
    }
    return o;
}

void ortc_qout_store(const ortc_qout *o, void *y, int64_t i, int64_t ch, int64_t acc)
{
    if (o->bias_i)
        acc += o->bias_i[ch];
    if (o->dtype == ORTC_DTYPE_INT32) {
        /* ONNX: the accumulation may overflow only in 32 bits (it wraps) */
        ((int32_t *)y)[i] = (int32_t)(uint32_t)(uint64_t)acc;
        return;
    }
    double r = (double)acc * ((double)o->x_scale * o->w_scale[o->w_n > 1 ? ch : 0]);
    if (o->bias_f)
        r += o->bias_f[ch];
    float v = (float)r;
    if (o->post)
        ortc_post_ops_apply(o->post, &v, 1);
    switch (o->dtype) {
    case ORTC_DTYPE_FLOAT: ((float *)y)[i] = v; break;
    case ORTC_DTYPE_UINT8:
        ((uint8_t *)y)[i] = (uint8_t)ortc_q_quantize(v, o->y_scale, o->y_zero, 0, 255);
        break;
    case ORTC_DTYPE_INT8:
        ((int8_t *)y)[i] = (int8_t)ortc_q_quantize(v, o->y_scale, o->y_zero, -128, 127);
        break;
    default: break; /* the operators check the output type in infer */
    }
}

ortc_status ortc_q_check_post_ops(ortc_opctx *c)
{
    const ortc_node *n = c->node;
    for (int i = 0; i < n->n_post_ops; i++) {
        ortc_post_op_kind kind = n->post_ops[i].kind;
        if (!ortc_post_op_name(kind))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "fused post-op %d has an unknown kind (%d)", i, (int)kind);
        if (kind == ORTC_POST_OP_SUM)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "fused post-op %d is a 'sum', which %s does not take", i,
                                 n->op_type);
    }
    return ORTC_STATUS_OK;
}

/* attr's post-ops (the node's, from ortc_post_ops_to_attr) followed by the
 * requantization y = round(inv_scale * y) + zero (the destination
 * saturates). QuantizeLinear's order matters at ties: rounding
 * inv_scale * y + zero at the destination instead differs when the zero
 * point is odd (half to even: 7.5 + 3 gives 10, not round(7.5) + 3 = 11), so
 * an explicit rounding (half to even, as the destination's) comes first and
 * the zero point is oneDNN's destination zero point, added after the
 * post-ops. The multiplication is folded into the last node post-op's scale
 * (its output times inv_scale), or, with no node post-ops, into the output
 * scales by the caller (inv_scale 1 here). No linear post-op is appended:
 * oneDNN 2.6's JIT kernels apply a second eltwise post-op of the same kind
 * with the first one's alpha and beta (linear(2, 0), round, linear(1, 3)
 * gave 2 * round(2 y); a fused HardSigmoid, itself a linear and a clip,
 * followed by linear(1 / y_scale, zero) gave values off by 200 steps). */
static ortc_status append_requant(ortc_opctx *c, dnnl_primitive_attr_t attr, float inv_scale,
                                  int32_t zero)
{
    const_dnnl_post_ops_t have;
    DNNL_CHECK(c, dnnl_primitive_attr_get_post_ops(attr, &have));
    dnnl_post_ops_t ops;
    DNNL_CHECK(c, dnnl_post_ops_create(&ops));
    dnnl_status_t s = dnnl_success;
    const char *what = "building the requantizing post-ops";
    int n = dnnl_post_ops_len(have);
    for (int i = 0; s == dnnl_success && i < n; i++) {
        float scale, a, b;
        dnnl_alg_kind_t alg;
        if (dnnl_post_ops_get_kind(have, i) != dnnl_eltwise) {
            s = dnnl_invalid_arguments; /* ortc_q_check_post_ops refused the others */
            break;
        }
        s = dnnl_post_ops_get_params_eltwise(have, i, &scale, &alg, &a, &b);
        if (i == n - 1)
            scale *= inv_scale;
        if (s == dnnl_success)
            s = dnnl_post_ops_append_eltwise(ops, scale, alg, a, b);
    }
    if (s == dnnl_success && n == 0 && inv_scale != 1.0f)
        s = dnnl_invalid_arguments; /* the caller folds 1 / y_scale into the output scales */
    if (s == dnnl_success && zero != 0)
        s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_round, 0.0f, 0.0f);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    if (s == dnnl_success && zero != 0) {
        what = "dnnl_primitive_attr_set_zero_points(DNNL_ARG_DST)";
        s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST, 1, 0, &zero);
    }
    if (s != dnnl_success)
        return ortc_dnnl_error(c, s, what, __FILE__, __LINE__);
    return ORTC_STATUS_OK;
}

ortc_status ortc_qout_attr(ortc_opctx *c, const ortc_qout *o, int32_t x_zero, int ch_dim,
                           int64_t channels, dnnl_primitive_attr_t *attr)
{
    ORTC_TRY(ortc_dnnl_attr_new(c, attr));
    float *scales = NULL;
    dnnl_status_t s = dnnl_success;
    const char *what = "";
    if (o->dtype != ORTC_DTYPE_INT32) {
        int64_t n = o->w_n > 1 ? channels : 1;
        scales = malloc((size_t)n * sizeof *scales);
        if (!scales) {
            dnnl_primitive_attr_destroy(*attr);
            *attr = NULL;
            return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory (output scales)");
        }
        /* requantizing without node post-ops: 1 / y_scale folded in here
         * (see append_requant) */
        bool fold = ortc_q_is_8bit(o->dtype) && !c->node->n_post_ops;
        for (int64_t i = 0; i < n; i++)
            scales[i] = o->x_scale * o->w_scale[i] * (fold ? 1.0f / o->y_scale : 1.0f);
        what = "dnnl_primitive_attr_set_output_scales";
        s = dnnl_primitive_attr_set_output_scales(*attr, n, n > 1 ? 1 << ch_dim : 0, scales);
        free(scales);
    }
    if (s == dnnl_success && x_zero != 0) {
        what = "dnnl_primitive_attr_set_zero_points(DNNL_ARG_SRC)";
        s = dnnl_primitive_attr_set_zero_points(*attr, DNNL_ARG_SRC, 1, 0, &x_zero);
    }
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return ortc_dnnl_error(c, s, what, __FILE__, __LINE__);
    }
    if (o->dtype == ORTC_DTYPE_INT32)
        return ORTC_STATUS_OK;
    ortc_status st = ortc_post_ops_to_attr(c, *attr, 0.0f);
    if (!st && ortc_q_is_8bit(o->dtype))
        st = append_requant(c, *attr, c->node->n_post_ops ? 1.0f / o->y_scale : 1.0f, o->y_zero);
    if (st) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return st;
}

ortc_status ortc_qout_bias(ortc_opctx *c, const ortc_qout *o, int64_t channels, float **out)
{
    *out = NULL;
    if (!o->bias_i && !o->bias_f)
        return ORTC_STATUS_OK;
    float *b = malloc((size_t)(channels ? channels : 1) * sizeof *b);
    if (!b)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory (bias)");
    for (int64_t i = 0; i < channels; i++)
        b[i] = o->bias_i ? (float)o->bias_i[i]
                         : o->bias_f[i] / (o->x_scale * o->w_scale[o->w_n > 1 ? i : 0]);
    *out = b;
    return ORTC_STATUS_OK;
}

ortc_status ortc_qprim_create(ortc_opctx *c, ortc_qprim *q, const void *op_desc, const ortc_qout *o,
                              int32_t x_zero, int64_t channels, int input,
                              const dnnl_memory_desc_t *x_md, int w_input,
                              const dnnl_memory_desc_t *w_user, int8_t *w_data, bool *use_ref,
                              size_t *used)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    bool unimpl = false;
    ortc_status st;
    *use_ref = false;
    if (!(st = ortc_qout_attr(c, o, x_zero, 1, channels, &attr)) &&
        !(st = ortc_qout_bias(c, o, channels, &q->bias_data)))
        st = ortc_dnnl_pd_create(c, &pd, op_desc, attr, &unimpl);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (!st && ortc_dnnl_pd_only_ref(&pd, unimpl)) {
        /* oneDNN's reference int8 kernels are no faster than ours */
        ortc_q_weights_free(w_data, c->in[w_input]->data);
        *use_ref = true;
        return ORTC_STATUS_OK;
    }
    if (st) {
        ortc_q_weights_free(w_data, c->in[w_input]->data);
        return st;
    }
    st = ortc_qprim_bind(c, q, pd, input, x_md, w_input, w_user, w_data, used);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

ortc_status ortc_qlin_run(ortc_opctx *c, ortc_status (*reference)(ortc_opctx *c))
{
    ortc_qlin_state *s = c->state;
    if (s && !s->use_ref)
        return ortc_qprim_run(c, &s->prim);
    return ortc_dnnl_unblock_call(c, s ? &s->unblock : NULL, reference);
}

void ortc_qlin_release(ortc_opctx *c)
{
    ortc_qlin_state *s = c->state;
    if (!s)
        return;
    ortc_qprim_free(&s->prim);
    ortc_dnnl_unblock_free(&s->unblock);
    free(s);
    c->state = NULL;
}

ortc_status ortc_q_fold_weights(ortc_opctx *c, int8_t **out, const void *w, ortc_dtype w_dtype,
                                int64_t n, const ortc_qparam *zero, int64_t channels, int64_t inner)
{
    *out = NULL;
    bool zeros = true; /* int8 weights and no zero points: w as it is */
    for (int64_t i = 0; i < zero->n && zeros; i++)
        zeros = ortc_qparam_zero(zero, i) == 0;
    if (zeros && w_dtype == ORTC_DTYPE_INT8) {
        *out = (int8_t *)w;
        return ORTC_STATUS_OK;
    }
    int8_t *f = aligned_alloc(64, ((size_t)(n ? n : 1) + 63) & ~(size_t)63);
    if (!f)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                             "out of memory folding int8 weights (%lld bytes)", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        int64_t ch = zero->n > 1 ? (i / inner) % channels : 0;
        int32_t v = (w_dtype == ORTC_DTYPE_UINT8 ? (int32_t)((const uint8_t *)w)[i]
                                                 : (int32_t)((const int8_t *)w)[i]) -
                    ortc_qparam_zero(zero, ch);
        if (v < -128 || v > 127) {
            free(f);
            return ORTC_STATUS_OK;
        }
        f[i] = (int8_t)v;
    }
    *out = f;
    return ORTC_STATUS_OK;
}

void ortc_q_weights_free(int8_t *folded, const void *w)
{
    if (folded != w)
        free(folded);
}
