/* pool.c — MaxPool (opsets 1, 8, 10, 11, 12), AveragePool (1, 7, 10, 11),
 * GlobalAveragePool (1) and GlobalMaxPool (1) over 1 to 3 spatial dims
 * (global pools: any number), float32 on oneDNN
 * (pooling_v2, which takes dilations) with the plain-C reference kernel.
 * MaxPool over int8 or uint8 runs oneDNN's int8 pooling in channels-last
 * layout (taking and leaving blocked int8 values, ORTC_OP_BLOCKED_INT8).
 * MaxPool over double, or with its optional Indices output (flat indices
 * into the whole input, row- or column-major spatially per storage_order,
 * padding not counted), runs a plain-C kernel here.
 * AveragePool with count_include_pad and a ceil_mode window running past the
 * padded input uses the plain-C kernel: oneDNN divides such a window by the
 * full kernel size, ONNX (like PyTorch and ONNX Runtime) only by the part
 * inside the padded input. GlobalMaxPool of an input holding a NaN uses the
 * plain-C kernel, which propagates it (oneDNN's max drops NaNs).
 * MaxPool, AveragePool and GlobalAveragePool take blocked inputs.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "pool_ref.h"
#include "plain_util.h"
#include "error.h"

/* The op state is an ortc_dnnl_prim: use_ref for cases oneDNN cannot
 * express exactly (the plain-C kernel, on a plain copy of a blocked x). */

/* A validated MaxPool/AveragePool node. */
typedef struct pool_shape {
    ortc_window g;
    bool is_max;
    bool count_include_pad;
    bool indices;   /* MaxPool's Indices output is wanted */
    bool col_major; /* storage_order 1 */
} pool_shape;

static ortc_status pool_check(ortc_opctx *c, pool_shape *ps)
{
    const char *op = c->node->op_type;
    bool is_max = !strcmp(op, "MaxPool");
    int version = ortc_op_version(c);
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, is_max && version >= 8 ? 2 : 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "kernel_shape", ORTC_ATTR_INTS));
    ORTC_TRY(ortc_op_check_attr(c, "ceil_mode", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "storage_order", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "count_include_pad", ORTC_ATTR_INT));
    int64_t order = ortc_node_attr_int(c->node, "storage_order", 0);
    if (order != 0 && order != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'storage_order' is %lld; it must be 0 (row major) or 1 "
                             "(column major)",
                             (long long)order);
    ps->indices = is_max && c->n_out > 1 && c->node->outputs[1];
    ps->col_major = order == 1;
    const ortc_tensor *x = c->in[0];
    char sx[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 3, "N, C, spatial..."));
    if (x->rank > 5)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input '%s' has shape %s (rank %d); %s supports 1 to 3 spatial dims",
                             ortc_plain_input_name(c, 0), sx, x->rank, op);
    size_t nk = 0;
    const int64_t *ks = ortc_node_attr_ints(c->node, "kernel_shape", &nk);
    if (nk == 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "required attribute 'kernel_shape' is missing");
    if (nk != (size_t)(x->rank - 2))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'kernel_shape' has %zu values; input '%s' of shape %s has "
                             "%d spatial dims",
                             nk, ortc_plain_input_name(c, 0), sx, x->rank - 2);
    if (!is_max) {
        size_t nd = 0;
        const int64_t *dil = ortc_node_attr_ints(c->node, "dilations", &nd);
        for (size_t i = 0; i < nd; i++)
            if (dil[i] != 1)
                return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                     "attribute 'dilations' is not supported for AveragePool "
                                     "(ONNX adds it in opset 19)");
    }
    int64_t ceil_mode = ortc_node_attr_int(c->node, "ceil_mode", 0);
    ORTC_TRY(ortc_window_init(c, &ps->g, x, ks, ceil_mode != 0, op));
    for (int d = ORTC_WIN_DIMS - ps->g.nsp; d < ORTC_WIN_DIMS; d++) {
        int64_t ext = ortc_win_extent(&ps->g, d);
        if (ps->g.pad_begin[d] >= ext || ps->g.pad_end[d] >= ext)
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                 "pads %lld+%lld in spatial dim %d are not smaller than the "
                                 "window extent %lld: windows made only of padding are not "
                                 "supported",
                                 (long long)ps->g.pad_begin[d], (long long)ps->g.pad_end[d],
                                 d - (ORTC_WIN_DIMS - ps->g.nsp), (long long)ext);
    }
    ps->is_max = is_max;
    ps->count_include_pad = ortc_node_attr_int(c->node, "count_include_pad", 0) != 0;
    return ORTC_STATUS_OK;
}

