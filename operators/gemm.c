/* gemm.c — Gemm (opsets 1, 6, 7, 9, 11, 13) and MatMul (1, 9, 13), float32
 * on oneDNN's matmul with the plain-C reference kernels. Gemm: transA,
 * transB, alpha, beta, C broadcast one way to (M, N). MatMul: numpy rules
 * (1-D operands, batch broadcasting on both sides, rank up to 8). A constant
 * B is reordered once into the layout oneDNN prefers.
 */
#include <stdlib.h>
#include <string.h>

#include "dnnl_util.h"
#include "reference.h"

typedef struct mm_state {
    bool use_ref;  /* empty operand: plain-C kernel */
    bool copy_c;   /* Gemm: Y = C broadcast first, then Y = alpha AB + beta Y */
    ortc_dnnl_step step;
    dnnl_memory_t a, y;
    ortc_dnnl_weights b;
} mm_state;

static const char *in_name(const ortc_opctx *c, int i)
{
    return c->node->inputs[i] ? c->node->inputs[i]->name : "";
}

/* One oneDNN matmul y = alpha * a b (+ beta * y when beta != 0). Strides
 * NULL: dense. bconst: B's contents when constant (then pre-packed). */
static ortc_status mm_build(ortc_opctx *c, mm_state *s, int rank, const int64_t *adims,
                            const int64_t *astr, const int64_t *bdims, const int64_t *bstr,
                            const int64_t *ydims, const void *bconst, float alpha, float beta)
{
    dnnl_memory_desc_t amd, bmd, bwant, ymd;
    ortc_status st;
    if ((st = astr ? ortc_dnnl_md_strided(c, &amd, rank, adims, astr)
                   : ortc_dnnl_md_plain(c, &amd, rank, adims)) ||
        (st = bstr ? ortc_dnnl_md_strided(c, &bmd, rank, bdims, bstr)
                   : ortc_dnnl_md_plain(c, &bmd, rank, bdims)) ||
        (st = ortc_dnnl_md_plain(c, &ymd, rank, ydims)))
        return st;
    if (bconst) {
        if ((st = ortc_dnnl_md_any(c, &bwant, rank, bdims)))
            return st;
    } else
        bwant = bmd;
    dnnl_matmul_desc_t desc;
    DNNL_CHECK(c, dnnl_matmul_desc_init(&desc, &amd, &bwant, NULL, &ymd));

    dnnl_primitive_attr_t attr;
    if ((st = ortc_dnnl_attr_new(c, &attr)))
        return st;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t ds = dnnl_success;
    const char *what = "";
    if (alpha != 1.0f) {
        ds = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
        what = "dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha)";
    }
    if (ds == dnnl_success && beta != 0.0f) {
        ds = dnnl_post_ops_create(&po);
        what = "dnnl_post_ops_create";
        if (ds == dnnl_success) {
            ds = dnnl_post_ops_append_sum(po, beta);
            what = "dnnl_post_ops_append_sum(po, beta)";
        }
        if (ds == dnnl_success) {
            ds = dnnl_primitive_attr_set_post_ops(attr, po);
            what = "dnnl_primitive_attr_set_post_ops";
        }
    }
    dnnl_primitive_desc_t pd = NULL;
    if (ds == dnnl_success)
        st = ortc_dnnl_pd_create(c, &pd, &desc, attr, NULL);
    if (po)
        dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    if (ds != dnnl_success)
        return ortc_dnnl_error(c, ds, what, __FILE__, __LINE__);
    if (st)
        return st;
    st = ortc_dnnl_step_create(c, &s->step, pd);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_SRC, &amd, &s->a);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_DST, &ymd, &s->y);
    if (!st) {
        const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        st = ortc_dnnl_weights_init(c, &s->step, DNNL_ARG_WEIGHTS, &s->b, want, &bmd, bconst);
    }
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static void mm_release(ortc_opctx *c)
{
    mm_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_step_free(&s->step);
    if (s->a)
        dnnl_memory_destroy(s->a);
    if (s->y)
        dnnl_memory_destroy(s->y);
    ortc_dnnl_weights_free(&s->b);
    free(s);
    c->state = NULL;
}

static ortc_status mm_prepare_with(ortc_opctx *c, ortc_status (*build)(ortc_opctx *, mm_state *))
{
    mm_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing %s",
                             c->node->op_type);
    c->state = s;
    ortc_status st = build(c, s);
    if (st)
        mm_release(c);
    return st;
}

static ortc_status mm_exec(ortc_opctx *c, mm_state *s)
{
    ortc_status st;
    if ((st = ortc_dnnl_set(c, s->a, c->in[0]->data)) ||
        (st = ortc_dnnl_set(c, s->y, c->out[0]->data)) ||
        (st = ortc_dnnl_weights_bind(c, &s->b, c->in[1]->data)))
        return st;
    return ortc_dnnl_step_run(c, &s->step);
}

