/* dnnl_wino.c — constant 3x3 fp32 weights (oihw) transformed into the
 * Winograd domain and laid out as oneDNN 2.6's Winograd convolutions take
 * them (wino_wei_aaOio, aaOBiOo, OBaaIBOIio), in place of oneDNN's own
 * wino_reorder. Not the convolution itself (oneDNN's) nor other layouts.
 *
 * Why: oneDNN 2.6's wino_reorder is a scalar, non-blocked loop; packing
 * resnet18's or googlenet's 3x3 weights took most of their session creation
 * (googlenet: 10 reorders, 7-54 ms each, of ~100 ms). This one transforms
 * 16 output channels at a time with the same arithmetic in the same order,
 * so the packed bytes are those oneDNN's reorder writes (the unit test
 * test_dnnl_wino compares them bit for bit, format by format).
 *
 * The transform of one filter w (3x3) is G w G^T with G of F(2x2,3x3)
 * (alpha 4) or F(4x4,3x3) (alpha 6): first t[h][j] = sum_x w[h][x] G[j][x],
 * then u[i][j] = sum_k G[i][k] t[k][j], each sum from 0 in index order.
 */
#include "dnnl_wino.h"

#include <omp.h>
#include <stdint.h>

#define WINO_R 3
#define WINO_MAX_ALPHA 6
/* output channels per block: oneDNN 2.6's fp32 Winograd kernels (AVX-512)
 * use 16; a fixed count lets the compiler keep each block in vectors */
#define WINO_OCB 16

/* G of F(2x2,3x3) and of F(4x4,3x3), oneDNN's scaling (the values its
 * kernels are built for) */
static const float g_2x3[4][WINO_R] = {
    {1.0f, 0.0f, 0.0f}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0.0f, 0.0f, 1.0f}};
static const float g_4x3[6][WINO_R] = {
    {1.13777777777778f, 0.f, 0.f},
    {-0.688403361344538f, -0.430252100840336f, -0.26890756302521f},
    {-0.688403361344538f, 0.430252100840336f, -0.26890756302521f},
    {0.119514472455649f, 0.179271708683473f, 0.26890756302521f},
    {0.119514472455649f, -0.179271708683473f, 0.26890756302521f},
    {0.f, 0.f, 1.f}};

typedef struct wino_geom {
    dnnl_wino_memory_format_t fmt;
    int alpha, oc, ic;        /* padded counts (the layout's) */
    int or_oc, or_ic;         /* the weights' own */
    int ocb, icb, oc2, ic2;   /* blocks */
    const float (*g)[WINO_R]; /* [alpha][3] */
} wino_geom;

/* Offset (in floats) of the ocb output channels of block ob, input
 * channel ic, Winograd point (uh, uw). */
static size_t wino_offset(const wino_geom *w, int ob, int ic, int uh, int uw)
{
    size_t a = (size_t)w->alpha, nb_oc = (size_t)(w->oc / w->ocb), nb_ic = (size_t)(w->ic / w->icb);
    size_t ib = (size_t)(ic / w->icb), i = (size_t)(ic % w->icb);
    switch (w->fmt) {
    case dnnl_wino_wei_aaOio:
        return (((((size_t)uh * a + (size_t)uw) * nb_oc + (size_t)ob) * nb_ic + ib) * w->icb + i) *
               w->ocb;
    case dnnl_wino_wei_aaOBiOo: {
        size_t occ = (size_t)(ob / w->oc2), ob2 = (size_t)(ob % w->oc2),
               chunks = nb_oc / (size_t)w->oc2;
        return ((((((size_t)uh * a + (size_t)uw) * chunks + occ) * nb_ic + ib) * w->icb + i) *
                    w->oc2 +
                ob2) *
               w->ocb;
    }
    case dnnl_wino_wei_OBaaIBOIio: {
        size_t occ = (size_t)(ob / w->oc2), ob2 = (size_t)(ob % w->oc2);
        size_t icc = ib / (size_t)w->ic2, ib2 = ib % (size_t)w->ic2,
               chunks = nb_ic / (size_t)w->ic2;
        return (
            ((((((occ * a + (size_t)uh) * a + (size_t)uw) * chunks + icc) * w->oc2 + ob2) * w->ic2 +
              ib2) *
                 w->icb +
             i) *
            w->ocb);
    }
    default: return 0; /* not reached: wino_geom_init accepts these only */
    }
}

