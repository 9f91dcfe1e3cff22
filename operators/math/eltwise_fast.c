/* eltwise_fast.c — float32 kernels for element-wise work oneDNN does
 * slowly (eltwise_fast.h): AVX-512 where the CPU has it (as conv_wino5.c: a
 * target attribute and a run-time check), else the same formula per
 * element; one block of elements per thread (fast_run). Erf is ConvNeXt's
 * and ViT's GELU (x/sqrt2 -> Erf), where the reference kernel (erf() in
 * double per element, one thread) took about 30% of convnext_tiny's run;
 * GELU ends a MatMul/Gemm (gemm.c) and swish a Conv (conv.c) where these
 * beat oneDNN 2.6's fused post-ops.
 */
#include "eltwise_fast.h"

#include <math.h>
#include <omp.h>
#include <stdbool.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FAST_X86 1
#include <immintrin.h>
#else
#define FAST_X86 0
#endif

/* erf in double from two polynomials fitted here (Chebyshev least squares
 * against erf() at 4001/8001 Chebyshev points, converted to powers):
 * |x| < 1: x * P(x^2), relative error below 1e-12; 1 <= |x| < 4:
 * Q((|x| - 2.5) / 1.5), absolute error below 1e-9 (checked on a grid of
 * 200001/300001 points); from 4 on, erf(x) rounds to +-1 in float. So the
 * result is the float rounding of erf(x) but where erf(x) lies within 1e-9
 * of a rounding boundary (then one ulp off). */
static const double erf_p[] = {
    1.1283791670947365,     -0.37612638889889283,    0.11283791313858152,
    -0.026866133652788622,  0.0052237851136813455,   -0.00085426728762635635,
    0.00011956974831464829, -1.3911879163715699e-05, 1.0595737026606487e-06,
};
static const double erf_q[] = {
    0.99959304785827396,    0.0032674177550766348,  -0.012252828387657601,  0.028181964780557112,
    -0.043651326948549674,  0.046447836276580064,   -0.031870754803367082,  0.0093038736412868993,
    0.0066500564824531786,  -0.0097424838129458232, 0.0046359442364797641,  0.00067092360969885859,
    -0.0019913972526000899, 0.00067389276157756527, 0.00023024463490822747, -0.00015382969228710364,
    7.4030570538276472e-06,
};

enum { ERF_NP = sizeof erf_p / sizeof *erf_p, ERF_NQ = sizeof erf_q / sizeof *erf_q };

static float erf_one(float xf)
{
    double v = xf, a = v < 0 ? -v : v, s = v * v;
    double p = erf_p[ERF_NP - 1];
    for (int k = ERF_NP - 2; k >= 0; k--)
        p = p * s + erf_p[k];
    double u = ((a < 4.0 ? a : 4.0) - 2.5) * (1.0 / 1.5);
    double q = erf_q[ERF_NQ - 1];
    for (int k = ERF_NQ - 2; k >= 0; k--)
        q = q * u + erf_q[k];
    q = a >= 4.0 ? 1.0 : q;
    q = v < 0 ? -q : q;
    /* NaN fails both comparisons and stays itself */
    return (float)(a < 1.0 ? v * p : a >= 1.0 ? q : v);
}

#if FAST_X86
#define FAST_TARGET __attribute__((target("avx512f")))

/* erf_one on 8 lanes */
static inline FAST_TARGET __m512d erf8(__m512d v)
{
    const __m512d one = _mm512_set1_pd(1.0), four = _mm512_set1_pd(4.0);
    __m512d a = _mm512_abs_pd(v), s = _mm512_mul_pd(v, v);
    __m512d p = _mm512_set1_pd(erf_p[ERF_NP - 1]);
    for (int k = ERF_NP - 2; k >= 0; k--)
        p = _mm512_fmadd_pd(p, s, _mm512_set1_pd(erf_p[k]));
    p = _mm512_mul_pd(p, v);
    /* min(a, 4): a NaN a gives 4 (a finite q, not used) */
    __m512d u = _mm512_mul_pd(_mm512_sub_pd(_mm512_min_pd(a, four), _mm512_set1_pd(2.5)),
                              _mm512_set1_pd(1.0 / 1.5));
    __m512d q = _mm512_set1_pd(erf_q[ERF_NQ - 1]);
    for (int k = ERF_NQ - 2; k >= 0; k--)
        q = _mm512_fmadd_pd(q, u, _mm512_set1_pd(erf_q[k]));
    q = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, four, _CMP_GE_OQ), q, one);
    const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ull);
    q = _mm512_castsi512_pd(
        _mm512_or_si512(_mm512_castpd_si512(q), _mm512_and_si512(_mm512_castpd_si512(v), sign)));
    __m512d r = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, one, _CMP_GE_OQ), v, q);
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, one, _CMP_LT_OQ), r, p);
}

