/* windows.c — the generator operators of ONNX's signal family (opset 17):
 * HannWindow, HammingWindow, BlackmanWindow (periodic or symmetric, any
 * output_datatype) and MelWeightMatrix (the triangular filter bank of
 * ONNX's definition). Computed in double, stored with Cast's rules
 * (tensor/cast.h). The sizes come from inputs known when compiling.
 */
#include <math.h>
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"
#include "tensor/cast.h"

/* The output dtypes of the generators (T2/T3): numbers, not bool. */
#define WINDOW_OUT_DTYPES (ORTC_DTYPES_NUMERIC | ORTC_DT(BFLOAT16))

/* The `output_datatype` attribute (default float). */
static ortc_status window_out_dtype(ortc_opctx *c, ortc_dtype *dt)
{
    ORTC_TRY(ortc_op_check_attr(c, "output_datatype", ORTC_ATTR_INT));
    int64_t v = ortc_node_attr_int(c->node, "output_datatype", ORTC_DTYPE_FLOAT);
    if (v < 0 || v > 31 || !ortc_dtype_in(WINDOW_OUT_DTYPES, (ortc_dtype)v)) {
        char allowed[256];
        ortc_dtypes_str(allowed, sizeof allowed, WINDOW_OUT_DTYPES);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'output_datatype' is %lld; it must be one of: %s",
                             (long long)v, allowed);
    }
    *dt = (ortc_dtype)v;
    return ORTC_STATUS_OK;
}

/* Input i: a scalar (or one-element) int32/int64 whose value is known when
 * compiling; `what` names it in errors. */
static ortc_status read_count(ortc_opctx *c, int i, const char *what, int64_t min, int64_t *out)
{
    int64_t v[1];
    int n = 0;
    ORTC_TRY(ortc_plain_read_int_list(c, i, what, false, v, 1, &n));
    if (n != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d '%s' (%s) must hold one value",
                             i, ortc_plain_input_name(c, i), what);
    if (v[0] < min)
        return ortc_op_error(c, ortc_plain_value_status(c, i),
                             "input %d '%s' (%s) is %lld; it must be >= %lld", i,
                             ortc_plain_input_name(c, i), what, (long long)v[0], (long long)min);
    *out = v[0];
    return ORTC_STATUS_OK;
}

/* ---- HannWindow, HammingWindow, BlackmanWindow ---------------------------------
 * w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), n = 0..size-1, with
 * N = size when periodic (the default), size - 1 when symmetric. ONNX's
 * function bodies give a symmetric window of size 1 a NaN (0/0); ortc gives
 * 1, as NumPy, SciPy and PyTorch do. */

typedef struct window_coeffs {
    const char *op;
    double a0, a1, a2;
} window_coeffs;

static const window_coeffs window_table[] = {
    {"HannWindow", 0.5, 0.5, 0},
    {"HammingWindow", 25.0 / 46.0, 21.0 / 46.0, 0},
    {"BlackmanWindow", 0.42, 0.5, 0.08},
};

static const window_coeffs *window_of(const ortc_opctx *c)
{
    for (size_t k = 0; k < sizeof window_table / sizeof *window_table; k++)
        if (!strcmp(c->node->op_type, window_table[k].op))
            return &window_table[k];
    return NULL;
}

static ortc_status window_infer(ortc_opctx *c)
{
    ortc_dtype dt;
    int64_t size;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "periodic", ORTC_ATTR_INT));
    ORTC_TRY(window_out_dtype(c, &dt));
    ORTC_TRY(read_count(c, 0, "size", 0, &size));
    if (!window_of(c))
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: no window coefficients");
    ortc_op_set_output(c, 0, dt, 1, &size);
    return ORTC_STATUS_OK;
}

// y: (size)
static ortc_status window_run(ortc_opctx *c)
{
    const window_coeffs *w = window_of(c);
    ortc_tensor *y = c->out[0];
    int64_t size = y->dims[0];
    bool periodic = ortc_node_attr_int(c->node, "periodic", 1) != 0;
    int64_t denom = periodic ? size : size - 1;
    for (int64_t n = 0; n < size; n++) {
        double v = 1.0; /* the symmetric window of size 1 */
        if (denom > 0) {
            double x = 2.0 * M_PI * (double)n / (double)denom;
            v = w->a0 - w->a1 * cos(x) + w->a2 * cos(2.0 * x);
        }
        ortc_scalar_store(y->dtype, y->data, n, ortc_scalar_float(v));
    }
    return ORTC_STATUS_OK;
}

/* ---- MelWeightMatrix ----------------------------------------------------------
 * ONNX's definition (its reference implementation; the text gives only the
 * mel formula): num_mel_bins + 2 points evenly spaced in mel between the
 * edges (step (high - low) / (num_mel_bins + 2)), mapped back to hertz and
 * to spectrogram bins floor((dft_length + 1) * f / sample_rate); band i
 * rises linearly from point i to point i+1 and falls to point i+2, with a
 * peak of 1. The output is [dft_length / 2 + 1, num_mel_bins]. Edges must
 * satisfy 0 <= lower < upper <= sample_rate / 2 (so every band lies in the
 * spectrum). */

