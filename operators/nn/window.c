/* window.c — ortc_window_init (see window.h): reads kernel_shape's
 * companions (strides, dilations, pads, auto_pad) from the node and works
 * out output sizes and pads the way ONNX (and PyTorch, for ceil_mode)
 * define them. No kernels here.
 */
#include "window.h"

#include "error.h"
#include "op_util.h"
#include "plain_util.h"

#include <string.h>

/* ---- window geometry ----------------------------------------------------- */

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static ortc_status window_list(ortc_opctx *c, const char *name, size_t want, const int64_t **v,
                               const char *what)
{
    ORTC_TRY(ortc_op_check_attr(c, name, ORTC_ATTR_INTS));
    size_t n = 0;
    *v = ortc_node_attr_ints(c->node, name, &n);
    if (n == 0)
        *v = NULL;
    else if (n != want)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute '%s' has %zu values; %s over %zu spatial dims needs %zu",
                             name, n, what, name[0] == 'p' ? want / 2 : want, want);
    return ORTC_STATUS_OK;
}

ortc_status ortc_window_pads(ortc_opctx *c, const int64_t *pads, int nsp, int i, int64_t *pb,
                             int64_t *pe)
{
    *pb = pads ? pads[i] : 0;
    *pe = pads ? pads[i + nsp] : 0;
    if (*pb < 0 || *pe < 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'pads' has a negative value (%lld, %lld) for spatial "
                             "dim %d",
                             (long long)*pb, (long long)*pe, i);
    return ORTC_STATUS_OK;
}

