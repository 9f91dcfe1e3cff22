/* cases_ops_layout.c — unit tests of the data-movement, generator and index
 * operators (operators/tensor/movement.c, generate.c, index.c, trilu.c,
 * shape.c's Size, cast.c's CastLike): Split, Slice, Transpose, Pad, Expand,
 * ConstantOfShape, Range, Tile, Size, Trilu, GatherElements,
 * ScatterElements, DepthToSpace, SpaceToDepth, CastLike. Expected values are derived by hand in comments (numpy
 * semantics; the less obvious ones were also checked with numpy when the
 * test was written, as noted), or come from naive index-by-index oracles
 * written here independently of the strided-copy kernels.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "helper_cases.h"
#include "helper_ops.h"

#define BAD_MODEL ORTC_STATUS_INVALID_MODEL
#define BAD_ARG ORTC_STATUS_INVALID_ARGUMENT
#define UNSUP ORTC_STATUS_UNSUPPORTED

/* ---- indexing -------------------------------------------------------------- */

/* Row-major multi-index of linear position i. */
static void unravel(int64_t i, int rank, const int64_t *dims, int64_t *idx)
{
    for (int d = rank - 1; d >= 0; d--) {
        idx[d] = dims[d] ? i % dims[d] : 0;
        i = dims[d] ? i / dims[d] : 0;
    }
}

static int64_t ravel(int rank, const int64_t *dims, const int64_t *idx)
{
    int64_t o = 0;
    for (int d = 0; d < rank; d++)
        o = o * dims[d] + idx[d];
    return o;
}

/* ---- registry ---------------------------------------------------------------- */

START_TEST(test_layout_registry)
{
    /* every since_version of ONNX 1.12; each op resolves at every opset
     * from its first version to 17 */
    static const struct {
        const char *op;
        int versions[5];
    } ops[] = {
        {"Split", {1, 2, 11, 13}},
        {"Slice", {1, 10, 11, 13}},
        {"Transpose", {1, 13}},
        {"Pad", {1, 2, 11, 13}},
        {"Expand", {8, 13}},
        {"ConstantOfShape", {9}},
        {"Range", {11}},
        {"Tile", {1, 6, 13}},
        {"Size", {1, 13}},
        {"Trilu", {14}},
        {"GatherElements", {11, 13}},
        {"ScatterElements", {11, 13, 16}},
        {"DepthToSpace", {1, 11, 13}},
        {"SpaceToDepth", {1, 13}},
        {"CastLike", {15}},
    };
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        for (int k = 0; k < 5 && ops[i].versions[k]; k++) {
            const ortc_operator *op = ortc_registry_find("", ops[i].op, ops[i].versions[k]);
            ck_assert_msg(op && ortc_operator_version(op, ops[i].versions[k]) == ops[i].versions[k],
                          "%s-%d", ops[i].op, ops[i].versions[k]);
        }
        for (int opset = ops[i].versions[0]; opset <= 17; opset++)
            ck_assert_msg(ortc_registry_find("", ops[i].op, opset), "%s at opset %d", ops[i].op,
                          opset);
    }
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "Slice", 12), 12), 11);
    ck_assert_int_eq(ortc_operator_version(ortc_registry_find("", "ScatterElements", 17), 17), 16);
    /* inputs whose values decide output shapes */
    ck_assert_uint_eq(ortc_registry_find("", "Slice", 13)->data_inputs, 0x1e);
    ck_assert_uint_eq(ortc_registry_find("", "Slice", 9)->data_inputs, 0);
    ck_assert_uint_eq(ortc_registry_find("", "Split", 13)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "Split", 1)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "Split", 11)->data_inputs, 0);
    ck_assert_uint_eq(ortc_registry_find("", "Pad", 11)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "Expand", 13)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "ConstantOfShape", 9)->data_inputs, 1u << 0);
    ck_assert_uint_eq(ortc_registry_find("", "Range", 11)->data_inputs, 7);
    ck_assert_uint_eq(ortc_registry_find("", "Tile", 13)->data_inputs, 1u << 1);
    ck_assert_uint_eq(ortc_registry_find("", "Tile", 1)->data_inputs, 6);
    ck_assert(ortc_registry_find("", "Size", 13)->flags & ORTC_OP_SHAPE_ONLY);
    ck_assert(!(ortc_registry_find("", "Transpose", 13)->flags & ORTC_OP_SHAPE_ONLY));
}
END_TEST

/* ---- Transpose ---------------------------------------------------------------- */

START_TEST(test_layout_transpose_hand)
{
    /* x = [[0,1,2],[3,4,5]] (2,3); the default perm reverses -> (3,2)
     * [[0,3],[1,4],[2,5]]; perm [1,0] is the same */
    float x[6], want[] = {0, 3, 1, 4, 2, 5};
    iota_f32(x, 6);
    int64_t xd[] = {2, 3}, yd[] = {3, 2}, perm[] = {1, 0};
    for (int k = 0; k < 2; k++) {
        op_case *c = opc_new("Transpose", k ? 1 : 13, 1, 1);
        if (k)
            opc_attr_ints(c, "perm", perm, 2);
        opc_input(c, 0, F32, 2, xd, x, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, yd, "Transpose (2,3)");
            expect_data(&c->out[0], F32, want, 6, "Transpose data");
        }
        opc_free(c);
    }
    /* a scalar transposes to itself */
    int64_t s = 42;
    op_case *c = opc_new("Transpose", 13, 1, 1);
    opc_input(c, 0, I64, 0, NULL, &s, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 0, NULL, "Transpose scalar");
        expect_data(&c->out[0], I64, &s, 1, "Transpose scalar data");
    }
    opc_free(c);
}
END_TEST

/* Runs Transpose(perm) on random bytes of `dt` with shape xd and compares
 * with the index-by-index oracle y[i] = x[j] where x-index[perm[d]] =
 * y-index[d]. */
static void transpose_vs_oracle(ortc_dtype dt, int rank, const int64_t *xd, const int64_t *perm,
                                uint64_t seed)
{
    size_t es = ortc_dtype_size(dt);
    int64_t n = numel_of(rank, xd), yd[8], yi[8], xi[8];
    unsigned char *x = malloc((size_t)n * es + 1), *want = malloc((size_t)n * es + 1);
    fill_pattern(x, (size_t)n * es, seed);
    for (int d = 0; d < rank; d++)
        yd[d] = xd[perm[d]];
    for (int64_t i = 0; i < n; i++) {
        unravel(i, rank, yd, yi);
        for (int d = 0; d < rank; d++)
            xi[perm[d]] = yi[d];
        memcpy(want + i * es, x + ravel(rank, xd, xi) * es, es);
    }
    op_case *c = opc_new("Transpose", 13, 1, 1);
    opc_attr_ints(c, "perm", perm, (size_t)rank);
    opc_input(c, 0, dt, rank, xd, x, false);
    char what[160], ps[64] = "";
    for (int d = 0; d < rank; d++)
        snprintf(ps + strlen(ps), sizeof ps - strlen(ps), "%lld", (long long)perm[d]);
    snprintf(what, sizeof what, "Transpose %s perm %s", ortc_dtype_name(dt), ps);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], dt, rank, yd, what);
        expect_data(&c->out[0], dt, want, n, what);
    }
    /* on 2 and 3 threads (large transposes split their tiles) */
    for (int threads = 2; threads <= 3; threads++) {
        ortc_status st = opc_run(c, 0, threads);
        ck_assert_msg(st == OK, "%s on %d threads: %s", what, threads, c->err.msg);
        expect_data(&c->out[0], dt, want, n, what);
    }
    opc_free(c);
    free(x);
    free(want);
}

START_TEST(test_layout_transpose_all_perms)
{
    /* every permutation of a (2,3,4,5) tensor, for element sizes 1, 2, 4,
     * 8 and 16 bytes (the kernel moves bytes) */
    static const ortc_dtype dts[] = {U8, I16, F32, F64, C128};
    int64_t xd[] = {2, 3, 4, 5};
    int count = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++)
                for (int d = 0; d < 4; d++) {
                    if (a == b || a == c || a == d || b == c || b == d || c == d)
                        continue;
                    int64_t perm[] = {a, b, c, d};
                    transpose_vs_oracle(dts[count % 5], 4, xd, perm, (uint64_t)count + 1);
                    count++;
                }
    ck_assert_int_eq(count, 24);
}
END_TEST

START_TEST(test_layout_transpose_shapes)
{
    /* NCHW <-> NHWC with sizes that are not multiples of the 32x32 tile,
     * a 6-D case, size-1 dims, and rank 8 */
    int64_t nchw[] = {2, 3, 17, 19}, to_nhwc[] = {0, 2, 3, 1}, to_nchw[] = {0, 3, 1, 2};
    transpose_vs_oracle(F32, 4, nchw, to_nhwc, 11);
    int64_t nhwc[] = {2, 17, 19, 35};
    transpose_vs_oracle(F32, 4, nhwc, to_nchw, 12);
    transpose_vs_oracle(U8, 4, nhwc, to_nchw, 13);
    int64_t d6[] = {2, 1, 3, 1, 4, 2}, p6[] = {5, 3, 0, 4, 1, 2};
    transpose_vs_oracle(I64, 6, d6, p6, 14);
    int64_t d8[] = {2, 2, 1, 3, 2, 1, 2, 3}, p8[] = {7, 0, 6, 1, 5, 2, 4, 3};
    transpose_vs_oracle(I16, 8, d8, p8, 15);
    int64_t big[] = {33, 65}, p2[] = {1, 0};
    transpose_vs_oracle(F64, 2, big, p2, 16);
    /* above the size from which the tiles are shared over threads: several
     * outer blocks, edges not multiples of the tile, 4- and 1-byte elements */
    int64_t large_nchw[] = {3, 37, 29, 31}, large_nhwc[] = {2, 29, 31, 97};
    transpose_vs_oracle(F32, 4, large_nchw, to_nhwc, 17);
    transpose_vs_oracle(F32, 4, large_nhwc, to_nchw, 18);
    transpose_vs_oracle(U8, 4, large_nhwc, to_nchw, 19);
    /* two outer dims swapped: each block starts off the row-major order */
    int64_t d4[] = {2, 3, 83, 67}, p4[] = {1, 0, 3, 2};
    transpose_vs_oracle(F32, 4, d4, p4, 20);
}
END_TEST

