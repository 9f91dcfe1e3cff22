/* conv_ref.c — ortc_ref_conv_forward (see conv_ref.h): obviously correct
 * loops, clarity over speed. No oneDNN here.
 */
#include "conv_ref.h"

void ortc_ref_conv_forward(float *out, const float *x, const float *w, const float *bias,
                           const ortc_window *g, int64_t m, int64_t group)
{
    const int64_t cg = g->c / group, mg = m / group;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oc = 0; oc < m; oc++) {
            const int64_t gi = oc / mg;
            const float *wo = w + oc * cg * KD * KH * KW;
            float *yo = out + (n * m + oc) * OD * OH * OW;
            for (int64_t od = 0; od < OD; od++)
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        double acc = bias ? bias[oc] : 0.0;
                        for (int64_t ci = 0; ci < cg; ci++) {
                            const float *xc = x + (n * g->c + gi * cg + ci) * ID * IH * IW;
                            const float *wc = wo + ci * KD * KH * KW;
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
                                        acc += (double)xc[(id * IH + ih) * IW + iw] *
                                               (double)wc[(kd * KH + kh) * KW + kw];
                                    }
                                }
                            }
                        }
                        yo[(od * OH + oh) * OW + ow] = (float)acc;
                    }
        }
}
