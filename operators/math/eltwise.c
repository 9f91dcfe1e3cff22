/* eltwise.c — the unary and activation operators: Relu, LeakyRelu, PRelu,
 * Elu, Selu, Celu, ThresholdedRelu, Sigmoid, HardSigmoid, HardSwish, Tanh,
 * Softplus, Softsign, Shrink, Clip, Sqrt, Exp, Log, Abs, Neg, Reciprocal,
 * Floor, Ceil, Round, Sign, Erf, the trigonometric and hyperbolic functions,
 * IsNaN and IsInf, every ONNX 1.12 version. float32 runs on oneDNN's eltwise
 * (PRelu: prelu) primitive where one of its algorithms (or two in a row)
 * is the ONNX formula (the `defs` table); everything else — float64,
 * integers, Clip with bounds known only at run time, the ops oneDNN lacks —
 * runs the plain-C kernels of eltwise_ref.c, which are also the reference,
 * but float32 Erf, which runs this project's kernel (eltwise_fast.c).
 * Outputs may overwrite input 0. float16/bfloat16 are refused. Relu also
 * takes blocked layouts (a convolution's output): it keeps the layout, or
 * reorders into a plain output and applies itself there. Relu, LeakyRelu,
 * Elu, Sigmoid, Tanh, HardSigmoid and Clip also describe themselves as
 * fused post-ops (eltwise_post_op, operator.h's fusion contract).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "eltwise_fast.h"
#include "eltwise_ref.h"
#include "error.h"

/* ---- the ops ----------------------------------------------------------------
 * Adding an element-wise operator takes this file only: its formula (one
 * FORMULA line, in double), a row in `defs` (attributes with their
 * defaults, the oneDNN algorithm when one computes exactly the ONNX
 * formula, the post-op it can become when fused into a Conv/Gemm/MatMul),
 * and its registry row at the end. The plain-C kernels (eltwise_ref.c) are
 * loops over these formulas. Where ONNX writes max/min, NaN propagates
 * (numpy's maximum/minimum); where it writes a comparison (x > alpha ? ..)
 * the comparison decides, as in the formula. */

typedef enum eltwise_kind {
    KIND_UNARY, /* y = f(x), same dtype */
    KIND_CLIP,  /* bounds from attributes (< 11) or inputs 1, 2 */
    KIND_PRELU, /* y = x < 0 ? slope * x : x, slope broadcast onto x */
    KIND_ISNAN, /* bool output */
    KIND_ISINF
} eltwise_kind;

/* One oneDNN eltwise algorithm, optionally followed by a second one applied
 * in place on the output (oneDNN 2.6 runs eltwise post-ops only in its
 * reference implementation, which gives zeros for 1-D tensors; two jit
 * passes are correct and faster). */
typedef struct dnnl_plan {
    dnnl_alg_kind_t alg, then;
    float alpha, beta, then_alpha, then_beta;
} dnnl_plan;

typedef struct eltwise_def {
    const char *op_type;
    eltwise_kind kind;
    ortc_unary_fn f;      /* KIND_UNARY: the float formula */
    ortc_unary_s64_fn fs; /* signed integers, where the rows accept them */
    ortc_unary_u64_fn fu; /* unsigned integers (NULL: y = x) */
    /* attributes read into alpha, beta, gamma (NULL: none), their defaults */
    const char *attr[3];
    float def[3];
    /* oneDNN: alg(alpha, beta) computes the formula; or plan() builds a
     * two-algorithm plan; neither: plain C only */
    dnnl_alg_kind_t alg;
    void (*plan)(const ortc_unary_params *p, dnnl_plan *pl);
    /* the fused post-op it becomes (ORTC_POST_OP_* + 1; 0: none) */
    int post_op;
    /* float32 without a oneDNN plan: this project's kernel (eltwise_fast.h)
     * instead of the reference loop; NULL: the reference */
    ortc_fast_f32_fn fast;
} eltwise_def;

#define FORMULA(name, expr)                                                                        \
    static double f_##name(double x, const ortc_unary_params *p)                                   \
    {                                                                                              \
        const double alpha = p->alpha, beta = p->beta, gamma = p->gamma;                           \
        (void)alpha, (void)beta, (void)gamma;                                                      \
        return (expr);                                                                             \
    }

static double clamp01(double v)
{
    if (v < 0.0)
        return 0.0;
    if (v > 1.0)
        return 1.0;
    return v; /* NaN stays NaN */
}

/* max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) */
static double celu(double x, double alpha)
{
    if (isnan(x))
        return x;
    double neg = alpha * expm1(x / alpha);
    return (x > 0.0 ? x : 0.0) + (neg < 0.0 ? neg : 0.0);
}

