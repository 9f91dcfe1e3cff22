/* movement.c — plain-C operators that move, cut, pad or repeat elements
 * without arithmetic: Concat, Split, Slice, Transpose, Pad, Expand, Tile,
 * DepthToSpace and SpaceToDepth. Elements are bytes, so any dtype passes
 * (STRING elements are char* copied as pointers: outputs borrow the input's
 * strings). Strided copies go through ortc_strided_copy. Where the result
 * is the input's bytes unchanged (Slice of everything, Pad by 0, ...),
 * prepare declares a view. Concat of blocked inputs (convolution outputs)
 * runs on oneDNN (concat_dnnl.c).
 */
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "cast.h"
#include "concat_dnnl.h"
#include "error.h"
#include "operator.h"
#include "plain_util.h"
#include "strided_copy.h"

static void declare_view(ortc_opctx *c)
{
    if (c->view)
        c->view[0] = 0;
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
    ORTC_TRY(ortc_op_check_arity(c, 1, INT_MAX, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    for (int i = 0; i < c->n_in; i++)
        ORTC_TRY(ortc_plain_check_known(c, i));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x0 = c->in[0];
    int axis;
    ORTC_TRY(concat_axis(c, &axis));
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
                                 ortc_plain_input_name(c, i), ortc_dtype_name(xi->dtype),
                                 ortc_plain_input_name(c, 0), ortc_dtype_name(x0->dtype));
        if (xi->rank != x0->rank)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL,
                "input %d '%s' has shape %s (rank %d) but input 0 '%s' has shape %s "
                "(rank %d)",
                i, ortc_plain_input_name(c, i), si, xi->rank, ortc_plain_input_name(c, 0), s0,
                x0->rank);
        for (int d = 0; d < x0->rank; d++) {
            if (d == axis)
                continue;
            if (xi->dims[d] != x0->dims[d])
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "input %d '%s' has shape %s but input 0 '%s' has shape %s: "
                                     "dims must match except on axis %d (dim %d: %lld vs %lld)",
                                     i, ortc_plain_input_name(c, i), si,
                                     ortc_plain_input_name(c, 0), s0, axis, d,
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
    ORTC_TRY(concat_axis(c, &axis));
    const ortc_tensor *x0 = c->in[0];
    int64_t outer = ortc_plain_span(x0->dims, 0, axis);
    size_t inner =
        (size_t)ortc_plain_span(x0->dims, axis + 1, x0->rank) * ortc_dtype_size(x0->dtype);
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

static ortc_status concat_prepare(ortc_opctx *c)
{
    int axis;
    ORTC_TRY(concat_axis(c, &axis));
    ORTC_TRY(ortc_concat_dnnl_prepare(c, axis));
    /* the plain-C kernel on plain inputs: one block per input when there is
     * one input or nothing precedes the axis (a batch of one), and the
     * runtime may then have
     * the producers write their slices (strings own what they point to:
     * never) */
    if (!c->state && c->out[0]->dtype != ORTC_DTYPE_STRING)
        c->joins_inputs = c->n_in == 1 || ortc_plain_span(c->out[0]->dims, 0, axis) == 1;
    return ORTC_STATUS_OK;
}

static ortc_status concat_exec(ortc_opctx *c)
{
    return ortc_concat_dnnl_run(c, concat_run);
}

/* ---- Split ----------------------------------------------------------------
 * Lengths: attribute 'split' (Split-1/2/11) or input 1 (Split-1 and 13);
 * equal parts when neither (the axis must then divide evenly). Negative axes
 * from Split-11. */

static bool split_from_input(const ortc_opctx *c)
{
    int v = ortc_op_version(c);
    return (v == 1 || v >= 13) && ortc_plain_has_input(c, 1);
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
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x = c->in[0];
    int axis;
    ORTC_TRY(split_axis(c, &axis));
    int64_t dim = x->dims[axis];
    int n_out = c->n_out;
    if (split_from_input(c)) {
        const ortc_tensor *s = c->in[1];
        bool ok_type =
            version >= 13 ? s->dtype == ORTC_DTYPE_INT64 : ortc_dtype_is_numeric(s->dtype);
        if (!ok_type || s->rank != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 1 '%s' (split) is %s of rank %d; expected a 1-D %s list",
                                 ortc_plain_input_name(c, 1), ortc_dtype_name(s->dtype), s->rank,
                                 version >= 13 ? "int64" : "numeric");
        if (s->dims[0] != n_out)
            return ortc_op_error(c, ortc_plain_value_status(c, 1),
                                 "input 1 '%s' (split) has %lld lengths but the node has %d "
                                 "outputs",
                                 ortc_plain_input_name(c, 1), (long long)s->dims[0], n_out);
        if (n_out > 0 && !s->data)
            return ortc_plain_data_unknown(c, 1, "split");
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
                             axis, ortc_plain_input_name(c, 0), (long long)dim, n_out);
    }
    ortc_status bad =
        split_from_input(c) ? ortc_plain_value_status(c, 1) : ORTC_STATUS_INVALID_MODEL;
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
                             (long long)sum, axis, ortc_plain_input_name(c, 0), (long long)dim);
    int64_t dims[ORTC_MAX_RANK];
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
    ORTC_TRY(split_axis(c, &axis));
    const ortc_tensor *x = c->in[0];
    int64_t dim = x->dims[axis];
    int64_t outer = ortc_plain_span(x->dims, 0, axis);
    int64_t row = ortc_plain_span(x->dims, axis + 1, x->rank) * (int64_t)ortc_dtype_size(x->dtype);
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
    int64_t first[ORTC_MAX_RANK], step[ORTC_MAX_RANK], count[ORTC_MAX_RANK];
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
        start = ortc_plain_clamp(start, 0, d);
        end = ortc_plain_clamp(end, 0, d);
        *first = start;
        if (end > start)
            *count = (int64_t)((uint64_t)(end - start - 1) / (uint64_t)step) + 1;
    } else {
        start = ortc_plain_clamp(start, 0, d - 1);
        end = ortc_plain_clamp(end, -1, d - 1);
        *first = start;
        if (start > end) /* 0 - (uint64)step is |step|, also for INT64_MIN */
            *count = (int64_t)((uint64_t)(start - end - 1) / (0 - (uint64_t)step)) + 1;
    }
}

