/* test_ops_signal.c — Check runner for the numeric operators of the wave-2
 * families: the FFT (operators/signal/fft.h) against a direct DFT in long
 * double, DFT/STFT/windows/MelWeightMatrix, the two losses and the random
 * generators, the training optimizers, against hand-derived values (in the comments), the ONNX
 * spec's own examples, plain loops written here, and statistics. numpy's
 * outputs for random lengths and shapes: tests/python/test_ops_numpy.py.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_cases.h"
#include "helper_common.h"
#include "helper_ops.h"
#include "plain_util.h"
#include "random/philox.h"
#include "signal/fft.h"

/* ---- FFT ------------------------------------------------------------------------- */

/* X[k] = sum_j x[j] e^(-+2 pi i jk/n) (/n when inverse), in long double with
 * the angle reduced exactly (jk mod n, from a table of the n roots of
 * unity): the reference the FFT must meet. */
static void direct_dft(const double *x, double *out, int64_t n, bool inverse)
{
    long double *cs = malloc((size_t)n * 2 * sizeof *cs);
    for (int64_t m = 0; m < n; m++) {
        long double a = (inverse ? 2 : -2) * 3.14159265358979323846264338327950288L *
                        (long double)m / (long double)n;
        cs[2 * m] = cosl(a);
        cs[2 * m + 1] = sinl(a);
    }
    for (int64_t k = 0; k < n; k++) {
        long double re = 0, im = 0;
        for (int64_t j = 0; j < n; j++) {
            const long double *w = cs + 2 * ((j * k) % n);
            re += x[2 * j] * w[0] - x[2 * j + 1] * w[1];
            im += x[2 * j] * w[1] + x[2 * j + 1] * w[0];
        }
        out[2 * k] = (double)(inverse ? re / n : re);
        out[2 * k + 1] = (double)(inverse ? im / n : im);
    }
    free(cs);
}

START_TEST(test_fft_every_length)
{
    /* every length 1..70, primes, prime powers, powers of two and mixed
     * sizes: the FFT (radix-2 or Bluestein) must equal the direct sum to
     * 1e-13 of the largest output, forward and inverse */
    int64_t lens[90];
    int nl = 0;
    for (int64_t n = 1; n <= 70; n++)
        lens[nl++] = n;
    const int64_t more[] = {97, 121, 127, 128, 243, 255, 256, 257, 360, 509, 512, 1000, 1009};
    for (size_t i = 0; i < sizeof more / sizeof *more; i++)
        lens[nl++] = more[i];
    uint64_t seed = 7;
    for (int li = 0; li < nl; li++) {
        int64_t n = lens[li];
        ortc_fft_plan p;
        ck_assert_int_eq(ortc_fft_plan_init(&p, n), 0);
        ck_assert_int_eq(p.bluestein, (n & (n - 1)) != 0);
        float *r = rand_f32(2 * n, -1, 1, &seed);
        double *x = malloc((size_t)(2 * n) * sizeof *x), *got = malloc((size_t)(2 * n) * sizeof *x);
        double *want = malloc((size_t)(2 * n) * sizeof *x);
        double *work = malloc((ortc_fft_work_doubles(&p) + 1) * sizeof *work);
        for (int inv = 0; inv <= 1; inv++) {
            for (int64_t k = 0; k < 2 * n; k++)
                x[k] = got[k] = r[k];
            ortc_fft_run(&p, got, inv, work);
            direct_dft(x, want, n, inv);
            double worst = 0, scale = 0;
            for (int64_t k = 0; k < 2 * n; k++) {
                worst = fmax(worst, fabs(got[k] - want[k]));
                scale = fmax(scale, fabs(want[k]));
            }
            ck_assert_msg(worst <= 1e-13 * fmax(scale, 1e-300), "n=%lld %s: max error %g of %g",
                          (long long)n, inv ? "inverse" : "forward", worst, scale);
        }
        free(r);
        free(x);
        free(got);
        free(want);
        free(work);
        ortc_fft_plan_free(&p);
    }
}
END_TEST

START_TEST(test_fft_plan_limits)
{
    ortc_fft_plan p;
    ck_assert_int_eq(ortc_fft_plan_init(&p, 0), -1);
    ortc_fft_plan_free(&p); /* an empty plan frees */
    ck_assert_int_eq(ortc_fft_plan_init(&p, -3), -1);
    /* n = 1: the identity, no work space */
    ck_assert_int_eq(ortc_fft_plan_init(&p, 1), 0);
    ck_assert_uint_eq(ortc_fft_work_doubles(&p), 0);
    double x[2] = {3, -4};
    ortc_fft_run(&p, x, true, NULL);
    ck_assert(x[0] == 3 && x[1] == -4);
    ortc_fft_plan_free(&p);
}
END_TEST

/* ---- DFT -------------------------------------------------------------------------- */

static op_case *dft_case(int rank, const int64_t *dims, const float *x, int64_t axis, int inverse,
                         int onesided)
{
    op_case *c = opc_new("DFT", 17, 1, 1);
    opc_input(c, 0, F32, rank, dims, x, false);
    opc_attr_int(c, "axis", axis);
    if (inverse)
        opc_attr_int(c, "inverse", 1);
    if (onesided)
        opc_attr_int(c, "onesided", 1);
    return c;
}

START_TEST(test_dft_hand)
{
    /* x = [1, 2, 3, 4] real, as [1][4][1]. X[k] = sum x_j (-i)^(jk):
     * X0 = 10, X1 = 1 - 2i - 3 + 4i = -2 + 2i, X2 = 1 - 2 + 3 - 4 = -2,
     * X3 = -2 - 2i. onesided keeps X0..X2. */
    float x[] = {1, 2, 3, 4};
    int64_t d[] = {1, 4, 1};
    float full[] = {10, 0, -2, 2, -2, 0, -2, -2};
    op_case *c = dft_case(3, d, x, 1, 0, 0);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    int64_t od[] = {1, 4, 2};
    expect_shape(&c->out[0], F32, 3, od, "DFT");
    assert_close_x(c->out[0].data, full, NULL, 8, 1e-6, 1e-6, "DFT [1,2,3,4]");
    opc_free(c);
    c = dft_case(3, d, x, -2, 0, 1); /* axis -2 is axis 1 of rank 3 */
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    int64_t hd[] = {1, 3, 2};
    expect_shape(&c->out[0], F32, 3, hd, "onesided DFT");
    assert_close_x(c->out[0].data, full, NULL, 6, 1e-6, 1e-6, "onesided DFT");
    opc_free(c);
    /* the inverse of X (complex, [1][4][2]) is x again, imaginary parts 0 */
    c = dft_case(3, od, full, 1, 1, 0);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    float back[] = {1, 0, 2, 0, 3, 0, 4, 0};
    assert_close_x(c->out[0].data, back, NULL, 8, 1e-6, 1e-6, "inverse DFT");
    opc_free(c);
}
END_TEST

