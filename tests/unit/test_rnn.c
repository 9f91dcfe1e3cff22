/* test_rnn.c — the recurrent operators' Check runner (operators/rnn/):
 * LSTM, GRU and RNN against values derived by hand from ONNX's equations,
 * the oneDNN path against the plain-C reference kernel on random shapes and
 * configurations, the configurations that must take the plain-C kernel,
 * sequence_lens against runs on the shortened sequences, and infer's and
 * run's errors. The reference kernel against an independent numpy/PyTorch
 * oracle is tests/models/test_rnn_ops.py.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_cases.h"
#include "helper_common.h"
#include "operator.h"

/* ---- building cases ---------------------------------------------------------- */

enum { X, W, R, B, SEQ, H0, C0, P };

typedef struct rnn_cfg {
    const char *op;
    int opset;
    const char *direction; /* NULL: attribute absent (forward) */
    int layout;            /* -1: attribute absent */
    int64_t T, N, I, H;
    bool b, h0, c0, p;   /* optional inputs present */
    bool y, yh, yc;      /* outputs wanted */
    bool wconst;         /* W, R, B, P constant (initializers) */
    int lbr;             /* GRU linear_before_reset; -1: absent */
    const int32_t *lens; /* sequence_lens (N values) or NULL */
    bool lens_const;
} rnn_cfg;

/* A case's inputs (owned) and sizes. */
typedef struct rnn_data {
    float *in[8];
    int32_t lens[64];
    int64_t G, D;
} rnn_data;

static int gates_of(const char *op)
{
    return !strcmp(op, "LSTM") ? 4 : !strcmp(op, "GRU") ? 3 : 1;
}

static void attr_strings(op_case *c, const char *name, const char *const *v, int n)
{
    ortc_attr *a = ortc_node_add_attr(c->node, name, ORTC_ATTR_STRINGS);
    ck_assert_ptr_nonnull(a);
    a->n = (size_t)n;
    a->strings = calloc((size_t)n + 1, sizeof *a->strings);
    ck_assert_ptr_nonnull(a->strings);
    for (int i = 0; i < n; i++)
        a->strings[i] = strdup(v[i]);
}

/* Input i of dims (rank, dims): `data` when not NULL, else uniform random
 * in [-1, 1) kept in d. */
static void set_input(op_case *c, rnn_data *d, int i, int rank, const int64_t *dims,
                      const float *data, bool constant, uint64_t *seed)
{
    int64_t n = numel_of(rank, dims);
    d->in[i] = rand_f32(n, -1, 1, seed);
    if (data)
        memcpy(d->in[i], data, (size_t)n * sizeof(float));
    opc_input(c, i, F32, rank, dims, d->in[i], constant);
}

