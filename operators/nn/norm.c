/* norm.c — BatchNormalization (opsets 1, 6, 7, 9, 14, 15),
 * InstanceNormalization (1, 6) and LayerNormalization (17). float32 runs on
 * oneDNN: batch_normalization with the given statistics; the same primitive
 * computing statistics over an (1, N*C, S) view for InstanceNormalization
 * (oneDNN has no instance norm); layer_normalization over (outer, inner).
 * double, BatchNormalization's training mode (14, 15) and LayerNormalization
 * with a broadcast (not X.shape[axis:]) Scale/B run the plain-C reference
 * kernels. Refused: training outputs before opset 14, spatial=0,
 * stash_type != 1, parameters whose dtype differs from X's. Before opset 14
 * a node with only output Y computes inference whatever is_test says.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "error.h"
#include "plain_util.h"
#include "post_ops.h"

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* Error unless input i has X's dtype (and, when len >= 0, shape [len]). */
static ortc_status check_param(ortc_opctx *c, int i, int64_t len, const char *what)
{
    const ortc_tensor *p = c->in[i], *x = c->in[0];
    if (p->dtype != x->dtype)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input %d '%s' (%s) has dtype %s and input 0 '%s' has %s; ortc "
                             "needs them equal",
                             i, ortc_plain_input_name(c, i), what, ortc_dtype_name(p->dtype),
                             ortc_plain_input_name(c, 0), ortc_dtype_name(x->dtype));
    if (len >= 0 && (p->rank != 1 || p->dims[0] != len)) {
        char sp[128], sx[128];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d '%s' (%s) has shape %s; input 0 '%s' of shape %s needs "
                             "[%lld]",
                             i, ortc_plain_input_name(c, i), what,
                             ortc_shape_str(sp, sizeof sp, p->rank, p->dims),
                             ortc_plain_input_name(c, 0),
                             ortc_shape_str(sx, sizeof sx, x->rank, x->dims), (long long)len);
    }
    return ORTC_STATUS_OK;
}

/* x as (N, C, S): rank >= min_rank, S the product of the spatial dims. */
static ortc_status check_ncs(ortc_opctx *c, int min_rank, int64_t *n, int64_t *ch, int64_t *s)
{
    ORTC_TRY(ortc_op_check_min_rank(c, 0, min_rank, "N, C, ..."));
    const ortc_tensor *x = c->in[0];
    *n = x->dims[0];
    *ch = x->dims[1];
    *s = 1;
    for (int i = 2; i < x->rank; i++)
        *s *= x->dims[i];
    return ORTC_STATUS_OK;
}

/* ==== plain-C kernels ========================================================
 * T is float or double (t); statistics in double. */

// x, y: (N, C, S); scale, bias, mean, var: (C)
// y = (x - mean) / sqrt(var + eps) * scale + bias
static void batchnorm_forward(void *y, const void *x, ortc_dtype t, const void *scale,
                              const void *bias, const void *mean, const void *var, int64_t n,
                              int64_t ch, int64_t s, double eps)
{
    for (int64_t c = 0; c < ch; c++) {
        double a = ortc_load_real(scale, t, c) / sqrt(ortc_load_real(var, t, c) + eps);
        double m = ortc_load_real(mean, t, c), b = ortc_load_real(bias, t, c);
        for (int64_t i = 0; i < n; i++) {
            int64_t base = (i * ch + c) * s;
            for (int64_t j = 0; j < s; j++)
                ortc_store_real(y, t, base + j, (ortc_load_real(x, t, base + j) - m) * a + b);
        }
    }
}

// Mean and population variance of `rows` rows of x, `len` elements each,
// starting at x[first] and `pitch` elements apart (two passes).
static void stats_forward(double *mean, double *var, const void *x, ortc_dtype t, int64_t first,
                          int64_t rows, int64_t pitch, int64_t len)
{
    double sum = 0, sq = 0;
    int64_t count = rows * len;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < len; j++)
            sum += ortc_load_real(x, t, first + r * pitch + j);
    double m = count ? sum / (double)count : 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < len; j++) {
            double d = ortc_load_real(x, t, first + r * pitch + j) - m;
            sq += d * d;
        }
    *mean = m;
    *var = count ? sq / (double)count : 0;
}

