/* quant.h — what the quantization operators (operators/quant/) share: the
 * parameters of a quantized tensor (scale and zero point, per tensor or per
 * axis) read from a node's inputs and checked, the element formulas of
 * QuantizeLinear and DequantizeLinear (round half to even, saturation), and
 * the callbacks the family's table (quant.c) lists. No oneDNN here.
 * Private to operators/quant/.
 */
#ifndef ORTC_QUANT_H
#define ORTC_QUANT_H

#include <stdbool.h>
#include <stdint.h>

#include "operator.h"

/* ---- quantization parameters -------------------------------------------- */

/* The scale and zero point of one quantized tensor: one pair for the
 * whole tensor (n == 1) or one per index along `axis`. */
typedef struct ortc_qparam {
    ortc_dtype dtype;   /* the quantized element type: UINT8, INT8 or INT32 */
    int64_t n;          /* 1: per tensor; else per index of `axis` */
    int axis;           /* of the quantized tensor, when n > 1 */
    int scale_in;       /* input slot of the scale */
    int zero_in;        /* input slot of the zero point; -1: none (zero) */
    const float *scale; /* n entries; NULL while the data is unknown */
    const void *zero;   /* n entries of dtype; NULL: zero or unknown */
} ortc_qparam;

/* How many parameters a quantized tensor may have. */
typedef enum ortc_qshape {
    ORTC_Q_TENSOR, /* one pair (a scalar, or any shape of one element) */
    ORTC_Q_AXIS    /* one pair, or a 1-D tensor of the size of the given axis */
} ortc_qshape;

/* Reads the parameters of quantized tensor `x` (its dtype is `dtype`, its
 * shape (rank, dims)): scale from input `scale_in` (float32), zero point
 * from input `zero_in` when present (-1 or an omitted input: zero). With
 * ORTC_Q_AXIS, a 1-D scale of dims[axis] entries is per axis (axis
 * already normalised; -1 when the tensor has no such axis). The zero
 * point must have the dtype and the element count of the scale. `what`
 * names the tensor in messages ("input 'x'"). Data is read when present
 * (ortc_qparam_values); errors name the node, the input and its shape. */
ortc_status ortc_qparam_read(ortc_opctx *c, ortc_qparam *p, ortc_dtype dtype, int rank,
                             const int64_t *dims, ortc_qshape shape, int axis, int scale_in,
                             int zero_in, const char *what);
/* Error unless zero point input zero_in (present) has `dtype`, the type of
 * the quantized tensor `what`. */
ortc_status ortc_qparam_check_zero_type(ortc_opctx *c, int zero_in, ortc_dtype dtype,
                                        const char *what);
/* Binds and checks the values (at run, or at prepare for constants):
 * every scale positive and finite, int32 zero points 0. INVALID_ARGUMENT
 * naming the input and the index otherwise. No-op (OK) while the inputs
 * have no data. */
ortc_status ortc_qparam_values(ortc_opctx *c, ortc_qparam *p);
/* Whether the parameters' data is known (constant or at run). */
bool ortc_qparam_known(const ortc_opctx *c, const ortc_qparam *p);

/* Zero point i as int32 (0 without one). */
static inline int32_t ortc_qparam_zero(const ortc_qparam *p, int64_t i)
{
    if (!p->zero)
        return 0;
    switch (p->dtype) {
    case ORTC_DTYPE_UINT8: return ((const uint8_t *)p->zero)[i];
    case ORTC_DTYPE_INT8: return ((const int8_t *)p->zero)[i];
    case ORTC_DTYPE_INT32: return ((const int32_t *)p->zero)[i];
    default: return 0;
    }
}

/* The range of a quantized type: [0, 255], [-128, 127], int32's. */
int32_t ortc_q_min(ortc_dtype d);
int32_t ortc_q_max(ortc_dtype d);
/* Whether d is UINT8 or INT8. */
bool ortc_q_is_8bit(ortc_dtype d);

/* ---- element formulas (ONNX QuantizeLinear / DequantizeLinear) ---------- */

/* v rounded to the nearest integer, ties to even (as ONNX's QuantizeLinear
 * says), for |v| <= 2^22: adding and removing 1.5 * 2^23 leaves the
 * integer the float unit rounded to under its default mode, which is
 * ties-to-even; vectorises, unlike nearbyintf. */
static inline float ortc_q_round(float v)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    return (v + magic) - magic;
}

/* saturate(round(x / scale) + zero) into [lo, hi]. NaN gives lo; x / scale
 * beyond +-2^22 saturates before rounding (every 8-bit range is far
 * inside). scale > 0 (checked by ortc_qparam_values). */
static inline int32_t ortc_q_quantize(float x, float scale, int32_t zero, int32_t lo, int32_t hi)
{
    float v = x / scale;
    v = v > -4194304.0f ? v : -4194304.0f; /* NaN too */
    v = v < 4194304.0f ? v : 4194304.0f;
    int32_t q = (int32_t)ortc_q_round(v) + zero;
    q = q > lo ? q : lo;
    return q < hi ? q : hi;
}

/* (x - zero) * scale in float32, the difference exact in integers (8-bit
 * x and zero; an int32 x has zero point 0, ortc_qparam_values). */
static inline float ortc_q_dequantize(int32_t x, float scale, int32_t zero)
{
    return (float)(x - zero) * scale;
}

/* ---- kernels shared by the operators --------------------------------------- */

/* y (n x c x inner, dtype p->dtype) = QuantizeLinear(x) with per-axis
 * parameters over the middle dim (c == p->n) or per-tensor ones (c == 1
 * or p->n == 1); x is float32 or int32 (x_dtype). threads > 0. */
void ortc_q_quantize_run(void *y, const void *x, ortc_dtype x_dtype, const ortc_qparam *p,
                         int64_t outer, int64_t c, int64_t inner, int threads);
/* y (float32) = DequantizeLinear(x), shapes as above. */
void ortc_q_dequantize_run(float *y, const void *x, const ortc_qparam *p, int64_t outer, int64_t c,
                           int64_t inner, int threads);

/* ---- the operators' callbacks (quant.c lists them) ---------------------- */

ortc_status ortc_quantize_linear_infer(ortc_opctx *c);
ortc_status ortc_quantize_linear_run(ortc_opctx *c);
ortc_status ortc_dequantize_linear_infer(ortc_opctx *c);
ortc_status ortc_dequantize_linear_run(ortc_opctx *c);
ortc_status ortc_dynamic_quantize_infer(ortc_opctx *c);
ortc_status ortc_dynamic_quantize_run(ortc_opctx *c);
/* qlinear.c: the release of the four below */
void ortc_qlin_release(ortc_opctx *c);
/* qconv.c: QLinearConv and ConvInteger */
ortc_status ortc_qconv_infer(ortc_opctx *c);
ortc_status ortc_qconv_prepare(ortc_opctx *c);
ortc_status ortc_qconv_run(ortc_opctx *c);
ortc_status ortc_qconv_reference(ortc_opctx *c);
double ortc_qconv_flops(const ortc_opctx *c);
/* qmatmul.c: QLinearMatMul and MatMulInteger */
ortc_status ortc_qmatmul_infer(ortc_opctx *c);
ortc_status ortc_qmatmul_prepare(ortc_opctx *c);
ortc_status ortc_qmatmul_run(ortc_opctx *c);
ortc_status ortc_qmatmul_reference(ortc_opctx *c);
double ortc_qmatmul_flops(const ortc_opctx *c);

#endif /* ORTC_QUANT_H */
