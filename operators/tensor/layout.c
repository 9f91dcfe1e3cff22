/* layout.c — plain-C operators that move, cut, pad, broadcast or generate
 * tensor data: Split, Slice, Transpose, Pad, Expand, ConstantOfShape, Range,
 * Tile, Size, Trilu, GatherElements, ScatterElements, DepthToSpace,
 * SpaceToDepth and CastLike. Data movement works on element bytes, so any
 * dtype passes (STRING elements are char* copied as pointers: outputs borrow
 * the input's strings). Arithmetic (Range, ScatterElements' add/mul,
 * CastLike) is per dtype. CastLike parses strings but does not format
 * numbers as strings (the runtime has no storage for new strings).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "layout_util.h"
#include "operator.h"
#include "plain_util.h"

#define F32 ORTC_DTYPE_FLOAT
#define F64 ORTC_DTYPE_DOUBLE
#define F16 ORTC_DTYPE_FLOAT16
#define BF16 ORTC_DTYPE_BFLOAT16
#define I8 ORTC_DTYPE_INT8
#define I16 ORTC_DTYPE_INT16
#define I32 ORTC_DTYPE_INT32
#define I64 ORTC_DTYPE_INT64
#define U8 ORTC_DTYPE_UINT8
#define U16 ORTC_DTYPE_UINT16
#define U32 ORTC_DTYPE_UINT32
#define U64 ORTC_DTYPE_UINT64
#define BOOL ORTC_DTYPE_BOOL
#define STR ORTC_DTYPE_STRING
#define END ORTC_DTYPE_UNDEFINED
#define R ORTC_MAX_RANK

/* The STRING "zero" (Pad's default fill, Trilu's cleared elements). */
static char empty_string[1];

/* ---- small helpers ----------------------------------------------------- */

static const char *input_name(const ortc_opctx *c, int i)
{
    const ortc_value *v = i < c->node->n_inputs ? c->node->inputs[i] : NULL;
    return v ? v->name : "";
}

static bool has_input(const ortc_opctx *c, int i)
{
    return i < c->n_in && c->in[i];
}

/* Product of dims[from..to). */
static int64_t span(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* Row-major element strides of dims[0..rank). */
static void dense_strides(int rank, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= dims[i];
    }
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Writes the zero of dtype at dst: all-zero bytes, or "" for STRING. */
static void set_zero(void *dst, ortc_dtype dt)
{
    if (dt == STR) {
        char *s = empty_string;
        memcpy(dst, &s, sizeof s);
    } else {
        memset(dst, 0, ortc_dtype_size(dt));
    }
}

// out: (n) elements of `elem` bytes, each a copy of *val (doubling memcpy)
static void fill_forward(char *out, const void *val, int64_t n, size_t elem)
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

/* A bad value in a shape-determining input: the caller's fault when the
 * input is a graph input, the model's otherwise. */
static ortc_status value_status(const ortc_opctx *c, int i)
{
    const ortc_value *v = i < c->node->n_inputs ? c->node->inputs[i] : NULL;
    return v && v->kind == ORTC_VALUE_INPUT ? ORTC_STATUS_INVALID_ARGUMENT
                                            : ORTC_STATUS_INVALID_MODEL;
}

static ortc_status data_unknown(ortc_opctx *c, int i, const char *what)
{
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                         "the output shape depends on the values of input %d '%s' (%s), which are "
                         "only known at run time; ortc needs them when compiling (a constant, an "
                         "initializer or a graph input)",
                         i, input_name(c, i), what);
}

/* Reads input i, an int32/int64 tensor of rank 0 or 1 with at most `max`
 * values known at compile time, into vals[0..*n). */
static ortc_status read_int_list(ortc_opctx *c, int i, const char *what, bool int64_only,
                                 int64_t *vals, int max, int *n)
{
    const ortc_tensor *t = c->in[i];
    if (t->dtype != I64 && (int64_only || t->dtype != I32))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has dtype %s; expected %s", i, input_name(c, i),
                             what, ortc_dtype_name(t->dtype),
                             int64_only ? "int64" : "int32 or int64");
    if (t->rank > 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has rank %d; expected a 1-D list", i,
                             input_name(c, i), what, t->rank);
    int64_t count = ortc_tensor_numel(t);
    if (count > max)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input %d '%s' (%s) has %lld values; ortc supports at most %d here "
                             "(rank <= %d)",
                             i, input_name(c, i), what, (long long)count, max, R);
    if (count > 0 && !t->data)
        return data_unknown(c, i, what);
    for (int64_t k = 0; k < count; k++)
        vals[k] = ortc_tensor_get_int(t, k);
    *n = (int)count;
    return ORTC_STATUS_OK;
}

/* Error unless output k's element count is representable. */
static ortc_status check_numel(ortc_opctx *c, int k)
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

static void declare_view(ortc_opctx *c)
{
    if (c->view)
        c->view[0] = 0;
}

/* ---- element conversion -------------------------------------------------
 * For CastLike and Pad-1/2's float `value`. Each element goes through one
 * carrier — double for floating sources, int64/uint64 for integers and bool
 * — so a conversion rounds once. Cast's rules (tensor.c): float -> integer
 * truncates toward zero and saturates, NaN -> 0; integer -> narrower integer
 * wraps modulo 2^bits; anything -> bool is 0/1 (NaN -> 1); -> float16 /
 * bfloat16 rounds to nearest even. */

typedef enum { SC_FLOAT, SC_SIGNED, SC_UNSIGNED } scalar_kind;

typedef struct scalar {
    scalar_kind kind;
    double f;
    int64_t i;
    uint64_t u;
} scalar;

static scalar sc_float(double f)
{
    return (scalar){SC_FLOAT, f, 0, 0};
}
static scalar sc_signed(int64_t i)
{
    return (scalar){SC_SIGNED, 0, i, 0};
}
static scalar sc_unsigned(uint64_t u)
{
    return (scalar){SC_UNSIGNED, 0, 0, u};
}

static bool numeric_dtype(ortc_dtype t)
{
    switch (t) {
    case F32:
    case F64:
    case F16:
    case BF16:
    case I8:
    case I16:
    case I32:
    case I64:
    case U8:
    case U16:
    case U32:
    case U64:
    case BOOL: return true;
    default: return false;
    }
}

static bool float_dtype(ortc_dtype t)
{
    return t == F32 || t == F64 || t == F16 || t == BF16;
}

/* Element i of a numeric array of dtype t (numeric_dtype(t) holds). */
static scalar sc_load(ortc_dtype t, const void *p, int64_t i)
{
    switch (t) {
    case F32: return sc_float(((const float *)p)[i]);
    case F64: return sc_float(((const double *)p)[i]);
    case F16: return sc_float(ortc_f16_to_float(((const uint16_t *)p)[i]));
    case BF16: return sc_float(ortc_bf16_to_float(((const uint16_t *)p)[i]));
    case I8: return sc_signed(((const int8_t *)p)[i]);
    case I16: return sc_signed(((const int16_t *)p)[i]);
    case I32: return sc_signed(((const int32_t *)p)[i]);
    case I64: return sc_signed(((const int64_t *)p)[i]);
    case U8: return sc_unsigned(((const uint8_t *)p)[i]);
    case U16: return sc_unsigned(((const uint16_t *)p)[i]);
    case U32: return sc_unsigned(((const uint32_t *)p)[i]);
    case U64: return sc_unsigned(((const uint64_t *)p)[i]);
    case BOOL: return sc_unsigned(((const uint8_t *)p)[i] != 0);
    default: return sc_signed(0);
    }
}

static double sc_double(scalar v)
{
    return v.kind == SC_FLOAT ? v.f : v.kind == SC_SIGNED ? (double)v.i : (double)v.u;
}

/* The value's bits modulo 2^64, for integer targets (wraps). Floats are
 * truncated and saturated to [lo, hi] first; NaN -> 0. */
