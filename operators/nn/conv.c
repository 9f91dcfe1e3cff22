/* conv.c — Conv (opsets 1 and 11) over 1 to 3 spatial dims: group,
 * dilations, strides, pads or auto_pad, optional bias, and the fused
 * post-ops of operator.h (post_ops.h; "sum" reads input 3); float32 on
 * oneDNN, with the plain-C reference kernel. Layouts: the primitive picks
 * its source and destination formats (format_tag_any) but where a channel
 * Concat reads the output or x arrives channel-blocked (conv_blocked_mds);
 * x is reordered into scratch when it arrives in another layout, and the
 * output stays in the chosen (blocked) layout when every consumer accepts
 * one. A plain output
 * that oneDNN would compute only with its reference implementation (gemm
 * convolutions take a sum post-op only first) is computed in the blocked
 * layout into scratch and reordered. Constant weights are reordered once
 * in prepare; weights fed at run are used plain. 3x3 convolutions with
 * many channels use oneDNN's Winograd algorithm (see conv_winograd_ok),
 * 5x5 ones this project's F(2x2,5x5) kernel (conv_wino5.c, see
 * conv_wino5_ok), which reads nhwc or nChw16c and writes nChw16c.
 * Pointwise convolutions of 1x1 images (squeeze-excite) are a plain-C
 * matrix-vector product (conv_gemv_ok); a trailing swish post-op runs after
 * the primitive in this project's kernel (conv_own_swish). In bf16
 * mode (dnnl_util.h) x and constant weights are bf16, bias and output fp32.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "conv_wino5.h"
#include "dnnl_prim.h"
#include "math/dot4.h"
#include "math/eltwise_fast.h"
#include "post_ops.h"
#include "conv_ref.h"
#include "op_util.h"
#include "plain_util.h"
#include "error.h"

typedef struct conv_state {
    /* The primitive: x as it arrives, reordered into the primitive's
     * layout through scratch when that differs; the output in the chosen
     * layout, or computed in scratch and reordered where it must be plain
     * (oneDNN has only its reference implementation for the plain
     * destination); use_ref where oneDNN has no implementation. */
    ortc_dnnl_prim prim;
    /* 5x5 by this project's Winograd kernel (conv_wino5.c) instead of a
     * primitive, with the same reorders around it in its layouts */
    bool wino5;
    ortc_wino5 w5;
    ortc_dnnl_io w5_io;
    size_t w5_off;
    /* bf16 mode: oneDNN has no bf16 kernel (but its reference one) for
     * this convolution, which is then built in fp32 */
    bool no_bf16;
    /* a pointwise convolution of 1x1 images: a matrix-vector product in
     * plain C (conv_gemv_ok) */
    bool gemv;
    /* the trailing swish post-op runs after the primitive, over the
     * output's out_elems floats (conv_own_swish) */
    bool own_swish;
    int64_t out_elems;
} conv_state;

/* A validated Conv node: window geometry, output channels, groups. */
static ortc_status conv_check(ortc_opctx *c, ortc_conv_geom *cs)
{
    ORTC_TRY(ortc_post_ops_check_inputs(c, 2, 3));
    ORTC_TRY(ortc_conv_geom_init(c, cs, 0, 1));
    ORTC_TRY(ortc_op_check_bias(c, 2, cs->m));
    return ortc_post_ops_check(c, c->in[0]->rank, cs->ydims);
}

static ortc_status conv_infer(ortc_opctx *c)
{
    ortc_conv_geom cs;
    ortc_status st = conv_check(c, &cs);
    if (!st)
        ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, cs.ydims);
    return st;
}

static ortc_status conv_reference(ortc_opctx *c)
{
    ortc_conv_geom cs;
    ORTC_TRY(conv_check(c, &cs));
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    float *y = c->out[0]->data;
    ortc_ref_conv_forward(y, c->in[0]->data, c->in[1]->data, b ? b->data : NULL, &cs.g, cs.m,
                          cs.group);
    ortc_post_ops_apply(c, y, ortc_tensor_numel(c->out[0]));
    return ORTC_STATUS_OK;
}

/* Winograd F(2x2,3x3) / F(4x4,3x3) (oneDNN picks by batch) needs about
 * half the multiplications of the direct 3x3 convolution: on AlexNet's
 * conv3-5 (2 cores, AVX-512) it ran 1.3x (batch 1) to 1.75x (batch 32)
 * faster than brgconv. Its transforms round differently: on the AlexNet
 * exports the outputs stay within 2.2e-6 of PyTorch relative to the
 * largest output (direct: 1.9e-6; the model tests allow 1e-4). Used for
 * 3x3, stride 1, undilated, ungrouped, constant weights, and at least this
 * many input and output channels (below it the transforms cost more than
 * they save); oneDNN needs its own blocked layout for the output, so only
 * where the output may be blocked. */
#define CONV_WINOGRAD_MIN_CHANNELS 64

