/* reduce.c — ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare
 * (opsets 1, 11, 13; Max/Min also 12) and ArgMax/ArgMin (1, 11, 12, 13).
 * float32 reductions run on oneDNN's reduction primitive; LogSum takes libm's
 * logf of oneDNN's sum (oneDNN 2.6's log is off by ~1.4e-6 absolute). Plain C,
 * also the reference: LogSumExp, empty reductions, Max/Min of an input with a
 * NaN (oneDNN drops NaNs; ONNX, like numpy, propagates them), other dtypes,
 * ArgMax/ArgMin. float16/bfloat16 are refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "error.h"
#include "op_util.h"
#include "plain_util.h"

/* ==== reduction geometry ===================================================== */

typedef enum reduce_kind {
    R_SUM,
    R_MEAN,
    R_MAX,
    R_MIN,
    R_PROD,
    R_L1,
    R_L2,
    R_LOGSUM,
    R_LOGSUMEXP,
    R_SUMSQUARE
} reduce_kind;

static const struct {
    const char *op;
    reduce_kind kind;
} reduce_ops[] = {
    {"ReduceSum", R_SUM},
    {"ReduceMean", R_MEAN},
    {"ReduceMax", R_MAX},
    {"ReduceMin", R_MIN},
    {"ReduceProd", R_PROD},
    {"ReduceL1", R_L1},
    {"ReduceL2", R_L2},
    {"ReduceLogSum", R_LOGSUM},
    {"ReduceLogSumExp", R_LOGSUMEXP},
    {"ReduceSumSquare", R_SUMSQUARE},
};

/* A validated Reduce* node. The loops see x as groups: runs of adjacent
 * dims that are all kept or all reduced are merged (row-major, so a run is
 * one dim with the stride of its innermost member) and size-1 dims are
 * dropped. */
typedef struct reduce_geom {
    reduce_kind kind;
    bool noop; /* empty axes + noop_with_empty_axes: y = x */
    int out_rank;
    int64_t out_dims[ORTC_MAX_RANK];
    int ng; /* groups, outermost first */
    int64_t gdim[ORTC_MAX_RANK];
    bool gred[ORTC_MAX_RANK];
    /* kept / reduced groups, outermost first: n_kept outputs, n_red
     * inputs reduced into each */
    ortc_axes_split sp;
} reduce_geom;

static ortc_status reduce_kind_of(ortc_opctx *c, reduce_kind *k)
{
    for (size_t i = 0; i < sizeof reduce_ops / sizeof reduce_ops[0]; i++)
        if (!strcmp(c->node->op_type, reduce_ops[i].op)) {
            *k = reduce_ops[i].kind;
            return ORTC_STATUS_OK;
        }
    return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: %s is not a reduction",
                         c->node->op_type);
}

/* Which of a family's two kernels serves input 0's dtype: *real for float
 * and double, else an integer dtype in `ints` (those the integer kernel
 * handles); an error naming the op and the dtype otherwise. */
static ortc_status kernel_for(ortc_opctx *c, uint32_t ints, bool *real)
{
    ortc_dtype t = c->in[0]->dtype;
    *real = ortc_dtype_in(ORTC_DTYPES_FLOAT, t);
    if (*real || ortc_dtype_in(ints, t))
        return ORTC_STATUS_OK;
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "%s has no kernel for dtype %s",
                         c->node->op_type, ortc_dtype_name(t));
}

/* The row's dtypes: REDUCE_DTYPES, plus int8 and uint8 for ReduceMax and
 * ReduceMin from 12. */
static ortc_status reduce_check_dtype(ortc_opctx *c, int version)
{
    ortc_dtype t = c->in[0]->dtype;
    uint32_t allowed = ortc_op_dtypes(c);
    if (ortc_dtype_in(allowed, t))
        return ORTC_STATUS_OK;
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                         "input 0 '%s' has dtype %s; ortc's %s-%d supports float, double, "
                         "int32, int64, uint32, uint64%s",
                         ortc_plain_input_name(c, 0), ortc_dtype_name(t), c->node->op_type, version,
                         allowed & ORTC_DT(INT8) ? ", int8, uint8" : "");
}