static uint64_t sc_bits(scalar v, int64_t lo, uint64_t hi)
{
    if (v.kind == SC_SIGNED)
        return (uint64_t)v.i;
    if (v.kind == SC_UNSIGNED)
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

static void sc_store(ortc_dtype t, void *p, int64_t i, scalar v)
{
    switch (t) {
    case F32:
        ((float *)p)[i] = v.kind == SC_FLOAT    ? (float)v.f
                          : v.kind == SC_SIGNED ? (float)v.i
                                                : (float)v.u;
        break;
    case F64: ((double *)p)[i] = sc_double(v); break;
    case F16: ((uint16_t *)p)[i] = ortc_f16_from_double(sc_double(v)); break;
    case BF16: ((uint16_t *)p)[i] = ortc_bf16_from_double(sc_double(v)); break;
    case BOOL:
        ((uint8_t *)p)[i] = v.kind == SC_FLOAT ? v.f != 0 : sc_bits(v, 0, UINT64_MAX) != 0;
        break;
#define STORE_INT(T, UT, LO, HI)                                                                   \
    {                                                                                              \
        UT bits = (UT)sc_bits(v, LO, HI);                                                          \
        memcpy((T *)p + i, &bits, sizeof bits); /* two's complement: bits are the value */         \
        break;                                                                                     \
    }
    case I8: STORE_INT(int8_t, uint8_t, INT8_MIN, INT8_MAX)
    case I16: STORE_INT(int16_t, uint16_t, INT16_MIN, INT16_MAX)
    case I32: STORE_INT(int32_t, uint32_t, INT32_MIN, INT32_MAX)
    case I64: STORE_INT(int64_t, uint64_t, INT64_MIN, INT64_MAX)
    case U8: STORE_INT(uint8_t, uint8_t, 0, UINT8_MAX)
    case U16: STORE_INT(uint16_t, uint16_t, 0, UINT16_MAX)
    case U32: STORE_INT(uint32_t, uint32_t, 0, UINT32_MAX)
    case U64: STORE_INT(uint64_t, uint64_t, 0, UINT64_MAX)
#undef STORE_INT
    default: break;
    }
}

/* ---- Split ----------------------------------------------------------------
 * Lengths: attribute 'split' (Split-1/2/11) or input 1 (Split-1 and 13);
 * equal parts when neither (the axis must then divide evenly). Negative axes
 * from Split-11. */

static bool split_from_input(const ortc_opctx *c)
{
    int v = ortc_op_version(c);
    return (v == 1 || v >= 13) && has_input(c, 1);
}

/* Length of output k on the axis (validated by split_infer). */
static int64_t split_len(const ortc_opctx *c, int k, int64_t dim)
{
    if (split_from_input(c))
        return ortc_tensor_get_int(c->in[1], k);
    const ortc_attr *a = ortc_op_version(c) < 13 ? ortc_node_attr(c->node, "split") : NULL;
    if (a)
        return a->ints[k];
    return dim / c->n_out;
}

static ortc_status split_axis(ortc_opctx *c, int *axis)
{
    int64_t a = ortc_node_attr_int(c->node, "axis", 0);
    return ortc_op_axis(c, a, c->in[0]->rank, axis);
}

static ortc_status split_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, version == 1 || version >= 13 ? 2 : 1, 1, INT_MAX)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)) ||
        (version < 13 && (st = ortc_op_check_attr(c, "split", ORTC_ATTR_INTS))) ||
        (st = ortc_plain_check_known(c, 0)))
        return st;
    const ortc_tensor *x = c->in[0];
    if (x->rank < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' is a scalar; Split needs rank >= 1", input_name(c, 0));
    int axis;
    if ((st = split_axis(c, &axis)))
        return st;
    int64_t dim = x->dims[axis];
    int n_out = c->n_out;
    if (split_from_input(c)) {
        const ortc_tensor *s = c->in[1];
        bool ok_type = version >= 13 ? s->dtype == I64 : numeric_dtype(s->dtype);
        if (!ok_type || s->rank != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 1 '%s' (split) is %s of rank %d; expected a 1-D %s list",
                                 input_name(c, 1), ortc_dtype_name(s->dtype), s->rank,
                                 version >= 13 ? "int64" : "numeric");
        if (s->dims[0] != n_out)
            return ortc_op_error(c, value_status(c, 1),
                                 "input 1 '%s' (split) has %lld lengths but the node has %d "
                                 "outputs",
                                 input_name(c, 1), (long long)s->dims[0], n_out);
        if (n_out > 0 && !s->data)
            return data_unknown(c, 1, "split");
    } else if (version < 13 && ortc_node_attr(c->node, "split")) {
        size_t n = 0;
        ortc_node_attr_ints(c->node, "split", &n);
        if ((int64_t)n != n_out)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'split' has %zu lengths but the node has %d outputs", n,
                                 n_out);
    } else if (dim % n_out) {
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "axis %d of input 0 '%s' has dim %lld, which does not split into %d "
                             "equal parts (give 'split' lengths)",
                             axis, input_name(c, 0), (long long)dim, n_out);
    }
    ortc_status bad = split_from_input(c) ? value_status(c, 1) : ORTC_STATUS_INVALID_MODEL;
    int64_t sum = 0;
    for (int k = 0; k < n_out; k++) {
        int64_t len = split_len(c, k, dim);
        if (len < 0)
            return ortc_op_error(c, bad, "split length %d is %lld; lengths must be >= 0", k,
                                 (long long)len);
        sum += len;
    }
    if (sum != dim)
        return ortc_op_error(c, bad,
                             "split lengths sum to %lld but axis %d of input 0 '%s' has dim %lld",
                             (long long)sum, axis, input_name(c, 0), (long long)dim);
    int64_t dims[R];
    memcpy(dims, x->dims, sizeof dims);
    for (int k = 0; k < n_out; k++) {
        dims[axis] = split_len(c, k, dim);
        ortc_op_set_output(c, k, x->dtype, x->rank, dims);
    }
    return ORTC_STATUS_OK;
}

static ortc_status split_run(ortc_opctx *c)
{
    int axis;
    ortc_status st = split_axis(c, &axis);
    if (st)
        return st;
    const ortc_tensor *x = c->in[0];
    int64_t dim = x->dims[axis];
    int64_t outer = span(x->dims, 0, axis);
    int64_t row = span(x->dims, axis + 1, x->rank) * (int64_t)ortc_dtype_size(x->dtype);
    // x: (outer, dim, row bytes) -> out k: (outer, len_k, row bytes)
    int64_t start = 0;
    for (int k = 0; k < c->n_out; k++) {
        int64_t len = split_len(c, k, dim);
        if (c->out[k] && len * row > 0) {
            char *out = c->out[k]->data;
            const char *in = (const char *)x->data + start * row;
            for (int64_t o = 0; o < outer; o++)
                memcpy(out + o * len * row, in + o * dim * row, (size_t)(len * row));
        }
        start += len;
    }
    return ORTC_STATUS_OK;
}

/* ---- Slice ----------------------------------------------------------------
 * starts/ends/axes as attributes in Slice-1, starts/ends/axes/steps as
 * inputs 1..4 from Slice-10; negative axes from 11. Per axis of size d
 * (numpy semantics, Slice-13's text): negative starts/ends count from the
 * back (+d); then for step > 0 both clamp to [0, d], for step < 0 start
 * clamps to [0, d-1] and end to [-1, d-1]; the count is
 * ceil((end - start) / step) when positive. */

typedef struct slice_plan {
    int64_t first[R], step[R], count[R];
} slice_plan;

static void slice_axis(int64_t d, int64_t start, int64_t end, int64_t step, int64_t *first,
                       int64_t *count)
{
    if (start < 0)
        start += d;
    if (end < 0)
        end += d;
    *first = 0;
    *count = 0;
    if (d == 0)
        return;
    if (step > 0) {
        start = clamp64(start, 0, d);
        end = clamp64(end, 0, d);
        *first = start;
        if (end > start)
            *count = (int64_t)((uint64_t)(end - start - 1) / (uint64_t)step) + 1;
    } else {
        start = clamp64(start, 0, d - 1);
        end = clamp64(end, -1, d - 1);
        *first = start;
        if (start > end) /* 0 - (uint64)step is |step|, also for INT64_MIN */
            *count = (int64_t)((uint64_t)(start - end - 1) / (0 - (uint64_t)step)) + 1;
    }
}

/* Reads Slice-1's list attribute `name` into vals (at most R values). */
static ortc_status slice_attr(ortc_opctx *c, const char *name, bool required, int64_t *vals, int *n)
{
    const ortc_attr *a = ortc_node_attr(c->node, name);
    *n = -1;
    if (!a) {
        if (required)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' is missing", name);
        return ORTC_STATUS_OK;
    }
    if (a->n > R)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "attribute '%s' has %zu values; ortc supports rank <= %d", name, a->n,
                             R);
    for (size_t k = 0; k < a->n; k++)
        vals[k] = a->ints[k];
    *n = (int)a->n;
    return ORTC_STATUS_OK;
}

