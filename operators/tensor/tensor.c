/* tensor.c — plain-C operators that create or move tensor data: Constant,
 * Gather, Concat and Cast. Data movement works on element bytes, so any
 * dtype passes (STRING elements are char* and are copied as pointers: the
 * output borrows the input's strings). Cast converts numbers only.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "operator.h"
#include "plain_util.h"

static const char *input_name(const ortc_opctx *c, int i)
{
    const ortc_value *v = c->node->inputs[i];
    return v ? v->name : "";
}

/* Product of dims[from..to); the tensors here have concrete dims. */
static int64_t span(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* ---- Constant ------------------------------------------------------------
 * Exactly one of value / value_float(s) / value_int(s) / value_string(s)
 * (the value_* forms from opset 12). sparse_value is refused. */

static const struct {
    const char *name;
    ortc_attr_type type;
} constant_attrs[] = {
    {"value", ORTC_ATTR_TENSOR},          {"value_float", ORTC_ATTR_FLOAT},
    {"value_floats", ORTC_ATTR_FLOATS},   {"value_int", ORTC_ATTR_INT},
    {"value_ints", ORTC_ATTR_INTS},       {"value_string", ORTC_ATTR_STRING},
    {"value_strings", ORTC_ATTR_STRINGS},
};
#define N_CONSTANT_ATTRS (int)(sizeof constant_attrs / sizeof *constant_attrs)

/* Index in constant_attrs of the attribute that holds the value, or -1. */
static int constant_which(const ortc_node *n)
{
    for (int k = 0; k < N_CONSTANT_ATTRS; k++)
        if (ortc_node_attr(n, constant_attrs[k].name))
            return k;
    return -1;
}

static ortc_status constant_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 0, 0, 1, 1)))
        return st;
    if (ortc_node_attr(c->node, "sparse_value"))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "attribute 'sparse_value' (a sparse constant) is not supported");
    int count = 0;
    char names[256] = "";
    for (int k = 0; k < N_CONSTANT_ATTRS; k++) {
        if (!ortc_node_attr(c->node, constant_attrs[k].name))
            continue;
        if (k > 0 && version < 12)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute '%s' exists from Constant-12 on; this model's opset "
                                 "only has 'value'",
                                 constant_attrs[k].name);
        if ((st = ortc_op_check_attr(c, constant_attrs[k].name, constant_attrs[k].type)))
            return st;
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s'%s'", count ? ", " : "",
                 constant_attrs[k].name);
        count++;
    }
    if (count != 1)
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL,
            "needs exactly one of the attributes value, value_float, value_floats, "
            "value_int, value_ints, value_string, value_strings; it has %s",
            count ? names : "none");
    int k = constant_which(c->node);
    const ortc_attr *a = ortc_node_attr(c->node, constant_attrs[k].name);
    int64_t n = (int64_t)a->n;
    switch (a->type) {
    case ORTC_ATTR_TENSOR:
        if (!a->t || ortc_dtype_size(a->t->t.dtype) == 0)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'value' holds no tensor of a known dtype");
        ortc_op_set_output(c, 0, a->t->t.dtype, a->t->t.rank, a->t->t.dims);
        break;
    case ORTC_ATTR_FLOAT: ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, 0, NULL); break;
    case ORTC_ATTR_FLOATS: ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, 1, &n); break;
    case ORTC_ATTR_INT: ortc_op_set_output(c, 0, ORTC_DTYPE_INT64, 0, NULL); break;
    case ORTC_ATTR_INTS: ortc_op_set_output(c, 0, ORTC_DTYPE_INT64, 1, &n); break;
    case ORTC_ATTR_STRING: ortc_op_set_output(c, 0, ORTC_DTYPE_STRING, 0, NULL); break;
    case ORTC_ATTR_STRINGS: ortc_op_set_output(c, 0, ORTC_DTYPE_STRING, 1, &n); break;
    default:
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' has type %s", a->name,
                             ortc_attr_type_name(a->type));
    }
    return ORTC_STATUS_OK;
}

