/* conv_wino5.c — F(2x2,5x5) Winograd convolution; see conv_wino5.h.
 *
 * The transforms use the interpolation points 0, 1, -1, 2, -2 and infinity
 * (Toom-Cook; Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016): with 6x6 input tiles d, 5x5 filters g and 2x2 outputs,
 *   Y = A^T [ (G g G^T) . (B^T d B) ] A
 * where . multiplies element-wise and
 *   B^T = [ 4  0 -5  0  1  0 ]   G = [ 1/4    0     0     0    0  ]
 *         [ 0 -4 -4  1  1  0 ]       [ -1/6  -1/6  -1/6  -1/6 -1/6 ]
 *         [ 0  4 -4 -1  1  0 ]       [ -1/6   1/6  -1/6   1/6 -1/6 ]
 *         [ 0 -2 -1  2  1  0 ]       [ 1/24  1/12  1/6   1/3  2/3 ]
 *         [ 0  2 -1 -2  1  0 ]       [ 1/24 -1/12  1/6  -1/3  2/3 ]
 *         [ 0  4  0 -5  0  1 ]       [ 0      0     0     0    1  ]
 *   A^T = [ 1  1  1  1  1  0 ]
 *         [ 0  1 -1  2 -2  1 ]
 * Summed over input channels, the element-wise products become 36
 * independent matrix products (tiles x IC) (IC x OC).
 *
 * Work split: each thread takes a contiguous range of tiles (over the whole
 * batch) and walks it in blocks of at most k->tb tiles. Per block: the
 * input transform into V (36 x tiles x IC, thread scratch), then for each
 * block of 64 output channels the 36 products into M (36 x tiles x 64) by a
 * 6x64 register-blocked kernel, then the output transform (bias and
 * activations fused) straight into y. A block's V and M stay in the core's
 * L2; the transformed weights of one 64-channel block and one of the 36
 * points (IC x 64) stay in L1 while its tiles go by.
 */
#include "conv_wino5.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WINO5_X86 1
#include <immintrin.h>
#else
#define WINO5_X86 0
#endif

#define WINO5_TB 18  /* default tiles per block (a multiple of the kernel's 6 rows) */
#define WINO5_ROWS 6 /* tiles per register block */
#define WINO5_OCB 64 /* output channels per register block (4 vectors) */

bool ortc_wino5_available(void)
{
#if WINO5_X86
    return __builtin_cpu_supports("avx512f");
#else
    return false;
#endif
}