/* The node of k, with random inputs unless vals[i] gives input i. */
static op_case *rnn_case(const rnn_cfg *k, rnn_data *d, const float *const *vals, uint64_t *seed)
{
    memset(d, 0, sizeof *d);
    const bool lstm = !strcmp(k->op, "LSTM");
    d->G = gates_of(k->op);
    d->D = k->direction && !strcmp(k->direction, "bidirectional") ? 2 : 1;
    const int64_t G = d->G, D = d->D, T = k->T, N = k->N, I = k->I, H = k->H;
    op_case *c = opc_new(k->op, k->opset, lstm ? 8 : 6, lstm ? 3 : 2);
    opc_attr_int(c, "hidden_size", H);
    if (k->direction)
        opc_attr_string(c, "direction", k->direction);
    if (k->layout >= 0)
        opc_attr_int(c, "layout", k->layout);
    if (k->lbr >= 0)
        opc_attr_int(c, "linear_before_reset", k->lbr);
    const bool l1 = k->layout == 1;
    const float *none[8] = {0};
    if (!vals)
        vals = none;
    set_input(c, d, X, 3, l1 ? (int64_t[]){N, T, I} : (int64_t[]){T, N, I}, vals[X], false, seed);
    set_input(c, d, W, 3, (int64_t[]){D, G * H, I}, vals[W], k->wconst, seed);
    set_input(c, d, R, 3, (int64_t[]){D, G * H, H}, vals[R], k->wconst, seed);
    if (k->b)
        set_input(c, d, B, 2, (int64_t[]){D, 2 * G * H}, vals[B], k->wconst, seed);
    else
        opc_input(c, B, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    if (k->lens) {
        ck_assert_int_le(N, 64);
        memcpy(d->lens, k->lens, (size_t)N * sizeof *d->lens);
        opc_input(c, SEQ, I32, 1, (int64_t[]){N}, d->lens, k->lens_const);
    } else {
        opc_input(c, SEQ, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    }
    const int64_t sdims[3] = {l1 ? N : D, l1 ? D : N, H};
    if (k->h0)
        set_input(c, d, H0, 3, sdims, vals[H0], false, seed);
    else
        opc_input(c, H0, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    if (lstm) {
        if (k->c0)
            set_input(c, d, C0, 3, sdims, vals[C0], false, seed);
        else
            opc_input(c, C0, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        if (k->p)
            set_input(c, d, P, 2, (int64_t[]){D, 3 * H}, vals[P], k->wconst, seed);
        else
            opc_input(c, P, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    }
    if (!k->y)
        c->node->outputs[0] = NULL;
    if (!k->yh)
        c->node->outputs[1] = NULL;
    if (lstm && !k->yc)
        c->node->outputs[2] = NULL;
    return c;
}

static void rnn_data_free(rnn_data *d)
{
    for (int i = 0; i < 8; i++)
        free(d->in[i]);
}

/* Copies of c's present outputs (free with outs_free). */
typedef struct outs {
    int n;
    float *v[3];
    int64_t numel[3];
} outs;

static outs outs_take(const op_case *c)
{
    outs o = {c->node->n_outputs, {0}, {0}};
    for (int k = 0; k < o.n; k++) {
        if (!c->node->outputs[k])
            continue;
        o.numel[k] = ortc_tensor_numel(&c->out[k]);
        o.v[k] = malloc((size_t)(o.numel[k] ? o.numel[k] : 1) * sizeof(float));
        ck_assert_ptr_nonnull(o.v[k]);
        memcpy(o.v[k], c->out[k].data, (size_t)o.numel[k] * sizeof(float));
    }
    return o;
}

static void outs_free(outs *o)
{
    for (int k = 0; k < 3; k++)
        free(o->v[k]);
}

/* c's present outputs equal o's within rtol/atol. */
static void outs_check(const op_case *c, const outs *o, double rtol, double atol, const char *what)
{
    static const char *const names[] = {"Y", "Y_h", "Y_c"};
    for (int k = 0; k < o->n; k++) {
        if (!o->v[k])
            continue;
        char name[256];
        snprintf(name, sizeof name, "%s: %s", what, names[k]);
        ck_assert_int_eq(ortc_tensor_numel(&c->out[k]), o->numel[k]);
        assert_close_x(c->out[k].data, o->v[k], NULL, o->numel[k], rtol, atol, name);
    }
}

/* Runs c on the reference, then prepared on `path`: the outputs must agree
 * within rtol/atol. */
static void expect_like_reference(op_case *c, int path, double rtol, double atol, const char *what)
{
    run_checked(c, 1, PATH_PLAIN, what);
    outs ref = outs_take(c);
    run_checked(c, 0, path, what);
    outs_check(c, &ref, rtol, atol, what);
    outs_free(&ref);
}

static void expect_values(const op_case *c, int k, const double *exp, int64_t n, double tol,
                          const char *what)
{
    ck_assert_int_eq(ortc_tensor_numel(&c->out[k]), n);
    float e[64];
    ck_assert_int_le(n, 64);
    for (int64_t i = 0; i < n; i++)
        e[i] = (float)exp[i];
    assert_close_x(c->out[k].data, e, NULL, n, tol, tol, what);
}

static double sigm(double x)
{
    return 1 / (1 + exp(-x));
}

/* ---- hand-derived cases ------------------------------------------------------- */

/* Both paths: the reference kernel, then prepare + run taking `path`. */
#define BOTH_PATHS(c, path, body)                                                                  \
    for (int ref_ = 1; ref_ >= 0; ref_--) {                                                        \
        run_checked((c), ref_, ref_ ? PATH_PLAIN : (path), what);                                  \
        body                                                                                       \
    }

/* RNN, one unit: h1 = tanh(w x0 + r h0 + wb + rb), h2 = tanh(w x1 + r h1 + ...),
 * forward and reverse (x1 first, so Y[1] holds the first step). */
START_TEST(test_rnn_hand)
{
    const float x[2] = {1.0f, -0.5f}, w[1] = {0.5f}, r[1] = {0.75f}, b[2] = {0.1f, 0.2f},
                h0[1] = {0.3f};
    const float *vals[8] = {x, w, r, b, NULL, h0};
    for (int rev = 0; rev < 2; rev++) {
        rnn_cfg k = {"RNN",      14,        rev ? "reverse" : NULL,
                     -1,         2,         1,
                     1,          1,         .b = true,
                     .h0 = true, .y = true, .yh = true,
                     .lbr = -1};
        rnn_data d;
        uint64_t seed = 1;
        op_case *c = rnn_case(&k, &d, vals, &seed);
        double y[2];
        if (!rev) {
            y[0] = tanh(0.5 * 1.0 + 0.75 * 0.3 + 0.3);
            y[1] = tanh(0.5 * -0.5 + 0.75 * y[0] + 0.3);
        } else {
            y[1] = tanh(0.5 * -0.5 + 0.75 * 0.3 + 0.3);
            y[0] = tanh(0.5 * 1.0 + 0.75 * y[1] + 0.3);
        }
        double yh = rev ? y[0] : y[1];
        const char *what = rev ? "RNN reverse, hand" : "RNN forward, hand";
        BOTH_PATHS(c, PATH_DNNL, {
            expect_values(c, 0, y, 2, 1e-6, what);
            expect_values(c, 1, &yh, 1, 1e-6, what);
        });
        opc_free(c);
        rnn_data_free(&d);
    }
}
END_TEST

/* GRU, one unit, both values of linear_before_reset (weights z, r, h). */
START_TEST(test_gru_hand)
{
    const float x[2] = {0.8f, -0.4f}, w[3] = {0.5f, -0.3f, 0.9f}, r[3] = {0.2f, 0.6f, -0.7f},
                b[6] = {0.1f, -0.2f, 0.3f, 0.05f, 0.15f, -0.25f}, h0[1] = {-0.4f};
    const float *vals[8] = {x, w, r, b, NULL, h0};
    for (int lbr = 0; lbr < 2; lbr++) {
        rnn_cfg k = {"GRU", 14,        NULL,       -1,        2,          1,         1,
                     1,     .b = true, .h0 = true, .y = true, .yh = true, .lbr = lbr};
        rnn_data d;
        uint64_t seed = 1;
        op_case *c = rnn_case(&k, &d, vals, &seed);
        double h = -0.4, y[2];
        for (int t = 0; t < 2; t++) {
            double z = sigm(0.5 * x[t] + 0.2 * h + 0.1 + 0.05);
            double rr = sigm(-0.3 * x[t] + 0.6 * h - 0.2 + 0.15);
            double hh = lbr ? tanh(0.9 * x[t] + 0.3 + rr * (-0.7 * h - 0.25))
                            : tanh(0.9 * x[t] + 0.3 + -0.7 * (rr * h) - 0.25);
            h = (1 - z) * hh + z * h;
            y[t] = h;
        }
        const char *what = lbr ? "GRU linear_before_reset=1, hand" : "GRU, hand";
        BOTH_PATHS(c, PATH_DNNL, {
            expect_values(c, 0, y, 2, 1e-6, what);
            expect_values(c, 1, &y[1], 1, 1e-6, what);
        });
        opc_free(c);
        rnn_data_free(&d);
    }
}
END_TEST

/* LSTM, one unit, gates i, o, f, c, with and without peepholes (i, o, f). */
START_TEST(test_lstm_hand)
{
    const float x[2] = {0.7f, -0.9f}, w[4] = {0.4f, -0.6f, 0.8f, 0.3f},
                r[4] = {-0.5f, 0.2f, 0.35f, 0.9f},
                b[8] = {0.1f, 0.2f, -0.3f, 0.05f, -0.1f, 0.25f, 0.15f, -0.2f}, h0[1] = {0.2f},
                c0[1] = {-0.6f}, p[3] = {0.3f, -0.4f, 0.5f};
    const float *vals[8] = {x, w, r, b, NULL, h0, c0, p};
    for (int peep = 0; peep < 2; peep++) {
        rnn_cfg k = {"LSTM",    14,         NULL,       -1,         2,          1,
                     1,         1,          .b = true,  .h0 = true, .c0 = true, .p = peep,
                     .y = true, .yh = true, .yc = true, .lbr = -1};
        rnn_data d;
        uint64_t seed = 1;
        op_case *c = rnn_case(&k, &d, vals, &seed);
        const double pi = peep ? 0.3 : 0, po = peep ? -0.4 : 0, pf = peep ? 0.5 : 0;
        double h = 0.2, cs = -0.6, y[2];
        for (int t = 0; t < 2; t++) {
            double i = sigm(0.4 * x[t] - 0.5 * h + 0.1 - 0.1 + pi * cs);
            double f = sigm(0.8 * x[t] + 0.35 * h - 0.3 + 0.15 + pf * cs);
            double g = tanh(0.3 * x[t] + 0.9 * h + 0.05 - 0.2);
            cs = f * cs + i * g;
            double o = sigm(-0.6 * x[t] + 0.2 * h + 0.2 + 0.25 + po * cs);
            h = o * tanh(cs);
            y[t] = h;
        }
        const char *what = peep ? "LSTM with peepholes, hand" : "LSTM, hand";
        BOTH_PATHS(c, PATH_DNNL, {
            expect_values(c, 0, y, 2, 1e-6, what);
            expect_values(c, 1, &y[1], 1, 1e-6, what);
            expect_values(c, 2, &cs, 1, 1e-6, what);
        });
        opc_free(c);
        rnn_data_free(&d);
    }
}
END_TEST

/* A bidirectional RNN of two units, batch 2, in layout 1 (batch first):
 * direction 1 runs the sequence backwards with its own weights; Y is
 * (N, T, D, H), Y_h (N, D, H). Weights are diagonal so each unit is the
 * one-unit formula. */
START_TEST(test_rnn_bidirectional_layout1_hand)
{
    /* X (N=2, T=2, I=1) */
    const float x[4] = {0.5f, -1.0f, 0.25f, 0.75f};
    /* W (D=2, H=2, I=1), R (2, 2, 2) diagonal */
    const float w[4] = {0.6f, -0.4f, 0.9f, 0.2f};
    const float r[8] = {0.5f, 0, 0, -0.3f, 0.7f, 0, 0, 0.1f};
    const float *vals[8] = {x, w, r};
    rnn_cfg k = {"RNN", 14, "bidirectional", 1, 2, 2, 1, 2, .y = true, .yh = true, .lbr = -1};
    rnn_data d;
    uint64_t seed = 1;
    op_case *c = rnn_case(&k, &d, vals, &seed);
    double y[16], yh[8]; /* y[((n*T + t)*D + d)*H + j], yh[(n*D + d)*H + j] */
    for (int n = 0; n < 2; n++)
        for (int dd = 0; dd < 2; dd++)
            for (int j = 0; j < 2; j++) {
                double h = 0;
                for (int s = 0; s < 2; s++) {
                    int t = dd ? 1 - s : s;
                    h = tanh(w[dd * 2 + j] * x[n * 2 + t] + r[dd * 4 + j * 2 + j] * h);
                    y[((n * 2 + t) * 2 + dd) * 2 + j] = h;
                }
                yh[(n * 2 + dd) * 2 + j] = h;
            }
    const char *what = "RNN bidirectional layout 1, hand";
    BOTH_PATHS(c, PATH_DNNL, {
        expect_values(c, 0, y, 16, 1e-6, what);
        expect_values(c, 1, yh, 8, 1e-6, what);
    });
    opc_free(c);
    rnn_data_free(&d);
}
END_TEST

/* Every activation of the spec through RNN (one unit, W = 1, R = 0, no
 * bias: Y = f(x)) on eight inputs, with given and default alpha/beta. */
START_TEST(test_rnn_activations_hand)
{
    const float x[8] = {-3.0f, -1.0f, -0.25f, 0.0f, 0.1f, 0.5f, 1.0f, 2.5f};
    const float w[1] = {1}, r[1] = {0};
    const float *vals[8] = {x, w, r};
    static const struct {
        const char *name;
        int n_alpha, n_beta; /* given: 0.3 / 0.6 */
        int path;
    } cases[] = {
        {"Relu", 0, 0, PATH_DNNL},
        {"Tanh", 0, 0, PATH_DNNL},
        {"Sigmoid", 0, 0, PATH_DNNL},
        {"LeakyRelu", 1, 0, PATH_DNNL},
        {"LeakyRelu", 0, 0, PATH_DNNL},
        {"Affine", 1, 1, PATH_PLAIN},
        {"Affine", 0, 0, PATH_PLAIN},
        {"ThresholdedRelu", 1, 0, PATH_PLAIN},
        {"ThresholdedRelu", 0, 0, PATH_PLAIN},
        {"ScaledTanh", 1, 1, PATH_PLAIN},
        {"HardSigmoid", 1, 1, PATH_PLAIN},
        {"HardSigmoid", 0, 0, PATH_PLAIN},
        {"Elu", 1, 0, PATH_PLAIN},
        {"Elu", 0, 0, PATH_PLAIN},
        {"Softsign", 0, 0, PATH_PLAIN},
        {"Softplus", 0, 0, PATH_PLAIN},
    };
    for (int ci = 0; ci < N_OF(cases); ci++) {
        rnn_cfg k = {"RNN", 14, NULL, -1, 1, 8, 1, 1, .y = true, .lbr = -1};
        rnn_data d;
        uint64_t seed = 1;
        op_case *c = rnn_case(&k, &d, vals, &seed);
        const char *name = cases[ci].name;
        attr_strings(c, "activations", &name, 1);
        const float alpha = 0.3f, beta = 0.6f;
        if (cases[ci].n_alpha)
            opc_attr_floats(c, "activation_alpha", &alpha, 1);
        if (cases[ci].n_beta)
            opc_attr_floats(c, "activation_beta", &beta, 1);
        /* the ONNX operators' defaults (ScaledTanh has none: 1, 1) */
        double a = cases[ci].n_alpha              ? 0.3f
                   : !strcmp(name, "LeakyRelu")   ? 0.01f
                   : !strcmp(name, "HardSigmoid") ? 0.2f
                                                  : 1.0;
        double bb = cases[ci].n_beta ? 0.6f : !strcmp(name, "HardSigmoid") ? 0.5 : 0;
        double y[8];
        for (int i = 0; i < 8; i++) {
            double v = x[i];
            if (!strcmp(name, "Relu"))
                y[i] = v > 0 ? v : 0;
            else if (!strcmp(name, "Tanh"))
                y[i] = tanh(v);
            else if (!strcmp(name, "Sigmoid"))
                y[i] = 1 / (1 + exp(-v));
            else if (!strcmp(name, "LeakyRelu"))
                y[i] = v >= 0 ? v : a * v;
            else if (!strcmp(name, "Affine"))
                y[i] = a * v + bb;
            else if (!strcmp(name, "ThresholdedRelu"))
                y[i] = v >= a ? v : 0;
            else if (!strcmp(name, "ScaledTanh"))
                y[i] = a * tanh(bb * v);
            else if (!strcmp(name, "HardSigmoid"))
                y[i] = fmin(fmax(a * v + bb, 0), 1);
            else if (!strcmp(name, "Elu"))
                y[i] = v >= 0 ? v : a * (exp(v) - 1);
            else if (!strcmp(name, "Softsign"))
                y[i] = v / (1 + fabs(v));
            else
                y[i] = log(1 + exp(v));
        }
        char what[96];
        snprintf(what, sizeof what, "RNN activation %s (alpha %s)", name,
                 cases[ci].n_alpha ? "given" : "default");
        BOTH_PATHS(c, cases[ci].path, { expect_values(c, 0, y, 8, 1e-6, what); });
        opc_free(c);
        rnn_data_free(&d);
    }
}
END_TEST

/* activation_alpha / activation_beta are consumed in order by the
 * activations that take them: GRU f = HardSigmoid(0.3, 0.4), g =
 * Affine(0.7, 0.1) from alpha [0.3, 0.7], beta [0.4, 0.1]; clip 0.5 bounds
 * every activation's input. */
START_TEST(test_gru_activation_params_clip_hand)
{
    const float x[2] = {0.8f, -2.0f}, w[3] = {1.5f, -0.5f, 2.0f}, r[3] = {0.4f, 0.3f, -0.6f};
    const float *vals[8] = {x, w, r};
    rnn_cfg k = {"GRU", 7, NULL, -1, 2, 1, 1, 1, .y = true, .yh = true, .lbr = -1};
    rnn_data d;
    uint64_t seed = 1;
    op_case *c = rnn_case(&k, &d, vals, &seed);
    const char *acts[2] = {"HardSigmoid", "affine"}; /* names are case-insensitive */
    attr_strings(c, "activations", acts, 2);
    opc_attr_floats(c, "activation_alpha", (const float[]){0.3f, 0.7f}, 2);
    opc_attr_floats(c, "activation_beta", (const float[]){0.4f, 0.1f}, 2);
    opc_attr_float(c, "clip", 0.5f);
#define CLIP(v) fmin(fmax((v), -0.5), 0.5)
    double h = 0, y[2];
    for (int t = 0; t < 2; t++) {
        double z = fmin(fmax(0.3f * CLIP(1.5 * x[t] + 0.4 * h) + 0.4f, 0), 1);
        double rr = fmin(fmax(0.3f * CLIP(-0.5 * x[t] + 0.3 * h) + 0.4f, 0), 1);
        double hh = 0.7f * CLIP(2.0 * x[t] + -0.6 * (rr * h)) + 0.1f;
        h = (1 - z) * hh + z * h;
        y[t] = h;
    }
#undef CLIP
    const char *what = "GRU HardSigmoid/Affine, clip 0.5, hand";
    BOTH_PATHS(c, PATH_PLAIN, { expect_values(c, 0, y, 2, 1e-6, what); });
    opc_free(c);
    rnn_data_free(&d);
}
END_TEST

/* LSTM input_forget (f = 1 - i) and clip: only the inputs of the
 * activations are bounded, h(Ct) included; the cell state itself is not
 * (with initial_c 4 it stays above the clip, so h(Ct) sees the bound). */
START_TEST(test_lstm_input_forget_clip_hand)
{
    const float x[3] = {2.0f, 1.5f, 2.5f}, w[4] = {1.0f, 1.2f, -0.7f, 3.0f}, r[4] = {0, 0, 0, 0},
                c0[1] = {4.0f};
    const float *vals[8] = {x, w, r, NULL, NULL, NULL, c0};
    for (int forget = 0; forget < 2; forget++) {
        rnn_cfg k = {"LSTM", 7,          NULL,      -1,         3,          1,        1,
                     1,      .c0 = true, .y = true, .yh = true, .yc = true, .lbr = -1};
        rnn_data d;
        uint64_t seed = 1;
        op_case *c = rnn_case(&k, &d, vals, &seed);
        if (forget)
            opc_attr_int(c, "input_forget", 1);
        opc_attr_float(c, "clip", 1.0f);
#define CLIP(v) fmin(fmax((v), -1.0), 1.0)
        double cs = 4.0, y[3], above = 0;
        for (int t = 0; t < 3; t++) {
            double i = sigm(CLIP(1.0 * x[t]));
            /* with input_forget, W's forget row is not used */
            double f = forget ? 1 - i : sigm(CLIP(-0.7 * x[t]));
            double g = tanh(CLIP(3.0 * x[t]));
            cs = f * cs + i * g;
            double o = sigm(CLIP(1.2 * x[t]));
            y[t] = o * tanh(CLIP(cs));
            above = fmax(above, cs);
        }
#undef CLIP
        ck_assert_msg(above > 1.5, "the case must drive Ct past the clip (max %g)", above);
        const char *what = forget ? "LSTM input_forget, clip 1, hand" : "LSTM clip 1, hand";
        BOTH_PATHS(c, PATH_PLAIN, {
            expect_values(c, 0, y, 3, 1e-6, what);
            expect_values(c, 2, &cs, 1, 1e-6, what);
        });
        opc_free(c);
        rnn_data_free(&d);
    }
}
END_TEST

/* ---- oneDNN against the reference kernel ------------------------------------- */

/* Uniform integer in [lo, hi]. */
static int64_t pick(uint64_t *seed, int64_t lo, int64_t hi)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (int64_t)((*seed >> 33) % (uint64_t)(hi - lo + 1));
}

/* Tolerance of float32 oneDNN against the double reference: every gate is
 * a dot product of I + H + 2 terms of magnitude <= 1 (inputs, weights and
 * states in [-1, 1]; h stays in [-1, 1]), off by about atol_sum(I + H + 2)
 * per step; over T steps the errors add at most T times (the activations
 * contract, the LSTM cell adds), and oneDNN's tanh/logistic are accurate
 * to a few ulp. A wrong gate, bias or direction costs O(0.1). */
static double dnnl_atol(const rnn_cfg *k)
{
    return 4.0 * (double)k->T * atol_sum(k->I + k->H + 2);
}

static void random_cfgs(const char *op, int opsets_n, const int *opsets, int rounds)
{
    static const char *const dirs[] = {NULL, "forward", "reverse", "bidirectional"};
    uint64_t seed = 0x5eed0000u + (uint64_t)gates_of(op);
    for (int round = 0; round < rounds; round++) {
        rnn_cfg k = {.op = op,
                     .opset = (int)opsets[pick(&seed, 0, opsets_n - 1)],
                     .direction = dirs[pick(&seed, 0, 3)],
                     .layout = -1};
        k.T = pick(&seed, 1, 6);
        k.N = pick(&seed, 1, 4);
        k.I = pick(&seed, 1, 9);
        k.H = pick(&seed, 1, 9);
        if (k.opset >= 14 && pick(&seed, 0, 2))
            k.layout = (int)pick(&seed, 0, 1);
        k.b = pick(&seed, 0, 3) > 0;
        k.h0 = pick(&seed, 0, 1);
        k.c0 = pick(&seed, 0, 1);
        k.p = pick(&seed, 0, 1);
        k.wconst = pick(&seed, 0, 1);
        k.lbr = !strcmp(op, "GRU") && k.opset >= 3 ? (int)pick(&seed, -1, 1) : -1;
        k.y = pick(&seed, 0, 3) > 0;
        k.yh = pick(&seed, 0, 1);
        k.yc = pick(&seed, 0, 1);
        if (!k.y && !k.yh && (!k.yc || strcmp(op, "LSTM")))
            k.y = true;
        /* sequence_lens all equal to T keeps oneDNN (checked at run when
         * they are a graph input) */
        int32_t lens[4] = {(int32_t)k.T, (int32_t)k.T, (int32_t)k.T, (int32_t)k.T};
        if (pick(&seed, 0, 3) == 0) {
            k.lens = lens;
            k.lens_const = pick(&seed, 0, 1);
        }
        rnn_data d;
        op_case *c = rnn_case(&k, &d, NULL, &seed);
        char what[256];
        snprintf(what, sizeof what,
                 "%s-%d %s layout %d T%lld N%lld I%lld H%lld b%d h0%d c0%d p%d lbr%d const%d "
                 "lens%d y%d%d%d",
                 op, k.opset, k.direction ? k.direction : "(default)", k.layout, (long long)k.T,
                 (long long)k.N, (long long)k.I, (long long)k.H, k.b, k.h0, k.c0, k.p, k.lbr,
                 k.wconst, k.lens != NULL, k.y, k.yh, k.yc);
        expect_like_reference(c, PATH_DNNL, 1e-5, dnnl_atol(&k), what);
        opc_free(c);
        rnn_data_free(&d);
    }
}

START_TEST(test_lstm_dnnl_random)
{
    random_cfgs("LSTM", 3, (const int[]){1, 7, 14}, 60);
}
END_TEST

START_TEST(test_gru_dnnl_random)
{
    random_cfgs("GRU", 4, (const int[]){1, 3, 7, 14}, 60);
}
END_TEST

START_TEST(test_rnn_dnnl_random)
{
    random_cfgs("RNN", 3, (const int[]){1, 7, 14}, 60);
}
END_TEST

/* A realistic size for the oneDNN path, constant weights packed once. */
START_TEST(test_lstm_dnnl_large)
{
    rnn_cfg k = {"LSTM",     14,         "bidirectional", 0,          12,         5,
                 64,         48,         .b = true,       .h0 = true, .c0 = true, .y = true,
                 .yh = true, .yc = true, .wconst = true,  .lbr = -1};
    uint64_t seed = 99;
    rnn_data d;
    op_case *c = rnn_case(&k, &d, NULL, &seed);
    /* weights in [-1, 1) saturate the gates at this size: scale them like an
     * initialised network (1/sqrt(H)) */
    for (int i = W; i <= R; i++)
        for (int64_t j = 0; j < ortc_tensor_numel(&c->in[i]); j++)
            d.in[i][j] *= 0.15f;
    const char *what = "LSTM bidirectional T12 N5 I64 H48";
    expect_like_reference(c, PATH_DNNL, 1e-5, dnnl_atol(&k), what);
    opc_free(c);
    rnn_data_free(&d);
}
END_TEST

/* ---- configurations that take the plain-C kernel ---------------------------- */

START_TEST(test_plain_configurations)
{
    uint64_t seed = 7;
    for (int which = 0; which < 6; which++) {
        rnn_cfg k = {which < 3   ? "LSTM"
                     : which < 5 ? "GRU"
                                 : "RNN",
                     14,
                     "bidirectional",
                     1,
                     4,
                     3,
                     5,
                     4,
                     .b = true,
                     .h0 = true,
                     .c0 = true,
                     .y = true,
                     .yh = true,
                     .yc = true,
                     .lbr = -1};
        rnn_data d;
        op_case *c = rnn_case(&k, &d, NULL, &seed);
        const char *what = "";
        switch (which) {
        case 0:
            opc_attr_float(c, "clip", 0.25f);
            what = "LSTM clip";
            break;
        case 1:
            opc_attr_int(c, "input_forget", 1);
            what = "LSTM input_forget";
            break;
        case 2: {
            const char *acts[6] = {"Sigmoid", "Tanh", "Relu", "Sigmoid", "Tanh", "Tanh"};
            attr_strings(c, "activations", acts, 6);
            what = "LSTM h = Relu in direction 0";
            break;
        }
        case 3: {
            const char *acts[2] = {"HardSigmoid", "Tanh"}; /* one set for both directions */
            attr_strings(c, "activations", acts, 2);
            what = "GRU f = HardSigmoid";
            break;
        }
        case 4:
            opc_attr_float(c, "clip", 0.5f);
            what = "GRU clip";
            break;
        case 5: {
            const char *acts[2] = {"Tanh", "Relu"}; /* oneDNN: one activation for both */
            attr_strings(c, "activations", acts, 2);
            what = "RNN Tanh forward, Relu backward";
            break;
        }
        }
        /* the plain-C kernel, exactly as the reference (the same kernel,
         * through scratch instead of malloc) */
        expect_like_reference(c, PATH_PLAIN, 0, 0, what);
        opc_free(c);
        rnn_data_free(&d);
    }
}
END_TEST

/* float64 (plain C) agrees with float32 (oneDNN) within float32's error. */
START_TEST(test_double)
{
    uint64_t seed = 11;
    rnn_cfg k = {"LSTM",    14,         "bidirectional", 0,          4,          2,
                 3,         5,          .b = true,       .h0 = true, .c0 = true, .p = true,
                 .y = true, .yh = true, .yc = true,      .lbr = -1};
    rnn_data d;
    op_case *c = rnn_case(&k, &d, NULL, &seed);
    run_checked(c, 0, PATH_DNNL, "LSTM float32");
    outs f32 = outs_take(c);
    double *dbl[8] = {0};
    for (int i = 0; i < 8; i++) {
        if (!d.in[i])
            continue;
        int64_t n = ortc_tensor_numel(&c->in[i]);
        dbl[i] = malloc((size_t)n * sizeof(double));
        ck_assert_ptr_nonnull(dbl[i]);
        for (int64_t j = 0; j < n; j++)
            dbl[i][j] = d.in[i][j];
        opc_input(c, i, F64, c->in[i].rank, c->in[i].dims, dbl[i], c->in_const[i]);
    }
    run_checked(c, 0, PATH_PLAIN, "LSTM float64");
    for (int o = 0; o < 3; o++) {
        ck_assert_int_eq(c->out[o].dtype, F64);
        int64_t n = ortc_tensor_numel(&c->out[o]);
        float *got = malloc((size_t)n * sizeof *got);
        ck_assert_ptr_nonnull(got);
        for (int64_t j = 0; j < n; j++)
            got[j] = (float)((double *)c->out[o].data)[j];
        assert_close_x(got, f32.v[o], NULL, n, 1e-5, dnnl_atol(&k), "LSTM float64 vs float32");
        free(got);
    }
    outs_free(&f32);
    for (int i = 0; i < 8; i++)
        free(dbl[i]);
    opc_free(c);
    rnn_data_free(&d);
}
END_TEST

/* ---- sequence_lens ------------------------------------------------------------ */

/* Each sequence of a padded batch gives what the same op gives on that
 * sequence alone, shortened to its length (a full-length run, on oneDNN):
 * Y rows up to the length, Y_h / Y_c; Y past the length is 0, and a length
 * of 0 gives zero states. Lengths constant or a graph input. */
static void check_lengths(const char *op, const char *dir, int layout, bool lens_const)
{
    const int64_t T = 5, N = 4, I = 3, H = 4;
    const int32_t lens[4] = {5, 2, 0, 3};
    const bool lstm = !strcmp(op, "LSTM");
    rnn_cfg k = {op,
                 14,
                 dir,
                 layout,
                 T,
                 N,
                 I,
                 H,
                 .b = true,
                 .h0 = true,
                 .c0 = true,
                 .p = lstm,
                 .y = true,
                 .yh = true,
                 .yc = true,
                 .lbr = 1,
                 .lens = lens,
                 .lens_const = lens_const};
    if (strcmp(op, "GRU"))
        k.lbr = -1;
    uint64_t seed = 21;
    rnn_data d;
    op_case *c = rnn_case(&k, &d, NULL, &seed);
    char what[160];
    snprintf(what, sizeof what, "%s %s layout %d, lengths %s", op, dir, layout,
             lens_const ? "constant" : "at run");
    run_checked(c, 1, PATH_PLAIN, what);
    outs ref = outs_take(c);
    run_checked(c, 0, PATH_PLAIN, what); /* lengths below T: plain C */
    outs_check(c, &ref, 0, 0, what);
    const int64_t D = d.D;
    for (int64_t b = 0; b < N; b++) {
        const int64_t len = lens[b];
        /* Y past the length */
        for (int64_t t = len; t < T; t++)
            for (int64_t dd = 0; dd < D; dd++)
                for (int64_t j = 0; j < H; j++) {
                    int64_t at =
                        layout ? ((b * T + t) * D + dd) * H + j : ((t * D + dd) * N + b) * H + j;
                    ck_assert_msg(ref.v[0][at] == 0, "%s: Y[t=%lld, b=%lld] is %g, not 0", what,
                                  (long long)t, (long long)b, ref.v[0][at]);
                }
        for (int o = 1; o < (lstm ? 3 : 2); o++)
            for (int64_t dd = 0; dd < D && len == 0; dd++)
                for (int64_t j = 0; j < H; j++) {
                    int64_t at = (layout ? b * D + dd : dd * N + b) * H + j;
                    ck_assert_msg(ref.v[o][at] == 0, "%s: output %d of an empty sequence is %g",
                                  what, o, ref.v[o][at]);
                }
        if (len == 0)
            continue;
        /* the sequence alone: X[:len, b], states [:, b] in layout 0 */
        float *xs = malloc((size_t)(len * I) * sizeof(float));
        float *h0 = malloc((size_t)(D * H) * sizeof(float));
        float *c0 = malloc((size_t)(D * H) * sizeof(float));
        ck_assert(xs && h0 && c0);
        for (int64_t t = 0; t < len; t++)
            memcpy(xs + t * I, d.in[X] + (layout ? b * T + t : t * N + b) * I,
                   (size_t)I * sizeof(float));
        for (int64_t dd = 0; dd < D; dd++) {
            int64_t at = (layout ? b * D + dd : dd * N + b) * H;
            memcpy(h0 + dd * H, d.in[H0] + at, (size_t)H * sizeof(float));
            if (lstm)
                memcpy(c0 + dd * H, d.in[C0] + at, (size_t)H * sizeof(float));
        }
        rnn_cfg k1 = k;
        k1.T = len, k1.N = 1, k1.layout = 0, k1.lens = NULL;
        const float *vals[8] = {xs, d.in[W], d.in[R], d.in[B], NULL, h0, c0, d.in[P]};
        rnn_data d1;
        op_case *c1 = rnn_case(&k1, &d1, vals, &seed);
        char what1[200];
        snprintf(what1, sizeof what1, "%s: sequence %lld alone", what, (long long)b);
        run_checked(c1, 0, PATH_DNNL, what1);
        const float *y1 = c1->out[0].data;
        for (int64_t t = 0; t < len; t++)
            for (int64_t dd = 0; dd < D; dd++) {
                int64_t at = layout ? ((b * T + t) * D + dd) * H : ((t * D + dd) * N + b) * H;
                assert_close_x(ref.v[0] + at, y1 + (t * D + dd) * H, NULL, H, 1e-5, dnnl_atol(&k1),
                               what1);
            }
        for (int o = 1; o < (lstm ? 3 : 2); o++)
            for (int64_t dd = 0; dd < D; dd++) {
                int64_t at = (layout ? b * D + dd : dd * N + b) * H;
                assert_close_x(ref.v[o] + at, (const float *)c1->out[o].data + dd * H, NULL, H,
                               1e-5, dnnl_atol(&k1), what1);
            }
        opc_free(c1);
        rnn_data_free(&d1);
        free(xs);
        free(h0);
        free(c0);
    }
    outs_free(&ref);
    opc_free(c);
    rnn_data_free(&d);
}

START_TEST(test_sequence_lens)
{
    static const char *const ops[] = {"LSTM", "GRU", "RNN"};
    static const char *const dirs[] = {"forward", "reverse", "bidirectional"};
    for (int o = 0; o < 3; o++)
        for (int dd = 0; dd < 3; dd++)
            check_lengths(ops[o], dirs[dd], (o + dd) % 2, (o + dd) % 3 == 0);
}
END_TEST

/* ---- errors -------------------------------------------------------------------- */

START_TEST(test_errors)
{
    uint64_t seed = 5;
    rnn_data d;
    rnn_cfg k = {"LSTM", 14, NULL, -1, 2, 2, 3, 4, .y = true, .lbr = -1};

    op_case *c = rnn_case(&k, &d, NULL, &seed);
    opc_input(c, W, F32, 3, (int64_t[]){1, 12, 3}, d.in[W], false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL,
                 "input W 'in1' has shape [1,12,3]; it must be [1,16,3]", "W of 3 gates");
    opc_free(c);
    rnn_data_free(&d);

    c = rnn_case(&k, &d, NULL, &seed);
    opc_attr_string(c, "direction", "sideways");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "'direction' is 'sideways'", "bad direction");
    opc_free(c);
    rnn_data_free(&d);

    c = rnn_case(&k, &d, NULL, &seed);
    const char *acts[2] = {"Sigmoid", "Tanh"};
    attr_strings(c, "activations", acts, 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "lists 2 functions; LSTM with 1 direction takes 3",
                 "activation count");
    opc_free(c);
    rnn_data_free(&d);

    c = rnn_case(&k, &d, NULL, &seed);
    const char *swish[3] = {"Sigmoid", "Swish", "Tanh"};
    attr_strings(c, "activations", swish, 3);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "activation 'Swish'", "unknown activation");
    opc_free(c);
    rnn_data_free(&d);

    c = rnn_case(&k, &d, NULL, &seed);
    opc_attr_float(c, "clip", -1.0f);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "'clip' is -1", "negative clip");
    opc_free(c);
    rnn_data_free(&d);

    rnn_cfg k7 = k;
    k7.opset = 7, k7.layout = 1;
    c = rnn_case(&k7, &d, NULL, &seed);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "'layout' exists from LSTM-14 on", "layout at 7");
    opc_free(c);
    rnn_data_free(&d);

    rnn_cfg kg = k;
    kg.op = "GRU", kg.opset = 1, kg.lbr = 1;
    c = rnn_case(&kg, &d, NULL, &seed);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "'linear_before_reset' exists for GRU-3",
                 "linear_before_reset at 1");
    opc_free(c);
    rnn_data_free(&d);

    c = rnn_case(&k, &d, NULL, &seed);
    c->node->attrs[0].i = 5; /* hidden_size, against W's 4 */
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "must be [1,20,3]", "hidden_size against W");
    opc_free(c);
    rnn_data_free(&d);

    /* a length out of range in a graph input: the caller's error, at run, on
     * both paths */
    const int32_t lens[2] = {2, 3};
    rnn_cfg ks = k;
    ks.lens = lens;
    c = rnn_case(&ks, &d, NULL, &seed);
    for (int ref = 1; ref >= 0; ref--) {
        ortc_status st = opc_run(c, ref, 1);
        expect_status(c, st, ORTC_STATUS_INVALID_ARGUMENT,
                      "sequence_lens 'in4' holds 3 at [1]; lengths must be in 0..2");
    }
    opc_free(c);
    rnn_data_free(&d);
}
END_TEST

