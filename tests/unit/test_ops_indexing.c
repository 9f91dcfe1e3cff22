/* test_ops_indexing.c — Check runner for the indexing, detection and
 * contraction operators of issue 13 (math/topk.c, cumsum.c, det.c,
 * einsum.c; tensor/nd_index.c, onehot.c, reverse_sequence.c, Scatter-9 in
 * index.c; nn/unpool.c, grid_sample.c, mvn.c; detection/roi_align.c):
 * registry rows, hand-derived cases (the spec's examples, ties, NaN, wrap-
 * around, rounding), Einsum's oneDNN matmul lowering against its general
 * contraction, and infer's and run's errors. Random inputs against PyTorch,
 * torchvision and numpy are in tests/python/test_op_oracles.py.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helper_cases.h"
#include "helper_common.h"
#include "helper_ops.h"

/* ---- registry -------------------------------------------------------------- */

START_TEST(test_registry_rows)
{
    static const struct {
        const char *op;
        int opset, version;
        uint32_t data_inputs;
    } rows[] = {
        {"TopK", 9, 1, 0},
        {"TopK", 10, 10, 1u << 1},
        {"TopK", 17, 11, 1u << 1},
        {"GatherND", 12, 12, 0},
        {"ScatterND", 15, 13, 0},
        {"ScatterND", 16, 16, 0},
        {"Scatter", 10, 9, 0},
        {"CumSum", 13, 11, 0},
        {"CumSum", 14, 14, 0},
        {"OneHot", 10, 9, 1u << 1},
        {"OneHot", 11, 11, 1u << 1},
        {"EyeLike", 17, 9, 0},
        {"ReverseSequence", 10, 10, 0},
        {"MaxUnpool", 11, 11, 1u << 2},
        {"GridSample", 16, 16, 0},
        {"Det", 11, 11, 0},
        {"MeanVarianceNormalization", 12, 9, 0},
        {"MeanVarianceNormalization", 13, 13, 0},
        {"Einsum", 12, 12, 0},
        {"RoiAlign", 15, 10, 0},
        {"RoiAlign", 16, 16, 0},
    };
    for (int i = 0; i < N_OF(rows); i++) {
        const ortc_operator *op = ortc_registry_find("", rows[i].op, rows[i].opset);
        ck_assert_msg(op, "%s at opset %d", rows[i].op, rows[i].opset);
        ck_assert_int_eq(ortc_operator_version(op, rows[i].opset), rows[i].version);
        ck_assert_uint_eq(op->data_inputs, rows[i].data_inputs);
    }
    /* not before their first version */
    ck_assert_ptr_null(ortc_registry_find("", "GridSample", 15));
    ck_assert_ptr_null(ortc_registry_find("", "Einsum", 11));
    /* EyeLike reads only its input's shape: folded at compile time */
    ck_assert(ortc_registry_find("", "EyeLike", 9)->flags & ORTC_OP_SHAPE_ONLY);
    ck_assert_int_eq(ortc_registry_find("", "Einsum", 12)->backend, ORTC_BACKEND_ONEDNN);
    /* TopK-1/10 take float types only; 11 adds the integers */
    ck_assert(!ortc_dtype_in(ortc_registry_find("", "TopK", 10)->dtypes, ORTC_DTYPE_INT32));
    ck_assert(ortc_dtype_in(ortc_registry_find("", "TopK", 11)->dtypes, ORTC_DTYPE_INT32));
}
END_TEST

/* ---- TopK -------------------------------------------------------------------- */

START_TEST(test_topk_ties_and_nan)
{
    /* x = [3, 1, NaN, 3, 2]. NaN ranks above every number; equal values go
     * lower index first. largest, k=3: NaN@2, 3@0, 3@3. smallest, k=3:
     * 1@1, 2@4, 3@0. */
    float x[] = {3, 1, NAN, 3, 2};
    int64_t xd[] = {5}, kd[] = {1}, k[] = {3}, od[] = {3};
    for (int largest = 1; largest >= 0; largest--) {
        op_case *c = opc_new("TopK", 11, 2, 2);
        opc_attr_int(c, "largest", largest);
        opc_input(c, 0, F32, 1, xd, x, false);
        opc_input(c, 1, I64, 1, kd, k, true);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 1, od, "TopK values");
            expect_shape(&c->out[1], I64, 1, od, "TopK indices");
            const float *v = c->out[0].data;
            const int64_t *ix = c->out[1].data;
            if (largest) {
                ck_assert(isnan(v[0]) && v[1] == 3 && v[2] == 3);
                ck_assert(ix[0] == 2 && ix[1] == 0 && ix[2] == 3);
            } else {
                static const float want[] = {1, 2, 3};
                static const int64_t wi[] = {1, 4, 0};
                expect_data(&c->out[0], F32, want, 3, "TopK smallest values");
                expect_data(&c->out[1], I64, wi, 3, "TopK smallest indices");
            }
        }
        opc_free(c);
    }
}
END_TEST

