/* test_bench.c — Check runner for the profiling API behind `ortc bench`
 * (ortc_session_set_profiling / ortc_session_profile): one entry per step
 * in execution order with the step's shapes, FLOPs derived by hand for Conv
 * (grouped too), ConvTranspose, Gemm and MatMul, timings that nest inside
 * the run, nothing reported when off, an If as one entry, and profiled runs
 * that allocate nothing. Timings are checked for consistency, never speed.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc_count.h"
#include "helper_common.h"
#include "ir.h"
#include "ortc/ortc.h"

/* ---- graph building -------------------------------------------------------------- */

/* A constant of the given shape with small deterministic values. */
static void add_weight(ortc_graph *g, const char *name, int rank, const int64_t *dims)
{
    ortc_const_tensor *t = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, rank, dims);
    ck_assert_ptr_nonnull(t);
    int64_t n = ortc_tensor_numel(&t->t);
    for (int64_t i = 0; i < n; i++)
        ((float *)t->t.data)[i] = (float)((i * 7) % 11 - 5) * 0.01f;
    ortc_value_set_constant(ortc_graph_get_value(g, name), t);
}

/* x: (batch, 3, 8, 8)
 *   conv1  Conv 3->4, 3x3, pad 1         -> (N, 4, 8, 8)
 *   relu   Relu
 *   conv2  Conv 4->4, 3x3, pad 1, group 2 (W: 4, 2, 3, 3)
 *   up     ConvTranspose 4->2, 2x2, stride 2 (W: 4, 2, 2, 2) -> (N, 2, 16, 16)
 *   flat   Flatten                       -> (N, 512)
 *   fc     Gemm transB=1 (B: 5, 512)      -> (N, 5)
 *   mm     MatMul (5, 3)                  -> (N, 3) = y */
static ortc_model *flops_model(void)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    ortc_value *x = ortc_graph_get_value(g, "x");
    int64_t xd[4] = {-1, 3, 8, 8};
    ortc_value_set_shape(x, ORTC_DTYPE_FLOAT, 4, xd);
    x->dims[0].param = strdup("batch");
    x->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(g, x), 0);
    add_weight(g, "w1", 4, (const int64_t[]){4, 3, 3, 3});
    add_weight(g, "b1", 1, (const int64_t[]){4});
    add_weight(g, "w2", 4, (const int64_t[]){4, 2, 3, 3});
    add_weight(g, "wt", 4, (const int64_t[]){4, 2, 2, 2});
    add_weight(g, "fcw", 2, (const int64_t[]){5, 512});
    add_weight(g, "mmw", 2, (const int64_t[]){5, 3});
    const int64_t k3[2] = {3, 3}, k2[2] = {2, 2}, pad1[4] = {1, 1, 1, 1}, s2[2] = {2, 2};
    ortc_node *n = add_node(g, "Conv", "conv1", "x,w1,b1", "c1");
    node_attr_ints(n, "kernel_shape", k3, 2);
    node_attr_ints(n, "pads", pad1, 4);
    add_node(g, "Relu", "relu", "c1", "r1");
    n = add_node(g, "Conv", "conv2", "r1,w2", "c2");
    node_attr_ints(n, "kernel_shape", k3, 2);
    node_attr_ints(n, "pads", pad1, 4);
    node_attr_int(n, "group", 2);
    n = add_node(g, "ConvTranspose", "up", "c2,wt", "u");
    node_attr_ints(n, "kernel_shape", k2, 2);
    node_attr_ints(n, "strides", s2, 2);
    add_node(g, "Flatten", "flat", "u", "f");
    n = add_node(g, "Gemm", "fc", "f,fcw", "h");
    node_attr_int(n, "transB", 1);
    add_node(g, "MatMul", "mm", "h,mmw", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

static ortc_session *new_session(ortc_model *m, int threads)
{
    ortc_options o;
    ortc_options_init(&o);
    o.threads = threads;
    o.optimize = 0; /* the steps are the file's nodes: no fusion renames or removes them */
    return session_ok(m, &o);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

typedef struct want_step {
    const char *name, *op;
    double flops_per_item; /* 2 * MACs per batch item, derived by hand */
    int64_t out_dims[4];   /* per item (dim 0 = batch is prepended) */
    int out_rank;
} want_step;

/* MACs per item:
 *   conv1: 4*8*8 outputs x (3 in-channels x 3x3) = 256 x 27 = 6912
 *   conv2: 4*8*8 outputs x (4/2 in-channels x 3x3) = 256 x 18 = 4608
 *   up:    4*8*8 inputs scatter into (2 out-channels x 2x2) = 256 x 8 = 2048
 *   fc:    5 outputs x 512 = 2560;  mm: 3 outputs x 5 = 15 */
static const want_step flops_steps[] = {
    {"conv1", "Conv", 2 * 6912.0, {4, 8, 8}, 3},
    {"relu", "Relu", 0, {4, 8, 8}, 3},
    {"conv2", "Conv", 2 * 4608.0, {4, 8, 8}, 3},
    {"up", "ConvTranspose", 2 * 2048.0, {2, 16, 16}, 3},
    {"flat", "Flatten", 0, {512}, 1},
    {"fc", "Gemm", 2 * 2560.0, {5}, 1},
    {"mm", "MatMul", 2 * 15.0, {3}, 1},
};
#define N_FLOPS_STEPS (int)(sizeof flops_steps / sizeof *flops_steps)

static void run_flops_model(ortc_session *s, int batch, float *x, float *y)
{
    for (int i = 0; i < batch * 3 * 64; i++)
        x[i] = (float)(i % 13) * 0.1f - 0.6f;
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {batch, 3, 8, 8}, x};
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 2, {batch, 3}, y};
    ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s", ortc_last_error());
}