static ortc_status slice_resolve(ortc_opctx *c, slice_plan *p)
{
    int version = ortc_op_version(c);
    const ortc_tensor *x = c->in[0];
    int r = x->rank;
    int64_t starts[R], ends[R], axes[R], steps[R];
    int n_starts, n_ends, n_axes = -1, n_steps = -1;
    ortc_status st;
    if (version < 10) {
        if ((st = slice_attr(c, "starts", true, starts, &n_starts)) ||
            (st = slice_attr(c, "ends", true, ends, &n_ends)) ||
            (st = slice_attr(c, "axes", false, axes, &n_axes)))
            return st;
    } else {
        if ((st = read_int_list(c, 1, "starts", false, starts, R, &n_starts)) ||
            (st = read_int_list(c, 2, "ends", false, ends, R, &n_ends)) ||
            (has_input(c, 3) && (st = read_int_list(c, 3, "axes", false, axes, R, &n_axes))) ||
            (has_input(c, 4) && (st = read_int_list(c, 4, "steps", false, steps, R, &n_steps))))
            return st;
    }
    ortc_status bad = version < 10 ? ORTC_STATUS_INVALID_MODEL : value_status(c, 1);
    if (n_ends != n_starts || (n_axes >= 0 && n_axes != n_starts) ||
        (n_steps >= 0 && n_steps != n_starts))
        return ortc_op_error(c, bad,
                             "starts, ends, axes and steps must have the same length; they have "
                             "%d, %d, %d and %d values (-1: absent)",
                             n_starts, n_ends, n_axes, n_steps);
    if (n_axes < 0 && n_starts > r)
        return ortc_op_error(c, bad, "starts has %d values but input 0 '%s' has rank %d", n_starts,
                             input_name(c, 0), r);
    for (int i = 0; i < r; i++) {
        p->first[i] = 0;
        p->step[i] = 1;
        p->count[i] = x->dims[i];
    }
    bool seen[R] = {false};
    for (int k = 0; k < n_starts; k++) {
        int64_t a = n_axes >= 0 ? axes[k] : k;
        if (a < 0)
            a += r;
        if (a < 0 || a >= r)
            return ortc_op_error(c, bad, "axes[%d] is %lld, out of range for rank %d", k,
                                 (long long)(n_axes >= 0 ? axes[k] : k), r);
        if (seen[a])
            return ortc_op_error(c, bad, "axes[%d] is %lld, a repeat of an earlier axis", k,
                                 (long long)axes[k]);
        seen[a] = true;
        int64_t step = n_steps >= 0 ? steps[k] : 1;
        if (step == 0)
            return ortc_op_error(c, bad, "steps[%d] is 0; steps must be nonzero", k);
        p->step[a] = step;
        slice_axis(x->dims[a], starts[k], ends[k], step, &p->first[a], &p->count[a]);
    }
    return ORTC_STATUS_OK;
}

static ortc_status slice_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    ortc_status st;
    if (version < 10) {
        if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
            (st = ortc_op_check_attr(c, "starts", ORTC_ATTR_INTS)) ||
            (st = ortc_op_check_attr(c, "ends", ORTC_ATTR_INTS)) ||
            (st = ortc_op_check_attr(c, "axes", ORTC_ATTR_INTS)))
            return st;
    } else if ((st = ortc_op_check_arity(c, 3, 5, 1, 1))) {
        return st;
    }
    if ((st = ortc_plain_check_known(c, 0)))
        return st;
    slice_plan p;
    if ((st = slice_resolve(c, &p)))
        return st;
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, p.count);
    return ORTC_STATUS_OK;
}

static ortc_status slice_prepare(ortc_opctx *c)
{
    slice_plan p;
    ortc_status st = slice_resolve(c, &p);
    if (st)
        return st;
    /* everything, forwards: the output is the input */
    const ortc_tensor *x = c->in[0];
    for (int i = 0; i < x->rank; i++)
        if (p.count[i] != x->dims[i] || (x->dims[i] > 1 && p.step[i] < 0))
            return ORTC_STATUS_OK;
    declare_view(c);
    return ORTC_STATUS_OK;
}

static ortc_status slice_run(ortc_opctx *c)
{
    slice_plan p;
    ortc_status st = slice_resolve(c, &p);
    if (st)
        return st;
    const ortc_tensor *x = c->in[0];
    if (ortc_tensor_numel(c->out[0]) == 0)
        return ORTC_STATUS_OK;
    size_t elem = ortc_dtype_size(x->dtype);
    int64_t xs[R], vs[R], base = 0;
    dense_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++) {
        base += p.first[i] * xs[i];
        vs[i] = p.step[i] * xs[i];
    }
    ortc_strided_copy(c->out[0]->data, (const char *)x->data + base * (int64_t)elem, x->rank,
                      p.count, vs, elem);
    return ORTC_STATUS_OK;
}

/* ---- Transpose ------------------------------------------------------------
 * perm defaults to reversing the dims. */

static ortc_status transpose_perm(ortc_opctx *c, int *perm)
{
    int r = c->in[0]->rank;
    const ortc_attr *a = ortc_node_attr(c->node, "perm");
    if (!a) {
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
        return ORTC_STATUS_OK;
    }
    if (a->n != (size_t)r)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'perm' has %zu values but input 0 '%s' has rank %d", a->n,
                             input_name(c, 0), r);
    bool seen[R] = {false};
    for (int i = 0; i < r; i++) {
        int64_t v = a->ints[i];
        if (v < 0 || v >= r)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "perm[%d] is %lld, out of range for rank %d", i, (long long)v, r);
        if (seen[v])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "perm[%d] is %lld, which appears twice; perm must be a "
                                 "permutation",
                                 i, (long long)v);
        seen[v] = true;
        perm[i] = (int)v;
    }
    return ORTC_STATUS_OK;
}

static ortc_status transpose_infer(ortc_opctx *c)
{
    ortc_status st;
    int perm[R];
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
        (st = ortc_op_check_attr(c, "perm", ORTC_ATTR_INTS)) ||
        (st = ortc_plain_check_known(c, 0)) || (st = transpose_perm(c, perm)))
        return st;
    const ortc_tensor *x = c->in[0];
    int64_t dims[R];
    for (int i = 0; i < x->rank; i++)
        dims[i] = x->dims[perm[i]];
    ortc_op_set_output(c, 0, x->dtype, x->rank, dims);
    return ORTC_STATUS_OK;
}

static ortc_status transpose_prepare(ortc_opctx *c)
{
    int perm[R];
    ortc_status st = transpose_perm(c, perm);
    if (st)
        return st;
    /* only size-1 dims move: same bytes in the same order */
    const ortc_tensor *x = c->in[0];
    int last = -1;
    for (int i = 0; i < x->rank; i++) {
        if (x->dims[perm[i]] == 1)
            continue;
        if (perm[i] < last)
            return ORTC_STATUS_OK;
        last = perm[i];
    }
    declare_view(c);
    return ORTC_STATUS_OK;
}

static ortc_status transpose_run(ortc_opctx *c)
{
    int perm[R];
    ortc_status st = transpose_perm(c, perm);
    if (st)
        return st;
    const ortc_tensor *x = c->in[0];
    int64_t xs[R], vs[R];
    dense_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++)
        vs[i] = xs[perm[i]];
    // out[i...] = x[i permuted back]: read x through permuted strides
    ortc_strided_copy(c->out[0]->data, x->data, x->rank, c->out[0]->dims, vs,
                      ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

/* ---- Pad ------------------------------------------------------------------
 * Pad-1: attribute 'paddings'; Pad-2: 'pads'; both with a float 'value'.
 * From Pad-11: input 1 'pads' (int64) and optional input 2 'constant_value'
 * (read at run time: it does not change the shape). pads are
 * [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; negative pads crop. Output
 * position o on an axis reads input index o - begin; outside [0, d) constant
 * mode writes the value, edge clamps, reflect mirrors about the first and
 * last elements (repeatedly, as numpy.pad). With negative pads edge and
 * reflect still refer to the whole input axis. */

typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE } pad_mode;

static ortc_status pad_params(ortc_opctx *c, int64_t *pads, pad_mode *mode)
{
    int version = ortc_op_version(c);
    const ortc_tensor *x = c->in[0];
    int r = x->rank;
    const char *m = ortc_node_attr_string(c->node, "mode", "constant");
    if (!strcmp(m, "constant"))
        *mode = PAD_CONSTANT;
    else if (!strcmp(m, "reflect"))
        *mode = PAD_REFLECT;
    else if (!strcmp(m, "edge"))
        *mode = PAD_EDGE;
    else
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'mode' is \"%s\"; Pad-%d takes constant, reflect or edge",
                             m, version);
    if (version < 11) {
        const char *name = version < 2 ? "paddings" : "pads";
        const ortc_attr *a = ortc_node_attr(c->node, name);
        if (!a)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' is missing", name);
        if (a->n != (size_t)(2 * r))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute '%s' has %zu values; input 0 '%s' has rank %d, so it "
                                 "needs %d",
                                 name, a->n, input_name(c, 0), r, 2 * r);
        for (int i = 0; i < 2 * r; i++)
            pads[i] = a->ints[i];
        return ORTC_STATUS_OK;
    }
    int n;
    ortc_status st = read_int_list(c, 1, "pads", true, pads, 2 * R, &n);
    if (st)
        return st;
    if (n != 2 * r)
        return ortc_op_error(c, value_status(c, 1),
                             "input 1 '%s' (pads) has %d values; input 0 '%s' has rank %d, so it "
                             "needs %d",
                             input_name(c, 1), n, input_name(c, 0), r, 2 * r);
    return ORTC_STATUS_OK;
}