START_TEST(test_topk_axis_and_ints)
{
    /* x: (2, 3) int64, axis 0, k 1: the larger of each column, ties to row 0:
     * [[5, -1, 7], [2, -1, 9]] -> values [5, -1, 9], indices [0, 0, 1] */
    int64_t x[] = {5, -1, 7, 2, -1, 9}, xd[] = {2, 3}, kd[] = {1}, k[] = {1}, od[] = {1, 3};
    op_case *c = opc_new("TopK", 11, 2, 2);
    opc_attr_int(c, "axis", 0);
    opc_input(c, 0, I64, 2, xd, x, false);
    opc_input(c, 1, I64, 1, kd, k, true);
    FOR_BOTH_MODES(c, mode)
    {
        static const int64_t wv[] = {5, -1, 9}, wi[] = {0, 0, 1};
        expect_shape(&c->out[0], I64, 2, od, "TopK int64");
        expect_data(&c->out[0], I64, wv, 3, "TopK int64 values");
        expect_data(&c->out[1], I64, wi, 3, "TopK int64 indices");
    }
    opc_free(c);
    /* k = 0: empty outputs of shape (2, 0) */
    int64_t zero[] = {0}, ed[] = {2, 0};
    c = opc_new("TopK", 11, 2, 2);
    opc_input(c, 0, I64, 2, xd, x, false);
    opc_input(c, 1, I64, 1, kd, zero, true);
    FOR_BOTH_MODES(c, mode)
    expect_shape(&c->out[0], I64, 2, ed, "TopK k=0");
    opc_free(c);
}
END_TEST

START_TEST(test_topk_errors)
{
    float x[6] = {0};
    int64_t xd[] = {2, 3}, kd[] = {1}, k4[] = {4}, k1[] = {1};
    /* k beyond the axis */
    op_case *c = opc_new("TopK", 11, 2, 2);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, kd, k4, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "k is 4", "TopK k > dim");
    opc_free(c);
    /* k not known when compiling */
    c = opc_new("TopK", 11, 2, 2);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, kd, k1, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "only known at run time", "TopK computed k");
    opc_free(c);
    /* 'largest' before TopK-11; integers before TopK-11 */
    c = opc_new("TopK", 10, 2, 2);
    opc_attr_int(c, "largest", 0);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, kd, k1, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "from TopK-11 on", "TopK-10 largest");
    opc_free(c);
    int32_t xi[6] = {0};
    c = opc_new("TopK", 10, 2, 2);
    opc_input(c, 0, I32, 2, xd, xi, false);
    opc_input(c, 1, I64, 1, kd, k1, true);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "TopK-10 int32");
    opc_free(c);
    /* TopK-1 needs its attribute */
    c = opc_new("TopK", 1, 1, 2);
    opc_input(c, 0, F32, 2, xd, x, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "'k' is missing", "TopK-1 without k");
    opc_free(c);
}
END_TEST

/* ---- GatherND / ScatterND / Scatter ------------------------------------------ */

START_TEST(test_gather_nd_examples)
{
    /* the spec's example 3 (batch_dims 0) and 5 (batch_dims 1) on data
     * [[[0,1],[2,3]],[[4,5],[6,7]]] */
    int32_t data[] = {0, 1, 2, 3, 4, 5, 6, 7};
    int64_t dd[] = {2, 2, 2};
    int64_t i3[] = {0, 1, 1, 0}, i3d[] = {2, 2}, i5[] = {1, 0}, i5d[] = {2, 1}, od[] = {2, 2};
    static const int32_t want3[] = {2, 3, 4, 5}, want5[] = {2, 3, 4, 5};
    op_case *c = opc_new("GatherND", 13, 2, 1);
    opc_input(c, 0, I32, 3, dd, data, false);
    opc_input(c, 1, I64, 2, i3d, i3, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 2, od, "GatherND example 3");
        expect_data(&c->out[0], I32, want3, 4, "GatherND example 3");
    }
    opc_free(c);
    c = opc_new("GatherND", 12, 2, 1);
    opc_attr_int(c, "batch_dims", 1);
    opc_input(c, 0, I32, 3, dd, data, false);
    opc_input(c, 1, I64, 2, i5d, i5, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 2, od, "GatherND example 5");
        expect_data(&c->out[0], I32, want5, 4, "GatherND example 5");
    }
    opc_free(c);
    /* negative indices count from the end: [-1, -2] is [1, 0] -> [4, 5] */
    int64_t ineg[] = {-1, -2}, inegd[] = {1, 2}, onegd[] = {1, 2};
    static const int32_t wneg[] = {4, 5};
    c = opc_new("GatherND", 13, 2, 1);
    opc_input(c, 0, I32, 3, dd, data, false);
    opc_input(c, 1, I64, 2, inegd, ineg, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 2, onegd, "GatherND negative");
        expect_data(&c->out[0], I32, wneg, 2, "GatherND negative");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_gather_nd_errors)
{
    float data[8] = {0};
    int64_t dd[] = {2, 2, 2}, bad[] = {0, 2}, badd[] = {1, 2}, big[] = {0, 0, 0, 0},
            bigd[] = {1, 4};
    /* index 2 on a dim of 2: at infer for constant indices, at run otherwise */
    op_case *c = opc_new("GatherND", 13, 2, 1);
    opc_input(c, 0, F32, 3, dd, data, false);
    opc_input(c, 1, I64, 2, badd, bad, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "index 2", "GatherND constant out of range");
    opc_free(c);
    c = opc_new("GatherND", 13, 2, 1);
    opc_input(c, 0, F32, 3, dd, data, false);
    opc_input(c, 1, I64, 2, badd, bad, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "valid: -2..1", "GatherND run out of range");
    opc_free(c);
    /* tuples longer than data's rank */
    c = opc_new("GatherND", 13, 2, 1);
    opc_input(c, 0, F32, 3, dd, data, false);
    opc_input(c, 1, I64, 2, bigd, big, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "must lie in 1..3", "GatherND long tuple");
    opc_free(c);
    /* batch_dims exists from GatherND-12 */
    c = opc_new("GatherND", 11, 2, 1);
    opc_attr_int(c, "batch_dims", 1);
    opc_input(c, 0, F32, 3, dd, data, false);
    opc_input(c, 1, I64, 2, badd, big, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "GatherND-12", "GatherND-11 batch_dims");
    opc_free(c);
}
END_TEST

