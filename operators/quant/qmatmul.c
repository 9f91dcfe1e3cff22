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

#include "math/broadcast.h"
#include "qlinear.h"

typedef struct qmm {
    bool qlinear; /* QLinearMatMul (else MatMulInteger) */
    int a, b, bias;
    int64_t m, k, n;
    int brank, a_brank, b_brank;
    int64_t batch[ORTC_MAX_RANK], a_batch[ORTC_MAX_RANK], b_batch[ORTC_MAX_RANK];
    int out_rank;
    int64_t out_dims[ORTC_MAX_RANK];
    ortc_qparam aq, bq, yq; /* aq.n: 1 or m (per row); bq.n: 1 or n (per column) */
    ortc_dtype ydtype;
} qmm;

typedef struct qmm_state {
    bool use_ref;
    ortc_qprim prim;
} qmm_state;

static const char *in_name(const ortc_opctx *c, int i)
{
    return i >= 0 && i < c->n_in && c->node->inputs[i] ? c->node->inputs[i]->name : "";
}

static const ortc_tensor *in_at(const ortc_opctx *c, int i)
{
    return i >= 0 && i < c->n_in ? c->in[i] : NULL;
}

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
    const ortc_tensor *s = in_at(c, scale_in), *z = in_at(c, zero_in);
    const char *per = at == 2 ? "row" : "column";
    char sh[128];
    if (scale_in >= 0) {
        if (!s)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "the scale of %s (input %d) is missing", what, scale_in);
        if (s->dtype != ORTC_DTYPE_FLOAT)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "scale '%s' of %s is %s; scales are float32", in_name(c, scale_in),
                                 what, ortc_dtype_name(s->dtype));
        int64_t n = ortc_tensor_numel(s);
        if (n != 1 && !along(s, count, at))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "scale '%s' has shape %s; %s takes a scalar or one per %s (%lld)",
                                 in_name(c, scale_in),
                                 ortc_shape_str(sh, sizeof sh, s->rank, s->dims), what, per,
                                 (long long)count);
        p->n = n;
    }
    if (z) {
        if (z->dtype != dtype)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "zero point '%s' is %s; %s is %s: they must have the same type",
                                 in_name(c, zero_in), ortc_dtype_name(z->dtype), what,
                                 ortc_dtype_name(dtype));
        int64_t n = ortc_tensor_numel(z);
        bool ok = n == 1 || along(z, count, at);
        if (scale_in >= 0)
            ok = ok && n == p->n;
        if (!ok)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "zero point '%s' has shape %s; %s takes %s", in_name(c, zero_in),
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

/* numpy matmul shapes of inputs a and b (gemm.c's MatMul rules). */
static ortc_status mm_shapes(ortc_opctx *c, qmm *q)
{
    const ortc_tensor *a = c->in[q->a], *b = c->in[q->b];
    char sa[128], sb[128];
    ortc_shape_str(sa, sizeof sa, a->rank, a->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    if (a->rank < 1 || b->rank < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' is a scalar; %s needs rank >= 1",
                             in_name(c, a->rank < 1 ? q->a : q->b), c->node->op_type);
    bool a_vec = a->rank == 1, b_vec = b->rank == 1;
    q->m = a_vec ? 1 : a->dims[a->rank - 2];
    q->k = a->dims[a->rank - 1];
    int64_t kb = b_vec ? b->dims[0] : b->dims[b->rank - 2];
    q->n = b_vec ? 1 : b->dims[b->rank - 1];
    if (kb != q->k)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inner dims differ: A '%s' %s has K=%lld, B '%s' %s has K=%lld",
                             in_name(c, q->a), sa, (long long)q->k, in_name(c, q->b), sb,
                             (long long)kb);
    q->a_brank = a_vec ? 0 : a->rank - 2;
    q->b_brank = b_vec ? 0 : b->rank - 2;
    memcpy(q->a_batch, a->dims, (size_t)q->a_brank * sizeof *a->dims);
    memcpy(q->b_batch, b->dims, (size_t)q->b_brank * sizeof *b->dims);
    q->brank = q->a_brank > q->b_brank ? q->a_brank : q->b_brank;
    for (int i = 0; i < q->brank; i++) {
        int ia = i - (q->brank - q->a_brank), ib = i - (q->brank - q->b_brank);
        int64_t da = ia >= 0 ? q->a_batch[ia] : 1, db = ib >= 0 ? q->b_batch[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "batch dims of A '%s' %s and B '%s' %s cannot be broadcast",
                                 in_name(c, q->a), sa, in_name(c, q->b), sb);
        q->batch[i] = da == 1 ? db : da;
    }
    q->out_rank = 0;
    for (int i = 0; i < q->brank; i++)
        q->out_dims[q->out_rank++] = q->batch[i];
    if (!a_vec)
        q->out_dims[q->out_rank++] = q->m;
    if (!b_vec)
        q->out_dims[q->out_rank++] = q->n;
    return ORTC_STATUS_OK;
}

/* QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point,
 * y_scale, y_zero_point[, bias (ortc_qdq)]. MatMulInteger: A, B[,
 * a_zero_point[, b_zero_point]]. */
static ortc_status qmm_check(ortc_opctx *c, qmm *q)
{
    ortc_status st;
    memset(q, 0, sizeof *q);
    q->qlinear = !strcmp(c->node->op_type, "QLinearMatMul");
    bool qdq = q->qlinear && ortc_q_qdq_mode(c);
    q->a = 0;
    q->b = q->qlinear ? 3 : 1;
    q->bias = -1;
    if (q->qlinear) {
        if ((st = ortc_op_check_arity(c, qdq ? 5 : 8, qdq ? 9 : 8, 1, 1)))
            return st;
        for (int i = 0; i < 5; i++)
            if (i != 2 && !c->in[i])
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing",
                                     i);
    } else if ((st = ortc_op_check_arity(c, 2, 4, 1, 1))) {
        return st;
    }
    if ((st = ortc_op_check_input(c, q->a)) ||
        (st = ortc_op_check_dtypes(c, q->b, ORTC_DT(INT8) | ORTC_DT(UINT8))) ||
        (st = mm_shapes(c, q)))
        return st;
    const ortc_tensor *a = c->in[q->a], *b = c->in[q->b];
    char aw[300], bw[300];
    snprintf(aw, sizeof aw, "A '%s'", in_name(c, q->a));
    snprintf(bw, sizeof bw, "B '%s'", in_name(c, q->b));
    int64_t rows = a->rank >= 2 ? q->m : 1, cols = b->rank >= 2 ? q->n : 1;
    if (!q->qlinear) {
        q->ydtype = ORTC_DTYPE_INT32;
        if (c->node->n_post_ops)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "MatMulInteger takes no post-ops");
        if ((st = mm_param(c, &q->aq, a->dtype, -1, in_at(c, 2) ? 2 : -1, rows, 2, aw)))
            return st;
        return mm_param(c, &q->bq, b->dtype, -1, in_at(c, 3) ? 3 : -1, cols, 1, bw);
    }
    if ((st = mm_param(c, &q->aq, a->dtype, 1, in_at(c, 2) ? 2 : -1, rows, 2, aw)) ||
        (st = mm_param(c, &q->bq, b->dtype, 4, in_at(c, 5) ? 5 : -1, cols, 1, bw)))
        return st;
    const ortc_tensor *ys = in_at(c, 6), *yz = in_at(c, 7);
    if (!qdq && (!c->in[2] || !c->in[5] || !ys || !yz))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required input %d is missing",
                             !c->in[2]   ? 2
                             : !c->in[5] ? 5
                             : !ys       ? 6
                                         : 7);
    if (yz && !ys)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "y_zero_point '%s' is set but y_scale is missing", in_name(c, 7));
    if (ys) {
        q->ydtype = yz ? yz->dtype : ORTC_DTYPE_UINT8;
        if (!ortc_q_is_8bit(q->ydtype))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "y_zero_point '%s' is %s; the output is uint8 or int8",
                                 in_name(c, 7), ortc_dtype_name(q->ydtype));
        if ((st = ortc_qparam_read(c, &q->yq, q->ydtype, q->out_rank, q->out_dims, ORTC_Q_TENSOR,
                                   -1, 6, yz ? 7 : -1, "the output")))
            return st;
    } else {
        q->ydtype = ORTC_DTYPE_FLOAT;
    }
    const ortc_tensor *bias = in_at(c, 8);
    if (bias) {
        char sb[128];
        if (bias->dtype != ORTC_DTYPE_FLOAT || bias->rank != 1 || bias->dims[0] != q->n)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL, "bias '%s' is %s %s; it must be float32 [%lld]",
                in_name(c, 8), ortc_dtype_name(bias->dtype),
                ortc_shape_str(sb, sizeof sb, bias->rank, bias->dims), (long long)q->n);
        q->bias = 8;
    }
    return ortc_q_check_post_ops(c);
}

