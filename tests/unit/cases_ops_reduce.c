/* cases_ops_reduce.c — reductions (reduce.c), ArgMax/ArgMin, the
 * normalizations (norm.c), LogSoftmax/Hardmax (softmax.c) and GlobalMaxPool
 * (pool.c): reference kernels against hand-derived values, the oneDNN paths
 * against the reference kernels on random inputs (checking which path ran),
 * the integer/double plain-C paths against hand values, and infer's errors.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "dnnl_util.h"
#include "helper_cases.h"
#include "helper_ops.h"

/* Element i of a numeric output as double. */
static double elem(const ortc_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case ORTC_DTYPE_FLOAT: return ((const float *)t->data)[i];
    case ORTC_DTYPE_DOUBLE: return ((const double *)t->data)[i];
    case ORTC_DTYPE_INT8: return ((const int8_t *)t->data)[i];
    case ORTC_DTYPE_UINT8: return ((const uint8_t *)t->data)[i];
    case ORTC_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    case ORTC_DTYPE_UINT32: return ((const uint32_t *)t->data)[i];
    case ORTC_DTYPE_INT64: return (double)((const int64_t *)t->data)[i];
    case ORTC_DTYPE_UINT64: return (double)((const uint64_t *)t->data)[i];
    default: ck_abort_msg("test helper: dtype %s", ortc_dtype_name(t->dtype)); return 0;
    }
}

/* Output k must have dtype, shape and values exp (|got-exp| <= atol +
 * rtol*|exp|; NaN matches NaN, infinities must match exactly). Fails naming
 * the worst element. */
static void check_output(op_case *c, int k, ortc_dtype dtype, int rank, const int64_t *dims,
                         const double *exp, double rtol, double atol, const char *what)
{
    const ortc_tensor *t = &c->out[k];
    ck_assert_msg(t->dtype == dtype, "%s: output %d dtype %s, expected %s", what, k,
                  ortc_dtype_name(t->dtype), ortc_dtype_name(dtype));
    ck_assert_msg(t->rank == rank, "%s: output %d rank %d, expected %d", what, k, t->rank, rank);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(t->dims[i] == dims[i], "%s: output %d dim %d is %lld, expected %lld", what, k,
                      i, (long long)t->dims[i], (long long)dims[i]);
    int64_t n = numel_of(rank, dims), worst = -1;
    double worst_err = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = elem(t, i), e = exp[i];
        if ((isnan(g) && isnan(e)) || g == e)
            continue;
        double err =
            isinf(e) || isnan(e) || isnan(g) ? INFINITY : fabs(g - e) - (atol + rtol * fabs(e));
        if (err > 0 && (worst < 0 || err > worst_err))
            worst = i, worst_err = err;
    }
    ck_assert_msg(worst < 0,
                  "%s: output %d, %lld elements, worst at %lld: got %.17g expected %.17g "
                  "(rtol %g atol %g)",
                  what, k, (long long)n, (long long)worst, worst >= 0 ? elem(t, worst) : 0.0,
                  worst >= 0 ? exp[worst] : 0.0, rtol, atol);
}

/* Runs c on the reference kernel, then on prepare+run (where `path` says
 * whether oneDNN must, must not, or may run), checking output 0 each time
 * against exp (doubles, whatever the output's dtype). */
static void expect_both_as_double(op_case *c, int path, ortc_dtype dtype, int rank,
                                  const int64_t *dims, const double *exp, double rtol, double atol,
                                  const char *what)
{
    for (int reference = 1; reference >= 0; reference--) {
        char name[200];
        snprintf(name, sizeof name, "%s (%s)", what, reference ? "reference" : "prepare+run");
        run_checked(c, reference, reference ? PATH_PLAIN : path, name);
        check_output(c, 0, dtype, rank, dims, exp, rtol, atol, name);
    }
}

/* ==== Reduce*: hand-derived values ========================================== */

START_TEST(reduce_hand_each_op)
{
    /* x = [[1,-2],[3,-4]], reduced along axis 1 (keepdims: shape (2,1)).
     * Row sums -1, -1; means -0.5; max 1, 3; min -2, -4; products -2, -12;
     * L1 3, 7; L2 sqrt(5), 5; sum of squares 5, 25; LogSumExp
     * log(e + e^-2) = 1.04858735, log(e^3 + e^-4) = 3.00091147 (numpy).
     * LogSum needs positive sums: on [[1,2],[3,4]], log 3, log 7. */
    static const float x[4] = {1, -2, 3, -4}, xp[4] = {1, 2, 3, 4};
    static const struct {
        const char *op;
        const float *x;
        double exp[2];
        int path;
    } cases[] = {
        {"ReduceSum", x, {-1, -1}, PATH_DNNL},
        {"ReduceMean", x, {-0.5, -0.5}, PATH_DNNL},
        {"ReduceMax", x, {1, 3}, PATH_DNNL},
        {"ReduceMin", x, {-2, -4}, PATH_DNNL},
        {"ReduceProd", x, {-2, -12}, PATH_DNNL},
        {"ReduceL1", x, {3, 7}, PATH_DNNL},
        {"ReduceL2", x, {2.2360679774997898, 5}, PATH_DNNL},
        {"ReduceSumSquare", x, {5, 25}, PATH_DNNL},
        {"ReduceLogSum", xp, {1.0986122886681098, 1.9459101090932196}, PATH_DNNL},
        {"ReduceLogSumExp", x, {1.04858735, 3.00091147}, PATH_PLAIN},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        for (int opset = 11; opset <= 13; opset += 2) {
            bool input_axes = opset >= 13 && !strcmp(cases[i].op, "ReduceSum");
            op_case *c = opc_new(cases[i].op, opset, input_axes ? 2 : 1, 1);
            opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, cases[i].x, false);
            static const int64_t axes[1] = {1};
            if (input_axes)
                opc_input(c, 1, I64, 1, (int64_t[]){1}, axes, true);
            else
                opc_attr_ints(c, "axes", axes, 1);
            char what[96];
            snprintf(what, sizeof what, "%s-%d axis 1", cases[i].op, opset);
            /* float results of small exact sums; 1e-6 covers log/exp/sqrt */
            expect_both_as_double(c, cases[i].path, F32, 2, (int64_t[]){2, 1}, cases[i].exp, 1e-6,
                                  1e-6, what);
            opc_free(c);
        }
    }
}
END_TEST