/* ---- Gemm ------------------------------------------------------------------ */

typedef struct gemm_params {
    int64_t m, n, k;
    bool trans_a, trans_b;
    float alpha, beta;
    const ortc_tensor *cm;  /* NULL when absent */
    int64_t c_stride[2];    /* element strides of C over (M, N); 0 broadcasts */
} gemm_params;

static ortc_status gemm_check(ortc_opctx *c, gemm_params *p)
{
    int version = c->node->op ? c->node->op->since_version : c->node->opset;
    ortc_status st;
    if ((st = ortc_op_check_arity(c, version >= 11 ? 2 : 3, 3, 1, 1)) ||
        (st = ortc_op_check_dtype(c, 0, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)) ||
        (st = ortc_op_check_dtype(c, 1, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)) ||
        (c->n_in > 2 && c->in[2] &&
         (st = ortc_op_check_dtype(c, 2, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED))) ||
        (st = ortc_op_check_attr(c, "transA", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "transB", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "alpha", ORTC_ATTR_FLOAT)) ||
        (st = ortc_op_check_attr(c, "beta", ORTC_ATTR_FLOAT)))
        return st;
    const ortc_tensor *a = c->in[0], *b = c->in[1];
    char sa[128], sb[128], sc[128];
    ortc_shape_str(sa, sizeof sa, a->rank, a->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    for (int i = 0; i < 2; i++)
        if (c->in[i]->rank != 2)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input '%s' has shape %s (rank %d); Gemm needs rank 2",
                                 in_name(c, i), i ? sb : sa, c->in[i]->rank);
    p->trans_a = ortc_node_attr_int(c->node, "transA", 0) != 0;
    p->trans_b = ortc_node_attr_int(c->node, "transB", 0) != 0;
    p->alpha = ortc_node_attr_float(c->node, "alpha", 1.0f);
    p->beta = ortc_node_attr_float(c->node, "beta", 1.0f);
    p->m = a->dims[p->trans_a ? 1 : 0];
    p->k = a->dims[p->trans_a ? 0 : 1];
    int64_t kb = b->dims[p->trans_b ? 1 : 0];
    p->n = b->dims[p->trans_b ? 0 : 1];
    if (kb != p->k)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inner dims differ: A '%s' %s%s gives K=%lld, B '%s' %s%s gives "
                             "K=%lld",
                             in_name(c, 0), sa, p->trans_a ? " (transA)" : "", (long long)p->k,
                             in_name(c, 1), sb, p->trans_b ? " (transB)" : "", (long long)kb);
    p->cm = c->n_in > 2 ? c->in[2] : NULL;
    p->c_stride[0] = p->c_stride[1] = 0;
    if (p->cm) {
        const ortc_tensor *cm = p->cm;
        int64_t d0 = cm->rank == 2 ? cm->dims[0] : 1;
        int64_t d1 = cm->rank >= 1 ? cm->dims[cm->rank - 1] : 1;
        if (cm->rank > 2 || (d0 != 1 && d0 != p->m) || (d1 != 1 && d1 != p->n))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input C '%s' has shape %s; it must broadcast to (M, N) = "
                                 "[%lld,%lld]",
                                 in_name(c, 2), ortc_shape_str(sc, sizeof sc, cm->rank, cm->dims),
                                 (long long)p->m, (long long)p->n);
        p->c_stride[0] = d0 == 1 ? 0 : d1;
        p->c_stride[1] = d1 == 1 ? 0 : 1;
    }
    return ORTC_STATUS_OK;
}

static ortc_status gemm_infer(ortc_opctx *c)
{
    gemm_params p;
    ortc_status st = gemm_check(c, &p);
    if (st)
        return st;
    int64_t dims[2] = {p.m, p.n};
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, 2, dims);
    return ORTC_STATUS_OK;
}

static ortc_status gemm_reference(ortc_opctx *c)
{
    gemm_params p;
    ortc_status st = gemm_check(c, &p);
    if (st)
        return st;
    ortc_ref_gemm_forward(c->out[0]->data, c->in[0]->data, c->in[1]->data,
                          p.cm ? p.cm->data : NULL, p.c_stride, p.m, p.n, p.k, p.trans_a,
                          p.trans_b, p.alpha, p.beta);
    return ORTC_STATUS_OK;
}