// Training mode (BatchNormalization 14/15): x normalised with its own
// per-channel statistics; run_mean/run_var (C, may be NULL) =
// input * momentum + batch * (1 - momentum)
static void batchnorm_train_forward(void *y, void *run_mean, void *run_var, const void *x,
                                    ortc_dtype t, const void *scale, const void *bias,
                                    const void *mean, const void *var, int64_t n, int64_t ch,
                                    int64_t s, double eps, double momentum)
{
    for (int64_t c = 0; c < ch; c++) {
        double m, v; /* channel c: n rows of s, ch * s apart */
        stats_forward(&m, &v, x, t, c * s, n, ch * s, s);
        double a = ortc_load_real(scale, t, c) / sqrt(v + eps), b = ortc_load_real(bias, t, c);
        for (int64_t i = 0; i < n; i++) {
            int64_t base = (i * ch + c) * s;
            for (int64_t j = 0; j < s; j++)
                ortc_store_real(y, t, base + j, (ortc_load_real(x, t, base + j) - m) * a + b);
        }
        if (run_mean)
            ortc_store_real(run_mean, t, c,
                            ortc_load_real(mean, t, c) * momentum + m * (1 - momentum));
        if (run_var)
            ortc_store_real(run_var, t, c,
                            ortc_load_real(var, t, c) * momentum + v * (1 - momentum));
    }
}

// x, y: (N, C, S); scale, bias: (C); each (n, c) row normalised by its own
// mean and population variance over S
static void instancenorm_forward(void *y, const void *x, ortc_dtype t, const void *scale,
                                 const void *bias, int64_t n, int64_t ch, int64_t s, double eps)
{
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < ch; c++) {
            int64_t base = (i * ch + c) * s;
            double m, v;
            stats_forward(&m, &v, x, t, base, 1, s, s);
            double a = ortc_load_real(scale, t, c) / sqrt(v + eps), b = ortc_load_real(bias, t, c);
            for (int64_t j = 0; j < s; j++)
                ortc_store_real(y, t, base + j, (ortc_load_real(x, t, base + j) - m) * a + b);
        }
}

/* Offset of element e of a tensor with `dims` in an operand broadcast to it
 * with strides `str` (0 where broadcast). */
static int64_t bcast_offset(int64_t e, const int64_t *dims, const int64_t *str, int rank)
{
    int64_t off = 0;
    for (int d = rank - 1; d >= 0; d--) {
        off += (e % dims[d]) * str[d];
        e /= dims[d];
    }
    return off;
}

// x, y: (outer, inner), row-major over dims (rank); each row normalised by
// its mean and population variance; scale (bias, may be NULL) read through
// broadcast strides sstr (bstr) over dims; mean, rstd: (outer) float or
// NULL, rstd = 1 / sqrt(var + eps)
static void layernorm_forward(void *y, float *mean, float *rstd, const void *x, ortc_dtype t,
                              const void *scale, const int64_t *sstr, const void *bias,
                              const int64_t *bstr, const int64_t *dims, int rank, int64_t outer,
                              int64_t inner, double eps)
{
    for (int64_t o = 0; o < outer; o++) {
        int64_t base = o * inner;
        double m, v;
        stats_forward(&m, &v, x, t, base, 1, inner, inner);
        double r = 1.0 / sqrt(v + eps);
        for (int64_t j = 0; j < inner; j++) {
            int64_t e = base + j;
            double out = (ortc_load_real(x, t, e) - m) * r *
                         ortc_load_real(scale, t, bcast_offset(e, dims, sstr, rank));
            if (bias)
                out += ortc_load_real(bias, t, bcast_offset(e, dims, bstr, rank));
            ortc_store_real(y, t, e, out);
        }
        if (mean)
            mean[o] = (float)m;
        if (rstd)
            rstd[o] = (float)r;
    }
}

