/* rnn.c — LSTM (ONNX 1, 7, 14), GRU (1, 3, 7, 14) and RNN (1, 7, 14):
 * attributes and shapes, float32 on oneDNN's RNN primitives where they
 * compute exactly ONNX's cell, the plain-C kernel (rnn_ref.c) otherwise and
 * as the reference.
 *
 * oneDNN (forward inference, one layer): LSTM with or without peepholes,
 * GRU, linear-before-reset GRU, vanilla RNN with Tanh, Relu, LeakyRelu or
 * Sigmoid; forward, reverse and bidirectional (concat); layout 0 and 1; any
 * of initial_h / initial_c / Y / Y_h / Y_c. ONNX's gate order is repacked
 * (LSTM i,o,f,c -> oneDNN i,f,c,o; peepholes i,o,f -> i,f,o; GRU z,r,h is
 * oneDNN's u,r,o), its biases summed (Wb + Rb; linear-before-reset GRU keeps
 * Rbh as oneDNN's extra bias), constant weights packed once in prepare into
 * the layout oneDNN chooses (weights that are graph inputs are repacked at
 * every run). The plain-C kernel instead runs: float64; `clip` and
 * `input_forget` (oneDNN has neither); activations other than the defaults
 * (LSTM f=Sigmoid g=h=Tanh, GRU f=Sigmoid g=Tanh; RNN: oneDNN's vanilla cell
 * has Tanh, Relu/LeakyRelu and Sigmoid only, one for both directions);
 * sequence_lens with a length below seq_length (oneDNN runs every sequence
 * to the end; checked at every run when the lengths are a graph input);
 * empty tensors.
 *
 * Where the spec leaves room: sequence_lens as rnn_ref.h says (ONNX
 * Runtime's semantics); the activation alpha/beta lists are consumed in
 * order by the activations that take them (ONNX Runtime's reading), with
 * the defaults of the ONNX operators of the same name (ThresholdedRelu
 * alpha 1, Affine 1/0; ScaledTanh, which has no ONNX default, 1/1) where
 * ONNX Runtime uses 0; `clip` bounds the input of every activation,
 * h(Ct) included (ONNX Runtime leaves Ct unclipped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnnl_util.h"
#include "error.h"
#include "plain_util.h"
#include "rnn_ref.h"

enum { IN_X, IN_W, IN_R, IN_B, IN_SEQ, IN_H0, IN_C0, IN_P };
enum { OUT_Y, OUT_YH, OUT_YC };

/* ---- attributes and shapes ------------------------------------------------ */

static const struct {
    const char *name;
    ortc_rnn_act_kind kind;
    int n_params; /* 1: alpha; 2: alpha and beta */
    float alpha, beta;
} act_table[] = {
    {"Relu", ORTC_RNN_RELU, 0, 0, 0},
    {"Tanh", ORTC_RNN_TANH, 0, 0, 0},
    {"Sigmoid", ORTC_RNN_SIGMOID, 0, 0, 0},
    {"Affine", ORTC_RNN_AFFINE, 2, 1.0f, 0.0f},
    {"LeakyRelu", ORTC_RNN_LEAKY_RELU, 1, 0.01f, 0},
    {"ThresholdedRelu", ORTC_RNN_THRESHOLDED_RELU, 1, 1.0f, 0},
    {"ScaledTanh", ORTC_RNN_SCALED_TANH, 2, 1.0f, 1.0f},
    {"HardSigmoid", ORTC_RNN_HARD_SIGMOID, 2, 0.2f, 0.5f},
    {"Elu", ORTC_RNN_ELU, 1, 1.0f, 0},
    {"Softsign", ORTC_RNN_SOFTSIGN, 0, 0, 0},
    {"Softplus", ORTC_RNN_SOFTPLUS, 0, 0, 0},
};
#define N_ACTS (int)(sizeof act_table / sizeof *act_table)

static const char *const gate_names[] = {"", "hidden_size", "", "3*hidden_size", "4*hidden_size"};

static const char *input_name(int i)
{
    static const char *const names[] = {"X",         "W",         "R", "B", "sequence_lens",
                                        "initial_h", "initial_c", "P"};
    return names[i];
}

/* Error unless present input i has shape (rank, want); `layout` names the
 * dims for the message. */
static ortc_status check_shape(ortc_opctx *c, int i, int rank, const int64_t *want,
                               const char *layout)
{
    const ortc_tensor *t = c->in[i];
    bool ok = t->rank == rank;
    for (int k = 0; ok && k < rank; k++)
        ok = t->dims[k] == want[k];
    if (ok)
        return ORTC_STATUS_OK;
    char got[96], exp[96];
    ortc_shape_str(got, sizeof got, t->rank, t->dims);
    ortc_shape_str(exp, sizeof exp, rank, want);
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                         "input %s '%s' has shape %s; it must be %s %s", input_name(i),
                         ortc_plain_input_name(c, i), got, exp, layout);
}

