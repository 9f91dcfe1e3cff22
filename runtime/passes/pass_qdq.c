/* pass_qdq.c — QDQ models run in int8. The QDQ format (what ONNX Runtime's
 * quantizer and PyTorch's fake-quantize export write) surrounds each
 * compute op with DequantizeLinear on its input and weights and a
 * QuantizeLinear after it:
 *
 *   xq -> DQ -> Conv/Gemm/MatMul (weights DQ(int8 constant) or DQ(Q(float
 *   constant)), bias) [-> Add(constant bias)] [-> Relu/Clip/...] -> Q -> yq
 *
 * Each such group becomes one QLinearConv or QLinearMatMul node in the
 * ortc_qdq mode (operators/quant/qlinear.h) reading xq and writing yq,
 * which runs as one oneDNN int8 primitive: per-tensor input parameters,
 * per-tensor or per-output-channel weight parameters, the bias kept in
 * float32 (real units: the primitive adds bias / (x_scale * w_scale) to its
 * exact integer accumulator, which is the group's float bias without the
 * extra rounding of ONNX Runtime's int32 bias), the element-wise followers
 * as post-ops on the real value, then requantization to yq's parameters.
 * Without a trailing QuantizeLinear the node outputs the float32 value.
 * The arithmetic is the group's within one quantization step (qconv.c).
 *
 * Max pooling and data movement between quantized values run in int8
 * where that is exact: a QuantizeLinear after MaxPool/Flatten/Reshape/
 * Squeeze/Unsqueeze/Transpose moves before them (Q commutes with a max and
 * with moving values; see try_hoist), onto the output of a compute group
 * (which then writes int8 directly) or onto DQ(v) with its own parameters,
 * where Q(DQ(v)) = v removes the pair: DQ -> MaxPool -> Q runs as MaxPool
 * on v; Concat of inputs all quantized like its output runs on them
 * directly. Add, AveragePool and every
 * other op between a DequantizeLinear and a QuantizeLinear run in float32
 * exactly as the graph says; the float32 element-wise ops right before a
 * QuantizeLinear (a residual Add of two values of one shape, then Relu
 * and the like) fold into it (quantize.c's ortc_qdq form: the same
 * arithmetic per element, one pass over memory instead of three).
 *
 * Groups are left alone (float32) where the fused op could not run on
 * oneDNN: weights that are not constant, weights minus zero point outside
 * int8, per-axis input or output parameters, Gemm with transA. Runs first
 * in the pipeline: constant folding would otherwise turn DQ(int8 weights)
 * into float32 weights; the parameters a group needs are folded here
 * (Constant and Cast chains, Q(float weights), DQ(int32 bias)), after
 * Identity nodes are removed (exporters share a parameter tensor as
 * Identity(another's); Identity itself is not foldable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

/* ---- constants ---------------------------------------------------------------- */

typedef struct qdq_ctx {
    ortc_pass_ctx *pc;
} qdq_ctx;

static void set_info(ortc_pass_ctx *pc, ortc_value *v)
{
    if (v->index >= pc->info_cap)
        return;
    ortc_pass_info *in = &pc->info[v->index];
    const ortc_tensor *t = &v->constant->t;
    in->dtype = t->dtype;
    in->rank = t->rank;
    memcpy(in->dims, t->dims, sizeof in->dims);
    in->data = t->data;
}

/* v's tensor when v is (or can be made, by evaluating its producer and the
 * producer's own constant inputs) a constant of the top-level graph;
 * NULL otherwise. Errors only for failures that are not the op's. */
static ortc_status const_of(qdq_ctx *q, ortc_value *v, int depth, const ortc_tensor **out)
{
    ortc_pass_ctx *pc = q->pc;
    *out = NULL;
    if (!v || v->graph != pc->g)
        return ORTC_STATUS_OK;
    if (v->kind == ORTC_VALUE_CONSTANT) {
        if (v->constant)
            *out = &v->constant->t;
        return ORTC_STATUS_OK;
    }
    ortc_node *p = v->producer;
    if (!p || depth > 8 || v->kind != ORTC_VALUE_INTERMEDIATE)
        return ORTC_STATUS_OK;
    for (int i = 0; i < p->n_inputs; i++) {
        const ortc_tensor *t;
        ortc_status st = const_of(q, p->inputs[i], depth + 1, &t);
        if (st || (p->inputs[i] && !t))
            return st;
        ortc_pass_infer_node(pc, p); /* its inputs are constants now */
    }
    ortc_pass_infer_node(pc, p);
    if (!ortc_pass_foldable(pc, p))
        return ORTC_STATUS_OK;
    ortc_const_tensor *res[8] = {0};
    if (p->n_outputs > 8)
        return ORTC_STATUS_OK;
    bool ok;
    ortc_status st = ortc_pass_evaluate(pc, p, res, &ok);
    if (st || !ok)
        return st;
    for (int k = 0; k < p->n_outputs; k++) {
        ortc_value *o = p->outputs[k];
        if (!o) {
            ortc_const_tensor_free(res[k]);
            continue;
        }
        ortc_value_set_constant(o, res[k]);
        o->producer = NULL; /* p is removed before finalize */
        set_info(pc, o);
    }
    char lab[300];
    ortc_pass_note(pc, "passes: qdq: evaluated %s", ortc_pass_node_label(lab, sizeof lab, p));
    for (int k = 0; k < p->n_inputs; k++)
        ortc_pass_release_constant(pc, p->inputs[k], p, NULL);
    ortc_ir_remove_node(pc->g, p);
    pc->stats.folded++;
    *out = &v->constant->t;
    return ortc_pass_finalize(pc, "qdq"); /* producers and uses current again */
}

static int64_t numel(const ortc_tensor *t)
{
    return t ? ortc_tensor_numel(t) : 0;
}