static void pool_out_dims(const ortc_window *g, int64_t *dims)
{
    dims[0] = g->n;
    dims[1] = g->c;
    for (int i = 0; i < g->nsp; i++)
        dims[2 + i] = g->out[ortc_win_slot(g, i)];
}

static ortc_status pool_infer(ortc_opctx *c)
{
    pool_shape ps;
    ORTC_TRY(pool_check(c, &ps));
    int64_t dims[ORTC_MAX_RANK];
    pool_out_dims(&ps.g, dims);
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, dims);
    if (ps.indices)
        ortc_op_set_output(c, 1, ORTC_DTYPE_INT64, c->in[0]->rank, dims);
    return ORTC_STATUS_OK;
}

/* MaxPool in plain C for any of its dtypes, with the flat index of each
 * maximum into x (N, C, spatial) when idx is not NULL: the first maximum in
 * window order; a NaN wins and propagates, as in PyTorch. A window holding
 * no input element (dilation stepping over a short input) gives the type's
 * lowest value and index -1, as oneDNN's kernel and ONNX Runtime do. */
#define MAXPOOL_KERNEL(NAME, T, LOWEST)                                                            \
    static void NAME(T *out, int64_t *idx, const T *x, const ortc_window *g, bool col_major)       \
    {                                                                                              \
        const int64_t isz = g->in[0] * g->in[1] * g->in[2];                                        \
        const int64_t osz = g->out[0] * g->out[1] * g->out[2];                                     \
        for (int64_t p = 0; p < g->n * g->c; p++)                                                  \
            for (int64_t od = 0; od < g->out[0]; od++)                                             \
                for (int64_t oh = 0; oh < g->out[1]; oh++)                                         \
                    for (int64_t ow = 0; ow < g->out[2]; ow++) {                                   \
                        const int64_t o[3] = {od, oh, ow};                                         \
                        int64_t start[3], best = -1;                                               \
                        T m = (LOWEST);                                                            \
                        for (int d = 0; d < 3; d++)                                                \
                            start[d] = o[d] * g->stride[d] - g->pad_begin[d];                      \
                        for (int64_t kd = 0; kd < g->kernel[0]; kd++) {                            \
                            int64_t id = start[0] + kd * g->dilation[0];                           \
                            if (id < 0 || id >= g->in[0])                                          \
                                continue;                                                          \
                            for (int64_t kh = 0; kh < g->kernel[1]; kh++) {                        \
                                int64_t ih = start[1] + kh * g->dilation[1];                       \
                                if (ih < 0 || ih >= g->in[1])                                      \
                                    continue;                                                      \
                                for (int64_t kw = 0; kw < g->kernel[2]; kw++) {                    \
                                    int64_t iw = start[2] + kw * g->dilation[2];                   \
                                    if (iw < 0 || iw >= g->in[2])                                  \
                                        continue;                                                  \
                                    int64_t at = (id * g->in[1] + ih) * g->in[2] + iw;             \
                                    T v = x[p * isz + at];                                         \
                                    if (best < 0 || (m == m && (v > m || v != v))) {               \
                                        m = v;                                                     \
                                        best =                                                     \
                                            col_major ? (iw * g->in[1] + ih) * g->in[0] + id : at; \
                                    }                                                              \
                                }                                                                  \
                            }                                                                      \
                        }                                                                          \
                        int64_t j = p * osz + (od * g->out[1] + oh) * g->out[2] + ow;              \
                        out[j] = m;                                                                \
                        if (idx)                                                                   \
                            idx[j] = best < 0 ? -1 : p * isz + best;                               \
                    }                                                                              \
    }

MAXPOOL_KERNEL(maxpool_f32, float, -FLT_MAX)
MAXPOOL_KERNEL(maxpool_f64, double, -DBL_MAX)
MAXPOOL_KERNEL(maxpool_i8, int8_t, INT8_MIN)
MAXPOOL_KERNEL(maxpool_u8, uint8_t, 0)

