/* fft.h — the discrete Fourier transform of one complex sequence, in
 * double precision, for any length n >= 1: an iterative radix-2 FFT when n
 * is a power of two, Bluestein's chirp-z algorithm (a power-of-two
 * convolution) otherwise, so every length costs O(n log n). A plan holds
 * what depends on n only (twiddles, chirp, the chirp filter's transform),
 * built once; running it writes only the caller's buffers, so one plan
 * serves any number of threads. Used by DFT and STFT (dft.c).
 */
#ifndef ORTC_SIGNAL_FFT_H
#define ORTC_SIGNAL_FFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ortc_fft_plan {
    int64_t n;       /* transform length */
    int64_t m;       /* length of the power-of-two FFT inside (n itself when n is one) */
    bool bluestein;  /* n is not a power of two */
    double *twiddle; /* m/2 complex exp(-2 pi i k / m), interleaved re, im; the
                      * block the plan allocates, chirp and filter in it */
    double *chirp;   /* bluestein: n complex exp(-pi i k^2 / n) */
    double *filter;  /* bluestein: m complex, the FFT of the conjugate chirp filter */
} ortc_fft_plan;

/* Builds the plan for length n (1 <= n <= 2^40). 0, or -1 when out of
 * memory or n is out of range (the plan is then empty; freeing it is
 * safe). */
int ortc_fft_plan_init(ortc_fft_plan *p, int64_t n);
/* Frees what init allocated and zeroes p. NULL or a zeroed plan: no-op. */
void ortc_fft_plan_free(ortc_fft_plan *p);

/* Doubles of work space ortc_fft_run needs (0 for powers of two). */
size_t ortc_fft_work_doubles(const ortc_fft_plan *p);

// x: (n) complex, interleaved re, im; transformed in place. work: ortc_fft_work_doubles(p).
/* Forward: X[k] = sum_j x[j] exp(-2 pi i jk / n). Inverse: the conjugate
 * kernel divided by n (numpy.fft.ifft's convention). */
void ortc_fft_run(const ortc_fft_plan *p, double *x, bool inverse, double *work);

#endif /* ORTC_SIGNAL_FFT_H */