START_TEST(test_scatter_nd_examples)
{
    /* the spec's example 1: data 1..8, indices [[4],[3],[1],[7]], updates
     * [9,10,11,12] -> [1, 11, 3, 10, 9, 6, 7, 12] */
    float data[] = {1, 2, 3, 4, 5, 6, 7, 8}, upd[] = {9, 10, 11, 12};
    int64_t dd[] = {8}, idx[] = {4, 3, 1, 7}, id[] = {4, 1}, ud[] = {4};
    static const float want[] = {1, 11, 3, 10, 9, 6, 7, 12};
    op_case *c = opc_new("ScatterND", 13, 3, 1);
    opc_input(c, 0, F32, 1, dd, data, false);
    opc_input(c, 1, I64, 2, id, idx, false);
    opc_input(c, 2, F32, 1, ud, upd, false);
    FOR_BOTH_MODES(c, mode)
    expect_data(&c->out[0], F32, want, 8, "ScatterND example 1");
    opc_free(c);
    /* mul with a repeated index: element 1 is multiplied by 3 and by 5 */
    int64_t rep[] = {1, 6, 1, -1}, repd[] = {4, 1};
    float mul[] = {3, 2, 5, 10};
    static const float wmul[] = {1, 30, 3, 4, 5, 6, 14, 80};
    c = opc_new("ScatterND", 16, 3, 1);
    opc_attr_string(c, "reduction", "mul");
    opc_input(c, 0, F32, 1, dd, data, false);
    opc_input(c, 1, I64, 2, repd, rep, false);
    opc_input(c, 2, F32, 1, ud, mul, false);
    FOR_BOTH_MODES(c, mode)
    expect_data(&c->out[0], F32, wmul, 8, "ScatterND mul");
    opc_free(c);
    /* reduction before ScatterND-16; updates of the wrong shape */
    c = opc_new("ScatterND", 13, 3, 1);
    opc_attr_string(c, "reduction", "add");
    opc_input(c, 0, F32, 1, dd, data, false);
    opc_input(c, 1, I64, 2, id, idx, false);
    opc_input(c, 2, F32, 1, ud, upd, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "ScatterND-16", "ScatterND-13 reduction");
    opc_free(c);
    int64_t ud3[] = {3};
    c = opc_new("ScatterND", 16, 3, 1);
    opc_input(c, 0, F32, 1, dd, data, false);
    opc_input(c, 1, I64, 2, id, idx, false);
    opc_input(c, 2, F32, 1, ud3, upd, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "indices and data make it [4]",
                 "ScatterND updates shape");
    opc_free(c);
}
END_TEST

START_TEST(test_scatter9_example)
{
    /* Scatter's example 1 (ScatterElements semantics under the old name) */
    float data[9] = {0}, upd[] = {1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f};
    int64_t dd[] = {3, 3}, idx[] = {1, 0, 2, 0, 2, 1}, id[] = {2, 3};
    static const float want[] = {2.0f, 1.1f, 0, 1.0f, 0, 2.2f, 0, 2.1f, 1.2f};
    op_case *c = opc_new("Scatter", 9, 3, 1);
    opc_input(c, 0, F32, 2, dd, data, false);
    opc_input(c, 1, I64, 2, id, idx, false);
    opc_input(c, 2, F32, 2, id, upd, false);
    FOR_BOTH_MODES(c, mode)
    expect_data(&c->out[0], F32, want, 9, "Scatter-9 example 1");
    opc_free(c);
}
END_TEST

