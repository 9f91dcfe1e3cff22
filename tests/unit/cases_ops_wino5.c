/* cases_ops_wino5.c — the F(2x2,5x5) Winograd convolution kernel
 * (operators/nn/conv_wino5.c) against the plain-C direct convolution
 * (ortc_ref_conv_forward, double accumulation): odd and even output sizes
 * (partial 2x2 tiles), symmetric, asymmetric and no padding, channel counts
 * that are and are not multiples of 16 and 64, batches whose tiles straddle
 * thread and block boundaries, both input layouts (nhwc, nChw16c), the fused
 * activations, 1 and 2 threads. Whole Conv nodes taking this path are
 * checked in cases_ops_perf.c (layout_wino5).
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "nn/conv_wino5.h"
#include "helper_ops.h"
#include "nn/conv_ref.h"

typedef struct w5_case {
    int64_t n, ic, oc, h, w;
    int64_t pt, pl, pb, pr; /* pads: top, left, bottom, right */
    bool x_blocked, bias;
    int threads;
    const char *acts; /* "", "relu", "leaky", "clip" */
} w5_case;

static void *xalloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Error bound, absolute: inputs in [-1, 1], weights scaled by
 * 1/sqrt(25 ic), so outputs are O(1). The direct float sum of 25 ic terms
 * errs by a few eps * sqrt(25 ic) typically; Winograd's transforms scale
 * intermediate terms by up to 100 (B^T's rows sum to 10 in absolute value,
 * squared for 2-D) before A^T sums them back, so its 36 ic products carry
 * more rounding: measured worst 7.3e-6 over these cases (ic = 96), and the
 * bound below, 10 eps per product term (4.1e-5 at ic = 96), stays well
 * under the O(0.1) a wrong tap, pad or channel causes. */
static double w5_atol(int64_t ic)
{
    return 10.0 * 1.19e-7 * (double)(36 * ic);
}