static const double wino5_g[6][5] = {
    {1.0 / 4, 0, 0, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
    {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
    {0, 0, 0, 0, 1},
};

static size_t round64(size_t b)
{
    return (b + 63) & ~(size_t)63;
}

static void wino5_weights(ortc_wino5 *k, const float *w);

bool ortc_wino5_init(ortc_wino5 *k, const float *w, const float *bias)
{
    k->icp = (k->ic + 15) / 16 * 16;
    k->ocb = (k->oc + WINO5_OCB - 1) / WINO5_OCB;
    k->tiles_w = (k->ow + 1) / 2;
    k->tiles = k->n * ((k->oh + 1) / 2) * k->tiles_w;
    if (k->tb <= 0)
        k->tb = WINO5_TB;
    k->tb = (k->tb + WINO5_ROWS - 1) / WINO5_ROWS * WINO5_ROWS;
    k->per_thread = round64((size_t)36 * k->tb * (size_t)k->icp * sizeof(float)) +
                    round64((size_t)36 * k->tb * WINO5_OCB * sizeof(float));
    size_t ubytes = (size_t)k->ocb * 36 * (size_t)k->ic * WINO5_OCB * sizeof(float);
    k->u = aligned_alloc(64, round64(ubytes));
    k->bias = NULL;
    if (!k->u)
        return false;
    if (bias) {
        size_t bb = (size_t)k->ocb * WINO5_OCB * sizeof(float);
        k->bias = aligned_alloc(64, round64(bb));
        if (!k->bias) {
            free(k->u);
            k->u = NULL;
            return false;
        }
        memset(k->bias, 0, bb);
        memcpy(k->bias, bias, (size_t)k->oc * sizeof(float));
    }
    wino5_weights(k, w);
    return true;
}

size_t ortc_wino5_scratch(const ortc_wino5 *k)
{
    return (size_t)k->threads * k->per_thread;
}

void ortc_wino5_free(ortc_wino5 *k)
{
    free(k->u);
    free(k->bias);
    k->u = NULL;
    k->bias = NULL;
}

#if WINO5_X86

#define W5_TARGET __attribute__((target("avx512f")))

/* U = G g G^T for every (o, i), stored [o/64][point][i][o%64]: 16 output
 * channels at a time in vector lanes (oc is a multiple of 16), in float,
 * spread over the threads; the 16-channel slices past oc up to the last 64
 * are zeros. (In double, one pair at a time, this took 6-11 ms of AlexNet's
 * session creation; now 2-4.) This is slice ob (output channels 16 ob ..);
 * its own function so no vector type crosses into an OpenMP region (clang
 * outlines those without the target attribute). */
static W5_TARGET void wino5_weights_slice(ortc_wino5 *k, const float *w, int64_t ob)
{
    float gm[6][5];
    for (int a = 0; a < 6; a++)
        for (int c = 0; c < 5; c++)
            gm[a][c] = (float)wino5_g[a][c];
    const int64_t o0 = ob * 16;
    float *ublk = k->u + (o0 / WINO5_OCB) * 36 * k->ic * WINO5_OCB + o0 % WINO5_OCB;
    if (o0 >= k->oc) {
        for (int64_t p = 0; p < 36 * k->ic; p++)
            _mm512_storeu_ps(ublk + p * WINO5_OCB, _mm512_setzero_ps());
        return;
    }
    const __m512i idx = _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
        _mm512_set1_epi32((int)(k->ic * 25))); /* lane l: output channel o0 + l */
    for (int64_t i = 0; i < k->ic; i++) {
        __m512 g[25], t[6][5];
        const float *wi = w + (o0 * k->ic + i) * 25;
        for (int q = 0; q < 25; q++)
            g[q] = _mm512_i32gather_ps(idx, wi + q, 4);
        for (int a = 0; a < 6; a++) /* t = G g */
            for (int c = 0; c < 5; c++) {
                __m512 acc = _mm512_setzero_ps();
                for (int q = 0; q < 5; q++)
                    acc = _mm512_fmadd_ps(_mm512_set1_ps(gm[a][q]), g[q * 5 + c], acc);
                t[a][c] = acc;
            }
        for (int a = 0; a < 6; a++) /* U = t G^T */
            for (int c = 0; c < 6; c++) {
                __m512 acc = _mm512_setzero_ps();
                for (int q = 0; q < 5; q++)
                    acc = _mm512_fmadd_ps(t[a][q], _mm512_set1_ps(gm[c][q]), acc);
                _mm512_storeu_ps(ublk + ((size_t)(a * 6 + c) * k->ic + i) * WINO5_OCB, acc);
            }
    }
}

static void wino5_weights(ortc_wino5 *k, const float *w)
{
    const int64_t nall = k->ocb * (WINO5_OCB / 16);
#pragma omp parallel for num_threads(k->threads) schedule(static)
    for (int64_t ob = 0; ob < nall; ob++)
        wino5_weights_slice(k, w, ob);
}

/* B^T applied to six vectors (a column or a row of the tile). */
static inline W5_TARGET void bt6(const __m512 d[6], __m512 r[6])
{
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f),
                 two = _mm512_set1_ps(2.0f);
    __m512 a = _mm512_sub_ps(d[4], d[2]);          /* d4 - d2 */
    __m512 b = _mm512_sub_ps(d[3], d[1]);          /* d3 - d1 */
    __m512 p = _mm512_fnmadd_ps(four, d[2], d[4]); /* d4 - 4 d2 */
    __m512 q = _mm512_fnmadd_ps(four, d[1], d[3]); /* d3 - 4 d1 */
    r[0] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[2], _mm512_mul_ps(four, d[0])), d[4]);
    r[1] = _mm512_add_ps(p, q);         /* -4d1 - 4d2 + d3 + d4 */
    r[2] = _mm512_sub_ps(p, q);         /* 4d1 - 4d2 - d3 + d4 */
    r[3] = _mm512_fmadd_ps(two, b, a);  /* -2d1 - d2 + 2d3 + d4 */
    r[4] = _mm512_fnmadd_ps(two, b, a); /* 2d1 - d2 - 2d3 + d4 */
    r[5] = _mm512_add_ps(_mm512_fnmadd_ps(five, d[3], _mm512_mul_ps(four, d[1])), d[5]);
}

