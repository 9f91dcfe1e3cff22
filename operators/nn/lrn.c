/* lrn.c — LRN (opsets 1 and 13), float32, across channels, any rank >= 2.
 * ONNX's window for channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)];
 * oneDNN's across-channel LRN uses the same window only for odd sizes (for
 * even sizes it drops one channel on the high side), so even sizes run the
 * plain-C reference kernel. Layouts: a blocked input is normalised in its
 * own layout (the output keeps it, or is reordered to plain through
 * scratch); where oneDNN has only its reference implementation for that
 * layout, or for the plain-C kernel, the input is first made plain.
 */
#include <stdlib.h>

#include "dnnl_util.h"
#include "lrn_ref.h"

typedef struct lrn_state {
    bool use_ref; /* even size (or empty input): plain-C kernel */
    ortc_dnnl_step step;
    dnnl_memory_t src, dst;
    /* a blocked input made plain first (in scratch at unblock.off[0]) */
    ortc_dnnl_unblock unblock;
    /* a blocked result reordered to the plain output (from scratch) */
    bool to_plain;
    size_t tmp_off;
    ortc_dnnl_reorder out_reorder;
    dnnl_memory_desc_t md; /* the primitive's layout (out_layout[0].desc) */
} lrn_state;

typedef struct lrn_params {
    int64_t n, c, s; /* x viewed as (N, C, S) */
    int64_t size;
    float alpha, beta, bias;
} lrn_params;

