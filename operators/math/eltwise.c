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
 * reorders into a plain output and applies itself there.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_util.h"
#include "eltwise_ref.h"

/* ---- the ops -------------------------------------------------------------- */

typedef enum eltwise_kind {
    KIND_UNARY, /* y = f(x), same dtype */
    KIND_CLIP,  /* bounds from attributes (< 11) or inputs 1, 2 */
    KIND_PRELU, /* y = x < 0 ? slope * x : x, slope broadcast onto x */
    KIND_ISNAN, /* bool output */
    KIND_ISINF
} eltwise_kind;

enum {
    DT_F32 = 1u << 0,
    DT_F64 = 1u << 1,
    DT_SIGNED = 1u << 2,   /* int8, int16, int32, int64 */
    DT_UNSIGNED = 1u << 3, /* uint8 .. uint64 */
    DT_I32_I64 = 1u << 4,  /* int32, int64 only */
    DT_U32_U64 = 1u << 5,  /* uint32, uint64 only */
    DT_FLOATS = DT_F32 | DT_F64,
    DT_INTS = DT_SIGNED | DT_UNSIGNED,
};

typedef struct eltwise_def {
    const char *op_type;
    eltwise_kind kind;
    ortc_unary_op op;
    unsigned dtypes;     /* every version */
    unsigned int_dtypes; /* also, from version int_since on */
    int int_since;
} eltwise_def;

static const eltwise_def defs[] = {
    /* Relu-14 allows int8..int64; they are not implemented yet. */
    {"Relu", KIND_UNARY, ORTC_UNARY_RELU, DT_FLOATS, 0, 0},
    {"LeakyRelu", KIND_UNARY, ORTC_UNARY_LEAKY_RELU, DT_FLOATS, 0, 0},
    {"PRelu", KIND_PRELU, ORTC_UNARY_RELU, DT_FLOATS, DT_I32_I64 | DT_U32_U64, 9},
    {"Elu", KIND_UNARY, ORTC_UNARY_ELU, DT_FLOATS, 0, 0},
    {"Selu", KIND_UNARY, ORTC_UNARY_SELU, DT_FLOATS, 0, 0},
    {"Celu", KIND_UNARY, ORTC_UNARY_CELU, DT_F32, 0, 0},
    {"ThresholdedRelu", KIND_UNARY, ORTC_UNARY_THRESHOLDED_RELU, DT_FLOATS, 0, 0},
    {"Sigmoid", KIND_UNARY, ORTC_UNARY_SIGMOID, DT_FLOATS, 0, 0},
    {"HardSigmoid", KIND_UNARY, ORTC_UNARY_HARD_SIGMOID, DT_FLOATS, 0, 0},
    {"HardSwish", KIND_UNARY, ORTC_UNARY_HARD_SWISH, DT_FLOATS, 0, 0},
    {"Tanh", KIND_UNARY, ORTC_UNARY_TANH, DT_FLOATS, 0, 0},
    {"Softplus", KIND_UNARY, ORTC_UNARY_SOFTPLUS, DT_FLOATS, 0, 0},
    {"Softsign", KIND_UNARY, ORTC_UNARY_SOFTSIGN, DT_FLOATS, 0, 0},
    {"Shrink", KIND_UNARY, ORTC_UNARY_SHRINK, DT_FLOATS | DT_INTS, 0, 0},
    {"Clip", KIND_CLIP, ORTC_UNARY_RELU, DT_FLOATS, DT_INTS, 12},
    {"Sqrt", KIND_UNARY, ORTC_UNARY_SQRT, DT_FLOATS, 0, 0},
    {"Exp", KIND_UNARY, ORTC_UNARY_EXP, DT_FLOATS, 0, 0},
    {"Log", KIND_UNARY, ORTC_UNARY_LOG, DT_FLOATS, 0, 0},
    {"Abs", KIND_UNARY, ORTC_UNARY_ABS, DT_FLOATS, DT_INTS, 6},
    {"Neg", KIND_UNARY, ORTC_UNARY_NEG, DT_FLOATS, DT_SIGNED, 6},
    {"Reciprocal", KIND_UNARY, ORTC_UNARY_RECIPROCAL, DT_FLOATS, 0, 0},
    {"Floor", KIND_UNARY, ORTC_UNARY_FLOOR, DT_FLOATS, 0, 0},
    {"Ceil", KIND_UNARY, ORTC_UNARY_CEIL, DT_FLOATS, 0, 0},
    {"Round", KIND_UNARY, ORTC_UNARY_ROUND, DT_FLOATS, 0, 0},
    {"Sign", KIND_UNARY, ORTC_UNARY_SIGN, DT_FLOATS | DT_INTS, 0, 0},
    {"Sin", KIND_UNARY, ORTC_UNARY_SIN, DT_FLOATS, 0, 0},
    {"Cos", KIND_UNARY, ORTC_UNARY_COS, DT_FLOATS, 0, 0},
    {"Tan", KIND_UNARY, ORTC_UNARY_TAN, DT_FLOATS, 0, 0},
    {"Asin", KIND_UNARY, ORTC_UNARY_ASIN, DT_FLOATS, 0, 0},
    {"Acos", KIND_UNARY, ORTC_UNARY_ACOS, DT_FLOATS, 0, 0},
    {"Atan", KIND_UNARY, ORTC_UNARY_ATAN, DT_FLOATS, 0, 0},
    {"Sinh", KIND_UNARY, ORTC_UNARY_SINH, DT_FLOATS, 0, 0},
    {"Cosh", KIND_UNARY, ORTC_UNARY_COSH, DT_FLOATS, 0, 0},
    {"Asinh", KIND_UNARY, ORTC_UNARY_ASINH, DT_FLOATS, 0, 0},
    {"Acosh", KIND_UNARY, ORTC_UNARY_ACOSH, DT_FLOATS, 0, 0},
    {"Atanh", KIND_UNARY, ORTC_UNARY_ATANH, DT_FLOATS, 0, 0},
    /* Erf allows integers too; they are not implemented. */
    {"Erf", KIND_UNARY, ORTC_UNARY_ERF, DT_FLOATS, 0, 0},
    {"IsNaN", KIND_ISNAN, ORTC_UNARY_RELU, DT_FLOATS, 0, 0},
    {"IsInf", KIND_ISINF, ORTC_UNARY_RELU, DT_FLOATS, 0, 0},
};

