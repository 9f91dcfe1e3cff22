/* test_quant.c — the quantization operators (operators/quant/): the
 * element formulas against hand-derived values (round half to even,
 * saturation, per-axis parameters, DynamicQuantizeLinear's range rules),
 * the integer ops' reference kernels against hand values and against an
 * independent double-precision evaluation of their definition written
 * here, oneDNN's int8 path against the reference kernels on random inputs
 * (at most one quantization step apart, exact for int32 outputs), the
 * graph pass's ortc_qdq mode, and the errors for bad quantization
 * parameters (each naming the node).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_cases.h"
#include "helper_ops.h"
#include "quant/qdnnl.h"

/* The kernel the int8 operators must pick for constant parameters: oneDNN
 * where its int8 kernels are exact (VNNI), else the plain-C one
 * (ortc_q_dnnl_exact; ONEDNN_MAX_CPU_ISA=AVX2 shows the latter here). */
static int int8_path(void)
{
    return ortc_q_dnnl_exact() ? PATH_DNNL : PATH_PLAIN;
}

/* ---- helpers ------------------------------------------------------------------ */

static void *bytes_of(size_t n, uint64_t seed)
{
    void *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    fill_pattern(p, n, seed);
    return p;
}

/* Element i of a uint8/int8/int32 tensor. */
static int64_t q_get(const ortc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ORTC_DTYPE_UINT8: return ((const uint8_t *)t->data)[i];
    case ORTC_DTYPE_INT8: return ((const int8_t *)t->data)[i];
    case ORTC_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    default: ck_abort_msg("q_get: dtype %s", ortc_dtype_name(t->dtype)); return 0;
    }
}

/* A copy of output 0 (the next run overwrites it). */
static ortc_tensor copy_out(const op_case *c)
{
    ortc_tensor t = c->out[0];
    size_t n = ortc_tensor_bytes(&t);
    t.data = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(t.data);
    memcpy(t.data, c->out[0].data, n);
    return t;
}

/* Integer outputs within max_diff everywhere and equal on at least
 * min_equal of the elements; prints the worst one. */
static void expect_q_close(const ortc_tensor *got, const ortc_tensor *exp, int64_t max_diff,
                           double min_equal, const char *what)
{
    ck_assert_msg(got->dtype == exp->dtype, "%s: dtype %s vs %s", what, ortc_dtype_name(got->dtype),
                  ortc_dtype_name(exp->dtype));
    int64_t n = ortc_tensor_numel(exp), worst = 0, equal = 0;
    ck_assert_msg(ortc_tensor_numel(got) == n, "%s: element counts differ", what);
    for (int64_t i = 0; i < n; i++) {
        int64_t d = llabs(q_get(got, i) - q_get(exp, i));
        equal += d == 0;
        if (d > llabs(q_get(got, worst) - q_get(exp, worst)))
            worst = i;
    }
    int64_t wd = llabs(q_get(got, worst) - q_get(exp, worst));
    ck_assert_msg(wd <= max_diff, "%s: element %lld is %lld, expected %lld (more than %lld apart)",
                  what, (long long)worst, (long long)q_get(got, worst),
                  (long long)q_get(exp, worst), (long long)max_diff);
    ck_assert_msg((double)equal >= min_equal * (double)n,
                  "%s: only %lld of %lld elements equal (want %.1f%%)", what, (long long)equal,
                  (long long)n, 100 * min_equal);
}

/* round half to even, written independently of the kernels */
static double round_even(double v)
{
    double f = floor(v), d = v - f;
    if (d > 0.5 || (d == 0.5 && fmod(f, 2.0) != 0.0))
        return f + 1;
    return f;
}

/* ==== QuantizeLinear / DequantizeLinear: hand-derived ===================== */

START_TEST(quantize_rounding_saturation)
{
    /* scale 1, int8, zero point 0: ties go to the even integer; beyond the
     * range saturates; NaN goes to the low end (documented in quant.h) */
    float x[] = {0.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, 300.0f, -300.0f, NAN};
    const int8_t exp[] = {0, 0, 2, 2, 0, -2, -2, 126, 127, -128, -128};
    float s = 1.0f;
    int8_t z = 0;
    op_case *c = opc_new("QuantizeLinear", 13, 3, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){N_OF(x)}, x, false);
    opc_input(c, 1, F32, 0, NULL, &s, true);
    opc_input(c, 2, I8, 0, NULL, &z, true);
    run_ok(c, 1);
    expect_data(&c->out[0], I8, exp, N_OF(exp), "int8 ties and saturation");
    opc_free(c);

    /* uint8 with zero point 10, scale 0.5: x / 0.5 = 2x; 0.25 -> 0.5 -> 0
     * (+10 = 10), 0.75 -> 1.5 -> 2 (12), -5.25 -> -10.5 -> -10 (0), -6 ->
     * -12 -> saturates at 0, 200 -> 400 + 10 -> 255 */
    float x2[] = {0.25f, 0.75f, -5.25f, -6.0f, 200.0f, 1.25f};
    const uint8_t exp2[] = {10, 12, 0, 0, 255, 12};
    float s2 = 0.5f;
    uint8_t z2 = 10;
    c = opc_new("QuantizeLinear", 10, 3, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, x2, false);
    opc_input(c, 1, F32, 0, NULL, &s2, true);
    opc_input(c, 2, U8, 0, NULL, &z2, false);
    run_ok(c, 1);
    expect_data(&c->out[0], U8, exp2, N_OF(exp2), "uint8 with zero point");
    opc_free(c);

    /* without a zero point the output is uint8, zero point 0; int32 input */
    int32_t xi[] = {-7, 0, 7, 9, 1100};
    const uint8_t exp3[] = {0, 0, 2, 2, 255}; /* 7/4 = 1.75 -> 2, 9/4 = 2.25 -> 2 */
    float s3 = 4.0f;
    c = opc_new("QuantizeLinear", 13, 2, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){5}, xi, false);
    opc_input(c, 1, F32, 1, (int64_t[]){1}, &s3, false);
    run_ok(c, 1);
    expect_data(&c->out[0], U8, exp3, N_OF(exp3), "int32 input, no zero point");
    opc_free(c);
}
END_TEST

