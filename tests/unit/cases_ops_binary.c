/* cases_ops_binary.c — binary.c and logic.c: Pow, Mod, Min/Max/Sum/Mean,
 * the small-integer and float16 arithmetic, comparisons, Not/And/Or/Xor,
 * Where and BitShift against hand-derived values (edge cases: wrap, x/0,
 * NaN, signs, saturation), the shared broadcasting walker against a naive
 * index-by-index oracle on random shapes, Sum/Mean's oneDNN path against
 * the reference kernel (and which path ran), infer's errors and the
 * registered versions. Add/Sub/Mul/Div on float32/int32/int64/float64 are
 * covered in cases_ops_dnnl.c.
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
#include "plain_util.h"

#define DIMS(...)                                                                                  \
    (int64_t[])                                                                                    \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

/* ==== helpers ================================================================ */

static bool is_float(ortc_dtype dt)
{
    return dt == F32 || dt == F64 || dt == F16;
}

static double as_double(ortc_dtype dt, const void *p, int64_t i)
{
    switch (dt) {
    case F16: return ortc_f16_to_float(((const uint16_t *)p)[i]);
    case F32: return ((const float *)p)[i];
    case F64: return ((const double *)p)[i];
    default: return 0;
    }
}

/* Element i as text, exactly (u64 stays unsigned). */
static void elem_str(char *buf, size_t len, ortc_dtype dt, const void *p, int64_t i)
{
    if (is_float(dt)) {
        snprintf(buf, len, "%.9g", as_double(dt, p, i));
    } else if (dt == U64) {
        snprintf(buf, len, "%llu", (unsigned long long)((const uint64_t *)p)[i]);
    } else {
        ortc_tensor t = {.dtype = dt, .data = (void *)p};
        snprintf(buf, len, "%lld", (long long)ortc_tensor_get_int(&t, i));
    }
}

/* Element i equal: integers and bool byte for byte (a bool must be exactly
 * 0 or 1), floats by value with NaN == NaN. */
static bool elem_equal(ortc_dtype dt, const void *got, const void *exp, int64_t i)
{
    if (is_float(dt)) {
        double g = as_double(dt, got, i), e = as_double(dt, exp, i);
        return (isnan(g) && isnan(e)) || g == e;
    }
    size_t es = ortc_dtype_size(dt);
    return memcmp((const char *)got + i * es, (const char *)exp + i * es, es) == 0;
}

/* y must have dtype/shape and equal exp exactly; on failure names the first
 * differing element with both values. */
static void check_tensor(const ortc_tensor *y, ortc_dtype dt, int rank, const int64_t *dims,
                         const void *exp, const char *what)
{
    ck_assert_msg(y->dtype == dt, "%s: output dtype %s, expected %s", what,
                  ortc_dtype_name(y->dtype), ortc_dtype_name(dt));
    char s1[128], s2[128];
    ortc_shape_str(s1, sizeof s1, y->rank, y->dims);
    ortc_shape_str(s2, sizeof s2, rank, dims);
    ck_assert_msg(strcmp(s1, s2) == 0, "%s: output shape %s, expected %s", what, s1, s2);
    int64_t n = numel_of(rank, dims), bad = -1, n_bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!elem_equal(dt, y->data, exp, i)) {
            if (bad < 0)
                bad = i;
            n_bad++;
        }
    char g[64] = "", e[64] = "";
    if (bad >= 0) {
        elem_str(g, sizeof g, dt, y->data, bad);
        elem_str(e, sizeof e, dt, exp, bad);
    }
    ck_assert_msg(bad < 0, "%s: %lld of %lld elements differ; first at %lld: got %s expected %s",
                  what, (long long)n_bad, (long long)n, (long long)bad, g, e);
}

static void check_out(const op_case *c, ortc_dtype dt, int rank, const int64_t *dims,
                      const void *exp, const char *what)
{
    check_tensor(&c->out[0], dt, rank, dims, exp, what);
}

/* Runs c on both paths (reference: run without prepare; prepared: prepare
 * + run on a oneDNN backend) and checks each against exp exactly. Returns
 * how many oneDNN primitives the prepared run executed. */
static uint64_t expect_both_exact(op_case *c, ortc_dtype dt, int rank, const int64_t *dims,
                                  const void *exp, const char *what)
{
    uint64_t ran = 0;
    for (int reference = 1; reference >= 0; reference--) {
        char name[200];
        snprintf(name, sizeof name, "%s (%s)", what, reference ? "reference" : "prepared");
        uint64_t r = run_checked(c, reference, PATH_ANY, name);
        if (!reference)
            ran = r;
        check_out(c, dt, rank, dims, exp, name);
    }
    return ran;
}

/* As expect_both_exact, and the prepared path must be plain C (no oneDNN). */
static void expect_plain(op_case *c, ortc_dtype dt, int rank, const int64_t *dims, const void *exp,
                         const char *what)
{
    uint64_t ran = expect_both_exact(c, dt, rank, dims, exp, what);
    ck_assert_msg(ran == 0, "%s: expected plain C, but %llu oneDNN primitives ran", what,
                  (unsigned long long)ran);
}

/* A two-input node with inputs (dtype, rank, dims, data). */
static op_case *case2(const char *op, int opset, ortc_dtype da, int ra, const int64_t *a_dims,
                      const void *a, ortc_dtype db, int rb, const int64_t *b_dims, const void *b)
{
    op_case *c = opc_new(op, opset, 2, 1);
    opc_input(c, 0, da, ra, a_dims, a, false);
    opc_input(c, 1, db, rb, b_dims, b, true);
    return c;
}

static uint16_t h(double x)
{
    return ortc_f16_from_double(x);
}

/* ==== arithmetic on the newer dtypes ========================================= */

