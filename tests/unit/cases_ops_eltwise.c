/* cases_ops_eltwise.c — the unary and activation operators (eltwise.c):
 * every op's plain-C kernel against hand-derived values in float32 and
 * float64, the oneDNN path against the reference kernel on random inputs
 * with special values (and whether oneDNN or the documented plain-C path
 * ran), integer dtypes, Clip's attribute/input forms across versions,
 * PRelu's broadcasting, registration and infer's errors.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "dnnl_util.h"
#include "helper_cases.h"
#include "helper_common.h"
#include "helper_ops.h"
#include "math/eltwise_fast.h"

/* ---- helpers ------------------------------------------------------------------ */

/* Output 0 of c as doubles (float or double dtype). */
static void out_as_double(const op_case *c, double *got, int64_t n)
{
    const ortc_tensor *t = &c->out[0];
    for (int64_t i = 0; i < n; i++)
        got[i] = t->dtype == F64 ? ((const double *)t->data)[i] : ((const float *)t->data)[i];
}

/* |got - exp| <= tol (1 + |exp|) in double, for float64 outputs
 * (opc_assert_close is float-only); NaN equals NaN, equal infinities are
 * equal. */
static void assert_close_f64(const double *got, const double *exp, int64_t n, double tol,
                             const char *what)
{
    for (int64_t i = 0; i < n; i++) {
        if ((isnan(got[i]) && isnan(exp[i])) || got[i] == exp[i])
            continue;
        ck_assert_msg(fabs(got[i] - exp[i]) <= tol * (1.0 + fabs(exp[i])),
                      "%s: element %lld: got %.17g expected %.17g (tol %g)", what, (long long)i,
                      got[i], exp[i], tol);
    }
}

/* Integer output compared exactly, element by element, as int64. */
static int64_t int_at(const ortc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case I8: return ((const int8_t *)t->data)[i];
    case I16: return ((const int16_t *)t->data)[i];
    case I32: return ((const int32_t *)t->data)[i];
    case I64: return ((const int64_t *)t->data)[i];
    case U8:
    case BOOL: return ((const uint8_t *)t->data)[i];
    case U16: return ((const uint16_t *)t->data)[i];
    case U32: return ((const uint32_t *)t->data)[i];
    case U64: return (int64_t)((const uint64_t *)t->data)[i];
    default: return INT64_MIN;
    }
}