/* ==== shared oneDNN state ==================================================== */

typedef struct norm_state {
    ortc_dnnl_prim prim;
    size_t extra_off; /* this op's own floats in c->scratch */
} norm_state;

static ortc_status norm_prepare_with(ortc_opctx *c, ortc_status (*build)(ortc_opctx *, void *))
{
    return ortc_dnnl_prim_prepare(c, sizeof(norm_state), build, NULL);
}

/* ==== BatchNormalization ===================================================== */

typedef struct bn_geom {
    int64_t n, c, s;
    double eps, momentum;
    bool training;
} bn_geom;

static bool has_output(const ortc_opctx *c, int k)
{
    return k < c->n_out && c->out[k];
}

static ortc_status bn_check(ortc_opctx *c, bn_geom *g)
{
    int version = ortc_op_version(c);
    ORTC_TRY(ortc_op_check_arity(c, 5, 5, 1, version >= 14 ? 3 : 5));
    ORTC_TRY(ortc_op_check_attr(c, "epsilon", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "momentum", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "training_mode", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "spatial", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "is_test", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(check_ncs(c, 2, &g->n, &g->c, &g->s));
    static const char *what[5] = {"X", "scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++)
        ORTC_TRY(check_param(c, i, g->c, what[i]));
    if (version < 9 && ortc_node_attr_int(c->node, "spatial", 1) == 0)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "attribute 'spatial' is 0 (per-activation statistics); only "
                             "spatial=1 is supported");
    g->eps = ortc_node_attr_float(c->node, "epsilon", 1e-5f);
    g->momentum = ortc_node_attr_float(c->node, "momentum", 0.9f);
    g->training = version >= 14 && ortc_node_attr_int(c->node, "training_mode", 0) != 0;
    bool extra = false;
    for (int k = 1; k < c->n_out; k++)
        extra = extra || has_output(c, k);
    if (extra && version < 14)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "training outputs (mean, var, saved_mean, saved_var) of "
                             "BatchNormalization-%d are not supported; use only output Y",
                             version);
    if (extra && !g->training)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "outputs running_mean/running_var are only valid with "
                             "training_mode=1");
    return ORTC_STATUS_OK;
}

/* Post-ops: element-wise only (inputs 3 and 4 are mean and var, not a
 * summand); the fast path is oneDNN's fused ReLU, so only a single ReLU is
 * fused (anything else would leave the primitive for the reference). */
static bool bn_post_op_ok1(const ortc_post_op *po)
{
    return po->kind != ORTC_POST_OP_SUM && ortc_post_op_name(po->kind) != NULL;
}

static bool bn_post_op_ok(const ortc_node *n, const ortc_post_op *po)
{
    return n->n_post_ops == 0 && po->kind == ORTC_POST_OP_RELU;
}

static ortc_status bn_infer(ortc_opctx *c)
{
    bn_geom g;
    ORTC_TRY(bn_check(c, &g));
    const ortc_tensor *x = c->in[0];
    if (c->node->n_post_ops && (x->dtype != ORTC_DTYPE_FLOAT || c->n_out != 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "fused post-ops need a float32 X and output Y alone");
    for (int i = 0; i < c->node->n_post_ops; i++)
        if (!bn_post_op_ok1(&c->node->post_ops[i]))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "fused post-op %d is not one BatchNormalization applies", i);
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    for (int k = 1; k < 3 && k < c->n_out; k++)
        ortc_op_set_output(c, k, x->dtype, 1, &g.c);
    return ORTC_STATUS_OK;
}

