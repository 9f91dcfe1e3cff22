/* deconv.c — ConvTranspose (opsets 1 and 11) over 1 to 3 spatial dims:
 * group, strides, dilations, pads, output_padding, output_shape, auto_pad
 * and an optional bias; float32 on oneDNN's deconvolution, with a plain-C
 * reference kernel (also used when output_shape pads the beginning
 * negatively, which oneDNN rejects), and the fused post-ops of
 * operator.h (oneDNN post-ops; "sum" reads input 3). Constant weights are
 * reordered once in prepare; weights fed at run are described to oneDNN in
 * ONNX's own (C, M/group, k...) layout. No float16/double. In bf16 mode
 * (dnnl_util.h) x and constant weights are bf16 in the primitive's chosen
 * layouts (x reordered into scratch, the output computed in its layout and
 * reordered where it must be plain), bias and output fp32.
 */
#include <string.h>

#include "dnnl_prim.h"
#include "op_util.h"
#include "post_ops.h"
#include "window.h"
#include "plain_util.h"
#include "error.h"

/* A validated ConvTranspose node. Output position o of slot d (window.h's
 * slots: 1-D and 2-D problems use the trailing ones) is position
 * o + pad_begin[d] of the full transposed convolution, where input i and
 * kernel tap k land at i * stride + k * dilation; w.in and w.out are the
 * input's and the output's sizes. Pads may be negative when output_shape
 * asks for more than the full result (those positions get only the bias). */
typedef struct deconv_geom {
    ortc_window w;
    int64_t m, group; /* output channels, groups */
    int64_t out_pad[ORTC_WIN_DIMS];
    int64_t ydims[ORTC_MAX_RANK]; /* the output's shape */
} deconv_geom;

/* floor(a / 2) for negative a too (ONNX's pad split is Python's //). */
static int64_t floor_half(int64_t a)
{
    return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

/* An INTS attribute with `want` values (or `alt` values when alt > 0), or
 * absent (*v = NULL). */
static ortc_status ints_attr(ortc_opctx *c, const char *name, size_t want, size_t alt,
                             const int64_t **v, size_t *n)
{
    ORTC_TRY(ortc_op_check_attr(c, name, ORTC_ATTR_INTS));
    *v = ortc_node_attr_ints(c->node, name, n);
    if (*n == 0) {
        *v = NULL;
        return ORTC_STATUS_OK;
    }
    if (*n != want && (alt == 0 || *n != alt)) {
        if (alt)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute '%s' has %zu values; with %zu spatial dims it needs "
                                 "%zu (or %zu including N and C)",
                                 name, *n, want, want, alt);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute '%s' has %zu values; it needs %zu here", name, *n, want);
    }
    return ORTC_STATUS_OK;
}