/* Reads Slice-1's list attribute `name` into vals (at most ORTC_MAX_RANK values). */
static ortc_status slice_attr(ortc_opctx *c, const char *name, bool required, int64_t *vals, int *n)
{
    const ortc_attr *a = ortc_node_attr(c->node, name);
    *n = -1;
    if (!a) {
        if (required)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' is missing", name);
        return ORTC_STATUS_OK;
    }
    if (a->n > ORTC_MAX_RANK)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "attribute '%s' has %zu values; ortc supports rank <= %d", name, a->n,
                             ORTC_MAX_RANK);
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
    int64_t starts[ORTC_MAX_RANK], ends[ORTC_MAX_RANK], axes[ORTC_MAX_RANK], steps[ORTC_MAX_RANK];
    int n_starts, n_ends, n_axes = -1, n_steps = -1;
    ortc_status st;
    if (version < 10) {
        if ((st = slice_attr(c, "starts", true, starts, &n_starts)) ||
            (st = slice_attr(c, "ends", true, ends, &n_ends)) ||
            (st = slice_attr(c, "axes", false, axes, &n_axes)))
            return st;
    } else {
        if ((st = ortc_plain_read_int_list(c, 1, "starts", false, starts, ORTC_MAX_RANK,
                                           &n_starts)) ||
            (st = ortc_plain_read_int_list(c, 2, "ends", false, ends, ORTC_MAX_RANK, &n_ends)) ||
            (ortc_plain_has_input(c, 3) &&
             (st = ortc_plain_read_int_list(c, 3, "axes", false, axes, ORTC_MAX_RANK, &n_axes))) ||
            (ortc_plain_has_input(c, 4) &&
             (st = ortc_plain_read_int_list(c, 4, "steps", false, steps, ORTC_MAX_RANK, &n_steps))))
            return st;
    }
    ortc_status bad = version < 10 ? ORTC_STATUS_INVALID_MODEL : ortc_plain_value_status(c, 1);
    if (n_ends != n_starts || (n_axes >= 0 && n_axes != n_starts) ||
        (n_steps >= 0 && n_steps != n_starts))
        return ortc_op_error(c, bad,
                             "starts, ends, axes and steps must have the same length; they have "
                             "%d, %d, %d and %d values (-1: absent)",
                             n_starts, n_ends, n_axes, n_steps);
    if (n_axes < 0 && n_starts > r)
        return ortc_op_error(c, bad, "starts has %d values but input 0 '%s' has rank %d", n_starts,
                             ortc_plain_input_name(c, 0), r);
    for (int i = 0; i < r; i++) {
        p->first[i] = 0;
        p->step[i] = 1;
        p->count[i] = x->dims[i];
    }
    bool seen[ORTC_MAX_RANK] = {false};
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
    if (version < 10) {
        ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
        ORTC_TRY(ortc_op_check_attr(c, "starts", ORTC_ATTR_INTS));
        ORTC_TRY(ortc_op_check_attr(c, "ends", ORTC_ATTR_INTS));
        ORTC_TRY(ortc_op_check_attr(c, "axes", ORTC_ATTR_INTS));
    } else
        ORTC_TRY(ortc_op_check_arity(c, 3, 5, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    slice_plan p;
    ORTC_TRY(slice_resolve(c, &p));
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, p.count);
    return ORTC_STATUS_OK;
}

