/* cases_ops_dnnl.c — the oneDNN-backed operators (conv.c, pool.c, lrn.c,
 * gemm.c, softmax.c, eltwise.c, binary.c): the reference kernels against
 * hand-derived values, the oneDNN path against the reference kernels on
 * random inputs (also checking whether oneDNN or a documented plain-C
 * fallback ran), integer paths against hand values, and infer's errors.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "dnnl_util.h"
#include "helper_cases.h"
#include "helper_ops.h"

/* ==== reference kernels against hand-derived values ======================== */

START_TEST(ref_conv_hand)
{
    /* x = 1..16 as (1,1,4,4), w = [[1,2],[3,4]], bias 0.5, stride 2:
     * y[0,0] = 1*1 + 2*2 + 3*5 + 4*6 + 0.5 = 44.5; y[0,1] = 3+8+21+32+0.5;
     * y[1,0] = 9+20+39+56+0.5; y[1,1] = 11+24+45+64+0.5
     * (torch: F.conv2d(x, w, b, stride=2)) */
    float x[16], w[4] = {1, 2, 3, 4}, b[1] = {0.5f};
    for (int i = 0; i < 16; i++)
        x[i] = (float)(i + 1);
    const float exp[4] = {44.5f, 64.5f, 124.5f, 144.5f};
    op_case *c = opc_new("Conv", 11, 3, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 1, 4, 4}, x, false);
    opc_input(c, 1, F32, 4, (int64_t[]){1, 1, 2, 2}, w, true);
    opc_input(c, 2, F32, 1, (int64_t[]){1}, b, true);
    opc_attr_ints(c, "strides", (int64_t[]){2, 2}, 2);
    expect_both(c, exp, 4, (int64_t[]){1, 1, 2, 2}, 0, PATH_ANY, "conv 2x2 stride 2");
    opc_free(c);

    /* x = [[1,2],[3,4]], w = ones 2x2, pads top=1 left=1: the padded input
     * is [[0,0,0],[0,1,2],[0,3,4]]; window sums 1, 1+2, 1+3, 1+2+3+4 */
    float x2[4] = {1, 2, 3, 4}, w2[4] = {1, 1, 1, 1};
    const float exp2[4] = {1, 3, 4, 10};
    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 1, 2, 2}, x2, false);
    opc_input(c, 1, F32, 4, (int64_t[]){1, 1, 2, 2}, w2, false);
    opc_attr_ints(c, "pads", (int64_t[]){1, 1, 0, 0}, 4);
    expect_both(c, exp2, 4, (int64_t[]){1, 1, 2, 2}, 0, PATH_ANY, "conv top-left pads");
    opc_free(c);
}
END_TEST

