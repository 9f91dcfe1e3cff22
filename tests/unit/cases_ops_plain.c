/* cases_ops_plain.c — unit tests of the plain-C shape and data-movement
 * operators (operators/tensor/shape.c; Constant, Gather, Concat and Cast
 * from generate.c, index.c, movement.c, cast.c): shape inference, data, version differences
 * and error messages. Expected values are derived by hand in comments (numpy
 * semantics); oneDNN-backed operators are tested in cases_ops_dnnl.c.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "helper_cases.h"
#include "helper_ops.h"

/* ---- registry --------------------------------------------------------------- */

START_TEST(test_plain_registry_opsets)
{
    /* every op resolves at each model opset 7..17, and the chosen version is
     * the highest since_version <= opset (ONNX 1.12's lists) */
    static const char *ops[] = {"Flatten",  "Reshape", "Squeeze", "Unsqueeze",
                                "Identity", "Dropout", "Shape",   "Constant",
                                "Gather",   "Concat",  "Cast"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        for (int opset = 7; opset <= 17; opset++)
            ck_assert_msg(ortc_registry_find("", ops[i], opset), "%s at opset %d", ops[i], opset);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Reshape", 13), 13), 13);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Reshape", 17), 17), 14);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Dropout", 11), 11), 10);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Identity", 15), 15), 14);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Shape", 17), 17), 15);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Cast", 8), 8), 6);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Constant", 12), 12), 12);
    ck_assert(ortc_registry_find("", "Shape", 15)->flags & ORTC_OP_SHAPE_ONLY);
    ck_assert_uint_eq(ortc_registry_find("", "Reshape", 14)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "Squeeze", 13)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "Unsqueeze", 13)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "Squeeze", 11)->data_inputs, 0);
}
END_TEST

/* ---- Flatten ---------------------------------------------------------------- */

START_TEST(test_plain_flatten)
{
    /* x: (2,3,4). Flatten gives (prod dims[:axis], prod dims[axis:]):
     * axis 1 (default) -> (2,12); 0 -> (1,24); 3 -> (24,1); -1 = axis 2 ->
     * (6,4); -3 = axis 0 -> (1,24). The bytes never change. */
    static const struct {
        int opset;
        int has_axis;
        int64_t axis;
        int64_t dims[2];
    } cases[] = {{13, 0, 0, {2, 12}}, {13, 1, 0, {1, 24}},  {9, 1, 3, {24, 1}},
                 {11, 1, -1, {6, 4}}, {13, 1, -3, {1, 24}}, {1, 1, 2, {6, 4}}};
    float x[24];
    iota_f32(x, 24);
    int64_t xd[] = {2, 3, 4};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        op_case *c = opc_new("Flatten", cases[k].opset, 1, 1);
        if (cases[k].has_axis)
            opc_attr_int(c, "axis", cases[k].axis);
        opc_input(c, 0, F32, 3, xd, x, false);
        ck_assert_int_eq(declared_view(c), 0);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, cases[k].dims, "Flatten");
            expect_data(&c->out[0], F32, x, 24, "Flatten data");
        }
        opc_free(c);
    }
}
END_TEST

START_TEST(test_plain_flatten_errors)
{
    float x[24] = {0};
    int64_t xd[] = {2, 3, 4};
    /* negative axes are documented from Flatten-11, but accepted earlier as
     * ONNX Runtime does: axis -1 of [2,3,4] gives [6,4] */
    op_case *c = opc_new("Flatten", 9, 1, 1);
    opc_attr_int(c, "axis", -1);
    opc_input(c, 0, F32, 3, xd, x, false);
    ck_assert_int_eq(opc_run(c, 1, 1), ORTC_STATUS_OK);
    expect_shape(&c->out[0], F32, 2, (int64_t[]){6, 4}, "Flatten-9 axis -1");
    opc_free(c);
    /* axis 4 > rank 3 */
    c = opc_new("Flatten", 13, 1, 1);
    opc_attr_int(c, "axis", 4);
    opc_input(c, 0, F32, 3, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "axis 4");
    opc_free(c);
}
END_TEST

/* ---- Reshape ---------------------------------------------------------------- */

START_TEST(test_plain_reshape)
{
    float x[24];
    iota_f32(x, 24);
    int64_t xd[] = {2, 3, 4}, sd[] = {3};
    /* [4,0,-1] on (2,3,4): 0 copies dim 1 (3); -1 = 24 / (4*3) = 2 */
    int64_t shape[] = {4, 0, -1}, want[] = {4, 3, 2};
    op_case *c = opc_new("Reshape", 13, 2, 1);
    opc_input(c, 0, F32, 3, xd, x, false);
    opc_input(c, 1, I64, 1, sd, shape, true);
    ck_assert_int_eq(declared_view(c), 0);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 3, want, "Reshape [4,0,-1]");
        expect_data(&c->out[0], F32, x, 24, "Reshape data");
    }
    opc_free(c);

    /* an empty shape makes a scalar from a one-element tensor */
    float one = 7;
    int64_t d1[] = {1, 1}, d0[] = {0};
    c = opc_new("Reshape", 5, 2, 1);
    opc_input(c, 0, F32, 2, d1, &one, false);
    opc_input(c, 1, I64, 1, d0, NULL, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 0, NULL, "Reshape to scalar");
        expect_data(&c->out[0], F32, &one, 1, "Reshape scalar data");
    }
    opc_free(c);

    /* Reshape-1 takes the shape as an attribute: [-1, 8] on 24 -> (3,8) */
    int64_t attr[] = {-1, 8}, want1[] = {3, 8};
    c = opc_new("Reshape", 1, 1, 1);
    opc_attr_ints(c, "shape", attr, 2);
    opc_input(c, 0, F32, 3, xd, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, want1, "Reshape-1 attribute");
        expect_data(&c->out[0], F32, x, 24, "Reshape-1 data");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_reshape_allowzero)
{
    /* x: (2,0,3), no elements; shape [0,3]. Reshape-13 (and 14 without
     * allowzero) copies dim 0 -> (2,3) = 6 elements != 0: an error.
     * Reshape-14 allowzero=1 keeps the 0 -> (0,3). */
    int64_t xd[] = {2, 0, 3}, sd[] = {2}, shape[] = {0, 3}, want[] = {0, 3};
    float none[1]; /* zero elements; non-NULL because the harness memcpy's views */
    op_case *c = opc_new("Reshape", 14, 2, 1);
    opc_attr_int(c, "allowzero", 1);
    opc_input(c, 0, F32, 3, xd, none, false);
    opc_input(c, 1, I64, 1, sd, shape, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, want, "Reshape allowzero=1");
    }
    opc_free(c);

    for (int opset = 13; opset <= 14; opset++) {
        c = opc_new("Reshape", opset, 2, 1);
        opc_input(c, 0, F32, 3, xd, NULL, false);
        opc_input(c, 1, I64, 1, sd, shape, true);
        expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "(6 elements)");
        opc_free(c);
    }

    /* allowzero=1 with a 0 and a -1: the -1 cannot be inferred */
    int64_t shape2[] = {0, -1};
    c = opc_new("Reshape", 14, 2, 1);
    opc_attr_int(c, "allowzero", 1);
    opc_input(c, 0, F32, 3, xd, NULL, false);
    opc_input(c, 1, I64, 1, sd, shape2, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "[0,-1]");
    opc_free(c);
}
END_TEST

