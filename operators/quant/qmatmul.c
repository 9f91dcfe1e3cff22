/* qmatmul.c — QLinearMatMul and MatMulInteger (opset 10): numpy matmul
 * (1-D operands, batch broadcasting) of uint8/int8 operands with exact
 * integer accumulation; A's scale and zero point per tensor or per row,
 * B's per tensor or per column; QLinearMatMul requantizes (and in the
 * graph pass's ortc_qdq mode, qlinear.h, adds a float32 bias [N], may
 * output float32 and applies fused post-ops), MatMulInteger outputs int32.
 *
 * oneDNN's int8 matmul runs them on a CPU with VNNI (ortc_q_dnnl_exact,
 * qdnnl.h) when B is one constant matrix, A's
 * parameters are per tensor and every parameter is a constant: B minus its
 * zero points folded to int8 and packed once, A's batch dims folded into
 * rows, A's zero point as oneDNN's source zero point, output scales
 * a_scale * b_scale[n], then as QLinearConv (qconv.c) times 1 / y_scale,
 * rounding, + y_zero_point and saturation: within one quantization
 * step of the plain-C reference. Otherwise the plain-C reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "error.h"
#include "math/broadcast.h"
#include "op_util.h"
#include "plain_util.h"
#include "qlinear.h"

typedef struct qmm {
    ortc_qlin p; /* qlinear: QLinearMatMul (else MatMulInteger); p.x: 1 or m
                    parameters (per row of A), p.w: 1 or n (per column of B) */
    int a, b, bias;
    ortc_matmul_shape sh;
} qmm;

/* t holds `count` values along dim `at` from the end (2: rows, 1:
 * columns): shape [count] or (1, ..., count at that place, ..., 1). */
static bool along(const ortc_tensor *t, int64_t count, int at)
{
    if (t->rank == 1)
        return t->dims[0] == count;
    if (t->rank < at)
        return false;
    for (int d = 0; d < t->rank; d++)
        if (t->dims[d] != (d == t->rank - at ? count : 1))
            return false;
    return true;
}

/* The scale (scale_in >= 0) and zero point of operand `what`: one pair, or
 * `count` along rows (at = 2) or columns (at = 1). */
static ortc_status mm_param(ortc_opctx *c, ortc_qparam *p, ortc_dtype dtype, int scale_in,
                            int zero_in, int64_t count, int at, const char *what)
{
    *p = (ortc_qparam){.dtype = dtype, .n = 1, .axis = -1, .scale_in = scale_in, .zero_in = -1};
    const ortc_tensor *s = ortc_plain_input(c, scale_in), *z = ortc_plain_input(c, zero_in);
    const char *per = at == 2 ? "row" : "column";
    char sh[128];
    if (scale_in >= 0) {
        if (!s)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "the scale of %s (input %d) is missing", what, scale_in);
        if (s->dtype != ORTC_DTYPE_FLOAT)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL, "scale '%s' of %s is %s; scales are float32",
                ortc_plain_input_name(c, scale_in), what, ortc_dtype_name(s->dtype));
        int64_t n = ortc_tensor_numel(s);
        if (n != 1 && !along(s, count, at))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "scale '%s' has shape %s; %s takes a scalar or one per %s (%lld)",
                                 ortc_plain_input_name(c, scale_in),
                                 ortc_shape_str(sh, sizeof sh, s->rank, s->dims), what, per,
                                 (long long)count);
        p->n = n;
    }
    if (z) {
        ORTC_TRY(ortc_qparam_check_zero_type(c, zero_in, dtype, what));
        int64_t n = ortc_tensor_numel(z);
        bool ok = n == 1 || along(z, count, at);
        if (scale_in >= 0)
            ok = ok && n == p->n;
        if (!ok)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "zero point '%s' has shape %s; %s takes %s",
                                 ortc_plain_input_name(c, zero_in),
                                 ortc_shape_str(sh, sizeof sh, z->rank, z->dims), what,
                                 scale_in >= 0 ? "the shape of its scale"
                                 : at == 2     ? "a scalar or one per row"
                                               : "a scalar or one per column");
        p->n = n;
        p->zero_in = zero_in;
    }
    if (scale_in >= 0)
        return ortc_qparam_values(c, p);
    p->zero = z ? z->data : NULL;
    return ORTC_STATUS_OK;
}

/* QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point,
 * y_scale, y_zero_point[, bias (ortc_qdq)]. MatMulInteger: A, B[,
 * a_zero_point[, b_zero_point]]. */