START_TEST(arith_small_ints_hand)
{
    /* uint8 wraps mod 256: 250 + 10 = 260 -> 4; 3 - 5 -> 254; 16 * 16 = 256
     * -> 0; 7 / 2 = 3; 5 / 0 is defined as 0 */
    uint8_t a[3] = {250, 3, 16}, b[3] = {10, 5, 16};
    uint8_t e_add[3] = {4, 8, 32}, e_sub[3] = {240, 254, 0}, e_mul[3] = {196, 15, 0};
    const struct {
        const char *op;
        const uint8_t *exp;
    } u8ops[] = {{"Add", e_add}, {"Sub", e_sub}, {"Mul", e_mul}};
    /* 250 * 10 = 2500 = 9 * 256 + 196 */
    for (int i = 0; i < N_OF(u8ops); i++) {
        op_case *c = case2(u8ops[i].op, 14, U8, 1, DIMS(3), a, U8, 1, DIMS(3), b);
        expect_plain(c, U8, 1, DIMS(3), u8ops[i].exp, u8ops[i].op);
        opc_free(c);
    }
    uint8_t dn[2] = {7, 5}, dd[2] = {2, 0}, e_div[2] = {3, 0};
    op_case *c = case2("Div", 14, U8, 1, DIMS(2), dn, U8, 1, DIMS(2), dd);
    expect_plain(c, U8, 1, DIMS(2), e_div, "uint8 Div");
    opc_free(c);

    /* int8 Div truncates toward zero; -128 / -1 wraps to -128 */
    int8_t n8[3] = {-128, -7, 7}, d8[3] = {-1, 2, -2}, e8[3] = {-128, -3, -3};
    c = case2("Div", 14, I8, 1, DIMS(3), n8, I8, 1, DIMS(3), d8);
    expect_plain(c, I8, 1, DIMS(3), e8, "int8 Div");
    opc_free(c);

    /* int16 Mul, (2,1) * (2): 300 * 300 = 90000 = 65536 + 24464; 300 * -2 = -600;
     * 7 * 300 = 2100; 7 * -2 = -14 */
    int16_t m16[2] = {300, 7}, k16[2] = {300, -2}, e16[4] = {24464, -600, 2100, -14};
    c = case2("Mul", 14, I16, 2, DIMS(2, 1), m16, I16, 1, DIMS(2), k16);
    expect_plain(c, I16, 2, DIMS(2, 2), e16, "int16 Mul broadcast");
    opc_free(c);

    /* uint32 0 - 1 wraps to 2^32 - 1; uint64 Div is unsigned: (2^64 - 1) / 2
     * = 2^63 - 1 (a signed division would give 0) */
    uint32_t z32 = 0, one32 = 1, e32 = UINT32_MAX;
    c = case2("Sub", 13, U32, 0, NULL, &z32, U32, 0, NULL, &one32);
    expect_plain(c, U32, 0, NULL, &e32, "uint32 Sub wrap");
    opc_free(c);
    uint64_t big = UINT64_MAX, two = 2, e64 = INT64_MAX;
    c = case2("Div", 7, U64, 1, DIMS(1), &big, U64, 0, NULL, &two);
    expect_plain(c, U64, 1, DIMS(1), &e64, "uint64 Div");
    opc_free(c);
}
END_TEST

START_TEST(arith_f16_hand)
{
    /* float16 has 10 fraction bits: 1 + 2^-11 is halfway between 1 and
     * 1 + 2^-10 and rounds to even (1); 1 + 3 * 2^-11 is halfway between
     * 1 + 2^-10 and 1 + 2^-9 and rounds to the even 1 + 2^-9 = 1.001953125;
     * 1 / 3 rounds to 0.333251953125 (numpy: np.float16(1) / np.float16(3)) */
    uint16_t a[3] = {h(1), h(1), h(1)}, b[3] = {h(0x1p-11), h(3 * 0x1p-11), h(3)};
    uint16_t e_add[3] = {h(1), h(1.001953125), h(4)};
    op_case *c = case2("Add", 14, F16, 1, DIMS(3), a, F16, 1, DIMS(3), b);
    expect_plain(c, F16, 1, DIMS(3), e_add, "float16 Add rounding");
    opc_free(c);
    uint16_t e_div[3] = {h(2048), h(1.0 / (3 * 0x1p-11)), h(0.333251953125)};
    c = case2("Div", 14, F16, 1, DIMS(3), a, F16, 1, DIMS(3), b);
    expect_plain(c, F16, 1, DIMS(3), e_div, "float16 Div");
    opc_free(c);
}
END_TEST

/* ==== Pow ===================================================================== */

START_TEST(pow_hand)
{
    /* int32 ^ int32 exactly: 2^10, 3^3, (-2)^3, 5^0, 0^0 = 1 (as numpy);
     * negative exponents truncate 1/x^n toward zero: 1^-5 = 1,
     * (-1)^-3 = -1, 7^-2 = 0 */
    int32_t b32[8] = {2, 3, -2, 5, 0, 1, -1, 7}, e32[8] = {10, 3, 3, 0, 0, -5, -3, -2};
    int32_t r32[8] = {1024, 27, -8, 1, 1, 1, -1, 0};
    op_case *c = case2("Pow", 15, I32, 1, DIMS(8), b32, I32, 1, DIMS(8), e32);
    expect_plain(c, I32, 1, DIMS(8), r32, "int32 Pow");
    opc_free(c);

    /* int64 wraps like repeated multiplication: 2^63 = INT64_MIN, 2^64 = 0,
     * 3^41 mod 2^64 read as signed = -420491770248316829 (Python:
     * (3**41) % 2**64 - 2**64) */
    int64_t b64[3] = {2, 2, 3}, e64[3] = {63, 64, 41};
    int64_t r64[3] = {INT64_MIN, 0, -420491770248316829LL};
    c = case2("Pow", 13, I64, 1, DIMS(3), b64, I64, 1, DIMS(3), e64);
    expect_plain(c, I64, 1, DIMS(3), r64, "int64 Pow wrap");
    opc_free(c);

    /* int64 ^ float32: pow in double, truncated toward zero like numpy's
     * astype: sqrt(2) -> 1, sqrt(9) = 3, 10^-1 -> 0, 7^2.5 = 129.64 -> 129,
     * 10^30 saturates at INT64_MAX */
    int64_t bi[5] = {2, 9, 10, 7, 10};
    float ef[5] = {0.5f, 0.5f, -1, 2.5f, 30};
    int64_t ri[5] = {1, 3, 0, 129, INT64_MAX};
    c = case2("Pow", 12, I64, 1, DIMS(5), bi, F32, 1, DIMS(5), ef);
    expect_plain(c, I64, 1, DIMS(5), ri, "int64 ^ float32");
    opc_free(c);

    /* float32 ^ int64 and ^ uint32: 2^3, (-2)^3, 0.5^-2, 3^0 */
    float bf[4] = {2, -2, 0.5f, 3}, rf[4] = {8, -8, 4, 1};
    int64_t ei[4] = {3, 3, -2, 0};
    c = case2("Pow", 15, F32, 1, DIMS(4), bf, I64, 1, DIMS(4), ei);
    expect_plain(c, F32, 1, DIMS(4), rf, "float32 ^ int64");
    opc_free(c);
    uint32_t eu[4] = {3, 3, 2, 0};
    float rfu[4] = {8, -8, 0.25f, 1};
    c = case2("Pow", 15, F32, 1, DIMS(4), bf, U32, 1, DIMS(4), eu);
    expect_plain(c, F32, 1, DIMS(4), rfu, "float32 ^ uint32");
    opc_free(c);

    /* float32 ^ float32 with C pow's special values: 4^0.5 = 2, 3^2 = 9
     * (the x * x path), (-8)^0.5 = NaN, 0^-1 = +inf, (-2)^2 = 4, 1^NaN = 1 */
    float bb[6] = {4, 3, -8, 0, -2, 1}, ee[6] = {0.5f, 2, 0.5f, -1, 2, NAN};
    float rr[6] = {2, 9, NAN, INFINITY, 4, 1};
    c = case2("Pow", 7, F32, 1, DIMS(6), bb, F32, 1, DIMS(6), ee);
    expect_plain(c, F32, 1, DIMS(6), rr, "float32 ^ float32");
    opc_free(c);

    /* float16 ^ float16: 2^10 = 1024 and 1.5^2 = 2.25, both exact in f16;
     * float64 ^ uint8: 1.5^2 = 2.25, (-2)^3 = -8 */
    uint16_t hb[2] = {h(2), h(1.5)}, he[2] = {h(10), h(2)}, hr[2] = {h(1024), h(2.25)};
    c = case2("Pow", 13, F16, 1, DIMS(2), hb, F16, 1, DIMS(2), he);
    expect_plain(c, F16, 1, DIMS(2), hr, "float16 ^ float16");
    opc_free(c);
    double db[2] = {1.5, -2}, dr[2] = {2.25, -8};
    uint8_t de[2] = {2, 3};
    c = case2("Pow", 15, F64, 1, DIMS(2), db, U8, 1, DIMS(2), de);
    expect_plain(c, F64, 1, DIMS(2), dr, "float64 ^ uint8");
    opc_free(c);

    /* Pow-1 legacy broadcast: B (3) lines up with A's trailing dim:
     * [[1,2,3],[4,5,6]] ^ [2,1,0] = [[1,2,1],[16,5,1]] */
    float la[6] = {1, 2, 3, 4, 5, 6}, lb[3] = {2, 1, 0}, lr[6] = {1, 2, 1, 16, 5, 1};
    c = case2("Pow", 1, F32, 2, DIMS(2, 3), la, F32, 1, DIMS(3), lb);
    opc_attr_int(c, "broadcast", 1);
    expect_plain(c, F32, 2, DIMS(2, 3), lr, "Pow-1 legacy broadcast");
    opc_free(c);
}
END_TEST