FORMULA(relu, x < 0.0 ? 0.0 : x)
FORMULA(leaky_relu, x < 0.0 ? alpha * x : x)
FORMULA(elu, x < 0.0 ? alpha * expm1(x) : x)
FORMULA(selu, x <= 0.0 ? gamma * alpha * expm1(x) : gamma * x)
FORMULA(celu, celu(x, alpha))
FORMULA(thresholded_relu, x > alpha ? x : 0.0)
FORMULA(sigmoid, 1.0 / (1.0 + exp(-x)))
FORMULA(hard_sigmoid, clamp01(alpha *x + beta))
FORMULA(hard_swish, x *clamp01(x / 6.0 + 0.5))
FORMULA(tanh, tanh(x))
/* log(exp(x) + 1) without overflowing exp for large x */
FORMULA(softplus, x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x)))
FORMULA(softsign, x / (1.0 + fabs(x)))
FORMULA(shrink, x<-alpha ? x + beta : x> alpha ? x - beta : 0.0)
FORMULA(sqrt, sqrt(x))
FORMULA(exp, exp(x))
FORMULA(log, log(x))
FORMULA(abs, fabs(x))
FORMULA(neg, -x)
FORMULA(reciprocal, 1.0 / x)
FORMULA(floor, floor(x))
FORMULA(ceil, ceil(x))
FORMULA(round, nearbyint(x))                      /* default mode: to nearest, ties to even */
FORMULA(sign, x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : x) /* 0 and NaN kept */
FORMULA(sin, sin(x))
FORMULA(cos, cos(x))
FORMULA(tan, tan(x))
FORMULA(asin, asin(x))
FORMULA(acos, acos(x))
FORMULA(atan, atan(x))
FORMULA(sinh, sinh(x))
FORMULA(cosh, cosh(x))
FORMULA(asinh, asinh(x))
FORMULA(acosh, acosh(x))
FORMULA(atanh, atanh(x))
FORMULA(erf, erf(x))

/* Integers: Abs/Neg wrap (-INT64_MIN is INT64_MIN), Shrink is evaluated in
 * double and truncated toward zero; unsigned Abs is y = x. */
static int64_t s_abs(int64_t x, const ortc_unary_params *p)
{
    (void)p;
    return x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
}
static int64_t s_neg(int64_t x, const ortc_unary_params *p)
{
    (void)p;
    return (int64_t)(0 - (uint64_t)x);
}
static int64_t s_sign(int64_t x, const ortc_unary_params *p)
{
    (void)p;
    return (x > 0) - (x < 0);
}
static int64_t s_shrink(int64_t x, const ortc_unary_params *p)
{
    return ortc_trunc_i64(f_shrink((double)x, p));
}
static uint64_t u_neg(uint64_t x, const ortc_unary_params *p)
{
    (void)p;
    return 0 - x;
}
static uint64_t u_sign(uint64_t x, const ortc_unary_params *p)
{
    (void)p;
    return x != 0;
}
static uint64_t u_shrink(uint64_t x, const ortc_unary_params *p)
{
    return (uint64_t)ortc_trunc_i64(f_shrink((double)x, p));
}

/* oneDNN plans of two algorithms (checked against oneDNN 2.6's formulas):
 *   elu(alpha) then linear(gamma)          = Selu
 *   linear(alpha, beta) then clip_v2(0, 1) = HardSigmoid
 *   linear(-1, 0) = Neg; pow(1, -1) = Reciprocal */
static void plan_selu(const ortc_unary_params *p, dnnl_plan *pl)
{
    *pl = (dnnl_plan){dnnl_eltwise_elu, dnnl_eltwise_linear, p->alpha, 0.0f, p->gamma, 0.0f};
}
static void plan_hard_sigmoid(const ortc_unary_params *p, dnnl_plan *pl)
{
    *pl = (dnnl_plan){dnnl_eltwise_linear, dnnl_eltwise_clip_v2, p->alpha, p->beta, 0.0f, 1.0f};
}
static void plan_neg(const ortc_unary_params *p, dnnl_plan *pl)
{
    (void)p;
    *pl = (dnnl_plan){dnnl_eltwise_linear, dnnl_alg_kind_undef, -1.0f, 0.0f, 0.0f, 0.0f};
}
static void plan_reciprocal(const ortc_unary_params *p, dnnl_plan *pl)
{
    (void)p;
    *pl = (dnnl_plan){dnnl_eltwise_pow, dnnl_alg_kind_undef, 1.0f, -1.0f, 0.0f, 0.0f};
}

#define POST(k) (ORTC_POST_OP_##k + 1)
#define UNARY(name, formula, ...)                                                                  \
    {                                                                                              \
        .op_type = (name), .kind = KIND_UNARY, .f = (formula), __VA_ARGS__                         \
    }
#define ALPHA(name, d) .attr = {name}, .def = {d}

/* Selu-6's defaults; Selu-1's were rounded (selu_params). The dtypes each
 * op accepts are declared in its registry rows below. Known differences on
 * the oneDNN path: Relu, HardSigmoid and Clip map NaN to a number (0, 0,
 * min) and Exp maps NaN to +inf, where the formulas keep NaN; Exp flushes
 * subnormal results to 0. Not used: oneDNN's log (error up to 4e-5 relative
 * near 1, log(1) = -1.4e-6) and soft_relu (absolute error up to 2e-6,
 * negative for x < -15) miss ONNX's test tolerance. */
