/* gemm_ref.c — ortc_ref_gemm_forward and ortc_ref_matmul_forward (see
 * gemm_ref.h): triple loops, clarity over speed. No oneDNN here.
 */
#include "gemm_ref.h"

void ortc_ref_gemm_forward(float *y, const float *a, const float *b, const float *cm,
                           const int64_t c_stride[2], int64_t m, int64_t n, int64_t k, bool trans_a,
                           bool trans_b, float alpha, float beta)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (int64_t p = 0; p < k; p++) {
                double av = trans_a ? a[p * m + i] : a[i * k + p];
                double bv = trans_b ? b[j * k + p] : b[p * n + j];
                acc += av * bv;
            }
            double v = (double)alpha * acc;
            if (cm && beta != 0.0f)
                v += (double)beta * cm[i * c_stride[0] + j * c_stride[1]];
            y[i * n + j] = (float)v;
        }
}

void ortc_ref_matmul_forward(float *y, const float *a, const float *b, const ortc_bcast *bc,
                             int64_t m, int64_t k, int64_t n)
{
    /* ortc_bcast_row walks all dims but the last; append a unit dim so every
     * batch index is its own "row". */
    ortc_bcast rows = *bc;
    rows.dims[rows.rank] = 1;
    rows.a_stride[rows.rank] = rows.b_stride[rows.rank] = 0;
    rows.rank++;
    int64_t batches = ortc_bcast_numel(bc);
    if (!m || !n)
        return; /* an empty output; a, b and y may be NULL */
    for (int64_t t = 0; t < batches; t++) {
        int64_t oa, ob;
        ortc_bcast_row(&rows, t, &oa, &ob);
        /* indices, not pointers into a and b: with k = 0 they hold nothing
         * (and may be NULL), and y is all zeros */
        int64_t a0 = oa * m * k, b0 = ob * k * n;
        float *yp = y + t * m * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double acc = 0.0;
                for (int64_t p = 0; p < k; p++)
                    acc += (double)a[a0 + i * k + p] * (double)b[b0 + p * n + j];
                yp[i * n + j] = (float)acc;
            }
    }
}
