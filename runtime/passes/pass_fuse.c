/* pass_fuse.c — folds followers of Conv/ConvTranspose/Gemm/MatMul into the
 * producer's ORTC_ATTR_POST_OPS (operators/operator.h, "fusion contract"):
 * element-wise Relu, LeakyRelu, Clip, Sigmoid, Tanh, Elu, HardSigmoid with
 * constant parameters, and for Conv an Add whose other operand has exactly
 * the output's shape and dtype ("sum", operand appended as input
 * ORTC_FUSED_SUM_INPUT). Only where the producer's output has no other
 * reader, the dtype is float32, and the operator declares post-op support.
 */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "ir_edit.h"
#include "pass_impl.h"

static bool is_producer(const ortc_node *n)
{
    return ortc_pass_is_op(n, "Conv") || ortc_pass_is_op(n, "ConvTranspose") ||
           ortc_pass_is_op(n, "Gemm") || ortc_pass_is_op(n, "MatMul");
}

/* Whether n has post-ops already. "sum" is fused only as the first entry:
 * oneDNN 2.6's convolution crashed (SIGSEGV in its JIT code) on relu then
 * sum with pads reaching past the kernel
 * (tests/fuzz/regressions/graphs/ortc-opt-crash-Add-Conv-ReduceMin-Relu-s116321),
 * while sum then relu, ResNet's order, runs. */
static bool has_post_ops(const ortc_node *n)
{
    const ortc_attr *a = ortc_node_attr(n, ORTC_ATTR_POST_OPS);
    return a && a->type == ORTC_ATTR_STRINGS && a->n > 0;
}

/* A float attribute (absent: def); false when present with another type. */
static bool attr_f(const ortc_node *n, const char *name, float def, float *out)
{
    const ortc_attr *a = ortc_node_attr(n, name);
    if (a && a->type != ORTC_ATTR_FLOAT)
        return false;
    *out = a ? a->f : def;
    return true;
}

/* Only the listed attributes may be present. */
static bool only_attrs(const ortc_node *n, const char *a1, const char *a2)
{
    for (int i = 0; i < n->n_attrs; i++) {
        const char *nm = n->attrs[i].name;
        if (!(a1 && !strcmp(nm, a1)) && !(a2 && !strcmp(nm, a2)))
            return false;
    }
    return true;
}

/* The post-op entry for element-wise node e (one float input), or false. */
static bool eltwise_entry(const ortc_node *e, char *buf, size_t len)
{
    if (!e->op || e->n_outputs != 1 || !e->outputs[0] || e->n_inputs < 1 || !e->inputs[0])
        return false;
    float a, b;
    bool one = e->n_inputs == 1;
    if (ortc_pass_is_op(e, "Relu") && one && only_attrs(e, NULL, NULL)) {
        snprintf(buf, len, "relu");
    } else if (ortc_pass_is_op(e, "Sigmoid") && one && only_attrs(e, NULL, NULL)) {
        snprintf(buf, len, "sigmoid");
    } else if (ortc_pass_is_op(e, "Tanh") && one && only_attrs(e, NULL, NULL)) {
        snprintf(buf, len, "tanh");
    } else if (ortc_pass_is_op(e, "LeakyRelu") && one && only_attrs(e, "alpha", NULL) &&
               attr_f(e, "alpha", 0.01f, &a)) {
        snprintf(buf, len, "leaky_relu:%.9g", (double)a);
    } else if (ortc_pass_is_op(e, "Elu") && one && only_attrs(e, "alpha", NULL) &&
               attr_f(e, "alpha", 1.0f, &a)) {
        snprintf(buf, len, "elu:%.9g", (double)a);
    } else if (ortc_pass_is_op(e, "HardSigmoid") && one && only_attrs(e, "alpha", "beta") &&
               attr_f(e, "alpha", 0.2f, &a) && attr_f(e, "beta", 0.5f, &b)) {
        snprintf(buf, len, "hard_sigmoid:%.9g:%.9g", (double)a, (double)b);
    } else if (ortc_pass_is_op(e, "Clip")) {
        /* bounds as operators/math/eltwise.c reads them: attributes before
         * opset 11 (default -+FLT_MAX), then optional constant inputs */
        a = -FLT_MAX;
        b = FLT_MAX;
        if (e->op->since_version < 11) {
            if (!one || !only_attrs(e, "min", "max") || !attr_f(e, "min", -FLT_MAX, &a) ||
                !attr_f(e, "max", FLT_MAX, &b))
                return false;
        } else {
            if (e->n_inputs > 3 || !only_attrs(e, NULL, NULL))
                return false;
            if (e->n_inputs > 1 && e->inputs[1] && !ortc_pass_const_float(e->inputs[1], &a))
                return false;
            if (e->n_inputs > 2 && e->inputs[2] && !ortc_pass_const_float(e->inputs[2], &b))
                return false;
        }
        if (!(a <= b)) /* min > max or NaN: numpy's rule, not oneDNN's clip */
            return false;
        snprintf(buf, len, "clip:%.9g:%.9g", (double)a, (double)b);
    } else {
        return false;
    }
    return true;
}

/* oneDNN 2.6's matmul (Gemm, MatMul) and some of its convolution kernels
 * (seen on a 1x1 convolution of a 1x1 image) apply the first post-op's
 * parameters to every later post-op of the same eltwise algorithm
 * (leaky_relu 0.1 then leaky_relu 0.5 computes 0.1 twice). Found by the
 * differential tests: tests/fuzz/regressions/graphs/
 * ref-mismatch-HardSigmoid-MatMul-ReduceL1-s21056 and
 * ref-mismatch-Conv-Identity-LeakyRelu-s44041. So a producer takes no entry that
 * would repeat one of the oneDNN algorithms its list already uses (mapping
 * as in ortc_post_ops_to_attr); the follower runs as its own node. */