/* oneDNN 2.6 runs Winograd as F(4x4,3x3) on larger images and as
 * F(2x2,3x3) ("wino_2x3") on small ones, where its blocking leaves it slow
 * for fewer than 224 input channels. Batch 1, 3x3 pad 1 + ReLU, 2 threads,
 * AMD Zen 5, ms, F(2x2,3x3) / brgconv: 13x13 192->384 0.94 / 0.53 (the
 * torchvision AlexNet's conv3), 208->384 0.99 / 0.54, 160->384 0.58 /
 * 0.44, 128->384 0.40 / 0.37, 64->192 0.12 / 0.10; 14x14 192->192 0.36 /
 * 0.32, 128->128 0.14 / 0.15; 7x7 192->384 0.26 / 0.17, 128->128 0.050 /
 * 0.044; against 224->384 0.42 / 0.63, 256->384 0.47 / 0.70, 384->384 0.71
 * / 1.03 at 13x13, 256->256 0.33 / 0.52 at 14x14 and 64->64 0.11 / 0.15 at
 * 28x28. So F(2x2,3x3) on outputs of at most this many 2x2 tiles (over
 * the batch) needs at least CONV_WINO2X3_SMALL_MIN_CHANNELS input
 * channels. */
#define CONV_WINO2X3_SMALL_TILES 64
#define CONV_WINO2X3_SMALL_MIN_CHANNELS 224

static bool conv_wino2x3_slow(const_dnnl_primitive_desc_t pd, const ortc_conv_geom *cs,
                              int64_t in_channels)
{
    if (!strstr(ortc_dnnl_impl_name(pd), "wino_2x3"))
        return false;
    int64_t tiles = cs->ydims[0] * ((cs->ydims[2] + 1) / 2) * ((cs->ydims[3] + 1) / 2);
    return tiles <= CONV_WINO2X3_SMALL_TILES && in_channels < CONV_WINO2X3_SMALL_MIN_CHANNELS;
}

/* Both spatial dims: a k x k kernel, stride 1, undilated. */
static bool conv_window_is(const ortc_conv_geom *cs, int64_t k)
{
    for (int i = 0; i < 2; i++) {
        int d = ortc_win_slot(&cs->g, i);
        if (cs->g.kernel[d] != k || cs->g.stride[d] != 1 || cs->g.dilation[d] != 1)
            return false;
    }
    return true;
}

static bool conv_winograd_ok(const ortc_opctx *c, const ortc_conv_geom *cs)
{
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    if (cs->g.nsp != 2 || cs->group != 1 || !w->data || !c->out_blocked_ok || !c->out_blocked_ok[0])
        return false;
    return x->dims[1] >= CONV_WINOGRAD_MIN_CHANNELS && cs->m >= CONV_WINOGRAD_MIN_CHANNELS &&
           conv_window_is(cs, 3);
}

/* F(2x2,5x5) Winograd (conv_wino5.c) needs 36 multiplications per 2x2
 * output tile and channel pair where the direct 5x5 convolution needs 100.
 * AlexNet's conv2 (96 -> 256 channels, 27x27, 2 threads, a Zen 4 host,
 * side by side in the seed model): 2.1-2.4 ms at batch 1 where oneDNN
 * 2.6's brgconv took 3.8-3.9 ms, 74-76 ms at batch 32 where it took
 * 120-124 (whole model: 148 vs 118 images/s). Its matrix products run near
 * the core's FMA peak; the transforms are about a sixth of its time.
 * Rounding: the seed export's output stays within 3.0e-8 of PyTorch's
 * (direct: 3.1e-8; the model tests allow 3e-6). Taken for 5x5, stride 1, undilated,
 * ungrouped, constant weights and bias, at least this many input and output
 * channels, output channels a multiple of 16, post-ops the kernel knows, on
 * CPUs with AVX-512. */
#define CONV_WINO5_MIN_CHANNELS 32

static bool conv_wino5_ok(const ortc_opctx *c, const ortc_conv_geom *cs)
{
    const ortc_node *n = c->node;
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    if (cs->g.nsp != 2 || cs->group != 1 || !w->data || (b && !b->data) || !ortc_wino5_available())
        return false;
    if (x->dims[1] < CONV_WINO5_MIN_CHANNELS || cs->m < CONV_WINO5_MIN_CHANNELS || cs->m % 16 ||
        !conv_window_is(cs, 5))
        return false;
    if (n->n_post_ops > ORTC_WINO5_MAX_ACTS)
        return false;
    for (int i = 0; i < n->n_post_ops; i++)
        if (n->post_ops[i].kind != ORTC_POST_OP_RELU &&
            n->post_ops[i].kind != ORTC_POST_OP_LEAKY_RELU &&
            n->post_ops[i].kind != ORTC_POST_OP_CLIP)
            return false;
    return true;
}

/* Strides of a 4-D tensor (N, C, H, W) in nhwc or nChw16c for conv_wino5. */
static ortc_wino5_layout wino5_layout(const int64_t *dims, bool blocked16)
{
    int64_t c = dims[1], h = dims[2], w = dims[3];
    if (blocked16)
        return (ortc_wino5_layout){
            .sn = (c + 15) / 16 * h * w * 16, .scb = h * w * 16, .sh = w * 16, .sw = 16};
    return (ortc_wino5_layout){.sn = h * w * c, .scb = 16, .sh = w * c, .sw = c};
}

