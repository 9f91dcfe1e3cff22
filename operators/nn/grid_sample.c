/* grid_sample.c — GridSample (opset 16), plain C: X (N, C, H, W) sampled
 * at the (x, y) locations of grid (N, Ho, Wo, 2), in [-1, 1] across X's
 * width and height, into Y (N, C, Ho, Wo). Modes bilinear, nearest
 * (round half to even) and bicubic (A = -0.75); padding zeros, border and
 * reflection; align_corners 0/1 — the semantics of PyTorch's
 * torch.nn.functional.grid_sample, which the spec points to. Float16,
 * float32 and float64; float16 computes in float32, the others in their own
 * type (as PyTorch does, so that nearest rounds the same coordinates).
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

#define GS_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))

typedef enum { GS_BILINEAR, GS_NEAREST, GS_BICUBIC } gs_mode;
typedef enum { GS_ZEROS, GS_BORDER, GS_REFLECTION } gs_padding;

typedef struct gs_params {
    gs_mode mode;
    gs_padding pad;
    bool align;
    int64_t n, c, h, w, ho, wo;
} gs_params;

static ortc_status gs_check(ortc_opctx *c, gs_params *p)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_same_dtype(c, 0, 1));
    ORTC_TRY(ortc_op_check_attr(c, "align_corners", ORTC_ATTR_INT));
    static const char *const modes[] = {"bilinear", "nearest", "bicubic", NULL};
    static const char *const pads[] = {"zeros", "border", "reflection", NULL};
    int mode, pad;
    ORTC_TRY(ortc_op_attr_choice(c, "mode", modes, GS_BILINEAR, &mode));
    ORTC_TRY(ortc_op_attr_choice(c, "padding_mode", pads, GS_ZEROS, &pad));
    p->mode = (gs_mode)mode;
    p->pad = (gs_padding)pad;
    p->align = ortc_node_attr_int(c->node, "align_corners", 0) != 0;
    const ortc_tensor *x = c->in[0], *g = c->in[1];
    char sx[128], sg[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(sg, sizeof sg, g->rank, g->dims);
    if (x->rank != 4 || g->rank != 4 || (g->dims[3] >= 0 && g->dims[3] != 2) ||
        (x->dims[0] >= 0 && g->dims[0] >= 0 && x->dims[0] != g->dims[0]))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' has shape %s and input 1 '%s' (grid) %s; GridSample "
                             "takes X (N, C, H, W) and grid (N, H_out, W_out, 2)",
                             ortc_plain_input_name(c, 0), sx, ortc_plain_input_name(c, 1), sg);
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->h = x->dims[2];
    p->w = x->dims[3];
    p->ho = g->dims[1];
    p->wo = g->dims[2];
    return ORTC_STATUS_OK;
}

static ortc_status gs_infer(ortc_opctx *c)
{
    gs_params p;
    ORTC_TRY(gs_check(c, &p));
    int64_t dims[4] = {p.n, p.c, p.ho, p.wo};
    ortc_op_set_output(c, 0, c->in[0]->dtype, 4, dims);
    return ORTC_STATUS_OK;
}

/* ---- the kernel, for compute type R --------------------------------------
 * Coordinates as PyTorch's grid sampler computes them: unnormalize from
 * [-1, 1] to pixels (corner pixels' centres at -1 and 1 with
 * align_corners, their outer edges without), then border clips to the
 * image and reflection mirrors about the edges (centres with
 * align_corners, outer edges without) and clips. */

