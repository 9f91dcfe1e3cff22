/* test_runtime.c — the runtime module's Check runner: IR finalize (order,
 * cycles, dangling inputs, double producers), planner properties on random
 * interval sets, in ASan builds the arena's poisoning (which bytes a kernel
 * may touch at each step; a planted overrun and a read of a dead buffer are
 * reported, checked in a child process), and sessions on small graphs
 * (dynamic batch and plan cache, folding of shape arithmetic, input
 * errors, unsupported ops, no heap allocation after the first run) and
 * concurrent runs (case "concurrency", which tools/check-all also runs
 * under ThreadSanitizer).
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_count.h"
#include "error.h"
#include "helper_common.h"
#include "helper_onnx_build.h"
#include "ir.h"
#include "operator.h"
#include "ortc/ortc.h"
#include "planner.h"
#include "poison.h"

#if ORTC_POISON
#include <sanitizer/asan_interface.h>
#include <sys/wait.h>
#endif

/* ---- graph building ----------------------------------------------------------- */

static ortc_value *add_input(ortc_graph *g, const char *name, ortc_dtype dt, int rank,
                             const int64_t *dims, const char *param0)
{
    ortc_value *v = ortc_graph_get_value(g, name);
    ortc_value_set_shape(v, dt, rank, dims);
    if (param0) {
        v->dims[0].value = -1;
        v->dims[0].param = strdup(param0);
    }
    v->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(g, v), 0);
    return v;
}

static void add_const_i64(ortc_graph *g, const char *name, int n, const int64_t *vals)
{
    int64_t dims[1] = {n};
    ortc_const_tensor *t = ortc_const_tensor_new(ORTC_DTYPE_INT64, 1, dims);
    ck_assert_ptr_nonnull(t);
    memcpy(t->t.data, vals, (size_t)n * sizeof *vals);
    ortc_value_set_constant(ortc_graph_get_value(g, name), t);
}

static void add_const_f32(ortc_graph *g, const char *name, int rank, const int64_t *dims,
                          const float *vals)
{
    ortc_const_tensor *t = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, rank, dims);
    ck_assert_ptr_nonnull(t);
    memcpy(t->t.data, vals, ortc_tensor_bytes(&t->t));
    ortc_value_set_constant(ortc_graph_get_value(g, name), t);
}

/* ---- IR ----------------------------------------------------------------------------- */

START_TEST(ir_toposort_reorders)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {4};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 1, d, NULL);
    /* file order: c consumes b, b consumes a, a consumes x */
    add_node(g, "Relu", "c", "b", "y");
    add_node(g, "Relu", "b", "a", "b");
    add_node(g, "Relu", "a", "x", "a");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    ck_assert_str_eq(g->nodes[0]->name, "a");
    ck_assert_str_eq(g->nodes[1]->name, "b");
    ck_assert_str_eq(g->nodes[2]->name, "c");
    ck_assert_int_eq(ortc_graph_find_value(g, "a")->n_uses, 1);
    ck_assert_ptr_eq(ortc_graph_find_value(g, "y")->producer, g->nodes[2]);
    ortc_model_free(m);
}
END_TEST

START_TEST(ir_cycle_is_reported)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {4};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 1, d, NULL);
    add_node(g, "Add", "p", "x,q_out", "p_out");
    add_node(g, "Relu", "q", "p_out", "q_out");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "q_out"));
    char err[1024] = "";
    ck_assert_int_eq(ortc_graph_finalize(g, err, sizeof err), ORTC_STATUS_INVALID_MODEL);
    ck_assert_msg(strstr(err, "cycle") && strstr(err, "'p'") && strstr(err, "'q'"), "%s", err);
    ortc_model_free(m);
}
END_TEST

START_TEST(ir_dangling_input_is_reported)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    add_node(g, "Relu", "r", "nowhere", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    char err[1024] = "";
    ck_assert_int_eq(ortc_graph_finalize(g, err, sizeof err), ORTC_STATUS_INVALID_MODEL);
    ck_assert_msg(strstr(err, "'nowhere'") && strstr(err, "'r'"), "%s", err);
    ortc_model_free(m);
}
END_TEST

START_TEST(ir_double_producer_is_reported)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {4};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 1, d, NULL);
    add_node(g, "Relu", "r1", "x", "y");
    add_node(g, "Relu", "r2", "x", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    char err[1024] = "";
    ck_assert_int_eq(ortc_graph_finalize(g, err, sizeof err), ORTC_STATUS_INVALID_MODEL);
    ck_assert_msg(strstr(err, "'y'") && strstr(err, "two nodes"), "%s", err);
    ortc_model_free(m);
}
END_TEST

START_TEST(ir_unproduced_output_is_reported)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    ortc_graph_add_output(g, ortc_graph_get_value(g, "ghost"));
    char err[1024] = "";
    ck_assert_int_eq(ortc_graph_finalize(g, err, sizeof err), ORTC_STATUS_INVALID_MODEL);
    ck_assert_msg(strstr(err, "'ghost'"), "%s", err);
    ortc_model_free(m);
}
END_TEST

/* ---- planner -------------------------------------------------------------------------- */

static uint64_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

START_TEST(planner_random_sets_never_overlap)
{
    for (int trial = 0; trial < 300; trial++) {
        size_t n = 1 + rnd() % 60;
        int steps = 1 + (int)(rnd() % 40);
        ortc_plan_buffer b[60];
        size_t naive = 0;
        for (size_t i = 0; i < n; i++) {
            b[i].size = 1 + rnd() % (trial % 2 ? 100000 : 300);
            b[i].first = (int)(rnd() % (unsigned)steps);
            b[i].last = b[i].first + (int)(rnd() % 6);
            naive += (b[i].size + 63) / 64 * 64;
        }
        size_t arena = ortc_plan_assign(b, n);
        size_t lb = ortc_plan_lower_bound(b, n);
        ck_assert_msg(!ortc_plan_has_conflict(b, n), "trial %d: live buffers overlap", trial);
        ck_assert_msg(arena >= lb, "trial %d: arena %zu below lower bound %zu", trial, arena, lb);
        ck_assert_msg(arena <= naive, "trial %d: arena %zu above naive %zu", trial, arena, naive);
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_eq(b[i].offset % ORTC_ARENA_ALIGN, 0);
            ck_assert_uint_le(b[i].offset + b[i].size, arena);
        }
    }
}
END_TEST

START_TEST(planner_chain_reaches_lower_bound)
{
    /* a CNN-like chain: value i lives [i, i+1]; sizes shrink and grow */
    size_t sizes[] = {600000, 1100000, 290000, 700000, 180000,
                      260000, 260000,  170000, 40000,  16000};
    size_t n = sizeof sizes / sizeof *sizes;
    ortc_plan_buffer b[10];
    for (size_t i = 0; i < n; i++)
        b[i] = (ortc_plan_buffer){sizes[i], (int)i, (int)i + 1, 0};
    size_t arena = ortc_plan_assign(b, n);
    size_t lb = ortc_plan_lower_bound(b, n);
    ck_assert(!ortc_plan_has_conflict(b, n));
    /* independently: at step s values s-1 and s are alive, so the bound is
     * the largest sum of two neighbours; greedy-by-size attains it here */
    size_t want = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        size_t pair = (sizes[i] + 63) / 64 * 64 + (sizes[i + 1] + 63) / 64 * 64;
        want = pair > want ? pair : want;
    }
    ck_assert_uint_eq(lb, want);
    ck_assert_msg(arena == lb, "arena %zu, lower bound %zu", arena, lb);
}
END_TEST

/* ortc_plan_slices_conflict: slices of one buffer written by different steps
 * (a Concat's inputs in its output) must not overlap nor leave the buffer;
 * slices of different buffers never conflict. */
START_TEST(planner_slices_conflict)
{
    ortc_plan_buffer b[2] = {{96, 0, 3, 0}, {64, 1, 2, 128}};
    ortc_plan_slice ok[3] = {{0, 0, 32}, {0, 32, 64}, {1, 0, 64}};
    ck_assert_int_eq(ortc_plan_slices_conflict(ok, 3, b, 2), 0);
    ortc_plan_slice overlap[2] = {{0, 0, 33}, {0, 32, 64}};
    ck_assert_int_eq(ortc_plan_slices_conflict(overlap, 2, b, 2), 1);
    ortc_plan_slice past_end[1] = {{0, 64, 33}};
    ck_assert_int_eq(ortc_plan_slices_conflict(past_end, 1, b, 2), 1);
    ortc_plan_slice no_buffer[1] = {{2, 0, 8}};
    ck_assert_int_eq(ortc_plan_slices_conflict(no_buffer, 1, b, 2), 1);
    ortc_plan_slice empty_inside[2] = {{0, 32, 0}, {0, 0, 64}};
    ck_assert_int_eq(ortc_plan_slices_conflict(empty_inside, 2, b, 2), 0);
}
END_TEST

