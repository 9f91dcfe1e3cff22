/* plain_util.c — helpers for the plain-C operator families (see
 * plain_util.h): byte copies and fills, dims arithmetic, limits, int-list
 * inputs, errors for shape inputs and float16/bfloat16 conversions. Kernels
 * live in operators/tensor/.
 */
#include "plain_util.h"

#include <math.h>
#include <string.h>

/* The STRING "zero" (Pad's default fill, Trilu's cleared elements). */
static char empty_string[1];

const char *ortc_plain_input_name(const ortc_opctx *c, int i)
{
    const ortc_value *v = i >= 0 && i < c->node->n_inputs ? c->node->inputs[i] : NULL;
    return v ? v->name : "";
}

const ortc_tensor *ortc_plain_input(const ortc_opctx *c, int i)
{
    return i >= 0 && i < c->n_in ? c->in[i] : NULL;
}

bool ortc_plain_has_input(const ortc_opctx *c, int i)
{
    return i < c->n_in && c->in[i];
}

int64_t ortc_plain_span(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

void ortc_plain_dense_strides(int rank, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

void ortc_plain_set_zero(void *dst, ortc_dtype dtype)
{
    if (dtype == ORTC_DTYPE_STRING) {
        char *s = empty_string;
        memcpy(dst, &s, sizeof s);
    } else {
        memset(dst, 0, ortc_dtype_size(dtype));
    }
}

void ortc_plain_fill(char *out, const void *val, int64_t n, size_t elem)
{
    if (n <= 0)
        return;
    memcpy(out, val, elem);
    int64_t done = 1;
    while (done < n) {
        int64_t k = done < n - done ? done : n - done;
        memcpy(out + done * (int64_t)elem, out, (size_t)k * elem);
        done += k;
    }
}

ortc_status ortc_plain_value_status(const ortc_opctx *c, int i)
{
    const ortc_value *v = i < c->node->n_inputs ? c->node->inputs[i] : NULL;
    return v && v->kind == ORTC_VALUE_INPUT ? ORTC_STATUS_INVALID_ARGUMENT
                                            : ORTC_STATUS_INVALID_MODEL;
}

ortc_status ortc_plain_data_unknown(ortc_opctx *c, int i, const char *what)
{
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                         "the output shape depends on the values of input %d '%s' (%s), which are "
                         "only known at run time; ortc needs them when compiling (a constant, an "
                         "initializer or a graph input)",
                         i, ortc_plain_input_name(c, i), what);
}

ortc_status ortc_plain_read_int_list(ortc_opctx *c, int i, const char *what, bool int64_only,
                                     int64_t *vals, int max, int *n)
{
    const ortc_tensor *t = c->in[i];
    const char *name = ortc_plain_input_name(c, i);
    if (t->dtype != ORTC_DTYPE_INT64 && (int64_only || t->dtype != ORTC_DTYPE_INT32))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has dtype %s; expected %s", i, name, what,
                             ortc_dtype_name(t->dtype), int64_only ? "int64" : "int32 or int64");
    if (t->rank > 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has rank %d; expected a 1-D list", i, name, what,
                             t->rank);
    int64_t count = ortc_tensor_numel(t);
    if (count > max)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input %d '%s' (%s) has %lld values; ortc supports at most %d here "
                             "(rank <= %d)",
                             i, name, what, (long long)count, max, ORTC_MAX_RANK);
    if (count > 0 && !t->data)
        return ortc_plain_data_unknown(c, i, what);
    for (int64_t k = 0; k < count; k++)
        vals[k] = ortc_tensor_get_int(t, k);
    *n = (int)count;
    return ORTC_STATUS_OK;
}

ortc_status ortc_plain_check_numel(ortc_opctx *c, int k)
{
    if (c->out[k] && ortc_tensor_numel(c->out[k]) < 0) {
        char s[160];
        const ortc_tensor *t = c->out[k];
        return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                             "output %d would have shape %s, more than 2^63 elements", k,
                             ortc_shape_str(s, sizeof s, t->rank, t->dims));
    }
    return ORTC_STATUS_OK;
}

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
