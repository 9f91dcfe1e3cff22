/* unique.c — Unique (ONNX 11): the distinct elements of the flattened input,
 * or its distinct slices along `axis`, sorted ascending (lexicographically
 * for slices, as numpy.unique) or in order of first occurrence, with the
 * indices of first occurrences, the inverse indices and the counts. The
 * count of distinct values depends on the data: the outputs are values of
 * data-dependent size (operator.h). Working memory comes from the run's
 * pool.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

/* Slice i of x along the axis: `outer` runs of `inner` elements, run o
 * starting at element (o * n + i) * inner. Without an axis n is the element
 * count and outer = inner = 1. */
typedef struct slices {
    const ortc_tensor *x;
    int64_t n, outer, inner;
} slices;

/* Element e of x as a double (every numeric dtype Unique takes but the
 * 64-bit integers, compared exactly in cmp_elem). */
static double as_double(const ortc_tensor *x, int64_t e)
{
    const uint16_t *h = x->data;
    switch (x->dtype) {
    case ORTC_DTYPE_FLOAT16: return ortc_f16_to_float(h[e]);
    case ORTC_DTYPE_BFLOAT16: return ortc_bf16_to_float(h[e]);
    default: return ortc_tensor_get_double(x, e);
    }
}

/* <0, 0, >0 as element a of x orders before, with or after element b;
 * NaN after every number (as numpy sorts). */
static int cmp_elem(const ortc_tensor *x, int64_t a, int64_t b)
{
    const void *p = x->data;
    switch (x->dtype) {
    case ORTC_DTYPE_INT64: {
        int64_t u = ((const int64_t *)p)[a], v = ((const int64_t *)p)[b];
        return (u > v) - (u < v);
    }
    case ORTC_DTYPE_UINT64: {
        uint64_t u = ((const uint64_t *)p)[a], v = ((const uint64_t *)p)[b];
        return (u > v) - (u < v);
    }
    case ORTC_DTYPE_STRING: {
        const char *u = ((char *const *)p)[a], *v = ((char *const *)p)[b];
        return strcmp(u ? u : "", v ? v : "");
    }
    default: {
        double u = as_double(x, a), v = as_double(x, b);
        if (isnan(u) || isnan(v))
            return isnan(u) - isnan(v);
        return (u > v) - (u < v);
    }
    }
}

static int cmp_slices(const slices *s, int64_t i, int64_t j)
{
    for (int64_t o = 0; o < s->outer; o++) {
        int64_t a = (o * s->n + i) * s->inner, b = (o * s->n + j) * s->inner;
        for (int64_t k = 0; k < s->inner; k++) {
            int r = cmp_elem(s->x, a + k, b + k);
            if (r)
                return r;
        }
    }
    return 0;
}

/* Slice j before slice i when it compares lower (ties keep index order). */
static bool slice_before(const void *s, int64_t j, int64_t i)
{
    return cmp_slices(s, j, i) < 0;
}

/* j before i when key[j] < key[i] (keys distinct). */
static bool key_before(const void *key, int64_t j, int64_t i)
{
    return ((const int64_t *)key)[j] < ((const int64_t *)key)[i];
}

static ortc_status unique_axis(ortc_opctx *c, int *axis)
{
    const ortc_attr *a = ortc_node_attr(c->node, "axis");
    *axis = -1;
    return a ? ortc_op_axis(c, a->i, c->in[0]->rank, axis) : ORTC_STATUS_OK;
}

static ortc_status unique_infer(ortc_opctx *c)
{
    int axis;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 4));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "sorted", ORTC_ATTR_INT));
    ORTC_TRY(unique_axis(c, &axis));
    const ortc_tensor *x = c->in[0];
    int64_t dims[ORTC_MAX_RANK], one[1] = {-1};
    int rank = 1;
    dims[0] = -1;
    if (axis >= 0) {
        rank = x->rank;
        memcpy(dims, x->dims, (size_t)rank * sizeof *dims);
        dims[axis] = -1;
    }
    ortc_op_set_output_dynamic(c, 0, x->dtype, rank, dims);
    /* inverse_indices has one entry per slice: known now */
    int64_t n = axis >= 0 ? x->dims[axis] : ortc_tensor_numel(x);
    for (int k = 1; k < c->n_out; k++) {
        if (k == 2)
            ortc_op_set_output(c, k, ORTC_DTYPE_INT64, 1, &n);
        else
            ortc_op_set_output_dynamic(c, k, ORTC_DTYPE_INT64, 1, one);
    }
    return ORTC_STATUS_OK;
}