START_TEST(planner_empty)
{
    ck_assert_uint_eq(ortc_plan_assign(NULL, 0), 0);
    ck_assert_uint_eq(ortc_plan_lower_bound(NULL, 0), 0);
}
END_TEST

/* ---- arena poisoning (ASan builds) ----------------------------------------------------- */

#if ORTC_POISON
/* "Probe": y = x (float), declaring 12 bytes of scratch (and, for nodes
 * named "*_inplace", that y may overwrite x). While it runs it records what
 * ASan lets it touch: its input, output and scratch, the bytes just past
 * the output and the scratch, and the outputs of earlier probes. */
enum { PROBES = 4, PROBE_SCRATCH = 12 };

typedef struct probe_seen {
    const char *in, *out;
    bool in_ok, out_ok, past_out, scratch_ok, past_scratch;
    bool earlier_poisoned[PROBES]; /* output of probe j < this one */
} probe_seen;

static probe_seen probe_log[PROBES];
static int probe_calls;

/* A fault planted in the probes (run only in a child process: ASan stops
 * the process at the first report). */
typedef enum probe_fault {
    PROBE_FAULT_NONE,
    PROBE_FAULT_OVERRUN,    /* p1 writes one float past its output */
    PROBE_FAULT_STALE_READ, /* p3 reads b (p1's output) after its last reader p2 */
} probe_fault;
static probe_fault probe_plant;

static ortc_status probe_infer(ortc_opctx *c)
{
    ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return ORTC_STATUS_OK;
}

static ortc_status probe_prepare(ortc_opctx *c)
{
    c->scratch_bytes = PROBE_SCRATCH;
    if (strstr(c->node->name, "_inplace"))
        c->inplace[0] = 0;
    return ORTC_STATUS_OK;
}

static ortc_status probe_run(ortc_opctx *c)
{
    size_t bytes = ortc_tensor_bytes(c->in[0]);
    int k = probe_calls++;
    if (k >= PROBES)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "more probe calls than probes");
    probe_seen *w = &probe_log[k];
    w->in = c->in[0]->data;
    w->out = c->out[0]->data;
    w->in_ok = !__asan_region_is_poisoned(c->in[0]->data, bytes);
    w->out_ok = !__asan_region_is_poisoned(c->out[0]->data, bytes);
    w->past_out = __asan_address_is_poisoned(w->out + bytes);
    w->scratch_ok = !__asan_region_is_poisoned(c->scratch, PROBE_SCRATCH);
    w->past_scratch = __asan_address_is_poisoned((char *)c->scratch + PROBE_SCRATCH);
    for (int j = 0; j < k; j++)
        w->earlier_poisoned[j] = __asan_address_is_poisoned(probe_log[j].out);
    memmove(c->out[0]->data, c->in[0]->data, bytes);
    if (probe_plant == PROBE_FAULT_OVERRUN && k == 1) {
        volatile float *past = (float *)c->out[0]->data + ortc_tensor_numel(c->out[0]);
        *past = 42.0f;
    }
    if (probe_plant == PROBE_FAULT_STALE_READ && k == 3) {
        volatile const float *stale = (const float *)probe_log[1].out;
        ((float *)c->out[0]->data)[0] += *stale * 0.0f;
    }
    return ORTC_STATUS_OK;
}

static const ortc_operator probe_op = {
    .domain = "",
    .op_type = "Probe",
    .since = 1,
    .until = 1,
    .flags = ORTC_OP_MAY_INPLACE,
    .infer = probe_infer,
    .prepare = probe_prepare,
    .run = probe_run,
};

/* x (n) -> p0 -> a -> p1 -> b -> p2 -> c -> p3 -> y, every node a Probe;
 * p1 is "p1_inplace" when inplace */
static ortc_session *probe_session(bool inplace)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {-1};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 1, d, "n");
    const char *names[PROBES] = {"p0", inplace ? "p1_inplace" : "p1", "p2", "p3"};
    const char *ins[PROBES] = {"x", "a", "b", "c"}, *outs[PROBES] = {"a", "b", "c", "y"};
    for (int i = 0; i < PROBES; i++)
        add_node(g, "Identity", names[i], ins[i], outs[i]);
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    ortc_options opt;
    ortc_options_init(&opt);
    opt.optimize = 0;
    opt.threads = 1;
    ortc_session *s = session_ok(m, &opt);
    /* the plan is compiled at the first run (dynamic n): the nodes become
     * probes before that */
    ortc_graph *sg = ((ortc_model *)ortc_session_model(s))->graph;
    for (int i = 0; i < sg->n_nodes; i++)
        sg->nodes[i]->op = &probe_op;
    return s;
}

START_TEST(arena_poisoned_outside_live_buffers)
{
    for (int inplace = 0; inplace <= 1; inplace++) {
        ortc_session *s = probe_session(inplace);
        /* 3 floats: 12 bytes, so the byte after each buffer shares its
         * 8-byte ASan granule with the buffer's last 4 bytes */
        float x[3] = {1, -2, 3}, y[3];
        ortc_tensor in = {ORTC_DTYPE_FLOAT, 1, {3}, x}, out = {ORTC_DTYPE_FLOAT, 1, {3}, y};
        for (int run = 0; run < 2; run++) {
            memset(probe_log, 0, sizeof probe_log);
            probe_calls = 0;
            ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s",
                          ortc_last_error());
            ck_assert_int_eq(probe_calls, PROBES);
            ck_assert(y[0] == 1 && y[1] == -2 && y[2] == 3);
            const probe_seen *p = probe_log;
            for (int k = 0; k < PROBES; k++) {
                /* a, b, c live in the arena; x and y are the caller's */
                ck_assert_msg(p[k].in_ok && p[k].out_ok, "inplace %d run %d probe %d: in %d out %d",
                              inplace, run, k, p[k].in_ok, p[k].out_ok);
                if (k < PROBES - 1)
                    ck_assert_msg(p[k].past_out, "inplace %d probe %d: byte after output open",
                                  inplace, k);
                ck_assert_msg(p[k].scratch_ok && p[k].past_scratch,
                              "inplace %d probe %d: scratch %d, byte after it poisoned %d", inplace,
                              k, p[k].scratch_ok, p[k].past_scratch);
            }
            /* at p3 only c is alive in the arena; b was alive with c (at
             * p2), so its bytes are not c's: dead and poisoned */
            ck_assert_msg(p[3].earlier_poisoned[1], "inplace %d: b open after its last reader",
                          inplace);
            if (inplace) {
                /* b took a's buffer: one buffer alive from p0 to p2 */
                ck_assert_ptr_eq(p[1].out, p[1].in);
                ck_assert_msg(p[3].earlier_poisoned[0], "a/b's buffer open after p2");
            } else {
                ck_assert_ptr_ne(p[1].out, p[1].in);
            }
        }
        ortc_session_destroy(s);
    }
}
END_TEST

/* Runs probe_session(false) once with fault f planted, in a child process
 * whose stderr is captured in report (cap bytes); returns its wait status. */
static int run_planted(probe_fault f, char *report, size_t cap)
{
    ortc_session *s = probe_session(false);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        probe_plant = f;
        probe_calls = 0;
        float x[3] = {1, -2, 3}, y[3];
        ortc_tensor in = {ORTC_DTYPE_FLOAT, 1, {3}, x}, out = {ORTC_DTYPE_FLOAT, 1, {3}, y};
        ortc_status st = ortc_session_run(s, &in, 1, &out, 1);
        _exit(st ? 3 : 0); /* 0: the fault went unreported */
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fds[0], report + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    report[n] = 0;
    char sink[4096];
    while (read(fds[0], sink, sizeof sink) > 0) /* the rest of a long report */
        ;
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ortc_session_destroy(s);
    return status;
}

/* The acceptance check of the poisoning: a kernel writing one element past
 * its output, and one reading a value after its buffer died, are each
 * stopped by an ASan report naming the access. */
