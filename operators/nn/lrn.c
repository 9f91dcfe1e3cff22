/* lrn.c — LRN (opsets 1 and 13), float32, across channels, any rank >= 2.
 * ONNX's window for channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)];
 * oneDNN's across-channel LRN uses the same window only for odd sizes (for
 * even sizes it drops one channel on the high side), so even sizes run the
 * plain-C reference kernel. Layouts: a non-plain input is normalised in its
 * own layout (the output keeps it, or is reordered to plain through
 * scratch) or made plain first, whichever the cost estimate below says is
 * cheaper; the plain-C kernel always reads a plain input.
 */
#include "dnnl_prim.h"
#include "error.h"
#include "lrn_ref.h"

typedef struct lrn_params {
    int64_t n, c, s; /* x viewed as (N, C, S) */
    int64_t size;
    float alpha, beta, bias;
} lrn_params;

static ortc_status lrn_check(ortc_opctx *c, lrn_params *p)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "size", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "alpha", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "beta", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "bias", ORTC_ATTR_FLOAT));
    const ortc_tensor *x = c->in[0];
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 2, "N, C, spatial..."));
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
    ORTC_TRY(lrn_check(c, &p));
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

static ortc_status lrn_reference(ortc_opctx *c)
{
    lrn_params p;
    ORTC_TRY(lrn_check(c, &p));
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

/* Estimated cost of oneDNN 2.6's across-channel LRN, in nanoseconds on one
 * core, from the structure of its kernels and their measured speed (AVX-512
 * machine, one thread, 16 shapes with C 16..256; the figures and the
 * benchmark are in the commit that added this):
 *  - plain (N, C, S): vectors along S, a running window along C: ~0.75 ns
 *    per element;
 *  - channels blocked by 16 (nChw16c): ~1.1 ns per (padded) element;
 *  - channels last (nhwc): one kernel call per (n, pixel) across its C
 *    channels: ~165 ns per call plus ~0.9 ns per element (worse again when
 *    C is not a multiple of 16: 16-27 ns per element at C 16 and 24);
 *  - other blocked layouts (nChw8c, ...): ~4 ns per element;
 *  - oneDNN's reference implementations: ~15 ns per element;
 *  - a reorder between two of these layouts: ~0.3 ns per element.
 * Only the comparison between layouts matters, not the absolute figures. */
#define LRN_NS_PLAIN 0.75
#define LRN_NS_BLOCKED16 1.1
#define LRN_NS_LAST_CALL 165.0
#define LRN_NS_LAST 0.9
#define LRN_NS_OTHER 4.0
#define LRN_NS_REF 15.0
#define LRN_NS_REORDER 0.3

static double lrn_cost(const lrn_params *p, const_dnnl_primitive_desc_t pd,
                       const dnnl_memory_desc_t *md)
{
    double elems = (double)dnnl_memory_desc_get_size(md) / sizeof(float);
    if (ortc_dnnl_impl_is_ref(pd))
        return LRN_NS_REF * elems;
    if (ortc_dnnl_md_is_plain(md))
        return LRN_NS_PLAIN * elems;
    const dnnl_blocking_desc_t *bd = &md->format_desc.blocking;
    if (md->format_kind == dnnl_blocked && bd->inner_nblks == 0 && bd->strides[1] == 1)
        return LRN_NS_LAST_CALL * (double)p->n * (double)p->s + LRN_NS_LAST * elems;
    if (md->format_kind == dnnl_blocked && bd->inner_nblks == 1 && bd->inner_idxs[0] == 1 &&
        bd->inner_blks[0] == 16)
        return LRN_NS_BLOCKED16 * elems;
    return LRN_NS_OTHER * elems;
}

static ortc_status lrn_build(ortc_opctx *c, void *state)
{
    ortc_dnnl_prim *p = state;
    lrn_params lp;
    ORTC_TRY(lrn_check(c, &lp));
    if (lp.size % 2 == 0 || lp.n * lp.c * lp.s == 0)
        return ortc_dnnl_prim_use_ref(c, p); /* see the note at the top of the file */
    /* Across-channel LRN treats spatial positions independently, so any
     * plain rank is the 4-D (N, C, S, 1). */
    dnnl_memory_desc_t plain_md, in_md;
    dnnl_primitive_desc_t plain_pd = NULL, in_pd = NULL;
    int64_t dims[4] = {lp.n, lp.c, lp.s, 1};
    ortc_status st;
    if ((st = ortc_dnnl_md_plain(c, &plain_md, 4, dims)) ||
        (st = lrn_pd(c, &lp, &plain_md, &plain_pd)))
        return st;
    bool blocked_in = ortc_dnnl_in_blocked(c, 0);
    if (blocked_in) {
        if ((st = ortc_dnnl_md_input(c, 0, &in_md)) || (st = lrn_pd(c, &lp, &in_md, &in_pd))) {
            if (plain_pd)
                dnnl_primitive_desc_destroy(plain_pd);
            return st;
        }
        /* Going plain costs a reorder of the input, and one back for the
         * consumers, which were given the producer's layout. */
        double elems = (double)(lp.n * lp.c * lp.s);
        double via_plain =
            plain_pd ? lrn_cost(&lp, plain_pd, &plain_md) + 2 * LRN_NS_REORDER * elems : -1;
        double in_place = in_pd ? lrn_cost(&lp, in_pd, &in_md) : -1;
        bool plain_wins = plain_pd && (!in_pd || via_plain < in_place);
        dnnl_primitive_desc_destroy(plain_wins ? in_pd : plain_pd);
        if (plain_wins)
            in_pd = NULL;
        else
            plain_pd = NULL;
    }
    dnnl_primitive_desc_t pd = in_pd ? in_pd : plain_pd;
    if (!pd)
        return ortc_dnnl_prim_use_ref(c, p);
    /* a plain primitive over a non-plain input reads a plain copy of it */
    if (pd == plain_pd && blocked_in && (st = ortc_dnnl_unblock_init(c, &p->unblock, &p->used))) {
        dnnl_primitive_desc_destroy(pd);
        return st;
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