/* Tensors and channel counts. */
static ortc_status check_tensors(ortc_opctx *c, deconv_geom *g)
{
    ORTC_TRY(ortc_post_ops_check_inputs(c, 2, 3));
    ORTC_TRY(ortc_op_check_attr(c, "group", ORTC_ATTR_INT));
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    char sx[128], sw[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(sw, sizeof sw, w->rank, w->dims);
    if (x->rank < 3 || x->rank > 5)
        return ortc_op_error(c, x->rank < 3 ? ORTC_STATUS_INVALID_MODEL : ORTC_STATUS_UNSUPPORTED,
                             "input '%s' has shape %s (rank %d); ConvTranspose supports rank 3 "
                             "to 5 (N, C and 1 to 3 spatial dims)",
                             ortc_plain_input_name(c, 0), sx, x->rank);
    if (w->rank != x->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s (rank %d); with input '%s' of shape %s it "
                             "needs rank %d (C, M/group, kernel...)",
                             ortc_plain_input_name(c, 1), sw, w->rank, ortc_plain_input_name(c, 0),
                             sx, x->rank);
    int64_t group = ortc_node_attr_int(c->node, "group", 1);
    if (group < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'group' is %lld; must be >= 1", (long long)group);
    if (w->dims[0] != x->dims[1])
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: its first dim must equal the %lld "
                             "channels of input '%s' %s",
                             ortc_plain_input_name(c, 1), sw, (long long)x->dims[1],
                             ortc_plain_input_name(c, 0), sx);
    if (x->dims[1] % group != 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' has %lld channels (shape %s), not divisible by group %lld",
                             ortc_plain_input_name(c, 0), (long long)x->dims[1], sx,
                             (long long)group);
    if (w->dims[1] < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: no output channels",
                             ortc_plain_input_name(c, 1), sw);
    g->w.n = x->dims[0];
    g->w.c = x->dims[1];
    g->group = group;
    g->m = w->dims[1] * group;
    return ortc_op_check_bias(c, 2, g->m);
}

/* Splits total padding per ONNX's output_shape rules. Opset 11: SAME_UPPER
 * puts the odd element at the end, anything else at the beginning. Opset 1
 * states the opposite: the odd element goes to the end unless SAME_UPPER. */
static void split_total(int version, bool same_upper, int64_t total, int64_t *pb, int64_t *pe)
{
    bool extra_at_end = version >= 11 ? same_upper : !same_upper;
    if (extra_at_end) {
        *pb = floor_half(total);
        *pe = total - *pb;
    } else {
        *pe = floor_half(total);
        *pb = total - *pe;
    }
}

static ortc_status deconv_check(ortc_opctx *c, deconv_geom *g)
{
    memset(g, 0, sizeof *g);
    ORTC_TRY(check_tensors(c, g));
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    int nsp = x->rank - 2;
    g->w.nsp = nsp;
    for (int d = 0; d < ORTC_WIN_DIMS; d++)
        g->w.in[d] = g->w.out[d] = g->w.kernel[d] = g->w.stride[d] = g->w.dilation[d] = 1;

    const int64_t *ks, *strides, *dilations, *pads, *opad, *oshape;
    size_t nks, ns, nd, np, nop, nos;
    ORTC_TRY(ints_attr(c, "kernel_shape", (size_t)nsp, 0, &ks, &nks));
    ORTC_TRY(ints_attr(c, "strides", (size_t)nsp, 0, &strides, &ns));
    ORTC_TRY(ints_attr(c, "dilations", (size_t)nsp, 0, &dilations, &nd));
    ORTC_TRY(ints_attr(c, "pads", 2 * (size_t)nsp, 0, &pads, &np));
    ORTC_TRY(ints_attr(c, "output_padding", (size_t)nsp, 0, &opad, &nop));
    ORTC_TRY(ints_attr(c, "output_shape", (size_t)nsp, (size_t)nsp + 2, &oshape, &nos));
    if (oshape && nos == (size_t)nsp + 2)
        oshape += 2; /* (N, C, spatial...): only the spatial part matters */
    ortc_auto_pad auto_pad;
    ORTC_TRY(ortc_op_auto_pad(c, &auto_pad));
    bool same_upper = auto_pad == ORTC_AUTO_PAD_SAME_UPPER;
    bool same_lower = auto_pad == ORTC_AUTO_PAD_SAME_LOWER;
    int version = ortc_op_version(c);
    char sw[128];
    ortc_shape_str(sw, sizeof sw, w->rank, w->dims);

    for (int i = 0; i < nsp; i++) {
        int d = ortc_win_slot(&g->w, i);
        int64_t in = x->dims[2 + i], k = w->dims[2 + i];
        int64_t s = strides ? strides[i] : 1, dil = dilations ? dilations[i] : 1;
        int64_t op = opad ? opad[i] : 0;
        if (ks && ks[i] != k) {
            char sk[128];
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'kernel_shape' %s does not match weight '%s' of "
                                 "shape %s",
                                 ortc_shape_str(sk, sizeof sk, (int)nks, ks),
                                 ortc_plain_input_name(c, 1), sw);
        }
        if (k < 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "weight '%s' has shape %s: kernel size %lld in spatial dim %d",
                                 ortc_plain_input_name(c, 1), sw, (long long)k, i);
        if (s < 1 || dil < 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute '%s'[%d] is %lld; must be >= 1",
                                 s < 1 ? "strides" : "dilations", i, (long long)(s < 1 ? s : dil));
        if (op < 0 || (op >= s && op >= dil))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'output_padding'[%d] is %lld; it must be >= 0 and "
                                 "less than the stride (%lld) or the dilation (%lld)",
                                 i, (long long)op, (long long)s, (long long)dil);
        int64_t full = s * (in - 1) + op + (k - 1) * dil + 1;
        int64_t out, pb = 0, pe = 0;
        if (oshape) {
            out = oshape[i];
            if (out < 0)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "attribute 'output_shape'[%d] is %lld; must be >= 0", i,
                                     (long long)out);
            split_total(version, same_upper, full - out, &pb, &pe);
        } else if (same_upper || same_lower) {
            /* output = input * stride; the odd element of the padding goes
             * to the end for SAME_UPPER, to the beginning for SAME_LOWER */
            out = in * s;
            int64_t total = full - out;
            pb = same_upper ? floor_half(total) : total - floor_half(total);
            pe = total - pb;
        } else if (auto_pad == ORTC_AUTO_PAD_VALID) {
            out = full;
        } else {
            ORTC_TRY(ortc_window_pads(c, pads, nsp, i, &pb, &pe));
            out = full - pb - pe;
        }
        if (out < 0) {
            char sx[128];
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input '%s' %s with weight %s: spatial dim %d would have size "
                                 "%lld (pads %lld+%lld exceed the result %lld)",
                                 ortc_plain_input_name(c, 0),
                                 ortc_shape_str(sx, sizeof sx, x->rank, x->dims), sw, i,
                                 (long long)out, (long long)pb, (long long)pe, (long long)full);
        }
        g->w.in[d] = in;
        g->w.out[d] = out;
        g->w.kernel[d] = k;
        g->w.stride[d] = s;
        g->w.dilation[d] = dil;
        g->w.pad_begin[d] = pb;
        g->w.pad_end[d] = pe;
        g->out_pad[d] = op;
    }
    g->ydims[0] = g->w.n;
    g->ydims[1] = g->m;
    for (int i = 0; i < nsp; i++)
        g->ydims[2 + i] = g->w.out[ortc_win_slot(&g->w, i)];
    return ortc_post_ops_check(c, x->rank, g->ydims);
}