static FAST_TARGET void erf_block_avx512(float *y, const float *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) { /* two independent halves */
        __m512d lo = erf8(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
        __m512d hi = erf8(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
        _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(lo));
        _mm256_storeu_ps(y + i + 8, _mm512_cvtpd_ps(hi));
    }
    for (; i < n; i++)
        y[i] = erf_one(x[i]);
}
#endif

/* y = f(x) over n elements, split in blocks of 16 over `threads` (one
 * thread below 16384 elements): by `block` (16 lanes at a time) where the
 * CPU has AVX-512 and block is not NULL, else by `one` per element. */
typedef void (*fast_block_fn)(float *y, const float *x, int64_t n);
static void fast_run(float *y, const float *x, int64_t n, int threads, fast_block_fn block,
                     float (*one)(float))
{
#if FAST_X86
    if (!__builtin_cpu_supports("avx512f"))
        block = NULL;
#else
    block = NULL;
#endif
    if (threads < 1 || n < 16384)
        threads = 1;
#pragma omp parallel num_threads(threads)
    {
        int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t per = ((n + nt - 1) / nt + 15) & ~(int64_t)15;
        int64_t i0 = t * per, i1 = i0 + per < n ? i0 + per : n;
        if (i0 < i1 && block)
            block(y + i0, x + i0, i1 - i0);
        for (int64_t i = i0; !block && i < i1; i++)
            y[i] = one(x[i]);
    }
}

#if FAST_X86
#define FAST_AVX512(f) f
#else
#define FAST_AVX512(f) NULL
#endif

void ortc_fast_erf_f32(float *y, const float *x, int64_t n, int threads)
{
    fast_run(y, x, n, threads, FAST_AVX512(erf_block_avx512), erf_one);
}

/* ---- GELU in float ------------------------------------------------------ */

/* erf(x / sqrt 2) in float, from two polynomials fitted here (Chebyshev
 * least squares against erf() in double at 8001 Chebyshev points,
 * converted to powers, rounded to float): |x| < sqrt 2: x * G(x^2);
 * sqrt 2 <= |x| < 4 sqrt 2: H(|x| * 2 / (3 sqrt 2) - 5/3) with x's sign;
 * beyond, +-1. Evaluated in float with fused multiply-adds: within 1.8e-7
 * (absolute) of erf in double, and GELU within 1.4e-7 |x| (checked on grids
 * of 200001-400001 points over [-8, 8]; oneDNN's gelu_erf approximation
 * has erf within 1.5e-7). */
static const float gelu_g[] = {
    0.797884549f, -0.132979968f, 0.0199418059f, -0.00236235446f, 0.000218076983f, -1.25880762e-05f,
};
static const float gelu_h[] = {
    0.999593079f,   0.00326696896f, -0.0122559081f,  0.0281958455f,  -0.043602196f,
    0.0463220683f,  -0.032164326f,  0.00981079119f,  0.00748362597f, -0.0107976606f,
    0.00342609974f, 0.0018515676f,  -0.00113001805f,
};
enum {
    GELU_NG = sizeof gelu_g / sizeof *gelu_g,
    GELU_NH = sizeof gelu_h / sizeof *gelu_h,
};
#define GELU_LO 1.41421356f  /* sqrt 2: G below, H above */
#define GELU_HI 5.65685425f  /* 4 sqrt 2: erf(4) is 1 in float */
#define GELU_US 0.471404521f /* H's variable: |x| * 2 / (3 sqrt 2) - 5/3 */
#define GELU_UO -1.66666667f

static float gelu_one(float x)
{
    float hx = 0.5f * x, a = fabsf(x), s = x * x;
    float g = gelu_g[GELU_NG - 1];
    for (int k = GELU_NG - 2; k >= 0; k--)
        g = fmaf(g, s, gelu_g[k]);
    float u = fmaf(a < GELU_HI ? a : GELU_HI, GELU_US, GELU_UO);
    float h = gelu_h[GELU_NH - 1];
    for (int k = GELU_NH - 2; k >= 0; k--)
        h = fmaf(h, u, gelu_h[k]);
    h = copysignf(a >= GELU_HI ? 1.0f : h, x);
    float e = a < GELU_LO ? x * g : h;
    return fmaf(hx, e, hx); /* NaN: hx is NaN */
}

