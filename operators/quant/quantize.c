/* quantize.c — QuantizeLinear (opsets 10 and 13), DequantizeLinear (10, 13)
 * and DynamicQuantizeLinear (11) in plain C: float32 or int32 to uint8 or
 * int8 and back, per tensor or (opset 13) per axis, with ONNX's formulas
 * (quant.h): round half to even, saturation. Each element's arithmetic is
 * exactly the spec's in float32, so the graph pass's int8 kernels can be
 * held to it. Kernels split the tensor over the node's threads.
 *
 * In the graph pass's ortc_qdq mode (qlinear.h) a QuantizeLinear also
 * applies the float32 element-wise ops the pass folded into it before
 * quantizing: its fused post-ops in order on x, a sum adding input 3 (a
 * float32 summand of x's shape), and may also write that float32 value as
 * output 1 (for its other readers): Add -> Relu -> QuantizeLinear becomes
 * one pass over memory with each element's arithmetic unchanged.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "plain_util.h"
#include "post_ops.h"
#include "qlinear.h"
#include "quant.h"

static int n_threads(const ortc_opctx *c)
{
    return c->threads > 0 ? c->threads : 1;
}

/* Below this many elements per thread one thread does it all. */
#define Q_MIN_PER_THREAD 16384

static int threads_for(int64_t n, int threads)
{
    int64_t t = n / Q_MIN_PER_THREAD;
    return t < 1 ? 1 : t < threads ? (int)t : threads;
}

/* ---- kernels ---------------------------------------------------------------- */

/* The row kernels are cloned per instruction set (runtime dispatch: the
 * loops vectorise 16 wide on AVX-512, 8 on AVX2); the arithmetic is the
 * same IEEE operations in each, so the bytes are too. The clones dispatch
 * through an ifunc whose resolver runs before ThreadSanitizer's runtime is
 * up: TSan builds use the default version only. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define Q_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define Q_CLONES
#endif

/* One contiguous run of `len` elements with one parameter pair:
 * ortc_q_quantize's steps (quant.h) with the clamps in float, which is the
 * same arithmetic (the zero point and the bounds are small integers, exact
 * in float). Without trapping math GCC makes the comparisons vector selects
 * (NaN still selects the bound) and vectorises the loop. */
#define Q_ROW(name, TY, TX)                                                                        \
    __attribute__((optimize("no-trapping-math"))) Q_CLONES static void name(                       \
        TY *y, const TX *x, int64_t len, float s, int32_t z, int32_t lo, int32_t hi)               \
    {                                                                                              \
        const float zf = (float)z, lof = (float)lo, hif = (float)hi;                               \
        _Pragma("omp simd") for (int64_t i = 0; i < len; i++)                                      \
        {                                                                                          \
            float v = (float)x[i] / s;                                                             \
            v = v > -4194304.0f ? v : -4194304.0f;                                                 \
            v = v < 4194304.0f ? v : 4194304.0f;                                                   \
            v = ((v + 12582912.0f) - 12582912.0f) + zf; /* ortc_q_round, inline */                 \
            v = v > lof ? v : lof;                                                                 \
            v = v < hif ? v : hif;                                                                 \
            y[i] = (TY)(int32_t)v;                                                                 \
        }                                                                                          \
    }
Q_ROW(q_row_f32_u8, uint8_t, float)
Q_ROW(q_row_f32_i8, int8_t, float)
Q_ROW(q_row_i32_u8, uint8_t, int32_t)
Q_ROW(q_row_i32_i8, int8_t, int32_t)

#define DQ_ROW(name, TX)                                                                           \
    Q_CLONES static void name(float *y, const TX *x, int64_t len, float s, int32_t z)              \
    {                                                                                              \
        _Pragma("omp simd") for (int64_t i = 0; i < len; i++) y[i] =                               \
            ortc_q_dequantize((int32_t)x[i], s, z);                                                \
    }
DQ_ROW(dq_row_u8, uint8_t)
DQ_ROW(dq_row_i8, int8_t)
DQ_ROW(dq_row_i32, int32_t)

/* The index range [i0, i1) of the flattened (outer, c, inner) tensor,
 * walked in runs that share one parameter pair. */
