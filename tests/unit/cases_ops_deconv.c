/* cases_ops_deconv.c — ConvTranspose, Resize and Upsample (deconv.c,
 * resize.c): the plain-C kernels against hand-derived values (or values
 * computed with PyTorch when the test was written, as noted), the oneDNN
 * paths against the plain-C reference on random inputs (checking which path
 * ran), dtype coverage and infer's errors.
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

/* ==== ConvTranspose: hand-derived values ======================================= */

/* A 1-D ConvTranspose of x (1,1,nx) with w (1,1,nw). */
static op_case *deconv_1d(int opset, const float *x, int64_t nx, const float *w, int64_t nw,
                          const float *bias)
{
    op_case *c = opc_new("ConvTranspose", opset, bias ? 3 : 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, nx}, x, false);
    opc_input(c, 1, F32, 3, (int64_t[]){1, 1, nw}, w, true);
    if (bias)
        opc_input(c, 2, F32, 1, (int64_t[]){1}, bias, true);
    return c;
}

START_TEST(deconv_hand)
{
    /* x = [1,2,3], w = [1,10], stride 2, bias 0.5: input i lands at 2i + k,
     * so y = [1, 10, 2, 20, 3, 30] + 0.5 (torch: F.conv_transpose1d) */
    const float x3[3] = {1, 2, 3}, w2[2] = {1, 10}, b[1] = {0.5f};
    op_case *c = deconv_1d(11, x3, 3, w2, 2, b);
    opc_attr_ints(c, "strides", (int64_t[]){2}, 1);
    expect_both(c, (const float[]){1.5f, 10.5f, 2.5f, 20.5f, 3.5f, 30.5f}, 3, (int64_t[]){1, 1, 6},
                0, 1, "stride 2 with bias");
    opc_free(c);

    /* x = [1,2], w = [1,10], dilation 2: taps at i and i + 2:
     * [1, 0, 10, 0] + [0, 2, 0, 20] = [1, 2, 10, 20] (torch) */
    const float x2[2] = {1, 2}, ones[3] = {1, 1, 1};
    c = deconv_1d(11, x2, 2, w2, 2, NULL);
    opc_attr_ints(c, "dilations", (int64_t[]){2}, 1);
    expect_both(c, (const float[]){1, 2, 10, 20}, 3, (int64_t[]){1, 1, 4}, 0, 1, "dilation 2");
    opc_free(c);

    /* x = [1,2], w = [1,1,1], stride 2: full result [1,1,3,2,2] (i = 0 at
     * 0..2, i = 1 at 2..4). Each case below selects from it or extends it
     * with zeros; sizes and pads per ONNX's formulas. */
    static const struct {
        const char *name;
        int opset;
        int64_t pads[2], out_pad, out_shape;
        const char *auto_pad;
        int64_t n;
        float y[7];
    } cases[] = {
        /* pads 1+1: [1,3,2] (torch padding=1) */
        {"pads 1+1", 11, {1, 1}, 0, 0, NULL, 3, {1, 3, 2}},
        /* output_padding 1 adds a position no input reaches (torch) */
        {"output_padding 1", 11, {0, 0}, 1, 0, NULL, 6, {1, 1, 3, 2, 2, 0}},
        /* output_shape 6: total padding 5 - 6 = -1; opset 11 puts
         * floor(-1/2) = -1 at the end: [1,1,3,2,2,0] (as ONNX's
         * test_convtranspose_output_shape) */
        {"output_shape 6", 11, {0, 0}, 0, 6, NULL, 6, {1, 1, 3, 2, 2, 0}},
        /* output_shape 7: total -2, pads -1 and -1: one zero each side */
        {"output_shape 7", 11, {0, 0}, 0, 7, NULL, 7, {0, 1, 1, 3, 2, 2, 0}},
        /* output_shape 4: total 1; opset 11 without SAME_UPPER puts the odd
         * pad at the beginning: [1,3,2,2] */
        {"output_shape 4 (opset 11)", 11, {0, 0}, 0, 4, NULL, 4, {1, 3, 2, 2}},
        /* opset 1 states the opposite split: pad at the end: [1,1,3,2] */
        {"output_shape 4 (opset 1)", 1, {0, 0}, 0, 4, NULL, 4, {1, 1, 3, 2}},
        /* SAME_UPPER: output 2 * 2 = 4, total 1 at the end: [1,1,3,2] */
        {"SAME_UPPER", 11, {0, 0}, 0, 0, "SAME_UPPER", 4, {1, 1, 3, 2}},
        /* SAME_LOWER: the odd pad at the beginning: [1,3,2,2] */
        {"SAME_LOWER", 11, {0, 0}, 0, 0, "SAME_LOWER", 4, {1, 3, 2, 2}},
        /* VALID ignores pads: the full result */
        {"VALID", 11, {0, 0}, 0, 0, "VALID", 5, {1, 1, 3, 2, 2}},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        c = deconv_1d(cases[i].opset, x2, 2, ones, 3, NULL);
        opc_attr_ints(c, "strides", (int64_t[]){2}, 1);
        if (cases[i].pads[0] || cases[i].pads[1])
            opc_attr_ints(c, "pads", cases[i].pads, 2);
        if (cases[i].out_pad)
            opc_attr_ints(c, "output_padding", &cases[i].out_pad, 1);
        if (cases[i].out_shape)
            opc_attr_ints(c, "output_shape", &cases[i].out_shape, 1);
        if (cases[i].auto_pad)
            opc_attr_string(c, "auto_pad", cases[i].auto_pad);
        expect_both(c, cases[i].y, 3, (int64_t[]){1, 1, cases[i].n}, 0, -1, cases[i].name);
        opc_free(c);
    }

    /* groups: x = [1,2,3,4] as (1,4,1,1), group 2, W (4, 2, 1, 1) rows
     * [1,2] [3,4] [5,6] [7,8]. Group 0 (channels 0,1) makes outputs 0,1:
     * 1*1 + 2*3 = 7, 1*2 + 2*4 = 10; group 1: 3*5 + 4*7 = 43, 3*6 + 4*8 = 50
     * (torch: F.conv_transpose2d(groups=2)). Constant and fed weights. */
    const float xg[4] = {1, 2, 3, 4}, wg[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int wconst = 0; wconst <= 1; wconst++) {
        c = opc_new("ConvTranspose", 11, 2, 1);
        opc_input(c, 0, F32, 4, (int64_t[]){1, 4, 1, 1}, xg, false);
        opc_input(c, 1, F32, 4, (int64_t[]){4, 2, 1, 1}, wg, wconst);
        opc_attr_int(c, "group", 2);
        expect_both(c, (const float[]){7, 10, 43, 50}, 4, (int64_t[]){1, 4, 1, 1}, 0, 1,
                    wconst ? "group 2, constant weights" : "group 2, weights fed at run");
        opc_free(c);
    }
}
END_TEST