static void maxpool_any(ortc_opctx *c, const pool_shape *ps)
{
    int64_t *idx = ps->indices ? c->out[1]->data : NULL;
    const ortc_window *g = &ps->g;
    switch (c->in[0]->dtype) {
    case ORTC_DTYPE_DOUBLE:
        maxpool_f64(c->out[0]->data, idx, c->in[0]->data, g, ps->col_major);
        break;
    case ORTC_DTYPE_INT8: maxpool_i8(c->out[0]->data, idx, c->in[0]->data, g, ps->col_major); break;
    case ORTC_DTYPE_UINT8:
        maxpool_u8(c->out[0]->data, idx, c->in[0]->data, g, ps->col_major);
        break;
    default: maxpool_f32(c->out[0]->data, idx, c->in[0]->data, g, ps->col_major); break;
    }
}

static ortc_status pool_reference(ortc_opctx *c)
{
    pool_shape ps;
    ORTC_TRY(pool_check(c, &ps));
    if (ps.is_max)
        maxpool_any(c, &ps);
    else
        ortc_ref_avgpool_forward(c->out[0]->data, c->in[0]->data, &ps.g, ps.count_include_pad);
    return ORTC_STATUS_OK;
}

/* Primitive for a pooling over x (src: its layout; rank dims) to y,
 * spatial parameters per model spatial dim (already in oneDNN's form:
 * dilation counts gaps). The output takes the input's layout when blocked
 * layouts may flow; otherwise it is plain, through scratch if needed. */
static ortc_status pool_make(ortc_opctx *c, ortc_dnnl_prim *p, dnnl_alg_kind_t alg,
                             const dnnl_memory_desc_t *src, int rank, const int64_t *ydims,
                             const dnnl_dims_t strides, const dnnl_dims_t kernel,
                             const dnnl_dims_t dil, const dnnl_dims_t pl, const dnnl_dims_t pr)
{
    dnnl_memory_desc_t dst;
    ORTC_TRY(ortc_dnnl_md_is_plain(src) ? ortc_dnnl_md_plain(c, &dst, rank, ydims)
                                        : ortc_dnnl_md_any(c, &dst, rank, ydims));
    dnnl_pooling_v2_desc_t desc;
    DNNL_CHECK(c, dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, alg, src, &dst,
                                                    strides, kernel, dil, pl, pr));
    const ortc_dnnl_arg args[] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0), ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    return ortc_dnnl_prim_create(c, p, &desc, NULL, args, 2);
}

/* MaxPool over int8/uint8 (exact: a max of integers). oneDNN's JIT int8
 * pooling wants channels-last source and destination (its other layouts
 * run the reference implementation), so x is reordered into it unless it
 * arrives so (an int8 convolution's output), and y stays channels-last
 * where every consumer takes blocked int8 layouts (ORTC_OP_BLOCKED_INT8),
 * else is reordered to plain. */
static ortc_status maxpool_int8_make(ortc_opctx *c, ortc_dnnl_prim *p, const int64_t *ydims,
                                     const dnnl_dims_t strides, const dnnl_dims_t kernel,
                                     const dnnl_dims_t dil, const dnnl_dims_t pl,
                                     const dnnl_dims_t pr)
{
    static const dnnl_format_tag_t channels_last[] = {dnnl_acb, dnnl_acdb, dnnl_acdeb};
    const ortc_tensor *x = c->in[0];
    dnnl_format_tag_t tag = channels_last[x->rank - 3]; /* pool_check: rank 3 to 5 */
    dnnl_memory_desc_t src, dst;
    ORTC_TRY(ortc_dnnl_md_typed(c, &src, x->rank, x->dims, x->dtype, tag));
    ORTC_TRY(ortc_dnnl_md_typed(c, &dst, x->rank, ydims, x->dtype, tag));
    dnnl_pooling_v2_desc_t desc;
    DNNL_CHECK(c, dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, dnnl_pooling_max,
                                                    &src, &dst, strides, kernel, dil, pl, pr));
    const ortc_dnnl_arg args[] = {ORTC_DNNL_IN_ANY(DNNL_ARG_SRC, 0),
                                  ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    return ortc_dnnl_prim_create(c, p, &desc, NULL, args, 2);
}

