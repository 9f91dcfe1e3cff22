/* qdnnl.c — oneDNN glue for the int8 operators (qdnnl.h): their input
 * descriptors, which outputs stay blocked, and one int8 primitive with its
 * reorders and packed weights. No operator's semantics here.
 */
#include "qdnnl.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

bool ortc_q_dnnl_exact(void)
{
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_vnni) == dnnl_cpu_isa_avx512_core_vnni ||
           (isa & dnnl_cpu_isa_avx2_vnni) == dnnl_cpu_isa_avx2_vnni;
}

ortc_status ortc_q_md_input(ortc_opctx *c, int i, dnnl_memory_desc_t *md)
{
    if (ortc_dnnl_in_blocked(c, i))
        return ortc_dnnl_md_input(c, i, md);
    const ortc_tensor *t = c->in[i];
    return ortc_dnnl_md_typed(c, md, t->rank, t->dims, t->dtype, dnnl_format_tag_undef);
}

bool ortc_q_out_blocked_ok(const ortc_opctx *c, int k)
{
    /* also for a float32 output (qdq mode): only to consumers that take
     * the int8 family's descriptors */
    return ortc_dnnl_out_blocked_ok(c, k) && ortc_dnnl_consumers_take_int8(c, k);
}

/* ---- one int8 primitive ------------------------------------------------------------- */

ortc_status ortc_qprim_bind(ortc_opctx *c, ortc_qprim *q, const_dnnl_primitive_desc_t pd, int input,
                            const dnnl_memory_desc_t *x_md, int w_input,
                            const dnnl_memory_desc_t *w_user, void *w_data, size_t *used)
{
    q->wbuf = w_data;
    q->wbuf_owned = w_data != c->in[w_input]->data;
    const dnnl_memory_desc_t *src = ortc_dnnl_pd_md(pd, DNNL_ARG_SRC);
    const dnnl_memory_desc_t *dst = ortc_dnnl_pd_md(pd, DNNL_ARG_DST);
    const dnnl_memory_desc_t *wts = ortc_dnnl_pd_md(pd, DNNL_ARG_WEIGHTS);
    const dnnl_memory_desc_t *bias = ortc_dnnl_pd_md(pd, DNNL_ARG_BIAS);
    if (!src || !dst || !wts)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: oneDNN reported no source, destination or weights");
    dnnl_memory_desc_t x_in;
    ortc_status st = x_md ? ORTC_STATUS_OK : ortc_q_md_input(c, input, &x_in);
    /* scratch: [reordered source][destination][scratchpads] */
    if (st || (st = ortc_dnnl_io_init(c, &q->io, input, x_md ? x_md : &x_in, src, 0, dst,
                                      ortc_q_out_blocked_ok, used)))
        return st;
    q->step.scratch_off = *used;
    if ((st = ortc_dnnl_step_create(c, &q->step, pd)) ||
        (st = ortc_dnnl_step_mem(c, &q->step, DNNL_ARG_SRC, src, &q->src)) ||
        (st = ortc_dnnl_step_mem(c, &q->step, DNNL_ARG_DST, dst, &q->dst)) ||
        (st = ortc_dnnl_weights_init(c, &q->step, DNNL_ARG_WEIGHTS, &q->w, wts, w_user, w_data)))
        return st;
    if (q->w.packed) { /* the packed copy is what runs: the input's bytes may go */
        if (q->wbuf_owned)
            free(q->wbuf);
        q->wbuf = NULL;
        if (w_input < 32)
            c->packed_inputs |= (uint32_t)1 << w_input;
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
    const void *src;
    void *dst;
    ORTC_TRY(ortc_dnnl_io_begin(c, &q->io, c->in[q->io.input]->data, &src, &dst));
    ORTC_TRY(ortc_dnnl_set(c, &q->src, src));
    ORTC_TRY(ortc_dnnl_set(c, &q->dst, dst));
    ORTC_TRY(ortc_dnnl_weights_bind(c, &q->w, q->wbuf));
    ORTC_TRY(ortc_dnnl_step_run(c, &q->step));
    return ortc_dnnl_io_end(c, &q->io, dst);
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
    ortc_dnnl_io_free(&q->io);
    if (q->wbuf_owned)
        free(q->wbuf);
    free(q->bias_data);
    q->wbuf = NULL;
    q->bias_data = NULL;
}