static const eltwise_def defs[] = {
    UNARY("Relu", f_relu, .alg = dnnl_eltwise_relu, .post_op = POST(RELU)),
    UNARY("LeakyRelu", f_leaky_relu, ALPHA("alpha", 0.01f), .alg = dnnl_eltwise_relu,
          .post_op = POST(LEAKY_RELU)),
    {.op_type = "PRelu", .kind = KIND_PRELU},
    UNARY("Elu", f_elu, ALPHA("alpha", 1.0f), .alg = dnnl_eltwise_elu, .post_op = POST(ELU)),
    UNARY("Selu", f_selu, .attr = {"alpha", NULL, "gamma"},
          .def = {1.67326319217681884765625f, 0.0f, 1.05070102214813232421875f}, .plan = plan_selu),
    UNARY("Celu", f_celu, ALPHA("alpha", 1.0f)),
    UNARY("ThresholdedRelu", f_thresholded_relu, ALPHA("alpha", 1.0f)),
    UNARY("Sigmoid", f_sigmoid, .alg = dnnl_eltwise_logistic, .post_op = POST(SIGMOID)),
    UNARY("HardSigmoid", f_hard_sigmoid, .attr = {"alpha", "beta"}, .def = {0.2f, 0.5f},
          .plan = plan_hard_sigmoid, .post_op = POST(HARD_SIGMOID)),
    UNARY("HardSwish", f_hard_swish, .alg = dnnl_eltwise_hardswish, .post_op = POST(HARD_SWISH)),
    UNARY("Tanh", f_tanh, .alg = dnnl_eltwise_tanh, .post_op = POST(TANH)),
    UNARY("Softplus", f_softplus),
    UNARY("Softsign", f_softsign),
    UNARY("Shrink", f_shrink, .fs = s_shrink, .fu = u_shrink, .attr = {"lambd", "bias"},
          .def = {0.5f, 0.0f}),
    {.op_type = "Clip", .kind = KIND_CLIP, .post_op = POST(CLIP)},
    UNARY("Sqrt", f_sqrt, .alg = dnnl_eltwise_sqrt),
    UNARY("Exp", f_exp, .alg = dnnl_eltwise_exp),
    UNARY("Log", f_log),
    UNARY("Abs", f_abs, .fs = s_abs, .alg = dnnl_eltwise_abs),
    UNARY("Neg", f_neg, .fs = s_neg, .fu = u_neg, .plan = plan_neg),
    UNARY("Reciprocal", f_reciprocal, .plan = plan_reciprocal),
    UNARY("Floor", f_floor),
    UNARY("Ceil", f_ceil),
    UNARY("Round", f_round, .alg = dnnl_eltwise_round),
    UNARY("Sign", f_sign, .fs = s_sign, .fu = u_sign),
    UNARY("Sin", f_sin),
    UNARY("Cos", f_cos),
    UNARY("Tan", f_tan),
    UNARY("Asin", f_asin),
    UNARY("Acos", f_acos),
    UNARY("Atan", f_atan),
    UNARY("Sinh", f_sinh),
    UNARY("Cosh", f_cosh),
    UNARY("Asinh", f_asinh),
    UNARY("Acosh", f_acosh),
    UNARY("Atanh", f_atanh),
    UNARY("Erf", f_erf, .fast = ortc_fast_erf_f32),
    {.op_type = "IsNaN", .kind = KIND_ISNAN},
    {.op_type = "IsInf", .kind = KIND_ISINF},
};

static const eltwise_def *def_of(const char *op_type)
{
    for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
        if (!strcmp(defs[i].op_type, op_type))
            return &defs[i];
    return NULL;
}

static ortc_status check_dtype(ortc_opctx *c, const eltwise_def *d)
{
    uint32_t allowed = ortc_op_dtypes(c);
    ortc_dtype t = c->in[0]->dtype;
    if (ortc_dtype_in(allowed, t))
        return ORTC_STATUS_OK;
    /* floating types, then signed and unsigned integers by width */
    static const ortc_dtype order[] = {
        ORTC_DTYPE_FLOAT,  ORTC_DTYPE_DOUBLE, ORTC_DTYPE_INT8,  ORTC_DTYPE_INT16,
        ORTC_DTYPE_INT32,  ORTC_DTYPE_INT64,  ORTC_DTYPE_UINT8, ORTC_DTYPE_UINT16,
        ORTC_DTYPE_UINT32, ORTC_DTYPE_UINT64,
    };
    char list[160] = "";
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (allowed & (1u << order[i])) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "",
                     ortc_dtype_name(order[i]));
        }
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "input '%s' has dtype %s; %s-%d supports %s",
                         c->node->inputs[0]->name, ortc_dtype_name(t), d->op_type,
                         ortc_op_version(c), list);
}

/* A checked node: its definition, dtype and attributes (Clip < 11: min
 * and max in p.alpha and p.beta). */
typedef struct eltwise_info {
    const eltwise_def *def;
    ortc_dtype dtype;
    ortc_unary_params p;
    bool detect_negative, detect_positive; /* IsInf */
    int bc_rank;                           /* PRelu: x's rank, and */
    int64_t slope_dims[ORTC_MAX_RANK];     /* the slope's dims aligned to it */
} eltwise_info;

static ortc_status float_attr(ortc_opctx *c, const char *name, float def, float *out)
{
    ORTC_TRY(ortc_op_check_attr(c, name, ORTC_ATTR_FLOAT));
    *out = ortc_node_attr_float(c->node, name, def);
    return ORTC_STATUS_OK;
}

