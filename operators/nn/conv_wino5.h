/* conv_wino5.h — 2-D 5x5 convolution (stride 1, undilated, ungrouped, float32)
 * by Winograd's minimal filtering F(2x2,5x5): each 2x2 output tile costs
 * 36 multiplications per input/output channel pair instead of 100. oneDNN
 * 2.6 has Winograd for 3x3 kernels only. The kernel is plain C with AVX-512
 * intrinsics (ortc_wino5_available() says whether this CPU runs it), knows
 * nothing of oneDNN and reads/writes 16-channel vectors through strides, so
 * it serves channels-last (nhwc) and 16-channel-blocked (nChw16c) layouts.
 * Private to operators/.
 */
#ifndef ORTC_CONV_WINO5_H
#define ORTC_CONV_WINO5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the 16 consecutive channels c0..c0+15 of pixel (n, h, w) start:
 * n * sn + (c0 / 16) * scb + h * sh + w * sw (elements); within them the
 * channels are contiguous. nhwc: scb = 16, sw = C, sh = W * C, sn = H * W * C;
 * nChw16c: sw = 16, sh = W * 16, scb = H * W * 16, sn = ceil(C/16) * scb. */
typedef struct ortc_wino5_layout {
    int64_t sn, scb, sh, sw;
} ortc_wino5_layout;

/* Element-wise followers the output transform applies (the subset of the
 * fusion contract's list this kernel implements). */
typedef enum ortc_wino5_act {
    ORTC_WINO5_NONE,
    ORTC_WINO5_RELU,       /* max(x, 0) */
    ORTC_WINO5_LEAKY_RELU, /* a: alpha */
    ORTC_WINO5_CLIP,       /* a: min, b: max */
} ortc_wino5_act;

#define ORTC_WINO5_MAX_ACTS 4

typedef struct ortc_wino5 {
    int64_t n, ic, oc, ih, iw, oh, ow, pad_top, pad_left;
    int64_t tiles_w, tiles; /* 2x2 output tiles per image row, in all */
    ortc_wino5_layout x, y; /* input and output layouts */
    int n_act;
    struct {
        ortc_wino5_act kind;
        float a, b;
    } act[ORTC_WINO5_MAX_ACTS];
    int threads;
    int64_t tb;        /* tiles per block; 0: the default (rounded up to 6) */
    int64_t icp;       /* ic rounded up to 16 */
    int64_t ocb;       /* output channel blocks of 64 */
    float *u;          /* transformed weights [ocb][36][ic][64], owned */
    float *bias;       /* [ocb * 64] or NULL, owned */
    size_t per_thread; /* scratch bytes per thread */
} ortc_wino5;

/* This CPU has AVX-512F (the kernel's instruction set). */
bool ortc_wino5_available(void);

/* Fills the geometry fields first (n .. pad_left, x, y, act, threads), then
 * call this: transforms w (OIHW, 5x5) and copies bias (may be NULL).
 * Returns false when out of memory. oc must be a multiple of 16. */
bool ortc_wino5_init(ortc_wino5 *k, const float *w, const float *bias);
/* Scratch bytes ortc_wino5_run needs (64-byte aligned base). */
size_t ortc_wino5_scratch(const ortc_wino5 *k);
/* y = conv(x) + bias, then the activations. */
void ortc_wino5_run(const ortc_wino5 *k, const float *x, float *y, void *scratch);
void ortc_wino5_free(ortc_wino5 *k);

/* Tests: whether a prepared Conv node (its opctx state) runs this kernel
 * (defined in conv.c). */
bool ortc_conv_uses_wino5(const void *state);

#endif