START_TEST(reduce_hand_axes_and_keepdims)
{
    float x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (float)i;
    /* x = 0..7 as (2,2,2), axes [0,2] (not adjacent): output j sums
     * x[0,j,:] and x[1,j,:]: j=0: 0+1+4+5 = 10, j=1: 2+3+6+7 = 18 */
    op_case *c = opc_new("ReduceSum", 11, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){2, 2, 2}, x, false);
    opc_attr_ints(c, "axes", (int64_t[]){0, 2}, 2);
    opc_attr_int(c, "keepdims", 0);
    expect_both_as_double(c, PATH_DNNL, F32, 1, (int64_t[]){2}, (const double[]){10, 18}, 0, 0,
                          "sum axes 0,2");
    opc_free(c);

    /* the same with negative axes [-1, -3] and keepdims -> (1,2,1) */
    c = opc_new("ReduceMax", 13, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){2, 2, 2}, x, false);
    opc_attr_ints(c, "axes", (int64_t[]){-1, -3}, 2);
    expect_both_as_double(c, PATH_DNNL, F32, 3, (int64_t[]){1, 2, 1}, (const double[]){5, 7}, 0, 0,
                          "max axes -1,-3");
    opc_free(c);

    /* no axes: everything; mean of 0..7 = 3.5, keepdims 1 -> (1,1,1) and
     * keepdims 0 -> a scalar */
    for (int keep = 0; keep <= 1; keep++) {
        c = opc_new("ReduceMean", 13, 1, 1);
        opc_input(c, 0, F32, 3, (int64_t[]){2, 2, 2}, x, false);
        opc_attr_int(c, "keepdims", keep);
        expect_both_as_double(c, PATH_DNNL, F32, keep ? 3 : 0, (int64_t[]){1, 1, 1},
                              (const double[]){3.5}, 0, 0,
                              keep ? "mean all keepdims" : "mean all to scalar");
        opc_free(c);
    }

    /* ReduceSum-13, axes input empty: all axes (28), or with
     * noop_with_empty_axes the input unchanged; no axes input at all: all */
    static const int64_t none[1] = {0};
    for (int noop = 0; noop <= 1; noop++) {
        c = opc_new("ReduceSum", 13, 2, 1);
        opc_input(c, 0, F32, 3, (int64_t[]){2, 2, 2}, x, false);
        opc_input(c, 1, I64, 1, (int64_t[]){0}, none, true);
        opc_attr_int(c, "noop_with_empty_axes", noop);
        double ident[8];
        for (int i = 0; i < 8; i++)
            ident[i] = i;
        if (noop)
            expect_both_as_double(c, PATH_PLAIN, F32, 3, (int64_t[]){2, 2, 2}, ident, 0, 0,
                                  "sum-13 noop");
        else
            expect_both_as_double(c, PATH_DNNL, F32, 3, (int64_t[]){1, 1, 1}, (const double[]){28},
                                  0, 0, "sum-13 empty axes");
        opc_free(c);
    }
    c = opc_new("ReduceSum", 13, 1, 1);
    opc_input(c, 0, F32, 3, (int64_t[]){2, 2, 2}, x, false);
    opc_attr_int(c, "keepdims", 0);
    expect_both_as_double(c, PATH_DNNL, F32, 0, NULL, (const double[]){28}, 0, 0,
                          "sum-13 no axes input");
    opc_free(c);

    /* LogSum of a sum near 1: log(1 + 2^-16) = 1.5258672648362397e-05
     * (python's math.log1p); the float sum is exact. oneDNN's own log is off
     * by ~1.4e-6 here (10%); ortc takes logf of oneDNN's sum: a few ulp. */
    static const float xs[2] = {1, 1.52587890625e-05f};
    c = opc_new("ReduceLogSum", 13, 1, 1);
    opc_input(c, 0, F32, 1, (int64_t[]){2}, xs, false);
    expect_both_as_double(c, PATH_DNNL, F32, 1, (int64_t[]){1},
                          (const double[]){1.5258672648362397e-05}, 1e-6, 0, "logsum near 1");
    opc_free(c);

    /* reducing only size-1 dims is elementwise: L2 of (2,1) over axis 1 is
     * |x|, LogSum is log x (plain C; nothing to reduce) */
    static const float x2[2] = {-3, 4};
    c = opc_new("ReduceL2", 13, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 1}, x2, false);
    opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
    expect_both_as_double(c, PATH_PLAIN, F32, 2, (int64_t[]){2, 1}, (const double[]){3, 4}, 0, 0,
                          "l2 over a size-1 dim");
    opc_free(c);
}
END_TEST

START_TEST(reduce_hand_empty_set)
{
    /* x: (2, 0) reduced over axis 1: each output reduces nothing. The
     * identities (ONNX 18 spells them out): sums and norms 0, Prod 1, Max
     * -inf, Min +inf, LogSum = log 0 = -inf, LogSumExp -inf, Mean 0/0 = NaN.
     * oneDNN cannot express this: plain C. */
    static const struct {
        const char *op;
        double v;
    } cases[] = {
        {"ReduceSum", 0},
        {"ReduceMean", NAN},
        {"ReduceMax", -INFINITY},
        {"ReduceMin", INFINITY},
        {"ReduceProd", 1},
        {"ReduceL1", 0},
        {"ReduceL2", 0},
        {"ReduceSumSquare", 0},
        {"ReduceLogSum", -INFINITY},
        {"ReduceLogSumExp", -INFINITY},
    };
    float dummy[1] = {0};
    for (int i = 0; i < N_OF(cases); i++) {
        op_case *c = opc_new(cases[i].op, 11, 1, 1);
        opc_input(c, 0, F32, 2, (int64_t[]){2, 0}, dummy, false);
        opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
        double exp[2] = {cases[i].v, cases[i].v};
        char what[64];
        snprintf(what, sizeof what, "%s over an empty axis", cases[i].op);
        expect_both_as_double(c, PATH_PLAIN, F32, 2, (int64_t[]){2, 1}, exp, 0, 0, what);
        opc_free(c);
    }
    /* and the other way round: a kept dim of 0 -> an empty output */
    op_case *c = opc_new("ReduceSum", 11, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){0, 3}, dummy, false);
    opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
    expect_both_as_double(c, PATH_PLAIN, F32, 2, (int64_t[]){0, 1}, NULL, 0, 0,
                          "sum with an empty kept dim");
    opc_free(c);
}
END_TEST