START_TEST(test_layout_transpose_views_empty_strings)
{
    /* only size-1 dims move: (1,3,1,4) perm [2,1,0,3] keeps the bytes in
     * order, so prepare declares a view; [0,3,2,1] does not */
    float x[12];
    iota_f32(x, 12);
    int64_t xd[] = {1, 3, 1, 4}, keep[] = {2, 1, 0, 3}, swap[] = {0, 3, 2, 1};
    op_case *c = opc_new("Transpose", 13, 1, 1);
    opc_attr_ints(c, "perm", keep, 4);
    opc_input(c, 0, F32, 4, xd, x, false);
    ck_assert_int_eq(declared_view(c), 0);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], F32, x, 12, "Transpose view");
    opc_free(c);
    c = opc_new("Transpose", 13, 1, 1);
    opc_attr_ints(c, "perm", swap, 4);
    opc_input(c, 0, F32, 4, xd, x, false);
    ck_assert_int_eq(declared_view(c), -1);
    opc_free(c);

    /* zero-size: (2,0,3) -> (3,0,2), nothing to move (data may be NULL) */
    int64_t zd[] = {2, 0, 3}, zy[] = {3, 0, 2};
    c = opc_new("Transpose", 13, 1, 1);
    opc_input(c, 0, F32, 3, zd, NULL, false);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F32, 3, zy, "Transpose zero-size");
    opc_free(c);

    /* strings move as pointers: [["a","b"],["c","d"]]^T */
    char *s[] = {"a", "b", "c", "d"}, *st[] = {"a", "c", "b", "d"};
    int64_t sd[] = {2, 2};
    c = opc_new("Transpose", 13, 1, 1);
    opc_input(c, 0, STR, 2, sd, s, false);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], STR, st, 4, "Transpose strings");
    ck_assert_ptr_eq(((char **)c->out[0].data)[1], s[2]);
    opc_free(c);
}
END_TEST

START_TEST(test_layout_transpose_errors)
{
    float x[6] = {0};
    int64_t xd[] = {2, 3};
    int64_t short_perm[] = {0}, dup[] = {1, 1}, out_of_range[] = {0, 2};
    struct {
        const int64_t *perm;
        size_t n;
        const char *fact;
    } cases[] = {{short_perm, 1, "has 1 values but input 0 'in0' has rank 2"},
                 {dup, 2, "perm[1] is 1, which appears twice"},
                 {out_of_range, 2, "perm[1] is 2, out of range for rank 2"}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        op_case *c = opc_new("Transpose", 13, 1, 1);
        opc_attr_ints(c, "perm", cases[k].perm, cases[k].n);
        opc_input(c, 0, F32, 2, xd, x, false);
        expect_status(c, opc_run(c, 1, 1), BAD_MODEL, cases[k].fact);
        opc_free(c);
    }
}
END_TEST

/* ---- Slice ---------------------------------------------------------------- */

/* Slice-13 on x with constant int64 starts/ends (and axes/steps when n_axes
 * / n_steps >= 0). */
static op_case *slice_case(int opset, ortc_dtype dt, int rank, const int64_t *xd, const void *x,
                           int n, const int64_t *starts, const int64_t *ends, const int64_t *axes,
                           const int64_t *steps)
{
    op_case *c = opc_new("Slice", opset, 5, 1);
    int64_t ld[] = {n};
    opc_input(c, 0, dt, rank, xd, x, false);
    opc_input(c, 1, I64, 1, ld, starts, true);
    opc_input(c, 2, I64, 1, ld, ends, true);
    opc_input(c, 3, axes ? I64 : ORTC_DTYPE_UNDEFINED, 1, ld, axes, true);
    opc_input(c, 4, steps ? I64 : ORTC_DTYPE_UNDEFINED, 1, ld, steps, true);
    return c;
}

START_TEST(test_layout_slice_hand)
{
    /* the spec's examples on x = [[1,2,3,4],[5,6,7,8]]:
     * 1) axes [0,1] starts [1,0] ends [2,3] steps [1,2] -> [[5,7]]
     * 2) starts [0,1] ends [-1,1000] -> rows [0,1), cols [1,4) -> [[2,3,4]] */
    float x[] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t xd[] = {2, 4};
    int64_t s1[] = {1, 0}, e1[] = {2, 3}, a1[] = {0, 1}, st1[] = {1, 2}, y1d[] = {1, 2};
    float y1[] = {5, 7};
    op_case *c = slice_case(13, F32, 2, xd, x, 2, s1, e1, a1, st1);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, y1d, "Slice example 1");
        expect_data(&c->out[0], F32, y1, 2, "Slice example 1");
    }
    opc_free(c);
    int64_t s2[] = {0, 1}, e2[] = {-1, 1000}, y2d[] = {1, 3};
    float y2[] = {2, 3, 4};
    c = slice_case(10, F32, 2, xd, x, 2, s2, e2, NULL, NULL);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, y2d, "Slice example 2");
        expect_data(&c->out[0], F32, y2, 3, "Slice example 2");
    }
    opc_free(c);

    /* Slice-1 takes attributes: axes [1] starts [1] ends [1000] ->
     * [[2,3,4],[6,7,8]] */
    int64_t one[] = {1}, big[] = {1000}, y3d[] = {2, 3};
    float y3[] = {2, 3, 4, 6, 7, 8};
    c = opc_new("Slice", 1, 1, 1);
    opc_attr_ints(c, "starts", one, 1);
    opc_attr_ints(c, "ends", big, 1);
    opc_attr_ints(c, "axes", one, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, y3d, "Slice-1");
        expect_data(&c->out[0], F32, y3, 6, "Slice-1");
    }
    opc_free(c);

    /* int32 starts/ends with a negative axis (Slice-11): axes [-1] starts
     * [-3] ends [-1] -> cols [1,3) -> [[2,3],[6,7]] */
    int32_t s4[] = {-3}, e4[] = {-1}, a4[] = {-1};
    int64_t ld[] = {1}, y4d[] = {2, 2};
    float y4[] = {2, 3, 6, 7};
    c = opc_new("Slice", 11, 4, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I32, 1, ld, s4, true);
    opc_input(c, 2, I32, 1, ld, e4, true);
    opc_input(c, 3, I32, 1, ld, a4, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, y4d, "Slice int32");
        expect_data(&c->out[0], F32, y4, 4, "Slice int32");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_layout_slice_steps_and_clamping)
{
    /* x = 0..9 (d = 10); by Slice-13's rules: */
    int32_t x[10];
    for (int i = 0; i < 10; i++)
        x[i] = i;
    int64_t xd[] = {10};
    static const struct {
        int64_t start, end, step;
        int n;
        int32_t want[10];
        const char *why;
    } cases[] = {
        /* start -1 -> 9; end INT64_MIN -> clamp -1; ceil(10/3) = 4: 9,6,3,0 */
        {-1, INT64_MIN, -3, 4, {9, 6, 3, 0}, "negative step to INT64_MIN"},
        /* start INT64_MAX -> clamp 9 (d-1 for negative steps); end -100+10 -> -1 */
        {INT64_MAX, -100, -1, 10, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, "full reverse"},
        /* end INT64_MAX -> 10; step 4 from 2: 2, 6 */
        {2, INT64_MAX, 4, 2, {2, 6}, "forward to INT64_MAX"},
        /* start 5 >= end 2 with a positive step: empty */
        {5, 2, 1, 0, {0}, "empty forwards"},
        /* start 2 <= end 5 with a negative step: empty */
        {2, 5, -1, 0, {0}, "empty backwards"},
        /* start 1000 clamps to 10: empty */
        {1000, 1000, 1, 0, {0}, "start past the end"},
        /* start -100 -> -90 clamps to 0 and end INT64_MIN to -1 for a
         * negative step: one element (the spec's clamping; numpy's
         * x[-100::-1] would be empty) */
        {-100, INT64_MIN, -1, 1, {0}, "start before the front, backwards"},
        /* step INT64_MIN: one element from the start */
        {7, INT64_MIN, INT64_MIN, 1, {7}, "step INT64_MIN"},
        /* step larger than the axis */
        {3, 10, INT64_MAX, 1, {3}, "step INT64_MAX"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int64_t st[] = {cases[k].start}, en[] = {cases[k].end}, sp[] = {cases[k].step}, ax[] = {0},
                yd[] = {cases[k].n};
        op_case *c = slice_case(13, I32, 1, xd, x, 1, st, en, ax, sp);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I32, 1, yd, cases[k].why);
            expect_data(&c->out[0], I32, cases[k].want, cases[k].n, cases[k].why);
        }
        opc_free(c);
    }

    /* the same huge steps on an outer axis (stride 5 elements): one row each;
     * step x stride would overflow int64 (the model fuzzer's finding) */
    int64_t x2d[] = {2, 5}, row[] = {1, 5};
    const int64_t huge[] = {INT64_MAX, INT64_MIN};
    for (int k = 0; k < 2; k++) {
        int64_t st[] = {1}, en[] = {huge[k] > 0 ? 2 : -3}, sp[] = {huge[k]}, ax[] = {0};
        op_case *c = slice_case(13, I32, 2, x2d, x, 1, st, en, ax, sp);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I32, 2, row, "huge step on an outer axis");
            expect_data(&c->out[0], I32, x + 5, 5, "huge step on an outer axis");
        }
        opc_free(c);
    }
}
END_TEST