static void run_case(const w5_case *tc)
{
    ck_assert(ortc_wino5_available());
    uint64_t seed = 7 + (uint64_t)(tc->n * 131 + tc->ic * 17 + tc->oc + tc->h * 3 + tc->w);
    const int64_t oh = tc->h + tc->pt + tc->pb - 4, ow = tc->w + tc->pl + tc->pr - 4;
    const int64_t xn = tc->n * tc->ic * tc->h * tc->w, yn = tc->n * tc->oc * oh * ow;
    float *x = xalloc((size_t)xn * 4), *w = xalloc((size_t)(tc->oc * tc->ic * 25) * 4);
    float *b = xalloc((size_t)tc->oc * 4);
    opc_fill_uniform(x, xn, -1, 1, &seed);
    opc_fill_uniform(w, tc->oc * tc->ic * 25, -1, 1, &seed);
    opc_fill_uniform(b, tc->oc, -0.5f, 0.5f, &seed);
    float scale = 1.0f / sqrtf((float)(25 * tc->ic));
    for (int64_t i = 0; i < tc->oc * tc->ic * 25; i++)
        w[i] *= scale;

    /* expected: direct convolution in double, then the activations */
    ortc_window g;
    memset(&g, 0, sizeof g);
    g.nsp = 2;
    g.n = tc->n;
    g.c = tc->ic;
    int64_t in[3] = {1, tc->h, tc->w}, out[3] = {1, oh, ow}, pb[3] = {0, tc->pt, tc->pl},
            pe[3] = {0, tc->pb, tc->pr};
    for (int d = 0; d < 3; d++) {
        g.in[d] = in[d];
        g.out[d] = out[d];
        g.kernel[d] = d ? 5 : 1;
        g.stride[d] = 1;
        g.dilation[d] = 1;
        g.pad_begin[d] = pb[d];
        g.pad_end[d] = pe[d];
    }
    float *exp = xalloc((size_t)yn * 4);
    ortc_ref_conv_forward(exp, x, w, tc->bias ? b : NULL, &g, tc->oc, 1);

    ortc_wino5 k = {
        .n = tc->n,
        .ic = tc->ic,
        .oc = tc->oc,
        .ih = tc->h,
        .iw = tc->w,
        .oh = oh,
        .ow = ow,
        .pad_top = tc->pt,
        .pad_left = tc->pl,
        .threads = tc->threads,
    };
    const int64_t icb = (tc->ic + 15) / 16, ocb = tc->oc / 16;
    if (tc->x_blocked)
        k.x = (ortc_wino5_layout){
            .sn = icb * tc->h * tc->w * 16, .scb = tc->h * tc->w * 16, .sh = tc->w * 16, .sw = 16};
    else
        k.x = (ortc_wino5_layout){
            .sn = tc->h * tc->w * tc->ic, .scb = 16, .sh = tc->w * tc->ic, .sw = tc->ic};
    k.y =
        (ortc_wino5_layout){.sn = ocb * oh * ow * 16, .scb = oh * ow * 16, .sh = ow * 16, .sw = 16};
    if (!strcmp(tc->acts, "relu")) {
        k.n_act = 1;
        k.act[0].kind = ORTC_WINO5_RELU;
    } else if (!strcmp(tc->acts, "leaky")) {
        k.n_act = 1;
        k.act[0].kind = ORTC_WINO5_LEAKY_RELU;
        k.act[0].a = 0.1f;
    } else if (!strcmp(tc->acts, "clip")) { /* relu then clip(-0.5, 0.25) */
        k.n_act = 2;
        k.act[0].kind = ORTC_WINO5_RELU;
        k.act[1].kind = ORTC_WINO5_CLIP;
        k.act[1].a = -0.5f;
        k.act[1].b = 0.25f;
    }
    for (int64_t i = 0; i < yn; i++) {
        double v = exp[i];
        if (k.n_act && k.act[0].kind == ORTC_WINO5_RELU)
            v = v > 0 ? v : 0;
        if (k.n_act && k.act[0].kind == ORTC_WINO5_LEAKY_RELU)
            v = v < 0 ? 0.1 * v : v;
        if (k.n_act == 2)
            v = v < -0.5 ? -0.5 : v > 0.25 ? 0.25 : v;
        exp[i] = (float)v;
    }

    /* the kernel's input layout, zero channel padding when blocked */
    size_t xbytes = (size_t)(tc->x_blocked ? tc->n * icb * 16 * tc->h * tc->w : xn) * 4;
    float *xl = xalloc(xbytes);
    memset(xl, 0, xbytes);
    for (int64_t n = 0; n < tc->n; n++)
        for (int64_t c = 0; c < tc->ic; c++)
            for (int64_t h = 0; h < tc->h; h++)
                for (int64_t ww = 0; ww < tc->w; ww++)
                    xl[n * k.x.sn + (c / 16) * k.x.scb + h * k.x.sh + ww * k.x.sw + c % 16] =
                        x[((n * tc->ic + c) * tc->h + h) * tc->w + ww];
    ck_assert(ortc_wino5_init(&k, w, tc->bias ? b : NULL));
    void *scratch = xalloc(ortc_wino5_scratch(&k));
    float *y = xalloc((size_t)yn * 4), *yp = xalloc((size_t)yn * 4);
    char what[200];
    snprintf(what, sizeof what,
             "wino5 n=%lld ic=%lld oc=%lld %lldx%lld pads t%lld l%lld b%lld r%lld %s%s%s, %d "
             "thread(s)",
             (long long)tc->n, (long long)tc->ic, (long long)tc->oc, (long long)tc->h,
             (long long)tc->w, (long long)tc->pt, (long long)tc->pl, (long long)tc->pb,
             (long long)tc->pr, tc->x_blocked ? "nChw16c" : "nhwc", tc->bias ? " bias" : "",
             tc->acts, tc->threads);
    for (int rep = 0; rep < 2; rep++) {  /* the second run reuses scratch as left */
        memset(y, 0xff, (size_t)yn * 4); /* NaN: every output must be written */
        ortc_wino5_run(&k, xl, y, scratch);
        for (int64_t n = 0; n < tc->n; n++)
            for (int64_t c = 0; c < tc->oc; c++)
                for (int64_t h = 0; h < oh; h++)
                    for (int64_t ww = 0; ww < ow; ww++)
                        yp[((n * tc->oc + c) * oh + h) * ow + ww] =
                            y[n * k.y.sn + (c / 16) * k.y.scb + h * k.y.sh + ww * k.y.sw + c % 16];
        opc_assert_close(yp, exp, yn, 0.0, w5_atol(tc->ic), what);
    }
    ortc_wino5_free(&k);
    free(x);
    free(w);
    free(b);
    free(exp);
    free(xl);
    free(scratch);
    free(y);
    free(yp);
}

static const w5_case w5_cases[] = {
    /* AlexNet's conv2 (seed export) and torchvision's, batch 1 */
    {1, 96, 256, 27, 27, 2, 2, 2, 2, false, true, 2, "relu"},
    {1, 64, 192, 27, 27, 2, 2, 2, 2, true, true, 2, "relu"},
    /* odd/even output sizes, one tile row, no padding */
    {1, 32, 64, 6, 6, 0, 0, 0, 0, false, false, 1, ""},
    {1, 32, 64, 7, 9, 0, 0, 0, 0, true, true, 2, ""},
    /* asymmetric pads, channel tails (ic 40, oc 80), batch over threads */
    {3, 40, 80, 11, 8, 1, 2, 3, 0, false, true, 2, "leaky"},
    {2, 33, 48, 5, 13, 2, 0, 1, 2, false, true, 2, "clip"},
    /* many tiles: full blocks plus a tail block, 1 and 2 threads */
    {2, 48, 128, 20, 17, 2, 2, 2, 2, true, false, 2, "relu"},
    {2, 48, 128, 20, 17, 2, 2, 2, 2, true, false, 1, "relu"},
    /* padding wider than half the kernel: whole tiles of zeros */
    {1, 32, 32, 3, 4, 4, 4, 4, 4, false, true, 2, ""},
};

START_TEST(wino5_vs_direct)
{
    if (!ortc_wino5_available()) /* the Conv op then takes oneDNN's path */
        return;
    for (int i = 0; i < (int)(sizeof w5_cases / sizeof w5_cases[0]); i++)
        run_case(&w5_cases[i]);
}
END_TEST

void ortc_cases_ops_wino5(Suite *s)
{
    TCase *tc = tcase_create("ops_wino5");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, wino5_vs_direct);
    suite_add_tcase(s, tc);
}