/* ==== ConvTranspose: oneDNN against the reference ============================== */

typedef struct deconv_cfg {
    const char *name;
    int opset, nsp;
    int64_t n, c, m, group; /* m: output channels */
    int64_t in[3], k[3];
    int64_t stride[3], dil[3], out_pad[3], out_shape[3]; /* 0: omitted */
    int64_t pads[6];                                     /* all 0: omitted */
    const char *auto_pad;
    bool bias, w_const;
    bool expect_dnnl; /* false: the node must take the plain-C kernel */
} deconv_cfg;

static const deconv_cfg deconv_cfgs[] = {
    {"2-D basic",
     11,
     2,
     2,
     3,
     4,
     1,
     {5, 6},
     {3, 3},
     {0},
     {0},
     {0},
     {0},
     {0},
     NULL,
     false,
     true,
     true},
    {"2-D stride 2 pads 1, output_padding 1 (PyTorch upsampler)",
     11,
     2,
     1,
     4,
     3,
     1,
     {6, 7},
     {4, 4},
     {2, 2},
     {0},
     {1, 1},
     {0},
     {1, 1, 1, 1},
     NULL,
     true,
     true,
     true},
    {"2-D stride (3,2), output_padding beyond pads",
     11,
     2,
     1,
     3,
     2,
     1,
     {4, 5},
     {3, 3},
     {3, 2},
     {0},
     {1, 1},
     {0},
     {0},
     NULL,
     true,
     true,
     true},
    {"2-D dilation 2, asymmetric pads",
     11,
     2,
     1,
     3,
     5,
     1,
     {6, 5},
     {3, 2},
     {0},
     {2, 2},
     {0},
     {0},
     {1, 0, 2, 1},
     NULL,
     true,
     true,
     true},
    {"2-D group 2",
     11,
     2,
     2,
     4,
     6,
     2,
     {5, 5},
     {3, 3},
     {2, 2},
     {0},
     {0},
     {0},
     {1, 1, 1, 1},
     NULL,
     true,
     true,
     true},
    {"2-D depthwise x2 (group = C)",
     11,
     2,
     1,
     4,
     8,
     4,
     {6, 6},
     {3, 3},
     {2, 2},
     {0},
     {0},
     {0},
     {0},
     NULL,
     true,
     true,
     true},
    {"2-D group 2, weights fed at run",
     11,
     2,
     1,
     4,
     6,
     2,
     {5, 6},
     {3, 3},
     {2, 1},
     {0},
     {0},
     {0},
     {0},
     NULL,
     true,
     false,
     true},
    {"2-D 32 -> 16 channels stride 2 (vectorised kernels)",
     11,
     2,
     1,
     32,
     16,
     1,
     {8, 8},
     {4, 4},
     {2, 2},
     {0},
     {0},
     {0},
     {1, 1, 1, 1},
     NULL,
     true,
     true,
     true},
    {"2-D 16 -> 16 channels, output_padding without pads",
     11,
     2,
     2,
     16,
     16,
     1,
     {7, 6},
     {3, 3},
     {2, 2},
     {0},
     {1, 1},
     {0},
     {0},
     NULL,
     true,
     true,
     true},
    {"2-D 16 -> 32 channels group 2, weights fed at run",
     11,
     2,
     1,
     16,
     32,
     2,
     {6, 6},
     {3, 3},
     {2, 2},
     {0},
     {1, 1},
     {0},
     {1, 1, 1, 1},
     NULL,
     true,
     false,
     true},
    {"2-D SAME_UPPER stride 2",
     11,
     2,
     1,
     3,
     4,
     1,
     {5, 6},
     {3, 4},
     {2, 2},
     {0},
     {0},
     {0},
     {0},
     "SAME_UPPER",
     true,
     true,
     true},
    {"2-D SAME_LOWER stride 3",
     11,
     2,
     1,
     3,
     4,
     1,
     {5, 6},
     {4, 4},
     {3, 3},
     {0},
     {0},
     {0},
     {0},
     "SAME_LOWER",
     true,
     true,
     true},
    /* output_shape one larger than the result: pad_end -1, fine for oneDNN */
    {"2-D output_shape larger by 1 (pad_end -1)",
     11,
     2,
     1,
     3,
     4,
     1,
     {4, 4},
     {3, 3},
     {2, 2},
     {0},
     {0},
     {10, 10},
     {0},
     NULL,
     true,
     true,
     true},
    /* larger by 3 and 2: pad_begin -1, which oneDNN rejects: plain C */
    {"2-D output_shape larger by 3 (pad_begin -1)",
     11,
     2,
     1,
     3,
     4,
     1,
     {4, 4},
     {3, 3},
     {2, 2},
     {0},
     {0},
     {12, 11},
     {0},
     NULL,
     true,
     true,
     false},
    {"2-D output_shape smaller (pads from total)",
     1,
     2,
     1,
     3,
     4,
     1,
     {5, 5},
     {3, 3},
     {2, 2},
     {0},
     {0},
     {8, 9},
     {0},
     NULL,
     true,
     true,
     true},
    {"1-D stride 3 pads 2+1",
     11,
     1,
     2,
     4,
     3,
     1,
     {9},
     {5},
     {3},
     {0},
     {0},
     {0},
     {2, 1},
     NULL,
     true,
     true,
     true},
    {"3-D stride 2 output_padding",
     11,
     3,
     1,
     3,
     2,
     1,
     {3, 4, 3},
     {3, 3, 2},
     {2, 2, 2},
     {0},
     {1, 0, 1},
     {0},
     {1, 1, 0, 1, 0, 0},
     NULL,
     true,
     true,
     true},
    {"3-D group 3, weights fed at run",
     11,
     3,
     1,
     6,
     3,
     3,
     {3, 3, 4},
     {2, 2, 2},
     {1, 2, 1},
     {0},
     {0},
     {0},
     {0},
     NULL,
     false,
     false,
     true},
};

