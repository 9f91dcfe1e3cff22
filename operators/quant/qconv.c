/* qconv.c — QLinearConv and ConvInteger (opset 10) over 1 to 3 spatial
 * dims: group, dilations, strides, pads or auto_pad; uint8/int8 input and
 * weights, per-tensor input zero point, per-tensor or per-output-channel
 * weight scale and zero point; QLinearConv's int32 bias and requantized
 * output (plus the graph pass's ortc_qdq mode, qlinear.h: float32 bias,
 * float32 output, fused post-ops); ConvInteger's int32 output.
 *
 * oneDNN's int8 convolution runs them when the CPU has VNNI
 * (ortc_q_dnnl_exact), the weights and every scale and zero point are
 * constants and the weights minus their zero points fit in int8 (ONNX
 * Runtime's and PyTorch's int8 weights are symmetric: always):
 * weights folded and packed once, the input zero point as oneDNN's source
 * zero point (padding counts as the zero point, as in ONNX), output scales
 * x_scale * w_scale[m], the bias in accumulator units, post-ops, then
 * times 1 / y_scale, rounding (half to even), + y_zero_point and the
 * destination's saturation. That differs from the plain-C reference (qconv_ref.c:
 * exact accumulator, the real value in double, QuantizeLinear's division)
 * only in the float rounding of the scale arithmetic: by at most one
 * quantization step where a value lies within a rounding error of a tie.
 * The source is reordered into the primitive's layout (nhwc) unless it
 * arrives so; the output stays blocked where every consumer is an int8
 * operator of this family, else it is reordered to plain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/window.h"
#include "qconv_ref.h"
#include "qlinear.h"

typedef struct qconv {
    bool qlinear; /* QLinearConv (else ConvInteger) */
    ortc_window g;
    int64_t m, group;
    int64_t ydims[ORTC_MAX_RANK];
    int x, w, b;            /* input slots of x, w and the bias (-1: none) */
    ortc_qparam xq, wq, yq; /* ConvInteger: zero points only (no scale) */
    ortc_dtype ydtype;      /* INT32, FLOAT or the requantized type */
    ortc_dtype bdtype;      /* INT32 or FLOAT (qdq mode) */
} qconv;

typedef struct qconv_state {
    bool use_ref;
    ortc_q_unblock unblock; /* plain copies of a blocked x for the reference */
    ortc_qprim prim;
} qconv_state;

static const char *in_name(const ortc_opctx *c, int i)
{
    return i >= 0 && i < c->n_in && c->node->inputs[i] ? c->node->inputs[i]->name : "";
}

static const ortc_tensor *in_at(const ortc_opctx *c, int i)
{
    return i >= 0 && i < c->n_in ? c->in[i] : NULL;
}

/* A zero point without a scale (ConvInteger): none, one, or `count` (1-D). */
static ortc_status zero_only(ortc_opctx *c, ortc_qparam *p, ortc_dtype dtype, int zero_in,
                             int64_t count, const char *what)
{
    *p = (ortc_qparam){.dtype = dtype, .n = 1, .axis = -1, .scale_in = -1, .zero_in = -1};
    const ortc_tensor *z = in_at(c, zero_in);
    if (!z)
        return ORTC_STATUS_OK;
    char sz[128];
    ortc_shape_str(sz, sizeof sz, z->rank, z->dims);
    if (z->dtype != dtype)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "zero point '%s' is %s; %s is %s: they must have the same type",
                             in_name(c, zero_in), ortc_dtype_name(z->dtype), what,
                             ortc_dtype_name(dtype));
    int64_t n = ortc_tensor_numel(z);
    if (n != 1 && !(count > 1 && z->rank == 1 && n == count))
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "zero point '%s' has shape %s; %s takes a scalar%s",
            in_name(c, zero_in), sz, what, count > 1 ? " or one per output channel" : "");
    p->n = n;
    p->axis = n > 1 ? 0 : -1;
    p->zero_in = zero_in;
    p->zero = z->data;
    return ORTC_STATUS_OK;
}