START_TEST(test_plain_reshape_errors)
{
    float x[24] = {0};
    int64_t xd[] = {2, 3, 4}, sd[] = {2};
    /* 24 elements cannot become [5,5] (25): both shapes are named */
    int64_t bad[] = {5, 5};
    op_case *c = opc_new("Reshape", 13, 2, 1);
    opc_input(c, 0, F32, 3, xd, x, false);
    opc_input(c, 1, I64, 1, sd, bad, true);
    ortc_status st = opc_run(c, 1, 1);
    expect_status(c, st, ORTC_STATUS_INVALID_MODEL, "[2,3,4]");
    expect_status(c, st, ORTC_STATUS_INVALID_MODEL, "[5,5]");
    opc_free(c);

    /* two -1s */
    int64_t two[] = {-1, -1};
    c = opc_new("Reshape", 13, 2, 1);
    opc_input(c, 0, F32, 3, xd, x, false);
    opc_input(c, 1, I64, 1, sd, two, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "more than one -1");
    opc_free(c);

    /* -1 that does not divide: 24 / 5 */
    int64_t nd[] = {5, -1};
    c = opc_new("Reshape", 13, 2, 1);
    opc_input(c, 0, F32, 3, xd, x, false);
    opc_input(c, 1, I64, 1, sd, nd, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "multiply to 5");
    opc_free(c);

    /* the shape only known at run time: refused, naming the input */
    int64_t ok[] = {4, 6};
    c = opc_new("Reshape", 13, 2, 1);
    opc_input(c, 0, F32, 3, xd, x, false);
    opc_input(c, 1, I64, 1, sd, ok, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "run time");
    opc_free(c);

    /* rank 9 is above ORTC_MAX_RANK */
    int64_t nine[] = {1, 1, 1, 1, 1, 1, 2, 3, 4}, sd9[] = {9};
    c = opc_new("Reshape", 13, 2, 1);
    opc_input(c, 0, F32, 3, xd, x, false);
    opc_input(c, 1, I64, 1, sd9, nine, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "rank <= 8");
    opc_free(c);
}
END_TEST

/* ---- Squeeze / Unsqueeze -------------------------------------------------- */

START_TEST(test_plain_squeeze)
{
    float x[6];
    iota_f32(x, 6);
    /* Squeeze-11, attribute axes [0,-1] on (1,3,2,1): -1 = axis 3 -> (3,2) */
    int64_t d1[] = {1, 3, 2, 1}, axes1[] = {0, -1}, want1[] = {3, 2};
    op_case *c = opc_new("Squeeze", 11, 1, 1);
    opc_attr_ints(c, "axes", axes1, 2);
    opc_input(c, 0, F32, 4, d1, x, false);
    ck_assert_int_eq(declared_view(c), 0);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, want1, "Squeeze-11 attr");
        expect_data(&c->out[0], F32, x, 6, "Squeeze data");
    }
    opc_free(c);

    /* Squeeze-13, axes input [2] on (1,3,1,2) -> (1,3,2) */
    int64_t d2[] = {1, 3, 1, 2}, axes2[] = {2}, ad[] = {1}, want2[] = {1, 3, 2};
    c = opc_new("Squeeze", 13, 2, 1);
    opc_input(c, 0, F32, 4, d2, x, false);
    opc_input(c, 1, I64, 1, ad, axes2, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 3, want2, "Squeeze-13 input");
        expect_data(&c->out[0], F32, x, 6, "Squeeze-13 data");
    }
    opc_free(c);

    /* no axes: every 1 goes, (1,3,1,2) -> (3,2); at 1 and 13 alike */
    for (int opset = 1; opset <= 13; opset += 12) {
        c = opc_new("Squeeze", opset, 1, 1);
        opc_input(c, 0, F32, 4, d2, x, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, want1, "Squeeze without axes");
        }
        opc_free(c);
    }

    /* an explicit empty axes input squeezes nothing (ONNX shape inference,
     * numpy squeeze(axis=())) */
    int64_t d0[] = {0};
    c = opc_new("Squeeze", 13, 2, 1);
    opc_input(c, 0, F32, 4, d2, x, false);
    opc_input(c, 1, I64, 1, d0, NULL, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 4, d2, "Squeeze with empty axes");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_squeeze_errors)
{
    float x[6] = {0};
    int64_t d[] = {1, 3, 2}, axes[] = {1};
    /* dim 1 is 3, not 1 */
    op_case *c = opc_new("Squeeze", 11, 1, 1);
    opc_attr_ints(c, "axes", axes, 1);
    opc_input(c, 0, F32, 3, d, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "dim is 3, not 1");
    opc_free(c);
    /* Squeeze-1 with a negative axis (accepted before opset 11, as ONNX
     * Runtime does): -3 of [1,3,2] is dim 0, giving [3,2] */
    int64_t neg[] = {-3};
    c = opc_new("Squeeze", 1, 1, 1);
    opc_attr_ints(c, "axes", neg, 1);
    opc_input(c, 0, F32, 3, d, x, false);
    ck_assert_int_eq(opc_run(c, 1, 1), ORTC_STATUS_OK);
    expect_shape(&c->out[0], F32, 2, (int64_t[]){3, 2}, "Squeeze-1 axes [-3]");
    opc_free(c);
    /* axes input with runtime-only values */
    int64_t ad[] = {1}, zero[] = {0};
    c = opc_new("Squeeze", 13, 2, 1);
    opc_input(c, 0, F32, 3, d, x, false);
    opc_input(c, 1, I64, 1, ad, zero, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "input 1");
    opc_free(c);
}
END_TEST