START_TEST(deconv_random)
{
    const deconv_cfg *k = &deconv_cfgs[_i];
    for (int s = 0; s < 2; s++) {
        uint64_t seed = 3000 + (uint64_t)(17 * _i + s);
        int rank = k->nsp + 2;
        int64_t xd[5] = {k->n, k->c}, wd[5] = {k->c, k->m / k->group};
        for (int i = 0; i < k->nsp; i++) {
            xd[2 + i] = k->in[i];
            wd[2 + i] = k->k[i];
        }
        float *x = rand_f32(numel_of(rank, xd), -1, 1, &seed);
        float *w = rand_f32(numel_of(rank, wd), -1, 1, &seed);
        float *b = rand_f32(k->m, -1, 1, &seed);
        op_case *c = opc_new("ConvTranspose", k->opset, k->bias ? 3 : 2, 1);
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
        if (any_nonzero(k->out_pad, k->nsp))
            opc_attr_ints(c, "output_padding", k->out_pad, (size_t)k->nsp);
        if (any_nonzero(k->out_shape, k->nsp))
            opc_attr_ints(c, "output_shape", k->out_shape, (size_t)k->nsp);
        if (any_nonzero(k->pads, 2 * k->nsp))
            opc_attr_ints(c, "pads", k->pads, 2 * (size_t)k->nsp);
        if (k->auto_pad)
            opc_attr_string(c, "auto_pad", k->auto_pad);
        char what[200];
        snprintf(what, sizeof what, "ConvTranspose %s (seed %d)", k->name, s);
        /* Inputs in [-1, 1]: each output sums at most C/group x kernel
         * volume products (+ bias); float sums in oneDNN's order stay
         * within that many float epsilons of the double-accumulated
         * reference (see cases_ops_dnnl.c) while a wrong tap costs O(0.1). */
        int64_t red = k->c / k->group * numel_of(k->nsp, k->k) + 1;
        compare_paths(c, 1e-5, 1.19e-7 * (double)red, k->expect_dnnl, what);
        opc_free(c);
        free(x);
        free(w);
        free(b);
    }
}
END_TEST

/* ---- fused post-ops (operator.h's fusion contract) ----------------------------- */

/* ConvTranspose 1x1 with weight 1 and no bias is the identity, so y is
 * the post-op list applied to x; each expected value worked out from
 * ONNX's formulas on these six inputs and summands. */
START_TEST(deconv_post_ops_hand)
{
    static const float x[6] = {-3.0f, -1.0f, -0.25f, 0.0f, 0.5f, 2.0f};
    static const float sum[6] = {-1.0f, 2.0f, 0.0f, -4.0f, 0.25f, -3.0f};
    static const float one = 1.0f;
    static const struct {
        const char *list;
        float y[6];
    } cases[] = {
        {"relu", {0, 0, 0, 0, 0.5f, 2}},
        {"leaky_relu:0.5", {-1.5f, -0.5f, -0.125f, 0, 0.5f, 2}},
        {"clip:-0.5:1", {-0.5f, -0.5f, -0.25f, 0, 0.5f, 1}},
        {"clip:1:-0.5", {-0.5f, -0.5f, -0.5f, -0.5f, -0.5f, -0.5f}}, /* numpy: min > max */
        {"hard_sigmoid:0.2:0.5", {0, 0.3f, 0.45f, 0.5f, 0.6f, 0.9f}},
        {"sum", {-4, 1, -0.25f, -4, 0.75f, -1}},
        {"relu,sum,clip:0:1.5", {0, 1.5f, 0, 0, 0.75f, 0}},
        {"sum,relu", {0, 1, 0, 0, 0.75f, 0}},
    };
    const int64_t xd[4] = {1, 1, 1, 6}, wd[4] = {1, 1, 1, 1};
    for (int t = 0; t < N_OF(cases); t++) {
        bool has_sum = strstr(cases[t].list, "sum") != NULL;
        op_case *c = opc_new("ConvTranspose", 11, has_sum ? 4 : 2, 1);
        opc_input(c, 0, F32, 4, xd, x, false);
        opc_input(c, 1, F32, 4, wd, &one, true);
        if (has_sum) {
            opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
            opc_input(c, 3, F32, 4, xd, sum, false);
        }
        opc_set_post_ops(c->node, cases[t].list);
        char what[96];
        snprintf(what, sizeof what, "ConvTranspose post-ops \"%s\"", cases[t].list);
        expect_both(c, cases[t].y, 4, xd, 1e-6, 1, what);
        opc_free(c);
    }
}
END_TEST

/* Strided, grouped, padded ConvTranspose with post-ops (and a fused sum)
 * on oneDNN against the reference kernel. Tolerance as deconv_random,
 * plus 1e-5 relative for oneDNN's tanh/exp/logistic. */
START_TEST(deconv_post_ops_random)
{
    static const char *lists[] = {"leaky_relu:0.2,sum,tanh", "sum", "elu:1.5,hard_sigmoid:0.3:0.4",
                                  "sigmoid,sum,clip:-0.2:0.7", "relu"};
    uint64_t seed = 4000;
    const int64_t xd[4] = {2, 4, 5, 6}, wd[4] = {4, 3, 3, 3}, bd[1] = {6};
    const int64_t yd[4] = {2, 6, 9, 13}; /* (in - 1) * 2 + 3 - pads (H: 1 + 1, W: none) */
    for (int t = 0; t < N_OF(lists); t++) {
        bool has_sum = strstr(lists[t], "sum") != NULL;
        float *x = rand_f32(numel_of(4, xd), -1, 1, &seed);
        float *w = rand_f32(numel_of(4, wd), -1, 1, &seed);
        float *b = rand_f32(6, -1, 1, &seed);
        float *sum = rand_f32(numel_of(4, yd), -1, 1, &seed);
        op_case *c = opc_new("ConvTranspose", 11, has_sum ? 4 : 3, 1);
        opc_input(c, 0, F32, 4, xd, x, false);
        opc_input(c, 1, F32, 4, wd, w, t % 2 == 0);
        opc_input(c, 2, F32, 1, bd, b, true);
        if (has_sum)
            opc_input(c, 3, F32, 4, yd, sum, false);
        opc_attr_int(c, "group", 2);
        opc_attr_ints(c, "strides", (int64_t[]){2, 2}, 2);
        opc_attr_ints(c, "pads", (int64_t[]){1, 0, 1, 0}, 4);
        opc_set_post_ops(c->node, lists[t]);
        char what[96];
        snprintf(what, sizeof what, "ConvTranspose random post-ops \"%s\"", lists[t]);
        int64_t red = 4 / 2 * 9 + 2; /* products per output, bias, summand */
        compare_paths(c, 1e-5, 1.19e-7 * (double)red, true, what);
        opc_free(c);
        free(x);
        free(w);
        free(b);
        free(sum);
    }
}
END_TEST