START_TEST(quantize_dequantize_per_axis)
{
    /* x (2, 3, 2), axis 1: channel ch has scale 2^ch and zero point ch */
    float x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i * 3) - 10.0f; /* -10, -7, ..., 23 */
    float s[3] = {1.0f, 2.0f, 4.0f};
    int8_t z[3] = {0, 1, 2};
    int8_t exp[12];
    for (int i = 0; i < 12; i++) {
        int ch = (i / 2) % 3;
        double q = round_even((double)x[i] / s[ch]) + z[ch];
        exp[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
    }
    op_case *c = opc_new("QuantizeLinear", 13, 3, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){2, 3, 2}, x, false);
    opc_input(c, 1, F32, 1, (int64_t[]){3}, s, true);
    opc_input(c, 2, I8, 1, (int64_t[]){3}, z, true);
    run_ok(c, 1);
    expect_data(&c->out[0], I8, exp, 12, "per-axis quantize, axis 1 by default");
    int8_t q[12];
    memcpy(q, c->out[0].data, sizeof q);
    opc_free(c);

    /* back: (q - z) * s per channel; negative axis -2 is axis 1 */
    float back[12];
    for (int i = 0; i < 12; i++) {
        int ch = (i / 2) % 3;
        back[i] = (float)(q[i] - z[ch]) * s[ch];
    }
    c = opc_new("DequantizeLinear", 13, 3, 1);
    opc_input(c, 0, I8, 3, (int64_t[]){2, 3, 2}, q, false);
    opc_input(c, 1, F32, 1, (int64_t[]){3}, s, false);
    opc_input(c, 2, I8, 1, (int64_t[]){3}, z, false);
    opc_attr_int(c, "axis", -2);
    run_ok(c, 1);
    expect_data(&c->out[0], F32, back, 12, "per-axis dequantize, axis -2");
    opc_free(c);

    /* int32 without zero point (a quantized bias): x * s */
    int32_t b[3] = {-5, 0, 70000};
    float sb = 0.25f;
    c = opc_new("DequantizeLinear", 13, 2, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){3}, b, false);
    opc_input(c, 1, F32, 0, NULL, &sb, true);
    run_ok(c, 1);
    expect_data(&c->out[0], F32, (const float[]){-1.25f, 0.0f, 17500.0f}, 3, "int32 dequantize");
    opc_free(c);
}
END_TEST

START_TEST(dynamic_quantize_hand)
{
    /* x = [-1, 0, 3]: range [-1, 3], scale 4/255, zero point round(255/4)
     * = round(63.75) = 64; y = round(x * 255 / 4) + 64: -63.75 -> -64 + 64
     * = 0, 64, 191.25 -> 191 + 64 = 255 */
    float x[3] = {-1.0f, 0.0f, 3.0f};
    op_case *c = opc_new("DynamicQuantizeLinear", 11, 1, 3);
    opc_input(c, 0, F32, 1, (int64_t[]){3}, x, false);
    run_ok(c, 1);
    expect_data(&c->out[0], U8, (const uint8_t[]){0, 64, 255}, 3, "y");
    expect_data(&c->out[1], F32, (const float[]){4.0f / 255.0f}, 1, "y_scale");
    expect_data(&c->out[2], U8, (const uint8_t[]){64}, 1, "y_zero_point");
    opc_free(c);

    /* zeros only: the body would divide 0 by 0; ortc gives scale 0, zero
     * point 0 and y 0 (documented in quantize.c) */
    float z[4] = {0};
    c = opc_new("DynamicQuantizeLinear", 11, 1, 3);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, z, false);
    run_ok(c, 1);
    expect_data(&c->out[0], U8, (const uint8_t[]){0, 0, 0, 0}, 4, "zeros: y");
    expect_data(&c->out[1], F32, (const float[]){0.0f}, 1, "zeros: y_scale");
    expect_data(&c->out[2], U8, (const uint8_t[]){0}, 1, "zeros: y_zero_point");
    opc_free(c);
}
END_TEST

/* ==== bad parameters: one error naming the node ============================= */