START_TEST(test_plain_unsqueeze)
{
    int32_t x[12];
    for (int i = 0; i < 12; i++)
        x[i] = 100 + i;
    /* the spec's example: (3,4,5) with axes [0,4] -> (1,3,4,5,1); here
     * (3,4) with [0,3] -> (1,3,4,1), attribute form (Unsqueeze-1/11) */
    int64_t d[] = {3, 4}, axes1[] = {0, 3}, want1[] = {1, 3, 4, 1};
    for (int opset = 1; opset <= 11; opset += 10) {
        op_case *c = opc_new("Unsqueeze", opset, 1, 1);
        opc_attr_ints(c, "axes", axes1, 2);
        opc_input(c, 0, I32, 2, d, x, false);
        ck_assert_int_eq(declared_view(c), 0);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I32, 4, want1, "Unsqueeze attr");
            expect_data(&c->out[0], I32, x, 12, "Unsqueeze data");
        }
        opc_free(c);
    }
    /* Unsqueeze-13, axes input [-1, 1] on (3,4): output rank 4, so -1 is
     * axis 3; ones at 1 and 3 -> (3,1,4,1) */
    int64_t axes2[] = {-1, 1}, ad[] = {2}, want2[] = {3, 1, 4, 1};
    op_case *c = opc_new("Unsqueeze", 13, 2, 1);
    opc_input(c, 0, I32, 2, d, x, false);
    opc_input(c, 1, I64, 1, ad, axes2, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 4, want2, "Unsqueeze-13 input");
        expect_data(&c->out[0], I32, x, 12, "Unsqueeze-13 data");
    }
    opc_free(c);
    /* scalar -> (1) with a scalar axes tensor */
    int64_t zero = 0, want3[] = {1};
    c = opc_new("Unsqueeze", 13, 2, 1);
    opc_input(c, 0, I32, 0, NULL, x, false);
    opc_input(c, 1, I64, 0, NULL, &zero, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 1, want3, "Unsqueeze scalar");
        expect_data(&c->out[0], I32, x, 1, "Unsqueeze scalar data");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_unsqueeze_errors)
{
    int32_t x[12] = {0};
    int64_t d[] = {3, 4}, dup[] = {1, -3}, ad[] = {2};
    /* output rank 4: -3 is axis 1, a duplicate */
    op_case *c = opc_new("Unsqueeze", 13, 2, 1);
    opc_input(c, 0, I32, 2, d, x, false);
    opc_input(c, 1, I64, 1, ad, dup, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "duplicate");
    opc_free(c);
    /* axis 4 is out of range for output rank 4 */
    int64_t far[] = {4};
    c = opc_new("Unsqueeze", 11, 1, 1);
    opc_attr_ints(c, "axes", far, 1);
    opc_input(c, 0, I32, 2, d, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "out of range for rank 3");
    opc_free(c);
    /* rank 7 + 2 axes = 9 > 8 */
    int64_t d7[] = {1, 1, 1, 1, 1, 3, 4}, two[] = {0, 1};
    c = opc_new("Unsqueeze", 11, 1, 1);
    opc_attr_ints(c, "axes", two, 2);
    opc_input(c, 0, I32, 7, d7, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "rank 9");
    opc_free(c);
    /* Unsqueeze-11 needs axes */
    c = opc_new("Unsqueeze", 11, 1, 1);
    opc_input(c, 0, I32, 2, d, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "axes");
    opc_free(c);
}
END_TEST

/* ---- Identity / Dropout ----------------------------------------------------- */

START_TEST(test_plain_identity)
{
    int64_t x[] = {INT64_MIN, -1, 0, 1, INT64_MAX, 42}, d[] = {2, 3};
    static const int opsets[] = {1, 13, 14, 16};
    for (int k = 0; k < 4; k++) {
        op_case *c = opc_new("Identity", opsets[k], 1, 1);
        opc_input(c, 0, I64, 2, d, x, false);
        ck_assert_int_eq(declared_view(c), 0);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I64, 2, d, "Identity");
            expect_data(&c->out[0], I64, x, 6, "Identity data");
        }
        opc_free(c);
    }
    uint8_t b[] = {1, 0, 1};
    int64_t db[] = {3};
    op_case *c = opc_new("Identity", 16, 1, 1);
    opc_input(c, 0, BOOL, 1, db, b, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], BOOL, b, 3, "Identity bool");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_dropout)
{
    float x[] = {1.5f, -2, 0, 3.25f}, ratio = 0.3f, zero_ratio = 0;
    int64_t d[] = {2, 2};
    uint8_t no = 0, yes = 1, ones[] = {1, 1, 1, 1};
    /* inference: output = input, mask all true (bool from opset 10);
     * ratio 0.3 is ignored when training_mode is false */
    op_case *c = opc_new("Dropout", 13, 3, 2);
    opc_input(c, 0, F32, 2, d, x, false);
    opc_input(c, 1, F32, 0, NULL, &ratio, true);
    opc_input(c, 2, BOOL, 0, NULL, &no, true);
    ck_assert_int_eq(declared_view(c), -1); /* the mask needs run */
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, d, "Dropout output");
        expect_data(&c->out[0], F32, x, 4, "Dropout output data");
        expect_shape(&c->out[1], BOOL, 2, d, "Dropout mask");
        expect_data(&c->out[1], BOOL, ones, 4, "Dropout mask data");
    }
    opc_free(c);

    /* training_mode true with ratio 0: the spec's output is still a copy */
    c = opc_new("Dropout", 12, 3, 2);
    opc_input(c, 0, F32, 2, d, x, false);
    opc_input(c, 1, F32, 0, NULL, &zero_ratio, true);
    opc_input(c, 2, BOOL, 0, NULL, &yes, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], F32, x, 4, "Dropout ratio 0 output");
        expect_data(&c->out[1], BOOL, ones, 4, "Dropout ratio 0 mask");
    }
    opc_free(c);

    /* no mask: a pure view */
    c = opc_new("Dropout", 12, 1, 1);
    opc_input(c, 0, F32, 2, d, x, false);
    ck_assert_int_eq(declared_view(c), 0);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], F32, x, 4, "Dropout view");
    }
    opc_free(c);

    /* Dropout-7: ratio attribute; the mask has the input's type: 1.0f */
    float fones[] = {1, 1, 1, 1};
    c = opc_new("Dropout", 7, 1, 2);
    opc_attr_float(c, "ratio", 0.5f);
    opc_input(c, 0, F32, 2, d, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], F32, x, 4, "Dropout-7 output");
        expect_data(&c->out[1], F32, fones, 4, "Dropout-7 mask");
    }
    opc_free(c);

    /* Dropout-10: mask is bool */
    c = opc_new("Dropout", 10, 1, 2);
    opc_input(c, 0, F32, 2, d, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[1], BOOL, ones, 4, "Dropout-10 mask");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_dropout_training)
{
    float x[] = {1, 2, 3, 4}, ratio = 0.3f;
    int64_t d[] = {4};
    uint8_t yes = 1, no = 0;
    /* constant training_mode true, ratio 0.3: refused at infer */
    op_case *c = opc_new("Dropout", 13, 3, 1);
    opc_input(c, 0, F32, 1, d, x, false);
    opc_input(c, 1, F32, 0, NULL, &ratio, true);
    opc_input(c, 2, BOOL, 0, NULL, &yes, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "training");
    opc_free(c);
    /* true without a ratio input: the default ratio 0.5 applies */
    c = opc_new("Dropout", 12, 3, 1);
    opc_input(c, 0, F32, 1, d, x, false);
    opc_input(c, 1, ORTC_DTYPE_UNDEFINED, 0, NULL, NULL, false);
    opc_input(c, 2, BOOL, 0, NULL, &yes, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "ratio 0.5");
    opc_free(c);
    /* training_mode fed at run time: no view, checked when run */
    c = opc_new("Dropout", 13, 3, 1);
    opc_input(c, 0, F32, 1, d, x, false);
    opc_input(c, 2, BOOL, 0, NULL, &yes, false);
    ck_assert_int_eq(declared_view(c), -1);
    expect_status(c, opc_run(c, 0, 1), ORTC_STATUS_UNSUPPORTED, "training");
    opc_input(c, 2, BOOL, 0, NULL, &no, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], F32, x, 4, "Dropout runtime training_mode false");
    }
    opc_free(c);
}
END_TEST

