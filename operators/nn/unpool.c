/* unpool.c — MaxUnpool (opsets 9, 11), plain C: a zero tensor with each
 * element of X written at the place its index in I names. The unpooled
 * shape is (in - 1) * stride + kernel - pad_begin - pad_end per spatial
 * dim; indices count over that whole shape flattened (N x C x spatial, as
 * MaxPool's Indices output does) and are range-checked; a repeated index
 * keeps the last write. With output_shape (input 2, known at compile time:
 * data_inputs) the output is that shape, at least the unpooled one in every
 * dim, with the unpooled tensor in its leading corner and zeros after it:
 * the spec's example and ONNX's reference implementation. (ONNX Runtime
 * instead reads the indices as flat offsets into output_shape, and fails
 * that example.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

#define UNPOOL_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))

/* dims: the output's shape; unpooled (may be NULL): the shape the
 * indices address (= dims without output_shape). */
static ortc_status unpool_check(ortc_opctx *c, int64_t *dims, int64_t *unpooled)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 3, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_attr(c, "kernel_shape", ORTC_ATTR_INTS));
    ORTC_TRY(ortc_op_check_attr(c, "strides", ORTC_ATTR_INTS));
    ORTC_TRY(ortc_op_check_attr(c, "pads", ORTC_ATTR_INTS));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 3, "N, C, spatial..."));
    ORTC_TRY(ortc_op_check_same_shape(c, 1, "indices", 0, NULL));
    const ortc_tensor *x = c->in[0];
    char sx[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    int ns = x->rank - 2;
    size_t nk = 0, nst = 0, np = 0;
    const int64_t *k = ortc_node_attr_ints(c->node, "kernel_shape", &nk);
    const int64_t *s = ortc_node_attr_ints(c->node, "strides", &nst);
    const int64_t *pads = ortc_node_attr_ints(c->node, "pads", &np);
    if (!k || nk != (size_t)ns)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'kernel_shape' has %zu values; input 0 %s has %d spatial "
                             "dims",
                             k ? nk : 0, sx, ns);
    if ((s && nst != (size_t)ns) || (pads && np != 2 * (size_t)ns))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attributes 'strides' (%zu values) and 'pads' (%zu) must have %d and "
                             "%d values for input 0 %s",
                             s ? nst : 0, pads ? np : 0, ns, 2 * ns, sx);
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int d = 0; d < ns; d++) {
        int64_t kd = k[d], sd = s ? s[d] : 1, pb = pads ? pads[d] : 0, pe = pads ? pads[ns + d] : 0;
        if (kd < 1 || sd < 1 || pb < 0 || pe < 0 || kd > INT32_MAX || sd > INT32_MAX ||
            pb > INT32_MAX || pe > INT32_MAX)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "spatial dim %d: kernel %lld, stride %lld, pads %lld/%lld; "
                                 "kernel and stride must lie in 1..2^31-1, pads in 0..2^31-1",
                                 d, (long long)kd, (long long)sd, (long long)pb, (long long)pe);
        int64_t in = x->dims[2 + d];
        dims[2 + d] = in < 0 ? -1 : (in - 1) * sd + kd - pb - pe;
        if (in >= 0 && dims[2 + d] < 0)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "spatial dim %d of the output would be %lld (input %lld, kernel "
                                 "%lld, stride %lld, pads %lld/%lld)",
                                 d, (long long)dims[2 + d], (long long)in, (long long)kd,
                                 (long long)sd, (long long)pb, (long long)pe);
    }
    if (!ortc_plain_has_input(c, 2)) {
        if (unpooled)
            memcpy(unpooled, dims, (size_t)x->rank * sizeof *dims);
        return ORTC_STATUS_OK;
    }
    /* output_shape: the whole output shape (N, C, spatial...) */
    int64_t os[ORTC_MAX_RANK];
    int n;
    ORTC_TRY(ortc_plain_read_int_list(c, 2, "output_shape", true, os, ORTC_MAX_RANK, &n));
    if (n != x->rank)
        return ortc_op_error(c, ortc_plain_value_status(c, 2),
                             "input 2 '%s' (output_shape) has %d values; input 0 %s has rank %d",
                             ortc_plain_input_name(c, 2), n, sx, x->rank);
    for (int d = 0; d < n; d++)
        if ((d < 2 && x->dims[d] >= 0 && os[d] != x->dims[d]) ||
            (d >= 2 && dims[d] >= 0 && os[d] < dims[d])) {
            char su[128];
            return ortc_op_error(c, ortc_plain_value_status(c, 2),
                                 "input 2 '%s' (output_shape) has %lld at dim %d; N and C must "
                                 "be those of input 0 %s and spatial dims at least the unpooled "
                                 "shape %s",
                                 ortc_plain_input_name(c, 2), (long long)os[d], d, sx,
                                 ortc_shape_str(su, sizeof su, n, dims));
        }
    if (unpooled)
        memcpy(unpooled, dims, (size_t)n * sizeof *dims);
    memcpy(dims, os, (size_t)n * sizeof *dims);
    return ORTC_STATUS_OK;
}

static ortc_status unpool_infer(ortc_opctx *c)
{
    int64_t dims[ORTC_MAX_RANK];
    ORTC_TRY(unpool_check(c, dims, NULL));
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, dims);
    return ortc_plain_check_numel(c, 0);
}

// y: zeros, then y[I[i]] = X[i], I[i] a flat index into the unpooled shape
// (a leading corner of y's)
static ortc_status unpool_run(ortc_opctx *c)
{
    int64_t dims[ORTC_MAX_RANK], up[ORTC_MAX_RANK];
    ORTC_TRY(unpool_check(c, dims, up));
    const ortc_tensor *x = c->in[0], *idx = c->in[1];
    int r = x->rank;
    int64_t n_up = ortc_plain_span(up, 0, r), n_out = ortc_tensor_numel(c->out[0]),
            n = ortc_tensor_numel(x);
    size_t elem = ortc_dtype_size(x->dtype);
    char *y = c->out[0]->data;
    const char *xd = x->data;
    const int64_t *id = idx->data;
    for (int64_t i = 0; i < n; i++)
        if (id[i] < 0 || id[i] >= n_up) {
            char su[128];
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "index %lld (element %lld of input 1 '%s') is out of range for "
                                 "the unpooled shape %s (%lld elements)",
                                 (long long)id[i], (long long)i, ortc_plain_input_name(c, 1),
                                 ortc_shape_str(su, sizeof su, r, up), (long long)n_up);
        }
    if (n_out == 0)
        return ORTC_STATUS_OK;
    memset(y, 0, (size_t)n_out * elem);
    bool same = !memcmp(up, dims, (size_t)r * sizeof *dims);
    int64_t ostr[ORTC_MAX_RANK];
    ortc_plain_dense_strides(r, dims, ostr);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = id[i];
        if (!same) { /* the same coordinates in the larger output */
            int64_t rest = id[i];
            off = 0;
            for (int d = r - 1; d >= 0; d--) {
                off += (rest % up[d]) * ostr[d];
                rest /= up[d];
            }
        }
        memcpy(y + (size_t)off * elem, xd + (size_t)i * elem, elem);
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_unpool[] = {
    /* output_shape (input 2) sets the output's shape */
    ORTC_OP("MaxUnpool", 9, 11, .versions = {9, 11}, .dtypes = UNPOOL_DTYPES,
            .data_inputs = 1u << 2, .infer = unpool_infer, .run = unpool_run),
};
ORTC_OP_TABLE_END(unpool);