START_TEST(arena_poisoning_reports_planted_faults)
{
    static char report[1 << 16];
    static const struct {
        probe_fault fault;
        const char *name, *access;
    } cases[] = {
        {PROBE_FAULT_OVERRUN, "overrun", "WRITE of size 4"},
        {PROBE_FAULT_STALE_READ, "stale read", "READ of size 4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = run_planted(cases[i].fault, report, sizeof report);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3,
                      "%s: child status %d (0: ran to the end unreported); stderr:\n%s",
                      cases[i].name, status, report);
        ck_assert_msg(strstr(report, "AddressSanitizer: use-after-poison") &&
                          strstr(report, cases[i].access) && strstr(report, "probe_run"),
                      "%s: no ASan report of the %s in probe_run; stderr:\n%s", cases[i].name,
                      cases[i].access, report);
    }
    /* the same child without a fault runs to the end: the reports come
     * from the planted accesses, not from the harness */
    int status = run_planted(PROBE_FAULT_NONE, report, sizeof report);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "no fault: status %d; %s", status,
                  report);
}
END_TEST
#endif

/* ---- sessions ------------------------------------------------------------------------ */

/* y = Relu(x) + bias; x: (batch, 4) */
static ortc_model *relu_add_model(void)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[2] = {-1, 4}, bd[1] = {4};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 2, d, "batch");
    float bias[4] = {1, -2, 0.5f, 0};
    add_const_f32(g, "bias", 1, bd, bias);
    add_node(g, "Relu", "relu", "x", "r");
    add_node(g, "Add", "add", "r,bias", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

static void check_relu_add(ortc_session *s, int batch)
{
    float x[4 * 8], y[4 * 8];
    for (int i = 0; i < 4 * batch; i++)
        x[i] = (float)(i % 7) - 3.0f;
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 2, {batch, 4}, x};
    ortc_tensor out = {0};
    ck_assert_int_eq(ortc_session_output_shapes(s, &in, 1, &out, 1), ORTC_STATUS_OK);
    ck_assert_int_eq(out.rank, 2);
    ck_assert_int_eq(out.dims[0], batch);
    out.data = y;
    ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s", ortc_last_error());
    const float bias[4] = {1, -2, 0.5f, 0};
    for (int i = 0; i < 4 * batch; i++) {
        float want = (x[i] > 0 ? x[i] : 0) + bias[i % 4];
        ck_assert_msg(y[i] == want, "batch %d element %d: got %g want %g", batch, i, y[i], want);
    }
}

START_TEST(session_dynamic_batch_and_plan_cache)
{
    ortc_session *s = NULL;
    ortc_options o;
    ortc_options_init(&o);
    o.threads = 1;
    s = session_ok(relu_add_model(), &o);
    check_relu_add(s, 2);
    check_relu_add(s, 3);
    check_relu_add(s, 2);
    ortc_plan_stats st;
    ck_assert_int_eq(ortc_session_plan_stats(s, &st), ORTC_STATUS_OK);
    ck_assert_uint_eq(st.n_steps, 2);
    ck_assert_uint_ge(st.arena_bytes, st.lower_bound_bytes);
    ortc_session_destroy(s);
}
END_TEST

/* Concat joined in place (compile.c, plan_joins). x: (batch, 4, 3);
 * a = Relu(x), b = Neg(x), c = Abs(x). Variant 0, DenseNet's pattern: y1 =
 * Concat(a, b), y2 = Concat(a, b, c) (axis 1), o1 = Sigmoid(y1), o2 =
 * Sigmoid(y2). Variants that must not join: 1 y1 = Concat(a, a) (one value,
 * two slices); 2 y1 = Concat(x, b) (x is the caller's); 3 a is also a graph
 * output (caller memory). */
static ortc_model *join_model(int variant)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[3] = {-1, 4, 3};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 3, d, "batch");
    add_node(g, "Relu", "relu", "x", "a");
    add_node(g, "Neg", "neg", "x", "b");
    add_node(g, "Abs", "abs", "x", "c");
    const char *ins1 = variant == 1 ? "a,a" : variant == 2 ? "x,b" : "a,b";
    ortc_node_add_attr(add_node(g, "Concat", "cat1", ins1, "y1"), "axis", ORTC_ATTR_INT)->i = 1;
    ortc_node_add_attr(add_node(g, "Concat", "cat2", "a,b,c", "y2"), "axis", ORTC_ATTR_INT)->i = 1;
    add_node(g, "Sigmoid", "sig1", "y1", "o1");
    add_node(g, "Sigmoid", "sig2", "y2", "o2");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "o1"));
    ortc_graph_add_output(g, ortc_graph_get_value(g, "o2"));
    if (variant == 3)
        ortc_graph_add_output(g, ortc_graph_get_value(g, "a"));
    finalize_ok(g);
    return m;
}

/* Arena offset of the value node `name` writes (output 0). */
static size_t join_offset(ortc_session *s, const char *name)
{
    ortc_plan_stats ps;
    ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
    for (size_t i = 0; i < ps.n_steps; i++) {
        ortc_plan_step_info si;
        ck_assert_int_eq(ortc_session_plan_step(s, i, &si), ORTC_STATUS_OK);
        if (strcmp(si.node_name, name))
            continue;
        ortc_plan_value_info vi;
        ck_assert_int_eq(ortc_session_plan_step_value(s, i, 1, 0, &vi), ORTC_STATUS_OK);
        ck_assert_int_eq(vi.place, ORTC_PLACE_ARENA);
        return vi.offset;
    }
    ck_abort_msg("no step '%s'", name);
    return 0;
}

START_TEST(session_concat_joins_in_place)
{
    for (int variant = 0; variant <= 3; variant++)
        for (int optimize = 0; optimize <= 1; optimize++)
            for (int batch = 1; batch <= 2; batch++) {
                ortc_options o;
                ortc_options_init(&o);
                o.optimize = optimize;
                ortc_session *s = session_ok(join_model(variant), &o);
                float x[2 * 4 * 3], o1[2 * 8 * 3], o2[2 * 12 * 3], a[2 * 4 * 3];
                for (int i = 0; i < batch * 12; i++)
                    x[i] = (float)((i * 7) % 11) - 5.0f;
                ortc_tensor in = {ORTC_DTYPE_FLOAT, 3, {batch, 4, 3}, x};
                ortc_tensor out[3] = {{ORTC_DTYPE_FLOAT, 3, {batch, 8, 3}, o1},
                                      {ORTC_DTYPE_FLOAT, 3, {batch, 12, 3}, o2},
                                      {ORTC_DTYPE_FLOAT, 3, {batch, 4, 3}, a}};
                ck_assert_msg(ortc_session_run(s, &in, 1, out, variant == 3 ? 3 : 2) ==
                                  ORTC_STATUS_OK,
                              "%s", ortc_last_error());
                /* independently: channel ch of y1 / y2 per the variant */
                for (int n = 0; n < batch; n++)
                    for (int ch = 0; ch < 12; ch++)
                        for (int k = 0; k < 3; k++) {
                            float v = x[(n * 4 + ch % 4) * 3 + k];
                            float f[3] = {v > 0 ? v : 0, -v, fabsf(v)};
                            float w2 = f[ch / 4];
                            float w2s = 1.0f / (1.0f + expf(-w2));
                            ck_assert_msg(fabsf(o2[(n * 12 + ch) * 3 + k] - w2s) <= 1e-6f,
                                          "variant %d optimize %d batch %d: o2[%d,%d,%d]", variant,
                                          optimize, batch, n, ch, k);
                            if (ch >= 8)
                                continue;
                            float w1 = variant == 1   ? f[0]
                                       : variant == 2 ? (ch < 4 ? v : f[1])
                                                      : f[ch / 4];
                            float w1s = 1.0f / (1.0f + expf(-w1));
                            ck_assert_msg(fabsf(o1[(n * 8 + ch) * 3 + k] - w1s) <= 1e-6f,
                                          "variant %d optimize %d batch %d: o1[%d,%d,%d]", variant,
                                          optimize, batch, n, ch, k);
                        }
                /* plain values join at batch 1 only (at batch 2 an input's
                 * rows are not one run of the output). Variants 1 and 2
                 * still join y2; so does 3 once pass_concat made y2 =
                 * Concat(y1, c), while y1 = Concat(a, b) runs into its
                 * slice of y2. */
                ortc_plan_stats ps;
                ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
                size_t want = batch == 2 ? 0 : variant == 0 ? 2 : variant == 3 && !optimize ? 0 : 1;
                ck_assert_msg(ps.n_joined_steps == want,
                              "variant %d optimize %d batch %d: %zu joined, want %zu", variant,
                              optimize, batch, ps.n_joined_steps, want);
                if (want == 2) {
                    size_t y = join_offset(s, "cat2"), slice = 4 * 3 * sizeof(float);
                    ck_assert_uint_eq(join_offset(s, "cat1"), y);
                    ck_assert_uint_eq(join_offset(s, "relu"), y);
                    ck_assert_uint_eq(join_offset(s, "neg"), y + slice);
                    ck_assert_uint_eq(join_offset(s, "abs"), y + 2 * slice);
                }
                ortc_session_destroy(s);
            }
}
END_TEST

