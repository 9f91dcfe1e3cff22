/* broadcast.c — numpy broadcasting (see broadcast.h): shape rules, the
 * row walker of the element-wise families and the reference kernels'
 * stride helper. No kernels, no oneDNN.
 */
#include "broadcast.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

/* ---- the walker and shape rules --------------------------------------------- */

void ortc_ew_init(ortc_ew *it, int rank, const int64_t *dims, int n_in, const int *in_rank,
                  const int64_t *const *in_dims)
{
    memset(it, 0, sizeof *it);
    it->n_in = n_in;
    it->numel = 1;
    int64_t full[ORTC_EW_MAX_IN][ORTC_MAX_RANK];
    for (int k = 0; k < n_in; k++) {
        int64_t s = 1;
        for (int i = rank - 1; i >= 0; i--) {
            int j = i - (rank - in_rank[k]);
            int64_t d = j >= 0 ? in_dims[k][j] : 1;
            full[k][i] = d == 1 ? 0 : s;
            s *= d;
        }
    }
    /* drop output dims of 1; merge dim i into the previous one when every
     * operand steps through both as one (contiguous, or broadcast in both) */
    int r = 0;
    for (int i = 0; i < rank; i++) {
        it->numel *= dims[i];
        if (dims[i] == 1)
            continue;
        bool merge = r > 0;
        for (int k = 0; merge && k < n_in; k++)
            merge = it->stride[k][r - 1] == full[k][i] * dims[i];
        if (merge) {
            it->dims[r - 1] *= dims[i];
            for (int k = 0; k < n_in; k++)
                it->stride[k][r - 1] = full[k][i];
        } else {
            it->dims[r] = dims[i];
            for (int k = 0; k < n_in; k++)
                it->stride[k][r] = full[k][i];
            r++;
        }
    }
    if (r == 0)
        it->dims[r++] = 1;
    it->rank = r;
}

void ortc_ew_init_shapes(ortc_ew *it, const ortc_ew_shapes *sh)
{
    const int64_t *d[2] = {sh->a_dims, sh->b_dims};
    int r[2] = {sh->rank, sh->rank};
    ortc_ew_init(it, sh->rank, sh->dims, 2, r, d);
}

/* Advances the row index idx (dims 0..rank-2) by one, keeping each
 * operand's element offset off[k] in step. */
static void ew_next_row(const ortc_ew *it, int64_t *idx, int64_t *off)
{
    for (int i = it->rank - 2; i >= 0; i--) {
        for (int k = 0; k < it->n_in; k++)
            off[k] += it->stride[k][i];
        if (++idx[i] < it->dims[i])
            return;
        for (int k = 0; k < it->n_in; k++)
            off[k] -= it->stride[k][i] * it->dims[i];
        idx[i] = 0;
    }
}

/* The row loop of ortc_ew_apply2/3: n operands in[k] of element size
 * size[k]; calls fn3 when given (n = 3), fn2 otherwise (n = 2). */
static void ew_apply(const ortc_ew *it, ortc_ew_row2 fn2, ortc_ew_row3 fn3, const void *arg,
                     void *y, size_t size_y, int n, const void *const *in, const size_t *size)
{
    if (it->numel <= 0)
        return;
    int last = it->rank - 1;
    int64_t inner = it->dims[last], rows = it->numel / inner;
    int64_t idx[ORTC_MAX_RANK] = {0}, off[ORTC_EW_MAX_IN] = {0};
    for (int64_t r = 0; r < rows; r++) {
        const char *p[ORTC_EW_MAX_IN] = {0};
        for (int k = 0; k < n; k++)
            p[k] = (const char *)in[k] + (size_t)off[k] * size[k];
        void *yr = (char *)y + (size_t)(r * inner) * size_y;
        if (fn3)
            fn3(yr, p[0], it->stride[0][last], p[1], it->stride[1][last], p[2], it->stride[2][last],
                inner, arg);
        else
            fn2(yr, p[0], it->stride[0][last], p[1], it->stride[1][last], inner, arg);
        ew_next_row(it, idx, off);
    }
}

void ortc_ew_apply2(const ortc_ew *it, ortc_ew_row2 fn, const void *arg, void *y, size_t size_y,
                    const void *a, size_t size_a, const void *b, size_t size_b)
{
    const void *in[2] = {a, b};
    const size_t size[2] = {size_a, size_b};
    ew_apply(it, fn, NULL, arg, y, size_y, 2, in, size);
}

void ortc_ew_apply3(const ortc_ew *it, ortc_ew_row3 fn, const void *arg, void *y, size_t size_y,
                    const void *a, size_t size_a, const void *b, size_t size_b, const void *d,
                    size_t size_d)
{
    const void *in[3] = {a, b, d};
    const size_t size[3] = {size_a, size_b, size_d};
    ew_apply(it, NULL, fn, arg, y, size_y, 3, in, size);
}

void ortc_ew_pad_dims(int rank, int64_t *out, int r, const int64_t *dims)
{
    for (int i = 0; i < rank; i++)
        out[i] = i < rank - r ? 1 : dims[i - (rank - r)];
}