static ortc_status constant_run(ortc_opctx *c)
{
    int k = constant_which(c->node);
    if (k < 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "no value attribute");
    const ortc_attr *a = ortc_node_attr(c->node, constant_attrs[k].name);
    void *out = c->out[0]->data;
    switch (a->type) {
    case ORTC_ATTR_TENSOR: ortc_plain_copy(out, a->t->t.data, ortc_tensor_bytes(&a->t->t)); break;
    case ORTC_ATTR_FLOAT: *(float *)out = a->f; break;
    case ORTC_ATTR_FLOATS: ortc_plain_copy(out, a->floats, a->n * sizeof *a->floats); break;
    case ORTC_ATTR_INT: *(int64_t *)out = a->i; break;
    case ORTC_ATTR_INTS: ortc_plain_copy(out, a->ints, a->n * sizeof *a->ints); break;
    /* strings: the output points at the model's copies */
    case ORTC_ATTR_STRING: *(char **)out = a->s; break;
    case ORTC_ATTR_STRINGS: ortc_plain_copy(out, a->strings, a->n * sizeof *a->strings); break;
    default:
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' has type %s", a->name,
                             ortc_attr_type_name(a->type));
    }
    return ORTC_STATUS_OK;
}

/* ---- Gather --------------------------------------------------------------
 * Indices may be negative (counting from the end of the axis) in every
 * version, as ONNX Runtime accepts; out-of-range indices are an error. */

/* Checks every index against dim; `status` distinguishes a model error
 * (constant indices, at infer) from a run-time data error. */
static ortc_status gather_check_indices(ortc_opctx *c, const ortc_tensor *indices, int axis,
                                        int64_t dim, ortc_status status)
{
    int64_t n = ortc_tensor_numel(indices);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = ortc_tensor_get_int(indices, i);
        if (k < -dim || k >= dim)
            return ortc_op_error(c, status,
                                 "index %lld (element %lld of input 1 '%s') is out of range for "
                                 "axis %d of input 0 '%s', whose dim is %lld (valid: %lld..%lld)",
                                 (long long)k, (long long)i, input_name(c, 1), axis,
                                 input_name(c, 0), (long long)dim, (long long)-dim,
                                 (long long)dim - 1);
    }
    return ORTC_STATUS_OK;
}

static ortc_status gather_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 2, 2, 1, 1)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)) ||
        (st = ortc_plain_check_known(c, 0)) ||
        (st = ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT32, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED)))
        return st;
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    if (x->rank < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' is a scalar; Gather needs rank >= 1", input_name(c, 0));
    int axis;
    if ((st = ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis)))
        return st;
    int r = idx->rank + x->rank - 1;
    if ((st = ortc_plain_check_rank(c, r, "output")))
        return st;
    /* out: (x[0..axis), indices dims, x(axis..r)) */
    int64_t dims[ORTC_MAX_RANK];
    int j = 0;
    for (int i = 0; i < axis; i++)
        dims[j++] = x->dims[i];
    for (int i = 0; i < idx->rank; i++)
        dims[j++] = idx->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[j++] = x->dims[i];
    ortc_op_set_output(c, 0, x->dtype, r, dims);
    if (idx->data && x->dims[axis] >= 0)
        return gather_check_indices(c, idx, axis, x->dims[axis], ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

// data: (outer, dim, inner) elements, indices: (n), out: (outer, n, inner);
// `row` = inner * element size bytes. Indices are already range-checked.
static void gather_forward(char *out, const char *data, const ortc_tensor *indices, int64_t outer,
                           int64_t dim, int64_t n, size_t row)
{
    for (int64_t o = 0; o < outer; o++) {
        const char *src = data + (size_t)(o * dim) * row;
        for (int64_t i = 0; i < n; i++) {
            int64_t k = ortc_tensor_get_int(indices, i);
            if (k < 0)
                k += dim;
            memcpy(out, src + (size_t)k * row, row);
            out += row;
        }
    }
}

static ortc_status gather_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    int axis;
    ortc_status st = ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (st)
        return st;
    int64_t dim = x->dims[axis];
    if ((st = gather_check_indices(c, idx, axis, dim, ORTC_STATUS_INVALID_ARGUMENT)))
        return st;
    int64_t outer = span(x->dims, 0, axis), inner = span(x->dims, axis + 1, x->rank);
    size_t row = (size_t)inner * ortc_dtype_size(x->dtype);
    int64_t n = ortc_tensor_numel(idx);
    if (row == 0 || n == 0 || outer == 0)
        return ORTC_STATUS_OK; /* nothing to move; pointers may be NULL */
    gather_forward(c->out[0]->data, x->data, idx, outer, dim, n, row);
    return ORTC_STATUS_OK;
}