static ortc_status conv_wino5_build(ortc_opctx *c, conv_state *s, const ortc_conv_geom *cs)
{
    const ortc_node *n = c->node;
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    const int64_t *ydims = cs->ydims;
    dnnl_memory_desc_t x_md, nhwc, x16, y16;
    ORTC_TRY(ortc_dnnl_md_input(c, 0, &x_md));
    ORTC_TRY(ortc_dnnl_md_tag(c, &nhwc, 4, x->dims, dnnl_acdb));
    ORTC_TRY(ortc_dnnl_md_tag(c, &x16, 4, x->dims, dnnl_aBcd16b));
    ORTC_TRY(ortc_dnnl_md_tag(c, &y16, 4, ydims, dnnl_aBcd16b));
    bool x_blocked = x->dims[1] % 16 == 0 && dnnl_memory_desc_equal(&x_md, &x16);
    s->wino5 = true;
    ortc_wino5 *k = &s->w5;
    int dh = ortc_win_slot(&cs->g, 0), dw = ortc_win_slot(&cs->g, 1);
    *k = (ortc_wino5){
        .n = x->dims[0],
        .ic = x->dims[1],
        .oc = cs->m,
        .ih = x->dims[2],
        .iw = x->dims[3],
        .oh = ydims[2],
        .ow = ydims[3],
        .pad_top = cs->g.pad_begin[dh],
        .pad_left = cs->g.pad_begin[dw],
        .x = wino5_layout(x->dims, x_blocked),
        .y = wino5_layout(ydims, true),
        .threads = c->backend ? c->backend->threads : 1,
    };
    for (int i = 0; i < n->n_post_ops; i++) {
        const ortc_post_op *po = &n->post_ops[i];
        k->act[i].kind = po->kind == ORTC_POST_OP_RELU         ? ORTC_WINO5_RELU
                         : po->kind == ORTC_POST_OP_LEAKY_RELU ? ORTC_WINO5_LEAKY_RELU
                                                               : ORTC_WINO5_CLIP;
        k->act[i].a = po->alpha;
        k->act[i].b = po->beta;
    }
    k->n_act = n->n_post_ops;
    if (!ortc_wino5_init(k, w->data, b ? b->data : NULL))
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                             "out of memory transforming the 5x5 weights of '%s'",
                             ortc_plain_input_name(c, 1));
    /* the reorders run before and after the kernel: their scratchpads may
     * share the kernel's region after the buffers */
    size_t used = 0;
    ORTC_TRY(
        ortc_dnnl_io_init(c, &s->w5_io, 0, NULL, x_blocked ? &x16 : &nhwc, 0, &y16, NULL, &used));
    s->w5_off = ortc_dnnl_scratch_take(c, &used, ortc_wino5_scratch(k));
    c->impl = "ortc:wino5_f2x2_5x5";
    return ORTC_STATUS_OK;
}

bool ortc_conv_uses_wino5(const void *state)
{
    const conv_state *s = state;
    return s && s->wino5;
}

/* Channel-blocked by 16 (nChw16c and its 1-D/3-D kin) over dims. */
static ortc_status conv_md_c16(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims)
{
    static const dnnl_format_tag_t tags[] = {dnnl_aBc16b, dnnl_aBcd16b, dnnl_aBcde16b};
    return ortc_dnnl_md_tag(c, md, rank, dims, tags[rank - 3]);
}

/* A convolution whose images are single pixels (every spatial dim of x and
 * y is 1, kernel 1, so no padding) is a fully connected layer, y (N, M) =
 * x (N, C) W^T + bias over the model's (M, C, 1...) weights: what a
 * squeeze-and-excitation block's two convolutions after its global pool
 * are (efficientnet_b0 has 32, mobilenet_v3_large 16). oneDNN's brgconv
 * runs one such product in 5-23 us (efficientnet_b0, 2 threads: 0.36 ms per
 * image, 4% of the run), mostly its fixed cost per execution; the plain-C
 * product below reads the weights once. Taken for ungrouped convolutions
 * with constant weights and bias, fp32, post-ops without a sum (applied in
 * plain C), and x plain or blocked in a layout with the bytes of (N, C):
 * channels-last, or blocked by 16 with C a multiple of 16; the output is
 * plain. */
static bool conv_gemv_ok(ortc_opctx *c, const ortc_conv_geom *cs)
{
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    if (cs->group != 1 || !w->data || (b && !b->data) || x->rank < 3 || x->rank > 5 ||
        ortc_post_ops_has_sum(c->node))
        return false;
    for (int i = 2; i < x->rank; i++)
        if (x->dims[i] != 1 || cs->ydims[i] != 1 || w->dims[i] != 1)
            return false;
    if (!ortc_dnnl_in_blocked(c, 0))
        return true;
    static const dnnl_format_tag_t nhwc[] = {dnnl_acb, dnnl_acdb, dnnl_acdeb};
    dnnl_memory_desc_t in, like;
    if (ortc_dnnl_md_input(c, 0, &in) ||
        ortc_dnnl_md_tag(c, &like, x->rank, x->dims, nhwc[x->rank - 3]))
        return false;
    if (dnnl_memory_desc_equal(&in, &like))
        return true;
    if (x->dims[1] % 16 || conv_md_c16(c, &like, x->rank, x->dims))
        return false;
    return dnnl_memory_desc_equal(&in, &like);
}