/* Opsets 1 and 6: without broadcast=1 the shapes must match; with it, B's
 * shape lines up with A's starting at `axis` (default: A's trailing dims). */
static ortc_status legacy_shapes(ortc_opctx *c, ortc_ew_shapes *sh)
{
    const ortc_tensor *a = c->in[0], *b = c->in[1];
    ORTC_TRY(ortc_op_check_attr(c, "broadcast", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    char sa[128], sb[128];
    ortc_shape_str(sa, sizeof sa, a->rank, a->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    sh->rank = a->rank;
    for (int i = 0; i < a->rank; i++)
        sh->dims[i] = sh->a_dims[i] = a->dims[i];
    if (ortc_node_attr_int(c->node, "broadcast", 0) == 0) {
        bool same = a->rank == b->rank;
        for (int i = 0; same && i < a->rank; i++)
            same = a->dims[i] == b->dims[i];
        if (!same)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "shapes %s and %s differ and attribute 'broadcast' is 0", sa, sb);
        for (int i = 0; i < a->rank; i++)
            sh->b_dims[i] = b->dims[i];
        return ORTC_STATUS_OK;
    }
    int64_t axis = ortc_node_attr_int(c->node, "axis", a->rank - b->rank);
    if (b->rank > a->rank || axis < 0 || axis + b->rank > a->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "B %s does not fit in A %s at axis %lld (legacy broadcast)", sb, sa,
                             (long long)axis);
    for (int i = 0; i < a->rank; i++)
        sh->b_dims[i] = 1;
    for (int i = 0; i < b->rank; i++) {
        int64_t da = a->dims[axis + i], db = b->dims[i];
        if (db != da && db != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "B %s does not match A %s at axis %lld (dim %lld: %lld vs %lld)",
                                 sb, sa, (long long)axis, (long long)(axis + i), (long long)db,
                                 (long long)da);
        sh->b_dims[axis + i] = db;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_ew_binary_shapes(ortc_opctx *c, bool legacy, ortc_ew_shapes *sh)
{
    if (legacy)
        return legacy_shapes(c, sh);
    ORTC_TRY(ortc_op_broadcast(c, c->in[0], c->in[1], &sh->rank, sh->dims));
    ortc_ew_pad_dims(sh->rank, sh->a_dims, c->in[0]->rank, c->in[0]->dims);
    ortc_ew_pad_dims(sh->rank, sh->b_dims, c->in[1]->rank, c->in[1]->dims);
    return ORTC_STATUS_OK;
}

ortc_status ortc_ew_broadcast_n(ortc_opctx *c, int n, const ortc_tensor *const *in, int *rank,
                                int64_t *dims)
{
    int r = 0;
    for (int k = 0; k < n; k++)
        if (in[k] && in[k]->rank > r)
            r = in[k]->rank;
    for (int i = 0; i < r; i++) {
        int64_t d = 1;
        for (int k = 0; k < n; k++) {
            if (!in[k])
                continue;
            int j = i - (r - in[k]->rank);
            int64_t dk = j >= 0 ? in[k]->dims[j] : 1;
            if (dk == 1 || dk == d)
                continue;
            if (d != 1) {
                char shapes[512] = "", s[128];
                for (int m = 0; m < n; m++)
                    if (in[m])
                        ortc_strbuf_append(shapes, sizeof shapes, "%s%s", shapes[0] ? ", " : "",
                                           ortc_shape_str(s, sizeof s, in[m]->rank, in[m]->dims));
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "input shapes %s cannot be broadcast together (output dim "
                                     "%d: %lld vs %lld)",
                                     shapes, i, (long long)d, (long long)dk);
            }
            d = dk;
        }
        dims[i] = d;
    }
    *rank = r;
    return ORTC_STATUS_OK;
}

/* ---- per-dim strides --------------------------------------------------------- */

void ortc_bcast_init(ortc_bcast *bc, int rank, const int64_t *out_dims, int a_rank,
                     const int64_t *a_dims, int b_rank, const int64_t *b_dims)
{
    memset(bc, 0, sizeof *bc);
    bc->rank = rank;
    int64_t sa = 1, sb = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int ia = i - (rank - a_rank), ib = i - (rank - b_rank);
        int64_t da = ia >= 0 ? a_dims[ia] : 1, db = ib >= 0 ? b_dims[ib] : 1;
        bc->dims[i] = out_dims[i];
        bc->a_stride[i] = da == 1 ? 0 : sa;
        bc->b_stride[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
}

int64_t ortc_bcast_numel(const ortc_bcast *bc)
{
    int64_t n = 1;
    for (int i = 0; i < bc->rank; i++)
        n *= bc->dims[i];
    return n;
}

void ortc_bcast_row(const ortc_bcast *bc, int64_t row, int64_t *oa, int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int i = bc->rank - 2; i >= 0; i--) {
        int64_t idx = row % bc->dims[i];
        row /= bc->dims[i];
        a += idx * bc->a_stride[i];
        b += idx * bc->b_stride[i];
    }
    *oa = a;
    *ob = b;
}