/* ---- Shape ------------------------------------------------------------------ */

START_TEST(test_plain_shape)
{
    /* x: (2,3,4); data NULL: Shape must read only dims (SHAPE_ONLY) */
    int64_t d[] = {2, 3, 4};
    static const struct {
        int opset;
        int has_start, has_end;
        int64_t start, end;
        int n;
        int64_t want[3];
    } cases[] = {
        {13, 0, 0, 0, 0, 3, {2, 3, 4}},    /* whole shape */
        {15, 1, 0, -1, 0, 1, {4}},         /* spec example: start -1 */
        {15, 0, 1, 0, -1, 2, {2, 3}},      /* spec example: end -1 */
        {15, 1, 1, 1, 2, 1, {3}},          /* spec example: [1,2) */
        {15, 1, 1, -10, 10, 3, {2, 3, 4}}, /* both clamp to [0,3] */
        {15, 1, 1, 2, 1, 0, {0}},          /* end before start: empty */
        {1, 0, 0, 0, 0, 3, {2, 3, 4}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        op_case *c = opc_new("Shape", cases[k].opset, 1, 1);
        if (cases[k].has_start)
            opc_attr_int(c, "start", cases[k].start);
        if (cases[k].has_end)
            opc_attr_int(c, "end", cases[k].end);
        opc_input(c, 0, F32, 3, d, NULL, false);
        int64_t n = cases[k].n;
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I64, 1, &n, "Shape");
            expect_data(&c->out[0], I64, cases[k].want, n, "Shape data");
        }
        opc_free(c);
    }
    /* a scalar's shape is the empty list */
    int64_t zero = 0;
    op_case *c = opc_new("Shape", 15, 1, 1);
    opc_input(c, 0, U8, 0, NULL, NULL, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 1, &zero, "Shape of a scalar");
    }
    opc_free(c);
}
END_TEST

/* ---- Constant --------------------------------------------------------------- */

START_TEST(test_plain_constant)
{
    /* value: an int32 (2,2) tensor */
    int64_t d[] = {2, 2};
    int32_t vals[] = {1, -2, 3, -4};
    op_case *c = opc_new("Constant", 13, 0, 1);
    ortc_attr *a = ortc_node_add_attr(c->node, "value", ORTC_ATTR_TENSOR);
    a->t = ortc_const_tensor_new(I32, 2, d);
    memcpy(a->t->t.data, vals, sizeof vals);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 2, d, "Constant value");
        expect_data(&c->out[0], I32, vals, 4, "Constant value data");
    }
    opc_free(c);
    /* the same at Constant-1 (value only) */
    float fv[] = {0.5f, -1};
    int64_t d2[] = {2};
    c = opc_new("Constant", 1, 0, 1);
    a = ortc_node_add_attr(c->node, "value", ORTC_ATTR_TENSOR);
    a->t = ortc_const_tensor_new(F32, 1, d2);
    memcpy(a->t->t.data, fv, sizeof fv);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], F32, fv, 2, "Constant-1 value");
    }
    opc_free(c);

    /* value_float: float32 scalar */
    float f = 2.5f;
    c = opc_new("Constant", 12, 0, 1);
    opc_attr_float(c, "value_float", f);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 0, NULL, "value_float");
        expect_data(&c->out[0], F32, &f, 1, "value_float data");
    }
    opc_free(c);
    /* value_floats: float32 (3) */
    float fs[] = {1, -0.25f, 1e30f};
    int64_t n3 = 3;
    c = opc_new("Constant", 13, 0, 1);
    opc_attr_floats(c, "value_floats", fs, 3);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 1, &n3, "value_floats");
        expect_data(&c->out[0], F32, fs, 3, "value_floats data");
    }
    opc_free(c);
    /* value_int: int64 scalar */
    int64_t i = -7;
    c = opc_new("Constant", 13, 0, 1);
    opc_attr_int(c, "value_int", i);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 0, NULL, "value_int");
        expect_data(&c->out[0], I64, &i, 1, "value_int data");
    }
    opc_free(c);
    /* value_ints: int64 (3) */
    int64_t is[] = {5, 0, -1};
    c = opc_new("Constant", 13, 0, 1);
    opc_attr_ints(c, "value_ints", is, 3);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 1, &n3, "value_ints");
        expect_data(&c->out[0], I64, is, 3, "value_ints data");
    }
    opc_free(c);
    /* value_string: string scalar */
    c = opc_new("Constant", 13, 0, 1);
    opc_attr_string(c, "value_string", "hello");
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], ORTC_DTYPE_STRING, 0, NULL, "value_string");
        ck_assert_str_eq(((char **)c->out[0].data)[0], "hello");
    }
    opc_free(c);
    /* value_strings: string (2) */
    int64_t n2 = 2;
    c = opc_new("Constant", 13, 0, 1);
    a = ortc_node_add_attr(c->node, "value_strings", ORTC_ATTR_STRINGS);
    a->n = 2;
    a->strings = malloc(2 * sizeof *a->strings);
    a->strings[0] = strdup("a");
    a->strings[1] = strdup("bc");
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], ORTC_DTYPE_STRING, 1, &n2, "value_strings");
        ck_assert_str_eq(((char **)c->out[0].data)[0], "a");
        ck_assert_str_eq(((char **)c->out[0].data)[1], "bc");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_constant_errors)
{
    op_case *c = opc_new("Constant", 13, 0, 1);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "none");
    opc_free(c);
    c = opc_new("Constant", 13, 0, 1);
    opc_attr_int(c, "value_int", 1);
    opc_attr_float(c, "value_float", 1);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "'value_float', 'value_int'");
    opc_free(c);
    c = opc_new("Constant", 13, 0, 1);
    ortc_node_add_attr(c->node, "sparse_value", ORTC_ATTR_TENSOR);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "sparse_value");
    opc_free(c);
    /* value_* exist from Constant-12 */
    c = opc_new("Constant", 11, 0, 1);
    opc_attr_int(c, "value_int", 1);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "Constant-12");
    opc_free(c);
    /* wrong attribute type */
    c = opc_new("Constant", 13, 0, 1);
    opc_attr_float(c, "value_int", 1);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "value_int");
    opc_free(c);
}
END_TEST

/* ---- Gather ----------------------------------------------------------------- */