static ortc_status bn_reference(ortc_opctx *c)
{
    bn_geom g;
    ORTC_TRY(bn_check(c, &g));
    const ortc_tensor *x = c->in[0];
    const void *scale = c->in[1]->data, *bias = c->in[2]->data, *mean = c->in[3]->data,
               *var = c->in[4]->data;
    if (g.training)
        batchnorm_train_forward(c->out[0]->data, has_output(c, 1) ? c->out[1]->data : NULL,
                                has_output(c, 2) ? c->out[2]->data : NULL, x->data, x->dtype, scale,
                                bias, mean, var, g.n, g.c, g.s, g.eps, g.momentum);
    else
        batchnorm_forward(c->out[0]->data, x->data, x->dtype, scale, bias, mean, var, g.n, g.c, g.s,
                          g.eps);
    if (c->node->n_post_ops) /* fused only into float32 nodes */
        ortc_post_ops_apply(c, c->out[0]->data, ortc_tensor_numel(c->out[0]));
    return ORTC_STATUS_OK;
}

static ortc_status bn_build(ortc_opctx *c, void *state)
{
    norm_state *s = state;
    bn_geom g;
    ORTC_TRY(bn_check(c, &g));
    if (g.training || c->in[0]->dtype != ORTC_DTYPE_FLOAT || g.n * g.c * g.s == 0)
        return ortc_dnnl_prim_use_ref(c, &s->prim);
    /* x as it arrives: a producer's blocked layout, else plain with its own
     * rank (oneDNN's JIT kernels take 4-D/5-D plain and blocked layouts;
     * the (N, C, S) view only for ranks oneDNN does not describe) */
    const ortc_tensor *x = c->in[0];
    int64_t dims[3] = {g.n, g.c, g.s};
    dnnl_memory_desc_t data, param;
    bool blocked = ortc_dnnl_in_blocked(c, 0);
    ORTC_TRY(blocked || x->rank <= 5 ? ortc_dnnl_md_input(c, 0, &data)
                                     : ortc_dnnl_md_plain(c, &data, 3, dims));
    ORTC_TRY(ortc_dnnl_md_plain(c, &param, 1, &g.c));
    for (int i = 1; i < 5; i++)
        if (ortc_dnnl_in_blocked(c, i)) /* parameters computed by a blocked producer */
            return ortc_dnnl_prim_use_ref(c, &s->prim);
    if (c->inplace)
        c->inplace[0] = 0; /* per element: y may overwrite x */
    dnnl_batch_normalization_desc_t desc;
    DNNL_CHECK(c, dnnl_batch_normalization_forward_desc_init(
                      &desc, dnnl_forward_inference, &data, (float)g.eps,
                      dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift));
    /* fused post-ops: oneDNN takes a single ReLU (bn_post_op_ok) */
    dnnl_primitive_attr_t attr;
    ORTC_TRY(ortc_dnnl_prim_attr(c, &s->prim, &attr, 0.0f));
    const ortc_dnnl_arg args[] = {
        ORTC_DNNL_IN_ANY(DNNL_ARG_SRC, 0), ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
        ORTC_DNNL_IN(DNNL_ARG_SCALE, 1),   ORTC_DNNL_IN(DNNL_ARG_SHIFT, 2),
        ORTC_DNNL_IN(DNNL_ARG_MEAN, 3),    ORTC_DNNL_IN(DNNL_ARG_VARIANCE, 4),
    };
    ortc_status st = ortc_dnnl_prim_create(c, &s->prim, &desc, attr, args, 6);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

static ortc_status bn_prepare(ortc_opctx *c)
{
    return norm_prepare_with(c, bn_build);
}

static ortc_status bn_run(ortc_opctx *c)
{
    return ortc_dnnl_prim_exec(c);
}

/* ==== InstanceNormalization ================================================== */

typedef struct in_geom {
    int64_t n, c, s;
    double eps;
} in_geom;

static ortc_status in_check(ortc_opctx *c, in_geom *g)
{
    ORTC_TRY(ortc_op_check_arity(c, 3, 3, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "epsilon", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(check_ncs(c, 3, &g->n, &g->c, &g->s));
    ORTC_TRY(check_param(c, 1, g->c, "scale"));
    ORTC_TRY(check_param(c, 2, g->c, "B"));
    g->eps = ortc_node_attr_float(c->node, "epsilon", 1e-5f);
    return ORTC_STATUS_OK;
}

static ortc_status in_infer(ortc_opctx *c)
{
    in_geom g;
    ortc_status st = in_check(c, &g);
    if (!st)
        ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return st;
}

static ortc_status in_reference(ortc_opctx *c)
{
    in_geom g;
    ORTC_TRY(in_check(c, &g));
    const ortc_tensor *x = c->in[0];
    instancenorm_forward(c->out[0]->data, x->data, x->dtype, c->in[1]->data, c->in[2]->data, g.n,
                         g.c, g.s, g.eps);
    return ORTC_STATUS_OK;
}

/* oneDNN has no instance norm: batch_normalization computing its own
 * statistics over x viewed as (1, N*C, S) gives each (n, c) row its own mean
 * and variance; scale and shift are tiled to N*C at run, and the statistics
 * land there too, all in scratch after oneDNN's scratchpad. */
static ortc_status in_build(ortc_opctx *c, void *state)
{
    norm_state *s = state;
    in_geom g;
    ORTC_TRY(in_check(c, &g));
    if (c->in[0]->dtype != ORTC_DTYPE_FLOAT || g.n * g.c * g.s == 0)
        return ortc_dnnl_prim_use_ref(c, &s->prim);
    int64_t nc = g.n * g.c, dims[3] = {1, nc, g.s};
    dnnl_memory_desc_t data, param;
    ORTC_TRY(ortc_dnnl_md_plain(c, &data, 3, dims));
    ORTC_TRY(ortc_dnnl_md_plain(c, &param, 1, &nc));
    dnnl_batch_normalization_desc_t desc;
    DNNL_CHECK(c, dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_training, &data,
                                                             (float)g.eps,
                                                             dnnl_use_scale | dnnl_use_shift));
    /* scale, shift, mean, variance: 4 arrays of N*C floats */
    size_t step = align64((size_t)nc * sizeof(float));
    size_t off = s->extra_off = ortc_dnnl_prim_scratch(c, &s->prim, 4 * step);
    const ortc_dnnl_arg args[] = {
        ORTC_DNNL_IN(DNNL_ARG_SRC, 0),
        ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
        ORTC_DNNL_SCRATCH(DNNL_ARG_SCALE, off),
        ORTC_DNNL_SCRATCH(DNNL_ARG_SHIFT, off + step),
        ORTC_DNNL_SCRATCH(DNNL_ARG_MEAN, off + 2 * step),
        ORTC_DNNL_SCRATCH(DNNL_ARG_VARIANCE, off + 3 * step),
    };
    return ortc_dnnl_prim_create(c, &s->prim, &desc, NULL, args, 6);
}

static ortc_status in_prepare(ortc_opctx *c)
{
    return norm_prepare_with(c, in_build);
}

static ortc_status in_run(ortc_opctx *c)
{
    norm_state *s = c->state;
    if (!s || s->prim.use_ref)
        return in_reference(c);
    const ortc_tensor *x = c->in[0];
    int64_t n = x->dims[0], ch = x->dims[1], nc = n * ch;
    size_t step = align64((size_t)nc * sizeof(float));
    char *extra = (char *)c->scratch + s->extra_off;
    float *scale = (float *)extra, *shift = (float *)(extra + step);
    const float *sc = c->in[1]->data, *b = c->in[2]->data;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < ch; j++) {
            scale[i * ch + j] = sc[j];
            shift[i * ch + j] = b[j];
        }
    return ortc_dnnl_prim_run(c, &s->prim);
}

/* ==== LayerNormalization ===================================================== */

typedef struct ln_geom {
    int axis;
    int64_t outer, inner;
    double eps;
    int64_t sstr[ORTC_MAX_RANK], bstr[ORTC_MAX_RANK]; /* Scale/B strides over X */
    bool dense; /* Scale (and B) are X.shape[axis:] exactly (up to leading 1s) */
} ln_geom;

/* Strides of p broadcast to x's dims (unidirectional); false if it cannot
 * be. */
static bool bcast_strides(const ortc_tensor *p, const ortc_tensor *x, int64_t *str)
{
    if (p->rank > x->rank)
        return false;
    int64_t stride = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        int pd = d - (x->rank - p->rank);
        int64_t dim = pd >= 0 ? p->dims[pd] : 1;
        if (dim != 1 && dim != x->dims[d])
            return false;
        str[d] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
    return true;
}

static ortc_status ln_check(ortc_opctx *c, ln_geom *g)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 3, 1, 3));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "epsilon", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "stash_type", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x = c->in[0];
    int64_t stash = ortc_node_attr_int(c->node, "stash_type", 1);
    if (stash != 1)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "attribute 'stash_type' is %lld; only 1 (float) is supported",
                             (long long)stash);
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", -1), x->rank, &g->axis));
    g->eps = ortc_node_attr_float(c->node, "epsilon", 1e-5f);
    g->outer = g->inner = 1;
    for (int i = 0; i < x->rank; i++)
        *(i < g->axis ? &g->outer : &g->inner) *= x->dims[i];
    g->dense = true;
    for (int i = 1; i < 3; i++) {
        if (i >= c->n_in || !c->in[i])
            continue;
        int64_t *str = i == 1 ? g->sstr : g->bstr;
        ORTC_TRY(check_param(c, i, -1, i == 1 ? "Scale" : "B"));
        if (!bcast_strides(c->in[i], x, str)) {
            char sp[128], sx[128];
            const ortc_tensor *p = c->in[i];
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL,
                "input %d '%s' has shape %s, which does not broadcast to input "
                "0 '%s' of shape %s",
                i, ortc_plain_input_name(c, i), ortc_shape_str(sp, sizeof sp, p->rank, p->dims),
                ortc_plain_input_name(c, 0), ortc_shape_str(sx, sizeof sx, x->rank, x->dims));
        }
        /* dense: strides 0 before axis, row-major over X.shape[axis:] after */
        int64_t want = 1;
        for (int d = x->rank - 1; d >= 0; d--) {
            if (x->dims[d] != 1 && str[d] != (d >= g->axis ? want : 0))
                g->dense = false;
            if (d >= g->axis)
                want *= x->dims[d];
        }
    }
    return ORTC_STATUS_OK;
}

