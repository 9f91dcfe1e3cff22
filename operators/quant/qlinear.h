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

/* The parameters of one integer-accumulating node: x (QLinearConv's x,
 * QLinearMatMul's a) at inputs 0-2, w (w, b) at 3-5, y at 6-7 and the
 * output type; the integer operators (qlinear false: ConvInteger,
 * MatMulInteger) have x and w zero points only (inputs 2 and 3). */
typedef struct ortc_qlin {
    bool qlinear;
    ortc_qparam x, w, y;
    ortc_dtype ydtype; /* INT32, FLOAT (qdq mode) or the requantized type */
} ortc_qlin;

/* Starts reading c's node into p (zeroed; qlinear when the node is
 * `qlinear_op`; *qdq: its ortc_qdq mode): checks the input count (QLinear*:
 * 8 to max_in, or 5 to 9 in qdq mode; the integer operators: 2 to 4) and
 * that inputs 0, 1, 3 and 4 are present. The two operands: *a = 0, checked
 * against the row's dtypes, and *b = 3 (QLinear*) or 1, int8 or uint8. */
ortc_status ortc_qlin_begin(ortc_opctx *c, ortc_qlin *p, const char *qlinear_op, int max_in,
                            bool *qdq, int *a, int *b);
/* Reads y_scale and y_zero_point (inputs 6, 7) for an output of shape
 * (rank, dims) into p->y and p->ydtype (FLOAT without them, qdq mode). */
ortc_status ortc_qlin_read_output(ortc_opctx *c, ortc_qlin *p, int rank, const int64_t *dims);
/* Binds the parameters' data (run, or prepare for constants). */
ortc_status ortc_qlin_values(ortc_opctx *c, ortc_qlin *p);
/* Whether every parameter's data is known (constant or at run). */
bool ortc_qlin_known(const ortc_opctx *c, const ortc_qlin *p);
/* Whether every input a oneDNN primitive bakes in is known: the weights
 * (input w), the bias (input b; -1: none) and the parameters. */
bool ortc_qlin_constant(const ortc_opctx *c, const ortc_qlin *p, int w, int b);

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

/* The output stage of p with x's scale index x_at (the bias unset). */
ortc_qout ortc_qlin_out(const ortc_opctx *c, const ortc_qlin *p, int64_t x_at);

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

/* Creates the int8 primitive of op_desc (a convolution or matmul
 * descriptor) with output stage o (output scales over dim 1 of `channels`,
 * source zero point x_zero) and binds it to q (ortc_qprim_bind: source
 * input `input` as x_md, weights w_data, ortc_q_fold_weights' result for
 * input w_input, described by w_user, taken over in every case). *use_ref
 * (OK) when oneDNN has no implementation but its reference one, which is
 * no faster than the plain-C kernel. */
ortc_status ortc_qprim_create(ortc_opctx *c, ortc_qprim *q, const void *op_desc, const ortc_qout *o,
                              int32_t x_zero, int64_t channels, int input,
                              const dnnl_memory_desc_t *x_md, int w_input,
                              const dnnl_memory_desc_t *w_user, int8_t *w_data, bool *use_ref,
                              size_t *used);

/* The state of these operators: the int8 primitive, or (use_ref) the
 * plain-C kernel, on plain copies of blocked inputs where there are any. */
typedef struct ortc_qlin_state {
    bool use_ref;
    ortc_dnnl_unblock unblock;
    ortc_qprim prim;
} ortc_qlin_state;

/* run: the primitive, or reference (on unblocked copies). */
ortc_status ortc_qlin_run(ortc_opctx *c, ortc_status (*reference)(ortc_opctx *c));

/* Weights for oneDNN: int8 w - zero[ch] where ch = (i / inner) % channels
 * (zero: zero_n entries, 1 = per tensor; NULL: 0) for the n elements of
 * w (dtype w_dtype); NULL (OK) in *out when some value leaves int8 (the
 * caller runs the plain-C kernel). w itself when that is already so (int8
 * weights, zero points all 0: no copy), else malloc'd, 64-byte aligned;
 * ortc_q_weights_free tells the two apart. */
ortc_status ortc_q_fold_weights(ortc_opctx *c, int8_t **out, const void *w, ortc_dtype w_dtype,
                                int64_t n, const ortc_qparam *zero, int64_t channels,
                                int64_t inner);
/* Frees what ortc_q_fold_weights returned for w (nothing when it is w). */
void ortc_q_weights_free(int8_t *folded, const void *w);

#endif /* ORTC_QLINEAR_H */