START_TEST(reduce_hand_int_double)
{
    /* int32 [[1,2],[3,4]] axis 1: sums 3, 7; means 1.5 -> 1 and 3.5 -> 3
     * (truncated like numpy's astype); products 2, 12; sum of squares 5, 25;
     * L2 sqrt(5) -> 2, sqrt(25) = 5 */
    static const int32_t xi[4] = {1, 2, 3, 4};
    static const struct {
        const char *op;
        double exp[2];
    } i32[] = {
        {"ReduceSum", {3, 7}},        {"ReduceMean", {1, 3}}, {"ReduceProd", {2, 12}},
        {"ReduceSumSquare", {5, 25}}, {"ReduceL2", {2, 5}},   {"ReduceMax", {2, 4}},
        {"ReduceMin", {1, 3}},        {"ReduceL1", {3, 7}},
    };
    for (int i = 0; i < N_OF(i32); i++) {
        op_case *c = opc_new(i32[i].op, 11, 1, 1);
        opc_input(c, 0, ORTC_DTYPE_INT32, 2, (int64_t[]){2, 2}, xi, false);
        opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
        opc_attr_int(c, "keepdims", 0);
        char what[64];
        snprintf(what, sizeof what, "%s int32", i32[i].op);
        expect_both_as_double(c, PATH_PLAIN, ORTC_DTYPE_INT32, 1, (int64_t[]){2}, i32[i].exp, 0, 0,
                              what);
        opc_free(c);
    }

    /* int64 beyond double's exact range: 2^62 + 1 and 2^62 + 3 sum to
     * 2^63 + 4, which wraps to INT64_MIN + 4; Max picks 2^62 + 3 exactly */
    static const int64_t big[2] = {(INT64_C(1) << 62) + 1, (INT64_C(1) << 62) + 3};
    op_case *c = opc_new("ReduceSum", 11, 1, 1);
    opc_input(c, 0, I64, 1, (int64_t[]){2}, big, false);
    opc_attr_int(c, "keepdims", 0);
    ck_assert_int_eq(opc_run(c, 0, THREADS), ORTC_STATUS_OK);
    ck_assert_int_eq(((int64_t *)c->out[0].data)[0], INT64_MIN + 4);
    opc_free(c);
    c = opc_new("ReduceMax", 13, 1, 1);
    opc_input(c, 0, I64, 1, (int64_t[]){2}, big, false);
    ck_assert_int_eq(opc_run(c, 0, THREADS), ORTC_STATUS_OK);
    ck_assert_int_eq(((int64_t *)c->out[0].data)[0], big[1]);
    opc_free(c);

    /* uint64 compares unsigned: max(1, 2^64-1) = 2^64-1, min = 1 */
    static const uint64_t u[2] = {1, UINT64_MAX};
    for (int is_max = 0; is_max <= 1; is_max++) {
        c = opc_new(is_max ? "ReduceMax" : "ReduceMin", 13, 1, 1);
        opc_input(c, 0, ORTC_DTYPE_UINT64, 1, (int64_t[]){2}, u, false);
        ck_assert_int_eq(opc_run(c, 0, THREADS), ORTC_STATUS_OK);
        ck_assert_uint_eq(((uint64_t *)c->out[0].data)[0], is_max ? UINT64_MAX : 1);
        opc_free(c);
    }

    /* int8 Max/Min from opset 12: max(-128, 5, -3) = 5, min = -128; empty
     * Max gives the type's minimum */
    static const int8_t i8[3] = {-128, 5, -3};
    c = opc_new("ReduceMin", 12, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_INT8, 1, (int64_t[]){3}, i8, false);
    expect_both_as_double(c, PATH_PLAIN, ORTC_DTYPE_INT8, 1, (int64_t[]){1}, (const double[]){-128},
                          0, 0, "min int8");
    opc_free(c);
    c = opc_new("ReduceMax", 12, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_INT8, 2, (int64_t[]){1, 0}, i8, false);
    opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
    expect_both_as_double(c, PATH_PLAIN, ORTC_DTYPE_INT8, 2, (int64_t[]){1, 1},
                          (const double[]){-128}, 0, 0, "empty max int8");
    opc_free(c);

    /* double LogSumExp without overflow: [1000, 1000] -> 1000 + log 2;
     * [-inf, -inf] -> -inf */
    static const double xd[4] = {1000, 1000, -INFINITY, -INFINITY};
    c = opc_new("ReduceLogSumExp", 13, 1, 1);
    opc_input(c, 0, F64, 2, (int64_t[]){2, 2}, xd, false);
    opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
    opc_attr_int(c, "keepdims", 0);
    expect_both_as_double(c, PATH_PLAIN, F64, 1, (int64_t[]){2},
                          (const double[]){1000 + 0.69314718055994531, -INFINITY}, 1e-15, 1e-15,
                          "logsumexp double");
    opc_free(c);

    /* double Sum keeps double precision: 1 + 1e-12 */
    static const double xs[2] = {1, 1e-12};
    c = opc_new("ReduceSum", 11, 1, 1);
    opc_input(c, 0, F64, 1, (int64_t[]){2}, xs, false);
    expect_both_as_double(c, PATH_PLAIN, F64, 1, (int64_t[]){1}, (const double[]){1 + 1e-12}, 1e-16,
                          1e-16, "sum double");
    opc_free(c);

    /* NaN propagates through Max/Min as in numpy: rows [1,NaN,3] and
     * [4,5,6] -> max [NaN, 6], min [NaN, 4]. oneDNN's reduction drops NaNs,
     * so an input with a NaN takes the plain-C kernel. */
    static const float xn[6] = {1, NAN, 3, 4, 5, 6};
    for (int is_max = 0; is_max <= 1; is_max++) {
        c = opc_new(is_max ? "ReduceMax" : "ReduceMin", 13, 1, 1);
        opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, xn, false);
        opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
        opc_attr_int(c, "keepdims", 0);
        const double emax[2] = {NAN, 6}, emin[2] = {NAN, 4};
        expect_both_as_double(c, PATH_PLAIN, F32, 1, (int64_t[]){2}, is_max ? emax : emin, 0, 0,
                              is_max ? "max with NaN" : "min with NaN");
        opc_free(c);
    }
}
END_TEST

/* ==== Reduce*: oneDNN against the reference on random inputs ================= */

static const struct {
    int rank;
    int64_t dims[5];
    int n_axes; /* -1: no axes attribute */
    int64_t axes[4];
    int keepdims;
} reduce_cfgs[] = {
    {4, {2, 3, 4, 5}, 2, {2, 3}, 1},    /* spatial, like global pooling */
    {4, {2, 3, 4, 5}, 1, {1}, 0},       /* channels */
    {4, {2, 3, 4, 5}, 2, {0, 2}, 1},    /* non-adjacent */
    {3, {3, 7, 5}, 1, {-1}, 0},         /* last, negative */
    {3, {3, 7, 5}, -1, {0}, 1},         /* all */
    {5, {2, 1, 3, 1, 4}, 2, {1, 2}, 0}, /* size-1 dims among them */
};

