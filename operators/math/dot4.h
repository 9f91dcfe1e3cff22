/* dot4.h — four dot products that share one operand, for the plain-C
 * matrix-vector kernels (gemm.c's fc_gemv: four weight rows against one
 * input row; conv.c's conv_gemv: four input rows against one weight row).
 * Each element of the shared operand is loaded once per four products.
 */
#ifndef ORTC_DOT4_H
#define ORTC_DOT4_H

#include <stdint.h>

/* s[j] = sum over i < k of p_j[i] * q[i], j = 0..3 */
static inline void ortc_dot4_f32(const float *p0, const float *p1, const float *p2, const float *p3,
                                 const float *q, int64_t k, float s[4])
{
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t i = 0; i < k; i++) {
        s0 += p0[i] * q[i];
        s1 += p1[i] * q[i];
        s2 += p2[i] * q[i];
        s3 += p3[i] * q[i];
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

#endif
