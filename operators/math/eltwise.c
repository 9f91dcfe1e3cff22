/* eltwise.c — the unary and activation operators: Relu, LeakyRelu, PRelu,
 * Elu, Selu, Celu, ThresholdedRelu, Sigmoid, HardSigmoid, HardSwish, Tanh,
 * Softplus, Softsign, Shrink, Clip, Sqrt, Exp, Log, Abs, Neg, Reciprocal,
 * Floor, Ceil, Round, Sign, Erf, the trigonometric and hyperbolic functions,
 * IsNaN and IsInf, every ONNX 1.12 version. float32 runs on oneDNN's eltwise
 * (PRelu: prelu) primitive where one of its algorithms (or two in a row)
 * is the ONNX formula (dnnl_plan_for below); everything else — float64,
 * integers, Clip with bounds known only at run time, the ops oneDNN lacks —
 * runs the plain-C kernels of eltwise_ref.c, which are also the reference.
 * Outputs may overwrite input 0. float16/bfloat16 are refused. Relu also
 * takes blocked layouts (a convolution's output): it keeps the layout, or
 * reorders into a plain output and applies itself there. Relu, LeakyRelu,
 * Elu, Sigmoid, Tanh, HardSigmoid and Clip also describe themselves as
 * fused post-ops (eltwise_post_op, operator.h's fusion contract).
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "eltwise_ref.h"

/* ---- the ops -------------------------------------------------------------- */

typedef enum eltwise_kind {
    KIND_UNARY, /* y = f(x), same dtype */
    KIND_CLIP,  /* bounds from attributes (< 11) or inputs 1, 2 */
    KIND_PRELU, /* y = x < 0 ? slope * x : x, slope broadcast onto x */
    KIND_ISNAN, /* bool output */
    KIND_ISINF
} eltwise_kind;

typedef struct eltwise_def {
    const char *op_type;
    eltwise_kind kind;
    ortc_unary_op op;
} eltwise_def;

/* The dtypes each op accepts are declared in its registry rows below. */
static const eltwise_def defs[] = {
    {"Relu", KIND_UNARY, ORTC_UNARY_RELU},
    {"LeakyRelu", KIND_UNARY, ORTC_UNARY_LEAKY_RELU},
    {"PRelu", KIND_PRELU, ORTC_UNARY_RELU},
    {"Elu", KIND_UNARY, ORTC_UNARY_ELU},
    {"Selu", KIND_UNARY, ORTC_UNARY_SELU},
    {"Celu", KIND_UNARY, ORTC_UNARY_CELU},
    {"ThresholdedRelu", KIND_UNARY, ORTC_UNARY_THRESHOLDED_RELU},
    {"Sigmoid", KIND_UNARY, ORTC_UNARY_SIGMOID},
    {"HardSigmoid", KIND_UNARY, ORTC_UNARY_HARD_SIGMOID},
    {"HardSwish", KIND_UNARY, ORTC_UNARY_HARD_SWISH},
    {"Tanh", KIND_UNARY, ORTC_UNARY_TANH},
    {"Softplus", KIND_UNARY, ORTC_UNARY_SOFTPLUS},
    {"Softsign", KIND_UNARY, ORTC_UNARY_SOFTSIGN},
    {"Shrink", KIND_UNARY, ORTC_UNARY_SHRINK},
    {"Clip", KIND_CLIP, ORTC_UNARY_RELU},
    {"Sqrt", KIND_UNARY, ORTC_UNARY_SQRT},
    {"Exp", KIND_UNARY, ORTC_UNARY_EXP},
    {"Log", KIND_UNARY, ORTC_UNARY_LOG},
    {"Abs", KIND_UNARY, ORTC_UNARY_ABS},
    {"Neg", KIND_UNARY, ORTC_UNARY_NEG},
    {"Reciprocal", KIND_UNARY, ORTC_UNARY_RECIPROCAL},
    {"Floor", KIND_UNARY, ORTC_UNARY_FLOOR},
    {"Ceil", KIND_UNARY, ORTC_UNARY_CEIL},
    {"Round", KIND_UNARY, ORTC_UNARY_ROUND},
    {"Sign", KIND_UNARY, ORTC_UNARY_SIGN},
    {"Sin", KIND_UNARY, ORTC_UNARY_SIN},
    {"Cos", KIND_UNARY, ORTC_UNARY_COS},
    {"Tan", KIND_UNARY, ORTC_UNARY_TAN},
    {"Asin", KIND_UNARY, ORTC_UNARY_ASIN},
    {"Acos", KIND_UNARY, ORTC_UNARY_ACOS},
    {"Atan", KIND_UNARY, ORTC_UNARY_ATAN},
    {"Sinh", KIND_UNARY, ORTC_UNARY_SINH},
    {"Cosh", KIND_UNARY, ORTC_UNARY_COSH},
    {"Asinh", KIND_UNARY, ORTC_UNARY_ASINH},
    {"Acosh", KIND_UNARY, ORTC_UNARY_ACOSH},
    {"Atanh", KIND_UNARY, ORTC_UNARY_ATANH},
    {"Erf", KIND_UNARY, ORTC_UNARY_ERF},
    {"IsNaN", KIND_ISNAN, ORTC_UNARY_RELU},
    {"IsInf", KIND_ISINF, ORTC_UNARY_RELU},
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
    ortc_status st = ortc_op_check_attr(c, name, ORTC_ATTR_FLOAT);
    if (st)
        return st;
    *out = ortc_node_attr_float(c->node, name, def);
    return ORTC_STATUS_OK;
}