START_TEST(deconv_errors)
{
    float x[8] = {0}, w[8] = {0};
    /* W's first dim must equal X's channels */
    op_case *c = opc_new("ConvTranspose", 11, 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 2, 4}, x, false);
    opc_input(c, 1, F32, 3, (int64_t[]){1, 2, 2}, w, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "first dim", "W (1,2,2) for 2 channels");
    opc_free(c);

    /* output_padding must be below the stride (or the dilation) */
    c = opc_new("ConvTranspose", 11, 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 4}, x, false);
    opc_input(c, 1, F32, 3, (int64_t[]){1, 1, 2}, w, true);
    opc_attr_ints(c, "strides", (int64_t[]){2}, 1);
    opc_attr_ints(c, "output_padding", (int64_t[]){2}, 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "output_padding", "output_padding 2, stride 2");
    opc_free(c);

    /* pads larger than the result */
    c = opc_new("ConvTranspose", 11, 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 2}, x, false);
    opc_input(c, 1, F32, 3, (int64_t[]){1, 1, 2}, w, true);
    opc_attr_ints(c, "pads", (int64_t[]){2, 2}, 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "pads", "pads 2+2 on a result of 3");
    opc_free(c);

    /* bias of the wrong length: W (1, 2, 2) with group 1 makes 2 outputs */
    c = opc_new("ConvTranspose", 11, 3, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 4}, x, false);
    opc_input(c, 1, F32, 3, (int64_t[]){1, 2, 2}, w, true);
    opc_input(c, 2, F32, 1, (int64_t[]){1}, w, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "bias", "bias [1] for 2 outputs");
    opc_free(c);

    /* rank 2 has no spatial dims; float64 is not implemented */
    c = opc_new("ConvTranspose", 11, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){1, 4}, x, false);
    opc_input(c, 1, F32, 2, (int64_t[]){4, 1}, w, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank 3", "rank-2 input");
    opc_free(c);
    double xd[4] = {0}, wd[2] = {0};
    c = opc_new("ConvTranspose", 11, 2, 1);
    opc_input(c, 0, ORTC_DTYPE_DOUBLE, 3, (int64_t[]){1, 1, 4}, xd, false);
    opc_input(c, 1, ORTC_DTYPE_DOUBLE, 3, (int64_t[]){1, 1, 2}, wd, true);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "float64", "double input");
    opc_free(c);

    /* kernel_shape disagreeing with W */
    c = opc_new("ConvTranspose", 11, 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 4}, x, false);
    opc_input(c, 1, F32, 3, (int64_t[]){1, 1, 2}, w, true);
    opc_attr_ints(c, "kernel_shape", (int64_t[]){3}, 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "kernel_shape", "kernel_shape 3 vs W 2");
    opc_free(c);
}
END_TEST

/* ==== Resize / Upsample: hand-derived values ==================================== */

/* Resize-`opset` of x with scales or sizes (the other NULL) given as
 * constants; roi only when `roi` is not NULL. */
static op_case *resize_case(int opset, ortc_dtype dt, int rank, const int64_t *xdims, const void *x,
                            const float *roi, const float *scales, const int64_t *sizes)
{
    op_case *c = opc_new("Resize", opset, opset >= 11 ? 4 : 2, 1);
    opc_input(c, 0, dt, rank, xdims, x, false);
    int64_t r = rank, r2 = 2 * rank;
    if (opset < 11) {
        opc_input(c, 1, F32, 1, &r, scales, true);
        return c;
    }
    if (roi)
        opc_input(c, 1, F32, 1, &r2, roi, true);
    else if (opset < 13) /* required until opset 13: an empty tensor */
        opc_input(c, 1, F32, 1, (int64_t[]){0}, NULL, true);
    else
        opc_input(c, 1, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    if (scales)
        opc_input(c, 2, F32, 1, &r, scales, true);
    else if (opset < 13)
        opc_input(c, 2, F32, 1, (int64_t[]){0}, NULL, true);
    else
        opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    if (sizes)
        opc_input(c, 3, I64, 1, &r, sizes, true);
    else
        opc_input(c, 3, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    return c;
}

START_TEST(resize_nearest_hand)
{
    const float x4[4] = {1, 2, 3, 4};
    /* PyTorch's nearest upsampling: asymmetric + floor, x2 on [[1,2],[3,4]]:
     * index floor(o / 2) in both spatial axes. Integer factor, same index
     * as oneDNN's floor((o + 0.5) / 2): runs on oneDNN. */
    op_case *c = resize_case(13, F32, 4, (int64_t[]){1, 1, 2, 2}, x4, NULL,
                             (const float[]){1, 1, 2, 2}, NULL);
    opc_attr_string(c, "coordinate_transformation_mode", "asymmetric");
    opc_attr_string(c, "nearest_mode", "floor");
    const float up2[16] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    expect_both(c, up2, 4, (int64_t[]){1, 1, 4, 4}, 0, 1, "nearest x2 asymmetric floor");
    opc_free(c);

    /* Upsample-7 (scales attribute) and -9 (scales input), [1,1,2,3]: rows
     * floor(o / 2), columns floor(o / 3) (ONNX's test_upsample_nearest) */
    const float up23[24] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
    const float sc23[4] = {1, 1, 2, 3};
    c = opc_new("Upsample", 7, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 1, 2, 2}, x4, false);
    opc_attr_floats(c, "scales", sc23, 4);
    expect_both(c, up23, 4, (int64_t[]){1, 1, 4, 6}, 0, 1, "Upsample-7 nearest");
    opc_free(c);
    c = opc_new("Upsample", 9, 2, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 1, 2, 2}, x4, false);
    opc_input(c, 1, F32, 1, (int64_t[]){4}, sc23, true);
    opc_attr_string(c, "mode", "nearest");
    expect_both(c, up23, 4, (int64_t[]){1, 1, 4, 6}, 0, 1, "Upsample-9 nearest");
    opc_free(c);

    /* Downsampling [1..4] by 2 with half_pixel: x = 2o + 0.5, a tie.
     * round_prefer_floor reads 0, 2 -> [1, 3]; round_prefer_ceil reads
     * 1, 3 -> [2, 4]; floor -> [1, 3]; ceil -> [2, 4]. oneDNN rounds ties
     * up and even factors are kept off it: plain C every time. */
    static const struct {
        const char *mode;
        float y[2];
    } ties[] = {{"round_prefer_floor", {1, 3}},
                {"round_prefer_ceil", {2, 4}},
                {"floor", {1, 3}},
                {"ceil", {2, 4}}};
    for (int i = 0; i < N_OF(ties); i++) {
        c = resize_case(13, F32, 3, (int64_t[]){1, 1, 4}, x4, NULL, NULL,
                        (const int64_t[]){1, 1, 2});
        opc_attr_string(c, "nearest_mode", ties[i].mode);
        char what[96];
        snprintf(what, sizeof what, "nearest half_pixel /2, %s", ties[i].mode);
        expect_both(c, ties[i].y, 3, (int64_t[]){1, 1, 2}, 0, 0, what);
        opc_free(c);
    }

    /* Downsampling 6 -> 2 (odd factor 3): x = 3o + 1, exact; [0..5] reads
     * 1, 4. oneDNN's floor((o + 0.5) * 3) agrees: oneDNN runs. */
    const float x6[6] = {0, 1, 2, 3, 4, 5};
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 6}, x6, NULL, NULL, (const int64_t[]){1, 1, 2});
    expect_both(c, (const float[]){1, 4}, 3, (int64_t[]){1, 1, 2}, 0, 1, "nearest /3 half_pixel");
    opc_free(c);

    /* align_corners, 4 -> 3: x = o * 3 / 2 = 0, 1.5, 3; round_prefer_floor
     * picks 0, 1, 3 -> [1, 2, 4]. tf_half_pixel_for_nn, 4 -> 3: x = (o +
     * 0.5) * 4 / 3 = 0.67, 2, 3.33 -> 1, 2, 3 -> [2, 3, 4]. */
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 4}, x4, NULL, NULL, (const int64_t[]){1, 1, 3});
    opc_attr_string(c, "coordinate_transformation_mode", "align_corners");
    expect_both(c, (const float[]){1, 2, 4}, 3, (int64_t[]){1, 1, 3}, 0, 0,
                "nearest align_corners 4->3");
    opc_free(c);
    c = resize_case(11, F32, 3, (int64_t[]){1, 1, 4}, x4, NULL, NULL, (const int64_t[]){1, 1, 3});
    opc_attr_string(c, "coordinate_transformation_mode", "tf_half_pixel_for_nn");
    expect_both(c, (const float[]){2, 3, 4}, 3, (int64_t[]){1, 1, 3}, 0, 0,
                "nearest tf_half_pixel_for_nn 4->3 (opset 11, empty roi and scales)");
    opc_free(c);

    /* Resize-10 (asymmetric) downsampling by 0.6: 4 -> floor(2.4) = 2,
     * x = o / 0.6 = 0, 1.67; opset 10 rounds up when downsampling: 0, 2 ->
     * [1, 3] (the opset-10 ONNX test's values) */
    c = resize_case(10, F32, 2, (int64_t[]){1, 4}, x4, NULL, (const float[]){1, 0.6f}, NULL);
    expect_both(c, (const float[]){1, 3}, 2, (int64_t[]){1, 2}, 0, 0, "Resize-10 nearest x0.6");
    opc_free(c);

    /* Output size floor(in * scale) with a float32 product, as ONNX's
     * shape inference and ONNX Runtime: 10 * 0.7f is exactly 6.99999988
     * but rounds to 7.0f, so 7 outputs (float64 would give 6) */
    float x10[10];
    for (int i = 0; i < 10; i++)
        x10[i] = (float)i;
    c = resize_case(13, F32, 1, (int64_t[]){10}, x10, NULL, (const float[]){0.7f}, NULL);
    opc_attr_string(c, "coordinate_transformation_mode", "asymmetric");
    opc_attr_string(c, "nearest_mode", "floor");
    /* x = o / 0.7f: 0, 1.43, 2.86, 4.29, 5.71, 7.14, 8.57 -> floor */
    expect_both(c, (const float[]){0, 1, 2, 4, 5, 7, 8}, 1, (int64_t[]){7}, 0, 0,
                "output size 10 x 0.7");
    opc_free(c);
}
END_TEST