ortc_status ortc_window_init(ortc_opctx *c, ortc_window *w, const ortc_tensor *x,
                             const int64_t *kernel, bool ceil_mode, const char *what)
{
    memset(w, 0, sizeof *w);
    int nsp = x->rank - 2;
    if (nsp < 1 || nsp > ORTC_WIN_DIMS)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "%s over %d spatial dims is not supported (1 to 3)", what, nsp);
    w->nsp = nsp;
    w->n = x->dims[0];
    w->c = x->dims[1];
    for (int i = 0; i < ORTC_WIN_DIMS; i++)
        w->in[i] = w->out[i] = w->kernel[i] = w->stride[i] = w->dilation[i] = 1;

    const int64_t *strides, *dilations, *pads;
    ortc_auto_pad auto_pad;
    ORTC_TRY(window_list(c, "strides", (size_t)nsp, &strides, what));
    ORTC_TRY(window_list(c, "dilations", (size_t)nsp, &dilations, what));
    ORTC_TRY(window_list(c, "pads", 2 * (size_t)nsp, &pads, what));
    ORTC_TRY(ortc_op_auto_pad(c, &auto_pad));
    const char *xname = c->node->inputs[0] ? c->node->inputs[0]->name : "";

    for (int i = 0; i < nsp; i++) {
        int d = ortc_win_slot(w, i);
        int64_t in = x->dims[2 + i], k = kernel[i];
        int64_t s = strides ? strides[i] : 1, dil = dilations ? dilations[i] : 1;
        if (k < 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "kernel size %lld in spatial dim %d; must be >= 1", (long long)k,
                                 i);
        if (s < 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'strides'[%d] is %lld; must be >= 1", i, (long long)s);
        if (dil < 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'dilations'[%d] is %lld; must be >= 1", i,
                                 (long long)dil);
        int64_t ext = (k - 1) * dil + 1, out, pb = 0, pe = 0;
        if (auto_pad == ORTC_AUTO_PAD_NOTSET) {
            ORTC_TRY(ortc_window_pads(c, pads, nsp, i, &pb, &pe));
            int64_t span = in + pb + pe - ext;
            if (span < 0)
                out = 0;
            else if (ceil_mode) {
                out = ceil_div(span, s) + 1;
                /* the last window must start inside the left-padded input */
                if ((out - 1) * s >= in + pb)
                    out--;
            } else
                out = span / s + 1;
        } else if (auto_pad == ORTC_AUTO_PAD_VALID) {
            out = in >= ext ? (in - ext) / s + 1 : 0;
        } else {
            out = ceil_div(in, s);
            int64_t total = (out - 1) * s + ext - in;
            if (total < 0)
                total = 0;
            pb = auto_pad == ORTC_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
        }
        if (out < 1) {
            char sb[128];
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input '%s' has shape %s; spatial dim %d (%lld, pads %lld+%lld) "
                                 "is smaller than the %s window extent %lld (kernel %lld, "
                                 "dilation %lld)",
                                 xname, ortc_shape_str(sb, sizeof sb, x->rank, x->dims), i,
                                 (long long)in, (long long)pb, (long long)pe, what, (long long)ext,
                                 (long long)k, (long long)dil);
        }
        w->in[d] = in;
        w->out[d] = out;
        w->kernel[d] = k;
        w->stride[d] = s;
        w->dilation[d] = dil;
        w->pad_begin[d] = pb;
        w->pad_end[d] = pe;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_conv_geom_init(ortc_opctx *c, ortc_conv_geom *cg, int ix, int iw)
{
    const char *op = c->node->op_type;
    ORTC_TRY(ortc_op_check_attr(c, "group", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "kernel_shape", ORTC_ATTR_INTS));
    ORTC_TRY(ortc_op_check_min_rank(c, ix, 3, "N, C, spatial..."));
    const ortc_tensor *x = c->in[ix], *w = c->in[iw];
    const char *nx = ortc_plain_input_name(c, ix), *nw = ortc_plain_input_name(c, iw);
    char sx[128], sw[128];
    ortc_shape_str(sx, sizeof sx, x->rank, x->dims);
    ortc_shape_str(sw, sizeof sw, w->rank, w->dims);
    if (x->rank > 5)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "input '%s' has shape %s (rank %d); %s supports 1 to 3 spatial "
                             "dims (rank 3 to 5)",
                             nx, sx, x->rank, op);
    if (w->rank != x->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s (rank %d); with input '%s' of shape %s "
                             "%s needs rank %d (M, C/group, kernel...)",
                             nw, sw, w->rank, nx, sx, op, x->rank);
    int64_t group = ortc_node_attr_int(c->node, "group", 1);
    int64_t ch = x->dims[1], m = w->dims[0];
    if (group < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'group' is %lld; must be >= 1", (long long)group);
    if (ch % group != 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input '%s' has %lld channels (shape %s), not divisible by group %lld",
                             nx, (long long)ch, sx, (long long)group);
    if (w->dims[1] * group != ch)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: %lld input channels per group x group "
                             "%lld != %lld channels of input '%s' %s",
                             nw, sw, (long long)w->dims[1], (long long)group, (long long)ch, nx,
                             sx);
    if (m < 1 || m % group != 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "weight '%s' has shape %s: %lld output channels, not a positive "
                             "multiple of group %lld",
                             nw, sw, (long long)m, (long long)group);
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
                                 ortc_shape_str(sk, sizeof sk, (int)nk, ks), nw, sw);
        }
    }
    cg->m = m;
    cg->group = group;
    ORTC_TRY(ortc_window_init(c, &cg->g, x, &w->dims[2], false, op));
    cg->ydims[0] = cg->g.n;
    cg->ydims[1] = m;
    for (int i = 0; i < cg->g.nsp; i++)
        cg->ydims[2 + i] = cg->g.out[ortc_win_slot(&cg->g, i)];
    return ORTC_STATUS_OK;
}

void ortc_window_dnnl_dims(const ortc_window *g, int64_t *strides, int64_t *dil, int64_t *pl,
                           int64_t *pr)
{
    for (int i = 0; i < g->nsp; i++) {
        int d = ortc_win_slot(g, i);
        strides[i] = g->stride[d];
        dil[i] = g->dilation[d] - 1;
        pl[i] = g->pad_begin[d];
        pr[i] = g->pad_end[d];
    }
}

double ortc_conv_flops(const ortc_opctx *c, int iw)
{
    const ortc_tensor *w = iw < c->n_in ? c->in[iw] : NULL;
    if (!w || w->rank < 3 || c->n_out < 1)
        return 0;
    int64_t per_output = 1;
    for (int d = 1; d < w->rank; d++)
        per_output *= w->dims[d];
    return ortc_op_flops(c->out[0], (double)per_output);
}
