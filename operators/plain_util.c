/* plain_util.c — helpers for the plain-C operator families (see
 * plain_util.h): byte copies for views, rank limits, int-list inputs and
 * float16/bfloat16 conversions. Kernels live in shape.c and tensor.c.
 */
#include "plain_util.h"

#include <math.h>
#include <string.h>

void ortc_plain_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes && dst != src)
        memcpy(dst, src, bytes);
}

ortc_status ortc_plain_check_rank(ortc_opctx *c, int rank, const char *what)
{
    if (rank > ORTC_MAX_RANK)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "%s would have rank %d; ortc supports rank <= %d", what, rank,
                             ORTC_MAX_RANK);
    return ORTC_STATUS_OK;
}

ortc_status ortc_plain_check_known(ortc_opctx *c, int i)
{
    if (i >= c->n_in || !c->in[i])
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is missing", i);
    if (ortc_dtype_size(c->in[i]->dtype) == 0) {
        const ortc_value *v = c->node->inputs[i];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d '%s' has dtype %s", i,
                             v ? v->name : "", ortc_dtype_name(c->in[i]->dtype));
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_plain_read_ints(ortc_opctx *c, int i, const char *what, int vector_only,
                                 int64_t *vals, int max, int *n)
{
    const ortc_tensor *t = c->in[i];
    const ortc_value *v = c->node->inputs[i];
    const char *name = v ? v->name : "";
    if (t->dtype != ORTC_DTYPE_INT64)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has dtype %s; expected int64", i, name, what,
                             ortc_dtype_name(t->dtype));
    if (t->rank > 1 || (vector_only && t->rank != 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has rank %d; expected %s", i, name, what, t->rank,
                             vector_only ? "1" : "0 or 1");
    int64_t count = ortc_tensor_numel(t);
    if (count < 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has an unknown length", i, name, what);
    if (count > max)
        return ortc_op_error(
            c, ORTC_STATUS_UNSUPPORTED,
            "input %d '%s' (%s) has %lld values; ortc supports at most %d (rank <= %d)", i, name,
            what, (long long)count, max, ORTC_MAX_RANK);
    if (count > 0 && !t->data)
        return ortc_op_error(
            c, ORTC_STATUS_UNSUPPORTED,
            "the output shape depends on the values of input %d '%s' (%s), which are "
            "only known at run time; ortc needs them when compiling (a constant or "
            "initializer)",
            i, name, what);
    for (int64_t k = 0; k < count; k++)
        vals[k] = ((const int64_t *)t->data)[k];
    *n = (int)count;
    return ORTC_STATUS_OK;
}

/* ---- float16 / bfloat16 ------------------------------------------------ */

/* Rounds x once (to nearest, ties to even) to a binary format with `ebits`
 * exponent bits and `mbits` stored mantissa bits and returns its bits.
 * ldexp by powers of two is exact here, so rint() is the only rounding. */
static uint16_t encode_small_float(double x, int ebits, int mbits)
{
    uint16_t sign = signbit(x) ? (uint16_t)(1u << (ebits + mbits)) : 0;
    uint16_t exp_all = (uint16_t)(((1u << ebits) - 1) << mbits);
    if (isnan(x))
        return (uint16_t)(sign | exp_all | (1u << (mbits - 1))); /* quiet NaN */
    double a = fabs(x);
    if (isinf(a))
        return sign | exp_all;
    if (a == 0)
        return sign;
    int bias = (1 << (ebits - 1)) - 1, emin = 1 - bias, emax = bias;
    int e;
    frexp(a, &e); /* a = f * 2^e, f in [0.5, 1): unbiased exponent is e - 1 */
    e -= 1;
    if (e < emin) {
        /* subnormal: count units of 2^(emin - mbits); rounding up to 2^mbits
         * units lands exactly on the smallest normal's encoding */
        double m = rint(ldexp(a, mbits - emin));
        return (uint16_t)(sign | (uint16_t)m);
    }
    double m = rint(ldexp(a, mbits - e)); /* in [2^mbits, 2^(mbits+1)] */
    if (m >= ldexp(1.0, mbits + 1)) {
        m = ldexp(1.0, mbits);
        e += 1;
    }
    if (e > emax)
        return sign | exp_all; /* overflow: infinity */
    uint32_t frac = (uint32_t)m - (1u << mbits);
    return (uint16_t)(sign | (uint32_t)(e + bias) << mbits | frac);
}

uint16_t ortc_f16_from_double(double x)
{
    return encode_small_float(x, 5, 10);
}

uint16_t ortc_bf16_from_double(double x)
{
    return encode_small_float(x, 8, 7);
}

float ortc_f16_to_float(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24); /* zero or subnormal: m * 2^-24 */
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400), e - 25); /* 1.m * 2^(e-15) */
    return sign ? -v : v;
}

float ortc_bf16_to_float(uint16_t h)
{
    /* bfloat16 is the top half of a float32 */
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}
