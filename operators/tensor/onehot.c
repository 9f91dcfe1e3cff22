/* onehot.c — tensors of "off" values with "on" values at computed places:
 * OneHot (opsets 9, 11) and EyeLike (9), plain C. OneHot's depth (input 1)
 * sets the output's shape, so it must be known when the plan is compiled
 * (data_inputs); indices outside [-depth, depth-1] give an all-off row, and
 * float indices and depths are truncated toward zero (as ONNX Runtime
 * casts them). EyeLike reads only its input's shape (foldable).
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "cast.h"
#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

/* OneHot's indices and depth: every number type (no bool, no string). */
#define ONEHOT_NUMBERS (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DTYPES_INT)

/* Element i of a numeric tensor truncated to an integer; false for NaN,
 * infinities and values beyond int64. */
static bool onehot_int_at(const ortc_tensor *t, int64_t i, int64_t *out)
{
    ortc_scalar v = ortc_scalar_load(t->dtype, t->data, i);
    switch (v.kind) {
    case ORTC_SCALAR_SIGNED: *out = v.i; return true;
    case ORTC_SCALAR_UNSIGNED:
        if (v.u > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v.u;
        return true;
    case ORTC_SCALAR_FLOAT:
        if (!(fabs(v.f) < 9.2e18)) /* also NaN */
            return false;
        *out = (int64_t)trunc(v.f);
        return true;
    }
    return false;
}

typedef struct onehot_params {
    int axis; /* of the output */
    int64_t depth;
} onehot_params;

static ortc_status onehot_check(ortc_opctx *c, onehot_params *p)
{
    ORTC_TRY(ortc_op_check_arity(c, 3, 3, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_dtypes(c, 0, ONEHOT_NUMBERS));
    ORTC_TRY(ortc_op_check_dtypes(c, 1, ONEHOT_NUMBERS));
    ORTC_TRY(ortc_op_check_input(c, 2));
    const ortc_tensor *idx = c->in[0], *depth = c->in[1], *vals = c->in[2];
    if (vals->rank != 1 || (vals->dims[0] >= 0 && vals->dims[0] != 2))
        return ortc_op_shape_error(c, 2, "values", "expected [2] (off, on)");
    if (depth->rank > 1 || (depth->rank == 1 && depth->dims[0] >= 0 && depth->dims[0] != 1))
        return ortc_op_shape_error(c, 1, "depth", "expected one value");
    ORTC_TRY(ortc_plain_check_rank(c, idx->rank + 1, "output"));
    int64_t axis = ortc_node_attr_int(c->node, "axis", -1);
    int r = idx->rank + 1;
    if (axis < -r || axis >= r)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'axis' is %lld; the output has rank %d (valid: %d..%d)",
                             (long long)axis, r, -r, r - 1);
    p->axis = (int)(axis < 0 ? axis + r : axis);
    if (!depth->data)
        return ortc_plain_data_unknown(c, 1, "depth");
    if (!onehot_int_at(depth, 0, &p->depth) || p->depth < 1)
        return ortc_op_error(c, ortc_plain_value_status(c, 1),
                             "input 1 '%s' (depth) is %g; it must be a positive number",
                             ortc_plain_input_name(c, 1), ortc_tensor_get_double(depth, 0));
    return ORTC_STATUS_OK;
}

static ortc_status onehot_infer(ortc_opctx *c)
{
    onehot_params p;
    ORTC_TRY(onehot_check(c, &p));
    const ortc_tensor *idx = c->in[0];
    int64_t dims[ORTC_MAX_RANK];
    int j = 0;
    for (int d = 0; d < idx->rank; d++) {
        if (d == p.axis)
            dims[j++] = p.depth;
        dims[j++] = idx->dims[d];
    }
    if (p.axis == idx->rank)
        dims[j++] = p.depth;
    ortc_op_set_output(c, 0, c->in[2]->dtype, j, dims);
    return ortc_plain_check_numel(c, 0);
}

// indices: (outer, inner), out: (outer, depth, inner)
static ortc_status onehot_run(ortc_opctx *c)
{
    onehot_params p;
    ORTC_TRY(onehot_check(c, &p));
    const ortc_tensor *idx = c->in[0], *vals = c->in[2];
    int64_t outer = ortc_plain_span(idx->dims, 0, p.axis),
            inner = ortc_plain_span(idx->dims, p.axis, idx->rank);
    size_t elem = ortc_dtype_size(vals->dtype);
    const char *off = vals->data, *on = off + elem;
    char *y = c->out[0]->data;
    ortc_plain_fill(y, off, outer * p.depth * inner, elem);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t k;
            if (!onehot_int_at(idx, o * inner + i, &k) || k < -p.depth || k >= p.depth)
                continue; /* all off */
            if (k < 0)
                k += p.depth;
            memcpy(y + ((o * p.depth + k) * inner + i) * (int64_t)elem, on, elem);
        }
    return ORTC_STATUS_OK;
}