/* Products below this many multiply-adds run on one thread (a parallel
 * region costs more than the work); larger ones split the output channels,
 * each thread streaming its share of the weights (which come from beyond
 * L2: one pass per run). */
#define CONV_GEMV_MIN_PARALLEL ((int64_t)1 << 12)

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define CONV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CONV_CLONES
#endif

/* e^x for x in [-87, 87] (callers clamp) in float arithmetic the compiler
 * vectorises: x = k ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor
 * series to r^6 (relative error below 2e-7), 2^k through the exponent
 * bits. */
static inline float conv_exp(float x)
{
    /* round to nearest through 1.5 * 2^23, where floats are integers */
    float k = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = x - k * 0.693145752f - k * 1.42860677e-6f;
    float p =
        1.0f +
        r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r / 720)))));
    int32_t bits = ((int32_t)k + 127) << 23;
    float two_k;
    memcpy(&two_k, &bits, sizeof two_k);
    return p * two_k;
}

/* Whether conv_gemv_rows applies every post-op of n itself (below). */
static bool conv_gemv_fast_post_ops(const ortc_node *n)
{
    for (int i = 0; i < n->n_post_ops; i++)
        switch (n->post_ops[i].kind) {
        case ORTC_POST_OP_RELU:
        case ORTC_POST_OP_SIGMOID:
        case ORTC_POST_OP_SWISH:
        case ORTC_POST_OP_HARD_SIGMOID: break;
        default: return false;
        }
    return true;
}

/* y[r][o] = bias[o] + dot(x[r], w[o]) for rows r < n, outputs [o0, o1),
 * then the post-ops po (the kinds of conv_gemv_fast_post_ops). */
CONV_CLONES static void conv_gemv_rows(float *y, const float *x, const float *w, const float *bias,
                                       int64_t n, int64_t m, int64_t k, int64_t o0, int64_t o1,
                                       const ortc_post_op *po, int npo)
{
    /* four rows at a time: each weight row is read once per four (and the
     * four sums are independent chains) */
    int64_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *x0 = x + r * k;
        for (int64_t o = o0; o < o1; o++) {
            float s[4];
            ortc_dot4_f32(x0, x0 + k, x0 + 2 * k, x0 + 3 * k, w + o * k, k, s);
            const float bo = bias ? bias[o] : 0.0f;
            for (int j = 0; j < 4; j++)
                y[(r + j) * m + o] = s[j] + bo;
        }
    }
    for (; r < n; r++) {
        const float *xr = x + r * k;
        float *yr = y + r * m;
        for (int64_t o = o0; o < o1; o++) {
            const float *wo = w + o * k;
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (int64_t i = 0; i < k; i++)
                acc += wo[i] * xr[i];
            yr[o] = acc + (bias ? bias[o] : 0.0f);
        }
    }
    for (r = 0; r < n; r++) {
        float *yr = y + r * m;
        for (int i = 0; i < npo; i++) {
            const float alpha = po[i].alpha, beta = po[i].beta;
            switch (po[i].kind) {
            case ORTC_POST_OP_RELU:
#pragma omp simd
                for (int64_t o = o0; o < o1; o++)
                    yr[o] = yr[o] > 0.0f ? yr[o] : 0.0f;
                break;
            case ORTC_POST_OP_SIGMOID: /* 1 / (1 + e^-y) */
            case ORTC_POST_OP_SWISH: { /* y / (1 + e^-y) */
                const bool swish = po[i].kind == ORTC_POST_OP_SWISH;
#pragma omp simd
                for (int64_t o = o0; o < o1; o++) {
                    float v = -yr[o];
                    v = v < -87.0f ? -87.0f : v > 87.0f ? 87.0f : v;
                    yr[o] = (swish ? yr[o] : 1.0f) / (1.0f + conv_exp(v));
                }
                break;
            }
            default: /* ORTC_POST_OP_HARD_SIGMOID */
#pragma omp simd
                for (int64_t o = o0; o < o1; o++) {
                    float v = alpha * yr[o] + beta;
                    yr[o] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                }
                break;
            }
        }
    }
}

