/* qconv_ref.c — ortc_ref_qconv_forward (see qconv_ref.h): obviously
 * correct loops, clarity over speed. No oneDNN here.
 */
#include "qconv_ref.h"

static inline int32_t q_at(const void *p, ortc_dtype d, int64_t i)
{
    return d == ORTC_DTYPE_UINT8 ? (int32_t)((const uint8_t *)p)[i]
                                 : (int32_t)((const int8_t *)p)[i];
}

void ortc_ref_qconv_forward(void *y, const ortc_qout *out, const void *x, ortc_dtype x_dtype,
                            int32_t x_zero, const void *w, ortc_dtype w_dtype,
                            const ortc_qparam *w_zero, const ortc_window *g, int64_t m,
                            int64_t group)
{
    const int64_t cg = g->c / group, mg = m / group;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oc = 0; oc < m; oc++) {
            const int64_t gi = oc / mg;
            const int64_t wo = oc * cg * KD * KH * KW;
            const int32_t zw = ortc_qparam_zero(w_zero, w_zero->n > 1 ? oc : 0);
            const int64_t yo = (n * m + oc) * OD * OH * OW;
            for (int64_t od = 0; od < OD; od++)
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        int64_t acc = 0;
                        for (int64_t ci = 0; ci < cg; ci++) {
                            const int64_t xc = (n * g->c + gi * cg + ci) * ID * IH * IW;
                            const int64_t wc = wo + ci * KD * KH * KW;
                            for (int64_t kd = 0; kd < KD; kd++) {
                                int64_t id =
                                    od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
                                if (id < 0 || id >= ID)
                                    continue;
                                for (int64_t kh = 0; kh < KH; kh++) {
                                    int64_t ih =
                                        oh * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
                                    if (ih < 0 || ih >= IH)
                                        continue;
                                    for (int64_t kw = 0; kw < KW; kw++) {
                                        int64_t iw = ow * g->stride[2] - g->pad_begin[2] +
                                                     kw * g->dilation[2];
                                        if (iw < 0 || iw >= IW)
                                            continue;
                                        int32_t xv =
                                            q_at(x, x_dtype, xc + (id * IH + ih) * IW + iw);
                                        int32_t wv =
                                            q_at(w, w_dtype, wc + (kd * KH + kh) * KW + kw);
                                        acc += (int64_t)(xv - x_zero) * (wv - zw);
                                    }
                                }
                            }
                        }
                        ortc_qout_store(out, y, yo + (od * OH + oh) * OW + ow, oc, acc);
                    }
        }
}
