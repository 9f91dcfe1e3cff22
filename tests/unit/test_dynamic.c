/* test_dynamic.c — Check runner for values whose size is known only at run
 * time (runtime/segment.c, runtime/pool.c, operator.h "values of data-
 * dependent size"): a plan cut after NonZero and its continuation compiled
 * per shape seen, what a plan reports as planned statically, Loop (a while
 * loop ending on its condition, a known trip count, a carried value that
 * grows, no trip), Scan's axes and directions (9+) and batch with
 * sequence_lens (8), sequences that share storage yet never change, If
 * whose branches disagree on a shape, sequence and optional inputs and
 * outputs through ortc_session_run_any, NonMaxSuppression's threshold, the
 * limits (trips, sequence length, NMS boxes, pool bytes) and concurrent
 * runs. Expected values are computed here in plain C.
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc_count.h"
#include "helper_common.h"
#include "helper_onnx_build.h"
#include "ir.h"
#include "ortc/ortc.h"
#include "quant/qdnnl.h"

#define FLOAT ORTC_DTYPE_FLOAT
#define BOOL ORTC_DTYPE_BOOL
#define INT64 ORTC_DTYPE_INT64

/* ---- building and running models ----------------------------------------------- */

static void floats_init(Onnx__GraphProto *g, const char *name, const char *dims, const float *v,
                        size_t n)
{
    pb_tensor_floats(pb_add_init(g, pb_tensor_new(name, FLOAT, dims)), v, n);
}

static void int64_init(Onnx__GraphProto *g, const char *name, const char *dims, const int64_t *v,
                       size_t n)
{
    pb_tensor_int64s(pb_add_init(g, pb_tensor_new(name, INT64, dims)), v, n);
}

/* A graph value typed as a sequence of `elem` tensors. */
static Onnx__ValueInfoProto *seq_vi(const char *name, int elem)
{
    Onnx__ValueInfoProto *vi = pb_vi_new(name, elem, NULL);
    Onnx__TypeProto *t = pb_xcalloc(1, sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Sequence *q = pb_xcalloc(1, sizeof *q);
    onnx__type_proto__sequence__init(q);
    q->elem_type = vi->type;
    t->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    t->sequence_type = q;
    vi->type = t;
    return vi;
}

/* ... and as an optional of that (seq) or of a tensor. */
static Onnx__ValueInfoProto *opt_vi(const char *name, int elem, bool seq)
{
    Onnx__ValueInfoProto *vi = seq ? seq_vi(name, elem) : pb_vi_new(name, elem, NULL);
    Onnx__TypeProto *t = pb_xcalloc(1, sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Optional *o = pb_xcalloc(1, sizeof *o);
    onnx__type_proto__optional__init(o);
    o->elem_type = vi->type;
    t->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
    t->optional_type = o;
    vi->type = t;
    return vi;
}

static ortc_session *open_model(Onnx__ModelProto *pm, const ortc_options *o)
{
    size_t len;
    uint8_t *buf = pb_pack_model(pm, &len);
    onnx__model_proto__free_unpacked(pm, NULL);
    ortc_session *s = NULL;
    ortc_status st = ortc_session_create_from_buffer(&s, buf, len, NULL, o);
    free(buf);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s", ortc_last_error());
    return s;
}

static ortc_options options(void)
{
    ortc_options o;
    ortc_options_init(&o);
    o.threads = 1;
    return o;
}

/* ---- a plan cut after NonZero ----------------------------------------------------- */

/* y = Cast(Transpose(NonZero(x)), float) @ w: x (3, 4), w (2, 3). Everything
 * after NonZero needs its shape: a continuation. */
static Onnx__ModelProto *nonzero_matmul_model(void)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "x", FLOAT, "3,4");
    const float w[6] = {1, -2, 3, 0.5f, 4, -1};
    floats_init(g, "w", "2,3", w, 6);
    pb_add_node(g, "NonZero", "nz", "x", "idx");
    pb_add_ints(pb_add_node(g, "Transpose", "tr", "idx", "t"), "perm", (const int64_t[]){1, 0}, 2);
    pb_add_int(pb_add_node(g, "Cast", "cast", "t", "tf"), "to", FLOAT);
    pb_add_node(g, "MatMul", "mm", "tf,w", "y");
    pb_add_output(g, "y", FLOAT, NULL);
    return pm;
}

/* Plain C: rows (i, j) of x's non-zeros in row-major order times w. */
static int nonzero_matmul_want(const float *x, float *y)
{
    const float w[6] = {1, -2, 3, 0.5f, 4, -1};
    int k = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            if (x[i * 4 + j] != 0) {
                for (int c = 0; c < 3; c++)
                    y[k * 3 + c] = (float)i * w[c] + (float)j * w[3 + c];
                k++;
            }
    return k;
}

/* x with the non-zeros of bit pattern `bits` (12 bits), values 1..12. */
static void pattern(unsigned bits, float *x)
{
    for (int i = 0; i < 12; i++)
        x[i] = (bits >> i) & 1 ? (float)(i + 1) : 0;
}

static int check_nonzero_run(ortc_session *s, unsigned bits, char *why, size_t len)
{
    float x[12], want[36];
    pattern(bits, x);
    int rows = nonzero_matmul_want(x, want);
    ortc_tensor in = {FLOAT, 2, {3, 4}, x};
    ortc_tensor out = {0};
    if (ortc_session_run(s, &in, 1, &out, 1) != ORTC_STATUS_OK) {
        snprintf(why, len, "bits %#x: %s", bits, ortc_last_error());
        return 1;
    }
    int bad = out.rank != 2 || out.dims[0] != rows || out.dims[1] != 3;
    for (int i = 0; !bad && i < rows * 3; i++)
        bad = ((const float *)out.data)[i] != want[i];
    if (bad)
        snprintf(why, len, "bits %#x: got rank %d [%lld, %lld], want [%d, 3] (or values differ)",
                 bits, out.rank, (long long)out.dims[0], (long long)out.dims[1], rows);
    ortc_tensor_release(&out);
    return bad;
}

START_TEST(continuation_per_shape_seen)
{
    ortc_options o = options();
    ortc_session *s = open_model(nonzero_matmul_model(), &o);
    /* before a run: the output's shape is unknown, the plan reports it */
    float x[12];
    pattern(0x5a5, x);
    ortc_tensor in = {FLOAT, 2, {3, 4}, x}, shape = {0};
    ck_assert_int_eq(ortc_session_output_shapes(s, &in, 1, &shape, 1), ORTC_STATUS_OK);
    ck_assert_int_eq(shape.rank, -1); /* computed after the cut */
    ortc_plan_stats ps;
    ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
    ck_assert_uint_eq(ps.n_dynamic_values, 1); /* NonZero's output */
    ck_assert_uint_eq(ps.n_deferred_nodes, 3); /* Transpose, Cast, MatMul */
    ck_assert_str_eq(ortc_session_dynamic_value(s, 0), "idx");
    /* runs at several counts, each shape twice, and none */
    const unsigned bits[] = {0x5a5, 0xfff, 0x001, 0x5a5, 0x000, 0xfff, 0x800, 0x000};
    char why[256];
    for (size_t i = 0; i < sizeof bits / sizeof *bits; i++)
        ck_assert_msg(!check_nonzero_run(s, bits[i], why, sizeof why), "%s", why);
    /* a buffer for an output whose shape depends on the data is refused */
    float buf[36];
    ortc_tensor out = {FLOAT, 2, {7, 3}, buf};
    ck_assert_int_eq(ortc_session_run(s, &in, 1, &out, 1), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(ortc_last_error(), "'y'") && strstr(ortc_last_error(), "NULL"), "%s",
                  ortc_last_error());
    ortc_session_destroy(s);
}
END_TEST