/* ---- Concat ---------------------------------------------------------------
 * axis: default 1 in Concat-1, required from 4, negative from 11. */

static ortc_status concat_axis(ortc_opctx *c, int *axis)
{
    int version = ortc_op_version(c);
    const ortc_attr *a = ortc_node_attr(c->node, "axis");
    if (!a && version >= 4)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'axis' is missing");
    int64_t v = a ? a->i : 1;
    return ortc_op_axis(c, v, c->in[0]->rank, axis);
}

static ortc_status concat_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, INT_MAX, 1, 1)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)))
        return st;
    for (int i = 0; i < c->n_in; i++)
        if ((st = ortc_plain_check_known(c, i)))
            return st;
    const ortc_tensor *x0 = c->in[0];
    if (x0->rank < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' is a scalar; Concat needs rank >= 1", input_name(c, 0));
    int axis;
    if ((st = concat_axis(c, &axis)))
        return st;
    int64_t dims[ORTC_MAX_RANK];
    memcpy(dims, x0->dims, sizeof dims);
    char s0[128], si[128];
    ortc_shape_str(s0, sizeof s0, x0->rank, x0->dims);
    for (int i = 1; i < c->n_in; i++) {
        const ortc_tensor *xi = c->in[i];
        ortc_shape_str(si, sizeof si, xi->rank, xi->dims);
        if (xi->dtype != x0->dtype)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d '%s' has dtype %s but input 0 '%s' has %s", i,
                                 input_name(c, i), ortc_dtype_name(xi->dtype), input_name(c, 0),
                                 ortc_dtype_name(x0->dtype));
        if (xi->rank != x0->rank)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL,
                "input %d '%s' has shape %s (rank %d) but input 0 '%s' has shape %s "
                "(rank %d)",
                i, input_name(c, i), si, xi->rank, input_name(c, 0), s0, x0->rank);
        for (int d = 0; d < x0->rank; d++) {
            if (d == axis)
                continue;
            if (xi->dims[d] != x0->dims[d])
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "input %d '%s' has shape %s but input 0 '%s' has shape %s: "
                                     "dims must match except on axis %d (dim %d: %lld vs %lld)",
                                     i, input_name(c, i), si, input_name(c, 0), s0, axis, d,
                                     (long long)xi->dims[d], (long long)x0->dims[d]);
        }
        if (dims[axis] < 0 || xi->dims[axis] < 0)
            dims[axis] = -1;
        else
            dims[axis] += xi->dims[axis];
    }
    ortc_op_set_output(c, 0, x0->dtype, x0->rank, dims);
    return ORTC_STATUS_OK;
}

