/* shape.c — operators that change a tensor's shape but not its bytes:
 * Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout (inference only),
 * and those that read only shapes: Shape and Size. All plain C. All but
 * Shape, Size (and a Dropout with a mask output) declare output 0 a view of
 * input 0; run still copies when not aliased.
 */
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

/* Product of dims[0..n); -1 if a dim is unknown (negative) or it overflows. */
static int64_t dims_product(const int64_t *dims, int n)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] < 0)
            return -1;
        if (dims[i] && p > INT64_MAX / dims[i])
            return -1;
        p *= dims[i];
    }
    return p;
}

/* ---- views: shared run ---------------------------------------------------
 * Their rows declare ORTC_OP_VIEW: output 0 is input 0's bytes. */

/* Called when the runtime could not alias output 0 to input 0 (and in
 * reference mode): the bytes are the same, only the shape differs. */
static ortc_status view_run(ortc_opctx *c)
{
    ortc_plain_copy(c->out[0]->data, c->in[0]->data, ortc_tensor_bytes(c->in[0]));
    return ORTC_STATUS_OK;
}

/* ---- Flatten ------------------------------------------------------------- */

static ortc_status flatten_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    const ortc_tensor *x = c->in[0];
    int64_t attr = ortc_node_attr_int(c->node, "axis", 1);
    int64_t axis = attr;
    /* negative axes are documented from opset 11 but PyTorch exports them at
     * older opsets too, and ONNX Runtime accepts them at every version */
    if (axis < 0)
        axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL,
            "axis %lld is out of range for input '%s' of rank %d (allowed: %d..%d)",
            (long long)attr, ortc_plain_input_name(c, 0), x->rank, -x->rank, x->rank);
    /* x: (d_0 .. d_{axis-1}, d_axis .. d_{r-1}) -> (prod before, prod from) */
    int64_t dims[2] = {dims_product(x->dims, (int)axis),
                       dims_product(x->dims + axis, x->rank - (int)axis)};
    ortc_op_set_output(c, 0, x->dtype, 2, dims);
    return ORTC_STATUS_OK;
}

/* ---- Reshape ------------------------------------------------------------- */

static ortc_status reshape_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    ortc_status st;
    int64_t shape[ORTC_MAX_RANK];
    int n = 0;
    if (version < 5) {
        /* Reshape-1: the shape is an attribute */
        ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
        ORTC_TRY(ortc_op_check_attr(c, "shape", ORTC_ATTR_INTS));
        ORTC_TRY(ortc_plain_check_known(c, 0));
        size_t count = 0;
        const int64_t *vals = ortc_node_attr_ints(c->node, "shape", &count);
        if (!ortc_node_attr(c->node, "shape"))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'shape' is missing");
        if (count > ORTC_MAX_RANK)
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                 "attribute 'shape' has %zu dims; ortc supports rank <= %d", count,
                                 ORTC_MAX_RANK);
        n = (int)count;
        for (int k = 0; k < n; k++)
            shape[k] = vals[k];
    } else {
        ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
        ORTC_TRY(ortc_plain_check_known(c, 0));
        if (version >= 14 && (st = ortc_op_check_attr(c, "allowzero", ORTC_ATTR_INT)))
            return st;
        ORTC_TRY(ortc_plain_read_ints(c, 1, "shape", 1, shape, ORTC_MAX_RANK, &n));
    }
    int allowzero = version >= 14 && ortc_node_attr_int(c->node, "allowzero", 0) != 0;
    const ortc_tensor *x = c->in[0];
    char sx[128], ss[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(ss, sizeof ss, n, shape);

    /* 0 copies the input dim (unless allowzero), one -1 is inferred */
    int64_t dims[ORTC_MAX_RANK];
    int infer_at = -1;
    for (int k = 0; k < n; k++) {
        int64_t s = shape[k];
        if (s == -1) {
            if (infer_at >= 0)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "shape %s has more than one -1 (dims %d and %d)", ss, infer_at,
                                     k);
            infer_at = k;
            dims[k] = 1; /* placeholder for the product below */
        } else if (s == 0 && !allowzero) {
            if (k >= x->rank)
                return ortc_op_error(
                    c, ORTC_STATUS_INVALID_MODEL,
                    "shape %s has 0 at dim %d (copy the input's dim), but input '%s' "
                    "has shape %s (rank %d)",
                    ss, k, ortc_plain_input_name(c, 0), sx, x->rank);
            dims[k] = x->dims[k];
        } else if (s < 0) {
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "shape %s has %lld at dim %d; dims must be >= -1", ss,
                                 (long long)s, k);
        } else {
            dims[k] = s;
        }
    }
    /* rest: product of the known output dims (the -1 counts as 1) */
    int unknown = 0;
    int64_t rest = 1;
    for (int k = 0; k < n; k++) {
        if (dims[k] < 0) { /* copied from an unknown input dim */
            unknown = 1;
            continue;
        }
        if (dims[k] && rest > INT64_MAX / dims[k])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "shape %s has too many elements",
                                 ss);
        rest *= dims[k];
    }
    int64_t in_count = dims_product(x->dims, x->rank);
    if (unknown || in_count < 0) {
        /* unknown input dims: keep what is known, the -1 stays unknown */
        if (infer_at >= 0)
            dims[infer_at] = -1;
    } else if (infer_at >= 0) {
        if (rest == 0 || in_count % rest != 0)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL,
                "cannot reshape input '%s' of shape %s (%lld elements) into shape %s: "
                "the dims other than -1 multiply to %lld",
                ortc_plain_input_name(c, 0), sx, (long long)in_count, ss, (long long)rest);
        dims[infer_at] = in_count / rest;
    } else if (rest != in_count) {
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "cannot reshape input '%s' of shape %s (%lld elements) into shape %s "
                             "(%lld elements)",
                             ortc_plain_input_name(c, 0), sx, (long long)in_count, ss,
                             (long long)rest);
    }
    ortc_op_set_output(c, 0, x->dtype, n, dims);
    return ORTC_STATUS_OK;
}