/* ---- DequantizeLinear operands -------------------------------------------------- */

/* A DequantizeLinear's operand: the quantized value, its parameters
 * (constants; zero NULL when absent) and its type. */
typedef struct dq_operand {
    ortc_node *dq;
    ortc_value *q;
    ortc_value *scale, *zero;
    const ortc_tensor *scale_t, *zero_t;
    ortc_dtype dtype; /* UINT8/INT8; UNDEFINED when unknown */
    int axis;         /* the DQ's axis (normalised by the caller) */
} dq_operand;

/* The quantized type of v: its zero point's, Q's output, or inferred. */
static ortc_dtype q_dtype(const ortc_pass_ctx *pc, const ortc_value *v, const ortc_tensor *zero)
{
    if (zero)
        return zero->dtype;
    const ortc_pass_info *in = ortc_pass_value(pc, v);
    if (in && in->dtype != ORTC_DTYPE_UNDEFINED)
        return in->dtype;
    if (v->producer && ortc_pass_is_op(v->producer, "QuantizeLinear") &&
        (v->producer->n_inputs < 3 || !v->producer->inputs[2]))
        return ORTC_DTYPE_UINT8;
    if (v->kind == ORTC_VALUE_CONSTANT && v->constant)
        return v->constant->t.dtype;
    return ORTC_DTYPE_UNDEFINED;
}

/* v = DequantizeLinear(q, scale[, zero]) with constant 8-bit parameters. */
static ortc_status dq_operand_of(qdq_ctx *q, ortc_value *v, dq_operand *d, bool *ok)
{
    *ok = false;
    memset(d, 0, sizeof *d);
    ortc_node *n = v ? v->producer : NULL;
    if (!n || !ortc_pass_is_op(n, "DequantizeLinear") || n->n_inputs < 2 || !n->inputs[0] ||
        !n->inputs[1] || n->n_outputs != 1)
        return ORTC_STATUS_OK;
    ortc_status st;
    d->dq = n;
    d->q = n->inputs[0];
    d->scale = n->inputs[1];
    d->zero = n->n_inputs > 2 ? n->inputs[2] : NULL;
    if ((st = const_of(q, d->scale, 0, &d->scale_t)) ||
        (d->zero && (st = const_of(q, d->zero, 0, &d->zero_t))))
        return st;
    if (!d->scale_t || (d->zero && !d->zero_t) || d->scale_t->dtype != ORTC_DTYPE_FLOAT)
        return ORTC_STATUS_OK;
    if (d->zero_t && numel(d->zero_t) != numel(d->scale_t))
        return ORTC_STATUS_OK;
    for (int64_t i = 0; i < numel(d->scale_t); i++) {
        float s = ((const float *)d->scale_t->data)[i];
        if (!(s > 0.0f) || s > 3.0e38f)
            return ORTC_STATUS_OK; /* the operators report it */
    }
    d->dtype = q_dtype(q->pc, d->q, d->zero_t);
    if (d->zero_t && q_dtype(q->pc, d->q, NULL) != ORTC_DTYPE_UNDEFINED &&
        q_dtype(q->pc, d->q, NULL) != d->dtype)
        return ORTC_STATUS_OK; /* data and zero point differ: DequantizeLinear reports it */
    d->axis = (int)ortc_node_attr_int(n, "axis", 1);
    *ok = d->dtype == ORTC_DTYPE_UINT8 || d->dtype == ORTC_DTYPE_INT8;
    return ORTC_STATUS_OK;
}

/* The DequantizeLinear operands of n's inputs 0 (with per-tensor
 * parameters, as the int8 operators take their x / A) and 1 (constant
 * quantized weights, *wt); *ok when both are. */
static ortc_status dq_operands(qdq_ctx *q, const ortc_node *n, dq_operand *x, dq_operand *w,
                               const ortc_tensor **wt, bool *ok)
{
    *wt = NULL;
    ortc_status st = dq_operand_of(q, n->inputs[0], x, ok);
    if (st || !*ok)
        return st;
    if (numel(x->scale_t) != 1) {
        *ok = false;
        return ORTC_STATUS_OK;
    }
    if ((st = dq_operand_of(q, n->inputs[1], w, ok)) || !*ok || (st = const_of(q, w->q, 0, wt)))
        return st;
    *ok = *wt != NULL;
    return ORTC_STATUS_OK;
}

/* As dq_operand_of, for a QuantizeLinear node: constant per-tensor parameters. */
static ortc_status q_params_of(qdq_ctx *q, ortc_node *n, dq_operand *d, bool *ok)
{
    *ok = false;
    memset(d, 0, sizeof *d);
    if (n->n_inputs < 2 || !n->inputs[1] || n->n_outputs != 1 || !n->outputs[0])
        return ORTC_STATUS_OK;
    d->scale = n->inputs[1];
    d->zero = n->n_inputs > 2 ? n->inputs[2] : NULL;
    ortc_status st;
    if ((st = const_of(q, d->scale, 0, &d->scale_t)) ||
        (d->zero && (st = const_of(q, d->zero, 0, &d->zero_t))))
        return st;
    if (!d->scale_t || d->scale_t->dtype != ORTC_DTYPE_FLOAT || numel(d->scale_t) != 1 ||
        (d->zero && (!d->zero_t || numel(d->zero_t) != 1)))
        return ORTC_STATUS_OK;
    float s = *(const float *)d->scale_t->data;
    if (!(s > 0.0f) || s > 3.0e38f)
        return ORTC_STATUS_OK;
    d->dtype = d->zero_t ? d->zero_t->dtype : ORTC_DTYPE_UINT8;
    *ok = d->dtype == ORTC_DTYPE_UINT8 || d->dtype == ORTC_DTYPE_INT8;
    return ORTC_STATUS_OK;
}

