/* conv.c — Conv (opsets 1 and 11) over 1 to 3 spatial dims: group,
 * dilations, strides, pads or auto_pad, optional bias; float32 on oneDNN,
 * with the plain-C reference kernel. Constant weights are reordered once in
 * prepare; weights fed at run are used in plain layout. No fused post-ops
 * and no blocked activations yet.
 */
#include <stdlib.h>

#include "dnnl_util.h"
#include "reference.h"

typedef struct conv_state {
    bool use_ref; /* oneDNN has no implementation: plain-C kernel */
    ortc_dnnl_step step;
    dnnl_memory_t src, dst, bias;
    ortc_dnnl_weights w;
} conv_state;

/* A validated Conv node: window geometry, output channels, groups. */
typedef struct conv_shape {
    ortc_window g;
    int64_t m, group;
} conv_shape;

static const char *in_name(const ortc_opctx *c, int i)
{
    return c->node->inputs[i] ? c->node->inputs[i]->name : "";
}

static ortc_status conv_check(ortc_opctx *c, conv_shape *cs)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 2, 3, 1, 1)) ||
        (st = ortc_op_check_dtype(c, 0, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)) ||
        (st = ortc_op_check_dtype(c, 1, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)) ||
        (c->n_in > 2 && c->in[2] &&
         (st = ortc_op_check_dtype(c, 2, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED))) ||
        (st = ortc_op_check_attr(c, "group", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "kernel_shape", ORTC_ATTR_INTS)))
        return st;
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    char sx[128], sw[128], sb[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(sw, sizeof sw, w->rank, w->dims);
    if (x->rank < 3)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' has shape %s (rank %d); Conv needs rank >= 3 "
                             "(N, C, spatial...)",
                             in_name(c, 0), sx, x->rank);
    if (x->rank > 5)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input '%s' has shape %s (rank %d); Conv supports 1 to 3 spatial "
                             "dims (rank 3 to 5)",
                             in_name(c, 0), sx, x->rank);
    if (w->rank != x->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s (rank %d); with input '%s' of shape %s "
                             "Conv needs rank %d (M, C/group, kernel...)",
                             in_name(c, 1), sw, w->rank, in_name(c, 0), sx, x->rank);
    int64_t group = ortc_node_attr_int(c->node, "group", 1);
    int64_t ch = x->dims[1], m = w->dims[0];
    if (group < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'group' is %lld; must be >= 1",
                             (long long)group);
    if (ch % group != 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' has %lld channels (shape %s), not divisible by group %lld",
                             in_name(c, 0), (long long)ch, sx, (long long)group);
    if (w->dims[1] * group != ch)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: %lld input channels per group x group "
                             "%lld != %lld channels of input '%s' %s",
                             in_name(c, 1), sw, (long long)w->dims[1], (long long)group,
                             (long long)ch, in_name(c, 0), sx);
    if (m < 1 || m % group != 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: %lld output channels, not a positive "
                             "multiple of group %lld",
                             in_name(c, 1), sw, (long long)m, (long long)group);
    size_t nk = 0;
    const int64_t *ks = ortc_node_attr_ints(c->node, "kernel_shape", &nk);
    if (nk) {
        bool same = nk == (size_t)(x->rank - 2);
        for (size_t i = 0; same && i < nk; i++)
            same = ks[i] == w->dims[2 + i];
        if (!same) {
            char sk[128];
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'kernel_shape' %s does not match weight '%s' of "
                                 "shape %s",
                                 ortc_shape_str(sk, sizeof sk, (int)nk, ks), in_name(c, 1), sw);
        }
    }
    if (b && (b->rank != 1 || b->dims[0] != m))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "bias '%s' has shape %s; Conv with %lld output channels needs [%lld]",
                             in_name(c, 2), ortc_shape_str(sb, sizeof sb, b->rank, b->dims),
                             (long long)m, (long long)m);
    cs->m = m;
    cs->group = group;
    return ortc_window_init(c, &cs->g, x, &w->dims[2], false, "Conv");
}

static void conv_out_dims(const conv_shape *cs, int64_t *dims)
{
    dims[0] = cs->g.n;
    dims[1] = cs->m;
    for (int i = 0; i < cs->g.nsp; i++)
        dims[2 + i] = cs->g.out[ortc_win_slot(&cs->g, i)];
}

static ortc_status conv_infer(ortc_opctx *c)
{
    conv_shape cs;
    ortc_status st = conv_check(c, &cs);
    if (st)
        return st;
    int64_t dims[ORTC_MAX_RANK];
    conv_out_dims(&cs, dims);
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, dims);
    return ORTC_STATUS_OK;
}

static ortc_status conv_reference(ortc_opctx *c)
{
    conv_shape cs;
    ortc_status st = conv_check(c, &cs);
    if (st)
        return st;
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    ortc_ref_conv_forward(c->out[0]->data, c->in[0]->data, c->in[1]->data, b ? b->data : NULL,
                          &cs.g, cs.m, cs.group);
    return ORTC_STATUS_OK;
}