START_TEST(reduce_random)
{
    static const char *ops[] = {"ReduceSum",       "ReduceMean",     "ReduceMax", "ReduceMin",
                                "ReduceProd",      "ReduceL1",       "ReduceL2",  "ReduceLogSum",
                                "ReduceSumSquare", "ReduceLogSumExp"};
    int t = _i;
    uint64_t seed = 0x5eed0000u + (uint64_t)t;
    int64_t n = numel_of(reduce_cfgs[t].rank, reduce_cfgs[t].dims);
    /* LogSum needs positive sums, Prod factors near 1 to stay in range */
    float *x = rand_f32(n, -1, 1, &seed), *xpos = rand_f32(n, 0.5f, 1.5f, &seed);
    for (int o = 0; o < N_OF(ops); o++) {
        bool pos = !strcmp(ops[o], "ReduceLogSum") || !strcmp(ops[o], "ReduceProd");
        op_case *c = opc_new(ops[o], 11, 1, 1);
        opc_input(c, 0, F32, reduce_cfgs[t].rank, reduce_cfgs[t].dims, pos ? xpos : x, false);
        if (reduce_cfgs[t].n_axes >= 0)
            opc_attr_ints(c, "axes", reduce_cfgs[t].axes, (size_t)reduce_cfgs[t].n_axes);
        opc_attr_int(c, "keepdims", reduce_cfgs[t].keepdims);
        char what[96];
        snprintf(what, sizeof what, "%s cfg %d", ops[o], t);
        /* inputs reduced into each output: n / outputs (after a reference run) */
        ck_assert_int_eq(opc_run(c, 1, 1), ORTC_STATUS_OK);
        int64_t k = n / ortc_tensor_numel(&c->out[0]);
        /* Prod of k factors in [0.5, 1.5): each float multiply adds eps
         * relative error, so k * eps relative (plus RTOL) */
        double rtol = RTOL + (pos ? atol_sum(k) : 0);
        compare_paths_n(c, 1, rtol, atol_sum(k), strcmp(ops[o], "ReduceLogSumExp") != 0, what);
        opc_free(c);
    }
    free(x);
    free(xpos);
}
END_TEST

/* ==== ArgMax / ArgMin ======================================================== */

START_TEST(argmax_hand)
{
    /* x = [[1,3,3],[2,NaN,0]] along axis 1: ArgMax first 1 (a tie of 3s at
     * 1, 2), last 2; row 2: the NaN at 1 (numpy's argmax/argmin both pick
     * NaN). ArgMin: 0, 0 (last: 0) and 1. keepdims 0 -> (2) */
    static const float x[6] = {1, 3, 3, 2, NAN, 0};
    static const struct {
        const char *op;
        int last;
        double exp[2];
    } cases[] = {
        {"ArgMax", 0, {1, 1}},
        {"ArgMax", 1, {2, 1}},
        {"ArgMin", 0, {0, 1}},
        {"ArgMin", 1, {0, 1}},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        op_case *c = opc_new(cases[i].op, 13, 1, 1);
        opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, x, false);
        opc_attr_int(c, "axis", -1);
        opc_attr_int(c, "keepdims", 0);
        opc_attr_int(c, "select_last_index", cases[i].last);
        char what[64];
        snprintf(what, sizeof what, "%s last=%d", cases[i].op, cases[i].last);
        expect_both_as_double(c, PATH_PLAIN, I64, 1, (int64_t[]){2}, cases[i].exp, 0, 0, what);
        opc_free(c);
    }
    /* int32 [[1,5],[7,5]] along axis 0 (default), keepdims (1,2):
     * ArgMax [1,0], last [1,1]; ArgMin [0,0], last [0,1] */
    static const int32_t xi[4] = {1, 5, 7, 5};
    for (int i = 0; i < 4; i++) {
        bool is_max = i < 2, last = i % 2;
        op_case *c = opc_new(is_max ? "ArgMax" : "ArgMin", 12, 1, 1);
        opc_input(c, 0, ORTC_DTYPE_INT32, 2, (int64_t[]){2, 2}, xi, false);
        opc_attr_int(c, "select_last_index", last);
        double exp[2] = {is_max ? 1 : 0, is_max ? (last ? 1 : 0) : (last ? 1 : 0)};
        char what[64];
        snprintf(what, sizeof what, "%s int32 axis 0 last=%d", is_max ? "ArgMax" : "ArgMin",
                 (int)last);
        expect_both_as_double(c, PATH_PLAIN, I64, 2, (int64_t[]){1, 2}, exp, 0, 0, what);
        opc_free(c);
    }
    /* uint64 unsigned: argmax([1, 2^64-1, 2]) = 1; double argmin of
     * [0.5, -1e300, 3] = 1 */
    static const uint64_t u[3] = {1, UINT64_MAX, 2};
    op_case *c = opc_new("ArgMax", 11, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_UINT64, 1, (int64_t[]){3}, u, false);
    expect_both_as_double(c, PATH_PLAIN, I64, 1, (int64_t[]){1}, (const double[]){1}, 0, 0,
                          "argmax uint64");
    opc_free(c);
    static const double d[3] = {0.5, -1e300, 3};
    c = opc_new("ArgMin", 1, 1, 1);
    opc_input(c, 0, F64, 1, (int64_t[]){3}, d, false);
    opc_attr_int(c, "keepdims", 0);
    expect_both_as_double(c, PATH_PLAIN, I64, 0, NULL, (const double[]){1}, 0, 0, "argmin double");
    opc_free(c);
}
END_TEST

/* ==== LogSoftmax, Hardmax, Softmax double ==================================== */

