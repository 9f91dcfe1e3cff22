/* cases_ops_perf.c — the oneDNN operators' fast paths: fused post-ops
 * (operator.h's fusion contract) on Conv, Gemm and MatMul against hand-derived
 * values and the reference kernels; Gemm/MatMul's fully connected paths;
 * blocked layouts flowing between Conv, Relu, MaxPool/AveragePool, LRN,
 * Concat and BatchNormalization (with its fused ReLU)
 * in whole sessions (blocked in and out, plain out from blocked in, plain-C
 * fallbacks fed blocked data, the fused sum in place and not) against
 * reference-mode sessions of the same graph.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "nn/conv_wino5.h"
#include "dnnl_util.h"
#include "helper_cases.h"
#include "helper_common.h"
#include "helper_ops.h"
#include "session_impl.h"

/* ---- tolerances ------------------------------------------------------------
 * Single ops: RTOL and atol_sum (helper_cases.h), inputs in [-1, 1]; the
 * reference sums in double, oneDNN in float in its own order: k * eps for a
 * dot product of k terms, plus 1e-5 relative for oneDNN's exp/tanh/pow
 * approximations. Sessions: weights are scaled by 1/sqrt(fan-in) so every
 * activation stays O(1); two or three chained layers of at most 200 terms
 * each stay below 1e-5 absolute, and 1e-4 relative covers LRN's pow and the
 * transcendental post-ops compounding through a layer. A layout or indexing
 * mistake moves elements by O(0.1..1). */
#define SESS_RTOL 1e-4
#define SESS_ATOL 1e-5

/* ==== post-ops against hand-derived values ================================= */

/* x and the summand s of the hand cases; every list below is worked out
 * from ONNX's formulas on these six values. */
static const float hand_x[6] = {-3.0f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f};
static const float hand_s[6] = {-1.0f, 2.0f, 0.0f, -4.0f, 0.25f, -3.0f};

typedef struct hand_case {
    const char *list;
    double (*f)(double x, double s); /* expected output element */
} hand_case;

static double h_relu(double x, double s)
{
    (void)s;
    return x > 0 ? x : 0;
}
static double h_leaky(double x, double s)
{
    (void)s;
    return x < 0 ? 0.1 * x : x;
}
static double h_clip(double x, double s)
{
    (void)s;
    return x < -0.5 ? -0.5 : x > 1 ? 1 : x;
}
/* numpy: min(max(x, 1), -0.5) = -0.5 whatever x is */
static double h_clip_inverted(double x, double s)
{
    (void)x;
    (void)s;
    return -0.5;
}
static double h_sigmoid(double x, double s)
{
    (void)s;
    return 1 / (1 + exp(-x));
}
static double h_tanh(double x, double s)
{
    (void)s;
    return tanh(x);
}
static double h_elu(double x, double s)
{
    (void)s;
    return x < 0 ? 0.5 * (exp(x) - 1) : x;
}
static double h_hard_sigmoid(double x, double s)
{
    (void)s;
    double v = 0.2 * x + 0.5;
    return v < 0 ? 0 : v > 1 ? 1 : v;
}
/* x * clamp01(x / 6 + 0.5): -3 -> 0, -1 -> -1/3, -0.25 -> -0.1198, 0.5 -> 0.2917, 2 -> 5/3 */
static double h_hard_swish(double x, double s)
{
    (void)s;
    double v = x / 6 + 0.5;
    return x * (v < 0 ? 0 : v > 1 ? 1 : v);
}
/* x * sigmoid(x) (SiLU) */
static double h_swish(double x, double s)
{
    (void)s;
    return x / (1 + exp(-x));
}
static double h_sum(double x, double s)
{
    return x + s;
}
/* relu, then + s, then clip to [0, 1.5] */
static double h_relu_sum_clip(double x, double s)
{
    double v = (x > 0 ? x : 0) + s;
    return v < 0 ? 0 : v > 1.5 ? 1.5 : v;
}
static double h_sum_relu(double x, double s)
{
    return x + s > 0 ? x + s : 0;
}

static const hand_case hand_cases[] = {
    {"relu", h_relu},         {"leaky_relu:0.1", h_leaky},
    {"clip:-0.5:1", h_clip},  {"clip:1:-0.5", h_clip_inverted},
    {"sigmoid", h_sigmoid},   {"tanh", h_tanh},
    {"elu:0.5", h_elu},       {"hard_sigmoid:0.2:0.5", h_hard_sigmoid},
    {"sum", h_sum},           {"relu,sum,clip:0:1.5", h_relu_sum_clip},
    {"sum,relu", h_sum_relu}, {"hard_swish", h_hard_swish},
    {"swish", h_swish},
};

static bool has_sum(const char *list)
{
    return strstr(list, "sum") != NULL;
}

static void hand_expected(const hand_case *hc, float *exp)
{
    for (int i = 0; i < 6; i++)
        exp[i] = (float)hc->f(hand_x[i], hand_s[i]);
}

/* Conv 1x1 with weight 1 and no bias: y = post_ops(x). */
START_TEST(post_ops_conv_hand)
{
    static const float one = 1.0f;
    for (int h = 0; h < N_OF(hand_cases); h++) {
        const hand_case *hc = &hand_cases[h];
        bool sum = has_sum(hc->list);
        op_case *c = opc_new("Conv", 11, sum ? 4 : 2, 1);
        int64_t xd[4] = {1, 1, 1, 6}, wd[4] = {1, 1, 1, 1};
        opc_input(c, 0, F32, 4, xd, hand_x, false);
        opc_input(c, 1, F32, 4, wd, &one, true);
        if (sum) {
            opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
            opc_input(c, 3, F32, 4, xd, hand_s, false);
        }
        opc_set_post_ops(c->node, hc->list);
        float exp[6];
        hand_expected(hc, exp);
        char what[96];
        snprintf(what, sizeof what, "Conv post-ops \"%s\"", hc->list);
        expect_both(c, exp, 4, xd, 1e-5, PATH_DNNL, what);
        opc_free(c);
    }
}
END_TEST

/* Gemm (1, 6) x I(6)^T + 0 as a fully connected layer (the plain-C gemv),
 * and MatMul (1, 6) x I(6) (oneDNN matmul): y = post_ops(x). */
START_TEST(post_ops_gemm_matmul_hand)
{
    float eye[36] = {0}, zeros[6] = {0};
    for (int i = 0; i < 6; i++)
        eye[i * 7] = 1.0f;
    for (int h = 0; h < N_OF(hand_cases); h++) {
        const hand_case *hc = &hand_cases[h];
        bool sum = has_sum(hc->list);
        float exp[6];
        hand_expected(hc, exp);
        int64_t ad[2] = {1, 6}, bd[2] = {6, 6}, cd[1] = {6};
        for (int matmul = 0; matmul < 2; matmul++) {
            op_case *c = opc_new(matmul ? "MatMul" : "Gemm", 13, sum ? 4 : matmul ? 2 : 3, 1);
            opc_input(c, 0, F32, 2, ad, hand_x, false);
            opc_input(c, 1, F32, 2, bd, eye, true);
            if (!matmul) {
                opc_attr_int(c, "transB", 1);
                opc_input(c, 2, F32, 1, cd, zeros, true);
            } else if (sum) {
                opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
            }
            if (sum)
                opc_input(c, 3, F32, 2, ad, hand_s, false);
            opc_set_post_ops(c->node, hc->list);
            char what[96];
            snprintf(what, sizeof what, "%s post-ops \"%s\"", matmul ? "MatMul" : "Gemm", hc->list);
            /* one row: both run plain C (Gemm's (N, K) weights fc_gemv,
             * MatMul's (K, N) fc_axpy) */
            expect_both(c, exp, 2, ad, 1e-5, PATH_PLAIN, what);
            opc_free(c);
        }
    }
}
END_TEST

/* ==== post-ops against the reference on random data ========================= */

START_TEST(post_ops_conv_random)
{
    static const struct {
        const char *list;
        bool bias;
        int64_t group;
    } cases[] = {
        {"leaky_relu:0.2,sum,tanh", true, 1},
        {"sum", false, 1}, /* bias slot omitted, summand in slot 3 */
        {"elu:1.5,hard_sigmoid:0.3:0.4", true, 1},
        {"sigmoid,sum,clip:-0.2:0.7", true, 2},
        {"relu", true, 1},
    };
    uint64_t seed = 11;
    for (int t = 0; t < N_OF(cases); t++) {
        int64_t g = cases[t].group;
        int64_t xd[4] = {2, 6, 9, 8}, wd[4] = {8, 6 / g, 3, 3}, bd[1] = {8};
        int64_t yd[4] = {2, 8, 9, 8};
        bool sum = has_sum(cases[t].list);
        float *x = rand_f32(numel_of(4, xd), -1, 1, &seed);
        float *w = rand_f32(numel_of(4, wd), -1, 1, &seed);
        float *b = rand_f32(8, -1, 1, &seed);
        float *s = rand_f32(numel_of(4, yd), -1, 1, &seed);
        op_case *c = opc_new("Conv", 11, sum ? 4 : cases[t].bias ? 3 : 2, 1);
        opc_input(c, 0, F32, 4, xd, x, false);
        opc_input(c, 1, F32, 4, wd, w, true);
        if (cases[t].bias)
            opc_input(c, 2, F32, 1, bd, b, true);
        else if (sum)
            opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        if (sum)
            opc_input(c, 3, F32, 4, yd, s, false);
        int64_t pads[4] = {1, 1, 1, 1};
        opc_attr_ints(c, "pads", pads, 4);
        opc_attr_int(c, "group", g);
        opc_set_post_ops(c->node, cases[t].list);
        char what[96];
        snprintf(what, sizeof what, "Conv random post-ops \"%s\"", cases[t].list);
        compare_paths(c, RTOL, atol_sum(numel_of(3, &wd[1]) + 2), true, what);
        opc_free(c);
        free(x);
        free(w);
        free(b);
        free(s);
    }
}
END_TEST