/* Memory objects and weights for a created primitive descriptor. */
static ortc_status conv_bind(ortc_opctx *c, conv_state *s, dnnl_primitive_desc_t pd,
                             const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                             const dnnl_memory_desc_t *wplain, const dnnl_memory_desc_t *bias)
{
    ortc_status st = ortc_dnnl_step_create(c, &s->step, pd);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_SRC, src, &s->src);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_DST, dst, &s->dst);
    if (!st && bias)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_BIAS, bias, &s->bias);
    if (!st) {
        const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        st = ortc_dnnl_weights_init(c, &s->step, DNNL_ARG_WEIGHTS, &s->w, want, wplain,
                                    c->in[1]->data);
    }
    return st;
}

static ortc_status conv_build(ortc_opctx *c, conv_state *s)
{
    conv_shape cs;
    ortc_status st = conv_check(c, &cs);
    if (st)
        return st;
    const ortc_tensor *x = c->in[0], *w = c->in[1];
    const ortc_tensor *b = c->n_in > 2 ? c->in[2] : NULL;
    if (ortc_tensor_numel(x) == 0 || ortc_tensor_numel(w) == 0) {
        s->use_ref = true; /* nothing for oneDNN to do; the loops handle it */
        return ORTC_STATUS_OK;
    }
    const int nsp = cs.g.nsp;
    int64_t ydims[ORTC_MAX_RANK], wdims[ORTC_MAX_RANK + 1];
    conv_out_dims(&cs, ydims);
    /* grouped weights are (G, M/G, C/G, k...): the same bytes as (M, C/G, k...) */
    int wrank = w->rank;
    if (cs.group > 1) {
        wdims[0] = cs.group;
        wdims[1] = cs.m / cs.group;
        for (int i = 1; i < w->rank; i++)
            wdims[i + 1] = w->dims[i];
        wrank++;
    } else
        for (int i = 0; i < w->rank; i++)
            wdims[i] = w->dims[i];

    dnnl_memory_desc_t src, dst, wplain, wwant, bias;
    int64_t mdim = cs.m;
    bool wconst = w->data != NULL;
    if ((st = ortc_dnnl_md_plain(c, &src, x->rank, x->dims)) ||
        (st = ortc_dnnl_md_plain(c, &dst, x->rank, ydims)) ||
        (st = ortc_dnnl_md_plain(c, &wplain, wrank, wdims)) ||
        (st = wconst ? ortc_dnnl_md_any(c, &wwant, wrank, wdims)
                     : ortc_dnnl_md_plain(c, &wwant, wrank, wdims)) ||
        (b && (st = ortc_dnnl_md_plain(c, &bias, 1, &mdim))))
        return st;

    dnnl_dims_t strides, dil, pl, pr;
    for (int i = 0; i < nsp; i++) {
        int d = ortc_win_slot(&cs.g, i);
        strides[i] = cs.g.stride[d];
        dil[i] = cs.g.dilation[d] - 1; /* oneDNN counts the gaps */
        pl[i] = cs.g.pad_begin[d];
        pr[i] = cs.g.pad_end[d];
    }
    dnnl_convolution_desc_t desc;
    DNNL_CHECK(c, dnnl_dilated_convolution_forward_desc_init(
                      &desc, dnnl_forward_inference, dnnl_convolution_direct, &src, &wwant,
                      b ? &bias : NULL, &dst, strides, dil, pl, pr));
    dnnl_primitive_desc_t pd;
    bool unimpl;
    if ((st = ortc_dnnl_pd_create(c, &pd, &desc, NULL, &unimpl)))
        return st;
    if (unimpl) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    st = conv_bind(c, s, pd, &src, &dst, &wplain, b ? &bias : NULL);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static void conv_release(ortc_opctx *c)
{
    conv_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_step_free(&s->step);
    if (s->src)
        dnnl_memory_destroy(s->src);
    if (s->dst)
        dnnl_memory_destroy(s->dst);
    if (s->bias)
        dnnl_memory_destroy(s->bias);
    ortc_dnnl_weights_free(&s->w);
    free(s);
    c->state = NULL;
}

static ortc_status conv_prepare(ortc_opctx *c)
{
    conv_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing Conv");
    c->state = s;
    ortc_status st = conv_build(c, s);
    if (st)
        conv_release(c);
    return st;
}

static ortc_status conv_run(ortc_opctx *c)
{
    conv_state *s = c->state;
    if (!s || s->use_ref)
        return conv_reference(c);
    ortc_status st;
    if ((st = ortc_dnnl_set(c, s->src, c->in[0]->data)) ||
        (st = ortc_dnnl_set(c, s->dst, c->out[0]->data)) ||
        (st = ortc_dnnl_weights_bind(c, &s->w, c->in[1]->data)) ||
        (s->bias && (st = ortc_dnnl_set(c, s->bias, c->in[2]->data))))
        return st;
    return ortc_dnnl_step_run(c, &s->step);
}

#define CONV_OP(version)                                                                  \
    {                                                                                     \
        .domain = "", .op_type = "Conv", .since_version = (version), .infer = conv_infer, \
        .prepare = conv_prepare, .run = conv_run, .release = conv_release,                \
        .reference = conv_reference,                                                      \
    }

const ortc_operator ortc_ops_conv[] = {CONV_OP(1), CONV_OP(11)};
const size_t ortc_ops_conv_count = sizeof ortc_ops_conv / sizeof ortc_ops_conv[0];