/* The entries of a profiled run at `batch` against flops_steps. */
static void check_flops_profile(ortc_session *s, int batch, double wall_ms)
{
    ortc_profile_entry e[16];
    size_t n = ortc_session_profile(s, e, 16);
    ortc_plan_stats ps;
    ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
    ck_assert_uint_eq(n, ps.n_steps);
    ck_assert_int_eq((int)n, N_FLOPS_STEPS);
    double end_prev = 0;
    for (int i = 0; i < N_FLOPS_STEPS; i++) {
        const want_step *w = &flops_steps[i];
        ck_assert_str_eq(e[i].node_name, w->name);
        ck_assert_str_eq(e[i].op_type, w->op);
        double want = w->flops_per_item * batch;
        ck_assert_msg(e[i].flops == want, "batch %d step %d '%s' (%s): flops %.0f, want %.0f",
                      batch, i, w->name, w->op, e[i].flops, want);
        /* the step's shapes: its output as inferred, input 0 the previous output */
        ck_assert_int_ge(e[i].n_outputs, 1);
        const ortc_tensor *o = e[i].outputs[0];
        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(o->rank, w->out_rank + 1);
        ck_assert_int_eq(o->dims[0], batch);
        for (int d = 0; d < w->out_rank; d++)
            ck_assert_msg(o->dims[d + 1] == w->out_dims[d], "step '%s' output dim %d: %lld",
                          w->name, d + 1, (long long)o->dims[d + 1]);
        if (i > 0) {
            const ortc_tensor *prev = e[i - 1].outputs[0];
            ck_assert_ptr_nonnull(e[i].inputs[0]);
            ck_assert_int_eq(e[i].inputs[0]->rank, prev->rank);
            for (int d = 0; d < prev->rank; d++)
                ck_assert_int_eq(e[i].inputs[0]->dims[d], prev->dims[d]);
        }
        /* timings: non-negative, in order, not overlapping, inside the run */
        ck_assert_msg(e[i].ms >= 0 && e[i].start_ms >= end_prev - 1e-9,
                      "step %d '%s': start %.6f ms, %.6f ms; previous step ended at %.6f", i,
                      w->name, e[i].start_ms, e[i].ms, end_prev);
        end_prev = e[i].start_ms + e[i].ms;
    }
    ck_assert_msg(end_prev <= wall_ms + 1e-6,
                  "the steps end at %.6f ms into a run that took %.6f ms from outside", end_prev,
                  wall_ms);
}