static void expect_ints(const op_case *c, ortc_dtype dtype, const int64_t *exp, int64_t n,
                        const char *what)
{
    const ortc_tensor *t = &c->out[0];
    ck_assert_msg(t->dtype == dtype, "%s: output dtype %s, expected %s", what,
                  ortc_dtype_name(t->dtype), ortc_dtype_name(dtype));
    ck_assert_msg(ortc_tensor_numel(t) == n, "%s: %lld elements, expected %lld", what,
                  (long long)ortc_tensor_numel(t), (long long)n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(int_at(t, i) == exp[i], "%s: element %lld is %lld, expected %lld", what,
                      (long long)i, (long long)int_at(t, i), (long long)exp[i]);
}

/* ==== hand-derived values ==========================================================
 * Each row: op, opset, up to two float attributes, inputs and the values
 * derived by hand from the ONNX formula (in the comment). Every row runs
 * in float32 and float64 through the reference kernel and through
 * prepare + run (oneDNN where the op has it), tolerance 1e-6 absolute
 * and relative (the hand values are given to 7-8 digits). */

#define HAND_MAX 8
#define LN2 0.69314718055994531
#define LN3 1.09861228866810969
#define PI 3.14159265358979324

typedef struct hand_case {
    const char *op;
    int opset;
    const char *a1;
    float v1;
    const char *a2;
    float v2;
    int n;
    double x[HAND_MAX], y[HAND_MAX];
} hand_case;

static const hand_case hand_cases[] = {
    /* max(x, 0) */
    {"Relu", 14, NULL, 0, NULL, 0, 4, {-1, 0, 2, -0.5}, {0, 0, 2, 0}},
    /* x < 0 ? 0.1 x : x */
    {"LeakyRelu", 16, "alpha", 0.1f, NULL, 0, 3, {-2, 3, 0}, {-0.2000000029802322, 3, 0}},
    /* default alpha 0.01: -100 -> -1 */
    {"LeakyRelu", 6, NULL, 0, NULL, 0, 2, {-100, 1}, {-0.9999999776482582, 1}},
    /* alpha (e^x - 1) for x < 0: 2 (e^-1 - 1) = -1.2642411177 */
    {"Elu", 6, "alpha", 2, NULL, 0, 3, {-1, 1, 0}, {-1.2642411176571153, 1, 0}},
    /* Selu-6 defaults alpha 1.67326319, gamma 1.05070102 (float32 values):
     * x = -1: gamma alpha (e^-1 - 1) = 1.0507010221 * 1.6732631922 *
     * -0.6321205588 = -1.1113307; x = 2: 2 gamma = 2.1014020443 */
    {"Selu", 6, NULL, 0, NULL, 0, 3, {-1, 2, 0}, {-1.1113307, 2.1014020443, 0}},
    /* Selu-1's rounded defaults alpha 1.6732, gamma 1.0507 (float32):
     * x = -1: 1.0507 * 1.6732 = 1.75803124; * -0.6321205588 = -1.1112876;
     * x = 1: 1.0507 */
    {"Selu", 1, NULL, 0, NULL, 0, 2, {-1, 1}, {-1.1112876, 1.0506999492645264}},
    /* explicit alpha 2, gamma 3: x = -1: 3 * 2 (e^-1 - 1) = -3.7927234 */
    {"Selu", 6, "alpha", 2, "gamma", 3, 2, {-1, 1}, {-3.7927233529713459, 3}},
    /* max(0,x) + min(0, alpha (e^(x/alpha) - 1)), alpha 2: x = -2:
     * 2 (e^-1 - 1) = -1.2642411; x = 3: 3 */
    {"Celu", 12, "alpha", 2, NULL, 0, 3, {-2, 3, 0}, {-1.2642411176571153, 3, 0}},
    /* x > alpha ? x : 0 with alpha 1 (default): 1 is not above 1 */
    {"ThresholdedRelu", 10, NULL, 0, NULL, 0, 4, {0.5, 1, 2, -3}, {0, 0, 2, 0}},
    /* 1 / (1 + e^-x): 0 -> 1/2; ln 3 -> 1/(1 + 1/3) = 3/4; -ln 3 -> 1/4 */
    {"Sigmoid", 13, NULL, 0, NULL, 0, 3, {0, LN3, -LN3}, {0.5, 0.75, 0.25}},
    /* max(0, min(1, 0.2 x + 0.5)) (defaults): -5 -> 0, 0 -> 0.5,
     * 1 -> 0.7, 5 -> 1; -2.5 -> 0 exactly at the edge */
    {"HardSigmoid", 6, NULL, 0, NULL, 0, 5, {-5, 0, 1, 5, -2.5}, {0, 0.5, 0.7, 1, 0}},
    /* alpha 0.5, beta 0.6: x = 0.2 -> 0.7; x = -1.2 -> 0; x = 1 -> 1 */
    {"HardSigmoid", 6, "alpha", 0.5f, "beta", 0.6f, 3, {0.2, -1.2, 1}, {0.7, 0, 1}},
    /* x max(0, min(1, x/6 + 1/2)): -4 -> 0; -1.5 -> -1.5 * 0.25; 0 -> 0;
     * 1.5 -> 1.5 * 0.75; 4 -> 4 */
    {"HardSwish", 14, NULL, 0, NULL, 0, 5, {-4, -1.5, 0, 1.5, 4}, {0, -0.375, 0, 1.125, 4}},
    /* tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 0.6 */
    {"Tanh", 13, NULL, 0, NULL, 0, 3, {0, LN2, -LN2}, {0, 0.6, -0.6}},
    /* ln(e^x + 1): 0 -> ln 2; ln 3 -> ln 4; 100 -> 100 (+ e^-100) */
    {"Softplus", 1, NULL, 0, NULL, 0, 3, {0, LN3, 100}, {LN2, 2 * LN2, 100}},
    /* x / (1 + |x|) */
    {"Softsign", 1, NULL, 0, NULL, 0, 3, {-3, 1, 0}, {-0.75, 0.5, 0}},
    /* soft shrink, lambd = bias = 1.5: x < -1.5 -> x + 1.5; x > 1.5 -> x - 1.5 */
    {"Shrink", 9, "lambd", 1.5f, "bias", 1.5f, 5, {-2, -1, 0, 1, 2}, {-0.5, 0, 0, 0, 0.5}},
    /* hard shrink (bias 0), lambd 1.5: |x| <= 1.5 -> 0 */
    {"Shrink", 9, "lambd", 1.5f, NULL, 0, 4, {-2, -1.5, 1.5, 2}, {-2, 0, 0, 2}},
    {"Sqrt", 13, NULL, 0, NULL, 0, 3, {4, 2.25, 0}, {2, 1.5, 0}},
    {"Exp", 13, NULL, 0, NULL, 0, 3, {0, LN2, -LN2}, {1, 2, 0.5}},
    /* ln 1 = 0 exactly; ln 0.25 = -2 ln 2 */
    {"Log", 13, NULL, 0, NULL, 0, 2, {1, 0.25}, {0, -2 * LN2}},
    {"Abs", 13, NULL, 0, NULL, 0, 3, {-2.5, 3, 0}, {2.5, 3, 0}},
    {"Neg", 13, NULL, 0, NULL, 0, 3, {-2.5, 3, 0}, {2.5, -3, 0}},
    {"Reciprocal", 13, NULL, 0, NULL, 0, 3, {4, -0.5, 8}, {0.25, -2, 0.125}},
    {"Floor", 13, NULL, 0, NULL, 0, 4, {-1.5, 1.5, 2, -0.25}, {-2, 1, 2, -1}},
    {"Ceil", 13, NULL, 0, NULL, 0, 4, {-1.5, 1.5, 2, 0.25}, {-1, 2, 2, 1}},
    /* nearest, ties to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -2.5 -> -2 */
    {"Round",
     11,
     NULL,
     0,
     NULL,
     0,
     8,
     {0.5, 1.5, 2.5, -0.5, -2.5, 2.4, -2.6, 3.5},
     {0, 2, 2, 0, -2, 2, -3, 4}},
    {"Sign", 13, NULL, 0, NULL, 0, 4, {-3, 0, 2, -0.001}, {-1, 0, 1, -1}},
    /* sin(pi/6) = 1/2, sin(-pi/2) = -1 */
    {"Sin", 7, NULL, 0, NULL, 0, 3, {0, PI / 6, -PI / 2}, {0, 0.5, -1}},
    /* cos(pi/3) = 1/2, cos(pi) = -1 */
    {"Cos", 7, NULL, 0, NULL, 0, 3, {0, PI / 3, PI}, {1, 0.5, -1}},
    /* tan(pi/4) = 1 */
    {"Tan", 7, NULL, 0, NULL, 0, 2, {0, PI / 4}, {0, 1}},
    {"Asin", 7, NULL, 0, NULL, 0, 3, {0, 0.5, -1}, {0, PI / 6, -PI / 2}},
    {"Acos", 7, NULL, 0, NULL, 0, 3, {1, 0.5, -1}, {0, PI / 3, PI}},
    {"Atan", 7, NULL, 0, NULL, 0, 2, {0, 1}, {0, PI / 4}},
    /* sinh(ln 2) = (2 - 1/2)/2 = 0.75; cosh(ln 2) = (2 + 1/2)/2 = 1.25 */
    {"Sinh", 9, NULL, 0, NULL, 0, 2, {0, LN2}, {0, 0.75}},
    {"Cosh", 9, NULL, 0, NULL, 0, 2, {0, LN2}, {1, 1.25}},
    /* the inverses: asinh(0.75) = acosh(1.25) = ln 2; atanh(0.6) =
     * ln((1 + 0.6)/(1 - 0.6))/2 = ln(4)/2 = ln 2 */
    {"Asinh", 9, NULL, 0, NULL, 0, 2, {0, 0.75}, {0, LN2}},
    {"Acosh", 9, NULL, 0, NULL, 0, 2, {1, 1.25}, {0, LN2}},
    {"Atanh", 9, NULL, 0, NULL, 0, 2, {0, 0.6}, {0, LN2}},
    /* erf(0.5) = 0.5204998778 and erf(1) = 0.8427007929 (Abramowitz &
     * Stegun table 7.1); odd function */
    {"Erf", 13, NULL, 0, NULL, 0, 3, {0, 0.5, -1}, {0, 0.5204998778130465, -0.8427007929497149}},
};

/* The ops whose float32 path is oneDNN (eltwise.c's dnnl_plan_for); the
 * rest, and every float64 node, must run plain C. */
static bool has_dnnl_path(const char *op)
{
    static const char *const ops[] = {"Relu",        "LeakyRelu", "Elu",        "Selu", "Sigmoid",
                                      "HardSigmoid", "HardSwish", "Tanh",       "Sqrt", "Exp",
                                      "Abs",         "Neg",       "Reciprocal", "Round"};
    for (int i = 0; i < N_OF(ops); i++)
        if (!strcmp(ops[i], op))
            return true;
    return false;
}

START_TEST(hand_values)
{
    const hand_case *h = &hand_cases[_i];
    bool f32_only = !strcmp(h->op, "Celu"); /* Celu-12 is float32 only */
    for (int dt = 0; dt < (f32_only ? 1 : 2); dt++) {
        ortc_dtype dtype = dt ? F64 : F32;
        float xf[HAND_MAX];
        for (int i = 0; i < h->n; i++)
            xf[i] = (float)h->x[i];
        for (int reference = 1; reference >= 0; reference--) {
            char what[160];
            snprintf(what, sizeof what, "%s-%d %s (%s)", h->op, h->opset, ortc_dtype_name(dtype),
                     reference ? "reference" : "prepare+run");
            op_case *c = opc_new(h->op, h->opset, 1, 1);
            opc_input(c, 0, dtype, 1, (int64_t[]){h->n}, dt ? (const void *)h->x : xf, false);
            if (h->a1)
                opc_attr_float(c, h->a1, h->v1);
            if (h->a2)
                opc_attr_float(c, h->a2, h->v2);
            run_checked(c, reference, dtype == F32 && !reference && has_dnnl_path(h->op), what);
            ck_assert_msg(c->out[0].dtype == dtype, "%s: output dtype %s", what,
                          ortc_dtype_name(c->out[0].dtype));
            double got[HAND_MAX];
            out_as_double(c, got, h->n);
            /* 1e-6: the hand values carry 7+ digits; float32 rounding is
             * 6e-8 relative */
            assert_close_f64(got, h->y, h->n, 1e-6, what);
            opc_free(c);
        }
    }
}
END_TEST

/* ==== oneDNN against the reference =================================================
 * Random inputs plus special values (zeros of both signs, infinities, NaN,
 * huge and tiny magnitudes) on a shape with a ragged vector tail. */

typedef struct dnnl_case {
    const char *op;
    int opset;
    const char *a1;
    float v1;
    const char *a2;
    float v2;
    float lo, hi; /* random range */
    double rtol, atol;
} dnnl_case;

/* Ops whose oneDNN path does not keep NaN (documented in eltwise.c):
 * their random inputs leave NaN out. */
static bool nan_differs(const char *op)
{
    return !strcmp(op, "Relu") || !strcmp(op, "HardSigmoid") || !strcmp(op, "Exp");
}

/* Tolerances: oneDNN evaluates in float with its own polynomial
 * approximations; the reference in double, rounded once. 1e-5 relative
 * (~100 ulp) covers the approximations of exp/tanh/log1p; 1e-6 absolute
 * covers results that cancel to near zero (e^x - 1 for x near 0 in Elu and
 * Selu, whose float error is one ulp of 1 = 1.2e-7, times alpha * gamma).
 * Exact ops (a selection or a sign flip) use 0. */
static const dnnl_case dnnl_cases[] = {
    {"Relu", 14, NULL, 0, NULL, 0, -4, 4, 0, 0},
    {"LeakyRelu", 16, "alpha", 0.1f, NULL, 0, -4, 4, 1e-7, 0},
    {"LeakyRelu", 6, NULL, 0, NULL, 0, -4, 4, 1e-7, 0},
    {"Elu", 6, "alpha", 2, NULL, 0, -6, 4, 1e-5, 1e-6},
    {"Selu", 6, NULL, 0, NULL, 0, -6, 4, 1e-5, 1e-6},
    {"Selu", 1, "alpha", 2, "gamma", 3, -6, 4, 1e-5, 1e-6},
    {"Sigmoid", 13, NULL, 0, NULL, 0, -20, 20, 1e-5, 1e-7},
    {"HardSigmoid", 6, NULL, 0, NULL, 0, -4, 4, 1e-6, 1e-7},
    {"HardSigmoid", 6, "alpha", 0.5f, "beta", 0.6f, -4, 4, 1e-6, 1e-7},
    {"HardSwish", 14, NULL, 0, NULL, 0, -5, 5, 1e-6, 1e-7},
    {"Tanh", 13, NULL, 0, NULL, 0, -10, 10, 1e-5, 1e-7},
    {"Sqrt", 13, NULL, 0, NULL, 0, 0, 100, 1e-6, 0},
    /* oneDNN flushes subnormal results (x < -87.3) to 0: atol FLT_MIN */
    {"Exp", 13, NULL, 0, NULL, 0, -20, 20, 1e-5, FLT_MIN},
    {"Abs", 13, NULL, 0, NULL, 0, -4, 4, 0, 0},
    {"Neg", 13, NULL, 0, NULL, 0, -4, 4, 0, 0},
    {"Reciprocal", 13, NULL, 0, NULL, 0, -4, 4, 1e-6, 0},
    {"Round", 11, NULL, 0, NULL, 0, -8, 8, 0, 0},
};

static const float specials[] = {0.0f,   -0.0f,   INFINITY, -INFINITY, NAN,    1e30f, -1e30f,
                                 1e-30f, -1e-30f, 0.5f,     -0.5f,     1.0f,   -1.0f, 2.5f,
                                 -2.5f,  88.0f,   -88.0f,   100.0f,    -100.0f};

/* Uniform in [lo, hi) with specials[] at every 7th element; NaN replaced
 * by 0 when `no_nan`. */
static float *random_with_specials(int64_t n, float lo, float hi, bool no_nan, uint64_t *seed)
{
    float *x = malloc((size_t)n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    opc_fill_uniform(x, n, lo, hi, seed);
    for (int i = 0; i < N_OF(specials) && i * 7 < n; i++)
        x[i * 7] = no_nan && isnan(specials[i]) ? 0.0f : specials[i];
    return x;
}

START_TEST(dnnl_vs_reference)
{
    const dnnl_case *d = &dnnl_cases[_i];
    uint64_t seed = 9100 + (uint64_t)_i;
    int64_t dims[3] = {3, 7, 29}; /* 609 elements: not a multiple of any vector width */
    int64_t n = dims[0] * dims[1] * dims[2];
    float *x = random_with_specials(n, d->lo, d->hi, nan_differs(d->op), &seed);
    char what[128];
    snprintf(what, sizeof what, "%s-%d%s", d->op, d->opset, d->a1 ? " with attributes" : "");
    op_case *c = opc_new(d->op, d->opset, 1, 1);
    opc_input(c, 0, F32, 3, dims, x, false);
    if (d->a1)
        opc_attr_float(c, d->a1, d->v1);
    if (d->a2)
        opc_attr_float(c, d->a2, d->v2);
    compare_paths(c, d->rtol, d->atol, 1, what);
    opc_free(c);
    free(x);
}
END_TEST

/* ==== special values and the bool-valued ops ====================================== */

START_TEST(special_values)
{
    /* Scalars through the reference kernels: NaN stays NaN where ONNX's
     * formula is max/min or arithmetic (numpy semantics), limits and
     * domain errors follow IEEE (inf, -inf, NaN), and Softplus neither
     * overflows for large x nor loses tiny results for very negative x. */
    static const struct {
        const char *op;
        int opset;
        float x, y;
    } rows[] = {
        {"Relu", 14, NAN, NAN},
        {"Sigmoid", 13, -INFINITY, 0},
        {"Sigmoid", 13, INFINITY, 1},
        {"Sigmoid", 13, -200, 0},
        {"Tanh", 13, -INFINITY, -1},
        {"Exp", 13, -INFINITY, 0},
        {"Exp", 13, NAN, NAN},
        {"Log", 13, 0, -INFINITY},
        {"Log", 13, -1, NAN},
        {"Sqrt", 13, -1, NAN},
        {"Reciprocal", 13, 0, INFINITY},
        {"Reciprocal", 13, -0.0f, -INFINITY},
        {"Reciprocal", 13, INFINITY, 0},
        {"Softplus", 1, 200, 200},
        /* ln(1 + e^-100) = e^-100 (to 1e-43 relative) = 3.72007598e-44 */
        {"Softplus", 1, -100, 3.72007598e-44f},
        {"Softplus", 1, -INFINITY, 0},
        {"Softplus", 1, INFINITY, INFINITY},
        {"HardSigmoid", 6, NAN, NAN},
        {"Celu", 12, NAN, NAN},
        {"Sign", 13, NAN, NAN},
        {"Floor", 13, -INFINITY, -INFINITY},
        {"Round", 11, -0.4f, 0},
        {"Asin", 7, 2, NAN},
        {"Acosh", 9, 0.5f, NAN},
        {"Atanh", 9, 1, INFINITY},
        /* x > alpha decides: NaN > 1 is false */
        {"ThresholdedRelu", 10, NAN, 0},
        {"Erf", 13, INFINITY, 1},
        {"Softsign", 1, 1e30f, 1},
    };
    for (int i = 0; i < N_OF(rows); i++) {
        char what[96];
        snprintf(what, sizeof what, "%s-%d(%g) reference", rows[i].op, rows[i].opset, rows[i].x);
        op_case *c = opc_new(rows[i].op, rows[i].opset, 1, 1);
        opc_input(c, 0, F32, 0, NULL, &rows[i].x, false);
        run_checked(c, 1, 0, what);
        float got = *(const float *)c->out[0].data;
        assert_close_x(&got, &rows[i].y, &rows[i].x, 1, 1e-6, 0, what);
        opc_free(c);
    }
}
END_TEST

/* Ulps between two finite floats of one sign or zero (their bit patterns
 * ordered as integers). */
static int64_t ulps_apart(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    if (ia < 0)
        ia = INT32_MIN - ia;
    if (ib < 0)
        ib = INT32_MIN - ib;
    return ia > ib ? (int64_t)ia - ib : (int64_t)ib - ia;
}

/* float32 Erf's own kernel (eltwise_fast.c) against erf() in double
 * rounded to float, on every 4096th float of [-5, 5] (both signs, down to
 * the smallest subnormals) and the special values: at most one ulp apart,
 * NaN kept, +-1 at the infinities; then the op on oneDNN's path (no
 * primitive: this kernel, threaded) on a tensor larger than its
 * one-thread cutoff. */
START_TEST(erf_fast_kernel)
{
    enum { N = 600000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    ck_assert(x && y);
    int64_t n = 0;
    for (uint32_t bits = 0; n < N - 8; bits += 4096) {
        float v;
        memcpy(&v, &bits, sizeof v);
        if (!(v <= 5.0f))
            break;
        x[n++] = v;
        x[n++] = -v;
    }
    const float special[] = {INFINITY, -INFINITY, NAN, FLT_MAX, -FLT_MAX, 1e-45f, 3.99999f, 4.0f};
    for (int i = 0; i < N_OF(special); i++)
        x[n++] = special[i];
    ortc_fast_erf_f32(y, x, n, 2);
    int64_t worst = 0, off = 0;
    for (int64_t i = 0; i < n; i++) {
        float want = (float)erf((double)x[i]);
        if (isnan(want)) {
            ck_assert_msg(isnan(y[i]), "erf(NaN) gave %g", (double)y[i]);
            continue;
        }
        int64_t u = ulps_apart(y[i], want);
        ck_assert_msg(u <= 1, "erf(%.9g): got %.9g, want %.9g (%lld ulps)", (double)x[i],
                      (double)y[i], (double)want, (long long)u);
        worst = u > worst ? u : worst;
        off += u != 0;
    }
    /* the fit's error (below 1e-9) shows only next to rounding boundaries */
    ck_assert_msg(off * 10000 < n, "%lld of %lld values one ulp off", (long long)off, (long long)n);

    int64_t dims[1] = {40000};
    op_case *c = opc_new("Erf", 13, 1, 1);
    opc_input(c, 0, F32, 1, dims, x + n - 48000, false);
    run_checked(c, 0, PATH_PLAIN, "Erf-13 float32 kernel");
    const float *got = c->out[0].data;
    for (int64_t i = 0; i < dims[0]; i++)
        ck_assert_msg(ulps_apart(got[i], (float)erf((double)x[n - 48000 + i])) <= 1,
                      "Erf(%.9g) = %.9g", (double)x[n - 48000 + i], (double)got[i]);
    opc_free(c);
    free(x);
    free(y);
}
END_TEST

/* GELU's own kernel (eltwise_fast.c, MatMul/Gemm's fused GELU) against
 * 0.5 x (1 + erf(x / sqrt 2)) in double, on every 4096th float of [-8, 8]
 * (both signs, down to the smallest subnormals), the pieces' boundaries and
 * the special values: within 2e-7 |x| (the fitted erf's 1.8e-7 times x / 2,
 * plus float rounding) or one subnormal step; NaN where the formula gives
 * NaN (NaN, -inf); threaded, and at lengths that leave a partial vector. */
START_TEST(gelu_fast_kernel)
{
    enum { N = 900000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    ck_assert(x && y);
    int64_t n = 0;
    for (uint32_t bits = 0; n < N - 16; bits += 4096) {
        float v;
        memcpy(&v, &bits, sizeof v);
        if (!(v <= 8.0f))
            break;
        x[n++] = v;
        x[n++] = -v;
    }
    const float special[] = {INFINITY,     -INFINITY,   NAN,         FLT_MAX,     -FLT_MAX,
                             1e-45f,       1.41421354f, 1.41421366f, 5.65685415f, 5.65685463f,
                             -5.65685463f, 100.0f,      -100.0f};
    for (int i = 0; i < N_OF(special); i++)
        x[n++] = special[i];
    const int64_t lens[] = {n, n - 1, 17, 5};
    for (int l = 0; l < N_OF(lens); l++) {
        const int64_t len = lens[l], at = n - len; /* the last len values */
        for (int64_t i = 0; i < len; i++)
            y[i] = -1.0f;
        ortc_fast_gelu_f32(y, x + at, len, 2);
        for (int64_t i = 0; i < len; i++) {
            double v = x[at + i], want = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
            if (isnan(want)) {
                ck_assert_msg(isnan(y[i]), "gelu(%g) gave %g, want NaN", v, (double)y[i]);
                continue;
            }
            double err = fabs((double)y[i] - want);
            ck_assert_msg(err <= 2e-7 * fabs(v) || err <= FLT_TRUE_MIN || y[i] == want,
                          "gelu(%.9g): got %.9g, want %.9g (length %lld)", v, (double)y[i], want,
                          (long long)len);
        }
    }
    /* in place */
    float z[3] = {-1.0f, 0.5f, 3.0f};
    ortc_fast_gelu_f32(z, z, 3, 1);
    ck_assert(fabs(z[0] - (-0.158655254)) < 1e-7 && fabs(z[1] - 0.345731231) < 1e-7 &&
              fabs(z[2] - 2.99595031) < 1e-6);
    free(x);
    free(y);
}
END_TEST

/* swish (SiLU) for Conv's fused post-op (eltwise_fast.c) against
 * x / (1 + e^-x) in double: a few ulps where the result is a normal float
 * above 1e-30 in magnitude, 0 below x = -88 (the true value is under 1e-36),
 * +inf and NaN kept; 2 threads over a count with a tail of 7. */
START_TEST(swish_fast_kernel)
{
    enum { N = 400000 };
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    ck_assert(x && y);
    int64_t n = 0;
    for (uint32_t bits = 0; n < N - 16; bits += 8192) {
        float v;
        memcpy(&v, &bits, sizeof v);
        if (!(v <= 120.0f))
            break;
        x[n++] = v;
        x[n++] = -v;
    }
    const float special[] = {INFINITY, -INFINITY, NAN, -87.5f, -88.5f, 87.5f, 0.0f};
    for (int i = 0; i < N_OF(special); i++)
        x[n++] = special[i];
    ck_assert(n % 16 != 0);
    ortc_fast_swish_f32(y, x, n, 2);
    for (int64_t i = 0; i < n; i++) {
        double v = x[i];
        if (isnan(v)) {
            ck_assert_msg(isnan(y[i]), "swish(NaN) gave %g", (double)y[i]);
            continue;
        }
        if (v < -88.0) {
            ck_assert_msg(y[i] == 0.0f, "swish(%.9g) gave %g, want 0", v, (double)y[i]);
            continue;
        }
        float want = (float)(v / (1.0 + exp(-v)));
        if (fabsf(want) < 1e-30f) {
            ck_assert_msg(fabsf(y[i] - want) < 1e-30f, "swish(%.9g): got %g, want %g", v,
                          (double)y[i], (double)want);
            continue;
        }
        int64_t u = ulps_apart(y[i], want);
        ck_assert_msg(u <= 4, "swish(%.9g): got %.9g, want %.9g (%lld ulps)", v, (double)y[i],
                      (double)want, (long long)u);
    }
    free(x);
    free(y);
}
END_TEST

START_TEST(isnan_isinf)
{
    /* IsNaN: only NaN; IsInf: +inf (detect_positive), -inf
     * (detect_negative), both by default; never NaN or a finite value */
    const float xf[6] = {NAN, INFINITY, -INFINITY, 0, -FLT_MAX, 1e-45f};
    const double xd[6] = {NAN, INFINITY, -INFINITY, 0, -DBL_MAX, 4.9e-324};
    static const struct {
        const char *op;
        int opset;
        int neg, pos; /* -1: attribute absent */
        int64_t y[6];
    } rows[] = {
        {"IsNaN", 9, -1, -1, {1, 0, 0, 0, 0, 0}},  {"IsNaN", 13, -1, -1, {1, 0, 0, 0, 0, 0}},
        {"IsInf", 10, -1, -1, {0, 1, 1, 0, 0, 0}}, {"IsInf", 10, 0, -1, {0, 1, 0, 0, 0, 0}},
        {"IsInf", 10, -1, 0, {0, 0, 1, 0, 0, 0}},  {"IsInf", 10, 0, 0, {0, 0, 0, 0, 0, 0}},
    };
    for (int i = 0; i < N_OF(rows); i++)
        for (int dt = 0; dt < 2; dt++) {
            char what[96];
            snprintf(what, sizeof what, "%s-%d neg=%d pos=%d %s", rows[i].op, rows[i].opset,
                     rows[i].neg, rows[i].pos, dt ? "float64" : "float32");
            op_case *c = opc_new(rows[i].op, rows[i].opset, 1, 1);
            opc_input(c, 0, dt ? F64 : F32, 2, (int64_t[]){2, 3}, dt ? (const void *)xd : xf,
                      false);
            if (rows[i].neg >= 0)
                opc_attr_int(c, "detect_negative", rows[i].neg);
            if (rows[i].pos >= 0)
                opc_attr_int(c, "detect_positive", rows[i].pos);
            run_checked(c, 0, 0, what);
            ck_assert_int_eq(c->out[0].rank, 2);
            expect_ints(c, BOOL, rows[i].y, 6, what);
            opc_free(c);
        }
}
END_TEST

/* Empty tensors run (nothing to do) on both paths, shape kept. */
START_TEST(empty_tensor)
{
    float dummy = 0;
    const char *ops[] = {"Sigmoid", "Sin", "IsNaN"};
    for (int i = 0; i < N_OF(ops); i++)
        for (int reference = 0; reference < 2; reference++) {
            op_case *c = opc_new(ops[i], 13, 1, 1);
            opc_input(c, 0, F32, 2, (int64_t[]){0, 3}, &dummy, false);
            run_checked(c, reference, 0, ops[i]);
            ck_assert_int_eq(c->out[0].rank, 2);
            ck_assert_int_eq(c->out[0].dims[0], 0);
            ck_assert_int_eq(c->out[0].dims[1], 3);
            opc_free(c);
        }
}
END_TEST

/* ==== integers ====================================================================== */

START_TEST(integer_ops)
{
    /* Abs/Neg/Sign by hand; INT_MIN has no positive counterpart, so Abs
     * and Neg wrap to INT_MIN (two's complement, as numpy does). */
    const int8_t x8[5] = {-128, -3, 0, 5, 127};
    const int32_t x32[5] = {INT32_MIN, -3, 0, 5, INT32_MAX};
    const int64_t x64[5] = {INT64_MIN, -3, 0, 5, INT64_MAX};
    const uint8_t xu8[5] = {0, 1, 5, 200, 255};
    const uint64_t xu64[5] = {0, 1, 5, UINT64_MAX - 1, UINT64_MAX};
    static const struct {
        const char *op;
        int opset;
        ortc_dtype dtype;
        int64_t y[5];
    } rows[] = {
        {"Abs", 13, I8, {-128, 3, 0, 5, 127}},
        {"Neg", 13, I8, {-128, 3, 0, -5, -127}},
        {"Sign", 13, I8, {-1, -1, 0, 1, 1}},
        {"Abs", 6, I32, {INT32_MIN, 3, 0, 5, INT32_MAX}},
        {"Neg", 6, I32, {INT32_MIN, 3, 0, -5, -INT32_MAX}},
        {"Sign", 9, I32, {-1, -1, 0, 1, 1}},
        {"Abs", 13, I64, {INT64_MIN, 3, 0, 5, INT64_MAX}},
        {"Neg", 13, I64, {INT64_MIN, 3, 0, -5, -INT64_MAX}},
        {"Sign", 13, I64, {-1, -1, 0, 1, 1}},
        {"Abs", 13, U8, {0, 1, 5, 200, 255}},
        {"Sign", 13, U8, {0, 1, 1, 1, 1}},
        {"Abs", 13, U64, {0, 1, 5, (int64_t)(UINT64_MAX - 1), (int64_t)UINT64_MAX}},
        {"Sign", 13, U64, {0, 1, 1, 1, 1}},
    };
    for (int i = 0; i < N_OF(rows); i++) {
        const void *x = rows[i].dtype == I8    ? (const void *)x8
                        : rows[i].dtype == I32 ? (const void *)x32
                        : rows[i].dtype == I64 ? (const void *)x64
                        : rows[i].dtype == U8  ? (const void *)xu8
                                               : (const void *)xu64;
        char what[96];
        snprintf(what, sizeof what, "%s-%d %s", rows[i].op, rows[i].opset,
                 ortc_dtype_name(rows[i].dtype));
        op_case *c = opc_new(rows[i].op, rows[i].opset, 1, 1);
        opc_input(c, 0, rows[i].dtype, 1, (int64_t[]){5}, x, false);
        run_checked(c, 0, 0, what);
        expect_ints(c, rows[i].dtype, rows[i].y, 5, what);
        opc_free(c);
    }

    /* Shrink on int16, lambd 1.5, bias 1.5: -3 -> -1.5 -> -1 (truncated
     * toward zero); -1, 0, 1 -> 0; 3 -> 1.5 -> 1; 10 -> 8.5 -> 8 */
    const int16_t xs[6] = {-3, -1, 0, 1, 3, 10};
    op_case *c = opc_new("Shrink", 9, 1, 1);
    opc_input(c, 0, I16, 1, (int64_t[]){6}, xs, false);
    opc_attr_float(c, "lambd", 1.5f);
    opc_attr_float(c, "bias", 1.5f);
    run_checked(c, 0, 0, "Shrink int16");
    expect_ints(c, I16, (const int64_t[]){-1, 0, 0, 0, 1, 8}, 6, "Shrink int16");
    opc_free(c);
}
END_TEST

/* ==== Clip ============================================================================ */

/* Runs Clip on float32 x[6] and checks y by hand. lo/hi: the bounds as
 * inputs (NULL: omitted); as_const: inputs are initializers; dnnl:
 * expected path (1 oneDNN, 0 plain C). */
static void clip_f32(int opset, const float *x, const float *lo, const float *hi, bool as_const,
                     const float *y, int dnnl, const char *what)
{
    op_case *c = opc_new("Clip", opset, opset >= 11 ? 3 : 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, x, false);
    if (opset >= 11) {
        opc_input(c, 1, lo ? F32 : ORTC_DTYPE_UNDEFINED, 0, NULL, lo, as_const);
        opc_input(c, 2, hi ? F32 : ORTC_DTYPE_UNDEFINED, 0, NULL, hi, as_const);
    } else {
        if (lo)
            opc_attr_float(c, "min", *lo);
        if (hi)
            opc_attr_float(c, "max", *hi);
    }
    for (int reference = 1; reference >= 0; reference--) {
        char name[160];
        snprintf(name, sizeof name, "%s (%s)", what, reference ? "reference" : "prepare+run");
        run_checked(c, reference, reference ? 0 : dnnl, name);
        assert_close_x(c->out[0].data, y, x, 6, 0, 0, name); /* exact: a selection */
    }
    opc_free(c);
}

START_TEST(clip_forms)
{
    const float x[6] = {-3, -1, 0, 1.5f, 2, 5};
    const float m1 = -1, p2 = 2, one = 1;
    const float y12[6] = {-1, -1, 0, 1.5f, 2, 2}; /* min -1, max 2 */
    const float y1x[6] = {-1, -1, 0, 1.5f, 2, 5}; /* min -1 only */
    const float yx2[6] = {-3, -1, 0, 1.5f, 2, 2}; /* max 2 only */
    /* min 2 > max 1: numpy's min(max(x, 2), 1) is 1 everywhere */
    const float yswap[6] = {1, 1, 1, 1, 1, 1};
    clip_f32(6, x, &m1, &p2, false, y12, 1, "Clip-6 attributes");
    clip_f32(1, x, &m1, &p2, false, y12, 1, "Clip-1 attributes");
    clip_f32(6, x, &m1, NULL, false, y1x, 1, "Clip-6 min only");
    clip_f32(11, x, &m1, &p2, true, y12, 1, "Clip-11 constant bounds");
    clip_f32(13, x, &m1, &p2, false, y12, 0, "Clip-13 bounds known at run time");
    clip_f32(13, x, &m1, NULL, true, y1x, 1, "Clip-13 min only");
    clip_f32(13, x, NULL, &p2, true, yx2, 1, "Clip-13 max only (min omitted)");
    clip_f32(13, x, NULL, &p2, false, yx2, 0, "Clip-13 max only at run time");
    clip_f32(13, x, NULL, NULL, true, x, 1, "Clip-13 no bounds");
    clip_f32(12, x, &p2, &one, true, yswap, 0, "Clip-12 min > max");
    clip_f32(6, x, &p2, &one, false, yswap, 0, "Clip-6 min > max");

    /* Absent bounds mean lowest()/max(): infinities clamp to -+FLT_MAX
     * (opset 6: the attributes' defaults; opset 13: numeric_limits) */
    const float xi[6] = {-INFINITY, INFINITY, 0, -FLT_MAX, FLT_MAX, 1};
    const float yi[6] = {-FLT_MAX, FLT_MAX, 0, -FLT_MAX, FLT_MAX, 1};
    clip_f32(6, xi, NULL, NULL, false, yi, 1, "Clip-6 default attributes");
    clip_f32(13, xi, NULL, NULL, true, yi, 1, "Clip-13 default bounds");

    /* A two-input node (max not listed at all) */
    op_case *c = opc_new("Clip", 13, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, x, false);
    opc_input(c, 1, F32, 1, (int64_t[]){1}, &m1, false);
    run_checked(c, 0, 0, "Clip-13 two inputs");
    assert_close_x(c->out[0].data, y1x, x, 6, 0, 0, "Clip-13 two inputs");
    opc_free(c);

    /* float64 with run-time bounds */
    const double xd[4] = {-3, 0.25, 7, -0.5}, lo = -0.5, hi = 0.5;
    const double yd[4] = {-0.5, 0.25, 0.5, -0.5};
    c = opc_new("Clip", 13, 3, 1);
    opc_input(c, 0, F64, 1, (int64_t[]){4}, xd, false);
    opc_input(c, 1, F64, 0, NULL, &lo, false);
    opc_input(c, 2, F64, 0, NULL, &hi, false);
    run_checked(c, 0, 0, "Clip-13 float64");
    assert_close_f64(c->out[0].data, yd, 4, 0, "Clip-13 float64");
    opc_free(c);

    /* The reference keeps NaN (numpy's clip does) */
    const float xn[6] = {NAN, 0, 0, 0, 0, 0}, yn[6] = {NAN, 0, 0, 0, 0, 0};
    clip_f32(13, xn, &m1, &p2, false, yn, 0, "Clip-13 NaN");
}
END_TEST

START_TEST(clip_integers)
{
    /* int8 (ONNX's test_clip_default_int8_*): min only, max only, both */
    const int8_t x[6] = {-128, -6, -5, 0, 5, 127}, lo = -5, hi = 5;
    static const struct {
        bool lo, hi;
        int64_t y[6];
    } rows[] = {
        {true, false, {-5, -5, -5, 0, 5, 127}},
        {false, true, {-128, -6, -5, 0, 5, 5}},
        {true, true, {-5, -5, -5, 0, 5, 5}},
        {false, false, {-128, -6, -5, 0, 5, 127}},
    };
    for (int i = 0; i < N_OF(rows); i++) {
        char what[64];
        snprintf(what, sizeof what, "Clip-12 int8 min=%d max=%d", rows[i].lo, rows[i].hi);
        op_case *c = opc_new("Clip", 12, 3, 1);
        opc_input(c, 0, I8, 1, (int64_t[]){6}, x, false);
        opc_input(c, 1, rows[i].lo ? I8 : ORTC_DTYPE_UNDEFINED, 0, NULL, &lo, false);
        opc_input(c, 2, rows[i].hi ? I8 : ORTC_DTYPE_UNDEFINED, 0, NULL, &hi, true);
        run_checked(c, 0, 0, what);
        expect_ints(c, I8, rows[i].y, 6, what);
        opc_free(c);
    }
    /* uint64 above INT64_MAX and int64 extremes compare in their own type */
    const uint64_t xu[3] = {0, (uint64_t)1 << 63, UINT64_MAX}, ulo = 1, uhi = UINT64_MAX - 1;
    op_case *c = opc_new("Clip", 13, 3, 1);
    opc_input(c, 0, U64, 1, (int64_t[]){3}, xu, false);
    opc_input(c, 1, U64, 0, NULL, &ulo, false);
    opc_input(c, 2, U64, 0, NULL, &uhi, false);
    run_checked(c, 0, 0, "Clip-13 uint64");
    expect_ints(c, U64, (const int64_t[]){1, INT64_MIN, (int64_t)(UINT64_MAX - 1)}, 3,
                "Clip-13 uint64");
    opc_free(c);
    const int64_t xl[3] = {INT64_MIN, 0, INT64_MAX}, llo = INT64_MIN + 1, lhi = 7;
    c = opc_new("Clip", 13, 3, 1);
    opc_input(c, 0, I64, 1, (int64_t[]){3}, xl, false);
    opc_input(c, 1, I64, 1, (int64_t[]){1}, &llo, true);
    opc_input(c, 2, I64, 0, NULL, &lhi, true);
    run_checked(c, 0, 0, "Clip-13 int64");
    expect_ints(c, I64, (const int64_t[]){INT64_MIN + 1, 0, 7}, 3, "Clip-13 int64");
    opc_free(c);
}
END_TEST

START_TEST(clip_random)
{
    /* oneDNN's clip_v2 against the reference on random data with the
     * specials except NaN (oneDNN maps NaN to a bound; see eltwise.c). */
    uint64_t seed = 9300;
    int64_t n = 609;
    float *x = random_with_specials(n, -4, 4, true, &seed);
    const float lo = -0.5f, hi = 0.75f;
    op_case *c = opc_new("Clip", 13, 3, 1);
    opc_input(c, 0, F32, 1, &n, x, false);
    opc_input(c, 1, F32, 0, NULL, &lo, true);
    opc_input(c, 2, F32, 0, NULL, &hi, true);
    compare_paths(c, 0, 0, 1, "Clip-13 random"); /* exact: a selection */
    opc_free(c);
    free(x);
}
END_TEST

/* ==== PRelu ============================================================================ */

START_TEST(prelu_hand)
{
    /* x (2, 3), slope (3) broadcast along the last dim:
     * [[-1, 2, -3], [4, -5, 6]] * [0.1, 0.2, 0.3] where x < 0 */
    const float x[6] = {-1, 2, -3, 4, -5, 6}, slope[3] = {0.1f, 0.2f, 0.3f};
    const double y[6] = {-0.1000000015, 2, -0.9000000358, 4, -1.0000000149, 6};
    for (int reference = 1; reference >= 0; reference--) {
        op_case *c = opc_new("PRelu", 16, 2, 1);
        opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, x, false);
        opc_input(c, 1, F32, 1, (int64_t[]){3}, slope, true);
        run_checked(c, reference, !reference, "PRelu-16 slope [3]");
        double got[6];
        out_as_double(c, got, 6);
        assert_close_f64(got, y, 6, 1e-6, "PRelu-16 slope [3]");
        opc_free(c);
    }

    /* Opset 6 (PyTorch's nn.PReLU export): x (2, 3, 2), slope [3] is per
     * channel (axis 1): channel k of both batches scales by slope[k]. At
     * opset 7 the same slope would broadcast against the last dim (2). */
    const float x3[12] = {-1, 1, -1, 1, -1, 1, -2, 2, -2, 2, -2, 2};
    const float y3[12] = {-0.1f, 1, -0.2f, 1, -0.3f, 1, -0.2f, 2, -0.4f, 2, -0.6f, 2};
    for (int reference = 1; reference >= 0; reference--) {
        op_case *c = opc_new("PRelu", 6, 2, 1);
        opc_input(c, 0, F32, 3, (int64_t[]){2, 3, 2}, x3, false);
        opc_input(c, 1, F32, 1, (int64_t[]){3}, slope, true);
        run_checked(c, reference, !reference, "PRelu-6 per-channel slope");
        assert_close_x(c->out[0].data, y3, x3, 12, 1e-7, 0, "PRelu-6 per-channel slope");
        opc_free(c);
    }

    /* Integers (opset 9+): int32 -3 * 2 = -6, int64 wraps like numpy
     * (INT64_MIN * 2 = 0); uint32 is never negative, so y = x */
    const int32_t xi[3] = {-3, 4, 0}, si[1] = {2};
    op_case *c = opc_new("PRelu", 9, 2, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){3}, xi, false);
    opc_input(c, 1, I32, 1, (int64_t[]){1}, si, false);
    run_checked(c, 0, 0, "PRelu-9 int32");
    expect_ints(c, I32, (const int64_t[]){-6, 4, 0}, 3, "PRelu-9 int32");
    opc_free(c);
    const int64_t xl[2] = {INT64_MIN, -5}, sl[2] = {2, -3};
    c = opc_new("PRelu", 16, 2, 1);
    opc_input(c, 0, I64, 1, (int64_t[]){2}, xl, false);
    opc_input(c, 1, I64, 1, (int64_t[]){2}, sl, false);
    run_checked(c, 0, 0, "PRelu-16 int64");
    expect_ints(c, I64, (const int64_t[]){0, 15}, 2, "PRelu-16 int64");
    opc_free(c);
    const uint32_t xu[2] = {0, 4000000000u}, su[1] = {3};
    c = opc_new("PRelu", 16, 2, 1);
    opc_input(c, 0, U32, 1, (int64_t[]){2}, xu, false);
    opc_input(c, 1, U32, 0, NULL, su, false);
    run_checked(c, 0, 0, "PRelu-16 uint32");
    expect_ints(c, U32, (const int64_t[]){0, 4000000000}, 2, "PRelu-16 uint32");
    opc_free(c);

    /* float64: slope (2, 1) onto x (2, 2): row r scales by slope[r] */
    const double xd[4] = {-1, -2, -3, 4}, sd[2] = {0.5, -2}, yd[4] = {-0.5, -1, 6, 4};
    c = opc_new("PRelu", 16, 2, 1);
    opc_input(c, 0, F64, 2, (int64_t[]){2, 2}, xd, false);
    opc_input(c, 1, F64, 2, (int64_t[]){2, 1}, sd, false);
    run_checked(c, 0, 0, "PRelu-16 float64");
    assert_close_f64(c->out[0].data, yd, 4, 0, "PRelu-16 float64");
    opc_free(c);
}
END_TEST

static const struct prelu_cfg {
    int opset;
    int rx, rs;
    int64_t x[5], s[5];
    bool slope_const;
    const char *name;
} prelu_cfgs[] = {
    {16, 3, 1, {3, 4, 5}, {5}, true, "slope [5] onto [3,4,5]"},
    {16, 3, 2, {3, 4, 5}, {4, 1}, true, "slope [4,1] onto [3,4,5]"},
    {16, 3, 1, {3, 4, 5}, {1}, false, "slope [1] (run-time input)"},
    {16, 3, 0, {3, 4, 5}, {0}, true, "scalar slope"},
    {16, 3, 3, {3, 4, 5}, {3, 4, 5}, false, "full slope"},
    {9, 4, 3, {2, 3, 4, 5}, {3, 1, 1}, true, "per-channel slope [3,1,1]"},
    {7, 4, 4, {2, 3, 4, 5}, {2, 1, 4, 1}, true, "slope [2,1,4,1]"},
    {6, 5, 1, {2, 3, 2, 3, 4}, {3}, true, "opset 6 per-channel, rank 5"},
};

START_TEST(prelu_random)
{
    const struct prelu_cfg *p = &prelu_cfgs[_i];
    uint64_t seed = 9400 + (uint64_t)_i;
    int64_t nx = 1, ns = 1;
    for (int i = 0; i < p->rx; i++)
        nx *= p->x[i];
    for (int i = 0; i < p->rs; i++)
        ns *= p->s[i];
    float *x = random_with_specials(nx, -2, 2, false, &seed);
    float *sl = malloc((size_t)ns * sizeof *sl);
    ck_assert_ptr_nonnull(sl);
    opc_fill_uniform(sl, ns, -1, 1, &seed);
    op_case *c = opc_new("PRelu", p->opset, 2, 1);
    opc_input(c, 0, F32, p->rx, p->x, x, false);
    opc_input(c, 1, F32, p->rs, p->s, sl, p->slope_const);
    /* slope * x is one float multiplication on both paths: exact */
    compare_paths(c, 0, 0, 1, p->name);
    opc_free(c);
    free(x);
    free(sl);
}
END_TEST

/* ==== in place, through a session ===========================================================
 * A chain x -> Neg -> Selu -> HardSigmoid -> Sin -> PRelu -> Clip -> y where
 * every intermediate dies at its consumer, so each op may write over its
 * input: the arena then holds one tensor. The result must equal the ops'
 * reference kernels applied one after another (oneDNN's two-pass Selu and
 * HardSigmoid run their second pass on the output in place). */

static ortc_value *chain_value(ortc_graph *g, const char *name)
{
    ortc_value *v = ortc_graph_get_value(g, name);
    ck_assert_ptr_nonnull(v);
    return v;
}

static void chain_const(ortc_graph *g, const char *name, int rank, const int64_t *dims,
                        const float *vals, int64_t n)
{
    ortc_const_tensor *t = ortc_const_tensor_new(F32, rank, dims);
    ck_assert_ptr_nonnull(t);
    memcpy(t->t.data, vals, (size_t)n * sizeof *vals);
    ortc_value_set_constant(chain_value(g, name), t);
}

START_TEST(inplace_chain)
{
    static const char *const ops[] = {"Neg", "Selu", "HardSigmoid", "Sin", "PRelu", "Clip"};
    enum { N = 2 * 3 * 50 };
    const int64_t dims[3] = {2, 3, 50};
    const float slope[3] = {0.5f, -1, 2}, lo = -0.3f, hi = 0.9f;
    ortc_model *m = ortc_model_new();
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(ortc_model_add_opset(m, "", 13), 0);
    ortc_graph *g = m->graph = ortc_graph_new(m, NULL, "chain");
    ortc_value *x = chain_value(g, "x");
    ortc_value_set_shape(x, F32, 3, dims);
    x->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(g, x), 0);
    chain_const(g, "slope", 2, (int64_t[]){3, 1}, slope, 3);
    chain_const(g, "lo", 0, NULL, &lo, 1);
    chain_const(g, "hi", 0, NULL, &hi, 1);
    const char *prev = "x";
    char names[N_OF(ops)][8];
    for (int i = 0; i < N_OF(ops); i++) {
        snprintf(names[i], sizeof names[i], i + 1 < N_OF(ops) ? "t%d" : "y", i);
        int n_in = !strcmp(ops[i], "PRelu") ? 2 : !strcmp(ops[i], "Clip") ? 3 : 1;
        ortc_node *n = ortc_graph_add_node(g, ops[i], "", ops[i], n_in, 1);
        ck_assert_ptr_nonnull(n);
        n->inputs[0] = chain_value(g, prev);
        if (n_in == 2)
            n->inputs[1] = chain_value(g, "slope");
        if (n_in == 3) {
            n->inputs[1] = chain_value(g, "lo");
            n->inputs[2] = chain_value(g, "hi");
        }
        n->outputs[0] = chain_value(g, names[i]);
        prev = names[i];
    }
    ck_assert_int_eq(ortc_graph_add_output(g, chain_value(g, "y")), 0);

    ortc_options o;
    ortc_options_init(&o);
    o.threads = THREADS;
    ortc_session *s = session_ok(m, &o);
    float xv[N], y[N];
    uint64_t seed = 9500;
    opc_fill_uniform(xv, N, -3, 3, &seed);
    ortc_tensor in = {F32, 3, {2, 3, 50}, xv};
    ortc_tensor out = {F32, 3, {2, 3, 50}, y};
    uint64_t before = ortc_dnnl_exec_count();
    ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s",
                  ortc_session_last_error(s));
    ck_assert_msg(ortc_dnnl_exec_count() > before, "the chain ran no oneDNN primitive");
    ortc_plan_stats st;
    ck_assert_int_eq(ortc_session_plan_stats(s, &st), ORTC_STATUS_OK);
    /* one tensor, rounded up to the arena's 64-byte alignment */
    ck_assert_msg(st.arena_bytes < 2 * N * sizeof(float),
                  "arena %zu bytes: the outputs did not reuse their inputs (one tensor is %zu)",
                  st.arena_bytes, N * sizeof(float));
    ortc_session_destroy(s);

    /* expected: each op's reference kernel in turn */
    float cur[N];
    memcpy(cur, xv, sizeof cur);
    for (int i = 0; i < N_OF(ops); i++) {
        int n_in = !strcmp(ops[i], "PRelu") ? 2 : !strcmp(ops[i], "Clip") ? 3 : 1;
        op_case *c = opc_new(ops[i], 13, n_in, 1);
        opc_input(c, 0, F32, 3, dims, cur, false);
        if (n_in == 2)
            opc_input(c, 1, F32, 2, (int64_t[]){3, 1}, slope, true);
        if (n_in == 3) {
            opc_input(c, 1, F32, 0, NULL, &lo, true);
            opc_input(c, 2, F32, 0, NULL, &hi, true);
        }
        run_checked(c, 1, 0, ops[i]);
        memcpy(cur, c->out[0].data, sizeof cur);
        opc_free(c);
    }
    /* tolerance as for the single ops (Selu's e^x - 1: 1e-5 relative,
     * 1e-6 absolute), carried through Sin (derivative <= 1) */
    assert_close_x(y, cur, xv, N, 1e-5, 1e-6, "in-place chain");
}
END_TEST