START_TEST(test_layout_slice_random_vs_oracle)
{
    /* 3-D slices with random starts/ends/steps over x (5,6,7) of int64,
     * against an oracle that walks i = start; i < end (or > end); i += step
     * after Slice-13's normalisation */
    int64_t xd[] = {5, 6, 7}, n = 5 * 6 * 7;
    int64_t *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = i * 7 + 3;
    uint64_t seed = 99;
    for (int trial = 0; trial < 60; trial++) {
        int64_t st[3], en[3], sp[3], ax[3] = {2, 0, 1};
        int64_t lists[3][16], counts[3];
        for (int k = 0; k < 3; k++) {
            float r[3];
            opc_fill_uniform(r, 3, 0, 1, &seed);
            int64_t d = xd[ax[k]];
            st[k] = (int64_t)(r[0] * (2 * d + 4)) - d - 2;
            en[k] = (int64_t)(r[1] * (2 * d + 4)) - d - 2;
            sp[k] = (int64_t)(r[2] * 7) - 3;
            if (sp[k] == 0)
                sp[k] = 2;
            /* oracle for axis ax[k] */
            int64_t s = st[k] < 0 ? st[k] + d : st[k], e = en[k] < 0 ? en[k] + d : en[k];
            int64_t lo = sp[k] > 0 ? 0 : -1, hi = sp[k] > 0 ? d : d - 1;
            s = s < (sp[k] > 0 ? 0 : 0) ? 0 : s > hi ? hi : s;
            e = e < lo ? lo : e > hi ? hi : e;
            counts[k] = 0;
            for (int64_t i = s; sp[k] > 0 ? i < e : i > e; i += sp[k])
                lists[k][counts[k]++] = i;
        }
        /* output dims in x's axis order */
        int64_t yd[3], *sel[3];
        for (int k = 0; k < 3; k++) {
            yd[ax[k]] = counts[k];
            sel[ax[k]] = lists[k];
        }
        int64_t m = numel_of(3, yd), want[512], yi[3], xi[3];
        for (int64_t i = 0; i < m; i++) {
            unravel(i, 3, yd, yi);
            for (int d = 0; d < 3; d++)
                xi[d] = sel[d][yi[d]];
            want[i] = x[ravel(3, xd, xi)];
        }
        op_case *c = slice_case(13, I64, 3, xd, x, 3, st, en, ax, sp);
        char what[200];
        snprintf(what, sizeof what,
                 "Slice trial %d: starts [%lld,%lld,%lld] ends [%lld,%lld,%lld] steps "
                 "[%lld,%lld,%lld] axes [2,0,1]",
                 trial, (long long)st[0], (long long)st[1], (long long)st[2], (long long)en[0],
                 (long long)en[1], (long long)en[2], (long long)sp[0], (long long)sp[1],
                 (long long)sp[2]);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I64, 3, yd, what);
            expect_data(&c->out[0], I64, want, m, what);
        }
        opc_free(c);
    }
    free(x);
}
END_TEST

START_TEST(test_layout_slice_view_and_errors)
{
    float x[8] = {0};
    int64_t xd[] = {2, 4};
    /* the whole tensor forwards: a view */
    int64_t s0[] = {0}, e0[] = {INT64_MAX}, a1[] = {1};
    op_case *c = slice_case(13, F32, 2, xd, x, 1, s0, e0, a1, NULL);
    ck_assert_int_eq(declared_view(c), 0);
    opc_free(c);
    /* reversed: not a view */
    int64_t m1[] = {-1}, emin[] = {INT64_MIN};
    c = slice_case(13, F32, 2, xd, x, 1, m1, emin, a1, m1);
    ck_assert_int_eq(declared_view(c), -1);
    opc_free(c);

    int64_t zero[] = {0}, two[] = {2}, a00[] = {0, 0}, s00[] = {0, 0}, e22[] = {2, 2};
    c = slice_case(13, F32, 2, xd, x, 1, s0, two, a1, zero);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "steps[0] is 0");
    opc_free(c);
    c = slice_case(13, F32, 2, xd, x, 2, s00, e22, a00, NULL);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "axes[1] is 0, a repeat");
    opc_free(c);
    /* negative axes are documented from Slice-11 but accepted at 10, as ONNX
     * Runtime does: axis -1 of [2,4], [0,2) gives [2,2] */
    c = slice_case(10, F32, 2, xd, x, 1, s0, two, m1, NULL);
    ck_assert_int_eq(opc_run(c, 1, 1), ORTC_STATUS_OK);
    ck_assert_int_eq(c->out[0].rank, 2);
    ck_assert_int_eq(c->out[0].dims[0], 2);
    ck_assert_int_eq(c->out[0].dims[1], 2);
    opc_free(c);
    int64_t a5[] = {5};
    c = slice_case(13, F32, 2, xd, x, 1, s0, two, a5, NULL);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "axes[0] is 5, out of range for rank 2");
    opc_free(c);
    /* starts and ends of different lengths */
    c = opc_new("Slice", 13, 3, 1);
    int64_t l1[] = {1}, l2[] = {2};
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, l1, s0, true);
    opc_input(c, 2, I64, 1, l2, e22, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "same length; they have 1, 2");
    opc_free(c);
    /* starts known only at run time: the shape cannot be inferred */
    c = opc_new("Slice", 13, 3, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, l1, s0, false);
    opc_input(c, 2, I64, 1, l1, two, true);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "values of input 1 'in1' (starts)");
    opc_free(c);
    /* float starts */
    float fs[] = {0};
    c = opc_new("Slice", 13, 3, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, F32, 1, l1, fs, true);
    opc_input(c, 2, I64, 1, l1, two, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "expected int32 or int64");
    opc_free(c);
    /* Slice-1 without 'ends' */
    c = opc_new("Slice", 1, 1, 1);
    opc_attr_ints(c, "starts", s0, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "attribute 'ends' is missing");
    opc_free(c);
}
END_TEST

/* ---- Split ---------------------------------------------------------------- */

START_TEST(test_layout_split)
{
    /* x = 0..11 as (2,6). Along axis 1:
     *   3 equal parts: [[0,1],[6,7]], [[2,3],[8,9]], [[4,5],[10,11]]
     *   lengths [1,5]: [[0],[6]], [[1..5],[7..11]]
     *   lengths [4,2]: [[0..3],[6..9]], [[4,5],[10,11]] */
    float x[12];
    iota_f32(x, 12);
    int64_t xd[] = {2, 6}, pd[] = {2, 2};
    float p0[] = {0, 1, 6, 7}, p1[] = {2, 3, 8, 9}, p2[] = {4, 5, 10, 11};
    const float *parts[] = {p0, p1, p2};
    for (int opset = 2; opset <= 13; opset += 11) {
        op_case *c = opc_new("Split", opset, 1, 3);
        opc_attr_int(c, "axis", 1);
        opc_input(c, 0, F32, 2, xd, x, false);
        FOR_BOTH_MODES(c, mode)
        {
            for (int k = 0; k < 3; k++) {
                expect_shape(&c->out[k], F32, 2, pd, "Split equal");
                expect_data(&c->out[k], F32, parts[k], 4, "Split equal");
            }
        }
        opc_free(c);
    }
    /* Split-11: 'split' attribute, negative axis */
    int64_t l15[] = {1, 5}, d1[] = {2, 1}, d5[] = {2, 5};
    float q0[] = {0, 6}, q1[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 11};
    op_case *c = opc_new("Split", 11, 1, 2);
    opc_attr_int(c, "axis", -1);
    opc_attr_ints(c, "split", l15, 2);
    opc_input(c, 0, F32, 2, xd, x, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, d1, "Split-11 [1,5]");
        expect_data(&c->out[0], F32, q0, 2, "Split-11 [1,5] part 0");
        expect_shape(&c->out[1], F32, 2, d5, "Split-11 [1,5]");
        expect_data(&c->out[1], F32, q1, 10, "Split-11 [1,5] part 1");
    }
    opc_free(c);
    /* Split-13 and Split-1: lengths as input 1 (Split-1's is a float
     * tensor) */
    int64_t l42[] = {4, 2}, ld[] = {2}, d4[] = {2, 4};
    float fl42[] = {4, 2};
    float r0[] = {0, 1, 2, 3, 6, 7, 8, 9}, r1[] = {4, 5, 10, 11};
    for (int opset = 1; opset <= 13; opset += 12) {
        c = opc_new("Split", opset, 2, 2);
        opc_attr_int(c, "axis", 1);
        opc_input(c, 0, F32, 2, xd, x, false);
        if (opset == 1)
            opc_input(c, 1, F32, 1, ld, fl42, true);
        else
            opc_input(c, 1, I64, 1, ld, l42, true);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, d4, "Split [4,2]");
            expect_data(&c->out[0], F32, r0, 8, "Split [4,2] part 0");
            expect_shape(&c->out[1], F32, 2, pd, "Split [4,2]");
            expect_data(&c->out[1], F32, r1, 4, "Split [4,2] part 1");
        }
        opc_free(c);
    }
    /* zero lengths: [0,6] gives a (2,0) part; an empty input splits into
     * empty parts */
    int64_t l06[] = {0, 6}, d0[] = {2, 0}, d6[] = {2, 6};
    c = opc_new("Split", 13, 2, 2);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, ld, l06, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, d0, "Split [0,6] part 0");
        expect_shape(&c->out[1], F32, 2, d6, "Split [0,6] part 1");
        expect_data(&c->out[1], F32, x, 12, "Split [0,6] part 1");
    }
    opc_free(c);
    int64_t ed[] = {0}, l000[] = {0, 0, 0}, l3[] = {3};
    c = opc_new("Split", 13, 2, 3);
    opc_input(c, 0, F32, 1, ed, NULL, false);
    opc_input(c, 1, I64, 1, l3, l000, true);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    for (int k = 0; k < 3; k++)
        expect_shape(&c->out[k], F32, 1, ed, "Split of an empty tensor");
    opc_free(c);
    /* strings along axis 0 */
    char *s[] = {"a", "b", "c", "d"}, *s0[] = {"a"}, *s1[] = {"b", "c", "d"};
    int64_t sd[] = {4}, l13[] = {1, 3};
    c = opc_new("Split", 11, 1, 2);
    opc_attr_ints(c, "split", l13, 2);
    opc_input(c, 0, STR, 1, sd, s, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_data(&c->out[0], STR, s0, 1, "Split strings part 0");
        expect_data(&c->out[1], STR, s1, 3, "Split strings part 1");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_layout_split_errors)
{
    float x[12] = {0};
    int64_t xd[] = {2, 6}, ld[] = {2}, l33[] = {3, 4}, neg[] = {-1, 7};
    op_case *c = opc_new("Split", 13, 2, 2);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, ld, l33, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "sum to 7 but axis 1 of input 0 'in0' has dim 6");
    opc_free(c);
    c = opc_new("Split", 13, 2, 2);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, ld, neg, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "split length 0 is -1");
    opc_free(c);
    /* 6 does not split into 4 equal parts */
    c = opc_new("Split", 13, 1, 4);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "does not split into 4 equal parts");
    opc_free(c);
    /* lengths count differs from the outputs */
    c = opc_new("Split", 11, 1, 3);
    opc_attr_ints(c, "split", l33, 2);
    opc_input(c, 0, F32, 2, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "has 2 lengths but the node has 3 outputs");
    opc_free(c);
    /* lengths known only at run time */
    c = opc_new("Split", 13, 2, 2);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, ld, l33, false);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "(split), which are only known at run time");
    opc_free(c);
    /* Split-2 with axis -1, as PyTorch exports GLU (pytorch-converted
     * test_GLU): accepted like ONNX Runtime does; the last dim splits in 2 */
    c = opc_new("Split", 2, 1, 2);
    opc_attr_int(c, "axis", -1);
    opc_input(c, 0, F32, 2, xd, x, false);
    ck_assert_int_eq(opc_run(c, 1, 1), ORTC_STATUS_OK);
    ck_assert_int_eq(c->out[0].dims[1] * 2, xd[1]);
    opc_free(c);
}
END_TEST