static ortc_status parse_activations(ortc_opctx *c, ortc_rnn_params *p)
{
    static const ortc_rnn_act_kind defaults[3][3] = {
        {ORTC_RNN_TANH},                                  /* RNN: f */
        {ORTC_RNN_SIGMOID, ORTC_RNN_TANH},                /* GRU: f, g */
        {ORTC_RNN_SIGMOID, ORTC_RNN_TANH, ORTC_RNN_TANH}, /* LSTM: f, g, h */
    };
    const ortc_attr *a = ortc_node_attr(c->node, "activations");
    size_t n = a ? a->n : 0, n_alpha, n_beta;
    const float *alpha = ortc_node_attr_floats(c->node, "activation_alpha", &n_alpha);
    const float *beta = ortc_node_attr_floats(c->node, "activation_beta", &n_beta);
    const int per = p->n_acts;
    /* per direction, or one set for both directions; RNN's schema default
     * lists two functions even for one direction: the first applies */
    bool shared = n == (size_t)per && p->dirs == 2;
    bool rnn_pair = p->cell == ORTC_RNN_VANILLA && p->dirs == 1 && n == 2;
    if (n != 0 && n != (size_t)(per * p->dirs) && !shared && !rnn_pair)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'activations' lists %zu functions; %s with %d "
                             "direction%s takes %d (%d per direction)",
                             n, c->node->op_type, p->dirs, p->dirs > 1 ? "s" : "", per * p->dirs,
                             per);
    size_t ia = 0, ib = 0;
    for (int d = 0; d < p->dirs; d++)
        for (int k = 0; k < per; k++) {
            ortc_rnn_act *act = &p->act[d][k];
            if (n == 0) {
                act->kind = defaults[p->cell][k];
                continue;
            }
            if (shared && d == 1) {
                *act = p->act[0][k];
                continue;
            }
            const char *name = a->strings[d * per + k];
            int j = 0;
            while (j < N_ACTS && strcasecmp(name, act_table[j].name) != 0)
                j++;
            if (j == N_ACTS)
                return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                     "activation '%s' is not one of ONNX's (Relu, Tanh, Sigmoid, "
                                     "Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, "
                                     "HardSigmoid, Elu, Softsign, Softplus)",
                                     name);
            act->kind = act_table[j].kind;
            act->alpha = act_table[j].alpha;
            act->beta = act_table[j].beta;
            if (act_table[j].n_params >= 1 && ia < n_alpha)
                act->alpha = alpha[ia++];
            if (act_table[j].n_params >= 2 && ib < n_beta)
                act->beta = beta[ib++];
        }
    return ORTC_STATUS_OK;
}