static const eltwise_def *def_of(const char *op_type)
{
    for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
        if (!strcmp(defs[i].op_type, op_type))
            return &defs[i];
    return NULL;
}

static int version_of(const ortc_opctx *c)
{
    return c->node->op ? c->node->op->since_version : c->node->opset;
}

static unsigned dtype_bit(ortc_dtype t)
{
    switch (t) {
    case ORTC_DTYPE_FLOAT: return DT_F32;
    case ORTC_DTYPE_DOUBLE: return DT_F64;
    case ORTC_DTYPE_INT8:
    case ORTC_DTYPE_INT16: return DT_SIGNED;
    case ORTC_DTYPE_INT32:
    case ORTC_DTYPE_INT64: return DT_SIGNED | DT_I32_I64;
    case ORTC_DTYPE_UINT8:
    case ORTC_DTYPE_UINT16: return DT_UNSIGNED;
    case ORTC_DTYPE_UINT32:
    case ORTC_DTYPE_UINT64: return DT_UNSIGNED | DT_U32_U64;
    default: return 0;
    }
}

static ortc_status check_dtype(ortc_opctx *c, const eltwise_def *d)
{
    unsigned allowed = d->dtypes;
    if (d->int_since && version_of(c) >= d->int_since)
        allowed |= d->int_dtypes;
    ortc_dtype t = c->in[0]->dtype;
    if (dtype_bit(t) & allowed)
        return ORTC_STATUS_OK;
    static const struct {
        unsigned bit;
        const char *names;
    } groups[] = {
        {DT_F32, "float32"},
        {DT_F64, "float64"},
        {DT_SIGNED, "int8, int16, int32, int64"},
        {DT_I32_I64, "int32, int64"},
        {DT_UNSIGNED, "uint8, uint16, uint32, uint64"},
        {DT_U32_U64, "uint32, uint64"},
    };
    char list[160] = "";
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
        if (!(allowed & groups[i].bit))
            continue;
        if ((groups[i].bit == DT_I32_I64 && (allowed & DT_SIGNED)) ||
            (groups[i].bit == DT_U32_U64 && (allowed & DT_UNSIGNED)))
            continue;
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", groups[i].names);
    }
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "input '%s' has dtype %s; %s-%d supports %s",
                         c->node->inputs[0]->name, ortc_dtype_name(t), d->op_type, version_of(c),
                         list);
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
        bool v1 = version_of(c) < 6;
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
    if (version_of(c) < 7 && s->rank == 1 && x->rank >= 2 && s->dims[0] == x->dims[1] &&
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
    int version = version_of(c);
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
    if (version_of(c) < 11) {
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
    bool use_ref;        /* plain-C kernel at run */
    ortc_dnnl_step step; /* x -> y */
    ortc_dnnl_step then; /* y -> y, when the plan has a second algorithm */
    dnnl_memory_t src, dst, weights, then_src, then_dst;
    /* Relu on a blocked input: */
    ortc_dnnl_unblock unblock; /* plain-C path: a plain copy of x */
    bool to_plain;             /* reorder x into the plain y, then y = f(y) */
    ortc_dnnl_reorder reorder;
    dnnl_memory_desc_t md; /* kept layout (out_layout[0].desc points here) */
} eltwise_state;

static void eltwise_release(ortc_opctx *c)
{
    eltwise_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_step_free(&s->step);
    ortc_dnnl_step_free(&s->then);
    ortc_dnnl_unblock_free(&s->unblock);
    if (s->to_plain)
        ortc_dnnl_reorder_free(&s->reorder);
    dnnl_memory_t *mems[] = {&s->src, &s->dst, &s->weights, &s->then_src, &s->then_dst};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (*mems[i])
            dnnl_memory_destroy(*mems[i]);
    free(s);
    c->state = NULL;
}

/* A primitive descriptor for an op descriptor; *pd is NULL (and the node
 * falls back to plain C) when oneDNN has no implementation. */
static ortc_status make_pd(ortc_opctx *c, eltwise_state *s, const void *desc,
                           dnnl_primitive_desc_t *pd)
{
    bool unimpl = false;
    ortc_status st = ortc_dnnl_pd_create(c, pd, desc, NULL, &unimpl);
    if (!st && unimpl)
        s->use_ref = true;
    return st;
}

/* Step `st` with source and destination `md` (and weights `wmd`). */
static ortc_status make_step(ortc_opctx *c, ortc_dnnl_step *st, dnnl_primitive_desc_t pd,
                             const dnnl_memory_desc_t *md, dnnl_memory_t *src, dnnl_memory_t *dst,
                             const dnnl_memory_desc_t *wmd, dnnl_memory_t *weights)
{
    ortc_status e = ortc_dnnl_step_create(c, st, pd);
    if (!e)
        e = ortc_dnnl_step_mem(c, st, DNNL_ARG_SRC, md, src);
    if (!e && wmd)
        e = ortc_dnnl_step_mem(c, st, DNNL_ARG_WEIGHTS, wmd, weights);
    if (!e)
        e = ortc_dnnl_step_mem(c, st, DNNL_ARG_DST, md, dst);
    return e;
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
    dnnl_primitive_desc_t pd = NULL;
    if ((st = make_pd(c, s, &desc, &pd)) || !pd)
        return st;
    st = make_step(c, &s->step, pd, &md, &s->src, &s->dst, &wmd, &s->weights);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static ortc_status build_unary(ortc_opctx *c, eltwise_state *s, const dnnl_plan *pl, int64_t n,
                               const dnnl_memory_desc_t *layout)
{
    /* elementwise: the tensor as 1-D, or in its blocked layout */
    dnnl_memory_desc_t md;
    ortc_status st;
    if (layout)
        md = *layout;
    else if ((st = ortc_dnnl_md_plain(c, &md, 1, &n)))
        return st;
    dnnl_eltwise_desc_t desc, then_desc;
    DNNL_CHECK(c, dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, pl->alg, &md,
                                                 pl->alpha, pl->beta));
    dnnl_primitive_desc_t pd = NULL, then_pd = NULL;
    if ((st = make_pd(c, s, &desc, &pd)) || !pd)
        return st;
    if (pl->then != dnnl_alg_kind_undef) {
        dnnl_status_t ds = dnnl_eltwise_forward_desc_init(
            &then_desc, dnnl_forward_inference, pl->then, &md, pl->then_alpha, pl->then_beta);
        if (ds != dnnl_success)
            st = ortc_dnnl_error(c, ds, "dnnl_eltwise_forward_desc_init(second algorithm)",
                                 __FILE__, __LINE__);
        if (!st)
            st = make_pd(c, s, &then_desc, &then_pd);
        if (!st && !then_pd) { /* unimplemented: plain C for the whole node */
            dnnl_primitive_desc_destroy(pd);
            return ORTC_STATUS_OK;
        }
    }
    if (!st)
        st = make_step(c, &s->step, pd, &md, &s->src, &s->dst, NULL, NULL);
    if (!st && then_pd)
        st = make_step(c, &s->then, then_pd, &md, &s->then_src, &s->then_dst, NULL, NULL);
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
    ortc_status st = ortc_dnnl_md_input(c, 0, &s->md);
    if (st)
        return st;
    if (c->out_blocked_ok && c->out_blocked_ok[0]) {
        if ((st = build_unary(c, s, pl, n, &s->md)) || s->use_ref)
            return st;
        return ortc_dnnl_set_out_layout(c, 0, &s->md);
    }
    dnnl_memory_desc_t plain;
    if ((st = ortc_dnnl_md_plain(c, &plain, c->in[0]->rank, c->in[0]->dims)) ||
        (st = build_unary(c, s, pl, n, NULL)) || s->use_ref)
        return st;
    c->inplace[0] = -1;
    s->to_plain = true;
    return ortc_dnnl_reorder_init(c, &s->reorder, &s->md, &plain, 0);
}

/* The slope is one value or one per channel (dim 1). */
static bool prelu_per_channel(const eltwise_info *in)
{
    for (int i = 0; i < in->bc_rank; i++)
        if (i != 1 && in->slope_dims[i] != 1)
            return false;
    return true;
}

static ortc_status eltwise_build(ortc_opctx *c, eltwise_state *s)
{
    eltwise_info in;
    ortc_status st = eltwise_check(c, &in);
    if (st)
        return st;
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
            planned = dnnl_plan_for(in.def->op, &in.p, &pl);
        else if (kind == KIND_CLIP)
            planned = clip_plan(c, &in, &pl);
        else if (kind == KIND_PRELU && c->in[0]->rank <= 5)
            return build_prelu(c, s, &in); /* oneDNN's prelu: up to 5-D */
    }
    if (planned && blocked)
        st = build_blocked(c, s, &pl, n);
    else if (planned)
        st = build_unary(c, s, &pl, n, NULL);
    if (st || (planned && !s->use_ref))
        return st;
    /* plain C; a blocked x gets a plain copy (the output stays plain) */
    size_t used = 0;
    s->use_ref = true;
    if (c->inplace && blocked)
        c->inplace[0] = -1;
    return ortc_dnnl_unblock_init(c, &s->unblock, &used);
}