/* ---- Pad ------------------------------------------------------------------ */

/* Pad-11+ with constant pads (and a constant_value input when val). */
static op_case *pad_case(int opset, const char *mode, ortc_dtype dt, int rank, const int64_t *xd,
                         const void *x, const int64_t *pads, const void *val)
{
    op_case *c = opc_new("Pad", opset, val ? 3 : 2, 1);
    if (mode)
        opc_attr_string(c, "mode", mode);
    int64_t pd[] = {2 * rank};
    opc_input(c, 0, dt, rank, xd, x, false);
    opc_input(c, 1, I64, 1, pd, pads, true);
    if (val)
        opc_input(c, 2, dt, 0, NULL, val, false);
    return c;
}

START_TEST(test_layout_pad_modes)
{
    /* the spec's examples: x (3,2), pads [0,2,0,0] (two columns in front):
     *   constant 0: [[0,0,1.0,1.2],[0,0,2.3,3.4],[0,0,4.5,5.7]]
     *   reflect:    [[1.0,1.2,1.0,1.2],[2.3,3.4,2.3,3.4],[4.5,5.7,4.5,5.7]]
     *   edge:       [[1.0,1.0,1.0,1.2],[2.3,2.3,2.3,3.4],[4.5,4.5,4.5,5.7]] */
    float x[] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
    int64_t xd[] = {3, 2}, yd[] = {3, 4}, pads[] = {0, 2, 0, 0};
    float constant[] = {0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f};
    float reflect[] = {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f};
    float edge[] = {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f};
    static const char *modes[] = {NULL, "constant", "reflect", "edge"};
    const float *wants[] = {constant, constant, reflect, edge};
    for (int m = 0; m < 4; m++)
        for (int opset = 1; opset <= 13; opset++) {
            if (opset != 1 && opset != 2 && opset != 11 && opset != 13)
                continue;
            op_case *c;
            if (opset < 11) {
                c = opc_new("Pad", opset, 1, 1);
                if (modes[m])
                    opc_attr_string(c, "mode", modes[m]);
                opc_attr_ints(c, opset == 1 ? "paddings" : "pads", pads, 4);
                opc_input(c, 0, F32, 2, xd, x, false);
            } else {
                c = pad_case(opset, modes[m], F32, 2, xd, x, pads, NULL);
            }
            char what[64];
            snprintf(what, sizeof what, "Pad-%d %s", opset, modes[m] ? modes[m] : "default");
            FOR_BOTH_MODES(c, mode)
            {
                expect_shape(&c->out[0], F32, 2, yd, what);
                expect_data(&c->out[0], F32, wants[m], 12, what);
            }
            opc_free(c);
        }

    /* edge on both axes of [[1,2],[3,4]] with pads 1 everywhere (numpy:
     * np.pad(x, 1, 'edge')): [[1,1,2,2],[1,1,2,2],[3,3,4,4],[3,3,4,4]] */
    int32_t xi[] = {1, 2, 3, 4}, edge2[] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    int64_t d22[] = {2, 2}, d44[] = {4, 4}, p1111[] = {1, 1, 1, 1};
    op_case *c = pad_case(13, "edge", I32, 2, d22, xi, p1111, NULL);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 2, d44, "Pad edge 2-D");
        expect_data(&c->out[0], I32, edge2, 16, "Pad edge 2-D");
    }
    opc_free(c);

    /* reflect farther than the axis repeats the mirror (numpy:
     * np.pad([0,1,2], (5,5), 'reflect') = [1,0,1,2,1,0,1,2,1,0,1,2,1]) */
    int64_t x3[] = {0, 1, 2}, d3[] = {3}, d13[] = {13}, p55[] = {5, 5};
    int64_t far[] = {1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1};
    c = pad_case(13, "reflect", I64, 1, d3, x3, p55, NULL);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 1, d13, "Pad reflect far");
        expect_data(&c->out[0], I64, far, 13, "Pad reflect far");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_layout_pad_values_and_cropping)
{
    /* constant_value input: x = [[0,1,2],[3,4,5]] int32, pads [0,-1,0,1]
     * (crop one column in front, add one at the back), value 9 ->
     * [[1,2,9],[4,5,9]] */
    int32_t x[] = {0, 1, 2, 3, 4, 5}, nine = 9, want[] = {1, 2, 9, 4, 5, 9};
    int64_t xd[] = {2, 3}, pads[] = {0, -1, 0, 1};
    op_case *c = pad_case(11, NULL, I32, 2, xd, x, pads, &nine);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 2, xd, "Pad crop");
        expect_data(&c->out[0], I32, want, 6, "Pad crop");
    }
    opc_free(c);

    /* a padded leading axis: x (1,2,2) = 0..3 float, pads [1,0,0,0,0,1]
     * value 7 (Pad-2's float attribute) -> (2,2,3):
     * [[[7,7,7],[7,7,7]], [[0,1,7],[2,3,7]]] */
    float xf[] = {0, 1, 2, 3}, wf[] = {7, 7, 7, 7, 7, 7, 0, 1, 7, 2, 3, 7};
    int64_t d122[] = {1, 2, 2}, d223[] = {2, 2, 3}, p3[] = {1, 0, 0, 0, 0, 1};
    c = opc_new("Pad", 2, 1, 1);
    opc_attr_ints(c, "pads", p3, 6);
    opc_attr_float(c, "value", 7);
    opc_input(c, 0, F32, 3, d122, xf, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 3, d223, "Pad leading axis");
        expect_data(&c->out[0], F32, wf, 12, "Pad leading axis");
    }
    opc_free(c);

    /* Pad-2's float value converted to the dtype: 7.9 -> int8 7 (truncation,
     * as Cast) */
    int8_t xb[] = {1}, wb[] = {7, 1};
    int64_t d1[] = {1}, d2[] = {2}, p10[] = {1, 0};
    c = opc_new("Pad", 2, 1, 1);
    opc_attr_ints(c, "pads", p10, 2);
    opc_attr_float(c, "value", 7.9f);
    opc_input(c, 0, I8, 1, d1, xb, false);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I8, wb, 2, "Pad-2 int8 value");
    opc_free(c);

    /* bool and string constants (Pad-13); the default string is "" */
    uint8_t bx[] = {1, 0}, bt = 1, bw[] = {1, 1, 0, 1};
    int64_t p11[] = {1, 1}, d4[] = {4};
    c = pad_case(13, NULL, BOOL, 1, d2, bx, p11, &bt);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], BOOL, bw, 4, "Pad bool");
    opc_free(c);
    char *sx[] = {"p", "q"}, *sv = "z", *sw[] = {"z", "p", "q", "z"}, *sw0[] = {"", "p", "q", ""};
    c = pad_case(13, NULL, STR, 1, d2, sx, p11, &sv);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], STR, 1, d4, "Pad strings");
        expect_data(&c->out[0], STR, sw, 4, "Pad strings");
    }
    opc_free(c);
    c = pad_case(13, NULL, STR, 1, d2, sx, p11, NULL);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], STR, sw0, 4, "Pad strings default");
    opc_free(c);

    /* an empty axis padded with a constant: (0,3) + one row -> (1,3) of 5 */
    float five = 5, w5[] = {5, 5, 5};
    int64_t d03[] = {0, 3}, d13[] = {1, 3}, p1000[] = {1, 0, 0, 0};
    c = pad_case(13, "constant", F32, 2, d03, NULL, p1000, &five);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F32, 2, d13, "Pad empty axis");
    expect_data(&c->out[0], F32, w5, 3, "Pad empty axis");
    opc_free(c);

    /* all-zero pads: a view */
    int64_t p0000[] = {0, 0, 0, 0};
    c = pad_case(13, "reflect", I32, 2, xd, x, p0000, NULL);
    ck_assert_int_eq(declared_view(c), 0);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I32, x, 6, "Pad zero pads");
    opc_free(c);
}
END_TEST

START_TEST(test_layout_pad_errors)
{
    float x[6] = {0};
    int64_t xd[] = {2, 3}, p3[] = {0, 0, 0}, crop[] = {0, -2, 0, -2}, p1[] = {0, 1, 0, 0};
    op_case *c = opc_new("Pad", 13, 2, 1);
    int64_t l3[] = {3};
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, l3, p3, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "has 3 values; input 0 'in0' has rank 2");
    opc_free(c);
    c = pad_case(13, NULL, F32, 2, xd, x, crop, NULL);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "crop axis 1 of input 0 'in0' (dim 3)");
    opc_free(c);
    c = pad_case(13, "wrap", F32, 2, xd, x, p1, NULL);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "\"wrap\"");
    opc_free(c);
    int64_t d03[] = {2, 0};
    c = pad_case(13, "edge", F32, 2, d03, NULL, p1, NULL);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "axis 1 of input 0 'in0' is empty");
    opc_free(c);
    /* pads known only at run time */
    c = opc_new("Pad", 11, 2, 1);
    int64_t l4[] = {4};
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, l4, p1, false);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "(pads), which are only known at run time");
    opc_free(c);
    /* constant_value of another dtype */
    double dv = 1;
    c = opc_new("Pad", 13, 3, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, l4, p1, true);
    opc_input(c, 2, F64, 0, NULL, &dv, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "(constant_value) is float64");
    opc_free(c);
    /* Pad-2 without pads */
    c = opc_new("Pad", 2, 1, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "attribute 'pads' is missing");
    opc_free(c);
}
END_TEST

/* ---- Expand ------------------------------------------------------------------ */

static op_case *expand_case(ortc_dtype dt, int rank, const int64_t *xd, const void *x, int n,
                            const int64_t *shape)
{
    op_case *c = opc_new("Expand", 13, 2, 1);
    int64_t sd[] = {n};
    opc_input(c, 0, dt, rank, xd, x, false);
    opc_input(c, 1, I64, 1, sd, shape, true);
    return c;
}