/* Reads the node into p and checks every input; sets nothing. */
static ortc_status rnn_parse(ortc_opctx *c, ortc_rnn_params *p)
{
    memset(p, 0, sizeof *p);
    const char *op = c->node->op_type;
    const int version = ortc_op_version(c);
    int max_in = 6, max_out = 2;
    if (!strcmp(op, "LSTM")) {
        p->cell = ORTC_RNN_LSTM, p->n_gates = 4, p->n_acts = 3;
        max_in = 8, max_out = 3;
    } else if (!strcmp(op, "GRU")) {
        p->cell = ORTC_RNN_GRU, p->n_gates = 3, p->n_acts = 2;
    } else {
        p->cell = ORTC_RNN_VANILLA, p->n_gates = 1, p->n_acts = 1;
    }
    ortc_status st;
    ORTC_TRY(ortc_op_check_arity(c, 3, max_in, 0, max_out));
    for (int i = IN_X; i <= IN_R; i++)
        if (!c->in[i])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %s is required",
                                 input_name(i));
    ORTC_TRY(ortc_op_check_input(c, IN_X));
    for (int i = IN_W; i < c->n_in; i++)
        if (i != IN_SEQ && c->in[i] && (st = ortc_op_check_same_dtype(c, IN_X, i)))
            return st;
    if (c->n_in > IN_SEQ && c->in[IN_SEQ] &&
        (st = ortc_op_check_dtype(c, IN_SEQ, ORTC_DTYPE_INT32, ORTC_DTYPE_UNDEFINED)))
        return st;
    ORTC_TRY(ortc_op_check_attr(c, "direction", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_op_check_attr(c, "hidden_size", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "layout", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "clip", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "input_forget", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "linear_before_reset", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "output_sequence", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "activations", ORTC_ATTR_STRINGS));
    ORTC_TRY(ortc_op_check_attr(c, "activation_alpha", ORTC_ATTR_FLOATS));
    ORTC_TRY(ortc_op_check_attr(c, "activation_beta", ORTC_ATTR_FLOATS));

    /* attributes that exist only in some versions */
    if (version < 14 && ortc_node_attr(c->node, "layout"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'layout' exists from %s-14 on", op);
    if (p->cell != ORTC_RNN_LSTM && ortc_node_attr(c->node, "input_forget"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'input_forget' is LSTM's, not %s's", op);
    if ((p->cell != ORTC_RNN_GRU || version < 3) && ortc_node_attr(c->node, "linear_before_reset"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'linear_before_reset' exists for GRU-3 and later");
    p->layout = (int)ortc_node_attr_int(c->node, "layout", 0);
    if (p->layout != 0 && p->layout != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'layout' is %d; it must be 0 or 1", p->layout);
    /* GRU-1's schema spells its default "foward" */
    const char *dir = ortc_node_attr_string(c->node, "direction", "forward");
    if (!strcmp(dir, "forward"))
        p->dirs = 1;
    else if (!strcmp(dir, "reverse"))
        p->dirs = 1, p->reverse = true;
    else if (!strcmp(dir, "bidirectional"))
        p->dirs = 2;
    else
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'direction' is '%s'; it must be forward, reverse or "
                             "bidirectional",
                             dir);
    int64_t input_forget = ortc_node_attr_int(c->node, "input_forget", 0);
    int64_t lbr = ortc_node_attr_int(c->node, "linear_before_reset", 0);
    p->input_forget = input_forget != 0;
    p->lbr = lbr != 0;
    const ortc_attr *clip = ortc_node_attr(c->node, "clip");
    if (clip) {
        if (!(clip->f >= 0))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'clip' is %g; a threshold must be >= 0", clip->f);
        p->has_clip = true;
        p->clip = clip->f;
    }

    /* shapes */
    const ortc_tensor *x = c->in[IN_X], *w = c->in[IN_W], *r = c->in[IN_R];
    if (x->rank != 3 || w->rank != 3 || r->rank != 3) {
        int i = x->rank != 3 ? IN_X : w->rank != 3 ? IN_W : IN_R;
        char got[96];
        ortc_shape_str(got, sizeof got, c->in[i]->rank, c->in[i]->dims);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %s '%s' has shape %s; %s needs rank 3", input_name(i),
                             ortc_plain_input_name(c, i), got, op);
    }
    p->seq = x->dims[p->layout ? 1 : 0];
    p->batch = x->dims[p->layout ? 0 : 1];
    p->input = x->dims[2];
    const int64_t D = p->dirs, G = p->n_gates;
    const ortc_attr *hs = ortc_node_attr(c->node, "hidden_size");
    if (hs && hs->i < 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'hidden_size' is %lld; it must be >= 1", (long long)hs->i);
    p->hidden = hs ? hs->i : r->dims[2];
    if (p->hidden < 1 || p->hidden > ((int64_t)1 << 30))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "hidden size %lld (R's last dim) is out of range 1..2^30",
                             (long long)p->hidden);
    const int64_t H = p->hidden;
    char what[128];
    snprintf(what, sizeof what, "[num_directions, %s, input_size]", gate_names[G]);
    ORTC_TRY(check_shape(c, IN_W, 3, (int64_t[]){D, G * H, p->input}, what));
    snprintf(what, sizeof what, "[num_directions, %s, hidden_size]", gate_names[G]);
    ORTC_TRY(check_shape(c, IN_R, 3, (int64_t[]){D, G * H, H}, what));
    if (c->n_in > IN_B && c->in[IN_B]) {
        snprintf(what, sizeof what, "[num_directions, 2*%s]", gate_names[G]);
        ORTC_TRY(check_shape(c, IN_B, 2, (int64_t[]){D, 2 * G * H}, what));
    }
    if (c->n_in > IN_SEQ && c->in[IN_SEQ] &&
        (st = check_shape(c, IN_SEQ, 1, (int64_t[]){p->batch}, "[batch_size]")))
        return st;
    const int64_t sdims[3] = {p->layout ? p->batch : D, p->layout ? D : p->batch, H};
    const char *slayout = p->layout ? "[batch_size, num_directions, hidden_size]"
                                    : "[num_directions, batch_size, hidden_size]";
    for (int i = IN_H0; i <= IN_C0; i++)
        if (c->n_in > i && c->in[i] && (st = check_shape(c, i, 3, sdims, slayout)))
            return st;
    if (c->n_in > IN_P && c->in[IN_P] &&
        (st = check_shape(c, IN_P, 2, (int64_t[]){D, 3 * H}, "[num_directions, 3*hidden_size]")))
        return st;
    return parse_activations(c, p);
}

static ortc_status rnn_infer(ortc_opctx *c)
{
    ortc_rnn_params p;
    ORTC_TRY(rnn_parse(c, &p));
    ortc_status st = ORTC_STATUS_OK;
    const ortc_dtype t = c->in[IN_X]->dtype;
    const int64_t T = p.seq, N = p.batch, D = p.dirs, H = p.hidden;
    if (c->n_out > OUT_Y && c->out[OUT_Y]) {
        const int64_t y0[4] = {T, D, N, H}, y1[4] = {N, T, D, H};
        ortc_op_set_output(c, OUT_Y, t, 4, p.layout ? y1 : y0);
    }
    const int64_t s0[3] = {D, N, H}, s1[3] = {N, D, H};
    for (int k = OUT_YH; k <= OUT_YC && k < c->n_out; k++)
        if (c->out[k])
            ortc_op_set_output(c, k, t, 3, p.layout ? s1 : s0);
    for (int k = 0; k < c->n_out; k++)
        if (c->out[k] && (st = ortc_plain_check_numel(c, k)))
            return st;
    return ORTC_STATUS_OK;
}

static const void *in_data(const ortc_opctx *c, int i)
{
    return i < c->n_in && c->in[i] ? c->in[i]->data : NULL;
}

static void *out_data(const ortc_opctx *c, int k)
{
    return k < c->n_out && c->out[k] ? c->out[k]->data : NULL;
}

/* Error unless every sequence length is in 0..T; *all_full: all are T. */
static ortc_status check_lengths(ortc_opctx *c, const ortc_rnn_params *p, bool *all_full)
{
    const int32_t *len = in_data(c, IN_SEQ);
    *all_full = true;
    if (!len)
        return ORTC_STATUS_OK;
    for (int64_t b = 0; b < p->batch; b++) {
        if (len[b] < 0 || len[b] > p->seq)
            return ortc_op_error(c, ortc_plain_value_status(c, IN_SEQ),
                                 "input sequence_lens '%s' holds %d at [%lld]; lengths must be "
                                 "in 0..%lld (seq_length)",
                                 ortc_plain_input_name(c, IN_SEQ), (int)len[b], (long long)b,
                                 (long long)p->seq);
        *all_full &= len[b] == p->seq;
    }
    return ORTC_STATUS_OK;
}

/* The plain-C kernel on c's tensors with `work` (ortc_ref_rnn_work_bytes). */
static void run_plain(const ortc_opctx *c, const ortc_rnn_params *p, double *work)
{
    const ortc_rnn_data d = {
        .dtype = c->in[IN_X]->dtype,
        .x = in_data(c, IN_X),
        .w = in_data(c, IN_W),
        .r = in_data(c, IN_R),
        .b = in_data(c, IN_B),
        .seq_lens = in_data(c, IN_SEQ),
        .init_h = in_data(c, IN_H0),
        .init_c = p->cell == ORTC_RNN_LSTM ? in_data(c, IN_C0) : NULL,
        .p = p->cell == ORTC_RNN_LSTM ? in_data(c, IN_P) : NULL,
        .y = out_data(c, OUT_Y),
        .y_h = out_data(c, OUT_YH),
        .y_c = p->cell == ORTC_RNN_LSTM ? out_data(c, OUT_YC) : NULL,
    };
    ortc_ref_rnn_forward(p, &d, work);
}

/* The reference kernel (no prepare, so no scratch): its few work vectors
 * are allocated per call, reference mode being for debugging. */
static ortc_status rnn_reference(ortc_opctx *c)
{
    ortc_rnn_params p;
    ortc_status st = rnn_parse(c, &p);
    bool all_full;
    if (st || (st = check_lengths(c, &p, &all_full)))
        return st;
    size_t bytes = ortc_ref_rnn_work_bytes(&p);
    double *work = malloc(bytes ? bytes : 1);
    if (!work)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory (%zu bytes of work)",
                             bytes);
    run_plain(c, &p, work);
    free(work);
    return ORTC_STATUS_OK;
}

/* 2 x multiply-adds: every step of every sequence and direction multiplies
 * its input by W and its state by R. */
static double rnn_flops(const ortc_opctx *c)
{
    const ortc_tensor *x = c->in[IN_X], *w = c->in[IN_W], *r = c->in[IN_R];
    if (!x || !w || !r || x->rank != 3 || w->rank != 3 || x->dims[2] < 1)
        return 0;
    double steps = (double)x->dims[0] * (double)x->dims[1]; /* T * N */
    return 2.0 * steps * (double)(ortc_tensor_numel(w) + ortc_tensor_numel(r));
}

/* ---- oneDNN ------------------------------------------------------------------ */

enum {
    A_SRC_LAYER,
    A_SRC_ITER,
    A_SRC_ITER_C,
    A_WEIGHTS_LAYER,
    A_WEIGHTS_ITER,
    A_WEIGHTS_PEEPHOLE,
    A_BIAS,
    A_DST_LAYER,
    A_DST_ITER,
    A_DST_ITER_C,
    N_ARGS
};

static const int dnnl_arg_of[N_ARGS] = {
    DNNL_ARG_SRC_LAYER,    DNNL_ARG_SRC_ITER,         DNNL_ARG_SRC_ITER_C, DNNL_ARG_WEIGHTS_LAYER,
    DNNL_ARG_WEIGHTS_ITER, DNNL_ARG_WEIGHTS_PEEPHOLE, DNNL_ARG_BIAS,       DNNL_ARG_DST_LAYER,
    DNNL_ARG_DST_ITER,     DNNL_ARG_DST_ITER_C,
};

/* Where an argument's data is at run. */
typedef enum { FROM_NONE, FROM_IN, FROM_OUT, FROM_SCRATCH, FROM_OWNED } rnn_from;

typedef struct rnn_state {
    ortc_rnn_params p;
    bool use_ref;  /* always the plain-C kernel */
    size_t work;   /* its scratch (use_ref, or lengths known only at run) */
    bool has_work; /* ... reserved */
    ortc_dnnl_step step;
    struct {
        rnn_from from;
        int at;     /* input / output index */
        size_t off; /* scratch offset */
        void *owned;
        ortc_dnnl_mem mem;
    } a[N_ARGS];
    /* run-time preparation of scratch arguments (from inputs that are not
     * constant, or layout changes) and of outputs from scratch */
    bool pack_w, pack_r, pack_b, pack_p;
    bool h0_in, c0_in;          /* SRC_ITER(_C) in scratch: from the input, or zeros */
    bool y_out, yh_out, yc_out; /* DST_* in scratch copied into the outputs */
} rnn_state;

/* oneDNN's gate g takes ONNX's gate map[g]. */
static const int lstm_gates[4] = {0, 2, 3, 1}; /* i, f, c, o <- i, o, f, c */
static const int gru_gates[3] = {0, 1, 2};     /* u, r, o <- z, r, h */
static const int rnn_gates[1] = {0};
static const int peep_gates[3] = {0, 2, 1}; /* i, f, o <- i, o, f */

static const int *gate_map(const ortc_rnn_params *p)
{
    return p->cell == ORTC_RNN_LSTM ? lstm_gates : p->cell == ORTC_RNN_GRU ? gru_gates : rnn_gates;
}

// w: (D, G*H, K), rows gate-major in ONNX's order  ->  dst: ldigo (1, D, K, G, H)
static void pack_ldigo(float *dst, const float *w, const ortc_rnn_params *p, int64_t k_dim)
{
    const int64_t G = p->n_gates, H = p->hidden;
    const int *map = gate_map(p);
    for (int d = 0; d < p->dirs; d++)
        for (int64_t g = 0; g < G; g++)
            for (int64_t h = 0; h < H; h++) {
                const float *row = w + ((d * G + map[g]) * H + h) * k_dim;
                float *o = dst + (d * k_dim * G + g) * H + h;
                for (int64_t k = 0; k < k_dim; k++)
                    o[k * G * H] = row[k];
            }
}

// b: (D, 2*G*H) Wb then Rb, or NULL  ->  dst: ldgo (1, D, G [+1], H)
static void pack_bias(float *dst, const float *b, const ortc_rnn_params *p)
{
    const int64_t G = p->n_gates, H = p->hidden, GB = G + (p->lbr ? 1 : 0);
    const int *map = gate_map(p);
    for (int d = 0; d < p->dirs; d++) {
        const float *wb = b ? b + d * 2 * G * H : NULL, *rb = wb ? wb + G * H : NULL;
        for (int64_t g = 0; g < G; g++) {
            float *o = dst + (d * GB + g) * H;
            const int64_t src = map[g] * H;
            for (int64_t h = 0; h < H; h++)
                /* linear-before-reset: Rbh is oneDNN's extra bias u' */
                o[h] = !wb ? 0 : (p->lbr && g == 2) ? wb[src + h] : wb[src + h] + rb[src + h];
        }
        if (p->lbr)
            for (int64_t h = 0; h < H; h++)
                dst[(d * GB + 3) * H + h] = rb ? rb[2 * H + h] : 0;
    }
}

// p: (D, 3*H) i, o, f  ->  dst: ldgo (1, D, 3, H) i, f, o
static void pack_peepholes(float *dst, const float *pp, const ortc_rnn_params *p)
{
    const int64_t H = p->hidden;
    for (int d = 0; d < p->dirs; d++)
        for (int g = 0; g < 3; g++)
            memcpy(dst + (d * 3 + g) * H, pp + (d * 3 + peep_gates[g]) * H,
                   (size_t)H * sizeof *dst);
}

// states (N, D, H) <-> (D, N, H): to_dn = true reads (N, D, H)
static void swap_nd(float *dst, const float *src, int64_t N, int64_t D, int64_t H, bool to_dn)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++) {
            const int64_t nd = (n * D + d) * H, dn = (d * N + n) * H;
            memcpy(dst + (to_dn ? dn : nd), src + (to_dn ? nd : dn), (size_t)H * sizeof *dst);
        }
}

/* Whether oneDNN's cells compute p exactly (the float32 data checked by
 * the caller). */
static bool dnnl_expresses(const ortc_rnn_params *p, dnnl_alg_kind_t *vanilla_alg, float *alpha)
{
    if (p->has_clip || p->input_forget)
        return false;
    if (p->seq == 0 || p->batch == 0 || p->input == 0)
        return false;
    for (int d = 0; d < p->dirs; d++)
        for (int k = 0; k < p->n_acts; k++) {
            ortc_rnn_act_kind want = k == 0 ? ORTC_RNN_SIGMOID : ORTC_RNN_TANH;
            if (p->cell != ORTC_RNN_VANILLA && p->act[d][k].kind != want)
                return false;
        }
    if (p->cell != ORTC_RNN_VANILLA)
        return true;
    const ortc_rnn_act a = p->act[0][0];
    if (p->dirs == 2 && (p->act[1][0].kind != a.kind ||
                         (a.kind == ORTC_RNN_LEAKY_RELU && p->act[1][0].alpha != a.alpha)))
        return false;
    *alpha = 0;
    switch (a.kind) {
    case ORTC_RNN_TANH: *vanilla_alg = dnnl_eltwise_tanh; return true;
    case ORTC_RNN_SIGMOID: *vanilla_alg = dnnl_eltwise_logistic; return true;
    case ORTC_RNN_RELU: *vanilla_alg = dnnl_eltwise_relu; return true;
    case ORTC_RNN_LEAKY_RELU:
        *vanilla_alg = dnnl_eltwise_relu; /* alpha: the negative slope */
        *alpha = a.alpha;
        return true;
    default: return false;
    }
}

static void rnn_release(ortc_opctx *c)
{
    rnn_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_step_free(&s->step);
    for (int i = 0; i < N_ARGS; i++) {
        ortc_dnnl_mem_free(&s->a[i].mem);
        free(s->a[i].owned);
    }
    free(s);
    c->state = NULL;
}

/* Argument i reads/writes scratch of `bytes`. */
static void arg_scratch(ortc_opctx *c, rnn_state *s, int i, size_t *used, size_t bytes)
{
    s->a[i].from = FROM_SCRATCH;
    s->a[i].off = ortc_dnnl_scratch_take(c, used, bytes);
}

static void arg_io(rnn_state *s, int i, rnn_from from, int at)
{
    s->a[i].from = from;
    s->a[i].at = at;
}

/* Argument i straight from the op's input/output `at` when `direct`, else
 * staged in `bytes` of scratch; true when staged. */
static bool arg_state(ortc_opctx *c, rnn_state *s, int i, bool direct, rnn_from from, int at,
                      size_t *used, size_t bytes)
{
    if (direct)
        arg_io(s, i, from, at);
    else
        arg_scratch(c, s, i, used, bytes);
    return !direct;
}

/* Owned data of `bytes` (64-byte aligned), zeroed. */
static ortc_status arg_owned(ortc_opctx *c, rnn_state *s, int i, size_t bytes)
{
    s->a[i].owned = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    if (!s->a[i].owned)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory (%zu bytes of weights)",
                             bytes);
    memset(s->a[i].owned, 0, bytes);
    s->a[i].from = FROM_OWNED;
    return ORTC_STATUS_OK;
}

/* Bias or peepholes (input `in`, `given`): a constant input (or none, which
 * packs zeros) is packed now into owned data; a run-time input gets
 * `bytes` of scratch and *pack_later, so run packs it. */
static ortc_status arg_packed(ortc_opctx *c, rnn_state *s, int i, int in, bool given, size_t bytes,
                              size_t *used, bool *pack_later,
                              void (*pack)(float *, const float *, const ortc_rnn_params *),
                              const ortc_rnn_params *p)
{
    if (given && !in_data(c, in)) {
        arg_scratch(c, s, i, used, bytes);
        *pack_later = true;
        return ORTC_STATUS_OK;
    }
    ortc_status st = arg_owned(c, s, i, bytes);
    if (!st)
        pack(s->a[i].owned, in_data(c, in), p);
    return st;
}

/* Weights argument i (W or R as input `in`, K = its last dim): a constant
 * is packed now into the layout oneDNN chose (`want`); otherwise it stays
 * ldigo (`user`) and is repacked into scratch at every run. */
static ortc_status bind_weights(ortc_opctx *c, rnn_state *s, int i, int in, int64_t k_dim,
                                const dnnl_memory_desc_t *want, const dnnl_memory_desc_t *user,
                                size_t *used)
{
    const float *w = in_data(c, in);
    size_t bytes = dnnl_memory_desc_get_size(user);
    if (!w) {
        arg_scratch(c, s, i, used, bytes);
        return ortc_dnnl_step_mem(c, &s->step, dnnl_arg_of[i], user, &s->a[i].mem);
    }
    float *tmp = malloc(bytes);
    if (!tmp)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory (%zu bytes of weights)",
                             bytes);
    pack_ldigo(tmp, w, &s->p, k_dim);
    ortc_status st = ortc_dnnl_reorder_const(c, want, user, tmp, &s->a[i].owned, &s->a[i].mem.m[0]);
    free(tmp);
    if (st)
        return st;
    s->a[i].from = FROM_OWNED;
    if (s->step.n_args >= ORTC_DNNL_MAX_ARGS)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: more than %d oneDNN arguments", ORTC_DNNL_MAX_ARGS);
    s->step.args[s->step.n_args].arg = dnnl_arg_of[i];
    s->step.args[s->step.n_args].mem = &s->a[i].mem;
    s->step.n_args++;
    return ORTC_STATUS_OK;
}