START_TEST(ref_pool_hand)
{
    float x5[5] = {1, 2, 3, 4, 5}, x4[4] = {1, 2, 3, 4};
    /* MaxPool k=2 s=2 ceil_mode on [1..5]: out = ceil((5-2)/2)+1 = 3 windows
     * [1,2] [3,4] [5] -> 2 4 5 (torch: F.max_pool1d(x, 2, 2, ceil_mode=True)) */
    op_case *c = opc_new("MaxPool", 12, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 5}, x5, false);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){2}, 1);
    opc_attr_ints(c, "strides", (int64_t[]){2}, 1);
    opc_attr_int(c, "ceil_mode", 1);
    expect_both(c, (const float[]){2, 4, 5}, 3, (int64_t[]){1, 1, 3}, 0, PATH_ANY, "maxpool ceil");
    opc_free(c);

    /* [1..4], k=2 s=2 pads (0,1) ceil: ONNX's formula gives ceil(3/2)+1 = 3,
     * but the third window would start at 4 = in + pad_begin (all padding),
     * so it is dropped: 2 windows [1,2] [3,4] -> 2 4 */
    c = opc_new("MaxPool", 12, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 4}, x4, false);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){2}, 1);
    opc_attr_ints(c, "strides", (int64_t[]){2}, 1);
    opc_attr_ints(c, "pads", (int64_t[]){0, 1}, 2);
    opc_attr_int(c, "ceil_mode", 1);
    expect_both(c, (const float[]){2, 4}, 3, (int64_t[]){1, 1, 2}, 0, PATH_ANY,
                "maxpool ceil, last window in padding");
    opc_free(c);

    /* AveragePool [1..4], k=3 s=2 pads (1,1) ceil: out = ceil(3/2)+1 = 3;
     * windows start at -1, 1, 3 over the padded range [-1, 5):
     *   count_include_pad=1: (0+1+2)/3, (2+3+4)/3, (4+0)/2 (the window's
     *   position 5 lies past the padded end and is not counted) = 1 3 2
     *   count_include_pad=0: (1+2)/2, 9/3, 4/1 = 1.5 3 4
     * (torch: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=..)) */
    for (int cip = 0; cip <= 1; cip++) {
        c = opc_new("AveragePool", 11, 1, 1);
        opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 4}, x4, false);
        opc_attr_ints(c, "kernel_shape", (int64_t[]){3}, 1);
        opc_attr_ints(c, "strides", (int64_t[]){2}, 1);
        opc_attr_ints(c, "pads", (int64_t[]){1, 1}, 2);
        opc_attr_int(c, "ceil_mode", 1);
        opc_attr_int(c, "count_include_pad", cip);
        const float e1[3] = {1, 3, 2}, e0[3] = {1.5f, 3, 4};
        expect_both(c, cip ? e1 : e0, 3, (int64_t[]){1, 1, 3}, 1e-6, PATH_ANY,
                    cip ? "avgpool ceil count_include_pad=1" : "avgpool ceil count_include_pad=0");
        opc_free(c);
    }

    /* [1..5], k=2 s=2 no pads, ceil, count_include_pad=1: windows [1,2]
     * [3,4] [5]; the last runs past the (unpadded) end, divisor 1: 1.5 3.5 5 */
    c = opc_new("AveragePool", 11, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 5}, x5, false);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){2}, 1);
    opc_attr_ints(c, "strides", (int64_t[]){2}, 1);
    opc_attr_int(c, "ceil_mode", 1);
    opc_attr_int(c, "count_include_pad", 1);
    expect_both(c, (const float[]){1.5f, 3.5f, 5}, 3, (int64_t[]){1, 1, 3}, 1e-6, PATH_ANY,
                "avgpool ceil overhang without pads");
    opc_free(c);

    /* MaxPool-12 on int8 with Indices, k=2 s=1 over (1,2,3,3); indices are
     * flat into the whole input (channel 1 starts at 9), the first maximum
     * in window order wins a tie; storage_order=1 counts spatial positions
     * column-major (w*H + h). Worked by hand:
     *   ch0 [[1,5,2],[7,3,7],[0,9,4]] -> 7 7 9 9 at (1,0) (1,2) (2,1) (2,1)
     *   ch1 [[-1,-1,-3],[-5,-1,-2],[-8,-9,-7]] -> -1 x4 at (0,0) (0,1) (1,1) (1,1) */
    const int8_t xi[18] = {1, 5, 2, 7, 3, 7, 0, 9, 4, -1, -1, -3, -5, -1, -2, -8, -9, -7};
    const int8_t want_v[8] = {7, 7, 9, 9, -1, -1, -1, -1};
    const int64_t want_rm[8] = {3, 5, 7, 7, 9, 10, 13, 13};
    const int64_t want_cm[8] = {1, 7, 5, 5, 9, 12, 13, 13};
    for (int order = 0; order <= 1; order++)
        for (int ref = 0; ref <= 1; ref++) {
            c = opc_new("MaxPool", 12, 1, 2);
            opc_input(c, 0, ORTC_DTYPE_INT8, 4, (int64_t[]){1, 2, 3, 3}, xi, false);
            opc_attr_ints(c, "kernel_shape", (int64_t[]){2, 2}, 2);
            opc_attr_int(c, "storage_order", order);
            ck_assert_msg(opc_run(c, ref, 1) == ORTC_STATUS_OK, "maxpool int8: %s", c->err.msg);
            ck_assert_int_eq(c->out[0].dtype, ORTC_DTYPE_INT8);
            ck_assert_int_eq(c->out[1].dtype, ORTC_DTYPE_INT64);
            ck_assert_int_eq(c->out[1].rank, 4);
            ck_assert_int_eq(c->out[1].dims[2], 2);
            const int8_t *v = c->out[0].data;
            const int64_t *ix = c->out[1].data;
            for (int i = 0; i < 8; i++) {
                ck_assert_msg(v[i] == want_v[i], "maxpool int8 value %d: got %d want %d", i, v[i],
                              want_v[i]);
                int64_t w = order ? want_cm[i] : want_rm[i];
                ck_assert_msg(ix[i] == w, "maxpool storage_order %d index %d: got %lld want %lld",
                              order, i, (long long)ix[i], (long long)w);
            }
            opc_free(c);
        }

    /* MaxPool-12 on uint8/int8 without Indices runs oneDNN's int8 pooling
     * (channels-last, the input reordered into it): the same bytes as the
     * plain-C kernel over 1 to 3 spatial dims with pads, strides, ceil_mode
     * and dilations */
    static const struct {
        int rank;
        int64_t dims[5], kernel[3], strides[3], pads[6], dil[3];
        int ceil;
    } geo[] = {
        {4, {2, 5, 9, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0},
        {3, {1, 3, 17}, {4}, {3}, {1, 2}, {1}, 1},
        {5, {1, 2, 5, 6, 7}, {2, 2, 2}, {1, 2, 1}, {0, 1, 0, 0, 0, 1}, {2, 1, 1}, 0},
        {4, {1, 33, 7, 7}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1},
    };
    for (size_t gi = 0; gi < sizeof geo / sizeof *geo; gi++)
        for (int sgn = 0; sgn <= 1; sgn++) {
            int64_t n = 1;
            for (int d = 0; d < geo[gi].rank; d++)
                n *= geo[gi].dims[d];
            uint8_t *x8 = malloc((size_t)n);
            ck_assert_ptr_nonnull(x8);
            for (int64_t i = 0; i < n; i++)
                x8[i] = (uint8_t)((i * 131 + 7 * (i / 5)) % 256);
            const int nsp = geo[gi].rank - 2;
            uint8_t *want = NULL;
            size_t bytes = 0;
            for (int ref = 1; ref >= 0; ref--) {
                c = opc_new("MaxPool", 12, 1, 1);
                opc_input(c, 0, sgn ? ORTC_DTYPE_INT8 : ORTC_DTYPE_UINT8, geo[gi].rank,
                          geo[gi].dims, x8, false);
                opc_attr_ints(c, "kernel_shape", geo[gi].kernel, (size_t)nsp);
                opc_attr_ints(c, "strides", geo[gi].strides, (size_t)nsp);
                opc_attr_ints(c, "pads", geo[gi].pads, (size_t)(2 * nsp));
                opc_attr_ints(c, "dilations", geo[gi].dil, (size_t)nsp);
                opc_attr_int(c, "ceil_mode", geo[gi].ceil);
                ck_assert_msg(opc_run(c, ref, 2) == ORTC_STATUS_OK, "maxpool int8 %zu: %s", gi,
                              c->err.msg);
                ck_assert_int_eq(c->out[0].dtype, sgn ? ORTC_DTYPE_INT8 : ORTC_DTYPE_UINT8);
                if (ref) {
                    bytes = ortc_tensor_bytes(&c->out[0]);
                    want = malloc(bytes);
                    ck_assert_ptr_nonnull(want);
                    memcpy(want, c->out[0].data, bytes);
                } else {
                    ck_assert_int_eq(ortc_tensor_bytes(&c->out[0]), bytes);
                    ck_assert_msg(!memcmp(c->out[0].data, want, bytes),
                                  "maxpool %s geometry %zu: oneDNN differs from plain C",
                                  sgn ? "int8" : "uint8", gi);
                }
                opc_free(c);
            }
            free(want);
            free(x8);
        }

    /* double with a NaN: it wins its windows and its index is reported */
    const double xd[3] = {1.0, NAN, 3.0};
    c = opc_new("MaxPool", 12, 1, 2);
    opc_input(c, 0, ORTC_DTYPE_DOUBLE, 3, (int64_t[]){1, 1, 3}, xd, false);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){2}, 1);
    ck_assert_msg(opc_run(c, 0, 1) == ORTC_STATUS_OK, "maxpool double: %s", c->err.msg);
    const double *vd = c->out[0].data;
    const int64_t *id = c->out[1].data;
    ck_assert(isnan(vd[0]) && isnan(vd[1]));
    ck_assert(id[0] == 1 && id[1] == 1);
    opc_free(c);

    /* storage_order other than 0/1 is a model error naming the attribute */
    c = opc_new("MaxPool", 12, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 5}, x5, false);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){2}, 1);
    opc_attr_int(c, "storage_order", 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "storage_order", "maxpool storage_order 2");
    opc_free(c);

    /* GlobalAveragePool (1,2,2,2): channel means (1+2+3+4)/4, (5+6+7+8)/4 */
    float xg[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    c = opc_new("GlobalAveragePool", 1, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 2, 2, 2}, xg, false);
    expect_both(c, (const float[]){2.5f, 6.5f}, 4, (int64_t[]){1, 2, 1, 1}, 1e-6, PATH_ANY, "gap");
    opc_free(c);
}
END_TEST

START_TEST(ref_lrn_hand)
{
    /* size 3 (odd), C=3, x=[1,2,3], alpha=3 beta=1 bias=1 (alpha/size = 1):
     * c0 window {0,1}: 1/(1+1+4) = 1/6; c1 {0,1,2}: 2/(1+14) = 2/15;
     * c2 {1,2}: 3/(1+13) = 3/14 (torch: F.local_response_norm(x, 3, 3, 1, 1)) */
    float x3[3] = {1, 2, 3};
    op_case *c = opc_new("LRN", 13, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 3, 1, 1}, x3, false);
    opc_attr_int(c, "size", 3);
    opc_attr_float(c, "alpha", 3);
    opc_attr_float(c, "beta", 1);
    opc_attr_float(c, "bias", 1);
    expect_both(c, (const float[]){1.f / 6, 2.f / 15, 3.f / 14}, 4, (int64_t[]){1, 3, 1, 1}, 1e-6,
                PATH_ANY, "lrn size 3");
    opc_free(c);

    /* size 2 (even), C=2, x=[1,2], alpha=2 beta=1 bias=1 (alpha/size = 1):
     * ONNX window [c - 0, c + 1]: c0 {0,1}: 1/(1+1+4) = 1/6; c1 {1}:
     * 2/(1+4) = 0.4. (oneDNN's window would be {c-0 .. c+0}.) */
    float x2[2] = {1, 2};
    c = opc_new("LRN", 13, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 2, 1, 1}, x2, false);
    opc_attr_int(c, "size", 2);
    opc_attr_float(c, "alpha", 2);
    opc_attr_float(c, "beta", 1);
    opc_attr_float(c, "bias", 1);
    expect_both(c, (const float[]){1.f / 6, 0.4f}, 4, (int64_t[]){1, 2, 1, 1}, 1e-6, PATH_ANY,
                "lrn size 2");
    opc_free(c);
}
END_TEST

