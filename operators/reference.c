/* reference.c — plain-C reference kernels (see reference.h): obviously
 * correct loops over the ONNX definitions, accumulating in double; clarity
 * over speed. Also the window geometry shared by Conv and pooling. No
 * oneDNN here.
 */
#include "reference.h"

#include <math.h>
#include <string.h>

/* ---- window geometry ----------------------------------------------------- */

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static ortc_status window_list(ortc_opctx *c, const char *name, size_t want, const int64_t **v,
                               const char *what)
{
    ortc_status st = ortc_op_check_attr(c, name, ORTC_ATTR_INTS);
    if (st)
        return st;
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
    ortc_status st;
    if ((st = window_list(c, "strides", (size_t)nsp, &strides, what)) ||
        (st = window_list(c, "dilations", (size_t)nsp, &dilations, what)) ||
        (st = window_list(c, "pads", 2 * (size_t)nsp, &pads, what)) ||
        (st = ortc_op_check_attr(c, "auto_pad", ORTC_ATTR_STRING)))
        return st;
    const char *auto_pad = ortc_node_attr_string(c->node, "auto_pad", "NOTSET");
    bool same_upper = !strcmp(auto_pad, "SAME_UPPER"), same_lower = !strcmp(auto_pad, "SAME_LOWER");
    bool valid = !strcmp(auto_pad, "VALID"), notset = !strcmp(auto_pad, "NOTSET");
    if (!same_upper && !same_lower && !valid && !notset)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'auto_pad' is '%s'; expected NOTSET, SAME_UPPER, "
                             "SAME_LOWER or VALID",
                             auto_pad);
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
        if (notset) {
            pb = pads ? pads[i] : 0;
            pe = pads ? pads[i + nsp] : 0;
            if (pb < 0 || pe < 0)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "attribute 'pads' has a negative value (%lld, %lld) for "
                                     "spatial dim %d",
                                     (long long)pb, (long long)pe, i);
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
        } else if (valid) {
            out = in >= ext ? (in - ext) / s + 1 : 0;
        } else {
            out = ceil_div(in, s);
            int64_t total = (out - 1) * s + ext - in;
            if (total < 0)
                total = 0;
            pb = same_upper ? total / 2 : total - total / 2;
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

/* ---- broadcasting --------------------------------------------------------- */

void ortc_bcast_init(ortc_bcast *bc, int rank, const int64_t *out_dims, int a_rank,
                     const int64_t *a_dims, int b_rank, const int64_t *b_dims)
{
    memset(bc, 0, sizeof *bc);
    bc->rank = rank;
    int64_t sa = 1, sb = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int ia = i - (rank - a_rank), ib = i - (rank - b_rank);
        int64_t da = ia >= 0 ? a_dims[ia] : 1, db = ib >= 0 ? b_dims[ib] : 1;
        bc->dims[i] = out_dims[i];
        bc->a_stride[i] = da == 1 ? 0 : sa;
        bc->b_stride[i] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
}

int64_t ortc_bcast_numel(const ortc_bcast *bc)
{
    int64_t n = 1;
    for (int i = 0; i < bc->rank; i++)
        n *= bc->dims[i];
    return n;
}

/* Offsets into a and b of the first element of output row `row` (a row
 * runs along the last dim). */
static void bcast_row(const ortc_bcast *bc, int64_t row, int64_t *oa, int64_t *ob)
{
    int64_t a = 0, b = 0;
    for (int i = bc->rank - 2; i >= 0; i--) {
        int64_t idx = row % bc->dims[i];
        row /= bc->dims[i];
        a += idx * bc->a_stride[i];
        b += idx * bc->b_stride[i];
    }
    *oa = a;
    *ob = b;
}

/* ---- convolution and pooling -------------------------------------------- */

void ortc_ref_conv_forward(float *out, const float *x, const float *w, const float *bias,
                           const ortc_window *g, int64_t m, int64_t group)
{
    const int64_t cg = g->c / group, mg = m / group;
    const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
    const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
    const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
    for (int64_t n = 0; n < g->n; n++)
        for (int64_t oc = 0; oc < m; oc++) {
            const int64_t gi = oc / mg;
            const float *wo = w + oc * cg * KD * KH * KW;
            float *yo = out + (n * m + oc) * OD * OH * OW;
            for (int64_t od = 0; od < OD; od++)
                for (int64_t oh = 0; oh < OH; oh++)
                    for (int64_t ow = 0; ow < OW; ow++) {
                        double acc = bias ? bias[oc] : 0.0;
                        for (int64_t ci = 0; ci < cg; ci++) {
                            const float *xc = x + (n * g->c + gi * cg + ci) * ID * IH * IW;
                            const float *wc = wo + ci * KD * KH * KW;
                            for (int64_t kd = 0; kd < KD; kd++) {
                                int64_t id =
                                    od * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
                                if (id < 0 || id >= ID)
                                    continue;
                                for (int64_t kh = 0; kh < KH; kh++) {
                                    int64_t ih =
                                        oh * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
                                    if (ih < 0 || ih >= IH)
                                        continue;
                                    for (int64_t kw = 0; kw < KW; kw++) {
                                        int64_t iw = ow * g->stride[2] - g->pad_begin[2] +
                                                     kw * g->dilation[2];
                                        if (iw < 0 || iw >= IW)
                                            continue;
                                        acc += (double)xc[(id * IH + ih) * IW + iw] *
                                               (double)wc[(kd * KH + kh) * KW + kw];
                                    }
                                }
                            }
                        }
                        yo[(od * OH + oh) * OW + ow] = (float)acc;
                    }
        }
}

/* Visits the window of output (od, oh, ow) over one (n, c) plane: the sum
 * and the two element counts average pooling needs. */
typedef struct pool_acc {
    double sum;
    int64_t n_in;  /* elements inside the input */
    int64_t n_pad; /* positions inside [-pad_begin, in + pad_end) */
} pool_acc;

static pool_acc pool_window(const float *xp, const ortc_window *g, int64_t od, int64_t oh,
                            int64_t ow)
{
    pool_acc a = {0.0, 0, 0};
    const int64_t o[3] = {od, oh, ow};
    int64_t start[3];
    for (int d = 0; d < 3; d++)
        start[d] = o[d] * g->stride[d] - g->pad_begin[d];
    for (int64_t kd = 0; kd < g->kernel[0]; kd++) {
        int64_t id = start[0] + kd * g->dilation[0];
        for (int64_t kh = 0; kh < g->kernel[1]; kh++) {
            int64_t ih = start[1] + kh * g->dilation[1];
            for (int64_t kw = 0; kw < g->kernel[2]; kw++) {
                int64_t iw = start[2] + kw * g->dilation[2];
                const int64_t pos[3] = {id, ih, iw};
                bool inside = true, padded = true;
                for (int d = 0; d < 3; d++) {
                    if (pos[d] < 0 || pos[d] >= g->in[d])
                        inside = false;
                    if (pos[d] < -g->pad_begin[d] || pos[d] >= g->in[d] + g->pad_end[d])
                        padded = false;
                }
                if (padded)
                    a.n_pad++;
                if (!inside)
                    continue;
                float v = xp[(id * g->in[1] + ih) * g->in[2] + iw];
                a.sum += v;
                a.n_in++;
            }
        }
    }
    return a;
}

void ortc_ref_avgpool_forward(float *out, const float *x, const ortc_window *g,
                              bool count_include_pad)
{
    const int64_t isz = g->in[0] * g->in[1] * g->in[2];
    const int64_t osz = g->out[0] * g->out[1] * g->out[2];
    for (int64_t p = 0; p < g->n * g->c; p++)
        for (int64_t od = 0; od < g->out[0]; od++)
            for (int64_t oh = 0; oh < g->out[1]; oh++)
                for (int64_t ow = 0; ow < g->out[2]; ow++) {
                    pool_acc a = pool_window(x + p * isz, g, od, oh, ow);
                    int64_t div = count_include_pad ? a.n_pad : a.n_in;
                    /* a window holding no input element averages to 0 */
                    out[p * osz + (od * g->out[1] + oh) * g->out[2] + ow] =
                        div > 0 ? (float)(a.sum / (double)div) : 0.0f;
                }
}

void ortc_ref_global_avgpool_forward(float *out, const float *x, int64_t nc, int64_t s)
{
    for (int64_t p = 0; p < nc; p++) {
        double sum = 0.0;
        for (int64_t i = 0; i < s; i++)
            sum += x[p * s + i];
        out[p] = (float)(sum / (double)s);
    }
}

/* ---- normalisation ------------------------------------------------------- */

void ortc_ref_lrn_forward(float *out, const float *x, int64_t n, int64_t c, int64_t s, int64_t size,
                          float alpha, float beta, float bias)
{
    const int64_t before = (size - 1) / 2, after = size / 2; /* floor, ceil of (size-1)/2 */
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < s; i++) {
                int64_t lo = ch - before < 0 ? 0 : ch - before;
                int64_t hi = ch + after > c - 1 ? c - 1 : ch + after;
                double sq = 0.0;
                for (int64_t j = lo; j <= hi; j++) {
                    double v = x[(b * c + j) * s + i];
                    sq += v * v;
                }
                double v = x[(b * c + ch) * s + i];
                double den = pow((double)bias + (double)alpha / (double)size * sq, (double)beta);
                out[(b * c + ch) * s + i] = (float)(v / den);
            }
}

