/* resize.c — Resize (opsets 10, 11, 13) and Upsample (7, 9): nearest,
 * linear and cubic interpolation over any rank with every ONNX 1.12
 * coordinate transformation and nearest rounding mode, roi / scales /
 * sizes, cubic_coeff_a, exclude_outside and extrapolation_value. The
 * plain-C kernel does all of it (per-axis taps multiplied across axes);
 * float32 cases whose semantics equal oneDNN's resampling (linear
 * half_pixel, nearest with integer factors) run on oneDNN. No antialiasing
 * (opset 18), no string or complex tensors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "error.h"
#include "plain_util.h"

#define RS_TAPS 4 /* cubic reads 4 input points per axis */

typedef enum rs_mode { RS_NEAREST, RS_LINEAR, RS_CUBIC } rs_mode;

typedef enum rs_coord {
    RS_HALF_PIXEL,
    RS_PYTORCH_HALF_PIXEL,
    RS_ALIGN_CORNERS,
    RS_ASYMMETRIC,
    RS_TF_HALF_PIXEL_FOR_NN,
    RS_TF_CROP_AND_RESIZE
} rs_coord;

typedef enum rs_round {
    RS_ROUND_PREFER_FLOOR,
    RS_ROUND_PREFER_CEIL,
    RS_FLOOR,
    RS_CEIL,
    /* Upsample and Resize-10: floor when upsampling an axis, ceil when
     * downsampling it (the rule ONNX's opset-10 tests and ONNX Runtime use) */
    RS_LEGACY
} rs_round;

/* A validated Resize/Upsample node. */
typedef struct rs_params {
    rs_mode mode;
    rs_coord coord;
    rs_round round;
    double cubic_a;
    bool exclude_outside;
    double extrapolation; /* tf_crop_and_resize, outside the input */
    int rank;
    int64_t in[ORTC_MAX_RANK], out[ORTC_MAX_RANK];
    double scale[ORTC_MAX_RANK]; /* the scale the coordinate transform uses */
    /* length_resized of the coordinate formulas: `out` for sizes; for
     * scales in * scale before flooring, as ONNX defines scale =
     * length_resized / length_original (and its reference computes) */
    double len_out[ORTC_MAX_RANK];
    double roi_start[ORTC_MAX_RANK], roi_end[ORTC_MAX_RANK];
} rs_params;

/* The input points one output coordinate reads along one axis. */
typedef struct rs_taps {
    int n;
    bool outside; /* tf_crop_and_resize: the coordinate left the input */
    int64_t idx[RS_TAPS];
    double w[RS_TAPS];
} rs_taps;

static bool is_upsample(const ortc_opctx *c)
{
    return strcmp(c->node->op_type, "Upsample") == 0;
}

/* Input i when present and non-empty (an empty tensor stands for "not
 * given" in Resize-11/13), else NULL. Its contents must be known. */
static ortc_status data_input(ortc_opctx *c, int i, const char *what, const ortc_tensor **t)
{
    *t = NULL;
    if (i >= c->n_in || !c->in[i] || ortc_tensor_numel(c->in[i]) == 0)
        return ORTC_STATUS_OK;
    if (!c->in[i]->data)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input %d '%s' (%s) must be known when the model is compiled", i,
                             ortc_plain_input_name(c, i), what);
    *t = c->in[i];
    return ORTC_STATUS_OK;
}

/* A string attribute that must be one of `names` (NULL-terminated); its
 * index in *out, or `def` when absent. */
static ortc_status enum_attr(ortc_opctx *c, const char *attr, const char *const *names, int def,
                             int *out)
{
    ORTC_TRY(ortc_op_check_attr(c, attr, ORTC_ATTR_STRING));
    const char *s = ortc_node_attr_string(c->node, attr, NULL);
    *out = def;
    if (!s)
        return ORTC_STATUS_OK;
    for (int i = 0; names[i]; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return ORTC_STATUS_OK;
        }
    char allowed[256] = "";
    for (int i = 0; names[i]; i++) {
        size_t len = strlen(allowed);
        snprintf(allowed + len, sizeof allowed - len, "%s%s", i ? ", " : "", names[i]);
    }
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' is '%s'; expected one of %s",
                         attr, s, allowed);
}