START_TEST(profile_reports_each_step_with_flops)
{
    ortc_session *s = new_session(flops_model(), 1);
    float x[3 * 3 * 64], y[3 * 3];
    /* off: a run reports nothing */
    run_flops_model(s, 2, x, y);
    ck_assert_uint_eq(ortc_session_profile(s, NULL, 0), 0);
    ck_assert_int_eq(ortc_session_set_profiling(s, 1), ORTC_STATUS_OK);
    for (int batch = 2; batch <= 3; batch++) { /* batch 3 compiles a second plan */
        double t0 = now_ms();
        run_flops_model(s, batch, x, y);
        double wall = now_ms() - t0;
        check_flops_profile(s, batch, wall);
    }
    /* max limits what is written, not the count returned */
    ortc_profile_entry one[2];
    memset(one, 0, sizeof one);
    ck_assert_uint_eq(ortc_session_profile(s, one, 1), (size_t)N_FLOPS_STEPS);
    ck_assert_str_eq(one[0].node_name, "conv1");
    ck_assert_ptr_null(one[1].node_name);
    /* off again: the next run reports nothing */
    ck_assert_int_eq(ortc_session_set_profiling(s, 0), ORTC_STATUS_OK);
    run_flops_model(s, 2, x, y);
    ck_assert_uint_eq(ortc_session_profile(s, NULL, 0), 0);
    ortc_session_destroy(s);
}
END_TEST

START_TEST(profile_matches_unprofiled_outputs)
{
    /* profiling times the same kernels: outputs are bit-identical */
    ortc_session *s = new_session(flops_model(), 2);
    float x[2 * 3 * 64], y0[2 * 3], y1[2 * 3];
    run_flops_model(s, 2, x, y0);
    ck_assert_int_eq(ortc_session_set_profiling(s, 1), ORTC_STATUS_OK);
    run_flops_model(s, 2, x, y1);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(y0[i] == y1[i], "y[%d]: %g unprofiled, %g profiled", i, y0[i], y1[i]);
    ortc_session_destroy(s);
}
END_TEST

#if COUNT_ALLOCS
START_TEST(profiled_runs_do_not_allocate)
{
    ortc_session *s = new_session(flops_model(), 2);
    float x[2 * 3 * 64], y[2 * 3];
    run_flops_model(s, 2, x, y);
    /* enabling reserves room for the compiled plan: no allocation in runs */
    ck_assert_int_eq(ortc_session_set_profiling(s, 1), ORTC_STATUS_OK);
    for (int i = 0; i < 2 * 3 * 64; i++)
        x[i] = (float)(i % 5);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {2, 3, 8, 8}, x};
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 2, {2, 3}, y};
    ortc_profile_entry e[16];
    ortc_status st[5];
    size_t cnt[5];
    alloc_count_start(); /* no Check assertions while counting: they allocate */
    for (int i = 0; i < 5; i++) {
        st[i] = ortc_session_run(s, &in, 1, &out, 1);
        cnt[i] = ortc_session_profile(s, e, 16);
    }
    alloc_count_stop();
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(st[i], ORTC_STATUS_OK);
        ck_assert_uint_eq(cnt[i], (size_t)N_FLOPS_STEPS);
    }
    ck_assert_msg(alloc_count_others() == 0,
                  "%ld heap allocations outside oneDNN during 5 profiled runs at a known shape",
                  alloc_count_others());
    ck_assert_msg(alloc_count_dnnl() > 0, "expected oneDNN's per-execute argument map to be seen");
    ortc_session_destroy(s);
}
END_TEST
#endif