static ortc_status concat_run(ortc_opctx *c)
{
    int axis;
    ortc_status st = concat_axis(c, &axis);
    if (st)
        return st;
    const ortc_tensor *x0 = c->in[0];
    int64_t outer = span(x0->dims, 0, axis);
    size_t inner = (size_t)span(x0->dims, axis + 1, x0->rank) * ortc_dtype_size(x0->dtype);
    // input i: (outer, d_i, inner) -> out: (outer, sum d_i, inner)
    char *out = c->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < c->n_in; i++) {
            size_t chunk = (size_t)c->in[i]->dims[axis] * inner;
            if (!chunk)
                continue;
            memcpy(out, (const char *)c->in[i]->data + (size_t)o * chunk, chunk);
            out += chunk;
        }
    return ORTC_STATUS_OK;
}

/* ---- Cast ------------------------------------------------------------------
 * Numbers only (string casts are refused for now). Every element goes
 * through one of three carriers — double for floating sources, int64 or
 * uint64 for integer and bool sources — so each conversion rounds once.
 * Defined results where C leaves conversions undefined:
 *   float -> integer: truncate toward zero, saturate to the target's range,
 *                     NaN -> 0 (C's out-of-range conversion is UB);
 *   integer -> narrower integer: wrap modulo 2^bits (two's complement), as
 *                     numpy and ONNX Runtime do;
 *   anything -> bool: 0 or 1 (nonzero and NaN are 1);
 *   double -> float overflow: +-inf (IEC 60559 / C11 Annex F, which gcc and
 *                     glibc implement);
 *   -> float16/bfloat16: round to nearest even, overflow to inf, NaN stays
 *                     NaN. int64 -> bfloat16 goes through double, which can
 *                     round twice only above 2^53. */

typedef enum { NUM_F, NUM_I, NUM_U } num_kind;

typedef struct num {
    num_kind kind;
    double f;
    int64_t i;
    uint64_t u;
} num;

typedef num (*load_fn)(const void *src, int64_t i);
typedef void (*store_fn)(void *dst, int64_t i, num v);

static num num_f(double f)
{
    return (num){NUM_F, f, 0, 0};
}
static num num_i(int64_t i)
{
    return (num){NUM_I, 0, i, 0};
}
static num num_u(uint64_t u)
{
    return (num){NUM_U, 0, 0, u};
}

static num load_f32(const void *s, int64_t i)
{
    return num_f(((const float *)s)[i]);
}
static num load_f64(const void *s, int64_t i)
{
    return num_f(((const double *)s)[i]);
}
static num load_f16(const void *s, int64_t i)
{
    return num_f(ortc_f16_to_float(((const uint16_t *)s)[i]));
}
static num load_bf16(const void *s, int64_t i)
{
    return num_f(ortc_bf16_to_float(((const uint16_t *)s)[i]));
}
static num load_i8(const void *s, int64_t i)
{
    return num_i(((const int8_t *)s)[i]);
}
static num load_i16(const void *s, int64_t i)
{
    return num_i(((const int16_t *)s)[i]);
}
static num load_i32(const void *s, int64_t i)
{
    return num_i(((const int32_t *)s)[i]);
}
static num load_i64(const void *s, int64_t i)
{
    return num_i(((const int64_t *)s)[i]);
}
static num load_u8(const void *s, int64_t i)
{
    return num_u(((const uint8_t *)s)[i]);
}
static num load_u16(const void *s, int64_t i)
{
    return num_u(((const uint16_t *)s)[i]);
}
static num load_u32(const void *s, int64_t i)
{
    return num_u(((const uint32_t *)s)[i]);
}
static num load_u64(const void *s, int64_t i)
{
    return num_u(((const uint64_t *)s)[i]);
}
static num load_bool(const void *s, int64_t i)
{
    return num_u(((const uint8_t *)s)[i] != 0);
}

static double num_double(num v)
{
    return v.kind == NUM_F ? v.f : v.kind == NUM_I ? (double)v.i : (double)v.u;
}

/* Integer bits modulo 2^64 (conversion to unsigned is defined in C). */
static uint64_t num_bits(num v)
{
    return v.kind == NUM_I ? (uint64_t)v.i : v.u;
}