#define FOR_RUNS(i0, i1, c, inner, ch, at, len, BODY)                                              \
    for (int64_t at = (i0); at < (i1);) {                                                          \
        int64_t ch = (at / (inner)) % (c);                                                         \
        int64_t len = (inner)-at % (inner);                                                        \
        if (len > (i1)-at)                                                                         \
            len = (i1)-at;                                                                         \
        BODY;                                                                                      \
        at += len;                                                                                 \
    }

/* y = QuantizeLinear(x) (quantize; x float32 or int32) or
 * DequantizeLinear(x) (y float32; x of the parameters' type) over the
 * flattened (outer, c, inner) tensor, split over the threads in runs that
 * share one parameter pair. */
static void q_linear_run(void *y, const void *x, ortc_dtype x_dtype, const ortc_qparam *p,
                         int64_t outer, int64_t c, int64_t inner, int threads, bool quantize)
{
    if (p->n == 1) { /* per tensor: one flat run */
        inner *= outer * c;
        outer = c = 1;
    }
    const int64_t n = outer * c * inner;
    const int32_t lo = ortc_q_min(p->dtype), hi = ortc_q_max(p->dtype);
    const bool u8 = p->dtype == ORTC_DTYPE_UINT8, f32 = x_dtype == ORTC_DTYPE_FLOAT;
    const bool i8 = p->dtype == ORTC_DTYPE_INT8;
#pragma omp parallel num_threads(threads_for(n, threads))
    {
        int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t per = (n + nt - 1) / nt;
        int64_t i0 = t * per, i1 = i0 + per < n ? i0 + per : n;
        FOR_RUNS(i0, i1, c, inner, ch, at, len, {
            float s = p->scale[p->n == 1 ? 0 : ch];
            int32_t z = ortc_qparam_zero(p, p->n == 1 ? 0 : ch);
            if (!quantize && u8)
                dq_row_u8((float *)y + at, (const uint8_t *)x + at, len, s, z);
            else if (!quantize && i8)
                dq_row_i8((float *)y + at, (const int8_t *)x + at, len, s, z);
            else if (!quantize)
                dq_row_i32((float *)y + at, (const int32_t *)x + at, len, s, z);
            else if (f32 && u8)
                q_row_f32_u8((uint8_t *)y + at, (const float *)x + at, len, s, z, lo, hi);
            else if (f32)
                q_row_f32_i8((int8_t *)y + at, (const float *)x + at, len, s, z, lo, hi);
            else if (u8)
                q_row_i32_u8((uint8_t *)y + at, (const int32_t *)x + at, len, s, z, lo, hi);
            else
                q_row_i32_i8((int8_t *)y + at, (const int32_t *)x + at, len, s, z, lo, hi);
        })
    }
}

void ortc_q_quantize_run(void *y, const void *x, ortc_dtype x_dtype, const ortc_qparam *p,
                         int64_t outer, int64_t c, int64_t inner, int threads)
{
    q_linear_run(y, x, x_dtype, p, outer, c, inner, threads, true);
}

void ortc_q_dequantize_run(float *y, const void *x, const ortc_qparam *p, int64_t outer, int64_t c,
                           int64_t inner, int threads)
{
    q_linear_run(y, x, p->dtype, p, outer, c, inner, threads, false);
}

/* Elements per block of the fused kernel: the float32 values between the
 * post-ops and the quantization stay in this thread's stack buffer. */
#define FUSED_BLOCK 1024

/* The post-ops of the fused form: a leading sum and Relu inline (what
 * residual blocks need; vectorised); any other list through the reference
 * formulas (ortc_post_ops_apply) block by block. */
typedef enum fused_kind { FUSED_SUM_RELU, FUSED_SUM, FUSED_RELU, FUSED_ANY } fused_kind;

static fused_kind fused_kind_of(const ortc_node *n)
{
    const int np = n->n_post_ops;
    bool sum0 = np > 0 && n->post_ops[0].kind == ORTC_POST_OP_SUM;
    if (np == 2 && sum0 && n->post_ops[1].kind == ORTC_POST_OP_RELU)
        return FUSED_SUM_RELU;
    if (np == 1 && sum0)
        return FUSED_SUM;
    if (np == 1 && n->post_ops[0].kind == ORTC_POST_OP_RELU)
        return FUSED_RELU;
    return FUSED_ANY;
}