START_TEST(test_layout_expand)
{
    /* x = [[1],[2],[3]] (3,1):
     *   shape [2,1,6] -> (2,3,6): each row value repeated 6 times, twice
     *   shape [3,4]   -> (3,4) */
    float x[] = {1, 2, 3}, want[36];
    int64_t xd[] = {3, 1}, s1[] = {2, 1, 6}, y1[] = {2, 3, 6}, s2[] = {3, 4};
    for (int i = 0; i < 36; i++)
        want[i] = (float)((i / 6) % 3 + 1);
    op_case *c = expand_case(F32, 2, xd, x, 3, s1);
    ck_assert_int_eq(declared_view(c), -1);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 3, y1, "Expand [2,1,6]");
        expect_data(&c->out[0], F32, want, 36, "Expand [2,1,6]");
    }
    opc_free(c);
    float w2[] = {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3};
    c = expand_case(F32, 2, xd, x, 2, s2);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, s2, "Expand [3,4]");
        expect_data(&c->out[0], F32, w2, 12, "Expand [3,4]");
    }
    opc_free(c);

    /* bidirectional: x (2,3) with shape [1] keeps x's dims (a view);
     * [1,1,1] only adds a leading 1 */
    int32_t xi[] = {1, 2, 3, 4, 5, 6};
    int64_t d23[] = {2, 3}, one[] = {1}, ones[] = {1, 1, 1}, d123[] = {1, 2, 3};
    c = expand_case(I32, 2, d23, xi, 1, one);
    ck_assert_int_eq(declared_view(c), 0);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 2, d23, "Expand [1]");
        expect_data(&c->out[0], I32, xi, 6, "Expand [1]");
    }
    opc_free(c);
    c = expand_case(I32, 2, d23, xi, 3, ones);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 3, d123, "Expand [1,1,1]");
        expect_data(&c->out[0], I32, xi, 6, "Expand [1,1,1]");
    }
    opc_free(c);

    /* the middle dim broadcast: x (2,1,2) = [[[a,b]],[[c,d]]], shape [3,1]
     * -> (2,3,2): [[a,b]x3, [c,d]x3]; strings are pointer copies */
    char *s[] = {"a", "b", "c", "d"};
    char *sw[] = {"a", "b", "a", "b", "a", "b", "c", "d", "c", "d", "c", "d"};
    int64_t d212[] = {2, 1, 2}, sh31[] = {3, 1}, d232[] = {2, 3, 2};
    c = expand_case(STR, 3, d212, s, 2, sh31);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], STR, 3, d232, "Expand strings");
        expect_data(&c->out[0], STR, sw, 12, "Expand strings");
    }
    opc_free(c);

    /* a scalar to (2,2); 1 against 0 gives 0 */
    int64_t sc = 5, w4[] = {5, 5, 5, 5}, s22[] = {2, 2}, s0[] = {0}, z[] = {0};
    c = expand_case(I64, 0, NULL, &sc, 2, s22);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I64, w4, 4, "Expand scalar");
    opc_free(c);
    c = expand_case(I64, 1, one, &sc, 1, s0);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], I64, 1, z, "Expand to 0");
    opc_free(c);
}
END_TEST

START_TEST(test_layout_expand_errors)
{
    float x[6] = {0};
    int64_t xd[] = {2, 3}, s4[] = {4}, sneg[] = {-1, 3}, sd[] = {1};
    op_case *c = expand_case(F32, 2, xd, x, 1, s4);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "shape [2,3] cannot be expanded to [4]");
    opc_free(c);
    c = expand_case(F32, 2, xd, x, 2, sneg);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "has -1 at position 0");
    opc_free(c);
    c = opc_new("Expand", 8, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, sd, s4, false);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "only known at run time");
    opc_free(c);
}
END_TEST

/* ---- ConstantOfShape ----------------------------------------------------------- */

START_TEST(test_layout_constant_of_shape)
{
    /* default: float zeros of shape [2,3] */
    int64_t shape[] = {2, 3}, sd[] = {2};
    float zeros[6] = {0};
    op_case *c = opc_new("ConstantOfShape", 9, 1, 1);
    opc_input(c, 0, I64, 1, sd, shape, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, shape, "ConstantOfShape default");
        expect_data(&c->out[0], F32, zeros, 6, "ConstantOfShape default");
    }
    opc_free(c);
    /* value: int32 7 -> seven sevens of shape [7] */
    int64_t s7[] = {7}, d1[] = {1};
    int32_t sevens[] = {7, 7, 7, 7, 7, 7, 7};
    c = opc_new("ConstantOfShape", 9, 1, 1);
    ortc_attr *a = ortc_node_add_attr(c->node, "value", ORTC_ATTR_TENSOR);
    a->t = ortc_const_tensor_new(I32, 1, d1);
    *(int32_t *)a->t->t.data = 7;
    opc_input(c, 0, I64, 1, d1, s7, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 1, s7, "ConstantOfShape int32");
        expect_data(&c->out[0], I32, sevens, 7, "ConstantOfShape int32");
    }
    opc_free(c);
    /* an empty shape makes a scalar; a 0 dim makes no elements */
    int64_t d0[] = {0}, s05[] = {0, 5};
    c = opc_new("ConstantOfShape", 9, 1, 1);
    opc_input(c, 0, I64, 1, d0, NULL, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 0, NULL, "ConstantOfShape scalar");
        expect_data(&c->out[0], F32, zeros, 1, "ConstantOfShape scalar");
    }
    opc_free(c);
    c = opc_new("ConstantOfShape", 9, 1, 1);
    opc_input(c, 0, I64, 1, sd, s05, true);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F32, 2, s05, "ConstantOfShape zero dim");
    opc_free(c);
    /* errors: a negative dim; a value with two elements; unknown shape */
    int64_t neg[] = {2, -1}, d2[] = {2};
    c = opc_new("ConstantOfShape", 9, 1, 1);
    opc_input(c, 0, I64, 1, sd, neg, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "has -1 at position 1");
    opc_free(c);
    c = opc_new("ConstantOfShape", 9, 1, 1);
    a = ortc_node_add_attr(c->node, "value", ORTC_ATTR_TENSOR);
    a->t = ortc_const_tensor_new(F32, 1, d2);
    opc_input(c, 0, I64, 1, sd, shape, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "must hold one element");
    opc_free(c);
    c = opc_new("ConstantOfShape", 9, 1, 1);
    opc_input(c, 0, I64, 1, sd, shape, false);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "only known at run time");
    opc_free(c);
}
END_TEST

/* ---- Range ------------------------------------------------------------------- */

static op_case *range_case(ortc_dtype dt, const void *s, const void *l, const void *d, bool known)
{
    op_case *c = opc_new("Range", 11, 3, 1);
    opc_input(c, 0, dt, 0, NULL, s, known);
    opc_input(c, 1, dt, 0, NULL, l, true);
    opc_input(c, 2, dt, 0, NULL, d, true);
    return c;
}

START_TEST(test_layout_range)
{
    /* the spec's examples: (3, 9, 3) -> [3,6]; (10, 4, -2) -> [10,8,6] */
    int32_t a[] = {3, 9, 3}, wa[] = {3, 6}, b[] = {10, 4, -2}, wb[] = {10, 8, 6};
    int64_t d2[] = {2}, d3[] = {3};
    op_case *c = range_case(I32, &a[0], &a[1], &a[2], true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 1, d2, "Range 3..9 by 3");
        expect_data(&c->out[0], I32, wa, 2, "Range 3..9 by 3");
    }
    opc_free(c);
    c = range_case(I32, &b[0], &b[1], &b[2], true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 1, d3, "Range 10..4 by -2");
        expect_data(&c->out[0], I32, wb, 3, "Range 10..4 by -2");
    }
    opc_free(c);
    /* float: (0, 1, 0.3): ceil(1/0.3) = 4 elements; i*0.3 in double then
     * rounded to float (numpy: np.arange(0,1,0.3).astype(float32)) */
    float f[] = {0, 1, 0.3f};
    float wf[] = {0, (float)(0.3f * 1.0), (float)(2 * (double)0.3f), (float)(3 * (double)0.3f)};
    int64_t d4[] = {4};
    c = range_case(F32, &f[0], &f[1], &f[2], true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 1, d4, "Range float");
        opc_assert_close(c->out[0].data, wf, 4, 0, 0, "Range float");
    }
    opc_free(c);
    /* double, int16, int64 */
    double g[] = {0, 1, 0.25}, wg[] = {0, 0.25, 0.5, 0.75};
    c = range_case(F64, &g[0], &g[1], &g[2], true);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], F64, wg, 4, "Range double");
    opc_free(c);
    int16_t h[] = {0, 5, 2}, wh[] = {0, 2, 4};
    c = range_case(I16, &h[0], &h[1], &h[2], true);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I16, wh, 3, "Range int16");
    opc_free(c);
    /* int64 extremes: from INT64_MIN to INT64_MAX by INT64_MAX. The span is
     * 2^64-1, so ceil((2^64-1)/(2^63-1)) = 3 elements: MIN, MIN+MAX = -1,
     * -1+MAX = MAX-1 (computed without overflow) */
    int64_t e[] = {INT64_MIN, INT64_MAX, INT64_MAX}, we[] = {INT64_MIN, -1, INT64_MAX - 1};
    c = range_case(I64, &e[0], &e[1], &e[2], true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I64, 1, d3, "Range int64 extremes");
        expect_data(&c->out[0], I64, we, 3, "Range int64 extremes");
    }
    opc_free(c);
    /* empty: limit behind start */
    int64_t m[] = {5, 1, 1}, d0[] = {0};
    c = range_case(I64, &m[0], &m[1], &m[2], true);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], I64, 1, d0, "Range empty");
    opc_free(c);
}
END_TEST

START_TEST(test_layout_range_errors)
{
    int64_t z[] = {0, 5, 0};
    op_case *c = range_case(I64, &z[0], &z[1], &z[2], true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "(delta) is 0");
    opc_free(c);
    c = range_case(I64, &z[0], &z[1], &z[2], false);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "input 0 'in0' (start)");
    opc_free(c);
    uint8_t u[] = {0, 5, 1};
    c = range_case(U8, &u[0], &u[1], &u[2], true);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "has dtype uint8");
    opc_free(c);
    /* mixed dtypes */
    int32_t l = 5;
    int64_t s = 0, d = 1;
    c = opc_new("Range", 11, 3, 1);
    opc_input(c, 0, I64, 0, NULL, &s, true);
    opc_input(c, 1, I32, 0, NULL, &l, true);
    opc_input(c, 2, I64, 0, NULL, &d, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "three scalars of one dtype");
    opc_free(c);
}
END_TEST

/* ---- Tile -------------------------------------------------------------------- */

