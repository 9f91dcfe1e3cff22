/* qdnnl.c — oneDNN glue for the int8 operators (qdnnl.h): descriptors of
 * any element type, plain copies of blocked inputs, and one int8 primitive
 * with its reorders and packed weights. No operator's semantics here.
 */
#include "qdnnl.h"

#include <stdlib.h>
#include <string.h>

ORTC_OP_TABLE(quant);

bool ortc_q_dnnl_exact(void)
{
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_vnni) == dnnl_cpu_isa_avx512_core_vnni ||
           (isa & dnnl_cpu_isa_avx2_vnni) == dnnl_cpu_isa_avx2_vnni;
}

dnnl_data_type_t ortc_q_dnnl_type(ortc_dtype d)
{
    switch (d) {
    case ORTC_DTYPE_UINT8: return dnnl_u8;
    case ORTC_DTYPE_INT8: return dnnl_s8;
    case ORTC_DTYPE_INT32: return dnnl_s32;
    case ORTC_DTYPE_FLOAT: return dnnl_f32;
    default: return dnnl_data_type_undef;
    }
}

ortc_status ortc_q_md(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                      ortc_dtype d, dnnl_format_tag_t tag)
{
    dnnl_dims_t dd;
    int nd = rank;
    if (rank == 0) { /* oneDNN describes a scalar as [1] */
        dd[0] = 1;
        nd = 1;
    }
    for (int i = 0; i < rank; i++)
        dd[i] = dims[i];
    dnnl_data_type_t t = ortc_q_dnnl_type(d);
    if (t == dnnl_data_type_undef)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: no oneDNN type for %s",
                             ortc_dtype_name(d));
    if (tag == dnnl_format_tag_undef)
        DNNL_CHECK(c, dnnl_memory_desc_init_by_strides(md, nd, dd, t, NULL));
    else
        DNNL_CHECK(c, dnnl_memory_desc_init_by_tag(md, nd, dd, t, tag));
    return ORTC_STATUS_OK;
}

ortc_status ortc_q_md_input(ortc_opctx *c, int i, dnnl_memory_desc_t *md)
{
    if (ortc_dnnl_in_blocked(c, i)) {
        if (!c->in_layout[i]->desc)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: input %d is blocked but has no descriptor", i);
        *md = *(const dnnl_memory_desc_t *)c->in_layout[i]->desc;
        return ORTC_STATUS_OK;
    }
    const ortc_tensor *t = c->in[i];
    return ortc_q_md(c, md, t->rank, t->dims, t->dtype, dnnl_format_tag_undef);
}

static bool in_family(const ortc_operator *op)
{
    return op && op >= ortc_ops_quant && op < ortc_ops_quant + ortc_ops_quant_count;
}

bool ortc_q_out_blocked_ok(const ortc_opctx *c, int k)
{
    if (!ortc_dnnl_out_blocked_ok(c, k))
        return false;
    const ortc_value *v = c->node->outputs[k];
    if (!v)
        return false;
    for (int u = 0; u < v->n_uses; u++)
        if (!in_family(v->uses[u].node->op))
            return false;
    return true;
}

/* ---- plain copies of blocked inputs ----------------------------------------------- */

