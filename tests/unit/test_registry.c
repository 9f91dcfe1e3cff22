/* test_registry.c — the operator registry's Check runner: the registered
 * rows obey ortc_registry_validate's rules; each rule fires on a row built
 * to break it (a check that cannot fail would prove nothing); versions
 * resolve as ONNX defines them; ortc_op_prepare applies declared aliasing
 * and refuses undeclared aliasing; the public listing (ortc_operator_count/
 * get) mirrors the rows. Which ONNX versions exist is checked against ONNX
 * itself by tests/conformance/check_registry.py.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_common.h"
#include "error.h"
#include "ir.h"
#include "operator.h"
#include "ortc/ortc.h"

/* ---- collecting problems ------------------------------------------------ */

typedef struct problems {
    char text[8192];
    size_t n;
} problems;

static void collect(void *user, const char *message)
{
    problems *p = user;
    ortc_strbuf_append(p->text, sizeof p->text, "  %s\n", message);
    p->n++;
}

/* Problems found in rows[0..n). */
static size_t validate(const ortc_operator *rows, size_t n, problems *p)
{
    const ortc_operator *ptrs[16];
    ck_assert_uint_le(n, 16);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &rows[i];
    memset(p, 0, sizeof *p);
    size_t count = ortc_registry_validate(ptrs, n, collect, p);
    ck_assert_uint_eq(count, p->n);
    return count;
}

/* ---- a well-formed row to break ------------------------------------------ */

/* every callback of the fake rows (never called: rows are only checked) */
static ortc_status fake_ok(ortc_opctx *c)
{
    (void)c;
    return ORTC_STATUS_OK;
}

static const ortc_operator good_c =
    ORTC_OP("Fake", 1, 13, .versions = {1, 6, 13}, .dtypes = ORTC_DTYPES_FLOAT, .infer = fake_ok,
            .run = fake_ok);
static const ortc_operator good_dnnl =
    ORTC_OP("FakeDnnl", 7, 7, .backend = ORTC_BACKEND_ONEDNN, .dtypes = ORTC_DT(FLOAT),
            .flags = ORTC_OP_ACCEPTS_BLOCKED | ORTC_OP_POST_OPS | ORTC_OP_MAY_INPLACE,
            .infer = fake_ok, .prepare = fake_ok, .run = fake_ok, .reference = fake_ok);

/* ---- the registered rows -------------------------------------------------- */

START_TEST(test_registry_is_consistent)
{
    size_t n = ortc_registry_count();
    ck_assert_uint_gt(n, 100);
    const ortc_operator **rows = calloc(n, sizeof *rows);
    ck_assert_ptr_nonnull(rows);
    for (size_t i = 0; i < n; i++) {
        rows[i] = ortc_registry_at(i);
        ck_assert_ptr_nonnull(rows[i]);
    }
    ck_assert_ptr_null(ortc_registry_at(n));
    problems p;
    memset(&p, 0, sizeof p);
    size_t count = ortc_registry_validate(rows, n, collect, &p);
    free(rows);
    ck_assert_msg(count == 0, "%zu registry problems:\n%s", count, p.text);
}
END_TEST

START_TEST(test_good_rows_pass)
{
    problems p;
    const ortc_operator rows[] = {good_c, good_dnnl};
    ck_assert_msg(validate(rows, 2, &p) == 0, "%s", p.text);
}
END_TEST

/* Each rule, broken once: exactly one problem, whose message names it. */
static void expect_one(const ortc_operator *rows, size_t n, const char *needle)
{
    problems p;
    size_t count = validate(rows, n, &p);
    ck_assert_msg(count == 1 && strstr(p.text, needle), "want one problem with '%s'; got %zu:\n%s",
                  needle, count, p.text);
}

START_TEST(test_overlapping_ranges_fail)
{
    ortc_operator a = good_c, b = good_c;
    b.since = b.until = 13; /* a covers 1..13 */
    memset(b.versions, 0, sizeof b.versions);
    const ortc_operator rows[] = {a, b};
    expect_one(rows, 2, "overlaps 13-13");
    /* adjacent ranges are fine, and so is the same range in another domain */
    b.since = b.until = 14;
    const ortc_operator ok[] = {a, b};
    problems p;
    ck_assert_msg(validate(ok, 2, &p) == 0, "%s", p.text);
    ortc_operator other = good_c;
    other.domain = "com.example";
    const ortc_operator ok2[] = {a, other};
    ck_assert_msg(validate(ok2, 2, &p) == 0, "%s", p.text);
}
END_TEST

START_TEST(test_version_list_rules)
{
    ortc_operator r = good_c;
    r.until = 12; /* list ends at 13 */
    expect_one(&r, 1, "not since..until");
    r = good_c;
    memset(r.versions, 0, sizeof r.versions);
    expect_one(&r, 1, "does not list them");
    r = good_c;
    r.versions[1] = 13;
    r.versions[2] = 6;
    r.versions[3] = 13;
    expect_one(&r, 1, "not strictly ascending");
    r = good_c;
    r.since = 14;
    r.versions[0] = 14;
    problems p;
    ck_assert_uint_ge(validate(&r, 1, &p), 1);
    ck_assert_msg(strstr(p.text, "1 <= since <= until"), "%s", p.text);
    r = good_c;
    r.domain = "ai.onnx";
    expect_one(&r, 1, "spelled \"ai.onnx\"");
}
END_TEST

