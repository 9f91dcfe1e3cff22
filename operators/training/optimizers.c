/* optimizers.c — the optimizer steps of ONNX's preview training domain
 * (ai.onnx.preview.training, version 1): Adagrad, Momentum (standard and
 * Nesterov) and Adam, each updating any number of tensors X_i from their
 * gradients G_i and accumulators, as the spec's pseudo code says. Plain C,
 * element-wise in double; R and T are scalars, and every G_i and
 * accumulator has X_i's shape. Gradient (symbolic differentiation) is not
 * implemented.
 */
#include <math.h>
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

#define TRAINING_DOMAIN "ai.onnx.preview.training"

typedef enum { OPT_ADAGRAD, OPT_MOMENTUM, OPT_ADAM } opt_kind;

static opt_kind kind_of(const ortc_opctx *c)
{
    const char *op = c->node->op_type;
    return !strcmp(op, "Adagrad") ? OPT_ADAGRAD : !strcmp(op, "Momentum") ? OPT_MOMENTUM : OPT_ADAM;
}

/* Per optimized tensor: inputs X, G, then 1 (Adagrad: H; Momentum: V) or 2
 * (Adam: V, H) accumulators; outputs X_new and the new accumulators. */
static int accumulators(opt_kind k)
{
    return k == OPT_ADAM ? 2 : 1;
}

static ortc_status opt_infer(ortc_opctx *c)
{
    opt_kind k = kind_of(c);
    int per_in = 2 + accumulators(k), per_out = 1 + accumulators(k);
    int n = (c->n_in - 2) / per_in;
    if (c->n_in < 2 + per_in || (c->n_in - 2) % per_in || c->n_out != n * per_out)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "has %d inputs and %d outputs; %s takes R, T and %d per optimized "
                             "tensor, and gives %d per tensor",
                             c->n_in, c->n_out, c->node->op_type, per_in, per_out);
    ORTC_TRY(ortc_op_check_arity(c, c->n_in, c->n_in, c->n_out, c->n_out));
    ORTC_TRY(ortc_op_check_dtypes(c, 0, ORTC_DTYPES_FLOAT));
    ORTC_TRY(ortc_op_check_dtypes(c, 1, ORTC_DT(INT64)));
    for (int i = 0; i < 2; i++)
        if (ortc_tensor_numel(c->in[i]) != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d '%s' (%s) must be a scalar", i,
                                 ortc_plain_input_name(c, i), i ? "T" : "R");
    static const char *const floats[] = {
        "alpha", "beta", "epsilon", "decay_factor", "norm_coefficient", "norm_coefficient_post"};
    for (size_t a = 0; a < sizeof floats / sizeof *floats; a++)
        ORTC_TRY(ortc_op_check_attr(c, floats[a], ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "mode", ORTC_ATTR_STRING));
    /* Momentum's attributes have no defaults; the others' all do */
    static const char *const need[3][4] = {
        {NULL}, {"alpha", "beta", "mode", "norm_coefficient"}, {NULL}};
    for (int a = 0; a < 4 && need[k][a]; a++)
        if (!ortc_node_attr(c->node, need[k][a]))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' is missing",
                                 need[k][a]);
    if (k == OPT_MOMENTUM) {
        const char *mode = ortc_node_attr_string(c->node, "mode", "");
        if (strcmp(mode, "standard") && strcmp(mode, "nesterov"))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'mode' is \"%s\"; it must be standard or nesterov",
                                 mode);
    }
    for (int t = 0; t < n; t++) {
        int x = 2 + t;
        ORTC_TRY(ortc_op_check_input(c, x));
        for (int j = 1; j < per_in; j++) {
            int i = 2 + t + j * n;
            const ortc_tensor *a = c->in[x], *b = c->in[i];
            bool same = b->dtype == a->dtype && b->rank == a->rank;
            for (int d = 0; same && d < a->rank; d++)
                same = a->dims[d] == b->dims[d];
            if (!same) {
                char sa[160], sb[160];
                return ortc_op_error(
                    c, ORTC_STATUS_INVALID_MODEL,
                    "input %d '%s' is %s %s; it must be %s %s like input %d '%s' (X)", i,
                    ortc_plain_input_name(c, i), ortc_dtype_name(b->dtype),
                    ortc_shape_str(sb, sizeof sb, b->rank, b->dims), ortc_dtype_name(a->dtype),
                    ortc_shape_str(sa, sizeof sa, a->rank, a->dims), x,
                    ortc_plain_input_name(c, x));
            }
        }
        for (int j = 0; j < per_out; j++)
            ortc_op_set_output(c, t + j * n, c->in[x]->dtype, c->in[x]->rank, c->in[x]->dims);
    }
    return ORTC_STATUS_OK;
}

