/* dft.c — DFT and STFT (opset 17) on fft.h's transforms. Signals are real
 * ([..., 1]) or complex ([..., 2]: re, im) in the last dim; outputs are
 * complex. The transform length (dft_length, frame_length, frame_step) is
 * read when compiling, so prepare builds the FFT plan once and declares
 * the per-run buffers as scratch. Any float dtype, computed in double.
 * Transforms longer than 2^24 points are refused (LIMIT_EXCEEDED).
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fft.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"
#include "tensor/cast.h"

#define SIGNAL_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DT(BFLOAT16))

static inline double load(const ortc_tensor *t, int64_t i)
{
    return ortc_scalar_double(ortc_scalar_load(t->dtype, t->data, i));
}

static inline void store(ortc_tensor *t, int64_t i, double v)
{
    ortc_scalar_store(t->dtype, t->data, i, ortc_scalar_float(v));
}

/* Input i, if present: a one-value int32/int64 known when compiling, >= 1. */
static ortc_status read_length(ortc_opctx *c, int i, const char *what, int64_t *out)
{
    int64_t v[1];
    int n = 0;
    ORTC_TRY(ortc_plain_read_int_list(c, i, what, false, v, 1, &n));
    if (n != 1 || v[0] < 1)
        return ortc_op_error(c, ortc_plain_value_status(c, i),
                             "input %d '%s' (%s) must be one value >= 1; it is %lld", i,
                             ortc_plain_input_name(c, i), what, n == 1 ? (long long)v[0] : -1ll);
    *out = v[0];
    return ORTC_STATUS_OK;
}

/* Input 0's last dim: 1 (real) or 2 (complex). */
static ortc_status check_components(ortc_opctx *c, const char *layout)
{
    const ortc_tensor *x = c->in[0];
    int64_t last = x->dims[x->rank - 1];
    if (last != 1 && last != 2)
        return ortc_op_shape_error(c, 0, NULL, "its last dim must be 1 (real) or 2 (complex): %s",
                                   layout);
    return ORTC_STATUS_OK;
}

/* The kernel state of both ops: the plan for the transform length. */
typedef struct dft_state {
    ortc_fft_plan plan;
} dft_state;

/* The longest transform planned: Bluestein's plan for 2^24 points holds
 * about 1 GB of tables (a 2^25-point FFT's twiddles, chirp and filter). */
#define DFT_MAX_LENGTH (1ll << 24)

static ortc_status dft_prepare_plan(ortc_opctx *c, int64_t n)
{
    if (n > DFT_MAX_LENGTH)
        return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                             "a transform of length %lld is above ortc's limit of %lld (2^24)",
                             (long long)n, DFT_MAX_LENGTH);
    dft_state *s = calloc(1, sizeof *s);
    if (!s || ortc_fft_plan_init(&s->plan, n)) {
        free(s);
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                             "out of memory planning an FFT of length %lld", (long long)n);
    }
    c->state = s;
    /* scratch: the sequence being transformed, then the FFT's work */
    c->scratch_bytes = ((size_t)n * 2 + ortc_fft_work_doubles(&s->plan)) * sizeof(double);
    return ORTC_STATUS_OK;
}

static void dft_release(ortc_opctx *c)
{
    dft_state *s = c->state;
    if (s)
        ortc_fft_plan_free(&s->plan);
    free(s);
    c->state = NULL;
}

/* `onesided` (default def) into *on: an error when set for a complex input
 * 0 (last dim 2), which the spec defines for real input only. DFT and STFT
 * (after their rank checks). */
static ortc_status read_onesided(ortc_opctx *c, int64_t def, bool *on)
{
    ORTC_TRY(ortc_op_check_attr(c, "onesided", ORTC_ATTR_INT));
    const ortc_tensor *x = c->in[0];
    *on = ortc_node_attr_int(c->node, "onesided", def) != 0;
    if (*on && x->dims[x->rank - 1] == 2)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "onesided=1%s needs a real input (last dim 1); input 0 '%s' is "
                             "complex: set onesided=0",
                             def ? " (the default)" : "", ortc_plain_input_name(c, 0));
    return ORTC_STATUS_OK;
}

/* ---- DFT ---------------------------------------------------------------------
 * input (b, s1, ..., sN, 1|2), the transform along `axis` (default 1; from
 * the back when negative, the last dim excluded) of length dft_length
 * (default: that dim; longer zero-pads, shorter truncates); onesided keeps
 * bins 0..n/2 (real input only, as the spec says); inverse divides by n. */