START_TEST(resize_linear_cubic_hand)
{
    /* linear half_pixel [1,3] x2: x = o/2 - 0.25 = -0.25, 0.25, 0.75, 1.25,
     * clamped to the edges: [1, 1.5, 2.5, 3] (torch: F.interpolate linear,
     * align_corners=False). Same scale as out/in: oneDNN runs. */
    const float x2[2] = {1, 3};
    op_case *c =
        resize_case(13, F32, 3, (int64_t[]){1, 1, 2}, x2, NULL, (const float[]){1, 1, 2}, NULL);
    opc_attr_string(c, "mode", "linear");
    expect_both(c, (const float[]){1, 1.5f, 2.5f, 3}, 3, (int64_t[]){1, 1, 4}, 1e-6, 1,
                "linear half_pixel x2");
    opc_free(c);

    /* align_corners: x = o / 3: [1, 5/3, 7/3, 3] (torch align_corners=True) */
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 2}, x2, NULL, NULL, (const int64_t[]){1, 1, 4});
    opc_attr_string(c, "mode", "linear");
    opc_attr_string(c, "coordinate_transformation_mode", "align_corners");
    expect_both(c, (const float[]){1, 5.0f / 3, 7.0f / 3, 3}, 3, (int64_t[]){1, 1, 4}, 1e-6, 0,
                "linear align_corners 2->4");
    opc_free(c);

    /* Upsample-9 linear is asymmetric: x = o / 2: [1, 2, 3, 3] */
    c = opc_new("Upsample", 9, 2, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){1, 1, 2}, x2, false);
    opc_input(c, 1, F32, 1, (int64_t[]){3}, (const float[]){1, 1, 2}, true);
    opc_attr_string(c, "mode", "linear");
    expect_both(c, (const float[]){1, 2, 3, 3}, 3, (int64_t[]){1, 1, 4}, 1e-6, 0,
                "Upsample-9 linear");
    opc_free(c);

    /* Resize-10 linear is asymmetric too (values of ONNX's opset-10 tests
     * test_resize_upsample_linear / _downsample_linear): [[1,2],[3,4]] x2
     * reads x = o/2 -> rows [1,1.5,2,2] .. ; [[1,2,3,4],[5,6,7,8]] x0.6
     * -> 1x2 at x = 0, 1/0.6: [1, 2 + 0.6667] */
    const float x22[4] = {1, 2, 3, 4}, x24[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    c = resize_case(10, F32, 4, (int64_t[]){1, 1, 2, 2}, x22, NULL, (const float[]){1, 1, 2, 2},
                    NULL);
    opc_attr_string(c, "mode", "linear");
    expect_both(c, (const float[]){1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4}, 4,
                (int64_t[]){1, 1, 4, 4}, 1e-6, 0, "Resize-10 linear x2");
    opc_free(c);
    c = resize_case(10, F32, 4, (int64_t[]){1, 1, 2, 4}, x24, NULL,
                    (const float[]){1, 1, 0.6f, 0.6f}, NULL);
    opc_attr_string(c, "mode", "linear");
    /* 1 / 0.6f = 1.66666663: 2 + 0.66666663 */
    expect_both(c, (const float[]){1, (float)(1.0 + 1.0 / (double)0.6f)}, 4,
                (int64_t[]){1, 1, 1, 2}, 1e-6, 0, "Resize-10 linear x0.6");
    opc_free(c);

    /* 2-D bilinear half_pixel [[1,2],[3,4]] -> 3x3 (scale 1.5):
     * [[1,1.5,2],[2,2.5,3],[3,3.5,4]] (torch bilinear, align_corners=False) */
    const float x4[4] = {1, 2, 3, 4};
    c = resize_case(13, F32, 4, (int64_t[]){1, 1, 2, 2}, x4, NULL, NULL,
                    (const int64_t[]){1, 1, 3, 3});
    opc_attr_string(c, "mode", "linear");
    expect_both(c, (const float[]){1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}, 4, (int64_t[]){1, 1, 3, 3},
                1e-6, 1, "bilinear 2x2 -> 3x3");
    opc_free(c);

    /* cubic, A = -0.75, asymmetric x2 on [1,2,4,8]: x = o/2. At t = 0.5 the
     * weights of points floor(x)-1 .. floor(x)+2 are
     *   A(1.5^3) - 5A(1.5^2) + 8A(1.5) - 4A = 0.125A = -0.09375 and
     *   (A+2)(0.125) - (A+3)(0.25) + 1 = 0.59375 (symmetric);
     * edges repeat. o=1 (x=0.5): -0.09375*1 + 0.59375*(1+2) - 0.09375*4 =
     * 1.3125; o=3: -0.09375*(1+8) + 0.59375*(2+4) = 2.71875; o=5:
     * -0.09375*(2+8) + 0.59375*(4+8) = 6.1875; o=7: -0.09375*(4+8) +
     * 0.59375*16 = 8.375; even o hit the points. */
    const float x8[4] = {1, 2, 4, 8};
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 4}, x8, NULL, (const float[]){1, 1, 2}, NULL);
    opc_attr_string(c, "mode", "cubic");
    opc_attr_string(c, "coordinate_transformation_mode", "asymmetric");
    expect_both(c, (const float[]){1, 1.3125f, 2, 2.71875f, 4, 6.1875f, 8, 8.375f}, 3,
                (int64_t[]){1, 1, 8}, 1e-6, 0, "cubic asymmetric x2");
    opc_free(c);

    /* exclude_outside: points outside [0, 3] drop out and the remaining
     * weights renormalise. o=1 (points -1..2): (0.59375*(1+2) - 0.09375*4)
     * / (1 + 0.09375) = 1.40625/1.09375 = 9/7; o=5 (points 1..4):
     * (-0.09375*2 + 0.59375*(4+8)) / 1.09375 = 6.9375/1.09375 = 222/35;
     * o=7 (points 2..5): (-0.09375*4 + 0.59375*8) / 0.5 = 8.75. (Also
     * checked with a numpy loop over Keys' kernel when written.) */
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 4}, x8, NULL, (const float[]){1, 1, 2}, NULL);
    opc_attr_string(c, "mode", "cubic");
    opc_attr_string(c, "coordinate_transformation_mode", "asymmetric");
    opc_attr_int(c, "exclude_outside", 1);
    expect_both(c, (const float[]){1, 9.0f / 7, 2, 2.71875f, 4, 222.0f / 35, 8, 8.75f}, 3,
                (int64_t[]){1, 1, 8}, 1e-6, 0, "cubic exclude_outside");
    opc_free(c);

    /* cubic half_pixel [1,2,4,8] -> 8 equals PyTorch's bicubic
     * (A = -0.75, align_corners=False, edge clamping); values from
     * F.interpolate in float64 when this test was written */
    c = resize_case(13, F32, 4, (int64_t[]){1, 1, 1, 4}, x8, NULL, NULL,
                    (const int64_t[]){1, 1, 1, 8});
    opc_attr_string(c, "mode", "cubic");
    expect_both(c,
                (const float[]){0.89453125f, 1.15625f, 1.5625f, 2.41796875f, 3.16015625f,
                                5.1171875f, 7.1640625f, 8.421875f},
                4, (int64_t[]){1, 1, 1, 8}, 1e-6, 0, "cubic half_pixel = torch bicubic");
    opc_free(c);

    /* tf_crop_and_resize, linear: roi axis 2 = [0.5, 1.5] of [1,2,3,4],
     * sizes 3: x = 0.5*3 + o*1*3/2 = 1.5, 3, 4.5 -> 2.5, 4, and 4.5 > 3 is
     * outside: extrapolation_value 10. Axes 0, 1 (length 1): x = 0. */
    const float x4l[4] = {1, 2, 3, 4};
    const float roi[6] = {0, 0, 0.5f, 1, 1, 1.5f};
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 4}, x4l, roi, NULL, (const int64_t[]){1, 1, 3});
    opc_attr_string(c, "mode", "linear");
    opc_attr_string(c, "coordinate_transformation_mode", "tf_crop_and_resize");
    opc_attr_float(c, "extrapolation_value", 10);
    expect_both(c, (const float[]){2.5f, 4, 10}, 3, (int64_t[]){1, 1, 3}, 1e-6, 0,
                "tf_crop_and_resize");
    opc_free(c);

    /* pytorch_half_pixel to length 1 reads x = 0 (half_pixel would read
     * (0.5) * 4 - 0.5 = 1.5 -> 2.5): [1] */
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 4}, x4l, NULL, NULL, (const int64_t[]){1, 1, 1});
    opc_attr_string(c, "mode", "linear");
    opc_attr_string(c, "coordinate_transformation_mode", "pytorch_half_pixel");
    expect_both(c, (const float[]){1}, 3, (int64_t[]){1, 1, 1}, 0, 0,
                "pytorch_half_pixel to length 1");
    opc_free(c);

    /* align_corners with scales uses length_resized = in * scale unfloored
     * (ONNX: scale = length_resized / length_original): [1,2,3,4] x 0.6 ->
     * 2 outputs, x = o * 3 / (2.4 - 1): 0, 2.142857 -> [1, 3.142857] (as
     * ONNX's test_resize_downsample_scales_linear_align_corners) */
    c = resize_case(13, F32, 3, (int64_t[]){1, 1, 4}, x4l, NULL, (const float[]){1, 1, 0.6f}, NULL);
    opc_attr_string(c, "mode", "linear");
    opc_attr_string(c, "coordinate_transformation_mode", "align_corners");
    /* 3 / (4 * 0.6f - 1) with 0.6f = 0.60000002384 */
    double xo = 3.0 / (4.0 * (double)0.6f - 1.0);
    expect_both(c, (const float[]){1, (float)(1 + xo)}, 3, (int64_t[]){1, 1, 2}, 1e-6, 0,
                "align_corners with scales");
    opc_free(c);
}
END_TEST