/* data: (3,4) with data[i][j] = 10*i + j */
static const float gather_data[12] = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23};
static const int64_t gather_dims[2] = {3, 4};

START_TEST(test_plain_gather_axis0)
{
    /* indices (2,2) int64 [[0,-1],[1,2]]; -1 is row 2. out (2,2,4):
     * rows 0, 2, 1, 2 */
    int64_t idx[] = {0, -1, 1, 2}, id[] = {2, 2}, want_d[] = {2, 2, 4};
    float want[] = {0, 1, 2, 3, 20, 21, 22, 23, 10, 11, 12, 13, 20, 21, 22, 23};
    for (int opset = 1; opset <= 13; opset += 12) {
        op_case *c = opc_new("Gather", opset, 2, 1);
        opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
        opc_input(c, 1, I64, 2, id, idx, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 3, want_d, "Gather axis 0");
            expect_data(&c->out[0], F32, want, 16, "Gather axis 0 data");
        }
        opc_free(c);
    }
}
END_TEST

START_TEST(test_plain_gather_axis1)
{
    /* int32 indices [3,-4] on axis 1 (and -1, the same axis): -4 is column
     * 0. out (3,2): row i -> data[i][3], data[i][0] */
    int32_t idx[] = {3, -4};
    int64_t id[] = {2}, want_d[] = {3, 2};
    float want[] = {3, 0, 13, 10, 23, 20};
    for (int64_t axis = -1; axis <= 1; axis += 2) {
        op_case *c = opc_new("Gather", 13, 2, 1);
        opc_attr_int(c, "axis", axis);
        opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
        opc_input(c, 1, I32, 1, id, idx, true);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, want_d, "Gather axis 1");
            expect_data(&c->out[0], F32, want, 6, "Gather axis 1 data");
        }
        opc_free(c);
    }
    /* a 3-D int16 case to exercise outer and inner: x (2,3,2) with
     * x[i][j][k] = 100i + 10j + k, indices [2,0] on axis 1 -> (2,2,2):
     * [[x[0][2], x[0][0]], [x[1][2], x[1][0]]] */
    int16_t x3[12];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 2; k++)
                x3[i * 6 + j * 2 + k] = (int16_t)(100 * i + 10 * j + k);
    int64_t d3[] = {2, 3, 2}, idx3[] = {2, 0}, want3_d[] = {2, 2, 2};
    int16_t want3[] = {20, 21, 0, 1, 120, 121, 100, 101};
    op_case *c = opc_new("Gather", 11, 2, 1);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, I16, 3, d3, x3, false);
    opc_input(c, 1, I64, 1, id, idx3, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I16, 3, want3_d, "Gather 3-D");
        expect_data(&c->out[0], I16, want3, 8, "Gather 3-D data");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_gather_scalar_and_bool)
{
    /* scalar index -2 on axis 0: rank drops to 1, row 1 */
    int64_t k = -2, want_d[] = {4};
    float want[] = {10, 11, 12, 13};
    op_case *c = opc_new("Gather", 13, 2, 1);
    opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
    opc_input(c, 1, I64, 0, NULL, &k, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 1, want_d, "Gather scalar index");
        expect_data(&c->out[0], F32, want, 4, "Gather scalar index data");
    }
    opc_free(c);
    /* scalar index 2 on axis 1: column 2 -> (3) */
    int32_t k2 = 2;
    int64_t want2_d[] = {3};
    float want2[] = {2, 12, 22};
    c = opc_new("Gather", 13, 2, 1);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
    opc_input(c, 1, I32, 0, NULL, &k2, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 1, want2_d, "Gather column");
        expect_data(&c->out[0], F32, want2, 3, "Gather column data");
    }
    opc_free(c);
    /* bool data [1,0,0,1], indices [3,1,0] -> [1,0,1] */
    uint8_t b[] = {1, 0, 0, 1}, wantb[] = {1, 0, 1};
    int64_t bd[] = {4}, bi[] = {3, 1, 0}, bid[] = {3};
    c = opc_new("Gather", 13, 2, 1);
    opc_input(c, 0, BOOL, 1, bd, b, false);
    opc_input(c, 1, I64, 1, bid, bi, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], BOOL, wantb, 3, "Gather bool");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_gather_errors)
{
    /* index 3 on a dim of 3: a run error naming the index and the dim */
    int64_t idx[] = {0, 3}, id[] = {2};
    op_case *c = opc_new("Gather", 13, 2, 1);
    opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
    opc_input(c, 1, I64, 1, id, idx, false);
    ortc_status st = opc_run(c, 1, 1);
    expect_status(c, st, ORTC_STATUS_INVALID_ARGUMENT, "index 3");
    expect_status(c, st, ORTC_STATUS_INVALID_ARGUMENT, "dim is 3");
    /* -4 is out of range too (valid: -3..2) */
    int64_t neg[] = {-4, 0};
    opc_input(c, 1, I64, 1, id, neg, false);
    expect_status(c, opc_run(c, 0, 1), ORTC_STATUS_INVALID_ARGUMENT, "index -4");
    /* int32 indices on axis 1 (dim 4) */
    int32_t idx32[] = {4, 0};
    opc_attr_int(c, "axis", 1);
    opc_input(c, 1, I32, 1, id, idx32, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_ARGUMENT, "dim is 4");
    opc_free(c);
    /* constant indices are checked when compiling */
    c = opc_new("Gather", 13, 2, 1);
    opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
    opc_input(c, 1, I64, 1, id, idx, true);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "index 3");
    opc_free(c);
    /* float indices */
    float fidx[] = {0, 1};
    c = opc_new("Gather", 13, 2, 1);
    opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
    opc_input(c, 1, F32, 1, id, fidx, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_UNSUPPORTED, "int32, int64");
    opc_free(c);
    /* axis 2 out of range for rank 2 */
    c = opc_new("Gather", 13, 2, 1);
    opc_attr_int(c, "axis", 2);
    opc_input(c, 0, F32, 2, gather_dims, gather_data, false);
    opc_input(c, 1, I64, 1, id, idx, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "axis 2");
    opc_free(c);
}
END_TEST

/* ---- Concat ----------------------------------------------------------------- */