static ortc_status build_dnnl(ortc_opctx *c, rnn_state *s, dnnl_alg_kind_t vanilla_alg, float alpha)
{
    const ortc_rnn_params *p = &s->p;
    const int64_t T = p->seq, N = p->batch, I = p->input, H = p->hidden, D = p->dirs;
    const int64_t G = p->n_gates, GB = G + (p->lbr ? 1 : 0);
    const bool lstm = p->cell == ORTC_RNN_LSTM;
    /* states go straight to and from the tensors unless layout 1 puts the
     * batch before the directions of a bidirectional node */
    const bool direct_state = p->layout == 0 || D == 1 || N == 1;
    const bool has_h0 = c->n_in > IN_H0 && c->in[IN_H0];
    const bool has_c0 = lstm && c->n_in > IN_C0 && c->in[IN_C0];
    const bool want_y = c->n_out > OUT_Y && c->out[OUT_Y];
    const bool want_h = c->n_out > OUT_YH && c->out[OUT_YH];
    const bool want_c = lstm && c->n_out > OUT_YC && c->out[OUT_YC];
    const bool has_p = lstm && c->n_in > IN_P && c->in[IN_P];
    const size_t fsz = sizeof(float), state_bytes = (size_t)(D * N * H) * fsz;

    dnnl_memory_desc_t md[N_ARGS];
    memset(md, 0, sizeof md);
    ortc_status st;
    const dnnl_format_tag_t seq_tag = p->layout ? dnnl_ntc : dnnl_tnc;
    /* oneDNN's dims are logical (T, N, C) in either layout; the tag says
     * which is outer in memory */
    const int64_t src_dims[3] = {T, N, I}, dst_dims[3] = {T, N, D * H};
    const int64_t state_dims[4] = {1, D, N, H};
    const int64_t wl_dims[5] = {1, D, I, G, H}, wi_dims[5] = {1, D, H, G, H};
    const int64_t bias_dims[4] = {1, D, GB, H}, peep_dims[4] = {1, D, 3, H};
    dnnl_memory_desc_t wl_user, wi_user;
    const bool w_const = in_data(c, IN_W), r_const = in_data(c, IN_R);
    if ((st = ortc_dnnl_md_tag(c, &md[A_SRC_LAYER], 3, src_dims, seq_tag)) ||
        (st = ortc_dnnl_md_tag(c, &md[A_DST_LAYER], 3, dst_dims, seq_tag)) ||
        (st = ortc_dnnl_md_tag(c, &wl_user, 5, wl_dims, dnnl_ldigo)) ||
        (st = ortc_dnnl_md_tag(c, &wi_user, 5, wi_dims, dnnl_ldigo)) ||
        (st = ortc_dnnl_md_tag(c, &md[A_BIAS], 4, bias_dims, dnnl_ldgo)))
        return st;
    /* oneDNN chooses the weights' layouts only when both are constant: a
     * chosen (packed) W beside a plain ldigo R gave wrong, run-dependent
     * values (found by graphgen, tests/fuzz/regressions/graphs/
     * ortc-opt-nondeterministic-LSTM-s200); otherwise both stay ldigo and
     * a constant one is packed into ldigo now */
    const bool any_w = w_const && r_const;
    if ((st = any_w ? ortc_dnnl_md_any(c, &md[A_WEIGHTS_LAYER], 5, wl_dims)
                    : ortc_dnnl_md_tag(c, &md[A_WEIGHTS_LAYER], 5, wl_dims, dnnl_ldigo)) ||
        (st = any_w ? ortc_dnnl_md_any(c, &md[A_WEIGHTS_ITER], 5, wi_dims)
                    : ortc_dnnl_md_tag(c, &md[A_WEIGHTS_ITER], 5, wi_dims, dnnl_ldigo)))
        return st;
    if ((has_h0 || has_c0) &&
        ((st = ortc_dnnl_md_tag(c, &md[A_SRC_ITER], 4, state_dims, dnnl_ldnc)) ||
         (lstm && (st = ortc_dnnl_md_tag(c, &md[A_SRC_ITER_C], 4, state_dims, dnnl_ldnc)))))
        return st;
    if ((want_h || want_c) &&
        ((st = ortc_dnnl_md_tag(c, &md[A_DST_ITER], 4, state_dims, dnnl_ldnc)) ||
         (lstm && (st = ortc_dnnl_md_tag(c, &md[A_DST_ITER_C], 4, state_dims, dnnl_ldnc)))))
        return st;
    if (has_p && (st = ortc_dnnl_md_tag(c, &md[A_WEIGHTS_PEEPHOLE], 4, peep_dims, dnnl_ldgo)))
        return st;

    const dnnl_rnn_direction_t dir = D == 2       ? dnnl_bidirectional_concat
                                     : p->reverse ? dnnl_unidirectional_right2left
                                                  : dnnl_unidirectional_left2right;
    const dnnl_memory_desc_t *opt[N_ARGS];
    for (int i = 0; i < N_ARGS; i++)
        opt[i] = md[i].ndims ? &md[i] : NULL;
    dnnl_rnn_desc_t desc;
    switch (p->cell) {
    case ORTC_RNN_LSTM:
        DNNL_CHECK(c, dnnl_lstm_forward_desc_init_v2(
                          &desc, dnnl_forward_inference, dir, opt[A_SRC_LAYER], opt[A_SRC_ITER],
                          opt[A_SRC_ITER_C], opt[A_WEIGHTS_LAYER], opt[A_WEIGHTS_ITER],
                          opt[A_WEIGHTS_PEEPHOLE], opt[A_BIAS], opt[A_DST_LAYER], opt[A_DST_ITER],
                          opt[A_DST_ITER_C], 0));
        break;
    case ORTC_RNN_GRU:
        if (p->lbr)
            DNNL_CHECK(c, dnnl_lbr_gru_forward_desc_init(
                              &desc, dnnl_forward_inference, dir, opt[A_SRC_LAYER], opt[A_SRC_ITER],
                              opt[A_WEIGHTS_LAYER], opt[A_WEIGHTS_ITER], opt[A_BIAS],
                              opt[A_DST_LAYER], opt[A_DST_ITER], 0));
        else
            DNNL_CHECK(c, dnnl_gru_forward_desc_init(
                              &desc, dnnl_forward_inference, dir, opt[A_SRC_LAYER], opt[A_SRC_ITER],
                              opt[A_WEIGHTS_LAYER], opt[A_WEIGHTS_ITER], opt[A_BIAS],
                              opt[A_DST_LAYER], opt[A_DST_ITER], 0));
        break;
    case ORTC_RNN_VANILLA:
        DNNL_CHECK(c, dnnl_vanilla_rnn_forward_desc_init(
                          &desc, dnnl_forward_inference, vanilla_alg, dir, opt[A_SRC_LAYER],
                          opt[A_SRC_ITER], opt[A_WEIGHTS_LAYER], opt[A_WEIGHTS_ITER], opt[A_BIAS],
                          opt[A_DST_LAYER], opt[A_DST_ITER], 0, alpha, 0));
        break;
    }
    dnnl_primitive_desc_t pd = NULL;
    bool unimplemented = false;
    ORTC_TRY(ortc_dnnl_pd_create(c, &pd, &desc, NULL, &unimplemented));
    if (unimplemented) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }

    /* scratch: the op's buffers first, the primitive's scratchpad after */
    size_t used = s->has_work ? s->work + ortc_ref_rnn_work_bytes(p) : 0;
    if (has_h0 || has_c0) {
        s->h0_in =
            arg_state(c, s, A_SRC_ITER, has_h0 && direct_state, FROM_IN, IN_H0, &used, state_bytes);
        if (lstm)
            s->c0_in = arg_state(c, s, A_SRC_ITER_C, has_c0 && direct_state, FROM_IN, IN_C0, &used,
                                 state_bytes);
    }
    arg_io(s, A_SRC_LAYER, FROM_IN, IN_X);
    s->y_out = arg_state(c, s, A_DST_LAYER, want_y && (p->layout == 1 || D == 1), FROM_OUT, OUT_Y,
                         &used, (size_t)(T * N * D * H) * fsz) &&
               want_y;
    if (want_h || want_c) {
        s->yh_out = arg_state(c, s, A_DST_ITER, want_h && direct_state, FROM_OUT, OUT_YH, &used,
                              state_bytes) &&
                    want_h;
        if (lstm)
            s->yc_out = arg_state(c, s, A_DST_ITER_C, want_c && direct_state, FROM_OUT, OUT_YC,
                                  &used, state_bytes) &&
                        want_c;
    }
    /* bias (and peepholes): constant ones (or none) packed now */
    const size_t bias_bytes = (size_t)(D * GB * H) * fsz, peep_bytes = (size_t)(D * 3 * H) * fsz;
    const bool b_given = c->n_in > IN_B && c->in[IN_B];
    if ((st = arg_packed(c, s, A_BIAS, IN_B, b_given, bias_bytes, &used, &s->pack_b, pack_bias,
                         p)) ||
        (has_p && (st = arg_packed(c, s, A_WEIGHTS_PEEPHOLE, IN_P, true, peep_bytes, &used,
                                   &s->pack_p, pack_peepholes, p))))
        goto done;
    s->pack_w = !w_const;
    s->pack_r = !r_const;
    if ((st = bind_weights(c, s, A_WEIGHTS_LAYER, IN_W, I,
                           ortc_dnnl_pd_md(pd, DNNL_ARG_WEIGHTS_LAYER), &wl_user, &used)) ||
        (st = bind_weights(c, s, A_WEIGHTS_ITER, IN_R, H,
                           ortc_dnnl_pd_md(pd, DNNL_ARG_WEIGHTS_ITER), &wi_user, &used)))
        goto done;
    for (int i = 0; i < N_ARGS; i++) {
        if (i == A_WEIGHTS_LAYER || i == A_WEIGHTS_ITER || s->a[i].from == FROM_NONE)
            continue;
        if ((st = ortc_dnnl_step_mem(c, &s->step, dnnl_arg_of[i], &md[i], &s->a[i].mem)))
            goto done;
    }
    s->step.scratch_off = used;
    st = ortc_dnnl_step_create(c, &s->step, pd);