static ortc_status read_params(ortc_opctx *c, eltwise_info *in)
{
    const eltwise_def *d = in->def;
    float *p[3] = {&in->p.alpha, &in->p.beta, &in->p.gamma};
    /* Selu-1's defaults were rounded; Selu-6 gives them in full */
    bool selu_v1 = d->f == f_selu && ortc_op_version(c) < 6;
    static const float selu_v1_def[3] = {1.6732f, 0.0f, 1.0507f};
    ortc_status st = ORTC_STATUS_OK;
    for (int k = 0; k < 3; k++) {
        *p[k] = 0.0f;
        if (d->attr[k] && !st)
            st = float_attr(c, d->attr[k], selu_v1 ? selu_v1_def[k] : d->def[k], p[k]);
    }
    return st;
}

static ortc_status check_scalar_bound(ortc_opctx *c, int i, const char *what)
{
    const ortc_tensor *t = i < c->n_in ? c->in[i] : NULL;
    if (!t)
        return ORTC_STATUS_OK;
    const char *name = c->node->inputs[i]->name;
    if (t->dtype != c->in[0]->dtype)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' (%s) has dtype %s; input '%s' has %s", name, what,
                             ortc_dtype_name(t->dtype), c->node->inputs[0]->name,
                             ortc_dtype_name(c->in[0]->dtype));
    if (ortc_tensor_numel(t) != 1) {
        char s[128];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' (%s) has shape %s; it must be a scalar", name, what,
                             ortc_shape_str(s, sizeof s, t->rank, t->dims));
    }
    return ORTC_STATUS_OK;
}

/* PRelu: slope broadcast unidirectionally onto x (numpy rules, slope's
 * dims right-aligned). Before opset 7 (PyTorch's exports at opset 6) a
 * 1-D slope of x's channel count applies along axis 1 instead. */
static ortc_status prelu_shapes(ortc_opctx *c, eltwise_info *in)
{
    const ortc_tensor *x = c->in[0], *s = c->in[1];
    char sx[128], ss[128];
    if (s->dtype != x->dtype)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "slope '%s' has dtype %s; X '%s' has %s",
                             c->node->inputs[1]->name, ortc_dtype_name(s->dtype),
                             c->node->inputs[0]->name, ortc_dtype_name(x->dtype));
    in->bc_rank = x->rank;
    for (int i = 0; i < x->rank; i++)
        in->slope_dims[i] = 1;
    if (ortc_op_version(c) < 7 && s->rank == 1 && x->rank >= 2 && s->dims[0] == x->dims[1] &&
        s->dims[0] != 1) {
        in->slope_dims[1] = s->dims[0];
        return ORTC_STATUS_OK;
    }
    bool ok = s->rank <= x->rank;
    for (int i = 0; ok && i < s->rank; i++) {
        int64_t ds = s->dims[i], dx = x->dims[x->rank - s->rank + i];
        ok = ds == dx || ds == 1;
        in->slope_dims[x->rank - s->rank + i] = ds;
    }
    if (!ok)
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "slope '%s' %s cannot be broadcast to X '%s' %s",
            c->node->inputs[1]->name, ortc_shape_str(ss, sizeof ss, s->rank, s->dims),
            c->node->inputs[0]->name, ortc_shape_str(sx, sizeof sx, x->rank, x->dims));
    return ORTC_STATUS_OK;
}

static ortc_status eltwise_check(ortc_opctx *c, eltwise_info *in)
{
    memset(in, 0, sizeof *in);
    in->def = def_of(c->node->op_type);
    if (!in->def)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "internal: %s is not an eltwise op",
                             c->node->op_type);
    const eltwise_def *d = in->def;
    int version = ortc_op_version(c);
    int max_in = d->kind == KIND_PRELU ? 2 : d->kind == KIND_CLIP && version >= 11 ? 3 : 1;
    int min_in = d->kind == KIND_PRELU ? 2 : 1;
    ORTC_TRY(ortc_op_check_arity(c, min_in, max_in, 1, 1));
    ORTC_TRY(check_dtype(c, d));
    in->dtype = c->in[0]->dtype;
    switch (d->kind) {
    case KIND_UNARY: return read_params(c, in);
    case KIND_CLIP:
        if (version < 11) {
            ORTC_TRY(float_attr(c, "min", -FLT_MAX, &in->p.alpha));
            ORTC_TRY(float_attr(c, "max", FLT_MAX, &in->p.beta));
            return ORTC_STATUS_OK;
        }
        ORTC_TRY(check_scalar_bound(c, 1, "min"));
        return check_scalar_bound(c, 2, "max");
    case KIND_PRELU: return prelu_shapes(c, in);
    case KIND_ISNAN: return ORTC_STATUS_OK;
    case KIND_ISINF:
        ORTC_TRY(ortc_op_check_attr(c, "detect_negative", ORTC_ATTR_INT));
        ORTC_TRY(ortc_op_check_attr(c, "detect_positive", ORTC_ATTR_INT));
        in->detect_negative = ortc_node_attr_int(c->node, "detect_negative", 1) != 0;
        in->detect_positive = ortc_node_attr_int(c->node, "detect_positive", 1) != 0;
        return ORTC_STATUS_OK;
    }
    return ORTC_STATUS_OK;
}

