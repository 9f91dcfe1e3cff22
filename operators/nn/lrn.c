/* lrn.c — LRN (opsets 1 and 13), float32, across channels, any rank >= 2.
 * ONNX's window for channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)];
 * oneDNN's across-channel LRN uses the same window only for odd sizes (for
 * even sizes it drops one channel on the high side), so even sizes run the
 * plain-C reference kernel. Layouts: a blocked input is normalised in its
 * own layout (the output keeps it, or is reordered to plain through
 * scratch); where oneDNN has only its reference implementation for that
 * layout, or for the plain-C kernel, the input is first made plain.
 */
#include "dnnl_prim.h"
#include "lrn_ref.h"

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
    if ((st = ortc_op_check_min_rank(c, 0, 2, "N, C, spatial...")))
        return st;
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

static ortc_status lrn_build(ortc_opctx *c, void *state)
{
    ortc_dnnl_prim *p = state;
    lrn_params lp;
    ortc_status st = lrn_check(c, &lp);
    if (st)
        return st;
    if (lp.size % 2 == 0 || lp.n * lp.c * lp.s == 0)
        return ortc_dnnl_prim_use_ref(c, p); /* see the note at the top of the file */
    bool blocked_in = ortc_dnnl_in_blocked(c, 0);
    dnnl_memory_desc_t md;
    dnnl_primitive_desc_t pd = NULL;
    if (blocked_in) {
        if ((st = ortc_dnnl_md_input(c, 0, &md)) || (st = lrn_pd(c, &lp, &md, &pd)))
            return st;
        if (pd && ortc_dnnl_impl_is_ref(pd)) {
            dnnl_primitive_desc_destroy(pd); /* slow: normalise a plain copy instead */
            pd = NULL;
        }
    }
    if (!pd) {
        /* Across-channel LRN treats spatial positions independently, so any
         * plain rank is the 4-D (N, C, S, 1); a blocked input is made plain
         * first (the primitive then reads the copy). */
        if (blocked_in && (st = ortc_dnnl_unblock_init(c, &p->unblock, &p->used)))
            return st;
        int64_t dims[4] = {lp.n, lp.c, lp.s, 1};
        if ((st = ortc_dnnl_md_plain(c, &md, 4, dims)) || (st = lrn_pd(c, &lp, &md, &pd)))
            return st;
        if (!pd) {
            p->use_ref = true;
            return ORTC_STATUS_OK;
        }
    }
    const ortc_dnnl_arg args[] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0), ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    st = ortc_dnnl_prim_bind(c, p, pd, args, 2);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static ortc_status lrn_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_dnnl_prim), lrn_build, NULL);
}

const ortc_operator ortc_ops_lrn[] = {
    ORTC_OP("LRN", 1, 13, .versions = {1, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT), .flags = ORTC_OP_ACCEPTS_BLOCKED, .infer = lrn_infer,
            .prepare = lrn_prepare, .run = ortc_dnnl_prim_exec, .release = ortc_dnnl_prim_release,
            .reference = lrn_reference),
};
ORTC_OP_TABLE_END(lrn);
