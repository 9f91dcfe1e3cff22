/* eltwise.c — Relu (opsets 1, 6, 13, 14), float32, on oneDNN's eltwise
 * primitive over the tensor viewed as 1-D, with the plain-C reference
 * kernel. The output may reuse the input's memory. Other element types are
 * refused in infer.
 */
#include <stdlib.h>

#include "dnnl_util.h"
#include "reference.h"

typedef struct eltwise_state {
    bool use_ref; /* empty input: plain-C kernel */
    ortc_dnnl_step step;
    dnnl_memory_t src, dst;
} eltwise_state;

static ortc_status relu_check(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 1, 1, 1)) ||
        (st = ortc_op_check_dtype(c, 0, ORTC_DTYPE_FLOAT, ORTC_DTYPE_UNDEFINED)))
        return st;
    return ORTC_STATUS_OK;
}

static ortc_status relu_infer(ortc_opctx *c)
{
    ortc_status st = relu_check(c);
    if (st)
        return st;
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

static ortc_status relu_reference(ortc_opctx *c)
{
    ortc_status st = relu_check(c);
    if (st)
        return st;
    ortc_ref_relu_forward(c->out[0]->data, c->in[0]->data, ortc_tensor_numel(c->in[0]));
    return ORTC_STATUS_OK;
}

static ortc_status relu_build(ortc_opctx *c, eltwise_state *s)
{
    ortc_status st = relu_check(c);
    if (st)
        return st;
    if (c->inplace)
        c->inplace[0] = 0; /* elementwise: y may overwrite x */
    int64_t n = ortc_tensor_numel(c->in[0]);
    if (n == 0) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    dnnl_memory_desc_t md;
    if ((st = ortc_dnnl_md_plain(c, &md, 1, &n)))
        return st;
    dnnl_eltwise_desc_t desc;
    DNNL_CHECK(c, dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, dnnl_eltwise_relu,
                                                 &md, 0.0f, 0.0f));
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

static void eltwise_release(ortc_opctx *c)
{
    eltwise_state *s = c->state;
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

static ortc_status relu_prepare(ortc_opctx *c)
{
    eltwise_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing Relu");
    c->state = s;
    ortc_status st = relu_build(c, s);
    if (st)
        eltwise_release(c);
    return st;
}

static ortc_status relu_run(ortc_opctx *c)
{
    eltwise_state *s = c->state;
    if (!s || s->use_ref)
        return relu_reference(c);
    ortc_status st;
    if ((st = ortc_dnnl_set(c, s->src, c->in[0]->data)) ||
        (st = ortc_dnnl_set(c, s->dst, c->out[0]->data)))
        return st;
    return ortc_dnnl_step_run(c, &s->step);
}

#define RELU_OP(version)                                                                 \
    {                                                                                    \
        .domain = "", .op_type = "Relu", .since_version = (version), .infer = relu_infer, \
        .prepare = relu_prepare, .run = relu_run, .release = eltwise_release,            \
        .reference = relu_reference,                                                     \
    }

const ortc_operator ortc_ops_eltwise[] = {RELU_OP(1), RELU_OP(6), RELU_OP(13), RELU_OP(14)};
const size_t ortc_ops_eltwise_count = sizeof ortc_ops_eltwise / sizeof ortc_ops_eltwise[0];