START_TEST(ref_softmax_hand)
{
    /* softmax([1,2,3]) = exp(x)/sum = [0.09003057, 0.24472847, 0.66524096] */
    float x[3] = {1, 2, 3};
    op_case *c = opc_new("Softmax", 13, 1, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){3}, x, false);
    expect_both(c, (const float[]){0.09003057f, 0.24472847f, 0.66524096f}, 1, (int64_t[]){3}, 1e-6,
                PATH_ANY, "softmax [1,2,3]");
    opc_free(c);

    /* x (1,2,2) = [[0,0],[0,ln 3]], axis 1:
     * opset 11 flattens dims 1.. into one row [0,0,0,ln3] -> exp [1,1,1,3]/6
     * opset 13 normalises along dim 1: column 0 (0,0) -> (.5,.5); column 1
     * (0, ln3) -> (1/4, 3/4) */
    float y[4] = {0, 0, 0, logf(3.0f)};
    const float e11[4] = {1.f / 6, 1.f / 6, 1.f / 6, 0.5f}, e13[4] = {0.5f, 0.25f, 0.5f, 0.75f};
    for (int v = 0; v < 2; v++) {
        c = opc_new("Softmax", v ? 13 : 11, 1, 1);
        opc_input(c, 0, F32, 3, (int64_t[]){1, 2, 2}, y, false);
        opc_attr_int(c, "axis", 1);
        expect_both(c, v ? e13 : e11, 3, (int64_t[]){1, 2, 2}, 1e-6, PATH_ANY,
                    v ? "softmax-13 axis 1" : "softmax-11 axis 1");
        opc_free(c);
    }
}
END_TEST

START_TEST(ref_gemm_matmul_hand)
{
    /* A = [[1,2],[3,4]], transA: A' = [[1,3],[2,4]]; B = [[5,6],[7,8]];
     * A'B = [[1*5+3*7, 1*6+3*8], [2*5+4*7, 2*6+4*8]] = [[26,30],[38,44]];
     * alpha 0.5 -> [[13,15],[19,22]]; C = [[1],[2]] (M,1), beta 2 ->
     * [[15,17],[23,26]] */
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, cm[2] = {1, 2};
    op_case *c = opc_new("Gemm", 13, 3, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, a, false);
    opc_input(c, 1, F32, 2, (int64_t[]){2, 2}, b, true);
    opc_input(c, 2, F32, 2, (int64_t[]){2, 1}, cm, false);
    opc_attr_int(c, "transA", 1);
    opc_attr_float(c, "alpha", 0.5f);
    opc_attr_float(c, "beta", 2.0f);
    expect_both(c, (const float[]){15, 17, 23, 26}, 2, (int64_t[]){2, 2}, 0, PATH_ANY,
                "gemm transA");
    opc_free(c);

    /* MatMul [1,2] x [[1,2,3],[4,5,6]] = [1+8, 2+10, 3+12] = [9,12,15] (1-D A:
     * the unit row is dropped) */
    float v[2] = {1, 2}, m[6] = {1, 2, 3, 4, 5, 6};
    c = opc_new("MatMul", 13, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){2}, v, false);
    opc_input(c, 1, F32, 2, (int64_t[]){2, 3}, m, false);
    expect_both(c, (const float[]){9, 12, 15}, 1, (int64_t[]){3}, 0, PATH_ANY, "matmul 1-D x 2-D");
    opc_free(c);

    /* MatMul [1,2] x [3,4] = 1*3 + 2*4 = 11, a scalar (rank 0) */
    float w[2] = {3, 4};
    c = opc_new("MatMul", 13, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){2}, v, false);
    opc_input(c, 1, F32, 1, (int64_t[]){2}, w, false);
    expect_both(c, (const float[]){11}, 0, NULL, 0, PATH_ANY, "matmul 1-D x 1-D");
    opc_free(c);
}
END_TEST

START_TEST(ref_relu_hand)
{
    float x[4] = {-2, -0.0f, 0.5f, 3};
    op_case *c = opc_new("Relu", 14, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, x, false);
    expect_both(c, (const float[]){0, 0, 0.5f, 3}, 2, (int64_t[]){2, 2}, 0, PATH_ANY, "relu");
    opc_free(c);
}
END_TEST

/* ==== Conv: oneDNN against the reference ==================================== */

typedef struct conv_cfg {
    const char *name;
    int nsp;
    int64_t n, c, m, group;
    int64_t in[3], k[3];
    int64_t stride[3], dil[3]; /* 0: attribute omitted */
    int64_t pads[6];           /* all 0: attribute omitted */
    const char *auto_pad;      /* NULL: omitted */
    bool bias, w_const, kernel_shape;
    int seeds;
} conv_cfg;

static const conv_cfg conv_cfgs[] = {
    {"2-D basic", 2, 2, 4, 6, 1, {9, 9}, {3, 3}, {0}, {0}, {0}, NULL, false, true, false, 2},
    {"2-D stride 2, asymmetric pads, bias",
     2,
     1,
     3,
     5,
     1,
     {10, 11},
     {3, 3},
     {2, 2},
     {0},
     {0, 1, 2, 1},
     NULL,
     true,
     true,
     false,
     2},
    {"2-D dilation 2",
     2,
     1,
     4,
     4,
     1,
     {12, 12},
     {3, 3},
     {0},
     {2, 2},
     {1, 1, 1, 1},
     NULL,
     true,
     true,
     false,
     2},
    {"2-D group 2",
     2,
     2,
     6,
     4,
     2,
     {8, 8},
     {3, 3},
     {0},
     {0},
     {1, 1, 1, 1},
     NULL,
     true,
     true,
     false,
     2},
    {"2-D depthwise",
     2,
     1,
     8,
     8,
     8,
     {10, 10},
     {3, 3},
     {2, 2},
     {0},
     {1, 1, 1, 1},
     NULL,
     true,
     true,
     false,
     2},
    {"2-D depthwise multiplier 2",
     2,
     1,
     4,
     8,
     4,
     {7, 9},
     {3, 3},
     {0},
     {0},
     {1, 1, 1, 1},
     NULL,
     true,
     true,
     false,
     1},
    {"SAME_UPPER stride 2 (pads 1+2)",
     2,
     1,
     3,
     4,
     1,
     {9, 10},
     {4, 3},
     {2, 2},
     {0},
     {0},
     "SAME_UPPER",
     true,
     true,
     false,
     2},
    {"SAME_LOWER stride 2 (pads 2+1)",
     2,
     1,
     3,
     4,
     1,
     {9, 10},
     {4, 3},
     {2, 2},
     {0},
     {0},
     "SAME_LOWER",
     true,
     true,
     false,
     2},
    {"VALID stride 2",
     2,
     1,
     3,
     4,
     1,
     {9, 10},
     {3, 3},
     {2, 2},
     {0},
     {0},
     "VALID",
     false,
     true,
     false,
     2},
    {"1-D stride 2 pads 2+1, explicit NOTSET",
     1,
     2,
     4,
     6,
     1,
     {20},
     {5},
     {2},
     {0},
     {2, 1},
     "NOTSET",
     true,
     true,
     false,
     2},
    {"3-D",
     3,
     1,
     3,
     4,
     1,
     {6, 7, 8},
     {3, 3, 3},
     {1, 2, 1},
     {0},
     {1, 1, 1, 1, 1, 1},
     NULL,
     true,
     true,
     false,
     2},
    {"3-D group 3 dilation 2, weights not constant",
     3,
     1,
     6,
     6,
     3,
     {7, 7, 7},
     {2, 2, 2},
     {0},
     {2, 2, 2},
     {0},
     NULL,
     true,
     false,
     false,
     1},
    {"2-D weights not constant",
     2,
     1,
     3,
     5,
     1,
     {10, 11},
     {3, 3},
     {2, 2},
     {0},
     {0, 1, 2, 1},
     NULL,
     true,
     false,
     false,
     2},
    {"2-D kernel_shape attribute",
     2,
     1,
     4,
     6,
     1,
     {9, 9},
     {3, 3},
     {0},
     {0},
     {0},
     NULL,
     false,
     true,
     true,
     1},
    {"1x1 conv", 2, 2, 16, 8, 1, {5, 5}, {1, 1}, {0}, {0}, {0}, NULL, true, true, false, 1},
    {"AlexNet conv1 1x3x227x227, 96x3x11x11 stride 4",
     2,
     1,
     3,
     96,
     1,
     {227, 227},
     {11, 11},
     {4, 4},
     {0},
     {0},
     NULL,
     true,
     true,
     false,
     1},
};