static ortc_status parse_attrs(ortc_opctx *c, rs_params *p, bool legacy)
{
    static const char *const modes[] = {"nearest", "linear", "cubic", NULL};
    static const char *const legacy_modes[] = {"nearest", "linear", NULL};
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel",   "align_corners",
                                         "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize",
                                         NULL};
    static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil",
                                         NULL};
    int mode, coord = RS_HALF_PIXEL, round = RS_ROUND_PREFER_FLOOR;
    ORTC_TRY(enum_attr(c, "mode", legacy ? legacy_modes : modes, RS_NEAREST, &mode));
    p->mode = (rs_mode)mode;
    p->cubic_a = -0.75;
    if (legacy) {
        p->coord = RS_ASYMMETRIC;
        p->round = RS_LEGACY;
        return ORTC_STATUS_OK;
    }
    ORTC_TRY(enum_attr(c, "coordinate_transformation_mode", coords, RS_HALF_PIXEL, &coord));
    ORTC_TRY(enum_attr(c, "nearest_mode", rounds, RS_ROUND_PREFER_FLOOR, &round));
    ORTC_TRY(ortc_op_check_attr(c, "cubic_coeff_a", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "exclude_outside", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "extrapolation_value", ORTC_ATTR_FLOAT));
    p->coord = (rs_coord)coord;
    p->round = (rs_round)round;
    p->cubic_a = ortc_node_attr_float(c->node, "cubic_coeff_a", -0.75f);
    int64_t ex = ortc_node_attr_int(c->node, "exclude_outside", 0);
    if (ex != 0 && ex != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'exclude_outside' is %lld; expected 0 or 1", (long long)ex);
    p->exclude_outside = ex == 1;
    p->extrapolation = ortc_node_attr_float(c->node, "extrapolation_value", 0.0f);
    return ORTC_STATUS_OK;
}

/* scales: from the Upsample-7 attribute (attr != NULL) or a tensor. */
static ortc_status read_scales(ortc_opctx *c, rs_params *p, const float *attr, size_t n_attr,
                               const ortc_tensor *t, int idx, bool upsample, double *scales)
{
    size_t n = attr ? n_attr : (size_t)ortc_tensor_numel(t);
    if (!attr) {
        ORTC_TRY(ortc_op_check_dtype(c, idx, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED));
    }
    if (n != (size_t)p->rank || (!attr && t->rank != 1))
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "%s '%s' has %zu values; input '%s' has rank %d",
            attr ? "attribute" : "input", attr ? "scales" : ortc_plain_input_name(c, idx), n,
            ortc_plain_input_name(c, 0), p->rank);
    for (int i = 0; i < p->rank; i++) {
        double s = attr ? attr[i] : ((const float *)t->data)[i];
        if (!(s > 0) || !isfinite(s) || (upsample && s < 1))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "scale %g for axis %d; must be %s",
                                 s, i, upsample ? ">= 1 (Upsample)" : "> 0 and finite");
        scales[i] = s;
    }
    return ORTC_STATUS_OK;
}