/* ==== Mod ===================================================================== */

START_TEST(mod_hand)
{
    /* ONNX's mixed-sign example. fmod=0 (Python %, sign of the divisor):
     * -4 % 2 = 0, 7 % -3 = -2 (7 = -3*-3 - 2), 5 % 8 = 5, 4 % -2 = 0,
     * -7 % 3 = 2 (-7 = 3*-3 + 2), 8 % 5 = 3. fmod=1 (C, sign of the
     * dividend): 0, 1, 5, 0, -1, 3 */
    int32_t x[6] = {-4, 7, 5, 4, -7, 8}, y[6] = {2, -3, 8, -2, 3, 5};
    int32_t e_py[6] = {0, -2, 5, 0, 2, 3}, e_c[6] = {0, 1, 5, 0, -1, 3};
    op_case *c = case2("Mod", 13, I32, 1, DIMS(6), x, I32, 1, DIMS(6), y);
    expect_plain(c, I32, 1, DIMS(6), e_py, "int32 Mod fmod=0");
    opc_free(c);
    c = case2("Mod", 10, I32, 1, DIMS(6), x, I32, 1, DIMS(6), y);
    opc_attr_int(c, "fmod", 1);
    expect_plain(c, I32, 1, DIMS(6), e_c, "int32 Mod fmod=1");
    opc_free(c);

    /* int8 edges: -128 % 3 is 1 in Python (-128 = 3*-43 + 1) and -2 in C;
     * -128 % -1 (trap-prone in C) and x % 0 are 0 */
    int8_t x8[3] = {-128, -128, 9}, y8[3] = {3, -1, 0};
    int8_t e8_py[3] = {1, 0, 0}, e8_c[3] = {-2, 0, 0};
    for (int f = 0; f <= 1; f++) {
        c = case2("Mod", 13, I8, 1, DIMS(3), x8, I8, 1, DIMS(3), y8);
        opc_attr_int(c, "fmod", f);
        expect_plain(c, I8, 1, DIMS(3), f ? e8_c : e8_py, f ? "int8 fmod=1" : "int8 fmod=0");
        opc_free(c);
    }

    /* uint8 with a broadcast divisor: [250, 7] % 7 = [5, 0] */
    uint8_t xu[2] = {250, 7}, yu = 7, eu[2] = {5, 0};
    c = case2("Mod", 13, U8, 1, DIMS(2), xu, U8, 0, NULL, &yu);
    expect_plain(c, U8, 1, DIMS(2), eu, "uint8 Mod broadcast");
    opc_free(c);

    /* float fmod: 5.5 fmod 2 = 1.5, -5.5 fmod 2 = -1.5, 5.5 fmod -2 = 1.5,
     * 1 fmod 0 = NaN */
    float xf[4] = {5.5f, -5.5f, 5.5f, 1}, yf[4] = {2, 2, -2, 0}, ef[4] = {1.5f, -1.5f, 1.5f, NAN};
    c = case2("Mod", 13, F32, 1, DIMS(4), xf, F32, 1, DIMS(4), yf);
    opc_attr_int(c, "fmod", 1);
    expect_plain(c, F32, 1, DIMS(4), ef, "float32 fmod");
    opc_free(c);

    /* float16 (values as stored: -4.3 -> -4.30078125, 2.1 -> 2.099609375,
     * 7.2 -> 7.19921875, -3.4 -> -3.400390625): -4.30078125 + 2 * 2.099609375
     * = -0.1015625; 7.19921875 - 2 * 3.400390625 = 0.3984375 (numpy's
     * np.fmod on float16 agrees) */
    uint16_t xh[2] = {h(-4.3), h(7.2)}, yh[2] = {h(2.1), h(-3.4)};
    uint16_t eh[2] = {h(-0.1015625), h(0.3984375)};
    c = case2("Mod", 13, F16, 1, DIMS(2), xh, F16, 1, DIMS(2), yh);
    opc_attr_int(c, "fmod", 1);
    expect_plain(c, F16, 1, DIMS(2), eh, "float16 fmod");
    opc_free(c);
}
END_TEST

/* ==== Min / Max / Sum / Mean =================================================== */