static ortc_status deconv_infer(ortc_opctx *c)
{
    deconv_geom g;
    ortc_status st = deconv_check(c, &g);
    if (!st)
        ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, g.ydims);
    return st;
}

/* ---- reference kernel ------------------------------------------------------ */

/* The input index that kernel tap k brings to output position o of slot d,
 * or -1 when none does (between strides, or outside the input). */
static int64_t src_index(const deconv_geom *g, int d, int64_t o, int64_t k)
{
    int64_t f = o + g->w.pad_begin[d] - k * g->w.dilation[d];
    if (f < 0 || f % g->w.stride[d] != 0)
        return -1;
    int64_t i = f / g->w.stride[d];
    return i < g->w.in[d] ? i : -1;
}

// x: (N, C, D, H, W)  w: (C, M/group, kD, kH, kW)  bias: (M) or NULL
// y: (N, M, oD, oH, oW); y[n, m, o] = bias[m] + sum over the channels c of
// m's group and taps k of x[n, c, i] * w[c, m % (M/group), k] where
// i * stride + k * dilation = o + pad_begin. Accumulates in double.
static void deconv_forward(float *y, const float *x, const float *w, const float *bias,
                           const deconv_geom *g)
{
    const int64_t *in = g->w.in, *out = g->w.out, *ker = g->w.kernel;
    int64_t cg = g->w.c / g->group, mg = g->m / g->group;
    int64_t isz = in[0] * in[1] * in[2], osz = out[0] * out[1] * out[2];
    int64_t ksz = ker[0] * ker[1] * ker[2];
    for (int64_t n = 0; n < g->w.n; n++)
        for (int64_t m = 0; m < g->m; m++) {
            int64_t grp = m / mg, mm = m % mg;
            float *yp = y + (n * g->m + m) * osz;
            for (int64_t od = 0; od < out[0]; od++)
                for (int64_t oh = 0; oh < out[1]; oh++)
                    for (int64_t ow = 0; ow < out[2]; ow++) {
                        double acc = bias ? bias[m] : 0.0;
                        for (int64_t kd = 0; kd < ker[0]; kd++) {
                            int64_t id = src_index(g, 0, od, kd);
                            if (id < 0)
                                continue;
                            for (int64_t kh = 0; kh < ker[1]; kh++) {
                                int64_t ih = src_index(g, 1, oh, kh);
                                if (ih < 0)
                                    continue;
                                for (int64_t kw = 0; kw < ker[2]; kw++) {
                                    int64_t iw = src_index(g, 2, ow, kw);
                                    if (iw < 0)
                                        continue;
                                    int64_t xo = (id * in[1] + ih) * in[2] + iw;
                                    int64_t wo = (kd * ker[1] + kh) * ker[2] + kw;
                                    for (int64_t ic = 0; ic < cg; ic++) {
                                        int64_t ch = grp * cg + ic;
                                        acc += (double)x[(n * g->w.c + ch) * isz + xo] *
                                               (double)w[(ch * mg + mm) * ksz + wo];
                                    }
                                }
                            }
                        }
                        yp[(od * out[1] + oh) * out[2] + ow] = (float)acc;
                    }
        }
}