/* Truncate toward zero, saturate to [lo, hi], NaN -> 0. (double)lo and
 * (double)hi are exact or round away from the range (2^63), so every value
 * strictly between them truncates to a representable integer. */
static int64_t float_to_signed(double f, int64_t lo, int64_t hi)
{
    if (isnan(f))
        return 0;
    if (f <= (double)lo)
        return lo;
    if (f >= (double)hi)
        return hi;
    return (int64_t)f;
}

static uint64_t float_to_unsigned(double f, uint64_t hi)
{
    if (!(f > 0)) /* NaN, zero, negatives (which saturate to 0) */
        return 0;
    if (f >= (double)hi)
        return hi;
    return (uint64_t)f;
}

static void store_f32(void *d, int64_t i, num v)
{
    ((float *)d)[i] = v.kind == NUM_F ? (float)v.f : v.kind == NUM_I ? (float)v.i : (float)v.u;
}
static void store_f64(void *d, int64_t i, num v)
{
    ((double *)d)[i] = num_double(v);
}
static void store_f16(void *d, int64_t i, num v)
{
    ((uint16_t *)d)[i] = ortc_f16_from_double(num_double(v));
}
static void store_bf16(void *d, int64_t i, num v)
{
    ((uint16_t *)d)[i] = ortc_bf16_from_double(num_double(v));
}
static void store_bool(void *d, int64_t i, num v)
{
    ((uint8_t *)d)[i] = v.kind == NUM_F ? v.f != 0 : num_bits(v) != 0;
}

/* Signed targets: exact-width intN_t are two's complement (C11 7.20.1.1),
 * so the wrapped bits are copied in rather than converted. */
#define STORE_SIGNED(name, T, UT, LO, HI)                                                          \
    static void name(void *d, int64_t i, num v)                                                    \
    {                                                                                              \
        T x;                                                                                       \
        if (v.kind == NUM_F) {                                                                     \
            x = (T)float_to_signed(v.f, LO, HI);                                                   \
        } else {                                                                                   \
            UT bits = (UT)num_bits(v);                                                             \
            memcpy(&x, &bits, sizeof x);                                                           \
        }                                                                                          \
        ((T *)d)[i] = x;                                                                           \
    }
#define STORE_UNSIGNED(name, T, HI)                                                                \
    static void name(void *d, int64_t i, num v)                                                    \
    {                                                                                              \
        ((T *)d)[i] = v.kind == NUM_F ? (T)float_to_unsigned(v.f, HI) : (T)num_bits(v);            \
    }

STORE_SIGNED(store_i8, int8_t, uint8_t, INT8_MIN, INT8_MAX)
STORE_SIGNED(store_i16, int16_t, uint16_t, INT16_MIN, INT16_MAX)
STORE_SIGNED(store_i32, int32_t, uint32_t, INT32_MIN, INT32_MAX)
STORE_SIGNED(store_i64, int64_t, uint64_t, INT64_MIN, INT64_MAX)
STORE_UNSIGNED(store_u8, uint8_t, UINT8_MAX)
STORE_UNSIGNED(store_u16, uint16_t, UINT16_MAX)
STORE_UNSIGNED(store_u32, uint32_t, UINT32_MAX)
STORE_UNSIGNED(store_u64, uint64_t, UINT64_MAX)

/* The loader/storer for a numeric dtype; NULL for string, complex and
 * unknown dtypes. */
static load_fn cast_loader(ortc_dtype t)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: return load_f32;
    case ORTC_DTYPE_DOUBLE: return load_f64;
    case ORTC_DTYPE_FLOAT16: return load_f16;
    case ORTC_DTYPE_BFLOAT16: return load_bf16;
    case ORTC_DTYPE_INT8: return load_i8;
    case ORTC_DTYPE_INT16: return load_i16;
    case ORTC_DTYPE_INT32: return load_i32;
    case ORTC_DTYPE_INT64: return load_i64;
    case ORTC_DTYPE_UINT8: return load_u8;
    case ORTC_DTYPE_UINT16: return load_u16;
    case ORTC_DTYPE_UINT32: return load_u32;
    case ORTC_DTYPE_UINT64: return load_u64;
    case ORTC_DTYPE_BOOL: return load_bool;
    default: return NULL;
    }
}