START_TEST(test_dft_length_and_axis)
{
    /* x: [2][3][1], batches [1,2,3] and [4,5,6]; along axis 1, dft_length
     * 4 zero-pads: [1,2,3,0] -> X0 = 6,
     * X1 = 1 - 2i - 3 = -2 - 2i, X2 = 1 - 2 + 3 = 2, X3 = -2 + 2i; the
     * second batch [4,5,6,0]: 15, -2-5i, 5, -2+5i. dft_length 2 truncates
     * to [1,2] -> 3, -1 and [4,5] -> 9, -1. */
    float x[] = {1, 2, 3, 4, 5, 6};
    int64_t d[] = {2, 3, 1}, one = 1;
    static const int64_t n4 = 4, n2 = 2;
    float pad[] = {6, 0, -2, -2, 2, 0, -2, 2, 15, 0, -2, -5, 5, 0, -2, 5};
    float cut[] = {3, 0, -1, 0, 9, 0, -1, 0};
    for (int k = 0; k < 2; k++) {
        op_case *c = opc_new("DFT", 17, 2, 1);
        opc_input(c, 0, F32, 3, d, x, false);
        opc_input(c, 1, I64, 0, &one, k ? &n2 : &n4, true);
        ck_assert_int_eq(opc_run(c, 1, 1), OK);
        int64_t od[] = {2, k ? 2 : 4, 2};
        expect_shape(&c->out[0], F32, 3, od, "DFT dft_length");
        assert_close_x(c->out[0].data, k ? cut : pad, NULL, k ? 8 : 16, 1e-6, 1e-6,
                       "DFT dft_length");
        opc_free(c);
    }
    /* float64 and float16 in, the same dtype out (the hand example above) */
    double xd[] = {1, 2, 3, 4};
    int64_t d1[] = {1, 4, 1};
    float want[] = {10, 0, -2, 2, -2, 0, -2, -2}, got[8];
    op_case *c = opc_new("DFT", 17, 1, 1);
    opc_input(c, 0, F64, 3, d1, xd, false);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert_int_eq(c->out[0].dtype, F64);
    for (int k = 0; k < 8; k++)
        got[k] = (float)((double *)c->out[0].data)[k];
    assert_close_x(got, want, NULL, 8, 1e-7, 1e-7, "DFT float64");
    opc_free(c);
    uint16_t xh[] = {0x3c00, 0x4000, 0x4200, 0x4400}; /* 1 2 3 4 */
    c = opc_new("DFT", 17, 1, 1);
    opc_input(c, 0, F16, 3, d1, xh, false);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert_int_eq(c->out[0].dtype, F16);
    for (int k = 0; k < 8; k++)
        got[k] = ortc_f16_to_float(((uint16_t *)c->out[0].data)[k]);
    assert_close_x(got, want, NULL, 8, 1e-3, 1e-3, "DFT float16");
    opc_free(c);
}
END_TEST

START_TEST(test_dft_errors)
{
    float x[8] = {0};
    int64_t d[] = {1, 4, 2}, d1[] = {8}, d3[] = {1, 4, 3};
    /* the last dim holds re/im: not an axis */
    op_case *c = dft_case(3, d, x, 2, 0, 0);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "must be in [-3, 1]", "axis on re/im");
    opc_free(c);
    c = dft_case(3, d, x, -1, 0, 0);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'axis' is -1", "axis -1");
    opc_free(c);
    /* onesided needs a real input */
    c = dft_case(3, d, x, 1, 0, 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "onesided=1 needs a real input", "onesided");
    opc_free(c);
    c = dft_case(1, d1, x, 0, 0, 0);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank", "rank 1");
    opc_free(c);
    c = dft_case(3, d3, x, 1, 0, 0);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "last dim must be 1 (real) or 2", "3 parts");
    opc_free(c);
    /* dft_length: known when compiling, >= 1 */
    int64_t one = 1, zero = 0;
    c = opc_new("DFT", 17, 2, 1);
    opc_input(c, 0, F32, 3, d, x, false);
    opc_input(c, 1, I64, 0, &one, &one, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "only known at run time", "dft_length at run time");
    opc_free(c);
    c = opc_new("DFT", 17, 2, 1);
    opc_input(c, 0, F32, 3, d, x, false);
    opc_input(c, 1, I64, 0, &one, &zero, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "(dft_length) must be one value >= 1", "0");
    opc_free(c);
    /* lengths above 2^24 are refused before any table is built */
    static const int64_t huge = (1 << 24) + 1;
    c = opc_new("DFT", 17, 2, 1);
    opc_input(c, 0, F32, 3, d, x, false);
    opc_input(c, 1, I64, 0, &one, &huge, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_LIMIT_EXCEEDED,
                  "length 16777217 is above ortc's limit of 16777216");
    opc_free(c);
}
END_TEST

/* ---- STFT -------------------------------------------------------------------------- */