static ortc_status ln_infer(ortc_opctx *c)
{
    ln_geom g;
    ORTC_TRY(ln_check(c, &g));
    const ortc_tensor *x = c->in[0];
    int64_t sdims[ORTC_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        sdims[i] = i < g.axis ? x->dims[i] : 1;
    ortc_op_set_output(c, 0, x->dtype, x->rank, x->dims);
    for (int k = 1; k < 3 && k < c->n_out; k++)
        ortc_op_set_output(c, k, ORTC_DTYPE_FLOAT, x->rank, sdims);
    return ORTC_STATUS_OK;
}

static ortc_status ln_reference(ortc_opctx *c)
{
    ln_geom g;
    ORTC_TRY(ln_check(c, &g));
    const ortc_tensor *x = c->in[0];
    bool has_b = c->n_in > 2 && c->in[2];
    layernorm_forward(c->out[0]->data, has_output(c, 1) ? c->out[1]->data : NULL,
                      has_output(c, 2) ? c->out[2]->data : NULL, x->data, x->dtype, c->in[1]->data,
                      g.sstr, has_b ? c->in[2]->data : NULL, g.bstr, x->dims, x->rank, g.outer,
                      g.inner, g.eps);
    return ORTC_STATUS_OK;
}

/* oneDNN layer_normalization over (outer, inner). With Mean or InvStdDev
 * requested it runs in training mode, writing the mean and variance (into
 * the outputs, or scratch for one not requested); run then turns the
 * variance into 1 / sqrt(var + eps). */
static ortc_status ln_build(ortc_opctx *c, void *state)
{
    norm_state *s = state;
    ln_geom g;
    ORTC_TRY(ln_check(c, &g));
    if (c->in[0]->dtype != ORTC_DTYPE_FLOAT || !g.dense || g.outer * g.inner == 0)
        return ortc_dnnl_prim_use_ref(c, &s->prim);
    bool has_b = c->n_in > 2 && c->in[2];
    bool stats = has_output(c, 1) || has_output(c, 2);
    int64_t dims[2] = {g.outer, g.inner};
    dnnl_memory_desc_t data, stat, param;
    ORTC_TRY(ortc_dnnl_md_plain(c, &data, 2, dims));
    ORTC_TRY(ortc_dnnl_md_plain(c, &stat, 1, &g.outer));
    ORTC_TRY(ortc_dnnl_md_plain(c, &param, 1, &g.inner));
    dnnl_layer_normalization_desc_t desc;
    DNNL_CHECK(c, dnnl_layer_normalization_forward_desc_init(
                      &desc, stats ? dnnl_forward_training : dnnl_forward_inference, &data, &stat,
                      (float)g.eps, dnnl_use_scale | (has_b ? dnnl_use_shift : 0)));
    /* a statistic that is not an output goes to scratch */
    size_t spare = stats ? ortc_dnnl_prim_scratch(c, &s->prim, (size_t)g.outer * sizeof(float)) : 0;
    ortc_dnnl_arg args[6] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0), ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
                             ORTC_DNNL_IN(DNNL_ARG_SCALE, 1)};
    int n = 3;
    if (has_b)
        args[n++] = ORTC_DNNL_IN(DNNL_ARG_SHIFT, 2);
    for (int k = 1; stats && k <= 2; k++) {
        int arg = k == 1 ? DNNL_ARG_MEAN : DNNL_ARG_VARIANCE;
        args[n++] = has_output(c, k) ? ORTC_DNNL_OUT(arg, k) : ORTC_DNNL_SCRATCH(arg, spare);
    }
    return ortc_dnnl_prim_create(c, &s->prim, &desc, NULL, args, n);
}