/* Axes from the attribute (or ReduceSum-13's input 1), keepdims and
 * noop_with_empty_axes -> g. */
static ortc_status reduce_check(ortc_opctx *c, reduce_geom *g)
{
    memset(g, 0, sizeof *g);
    int version = ortc_op_version(c);
    ortc_status st;
    ORTC_TRY(reduce_kind_of(c, &g->kind));
    bool axes_input = g->kind == R_SUM && version >= 13;
    ORTC_TRY(ortc_op_check_arity(c, 1, axes_input ? 2 : 1, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "keepdims", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "axes", ORTC_ATTR_INTS));
    ORTC_TRY(ortc_op_check_attr(c, "noop_with_empty_axes", ORTC_ATTR_INT));
    ORTC_TRY(reduce_check_dtype(c, version));
    const ortc_tensor *x = c->in[0];
    int64_t axes[ORTC_MAX_RANK];
    int n = 0;
    bool noop_empty = false;
    if (axes_input) {
        if (ortc_node_attr(c->node, "axes"))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "has an 'axes' attribute; from ReduceSum-13 on, axes is input 1");
        if (c->n_in > 1 && c->in[1] &&
            (st = ortc_plain_read_ints(c, 1, "axes", 0, axes, ORTC_MAX_RANK, &n)))
            return st;
        noop_empty = ortc_node_attr_int(c->node, "noop_with_empty_axes", 0) != 0;
    } else {
        size_t na = 0;
        const int64_t *a = ortc_node_attr_ints(c->node, "axes", &na);
        if (na > ORTC_MAX_RANK)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'axes' has %zu values; input '%s' has rank %d", na,
                                 ortc_plain_input_name(c, 0), x->rank);
        for (size_t i = 0; i < na; i++)
            axes[i] = a[i];
        n = (int)na;
    }
    bool keepdims = ortc_node_attr_int(c->node, "keepdims", 1) != 0;
    bool reduced[ORTC_MAX_RANK] = {false};
    if (n == 0) {
        g->noop = noop_empty;
        for (int i = 0; i < x->rank; i++)
            reduced[i] = !noop_empty;
    }
    for (int i = 0; i < n; i++) {
        int a;
        ORTC_TRY(ortc_op_axis(c, axes[i], x->rank, &a));
        if (x->rank == 0)
            continue; /* a scalar: axis 0 / -1 reduce nothing */
        if (reduced[a])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "axes list axis %d twice", a);
        reduced[a] = true;
    }
    /* output shape */
    for (int i = 0; i < x->rank; i++) {
        if (!reduced[i])
            g->out_dims[g->out_rank++] = x->dims[i];
        else if (keepdims)
            g->out_dims[g->out_rank++] = 1;
    }
    /* groups, outer to inner: a run's stride is its innermost dim's */
    int64_t xstride[ORTC_MAX_RANK], gstride[ORTC_MAX_RANK], stride = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        xstride[i] = stride;
        stride *= x->dims[i];
    }
    for (int i = 0; i < x->rank; i++) {
        if (x->dims[i] == 1)
            continue;
        if (g->ng > 0 && g->gred[g->ng - 1] == reduced[i])
            g->gdim[g->ng - 1] *= x->dims[i];
        else
            g->gred[g->ng] = reduced[i], g->gdim[g->ng++] = x->dims[i];
        gstride[g->ng - 1] = xstride[i];
    }
    ortc_axes_split_init(&g->sp, g->ng, g->gdim, gstride, g->gred);
    return ORTC_STATUS_OK;
}

/* Offset in x of the first element reduced into output o. */
static int64_t kept_offset(const reduce_geom *g, int64_t o)
{
    return ortc_axes_offset(o, g->sp.nk, g->sp.kdim, g->sp.kstride);
}

/* Offset (from kept_offset) of the j-th element reduced into an output. */
static inline int64_t red_offset(const reduce_geom *g, int64_t j)
{
    if (g->sp.nr == 1)
        return j * g->sp.rstride[0];
    return ortc_axes_offset(j, g->sp.nr, g->sp.rdim, g->sp.rstride);
}

/* ==== plain-C reduction kernels ============================================== */

