/* softmax_ref.c — ortc_ref_softmax_forward (see softmax_ref.h): max-shifted
 * exponentials in double. No oneDNN here.
 */
#include "softmax_ref.h"

#include <math.h>

void ortc_ref_softmax_forward(float *y, const float *x, int64_t outer, int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = x + o * len * inner + i;
            float *yp = y + o * len * inner + i;
            double mx = -INFINITY;
            for (int64_t l = 0; l < len; l++)
                if (xp[l * inner] > mx)
                    mx = xp[l * inner];
            double sum = 0.0;
            for (int64_t l = 0; l < len; l++)
                sum += exp((double)xp[l * inner] - mx);
            for (int64_t l = 0; l < len; l++)
                yp[l * inner] = (float)(exp((double)xp[l * inner] - mx) / sum);
        }
}