START_TEST(test_backend_rules)
{
    ortc_operator r = good_dnnl;
    r.reference = NULL;
    expect_one(&r, 1, "has no reference kernel");
    r = good_c;
    r.reference = fake_ok;
    expect_one(&r, 1, "separate reference kernel");
    r = good_c;
    r.run = NULL;
    expect_one(&r, 1, "infer (or compile) and run are required");
    r = good_c;
    r.dtypes = 0;
    expect_one(&r, 1, "declares no dtypes");
}
END_TEST

START_TEST(test_flag_rules)
{
    ortc_operator r = good_c;
    r.flags = ORTC_OP_POST_OPS | ORTC_OP_MAY_INPLACE;
    r.prepare = fake_ok;
    expect_one(&r, 1, "post-ops but is not oneDNN-backed");
    r = good_c;
    r.flags = ORTC_OP_ACCEPTS_BLOCKED;
    expect_one(&r, 1, "blocked layouts without a oneDNN prepare");
    r = good_dnnl;
    r.flags &= ~ORTC_OP_MAY_INPLACE;
    expect_one(&r, 1, "sum runs in place");
    r = good_c;
    r.flags = ORTC_OP_SHAPE_ONLY;
    r.prepare = fake_ok;
    expect_one(&r, 1, "shape-only but has a prepare");
    r = good_c;
    r.flags = ORTC_OP_SHAPE_ONLY;
    r.data_inputs = 1u << 1;
    expect_one(&r, 1, "shape-only but needs input contents");
    r = good_c;
    r.flags = ORTC_OP_SHAPE_ONLY | ORTC_OP_VIEW;
    expect_one(&r, 1, "shape-only but aliases");
    r = good_c;
    r.flags = ORTC_OP_MAY_VIEW;
    expect_one(&r, 1, "no prepare to decide");
    r = good_dnnl;
    r.flags |= ORTC_OP_VIEW;
    problems p;
    ck_assert_uint_ge(validate(&r, 1, &p), 1);
    ck_assert_msg(strstr(p.text, "view but accepts blocked"), "%s", p.text);
    r = good_c;
    r.compile = fake_ok;
    expect_one(&r, 1, "compile and infer are both set");
    r = good_c;
    r.infer = NULL;
    expect_one(&r, 1, "infer (or compile) and run are required");
}
END_TEST

/* ---- versions ---------------------------------------------------------------- */

START_TEST(test_versions_resolve)
{
    /* Add: ONNX versions 1, 6, 7, 13, 14 in one row */
    static const struct {
        int opset, want;
    } add[] = {{1, 1}, {5, 1}, {6, 6}, {7, 7}, {12, 7}, {13, 13}, {14, 14}, {17, 14}};
    for (size_t i = 0; i < sizeof add / sizeof *add; i++) {
        const ortc_operator *op = ortc_registry_find("", "Add", add[i].opset);
        ck_assert_ptr_nonnull(op);
        ck_assert_int_eq(ortc_operator_version(op, add[i].opset), add[i].want);
    }
    ck_assert_ptr_null(ortc_registry_find("", "Add", 0));
    /* the domain's spellings */
    ck_assert_ptr_eq(ortc_registry_find("ai.onnx", "Add", 13), ortc_registry_find("", "Add", 13));
    ck_assert_ptr_eq(ortc_registry_find(NULL, "Add", 13), ortc_registry_find("", "Add", 13));
    ck_assert(ortc_registry_knows("ai.onnx", "Relu"));
    ck_assert(!ortc_registry_knows("", "NoSuchOp"));
    ck_assert(!ortc_registry_knows("com.example", "Relu"));
    /* rows split where facts change: ReduceSum-13 reads its axes from input 1 */
    const ortc_operator *r11 = ortc_registry_find("", "ReduceSum", 12);
    const ortc_operator *r13 = ortc_registry_find("", "ReduceSum", 13);
    ck_assert_ptr_ne(r11, r13);
    ck_assert_int_eq(ortc_operator_version(r11, 12), 11);
    ck_assert_uint_eq(r11->data_inputs, 0);
    ck_assert_uint_eq(r13->data_inputs, 1u << 1);

    /* a node's version, with and without an operator */
    ortc_node n = {.name = "n", .op_type = "Add", .domain = "", .opset = 12};
    ck_assert_int_eq(ortc_node_version(&n), 12);
    n.op = ortc_registry_find("", "Add", 12);
    ck_assert_int_eq(ortc_node_version(&n), 7);
    ortc_opctx c = {.node = &n};
    ck_assert_int_eq(ortc_op_version(&c), 7);
}
END_TEST