/* Input transform of tiles [t0, t0 + nt) into v[36][k->tb][icp]. */
static W5_TARGET void wino5_in(const ortc_wino5 *k, const float *x, float *v, int64_t t0,
                               int64_t nt)
{
    const int64_t tiles_img = k->tiles / k->n;
    const int64_t cvec = k->icp / 16;
    const __mmask16 tail = (__mmask16)((1u << (k->ic - (cvec - 1) * 16)) - 1u);
    for (int64_t j = 0; j < nt; j++) {
        int64_t t = t0 + j, n = t / tiles_img, r = t % tiles_img;
        int64_t y0 = (r / k->tiles_w) * 2 - k->pad_top, x0 = (r % k->tiles_w) * 2 - k->pad_left;
        const float *xn = x + n * k->x.sn;
        for (int64_t cv = 0; cv < cvec; cv++) {
            __mmask16 m = cv == cvec - 1 ? tail : (__mmask16)0xffff;
            const float *xc = xn + cv * k->x.scb;
            __m512 d[6][6], tcol[6][6];
            for (int a = 0; a < 6; a++) {
                int64_t yy = y0 + a;
                bool rowin = yy >= 0 && yy < k->ih;
                for (int b = 0; b < 6; b++) {
                    int64_t xx = x0 + b;
                    d[a][b] = rowin && xx >= 0 && xx < k->iw
                                  ? _mm512_maskz_loadu_ps(m, xc + yy * k->x.sh + xx * k->x.sw)
                                  : _mm512_setzero_ps();
                }
            }
            /* columns: tcol[.][b] = B^T d[.][b] */
            for (int b = 0; b < 6; b++) {
                __m512 col[6], res[6];
                for (int a = 0; a < 6; a++)
                    col[a] = d[a][b];
                bt6(col, res);
                for (int a = 0; a < 6; a++)
                    tcol[a][b] = res[a];
            }
            /* rows: V[a][.] = tcol[a][.] B */
            for (int a = 0; a < 6; a++) {
                __m512 res[6];
                bt6(tcol[a], res);
                for (int b = 0; b < 6; b++)
                    _mm512_store_ps(v + ((size_t)(a * 6 + b) * k->tb + j) * k->icp + cv * 16,
                                    res[b]);
            }
        }
    }
}

