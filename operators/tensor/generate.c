/* generate.c — plain-C operators that make a tensor from attributes or
 * from scalar inputs rather than from input data: Constant, ConstantOfShape
 * and Range. Constant passes any dtype (STRING values point at the model's
 * strings); Range computes in double or unsigned 64-bit and converts with
 * Cast's rules (cast.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cast.h"
#include "error.h"
#include "operator.h"
#include "plain_util.h"

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
    ORTC_TRY(ortc_op_check_arity(c, 0, 0, 1, 1));
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
        ORTC_TRY(ortc_op_check_attr(c, constant_attrs[k].name, constant_attrs[k].type));
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

/* ---- ConstantOfShape ------------------------------------------------------
 * Input 0 holds the output's dims (int64, 1-D; empty: a scalar); the
 * 'value' attribute is a one-element tensor (default float 0). */

static ortc_status constant_of_shape_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "value", ORTC_ATTR_TENSOR));
    const ortc_attr *a = ortc_node_attr(c->node, "value");
    ortc_dtype dt = ORTC_DTYPE_FLOAT;
    if (a) {
        if (!a->t || ortc_dtype_size(a->t->t.dtype) == 0 || ortc_tensor_numel(&a->t->t) != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'value' must hold one element of a known dtype");
        dt = a->t->t.dtype;
    }
    int64_t dims[ORTC_MAX_RANK];
    int n;
    ORTC_TRY(ortc_plain_read_ints(c, 0, "shape", 1, dims, ORTC_MAX_RANK, &n));
    for (int i = 0; i < n; i++)
        if (dims[i] < 0)
            return ortc_op_error(c, ortc_plain_value_status(c, 0),
                                 "input 0 '%s' (shape) has %lld at position %d; dims must be >= 0",
                                 ortc_plain_input_name(c, 0), (long long)dims[i], i);
    ortc_op_set_output(c, 0, dt, n, dims);
    return ortc_plain_check_numel(c, 0);
}

static ortc_status constant_of_shape_run(ortc_opctx *c)
{
    const ortc_attr *a = ortc_node_attr(c->node, "value");
    ortc_tensor *y = c->out[0];
    _Alignas(16) unsigned char zero[16] = {0};
    const void *val = a ? a->t->t.data : zero;
    ortc_plain_fill(y->data, val, ortc_tensor_numel(y), ortc_dtype_size(y->dtype));
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
    if (ortc_dtype_is_float(t->dtype)) {
        double s = ortc_tensor_get_double(c->in[0], 0), l = ortc_tensor_get_double(c->in[1], 0),
               d = ortc_tensor_get_double(c->in[2], 0);
        if (d == 0 || isnan(d))
            return ortc_op_error(c, ortc_plain_value_status(c, 2),
                                 "input 2 '%s' (delta) is %g; it must be "
                                 "a nonzero number",
                                 ortc_plain_input_name(c, 2), d);
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
        return ortc_op_error(c, ortc_plain_value_status(c, 2), "input 2 '%s' (delta) is 0",
                             ortc_plain_input_name(c, 2));
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
    ORTC_TRY(ortc_op_check_arity(c, 3, 3, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    static const char *names[] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++) {
        const ortc_tensor *t = c->in[i];
        if (t->dtype != c->in[0]->dtype || ortc_tensor_numel(t) != 1 || t->rank > 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d '%s' (%s) is %s of rank %d; Range takes three scalars "
                                 "of one dtype",
                                 i, ortc_plain_input_name(c, i), names[i],
                                 ortc_dtype_name(t->dtype), t->rank);
        if (!t->data)
            return ortc_plain_data_unknown(c, i, names[i]);
    }
    int64_t n;
    ORTC_TRY(range_count(c, &n));
    ortc_op_set_output(c, 0, c->in[0]->dtype, 1, &n);
    return ORTC_STATUS_OK;
}

static ortc_status range_run(ortc_opctx *c)
{
    ortc_tensor *y = c->out[0];
    int64_t n = y->dims[0];
    void *out = y->data;
    if (ortc_dtype_is_float(y->dtype)) {
        double s = ortc_tensor_get_double(c->in[0], 0), d = ortc_tensor_get_double(c->in[2], 0);
        for (int64_t i = 0; i < n; i++)
            ortc_scalar_store(y->dtype, out, i, ortc_scalar_float(s + (double)i * d));
    } else {
        /* start + i*delta stays between start and limit: no overflow in
         * the dtype; unsigned arithmetic keeps int64 extremes defined */
        uint64_t s = (uint64_t)ortc_tensor_get_int(c->in[0], 0);
        uint64_t d = (uint64_t)ortc_tensor_get_int(c->in[2], 0);
        for (int64_t i = 0; i < n; i++)
            ortc_scalar_store(y->dtype, out, i, ortc_scalar_signed((int64_t)(s + (uint64_t)i * d)));
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

/* dtypes: Constant's outputs, ConstantOfShape's shape input, Range's inputs */
const ortc_operator ortc_ops_generate[] = {
    ORTC_OP("Constant", 1, 13, .versions = {1, 9, 11, 12, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = constant_infer, .run = constant_run),
    ORTC_OP("ConstantOfShape", 9, 9, .dtypes = ORTC_DT(INT64), .data_inputs = 1u << 0,
            .infer = constant_of_shape_infer, .run = constant_of_shape_run),
    ORTC_OP("Range", 11, 11,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(INT16) | ORTC_DT(INT32) | ORTC_DT(INT64),
            .data_inputs = (1u << 0) | (1u << 1) | (1u << 2), .infer = range_infer,
            .run = range_run),
};
ORTC_OP_TABLE_END(generate);
