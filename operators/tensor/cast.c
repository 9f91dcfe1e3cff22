/* cast.c — Cast and CastLike, one conversion for both (see cast.h for the
 * rules), and that conversion's element access for the other plain-C
 * families. Numbers and bool convert among themselves; strings (Cast from
 * version 9, CastLike) are parsed as numbers (strtod/strtof, so "NaN",
 * "INF", "+INF", "-inf" work; C locale assumed) and numbers formatted as
 * strings: "NaN", "INF", "-INF", integers in decimal, bool as 1 or 0, floats
 * in the shortest %g form that reads back to the same value (numpy's str()
 * for ordinary magnitudes). Formatted strings live in the node's string
 * store (text/string_store.h).
 */
#include "cast.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "plain_util.h"
#include "text/string_store.h"

/* ---- element conversion (cast.h) ------------------------------------------ */

bool ortc_dtype_is_numeric(ortc_dtype t)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT:
    case ORTC_DTYPE_DOUBLE:
    case ORTC_DTYPE_FLOAT16:
    case ORTC_DTYPE_BFLOAT16:
    case ORTC_DTYPE_INT8:
    case ORTC_DTYPE_INT16:
    case ORTC_DTYPE_INT32:
    case ORTC_DTYPE_INT64:
    case ORTC_DTYPE_UINT8:
    case ORTC_DTYPE_UINT16:
    case ORTC_DTYPE_UINT32:
    case ORTC_DTYPE_UINT64:
    case ORTC_DTYPE_BOOL: return true;
    default: return false;
    }
}

bool ortc_dtype_is_float(ortc_dtype t)
{
    return t == ORTC_DTYPE_FLOAT || t == ORTC_DTYPE_DOUBLE || t == ORTC_DTYPE_FLOAT16 ||
           t == ORTC_DTYPE_BFLOAT16;
}

static bool is_integer(ortc_dtype t)
{
    return ortc_dtype_is_numeric(t) && !ortc_dtype_is_float(t) && t != ORTC_DTYPE_BOOL;
}

ortc_scalar ortc_scalar_load(ortc_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: return ortc_scalar_float(((const float *)p)[i]);
    case ORTC_DTYPE_DOUBLE: return ortc_scalar_float(((const double *)p)[i]);
    case ORTC_DTYPE_FLOAT16: return ortc_scalar_float(ortc_f16_to_float(((const uint16_t *)p)[i]));
    case ORTC_DTYPE_BFLOAT16:
        return ortc_scalar_float(ortc_bf16_to_float(((const uint16_t *)p)[i]));
    case ORTC_DTYPE_INT8: return ortc_scalar_signed(((const int8_t *)p)[i]);
    case ORTC_DTYPE_INT16: return ortc_scalar_signed(((const int16_t *)p)[i]);
    case ORTC_DTYPE_INT32: return ortc_scalar_signed(((const int32_t *)p)[i]);
    case ORTC_DTYPE_INT64: return ortc_scalar_signed(((const int64_t *)p)[i]);
    case ORTC_DTYPE_UINT8: return ortc_scalar_unsigned(((const uint8_t *)p)[i]);
    case ORTC_DTYPE_UINT16: return ortc_scalar_unsigned(((const uint16_t *)p)[i]);
    case ORTC_DTYPE_UINT32: return ortc_scalar_unsigned(((const uint32_t *)p)[i]);
    case ORTC_DTYPE_UINT64: return ortc_scalar_unsigned(((const uint64_t *)p)[i]);
    case ORTC_DTYPE_BOOL: return ortc_scalar_unsigned(((const uint8_t *)p)[i] != 0);
    default: return ortc_scalar_signed(0);
    }
}

double ortc_scalar_double(ortc_scalar v)
{
    return v.kind == ORTC_SCALAR_FLOAT    ? v.f
           : v.kind == ORTC_SCALAR_SIGNED ? (double)v.i
                                          : (double)v.u;
}

/* The value's bits modulo 2^64, for integer targets (wraps). Floats are
 * truncated and saturated to [lo, hi] first; NaN -> 0. (double)lo and
 * (double)hi are exact or round away from the range (2^63), so every value
 * strictly between them truncates to a representable integer. */
static uint64_t scalar_bits(ortc_scalar v, int64_t lo, uint64_t hi)
{
    if (v.kind == ORTC_SCALAR_SIGNED)
        return (uint64_t)v.i;
    if (v.kind == ORTC_SCALAR_UNSIGNED)
        return v.u;
    double f = v.f;
    if (isnan(f))
        return 0;
    if (lo < 0) { /* signed target: [lo, (int64)hi] */
        if (f <= (double)lo)
            return (uint64_t)lo;
        if (f >= (double)hi)
            return hi;
        return (uint64_t)(int64_t)f;
    }
    if (f <= 0)
        return 0;
    if (f >= (double)hi)
        return hi;
    return (uint64_t)f;
}