/* ---- CumSum ------------------------------------------------------------------ */

START_TEST(test_cumsum_cases)
{
    /* the spec's examples on [1, 2, 3]: inclusive [1,3,6], exclusive
     * [0,1,3], reverse [6,5,3], both [5,3,0] */
    double x[] = {1, 2, 3};
    int64_t xd[] = {3};
    int32_t axis = 0;
    static const double want[4][3] = {{1, 3, 6}, {0, 1, 3}, {6, 5, 3}, {5, 3, 0}};
    for (int k = 0; k < 4; k++) {
        op_case *c = opc_new("CumSum", 14, 2, 1);
        opc_attr_int(c, "exclusive", k & 1);
        opc_attr_int(c, "reverse", k >> 1);
        opc_input(c, 0, F64, 1, xd, x, false);
        opc_input(c, 1, I32, 0, NULL, &axis, false);
        FOR_BOTH_MODES(c, mode)
        expect_data(&c->out[0], F64, want[k], 3, "CumSum spec example");
        opc_free(c);
    }
    /* int32 sums wrap: [INT32_MAX, 1, 1] -> [INT32_MAX, INT32_MIN, INT32_MIN + 1] */
    int32_t xi[] = {INT32_MAX, 1, 1};
    static const int32_t wi[] = {INT32_MAX, INT32_MIN, INT32_MIN + 1};
    int64_t axis64 = -1;
    op_case *c = opc_new("CumSum", 11, 2, 1);
    opc_input(c, 0, I32, 1, xd, xi, false);
    opc_input(c, 1, I64, 1, (int64_t[]){1}, &axis64, false);
    FOR_BOTH_MODES(c, mode)
    expect_data(&c->out[0], I32, wi, 3, "CumSum int32 wrap");
    opc_free(c);
    /* float32 sums are carried in double: 1 + 1e-8 + ... stays exact where
     * a float accumulator would lose the small terms: [1, 1e-8 x 3, -1]
     * ends at 3e-8 (float32 of the double sum), not 0 */
    float xf[] = {1.0f, 1e-8f, 1e-8f, 1e-8f, -1.0f};
    int64_t xfd[] = {5};
    c = opc_new("CumSum", 14, 2, 1);
    opc_input(c, 0, F32, 1, xfd, xf, false);
    opc_input(c, 1, I32, 0, NULL, &axis, false);
    FOR_BOTH_MODES(c, mode)
    {
        float last = ((const float *)c->out[0].data)[4];
        double exp = ((double)xf[1] + (double)xf[2] + (double)xf[3]);
        ck_assert_msg(fabs(last - exp) <= 1e-6 * exp, "CumSum float32 tail %g, want %g", last, exp);
    }
    opc_free(c);
    /* an axis out of range */
    int32_t bad = 1;
    c = opc_new("CumSum", 14, 2, 1);
    opc_input(c, 0, F64, 1, xd, x, false);
    opc_input(c, 1, I32, 0, NULL, &bad, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "axis 1", "CumSum axis out of range");
    opc_free(c);
}
END_TEST

/* ---- OneHot / EyeLike ---------------------------------------------------------- */

START_TEST(test_onehot_cases)
{
    /* indices [1, -1, 5, 2.7] (float), depth 3, values [0, 9], axis -1:
     * rows [0,9,0], [0,0,9] (-1 = 2), all off (5 >= depth), [0,0,9] (2.7 -> 2) */
    float ind[] = {1, -1, 5, 2.7f}, depth = 3, vals[] = {0, 9};
    int64_t id[] = {4}, vd[] = {2}, od[] = {4, 3};
    static const float want[] = {0, 9, 0, 0, 0, 9, 0, 0, 0, 0, 0, 9};
    op_case *c = opc_new("OneHot", 11, 3, 1);
    opc_input(c, 0, F32, 1, id, ind, false);
    opc_input(c, 1, F32, 0, NULL, &depth, true);
    opc_input(c, 2, F32, 1, vd, vals, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, od, "OneHot");
        expect_data(&c->out[0], F32, want, 12, "OneHot");
    }
    opc_free(c);
    /* depth unknown when compiling; depth 0 */
    int64_t d0 = 0;
    c = opc_new("OneHot", 11, 3, 1);
    opc_input(c, 0, F32, 1, id, ind, false);
    opc_input(c, 1, F32, 0, NULL, &depth, false);
    opc_input(c, 2, F32, 1, vd, vals, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "depth", "OneHot depth at run time");
    opc_free(c);
    c = opc_new("OneHot", 11, 3, 1);
    opc_input(c, 0, F32, 1, id, ind, false);
    opc_input(c, 1, I64, 0, NULL, &d0, true);
    opc_input(c, 2, F32, 1, vd, vals, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "positive", "OneHot depth 0");
    opc_free(c);
}
END_TEST

