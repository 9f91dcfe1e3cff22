/* rnn_ref.h — the plain-C reference kernel of ONNX's recurrent operators
 * (LSTM, GRU, RNN) and the description of one node it computes: cell,
 * directions, layout, sizes, activations, clip. Every feature of the spec
 * (peepholes, input_forget, linear_before_reset, sequence_lens, all eleven
 * activations); float32 or float64 data, computed in double. Parsing a node
 * into this description is rnn.c's; the kernel never fails or allocates.
 */
#ifndef ORTC_RNN_REF_H
#define ORTC_RNN_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ortc/ortc.h"

typedef enum ortc_rnn_cell {
    ORTC_RNN_VANILLA, /* RNN: one gate */
    ORTC_RNN_GRU,     /* gates z, r, h (ONNX's order in W, R, B) */
    ORTC_RNN_LSTM     /* gates i, o, f, c */
} ortc_rnn_cell;

/* The activation functions of the spec (alpha and beta as it defines them). */
typedef enum ortc_rnn_act_kind {
    ORTC_RNN_RELU,
    ORTC_RNN_TANH,
    ORTC_RNN_SIGMOID,
    ORTC_RNN_AFFINE,           /* alpha * x + beta */
    ORTC_RNN_LEAKY_RELU,       /* x >= 0 ? x : alpha * x */
    ORTC_RNN_THRESHOLDED_RELU, /* x >= alpha ? x : 0 */
    ORTC_RNN_SCALED_TANH,      /* alpha * tanh(beta * x) */
    ORTC_RNN_HARD_SIGMOID,     /* min(max(alpha * x + beta, 0), 1) */
    ORTC_RNN_ELU,              /* x >= 0 ? x : alpha * (e^x - 1) */
    ORTC_RNN_SOFTSIGN,         /* x / (1 + |x|) */
    ORTC_RNN_SOFTPLUS,         /* log(1 + e^x) */
} ortc_rnn_act_kind;

typedef struct ortc_rnn_act {
    ortc_rnn_act_kind kind;
    float alpha, beta;
} ortc_rnn_act;

/* Activations per direction: f (RNN); f, g (GRU); f, g, h (LSTM). */
#define ORTC_RNN_MAX_ACTS 3

typedef struct ortc_rnn_params {
    ortc_rnn_cell cell;
    int n_gates; /* 1, 3, 4 */
    int n_acts;  /* 1, 2, 3 */
    int dirs;    /* num_directions: 1, or 2 (bidirectional) */
    bool reverse;
    /* 0: X (T, N, I), Y (T, D, N, H), states (D, N, H);
     * 1: X (N, T, I), Y (N, T, D, H), states (N, D, H) */
    int layout;
    int64_t seq, batch, input, hidden;      /* T, N, I, H */
    ortc_rnn_act act[2][ORTC_RNN_MAX_ACTS]; /* [direction][f, g, h] */
    bool has_clip;
    float clip;        /* inputs of activations clamped to [-clip, clip] */
    bool input_forget; /* LSTM: f = 1 - i */
    bool lbr;          /* GRU: linear_before_reset */
} ortc_rnn_params;

/* One run's data, as ONNX lays it out (layout above). Every float pointer
 * has dtype `dtype` (FLOAT or DOUBLE). Optional inputs are NULL when
 * absent (zeros), outputs NULL when not wanted. */
typedef struct ortc_rnn_data {
    ortc_dtype dtype;
    const void *x; /* (T, N, I) or (N, T, I) */
    const void *w; /* (D, G*H, I) */
    const void *r; /* (D, G*H, H) */
    const void *b; /* (D, 2*G*H): Wb then Rb */
    /* (N): each sequence's length, 0..T; NULL: all T. Steps past a
     * sequence's end are not computed: their Y rows are 0, and Y_h / Y_c
     * hold the state after its last step (0 for a length of 0, as ONNX
     * Runtime); the reverse direction starts at its last valid step. */
    const int32_t *seq_lens;
    const void *init_h, *init_c; /* states: (D, N, H) or (N, D, H) */
    const void *p;               /* LSTM peepholes (D, 3*H): i, o, f */
    void *y, *y_h, *y_c;
} ortc_rnn_data;

/* Bytes of work memory ortc_ref_rnn_forward needs (8-byte aligned). */
size_t ortc_ref_rnn_work_bytes(const ortc_rnn_params *p);

/* Computes the outputs of d described by p; `work` has
 * ortc_ref_rnn_work_bytes(p) bytes. sequence lengths must be in 0..T. */
void ortc_ref_rnn_forward(const ortc_rnn_params *p, const ortc_rnn_data *d, double *work);

/* a(x), in double. */
double ortc_rnn_act_apply(ortc_rnn_act a, double x);

#endif /* ORTC_RNN_REF_H */