static ortc_status qmm_check(ortc_opctx *c, qmm *q)
{
    bool qdq;
    memset(q, 0, sizeof *q);
    q->bias = -1;
    ORTC_TRY(ortc_qlin_begin(c, &q->p, "QLinearMatMul", 8, &qdq, &q->a, &q->b));
    ORTC_TRY(ortc_matmul_shape_init(c, &q->sh, q->a, q->b));
    const ortc_tensor *a = c->in[q->a], *b = c->in[q->b];
    char aw[300], bw[300];
    snprintf(aw, sizeof aw, "A '%s'", ortc_plain_input_name(c, q->a));
    snprintf(bw, sizeof bw, "B '%s'", ortc_plain_input_name(c, q->b));
    int64_t rows = a->rank >= 2 ? q->sh.m : 1, cols = b->rank >= 2 ? q->sh.n : 1;
    if (!q->p.qlinear) {
        q->p.ydtype = ORTC_DTYPE_INT32;
        if (c->node->n_post_ops)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "MatMulInteger takes no post-ops");
        ORTC_TRY(mm_param(c, &q->p.x, a->dtype, -1, ortc_plain_input(c, 2) ? 2 : -1, rows, 2, aw));
        return mm_param(c, &q->p.w, b->dtype, -1, ortc_plain_input(c, 3) ? 3 : -1, cols, 1, bw);
    }
    ORTC_TRY(mm_param(c, &q->p.x, a->dtype, 1, ortc_plain_input(c, 2) ? 2 : -1, rows, 2, aw));
    ORTC_TRY(mm_param(c, &q->p.w, b->dtype, 4, ortc_plain_input(c, 5) ? 5 : -1, cols, 1, bw));
    const ortc_tensor *ys = ortc_plain_input(c, 6), *yz = ortc_plain_input(c, 7);
    if (!qdq && (!c->in[2] || !c->in[5] || !ys || !yz))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing",
                             !c->in[2]   ? 2
                             : !c->in[5] ? 5
                             : !ys       ? 6
                                         : 7);
    ORTC_TRY(ortc_qlin_read_output(c, &q->p, q->sh.out_rank, q->sh.out_dims));
    const ortc_tensor *bias = ortc_plain_input(c, 8);
    if (bias) {
        char sb[128];
        if (bias->dtype != ORTC_DTYPE_FLOAT || bias->rank != 1 || bias->dims[0] != q->sh.n)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL, "bias '%s' is %s %s; it must be float32 [%lld]",
                ortc_plain_input_name(c, 8), ortc_dtype_name(bias->dtype),
                ortc_shape_str(sb, sizeof sb, bias->rank, bias->dims), (long long)q->sh.n);
        q->bias = 8;
    }
    return ortc_q_check_post_ops(c);
}

ortc_status ortc_qmatmul_infer(ortc_opctx *c)
{
    qmm q;
    ortc_status st = qmm_check(c, &q);
    if (!st)
        ortc_op_set_output(c, 0, q.p.ydtype, q.sh.out_rank, q.sh.out_dims);
    return st;
}

/* The output stage for row i (A's scale per row). */
static ortc_qout qmm_out(const ortc_opctx *c, const qmm *q, int64_t row)
{
    ortc_qout o = ortc_qlin_out(c, &q->p, q->p.x.n > 1 ? row : 0);
    if (q->p.qlinear && q->bias >= 0)
        o.bias_f = c->in[q->bias]->data;
    return o;
}

static inline int32_t q_at(const void *p, ortc_dtype d, int64_t i)
{
    return d == ORTC_DTYPE_UINT8 ? (int32_t)((const uint8_t *)p)[i]
                                 : (int32_t)((const int8_t *)p)[i];
}

ortc_status ortc_qmatmul_reference(ortc_opctx *c)
{
    qmm q;
    ortc_status st = qmm_check(c, &q);
    if (st || (st = ortc_qlin_values(c, &q.p)))
        return st;
    const ortc_tensor *a = c->in[q.a], *b = c->in[q.b];
    ortc_bcast bc, rows;
    ortc_bcast_init(&bc, q.sh.brank, q.sh.batch, q.sh.a_brank, q.sh.a_batch, q.sh.b_brank,
                    q.sh.b_batch);
    /* ortc_bcast_row walks all dims but the last: a unit dim makes every
     * batch index its own row */
    rows = bc;
    rows.dims[rows.rank] = 1;
    rows.a_stride[rows.rank] = rows.b_stride[rows.rank] = 0;
    rows.rank++;
    const int64_t batches = ortc_bcast_numel(&bc), M = q.sh.m, K = q.sh.k, N = q.sh.n;
    void *y = c->out[0]->data;
    for (int64_t t = 0; t < batches; t++) {
        int64_t oa, ob;
        ortc_bcast_row(&rows, t, &oa, &ob);
        for (int64_t i = 0; i < M; i++) {
            ortc_qout o = qmm_out(c, &q, i);
            int32_t za = ortc_qparam_zero(&q.p.x, q.p.x.n > 1 ? i : 0);
            for (int64_t j = 0; j < N; j++) {
                int32_t zb = ortc_qparam_zero(&q.p.w, q.p.w.n > 1 ? j : 0);
                int64_t acc = 0;
                for (int64_t p = 0; p < K; p++)
                    acc += (int64_t)(q_at(a->data, a->dtype, oa * M * K + i * K + p) - za) *
                           (q_at(b->data, b->dtype, ob * K * N + p * N + j) - zb);
                ortc_qout_store(&o, y, (t * M + i) * N + j, j, acc);
            }
        }
    }
    return ORTC_STATUS_OK;
}