done:
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static ortc_status rnn_prepare(ortc_opctx *c)
{
    rnn_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    c->state = s;
    ortc_status st = rnn_parse(c, &s->p);
    if (st)
        goto fail;
    dnnl_alg_kind_t alg = dnnl_eltwise_tanh;
    float alpha = 0;
    bool full = true;
    const bool seq_given = c->n_in > IN_SEQ && c->in[IN_SEQ];
    if (seq_given && in_data(c, IN_SEQ) && (st = check_lengths(c, &s->p, &full)))
        goto fail;
    s->use_ref = c->in[IN_X]->dtype != ORTC_DTYPE_FLOAT || !full || !c->backend ||
                 !dnnl_expresses(&s->p, &alg, &alpha);
    /* the plain-C kernel's work: always with use_ref; with lengths known
     * only at run, for lengths below T */
    s->has_work = s->use_ref || (seq_given && !in_data(c, IN_SEQ));
    if (s->has_work) {
        size_t used = 0;
        s->work = ortc_dnnl_scratch_take(c, &used, ortc_ref_rnn_work_bytes(&s->p));
    }
    if (!s->use_ref && (st = build_dnnl(c, s, alg, alpha)))
        goto fail;
    return ORTC_STATUS_OK;
fail:
    rnn_release(c);
    return st;
}