/* y[0, m) = QuantizeLinear(post_ops(x[0, m))) and y1 (when not NULL) the
 * float32 post_ops(x), s the summand's block (or NULL), v the reference
 * path's context (its summand tensor *sum_blk). */
static void fused_block(uint8_t *y, float *y1, const float *x, const float *s, int64_t m,
                        fused_kind kind, const ortc_opctx *v, ortc_tensor *sum_blk,
                        const ortc_qparam *p, float scale, int32_t z)
{
    float buf[FUSED_BLOCK];
    switch (kind) {
    case FUSED_SUM_RELU:
#pragma omp simd
        for (int64_t j = 0; j < m; j++) {
            float r = x[j] + s[j];
            buf[j] = r > 0.0f ? r : 0.0f; /* NaN -> 0, as oneDNN's Relu */
        }
        break;
    case FUSED_SUM:
#pragma omp simd
        for (int64_t j = 0; j < m; j++)
            buf[j] = x[j] + s[j];
        break;
    case FUSED_RELU:
#pragma omp simd
        for (int64_t j = 0; j < m; j++)
            buf[j] = x[j] > 0.0f ? x[j] : 0.0f;
        break;
    case FUSED_ANY:
        memcpy(buf, x, (size_t)m * sizeof *buf);
        if (sum_blk)
            sum_blk->data = (void *)(uintptr_t)s;
        ortc_post_ops_apply(v, buf, m);
        break;
    }
    if (y1)
        memcpy(y1, buf, (size_t)m * sizeof *buf);
    const int32_t lo = ortc_q_min(p->dtype), hi = ortc_q_max(p->dtype);
    if (p->dtype == ORTC_DTYPE_UINT8)
        q_row_f32_u8(y, buf, m, scale, z, lo, hi);
    else
        q_row_f32_i8((int8_t *)y, buf, m, scale, z, lo, hi);
}

/* y = QuantizeLinear(post_ops(x)) for the ortc_qdq form (x float32). */
static void fused_quantize_run(ortc_opctx *c, const ortc_qparam *p, int64_t outer, int64_t nc,
                               int64_t inner)
{
    if (p->n == 1) {
        inner *= outer * nc;
        outer = nc = 1;
    }
    const int64_t n = outer * nc * inner;
    const fused_kind kind = fused_kind_of(c->node);
    const float *x = c->in[0]->data;
    const ortc_tensor *sum_t = c->n_in > ORTC_FUSED_SUM_INPUT ? c->in[ORTC_FUSED_SUM_INPUT] : NULL;
    const float *sum = sum_t ? sum_t->data : NULL;
    uint8_t *y = c->out[0]->data; /* one byte an element, uint8 or int8 */
    float *y1 = c->n_out > 1 && c->out[1] ? c->out[1]->data : NULL;
#pragma omp parallel num_threads(threads_for(n, n_threads(c)))
    {
        int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t per = (n + nt - 1) / nt;
        int64_t i0 = t * per, i1 = i0 + per < n ? i0 + per : n;
        /* the reference path reads its summand through a context of its own */
        ortc_tensor *ins[ORTC_FUSED_SUM_INPUT + 1], sum_blk;
        ortc_opctx v = *c;
        for (int i = 0; i <= ORTC_FUSED_SUM_INPUT; i++)
            ins[i] = i < c->n_in ? c->in[i] : NULL;
        if (sum_t) {
            sum_blk = *sum_t;
            ins[ORTC_FUSED_SUM_INPUT] = &sum_blk;
        }
        v.in = ins;
        FOR_RUNS(i0, i1, nc, inner, ch, at, len, {
            float s = p->scale[p->n == 1 ? 0 : ch];
            int32_t z = ortc_qparam_zero(p, p->n == 1 ? 0 : ch);
            for (int64_t b = 0; b < len; b += FUSED_BLOCK)
                fused_block(y + at + b, y1 ? y1 + at + b : NULL, x + at + b,
                            sum ? sum + at + b : NULL,
                            len - b < FUSED_BLOCK ? len - b : FUSED_BLOCK, kind, &v,
                            sum_t ? &sum_blk : NULL, p, s, z);
        })
    }
}