static ortc_status gemm_build(ortc_opctx *c, mm_state *s)
{
    gemm_params p;
    ortc_status st = gemm_check(c, &p);
    if (st)
        return st;
    if (p.m == 0 || p.n == 0 || p.k == 0 || (p.cm && ortc_tensor_numel(p.cm) == 0)) {
        s->use_ref = true; /* nothing for oneDNN to multiply */
        return ORTC_STATUS_OK;
    }
    int64_t adims[2] = {p.m, p.k}, bdims[2] = {p.k, p.n}, ydims[2] = {p.m, p.n};
    int64_t astr[2], bstr[2];
    astr[0] = p.trans_a ? 1 : p.k; /* A stored (K, M) when transposed */
    astr[1] = p.trans_a ? p.m : 1;
    bstr[0] = p.trans_b ? 1 : p.n; /* B stored (N, K) when transposed */
    bstr[1] = p.trans_b ? p.k : 1;
    s->copy_c = p.cm && p.beta != 0.0f;
    return mm_build(c, s, 2, adims, astr, bdims, bstr, ydims, c->in[1]->data, p.alpha,
                    s->copy_c ? p.beta : 0.0f);
}

static ortc_status gemm_prepare(ortc_opctx *c)
{
    return mm_prepare_with(c, gemm_build);
}

static ortc_status gemm_run(ortc_opctx *c)
{
    mm_state *s = c->state;
    if (!s || s->use_ref)
        return gemm_reference(c);
    if (s->copy_c) {
        /* y: (M, N) = C broadcast; the matmul's sum post-op adds beta * y */
        const ortc_tensor *cm = c->in[2];
        const float *cv = cm->data;
        float *y = c->out[0]->data;
        int64_t m = c->out[0]->dims[0], n = c->out[0]->dims[1];
        int64_t d0 = cm->rank == 2 ? cm->dims[0] : 1;
        int64_t d1 = cm->rank >= 1 ? cm->dims[cm->rank - 1] : 1;
        int64_t s0 = d0 == 1 ? 0 : d1, s1 = d1 == 1 ? 0 : 1;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                y[i * n + j] = cv[i * s0 + j * s1];
    }
    return mm_exec(c, s);
}

/* ---- MatMul ---------------------------------------------------------------- */

typedef struct matmul_params {
    int64_t m, k, n;
    int brank;                        /* batch rank of the output */
    int64_t batch[ORTC_MAX_RANK];
    int a_brank, b_brank;             /* batch ranks of the operands */
    int64_t a_batch[ORTC_MAX_RANK], b_batch[ORTC_MAX_RANK];
    int out_rank;
    int64_t out_dims[ORTC_MAX_RANK];
} matmul_params;

static ortc_status matmul_check(ortc_opctx *c, matmul_params *p)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 2, 2, 1, 1)) ||
        (st = ortc_op_check_dtype(c, 0, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)) ||
        (st = ortc_op_check_dtype(c, 1, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)))
        return st;
    const ortc_tensor *a = c->in[0], *b = c->in[1];
    char sa[128], sb[128];
    ortc_shape_str(sa, sizeof sa, a->rank, a->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    for (int i = 0; i < 2; i++)
        if (c->in[i]->rank < 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input '%s' is a scalar; MatMul needs rank >= 1", in_name(c, i));
    memset(p, 0, sizeof *p);
    bool a_vec = a->rank == 1, b_vec = b->rank == 1;
    /* numpy: a 1-D A is (1, K), a 1-D B is (K, 1); the unit dim is dropped
     * from the result */
    p->m = a_vec ? 1 : a->dims[a->rank - 2];
    p->k = a->dims[a->rank - 1];
    int64_t kb = b_vec ? b->dims[0] : b->dims[b->rank - 2];
    p->n = b_vec ? 1 : b->dims[b->rank - 1];
    if (kb != p->k)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inner dims differ: A '%s' %s has K=%lld, B '%s' %s has K=%lld",
                             in_name(c, 0), sa, (long long)p->k, in_name(c, 1), sb,
                             (long long)kb);
    p->a_brank = a_vec ? 0 : a->rank - 2;
    p->b_brank = b_vec ? 0 : b->rank - 2;
    for (int i = 0; i < p->a_brank; i++)
        p->a_batch[i] = a->dims[i];
    for (int i = 0; i < p->b_brank; i++)
        p->b_batch[i] = b->dims[i];
    p->brank = p->a_brank > p->b_brank ? p->a_brank : p->b_brank;
    for (int i = 0; i < p->brank; i++) {
        int ia = i - (p->brank - p->a_brank), ib = i - (p->brank - p->b_brank);
        int64_t da = ia >= 0 ? p->a_batch[ia] : 1, db = ib >= 0 ? p->b_batch[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "batch dims of A '%s' %s and B '%s' %s cannot be broadcast "
                                 "(batch dim %d: %lld vs %lld)",
                                 in_name(c, 0), sa, in_name(c, 1), sb, i, (long long)da,
                                 (long long)db);
        p->batch[i] = da == 1 ? db : da;
    }
    p->out_rank = 0;
    for (int i = 0; i < p->brank; i++)
        p->out_dims[p->out_rank++] = p->batch[i];
    if (!a_vec)
        p->out_dims[p->out_rank++] = p->m;
    if (!b_vec)
        p->out_dims[p->out_rank++] = p->n;
    return ORTC_STATUS_OK;
}