START_TEST(softmax_family_hand)
{
    /* log_softmax([1,2,3]) = x - log(e + e^2 + e^3) =
     * [-2.40760596, -1.40760596, -0.40760596] (numpy); the same shifted by
     * 10000 (no overflow: max is subtracted first) */
    static const float x[3] = {1, 2, 3}, xl[3] = {10001, 10002, 10003};
    static const double ls[3] = {-2.40760596, -1.40760596, -0.40760596};
    for (int big = 0; big <= 1; big++) {
        op_case *c = opc_new("LogSoftmax", 13, 1, 1);
        opc_input(c, 0, F32, 1, (int64_t[]){3}, big ? xl : x, false);
        expect_both_as_double(c, PATH_PLAIN, F32, 1, (int64_t[]){3}, ls, 1e-6, 1e-6,
                              big ? "logsoftmax large" : "logsoftmax [1,2,3]");
        opc_free(c);
    }

    /* a dominant class: log_softmax([0,-20]) = [-log1p(e^-20), -20 - log1p(e^-20)]
     * = [-2.0611536e-9, -20.000000002]. oneDNN 2.6's softmax_log gives
     * +1.43e-6 for the first (why LogSoftmax is plain C); ONNX's rtol 1e-3 */
    static const float xd2[2] = {0, -20};
    op_case *c0 = opc_new("LogSoftmax", 13, 1, 1);
    opc_input(c0, 0, F32, 1, (int64_t[]){2}, xd2, false);
    expect_both_as_double(c0, PATH_PLAIN, F32, 1, (int64_t[]){2},
                          (const double[]){-2.0611536224385579e-09, -20.000000002061153}, 1e-3, 0,
                          "logsoftmax dominant class");
    opc_free(c0);

    /* x (1,2,2) = [[0,0],[0,ln 3]], axis 1. Opset 11 coerces to (1, 4): one
     * row with exp-sum 1+1+1+3 = 6: [-ln 6, -ln 6, -ln 6, ln 3 - ln 6 = -ln 2].
     * Opset 13 works along dim 1 only: column 0 [0,0] -> -ln 2 each;
     * column 1 [0, ln 3] -> sum 4: [-ln 4, ln 3 - ln 4]. */
    const float y[4] = {0, 0, 0, (float)log(3.0)};
    const double l6 = log(6.0), l2 = log(2.0), l4 = log(4.0), l3 = log(3.0);
    const double e11[4] = {-l6, -l6, -l6, -l2}, e13[4] = {-l2, -l4, -l2, l3 - l4};
    for (int v = 0; v <= 1; v++) {
        op_case *c = opc_new("LogSoftmax", v ? 13 : 11, 1, 1);
        opc_input(c, 0, F32, 3, (int64_t[]){1, 2, 2}, y, false);
        opc_attr_int(c, "axis", 1);
        expect_both_as_double(c, PATH_PLAIN, F32, 3, (int64_t[]){1, 2, 2}, v ? e13 : e11, 1e-6,
                              1e-6, v ? "logsoftmax-13 axis 1" : "logsoftmax-11 axis 1");
        opc_free(c);
    }

    /* Hardmax: [[3,3,3,1]] -> first max [1,0,0,0]. x (2,2) = [[1,4],[4,2]]:
     * opset 11 axis 0 coerces to one row of 4, first max at 1 -> [[0,1],[0,0]];
     * opset 13 axis 0 per column: col 0 max at row 1, col 1 at row 0 ->
     * [[0,1],[1,0]] */
    static const float h[4] = {3, 3, 3, 1}, h2[4] = {1, 4, 4, 2};
    op_case *c = opc_new("Hardmax", 13, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){1, 4}, h, false);
    expect_both_as_double(c, PATH_PLAIN, F32, 2, (int64_t[]){1, 4}, (const double[]){1, 0, 0, 0}, 0,
                          0, "hardmax ties");
    opc_free(c);
    for (int v = 0; v <= 1; v++) {
        c = opc_new("Hardmax", v ? 13 : 11, 1, 1);
        opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, h2, false);
        opc_attr_int(c, "axis", 0);
        const double ex11[4] = {0, 1, 0, 0}, ex13[4] = {0, 1, 1, 0};
        expect_both_as_double(c, PATH_PLAIN, F32, 2, (int64_t[]){2, 2}, v ? ex13 : ex11, 0, 0,
                              v ? "hardmax-13 axis 0" : "hardmax-11 axis 0");
        opc_free(c);
    }

    /* double Softmax / LogSoftmax run plain C at double precision:
     * softmax([1,2,3]) = [0.090030573170380462, 0.24472847105479764,
     * 0.66524095577481771] (numpy, float64) */
    static const double xd[3] = {1, 2, 3};
    c = opc_new("Softmax", 13, 1, 1);
    opc_input(c, 0, F64, 1, (int64_t[]){3}, xd, false);
    expect_both_as_double(
        c, PATH_PLAIN, F64, 1, (int64_t[]){3},
        (const double[]){0.090030573170380462, 0.24472847105479764, 0.66524095577481771}, 1e-14,
        1e-14, "softmax double");
    opc_free(c);
    c = opc_new("LogSoftmax", 13, 1, 1);
    opc_input(c, 0, F64, 1, (int64_t[]){3}, xd, false);
    expect_both_as_double(
        c, PATH_PLAIN, F64, 1, (int64_t[]){3},
        (const double[]){-2.4076059644443806, -1.4076059644443806, -0.40760596444438063}, 1e-14,
        1e-14, "logsoftmax double");
    opc_free(c);
}
END_TEST

/* LogSoftmax (plain C) against log(Softmax) with Softmax on oneDNN, whose
 * softmax_accurate is exact to ~1e-7 relative: log of it is then exact to
 * ~1e-7 absolute while inputs in [-5, 5] keep every probability far from
 * underflow. */
START_TEST(logsoftmax_random)
{
    static const struct {
        int opset, rank;
        int64_t dims[4];
        int has_axis;
        int64_t axis;
    } cfgs[] = {
        {13, 3, {3, 4, 5}, 0, 0},    {13, 3, {3, 4, 5}, 1, 0},  {13, 4, {2, 3, 4, 5}, 1, 1},
        {11, 4, {2, 3, 4, 5}, 0, 0}, {11, 3, {3, 4, 5}, 1, -1}, {1, 2, {7, 33}, 1, 1},
    };
    uint64_t seed = 77;
    for (int t = 0; t < N_OF(cfgs); t++) {
        int64_t n = numel_of(cfgs[t].rank, cfgs[t].dims);
        float *x = rand_f32(n, -5, 5, &seed), *exp = malloc((size_t)n * sizeof *exp);
        ck_assert_ptr_nonnull(exp);
        char what[96];
        snprintf(what, sizeof what, "LogSoftmax-%d cfg %d vs log(Softmax)", cfgs[t].opset, t);
        op_case *c = opc_new("Softmax", cfgs[t].opset, 1, 1);
        opc_input(c, 0, F32, cfgs[t].rank, cfgs[t].dims, x, false);
        if (cfgs[t].has_axis)
            opc_attr_int(c, "axis", cfgs[t].axis);
        uint64_t before = ortc_dnnl_exec_count();
        ck_assert_msg(opc_run(c, 0, THREADS) == ORTC_STATUS_OK, "%s: %s", what, c->err.msg);
        ck_assert_msg(ortc_dnnl_exec_count() > before, "%s: Softmax did not run on oneDNN", what);
        for (int64_t i = 0; i < n; i++)
            exp[i] = (float)log(((float *)c->out[0].data)[i]);
        opc_free(c);

        c = opc_new("LogSoftmax", cfgs[t].opset, 1, 1);
        opc_input(c, 0, F32, cfgs[t].rank, cfgs[t].dims, x, false);
        if (cfgs[t].has_axis)
            opc_attr_int(c, "axis", cfgs[t].axis);
        ck_assert_msg(opc_run(c, 0, THREADS) == ORTC_STATUS_OK, "%s: %s", what, c->err.msg);
        /* outputs O(1..10): a few ulp of the float results */
        opc_assert_close(c->out[0].data, exp, n, RTOL, 1e-6, what);
        opc_free(c);
        free(x);
        free(exp);
    }
}
END_TEST

/* ==== GlobalMaxPool ========================================================== */

START_TEST(globalmaxpool_hand_and_random)
{
    /* (1,2,2,2): channel maxima of [1,-2,4,3] and [-5,-6,-8,-7] are 4 and -5 */
    static const float x[8] = {1, -2, 4, 3, -5, -6, -8, -7};
    op_case *c = opc_new("GlobalMaxPool", 1, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 2, 2, 2}, x, false);
    expect_both_as_double(c, PATH_DNNL, F32, 4, (int64_t[]){1, 2, 1, 1}, (const double[]){4, -5}, 0,
                          0, "globalmaxpool");
    opc_free(c);

    /* a NaN wins the max (numpy); oneDNN would drop it: plain C */
    static const float xn[8] = {1, NAN, 4, 3, -5, -6, -8, -7};
    c = opc_new("GlobalMaxPool", 1, 1, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 2, 2, 2}, xn, false);
    expect_both_as_double(c, PATH_PLAIN, F32, 4, (int64_t[]){1, 2, 1, 1}, (const double[]){NAN, -5},
                          0, 0, "globalmaxpool NaN");
    opc_free(c);

    static const struct {
        int rank;
        int64_t dims[5];
    } cfgs[] = {{3, {2, 3, 17}}, {4, {2, 5, 6, 7}}, {5, {1, 3, 2, 3, 4}}};
    uint64_t seed = 5;
    for (int t = 0; t < N_OF(cfgs); t++) {
        int64_t n = numel_of(cfgs[t].rank, cfgs[t].dims);
        float *r = rand_f32(n, -1, 1, &seed);
        c = opc_new("GlobalMaxPool", 1, 1, 1);
        opc_input(c, 0, F32, cfgs[t].rank, cfgs[t].dims, r, false);
        char what[64];
        snprintf(what, sizeof what, "globalmaxpool rank %d", cfgs[t].rank);
        compare_paths_n(c, 1, 0, 0, true, what); /* a max is exact */
        opc_free(c);
        free(r);
    }
}
END_TEST