static ortc_status lrn_check(ortc_opctx *c, lrn_params *p)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) || (st = ortc_op_check_input(c, 0)) ||
        (st = ortc_op_check_attr(c, "size", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "alpha", ORTC_ATTR_FLOAT)) ||
        (st = ortc_op_check_attr(c, "beta", ORTC_ATTR_FLOAT)) ||
        (st = ortc_op_check_attr(c, "bias", ORTC_ATTR_FLOAT)))
        return st;
    const ortc_tensor *x = c->in[0];
    if (x->rank < 2) {
        char sx[128];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' has shape %s (rank %d); LRN needs rank >= 2 "
                             "(N, C, spatial...)",
                             c->node->inputs[0]->name,
                             ortc_shape_str(sx, sizeof sx, x->rank, x->dims), x->rank);
    }
    if (!ortc_node_attr(c->node, "size"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required attribute 'size' is missing");
    p->size = ortc_node_attr_int(c->node, "size", 0);
    if (p->size < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'size' is %lld; must be >= 1",
                             (long long)p->size);
    p->alpha = ortc_node_attr_float(c->node, "alpha", 1e-4f);
    p->beta = ortc_node_attr_float(c->node, "beta", 0.75f);
    p->bias = ortc_node_attr_float(c->node, "bias", 1.0f);
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->s = 1;
    for (int i = 2; i < x->rank; i++)
        p->s *= x->dims[i];
    return ORTC_STATUS_OK;
}

static ortc_status lrn_infer(ortc_opctx *c)
{
    lrn_params p;
    ortc_status st = lrn_check(c, &p);
    if (st)
        return st;
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

static ortc_status lrn_reference(ortc_opctx *c)
{
    lrn_params p;
    ortc_status st = lrn_check(c, &p);
    if (st)
        return st;
    ortc_ref_lrn_forward(c->out[0]->data, c->in[0]->data, p.n, p.c, p.s, p.size, p.alpha, p.beta,
                         p.bias);
    return ORTC_STATUS_OK;
}

/* The primitive over md (src = dst layout); NULL *pd when unimplemented. */
static ortc_status lrn_pd(ortc_opctx *c, const lrn_params *p, const dnnl_memory_desc_t *md,
                          dnnl_primitive_desc_t *pd)
{
    dnnl_lrn_desc_t desc;
    DNNL_CHECK(c,
               dnnl_lrn_forward_desc_init(&desc, dnnl_forward_inference, dnnl_lrn_across_channels,
                                          md, p->size, p->alpha, p->beta, p->bias));
    bool unimpl;
    return ortc_dnnl_pd_create(c, pd, &desc, NULL, &unimpl);
}

static ortc_status lrn_build(ortc_opctx *c, lrn_state *s)
{
    lrn_params p;
    ortc_status st = lrn_check(c, &p);
    if (st)
        return st;
    size_t used = 0;
    bool blocked_in = ortc_dnnl_in_blocked(c, 0);
    if (p.size % 2 == 0 || p.n * p.c * p.s == 0) {
        s->use_ref = true; /* see the note at the top of the file */
        return ortc_dnnl_unblock_init(c, &s->unblock, &used);
    }
    dnnl_primitive_desc_t pd = NULL;
    if (blocked_in) {
        if ((st = ortc_dnnl_md_input(c, 0, &s->md)) || (st = lrn_pd(c, &p, &s->md, &pd)))
            return st;
        if (pd && ortc_dnnl_impl_is_ref(pd)) {
            dnnl_primitive_desc_destroy(pd); /* slow: normalise a plain copy instead */
            pd = NULL;
        }
    }
    if (!pd) {
        /* Across-channel LRN treats spatial positions independently, so any
         * plain rank is the 4-D (N, C, S, 1). */
        if (blocked_in && (st = ortc_dnnl_unblock_init(c, &s->unblock, &used)))
            return st;
        int64_t dims[4] = {p.n, p.c, p.s, 1};
        if ((st = ortc_dnnl_md_plain(c, &s->md, 4, dims)) || (st = lrn_pd(c, &p, &s->md, &pd)))
            return st;
        if (!pd) {
            s->use_ref = true;
            return ORTC_STATUS_OK;
        }
    }
    bool blocked_out = c->out_blocked_ok && c->out_blocked_ok[0];
    s->to_plain = !blocked_out && !ortc_dnnl_md_is_plain(&s->md) && s->unblock.n == 0;
    if (s->to_plain) {
        dnnl_memory_desc_t plain;
        s->tmp_off = ortc_dnnl_scratch_take(c, &used, dnnl_memory_desc_get_size(&s->md));
        st = ortc_dnnl_md_plain(c, &plain, c->in[0]->rank, c->in[0]->dims);
        if (!st)
            st = ortc_dnnl_reorder_init(c, &s->out_reorder, &s->md, &plain, used);
    }
    s->step.scratch_off = used;
    if (!st)
        st = ortc_dnnl_step_create(c, &s->step, pd);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_SRC, &s->md, &s->src);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_DST, &s->md, &s->dst);
    if (!st && !s->to_plain && s->unblock.n == 0 && blocked_in)
        st = ortc_dnnl_set_out_layout(c, 0, &s->md);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static void lrn_release(ortc_opctx *c)
{
    lrn_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_step_free(&s->step);
    ortc_dnnl_unblock_free(&s->unblock);
    if (s->to_plain)
        ortc_dnnl_reorder_free(&s->out_reorder);
    if (s->src)
        dnnl_memory_destroy(s->src);
    if (s->dst)
        dnnl_memory_destroy(s->dst);
    free(s);
    c->state = NULL;
}

static ortc_status lrn_prepare(ortc_opctx *c)
{
    lrn_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing LRN");
    c->state = s;
    ortc_status st = lrn_build(c, s);
    if (st)
        lrn_release(c);
    return st;
}

static ortc_status lrn_run(ortc_opctx *c)
{
    lrn_state *s = c->state;
    if (!s)
        return lrn_reference(c);
    ortc_opctx v;
    ortc_tensor ins[ORTC_DNNL_MAX_IO];
    ortc_tensor *ptrs[ORTC_DNNL_MAX_IO];
    ortc_status st = ortc_dnnl_unblock_run(c, &s->unblock, &v, ins, ptrs);
    if (st)
        return st;
    if (s->use_ref)
        return lrn_reference(&v);
    void *y = s->to_plain ? ortc_dnnl_scratch_at(c, s->tmp_off) : c->out[0]->data;
    if ((st = ortc_dnnl_set(c, s->src, v.in[0]->data)) || (st = ortc_dnnl_set(c, s->dst, y)) ||
        (st = ortc_dnnl_step_run(c, &s->step)))
        return st;
    if (s->to_plain)
        return ortc_dnnl_reorder_run(c, &s->out_reorder, y, c->out[0]->data);
    return ORTC_STATUS_OK;
}

const ortc_operator ortc_ops_lrn[] = {
    ORTC_OP("LRN", 1, 13, .versions = {1, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT), .flags = ORTC_OP_ACCEPTS_BLOCKED, .infer = lrn_infer,
            .prepare = lrn_prepare, .run = lrn_run, .release = lrn_release,
            .reference = lrn_reference),
};
ORTC_OP_TABLE_END(lrn);
