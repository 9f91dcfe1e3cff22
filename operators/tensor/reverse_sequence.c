/* reverse_sequence.c — ReverseSequence (opset 10), plain C: for each batch
 * entry b, the first sequence_lens[b] steps along the time axis reversed,
 * the rest copied. Time and batch are axes 0 and 1 (either order); lengths
 * lie in 0..time (checked at infer when constant). Elements move as bytes,
 * so every dtype passes.
 */
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

typedef struct rs_params {
    int time_axis, batch_axis;
    int64_t steps, batch, inner; /* inner: elements per (time, batch) pair */
} rs_params;

static ortc_status rs_check(ortc_opctx *c, rs_params *p)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_plain_check_known(c, 0));
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_attr(c, "time_axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "batch_axis", ORTC_ATTR_INT));
    const ortc_tensor *x = c->in[0], *lens = c->in[1];
    char sx[128], sl[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(sl, sizeof sl, lens->rank, lens->dims);
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 2, "time and batch in some order, ..."));
    int64_t t = ortc_node_attr_int(c->node, "time_axis", 0),
            b = ortc_node_attr_int(c->node, "batch_axis", 1);
    if ((t != 0 && t != 1) || (b != 0 && b != 1) || t == b)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "time_axis %lld and batch_axis %lld must be 0 and 1 in some order",
                             (long long)t, (long long)b);
    p->time_axis = (int)t;
    p->batch_axis = (int)b;
    p->steps = x->dims[t];
    p->batch = x->dims[b];
    p->inner = ortc_plain_span(x->dims, 2, x->rank);
    if (lens->rank != 1 || (lens->dims[0] >= 0 && p->batch >= 0 && lens->dims[0] != p->batch))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 1 '%s' (sequence_lens) has shape %s; expected [%lld] (the "
                             "batch dim %lld of input 0 '%s' %s)",
                             ortc_plain_input_name(c, 1), sl, (long long)p->batch, (long long)b,
                             ortc_plain_input_name(c, 0), sx);
    return ORTC_STATUS_OK;
}

static ortc_status rs_check_lens(ortc_opctx *c, const rs_params *p, ortc_status status)
{
    const int64_t *lens = c->in[1]->data;
    for (int64_t b = 0; b < p->batch; b++)
        if (lens[b] < 0 || lens[b] > p->steps)
            return ortc_op_error(c, status,
                                 "sequence_lens[%lld] (input 1 '%s') is %lld; it must lie in "
                                 "0..%lld (the time dim)",
                                 (long long)b, ortc_plain_input_name(c, 1), (long long)lens[b],
                                 (long long)p->steps);
    return ORTC_STATUS_OK;
}

static ortc_status rs_infer(ortc_opctx *c)
{
    rs_params p;
    ORTC_TRY(rs_check(c, &p));
    const ortc_tensor *x = c->in[0];
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    if (c->in[1]->data && p.batch >= 0 && p.steps >= 0)
        return rs_check_lens(c, &p, ORTC_STATUS_INVALID_MODEL);
    return ORTC_STATUS_OK;
}

// x, y: (time, batch, inner) or (batch, time, inner);
// y[t][b] = x[t < len[b] ? len[b] - 1 - t : t][b]
static ortc_status rs_run(ortc_opctx *c)
{
    rs_params p;
    ORTC_TRY(rs_check(c, &p));
    ORTC_TRY(rs_check_lens(c, &p, ORTC_STATUS_INVALID_ARGUMENT));
    const ortc_tensor *x = c->in[0];
    const int64_t *lens = c->in[1]->data;
    size_t row = (size_t)p.inner * ortc_dtype_size(x->dtype);
    if (row == 0)
        return ORTC_STATUS_OK;
    /* strides of time and batch, in rows */
    int64_t ts = p.time_axis == 0 ? p.batch : 1, bs = p.time_axis == 0 ? 1 : p.steps;
    const char *xd = x->data;
    char *y = c->out[0]->data;
    for (int64_t b = 0; b < p.batch; b++)
        for (int64_t t = 0; t < p.steps; t++) {
            int64_t from = t < lens[b] ? lens[b] - 1 - t : t;
            memcpy(y + (size_t)(t * ts + b * bs) * row, xd + (size_t)(from * ts + b * bs) * row,
                   row);
        }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_revseq[] = {
    ORTC_OP("ReverseSequence", 10, 10, .dtypes = ORTC_DTYPES_ALL, .infer = rs_infer, .run = rs_run),
};
ORTC_OP_TABLE_END(revseq);