static ortc_status qmm_build(ortc_opctx *c, void *state)
{
    ortc_qlin_state *s = state;
    qmm q;
    size_t used = 0;
    ORTC_TRY(qmm_check(c, &q));
    const ortc_tensor *a = c->in[q.a], *b = c->in[q.b];
    int64_t nbatch = 1;
    for (int i = 0; i < q.sh.brank; i++)
        nbatch *= q.sh.batch[i];
    const int64_t rows = nbatch * q.sh.m;
    if (q.sh.b_brank > 0 || q.p.x.n > 1 || !ortc_qlin_constant(c, &q.p, q.b, q.bias) || rows == 0 ||
        q.sh.n == 0 || q.sh.k == 0 || !ortc_q_dnnl_exact()) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    ORTC_TRY(ortc_qlin_values(c, &q.p));
    int8_t *bf = NULL;
    ORTC_TRY(ortc_q_fold_weights(c, &bf, b->data, b->dtype, q.sh.k * q.sh.n, &q.p.w, q.sh.n, 1));
    if (!bf) {
        s->use_ref = true; /* B - b_zero_point leaves int8 */
        return ORTC_STATUS_OK;
    }
    ortc_qout o = qmm_out(c, &q, 0);
    int64_t adims[2] = {rows, q.sh.k}, bdims[2] = {q.sh.k, q.sh.n}, ydims[2] = {rows, q.sh.n};
    int64_t biasdims[2] = {1, q.sh.n};
    dnnl_memory_desc_t amd, bplain, bany, ymd, biasmd;
    bool has_bias = q.bias >= 0;
    ortc_status st;
    if ((st = ortc_dnnl_md_typed(c, &amd, 2, adims, a->dtype, dnnl_format_tag_undef)) ||
        (st = ortc_dnnl_md_typed(c, &bplain, 2, bdims, ORTC_DTYPE_INT8, dnnl_format_tag_undef)) ||
        (st = ortc_dnnl_md_typed(c, &bany, 2, bdims, ORTC_DTYPE_INT8, dnnl_format_tag_any)) ||
        (st = ortc_dnnl_md_typed(c, &ymd, 2, ydims, q.p.ydtype, dnnl_format_tag_undef)) ||
        (has_bias && (st = ortc_dnnl_md_typed(c, &biasmd, 2, biasdims, ORTC_DTYPE_FLOAT,
                                              dnnl_format_tag_undef)))) {
        ortc_q_weights_free(bf, b->data);
        return st;
    }
    dnnl_matmul_desc_t desc;
    dnnl_status_t ds = dnnl_matmul_desc_init(&desc, &amd, &bany, has_bias ? &biasmd : NULL, &ymd);
    if (ds != dnnl_success) {
        ortc_q_weights_free(bf, b->data);
        return ortc_dnnl_error(c, ds, "dnnl_matmul_desc_init", __FILE__, __LINE__);
    }
    return ortc_qprim_create(c, &s->prim, &desc, &o, ortc_qparam_zero(&q.p.x, 0), q.sh.n, q.a, &amd,
                             q.b, &bplain, bf, &s->use_ref, &used);
}

ortc_status ortc_qmatmul_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_qlin_state), qmm_build, ortc_qlin_release);
}

ortc_status ortc_qmatmul_run(ortc_opctx *c)
{
    return ortc_qlin_run(c, ortc_qmatmul_reference);
}

double ortc_qmatmul_flops(const ortc_opctx *c)
{
    const ortc_tensor *a = c->n_in > 0 ? c->in[0] : NULL;
    if (!a || a->rank < 1 || c->n_out < 1)
        return 0;
    return ortc_op_flops(c->out[0], (double)a->dims[a->rank - 1]);
}
