/* mvn.c — MeanVarianceNormalization (opsets 9, 13; 13 adds bfloat16),
 * plain C: Y = (X - mean) / (sqrt(var) + 1e-9) with mean and the (biased)
 * variance over `axes` (default [0, 2, 3]), as the spec's function body
 * computes it (it adds the 1e-9 to the standard deviation). Computed in
 * double, two passes per group, whatever the dtype.
 */
#include <math.h>
#include <stdbool.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

#define MVN_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))

/* x split into kept dims (one group each) and reduced dims (a group's
 * elements). */
typedef ortc_axes_split mvn_split;

static ortc_status mvn_check(ortc_opctx *c, mvn_split *sp)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "axes", ORTC_ATTR_INTS));
    const ortc_tensor *x = c->in[0];
    static const int64_t default_axes[] = {0, 2, 3};
    size_t n = 3;
    const int64_t *axes = ortc_node_attr_ints(c->node, "axes", &n);
    if (!ortc_node_attr(c->node, "axes")) {
        axes = default_axes;
        n = 3;
    }
    bool reduced[ORTC_MAX_RANK] = {false};
    for (size_t i = 0; i < n; i++) {
        int a;
        ORTC_TRY(ortc_op_axis(c, axes[i], x->rank, &a));
        if (reduced[a])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'axes' names axis %d twice", a);
        reduced[a] = true;
    }
    int64_t str[ORTC_MAX_RANK];
    ortc_plain_dense_strides(x->rank, x->dims, str);
    ortc_axes_split_init(sp, x->rank, x->dims, str, reduced);
    return ORTC_STATUS_OK;
}

static ortc_status mvn_infer(ortc_opctx *c)
{
    mvn_split sp;
    ORTC_TRY(mvn_check(c, &sp));
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

static double mvn_load(ortc_dtype t, const void *x, int64_t i)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: return ((const float *)x)[i];
    case ORTC_DTYPE_DOUBLE: return ((const double *)x)[i];
    case ORTC_DTYPE_FLOAT16: return ortc_f16_to_float(((const uint16_t *)x)[i]);
    default: return ortc_bf16_to_float(((const uint16_t *)x)[i]);
    }
}

static void mvn_store(ortc_dtype t, void *y, int64_t i, double v)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: ((float *)y)[i] = (float)v; break;
    case ORTC_DTYPE_DOUBLE: ((double *)y)[i] = v; break;
    case ORTC_DTYPE_FLOAT16: ((uint16_t *)y)[i] = ortc_f16_from_double(v); break;
    default: ((uint16_t *)y)[i] = ortc_bf16_from_double(v); break;
    }
}

static ortc_status mvn_run(ortc_opctx *c)
{
    mvn_split sp;
    ORTC_TRY(mvn_check(c, &sp));
    const ortc_tensor *x = c->in[0];
    ortc_dtype t = x->dtype;
    if (t != ORTC_DTYPE_FLOAT && t != ORTC_DTYPE_DOUBLE && t != ORTC_DTYPE_FLOAT16 &&
        t != ORTC_DTYPE_BFLOAT16)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "MeanVarianceNormalization on dtype %s",
                             ortc_dtype_name(t));
    if (sp.n_kept * sp.n_red == 0)
        return ORTC_STATUS_OK;
    void *y = c->out[0]->data;
    for (int64_t g = 0; g < sp.n_kept; g++) {
        int64_t base = ortc_axes_offset(g, sp.nk, sp.kdim, sp.kstride);
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < sp.n_red; i++)
            sum += mvn_load(t, x->data, base + ortc_axes_offset(i, sp.nr, sp.rdim, sp.rstride));
        double mean = sum / (double)sp.n_red;
        for (int64_t i = 0; i < sp.n_red; i++) {
            double d =
                mvn_load(t, x->data, base + ortc_axes_offset(i, sp.nr, sp.rdim, sp.rstride)) - mean;
            sq += d * d;
        }
        double denom = sqrt(sq / (double)sp.n_red) + 1e-9;
        for (int64_t i = 0; i < sp.n_red; i++) {
            int64_t at = base + ortc_axes_offset(i, sp.nr, sp.rdim, sp.rstride);
            mvn_store(t, y, at, (mvn_load(t, x->data, at) - mean) / denom);
        }
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_mvn[] = {
    ORTC_OP("MeanVarianceNormalization", 9, 9, .dtypes = MVN_DTYPES, .infer = mvn_infer,
            .run = mvn_run),
    ORTC_OP("MeanVarianceNormalization", 13, 13, .dtypes = MVN_DTYPES | ORTC_DT(BFLOAT16),
            .infer = mvn_infer, .run = mvn_run),
};
ORTC_OP_TABLE_END(mvn);