static ortc_status eltwise_prepare(ortc_opctx *c)
{
    eltwise_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing %s",
                             c->node->op_type);
    c->state = s;
    ortc_status st = eltwise_build(c, s);
    if (st)
        eltwise_release(c);
    return st;
}

static ortc_status eltwise_run(ortc_opctx *c)
{
    eltwise_state *s = c->state;
    if (!s)
        return eltwise_reference(c);
    ortc_status st;
    if (s->use_ref) {
        ortc_opctx v;
        ortc_tensor ins[ORTC_DNNL_MAX_IO];
        ortc_tensor *ptrs[ORTC_DNNL_MAX_IO];
        st = ortc_dnnl_unblock_run(c, &s->unblock, &v, ins, ptrs);
        return st ? st : eltwise_reference(&v);
    }
    void *y = c->out[0]->data;
    const void *x = c->in[0]->data;
    if (s->to_plain) {
        if ((st = ortc_dnnl_reorder_run(c, &s->reorder, x, y)))
            return st;
        x = y;
    }
    if ((st = ortc_dnnl_set(c, s->src, x)) ||
        (s->weights && (st = ortc_dnnl_set(c, s->weights, c->in[1]->data))) ||
        (st = ortc_dnnl_set(c, s->dst, y)) || (st = ortc_dnnl_step_run(c, &s->step)))
        return st;
    if (!s->then.prim)
        return ORTC_STATUS_OK;
    if ((st = ortc_dnnl_set(c, s->then_src, y)) || (st = ortc_dnnl_set(c, s->then_dst, y)))
        return st;
    return ortc_dnnl_step_run(c, &s->then);
}