START_TEST(test_layout_tile)
{
    /* the spec's example: A = [[1,2],[3,4]], repeats [1,2] ->
     * [[1,2,1,2],[3,4,3,4]]; [2,2] -> that twice */
    float x[] = {1, 2, 3, 4};
    float w12[] = {1, 2, 1, 2, 3, 4, 3, 4};
    float w22[] = {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4};
    int64_t xd[] = {2, 2}, rd[] = {2}, r12[] = {1, 2}, r22[] = {2, 2}, y12[] = {2, 4},
            y22[] = {4, 4};
    for (int opset = 6; opset <= 13; opset += 7) {
        op_case *c = opc_new("Tile", opset, 2, 1);
        opc_input(c, 0, F32, 2, xd, x, false);
        opc_input(c, 1, I64, 1, rd, r12, true);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, y12, "Tile [1,2]");
            expect_data(&c->out[0], F32, w12, 8, "Tile [1,2]");
        }
        opc_free(c);
    }
    op_case *c = opc_new("Tile", 13, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, rd, r22, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, y22, "Tile [2,2]");
        expect_data(&c->out[0], F32, w22, 16, "Tile [2,2]");
    }
    opc_free(c);
    /* Tile-1: tiles 3 along axis 0 -> (6,2): x three times */
    int64_t three = 3, axis0 = 0, y62[] = {6, 2};
    float w3[] = {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4};
    c = opc_new("Tile", 1, 3, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 0, NULL, &three, true);
    opc_input(c, 2, I64, 0, NULL, &axis0, true);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, y62, "Tile-1");
        expect_data(&c->out[0], F32, w3, 12, "Tile-1");
    }
    opc_free(c);
    /* zero repeats: (0,2); all ones: a view */
    int64_t r01[] = {0, 1}, y02[] = {0, 2}, r11[] = {1, 1};
    c = opc_new("Tile", 13, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, rd, r01, true);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F32, 2, y02, "Tile zero");
    opc_free(c);
    c = opc_new("Tile", 13, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, rd, r11, true);
    ck_assert_int_eq(declared_view(c), 0);
    opc_free(c);
    /* strings, 1-D: ["a","b"] x3 */
    char *s[] = {"a", "b"}, *sw[] = {"a", "b", "a", "b", "a", "b"};
    int64_t d1[] = {1}, sd[] = {2}, r3[] = {3};
    c = opc_new("Tile", 13, 2, 1);
    opc_input(c, 0, STR, 1, sd, s, false);
    opc_input(c, 1, I64, 1, d1, r3, true);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], STR, sw, 6, "Tile strings");
    opc_free(c);
    /* errors: repeats of the wrong length, negative, unknown */
    int64_t rneg[] = {1, -2};
    c = opc_new("Tile", 13, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, d1, r3, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "has 1 values but input 0 'in0' has rank 2");
    opc_free(c);
    c = opc_new("Tile", 13, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, rd, rneg, true);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "repeat count -2 for axis 1");
    opc_free(c);
    c = opc_new("Tile", 13, 2, 1);
    opc_input(c, 0, F32, 2, xd, x, false);
    opc_input(c, 1, I64, 1, rd, r22, false);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "(repeats), which are only known at run time");
    opc_free(c);
}
END_TEST

/* ---- Size -------------------------------------------------------------------- */

START_TEST(test_layout_size)
{
    /* reads only the shape: data NULL is fine. (3,4,5) -> 60, (0,7) -> 0,
     * a scalar -> 1; Size-1 and 13 */
    int64_t d345[] = {3, 4, 5}, d07[] = {0, 7};
    struct {
        int opset, rank;
        const int64_t *dims;
        int64_t want;
    } cases[] = {{13, 3, d345, 60}, {1, 2, d07, 0}, {13, 0, NULL, 1}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        op_case *c = opc_new("Size", cases[k].opset, 1, 1);
        opc_input(c, 0, STR, cases[k].rank, cases[k].dims, NULL, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I64, 0, NULL, "Size");
            expect_data(&c->out[0], I64, &cases[k].want, 1, "Size");
        }
        opc_free(c);
    }
}
END_TEST

/* ---- Trilu ------------------------------------------------------------------- */

START_TEST(test_layout_trilu)
{
    /* x = 0..11 as (3,4); checked with numpy's triu/tril when written:
     *   upper k=0  [[0,1,2,3],[0,5,6,7],[0,0,10,11]]
     *   upper k=1  [[0,1,2,3],[0,0,6,7],[0,0,0,11]]
     *   upper k=-1 [[0,1,2,3],[4,5,6,7],[0,9,10,11]]
     *   lower k=0  [[0,0,0,0],[4,5,0,0],[8,9,10,0]]
     *   lower k=-1 [[0,0,0,0],[4,0,0,0],[8,9,0,0]]
     *   lower k=2  [[0,1,2,0],[4,5,6,7],[8,9,10,11]]
     * and k beyond the matrix keeps all or nothing */
    int64_t x[12];
    for (int i = 0; i < 12; i++)
        x[i] = i;
    static const struct {
        int upper, has_k;
        int64_t k;
        int64_t want[12];
    } cases[] = {
        {1, 0, 0, {0, 1, 2, 3, 0, 5, 6, 7, 0, 0, 10, 11}},
        {1, 1, 1, {0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11}},
        {1, 1, -1, {0, 1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11}},
        {0, 0, 0, {0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0}},
        {0, 1, -1, {0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0}},
        {0, 1, 2, {0, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 11}},
        {1, 1, INT64_MIN, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
        {1, 1, INT64_MAX, {0}},
        {0, 1, INT64_MIN, {0}},
        {0, 1, 7, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
    };
    int64_t xd[] = {3, 4};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        op_case *c = opc_new("Trilu", 14, 2, 1);
        if (!cases[t].upper || t % 2)
            opc_attr_int(c, "upper", cases[t].upper);
        opc_input(c, 0, I64, 2, xd, x, false);
        opc_input(c, 1, cases[t].has_k ? I64 : ORTC_DTYPE_UNDEFINED, 0, NULL, &cases[t].k, false);
        char what[64];
        snprintf(what, sizeof what, "Trilu upper=%d k=%lld", cases[t].upper, (long long)cases[t].k);
        int view, inplace;
        declared(c, &view, &inplace);
        ck_assert_int_eq(inplace, 0);
        FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I64, cases[t].want, 12, what);
        opc_free(c);
    }
    /* batches of (2,2) float, lower: [[a,0],[c,d]] each */
    float xf[] = {1, 2, 3, 4, 5, 6, 7, 8}, wf[] = {1, 0, 3, 4, 5, 0, 7, 8};
    int64_t d222[] = {2, 2, 2};
    op_case *c = opc_new("Trilu", 14, 1, 1);
    opc_attr_int(c, "upper", 0);
    opc_input(c, 0, F32, 3, d222, xf, false);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], F32, wf, 8, "Trilu batch");
    opc_free(c);
    /* strings clear to "" */
    char *s[] = {"a", "b", "c", "d"}, *sw[] = {"a", "b", "", "d"};
    int64_t d22[] = {2, 2};
    c = opc_new("Trilu", 14, 1, 1);
    opc_input(c, 0, STR, 2, d22, s, false);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], STR, sw, 4, "Trilu strings");
    opc_free(c);
    /* empty and rank 1 */
    int64_t d05[] = {0, 5}, d3[] = {3};
    c = opc_new("Trilu", 14, 1, 1);
    opc_input(c, 0, F32, 2, d05, NULL, false);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    expect_shape(&c->out[0], F32, 2, d05, "Trilu empty");
    opc_free(c);
    c = opc_new("Trilu", 14, 1, 1);
    opc_input(c, 0, F32, 1, d3, xf, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "(rank 1); Trilu needs rank >= 2");
    opc_free(c);
}
END_TEST

/* ---- GatherElements / ScatterElements ------------------------------------------- */

START_TEST(test_layout_gather_elements)
{
    /* the spec's examples:
     *   data [[1,2],[3,4]], indices [[0,0],[1,0]], axis 1 -> [[1,1],[4,3]]
     *   data [[1,2,3],[4,5,6],[7,8,9]], indices [[1,2,0],[2,0,0]], axis 0
     *     -> [[4,8,3],[7,2,3]]
     *   with indices [[-1,-2,0],[-2,0,0]] (-1 = 2, -2 = 1) -> [[7,5,3],[4,2,3]] */
    float d1[] = {1, 2, 3, 4}, w1[] = {1, 1, 4, 3};
    int64_t i1[] = {0, 0, 1, 0}, d22[] = {2, 2};
    op_case *c = opc_new("GatherElements", 13, 2, 1);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, d22, d1, false);
    opc_input(c, 1, I64, 2, d22, i1, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 2, d22, "GatherElements example 1");
        expect_data(&c->out[0], F32, w1, 4, "GatherElements example 1");
    }
    opc_free(c);
    float d2[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w2[] = {4, 8, 3, 7, 2, 3}, w3[] = {7, 5, 3, 4, 2, 3};
    int32_t i2[] = {1, 2, 0, 2, 0, 0}, i3[] = {-1, -2, 0, -2, 0, 0};
    int64_t d33[] = {3, 3}, d23[] = {2, 3};
    for (int k = 0; k < 2; k++) {
        c = opc_new("GatherElements", 11, 2, 1);
        opc_input(c, 0, F32, 2, d33, d2, false);
        opc_input(c, 1, I32, 2, d23, k ? i3 : i2, k == 1);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, d23, "GatherElements example 2");
            expect_data(&c->out[0], F32, k ? w3 : w2, 6, "GatherElements example 2");
        }
        opc_free(c);
    }
}
END_TEST

START_TEST(test_layout_gather_elements_3d)
{
    /* data (3,4,5) int16, indices (2,3,5) on axis 1 (smaller on axis 0 and
     * on axis 1); oracle: out[a][b][c] = data[a][idx[a][b][c]][c] */
    int16_t data[60];
    for (int i = 0; i < 60; i++)
        data[i] = (int16_t)(i * 3 - 50);
    int64_t dd[] = {3, 4, 5}, id[] = {2, 3, 5}, idx[30];
    int16_t want[30];
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < 5; k++) {
                int p = (a * 3 + b) * 5 + k;
                idx[p] = (p * 7) % 8 - 4; /* -4..3, all valid for dim 4 */
                int64_t j = idx[p] < 0 ? idx[p] + 4 : idx[p];
                want[p] = data[(a * 4 + j) * 5 + k];
            }
    op_case *c = opc_new("GatherElements", 13, 2, 1);
    opc_attr_int(c, "axis", -2);
    opc_input(c, 0, I16, 3, dd, data, false);
    opc_input(c, 1, I64, 3, id, idx, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I16, 3, id, "GatherElements 3-D");
        expect_data(&c->out[0], I16, want, 30, "GatherElements 3-D");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_layout_gather_elements_errors)
{
    float d[] = {1, 2, 3, 4};
    int64_t d22[] = {2, 2}, bad[] = {0, 2, 0, 0}, d4[] = {4}, d32[] = {3, 2};
    /* out of range: constant indices fail at infer, others at run */
    for (int known = 1; known >= 0; known--) {
        op_case *c = opc_new("GatherElements", 13, 2, 1);
        opc_input(c, 0, F32, 2, d22, d, false);
        opc_input(c, 1, I64, 2, d22, bad, known);
        expect_status(c, opc_run(c, 1, 1), known ? BAD_MODEL : BAD_ARG,
                      "index 2 (element 1 of input 1 'in1') is out of range for axis 0");
        opc_free(c);
    }
    op_case *c = opc_new("GatherElements", 13, 2, 1);
    opc_input(c, 0, F32, 2, d22, d, false);
    opc_input(c, 1, I64, 1, d4, bad, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "their ranks must match");
    opc_free(c);
    int64_t i6[6] = {0};
    c = opc_new("GatherElements", 13, 2, 1);
    opc_attr_int(c, "axis", 1);
    opc_input(c, 0, F32, 2, d22, d, false);
    opc_input(c, 1, I64, 2, d32, i6, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "on axis 0 (only axis 1 may differ)");
    opc_free(c);
}
END_TEST