START_TEST(minmax_hand)
{
    /* NaN wins in either position (numpy's maximum/minimum); oneDNN's max
     * would drop a NaN in its first source, so the path must be plain C */
    float a[4] = {1, NAN, 3, -1}, b[4] = {NAN, 2, 2, -1};
    float e_max[4] = {NAN, NAN, 3, -1}, e_min[4] = {NAN, NAN, 2, -1};
    op_case *c = case2("Max", 13, F32, 1, DIMS(4), a, F32, 1, DIMS(4), b);
    expect_plain(c, F32, 1, DIMS(4), e_max, "Max NaN");
    opc_free(c);
    c = case2("Min", 13, F32, 1, DIMS(4), a, F32, 1, DIMS(4), b);
    expect_plain(c, F32, 1, DIMS(4), e_min, "Min NaN");
    opc_free(c);

    /* three inputs, none with the output's shape: a (2,1) = [[1],[5]],
     * b (1,3) = [[0,4,9]], c = 3: Max = [[3,4,9],[5,5,9]], Min = [[0,1,1],[0,3,3]] */
    int32_t ma[2] = {1, 5}, mb[3] = {0, 4, 9}, mc = 3;
    int32_t e3max[6] = {3, 4, 9, 5, 5, 9}, e3min[6] = {0, 1, 1, 0, 3, 3};
    for (int m = 0; m < 2; m++) {
        c = opc_new(m ? "Min" : "Max", 12, 3, 1);
        opc_input(c, 0, I32, 2, DIMS(2, 1), ma, false);
        opc_input(c, 1, I32, 2, DIMS(1, 3), mb, false);
        opc_input(c, 2, I32, 0, NULL, &mc, true);
        expect_plain(c, I32, 2, DIMS(2, 3), m ? e3min : e3max, m ? "Min 3-way" : "Max 3-way");
        opc_free(c);
    }

    /* uint64 above INT64_MAX must compare unsigned; int8 extremes; float16 */
    uint64_t ua[2] = {(1ull << 63) + 5, 1}, ub[2] = {1, UINT64_MAX};
    uint64_t eu_max[2] = {(1ull << 63) + 5, UINT64_MAX}, eu_min[2] = {1, 1};
    c = case2("Max", 13, U64, 1, DIMS(2), ua, U64, 1, DIMS(2), ub);
    expect_plain(c, U64, 1, DIMS(2), eu_max, "uint64 Max");
    opc_free(c);
    c = case2("Min", 13, U64, 1, DIMS(2), ua, U64, 1, DIMS(2), ub);
    expect_plain(c, U64, 1, DIMS(2), eu_min, "uint64 Min");
    opc_free(c);
    int8_t ia[2] = {-128, 127}, ib[2] = {0, -1}, ei[2] = {-128, -1};
    c = case2("Min", 13, I8, 1, DIMS(2), ia, I8, 1, DIMS(2), ib);
    expect_plain(c, I8, 1, DIMS(2), ei, "int8 Min");
    opc_free(c);
    uint16_t ha[3] = {h(3), h(-2), h(0.5)}, hb[3] = {h(1), h(4), h(-0.25)};
    uint16_t eh[3] = {h(3), h(4), h(0.5)};
    c = case2("Max", 13, F16, 1, DIMS(3), ha, F16, 1, DIMS(3), hb);
    expect_plain(c, F16, 1, DIMS(3), eh, "float16 Max");
    opc_free(c);

    /* one input: a copy */
    double one[3] = {1, -2, 3};
    c = opc_new("Max", 8, 1, 1);
    opc_input(c, 0, F64, 1, DIMS(3), one, false);
    expect_plain(c, F64, 1, DIMS(3), one, "Max one input");
    opc_free(c);
}
END_TEST

START_TEST(sum_mean_hand)
{
    /* Sum([3,0,2], [1,3,4], [2,6,6]) = [6,9,12]; Mean = [2,3,4] (ONNX's
     * example); Mean of float64 (2,1) and (3): [[1],[3]] + [10,20,30] over 2
     * = [[5.5,10.5,15.5],[6.5,11.5,16.5]] */
    float a[3] = {3, 0, 2}, b[3] = {1, 3, 4}, c3[3] = {2, 6, 6};
    float e_sum[3] = {6, 9, 12}, e_mean[3] = {2, 3, 4};
    for (int m = 0; m < 2; m++) {
        op_case *c = opc_new(m ? "Mean" : "Sum", 13, 3, 1);
        opc_input(c, 0, F32, 1, DIMS(3), a, false);
        opc_input(c, 1, F32, 1, DIMS(3), b, false);
        opc_input(c, 2, F32, 1, DIMS(3), c3, false);
        uint64_t ran =
            expect_both_exact(c, F32, 1, DIMS(3), m ? e_mean : e_sum, m ? "Mean" : "Sum");
        ck_assert_msg(ran == 2, "%s of 3 inputs: %llu oneDNN steps ran, expected 2",
                      m ? "Mean" : "Sum", (unsigned long long)ran);
        opc_free(c);
    }
    double da[2] = {1, 3}, db[3] = {10, 20, 30};
    double e_dm[6] = {5.5, 10.5, 15.5, 6.5, 11.5, 16.5};
    op_case *c = opc_new("Mean", 8, 2, 1);
    opc_input(c, 0, F64, 2, DIMS(2, 1), da, false);
    opc_input(c, 1, F64, 1, DIMS(3), db, false);
    expect_plain(c, F64, 2, DIMS(2, 3), e_dm, "float64 Mean broadcast");
    opc_free(c);

    /* float16 Sum of one input is a copy */
    uint16_t hx[2] = {h(1.5), h(-3)};
    c = opc_new("Sum", 13, 1, 1);
    opc_input(c, 0, F16, 1, DIMS(2), hx, false);
    expect_plain(c, F16, 1, DIMS(2), hx, "float16 Sum one input");
    opc_free(c);
}
END_TEST

/* Sum/Mean on float32: the oneDNN chain against the reference kernel on
 * random data, and which path ran. */