/* ==== BatchNormalization ===================================================== */

START_TEST(batchnorm_hand)
{
    /* x (1,2,1,2): channel 0 [1,2], channel 1 [3,4]; scale [1,2], B [0,1],
     * mean [1,3], var [4,0.25], epsilon 0:
     * c0: (x-1)/2 -> [0, 0.5]; c1: (x-3)/0.5*2 + 1 -> [1, 5] */
    static const float x[4] = {1, 2, 3, 4}, sc[2] = {1, 2}, b[2] = {0, 1}, m[2] = {1, 3},
                       v[2] = {4, 0.25f};
    static const int versions[] = {6, 7, 9, 14, 15};
    for (int i = 0; i < N_OF(versions); i++) {
        op_case *c = opc_new("BatchNormalization", versions[i], 5, 1);
        opc_input(c, 0, F32, 4, (int64_t[]){1, 2, 1, 2}, x, false);
        opc_input(c, 1, F32, 1, (int64_t[]){2}, sc, true);
        opc_input(c, 2, F32, 1, (int64_t[]){2}, b, true);
        opc_input(c, 3, F32, 1, (int64_t[]){2}, m, true);
        opc_input(c, 4, F32, 1, (int64_t[]){2}, v, true);
        opc_attr_float(c, "epsilon", 0);
        char what[64];
        snprintf(what, sizeof what, "batchnorm-%d", versions[i]);
        expect_both_as_double(c, PATH_DNNL, F32, 4, (int64_t[]){1, 2, 1, 2},
                              (const double[]){0, 0.5, 1, 5}, 1e-6, 1e-6, what);
        opc_free(c);
    }

    /* training mode (15): x (2,1,2) = [1,3 | 5,7]: batch mean 4, population
     * variance (9+1+1+9)/4 = 5; y = (x-4)/sqrt(5) with scale 1, B 0, eps 0;
     * running_mean = 0*0.9 + 4*0.1 = 0.4, running_var = 1*0.9 + 5*0.1 = 1.4 */
    static const float xt[4] = {1, 3, 5, 7}, one[1] = {1}, zero[1] = {0};
    op_case *c = opc_new("BatchNormalization", 15, 5, 3);
    opc_input(c, 0, F32, 3, (int64_t[]){2, 1, 2}, xt, false);
    opc_input(c, 1, F32, 1, (int64_t[]){1}, one, true);
    opc_input(c, 2, F32, 1, (int64_t[]){1}, zero, true);
    opc_input(c, 3, F32, 1, (int64_t[]){1}, zero, true);
    opc_input(c, 4, F32, 1, (int64_t[]){1}, one, true);
    opc_attr_float(c, "epsilon", 0);
    opc_attr_int(c, "training_mode", 1);
    const double r5 = 1 / sqrt(5.0);
    expect_both_as_double(c, PATH_PLAIN, F32, 3, (int64_t[]){2, 1, 2},
                          (const double[]){-3 * r5, -r5, r5, 3 * r5}, 1e-6, 1e-6,
                          "batchnorm training");
    check_output(c, 1, F32, 1, (int64_t[]){1}, (const double[]){0.4}, 1e-6, 1e-6, "running_mean");
    check_output(c, 2, F32, 1, (int64_t[]){1}, (const double[]){1.4}, 1e-6, 1e-6, "running_var");
    opc_free(c);

    /* double: plain C at double precision, (x - 1) / sqrt(4 + 1e-5) */
    static const double xd[2] = {1, 3}, sd[1] = {1}, bd[1] = {0}, md[1] = {1}, vd[1] = {4};
    c = opc_new("BatchNormalization", 15, 5, 1);
    opc_input(c, 0, F64, 2, (int64_t[]){2, 1}, xd, false);
    opc_input(c, 1, F64, 1, (int64_t[]){1}, sd, true);
    opc_input(c, 2, F64, 1, (int64_t[]){1}, bd, true);
    opc_input(c, 3, F64, 1, (int64_t[]){1}, md, true);
    opc_input(c, 4, F64, 1, (int64_t[]){1}, vd, true);
    expect_both_as_double(c, PATH_PLAIN, F64, 2, (int64_t[]){2, 1},
                          (const double[]){0, 2 / sqrt(4 + (double)1e-5f)}, 1e-15, 1e-15,
                          "batchnorm double");
    opc_free(c);
}
END_TEST

START_TEST(batchnorm_random)
{
    static const struct {
        int version, rank;
        int64_t dims[5];
    } cfgs[] = {
        {15, 4, {2, 3, 4, 5}},
        {9, 2, {5, 7}},
        {7, 3, {2, 4, 9}},
        {14, 5, {1, 3, 2, 3, 4}},
    };
    uint64_t seed = 11;
    for (int t = 0; t < N_OF(cfgs); t++) {
        int64_t n = numel_of(cfgs[t].rank, cfgs[t].dims), ch = cfgs[t].dims[1];
        float *x = rand_f32(n, -1, 1, &seed), *sc = rand_f32(ch, 0.5f, 1.5f, &seed),
              *b = rand_f32(ch, -1, 1, &seed), *m = rand_f32(ch, -0.5f, 0.5f, &seed),
              *v = rand_f32(ch, 0.5f, 2, &seed);
        op_case *c = opc_new("BatchNormalization", cfgs[t].version, 5, 1);
        opc_input(c, 0, F32, cfgs[t].rank, cfgs[t].dims, x, false);
        opc_input(c, 1, F32, 1, &ch, sc, t % 2 == 0);
        opc_input(c, 2, F32, 1, &ch, b, t % 2 == 0);
        opc_input(c, 3, F32, 1, &ch, m, t % 2 == 0);
        opc_input(c, 4, F32, 1, &ch, v, t % 2 == 0);
        char what[64];
        snprintf(what, sizeof what, "batchnorm-%d rank %d", cfgs[t].version, cfgs[t].rank);
        compare_paths_n(c, 1, RTOL, 1e-6, true, what); /* a few float ops per element */
        opc_free(c);
        free(x), free(sc), free(b), free(m), free(v);
    }
}
END_TEST