/* Parameters a and b are the same numbers (per tensor; zero points absent
 * count as 0 of the same type). */
static bool same_params(const dq_operand *a, const dq_operand *b)
{
    if (numel(a->scale_t) != 1 || numel(b->scale_t) != 1 || a->dtype != b->dtype)
        return false;
    if (memcmp(a->scale_t->data, b->scale_t->data, sizeof(float)))
        return false;
    int za = 0, zb = 0;
    if (a->zero_t)
        za = a->dtype == ORTC_DTYPE_UINT8 ? *(const uint8_t *)a->zero_t->data
                                          : *(const int8_t *)a->zero_t->data;
    if (b->zero_t)
        zb = b->dtype == ORTC_DTYPE_UINT8 ? *(const uint8_t *)b->zero_t->data
                                          : *(const int8_t *)b->zero_t->data;
    return za == zb;
}

/* ---- compute groups ------------------------------------------------------------------ */

/* What follows the compute op up to the QuantizeLinear. */
typedef struct chain {
    ortc_node *nodes[ORTC_MAX_POST_OPS + 2];
    int n_nodes;
    ortc_post_op post[ORTC_MAX_POST_OPS];
    int n_post;
    ortc_value *bias; /* from an Add with a constant [N] operand (MatMul, Gemm) */
    ortc_value *out;  /* the group's output value */
    ortc_node *quant; /* the QuantizeLinear, or NULL (float32 output) */
    dq_operand y;     /* its parameters */
} chain;

/* A constant float32 vector of `count` values on the last axis: [count],
 * [1, count] (any leading 1s). */
static bool is_row_vector(const ortc_tensor *t, int64_t count)
{
    if (!t || t->dtype != ORTC_DTYPE_FLOAT || t->rank < 1 || t->dims[t->rank - 1] != count)
        return false;
    for (int d = 0; d < t->rank - 1; d++)
        if (t->dims[d] != 1)
            return false;
    return true;
}

static ortc_status follow(qdq_ctx *q, ortc_node *op, bool may_add_bias, int64_t channels, chain *ch)
{
    ortc_pass_ctx *pc = q->pc;
    memset(ch, 0, sizeof *ch);
    ch->out = op->outputs[0];
    for (;;) {
        ortc_node *u = ortc_pass_single_user(ch->out);
        if (!u || u->n_outputs < 1 || !u->outputs[0] || ch->n_nodes == ORTC_MAX_POST_OPS + 1)
            return ORTC_STATUS_OK;
        int at = ch->out->uses[0].input;
        ortc_status st;
        if (ortc_pass_is_op(u, "QuantizeLinear")) {
            bool ok;
            if (at != 0 || (st = q_params_of(q, u, &ch->y, &ok)))
                return st;
            if (ok) {
                ch->quant = u;
                ch->nodes[ch->n_nodes++] = u;
                ch->out = u->outputs[0];
            }
            return ORTC_STATUS_OK;
        }
        if (ortc_pass_is_op(u, "Add") && u->n_inputs == 2 && u->n_outputs == 1) {
            const ortc_tensor *b;
            if (!may_add_bias || ch->bias || ch->n_post ||
                (st = const_of(q, u->inputs[1 - at], 0, &b)))
                return st;
            if (!is_row_vector(b, channels))
                return ORTC_STATUS_OK;
            ch->bias = u->inputs[1 - at];
            ch->nodes[ch->n_nodes++] = u;
            ch->out = u->outputs[0];
            continue;
        }
        /* an element-wise follower describing itself as a post-op (its
         * other inputs, Clip's bounds say, folded first) */
        for (int i = 0; i < u->n_inputs; i++) {
            const ortc_tensor *t;
            if (i != at && u->inputs[i] && (st = const_of(q, u->inputs[i], 0, &t)))
                return st;
        }
        ortc_post_op po;
        if (u->n_outputs != 1 || ch->n_post == ORTC_MAX_POST_OPS ||
            !ortc_pass_post_op(pc, u, at, ORTC_DTYPE_FLOAT, &po) || po.kind == ORTC_POST_OP_SUM)
            return ORTC_STATUS_OK;
        ch->post[ch->n_post++] = po;
        ch->nodes[ch->n_nodes++] = u;
        ch->out = u->outputs[0];
    }
}

/* Whether follow() evaluated one of op's own DequantizeLinear operands
 * (folding a follower's other input: CastLike(y, DQ(w)) with y op's output
 * and DQ(w) its weights), which dropped the constants x and w point to:
 * the group is left in float32. */
static bool operands_gone(const ortc_node *op, const dq_operand *x, const dq_operand *w)
{
    return op->inputs[0]->producer != x->dq || op->inputs[1]->producer != w->dq;
}

/* Every w - zero[ch] (ch = (i / inner) % channels when per channel) fits
 * int8, the fused op's condition for oneDNN. */