START_TEST(conv_random)
{
    const conv_cfg *k = &conv_cfgs[_i];
    for (int s = 0; s < k->seeds; s++) {
        uint64_t seed = 1000 + (uint64_t)s;
        int rank = k->nsp + 2;
        int64_t xd[5] = {k->n, k->c}, wd[5] = {k->m, k->c / k->group};
        for (int i = 0; i < k->nsp; i++) {
            xd[2 + i] = k->in[i];
            wd[2 + i] = k->k[i];
        }
        float *x = rand_f32(numel_of(rank, xd), -1, 1, &seed);
        float *w = rand_f32(numel_of(rank, wd), -1, 1, &seed);
        float *b = rand_f32(k->m, -1, 1, &seed);
        op_case *c = opc_new("Conv", 11, k->bias ? 3 : 2, 1);
        opc_input(c, 0, F32, rank, xd, x, false);
        opc_input(c, 1, F32, rank, wd, w, k->w_const);
        if (k->bias)
            opc_input(c, 2, F32, 1, &k->m, b, true);
        if (k->group != 1)
            opc_attr_int(c, "group", k->group);
        if (any_nonzero(k->stride, k->nsp))
            opc_attr_ints(c, "strides", k->stride, (size_t)k->nsp);
        if (any_nonzero(k->dil, k->nsp))
            opc_attr_ints(c, "dilations", k->dil, (size_t)k->nsp);
        if (any_nonzero(k->pads, 2 * k->nsp))
            opc_attr_ints(c, "pads", k->pads, 2 * (size_t)k->nsp);
        if (k->auto_pad)
            opc_attr_string(c, "auto_pad", k->auto_pad);
        if (k->kernel_shape)
            opc_attr_ints(c, "kernel_shape", k->k, (size_t)k->nsp);
        char what[160];
        snprintf(what, sizeof what, "Conv %s (seed %d)", k->name, s);
        /* reduction length: input channels per group x kernel volume (+1 bias) */
        int64_t red = k->c / k->group * numel_of(k->nsp, k->k) + 1;
        compare_paths(c, RTOL, atol_sum(red), true, what);
        opc_free(c);
        free(x);
        free(w);
        free(b);
    }
}
END_TEST

/* ==== pooling ================================================================ */

typedef struct pool_cfg {
    const char *name, *op;
    int opset, nsp;
    int64_t n, c, in[3], k[3];
    int64_t stride[3], dil[3], pads[6]; /* 0: omitted */
    int ceil_mode, count_include_pad;
    const char *auto_pad;
    bool expect_dnnl;
} pool_cfg;

static const pool_cfg pool_cfgs[] = {
    {"AlexNet max 3x3 s2",
     "MaxPool",
     12,
     2,
     1,
     96,
     {55, 55},
     {3, 3},
     {2, 2},
     {0},
     {0},
     0,
     0,
     NULL,
     true},
    {"max ceil_mode", "MaxPool", 10, 2, 2, 3, {10, 11}, {3, 3}, {2, 2}, {0}, {0}, 1, 0, NULL, true},
    {"max pads + dilation 2",
     "MaxPool",
     12,
     2,
     1,
     4,
     {12, 12},
     {3, 3},
     {0},
     {2, 2},
     {1, 2, 1, 2},
     0,
     0,
     NULL,
     true},
    {"max ceil + pads + dilation",
     "MaxPool",
     12,
     2,
     1,
     3,
     {11, 12},
     {2, 3},
     {2, 2},
     {2, 2},
     {1, 0, 0, 1},
     1,
     0,
     NULL,
     true},
    {"max 1-D", "MaxPool", 8, 1, 2, 3, {17}, {4}, {3}, {0}, {1, 2}, 0, 0, NULL, true},
    {"max 3-D ceil",
     "MaxPool",
     11,
     3,
     1,
     2,
     {7, 8, 9},
     {2, 3, 2},
     {2, 2, 2},
     {0},
     {0},
     1,
     0,
     NULL,
     true},
    {"max SAME_LOWER",
     "MaxPool",
     11,
     2,
     1,
     3,
     {9, 10},
     {4, 3},
     {2, 2},
     {0},
     {0},
     0,
     0,
     "SAME_LOWER",
     true},
    {"avg pads, exclude pad",
     "AveragePool",
     11,
     2,
     2,
     3,
     {9, 10},
     {3, 3},
     {2, 2},
     {0},
     {1, 1, 1, 1},
     0,
     0,
     NULL,
     true},
    {"avg pads, include pad",
     "AveragePool",
     11,
     2,
     2,
     3,
     {9, 10},
     {3, 3},
     {2, 2},
     {0},
     {1, 1, 1, 1},
     0,
     1,
     NULL,
     true},
    {"avg ceil, exclude pad",
     "AveragePool",
     10,
     2,
     1,
     4,
     {10, 11},
     {3, 3},
     {2, 2},
     {0},
     {0},
     1,
     0,
     NULL,
     true},
    /* count_include_pad with a ceil_mode window past the padded end: oneDNN
     * would divide by the full kernel, so the node falls back to plain C */
    {"avg ceil overhang, include pad (plain-C fallback)",
     "AveragePool",
     11,
     2,
     1,
     4,
     {10, 11},
     {3, 3},
     {2, 2},
     {0},
     {1, 0, 1, 0},
     1,
     1,
     NULL,
     false},
    /* ceil_mode that adds no window (9 + 2 - 3 divisible by 2) stays on oneDNN */
    {"avg ceil without overhang, include pad",
     "AveragePool",
     11,
     2,
     1,
     4,
     {9, 9},
     {3, 3},
     {2, 2},
     {0},
     {1, 1, 1, 1},
     1,
     1,
     NULL,
     true},
    {"avg SAME_UPPER",
     "AveragePool",
     7,
     2,
     1,
     3,
     {9, 10},
     {3, 3},
     {2, 2},
     {0},
     {0},
     0,
     0,
     "SAME_UPPER",
     true},
    {"avg 3-D pads",
     "AveragePool",
     11,
     3,
     1,
     2,
     {6, 7, 8},
     {3, 3, 3},
     {2, 1, 2},
     {0},
     {1, 0, 1, 1, 1, 0},
     0,
     0,
     NULL,
     true},
    {"avg 1-D include pad",
     "AveragePool",
     11,
     1,
     2,
     3,
     {15},
     {4},
     {2},
     {0},
     {2, 1},
     0,
     1,
     NULL,
     true},
};