ortc_status ortc_qmatmul_infer(ortc_opctx *c)
{
    qmm q;
    ortc_status st = qmm_check(c, &q);
    if (!st)
        ortc_op_set_output(c, 0, q.ydtype, q.out_rank, q.out_dims);
    return st;
}

static ortc_status qmm_values(ortc_opctx *c, qmm *q)
{
    ortc_status st;
    if (!q->qlinear) {
        q->aq.zero = q->aq.zero_in >= 0 ? c->in[q->aq.zero_in]->data : NULL;
        q->bq.zero = q->bq.zero_in >= 0 ? c->in[q->bq.zero_in]->data : NULL;
        return ORTC_STATUS_OK;
    }
    if ((st = ortc_qparam_values(c, &q->aq)) || (st = ortc_qparam_values(c, &q->bq)))
        return st;
    return ortc_q_is_8bit(q->ydtype) ? ortc_qparam_values(c, &q->yq) : ORTC_STATUS_OK;
}

/* The output stage for row i (A's scale per row). */
static ortc_qout qmm_out(const ortc_opctx *c, const qmm *q, int64_t row)
{
    ortc_qout o = {.dtype = q->ydtype, .post = c->node->n_post_ops ? c : NULL};
    if (!q->qlinear)
        return o;
    o.x_scale = q->aq.scale[q->aq.n > 1 ? row : 0];
    o.w_scale = q->bq.scale;
    o.w_n = q->bq.n;
    if (q->bias >= 0)
        o.bias_f = c->in[q->bias]->data;
    if (ortc_q_is_8bit(q->ydtype)) {
        o.y_scale = q->yq.scale[0];
        o.y_zero = ortc_qparam_zero(&q->yq, 0);
    }
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
    if (st || (st = qmm_values(c, &q)))
        return st;
    const ortc_tensor *a = c->in[q.a], *b = c->in[q.b];
    ortc_bcast bc, rows;
    ortc_bcast_init(&bc, q.brank, q.batch, q.a_brank, q.a_batch, q.b_brank, q.b_batch);
    /* ortc_bcast_row walks all dims but the last: a unit dim makes every
     * batch index its own row */
    rows = bc;
    rows.dims[rows.rank] = 1;
    rows.a_stride[rows.rank] = rows.b_stride[rows.rank] = 0;
    rows.rank++;
    const int64_t batches = ortc_bcast_numel(&bc), M = q.m, K = q.k, N = q.n;
    void *y = c->out[0]->data;
    for (int64_t t = 0; t < batches; t++) {
        int64_t oa, ob;
        ortc_bcast_row(&rows, t, &oa, &ob);
        for (int64_t i = 0; i < M; i++) {
            ortc_qout o = qmm_out(c, &q, i);
            int32_t za = ortc_qparam_zero(&q.aq, q.aq.n > 1 ? i : 0);
            for (int64_t j = 0; j < N; j++) {
                int32_t zb = ortc_qparam_zero(&q.bq, q.bq.n > 1 ? j : 0);
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

static bool qmm_constant(const ortc_opctx *c, const qmm *q)
{
    if (!c->in[q->b]->data || (q->bias >= 0 && !c->in[q->bias]->data))
        return false;
    if (q->aq.zero_in >= 0 && !c->in[q->aq.zero_in]->data)
        return false;
    if (q->bq.zero_in >= 0 && !c->in[q->bq.zero_in]->data)
        return false;
    if (!q->qlinear)
        return true;
    return ortc_qparam_known(c, &q->aq) && ortc_qparam_known(c, &q->bq) &&
           (!ortc_q_is_8bit(q->ydtype) || ortc_qparam_known(c, &q->yq));
}

static ortc_status qmm_build(ortc_opctx *c, qmm_state *s)
{
    qmm q;
    size_t used = 0;
    ortc_status st = qmm_check(c, &q);
    if (st)
        return st;
    const ortc_tensor *a = c->in[q.a], *b = c->in[q.b];
    int64_t nbatch = 1;
    for (int i = 0; i < q.brank; i++)
        nbatch *= q.batch[i];
    const int64_t rows = nbatch * q.m;
    if (q.b_brank > 0 || q.aq.n > 1 || !qmm_constant(c, &q) || rows == 0 || q.n == 0 || q.k == 0 ||
        !ortc_q_dnnl_exact()) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    if ((st = qmm_values(c, &q)))
        return st;
    int8_t *bf = NULL;
    if ((st = ortc_q_fold_weights(c, &bf, b->data, b->dtype, q.k * q.n, &q.bq, q.n, 1)))
        return st;
    if (!bf) {
        s->use_ref = true; /* B - b_zero_point leaves int8 */
        return ORTC_STATUS_OK;
    }
    ortc_qout o = qmm_out(c, &q, 0);
    int64_t adims[2] = {rows, q.k}, bdims[2] = {q.k, q.n}, ydims[2] = {rows, q.n};
    int64_t biasdims[2] = {1, q.n};
    dnnl_memory_desc_t amd, bplain, bany, ymd, biasmd;
    bool has_bias = q.bias >= 0;
    if ((st = ortc_q_md(c, &amd, 2, adims, a->dtype, dnnl_format_tag_undef)) ||
        (st = ortc_q_md(c, &bplain, 2, bdims, ORTC_DTYPE_INT8, dnnl_format_tag_undef)) ||
        (st = ortc_q_md(c, &bany, 2, bdims, ORTC_DTYPE_INT8, dnnl_format_tag_any)) ||
        (st = ortc_q_md(c, &ymd, 2, ydims, q.ydtype, dnnl_format_tag_undef)) ||
        (has_bias &&
         (st = ortc_q_md(c, &biasmd, 2, biasdims, ORTC_DTYPE_FLOAT, dnnl_format_tag_undef)))) {
        free(bf);
        return st;
    }
    dnnl_matmul_desc_t desc;
    dnnl_status_t ds = dnnl_matmul_desc_init(&desc, &amd, &bany, has_bias ? &biasmd : NULL, &ymd);
    if (ds != dnnl_success) {
        free(bf);
        return ortc_dnnl_error(c, ds, "dnnl_matmul_desc_init", __FILE__, __LINE__);
    }
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    bool unimpl = false;
    if (!(st = ortc_qout_attr(c, &o, ortc_qparam_zero(&q.aq, 0), 1, q.n, &attr)) &&
        !(st = ortc_qout_bias(c, &o, q.n, &s->prim.bias_data)))
        st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (!st && (unimpl || ortc_dnnl_impl_is_ref(pd))) {
        if (pd)
            dnnl_primitive_desc_destroy(pd);
        free(bf);
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    if (st) {
        free(bf);
        return st;
    }
    st = ortc_qprim_bind(c, &s->prim, pd, q.a, &amd, &bplain, bf, &used);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

void ortc_qmatmul_release(ortc_opctx *c)
{
    qmm_state *s = c->state;
    if (!s)
        return;
    ortc_qprim_free(&s->prim);
    free(s);
    c->state = NULL;
}

ortc_status ortc_qmatmul_prepare(ortc_opctx *c)
{
    qmm_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing %s",
                             c->node->op_type);
    c->state = s;
    ortc_status st = qmm_build(c, s);
    if (st)
        ortc_qmatmul_release(c);
    return st;
}

ortc_status ortc_qmatmul_run(ortc_opctx *c)
{
    qmm_state *s = c->state;
    if (s && !s->use_ref)
        return ortc_qprim_run(c, &s->prim);
    return ortc_qmatmul_reference(c);
}

double ortc_qmatmul_flops(const ortc_opctx *c)
{
    const ortc_tensor *a = c->n_in > 0 ? c->in[0] : NULL;
    if (!a || a->rank < 1 || c->n_out < 1)
        return 0;
    return ortc_op_flops(c->out[0], (double)a->dims[a->rank - 1]);
}