static inline double at(const ortc_tensor *t, int64_t i)
{
    return ortc_load_real(t->data, t->dtype, i);
}

static inline void put(ortc_tensor *t, int64_t i, double v)
{
    ortc_store_real(t->data, t->dtype, i, v);
}

// for each tensor t: outputs (X_new, accumulators_new) from inputs (X, G, accumulators)
static ortc_status opt_run(ortc_opctx *c)
{
    opt_kind k = kind_of(c);
    int per_in = 2 + accumulators(k);
    int n = (c->n_in - 2) / per_in;
    double r = at(c->in[0], 0);
    int64_t step = ((const int64_t *)c->in[1]->data)[0];
    double norm = ortc_node_attr_float(c->node, "norm_coefficient", 0);
    double eps = ortc_node_attr_float(c->node, "epsilon", 1e-6f);
    double alpha = ortc_node_attr_float(c->node, "alpha", 0.9f);
    double beta = ortc_node_attr_float(c->node, "beta", 0.999f);
    bool nesterov = !strcmp(ortc_node_attr_string(c->node, "mode", ""), "nesterov");
    /* the scalar factors of this step */
    double lr = r;
    if (k == OPT_ADAGRAD)
        lr = r / (1 + (double)step * ortc_node_attr_float(c->node, "decay_factor", 0));
    else if (k == OPT_ADAM && step > 0)
        lr = r * sqrt(1 - pow(beta, (double)step)) / (1 - pow(alpha, (double)step));
    double beta_adj = k == OPT_MOMENTUM && step <= 0 ? 1 : beta; /* the first step: 1 */
    double post = ortc_node_attr_float(c->node, "norm_coefficient_post", 0);
    for (int t = 0; t < n; t++) {
        const ortc_tensor *x = c->in[2 + t], *g = c->in[2 + t + n], *a1 = c->in[2 + t + 2 * n];
        const ortc_tensor *a2 = k == OPT_ADAM ? c->in[2 + t + 3 * n] : NULL;
        ortc_tensor *xo = c->out[t], *o1 = c->out[t + n],
                    *o2 = k == OPT_ADAM ? c->out[t + 2 * n] : NULL;
        int64_t m = ortc_tensor_numel(x);
        for (int64_t i = 0; i < m; i++) {
            double xv = at(x, i), gr = norm * xv + at(g, i), xn;
            if (k == OPT_ADAGRAD) { /* a1: H */
                double h = at(a1, i) + gr * gr;
                xn = xv - lr * gr / (sqrt(h) + eps);
                if (o1)
                    put(o1, i, h);
            } else if (k == OPT_MOMENTUM) { /* a1: V */
                double v = alpha * at(a1, i) + beta_adj * gr;
                xn = nesterov ? xv - r * (gr + alpha * v) : xv - r * v;
                if (o1)
                    put(o1, i, v);
            } else { /* a1: V, a2: H */
                double v = alpha * at(a1, i) + (1 - alpha) * gr;
                double h = beta * at(a2, i) + (1 - beta) * gr * gr;
                xn = (1 - post) * (xv - lr * v / (sqrt(h) + eps));
                if (o1)
                    put(o1, i, v);
                if (o2)
                    put(o2, i, h);
            }
            if (xo)
                put(xo, i, xn);
        }
    }
    return ORTC_STATUS_OK;
}

/* ---- table ------------------------------------------------------------------ */

/* dtypes: the optimized tensors (T3) */
const ortc_operator ortc_ops_training[] = {
    ORTC_OP("Adagrad", 1, 1, .domain = TRAINING_DOMAIN, .dtypes = ORTC_DTYPES_FLOAT,
            .infer = opt_infer, .run = opt_run),
    ORTC_OP("Momentum", 1, 1, .domain = TRAINING_DOMAIN, .dtypes = ORTC_DTYPES_FLOAT,
            .infer = opt_infer, .run = opt_run),
    ORTC_OP("Adam", 1, 1, .domain = TRAINING_DOMAIN, .dtypes = ORTC_DTYPES_FLOAT,
            .infer = opt_infer, .run = opt_run),
};
ORTC_OP_TABLE_END(training);
