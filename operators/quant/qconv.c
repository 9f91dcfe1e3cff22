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

#include "dnnl_prim.h"
#include "error.h"
#include "nn/window.h"
#include "op_util.h"
#include "plain_util.h"
#include "qconv_ref.h"
#include "qlinear.h"

typedef struct qconv {
    ortc_qlin p; /* qlinear: QLinearConv (else ConvInteger) */
    ortc_conv_geom cg;
    int x, w, b;       /* input slots of x, w and the bias (-1: none) */
    ortc_dtype bdtype; /* INT32 or FLOAT (qdq mode) */
} qconv;

/* A zero point without a scale (ConvInteger): none, one, or `count` (1-D). */
static ortc_status zero_only(ortc_opctx *c, ortc_qparam *p, ortc_dtype dtype, int zero_in,
                             int64_t count, const char *what)
{
    *p = (ortc_qparam){.dtype = dtype, .n = 1, .axis = -1, .scale_in = -1, .zero_in = -1};
    const ortc_tensor *z = ortc_plain_input(c, zero_in);
    if (!z)
        return ORTC_STATUS_OK;
    char sz[128];
    ortc_shape_str(sz, sizeof sz, z->rank, z->dims);
    ORTC_TRY(ortc_qparam_check_zero_type(c, zero_in, dtype, what));
    int64_t n = ortc_tensor_numel(z);
    if (n != 1 && !(count > 1 && z->rank == 1 && n == count))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "zero point '%s' has shape %s; %s takes a scalar%s",
                             ortc_plain_input_name(c, zero_in), sz, what,
                             count > 1 ? " or one per output channel" : "");
    p->n = n;
    p->axis = n > 1 ? 0 : -1;
    p->zero_in = zero_in;
    p->zero = z->data;
    return ORTC_STATUS_OK;
}

/* QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
 * y_zero_point[, B]. ConvInteger: x, w[, x_zero_point[, w_zero_point]]. */
static ortc_status qconv_check(ortc_opctx *c, qconv *q)
{
    bool qdq;
    memset(q, 0, sizeof *q);
    ORTC_TRY(ortc_qlin_begin(c, &q->p, "QLinearConv", 9, &qdq, &q->x, &q->w));
    ORTC_TRY(ortc_conv_geom_init(c, &q->cg, q->x, q->w));
    const ortc_tensor *x = c->in[q->x], *w = c->in[q->w];
    char xw[300], ww[300];
    snprintf(xw, sizeof xw, "input '%s'", ortc_plain_input_name(c, q->x));
    snprintf(ww, sizeof ww, "weight '%s'", ortc_plain_input_name(c, q->w));
    if (!q->p.qlinear) {
        q->p.ydtype = ORTC_DTYPE_INT32;
        q->b = -1;
        if (c->node->n_post_ops)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "ConvInteger takes no post-ops");
        ORTC_TRY(zero_only(c, &q->p.x, x->dtype, 2, 1, xw));
        return zero_only(c, &q->p.w, w->dtype, 3, q->cg.m, ww);
    }
    ORTC_TRY(ortc_qparam_read(c, &q->p.x, x->dtype, x->rank, x->dims, ORTC_Q_TENSOR, -1, 1,
                              ortc_plain_input(c, 2) ? 2 : -1, xw));
    ORTC_TRY(ortc_qparam_read(c, &q->p.w, w->dtype, w->rank, w->dims, ORTC_Q_AXIS, 0, 4,
                              ortc_plain_input(c, 5) ? 5 : -1, ww));
    const ortc_tensor *ys = ortc_plain_input(c, 6), *yz = ortc_plain_input(c, 7);
    if (!qdq && (!c->in[2] || !ys || !yz))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing",
                             !c->in[2] ? 2
                             : !ys     ? 6
                                       : 7);
    ORTC_TRY(ortc_qlin_read_output(c, &q->p, x->rank, q->cg.ydims));
    q->b = ortc_plain_input(c, 8) ? 8 : -1;
    if (q->b >= 0) {
        const ortc_tensor *b = c->in[8];
        q->bdtype = b->dtype;
        if (b->dtype != ORTC_DTYPE_INT32 && !(qdq && b->dtype == ORTC_DTYPE_FLOAT))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "bias '%s' is %s; it must be int32",
                                 ortc_plain_input_name(c, 8), ortc_dtype_name(b->dtype));
        ORTC_TRY(ortc_op_check_bias(c, 8, q->cg.m));
    }
    return ortc_q_check_post_ops(c);
}

ortc_status ortc_qconv_infer(ortc_opctx *c)
{
    qconv q;
    ortc_status st = qconv_check(c, &q);
    if (!st)
        ortc_op_set_output(c, 0, q.p.ydtype, c->in[0]->rank, q.cg.ydims);
    return st;
}

/* The output stage from q's parameters (their data bound). */
static ortc_qout qconv_out(const ortc_opctx *c, const qconv *q)
{
    ortc_qout o = ortc_qlin_out(c, &q->p, 0);
    if (q->p.qlinear && q->b >= 0) {
        if (q->bdtype == ORTC_DTYPE_INT32)
            o.bias_i = c->in[q->b]->data;
        else
            o.bias_f = c->in[q->b]->data;
    }
    return o;
}

