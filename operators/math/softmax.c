/* softmax.c — Softmax (opsets 1, 11, 13) on oneDNN's softmax_v2 for
 * float32, plain C for double and as the reference; LogSoftmax and Hardmax
 * (1, 11, 13) in plain C. Opsets 1 and 11 coerce the input to 2-D at `axis`
 * (default 1) and normalise over the flattened trailing part; opset 13
 * normalises along `axis` (default -1). Both become a 3-D (outer, len,
 * inner) view with the op on its middle dim. LogSoftmax does not use
 * oneDNN's softmax_log: in oneDNN 2.6 (jit:avx512_core) its log is off by
 * ~1.4e-6 absolute, so a dominant class gets log-probability +1.4e-6
 * instead of -2e-9 and small ones miss ONNX's rtol 1e-3.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "error.h"
#include "plain_util.h"
#include "softmax_ref.h"

static ortc_status softmax_check(ortc_opctx *c, int64_t *outer, int64_t *len, int64_t *inner)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x = c->in[0];
    int version = ortc_op_version(c);
    bool coerce_2d = version < 13;
    int axis;
    ORTC_TRY(
        ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", coerce_2d ? 1 : -1), x->rank, &axis));
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
    ORTC_TRY(softmax_check(c, &outer, &len, &inner));
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

/* ---- plain-C kernels (float or double, computed in double) --------------- */

// x, y: (outer, len, inner); softmax (log=false) or log-softmax over len:
// x - max - log(sum(exp(x - max))), so large inputs do not overflow
static void softmax_real_forward(void *y, const void *x, ortc_dtype t, int64_t outer, int64_t len,
                                 int64_t inner, bool log_out)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            double m = -INFINITY, sum = 0;
            for (int64_t k = 0; k < len; k++) {
                double v = ortc_load_real(x, t, base + k * inner);
                m = v > m ? v : m;
            }
            for (int64_t k = 0; k < len; k++)
                sum += exp(ortc_load_real(x, t, base + k * inner) - m);
            double lse = log(sum);
            for (int64_t k = 0; k < len; k++) {
                double d = ortc_load_real(x, t, base + k * inner) - m;
                ortc_store_real(y, t, base + k * inner, log_out ? d - lse : exp(d) / sum);
            }
        }
}

// x, y: (outer, len, inner); y = 1 at the first max along len, 0 elsewhere
// (a NaN counts as the max, like numpy's argmax)
static void hardmax_real_forward(void *y, const void *x, ortc_dtype t, int64_t outer, int64_t len,
                                 int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i, best_k = 0;
            double best = len > 0 ? ortc_load_real(x, t, base) : 0;
            for (int64_t k = 1; k < len && !isnan(best); k++) {
                double v = ortc_load_real(x, t, base + k * inner);
                if (v > best || isnan(v))
                    best = v, best_k = k;
            }
            for (int64_t k = 0; k < len; k++)
                ortc_store_real(y, t, base + k * inner, k == best_k ? 1.0 : 0.0);
        }
}

static ortc_status softmax_reference(ortc_opctx *c)
{
    int64_t outer, len, inner;
    ORTC_TRY(softmax_check(c, &outer, &len, &inner));
    const ortc_tensor *x = c->in[0];
    const char *op = c->node->op_type;
    if (!strcmp(op, "Hardmax"))
        hardmax_real_forward(c->out[0]->data, x->data, x->dtype, outer, len, inner);
    else if (!strcmp(op, "LogSoftmax"))
        softmax_real_forward(c->out[0]->data, x->data, x->dtype, outer, len, inner, true);
    else if (x->dtype == ORTC_DTYPE_FLOAT)
        ortc_ref_softmax_forward(c->out[0]->data, x->data, outer, len, inner);
    else
        softmax_real_forward(c->out[0]->data, x->data, x->dtype, outer, len, inner, false);
    return ORTC_STATUS_OK;
}

/* oneDNN for float32 (double or an empty input: the plain-C kernel). */
static ortc_status softmax_build(ortc_opctx *c, void *state)
{
    int64_t dims[3];
    ORTC_TRY(softmax_check(c, &dims[0], &dims[1], &dims[2]));
    if (dims[0] * dims[1] * dims[2] == 0 || c->in[0]->dtype != ORTC_DTYPE_FLOAT)
        return ortc_dnnl_prim_use_ref(c, state);
    dnnl_memory_desc_t md;
    ORTC_TRY(ortc_dnnl_md_plain(c, &md, 3, dims));
    dnnl_softmax_v2_desc_t desc;
    DNNL_CHECK(c, dnnl_softmax_v2_forward_desc_init(&desc, dnnl_forward_inference,
                                                    dnnl_softmax_accurate, &md, &md, 1));
    const ortc_dnnl_arg args[] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0), ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
    return ortc_dnnl_prim_create(c, state, &desc, NULL, args, 2);
}

static ortc_status softmax_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(ortc_dnnl_prim), softmax_build, NULL);
}

/* LogSoftmax and Hardmax are plain C: run is the reference kernel. */
const ortc_operator ortc_ops_softmax[] = {
    ORTC_OP("Softmax", 1, 13, .versions = {1, 11, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT, .infer = softmax_infer, .prepare = softmax_prepare,
            .run = ortc_dnnl_prim_exec, .release = ortc_dnnl_prim_release,
            .reference = softmax_reference),
    ORTC_OP("LogSoftmax", 1, 13, .versions = {1, 11, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .infer = softmax_infer, .run = softmax_reference),
    ORTC_OP("Hardmax", 1, 13, .versions = {1, 11, 13}, .dtypes = ORTC_DTYPES_FLOAT,
            .infer = softmax_infer, .run = softmax_reference),
};
ORTC_OP_TABLE_END(softmax);