#if FAST_X86
/* gelu_one on 16 lanes */
static inline FAST_TARGET __m512 gelu16(__m512 x)
{
    __m512 hx = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
    __m512 a = _mm512_abs_ps(x), s = _mm512_mul_ps(x, x);
    __m512 g = _mm512_set1_ps(gelu_g[GELU_NG - 1]);
#pragma GCC unroll 16
    for (int k = GELU_NG - 2; k >= 0; k--)
        g = _mm512_fmadd_ps(g, s, _mm512_set1_ps(gelu_g[k]));
    g = _mm512_mul_ps(g, x);
    /* min(a, HI): a NaN a gives HI (a finite h; hx carries the NaN) */
    __m512 u = _mm512_fmadd_ps(_mm512_min_ps(a, _mm512_set1_ps(GELU_HI)), _mm512_set1_ps(GELU_US),
                               _mm512_set1_ps(GELU_UO));
    __m512 h = _mm512_set1_ps(gelu_h[GELU_NH - 1]);
#pragma GCC unroll 16
    for (int k = GELU_NH - 2; k >= 0; k--)
        h = _mm512_fmadd_ps(h, u, _mm512_set1_ps(gelu_h[k]));
    h = _mm512_mask_mov_ps(h, _mm512_cmp_ps_mask(a, _mm512_set1_ps(GELU_HI), _CMP_GE_OQ),
                           _mm512_set1_ps(1.0f));
    /* h | (x & sign): h is positive, so x's sign */
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    h = _mm512_castsi512_ps(
        _mm512_ternarylogic_epi32(_mm512_castps_si512(h), _mm512_castps_si512(x), sign, 0xF8));
    __m512 e = _mm512_mask_mov_ps(h, _mm512_cmp_ps_mask(a, _mm512_set1_ps(GELU_LO), _CMP_LT_OQ), g);
    return _mm512_fmadd_ps(hx, e, hx);
}

static FAST_TARGET void gelu_block_avx512(float *y, const float *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) { /* two independent chains */
        __m512 lo = gelu16(_mm512_loadu_ps(x + i)), hi = gelu16(_mm512_loadu_ps(x + i + 16));
        _mm512_storeu_ps(y + i, lo);
        _mm512_storeu_ps(y + i + 16, hi);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, gelu16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, m, gelu16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#endif

void ortc_fast_gelu_f32(float *y, const float *x, int64_t n, int threads)
{
    fast_run(y, x, n, threads, FAST_AVX512(gelu_block_avx512), gelu_one);
}

/* ---- swish (SiLU): x * sigmoid(x) = x / (1 + e^-x) ------------------------ */

static float swish_one(float x)
{
    return x < -88.0f ? 0.0f : x / (1.0f + expf(-x));
}

#if FAST_X86
/* e^-x with -x clamped to [-87, 87] (e^87 < FLT_MAX): -x = k ln 2 + r,
 * |r| <= ln 2 / 2 (ln 2 split in two for an exact k ln 2), e^r by its
 * Taylor series to r^6 (truncation below 1.2e-7 relative), times 2^k by
 * vscalefps; then x times the reciprocal of 1 + e^-x from vrcp14ps and one
 * Newton step (relative error about 1e-8) instead of a division, whose
 * 16-lane form issues once per 10 or more cycles. A NaN x stays NaN (the
 * clamp turns it into a number, x * it is NaN); x below -88 (-inf too)
 * gives 0, where the true value is below 1e-36 in magnitude. */
static inline FAST_TARGET __m512 swish16(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 a = _mm512_sub_ps(_mm512_setzero_ps(), x);
    a = _mm512_min_ps(_mm512_max_ps(a, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(87.0f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(a, _mm512_set1_ps(1.44269504f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145752f), a);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860677e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, one);
    p = _mm512_fmadd_ps(p, r, one);
    __m512 d = _mm512_add_ps(one, _mm512_scalef_ps(p, k));
    __m512 rc = _mm512_rcp14_ps(d);
    rc = _mm512_mul_ps(rc, _mm512_fnmadd_ps(d, rc, _mm512_set1_ps(2.0f)));
    /* below -88 the result is below 1e-36 in magnitude: 0 (also for -inf) */
    __mmask16 tiny = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-88.0f), _CMP_LT_OQ);
    return _mm512_maskz_mul_ps((__mmask16)~tiny, x, rc);
}

static FAST_TARGET void swish_block_avx512(float *y, const float *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, swish16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, swish16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}
#endif

void ortc_fast_swish_f32(float *y, const float *x, int64_t n, int threads)
{
    fast_run(y, x, n, threads, FAST_AVX512(swish_block_avx512), swish_one);
}