void ortc_scalar_store(ortc_dtype t, void *p, int64_t i, ortc_scalar v)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT:
        ((float *)p)[i] = v.kind == ORTC_SCALAR_FLOAT    ? (float)v.f
                          : v.kind == ORTC_SCALAR_SIGNED ? (float)v.i
                                                         : (float)v.u;
        break;
    case ORTC_DTYPE_DOUBLE: ((double *)p)[i] = ortc_scalar_double(v); break;
    case ORTC_DTYPE_FLOAT16:
        ((uint16_t *)p)[i] = ortc_f16_from_double(ortc_scalar_double(v));
        break;
    case ORTC_DTYPE_BFLOAT16:
        ((uint16_t *)p)[i] = ortc_bf16_from_double(ortc_scalar_double(v));
        break;
    case ORTC_DTYPE_BOOL:
        ((uint8_t *)p)[i] =
            v.kind == ORTC_SCALAR_FLOAT ? v.f != 0 : scalar_bits(v, 0, UINT64_MAX) != 0;
        break;
#define STORE_INT(T, UT, LO, HI)                                                                   \
    {                                                                                              \
        UT bits = (UT)scalar_bits(v, LO, HI);                                                      \
        memcpy((T *)p + i, &bits, sizeof bits); /* two's complement: bits are the value */         \
        break;                                                                                     \
    }
    case ORTC_DTYPE_INT8: STORE_INT(int8_t, uint8_t, INT8_MIN, INT8_MAX)
    case ORTC_DTYPE_INT16: STORE_INT(int16_t, uint16_t, INT16_MIN, INT16_MAX)
    case ORTC_DTYPE_INT32: STORE_INT(int32_t, uint32_t, INT32_MIN, INT32_MAX)
    case ORTC_DTYPE_INT64: STORE_INT(int64_t, uint64_t, INT64_MIN, INT64_MAX)
    case ORTC_DTYPE_UINT8: STORE_INT(uint8_t, uint8_t, 0, UINT8_MAX)
    case ORTC_DTYPE_UINT16: STORE_INT(uint16_t, uint16_t, 0, UINT16_MAX)
    case ORTC_DTYPE_UINT32: STORE_INT(uint32_t, uint32_t, 0, UINT32_MAX)
    case ORTC_DTYPE_UINT64: STORE_INT(uint64_t, uint64_t, 0, UINT64_MAX)
#undef STORE_INT
    default: break;
    }
}

/* ---- Cast ------------------------------------------------------------------
 * The target is the attribute `to`: a type name before Cast-6, a
 * TensorProto.DataType number from 6. Strings from Cast-9. */

/* Cast-1 names the target type with a string: TensorProto.DataType names. */
static const struct {
    const char *name;
    ortc_dtype dtype;
} cast_names[] = {
    {"FLOAT", ORTC_DTYPE_FLOAT},
    {"UINT8", ORTC_DTYPE_UINT8},
    {"INT8", ORTC_DTYPE_INT8},
    {"UINT16", ORTC_DTYPE_UINT16},
    {"INT16", ORTC_DTYPE_INT16},
    {"INT32", ORTC_DTYPE_INT32},
    {"INT64", ORTC_DTYPE_INT64},
    {"STRING", ORTC_DTYPE_STRING},
    {"BOOL", ORTC_DTYPE_BOOL},
    {"FLOAT16", ORTC_DTYPE_FLOAT16},
    {"DOUBLE", ORTC_DTYPE_DOUBLE},
    {"UINT32", ORTC_DTYPE_UINT32},
    {"UINT64", ORTC_DTYPE_UINT64},
    {"COMPLEX64", ORTC_DTYPE_COMPLEX64},
    {"COMPLEX128", ORTC_DTYPE_COMPLEX128},
    {"BFLOAT16", ORTC_DTYPE_BFLOAT16},
};