static ortc_status ln_prepare(ortc_opctx *c)
{
    return norm_prepare_with(c, ln_build);
}

static ortc_status ln_run(ortc_opctx *c)
{
    norm_state *s = c->state;
    if (!s || s->prim.use_ref)
        return ln_reference(c);
    ORTC_TRY(ortc_dnnl_prim_run(c, &s->prim));
    if (has_output(c, 2)) {
        float *var = c->out[2]->data;
        DNNL_CHECK(c, dnnl_stream_wait(ortc_dnnl_stream(c)));
        float eps = ortc_node_attr_float(c->node, "epsilon", 1e-5f);
        int64_t outer = ortc_tensor_numel(c->out[2]);
        for (int64_t i = 0; i < outer; i++)
            var[i] = 1.0f / sqrtf(var[i] + eps);
    }
    return ORTC_STATUS_OK;
}

/* ==== registration =========================================================== */

const ortc_operator ortc_ops_norm[] = {
    ORTC_OP("BatchNormalization", 1, 15, .versions = {1, 6, 7, 9, 14, 15},
            .backend = ORTC_BACKEND_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_ACCEPTS_BLOCKED | ORTC_OP_POST_OPS | ORTC_OP_MAY_INPLACE,
            .infer = bn_infer, .prepare = bn_prepare, .run = bn_run,
            .release = ortc_dnnl_prim_release, .reference = bn_reference,
            .post_op_ok = bn_post_op_ok),
    ORTC_OP("InstanceNormalization", 1, 6, .versions = {1, 6}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT, .infer = in_infer, .prepare = in_prepare, .run = in_run,
            .release = ortc_dnnl_prim_release, .reference = in_reference),
    ORTC_OP("LayerNormalization", 17, 17, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT, .infer = ln_infer, .prepare = ln_prepare, .run = ln_run,
            .release = ortc_dnnl_prim_release, .reference = ln_reference),
};
ORTC_OP_TABLE_END(norm);