/* ---- EyeLike ------------------------------------------------------------- */

/* EyeLike's input and output types: numbers and bool. */
#define EYELIKE_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DTYPES_INT | ORTC_DT(BOOL))

static ortc_status eyelike_check(ortc_opctx *c, ortc_dtype *out)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "dtype", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "k", ORTC_ATTR_INT));
    const ortc_tensor *x = c->in[0];
    if (x->rank != 2)
        return ortc_op_shape_error(c, 0, NULL, "EyeLike needs rank 2");
    *out = x->dtype;
    if (ortc_node_attr(c->node, "dtype")) {
        int64_t d = ortc_node_attr_int(c->node, "dtype", 0);
        if (d < 0 || d >= 32 || !ortc_dtype_in(EYELIKE_DTYPES, (ortc_dtype)d)) {
            char allowed[256];
            ortc_dtypes_str(allowed, sizeof allowed, EYELIKE_DTYPES);
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'dtype' is %lld (%s); EyeLike makes %s", (long long)d,
                                 d >= 0 && d < 32 ? ortc_dtype_name((ortc_dtype)d) : "no dtype",
                                 allowed);
        }
        *out = (ortc_dtype)d;
    }
    return ORTC_STATUS_OK;
}

static ortc_status eyelike_infer(ortc_opctx *c)
{
    ortc_dtype t;
    ORTC_TRY(eyelike_check(c, &t));
    ortc_op_set_output(c, 0, t, 2, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

// y: (rows, cols) = 1 where col - row = k, else 0
static ortc_status eyelike_run(ortc_opctx *c)
{
    ortc_dtype t;
    ORTC_TRY(eyelike_check(c, &t));
    int64_t rows = c->in[0]->dims[0], cols = c->in[0]->dims[1];
    int64_t k = ortc_node_attr_int(c->node, "k", 0);
    void *y = c->out[0]->data;
    if (rows * cols == 0)
        return ORTC_STATUS_OK;
    memset(y, 0, (size_t)(rows * cols) * ortc_dtype_size(t));
    /* rows i with 0 <= i + k < cols */
    int64_t first = k < 0 ? -k : 0;
    for (int64_t i = first; i < rows && i + k < cols; i++)
        ortc_scalar_store(t, y, i * cols + i + k, ortc_scalar_signed(1));
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_onehot[] = {
    /* depth (input 1) sets the output's shape */
    ORTC_OP("OneHot", 9, 11, .versions = {9, 11}, .dtypes = ORTC_DTYPES_ALL, .data_inputs = 1u << 1,
            .infer = onehot_infer, .run = onehot_run),
    ORTC_OP("EyeLike", 9, 9, .dtypes = EYELIKE_DTYPES, .flags = ORTC_OP_SHAPE_ONLY,
            .infer = eyelike_infer, .run = eyelike_run),
};
ORTC_OP_TABLE_END(onehot);