static ortc_status eltwise_infer(ortc_opctx *c)
{
    eltwise_info in;
    ORTC_TRY(eltwise_check(c, &in));
    bool to_bool = in.def->kind == KIND_ISNAN || in.def->kind == KIND_ISINF;
    ortc_op_set_output(c, 0, to_bool ? ORTC_DTYPE_BOOL : in.dtype, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

/* ---- plain C (the reference, and the fallback) ------------------------------ */

/* Clip's bounds as one element of x's dtype each (NULL: none). Before
 * opset 11 they are float attributes (default -+FLT_MAX); from 11 on,
 * optional scalar inputs whose absence means the dtype's lowest/max. */
typedef union clip_scalar {
    float f;
    double d;
} clip_scalar;

static void clip_bounds(ortc_opctx *c, const eltwise_info *in, clip_scalar *lo_buf,
                        clip_scalar *hi_buf, const void **lo, const void **hi)
{
    *lo = *hi = NULL;
    bool f64 = in->dtype == ORTC_DTYPE_DOUBLE, f32 = in->dtype == ORTC_DTYPE_FLOAT;
    if (ortc_op_version(c) < 11) {
        if (f64) {
            lo_buf->d = in->p.alpha;
            hi_buf->d = in->p.beta;
        } else {
            lo_buf->f = in->p.alpha;
            hi_buf->f = in->p.beta;
        }
        *lo = lo_buf;
        *hi = hi_buf;
        return;
    }
    if (c->n_in > 1 && c->in[1])
        *lo = c->in[1]->data;
    else if (f32 || f64) {
        if (f64)
            lo_buf->d = -DBL_MAX;
        else
            lo_buf->f = -FLT_MAX;
        *lo = lo_buf;
    }
    if (c->n_in > 2 && c->in[2])
        *hi = c->in[2]->data;
    else if (f32 || f64) {
        if (f64)
            hi_buf->d = DBL_MAX;
        else
            hi_buf->f = FLT_MAX;
        *hi = hi_buf;
    }
}

static ortc_status eltwise_reference(ortc_opctx *c)
{
    eltwise_info in;
    ORTC_TRY(eltwise_check(c, &in));
    const void *x = c->in[0]->data;
    void *y = c->out[0]->data;
    int64_t n = ortc_tensor_numel(c->in[0]);
    switch (in.def->kind) {
    case KIND_UNARY:
        if (in.dtype == ORTC_DTYPE_FLOAT)
            ortc_ref_unary_f32(y, x, n, in.def->f, &in.p);
        else if (in.dtype == ORTC_DTYPE_DOUBLE)
            ortc_ref_unary_f64(y, x, n, in.def->f, &in.p);
        else
            ortc_ref_unary_int(y, x, n, in.dtype, in.def->fs, in.def->fu, &in.p);
        break;
    case KIND_CLIP: {
        clip_scalar lo_buf, hi_buf;
        const void *lo, *hi;
        clip_bounds(c, &in, &lo_buf, &hi_buf, &lo, &hi);
        ortc_ref_clip(y, x, n, in.dtype, lo, hi);
        break;
    }
    case KIND_PRELU: {
        ortc_bcast bc;
        ortc_bcast_init(&bc, in.bc_rank, c->in[0]->dims, in.bc_rank, c->in[0]->dims, in.bc_rank,
                        in.slope_dims);
        ortc_ref_prelu(y, x, c->in[1]->data, in.dtype, &bc);
        break;
    }
    case KIND_ISNAN: ortc_ref_isnan(y, x, n, in.dtype); break;
    case KIND_ISINF:
        ortc_ref_isinf(y, x, n, in.dtype, in.detect_negative, in.detect_positive);
        break;
    }
    return ORTC_STATUS_OK;
}

/* ---- oneDNN ------------------------------------------------------------------ */

/* The oneDNN plan computing unary op d as ONNX defines it (up to float
 * rounding; each was checked against oneDNN 2.6's formulas and, in the unit
 * tests, against the formula on random and special inputs); false when
 * oneDNN 2.6 has none. */
static bool dnnl_plan_for(const eltwise_def *d, const ortc_unary_params *p, dnnl_plan *pl)
{
    *pl = (dnnl_plan){dnnl_alg_kind_undef, dnnl_alg_kind_undef, 0.0f, 0.0f, 0.0f, 0.0f};
    if (d->plan)
        d->plan(p, pl);
    else if (d->alg != dnnl_alg_kind_undef)
        *pl = (dnnl_plan){d->alg, dnnl_alg_kind_undef, p->alpha, p->beta, 0.0f, 0.0f};
    return pl->alg != dnnl_alg_kind_undef;
}

typedef struct eltwise_state {
    ortc_dnnl_prim prim; /* x -> y; use_ref: the plain-C kernel at run */
    ortc_dnnl_prim then; /* y -> y, when the plan has a second algorithm */
    /* Relu on a blocked x whose output must be plain: x reordered into y,
     * then y = f(y) */
    bool to_plain;
    ortc_dnnl_reorder reorder;
    ortc_fast_f32_fn fast; /* set: this kernel instead of prim (eltwise_def.fast) */
} eltwise_state;

static void eltwise_release(ortc_opctx *c)
{
    eltwise_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_prim_free(&s->prim);
    ortc_dnnl_prim_free(&s->then);
    ortc_dnnl_reorder_free(&s->reorder);
    free(s);
    c->state = NULL;
}

/* Clip on oneDNN needs both bounds at prepare time (attributes, absent
 * inputs, or constant inputs) and min <= max: oneDNN's clip with min > max
 * is not numpy's (which gives max everywhere). */
static bool clip_plan(ortc_opctx *c, const eltwise_info *in, dnnl_plan *pl)
{
    clip_scalar lo_buf, hi_buf;
    const void *lo, *hi;
    clip_bounds(c, in, &lo_buf, &hi_buf, &lo, &hi);
    if (!lo || !hi)
        return false; /* a bound only known at run time */
    float l = *(const float *)lo, h = *(const float *)hi;
    if (!(l <= h))
        return false;
    memset(pl, 0, sizeof *pl);
    pl->alg = dnnl_eltwise_clip_v2;
    pl->alpha = l;
    pl->beta = h;
    pl->then = dnnl_alg_kind_undef;
    return true;
}

static ortc_status build_prelu(ortc_opctx *c, eltwise_state *s, const eltwise_info *in)
{
    /* x keeps its shape; the slope is described with x's rank */
    const ortc_tensor *x = c->in[0];
    dnnl_memory_desc_t md, wmd;
    ORTC_TRY(ortc_dnnl_md_plain(c, &md, x->rank, x->dims));
    ORTC_TRY(ortc_dnnl_md_plain(c, &wmd, in->bc_rank, in->slope_dims));
    dnnl_prelu_desc_t desc;
    DNNL_CHECK(c, dnnl_prelu_forward_desc_init(&desc, dnnl_forward_inference, &md, &wmd));
    const ortc_dnnl_arg args[] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0), ORTC_DNNL_IN(DNNL_ARG_WEIGHTS, 1),
                                  ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    return ortc_dnnl_prim_create(c, &s->prim, &desc, NULL, args, 3);
}

/* The plan's primitives over md (the tensor as 1-D, or its blocked
 * layout); x is read from the output itself after the to_plain reorder.
 * Where oneDNN lacks either algorithm the whole node runs plain C. */
static ortc_status build_unary(ortc_opctx *c, eltwise_state *s, const dnnl_plan *pl,
                               const dnnl_memory_desc_t *md)
{
    dnnl_eltwise_desc_t desc, then_desc;
    DNNL_CHECK(c, dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, pl->alg, md,
                                                 pl->alpha, pl->beta));
    dnnl_primitive_desc_t pd = NULL, then_pd = NULL;
    bool unimpl = false, then_unimpl = false;
    ortc_status st = ortc_dnnl_pd_create(c, &pd, &desc, NULL, &unimpl);
    if (!st && !unimpl && pl->then != dnnl_alg_kind_undef) {
        dnnl_status_t ds = dnnl_eltwise_forward_desc_init(
            &then_desc, dnnl_forward_inference, pl->then, md, pl->then_alpha, pl->then_beta);
        st = ds != dnnl_success
                 ? ortc_dnnl_error(c, ds, "dnnl_eltwise_forward_desc_init(second algorithm)",
                                   __FILE__, __LINE__)
                 : ortc_dnnl_pd_create(c, &then_pd, &then_desc, NULL, &then_unimpl);
    }
    s->prim.use_ref = unimpl || then_unimpl;
    const ortc_dnnl_arg args[] = {s->to_plain ? ORTC_DNNL_OUT(DNNL_ARG_SRC, 0)
                                              : ORTC_DNNL_IN(DNNL_ARG_SRC, 0),
                                  ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    const ortc_dnnl_arg then_args[] = {ORTC_DNNL_OUT(DNNL_ARG_SRC, 0),
                                       ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    if (!st && !s->prim.use_ref)
        st = ortc_dnnl_prim_bind(c, &s->prim, pd, args, 2);
    if (!st && then_pd)
        st = ortc_dnnl_prim_bind(c, &s->then, then_pd, then_args, 2);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (then_pd)
        dnnl_primitive_desc_destroy(then_pd);
    return st;
}

/* Relu on a blocked x: in its layout when the output may stay blocked;
 * otherwise x is reordered into the plain output, which then gets the
 * 1-D primitive in place (no in-place over x: the layouts differ). */
static ortc_status build_blocked(ortc_opctx *c, eltwise_state *s, const dnnl_plan *pl, int64_t n)
{
    dnnl_memory_desc_t md, plain;
    ORTC_TRY(ortc_dnnl_md_input(c, 0, &md));
    if (ortc_dnnl_out_blocked_ok(c, 0))
        return build_unary(c, s, pl, &md);
    s->to_plain = true;
    ortc_status st;
    if ((st = ortc_dnnl_md_plain(c, &plain, 1, &n)) || (st = build_unary(c, s, pl, &plain)) ||
        s->prim.use_ref)
        return st;
    c->inplace[0] = -1;
    ORTC_TRY(ortc_dnnl_md_plain(c, &plain, c->in[0]->rank, c->in[0]->dims));
    return ortc_dnnl_reorder_init(c, &s->reorder, &md, &plain, 0);
}

/* The slope is one value or one per channel (dim 1). */
static bool prelu_per_channel(const eltwise_info *in)
{
    for (int i = 0; i < in->bc_rank; i++)
        if (i != 1 && in->slope_dims[i] != 1)
            return false;
    return true;
}

static ortc_status eltwise_build(ortc_opctx *c, void *state)
{
    eltwise_state *s = state;
    eltwise_info in;
    ORTC_TRY(eltwise_check(c, &in));
    ortc_status st = ORTC_STATUS_OK;
    const eltwise_kind kind = in.def->kind;
    const bool blocked = ortc_dnnl_in_blocked(c, 0);
    /* y[i] depends on x[i] alone: y may overwrite x. Not a PRelu whose slope
     * varies along more than the channel axis: oneDNN's prelu kernel for such
     * slopes, on 2 threads, reads elements another thread already wrote, so
     * in place it applied the slope twice
     * (tests/fuzz/regressions/graphs/ref-mismatch-Concat-Conv-PRelu-s167397). */
    if (c->inplace && kind != KIND_ISNAN && kind != KIND_ISINF &&
        (kind != KIND_PRELU || prelu_per_channel(&in)))
        c->inplace[0] = 0;
    int64_t n = ortc_tensor_numel(c->in[0]);
    dnnl_plan pl;
    bool planned = false;
    if (in.dtype == ORTC_DTYPE_FLOAT && n > 0) {
        if (kind == KIND_UNARY)
            planned = dnnl_plan_for(in.def, &in.p, &pl);
        else if (kind == KIND_CLIP)
            planned = clip_plan(c, &in, &pl);
        else if (kind == KIND_PRELU && c->in[0]->rank <= 5)
            return build_prelu(c, s, &in); /* oneDNN's prelu: up to 5-D */
    }
    dnnl_memory_desc_t md;
    if (planned && blocked)
        st = build_blocked(c, s, &pl, n);
    else if (planned && !(st = ortc_dnnl_md_plain(c, &md, 1, &n)))
        st = build_unary(c, s, &pl, &md);
    if (st || (planned && !s->prim.use_ref))
        return st;
    if (!planned && kind == KIND_UNARY && in.def->fast && in.dtype == ORTC_DTYPE_FLOAT && n > 0 &&
        !blocked) {
        s->fast = in.def->fast;
        c->impl = "ortc:fast_f32";
        return ORTC_STATUS_OK;
    }
    /* plain C; a blocked x gets a plain copy (the output stays plain) */
    if (c->inplace && blocked)
        c->inplace[0] = -1;
    return ortc_dnnl_prim_use_ref(c, &s->prim);
}

static ortc_status eltwise_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(eltwise_state), eltwise_build, eltwise_release);
}

