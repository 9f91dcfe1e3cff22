/* cases_dnnl_wino.c — this project's Winograd weight packing
 * (operators/dnnl_wino.c) against oneDNN's own reorder into the layout its
 * Winograd convolution asks for: the same bytes, for each of the layouts
 * oneDNN 2.6 picks for fp32 (F(2x2,3x3): aaOBiOo and aaOio; F(4x4,3x3):
 * OBaaIBOIio; the cases below are where an Intel AVX-512 CPU picks each,
 * and another CPU may pick others), channel counts that are and are not multiples of 16, 1 and 2
 * threads; and the layouts it must leave to oneDNN.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "cases.h"
#include "dnnl_wino.h"
#include "helper_cases.h"

typedef struct wino_case {
    int64_t n, oc, ic, hw; /* batch, channels, square input size */
    int want_fmt;          /* the layout oneDNN picks; 0: any */
} wino_case;

/* oneDNN's weights descriptor for a Winograd 3x3 convolution of c; false
 * when oneDNN has no Winograd implementation for it. */
static bool wino_weights_md(dnnl_engine_t eng, const wino_case *c, dnnl_memory_desc_t *out)
{
    dnnl_memory_desc_t src, dst, wei;
    dnnl_dims_t sd = {c->n, c->ic, c->hw, c->hw}, dd = {c->n, c->oc, c->hw, c->hw},
                wd = {c->oc, c->ic, 3, 3}, strides = {1, 1}, pad = {1, 1};
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_format_tag_any),
                     dnnl_success);
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_format_tag_any),
                     dnnl_success);
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any),
                     dnnl_success);
    dnnl_convolution_desc_t cd;
    ck_assert_int_eq(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                        dnnl_convolution_winograd, &src, &wei, NULL,
                                                        &dst, strides, pad, pad),
                     dnnl_success);
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL) != dnnl_success)
        return false;
    *out = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_desc_destroy(pd);
    return true;
}

/* dst = src reordered by oneDNN (its wino_reorder for a Winograd dst). */
static void dnnl_reorder_into(dnnl_engine_t eng, const dnnl_memory_desc_t *dmd,
                              const dnnl_memory_desc_t *smd, const float *src, void *dst)
{
    dnnl_stream_t stream;
    ck_assert_int_eq(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), dnnl_success);
    dnnl_memory_t ms, md;
    ck_assert_int_eq(dnnl_memory_create(&ms, smd, eng, (void *)src), dnnl_success);
    ck_assert_int_eq(dnnl_memory_create(&md, dmd, eng, dst), dnnl_success);
    dnnl_primitive_desc_t rpd;
    ck_assert_int_eq(dnnl_reorder_primitive_desc_create(&rpd, smd, eng, dmd, eng, NULL),
                     dnnl_success);
    dnnl_primitive_t r;
    ck_assert_int_eq(dnnl_primitive_create(&r, rpd), dnnl_success);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
    ck_assert_int_eq(dnnl_primitive_execute(r, stream, 2, args), dnnl_success);
    ck_assert_int_eq(dnnl_stream_wait(stream), dnnl_success);
    dnnl_primitive_destroy(r);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(ms);
    dnnl_memory_destroy(md);
    dnnl_stream_destroy(stream);
}

static const wino_case wino_cases[] = {
    {1, 64, 64, 56, dnnl_wino_wei_aaOBiOo},
    {1, 192, 64, 28, dnnl_wino_wei_aaOBiOo},
    {1, 208, 96, 14, dnnl_wino_wei_aaOio},
    {1, 384, 192, 7, dnnl_wino_wei_aaOio},
    {1, 192, 192, 17, dnnl_wino_wei_OBaaIBOIio},
    {8, 96, 80, 35, dnnl_wino_wei_OBaaIBOIio},
    {8, 128, 96, 28, dnnl_wino_wei_OBaaIBOIio},
    {1, 100, 72, 14, 0},
    {8, 72, 100, 14, 0},
};