static ortc_status pool_build(ortc_opctx *c, void *state)
{
    ortc_dnnl_prim *s = state;
    pool_shape ps;
    ORTC_TRY(pool_check(c, &ps));
    const ortc_tensor *x = c->in[0];
    const bool int8 = x->dtype == ORTC_DTYPE_INT8 || x->dtype == ORTC_DTYPE_UINT8;
    if (ortc_tensor_numel(x) == 0 || ps.indices ||
        (x->dtype != ORTC_DTYPE_FLOAT && !(int8 && ps.is_max)))
        return ortc_dnnl_prim_use_ref(c, s);
    const ortc_window *g = &ps.g;
    dnnl_dims_t strides, kernel, dil, pl, pr;
    for (int i = 0; i < g->nsp; i++) {
        int d = ortc_win_slot(g, i);
        strides[i] = g->stride[d];
        kernel[i] = g->kernel[d];
        dil[i] = g->dilation[d] - 1; /* oneDNN counts the gaps */
        pl[i] = g->pad_begin[d];
        /* oneDNN wants (in + pl + pr - extent) / stride + 1 == out exactly;
         * ceil_mode's last window may need more right padding than ONNX's. */
        int64_t need = (g->out[d] - 1) * g->stride[d] + ortc_win_extent(g, d) - g->in[d] - pl[i];
        pr[i] = need > g->pad_end[d] ? need : g->pad_end[d];
        if (!ps.is_max && ps.count_include_pad && pr[i] > g->pad_end[d])
            return ortc_dnnl_prim_use_ref(c, s); /* see the note at the top of the file */
    }
    dnnl_alg_kind_t alg = ps.is_max              ? dnnl_pooling_max
                          : ps.count_include_pad ? dnnl_pooling_avg_include_padding
                                                 : dnnl_pooling_avg_exclude_padding;
    int64_t ydims[ORTC_MAX_RANK];
    pool_out_dims(g, ydims);
    dnnl_memory_desc_t src;
    if (int8)
        return maxpool_int8_make(c, s, ydims, strides, kernel, dil, pl, pr);
    ORTC_TRY(ortc_dnnl_md_input(c, 0, &src));
    return pool_make(c, s, alg, &src, x->rank, ydims, strides, kernel, dil, pl, pr);
}

static ortc_status pool_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_dnnl_prim), pool_build, NULL);
}

/* ---- GlobalAveragePool: mean over all spatial dims ------------------------ */

static ortc_status gap_check(ortc_opctx *c, int64_t *nc, int64_t *spatial)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 3, "N, C, spatial..."));
    const ortc_tensor *x = c->in[0];
    *nc = x->dims[0] * x->dims[1];
    *spatial = 1;
    for (int i = 2; i < x->rank; i++)
        *spatial *= x->dims[i];
    return ORTC_STATUS_OK;
}

static ortc_status gap_infer(ortc_opctx *c)
{
    int64_t nc, sp;
    ORTC_TRY(gap_check(c, &nc, &sp));
    int64_t dims[ORTC_MAX_RANK];
    for (int i = 0; i < c->in[0]->rank; i++)
        dims[i] = i < 2 ? c->in[0]->dims[i] : 1;
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, dims);
    return ORTC_STATUS_OK;
}

static ortc_status gap_reference(ortc_opctx *c)
{
    int64_t nc, sp;
    ORTC_TRY(gap_check(c, &nc, &sp));
    if (sp == 0) {
        /* mean of nothing: NaN, as numpy's mean over an empty axis */
        float *y = c->out[0]->data;
        for (int64_t i = 0; i < nc; i++)
            y[i] = NAN;
        return ORTC_STATUS_OK;
    }
    ortc_ref_global_avgpool_forward(c->out[0]->data, c->in[0]->data, nc, sp);
    return ORTC_STATUS_OK;
}