static ortc_status deconv_reference(ortc_opctx *c)
{
    deconv_geom g;
    ORTC_TRY(deconv_check(c, &g));
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    deconv_forward(c->out[0]->data, c->in[0]->data, c->in[1]->data, b ? b->data : NULL, &g);
    ortc_post_ops_apply(c, c->out[0]->data, ortc_tensor_numel(c->out[0]));
    return ORTC_STATUS_OK;
}

/* ---- oneDNN path ------------------------------------------------------------ */

/* ONNX's weights (C, M/group, k...) as oneDNN's deconvolution weights:
 * (M, C, k...) without groups, (G, M/G, C/G, k...) with them, given by
 * strides over the same bytes. */
static ortc_status weights_md(ortc_opctx *c, const deconv_geom *g, bool any, dnnl_memory_desc_t *md)
{
    const ortc_tensor *w = c->in[1];
    int64_t ksz = 1;
    for (int i = 2; i < w->rank; i++)
        ksz *= w->dims[i];
    int64_t cg = g->w.c / g->group, mg = g->m / g->group;
    int64_t dims[ORTC_MAX_RANK + 1], strides[ORTC_MAX_RANK + 1];
    int r = 0;
    if (g->group > 1) {
        dims[r] = g->group;
        strides[r++] = cg * mg * ksz;
    }
    dims[r] = mg;
    strides[r++] = ksz;
    dims[r] = cg;
    strides[r++] = mg * ksz;
    int64_t inner = ksz;
    for (int i = 2; i < w->rank; i++) {
        inner /= w->dims[i];
        dims[r] = w->dims[i];
        strides[r++] = inner;
    }
    return any ? ortc_dnnl_md_any(c, md, r, dims) : ortc_dnnl_md_strided(c, md, r, dims, strides);
}

/* The primitive, and in bf16 mode whether oneDNN has no bf16 kernel (but
 * its reference one) for this node, which is then built in fp32. */
typedef struct deconv_state {
    ortc_dnnl_prim prim; /* first: ortc_dnnl_prim_release frees the state */
    bool no_bf16;
} deconv_state;