START_TEST(static_models_are_planned_statically)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    pb_add_input(pm->graph, "x", FLOAT, "2,3");
    pb_add_node(pm->graph, "Relu", "r", "x", "a");
    pb_add_node(pm->graph, "Neg", "n", "a", "y");
    pb_add_output(pm->graph, "y", FLOAT, "2,3");
    ortc_options o = options();
    o.optimize = 0;
    ortc_session *s = open_model(pm, &o);
    ortc_plan_stats ps;
    ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
    ck_assert_uint_eq(ps.n_static_values, 2);
    ck_assert_uint_eq(ps.n_dynamic_values, 0);
    ck_assert_uint_eq(ps.n_deferred_nodes, 0);
    ck_assert_ptr_null(ortc_session_dynamic_value(s, 0));
    ortc_session_destroy(s);
}
END_TEST

/* Two graph outputs computed after the cut that no step reads: the first
 * must keep its bytes until the continuation hands both over (the second,
 * of the same size, once took them: torchvision's detection models
 * returned their boxes' bytes as scores). t = Transpose(NonZero(x)),
 * y = Neg(NonZero(x)). */
START_TEST(continuation_outputs_stay_alive_to_its_end)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "x", FLOAT, "3,4");
    pb_add_node(g, "NonZero", "nz", "x", "idx");
    pb_add_ints(pb_add_node(g, "Transpose", "tr", "idx", "t"), "perm", (const int64_t[]){1, 0}, 2);
    pb_add_node(g, "Neg", "neg", "idx", "y");
    pb_add_output(g, "t", INT64, NULL);
    pb_add_output(g, "y", INT64, NULL);
    ortc_options o = options();
    ortc_session *s = open_model(pm, &o);
    float x[12];
    pattern(0x5a5, x);
    int64_t want[2][12];
    int k = 0;
    for (int i = 0; i < 12; i++)
        if (x[i] != 0) {
            want[0][k] = i / 4;
            want[1][k] = i % 4;
            k++;
        }
    ortc_tensor in = {FLOAT, 2, {3, 4}, x};
    ortc_tensor out[2] = {{0}, {0}};
    ck_assert_msg(ortc_session_run(s, &in, 1, out, 2) == ORTC_STATUS_OK, "%s", ortc_last_error());
    ck_assert_int_eq(out[0].rank, 2);
    ck_assert_int_eq(out[0].dims[0], k);
    ck_assert_int_eq(out[0].dims[1], 2);
    ck_assert_int_eq(out[1].dims[0], 2);
    ck_assert_int_eq(out[1].dims[1], k);
    const int64_t *t = out[0].data, *y = out[1].data;
    for (int j = 0; j < k; j++)
        for (int d = 0; d < 2; d++) {
            ck_assert_msg(t[j * 2 + d] == want[d][j], "t[%d][%d] = %lld, want %lld", j, d,
                          (long long)t[j * 2 + d], (long long)want[d][j]);
            ck_assert_msg(y[d * k + j] == -want[d][j], "y[%d][%d] = %lld, want %lld", d, j,
                          (long long)y[d * k + j], (long long)-want[d][j]);
        }
    ortc_tensor_release(&out[0]);
    ortc_tensor_release(&out[1]);
    ortc_session_destroy(s);
}
END_TEST
/* ---- Loop ----------------------------------------------------------------------- */

/* c_final, trace = Loop(M, cond, c0): body(i, cond_in, c) -> (c + step < limit, c + step,
 * c + step), limit and step read from the top graph. M: an input ("" to omit). */
static Onnx__ModelProto *while_model(bool with_m)
{
    Onnx__ModelProto *pm = pb_model_new(8, 16);
    Onnx__GraphProto *g = pm->graph;
    if (with_m)
        pb_add_input(g, "m", INT64, "");
    pb_add_input(g, "cond", BOOL, "");
    pb_add_input(g, "c0", FLOAT, "");
    pb_add_input(g, "limit", FLOAT, "");
    const float step = 1.5f;
    floats_init(g, "step", "", &step, 1);
    Onnx__GraphProto *body = pb_graph_new("body");
    pb_add_input(body, "i", INT64, "");
    pb_add_input(body, "cond_in", BOOL, "");
    pb_add_input(body, "c", FLOAT, "");
    pb_add_node(body, "Add", "add", "c,step", "c2");
    pb_add_node(body, "Less", "less", "c2,limit", "go");
    pb_add_node(body, "Identity", "trace", "c2", "t");
    pb_add_output(body, "go", BOOL, "");
    pb_add_output(body, "c2", FLOAT, "");
    pb_add_output(body, "t", FLOAT, "");
    Onnx__NodeProto *n =
        pb_add_node(g, "Loop", "loop", with_m ? "m,cond,c0" : ",cond,c0", "c_final,trace");
    pb_add_graph(n, "body", body);
    pb_add_output(g, "c_final", FLOAT, "");
    pb_add_output(g, "trace", FLOAT, NULL);
    return pm;
}

