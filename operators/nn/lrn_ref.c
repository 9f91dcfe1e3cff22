/* lrn_ref.c — ortc_ref_lrn_forward (see lrn_ref.h): an obviously correct
 * loop over ONNX's definition. No oneDNN here.
 */
#include "lrn_ref.h"

#include <math.h>

void ortc_ref_lrn_forward(float *out, const float *x, int64_t n, int64_t c, int64_t s, int64_t size,
                          float alpha, float beta, float bias)
{
    const int64_t before = (size - 1) / 2, after = size / 2; /* floor, ceil of (size-1)/2 */
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < s; i++) {
                int64_t lo = ch - before < 0 ? 0 : ch - before;
                int64_t hi = ch + after > c - 1 ? c - 1 : ch + after;
                double sq = 0.0;
                for (int64_t j = lo; j <= hi; j++) {
                    double v = x[(b * c + j) * s + i];
                    sq += v * v;
                }
                double v = x[(b * c + ch) * s + i];
                double den = pow((double)bias + (double)alpha / (double)size * sq, (double)beta);
                out[(b * c + ch) * s + i] = (float)(v / den);
            }
}