/* Input index read by output position o on an axis of size d padded by
 * `begin` in front; -1: the constant. d > 0 unless mode is constant. */
static int64_t pad_source(int64_t o, int64_t begin, int64_t d, pad_mode mode)
{
    int64_t i = o - begin;
    if (i >= 0 && i < d)
        return i;
    switch (mode) {
    case PAD_EDGE: return i < 0 ? 0 : d - 1;
    case PAD_REFLECT: {
        if (d == 1)
            return 0;
        int64_t period = 2 * (d - 1);
        i %= period;
        if (i < 0)
            i += period;
        return i < d ? i : period - i;
    }
    default: return -1;
    }
}

/* The fill element for constant mode, written to val (16 bytes). */
static ortc_status pad_value(ortc_opctx *c, void *val)
{
    const ortc_tensor *x = c->in[0];
    set_zero(val, x->dtype);
    if (ortc_op_version(c) < 11) {
        const ortc_attr *a = ortc_node_attr(c->node, "value");
        if (a)
            sc_store(x->dtype, val, 0, sc_float(a->f));
    } else if (has_input(c, 2)) {
        const ortc_tensor *v = c->in[2];
        if (ortc_tensor_numel(v) == 1 && v->data)
            memcpy(val, v->data, ortc_dtype_size(x->dtype));
    }
    return ORTC_STATUS_OK;
}

static ortc_status pad_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    ortc_status st;
    if (version < 11) {
        if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
            (st = ortc_op_check_attr(c, version < 2 ? "paddings" : "pads", ORTC_ATTR_INTS)) ||
            (st = ortc_op_check_attr(c, "value", ORTC_ATTR_FLOAT)))
            return st;
    } else if ((st = ortc_op_check_arity(c, 2, 3, 1, 1))) {
        return st;
    }
    if ((st = ortc_op_check_attr(c, "mode", ORTC_ATTR_STRING)) ||
        (st = ortc_plain_check_known(c, 0)))
        return st;
    const ortc_tensor *x = c->in[0];
    if (version < 11 && !numeric_dtype(x->dtype))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input 0 '%s' has dtype %s; Pad-%d pads numbers (its 'value' is a "
                             "float)",
                             input_name(c, 0), ortc_dtype_name(x->dtype), version);
    if (version >= 11 && has_input(c, 2)) {
        const ortc_tensor *v = c->in[2];
        if (v->dtype != x->dtype || ortc_tensor_numel(v) != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 2 '%s' (constant_value) is %s with %lld elements; it must "
                                 "be one %s like input 0",
                                 input_name(c, 2), ortc_dtype_name(v->dtype),
                                 (long long)ortc_tensor_numel(v), ortc_dtype_name(x->dtype));
    }
    int64_t pads[2 * R];
    pad_mode mode;
    if ((st = pad_params(c, pads, &mode)))
        return st;
    int r = x->rank;
    int64_t dims[R];
    for (int i = 0; i < r; i++) {
        dims[i] = x->dims[i] + pads[i] + pads[i + r];
        ortc_status bad = version < 11 ? ORTC_STATUS_INVALID_MODEL : value_status(c, 1);
        if (dims[i] < 0)
            return ortc_op_error(c, bad,
                                 "pads %lld and %lld crop axis %d of input 0 '%s' (dim %lld) "
                                 "below zero",
                                 (long long)pads[i], (long long)pads[i + r], i, input_name(c, 0),
                                 (long long)x->dims[i]);
        if (mode != PAD_CONSTANT && x->dims[i] == 0 && dims[i] > 0)
            return ortc_op_error(c, bad,
                                 "axis %d of input 0 '%s' is empty; %s mode has nothing to repeat",
                                 i, input_name(c, 0), mode == PAD_EDGE ? "edge" : "reflect");
    }
    ortc_op_set_output(c, 0, x->dtype, r, dims);
    return check_numel(c, 0);
}

static ortc_status pad_prepare(ortc_opctx *c)
{
    int64_t pads[2 * R];
    pad_mode mode;
    ortc_status st = pad_params(c, pads, &mode);
    if (st)
        return st;
    for (int i = 0; i < 2 * c->in[0]->rank; i++)
        if (pads[i])
            return ORTC_STATUS_OK;
    declare_view(c);
    return ORTC_STATUS_OK;
}

// x: (..., d) -> y: (..., w), row by row: the rows of y whose source is
// outside x on a leading axis are all `val`; the others copy the source row
// with the last axis padded.
static void pad_forward(char *y, const ortc_tensor *yt, const char *x, const ortc_tensor *xt,
                        const int64_t *pads, pad_mode mode, const void *val, size_t elem)
{
    int r = xt->rank;
    if (r == 0) {
        memcpy(y, x, elem);
        return;
    }
    int64_t e = (int64_t)elem;
    int64_t w = yt->dims[r - 1], d = xt->dims[r - 1], begin = pads[r - 1];
    int64_t lo = clamp64(begin, 0, w), hi = clamp64(begin + d, lo, w); /* y[lo..hi) = x[..] */
    int64_t rows = span(yt->dims, 0, r - 1);
    int64_t xs[R], idx[R] = {0};
    dense_strides(r, xt->dims, xs);
    for (int64_t row = 0; row < rows; row++, y += w * e) {
        int64_t off = 0;
        bool fill = false;
        for (int k = 0; k < r - 1 && !fill; k++) {
            int64_t s = pad_source(idx[k], pads[k], xt->dims[k], mode);
            fill = s < 0;
            off += s * xs[k];
        }
        if (fill) {
            fill_forward(y, val, w, elem);
        } else {
            const char *xr = x + off * e;
            for (int64_t o = 0; o < w; o++) {
                if (o == lo && hi > lo) {
                    memcpy(y + o * e, xr + (o - begin) * e, (size_t)((hi - lo) * e));
                    o = hi - 1;
                    continue;
                }
                int64_t s = pad_source(o, begin, d, mode);
                memcpy(y + o * e, s < 0 ? val : xr + s * e, elem);
            }
        }
        for (int k = r - 2; k >= 0; k--) {
            if (++idx[k] < yt->dims[k])
                break;
            idx[k] = 0;
        }
    }
}