void ortc_ref_softmax_forward(float *y, const float *x, int64_t outer, int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xp = x + o * len * inner + i;
            float *yp = y + o * len * inner + i;
            double mx = -INFINITY;
            for (int64_t l = 0; l < len; l++)
                if (xp[l * inner] > mx)
                    mx = xp[l * inner];
            double sum = 0.0;
            for (int64_t l = 0; l < len; l++)
                sum += exp((double)xp[l * inner] - mx);
            for (int64_t l = 0; l < len; l++)
                yp[l * inner] = (float)(exp((double)xp[l * inner] - mx) / sum);
        }
}

/* ---- matrix products ----------------------------------------------------- */

void ortc_ref_gemm_forward(float *y, const float *a, const float *b, const float *cm,
                           const int64_t c_stride[2], int64_t m, int64_t n, int64_t k, bool trans_a,
                           bool trans_b, float alpha, float beta)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (int64_t p = 0; p < k; p++) {
                double av = trans_a ? a[p * m + i] : a[i * k + p];
                double bv = trans_b ? b[j * k + p] : b[p * n + j];
                acc += av * bv;
            }
            double v = (double)alpha * acc;
            if (cm && beta != 0.0f)
                v += (double)beta * cm[i * c_stride[0] + j * c_stride[1]];
            y[i * n + j] = (float)v;
        }
}

void ortc_ref_matmul_forward(float *y, const float *a, const float *b, const ortc_bcast *bc,
                             int64_t m, int64_t k, int64_t n)
{
    /* bcast_row walks all dims but the last; append a unit dim so every
     * batch index is its own "row". */
    ortc_bcast rows = *bc;
    rows.dims[rows.rank] = 1;
    rows.a_stride[rows.rank] = rows.b_stride[rows.rank] = 0;
    rows.rank++;
    int64_t batches = ortc_bcast_numel(bc);
    for (int64_t t = 0; t < batches; t++) {
        int64_t oa, ob;
        bcast_row(&rows, t, &oa, &ob);
        const float *ap = a + oa * m * k, *bp = b + ob * k * n;
        float *yp = y + t * m * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double acc = 0.0;
                for (int64_t p = 0; p < k; p++)
                    acc += (double)ap[i * k + p] * (double)bp[p * n + j];
                yp[i * n + j] = (float)acc;
            }
    }
}

/* ---- elementwise --------------------------------------------------------- */

void ortc_ref_relu_forward(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] < 0.0f ? 0.0f : x[i];
}
