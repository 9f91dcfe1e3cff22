/* post_ops.c — checking and applying in plain C the fused post-ops of a
 * node (operator.h's fusion contract). The formulas are the element-wise
 * operators' own reference kernels (math/eltwise_ref.c).
 */
#include "post_ops.h"

#include <math.h>

#include "math/eltwise_ref.h"

bool ortc_post_ops_has_sum(const ortc_node *n)
{
    for (int i = 0; i < n->n_post_ops; i++)
        if (n->post_ops[i].kind == ORTC_POST_OP_SUM)
            return true;
    return false;
}

/* The oneDNN eltwise algorithms each kind becomes (dnnl_util.c's
 * append_post_op): relu 1, clip_v2 2, linear 4, logistic 8, tanh 16, elu 32,
 * hardswish 64, swish 128, gelu_erf 256 (bias: the primitive's bias). */
static unsigned dnnl_algs(ortc_post_op_kind kind)
{
    switch (kind) {
    case ORTC_POST_OP_RELU:
    case ORTC_POST_OP_LEAKY_RELU: return 1;
    case ORTC_POST_OP_CLIP:
    case ORTC_POST_OP_HARD_SIGMOID: return 2 | 4;
    case ORTC_POST_OP_SIGMOID: return 8;
    case ORTC_POST_OP_TANH: return 16;
    case ORTC_POST_OP_ELU: return 32;
    case ORTC_POST_OP_HARD_SWISH: return 64;
    case ORTC_POST_OP_SWISH: return 128;
    case ORTC_POST_OP_GELU_ERF: return 256;
    default: return 0;
    }
}

/* Two limits of oneDNN 2.6 the differential tests found
 * (tests/fuzz/regressions/graphs/):
 * - its matmul (Gemm, MatMul) and some convolution kernels apply the first
 *   post-op's parameters to every later post-op of the same algorithm
 *   (leaky_relu 0.1 then leaky_relu 0.5 computes 0.1 twice:
 *   ref-mismatch-HardSigmoid-MatMul-ReduceL1-s21056,
 *   ref-mismatch-Conv-Identity-LeakyRelu-s44041);
 * - its convolution crashed (SIGSEGV in JIT code) on relu then sum with pads
 *   reaching past the kernel, while sum then relu, ResNet's order, runs
 *   (ortc-opt-crash-Add-Conv-ReduceMin-Relu-s116321).
 * A follower refused here runs as its own node. */
bool ortc_post_ops_can_append(const ortc_node *n, const ortc_post_op *po)
{
    /* a bias only first; a sum first or right after it (y = AB + bias + s) */
    bool after_bias = n->n_post_ops == 1 && n->post_ops[0].kind == ORTC_POST_OP_BIAS;
    if (po->kind == ORTC_POST_OP_BIAS)
        return n->n_post_ops == 0;
    if (po->kind == ORTC_POST_OP_SUM)
        return n->n_post_ops == 0 || after_bias;
    unsigned used = 0;
    for (int i = 0; i < n->n_post_ops; i++)
        used |= dnnl_algs(n->post_ops[i].kind);
    return (used & dnnl_algs(po->kind)) == 0;
}

ortc_status ortc_post_ops_check_inputs(ortc_opctx *c, int min_in, int max_in)
{
    int most = c->node->n_post_ops ? ORTC_FUSED_SUM_INPUT + 1 : max_in;
    ortc_status st = ortc_op_check_arity(c, min_in, most, 1, 1);
    for (int i = 0; !st && i < max_in && i < c->n_in; i++)
        if (c->in[i])
            st = ortc_op_check_input(c, i);
    return st;
}