START_TEST(bad_params)
{
    float x[4] = {1, 2, 3, 4};
    uint8_t xq[4] = {1, 2, 3, 4};
    float zero = 0.0f, neg = -0.5f, inf = INFINITY, ok = 0.5f;
    float s22[4] = {1, 1, 1, 1}, s2[2] = {1, 1};
    int8_t zi8 = 0;
    uint8_t zu8[2] = {0, 0};
    int32_t zi32 = 3;

    /* a zero scale known only at run */
    op_case *c = opc_new("QuantizeLinear", 13, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){4}, x, false);
    opc_input(c, 1, F32, 0, NULL, &zero, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "scales must be positive", "zero scale at run");
    opc_free(c);
    /* a negative constant scale: refused in infer */
    c = opc_new("DequantizeLinear", 13, 2, 1);
    opc_input(c, 0, U8, 1, (int64_t[]){4}, xq, false);
    opc_input(c, 1, F32, 0, NULL, &neg, true);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "'in1' is -0.5", "negative scale");
    opc_free(c);
    c = opc_new("DequantizeLinear", 13, 2, 1);
    opc_input(c, 0, U8, 1, (int64_t[]){4}, xq, false);
    opc_input(c, 1, F32, 0, NULL, &inf, true);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "positive and finite", "infinite scale");
    opc_free(c);
    /* wrong shapes: a 2x2 scale; a per-axis scale of the wrong length; a
     * per-axis scale at opset 10 */
    c = opc_new("QuantizeLinear", 13, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, x, false);
    opc_input(c, 1, F32, 2, (int64_t[]){2, 2}, s22, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "has shape [2,2]", "2-D scale");
    opc_free(c);
    c = opc_new("QuantizeLinear", 13, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){1, 4}, x, false);
    opc_input(c, 1, F32, 1, (int64_t[]){2}, s2, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "4 entries (axis 1)", "scale length vs axis");
    opc_free(c);
    c = opc_new("DequantizeLinear", 10, 2, 1);
    opc_input(c, 0, U8, 2, (int64_t[]){2, 2}, xq, false);
    opc_input(c, 1, F32, 1, (int64_t[]){2}, s2, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "takes a scalar scale", "per-axis at opset 10");
    opc_free(c);
    /* zero point of another type than x; of another shape than the scale */
    c = opc_new("DequantizeLinear", 13, 3, 1);
    opc_input(c, 0, U8, 1, (int64_t[]){4}, xq, false);
    opc_input(c, 1, F32, 0, NULL, &ok, true);
    opc_input(c, 2, I8, 0, NULL, &zi8, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "zero point 'in2' is int8", "zero point dtype");
    opc_free(c);
    c = opc_new("DequantizeLinear", 13, 3, 1);
    opc_input(c, 0, U8, 2, (int64_t[]){2, 2}, xq, false);
    opc_input(c, 1, F32, 0, NULL, &ok, true);
    opc_input(c, 2, U8, 1, (int64_t[]){2}, zu8, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "must have the same shape", "zero point shape");
    opc_free(c);
    /* QuantizeLinear's output type comes from the zero point: int32 is none */
    c = opc_new("QuantizeLinear", 13, 3, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){4}, x, false);
    opc_input(c, 1, F32, 0, NULL, &ok, true);
    opc_input(c, 2, I32, 0, NULL, &zi32, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "produces uint8 or int8", "int32 zero point");
    opc_free(c);
    /* an int32 tensor's zero point is out of range unless 0 */
    int32_t xi[4] = {1, 2, 3, 4};
    c = opc_new("DequantizeLinear", 13, 3, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){4}, xi, false);
    opc_input(c, 1, F32, 0, NULL, &ok, true);
    opc_input(c, 2, I32, 0, NULL, &zi32, true);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "must be 0", "int32 zero point 3");
    opc_free(c);
}
END_TEST

START_TEST(bad_params_qlinear)
{
    uint8_t x[16] = {0}, zx = 0, zy = 0;
    int8_t w[8] = {0}, zw = 0;
    float sx = 0.1f, sw3[3] = {1, 1, 1}, sy = 0.0f, one = 1.0f;
    /* per-channel weight scale of 3 for 2 output channels */
    op_case *c = opc_new("QLinearConv", 10, 8, 1);
    opc_input(c, 0, U8, 4, (int64_t[]){1, 1, 4, 4}, x, false);
    opc_input(c, 1, F32, 0, NULL, &sx, true);
    opc_input(c, 2, U8, 0, NULL, &zx, true);
    opc_input(c, 3, I8, 4, (int64_t[]){2, 1, 2, 2}, w, true);
    opc_input(c, 4, F32, 1, (int64_t[]){3}, sw3, true);
    opc_input(c, 5, I8, 0, NULL, &zw, true);
    opc_input(c, 6, F32, 0, NULL, &one, true);
    opc_input(c, 7, U8, 0, NULL, &zy, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "2 entries (axis 0)", "w_scale length");
    opc_free(c);
    /* zero output scale */
    c = opc_new("QLinearMatMul", 10, 8, 1);
    opc_input(c, 0, U8, 2, (int64_t[]){2, 4}, x, false);
    opc_input(c, 1, F32, 0, NULL, &sx, true);
    opc_input(c, 2, U8, 0, NULL, &zx, true);
    opc_input(c, 3, I8, 2, (int64_t[]){4, 2}, w, true);
    opc_input(c, 4, F32, 0, NULL, &one, true);
    opc_input(c, 5, I8, 0, NULL, &zw, true);
    opc_input(c, 6, F32, 0, NULL, &sy, true);
    opc_input(c, 7, U8, 0, NULL, &zy, true);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "'in6' is 0", "zero y_scale");
    opc_free(c);
    /* MatMulInteger: B's zero point of A's type */
    c = opc_new("MatMulInteger", 10, 4, 1);
    opc_input(c, 0, U8, 2, (int64_t[]){2, 4}, x, false);
    opc_input(c, 1, I8, 2, (int64_t[]){4, 2}, w, true);
    opc_input(c, 3, U8, 0, NULL, &zx, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "zero point 'in3' is uint8", "b_zero_point dtype");
    opc_free(c);
}
END_TEST