/* kB of AnonHugePages in this process (-1: unreadable). */
static long anon_huge_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* ortc_options.huge_pages: a 6 MB weight (the loader aligns it to 2 MB)
 * moves onto huge pages at session creation, where the kernel has THP
 * (enabled: always or madvise); either way the outputs match a session
 * without it exactly (same kernels, same bytes). */
/* The plan through the public introspection calls: y = Relu(x) + bias at
 * batch 2 has one arena buffer, Relu's output r (2x4 floats), written by
 * step 0 and read by step 1; y is the caller's output. */
START_TEST(session_plan_introspection)
{
    ortc_session *s = session_ok(relu_add_model(), NULL);
    ortc_plan_step_info si;
    ortc_plan_value_info vi;
    /* dynamic batch: nothing compiled yet */
    ck_assert_uint_eq(ortc_session_plan_buffers(s, NULL, 0), 0);
    ck_assert_int_eq(ortc_session_plan_step(s, 0, &si), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "no plan compiled yet"));

    ortc_tensor in = {ORTC_DTYPE_FLOAT, 2, {2, 4}, NULL}, out = {0};
    ck_assert_int_eq(ortc_session_output_shapes(s, &in, 1, &out, 1), ORTC_STATUS_OK);
    ortc_plan_buffer_info b[2];
    ck_assert_uint_eq(ortc_session_plan_buffers(s, b, 2), 1);
    ck_assert_str_eq(b[0].name, "r");
    ck_assert_uint_eq(b[0].bytes, 2 * 4 * sizeof(float));
    ck_assert_uint_eq(b[0].offset, 0);
    ck_assert_int_eq(b[0].first_step, 0);
    ck_assert_int_eq(b[0].last_step, 1);
    ck_assert_int_eq(b[0].n_values, 1);

    ck_assert_int_eq(ortc_session_plan_step(s, 0, &si), ORTC_STATUS_OK);
    ck_assert_str_eq(si.op_type, "Relu");
    ck_assert_str_eq(si.node_name, "relu");
    ck_assert_str_eq(si.post_ops, "");
    ck_assert_int_eq(ortc_session_plan_step(s, 1, &si), ORTC_STATUS_OK);
    ck_assert_str_eq(si.op_type, "Add");
    ck_assert_int_eq(si.n_inputs, 2);
    ck_assert_int_eq(si.n_outputs, 1);
    ck_assert_int_eq(ortc_session_plan_step(s, 2, &si), ORTC_STATUS_INVALID_ARGUMENT);

    ck_assert_int_eq(ortc_session_plan_step_value(s, 1, 0, 0, &vi), ORTC_STATUS_OK);
    ck_assert_str_eq(vi.name, "r");
    ck_assert_int_eq(vi.place, ORTC_PLACE_ARENA);
    ck_assert_uint_eq(vi.offset, 0);
    ck_assert_str_eq(vi.layout, "plain");
    ck_assert_int_eq(vi.rank, 2);
    ck_assert_int_eq(vi.dims[0], 2);
    ck_assert_int_eq(vi.dims[1], 4);
    ck_assert_int_eq(ortc_session_plan_step_value(s, 1, 0, 1, &vi), ORTC_STATUS_OK);
    ck_assert_str_eq(vi.name, "bias");
    ck_assert_int_eq(vi.place, ORTC_PLACE_CONSTANT);
    ck_assert_int_eq(ortc_session_plan_step_value(s, 1, 1, 0, &vi), ORTC_STATUS_OK);
    ck_assert_str_eq(vi.name, "y");
    ck_assert_int_eq(vi.place, ORTC_PLACE_OUTPUT);
    ck_assert_int_eq(ortc_session_plan_step_value(s, 0, 0, 0, &vi), ORTC_STATUS_OK);
    ck_assert_int_eq(vi.place, ORTC_PLACE_INPUT);
    ck_assert_int_eq(ortc_session_plan_step_value(s, 1, 0, 2, &vi), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(ortc_last_error(), "input 2 of step 1 out of range"));
    ortc_session_destroy(s);
}
END_TEST

START_TEST(session_huge_pages_option)
{
    enum { K = 1536, N = 1024 };
    char dir[] = "/tmp/ortc_rt_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/mm.onnx", dir);
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, "1,1536");
    Onnx__TensorProto *t = pb_tensor_new("w", ORTC_DTYPE_FLOAT, "1536,1024");
    float *w = malloc((size_t)K * N * sizeof *w), x[K], y[2][N];
    ck_assert_ptr_nonnull(w);
    for (size_t i = 0; i < (size_t)K * N; i++)
        w[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    for (int i = 0; i < K; i++)
        x[i] = (float)(i % 13) / 13.0f;
    pb_tensor_raw(t, w, (size_t)K * N * sizeof *w);
    free(w);
    pb_add_init(m->graph, t);
    pb_add_node(m->graph, "MatMul", "mm", "x,w", "y");
    pb_add_output(m->graph, "y", ORTC_DTYPE_FLOAT, "1,1024");
    size_t len;
    uint8_t *bytes = pb_pack_model(m, &len);
    onnx__model_proto__free_unpacked(m, NULL);
    write_file(path, bytes, len);
    free(bytes);

    bool thp = false;
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        char mode[128] = "";
        thp = fgets(mode, sizeof mode, f) && !strstr(mode, "[never]");
        fclose(f);
    }
    for (int huge = 0; huge < 2; huge++) {
        ortc_options o;
        ortc_options_init(&o);
        o.threads = 2;
        o.huge_pages = huge;
        long before = anon_huge_kb();
        ortc_session *s = NULL;
        ck_assert_msg(ortc_session_create(&s, path, &o) == ORTC_STATUS_OK, "%s", ortc_last_error());
        long after = anon_huge_kb();
        if (huge && thp && before >= 0)
            ck_assert_msg(after - before >= 4096,
                          "huge_pages: AnonHugePages grew by %ld kB, want the weight's 4096 kB "
                          "of whole 2 MB pages",
                          after - before);
        ortc_tensor in = {ORTC_DTYPE_FLOAT, 2, {1, K}, x};
        ortc_tensor out = {ORTC_DTYPE_FLOAT, 2, {1, N}, y[huge]};
        ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s",
                      ortc_session_last_error(s));
        ortc_session_destroy(s);
    }
    ck_assert_msg(memcmp(y[0], y[1], sizeof y[0]) == 0, "huge_pages changed the outputs");
    unlink(path);
    rmdir(dir);
}
END_TEST

/* A chain of Convs (distinct shapes: one kernel each) with ReLUs between,
 * dynamic batch: at 2 kernel threads the compile creates the primitives on
 * its other thread (dnnl_pack.c) while it goes on choosing the next steps'
 * descriptors; every plan (batch 1, then 3, then 1 from the cache) must
 * match the plain-C reference kernels. */