static ortc_status pad_run(ortc_opctx *c)
{
    int64_t pads[2 * R];
    pad_mode mode;
    ortc_status st = pad_params(c, pads, &mode);
    if (st)
        return st;
    _Alignas(16) unsigned char val[16];
    if ((st = pad_value(c, val)))
        return st;
    if (ortc_tensor_numel(c->out[0]) == 0)
        return ORTC_STATUS_OK;
    const ortc_tensor *x = c->in[0];
    pad_forward(c->out[0]->data, c->out[0], x->data, x, pads, mode, val, ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

/* ---- Expand ---------------------------------------------------------------
 * Bidirectional broadcast of input 0 with the shape in input 1: dims align
 * on the right and each pair must match or contain a 1. */

static ortc_status expand_shape(ortc_opctx *c, int *rank, int64_t *dims)
{
    int64_t shape[R];
    int n;
    ortc_status st = ortc_plain_read_ints(c, 1, "shape", 1, shape, R, &n);
    if (st)
        return st;
    const ortc_tensor *x = c->in[0];
    int r = n > x->rank ? n : x->rank;
    for (int i = 0; i < r; i++) {
        int ix = i - (r - x->rank), is = i - (r - n);
        int64_t dx = ix >= 0 ? x->dims[ix] : 1, ds = is >= 0 ? shape[is] : 1;
        if (ds < 0)
            return ortc_op_error(c, value_status(c, 1),
                                 "input 1 '%s' (shape) has %lld at position %d; dims must be >= 0",
                                 input_name(c, 1), (long long)ds, is);
        if (dx == ds || ds == 1)
            dims[i] = dx;
        else if (dx == 1)
            dims[i] = ds;
        else {
            char sx[128], ss[128];
            return ortc_op_error(c, value_status(c, 1),
                                 "input 0 '%s' with shape %s cannot be expanded to %s (dim %d: "
                                 "%lld vs %lld)",
                                 input_name(c, 0), ortc_shape_str(sx, sizeof sx, x->rank, x->dims),
                                 ortc_shape_str(ss, sizeof ss, n, shape), i, (long long)dx,
                                 (long long)ds);
        }
    }
    *rank = r;
    return ORTC_STATUS_OK;
}

static ortc_status expand_infer(ortc_opctx *c)
{
    ortc_status st;
    int r = 0;
    int64_t dims[R];
    if ((st = ortc_op_check_arity(c, 2, 2, 1, 1)) || (st = ortc_plain_check_known(c, 0)) ||
        (st = expand_shape(c, &r, dims)))
        return st;
    ortc_op_set_output(c, 0, c->in[0]->dtype, r, dims);
    return check_numel(c, 0);
}

static ortc_status expand_prepare(ortc_opctx *c)
{
    /* no dim grew: only leading 1s were added */
    if (ortc_tensor_numel(c->out[0]) == ortc_tensor_numel(c->in[0]))
        declare_view(c);
    return ORTC_STATUS_OK;
}

static ortc_status expand_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    const ortc_tensor *y = c->out[0];
    int64_t xs[R], vs[R];
    dense_strides(x->rank, x->dims, xs);
    int shift = y->rank - x->rank;
    for (int i = 0; i < y->rank; i++) {
        int ix = i - shift;
        vs[i] = ix >= 0 && x->dims[ix] != 1 ? xs[ix] : 0; /* broadcast dims re-read */
    }
    ortc_strided_copy(y->data, x->data, y->rank, y->dims, vs, ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

/* ---- ConstantOfShape ------------------------------------------------------
 * Input 0 holds the output's dims (int64, 1-D; empty: a scalar); the
 * 'value' attribute is a one-element tensor (default float 0). */

static ortc_status cos_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
        (st = ortc_op_check_attr(c, "value", ORTC_ATTR_TENSOR)))
        return st;
    const ortc_attr *a = ortc_node_attr(c->node, "value");
    ortc_dtype dt = F32;
    if (a) {
        if (!a->t || ortc_dtype_size(a->t->t.dtype) == 0 || ortc_tensor_numel(&a->t->t) != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'value' must hold one element of a known dtype");
        dt = a->t->t.dtype;
    }
    int64_t dims[R];
    int n;
    if ((st = ortc_plain_read_ints(c, 0, "shape", 1, dims, R, &n)))
        return st;
    for (int i = 0; i < n; i++)
        if (dims[i] < 0)
            return ortc_op_error(c, value_status(c, 0),
                                 "input 0 '%s' (shape) has %lld at position %d; dims must be >= 0",
                                 input_name(c, 0), (long long)dims[i], i);
    ortc_op_set_output(c, 0, dt, n, dims);
    return check_numel(c, 0);
}

static ortc_status cos_run(ortc_opctx *c)
{
    const ortc_attr *a = ortc_node_attr(c->node, "value");
    ortc_tensor *y = c->out[0];
    _Alignas(16) unsigned char zero[16] = {0};
    const void *val = a ? a->t->t.data : zero;
    fill_forward(y->data, val, ortc_tensor_numel(y), ortc_dtype_size(y->dtype));
    return ORTC_STATUS_OK;
}

/* ---- Range ----------------------------------------------------------------
 * n = max(ceil((limit - start) / delta), 0); out[i] = start + i * delta.
 * Integer counts are exact (unsigned differences); float counts and values
 * are computed in double, as numpy.arange does. */

static ortc_status range_count(ortc_opctx *c, int64_t *n)
{
    const ortc_tensor *t = c->in[0];
    *n = 0;
    if (float_dtype(t->dtype)) {
        double s = ortc_tensor_get_double(c->in[0], 0), l = ortc_tensor_get_double(c->in[1], 0),
               d = ortc_tensor_get_double(c->in[2], 0);
        if (d == 0 || isnan(d))
            return ortc_op_error(c, value_status(c, 2),
                                 "input 2 '%s' (delta) is %g; it must be "
                                 "a nonzero number",
                                 input_name(c, 2), d);
        double v = ceil((l - s) / d);
        if (v > 0x1p62)
            return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                                 "Range from %g to %g by %g has %g elements", s, l, d, v);
        if (v > 0) /* also false for NaN */
            *n = (int64_t)v;
        return ORTC_STATUS_OK;
    }
    int64_t s = ortc_tensor_get_int(c->in[0], 0), l = ortc_tensor_get_int(c->in[1], 0),
            d = ortc_tensor_get_int(c->in[2], 0);
    if (d == 0)
        return ortc_op_error(c, value_status(c, 2), "input 2 '%s' (delta) is 0", input_name(c, 2));
    uint64_t diff = 0, step = d > 0 ? (uint64_t)d : 0 - (uint64_t)d;
    if (d > 0 && l > s)
        diff = (uint64_t)l - (uint64_t)s;
    else if (d < 0 && s > l)
        diff = (uint64_t)s - (uint64_t)l;
    *n = (int64_t)(diff / step + (diff % step != 0));
    return ORTC_STATUS_OK;
}

static ortc_status range_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 3, 3, 1, 1)) || (st = ortc_op_check_input(c, 0)))
        return st;
    static const char *names[] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++) {
        const ortc_tensor *t = c->in[i];
        if (t->dtype != c->in[0]->dtype || ortc_tensor_numel(t) != 1 || t->rank > 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d '%s' (%s) is %s of rank %d; Range takes three scalars "
                                 "of one dtype",
                                 i, input_name(c, i), names[i], ortc_dtype_name(t->dtype), t->rank);
        if (!t->data)
            return data_unknown(c, i, names[i]);
    }
    int64_t n;
    if ((st = range_count(c, &n)))
        return st;
    ortc_op_set_output(c, 0, c->in[0]->dtype, 1, &n);
    return ORTC_STATUS_OK;
}

static ortc_status range_run(ortc_opctx *c)
{
    ortc_tensor *y = c->out[0];
    int64_t n = y->dims[0];
    void *out = y->data;
    if (float_dtype(y->dtype)) {
        double s = ortc_tensor_get_double(c->in[0], 0), d = ortc_tensor_get_double(c->in[2], 0);
        for (int64_t i = 0; i < n; i++)
            sc_store(y->dtype, out, i, sc_float(s + (double)i * d));
    } else {
        /* start + i*delta stays between start and limit: no overflow in
         * the dtype; unsigned arithmetic keeps int64 extremes defined */
        uint64_t s = (uint64_t)ortc_tensor_get_int(c->in[0], 0);
        uint64_t d = (uint64_t)ortc_tensor_get_int(c->in[2], 0);
        for (int64_t i = 0; i < n; i++)
            sc_store(y->dtype, out, i, sc_signed((int64_t)(s + (uint64_t)i * d)));
    }
    return ORTC_STATUS_OK;
}

/* ---- Tile -----------------------------------------------------------------
 * Tile-1: inputs 'tiles' (copies) and 'axis', both scalars; from Tile-6
 * input 1 'repeats' has one count per dim. */

static ortc_status tile_repeats(ortc_opctx *c, int64_t *reps)
{
    const ortc_tensor *x = c->in[0];
    int r = x->rank;
    if (ortc_op_version(c) < 6) {
        static const char *names[] = {"", "tiles", "axis"};
        int64_t v[3];
        for (int i = 1; i <= 2; i++) {
            const ortc_tensor *t = c->in[i];
            if ((t->dtype != I64 && t->dtype != I32) || ortc_tensor_numel(t) != 1)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "input %d '%s' (%s) must be one int64", i, input_name(c, i),
                                     names[i]);
            if (!t->data)
                return data_unknown(c, i, names[i]);
            v[i] = ortc_tensor_get_int(t, 0);
        }
        int axis;
        ortc_status st = ortc_op_axis(c, v[2], r, &axis);
        if (st)
            return st;
        for (int i = 0; i < r; i++)
            reps[i] = i == axis ? v[1] : 1;
    } else {
        int n;
        ortc_status st = read_int_list(c, 1, "repeats", true, reps, R, &n);
        if (st)
            return st;
        if (n != r)
            return ortc_op_error(c, value_status(c, 1),
                                 "input 1 '%s' (repeats) has %d values but input 0 '%s' has "
                                 "rank %d",
                                 input_name(c, 1), n, input_name(c, 0), r);
    }
    for (int i = 0; i < r; i++)
        if (reps[i] < 0)
            return ortc_op_error(c, value_status(c, 1), "repeat count %lld for axis %d is negative",
                                 (long long)reps[i], i);
    return ORTC_STATUS_OK;
}