START_TEST(test_plain_concat)
{
    /* axis -2 of rank 3 = axis 1. a (2,1,2) = 1..4, b (2,2,2) = 10..17,
     * e (2,1,2) = 20..23. out (2,4,2): for each outer i, a[i], b[i], e[i]:
     * 1,2 | 10,11,12,13 | 20,21 then 3,4 | 14,15,16,17 | 22,23 */
    int64_t a[] = {1, 2, 3, 4}, b[] = {10, 11, 12, 13, 14, 15, 16, 17}, e[] = {20, 21, 22, 23};
    int64_t da[] = {2, 1, 2}, db[] = {2, 2, 2}, want_d[] = {2, 4, 2};
    int64_t want[] = {1, 2, 10, 11, 12, 13, 20, 21, 3, 4, 14, 15, 16, 17, 22, 23};
    op_case *c = opc_new("Concat", 13, 3, 1);
    opc_attr_int(c, "axis", -2);
    opc_input(c, 0, I64, 3, da, a, false);
    opc_input(c, 1, I64, 3, db, b, false);
    opc_input(c, 2, I64, 3, da, e, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 3, want_d, "Concat 3 inputs");
        expect_data(&c->out[0], I64, want, 16, "Concat 3 inputs data");
    }
    opc_free(c);

    /* a zero-size input contributes nothing: (2,1,2) ++ (2,0,2) = a */
    int64_t dz[] = {2, 0, 2};
    c = opc_new("Concat", 11, 2, 1);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, I64, 3, dz, NULL, false);
    opc_input(c, 1, I64, 3, da, a, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 3, da, "Concat with empty");
        expect_data(&c->out[0], I64, a, 4, "Concat with empty data");
    }
    opc_free(c);

    /* uint8 on axis 0, Concat-1's default axis is 1: (1,2) ++ (1,1) -> (1,3) */
    uint8_t u1[] = {7, 8}, u2[] = {9}, wantu[] = {7, 8, 9};
    int64_t du1[] = {1, 2}, du2[] = {1, 1}, wantu_d[] = {1, 3};
    c = opc_new("Concat", 1, 2, 1);
    opc_input(c, 0, U8, 2, du1, u1, false);
    opc_input(c, 1, U8, 2, du2, u2, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], U8, 2, wantu_d, "Concat-1 default axis");
        expect_data(&c->out[0], U8, wantu, 3, "Concat-1 data");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_plain_concat_errors)
{
    float x[9] = {0};
    int64_t d1[] = {2, 3}, d2[] = {3, 3}, d3[] = {2, 3, 1};
    /* axis 1: dim 0 must match, 2 vs 3 */
    op_case *c = opc_new("Concat", 13, 2, 1);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, d1, x, false);
    opc_input(c, 1, F32, 2, d2, x, false);
    ortc_status st = opc_run(c, 1, 1);
    expect_status(c, st, ORTC_STATUS_INVALID_MODEL, "input 1 'in1' has shape [3,3]");
    expect_status(c, st, ORTC_STATUS_INVALID_MODEL, "dim 0: 3 vs 2");
    opc_free(c);
    /* rank mismatch */
    c = opc_new("Concat", 13, 2, 1);
    opc_attr_int(c, "axis", 0);
    opc_input(c, 0, F32, 2, d1, x, false);
    opc_input(c, 1, F32, 3, d3, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "rank 3");
    opc_free(c);
    /* dtype mismatch */
    c = opc_new("Concat", 13, 2, 1);
    opc_attr_int(c, "axis", 0);
    opc_input(c, 0, F32, 2, d1, x, false);
    opc_input(c, 1, I32, 2, d1, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "int32");
    opc_free(c);
    /* axis required from Concat-4; negative from 11 */
    c = opc_new("Concat", 4, 1, 1);
    opc_input(c, 0, F32, 2, d1, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "'axis' is missing");
    opc_free(c);
    /* a negative axis before opset 11 is accepted (ONNX Runtime does) */
    c = opc_new("Concat", 4, 1, 1);
    opc_attr_int(c, "axis", -1);
    opc_input(c, 0, F32, 2, d1, x, false);
    ck_assert_int_eq(opc_run(c, 1, 1), ORTC_STATUS_OK);
    expect_shape(&c->out[0], F32, 2, d1, "Concat-4 axis -1");
    opc_free(c);
}
END_TEST

/* ---- Cast ------------------------------------------------------------------- */

/* Casts n elements of `from` to `to` at `opset` and checks the result. */
static void check_cast(int opset, ortc_dtype from, const void *x, int64_t n, ortc_dtype to,
                       const void *want, const char *what)
{
    op_case *c = opc_new("Cast", opset, 1, 1);
    opc_attr_int(c, "to", to);
    opc_input(c, 0, from, 1, &n, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], to, 1, &n, what);
        expect_data(&c->out[0], to, want, n, what);
    }
    opc_free(c);
}

/* Writes the values 0, 1, 2, 5 (indices into `vals`) in dtype t; the
 * float16/bfloat16 patterns are hand-encoded: 1 = 0x3c00 / 0x3f80,
 * 2 = 0x4000 / 0x4000, 5 = 1.25 * 2^2 = 0x4500 / 0x40a0. */
static void small_values(ortc_dtype t, const int *vals, int n, void *out)
{
    static const uint16_t h[] = {0, 0x3c00, 0x4000, 0, 0, 0x4500};
    static const uint16_t bh[] = {0, 0x3f80, 0x4000, 0, 0, 0x40a0};
    for (int i = 0; i < n; i++) {
        int v = vals[i];
        switch (t) {
        case F32: ((float *)out)[i] = (float)v; break;
        case F64: ((double *)out)[i] = v; break;
        case F16: ((uint16_t *)out)[i] = h[v]; break;
        case BF16: ((uint16_t *)out)[i] = bh[v]; break;
        case I8: ((int8_t *)out)[i] = (int8_t)v; break;
        case I16: ((int16_t *)out)[i] = (int16_t)v; break;
        case I32: ((int32_t *)out)[i] = v; break;
        case I64: ((int64_t *)out)[i] = v; break;
        case U8: ((uint8_t *)out)[i] = (uint8_t)v; break;
        case U16: ((uint16_t *)out)[i] = (uint16_t)v; break;
        case U32: ((uint32_t *)out)[i] = (uint32_t)v; break;
        case U64: ((uint64_t *)out)[i] = (uint64_t)v; break;
        case BOOL: ((uint8_t *)out)[i] = v != 0; break;
        default: ck_abort_msg("dtype %d", t);
        }
    }
}

START_TEST(test_plain_cast_all_pairs)
{
    /* 0, 1, 2, 5 are exact in every numeric dtype: each of the 13 x 13
     * pairs must carry them over (bool: nonzero -> 1; from bool: 0/1). */
    static const ortc_dtype types[] = {F32, F64, F16, BF16, I8,  I16, I32,
                                       I64, U8,  U16, U32,  U64, BOOL};
    static const int vals[] = {0, 1, 2, 5}, bvals[] = {0, 1, 1, 0};
    for (size_t a = 0; a < 13; a++)
        for (size_t b = 0; b < 13; b++) {
            const int *v = types[a] == BOOL ? bvals : vals;
            int w[4];
            for (int i = 0; i < 4; i++)
                w[i] = types[b] == BOOL ? v[i] != 0 : v[i];
            uint64_t x[4], want[4];
            small_values(types[a], v, 4, x);
            small_values(types[b], w, 4, want);
            char what[64];
            snprintf(what, sizeof what, "Cast %s -> %s", ortc_dtype_name(types[a]),
                     ortc_dtype_name(types[b]));
            op_case *c = opc_new("Cast", 13, 1, 1);
            opc_attr_int(c, "to", types[b]);
            int64_t n = 4;
            opc_input(c, 0, types[a], 1, &n, x, false);
            ck_assert_msg(opc_run(c, 1, 1) == OK, "%s: %s", what, c->err.msg);
            expect_data(&c->out[0], types[b], want, 4, what);
            opc_free(c);
        }
}
END_TEST