/* ==== errors and registration ============================================================ */

START_TEST(infer_errors)
{
    float f[6] = {0};
    int32_t i32[6] = {0};
    double d[6] = {0};
    op_case *c;

    c = opc_new("Sin", 7, 1, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){6}, i32, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "Sin int32");
    opc_free(c);

    /* Abs takes integers from opset 6 on */
    c = opc_new("Abs", 1, 1, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){6}, i32, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "Abs-1 int32");
    opc_free(c);

    c = opc_new("Neg", 13, 1, 1);
    opc_input(c, 0, U8, 1, (int64_t[]){6}, i32, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "uint8", "Neg uint8");
    opc_free(c);

    c = opc_new("Celu", 12, 1, 1);
    opc_input(c, 0, F64, 1, (int64_t[]){6}, d, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "float64", "Celu float64");
    opc_free(c);

    /* Clip takes integers from opset 12 on */
    c = opc_new("Clip", 11, 1, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){6}, i32, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "Clip-11 int32");
    opc_free(c);

    c = opc_new("Clip", 13, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){6}, f, false);
    opc_input(c, 1, F64, 0, NULL, d, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "dtype", "Clip min dtype");
    opc_free(c);

    c = opc_new("Clip", 13, 3, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){6}, f, false);
    opc_input(c, 1, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    opc_input(c, 2, F32, 1, (int64_t[]){2}, f, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "scalar", "Clip max shape [2]");
    opc_free(c);

    /* Before opset 11 Clip has one input */
    c = opc_new("Clip", 6, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){6}, f, false);
    opc_input(c, 1, F32, 0, NULL, f, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "inputs", "Clip-6 with two inputs");
    opc_free(c);

    c = opc_new("PRelu", 16, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 2}, f, false);
    opc_input(c, 1, F32, 1, (int64_t[]){3}, f, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "broadcast", "PRelu slope [3] onto [3,2]");
    opc_free(c);

    /* unidirectional: the slope may not be larger than X */
    c = opc_new("PRelu", 16, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){3}, f, false);
    opc_input(c, 1, F32, 2, (int64_t[]){2, 3}, f, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "broadcast", "PRelu slope [2,3] onto [3]");
    opc_free(c);

    c = opc_new("PRelu", 16, 2, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){3}, f, false);
    opc_input(c, 1, F64, 1, (int64_t[]){1}, d, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "dtype", "PRelu slope dtype");
    opc_free(c);

    c = opc_new("PRelu", 16, 1, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){3}, f, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "inputs", "PRelu without slope");
    opc_free(c);

    c = opc_new("LeakyRelu", 16, 1, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){6}, f, false);
    opc_attr_int(c, "alpha", 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "alpha", "LeakyRelu int alpha");
    opc_free(c);

    c = opc_new("IsInf", 10, 1, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){6}, f, false);
    opc_attr_float(c, "detect_negative", 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "detect_negative", "IsInf float attribute");
    opc_free(c);

    c = opc_new("IsNaN", 13, 1, 1);
    opc_input(c, 0, I32, 1, (int64_t[]){6}, i32, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "IsNaN int32");
    opc_free(c);
}
END_TEST