/* Binds argument i for this run. */
static ortc_status bind_arg(ortc_opctx *c, rnn_state *s, int i)
{
    const void *data = NULL;
    switch (s->a[i].from) {
    case FROM_NONE: return ORTC_STATUS_OK;
    case FROM_IN: data = c->in[s->a[i].at]->data; break;
    case FROM_OUT: data = c->out[s->a[i].at]->data; break;
    case FROM_SCRATCH: data = ortc_dnnl_scratch_at(c, s->a[i].off); break;
    case FROM_OWNED: data = s->a[i].owned; break;
    }
    return ortc_dnnl_set(c, &s->a[i].mem, data);
}

static float *scratch_arg(const ortc_opctx *c, const rnn_state *s, int i)
{
    return ortc_dnnl_scratch_at(c, s->a[i].off);
}

static ortc_status rnn_run(ortc_opctx *c)
{
    rnn_state *s = c->state;
    const ortc_rnn_params *p = &s->p;
    bool full;
    ORTC_TRY(check_lengths(c, p, &full));
    if (s->use_ref || !full) {
        run_plain(c, p, ortc_dnnl_scratch_at(c, s->work));
        return ORTC_STATUS_OK;
    }
    const int64_t N = p->batch, D = p->dirs, H = p->hidden;
    const size_t state_bytes = (size_t)(D * N * H) * sizeof(float);
    if (s->pack_w)
        pack_ldigo(scratch_arg(c, s, A_WEIGHTS_LAYER), in_data(c, IN_W), p, p->input);
    if (s->pack_r)
        pack_ldigo(scratch_arg(c, s, A_WEIGHTS_ITER), in_data(c, IN_R), p, H);
    if (s->pack_b)
        pack_bias(scratch_arg(c, s, A_BIAS), in_data(c, IN_B), p);
    if (s->pack_p)
        pack_peepholes(scratch_arg(c, s, A_WEIGHTS_PEEPHOLE), in_data(c, IN_P), p);
    for (int k = 0; k < 2; k++) {
        const int arg = k ? A_SRC_ITER_C : A_SRC_ITER, in = k ? IN_C0 : IN_H0;
        if (!(k ? s->c0_in : s->h0_in))
            continue;
        const float *init = in_data(c, in);
        if (init)
            swap_nd(scratch_arg(c, s, arg), init, N, D, H, true);
        else
            memset(scratch_arg(c, s, arg), 0, state_bytes);
    }
    for (int i = 0; i < N_ARGS; i++)
        ORTC_TRY(bind_arg(c, s, i));
    ORTC_TRY(ortc_dnnl_step_run(c, &s->step));
    DNNL_CHECK(c, dnnl_stream_wait(ortc_dnnl_stream(c)));
    if (s->y_out) {
        // (T, N, 2H) -> Y (T, 2, N, H)
        const float *dl = scratch_arg(c, s, A_DST_LAYER);
        float *y = out_data(c, OUT_Y);
        for (int64_t t = 0; t < p->seq; t++)
            swap_nd(y + t * D * N * H, dl + t * N * D * H, N, D, H, true);
    }
    if (s->yh_out)
        swap_nd(out_data(c, OUT_YH), scratch_arg(c, s, A_DST_ITER), N, D, H, false);
    if (s->yc_out)
        swap_nd(out_data(c, OUT_YC), scratch_arg(c, s, A_DST_ITER_C), N, D, H, false);
    return ORTC_STATUS_OK;
}

/* GRU-1 has no linear_before_reset; LSTM-1 / GRU-1/3 / RNN-1 have
 * output_sequence (Y is optional in every version, so it changes nothing);
 * version 14 added `layout`. */
const ortc_operator ortc_ops_rnn[] = {
    ORTC_OP("LSTM", 1, 14, .versions = {1, 7, 14}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT, .infer = rnn_infer, .prepare = rnn_prepare, .run = rnn_run,
            .release = rnn_release, .flops = rnn_flops, .reference = rnn_reference),
    ORTC_OP("GRU", 1, 14, .versions = {1, 3, 7, 14}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT, .infer = rnn_infer, .prepare = rnn_prepare, .run = rnn_run,
            .release = rnn_release, .flops = rnn_flops, .reference = rnn_reference),
    ORTC_OP("RNN", 1, 14, .versions = {1, 7, 14}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT, .infer = rnn_infer, .prepare = rnn_prepare, .run = rnn_run,
            .release = rnn_release, .flops = rnn_flops, .reference = rnn_reference),
};
ORTC_OP_TABLE_END(rnn);
