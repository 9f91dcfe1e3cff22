/* softmax_ref.h — the plain-C reference Softmax, accumulating in double.
 * Never allocates, prints or fails.
 */
#ifndef ORTC_SOFTMAX_REF_H
#define ORTC_SOFTMAX_REF_H

#include <stdint.h>

// x: (outer, len, inner)  y: softmax over len
void ortc_ref_softmax_forward(float *y, const float *x, int64_t outer, int64_t len, int64_t inner);

#endif /* ORTC_SOFTMAX_REF_H */