START_TEST(sum_mean_dnnl_random)
{
    static const struct {
        int n, rank[4];
        int64_t dims[4][4];
        bool expect_dnnl;
        const char *name;
    } cfgs[] = {
        {2, {3, 3}, {{2, 3, 4}, {2, 3, 4}}, true, "2 same shape"},
        {3, {3, 2, 3}, {{2, 3, 4}, {3, 1}, {1, 3, 4}}, true, "3, first full"},
        {4, {1, 4, 0, 2}, {{5}, {2, 3, 4, 5}, {0}, {4, 1}}, true, "4, second full"},
        {2, {2, 2}, {{3, 1}, {1, 4}}, false, "no full input (plain C)"},
        {1, {3}, {{2, 3, 4}}, false, "one input (copy)"},
        {2, {2, 2}, {{0, 3}, {1, 3}}, false, "empty (plain C)"},
    };
    for (int t = 0; t < N_OF(cfgs); t++) {
        for (int m = 0; m < 2; m++) {
            uint64_t seed = 4000 + (uint64_t)t;
            float *data[4] = {0};
            op_case *c = opc_new(m ? "Mean" : "Sum", 13, cfgs[t].n, 1);
            for (int k = 0; k < cfgs[t].n; k++) {
                data[k] = rand_f32(numel_of(cfgs[t].rank[k], cfgs[t].dims[k]), -2, 2, &seed);
                opc_input(c, k, F32, cfgs[t].rank[k], cfgs[t].dims[k], data[k], k == 1);
            }
            char what[128];
            snprintf(what, sizeof what, "%s %s", m ? "Mean" : "Sum", cfgs[t].name);
            ortc_status st = opc_run(c, 1, 1);
            ck_assert_msg(st == ORTC_STATUS_OK, "%s: reference: %s", what, c->err.msg);
            size_t bytes = ortc_tensor_bytes(&c->out[0]);
            int64_t n = ortc_tensor_numel(&c->out[0]);
            float *exp = malloc(bytes ? bytes : 1);
            ck_assert_ptr_nonnull(exp);
            memcpy(exp, c->out[0].data, bytes);
            uint64_t before = ortc_dnnl_exec_count();
            st = opc_run(c, 0, THREADS);
            ck_assert_msg(st == ORTC_STATUS_OK, "%s: oneDNN: %s", what, c->err.msg);
            uint64_t ran = ortc_dnnl_exec_count() - before;
            if (cfgs[t].expect_dnnl)
                ck_assert_msg(ran == (uint64_t)cfgs[t].n - 1,
                              "%s: %llu oneDNN steps ran, expected %d", what,
                              (unsigned long long)ran, cfgs[t].n - 1);
            else
                ck_assert_msg(ran == 0, "%s: expected plain C, but oneDNN ran", what);
            /* Sum: both paths add the same pairs in the same order in float,
             * so they agree exactly. Mean: oneDNN multiplies by 1/n (itself
             * rounded) where the reference divides by n: up to ~1.5 ulp,
             * bounded by 4e-7 relative (a missed or doubled term is >10%) */
            opc_assert_close(c->out[0].data, exp, n, m ? 4e-7 : 0, 0, what);
            free(exp);
            for (int k = 0; k < cfgs[t].n; k++)
                free(data[k]);
            opc_free(c);
        }
    }
}
END_TEST

/* ==== comparisons and logic ==================================================== */

START_TEST(compare_hand)
{
    /* IEEE: every comparison with NaN is false; -0 == +0 */
    float x[5] = {1, 2, NAN, 3, -0.0f}, y[5] = {2, 2, 1, NAN, 0.0f};
    static const struct {
        const char *op;
        int opset;
        uint8_t exp[5];
    } ops[] = {
        {"Equal", 13, {0, 1, 0, 0, 1}},          {"Less", 13, {1, 0, 0, 0, 0}},
        {"Greater", 9, {0, 0, 0, 0, 0}},         {"LessOrEqual", 16, {1, 1, 0, 0, 1}},
        {"GreaterOrEqual", 12, {0, 1, 0, 0, 1}},
    };
    for (int i = 0; i < N_OF(ops); i++) {
        op_case *c = case2(ops[i].op, ops[i].opset, F32, 1, DIMS(5), x, F32, 1, DIMS(5), y);
        expect_plain(c, BOOL, 1, DIMS(5), ops[i].exp, ops[i].op);
        opc_free(c);
    }

    /* int64 broadcast: [[1],[5]] < [0,5,9] = [[0,1,1],[0,0,1]] */
    int64_t la[2] = {1, 5}, lb[3] = {0, 5, 9};
    uint8_t e_lt[6] = {0, 1, 1, 0, 0, 1};
    op_case *c = case2("Less", 13, I64, 2, DIMS(2, 1), la, I64, 1, DIMS(3), lb);
    expect_plain(c, BOOL, 2, DIMS(2, 3), e_lt, "int64 Less broadcast");
    opc_free(c);

    /* uint32 4e9 > 1 (a signed compare would say no); float16 <= */
    uint32_t ga = 4000000000u, gb = 1;
    uint8_t yes = 1;
    c = case2("Greater", 13, U32, 0, NULL, &ga, U32, 0, NULL, &gb);
    expect_plain(c, BOOL, 0, NULL, &yes, "uint32 Greater");
    opc_free(c);
    uint16_t ha[3] = {h(1), h(2), h(-1)}, hb[3] = {h(1), h(1.5), h(0)};
    uint8_t e_le[3] = {1, 0, 1};
    c = case2("LessOrEqual", 16, F16, 1, DIMS(3), ha, F16, 1, DIMS(3), hb);
    expect_plain(c, BOOL, 1, DIMS(3), e_le, "float16 LessOrEqual");
    opc_free(c);

    /* bool Equal: truth table */
    uint8_t ba[4] = {0, 1, 0, 1}, bb[4] = {0, 0, 1, 1}, e_eq[4] = {1, 0, 0, 1};
    c = case2("Equal", 11, BOOL, 1, DIMS(4), ba, BOOL, 1, DIMS(4), bb);
    expect_plain(c, BOOL, 1, DIMS(4), e_eq, "bool Equal");
    opc_free(c);

    /* Equal-1 legacy broadcast at axis 0: [[1,2,3],[4,5,6]] == [[1],[5]] */
    int32_t qa[6] = {1, 2, 3, 4, 5, 6}, qb[2] = {1, 5};
    uint8_t e_q[6] = {1, 0, 0, 0, 1, 0};
    c = case2("Equal", 1, I32, 2, DIMS(2, 3), qa, I32, 1, DIMS(2), qb);
    opc_attr_int(c, "broadcast", 1);
    opc_attr_int(c, "axis", 0);
    expect_plain(c, BOOL, 2, DIMS(2, 3), e_q, "Equal-1 legacy axis 0");
    opc_free(c);
}
END_TEST

START_TEST(logic_hand)
{
    /* truth tables, B broadcast from (1,2) over (2,2):
     * x = [[0,0],[1,1]], y = [0,1] */
    uint8_t x[4] = {0, 0, 1, 1}, y[2] = {0, 1};
    static const struct {
        const char *op;
        uint8_t exp[4];
    } ops[] = {{"And", {0, 0, 0, 1}}, {"Or", {0, 1, 1, 1}}, {"Xor", {0, 1, 1, 0}}};
    for (int i = 0; i < N_OF(ops); i++) {
        op_case *c = case2(ops[i].op, 7, BOOL, 2, DIMS(2, 2), x, BOOL, 2, DIMS(1, 2), y);
        expect_plain(c, BOOL, 2, DIMS(2, 2), ops[i].exp, ops[i].op);
        opc_free(c);
    }
    uint8_t e_not[4] = {1, 1, 0, 0};
    op_case *c = opc_new("Not", 1, 1, 1);
    opc_input(c, 0, BOOL, 2, DIMS(2, 2), x, false);
    expect_plain(c, BOOL, 2, DIMS(2, 2), e_not, "Not");
    opc_free(c);
}
END_TEST

