/* eltwise_ref.c — plain-C kernels for the unary and activation operators
 * (see eltwise_ref.h): straight loops over the formulas of eltwise.c's
 * table (floats evaluated in double), Clip, PRelu, IsNaN and IsInf. No
 * attribute parsing or dtype checks here; eltwise.c does those.
 */
#include "eltwise_ref.h"

#include <math.h>
#include <string.h>

#include "op_util.h"

/* ---- unary formulas ------------------------------------------------------ */

void ortc_ref_unary_f32(float *y, const float *x, int64_t n, ortc_unary_fn f,
                        const ortc_unary_params *p)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)f((double)x[i], p);
}

void ortc_ref_unary_f64(double *y, const double *x, int64_t n, ortc_unary_fn f,
                        const ortc_unary_params *p)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = f(x[i], p);
}

int64_t ortc_trunc_i64(double v)
{
    if (!(v == v))
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

#define INT_UNARY_LOOP(T, F)                                                                       \
    do {                                                                                           \
        T *yy = y;                                                                                 \
        const T *xx = x;                                                                           \
        if (!(F)) {                                                                                \
            if (yy != xx && n > 0)                                                                 \
                memcpy(yy, xx, (size_t)n * sizeof(T));                                             \
            break;                                                                                 \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            yy[i] = (T)(F)(xx[i], p);                                                              \
    } while (0)

void ortc_ref_unary_int(void *y, const void *x, int64_t n, ortc_dtype dtype, ortc_unary_s64_fn fs,
                        ortc_unary_u64_fn fu, const ortc_unary_params *p)
{
    switch (dtype) {
    case ORTC_DTYPE_INT8: INT_UNARY_LOOP(int8_t, fs); break;
    case ORTC_DTYPE_INT16: INT_UNARY_LOOP(int16_t, fs); break;
    case ORTC_DTYPE_INT32: INT_UNARY_LOOP(int32_t, fs); break;
    case ORTC_DTYPE_INT64: INT_UNARY_LOOP(int64_t, fs); break;
    case ORTC_DTYPE_UINT8: INT_UNARY_LOOP(uint8_t, fu); break;
    case ORTC_DTYPE_UINT16: INT_UNARY_LOOP(uint16_t, fu); break;
    case ORTC_DTYPE_UINT32: INT_UNARY_LOOP(uint32_t, fu); break;
    case ORTC_DTYPE_UINT64: INT_UNARY_LOOP(uint64_t, fu); break;
    default: break; /* callers check dtypes */
    }
}

/* ---- Clip ------------------------------------------------------------------ */

#define CLIP_LOOP(T)                                                                               \
    do {                                                                                           \
        T *yy = y;                                                                                 \
        const T *xx = x;                                                                           \
        const T *l = lo, *h = hi;                                                                  \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = xx[i];                                                                           \
            if (l && v < *l)                                                                       \
                v = *l;                                                                            \
            if (h && v > *h)                                                                       \
                v = *h;                                                                            \
            yy[i] = v;                                                                             \
        }                                                                                          \
    } while (0)

void ortc_ref_clip(void *y, const void *x, int64_t n, ortc_dtype dtype, const void *lo,
                   const void *hi)
{
    switch (dtype) {
    case ORTC_DTYPE_FLOAT: CLIP_LOOP(float); break;
    case ORTC_DTYPE_DOUBLE: CLIP_LOOP(double); break;
    case ORTC_DTYPE_INT8: CLIP_LOOP(int8_t); break;
    case ORTC_DTYPE_INT16: CLIP_LOOP(int16_t); break;
    case ORTC_DTYPE_INT32: CLIP_LOOP(int32_t); break;
    case ORTC_DTYPE_INT64: CLIP_LOOP(int64_t); break;
    case ORTC_DTYPE_UINT8: CLIP_LOOP(uint8_t); break;
    case ORTC_DTYPE_UINT16: CLIP_LOOP(uint16_t); break;
    case ORTC_DTYPE_UINT32: CLIP_LOOP(uint32_t); break;
    case ORTC_DTYPE_UINT64: CLIP_LOOP(uint64_t); break;
    default: break;
    }
}

/* ---- PRelu ------------------------------------------------------------------ */

/* Offset into the slope of the first element of output row `row` (a row
 * runs along the last dim). */
static int64_t slope_row(const ortc_bcast *bc, int64_t row)
{
    return ortc_axes_offset(row, bc->rank - 1, bc->dims, bc->b_stride);
}

/* Signed types: slope * x in the type's own arithmetic (integers through
 * unsigned so overflow wraps instead of being undefined). */
#define PRELU_LOOP(T, MUL)                                                                         \
    do {                                                                                           \
        T *yy = y;                                                                                 \
        const T *xx = x, *ss = slope;                                                              \
        for (int64_t r = 0; r < rows; r++) {                                                       \
            const int64_t s0 = slope_row(bc, r);                                                   \
            for (int64_t j = 0; j < len; j++) {                                                    \
                const T v = xx[r * len + j], s = ss[s0 + j * last_stride];                         \
                yy[r * len + j] = v < 0 ? (T)(MUL) : v;                                            \
            }                                                                                      \
        }                                                                                          \
    } while (0)

void ortc_ref_prelu(void *y, const void *x, const void *slope, ortc_dtype dtype,
                    const ortc_bcast *bc)
{
    const int64_t n = ortc_bcast_numel(bc);
    const int64_t len = bc->rank > 0 ? bc->dims[bc->rank - 1] : 1;
    const int64_t last_stride = bc->rank > 0 ? bc->b_stride[bc->rank - 1] : 0;
    const int64_t rows = len > 0 ? n / len : 0;
    switch (dtype) {
    case ORTC_DTYPE_FLOAT: PRELU_LOOP(float, s *v); break;
    case ORTC_DTYPE_DOUBLE: PRELU_LOOP(double, s *v); break;
    case ORTC_DTYPE_INT32: PRELU_LOOP(int32_t, (uint32_t)s * (uint32_t)v); break;
    case ORTC_DTYPE_INT64: PRELU_LOOP(int64_t, (uint64_t)s * (uint64_t)v); break;
    case ORTC_DTYPE_UINT32:
        if (y != x && n > 0)
            memcpy(y, x, (size_t)n * sizeof(uint32_t)); /* never negative */
        break;
    case ORTC_DTYPE_UINT64:
        if (y != x && n > 0)
            memcpy(y, x, (size_t)n * sizeof(uint64_t));
        break;
    default: break;
    }
}

/* ---- IsNaN, IsInf ------------------------------------------------------------ */

void ortc_ref_isnan(uint8_t *y, const void *x, int64_t n, ortc_dtype dtype)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = (dtype == ORTC_DTYPE_DOUBLE ? isnan(((const double *)x)[i])
                                           : isnan(((const float *)x)[i])) != 0;
}

void ortc_ref_isinf(uint8_t *y, const void *x, int64_t n, ortc_dtype dtype, bool negative,
                    bool positive)
{
    for (int64_t i = 0; i < n; i++) {
        double v = dtype == ORTC_DTYPE_DOUBLE ? ((const double *)x)[i] : ((const float *)x)[i];
        y[i] = isinf(v) != 0 && ((v < 0 && negative) || (v > 0 && positive));
    }
}