/* A Conv over 1x1 images with a 1x1 kernel (squeeze-excite's) is a
 * matrix-vector product in plain C (conv.c conv_gemv_ok), its post-ops in
 * the same loop (relu, sigmoid, swish, hard_sigmoid) or after it (others):
 * against the reference kernel, on one row and on three, below and above
 * the size that splits it over the threads. Not for a 2x1 image, nor for
 * a grouped one (oneDNN). */
START_TEST(conv_pointwise_gemv)
{
    static const struct {
        int64_t n, c, m, h, group;
        const char *list;
        bool plain;
    } cases[] = {
        {1, 40, 37, 1, 1, "", true},
        {3, 40, 37, 1, 1, "swish", true},
        {3, 40, 37, 1, 1, "relu", true},
        {5, 40, 37, 1, 1, "swish", true}, /* four rows at a time, then one */
        {8, 96, 24, 1, 1, "relu", true},
        {2, 33, 17, 1, 1, "sigmoid", true},
        {2, 33, 17, 1, 1, "hard_sigmoid:0.2:0.5", true},
        {1, 1152, 48, 1, 1, "swish", true},   /* split over the threads */
        {1, 48, 1152, 1, 1, "sigmoid", true}, /* the same */
        {2, 40, 37, 1, 1, "tanh", true},      /* post-op applied after the loop */
        {2, 40, 37, 1, 1, "relu,hard_sigmoid:0.3:0.4", true},
        {1, 40, 37, 2, 1, "swish", false}, /* a 2x1 image: oneDNN */
        {1, 40, 38, 1, 2, "swish", false}, /* grouped: oneDNN */
    };
    uint64_t seed = 23;
    for (int t = 0; t < N_OF(cases); t++) {
        int64_t g = cases[t].group;
        int64_t xd[4] = {cases[t].n, cases[t].c, cases[t].h, 1};
        int64_t wd[4] = {cases[t].m, cases[t].c / g, 1, 1}, bd[1] = {cases[t].m};
        float *x = rand_f32(numel_of(4, xd), -1, 1, &seed);
        float *w = rand_f32(numel_of(4, wd), -1, 1, &seed);
        float *b = rand_f32(bd[0], -1, 1, &seed);
        op_case *c = opc_new("Conv", 11, 3, 1);
        opc_input(c, 0, F32, 4, xd, x, false);
        opc_input(c, 1, F32, 4, wd, w, true);
        opc_input(c, 2, F32, 1, bd, b, true);
        opc_attr_int(c, "group", g);
        if (cases[t].list[0])
            opc_set_post_ops(c->node, cases[t].list);
        char what[128];
        snprintf(what, sizeof what, "Conv 1x1 (%lld, %lld, %lld, 1) -> %lld, group %lld, \"%s\"",
                 (long long)xd[0], (long long)xd[1], (long long)xd[2], (long long)wd[0],
                 (long long)g, cases[t].list);
        compare_paths(c, RTOL, atol_sum(wd[1] + 2), cases[t].plain ? PATH_PLAIN : PATH_DNNL, what);
        opc_free(c);
        free(x);
        free(w);
        free(b);
    }
}
END_TEST

/* A trailing swish runs after the oneDNN primitive (conv.c conv_own_swish),
 * alone, after other eltwise post-ops and after a sum, on a dense and a
 * depthwise convolution: against the reference kernel. */
START_TEST(conv_own_swish)
{
    static const struct {
        const char *list;
        int64_t group;
    } cases[] = {
        {"swish", 1}, {"swish", 8}, {"clip:-0.5:0.5,swish", 1}, {"sum,swish", 1}, {"sum,swish", 8},
    };
    uint64_t seed = 29;
    for (int t = 0; t < N_OF(cases); t++) {
        int64_t g = cases[t].group;
        int64_t xd[4] = {2, 8, 9, 7}, wd[4] = {8, 8 / g, 3, 3}, bd[1] = {8};
        bool sum = has_sum(cases[t].list);
        float *x = rand_f32(numel_of(4, xd), -1, 1, &seed);
        float *w = rand_f32(numel_of(4, wd), -1, 1, &seed);
        float *b = rand_f32(8, -1, 1, &seed);
        float *s = rand_f32(numel_of(4, xd), -4, 4, &seed);
        op_case *c = opc_new("Conv", 11, sum ? 4 : 3, 1);
        opc_input(c, 0, F32, 4, xd, x, false);
        opc_input(c, 1, F32, 4, wd, w, true);
        opc_input(c, 2, F32, 1, bd, b, true);
        if (sum)
            opc_input(c, 3, F32, 4, xd, s, false);
        int64_t pads[4] = {1, 1, 1, 1};
        opc_attr_ints(c, "pads", pads, 4);
        opc_attr_int(c, "group", g);
        opc_set_post_ops(c->node, cases[t].list);
        char what[96];
        snprintf(what, sizeof what, "Conv 3x3 group %lld, post-ops \"%s\"", (long long)g,
                 cases[t].list);
        compare_paths(c, RTOL, atol_sum(numel_of(3, &wd[1]) + 6), PATH_DNNL, what);
        opc_free(c);
        free(x);
        free(w);
        free(b);
        free(s);
    }
}
END_TEST

/* The fully connected paths of Gemm: one row over B stored (N, K) (the
 * plain-C gemv, no oneDNN), 2, 3 and 8 rows or B stored (K, N) (oneDNN
 * matmul); C absent, (N) with beta 1 (bound as the bias), (1, N) with beta
 * 0.5 and a scalar with beta 2 (a bias made in prepare); with and without
 * post-ops. */
START_TEST(gemm_fc_paths)
{
    static const int64_t rows[] = {1, 2, 3, 8};
    static const char *lists[] = {NULL, "relu", "sum,sigmoid"};
    enum { C_NONE, C_N, C_ROW_HALF, C_SCALAR_TWO };
    uint64_t seed = 21;
    const int64_t k = 37, n = 19;
    for (int r = 0; r < N_OF(rows); r++)
        for (int tb = 0; tb < 2; tb++)
            for (int ck = C_NONE; ck <= C_SCALAR_TWO; ck++)
                for (int l = 0; l < N_OF(lists); l++) {
                    int64_t m = rows[r];
                    bool sum = lists[l] && has_sum(lists[l]);
                    int64_t ad[2] = {m, k}, bd[2] = {tb ? n : k, tb ? k : n}, yd[2] = {m, n};
                    float *a = rand_f32(m * k, -1, 1, &seed);
                    float *b = rand_f32(k * n, -1, 1, &seed);
                    float *cv = rand_f32(n, -1, 1, &seed);
                    float *s = rand_f32(m * n, -1, 1, &seed);
                    op_case *c = opc_new("Gemm", 13, sum ? 4 : ck == C_NONE ? 2 : 3, 1);
                    opc_input(c, 0, F32, 2, ad, a, false);
                    opc_input(c, 1, F32, 2, bd, b, true);
                    opc_attr_int(c, "transB", tb);
                    int64_t cn[1] = {n}, crow[2] = {1, n}, cs[1] = {1};
                    if (ck == C_N)
                        opc_input(c, 2, F32, 1, cn, cv, true);
                    else if (ck == C_ROW_HALF) {
                        opc_input(c, 2, F32, 2, crow, cv, true);
                        opc_attr_float(c, "beta", 0.5f);
                    } else if (ck == C_SCALAR_TWO) {
                        opc_input(c, 2, F32, 1, cs, cv, true);
                        opc_attr_float(c, "beta", 2.0f);
                    } else if (sum)
                        opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
                    if (sum)
                        opc_input(c, 3, F32, 2, yd, s, false);
                    if (lists[l])
                        opc_set_post_ops(c->node, lists[l]);
                    char what[128];
                    snprintf(what, sizeof what, "Gemm fc M=%lld transB=%d C kind %d post-ops %s",
                             (long long)m, tb, ck, lists[l] ? lists[l] : "none");
                    /* one row runs plain C: fc_gemv (transB) or fc_axpy */
                    compare_paths(c, RTOL, atol_sum(k + 2), m != 1, what);
                    opc_free(c);
                    free(a);
                    free(b);
                    free(cv);
                    free(s);
                }
}
END_TEST

/* Gemm off the fully connected path: alpha (output scale, with and
 * without a constant C), a C fed at run time (copied, then a sum post-op),
 * which cannot also take a fused sum: that case runs the plain-C kernel. */
/* fc_axpy (one row, (K, N) weights) skips the weight rows whose input is
 * exactly zero: inputs with runs of zeros, none, all zero, -0.0 and NaN
 * against the reference (which multiplies everything), N not a multiple of
 * the threads' 16-float slices, a bias (beta * C); and with an infinite
 * weight in a row whose input is zero it must not skip (0 * inf is NaN in
 * the reference too). */