/* ---- Squeeze / Unsqueeze ------------------------------------------------- */

/* Squeeze's and Unsqueeze's inputs (x with a known shape; from opset 13
 * the axes, an input unless `required`) and the axes list: attribute `axes`
 * before opset 13, input 1 from 13. *present is 0 when neither is given. */
static ortc_status read_axes(ortc_opctx *c, bool required, int64_t *axes, int *n, int *present)
{
    int version = ortc_op_version(c), max_in = version >= 13 ? 2 : 1;
    *n = 0;
    *present = 0;
    ORTC_TRY(ortc_op_check_arity(c, required ? max_in : 1, max_in, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    if (version < 13) {
        ORTC_TRY(ortc_op_check_attr(c, "axes", ORTC_ATTR_INTS));
        if (!ortc_node_attr(c->node, "axes"))
            return ORTC_STATUS_OK;
        size_t count = 0;
        const int64_t *vals = ortc_node_attr_ints(c->node, "axes", &count);
        if (count > ORTC_MAX_RANK)
            return ortc_op_error(
                c, ORTC_STATUS_UNSUPPORTED,
                "attribute 'axes' has %zu values; ortc supports at most %d (rank <= %d)", count,
                ORTC_MAX_RANK, ORTC_MAX_RANK);
        *n = (int)count;
        for (int k = 0; k < *n; k++)
            axes[k] = vals[k];
        *present = 1;
        return ORTC_STATUS_OK;
    }
    if (c->n_in < 2 || !c->in[1])
        return ORTC_STATUS_OK;
    *present = 1;
    return ortc_plain_read_ints(c, 1, "axes", 0, axes, ORTC_MAX_RANK, n);
}

/* Normalises axes against `rank` into the mask `hit`: negative axes count
 * from the back (at every opset, as ONNX Runtime accepts), each in range, no
 * duplicates. */
static ortc_status axes_to_mask(ortc_opctx *c, const int64_t *axes, int n, int rank, int *hit)
{
    for (int i = 0; i < rank; i++)
        hit[i] = 0;
    for (int k = 0; k < n; k++) {
        int64_t a = axes[k];
        if (a < 0)
            a += rank;
        if (a < 0 || a >= rank)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "axes[%d] is %lld, out of range for rank %d", k,
                                 (long long)axes[k], rank);
        if (hit[a])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "axes[%d] is %lld, a duplicate of an earlier axis", k,
                                 (long long)axes[k]);
        hit[a] = 1;
    }
    return ORTC_STATUS_OK;
}

