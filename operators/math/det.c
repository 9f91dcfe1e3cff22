/* det.c — Det (opset 11), plain C: the determinant of each trailing
 * (M, M) matrix of a [*, M, M] tensor by LU decomposition with partial
 * pivoting, computed in double for float16, float32 and float64 alike (an
 * (0, 0) matrix has determinant 1, as numpy's). The scratch holds one
 * matrix in double.
 */
#include <math.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

#define DET_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))

static ortc_status det_check(ortc_opctx *c, int64_t *m)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    const ortc_tensor *x = c->in[0];
    int r = x->rank;
    if (r < 2 || (x->dims[r - 1] >= 0 && x->dims[r - 2] >= 0 && x->dims[r - 1] != x->dims[r - 2]))
        return ortc_op_shape_error(c, 0, NULL, "Det needs square matrices [*, M, M]");
    *m = x->dims[r - 1];
    return ORTC_STATUS_OK;
}

static ortc_status det_infer(ortc_opctx *c)
{
    int64_t m;
    ORTC_TRY(det_check(c, &m));
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank - 2, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

static ortc_status det_prepare(ortc_opctx *c)
{
    int64_t m;
    ORTC_TRY(det_check(c, &m));
    c->scratch_bytes = (size_t)(m * m) * sizeof(double);
    return ORTC_STATUS_OK;
}

static double load(const void *x, ortc_dtype t, int64_t i)
{
    if (t == ORTC_DTYPE_FLOAT16)
        return ortc_f16_to_float(((const uint16_t *)x)[i]);
    return ortc_load_real(x, t, i);
}

// a: (m, m), overwritten by its LU factors; returns det(a)
static double det_lu(double *a, int64_t m)
{
    double det = 1.0;
    for (int64_t k = 0; k < m; k++) {
        int64_t p = k;
        for (int64_t i = k + 1; i < m; i++)
            if (fabs(a[i * m + k]) > fabs(a[p * m + k]))
                p = i;
        if (a[p * m + k] == 0.0)
            return 0.0 * det; /* singular; keeps NaN and the sign of zero */
        if (p != k) {
            for (int64_t j = 0; j < m; j++) {
                double t = a[k * m + j];
                a[k * m + j] = a[p * m + j];
                a[p * m + j] = t;
            }
            det = -det;
        }
        double piv = a[k * m + k];
        det *= piv;
        for (int64_t i = k + 1; i < m; i++) {
            double f = a[i * m + k] / piv;
            for (int64_t j = k + 1; j < m; j++)
                a[i * m + j] -= f * a[k * m + j];
        }
    }
    return det;
}

static ortc_status det_run(ortc_opctx *c)
{
    int64_t m;
    ORTC_TRY(det_check(c, &m));
    const ortc_tensor *x = c->in[0];
    ortc_dtype t = x->dtype;
    int64_t batch = ortc_plain_span(x->dims, 0, x->rank - 2), mm = m * m;
    double *a = c->scratch;
    void *y = c->out[0]->data;
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t i = 0; i < mm; i++)
            a[i] = load(x->data, t, b * mm + i);
        double d = det_lu(a, m);
        if (t == ORTC_DTYPE_FLOAT16)
            ((uint16_t *)y)[b] = ortc_f16_from_double(d);
        else
            ortc_store_real(y, t, b, d);
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_det[] = {
    ORTC_OP("Det", 11, 11, .dtypes = DET_DTYPES, .infer = det_infer, .prepare = det_prepare,
            .run = det_run),
};
ORTC_OP_TABLE_END(det);
