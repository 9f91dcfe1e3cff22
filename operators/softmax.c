/* softmax.c — Softmax, float32, on oneDNN's softmax_v2 with the plain-C
 * reference kernel. Opsets 1 and 11 coerce the input to 2-D at `axis`
 * (default 1) and normalise over the flattened trailing part; opset 13
 * normalises along `axis` (default -1). Both become a 3-D (outer, len,
 * inner) descriptor with the softmax on its middle dim.
 */
#include <stdlib.h>

#include "dnnl_util.h"
#include "reference.h"

typedef struct softmax_state {
    bool use_ref; /* empty input: plain-C kernel */
    ortc_dnnl_step step;
    dnnl_memory_t src, dst;
} softmax_state;

static ortc_status softmax_check(ortc_opctx *c, int64_t *outer, int64_t *len, int64_t *inner)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
        (st = ortc_op_check_dtype(c, 0, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)))
        return st;
    const ortc_tensor *x = c->in[0];
    if (x->rank < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' is a scalar; Softmax needs rank >= 1",
                             c->node->inputs[0]->name);
    int version = c->node->op ? c->node->op->since_version : c->node->opset;
    bool coerce_2d = version < 13;
    int axis;
    if ((st = ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", coerce_2d ? 1 : -1), x->rank,
                           &axis)))
        return st;
    *outer = *len = *inner = 1;
    for (int i = 0; i < axis; i++)
        *outer *= x->dims[i];
    if (coerce_2d)
        for (int i = axis; i < x->rank; i++)
            *len *= x->dims[i];
    else {
        *len = x->dims[axis];
        for (int i = axis + 1; i < x->rank; i++)
            *inner *= x->dims[i];
    }
    return ORTC_STATUS_OK;
}

static ortc_status softmax_infer(ortc_opctx *c)
{
    int64_t outer, len, inner;
    ortc_status st = softmax_check(c, &outer, &len, &inner);
    if (st)
        return st;
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

static ortc_status softmax_reference(ortc_opctx *c)
{
    int64_t outer, len, inner;
    ortc_status st = softmax_check(c, &outer, &len, &inner);
    if (st)
        return st;
    ortc_ref_softmax_forward(c->out[0]->data, c->in[0]->data, outer, len, inner);
    return ORTC_STATUS_OK;
}

static ortc_status softmax_build(ortc_opctx *c, softmax_state *s)
{
    int64_t dims[3];
    ortc_status st = softmax_check(c, &dims[0], &dims[1], &dims[2]);
    if (st)
        return st;
    if (dims[0] * dims[1] * dims[2] == 0) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    dnnl_memory_desc_t md;
    if ((st = ortc_dnnl_md_plain(c, &md, 3, dims)))
        return st;
    dnnl_softmax_v2_desc_t desc;
    DNNL_CHECK(c, dnnl_softmax_v2_forward_desc_init(&desc, dnnl_forward_inference,
                                                    dnnl_softmax_accurate, &md, &md, 1));
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

static void softmax_release(ortc_opctx *c)
{
    softmax_state *s = c->state;
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

static ortc_status softmax_prepare(ortc_opctx *c)
{
    softmax_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing Softmax");
    c->state = s;
    ortc_status st = softmax_build(c, s);
    if (st)
        softmax_release(c);
    return st;
}

static ortc_status softmax_run(ortc_opctx *c)
{
    softmax_state *s = c->state;
    if (!s || s->use_ref)
        return softmax_reference(c);
    ortc_status st;
    if ((st = ortc_dnnl_set(c, s->src, c->in[0]->data)) ||
        (st = ortc_dnnl_set(c, s->dst, c->out[0]->data)))
        return st;
    return ortc_dnnl_step_run(c, &s->step);
}

#define SOFTMAX_OP(version)                                                                  \
    {                                                                                        \
        .domain = "", .op_type = "Softmax", .since_version = (version),                      \
        .infer = softmax_infer, .prepare = softmax_prepare, .run = softmax_run,              \
        .release = softmax_release, .reference = softmax_reference,                          \
    }

const ortc_operator ortc_ops_softmax[] = {SOFTMAX_OP(1), SOFTMAX_OP(11), SOFTMAX_OP(13)};
const size_t ortc_ops_softmax_count = sizeof ortc_ops_softmax / sizeof ortc_ops_softmax[0];