static ortc_status rs_parse(ortc_opctx *c, rs_params *p)
{
    memset(p, 0, sizeof *p);
    bool upsample = is_upsample(c);
    int version = ortc_op_version(c);
    bool legacy = upsample || version < 11;
    ortc_status st;
    if (upsample && version < 9)
        st = ortc_op_check_arity(c, 1, 1, 1, 1);
    else if (legacy)
        st = ortc_op_check_arity(c, 2, 2, 1, 1);
    else /* roi and scales are required inputs in opset 11; an omitted one
          * reads as empty, as in 13 */
        st = ortc_op_check_arity(c, 1, 4, 1, 1);
    if (st || (st = ortc_plain_check_known(c, 0)) || (st = parse_attrs(c, p, legacy)))
        return st;
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x = c->in[0];
    p->rank = x->rank;
    for (int i = 0; i < p->rank; i++) {
        p->in[i] = x->dims[i];
        p->roi_start[i] = 0;
        p->roi_end[i] = 1;
    }

    /* where scales, sizes and roi come from */
    const float *scales_attr = NULL;
    size_t n_scales_attr = 0;
    const ortc_tensor *scales = NULL, *sizes = NULL, *roi = NULL;
    int scales_idx = 1;
    if (upsample && version < 9) {
        if ((st = ortc_op_check_attr(c, "scales", ORTC_ATTR_FLOATS)))
            return st;
        scales_attr = ortc_node_attr_floats(c->node, "scales", &n_scales_attr);
        if (!scales_attr)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'scales' is missing");
    } else if (legacy) {
        if ((st = data_input(c, 1, "scales", &scales)))
            return st;
        if (!scales)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input 1 '%s' (scales) is empty",
                                 ortc_plain_input_name(c, 1));
    } else {
        scales_idx = 2;
        /* roi matters (and must be known) only for tf_crop_and_resize */
        if ((p->coord == RS_TF_CROP_AND_RESIZE && (st = data_input(c, 1, "roi", &roi))) ||
            (st = data_input(c, 2, "scales", &scales)) || (st = data_input(c, 3, "sizes", &sizes)))
            return st;
        if (!scales == !sizes)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "%s; exactly one of 'scales' (input 2) and 'sizes' (input 3) "
                                 "must be given (non-empty)",
                                 scales ? "both scales and sizes are given"
                                        : "neither scales nor "
                                          "sizes is given");
    }

    if (roi) {
        ORTC_TRY(
            ortc_op_check_dtype(c, 1, ORTC_DTYPE_FLOAT, ORTC_DTYPE_DOUBLE, ORTC_DTYPE_UNDEFINED));
        if (ortc_tensor_numel(roi) != 2 * p->rank)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 1 '%s' (roi) has %lld values; input '%s' of rank %d needs "
                                 "%d (starts, then ends)",
                                 ortc_plain_input_name(c, 1), (long long)ortc_tensor_numel(roi),
                                 ortc_plain_input_name(c, 0), p->rank, 2 * p->rank);
        for (int i = 0; i < p->rank; i++) {
            p->roi_start[i] = ortc_tensor_get_double(roi, i);
            p->roi_end[i] = ortc_tensor_get_double(roi, p->rank + i);
        }
    }

    if (sizes) {
        ORTC_TRY(ortc_op_check_dtype(c, 3, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
        if (sizes->rank != 1 || ortc_tensor_numel(sizes) != p->rank)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input 3 '%s' (sizes) has %lld values; input '%s' has rank %d",
                                 ortc_plain_input_name(c, 3), (long long)ortc_tensor_numel(sizes),
                                 ortc_plain_input_name(c, 0), p->rank);
        for (int i = 0; i < p->rank; i++) {
            int64_t o = ((const int64_t *)sizes->data)[i];
            if (o < 0)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "input 3 '%s' (sizes) has %lld for axis %d; must be >= 0",
                                     ortc_plain_input_name(c, 3), (long long)o, i);
            p->out[i] = o;
            p->scale[i] = p->in[i] > 0 ? (double)o / (double)p->in[i] : 1.0;
            p->len_out[i] = (double)o;
        }
    } else {
        ORTC_TRY(
            read_scales(c, p, scales_attr, n_scales_attr, scales, scales_idx, upsample, p->scale));
        /* Output size floor(in * scale) with the product in float32, as
         * ONNX's shape inference and ONNX Runtime compute it (14 * (25/14.f)
         * is 25, as the exporter meant, not 24.99999976). The roi does not
         * enter the size (the spec text multiplies by its extent; ONNX's
         * shape inference, its reference and ONNX Runtime do not). */
        for (int i = 0; i < p->rank; i++) {
            p->len_out[i] = (double)p->in[i] * p->scale[i];
            float prod = (float)p->in[i] * (float)p->scale[i];
            double o = floor((double)prod);
            if (!(o >= 0) || o > 4e18)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "axis %d: %lld x scale %g gives output size %g", i,
                                     (long long)p->in[i], p->scale[i], o);
            p->out[i] = (int64_t)o;
        }
    }
    for (int i = 0; i < p->rank; i++)
        if (p->in[i] == 0 && p->out[i] > 0) {
            char sx[128];
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input '%s' has shape %s: cannot resize empty axis %d to %lld",
                                 ortc_plain_input_name(c, 0),
                                 ortc_shape_str(sx, sizeof sx, x->rank, x->dims), i,
                                 (long long)p->out[i]);
        }

    /* which element types the mode can compute: the row's dtypes in
     * nearest mode, float32 and float64 in the others */
    if (!ortc_dtype_in(ortc_op_dtypes(c), x->dtype))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "%s on dtype %s is not supported",
                             c->node->op_type, ortc_dtype_name(x->dtype));
    if (p->mode == RS_NEAREST || x->dtype == ORTC_DTYPE_FLOAT || x->dtype == ORTC_DTYPE_DOUBLE)
        return ORTC_STATUS_OK;
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                         "%s mode '%s' on dtype %s is not supported (nearest is; linear and "
                         "cubic need float32 or float64)",
                         c->node->op_type, p->mode == RS_LINEAR ? "linear" : "cubic",
                         ortc_dtype_name(x->dtype));
}