ortc_status ortc_q_unblock_init(ortc_opctx *c, ortc_q_unblock *u, size_t *used)
{
    u->n = 0;
    for (int i = 0; i < c->n_in; i++) {
        if (!c->in[i] || !ortc_dnnl_in_blocked(c, i))
            continue;
        if (u->n == ORTC_Q_MAX_UNBLOCK || c->n_in > ORTC_Q_MAX_IO)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: more than %d blocked inputs or %d inputs to unblock",
                                 ORTC_Q_MAX_UNBLOCK, ORTC_Q_MAX_IO);
        u->input[u->n] = i;
        u->off[u->n] = ortc_dnnl_scratch_take(c, used, ortc_tensor_bytes(c->in[i]));
        u->n++;
    }
    for (int k = 0; k < u->n; k++) {
        const ortc_tensor *t = c->in[u->input[k]];
        dnnl_memory_desc_t from, to;
        ortc_status st;
        if ((st = ortc_q_md_input(c, u->input[k], &from)) ||
            (st = ortc_q_md(c, &to, t->rank, t->dims, t->dtype, dnnl_format_tag_undef)) ||
            (st = ortc_dnnl_reorder_init(c, &u->r[k], &from, &to, *used)))
            return st;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_q_unblock_run(ortc_opctx *c, ortc_q_unblock *u, ortc_opctx *v, ortc_tensor *ins,
                               ortc_tensor **ptrs)
{
    *v = *c;
    if (!u->n)
        return ORTC_STATUS_OK;
    for (int i = 0; i < c->n_in && i < ORTC_Q_MAX_IO; i++)
        ptrs[i] = c->in[i];
    for (int k = 0; k < u->n; k++) {
        int i = u->input[k];
        void *plain = ortc_dnnl_scratch_at(c, u->off[k]);
        ortc_status st = ortc_dnnl_reorder_run(c, &u->r[k], c->in[i]->data, plain);
        if (st)
            return st;
        ins[i] = *c->in[i];
        ins[i].data = plain;
        ptrs[i] = &ins[i];
    }
    v->in = ptrs;
    return c->backend ? ortc_backend_wait(c->backend, c->err) : ORTC_STATUS_OK;
}

void ortc_q_unblock_free(ortc_q_unblock *u)
{
    if (!u)
        return;
    for (int k = 0; k < u->n; k++)
        ortc_dnnl_reorder_free(&u->r[k]);
    u->n = 0;
}

/* ---- one int8 primitive ------------------------------------------------------------- */

ortc_status ortc_qprim_bind(ortc_opctx *c, ortc_qprim *q, const_dnnl_primitive_desc_t pd, int input,
                            const dnnl_memory_desc_t *x_md, const dnnl_memory_desc_t *w_user,
                            void *w_data, size_t *used)
{
    q->wbuf = w_data;
    q->input = input;
    const dnnl_memory_desc_t *src = ortc_dnnl_pd_md(pd, DNNL_ARG_SRC);
    const dnnl_memory_desc_t *dst = ortc_dnnl_pd_md(pd, DNNL_ARG_DST);
    const dnnl_memory_desc_t *wts = ortc_dnnl_pd_md(pd, DNNL_ARG_WEIGHTS);
    const dnnl_memory_desc_t *bias = ortc_dnnl_pd_md(pd, DNNL_ARG_BIAS);
    if (!src || !dst || !wts)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: oneDNN reported no source, destination or weights");
    dnnl_memory_desc_t x_in, plain;
    ortc_status st = x_md ? ORTC_STATUS_OK : ortc_q_md_input(c, input, &x_in);
    if (st)
        return st;
    if (x_md)
        x_in = *x_md;
    /* scratch: [reordered source][destination][scratchpads] */
    q->reorder_in = !dnnl_memory_desc_equal(src, &x_in);
    if (q->reorder_in)
        q->in_off = ortc_dnnl_scratch_take(c, used, dnnl_memory_desc_get_size(src));
    q->dst_md = *dst;
    q->via_scratch = !ortc_dnnl_md_is_plain(dst) && !ortc_q_out_blocked_ok(c, 0);
    if (q->via_scratch)
        q->out_off = ortc_dnnl_scratch_take(c, used, dnnl_memory_desc_get_size(dst));
    if (q->reorder_in && (st = ortc_dnnl_reorder_init(c, &q->in_r, &x_in, src, *used)))
        return st;
    if (q->via_scratch) {
        const ortc_tensor *y = c->out[0];
        if ((st = ortc_q_md(c, &plain, y->rank, y->dims, y->dtype, dnnl_format_tag_undef)) ||
            (st = ortc_dnnl_reorder_init(c, &q->out_r, dst, &plain, *used)))
            return st;
    } else if ((st = ortc_dnnl_set_out_layout(c, 0, &q->dst_md))) {
        return st;
    }
    q->step.scratch_off = *used;
    if ((st = ortc_dnnl_step_create(c, &q->step, pd)) ||
        (st = ortc_dnnl_step_mem(c, &q->step, DNNL_ARG_SRC, src, &q->src)) ||
        (st = ortc_dnnl_step_mem(c, &q->step, DNNL_ARG_DST, dst, &q->dst)) ||
        (st = ortc_dnnl_weights_init(c, &q->step, DNNL_ARG_WEIGHTS, &q->w, wts, w_user, w_data)))
        return st;
    if (q->w.packed) { /* the packed copy is what runs */
        free(q->wbuf);
        q->wbuf = NULL;
    } else if ((st = ortc_dnnl_weights_bind(c, &q->w, q->wbuf))) {
        return st;
    }
    if (bias && q->bias_data &&
        ((st = ortc_dnnl_step_mem(c, &q->step, DNNL_ARG_BIAS, bias, &q->bias)) ||
         (st = ortc_dnnl_set(c, &q->bias, q->bias_data))))
        return st;
    return ORTC_STATUS_OK;
}

ortc_status ortc_qprim_run(ortc_opctx *c, ortc_qprim *q)
{
    ortc_status st;
    const void *src = c->in[q->input]->data;
    if (q->reorder_in) {
        void *xs = ortc_dnnl_scratch_at(c, q->in_off);
        if ((st = ortc_dnnl_reorder_run(c, &q->in_r, src, xs)))
            return st;
        src = xs;
    }
    void *dst = q->via_scratch ? ortc_dnnl_scratch_at(c, q->out_off) : c->out[0]->data;
    if ((st = ortc_dnnl_set(c, &q->src, src)) || (st = ortc_dnnl_set(c, &q->dst, dst)) ||
        (st = ortc_dnnl_weights_bind(c, &q->w, q->wbuf)) || (st = ortc_dnnl_step_run(c, &q->step)))
        return st;
    if (q->via_scratch)
        return ortc_dnnl_reorder_run(c, &q->out_r, dst, c->out[0]->data);
    return ORTC_STATUS_OK;
}

void ortc_qprim_free(ortc_qprim *q)
{
    if (!q)
        return;
    ortc_dnnl_step_free(&q->step);
    ortc_dnnl_mem_free(&q->src);
    ortc_dnnl_mem_free(&q->dst);
    ortc_dnnl_mem_free(&q->bias);
    ortc_dnnl_weights_free(&q->w);
    ortc_dnnl_reorder_free(&q->in_r);
    ortc_dnnl_reorder_free(&q->out_r);
    free(q->wbuf);
    free(q->bias_data);
    q->wbuf = NULL;
    q->bias_data = NULL;
}