static ortc_status slice_prepare(ortc_opctx *c)
{
    slice_plan p;
    ORTC_TRY(slice_resolve(c, &p));
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
    ORTC_TRY(slice_resolve(c, &p));
    const ortc_tensor *x = c->in[0];
    if (ortc_tensor_numel(c->out[0]) == 0)
        return ORTC_STATUS_OK;
    size_t elem = ortc_dtype_size(x->dtype);
    int64_t xs[ORTC_MAX_RANK], vs[ORTC_MAX_RANK], base = 0;
    ortc_plain_dense_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++) {
        base += p.first[i] * xs[i];
        /* a step matters only between two taken elements: then |step| <
         * dims[i] and the product is bounded; alone (count 1) it may be
         * any int64 (INT64_MAX to mean "just this one") */
        vs[i] = p.count[i] > 1 ? p.step[i] * xs[i] : 0;
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
                             ortc_plain_input_name(c, 0), r);
    bool seen[ORTC_MAX_RANK] = {false};
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
    int perm[ORTC_MAX_RANK];
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "perm", ORTC_ATTR_INTS));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(transpose_perm(c, perm));
    const ortc_tensor *x = c->in[0];
    int64_t dims[ORTC_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = x->dims[perm[i]];
    ortc_op_set_output(c, 0, x->dtype, x->rank, dims);
    return ORTC_STATUS_OK;
}