/* The graph pass's fused QuantizeLinear (ortc_qdq = 1): post-ops on x
 * (sum of input 3, Relu) before quantizing, the float32 value as output 1. */
START_TEST(quantize_fused_post_ops)
{
    /* scale 0.5, zero point 10: x + s = 1.5, -2, 0.75, 128, then Relu: 1.5,
     * 0, 0.75, 128; / 0.5 = 3, 0, 1.5 (tie: even 2), 256; + 10 = 13, 10, 12,
     * 266 -> saturates at 255 */
    float x[4] = {1.0f, -3.0f, 0.25f, 2.0f}, sum[4] = {0.5f, 1.0f, 0.5f, 126.0f};
    float s = 0.5f;
    uint8_t z = 10;
    const uint8_t exp[4] = {13, 10, 12, 255};
    const float exp1[4] = {1.5f, 0.0f, 0.75f, 128.0f};
    for (int outs = 1; outs <= 2; outs++) {
        op_case *c = opc_new("QuantizeLinear", 13, 4, outs);
        opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, x, false);
        opc_input(c, 1, F32, 0, NULL, &s, true);
        opc_input(c, 2, U8, 0, NULL, &z, true);
        opc_input(c, 3, F32, 2, (int64_t[]){2, 2}, sum, false);
        opc_attr_int(c, "ortc_qdq", 1);
        opc_set_post_ops(c->node, "sum,relu");
        run_ok(c, 1);
        expect_data(&c->out[0], U8, exp, 4, "sum, relu, quantize");
        if (outs == 2)
            expect_data(&c->out[1], F32, exp1, 4, "the float value");
        opc_free(c);
    }
    /* any other post-op list goes through the reference formulas: Clip to
     * [0, 1] then quantize (int8, scale 0.25, no zero point) */
    float xc[3] = {-1.0f, 0.6f, 3.0f}, s4 = 0.25f;
    int8_t z0 = 0;
    const int8_t expc[3] = {0, 2, 4}; /* 0, 0.6 / 0.25 = 2.4 -> 2, 4 */
    op_case *c = opc_new("QuantizeLinear", 13, 3, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){3}, xc, false);
    opc_input(c, 1, F32, 0, NULL, &s4, true);
    opc_input(c, 2, I8, 0, NULL, &z0, true);
    opc_attr_int(c, "ortc_qdq", 1);
    opc_set_post_ops(c->node, "clip:0:1");
    run_ok(c, 1);
    expect_data(&c->out[0], I8, expc, 3, "clip, quantize");
    opc_free(c);
    /* refused: a summand of another shape; post-ops without the pass's mark */
    c = opc_new("QuantizeLinear", 13, 4, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, x, false);
    opc_input(c, 1, F32, 0, NULL, &s, true);
    opc_input(c, 2, U8, 0, NULL, &z, true);
    opc_input(c, 3, F32, 1, (int64_t[]){4}, sum, false);
    opc_attr_int(c, "ortc_qdq", 1);
    opc_set_post_ops(c->node, "sum,relu");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "post-op 'sum' input 3", "summand shape");
    opc_free(c);
    c = opc_new("QuantizeLinear", 13, 3, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, x, false);
    opc_input(c, 1, F32, 0, NULL, &s, true);
    opc_input(c, 2, U8, 0, NULL, &z, true);
    opc_set_post_ops(c->node, "relu");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "the graph pass did not make", "unmarked post-ops");
    opc_free(c);
}
END_TEST

/* ==== the integer ops: hand values ============================================= */