START_TEST(wino_pack_matches_onednn)
{
    const wino_case *c = &wino_cases[_i];
    dnnl_engine_t eng;
    ck_assert_int_eq(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    /* the named layouts are what oneDNN 2.6 picks on CPUs with AVX-512;
     * elsewhere (and for the unnamed cases) it may have no Winograd kernel */
    bool avx512 =
        (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
    dnnl_memory_desc_t wmd, plain;
    if (!wino_weights_md(eng, c, &wmd)) {
        ck_assert_msg(c->want_fmt == 0 || !avx512,
                      "oneDNN has no Winograd convolution for %lldx%lld", (long long)c->oc,
                      (long long)c->ic);
        dnnl_engine_destroy(eng);
        return;
    }
    ck_assert_int_eq(wmd.format_kind, dnnl_format_kind_wino);
    /* which layout oneDNN picks also follows the CPU's cache sizes (on an
     * AMD Zen 5 it takes OBaaIBOIio for 192x64 at 28x28): whichever it is,
     * the packing must match its reorder byte for byte */
    if (c->want_fmt && avx512 && (int)wmd.format_desc.wino_desc.wino_format != c->want_fmt)
        fprintf(stderr,
                "note: %lldx%lld at %lldx%lld: oneDNN picked Winograd layout %d on this CPU "
                "(%d where the case list was made); checking that one\n",
                (long long)c->oc, (long long)c->ic, (long long)c->hw, (long long)c->hw,
                (int)wmd.format_desc.wino_desc.wino_format, c->want_fmt);
    dnnl_dims_t wd = {c->oc, c->ic, 3, 3};
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&plain, 4, wd, dnnl_f32, dnnl_oihw),
                     dnnl_success);
    int64_t n = c->oc * c->ic * 9;
    uint64_t seed = (uint64_t)(c->oc * 1000 + c->ic);
    float *w = rand_f32(n, -1.0f, 1.0f, &seed);
    /* signed zeros and exact zeros take the same path as any value */
    for (int64_t k = 0; k < n; k += 97)
        w[k] = (k / 97) % 2 ? -0.0f : 0.0f;
    size_t bytes = dnnl_memory_desc_get_size(&wmd);
    unsigned char *want = malloc(bytes), *got = malloc(bytes);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    memset(want, 0xa5, bytes);
    dnnl_reorder_into(eng, &wmd, &plain, w, want);
    for (int threads = 1; threads <= 2; threads++) {
        memset(got, 0x5a, bytes);
        ck_assert_msg(ortc_dnnl_wino_pack(&wmd, &plain, w, got, threads), "format %d not packed",
                      (int)wmd.format_desc.wino_desc.wino_format);
        size_t at = 0;
        while (at < bytes && want[at] == got[at])
            at++;
        ck_assert_msg(at == bytes,
                      "%lldx%lld batch %lld format %d, %d threads: byte %zu of %zu differs",
                      (long long)c->oc, (long long)c->ic, (long long)c->n,
                      (int)wmd.format_desc.wino_desc.wino_format, threads, at, bytes);
    }
    free(want);
    free(got);
    free(w);
    dnnl_engine_destroy(eng);
}
END_TEST

/* Layouts and sources the transform does not know are left to oneDNN. */
START_TEST(wino_pack_declines)
{
    dnnl_engine_t eng;
    ck_assert_int_eq(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    wino_case c = {1, 64, 64, 56, 0};
    dnnl_memory_desc_t wmd, plain, hwio, blocked;
    if (!wino_weights_md(eng, &c, &wmd)) { /* no Winograd kernel on this CPU */
        dnnl_engine_destroy(eng);
        return;
    }
    dnnl_dims_t wd = {64, 64, 3, 3}, wd5 = {64, 64, 5, 5};
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&plain, 4, wd, dnnl_f32, dnnl_oihw),
                     dnnl_success);
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&hwio, 4, wd, dnnl_f32, dnnl_hwio), dnnl_success);
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&blocked, 4, wd, dnnl_f32, dnnl_OIhw16i16o),
                     dnnl_success);
    float *w = calloc(64 * 64 * 25, sizeof *w);
    void *dst = malloc(dnnl_memory_desc_get_size(&wmd));
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(dst);
    ck_assert(!ortc_dnnl_wino_pack(&blocked, &plain, w, dst, 1)); /* not Winograd */
    ck_assert(!ortc_dnnl_wino_pack(&wmd, &hwio, w, dst, 1));      /* source not oihw */
    dnnl_memory_desc_t p5;
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&p5, 4, wd5, dnnl_f32, dnnl_oihw), dnnl_success);
    ck_assert(!ortc_dnnl_wino_pack(&wmd, &p5, w, dst, 1)); /* 5x5 */
    dnnl_memory_desc_t s8 = wmd;
    s8.data_type = dnnl_s8;
    ck_assert(!ortc_dnnl_wino_pack(&s8, &plain, w, dst, 1)); /* int8 */
    free(w);
    free(dst);
    dnnl_engine_destroy(eng);
}
END_TEST

void ortc_cases_dnnl_wino(Suite *s)
{
    TCase *tc = tcase_create("dnnl_wino");
    tcase_add_loop_test(tc, wino_pack_matches_onednn, 0,
                        (int)(sizeof wino_cases / sizeof wino_cases[0]));
    tcase_add_test(tc, wino_pack_declines);
    suite_add_tcase(s, tc);
}
