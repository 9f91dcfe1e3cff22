/* lrn.c — LRN (opsets 1 and 13), float32, across channels, any rank >= 2.
 * ONNX's window for channel c is [c - floor((size-1)/2), c + ceil((size-1)/2)];
 * oneDNN's across-channel LRN uses the same window only for odd sizes (for
 * even sizes it drops one channel on the high side), so even sizes run the
 * plain-C reference kernel.
 */
#include <stdlib.h>

#include "dnnl_util.h"
#include "reference.h"

typedef struct lrn_state {
    bool use_ref; /* even size (or empty input): plain-C kernel */
    ortc_dnnl_step step;
    dnnl_memory_t src, dst;
} lrn_state;

typedef struct lrn_params {
    int64_t n, c, s; /* x viewed as (N, C, S) */
    int64_t size;
    float alpha, beta, bias;
} lrn_params;

static ortc_status lrn_check(ortc_opctx *c, lrn_params *p)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
        (st = ortc_op_check_dtype(c, 0, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)) ||
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

static ortc_status lrn_build(ortc_opctx *c, lrn_state *s)
{
    lrn_params p;
    ortc_status st = lrn_check(c, &p);
    if (st)
        return st;
    if (p.size % 2 == 0 || p.n * p.c * p.s == 0) {
        s->use_ref = true; /* see the note at the top of the file */
        return ORTC_STATUS_OK;
    }
    /* Across-channel LRN treats spatial positions independently, so any
     * rank is the 4-D (N, C, S, 1). */
    int64_t dims[4] = {p.n, p.c, p.s, 1};
    dnnl_memory_desc_t md;
    if ((st = ortc_dnnl_md_plain(c, &md, 4, dims)))
        return st;
    dnnl_lrn_desc_t desc;
    DNNL_CHECK(c, dnnl_lrn_forward_desc_init(&desc, dnnl_forward_inference,
                                             dnnl_lrn_across_channels, &md, p.size, p.alpha,
                                             p.beta, p.bias));
    dnnl_primitive_desc_t pd;
    bool unimpl;
    if ((st = ortc_dnnl_pd_create(c, &pd, &desc, NULL, &unimpl)))
        return st;
    if (unimpl) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    st = ortc_dnnl_step_create(c, &s->step, pd);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_SRC, &md, &s->src);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_DST, &md, &s->dst);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static void lrn_release(ortc_opctx *c)
{
    lrn_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_step_free(&s->step);
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
    if (!s || s->use_ref)
        return lrn_reference(c);
    ortc_status st;
    if ((st = ortc_dnnl_set(c, s->src, c->in[0]->data)) ||
        (st = ortc_dnnl_set(c, s->dst, c->out[0]->data)))
        return st;
    return ortc_dnnl_step_run(c, &s->step);
}

#define LRN_OP(version)                                                                  \
    {                                                                                    \
        .domain = "", .op_type = "LRN", .since_version = (version), .infer = lrn_infer,  \
        .prepare = lrn_prepare, .run = lrn_run, .release = lrn_release,                  \
        .reference = lrn_reference,                                                      \
    }

const ortc_operator ortc_ops_lrn[] = {LRN_OP(1), LRN_OP(13)};
const size_t ortc_ops_lrn_count = sizeof ortc_ops_lrn / sizeof ortc_ops_lrn[0];
