/* eltwise_ref.c — plain-C kernels for the unary and activation operators
 * (see eltwise_ref.h): straight loops over the ONNX formulas, floats
 * evaluated in double. No attribute parsing or dtype checks here; eltwise.c
 * does those.
 */
#include "eltwise_ref.h"

#include <math.h>
#include <string.h>

/* ---- floating point -------------------------------------------------------
 * One formula per op, in double. Where ONNX writes max/min, NaN propagates
 * (numpy's maximum/minimum); where it writes a comparison (x > alpha ? ..)
 * the comparison decides, as in the formula. */

static double clamp01(double v)
{
    if (v < 0.0)
        return 0.0;
    if (v > 1.0)
        return 1.0;
    return v; /* NaN stays NaN */
}

static double unary_eval(ortc_unary_op op, double x, const ortc_unary_params *p)
{
    const double alpha = p->alpha, beta = p->beta, gamma = p->gamma;
    switch (op) {
    case ORTC_UNARY_RELU: return x < 0.0 ? 0.0 : x;
    case ORTC_UNARY_LEAKY_RELU: return x < 0.0 ? alpha * x : x;
    case ORTC_UNARY_ELU: return x < 0.0 ? alpha * expm1(x) : x;
    case ORTC_UNARY_SELU: return x <= 0.0 ? gamma * alpha * expm1(x) : gamma * x;
    case ORTC_UNARY_CELU: {
        /* max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) */
        if (isnan(x))
            return x;
        double neg = alpha * expm1(x / alpha);
        return (x > 0.0 ? x : 0.0) + (neg < 0.0 ? neg : 0.0);
    }
    case ORTC_UNARY_THRESHOLDED_RELU: return x > alpha ? x : 0.0;
    case ORTC_UNARY_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case ORTC_UNARY_HARD_SIGMOID: return clamp01(alpha * x + beta);
    case ORTC_UNARY_HARD_SWISH: return x * clamp01(x / 6.0 + 0.5);
    case ORTC_UNARY_TANH: return tanh(x);
    case ORTC_UNARY_SOFTPLUS:
        /* log(exp(x) + 1) without overflowing exp for large x */
        return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
    case ORTC_UNARY_SOFTSIGN: return x / (1.0 + fabs(x));
    case ORTC_UNARY_SHRINK: return x < -alpha ? x + beta : x > alpha ? x - beta : 0.0;
    case ORTC_UNARY_SQRT: return sqrt(x);
    case ORTC_UNARY_EXP: return exp(x);
    case ORTC_UNARY_LOG: return log(x);
    case ORTC_UNARY_ABS: return fabs(x);
    case ORTC_UNARY_NEG: return -x;
    case ORTC_UNARY_RECIPROCAL: return 1.0 / x;
    case ORTC_UNARY_FLOOR: return floor(x);
    case ORTC_UNARY_CEIL: return ceil(x);
    case ORTC_UNARY_ROUND: return nearbyint(x); /* default mode: to nearest, ties to even */
    case ORTC_UNARY_SIGN: return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x; /* 0 and NaN kept */
    case ORTC_UNARY_SIN: return sin(x);
    case ORTC_UNARY_COS: return cos(x);
    case ORTC_UNARY_TAN: return tan(x);
    case ORTC_UNARY_ASIN: return asin(x);
    case ORTC_UNARY_ACOS: return acos(x);
    case ORTC_UNARY_ATAN: return atan(x);
    case ORTC_UNARY_SINH: return sinh(x);
    case ORTC_UNARY_COSH: return cosh(x);
    case ORTC_UNARY_ASINH: return asinh(x);
    case ORTC_UNARY_ACOSH: return acosh(x);
    case ORTC_UNARY_ATANH: return atanh(x);
    case ORTC_UNARY_ERF: return erf(x);
    }
    return x;
}

void ortc_ref_unary_f32(float *y, const float *x, int64_t n, ortc_unary_op op,
                        const ortc_unary_params *p)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)unary_eval(op, (double)x[i], p);
}

void ortc_ref_unary_f64(double *y, const double *x, int64_t n, ortc_unary_op op,
                        const ortc_unary_params *p)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = unary_eval(op, x[i], p);
}

/* ---- integers ----------------------------------------------------------- */

/* Truncates toward zero, saturating at the int64 range (NaN gives 0). */
static int64_t trunc_i64(double v)
{
    if (!(v == v))
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

static double shrink_eval(double x, const ortc_unary_params *p)
{
    return x < -(double)p->alpha ? x + p->beta : x > p->alpha ? x - p->beta : 0.0;
}

static int64_t signed_eval(ortc_unary_op op, int64_t x, const ortc_unary_params *p)
{
    switch (op) {
    case ORTC_UNARY_ABS: return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
    case ORTC_UNARY_NEG: return (int64_t)(0 - (uint64_t)x);
    case ORTC_UNARY_SIGN: return (x > 0) - (x < 0);
    case ORTC_UNARY_RELU: return x < 0 ? 0 : x;
    case ORTC_UNARY_SHRINK: return trunc_i64(shrink_eval((double)x, p));
    default: return x;
    }
}

static uint64_t unsigned_eval(ortc_unary_op op, uint64_t x, const ortc_unary_params *p)
{
    switch (op) {
    case ORTC_UNARY_NEG: return 0 - x;
    case ORTC_UNARY_SIGN: return x != 0;
    case ORTC_UNARY_SHRINK: return (uint64_t)trunc_i64(shrink_eval((double)x, p));
    default: return x; /* ABS, RELU: x >= 0 already */
    }
}

#define INT_UNARY_LOOP(T, EVAL, W)                                                                 \
    do {                                                                                           \
        T *yy = y;                                                                                 \
        const T *xx = x;                                                                           \
        for (int64_t i = 0; i < n; i++)                                                            \
            yy[i] = (T)EVAL(op, (W)xx[i], p);                                                      \
    } while (0)

void ortc_ref_unary_int(void *y, const void *x, int64_t n, ortc_dtype dtype, ortc_unary_op op,
                        const ortc_unary_params *p)
{
    switch (dtype) {
    case ORTC_DTYPE_INT8: INT_UNARY_LOOP(int8_t, signed_eval, int64_t); break;
    case ORTC_DTYPE_INT16: INT_UNARY_LOOP(int16_t, signed_eval, int64_t); break;
    case ORTC_DTYPE_INT32: INT_UNARY_LOOP(int32_t, signed_eval, int64_t); break;
    case ORTC_DTYPE_INT64: INT_UNARY_LOOP(int64_t, signed_eval, int64_t); break;
    case ORTC_DTYPE_UINT8: INT_UNARY_LOOP(uint8_t, unsigned_eval, uint64_t); break;
    case ORTC_DTYPE_UINT16: INT_UNARY_LOOP(uint16_t, unsigned_eval, uint64_t); break;
    case ORTC_DTYPE_UINT32: INT_UNARY_LOOP(uint32_t, unsigned_eval, uint64_t); break;
    case ORTC_DTYPE_UINT64: INT_UNARY_LOOP(uint64_t, unsigned_eval, uint64_t); break;
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
    int64_t off = 0;
    for (int i = bc->rank - 2; i >= 0; i--) {
        off += (row % bc->dims[i]) * bc->b_stride[i];
        row /= bc->dims[i];
    }
    return off;
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