static ortc_status tile_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    ortc_status st;
    int64_t reps[R];
    if ((st = ortc_op_check_arity(c, version < 6 ? 3 : 2, version < 6 ? 3 : 2, 1, 1)) ||
        (st = ortc_plain_check_known(c, 0)) || (st = tile_repeats(c, reps)))
        return st;
    const ortc_tensor *x = c->in[0];
    int64_t dims[R];
    for (int i = 0; i < x->rank; i++) {
        if (x->dims[i] > 0 && reps[i] > INT64_MAX / x->dims[i])
            return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                                 "axis %d: %lld copies of dim %lld overflow", i, (long long)reps[i],
                                 (long long)x->dims[i]);
        dims[i] = x->dims[i] * reps[i];
    }
    ortc_op_set_output(c, 0, x->dtype, x->rank, dims);
    return check_numel(c, 0);
}

static ortc_status tile_prepare(ortc_opctx *c)
{
    if (ortc_tensor_numel(c->out[0]) == ortc_tensor_numel(c->in[0]))
        declare_view(c);
    return ORTC_STATUS_OK;
}

static ortc_status tile_run(ortc_opctx *c)
{
    int64_t reps[R];
    ortc_status st = tile_repeats(c, reps);
    if (st)
        return st;
    /* y: (reps[0], d[0], reps[1], d[1], ...) in row-major order is exactly
     * tile's layout; each repeat re-reads x (stride 0) */
    const ortc_tensor *x = c->in[0];
    int64_t xs[R], dims[2 * R], vs[2 * R];
    dense_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++) {
        dims[2 * i] = reps[i];
        vs[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        vs[2 * i + 1] = xs[i];
    }
    ortc_strided_copy(c->out[0]->data, x->data, 2 * x->rank, dims, vs, ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

/* ---- Size ------------------------------------------------------------------ */

static ortc_status size_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) || (st = ortc_plain_check_known(c, 0)))
        return st;
    ortc_op_set_output(c, 0, I64, 0, NULL);
    return ORTC_STATUS_OK;
}

static ortc_status size_run(ortc_opctx *c)
{
    *(int64_t *)c->out[0]->data = ortc_tensor_numel(c->in[0]);
    return ORTC_STATUS_OK;
}

/* ---- Trilu ----------------------------------------------------------------
 * Keeps element (i, j) of each trailing matrix when j - i >= k (upper, the
 * default) or j - i <= k (lower); zeroes the rest ("" for strings). k (input
 * 1, default 0) is read at run time. The output may reuse the input. */

static ortc_status trilu_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 2, 1, 1)) ||
        (st = ortc_op_check_attr(c, "upper", ORTC_ATTR_INT)) || (st = ortc_plain_check_known(c, 0)))
        return st;
    const ortc_tensor *x = c->in[0];
    if (x->rank < 2)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' has rank %d; Trilu needs rank >= 2", input_name(c, 0),
                             x->rank);
    if (has_input(c, 1) && (c->in[1]->dtype != I64 || ortc_tensor_numel(c->in[1]) != 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input 1 '%s' (k) must be one int64",
                             input_name(c, 1));
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    return ORTC_STATUS_OK;
}

// x, y: (batch, n, m); keep [lo_i, hi_i) of row i, zero the rest
static void trilu_forward(char *y, const char *x, int64_t batch, int64_t n, int64_t m, int64_t k,
                          bool upper, const void *zero, size_t elem)
{
    int64_t e = (int64_t)elem;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < n; i++) {
            int64_t lo = upper ? clamp64(i + k, 0, m) : 0;
            int64_t hi = upper ? m : clamp64(i + k + 1, 0, m);
            if (hi < lo)
                hi = lo;
            int64_t row = (b * n + i) * m * e;
            fill_forward(y + row, zero, lo, elem);
            ortc_plain_copy(y + row + lo * e, x + row + lo * e, (size_t)((hi - lo) * e));
            fill_forward(y + row + hi * e, zero, m - hi, elem);
        }
}

static ortc_status trilu_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    int64_t k = has_input(c, 1) ? *(const int64_t *)c->in[1]->data : 0;
    int r = x->rank;
    int64_t n = x->dims[r - 2], m = x->dims[r - 1];
    k = clamp64(k, -n - 1, m + 1); /* beyond this every row is all kept or all cleared */
    _Alignas(16) unsigned char zero[16];
    set_zero(zero, x->dtype);
    if (ortc_tensor_numel(x) == 0)
        return ORTC_STATUS_OK;
    trilu_forward(c->out[0]->data, x->data, span(x->dims, 0, r - 2), n, m, k,
                  ortc_node_attr_int(c->node, "upper", 1) != 0, zero, ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

/* ---- GatherElements / ScatterElements --------------------------------------
 * indices (int32/int64) has data's rank; on every axis but `axis` its dims
 * may not exceed data's (ONNX Runtime's and torch's rule); index values lie
 * in [-s, s-1] for s = data's dim on `axis`. Out-of-range values are an
 * error (at infer when the indices are constant). */

static ortc_status elements_check(ortc_opctx *c, const ortc_tensor *data, const ortc_tensor *idx,
                                  int *axis)
{
    ortc_status st;
    if ((st = ortc_op_check_dtype(c, 1, I32, I64, END)))
        return st;
    if (data->rank < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' is a scalar; %s needs rank >= 1", input_name(c, 0),
                             c->node->op_type);
    if ((st = ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), data->rank, axis)))
        return st;
    char sd[128], si[128];
    ortc_shape_str(sd, sizeof sd, data->rank, data->dims);
    ortc_shape_str(si, sizeof si, idx->rank, idx->dims);
    if (idx->rank != data->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 1 '%s' (indices) has shape %s but input 0 '%s' has shape %s; "
                             "their ranks must match",
                             input_name(c, 1), si, input_name(c, 0), sd);
    for (int d = 0; d < data->rank; d++)
        if (d != *axis && idx->dims[d] > data->dims[d])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 1 '%s' (indices) has shape %s, larger than input 0 '%s' "
                                 "%s on axis %d (only axis %d may differ)",
                                 input_name(c, 1), si, input_name(c, 0), sd, d, *axis);
    return ORTC_STATUS_OK;
}

static ortc_status elements_check_indices(ortc_opctx *c, const ortc_tensor *idx, int64_t dim,
                                          int axis, ortc_status status)
{
    int64_t n = ortc_tensor_numel(idx);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = ortc_tensor_get_int(idx, i);
        if (k < -dim || k >= dim)
            return ortc_op_error(c, status,
                                 "index %lld (element %lld of input 1 '%s') is out of range for "
                                 "axis %d of input 0 '%s', whose dim is %lld",
                                 (long long)k, (long long)i, input_name(c, 1), axis,
                                 input_name(c, 0), (long long)dim);
    }
    return ORTC_STATUS_OK;
}

/* Walks the indices tensor in order, calling back with each element's
 * position in the data tensor (the index value replaces the axis
 * coordinate). Indices are range-checked already. */