/* One output of a float/double reduction over the elements at x[base +
 * red_offset(j)], in double. Empty sets give the op's identity: 0 for the
 * sums and norms, 1 for Prod, -inf for Max/LogSum/LogSumExp, +inf for Min
 * (ONNX 18's definition) and NaN for Mean (0/0). NaN propagates through
 * Max/Min as in numpy. */
static double reduce_real_one(const void *x, ortc_dtype t, const reduce_geom *g, int64_t base)
{
    int64_t n = g->sp.n_red;
    double acc = 0;
    switch (g->kind) {
    case R_SUM:
    case R_MEAN:
    case R_LOGSUM:
        for (int64_t j = 0; j < n; j++)
            acc += ortc_load_real(x, t, base + red_offset(g, j));
        return g->kind == R_SUM ? acc : g->kind == R_MEAN ? acc / (double)n : log(acc);
    case R_L1:
        for (int64_t j = 0; j < n; j++)
            acc += fabs(ortc_load_real(x, t, base + red_offset(g, j)));
        return acc;
    case R_L2:
    case R_SUMSQUARE:
        for (int64_t j = 0; j < n; j++) {
            double v = ortc_load_real(x, t, base + red_offset(g, j));
            acc += v * v;
        }
        return g->kind == R_L2 ? sqrt(acc) : acc;
    case R_PROD:
        acc = 1;
        for (int64_t j = 0; j < n; j++)
            acc *= ortc_load_real(x, t, base + red_offset(g, j));
        return acc;
    case R_MAX:
    case R_MIN: {
        bool is_max = g->kind == R_MAX;
        acc = is_max ? -INFINITY : INFINITY;
        for (int64_t j = 0; j < n; j++) {
            double v = ortc_load_real(x, t, base + red_offset(g, j));
            if ((is_max ? v > acc : v < acc) || isnan(v))
                acc = v;
            if (isnan(acc))
                break;
        }
        return acc;
    }
    case R_LOGSUMEXP: {
        /* max + log(sum(exp(x - max))): no overflow for large x */
        double m = -INFINITY;
        for (int64_t j = 0; j < n; j++) {
            double v = ortc_load_real(x, t, base + red_offset(g, j));
            if (v > m || isnan(v))
                m = v;
            if (isnan(m))
                return m;
        }
        if (isinf(m))
            return m; /* all -inf (or empty): -inf; any +inf: +inf */
        for (int64_t j = 0; j < n; j++)
            acc += exp(ortc_load_real(x, t, base + red_offset(g, j)) - m);
        return m + log(acc);
    }
    }
    return NAN;
}

// x: g's input, float or double; y: (g->sp.n_kept) of the same dtype
static void reduce_real_forward(void *y, const void *x, ortc_dtype t, const reduce_geom *g)
{
    for (int64_t o = 0; o < g->sp.n_kept; o++)
        ortc_store_real(y, t, o, reduce_real_one(x, t, g, kept_offset(g, o)));
}

/* Integers travel as int64 bit patterns (ortc_load_int); uint64 is
 * compared and divided unsigned. */
/* Stores v truncated to t (two's complement wrap for narrower types). */
static inline void store_int(void *y, ortc_dtype t, int64_t i, uint64_t v)
{
    switch (t) {
    case ORTC_DTYPE_INT8: ((int8_t *)y)[i] = (int8_t)v; break;
    case ORTC_DTYPE_UINT8: ((uint8_t *)y)[i] = (uint8_t)v; break;
    case ORTC_DTYPE_INT32: ((int32_t *)y)[i] = (int32_t)v; break;
    case ORTC_DTYPE_UINT32: ((uint32_t *)y)[i] = (uint32_t)v; break;
    case ORTC_DTYPE_INT64: ((int64_t *)y)[i] = (int64_t)v; break;
    case ORTC_DTYPE_UINT64: ((uint64_t *)y)[i] = v; break;
    default: break;
    }
}