static void conv_gemv_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    const ortc_node *node = c->node;
    const float *w = c->in[1]->data, *bias = c->n_in > 2 ? c->in[2]->data : NULL;
    float *y = c->out[0]->data;
    const int64_t n = x->dims[0], k = x->dims[1], m = c->out[0]->dims[1];
    const bool fast = conv_gemv_fast_post_ops(node);
    const ortc_post_op *po = node->post_ops;
    const int npo = fast ? node->n_post_ops : 0;
    int threads = c->backend ? c->backend->threads : 1;
    if (threads < 2 || n * m * k < CONV_GEMV_MIN_PARALLEL)
        conv_gemv_rows(y, x->data, w, bias, n, m, k, 0, m, po, npo);
    else {
#pragma omp parallel num_threads(threads)
        {
            int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
            int64_t per = ((m + nt - 1) / nt + 15) & ~(int64_t)15;
            int64_t o0 = t * per, o1 = o0 + per < m ? o0 + per : m;
            if (o0 < o1)
                conv_gemv_rows(y, x->data, w, bias, n, m, k, o0, o1, po, npo);
        }
    }
    if (!fast)
        ortc_post_ops_apply(c, y, n * m);
}

/* oneDNN's convolutions over plain (nchw) layouts are im2col + GEMM
 * ("gemm:jit"), one GEMM per group: for depthwise and grouped
 * convolutions a string of tiny products. Where the output must be plain
 * such a kernel is traded for a JIT one computing in its own layout, with
 * the source and the result reordered around it: efficientnet_b0 and
 * mobilenet_v3_large (depthwise 3x3/5x5 feeding squeeze-excite) ran about
 * 2x faster whole (1 thread, side by side, medians). Ungrouped ones keep
 * GEMM (a single product; switching would also change the rounding of
 * existing models). */
static bool conv_is_gemm(const_dnnl_primitive_desc_t pd)
{
    return strstr(ortc_dnnl_impl_name(pd), "gemm") != NULL;
}

/* Every spatial dim of the kernel is 1. */
static bool conv_pointwise(const ortc_conv_geom *cs)
{
    for (int i = 0; i < cs->g.nsp; i++)
        if (cs->g.kernel[ortc_win_slot(&cs->g, i)] != 1)
            return false;
    return true;
}

static bool conv_gemm_slow(const_dnnl_primitive_desc_t pd, const ortc_conv_geom *cs)
{
    return cs->group > 1 && conv_is_gemm(pd);
}

/* bf16 mode: whether output 0 may itself be bf16: it stays blocked and
 * only convolutions read it, as their x, which they would convert to bf16
 * anyway (so the rounding is the same); each consumer's conversion pass is
 * saved and the value takes half the bytes. A consumer that runs fp32 after
 * all converts it back (its reorder from the value's layout). Not with a
 * fused sum (its summand is fp32, added in the destination). */
static bool conv_dst_bf16_ok(const ortc_opctx *c)
{
    const ortc_value *v = c->node->n_outputs > 0 ? c->node->outputs[0] : NULL;
    if (!v || v->n_uses < 1 || !ortc_dnnl_out_blocked_ok(c, 0) || ortc_post_ops_has_sum(c->node))
        return false;
    for (int u = 0; u < v->n_uses; u++) {
        const ortc_node *n = v->uses[u].node;
        if (!ortc_node_is_onnx(n, "Conv") || v->uses[u].input != 0)
            return false;
    }
    return true;
}

/* Whether a Concat over channels reads output 0: its inputs can then sit
 * in the Concat's buffer (runtime/compile.c plan_joins) when they are
 * channel-blocked (concat_dnnl.c concat_joins), never when channels-last,
 * which brgconv picks: DenseNet's 58 two-input Concats and Inception's
 * branch joins each copied their inputs (densenet121, batch 1: 7.5% of
 * the run in Concat, and its BatchNormalizations read channels-last). */
static bool conv_feeds_channel_concat(const ortc_opctx *c)
{
    const ortc_value *v = c->node->n_outputs > 0 ? c->node->outputs[0] : NULL;
    if (!v)
        return false;
    int rank = c->out[0]->rank;
    for (int u = 0; u < v->n_uses; u++) {
        const ortc_node *n = v->uses[u].node;
        if (!ortc_node_is_onnx(n, "Concat"))
            continue;
        int64_t axis = ortc_node_attr_int(n, "axis", 0);
        if (axis == 1 || axis == 1 - rank)
            return true;
    }
    return false;
}

/* The layouts of x and y where they differ from the primitive's choice
 * (format_tag_any, where oneDNN 2.6 picks channels-last for brgconv):
 * channel-blocked by 16 for an output a channel Concat reads (above); and
 * x as it arrives when it arrives so (a Winograd convolution's, a joined
 * Concat's, a BatchNormalization's of one), saving a reorder into
 * channels-last per run (oneDNN then runs its direct JIT kernels; resnet50
 * has two such reorders around each Winograd 3x3). 1-3 spatial dims,
 * ungrouped, channels multiples of 16, fp32, the output blocked anyway;
 * conv_build goes back to oneDNN's choice where these layouts have only its
 * reference or GEMM kernel. Measured (1 thread, batch 1, min of 2-3
 * alternating runs on a loaded machine): densenet121 49.3 -> 43.1 ms,
 * googlenet 18.1 -> 16.8, resnet50 54.5 -> 53.5 (also 2 threads). */
