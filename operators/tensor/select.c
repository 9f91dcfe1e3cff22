/* select.c — operators that keep the elements data selects: NonZero (the
 * indices of non-zero elements) and Compress (the slices a boolean
 * condition keeps). Their output size depends on the data, so unless the
 * input is known at compile time (then the output is folded) it is a value
 * of data-dependent size made in the run's pool (operator.h). Unique is in
 * unique.c.
 */
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

/* ---- NonZero ---------------------------------------------------------------------- */

/* Whether element i of x is not zero (NaN is not zero; a string is when
 * not empty). -1 for a dtype NonZero does not take. */
static int nonzero_at(const ortc_tensor *x, int64_t i)
{
    const void *p = x->data;
    switch (x->dtype) {
    case ORTC_DTYPE_FLOAT: return ((const float *)p)[i] != 0.0f;
    case ORTC_DTYPE_DOUBLE: return ((const double *)p)[i] != 0.0;
    case ORTC_DTYPE_FLOAT16:
    case ORTC_DTYPE_BFLOAT16: return (((const uint16_t *)p)[i] & 0x7fff) != 0;
    case ORTC_DTYPE_BOOL:
    case ORTC_DTYPE_INT8:
    case ORTC_DTYPE_UINT8: return ((const uint8_t *)p)[i] != 0;
    case ORTC_DTYPE_INT16:
    case ORTC_DTYPE_UINT16: return ((const uint16_t *)p)[i] != 0;
    case ORTC_DTYPE_INT32:
    case ORTC_DTYPE_UINT32: return ((const uint32_t *)p)[i] != 0;
    case ORTC_DTYPE_INT64:
    case ORTC_DTYPE_UINT64: return ((const uint64_t *)p)[i] != 0;
    case ORTC_DTYPE_STRING: {
        const char *s = ((char *const *)p)[i];
        return s && *s;
    }
    default: return -1;
    }
}

static ortc_status nonzero_count(ortc_opctx *c, const ortc_tensor *x, int64_t *count)
{
    int64_t n = ortc_tensor_numel(x), k = 0;
    for (int64_t i = 0; i < n; i++)
        k += nonzero_at(x, i);
    if (n && nonzero_at(x, 0) < 0)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "NonZero does not take %s",
                             ortc_dtype_name(x->dtype));
    *count = k;
    return ORTC_STATUS_OK;
}

static ortc_status nonzero_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) || (st = ortc_op_check_input(c, 0)))
        return st;
    const ortc_tensor *x = c->in[0];
    int64_t dims[2] = {x->rank, -1};
    if (!x->data) /* the count is the data's */
        ortc_op_set_output_dynamic(c, 0, ORTC_DTYPE_INT64, 2, dims);
    else if (!(st = nonzero_count(c, x, &dims[1])))
        ortc_op_set_output(c, 0, ORTC_DTYPE_INT64, 2, dims);
    return st;
}

// y: (rank, count) — the row-major indices of x's non-zero elements
static ortc_status nonzero_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    int64_t count;
    ORTC_TRY(nonzero_count(c, x, &count));
    int64_t dims[2] = {x->rank, count};
    int64_t *y = ortc_op_output(c, 0, 2, dims);
    if (!y)
        return c->err->status;
    int64_t n = ortc_tensor_numel(x), idx[ORTC_MAX_RANK] = {0}, k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (nonzero_at(x, i)) {
            for (int d = 0; d < x->rank; d++)
                y[d * count + k] = idx[d];
            k++;
        }
        for (int d = x->rank - 1; d >= 0; d--) { /* the next element's index */
            if (++idx[d] < x->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return ORTC_STATUS_OK;
}

/* ---- Compress ---------------------------------------------------------------------- */

/* The axis (-1: the flattened input) and the length it has. */
static ortc_status compress_axis(ortc_opctx *c, int *axis, int64_t *len)
{
    const ortc_tensor *x = c->in[0];
    const ortc_attr *a = ortc_node_attr(c->node, "axis");
    *axis = -1;
    *len = ortc_tensor_numel(x);
    if (!a)
        return ORTC_STATUS_OK;
    if (ortc_op_version(c) < 11 && a->i < 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "axis %lld: Compress takes a negative axis from version 11",
                             (long long)a->i);
    ortc_status st = ortc_op_axis(c, a->i, x->rank, axis);
    if (!st)
        *len = x->dims[*axis];
    return st;
}

static ortc_status compress_check(ortc_opctx *c, int64_t len)
{
    const ortc_tensor *cond = c->in[1];
    if (cond->dims[0] > len)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "condition has %lld entries; the input has %lld along the axis",
                             (long long)cond->dims[0], (long long)len);
    return ORTC_STATUS_OK;
}

