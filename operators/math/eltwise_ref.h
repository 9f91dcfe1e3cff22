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

/* The op's attributes (ONNX floats); unused ones are ignored. */
typedef struct ortc_unary_params {
    float alpha, beta, gamma;
} ortc_unary_params;

/* A unary formula (eltwise.c's table): in double for floats, in 64-bit
 * two's complement for signed and unsigned integers. */
typedef double (*ortc_unary_fn)(double x, const ortc_unary_params *p);
typedef int64_t (*ortc_unary_s64_fn)(int64_t x, const ortc_unary_params *p);
typedef uint64_t (*ortc_unary_u64_fn)(uint64_t x, const ortc_unary_params *p);

// x, y: (n); y = f(x), evaluated in double and rounded once to float.
// y may equal x.
void ortc_ref_unary_f32(float *y, const float *x, int64_t n, ortc_unary_fn f,
                        const ortc_unary_params *p);
void ortc_ref_unary_f64(double *y, const double *x, int64_t n, ortc_unary_fn f,
                        const ortc_unary_params *p);

// x, y: (n) of an integer dtype (int8..int64, uint8..uint64); y = fs(x)
// for signed and fu(x) for unsigned types, wrapped to the type; a NULL
// formula copies x.
void ortc_ref_unary_int(void *y, const void *x, int64_t n, ortc_dtype dtype, ortc_unary_s64_fn fs,
                        ortc_unary_u64_fn fu, const ortc_unary_params *p);

/* Truncates toward zero, saturating at the int64 range (NaN gives 0). */
int64_t ortc_trunc_i64(double v);

/* eltwise.c: the float formula of the element-wise op that becomes post-op
 * `kind` when fused (NULL for clip and sum, which are not unary formulas). */
ortc_unary_fn ortc_eltwise_post_op_formula(ortc_post_op_kind kind);

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
