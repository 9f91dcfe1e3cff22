/* conv_ref.h — the plain-C reference convolution: a direct loop over the
 * ONNX definition, accumulating in double; the oracle in tests, the kernel
 * of `--reference` runs and of cases oneDNN cannot express. Never
 * allocates, prints or fails.
 */
#ifndef ORTC_CONV_REF_H
#define ORTC_CONV_REF_H

#include "window.h"

/* The loop of a direct convolution over g (x: (N, C, D, H, W), w: (M,
 * C/group, kD, kH, kW), y: (N, M, oD, oH, oW), zero padding), shared by the
 * float and the quantized reference: for each output element, start(ctx,
 * oc), then tap(ctx, xi, wi) for each input element xi of x inside the
 * window and its weight wi of w (channels, then kD, kH, kW, in order), then
 * store(ctx, oc, yi). Inline so that the constant callbacks are inlined. */
static inline void ortc_conv_ref_loop(const ortc_window *g, int64_t m, int64_t group, void *ctx,
                                      void (*start)(void *ctx, int64_t oc),
                                      void (*tap)(void *ctx, int64_t xi, int64_t wi),
                                      void (*store)(void *ctx, int64_t oc, int64_t yi))
{
    const int64_t cg = g->c / group, mg = m / group;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oc = 0; oc < m; oc++) {
            const int64_t gi = oc / mg;
            const int64_t wo = oc * cg * KD * KH * KW;
            const int64_t yo = (n * m + oc) * OD * OH * OW;
            for (int64_t od = 0; od < OD; od++)
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        start(ctx, oc);
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
                                        tap(ctx, xc + (id * IH + ih) * IW + iw,
                                            wc + (kd * KH + kh) * KW + kw);
                                    }
                                }
                            }
                        }
                        store(ctx, oc, yo + (od * OH + oh) * OW + ow);
                    }
        }
}

// x: (N, C, D, H, W)  w: (M, C/group, kD, kH, kW)  bias: (M) or NULL
// out: (N, M, oD, oH, oW); zero padding
void ortc_ref_conv_forward(float *out, const float *x, const float *w, const float *bias,
                           const ortc_window *g, int64_t m, int64_t group);

#endif /* ORTC_CONV_REF_H */