/* (outer, c, inner) of x around the parameters' axis. */
static void split_axis(const ortc_tensor *x, const ortc_qparam *p, int64_t *outer, int64_t *c,
                       int64_t *inner)
{
    *outer = *c = *inner = 1;
    if (p->n == 1) {
        *inner = ortc_tensor_numel(x);
        return;
    }
    for (int d = 0; d < x->rank; d++) {
        if (d < p->axis)
            *outer *= x->dims[d];
        else if (d == p->axis)
            *c = x->dims[d];
        else
            *inner *= x->dims[d];
    }
}

/* ---- QuantizeLinear and DequantizeLinear --------------------------------------- */

/* The parameters of x = input 0 (Q: the output's type, given by the zero
 * point, uint8 without one; DQ: x's type). Opset 10 takes per-tensor
 * parameters only; 13 per axis `axis` (default 1). */
static ortc_status q_params(ortc_opctx *c, ortc_qparam *p, ortc_dtype qtype, const char *what)
{
    ortc_status st;
    const ortc_tensor *x = c->in[0];
    ortc_qshape shape = ORTC_Q_TENSOR;
    int axis = -1;
    if (ortc_op_version(c) >= 13) {
        ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
        shape = ORTC_Q_AXIS;
        int64_t a = ortc_node_attr_int(c->node, "axis", 1);
        const ortc_tensor *s = c->in[1];
        /* the axis matters only for a per-axis scale */
        if (s && ortc_tensor_numel(s) != 1 && (st = ortc_op_axis(c, a, x->rank, &axis)))
            return st;
    } else if (ortc_node_attr(c->node, "axis")) {
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'axis' exists from opset 13; this node is opset %d",
                             ortc_op_version(c));
    }
    char xw[300];
    snprintf(xw, sizeof xw, "%s '%s'", what, ortc_plain_input_name(c, 0));
    return ortc_qparam_read(c, p, qtype, x->rank, x->dims, shape, axis, 1,
                            c->n_in > 2 && c->in[2] ? 2 : -1, xw);
}

/* QuantizeLinear (quantize) or DequantizeLinear: x, scale[, zero point];
 * p: the parameters of the quantized side. */
static ortc_status linear_check(ortc_opctx *c, ortc_qparam *p, bool quantize)
{
    ortc_status st;
    /* the fused form (quantize with post-ops) only from the graph pass */
    const bool fused = quantize && ortc_q_qdq_mode(c);
    if ((st = ortc_op_check_arity(c, 2, fused ? 4 : 3, 1, fused ? 2 : 1)) ||
        (st = ortc_op_check_input(c, 0)))
        return st;
    if (c->node->n_post_ops && !fused)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "fused post-ops on a %s the graph pass did not make",
                             c->node->op_type);
    if (fused && (c->node->n_post_ops || c->n_out > 1) &&
        ((c->in[0]->dtype != ORTC_DTYPE_FLOAT &&
          (st = ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                              "fused post-ops need a float32 input; '%s' is %s",
                              ortc_plain_input_name(c, 0), ortc_dtype_name(c->in[0]->dtype)))) ||
         (st = ortc_post_ops_check(c, c->in[0]->rank, c->in[0]->dims))))
        return st;
    ortc_dtype qtype = quantize ? ORTC_DTYPE_UINT8 : c->in[0]->dtype;
    if (quantize && c->n_in > 2 && c->in[2]) {
        qtype = c->in[2]->dtype;
        if (!ortc_q_is_8bit(qtype))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "zero point '%s' is %s; QuantizeLinear produces uint8 or int8",
                                 ortc_plain_input_name(c, 2), ortc_dtype_name(qtype));
    }
    return q_params(c, p, qtype, "input");
}

