/* trilu.c — Trilu: the upper or lower triangle of each trailing matrix, the
 * rest zeroed. Plain C over element bytes, so any dtype passes ("" is the
 * STRING zero). The output may overwrite the input.
 */
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

/* ---- Trilu ----------------------------------------------------------------
 * Keeps element (i, j) of each trailing matrix when j - i >= k (upper, the
 * default) or j - i <= k (lower); zeroes the rest ("" for strings). k (input
 * 1, default 0) is read at run time. The output may reuse the input. */

static ortc_status trilu_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 2, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "upper", ORTC_ATTR_INT));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 2, "..., rows, columns"));
    const ortc_tensor *x = c->in[0];
    if (ortc_plain_has_input(c, 1) &&
        (c->in[1]->dtype != ORTC_DTYPE_INT64 || ortc_tensor_numel(c->in[1]) != 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input 1 '%s' (k) must be one int64",
                             ortc_plain_input_name(c, 1));
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
            int64_t lo = upper ? ortc_plain_clamp(i + k, 0, m) : 0;
            int64_t hi = upper ? m : ortc_plain_clamp(i + k + 1, 0, m);
            if (hi < lo)
                hi = lo;
            int64_t row = (b * n + i) * m * e;
            ortc_plain_fill(y + row, zero, lo, elem);
            ortc_plain_copy(y + row + lo * e, x + row + lo * e, (size_t)((hi - lo) * e));
            ortc_plain_fill(y + row + hi * e, zero, m - hi, elem);
        }
}

static ortc_status trilu_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    int64_t k = ortc_plain_has_input(c, 1) ? *(const int64_t *)c->in[1]->data : 0;
    int r = x->rank;
    int64_t n = x->dims[r - 2], m = x->dims[r - 1];
    k = ortc_plain_clamp(k, -n - 1, m + 1); /* beyond this every row is all kept or all cleared */
    _Alignas(16) unsigned char zero[16];
    ortc_plain_set_zero(zero, x->dtype);
    if (ortc_tensor_numel(x) == 0)
        return ORTC_STATUS_OK;
    trilu_forward(c->out[0]->data, x->data, ortc_plain_span(x->dims, 0, r - 2), n, m, k,
                  ortc_node_attr_int(c->node, "upper", 1) != 0, zero, ortc_dtype_size(x->dtype));
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_trilu[] = {
    ORTC_OP("Trilu", 14, 14, .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_INPLACE,
            .infer = trilu_infer, .run = trilu_run),
};
ORTC_OP_TABLE_END(trilu);
