/* qlinear.h — what the integer-accumulating operators share (QLinearConv,
 * ConvInteger, QLinearMatMul, MatMulInteger): the output stage that turns
 * an exact integer accumulator into the output (int32 as is; or the real
 * value acc * x_scale * w_scale + bias, through the node's fused post-ops,
 * then requantized), its plain-C reference and its oneDNN attribute
 * (output scales, source zero point, post-ops, requantization), and the
 * weights folded once for oneDNN: w - w_zero_point as int8.
 *
 * The graph pass (runtime/passes/pass_qdq.c) marks the QLinearConv and
 * QLinearMatMul nodes it makes from DequantizeLinear -> op -> QuantizeLinear
 * groups with the attribute ortc_qdq = 1 (files cannot: the loader refuses
 * ortc_ names). Such a node may have no x/w zero points (zero), no y_scale
 * and y_zero_point (output: the float32 real value), a float32 bias in
 * real units (added after scaling; QLinearMatMul takes it as input 8), and
 * fused post-ops of any element-wise kind, applied to the real value
 * before requantization. Private to operators/quant/.
 */
#ifndef ORTC_QLINEAR_H
#define ORTC_QLINEAR_H

#include <stdbool.h>
#include <stdint.h>

#include "qdnnl.h"
#include "quant.h"

/* Whether c's node carries the graph pass's attribute ortc_qdq = 1. */
bool ortc_q_qdq_mode(const ortc_opctx *c);

/* The output stage. Channel ch indexes w_scale (when w_n > 1) and the bias. */
typedef struct ortc_qout {
    ortc_dtype dtype;      /* INT32: acc; FLOAT: the real value; UINT8/INT8: requantized */
    float x_scale;         /* real = acc * x_scale * w_scale[ch] + bias_f[ch] */
    const float *w_scale;  /* w_n entries */
    int64_t w_n;           /* 1: per tensor */
    const int32_t *bias_i; /* NULL, or added to acc (accumulator units) */
    const float *bias_f;   /* NULL, or added to the real value */
    float y_scale;         /* requantization (dtype UINT8/INT8) */
    int32_t y_zero;
    const ortc_opctx *post; /* NULL, or the context whose node's post-ops apply */
} ortc_qout;

/* Writes output element i of channel ch from its accumulator (plain C:
 * the real value in double, rounded to float32 once, then post-ops in
 * float32 and QuantizeLinear's formula). */
void ortc_qout_store(const ortc_qout *o, void *y, int64_t i, int64_t ch, int64_t acc);

/* Checks the node's fused post-ops: known element-wise kinds, no sum
 * (these operators' input 3 is not a summand). */
ortc_status ortc_q_check_post_ops(ortc_opctx *c);

/* The oneDNN attribute of the output stage: user scratchpad, output scales
 * x_scale * w_scale[ch] (mask over dim `ch_dim` when per channel; none for
 * an INT32 output), source zero point x_zero (when not 0), the node's
 * post-ops and, for a requantized output, a final linear 1 / y_scale +
 * y_zero (the destination's conversion rounds half to even and
 * saturates). The caller destroys *attr. */
ortc_status ortc_qout_attr(ortc_opctx *c, const ortc_qout *o, int32_t x_zero, int ch_dim,
                           int64_t channels, dnnl_primitive_attr_t *attr);
/* The bias for the primitive, in accumulator units (what it adds before
 * the output scales): bias_i as float, or bias_f / (x_scale * w_scale);
 * NULL (OK) without a bias. malloc'd into *out. */
ortc_status ortc_qout_bias(ortc_opctx *c, const ortc_qout *o, int64_t channels, float **out);

/* Weights for oneDNN: int8 w - zero[ch] where ch = (i / inner) % channels
 * (zero: zero_n entries, 1 = per tensor; NULL: 0) for the n elements of
 * w (dtype w_dtype); NULL (OK) in *out when some value leaves int8 (the
 * caller runs the plain-C kernel). malloc'd, 64-byte aligned. */
ortc_status ortc_q_fold_weights(ortc_opctx *c, int8_t **out, const void *w, ortc_dtype w_dtype,
                                int64_t n, const ortc_qparam *zero, int64_t channels,
                                int64_t inner);

#endif /* ORTC_QLINEAR_H */
