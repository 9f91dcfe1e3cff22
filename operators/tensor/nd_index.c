/* nd_index.c — GatherND (opsets 11, 12, 13: batch_dims from 12) and
 * ScatterND (11, 13, 16: reduction none/add/mul from 16), plain C. The
 * last dim of the int64 indices holds tuples that address slices of data;
 * index values lie in [-s, s-1] (negative counts from the end) and are
 * range-checked (at infer when the indices are constant). Elements move as
 * bytes, so every dtype passes; only ScatterND's reductions do arithmetic
 * (numbers only). With reduction "none" and repeated tuples the last one in
 * row-major order wins (the spec leaves that case open).
 */
#include <stdbool.h>
#include <string.h>

#include "cast.h"
#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

/* The layout both operators share. data: (batch, tuples' target dims m,
 * slice); indices: (batch, n tuples, m); a tuple addresses a slice of
 * `slice` elements inside one batch's block of `block` elements. */
typedef struct nd_layout {
    int b, m;                     /* batch dims, tuple length */
    int64_t batch, n, slice;      /* counts; -1 when a dim is unknown */
    int64_t block;                /* elements of data per batch */
    int64_t tdims[ORTC_MAX_RANK]; /* data dims addressed by a tuple */
    int64_t tstride[ORTC_MAX_RANK];
} nd_layout;

static bool dims_known(int rank, const int64_t *dims)
{
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0)
            return false;
    return true;
}

/* Checks data (input 0) against indices (input 1) for batch_dims b. */
static ortc_status nd_check(ortc_opctx *c, int b, nd_layout *l)
{
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    char sx[128], si[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(si, sizeof si, idx->rank, idx->dims);
    int r = x->rank, q = idx->rank;
    if (r < 1 || q < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' %s and input 1 '%s' (indices) %s need rank >= 1",
                             ortc_plain_input_name(c, 0), sx, ortc_plain_input_name(c, 1), si);
    if (b < 0 || b >= q || b >= r)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "batch_dims is %d; it must lie in 0..%d (below both ranks: data %s, "
                             "indices %s)",
                             b, (q < r ? q : r) - 1, sx, si);
    for (int d = 0; d < b; d++)
        if (x->dims[d] >= 0 && idx->dims[d] >= 0 && x->dims[d] != idx->dims[d])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 1 '%s' (indices) has shape %s but input 0 '%s' has %s: "
                                 "the first %d (batch) dims must match",
                                 ortc_plain_input_name(c, 1), si, ortc_plain_input_name(c, 0), sx,
                                 b);
    int64_t m = idx->dims[q - 1];
    if (m < 0)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "the last dim of input 1 '%s' (indices) %s is unknown",
                             ortc_plain_input_name(c, 1), si);
    if (m < 1 || m > r - b)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 1 '%s' (indices) has shape %s: its last dim (the tuple length) "
                             "must lie in 1..%d (rank of input 0 %s minus batch_dims %d)",
                             ortc_plain_input_name(c, 1), si, r - b, sx, b);
    l->b = b;
    l->m = (int)m;
    l->batch = ortc_plain_span(x->dims, 0, b);
    l->n = ortc_plain_span(idx->dims, b, q - 1);
    l->slice = ortc_plain_span(x->dims, b + l->m, r);
    l->block = ortc_plain_span(x->dims, b, r);
    int64_t s = l->slice;
    for (int j = l->m - 1; j >= 0; j--) {
        l->tdims[j] = x->dims[b + j];
        l->tstride[j] = s;
        s *= x->dims[b + j];
    }
    if (!dims_known(r, x->dims) || !dims_known(q, idx->dims))
        l->batch = l->n = l->slice = l->block = -1;
    return ORTC_STATUS_OK;
}

/* Checks every index value; `status`: a model error (constant indices, at
 * infer) or a run-time data error. */
static ortc_status nd_check_indices(ortc_opctx *c, const nd_layout *l, ortc_status status)
{
    const ortc_tensor *idx = c->in[1];
    const int64_t *v = idx->data;
    int64_t count = ortc_tensor_numel(idx);
    for (int64_t e = 0; e < count; e++) {
        int j = (int)(e % l->m);
        int64_t dim = l->tdims[j];
        if (v[e] < -dim || v[e] >= dim)
            return ortc_op_error(c, status,
                                 "index %lld (element %lld of input 1 '%s') is out of range for "
                                 "dim %d of input 0 '%s', whose size is %lld (valid: %lld..%lld)",
                                 (long long)v[e], (long long)e, ortc_plain_input_name(c, 1),
                                 l->b + j, ortc_plain_input_name(c, 0), (long long)dim,
                                 (long long)-dim, (long long)dim - 1);
    }
    return ORTC_STATUS_OK;
}

/* Element offset, inside its batch block, of the slice tuple t addresses
 * (the values are range-checked). */
static inline int64_t nd_offset(const nd_layout *l, const int64_t *t)
{
    int64_t off = 0;
    for (int j = 0; j < l->m; j++)
        off += (t[j] < 0 ? t[j] + l->tdims[j] : t[j]) * l->tstride[j];
    return off;
}

/* ---- GatherND ------------------------------------------------------------ */

static ortc_status gather_nd_check(ortc_opctx *c, nd_layout *l)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "batch_dims", ORTC_ATTR_INT));
    if (ortc_op_version(c) < 12 && ortc_node_attr(c->node, "batch_dims"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'batch_dims' exists from GatherND-12 on");
    int64_t b = ortc_node_attr_int(c->node, "batch_dims", 0);
    if (b < 0 || b > ORTC_MAX_RANK)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "batch_dims is %lld; must be >= 0",
                             (long long)b);
    return nd_check(c, (int)b, l);
}

