/* cast.h — Cast's element conversion, shared by the operators that convert
 * numbers between dtypes (Cast, CastLike; Pad-1/2's float value, Range,
 * ScatterElements on float16). Each element goes through one carrier —
 * double for floating sources, int64 or uint64 for integers and bool — so a
 * conversion rounds once. Defined results where C leaves conversions
 * undefined:
 *   float -> integer: truncate toward zero, saturate to the target's range,
 *                     NaN -> 0;
 *   integer -> narrower integer: wrap modulo 2^bits (two's complement), as
 *                     numpy and ONNX Runtime do;
 *   anything -> bool: 0 or 1 (nonzero and NaN are 1);
 *   double -> float overflow: +-inf (IEC 60559 / C11 Annex F);
 *   -> float16/bfloat16: round to nearest even, overflow to inf, NaN stays
 *                     NaN (int64 -> bfloat16 goes through double, which can
 *                     round twice only above 2^53).
 * Strings and complex numbers are not numbers here. No allocation.
 */
#ifndef ORTC_CAST_H
#define ORTC_CAST_H

#include <stdbool.h>
#include <stdint.h>

#include "operator.h"

typedef enum { ORTC_SCALAR_FLOAT, ORTC_SCALAR_SIGNED, ORTC_SCALAR_UNSIGNED } ortc_scalar_kind;

/* One element in its carrier: f, i or u by kind. */
typedef struct ortc_scalar {
    ortc_scalar_kind kind;
    double f;
    int64_t i;
    uint64_t u;
} ortc_scalar;

static inline ortc_scalar ortc_scalar_float(double f)
{
    return (ortc_scalar){ORTC_SCALAR_FLOAT, f, 0, 0};
}
static inline ortc_scalar ortc_scalar_signed(int64_t i)
{
    return (ortc_scalar){ORTC_SCALAR_SIGNED, 0, i, 0};
}
static inline ortc_scalar ortc_scalar_unsigned(uint64_t u)
{
    return (ortc_scalar){ORTC_SCALAR_UNSIGNED, 0, 0, u};
}

/* Numbers and bool: the dtypes the conversion reads and writes. */
bool ortc_dtype_is_numeric(ortc_dtype t);
/* float32/64, float16, bfloat16. */
bool ortc_dtype_is_float(ortc_dtype t);

/* Element i of an array of numeric dtype t. */
ortc_scalar ortc_scalar_load(ortc_dtype t, const void *p, int64_t i);
/* The value as a double (exact for floats, rounded for large integers). */
double ortc_scalar_double(ortc_scalar v);
/* Writes v converted to numeric dtype t as element i of p. */
void ortc_scalar_store(ortc_dtype t, void *p, int64_t i, ortc_scalar v);

#endif /* ORTC_CAST_H */