START_TEST(test_stft_hand)
{
    /* signal 0..7 ([1][8][1]), frame_step 2, frame_length 4: frames
     * (8 - 4)/2 + 1 = 3, frame f = [2f, 2f+1, 2f+2, 2f+3]; onesided bins
     * X0 = 8f + 6, X1 = (x0 - x2) + i(x3 - x1) = -2 + 2i, X2 = x0 - x1 +
     * x2 - x3 = -2. With window [0, 1, 1, 0] the frame is [0, x1, x2, 0]:
     * X0 = 4f + 3, X1 = -x2 - i x1 = -(2f+2) - (2f+1)i, X2 = x2 - x1 = 1. */
    float sig[8];
    iota_f32(sig, 8);
    int64_t sd[] = {1, 8, 1}, one = 1, wd[] = {4};
    static const int64_t step = 2, len = 4;
    float win[] = {0, 1, 1, 0};
    float plain[24], windowed[24];
    for (int f = 0; f < 3; f++) {
        float a[] = {8.0f * f + 6, 0, -2, 2, -2, 0};
        float b[] = {4.0f * f + 3, 0, -(2.0f * f + 2), -(2.0f * f + 1), 1, 0};
        memcpy(plain + 6 * f, a, sizeof a);
        memcpy(windowed + 6 * f, b, sizeof b);
    }
    int64_t od[] = {1, 3, 3, 2};
    for (int w = 0; w < 2; w++) {
        op_case *c = opc_new("STFT", 17, 4, 1);
        opc_input(c, 0, F32, 3, sd, sig, false);
        opc_input(c, 1, I64, 0, &one, &step, true);
        if (w)
            opc_input(c, 2, F32, 1, wd, win, false);
        else
            opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        opc_input(c, 3, I64, 0, &one, &len, true);
        ck_assert_int_eq(opc_run(c, 1, 1), OK);
        expect_shape(&c->out[0], F32, 4, od, "STFT");
        assert_close_x(c->out[0].data, w ? windowed : plain, NULL, 18, 1e-6, 1e-5, "STFT");
        opc_free(c);
    }
    /* onesided=0: all 4 bins; X3 = conj(X1) for a real frame */
    op_case *c = opc_new("STFT", 17, 4, 1);
    opc_attr_int(c, "onesided", 0);
    opc_input(c, 0, F32, 3, sd, sig, false);
    opc_input(c, 1, I64, 0, &one, &step, true);
    opc_input(c, 2, F32, 1, wd, win, false);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    int64_t fd[] = {1, 3, 4, 2};
    expect_shape(&c->out[0], F32, 4, fd, "two-sided STFT");
    const float *y = c->out[0].data;
    for (int f = 0; f < 3; f++)
        ck_assert(fabsf(y[f * 8 + 6] - y[f * 8 + 2]) < 1e-5f &&
                  fabsf(y[f * 8 + 7] + y[f * 8 + 3]) < 1e-5f);
    opc_free(c);
}
END_TEST

START_TEST(test_stft_errors)
{
    float sig[16] = {0}, win[5] = {0};
    int64_t sd[] = {1, 8, 1}, cd[] = {1, 8, 2}, one = 1, w5[] = {5};
    static const int64_t step = 2, len = 4, big = 9;
    struct {
        const int64_t *sdims, *len;
        bool window;
        const char *needle;
    } cases[] = {
        {sd, NULL, false, "needs input 2 (window) or input 3 (frame_length)"},
        {sd, &len, true, "it must be [frame_length] as input 3 gives it"},
        {sd, &big, false, "has 8 samples, fewer than one frame (9)"},
        {cd, &len, false, "onesided=1 (the default) needs a real input"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        op_case *c = opc_new("STFT", 17, 4, 1);
        opc_input(c, 0, F32, 3, cases[k].sdims, sig, false);
        opc_input(c, 1, I64, 0, &one, &step, true);
        if (cases[k].window)
            opc_input(c, 2, F32, 1, w5, win, false);
        else
            opc_input(c, 2, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        if (cases[k].len)
            opc_input(c, 3, I64, 0, &one, cases[k].len, true);
        else
            opc_input(c, 3, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
        expect_error(c,
                     cases[k].sdims == sd && k == 2 ? ORTC_STATUS_INVALID_ARGUMENT
                                                    : ORTC_STATUS_INVALID_MODEL,
                     cases[k].needle, "STFT error");
        opc_free(c);
    }
}
END_TEST

/* ---- windows and MelWeightMatrix ---------------------------------------------------- */

static void window_case(const char *op, int64_t size, int periodic, ortc_dtype out,
                        const void *want, int64_t n)
{
    int64_t one = 1;
    op_case *c = opc_new(op, 17, 1, 1);
    opc_input(c, 0, I64, 0, &one, &size, true);
    if (periodic >= 0)
        opc_attr_int(c, "periodic", periodic);
    if (out != ORTC_DTYPE_UNDEFINED)
        opc_attr_int(c, "output_datatype", out);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], out == ORTC_DTYPE_UNDEFINED ? F32 : out, 1, &n, op);
    if (out == I64)
        expect_data(&c->out[0], I64, want, n, op);
    else
        assert_close_x(c->out[0].data, want, NULL, n, 1e-6, 1e-7, op);
    opc_free(c);
}

START_TEST(test_windows_hand)
{
    /* w[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size
     * (periodic) or size - 1: cos(2 pi n/4) = 1, 0, -1, 0 and cos(4 pi n/4)
     * = 1, -1, 1, -1. Hann (.5, .5): 0, .5, 1, .5. Hamming (25/46, 21/46):
     * 4/46, 25/46, 1, 25/46. Blackman (.42, .5, .08): 0, .34, 1, .34. */
    float hann[] = {0, 0.5f, 1, 0.5f}, hamm[] = {4.0f / 46, 25.0f / 46, 1, 25.0f / 46};
    float black[] = {0, 0.34f, 1, 0.34f};
    window_case("HannWindow", 4, -1, ORTC_DTYPE_UNDEFINED, hann, 4);
    window_case("HammingWindow", 4, 1, ORTC_DTYPE_UNDEFINED, hamm, 4);
    window_case("BlackmanWindow", 4, -1, ORTC_DTYPE_UNDEFINED, black, 4);
    /* symmetric size 5 is the periodic window of 4 with its first point
     * repeated at the end */
    float hann5[] = {0, 0.5f, 1, 0.5f, 0};
    window_case("HannWindow", 5, 0, ORTC_DTYPE_UNDEFINED, hann5, 5);
    /* output_datatype int64: Cast's truncation */
    int64_t hann_i[] = {0, 0, 1, 0};
    window_case("HannWindow", 4, 1, I64, hann_i, 4);
    /* symmetric of size 1 is [1] (NumPy, SciPy, PyTorch); size 0 is empty */
    float one_pt[] = {1};
    window_case("BlackmanWindow", 1, 0, ORTC_DTYPE_UNDEFINED, one_pt, 1);
    window_case("HannWindow", 0, 1, ORTC_DTYPE_UNDEFINED, NULL, 0);
    /* errors: negative size, size unknown when compiling, bad dtype */
    int64_t one = 1, neg = -2;
    op_case *c = opc_new("HannWindow", 17, 1, 1);
    opc_input(c, 0, I64, 0, &one, &neg, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "(size) is -2; it must be >= 0", "size -2");
    opc_free(c);
    c = opc_new("HannWindow", 17, 1, 1);
    opc_input(c, 0, I64, 0, &one, &one, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "only known at run time", "size at run time");
    opc_free(c);
    c = opc_new("HammingWindow", 17, 1, 1);
    opc_input(c, 0, I64, 0, &one, &one, true);
    opc_attr_int(c, "output_datatype", ORTC_DTYPE_STRING);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "'output_datatype' is 8", "string window");
    opc_free(c);
}
END_TEST

