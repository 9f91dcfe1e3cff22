/* qconv_ref.c — ortc_ref_qconv_forward (see qconv_ref.h): obviously
 * correct loops, clarity over speed. No oneDNN here.
 */
#include "qconv_ref.h"

static inline int32_t q_at(const void *p, ortc_dtype d, int64_t i)
{
    return d == ORTC_DTYPE_UINT8 ? (int32_t)((const uint8_t *)p)[i]
                                 : (int32_t)((const int8_t *)p)[i];
}

typedef struct qconv_acc {
    void *y;
    const ortc_qout *out;
    const void *x, *w;
    ortc_dtype x_dtype, w_dtype;
    int32_t x_zero, w_zero; /* w_zero: of the current output channel */
    const ortc_qparam *w_zeros;
    int64_t acc;
} qconv_acc;

static inline void qconv_start(void *ctx, int64_t oc)
{
    qconv_acc *a = ctx;
    a->w_zero = ortc_qparam_zero(a->w_zeros, a->w_zeros->n > 1 ? oc : 0);
    a->acc = 0;
}

static inline void qconv_tap(void *ctx, int64_t xi, int64_t wi)
{
    qconv_acc *a = ctx;
    int32_t xv = q_at(a->x, a->x_dtype, xi), wv = q_at(a->w, a->w_dtype, wi);
    a->acc += (int64_t)(xv - a->x_zero) * (wv - a->w_zero);
}

static inline void qconv_store(void *ctx, int64_t oc, int64_t yi)
{
    qconv_acc *a = ctx;
    ortc_qout_store(a->out, a->y, yi, oc, a->acc);
}

void ortc_ref_qconv_forward(void *y, const ortc_qout *out, const void *x, ortc_dtype x_dtype,
                            int32_t x_zero, const void *w, ortc_dtype w_dtype,
                            const ortc_qparam *w_zero, const ortc_window *g, int64_t m,
                            int64_t group)
{
    qconv_acc a = {.y = y,
                   .out = out,
                   .x = x,
                   .w = w,
                   .x_dtype = x_dtype,
                   .w_dtype = w_dtype,
                   .x_zero = x_zero,
                   .w_zeros = w_zero};
    ortc_conv_ref_loop(g, m, group, &a, qconv_start, qconv_tap, qconv_store);
}