static uint8_t *conv_chain_model(size_t *len)
{
    static const int ch[] = {3, 8, 16, 16, 24, 8};
    enum { N_CONV = 5 };
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ORTC_DTYPE_FLOAT, "N,3,10,10");
    uint32_t seed = 7;
    char prev[16] = "x", name[16], wn[16], bn[16], ins[64];
    for (int k = 0; k < N_CONV; k++) {
        int ci = ch[k], co = ch[k + 1], ks = k % 2 ? 1 : 3;
        size_t nw = (size_t)co * (size_t)ci * (size_t)(ks * ks);
        float *w = malloc(nw * sizeof *w), b[32];
        ck_assert_ptr_nonnull(w);
        for (size_t i = 0; i < nw; i++) {
            seed = seed * 1103515245u + 12345u;
            w[i] = (float)((seed >> 9) % 2001) / 2000.0f - 0.5f;
        }
        for (int i = 0; i < co; i++)
            b[i] = (float)(i % 5) / 10.0f - 0.2f;
        char dims[64];
        snprintf(dims, sizeof dims, "%d,%d,%d,%d", co, ci, ks, ks);
        snprintf(wn, sizeof wn, "w%d", k);
        snprintf(bn, sizeof bn, "b%d", k);
        Onnx__TensorProto *t = pb_tensor_new(wn, ORTC_DTYPE_FLOAT, dims);
        pb_tensor_floats(t, w, nw);
        pb_add_init(m->graph, t);
        snprintf(dims, sizeof dims, "%d", co);
        t = pb_tensor_new(bn, ORTC_DTYPE_FLOAT, dims);
        pb_tensor_floats(t, b, (size_t)co);
        pb_add_init(m->graph, t);
        free(w);
        snprintf(name, sizeof name, "c%d", k);
        snprintf(ins, sizeof ins, "%s,%s,%s", prev, wn, bn);
        Onnx__NodeProto *n = pb_add_node(m->graph, "Conv", name, ins, name);
        int64_t pads[4] = {ks / 2, ks / 2, ks / 2, ks / 2};
        pb_add_ints(n, "pads", pads, 4);
        snprintf(prev, sizeof prev, "%s", name);
        if (k + 1 < N_CONV) {
            snprintf(name, sizeof name, "r%d", k);
            pb_add_node(m->graph, "Relu", name, prev, name);
            snprintf(prev, sizeof prev, "%s", name);
        }
    }
    pb_add_output(m->graph, prev, ORTC_DTYPE_FLOAT, "N,8,10,10");
    uint8_t *bytes = pb_pack_model(m, len);
    onnx__model_proto__free_unpacked(m, NULL);
    return bytes;
}

START_TEST(session_primitives_created_beside_the_compile)
{
    size_t len;
    uint8_t *bytes = conv_chain_model(&len);
    ortc_session *s[2] = {NULL, NULL};
    for (int ref = 0; ref < 2; ref++) {
        ortc_options o;
        ortc_options_init(&o);
        o.threads = 2;
        o.reference = ref;
        ck_assert_msg(ortc_session_create_from_buffer(&s[ref], bytes, len, NULL, &o) ==
                          ORTC_STATUS_OK,
                      "%s", ortc_last_error());
    }
    free(bytes);
    static const int batches[] = {1, 3, 1};
    for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++) {
        int nb = batches[bi];
        size_t nx = (size_t)nb * 3 * 10 * 10, ny = (size_t)nb * 8 * 10 * 10;
        float *x = malloc(nx * sizeof *x),
              *y[2] = {malloc(ny * sizeof(float)), malloc(ny * sizeof(float))};
        ck_assert(x && y[0] && y[1]);
        for (size_t i = 0; i < nx; i++)
            x[i] = (float)((i * 37u) % 101) / 50.0f - 1.0f;
        for (int ref = 0; ref < 2; ref++) {
            ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {nb, 3, 10, 10}, x};
            ortc_tensor out = {ORTC_DTYPE_FLOAT, 4, {nb, 8, 10, 10}, y[ref]};
            ck_assert_msg(ortc_session_run(s[ref], &in, 1, &out, 1) == ORTC_STATUS_OK, "%s",
                          ortc_session_last_error(s[ref]));
        }
        /* oneDNN and the plain-C loops sum in different orders: values
         * of magnitude ~10 agree to a few ulps of float, not bit for bit */
        for (size_t i = 0; i < ny; i++)
            ck_assert_msg(fabsf(y[0][i] - y[1][i]) <= 1e-4f * (1.0f + fabsf(y[1][i])),
                          "batch %d, element %zu: %g, reference %g", nb, i, (double)y[0][i],
                          (double)y[1][i]);
        free(x);
        free(y[0]);
        free(y[1]);
    }
    ortc_session_destroy(s[0]);
    ortc_session_destroy(s[1]);
}
END_TEST

START_TEST(session_reference_mode_matches)
{
    ortc_session *s = NULL;
    ortc_options o;
    ortc_options_init(&o);
    o.reference = 1;
    s = session_ok(relu_add_model(), &o);
    check_relu_add(s, 3);
    ortc_session_destroy(s);
}
END_TEST

START_TEST(session_input_errors_name_the_problem)
{
    ortc_session *s = NULL;
    ck_assert_int_eq(ortc_session_create_from_model(&s, relu_add_model(), NULL), ORTC_STATUS_OK);
    float x[12] = {0}, y[12];
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 2, {3, 4}, y};
    ortc_tensor bad_shape = {ORTC_DTYPE_FLOAT, 2, {3, 5}, x};
    ck_assert_int_eq(ortc_session_run(s, &bad_shape, 1, &out, 1), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(ortc_last_error(), "'x'") && strstr(ortc_last_error(), "[3,5]") &&
                      strstr(ortc_last_error(), "[batch,4]"),
                  "%s", ortc_last_error());
    int64_t xi[12] = {0};
    ortc_tensor bad_type = {ORTC_DTYPE_INT64, 2, {3, 4}, xi};
    ck_assert_int_eq(ortc_session_run(s, &bad_type, 1, &out, 1), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(ortc_last_error(), "int64") && strstr(ortc_last_error(), "float32"), "%s",
                  ortc_last_error());
    ortc_tensor good = {ORTC_DTYPE_FLOAT, 2, {3, 4}, x};
    ck_assert_int_eq(ortc_session_run(s, &good, 1, &out, 0), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(ortc_last_error(), "1 output"), "%s", ortc_last_error());
    ortc_tensor rank1 = {ORTC_DTYPE_FLOAT, 1, {12}, x};
    ck_assert_int_eq(ortc_session_run(s, &rank1, 1, &out, 1), ORTC_STATUS_INVALID_ARGUMENT);
    ortc_session_destroy(s);
}
END_TEST

START_TEST(session_unsupported_ops_listed_together)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {4};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 1, d, NULL);
    add_node(g, "FancyOp", "first", "x", "a");
    add_node(g, "Relu", "ok", "a", "b");
    add_node(g, "OtherOp", "second", "b", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    ortc_session *s = NULL;
    ck_assert_int_eq(ortc_session_create_from_model(&s, m, NULL), ORTC_STATUS_UNSUPPORTED);
    ck_assert_ptr_null(s);
    const char *e = ortc_last_error();
    ck_assert_msg(strstr(e, "FancyOp") && strstr(e, "'first'") && strstr(e, "OtherOp") &&
                      strstr(e, "'second'") && !strstr(e, "'ok'"),
                  "%s", e);
}
END_TEST

/* x.view(x.size(0), -1) as PyTorch exports it: Shape -> Gather -> Unsqueeze
 * -> Concat -> Reshape. With a dynamic batch the chain folds per plan. */