static ortc_status squeeze_infer(ortc_opctx *c)
{
    int64_t axes[ORTC_MAX_RANK];
    int n, present, hit[ORTC_MAX_RANK];
    ORTC_TRY(read_axes(c, false, axes, &n, &present));
    const ortc_tensor *x = c->in[0];
    if (present) {
        /* an explicit empty list squeezes nothing (as ONNX's shape inference
         * and numpy's squeeze(axis=()) do) */
        ORTC_TRY(axes_to_mask(c, axes, n, x->rank, hit));
        for (int i = 0; i < x->rank; i++)
            if (hit[i] && x->dims[i] != 1 && x->dims[i] >= 0) {
                char sx[128];
                return ortc_op_error(
                    c, ORTC_STATUS_INVALID_MODEL,
                    "cannot squeeze axis %d of input '%s' with shape %s: dim is %lld, "
                    "not 1",
                    i, ortc_plain_input_name(c, 0), ortc_shape_str(sx, sizeof sx, x->rank, x->dims),
                    (long long)x->dims[i]);
            }
    } else {
        for (int i = 0; i < x->rank; i++)
            hit[i] = x->dims[i] == 1;
    }
    int64_t dims[ORTC_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (!hit[i])
            dims[r++] = x->dims[i];
    ortc_op_set_output(c, 0, x->dtype, r, dims);
    return ORTC_STATUS_OK;
}

static ortc_status unsqueeze_infer(ortc_opctx *c)
{
    int64_t axes[ORTC_MAX_RANK];
    int n, present, hit[ORTC_MAX_RANK];
    ORTC_TRY(read_axes(c, true, axes, &n, &present));
    if (!present)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'axes' is missing");
    const ortc_tensor *x = c->in[0];
    int r = x->rank + n; /* axes are positions in the output */
    ORTC_TRY(ortc_plain_check_rank(c, r, "output"));
    ORTC_TRY(axes_to_mask(c, axes, n, r, hit));
    int64_t dims[ORTC_MAX_RANK];
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = hit[i] ? 1 : x->dims[j++];
    ortc_op_set_output(c, 0, x->dtype, r, dims);
    return ORTC_STATUS_OK;
}

/* ---- Identity ------------------------------------------------------------ */

/* Identity-16 also passes sequences and optionals; a value of data-
 * dependent size stays one (and is handed on, not copied). */
static ortc_status identity_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    const ortc_tensor *x = c->in[0];
    ortc_type ty = ortc_op_in_type(c, 0);
    if (ty != ORTC_TYPE_TENSOR && ortc_op_version(c) < 16)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 is a %s; Identity takes one from version 16",
                             ortc_type_name(ty));
    if (ty != ORTC_TYPE_TENSOR) {
        ortc_op_set_output_type(c, 0, ty, x->dtype);
        return ORTC_STATUS_OK;
    }
    if (ortc_op_in_dynamic(c, 0)) {
        ortc_op_set_output_dynamic(c, 0, x->dtype, x->rank, x->dims);
        return ORTC_STATUS_OK;
    }
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    return ORTC_STATUS_OK;
}

static ortc_status identity_run(ortc_opctx *c)
{
    if (!c->out_layout[0]->dynamic)
        return view_run(c);
    if (ortc_op_in_type(c, 0) == ORTC_TYPE_TENSOR)
        return ortc_op_output_ref(c, 0, c->in[0]);
    *c->out[0] = *c->in[0]; /* a sequence or optional: values are never written */
    return ORTC_STATUS_OK;
}

/* ---- Dropout (inference) -------------------------------------------------
 * ortc runs inference: output = input and the optional mask is all ones.
 * Before opset 12 there is no training switch the graph can set (Dropout-1/6's
 * is_test is accepted either way, as inference runtimes do). From 12,
 * training_mode true with a ratio > 0 asks for random dropout: refused.
 * With training_mode true and ratio 0 the spec's output is still a copy. */

enum { DROPOUT_INFERENCE = 0, DROPOUT_UNKNOWN = -1 };

/* Reads the scalar ratio input (float16/32/64). */
static ortc_status read_ratio(ortc_opctx *c, const ortc_tensor *t, double *ratio)
{
    switch (t->dtype) {
    case ORTC_DTYPE_FLOAT: *ratio = *(const float *)t->data; return ORTC_STATUS_OK;
    case ORTC_DTYPE_DOUBLE: *ratio = *(const double *)t->data; return ORTC_STATUS_OK;
    case ORTC_DTYPE_FLOAT16:
        *ratio = ortc_f16_to_float(*(const uint16_t *)t->data);
        return ORTC_STATUS_OK;
    default:
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input 1 (ratio) has dtype %s",
                             ortc_dtype_name(t->dtype));
    }
}