/* The `to` attribute as a dtype (validated by cast_infer). */
static ortc_status cast_target(ortc_opctx *c, ortc_dtype *to)
{
    const ortc_attr *a = ortc_node_attr(c->node, "to");
    if (!a)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'to' is missing");
    if (ortc_op_version(c) < 6) {
        for (size_t k = 0; k < sizeof cast_names / sizeof *cast_names; k++)
            if (!strcasecmp(a->s, cast_names[k].name)) {
                *to = cast_names[k].dtype;
                return ORTC_STATUS_OK;
            }
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'to' is \"%s\", not an ONNX data type name", a->s);
    }
    if (a->i < ORTC_DTYPE_FLOAT || a->i > ORTC_DTYPE_BFLOAT16)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'to' is %lld, not an ONNX data type", (long long)a->i);
    *to = (ortc_dtype)a->i;
    return ORTC_STATUS_OK;
}

static ortc_status cast_check_type(ortc_opctx *c, ortc_dtype t, const char *role)
{
    if (t == ORTC_DTYPE_STRING && ortc_op_version(c) < 9)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "Cast-%d does not convert %s string (Cast-9 and later do)",
                             ortc_op_version(c), role);
    if (!ortc_dtype_is_numeric(t) && t != ORTC_DTYPE_STRING)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "Cast does not convert %s %s", role,
                             ortc_dtype_name(t));
    return ORTC_STATUS_OK;
}