static ortc_status geometry(ortc_opctx *c, qconv *q)
{
    ortc_status st;
    if ((st = ortc_op_check_attr(c, "group", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "kernel_shape", ORTC_ATTR_INTS)) ||
        (st = ortc_op_check_min_rank(c, q->x, 3, "N, C, spatial...")))
        return st;
    const ortc_tensor *x = c->in[q->x], *w = c->in[q->w];
    char sx[128], sw[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(sw, sizeof sw, w->rank, w->dims);
    if (x->rank > 5)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input '%s' has shape %s (rank %d); %s supports 1 to 3 spatial dims",
                             in_name(c, q->x), sx, x->rank, c->node->op_type);
    if (w->rank != x->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s (rank %d); with input '%s' of shape %s it "
                             "needs rank %d (M, C/group, kernel...)",
                             in_name(c, q->w), sw, w->rank, in_name(c, q->x), sx, x->rank);
    int64_t group = ortc_node_attr_int(c->node, "group", 1);
    int64_t ch = x->dims[1], m = w->dims[0];
    if (group < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'group' is %lld; must be >= 1", (long long)group);
    if (ch % group != 0 || w->dims[1] * group != ch)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: %lld input channels per group x group "
                             "%lld != %lld channels of input '%s' %s",
                             in_name(c, q->w), sw, (long long)w->dims[1], (long long)group,
                             (long long)ch, in_name(c, q->x), sx);
    if (m < 1 || m % group != 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: %lld output channels, not a positive "
                             "multiple of group %lld",
                             in_name(c, q->w), sw, (long long)m, (long long)group);
    size_t nk = 0;
    const int64_t *ks = ortc_node_attr_ints(c->node, "kernel_shape", &nk);
    if (nk) {
        bool same = nk == (size_t)(x->rank - 2);
        for (size_t i = 0; same && i < nk; i++)
            same = ks[i] == w->dims[2 + i];
        if (!same) {
            char sk[128];
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'kernel_shape' %s does not match weight '%s' of shape "
                                 "%s",
                                 ortc_shape_str(sk, sizeof sk, (int)nk, ks), in_name(c, q->w), sw);
        }
    }
    q->m = m;
    q->group = group;
    if ((st = ortc_window_init(c, &q->g, x, &w->dims[2], false, c->node->op_type)))
        return st;
    q->ydims[0] = q->g.n;
    q->ydims[1] = m;
    for (int i = 0; i < q->g.nsp; i++)
        q->ydims[2 + i] = q->g.out[ortc_win_slot(&q->g, i)];
    return ORTC_STATUS_OK;
}

/* QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
 * y_zero_point[, B]. ConvInteger: x, w[, x_zero_point[, w_zero_point]]. */