static unsigned dnnl_algs(const char *entry)
{
    enum { RELU = 1, CLIP = 2, LINEAR = 4, LOGISTIC = 8, TANH = 16, ELU = 32 };
    static const struct {
        const char *name;
        unsigned algs;
    } map[] = {
        {"relu", RELU},
        {"leaky_relu", RELU},
        {"clip", CLIP | LINEAR},
        {"hard_sigmoid", LINEAR | CLIP},
        {"sigmoid", LOGISTIC},
        {"tanh", TANH},
        {"elu", ELU},
    };
    size_t len = strcspn(entry, ":");
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strlen(map[i].name) == len && !strncmp(entry, map[i].name, len))
            return map[i].algs;
    return 0;
}

static bool repeats_alg(const ortc_node *p, const char *entry)
{
    const ortc_attr *a = ortc_node_attr(p, ORTC_ATTR_POST_OPS);
    unsigned used = 0;
    for (size_t i = 0; a && a->type == ORTC_ATTR_STRINGS && i < a->n; i++)
        used |= dnnl_algs(a->strings[i]);
    return (used & dnnl_algs(entry)) != 0;
}

static bool same_shape(const ortc_pass_info *a, const ortc_pass_info *b)
{
    if (!a || !b || a->rank < 0 || a->rank != b->rank || a->dtype != b->dtype)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

/* The producer's output dtype: inferred, else that of any input with a
 * known dtype (ONNX: one type T for inputs and output of these ops). */
static ortc_dtype producer_dtype(const ortc_pass_ctx *pc, const ortc_node *p)
{
    const ortc_pass_info *o = ortc_pass_value(pc, p->outputs[0]);
    if (o && o->dtype != ORTC_DTYPE_UNDEFINED)
        return o->dtype;
    for (int i = 0; i < p->n_inputs; i++) {
        const ortc_pass_info *in = ortc_pass_value(pc, p->inputs[i]);
        if (in && in->dtype != ORTC_DTYPE_UNDEFINED)
            return in->dtype;
    }
    return ORTC_DTYPE_UNDEFINED;
}

/* Folds the single reader of p's output into p; *done when it did. */
static ortc_status fuse_one(ortc_pass_ctx *pc, ortc_node *p, bool *done)
{
    ortc_graph *g = pc->g;
    *done = false;
    if (p->n_outputs != 1 || !p->outputs[0] || producer_dtype(pc, p) != ORTC_DTYPE_FLOAT)
        return ORTC_STATUS_OK;
    ortc_value *y = p->outputs[0];
    ortc_node *e = ortc_pass_single_user(y);
    if (!e)
        return ORTC_STATUS_OK;
    char entry[128];
    ortc_value *sum = NULL;
    if (eltwise_entry(e, entry, sizeof entry)) {
        if (e->inputs[0] != y || repeats_alg(p, entry))
            return ORTC_STATUS_OK;
    } else if (ortc_pass_is_op(e, "Add") && ortc_pass_is_op(p, "Conv") && !has_post_ops(p) &&
               e->op && e->n_inputs == 2 && e->n_outputs == 1 && e->outputs[0] &&
               p->n_inputs <= ORTC_FUSED_SUM_INPUT) {
        sum = e->inputs[0] == y ? e->inputs[1] : e->inputs[0];
        if (!sum || sum == y || (e->inputs[0] != y && e->inputs[1] != y))
            return ORTC_STATUS_OK;
        const ortc_pass_info *yi = ortc_pass_value(pc, y);
        if (!same_shape(yi, ortc_pass_value(pc, sum)) || yi->dtype != ORTC_DTYPE_FLOAT ||
            !same_shape(yi, ortc_pass_value(pc, e->outputs[0])))
            return ORTC_STATUS_OK;
        snprintf(entry, sizeof entry, "sum");
    } else {
        return ORTC_STATUS_OK;
    }
    if (sum && ortc_ir_set_input_count(p, ORTC_FUSED_SUM_INPUT + 1))
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory fusing");
    if (ortc_ir_attr_append_string(p, ORTC_ATTR_POST_OPS, entry))
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory fusing");
    if (sum)
        p->inputs[ORTC_FUSED_SUM_INPUT] = sum;
    p->outputs[0] = e->outputs[0];
    char l1[300], l2[300];
    ortc_pass_note(pc, "passes: fuse: %s folded into %s as post-op '%s'%s%s%s",
                   ortc_pass_node_label(l1, sizeof l1, e), ortc_pass_node_label(l2, sizeof l2, p),
                   entry, sum ? " (operand '" : "", sum ? sum->name : "", sum ? "')" : "");
    ortc_ir_remove_node(g, e);
    pc->stats.fused++;
    *done = true;
    return ortc_pass_finalize(pc, "fuse");
}

ortc_status ortc_pass_fuse(ortc_pass_ctx *pc)
{
    ortc_status st = ortc_pass_infer(pc);
    if (st)
        return st;
    for (int i = 0; i < pc->g->n_nodes; i++) {
        ortc_node *p = pc->g->nodes[i];
        if (!is_producer(p) || !pc->post_ops_ok || !pc->post_ops_ok(p))
            continue;
        bool done = true, any = false;
        while (done) { /* a chain: Conv -> Add -> Relu */
            if ((st = fuse_one(pc, p, &done)))
                return st;
            any |= done;
        }
        if (any)
            i = -1; /* finalize may have re-sorted: rescan */
    }
    return ORTC_STATUS_OK;
}