START_TEST(test_mel_onnx_example)
{
    /* MelWeightMatrix's ONNX example (its expected output, printed in
     * onnx/backend/test/case/node/melweightmatrix.py): 8 bands, dft_length
     * 16, 8192 Hz, 0..4096 Hz -> 9 x 8, bands 0 and 1 peaking at bins 0/1
     * and 1/2 as written there, ones on the diagonal below. */
    static const float want[9][8] = {{1, 1, 0, 0, 0, 0, 0, 0},
                                     {0, 0, 1, 1, 0, 0, 0, 0},
                                     {0, 0, 0, 0, 1, 0, 0, 0},
                                     {0, 0, 0, 0, 0, 1, 0, 0},
                                     {0, 0, 0, 0, 0, 0, 1, 0},
                                     {0, 0, 0, 0, 0, 0, 0, 1},
                                     {0},
                                     {0},
                                     {0}};
    int32_t bins = 8, dft = 16, rate = 8192;
    float lo = 0, hi = 4096;
    int64_t one = 1;
    op_case *c = opc_new("MelWeightMatrix", 17, 5, 1);
    opc_input(c, 0, I32, 0, &one, &bins, true);
    opc_input(c, 1, I32, 0, &one, &dft, true);
    opc_input(c, 2, I32, 0, &one, &rate, false);
    opc_input(c, 3, F32, 0, &one, &lo, false);
    opc_input(c, 4, F32, 0, &one, &hi, false);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    int64_t od[] = {9, 8};
    expect_shape(&c->out[0], F32, 2, od, "MelWeightMatrix");
    expect_data(&c->out[0], F32, want, 72, "MelWeightMatrix");
    opc_free(c);
    /* an upper edge above Nyquist is refused at run */
    hi = 5000;
    c = opc_new("MelWeightMatrix", 17, 5, 1);
    opc_input(c, 0, I32, 0, &one, &bins, true);
    opc_input(c, 1, I32, 0, &one, &dft, true);
    opc_input(c, 2, I32, 0, &one, &rate, false);
    opc_input(c, 3, F32, 0, &one, &lo, false);
    opc_input(c, 4, F32, 0, &one, &hi, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "upper <= sample_rate / 2 = 4096", "Nyquist");
    opc_free(c);
}
END_TEST

/* ---- losses -------------------------------------------------------------------------- */

static op_case *loss_case(const char *op, const char *reduction, int rank, const int64_t *xd,
                          const float *x, const int64_t *t, const float *w, int n_out)
{
    op_case *c = opc_new(op, 13, w ? 3 : 2, n_out);
    if (reduction)
        opc_attr_string(c, "reduction", reduction);
    opc_input(c, 0, F32, rank, xd, x, false);
    int64_t td[ORTC_MAX_RANK];
    td[0] = xd[0];
    for (int d = 2; d < rank; d++)
        td[d - 1] = xd[d];
    opc_input(c, 1, I64, rank - 1, td, t, false);
    if (w) {
        int64_t cd = xd[1];
        opc_input(c, 2, F32, 1, &cd, w, false);
    }
    return c;
}

START_TEST(test_nll_spec_examples)
{
    /* the three examples of the NegativeLogLikelihoodLoss spec: N, C, d1 =
     * 2, 3, 2; none -> [[-3, -2], [-0, -2]]; weights [.2, .3, .1], sum ->
     * -1.1; mean -> -1.1 / (.1 + .3 + .2 + .1) = -1.5714 (the spec prints
     * it rounded, -1.57) */
    float x[] = {1, 2, 2, 2, 3, 2, 0, 1, 2, 2, 1, 2};
    int64_t t[] = {2, 1, 0, 2}, xd[] = {2, 3, 2};
    float w[] = {0.2f, 0.3f, 0.1f};
    op_case *c = loss_case("NegativeLogLikelihoodLoss", "none", 3, xd, x, t, NULL, 1);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    float none[] = {-3, -2, -0.0f, -2};
    int64_t nd[] = {2, 2};
    expect_shape(&c->out[0], F32, 2, nd, "none");
    assert_close_x(c->out[0].data, none, NULL, 4, 1e-6, 1e-7, "none");
    opc_free(c);
    c = loss_case("NegativeLogLikelihoodLoss", "sum", 3, xd, x, t, w, 1);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F32, 0, NULL, "sum");
    float sum = -1.1f, mean = (float)(-1.1 / 0.7);
    assert_close_x(c->out[0].data, &sum, NULL, 1, 1e-6, 1e-7, "sum");
    opc_free(c);
    c = loss_case("NegativeLogLikelihoodLoss", NULL, 3, xd, x, t, w, 1); /* default mean */
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    assert_close_x(c->out[0].data, &mean, NULL, 1, 1e-6, 1e-7, "mean");
    opc_free(c);
    /* ignore_index 2: the two class-2 targets drop out; the others (targets
     * 1 and 0) lose -2 and -0, so the mean is -1 */
    c = loss_case("NegativeLogLikelihoodLoss", "mean", 3, xd, x, t, NULL, 1);
    opc_attr_int(c, "ignore_index", 2);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    float ii = -1;
    assert_close_x(c->out[0].data, &ii, NULL, 1, 1e-6, 1e-7, "ignore_index mean");
    opc_free(c);
    /* everything ignored: mean is 0/0 = NaN (PyTorch and numpy too) */
    int64_t all2[] = {2, 2, 2, 2};
    c = loss_case("NegativeLogLikelihoodLoss", "mean", 3, xd, x, all2, NULL, 1);
    opc_attr_int(c, "ignore_index", 2);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert(isnan(((float *)c->out[0].data)[0]));
    opc_free(c);
}
END_TEST