START_TEST(pool_random)
{
    const pool_cfg *k = &pool_cfgs[_i];
    for (int s = 0; s < 2; s++) {
        uint64_t seed = 2000 + (uint64_t)s;
        int rank = k->nsp + 2;
        int64_t xd[5] = {k->n, k->c};
        for (int i = 0; i < k->nsp; i++)
            xd[2 + i] = k->in[i];
        float *x = rand_f32(numel_of(rank, xd), -1, 1, &seed);
        op_case *c = opc_new(k->op, k->opset, 1, 1);
        opc_input(c, 0, F32, rank, xd, x, false);
        opc_attr_ints(c, "kernel_shape", k->k, (size_t)k->nsp);
        if (any_nonzero(k->stride, k->nsp))
            opc_attr_ints(c, "strides", k->stride, (size_t)k->nsp);
        if (any_nonzero(k->dil, k->nsp))
            opc_attr_ints(c, "dilations", k->dil, (size_t)k->nsp);
        if (any_nonzero(k->pads, 2 * k->nsp))
            opc_attr_ints(c, "pads", k->pads, 2 * (size_t)k->nsp);
        if (k->auto_pad)
            opc_attr_string(c, "auto_pad", k->auto_pad);
        if (k->ceil_mode)
            opc_attr_int(c, "ceil_mode", 1);
        if (k->count_include_pad)
            opc_attr_int(c, "count_include_pad", 1);
        char what[160];
        snprintf(what, sizeof what, "%s %s (seed %d)", k->op, k->name, s);
        /* max is exact (it selects an input); an average sums up to the
         * kernel volume of inputs and divides once */
        bool is_max = !strcmp(k->op, "MaxPool");
        compare_paths(c, is_max ? 0 : RTOL, is_max ? 0 : atol_sum(numel_of(k->nsp, k->k)),
                      k->expect_dnnl, what);
        opc_free(c);
        free(x);
    }
}
END_TEST

START_TEST(global_avgpool_random)
{
    static const int64_t shapes[][6] = {
        {4, 2, 5, 7, 7},
        {3, 2, 3, 10},
        {5, 1, 4, 3, 4, 5},
        {4, 1, 256, 6, 6},
    };
    for (int t = 0; t < N_OF(shapes); t++) {
        uint64_t seed = 3000 + (uint64_t)t;
        int rank = (int)shapes[t][0];
        const int64_t *dims = &shapes[t][1];
        float *x = rand_f32(numel_of(rank, dims), -1, 1, &seed);
        op_case *c = opc_new("GlobalAveragePool", 1, 1, 1);
        opc_input(c, 0, F32, rank, dims, x, false);
        char what[64];
        snprintf(what, sizeof what, "GlobalAveragePool rank %d", rank);
        compare_paths(c, RTOL, atol_sum(numel_of(rank - 2, dims + 2)), true, what);
        opc_free(c);
        free(x);
    }
}
END_TEST

/* ==== LRN ==================================================================== */

START_TEST(lrn_random)
{
    static const struct {
        int64_t size;
        float alpha, beta, bias;
        int rank;
        int64_t dims[5];
    } cfgs[] = {
        {3, 0.3f, 0.75f, 1.0f, 4, {2, 7, 5, 6}},
        {5, 0.5f, 0.6f, 1.5f, 4, {1, 9, 4, 4}},
        {4, 0.4f, 0.75f, 1.0f, 4, {2, 7, 5, 6}}, /* even: plain-C kernel */
        {2, 0.2f, 0.5f, 1.0f, 3, {2, 5, 11}},    /* even: plain-C kernel */
        {1, 0.1f, 0.75f, 1.0f, 5, {1, 4, 3, 3, 3}},
        {5, 1e-4f, 0.75f, 2.0f, 4, {1, 96, 27, 27}}, /* AlexNet lrn1 */
    };
    for (int t = 0; t < N_OF(cfgs); t++)
        for (int s = 0; s < 2; s++) {
            uint64_t seed = 4000 + (uint64_t)(10 * t + s);
            /* larger inputs make the normaliser matter */
            float *x = rand_f32(numel_of(cfgs[t].rank, cfgs[t].dims), -3, 3, &seed);
            op_case *c = opc_new("LRN", s ? 13 : 1, 1, 1);
            opc_input(c, 0, F32, cfgs[t].rank, cfgs[t].dims, x, false);
            opc_attr_int(c, "size", cfgs[t].size);
            opc_attr_float(c, "alpha", cfgs[t].alpha);
            opc_attr_float(c, "beta", cfgs[t].beta);
            opc_attr_float(c, "bias", cfgs[t].bias);
            char what[96];
            snprintf(what, sizeof what, "LRN size %lld rank %d (seed %d)", (long long)cfgs[t].size,
                     cfgs[t].rank, s);
            /* a short sum of squares, then pow(): relative error dominates */
            compare_paths(c, RTOL, 1e-6, cfgs[t].size % 2 == 1, what);
            opc_free(c);
            free(x);
        }
}
END_TEST

/* ==== Gemm / MatMul ========================================================== */

START_TEST(gemm_random)
{
    /* _i picks transA/transB; every C shape, B constant or not */
    const int64_t M = 5, K = 7, N = 6;
    int ta = _i & 1, tb = (_i >> 1) & 1;
    static const struct {
        int rank;
        int64_t dims[2];
        const char *name;
    } cs[] = {
        {-1, {0}, "no C"},      {0, {0}, "scalar C"},   {1, {6}, "C (N)"}, {2, {1, 6}, "C (1,N)"},
        {2, {5, 1}, "C (M,1)"}, {2, {5, 6}, "C (M,N)"}, {1, {1}, "C (1)"},
    };
    for (int ci = 0; ci < N_OF(cs); ci++)
        for (int bconst = 0; bconst <= 1; bconst++) {
            uint64_t seed = 5000 + (uint64_t)(100 * _i + 10 * ci + bconst);
            int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
            float *a = rand_f32(numel_of(2, ad), -1, 1, &seed),
                  *b = rand_f32(numel_of(2, bd), -1, 1, &seed);
            float *cm = rand_f32(M * N, -1, 1, &seed);
            bool has_c = cs[ci].rank >= 0;
            op_case *c = opc_new("Gemm", 13, has_c ? 3 : 2, 1);
            opc_input(c, 0, F32, 2, ad, a, false);
            opc_input(c, 1, F32, 2, bd, b, bconst);
            if (has_c)
                opc_input(c, 2, F32, cs[ci].rank, cs[ci].dims, cm, false);
            if (ta)
                opc_attr_int(c, "transA", 1);
            if (tb)
                opc_attr_int(c, "transB", 1);
            /* alternate default and non-trivial alpha/beta */
            float alpha = ci % 2 ? 0.75f : 1.0f, beta = ci % 2 ? 1.0f : -1.5f;
            if (ci % 2)
                opc_attr_float(c, "alpha", alpha);
            else
                opc_attr_float(c, "beta", beta);
            char what[128];
            snprintf(what, sizeof what, "Gemm transA=%d transB=%d %s B %s", ta, tb, cs[ci].name,
                     bconst ? "constant" : "input");
            compare_paths(c, RTOL, atol_sum(K + 2), true, what);
            opc_free(c);
            free(a);
            free(b);
            free(cm);
        }
}
END_TEST

START_TEST(gemm_fc_and_versions)
{
    /* A classifier layer as exported by PyTorch: Gemm(x, W, b, transB=1),
     * W constant; then opset 9 (C required) with beta = 0 (C ignored), and
     * opset 11 without C */
    uint64_t seed = 5500;
    const int64_t M = 2, K = 256, N = 100;
    float *x = rand_f32(M * K, -1, 1, &seed);
    float *w = rand_f32(N * K, -1, 1, &seed);
    float *b = rand_f32(N, -1, 1, &seed);
    op_case *c = opc_new("Gemm", 13, 3, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){M, K}, x, false);
    opc_input(c, 1, F32, 2, (int64_t[]){N, K}, w, true);
    opc_input(c, 2, F32, 1, &N, b, true);
    opc_attr_int(c, "transB", 1);
    compare_paths(c, RTOL, atol_sum(K + 1), true, "Gemm classifier transB");
    opc_free(c);

    c = opc_new("Gemm", 9, 3, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){M, K}, x, false);
    opc_input(c, 1, F32, 2, (int64_t[]){N, K}, w, false);
    opc_input(c, 2, F32, 1, &N, b, false);
    opc_attr_int(c, "transB", 1);
    opc_attr_float(c, "beta", 0.0f);
    compare_paths(c, RTOL, atol_sum(K), true, "Gemm-9 beta 0");
    opc_free(c);

    c = opc_new("Gemm", 11, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){M, K}, x, false);
    opc_input(c, 1, F32, 2, (int64_t[]){N, K}, w, true);
    opc_attr_int(c, "transB", 1);
    opc_attr_float(c, "alpha", 2.0f);
    compare_paths(c, RTOL, 2 * atol_sum(K), true, "Gemm-11 no C alpha 2");
    opc_free(c);
    free(x);
    free(w);
    free(b);
}
END_TEST