static ortc_status eltwise_run(ortc_opctx *c)
{
    eltwise_state *s = c->state;
    if (s && s->fast) {
        s->fast(c->out[0]->data, c->in[0]->data, ortc_tensor_numel(c->in[0]),
                c->backend ? c->backend->threads : 1);
        return ORTC_STATUS_OK;
    }
    if (!s || s->prim.use_ref)
        return ortc_dnnl_prim_fallback(c, s ? &s->prim : NULL, eltwise_reference);
    ortc_status st;
    if (s->to_plain &&
        (st = ortc_dnnl_reorder_run(c, &s->reorder, c->in[0]->data, c->out[0]->data)))
        return st;
    if ((st = ortc_dnnl_prim_run(c, &s->prim)) || !s->then.step.prim)
        return st;
    return ortc_dnnl_prim_run(c, &s->then);
}

/* ---- as a fused post-op (operator.h's fusion contract) ------------------------ */

/* Error unless every attribute of the node is one of the listed ones (a
 * post-op carries those and would drop any other). */
static ortc_status only_attrs(ortc_opctx *c, const char *a, const char *b)
{
    for (int i = 0; i < c->node->n_attrs; i++) {
        const char *name = c->node->attrs[i].name;
        if (!(a && !strcmp(name, a)) && !(b && !strcmp(name, b)))
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "attribute '%s' has no post-op form",
                                 name);
    }
    return ORTC_STATUS_OK;
}