/* Older versions: GRU-1 without a direction (its schema's default is
 * misspelt "foward"), LSTM-1's output_sequence, RNN-7's two default
 * activations for one direction. */
START_TEST(test_versions)
{
    uint64_t seed = 3;
    rnn_data d;
    rnn_cfg k = {"GRU", 1, NULL, -1, 3, 2, 2, 3, .b = true, .y = true, .yh = true, .lbr = -1};
    op_case *c = rnn_case(&k, &d, NULL, &seed);
    compare_paths_n(c, 2, 1e-5, dnnl_atol(&k), PATH_DNNL, "GRU-1");
    opc_free(c);
    rnn_data_free(&d);

    rnn_cfg kl = {"LSTM", 1, "reverse", -1,         3,          2,
                  2,      3, .y = true, .yh = true, .yc = true, .lbr = -1};
    c = rnn_case(&kl, &d, NULL, &seed);
    opc_attr_int(c, "output_sequence", 1);
    compare_paths_n(c, 3, 1e-5, dnnl_atol(&kl), PATH_DNNL, "LSTM-1 output_sequence");
    opc_free(c);
    rnn_data_free(&d);

    rnn_cfg kr = {"RNN", 7, NULL, -1, 3, 2, 2, 3, .y = true, .yh = true, .lbr = -1};
    c = rnn_case(&kr, &d, NULL, &seed);
    const char *acts[2] = {"Relu", "Tanh"};
    attr_strings(c, "activations", acts, 2);
    compare_paths_n(c, 2, 1e-5, dnnl_atol(&kr), PATH_DNNL, "RNN-7 activations [Relu, Tanh]");
    for (int64_t i = 0; i < ortc_tensor_numel(&c->out[0]); i++)
        ck_assert_msg(((float *)c->out[0].data)[i] >= 0, "RNN-7: Relu applied, yet Y < 0");
    opc_free(c);
    rnn_data_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rnn");
    TCase *t = tcase_create("rnn");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, test_rnn_hand);
    tcase_add_test(t, test_gru_hand);
    tcase_add_test(t, test_lstm_hand);
    tcase_add_test(t, test_rnn_bidirectional_layout1_hand);
    tcase_add_test(t, test_rnn_activations_hand);
    tcase_add_test(t, test_gru_activation_params_clip_hand);
    tcase_add_test(t, test_lstm_input_forget_clip_hand);
    tcase_add_test(t, test_lstm_dnnl_random);
    tcase_add_test(t, test_gru_dnnl_random);
    tcase_add_test(t, test_rnn_dnnl_random);
    tcase_add_test(t, test_lstm_dnnl_large);
    tcase_add_test(t, test_plain_configurations);
    tcase_add_test(t, test_double);
    tcase_add_test(t, test_sequence_lens);
    tcase_add_test(t, test_errors);
    tcase_add_test(t, test_versions);
    suite_add_tcase(s, t);
    return run_suite(s);
}