/* Registration: every ONNX 1.12 since_version, resolved by opset, with a
 * reference kernel exactly for the ops that have a oneDNN path. */
START_TEST(registry_versions)
{
    static const struct {
        const char *op;
        int versions[6];
    } ops[] = {
        {"Relu", {1, 6, 13, 14}},
        {"LeakyRelu", {1, 6, 16}},
        {"PRelu", {1, 6, 7, 9, 16}},
        {"Elu", {1, 6}},
        {"Selu", {1, 6}},
        {"Sigmoid", {1, 6, 13}},
        {"HardSigmoid", {1, 6}},
        {"HardSwish", {14}},
        {"Tanh", {1, 6, 13}},
        {"Softplus", {1}},
        {"Clip", {1, 6, 11, 12, 13}},
        {"Sqrt", {1, 6, 13}},
        {"Exp", {1, 6, 13}},
        {"Log", {1, 6, 13}},
        {"Abs", {1, 6, 13}},
        {"Neg", {1, 6, 13}},
        {"Reciprocal", {1, 6, 13}},
        {"Floor", {1, 6, 13}},
        {"Ceil", {1, 6, 13}},
        {"Sin", {7}},
        {"Cos", {7}},
        {"Tan", {7}},
        {"Asin", {7}},
        {"Acos", {7}},
        {"Atan", {7}},
        {"Sinh", {9}},
        {"Cosh", {9}},
        {"Asinh", {9}},
        {"Acosh", {9}},
        {"Atanh", {9}},
        {"Erf", {9, 13}},
        {"Sign", {9, 13}},
        {"Round", {11}},
        {"Softsign", {1}},
        {"ThresholdedRelu", {10}},
        {"Celu", {12}},
        {"Shrink", {9}},
        {"IsNaN", {9, 13}},
        {"IsInf", {10}},
    };
    for (int i = 0; i < N_OF(ops); i++) {
        const int *v = ops[i].versions;
        int first = v[0];
        ck_assert_msg(ortc_registry_find("", ops[i].op, first - 1) == NULL,
                      "%s resolves below its first version %d", ops[i].op, first);
        for (int opset = first; opset <= 17; opset++) {
            int want = first;
            for (int k = 0; k < 6 && v[k]; k++)
                if (v[k] <= opset)
                    want = v[k];
            const ortc_operator *op = ortc_registry_find("", ops[i].op, opset);
            ck_assert_msg(op != NULL, "%s at opset %d not registered", ops[i].op, opset);
            ck_assert_msg(ortc_operator_version(op, opset) == want,
                          "%s at opset %d resolves to %d, not %d", ops[i].op, opset,
                          ortc_operator_version(op, opset), want);
            ck_assert_msg((op->reference != NULL) ==
                              (has_dnnl_path(ops[i].op) || !strcmp(ops[i].op, "Clip") ||
                               !strcmp(ops[i].op, "PRelu")),
                          "%s-%d: reference kernel %s", ops[i].op, ortc_operator_version(op, opset),
                          op->reference ? "set for a plain-C op" : "missing");
        }
    }
}
END_TEST