/* y = If(c, then: Relu(x), else: Neg(x)) then Relu; x: (3), c: bool input */
static ortc_model *if_relu_neg_model(void)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {3};
    ortc_value *x = ortc_graph_get_value(g, "x");
    ortc_value_set_shape(x, ORTC_DTYPE_FLOAT, 1, d);
    x->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(g, x), 0);
    ortc_value *c = ortc_graph_get_value(g, "c");
    ortc_value_set_shape(c, ORTC_DTYPE_BOOL, 0, NULL);
    c->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(g, c), 0);
    ortc_node *n = add_node(g, "If", "choose", "c", "t");
    const char *names[2] = {"then", "else"}, *ops[2] = {"Relu", "Neg"};
    for (int b = 0; b < 2; b++) {
        ortc_graph *sg = ortc_graph_new(m, g, names[b]);
        ortc_node *sn = ortc_graph_add_node(sg, ops[b], "", ops[b], 1, 1);
        ck_assert_ptr_nonnull(sn);
        sn->inputs[0] = ortc_graph_find_value(sg, "x");
        sn->outputs[0] = ortc_graph_get_value(sg, "out");
        ortc_graph_add_output(sg, ortc_graph_find_local(sg, "out"));
        ortc_node_add_attr(n, b ? "else_branch" : "then_branch", ORTC_ATTR_GRAPH)->g = sg;
    }
    add_node(g, "Relu", "after", "t", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

START_TEST(profile_reports_if_as_one_entry)
{
    ortc_session *s = new_session(if_relu_neg_model(), 1);
    ck_assert_int_eq(ortc_session_set_profiling(s, 1), ORTC_STATUS_OK);
    float x[3] = {-1, 2, -3}, y[3];
    for (int cv = 0; cv <= 1; cv++) {
        uint8_t cond = (uint8_t)cv;
        ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 1, {3}, x}, {ORTC_DTYPE_BOOL, 0, {0}, &cond}};
        ortc_tensor out = {ORTC_DTYPE_FLOAT, 1, {3}, y};
        ck_assert_msg(ortc_session_run(s, in, 2, &out, 1) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        /* then: relu(relu(x)) = {0, 2, 0}; else: relu(-x) = {1, 0, 3} */
        const float want[2][3] = {{1, 0, 3}, {0, 2, 0}};
        for (int i = 0; i < 3; i++)
            ck_assert_msg(y[i] == want[cv][i], "cond %d y[%d] = %g, want %g", cv, i, y[i],
                          want[cv][i]);
        ortc_profile_entry e[4];
        size_t n = ortc_session_profile(s, e, 4);
        ck_assert_uint_eq(n, 2);
        ck_assert_str_eq(e[0].node_name, "choose");
        ck_assert_str_eq(e[0].op_type, "If");
        ck_assert_str_eq(e[1].node_name, "after");
        ck_assert_double_eq(e[0].flops, 0);
        ck_assert(e[0].ms >= 0 && e[1].start_ms >= e[0].start_ms + e[0].ms - 1e-9);
    }
    ortc_session_destroy(s);
}
END_TEST

START_TEST(profile_argument_errors)
{
    ck_assert_int_eq(ortc_session_set_profiling(NULL, 1), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_uint_eq(ortc_session_profile(NULL, NULL, 0), 0);
    /* no run yet */
    ortc_session *s = new_session(flops_model(), 1);
    ck_assert_int_eq(ortc_session_set_profiling(s, 1), ORTC_STATUS_OK);
    ck_assert_uint_eq(ortc_session_profile(s, NULL, 0), 0);
    ortc_session_destroy(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bench");
    TCase *p = tcase_create("profile");
    tcase_add_test(p, profile_reports_each_step_with_flops);
    tcase_add_test(p, profile_matches_unprofiled_outputs);
#if COUNT_ALLOCS
    tcase_add_test(p, profiled_runs_do_not_allocate);
#endif
    tcase_add_test(p, profile_reports_if_as_one_entry);
    tcase_add_test(p, profile_argument_errors);
    suite_add_tcase(s, p);
    return run_suite(s);
}