START_TEST(gemm_fc_axpy_zeros)
{
    const int64_t k = 70, n = 37;
    uint64_t seed = 97;
    enum { HALF, NONE, ALL, SIGNED, NAN_IN, INF_W };
    for (int kind = HALF; kind <= INF_W; kind++) {
        float *a = rand_f32(k, -1, 1, &seed);
        float *b = rand_f32(k * n, -1, 1, &seed);
        float *cv = rand_f32(n, -1, 1, &seed);
        for (int64_t i = 0; i < k; i++) {
            bool zero = kind == ALL || ((kind == HALF || kind == INF_W) && (i % 7 < 4)) ||
                        (kind == SIGNED && i % 2);
            if (zero)
                a[i] = kind == SIGNED && i % 4 == 1 ? -0.0f : 0.0f;
        }
        if (kind == NAN_IN)
            a[5] = NAN;
        if (kind == INF_W)
            b[2 * n + 3] = INFINITY; /* row 2: its input is zero (2 % 7 < 4) */
        int64_t ad[2] = {1, k}, bd[2] = {k, n}, cd[1] = {n};
        op_case *c = opc_new("Gemm", 13, 3, 1);
        opc_input(c, 0, F32, 2, ad, a, false);
        opc_input(c, 1, F32, 2, bd, b, true);
        opc_input(c, 2, F32, 1, cd, cv, true);
        opc_attr_float(c, "beta", 0.5f);
        opc_set_post_ops(c->node, "relu");
        char what[64];
        snprintf(what, sizeof what, "fc_axpy input kind %d", kind);
        compare_paths(c, RTOL, atol_sum(k + 2), false, what);
        if (kind == INF_W) /* y[3] is NaN before the ReLU; oneDNN and C keep NaN */
            ck_assert_msg(isnan(c->out[0].data ? ((float *)c->out[0].data)[3] : 0.0f),
                          "%s: 0 * inf did not give NaN", what);
        opc_free(c);
        free(a);
        free(b);
        free(cv);
    }
}
END_TEST

START_TEST(gemm_general_post_ops)
{
    static const struct {
        float alpha, beta;
        bool c_const, c_present;
        const char *list;
        bool dnnl;
    } cases[] = {
        {0.5f, 1.0f, true, false, "relu", true},
        {0.5f, 1.0f, true, true, "tanh", true},
        {1.0f, 0.7f, false, true, "relu", true},
        {1.5f, 0.7f, false, true, "leaky_relu:0.3", true},
        {1.0f, 0.7f, false, true, "relu,sum", false},
    };
    uint64_t seed = 31;
    const int64_t m = 4, k = 23, n = 9;
    for (int t = 0; t < N_OF(cases); t++) {
        bool sum = has_sum(cases[t].list);
        int64_t ad[2] = {m, k}, bd[2] = {n, k}, cd[2] = {m, n}, yd[2] = {m, n};
        float *a = rand_f32(m * k, -1, 1, &seed);
        float *b = rand_f32(k * n, -1, 1, &seed);
        float *cv = rand_f32(m * n, -1, 1, &seed);
        float *s = rand_f32(m * n, -1, 1, &seed);
        op_case *c = opc_new("Gemm", 13, sum ? 4 : cases[t].c_present ? 3 : 2, 1);
        opc_input(c, 0, F32, 2, ad, a, false);
        opc_input(c, 1, F32, 2, bd, b, true);
        if (cases[t].c_present)
            opc_input(c, 2, F32, 2, cd, cv, cases[t].c_const);
        else if (sum)
            opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        if (sum)
            opc_input(c, 3, F32, 2, yd, s, false);
        opc_attr_int(c, "transB", 1);
        opc_attr_float(c, "alpha", cases[t].alpha);
        opc_attr_float(c, "beta", cases[t].beta);
        opc_set_post_ops(c->node, cases[t].list);
        char what[128];
        snprintf(what, sizeof what, "Gemm alpha %g beta %g C %s post-ops %s", cases[t].alpha,
                 cases[t].beta, cases[t].c_const ? "const" : "at run", cases[t].list);
        compare_paths(c, RTOL, atol_sum(k + 2), cases[t].dnnl, what);
        opc_free(c);
        free(a);
        free(b);
        free(cv);
        free(s);
    }
}
END_TEST

/* MatMul: a constant 2-D B under a batched A (rows folded)
 * and batched B fed at run, each with post-ops and a fused sum. */
START_TEST(matmul_post_ops)
{
    uint64_t seed = 41;
    for (int t = 0; t < 2; t++) {
        bool bconst = t == 0;
        int64_t ad[3] = {2, 3, 11}, bd3[3] = {2, 11, 5}, bd2[2] = {11, 5}, yd[3] = {2, 3, 5};
        float *a = rand_f32(numel_of(3, ad), -1, 1, &seed);
        float *b = rand_f32(numel_of(3, bd3), -1, 1, &seed);
        float *s = rand_f32(numel_of(3, yd), -1, 1, &seed);
        op_case *c = opc_new("MatMul", 13, 4, 1);
        opc_input(c, 0, F32, 3, ad, a, false);
        if (bconst)
            opc_input(c, 1, F32, 2, bd2, b, true);
        else
            opc_input(c, 1, F32, 3, bd3, b, false);
        opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        opc_input(c, 3, F32, 3, yd, s, false);
        opc_set_post_ops(c->node, "hard_sigmoid:0.3:0.4,sum,elu:0.8");
        compare_paths(c, RTOL, atol_sum(13), true,
                      bconst ? "MatMul constant 2-D B post-ops" : "MatMul batched B post-ops");
        opc_free(c);
        free(a);
        free(b);
        free(s);
    }
}
END_TEST

/* A fused GELU that ends the post-op list runs after oneDNN's matmul as
 * eltwise_fast.c's kernel (gemm.c) from 65536 outputs on (here 68120);
 * elsewhere in the list, or on fewer outputs, it stays oneDNN's gelu_erf. MatMul over constant 2-D weights
 * (rows folded), a batched B fed at run, and Gemm; against the plain-C
 * reference (GELU through erf() in double). */
START_TEST(matmul_gemm_gelu)
{
    static const struct {
        const char *op;
        bool bconst, batched_b;
        const char *list;
    } cases[] = {
        {"MatMul", true, false, "gelu_erf"},      {"MatMul", true, false, "bias,sum,gelu_erf"},
        {"MatMul", true, false, "gelu_erf,relu"}, {"MatMul", false, true, "sum,gelu_erf"},
        {"Gemm", true, false, "gelu_erf"},        {"Gemm", false, false, "sum,gelu_erf"},
        {"MatMul", true, false, "gelu_erf"}, /* rows 2 x 20: fewer outputs, fused */
    };
    uint64_t seed = 47;
    const int64_t k = 24, n = 131;
    for (int t = 0; t < N_OF(cases); t++) {
        bool gemm = !strcmp(cases[t].op, "Gemm"), sum = has_sum(cases[t].list);
        bool bias = strstr(cases[t].list, "bias") != NULL;
        /* MatMul (2, M, K) x (K, N) or (2, K, N); Gemm (2M, K) x (K, N) */
        const int64_t m = t == N_OF(cases) - 1 ? 20 : 260;
        int64_t ad[3] = {2, m, k}, bd[3] = {2, k, n}, yd[3] = {2, m, n}, biasd[1] = {n};
        int64_t ad2[2] = {2 * m, k}, yd2[2] = {2 * m, n};
        float *a = rand_f32(2 * m * k, -2, 2, &seed);
        float *b = rand_f32(2 * k * n, -0.5, 0.5, &seed);
        float *bv = rand_f32(n, -1, 1, &seed);
        float *s = rand_f32(2 * m * n, -2, 2, &seed);
        op_case *c = opc_new(cases[t].op, 13, sum ? 4 : bias ? 3 : 2, 1);
        opc_input(c, 0, F32, gemm ? 2 : 3, gemm ? ad2 : ad, a, false);
        if (cases[t].batched_b)
            opc_input(c, 1, F32, 3, bd, b, false);
        else
            opc_input(c, 1, F32, 2, &bd[1], b, cases[t].bconst);
        if (bias)
            opc_input(c, 2, F32, 1, biasd, bv, true);
        else if (sum)
            opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        if (sum)
            opc_input(c, 3, F32, gemm ? 2 : 3, gemm ? yd2 : yd, s, false);
        opc_set_post_ops(c->node, cases[t].list);
        char what[128];
        snprintf(what, sizeof what, "%s B %s post-ops %s", cases[t].op,
                 cases[t].batched_b ? "batched at run"
                 : cases[t].bconst  ? "constant"
                                    : "at run",
                 cases[t].list);
        compare_paths(c, RTOL, atol_sum(k + 3), true, what);
        opc_free(c);
        free(a);
        free(b);
        free(bv);
        free(s);
    }
}
END_TEST

/* MatMul over constant 2-D weights as oneDNN reads them: packed once (N of
 * 2048 or more; or (K, N) of 1M floats or more: a tall B, 2048 x 512) or
 * read in place (1024 x 512), under a batched A, with a fused bias, a sum
 * and an activation; against the plain-C reference. */
