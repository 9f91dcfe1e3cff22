/* loss.c — the loss operators: NegativeLogLikelihoodLoss and
 * SoftmaxCrossEntropyLoss (ONNX 12, 13), any rank (N, C, d1..dk), the
 * reductions none/sum/mean, class weights and ignore_index. Plain C,
 * accumulating in double. No gradients (ortc runs inference only).
 */
#include <math.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"
#include "tensor/cast.h"

typedef enum { RED_NONE, RED_SUM, RED_MEAN } loss_reduction;

/* The node's `reduction` attribute (default "mean"). */
static ortc_status loss_reduction_of(ortc_opctx *c, loss_reduction *r)
{
    static const char *const names[] = {"none", "sum", "mean", NULL};
    int i;
    ortc_status st = ortc_op_attr_choice(c, "reduction", names, RED_MEAN, &i);
    if (!st)
        *r = (loss_reduction)i;
    return st;
}

/* Inputs: 0 scores/log-probabilities (N, C, d1..dk), 1 target (N, d1..dk),
 * 2 optional weight (C). Output 0: the loss, (N, d1..dk) or a scalar;
 * output 1 (SoftmaxCrossEntropyLoss only): log_prob of input 0's shape. */
static ortc_status loss_infer(ortc_opctx *c)
{
    bool sce = !strcmp(c->node->op_type, "SoftmaxCrossEntropyLoss");
    loss_reduction red;
    ORTC_TRY(ortc_op_check_arity(c, 2, 3, 1, sce ? 2 : 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_dtypes(c, 1, ORTC_DT(INT32) | ORTC_DT(INT64)));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 2, "N, C, d1, ..., dk"));
    ORTC_TRY(ortc_op_check_attr(c, "ignore_index", ORTC_ATTR_INT));
    ORTC_TRY(loss_reduction_of(c, &red));
    const ortc_tensor *x = c->in[0], *t = c->in[1];
    char xs[160], ts[160];
    bool match = t->rank == x->rank - 1 && t->dims[0] == x->dims[0];
    for (int d = 2; match && d < x->rank; d++)
        match = t->dims[d - 1] == x->dims[d];
    if (!match)
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL,
            "input 1 '%s' (target) has shape %s; input 0 '%s' of shape %s needs "
            "(N, d1, ..., dk) = its shape without dim 1",
            ortc_plain_input_name(c, 1), ortc_shape_str(ts, sizeof ts, t->rank, t->dims),
            ortc_plain_input_name(c, 0), ortc_shape_str(xs, sizeof xs, x->rank, x->dims));
    if (ortc_plain_has_input(c, 2)) {
        const ortc_tensor *w = c->in[2];
        ORTC_TRY(ortc_op_check_same_dtype(c, 0, 2));
        if (w->rank != 1 || w->dims[0] != x->dims[1])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 2 '%s' (weight) has shape %s; it must be [C] = [%lld]",
                                 ortc_plain_input_name(c, 2),
                                 ortc_shape_str(ts, sizeof ts, w->rank, w->dims),
                                 (long long)x->dims[1]);
    }
    if (red == RED_NONE)
        ortc_op_set_output(c, 0, x->dtype, t->rank, t->dims);
    else
        ortc_op_set_output(c, 0, x->dtype, 0, NULL);
    if (sce && c->n_out > 1 && c->out[1])
        ortc_op_set_output(c, 1, x->dtype, x->rank, x->dims);
    return ORTC_STATUS_OK;
}

static inline double load(const ortc_tensor *t, int64_t i)
{
    return ortc_scalar_double(ortc_scalar_load(t->dtype, t->data, i));
}

static inline void store(ortc_tensor *t, int64_t i, double v)
{
    ortc_scalar_store(t->dtype, t->data, i, ortc_scalar_float(v));
}

// loss: (N, D) or scalar, logp: (N, C, D) or NULL; x: (N, C, D), target: (N, D), weight: (C)
static ortc_status loss_run(ortc_opctx *c)
{
    bool sce = !strcmp(c->node->op_type, "SoftmaxCrossEntropyLoss");
    loss_reduction red;
    ORTC_TRY(loss_reduction_of(c, &red));
    const ortc_tensor *x = c->in[0], *t = c->in[1];
    const ortc_tensor *w = ortc_plain_has_input(c, 2) ? c->in[2] : NULL;
    ortc_tensor *loss = c->out[0];
    ortc_tensor *logp = sce && c->n_out > 1 ? c->out[1] : NULL;
    const ortc_attr *ii_attr = ortc_node_attr(c->node, "ignore_index");
    int64_t ii = ii_attr ? ii_attr->i : 0;
    int64_t n = x->dims[0], nc = x->dims[1], nd = ortc_plain_span(x->dims, 2, x->rank);
    double sum = 0, wsum = 0;
    for (int64_t b = 0; b < n; b++) {
        for (int64_t d = 0; d < nd; d++) {
            const int64_t base = b * nc * nd + d; /* x[b, 0, d] */
            /* log-softmax over the classes (SoftmaxCrossEntropyLoss) */
            double mx = -INFINITY, lse = 0;
            if (sce) {
                for (int64_t k = 0; k < nc; k++)
                    mx = fmax(mx, load(x, base + k * nd));
                for (int64_t k = 0; k < nc; k++)
                    lse += exp(load(x, base + k * nd) - mx);
                lse = log(lse);
                for (int64_t k = 0; logp && k < nc; k++)
                    store(logp, base + k * nd, load(x, base + k * nd) - mx - lse);
            }
            int64_t cls = ortc_tensor_get_int(t, b * nd + d);
            double l = 0, wt = 0;
            if (!(ii_attr && cls == ii)) {
                if (cls < 0 || cls >= nc)
                    return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                         "input 1 '%s' (target) holds %lld at element %lld; "
                                         "classes are 0..%lld%s",
                                         ortc_plain_input_name(c, 1), (long long)cls,
                                         (long long)(b * nd + d), (long long)(nc - 1),
                                         ii_attr ? " or ignore_index" : "");
                double v = load(x, base + cls * nd);
                wt = w ? load(w, cls) : 1.0;
                l = -(sce ? v - mx - lse : v) * wt;
            }
            if (red == RED_NONE)
                store(loss, b * nd + d, l);
            sum += l;
            wsum += wt;
        }
    }
    if (red == RED_SUM)
        store(loss, 0, sum);
    else if (red == RED_MEAN) /* 0/0 (everything ignored) is NaN, as in PyTorch and numpy */
        store(loss, 0, sum / wsum);
    return ORTC_STATUS_OK;
}

/* ---- table ------------------------------------------------------------------ */

/* dtypes: the scores (input 0) */
const ortc_operator ortc_ops_loss[] = {
    ORTC_OP("NegativeLogLikelihoodLoss", 12, 13, .versions = {12, 13},
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16), .infer = loss_infer, .run = loss_run),
    ORTC_OP("SoftmaxCrossEntropyLoss", 12, 12, .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16),
            .infer = loss_infer, .run = loss_run),
    ORTC_OP("SoftmaxCrossEntropyLoss", 13, 13,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DT(BFLOAT16), .infer = loss_infer,
            .run = loss_run),
};
ORTC_OP_TABLE_END(loss);