/* Any rank: pool (N, C, S) with a window of S over one spatial dim. */
static ortc_status global_build(ortc_opctx *c, ortc_dnnl_prim *s, dnnl_alg_kind_t alg)
{
    int64_t nc, sp;
    ORTC_TRY(gap_check(c, &nc, &sp));
    if (nc == 0 || sp == 0)
        return ortc_dnnl_prim_use_ref(c, s);
    const ortc_tensor *x = c->in[0];
    dnnl_memory_desc_t src;
    if (ortc_dnnl_in_blocked(c, 0)) {
        /* GlobalAveragePool on a blocked x (squeeze-excite after a
         * convolution): one window over every spatial dim, in x's layout */
        int64_t ydims[ORTC_MAX_RANK];
        dnnl_dims_t strides, kernel, dil, pl, pr;
        for (int d = 0; d < x->rank; d++)
            ydims[d] = d < 2 ? x->dims[d] : 1;
        for (int i = 0; i + 2 < x->rank; i++) {
            strides[i] = 1;
            kernel[i] = x->dims[i + 2];
            dil[i] = pl[i] = pr[i] = 0;
        }
        ORTC_TRY(ortc_dnnl_md_input(c, 0, &src));
        return pool_make(c, s, alg, &src, x->rank, ydims, strides, kernel, dil, pl, pr);
    }
    int64_t xdims[3] = {x->dims[0], x->dims[1], sp}, ydims[3] = {x->dims[0], x->dims[1], 1};
    dnnl_dims_t strides = {1}, kernel = {sp}, dil = {0}, pl = {0}, pr = {0};
    ORTC_TRY(ortc_dnnl_md_plain(c, &src, 3, xdims));
    return pool_make(c, s, alg, &src, 3, ydims, strides, kernel, dil, pl, pr);
}

static ortc_status gap_build(ortc_opctx *c, void *state)
{
    return global_build(c, state, dnnl_pooling_avg_exclude_padding);
}

static ortc_status gap_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_dnnl_prim), gap_build, NULL);
}

/* ---- GlobalMaxPool: max over all spatial dims ----------------------------- */

// x: (NC, S)  out: (NC): max over S, NaN if any is NaN (numpy's max); -inf
// when S is 0 (the max of nothing)
static void global_maxpool_forward(float *out, const float *x, int64_t nc, int64_t s)
{
    for (int64_t i = 0; i < nc; i++) {
        float m = -INFINITY;
        for (int64_t j = 0; j < s && !isnan(m); j++)
            m = x[i * s + j] > m || isnan(x[i * s + j]) ? x[i * s + j] : m;
        out[i] = m;
    }
}

static ortc_status gmp_reference(ortc_opctx *c)
{
    int64_t nc, sp;
    ORTC_TRY(gap_check(c, &nc, &sp));
    global_maxpool_forward(c->out[0]->data, c->in[0]->data, nc, sp);
    return ORTC_STATUS_OK;
}

static ortc_status gmp_build(ortc_opctx *c, void *state)
{
    return global_build(c, state, dnnl_pooling_max);
}

static ortc_status gmp_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_dnnl_prim), gmp_build, NULL);
}

static ortc_status gmp_run(ortc_opctx *c)
{
    if (ortc_f32_any_nan(c->in[0]->data, ortc_tensor_numel(c->in[0])))
        return gmp_reference(c);
    return ortc_dnnl_prim_exec(c);
}

#define POOL_CALLBACKS                                                                             \
    .infer = pool_infer, .prepare = pool_prepare, .run = ortc_dnnl_prim_exec,                      \
    .release = ortc_dnnl_prim_release, .reference = pool_reference

/* MaxPool-12 adds float64, int8 and uint8 */
const ortc_operator ortc_ops_pool[] = {
    ORTC_OP("MaxPool", 1, 11, .versions = {1, 8, 10, 11}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT), .flags = ORTC_OP_ACCEPTS_BLOCKED, POOL_CALLBACKS),
    ORTC_OP("MaxPool", 12, 12, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(INT8) | ORTC_DT(UINT8),
            .flags = ORTC_OP_ACCEPTS_BLOCKED | ORTC_OP_BLOCKED_INT8, POOL_CALLBACKS),
    ORTC_OP("AveragePool", 1, 11, .versions = {1, 7, 10, 11}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT), .flags = ORTC_OP_ACCEPTS_BLOCKED, POOL_CALLBACKS),
    ORTC_OP("GlobalAveragePool", 1, 1, .backend = ORTC_BACKEND_ONEDNN, .dtypes = ORTC_DT(FLOAT),
            .flags = ORTC_OP_ACCEPTS_BLOCKED, .infer = gap_infer, .prepare = gap_prepare,
            .run = ortc_dnnl_prim_exec, .release = ortc_dnnl_prim_release,
            .reference = gap_reference),
    ORTC_OP("GlobalMaxPool", 1, 1, .backend = ORTC_BACKEND_ONEDNN, .dtypes = ORTC_DT(FLOAT),
            .infer = gap_infer, .prepare = gmp_prepare, .run = gmp_run,
            .release = ortc_dnnl_prim_release, .reference = gmp_reference),
};
ORTC_OP_TABLE_END(pool);