START_TEST(qlinearconv_hand)
{
    /* x - 10 = [2, 4, 6, 8] (1,1,2,2), w = [1, 2, 3, 4]: acc = 2 + 8 + 18 +
     * 32 = 60; + bias 4 = 64; real = 64 * 0.5 * 0.25 = 8; / y_scale 0.5 =
     * 16, + 100 = 116. Without the bias: 7.5 / 0.5 = 15 -> 115. */
    uint8_t x[4] = {12, 14, 16, 18}, zx = 10, zy = 100;
    int8_t w[4] = {1, 2, 3, 4}, zw = 0;
    float sx = 0.5f, sw = 0.25f, sy = 0.5f;
    int32_t b = 4;
    for (int with_bias = 0; with_bias < 2; with_bias++)
        for (int constant = 0; constant < 2; constant++) {
            op_case *c = opc_new("QLinearConv", 10, 8 + with_bias, 1);
            opc_input(c, 0, U8, 4, (int64_t[]){1, 1, 2, 2}, x, false);
            opc_input(c, 1, F32, 0, NULL, &sx, constant);
            opc_input(c, 2, U8, 0, NULL, &zx, constant);
            opc_input(c, 3, I8, 4, (int64_t[]){1, 1, 2, 2}, w, constant);
            opc_input(c, 4, F32, 1, (int64_t[]){1}, &sw, constant);
            opc_input(c, 5, I8, 1, (int64_t[]){1}, &zw, constant);
            opc_input(c, 6, F32, 0, NULL, &sy, constant);
            opc_input(c, 7, U8, 0, NULL, &zy, constant);
            if (with_bias)
                opc_input(c, 8, I32, 1, (int64_t[]){1}, &b, constant);
            const uint8_t exp = with_bias ? 116 : 115;
            FOR_BOTH_MODES(c, mode)
            {
                check_shape(c, 4, (int64_t[]){1, 1, 1, 1}, "qlinearconv hand");
                expect_data(&c->out[0], U8, &exp, 1, "qlinearconv hand");
            }
            opc_free(c);
        }

    /* ConvInteger with padding 1 and w zero point 1: w - 1 = [0, 1, 1, 0]
     * over the padded x - 2 (x = [3, 4, 5, 6], padding counts as 0):
     * corner (0,0): window [[0,0],[0,1]] -> 0*0 + 0*1 + 0*1 + 1*0 = 0 */
    uint8_t xi[4] = {3, 4, 5, 6}, zxi = 2, wi[4] = {1, 2, 2, 1}, zwi = 1;
    /* out (3x3): o[i][j] = sum over the window at (i-1, j-1) of
     * (x-2)[r][c] * (w-1)[r-i+1][c-j+1]; (x-2) = [[1,2],[3,4]] */
    int32_t exp[9];
    const int xm[2][2] = {{1, 2}, {3, 4}}, wm[2][2] = {{0, 1}, {1, 0}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int s = 0;
            for (int r = 0; r < 2; r++)
                for (int q = 0; q < 2; q++) {
                    int xr = i - 1 + r, xc = j - 1 + q;
                    if (xr >= 0 && xr < 2 && xc >= 0 && xc < 2)
                        s += xm[xr][xc] * wm[r][q];
                }
            exp[i * 3 + j] = s;
        }
    op_case *c = opc_new("ConvInteger", 10, 4, 1);
    opc_input(c, 0, U8, 4, (int64_t[]){1, 1, 2, 2}, xi, false);
    opc_input(c, 1, U8, 4, (int64_t[]){1, 1, 2, 2}, wi, true);
    opc_input(c, 2, U8, 0, NULL, &zxi, true);
    opc_input(c, 3, U8, 0, NULL, &zwi, true);
    opc_attr_ints(c, "pads", (int64_t[]){1, 1, 1, 1}, 4);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], I32, exp, 9, "convinteger pads and zero points");
    }
    opc_free(c);
}
END_TEST

START_TEST(qlinearmatmul_hand)
{
    /* a - 1 = [[1, 2], [3, 4]], b - (-1) per column... b = [[0, 1], [2, 3]]
     * int8 with column zero points [0, 1]: b - z = [[0, 0], [2, 2]];
     * acc = [[4, 4], [8, 8]]; a_scale 0.5, b_scale per column [1, 0.5]:
     * real = [[2, 1], [4, 2]]; y_scale 0.25, zero -10 (int8):
     * [[8-10, 4-10], [16-10, 8-10]] = [[-2, -6], [6, -2]] */
    uint8_t a[4] = {2, 3, 4, 5}, za = 1;
    int8_t b[4] = {0, 1, 2, 3}, zb[2] = {0, 1}, zy = -10;
    float sa = 0.5f, sb[2] = {1.0f, 0.5f}, sy = 0.25f;
    const int8_t exp[4] = {-2, -6, 6, -2};
    op_case *c = opc_new("QLinearMatMul", 10, 8, 1);
    opc_input(c, 0, U8, 2, (int64_t[]){2, 2}, a, false);
    opc_input(c, 1, F32, 0, NULL, &sa, true);
    opc_input(c, 2, U8, 0, NULL, &za, true);
    opc_input(c, 3, I8, 2, (int64_t[]){2, 2}, b, true);
    opc_input(c, 4, F32, 1, (int64_t[]){2}, sb, true);
    opc_input(c, 5, I8, 1, (int64_t[]){2}, zb, true);
    opc_input(c, 6, F32, 0, NULL, &sy, true);
    opc_input(c, 7, I8, 0, NULL, &zy, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], I8, exp, 4, "qlinearmatmul per-column parameters");
    }
    opc_free(c);

    /* MatMulInteger with a per-row zero point [1, 2] (a - z = [[1, 2],
     * [2, 3]]) and b = [[1], [1]]: [[3], [5]] */
    uint8_t zr[2] = {1, 2};
    int8_t b1[2] = {1, 1};
    c = opc_new("MatMulInteger", 10, 3, 1);
    opc_input(c, 0, U8, 2, (int64_t[]){2, 2}, a, false);
    opc_input(c, 1, I8, 2, (int64_t[]){2, 1}, b1, true);
    opc_input(c, 2, U8, 1, (int64_t[]){2}, zr, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], I32, (const int32_t[]){3, 5}, 2, "matmulinteger per-row zero");
    }
    opc_free(c);
}
END_TEST

/* ==== QLinearConv: random cases, reference vs an independent oracle and vs
 * oneDNN ======================================================================== */

typedef struct qconv_case {
    const char *what;
    int64_t n, c, h, w, m, k, group, stride, pad;
    ortc_dtype xt, yt; /* yt FLOAT: the ortc_qdq float output */
    bool per_channel, bias, qdq, relu;
} qconv_case;