START_TEST(loop_ends_on_its_condition)
{
    ortc_options o = options();
    ortc_session *s = open_model(while_model(false), &o);
    const float limits[] = {10, 2, 31, -5, 10};
    for (size_t r = 0; r < sizeof limits / sizeof *limits; r++) {
        uint8_t cond = 1;
        float c0 = 0, limit = limits[r];
        /* plain C: the body runs once, then while its condition holds */
        float want[64], c = c0;
        int trips = 0;
        do {
            c += 1.5f;
            want[trips++] = c;
        } while (c < limit);
        ortc_tensor in[3] = {{BOOL, 0, {0}, &cond}, {FLOAT, 0, {0}, &c0}, {FLOAT, 0, {0}, &limit}};
        float c_final;
        ortc_tensor out[2] = {{FLOAT, 0, {0}, &c_final}, {0}};
        ck_assert_msg(ortc_session_run(s, in, 3, out, 2) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ck_assert_msg(c_final == c, "limit %g: c_final %g, want %g", limit, c_final, c);
        ck_assert_int_eq(out[1].rank, 1);
        ck_assert_int_eq(out[1].dims[0], trips);
        for (int t = 0; t < trips; t++)
            ck_assert_msg(((float *)out[1].data)[t] == want[t], "limit %g: trace[%d] = %g, want %g",
                          limit, t, ((float *)out[1].data)[t], want[t]);
        ortc_tensor_release(&out[1]);
    }
    ortc_session_destroy(s);
}
END_TEST

START_TEST(loop_stops_at_max_loop_iterations)
{
    ortc_options o = options();
    o.max_loop_iterations = 50;
    ortc_session *s = open_model(while_model(false), &o);
    uint8_t cond = 1;
    float c0 = 0, limit = 1e30f, c_final;
    ortc_tensor in[3] = {{BOOL, 0, {0}, &cond}, {FLOAT, 0, {0}, &c0}, {FLOAT, 0, {0}, &limit}};
    ortc_tensor out[2] = {{FLOAT, 0, {0}, &c_final}, {0}};
    ck_assert_int_eq(ortc_session_run(s, in, 3, out, 2), ORTC_STATUS_LIMIT_EXCEEDED);
    const char *e = ortc_last_error();
    ck_assert_msg(strstr(e, "'loop'") && strstr(e, "50") && strstr(e, "max_loop_iterations"), "%s",
                  e);
    ck_assert_ptr_null(out[1].data); /* nothing of the pool reaches the caller */
    /* the same session runs on after the failure */
    limit = 3;
    ck_assert_msg(ortc_session_run(s, in, 3, out, 2) == ORTC_STATUS_OK, "%s", ortc_last_error());
    ck_assert_int_eq(out[1].dims[0], 2);
    ortc_tensor_release(&out[1]);
    ortc_session_destroy(s);
}
END_TEST

START_TEST(loop_trip_count_caps_the_condition_and_zero_trips)
{
    ortc_options o = options();
    ortc_session *s = open_model(while_model(true), &o);
    const int64_t ms[] = {3, 0, 100};
    for (size_t r = 0; r < 3; r++) {
        int64_t m = ms[r];
        uint8_t cond = 1;
        float c0 = 1, limit = 9, c_final;
        int trips = 0;
        float c = c0;
        while (trips < m && (trips == 0 || c < limit)) {
            c += 1.5f;
            trips++;
        }
        ortc_tensor in[4] = {{INT64, 0, {0}, &m},
                             {BOOL, 0, {0}, &cond},
                             {FLOAT, 0, {0}, &c0},
                             {FLOAT, 0, {0}, &limit}};
        ortc_tensor out[2] = {{FLOAT, 0, {0}, &c_final}, {0}};
        ck_assert_msg(ortc_session_run(s, in, 4, out, 2) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ck_assert_msg(c_final == c && out[1].dims[0] == trips, "M %lld: %g after %lld trips",
                      (long long)m, c_final, (long long)out[1].dims[0]);
        ortc_tensor_release(&out[1]);
    }
    ortc_session_destroy(s);
}
END_TEST

/* v_final, rows = Loop(M = 4 (a constant), "", v0): body(i, c, v) -> (c, v * 2 + i,
 * v): the trip count is known, so `rows` (4, 2) is planned statically. */
static Onnx__ModelProto *known_trips_model(void)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "v0", FLOAT, "2");
    const int64_t four = 4;
    int64_init(g, "m", "", &four, 1);
    const float two = 2;
    Onnx__GraphProto *body = pb_graph_new("body");
    pb_add_input(body, "i", INT64, "");
    pb_add_input(body, "c", BOOL, "");
    pb_add_input(body, "v", FLOAT, "2");
    floats_init(body, "two", "", &two, 1);
    pb_add_int(pb_add_node(body, "Cast", "cast", "i", "fi"), "to", FLOAT);
    pb_add_node(body, "Mul", "mul", "v,two", "v2");
    pb_add_node(body, "Add", "add", "v2,fi", "v3");
    pb_add_node(body, "Identity", "keep", "v", "row");
    pb_add_output(body, "c", BOOL, "");
    pb_add_output(body, "v3", FLOAT, "2");
    pb_add_output(body, "row", FLOAT, "2");
    pb_add_graph(pb_add_node(g, "Loop", "loop", "m,,v0", "v_final,rows"), "body", body);
    pb_add_output(g, "v_final", FLOAT, "2");
    pb_add_output(g, "rows", FLOAT, "4,2");
    return pm;
}

/* Plain C: rows[t] = v before trip t, v = v * 2 + t; vf: v after the 4 trips. */
static void known_trips_want(const float *v0, float *rows, float *vf)
{
    float v[2] = {v0[0], v0[1]};
    for (int t = 0; t < 4; t++)
        for (int j = 0; j < 2; j++) {
            rows[t * 2 + j] = v[j];
            v[j] = v[j] * 2 + (float)t;
        }
    vf[0] = v[0];
    vf[1] = v[1];
}

START_TEST(loop_known_trip_count_is_static)
{
    ortc_options o = options();
    ortc_session *s = open_model(known_trips_model(), &o);
    float v0[2] = {1, -3}, vf[2], rows[8];
    ortc_tensor in = {FLOAT, 1, {2}, v0}, out[2] = {{0}, {0}};
    ck_assert_int_eq(ortc_session_output_shapes(s, &in, 1, out, 2), ORTC_STATUS_OK);
    ck_assert_int_eq(out[1].rank, 2);
    ck_assert_int_eq(out[1].dims[0], 4);
    ck_assert_int_eq(out[1].dims[1], 2);
    ortc_plan_stats ps;
    ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
    ck_assert_uint_eq(ps.n_dynamic_values, 0);
    out[0].data = vf;
    out[1].data = rows;
    ck_assert_msg(ortc_session_run(s, &in, 1, out, 2) == ORTC_STATUS_OK, "%s", ortc_last_error());
    float want_rows[8], want_vf[2];
    known_trips_want(v0, want_rows, want_vf);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(rows[i] == want_rows[i], "rows[%d][%d] = %g, want %g", i / 2, i % 2, rows[i],
                      want_rows[i]);
    ck_assert(vf[0] == want_vf[0] && vf[1] == want_vf[1]);
    ortc_session_destroy(s);
}
END_TEST

#if COUNT_ALLOCS
/* The zero-allocation guarantee holds for a model with control flow whose
 * values are all of known size: the Loop of known trip count above, run at
 * its one shape, allocates nothing after its first run (the body's plan, the
 * carried buffers and the scan slices are compiled and sized at session
 * creation; the run's pool of dynamic values is never touched). */
START_TEST(static_loop_runs_allocate_nothing)
{
    ortc_options o = options();
    o.threads = 2;
    ortc_session *s = open_model(known_trips_model(), &o);
    float v0[2] = {0.5f, -1}, vf[5][2], rows[5][8];
    ortc_tensor in = {FLOAT, 1, {2}, v0};
    ortc_tensor out[5][2];
    for (int i = 0; i < 5; i++) {
        out[i][0] = (ortc_tensor){FLOAT, 1, {2}, vf[i]};
        out[i][1] = (ortc_tensor){FLOAT, 2, {4, 2}, rows[i]};
    }
    ck_assert_msg(ortc_session_run(s, &in, 1, out[0], 2) == ORTC_STATUS_OK, "%s",
                  ortc_last_error());
    ortc_status st[5];
    alloc_count_start(); /* no Check assertions while counting: they allocate */
    for (int i = 0; i < 5; i++)
        st[i] = ortc_session_run(s, &in, 1, out[i], 2);
    alloc_count_stop();
    float want_rows[8], want_vf[2];
    known_trips_want(v0, want_rows, want_vf);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(st[i], ORTC_STATUS_OK);
        ck_assert(memcmp(rows[i], want_rows, sizeof want_rows) == 0);
        ck_assert(vf[i][0] == want_vf[0] && vf[i][1] == want_vf[1]);
    }
    ck_assert_msg(alloc_count_others() == 0,
                  "%ld heap allocations outside oneDNN during 5 runs of a static Loop",
                  alloc_count_others());
    ortc_session_destroy(s);
}
END_TEST
#endif

/* v_final = Loop(M, "", v0): body(i, c, v) -> (c, Concat(v, [i])): the
 * carried value grows by one each trip. */