/* Smallest and largest value of integer type t, as int64 bit patterns. */
static void int_limits(ortc_dtype t, int64_t *lo, int64_t *hi)
{
    switch (t) {
    case ORTC_DTYPE_INT8: *lo = INT8_MIN, *hi = INT8_MAX; break;
    case ORTC_DTYPE_UINT8: *lo = 0, *hi = UINT8_MAX; break;
    case ORTC_DTYPE_INT32: *lo = INT32_MIN, *hi = INT32_MAX; break;
    case ORTC_DTYPE_UINT32: *lo = 0, *hi = UINT32_MAX; break;
    case ORTC_DTYPE_UINT64: *lo = 0, *hi = -1; break; /* UINT64_MAX's bits */
    default: *lo = INT64_MIN, *hi = INT64_MAX; break;
    }
}

/* A double result (L2, LogSum, LogSumExp of integers) truncated toward zero
 * and saturated to t's range; NaN becomes 0. */
static uint64_t int_from_double(double r, ortc_dtype t)
{
    int64_t lo, hi;
    int_limits(t, &lo, &hi);
    if (isnan(r))
        return 0;
    r = trunc(r);
    if (t == ORTC_DTYPE_UINT64)
        return r <= 0 ? 0 : r >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)r;
    if (r <= (double)lo)
        return (uint64_t)lo;
    if (r >= (double)hi)
        return (uint64_t)hi;
    return (uint64_t)(int64_t)r;
}

// x: g's input, an integer dtype; y: (g->sp.n_kept) of the same dtype. Sums and
// products wrap (two's complement); Mean truncates toward zero (0 for an
// empty set); L2/LogSum/LogSumExp are computed in double and saturated;
// empty Max/Min give the type's minimum/maximum.
static void reduce_int_forward(void *y, const void *x, ortc_dtype t, const reduce_geom *g)
{
    bool u64 = t == ORTC_DTYPE_UINT64;
    int64_t n = g->sp.n_red, lo, hi;
    int_limits(t, &lo, &hi);
    for (int64_t o = 0; o < g->sp.n_kept; o++) {
        int64_t base = kept_offset(g, o);
        uint64_t acc = 0;
        switch (g->kind) {
        case R_SUM:
        case R_MEAN:
            for (int64_t j = 0; j < n; j++)
                acc += (uint64_t)ortc_load_int(x, t, base + red_offset(g, j));
            if (g->kind == R_MEAN)
                acc = n == 0 ? 0 : u64 ? acc / (uint64_t)n : (uint64_t)((int64_t)acc / n);
            break;
        case R_L1:
            for (int64_t j = 0; j < n; j++) {
                int64_t v = ortc_load_int(x, t, base + red_offset(g, j));
                acc += !u64 && v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            }
            break;
        case R_SUMSQUARE:
            for (int64_t j = 0; j < n; j++) {
                uint64_t v = (uint64_t)ortc_load_int(x, t, base + red_offset(g, j));
                acc += v * v;
            }
            break;
        case R_PROD:
            acc = 1;
            for (int64_t j = 0; j < n; j++)
                acc *= (uint64_t)ortc_load_int(x, t, base + red_offset(g, j));
            break;
        case R_MAX:
        case R_MIN: {
            bool is_max = g->kind == R_MAX;
            int64_t m = is_max ? lo : hi;
            for (int64_t j = 0; j < n; j++) {
                int64_t v = ortc_load_int(x, t, base + red_offset(g, j));
                bool better = u64 ? (is_max ? (uint64_t)v > (uint64_t)m : (uint64_t)v < (uint64_t)m)
                                  : (is_max ? v > m : v < m);
                if (better)
                    m = v;
            }
            acc = (uint64_t)m;
            break;
        }
        case R_L2:
        case R_LOGSUM:
        case R_LOGSUMEXP: {
            double s = 0, m = -INFINITY;
            for (int64_t j = 0; j < n; j++) {
                int64_t v = ortc_load_int(x, t, base + red_offset(g, j));
                double d = u64 ? (double)(uint64_t)v : (double)v;
                if (g->kind == R_LOGSUMEXP)
                    m = d > m ? d : m;
                else
                    s += g->kind == R_L2 ? d * d : d;
            }
            if (g->kind == R_LOGSUMEXP && n > 0)
                for (int64_t j = 0; j < n; j++) {
                    int64_t v = ortc_load_int(x, t, base + red_offset(g, j));
                    s += exp((u64 ? (double)(uint64_t)v : (double)v) - m);
                }
            double r = g->kind == R_L2       ? sqrt(s)
                       : g->kind == R_LOGSUM ? log(s)
                       : n > 0               ? m + log(s)
                                             : -INFINITY;
            acc = int_from_double(r, t);
            break;
        }
        }
        store_int(y, t, o, acc);
    }
}