START_TEST(matmul_random)
{
    static const struct {
        const char *name;
        int ra, rb;
        int64_t a[8], b[8];
        bool b_const;
    } cfgs[] = {
        {"1-D x 2-D", 1, 2, {7}, {7, 5}, false},
        {"2-D x 1-D", 2, 1, {4, 7}, {7}, true},
        {"1-D x 1-D", 1, 1, {9}, {9}, false},
        {"1-D x batched", 1, 3, {5}, {2, 5, 3}, false},
        {"batched x 1-D", 3, 1, {2, 4, 5}, {5}, false},
        {"batched x 2-D constant (rows fold)", 4, 2, {2, 3, 4, 5}, {5, 6}, true},
        {"2-D x batched", 2, 3, {4, 5}, {3, 5, 6}, false},
        {"batched x batched, same batch, B constant", 3, 3, {3, 4, 5}, {3, 5, 6}, true},
        {"broadcast both sides", 4, 3, {2, 1, 4, 5}, {3, 5, 6}, false},
        {"A broadcast", 3, 3, {1, 4, 5}, {3, 5, 6}, false},
        {"rank 5 broadcast both sides", 5, 5, {2, 1, 3, 4, 5}, {1, 2, 1, 5, 6}, false},
        {"rank 8", 8, 8, {2, 1, 2, 1, 1, 2, 3, 4}, {1, 2, 1, 2, 1, 2, 4, 3}, true},
        {"B batch of ones, higher rank", 2, 4, {4, 5}, {1, 1, 5, 6}, false},
    };
    for (int t = 0; t < N_OF(cfgs); t++) {
        uint64_t seed = 6000 + (uint64_t)t;
        float *a = rand_f32(numel_of(cfgs[t].ra, cfgs[t].a), -1, 1, &seed);
        float *b = rand_f32(numel_of(cfgs[t].rb, cfgs[t].b), -1, 1, &seed);
        op_case *c = opc_new("MatMul", 13, 2, 1);
        opc_input(c, 0, F32, cfgs[t].ra, cfgs[t].a, a, false);
        opc_input(c, 1, F32, cfgs[t].rb, cfgs[t].b, b, cfgs[t].b_const);
        char what[96];
        snprintf(what, sizeof what, "MatMul %s", cfgs[t].name);
        compare_paths(c, RTOL, atol_sum(cfgs[t].a[cfgs[t].ra - 1]), true, what);
        opc_free(c);
        free(a);
        free(b);
    }
}
END_TEST

/* ==== Softmax ================================================================= */

START_TEST(softmax_random)
{
    static const struct {
        int opset;
        int has_axis;
        int64_t axis;
        int rank;
        int64_t dims[4];
    } cfgs[] = {
        {11, 0, 0, 3, {2, 3, 4}},     {11, 1, 2, 3, {2, 3, 4}}, {11, 1, 0, 3, {2, 3, 4}},
        {11, 1, -1, 4, {2, 3, 4, 5}}, {1, 0, 0, 2, {3, 10}},    {13, 0, 0, 3, {2, 3, 4}},
        {13, 1, 1, 3, {2, 3, 4}},     {13, 1, 0, 3, {2, 3, 4}}, {13, 1, -2, 4, {2, 3, 4, 5}},
        {13, 0, 0, 2, {4, 1000}},
    };
    for (int t = 0; t < N_OF(cfgs); t++) {
        uint64_t seed = 7000 + (uint64_t)t;
        /* a wider range exercises the max subtraction */
        float *x = rand_f32(numel_of(cfgs[t].rank, cfgs[t].dims), -8, 8, &seed);
        op_case *c = opc_new("Softmax", cfgs[t].opset, 1, 1);
        opc_input(c, 0, F32, cfgs[t].rank, cfgs[t].dims, x, false);
        if (cfgs[t].has_axis)
            opc_attr_int(c, "axis", cfgs[t].axis);
        char what[96];
        snprintf(what, sizeof what, "Softmax-%d axis %s%lld rank %d", cfgs[t].opset,
                 cfgs[t].has_axis ? "" : "(default) ", (long long)cfgs[t].axis, cfgs[t].rank);
        /* outputs in [0, 1]; exp is approximated to a few ulp */
        compare_paths(c, RTOL, 1e-7, true, what);
        opc_free(c);
        free(x);
    }
}
END_TEST

/* ==== Relu and binary ops ===================================================== */

START_TEST(relu_random)
{
    uint64_t seed = 8000;
    int64_t dims[4] = {2, 3, 17, 19};
    float *x = rand_f32(numel_of(4, dims), -1, 1, &seed);
    for (int v = 0; v < 2; v++) {
        op_case *c = opc_new("Relu", v ? 14 : 6, 1, 1);
        opc_input(c, 0, F32, 4, dims, x, false);
        compare_paths(c, 0, 0, true, v ? "Relu-14" : "Relu-6"); /* exact: a selection */
        opc_free(c);
    }
    free(x);
}
END_TEST