static ortc_status read_params(ortc_opctx *c, eltwise_info *in)
{
    ortc_unary_params *p = &in->p;
    ortc_status st = ORTC_STATUS_OK;
    p->alpha = p->beta = p->gamma = 0.0f;
    switch (in->def->op) {
    case ORTC_UNARY_LEAKY_RELU: st = float_attr(c, "alpha", 0.01f, &p->alpha); break;
    case ORTC_UNARY_ELU:
    case ORTC_UNARY_CELU:
    case ORTC_UNARY_THRESHOLDED_RELU: st = float_attr(c, "alpha", 1.0f, &p->alpha); break;
    case ORTC_UNARY_SELU: {
        /* Selu-1's defaults were rounded; Selu-6 gives them in full. */
        bool v1 = ortc_op_version(c) < 6;
        if (!(st = float_attr(c, "alpha", v1 ? 1.6732f : 1.67326319217681884765625f, &p->alpha)))
            st = float_attr(c, "gamma", v1 ? 1.0507f : 1.05070102214813232421875f, &p->gamma);
        break;
    }
    case ORTC_UNARY_HARD_SIGMOID:
        if (!(st = float_attr(c, "alpha", 0.2f, &p->alpha)))
            st = float_attr(c, "beta", 0.5f, &p->beta);
        break;
    case ORTC_UNARY_SHRINK:
        if (!(st = float_attr(c, "lambd", 0.5f, &p->alpha)))
            st = float_attr(c, "bias", 0.0f, &p->beta);
        break;
    default: break;
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
    ortc_status st;
    int max_in = d->kind == KIND_PRELU ? 2 : d->kind == KIND_CLIP && version >= 11 ? 3 : 1;
    int min_in = d->kind == KIND_PRELU ? 2 : 1;
    if ((st = ortc_op_check_arity(c, min_in, max_in, 1, 1)) || (st = check_dtype(c, d)))
        return st;
    in->dtype = c->in[0]->dtype;
    switch (d->kind) {
    case KIND_UNARY: return read_params(c, in);
    case KIND_CLIP:
        if (version < 11) {
            if ((st = float_attr(c, "min", -FLT_MAX, &in->p.alpha)) ||
                (st = float_attr(c, "max", FLT_MAX, &in->p.beta)))
                return st;
            return ORTC_STATUS_OK;
        }
        if ((st = check_scalar_bound(c, 1, "min")))
            return st;
        return check_scalar_bound(c, 2, "max");
    case KIND_PRELU: return prelu_shapes(c, in);
    case KIND_ISNAN: return ORTC_STATUS_OK;
    case KIND_ISINF:
        if ((st = ortc_op_check_attr(c, "detect_negative", ORTC_ATTR_INT)) ||
            (st = ortc_op_check_attr(c, "detect_positive", ORTC_ATTR_INT)))
            return st;
        in->detect_negative = ortc_node_attr_int(c->node, "detect_negative", 1) != 0;
        in->detect_positive = ortc_node_attr_int(c->node, "detect_positive", 1) != 0;
        return ORTC_STATUS_OK;
    }
    return ORTC_STATUS_OK;
}

static ortc_status eltwise_infer(ortc_opctx *c)
{
    eltwise_info in;
    ortc_status st = eltwise_check(c, &in);
    if (st)
        return st;
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
    ortc_status st = eltwise_check(c, &in);
    if (st)
        return st;
    const void *x = c->in[0]->data;
    void *y = c->out[0]->data;
    int64_t n = ortc_tensor_numel(c->in[0]);
    switch (in.def->kind) {
    case KIND_UNARY:
        if (in.dtype == ORTC_DTYPE_FLOAT)
            ortc_ref_unary_f32(y, x, n, in.def->op, &in.p);
        else if (in.dtype == ORTC_DTYPE_DOUBLE)
            ortc_ref_unary_f64(y, x, n, in.def->op, &in.p);
        else
            ortc_ref_unary_int(y, x, n, in.dtype, in.def->op, &in.p);
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

/* One eltwise algorithm, optionally followed by a second one applied in
 * place on the output (oneDNN 2.6 runs eltwise post-ops only in its
 * reference implementation, which gives zeros for 1-D tensors; two jit
 * passes are correct and faster). */
typedef struct dnnl_plan {
    dnnl_alg_kind_t alg, then;
    float alpha, beta, then_alpha, then_beta;
} dnnl_plan;

/* The oneDNN algorithm that computes `op` as ONNX defines it (up to float
 * rounding); false when there is none. Each was checked against oneDNN
 * 2.6's formulas and, in the unit tests, against the reference on random
 * and special inputs:
 *   relu(alpha): x > 0 ? x : alpha * x         = Relu (0), LeakyRelu (alpha)
 *   elu(alpha):  x > 0 ? x : alpha (e^x - 1)   = Elu; then linear(gamma) = Selu
 *   linear(alpha, beta) then clip_v2(0, 1)     = HardSigmoid
 *   hardswish:   x * min(max(x + 3, 0), 6) / 6 = x * max(0, min(1, x/6 + 1/2))
 *   linear(-1, 0) = Neg; pow(1, -1) = Reciprocal; round = nearest, ties to even
 * Known differences on the oneDNN path: Relu, HardSigmoid and Clip map NaN
 * to a number (0, 0, min) and Exp maps NaN to +inf, where the reference
 * keeps NaN; Exp flushes subnormal results to 0.
 * Not used: log (error up to 4e-5 relative near 1, log(1) = -1.4e-6) and
 * soft_relu (absolute error up to 2e-6, negative for x < -15) miss ONNX's
 * test tolerance, so Log and Softplus run plain C. Celu, ThresholdedRelu,
 * Softsign, Shrink, Floor, Ceil, Sign, Erf and the trigonometric functions
 * have no oneDNN 2.6 algorithm. */
static bool dnnl_plan_for(ortc_unary_op op, const ortc_unary_params *p, dnnl_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->then = dnnl_alg_kind_undef;
    switch (op) {
    case ORTC_UNARY_RELU: pl->alg = dnnl_eltwise_relu; break;
    case ORTC_UNARY_LEAKY_RELU:
        pl->alg = dnnl_eltwise_relu;
        pl->alpha = p->alpha;
        break;
    case ORTC_UNARY_ELU:
        pl->alg = dnnl_eltwise_elu;
        pl->alpha = p->alpha;
        break;
    case ORTC_UNARY_SELU:
        pl->alg = dnnl_eltwise_elu;
        pl->alpha = p->alpha;
        pl->then = dnnl_eltwise_linear;
        pl->then_alpha = p->gamma;
        break;
    case ORTC_UNARY_SIGMOID: pl->alg = dnnl_eltwise_logistic; break;
    case ORTC_UNARY_HARD_SIGMOID:
        pl->alg = dnnl_eltwise_linear;
        pl->alpha = p->alpha;
        pl->beta = p->beta;
        pl->then = dnnl_eltwise_clip_v2;
        pl->then_beta = 1.0f;
        break;
    case ORTC_UNARY_HARD_SWISH: pl->alg = dnnl_eltwise_hardswish; break;
    case ORTC_UNARY_TANH: pl->alg = dnnl_eltwise_tanh; break;
    case ORTC_UNARY_SQRT: pl->alg = dnnl_eltwise_sqrt; break;
    case ORTC_UNARY_EXP: pl->alg = dnnl_eltwise_exp; break;
    case ORTC_UNARY_ABS: pl->alg = dnnl_eltwise_abs; break;
    case ORTC_UNARY_NEG:
        pl->alg = dnnl_eltwise_linear;
        pl->alpha = -1.0f;
        break;
    case ORTC_UNARY_RECIPROCAL:
        pl->alg = dnnl_eltwise_pow;
        pl->alpha = 1.0f;
        pl->beta = -1.0f;
        break;
    case ORTC_UNARY_ROUND: pl->alg = dnnl_eltwise_round; break;
    default: return false;
    }
    return true;
}

typedef struct eltwise_state {
    ortc_dnnl_prim prim; /* x -> y; use_ref: the plain-C kernel at run */
    ortc_dnnl_prim then; /* y -> y, when the plan has a second algorithm */
    /* Relu on a blocked x whose output must be plain: x reordered into y,
     * then y = f(y) */
    bool to_plain;
    ortc_dnnl_reorder reorder;
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
    ortc_status st;
    if ((st = ortc_dnnl_md_plain(c, &md, x->rank, x->dims)) ||
        (st = ortc_dnnl_md_plain(c, &wmd, in->bc_rank, in->slope_dims)))
        return st;
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
    ortc_status st = ortc_dnnl_md_input(c, 0, &md);
    if (st)
        return st;
    if (ortc_dnnl_out_blocked_ok(c, 0))
        return build_unary(c, s, pl, &md);
    s->to_plain = true;
    if ((st = ortc_dnnl_md_plain(c, &plain, 1, &n)) || (st = build_unary(c, s, pl, &plain)) ||
        s->prim.use_ref)
        return st;
    c->inplace[0] = -1;
    if ((st = ortc_dnnl_md_plain(c, &plain, c->in[0]->rank, c->in[0]->dims)))
        return st;
    return ortc_dnnl_reorder_init(c, &s->reorder, &md, &plain, 0);
}

static ortc_status eltwise_build(ortc_opctx *c, void *state)
{
    eltwise_state *s = state;
    eltwise_info in;
    ortc_status st = eltwise_check(c, &in);
    if (st)
        return st;
    const eltwise_kind kind = in.def->kind;
    const bool blocked = ortc_dnnl_in_blocked(c, 0);
    if (c->inplace && kind != KIND_ISNAN && kind != KIND_ISINF)
        c->inplace[0] = 0; /* y[i] depends on x[i] alone: y may overwrite x */
    int64_t n = ortc_tensor_numel(c->in[0]);
    dnnl_plan pl;
    bool planned = false;
    if (in.dtype == ORTC_DTYPE_FLOAT && n > 0) {
        if (kind == KIND_UNARY)
            planned = dnnl_plan_for(in.def->op, &in.p, &pl);
        else if (kind == KIND_CLIP)
            planned = clip_plan(c, &in, &pl);
        else if (kind == KIND_PRELU)
            return build_prelu(c, s, &in);
    }
    dnnl_memory_desc_t md;
    if (planned && blocked)
        st = build_blocked(c, s, &pl, n);
    else if (planned && !(st = ortc_dnnl_md_plain(c, &md, 1, &n)))
        st = build_unary(c, s, &pl, &md);
    if (st || (planned && !s->prim.use_ref))
        return st;
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
    ortc_status st;
    /* one input slot (Clip-11: up to three), as the fusion pass always took */
    if (!d || input != 0 || (d->kind != KIND_UNARY && !clip) || c->n_in > (clip11 ? 3 : 1))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "no post-op form");
    if ((st = eltwise_check(c, &in)))
        return st;
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
    switch (d->op) {
    case ORTC_UNARY_RELU: po->kind = ORTC_POST_OP_RELU; return only_attrs(c, NULL, NULL);
    case ORTC_UNARY_SIGMOID: po->kind = ORTC_POST_OP_SIGMOID; return only_attrs(c, NULL, NULL);
    case ORTC_UNARY_TANH: po->kind = ORTC_POST_OP_TANH; return only_attrs(c, NULL, NULL);
    case ORTC_UNARY_LEAKY_RELU:
        po->kind = ORTC_POST_OP_LEAKY_RELU;
        return only_attrs(c, "alpha", NULL);
    case ORTC_UNARY_ELU: po->kind = ORTC_POST_OP_ELU; return only_attrs(c, "alpha", NULL);
    case ORTC_UNARY_HARD_SIGMOID:
        po->kind = ORTC_POST_OP_HARD_SIGMOID;
        return only_attrs(c, "alpha", "beta");
    default: return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "no post-op form");
    }
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
    ORTC_OP("Softplus", 1, 1, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Floor", 1, 13, .versions = {1, 6, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Ceil", 1, 13, .versions = {1, 6, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Celu", 12, 12, .dtypes = ORTC_DT(FLOAT), .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("ThresholdedRelu", 10, 10, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Softsign", 1, 1, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Shrink", 9, 9, .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Sign", 9, 13, .versions = {9, 13}, .dtypes = ORTC_DTYPES_FLOAT | ORTC_DTYPES_INT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Erf", 9, 13, .versions = {9, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .flags = ORTC_OP_MAY_INPLACE, ELTWISE_CALLBACKS),
    ORTC_OP("Sin", 7, 7, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Cos", 7, 7, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Tan", 7, 7, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Asin", 7, 7, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Acos", 7, 7, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Atan", 7, 7, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Sinh", 9, 9, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Cosh", 9, 9, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Asinh", 9, 9, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Acosh", 9, 9, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    ORTC_OP("Atanh", 9, 9, .dtypes = ORTC_DTYPES_FLOAT, .flags = ORTC_OP_MAY_INPLACE,
            ELTWISE_CALLBACKS),
    /* bool output: never in place */
    ORTC_OP("IsNaN", 9, 13, .versions = {9, 13}, .dtypes = ORTC_DTYPES_FLOAT, ELTWISE_CALLBACKS),
    ORTC_OP("IsInf", 10, 10, .dtypes = ORTC_DTYPES_FLOAT, ELTWISE_CALLBACKS),
};
ORTC_OP_TABLE_END(eltwise);
