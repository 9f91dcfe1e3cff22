/* gemm_ref.h — the plain-C reference Gemm and MatMul, accumulating in
 * double. Never allocates, prints or fails.
 */
#ifndef ORTC_GEMM_REF_H
#define ORTC_GEMM_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "broadcast.h"

// a: (M, K), or (K, M) if trans_a   b: (K, N), or (N, K) if trans_b
// cm: NULL or C read at cm[i * c_stride[0] + j * c_stride[1]] (0 strides
// broadcast)   y: (M, N) = alpha * A' B' + beta * C (C skipped if beta == 0)
void ortc_ref_gemm_forward(float *y, const float *a, const float *b, const float *cm,
                           const int64_t c_stride[2], int64_t m, int64_t n, int64_t k, bool trans_a,
                           bool trans_b, float alpha, float beta);

// a: (batch..., M, K)  b: (batch..., K, N)  y: (batch..., M, N); batch
// broadcasting by bc, whose strides count whole matrices
void ortc_ref_matmul_forward(float *y, const float *a, const float *b, const ortc_bcast *bc,
                             int64_t m, int64_t k, int64_t n);

#endif /* ORTC_GEMM_REF_H */