ortc_status ortc_post_ops_check(ortc_opctx *c, int rank, const int64_t *dims)
{
    const ortc_node *n = c->node;
    int sums = 0;
    for (int i = 0; i < n->n_post_ops; i++) {
        ortc_post_op_kind kind = n->post_ops[i].kind;
        if (!ortc_post_op_name(kind))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "fused post-op %d has an unknown kind (%d)", i, (int)kind);
        if (kind == ORTC_POST_OP_SUM && ++sums > 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "fused post-op %d: 'sum' appears twice", i);
        if (kind == ORTC_POST_OP_BIAS &&
            (i > 0 || !n->op || !(n->op->flags & ORTC_OP_POST_OP_BIAS)))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "fused post-op %d: 'bias' is only the first post-op of an op "
                                 "that takes one",
                                 i);
    }
    if (ortc_post_ops_has_bias(n)) {
        const int b = ORTC_FUSED_BIAS_INPUT;
        const ortc_tensor *t = c->n_in > b ? c->in[b] : NULL;
        char have[128];
        if (!t || t->dtype != ORTC_DTYPE_FLOAT || t->rank != 1 || rank < 1 ||
            t->dims[0] != dims[rank - 1])
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL,
                "post-op 'bias' needs input %d, float32 [%lld] (the output's last dim); it is %s",
                b, rank >= 1 ? (long long)dims[rank - 1] : 0LL,
                t ? ortc_shape_str(have, sizeof have, t->rank, t->dims) : "missing");
    }
    const int k = ORTC_FUSED_SUM_INPUT;
    const ortc_tensor *s = c->n_in > k ? c->in[k] : NULL;
    if (!sums) {
        if (s)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d is set but the fused post-ops have no 'sum'", k);
        return ORTC_STATUS_OK;
    }
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "post-op 'sum' needs input %d (the summand); it is missing", k);
    char have[128], want[128];
    bool same = s->dtype == ORTC_DTYPE_FLOAT && s->rank == rank;
    for (int d = 0; same && d < rank; d++)
        same = s->dims[d] == dims[d];
    if (!same)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "post-op 'sum' input %d '%s' is %s %s; the output is float32 %s", k,
                             n->inputs[k] ? n->inputs[k]->name : "", ortc_dtype_name(s->dtype),
                             ortc_shape_str(have, sizeof have, s->rank, s->dims),
                             ortc_shape_str(want, sizeof want, rank, dims));
    return ORTC_STATUS_OK;
}

bool ortc_post_ops_has_bias(const ortc_node *n)
{
    return n->n_post_ops > 0 && n->post_ops[0].kind == ORTC_POST_OP_BIAS;
}

void ortc_post_ops_apply(const ortc_opctx *c, float *y, int64_t n)
{
    const ortc_node *node = c->node;
    for (int i = 0; i < node->n_post_ops; i++) {
        const ortc_post_op *po = &node->post_ops[i];
        ortc_unary_params p = {po->alpha, po->beta, 0.0f};
        switch (po->kind) {
        case ORTC_POST_OP_CLIP: {
            float lo = po->alpha, hi = po->beta;
            ortc_ref_clip(y, y, n, ORTC_DTYPE_FLOAT, &lo, &hi);
            break;
        }
        case ORTC_POST_OP_SUM: {
            const float *sum = c->in[ORTC_FUSED_SUM_INPUT]->data;
            for (int64_t j = 0; j < n; j++)
                y[j] += sum[j];
            break;
        }
        case ORTC_POST_OP_BIAS: {
            const ortc_tensor *b = c->in[ORTC_FUSED_BIAS_INPUT];
            const float *bias = b->data;
            const int64_t nb = b->dims[0]; /* checked: the output's last dim */
            for (int64_t j = 0; j < n; j++)
                y[j] += bias[j % nb];
            break;
        }
        case ORTC_POST_OP_GELU_ERF: /* Div by sqrt 2, Erf, Add 1, Mul by x, Mul by 0.5 */
            for (int64_t j = 0; j < n; j++) {
                double x = y[j];
                y[j] = (float)(0.5 * x * (1.0 + erf(x / sqrt(2.0))));
            }
            break;
        case ORTC_POST_OP_SWISH: /* Sigmoid's formula, then the Mul */
            for (int64_t j = 0; j < n; j++)
                y[j] = (float)((double)y[j] / (1.0 + exp(-(double)y[j])));
            break;
        default: { /* the unary ops: the fused op's own formula */
            ortc_unary_fn f = ortc_eltwise_post_op_formula(po->kind);
            if (f)
                ortc_ref_unary_f32(y, y, n, f, &p);
            break; /* an unknown kind is refused by ortc_post_ops_check */
        }
        }
    }
}