static ortc_status deconv_build(ortc_opctx *c, void *state)
{
    deconv_state *s = state;
    ortc_dnnl_prim *p = &s->prim;
    deconv_geom g;
    ORTC_TRY(deconv_check(c, &g));
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    const int64_t *ydims = g.ydims;
    int64_t ynumel = 1;
    for (int i = 0; i < x->rank; i++)
        ynumel *= ydims[i];
    if (ortc_tensor_numel(x) == 0 || ortc_tensor_numel(w) == 0 || ynumel == 0)
        return ortc_dnnl_prim_use_ref(c, p); /* nothing for oneDNN to do */
    dnnl_memory_desc_t src, dst, wuser, wwant, bias;
    int64_t mdim = g.m;
    bool wconst = w->data != NULL;
    /* bf16: x (any layout) and constant weights in bf16, dst f32 in the
     * primitive's layout */
    const bool bf16 = ortc_dnnl_bf16_wanted(c) && wconst && !s->no_bf16;
    ortc_status st;
    if ((st = bf16 ? ortc_dnnl_md_any(c, &src, x->rank, x->dims)
                   : ortc_dnnl_md_plain(c, &src, x->rank, x->dims)) ||
        (st = bf16 ? ortc_dnnl_md_any(c, &dst, x->rank, ydims)
                   : ortc_dnnl_md_plain(c, &dst, x->rank, ydims)) ||
        (st = weights_md(c, &g, false, &wuser)) ||
        (st = wconst ? weights_md(c, &g, true, &wwant) : weights_md(c, &g, false, &wwant)) ||
        (b && (st = ortc_dnnl_md_plain(c, &bias, 1, &mdim))))
        return st;
    if (bf16) {
        ortc_dnnl_md_bf16(&src);
        ortc_dnnl_md_bf16(&wwant);
    }
    /* oneDNN's dst size is (in - 1) * stride + extent - pad_l - pad_r, so
     * output_padding comes off the right pad (which may go negative). */
    dnnl_dims_t strides, dil, pl, pr;
    for (int i = 0; i < g.w.nsp; i++) {
        int d = ortc_win_slot(&g.w, i);
        strides[i] = g.w.stride[d];
        dil[i] = g.w.dilation[d] - 1; /* oneDNN counts the gaps */
        pl[i] = g.w.pad_begin[d];
        pr[i] = g.w.pad_end[d] - g.out_pad[d];
    }
    /* oneDNN rejects a negative left pad (output_shape asking for more
     * than the full result on both sides), and output_padding that is not
     * below the stride (ONNX allows it up to the dilation): plain C then */
    for (int i = 0; i < g.w.nsp; i++)
        if (pl[i] < 0 || g.out_pad[ortc_win_slot(&g.w, i)] >= strides[i])
            return ortc_dnnl_prim_use_ref(c, p);
    dnnl_deconvolution_desc_t desc;
    DNNL_CHECK(c, dnnl_dilated_deconvolution_forward_desc_init(
                      &desc, dnnl_forward_inference, dnnl_deconvolution_direct, &src, &wwant,
                      b ? &bias : NULL, &dst, strides, dil, pl, pr));
    dnnl_primitive_attr_t attr;
    if ((st = ortc_dnnl_prim_attr(c, p, &attr, 0.0f)))
        return st;
    const ortc_dnnl_arg args[] = {
        bf16 ? ORTC_DNNL_IN_ANY(DNNL_ARG_SRC, 0) : ORTC_DNNL_IN(DNNL_ARG_SRC, 0),
        ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
        ORTC_DNNL_WEIGHTS(DNNL_ARG_WEIGHTS, 1, &wuser),
        ORTC_DNNL_IN(DNNL_ARG_BIAS, 2),
    };
    if (!bf16) {
        st = ortc_dnnl_prim_create(c, p, &desc, attr, args, b ? 4 : 3);
        dnnl_primitive_attr_destroy(attr);
        return st;
    }
    dnnl_primitive_desc_t pd = NULL;
    bool unimpl = false;
    st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    dnnl_primitive_attr_destroy(attr);
    if (!st && ortc_dnnl_pd_only_ref(&pd, unimpl)) {
        s->no_bf16 = true; /* no bf16 kernel but oneDNN's reference one */
        return deconv_build(c, state);
    }
    if (st)
        return st;
    st = ortc_dnnl_prim_bind(c, p, pd, args, b ? 4 : 3);
    dnnl_primitive_desc_destroy(pd);
    c->bf16 = !st;
    return st;
}

static ortc_status deconv_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(deconv_state), deconv_build, NULL);
}

/* Every input element scatters into M/group output channels x the kernel
 * (W is (C, M/group, k...)). */
static double deconv_flops(const ortc_opctx *c)
{
    const ortc_tensor *w = c->n_in > 1 ? c->in[1] : NULL;
    if (!w || w->rank < 3 || c->n_out < 1 || !c->out[0])
        return 0;
    int64_t per_input = 1;
    for (int d = 1; d < w->rank; d++)
        per_input *= w->dims[d];
    return ortc_op_flops(c->in[0], (double)per_input);
}

const ortc_operator ortc_ops_deconv[] = {
    ORTC_OP("ConvTranspose", 1, 11, .versions = {1, 11}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT),
            .flags = ORTC_OP_POST_OPS | ORTC_OP_POST_OP_SUM | ORTC_OP_MAY_INPLACE,
            .infer = deconv_infer, .prepare = deconv_prepare, .run = ortc_dnnl_prim_exec,
            .release = ortc_dnnl_prim_release, .flops = deconv_flops,
            .reference = deconv_reference),
};
ORTC_OP_TABLE_END(deconv);
