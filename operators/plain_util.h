/* plain_util.h — small helpers shared by the plain-C operator families
 * (shape.c, tensor.c): copying a tensor's bytes, rank limits, reading
 * integer-list inputs, and float16/bfloat16 bit conversions. No kernels.
 */
#ifndef ORTC_PLAIN_UTIL_H
#define ORTC_PLAIN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "operator.h"

/* The since_version of the operator resolved for this node (the model's
 * opset when none is set yet). */
int ortc_plain_version(const ortc_opctx *c);

/* memcpy(dst, src, bytes) unless the pointers are equal (the output is a
 * view of the input) or bytes is 0 (data may then be NULL). */
void ortc_plain_copy(void *dst, const void *src, size_t bytes);

/* Error (UNSUPPORTED) unless rank <= ORTC_MAX_RANK; `what` names the result,
 * e.g. "output". */
ortc_status ortc_plain_check_rank(ortc_opctx *c, int rank, const char *what);

/* Error unless input i is present and its dtype is a real element type
 * (not UNDEFINED). Any dtype is accepted otherwise. */
ortc_status ortc_plain_check_known(ortc_opctx *c, int i);

/* Reads an int64 list input (Reshape's shape, Squeeze's axes, ...): must be
 * an INT64 tensor of rank 0 or 1 (rank 1 only when `vector_only`) with at
 * most `max` elements whose data is known at infer time. On success
 * vals[0..*n) holds the values. Errors name input i and `what`. */
ortc_status ortc_plain_read_ints(ortc_opctx *c, int i, const char *what, int vector_only,
                                 int64_t *vals, int max, int *n);

/* IEEE binary16 and bfloat16 <-> float/double. Encoding rounds to nearest,
 * ties to even, overflows to infinity, keeps NaN a (quiet) NaN and the sign
 * of zero. Decoding is exact. */
uint16_t ortc_f16_from_double(double x);
uint16_t ortc_bf16_from_double(double x);
float ortc_f16_to_float(uint16_t h);
float ortc_bf16_to_float(uint16_t h);

/* Element i of a float32 or float64 array as double, and back (rounded
 * once to float32): for kernels that compute either dtype in double. */
static inline double ortc_load_real(const void *x, ortc_dtype t, int64_t i)
{
    return t == ORTC_DTYPE_FLOAT ? ((const float *)x)[i] : ((const double *)x)[i];
}

static inline void ortc_store_real(void *y, ortc_dtype t, int64_t i, double v)
{
    if (t == ORTC_DTYPE_FLOAT)
        ((float *)y)[i] = (float)v;
    else
        ((double *)y)[i] = v;
}

#endif /* ORTC_PLAIN_UTIL_H */
