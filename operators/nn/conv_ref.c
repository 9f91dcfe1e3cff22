/* conv_ref.c — ortc_ref_conv_forward (see conv_ref.h): obviously correct
 * loops, clarity over speed. No oneDNN here.
 */
#include "conv_ref.h"

typedef struct conv_acc {
    float *y;
    const float *x, *w, *bias;
    double acc;
} conv_acc;

static inline void conv_start(void *ctx, int64_t oc)
{
    conv_acc *a = ctx;
    a->acc = a->bias ? a->bias[oc] : 0.0;
}

static inline void conv_tap(void *ctx, int64_t xi, int64_t wi)
{
    conv_acc *a = ctx;
    a->acc += (double)a->x[xi] * (double)a->w[wi];
}

static inline void conv_store(void *ctx, int64_t oc, int64_t yi)
{
    (void)oc;
    conv_acc *a = ctx;
    a->y[yi] = (float)a->acc;
}

void ortc_ref_conv_forward(float *out, const float *x, const float *w, const float *bias,
                           const ortc_window *g, int64_t m, int64_t group)
{
    conv_acc a = {.y = out, .x = x, .w = w, .bias = bias};
    ortc_conv_ref_loop(g, m, group, &a, conv_start, conv_tap, conv_store);
}