START_TEST(loop_carried_value_that_grows)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "m", INT64, "");
    pb_add_input(g, "v0", INT64, "1");
    Onnx__GraphProto *body = pb_graph_new("body");
    pb_add_input(body, "i", INT64, "");
    pb_add_input(body, "c", BOOL, "");
    pb_add_input(body, "v", INT64, "?");
    const int64_t zero = 0;
    int64_init(body, "axes", "1", &zero, 1);
    pb_add_node(body, "Unsqueeze", "unsq", "i,axes", "i1");
    pb_add_int(pb_add_node(body, "Concat", "cat", "v,i1", "v2"), "axis", 0);
    pb_add_output(body, "c", BOOL, "");
    pb_add_output(body, "v2", INT64, "?");
    pb_add_graph(pb_add_node(g, "Loop", "loop", "m,,v0", "v_final"), "body", body);
    pb_add_output(g, "v_final", INT64, NULL);
    ortc_options o = options();
    ortc_session *s = open_model(pm, &o);
    for (int64_t m = 0; m <= 5; m += 5) {
        int64_t v0 = 42;
        ortc_tensor in[2] = {{INT64, 0, {0}, &m}, {INT64, 1, {1}, &v0}}, out = {0};
        ck_assert_msg(ortc_session_run(s, in, 2, &out, 1) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ck_assert_int_eq(out.rank, 1);
        ck_assert_int_eq(out.dims[0], 1 + m);
        const int64_t *v = out.data;
        ck_assert_int_eq(v[0], 42);
        for (int64_t t = 0; t < m; t++)
            ck_assert_int_eq(v[1 + t], t);
        ortc_tensor_release(&out);
    }
    ortc_session_destroy(s);
}
END_TEST

/* ---- Scan -------------------------------------------------------------------- */

/* The Scan bodies below: (s, xs) of 2 floats -> (s + xs, s + xs). */
static Onnx__GraphProto *scan_add_body(void)
{
    Onnx__GraphProto *body = pb_graph_new("body");
    pb_add_input(body, "s", FLOAT, "2");
    pb_add_input(body, "xs", FLOAT, "2");
    pb_add_node(body, "Add", "add", "s,xs", "s2");
    pb_add_node(body, "Identity", "id", "s2", "y");
    pb_add_output(body, "s2", FLOAT, "2");
    pb_add_output(body, "y", FLOAT, "2");
    return body;
}

/* s_final, ys = Scan-16(s0, x): body(s, xs) -> (s + xs, s + xs), x (2, 5) scanned
 * along axis 1 backwards, ys (2, 5) built along axis 1 by prepending. */
START_TEST(scan_axes_and_directions)
{
    Onnx__ModelProto *pm = pb_model_new(8, 16);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "s0", FLOAT, "2");
    pb_add_input(g, "x", FLOAT, "2,5");
    Onnx__GraphProto *body = scan_add_body();
    Onnx__NodeProto *n = pb_add_node(g, "Scan", "scan", "s0,x", "s_final,ys");
    pb_add_graph(n, "body", body);
    pb_add_int(n, "num_scan_inputs", 1);
    pb_add_ints(n, "scan_input_axes", (const int64_t[]){-1}, 1);
    pb_add_ints(n, "scan_input_directions", (const int64_t[]){1}, 1);
    pb_add_ints(n, "scan_output_axes", (const int64_t[]){1}, 1);
    pb_add_ints(n, "scan_output_directions", (const int64_t[]){1}, 1);
    pb_add_output(g, "s_final", FLOAT, "2");
    pb_add_output(g, "ys", FLOAT, "2,5");
    ortc_options o = options();
    ortc_session *s = open_model(pm, &o);
    float s0[2] = {100, 200}, x[10], sf[2], ys[10];
    for (int i = 0; i < 10; i++)
        x[i] = (float)(i * i);
    ortc_tensor in[2] = {{FLOAT, 1, {2}, s0}, {FLOAT, 2, {2, 5}, x}};
    ortc_tensor out[2] = {{FLOAT, 1, {2}, sf}, {FLOAT, 2, {2, 5}, ys}};
    ck_assert_msg(ortc_session_run(s, in, 2, out, 2) == ORTC_STATUS_OK, "%s", ortc_last_error());
    for (int r = 0; r < 2; r++) {
        float acc = s0[r];
        for (int t = 0; t < 5; t++) {
            acc += x[r * 5 + (4 - t)];       /* input read backwards */
            float got = ys[r * 5 + (4 - t)]; /* output prepended: trip t at 4 - t */
            ck_assert_msg(got == acc, "ys[%d][%d] = %g, want %g", r, 4 - t, got, acc);
        }
        ck_assert_msg(sf[r] == acc, "s_final[%d] = %g, want %g", r, sf[r], acc);
    }
    ortc_session_destroy(s);
}
END_TEST

/* Scan-8: batch 2, sequence_lens (3, 1), x (2, 3, 2) backwards: ys zero past
 * each item's length. */
START_TEST(scan8_batch_and_sequence_lens)
{
    Onnx__ModelProto *pm = pb_model_new(8, 8);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "lens", INT64, "2");
    pb_add_input(g, "s0", FLOAT, "2,2");
    pb_add_input(g, "x", FLOAT, "2,3,2");
    Onnx__GraphProto *body = scan_add_body();
    Onnx__NodeProto *n = pb_add_node(g, "Scan", "scan", "lens,s0,x", "s_final,ys");
    pb_add_graph(n, "body", body);
    pb_add_int(n, "num_scan_inputs", 1);
    pb_add_ints(n, "directions", (const int64_t[]){1}, 1);
    pb_add_output(g, "s_final", FLOAT, "2,2");
    pb_add_output(g, "ys", FLOAT, "2,3,2");
    ortc_options o = options();
    ortc_session *s = open_model(pm, &o);
    int64_t lens[2] = {3, 1};
    float s0[4] = {0, 10, 20, 30}, x[12], sf[4], ys[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)(i + 1);
    ortc_tensor in[3] = {{INT64, 1, {2}, lens}, {FLOAT, 2, {2, 2}, s0}, {FLOAT, 3, {2, 3, 2}, x}};
    ortc_tensor out[2] = {{FLOAT, 2, {2, 2}, sf}, {FLOAT, 3, {2, 3, 2}, ys}};
    ck_assert_msg(ortc_session_run(s, in, 3, out, 2) == ORTC_STATUS_OK, "%s", ortc_last_error());
    for (int b = 0; b < 2; b++) {
        float acc[2] = {s0[b * 2], s0[b * 2 + 1]};
        for (int t = 0; t < 3; t++)
            for (int j = 0; j < 2; j++) {
                float want = 0; /* padding past the length */
                if (t < lens[b]) {
                    acc[j] += x[(b * 3 + (int)lens[b] - 1 - t) * 2 + j];
                    want = acc[j];
                }
                ck_assert_msg(ys[(b * 3 + t) * 2 + j] == want, "ys[%d][%d][%d] = %g, want %g", b, t,
                              j, ys[(b * 3 + t) * 2 + j], want);
            }
        ck_assert(sf[b * 2] == acc[0] && sf[b * 2 + 1] == acc[1]);
    }
    ortc_session_destroy(s);
}
END_TEST

/* ---- sequences, optionals, If ------------------------------------------------------ */