START_TEST(where_hand)
{
    /* cond (2,1) = [[1],[0]], x (1,3) = [[1,2,3]], y scalar 9:
     * [[1,2,3],[9,9,9]] for several element sizes */
    uint8_t cond[2] = {1, 0};
    double xd[3] = {1, 2, 3}, yd = 9, ed[6] = {1, 2, 3, 9, 9, 9};
    int8_t x8[3] = {1, 2, 3}, y8 = 9, e8[6] = {1, 2, 3, 9, 9, 9};
    uint16_t x16[3] = {1, 2, 3}, y16 = 9, e16[6] = {1, 2, 3, 9, 9, 9};
    int64_t x64[3] = {1, 2, 3}, y64 = 9, e64[6] = {1, 2, 3, 9, 9, 9};
    /* complex128: 16-byte elements, here (re, im) pairs */
    double xc[6] = {1, -1, 2, -2, 3, -3}, yc[2] = {9, -9};
    double ec[12] = {1, -1, 2, -2, 3, -3, 9, -9, 9, -9, 9, -9};
    const struct {
        ortc_dtype dt;
        const void *x, *y, *exp;
        int opset;
    } cases[] = {
        {F64, xd, &yd, ed, 9},
        {I8, x8, &y8, e8, 16},
        {U16, x16, &y16, e16, 16},
        {I64, x64, &y64, e64, 9},
        {ORTC_DTYPE_COMPLEX128, xc, yc, ec, 16},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        op_case *c = opc_new("Where", cases[i].opset, 3, 1);
        opc_input(c, 0, BOOL, 2, DIMS(2, 1), cond, false);
        opc_input(c, 1, cases[i].dt, 2, DIMS(1, 3), cases[i].x, false);
        opc_input(c, 2, cases[i].dt, 0, NULL, cases[i].y, true);
        char what[64];
        snprintf(what, sizeof what, "Where %s", ortc_dtype_name(cases[i].dt));
        if (cases[i].dt == ORTC_DTYPE_COMPLEX128) {
            /* compare as 12 float64 (re, im) values */
            for (int reference = 1; reference >= 0; reference--) {
                ck_assert_msg(opc_run(c, reference, THREADS) == ORTC_STATUS_OK, "%s: %s", what,
                              c->err.msg);
                ck_assert_int_eq(c->out[0].dtype, ORTC_DTYPE_COMPLEX128);
                ck_assert_int_eq(c->out[0].rank, 2);
                ortc_tensor as_f64 = {
                    .dtype = F64, .rank = 1, .dims = {12}, .data = c->out[0].data};
                check_tensor(&as_f64, F64, 1, DIMS(12), cases[i].exp, what);
            }
        } else {
            expect_plain(c, cases[i].dt, 2, DIMS(2, 3), cases[i].exp, what);
        }
        opc_free(c);
    }
}
END_TEST

START_TEST(bitshift_hand)
{
    /* uint8 LEFT: 16<<1, 4<<2, 1<<3, 255<<1 = 510 mod 256 = 254, 1<<8 = 0
     * (the bit width: defined as 0) */
    uint8_t x8[5] = {16, 4, 1, 255, 1}, s8[5] = {1, 2, 3, 1, 8}, e8[5] = {32, 16, 8, 254, 0};
    op_case *c = case2("BitShift", 11, U8, 1, DIMS(5), x8, U8, 1, DIMS(5), s8);
    opc_attr_string(c, "direction", "LEFT");
    expect_plain(c, U8, 1, DIMS(5), e8, "uint8 LEFT");
    opc_free(c);
    /* uint64 RIGHT: 16>>1, 4>>2, 1>>3, 2^63>>63 = 1, x>>64 = 0 */
    uint64_t x64[5] = {16, 4, 1, 1ull << 63, UINT64_MAX}, s64[5] = {1, 2, 3, 63, 64};
    uint64_t e64[5] = {8, 1, 0, 1, 0};
    c = case2("BitShift", 11, U64, 1, DIMS(5), x64, U64, 1, DIMS(5), s64);
    opc_attr_string(c, "direction", "RIGHT");
    expect_plain(c, U64, 1, DIMS(5), e64, "uint64 RIGHT");
    opc_free(c);
    /* uint16 LEFT by a scalar: [1, 0x8001] << 1 = [2, 2] (top bit drops) */
    uint16_t x16[2] = {1, 0x8001}, s16 = 1, e16[2] = {2, 2};
    c = case2("BitShift", 11, U16, 1, DIMS(2), x16, U16, 0, NULL, &s16);
    opc_attr_string(c, "direction", "LEFT");
    expect_plain(c, U16, 1, DIMS(2), e16, "uint16 LEFT scalar");
    opc_free(c);
}
END_TEST

/* ==== the walker against a naive oracle ======================================== */

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* Flat index into an operand of rank r (right-aligned against the output)
 * for output multi-index idx: numpy's rule, one dim at a time. */
static int64_t naive_index(int out_rank, const int64_t *idx, int r, const int64_t *dims)
{
    int64_t off = 0;
    for (int i = 0; i < r; i++) {
        int64_t j = idx[out_rank - r + i];
        off = off * dims[i] + (dims[i] == 1 ? 0 : j);
    }
    return off;
}

/* Random operand shape against out dims: rank <= out rank, each dim the
 * output's or 1. */
static int rand_shape(uint64_t *seed, int out_rank, const int64_t *out, int64_t *dims)
{
    int r = (int)(lcg(seed) % (uint64_t)(out_rank + 1));
    for (int i = 0; i < r; i++)
        dims[i] = lcg(seed) % 3 == 0 ? 1 : out[out_rank - r + i];
    return r;
}