static ortc_status rs_infer(ortc_opctx *c)
{
    rs_params p;
    ORTC_TRY(rs_parse(c, &p));
    ortc_op_set_output(c, 0, c->in[0]->dtype, p.rank, p.out);
    return ORTC_STATUS_OK;
}

/* ---- per-axis taps ---------------------------------------------------------- */

/* Where output coordinate o of axis a lies in the input (ONNX's
 * coordinate_transformation_mode formulas). */
static double source_coord(const rs_params *p, int a, int64_t o)
{
    double in = (double)p->in[a], out = p->len_out[a], s = p->scale[a], x = (double)o;
    switch (p->coord) {
    case RS_HALF_PIXEL: return (x + 0.5) / s - 0.5;
    case RS_PYTORCH_HALF_PIXEL: return out > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case RS_ALIGN_CORNERS: return out > 1 ? x * (in - 1) / (out - 1) : 0.0;
    case RS_ASYMMETRIC: return x / s;
    case RS_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / s;
    case RS_TF_CROP_AND_RESIZE: {
        double start = p->roi_start[a], end = p->roi_end[a];
        if (out > 1)
            return start * (in - 1) + x * (end - start) * (in - 1) / (out - 1);
        return 0.5 * (start + end) * (in - 1);
    }
    }
    return x;
}

static int64_t nearest_index(rs_round r, double x, double scale)
{
    double f = floor(x);
    switch (r) {
    case RS_ROUND_PREFER_FLOOR: return (int64_t)(x - f == 0.5 ? f : round(x));
    case RS_ROUND_PREFER_CEIL: return (int64_t)(x - f == 0.5 ? f + 1 : round(x));
    case RS_FLOOR: return (int64_t)f;
    case RS_CEIL: return (int64_t)ceil(x);
    case RS_LEGACY: return (int64_t)(scale < 1 ? ceil(x) : f);
    }
    return (int64_t)f;
}

// Keys' cubic convolution weights for the points floor(x) - 1 .. floor(x) + 2
// at t = x - floor(x): |d| <= 1: (A+2)|d|^3 - (A+3)|d|^2 + 1;
// 1 < |d| < 2: A|d|^3 - 5A|d|^2 + 8A|d| - 4A
static void cubic_weights(double w[4], double t, double a)
{
    const double d[4] = {t + 1, t, 1 - t, 2 - t};
    for (int i = 0; i < 4; i++) {
        double u = d[i];
        w[i] = u <= 1 ? ((a + 2) * u - (a + 3)) * u * u + 1
                      : ((a * u - 5 * a) * u + 8 * a) * u - 4 * a;
    }
}