/* s0 = [a]; s1 = s0 + [b]; s2 = s0 + [c] (both append to s0's storage
 * first); e = s1 without item 0; outputs Concat(s1), Concat(s2), Concat(e)
 * and SequenceLength(s2). */
START_TEST(sequences_share_storage_but_never_change)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "a", FLOAT, "1");
    pb_add_input(g, "b", FLOAT, "2");
    pb_add_input(g, "c", FLOAT, "3");
    pb_add_node(g, "SequenceConstruct", "mk", "a", "s0");
    pb_add_node(g, "SequenceInsert", "ins_b", "s0,b", "s1");
    pb_add_node(g, "SequenceInsert", "ins_c", "s0,c", "s2");
    const int64_t zero = 0;
    int64_init(g, "first", "", &zero, 1);
    pb_add_node(g, "SequenceErase", "erase", "s1,first", "e");
    pb_add_int(pb_add_node(g, "ConcatFromSequence", "cat1", "s1", "y1"), "axis", 0);
    pb_add_int(pb_add_node(g, "ConcatFromSequence", "cat2", "s2", "y2"), "axis", 0);
    pb_add_int(pb_add_node(g, "ConcatFromSequence", "cat3", "e", "y3"), "axis", 0);
    pb_add_node(g, "SequenceLength", "len", "s2", "n2");
    pb_add_output(g, "y1", FLOAT, NULL);
    pb_add_output(g, "y2", FLOAT, NULL);
    pb_add_output(g, "y3", FLOAT, NULL);
    pb_add_output(g, "n2", INT64, "");
    ortc_options o = options();
    ortc_session *s = open_model(pm, &o);
    float a[1] = {1}, b[2] = {2, 3}, c[3] = {4, 5, 6};
    int64_t n2 = 0;
    ortc_tensor in[3] = {{FLOAT, 1, {1}, a}, {FLOAT, 1, {2}, b}, {FLOAT, 1, {3}, c}};
    ortc_tensor out[4] = {{0}, {0}, {0}, {INT64, 0, {0}, &n2}};
    for (int rep = 0; rep < 2; rep++) {
        ck_assert_msg(ortc_session_run(s, in, 3, out, 4) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        const float w1[3] = {1, 2, 3}, w2[4] = {1, 4, 5, 6}, w3[2] = {2, 3};
        ck_assert_int_eq(out[0].dims[0], 3);
        ck_assert_int_eq(out[1].dims[0], 4);
        ck_assert_int_eq(out[2].dims[0], 2);
        ck_assert_int_eq(n2, 2);
        for (int i = 0; i < 3; i++)
            ck_assert(((float *)out[0].data)[i] == w1[i]);
        for (int i = 0; i < 4; i++)
            ck_assert(((float *)out[1].data)[i] == w2[i]);
        for (int i = 0; i < 2; i++)
            ck_assert(((float *)out[2].data)[i] == w3[i]);
        for (int k = 0; k < 3; k++)
            ortc_tensor_release(&out[k]);
    }
    ortc_session_destroy(s);
}
END_TEST

/* y = If(c, then: a constant (2), else: a constant (3)): shapes differ, so y
 * is of data-dependent size. */
START_TEST(if_branches_of_different_shapes)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "c", BOOL, "");
    Onnx__NodeProto *n = pb_add_node(g, "If", "if", "c", "y");
    for (int b = 0; b < 2; b++) {
        Onnx__GraphProto *br = pb_graph_new(b ? "else" : "then");
        const float v[3] = {7, 8, 9};
        floats_init(br, "k", b ? "3" : "2", v, b ? 3 : 2);
        pb_add_node(br, "Neg", "neg", "k", "o");
        pb_add_output(br, "o", FLOAT, b ? "3" : "2");
        pb_add_graph(n, b ? "else_branch" : "then_branch", br);
    }
    pb_add_output(g, "y", FLOAT, NULL);
    ortc_options o = options();
    ortc_session *s = open_model(pm, &o);
    for (int c = 0; c <= 1; c++) {
        uint8_t cv = (uint8_t)c;
        ortc_tensor in = {BOOL, 0, {0}, &cv}, out = {0};
        ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ck_assert_int_eq(out.dims[0], c ? 2 : 3);
        for (int i = 0; i < out.dims[0]; i++)
            ck_assert(((float *)out.data)[i] == -(float)(7 + i));
        ortc_tensor_release(&out);
    }
    ortc_session_destroy(s);
}
END_TEST

/* seq_out = SequenceInsert(seq, t); has = OptionalHasElement(opt);
 * got = OptionalGetElement(If(has) ... ) is avoided: the optional's tensor
 * comes out as Identity(opt) (an optional) — through ortc_session_run_any. */
START_TEST(run_any_sequences_and_optionals)
{
    Onnx__ModelProto *pm = pb_model_new(8, 16);
    Onnx__GraphProto *g = pm->graph;
    PB_PUSH(g->input, g->n_input, seq_vi("seq", FLOAT));
    pb_add_input(g, "t", FLOAT, "?");
    PB_PUSH(g->input, g->n_input, opt_vi("opt", FLOAT, false));
    pb_add_node(g, "SequenceInsert", "ins", "seq,t", "seq_out");
    pb_add_node(g, "OptionalHasElement", "has", "opt", "has");
    pb_add_node(g, "Identity", "same", "opt", "opt_out");
    PB_PUSH(g->output, g->n_output, seq_vi("seq_out", FLOAT));
    pb_add_output(g, "has", BOOL, "");
    PB_PUSH(g->output, g->n_output, opt_vi("opt_out", FLOAT, false));
    ortc_options o = options();
    ortc_session *s = open_model(pm, &o);
    ortc_type ty;
    ck_assert_int_eq(ortc_model_input_type(ortc_session_model(s), 0, &ty), ORTC_STATUS_OK);
    ck_assert_int_eq(ty, ORTC_TYPE_SEQUENCE);
    ck_assert_int_eq(ortc_model_output_type(ortc_session_model(s), 2, &ty), ORTC_STATUS_OK);
    ck_assert_int_eq(ty, ORTC_TYPE_OPTIONAL_TENSOR);
    /* the tensor API refuses such a model, naming the input */
    ortc_tensor tin[3] = {{0}}, tout[3] = {{0}};
    ck_assert_int_eq(ortc_session_run(s, tin, 3, tout, 3), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(ortc_last_error(), "'seq'"), "%s", ortc_last_error());
    float x0[2] = {1, 2}, x1[1] = {3}, t[3] = {4, 5, 6}, ov[1] = {9};
    ortc_tensor items[2] = {{FLOAT, 1, {2}, x0}, {FLOAT, 1, {1}, x1}};
    for (int full = 0; full <= 1; full++) {
        ortc_any in[3] = {
            {.type = ORTC_TYPE_SEQUENCE, .elem_dtype = FLOAT, .length = 2, .tensors = items},
            {.type = ORTC_TYPE_TENSOR, .tensor = {FLOAT, 1, {3}, t}},
            {.type = full ? ORTC_TYPE_TENSOR : ORTC_TYPE_NONE, .tensor = {FLOAT, 1, {1}, ov}}};
        ortc_any out[3];
        ck_assert_msg(ortc_session_run_any(s, in, 3, out, 3) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ck_assert_int_eq(out[0].type, ORTC_TYPE_SEQUENCE);
        ck_assert_uint_eq(out[0].length, 3);
        ck_assert_int_eq(out[0].tensors[2].dims[0], 3);
        ck_assert(((float *)out[0].tensors[2].data)[2] == 6);
        ck_assert(((float *)out[0].tensors[0].data)[1] == 2);
        ck_assert_int_eq(out[1].type, ORTC_TYPE_TENSOR);
        ck_assert_int_eq(*(uint8_t *)out[1].tensor.data, full);
        ck_assert_int_eq(out[2].type, full ? ORTC_TYPE_TENSOR : ORTC_TYPE_NONE);
        if (full)
            ck_assert(((float *)out[2].tensor.data)[0] == 9);
        for (int k = 0; k < 3; k++)
            ortc_any_release(&out[k]);
    }
    ortc_session_destroy(s);
}
END_TEST

/* ---- NonMaxSuppression ---------------------------------------------------------- */

static Onnx__ModelProto *nms_model(int center)
{
    Onnx__ModelProto *pm = pb_model_new(8, 11);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "boxes", FLOAT, "1,?,4");
    pb_add_input(g, "scores", FLOAT, "1,1,?");
    const int64_t max_out = 10;
    const float iou = 0.5f, score = 0.5f;
    int64_init(g, "max_out", "", &max_out, 1);
    floats_init(g, "iou", "", &iou, 1);
    floats_init(g, "score", "", &score, 1);
    pb_add_int(pb_add_node(g, "NonMaxSuppression", "nms", "boxes,scores,max_out,iou,score", "sel"),
               "center_point_box", center);
    pb_add_output(g, "sel", INT64, "?,3");
    return pm;
}

