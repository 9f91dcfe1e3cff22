/* quant_params.c — the parameters of quantized tensors (quant.h): reading
 * scale and zero point from a node's inputs, checking their shapes and
 * types in infer and their values once known. No kernels here.
 */
#include <math.h>
#include <stdio.h>

#include "error.h"
#include "plain_util.h"
#include "quant.h"

int32_t ortc_q_min(ortc_dtype d)
{
    switch (d) {
    case ORTC_DTYPE_UINT8: return 0;
    case ORTC_DTYPE_INT8: return -128;
    default: return INT32_MIN;
    }
}

int32_t ortc_q_max(ortc_dtype d)
{
    switch (d) {
    case ORTC_DTYPE_UINT8: return 255;
    case ORTC_DTYPE_INT8: return 127;
    default: return INT32_MAX;
    }
}

bool ortc_q_is_8bit(ortc_dtype d)
{
    return d == ORTC_DTYPE_UINT8 || d == ORTC_DTYPE_INT8;
}

/* The element count of t when it is a scalar or a 1-D tensor; -1 for higher
 * ranks (a 1-element tensor of any rank counts as a scalar: 1). */
static int64_t flat_count(const ortc_tensor *t)
{
    int64_t n = ortc_tensor_numel(t);
    if (n == 1)
        return 1;
    return t->rank == 1 ? t->dims[0] : -1;
}

ortc_status ortc_qparam_check_zero_type(ortc_opctx *c, int zero_in, ortc_dtype dtype,
                                        const char *what)
{
    const ortc_tensor *z = c->in[zero_in];
    if (z->dtype == dtype)
        return ORTC_STATUS_OK;
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                         "zero point '%s' is %s; %s is %s: they must have the same type",
                         ortc_plain_input_name(c, zero_in), ortc_dtype_name(z->dtype), what,
                         ortc_dtype_name(dtype));
}

ortc_status ortc_qparam_read(ortc_opctx *c, ortc_qparam *p, ortc_dtype dtype, int rank,
                             const int64_t *dims, ortc_qshape shape, int axis, int scale_in,
                             int zero_in, const char *what)
{
    *p = (ortc_qparam){.dtype = dtype, .n = 1, .axis = -1, .scale_in = scale_in, .zero_in = -1};
    const ortc_tensor *s = scale_in < c->n_in ? c->in[scale_in] : NULL;
    const ortc_tensor *z = zero_in >= 0 && zero_in < c->n_in ? c->in[zero_in] : NULL;
    char ss[128], sx[128], sz[128];
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "the scale of %s (input %d) is missing",
                             what, scale_in);
    ortc_shape_str(ss, sizeof ss, s->rank, s->dims);
    ortc_shape_str(sx, sizeof sx, rank, dims);
    if (s->dtype != ORTC_DTYPE_FLOAT)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "scale '%s' of %s is %s; scales are float32",
                             ortc_plain_input_name(c, scale_in), what, ortc_dtype_name(s->dtype));
    int64_t n = flat_count(s);
    if (n != 1) {
        bool axis_ok = shape == ORTC_Q_AXIS && axis >= 0 && axis < rank;
        if (!axis_ok || n != dims[axis]) {
            if (axis_ok)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "scale '%s' has shape %s; for %s of shape %s it must be a "
                                     "scalar or 1-D with %lld entries (axis %d)",
                                     ortc_plain_input_name(c, scale_in), ss, what, sx,
                                     (long long)dims[axis], axis);
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "scale '%s' has shape %s; %s (shape %s) takes a scalar scale",
                                 ortc_plain_input_name(c, scale_in), ss, what, sx);
        }
        p->n = n;
        p->axis = axis;
    }
    if (z) {
        ORTC_TRY(ortc_qparam_check_zero_type(c, zero_in, dtype, what));
        ortc_shape_str(sz, sizeof sz, z->rank, z->dims);
        if (flat_count(z) != n || (n > 1 && z->rank != 1))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "zero point '%s' has shape %s; its scale '%s' has shape %s: they "
                                 "must have the same shape",
                                 ortc_plain_input_name(c, zero_in), sz,
                                 ortc_plain_input_name(c, scale_in), ss);
        p->zero_in = zero_in;
    }
    return ortc_qparam_values(c, p);
}

bool ortc_qparam_known(const ortc_opctx *c, const ortc_qparam *p)
{
    return c->in[p->scale_in]->data && (p->zero_in < 0 || c->in[p->zero_in]->data);
}

ortc_status ortc_qparam_values(ortc_opctx *c, ortc_qparam *p)
{
    if (!ortc_qparam_known(c, p))
        return ORTC_STATUS_OK;
    p->scale = c->in[p->scale_in]->data;
    p->zero = p->zero_in >= 0 ? c->in[p->zero_in]->data : NULL;
    for (int64_t i = 0; i < p->n; i++) {
        float s = p->scale[i];
        if (!(s > 0.0f) || !isfinite(s)) {
            char at[32] = "";
            if (p->n > 1)
                snprintf(at, sizeof at, "[%lld]", (long long)i);
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "scale '%s'%s is %g; scales must be positive and finite",
                                 ortc_plain_input_name(c, p->scale_in), at, (double)s);
        }
    }
    if (p->dtype == ORTC_DTYPE_INT32)
        for (int64_t i = 0; i < p->n; i++)
            if (ortc_qparam_zero(p, i) != 0)
                return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                     "zero point '%s' is %d; an int32 tensor's zero point must "
                                     "be 0",
                                     ortc_plain_input_name(c, p->zero_in),
                                     (int)ortc_qparam_zero(p, i));
    return ORTC_STATUS_OK;
}