static ortc_status conv_blocked_mds(ortc_opctx *c, const ortc_conv_geom *cs, bool blocked_out,
                                    dnnl_memory_desc_t *src, dnnl_memory_desc_t *dst)
{
    const ortc_tensor *x = c->in[0];
    if (!blocked_out || cs->group != 1 || x->rank < 3 || x->rank > 5 || cs->m % 16)
        return ORTC_STATUS_OK;
    bool x16 = false;
    if (ortc_dnnl_in_blocked(c, 0) && x->dims[1] % 16 == 0) {
        dnnl_memory_desc_t in, like;
        ORTC_TRY(ortc_dnnl_md_input(c, 0, &in));
        ORTC_TRY(conv_md_c16(c, &like, x->rank, x->dims));
        x16 = dnnl_memory_desc_equal(&in, &like);
    }
    bool join = conv_feeds_channel_concat(c);
    if (join)
        ORTC_TRY(conv_md_c16(c, dst, x->rank, cs->ydims));
    return x16 ? conv_md_c16(c, src, x->rank, x->dims) : ORTC_STATUS_OK;
}

/* A trailing swish (SiLU) post-op in oneDNN 2.6 divides once per 16
 * floats (vdivps) in its logistic: measured on efficientnet_b0's shapes
 * (2 threads, min of 200 runs), a 1x1 24 -> 144 convolution over 56x56
 * took 0.182 ms with it and 0.069 ms without, the depthwise 3x3 after it
 * 0.162 against 0.058: the swishes were about 60% of those steps and of
 * the order of a quarter of the model. ortc_fast_swish_f32 (a reciprocal
 * and a Newton step instead of the division) over the output after the
 * primitive took those to 0.142 and 0.130 ms. Taken where the node's
 * post-ops end in swish, fp32, on CPUs with AVX-512 (elsewhere the
 * fallback is a scalar loop: oneDNN's vector form stays). The second pass
 * over the output pays where the output is still in the cores' L2 (up to
 * CONV_OWN_SWISH_MAX_BYTES per thread); beyond, it is a round trip to L3 or
 * memory: at batch 8 efficientnet_b0's 1x1 steps (outputs up to 38 MB)
 * took longer than with oneDNN's swish (1 thread CPU time of the model:
 * median 134 against 121 ms, 3 rounds on a loaded machine). Returns attr
 * without its last entry in *out (NULL: keep attr). */
#define CONV_OWN_SWISH_MAX_BYTES ((int64_t)2 << 20)

static ortc_status conv_own_swish(ortc_opctx *c, const ortc_conv_geom *cs,
                                  const_dnnl_primitive_attr_t attr, dnnl_primitive_attr_t *out)
{
    *out = NULL;
    const ortc_node *n = c->node;
    if (n->n_post_ops < 1 || n->post_ops[n->n_post_ops - 1].kind != ORTC_POST_OP_SWISH)
        return ORTC_STATUS_OK;
    const int threads = c->backend && c->backend->threads > 1 ? c->backend->threads : 1;
    int64_t bytes = (int64_t)sizeof(float);
    for (int i = 0; i < c->in[0]->rank; i++)
        bytes *= cs->ydims[i];
    if (bytes > threads * CONV_OWN_SWISH_MAX_BYTES)
        return ORTC_STATUS_OK;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!__builtin_cpu_supports("avx512f"))
        return ORTC_STATUS_OK;
#else
    return ORTC_STATUS_OK;
#endif
    const_dnnl_post_ops_t po;
    DNNL_CHECK(c, dnnl_primitive_attr_get_post_ops(attr, &po));
    int len = dnnl_post_ops_len(po);
    dnnl_post_ops_t ops;
    DNNL_CHECK(c, dnnl_post_ops_create(&ops));
    dnnl_status_t st = dnnl_success;
    for (int i = 0; st == dnnl_success && i < len - 1; i++) {
        float scale, alpha, beta;
        dnnl_alg_kind_t alg;
        switch (dnnl_post_ops_get_kind(po, i)) {
        case dnnl_sum:
            st = dnnl_post_ops_get_params_sum(po, i, &scale);
            if (st == dnnl_success)
                st = dnnl_post_ops_append_sum(ops, scale);
            break;
        case dnnl_eltwise:
            st = dnnl_post_ops_get_params_eltwise(po, i, &scale, &alg, &alpha, &beta);
            if (st == dnnl_success)
                st = dnnl_post_ops_append_eltwise(ops, scale, alg, alpha, beta);
            break;
        default: st = dnnl_unimplemented; break; /* not from append_post_op: keep attr */
        }
    }
    /* a new attribute (oneDNN 2.6 keeps a clone's post-ops when given an
     * empty list) */
    ortc_status rc = ORTC_STATUS_OK;
    if (st == dnnl_success && !(rc = ortc_dnnl_attr_new(c, out)) && len > 1 &&
        dnnl_primitive_attr_set_post_ops(*out, ops) != dnnl_success) {
        dnnl_primitive_attr_destroy(*out);
        *out = NULL; /* the full attr stays */
    }
    dnnl_post_ops_destroy(ops);
    return rc;
}