START_TEST(test_sce_hand)
{
    /* scores [1, 2, 3] (N = 1, C = 3), label 2: log_softmax = x - lse, lse =
     * 3 + ln(1 + e^-1 + e^-2) = 3.4076059644; loss = lse - 3. */
    float x[] = {1, 2, 3};
    int64_t t[] = {2}, xd[] = {1, 3};
    op_case *c = loss_case("SoftmaxCrossEntropyLoss", "none", 2, xd, x, t, NULL, 2);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    double lse = 3 + log(1 + exp(-1.0) + exp(-2.0));
    float loss = (float)(lse - 3), lp[] = {(float)(1 - lse), (float)(2 - lse), (float)(3 - lse)};
    int64_t one = 1;
    expect_shape(&c->out[0], F32, 1, &one, "SCE loss");
    assert_close_x(c->out[0].data, &loss, NULL, 1, 1e-6, 1e-7, "SCE loss");
    expect_shape(&c->out[1], F32, 2, xd, "SCE log_prob");
    assert_close_x(c->out[1].data, lp, NULL, 3, 1e-6, 1e-7, "SCE log_prob");
    opc_free(c);
}
END_TEST

/* A plain loop of the losses' definitions for (N, C, D) with weights and
 * ignore_index, in double: the reference for the rank-5 case below. */
static double loss_reference(bool sce, const float *x, const int64_t *t, const float *w, int64_t n,
                             int64_t nc, int64_t nd, int64_t ii, int red /* 0 none 1 sum 2 mean */,
                             double *per)
{
    double sum = 0, wsum = 0;
    for (int64_t b = 0; b < n; b++)
        for (int64_t d = 0; d < nd; d++) {
            int64_t k = t[b * nd + d];
            double l = 0, wt = 0;
            if (k != ii) {
                double v = x[(b * nc + k) * nd + d];
                if (sce) {
                    double m = -INFINITY, s = 0;
                    for (int64_t j = 0; j < nc; j++)
                        m = fmax(m, x[(b * nc + j) * nd + d]);
                    for (int64_t j = 0; j < nc; j++)
                        s += exp(x[(b * nc + j) * nd + d] - m);
                    v = v - m - log(s);
                }
                wt = w ? w[k] : 1;
                l = -v * wt;
            }
            per[b * nd + d] = l;
            sum += l;
            wsum += wt;
        }
    return red == 1 ? sum : red == 2 ? sum / wsum : 0;
}

START_TEST(test_losses_rank5)
{
    /* (N, C, d1, d2, d3) = (2, 4, 2, 3, 2), random scores, targets with
     * some ignore_index (-1) entries, weights: both ops, all reductions,
     * against loss_reference */
    int64_t xd[] = {2, 4, 2, 3, 2}, n = 2, nc = 4, nd = 12;
    uint64_t seed = 11;
    float *x = rand_f32(n * nc * nd, -3, 3, &seed);
    int64_t t[24];
    for (int i = 0; i < 24; i++)
        t[i] = i % 7 == 3 ? -1 : (i * 5 + 1) % 4;
    float w[] = {0.5f, 2, 1, 0.25f};
    const char *reds[] = {"none", "sum", "mean"};
    for (int sce = 0; sce < 2; sce++)
        for (int r = 0; r < 3; r++) {
            double per[24];
            double red = loss_reference(sce, x, t, w, n, nc, nd, -1, r, per);
            op_case *c = loss_case(sce ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss",
                                   reds[r], 5, xd, x, t, w, 1);
            opc_attr_int(c, "ignore_index", -1);
            ck_assert_int_eq(opc_run(c, 1, 1), OK);
            float want[24];
            for (int i = 0; i < 24; i++)
                want[i] = (float)(r ? red : per[i]);
            assert_close_x(c->out[0].data, want, NULL, r ? 1 : 24, 1e-5, 1e-6, reds[r]);
            opc_free(c);
        }
    free(x);
}
END_TEST

START_TEST(test_loss_errors)
{
    float x[6] = {0};
    int64_t xd[] = {2, 3}, bad_t[] = {0, 3};
    op_case *c = loss_case("NegativeLogLikelihoodLoss", "none", 2, xd, x, bad_t, NULL, 1);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "holds 3 at element 1; classes are 0..2",
                 "target out of range");
    opc_free(c);
    int64_t t[] = {0, 1};
    c = loss_case("SoftmaxCrossEntropyLoss", "avg", 2, xd, x, t, NULL, 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "must be none, sum or mean", "reduction");
    opc_free(c);
    float w[2] = {1, 1};
    c = opc_new("NegativeLogLikelihoodLoss", 13, 3, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, xd, t, false);
    int64_t two = 2;
    opc_input(c, 2, F32, 1, &two, w, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "must be [C] = [3]", "weight shape");
    opc_free(c);
    int64_t td[] = {3};
    c = opc_new("NegativeLogLikelihoodLoss", 13, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, td, t, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "(N, d1, ..., dk)", "target shape");
    opc_free(c);
}
END_TEST

/* ---- random ------------------------------------------------------------------------------ */

START_TEST(test_philox_numpy_vectors)
{
    /* numpy.random.Philox (Philox4x64-10) with key 0: random_raw() after
     * counter=[2^64-1]*4 (wrapping to 0) and after counter 0 (stepping to
     * 1) gave these words (numpy 1.24, Debian 12) */
    uint64_t key[2] = {0, 0}, out[4];
    uint64_t c0[4] = {0, 0, 0, 0}, c1[4] = {1, 0, 0, 0};
    const uint64_t w0[4] = {0x16554d9eca36314cull, 0xdb20fe9d672d0fdcull, 0xd7e772cee186176bull,
                            0x7e68b68aec7ba23bull};
    const uint64_t w1[4] = {0x02f4ba6408e4d89bull, 0x3dd62b0b9ca8c5b2ull, 0x1c8667a55d902e79ull,
                            0x907d7a052fd5b4dcull};
    ortc_philox4x64(c0, key, out);
    for (int k = 0; k < 4; k++)
        ck_assert_msg(out[k] == w0[k], "counter 0 word %d: %016llx", k, (unsigned long long)out[k]);
    ortc_philox4x64(c1, key, out);
    for (int k = 0; k < 4; k++)
        ck_assert_msg(out[k] == w1[k], "counter 1 word %d: %016llx", k, (unsigned long long)out[k]);
}
END_TEST