static ortc_status gather_nd_infer(ortc_opctx *c)
{
    nd_layout l;
    ORTC_TRY(gather_nd_check(c, &l));
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    /* out: indices dims but the last, then data's dims after the tuple's */
    int rank = idx->rank - 1 + x->rank - l.b - l.m;
    ORTC_TRY(ortc_plain_check_rank(c, rank, "output"));
    int64_t dims[ORTC_MAX_RANK];
    int j = 0;
    for (int d = 0; d < idx->rank - 1; d++)
        dims[j++] = idx->dims[d];
    for (int d = l.b + l.m; d < x->rank; d++)
        dims[j++] = x->dims[d];
    ortc_op_set_output(c, 0, x->dtype, rank, dims);
    if (idx->data && l.n >= 0)
        return nd_check_indices(c, &l, ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

// data: (batch, block), indices: (batch, n, m), out: (batch, n, slice)
static ortc_status gather_nd_run(ortc_opctx *c)
{
    nd_layout l;
    ORTC_TRY(gather_nd_check(c, &l));
    ORTC_TRY(nd_check_indices(c, &l, ORTC_STATUS_INVALID_ARGUMENT));
    size_t elem = ortc_dtype_size(c->in[0]->dtype), row = (size_t)l.slice * elem;
    if (row == 0 || l.n == 0 || l.batch == 0)
        return ORTC_STATUS_OK;
    const char *x = c->in[0]->data;
    const int64_t *t = c->in[1]->data;
    char *y = c->out[0]->data;
    for (int64_t bi = 0; bi < l.batch; bi++) {
        const char *blk = x + (size_t)(bi * l.block) * elem;
        for (int64_t i = 0; i < l.n; i++, t += l.m, y += row)
            memcpy(y, blk + (size_t)nd_offset(&l, t) * elem, row);
    }
    return ORTC_STATUS_OK;
}

/* ---- ScatterND ----------------------------------------------------------- */

static ortc_status scatter_nd_check(ortc_opctx *c, nd_layout *l, ortc_scatter_reduction *red)
{
    ORTC_TRY(ortc_op_check_arity(c, 3, 3, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "reduction", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_plain_check_known(c, 2));
    ORTC_TRY(nd_check(c, 0, l));
    const ortc_tensor *x = c->in[0], *idx = c->in[1], *u = c->in[2];
    ORTC_TRY(ortc_op_scatter_check(c, "ScatterND", red));
    /* updates: indices dims but the last, then data's dims after the tuple's */
    int64_t want[ORTC_MAX_RANK * 2];
    int rank = 0;
    for (int d = 0; d < idx->rank - 1; d++)
        want[rank++] = idx->dims[d];
    for (int d = l->m; d < x->rank; d++)
        want[rank++] = x->dims[d];
    bool ok = u->rank == rank;
    for (int d = 0; ok && d < rank; d++)
        ok = u->dims[d] < 0 || want[d] < 0 || u->dims[d] == want[d];
    if (!ok) {
        char su[128], sw[128] = "[";
        ortc_shape_str(su, sizeof su, u->rank, u->dims);
        if (rank <= ORTC_MAX_RANK)
            ortc_shape_str(sw, sizeof sw, rank, want);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 2 '%s' (updates) has shape %s; indices and data make it %s "
                             "(indices.shape[:-1] + data.shape[indices.shape[-1]:])",
                             ortc_plain_input_name(c, 2), su,
                             rank <= ORTC_MAX_RANK ? sw : "rank > 8");
    }
    return ORTC_STATUS_OK;
}

static ortc_status scatter_nd_infer(ortc_opctx *c)
{
    nd_layout l;
    ortc_scatter_reduction red;
    ORTC_TRY(scatter_nd_check(c, &l, &red));
    const ortc_tensor *x = c->in[0];
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    if (c->in[1]->data && l.n >= 0)
        return nd_check_indices(c, &l, ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

// data: (block) (batch_dims is 0), indices: (n, m), updates: (n, slice)
static ortc_status scatter_nd_run(ortc_opctx *c)
{
    nd_layout l;
    ortc_scatter_reduction red;
    ORTC_TRY(scatter_nd_check(c, &l, &red));
    ORTC_TRY(nd_check_indices(c, &l, ORTC_STATUS_INVALID_ARGUMENT));
    const ortc_tensor *x = c->in[0];
    char *y = c->out[0]->data;
    ortc_plain_copy(y, x->data, ortc_tensor_bytes(x));
    size_t elem = ortc_dtype_size(x->dtype), row = (size_t)l.slice * elem;
    if (row == 0 || l.n == 0)
        return ORTC_STATUS_OK;
    const int64_t *t = c->in[1]->data;
    const char *u = c->in[2]->data;
    for (int64_t i = 0; i < l.n; i++, t += l.m, u += row) {
        char *dst = y + (size_t)nd_offset(&l, t) * elem;
        if (red == ORTC_SCATTER_NONE)
            memcpy(dst, u, row);
        else
            ortc_op_scatter_combine(x->dtype, dst, u, l.slice, red);
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_nd_index[] = {
    ORTC_OP("GatherND", 11, 13, .versions = {11, 12, 13}, .dtypes = ORTC_DTYPES_ALL,
            .infer = gather_nd_infer, .run = gather_nd_run),
    /* the output starts as a copy of data: it may overwrite it */
    ORTC_OP("ScatterND", 11, 16, .versions = {11, 13, 16}, .dtypes = ORTC_DTYPES_ALL,
            .flags = ORTC_OP_INPLACE, .infer = scatter_nd_infer, .run = scatter_nd_run),
};
ORTC_OP_TABLE_END(nd_index);