static ortc_status transpose_prepare(ortc_opctx *c)
{
    int perm[ORTC_MAX_RANK];
    ORTC_TRY(transpose_perm(c, perm));
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
    int perm[ORTC_MAX_RANK];
    ORTC_TRY(transpose_perm(c, perm));
    const ortc_tensor *x = c->in[0];
    int64_t xs[ORTC_MAX_RANK], vs[ORTC_MAX_RANK];
    ortc_plain_dense_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++)
        vs[i] = xs[perm[i]];
    // out[i...] = x[i permuted back]: read x through permuted strides
    ortc_strided_copy_threads(c->out[0]->data, x->data, x->rank, c->out[0]->dims, vs,
                              ortc_dtype_size(x->dtype), c->threads > 0 ? c->threads : 1);
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
                                 name, a->n, ortc_plain_input_name(c, 0), r, 2 * r);
        for (int i = 0; i < 2 * r; i++)
            pads[i] = a->ints[i];
        return ORTC_STATUS_OK;
    }
    int n;
    ORTC_TRY(ortc_plain_read_int_list(c, 1, "pads", true, pads, 2 * ORTC_MAX_RANK, &n));
    if (n != 2 * r)
        return ortc_op_error(c, ortc_plain_value_status(c, 1),
                             "input 1 '%s' (pads) has %d values; input 0 '%s' has rank %d, so it "
                             "needs %d",
                             ortc_plain_input_name(c, 1), n, ortc_plain_input_name(c, 0), r, 2 * r);
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
    ortc_plain_set_zero(val, x->dtype);
    if (ortc_op_version(c) < 11) {
        const ortc_attr *a = ortc_node_attr(c->node, "value");
        if (a)
            ortc_scalar_store(x->dtype, val, 0, ortc_scalar_float(a->f));
    } else if (ortc_plain_has_input(c, 2)) {
        const ortc_tensor *v = c->in[2];
        if (ortc_tensor_numel(v) == 1 && v->data)
            memcpy(val, v->data, ortc_dtype_size(x->dtype));
    }
    return ORTC_STATUS_OK;
}