static ortc_status dft_axis(ortc_opctx *c, int *axis)
{
    int rank = c->in[0]->rank;
    int64_t a = ortc_node_attr_int(c->node, "axis", 1);
    int64_t norm = a < 0 ? a + rank : a;
    if (norm < 0 || norm > rank - 2)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'axis' is %lld; for input 0 of rank %d it must be in "
                             "[%d, %d] (the last dim holds the real and imaginary parts)",
                             (long long)a, rank, -rank, rank - 2);
    *axis = (int)norm;
    return ORTC_STATUS_OK;
}

static ortc_status dft_infer(ortc_opctx *c)
{
    int axis;
    ORTC_TRY(ortc_op_check_arity(c, 1, 2, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "inverse", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 2, "batch, signal dims..., 1 or 2"));
    ORTC_TRY(check_components(c, "[batch][signal dims...][1 or 2]"));
    ORTC_TRY(dft_axis(c, &axis));
    const ortc_tensor *x = c->in[0];
    int64_t n = x->dims[axis];
    if (ortc_plain_has_input(c, 1)) {
        ORTC_TRY(ortc_op_check_dtypes(c, 1, ORTC_DT(INT32) | ORTC_DT(INT64)));
        ORTC_TRY(read_length(c, 1, "dft_length", &n));
    } else if (n < 1) {
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "input 0 '%s' has %lld elements along axis %d; a DFT needs >= 1",
                             ortc_plain_input_name(c, 0), (long long)n, axis);
    }
    bool onesided;
    ORTC_TRY(read_onesided(c, 0, &onesided));
    int64_t dims[ORTC_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = onesided ? n / 2 + 1 : n;
    dims[x->rank - 1] = 2;
    ortc_op_set_output(c, 0, x->dtype, x->rank, dims);
    return ortc_plain_check_numel(c, 0);
}

/* The transform length: dft_length, else input 0's dim along the axis. */
static int64_t dft_length(const ortc_opctx *c, int axis)
{
    if (ortc_plain_has_input(c, 1))
        return ortc_tensor_get_int(c->in[1], 0);
    return c->in[0]->dims[axis];
}

static ortc_status dft_prepare(ortc_opctx *c)
{
    int axis;
    ortc_status st = dft_axis(c, &axis);
    return st ? st : dft_prepare_plan(c, dft_length(c, axis));
}

// y: (outer, n_out, inner, 2); x: (outer, len, inner, comps)
static ortc_status dft_run(ortc_opctx *c)
{
    const dft_state *s = c->state;
    const ortc_tensor *x = c->in[0];
    ortc_tensor *y = c->out[0];
    int axis;
    ORTC_TRY(dft_axis(c, &axis));
    int64_t n = s->plan.n, len = x->dims[axis], n_out = y->dims[axis];
    int64_t comps = x->dims[x->rank - 1];
    int64_t outer = ortc_plain_span(x->dims, 0, axis);
    int64_t inner = ortc_plain_span(x->dims, axis + 1, x->rank - 1);
    bool inverse = ortc_node_attr_int(c->node, "inverse", 0) != 0;
    double *seq = c->scratch, *work = seq + 2 * n;
    int64_t take = len < n ? len : n;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            for (int64_t k = 0; k < take; k++) {
                int64_t at = ((o * len + k) * inner + i) * comps;
                seq[2 * k] = load(x, at);
                seq[2 * k + 1] = comps == 2 ? load(x, at + 1) : 0.0;
            }
            memset(seq + 2 * take, 0, (size_t)(n - take) * 2 * sizeof *seq);
            ortc_fft_run(&s->plan, seq, inverse, work);
            for (int64_t k = 0; k < n_out; k++) {
                int64_t at = ((o * n_out + k) * inner + i) * 2;
                store(y, at, seq[2 * k]);
                store(y, at + 1, seq[2 * k + 1]);
            }
        }
    return ORTC_STATUS_OK;
}

/* ---- STFT ----------------------------------------------------------------------
 * signal (batch, length, 1|2), frame_step, optional window (frame_length)
 * and frame_length; output (batch, frames, bins, 2) with frames =
 * (length - frame_length) / frame_step + 1 and bins = frame_length / 2 + 1
 * when onesided (the default; real signals only), else frame_length. */

typedef struct stft_geom {
    int64_t frame_len, step, frames, bins;
} stft_geom;