/* ==== InstanceNormalization ================================================== */

START_TEST(instancenorm_hand_and_random)
{
    /* ONNX's example: x (1,2,1,3) rows [-1,0,1] and [2,3,4], scale [1,1.5],
     * B [0,1], epsilon 1e-5. Both rows have population variance 2/3:
     * row 0: x / sqrt(2/3 + 1e-5) = [-1.22473569, 0, 1.22473569];
     * row 1: (x-3)/sqrt(2/3 + 1e-5)*1.5 + 1 = [-0.83710353, 1, 2.83710353] */
    static const float x[6] = {-1, 0, 1, 2, 3, 4}, sc[2] = {1, 1.5f}, b[2] = {0, 1};
    op_case *c = opc_new("InstanceNormalization", 6, 3, 1);
    opc_input(c, 0, F32, 4, (int64_t[]){1, 2, 1, 3}, x, false);
    opc_input(c, 1, F32, 1, (int64_t[]){2}, sc, true);
    opc_input(c, 2, F32, 1, (int64_t[]){2}, b, true);
    expect_both_as_double(c, PATH_DNNL, F32, 4, (int64_t[]){1, 2, 1, 3},
                          (const double[]){-1.22473569, 0, 1.22473569, -0.83710353, 1, 2.83710353},
                          1e-6, 1e-6, "instancenorm example");
    opc_free(c);

    static const struct {
        int rank;
        int64_t dims[5];
    } cfgs[] = {{4, {2, 3, 4, 5}}, {3, {3, 2, 50}}, {5, {2, 2, 3, 2, 2}}};
    uint64_t seed = 3;
    for (int t = 0; t < N_OF(cfgs); t++) {
        int64_t n = numel_of(cfgs[t].rank, cfgs[t].dims), ch = cfgs[t].dims[1];
        float *r = rand_f32(n, -1, 1, &seed), *s2 = rand_f32(ch, 0.5f, 1.5f, &seed),
              *b2 = rand_f32(ch, -1, 1, &seed);
        c = opc_new("InstanceNormalization", 6, 3, 1);
        opc_input(c, 0, F32, cfgs[t].rank, cfgs[t].dims, r, false);
        opc_input(c, 1, F32, 1, &ch, s2, t != 1);
        opc_input(c, 2, F32, 1, &ch, b2, t != 1);
        char what[64];
        snprintf(what, sizeof what, "instancenorm rank %d", cfgs[t].rank);
        /* normalised values are O(1..3); statistics summed in float over S */
        int64_t s = n / (cfgs[t].dims[0] * ch);
        compare_paths_n(c, 1, RTOL, 3 * atol_sum(s), true, what);
        opc_free(c);
        free(r), free(s2), free(b2);
    }
}
END_TEST

/* ==== LayerNormalization ===================================================== */

START_TEST(layernorm_hand)
{
    /* x = [[1,2,3],[2,4,6]], axis -1, epsilon 0: row 0 mean 2, variance 2/3,
     * InvStdDev sqrt(1.5) = 1.22474487; row 1 mean 4, variance 8/3,
     * InvStdDev sqrt(3/8) = 0.61237244; both normalise to [-a, 0, a] with
     * a = 1.22474487. Scale [1,2,3], B [1,0,-1]: [1-a, 0, 3a-1]. */
    static const float x[6] = {1, 2, 3, 2, 4, 6}, sc[3] = {1, 2, 3}, b[3] = {1, 0, -1};
    const double a = 1.2247448713915890;
    for (int with_b = 0; with_b <= 1; with_b++) {
        op_case *c = opc_new("LayerNormalization", 17, with_b ? 3 : 2, 3);
        opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, x, false);
        opc_input(c, 1, F32, 1, (int64_t[]){3}, sc, true);
        if (with_b)
            opc_input(c, 2, F32, 1, (int64_t[]){3}, b, true);
        opc_attr_float(c, "epsilon", 0);
        const double e1[6] = {1 - a, 0, 3 * a - 1, 1 - a, 0, 3 * a - 1},
                     e0[6] = {-a, 0, 3 * a, -a, 0, 3 * a};
        for (int reference = 1; reference >= 0; reference--) {
            char what[64];
            snprintf(what, sizeof what, "layernorm B=%d %s", with_b,
                     reference ? "reference" : "oneDNN");
            uint64_t before = ortc_dnnl_exec_count();
            ck_assert_msg(opc_run(c, reference, THREADS) == ORTC_STATUS_OK, "%s: %s", what,
                          c->err.msg);
            if (!reference)
                ck_assert_msg(ortc_dnnl_exec_count() > before, "%s: oneDNN did not run", what);
            check_output(c, 0, F32, 2, (int64_t[]){2, 3}, with_b ? e1 : e0, 1e-6, 1e-6, what);
            check_output(c, 1, F32, 2, (int64_t[]){2, 1}, (const double[]){2, 4}, 1e-6, 1e-6, what);
            check_output(c, 2, F32, 2, (int64_t[]){2, 1},
                         (const double[]){1.2247448713915890, 0.61237243569579452}, 1e-6, 1e-6,
                         what);
        }
        opc_free(c);
    }

    /* axis 0 on (2,3) normalises all six together: mean 3, variance
     * (4+1+0+1+1+9)/6 = 8/3, InvStdDev 0.61237244; with Scale of shape (3)
     * broadcast over both rows (not X.shape[0:]): plain C.
     * y = (x - 3) * 0.61237244 * [1,2,3] */
    const double r = 0.61237243569579452;
    op_case *c = opc_new("LayerNormalization", 17, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, x, false);
    opc_input(c, 1, F32, 1, (int64_t[]){3}, sc, true);
    opc_attr_int(c, "axis", 0);
    opc_attr_float(c, "epsilon", 0);
    expect_both_as_double(c, PATH_PLAIN, F32, 2, (int64_t[]){2, 3},
                          (const double[]){-2 * r, -1 * 2 * r, 0, -1 * r, 1 * 2 * r, 3 * 3 * r},
                          1e-6, 1e-6, "layernorm axis 0, broadcast scale");
    opc_free(c);
}
END_TEST