static ortc_status qconv_check(ortc_opctx *c, qconv *q)
{
    ortc_status st;
    memset(q, 0, sizeof *q);
    q->qlinear = !strcmp(c->node->op_type, "QLinearConv");
    bool qdq = q->qlinear && ortc_q_qdq_mode(c);
    q->x = 0;
    q->w = q->qlinear ? 3 : 1;
    if (q->qlinear) {
        if ((st = ortc_op_check_arity(c, qdq ? 5 : 8, 9, 1, 1)))
            return st;
        for (int i = 0; i < 5; i++)
            if (i != 2 && !c->in[i])
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing",
                                     i);
    } else if ((st = ortc_op_check_arity(c, 2, 4, 1, 1))) {
        return st;
    }
    if ((st = ortc_op_check_input(c, q->x)) ||
        (st = ortc_op_check_dtypes(c, q->w, ORTC_DT(INT8) | ORTC_DT(UINT8))) ||
        (st = geometry(c, q)))
        return st;
    const ortc_tensor *x = c->in[q->x], *w = c->in[q->w];
    char xw[300], ww[300];
    snprintf(xw, sizeof xw, "input '%s'", in_name(c, q->x));
    snprintf(ww, sizeof ww, "weight '%s'", in_name(c, q->w));
    if (!q->qlinear) {
        q->ydtype = ORTC_DTYPE_INT32;
        q->b = -1;
        if (c->node->n_post_ops)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "ConvInteger takes no post-ops");
        if ((st = zero_only(c, &q->xq, x->dtype, 2, 1, xw)))
            return st;
        return zero_only(c, &q->wq, w->dtype, 3, q->m, ww);
    }
    if ((st = ortc_qparam_read(c, &q->xq, x->dtype, x->rank, x->dims, ORTC_Q_TENSOR, -1, 1,
                               in_at(c, 2) ? 2 : -1, xw)) ||
        (st = ortc_qparam_read(c, &q->wq, w->dtype, w->rank, w->dims, ORTC_Q_AXIS, 0, 4,
                               in_at(c, 5) ? 5 : -1, ww)))
        return st;
    const ortc_tensor *ys = in_at(c, 6), *yz = in_at(c, 7);
    if (!qdq && (!c->in[2] || !ys || !yz))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing",
                             !c->in[2] ? 2
                             : !ys     ? 6
                                       : 7);
    if (yz && !ys)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "y_zero_point '%s' is set but y_scale is missing", in_name(c, 7));
    if (ys) {
        q->ydtype = yz ? yz->dtype : ORTC_DTYPE_UINT8;
        if (!ortc_q_is_8bit(q->ydtype))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "y_zero_point '%s' is %s; the output is uint8 or int8",
                                 in_name(c, 7), ortc_dtype_name(q->ydtype));
        if ((st = ortc_qparam_read(c, &q->yq, q->ydtype, x->rank, q->ydims, ORTC_Q_TENSOR, -1, 6,
                                   yz ? 7 : -1, "the output")))
            return st;
    } else {
        q->ydtype = ORTC_DTYPE_FLOAT;
    }
    q->b = in_at(c, 8) ? 8 : -1;
    if (q->b >= 0) {
        const ortc_tensor *b = c->in[8];
        char sb[128];
        q->bdtype = b->dtype;
        if (b->dtype != ORTC_DTYPE_INT32 && !(qdq && b->dtype == ORTC_DTYPE_FLOAT))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "bias '%s' is %s; it must be int32",
                                 in_name(c, 8), ortc_dtype_name(b->dtype));
        if (b->rank != 1 || b->dims[0] != q->m)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "bias '%s' has shape %s; with %lld output channels it must be "
                                 "[%lld]",
                                 in_name(c, 8), ortc_shape_str(sb, sizeof sb, b->rank, b->dims),
                                 (long long)q->m, (long long)q->m);
    }
    return ortc_q_check_post_ops(c);
}

ortc_status ortc_qconv_infer(ortc_opctx *c)
{
    qconv q;
    ortc_status st = qconv_check(c, &q);
    if (!st)
        ortc_op_set_output(c, 0, q.ydtype, c->in[0]->rank, q.ydims);
    return st;
}

/* The output stage from q's parameters (their data bound). */
static ortc_qout qconv_out(const ortc_opctx *c, const qconv *q)
{
    ortc_qout o = {.dtype = q->ydtype, .post = c->node->n_post_ops ? c : NULL};
    if (!q->qlinear)
        return o;
    o.x_scale = q->xq.scale[0];
    o.w_scale = q->wq.scale;
    o.w_n = q->wq.n;
    if (q->b >= 0) {
        if (q->bdtype == ORTC_DTYPE_INT32)
            o.bias_i = c->in[q->b]->data;
        else
            o.bias_f = c->in[q->b]->data;
    }
    if (ortc_q_is_8bit(q->ydtype)) {
        o.y_scale = q->yq.scale[0];
        o.y_zero = ortc_qparam_zero(&q->yq, 0);
    }
    return o;
}