static bool wino_geom_init(wino_geom *w, const dnnl_memory_desc_t *dst,
                           const dnnl_memory_desc_t *src)
{
    if (dst->format_kind != dnnl_format_kind_wino || dst->data_type != dnnl_f32 ||
        src->data_type != dnnl_f32 || src->ndims != 4 || dst->ndims != 4)
        return false;
    dnnl_memory_desc_t oihw;
    if (dnnl_memory_desc_init_by_tag(&oihw, 4, src->dims, dnnl_f32, dnnl_oihw) != dnnl_success ||
        !dnnl_memory_desc_equal(&oihw, src))
        return false;
    const dnnl_wino_desc_t *d = &dst->format_desc.wino_desc;
    w->fmt = d->wino_format;
    w->alpha = d->alpha;
    w->oc = d->oc;
    w->ic = d->ic;
    w->or_oc = (int)src->dims[0];
    w->or_ic = (int)src->dims[1];
    w->ocb = d->oc_block;
    w->icb = d->ic_block;
    w->oc2 = d->oc2_block;
    w->ic2 = d->ic2_block;
    if (d->r != WINO_R || src->dims[2] != WINO_R || src->dims[3] != WINO_R)
        return false;
    if (w->fmt == dnnl_wino_wei_aaOio || w->fmt == dnnl_wino_wei_aaOBiOo) {
        if (w->alpha != 4)
            return false;
        w->g = g_2x3;
    } else if (w->fmt == dnnl_wino_wei_OBaaIBOIio) {
        if (w->alpha != 6)
            return false;
        w->g = g_4x3;
    } else {
        return false;
    }
    if (w->ocb != WINO_OCB || w->icb <= 0 || w->oc2 <= 0 || w->ic2 <= 0 || w->oc % w->ocb ||
        w->ic % w->icb || w->oc < w->or_oc || w->ic < w->or_ic)
        return false;
    if ((w->oc / w->ocb) % w->oc2 ||
        (w->fmt == dnnl_wino_wei_OBaaIBOIio && (w->ic / w->icb) % w->ic2))
        return false;
    return d->size == (size_t)w->alpha * w->alpha * w->oc * w->ic * sizeof(float);
}

/* One block of WINO_OCB output channels, every input channel. */
static void wino_block(const wino_geom *w, const float *src, float *dst, int ob)
{
    const int A = w->alpha;
    const size_t per_oc = (size_t)w->or_ic * WINO_R * WINO_R;
    float x[WINO_R * WINO_R][WINO_OCB];
    float t[WINO_R][WINO_MAX_ALPHA][WINO_OCB];
    for (int ic = 0; ic < w->ic; ic++) {
        /* the block's filters for ic, channels innermost (0 past the weights) */
        for (int o = 0; o < WINO_OCB; o++) {
            int oc = ob * WINO_OCB + o;
            if (oc < w->or_oc && ic < w->or_ic) {
                const float *f = src + (size_t)oc * per_oc + (size_t)ic * WINO_R * WINO_R;
                for (int k = 0; k < WINO_R * WINO_R; k++)
                    x[k][o] = f[k];
            } else {
                for (int k = 0; k < WINO_R * WINO_R; k++)
                    x[k][o] = 0.0f;
            }
        }
        for (int h = 0; h < WINO_R; h++)
            for (int j = 0; j < A; j++) {
                const float g0 = w->g[j][0], g1 = w->g[j][1], g2 = w->g[j][2];
                const float *x0 = x[h * WINO_R], *x1 = x[h * WINO_R + 1], *x2 = x[h * WINO_R + 2];
                float *tj = t[h][j];
                for (int o = 0; o < WINO_OCB; o++) {
                    float v = 0.0f;
                    v += x0[o] * g0;
                    v += x1[o] * g1;
                    v += x2[o] * g2;
                    tj[o] = v;
                }
            }
        for (int i = 0; i < A; i++) {
            const float g0 = w->g[i][0], g1 = w->g[i][1], g2 = w->g[i][2];
            for (int j = 0; j < A; j++) {
                float *u = dst + wino_offset(w, ob, ic, i, j);
                const float *t0 = t[0][j], *t1 = t[1][j], *t2 = t[2][j];
                for (int o = 0; o < WINO_OCB; o++) {
                    float v = 0.0f;
                    v += g0 * t0[o];
                    v += g1 * t1[o];
                    v += g2 * t2[o];
                    u[o] = v;
                }
            }
        }
    }
}

bool ortc_dnnl_wino_pack(const dnnl_memory_desc_t *dst_md, const dnnl_memory_desc_t *src_md,
                         const void *src, void *dst, int threads)
{
    wino_geom w;
    if (!src || !dst || !wino_geom_init(&w, dst_md, src_md))
        return false;
    int nb_oc = w.oc / WINO_OCB;
    if (threads < 1)
        threads = 1;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int ob = 0; ob < nb_oc; ob++)
        wino_block(&w, src, dst, ob);
    return true;
}