START_TEST(resize_dtypes)
{
    /* nearest on integers and bool copies elements: int64 [[10,20],[30,40]]
     * x2 asymmetric floor */
    const int64_t xi[4] = {10, 20, 30, 40};
    op_case *c = resize_case(13, I64, 2, (int64_t[]){2, 2}, xi, NULL, (const float[]){2, 2}, NULL);
    opc_attr_string(c, "coordinate_transformation_mode", "asymmetric");
    opc_attr_string(c, "nearest_mode", "floor");
    ortc_status st = opc_run(c, 0, 1);
    ck_assert_msg(st == ORTC_STATUS_OK, "int64 nearest: %s", c->err.msg);
    ck_assert_int_eq(c->out[0].dtype, I64);
    const int64_t want[16] = {10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40};
    ck_assert_int_eq(ortc_tensor_numel(&c->out[0]), 16);
    for (int i = 0; i < 16; i++)
        ck_assert_msg(((int64_t *)c->out[0].data)[i] == want[i], "int64 nearest [%d]: %lld vs %lld",
                      i, (long long)((int64_t *)c->out[0].data)[i], (long long)want[i]);
    opc_free(c);

    /* uint8 with tf_crop_and_resize: outside points get extrapolation 7 */
    const uint8_t xu[4] = {1, 2, 3, 4};
    const float roi[2] = {0.5f, 1.5f};
    c = resize_case(13, ORTC_DTYPE_UINT8, 1, (int64_t[]){4}, xu, roi, NULL, (const int64_t[]){3});
    opc_attr_string(c, "coordinate_transformation_mode", "tf_crop_and_resize");
    opc_attr_float(c, "extrapolation_value", 7);
    /* x = 1.5, 3, 4.5 -> round_prefer_floor 1, 3, outside */
    st = opc_run(c, 1, 1);
    ck_assert_msg(st == ORTC_STATUS_OK, "uint8 nearest: %s", c->err.msg);
    const uint8_t *yu = c->out[0].data;
    ck_assert_msg(yu[0] == 2 && yu[1] == 4 && yu[2] == 7, "uint8 crop: got %d %d %d, want 2 4 7",
                  yu[0], yu[1], yu[2]);
    opc_free(c);

    /* bool nearest x2 */
    const uint8_t xb[2] = {1, 0};
    c = resize_case(13, ORTC_DTYPE_BOOL, 1, (int64_t[]){2}, xb, NULL, (const float[]){2}, NULL);
    st = opc_run(c, 1, 1);
    ck_assert_msg(st == ORTC_STATUS_OK, "bool nearest: %s", c->err.msg);
    const uint8_t *yb = c->out[0].data;
    /* half_pixel x2: x = o/2 - 0.25 = -0.25, 0.25, 0.75, 1.25 -> 0, 0, 1, 1 */
    ck_assert_msg(yb[0] == 1 && yb[1] == 1 && yb[2] == 0 && yb[3] == 0,
                  "bool nearest: got %d %d %d %d", yb[0], yb[1], yb[2], yb[3]);
    opc_free(c);

    /* float64 linear, [1,3] x2 half_pixel: [1, 1.5, 2.5, 3] */
    const double xd[2] = {1, 3};
    c = resize_case(13, ORTC_DTYPE_DOUBLE, 1, (int64_t[]){2}, xd, NULL, (const float[]){2}, NULL);
    opc_attr_string(c, "mode", "linear");
    st = opc_run(c, 0, 1);
    ck_assert_msg(st == ORTC_STATUS_OK, "double linear: %s", c->err.msg);
    const double *yd = c->out[0].data, wantd[4] = {1, 1.5, 2.5, 3};
    for (int i = 0; i < 4; i++)
        ck_assert_msg(yd[i] == wantd[i], "double linear [%d]: %g vs %g", i, yd[i], wantd[i]);
    opc_free(c);

    /* linear on int32 is not implemented */
    const int32_t x32[2] = {1, 3};
    c = resize_case(13, ORTC_DTYPE_INT32, 1, (int64_t[]){2}, x32, NULL, (const float[]){2}, NULL);
    opc_attr_string(c, "mode", "linear");
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "int32 linear");
    opc_free(c);
}
END_TEST