/* Binds the parameters' data (run, or prepare for constants). */
static ortc_status qconv_values(ortc_opctx *c, qconv *q)
{
    ortc_status st;
    if (!q->qlinear) {
        q->xq.zero = q->xq.zero_in >= 0 ? c->in[q->xq.zero_in]->data : NULL;
        q->wq.zero = q->wq.zero_in >= 0 ? c->in[q->wq.zero_in]->data : NULL;
        return ORTC_STATUS_OK;
    }
    if ((st = ortc_qparam_values(c, &q->xq)) || (st = ortc_qparam_values(c, &q->wq)))
        return st;
    return ortc_q_is_8bit(q->ydtype) ? ortc_qparam_values(c, &q->yq) : ORTC_STATUS_OK;
}

ortc_status ortc_qconv_reference(ortc_opctx *c)
{
    qconv q;
    ortc_status st = qconv_check(c, &q);
    if (st || (st = qconv_values(c, &q)))
        return st;
    ortc_qout o = qconv_out(c, &q);
    ortc_ref_qconv_forward(c->out[0]->data, &o, c->in[q.x]->data, c->in[q.x]->dtype,
                           ortc_qparam_zero(&q.xq, 0), c->in[q.w]->data, c->in[q.w]->dtype, &q.wq,
                           &q.g, q.m, q.group);
    return ORTC_STATUS_OK;
}

/* Whether every input the primitive bakes in is a constant. */
static bool qconv_constant(const ortc_opctx *c, const qconv *q)
{
    if (!c->in[q->w]->data || (q->b >= 0 && !c->in[q->b]->data))
        return false;
    if (q->xq.zero_in >= 0 && !c->in[q->xq.zero_in]->data)
        return false;
    if (q->wq.zero_in >= 0 && !c->in[q->wq.zero_in]->data)
        return false;
    if (!q->qlinear)
        return true;
    return ortc_qparam_known(c, &q->xq) && ortc_qparam_known(c, &q->wq) &&
           (!ortc_q_is_8bit(q->ydtype) || ortc_qparam_known(c, &q->yq));
}

static ortc_status use_ref(ortc_opctx *c, qconv_state *s, size_t *used)
{
    s->use_ref = true;
    return ortc_q_unblock_init(c, &s->unblock, used);
}

