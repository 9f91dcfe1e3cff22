/* qconv_ref.h — the plain-C reference of the integer convolutions
 * (QLinearConv, ConvInteger): exact integer accumulation of
 * (x - x_zero) * (w - w_zero[m]) over ONNX's window (padding contributes
 * nothing: a padded x equals its zero point), each output element then
 * written by the output stage (qlinear.h). Never allocates or fails.
 */
#ifndef ORTC_QCONV_REF_H
#define ORTC_QCONV_REF_H

#include "nn/conv_ref.h" /* ortc_conv_ref_loop */
#include "qlinear.h"

// x: (N, C, D, H, W) of x_dtype (UINT8/INT8)   w: (M, C/group, kD, kH, kW) of w_dtype
// w_zero: per output channel when w_zero->n > 1   y: (N, M, oD, oH, oW) per out
void ortc_ref_qconv_forward(void *y, const ortc_qout *out, const void *x, ortc_dtype x_dtype,
                            int32_t x_zero, const void *w, ortc_dtype w_dtype,
                            const ortc_qparam *w_zero, const ortc_window *g, int64_t m,
                            int64_t group);

#endif /* ORTC_QCONV_REF_H */