START_TEST(walker_random)
{
    uint64_t seed = 77;
    for (int t = 0; t < 60; t++) {
        int R = (int)(lcg(&seed) % 6); /* 0..5 */
        int64_t out[ORTC_MAX_RANK];
        for (int i = 0; i < R; i++)
            out[i] = 1 + (int64_t)(lcg(&seed) % 4);
        int64_t d[3][ORTC_MAX_RANK];
        int r[3];
        for (int k = 0; k < 3; k++)
            r[k] = rand_shape(&seed, R, out, d[k]);
        /* make the broadcast result exactly `out`: operand 0 is widened to
         * rank R (leading 1s) and takes every dim no operand has */
        int64_t nd[ORTC_MAX_RANK] = {0};
        for (int q = 0; q < R; q++) {
            int j = q - (R - r[0]);
            nd[q] = j >= 0 ? d[0][j] : 1;
            bool have = out[q] == 1;
            for (int k = 0; k < 3; k++) {
                int jk = q - (R - r[k]);
                have |= jk >= 0 && d[k][jk] == out[q];
            }
            if (!have)
                nd[q] = out[q];
        }
        memcpy(d[0], nd, sizeof nd);
        r[0] = R;
        int64_t n = numel_of(R, out);
        int64_t *xs[3];
        for (int k = 0; k < 3; k++) {
            int64_t nk = numel_of(r[k], d[k]);
            xs[k] = malloc((size_t)nk * sizeof(int64_t));
            for (int64_t i = 0; i < nk; i++)
                xs[k][i] = (int64_t)(lcg(&seed) % 1000) - 500 + 1000 * k;
        }
        uint8_t *cond = malloc((size_t)numel_of(r[0], d[0]));
        for (int64_t i = 0; i < numel_of(r[0], d[0]); i++)
            cond[i] = (uint8_t)(lcg(&seed) & 1);
        int64_t *e_add = malloc((size_t)n * sizeof(int64_t));
        int64_t *e_where = malloc((size_t)n * sizeof(int64_t));
        for (int64_t f = 0; f < n; f++) {
            int64_t idx[ORTC_MAX_RANK], rem = f;
            for (int i = R - 1; i >= 0; i--) {
                idx[i] = rem % out[i];
                rem /= out[i];
            }
            int64_t o[3];
            for (int k = 0; k < 3; k++)
                o[k] = naive_index(R, idx, r[k], d[k]);
            e_add[f] = xs[1][o[1]] + xs[2][o[2]];
            e_where[f] = cond[o[0]] ? xs[1][o[1]] : xs[2][o[2]];
        }
        /* Where(cond, x1, x2) on int64 */
        char what[160], s0[64], s1[64], s2[64];
        snprintf(what, sizeof what, "walker %d: %s %s %s", t, ortc_shape_str(s0, 64, r[0], d[0]),
                 ortc_shape_str(s1, 64, r[1], d[1]), ortc_shape_str(s2, 64, r[2], d[2]));
        op_case *c = opc_new("Where", 16, 3, 1);
        opc_input(c, 0, BOOL, r[0], d[0], cond, false);
        opc_input(c, 1, I64, r[1], d[1], xs[1], false);
        opc_input(c, 2, I64, r[2], d[2], xs[2], false);
        expect_plain(c, I64, R, out, e_where, what);
        opc_free(c);
        /* Sum of the three as float64 (exact for these small integers):
         * checks the variadic chain; expected = x0 + x1 + x2 by the naive rule */
        double *f[3];
        for (int k = 0; k < 3; k++) {
            int64_t nk = numel_of(r[k], d[k]);
            f[k] = malloc((size_t)nk * sizeof(double));
            for (int64_t i = 0; i < nk; i++)
                f[k][i] = (double)xs[k][i];
        }
        double *e_sum = malloc((size_t)n * sizeof(double));
        for (int64_t q = 0; q < n; q++) {
            int64_t idx[ORTC_MAX_RANK], rem = q;
            for (int i = R - 1; i >= 0; i--) {
                idx[i] = rem % out[i];
                rem /= out[i];
            }
            e_sum[q] = f[0][naive_index(R, idx, r[0], d[0])] + (double)e_add[q];
        }
        c = opc_new("Sum", 13, 3, 1);
        for (int k = 0; k < 3; k++)
            opc_input(c, k, F64, r[k], d[k], f[k], k == 2);
        expect_plain(c, F64, R, out, e_sum, what);
        opc_free(c);
        for (int k = 0; k < 3; k++) {
            free(xs[k]);
            free(f[k]);
        }
        free(cond);
        free(e_add);
        free(e_where);
        free(e_sum);
    }
}
END_TEST

/* ==== errors and registration ================================================== */