static ortc_model *flatten_chain_model(void)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[3] = {-1, 2, 3};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 3, d, "batch");
    int64_t zero = 0, minus1 = -1;
    ortc_const_tensor *idx = ortc_const_tensor_new(ORTC_DTYPE_INT64, 0, NULL);
    memcpy(idx->t.data, &zero, sizeof zero);
    ortc_value_set_constant(ortc_graph_get_value(g, "idx0"), idx);
    add_const_i64(g, "axes0", 1, &zero);
    add_const_i64(g, "minus1", 1, &minus1);
    add_node(g, "Shape", "shape", "x", "s");
    add_node(g, "Gather", "gather", "s,idx0", "b");
    add_node(g, "Unsqueeze", "unsq", "b,axes0", "b1");
    ortc_node *cat = add_node(g, "Concat", "cat", "b1,minus1", "shp");
    ortc_node_add_attr(cat, "axis", ORTC_ATTR_INT)->i = 0;
    add_node(g, "Relu", "relu", "x", "r");
    add_node(g, "Reshape", "reshape", "r,shp", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

START_TEST(session_folds_shape_chain)
{
    ortc_session *s = session_ok(flatten_chain_model(), NULL);
    for (int batch = 1; batch <= 3; batch++) {
        float x[18], y[18];
        for (int i = 0; i < 6 * batch; i++)
            x[i] = (float)i - 4.0f;
        ortc_tensor in = {ORTC_DTYPE_FLOAT, 3, {batch, 2, 3}, x};
        ortc_tensor out = {0};
        ck_assert_msg(ortc_session_output_shapes(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ck_assert_int_eq(out.rank, 2);
        ck_assert_int_eq(out.dims[0], batch);
        ck_assert_int_eq(out.dims[1], 6);
        out.data = y;
        ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        for (int i = 0; i < 6 * batch; i++)
            ck_assert_float_eq(y[i], x[i] > 0 ? x[i] : 0);
        ortc_plan_stats st;
        ortc_session_plan_stats(s, &st);
        /* Shape, Gather, Unsqueeze, Concat fold; Relu runs; Reshape is a view
         * of Relu's output but, being the graph output, is computed into the
         * caller's buffer */
        ck_assert_uint_eq(st.n_folded, 4);
        ck_assert_uint_eq(st.n_steps, 2);
    }
    ortc_session_destroy(s);
}
END_TEST

/* x (1, 21, 32, 32) -> Relu -> Resize (linear, 8x) -> y (1, 21, 256, 256):
 * the last step of lraspp_mobilenet_v3_large. On an AMD Zen 5 oneDNN
 * 2.6's linear resampling wrote y with aligned non-temporal stores and
 * crashed on a malloc'd (16-byte aligned) output buffer. */
static ortc_model *upsample_model(void)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[4] = {1, 21, 32, 32}, sd[1] = {4};
    const float scales[4] = {1, 1, 8, 8};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 4, d, NULL);
    add_const_f32(g, "scales", 1, sd, scales);
    add_node(g, "Relu", "relu", "x", "r");
    node_attr_string(add_node(g, "Resize", "up", "r,,scales", "y"), "mode", "linear");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

/* off bytes past the first 64-byte boundary in p */
static char *past_line(char *p, size_t off)
{
    return p + ((64 - ((uintptr_t)p & 63)) & 63) + off;
}

/* Caller buffers at any alignment: the same bytes as 64-byte aligned ones
 * (session.c stages the misaligned ones through aligned copies). */
START_TEST(session_runs_on_misaligned_buffers)
{
    enum { NX = 21 * 32 * 32, NY = 21 * 256 * 256 };
    ortc_options o;
    ortc_options_init(&o);
    o.threads = 2;
    ortc_session *s = session_ok(upsample_model(), &o);
    float *xa = aligned_alloc(64, NX * sizeof(float)), *ya = aligned_alloc(64, NY * sizeof(float));
    char *xm = malloc(NX * sizeof(float) + 128), *ym = malloc(NY * sizeof(float) + 128);
    ck_assert(xa && ya && xm && ym);
    for (int i = 0; i < NX; i++)
        xa[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {1, 21, 32, 32}, xa};
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 4, {1, 21, 256, 256}, ya};
    ck_assert_msg(ortc_session_run(s, &in, 1, &out, 1) == ORTC_STATUS_OK, "%s", ortc_last_error());
    /* offsets 4..60: float-aligned, never 64-byte aligned */
    const size_t offs[3] = {4, 16, 60};
    for (int t = 0; t < 3; t++) {
        float *xt = (float *)past_line(xm, offs[(t + 1) % 3]),
              *yt = (float *)past_line(ym, offs[t]);
        memcpy(xt, xa, NX * sizeof(float));
        memset(yt, 0xff, NY * sizeof(float));
        ortc_tensor mi = {ORTC_DTYPE_FLOAT, 4, {1, 21, 32, 32}, xt};
        ortc_tensor mo = {ORTC_DTYPE_FLOAT, 4, {0}, yt};
        ck_assert_msg(ortc_session_run(s, &mi, 1, &mo, 1) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        ck_assert_ptr_eq(mo.data, yt);
        ck_assert_int_eq(mo.rank, 4);
        ck_assert_int_eq(mo.dims[3], 256);
        int bad = 0;
        while (bad < NY && memcmp(&yt[bad], &ya[bad], sizeof(float)) == 0)
            bad++;
        ck_assert_msg(bad == NY, "offset %zu, element %d: %g, aligned run %g", offs[t], bad,
                      bad < NY ? yt[bad] : 0.0, bad < NY ? ya[bad] : 0.0);
    }
    free(xa);
    free(ya);
    free(xm);
    free(ym);
    ortc_session_destroy(s);
}
END_TEST

#if COUNT_ALLOCS
START_TEST(session_run_does_not_allocate_after_first)
{
    ortc_session *s = NULL;
    ortc_options o;
    ortc_options_init(&o);
    o.threads = 2;
    ck_assert_int_eq(ortc_session_create_from_model(&s, flatten_chain_model(), &o), ORTC_STATUS_OK);
    float x[12] = {1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6}, y[12];
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 3, {2, 2, 3}, x};
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 2, {2, 6}, y};
    ck_assert_int_eq(ortc_session_run(s, &in, 1, &out, 1), ORTC_STATUS_OK);
    ortc_status st[5];
    alloc_count_start(); /* no Check assertions while counting: they allocate */
    for (int i = 0; i < 5; i++)
        st[i] = ortc_session_run(s, &in, 1, &out, 1);
    alloc_count_stop();
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(st[i], ORTC_STATUS_OK);
    ck_assert_msg(alloc_count_others() == 0,
                  "%ld heap allocations outside oneDNN during 5 runs at a known shape",
                  alloc_count_others());
    /* the graph has one oneDNN primitive (Relu): its execute allocated the
     * argument map, which shows the attribution works */
    ck_assert_msg(alloc_count_dnnl() > 0, "expected oneDNN's per-execute argument map to be seen");
    ortc_session_destroy(s);
}
END_TEST
#endif

#if COUNT_ALLOCS
/* y = Cast(Transpose(NonZero(x)), float) @ w, x (3, 4): NonZero's output is
 * of data-dependent size, the nodes after it a continuation (segment.c). */
static ortc_model *nonzero_model(void)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[2] = {3, 4}, wd[2] = {2, 3};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 2, d, NULL);
    const float w[6] = {1, 2, 3, 4, 5, 6};
    add_const_f32(g, "w", 2, wd, w);
    add_node(g, "NonZero", "nz", "x", "idx");
    ortc_attr *perm =
        ortc_node_add_attr(add_node(g, "Transpose", "tr", "idx", "t"), "perm", ORTC_ATTR_INTS);
    perm->ints = malloc(2 * sizeof *perm->ints);
    ck_assert_ptr_nonnull(perm->ints);
    perm->ints[0] = 1;
    perm->ints[1] = 0;
    perm->n = 2;
    ortc_node_add_attr(add_node(g, "Cast", "cast", "t", "tf"), "to", ORTC_ATTR_INT)->i =
        ORTC_DTYPE_FLOAT;
    add_node(g, "MatMul", "mm", "tf,w", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

START_TEST(data_dependent_runs_allocate_their_outputs_only)
{
    /* What a run of a model with a value of data-dependent size allocates:
     * once the shapes it meets have been seen (their continuations compiled,
     * the run's pool grown), exactly one malloc per run — the output handed
     * to the caller, whose size only the run knows. A shape never seen
     * compiles a continuation, which allocates. */
    ortc_session *s = NULL;
    ortc_options o;
    ortc_options_init(&o);
    o.threads = 2;
    ck_assert_int_eq(ortc_session_create_from_model(&s, nonzero_model(), &o), ORTC_STATUS_OK);
    float x[3][12];
    for (int i = 0; i < 12; i++) {
        x[0][i] = (float)(i % 3 == 0);      /* 4 non-zeros */
        x[1][i] = (float)(i % 2 == 0) * -2; /* 6 */
        x[2][i] = (float)(i < 11);          /* 11: never seen before the count */
    }
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 2, {3, 4}, NULL};
    ortc_tensor out[8];
    ortc_status st[8];
    for (int w = 0; w < 2; w++) { /* warm up: both shapes seen */
        in.data = x[w];
        out[0] = (ortc_tensor){0};
        ck_assert_int_eq(ortc_session_run(s, &in, 1, &out[0], 1), ORTC_STATUS_OK);
        ortc_tensor_release(&out[0]);
    }
    alloc_count_start(); /* no Check assertions while counting: they allocate */
    for (int i = 0; i < 6; i++) {
        in.data = x[i & 1];
        out[i] = (ortc_tensor){0};
        st[i] = ortc_session_run(s, &in, 1, &out[i], 1);
    }
    alloc_count_stop();
    long per_run = alloc_count_others();
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(st[i], ORTC_STATUS_OK);
        ck_assert_int_eq(out[i].dims[0], (i & 1) ? 6 : 4);
        ortc_tensor_release(&out[i]);
    }
    ck_assert_msg(per_run == 6,
                  "%ld heap allocations outside oneDNN during 6 runs at shapes seen before; "
                  "want 6 (each run's output)",
                  per_run);
    in.data = x[2];
    out[0] = (ortc_tensor){0};
    alloc_count_start();
    st[0] = ortc_session_run(s, &in, 1, &out[0], 1);
    alloc_count_stop();
    ck_assert_int_eq(st[0], ORTC_STATUS_OK);
    ck_assert_int_eq(out[0].dims[0], 11);
    ortc_tensor_release(&out[0]);
    ck_assert_msg(alloc_count_others() > 1, "a new shape's continuation allocated %ld times",
                  alloc_count_others());
    ortc_session_destroy(s);
}
END_TEST
#endif