START_TEST(test_plain_cast_float_to_int)
{
    /* truncation toward zero; NaN -> 0 and saturation are ortc's defined
     * choices for what C leaves undefined */
    float x[] = {1.9f, -1.9f, 2.5f, -0.5f, NAN, 3e9f, -3e9f, INFINITY};
    int32_t w32[] = {1, -1, 2, 0, 0, INT32_MAX, INT32_MIN, INT32_MAX};
    check_cast(13, F32, x, 8, I32, w32, "float -> int32");
    /* uint8: -1 -> 0, 255.9 -> 255, 256 -> 255, 1.5 -> 1 */
    float xu[] = {-1, 255.9f, 256, 1.5f};
    uint8_t wu8[] = {0, 255, 255, 1};
    check_cast(13, F32, xu, 4, U8, wu8, "float -> uint8");
    /* int64 saturates at +-2^63; 1e18 is exact in double */
    double xd[] = {1e19, -1e19, 1e18, -0.99};
    int64_t w64[] = {INT64_MAX, INT64_MIN, 1000000000000000000LL, 0};
    check_cast(9, F64, xd, 4, I64, w64, "double -> int64");
    /* uint64: 1.8e19 < 2^64 is an exact double integer; 2e19 saturates */
    double xd2[] = {1.8e19, 2e19, -5, NAN};
    uint64_t wu64[] = {18000000000000000000ULL, UINT64_MAX, 0, 0};
    check_cast(13, F64, xd2, 4, U64, wu64, "double -> uint64");
    /* int8 from float16: 0xd7d0 = -(1 + 976/1024) * 2^(21-15) = -125.0,
     * 0x5bd0 = 250.0 -> saturates to 127 */
    uint16_t h[] = {0xd7d0, 0x5bd0};
    int8_t w8[] = {-125, 127};
    check_cast(13, F16, h, 2, I8, w8, "float16 -> int8");
}
END_TEST

START_TEST(test_plain_cast_int_wrap_and_bool)
{
    /* narrowing integers wraps modulo 2^bits (numpy): 128 -> -128,
     * -129 -> 127, 300 -> 300 - 256 = 44 */
    int32_t x[] = {127, 128, -129, 300};
    int8_t w[] = {127, -128, 127, 44};
    check_cast(13, I32, x, 4, I8, w, "int32 -> int8");
    /* int64 -> uint16: -1 -> 65535, 65536 -> 0, 70000 -> 70000 - 65536 */
    int64_t x2[] = {-1, 65536, 70000};
    uint16_t w2[] = {65535, 0, 4464};
    check_cast(13, I64, x2, 3, U16, w2, "int64 -> uint16");
    /* uint64 2^63 -> int64 INT64_MIN (wrap) */
    uint64_t x3[] = {9223372036854775808ULL, 5};
    int64_t w3[] = {INT64_MIN, 5};
    check_cast(13, U64, x3, 2, I64, w3, "uint64 -> int64");
    /* to bool: nonzero and NaN are true */
    float xf[] = {0, -0.0f, 0.5f, NAN, -3};
    uint8_t wb[] = {0, 0, 1, 1, 1};
    check_cast(13, F32, xf, 5, BOOL, wb, "float -> bool");
    int64_t xi[] = {0, 2, -1, 256};
    uint8_t wbi[] = {0, 1, 1, 1};
    check_cast(13, I64, xi, 4, BOOL, wbi, "int64 -> bool");
    /* from bool: 0/1 */
    uint8_t b[] = {1, 0, 1};
    double wd[] = {1, 0, 1};
    check_cast(13, BOOL, b, 3, F64, wd, "bool -> double");
    /* uint64 max -> float: 2^64 - 1 rounds to 2^64 */
    uint64_t big[] = {UINT64_MAX};
    float wbig[] = {18446744073709551616.0f};
    check_cast(13, U64, big, 1, F32, wbig, "uint64 -> float");
    /* double beyond float range -> +-inf; 1/3 rounds to nearest float */
    double xo[] = {1e300, -1e300, 1.0 / 3};
    float wo[] = {INFINITY, -INFINITY, 1.0f / 3};
    check_cast(13, F64, xo, 3, F32, wo, "double -> float");
}
END_TEST

START_TEST(test_plain_cast_float16)
{
    /* float -> float16, round to nearest even. Patterns:
     *  1 = 0x3c00; -2 = 0xc000; 65504 (max) = 0x7bff;
     *  65520 is halfway between 65504 and 65536: ties to even goes up to
     *        2^16, which overflows -> inf 0x7c00;
     *  2^-24 (smallest subnormal) = 0x0001; 2^-25 is a tie between 0 and
     *        2^-24 -> even -> 0x0000; 3 * 2^-26 = 0.75 * 2^-24 -> 0x0001;
     *  0.1 -> 0x2e66 (0.0999755859375); 1/3 -> 0x3555 (0.333251953125);
     *  -0.0 = 0x8000; 2^-14 (smallest normal) = 0x0400 */
    float x[] = {1,        -2,   65504,    65520, 0x1p-24f, 0x1p-25f,
                 0x3p-26f, 0.1f, 1.0f / 3, -0.0f, 0x1p-14f};
    uint16_t w[] = {0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x0000,
                    0x0001, 0x2e66, 0x3555, 0x8000, 0x0400};
    check_cast(13, F32, x, N_OF(x), F16, w, "float -> float16");
    /* and back: exact */
    uint16_t h[] = {0x3c00, 0x0001, 0x7bff, 0xfc00, 0x3555, 0x8000, 0x7c00};
    float wf[] = {1, 0x1p-24f, 65504, -INFINITY, 0.333251953125f, -0.0f, INFINITY};
    check_cast(13, F16, h, N_OF(h), F32, wf, "float16 -> float");
    /* float16 NaN -> float NaN (checked by isnan, the payload is free) */
    uint16_t hn = 0x7e00;
    op_case *c = opc_new("Cast", 13, 1, 1);
    opc_attr_int(c, "to", F32);
    int64_t one = 1;
    opc_input(c, 0, F16, 1, &one, &hn, false);
    ck_assert_msg(opc_run(c, 1, 1) == OK, "%s", c->err.msg);
    ck_assert_msg(isnan(*(float *)c->out[0].data), "float16 NaN -> %g", *(float *)c->out[0].data);
    opc_free(c);
    /* NaN -> float16 stays NaN: exponent all ones, mantissa nonzero */
    float xn = NAN;
    c = opc_new("Cast", 13, 1, 1);
    opc_attr_int(c, "to", F16);
    opc_input(c, 0, F32, 1, &one, &xn, false);
    ck_assert_msg(opc_run(c, 1, 1) == OK, "%s", c->err.msg);
    uint16_t got = *(uint16_t *)c->out[0].data;
    ck_assert_msg((got & 0x7c00) == 0x7c00 && (got & 0x3ff), "NaN -> float16 0x%04x", got);
    opc_free(c);
    /* int64 -> float16: 2049 is a tie between 2048 and 2050 (spacing 2
     * above 2^11) -> even 2048 = 0x6800; 2051 -> 2052 = 0x6802; 70000 -> inf */
    int64_t xi[] = {2049, 2051, 70000, -1};
    uint16_t wi[] = {0x6800, 0x6802, 0x7c00, 0xbc00};
    check_cast(13, I64, xi, 4, F16, wi, "int64 -> float16");
    /* double -> float16 rounds once from the double: 1 + 2^-11 + 2^-40 is
     * just above the tie between 1 and 1 + 2^-10 -> 0x3c01 (a float
     * intermediate would round to the tie and then to even 0x3c00) */
    double xd[] = {1 + 0x1p-11 + 0x1p-40};
    uint16_t wd[] = {0x3c01};
    check_cast(13, F64, xd, 1, F16, wd, "double -> float16");
}
END_TEST