static ortc_status qconv_build(ortc_opctx *c, qconv_state *s)
{
    qconv q;
    size_t used = 0;
    ortc_status st = qconv_check(c, &q);
    if (st)
        return st;
    const ortc_tensor *x = c->in[q.x], *w = c->in[q.w];
    if (!qconv_constant(c, &q) || ortc_tensor_numel(x) == 0 || ortc_tensor_numel(c->out[0]) == 0 ||
        !ortc_q_dnnl_exact())
        return use_ref(c, s, &used);
    if ((st = qconv_values(c, &q)))
        return st;
    int8_t *wf = NULL;
    int64_t wn = ortc_tensor_numel(w);
    if ((st = ortc_q_fold_weights(c, &wf, w->data, w->dtype, wn, &q.wq, q.m, wn / q.m)))
        return st;
    if (!wf)
        return use_ref(c, s, &used); /* w - w_zero_point leaves int8 */
    ortc_qout o = qconv_out(c, &q);
    const int nsp = q.g.nsp, rank = x->rank;
    int64_t wdims[ORTC_MAX_RANK + 1];
    int wrank = w->rank;
    if (q.group > 1) { /* (G, M/G, C/G, k...): the same bytes as (M, C/G, k...) */
        wdims[0] = q.group;
        wdims[1] = q.m / q.group;
        for (int i = 1; i < w->rank; i++)
            wdims[i + 1] = w->dims[i];
        wrank++;
    } else {
        memcpy(wdims, w->dims, sizeof w->dims);
    }
    dnnl_memory_desc_t src, dst, wplain, wany, bias;
    int64_t mdim = q.m;
    bool has_bias = q.b >= 0;
    if ((st = ortc_q_md(c, &src, rank, x->dims, x->dtype, dnnl_format_tag_any)) ||
        (st = ortc_q_md(c, &dst, rank, q.ydims, q.ydtype, dnnl_format_tag_any)) ||
        (st = ortc_q_md(c, &wplain, wrank, wdims, ORTC_DTYPE_INT8, dnnl_format_tag_undef)) ||
        (st = ortc_q_md(c, &wany, wrank, wdims, ORTC_DTYPE_INT8, dnnl_format_tag_any)) ||
        (has_bias &&
         (st = ortc_q_md(c, &bias, 1, &mdim, ORTC_DTYPE_FLOAT, dnnl_format_tag_undef)))) {
        free(wf);
        return st;
    }
    dnnl_dims_t strides, dil, pl, pr;
    for (int i = 0; i < nsp; i++) {
        int d = ortc_win_slot(&q.g, i);
        strides[i] = q.g.stride[d];
        dil[i] = q.g.dilation[d] - 1;
        pl[i] = q.g.pad_begin[d];
        pr[i] = q.g.pad_end[d];
    }
    dnnl_convolution_desc_t desc;
    dnnl_status_t ds = dnnl_dilated_convolution_forward_desc_init(
        &desc, dnnl_forward_inference, dnnl_convolution_direct, &src, &wany,
        has_bias ? &bias : NULL, &dst, strides, dil, pl, pr);
    if (ds != dnnl_success) {
        free(wf);
        return ortc_dnnl_error(c, ds, "dnnl_dilated_convolution_forward_desc_init", __FILE__,
                               __LINE__);
    }
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    bool unimpl = false;
    if (!(st = ortc_qout_attr(c, &o, ortc_qparam_zero(&q.xq, 0), 1, q.m, &attr)) &&
        !(st = ortc_qout_bias(c, &o, q.m, &s->prim.bias_data)))
        st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (!st && (unimpl || ortc_dnnl_impl_is_ref(pd))) {
        /* oneDNN's reference int8 convolution is no faster than ours */
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        free(wf);
        return use_ref(c, s, &used);
    }
    if (st) {
        free(wf);
        return st;
    }
    st = ortc_qprim_bind(c, &s->prim, pd, q.x, NULL, &wplain, wf, &used);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

void ortc_qconv_release(ortc_opctx *c)
{
    qconv_state *s = c->state;
    if (!s)
        return;
    ortc_qprim_free(&s->prim);
    ortc_q_unblock_free(&s->unblock);
    free(s);
    c->state = NULL;
}

ortc_status ortc_qconv_prepare(ortc_opctx *c)
{
    qconv_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing %s",
                             c->node->op_type);
    c->state = s;
    ortc_status st = qconv_build(c, s);
    if (st)
        ortc_qconv_release(c);
    return st;
}

ortc_status ortc_qconv_run(ortc_opctx *c)
{
    qconv_state *s = c->state;
    if (s && !s->use_ref)
        return ortc_qprim_run(c, &s->prim);
    if (!s || !s->unblock.n)
        return ortc_qconv_reference(c);
    ortc_opctx v;
    ortc_tensor ins[ORTC_Q_MAX_IO];
    ortc_tensor *ptrs[ORTC_Q_MAX_IO];
    ortc_status st = ortc_q_unblock_run(c, &s->unblock, &v, ins, ptrs);
    return st ? st : ortc_qconv_reference(&v);
}

double ortc_qconv_flops(const ortc_opctx *c)
{
    int wi = strcmp(c->node->op_type, "QLinearConv") ? 1 : 3;
    const ortc_tensor *w = c->n_in > wi ? c->in[wi] : NULL;
    if (!w || w->rank < 3 || c->n_out < 1)
        return 0;
    int64_t per_output = 1;
    for (int d = 1; d < w->rank; d++)
        per_output *= w->dims[d];
    return ortc_op_flops(c->out[0], (double)per_output);
}