static ortc_status conv_build(ortc_opctx *c, void *state)
{
    conv_state *s = state;
    ortc_conv_geom cs;
    ORTC_TRY(conv_check(c, &cs));
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    if (ortc_tensor_numel(x) == 0 || ortc_tensor_numel(w) == 0)
        return ortc_dnnl_prim_use_ref(c, &s->prim); /* nothing for oneDNN to do */
    /* bf16 mode: x and constant weights in bf16 (weights converted once
     * with their reorder below), bias and output fp32; no Winograd (fp32
     * kernels) */
    const bool bf16 = ortc_dnnl_bf16_wanted(c) && w->data && !s->no_bf16;
    if (!bf16 && conv_wino5_ok(c, &cs))
        return conv_wino5_build(c, s, &cs);
    if (!bf16 && conv_gemv_ok(c, &cs)) {
        s->gemv = true;
        c->impl = "ortc:conv_gemv";
        return ORTC_STATUS_OK;
    }
    const int64_t *ydims = cs.ydims;
    int64_t wdims[ORTC_MAX_RANK + 1];
    /* grouped weights are (G, M/G, C/G, k...): the same bytes as (M, C/G, k...) */
    int wrank = w->rank;
    if (cs.group > 1) {
        wdims[0] = cs.group;
        wdims[1] = cs.m / cs.group;
        for (int i = 1; i < w->rank; i++)
            wdims[i + 1] = w->dims[i];
        wrank++;
    } else
        for (int i = 0; i < w->rank; i++)
            wdims[i] = w->dims[i];

    /* source and destination: the primitive's choice (any); the output
     * stays plain unless every consumer takes a blocked layout */
    dnnl_memory_desc_t src, dst, wplain, wwant, bias;
    int64_t mdim = cs.m;
    bool wconst = w->data != NULL;
    bool blocked_out = ortc_dnnl_out_blocked_ok(c, 0);
    ortc_status st;
    if ((st = ortc_dnnl_md_any(c, &src, x->rank, x->dims)) ||
        (st = blocked_out ? ortc_dnnl_md_any(c, &dst, x->rank, ydims)
                          : ortc_dnnl_md_plain(c, &dst, x->rank, ydims)) ||
        (st = ortc_dnnl_md_plain(c, &wplain, wrank, wdims)) ||
        (st = wconst ? ortc_dnnl_md_any(c, &wwant, wrank, wdims)
                     : ortc_dnnl_md_plain(c, &wwant, wrank, wdims)) ||
        (b && (st = ortc_dnnl_md_plain(c, &bias, 1, &mdim))))
        return st;
    const dnnl_memory_desc_t src_any = src, dst_any = dst;
    if (!bf16 && (st = conv_blocked_mds(c, &cs, blocked_out, &src, &dst)))
        return st;
    bool chosen =
        !dnnl_memory_desc_equal(&src, &src_any) || !dnnl_memory_desc_equal(&dst, &dst_any);
    if (bf16) {
        ortc_dnnl_md_bf16(&src);
        ortc_dnnl_md_bf16(&wwant);
        if (blocked_out && conv_dst_bf16_ok(c))
            ortc_dnnl_md_bf16(&dst);
    }

    dnnl_dims_t strides, dil, pl, pr;
    ortc_window_dnnl_dims(&cs.g, strides, dil, pl, pr);
    dnnl_convolution_desc_t desc;
    DNNL_CHECK(c, dnnl_dilated_convolution_forward_desc_init(
                      &desc, dnnl_forward_inference, dnnl_convolution_direct, &src, &wwant,
                      b ? &bias : NULL, &dst, strides, dil, pl, pr));
    dnnl_primitive_attr_t attr, no_swish = NULL;
    if ((st = ortc_dnnl_prim_attr(c, &s->prim, &attr, 0.0f)))
        return st;
    s->own_swish = false;
    if (!bf16 && (st = conv_own_swish(c, &cs, attr, &no_swish))) {
        dnnl_primitive_attr_destroy(attr);
        return st;
    }
    if (no_swish) {
        dnnl_primitive_attr_destroy(attr);
        attr = no_swish;
        s->own_swish = true;
    }
    dnnl_primitive_desc_t pd = NULL, alt = NULL;
    bool unimpl = false, alt_unimpl = false;
    if (!bf16 && conv_winograd_ok(c, &cs)) {
        dnnl_convolution_desc_t wino = desc;
        wino.alg_kind = dnnl_convolution_winograd;
        st = ortc_dnnl_pd_create(c, &pd, &wino, attr, &unimpl); /* NULL: not for this shape */
        unimpl = false;
        if (!st && pd && conv_wino2x3_slow(pd, &cs, x->dims[1])) {
            dnnl_primitive_desc_destroy(pd);
            pd = NULL;
        }
    }
    if (!st && !pd)
        st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    if (!st && chosen && (unimpl || ortc_dnnl_impl_is_ref(pd) || conv_is_gemm(pd))) {
        /* no JIT kernel in the channel-blocked layouts (dilated ones:
         * deeplabv3's ASPP ran oneDNN's reference): the primitive's choice */
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        pd = NULL;
        unimpl = false;
        desc.src_desc = src_any;
        desc.dst_desc = dst_any;
        st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    }
    /* bf16: oneDNN 2.6's im2col + bf16 GEMM with a k x k kernel ran much
     * slower than its direct bf16 kernel in its own layouts (3x3, 128 ->
     * 128 channels, 56x56, batch 1, 1 thread, AVX-512 BF16 without AMX:
     * 16.7-19.7 ms against 10.5-10.9 with the reorders, best of 40 on a
     * loaded machine); for 1x1 GEMM stayed a little ahead (256 -> 256:
     * 5.0 ms against 5.4-5.7) */
    bool bf16_gemm_slow = bf16 && pd && conv_is_gemm(pd) && !conv_pointwise(&cs);
    if (!st && !unimpl && !blocked_out &&
        (ortc_dnnl_impl_is_ref(pd) || conv_gemm_slow(pd, &cs) || bf16_gemm_slow)) {
        /* the same with the destination in the primitive's own layout */
        dnnl_convolution_desc_t any_desc = desc;
        st = ortc_dnnl_md_any(c, &any_desc.dst_desc, x->rank, ydims);
        if (!st)
            st = ortc_dnnl_pd_create(c, &alt, &any_desc, attr, &alt_unimpl);
        if (!st && alt && !ortc_dnnl_impl_is_ref(alt) && !conv_is_gemm(alt) &&
            !ortc_dnnl_md_is_plain(dnnl_primitive_desc_query_md(alt, dnnl_query_dst_md, 0))) {
            dnnl_primitive_desc_destroy(pd); /* computed in scratch, then reordered */
            pd = alt;
            alt = NULL;
        }
    }
    if (alt)
        dnnl_primitive_desc_destroy(alt);
    dnnl_primitive_attr_destroy(attr);
    if (!st && bf16 && ortc_dnnl_pd_only_ref(&pd, unimpl)) {
        s->no_bf16 = true; /* no bf16 kernel but oneDNN's reference one */
        return conv_build(c, state);
    }
    if (st) {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        return st;
    }
    if (unimpl)
        return ortc_dnnl_prim_use_ref(c, &s->prim);
    const ortc_dnnl_arg args[] = {
        ORTC_DNNL_IN_ANY(DNNL_ARG_SRC, 0),
        ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
        ORTC_DNNL_WEIGHTS(DNNL_ARG_WEIGHTS, 1, &wplain),
        ORTC_DNNL_IN(DNNL_ARG_BIAS, 2),
    };
    st = ortc_dnnl_prim_bind(c, &s->prim, pd, args, b ? 4 : 3);
    dnnl_primitive_desc_destroy(pd);
    c->bf16 = bf16 && !st;
    if (!st && s->own_swish) {
        const ortc_layout *l = c->out_layout ? c->out_layout[0] : NULL;
        s->out_elems = (int64_t)((l ? l->bytes : ortc_tensor_bytes(c->out[0])) / sizeof(float));
        s->own_swish = !s->prim.use_ref; /* the reference kernel applies every post-op */
    }
    return st;
}