START_TEST(test_eyelike_cases)
{
    /* 3x4 with k = 1, dtype bool: ones at (0,1), (1,2), (2,3) */
    float x[12] = {0};
    int64_t xd[] = {3, 4};
    static const uint8_t want[] = {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    op_case *c = opc_new("EyeLike", 9, 1, 1);
    opc_attr_int(c, "k", 1);
    opc_attr_int(c, "dtype", ORTC_DTYPE_BOOL);
    opc_input(c, 0, F32, 2, xd, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], BOOL, 2, xd, "EyeLike bool");
        expect_data(&c->out[0], BOOL, want, 12, "EyeLike bool");
    }
    opc_free(c);
    /* k = -2 on 3x4, input dtype (float16): one at (2, 0) = 0x3C00 */
    uint16_t h[12] = {0};
    static const uint16_t wh[] = {0, 0, 0, 0, 0, 0, 0, 0, 0x3C00, 0, 0, 0};
    c = opc_new("EyeLike", 9, 1, 1);
    opc_attr_int(c, "k", -2);
    opc_input(c, 0, F16, 2, xd, h, false);
    FOR_BOTH_MODES(c, mode)
    expect_data(&c->out[0], F16, wh, 12, "EyeLike float16 k=-2");
    opc_free(c);
    /* rank 3; dtype string */
    int64_t d3[] = {1, 3, 4};
    c = opc_new("EyeLike", 9, 1, 1);
    opc_input(c, 0, F32, 3, d3, x, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "rank 2", "EyeLike rank 3");
    opc_free(c);
    c = opc_new("EyeLike", 9, 1, 1);
    opc_attr_int(c, "dtype", ORTC_DTYPE_STRING);
    opc_input(c, 0, F32, 2, xd, x, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "string", "EyeLike dtype string");
    opc_free(c);
}
END_TEST

/* ---- ReverseSequence / MaxUnpool --------------------------------------------------- */

START_TEST(test_reverse_sequence_cases)
{
    /* the axes and lengths of the spec's example 1 (time 0, batch 1, lens
     * [4,3,2,1]) on x[t][b] = 4t + b: y[t][b] = x[len_b - 1 - t][b] for
     * t < len_b, else x[t][b] */
    float x[16];
    iota_f32(x, 16);
    int64_t xd[] = {4, 4}, ld[] = {4}, lens[] = {4, 3, 2, 1};
    static const float want[] = {12, 9, 6, 3, 8, 5, 2, 7, 4, 1, 10, 11, 0, 13, 14, 15};
    op_case *c = opc_new("ReverseSequence", 10, 2, 1);
    opc_attr_int(c, "time_axis", 0);
    opc_attr_int(c, "batch_axis", 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, ld, lens, false);
    FOR_BOTH_MODES(c, mode)
    expect_data(&c->out[0], F32, want, 16, "ReverseSequence example 1");
    opc_free(c);
    /* a length beyond the time dim */
    int64_t bad[] = {4, 5, 1, 1};
    c = opc_new("ReverseSequence", 10, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, ld, bad, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "sequence_lens[1]", "ReverseSequence len 5");
    opc_free(c);
}
END_TEST

START_TEST(test_max_unpool_cases)
{
    /* the spec's example with output_shape: X [[5,6],[7,8]], I [5,7,13,15]
     * (positions in the 4x4 unpooled shape), output 5x5: the 4x4 result in
     * the leading corner, so 5 lands at (1,1), 6 at (1,3), 7 at (3,1), 8 at
     * (3,3) */
    float x[] = {5, 6, 7, 8};
    int64_t xd[] = {1, 1, 2, 2}, idx[] = {5, 7, 13, 15}, sd[] = {4}, shape[] = {1, 1, 5, 5};
    int64_t k[] = {2, 2};
    float want[25] = {0};
    want[1 * 5 + 1] = 5;
    want[1 * 5 + 3] = 6;
    want[3 * 5 + 1] = 7;
    want[3 * 5 + 3] = 8;
    op_case *c = opc_new("MaxUnpool", 11, 3, 1);
    opc_attr_ints(c, "kernel_shape", k, 2);
    opc_attr_ints(c, "strides", k, 2);
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, I64, 4, xd, idx, false);
    opc_input(c, 2, I64, 1, sd, shape, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 4, shape, "MaxUnpool output_shape");
        expect_data(&c->out[0], F32, want, 25, "MaxUnpool output_shape");
    }
    opc_free(c);
    /* an index beyond the 16 unpooled elements; an output_shape below them */
    int64_t bad[] = {5, 7, 13, 16}, small[] = {1, 1, 3, 5};
    c = opc_new("MaxUnpool", 11, 2, 1);
    opc_attr_ints(c, "kernel_shape", k, 2);
    opc_attr_ints(c, "strides", k, 2);
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, I64, 4, xd, bad, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "index 16", "MaxUnpool index out of range");
    opc_free(c);
    c = opc_new("MaxUnpool", 11, 3, 1);
    opc_attr_ints(c, "kernel_shape", k, 2);
    opc_attr_ints(c, "strides", k, 2);
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, I64, 4, xd, idx, false);
    opc_input(c, 2, I64, 1, sd, small, true);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "at least the unpooled shape [1,1,4,4]",
                 "MaxUnpool small output_shape");
    opc_free(c);
}
END_TEST

