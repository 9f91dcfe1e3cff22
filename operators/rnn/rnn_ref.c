/* rnn_ref.c — the plain-C reference kernel of LSTM, GRU and RNN: each
 * direction of each sequence of the batch runs through its steps one at a
 * time, with ONNX's equations written out in double (rnn_ref.h has the
 * conventions). Straightforward rather than fast: dot products over the
 * rows of W and R, one thread. No oneDNN, no allocation.
 */
#include <math.h>

#include "plain_util.h"
#include "rnn_ref.h"

double ortc_rnn_act_apply(ortc_rnn_act a, double x)
{
    switch (a.kind) {
    case ORTC_RNN_RELU: return x > 0 ? x : 0;
    case ORTC_RNN_TANH: return tanh(x);
    case ORTC_RNN_SIGMOID: return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
    case ORTC_RNN_AFFINE: return a.alpha * x + a.beta;
    case ORTC_RNN_LEAKY_RELU: return x >= 0 ? x : a.alpha * x;
    case ORTC_RNN_THRESHOLDED_RELU: return x >= a.alpha ? x : 0;
    case ORTC_RNN_SCALED_TANH: return a.alpha * tanh(a.beta * x);
    case ORTC_RNN_HARD_SIGMOID: {
        double v = a.alpha * x + a.beta;
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case ORTC_RNN_ELU: return x >= 0 ? x : a.alpha * expm1(x);
    case ORTC_RNN_SOFTSIGN: return x / (1 + fabs(x));
    case ORTC_RNN_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    }
    return x;
}

size_t ortc_ref_rnn_work_bytes(const ortc_rnn_params *p)
{
    /* x row (I), h (H), c (H), gates (G*H), one more (H) */
    return (size_t)(p->input + (int64_t)(p->n_gates + 3) * p->hidden) * sizeof(double);
}

/* Row-major offsets of ONNX's tensors under p's layout. */
static int64_t x_at(const ortc_rnn_params *p, int64_t t, int64_t b)
{
    return (p->layout ? b * p->seq + t : t * p->batch + b) * p->input;
}

static int64_t y_at(const ortc_rnn_params *p, int64_t t, int d, int64_t b)
{
    return p->layout ? ((b * p->seq + t) * p->dirs + d) * p->hidden
                     : ((t * p->dirs + d) * p->batch + b) * p->hidden;
}

static int64_t state_at(const ortc_rnn_params *p, int d, int64_t b)
{
    return (p->layout ? b * p->dirs + d : d * p->batch + b) * p->hidden;
}

// m: rows of n elements of dtype t; row starting at `off` . v
static double dot_row(const void *m, ortc_dtype t, int64_t off, const double *v, int64_t n)
{
    double s = 0;
    if (t == ORTC_DTYPE_FLOAT) {
        const float *a = (const float *)m + off;
        for (int64_t i = 0; i < n; i++)
            s += a[i] * v[i];
    } else {
        const double *a = (const double *)m + off;
        for (int64_t i = 0; i < n; i++)
            s += a[i] * v[i];
    }
    return s;
}

static double load(const void *x, ortc_dtype t, int64_t i)
{
    return x ? ortc_load_real(x, t, i) : 0;
}

static double clip(const ortc_rnn_params *p, double x)
{
    if (!p->has_clip)
        return x;
    return x < -p->clip ? -p->clip : x > p->clip ? p->clip : x;
}

/* One step of direction d: g holds Xt W^T + Wb for every gate (G*H, ONNX's
 * gate order) and is overwritten; h and c (LSTM) are the state, updated in
 * place; tmp has H doubles. */
static void cell_step(const ortc_rnn_params *p, const ortc_rnn_data *dd, int d, double *g,
                      double *h, double *c, double *tmp)
{
    const int64_t H = p->hidden, G = p->n_gates;
    const ortc_dtype t = dd->dtype;
    const int64_t rrow = d * G * H; /* first row of R for direction d */
    const int64_t rb = d * 2 * G * H + G * H;
    const ortc_rnn_act *act = p->act[d];
#define RB(k) load(dd->b, t, rb + (k))
#define RDOT(k, v) dot_row(dd->r, t, (rrow + (k)) * H, (v), H)
    switch (p->cell) {
    case ORTC_RNN_VANILLA:
        for (int64_t j = 0; j < H; j++)
            tmp[j] = ortc_rnn_act_apply(act[0], clip(p, g[j] + RDOT(j, h) + RB(j)));
        for (int64_t j = 0; j < H; j++)
            h[j] = tmp[j];
        break;
    case ORTC_RNN_GRU: {
        double *z = g, *r = g + H, *hh = g + 2 * H;
        for (int64_t k = 0; k < 2 * H; k++)
            g[k] = ortc_rnn_act_apply(act[0], clip(p, g[k] + RDOT(k, h) + RB(k)));
        if (p->lbr) {
            // ht = g(Xt Wh^T + Wbh + rt (.) (Ht-1 Rh^T + Rbh))
            for (int64_t j = 0; j < H; j++)
                hh[j] += r[j] * (RDOT(2 * H + j, h) + RB(2 * H + j));
        } else {
            // ht = g(Xt Wh^T + Wbh + (rt (.) Ht-1) Rh^T + Rbh)
            for (int64_t j = 0; j < H; j++)
                tmp[j] = r[j] * h[j];
            for (int64_t j = 0; j < H; j++)
                hh[j] += RDOT(2 * H + j, tmp) + RB(2 * H + j);
        }
        // Ht = (1 - zt) (.) ht + zt (.) Ht-1
        for (int64_t j = 0; j < H; j++) {
            double v = ortc_rnn_act_apply(act[1], clip(p, hh[j]));
            h[j] = (1 - z[j]) * v + z[j] * h[j];
        }
        break;
    }
    case ORTC_RNN_LSTM: {
        for (int64_t k = 0; k < 4 * H; k++)
            g[k] += RDOT(k, h) + RB(k);
        const int64_t pb = d * 3 * H; /* P: i, o, f */
        for (int64_t j = 0; j < H; j++) {
            double cp = c[j];
            double i = ortc_rnn_act_apply(act[0], clip(p, g[j] + load(dd->p, t, pb + j) * cp));
            double f =
                p->input_forget
                    ? 1 - i
                    : ortc_rnn_act_apply(
                          act[0], clip(p, g[2 * H + j] + load(dd->p, t, pb + 2 * H + j) * cp));
            double cc = ortc_rnn_act_apply(act[1], clip(p, g[3 * H + j]));
            double cn = f * cp + i * cc;
            double o =
                ortc_rnn_act_apply(act[0], clip(p, g[H + j] + load(dd->p, t, pb + H + j) * cn));
            c[j] = cn;
            h[j] = o * ortc_rnn_act_apply(act[2], clip(p, cn));
        }
        break;
    }
    }
#undef RB
#undef RDOT
}

void ortc_ref_rnn_forward(const ortc_rnn_params *p, const ortc_rnn_data *dd, double *work)
{
    const int64_t T = p->seq, N = p->batch, I = p->input, H = p->hidden, G = p->n_gates;
    const ortc_dtype t = dd->dtype;
    double *xv = work, *h = xv + I, *c = h + H, *g = c + H, *tmp = g + G * H;
    for (int d = 0; d < p->dirs; d++) {
        bool rev = d == 1 || p->reverse;
        for (int64_t b = 0; b < N; b++) {
            int64_t len = dd->seq_lens ? dd->seq_lens[b] : T;
            int64_t s0 = state_at(p, d, b);
            for (int64_t j = 0; j < H; j++) {
                h[j] = load(dd->init_h, t, s0 + j);
                c[j] = load(dd->init_c, t, s0 + j);
            }
            for (int64_t s = 0; s < len; s++) {
                int64_t ts = rev ? len - 1 - s : s;
                int64_t x0 = x_at(p, ts, b);
                for (int64_t i = 0; i < I; i++)
                    xv[i] = ortc_load_real(dd->x, t, x0 + i);
                for (int64_t k = 0; k < G * H; k++)
                    g[k] = dot_row(dd->w, t, (d * G * H + k) * I, xv, I) +
                           load(dd->b, t, d * 2 * G * H + k);
                cell_step(p, dd, d, g, h, c, tmp);
                if (dd->y)
                    for (int64_t j = 0; j < H; j++)
                        ortc_store_real(dd->y, t, y_at(p, ts, d, b) + j, h[j]);
            }
            if (dd->y)
                for (int64_t ts = len; ts < T; ts++)
                    for (int64_t j = 0; j < H; j++)
                        ortc_store_real(dd->y, t, y_at(p, ts, d, b) + j, 0);
            for (int64_t j = 0; j < H; j++) {
                if (dd->y_h)
                    ortc_store_real(dd->y_h, t, s0 + j, len > 0 ? h[j] : 0);
                if (dd->y_c)
                    ortc_store_real(dd->y_c, t, s0 + j, len > 0 ? c[j] : 0);
            }
        }
    }
}