/* Relu, LeakyRelu, Elu, Sigmoid, Tanh, HardSigmoid and Clip (bounds known
 * now, min <= max) on float32, each with the parameters eltwise_check
 * reads (its defaults included). */
static ortc_status eltwise_post_op(ortc_opctx *c, int input, ortc_post_op *po)
{
    const eltwise_def *d = def_of(c->node->op_type);
    bool clip = d && d->kind == KIND_CLIP, clip11 = clip && ortc_op_version(c) >= 11;
    eltwise_info in;
    /* one input slot (Clip-11: up to three), as the fusion pass always took */
    if (!d || input != 0 || (d->kind != KIND_UNARY && !clip) || c->n_in > (clip11 ? 3 : 1))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "no post-op form");
    ORTC_TRY(eltwise_check(c, &in));
    if (in.dtype != ORTC_DTYPE_FLOAT)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "post-ops are float32");
    *po = (ortc_post_op){.alpha = in.p.alpha, .beta = in.p.beta};
    if (clip) {
        dnnl_plan pl;
        if (!clip_plan(c, &in, &pl)) /* a bound known only at run, or min > max */
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "Clip's bounds have no post-op form");
        *po = (ortc_post_op){ORTC_POST_OP_CLIP, pl.alpha, pl.beta};
        return clip11 ? only_attrs(c, NULL, NULL) : only_attrs(c, "min", "max");
    }
    if (!d->post_op)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "no post-op form");
    po->kind = (ortc_post_op_kind)(d->post_op - 1);
    return only_attrs(c, d->attr[0], d->attr[1]);
}