START_TEST(matmul_weights_packed_or_in_place)
{
    static const int64_t kn[][2] = {{64, 2048}, {2048, 512}, {1024, 512}};
    uint64_t seed = 43;
    for (int t = 0; t < N_OF(kn); t++) {
        int64_t k = kn[t][0], n = kn[t][1];
        int64_t ad[3] = {2, 3, k}, bd[2] = {k, n}, biasd[1] = {n}, yd[3] = {2, 3, n};
        float *a = rand_f32(numel_of(3, ad), -1, 1, &seed);
        float *b = rand_f32(k * n, -1, 1, &seed);
        float *bias = rand_f32(n, -1, 1, &seed);
        float *s = rand_f32(numel_of(3, yd), -1, 1, &seed);
        op_case *c = opc_new("MatMul", 13, 4, 1);
        opc_input(c, 0, F32, 3, ad, a, false);
        opc_input(c, 1, F32, 2, bd, b, true);
        opc_input(c, 2, F32, 1, biasd, bias, true);
        opc_input(c, 3, F32, 3, yd, s, false);
        opc_set_post_ops(c->node, "bias,sum,relu");
        char what[96];
        snprintf(what, sizeof what, "MatMul (2,3,%lld) x (%lld,%lld) bias,sum,relu", (long long)k,
                 (long long)k, (long long)n);
        compare_paths(c, RTOL, atol_sum(k + 3), true, what);
        opc_free(c);
        free(a);
        free(b);
        free(bias);
        free(s);
    }
}
END_TEST

/* ==== infer's checks of the post-op list ===================================== */

static op_case *small_conv(int n_in, const float *buf)
{
    static const int64_t xd[4] = {1, 2, 3, 3}, wd[4] = {2, 2, 1, 1}, yd[4] = {1, 2, 3, 3};
    op_case *c = opc_new("Conv", 11, n_in, 1);
    opc_input(c, 0, F32, 4, xd, buf, false);
    opc_input(c, 1, F32, 4, wd, buf, true);
    if (n_in > 2)
        opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    if (n_in > 3)
        opc_input(c, 3, F32, 4, yd, buf, false);
    return c;
}

START_TEST(post_ops_errors)
{
    float buf[64] = {0};
    static const struct {
        const char *list;
        int n_in;
        const char *needle;
    } cases[] = {
        {"sum", 2, "needs input 3"},
        {"relu", 4, "have no 'sum'"},
        {"sum,relu,sum", 4, "'sum' appears twice"},
    };
    for (int t = 0; t < N_OF(cases); t++) {
        op_case *c = small_conv(cases[t].n_in, buf);
        opc_set_post_ops(c->node, cases[t].list);
        char what[96];
        snprintf(what, sizeof what, "post-ops \"%s\"", cases[t].list);
        expect_error(c, ORTC_STATUS_INVALID_MODEL, cases[t].needle, what);
        opc_free(c);
    }
    /* a summand of the wrong shape */
    op_case *c = opc_new("Gemm", 13, 4, 1);
    int64_t ad[2] = {2, 3}, bd[2] = {3, 4}, sd[2] = {4, 2};
    opc_input(c, 0, F32, 2, ad, buf, false);
    opc_input(c, 1, F32, 2, bd, buf, true);
    opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    opc_input(c, 3, F32, 2, sd, buf, false);
    opc_set_post_ops(c->node, "sum");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "[4,2]", "Gemm summand shape");
    opc_free(c);
    /* a kind that does not exist */
    c = small_conv(2, buf);
    ck_assert_int_eq(ortc_node_add_post_op(c->node, (ortc_post_op){ORTC_POST_OP_KINDS, 0, 0}), 0);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "unknown kind", "post-op of an unknown kind");
    opc_free(c);
    /* MatMul has no input 2 */
    c = opc_new("MatMul", 13, 4, 1);
    int64_t yd[2] = {2, 4};
    opc_input(c, 0, F32, 2, ad, buf, false);
    opc_input(c, 1, F32, 2, bd, buf, true);
    opc_input(c, 2, F32, 2, yd, buf, false);
    opc_input(c, 3, F32, 2, yd, buf, false);
    opc_set_post_ops(c->node, "sum");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "no input 2", "MatMul input 2");
    opc_free(c);
}
END_TEST

/* ==== layouts in whole sessions ================================================ */

typedef struct graph_builder {
    ortc_model *m;
    ortc_graph *g;
    uint64_t seed;
} graph_builder;

static graph_builder gb_new(uint64_t seed)
{
    graph_builder b = {ortc_model_new(), NULL, seed};
    ck_assert_ptr_nonnull(b.m);
    ck_assert_int_eq(ortc_model_add_opset(b.m, "", 13), 0);
    b.g = ortc_graph_new(b.m, NULL, "g");
    ck_assert_ptr_nonnull(b.g);
    b.m->graph = b.g;
    return b;
}

/* A graph input; dim 0 symbolic ("batch") when batch_param. */
static void gb_input(graph_builder *b, const char *name, int rank, const int64_t *dims,
                     bool batch_param)
{
    ortc_value *v = ortc_graph_get_value(b->g, name);
    ortc_value_set_shape(v, F32, rank, dims);
    if (batch_param) {
        v->dims[0].value = -1;
        v->dims[0].param = strdup("batch");
    }
    v->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(b->g, v), 0);
}

/* A constant of uniform values in [-scale, scale]. */
static void gb_const(graph_builder *b, const char *name, int rank, const int64_t *dims, float scale)
{
    ortc_const_tensor *t = ortc_const_tensor_new(F32, rank, dims);
    ck_assert_ptr_nonnull(t);
    opc_fill_uniform(t->t.data, ortc_tensor_numel(&t->t), -scale, scale, &b->seed);
    ortc_value_set_constant(ortc_graph_get_value(b->g, name), t);
}

/* A node; ins/outs comma-separated, "" for an omitted input slot. */
static ortc_node *gb_node(graph_builder *b, const char *op, const char *name, const char *ins,
                          const char *outs)
{
    char *names[8], *onames[4];
    int n_in = 0, n_out = 0;
    char *ci = strdup(ins), *co = strdup(outs);
    for (char *p = ci, *q; n_in < 8; p = q + 1) {
        q = strchr(p, ',');
        names[n_in++] = p;
        if (!q)
            break;
        *q = '\0';
    }
    for (char *p = co, *q; n_out < 4; p = q + 1) {
        q = strchr(p, ',');
        onames[n_out++] = p;
        if (!q)
            break;
        *q = '\0';
    }
    ortc_node *n = ortc_graph_add_node(b->g, op, "", name, n_in, n_out);
    ck_assert_ptr_nonnull(n);
    for (int i = 0; i < n_in; i++)
        n->inputs[i] = names[i][0] ? ortc_graph_get_value(b->g, names[i]) : NULL;
    for (int k = 0; k < n_out; k++)
        n->outputs[k] = ortc_graph_get_value(b->g, onames[k]);
    free(ci);
    free(co);
    return n;
}

/* Conv with a kxk kernel, stride s and symmetric pad p; weights (and bias
 * unless bias is NULL) as constants "<name>.w"/"<name>.b" scaled by
 * 1/sqrt(fan-in). x_in: the data input; extra: ",,<summand>" etc. */
static ortc_node *gb_conv(graph_builder *b, const char *name, const char *x_in, const char *out,
                          int64_t c_in, int64_t c_out, int64_t k, int64_t s, int64_t p, bool bias,
                          const char *summand)
{
    char wn[64], bn[64], ins[256];
    snprintf(wn, sizeof wn, "%s.w", name);
    snprintf(bn, sizeof bn, "%s.b", name);
    int64_t wd[4] = {c_out, c_in, k, k}, bd[1] = {c_out};
    float scale = 1.0f / sqrtf((float)(c_in * k * k));
    gb_const(b, wn, 4, wd, scale);
    if (bias)
        gb_const(b, bn, 1, bd, 0.5f);
    snprintf(ins, sizeof ins, "%s,%s%s%s%s%s", x_in, wn, bias || summand ? "," : "", bias ? bn : "",
             summand ? "," : "", summand ? summand : "");
    ortc_node *n = gb_node(b, "Conv", name, ins, out);
    int64_t ks[2] = {k, k}, st[2] = {s, s}, pads[4] = {p, p, p, p};
    node_attr_ints(n, "kernel_shape", ks, 2);
    node_attr_ints(n, "strides", st, 2);
    node_attr_ints(n, "pads", pads, 4);
    return n;
}

static ortc_node *gb_pool(graph_builder *b, const char *op, const char *name, const char *in,
                          const char *out, int64_t k, int64_t s, int64_t p)
{
    ortc_node *n = gb_node(b, op, name, in, out);
    int64_t ks[2] = {k, k}, st[2] = {s, s}, pads[4] = {p, p, p, p};
    node_attr_ints(n, "kernel_shape", ks, 2);
    node_attr_ints(n, "strides", st, 2);
    node_attr_ints(n, "pads", pads, 4);
    return n;
}

