/* cases_dnnl_serial.c — which oneDNN steps run on the calling thread alone
 * (ortc_dnnl_pd_runs_serial, dnnl_util.c): element-wise kinds below the
 * output size bound do, larger ones and the kinds whose work does not follow
 * from their output (convolution, matmul) do not.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include <oneapi/dnnl/dnnl.h>

#include "cases.h"
#include "dnnl_util.h"

/* the bound in dnnl_util.c, restated: a test of the rule, not a copy of it */
#define BOUND_FLOATS (32 * 1024 / 4)

static dnnl_engine_t engine(void)
{
    dnnl_engine_t eng;
    ck_assert_int_eq(dnnl_engine_create(&eng, dnnl_cpu, 0), dnnl_success);
    return eng;
}

/* ortc_dnnl_pd_runs_serial on the primitive of an op descriptor */
static bool pd_serial(dnnl_engine_t eng, const void *op_desc)
{
    dnnl_primitive_desc_t pd;
    ck_assert_int_eq(dnnl_primitive_desc_create(&pd, op_desc, NULL, eng, NULL), dnnl_success);
    bool serial = ortc_dnnl_pd_runs_serial(pd);
    dnnl_primitive_desc_destroy(pd);
    return serial;
}

static bool relu_serial(dnnl_engine_t eng, int64_t n)
{
    dnnl_memory_desc_t md;
    dnnl_dims_t d = {1, n};
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&md, 2, d, dnnl_f32, dnnl_ab), dnnl_success);
    dnnl_eltwise_desc_t ed;
    ck_assert_int_eq(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, dnnl_eltwise_relu,
                                                    &md, 0.f, 0.f),
                     dnnl_success);
    return pd_serial(eng, &ed);
}

static bool binary_serial(dnnl_engine_t eng, int64_t n)
{
    dnnl_memory_desc_t md;
    dnnl_dims_t d = {1, n};
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&md, 2, d, dnnl_f32, dnnl_ab), dnnl_success);
    dnnl_binary_desc_t bd;
    ck_assert_int_eq(dnnl_binary_desc_init(&bd, dnnl_binary_add, &md, &md, &md), dnnl_success);
    return pd_serial(eng, &bd);
}

/* a [1,k] x [k,1] matmul: one output element, k multiply-adds */
static bool matmul_serial(dnnl_engine_t eng, int64_t k)
{
    dnnl_memory_desc_t a, b, c;
    dnnl_dims_t da = {1, k}, db = {k, 1}, dc = {1, 1};
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&a, 2, da, dnnl_f32, dnnl_ab), dnnl_success);
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&b, 2, db, dnnl_f32, dnnl_ab), dnnl_success);
    ck_assert_int_eq(dnnl_memory_desc_init_by_tag(&c, 2, dc, dnnl_f32, dnnl_ab), dnnl_success);
    dnnl_matmul_desc_t md;
    ck_assert_int_eq(dnnl_matmul_desc_init(&md, &a, &b, NULL, &c), dnnl_success);
    return pd_serial(eng, &md);
}

START_TEST(serial_small_elementwise_only)
{
    dnnl_engine_t eng = engine();
    ck_assert(relu_serial(eng, 1));
    ck_assert(relu_serial(eng, BOUND_FLOATS - 1));
    ck_assert(!relu_serial(eng, BOUND_FLOATS));
    ck_assert(!relu_serial(eng, 1 << 20));
    ck_assert(binary_serial(eng, 64));
    ck_assert(!binary_serial(eng, 1 << 16));
    /* a tiny output says nothing of a matmul's work */
    ck_assert(!matmul_serial(eng, 1));
    ck_assert(!matmul_serial(eng, 1 << 16));
    dnnl_engine_destroy(eng);
}
END_TEST

void ortc_cases_dnnl_serial(Suite *s)
{
    TCase *tc = tcase_create("dnnl_serial");
    tcase_add_test(tc, serial_small_elementwise_only);
    suite_add_tcase(s, tc);
}