static ortc_status unique_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    int axis;
    ORTC_TRY(unique_axis(c, &axis));
    slices s = {x, ortc_tensor_numel(x), 1, 1};
    if (axis >= 0) {
        s.n = x->dims[axis];
        s.outer = ortc_plain_span(x->dims, 0, axis);
        s.inner = ortc_plain_span(x->dims, axis + 1, x->rank);
    }
    int64_t n = s.n;
    /* order: slice indices sorted (stable); group: the unique value each
     * slice is; first: each group's first slice */
    int64_t *order = ortc_op_alloc(c, (size_t)n * sizeof *order);
    int64_t *tmp = order ? ortc_op_alloc(c, (size_t)n * sizeof *tmp) : NULL;
    int64_t *group = tmp ? ortc_op_alloc(c, (size_t)n * sizeof *group) : NULL;
    int64_t *first = group ? ortc_op_alloc(c, (size_t)n * sizeof *first) : NULL;
    int64_t *count = first ? ortc_op_alloc(c, (size_t)n * sizeof *count) : NULL;
    int64_t *rank_of = count ? ortc_op_alloc(c, (size_t)n * sizeof *rank_of) : NULL;
    if (!rank_of)
        return c->err->status;
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    ortc_sort_index(order, tmp, n, slice_before, &s);
    int64_t u = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i == 0 || cmp_slices(&s, order[i - 1], order[i]) != 0) {
            first[u] = order[i]; /* the lowest index: the sort is stable */
            count[u++] = 0;
        }
        group[order[i]] = u - 1;
        count[u - 1]++;
    }
    /* the output order of the groups: sorted, or by first occurrence */
    int64_t *out_order = tmp; /* reuse: [u] group numbers in output order */
    for (int64_t g = 0; g < u; g++)
        out_order[g] = g;
    if (!ortc_node_attr_int(c->node, "sorted", 1))
        ortc_sort_index(out_order, order, u, key_before, first);
    for (int64_t g = 0; g < u; g++)
        rank_of[out_order[g]] = g;

    int64_t dims[ORTC_MAX_RANK];
    int rank = 1;
    dims[0] = u;
    if (axis >= 0) {
        rank = x->rank;
        memcpy(dims, x->dims, (size_t)rank * sizeof *dims);
        dims[axis] = u;
    }
    char *y = ortc_op_output(c, 0, rank, dims);
    if (!y)
        return c->err->status;
    size_t row = (size_t)s.inner * ortc_dtype_size(x->dtype);
    for (int64_t o = 0; o < s.outer; o++)
        for (int64_t g = 0; g < u; g++)
            memcpy(y + (size_t)(o * u + g) * row,
                   (const char *)x->data + (size_t)(o * n + first[out_order[g]]) * row, row);
    int64_t *indices = c->n_out > 1 && c->out[1] ? ortc_op_output(c, 1, 1, &u) : NULL;
    int64_t *inverse = c->n_out > 2 && c->out[2] ? ortc_op_output(c, 2, 1, &n) : NULL;
    int64_t *counts = c->n_out > 3 && c->out[3] ? ortc_op_output(c, 3, 1, &u) : NULL;
    if ((c->n_out > 1 && c->out[1] && !indices) || (c->n_out > 2 && c->out[2] && !inverse) ||
        (c->n_out > 3 && c->out[3] && !counts))
        return c->err->status;
    for (int64_t g = 0; g < u; g++) {
        if (indices)
            indices[g] = first[out_order[g]];
        if (counts)
            counts[g] = count[out_order[g]];
    }
    for (int64_t i = 0; inverse && i < n; i++)
        inverse[i] = rank_of[group[i]];
    return ORTC_STATUS_OK;
}

const ortc_operator ortc_ops_unique[] = {
    ORTC_OP("Unique", 11, 11,
            .dtypes = ORTC_DTYPES_NUMERIC | ORTC_DT(BOOL) | ORTC_DT(STRING) | ORTC_DT(BFLOAT16),
            .infer = unique_infer, .run = unique_run),
};
ORTC_OP_TABLE_END(unique);