/* ==== Reduce* operators ====================================================== */

typedef struct reduce_state {
    ortc_dnnl_prim prim; /* use_ref: not float32, LogSumExp, or an empty/trivial reduction */
    bool log_after;      /* LogSum: y = log(y) after oneDNN's sum */
    bool nan_check;      /* Max/Min: an input with a NaN takes the plain-C kernel */
} reduce_state;

static ortc_status reduce_infer(ortc_opctx *c)
{
    reduce_geom g;
    ORTC_TRY(reduce_check(c, &g));
    if (g.noop)
        ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    else
        ortc_op_set_output(c, 0, c->in[0]->dtype, g.out_rank, g.out_dims);
    return ORTC_STATUS_OK;
}

static ortc_status reduce_reference(ortc_opctx *c)
{
    reduce_geom g;
    ORTC_TRY(reduce_check(c, &g));
    const ortc_tensor *x = c->in[0];
    if (g.noop) {
        ortc_plain_copy(c->out[0]->data, x->data, ortc_tensor_bytes(x));
        return ORTC_STATUS_OK;
    }
    bool real; /* store_int has no 16-bit types */
    ORTC_TRY(kernel_for(c, ORTC_DTYPES_INT & ~(ORTC_DT(INT16) | ORTC_DT(UINT16)), &real));
    if (real)
        reduce_real_forward(c->out[0]->data, x->data, x->dtype, &g);
    else
        reduce_int_forward(c->out[0]->data, x->data, x->dtype, &g);
    return ORTC_STATUS_OK;
}

static ortc_status reduce_build(ortc_opctx *c, void *state)
{
    reduce_state *s = state;
    reduce_geom g;
    ORTC_TRY(reduce_check(c, &g));
    /* n_red == 1: nothing is actually reduced (elementwise, cheap) */
    if (c->in[0]->dtype != ORTC_DTYPE_FLOAT || g.noop || g.kind == R_LOGSUMEXP ||
        g.sp.n_kept == 0 || g.sp.n_red <= 1)
        return ortc_dnnl_prim_use_ref(c, &s->prim);
    /* x as its groups; y: the same with reduced groups of size 1 */
    int64_t ydims[ORTC_MAX_RANK];
    for (int i = 0; i < g.ng; i++)
        ydims[i] = g.gred[i] ? 1 : g.gdim[i];
    dnnl_memory_desc_t src, dst;
    ORTC_TRY(ortc_dnnl_md_plain(c, &src, g.ng, g.gdim));
    ORTC_TRY(ortc_dnnl_md_plain(c, &dst, g.ng, ydims));
    dnnl_alg_kind_t alg = dnnl_reduction_sum;
    float p = 0;
    switch (g.kind) {
    case R_SUM: alg = dnnl_reduction_sum; break;
    case R_LOGSUM: alg = dnnl_reduction_sum, s->log_after = true; break;
    case R_MEAN: alg = dnnl_reduction_mean; break;
    case R_MAX: alg = dnnl_reduction_max, s->nan_check = true; break;
    case R_MIN: alg = dnnl_reduction_min, s->nan_check = true; break;
    case R_PROD: alg = dnnl_reduction_mul; break;
    case R_L1: alg = dnnl_reduction_norm_lp_sum, p = 1; break;
    case R_L2: alg = dnnl_reduction_norm_lp_sum, p = 2; break;
    case R_SUMSQUARE: alg = dnnl_reduction_norm_lp_power_p_sum, p = 2; break;
    case R_LOGSUMEXP: break; /* plain C above */
    }
    dnnl_reduction_desc_t desc;
    DNNL_CHECK(c, dnnl_reduction_desc_init(&desc, alg, &src, &dst, p, 0.0f));
    const ortc_dnnl_arg args[] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0), ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    return ortc_dnnl_prim_create(c, &s->prim, &desc, NULL, args, 2);
}