static int64_t clamp_index(int64_t i, int64_t n)
{
    return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/* Appends a tap; points outside the input repeat the edge. Zero weights
 * are dropped (they add nothing). */
static void add_tap(rs_taps *t, int64_t idx, double w, int64_t n)
{
    if (w == 0)
        return;
    t->idx[t->n] = clamp_index(idx, n);
    t->w[t->n] = w;
    t->n++;
}

static void axis_taps(const rs_params *p, int a, int64_t o, rs_taps *t)
{
    int64_t n = p->in[a];
    double x = source_coord(p, a, o);
    t->n = 0;
    t->outside = false;
    if (p->coord == RS_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(n - 1))) {
        t->outside = true;
        return;
    }
    double f = floor(x), r = x - f;
    int64_t i0 = (int64_t)f;
    switch (p->mode) {
    case RS_NEAREST: add_tap(t, nearest_index(p->round, x, p->scale[a]), 1.0, n); break;
    case RS_LINEAR:
        add_tap(t, i0, 1 - r, n);
        add_tap(t, i0 + 1, r, n);
        break;
    case RS_CUBIC: {
        double w[4], sum = 0;
        cubic_weights(w, r, p->cubic_a);
        for (int k = 0; k < 4; k++) {
            int64_t i = i0 - 1 + k;
            if (p->exclude_outside && (i < 0 || i >= n))
                w[k] = 0;
            sum += w[k];
        }
        for (int k = 0; k < 4; k++)
            add_tap(t, i0 - 1 + k, p->exclude_outside ? w[k] / sum : w[k], n);
        break;
    }
    }
    if (t->n == 0) { /* every weight was zero (a degenerate cubic_coeff_a): the sum is 0 */
        t->idx[0] = clamp_index(i0, n);
        t->w[0] = 0;
        t->n = 1;
    }
}

/* ---- plain-C kernel --------------------------------------------------------- */

/* Walks the output in row-major order keeping each axis's taps current
 * (axis a's taps change only when its coordinate does). */
typedef struct rs_iter {
    const rs_params *p;
    int64_t o[ORTC_MAX_RANK];
    int64_t stride[ORTC_MAX_RANK]; /* input element strides */
    rs_taps taps[ORTC_MAX_RANK];
} rs_iter;

static void iter_begin(rs_iter *it, const rs_params *p)
{
    it->p = p;
    int64_t s = 1;
    for (int a = p->rank - 1; a >= 0; a--) {
        it->o[a] = 0;
        it->stride[a] = s;
        s *= p->in[a];
        if (p->out[a] > 0)
            axis_taps(p, a, 0, &it->taps[a]);
    }
}

static void iter_next(rs_iter *it)
{
    const rs_params *p = it->p;
    for (int a = p->rank - 1; a >= 0; a--) {
        if (++it->o[a] < p->out[a]) {
            axis_taps(p, a, it->o[a], &it->taps[a]);
            return;
        }
        it->o[a] = 0;
        axis_taps(p, a, 0, &it->taps[a]);
    }
}

static bool iter_outside(const rs_iter *it)
{
    for (int a = 0; a < it->p->rank; a++)
        if (it->taps[a].outside)
            return true;
    return false;
}

/* Offset of the single point a nearest-mode element reads. */
static int64_t iter_offset(const rs_iter *it)
{
    int64_t off = 0;
    for (int a = 0; a < it->p->rank; a++)
        off += it->taps[a].idx[0] * it->stride[a];
    return off;
}

// x: input (float32 or float64 by `dbl`); the weighted sum over every
// combination of the current taps of all axes
static double iter_sum(const rs_iter *it, const void *x, bool dbl)
{
    const int rank = it->p->rank;
    int k[ORTC_MAX_RANK] = {0};
    double acc = 0;
    for (;;) {
        int64_t off = 0;
        double w = 1;
        for (int a = 0; a < rank; a++) {
            off += it->taps[a].idx[k[a]] * it->stride[a];
            w *= it->taps[a].w[k[a]];
        }
        acc += w * (dbl ? ((const double *)x)[off] : (double)((const float *)x)[off]);
        int a = rank - 1;
        while (a >= 0 && ++k[a] == it->taps[a].n)
            k[a--] = 0;
        if (a < 0)
            return acc;
    }
}

static int64_t out_numel(const rs_params *p)
{
    int64_t n = 1;
    for (int a = 0; a < p->rank; a++)
        n *= p->out[a];
    return n;
}

