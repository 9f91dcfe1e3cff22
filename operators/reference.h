/* reference.h — plain-C reference kernels for the oneDNN-backed operators:
 * straightforward loops over the ONNX definitions, used as the oracle in
 * tests, for `--reference` runs and as the fallback where oneDNN cannot
 * express a case exactly. Kernels take raw arrays and sizes, output first;
 * they never allocate, print or fail. Also the window geometry (pads,
 * auto_pad, ceil_mode) that Conv and pooling share. Private to operators/.
 */
#ifndef ORTC_REFERENCE_H
#define ORTC_REFERENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "operator.h"

/* ---- window geometry (Conv, MaxPool, AveragePool) ------------------------
 * Up to 3 spatial dims. 1-D and 2-D windows are stored as 3-D with leading
 * unit slots (in = out = kernel = stride = dilation = 1, pads 0), so every
 * kernel loops over (D, H, W). */

#define ORTC_WIN_DIMS 3

typedef struct ortc_window {
    int nsp;      /* spatial dims of the model's tensors: 1..3 */
    int64_t n, c; /* batch and channels of x */
    int64_t in[ORTC_WIN_DIMS], out[ORTC_WIN_DIMS];
    int64_t kernel[ORTC_WIN_DIMS], stride[ORTC_WIN_DIMS], dilation[ORTC_WIN_DIMS];
    /* ONNX pads (explicit or from auto_pad). With ceil_mode a last window
     * may run past in + pad_end; kernels treat that part as outside the
     * padded input (it counts for nothing). */
    int64_t pad_begin[ORTC_WIN_DIMS], pad_end[ORTC_WIN_DIMS];
} ortc_window;

/* Slot of model spatial dim i (0-based) in the 3-slot arrays. */
static inline int ortc_win_slot(const ortc_window *w, int i)
{
    return ORTC_WIN_DIMS - w->nsp + i;
}

/* Fills w from x's shape (rank 3..5: N, C, spatial) and `kernel` (one value
 * per spatial dim) plus the node's strides, dilations, pads and auto_pad
 * attributes. ceil_mode selects ONNX's ceil output size, keeping PyTorch's
 * rule that the last window must start inside the left-padded input.
 * `what` names the op in messages ("Conv", "MaxPool"). Errors name the
 * node, the attribute and the shapes. */
ortc_status ortc_window_init(ortc_opctx *c, ortc_window *w, const ortc_tensor *x,
                             const int64_t *kernel, bool ceil_mode, const char *what);

/* Span covered by a window in slot i: (kernel - 1) * dilation + 1. */
static inline int64_t ortc_win_extent(const ortc_window *w, int i)
{
    return (w->kernel[i] - 1) * w->dilation[i] + 1;
}

/* ---- numpy broadcasting --------------------------------------------------
 * Output dims plus element strides of two operands (0 where broadcast). */
typedef struct ortc_bcast {
    int rank;
    int64_t dims[ORTC_MAX_RANK];
    int64_t a_stride[ORTC_MAX_RANK], b_stride[ORTC_MAX_RANK];
} ortc_bcast;

/* a_dims/b_dims are right-aligned against out_dims (rank >= both ranks);
 * each dim must equal the output's or be 1. */
void ortc_bcast_init(ortc_bcast *bc, int rank, const int64_t *out_dims, int a_rank,
                     const int64_t *a_dims, int b_rank, const int64_t *b_dims);
int64_t ortc_bcast_numel(const ortc_bcast *bc);

/* ---- kernels ------------------------------------------------------------- */

// x: (N, C, D, H, W)  w: (M, C/group, kD, kH, kW)  bias: (M) or NULL
// out: (N, M, oD, oH, oW); zero padding
void ortc_ref_conv_forward(float *out, const float *x, const float *w, const float *bias,
                           const ortc_window *g, int64_t m, int64_t group);

// x: (N, C, D, H, W)  out: (N, C, oD, oH, oW). Divisor: the window's input
// elements, or with count_include_pad also its pad elements inside
// [-pad_begin, in + pad_end) (a ceil_mode overhang past that never counts).
void ortc_ref_avgpool_forward(float *out, const float *x, const ortc_window *g,
                              bool count_include_pad);

// x: (NC, S)  out: (NC): mean over S
void ortc_ref_global_avgpool_forward(float *out, const float *x, int64_t nc, int64_t s);

// x: (N, C, S)  out: (N, C, S); channel window [c - floor((size-1)/2),
// c + ceil((size-1)/2)] clipped to [0, C), sum of squares scaled by alpha/size
void ortc_ref_lrn_forward(float *out, const float *x, int64_t n, int64_t c, int64_t s, int64_t size,
                          float alpha, float beta, float bias);

// a: (M, K), or (K, M) if trans_a   b: (K, N), or (N, K) if trans_b
// cm: NULL or C read at cm[i * c_stride[0] + j * c_stride[1]] (0 strides
// broadcast)   y: (M, N) = alpha * A' B' + beta * C (C skipped if beta == 0)
void ortc_ref_gemm_forward(float *y, const float *a, const float *b, const float *cm,
                           const int64_t c_stride[2], int64_t m, int64_t n, int64_t k, bool trans_a,
                           bool trans_b, float alpha, float beta);

// a: (batch..., M, K)  b: (batch..., K, N)  y: (batch..., M, N); batch
// broadcasting by bc, whose strides count whole matrices
void ortc_ref_matmul_forward(float *y, const float *a, const float *b, const ortc_bcast *bc,
                             int64_t m, int64_t k, int64_t n);

// x: (outer, len, inner)  y: softmax over len
void ortc_ref_softmax_forward(float *y, const float *x, int64_t outer, int64_t len, int64_t inner);

// x, y: (n); y = max(x, 0), NaN stays NaN
void ortc_ref_relu_forward(float *y, const float *x, int64_t n);

#endif