static ortc_status reduce_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(reduce_state), reduce_build, NULL);
}

static ortc_status reduce_run(ortc_opctx *c)
{
    reduce_state *s = c->state;
    if (!s || s->prim.use_ref ||
        (s->nan_check && ortc_f32_any_nan(c->in[0]->data, ortc_tensor_numel(c->in[0]))))
        return reduce_reference(c);
    ortc_status st = ortc_dnnl_prim_run(c, &s->prim);
    if (st || !s->log_after)
        return st;
    DNNL_CHECK(c, dnnl_stream_wait(ortc_dnnl_stream(c)));
    float *y = c->out[0]->data;
    for (int64_t i = 0, n = ortc_tensor_numel(c->out[0]); i < n; i++)
        y[i] = logf(y[i]);
    return ORTC_STATUS_OK;
}

/* ==== ArgMax / ArgMin ======================================================== */

typedef struct arg_geom {
    bool is_max, last;
    int64_t outer, len, inner; /* x as (outer, len, inner), reducing len */
    int out_rank;
    int64_t out_dims[ORTC_MAX_RANK];
} arg_geom;

static ortc_status arg_check(ortc_opctx *c, arg_geom *g)
{
    int version = ortc_op_version(c);
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "keepdims", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "select_last_index", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x = c->in[0];
    g->is_max = !strcmp(c->node->op_type, "ArgMax");
    int axis;
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis));
    g->last = version >= 12 && ortc_node_attr_int(c->node, "select_last_index", 0) != 0;
    bool keepdims = ortc_node_attr_int(c->node, "keepdims", 1) != 0;
    g->outer = g->inner = 1;
    g->len = x->dims[axis];
    g->out_rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (i < axis)
            g->outer *= x->dims[i];
        else if (i > axis)
            g->inner *= x->dims[i];
        if (i != axis)
            g->out_dims[g->out_rank++] = x->dims[i];
        else if (keepdims)
            g->out_dims[g->out_rank++] = 1;
    }
    if (g->len == 0 && g->outer * g->inner > 0) {
        char sx[128];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' has shape %s: %s over the empty axis %d has no answer",
                             ortc_plain_input_name(c, 0),
                             ortc_shape_str(sx, sizeof sx, x->rank, x->dims), c->node->op_type,
                             axis);
    }
    return ORTC_STATUS_OK;
}

/* Whether element i of x (dtype t; real: float or double, else an integer
 * dtype) replaces element b as the max (min): ties keep b unless `last`.
 * NaN wins over numbers for both, like numpy's argmax/argmin. */
static inline bool arg_takes(const void *x, ortc_dtype t, bool real, int64_t i, int64_t b,
                             const arg_geom *g)
{
    if (real) {
        double v = ortc_load_real(x, t, i), best = ortc_load_real(x, t, b);
        if (isnan(best))
            return g->last && isnan(v);
        if (isnan(v))
            return true;
        return (g->is_max ? v > best : v < best) || (g->last && v == best);
    }
    int64_t v = ortc_load_int(x, t, i), best = ortc_load_int(x, t, b);
    bool u64 = t == ORTC_DTYPE_UINT64;
    bool gt = u64 ? (uint64_t)v > (uint64_t)best : v > best;
    bool lt = u64 ? (uint64_t)v < (uint64_t)best : v < best;
    return (g->is_max ? gt : lt) || (g->last && v == best);
}

// x: (outer, len, inner); y: (outer, inner) indices along len of the max
// (min), as arg_takes decides.
static void argreduce_forward(int64_t *y, const void *x, ortc_dtype t, bool real, const arg_geom *g)
{
    for (int64_t o = 0; o < g->outer; o++)
        for (int64_t i = 0; i < g->inner; i++) {
            int64_t base = o * g->len * g->inner + i, best_k = 0;
            for (int64_t k = 1; k < g->len; k++)
                if (arg_takes(x, t, real, base + k * g->inner, base + best_k * g->inner, g))
                    best_k = k;
            y[o * g->inner + i] = best_k;
        }
}