static void conv_release(ortc_opctx *c)
{
    conv_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_prim_free(&s->prim);
    ortc_dnnl_io_free(&s->w5_io);
    if (s->wino5)
        ortc_wino5_free(&s->w5);
    free(s);
    c->state = NULL;
}

static ortc_status conv_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(conv_state), conv_build, conv_release);
}

static ortc_status conv_run(ortc_opctx *c)
{
    conv_state *s = c->state;
    if (s && s->gemv) {
        conv_gemv_run(c);
        return ORTC_STATUS_OK;
    }
    if (s && s->own_swish) {
        ORTC_TRY(ortc_dnnl_prim_exec(c));
        float *y = c->out[0]->data;
        ortc_fast_swish_f32(y, y, s->out_elems, c->backend ? c->backend->threads : 1);
        return ORTC_STATUS_OK;
    }
    if (!s || !s->wino5)
        return ortc_dnnl_prim_exec(c);
    const void *x;
    void *y;
    ORTC_TRY(ortc_dnnl_io_begin(c, &s->w5_io, c->in[0]->data, &x, &y));
    ortc_wino5_run(&s->w5, x, y, ortc_dnnl_scratch_at(c, s->w5_off));
    return ortc_dnnl_io_end(c, &s->w5_io, y);
}

static double conv_flops(const ortc_opctx *c)
{
    return ortc_conv_flops(c, 1);
}

const ortc_operator ortc_ops_conv[] = {
    ORTC_OP("Conv", 1, 11, .versions = {1, 11}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT),
            .flags = ORTC_OP_ACCEPTS_BLOCKED | ORTC_OP_POST_OPS | ORTC_OP_POST_OP_SUM |
                     ORTC_OP_MAY_INPLACE,
            .infer = conv_infer, .prepare = conv_prepare, .run = conv_run, .release = conv_release,
            .flops = conv_flops, .reference = conv_reference),
};
ORTC_OP_TABLE_END(conv);