ortc_status ortc_qconv_reference(ortc_opctx *c)
{
    qconv q;
    ortc_status st = qconv_check(c, &q);
    if (st || (st = ortc_qlin_values(c, &q.p)))
        return st;
    ortc_qout o = qconv_out(c, &q);
    ortc_ref_qconv_forward(c->out[0]->data, &o, c->in[q.x]->data, c->in[q.x]->dtype,
                           ortc_qparam_zero(&q.p.x, 0), c->in[q.w]->data, c->in[q.w]->dtype, &q.p.w,
                           &q.cg.g, q.cg.m, q.cg.group);
    return ORTC_STATUS_OK;
}

static ortc_status use_ref(ortc_opctx *c, ortc_qlin_state *s, size_t *used)
{
    s->use_ref = true;
    return ortc_dnnl_unblock_init(c, &s->unblock, used);
}

static ortc_status qconv_build(ortc_opctx *c, void *state)
{
    ortc_qlin_state *s = state;
    qconv q;
    size_t used = 0;
    ORTC_TRY(qconv_check(c, &q));
    const ortc_tensor *x = c->in[q.x], *w = c->in[q.w];
    if (!ortc_qlin_constant(c, &q.p, q.w, q.b) || ortc_tensor_numel(x) == 0 ||
        ortc_tensor_numel(c->out[0]) == 0 || !ortc_q_dnnl_exact())
        return use_ref(c, s, &used);
    ORTC_TRY(ortc_qlin_values(c, &q.p));
    int8_t *wf = NULL;
    int64_t wn = ortc_tensor_numel(w);
    ORTC_TRY(ortc_q_fold_weights(c, &wf, w->data, w->dtype, wn, &q.p.w, q.cg.m, wn / q.cg.m));
    if (!wf)
        return use_ref(c, s, &used); /* w - w_zero_point leaves int8 */
    ortc_qout o = qconv_out(c, &q);
    const int rank = x->rank;
    int64_t wdims[ORTC_MAX_RANK + 1];
    int wrank = w->rank;
    if (q.cg.group > 1) { /* (G, M/G, C/G, k...): the same bytes as (M, C/G, k...) */
        wdims[0] = q.cg.group;
        wdims[1] = q.cg.m / q.cg.group;
        for (int i = 1; i < w->rank; i++)
            wdims[i + 1] = w->dims[i];
        wrank++;
    } else {
        memcpy(wdims, w->dims, sizeof w->dims);
    }
    dnnl_memory_desc_t src, dst, wplain, wany, bias;
    int64_t mdim = q.cg.m;
    bool has_bias = q.b >= 0;
    ortc_status st;
    if ((st = ortc_dnnl_md_typed(c, &src, rank, x->dims, x->dtype, dnnl_format_tag_any)) ||
        (st = ortc_dnnl_md_typed(c, &dst, rank, q.cg.ydims, q.p.ydtype, dnnl_format_tag_any)) ||
        (st = ortc_dnnl_md_typed(c, &wplain, wrank, wdims, ORTC_DTYPE_INT8,
                                 dnnl_format_tag_undef)) ||
        (st = ortc_dnnl_md_typed(c, &wany, wrank, wdims, ORTC_DTYPE_INT8, dnnl_format_tag_any)) ||
        (has_bias &&
         (st = ortc_dnnl_md_typed(c, &bias, 1, &mdim, ORTC_DTYPE_FLOAT, dnnl_format_tag_undef)))) {
        ortc_q_weights_free(wf, w->data);
        return st;
    }
    dnnl_dims_t strides, dil, pl, pr;
    ortc_window_dnnl_dims(&q.cg.g, strides, dil, pl, pr);
    dnnl_convolution_desc_t desc;
    dnnl_status_t ds = dnnl_dilated_convolution_forward_desc_init(
        &desc, dnnl_forward_inference, dnnl_convolution_direct, &src, &wany,
        has_bias ? &bias : NULL, &dst, strides, dil, pl, pr);
    if (ds != dnnl_success) {
        ortc_q_weights_free(wf, w->data);
        return ortc_dnnl_error(c, ds, "dnnl_dilated_convolution_forward_desc_init", __FILE__,
                               __LINE__);
    }
    bool ref = false;
    ORTC_TRY(ortc_qprim_create(c, &s->prim, &desc, &o, ortc_qparam_zero(&q.p.x, 0), q.cg.m, q.x,
                               NULL, q.w, &wplain, wf, &ref, &used));
    return ref ? use_ref(c, s, &used) : ORTC_STATUS_OK;
}

ortc_status ortc_qconv_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_qlin_state), qconv_build, ortc_qlin_release);
}

ortc_status ortc_qconv_run(ortc_opctx *c)
{
    return ortc_qlin_run(c, ortc_qconv_reference);
}

double ortc_qconv_flops(const ortc_opctx *c)
{
    return ortc_conv_flops(c, strcmp(c->node->op_type, "QLinearConv") ? 1 : 3);
}