// x: p->in  y: p->out; linear/cubic in double, float32 or float64 data
static void resize_interp(void *y, const void *x, const rs_params *p, bool dbl)
{
    int64_t total = out_numel(p);
    if (total == 0)
        return;
    rs_iter it;
    iter_begin(&it, p);
    for (int64_t e = 0; e < total; e++, iter_next(&it)) {
        double v = iter_outside(&it) ? p->extrapolation : iter_sum(&it, x, dbl);
        if (dbl)
            ((double *)y)[e] = v;
        else
            ((float *)y)[e] = (float)v;
    }
}

/* extrapolation_value as one element of dtype dt (for nearest mode). */
static void encode_value(void *dst, ortc_dtype dt, double v)
{
    switch (dt) {
    case ORTC_DTYPE_FLOAT: *(float *)dst = (float)v; break;
    case ORTC_DTYPE_DOUBLE: *(double *)dst = v; break;
    case ORTC_DTYPE_FLOAT16: *(uint16_t *)dst = ortc_f16_from_double(v); break;
    case ORTC_DTYPE_BFLOAT16: *(uint16_t *)dst = ortc_bf16_from_double(v); break;
    case ORTC_DTYPE_BOOL: *(uint8_t *)dst = v != 0; break;
    case ORTC_DTYPE_UINT8: *(uint8_t *)dst = (uint8_t)v; break;
    case ORTC_DTYPE_INT8: *(int8_t *)dst = (int8_t)v; break;
    case ORTC_DTYPE_UINT16: *(uint16_t *)dst = (uint16_t)v; break;
    case ORTC_DTYPE_INT16: *(int16_t *)dst = (int16_t)v; break;
    case ORTC_DTYPE_UINT32: *(uint32_t *)dst = (uint32_t)v; break;
    case ORTC_DTYPE_INT32: *(int32_t *)dst = (int32_t)v; break;
    case ORTC_DTYPE_UINT64: *(uint64_t *)dst = (uint64_t)v; break;
    case ORTC_DTYPE_INT64: *(int64_t *)dst = (int64_t)v; break;
    default: break;
    }
}

// x: p->in  y: p->out; nearest mode copies elements of any fixed size
static void resize_nearest(void *y, const void *x, const rs_params *p, ortc_dtype dt)
{
    int64_t total = out_numel(p);
    if (total == 0)
        return;
    size_t es = ortc_dtype_size(dt);
    unsigned char fill[8] = {0};
    encode_value(fill, dt, p->extrapolation);
    rs_iter it;
    iter_begin(&it, p);
    unsigned char *yb = y;
    const unsigned char *xb = x;
    for (int64_t e = 0; e < total; e++, iter_next(&it)) {
        const unsigned char *src = iter_outside(&it) ? fill : xb + iter_offset(&it) * (int64_t)es;
        switch (es) {
        case 1: yb[e] = *src; break;
        case 2: memcpy(yb + 2 * e, src, 2); break;
        case 4: memcpy(yb + 4 * e, src, 4); break;
        default: memcpy(yb + 8 * e, src, 8); break;
        }
    }
}

static ortc_status rs_reference(ortc_opctx *c)
{
    rs_params p;
    ORTC_TRY(rs_parse(c, &p));
    const ortc_tensor *x = c->in[0];
    void *y = c->out[0]->data;
    if (p.mode == RS_NEAREST) {
        resize_nearest(y, x->data, &p, x->dtype);
        return ORTC_STATUS_OK;
    }
    switch (x->dtype) {
    case ORTC_DTYPE_FLOAT: resize_interp(y, x->data, &p, false); return ORTC_STATUS_OK;
    case ORTC_DTYPE_DOUBLE: resize_interp(y, x->data, &p, true); return ORTC_STATUS_OK;
    default:
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "%s on dtype %s is not supported",
                             c->node->op_type, ortc_dtype_name(x->dtype));
    }
}

/* ---- oneDNN path ------------------------------------------------------------ */

/* Whether oneDNN's resampling computes exactly this node. oneDNN scales
 * spatial axes 2.. of a rank 3..5 tensor by out/in with the half-pixel
 * map x = (o + 0.5) * in / out - 0.5: linear interpolates between the
 * edge-clamped neighbours of x; nearest reads floor((o + 0.5) * in / out)
 * (x rounded half up). */