/* ---- GridSample / Det / MVN ---------------------------------------------------------- */

START_TEST(test_grid_sample_cases)
{
    /* X [[1,2],[3,4]], one sample at grid (0, 0) = the image centre.
     * align_corners 0: unnormalised to pixel (0.5, 0.5): bilinear 2.5;
     * nearest rounds 0.5 half to even, to pixel (0, 0): 1.
     * align_corners 1: also (0.5, 0.5). At grid (1, 1): align 1 is pixel
     * (1, 1) = 4; align 0 is (1.5, 1.5), half outside: zeros padding gives
     * 4 * 0.25 = 1, border clamps to (1, 1) = 4. */
    float x[] = {1, 2, 3, 4};
    int64_t xd[] = {1, 1, 2, 2}, gd[] = {1, 1, 2, 2}, od[] = {1, 1, 1, 2};
    float grid[] = {0, 0, 1, 1};
    static const struct {
        const char *mode, *pad;
        int align;
        float want[2];
    } cases[] = {
        {"bilinear", "zeros", 0, {2.5f, 1.0f}}, {"nearest", "zeros", 0, {1.0f, 0.0f}},
        {"bilinear", "zeros", 1, {2.5f, 4.0f}}, {"bilinear", "border", 0, {2.5f, 4.0f}},
        {"nearest", "border", 1, {1.0f, 4.0f}},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        op_case *c = opc_new("GridSample", 16, 2, 1);
        opc_attr_string(c, "mode", cases[i].mode);
        opc_attr_string(c, "padding_mode", cases[i].pad);
        opc_attr_int(c, "align_corners", cases[i].align);
        opc_input(c, 0, F32, 4, xd, x, false);
        opc_input(c, 1, F32, 4, gd, grid, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 4, od, cases[i].mode);
            assert_close_x(c->out[0].data, cases[i].want, NULL, 2, 1e-6, 1e-6, cases[i].mode);
        }
        opc_free(c);
    }
    op_case *c = opc_new("GridSample", 16, 2, 1);
    opc_attr_string(c, "mode", "linear");
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, F32, 4, gd, grid, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "\"linear\"", "GridSample mode linear");
    opc_free(c);
    int64_t g3[] = {1, 2, 3};
    c = opc_new("GridSample", 16, 2, 1);
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, F32, 3, g3, grid, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "(N, H_out, W_out, 2)", "GridSample grid rank");
    opc_free(c);
}
END_TEST

START_TEST(test_det_cases)
{
    /* det [[1,2],[3,4]] = -2; a permutation matrix of one swap = -1;
     * [[2,0,0],[0,3,0],[1,1,0]] is singular = 0; batched as (3, ...) */
    double a[] = {1, 2, 3, 4};
    int64_t ad[] = {2, 2};
    op_case *c = opc_new("Det", 11, 1, 1);
    opc_input(c, 0, F64, 2, ad, a, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F64, 0, NULL, "Det 2x2");
        ck_assert_msg(fabs(*(double *)c->out[0].data + 2) < 1e-15, "det %g",
                      *(double *)c->out[0].data);
    }
    opc_free(c);
    float b[] = {1, 2, 3, 4, 0, 1, 1, 0, 5, 0, 0, 5};
    int64_t bd[] = {3, 2, 2}, bo[] = {3};
    static const float wb[] = {-2, -1, 25};
    c = opc_new("Det", 11, 1, 1);
    opc_input(c, 0, F32, 3, bd, b, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 1, bo, "Det batched");
        assert_close_x(c->out[0].data, wb, NULL, 3, 1e-6, 1e-6, "Det batched");
    }
    opc_free(c);
    float s[] = {2, 0, 0, 0, 3, 0, 1, 1, 0};
    int64_t sd[] = {3, 3};
    c = opc_new("Det", 11, 1, 1);
    opc_input(c, 0, F32, 2, sd, s, false);
    FOR_BOTH_MODES(c, mode)
    ck_assert_msg(*(float *)c->out[0].data == 0.0f, "singular det %g", *(float *)c->out[0].data);
    opc_free(c);
    int64_t nd[] = {2, 3};
    c = opc_new("Det", 11, 1, 1);
    opc_input(c, 0, F32, 2, nd, s, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "square", "Det of a 2x3");
    opc_free(c);
}
END_TEST