/* ---- registration --------------------------------------------------------------
 * DNNL_OP: float32 may run on oneDNN, so the op has a separate reference.
 * PLAIN_OP: run is already the plain-C kernel. */

#define DNNL_OP(name, version)                                                                     \
    {                                                                                              \
        .domain = "", .op_type = (name), .since_version = (version), .infer = eltwise_infer,       \
        .prepare = eltwise_prepare, .run = eltwise_run, .release = eltwise_release,                \
        .reference = eltwise_reference,                                                            \
    }
#define RELU_OP(version)                                                                           \
    {                                                                                              \
        .domain = "", .op_type = "Relu", .since_version = (version),                               \
        .flags = ORTC_OP_ACCEPTS_BLOCKED, .infer = eltwise_infer, .prepare = eltwise_prepare,      \
        .run = eltwise_run, .release = eltwise_release, .reference = eltwise_reference,            \
    }
#define PLAIN_OP(name, version)                                                                    \
    {                                                                                              \
        .domain = "", .op_type = (name), .since_version = (version), .infer = eltwise_infer,       \
        .prepare = eltwise_prepare, .run = eltwise_run, .release = eltwise_release,                \
    }

const ortc_operator ortc_ops_eltwise[] = {
    RELU_OP(1),
    RELU_OP(6),
    RELU_OP(13),
    RELU_OP(14),
    DNNL_OP("LeakyRelu", 1),
    DNNL_OP("LeakyRelu", 6),
    DNNL_OP("LeakyRelu", 16),
    DNNL_OP("PRelu", 1),
    DNNL_OP("PRelu", 6),
    DNNL_OP("PRelu", 7),
    DNNL_OP("PRelu", 9),
    DNNL_OP("PRelu", 16),
    DNNL_OP("Elu", 1),
    DNNL_OP("Elu", 6),
    DNNL_OP("Selu", 1),
    DNNL_OP("Selu", 6),
    DNNL_OP("Sigmoid", 1),
    DNNL_OP("Sigmoid", 6),
    DNNL_OP("Sigmoid", 13),
    DNNL_OP("HardSigmoid", 1),
    DNNL_OP("HardSigmoid", 6),
    DNNL_OP("HardSwish", 14),
    DNNL_OP("Tanh", 1),
    DNNL_OP("Tanh", 6),
    DNNL_OP("Tanh", 13),
    DNNL_OP("Clip", 1),
    DNNL_OP("Clip", 6),
    DNNL_OP("Clip", 11),
    DNNL_OP("Clip", 12),
    DNNL_OP("Clip", 13),
    DNNL_OP("Sqrt", 1),
    DNNL_OP("Sqrt", 6),
    DNNL_OP("Sqrt", 13),
    DNNL_OP("Exp", 1),
    DNNL_OP("Exp", 6),
    DNNL_OP("Exp", 13),
    DNNL_OP("Abs", 1),
    DNNL_OP("Abs", 6),
    DNNL_OP("Abs", 13),
    DNNL_OP("Neg", 1),
    DNNL_OP("Neg", 6),
    DNNL_OP("Neg", 13),
    DNNL_OP("Reciprocal", 1),
    DNNL_OP("Reciprocal", 6),
    DNNL_OP("Reciprocal", 13),
    DNNL_OP("Round", 11),

    PLAIN_OP("Log", 1),
    PLAIN_OP("Log", 6),
    PLAIN_OP("Log", 13),
    PLAIN_OP("Softplus", 1),
    PLAIN_OP("Floor", 1),
    PLAIN_OP("Floor", 6),
    PLAIN_OP("Floor", 13),
    PLAIN_OP("Ceil", 1),
    PLAIN_OP("Ceil", 6),
    PLAIN_OP("Ceil", 13),
    PLAIN_OP("Celu", 12),
    PLAIN_OP("ThresholdedRelu", 10),
    PLAIN_OP("Softsign", 1),
    PLAIN_OP("Shrink", 9),
    PLAIN_OP("Sign", 9),
    PLAIN_OP("Sign", 13),
    PLAIN_OP("Erf", 9),
    PLAIN_OP("Erf", 13),
    PLAIN_OP("Sin", 7),
    PLAIN_OP("Cos", 7),
    PLAIN_OP("Tan", 7),
    PLAIN_OP("Asin", 7),
    PLAIN_OP("Acos", 7),
    PLAIN_OP("Atan", 7),
    PLAIN_OP("Sinh", 9),
    PLAIN_OP("Cosh", 9),
    PLAIN_OP("Asinh", 9),
    PLAIN_OP("Acosh", 9),
    PLAIN_OP("Atanh", 9),
    PLAIN_OP("IsNaN", 9),
    PLAIN_OP("IsNaN", 13),
    PLAIN_OP("IsInf", 10),
};
const size_t ortc_ops_eltwise_count = sizeof ortc_ops_eltwise / sizeof ortc_ops_eltwise[0];