START_TEST(binary_float_random)
{
    static const struct {
        const char *op;
        int opset;
        int ra, rb;
        int64_t a[4], b[4];
        bool expect_dnnl;
        const char *name;
    } cfgs[] = {
        {"Add", 14, 3, 3, {2, 3, 4}, {2, 3, 4}, true, "same shape"},
        {"Add", 14, 4, 4, {2, 3, 4, 5}, {1, 3, 1, 1}, true, "per-channel B"},
        {"Mul", 13, 4, 1, {2, 3, 4, 5}, {5}, true, "trailing B"},
        {"Sub", 14, 2, 0, {3, 5}, {0}, true, "scalar B"},
        {"Add", 14, 0, 2, {0}, {3, 5}, true, "scalar A (swapped)"},
        {"Mul", 14, 1, 3, {5}, {2, 3, 5}, true, "A broadcast (swapped)"},
        {"Sub", 14, 2, 3, {3, 1}, {2, 3, 4}, true, "A broadcast, Sub as -(B - A)"},
        {"Div", 14, 3, 3, {2, 3, 4}, {2, 1, 4}, true, "B broadcast"},
        {"Div", 14, 2, 2, {4, 1}, {4, 6}, false, "A broadcast (plain C)"},
        {"Mul", 14, 2, 2, {3, 1}, {1, 4}, false, "both sides broadcast (plain C)"},
        {"Sub", 7, 4, 3, {2, 1, 4, 1}, {3, 1, 5}, false, "both sides, rank 4 (plain C)"},
        {"Add", 13, 3, 3, {2, 0, 4}, {1, 1, 4}, false, "empty (plain C)"},
    };
    for (int t = 0; t < N_OF(cfgs); t++) {
        uint64_t seed = 9000 + (uint64_t)t;
        float *a = rand_f32(numel_of(cfgs[t].ra, cfgs[t].a), -2, 2, &seed);
        /* keep divisors away from 0 */
        float *b = rand_f32(numel_of(cfgs[t].rb, cfgs[t].b), 0.5f, 2, &seed);
        op_case *c = opc_new(cfgs[t].op, cfgs[t].opset, 2, 1);
        opc_input(c, 0, F32, cfgs[t].ra, cfgs[t].a, a, false);
        opc_input(c, 1, F32, cfgs[t].rb, cfgs[t].b, b, t % 2 == 0);
        char what[96];
        snprintf(what, sizeof what, "%s-%d %s", cfgs[t].op, cfgs[t].opset, cfgs[t].name);
        /* exact: IEEE +, -, *, / are correctly rounded on both paths */
        compare_paths(c, 0, 0, cfgs[t].expect_dnnl, what);
        opc_free(c);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(binary_legacy_broadcast)
{
    /* opset 6: B (3,4) lines up with A (2,3,4,5) at axis 1, i.e. numpy's
     * A + B[None, :, :, None]; check against that with a plain loop */
    uint64_t seed = 9500;
    int64_t ad[4] = {2, 3, 4, 5}, bd[2] = {3, 4};
    float *a = rand_f32(numel_of(4, ad), -1, 1, &seed),
          *b = rand_f32(numel_of(2, bd), -1, 1, &seed);
    float exp[120];
    for (int i = 0; i < 120; i++) {
        int j = (i / 5) % 4, k = (i / 20) % 3; /* indices along dims 2 and 1 */
        exp[i] = a[i] + b[k * 4 + j];
    }
    op_case *c = opc_new("Add", 6, 2, 1);
    opc_input(c, 0, F32, 4, ad, a, false);
    opc_input(c, 1, F32, 2, bd, b, false);
    opc_attr_int(c, "broadcast", 1);
    opc_attr_int(c, "axis", 1);
    expect_both(c, exp, 4, ad, 0, PATH_ANY, "Add-6 broadcast axis 1");
    opc_free(c);

    /* opset 6 without broadcast=1 refuses different shapes */
    c = opc_new("Add", 6, 2, 1);
    opc_input(c, 0, F32, 4, ad, a, false);
    opc_input(c, 1, F32, 2, bd, b, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "broadcast", "Add-6 without broadcast");
    opc_free(c);
    free(a);
    free(b);
}
END_TEST

/* Integer and double ops run plain C on both paths, so they are checked
 * against hand-derived values rather than against each other. */
static void run_both_exact(op_case *c, const void *exp, size_t bytes, int rank, const int64_t *dims,
                           const char *what)
{
    for (int reference = 1; reference >= 0; reference--) {
        ortc_status st = opc_run(c, reference, THREADS);
        ck_assert_msg(st == ORTC_STATUS_OK, "%s: %s", what, c->err.msg);
        ck_assert_msg(c->out[0].rank == rank, "%s: rank %d, expected %d", what, c->out[0].rank,
                      rank);
        for (int i = 0; i < rank; i++)
            ck_assert_msg(c->out[0].dims[i] == dims[i], "%s: dim %d is %lld, expected %lld", what,
                          i, (long long)c->out[0].dims[i], (long long)dims[i]);
        ck_assert_msg(ortc_tensor_bytes(&c->out[0]) == bytes, "%s: %zu bytes, expected %zu", what,
                      ortc_tensor_bytes(&c->out[0]), bytes);
        ck_assert_msg(memcmp(c->out[0].data, exp, bytes) == 0, "%s (%s path): data differs", what,
                      reference ? "reference" : "oneDNN");
    }
}

START_TEST(binary_int_hand)
{
    /* int64 Add, (2,1) + (1,3): [[10],[20]] + [[1,2,3]] = [[11,12,13],[21,22,23]] */
    int64_t a[2] = {10, 20}, b[3] = {1, 2, 3};
    int64_t e_add[6] = {11, 12, 13, 21, 22, 23};
    op_case *c = opc_new("Add", 14, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_INT64, 2, (int64_t[]){2, 1}, a, false);
    opc_input(c, 1, ORTC_DTYPE_INT64, 2, (int64_t[]){1, 3}, b, true);
    run_both_exact(c, e_add, sizeof e_add, 2, (int64_t[]){2, 3}, "int64 Add both sides");
    opc_free(c);

    /* int64 Sub, scalar - vector: 5 - [1,2,3] = [4,3,2] */
    int64_t five = 5, e_sub[3] = {4, 3, 2};
    c = opc_new("Sub", 14, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_INT64, 0, NULL, &five, false);
    opc_input(c, 1, ORTC_DTYPE_INT64, 1, (int64_t[]){3}, b, false);
    run_both_exact(c, e_sub, sizeof e_sub, 1, (int64_t[]){3}, "int64 Sub scalar A");
    opc_free(c);

    /* int64 Div truncates toward zero like C: 7/2=3, -7/2=-3, 7/-2=-3,
     * -7/-2=3; 0/3=0; x/0 is defined as 0; INT64_MIN/-1 wraps to INT64_MIN */
    int64_t n[7] = {7, -7, 7, -7, 0, 5, INT64_MIN}, d[7] = {2, 2, -2, -2, 3, 0, -1};
    int64_t e_div[7] = {3, -3, -3, 3, 0, 0, INT64_MIN};
    c = opc_new("Div", 14, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_INT64, 1, (int64_t[]){7}, n, false);
    opc_input(c, 1, ORTC_DTYPE_INT64, 1, (int64_t[]){7}, d, false);
    run_both_exact(c, e_div, sizeof e_div, 1, (int64_t[]){7}, "int64 Div");
    opc_free(c);

    /* int32 Mul with (1,2) broadcast over (2,2): [[1,2],[3,4]] * [[10,-1]]
     * = [[10,-2],[30,-4]]; 65536 * 65536 wraps to 0 */
    int32_t x[6] = {1, 2, 3, 4, 65536, 7}, y[2] = {10, -1}, big[2] = {65536, 1};
    int32_t e_mul[4] = {10, -2, 30, -4};
    c = opc_new("Mul", 13, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_INT32, 2, (int64_t[]){2, 2}, x, false);
    opc_input(c, 1, ORTC_DTYPE_INT32, 2, (int64_t[]){1, 2}, y, false);
    run_both_exact(c, e_mul, sizeof e_mul, 2, (int64_t[]){2, 2}, "int32 Mul");
    opc_free(c);
    int32_t e_wrap[2] = {0, 7};
    c = opc_new("Mul", 13, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_INT32, 1, (int64_t[]){2}, &x[4], false);
    opc_input(c, 1, ORTC_DTYPE_INT32, 1, (int64_t[]){2}, big, false);
    run_both_exact(c, e_wrap, sizeof e_wrap, 1, (int64_t[]){2}, "int32 Mul wrap");
    opc_free(c);

    /* float64 Div with broadcast: [1,2,3] / [[2],[4]] = [[.5,1,1.5],[.25,.5,.75]] */
    double p[3] = {1, 2, 3}, q[2] = {2, 4}, e_dd[6] = {0.5, 1, 1.5, 0.25, 0.5, 0.75};
    c = opc_new("Div", 14, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_DOUBLE, 1, (int64_t[]){3}, p, false);
    opc_input(c, 1, ORTC_DTYPE_DOUBLE, 2, (int64_t[]){2, 1}, q, false);
    run_both_exact(c, e_dd, sizeof e_dd, 2, (int64_t[]){2, 3}, "float64 Div");
    opc_free(c);
}
END_TEST

/* ==== infer errors ============================================================ */

START_TEST(infer_errors)
{
    static float buf[4096];
    op_case *c;

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 8}, buf, false);
    opc_input(c, 1, F32, 2, (int64_t[]){4, 3}, buf, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank 2", "Conv rank-2 input");
    opc_free(c);

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 3, 8, 8}, buf, false);
    opc_input(c, 1, F32, 3, (int64_t[]){4, 3, 3}, buf, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank 3", "Conv weight rank");
    opc_free(c);

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 3, 8, 8}, buf, false);
    opc_input(c, 1, F32, 4, (int64_t[]){4, 2, 3, 3}, buf, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "channels", "Conv channel mismatch");
    opc_free(c);

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 3, 8, 8}, buf, false);
    opc_input(c, 1, F32, 4, (int64_t[]){4, 1, 3, 3}, buf, true);
    opc_attr_int(c, "group", 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "group", "Conv group not dividing C");
    opc_free(c);

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 4, 8, 8}, buf, false);
    opc_input(c, 1, F32, 4, (int64_t[]){4, 4, 3, 3}, buf, true);
    opc_attr_int(c, "group", 0);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "group", "Conv group 0");
    opc_free(c);

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 4, 8, 8}, buf, false);
    opc_input(c, 1, F32, 4, (int64_t[]){4, 4, 3, 3}, buf, true);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){5, 5}, 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "kernel_shape", "Conv kernel_shape mismatch");
    opc_free(c);

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 4, 2, 2}, buf, false);
    opc_input(c, 1, F32, 4, (int64_t[]){4, 4, 3, 3}, buf, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "smaller than", "Conv input smaller than kernel");
    opc_free(c);

    c = opc_new("Conv", 11, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_DOUBLE, 4, (int64_t[]){1, 4, 8, 8}, buf, false);
    opc_input(c, 1, ORTC_DTYPE_DOUBLE, 4, (int64_t[]){4, 4, 3, 3}, buf, true);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "float64", "Conv float64");
    opc_free(c);

    /* integer MaxPool arrives with opset 12; before, only float types */
    c = opc_new("MaxPool", 11, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_UINT8, 4, (int64_t[]){1, 3, 8, 8}, buf, false);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){2, 2}, 2);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "uint8", "MaxPool-11 uint8");
    opc_free(c);

    c = opc_new("MaxPool", 12, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 3, 8, 8}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "kernel_shape", "MaxPool without kernel_shape");
    opc_free(c);

    c = opc_new("AveragePool", 11, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 3, 8}, buf, false);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){2, 2}, 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "kernel_shape", "AveragePool kernel rank");
    opc_free(c);

    c = opc_new("LRN", 13, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 3, 8, 8}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "size", "LRN without size");
    opc_free(c);

    c = opc_new("Gemm", 13, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 4}, buf, false);
    opc_input(c, 1, F32, 2, (int64_t[]){5, 6}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "K=", "Gemm inner dims");
    opc_free(c);

    c = opc_new("Gemm", 13, 3, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 4}, buf, false);
    opc_input(c, 1, F32, 2, (int64_t[]){4, 5}, buf, false);
    opc_input(c, 2, F32, 2, (int64_t[]){2, 5}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "broadcast", "Gemm C shape");
    opc_free(c);

    c = opc_new("Gemm", 13, 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 3, 4}, buf, false);
    opc_input(c, 1, F32, 2, (int64_t[]){4, 5}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank 3", "Gemm rank-3 A");
    opc_free(c);

    c = opc_new("MatMul", 13, 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){2, 3, 4}, buf, false);
    opc_input(c, 1, F32, 3, (int64_t[]){3, 4, 5}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "batch", "MatMul batch mismatch");
    opc_free(c);

    c = opc_new("Softmax", 13, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 4}, buf, false);
    opc_attr_int(c, "axis", 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "axis", "Softmax axis out of range");
    opc_free(c);

    c = opc_new("Add", 14, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 4}, buf, false);
    opc_input(c, 1, F32, 1, (int64_t[]){5}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "broadcast", "Add incompatible shapes");
    opc_free(c);

    /* Mul-14 takes every numeric dtype; bool is not numeric */
    c = opc_new("Mul", 14, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_BOOL, 1, (int64_t[]){4}, buf, false);
    opc_input(c, 1, ORTC_DTYPE_BOOL, 1, (int64_t[]){4}, buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "bool", "Mul bool");
    opc_free(c);

    c = opc_new("Add", 14, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){4}, buf, false);
    opc_input(c, 1, ORTC_DTYPE_INT64, 1, (int64_t[]){4}, buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "dtypes", "Add mixed dtypes");
    opc_free(c);

    c = opc_new("Relu", 14, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_INT32, 1, (int64_t[]){4}, buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "Relu int32");
    opc_free(c);
}
END_TEST

