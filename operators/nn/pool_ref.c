/* pool_ref.c — the reference average pooling kernels (see pool_ref.h):
 * obviously correct loops, clarity over speed. No oneDNN here.
 */
#include "pool_ref.h"

/* Visits the window of output (od, oh, ow) over one (n, c) plane: the sum
 * and the two element counts average pooling needs. */
typedef struct pool_acc {
    double sum;
    int64_t n_in;  /* elements inside the input */
    int64_t n_pad; /* positions inside [-pad_begin, in + pad_end) */
} pool_acc;

static pool_acc pool_window(const float *xp, const ortc_window *g, int64_t od, int64_t oh,
                            int64_t ow)
{
    pool_acc a = {0.0, 0, 0};
    const int64_t o[3] = {od, oh, ow};
    int64_t start[3];
    for (int d = 0; d < 3; d++)
        start[d] = o[d] * g->stride[d] - g->pad_begin[d];
    for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
        int64_t id = start[0] + kd * g->dilation[0];
        for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
            int64_t ih = start[1] + kh * g->dilation[1];
            for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
                int64_t iw = start[2] + kw * g->dilation[2];
                const int64_t pos[3] = {id, ih, iw};
                bool inside = true, padded = true;
                for (int d = 0; d < 3; d++) {
                    if (pos[d] < 0 || pos[d] >= g->in[d])
                        inside = false;
                    if (pos[d] < -g->pad_begin[d] || pos[d] >= g->in[d] + g->pad_end[d])
                        padded = false;
                }
                if (padded)
                    a.n_pad++;
                if (!inside)
                    continue;
                float v = xp[(id * g->in[1] + ih) * g->in[2] + iw];
                a.sum += v;
                a.n_in++;
            }
        }
    }
    return a;
}

void ortc_ref_avgpool_forward(float *out, const float *x, const ortc_window *g,
                              bool count_include_pad)
{
    const int64_t isz = g->in[0] * g->in[1] * g->in[2];
    const int64_t osz = g->out[0] * g->out[1] * g->out[2];
    for (int64_t p = 0; p < g->n * g->c; p++)
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++)
                for (int64_t ow = 0; ow < g->out[2]; ow++) {
                    pool_acc a = pool_window(x + p * isz, g, od, oh, ow);
                    int64_t div = count_include_pad ? a.n_pad : a.n_in;
                    /* a window holding no input element averages to 0 */
                    out[p * osz + (od * g->out[1] + oh) * g->out[2] + ow] =
                        div > 0 ? (float)(a.sum / (double)div) : 0.0f;
                }
}

void ortc_ref_global_avgpool_forward(float *out, const float *x, int64_t nc, int64_t s)
{
    for (int64_t p = 0; p < nc; p++) {
        double sum = 0.0;
        for (int64_t i = 0; i < s; i++)
            sum += x[p * s + i];
        out[p] = (float)(sum / (double)s);
    }
}