static int64_t compress_kept(const ortc_tensor *cond)
{
    int64_t k = 0;
    for (int64_t i = 0; i < cond->dims[0]; i++)
        k += ((const uint8_t *)cond->data)[i] != 0;
    return k;
}

/* The output shape with `kept` slices. */
static int compress_shape(const ortc_tensor *x, int axis, int64_t kept, int64_t *dims)
{
    if (axis < 0) {
        dims[0] = kept;
        return 1;
    }
    memcpy(dims, x->dims, (size_t)x->rank * sizeof *dims);
    dims[axis] = kept;
    return x->rank;
}

static ortc_status compress_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_BOOL, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    const ortc_tensor *x = c->in[0], *cond = c->in[1];
    if (cond->rank != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "condition must have rank 1; it has rank %d", cond->rank);
    int axis;
    int64_t len, dims[ORTC_MAX_RANK];
    ORTC_TRY(compress_axis(c, &axis, &len));
    ORTC_TRY(compress_check(c, len));
    if (!cond->data) {
        int rank = compress_shape(x, axis, -1, dims);
        ortc_op_set_output_dynamic(c, 0, x->dtype, rank, dims);
        return ORTC_STATUS_OK;
    }
    int rank = compress_shape(x, axis, compress_kept(cond), dims);
    ortc_op_set_output(c, 0, x->dtype, rank, dims);
    return ORTC_STATUS_OK;
}

// y: x's slices i along the axis (elements i when flattened) where cond[i]
static ortc_status compress_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0], *cond = c->in[1];
    int axis;
    int64_t len, dims[ORTC_MAX_RANK];
    ORTC_TRY(compress_axis(c, &axis, &len));
    ORTC_TRY(compress_check(c, len));
    int rank = compress_shape(x, axis, compress_kept(cond), dims);
    char *y = ortc_op_output(c, 0, rank, dims);
    if (!y)
        return c->err->status;
    size_t elem = ortc_dtype_size(x->dtype);
    int64_t outer = axis < 0 ? 1 : ortc_plain_span(x->dims, 0, axis);
    size_t inner = (size_t)(axis < 0 ? 1 : ortc_plain_span(x->dims, axis + 1, x->rank)) * elem;
    const uint8_t *keep = cond->data;
    const char *src = x->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < cond->dims[0]; i++)
            if (keep[i]) {
                memcpy(y, src + ((size_t)(o * len + i)) * inner, inner);
                y += inner;
            }
    return ORTC_STATUS_OK;
}

#define NUMERIC_BOOL_STRING (ORTC_DTYPES_NUMERIC | ORTC_DT(BOOL) | ORTC_DT(STRING))

const ortc_operator ortc_ops_select[] = {
    ORTC_OP("NonZero", 9, 13, .versions = {9, 13},
            .dtypes = NUMERIC_BOOL_STRING | ORTC_DT(BFLOAT16), .infer = nonzero_infer,
            .run = nonzero_run),
    ORTC_OP("Compress", 9, 11, .versions = {9, 11}, .dtypes = NUMERIC_BOOL_STRING,
            .infer = compress_infer, .run = compress_run),
};
ORTC_OP_TABLE_END(select);