static ortc_status pad_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    if (version < 11) {
        ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
        ORTC_TRY(ortc_op_check_attr(c, version < 2 ? "paddings" : "pads", ORTC_ATTR_INTS));
        ORTC_TRY(ortc_op_check_attr(c, "value", ORTC_ATTR_FLOAT));
    } else
        ORTC_TRY(ortc_op_check_arity(c, 2, 3, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "mode", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    const ortc_tensor *x = c->in[0];
    if (version < 11 && !ortc_dtype_is_numeric(x->dtype))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input 0 '%s' has dtype %s; Pad-%d pads numbers (its 'value' is a "
                             "float)",
                             ortc_plain_input_name(c, 0), ortc_dtype_name(x->dtype), version);
    if (version >= 11 && ortc_plain_has_input(c, 2)) {
        const ortc_tensor *v = c->in[2];
        if (v->dtype != x->dtype || ortc_tensor_numel(v) != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 2 '%s' (constant_value) is %s with %lld elements; it must "
                                 "be one %s like input 0",
                                 ortc_plain_input_name(c, 2), ortc_dtype_name(v->dtype),
                                 (long long)ortc_tensor_numel(v), ortc_dtype_name(x->dtype));
    }
    int64_t pads[2 * ORTC_MAX_RANK];
    pad_mode mode;
    ORTC_TRY(pad_params(c, pads, &mode));
    int r = x->rank;
    int64_t dims[ORTC_MAX_RANK];
    for (int i = 0; i < r; i++) {
        ortc_status bad = version < 11 ? ORTC_STATUS_INVALID_MODEL : ortc_plain_value_status(c, 1);
        if (__builtin_add_overflow(x->dims[i], pads[i], &dims[i]) ||
            __builtin_add_overflow(dims[i], pads[i + r], &dims[i]))
            return ortc_op_error(c, bad,
                                 "pads %lld and %lld on axis %d of input 0 '%s' (dim %lld) "
                                 "overflow a 64-bit dimension",
                                 (long long)pads[i], (long long)pads[i + r], i,
                                 ortc_plain_input_name(c, 0), (long long)x->dims[i]);
        if (dims[i] < 0)
            return ortc_op_error(c, bad,
                                 "pads %lld and %lld crop axis %d of input 0 '%s' (dim %lld) "
                                 "below zero",
                                 (long long)pads[i], (long long)pads[i + r], i,
                                 ortc_plain_input_name(c, 0), (long long)x->dims[i]);
        if (mode != PAD_CONSTANT && x->dims[i] == 0 && dims[i] > 0)
            return ortc_op_error(
                c, bad, "axis %d of input 0 '%s' is empty; %s mode has nothing to repeat", i,
                ortc_plain_input_name(c, 0), mode == PAD_EDGE ? "edge" : "reflect");
    }
    ortc_op_set_output(c, 0, x->dtype, r, dims);
    return ortc_plain_check_numel(c, 0);
}

static ortc_status pad_prepare(ortc_opctx *c)
{
    int64_t pads[2 * ORTC_MAX_RANK];
    pad_mode mode;
    ORTC_TRY(pad_params(c, pads, &mode));
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
    int64_t lo = ortc_plain_clamp(begin, 0, w),
            hi = ortc_plain_clamp(begin + d, lo, w); /* y[lo..hi) = x[..] */
    int64_t rows = ortc_plain_span(yt->dims, 0, r - 1);
    int64_t xs[ORTC_MAX_RANK], idx[ORTC_MAX_RANK] = {0};
    ortc_plain_dense_strides(r, xt->dims, xs);
    for (int64_t row = 0; row < rows; row++, y += w * e) {
        int64_t off = 0;
        bool fill = false;
        for (int k = 0; k < r - 1 && !fill; k++) {
            int64_t s = pad_source(idx[k], pads[k], xt->dims[k], mode);
            fill = s < 0;
            off += s * xs[k];
        }
        if (fill) {
            ortc_plain_fill(y, val, w, elem);
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
    int64_t pads[2 * ORTC_MAX_RANK];
    pad_mode mode;
    ORTC_TRY(pad_params(c, pads, &mode));
    _Alignas(16) unsigned char val[16];
    ORTC_TRY(pad_value(c, val));
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
    int64_t shape[ORTC_MAX_RANK];
    int n;
    ORTC_TRY(ortc_plain_read_ints(c, 1, "shape", 1, shape, ORTC_MAX_RANK, &n));
    const ortc_tensor *x = c->in[0];
    for (int is = 0; is < n; is++)
        if (shape[is] < 0)
            return ortc_op_error(c, ortc_plain_value_status(c, 1),
                                 "input 1 '%s' (shape) has %lld at position %d; dims must be >= 0",
                                 ortc_plain_input_name(c, 1), (long long)shape[is], is);
    int64_t bad[2];
    int i = ortc_broadcast_dims(x->rank, x->dims, n, shape, dims, bad);
    if (i >= 0) {
        char sx[128], ss[128];
        return ortc_op_error(
            c, ortc_plain_value_status(c, 1),
            "input 0 '%s' with shape %s cannot be expanded to %s (dim %d: %lld vs %lld)",
            ortc_plain_input_name(c, 0), ortc_shape_str(sx, sizeof sx, x->rank, x->dims),
            ortc_shape_str(ss, sizeof ss, n, shape), i, (long long)bad[0], (long long)bad[1]);
    }
    *rank = n > x->rank ? n : x->rank;
    return ORTC_STATUS_OK;
}

static ortc_status expand_infer(ortc_opctx *c)
{
    int r = 0;
    int64_t dims[ORTC_MAX_RANK];
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(expand_shape(c, &r, dims));
    ortc_op_set_output(c, 0, c->in[0]->dtype, r, dims);
    return ortc_plain_check_numel(c, 0);
}

/* prepare of Expand and Tile: when no dim grew (Expand only added leading
 * 1s, Tile's repeats are all 1) the output is a view of the input. */
static ortc_status view_unless_grown(ortc_opctx *c)
{
    if (ortc_tensor_numel(c->out[0]) == ortc_tensor_numel(c->in[0]))
        declare_view(c);
    return ORTC_STATUS_OK;
}

static ortc_status expand_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    const ortc_tensor *y = c->out[0];
    int64_t xs[ORTC_MAX_RANK], vs[ORTC_MAX_RANK];
    ortc_plain_dense_strides(x->rank, x->dims, xs);
    int shift = y->rank - x->rank;
    for (int i = 0; i < y->rank; i++) {
        int ix = i - shift;
        vs[i] = ix >= 0 && x->dims[ix] != 1 ? xs[ix] : 0; /* broadcast dims re-read */
    }
    ortc_strided_copy(y->data, x->data, y->rank, y->dims, vs, ortc_dtype_size(x->dtype));
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
            if ((t->dtype != ORTC_DTYPE_INT64 && t->dtype != ORTC_DTYPE_INT32) ||
                ortc_tensor_numel(t) != 1)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "input %d '%s' (%s) must be one int64", i,
                                     ortc_plain_input_name(c, i), names[i]);
            if (!t->data)
                return ortc_plain_data_unknown(c, i, names[i]);
            v[i] = ortc_tensor_get_int(t, 0);
        }
        int axis;
        ORTC_TRY(ortc_op_axis(c, v[2], r, &axis));
        for (int i = 0; i < r; i++)
            reps[i] = i == axis ? v[1] : 1;
    } else {
        int n;
        ORTC_TRY(ortc_plain_read_int_list(c, 1, "repeats", true, reps, ORTC_MAX_RANK, &n));
        if (n != r)
            return ortc_op_error(c, ortc_plain_value_status(c, 1),
                                 "input 1 '%s' (repeats) has %d values but input 0 '%s' has "
                                 "rank %d",
                                 ortc_plain_input_name(c, 1), n, ortc_plain_input_name(c, 0), r);
    }
    for (int i = 0; i < r; i++)
        if (reps[i] < 0)
            return ortc_op_error(c, ortc_plain_value_status(c, 1),
                                 "repeat count %lld for axis %d is negative", (long long)reps[i],
                                 i);
    return ORTC_STATUS_OK;
}