static ortc_status linear_infer(ortc_opctx *c, bool quantize)
{
    ortc_qparam p;
    ortc_status st = linear_check(c, &p, quantize);
    if (!st)
        ortc_op_set_output(c, 0, quantize ? p.dtype : ORTC_DTYPE_FLOAT, c->in[0]->rank,
                           c->in[0]->dims);
    if (!st && c->n_out > 1 && c->out[1]) /* the fused form's float32 value */
        ortc_op_set_output(c, 1, ORTC_DTYPE_FLOAT, c->in[0]->rank, c->in[0]->dims);
    return st;
}

static ortc_status linear_run(ortc_opctx *c, bool quantize)
{
    ortc_qparam p;
    ortc_status st = linear_check(c, &p, quantize);
    if (st || (st = ortc_qparam_values(c, &p)))
        return st;
    int64_t outer, ch, inner;
    split_axis(c->in[0], &p, &outer, &ch, &inner);
    if (quantize && (c->node->n_post_ops || c->n_out > 1))
        fused_quantize_run(c, &p, outer, ch, inner);
    else if (quantize)
        ortc_q_quantize_run(c->out[0]->data, c->in[0]->data, c->in[0]->dtype, &p, outer, ch, inner,
                            n_threads(c));
    else
        ortc_q_dequantize_run(c->out[0]->data, c->in[0]->data, &p, outer, ch, inner, n_threads(c));
    return ORTC_STATUS_OK;
}

ortc_status ortc_quantize_linear_infer(ortc_opctx *c)
{
    return linear_infer(c, true);
}

ortc_status ortc_quantize_linear_run(ortc_opctx *c)
{
    return linear_run(c, true);
}

ortc_status ortc_dequantize_linear_infer(ortc_opctx *c)
{
    return linear_infer(c, false);
}

ortc_status ortc_dequantize_linear_run(ortc_opctx *c)
{
    return linear_run(c, false);
}

/* ---- DynamicQuantizeLinear --------------------------------------------------------
 * The function body ONNX gives, step by step in float32: the range of x
 * widened to include 0, scale = range / 255, zero point = round(clip(0 -
 * min / scale, 0, 255)), then QuantizeLinear. An x of zeros only (range 0,
 * where the body divides 0 by 0) gives scale 0, zero point 0 and y 0; a NaN
 * in x gives scale NaN, zero point 0 and y 0. */

static ortc_status dynq_check(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 3, 3));
    ORTC_TRY(ortc_op_check_input(c, 0));
    return ORTC_STATUS_OK;
}

ortc_status ortc_dynamic_quantize_infer(ortc_opctx *c)
{
    ORTC_TRY(dynq_check(c));
    ortc_op_set_output(c, 0, ORTC_DTYPE_UINT8, c->in[0]->rank, c->in[0]->dims);
    ortc_op_set_output(c, 1, ORTC_DTYPE_FLOAT, 0, NULL);
    ortc_op_set_output(c, 2, ORTC_DTYPE_UINT8, 0, NULL);
    return ORTC_STATUS_OK;
}

ortc_status ortc_dynamic_quantize_run(ortc_opctx *c)
{
    ORTC_TRY(dynq_check(c));
    const float *x = c->in[0]->data;
    const int64_t n = ortc_tensor_numel(c->in[0]);
    float lo = 0.0f, hi = 0.0f; /* ReduceMin/Max, then Min/Max with 0 */
    bool nan = false;
    for (int64_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
        nan |= x[i] != x[i];
    }
    float scale = nan ? NAN : (hi - lo) / 255.0f;
    uint8_t zero = 0;
    if (scale > 0.0f) {
        float z = 0.0f - lo / scale;
        z = z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z;
        zero = (uint8_t)ortc_q_round(z);
    }
    *(float *)c->out[1]->data = scale;
    *(uint8_t *)c->out[2]->data = zero;
    uint8_t *y = c->out[0]->data;
    if (!(scale > 0.0f) || !isfinite(scale)) {
        memset(y, 0, (size_t)n);
        return ORTC_STATUS_OK;
    }
    ortc_qparam p = {.dtype = ORTC_DTYPE_UINT8, .n = 1, .axis = -1, .scale = &scale, .zero = &zero};
    ortc_q_quantize_run(y, x, ORTC_DTYPE_FLOAT, &p, 1, 1, n, n_threads(c));
    return ORTC_STATUS_OK;
}
