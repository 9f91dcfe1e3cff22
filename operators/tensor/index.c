/* index.c — plain-C operators that pick or place elements by index
 * tensors: Gather, GatherElements and ScatterElements (also as Scatter-9,
 * its deprecated name). Indices are int32 or int64, may be negative
 * (counting from the end of the axis) in every version, as ONNX Runtime
 * accepts, and are range-checked (at infer when they are constants).
 * Elements move as bytes, so any dtype passes; only ScatterElements'
 * add/mul reductions do arithmetic.
 */
#include <stdbool.h>
#include <string.h>

#include "cast.h"
#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

/* ---- Gather --------------------------------------------------------------
 * Indices may be negative (counting from the end of the axis) in every
 * version, as ONNX Runtime accepts; out-of-range indices are an error. */

/* Checks every index against dim (Gather, GatherElements, ScatterElements);
 * `status` distinguishes a model error (constant indices, at infer) from a
 * run-time data error. */
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
                                 (long long)k, (long long)i, ortc_plain_input_name(c, 1), axis,
                                 ortc_plain_input_name(c, 0), (long long)dim, (long long)-dim,
                                 (long long)dim - 1);
    }
    return ORTC_STATUS_OK;
}

static ortc_status gather_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT32, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    int axis;
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis));
    int r = idx->rank + x->rank - 1;
    ORTC_TRY(ortc_plain_check_rank(c, r, "output"));
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
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis));
    int64_t dim = x->dims[axis];
    ORTC_TRY(gather_check_indices(c, idx, axis, dim, ORTC_STATUS_INVALID_ARGUMENT));
    int64_t outer = ortc_plain_span(x->dims, 0, axis),
            inner = ortc_plain_span(x->dims, axis + 1, x->rank);
    size_t row = (size_t)inner * ortc_dtype_size(x->dtype);
    int64_t n = ortc_tensor_numel(idx);
    if (row == 0 || n == 0 || outer == 0)
        return ORTC_STATUS_OK; /* nothing to move; pointers may be NULL */
    gather_forward(c->out[0]->data, x->data, idx, outer, dim, n, row);
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
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT32, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL)); /* data is input 0 */
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), data->rank, axis));
    char sd[128], si[128];
    ortc_shape_str(sd, sizeof sd, data->rank, data->dims);
    ortc_shape_str(si, sizeof si, idx->rank, idx->dims);
    if (idx->rank != data->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 1 '%s' (indices) has shape %s but input 0 '%s' has shape %s; "
                             "their ranks must match",
                             ortc_plain_input_name(c, 1), si, ortc_plain_input_name(c, 0), sd);
    for (int d = 0; d < data->rank; d++)
        if (d != *axis && idx->dims[d] > data->dims[d])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 1 '%s' (indices) has shape %s, larger than input 0 '%s' "
                                 "%s on axis %d (only axis %d may differ)",
                                 ortc_plain_input_name(c, 1), si, ortc_plain_input_name(c, 0), sd,
                                 d, *axis);
    return ORTC_STATUS_OK;
}

/* Walks the indices tensor in order, calling back with each element's
 * position in the data tensor (the index value replaces the axis
 * coordinate). Indices are range-checked already. */
#define FOR_EACH_ELEMENT(idx, data, axis, i, off, body)                                            \
    do {                                                                                           \
        int64_t ds_[ORTC_MAX_RANK], pos_[ORTC_MAX_RANK] = {0}, base_ = 0,                          \
                                    dim_ = (data)->dims[axis];                                     \
        ortc_plain_dense_strides((data)->rank, (data)->dims, ds_);                                 \
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
    int axis;
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(elements_check(c, c->in[0], c->in[1], &axis));
    const ortc_tensor *idx = c->in[1];
    ortc_op_set_output(c, 0, c->in[0]->dtype, idx->rank, idx->dims);
    if (idx->data)
        return gather_check_indices(c, idx, axis, c->in[0]->dims[axis], ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

static ortc_status gather_elements_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    int axis;
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis));
    ORTC_TRY(gather_check_indices(c, idx, axis, x->dims[axis], ORTC_STATUS_INVALID_ARGUMENT));
    size_t elem = ortc_dtype_size(x->dtype);
    char *y = c->out[0]->data;
    const char *xd = x->data;
    // y[p] = x[p with coordinate `axis` replaced by indices[p]]
    FOR_EACH_ELEMENT(idx, x, axis, i, off,
                     memcpy(y + i * (int64_t)elem, xd + off * (int64_t)elem, elem));
    return ORTC_STATUS_OK;
}

static ortc_status scatter_elements_infer(ortc_opctx *c)
{
    int axis;
    ortc_scatter_reduction red;
    ORTC_TRY(ortc_op_check_arity(c, 3, 3, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "reduction", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(ortc_plain_check_known(c, 2));
    ORTC_TRY(elements_check(c, c->in[0], c->in[1], &axis));
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    ORTC_TRY(ortc_op_check_same_shape(c, 2, "updates", 1, "indices"));
    ORTC_TRY(ortc_op_scatter_check(c, "ScatterElements", &red));
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    if (idx->data)
        return gather_check_indices(c, idx, axis, x->dims[axis], ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

static ortc_status scatter_elements_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0], *idx = c->in[1], *u = c->in[2];
    int axis;
    ortc_scatter_reduction red;
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis));
    ORTC_TRY(ortc_op_scatter_check(c, "ScatterElements", &red));
    ORTC_TRY(gather_check_indices(c, idx, axis, x->dims[axis], ORTC_STATUS_INVALID_ARGUMENT));
    char *y = c->out[0]->data;
    ortc_plain_copy(y, x->data, ortc_tensor_bytes(x));
    size_t elem = ortc_dtype_size(x->dtype);
    const char *ud = u->data;
    // y = x; then y[p with coordinate `axis` replaced by indices[p]] (op)= updates[p]
    if (red == ORTC_SCATTER_NONE)
        FOR_EACH_ELEMENT(idx, x, axis, i, off,
                         memcpy(y + off * (int64_t)elem, ud + i * (int64_t)elem, elem));
    else
        FOR_EACH_ELEMENT(idx, x, axis, i, off,
                         ortc_op_scatter_combine(x->dtype, y + off * (int64_t)elem,
                                                 ud + i * (int64_t)elem, 1, red));
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_index[] = {
    ORTC_OP("Gather", 1, 13, .versions = {1, 11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = gather_infer, .run = gather_run),
    ORTC_OP("GatherElements", 11, 13, .versions = {11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = gather_elements_infer, .run = gather_elements_run),
    /* the output starts as a copy of data: it may overwrite it. Scatter-9
     * is ScatterElements under its deprecated name (Scatter-11 deprecates
     * it, so the row ends at 9; a model at a later opset resolves here). */
    ORTC_OP("Scatter", 9, 9, .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_INPLACE,
            .infer = scatter_elements_infer, .run = scatter_elements_run),
    ORTC_OP("ScatterElements", 11, 16, .versions = {11, 13, 16}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_INPLACE, .infer = scatter_elements_infer, .run = scatter_elements_run),
};
ORTC_OP_TABLE_END(index);