static ortc_status tile_infer(ortc_opctx *c)
{
    int version = ortc_op_version(c);
    int64_t reps[ORTC_MAX_RANK];
    ORTC_TRY(ortc_op_check_arity(c, version < 6 ? 3 : 2, version < 6 ? 3 : 2, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(tile_repeats(c, reps));
    const ortc_tensor *x = c->in[0];
    int64_t dims[ORTC_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        if (x->dims[i] > 0 && reps[i] > INT64_MAX / x->dims[i])
            return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                                 "axis %d: %lld copies of dim %lld overflow", i, (long long)reps[i],
                                 (long long)x->dims[i]);
        dims[i] = x->dims[i] * reps[i];
    }
    ortc_op_set_output(c, 0, x->dtype, x->rank, dims);
    return ortc_plain_check_numel(c, 0);
}

static ortc_status tile_run(ortc_opctx *c)
{
    int64_t reps[ORTC_MAX_RANK];
    ORTC_TRY(tile_repeats(c, reps));
    /* y: (reps[0], d[0], reps[1], d[1], ...) in row-major order is exactly
     * tile's layout; each repeat re-reads x (stride 0) */
    const ortc_tensor *x = c->in[0];
    int64_t xs[ORTC_MAX_RANK], dims[2 * ORTC_MAX_RANK], vs[2 * ORTC_MAX_RANK];
    ortc_plain_dense_strides(x->rank, x->dims, xs);
    for (int i = 0; i < x->rank; i++) {
        dims[2 * i] = reps[i];
        vs[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        vs[2 * i + 1] = xs[i];
    }
    ortc_strided_copy(c->out[0]->data, x->data, 2 * x->rank, dims, vs, ortc_dtype_size(x->dtype));
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
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "blocksize", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "mode", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    const ortc_attr *a = ortc_node_attr(c->node, "blocksize");
    if (!a)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'blocksize' is missing");
    if (a->i <= 0 || a->i > INT32_MAX)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'blocksize' is %lld",
                             (long long)a->i);
    if (c->in[0]->rank != 4) {
        char s[128];
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "input 0 '%s' has shape %s; %s needs (N, C, H, W)",
            ortc_plain_input_name(c, 0),
            ortc_shape_str(s, sizeof s, c->in[0]->rank, c->in[0]->dims), c->node->op_type);
    }
    *b = a->i;
    return ORTC_STATUS_OK;
}

static ortc_status depth_to_space_crd(ortc_opctx *c, bool *crd)
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

/* DepthToSpace or SpaceToDepth as one 6-D strided copy (dims, vs: the
 * input's strides in the output's order) and the output's dims. */