/* ==== Resize: oneDNN against the reference ===================================== */

typedef struct resize_cfg {
    const char *name;
    int opset;
    const char *mode, *coord, *nearest; /* NULL: default */
    int rank;
    int64_t in[5];
    float scales[5]; /* used when sizes[0] == 0 */
    int64_t sizes[5];
    bool expect_dnnl;
} resize_cfg;

static const resize_cfg resize_cfgs[] = {
    {"linear half_pixel 7x9 -> 13x20 (sizes)",
     13,
     "linear",
     NULL,
     NULL,
     4,
     {2, 3, 7, 9},
     {0},
     {2, 3, 13, 20},
     true},
    {"linear half_pixel 13x11 -> 5x4 (sizes)",
     13,
     "linear",
     NULL,
     NULL,
     4,
     {1, 2, 13, 11},
     {0},
     {1, 2, 5, 4},
     true},
    {"linear half_pixel x2 (scales)",
     11,
     "linear",
     NULL,
     NULL,
     4,
     {1, 3, 6, 5},
     {1, 1, 2, 2},
     {0},
     true},
    {"linear pytorch_half_pixel 3-D",
     13,
     "linear",
     "pytorch_half_pixel",
     NULL,
     5,
     {1, 2, 3, 4, 5},
     {0},
     {1, 2, 5, 7, 2},
     true},
    {"linear half_pixel 1-D spatial",
     13,
     "linear",
     NULL,
     NULL,
     3,
     {2, 2, 9},
     {0},
     {2, 2, 14},
     true},
    {"nearest x3 asymmetric floor",
     13,
     "nearest",
     "asymmetric",
     "floor",
     4,
     {1, 2, 4, 5},
     {1, 1, 3, 3},
     {0},
     true},
    {"nearest x2 half_pixel round_prefer_ceil",
     13,
     "nearest",
     NULL,
     "round_prefer_ceil",
     4,
     {1, 2, 5, 4},
     {1, 1, 2, 2},
     {0},
     true},
    {"nearest /3 half_pixel", 13, "nearest", NULL, NULL, 4, {1, 2, 9, 6}, {0}, {1, 2, 3, 2}, true},
    /* the rest must stay on plain C: */
    {"linear scale 0.6 (not out/in)",
     13,
     "linear",
     NULL,
     NULL,
     4,
     {1, 2, 5, 5},
     {1, 1, 0.6f, 0.6f},
     {0},
     false},
    {"linear align_corners",
     13,
     "linear",
     "align_corners",
     NULL,
     4,
     {1, 2, 5, 5},
     {0},
     {1, 2, 9, 9},
     false},
    {"linear asymmetric",
     13,
     "linear",
     "asymmetric",
     NULL,
     4,
     {1, 2, 5, 5},
     {1, 1, 2, 2},
     {0},
     false},
    {"linear scaling C", 13, "linear", NULL, NULL, 4, {1, 2, 5, 5}, {0}, {1, 4, 5, 5}, false},
    {"nearest 4 -> 7 (not an integer factor)",
     13,
     "nearest",
     NULL,
     NULL,
     4,
     {1, 2, 4, 4},
     {0},
     {1, 2, 7, 7},
     false},
    {"nearest /2 round_prefer_floor (ties)",
     13,
     "nearest",
     NULL,
     NULL,
     4,
     {1, 2, 8, 8},
     {0},
     {1, 2, 4, 4},
     false},
    {"cubic", 13, "cubic", NULL, NULL, 4, {1, 2, 5, 5}, {0}, {1, 2, 8, 9}, false},
};