static ortc_status stft_geometry(ortc_opctx *c, stft_geom *g)
{
    ortc_status st;
    const ortc_tensor *x = c->in[0];
    bool has_window = ortc_plain_has_input(c, 2), has_len = ortc_plain_has_input(c, 3);
    if ((st = ortc_op_check_dtypes(c, 1, ORTC_DT(INT32) | ORTC_DT(INT64))) ||
        (st = read_length(c, 1, "frame_step", &g->step)))
        return st;
    if (has_len && ((st = ortc_op_check_dtypes(c, 3, ORTC_DT(INT32) | ORTC_DT(INT64))) ||
                    (st = read_length(c, 3, "frame_length", &g->frame_len))))
        return st;
    if (has_window) {
        const ortc_tensor *w = c->in[2];
        ORTC_TRY(ortc_op_check_same_dtype(c, 0, 2));
        if (w->rank != 1 || w->dims[0] < 1 || (has_len && w->dims[0] != g->frame_len))
            return ortc_op_shape_error(c, 2, "window", "it must be [frame_length]%s",
                                       has_len ? " as input 3 gives it" : "");
        g->frame_len = w->dims[0];
    } else if (!has_len) {
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "needs input 2 (window) or input 3 (frame_length) for the frame "
                             "length");
    }
    int64_t len = x->dims[1];
    if (len < g->frame_len)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "input 0 '%s' has %lld samples, fewer than one frame (%lld)",
                             ortc_plain_input_name(c, 0), (long long)len, (long long)g->frame_len);
    g->frames = (len - g->frame_len) / g->step + 1;
    bool onesided = ortc_node_attr_int(c->node, "onesided", 1) != 0;
    g->bins = onesided ? g->frame_len / 2 + 1 : g->frame_len;
    return ORTC_STATUS_OK;
}

static ortc_status stft_infer(ortc_opctx *c)
{
    stft_geom g;
    ORTC_TRY(ortc_op_check_arity(c, 2, 4, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    const ortc_tensor *x = c->in[0];
    if (x->rank != 3)
        return ortc_op_shape_error(c, 0, "signal", "STFT needs [batch][length][1 or 2]");
    ORTC_TRY(check_components(c, "[batch][length][1 or 2]"));
    bool onesided;
    ORTC_TRY(read_onesided(c, 1, &onesided));
    ORTC_TRY(stft_geometry(c, &g));
    int64_t dims[4] = {x->dims[0], g.frames, g.bins, 2};
    ortc_op_set_output(c, 0, x->dtype, 4, dims);
    return ortc_plain_check_numel(c, 0);
}

static ortc_status stft_prepare(ortc_opctx *c)
{
    stft_geom g;
    ortc_status st = stft_geometry(c, &g);
    return st ? st : dft_prepare_plan(c, g.frame_len);
}

// y: (batch, frames, bins, 2); x: (batch, length, comps); window: (frame_length)
static ortc_status stft_run(ortc_opctx *c)
{
    const dft_state *s = c->state;
    const ortc_tensor *x = c->in[0];
    const ortc_tensor *w = ortc_plain_has_input(c, 2) ? c->in[2] : NULL;
    ortc_tensor *y = c->out[0];
    stft_geom g;
    ORTC_TRY(stft_geometry(c, &g));
    int64_t batch = x->dims[0], len = x->dims[1], comps = x->dims[2], n = g.frame_len;
    double *seq = c->scratch, *work = seq + 2 * n;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t f = 0; f < g.frames; f++) {
            for (int64_t k = 0; k < n; k++) {
                int64_t at = (b * len + f * g.step + k) * comps;
                double wk = w ? load(w, k) : 1.0;
                seq[2 * k] = load(x, at) * wk;
                seq[2 * k + 1] = comps == 2 ? load(x, at + 1) * wk : 0.0;
            }
            ortc_fft_run(&s->plan, seq, false, work);
            for (int64_t k = 0; k < g.bins; k++) {
                int64_t at = ((b * g.frames + f) * g.bins + k) * 2;
                store(y, at, seq[2 * k]);
                store(y, at + 1, seq[2 * k + 1]);
            }
        }
    return ORTC_STATUS_OK;
}

/* ---- table ------------------------------------------------------------------------ */

/* dtypes: the signal (input 0) */
const ortc_operator ortc_ops_dft[] = {
    ORTC_OP("DFT", 17, 17, .dtypes = SIGNAL_DTYPES, .data_inputs = 1u << 1, .infer = dft_infer,
            .prepare = dft_prepare, .run = dft_run, .release = dft_release),
    ORTC_OP("STFT", 17, 17, .dtypes = SIGNAL_DTYPES, .data_inputs = (1u << 1) | (1u << 3),
            .infer = stft_infer, .prepare = stft_prepare, .run = stft_run, .release = dft_release),
};
ORTC_OP_TABLE_END(dft);
