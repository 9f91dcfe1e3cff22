/* lrn_ref.h — the plain-C reference LRN, accumulating in double. Never
 * allocates, prints or fails.
 */
#ifndef ORTC_LRN_REF_H
#define ORTC_LRN_REF_H

#include <stdint.h>

// x: (N, C, S)  out: (N, C, S); channel window [c - floor((size-1)/2),
// c + ceil((size-1)/2)] clipped to [0, C), sum of squares scaled by alpha/size
void ortc_ref_lrn_forward(float *out, const float *x, int64_t n, int64_t c, int64_t s, int64_t size,
                          float alpha, float beta, float bias);

#endif /* ORTC_LRN_REF_H */