START_TEST(resize_random)
{
    const resize_cfg *k = &resize_cfgs[_i];
    uint64_t seed = 4000 + (uint64_t)_i;
    float *x = rand_f32(numel_of(k->rank, k->in), -1, 1, &seed);
    op_case *c = resize_case(k->opset, F32, k->rank, k->in, x, NULL, k->sizes[0] ? NULL : k->scales,
                             k->sizes[0] ? k->sizes : NULL);
    if (k->mode)
        opc_attr_string(c, "mode", k->mode);
    if (k->coord)
        opc_attr_string(c, "coordinate_transformation_mode", k->coord);
    if (k->nearest)
        opc_attr_string(c, "nearest_mode", k->nearest);
    char what[200];
    snprintf(what, sizeof what, "Resize %s", k->name);
    /* oneDNN computes linear weights in float, the reference in double:
     * a few ulp of values in [-1, 1]; nearest copies exactly */
    compare_paths(c, 1e-5, 1e-6, k->expect_dnnl, what);
    opc_free(c);
    free(x);
}
END_TEST

START_TEST(resize_errors)
{
    float x[4] = {1, 2, 3, 4};
    const float sc[2] = {1, 2};
    const int64_t sz[2] = {1, 4};
    /* both scales and sizes */
    op_case *c = resize_case(13, F32, 2, (int64_t[]){1, 4}, x, NULL, sc, sz);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "exactly one", "scales and sizes");
    opc_free(c);
    /* neither */
    c = resize_case(13, F32, 2, (int64_t[]){1, 4}, x, NULL, NULL, NULL);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "exactly one", "no scales or sizes");
    opc_free(c);
    /* scales of the wrong length */
    c = opc_new("Resize", 13, 3, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){4}, x, false);
    opc_input(c, 1, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    opc_input(c, 2, F32, 1, (int64_t[]){2}, sc, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank 1", "2 scales for rank 1");
    opc_free(c);
    /* negative sizes */
    c = resize_case(13, F32, 2, (int64_t[]){1, 4}, x, NULL, NULL, (const int64_t[]){1, -1});
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "sizes", "negative size");
    opc_free(c);
    /* Upsample scales below 1 */
    c = opc_new("Upsample", 9, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){1, 4}, x, false);
    opc_input(c, 1, F32, 1, (int64_t[]){2}, (const float[]){1, 0.5f}, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, ">= 1", "Upsample scale 0.5");
    opc_free(c);
    /* unknown mode; cubic does not exist before opset 11 */
    c = resize_case(13, F32, 2, (int64_t[]){1, 4}, x, NULL, sc, NULL);
    opc_attr_string(c, "mode", "bilinear");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "mode", "mode bilinear");
    opc_free(c);
    c = resize_case(10, F32, 2, (int64_t[]){1, 4}, x, NULL, sc, NULL);
    opc_attr_string(c, "mode", "cubic");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "cubic", "cubic at opset 10");
    opc_free(c);
    /* tf_crop_and_resize with a roi of the wrong length */
    const float roi[3] = {0, 0, 1};
    c = opc_new("Resize", 13, 4, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){1, 4}, x, false);
    opc_input(c, 1, F32, 1, (int64_t[]){3}, roi, true);
    opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    opc_input(c, 3, I64, 1, (int64_t[]){2}, sz, true);
    opc_attr_string(c, "coordinate_transformation_mode", "tf_crop_and_resize");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "roi", "roi of 3 values");
    opc_free(c);
    /* scales not known at compile time */
    c = resize_case(13, F32, 2, (int64_t[]){1, 4}, x, NULL, sc, NULL);
    c->in_const[2] = false;
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "scales", "scales fed at run");
    opc_free(c);
    /* ... but a roi fed at run is fine outside tf_crop_and_resize, where
     * it is ignored: [1,2,3,4] x2 nearest asymmetric floor */
    c = resize_case(13, F32, 1, (int64_t[]){4}, x, (const float[]){0.2f, 0.7f}, (const float[]){2},
                    NULL);
    c->in_const[1] = false;
    opc_attr_string(c, "coordinate_transformation_mode", "asymmetric");
    opc_attr_string(c, "nearest_mode", "floor");
    expect_both(c, (const float[]){1, 1, 2, 2, 3, 3, 4, 4}, 1, (int64_t[]){8}, 0, 0,
                "roi fed at run, ignored");
    opc_free(c);
}
END_TEST

START_TEST(deconv_resize_versions)
{
    static const struct {
        const char *op;
        int opset, want;
    } cases[] = {
        {"ConvTranspose", 7, 1}, {"ConvTranspose", 17, 11}, {"Upsample", 7, 7}, {"Upsample", 8, 7},
        {"Upsample", 9, 9},      {"Resize", 10, 10},        {"Resize", 12, 11}, {"Resize", 17, 13},
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

void ortc_cases_ops_deconv(Suite *s)
{
    TCase *tc = tcase_create("deconv_resize_hand");
    tcase_add_test(tc, deconv_hand);
    tcase_add_test(tc, deconv_post_ops_hand);
    tcase_add_test(tc, deconv_post_ops_random);
    tcase_add_test(tc, deconv_errors);
    tcase_add_test(tc, resize_nearest_hand);
    tcase_add_test(tc, resize_linear_cubic_hand);
    tcase_add_test(tc, resize_dtypes);
    tcase_add_test(tc, resize_errors);
    tcase_add_test(tc, deconv_resize_versions);
    suite_add_tcase(s, tc);

    tc = tcase_create("deconv_resize_vs_reference");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, deconv_random, 0, N_OF(deconv_cfgs));
    tcase_add_loop_test(tc, resize_random, 0, N_OF(resize_cfgs));
    suite_add_tcase(s, tc);
}