START_TEST(test_plain_cast_bfloat16)
{
    /* bfloat16 keeps 7 mantissa bits: 1 = 0x3f80; pi (float 0x40490fdb)
     * rounds down to 0x4049 (3.140625); 1 + 2^-8 is a tie between 1 and
     * 1 + 2^-7 -> even 0x3f80; 1 + 3 * 2^-8 is a tie between mantissas 1
     * and 2 -> even 0x3f82; 1e39 (double) overflows -> inf 0x7f80 */
    double x[] = {1, 3.14159274101257324, 1 + 0x1p-8, 1 + 0x3p-8, 1e39, -0.0};
    uint16_t w[] = {0x3f80, 0x4049, 0x3f80, 0x3f82, 0x7f80, 0x8000};
    check_cast(13, F64, x, N_OF(x), BF16, w, "double -> bfloat16");
    /* bfloat16 -> float is the top half: 0x4049 -> 3.140625, 0xc2f7 =
     * -(1 + 119/128) * 2^6 = -123.5 */
    uint16_t h[] = {0x4049, 0xc2f7};
    float wf[] = {3.140625f, -123.5f};
    check_cast(13, BF16, h, 2, F32, wf, "bfloat16 -> float");
    /* bfloat16 -> float16: 3.140625 = 1.5703125 * 2 -> 0x4248 exactly
     * (mantissa .5703125 * 1024 = 584 = 0x248) */
    uint16_t wh[] = {0x4248};
    check_cast(13, BF16, h, 1, F16, wh, "bfloat16 -> float16");
}
END_TEST

START_TEST(test_plain_cast_versions_and_errors)
{
    /* Cast-1 names the type with a string */
    float x[] = {1.7f, -2.2f};
    int32_t w[] = {1, -2};
    int64_t n = 2;
    op_case *c = opc_new("Cast", 1, 1, 1);
    opc_attr_string(c, "to", "INT32");
    opc_input(c, 0, F32, 1, &n, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], I32, w, 2, "Cast-1 to INT32");
    }
    opc_free(c);
    /* strings from Cast-9 on, both directions (formatting: test_ops_text.c,
     * through sessions, since the strings live in the node's state) */
    c = opc_new("Cast", 6, 1, 1);
    opc_attr_int(c, "to", ORTC_DTYPE_STRING);
    opc_input(c, 0, F32, 1, &n, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "Cast-9 and later do");
    opc_free(c);
    char *s[] = {"1", " -2.5e1 "};
    float sv[] = {1, -25};
    c = opc_new("Cast", 13, 1, 1);
    opc_attr_int(c, "to", F32);
    opc_input(c, 0, ORTC_DTYPE_STRING, 1, &n, s, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], F32, sv, 2, "Cast-13 string -> float");
    }
    opc_free(c);
    c = opc_new("Cast", 6, 1, 1);
    opc_attr_int(c, "to", F32);
    opc_input(c, 0, ORTC_DTYPE_STRING, 1, &n, s, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL,
                  "does not convert from string (Cast-9 and later do)");
    opc_free(c);
    /* not a data type */
    c = opc_new("Cast", 13, 1, 1);
    opc_attr_int(c, "to", 99);
    opc_input(c, 0, F32, 1, &n, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "99");
    opc_free(c);
    c = opc_new("Cast", 13, 1, 1);
    opc_input(c, 0, F32, 1, &n, x, false);
    expect_status(c, opc_run(c, 1, 1), ORTC_STATUS_INVALID_MODEL, "'to' is missing");
    opc_free(c);
}
END_TEST

void ortc_cases_ops_plain(Suite *s)
{
    TCase *tc = tcase_create("plain_shape");
    tcase_add_test(tc, test_plain_registry_opsets);
    tcase_add_test(tc, test_plain_flatten);
    tcase_add_test(tc, test_plain_flatten_errors);
    tcase_add_test(tc, test_plain_reshape);
    tcase_add_test(tc, test_plain_reshape_allowzero);
    tcase_add_test(tc, test_plain_reshape_errors);
    tcase_add_test(tc, test_plain_squeeze);
    tcase_add_test(tc, test_plain_squeeze_errors);
    tcase_add_test(tc, test_plain_unsqueeze);
    tcase_add_test(tc, test_plain_unsqueeze_errors);
    tcase_add_test(tc, test_plain_identity);
    tcase_add_test(tc, test_plain_dropout);
    tcase_add_test(tc, test_plain_dropout_training);
    tcase_add_test(tc, test_plain_shape);
    suite_add_tcase(s, tc);

    tc = tcase_create("plain_tensor");
    tcase_add_test(tc, test_plain_constant);
    tcase_add_test(tc, test_plain_constant_errors);
    tcase_add_test(tc, test_plain_gather_axis0);
    tcase_add_test(tc, test_plain_gather_axis1);
    tcase_add_test(tc, test_plain_gather_scalar_and_bool);
    tcase_add_test(tc, test_plain_gather_errors);
    tcase_add_test(tc, test_plain_concat);
    tcase_add_test(tc, test_plain_concat_errors);
    tcase_add_test(tc, test_plain_cast_all_pairs);
    tcase_add_test(tc, test_plain_cast_float_to_int);
    tcase_add_test(tc, test_plain_cast_int_wrap_and_bool);
    tcase_add_test(tc, test_plain_cast_float16);
    tcase_add_test(tc, test_plain_cast_bfloat16);
    tcase_add_test(tc, test_plain_cast_versions_and_errors);
    suite_add_tcase(s, tc);
}