/* Whether this Dropout-12+ asks for training: from the training_mode and
 * ratio inputs when their data is known, DROPOUT_UNKNOWN otherwise.
 * Training (random dropout) is refused here. */
static ortc_status dropout_mode(ortc_opctx *c, int *mode)
{
    *mode = DROPOUT_INFERENCE;
    double ratio = 0.5; /* the spec's default */
    if (ortc_op_version(c) < 12)
        return ORTC_STATUS_OK;
    const ortc_tensor *r = c->n_in > 1 ? c->in[1] : NULL;
    const ortc_tensor *t = c->n_in > 2 ? c->in[2] : NULL;
    if (!t)
        return ORTC_STATUS_OK; /* training_mode defaults to false */
    if (!t->data) {
        *mode = DROPOUT_UNKNOWN;
        return ORTC_STATUS_OK;
    }
    if (!*(const uint8_t *)t->data)
        return ORTC_STATUS_OK;
    if (r) {
        if (!r->data) {
            *mode = DROPOUT_UNKNOWN;
            return ORTC_STATUS_OK;
        }
        ORTC_TRY(read_ratio(c, r, &ratio));
    }
    if (ratio == 0)
        return ORTC_STATUS_OK;
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                         "training_mode is true with ratio %g: random (training) dropout is not "
                         "supported; ortc runs inference only",
                         ratio);
}

/* Optional input i, when present: one element of a dtype in `dtypes`. */
static ortc_status check_scalar_input(ortc_opctx *c, int i, const char *role, uint32_t dtypes)
{
    if (c->n_in <= i || !c->in[i])
        return ORTC_STATUS_OK;
    ortc_status st = ortc_op_check_dtypes(c, i, dtypes);
    if (!st && ortc_tensor_numel(c->in[i]) != 1)
        st = ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d '%s' (%s) must be a scalar", i,
                           ortc_plain_input_name(c, i), role);
    return st;
}

static ortc_status dropout_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, version >= 12 ? 3 : 1, 1, 2)) ||
        (st = ortc_op_check_input(c, 0)))
        return st;
    if (version < 12 && (st = ortc_op_check_attr(c, "ratio", ORTC_ATTR_FLOAT)))
        return st;
    if (version < 7 && (st = ortc_op_check_attr(c, "is_test", ORTC_ATTR_INT)))
        return st;
    if (version >= 12 &&
        ((st = ortc_op_check_attr(c, "seed", ORTC_ATTR_INT)) ||
         (st = check_scalar_input(c, 1, "ratio", ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))) ||
         (st = check_scalar_input(c, 2, "training_mode", ORTC_DT(BOOL)))))
        return st;
    int mode;
    ORTC_TRY(dropout_mode(c, &mode));
    const ortc_tensor *x = c->in[0];
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    /* the mask is bool from opset 10; before, it has the input's type */
    if (c->n_out > 1)
        ortc_op_set_output(c, 1, version >= 10 ? ORTC_DTYPE_BOOL : x->dtype, x->rank, x->dims);
    return ORTC_STATUS_OK;
}

static ortc_status dropout_prepare(ortc_opctx *c)
{
    int mode;
    ortc_status st = dropout_mode(c, &mode);
    /* a mask must be filled by run; an unknown training_mode is checked there */
    if (!st && mode == DROPOUT_INFERENCE && (c->n_out < 2 || !c->out[1]) && c->view)
        c->view[0] = 0;
    return st;
}

/* mask: (numel) elements of dtype, all "true" */
static ortc_status fill_ones(ortc_opctx *c, ortc_tensor *mask)
{
    int64_t n = ortc_tensor_numel(mask);
    switch (mask->dtype) {
    case ORTC_DTYPE_BOOL: memset(mask->data, 1, (size_t)n); break;
    case ORTC_DTYPE_FLOAT:
        for (int64_t i = 0; i < n; i++)
            ((float *)mask->data)[i] = 1.0f;
        break;
    case ORTC_DTYPE_DOUBLE:
        for (int64_t i = 0; i < n; i++)
            ((double *)mask->data)[i] = 1.0;
        break;
    case ORTC_DTYPE_FLOAT16:
    case ORTC_DTYPE_BFLOAT16: {
        uint16_t one = mask->dtype == ORTC_DTYPE_FLOAT16 ? 0x3c00 : 0x3f80;
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)mask->data)[i] = one;
        break;
    }
    default:
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "Dropout mask of dtype %s is not supported",
                             ortc_dtype_name(mask->dtype));
    }
    return ORTC_STATUS_OK;
}