void ortc_cases_ops_eltwise(Suite *s)
{
    TCase *tc = tcase_create("eltwise_hand");
    tcase_add_loop_test(tc, hand_values, 0, N_OF(hand_cases));
    suite_add_tcase(s, tc);

    tcase_add_test(tc, special_values);
    tcase_add_test(tc, isnan_isinf);
    tcase_add_test(tc, erf_fast_kernel);
    tcase_add_test(tc, gelu_fast_kernel);
    tcase_add_test(tc, swish_fast_kernel);
    tcase_add_test(tc, empty_tensor);
    tcase_add_test(tc, integer_ops);
    suite_add_tcase(s, tc);

    tc = tcase_create("eltwise_dnnl");
    tcase_add_loop_test(tc, dnnl_vs_reference, 0, N_OF(dnnl_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("eltwise_clip_prelu");
    tcase_add_test(tc, clip_forms);
    tcase_add_test(tc, clip_integers);
    tcase_add_test(tc, clip_random);
    tcase_add_test(tc, prelu_hand);
    tcase_add_loop_test(tc, prelu_random, 0, N_OF(prelu_cfgs));
    suite_add_tcase(s, tc);

    tc = tcase_create("eltwise_session");
    tcase_add_test(tc, inplace_chain);
    suite_add_tcase(s, tc);

    tc = tcase_create("eltwise_errors");
    tcase_add_test(tc, infer_errors);
    tcase_add_test(tc, registry_versions);
    suite_add_tcase(s, tc);
}