ortc_unary_fn ortc_eltwise_post_op_formula(ortc_post_op_kind kind)
{
    for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
        if (defs[i].post_op == (int)kind + 1 && defs[i].kind == KIND_UNARY)
            return defs[i].f;
    return NULL;
}

/* ---- registration --------------------------------------------------------------
 * oneDNN rows: float32 may run on oneDNN, so the op has a separate reference.
 * Plain-C rows: run is already the plain-C kernel. Rows split where the
 * accepted dtypes change (integers from PRelu-9, Clip-12, Abs-6, Neg-6).
 * Relu-14 allows int8..int64 and Erf integers; they are not implemented. */

#define ELTWISE_CALLBACKS                                                                          \
    .infer = eltwise_infer, .prepare = eltwise_prepare, .run = eltwise_run,                        \
    .release = eltwise_release
#define ELTWISE_ONEDNN                                                                             \
    .backend = ORTC_BACKEND_ONEDNN, .reference = eltwise_reference, .post_op = eltwise_post_op
/* a plain-C row of one version, floats only, in place */
#define FLOAT_UNARY(name, version)                                                                 \
    ORTC_OP(name, version, version, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,     \
            ELTWISE_CALLBACKS)

const ortc_operator ortc_ops_eltwise[] = {
    ORTC_OP("Relu", 1, 14, .versions = {1, 6, 13, 14}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_ACCEPTS_BLOCKED | ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("LeakyRelu", 1, 16, .versions = {1, 6, 16}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("PRelu", 1, 7, .versions = {1, 6, 7}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("PRelu", 9, 16, .versions = {9, 16}, ELTWISE_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(INT32) | ORTC_DT(INT64) | ORTC_DT(UINT32) |
                      ORTC_DT(UINT64),
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Elu", 1, 6, .versions = {1, 6}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Selu", 1, 6, .versions = {1, 6}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Sigmoid", 1, 13, .versions = {1, 6, 13}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("HardSigmoid", 1, 6, .versions = {1, 6}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("HardSwish", 14, 14, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Tanh", 1, 13, .versions = {1, 6, 13}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Clip", 1, 11, .versions = {1, 6, 11}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Clip", 12, 13, .versions = {12, 13}, ELTWISE_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Sqrt", 1, 13, .versions = {1, 6, 13}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Exp", 1, 13, .versions = {1, 6, 13}, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Abs", 1, 1, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Abs", 6, 13, .versions = {6, 13}, ELTWISE_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Neg", 1, 1, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Neg", 6, 13, .versions = {6, 13}, ELTWISE_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_SIGNED, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Reciprocal", 1, 13, .versions = {1, 6, 13}, ELTWISE_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Round", 11, 11, ELTWISE_ONEDNN, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    /* plain C */
    ORTC_OP("Log", 1, 13, .versions = {1, 6, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    FLOAT_UNARY("Softplus", 1),
    ORTC_OP("Floor", 1, 13, .versions = {1, 6, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Ceil", 1, 13, .versions = {1, 6, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Celu", 12, 12, .dtypes = ORTC_DT(FLOAT), .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    FLOAT_UNARY("ThresholdedRelu", 10),
    FLOAT_UNARY("Softsign", 1),
    ORTC_OP("Shrink", 9, 9, .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Sign", 9, 13, .versions = {9, 13}, .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Erf", 9, 13, .versions = {9, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    FLOAT_UNARY("Sin", 7),
    FLOAT_UNARY("Cos", 7),
    FLOAT_UNARY("Tan", 7),
    FLOAT_UNARY("Asin", 7),
    FLOAT_UNARY("Acos", 7),
    FLOAT_UNARY("Atan", 7),
    FLOAT_UNARY("Sinh", 9),
    FLOAT_UNARY("Cosh", 9),
    FLOAT_UNARY("Asinh", 9),
    FLOAT_UNARY("Acosh", 9),
    FLOAT_UNARY("Atanh", 9),
    /* bool output: never in place */
    ORTC_OP("IsNaN", 9, 13, .versions = {9, 13}, .dtypes = ORTC_DTYPES_FLOAT, ELTWISE_CALLBACKS),
    ORTC_OP("IsInf", 10, 10, .dtypes = ORTC_DTYPES_FLOAT, ELTWISE_CALLBACKS),
};
ORTC_OP_TABLE_END(eltwise);