static ortc_model *gb_finish(graph_builder *b, const char *outputs)
{
    char *co = strdup(outputs);
    for (char *save = NULL, *tok = strtok_r(co, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        ck_assert_int_eq(ortc_graph_add_output(b->g, ortc_graph_get_value(b->g, tok)), 0);
    free(co);
    char err[1024] = "";
    ortc_status st = ortc_graph_finalize(b->g, err, sizeof err);
    ck_assert_msg(st == ORTC_STATUS_OK, "finalize failed: %s", err);
    return b->m;
}

typedef ortc_model *(*model_fn)(void);

/* Two sessions of the same graph: oneDNN (graph passes off, so the graph
 * runs as built) and reference kernels. */
typedef struct session_pair {
    ortc_session *fast, *ref;
} session_pair;

static session_pair pair_new(model_fn build)
{
    session_pair sp = {NULL, NULL};
    ortc_options o;
    ortc_options_init(&o);
    o.threads = THREADS;
    o.optimize = 0;
    sp.fast = session_ok(build(), &o);
    o.reference = 1;
    sp.ref = session_ok(build(), &o);
    return sp;
}

static void pair_free(session_pair *sp)
{
    ortc_session_destroy(sp->fast);
    ortc_session_destroy(sp->ref);
}

/* Runs both sessions (twice for the fast one: the second run reuses the
 * plan and its arena) on random inputs of the given shapes and compares
 * every output. */
static void pair_run(session_pair *sp, int n_in, const int64_t (*dims)[4], int n_out, uint64_t seed,
                     const char *what)
{
    ortc_tensor in[4], out_f[4], out_r[4];
    float *bufs[8] = {0};
    ck_assert_int_le(n_in, 4);
    ck_assert_int_le(n_out, 4);
    for (int i = 0; i < n_in; i++) {
        int rank = dims[i][3] ? 4 : dims[i][2] ? 3 : 2;
        in[i] = (ortc_tensor){F32, rank, {0}, NULL};
        for (int d = 0; d < rank; d++)
            in[i].dims[d] = dims[i][d];
        bufs[i] = rand_f32(ortc_tensor_numel(&in[i]), -1, 1, &seed);
        in[i].data = bufs[i];
    }
    memset(out_f, 0, sizeof out_f);
    memset(out_r, 0, sizeof out_r);
    ck_assert_msg(ortc_session_output_shapes(sp->fast, in, (size_t)n_in, out_f, (size_t)n_out) ==
                      ORTC_STATUS_OK,
                  "%s: %s", what, ortc_session_last_error(sp->fast));
    ck_assert_msg(ortc_session_output_shapes(sp->ref, in, (size_t)n_in, out_r, (size_t)n_out) ==
                      ORTC_STATUS_OK,
                  "%s: %s", what, ortc_session_last_error(sp->ref));
    for (int k = 0; k < n_out; k++) {
        out_f[k].data = malloc(ortc_tensor_bytes(&out_f[k]));
        out_r[k].data = malloc(ortc_tensor_bytes(&out_r[k]));
        ck_assert(out_f[k].data && out_r[k].data);
    }
    ck_assert_msg(ortc_session_run(sp->ref, in, (size_t)n_in, out_r, (size_t)n_out) ==
                      ORTC_STATUS_OK,
                  "%s (reference): %s", what, ortc_session_last_error(sp->ref));
    for (int rep = 0; rep < 2; rep++) {
        for (int k = 0; k < n_out; k++)
            memset(out_f[k].data, 0xff, ortc_tensor_bytes(&out_f[k])); /* NaN */
        ck_assert_msg(ortc_session_run(sp->fast, in, (size_t)n_in, out_f, (size_t)n_out) ==
                          ORTC_STATUS_OK,
                      "%s: %s", what, ortc_session_last_error(sp->fast));
        for (int k = 0; k < n_out; k++) {
            char name[160];
            snprintf(name, sizeof name, "%s, output %d, run %d", what, k, rep + 1);
            ck_assert_int_eq(out_f[k].rank, out_r[k].rank);
            for (int d = 0; d < out_r[k].rank; d++)
                ck_assert_int_eq(out_f[k].dims[d], out_r[k].dims[d]);
            opc_assert_close(out_f[k].data, out_r[k].data, ortc_tensor_numel(&out_r[k]), SESS_RTOL,
                             SESS_ATOL, name);
        }
    }
    for (int k = 0; k < n_out; k++) {
        free(out_f[k].data);
        free(out_r[k].data);
    }
    for (int i = 0; i < n_in; i++)
        free(bufs[i]);
}

/* The layout the fast session's current plan gave value `name`. */
static const ortc_layout *layout_of(ortc_session *s, const char *name)
{
    ck_assert_ptr_nonnull(s->last);
    const ortc_value *v = ortc_graph_find_local(s->model->graph, name);
    ck_assert_msg(v != NULL, "no value '%s'", name);
    int slot = ortc_plan_slot(s->last, v);
    ck_assert_int_ge(slot, 0);
    return &s->last->layouts[slot];
}

static void expect_layout(ortc_session *s, const char *name, bool blocked, const char *what)
{
    const ortc_layout *l = layout_of(s, name);
    ck_assert_msg(l->plain != blocked, "%s: value '%s' is %s, expected %s", what, name,
                  l->plain ? "plain" : "blocked", blocked ? "blocked" : "plain");
    if (blocked)
        ck_assert_msg(l->desc != NULL && l->bytes > 0, "%s: blocked '%s' has no descriptor", what,
                      name);
}

/* Whether a blocked layout keeps the channels innermost (nhwc-like). */
static bool layout_channels_last(const ortc_layout *l)
{
    const dnnl_memory_desc_t *md = l->desc;
    return !l->plain && md && md->format_kind == dnnl_blocked &&
           md->format_desc.blocking.inner_nblks == 0 && md->format_desc.blocking.strides[1] == 1;
}

/* x -> Conv(stride 2) -> Relu -> MaxPool -> LRN -> Conv = c2, which feeds
 * Relu, AveragePool and LRN, each a graph output: blocked all the way
 * through the chain (the first Conv reorders the plain graph input), then
 * three ways back to plain. LRN is the exception: it normalises a
 * channels-last input plain (lrn.c: oneDNN's channels-last LRN costs several
 * times a reorder and its plain kernel), any other blocked one in place. */
static ortc_model *chain_model(void)
{
    graph_builder b = gb_new(101);
    int64_t xd[4] = {2, 3, 17, 17};
    gb_input(&b, "x", 4, xd, false);
    gb_conv(&b, "conv1", "x", "c1", 3, 8, 3, 2, 1, true, NULL);
    gb_node(&b, "Relu", "relu1", "c1", "r1");
    gb_pool(&b, "MaxPool", "pool1", "r1", "p1", 3, 1, 1);
    ortc_node *lrn = gb_node(&b, "LRN", "lrn1", "p1", "l1");
    node_attr_int(lrn, "size", 3);
    gb_conv(&b, "conv2", "l1", "c2", 8, 16, 3, 1, 1, true, NULL);
    gb_node(&b, "Relu", "relu2", "c2", "y_relu");
    gb_pool(&b, "AveragePool", "apool", "c2", "y_avg", 2, 2, 0);
    lrn = gb_node(&b, "LRN", "lrn2", "c2", "y_lrn");
    node_attr_int(lrn, "size", 5);
    return gb_finish(&b, "y_relu,y_avg,y_lrn");
}

START_TEST(layout_chain)
{
    session_pair sp = pair_new(chain_model);
    const int64_t dims[1][4] = {{2, 3, 17, 17}};
    pair_run(&sp, 1, dims, 3, 7, "chain");
    static const char *blocked[] = {"c1", "r1", "p1", "c2"};
    for (int i = 0; i < N_OF(blocked); i++)
        expect_layout(sp.fast, blocked[i], true, "chain");
    expect_layout(sp.fast, "l1", !layout_channels_last(layout_of(sp.fast, "p1")), "chain");
    static const char *plain[] = {"y_relu", "y_avg", "y_lrn"};
    for (int i = 0; i < N_OF(plain); i++)
        expect_layout(sp.fast, plain[i], false, "chain");
    pair_free(&sp);
}
END_TEST

/* Blocked data into the plain-C fallbacks: LRN with an even size and an
 * AveragePool whose count_include_pad + ceil_mode window oneDNN cannot
 * express (pads 1, kernel 3, stride 2 over 10: the last window needs 2 of
 * right padding). */
static ortc_model *fallback_model(void)
{
    graph_builder b = gb_new(202);
    int64_t xd[4] = {1, 4, 10, 10};
    gb_input(&b, "x", 4, xd, false);
    gb_conv(&b, "conv", "x", "c", 4, 6, 3, 1, 1, true, NULL);
    ortc_node *lrn = gb_node(&b, "LRN", "lrn_even", "c", "y_lrn");
    node_attr_int(lrn, "size", 4);
    ortc_node *ap = gb_pool(&b, "AveragePool", "apool", "c", "y_avg", 3, 2, 1);
    node_attr_int(ap, "ceil_mode", 1);
    node_attr_int(ap, "count_include_pad", 1);
    gb_node(&b, "Relu", "relu", "c", "r");
    gb_pool(&b, "MaxPool", "mpool", "r", "y_max", 2, 2, 0);
    return gb_finish(&b, "y_lrn,y_avg,y_max");
}

START_TEST(layout_fallbacks)
{
    session_pair sp = pair_new(fallback_model);
    const int64_t dims[1][4] = {{1, 4, 10, 10}};
    pair_run(&sp, 1, dims, 3, 8, "fallbacks");
    expect_layout(sp.fast, "c", true, "fallbacks");
    expect_layout(sp.fast, "r", true, "fallbacks");
    pair_free(&sp);
}
END_TEST

/* A consumer that needs plain data (Tanh) keeps Conv's output plain even
 * though its other consumer (Relu) would take a blocked one. */
static ortc_model *mixed_consumers_model(void)
{
    graph_builder b = gb_new(303);
    int64_t xd[4] = {2, 5, 8, 8};
    gb_input(&b, "x", 4, xd, false);
    gb_conv(&b, "conv", "x", "c", 5, 7, 3, 1, 1, true, NULL);
    gb_node(&b, "Relu", "relu", "c", "y_relu");
    gb_node(&b, "Tanh", "tanh", "c", "y_tanh");
    return gb_finish(&b, "y_relu,y_tanh");
}

START_TEST(layout_mixed_consumers)
{
    session_pair sp = pair_new(mixed_consumers_model);
    const int64_t dims[1][4] = {{2, 5, 8, 8}};
    pair_run(&sp, 1, dims, 2, 9, "mixed consumers");
    expect_layout(sp.fast, "c", false, "mixed consumers");
    pair_free(&sp);
}
END_TEST

/* Squeeze-excite and residual sums on blocked data, 24 channels (blocked
 * by 16: padded): c1 = conv(x); g = GlobalAveragePool(c1) -> conv -> Relu
 * -> conv -> Sigmoid = s (plain, [2,24,1,1]); m = c1 * s (blocked x plain
 * broadcast); r = conv(m) + m (both blocked); y = conv(r); q = r + p (p a
 * plain graph input; blocked like r); d = q / s and z = s - m (the
 * broadcast operand first: computed as -(m - s)) as graph outputs, plain
 * from blocked; e = s / (m * m + 1) has no oneDNN form (a broadcast
 * dividend: plain C on a plain copy of the blocked divisor). */
static ortc_model *squeeze_excite_model(void)
{
    graph_builder b = gb_new(606);
    int64_t xd[4] = {2, 16, 9, 9}, pd[4] = {2, 24, 9, 9};
    gb_input(&b, "x", 4, xd, false);
    gb_input(&b, "p", 4, pd, false);
    gb_conv(&b, "conv1", "x", "c1", 16, 24, 3, 1, 1, true, NULL);
    gb_node(&b, "GlobalAveragePool", "gap", "c1", "g");
    gb_conv(&b, "fc1", "g", "f1", 24, 8, 1, 1, 0, true, NULL);
    gb_node(&b, "Relu", "relu", "f1", "f1r");
    gb_conv(&b, "fc2", "f1r", "f2", 8, 24, 1, 1, 0, true, NULL);
    gb_node(&b, "Sigmoid", "sig", "f2", "s");
    gb_node(&b, "Mul", "scale", "c1,s", "m");
    gb_conv(&b, "conv2", "m", "c2", 24, 24, 1, 1, 0, true, NULL);
    gb_node(&b, "Add", "res", "c2,m", "r");
    gb_conv(&b, "conv3", "r", "y", 24, 8, 3, 1, 1, true, NULL);
    gb_node(&b, "Add", "addp", "r,p", "q");
    gb_node(&b, "Div", "div", "q,s", "d");
    gb_node(&b, "Sub", "sub", "s,m", "z");
    gb_node(&b, "Mul", "sq", "m,m", "m2");
    int64_t one_dims[1] = {1};
    gb_const(&b, "one", 1, one_dims, 1.0f);
    *(float *)ortc_graph_get_value(b.g, "one")->constant->t.data = 1.0f;
    gb_node(&b, "Add", "plus1", "m2,one", "m3");
    gb_node(&b, "Div", "div2", "s,m3", "e");
    return gb_finish(&b, "y,d,z,e");
}

START_TEST(layout_squeeze_excite)
{
    session_pair sp = pair_new(squeeze_excite_model);
    const int64_t dims[2][4] = {{2, 16, 9, 9}, {2, 24, 9, 9}};
    pair_run(&sp, 2, dims, 4, 12, "squeeze-excite");
    static const char *blocked[] = {"c1", "m", "c2", "r", "q", "m2", "m3"};
    for (int i = 0; i < N_OF(blocked); i++)
        expect_layout(sp.fast, blocked[i], true, "squeeze-excite");
    static const char *plain[] = {"s", "d", "z", "e"};
    for (int i = 0; i < N_OF(plain); i++)
        expect_layout(sp.fast, plain[i], false, "squeeze-excite");
    pair_free(&sp);
}
END_TEST

/* A BatchNormalization over uniform parameters, var in [0.5, 1.5]. */
static ortc_node *gb_bn(graph_builder *b, const char *name, const char *in, const char *out,
                        int64_t ch)
{
    static const char *param[4] = {"scale", "bias", "mean", "var"};
    char ins[256], pn[64];
    snprintf(ins, sizeof ins, "%s", in);
    for (int i = 0; i < 4; i++) {
        snprintf(pn, sizeof pn, "%s.%s", name, param[i]);
        gb_const(b, pn, 1, &ch, 0.5f);
        if (i == 3) {
            float *v = ortc_graph_get_value(b->g, pn)->constant->t.data;
            for (int64_t k = 0; k < ch; k++)
                v[k] += 1.0f;
        }
        snprintf(ins + strlen(ins), sizeof ins - strlen(ins), ",%s", pn);
    }
    return gb_node(b, "BatchNormalization", name, ins, out);
}

/* A DenseNet block: c1 = conv(x); cat1 = Concat(x, c1) mixes the plain
 * graph input and a blocked value; n1 = BatchNormalization(cat1) with a
 * fused ReLU; c2 = conv(n1); cat2 = Concat(x, c1, c2); y = BatchNormalization(cat2), a graph output
 * (plain from blocked); z = Concat(c1, c2) as a graph output (plain from
 * blocked inputs only). Channel counts 8 + 16 + 16 put the blocked
 * inputs at offsets no multiple of 16. */
static ortc_model *dense_model(void)
{
    graph_builder b = gb_new(505);
    int64_t xd[4] = {1, 8, 9, 9};
    gb_input(&b, "x", 4, xd, false);
    gb_conv(&b, "conv1", "x", "c1", 8, 16, 3, 1, 1, false, NULL);
    node_attr_int(gb_node(&b, "Concat", "cat1", "x,c1", "cat1"), "axis", 1);
    opc_set_post_ops(gb_bn(&b, "bn1", "cat1", "n1", 24), "relu");
    gb_conv(&b, "conv2", "n1", "c2", 24, 16, 1, 1, 0, false, NULL);
    node_attr_int(gb_node(&b, "Concat", "cat2", "x,c1,c2", "cat2"), "axis", 1);
    gb_bn(&b, "bn2", "cat2", "y", 40);
    node_attr_int(gb_node(&b, "Concat", "cat3", "c1,c2", "z"), "axis", 1);
    return gb_finish(&b, "y,z");
}

START_TEST(layout_dense_block)
{
    session_pair sp = pair_new(dense_model);
    const int64_t dims[1][4] = {{1, 8, 9, 9}};
    pair_run(&sp, 1, dims, 2, 11, "dense block");
    static const char *blocked[] = {"c1", "cat1", "n1", "c2", "cat2"};
    for (int i = 0; i < N_OF(blocked); i++)
        expect_layout(sp.fast, blocked[i], true, "dense block");
    static const char *plain[] = {"y", "z"};
    for (int i = 0; i < N_OF(plain); i++)
        expect_layout(sp.fast, plain[i], false, "dense block");
    pair_free(&sp);
}
END_TEST

/* Two convolutions in one layout joined by a Concat whose output must be
 * plain (a graph output, z) and by one whose output stays blocked (cat,
 * read by a Relu): the first is joined blocked in scratch and reordered once
 * (concat_dnnl.c), never by oneDNN's reference concat, which is its only
 * one writing plain from blocked sources. */
static ortc_model *concat_plain_model(void)
{
    graph_builder b = gb_new(606);
    int64_t xd[4] = {2, 16, 9, 9};
    gb_input(&b, "x", 4, xd, false);
    gb_conv(&b, "conva", "x", "a", 16, 32, 3, 1, 1, true, NULL);
    gb_conv(&b, "convb", "x", "c", 16, 48, 3, 1, 1, true, NULL);
    node_attr_int(gb_node(&b, "Concat", "catz", "a,c", "z"), "axis", 1);
    node_attr_int(gb_node(&b, "Concat", "cat", "c,a", "cat"), "axis", 1);
    gb_node(&b, "Relu", "relu", "cat", "y");
    return gb_finish(&b, "z,y");
}

START_TEST(layout_concat_plain_from_blocked)
{
    session_pair sp = pair_new(concat_plain_model);
    const int64_t dims[1][4] = {{2, 16, 9, 9}};
    pair_run(&sp, 1, dims, 2, 13, "concat to plain");
    expect_layout(sp.fast, "a", true, "concat to plain");
    expect_layout(sp.fast, "c", true, "concat to plain");
    expect_layout(sp.fast, "z", false, "concat to plain");
    const ortc_plan *p = sp.fast->last;
    int found = 0;
    for (int i = 0; i < p->n_steps; i++) {
        const ortc_step *st = &p->steps[i];
        if (strcmp(st->node->op_type, "Concat"))
            continue;
        found++;
        const char *impl = st->ctx.impl ? st->ctx.impl : "ortc:c";
        ck_assert_msg(strncmp(impl, "ref", 3) && strcmp(impl, "ortc:c"),
                      "Concat '%s' ran '%s', not a oneDNN JIT/simple concat", st->node->name, impl);
    }
    ck_assert_int_eq(found, 2);
    pair_free(&sp);
}
END_TEST

/* A DenseNet chain in channel multiples of 16 (conv.c, conv_blocked_mds):
 * c0 = conv0(x), c1 = conv1(c0), cat1 = Concat(c0, c1), n1 =
 * BatchNormalization(cat1) + ReLU, c2 = conv2(n1), cat2 = Concat(cat1, c2);
 * dd = a dilated conv of cat2 and cat3 = Concat(cat2, dd); y =
 * BatchNormalization(cat3), a graph output. Convolutions feeding a Concat
 * write channel-blocked, so at batch 1 both Concats are views of cat2's
 * buffer: c0, c1 and c2 sit one after the other in it. */
static ortc_model *dense16_model(int64_t batch)
{
    graph_builder b = gb_new(707);
    int64_t xd[4] = {batch, 16, 9, 9};
    gb_input(&b, "x", 4, xd, false);
    gb_conv(&b, "conv0", "x", "c0", 16, 32, 3, 1, 1, true, NULL);
    gb_conv(&b, "conv1", "c0", "c1", 32, 16, 1, 1, 0, false, NULL);
    node_attr_int(gb_node(&b, "Concat", "cat1", "c0,c1", "cat1"), "axis", 1);
    opc_set_post_ops(gb_bn(&b, "bn1", "cat1", "n1", 48), "relu");
    gb_conv(&b, "conv2", "n1", "c2", 48, 16, 3, 1, 1, false, NULL);
    node_attr_int(gb_node(&b, "Concat", "cat2", "cat1,c2", "cat2"), "axis", -3);
    int64_t dil[2] = {2, 2};
    node_attr_ints(gb_conv(&b, "convd", "cat2", "dd", 64, 16, 3, 1, 2, true, NULL), "dilations",
                   dil, 2);
    node_attr_int(gb_node(&b, "Concat", "cat3", "cat2,dd", "cat3"), "axis", 1);
    gb_bn(&b, "bn3", "cat3", "y", 80);
    return gb_finish(&b, "y");
}

static ortc_model *dense16_model_b1(void)
{
    return dense16_model(1);
}

static ortc_model *dense16_model_b2(void)
{
    return dense16_model(2);
}

/* Arena offset of value name in s's plan. */
static size_t arena_offset(ortc_session *s, const char *name)
{
    const ortc_plan *p = s->last;
    const ortc_value *v = ortc_graph_find_local(s->model->graph, name);
    ck_assert_msg(v != NULL, "no value '%s'", name);
    const ortc_binding *bd = &p->bind[ortc_plan_slot(p, v)];
    ck_assert_msg(bd->kind == ORTC_BIND_ARENA, "value '%s' is not in the arena", name);
    return bd->offset;
}

START_TEST(layout_concat_chain_joins_blocked)
{
    for (int batch = 1; batch <= 2; batch++) {
        session_pair sp = pair_new(batch == 1 ? dense16_model_b1 : dense16_model_b2);
        const int64_t dims[1][4] = {{batch, 16, 9, 9}};
        pair_run(&sp, 1, dims, 1, 17, "dense chain");
        static const char *blocked[] = {"c0", "c1", "cat1", "n1", "c2", "cat2"};
        for (int i = 0; i < N_OF(blocked); i++) {
            expect_layout(sp.fast, blocked[i], true, "dense chain");
            ck_assert_msg(!layout_channels_last(layout_of(sp.fast, blocked[i])),
                          "dense chain: '%s' is channels-last, not channel-blocked", blocked[i]);
        }
        const ortc_plan *p = sp.fast->last;
        for (int i = 0; i < p->n_steps; i++) {
            const ortc_step *st = &p->steps[i];
            const char *impl = st->ctx.impl ? st->ctx.impl : "ortc:c";
            if (!strcmp(st->node->op_type, "Conv"))
                ck_assert_msg(strncmp(impl, "ref", 3) && !strstr(impl, "gemm"),
                              "Conv '%s' ran '%s'", st->node->name, impl);
        }
        ortc_plan_stats ps;
        ck_assert_int_eq(ortc_session_plan_stats(sp.fast, &ps), ORTC_STATUS_OK);
        if (batch == 2) {
            /* a channel slice of a batch of two is not one run of bytes */
            ck_assert_uint_eq(ps.n_joined_steps, 0);
        } else {
            ck_assert_uint_ge(ps.n_joined_steps, 2);
            size_t y = arena_offset(sp.fast, "cat2"), plane = 9 * 9 * sizeof(float);
            ck_assert_uint_eq(arena_offset(sp.fast, "cat1"), y);
            ck_assert_uint_eq(arena_offset(sp.fast, "c0"), y);
            ck_assert_uint_eq(arena_offset(sp.fast, "c1"), y + 32 * plane);
            ck_assert_uint_eq(arena_offset(sp.fast, "c2"), y + 48 * plane);
        }
        pair_free(&sp);
    }
}
END_TEST

/* The fused sum: c1 = relu(conv(r0)) + r0 reads its summand through input
 * 0 too (no in-place); c2 = relu(conv(c1) + b1) over b1, a blocked value
 * that dies there (in place); c3 = conv(c2) + s with s a plain graph input
 * while c3 is blocked (reorder into the output). */
static ortc_model *sum_model(void)
{
    graph_builder b = gb_new(404);
    int64_t xd[4] = {1, 8, 7, 7};
    gb_input(&b, "x", 4, xd, false);
    gb_input(&b, "s", 4, xd, false);
    gb_conv(&b, "conv0", "x", "c0", 8, 8, 1, 1, 0, true, NULL);
    gb_node(&b, "Relu", "relu0", "c0", "r0");
    gb_conv(&b, "conv1b", "r0", "b1", 8, 8, 1, 1, 0, true, NULL);
    /* r0 dies here, read as x and as the summand */
    opc_set_post_ops(gb_conv(&b, "conv1", "r0", "c1", 8, 8, 3, 1, 1, false, "r0"), "relu,sum");
    opc_set_post_ops(gb_conv(&b, "conv2", "c1", "c2", 8, 8, 3, 1, 1, true, "b1"), "sum,relu");
    opc_set_post_ops(gb_conv(&b, "conv3", "c2", "c3", 8, 8, 3, 1, 1, false, "s"), "sum");
    gb_node(&b, "Relu", "relu3", "c3", "y");
    return gb_finish(&b, "y");
}

START_TEST(layout_fused_sum)
{
    session_pair sp = pair_new(sum_model);
    const int64_t dims[2][4] = {{1, 8, 7, 7}, {1, 8, 7, 7}};
    pair_run(&sp, 2, dims, 1, 10, "fused sum");
    static const char *blocked[] = {"r0", "c1", "b1", "c2", "c3"};
    for (int i = 0; i < N_OF(blocked); i++)
        expect_layout(sp.fast, blocked[i], true, "fused sum");
    /* the planner put c2 over its summand b1 */
    ortc_plan *p = sp.fast->last;
    const ortc_graph *g = sp.fast->model->graph;
    const ortc_binding *bc2 = &p->bind[ortc_plan_slot(p, ortc_graph_find_local(g, "c2"))];
    const ortc_binding *bb1 = &p->bind[ortc_plan_slot(p, ortc_graph_find_local(g, "b1"))];
    ck_assert_int_eq(bc2->kind, ORTC_BIND_ARENA);
    ck_assert_msg(bb1->kind == ORTC_BIND_ARENA && bb1->offset == bc2->offset,
                  "c2 (offset %zu) is not in place over its summand b1 (offset %zu)", bc2->offset,
                  bb1->offset);
    /* c1 reads r0 as x and as summand: never in place */
    const ortc_binding *bc1 = &p->bind[ortc_plan_slot(p, ortc_graph_find_local(g, "c1"))];
    const ortc_binding *br0 = &p->bind[ortc_plan_slot(p, ortc_graph_find_local(g, "r0"))];
    ck_assert_msg(bc1->offset != br0->offset, "c1 was put in place over r0, which it reads");
    pair_free(&sp);
}
END_TEST

/* Conv+relu -> MaxPool -> Flatten -> Gemm+relu -> Gemm(beta 0.5, C (1, N))
 * + sum(s) + tanh: MaxPool must give Flatten plain data; the Gemms are
 * fully connected layers on the plain-C gemv (batch 1) or oneDNN matmul
 * (batch 2, 5) path. */
static ortc_model *conv_pool_fc_model(void)
{
    graph_builder b = gb_new(505);
    int64_t xd[4] = {1, 4, 6, 6}, sd[2] = {1, 10};
    gb_input(&b, "x", 4, xd, true);
    gb_input(&b, "s", 2, sd, true);
    opc_set_post_ops(gb_conv(&b, "conv", "x", "c", 4, 8, 3, 1, 1, true, NULL), "relu");
    gb_pool(&b, "MaxPool", "pool", "c", "p", 2, 2, 0);
    node_attr_int(gb_node(&b, "Flatten", "flat", "p", "f"), "axis", 1);
    int64_t w1[2] = {32, 72}, b1[1] = {32}, w2[2] = {10, 32}, b2[2] = {1, 10};
    gb_const(&b, "fc1.w", 2, w1, 1.0f / sqrtf(72.0f));
    gb_const(&b, "fc1.b", 1, b1, 0.5f);
    gb_const(&b, "fc2.w", 2, w2, 1.0f / sqrtf(32.0f));
    gb_const(&b, "fc2.b", 2, b2, 0.5f);
    ortc_node *g1 = gb_node(&b, "Gemm", "fc1", "f,fc1.w,fc1.b", "g1");
    node_attr_int(g1, "transB", 1);
    opc_set_post_ops(g1, "relu");
    ortc_node *g2 = gb_node(&b, "Gemm", "fc2", "g1,fc2.w,fc2.b,s", "y");
    node_attr_int(g2, "transB", 1);
    ortc_node_add_attr(g2, "beta", ORTC_ATTR_FLOAT)->f = 0.5f;
    opc_set_post_ops(g2, "sum,tanh");
    return gb_finish(&b, "y");
}

START_TEST(layout_fc_chain)
{
    session_pair sp = pair_new(conv_pool_fc_model);
    static const int64_t batches[] = {1, 2, 5};
    for (int i = 0; i < N_OF(batches); i++) {
        int64_t n = batches[i];
        const int64_t dims[2][4] = {{n, 4, 6, 6}, {n, 10, 0, 0}};
        char what[64];
        snprintf(what, sizeof what, "fc chain batch %lld", (long long)n);
        pair_run(&sp, 2, dims, 1, 11 + (uint64_t)n, what);
        expect_layout(sp.fast, "c", true, what);
        expect_layout(sp.fast, "p", false, what);
    }
    pair_free(&sp);
}
END_TEST

/* 3x3 convolutions with 64 channels take the Winograd path (oneDNN's
 * F(2x2,3x3) or F(4x4,3x3), chosen by batch); its output layout is
 * oneDNN's 16-channel blocking, which is what the test checks for. A
 * stride-2 3x3 convolution stays direct (its kernel's name). 24x24: on
 * 12x12 at batch 1 (36 2x2 tiles) the F(2x2,3x3) kernel is slow with 64
 * channels and conv.c takes the direct one (layout_winograd_small). */
#define WINO_HW 24
static ortc_model *winograd_model_hw(int64_t hw)
{
    graph_builder b = gb_new(606);
    int64_t xd[4] = {1, 64, hw, hw};
    gb_input(&b, "x", 4, xd, true);
    opc_set_post_ops(gb_conv(&b, "wino1", "x", "c1", 64, 64, 3, 1, 1, true, NULL), "relu");
    gb_conv(&b, "wino2", "c1", "c2", 64, 80, 3, 1, 1, true, NULL);
    gb_conv(&b, "direct", "c2", "c3", 80, 64, 3, 2, 1, true, NULL);
    gb_node(&b, "Relu", "relu", "c3", "y");
    return gb_finish(&b, "y");
}

static ortc_model *winograd_model(void)
{
    return winograd_model_hw(WINO_HW);
}

static ortc_model *winograd_small_model(void)
{
    return winograd_model_hw(12);
}

static bool is_16c(const ortc_layout *l)
{
    const dnnl_memory_desc_t *md = l->desc;
    return !l->plain && md->format_kind == dnnl_blocked &&
           md->format_desc.blocking.inner_nblks == 1 &&
           md->format_desc.blocking.inner_blks[0] == 16 &&
           md->format_desc.blocking.inner_idxs[0] == 1;
}

START_TEST(layout_winograd)
{
    session_pair sp = pair_new(winograd_model);
    static const int64_t batches[] = {1, 16};
    for (int i = 0; i < N_OF(batches); i++) {
        int64_t n = batches[i];
        const int64_t dims[1][4] = {{n, 64, WINO_HW, WINO_HW}};
        char what[64];
        snprintf(what, sizeof what, "winograd batch %lld", (long long)n);
        pair_run(&sp, 1, dims, 1, 12 + (uint64_t)n, what);
        ck_assert_msg(is_16c(layout_of(sp.fast, "c1")) && is_16c(layout_of(sp.fast, "c2")),
                      "%s: the 3x3/64-channel convolutions did not take oneDNN's Winograd "
                      "layout",
                      what);
        expect_layout(sp.fast, "c3", true, what);
        /* (it reads c2 in the 16-channel blocking c2 arrives in, conv.c
         * conv_blocked_mds, so its output layout tells nothing) */
        const ortc_plan *p = sp.fast->last;
        for (int k = 0; k < p->n_steps; k++) {
            const ortc_step *st = &p->steps[k];
            if (!strcmp(st->node->name, "direct"))
                ck_assert_msg(st->ctx.impl && !strstr(st->ctx.impl, "wino"),
                              "%s: the stride-2 convolution ran '%s'", what,
                              st->ctx.impl ? st->ctx.impl : "(none)");
        }
    }
    pair_free(&sp);
}
END_TEST

/* The same model on 12x12 images: at batch 1 its 64-channel convolutions
 * never run oneDNN's F(2x2,3x3) kernel (conv.c, conv_wino2x3_slow), at
 * batch 16 (576 tiles) they may; the results match the reference either
 * way. */
START_TEST(layout_winograd_small)
{
    session_pair sp = pair_new(winograd_small_model);
    static const int64_t batches[] = {1, 16};
    for (int i = 0; i < N_OF(batches); i++) {
        const int64_t dims[1][4] = {{batches[i], 64, 12, 12}};
        char what[64];
        snprintf(what, sizeof what, "12x12 batch %lld", (long long)batches[i]);
        pair_run(&sp, 1, dims, 1, 40 + (uint64_t)batches[i], what);
        const ortc_plan *p = sp.fast->last;
        for (int k = 0; i == 0 && k < p->n_steps; k++) {
            const ortc_step *st = &p->steps[k];
            ck_assert_msg(!st->ctx.impl || !strstr(st->ctx.impl, "wino_2x3"), "%s: '%s' ran '%s'",
                          what, st->node->name, st->ctx.impl);
        }
    }
    pair_free(&sp);
}
END_TEST

/* 5x5 stride-1 convolutions take this project's Winograd kernel
 * (conv_wino5.c) on AVX-512 CPUs: fed plain input (reordered to nhwc), fed
 * a oneDNN convolution's blocked output, followed by MaxPool (16-channel
 * blocked output) and as the graph's output (plain, via scratch), with
 * asymmetric pads; a 5x5 with too few channels and a grouped one stay on
 * oneDNN. Every output against a reference-mode session. */
static ortc_model *wino5_model(void)
{
    graph_builder b = gb_new(707);
    int64_t xd[4] = {1, 40, 15, 14};
    gb_input(&b, "x", 4, xd, true);
    opc_set_post_ops(gb_conv(&b, "w5a", "x", "c1", 40, 64, 5, 1, 2, true, NULL), "relu");
    gb_pool(&b, "MaxPool", "pool", "c1", "p1", 3, 2, 1);
    gb_conv(&b, "d3", "p1", "c2", 64, 48, 3, 1, 1, true, NULL);
    ortc_node *n = gb_conv(&b, "w5b", "c2", "c3", 48, 80, 5, 1, 0, false, NULL);
    static const int64_t pads[4] = {1, 2, 3, 0}; /* top, left, bottom, right */
    ortc_attr *pa = (ortc_attr *)ortc_node_attr(n, "pads");
    ck_assert(pa && pa->n == 4);
    memcpy(pa->ints, pads, sizeof pads);
    opc_set_post_ops(n, "leaky_relu:0.2");
    gb_conv(&b, "few", "c3", "c4", 80, 16, 5, 1, 2, true, NULL);
    return gb_finish(&b, "c3,c4");
}

static bool step_uses_wino5(ortc_session *s, const char *node)
{
    ck_assert_ptr_nonnull(s->last);
    for (int i = 0; i < s->last->n_steps; i++)
        if (!strcmp(s->last->steps[i].node->name, node))
            return ortc_conv_uses_wino5(s->last->steps[i].ctx.state);
    ck_abort_msg("no step for node '%s'", node);
    return false;
}

START_TEST(layout_wino5)
{
    if (!ortc_wino5_available()) /* no AVX-512: every Conv stays on oneDNN */
        return;
    session_pair sp = pair_new(wino5_model);
    static const int64_t batches[] = {1, 3};
    for (int i = 0; i < N_OF(batches); i++) {
        int64_t n = batches[i];
        const int64_t dims[1][4] = {{n, 40, 15, 14}};
        char what[64];
        snprintf(what, sizeof what, "wino5 batch %lld", (long long)n);
        pair_run(&sp, 1, dims, 2, 31 + (uint64_t)n, what);
        ck_assert_msg(step_uses_wino5(sp.fast, "w5a") && step_uses_wino5(sp.fast, "w5b"),
                      "%s: a 5x5 convolution did not take the Winograd kernel", what);
        ck_assert_msg(!step_uses_wino5(sp.fast, "few") && !step_uses_wino5(sp.fast, "d3"),
                      "%s: the 16-channel 5x5 or the 3x3 took the 5x5 Winograd kernel", what);
        ck_assert_msg(is_16c(layout_of(sp.fast, "c1")), "%s: w5a's output is not nChw16c", what);
        expect_layout(sp.fast, "c3", false, what);
    }
    pair_free(&sp);
}
END_TEST

void ortc_cases_ops_perf(Suite *s)
{
    TCase *tc = tcase_create("ops_perf");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, post_ops_conv_hand);
    tcase_add_test(tc, post_ops_gemm_matmul_hand);
    tcase_add_test(tc, post_ops_conv_random);
    tcase_add_test(tc, conv_pointwise_gemv);
    tcase_add_test(tc, conv_own_swish);
    tcase_add_test(tc, gemm_fc_paths);
    tcase_add_test(tc, gemm_fc_axpy_zeros);
    tcase_add_test(tc, gemm_general_post_ops);
    tcase_add_test(tc, matmul_post_ops);
    tcase_add_test(tc, matmul_gemm_gelu);
    tcase_add_test(tc, matmul_weights_packed_or_in_place);
    tcase_add_test(tc, post_ops_errors);
    tcase_add_test(tc, layout_chain);
    tcase_add_test(tc, layout_fallbacks);
    tcase_add_test(tc, layout_mixed_consumers);
    tcase_add_test(tc, layout_squeeze_excite);
    tcase_add_test(tc, layout_dense_block);
    tcase_add_test(tc, layout_concat_plain_from_blocked);
    tcase_add_test(tc, layout_concat_chain_joins_blocked);
    tcase_add_test(tc, layout_fused_sum);
    tcase_add_test(tc, layout_fc_chain);
    tcase_add_test(tc, layout_winograd);
    tcase_add_test(tc, layout_winograd_small);
    tcase_add_test(tc, layout_wino5);
    suite_add_tcase(s, tc);
}
