/* eltwise_fast.h — float32 kernels of this project for element-wise ops
 * that oneDNN has no algorithm for, vectorised and split over the
 * threads. The formulas' plain-C reference stays eltwise_ref.c.
 */
#ifndef ORTC_ELTWISE_FAST_H
#define ORTC_ELTWISE_FAST_H

#include <stdint.h>

/* y = f(x) for n floats on `threads` threads; y may be x. */
typedef void (*ortc_fast_f32_fn)(float *y, const float *x, int64_t n, int threads);

/* erf(x): within one float rounding of erf computed in double (the
 * reference), NaN kept, +-1 from |x| >= 4. */
void ortc_fast_erf_f32(float *y, const float *x, int64_t n, int threads);
/* x * sigmoid(x) (swish, SiLU): within a few float roundings of the
 * reference formula for |x| up to 87, where e^-x stays finite; beyond it
 * e^-x is taken at +-87, and x below -88 (-inf too: the reference's NaN)
 * gives 0 (the true value is below 1e-36 in magnitude); NaN kept. */
void ortc_fast_swish_f32(float *y, const float *x, int64_t n, int threads);

/* GELU through erf, 0.5 x (1 + erf(x / sqrt 2)), in float: erf within
 * 2e-7 (absolute) of erf in double, NaN kept; for the MatMul/Gemm outputs
 * whose fused GELU oneDNN computes about twice as slowly (gemm.c). */
void ortc_fast_gelu_f32(float *y, const float *x, int64_t n, int threads);

#endif