/* Sample mean and variance of x[0..n). */
static void moments(const float *x, int64_t n, double *mean, double *var)
{
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    *mean = s / (double)n;
    for (int64_t i = 0; i < n; i++)
        s2 += (x[i] - *mean) * (x[i] - *mean);
    *var = s2 / (double)(n - 1);
}

#define N_DRAWS 200000

static op_case *random_case(const char *op, float a, float b, int has_seed, float seed)
{
    op_case *c = opc_new(op, 15, 0, 1);
    int64_t shape[] = {N_DRAWS / 1000, 1000};
    opc_attr_ints(c, "shape", shape, 2);
    bool uniform = !strcmp(op, "RandomUniform");
    opc_attr_float(c, uniform ? "low" : "mean", a);
    opc_attr_float(c, uniform ? "high" : "scale", b);
    if (has_seed)
        opc_attr_float(c, "seed", seed);
    return c;
}

START_TEST(test_random_uniform_stats)
{
    /* U[-2, 3): every draw in range; mean 0.5 and variance 25/12 within 5
     * standard errors (var of the mean: 25/12/n; of the variance: about
     * (h-l)^4/180/n); a constant, a wrong range or a wrong scale fails */
    op_case *c = random_case("RandomUniform", -2, 3, 1, 3);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    int64_t sd[] = {N_DRAWS / 1000, 1000};
    expect_shape(&c->out[0], F32, 2, sd, "RandomUniform");
    const float *y = c->out[0].data;
    for (int64_t i = 0; i < N_DRAWS; i++)
        ck_assert_msg(y[i] >= -2 && y[i] < 3, "draw %lld is %g", (long long)i, y[i]);
    double mean, var;
    moments(y, N_DRAWS, &mean, &var);
    ck_assert_msg(fabs(mean - 0.5) < 5 * sqrt(25.0 / 12 / N_DRAWS), "mean %g", mean);
    ck_assert_msg(fabs(var - 25.0 / 12) < 5 * sqrt(625.0 / 180 / N_DRAWS), "variance %g", var);
    /* seeded: the same draws again */
    float first = y[0];
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert(((float *)c->out[0].data)[0] == first);
    opc_free(c);
    /* another seed, and no seed (a key from the OS), give other draws */
    c = random_case("RandomUniform", -2, 3, 1, 4);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert(((float *)c->out[0].data)[0] != first);
    opc_free(c);
    c = random_case("RandomUniform", -2, 3, 0, 0);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    float a0 = ((float *)c->out[0].data)[0], a1 = ((float *)c->out[0].data)[1];
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert(((float *)c->out[0].data)[0] != a0 || ((float *)c->out[0].data)[1] != a1);
    opc_free(c);
}
END_TEST

START_TEST(test_random_uniform_half_open)
{
    /* float16 draws in [0, 1): the largest must stay below 1 (many doubles
     * round up to 1.0 in float16; they go to the value below) */
    op_case *c = opc_new("RandomUniform", 1, 0, 1);
    int64_t shape[] = {N_DRAWS};
    opc_attr_ints(c, "shape", shape, 1);
    opc_attr_int(c, "dtype", ORTC_DTYPE_FLOAT16);
    opc_attr_float(c, "seed", 1);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    const uint16_t *h = c->out[0].data;
    uint16_t top = 0;
    for (int64_t i = 0; i < N_DRAWS; i++) {
        ck_assert_msg(h[i] < 0x3c00, "draw %lld is float16 bits %04x (>= 1)", (long long)i, h[i]);
        top = h[i] > top ? h[i] : top;
    }
    ck_assert_uint_eq(top, 0x3bff); /* 1 - 2^-11, reached among 2e5 draws */
    opc_free(c);
}
END_TEST

START_TEST(test_random_normal_stats)
{
    /* N(1, 2^2) in double: mean, variance (se of var: sigma^2 sqrt(2/n)) and
     * the share within one sigma (0.682689, se sqrt(p(1-p)/n)) */
    op_case *c = random_case("RandomNormal", 1, 2, 1, 5);
    opc_attr_int(c, "dtype", ORTC_DTYPE_DOUBLE);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert_int_eq(c->out[0].dtype, F64);
    const double *y = c->out[0].data;
    double s = 0, s2 = 0, in1 = 0;
    for (int64_t i = 0; i < N_DRAWS; i++) {
        s += y[i];
        in1 += fabs(y[i] - 1) < 2;
    }
    double mean = s / N_DRAWS;
    for (int64_t i = 0; i < N_DRAWS; i++)
        s2 += (y[i] - mean) * (y[i] - mean);
    double var = s2 / (N_DRAWS - 1), p1 = in1 / N_DRAWS, p = 0.682689492;
    ck_assert_msg(fabs(mean - 1) < 5 * 2 / sqrt(N_DRAWS), "mean %g", mean);
    ck_assert_msg(fabs(var - 4) < 5 * 4 * sqrt(2.0 / N_DRAWS), "variance %g", var);
    ck_assert_msg(fabs(p1 - p) < 5 * sqrt(p * (1 - p) / N_DRAWS), "within 1 sigma %g", p1);
    opc_free(c);
}
END_TEST