/* ---- If ------------------------------------------------------------------------------ */

/* y = If(c, then: Relu(x), else: Add(x, ten)); x: (3), c: bool scalar
 * (a graph input, or a constant when cond_value >= 0). The else branch
 * adds `else_bias`, a constant of else_len elements. */
static ortc_model *if_model(int cond_value, int else_len)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {3};
    add_input(g, "x", ORTC_DTYPE_FLOAT, 1, d, NULL);
    if (cond_value < 0) {
        add_input(g, "c", ORTC_DTYPE_BOOL, 0, NULL, NULL);
    } else {
        ortc_const_tensor *c = ortc_const_tensor_new(ORTC_DTYPE_BOOL, 0, NULL);
        *(uint8_t *)c->t.data = (uint8_t)cond_value;
        ortc_value_set_constant(ortc_graph_get_value(g, "c"), c);
    }
    ortc_node *n = add_node(g, "If", "if", "c", "y");
    ortc_graph *then_g = ortc_graph_new(m, g, "then");
    add_node(then_g, "Relu", "then_relu", "x", "t_out");
    ortc_graph_add_output(then_g, ortc_graph_find_local(then_g, "t_out"));
    ortc_graph *else_g = ortc_graph_new(m, g, "else");
    float ten[4] = {10, 20, 30, 40};
    int64_t ed[1] = {else_len};
    add_const_f32(else_g, "ten", 1, ed, ten);
    add_node(else_g, "Add", "else_add", "x,ten", "e_out");
    ortc_graph_add_output(else_g, ortc_graph_find_local(else_g, "e_out"));
    ortc_node_add_attr(n, "then_branch", ORTC_ATTR_GRAPH)->g = then_g;
    ortc_node_add_attr(n, "else_branch", ORTC_ATTR_GRAPH)->g = else_g;
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

START_TEST(if_runs_the_selected_branch)
{
    ortc_session *s = session_ok(if_model(-1, 3), NULL);
    float x[3] = {-1, 2, -3}, y[3];
    for (int c = 0; c <= 1; c++) {
        uint8_t cond = (uint8_t)c;
        ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 1, {3}, x}, {ORTC_DTYPE_BOOL, 0, {0}, &cond}};
        ortc_tensor out = {ORTC_DTYPE_FLOAT, 1, {3}, y};
        ck_assert_msg(ortc_session_run(s, in, 2, &out, 1) == ORTC_STATUS_OK, "%s",
                      ortc_last_error());
        /* then: relu(x) = {0, 2, 0}; else: x + {10, 20, 30} = {9, 22, 27} */
        const float want[2][3] = {{9, 22, 27}, {0, 2, 0}};
        for (int i = 0; i < 3; i++)
            ck_assert_msg(y[i] == want[c][i], "cond %d y[%d] = %g, want %g", c, i, y[i],
                          want[c][i]);
    }
    ortc_session_destroy(s);
}
END_TEST

START_TEST(if_with_constant_condition_compiles_one_branch)
{
    /* the else branch is broken (Add of [3] and [4] cannot broadcast): a
     * constant true condition never compiles it */
    ortc_session *s = session_ok(if_model(1, 4), NULL);
    float x[3] = {-1, 2, -3}, y[3];
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 1, {3}, x};
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 1, {3}, y};
    ck_assert_int_eq(ortc_session_run(s, &in, 1, &out, 1), ORTC_STATUS_OK);
    ck_assert(y[0] == 0 && y[1] == 2 && y[2] == 0);
    ortc_session_destroy(s);
    /* with a condition known only at run time both branches compile, and
     * the broken one is reported with its node and branch */
    ck_assert_int_eq(ortc_session_create_from_model(&s, if_model(-1, 4), NULL),
                     ORTC_STATUS_INVALID_MODEL);
    ck_assert_msg(strstr(ortc_last_error(), "else_branch") &&
                      strstr(ortc_last_error(), "'else_add'"),
                  "%s", ortc_last_error());
}
END_TEST

#if COUNT_ALLOCS
START_TEST(if_runs_do_not_allocate_after_first)
{
    /* the first run takes the then branch; later runs switch branches: a
     * branch's execution context exists from the start, so nothing is
     * allocated on its first use either */
    ortc_session *s = NULL;
    ck_assert_int_eq(ortc_session_create_from_model(&s, if_model(-1, 3), NULL), ORTC_STATUS_OK);
    float x[3] = {-1, 2, -3}, y[3];
    uint8_t cond = 1;
    ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 1, {3}, x}, {ORTC_DTYPE_BOOL, 0, {0}, &cond}};
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 1, {3}, y};
    ck_assert_int_eq(ortc_session_run(s, in, 2, &out, 1), ORTC_STATUS_OK);
    ortc_status st[6];
    float y0[6];
    alloc_count_start(); /* no Check assertions while counting: they allocate */
    for (int i = 0; i < 6; i++) {
        cond = (uint8_t)(i & 1);
        st[i] = ortc_session_run(s, in, 2, &out, 1);
        y0[i] = y[0];
    }
    alloc_count_stop();
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(st[i], ORTC_STATUS_OK);
        /* else: x + {10, 20, 30}; then: relu(x) */
        ck_assert_msg(y0[i] == ((i & 1) ? 0.0f : 9.0f), "run %d: y[0] = %g", i, y0[i]);
    }
    ck_assert_msg(alloc_count_others() == 0,
                  "%ld heap allocations outside oneDNN during 6 runs of an If",
                  alloc_count_others());
    ortc_session_destroy(s);
}
END_TEST
#endif

/* ---- concurrent runs ------------------------------------------------------------- */

typedef struct if_caller {
    ortc_session *s;
    int id, runs, wrong, failed;
    char problem[256];
} if_caller;

static void *if_caller_main(void *arg)
{
    if_caller *c = arg;
    for (int r = 0; r < c->runs; r++) {
        /* each caller and run: its own x and branch */
        float base = (float)(c->id * 1000 + r);
        float x[3] = {base, -base - 1, base + 0.5f}, y[3] = {NAN, NAN, NAN};
        uint8_t cond = (uint8_t)((r + c->id) & 1);
        ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 1, {3}, x}, {ORTC_DTYPE_BOOL, 0, {0}, &cond}};
        ortc_tensor out = {ORTC_DTYPE_FLOAT, 1, {3}, y};
        if (ortc_session_run(c->s, in, 2, &out, 1) != ORTC_STATUS_OK) {
            if (!c->failed++)
                snprintf(c->problem, sizeof c->problem, "run %d: %s", r, ortc_last_error());
            continue;
        }
        for (int i = 0; i < 3; i++) {
            /* then: relu(x); else: x + {10, 20, 30} */
            float want = cond ? (x[i] > 0 ? x[i] : 0) : x[i] + 10.0f * (float)(i + 1);
            if (y[i] != want && !c->wrong++)
                snprintf(c->problem, sizeof c->problem, "run %d cond %d: y[%d] = %g, want %g", r,
                         cond, i, y[i], want);
        }
    }
    return NULL;
}

START_TEST(session_concurrent_runs_with_if_branches)
{
    /* 4 threads share one session whose If runs a oneDNN Relu in one branch
     * and an Add in the other: every run gets its own inputs' answer */
    ortc_options opt;
    ortc_options_init(&opt);
    opt.threads = 1;
    ortc_session *s = session_ok(if_model(-1, 3), &opt);
    enum { CALLERS = 4 };
    if_caller c[CALLERS];
    pthread_t tid[CALLERS];
    for (int i = 0; i < CALLERS; i++) {
        c[i] = (if_caller){.s = s, .id = i, .runs = 300};
        ck_assert_int_eq(pthread_create(&tid[i], NULL, if_caller_main, &c[i]), 0);
    }
    for (int i = 0; i < CALLERS; i++) {
        pthread_join(tid[i], NULL);
        ck_assert_msg(!c[i].wrong && !c[i].failed, "caller %d: %d wrong, %d failed; %s", i,
                      c[i].wrong, c[i].failed, c[i].problem);
    }
    ortc_session_destroy(s);
}
END_TEST