static bool dnnl_matches(const rs_params *p, ortc_dtype dt)
{
    if (dt != ORTC_DTYPE_FLOAT || p->rank < 3 || p->rank > 5 || p->mode == RS_CUBIC ||
        p->coord == RS_TF_CROP_AND_RESIZE)
        return false;
    for (int a = 0; a < p->rank; a++)
        if (p->in[a] < 1 || p->out[a] < 1)
            return false;
    if (p->out[0] != p->in[0] || p->out[1] != p->in[1])
        return false;
    for (int a = 0; a < p->rank; a++) {
        int64_t in = p->in[a], out = p->out[a];
        if (p->mode == RS_LINEAR) {
            /* ONNX's half_pixel map with the scale oneDNN uses */
            bool half = p->coord == RS_HALF_PIXEL ||
                        (p->coord == RS_PYTORCH_HALF_PIXEL && (out > 1 || in == 1));
            if (!half || p->scale[a] != (double)out / (double)in)
                return false;
            continue;
        }
        /* nearest: integer factors only (up by k, or down by an odd k), so
         * oneDNN's float arithmetic stays clear of rounding ties; then the
         * ONNX index must equal oneDNN's for every output coordinate */
        bool up = out % in == 0, down_odd = in % out == 0 && (in / out) % 2 == 1;
        if (!up && !down_odd)
            return false;
        for (int64_t o = 0; o < out; o++) {
            rs_taps t;
            axis_taps(p, a, o, &t);
            if (t.n != 1 || t.idx[0] != clamp_index(((2 * o + 1) * in) / (2 * out), in))
                return false;
        }
    }
    return true;
}

static ortc_status rs_build(ortc_opctx *c, void *state)
{
    rs_params p;
    ORTC_TRY(rs_parse(c, &p));
    if (!dnnl_matches(&p, c->in[0]->dtype))
        return ortc_dnnl_prim_use_ref(c, state);
    dnnl_memory_desc_t src, dst;
    ORTC_TRY(ortc_dnnl_md_plain(c, &src, p.rank, p.in));
    ORTC_TRY(ortc_dnnl_md_plain(c, &dst, p.rank, p.out));
    dnnl_resampling_desc_t desc;
    dnnl_alg_kind_t alg = p.mode == RS_LINEAR ? dnnl_resampling_linear : dnnl_resampling_nearest;
    /* factors NULL: oneDNN takes out / in from the descriptors */
    DNNL_CHECK(
        c, dnnl_resampling_forward_desc_init(&desc, dnnl_forward_inference, alg, NULL, &src, &dst));
    const ortc_dnnl_arg args[] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0), ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    return ortc_dnnl_prim_create(c, state, &desc, NULL, args, 2);
}

static ortc_status rs_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_dnnl_prim), rs_build, NULL);
}

/* every dtype but strings and complex numbers (linear and cubic modes:
 * float32 and float64 only) */
#define RESIZE_DTYPES                                                                              \
    (ORTC_DTYPES_ALL & ~(ORTC_DT(STRING) | ORTC_DT(COMPLEX64) | ORTC_DT(COMPLEX128)))
#define RESIZE_CALLBACKS                                                                           \
    .backend = ORTC_BACKEND_ONEDNN, .dtypes = RESIZE_DTYPES, .infer = rs_infer,                    \
    .prepare = rs_prepare, .run = ortc_dnnl_prim_exec, .release = ortc_dnnl_prim_release,          \
    .reference = rs_reference

/* data inputs: scales (bit 1) for Upsample-9 and Resize-10; roi, scales and
 * sizes (bits 1-3) for Resize-11/13 */
const ortc_operator ortc_ops_resize[] = {
    ORTC_OP("Upsample", 7, 7, RESIZE_CALLBACKS),
    ORTC_OP("Upsample", 9, 9, .data_inputs = 1u << 1, RESIZE_CALLBACKS),
    ORTC_OP("Resize", 10, 10, .data_inputs = 1u << 1, RESIZE_CALLBACKS),
    ORTC_OP("Resize", 11, 13, .versions = {11, 13},
            .data_inputs = (1u << 1) | (1u << 2) | (1u << 3), RESIZE_CALLBACKS),
};
ORTC_OP_TABLE_END(resize);