START_TEST(nms_keeps_scores_equal_to_the_threshold)
{
    ortc_options o = options();
    ortc_session *s = open_model(nms_model(1), &o);
    /* centers: box 1 overlaps box 0 (IoU 0.78) and scores lower; box 2 at the
     * threshold stays (the spec removes only lower scores); box 3 below */
    const float boxes[16] = {0, 0, 2, 2, 0.25f, 0, 2, 2, 10, 10, 2, 2, 20, 20, 2, 2};
    const float scores[4] = {0.9f, 0.8f, 0.5f, 0.4f};
    ortc_tensor in[2] = {{FLOAT, 3, {1, 4, 4}, (void *)boxes},
                         {FLOAT, 3, {1, 1, 4}, (void *)scores}};
    ortc_tensor out = {0};
    ck_assert_msg(ortc_session_run(s, in, 2, &out, 1) == ORTC_STATUS_OK, "%s", ortc_last_error());
    ck_assert_int_eq(out.dims[0], 2);
    const int64_t *sel = out.data;
    ck_assert(sel[2] == 0 && sel[5] == 2);
    ortc_tensor_release(&out);
    ortc_session_destroy(s);
}
END_TEST

/* ---- limits ---------------------------------------------------------------------- */

START_TEST(limits_on_sequences_boxes_and_pool_bytes)
{
    /* a Loop appending to a sequence, past max_sequence_length */
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "m", INT64, "");
    pb_add_input(g, "x", FLOAT, "1");
    pb_add_node(g, "SequenceEmpty", "empty", "", "s0");
    Onnx__GraphProto *body = pb_graph_new("body");
    pb_add_input(body, "i", INT64, "");
    pb_add_input(body, "c", BOOL, "");
    PB_PUSH(body->input, body->n_input, seq_vi("s", FLOAT));
    pb_add_node(body, "SequenceInsert", "append", "s,x", "s2");
    pb_add_output(body, "c", BOOL, "");
    PB_PUSH(body->output, body->n_output, seq_vi("s2", FLOAT));
    pb_add_graph(pb_add_node(g, "Loop", "loop", "m,,s0", "s_final"), "body", body);
    pb_add_node(g, "SequenceLength", "len", "s_final", "n");
    pb_add_output(g, "n", INT64, "");
    ortc_options o = options();
    o.max_sequence_length = 10;
    ortc_session *s = open_model(pm, &o);
    int64_t m = 10, n = 0;
    float x = 1;
    ortc_tensor in[2] = {{INT64, 0, {0}, &m}, {FLOAT, 1, {1}, &x}}, out = {INT64, 0, {0}, &n};
    ck_assert_msg(ortc_session_run(s, in, 2, &out, 1) == ORTC_STATUS_OK, "%s", ortc_last_error());
    ck_assert_int_eq(n, 10);
    m = 11;
    ck_assert_int_eq(ortc_session_run(s, in, 2, &out, 1), ORTC_STATUS_LIMIT_EXCEEDED);
    ck_assert_msg(strstr(ortc_last_error(), "'append'") &&
                      strstr(ortc_last_error(), "max_sequence_length"),
                  "%s", ortc_last_error());
    ortc_session_destroy(s);

    /* NonMaxSuppression boxes per batch item, above max_nms_boxes */
    o = options();
    o.max_nms_boxes = 3;
    s = open_model(nms_model(0), &o);
    float boxes[16] = {0}, scores[4] = {0};
    ortc_tensor nin[2] = {{FLOAT, 3, {1, 4, 4}, boxes}, {FLOAT, 3, {1, 1, 4}, scores}};
    ortc_tensor nout = {0};
    ck_assert_int_eq(ortc_session_run(s, nin, 2, &nout, 1), ORTC_STATUS_LIMIT_EXCEEDED);
    ck_assert_msg(strstr(ortc_last_error(), "'nms'") && strstr(ortc_last_error(), "max_nms_boxes"),
                  "%s", ortc_last_error());
    ortc_session_destroy(s);

    /* NonZero's output above max_dynamic_bytes: a run at one non-zero holds
     * its 2 indices and the 3 floats of y (64 bytes each, the pool's
     * alignment); at 12, the 24 indices alone need 192 */
    o = options();
    o.max_dynamic_bytes = 128;
    s = open_model(nonzero_matmul_model(), &o);
    float xz[12];
    pattern(0x001, xz);
    ortc_tensor zin = {FLOAT, 2, {3, 4}, xz}, zout = {0};
    ck_assert_msg(ortc_session_run(s, &zin, 1, &zout, 1) == ORTC_STATUS_OK, "%s",
                  ortc_last_error());
    ortc_tensor_release(&zout);
    pattern(0xfff, xz);
    ck_assert_int_eq(ortc_session_run(s, &zin, 1, &zout, 1), ORTC_STATUS_LIMIT_EXCEEDED);
    ck_assert_msg(strstr(ortc_last_error(), "'nz'") &&
                      strstr(ortc_last_error(), "max_dynamic_bytes"),
                  "%s", ortc_last_error());
    ortc_session_destroy(s);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------------ */

typedef struct worker {
    ortc_session *s;
    int id;
    int failures;
    char why[256];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int r = 0; r < 40 && !w->failures; r++) {
        unsigned bits = (unsigned)((w->id * 1237 + r * 331) & 0xfff);
        w->failures += check_nonzero_run(w->s, bits, w->why, sizeof w->why);
    }
    return NULL;
}

START_TEST(concurrent_runs_with_continuations)
{
    ortc_options o = options();
    o.max_concurrent_runs = 4;
    o.max_plans = 3; /* fewer continuations than shapes: some are dropped and made again */
    ortc_session *s = open_model(nonzero_matmul_model(), &o);
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.s = s, .id = i};
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(w[i].failures == 0, "thread %d: %s", i, w[i].why);
    ortc_session_destroy(s);
}
END_TEST

