/* roi_align.c — RoiAlign (opsets 10 and 16), plain C: each region of
 * interest (x1, y1, x2, y2 in input pixels times spatial_scale) of image
 * batch_indices[r] is split into output_height x output_width bins, each
 * bin sampled on a regular grid (sampling_ratio per side, or adaptively
 * ceil(roi size / bins) when 0) by bilinear interpolation, and the samples
 * averaged (mode avg) or their maximum taken (mode max). half_pixel
 * (RoiAlign-16's default) shifts coordinates by -0.5 pixel and keeps
 * regions as they are: torchvision's roi_align with aligned=True;
 * output_half_pixel (RoiAlign-10's only behaviour) does not shift and
 * widens regions below one pixel to one: aligned=False. Samples more than
 * a pixel outside the image are 0 and count. Float16 computes in float32.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

#define ROI_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))
/* Samples per bin beyond which a region is refused rather than sampled
 * for minutes (a region millions of pixels across, or not finite). */
#define ROI_MAX_GRID (1 << 24)

typedef struct roi_params {
    bool max_mode, half_pixel;
    int64_t oh, ow, sampling;
    float scale;
    int64_t n, c, h, w, rois;
} roi_params;

static ortc_status roi_check(ortc_opctx *c, roi_params *p)
{
    ortc_status st;
    ORTC_TRY(ortc_op_check_arity(c, 3, 3, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_same_dtype(c, 0, 1));
    ORTC_TRY(ortc_op_check_dtype(c, 2, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_attr(c, "output_height", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "output_width", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "sampling_ratio", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "spatial_scale", ORTC_ATTR_FLOAT));
    static const char *const modes[] = {"avg", "max", NULL};
    static const char *const ctms[] = {"half_pixel", "output_half_pixel", NULL};
    int mode, ctm = 1;
    ORTC_TRY(ortc_op_attr_choice(c, "mode", modes, 0, &mode));
    p->max_mode = mode == 1;
    /* before RoiAlign-16: no attribute, and output_half_pixel behaviour */
    if (ortc_op_version(c) < 16 && ortc_node_attr(c->node, "coordinate_transformation_mode"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'coordinate_transformation_mode' exists from "
                             "RoiAlign-16 on");
    if (ortc_op_version(c) >= 16 &&
        (st = ortc_op_attr_choice(c, "coordinate_transformation_mode", ctms, 0, &ctm)))
        return st;
    p->half_pixel = ctm == 0;
    p->oh = ortc_node_attr_int(c->node, "output_height", 1);
    p->ow = ortc_node_attr_int(c->node, "output_width", 1);
    p->sampling = ortc_node_attr_int(c->node, "sampling_ratio", 0);
    p->scale = ortc_node_attr_float(c->node, "spatial_scale", 1.0f);
    if (p->oh < 1 || p->ow < 1 || p->sampling < 0 || !isfinite(p->scale))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "output_height %lld, output_width %lld, sampling_ratio %lld, "
                             "spatial_scale %g: sizes must be >= 1, sampling_ratio >= 0 and the "
                             "scale finite",
                             (long long)p->oh, (long long)p->ow, (long long)p->sampling,
                             (double)p->scale);
    const ortc_tensor *x = c->in[0], *r = c->in[1], *b = c->in[2];
    char sx[128], sr[128], sb[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(sr, sizeof sr, r->rank, r->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    if (x->rank != 4 || r->rank != 2 || (r->dims[1] >= 0 && r->dims[1] != 4) || b->rank != 1 ||
        (r->dims[0] >= 0 && b->dims[0] >= 0 && r->dims[0] != b->dims[0]))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inputs '%s' %s, '%s' (rois) %s and '%s' (batch_indices) %s; "
                             "RoiAlign takes X (N, C, H, W), rois (R, 4) and batch_indices (R)",
                             ortc_plain_input_name(c, 0), sx, ortc_plain_input_name(c, 1), sr,
                             ortc_plain_input_name(c, 2), sb);
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->h = x->dims[2];
    p->w = x->dims[3];
    p->rois = r->dims[0];
    return ORTC_STATUS_OK;
}

static ortc_status roi_infer(ortc_opctx *c)
{
    roi_params p;
    ORTC_TRY(roi_check(c, &p));
    int64_t dims[4] = {p.rois, p.c, p.oh, p.ow};
    ortc_op_set_output(c, 0, c->in[0]->dtype, 4, dims);
    return ortc_plain_check_numel(c, 0);
}

/* scratch: one bin's accumulators, C values of the compute type */
static ortc_status roi_prepare(ortc_opctx *c)
{
    roi_params p;
    ORTC_TRY(roi_check(c, &p));
    c->scratch_bytes = (size_t)p.c * sizeof(double);
    return ORTC_STATUS_OK;
}

/* ---- the kernel, for compute type R ----------------------------------------
 * A sample at (y, x): outside [-1, H] x [-1, W] it is 0; otherwise the
 * coordinates are clamped to >= 0, and a low corner on the last row or
 * column is that row or column itself (torchvision's bilinear_interpolate). */

/* The two grid lines around v (>= 0) along a dim of `size`: *lo = floor(v)
 * and *hi = *lo + 1, both clamped to the last line; true when clamped (the
 * caller then moves v onto that line). */
static bool roi_corners(double v, int64_t size, int64_t *lo, int64_t *hi)
{
    *lo = (int64_t)v;
    if (*lo >= size - 1) {
        *lo = *hi = size - 1;
        return true;
    }
    *hi = *lo + 1;
    return false;
}

#define DEFINE_ROI_ALIGN(NAME, T, R, LOAD, STORE, CEIL)                                             \
    typedef struct NAME##_tap {                                                                     \
        int64_t o1, o2, o3, o4; /* offsets of the four corners in a plane */                        \
        R w1, w2, w3, w4;                                                                           \
    } NAME##_tap;                                                                                   \
    static NAME##_tap NAME##_weights(const roi_params *p, R y, R x)                                 \
    {                                                                                               \
        NAME##_tap t = {0, 0, 0, 0, 0, 0, 0, 0};                                                    \
        if (!(y >= -1 && y <= (R)p->h && x >= -1 && x <= (R)p->w))                                  \
            return t;                                                                               \
        if (y <= 0)                                                                                 \
            y = 0;                                                                                  \
        if (x <= 0)                                                                                 \
            x = 0;                                                                                  \
        int64_t y0, y1, x0, x1;                                                                     \
        if (roi_corners(y, p->h, &y0, &y1))                                                         \
            y = (R)y0;                                                                              \
        if (roi_corners(x, p->w, &x0, &x1))                                                         \
            x = (R)x0;                                                                              \
        R ly = y - (R)y0, lx = x - (R)x0, hy = 1 - ly, hx = 1 - lx;                                 \
        t.o1 = y0 * p->w + x0;                                                                      \
        t.o2 = y0 * p->w + x1;                                                                      \
        t.o3 = y1 * p->w + x0;                                                                      \
        t.o4 = y1 * p->w + x1;                                                                      \
        t.w1 = hy * hx;                                                                             \
        t.w2 = hy * lx;                                                                             \
        t.w3 = ly * hx;                                                                             \
        t.w4 = ly * lx;                                                                             \
        return t;                                                                                   \
    }                                                                                               \
    /* x: (N, C, H, W), rois: (R, 4), y: (R, C, oh, ow); acc: C values.                           \
     * Returns -1, or the index of a region it refuses. */ \
    static int64_t NAME(T *y, const T *x, const T *rois, const int64_t *batch,                      \
                        const roi_params *p, R *acc)                                                \
    {                                                                                               \
        int64_t plane = p->h * p->w;                                                                \
        R off = p->half_pixel ? (R)0.5 : 0, scale = (R)p->scale;                                    \
        for (int64_t r = 0; r < p->rois; r++) {                                                     \
            const T *roi = rois + r * 4;                                                            \
            const T *xb = x + batch[r] * p->c * plane;                                              \
            R x1 = LOAD(roi[0]) * scale - off, y1 = LOAD(roi[1]) * scale - off;                     \
            R rw = LOAD(roi[2]) * scale - off - x1, rh = LOAD(roi[3]) * scale - off - y1;           \
            if (!p->half_pixel) {                                                                   \
                rw = rw > 1 ? rw : 1;                                                               \
                rh = rh > 1 ? rh : 1;                                                               \
            }                                                                                       \
            R bh = rh / (R)p->oh, bw = rw / (R)p->ow;                                               \
            R gh_r = p->sampling > 0 ? (R)p->sampling : CEIL(rh / (R)p->oh);                        \
            R gw_r = p->sampling > 0 ? (R)p->sampling : CEIL(rw / (R)p->ow);                        \
            if (!(gh_r <= ROI_MAX_GRID && gw_r <= ROI_MAX_GRID && gh_r * gw_r <= ROI_MAX_GRID) ||   \
                !(x1 == x1 && y1 == y1))                                                            \
                return r; /* NaN, or a sampling grid beyond reason */                               \
            int64_t gh = gh_r > 0 ? (int64_t)gh_r : 0, gw = gw_r > 0 ? (int64_t)gw_r : 0;           \
            R count = (R)(gh * gw > 1 ? gh * gw : 1);                                               \
            for (int64_t ph = 0; ph < p->oh; ph++)                                                  \
                for (int64_t pw = 0; pw < p->ow; pw++) {                                            \
                    for (int64_t ch = 0; ch < p->c; ch++)                                           \
                        acc[ch] = 0;                                                                \
                    bool first = true;                                                              \
                    for (int64_t iy = 0; iy < gh; iy++) {                                           \
                        R sy = y1 + (R)ph * bh + ((R)iy + (R)0.5) * bh / (R)gh;                     \
                        for (int64_t ix = 0; ix < gw; ix++) {                                       \
                            R sx = x1 + (R)pw * bw + ((R)ix + (R)0.5) * bw / (R)gw;                 \
                            NAME##_tap t = NAME##_weights(p, sy, sx);                               \
                            for (int64_t ch = 0; ch < p->c; ch++) {                                 \
                                const T *xp = xb + ch * plane;                                      \
                                R v = t.w1 * LOAD(xp[t.o1]) + t.w2 * LOAD(xp[t.o2]) +               \
                                      t.w3 * LOAD(xp[t.o3]) + t.w4 * LOAD(xp[t.o4]);                \
                                if (!p->max_mode)                                                   \
                                    acc[ch] += v;                                                   \
                                else if (first || v > acc[ch])                                      \
                                    acc[ch] = v;                                                    \
                            }                                                                       \
                            first = false;                                                          \
                        }                                                                           \
                    }                                                                               \
                    for (int64_t ch = 0; ch < p->c; ch++) {                                         \
                        R v = p->max_mode ? acc[ch] : acc[ch] / count;                              \
                        y[((r * p->c + ch) * p->oh + ph) * p->ow + pw] = STORE(v);                  \
                    }                                                                               \
                }                                                                                   \
        }                                                                                           \
        return -1;                                                                                  \
    }

#define ROI_SAME(v) (v)
#define ROI_F16_LOAD(v) ortc_f16_to_float(v)
#define ROI_F16_STORE(v) ortc_f16_from_double(v)

DEFINE_ROI_ALIGN(roi_f32, float, float, ROI_SAME, ROI_SAME, ceilf)
DEFINE_ROI_ALIGN(roi_f64, double, double, ROI_SAME, ROI_SAME, ceil)
DEFINE_ROI_ALIGN(roi_f16, uint16_t, float, ROI_F16_LOAD, ROI_F16_STORE, ceilf)

static ortc_status roi_run(ortc_opctx *c)
{
    roi_params p;
    ORTC_TRY(roi_check(c, &p));
    const int64_t *batch = c->in[2]->data;
    for (int64_t r = 0; r < p.rois; r++)
        if (batch[r] < 0 || batch[r] >= p.n)
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "batch_indices[%lld] (input 2 '%s') is %lld; input 0 '%s' has "
                                 "%lld images",
                                 (long long)r, ortc_plain_input_name(c, 2), (long long)batch[r],
                                 ortc_plain_input_name(c, 0), (long long)p.n);
    if (p.rois * p.c == 0)
        return ORTC_STATUS_OK;
    if (p.h * p.w == 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "input 0 '%s' has an empty %lldx%lld image to sample",
                             ortc_plain_input_name(c, 0), (long long)p.h, (long long)p.w);
    void *y = c->out[0]->data;
    const void *x = c->in[0]->data, *rois = c->in[1]->data;
    int64_t bad;
    switch (c->in[0]->dtype) {
    case ORTC_DTYPE_FLOAT: bad = roi_f32(y, x, rois, batch, &p, c->scratch); break;
    case ORTC_DTYPE_DOUBLE: bad = roi_f64(y, x, rois, batch, &p, c->scratch); break;
    case ORTC_DTYPE_FLOAT16: bad = roi_f16(y, x, rois, batch, &p, c->scratch); break;
    default:
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "RoiAlign on dtype %s",
                             ortc_dtype_name(c->in[0]->dtype));
    }
    if (bad >= 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "region %lld of input 1 '%s' (%g, %g, %g, %g) is not finite or needs "
                             "more than %d samples per bin",
                             (long long)bad, ortc_plain_input_name(c, 1),
                             ortc_tensor_get_double(c->in[1], bad * 4),
                             ortc_tensor_get_double(c->in[1], bad * 4 + 1),
                             ortc_tensor_get_double(c->in[1], bad * 4 + 2),
                             ortc_tensor_get_double(c->in[1], bad * 4 + 3), ROI_MAX_GRID);
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

#define ROI_CALLBACKS .infer = roi_infer, .prepare = roi_prepare, .run = roi_run

const ortc_operator ortc_ops_roialign[] = {
    ORTC_OP("RoiAlign", 10, 16, .versions = {10, 16}, .dtypes = ROI_DTYPES, ROI_CALLBACKS),
};
ORTC_OP_TABLE_END(roialign);