START_TEST(test_mvn_cases)
{
    /* axes [1] on (2, 2): rows [1, 3] and [-2, -2]. Row 0: mean 2, std 1
     * -> [-1, 1] (/(1 + 1e-9)); row 1: std 0 -> 0 / 1e-9 = 0 */
    float x[] = {1, 3, -2, -2};
    int64_t xd[] = {2, 2}, axes[] = {1};
    op_case *c = opc_new("MeanVarianceNormalization", 13, 1, 1);
    opc_attr_ints(c, "axes", axes, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    static const float want[] = {-1, 1, 0, 0};
    FOR_BOTH_MODES(c, mode)
    assert_close_x(c->out[0].data, want, NULL, 4, 1e-6, 0, "MVN axes [1]");
    opc_free(c);
    int64_t twice[] = {1, -1};
    c = opc_new("MeanVarianceNormalization", 13, 1, 1);
    opc_attr_ints(c, "axes", twice, 2);
    opc_input(c, 0, F32, 2, xd, x, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "twice", "MVN axis twice");
    opc_free(c);
}
END_TEST

/* ---- Einsum ------------------------------------------------------------------------- */

START_TEST(test_einsum_matmul_path)
{
    /* equations the lowering takes: oneDNN's matmul (a primitive must run)
     * against the general contraction (the reference kernel) on random
     * float32; the sums have <= 16 terms in [-1, 1] */
    static const struct {
        const char *eq;
        int ra, rb;
        int64_t a[4], b[4];
    } cases[] = {
        {"ij,jk->ik", 2, 2, {5, 7}, {7, 3}},
        {"bhid,bhjd->bhij", 4, 4, {2, 3, 5, 8}, {2, 3, 6, 8}},
        {"bhij,bhjd->bhid", 4, 4, {2, 3, 5, 6}, {2, 3, 6, 8}},
        {"ik,kj->ji", 2, 2, {4, 5}, {5, 3}},
        {"...ij,...jk->...ik", 4, 3, {2, 1, 3, 4}, {5, 4, 6}},
        {"i,j->ij", 1, 1, {4}, {5}},
        {"bik,kj->bji", 3, 2, {3, 4, 16}, {16, 2}},
    };
    uint64_t seed = 13;
    for (int i = 0; i < N_OF(cases); i++) {
        float *a = rand_f32(numel_of(cases[i].ra, cases[i].a), -1, 1, &seed);
        float *b = rand_f32(numel_of(cases[i].rb, cases[i].b), -1, 1, &seed);
        op_case *c = opc_new("Einsum", 12, 2, 1);
        opc_attr_string(c, "equation", cases[i].eq);
        opc_input(c, 0, F32, cases[i].ra, cases[i].a, a, false);
        opc_input(c, 1, F32, cases[i].rb, cases[i].b, b, false);
        compare_paths(c, RTOL, atol_sum(16), PATH_DNNL, cases[i].eq);
        opc_free(c);
        free(a);
        free(b);
    }
}
END_TEST

START_TEST(test_einsum_general_cases)
{
    /* hand-derived: "ii->i" of [[1,2],[3,4]] is [1,4]; "ii" is 5; "ij->" is
     * 10; "ij->ji" is [[1,3],[2,4]]; "ij,ij,ij->i" (three operands) of
     * x, x, x is [1+8, 27+64] */
    float x[] = {1, 2, 3, 4};
    int64_t xd[] = {2, 2};
    static const struct {
        const char *eq;
        int n_in;
        int rank;
        int64_t dims[2];
        float want[4];
    } cases[] = {
        {"ii->i", 1, 1, {2}, {1, 4}},        {"ii", 1, 0, {0}, {5}},
        {"ij->", 1, 0, {0}, {10}},           {"ij->ji", 1, 2, {2, 2}, {1, 3, 2, 4}},
        {"ij,ij,ij->i", 3, 1, {2}, {9, 91}},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        op_case *c = opc_new("Einsum", 12, cases[i].n_in, 1);
        opc_attr_string(c, "equation", cases[i].eq);
        for (int k = 0; k < cases[i].n_in; k++)
            opc_input(c, k, F32, 2, xd, x, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, cases[i].rank, cases[i].dims, cases[i].eq);
            expect_data(&c->out[0], F32, cases[i].want, numel_of(cases[i].rank, cases[i].dims),
                        cases[i].eq);
        }
        opc_free(c);
    }
    /* int8 wraps like numpy: 100 * 2 + 100 * 1 = 300 = 44 mod 256 */
    int8_t a[] = {100, 100}, b[] = {2, 1};
    int64_t d1[] = {2};
    static const int8_t w8[] = {44};
    op_case *c = opc_new("Einsum", 12, 2, 1);
    opc_attr_string(c, "equation", "i,i->");
    opc_input(c, 0, I8, 1, d1, a, false);
    opc_input(c, 1, I8, 1, d1, b, false);
    FOR_BOTH_MODES(c, mode)
    expect_data(&c->out[0], I8, w8, 1, "Einsum int8 wrap");
    opc_free(c);
}
END_TEST

