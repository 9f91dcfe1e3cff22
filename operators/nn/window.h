/* window.h — the sliding-window geometry Conv and pooling share: kernel,
 * strides, dilations and pads (explicit or from auto_pad, with ceil_mode)
 * resolved against an input shape, for up to 3 spatial dims. Checks the
 * node's attributes; no kernels. Private to operators/.
 */
#ifndef ORTC_WINDOW_H
#define ORTC_WINDOW_H

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

/* ---- convolution geometry (Conv, QLinearConv, ConvInteger) ------------- */

typedef struct ortc_conv_geom {
    ortc_window g;
    int64_t m, group;             /* output channels, groups */
    int64_t ydims[ORTC_MAX_RANK]; /* the output's shape: (N, M, out...) */
} ortc_conv_geom;

/* Fills cg from input x (input ix: N, C, 1 to 3 spatial dims), weights w
 * (input iw: M, C/group, kernel...) and the node's group, kernel_shape
 * and window attributes; errors name the node, the inputs and their
 * shapes. */
ortc_status ortc_conv_geom_init(ortc_opctx *c, ortc_conv_geom *cg, int ix, int iw);

/* The window's strides, dilations (as oneDNN counts them: the gaps,
 * dilation - 1) and pads per spatial dim in model order, for oneDNN's
 * convolution descriptors (dnnl_dims_t arrays). */
void ortc_window_dnnl_dims(const ortc_window *g, int64_t *strides, int64_t *dil, int64_t *pl,
                           int64_t *pr);
/* A convolution's FLOPs: each output element sums over the C/group x
 * kernel entries of weight input iw (M, C/group, k...); 0 when unknown. */
double ortc_conv_flops(const ortc_opctx *c, int iw);

/* The explicit pads of spatial dim i of nsp (attribute 'pads': all the
 * begins, then all the ends; NULL: 0); error (INVALID_MODEL) when one is
 * negative. */
ortc_status ortc_window_pads(ortc_opctx *c, const int64_t *pads, int nsp, int i, int64_t *pb,
                             int64_t *pe);

/* Span covered by a window in slot i: (kernel - 1) * dilation + 1. */
static inline int64_t ortc_win_extent(const ortc_window *w, int i)
{
    return (w->kernel[i] - 1) * w->dilation[i] + 1;
}

#endif /* ORTC_WINDOW_H */