static ortc_status matmul_infer(ortc_opctx *c)
{
    matmul_params p;
    ortc_status st = matmul_check(c, &p);
    if (st)
        return st;
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, p.out_rank, p.out_dims);
    return ORTC_STATUS_OK;
}

static ortc_status matmul_reference(ortc_opctx *c)
{
    matmul_params p;
    ortc_status st = matmul_check(c, &p);
    if (st)
        return st;
    ortc_bcast bc;
    ortc_bcast_init(&bc, p.brank, p.batch, p.a_brank, p.a_batch, p.b_brank, p.b_batch);
    ortc_ref_matmul_forward(c->out[0]->data, c->in[0]->data, c->in[1]->data, &bc, p.m, p.k, p.n);
    return ORTC_STATUS_OK;
}

static ortc_status matmul_build(ortc_opctx *c, mm_state *s)
{
    matmul_params p;
    ortc_status st = matmul_check(c, &p);
    if (st)
        return st;
    int64_t nbatch = 1, b_nbatch = 1;
    for (int i = 0; i < p.brank; i++)
        nbatch *= p.batch[i];
    for (int i = 0; i < p.b_brank; i++)
        b_nbatch *= p.b_batch[i];
    if (p.m == 0 || p.n == 0 || p.k == 0 || nbatch == 0) {
        s->use_ref = true; /* nothing for oneDNN to multiply */
        return ORTC_STATUS_OK;
    }
    const void *bconst = c->in[1]->data;
    if (b_nbatch == 1) {
        /* B is one matrix: A's batch folds into its rows, (batch*M, K) */
        int64_t adims[2] = {nbatch * p.m, p.k}, bdims[2] = {p.k, p.n};
        int64_t ydims[2] = {nbatch * p.m, p.n};
        return mm_build(c, s, 2, adims, NULL, bdims, NULL, ydims, bconst, 1.0f, 0.0f);
    }
    /* Full rank with batch broadcasting on either side (oneDNN's matmul
     * broadcasts unit batch dims of both operands, up to 12 dims). */
    int r = p.brank + 2;
    int64_t adims[ORTC_MAX_RANK + 2], bdims[ORTC_MAX_RANK + 2], ydims[ORTC_MAX_RANK + 2];
    for (int i = 0; i < p.brank; i++) {
        int ia = i - (p.brank - p.a_brank), ib = i - (p.brank - p.b_brank);
        adims[i] = ia >= 0 ? p.a_batch[ia] : 1;
        bdims[i] = ib >= 0 ? p.b_batch[ib] : 1;
        ydims[i] = p.batch[i];
    }
    adims[r - 2] = p.m;
    adims[r - 1] = p.k;
    bdims[r - 2] = p.k;
    bdims[r - 1] = p.n;
    ydims[r - 2] = p.m;
    ydims[r - 1] = p.n;
    return mm_build(c, s, r, adims, NULL, bdims, NULL, ydims, bconst, 1.0f, 0.0f);
}

static ortc_status matmul_prepare(ortc_opctx *c)
{
    return mm_prepare_with(c, matmul_build);
}

static ortc_status matmul_run(ortc_opctx *c)
{
    mm_state *s = c->state;
    if (!s || s->use_ref)
        return matmul_reference(c);
    return mm_exec(c, s);
}

#define GEMM_OP(name, pre, version)                                                        \
    {                                                                                      \
        .domain = "", .op_type = (name), .since_version = (version), .infer = pre##_infer, \
        .prepare = pre##_prepare, .run = pre##_run, .release = mm_release,                 \
        .reference = pre##_reference,                                                      \
    }

const ortc_operator ortc_ops_gemm[] = {
    GEMM_OP("Gemm", gemm, 1),     GEMM_OP("Gemm", gemm, 6),     GEMM_OP("Gemm", gemm, 7),
    GEMM_OP("Gemm", gemm, 9),     GEMM_OP("Gemm", gemm, 11),    GEMM_OP("Gemm", gemm, 13),
    GEMM_OP("MatMul", matmul, 1), GEMM_OP("MatMul", matmul, 9), GEMM_OP("MatMul", matmul, 13),
};
const size_t ortc_ops_gemm_count = sizeof ortc_ops_gemm / sizeof ortc_ops_gemm[0];