static bool weights_fit(const ortc_tensor *w, const dq_operand *d, int64_t channels, int64_t inner)
{
    int64_t n = numel(w), nz = numel(d->zero_t);
    bool zero = true; /* int8 weights minus zero points of 0: always */
    for (int64_t i = 0; i < nz && zero; i++)
        zero = d->dtype == ORTC_DTYPE_UINT8 ? ((const uint8_t *)d->zero_t->data)[i] == 0
                                            : ((const int8_t *)d->zero_t->data)[i] == 0;
    if (zero && w->dtype == ORTC_DTYPE_INT8)
        return true;
    for (int64_t i = 0; i < n; i++) {
        int32_t v = w->dtype == ORTC_DTYPE_UINT8 ? ((const uint8_t *)w->data)[i]
                                                 : ((const int8_t *)w->data)[i];
        if (d->zero_t) {
            int64_t ch = nz > 1 ? (i / inner) % channels : 0;
            v -= d->dtype == ORTC_DTYPE_UINT8 ? ((const uint8_t *)d->zero_t->data)[ch]
                                              : ((const int8_t *)d->zero_t->data)[ch];
        }
        if (v < -128 || v > 127)
            return false;
    }
    return true;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define WORDS_LITTLE_ENDIAN 0
#else
#define WORDS_LITTLE_ENDIAN 1
#endif

/* 8 x 8 bytes, row k in a[k] (byte j of the little-endian word: column j),
 * transposed in place: 4 x 4 quarters swapped, then 2 x 2, then 1 x 1. */
static void transpose8x8(uint64_t a[8])
{
    for (int k = 0; k < 4; k++) {
        uint64_t t = ((a[k] >> 32) ^ a[k + 4]) & 0x00000000FFFFFFFFull;
        a[k] ^= t << 32;
        a[k + 4] ^= t;
    }
    for (int k = 0; k < 8; k += (k & 1) ? 3 : 1) { /* 0, 1, 4, 5 */
        uint64_t t = ((a[k] >> 16) ^ a[k + 2]) & 0x0000FFFF0000FFFFull;
        a[k] ^= t << 16;
        a[k + 2] ^= t;
    }
    for (int k = 0; k < 8; k += 2) {
        uint64_t t = ((a[k] >> 8) ^ a[k + 1]) & 0x00FF00FF00FF00FFull;
        a[k] ^= t << 8;
        a[k + 1] ^= t;
    }
}

/* dst (c x r) = src (r x c) transposed, one byte each. By 64 x 64 tiles
 * gathered into a local buffer, so each cache line of src and dst is
 * touched once: with rows a multiple of 4 KB apart (4096 output channels)
 * a tile's lines all fall in one L1 set, and the byte-wise transpose in
 * place took 0.25 s for AlexNet's first fully connected layer. */
static void transpose8(uint8_t *dst, const uint8_t *src, int64_t r, int64_t c)
{
    enum { T = 64 };
    uint8_t in[T * T], out[T * T];
    for (int64_t i0 = 0; i0 < r; i0 += T)
        for (int64_t j0 = 0; j0 < c; j0 += T) {
            if (!WORDS_LITTLE_ENDIAN || r - i0 < T || c - j0 < T) { /* an edge: byte by byte */
                int64_t i1 = r - i0 < T ? r : i0 + T, j1 = c - j0 < T ? c : j0 + T;
                for (int64_t i = i0; i < i1; i++)
                    for (int64_t j = j0; j < j1; j++)
                        dst[j * r + i] = src[i * c + j];
                continue;
            }
            for (int i = 0; i < T; i++)
                memcpy(in + i * T, src + (i0 + i) * c + j0, T);
            for (int bi = 0; bi < T; bi += 8)
                for (int bj = 0; bj < T; bj += 8) {
                    uint64_t a[8];
                    for (int k = 0; k < 8; k++)
                        memcpy(&a[k], in + (bi + k) * T + bj, 8);
                    transpose8x8(a);
                    for (int k = 0; k < 8; k++)
                        memcpy(out + (bj + k) * T + bi, &a[k], 8);
                }
            for (int j = 0; j < T; j++)
                memcpy(dst + (j0 + j) * r + i0, out + j * T, T);
        }
}

/* A new constant of g named after base (NULL on OOM: error set). */
static ortc_value *new_const(ortc_pass_ctx *pc, const char *base, ortc_const_tensor *t)
{
    if (!t) {
        ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory in the qdq pass");
        return NULL;
    }
    ortc_value *v = ortc_ir_add_constant(pc->g, base, t);
    if (!v)
        ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory in the qdq pass");
    return v;
}

/* A new op_type node in n's place (n_in inputs, n_out outputs) marked
 * ortc_qdq = 1, with take_attrs holding n's attributes (n keeps none);
 * NULL (error set) when out of memory. */
static ortc_node *insert_fused(ortc_pass_ctx *pc, ortc_node *n, const char *op_type, int n_in,
                               int n_out, bool take_attrs)
{
    ortc_node *f = ortc_ir_insert_node(pc->g, n->index, op_type, "", n->name, n_in, n_out);
    if (f && f->op && take_attrs) {
        f->attrs = n->attrs;
        f->n_attrs = n->n_attrs;
        n->attrs = NULL;
        n->n_attrs = 0;
    }
    ortc_attr *a = f && f->op ? ortc_node_add_attr(f, "ortc_qdq", ORTC_ATTR_INT) : NULL;
    if (!a) {
        ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory in the qdq pass");
        return NULL;
    }
    a->i = 1;
    return f;
}

/* The fused node in op's place: inputs in[0..n_in), output ch->out, the
 * chain's post-ops, ortc_qdq = 1; op and the chain removed. */
static ortc_status replace(qdq_ctx *q, ortc_node *op, const char *op_type, ortc_value **in,
                           int n_in, chain *ch, bool move_attrs)
{
    ortc_pass_ctx *pc = q->pc;
    if (!ortc_registry_find("", op_type, op->opset))
        return ORTC_STATUS_OK; /* an opset before QLinearConv-10: left in float32 */
    ortc_node *f = insert_fused(pc, op, op_type, n_in, 1, move_attrs);
    if (!f)
        return ORTC_STATUS_OUT_OF_MEMORY;
    memcpy(f->inputs, in, (size_t)n_in * sizeof *in);
    f->outputs[0] = ch->out;
    for (int i = 0; i < ch->n_post; i++)
        ortc_node_add_post_op(f, ch->post[i]);
    char l1[300], l2[300];
    ortc_pass_note(pc, "passes: qdq: %s -> %s reading '%s', writing '%s' (%s, %d post-ops)",
                   ortc_pass_node_label(l1, sizeof l1, op), ortc_pass_node_label(l2, sizeof l2, f),
                   in[0]->name, ch->out->name, ch->quant ? "requantized" : "float32 output",
                   ch->n_post);
    for (int i = 0; i < ch->n_nodes; i++)
        ortc_ir_remove_node(pc->g, ch->nodes[i]);
    ortc_ir_remove_node(pc->g, op);
    pc->stats.qdq_groups++;
    return ortc_pass_finalize(pc, "qdq");
}

static ortc_status try_conv(qdq_ctx *q, ortc_node *n)
{
    if (n->n_inputs < 2 || n->n_inputs > 3 || n->n_outputs != 1 || !n->outputs[0])
        return ORTC_STATUS_OK;
    dq_operand x, w;
    bool ok;
    ortc_status st;
    const ortc_tensor *wt, *bt = NULL;
    if ((st = dq_operands(q, n, &x, &w, &wt, &ok)) || !ok || wt->rank < 3)
        return st;
    const int64_t m = wt->dims[0], inner = numel(wt) / (m ? m : 1);
    int64_t ns = numel(w.scale_t);
    if (ns != 1 && (ns != m || (w.axis != 0 && w.axis != -wt->rank)))
        return ORTC_STATUS_OK;
    if (!weights_fit(wt, &w, m, inner))
        return ORTC_STATUS_OK;
    ortc_value *bias = n->n_inputs > 2 ? n->inputs[2] : NULL;
    if (bias && ((st = const_of(q, bias, 0, &bt)) || !bt || bt->dtype != ORTC_DTYPE_FLOAT ||
                 bt->rank != 1 || bt->dims[0] != m))
        return st;
    chain ch;
    ORTC_TRY(follow(q, n, false, m, &ch));
    if (operands_gone(n, &x, &w))
        return ORTC_STATUS_OK;
    ortc_value *in[9] = {x.q,
                         x.scale,
                         x.zero,
                         w.q,
                         w.scale,
                         w.zero,
                         ch.quant ? ch.y.scale : NULL,
                         ch.quant ? ch.y.zero : NULL,
                         bias};
    return replace(q, n, "QLinearConv", in, 9, &ch, true);
}

/* Gemm (transA 0, alpha/beta folded) and MatMul over constant 2-D weights. */
static ortc_status try_matmul(qdq_ctx *q, ortc_node *n)
{
    ortc_pass_ctx *pc = q->pc;
    bool gemm = ortc_pass_is_op(n, "Gemm");
    if (n->n_inputs < 2 || n->n_inputs > (gemm ? 3 : 2) || n->n_outputs != 1 || !n->outputs[0])
        return ORTC_STATUS_OK;
    if (gemm && ortc_node_attr_int(n, "transA", 0) != 0)
        return ORTC_STATUS_OK;
    const bool trans_b = gemm && ortc_node_attr_int(n, "transB", 0) != 0;
    const float alpha = gemm ? ortc_node_attr_float(n, "alpha", 1.0f) : 1.0f;
    const float beta = gemm ? ortc_node_attr_float(n, "beta", 1.0f) : 1.0f;
    dq_operand a, b;
    bool ok;
    ortc_status st;
    const ortc_tensor *bt, *ct = NULL;
    if ((st = dq_operands(q, n, &a, &b, &bt, &ok)) || !ok || bt->rank != 2)
        return st;
    const int64_t kdim = trans_b ? bt->dims[1] : bt->dims[0],
                  ndim = trans_b ? bt->dims[0] : bt->dims[1];
    /* per-channel: one per output column, the DQ's axis on N */
    int64_t ns = numel(b.scale_t);
    int n_axis = trans_b ? 0 : 1;
    if (ns != 1 && (ns != ndim || (b.axis != n_axis && b.axis != n_axis - 2)))
        return ORTC_STATUS_OK;
    if (!weights_fit(bt, &b, ndim, trans_b ? kdim : 1))
        return ORTC_STATUS_OK;
    ortc_value *c = gemm && n->n_inputs > 2 ? n->inputs[2] : NULL;
    if (c && beta != 0.0f && ((st = const_of(q, c, 0, &ct)) || !is_row_vector(ct, ndim)))
        return st;
    chain ch;
    ORTC_TRY(follow(q, n, !(c && beta != 0.0f), ndim, &ch));
    if (operands_gone(n, &a, &b))
        return ORTC_STATUS_OK;

    /* B as (K, N) int8; the scale times alpha; the bias beta * C or the Add's */
    ortc_value *bq = b.q, *bscale = b.scale, *bias = NULL;
    char base[600];
    if (trans_b) {
        int64_t dims[2] = {kdim, ndim};
        ortc_const_tensor *t = ortc_const_tensor_new(bt->dtype, 2, dims);
        if (t)
            transpose8(t->t.data, bt->data, ndim, kdim);
        snprintf(base, sizeof base, "%s_kn", b.q->name);
        if (!(bq = new_const(pc, base, t)))
            return pc->err->status;
    }
    if (alpha != 1.0f) {
        int64_t nd = ns;
        ortc_const_tensor *t = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, ns > 1 ? 1 : 0, &nd);
        if (t)
            for (int64_t i = 0; i < ns; i++)
                ((float *)t->t.data)[i] = alpha * ((const float *)b.scale_t->data)[i];
        snprintf(base, sizeof base, "%s_alpha", b.scale->name);
        if (!(bscale = new_const(pc, base, t)))
            return pc->err->status;
    }
    const ortc_tensor *src = ct ? ct : ch.bias ? &ch.bias->constant->t : NULL;
    if (src) {
        int64_t nd = ndim;
        ortc_const_tensor *t = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, 1, &nd);
        if (t)
            for (int64_t i = 0; i < ndim; i++)
                ((float *)t->t.data)[i] = (ct ? beta : 1.0f) * ((const float *)src->data)[i];
        snprintf(base, sizeof base, "%s_bias", n->outputs[0]->name);
        if (!(bias = new_const(pc, base, t)))
            return pc->err->status;
    }
    ortc_value *in[9] = {a.q,
                         a.scale,
                         a.zero,
                         bq,
                         bscale,
                         b.zero,
                         ch.quant ? ch.y.scale : NULL,
                         ch.quant ? ch.y.zero : NULL,
                         bias};
    return replace(q, n, "QLinearMatMul", in, bias ? 9 : 8, &ch, false);
}