/* ---- packed weights freed and read back --------------------------------------- */

/* Writes pm (freed) to a new file made from tmpl (mkstemp); the caller
 * unlinks and frees the returned path. */
static char *save_temp_model(Onnx__ModelProto *pm, const char *tmpl)
{
    size_t len;
    uint8_t *buf = pb_pack_model(pm, &len);
    onnx__model_proto__free_unpacked(pm, NULL);
    char *path = strdup(tmpl);
    ck_assert_ptr_nonnull(path);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_file(path, buf, len);
    free(buf);
    return path;
}

/* y = Conv(Conv(x, W, B), W2), x (N, 32, 8, 8) with a symbolic N, W (64,
 * 32, 3, 3): 72 KiB of raw_data, above compile.c's RELEASE_MIN, stored in
 * the file. oneDNN packs W for the first Conv (its output may be blocked),
 * so each compile frees W's bytes after that Conv's prepare and the next
 * compile (another batch) reads them back from the file. The test runs
 * with 1 and 2 kernel threads: with 2, W is packed on compile.c's packing
 * thread and freed only once that job is done. */
static char *packed_conv_file(void)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "x", FLOAT, "N,32,8,8");
    float *w = malloc(64 * 32 * 9 * sizeof *w), b[64];
    ck_assert_ptr_nonnull(w);
    for (int i = 0; i < 64 * 32 * 9; i++)
        w[i] = (float)((i * 7919) % 201 - 100) / 400.0f;
    for (int i = 0; i < 64; i++)
        b[i] = (float)(i % 9) / 8.0f - 0.5f;
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("W", FLOAT, "64,32,3,3")), w,
                  64 * 32 * 9 * sizeof *w);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("B", FLOAT, "64")), b, sizeof b);
    free(w);
    float w2[8 * 64];
    for (int i = 0; i < 8 * 64; i++)
        w2[i] = (float)(i % 13) / 26.0f - 0.25f;
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("W2", FLOAT, "8,64,1,1")), w2, sizeof w2);
    Onnx__NodeProto *n = pb_add_node(g, "Conv", "conv", "x,W,B", "h");
    pb_add_ints(n, "pads", (const int64_t[]){1, 1, 1, 1}, 4);
    pb_add_node(g, "Conv", "conv2", "h,W2", "y");
    pb_add_output(g, "y", FLOAT, NULL);
    return save_temp_model(pm, "/tmp/ortc-packed-XXXXXX");
}

/* Runs s on batch n of a fixed pattern into y (n*8*64 floats). */
static ortc_status packed_conv_run(ortc_session *s, int64_t n, float *y)
{
    float *x = malloc((size_t)n * 32 * 64 * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n * 32 * 64; i++)
        x[i] = (float)((i * 31) % 17) / 16.0f - 0.5f;
    ortc_tensor in = {FLOAT, 4, {n, 32, 8, 8}, x}, out = {FLOAT, 4, {n, 8, 8, 8}, y};
    ortc_status st = ortc_session_run(s, &in, 1, &out, 1);
    free(x);
    return st;
}

static const ortc_const_tensor *packed_conv_w(ortc_session *s)
{
    ortc_value *v = ortc_graph_find_local(ortc_session_model(s)->graph, "W");
    ck_assert_ptr_nonnull(v);
    return v->constant;
}

START_TEST(packed_weights_freed_and_read_back)
{
    char *path = packed_conv_file();
    ortc_options o = options(), ro = options();
    o.threads = ro.threads = _i;
    ro.reference = 1;
    ortc_session *s = NULL, *ref = NULL;
    ck_assert_int_eq(ortc_session_create(&s, path, &o), ORTC_STATUS_OK);
    ck_assert_int_eq(ortc_session_create(&ref, path, &ro), ORTC_STATUS_OK);
    /* batches 1, 3, 1, 2: a compile per new batch, the cached plan for 1 */
    const int64_t batches[] = {1, 3, 1, 2};
    for (size_t i = 0; i < sizeof batches / sizeof *batches; i++) {
        int64_t n = batches[i];
        size_t count = (size_t)n * 8 * 64;
        float *y = malloc(count * sizeof *y), *want = malloc(count * sizeof *want),
              *fresh_y = malloc(count * sizeof *fresh_y);
        ck_assert(y && want && fresh_y);
        ck_assert_msg(packed_conv_run(s, n, y) == ORTC_STATUS_OK, "%s", ortc_last_error());
        ck_assert_msg(packed_conv_w(s)->released, "batch %lld: W kept after packing", (long long)n);
        ck_assert_ptr_null(packed_conv_w(s)->t.data);
        /* the plain-C reference kernel reads W at run: never freed */
        ck_assert_msg(packed_conv_run(ref, n, want) == ORTC_STATUS_OK, "%s", ortc_last_error());
        ck_assert(!packed_conv_w(ref)->released);
        /* a session compiled for this batch only: the same kernels, so the
         * same bits when the bytes read back equal the file's */
        ortc_session *fresh = NULL;
        ck_assert_int_eq(ortc_session_create(&fresh, path, &o), ORTC_STATUS_OK);
        ck_assert_msg(packed_conv_run(fresh, n, fresh_y) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ortc_session_destroy(fresh);
        for (size_t k = 0; k < count; k++) {
            ck_assert_msg(y[k] == fresh_y[k], "batch %lld, element %zu: %g, fresh session %g",
                          (long long)n, k, (double)y[k], (double)fresh_y[k]);
            /* sums of 288 then 64 products, outputs of a few units */
            ck_assert_msg(fabsf(y[k] - want[k]) <= 1e-4f * (1.0f + fabsf(want[k])),
                          "batch %lld, element %zu: %g, ref %g", (long long)n, k, (double)y[k],
                          (double)want[k]);
        }
        free(y);
        free(want);
        free(fresh_y);
    }
    ortc_session_destroy(ref);

    /* the file written in place after loading (same size, other bytes, a
     * later modification time): reading W back would give other weights, so
     * the next compile refuses, naming W; the session stays usable at the
     * batches already compiled */
    float *y = malloc((size_t)4 * 8 * 64 * sizeof *y);
    ck_assert_ptr_nonnull(y);
    struct stat before;
    ck_assert_int_eq(stat(path, &before), 0);
    FILE *f = fopen(path, "r+b");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, -4, SEEK_END), 0);
    ck_assert_int_eq(fwrite("\x7f\x7f\x7f\x7f", 1, 4, f), 4);
    ck_assert_int_eq(fclose(f), 0);
    struct timespec later[2] = {before.st_atim, before.st_mtim};
    later[1].tv_sec += 10; /* whatever the file system's timestamp grain */
    ck_assert_int_eq(utimensat(AT_FDCWD, path, later, 0), 0);
    ck_assert_int_eq(packed_conv_run(s, 5, y), ORTC_STATUS_IO_ERROR);
    ck_assert_msg(strstr(ortc_last_error(), "'W'") && strstr(ortc_last_error(), "changed"), "%s",
                  ortc_last_error());
    ck_assert_msg(packed_conv_run(s, 3, y) == ORTC_STATUS_OK, "%s", ortc_last_error());

    /* the file cut short after loading: the same, naming the model file */
    ck_assert_int_eq(truncate(path, 200), 0);
    ck_assert_int_eq(packed_conv_run(s, 4, y), ORTC_STATUS_IO_ERROR);
    ck_assert_msg(strstr(ortc_last_error(), "'W'") && strstr(ortc_last_error(), "model file"), "%s",
                  ortc_last_error());
    ck_assert_msg(packed_conv_run(s, 3, y) == ORTC_STATUS_OK, "%s", ortc_last_error());
    free(y);
    ortc_session_destroy(s);
    unlink(path);
    free(path);
}
END_TEST

