/* pool_ref.h — the plain-C reference pooling kernels (average pooling over
 * a window, global average pooling), accumulating in double. Max pooling's
 * reference lives in pool.c beside its dtype dispatch. Never allocates,
 * prints or fails.
 */
#ifndef ORTC_POOL_REF_H
#define ORTC_POOL_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "window.h"

// x: (N, C, D, H, W)  out: (N, C, oD, oH, oW). Divisor: the window's input
// elements, or with count_include_pad also its pad elements inside
// [-pad_begin, in + pad_end) (a ceil_mode overhang past that never counts).
void ortc_ref_avgpool_forward(float *out, const float *x, const ortc_window *g,
                              bool count_include_pad);

// x: (NC, S)  out: (NC): mean over S
void ortc_ref_global_avgpool_forward(float *out, const float *x, int64_t nc, int64_t s);

#endif /* ORTC_POOL_REF_H */