START_TEST(layernorm_random)
{
    static const struct {
        int rank;
        int64_t dims[4];
        int64_t axis;
        int with_b, n_out;
    } cfgs[] = {
        {3, {2, 3, 5}, -1, 1, 3},   {3, {2, 3, 5}, 1, 1, 1}, {3, {2, 3, 5}, 0, 0, 3},
        {4, {2, 3, 4, 5}, 2, 1, 2}, {2, {4, 64}, 1, 0, 1},
    };
    uint64_t seed = 17;
    for (int t = 0; t < N_OF(cfgs); t++) {
        int rank = cfgs[t].rank;
        int axis = (int)(cfgs[t].axis < 0 ? cfgs[t].axis + rank : cfgs[t].axis);
        int64_t n = numel_of(rank, cfgs[t].dims);
        int64_t inner = numel_of(rank - axis, cfgs[t].dims + axis);
        float *x = rand_f32(n, -1, 1, &seed), *sc = rand_f32(inner, 0.5f, 1.5f, &seed),
              *b = rand_f32(inner, -1, 1, &seed);
        op_case *c = opc_new("LayerNormalization", 17, cfgs[t].with_b ? 3 : 2, cfgs[t].n_out);
        opc_input(c, 0, F32, rank, cfgs[t].dims, x, false);
        opc_input(c, 1, F32, rank - axis, cfgs[t].dims + axis, sc, true);
        if (cfgs[t].with_b)
            opc_input(c, 2, F32, rank - axis, cfgs[t].dims + axis, b, false);
        opc_attr_int(c, "axis", cfgs[t].axis);
        char what[64];
        snprintf(what, sizeof what, "layernorm cfg %d", t);
        /* statistics summed in float over `inner` values */
        compare_paths_n(c, cfgs[t].n_out, RTOL, 3 * atol_sum(inner), true, what);
        opc_free(c);
        free(x), free(sc), free(b);
    }
}
END_TEST

/* ==== registry and infer errors ============================================== */

START_TEST(registry_versions)
{
    static const struct {
        const char *op;
        int opset, want;
    } cases[] = {
        {"ReduceSum", 12, 11},
        {"ReduceSum", 17, 13},
        {"ReduceMean", 7, 1},
        {"ReduceMax", 12, 12},
        {"ReduceMin", 17, 13},
        {"ReduceLogSumExp", 11, 11},
        {"ArgMax", 12, 12},
        {"ArgMin", 10, 1},
        {"LogSoftmax", 12, 11},
        {"Hardmax", 17, 13},
        {"BatchNormalization", 8, 7},
        {"BatchNormalization", 13, 9},
        {"BatchNormalization", 17, 15},
        {"InstanceNormalization", 17, 6},
        {"LayerNormalization", 17, 17},
        {"GlobalMaxPool", 17, 1},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        const ortc_operator *op = ortc_registry_find("", cases[i].op, cases[i].opset);
        ck_assert_msg(op != NULL, "%s at opset %d: not registered", cases[i].op, cases[i].opset);
        ck_assert_msg(ortc_operator_version(op, cases[i].opset) == cases[i].want,
                      "%s at opset %d: got version %d, want %d", cases[i].op, cases[i].opset,
                      ortc_operator_version(op, cases[i].opset), cases[i].want);
    }
    ck_assert_ptr_null(ortc_registry_find("", "LayerNormalization", 16));
}
END_TEST

START_TEST(infer_errors)
{
    float buf[64] = {0};
    static const float one[2] = {1, 1};
    op_case *c = opc_new("ReduceSum", 11, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 4}, buf, false);
    opc_attr_ints(c, "axes", (int64_t[]){1, -1}, 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "twice", "duplicate axes");
    opc_free(c);

    c = opc_new("ReduceMean", 13, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 4}, buf, false);
    opc_attr_ints(c, "axes", (int64_t[]){2}, 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "axis 2", "axis out of range");
    opc_free(c);

    c = opc_new("ReduceSum", 13, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 4}, buf, false);
    opc_attr_ints(c, "axes", (int64_t[]){1}, 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "input 1", "ReduceSum-13 axes attribute");
    opc_free(c);

    c = opc_new("ReduceMax", 11, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_INT8, 1, (int64_t[]){3}, buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int8", "ReduceMax-11 int8");
    opc_free(c);

    c = opc_new("ReduceProd", 13, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_FLOAT16, 1, (int64_t[]){3}, buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "float16", "ReduceProd float16");
    opc_free(c);

    c = opc_new("ArgMax", 13, 1, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){3, 0}, buf, false);
    opc_attr_int(c, "axis", 1);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "empty axis", "argmax over an empty axis");
    opc_free(c);

    c = opc_new("BatchNormalization", 9, 5, 3);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, buf, false);
    for (int i = 1; i < 5; i++)
        opc_input(c, i, F32, 1, (int64_t[]){2}, one, true);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "training outputs", "batchnorm-9 training outputs");
    opc_free(c);

    c = opc_new("BatchNormalization", 15, 5, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 3}, buf, false);
    for (int i = 1; i < 5; i++)
        opc_input(c, i, F32, 1, (int64_t[]){2}, one, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "[3]", "batchnorm scale shape");
    opc_free(c);

    c = opc_new("BatchNormalization", 7, 5, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, buf, false);
    for (int i = 1; i < 5; i++)
        opc_input(c, i, F32, 1, (int64_t[]){2}, one, true);
    opc_attr_int(c, "spatial", 0);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "spatial", "batchnorm spatial=0");
    opc_free(c);

    c = opc_new("LayerNormalization", 17, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, buf, false);
    opc_input(c, 1, F32, 1, (int64_t[]){3}, buf, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "broadcast", "layernorm scale shape");
    opc_free(c);

    c = opc_new("LayerNormalization", 17, 2, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, buf, false);
    opc_input(c, 1, F32, 1, (int64_t[]){2}, buf, true);
    opc_attr_int(c, "stash_type", 11);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "stash_type", "layernorm stash_type");
    opc_free(c);

    c = opc_new("InstanceNormalization", 6, 3, 1);
    opc_input(c, 0, F32, 2, (int64_t[]){2, 2}, buf, false);
    opc_input(c, 1, F32, 1, (int64_t[]){2}, one, true);
    opc_input(c, 2, F32, 1, (int64_t[]){2}, one, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank >= 3", "instancenorm rank 2");
    opc_free(c);

    c = opc_new("LogSoftmax", 13, 1, 1);
    opc_input(c, 0, ORTC_DTYPE_INT32, 1, (int64_t[]){3}, buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "logsoftmax int32");
    opc_free(c);
}
END_TEST

void ortc_cases_ops_reduce(Suite *s)
{
    TCase *tc = tcase_create("reduce_hand");
    tcase_add_test(tc, reduce_hand_each_op);
    tcase_add_test(tc, reduce_hand_axes_and_keepdims);
    tcase_add_test(tc, reduce_hand_empty_set);
    tcase_add_test(tc, reduce_hand_int_double);
    tcase_add_test(tc, argmax_hand);
    tcase_add_test(tc, softmax_family_hand);
    tcase_add_test(tc, batchnorm_hand);
    tcase_add_test(tc, layernorm_hand);
    tcase_add_test(tc, registry_versions);
    tcase_add_test(tc, infer_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("reduce_dnnl_vs_reference");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, reduce_random, 0, N_OF(reduce_cfgs));
    tcase_add_test(tc, logsoftmax_random);
    tcase_add_test(tc, globalmaxpool_hand_and_random);
    tcase_add_test(tc, batchnorm_random);
    tcase_add_test(tc, instancenorm_hand_and_random);
    tcase_add_test(tc, layernorm_random);
    suite_add_tcase(s, tc);
}