/* y = QLinearConv(x, W) with x uint8 (N, 32, 8, 8), a symbolic N, and W
 * int8 (64, 32, 6, 6) without zero points: 72 KiB in the file, above
 * compile.c's RELEASE_MIN. Where oneDNN's int8 kernels run (VNNI), W is
 * packed from its own bytes, so each compile frees them and the next one
 * (another batch) reads them back; the plain-C kernel reads W at run and
 * keeps it. */
static char *packed_qconv_file(void)
{
    Onnx__ModelProto *pm = pb_model_new(8, 13);
    Onnx__GraphProto *g = pm->graph;
    pb_add_input(g, "x", ORTC_DTYPE_UINT8, "N,32,8,8");
    enum { WN = 64 * 32 * 6 * 6 };
    int8_t *w = malloc(WN);
    ck_assert_ptr_nonnull(w);
    for (int i = 0; i < WN; i++)
        w[i] = (int8_t)((i * 7919) % 255 - 127);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("W", ORTC_DTYPE_INT8, "64,32,6,6")), w, WN);
    free(w);
    const float xs = 0.02f, ws = 0.001f, ys = 0.05f;
    const uint8_t xz = 128, yz = 100;
    const int8_t wz = 0;
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("xs", FLOAT, "")), &xs, sizeof xs);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("xz", ORTC_DTYPE_UINT8, "")), &xz, 1);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("ws", FLOAT, "")), &ws, sizeof ws);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("wz", ORTC_DTYPE_INT8, "")), &wz, 1);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("ys", FLOAT, "")), &ys, sizeof ys);
    pb_tensor_raw(pb_add_init(g, pb_tensor_new("yz", ORTC_DTYPE_UINT8, "")), &yz, 1);
    pb_add_node(g, "QLinearConv", "qconv", "x,xs,xz,W,ws,wz,ys,yz", "y");
    pb_add_output(g, "y", ORTC_DTYPE_UINT8, NULL);
    return save_temp_model(pm, "/tmp/ortc-qpacked-XXXXXX");
}

/* Runs s on batch n of a fixed pattern into y (n*64*3*3 bytes). */
static ortc_status packed_qconv_run(ortc_session *s, int64_t n, uint8_t *y)
{
    uint8_t *x = malloc((size_t)n * 32 * 64);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n * 32 * 64; i++)
        x[i] = (uint8_t)((i * 31) % 251);
    ortc_tensor in = {ORTC_DTYPE_UINT8, 4, {n, 32, 8, 8}, x},
                out = {ORTC_DTYPE_UINT8, 4, {n, 64, 3, 3}, y};
    ortc_status st = ortc_session_run(s, &in, 1, &out, 1);
    free(x);
    return st;
}

START_TEST(packed_int8_weights_freed_and_read_back)
{
    char *path = packed_qconv_file();
    ortc_options o = options(), ro = options();
    o.threads = ro.threads = _i;
    ro.reference = 1;
    ortc_session *s = NULL, *ref = NULL;
    ck_assert_int_eq(ortc_session_create(&s, path, &o), ORTC_STATUS_OK);
    ck_assert_int_eq(ortc_session_create(&ref, path, &ro), ORTC_STATUS_OK);
    const int64_t batches[] = {1, 3, 1, 2};
    for (size_t i = 0; i < sizeof batches / sizeof *batches; i++) {
        int64_t n = batches[i];
        size_t count = (size_t)n * 64 * 9;
        uint8_t *y = malloc(count), *want = malloc(count), *fresh_y = malloc(count);
        ck_assert(y && want && fresh_y);
        ck_assert_msg(packed_qconv_run(s, n, y) == ORTC_STATUS_OK, "%s", ortc_last_error());
        ck_assert_msg(packed_conv_w(s)->released == ortc_q_dnnl_exact(),
                      "batch %lld: W %s after packing (int8 kernels %s)", (long long)n,
                      packed_conv_w(s)->released ? "freed" : "kept",
                      ortc_q_dnnl_exact() ? "on oneDNN" : "plain C");
        ck_assert_msg(packed_qconv_run(ref, n, want) == ORTC_STATUS_OK, "%s", ortc_last_error());
        ck_assert(!packed_conv_w(ref)->released);
        ortc_session *fresh = NULL;
        ck_assert_int_eq(ortc_session_create(&fresh, path, &o), ORTC_STATUS_OK);
        ck_assert_msg(packed_qconv_run(fresh, n, fresh_y) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ortc_session_destroy(fresh);
        for (size_t k = 0; k < count; k++) {
            ck_assert_msg(y[k] == fresh_y[k], "batch %lld, element %zu: %d, fresh session %d",
                          (long long)n, k, y[k], fresh_y[k]);
            /* oneDNN's rounding of the requantization: one step at most */
            ck_assert_msg(abs((int)y[k] - (int)want[k]) <= 1, "batch %lld, element %zu: %d, ref %d",
                          (long long)n, k, y[k], want[k]);
        }
        free(y);
        free(want);
        free(fresh_y);
    }
    ortc_session_destroy(ref);
    ortc_session_destroy(s);
    unlink(path);
    free(path);
}
END_TEST

static Suite *dynamic_suite(void)
{
    Suite *s = suite_create("dynamic");
    TCase *seg = tcase_create("segments");
    tcase_add_test(seg, continuation_per_shape_seen);
    tcase_add_test(seg, static_models_are_planned_statically);
    tcase_add_test(seg, continuation_outputs_stay_alive_to_its_end);
    tcase_add_test(seg, concurrent_runs_with_continuations);
    suite_add_tcase(s, seg);
    TCase *loop = tcase_create("loop_scan");
    tcase_add_test(loop, loop_ends_on_its_condition);
    tcase_add_test(loop, loop_stops_at_max_loop_iterations);
    tcase_add_test(loop, loop_trip_count_caps_the_condition_and_zero_trips);
    tcase_add_test(loop, loop_known_trip_count_is_static);
#if COUNT_ALLOCS
    tcase_add_test(loop, static_loop_runs_allocate_nothing);
#endif
    tcase_add_test(loop, loop_carried_value_that_grows);
    tcase_add_test(loop, scan_axes_and_directions);
    tcase_add_test(loop, scan8_batch_and_sequence_lens);
    suite_add_tcase(s, loop);
    TCase *val = tcase_create("values");
    tcase_add_test(val, sequences_share_storage_but_never_change);
    tcase_add_test(val, if_branches_of_different_shapes);
    tcase_add_test(val, run_any_sequences_and_optionals);
    tcase_add_test(val, nms_keeps_scores_equal_to_the_threshold);
    tcase_add_test(val, limits_on_sequences_boxes_and_pool_bytes);
    tcase_add_loop_test(val, packed_weights_freed_and_read_back, 1, 3);
    tcase_add_loop_test(val, packed_int8_weights_freed_and_read_back, 1, 3);
    suite_add_tcase(s, val);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dynamic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