/* y of one case by the definition, in double: DQ(x), DQ(w), the conv sum,
 * bias, relu, then QuantizeLinear's formula (or the real value). */
static double oracle_conv(const qconv_case *k, const uint8_t *x, int32_t zx, float sx,
                          const int8_t *w, const float *sw, const void *bias, float sy, int32_t zy,
                          int64_t oh, int64_t ow, int64_t n, int64_t m)
{
    const int64_t cg = k->c / k->group, mg = k->m / k->group, g = m / mg;
    double acc = 0;
    for (int64_t ci = 0; ci < cg; ci++)
        for (int64_t r = 0; r < k->k; r++)
            for (int64_t q = 0; q < k->k; q++) {
                int64_t ih = oh * k->stride - k->pad + r, iw = ow * k->stride - k->pad + q;
                if (ih < 0 || ih >= k->h || iw < 0 || iw >= k->w)
                    continue;
                int64_t xi = ((n * k->c + g * cg + ci) * k->h + ih) * k->w + iw;
                int32_t xv = k->xt == U8 ? x[xi] : ((const int8_t *)x)[xi];
                int8_t wv = w[((m * cg + ci) * k->k + r) * k->k + q];
                acc += (double)(xv - zx) * sx * ((double)wv * sw[k->per_channel ? m : 0]);
            }
    if (bias)
        acc += k->qdq ? (double)((const float *)bias)[m]
                      : (double)((const int32_t *)bias)[m] * sx * sw[k->per_channel ? m : 0];
    if (k->relu && acc < 0)
        acc = 0;
    if (k->yt == F32)
        return acc;
    double q = round_even(acc / sy) + zy;
    double lo = k->yt == U8 ? 0 : -128, hi = k->yt == U8 ? 255 : 127;
    return q < lo ? lo : q > hi ? hi : q;
}

static void run_qconv_case(const qconv_case *k, uint64_t seed)
{
    const int64_t oh = (k->h + 2 * k->pad - k->k) / k->stride + 1;
    const int64_t ow = (k->w + 2 * k->pad - k->k) / k->stride + 1;
    const int64_t nx = k->n * k->c * k->h * k->w, nw = k->m * (k->c / k->group) * k->k * k->k;
    uint8_t *x = bytes_of((size_t)nx, seed);
    int8_t *w = bytes_of((size_t)nw, seed + 1);
    float sw[64], bias_f[64];
    int32_t bias_i[64];
    ck_assert_int_le(k->m, 64);
    const float sx = 0.02f, sy = k->relu ? 0.05f : 0.1f;
    const int32_t zx = k->xt == U8 ? 131 : -3;
    const int32_t zy = k->yt == U8 ? (k->relu ? 0 : 128) : 5;
    for (int64_t i = 0; i < k->m; i++) {
        sw[i] = 0.01f * (1.0f + 0.37f * (float)(i % 5));
        bias_f[i] = 0.3f * (float)(i % 7) - 0.9f;
        bias_i[i] = (int32_t)(i * 997 % 4001) - 2000;
    }
    uint8_t zx8u = (uint8_t)zx, zy8u = (uint8_t)zy;
    int8_t zx8s = (int8_t)zx, zy8s = (int8_t)zy;
    int8_t zw0[64] = {0};
    op_case *c = opc_new("QLinearConv", 10, 9, 1);
    opc_input(c, 0, k->xt, 4, (int64_t[]){k->n, k->c, k->h, k->w}, x, false);
    opc_input(c, 1, F32, 0, NULL, &sx, true);
    opc_input(c, 2, k->xt, 0, NULL, k->xt == U8 ? (void *)&zx8u : (void *)&zx8s, true);
    opc_input(c, 3, I8, 4, (int64_t[]){k->m, k->c / k->group, k->k, k->k}, w, true);
    int64_t ns = k->per_channel ? k->m : 1;
    opc_input(c, 4, F32, 1, &ns, sw, true);
    opc_input(c, 5, I8, 1, &ns, zw0, true);
    if (k->yt != F32) {
        opc_input(c, 6, F32, 0, NULL, &sy, true);
        opc_input(c, 7, k->yt, 0, NULL, k->yt == U8 ? (void *)&zy8u : (void *)&zy8s, true);
    }
    if (k->bias)
        opc_input(c, 8, k->qdq ? F32 : I32, 1, (int64_t[]){k->m},
                  k->qdq ? (void *)bias_f : (void *)bias_i, true);
    opc_attr_int(c, "group", k->group);
    opc_attr_ints(c, "strides", (int64_t[]){k->stride, k->stride}, 2);
    opc_attr_ints(c, "pads", (int64_t[]){k->pad, k->pad, k->pad, k->pad}, 4);
    if (k->qdq)
        opc_attr_int(c, "ortc_qdq", 1);
    if (k->relu)
        opc_set_post_ops(c->node, "relu");

    /* the reference against the oracle: equal except where the value lies
     * within float rounding of a tie (none expected at these scales) */
    run_checked(c, 1, PATH_PLAIN, k->what);
    ortc_tensor ref = copy_out(c);
    const void *bias = k->bias ? (k->qdq ? (void *)bias_f : (void *)bias_i) : NULL;
    int64_t mismatched = 0;
    double worst = 0;
    for (int64_t n = 0; n < k->n; n++)
        for (int64_t m = 0; m < k->m; m++)
            for (int64_t i = 0; i < oh; i++)
                for (int64_t j = 0; j < ow; j++) {
                    int64_t at = ((n * k->m + m) * oh + i) * ow + j;
                    double want = oracle_conv(k, x, zx, sx, w, sw, bias, sy, zy, i, j, n, m);
                    if (k->yt == F32) {
                        double d = fabs(((float *)ref.data)[at] - want);
                        worst = d > worst ? d : worst;
                        mismatched += d > 1e-5 * (1 + fabs(want));
                    } else {
                        mismatched += q_get(&ref, at) != (int64_t)want;
                    }
                }
    ck_assert_msg(mismatched == 0,
                  "%s: the reference differs from the oracle in %lld elements "
                  "(worst float difference %g)",
                  k->what, (long long)mismatched, worst);

    /* oneDNN against the reference: one quantization step at most, and
     * (the float rounding of the scales aside) equal almost everywhere */
    run_checked(c, 0, int8_path(), k->what);
    if (k->yt == F32)
        assert_close_x(c->out[0].data, ref.data, NULL, ortc_tensor_numel(&ref), 1e-5, 1e-5,
                       k->what);
    else
        expect_q_close(&c->out[0], &ref, 1, 0.99, k->what);
    free(ref.data);
    opc_free(c);
    free(x);
    free(w);
}

