/* plain_util.h — small helpers shared by the plain-C operator families
 * (operators/tensor/): copying and filling bytes, dims arithmetic, rank and
 * element-count limits, reading integer-list inputs, errors for shape inputs
 * and float16/bfloat16 bit conversions. No kernels.
 */
#ifndef ORTC_PLAIN_UTIL_H
#define ORTC_PLAIN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "operator.h"

/* The name of node input i ("" when omitted or out of range, i < 0 too). */
const char *ortc_plain_input_name(const ortc_opctx *c, int i);
/* Input i's tensor; NULL when omitted or out of range (i < 0 too). */
const ortc_tensor *ortc_plain_input(const ortc_opctx *c, int i);

/* Whether input i is present. */
bool ortc_plain_has_input(const ortc_opctx *c, int i);

/* Product of dims[from..to) (1 when empty); the dims are concrete. */
int64_t ortc_plain_span(const int64_t *dims, int from, int to);

/* Row-major element strides of dims[0..rank). */
void ortc_plain_dense_strides(int rank, const int64_t *dims, int64_t *strides);

static inline int64_t ortc_plain_clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Writes the zero of dtype at dst: all-zero bytes, or "" for STRING (a
 * static empty string the output borrows). */
void ortc_plain_set_zero(void *dst, ortc_dtype dtype);

// out: (n) elements of `elem` bytes, each a copy of *val (doubling memcpy)
void ortc_plain_fill(char *out, const void *val, int64_t n, size_t elem);

/* The status for a bad value in shape-determining input i: the caller's
 * fault (INVALID_ARGUMENT) when it is a graph input, the model's
 * (INVALID_MODEL) otherwise. */
ortc_status ortc_plain_value_status(const ortc_opctx *c, int i);

/* Error (UNSUPPORTED): the output shape depends on input i's values (`what`),
 * which are only known at run time. */
ortc_status ortc_plain_data_unknown(ortc_opctx *c, int i, const char *what);

/* Reads input i, an int32/int64 (int64 only when `int64_only`) tensor of
 * rank 0 or 1 with at most `max` values known at compile time, into
 * vals[0..*n). Unlike ortc_plain_read_ints it takes int32 and names the
 * input's source when its values are unknown. */
ortc_status ortc_plain_read_int_list(ortc_opctx *c, int i, const char *what, bool int64_only,
                                     int64_t *vals, int max, int *n);

/* Error (LIMIT_EXCEEDED) unless output k's element count is representable. */
ortc_status ortc_plain_check_numel(ortc_opctx *c, int k);

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