typedef struct block_plan {
    int64_t ydims[4], dims[6], vs[6];
} block_plan;

static ortc_status block_plan_init(ortc_opctx *c, block_plan *p)
{
    int64_t b = 1;
    ORTC_TRY(block_check(c, &b));
    const ortc_tensor *x = c->in[0];
    int64_t n = x->dims[0], ch = x->dims[1], h = x->dims[2], w = x->dims[3], hw = h * w;
    if (!strcmp(c->node->op_type, "DepthToSpace")) {
        bool crd = false;
        ORTC_TRY(depth_to_space_crd(c, &crd));
        if (ch % (b * b))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 0 '%s' has %lld channels, not a multiple of blocksize^2 "
                                 "= %lld",
                                 ortc_plain_input_name(c, 0), (long long)ch, (long long)(b * b));
        int64_t cc = ch / (b * b);
        /* input strides of the channel parts: DCR (b1, b2, C'), CRD (C', b1, b2) */
        int64_t s_b1 = crd ? b * hw : b * cc * hw, s_b2 = crd ? hw : cc * hw,
                s_c = crd ? b * b * hw : hw;
        *p = (block_plan){.ydims = {n, cc, h * b, w * b},
                          .dims = {n, cc, h, b, w, b},
                          .vs = {ch * hw, s_c, w, s_b1, 1, s_b2}};
        return ORTC_STATUS_OK;
    }
    if (ortc_node_attr(c->node, "mode"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "SpaceToDepth has no attribute 'mode'");
    if (h % b || w % b)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' is %lldx%lld (HxW), not a multiple of blocksize %lld",
                             ortc_plain_input_name(c, 0), (long long)h, (long long)w, (long long)b);
    *p = (block_plan){.ydims = {n, ch * b * b, h / b, w / b},
                      .dims = {n, b, b, ch, h / b, w / b},
                      .vs = {ch * hw, w, 1, hw, b * w, b}};
    return ORTC_STATUS_OK;
}

static ortc_status block_infer(ortc_opctx *c)
{
    block_plan p;
    ortc_status st = block_plan_init(c, &p);
    if (!st)
        ortc_op_set_output(c, 0, c->in[0]->dtype, 4, p.ydims);
    return st;
}

static ortc_status block_run(ortc_opctx *c)
{
    block_plan p;
    ortc_status st = block_plan_init(c, &p);
    if (!st)
        ortc_strided_copy(c->out[0]->data, c->in[0]->data, 6, p.dims, p.vs,
                          ortc_dtype_size(c->in[0]->dtype));
    return st;
}

/* ---- table --------------------------------------------------------------- */

#define BIT(i) (1u << (i))

const ortc_operator ortc_ops_movement[] = {
    /* oneDNN only where inputs arrive blocked (concat_dnnl.c) */
    ORTC_OP("Concat", 1, 13, .versions = {1, 4, 11, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_ACCEPTS_BLOCKED, .infer = concat_infer,
            .prepare = concat_prepare, .run = concat_exec, .release = ortc_concat_dnnl_release,
            .reference = concat_run),
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
            .prepare = view_unless_grown, .run = expand_run),
    /* Tile-1: inputs tiles and axis; from 6 input repeats; a view when every
     * count is 1 */
    ORTC_OP("Tile", 1, 1, .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_MAY_VIEW,
            .data_inputs = BIT(1) | BIT(2), .infer = tile_infer, .prepare = view_unless_grown,
            .run = tile_run),
    ORTC_OP("Tile", 6, 13, .versions = {6, 13}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_MAY_VIEW, .data_inputs = BIT(1), .infer = tile_infer,
            .prepare = view_unless_grown, .run = tile_run),
    ORTC_OP("DepthToSpace", 1, 13, .versions = {1, 11, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = block_infer, .run = block_run),
    ORTC_OP("SpaceToDepth", 1, 13, .versions = {1, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = block_infer, .run = block_run),
};
ORTC_OP_TABLE_END(movement);