START_TEST(test_layout_scatter_elements)
{
    /* the spec's examples:
     * 1) data zeros (3,3), indices [[1,0,2],[0,2,1]], updates
     *    [[1.0,1.1,1.2],[2.0,2.1,2.2]], axis 0 ->
     *    [[2.0,1.1,0],[1.0,0,2.2],[0,2.1,1.2]]
     * 2) data [[1,2,3,4,5]], indices [[1,3]], updates [[1.1,2.1]], axis 1
     *    -> [[1,1.1,3,2.1,5]]; with indices [[1,-3]] (-3 = 2) -> [[1,1.1,2.1,4,5]] */
    float z[9] = {0}, u1[] = {1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f};
    float w1[] = {2.0f, 1.1f, 0, 1.0f, 0, 2.2f, 0, 2.1f, 1.2f};
    int64_t i1[] = {1, 0, 2, 0, 2, 1}, d33[] = {3, 3}, d23[] = {2, 3};
    for (int opset = 11; opset <= 16; opset++) {
        if (opset != 11 && opset != 13 && opset != 16)
            continue;
        op_case *c = opc_new("ScatterElements", opset, 3, 1);
        opc_input(c, 0, F32, 2, d33, z, false);
        opc_input(c, 1, I64, 2, d23, i1, false);
        opc_input(c, 2, F32, 2, d23, u1, false);
        int view, inplace;
        declared(c, &view, &inplace);
        ck_assert_int_eq(inplace, 0);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 2, d33, "ScatterElements example 1");
            expect_data(&c->out[0], F32, w1, 9, "ScatterElements example 1");
        }
        opc_free(c);
    }
    float d2[] = {1, 2, 3, 4, 5}, u2[] = {1.1f, 2.1f};
    float w2[] = {1, 1.1f, 3, 2.1f, 5}, w3[] = {1, 1.1f, 2.1f, 4, 5};
    int32_t i2[] = {1, 3}, i3[] = {1, -3};
    int64_t d15[] = {1, 5}, d12[] = {1, 2};
    for (int k = 0; k < 2; k++) {
        op_case *c = opc_new("ScatterElements", 13, 3, 1);
        opc_attr_int(c, "axis", 1);
        opc_input(c, 0, F32, 2, d15, d2, false);
        opc_input(c, 1, I32, 2, d12, k ? i3 : i2, false);
        opc_input(c, 2, F32, 2, d12, u2, false);
        FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], F32, k ? w3 : w2, 5, "ScatterElements 2");
        opc_free(c);
    }
    /* ScatterElements-16 reductions with a repeated index [[1,1]]:
     * add: 2 + 1.1 + 2.1 = 5.2 (float sums in order: (2+1.1f)+2.1f);
     * mul on int32 data [1,2,3] with updates [3,4] at [1,1]: 2*3*4 = 24 */
    int64_t i11[] = {1, 1};
    float wadd[] = {1, (2.0f + 1.1f) + 2.1f, 3, 4, 5};
    op_case *c = opc_new("ScatterElements", 16, 3, 1);
    opc_attr_int(c, "axis", 1);
    opc_attr_string(c, "reduction", "add");
    opc_input(c, 0, F32, 2, d15, d2, false);
    opc_input(c, 1, I64, 2, d12, i11, false);
    opc_input(c, 2, F32, 2, d12, u2, false);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], F32, wadd, 5, "ScatterElements add");
    opc_free(c);
    int32_t di[] = {1, 2, 3}, ui[] = {3, 4}, wmul[] = {1, 24, 3};
    int64_t d3[] = {3}, d2i[] = {2};
    c = opc_new("ScatterElements", 16, 3, 1);
    opc_attr_string(c, "reduction", "mul");
    opc_input(c, 0, I32, 1, d3, di, false);
    opc_input(c, 1, I64, 1, d2i, i11, false);
    opc_input(c, 2, I32, 1, d2i, ui, false);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I32, wmul, 3, "ScatterElements mul");
    opc_free(c);
    /* strings: pointer copies */
    char *sd[] = {"a", "b", "c"}, *su[] = {"z"}, *sw[] = {"a", "b", "z"};
    int64_t d1[] = {1}, i2s[] = {-1};
    c = opc_new("ScatterElements", 13, 3, 1);
    opc_input(c, 0, STR, 1, d3, sd, false);
    opc_input(c, 1, I64, 1, d1, i2s, false);
    opc_input(c, 2, STR, 1, d1, su, false);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], STR, sw, 3, "ScatterElements strings");
    opc_free(c);
}
END_TEST

START_TEST(test_layout_scatter_elements_errors)
{
    float d[] = {1, 2, 3}, u[] = {1, 2};
    int64_t d3[] = {3}, d2[] = {2}, d1[] = {1}, i[] = {0, 3};
    op_case *c = opc_new("ScatterElements", 16, 3, 1);
    opc_attr_string(c, "reduction", "max");
    opc_input(c, 0, F32, 1, d3, d, false);
    opc_input(c, 1, I64, 1, d2, i, false);
    opc_input(c, 2, F32, 1, d2, u, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "'reduction' is \"max\"");
    opc_free(c);
    c = opc_new("ScatterElements", 13, 3, 1);
    opc_attr_string(c, "reduction", "add");
    opc_input(c, 0, F32, 1, d3, d, false);
    opc_input(c, 1, I64, 1, d2, i, false);
    opc_input(c, 2, F32, 1, d2, u, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "exists from ScatterElements-16 on");
    opc_free(c);
    c = opc_new("ScatterElements", 13, 3, 1);
    opc_input(c, 0, F32, 1, d3, d, false);
    opc_input(c, 1, I64, 1, d2, i, false);
    opc_input(c, 2, F32, 1, d2, u, false);
    expect_status(c, opc_run(c, 1, 1), BAD_ARG, "index 3 (element 1 of input 1 'in1')");
    opc_free(c);
    c = opc_new("ScatterElements", 13, 3, 1);
    opc_input(c, 0, F32, 1, d3, d, false);
    opc_input(c, 1, I64, 1, d2, i, false);
    opc_input(c, 2, F32, 1, d1, u, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "(updates) has shape [1] but input 1");
    opc_free(c);
    uint8_t b[] = {1, 0, 1}, bu[] = {1, 1};
    int64_t i01[] = {0, 1};
    c = opc_new("ScatterElements", 16, 3, 1);
    opc_attr_string(c, "reduction", "add");
    opc_input(c, 0, BOOL, 1, d3, b, false);
    opc_input(c, 1, I64, 1, d2, i01, false);
    opc_input(c, 2, BOOL, 1, d2, bu, false);
    expect_status(c, opc_run(c, 1, 1), UNSUP, "reduction 'add' on dtype bool");
    opc_free(c);
}
END_TEST

/* ---- DepthToSpace / SpaceToDepth ------------------------------------------------ */

START_TEST(test_layout_depth_space_hand)
{
    /* x = 0..7 as (1,8,1,1), blocksize 2, C' = 2:
     *   DCR: y[c][i][j] = x[(i*2 + j)*2 + c] -> c0 [[0,2],[4,6]], c1 [[1,3],[5,7]]
     *   CRD: y[c][i][j] = x[c*4 + i*2 + j]   -> c0 [[0,1],[2,3]], c1 [[4,5],[6,7]] */
    float x[8], dcr[] = {0, 2, 4, 6, 1, 3, 5, 7}, crd[] = {0, 1, 2, 3, 4, 5, 6, 7};
    iota_f32(x, 8);
    int64_t xd[] = {1, 8, 1, 1}, yd[] = {1, 2, 2, 2};
    for (int k = 0; k < 3; k++) {
        op_case *c = opc_new("DepthToSpace", k == 0 ? 1 : 13, 1, 1);
        opc_attr_int(c, "blocksize", 2);
        if (k)
            opc_attr_string(c, "mode", k == 1 ? "DCR" : "CRD");
        opc_input(c, 0, F32, 4, xd, x, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], F32, 4, yd, "DepthToSpace");
            expect_data(&c->out[0], F32, k == 2 ? crd : dcr, 8, "DepthToSpace");
        }
        opc_free(c);
    }
    /* SpaceToDepth of y = [[0,1],[2,3]] (1,1,2,2), blocksize 2: channel
     * (i*2 + j) takes y[i][j] -> (1,4,1,1) [0,1,2,3] */
    float s[] = {0, 1, 2, 3};
    int64_t sd[] = {1, 1, 2, 2}, td[] = {1, 4, 1, 1};
    op_case *c = opc_new("SpaceToDepth", 13, 1, 1);
    opc_attr_int(c, "blocksize", 2);
    opc_input(c, 0, F32, 4, sd, s, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], F32, 4, td, "SpaceToDepth");
        expect_data(&c->out[0], F32, s, 4, "SpaceToDepth");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_layout_depth_space_oracle)
{
    /* x (2,18,2,3) int32, blocksize 3 (C' = 2): the spec's reshape/transpose
     * written as index maps:
     *   DCR: y[n][c][h*b+i][w*b+j] = x[n][(i*b+j)*C' + c][h][w]
     *   CRD: y[n][c][h*b+i][w*b+j] = x[n][c*b*b + i*b + j][h][w]
     *   SpaceToDepth is DCR's inverse: y[n][(i*b+j)*C + c][h][w] =
     *   x[n][c][h*b+i][w*b+j] */
    enum { N = 2, C = 18, H = 2, W = 3, B = 3, CP = 2 };
    static int32_t x[N * C * H * W], dcr[N * C * H * W], crd[N * C * H * W];
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = i * 5 + 1;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < CP; c++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < B; i++)
                    for (int w = 0; w < W; w++)
                        for (int j = 0; j < B; j++) {
                            int y = ((n * CP + c) * H * B + h * B + i) * W * B + w * B + j;
                            dcr[y] = x[((n * C + (i * B + j) * CP + c) * H + h) * W + w];
                            crd[y] = x[((n * C + c * B * B + i * B + j) * H + h) * W + w];
                        }
    int64_t xd[] = {N, C, H, W}, yd[] = {N, CP, H * B, W * B};
    for (int k = 0; k < 2; k++) {
        op_case *c = opc_new("DepthToSpace", 11, 1, 1);
        opc_attr_int(c, "blocksize", B);
        opc_attr_string(c, "mode", k ? "CRD" : "DCR");
        opc_input(c, 0, I32, 4, xd, x, false);
        FOR_BOTH_MODES(c, mode)
        {
            expect_shape(&c->out[0], I32, 4, yd, k ? "DepthToSpace CRD" : "DepthToSpace DCR");
            expect_data(&c->out[0], I32, k ? crd : dcr, N * C * H * W,
                        k ? "DepthToSpace CRD" : "DepthToSpace DCR");
        }
        opc_free(c);
    }
    /* SpaceToDepth(DCR result) gives x back */
    op_case *c = opc_new("SpaceToDepth", 1, 1, 1);
    opc_attr_int(c, "blocksize", B);
    opc_input(c, 0, I32, 4, yd, dcr, false);
    FOR_BOTH_MODES(c, mode)
    {
        expect_shape(&c->out[0], I32, 4, xd, "SpaceToDepth inverse");
        expect_data(&c->out[0], I32, x, N * C * H * W, "SpaceToDepth inverse");
    }
    opc_free(c);
}
END_TEST