static ortc_status mel_infer(ortc_opctx *c)
{
    ortc_dtype dt;
    int64_t bins, dft_len;
    ORTC_TRY(ortc_op_check_arity(c, 5, 5, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_dtypes(c, 1, ORTC_DT(INT32) | ORTC_DT(INT64)));
    ORTC_TRY(ortc_op_check_dtypes(c, 2, ORTC_DT(INT32) | ORTC_DT(INT64)));
    ORTC_TRY(ortc_op_check_dtypes(c, 3, ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DT(BFLOAT16)));
    ORTC_TRY(ortc_op_check_same_dtype(c, 3, 4));
    ORTC_TRY(window_out_dtype(c, &dt));
    ORTC_TRY(read_count(c, 0, "num_mel_bins", 1, &bins));
    ORTC_TRY(read_count(c, 1, "dft_length", 1, &dft_len));
    for (int i = 2; i < 5; i++)
        if (ortc_tensor_numel(c->in[i]) != 1 || c->in[i]->rank > 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d '%s' must be a scalar; it has rank %d", i,
                                 ortc_plain_input_name(c, i), c->in[i]->rank);
    int64_t dims[2] = {dft_len / 2 + 1, bins};
    ortc_op_set_output(c, 0, dt, 2, dims);
    return ortc_plain_check_numel(c, 0);
}

static double hz_to_mel(double f)
{
    return 2595.0 * log10(1.0 + f / 700.0);
}

static double mel_to_hz(double m)
{
    return 700.0 * (pow(10.0, m / 2595.0) - 1.0);
}

static double scalar_of(const ortc_tensor *t)
{
    return ortc_scalar_double(ortc_scalar_load(t->dtype, t->data, 0));
}

// y: (dft_length / 2 + 1, num_mel_bins)
static ortc_status mel_run(ortc_opctx *c)
{
    ortc_tensor *y = c->out[0];
    int64_t n_spec = y->dims[0], n_mel = y->dims[1];
    int64_t dft_len = ortc_tensor_get_int(c->in[1], 0);
    int64_t rate = ortc_tensor_get_int(c->in[2], 0);
    double lo = scalar_of(c->in[3]), hi = scalar_of(c->in[4]);
    if (rate <= 0)
        return ortc_op_error(c, ortc_plain_value_status(c, 2),
                             "input 2 '%s' (sample_rate) is %lld; it must be > 0",
                             ortc_plain_input_name(c, 2), (long long)rate);
    if (!(lo >= 0 && lo < hi && hi <= (double)rate / 2))
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "lower_edge_hertz %g and upper_edge_hertz %g must satisfy 0 <= lower "
                             "< upper <= sample_rate / 2 = %g",
                             lo, hi, (double)rate / 2);
    int64_t total = n_spec * n_mel;
    for (int64_t i = 0; i < total; i++)
        ortc_scalar_store(y->dtype, y->data, i, ortc_scalar_float(0));
    double mlo = hz_to_mel(lo), step = (hz_to_mel(hi) - mlo) / (double)(n_mel + 2);
    /* the band edges as spectrogram bins: point k of n_mel + 2 */
#define MEL_POINT(k)                                                                               \
    ((int64_t)floor((double)(dft_len + 1) * mel_to_hz((double)(k)*step + mlo) / (double)rate))
    for (int64_t i = 0; i < n_mel; i++) {
        int64_t left = MEL_POINT(i), center = MEL_POINT(i + 1), right = MEL_POINT(i + 2);
        /* floor() can put the last edge one past the spectrum when
         * dft_length is odd: those bins do not exist and are left out */
        if (center == left) {
            if (center < n_spec)
                ortc_scalar_store(y->dtype, y->data, center * n_mel + i, ortc_scalar_float(1));
        } else {
            for (int64_t j = left; j <= center && j < n_spec; j++)
                ortc_scalar_store(y->dtype, y->data, j * n_mel + i,
                                  ortc_scalar_float((double)(j - left) / (double)(center - left)));
        }
        for (int64_t j = center; j < right && j < n_spec; j++)
            ortc_scalar_store(y->dtype, y->data, j * n_mel + i,
                              ortc_scalar_float((double)(right - j) / (double)(right - center)));
    }
#undef MEL_POINT
    return ORTC_STATUS_OK;
}

/* ---- table ------------------------------------------------------------------- */

/* dtypes: the size inputs (T1) */
const ortc_operator ortc_ops_windows[] = {
    ORTC_OP("HannWindow", 17, 17, .dtypes = ORTC_DT(INT32) | ORTC_DT(INT64), .data_inputs = 1u << 0,
            .infer = window_infer, .run = window_run),
    ORTC_OP("HammingWindow", 17, 17, .dtypes = ORTC_DT(INT32) | ORTC_DT(INT64),
            .data_inputs = 1u << 0, .infer = window_infer, .run = window_run),
    ORTC_OP("BlackmanWindow", 17, 17, .dtypes = ORTC_DT(INT32) | ORTC_DT(INT64),
            .data_inputs = 1u << 0, .infer = window_infer, .run = window_run),
    ORTC_OP("MelWeightMatrix", 17, 17, .dtypes = ORTC_DT(INT32) | ORTC_DT(INT64),
            .data_inputs = (1u << 0) | (1u << 1), .infer = mel_infer, .run = mel_run),
};
ORTC_OP_TABLE_END(windows);
