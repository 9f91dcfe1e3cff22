/* eltwise_ref.h — plain-C kernels for the unary and activation operators of
 * eltwise.c: the reference oracle for their oneDNN paths and the only path
 * for float64, integers and the ops oneDNN lacks. Kernels take raw arrays,
 * output first; they never allocate, print or fail (callers check dtypes).
 * Private to operators/.
 */
#ifndef ORTC_ELTWISE_REF_H
#define ORTC_ELTWISE_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "operator.h"
#include "broadcast.h"

typedef enum ortc_unary_op {
    ORTC_UNARY_RELU,
    ORTC_UNARY_LEAKY_RELU,       /* alpha: negative slope */
    ORTC_UNARY_ELU,              /* alpha */
    ORTC_UNARY_SELU,             /* alpha, gamma */
    ORTC_UNARY_CELU,             /* alpha */
    ORTC_UNARY_THRESHOLDED_RELU, /* alpha: threshold */
    ORTC_UNARY_SIGMOID,
    ORTC_UNARY_HARD_SIGMOID, /* alpha, beta */
    ORTC_UNARY_HARD_SWISH,
    ORTC_UNARY_TANH,
    ORTC_UNARY_SOFTPLUS,
    ORTC_UNARY_SOFTSIGN,
    ORTC_UNARY_SHRINK, /* alpha: lambd, beta: bias */
    ORTC_UNARY_SQRT,
    ORTC_UNARY_EXP,
    ORTC_UNARY_LOG,
    ORTC_UNARY_ABS,
    ORTC_UNARY_NEG,
    ORTC_UNARY_RECIPROCAL,
    ORTC_UNARY_FLOOR,
    ORTC_UNARY_CEIL,
    ORTC_UNARY_ROUND, /* half to even */
    ORTC_UNARY_SIGN,
    ORTC_UNARY_SIN,
    ORTC_UNARY_COS,
    ORTC_UNARY_TAN,
    ORTC_UNARY_ASIN,
    ORTC_UNARY_ACOS,
    ORTC_UNARY_ATAN,
    ORTC_UNARY_SINH,
    ORTC_UNARY_COSH,
    ORTC_UNARY_ASINH,
    ORTC_UNARY_ACOSH,
    ORTC_UNARY_ATANH,
    ORTC_UNARY_ERF,
} ortc_unary_op;

/* The op's attributes (ONNX floats); unused ones are ignored. */
typedef struct ortc_unary_params {
    float alpha, beta, gamma;
} ortc_unary_params;

// x, y: (n); y = op(x), evaluated in double and rounded once to float.
// y may equal x.
void ortc_ref_unary_f32(float *y, const float *x, int64_t n, ortc_unary_op op,
                        const ortc_unary_params *p);
void ortc_ref_unary_f64(double *y, const double *x, int64_t n, ortc_unary_op op,
                        const ortc_unary_params *p);

// x, y: (n) of an integer dtype (int8..int64, uint8..uint64). Defined for
// ABS, NEG (two's complement wrap: -INT_MIN == INT_MIN), SIGN, RELU and
// SHRINK (evaluated in double, truncated toward zero, wrapped to the
// type); any other op copies x.
void ortc_ref_unary_int(void *y, const void *x, int64_t n, ortc_dtype dtype, ortc_unary_op op,
                        const ortc_unary_params *p);

// x, y: (n) of dtype (float, double, int8..int64, uint8..uint64);
// y = min(max(x, *lo), *hi) like numpy's clip (lo > hi gives hi; NaN stays
// NaN). lo/hi point at one element of dtype, or are NULL for no bound.
void ortc_ref_clip(void *y, const void *x, int64_t n, ortc_dtype dtype, const void *lo,
                   const void *hi);

// x, y: bc->dims; slope read through bc's b strides (x is bc's full-size
// a operand). y = x < 0 ? slope * x : x. dtype: float, double, int32,
// int64, uint32, uint64 (integers wrap on overflow).
void ortc_ref_prelu(void *y, const void *x, const void *slope, ortc_dtype dtype,
                    const ortc_bcast *bc);

// x: (n) float or double; y: (n) bool bytes.
void ortc_ref_isnan(uint8_t *y, const void *x, int64_t n, ortc_dtype dtype);
void ortc_ref_isinf(uint8_t *y, const void *x, int64_t n, ortc_dtype dtype, bool negative,
                    bool positive);

#endif /* ORTC_ELTWISE_REF_H */