START_TEST(test_layout_depth_space_errors)
{
    float x[12] = {0};
    int64_t xd[] = {1, 3, 2, 2}, x3[] = {3, 2, 2};
    op_case *c = opc_new("DepthToSpace", 13, 1, 1);
    opc_attr_int(c, "blocksize", 2);
    opc_input(c, 0, F32, 4, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "3 channels, not a multiple of blocksize^2 = 4");
    opc_free(c);
    c = opc_new("DepthToSpace", 13, 1, 1);
    opc_attr_int(c, "blocksize", 1);
    opc_attr_string(c, "mode", "XYZ");
    opc_input(c, 0, F32, 4, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "'mode' is \"XYZ\"");
    opc_free(c);
    c = opc_new("DepthToSpace", 1, 1, 1);
    opc_attr_int(c, "blocksize", 1);
    opc_attr_string(c, "mode", "CRD");
    opc_input(c, 0, F32, 4, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "exists from DepthToSpace-11 on");
    opc_free(c);
    c = opc_new("SpaceToDepth", 13, 1, 1);
    opc_attr_int(c, "blocksize", 3);
    opc_input(c, 0, F32, 4, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "is 2x2 (HxW), not a multiple of blocksize 3");
    opc_free(c);
    c = opc_new("SpaceToDepth", 13, 1, 1);
    opc_attr_int(c, "blocksize", 1);
    opc_input(c, 0, F32, 3, x3, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "needs (N, C, H, W)");
    opc_free(c);
    c = opc_new("SpaceToDepth", 13, 1, 1);
    opc_input(c, 0, F32, 4, xd, x, false);
    expect_status(c, opc_run(c, 1, 1), BAD_MODEL, "'blocksize' is missing");
    opc_free(c);
}
END_TEST

/* ---- CastLike ------------------------------------------------------------------ */

static op_case *castlike_case(ortc_dtype from, int64_t n, const void *x, ortc_dtype to,
                              const void *like)
{
    op_case *c = opc_new("CastLike", 15, 2, 1);
    int64_t d[] = {n}, d1[] = {1};
    opc_input(c, 0, from, 1, d, x, false);
    opc_input(c, 1, to, 1, d1, like, false);
    return c;
}

START_TEST(test_layout_castlike)
{
    /* float -> float16 (numpy's astype(float16) bits, checked when written):
     * 1.5 -> 0x3e00, -2.7 -> 0xc166, 65520 -> inf 0x7c00 (the tie rounds to
     * even = 2^16, out of range), 1e-8 -> 0 (below half the smallest
     * subnormal), NaN -> 0x7e00 */
    float x[] = {1.5f, -2.7f, 65520.0f, 1e-8f, NAN};
    uint16_t like16 = 0, w16[] = {0x3e00, 0xc166, 0x7c00, 0x0000, 0x7e00};
    op_case *c = castlike_case(F32, 5, x, F16, &like16);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], F16, w16, 5, "CastLike float -> float16");
    opc_free(c);
    /* float16 -> double is exact: 0x3e00 = 1.5, 0xc166 = -(1 + 358/1024) * 2 */
    double w64[] = {1.5, -(1.0 + 358.0 / 1024.0) * 2, INFINITY, 0.0, NAN}, like64 = 0;
    c = castlike_case(F16, 5, w16, F64, &like64);
    FOR_BOTH_MODES(c, mode)
    {
        const double *got = c->out[0].data;
        for (int i = 0; i < 4; i++)
            ck_assert_msg(got[i] == w64[i], "CastLike float16 -> double [%d]: got %.17g want %.17g",
                          i, got[i], w64[i]);
        ck_assert_msg(isnan(got[4]), "CastLike float16 NaN -> double: got %g", got[4]);
    }
    opc_free(c);
    /* double -> int32: truncation toward zero, saturation, NaN -> 0 (Cast's
     * rules in ortc) */
    double d[] = {2.9, -2.9, 3e10, -3e10, NAN};
    int32_t like32 = 0, w32[] = {2, -2, INT32_MAX, INT32_MIN, 0};
    c = castlike_case(F64, 5, d, I32, &like32);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I32, w32, 5, "CastLike double -> int32");
    opc_free(c);
    /* int64 -> uint8 wraps modulo 256: 300 -> 44, -1 -> 255; -> bool: 0/1 */
    int64_t i[] = {300, -1, 0};
    uint8_t likeu8 = 0, wu8[] = {44, 255, 0}, wb[] = {1, 1, 0};
    c = castlike_case(I64, 3, i, U8, &likeu8);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], U8, wu8, 3, "CastLike int64 -> uint8");
    opc_free(c);
    c = castlike_case(I64, 3, i, BOOL, &likeu8);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], BOOL, wb, 3, "CastLike int64 -> bool");
    opc_free(c);
    /* strings -> float and int: "NaN"/"INF" as strtof reads them */
    char *s[] = {"0.47892547", " -2", "INF", "-inf", "+INF", "1e3"};
    float wf[] = {0.47892547f, -2, INFINITY, -INFINITY, INFINITY, 1000}, likef = 0;
    c = castlike_case(STR, 6, s, F32, &likef);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], F32, wf, 6, "CastLike string -> float");
    opc_free(c);
    char *nan_s[] = {"NaN"};
    c = castlike_case(STR, 1, nan_s, F32, &likef);
    FOR_BOTH_MODES(c, mode) ck_assert(isnan(((float *)c->out[0].data)[0]));
    opc_free(c);
    char *si[] = {"9007199254740993", "-7"};
    int64_t like64i = 0, wi[] = {9007199254740993LL, -7}; /* 2^53 + 1: exact, not via double */
    c = castlike_case(STR, 2, si, I64, &like64i);
    FOR_BOTH_MODES(c, mode) expect_data(&c->out[0], I64, wi, 2, "CastLike string -> int64");
    opc_free(c);
    /* the same dtype copies */
    c = castlike_case(F32, 5, x, F32, &likef);
    ck_assert_int_eq(opc_run(c, 1, 1), OK);
    ck_assert_int_eq(memcmp(c->out[0].data, x, sizeof x), 0);
    opc_free(c);
}
END_TEST

START_TEST(test_layout_castlike_errors)
{
    char *s[] = {"1.5", "abc"};
    float likef = 0;
    op_case *c = castlike_case(STR, 2, s, F32, &likef);
    expect_status(c, opc_run(c, 1, 1), BAD_ARG, "element 1 of input 0 'in0' is \"abc\"");
    opc_free(c);
    /* numbers to strings: test_ops_text.c (the strings live in the node's state) */
}
END_TEST

void ortc_cases_ops_layout(Suite *s)
{
    TCase *tc = tcase_create("layout_move");
    tcase_add_test(tc, test_layout_registry);
    tcase_add_test(tc, test_layout_transpose_hand);
    tcase_add_test(tc, test_layout_transpose_all_perms);
    tcase_add_test(tc, test_layout_transpose_shapes);
    tcase_add_test(tc, test_layout_transpose_views_empty_strings);
    tcase_add_test(tc, test_layout_transpose_errors);
    tcase_add_test(tc, test_layout_slice_hand);
    tcase_add_test(tc, test_layout_slice_steps_and_clamping);
    tcase_add_test(tc, test_layout_slice_random_vs_oracle);
    tcase_add_test(tc, test_layout_slice_view_and_errors);
    tcase_add_test(tc, test_layout_split);
    tcase_add_test(tc, test_layout_split_errors);
    tcase_add_test(tc, test_layout_pad_modes);
    tcase_add_test(tc, test_layout_pad_values_and_cropping);
    tcase_add_test(tc, test_layout_pad_errors);
    tcase_add_test(tc, test_layout_expand);
    tcase_add_test(tc, test_layout_expand_errors);
    tcase_add_test(tc, test_layout_tile);
    tcase_add_test(tc, test_layout_depth_space_hand);
    tcase_add_test(tc, test_layout_depth_space_oracle);
    tcase_add_test(tc, test_layout_depth_space_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("layout_generate");
    tcase_add_test(tc, test_layout_constant_of_shape);
    tcase_add_test(tc, test_layout_range);
    tcase_add_test(tc, test_layout_range_errors);
    tcase_add_test(tc, test_layout_size);
    tcase_add_test(tc, test_layout_trilu);
    tcase_add_test(tc, test_layout_gather_elements);
    tcase_add_test(tc, test_layout_gather_elements_3d);
    tcase_add_test(tc, test_layout_gather_elements_errors);
    tcase_add_test(tc, test_layout_scatter_elements);
    tcase_add_test(tc, test_layout_scatter_elements_errors);
    tcase_add_test(tc, test_layout_castlike);
    tcase_add_test(tc, test_layout_castlike_errors);
    suite_add_tcase(s, tc);
}
