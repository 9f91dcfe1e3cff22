/* conv_ref.h — the plain-C reference convolution: a direct loop over the
 * ONNX definition, accumulating in double; the oracle in tests, the kernel
 * of `--reference` runs and of cases oneDNN cannot express. Never
 * allocates, prints or fails.
 */
#ifndef ORTC_CONV_REF_H
#define ORTC_CONV_REF_H

#include "window.h"

// x: (N, C, D, H, W)  w: (M, C/group, kD, kH, kW)  bias: (M) or NULL
// out: (N, M, oD, oH, oW); zero padding
void ortc_ref_conv_forward(float *out, const float *x, const float *w, const float *bias,
                           const ortc_window *g, int64_t m, int64_t group);

#endif /* ORTC_CONV_REF_H */