/* m[r][0..64) = sum_i v[r][i] * u[i][0..64) for `rows` rows (1..6). */
static inline __attribute__((always_inline)) W5_TARGET void wino5_mk(int rows, const float *v,
                                                                     int64_t ldv, const float *u,
                                                                     int64_t ic, float *m)
{
    __m512 acc[WINO5_ROWS][4];
#pragma GCC unroll 6
    for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            acc[r][q] = _mm512_setzero_ps();
    for (int64_t i = 0; i < ic; i++) {
        const float *ui = u + i * WINO5_OCB;
        __m512 u0 = _mm512_load_ps(ui), u1 = _mm512_load_ps(ui + 16), u2 = _mm512_load_ps(ui + 32),
               u3 = _mm512_load_ps(ui + 48);
#pragma GCC unroll 6
        for (int r = 0; r < rows; r++) {
            __m512 b = _mm512_set1_ps(v[r * ldv + i]);
            acc[r][0] = _mm512_fmadd_ps(b, u0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(b, u1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(b, u2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(b, u3, acc[r][3]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < rows; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            _mm512_store_ps(m + r * WINO5_OCB + q * 16, acc[r][q]);
}

static W5_TARGET void wino5_mk6(const float *v, int64_t ldv, const float *u, int64_t ic, float *m)
{
    wino5_mk(6, v, ldv, u, ic, m);
}

static W5_TARGET void wino5_mk_tail(int rows, const float *v, int64_t ldv, const float *u,
                                    int64_t ic, float *m)
{
    switch (rows) {
    case 1: wino5_mk(1, v, ldv, u, ic, m); break;
    case 2: wino5_mk(2, v, ldv, u, ic, m); break;
    case 3: wino5_mk(3, v, ldv, u, ic, m); break;
    case 4: wino5_mk(4, v, ldv, u, ic, m); break;
    default: wino5_mk(5, v, ldv, u, ic, m); break;
    }
}

static inline W5_TARGET __m512 wino5_act(const ortc_wino5 *k, __m512 y)
{
    for (int i = 0; i < k->n_act; i++) {
        switch (k->act[i].kind) {
        case ORTC_WINO5_RELU: y = _mm512_max_ps(y, _mm512_setzero_ps()); break;
        case ORTC_WINO5_LEAKY_RELU: {
            __mmask16 neg = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ);
            y = _mm512_mask_mul_ps(y, neg, y, _mm512_set1_ps(k->act[i].a));
            break;
        }
        case ORTC_WINO5_CLIP: /* min then max: with min > max every value is max */
            y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(k->act[i].a)),
                              _mm512_set1_ps(k->act[i].b));
            break;
        default: break;
        }
    }
    return y;
}

/* Output transform of tiles [t0, t0 + nt) for channel block ob from
 * m[36][k->tb][64]. */
static W5_TARGET void wino5_out(const ortc_wino5 *k, const float *m, float *y, int64_t t0,
                                int64_t nt, int64_t ob)
{
    const int64_t tiles_img = k->tiles / k->n;
    const int64_t nv = (k->oc - ob * WINO5_OCB) / 16 < 4 ? (k->oc - ob * WINO5_OCB) / 16 : 4;
    const __m512 two = _mm512_set1_ps(2.0f);
    for (int64_t j = 0; j < nt; j++) {
        int64_t t = t0 + j, n = t / tiles_img, r = t % tiles_img;
        int64_t oy = (r / k->tiles_w) * 2, ox = (r % k->tiles_w) * 2;
        for (int64_t q = 0; q < nv; q++) {
            __m512 z[2][6];
            for (int b = 0; b < 6; b++) {
                __m512 e[6];
                for (int a = 0; a < 6; a++)
                    e[a] =
                        _mm512_load_ps(m + ((size_t)(a * 6 + b) * k->tb + j) * WINO5_OCB + q * 16);
                __m512 s12 = _mm512_add_ps(e[1], e[2]), d12 = _mm512_sub_ps(e[1], e[2]);
                __m512 s34 = _mm512_add_ps(e[3], e[4]), d34 = _mm512_sub_ps(e[3], e[4]);
                z[0][b] = _mm512_add_ps(_mm512_add_ps(e[0], s12), s34);
                z[1][b] = _mm512_add_ps(_mm512_fmadd_ps(two, d34, d12), e[5]);
            }
            int64_t ch = ob * WINO5_OCB + q * 16;
            __m512 bias = k->bias ? _mm512_load_ps(k->bias + ch) : _mm512_setzero_ps();
            for (int a = 0; a < 2 && oy + a < k->oh; a++) {
                const __m512 *e = z[a];
                __m512 s12 = _mm512_add_ps(e[1], e[2]), d12 = _mm512_sub_ps(e[1], e[2]);
                __m512 s34 = _mm512_add_ps(e[3], e[4]), d34 = _mm512_sub_ps(e[3], e[4]);
                __m512 out[2];
                out[0] = _mm512_add_ps(_mm512_add_ps(e[0], s12), s34);
                out[1] = _mm512_add_ps(_mm512_fmadd_ps(two, d34, d12), e[5]);
                float *row = y + n * k->y.sn + (ch / 16) * k->y.scb + (oy + a) * k->y.sh;
                for (int b = 0; b < 2 && ox + b < k->ow; b++)
                    _mm512_storeu_ps(row + (ox + b) * k->y.sw,
                                     wino5_act(k, _mm512_add_ps(out[b], bias)));
            }
        }
    }
}

static W5_TARGET void wino5_range(const ortc_wino5 *k, const float *x, float *y, float *v, float *m,
                                  int64_t t0, int64_t t1)
{
    for (int64_t b0 = t0; b0 < t1; b0 += k->tb) {
        /* full blocks of whole register blocks, one shorter block last */
        int64_t nt = t1 - b0 < k->tb ? t1 - b0 : k->tb;
        wino5_in(k, x, v, b0, nt);
        for (int64_t ob = 0; ob < k->ocb; ob++) {
            for (int p = 0; p < 36; p++) {
                const float *u = k->u + ((size_t)ob * 36 + p) * k->ic * WINO5_OCB;
                const float *vp = v + (size_t)p * k->tb * k->icp;
                float *mp = m + (size_t)p * k->tb * WINO5_OCB;
                int64_t r = 0;
                for (; r + WINO5_ROWS <= nt; r += WINO5_ROWS)
                    wino5_mk6(vp + r * k->icp, k->icp, u, k->ic, mp + r * WINO5_OCB);
                if (r < nt)
                    wino5_mk_tail((int)(nt - r), vp + r * k->icp, k->icp, u, k->ic,
                                  mp + r * WINO5_OCB);
            }
            wino5_out(k, m, y, b0, nt, ob);
        }
    }
}

void ortc_wino5_run(const ortc_wino5 *k, const float *x, float *y, void *scratch)
{
#pragma omp parallel num_threads(k->threads)
    {
        int64_t nth = omp_get_num_threads(), th = omp_get_thread_num();
        int64_t t0 = k->tiles * th / nth, t1 = k->tiles * (th + 1) / nth;
        char *mine = (char *)scratch + (size_t)th * k->per_thread;
        float *v = (float *)mine;
        float *m = (float *)(mine + round64((size_t)36 * k->tb * (size_t)k->icp * sizeof(float)));
        if (t0 < t1)
            wino5_range(k, x, y, v, m, t0, t1);
    }
}

#else /* no AVX-512 build: ortc_wino5_available() is false and run is never called */

static void wino5_weights(ortc_wino5 *k, const float *w)
{
    (void)k;
    (void)w;
}

void ortc_wino5_run(const ortc_wino5 *k, const float *x, float *y, void *scratch)
{
    (void)k;
    (void)x;
    (void)y;
    (void)scratch;
}

#endif