#define FOR_EACH_ELEMENT(idx, data, axis, i, off, body)                                            \
    do {                                                                                           \
        int64_t ds_[R], pos_[R] = {0}, base_ = 0, dim_ = (data)->dims[axis];                       \
        dense_strides((data)->rank, (data)->dims, ds_);                                            \
        int64_t n_ = ortc_tensor_numel(idx);                                                       \
        for (int64_t i = 0; i < n_; i++) {                                                         \
            int64_t k_ = ortc_tensor_get_int(idx, i);                                              \
            int64_t off = base_ + (k_ < 0 ? k_ + dim_ : k_) * ds_[axis];                           \
            body;                                                                                  \
            for (int d_ = (idx)->rank - 1; d_ >= 0; d_--) {                                        \
                if (d_ != (axis))                                                                  \
                    base_ += ds_[d_];                                                              \
                if (++pos_[d_] < (idx)->dims[d_])                                                  \
                    break;                                                                         \
                if (d_ != (axis))                                                                  \
                    base_ -= ds_[d_] * (idx)->dims[d_];                                            \
                pos_[d_] = 0;                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static ortc_status gather_elements_infer(ortc_opctx *c)
{
    ortc_status st;
    int axis;
    if ((st = ortc_op_check_arity(c, 2, 2, 1, 1)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)) ||
        (st = ortc_plain_check_known(c, 0)) || (st = elements_check(c, c->in[0], c->in[1], &axis)))
        return st;
    const ortc_tensor *idx = c->in[1];
    ortc_op_set_output(c, 0, c->in[0]->dtype, idx->rank, idx->dims);
    if (idx->data)
        return elements_check_indices(c, idx, c->in[0]->dims[axis], axis,
                                      ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

static ortc_status gather_elements_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    int axis;
    ortc_status st = ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (!st)
        st = elements_check_indices(c, idx, x->dims[axis], axis, ORTC_STATUS_INVALID_ARGUMENT);
    if (st)
        return st;
    size_t elem = ortc_dtype_size(x->dtype);
    char *y = c->out[0]->data;
    const char *xd = x->data;
    // y[p] = x[p with coordinate `axis` replaced by indices[p]]
    FOR_EACH_ELEMENT(idx, x, axis, i, off,
                     memcpy(y + i * (int64_t)elem, xd + off * (int64_t)elem, elem));
    return ORTC_STATUS_OK;
}

typedef enum { SCATTER_NONE, SCATTER_ADD, SCATTER_MUL } scatter_reduction;

static ortc_status scatter_reduction_of(ortc_opctx *c, scatter_reduction *red)
{
    *red = SCATTER_NONE;
    if (ortc_op_version(c) < 16) {
        if (ortc_node_attr(c->node, "reduction"))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'reduction' exists from ScatterElements-16 on");
        return ORTC_STATUS_OK;
    }
    const char *s = ortc_node_attr_string(c->node, "reduction", "none");
    if (!strcmp(s, "none"))
        return ORTC_STATUS_OK;
    if (!strcmp(s, "add"))
        *red = SCATTER_ADD;
    else if (!strcmp(s, "mul"))
        *red = SCATTER_MUL;
    else
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'reduction' is \"%s\"; ScatterElements-16 takes none, add "
                             "or mul",
                             s);
    return ORTC_STATUS_OK;
}

static ortc_status scatter_elements_infer(ortc_opctx *c)
{
    ortc_status st;
    int axis;
    scatter_reduction red;
    if ((st = ortc_op_check_arity(c, 3, 3, 1, 1)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "reduction", ORTC_ATTR_STRING)) ||
        (st = scatter_reduction_of(c, &red)) || (st = ortc_plain_check_known(c, 0)) ||
        (st = ortc_plain_check_known(c, 2)) || (st = elements_check(c, c->in[0], c->in[1], &axis)))
        return st;
    const ortc_tensor *x = c->in[0], *idx = c->in[1], *u = c->in[2];
    char si[128], su[128];
    if (u->dtype != x->dtype)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 2 '%s' (updates) has dtype %s but input 0 '%s' has %s",
                             input_name(c, 2), ortc_dtype_name(u->dtype), input_name(c, 0),
                             ortc_dtype_name(x->dtype));
    ortc_shape_str(si, sizeof si, idx->rank, idx->dims);
    ortc_shape_str(su, sizeof su, u->rank, u->dims);
    if (strcmp(si, su))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 2 '%s' (updates) has shape %s but input 1 '%s' (indices) has "
                             "%s; they must match",
                             input_name(c, 2), su, input_name(c, 1), si);
    if (red != SCATTER_NONE && (!numeric_dtype(x->dtype) || x->dtype == BOOL))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "reduction '%s' on dtype %s is not supported",
                             red == SCATTER_ADD ? "add" : "mul", ortc_dtype_name(x->dtype));
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    if (idx->data)
        return elements_check_indices(c, idx, x->dims[axis], axis, ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

/* y[off] op= u[i] for one element of dtype t. */
static void scatter_combine(ortc_dtype t, void *y, int64_t off, const void *u, int64_t i,
                            scatter_reduction red)
{
    switch (t) {
#define COMBINE(T)                                                                                 \
    {                                                                                              \
        T *p = (T *)y + off, v = ((const T *)u)[i];                                                \
        *p = red == SCATTER_ADD ? (T)(*p + v) : (T)(*p * v);                                       \
        break;                                                                                     \
    }
    case F32: COMBINE(float)
    case F64: COMBINE(double)
    case I8: COMBINE(int8_t)
    case I16: COMBINE(int16_t)
    case I32: COMBINE(int32_t)
    case I64: COMBINE(int64_t)
    case U8: COMBINE(uint8_t)
    case U16: COMBINE(uint16_t)
    case U32: COMBINE(uint32_t)
    case U64: COMBINE(uint64_t)
#undef COMBINE
    case F16:
    case BF16: {
        double a = sc_double(sc_load(t, y, off)), b = sc_double(sc_load(t, u, i));
        sc_store(t, y, off, sc_float(red == SCATTER_ADD ? a + b : a * b));
        break;
    }
    default: break;
    }
}

static ortc_status scatter_elements_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0], *idx = c->in[1], *u = c->in[2];
    int axis;
    scatter_reduction red;
    ortc_status st = ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis);
    if (!st)
        st = scatter_reduction_of(c, &red);
    if (!st)
        st = elements_check_indices(c, idx, x->dims[axis], axis, ORTC_STATUS_INVALID_ARGUMENT);
    if (st)
        return st;
    char *y = c->out[0]->data;
    ortc_plain_copy(y, x->data, ortc_tensor_bytes(x));
    size_t elem = ortc_dtype_size(x->dtype);
    const char *ud = u->data;
    // y = x; then y[p with coordinate `axis` replaced by indices[p]] (op)= updates[p]
    if (red == SCATTER_NONE)
        FOR_EACH_ELEMENT(idx, x, axis, i, off,
                         memcpy(y + off * (int64_t)elem, ud + i * (int64_t)elem, elem));
    else
        FOR_EACH_ELEMENT(idx, x, axis, i, off, scatter_combine(x->dtype, y, off, ud, i, red));
    return ORTC_STATUS_OK;
}

/* ---- DepthToSpace / SpaceToDepth ------------------------------------------
 * x: (N, C, H, W), block b. Both are 6-D transposes (the spec's reshape /
 * transpose / reshape), done as one strided copy:
 *   DepthToSpace DCR: x as (N, b1, b2, C', H, W) -> (N, C', H, b1, W, b2)
 *   DepthToSpace CRD: x as (N, C', b1, b2, H, W) -> (N, C', H, b1, W, b2)
 *   SpaceToDepth:     x as (N, C, H', b1, W', b2) -> (N, b1, b2, C, H', W')
 * with C' = C / b^2, H' = H / b, W' = W / b. DepthToSpace's mode is from
 * opset 11 (DCR before). */

static ortc_status block_check(ortc_opctx *c, int64_t *b)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
        (st = ortc_op_check_attr(c, "blocksize", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "mode", ORTC_ATTR_STRING)) ||
        (st = ortc_plain_check_known(c, 0)))
        return st;
    const ortc_attr *a = ortc_node_attr(c->node, "blocksize");
    if (!a)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'blocksize' is missing");
    if (a->i <= 0 || a->i > INT32_MAX)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'blocksize' is %lld",
                             (long long)a->i);
    if (c->in[0]->rank != 4) {
        char s[128];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' has shape %s; %s needs (N, C, H, W)", input_name(c, 0),
                             ortc_shape_str(s, sizeof s, c->in[0]->rank, c->in[0]->dims),
                             c->node->op_type);
    }
    *b = a->i;
    return ORTC_STATUS_OK;
}

static ortc_status d2s_crd(ortc_opctx *c, bool *crd)
{
    const char *m = ortc_node_attr_string(c->node, "mode", "DCR");
    if (ortc_node_attr(c->node, "mode") && ortc_op_version(c) < 11)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'mode' exists from DepthToSpace-11 on");
    if (strcmp(m, "DCR") && strcmp(m, "CRD"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'mode' is \"%s\"; DepthToSpace takes DCR or CRD", m);
    *crd = !strcmp(m, "CRD");
    return ORTC_STATUS_OK;
}

static ortc_status d2s_infer(ortc_opctx *c)
{
    int64_t b = 1;
    bool crd;
    ortc_status st;
    if ((st = block_check(c, &b)) || (st = d2s_crd(c, &crd)))
        return st;
    const ortc_tensor *x = c->in[0];
    if (x->dims[1] % (b * b))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' has %lld channels, not a multiple of blocksize^2 = "
                             "%lld",
                             input_name(c, 0), (long long)x->dims[1], (long long)(b * b));
    int64_t dims[4] = {x->dims[0], x->dims[1] / (b * b), x->dims[2] * b, x->dims[3] * b};
    ortc_op_set_output(c, 0, x->dtype, 4, dims);
    return ORTC_STATUS_OK;
}