START_TEST(test_random_like_and_errors)
{
    /* RandomNormalLike takes shape and dtype from its input (any dtype, data
     * unread); a non-float input needs the dtype attribute */
    int64_t d[] = {3, 5};
    double x[15] = {0};
    op_case *c = opc_new("RandomNormalLike", 1, 1, 1);
    opc_input(c, 0, F64, 2, d, x, false);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F64, 2, d, "RandomNormalLike");
    opc_free(c);
    int32_t xi[15] = {0};
    c = opc_new("RandomUniformLike", 1, 1, 1);
    opc_input(c, 0, I32, 2, d, xi, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL,
                 "without attribute 'dtype' the output would be int32", "int32 like");
    opc_free(c);
    c = opc_new("RandomUniformLike", 1, 1, 1);
    opc_input(c, 0, I32, 2, d, xi, false);
    opc_attr_int(c, "dtype", ORTC_DTYPE_FLOAT16);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F16, 2, d, "RandomUniformLike float16");
    opc_free(c);
    c = random_case("RandomUniform", 3, 2, 0, 0);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "low <= high", "low > high");
    opc_free(c);
    c = opc_new("RandomNormal", 1, 0, 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'shape' is missing", "no shape");
    opc_free(c);
    /* never folded */
    ck_assert(ortc_registry_find("", "RandomUniform", 17)->flags & ORTC_OP_NO_FOLD);
    ck_assert(ortc_registry_find("", "Bernoulli", 17)->flags & ORTC_OP_NO_FOLD);
    ck_assert(ortc_registry_find("", "Multinomial", 17)->flags & ORTC_OP_NO_FOLD);
}
END_TEST

START_TEST(test_bernoulli_rates)
{
    /* p = 0, 0.3, 0.5, 1 each over 50000 elements: exact for 0 and 1, the
     * others within 5 sigma; bool and int64 outputs; p outside [0, 1] is
     * refused */
    enum { M = 50000 };
    static double p[4 * M];
    const double ps[] = {0, 0.3, 0.5, 1};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < M; i++)
            p[k * M + i] = ps[k];
    int64_t d[] = {4, M};
    ortc_dtype outs[] = {BOOL, I64};
    for (int o = 0; o < 2; o++) {
        op_case *c = opc_new("Bernoulli", 15, 1, 1);
        opc_input(c, 0, F64, 2, d, p, false);
        opc_attr_int(c, "dtype", outs[o]);
        ck_assert_int_eq(opc_run(c, 1, 1), OK);
        expect_shape(&c->out[0], outs[o], 2, d, "Bernoulli");
        for (int k = 0; k < 4; k++) {
            double ones = 0;
            for (int i = 0; i < M; i++) {
                int64_t v = o ? ((int64_t *)c->out[0].data)[k * M + i]
                              : ((uint8_t *)c->out[0].data)[k * M + i];
                ck_assert(v == 0 || v == 1);
                ones += (double)v;
            }
            double rate = ones / M, sd = sqrt(ps[k] * (1 - ps[k]) / M);
            ck_assert_msg(fabs(rate - ps[k]) <= 5 * sd, "p %g: rate %g", ps[k], rate);
        }
        opc_free(c);
    }
    double bad[] = {0.5, 1.5};
    int64_t two = 2;
    op_case *c = opc_new("Bernoulli", 15, 1, 1);
    opc_input(c, 0, F64, 1, &two, bad, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "holds 1.5 at element 1", "p = 1.5");
    opc_free(c);
}
END_TEST

START_TEST(test_multinomial_frequencies)
{
    /* logits ln .2, ln .3, ln .5, -inf (never drawn); 100000 samples per
     * row, 2 rows: frequencies within 5 sigma; int64 output */
    float x[] = {logf(0.2f), logf(0.3f), logf(0.5f), -INFINITY,
                 logf(0.2f), logf(0.3f), logf(0.5f), -INFINITY};
    int64_t d[] = {2, 4}, samples = 100000;
    op_case *c = opc_new("Multinomial", 7, 1, 1);
    opc_input(c, 0, F32, 2, d, x, false);
    opc_attr_int(c, "sample_size", samples);
    opc_attr_int(c, "dtype", ORTC_DTYPE_INT64);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    int64_t od[] = {2, samples};
    expect_shape(&c->out[0], I64, 2, od, "Multinomial");
    const int64_t *y = c->out[0].data;
    const double want[] = {0.2, 0.3, 0.5, 0};
    for (int r = 0; r < 2; r++) {
        double count[4] = {0};
        for (int64_t s = 0; s < samples; s++) {
            int64_t k = y[r * samples + s];
            ck_assert(k >= 0 && k < 3);
            count[k]++;
        }
        for (int k = 0; k < 4; k++) {
            double f = count[k] / (double)samples;
            double sd = sqrt(want[k] * (1 - want[k]) / (double)samples);
            ck_assert_msg(fabs(f - want[k]) <= 5 * sd, "row %d class %d: %g", r, k, f);
        }
    }
    opc_free(c);
}
END_TEST

/* A session of one seeded RandomUniform [4] node (seed attribute). */
static ortc_session *random_session(float seed)
{
    ortc_model *m = model_new(17);
    ortc_node *n = add_node(m->graph, "RandomUniform", "r", "", "y");
    int64_t shape[] = {4};
    ortc_attr *a = ortc_node_add_attr(n, "shape", ORTC_ATTR_INTS);
    a->ints = malloc(sizeof shape);
    memcpy(a->ints, shape, sizeof shape);
    a->n = 1;
    ortc_node_add_attr(n, "seed", ORTC_ATTR_FLOAT)->f = seed;
    ortc_graph_add_output(m->graph, ortc_graph_get_value(m->graph, "y"));
    finalize_ok(m->graph);
    ortc_session *s = NULL;
    ck_assert_int_eq(ortc_session_create_from_model(&s, m, NULL), OK);
    return s;
}

START_TEST(test_random_in_sessions)
{
    /* a seeded session repeats its sequence from the start: run 1 of two
     * sessions agree, and run 2 differs from run 1 (the sequence goes on);
     * the node is a step, not a folded constant */
    float a[2][4], b[4];
    ortc_session *s = random_session(42);
    for (int r = 0; r < 2; r++) {
        ortc_tensor out = {0};
        out.data = a[r];
        ck_assert_int_eq(ortc_session_run(s, NULL, 0, &out, 1), OK);
    }
    ortc_plan_stats st;
    ck_assert_int_eq(ortc_session_plan_stats(s, &st), OK);
    ck_assert_uint_eq(st.n_folded, 0);
    ck_assert_uint_eq(st.n_steps, 1);
    ortc_session_destroy(s);
    s = random_session(42);
    ortc_tensor out = {0};
    out.data = b;
    ck_assert_int_eq(ortc_session_run(s, NULL, 0, &out, 1), OK);
    ortc_session_destroy(s);
    ck_assert_int_eq(memcmp(a[0], b, sizeof b), 0);
    ck_assert_int_ne(memcmp(a[0], a[1], sizeof b), 0);
}
END_TEST