static ortc_dtype value_dtype(ortc_pass_ctx *pc, const ortc_value *v);

/* ---- data movement in int8 -------------------------------------------------------------- */

/* Ops that only move or select their input 0's values (the other inputs
 * are shapes or axes): f(Q(DQ(v))) = Q(f(DQ(v))) when the parameters are
 * the same on both sides. */
static bool moves_values(const ortc_node *n)
{
    static const char *ops[] = {"Flatten",   "Reshape",   "Squeeze",
                                "Unsqueeze", "Transpose", "Identity"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (ortc_pass_is_op(n, ops[i]))
            return true;
    return false;
}

/* ---- QuantizeLinear before max pooling and data movement ------------------------------- */

/* n's parameters (*ok) when n is a QuantizeLinear as the model wrote it
 * (x, scale[, zero point] -> y), not yet given post-ops or the ortc_qdq
 * form by this pass, with constant parameters q_params_of accepts. */
static ortc_status plain_q_params(qdq_ctx *q, ortc_node *n, dq_operand *y, bool *ok)
{
    *ok = false;
    if (!ortc_pass_is_op(n, "QuantizeLinear") || n->n_inputs < 2 || n->n_inputs > 3 ||
        n->n_outputs != 1 || !n->outputs[0] || !n->inputs[0] || n->n_post_ops ||
        ortc_node_attr(n, "ortc_qdq"))
        return ORTC_STATUS_OK;
    return q_params_of(q, n, y, ok);
}

/* Q(f(x)) = f(Q(x)) for f a MaxPool (without Indices) or an op that only
 * moves values, Q a QuantizeLinear with per-tensor parameters: Q is
 * monotone non-decreasing (x / s, rounding, + z, saturation each are), and
 * a monotone non-decreasing map commutes with max (padding, which MaxPool
 * never selects, stays unselected; a NaN aside, which no quantized model
 * carries); data movement commutes with any element-wise map. Exact,
 * then, and the pooling runs on one byte per value (oneDNN's int8 pooling,
 * operators/nn/pool.c). The QuantizeLinear moves before a chain of such
 * ops, each read only by the next, when what it then reads is
 *  - DequantizeLinear(v) with the same parameters: Q(DQ(v)) = v (below),
 *    so DQ -> MaxPool -> Q runs as MaxPool on v: exactly what the graph
 *    computes in float32, as the exporter's fake-quantized pooling;
 *  - a Conv, Gemm or MatMul, or an element-wise op that can be a post-op
 *    (Relu): the producer of a QDQ group the pass then turns into an int8
 *    operator writing the quantized value directly. */
static bool hoistable(qdq_ctx *q, const ortc_node *f, ortc_dtype qt)
{
    if (!f->op || f->n_inputs < 1 || !f->inputs[0] || f->n_outputs < 1 || !f->outputs[0] ||
        !ortc_dtype_in(f->op->dtypes, qt) || value_dtype(q->pc, f->inputs[0]) != ORTC_DTYPE_FLOAT)
        return false;
    if (ortc_pass_is_op(f, "MaxPool"))
        return f->n_outputs == 1 || !f->outputs[1];
    return f->n_outputs == 1 && moves_values(f);
}

static ortc_status try_hoist(qdq_ctx *q, ortc_node *n)
{
    ortc_pass_ctx *pc = q->pc;
    dq_operand y, x;
    bool ok;
    ortc_status st;
    if ((st = plain_q_params(q, n, &y, &ok)) || !ok)
        return st;
    ortc_node *first = NULL, *last = NULL, *reader = n;
    int count = 0;
    for (ortc_value *v = n->inputs[0];; v = last->inputs[0]) {
        ortc_node *f = v->producer;
        if (!f || v->graph != pc->g || v->is_output || ortc_pass_single_user(v) != reader ||
            v->uses[0].input != 0 || !hoistable(q, f, y.dtype))
            break;
        if (!first)
            first = f;
        last = reader = f;
        count++;
    }
    if (!count)
        return ORTC_STATUS_OK;
    ortc_value *src = last->inputs[0];
    ortc_node *p = src->producer;
    ortc_post_op po;
    if (!p || src->graph != pc->g)
        return ORTC_STATUS_OK;
    if (ortc_pass_is_op(p, "DequantizeLinear")) {
        if ((st = dq_operand_of(q, src, &x, &ok)) || !ok || !same_params(&x, &y))
            return st;
    } else if (!ortc_pass_is_op(p, "Conv") && !ortc_pass_is_op(p, "Gemm") &&
               !ortc_pass_is_op(p, "MatMul") &&
               !(p->n_outputs == 1 && p->n_inputs >= 1 &&
                 ortc_pass_post_op(pc, p, 0, ORTC_DTYPE_FLOAT, &po) &&
                 po.kind != ORTC_POST_OP_SUM)) {
        return ORTC_STATUS_OK;
    }
    char base[600];
    snprintf(base, sizeof base, "%s_quantized", src->name);
    ortc_value *t = ortc_ir_new_value(pc->g, base);
    if (!t)
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory in the qdq pass");
    ortc_value *out = n->outputs[0];
    n->inputs[0] = src;
    n->outputs[0] = t;
    last->inputs[0] = t;
    first->outputs[0] = out;
    char l1[300], l2[300];
    ortc_pass_note(pc, "passes: qdq: %s moved before %d op(s) from %s, which run on '%s'",
                   ortc_pass_node_label(l1, sizeof l1, n), count,
                   ortc_pass_node_label(l2, sizeof l2, last), t->name);
    pc->stats.qdq_moved += count; /* ops now on int8 values */
    return ortc_pass_finalize(pc, "qdq");
}

/* Q(DQ(v)) = v for the same per-tensor parameters: (v - z) * s / s is v
 * within float32 rounding, far inside the half step that rounding to an
 * integer forgives, and v + z - z is in range (no saturation). The
 * readers of the QuantizeLinear's output read v. */
static ortc_status try_cancel(qdq_ctx *q, ortc_node *n)
{
    ortc_pass_ctx *pc = q->pc;
    dq_operand y, x;
    bool ok;
    ortc_status st;
    if ((st = plain_q_params(q, n, &y, &ok)) || !ok ||
        (st = dq_operand_of(q, n->inputs[0], &x, &ok)) || !ok || !same_params(&x, &y))
        return st;
    if (!ortc_ir_forward_value(pc->g, n->outputs[0], x.q))
        return ORTC_STATUS_OK;
    char l1[300];
    ortc_pass_note(pc, "passes: qdq: %s of DequantizeLinear('%s') with its parameters removed",
                   ortc_pass_node_label(l1, sizeof l1, n), x.q->name);
    for (int k = 1; k < n->n_inputs; k++)
        ortc_pass_release_constant(pc, n->inputs[k], n, NULL);
    ortc_ir_remove_node(pc->g, n); /* (counted with the ops moved into int8) */
    return ortc_pass_finalize(pc, "qdq");
}

static ortc_status try_move(qdq_ctx *q, ortc_node *n)
{
    ortc_pass_ctx *pc = q->pc;
    bool concat = ortc_pass_is_op(n, "Concat");
    if ((!concat && !moves_values(n)) || !n->op || n->n_outputs != 1 || !n->outputs[0] ||
        n->n_inputs < 1)
        return ORTC_STATUS_OK;
    ortc_node *u = ortc_pass_single_user(n->outputs[0]);
    if (!u || !ortc_pass_is_op(u, "QuantizeLinear") || n->outputs[0]->uses[0].input != 0)
        return ORTC_STATUS_OK;
    dq_operand y, x;
    bool ok;
    ortc_status st;
    if ((st = q_params_of(q, u, &y, &ok)) || !ok || !ortc_dtype_in(n->op->dtypes, y.dtype))
        return st;
    int n_data = concat ? n->n_inputs : 1;
    ortc_value *src[64];
    if (n_data > 64)
        return ORTC_STATUS_OK;
    for (int i = 0; i < n_data; i++) {
        if ((st = dq_operand_of(q, n->inputs[i], &x, &ok)) || !ok || !same_params(&x, &y))
            return st;
        src[i] = x.q;
    }
    for (int i = 0; i < n_data; i++)
        n->inputs[i] = src[i];
    n->outputs[0] = u->outputs[0];
    char l1[300];
    ortc_pass_note(pc, "passes: qdq: %s runs on int8 '%s' -> '%s'",
                   ortc_pass_node_label(l1, sizeof l1, n), src[0]->name, u->outputs[0]->name);
    ortc_ir_remove_node(pc->g, u);
    pc->stats.qdq_moved++;
    return ortc_pass_finalize(pc, "qdq");
}

/* ---- float32 element-wise ops before a QuantizeLinear ---------------------------------- */

/* v's dtype: inferred, else alike under both probes of the symbolic dims
 * (a model with a batch dim); UNDEFINED when unknown. */
static ortc_dtype value_dtype(ortc_pass_ctx *pc, const ortc_value *v)
{
    const ortc_pass_info *in = ortc_pass_value(pc, v);
    if (in && in->dtype != ORTC_DTYPE_UNDEFINED)
        return in->dtype;
    const ortc_pass_info *a = ortc_pass_probe(pc, v, 0), *b = ortc_pass_probe(pc, v, 1);
    return a && b && a->dtype == b->dtype ? a->dtype : ORTC_DTYPE_UNDEFINED;
}

/* x -> [Add(x, s) ->] f1 -> ... -> fk -> v -> QuantizeLinear (per-tensor
 * constant parameters), each intermediate but v read only there, f the ops
 * that describe themselves as post-ops (Relu, Clip, ...) and the Add one
 * of two float32 values of one shape: a QuantizeLinear in its ortc_qdq form
 * reads x, applies [sum s,] f1..fk, quantizes, and writes v as output 1
 * when anything else reads v (a residual's float32 value). */
static ortc_status try_quant(qdq_ctx *q, ortc_node *n)
{
    ortc_pass_ctx *pc = q->pc;
    dq_operand y;
    bool ok;
    ortc_status st;
    if ((st = plain_q_params(q, n, &y, &ok)) || !ok)
        return st;
    ortc_node *ops[ORTC_MAX_POST_OPS];
    ortc_post_op post[ORTC_MAX_POST_OPS];
    int count = 0;
    ortc_value *const last = n->inputs[0];
    ortc_value *v = last, *sum = NULL;
    const bool keep = ortc_pass_single_user(last) != n; /* v also read elsewhere */
    ortc_node *reader = n;
    while (count < ORTC_MAX_POST_OPS) {
        ortc_node *p = v->producer;
        if (!p || v->graph != pc->g || (v != last && ortc_pass_single_user(v) != reader) ||
            p->n_outputs != 1 || value_dtype(pc, v) != ORTC_DTYPE_FLOAT)
            break;
        ortc_post_op po;
        if (ortc_pass_is_op(p, "Add")) {
            /* a sum of two float32 values of one shape (no broadcast) */
            if (p->n_inputs != 2 || !p->inputs[0] || !p->inputs[1] ||
                !ortc_pass_post_op(pc, p, 0, ORTC_DTYPE_FLOAT, &po) || po.kind != ORTC_POST_OP_SUM)
                break;
            post[count] = po;
            ops[count++] = p;
            sum = p->inputs[1];
            v = p->inputs[0];
            break; /* a sum comes first */
        }
        if (p->n_inputs < 1 || !p->inputs[0] ||
            !ortc_pass_post_op(pc, p, 0, ORTC_DTYPE_FLOAT, &po) || po.kind == ORTC_POST_OP_SUM)
            break;
        post[count] = po;
        ops[count++] = p;
        reader = p;
        v = p->inputs[0];
    }
    if (!count)
        return ORTC_STATUS_OK;
    /* the fused node in n's place: inputs x, scale, zero[, s]; outputs y[, v] */
    ortc_node *f = insert_fused(pc, n, "QuantizeLinear",
                                sum ? ORTC_FUSED_SUM_INPUT + 1 : n->n_inputs, keep ? 2 : 1, true);
    if (!f)
        return ORTC_STATUS_OUT_OF_MEMORY;
    for (int i = 0; i < n->n_inputs; i++)
        f->inputs[i] = n->inputs[i];
    f->inputs[0] = v;
    if (sum)
        f->inputs[ORTC_FUSED_SUM_INPUT] = sum;
    f->outputs[0] = n->outputs[0];
    if (keep)
        f->outputs[1] = last;
    for (int i = count - 1; i >= 0; i--) /* collected from the QuantizeLinear backwards */
        ortc_node_add_post_op(f, post[i]);
    char l1[300];
    ortc_pass_note(
        pc, "passes: qdq: %d float32 element-wise op(s) folded into %s, reading '%s'%s%s%s%s",
        count, ortc_pass_node_label(l1, sizeof l1, f), v->name, sum ? " + '" : "",
        sum ? sum->name : "", sum ? "'" : "", keep ? ", also writing the float value" : "");
    for (int i = 0; i < count; i++)
        ortc_ir_remove_node(pc->g, ops[i]);
    ortc_ir_remove_node(pc->g, n);
    pc->stats.qdq_quant++;
    return ortc_pass_finalize(pc, "qdq");
}

/* ---- the pass ---------------------------------------------------------------------------- */

typedef ortc_status (*qdq_try)(qdq_ctx *q, ortc_node *n);

/* Applies fn to each node present now (nodes fn removes are skipped). */
static ortc_status for_each(qdq_ctx *q, qdq_try fn)
{
    ortc_graph *g = q->pc->g;
    int count = g->n_nodes;
    ortc_node **nodes = malloc((size_t)(count ? count : 1) * sizeof *nodes);
    if (!nodes)
        return ortc_err_set(q->pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory in the qdq pass");
    memcpy(nodes, g->nodes, (size_t)count * sizeof *nodes);
    ortc_status st = ORTC_STATUS_OK;
    for (int i = 0; !st && i < count; i++) {
        bool present = false; /* a group removes its followers */
        for (int k = 0; k < g->n_nodes && !present; k++)
            present = g->nodes[k] == nodes[i];
        if (present)
            st = fn(q, nodes[i]);
    }
    free(nodes);
    return st;
}

static ortc_status try_group(qdq_ctx *q, ortc_node *n)
{
    if (ortc_pass_is_op(n, "Conv"))
        return try_conv(q, n);
    if (ortc_pass_is_op(n, "Gemm") || ortc_pass_is_op(n, "MatMul"))
        return try_matmul(q, n);
    return ORTC_STATUS_OK;
}

ortc_status ortc_pass_qdq(ortc_pass_ctx *pc)
{
    bool any = false;
    for (int i = 0; i < pc->g->n_nodes && !any; i++)
        any = ortc_pass_is_op(pc->g->nodes[i], "DequantizeLinear") ||
              ortc_pass_is_op(pc->g->nodes[i], "QuantizeLinear");
    if (!any)
        return ORTC_STATUS_OK;
    /* exporters share parameters through Identity nodes (PyTorch: one
     * zero point tensor read as Identity(other's)); Identity is not
     * foldable (it also passes sequences and optionals), so readers read
     * its input first, as the eliminate pass would after folding */
    ORTC_TRY(ortc_pass_eliminate(pc));
    qdq_ctx q = {.pc = pc};
    ortc_status st = for_each(&q, try_hoist);
    if (!st)
        st = for_each(&q, try_cancel);
    if (!st) /* the types of the values hoisting made */
        st = ortc_pass_infer(pc);
    if (!st)
        st = for_each(&q, try_group);
    if (!st)
        st = for_each(&q, try_move);
    if (!st) /* shapes of the values the groups made (an Add's operands) */
        st = ortc_pass_infer(pc);
    if (!st)
        st = for_each(&q, try_quant);
    /* the DequantizeLinear nodes of weights and inputs the groups no longer
     * read go now: constant folding (the next pass) would otherwise
     * dequantize every weight tensor before dead-node elimination */
    for (int i = pc->g->n_nodes - 1; !st && i >= 0; i--) {
        ortc_node *n = pc->g->nodes[i];
        ortc_value *v = n->n_outputs == 1 ? n->outputs[0] : NULL;
        if (!ortc_pass_is_op(n, "DequantizeLinear") || !v || v->is_output || v->n_uses)
            continue;
        for (int k = 0; k < n->n_inputs; k++)
            ortc_pass_release_constant(pc, n->inputs[k], n, NULL);
        ortc_ir_remove_node(pc->g, n);
        pc->stats.dead_nodes++;
        st = ortc_pass_finalize(pc, "qdq");
        i = pc->g->n_nodes; /* finalize may reorder */
    }
    return st;
}