static ortc_status d2s_run(ortc_opctx *c)
{
    int64_t b = 1;
    bool crd;
    ortc_status st;
    if ((st = block_check(c, &b)) || (st = d2s_crd(c, &crd)))
        return st;
    const ortc_tensor *x = c->in[0];
    int64_t n = x->dims[0], cc = x->dims[1] / (b * b), h = x->dims[2], w = x->dims[3];
    int64_t hw = h * w;
    /* input strides of the channel parts: DCR (b1, b2, C'), CRD (C', b1, b2) */
    int64_t s_b1 = crd ? b * hw : b * cc * hw, s_b2 = crd ? hw : cc * hw,
            s_c = crd ? b * b * hw : hw;
    int64_t dims[6] = {n, cc, h, b, w, b};
    int64_t vs[6] = {x->dims[1] * hw, s_c, w, s_b1, 1, s_b2};
    ortc_strided_copy(c->out[0]->data, x->data, 6, dims, vs, ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

static ortc_status s2d_infer(ortc_opctx *c)
{
    int64_t b = 1;
    ortc_status st;
    if ((st = block_check(c, &b)))
        return st;
    if (ortc_node_attr(c->node, "mode"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "SpaceToDepth has no attribute 'mode'");
    const ortc_tensor *x = c->in[0];
    if (x->dims[2] % b || x->dims[3] % b)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' is %lldx%lld (HxW), not a multiple of blocksize %lld",
                             input_name(c, 0), (long long)x->dims[2], (long long)x->dims[3],
                             (long long)b);
    int64_t dims[4] = {x->dims[0], x->dims[1] * b * b, x->dims[2] / b, x->dims[3] / b};
    ortc_op_set_output(c, 0, x->dtype, 4, dims);
    return ORTC_STATUS_OK;
}

static ortc_status s2d_run(ortc_opctx *c)
{
    int64_t b = 1;
    ortc_status st = block_check(c, &b);
    if (st)
        return st;
    const ortc_tensor *x = c->in[0];
    int64_t n = x->dims[0], cc = x->dims[1], h = x->dims[2], w = x->dims[3];
    int64_t dims[6] = {n, b, b, cc, h / b, w / b};
    int64_t vs[6] = {cc * h * w, w, 1, h * w, b * w, b};
    ortc_strided_copy(c->out[0]->data, x->data, 6, dims, vs, ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

/* ---- CastLike ---------------------------------------------------------------
 * Cast input 0 to input 1's dtype with Cast's rules (see the conversion
 * section above). Strings are parsed as numbers (strtod/strtof, so "NaN",
 * "INF", "-inf" work; C locale assumed); numbers are not formatted as
 * strings. */

static bool integer_dtype(ortc_dtype t)
{
    return numeric_dtype(t) && !float_dtype(t) && t != BOOL;
}

static ortc_status castlike_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 2, 2, 1, 1)) || (st = ortc_plain_check_known(c, 0)) ||
        (st = ortc_plain_check_known(c, 1)))
        return st;
    ortc_dtype from = c->in[0]->dtype, to = c->in[1]->dtype;
    if (to == STR && from != STR)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "casting %s to string is not supported (the runtime has no storage "
                             "for formatted strings)",
                             ortc_dtype_name(from));
    if ((!numeric_dtype(from) && from != STR) || (!numeric_dtype(to) && to != STR))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "CastLike from %s to %s is not supported",
                             ortc_dtype_name(from), ortc_dtype_name(to));
    ortc_op_set_output(c, 0, to, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

/* Parses string element i for a target of dtype `to`. */
static ortc_status parse_number(ortc_opctx *c, const char *s, ortc_dtype to, int64_t i, scalar *v)
{
    if (!s)
        s = "";
    char *end;
    errno = 0;
    if (integer_dtype(to)) {
        long long ll = strtoll(s, &end, 10);
        while (end != s && (*end == ' ' || *end == '\t' || *end == '\n'))
            end++;
        if (end != s && !*end && errno == 0) {
            *v = sc_signed(ll);
            return ORTC_STATUS_OK;
        }
    }
    errno = 0;
    if (to == F32) { /* parse straight to float: one rounding */
        float f = strtof(s, &end);
        *v = sc_float(f);
    } else {
        *v = sc_float(strtod(s, &end));
    }
    bool parsed = end != s;
    while (parsed && (*end == ' ' || *end == '\t' || *end == '\n'))
        end++;
    if (!parsed || *end)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "element %lld of input 0 '%s' is \"%.64s\", not a number",
                             (long long)i, input_name(c, 0), s);
    return ORTC_STATUS_OK;
}

static ortc_status castlike_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    ortc_tensor *y = c->out[0];
    int64_t n = ortc_tensor_numel(x);
    if (x->dtype == y->dtype) {
        ortc_plain_copy(y->data, x->data, ortc_tensor_bytes(x));
        return ORTC_STATUS_OK;
    }
    // y: (n) of dtype `to`, x: (n) of dtype `from`
    for (int64_t i = 0; i < n; i++) {
        scalar v;
        if (x->dtype == STR) {
            ortc_status st = parse_number(c, ((char *const *)x->data)[i], y->dtype, i, &v);
            if (st)
                return st;
        } else {
            v = sc_load(x->dtype, x->data, i);
        }
        sc_store(y->dtype, y->data, i, v);
    }
    return ORTC_STATUS_OK;
}

/* ---- table ------------------------------------------------------------------ */

#define BIT(i) (1u << (i))

const ortc_operator ortc_ops_layout[] = {
    /* split lengths: input 1 in Split-1 and from 13, an attribute between */
    ORTC_OP("Split", 1, 1, .dtypes = ORTC_DTYPES_ALL, .data_inputs = BIT(1), .infer = split_infer,
            .run = split_run),
    ORTC_OP("Split", 2, 11, .versions = {2, 11}, .dtypes = ORTC_DTYPES_ALL, .infer = split_infer,
            .run = split_run),
    ORTC_OP("Split", 13, 13, .dtypes = ORTC_DTYPES_ALL, .data_inputs = BIT(1), .infer = split_infer,
            .run = split_run),
    /* a view when it takes everything, forwards */
    ORTC_OP("Slice", 1, 1, .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_MAY_VIEW,
            .infer = slice_infer, .prepare = slice_prepare, .run = slice_run),
    ORTC_OP("Slice", 10, 13, .versions = {10, 11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_MAY_VIEW, .data_inputs = BIT(1) | BIT(2) | BIT(3) | BIT(4),
            .infer = slice_infer, .prepare = slice_prepare, .run = slice_run),
    /* a view when only size-1 dims move */
    ORTC_OP("Transpose", 1, 13, .versions = {1, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_MAY_VIEW, .infer = transpose_infer, .prepare = transpose_prepare,
            .run = transpose_run),
    /* pads: attributes before 11, input 1 from 11; a view when all are 0 */
    ORTC_OP("Pad", 1, 2, .versions = {1, 2}, .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_MAY_VIEW,
            .infer = pad_infer, .prepare = pad_prepare, .run = pad_run),
    ORTC_OP("Pad", 11, 13, .versions = {11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_MAY_VIEW, .data_inputs = BIT(1), .infer = pad_infer,
            .prepare = pad_prepare, .run = pad_run),
    /* a view when it only adds leading 1s */
    ORTC_OP("Expand", 8, 13, .versions = {8, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_MAY_VIEW, .data_inputs = BIT(1), .infer = expand_infer,
            .prepare = expand_prepare, .run = expand_run),
    ORTC_OP("ConstantOfShape", 9, 9, .dtypes = ORTC_DT(INT64), .data_inputs = BIT(0),
            .infer = cos_infer, .run = cos_run),
    ORTC_OP("Range", 11, 11,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(INT16) | ORTC_DT(INT32) | ORTC_DT(INT64),
            .data_inputs = BIT(0) | BIT(1) | BIT(2), .infer = range_infer, .run = range_run),
    /* Tile-1: inputs tiles and axis; from 6 input repeats; a view when every
     * count is 1 */
    ORTC_OP("Tile", 1, 1, .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_MAY_VIEW,
            .data_inputs = BIT(1) | BIT(2), .infer = tile_infer, .prepare = tile_prepare,
            .run = tile_run),
    ORTC_OP("Tile", 6, 13, .versions = {6, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_MAY_VIEW, .data_inputs = BIT(1), .infer = tile_infer,
            .prepare = tile_prepare, .run = tile_run),
    ORTC_OP("Size", 1, 13, .versions = {1, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_SHAPE_ONLY, .infer = size_infer, .run = size_run),
    ORTC_OP("Trilu", 14, 14, .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_INPLACE,
            .infer = trilu_infer, .run = trilu_run),
    ORTC_OP("GatherElements", 11, 13, .versions = {11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = gather_elements_infer, .run = gather_elements_run),
    /* the output starts as a copy of data */
    ORTC_OP("ScatterElements", 11, 16, .versions = {11, 13, 16}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_INPLACE, .infer = scatter_elements_infer, .run = scatter_elements_run),
    ORTC_OP("DepthToSpace", 1, 13, .versions = {1, 11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = d2s_infer, .run = d2s_run),
    ORTC_OP("SpaceToDepth", 1, 13, .versions = {1, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = s2d_infer, .run = s2d_run),
    ORTC_OP("CastLike", 15, 15,
            .dtypes = ORTC_DTYPES_ALL & ~(ORTC_DT(COMPLEX64) | ORTC_DT(COMPLEX128)),
            .infer = castlike_infer, .run = castlike_run),
};
ORTC_OP_TABLE_END(layout);