START_TEST(qlinearconv_random)
{
    static const qconv_case cases[] = {
        {"u8 3x3 pad 1 per-channel bias", 2, 16, 9, 9, 32, 3, 1, 1, 1, U8, U8, true, true, false,
         false},
        {"u8 per-tensor, stride 2, int8 out", 1, 8, 10, 11, 16, 3, 1, 2, 1, U8, I8, false, false,
         false, false},
        {"s8 input, grouped", 1, 16, 7, 7, 16, 3, 2, 1, 1, I8, U8, true, true, false, false},
        {"depthwise 3x3", 1, 32, 8, 8, 32, 3, 32, 1, 1, U8, U8, true, false, false, false},
        {"1x1, qdq float bias, relu", 1, 64, 6, 6, 48, 1, 1, 1, 0, U8, U8, true, true, true, true},
        {"qdq float output", 1, 16, 6, 6, 24, 3, 1, 1, 1, U8, F32, true, true, true, false},
        {"qdq float output, relu, 5x5 stride 2", 2, 8, 12, 12, 16, 5, 1, 2, 2, U8, F32, false, true,
         true, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        run_qconv_case(&cases[i], 100 + i);
}
END_TEST

START_TEST(convinteger_random)
{
    /* int32 output: the accumulator, exactly, on both paths; x zero point,
     * per-channel w zero points (w - z stays inside int8), grouped */
    const int64_t n = 1, cin = 8, h = 7, w = 6, m = 12, k = 3, group = 2;
    const int64_t nx = n * cin * h * w, nw = m * (cin / group) * k * k;
    uint8_t *x = bytes_of((size_t)nx, 7);
    int8_t *wt = bytes_of((size_t)nw, 8);
    for (int64_t i = 0; i < nw; i++)
        wt[i] = (int8_t)(wt[i] / 2); /* [-64, 63]: minus a zero point in [-20, 20] fits int8 */
    uint8_t zx = 77;
    int8_t zw[12];
    for (int i = 0; i < 12; i++)
        zw[i] = (int8_t)(i * 3 - 18);
    op_case *c = opc_new("ConvInteger", 10, 4, 1);
    opc_input(c, 0, U8, 4, (int64_t[]){n, cin, h, w}, x, false);
    opc_input(c, 1, I8, 4, (int64_t[]){m, cin / group, k, k}, wt, true);
    opc_input(c, 2, U8, 0, NULL, &zx, true);
    opc_input(c, 3, I8, 1, (int64_t[]){m}, zw, true);
    opc_attr_int(c, "group", group);
    opc_attr_ints(c, "pads", (int64_t[]){1, 0, 1, 0}, 4);
    run_checked(c, 1, PATH_PLAIN, "convinteger reference");
    ortc_tensor ref = copy_out(c);
    run_checked(c, 0, int8_path(), "convinteger oneDNN");
    expect_q_close(&c->out[0], &ref, 0, 1.0, "convinteger oneDNN vs reference");
    free(ref.data);
    opc_free(c);

    /* u8 weights whose zero point leaves int8 (w - z in [-255, 255]): the
     * plain-C kernel, still exact */
    uint8_t *wu = bytes_of((size_t)nw, 9), zwu = 200;
    c = opc_new("ConvInteger", 10, 4, 1);
    opc_input(c, 0, U8, 4, (int64_t[]){n, cin, h, w}, x, false);
    opc_input(c, 1, U8, 4, (int64_t[]){m, cin / group, k, k}, wu, true);
    opc_input(c, 3, U8, 0, NULL, &zwu, true);
    opc_attr_int(c, "group", group);
    run_checked(c, 1, PATH_PLAIN, "u8 weights reference");
    ref = copy_out(c);
    run_checked(c, 0, PATH_PLAIN, "u8 weights: the plain-C kernel");
    expect_q_close(&c->out[0], &ref, 0, 1.0, "u8 weights");
    free(ref.data);
    opc_free(c);
    free(wu);
    free(x);
    free(wt);
}
END_TEST

/* ==== QLinearMatMul / MatMulInteger: random cases ================================= */

START_TEST(qlinearmatmul_random)
{
    /* A (2, 3, 5, 40) u8, B (40, 24) int8 per-column scales; the qdq mode
     * with a float bias and relu; A's batch folds into rows on oneDNN */
    const int64_t M = 5, K = 40, N = 24, B0 = 2, B1 = 3;
    const int64_t na = B0 * B1 * M * K;
    uint8_t *a = bytes_of((size_t)na, 21);
    int8_t *b = bytes_of((size_t)(K * N), 22);
    float sa = 0.03f, sb[24], sy = 0.2f, bias[24];
    int8_t zb[24] = {0};
    uint8_t za = 120, zy = 128;
    for (int i = 0; i < 24; i++) {
        sb[i] = 0.004f + 0.0007f * (float)i;
        bias[i] = (float)(i % 5) - 2.0f;
    }
    for (int mode = 0; mode < 3; mode++) { /* standard; qdq bias+relu; qdq float out */
        op_case *c = opc_new("QLinearMatMul", 10, mode ? 9 : 8, 1);
        opc_input(c, 0, U8, 4, (int64_t[]){B0, B1, M, K}, a, false);
        opc_input(c, 1, F32, 0, NULL, &sa, true);
        opc_input(c, 2, U8, 0, NULL, &za, true);
        opc_input(c, 3, I8, 2, (int64_t[]){K, N}, b, true);
        opc_input(c, 4, F32, 1, (int64_t[]){N}, sb, true);
        opc_input(c, 5, I8, 1, (int64_t[]){N}, zb, true);
        if (mode < 2) {
            opc_input(c, 6, F32, 0, NULL, &sy, true);
            opc_input(c, 7, U8, 0, NULL, &zy, true);
        }
        if (mode) {
            opc_attr_int(c, "ortc_qdq", 1);
            opc_input(c, 8, F32, 1, (int64_t[]){N}, bias, true);
            opc_set_post_ops(c->node, "relu");
        }
        run_checked(c, 1, PATH_PLAIN, "qlinearmatmul reference");
        ortc_tensor ref = copy_out(c);
        /* the oracle, in double */
        int64_t bad = 0;
        for (int64_t t = 0; t < B0 * B1; t++)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double acc = 0;
                    for (int64_t p = 0; p < K; p++)
                        acc += (double)(a[(t * M + i) * K + p] - za) * sa *
                               ((double)b[p * N + j] * sb[j]);
                    if (mode)
                        acc = fmax(acc + bias[j], 0.0);
                    int64_t at = (t * M + i) * N + j;
                    if (mode == 2) {
                        bad += fabs(((float *)ref.data)[at] - acc) > 1e-5 * (1 + fabs(acc));
                    } else {
                        double q = round_even(acc / sy) + zy;
                        bad += q_get(&ref, at) != (int64_t)(q < 0 ? 0 : q > 255 ? 255 : q);
                    }
                }
        ck_assert_msg(bad == 0,
                      "qlinearmatmul mode %d: reference differs from the oracle in "
                      "%lld elements",
                      mode, (long long)bad);
        run_checked(c, 0, int8_path(), "qlinearmatmul oneDNN");
        if (mode == 2)
            assert_close_x(c->out[0].data, ref.data, NULL, ortc_tensor_numel(&ref), 1e-5, 1e-5,
                           "qlinearmatmul float output");
        else
            expect_q_close(&c->out[0], &ref, 1, 0.99, "qlinearmatmul oneDNN vs reference");
        free(ref.data);
        opc_free(c);
    }

    /* MatMulInteger: exact on both paths, B's zero points per column */
    int8_t zbc[24];
    for (int i = 0; i < 24; i++) {
        zbc[i] = (int8_t)(i - 12);
        for (int64_t p = 0; p < K; p++)
            b[p * N + i] = (int8_t)(b[p * N + i] / 2);
    }
    op_case *c = opc_new("MatMulInteger", 10, 4, 1);
    opc_input(c, 0, U8, 4, (int64_t[]){B0, B1, M, K}, a, false);
    opc_input(c, 1, I8, 2, (int64_t[]){K, N}, b, true);
    opc_input(c, 2, U8, 0, NULL, &za, true);
    opc_input(c, 3, I8, 1, (int64_t[]){N}, zbc, true);
    run_checked(c, 1, PATH_PLAIN, "matmulinteger reference");
    ortc_tensor ref = copy_out(c);
    run_checked(c, 0, int8_path(), "matmulinteger oneDNN");
    expect_q_close(&c->out[0], &ref, 0, 1.0, "matmulinteger oneDNN vs reference");
    free(ref.data);
    opc_free(c);
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("quant");
    TCase *t = tcase_create("quant");
    tcase_add_test(t, quantize_rounding_saturation);
    tcase_add_test(t, quantize_dequantize_per_axis);
    tcase_add_test(t, dynamic_quantize_hand);
    tcase_add_test(t, bad_params);
    tcase_add_test(t, bad_params_qlinear);
    tcase_add_test(t, quantize_fused_post_ops);
    tcase_add_test(t, qlinearconv_hand);
    tcase_add_test(t, qlinearmatmul_hand);
    tcase_add_test(t, qlinearconv_random);
    tcase_add_test(t, convinteger_random);
    tcase_add_test(t, qlinearmatmul_random);
    suite_add_tcase(s, t);
    return run_suite(s);
}