/* Registration: every ONNX 1.12 since-version, resolved by opset. */
START_TEST(registry_versions)
{
    static const struct {
        const char *op;
        int opset, want;
    } cases[] = {
        {"Conv", 7, 1},        {"Conv", 17, 11},        {"Relu", 13, 13},
        {"Relu", 17, 14},      {"MaxPool", 9, 8},       {"MaxPool", 17, 12},
        {"AveragePool", 9, 7}, {"AveragePool", 17, 11}, {"GlobalAveragePool", 17, 1},
        {"LRN", 12, 1},        {"LRN", 17, 13},         {"Gemm", 8, 7},
        {"Gemm", 10, 9},       {"Gemm", 12, 11},        {"Gemm", 17, 13},
        {"MatMul", 12, 9},     {"MatMul", 17, 13},      {"Softmax", 12, 11},
        {"Softmax", 17, 13},   {"Add", 12, 7},          {"Sub", 13, 13},
        {"Mul", 17, 14},       {"Div", 7, 7},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        const ortc_operator *op = ortc_registry_find("", cases[i].op, cases[i].opset);
        ck_assert_msg(op != NULL, "%s at opset %d not registered", cases[i].op, cases[i].opset);
        ck_assert_msg(ortc_operator_version(op, cases[i].opset) == cases[i].want,
                      "%s at opset %d resolves to %d, not %d", cases[i].op, cases[i].opset,
                      ortc_operator_version(op, cases[i].opset), cases[i].want);
        ck_assert_msg(op->reference != NULL, "%s-%d has no reference kernel", cases[i].op,
                      ortc_operator_version(op, cases[i].opset));
    }
}
END_TEST

void ortc_cases_ops_dnnl(Suite *s)
{
    TCase *tc = tcase_create("dnnl_reference_kernels");
    tcase_add_test(tc, ref_conv_hand);
    tcase_add_test(tc, ref_pool_hand);
    tcase_add_test(tc, ref_lrn_hand);
    tcase_add_test(tc, ref_softmax_hand);
    tcase_add_test(tc, ref_gemm_matmul_hand);
    tcase_add_test(tc, ref_relu_hand);
    tcase_add_test(tc, registry_versions);
    suite_add_tcase(s, tc);

    tc = tcase_create("dnnl_vs_reference");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, conv_random, 0, N_OF(conv_cfgs));
    tcase_add_loop_test(tc, pool_random, 0, N_OF(pool_cfgs));
    tcase_add_test(tc, global_avgpool_random);
    tcase_add_test(tc, lrn_random);
    tcase_add_loop_test(tc, gemm_random, 0, 4);
    tcase_add_test(tc, gemm_fc_and_versions);
    tcase_add_test(tc, matmul_random);
    tcase_add_test(tc, softmax_random);
    tcase_add_test(tc, relu_random);
    tcase_add_test(tc, binary_float_random);
    suite_add_tcase(s, tc);

    tc = tcase_create("dnnl_binary_plain_and_errors");
    tcase_add_test(tc, binary_legacy_broadcast);
    tcase_add_test(tc, binary_int_hand);
    tcase_add_test(tc, infer_errors);
    suite_add_tcase(s, tc);
}