static store_fn cast_storer(ortc_dtype t)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: return store_f32;
    case ORTC_DTYPE_DOUBLE: return store_f64;
    case ORTC_DTYPE_FLOAT16: return store_f16;
    case ORTC_DTYPE_BFLOAT16: return store_bf16;
    case ORTC_DTYPE_INT8: return store_i8;
    case ORTC_DTYPE_INT16: return store_i16;
    case ORTC_DTYPE_INT32: return store_i32;
    case ORTC_DTYPE_INT64: return store_i64;
    case ORTC_DTYPE_UINT8: return store_u8;
    case ORTC_DTYPE_UINT16: return store_u16;
    case ORTC_DTYPE_UINT32: return store_u32;
    case ORTC_DTYPE_UINT64: return store_u64;
    case ORTC_DTYPE_BOOL: return store_bool;
    default: return NULL;
    }
}

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

static ortc_status cast_check_numeric(ortc_opctx *c, ortc_dtype t, const char *role)
{
    if (t == ORTC_DTYPE_STRING)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "casts %s string are not supported", role);
    if (!cast_loader(t))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "Cast does not convert %s %s", role,
                             ortc_dtype_name(t));
    return ORTC_STATUS_OK;
}

static ortc_status cast_infer(ortc_opctx *c)
{
    ortc_status st;
    ortc_dtype to = ORTC_DTYPE_UNDEFINED;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) || (st = ortc_plain_check_known(c, 0)) ||
        (st = ortc_op_check_attr(c, "to",
                                 ortc_op_version(c) < 6 ? ORTC_ATTR_STRING : ORTC_ATTR_INT)) ||
        (st = cast_target(c, &to)) || (st = cast_check_numeric(c, c->in[0]->dtype, "from")) ||
        (st = cast_check_numeric(c, to, "to")))
        return st;
    ortc_op_set_output(c, 0, to, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

// out: (n) of dtype `to`, x: (n) of dtype `from`
static void cast_forward(void *out, store_fn store, const void *x, load_fn load, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        store(out, i, load(x, i));
}

static ortc_status cast_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    ortc_tensor *y = c->out[0];
    int64_t n = ortc_tensor_numel(x);
    if (x->dtype == y->dtype && x->dtype != ORTC_DTYPE_BOOL) {
        ortc_plain_copy(y->data, x->data, ortc_tensor_bytes(x));
        return ORTC_STATUS_OK;
    }
    load_fn load = cast_loader(x->dtype);
    store_fn store = cast_storer(y->dtype);
    if (!load || !store)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "Cast from %s to %s is not supported",
                             ortc_dtype_name(x->dtype), ortc_dtype_name(y->dtype));
    cast_forward(y->data, store, x->data, load, n);
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

/* Cast's dtypes are those it converts from (numbers and bool). */
const ortc_operator ortc_ops_tensor[] = {
    ORTC_OP("Constant", 1, 13, .versions = {1, 9, 11, 12, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = constant_infer, .run = constant_run),
    ORTC_OP("Gather", 1, 13, .versions = {1, 11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = gather_infer, .run = gather_run),
    ORTC_OP("Concat", 1, 13, .versions = {1, 4, 11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = concat_infer, .run = concat_run),
    ORTC_OP("Cast", 1, 13, .versions = {1, 6, 9, 13},
            .dtypes =
                ORTC_DTYPES_ALL & ~(ORTC_DT(STRING) | ORTC_DT(COMPLEX64) | ORTC_DT(COMPLEX128)),
            .infer = cast_infer, .run = cast_run),
};
ORTC_OP_TABLE_END(tensor);