/* ---- training (ai.onnx.preview.training) ------------------------------------------------ */

/* One optimizer step on float scalars: inputs R, T, then `vals` (X, G and
 * the accumulators, one tensor each); outputs into got[0..n_out). */
static void opt_step(const char *op, int64_t t, const float *vals, int n_in, float *got, int n_out,
                     const char *const *fattrs, const float *fvals, int n_f, const char *mode)
{
    op_case *c = opc_new(op, 1, 2 + n_in, n_out);
    free(c->node->domain);
    c->node->domain = strdup("ai.onnx.preview.training");
    static const float r = 0.1f;
    static int64_t tt;
    tt = t;
    int64_t one = 1;
    opc_input(c, 0, F32, 0, &one, &r, false);
    opc_input(c, 1, I64, 0, &one, &tt, false);
    for (int i = 0; i < n_in; i++)
        opc_input(c, 2 + i, F32, 1, &one, &vals[i], false);
    for (int a = 0; a < n_f; a++)
        opc_attr_float(c, fattrs[a], fvals[a]);
    if (mode)
        opc_attr_string(c, "mode", mode);
    ck_assert_msg(opc_run(c, 1, 1) == OK, "%s: %s", op, c->err.msg);
    for (int k = 0; k < n_out; k++)
        got[k] = ((float *)c->out[k].data)[0];
    opc_free(c);
}

START_TEST(test_optimizers_hand)
{
    /* Momentum, R .1, x 1.2, g -.94, v 1.7, norm .001, alpha .95, beta .1:
     * g_reg = .0012 - .94 = -.9388; T = 0 uses beta 1: v = .95*1.7 - .9388 =
     * .6762, x = 1.2 - .06762 = 1.13238; T = 1: v = 1.615 - .09388 =
     * 1.52112, x = 1.047888; Nesterov: x = 1.2 - .1(g_reg + .95 v) =
     * 1.1493736 */
    const char *mattrs[] = {"norm_coefficient", "alpha", "beta"};
    const float mvals[] = {0.001f, 0.95f, 0.1f}, in[] = {1.2f, -0.94f, 1.7f};
    float got[3];
    opt_step("Momentum", 0, in, 3, got, 2, mattrs, mvals, 3, "standard");
    ck_assert(fabsf(got[0] - 1.13238f) < 1e-6f && fabsf(got[1] - 0.6762f) < 1e-6f);
    opt_step("Momentum", 1, in, 3, got, 2, mattrs, mvals, 3, "standard");
    ck_assert(fabsf(got[0] - 1.047888f) < 1e-6f && fabsf(got[1] - 1.52112f) < 1e-6f);
    opt_step("Momentum", 1, in, 3, got, 2, mattrs, mvals, 3, "nesterov");
    ck_assert(fabsf(got[0] - 1.1493736f) < 1e-6f && fabsf(got[1] - 1.52112f) < 1e-6f);
    /* Adagrad, T 2, decay .5: r = .1 / 2; x 1, g -1, h 2: h = 3, x = 1 +
     * .05 / (sqrt 3 + 1e-6) = 1.0288675 */
    const char *gattrs[] = {"decay_factor"};
    const float gvals[] = {0.5f}, gin[] = {1, -1, 2};
    opt_step("Adagrad", 2, gin, 3, got, 2, gattrs, gvals, 1, NULL);
    ck_assert(fabsf(got[0] - 1.0288675f) < 1e-6f && got[1] == 3);
    /* Adam, T 2, alpha .95, beta .85, eps .01, norm .001, post .5; x 1, g -1,
     * v 2, h .5: g_reg = -.999, v = 1.85005, h = .5747002, lr = .1 sqrt(1 -
     * .85^2) / (1 - .95^2) = .5402904, x = .5 (1 - lr v / (sqrt h + .01)) =
     * -.1506813 */
    const char *aattrs[] = {"alpha", "beta", "epsilon", "norm_coefficient",
                            "norm_coefficient_post"};
    const float avals[] = {0.95f, 0.85f, 0.01f, 0.001f, 0.5f}, ain[] = {1, -1, 2, 0.5f};
    opt_step("Adam", 2, ain, 4, got, 3, aattrs, avals, 5, NULL);
    ck_assert_msg(fabsf(got[0] + 0.1506813f) < 2e-6f && fabsf(got[1] - 1.85005f) < 1e-6f &&
                      fabsf(got[2] - 0.5747002f) < 1e-6f,
                  "Adam: %.7g %.7g %.7g", got[0], got[1], got[2]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_signal");
    TCase *tc = tcase_create("signal");
    tcase_add_test(tc, test_fft_every_length);
    tcase_add_test(tc, test_fft_plan_limits);
    tcase_add_test(tc, test_dft_hand);
    tcase_add_test(tc, test_dft_length_and_axis);
    tcase_add_test(tc, test_dft_errors);
    tcase_add_test(tc, test_stft_hand);
    tcase_add_test(tc, test_stft_errors);
    tcase_add_test(tc, test_windows_hand);
    tcase_add_test(tc, test_mel_onnx_example);
    suite_add_tcase(s, tc);
    tc = tcase_create("loss");
    tcase_add_test(tc, test_nll_spec_examples);
    tcase_add_test(tc, test_sce_hand);
    tcase_add_test(tc, test_losses_rank5);
    tcase_add_test(tc, test_loss_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("random");
    tcase_add_test(tc, test_philox_numpy_vectors);
    tcase_add_test(tc, test_random_uniform_stats);
    tcase_add_test(tc, test_random_uniform_half_open);
    tcase_add_test(tc, test_random_normal_stats);
    tcase_add_test(tc, test_random_like_and_errors);
    tcase_add_test(tc, test_bernoulli_rates);
    tcase_add_test(tc, test_multinomial_frequencies);
    tcase_add_test(tc, test_random_in_sessions);
    suite_add_tcase(s, tc);
    tc = tcase_create("training");
    tcase_add_test(tc, test_optimizers_hand);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