/* y = Gather(table, idx): table a constant of 4 floats, idx an int64 [1]
 * input; an index outside -4..3 fails the run in the kernel */
static ortc_model *gather_model(void)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    int64_t d[1] = {1}, td[1] = {4};
    add_input(g, "idx", ORTC_DTYPE_INT64, 1, d, NULL);
    float table[4] = {10, 20, 30, 40};
    add_const_f32(g, "table", 1, td, table);
    add_node(g, "Gather", "pick", "table,idx", "y");
    ortc_graph_add_output(g, ortc_graph_get_value(g, "y"));
    finalize_ok(g);
    return m;
}

enum { ERR_CALLERS = 4, ERR_KINDS = 2 };

/* Caller id's call of `kind`: 0 fails in the kernel (index 100 + id), 1
 * fails before running (2 + id inputs for the model's 1), 2 succeeds
 * (index id % 4; *y is set). */
static ortc_status gather_call(ortc_session *s, int id, int kind, float *y)
{
    int64_t idx[ERR_CALLERS + 2];
    ortc_tensor in[ERR_CALLERS + 2];
    for (int i = 0; i < ERR_CALLERS + 2; i++) {
        idx[i] = kind == 0 ? 100 + id : id % 4;
        in[i] = (ortc_tensor){ORTC_DTYPE_INT64, 1, {1}, &idx[i]};
    }
    ortc_tensor out = {ORTC_DTYPE_FLOAT, 1, {1}, y};
    return ortc_session_run(s, in, kind == 1 ? (size_t)(2 + id) : 1, &out, 1);
}

typedef struct err_caller {
    ortc_session *s;
    int id, runs;
    char (*msgs)[ERR_KINDS][ORTC_ERR_MAX]; /* [caller][kind], read only */
    int bad;
    char problem[2 * ORTC_ERR_MAX];
} err_caller;

static void *err_caller_main(void *arg)
{
    err_caller *c = arg;
    for (int r = 0; r < c->runs && !c->bad; r++) {
        int kind = r % 3;
        float y = NAN;
        ortc_status st = gather_call(c->s, c->id, kind, &y);
        if (kind == 2) {
            if (st != ORTC_STATUS_OK || y != 10.0f * (float)(c->id % 4 + 1)) {
                snprintf(c->problem, sizeof c->problem, "run %d: status %d, y %g: %s", r, st, y,
                         ortc_last_error());
                c->bad = 1;
            }
        } else if (st == ORTC_STATUS_OK || strcmp(ortc_last_error(), c->msgs[c->id][kind]) != 0) {
            snprintf(c->problem, sizeof c->problem, "run %d: status %d, this thread's error '%s'",
                     r, st, ortc_last_error());
            c->bad = 1;
        }
        /* the session's message: whichever call failed last, or none since
         * a later call started; never a mixture */
        const char *seen = ortc_session_last_error(c->s);
        bool known = seen[0] == '\0';
        for (int i = 0; i < ERR_CALLERS && !known; i++)
            for (int k = 0; k < ERR_KINDS && !known; k++)
                known = strcmp(seen, c->msgs[i][k]) == 0;
        if (!known && !c->bad) {
            snprintf(c->problem, sizeof c->problem, "run %d: session error '%s' is no call's", r,
                     seen);
            c->bad = 1;
        }
    }
    return NULL;
}

START_TEST(session_last_error_under_concurrent_failures)
{
    /* 4 threads fail runs of one session in two ways each (a kernel error, a
     * count error: 8 distinct messages) between successful runs, and read
     * ortc_session_last_error meanwhile. The messages are learnt first from
     * the per-thread ortc_last_error of each call made alone. Under
     * ThreadSanitizer (tools/check-all) an unlocked read is reported. */
    ortc_options opt;
    ortc_options_init(&opt);
    opt.threads = 1;
    ortc_session *s = session_ok(gather_model(), &opt);
    static char msgs[ERR_CALLERS][ERR_KINDS][ORTC_ERR_MAX];
    for (int i = 0; i < ERR_CALLERS; i++)
        for (int k = 0; k < ERR_KINDS; k++) {
            float y;
            ck_assert_int_ne(gather_call(s, i, k, &y), ORTC_STATUS_OK);
            snprintf(msgs[i][k], sizeof msgs[i][k], "%s", ortc_last_error());
            ck_assert_str_eq(ortc_session_last_error(s), msgs[i][k]);
            char want[32];
            snprintf(want, sizeof want, k == 0 ? "index %d " : "; %d given",
                     k == 0 ? 100 + i : 2 + i);
            ck_assert_msg(strstr(msgs[i][k], want), "caller %d kind %d: '%s' lacks '%s'", i, k,
                          msgs[i][k], want);
        }
    err_caller c[ERR_CALLERS];
    pthread_t tid[ERR_CALLERS];
    for (int i = 0; i < ERR_CALLERS; i++) {
        c[i] = (err_caller){.s = s, .id = i, .runs = 600, .msgs = msgs};
        ck_assert_int_eq(pthread_create(&tid[i], NULL, err_caller_main, &c[i]), 0);
    }
    for (int i = 0; i < ERR_CALLERS; i++)
        pthread_join(tid[i], NULL);
    for (int i = 0; i < ERR_CALLERS; i++)
        ck_assert_msg(!c[i].bad, "caller %d: %s", i, c[i].problem);
    ortc_session_destroy(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runtime");
    TCase *ir = tcase_create("ir");
    tcase_add_test(ir, ir_toposort_reorders);
    tcase_add_test(ir, ir_cycle_is_reported);
    tcase_add_test(ir, ir_dangling_input_is_reported);
    tcase_add_test(ir, ir_double_producer_is_reported);
    tcase_add_test(ir, ir_unproduced_output_is_reported);
    suite_add_tcase(s, ir);
    TCase *pl = tcase_create("planner");
    tcase_add_test(pl, planner_random_sets_never_overlap);
    tcase_add_test(pl, planner_chain_reaches_lower_bound);
    tcase_add_test(pl, planner_empty);
    tcase_add_test(pl, planner_slices_conflict);
#if ORTC_POISON
    tcase_add_test(pl, arena_poisoned_outside_live_buffers);
    tcase_add_test(pl, arena_poisoning_reports_planted_faults);
#endif
    suite_add_tcase(s, pl);
    TCase *se = tcase_create("session");
    tcase_add_test(se, session_dynamic_batch_and_plan_cache);
    tcase_add_test(se, session_plan_introspection);
    tcase_add_test(se, session_concat_joins_in_place);
    tcase_add_test(se, session_reference_mode_matches);
    tcase_add_test(se, session_runs_on_misaligned_buffers);
    tcase_add_test(se, session_huge_pages_option);
    tcase_add_test(se, session_primitives_created_beside_the_compile);
    tcase_add_test(se, session_input_errors_name_the_problem);
    tcase_add_test(se, session_unsupported_ops_listed_together);
    tcase_add_test(se, session_folds_shape_chain);
#if COUNT_ALLOCS
    tcase_add_test(se, session_run_does_not_allocate_after_first);
    tcase_add_test(se, data_dependent_runs_allocate_their_outputs_only);
#endif
    suite_add_tcase(s, se);
    /* alone in its case: the ThreadSanitizer step of tools/check-all runs
     * CK_RUN_CASE=concurrency (kernels on one thread; libgomp is not
     * instrumented) */
    TCase *cc = tcase_create("concurrency");
    tcase_add_test(cc, session_concurrent_runs_with_if_branches);
    tcase_add_test(cc, session_last_error_under_concurrent_failures);
    suite_add_tcase(s, cc);
    TCase *cf = tcase_create("control_flow");
    tcase_add_test(cf, if_runs_the_selected_branch);
    tcase_add_test(cf, if_with_constant_condition_compiles_one_branch);
#if COUNT_ALLOCS
    tcase_add_test(cf, if_runs_do_not_allocate_after_first);
#endif
    suite_add_tcase(s, cf);
    return run_suite(s);
}