static ortc_status arg_infer(ortc_opctx *c)
{
    arg_geom g;
    ORTC_TRY(arg_check(c, &g));
    ortc_op_set_output(c, 0, ORTC_DTYPE_INT64, g.out_rank, g.out_dims);
    return ORTC_STATUS_OK;
}

static ortc_status arg_run(ortc_opctx *c)
{
    arg_geom g;
    ORTC_TRY(arg_check(c, &g));
    const ortc_tensor *x = c->in[0];
    bool real;
    ORTC_TRY(kernel_for(c, ORTC_DTYPES_INT, &real));
    argreduce_forward(c->out[0]->data, x->data, x->dtype, real, &g);
    return ORTC_STATUS_OK;
}

/* ==== registration =========================================================== */

#define REDUCE_DTYPES                                                                              \
    (ORTC_DTYPES_FLOAT | ORTC_DT(INT32) | ORTC_DT(INT64) | ORTC_DT(UINT32) | ORTC_DT(UINT64))
#define REDUCE_CALLBACKS                                                                           \
    .backend = ORTC_BACKEND_ONEDNN, .infer = reduce_infer, .prepare = reduce_prepare,              \
    .run = reduce_run, .release = ortc_dnnl_prim_release, .reference = reduce_reference
#define ARG_CALLBACKS .infer = arg_infer, .run = arg_run

const ortc_operator ortc_ops_reduce[] = {
    ORTC_OP("ReduceSum", 1, 11, .versions = {1, 11}, .dtypes = REDUCE_DTYPES, REDUCE_CALLBACKS),
    /* axes became input 1 */
    ORTC_OP("ReduceSum", 13, 13, .dtypes = REDUCE_DTYPES, .data_inputs = 1u << 1, REDUCE_CALLBACKS),
    ORTC_OP("ReduceMean", 1, 13, .versions = {1, 11, 13}, .dtypes = REDUCE_DTYPES,
            REDUCE_CALLBACKS),
    /* ReduceMax and ReduceMin take int8 and uint8 from 12 */
    ORTC_OP("ReduceMax", 1, 11, .versions = {1, 11}, .dtypes = REDUCE_DTYPES, REDUCE_CALLBACKS),
    ORTC_OP("ReduceMax", 12, 13, .versions = {12, 13},
            .dtypes = REDUCE_DTYPES | ORTC_DT(INT8) | ORTC_DT(UINT8), REDUCE_CALLBACKS),
    ORTC_OP("ReduceMin", 1, 11, .versions = {1, 11}, .dtypes = REDUCE_DTYPES, REDUCE_CALLBACKS),
    ORTC_OP("ReduceMin", 12, 13, .versions = {12, 13},
            .dtypes = REDUCE_DTYPES | ORTC_DT(INT8) | ORTC_DT(UINT8), REDUCE_CALLBACKS),
    ORTC_OP("ReduceProd", 1, 13, .versions = {1, 11, 13}, .dtypes = REDUCE_DTYPES,
            REDUCE_CALLBACKS),
    ORTC_OP("ReduceL1", 1, 13, .versions = {1, 11, 13}, .dtypes = REDUCE_DTYPES, REDUCE_CALLBACKS),
    ORTC_OP("ReduceL2", 1, 13, .versions = {1, 11, 13}, .dtypes = REDUCE_DTYPES, REDUCE_CALLBACKS),
    ORTC_OP("ReduceLogSum", 1, 13, .versions = {1, 11, 13}, .dtypes = REDUCE_DTYPES,
            REDUCE_CALLBACKS),
    ORTC_OP("ReduceLogSumExp", 1, 13, .versions = {1, 11, 13}, .dtypes = REDUCE_DTYPES,
            REDUCE_CALLBACKS),
    ORTC_OP("ReduceSumSquare", 1, 13, .versions = {1, 11, 13}, .dtypes = REDUCE_DTYPES,
            REDUCE_CALLBACKS),
    ORTC_OP("ArgMax", 1, 13, .versions = {1, 11, 12, 13},
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT, ARG_CALLBACKS),
    ORTC_OP("ArgMin", 1, 13, .versions = {1, 11, 12, 13},
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT, ARG_CALLBACKS),
};
ORTC_OP_TABLE_END(reduce);