static ortc_status cast_infer(ortc_opctx *c)
{
    ortc_dtype to = ORTC_DTYPE_UNDEFINED;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(
        ortc_op_check_attr(c, "to", ortc_op_version(c) < 6 ? ORTC_ATTR_STRING : ORTC_ATTR_INT));
    ORTC_TRY(cast_target(c, &to));
    ORTC_TRY(cast_check_type(c, c->in[0]->dtype, "from"));
    ORTC_TRY(cast_check_type(c, to, "to"));
    ortc_op_set_output(c, 0, to, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

/* ---- CastLike ----------------------------------------------------------------
 * The target is input 1's dtype. */

static ortc_status castlike_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(ortc_plain_check_known(c, 1));
    ortc_dtype from = c->in[0]->dtype, to = c->in[1]->dtype;
    if ((!ortc_dtype_is_numeric(from) && from != ORTC_DTYPE_STRING) ||
        (!ortc_dtype_is_numeric(to) && to != ORTC_DTYPE_STRING))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "CastLike from %s to %s is not supported",
                             ortc_dtype_name(from), ortc_dtype_name(to));
    ortc_op_set_output(c, 0, to, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

/* Parses string element i for a target of dtype `to`. */
static ortc_status parse_number(ortc_opctx *c, const char *s, ortc_dtype to, int64_t i,
                                ortc_scalar *v)
{
    if (!s)
        s = "";
    char *end;
    errno = 0;
    if (is_integer(to)) {
        long long ll = strtoll(s, &end, 10);
        while (end != s && (*end == ' ' || *end == '\t' || *end == '\n'))
            end++;
        if (end != s && !*end && errno == 0) {
            *v = ortc_scalar_signed(ll);
            return ORTC_STATUS_OK;
        }
    }
    errno = 0;
    if (to == ORTC_DTYPE_FLOAT) { /* parse straight to float: one rounding */
        float f = strtof(s, &end);
        *v = ortc_scalar_float(f);
    } else {
        *v = ortc_scalar_float(strtod(s, &end));
    }
    bool parsed = end != s;
    while (parsed && (*end == ' ' || *end == '\t' || *end == '\n'))
        end++;
    if (!parsed || *end)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "element %lld of input 0 '%s' is \"%.64s\", not a number",
                             (long long)i, ortc_plain_input_name(c, 0), s);
    return ORTC_STATUS_OK;
}

/* ---- numbers as strings ------------------------------------------------------- */

/* Longest string fmt_number writes, with its terminator. */
#define NUMBER_STR_MAX 32

/* The shortest %.Ng (N = 1..max_digits) that `parse` maps back to v. */
static int fmt_shortest(char *buf, double v, int max_digits, bool (*same)(const char *, double))
{
    int n = 0;
    for (int d = 1; d <= max_digits; d++) {
        n = snprintf(buf, NUMBER_STR_MAX, "%.*g", d, v);
        if (same(buf, v))
            break;
    }
    return n;
}

static bool same_double(const char *s, double v)
{
    return strtod(s, NULL) == v;
}

static bool same_float(const char *s, double v)
{
    return strtof(s, NULL) == (float)v;
}

static bool same_half(const char *s, double v)
{
    return ortc_f16_from_double(strtod(s, NULL)) == ortc_f16_from_double(v);
}

static bool same_bf16(const char *s, double v)
{
    return ortc_bf16_from_double(strtod(s, NULL)) == ortc_bf16_from_double(v);
}

/* Element i of numeric x as a string in buf (NUMBER_STR_MAX bytes);
 * returns its length. */
static int fmt_number(char *buf, const ortc_tensor *x, int64_t i)
{
    ortc_scalar v = ortc_scalar_load(x->dtype, x->data, i);
    if (x->dtype == ORTC_DTYPE_BOOL)
        return snprintf(buf, NUMBER_STR_MAX, "%d", v.u != 0);
    if (v.kind == ORTC_SCALAR_SIGNED)
        return snprintf(buf, NUMBER_STR_MAX, "%lld", (long long)v.i);
    if (v.kind == ORTC_SCALAR_UNSIGNED)
        return snprintf(buf, NUMBER_STR_MAX, "%llu", (unsigned long long)v.u);
    if (isnan(v.f))
        return snprintf(buf, NUMBER_STR_MAX, "NaN");
    if (isinf(v.f))
        return snprintf(buf, NUMBER_STR_MAX, v.f < 0 ? "-INF" : "INF");
    switch (x->dtype) {
    case ORTC_DTYPE_FLOAT: return fmt_shortest(buf, v.f, 9, same_float);
    case ORTC_DTYPE_FLOAT16: return fmt_shortest(buf, v.f, 5, same_half);
    case ORTC_DTYPE_BFLOAT16: return fmt_shortest(buf, v.f, 4, same_bf16);
    default: return fmt_shortest(buf, v.f, 17, same_double);
    }
}

/* Casts to string keep their strings in a store (state). */
static ortc_status cast_prepare(ortc_opctx *c)
{
    if (c->out[0]->dtype != ORTC_DTYPE_STRING || c->in[0]->dtype == ORTC_DTYPE_STRING)
        return ORTC_STATUS_OK;
    if (!(c->state = calloc(1, sizeof(ortc_string_store))))
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    return ORTC_STATUS_OK;
}

static void cast_release(ortc_opctx *c)
{
    if (c->state)
        ortc_string_store_free(c->state);
    free(c->state);
    c->state = NULL;
}

// y: (n) strings; x: (n) numbers
static ortc_status cast_to_string(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    char **y = c->out[0]->data;
    int64_t n = ortc_tensor_numel(x);
    if (!c->state)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: run without prepare");
    char *o;
    ORTC_TRY(ortc_string_store_reserve(c, c->state, (size_t)n * NUMBER_STR_MAX, &o));
    for (int64_t i = 0; i < n; i++) {
        y[i] = o;
        o += fmt_number(o, x, i) + 1;
    }
    return ORTC_STATUS_OK;
}

/* ---- the conversion (both ops' run) ------------------------------------------ */

// y: (n) of y's dtype, x: (n) of x's dtype (string elements are parsed)
static ortc_status cast_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    ortc_tensor *y = c->out[0];
    if (x->dtype == y->dtype && x->dtype != ORTC_DTYPE_BOOL) {
        ortc_plain_copy(y->data, x->data, ortc_tensor_bytes(x));
        return ORTC_STATUS_OK;
    }
    bool from_string = x->dtype == ORTC_DTYPE_STRING;
    if (y->dtype == ORTC_DTYPE_STRING && ortc_dtype_is_numeric(x->dtype))
        return cast_to_string(c);
    if ((!ortc_dtype_is_numeric(x->dtype) && !from_string) || !ortc_dtype_is_numeric(y->dtype))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "%s from %s to %s is not supported",
                             c->node->op_type, ortc_dtype_name(x->dtype),
                             ortc_dtype_name(y->dtype));
    int64_t n = ortc_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        ortc_scalar v;
        if (from_string) {
            ORTC_TRY(parse_number(c, ((char *const *)x->data)[i], y->dtype, i, &v));
        } else {
            v = ortc_scalar_load(x->dtype, x->data, i);
        }
        ortc_scalar_store(y->dtype, y->data, i, v);
    }
    return ORTC_STATUS_OK;
}

/* ---- table ------------------------------------------------------------------- */

/* dtypes: what each converts from */
const ortc_operator ortc_ops_cast[] = {
    ORTC_OP("Cast", 1, 13, .versions = {1, 6, 9, 13},
            .dtypes = ORTC_DTYPES_ALL & ~(ORTC_DT(COMPLEX64) | ORTC_DT(COMPLEX128)),
            .infer = cast_infer, .prepare = cast_prepare, .run = cast_run, .release = cast_release),
    ORTC_OP(
        "CastLike", 15, 15, .dtypes = ORTC_DTYPES_ALL & ~(ORTC_DT(COMPLEX64) | ORTC_DT(COMPLEX128)),
        .infer = castlike_infer, .prepare = cast_prepare, .run = cast_run, .release = cast_release),
};
ORTC_OP_TABLE_END(cast);
