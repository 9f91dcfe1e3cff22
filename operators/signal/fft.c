/* fft.c — radix-2 and Bluestein FFTs in double precision (see fft.h).
 * Plans are built once; runs allocate nothing.
 */
#include "fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_pow2(int64_t n)
{
    return n > 0 && (n & (n - 1)) == 0;
}

int ortc_fft_plan_init(ortc_fft_plan *p, int64_t n)
{
    memset(p, 0, sizeof *p);
    if (n < 1 || n > ((int64_t)1 << 40))
        return -1;
    p->n = n;
    p->bluestein = !is_pow2(n);
    int64_t m = 1;
    if (p->bluestein)
        while (m < 2 * n - 1)
            m <<= 1;
    else
        m = n;
    p->m = m;
    /* every table in one block: the twiddles, then for Bluestein the chirp
     * and the filter (zeroed) */
    size_t n_twiddle = (size_t)(m / 2 + 1) * 2;
    p->twiddle = calloc(n_twiddle + (p->bluestein ? (size_t)(n + m) * 2 : 0), sizeof *p->twiddle);
    if (!p->twiddle) {
        memset(p, 0, sizeof *p);
        return -1;
    }
    /* twiddles exp(-2 pi i k / m), k < m/2; each from its own angle, so
     * their error does not grow with k */
    for (int64_t k = 0; k < m / 2; k++) {
        double a = -2.0 * M_PI * (double)k / (double)m;
        p->twiddle[2 * k] = cos(a);
        p->twiddle[2 * k + 1] = sin(a);
    }
    if (!p->bluestein)
        return 0;
    /* chirp w[k] = exp(-pi i k^2 / n); k^2 is taken modulo 2n first, so the
     * angle stays small and exact for every k */
    p->chirp = p->twiddle + n_twiddle;
    p->filter = p->chirp + 2 * n;
    for (int64_t k = 0; k < n; k++) {
        uint64_t k2 = ((uint64_t)k * (uint64_t)k) % (uint64_t)(2 * n);
        double a = -M_PI * (double)k2 / (double)n;
        p->chirp[2 * k] = cos(a);
        p->chirp[2 * k + 1] = sin(a);
    }
    /* the filter b[k] = conj(w[|k|]) on -(n-1)..n-1, wrapped around m */
    for (int64_t k = 0; k < n; k++) {
        p->filter[2 * k] = p->chirp[2 * k];
        p->filter[2 * k + 1] = -p->chirp[2 * k + 1];
        if (k > 0) {
            p->filter[2 * (m - k)] = p->chirp[2 * k];
            p->filter[2 * (m - k) + 1] = -p->chirp[2 * k + 1];
        }
    }
    /* transformed once: the radix-2 part of this plan serves */
    ortc_fft_plan inner = {.n = m, .m = m, .bluestein = false, .twiddle = p->twiddle};
    ortc_fft_run(&inner, p->filter, false, NULL);
    return 0;
}

void ortc_fft_plan_free(ortc_fft_plan *p)
{
    if (!p)
        return;
    free(p->twiddle); /* the one block, chirp and filter included */
    memset(p, 0, sizeof *p);
}

size_t ortc_fft_work_doubles(const ortc_fft_plan *p)
{
    return p->bluestein ? (size_t)p->m * 2 : 0;
}

// x: (m) complex, forward transform in place (m a power of two, twiddles for m)
static void radix2(double *x, int64_t m, const double *tw)
{
    /* bit-reversal permutation */
    for (int64_t i = 1, j = 0; i < m; i++) {
        int64_t bit = m >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j |= bit;
        if (i < j) {
            double tr = x[2 * i], ti = x[2 * i + 1];
            x[2 * i] = x[2 * j];
            x[2 * i + 1] = x[2 * j + 1];
            x[2 * j] = tr;
            x[2 * j + 1] = ti;
        }
    }
    /* butterflies: spans of len, twiddle stride m / len */
    for (int64_t len = 2; len <= m; len <<= 1) {
        int64_t half = len / 2, stride = m / len;
        for (int64_t s = 0; s < m; s += len)
            for (int64_t k = 0; k < half; k++) {
                double wr = tw[2 * k * stride], wi = tw[2 * k * stride + 1];
                double *a = x + 2 * (s + k), *b = x + 2 * (s + k + half);
                double br = b[0] * wr - b[1] * wi, bi = b[0] * wi + b[1] * wr;
                b[0] = a[0] - br;
                b[1] = a[1] - bi;
                a[0] += br;
                a[1] += bi;
            }
    }
}

static void conjugate(double *x, int64_t n)
{
    for (int64_t k = 0; k < n; k++)
        x[2 * k + 1] = -x[2 * k + 1];
}

void ortc_fft_run(const ortc_fft_plan *p, double *x, bool inverse, double *work)
{
    int64_t n = p->n, m = p->m;
    /* the inverse is the conjugate of the forward transform of the
     * conjugate, divided by n */
    if (inverse)
        conjugate(x, n);
    if (!p->bluestein) {
        radix2(x, m, p->twiddle);
    } else {
        /* X[k] = w[k] * sum_j (x[j] w[j]) conj(w[k - j]): a convolution of
         * length m done with two power-of-two FFTs */
        const double *w = p->chirp, *f = p->filter;
        for (int64_t k = 0; k < n; k++) {
            work[2 * k] = x[2 * k] * w[2 * k] - x[2 * k + 1] * w[2 * k + 1];
            work[2 * k + 1] = x[2 * k] * w[2 * k + 1] + x[2 * k + 1] * w[2 * k];
        }
        memset(work + 2 * n, 0, (size_t)(m - n) * 2 * sizeof *work);
        radix2(work, m, p->twiddle);
        /* multiply by the filter's transform, conjugated: the inverse FFT of
         * the product is then a forward FFT, conjugated back below */
        for (int64_t k = 0; k < m; k++) {
            double ar = work[2 * k], ai = work[2 * k + 1];
            work[2 * k] = ar * f[2 * k] - ai * f[2 * k + 1];
            work[2 * k + 1] = -(ar * f[2 * k + 1] + ai * f[2 * k]);
        }
        radix2(work, m, p->twiddle);
        double inv_m = 1.0 / (double)m;
        for (int64_t k = 0; k < n; k++) {
            double cr = work[2 * k] * inv_m, ci = -work[2 * k + 1] * inv_m;
            x[2 * k] = cr * w[2 * k] - ci * w[2 * k + 1];
            x[2 * k + 1] = cr * w[2 * k + 1] + ci * w[2 * k];
        }
    }
    if (inverse) {
        double inv_n = 1.0 / (double)n;
        for (int64_t k = 0; k < n; k++) {
            x[2 * k] *= inv_n;
            x[2 * k + 1] *= -inv_n;
        }
    }
}