/* ---- ortc_op_prepare ----------------------------------------------------------- */

static ortc_status prepare_inplace(ortc_opctx *c)
{
    c->inplace[0] = 0;
    return ORTC_STATUS_OK;
}

START_TEST(test_prepare_applies_declared_aliasing)
{
    ortc_errbuf err = {0};
    ortc_node n = {.name = "n", .op_type = "Fake", .domain = "", .opset = 13};
    ortc_tensor x = {ORTC_DTYPE_FLOAT, 1, {4}, NULL}, y = x;
    ortc_tensor *in[1] = {&x}, *out[1] = {&y};
    int inplace[1] = {-1}, view[1] = {-1};
    ortc_opctx c = {.node = &n,
                    .n_in = 1,
                    .n_out = 1,
                    .in = in,
                    .out = out,
                    .inplace = inplace,
                    .view = view,
                    .err = &err};

    ortc_operator op = good_c;
    op.flags = ORTC_OP_VIEW;
    n.op = &op;
    ck_assert_int_eq(ortc_op_prepare(&op, &c), ORTC_STATUS_OK);
    ck_assert_int_eq(view[0], 0);
    ck_assert_int_eq(inplace[0], -1);

    view[0] = -1;
    op.flags = ORTC_OP_INPLACE;
    ck_assert_int_eq(ortc_op_prepare(&op, &c), ORTC_STATUS_OK);
    ck_assert_int_eq(view[0], -1);
    ck_assert_int_eq(inplace[0], 0);

    /* prepare declaring what the row does not allow is refused */
    inplace[0] = -1;
    op.flags = 0;
    op.prepare = prepare_inplace;
    ck_assert_int_eq(ortc_op_prepare(&op, &c), ORTC_STATUS_RUNTIME_ERROR);
    ck_assert_msg(strstr(err.msg, "node 'n'") && strstr(err.msg, "does not declare"), "%s",
                  err.msg);
    inplace[0] = -1;
    op.flags = ORTC_OP_MAY_INPLACE;
    ck_assert_int_eq(ortc_op_prepare(&op, &c), ORTC_STATUS_OK);
    ck_assert_int_eq(inplace[0], 0);
}
END_TEST

/* ---- the public listing ------------------------------------------------------------ */

START_TEST(test_public_listing)
{
    size_t n = ortc_operator_count();
    ck_assert_uint_eq(n, ortc_registry_count());
    bool saw_conv = false, saw_reshape = false;
    for (size_t i = 0; i < n; i++) {
        ortc_operator_info info;
        ck_assert_int_eq(ortc_operator_get(i, &info), ORTC_STATUS_OK);
        const ortc_operator *op = ortc_registry_at(i);
        ck_assert_str_eq(info.op_type, op->op_type);
        ck_assert_int_eq(info.since_version, op->since);
        ck_assert_int_eq(info.until_version, op->until);
        ck_assert_int_ge(info.n_versions, 1);
        ck_assert_int_eq(info.versions[0], op->since);
        ck_assert_int_eq(info.versions[info.n_versions - 1], op->until);
        ck_assert_uint_eq(info.dtypes, op->dtypes);
        ck_assert_int_eq(info.onednn, op->backend == ORTC_BACKEND_ONEDNN);
        if (!strcmp(info.op_type, "Conv")) {
            saw_conv = true;
            ck_assert(info.onednn && info.fusable && info.accepts_blocked && info.flops);
            ck_assert_int_eq(info.inplace, 2);
            ck_assert_str_eq(info.domain, "");
        }
        if (!strcmp(info.op_type, "Reshape") && info.since_version == 5) {
            saw_reshape = true;
            ck_assert_int_eq(info.view, 1);
            ck_assert(!info.onednn && !info.flops);
            ck_assert_uint_eq(info.data_inputs, 1u << 1);
            ck_assert_int_eq(info.n_versions, 3);
            ck_assert_int_eq(info.versions[1], 13);
        }
    }
    ck_assert(saw_conv && saw_reshape);
    ortc_operator_info info;
    ck_assert_int_eq(ortc_operator_get(n, &info), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(ortc_last_error(), "out of range"), "%s", ortc_last_error());
    ck_assert_int_eq(ortc_operator_get(0, NULL), ORTC_STATUS_INVALID_ARGUMENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry");
    TCase *t = tcase_create("registry");
    tcase_add_test(t, test_registry_is_consistent);
    tcase_add_test(t, test_good_rows_pass);
    tcase_add_test(t, test_overlapping_ranges_fail);
    tcase_add_test(t, test_version_list_rules);
    tcase_add_test(t, test_backend_rules);
    tcase_add_test(t, test_flag_rules);
    tcase_add_test(t, test_versions_resolve);
    tcase_add_test(t, test_prepare_applies_declared_aliasing);
    tcase_add_test(t, test_public_listing);
    suite_add_tcase(s, t);
    return run_suite(s);
}