START_TEST(test_einsum_errors)
{
    float x[6] = {0};
    int64_t d23[] = {2, 3}, d32[] = {3, 2};
    static const struct {
        const char *eq;
        const char *needle;
    } cases[] = {
        {"ij,jk->ik,", "output term"},       {"i1,jk->ik", "character"},
        {"ij,jk->il", "'l' is in no input"}, {"ij,jk->ii", "repeats"},
        {"ijk,jk->ik", "does not fit"},      {"ij,ij->ij", "has size 3 in input 1 but 2 before"},
        {"ij", "2 input terms for"},         {"i.j,jk->ik", "character"},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        op_case *c = opc_new("Einsum", 12, 2, 1);
        opc_attr_string(c, "equation", cases[i].eq);
        opc_input(c, 0, F32, 2, d23, x, false);
        opc_input(c, 1, F32, 2, d32, x, false);
        if (!strcmp(cases[i].eq, "ij")) /* one term, two inputs: say so */
            expect_error(c, ORTC_STATUS_INVALID_MODEL, "1 input terms for 2 inputs", cases[i].eq);
        else
            expect_error(c, ORTC_STATUS_INVALID_MODEL, cases[i].needle, cases[i].eq);
        opc_free(c);
    }
}
END_TEST

/* ---- RoiAlign ------------------------------------------------------------------------- */

START_TEST(test_roi_align_cases)
{
    /* X 1x1x2x2 = [[1,2],[3,4]], one region (0,0)-(2,2), one bin, sampling
     * ratio 1: the sample is the region's centre. half_pixel shifts it to
     * pixel (0.5, 0.5): 2.5. output_half_pixel leaves it at (1, 1): 4. */
    float x[] = {1, 2, 3, 4}, rois[] = {0, 0, 2, 2};
    int64_t xd[] = {1, 1, 2, 2}, rd[] = {1, 4}, bd[] = {1}, batch[] = {0};
    static const char *modes[] = {"half_pixel", "output_half_pixel"};
    static const float want[] = {2.5f, 4.0f};
    for (int i = 0; i < 2; i++) {
        op_case *c = opc_new("RoiAlign", 16, 3, 1);
        opc_attr_string(c, "coordinate_transformation_mode", modes[i]);
        opc_attr_int(c, "sampling_ratio", 1);
        opc_input(c, 0, F32, 4, xd, x, false);
        opc_input(c, 1, F32, 2, rd, rois, false);
        opc_input(c, 2, I64, 1, bd, batch, false);
        FOR_BOTH_MODES(c, mode)
        assert_close_x(c->out[0].data, &want[i], NULL, 1, 1e-6, 1e-6, modes[i]);
        opc_free(c);
    }
    /* a batch index beyond N; a region too large to sample; the attribute
     * of RoiAlign-16 at opset 10 */
    int64_t bad[] = {1};
    op_case *c = opc_new("RoiAlign", 16, 3, 1);
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, F32, 2, rd, rois, false);
    opc_input(c, 2, I64, 1, bd, bad, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "batch_indices[0]", "RoiAlign batch index");
    opc_free(c);
    float huge[] = {0, 0, 1e12f, 1e12f};
    c = opc_new("RoiAlign", 16, 3, 1);
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, F32, 2, rd, huge, false);
    opc_input(c, 2, I64, 1, bd, batch, false);
    expect_error(c, ORTC_STATUS_INVALID_ARGUMENT, "samples per bin", "RoiAlign huge region");
    opc_free(c);
    c = opc_new("RoiAlign", 10, 3, 1);
    opc_attr_string(c, "coordinate_transformation_mode", "half_pixel");
    opc_input(c, 0, F32, 4, xd, x, false);
    opc_input(c, 1, F32, 2, rd, rois, false);
    opc_input(c, 2, I64, 1, bd, batch, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "RoiAlign-16", "RoiAlign-10 ctm");
    opc_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_indexing");
    TCase *tc = tcase_create("indexing");
    tcase_add_test(tc, test_registry_rows);
    tcase_add_test(tc, test_topk_ties_and_nan);
    tcase_add_test(tc, test_topk_axis_and_ints);
    tcase_add_test(tc, test_topk_errors);
    tcase_add_test(tc, test_gather_nd_examples);
    tcase_add_test(tc, test_gather_nd_errors);
    tcase_add_test(tc, test_scatter_nd_examples);
    tcase_add_test(tc, test_scatter9_example);
    tcase_add_test(tc, test_cumsum_cases);
    tcase_add_test(tc, test_onehot_cases);
    tcase_add_test(tc, test_eyelike_cases);
    tcase_add_test(tc, test_reverse_sequence_cases);
    tcase_add_test(tc, test_max_unpool_cases);
    tcase_add_test(tc, test_grid_sample_cases);
    tcase_add_test(tc, test_det_cases);
    tcase_add_test(tc, test_mvn_cases);
    tcase_add_test(tc, test_einsum_matmul_path);
    tcase_add_test(tc, test_einsum_general_cases);
    tcase_add_test(tc, test_einsum_errors);
    tcase_add_test(tc, test_roi_align_cases);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