START_TEST(infer_errors)
{
    static uint8_t buf[256];
    op_case *c;

    c = case2("Mod", 13, F32, 1, DIMS(4), buf, F32, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "fmod=1", "float Mod without fmod");
    opc_free(c);

    c = case2("Mod", 13, I32, 1, DIMS(4), buf, I32, 1, DIMS(4), buf);
    opc_attr_int(c, "fmod", 2);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "fmod", "Mod fmod=2");
    opc_free(c);

    c = case2("Pow", 15, U8, 1, DIMS(4), buf, U8, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "uint8", "Pow uint8 base");
    opc_free(c);

    c = case2("Pow", 15, F32, 1, DIMS(4), buf, BOOL, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "bool", "Pow bool exponent");
    opc_free(c);

    c = case2("Add", 14, BOOL, 1, DIMS(4), buf, BOOL, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "bool", "Add bool");
    opc_free(c);

    c = case2("Sum", 13, I32, 1, DIMS(4), buf, I32, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "Sum int32");
    opc_free(c);

    c = case2("Max", 6, F32, 1, DIMS(4), buf, F32, 1, DIMS(1), buf);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "opset 8", "Max-6 different shapes");
    opc_free(c);

    c = opc_new("Max", 13, 3, 1);
    opc_input(c, 0, F32, 1, DIMS(4), buf, false);
    opc_input(c, 1, F32, 1, DIMS(1), buf, false);
    opc_input(c, 2, F32, 2, DIMS(3, 1), buf, false);
    /* [4], [1], [3,1] broadcast together to [3,4]: no error */
    ck_assert_msg(opc_run(c, 1, 1) == ORTC_STATUS_OK, "Max 3-way broadcast: %s", c->err.msg);
    ck_assert_int_eq(c->out[0].rank, 2);
    ck_assert_int_eq(c->out[0].dims[0], 3);
    ck_assert_int_eq(c->out[0].dims[1], 4);
    opc_free(c);

    c = opc_new("Mean", 13, 3, 1);
    opc_input(c, 0, F32, 1, DIMS(4), buf, false);
    opc_input(c, 1, F32, 1, DIMS(1), buf, false);
    opc_input(c, 2, F32, 1, DIMS(3), buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "[4], [1], [3]", "Mean incompatible");
    opc_free(c);

    c = opc_new("Sum", 13, 2, 1);
    opc_input(c, 0, F32, 1, DIMS(4), buf, false);
    opc_input(c, 1, F64, 1, DIMS(4), buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "dtypes", "Sum mixed dtypes");
    opc_free(c);

    c = case2("Less", 13, BOOL, 1, DIMS(4), buf, BOOL, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "bool", "Less on bool");
    opc_free(c);

    c = case2("Equal", 13, I32, 1, DIMS(4), buf, I64, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "dtypes", "Equal mixed dtypes");
    opc_free(c);

    c = case2("Greater", 13, F32, 2, DIMS(2, 3), buf, F32, 1, DIMS(2), buf);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "broadcast", "Greater bad shapes");
    opc_free(c);

    c = case2("And", 7, F32, 1, DIMS(4), buf, F32, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "bool", "And on float");
    opc_free(c);

    c = opc_new("Not", 1, 1, 1);
    opc_input(c, 0, I32, 1, DIMS(4), buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "bool", "Not on int32");
    opc_free(c);

    c = opc_new("Where", 16, 3, 1);
    opc_input(c, 0, I32, 1, DIMS(4), buf, false);
    opc_input(c, 1, F32, 1, DIMS(4), buf, false);
    opc_input(c, 2, F32, 1, DIMS(4), buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "bool", "Where int condition");
    opc_free(c);

    c = opc_new("Where", 16, 3, 1);
    opc_input(c, 0, BOOL, 1, DIMS(4), buf, false);
    opc_input(c, 1, F32, 1, DIMS(4), buf, false);
    opc_input(c, 2, F64, 1, DIMS(4), buf, false);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "dtypes", "Where mixed X/Y");
    opc_free(c);

    c = opc_new("Where", 16, 3, 1);
    opc_input(c, 0, BOOL, 1, DIMS(2), buf, false);
    opc_input(c, 1, ORTC_DTYPE_STRING, 1, DIMS(2), buf, false);
    opc_input(c, 2, ORTC_DTYPE_STRING, 1, DIMS(2), buf, false);
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "string", "Where on strings");
    opc_free(c);

    c = case2("BitShift", 11, U8, 1, DIMS(4), buf, U8, 1, DIMS(4), buf);
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "direction", "BitShift without direction");
    opc_free(c);

    c = case2("BitShift", 11, U8, 1, DIMS(4), buf, U8, 1, DIMS(4), buf);
    opc_attr_string(c, "direction", "UP");
    expect_error(c, ORTC_STATUS_INVALID_MODEL, "UP", "BitShift direction UP");
    opc_free(c);

    c = case2("BitShift", 11, I32, 1, DIMS(4), buf, I32, 1, DIMS(4), buf);
    opc_attr_string(c, "direction", "LEFT");
    expect_error(c, ORTC_STATUS_UNSUPPORTED, "int32", "BitShift int32");
    opc_free(c);
}
END_TEST

/* Every ONNX 1.12 since-version, resolved by the model's opset. */
START_TEST(registry_versions)
{
    static const struct {
        const char *op;
        int opset, want;
        bool dnnl; /* has a separate reference kernel */
    } cases[] = {
        {"Add", 13, 13, true},          {"Div", 17, 14, true},
        {"Pow", 6, 1, false},           {"Pow", 11, 7, false},
        {"Pow", 12, 12, false},         {"Pow", 14, 13, false},
        {"Pow", 17, 15, false},         {"Mod", 12, 10, false},
        {"Mod", 17, 13, false},         {"Sum", 7, 6, true},
        {"Sum", 12, 8, true},           {"Sum", 17, 13, true},
        {"Mean", 5, 1, true},           {"Mean", 13, 13, true},
        {"Min", 11, 8, false},          {"Min", 12, 12, false},
        {"Max", 17, 13, false},         {"Max", 7, 6, false},
        {"Equal", 10, 7, false},        {"Equal", 12, 11, false},
        {"Equal", 17, 13, false},       {"Less", 8, 7, false},
        {"Less", 12, 9, false},         {"Greater", 17, 13, false},
        {"Greater", 6, 1, false},       {"LessOrEqual", 15, 12, false},
        {"LessOrEqual", 16, 16, false}, {"GreaterOrEqual", 17, 16, false},
        {"Not", 17, 1, false},          {"And", 6, 1, false},
        {"And", 17, 7, false},          {"Or", 7, 7, false},
        {"Xor", 13, 7, false},          {"Where", 15, 9, false},
        {"Where", 17, 16, false},       {"BitShift", 17, 11, false},
    };
    for (int i = 0; i < N_OF(cases); i++) {
        const ortc_operator *op = ortc_registry_find("", cases[i].op, cases[i].opset);
        ck_assert_msg(op != NULL, "%s at opset %d not registered", cases[i].op, cases[i].opset);
        ck_assert_msg(ortc_operator_version(op, cases[i].opset) == cases[i].want,
                      "%s at opset %d resolves to %d, not %d", cases[i].op, cases[i].opset,
                      ortc_operator_version(op, cases[i].opset), cases[i].want);
        ck_assert_msg((op->reference != NULL) == cases[i].dnnl,
                      "%s-%d: reference kernel %s, expected %s", cases[i].op,
                      ortc_operator_version(op, cases[i].opset), op->reference ? "set" : "NULL",
                      cases[i].dnnl ? "set" : "NULL");
    }
    /* not in ONNX before these opsets */
    ck_assert_ptr_null(ortc_registry_find("", "Mod", 9));
    ck_assert_ptr_null(ortc_registry_find("", "Where", 8));
    ck_assert_ptr_null(ortc_registry_find("", "BitShift", 10));
    ck_assert_ptr_null(ortc_registry_find("", "LessOrEqual", 11));
}
END_TEST

void ortc_cases_ops_binary(Suite *s)
{
    TCase *tc = tcase_create("binary_arith_pow_mod");
    tcase_add_test(tc, arith_small_ints_hand);
    tcase_add_test(tc, arith_f16_hand);
    tcase_add_test(tc, pow_hand);
    tcase_add_test(tc, mod_hand);
    suite_add_tcase(s, tc);

    tc = tcase_create("binary_variadic");
    tcase_add_test(tc, minmax_hand);
    tcase_add_test(tc, sum_mean_hand);
    tcase_add_test(tc, sum_mean_dnnl_random);
    suite_add_tcase(s, tc);

    tc = tcase_create("binary_logic");
    tcase_add_test(tc, compare_hand);
    tcase_add_test(tc, logic_hand);
    tcase_add_test(tc, where_hand);
    tcase_add_test(tc, bitshift_hand);
    suite_add_tcase(s, tc);

    tc = tcase_create("binary_walker_errors");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, walker_random);
    tcase_add_test(tc, infer_errors);
    tcase_add_test(tc, registry_versions);
    suite_add_tcase(s, tc);
}