static ortc_status dropout_run(ortc_opctx *c)
{
    int mode; /* all inputs are known now: inference or refused */
    ORTC_TRY(dropout_mode(c, &mode));
    ortc_plain_copy(c->out[0]->data, c->in[0]->data, ortc_tensor_bytes(c->in[0]));
    if (c->n_out > 1 && c->out[1] && ortc_tensor_numel(c->out[1]) > 0)
        return fill_ones(c, c->out[1]);
    return ORTC_STATUS_OK;
}

/* ---- Shape ----------------------------------------------------------------
 * Reads only the input's dims. Opset 15's start/end slice the dims list:
 * negative values count from the back, then both clamp to [0, rank]. */

static void shape_range(const ortc_opctx *c, int *start, int *end)
{
    int r = c->in[0]->rank;
    int64_t s = 0, e = r;
    if (ortc_op_version(c) >= 15) {
        s = ortc_node_attr_int(c->node, "start", 0);
        e = ortc_node_attr_int(c->node, "end", r);
    }
    if (s < 0)
        s += r;
    if (e < 0)
        e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    *start = (int)s;
    *end = e < s ? (int)s : (int)e;
}

static ortc_status shape_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "start", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "end", ORTC_ATTR_INT));
    int start, end;
    shape_range(c, &start, &end);
    int64_t n = end - start;
    ortc_op_set_output(c, 0, ORTC_DTYPE_INT64, 1, &n);
    return ORTC_STATUS_OK;
}

static ortc_status shape_run(ortc_opctx *c)
{
    int start, end;
    shape_range(c, &start, &end);
    int64_t *out = c->out[0]->data;
    for (int i = start; i < end; i++)
        out[i - start] = c->in[0]->dims[i];
    return ORTC_STATUS_OK;
}

/* ---- Size ------------------------------------------------------------------ */

static ortc_status size_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ortc_op_set_output(c, 0, ORTC_DTYPE_INT64, 0, NULL);
    return ORTC_STATUS_OK;
}

static ortc_status size_run(ortc_opctx *c)
{
    *(int64_t *)c->out[0]->data = ortc_tensor_numel(c->in[0]);
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

/* The view ops take any dtype; output 0 is input 0 (run copies only when
 * the runtime could not alias them). */
#define VIEW_FACTS .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_VIEW, .run = view_run

const ortc_operator ortc_ops_shape[] = {
    ORTC_OP("Flatten", 1, 13, .versions = {1, 9, 11, 13}, VIEW_FACTS, .infer = flatten_infer),
    /* Reshape-1 takes the shape as an attribute, later versions as input 1 */
    ORTC_OP("Reshape", 1, 1, VIEW_FACTS, .infer = reshape_infer),
    ORTC_OP("Reshape", 5, 14, .versions = {5, 13, 14}, VIEW_FACTS, .data_inputs = 1u << 1,
            .infer = reshape_infer),
    /* axes: an attribute before 13, input 1 from 13 */
    ORTC_OP("Squeeze", 1, 11, .versions = {1, 11}, VIEW_FACTS, .infer = squeeze_infer),
    ORTC_OP("Squeeze", 13, 13, VIEW_FACTS, .data_inputs = 1u << 1, .infer = squeeze_infer),
    ORTC_OP("Unsqueeze", 1, 11, .versions = {1, 11}, VIEW_FACTS, .infer = unsqueeze_infer),
    ORTC_OP("Unsqueeze", 13, 13, VIEW_FACTS, .data_inputs = 1u << 1, .infer = unsqueeze_infer),
    ORTC_OP("Identity", 1, 16, .versions = {1, 13, 14, 16}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_VIEW | ORTC_OP_DYNAMIC, .infer = identity_infer, .run = identity_run),
    /* a view unless a mask is asked for (or training_mode is only known at
     * run time) */
    ORTC_OP("Dropout", 1, 13, .versions = {1, 6, 7, 10, 12, 13},
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DT(BFLOAT16),
            .flags = ORTC_OP_MAY_VIEW, .infer = dropout_infer, .prepare = dropout_prepare,
            .run = dropout_run),
    ORTC_OP("Shape", 1, 15, .versions = {1, 13, 15}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_SHAPE_ONLY, .infer = shape_infer, .run = shape_run),
    ORTC_OP("Size", 1, 13, .versions = {1, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_SHAPE_ONLY, .infer = size_infer, .run = size_run),
};
ORTC_OP_TABLE_END(shape);