#define DEFINE_GRID_SAMPLE(NAME, T, R, LOAD, STORE, FLOOR, NEARBYINT, FABS, FMOD)                  \
    static R NAME##_unnormalize(R v, int64_t size, bool align)                                     \
    {                                                                                              \
        return align ? ((v + 1) / 2) * (R)(size - 1) : ((v + 1) * (R)size - 1) / 2;                \
    }                                                                                              \
    static R NAME##_clip(R v, int64_t size)                                                        \
    {                                                                                              \
        R hi = (R)(size - 1);                                                                      \
        v = v > 0 ? v : 0;                                                                         \
        return v < hi ? v : hi;                                                                    \
    }                                                                                              \
    /* mirrors v into [twice_low / 2, twice_high / 2] */                                           \
    static R NAME##_reflect(R v, int64_t twice_low, int64_t twice_high)                            \
    {                                                                                              \
        if (twice_low == twice_high)                                                               \
            return 0;                                                                              \
        R lo = (R)twice_low / 2, span = (R)(twice_high - twice_low) / 2;                           \
        v = FABS(v - lo);                                                                          \
        R extra = FMOD(v, span);                                                                   \
        R flips = FLOOR(v / span); /* parity in R: no int overflow far out */                      \
        return FMOD(flips, 2) == 0 ? extra + lo : span - extra + lo;                               \
    }                                                                                              \
    static R NAME##_pad(R v, int64_t size, gs_padding pad, bool align)                             \
    {                                                                                              \
        if (pad == GS_BORDER)                                                                      \
            return NAME##_clip(v, size);                                                           \
        if (pad == GS_REFLECTION) {                                                                \
            v = align ? NAME##_reflect(v, 0, 2 * (size - 1))                                       \
                      : NAME##_reflect(v, -1, 2 * size - 1);                                       \
            return NAME##_clip(v, size);                                                           \
        }                                                                                          \
        return v;                                                                                  \
    }                                                                                              \
    /* x[iy][ix] of one (H, W) plane, 0 outside it */                                              \
    static R NAME##_at(const T *x, int64_t h, int64_t w, int64_t iy, int64_t ix)                   \
    {                                                                                              \
        return iy >= 0 && iy < h && ix >= 0 && ix < w ? LOAD(x[iy * w + ix]) : 0;                  \
    }                                                                                              \
    /* bicubic taps: integer coordinates padded, then bounded */                                   \
    static R NAME##_tap(const T *x, const gs_params *p, R fy, R fx)                                \
    {                                                                                              \
        R px = NAME##_pad(fx, p->w, p->pad, p->align),                                             \
          py = NAME##_pad(fy, p->h, p->pad, p->align);                                             \
        if (!(px > -1 && px < (R)p->w && py > -1 && py < (R)p->h))                                 \
            return 0;                                                                              \
        return NAME##_at(x, p->h, p->w, (int64_t)py, (int64_t)px);                                 \
    }                                                                                              \
    static void NAME##_cubic_coeffs(R t, R *cf)                                                    \
    {                                                                                              \
        const R a = (R)-0.75;                                                                      \
        R t1 = t + 1, t2 = 1 - t, t3 = 2 - t;                                                      \
        cf[0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;                                      \
        cf[1] = ((a + 2) * t - (a + 3)) * t * t + 1;                                               \
        cf[2] = ((a + 2) * t2 - (a + 3)) * t2 * t2 + 1;                                            \
        cf[3] = ((a * t3 - 5 * a) * t3 + 8 * a) * t3 - 4 * a;                                      \
    }                                                                                              \
    /* x: (N, C, H, W), grid: (N, Ho, Wo, 2), y: (N, C, Ho, Wo) */                                 \
    static void NAME(T *y, const T *x, const T *grid, const gs_params *p)                          \
    {                                                                                              \
        int64_t plane = p->h * p->w, oplane = p->ho * p->wo;                                       \
        for (int64_t n = 0; n < p->n; n++)                                                         \
            for (int64_t o = 0; o < oplane; o++) {                                                 \
                const T *g = grid + (n * oplane + o) * 2;                                          \
                R gx = NAME##_unnormalize(LOAD(g[0]), p->w, p->align),                             \
                  gy = NAME##_unnormalize(LOAD(g[1]), p->h, p->align);                             \
                for (int64_t ch = 0; ch < p->c; ch++) {                                            \
                    const T *xp = x + (n * p->c + ch) * plane;                                     \
                    R v = 0;                                                                       \
                    if (p->mode == GS_BICUBIC) {                                                   \
                        R x0 = FLOOR(gx), y0 = FLOOR(gy), cx[4], cy[4], rows[4];                   \
                        NAME##_cubic_coeffs(gx - x0, cx);                                          \
                        NAME##_cubic_coeffs(gy - y0, cy);                                          \
                        for (int j = 0; j < 4; j++) {                                              \
                            R yy = y0 - 1 + (R)j;                                                  \
                            rows[j] = NAME##_tap(xp, p, yy, x0 - 1) * cx[0] +                      \
                                      NAME##_tap(xp, p, yy, x0) * cx[1] +                          \
                                      NAME##_tap(xp, p, yy, x0 + 1) * cx[2] +                      \
                                      NAME##_tap(xp, p, yy, x0 + 2) * cx[3];                       \
                        }                                                                          \
                        v = rows[0] * cy[0] + rows[1] * cy[1] + rows[2] * cy[2] + rows[3] * cy[3]; \
                    } else {                                                                       \
                        R ix = NAME##_pad(gx, p->w, p->pad, p->align),                             \
                          iy = NAME##_pad(gy, p->h, p->pad, p->align);                             \
                        if (p->mode == GS_NEAREST) {                                               \
                            R rx = NEARBYINT(ix), ry = NEARBYINT(iy);                              \
                            if (rx > -1 && rx < (R)p->w && ry > -1 && ry < (R)p->h)                \
                                v = NAME##_at(xp, p->h, p->w, (int64_t)ry, (int64_t)rx);           \
                        } else if (ix > -2 && ix < (R)p->w + 1 && iy > -2 && iy < (R)p->h + 1) {   \
                            R fx = FLOOR(ix), fy = FLOOR(iy);                                      \
                            R we = ix - fx, ww = 1 - we, ws = iy - fy, wn = 1 - ws;                \
                            int64_t x0 = (int64_t)fx, y0 = (int64_t)fy;                            \
                            v = NAME##_at(xp, p->h, p->w, y0, x0) * (wn * ww) +                    \
                                NAME##_at(xp, p->h, p->w, y0, x0 + 1) * (wn * we) +                \
                                NAME##_at(xp, p->h, p->w, y0 + 1, x0) * (ws * ww) +                \
                                NAME##_at(xp, p->h, p->w, y0 + 1, x0 + 1) * (ws * we);             \
                        }                                                                          \
                    }                                                                              \
                    y[(n * p->c + ch) * oplane + o] = STORE(v);                                    \
                }                                                                                  \
            }                                                                                      \
    }

#define GS_SAME(v) (v)
#define GS_F16_LOAD(v) ortc_f16_to_float(v)
#define GS_F16_STORE(v) ortc_f16_from_double(v)

DEFINE_GRID_SAMPLE(gs_f32, float, float, GS_SAME, GS_SAME, floorf, nearbyintf, fabsf, fmodf)
DEFINE_GRID_SAMPLE(gs_f64, double, double, GS_SAME, GS_SAME, floor, nearbyint, fabs, fmod)
DEFINE_GRID_SAMPLE(gs_f16, uint16_t, float, GS_F16_LOAD, GS_F16_STORE, floorf, nearbyintf, fabsf,
                   fmodf)

static ortc_status gs_run(ortc_opctx *c)
{
    gs_params p;
    ORTC_TRY(gs_check(c, &p));
    if (p.n * p.c * p.ho * p.wo == 0)
        return ORTC_STATUS_OK;
    void *y = c->out[0]->data;
    const void *x = c->in[0]->data, *g = c->in[1]->data;
    switch (c->in[0]->dtype) {
    case ORTC_DTYPE_FLOAT: gs_f32(y, x, g, &p); break;
    case ORTC_DTYPE_DOUBLE: gs_f64(y, x, g, &p); break;
    case ORTC_DTYPE_FLOAT16: gs_f16(y, x, g, &p); break;
    default:
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "GridSample on dtype %s",
                             ortc_dtype_name(c->in[0]->dtype));
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_gridsamp[] = {
    ORTC_OP("GridSample", 16, 16, .dtypes = GS_DTYPES, .infer = gs_infer, .run = gs_run),
};
ORTC_OP_TABLE_END(gridsamp);
