/* test_passes.c — the graph passes' Check runner: each pass on small
 * hand-built graphs (what it rewrites, and the near misses it must leave
 * alone), and sessions with opts.optimize 0 and 1 giving the same outputs.
 * Oracles: the unoptimised session (compile.c's own folding and kernels)
 * and plain C written here (BatchNorm folding in double, PyTorch's LRN).
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helper_common.h"
#include "ir.h"
#include "ortc/ortc.h"
#include "passes/pass_impl.h"
#include "session_impl.h"

/* ---- graph building ------------------------------------------------------------ */

/* "2,batch,3" -> rank 3, dims {2,-1,3}, params {NULL,"batch",NULL}; "" -> rank 0 */
static int parse_dims(const char *s, int64_t *dims, char params[][32])
{
    int r = 0;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char tok[32];
        ck_assert(len < sizeof tok && r < ORTC_MAX_RANK);
        memcpy(tok, s, len);
        tok[len] = '\0';
        char *end;
        long long v = strtoll(tok, &end, 10);
        dims[r] = *end ? -1 : v;
        if (params)
            snprintf(params[r], 32, "%s", *end ? tok : "");
        r++;
        s = e ? e + 1 : NULL;
    }
    return r;
}

/* The value `name` as seen from g (enclosing graphs included), else a new
 * local one. */
static ortc_value *val(ortc_graph *g, const char *name)
{
    ortc_value *v = ortc_graph_find_value(g, name);
    if (!v)
        v = ortc_graph_get_value(g, name);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* ins/outs: comma-separated names, "" for an omitted slot ("a,,b"). */
static ortc_node *node(ortc_graph *g, const char *op, const char *name, const char *ins,
                       const char *outs)
{
    const char *lists[2] = {ins, outs};
    char names[2][16][64];
    int count[2] = {0, 0};
    for (int l = 0; l < 2; l++) {
        const char *s = lists[l];
        while (s && *s) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            ck_assert(len < 64 && count[l] < 16);
            memcpy(names[l][count[l]], s, len);
            names[l][count[l]++][len] = '\0';
            if (e && !e[1]) { /* trailing comma: one more omitted slot */
                names[l][count[l]++][0] = '\0';
                break;
            }
            s = e ? e + 1 : NULL;
        }
    }
    ortc_node *n = ortc_graph_add_node(g, op, "", name, count[0], count[1]);
    ck_assert_ptr_nonnull(n);
    for (int i = 0; i < count[0]; i++)
        n->inputs[i] = names[0][i][0] ? val(g, names[0][i]) : NULL;
    for (int k = 0; k < count[1]; k++)
        n->outputs[k] = names[1][k][0] ? ortc_graph_get_value(g, names[1][k]) : NULL;
    return n;
}

static ortc_value *input(ortc_graph *g, const char *name, ortc_dtype dt, const char *dims)
{
    int64_t d[ORTC_MAX_RANK];
    char params[ORTC_MAX_RANK][32];
    int r = parse_dims(dims, d, params);
    ortc_value *v = ortc_graph_get_value(g, name);
    ortc_value_set_shape(v, dt, r, d);
    for (int i = 0; i < r; i++)
        if (params[i][0])
            v->dims[i].param = strdup(params[i]);
    v->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(g, v), 0);
    return v;
}

static void output(ortc_graph *g, const char *name)
{
    ck_assert_int_eq(ortc_graph_add_output(g, val(g, name)), 0);
}

static uint32_t rng_state = 12345;

static float frand(float lo, float hi)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)((rng_state >> 8) & 0xffffff) / (float)0x1000000;
}

static ortc_const_tensor *tensor(ortc_dtype dt, const char *dims)
{
    int64_t d[ORTC_MAX_RANK];
    int r = parse_dims(dims, d, NULL);
    ortc_const_tensor *t = ortc_const_tensor_new(dt, r, d);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* vals NULL: uniform random in [lo, hi) */
static ortc_value *cf32(ortc_graph *g, const char *name, const char *dims, const float *vals,
                        float lo, float hi)
{
    ortc_const_tensor *t = tensor(ORTC_DTYPE_FLOAT, dims);
    float *p = t->t.data;
    for (int64_t i = 0; i < ortc_tensor_numel(&t->t); i++)
        p[i] = vals ? vals[i] : frand(lo, hi);
    ortc_value *v = ortc_graph_get_value(g, name);
    ortc_value_set_constant(v, t);
    return v;
}

static ortc_value *ci64(ortc_graph *g, const char *name, const char *dims, const int64_t *vals)
{
    ortc_const_tensor *t = tensor(ORTC_DTYPE_INT64, dims);
    memcpy(t->t.data, vals, ortc_tensor_bytes(&t->t));
    ortc_value *v = ortc_graph_get_value(g, name);
    ortc_value_set_constant(v, t);
    return v;
}

static ortc_value *cbool(ortc_graph *g, const char *name, bool b)
{
    ortc_const_tensor *t = tensor(ORTC_DTYPE_BOOL, "");
    *(uint8_t *)t->t.data = b;
    ortc_value *v = ortc_graph_get_value(g, name);
    ortc_value_set_constant(v, t);
    return v;
}

/* array, count: node_attr_ints(n, "pads", INTS(1, 1, 1, 1)) */
#define INTS(...) (int64_t[]){__VA_ARGS__}, sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)

static void attr_g(ortc_node *n, const char *name, ortc_graph *sub)
{
    node_attr(n, name, ORTC_ATTR_GRAPH)->g = sub;
}

/* Finalized and resolved, as session creation sees a loaded model. */
static ortc_model *ready(ortc_model *m)
{
    char err[ORTC_ERR_MAX] = "";
    ck_assert_msg(ortc_graph_finalize(m->graph, err, sizeof err) == ORTC_STATUS_OK, "%s", err);
    ortc_errbuf e;
    ortc_err_clear(&e);
    ck_assert_msg(ortc_model_resolve(m, &e) == ORTC_STATUS_OK, "%s", e.msg);
    return m;
}

static int count_op(const ortc_graph *g, const char *op)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += !strcmp(g->nodes[i]->op_type, op);
    return n;
}

static ortc_node *find_op(const ortc_graph *g, const char *op)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i]->op_type, op))
            return g->nodes[i];
    return NULL;
}

/* ---- running passes and sessions -------------------------------------------------- */

typedef ortc_status (*pass_fn)(ortc_pass_ctx *pc);

/* Runs one pass (after shape inference) on m. */
static ortc_pass_stats run_pass(ortc_model *m, pass_fn fn)
{
    ortc_errbuf err;
    ortc_err_clear(&err);
    ortc_pass_ctx pc;
    ortc_pass_ctx_init(&pc, m, NULL, &err);
    ck_assert_msg(ortc_pass_infer(&pc) == ORTC_STATUS_OK, "%s", err.msg);
    ck_assert_msg(fn(&pc) == ORTC_STATUS_OK, "%s", err.msg);
    ortc_pass_stats s = pc.stats;
    ortc_pass_ctx_free(&pc);
    return s;
}

static ortc_pass_stats run_all(ortc_model *m)
{
    ortc_errbuf err;
    ortc_err_clear(&err);
    ortc_pass_stats s;
    ck_assert_msg(ortc_passes_run_stats(m, NULL, &err, &s) == ORTC_STATUS_OK, "%s", err.msg);
    return s;
}

/* Runs m (ownership taken) with opts.optimize; out[k].data is malloc'd. */
static void run_session(ortc_model *m, int optimize, const ortc_tensor *in, int n_in,
                        ortc_tensor *out, int n_out)
{
    ortc_options o;
    ortc_options_init(&o);
    o.optimize = optimize;
    o.threads = 2;
    ortc_session *s = NULL;
    ck_assert_msg(ortc_session_create_from_model(&s, m, &o) == ORTC_STATUS_OK, "optimize=%d: %s",
                  optimize, ortc_last_error());
    memset(out, 0, (size_t)n_out * sizeof *out);
    ck_assert_msg(ortc_session_output_shapes(s, in, (size_t)n_in, out, (size_t)n_out) ==
                      ORTC_STATUS_OK,
                  "%s", ortc_last_error());
    for (int k = 0; k < n_out; k++) {
        out[k].data = malloc(ortc_tensor_bytes(&out[k]) + 1);
        ck_assert_ptr_nonnull(out[k].data);
    }
    ck_assert_msg(ortc_session_run(s, in, (size_t)n_in, out, (size_t)n_out) == ORTC_STATUS_OK,
                  "optimize=%d: %s", optimize, ortc_last_error());
    ortc_session_destroy(s);
}

/* max|got - want| <= rtol * max|want| (+ 1e-30); prints the worst element. */
static void expect_close(const float *got, const float *want, int64_t n, double rtol,
                         const char *what)
{
    double scale = 0, worst = -1;
    int64_t wi = 0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs((double)want[i]));
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= worst)) {
            worst = d;
            wi = i;
        }
    }
    ck_assert_msg(n > 0, "%s: nothing to compare", what);
    ck_assert_msg(worst <= rtol * scale + 1e-30,
                  "%s: worst element %lld: got %.9g, want %.9g (|diff| %.3g > %.1g * max|want| "
                  "%.3g)",
                  what, (long long)wi, (double)got[wi], (double)want[wi], worst, rtol, scale);
}

typedef ortc_model *(*builder)(int variant);

/* The same model run with opts.optimize 0 and 1: same output shapes and
 * values within rtol. Returns nothing; asserts. */
static void expect_same_results(builder build, int variant, const ortc_tensor *in, int n_in,
                                int n_out, double rtol)
{
    ortc_tensor a[4], b[4];
    ck_assert(n_out <= 4);
    run_session(build(variant), 0, in, n_in, a, n_out);
    run_session(build(variant), 1, in, n_in, b, n_out);
    for (int k = 0; k < n_out; k++) {
        ck_assert_int_eq(a[k].rank, b[k].rank);
        for (int d = 0; d < a[k].rank; d++)
            ck_assert_int_eq(a[k].dims[d], b[k].dims[d]);
        char what[96];
        snprintf(what, sizeof what, "variant %d output %d optimize=1 vs 0", variant, k);
        expect_close(b[k].data, a[k].data, ortc_tensor_numel(&a[k]), rtol, what);
        free(a[k].data);
        free(b[k].data);
    }
}

static float *random_data(int64_t n, float lo, float hi)
{
    float *p = malloc((size_t)n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = frand(lo, hi);
    return p;
}

/* ---- shape inference ----------------------------------------------------------------- */

/* x -> Conv(3x3, pad 1) -> Relu -> Flatten -> y */
static ortc_model *conv_flatten_model(int dynamic)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, dynamic ? "batch,3,8,8" : "2,3,8,8");
    cf32(g, "w", "4,3,3,3", NULL, -1, 1);
    cf32(g, "b", "4", NULL, -1, 1);
    ortc_node *c = node(g, "Conv", "conv", "x,w,b", "c");
    node_attr_ints(c, "pads", INTS(1, 1, 1, 1));
    node(g, "Relu", "relu", "c", "r");
    node(g, "Flatten", "flat", "r", "y");
    output(g, "y");
    return ready(m);
}

START_TEST(infer_static_shapes)
{
    ortc_model *m = conv_flatten_model(0);
    ortc_errbuf err;
    ortc_pass_ctx pc;
    ortc_pass_ctx_init(&pc, m, NULL, &err);
    ck_assert_int_eq(ortc_pass_infer(&pc), ORTC_STATUS_OK);
    const ortc_pass_info *c = ortc_pass_value(&pc, ortc_graph_find_value(m->graph, "c"));
    const ortc_pass_info *y = ortc_pass_value(&pc, ortc_graph_find_value(m->graph, "y"));
    ck_assert_int_eq(c->dtype, ORTC_DTYPE_FLOAT);
    ck_assert_int_eq(c->rank, 4);
    ck_assert(c->dims[0] == 2 && c->dims[1] == 4 && c->dims[2] == 8 && c->dims[3] == 8);
    ck_assert_int_eq(y->rank, 2);
    ck_assert(y->dims[0] == 2 && y->dims[1] == 256);
    /* undeclared intermediates are annotated for display; outputs are not */
    const ortc_value *cv = ortc_graph_find_value(m->graph, "c");
    ck_assert_int_eq(cv->rank, 4);
    ck_assert_int_eq(cv->dims[1].value, 4);
    ck_assert_int_eq(ortc_graph_find_value(m->graph, "y")->rank, -1);
    ortc_pass_ctx_free(&pc);
    ortc_model_free(m);
}
END_TEST

START_TEST(infer_leaves_dynamic_dims_unknown)
{
    ortc_model *m = conv_flatten_model(1);
    ortc_errbuf err;
    ortc_pass_ctx pc;
    ortc_pass_ctx_init(&pc, m, NULL, &err);
    ck_assert_int_eq(ortc_pass_infer(&pc), ORTC_STATUS_OK);
    const ortc_pass_info *c = ortc_pass_value(&pc, ortc_graph_find_value(m->graph, "c"));
    ck_assert_int_eq(c->rank, -1);
    ck_assert_int_eq(c->dtype, ORTC_DTYPE_FLOAT); /* dtype still follows */
    ck_assert_int_eq(ortc_graph_find_value(m->graph, "c")->rank, -1);
    ortc_pass_ctx_free(&pc);
    ortc_model_free(m);
}
END_TEST

/* ---- folding -------------------------------------------------------------------------- */

START_TEST(fold_constant_nodes_into_initializers)
{
    /* y = Reshape(x, Concat(Constant [2,3], Constant [4])) */
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,24");
    ortc_node *c1 = node(g, "Constant", "c1", "", "a");
    ortc_const_tensor *t1 = tensor(ORTC_DTYPE_INT64, "2");
    ((int64_t *)t1->t.data)[0] = 2;
    ((int64_t *)t1->t.data)[1] = 3;
    node_attr(c1, "value", ORTC_ATTR_TENSOR)->t = t1;
    ortc_node *c2 = node(g, "Constant", "c2", "", "b");
    ortc_const_tensor *t2 = tensor(ORTC_DTYPE_INT64, "1");
    ((int64_t *)t2->t.data)[0] = 4;
    node_attr(c2, "value", ORTC_ATTR_TENSOR)->t = t2;
    node_attr_int(node(g, "Concat", "cat", "a,b", "shape"), "axis", 0);
    node(g, "Reshape", "reshape", "x,shape", "y");
    output(g, "y");
    ready(m);
    ortc_pass_stats s = run_pass(m, ortc_pass_fold);
    ck_assert_int_eq(s.folded, 3);
    ck_assert_int_eq(g->n_nodes, 1);
    const ortc_value *shape = g->nodes[0]->inputs[1];
    ck_assert_int_eq(shape->kind, ORTC_VALUE_CONSTANT);
    const int64_t *d = shape->constant->t.data;
    ck_assert_int_eq(ortc_tensor_numel(&shape->constant->t), 3);
    ck_assert(d[0] == 2 && d[1] == 3 && d[2] == 4);
    ortc_model_free(m);
}
END_TEST

/* The seed export's x.view(x.size(0), -1):
 * Shape -> Gather(0) -> Unsqueeze -> Concat(., [-1]) -> Reshape. */
static ortc_model *view_chain_model(int dynamic)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, dynamic ? "batch,4,3,3" : "2,4,3,3");
    node(g, "Relu", "relu", "x", "r");
    node(g, "Shape", "shape", "r", "s");
    ortc_const_tensor *zero = tensor(ORTC_DTYPE_INT64, "");
    ortc_value_set_constant(val(g, "idx"), zero);
    node_attr_int(node(g, "Gather", "gather", "s,idx", "b"), "axis", 0);
    ci64(g, "axes", "1", (int64_t[]){0});
    node(g, "Unsqueeze", "unsq", "b,axes", "u");
    ci64(g, "minus1", "1", (int64_t[]){-1});
    node_attr_int(node(g, "Concat", "cat", "u,minus1", "shp"), "axis", 0);
    node(g, "Reshape", "view", "r,shp", "y");
    output(g, "y");
    return ready(m);
}

START_TEST(fold_view_chain_static_becomes_constant)
{
    ortc_model *m = view_chain_model(0);
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.folded, 4); /* Shape, Gather, Unsqueeze, Concat */
    ck_assert_int_eq(m->graph->n_nodes, 2);
    ortc_node *r = find_op(m->graph, "Reshape");
    ck_assert_ptr_nonnull(r);
    const ortc_value *shp = r->inputs[1];
    ck_assert_int_eq(shp->kind, ORTC_VALUE_CONSTANT);
    const int64_t *d = shp->constant->t.data;
    ck_assert(d[0] == 2 && d[1] == -1);
    ortc_model_free(m);
}
END_TEST

START_TEST(fold_view_chain_dynamic_left_for_plans)
{
    ortc_model *m = view_chain_model(1);
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.folded, 0);
    ck_assert_int_eq(count_op(m->graph, "Shape"), 1);
    ck_assert_int_eq(count_op(m->graph, "Gather"), 1);
    ck_assert_int_eq(count_op(m->graph, "Concat"), 1);
    ortc_model_free(m);
    /* and the session still reshapes per batch size */
    for (int batch = 2; batch <= 3; batch++) {
        float *x = random_data(batch * 36, -1, 1);
        ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {batch, 4, 3, 3}, x};
        ortc_tensor out;
        run_session(view_chain_model(1), 1, &in, 1, &out, 1);
        ck_assert_int_eq(out.rank, 2);
        ck_assert(out.dims[0] == batch && out.dims[1] == 36);
        float *want = malloc((size_t)batch * 36 * sizeof *want);
        for (int i = 0; i < batch * 36; i++)
            want[i] = x[i] > 0 ? x[i] : 0;
        expect_close(out.data, want, batch * 36, 0, "dynamic view chain");
        free(want);
        free(out.data);
        free(x);
    }
}
END_TEST

/* Parent: t = Relu(x); (y1, y2) = If(true); z = Add(y1, t); outputs z, y2.
 * then: k = [1,2,3]; t = Add(x, k) (a local named like the parent's t);
 *       u = If(false) {then: Neg(t)} {else: Mul(t, x)}; outputs (u, x).
 * else: broken (Add of [3] and [4]): never compiled.
 * So z = (x + k) * x + relu(x) and y2 = x. */
static ortc_model *const_cond_if_model(int variant)
{
    (void)variant;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "3");
    cbool(g, "c", true);
    node(g, "Relu", "relu", "x", "t");
    ortc_node *top = node(g, "If", "top_if", "c", "y1,y2");
    node(g, "Add", "add", "y1,t", "z");
    output(g, "z");
    output(g, "y2");

    ortc_graph *then_g = ortc_graph_new(m, g, "then");
    cf32(then_g, "k", "3", (float[]){1, 2, 3}, 0, 0);
    ortc_value *tl = ortc_graph_get_value(then_g, "t"); /* shadows the parent's t */
    ortc_node *add = ortc_graph_add_node(then_g, "Add", "", "then_add", 2, 1);
    add->inputs[0] = val(then_g, "x");
    add->inputs[1] = val(then_g, "k");
    add->outputs[0] = tl;
    cbool(then_g, "f", false);
    ortc_node *inner = node(then_g, "If", "inner_if", "f", "u");
    ortc_graph *it = ortc_graph_new(m, then_g, "inner_then");
    node(it, "Neg", "neg", "t", "nt");
    output(it, "nt");
    ortc_graph *ie = ortc_graph_new(m, then_g, "inner_else");
    node(ie, "Mul", "mul", "t,x", "mt");
    ck_assert_ptr_eq(ie->nodes[0]->inputs[0], tl);
    output(ie, "mt");
    attr_g(inner, "then_branch", it);
    attr_g(inner, "else_branch", ie);
    output(then_g, "u");
    output(then_g, "x");

    ortc_graph *else_g = ortc_graph_new(m, g, "else");
    cf32(else_g, "four", "4", NULL, 0, 1);
    node(else_g, "Add", "broken", "x,four", "e1");
    output(else_g, "e1");
    output(else_g, "e1");
    attr_g(top, "then_branch", then_g);
    attr_g(top, "else_branch", else_g);
    return ready(m);
}

START_TEST(fold_inlines_if_with_constant_condition)
{
    ortc_model *m = const_cond_if_model(0);
    ortc_graph *g = m->graph;
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.inlined, 2); /* the outer If, then the inner one it exposed */
    ck_assert_int_eq(count_op(g, "If"), 0);
    ck_assert_int_eq(count_op(g, "Neg"), 0);
    ck_assert_int_eq(count_op(g, "Mul"), 1);
    /* y2 = x: a graph input cannot take an output's name, so a copy stays */
    ck_assert_int_eq(count_op(g, "Identity"), 1);
    /* the parent's t is still the Relu's; the branch's t was renamed */
    const ortc_value *t = ortc_graph_find_local(g, "t");
    ck_assert_ptr_nonnull(t->producer);
    ck_assert_str_eq(t->producer->op_type, "Relu");
    const ortc_node *mul = find_op(g, "Mul");
    ck_assert_str_ne(mul->inputs[0]->name, "t");
    ck_assert_ptr_eq(mul->inputs[0]->graph, g);
    ck_assert_str_eq(mul->inputs[0]->producer->op_type, "Add");
    ortc_model_free(m);

    float x[3] = {-1.5f, 2, -3};
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 1, {3}, x};
    for (int opt = 0; opt <= 1; opt++) {
        ortc_tensor out[2];
        run_session(const_cond_if_model(0), opt, &in, 1, out, 2);
        const float k[3] = {1, 2, 3};
        float want_z[3];
        for (int i = 0; i < 3; i++)
            want_z[i] = (x[i] + k[i]) * x[i] + (x[i] > 0 ? x[i] : 0);
        expect_close(out[0].data, want_z, 3, 1e-6, opt ? "z optimized" : "z");
        expect_close(out[1].data, x, 3, 0, opt ? "y2 optimized" : "y2");
        free(out[0].data);
        free(out[1].data);
    }
}
END_TEST

/* Reshape of a constant [6] to [4,-1]: its operator refuses */
static ortc_model *refusing_model(int variant)
{
    (void)variant;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "4");
    cf32(g, "data", "6", NULL, 0, 1);
    ci64(g, "shape", "2", (int64_t[]){4, -1});
    node(g, "Reshape", "bad_reshape", "data,shape", "r");
    node(g, "Relu", "relu", "x", "y");
    output(g, "y");
    output(g, "r");
    return ready(m);
}

START_TEST(fold_leaves_refused_nodes_to_compile)
{
    ortc_model *m = refusing_model(0);
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.folded, 0);
    ck_assert_int_eq(count_op(m->graph, "Reshape"), 1);
    ortc_model_free(m);
    /* the error surfaces at session creation, as without passes */
    for (int opt = 0; opt <= 1; opt++) {
        ortc_options o;
        ortc_options_init(&o);
        o.optimize = opt;
        ortc_session *sess = NULL;
        ck_assert_int_eq(ortc_session_create_from_model(&sess, refusing_model(0), &o),
                         ORTC_STATUS_INVALID_MODEL);
        ck_assert_msg(strstr(ortc_last_error(), "bad_reshape"), "%s", ortc_last_error());
    }
}
END_TEST

/* ---- elimination ------------------------------------------------------------------------ */

/* x -> Identity -> a -> Relu -> b -> Dropout -> c -> Identity -> y (output);
 * x -> Identity -> y2 (output: both names must survive) */
static ortc_model *identity_model(int variant)
{
    (void)variant;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "4");
    node(g, "Identity", "id1", "x", "a");
    node(g, "Relu", "relu", "a", "b");
    cf32(g, "ratio", "", (float[]){0.5f}, 0, 0);
    node(g, "Dropout", "drop", "b,ratio", "c");
    node(g, "Identity", "id2", "c", "y");
    node(g, "Identity", "id3", "x", "y2");
    output(g, "y");
    output(g, "y2");
    return ready(m);
}

START_TEST(eliminate_identity_and_dropout)
{
    ortc_model *m = identity_model(0);
    ortc_graph *g = m->graph;
    ortc_pass_stats s = run_pass(m, ortc_pass_eliminate);
    ck_assert_int_eq(s.identities, 2);
    ck_assert_int_eq(s.dropouts, 1);
    ck_assert_int_eq(g->n_nodes, 2);
    /* the Relu reads x and writes the graph output y directly */
    const ortc_node *relu = find_op(g, "Relu");
    ck_assert_str_eq(relu->inputs[0]->name, "x");
    ck_assert_str_eq(relu->outputs[0]->name, "y");
    const ortc_node *id = find_op(g, "Identity");
    ck_assert_str_eq(id->inputs[0]->name, "x");
    ck_assert_str_eq(id->outputs[0]->name, "y2");
    ortc_model_free(m);
    float x[4] = {-1, 2, -3, 4};
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 1, {4}, x};
    expect_same_results(identity_model, 0, &in, 1, 2, 0);
}
END_TEST

/* Dropout-13 variants that must stay: 0 training with ratio 0.5 (refused at
 * compile time), 1 its mask is a graph output, 2 training_mode from an input. */
static ortc_model *dropout_kept_model(int variant)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "4");
    cf32(g, "ratio", "", (float[]){0.5f}, 0, 0);
    if (variant == 2)
        input(g, "train", ORTC_DTYPE_BOOL, "");
    else
        cbool(g, "train", variant == 0);
    node(g, "Dropout", "drop", "x,ratio,train", variant == 1 ? "y,mask" : "y");
    output(g, "y");
    if (variant == 1)
        output(g, "mask");
    return ready(m);
}

START_TEST(eliminate_keeps_dropout_that_is_not_a_copy)
{
    for (int v = 0; v < 3; v++) {
        ortc_model *m = dropout_kept_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_eliminate);
        ck_assert_msg(s.dropouts == 0 && count_op(m->graph, "Dropout") == 1, "variant %d", v);
        ortc_model_free(m);
    }
    ortc_session *sess = NULL;
    ck_assert_int_eq(ortc_session_create_from_model(&sess, dropout_kept_model(0), NULL),
                     ORTC_STATUS_UNSUPPORTED);
    ck_assert_msg(strstr(ortc_last_error(), "training"), "%s", ortc_last_error());
}
END_TEST

/* x -> Pad -> AveragePool(2x2) -> y. Removed: 0 Pad-13 with constant zero
 * pads on a symbolic batch, 1 Pad-2 with zero 'pads', 2 reflect mode with
 * zero pads on symbolic spatial dims. Kept: 3 a nonzero pad, 4 zero pads
 * but six of them for a rank-4 input (the operator's error at compile
 * time), 5 pads from a graph input. */
static ortc_model *pad_model(int variant)
{
    ortc_model *m = model_new(variant == 1 ? 10 : 13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT,
          variant == 2                   ? "1,3,h,w"
          : variant == 1 || variant == 4 ? "1,3,4,4"
                                         : "batch,3,4,4");
    const char *ins = "x,pads";
    if (variant == 5)
        input(g, "pads", ORTC_DTYPE_INT64, "8");
    else if (variant == 4)
        ci64(g, "pads", "6", (int64_t[]){0, 0, 0, 0, 0, 0});
    else if (variant != 1)
        ci64(g, "pads", "8", (int64_t[]){0, 0, 0, variant == 3 ? 1 : 0, 0, 0, 0, 0});
    ortc_node *pad = node(g, "Pad", "pad", variant == 1 ? "x" : ins, "p");
    if (variant == 1)
        node_attr_ints(pad, "pads", INTS(0, 0, 0, 0, 0, 0, 0, 0));
    if (variant == 2)
        node_attr_string(pad, "mode", "reflect");
    node_attr_ints(node(g, "AveragePool", "pool", "p", "y"), "kernel_shape", INTS(2, 2));
    output(g, "y");
    return ready(m);
}

START_TEST(eliminate_pad_that_pads_nothing)
{
    for (int v = 0; v <= 5; v++) {
        ortc_model *m = pad_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_eliminate);
        ck_assert_msg(s.pads == 0, "variant %d: a Pad removed before LRN recognition", v);
        s = run_pass(m, ortc_pass_pads);
        bool removed = v <= 2;
        ck_assert_msg(s.pads == (removed ? 1 : 0) && count_op(m->graph, "Pad") == (removed ? 0 : 1),
                      "variant %d: removed %d", v, s.pads);
        if (removed)
            ck_assert_str_eq(find_op(m->graph, "AveragePool")->inputs[0]->name, "x");
        ortc_model_free(m);
    }
    /* the same results without the Pad, at a batch the probes never took */
    rng_state = 77;
    float *x = random_data(96, -1, 1);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {2, 3, 4, 4}, x};
    expect_same_results(pad_model, 0, &in, 1, 1, 0);
    free(x);
    ortc_session *sess = NULL;
    ck_assert_int_ne(ortc_session_create_from_model(&sess, pad_model(4), NULL), ORTC_STATUS_OK);
    ck_assert_msg(strstr(ortc_last_error(), "pad"), "%s", ortc_last_error());
}
END_TEST

/* x -> Pad -> AveragePool/Conv -> y, the Pad merged into the consumer's pads
 * (pass_padfuse.c). Merged: 0 Pad-13 [1,1 | 1,1] on a symbolic batch before
 * a 3x3 stride-1 AveragePool (inception_v3's pooling branches); 1 uneven
 * pads before an AveragePool with pads of its own and count_include_pad;
 * 2 uneven pads before a 3x3 Conv with pads of its own; 3 Pad-2 (pads
 * attribute) before an AveragePool. Kept: 4 ceil_mode; 5 the pool's own
 * pads not counted (count_include_pad 0); 6 MaxPool; 7 pad value 1; 8
 * channels padded; 9 reflect mode; 10 the Pad's output read by a Relu too;
 * 11 a merged pad of 3 before a 3x3 window. */
static ortc_model *padfuse_model(int variant)
{
    rng_state = 4242;
    ortc_model *m = model_new(variant == 3 ? 10 : 13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, variant == 0 ? "batch,3,5,6" : "2,3,5,6");
    int64_t pads[8] = {0, 0, 1, 1, 0, 0, 1, 1};
    if (variant == 1 || variant == 2) {
        pads[2] = 2; /* H begin */
        pads[7] = 0; /* W end */
    }
    if (variant == 8)
        pads[1] = 1;
    if (variant == 11)
        pads[3] = 3; /* W begin */
    const char *pad_in = "x,pads";
    if (variant == 7) {
        cf32(g, "one", "", (const float[]){1.0f}, 0, 0);
        pad_in = "x,pads,one";
    }
    if (variant != 3)
        ci64(g, "pads", "8", pads);
    ortc_node *pad = node(g, "Pad", "pad", variant == 3 ? "x" : pad_in, "p");
    if (variant == 3)
        node_attr_ints(pad, "pads", pads, 8);
    if (variant == 9)
        node_attr_string(pad, "mode", "reflect");
    if (variant == 2) {
        cf32(g, "w", "4,3,3,3", NULL, -1, 1);
        ortc_node *conv = node(g, "Conv", "conv", "p,w", "y");
        node_attr_ints(conv, "kernel_shape", INTS(3, 3));
        node_attr_ints(conv, "pads", INTS(0, 1, 1, 0));
    } else {
        ortc_node *pool = node(g, variant == 6 ? "MaxPool" : "AveragePool", "pool", "p", "y");
        node_attr_ints(pool, "kernel_shape", INTS(3, 3));
        if (variant == 1 || variant == 5)
            node_attr_ints(pool, "pads", INTS(0, 1, 1, 0));
        if (variant == 1)
            node_attr_int(pool, "count_include_pad", 1);
        if (variant == 4) {
            node_attr_ints(pool, "strides", INTS(2, 2));
            node_attr_int(pool, "ceil_mode", 1);
        }
    }
    if (variant == 10)
        node(g, "Relu", "relu", "p", "r");
    output(g, "y");
    if (variant == 10)
        output(g, "r");
    return ready(m);
}

START_TEST(padfuse_merges_zero_pad_into_pool_and_conv)
{
    for (int v = 0; v <= 11; v++) {
        ortc_model *m = padfuse_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_padfuse);
        bool merged = v <= 3;
        ck_assert_msg(s.pads_fused == (merged ? 1 : 0) &&
                          count_op(m->graph, "Pad") == (merged ? 0 : 1),
                      "variant %d: merged %d", v, s.pads_fused);
        if (merged) {
            const ortc_node *n = find_op(m->graph, v == 2 ? "Conv" : "AveragePool");
            ck_assert_str_eq(n->inputs[0]->name, "x");
            size_t count;
            const int64_t *p = ortc_node_attr_ints(n, "pads", &count);
            /* H begin, W begin, H end, W end: the Pad's plus the node's own */
            const int64_t want[4][4] = {{1, 1, 1, 1}, {2, 2, 2, 0}, {2, 2, 2, 0}, {1, 1, 1, 1}};
            ck_assert_uint_eq(count, 4);
            for (int i = 0; i < 4; i++)
                ck_assert_msg(p[i] == want[v][i], "variant %d pads[%d] %lld", v, i,
                              (long long)p[i]);
            if (v != 2)
                ck_assert_int_eq(ortc_node_attr_int(n, "count_include_pad", 0), 1);
        }
        ortc_model_free(m);
    }
    /* the same results with the Pad run as a node (optimize 0) */
    rng_state = 99;
    float *x = random_data(2 * 3 * 5 * 6, -1, 1);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {2, 3, 5, 6}, x};
    for (int v = 0; v <= 3; v++)
        expect_same_results(padfuse_model, v, &in, 1, 1, 1e-6);
    free(x);
}
END_TEST

/* x -> ReduceMean -> y (pass_gap.c). Replaced: 0 axes [2, 3], keepdims 0,
 * symbolic batch (GlobalAveragePool + Flatten); 1 axes [-1, -2], keepdims 1
 * (GlobalAveragePool alone); 2 ReduceMean-11, axes [3, 2], keepdims 1; 3
 * rank 5, axes [2, 3, 4]; 9 x of unknown rank through a Conv (the rank is
 * the weights'). Kept: 4 axes [1, 2, 3]; 5 axes [2] of a rank-4 input; 6
 * rank 3, axes [2]; 7 axes [2, 2]; 8 no axes (every axis); 10 x of unknown
 * rank through a Relu. */
static ortc_model *gap_model(int variant)
{
    rng_state = 5151; /* the same weights in every build */
    ortc_model *m = model_new(variant == 2 ? 11 : 13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT,
          variant == 0   ? "batch,8,5,6"
          : variant == 3 ? "2,8,3,5,6"
          : variant == 6 ? "2,8,5"
                         : "2,8,5,6");
    const char *mean_in = "x";
    if (variant >= 9) {
        ortc_value_set_shape(val(g, "x"), ORTC_DTYPE_FLOAT, -1, NULL);
        if (variant == 9) {
            cf32(g, "w", "4,8,1,1", NULL, -1, 1);
            node(g, "Conv", "conv", "x,w", "c");
        } else
            node(g, "Relu", "relu", "x", "c");
        mean_in = "c";
    }
    ortc_node *n = node(g, "ReduceMean", "mean", mean_in, "y");
    switch (variant) {
    case 0:
    case 9:
    case 10: node_attr_ints(n, "axes", INTS(2, 3)); break;
    case 1: node_attr_ints(n, "axes", INTS(-1, -2)); break;
    case 2: node_attr_ints(n, "axes", INTS(3, 2)); break;
    case 3: node_attr_ints(n, "axes", INTS(2, 3, 4)); break;
    case 4: node_attr_ints(n, "axes", INTS(1, 2, 3)); break;
    case 5:
    case 6: node_attr_ints(n, "axes", INTS(2)); break;
    case 7: node_attr_ints(n, "axes", INTS(2, 2)); break;
    default: break;
    }
    if (variant != 1 && variant != 2)
        node_attr_int(n, "keepdims", 0);
    output(g, "y");
    return ready(m);
}

START_TEST(gap_replaces_spatial_reduce_mean)
{
    for (int v = 0; v <= 10; v++) {
        ortc_model *m = gap_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_gap);
        bool replaced = v <= 3 || v == 9;
        bool flatten = replaced && v != 1 && v != 2;
        ck_assert_msg(s.gap == (replaced ? 1 : 0) &&
                          count_op(m->graph, "ReduceMean") == (replaced ? 0 : 1) &&
                          count_op(m->graph, "GlobalAveragePool") == (replaced ? 1 : 0) &&
                          count_op(m->graph, "Flatten") == (flatten ? 1 : 0),
                      "variant %d: replaced %d", v, s.gap);
        if (replaced)
            ck_assert_str_eq(find_op(m->graph, "GlobalAveragePool")->inputs[0]->name,
                             v == 9 ? "c" : "x");
        ortc_model_free(m);
    }
    /* the same shapes and means as ReduceMean's (optimize 0) */
    rng_state = 31;
    float *x = random_data(2 * 8 * 3 * 5 * 6, -1, 1);
    ortc_tensor in4 = {ORTC_DTYPE_FLOAT, 4, {2, 8, 5, 6}, x};
    ortc_tensor in5 = {ORTC_DTYPE_FLOAT, 5, {2, 8, 3, 5, 6}, x};
    for (int v = 0; v <= 9; v++)
        if (v <= 3 || v == 9)
            expect_same_results(gap_model, v, v == 3 ? &in5 : &in4, 1, 1, 1e-6);
    free(x);
}
END_TEST

/* a = Relu(x), b = Neg(x), c = Abs(x), x: (2, 4, 3, 3); Concats A and B
 * (pass_concat.c), both graph outputs. Shortened: 0 A = (a, b), B = (a, b,
 * c) -> B = (A, c), and C = (a, b, c, x) -> (B, x) (the longest); 3 A = (b,
 * c), B = (a, b, c, x) -> (a, A, x); 5 both axis -3. Kept: 1 B along axis 2;
 * 2 A = (a, c) (not B's order); 4 A = (a, b) = B (same inputs); 6 A = (a)
 * (one input: nothing to save). */
static ortc_model *concat_model(int variant)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "2,4,3,3");
    node(g, "Relu", "relu", "x", "a");
    node(g, "Neg", "neg", "x", "b");
    node(g, "Abs", "abs", "x", "c");
    const char *ins_a = variant == 2 ? "a,c" : variant == 3 ? "b,c" : variant == 6 ? "a" : "a,b";
    const char *ins_b = variant == 3 ? "a,b,c,x" : variant == 4 ? "a,b" : "a,b,c";
    int64_t axis = variant == 5 ? -3 : 1;
    node_attr_int(node(g, "Concat", "catA", ins_a, "A"), "axis", axis);
    node_attr_int(node(g, "Concat", "catB", ins_b, "B"), "axis", variant == 1 ? 2 : axis);
    output(g, "A");
    output(g, "B");
    if (variant == 0) {
        node_attr_int(node(g, "Concat", "catC", "a,b,c,x", "C"), "axis", 1);
        output(g, "C");
    }
    return ready(m);
}

START_TEST(concat_reads_earlier_concat)
{
    for (int v = 0; v <= 6; v++) {
        ortc_model *m = concat_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_concat);
        int want = v == 0 ? 2 : v == 3 || v == 5 ? 1 : 0;
        ck_assert_msg(s.concats == want, "variant %d: shortened %d, want %d", v, s.concats, want);
        const ortc_graph *g = m->graph;
        const ortc_node *b = ortc_graph_find_value(g, "B")->producer;
        if (v == 0 || v == 5) {
            ck_assert_int_eq(b->n_inputs, 2);
            ck_assert_str_eq(b->inputs[0]->name, "A");
            ck_assert_str_eq(b->inputs[1]->name, "c");
        }
        if (v == 0) {
            const ortc_node *c = ortc_graph_find_value(g, "C")->producer;
            ck_assert_int_eq(c->n_inputs, 2);
            ck_assert_str_eq(c->inputs[0]->name, "B");
            ck_assert_str_eq(c->inputs[1]->name, "x");
        }
        if (v == 3) {
            ck_assert_int_eq(b->n_inputs, 3);
            ck_assert_str_eq(b->inputs[0]->name, "a");
            ck_assert_str_eq(b->inputs[1]->name, "A");
            ck_assert_str_eq(b->inputs[2]->name, "x");
        }
        if (!want)
            ck_assert_int_eq(b->n_inputs, v == 4 ? 2 : 3);
        ortc_model_free(m);
    }
    /* the same values as without the passes (exact: only copies) */
    rng_state = 77;
    float *x = random_data(2 * 4 * 3 * 3, -1, 1);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {2, 4, 3, 3}, x};
    for (int v = 0; v <= 6; v++)
        expect_same_results(concat_model, v, &in, 1, v == 0 ? 3 : 2, 0);
    free(x);
}
END_TEST

START_TEST(dead_nodes_and_initializers_removed)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "4");
    node(g, "Relu", "relu", "x", "y");
    node(g, "Sigmoid", "unused", "x", "s");
    node(g, "Tanh", "unused2", "s", "t");
    cf32(g, "w", "1000", NULL, 0, 1);
    cf32(g, "k", "2", NULL, 0, 1);
    output(g, "y");
    output(g, "k"); /* a constant graph output stays */
    ready(m);
    ortc_pass_stats s = run_pass(m, ortc_pass_dead);
    ck_assert_int_eq(s.dead_nodes, 2);
    ck_assert_int_eq(s.dead_values, 1);
    ck_assert_int_eq(g->n_nodes, 1);
    const ortc_value *w = ortc_graph_find_local(g, "w");
    ck_assert(w->kind != ORTC_VALUE_CONSTANT && !w->constant);
    ck_assert_int_eq(ortc_graph_find_local(g, "k")->kind, ORTC_VALUE_CONSTANT);
    ortc_model_info info;
    ortc_model_get_info(m, &info);
    ck_assert_int_eq(info.n_initializers, 1);
    ortc_model_free(m);
}
END_TEST

/* ---- Conv + BatchNormalization ------------------------------------------------------------ */

/* variant: 0 Conv with bias; 1 without; near misses: 2 the Conv output is
 * also a graph output; 3 BN mean is a graph input; 4 BN-15 training_mode;
 * 5 the Conv output has a second reader */
static ortc_model *conv_bn_model(int variant)
{
    rng_state = 777;
    ortc_model *m = model_new(15);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,3,6,6");
    cf32(g, "w", "4,3,3,3", NULL, -1, 1);
    cf32(g, "b", "4", NULL, -1, 1);
    node(g, "Conv", "conv", variant == 1 ? "x,w" : "x,w,b", "c");
    cf32(g, "scale", "4", NULL, 0.5f, 2);
    cf32(g, "beta", "4", NULL, -1, 1);
    if (variant == 3)
        input(g, "mean", ORTC_DTYPE_FLOAT, "4");
    else
        cf32(g, "mean", "4", NULL, -1, 1);
    cf32(g, "var", "4", NULL, 0.1f, 3);
    ortc_node *bn = node(g, "BatchNormalization", "bn", "c,scale,beta,mean,var", "y");
    node_attr_float(bn, "epsilon", 1e-3f);
    if (variant == 4)
        node_attr_int(bn, "training_mode", 1);
    output(g, "y");
    if (variant == 2)
        output(g, "c");
    if (variant == 5) {
        node(g, "Relu", "other", "c", "o");
        output(g, "o");
    }
    return ready(m);
}

START_TEST(bn_folds_into_conv_weights)
{
    for (int v = 0; v <= 1; v++) {
        ortc_model *m = conv_bn_model(v);
        ortc_graph *g = m->graph;
        /* the oracle: the same arithmetic in double from the originals */
        const float *w = ortc_graph_find_local(g, "w")->constant->t.data;
        const float *b = ortc_graph_find_local(g, "b")->constant->t.data;
        const float *sc = ortc_graph_find_local(g, "scale")->constant->t.data;
        const float *be = ortc_graph_find_local(g, "beta")->constant->t.data;
        const float *mu = ortc_graph_find_local(g, "mean")->constant->t.data;
        const float *va = ortc_graph_find_local(g, "var")->constant->t.data;
        float want_w[108], want_b[4];
        for (int c = 0; c < 4; c++) {
            double s = sc[c] / sqrt((double)va[c] + (double)1e-3f);
            for (int j = 0; j < 27; j++)
                want_w[c * 27 + j] = (float)(w[c * 27 + j] * s);
            want_b[c] = (float)(((v == 0 ? b[c] : 0.0) - mu[c]) * s + be[c]);
        }
        ortc_pass_stats s = run_pass(m, ortc_pass_fold_bn);
        ck_assert_int_eq(s.bn_folded, 1);
        ck_assert_int_eq(count_op(g, "BatchNormalization"), 0);
        const ortc_node *conv = find_op(g, "Conv");
        ck_assert_int_eq(conv->n_inputs, 3);
        ck_assert_str_eq(conv->outputs[0]->name, "y");
        expect_close(conv->inputs[1]->constant->t.data, want_w, 108, 1e-7, "folded weights");
        expect_close(conv->inputs[2]->constant->t.data, want_b, 4, 1e-7, "folded bias");
        /* the replaced weights and BN parameters are freed right away */
        static const char *gone[] = {"w", "scale", "beta", "mean", "var"};
        for (size_t k = 0; k < sizeof gone / sizeof *gone; k++)
            ck_assert_msg(!ortc_graph_find_local(g, gone[k])->constant, "'%s' kept", gone[k]);
        ck_assert_int_eq(ortc_graph_find_local(g, "b")->constant == NULL, v == 0);
        ortc_model_free(m);
        float *x = random_data(108, -1, 1);
        ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {1, 3, 6, 6}, x};
        expect_same_results(conv_bn_model, v, &in, 1, 1, 1e-5);
        free(x);
    }
}
END_TEST

START_TEST(bn_shared_weights_survive_until_unused)
{
    /* two Convs read the same weights, each followed by its own BN */
    ortc_model *m = model_new(15);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,3,6,6");
    cf32(g, "w", "4,3,3,3", NULL, -1, 1);
    node(g, "Conv", "conv_a", "x,w", "ca");
    node(g, "Conv", "conv_b", "x,w", "cb");
    cf32(g, "scale", "4", NULL, 0.5f, 2);
    cf32(g, "beta", "4", NULL, -1, 1);
    cf32(g, "mean", "4", NULL, -1, 1);
    cf32(g, "var", "4", NULL, 0.1f, 3);
    node(g, "BatchNormalization", "bn_a", "ca,scale,beta,mean,var", "ya");
    node(g, "BatchNormalization", "bn_b", "cb,scale,beta,mean,var", "yb");
    node(g, "Add", "sum", "ya,yb", "y");
    output(g, "y");
    ready(m);
    ortc_pass_stats s = run_pass(m, ortc_pass_fold_bn);
    ck_assert_int_eq(s.bn_folded, 2);
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i]->op_type, "Conv")) {
            const ortc_value *w = g->nodes[i]->inputs[1];
            ck_assert_ptr_nonnull(w->constant);
            ck_assert_str_ne(w->name, "w");
        }
    ck_assert_ptr_null(ortc_graph_find_local(g, "w")->constant);
    ortc_model_free(m);
}
END_TEST

START_TEST(bn_near_misses_are_left)
{
    for (int v = 2; v <= 5; v++) {
        ortc_model *m = conv_bn_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_fold_bn);
        ck_assert_msg(s.bn_folded == 0 && count_op(m->graph, "BatchNormalization") == 1,
                      "variant %d was folded", v);
        ortc_model_free(m);
    }
}
END_TEST

/* ---- decomposed LRN ---------------------------------------------------------------------- */

enum {
    LRN_OK,             /* PyTorch's pattern, odd size */
    LRN_OK_STRIDES,     /* same with explicit unit strides and count_include_pad=1 */
    LRN_EVEN,           /* size 4: PyTorch's window is not ONNX's */
    LRN_SHIFTED_PADS,   /* pads (size+1)/2 before, (size-3)/2 after: another window */
    LRN_REFLECT,        /* Pad mode reflect */
    LRN_PAD_VALUE,      /* Pad constant value 1 */
    LRN_POOL_PADS,      /* no Pad node: AveragePool pads the channels, count_include_pad=0 */
    LRN_CEIL,           /* ceil_mode=1 */
    LRN_OTHER_SQUARE,   /* Mul(x, x2) */
    LRN_OTHER_DIVIDEND, /* Div(x2, ...) */
    LRN_EXTRA_READER,   /* the Pow output is also a graph output */
    LRN_ALPHA_VECTOR,   /* alpha per channel */
    LRN_NO_ADD,         /* no k */
    LRN_BETA_INPUT,     /* beta from a graph input */
    LRN_KERNEL_WIDE,    /* kernel (size,1,2) */
    LRN_VARIANTS
};

static const int lrn_sizes[LRN_VARIANTS] = {[LRN_EVEN] = 4, [LRN_SHIFTED_PADS] = 5};

/* The graph PyTorch 1.13 exports for nn.LocalResponseNorm(size, 1e-3, 0.75,
 * 2) on a (2,6,3,4) input, as it is after folding (see pass_lrn.c); a
 * variant changes one detail. */
static ortc_model *lrn_model(int variant)
{
    int64_t size = lrn_sizes[variant] ? lrn_sizes[variant] : 3;
    int64_t before = size / 2, after = (size - 1) / 2;
    if (variant == LRN_SHIFTED_PADS) {
        before = (size + 1) / 2;
        after = (size - 3) / 2;
    }
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "2,6,3,4");
    if (variant == LRN_OTHER_SQUARE || variant == LRN_OTHER_DIVIDEND)
        input(g, "x2", ORTC_DTYPE_FLOAT, "2,6,3,4");
    node(g, "Mul", "sq", variant == LRN_OTHER_SQUARE ? "x,x2" : "x,x", "s");
    ci64(g, "axes1", "1", (int64_t[]){1});
    node(g, "Unsqueeze", "unsq", "s,axes1", "u");
    ci64(g, "shape5", "5", (int64_t[]){2, 1, 6, 3, -1});
    node(g, "Reshape", "view5", "u,shape5", "v");
    const char *pool_in = "p2";
    if (variant == LRN_POOL_PADS) {
        pool_in = "v";
    } else {
        ci64(g, "pads", "10", (int64_t[]){0, 0, before, 0, 0, 0, 0, after, 0, 0});
        if (variant == LRN_PAD_VALUE) {
            cf32(g, "one", "", (float[]){1}, 0, 0);
            node(g, "Pad", "pad", "v,pads,one", "p");
        } else {
            ortc_node *pad = node(g, "Pad", "pad", "v,pads,", "p");
            if (variant == LRN_REFLECT)
                node_attr_string(pad, "mode", "reflect");
        }
        ci64(g, "zeros", "10", (int64_t[]){0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        node(g, "Pad", "pad0", "p,zeros", "p2");
    }
    char ins[16];
    snprintf(ins, sizeof ins, "%s", pool_in);
    ortc_node *pool = node(g, "AveragePool", "pool", ins, "q");
    if (variant == LRN_KERNEL_WIDE)
        node_attr_ints(pool, "kernel_shape", INTS(size, 1, 2));
    else
        node_attr_ints(pool, "kernel_shape", INTS(size, 1, 1));
    if (variant == LRN_KERNEL_WIDE)
        node_attr_ints(pool, "pads", INTS(0, 0, 0, 0, 0, 1));
    if (variant == LRN_OK_STRIDES) {
        node_attr_ints(pool, "strides", INTS(1, 1, 1));
        node_attr_int(pool, "count_include_pad", 1);
    }
    if (variant == LRN_POOL_PADS) {
        node_attr_ints(pool, "pads", INTS(before, 0, 0, after, 0, 0));
        node_attr_int(pool, "count_include_pad", 0);
    }
    if (variant == LRN_CEIL)
        node_attr_int(pool, "ceil_mode", 1);
    node(g, "Squeeze", "squeeze", "q,axes1", "r0");
    ci64(g, "shape4", "4", (int64_t[]){2, 6, 3, 4});
    node(g, "Reshape", "view4", "r0,shape4", "r");
    if (variant == LRN_ALPHA_VECTOR)
        cf32(g, "alpha", "1,6,1,1", (float[]){1e-3f, 1e-3f, 1e-3f, 1e-3f, 1e-3f, 2e-3f}, 0, 0);
    else
        cf32(g, "alpha", "", (float[]){1e-3f}, 0, 0);
    node(g, "Mul", "scale", "r,alpha", "ma");
    cf32(g, "k", "", (float[]){2.0f}, 0, 0);
    if (variant != LRN_NO_ADD)
        node(g, "Add", "bias", "ma,k", "a");
    if (variant == LRN_BETA_INPUT)
        input(g, "beta", ORTC_DTYPE_FLOAT, "");
    else
        cf32(g, "beta", "", (float[]){0.75f}, 0, 0);
    node(g, "Pow", "pow", variant == LRN_NO_ADD ? "ma,beta" : "a,beta", "d");
    node(g, "Div", "div", variant == LRN_OTHER_DIVIDEND ? "x2,d" : "x,d", "y");
    output(g, "y");
    if (variant == LRN_EXTRA_READER)
        output(g, "d");
    return ready(m);
}

/* PyTorch's local_response_norm in double: window [c - size//2, c + (size-1)//2]. */
static void torch_lrn(float *y, const float *x, int n, int c, int hw, int size, double alpha,
                      double beta, double k)
{
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < hw; i++) {
                double sum = 0;
                for (int j = ch - size / 2; j <= ch + (size - 1) / 2; j++)
                    if (j >= 0 && j < c) {
                        double v = x[(b * c + j) * hw + i];
                        sum += v * v;
                    }
                double den = pow(k + alpha * sum / size, beta);
                y[(b * c + ch) * hw + i] = (float)(x[(b * c + ch) * hw + i] / den);
            }
}

START_TEST(lrn_pattern_becomes_one_lrn)
{
    int variants[] = {LRN_OK, LRN_OK_STRIDES};
    for (size_t t = 0; t < 2; t++) {
        int v = variants[t];
        ortc_model *m = lrn_model(v);
        ortc_pass_stats s = run_all(m);
        ck_assert_int_eq(s.lrn, 1);
        ck_assert_int_eq(m->graph->n_nodes, 1);
        const ortc_node *lrn = m->graph->nodes[0];
        ck_assert_str_eq(lrn->op_type, "LRN");
        ck_assert_str_eq(lrn->inputs[0]->name, "x");
        ck_assert_str_eq(lrn->outputs[0]->name, "y");
        ck_assert_int_eq(ortc_node_attr_int(lrn, "size", 0), 3);
        ck_assert(ortc_node_attr_float(lrn, "alpha", 0) == 1e-3f);
        ck_assert(ortc_node_attr_float(lrn, "beta", 0) == 0.75f);
        ck_assert(ortc_node_attr_float(lrn, "bias", 0) == 2.0f);
        ortc_model_free(m);
    }
    /* the single LRN computes what PyTorch's decomposition does */
    float *x = random_data(144, -2, 2);
    float want[144];
    torch_lrn(want, x, 2, 6, 12, 3, 1e-3, 0.75, 2.0);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {2, 6, 3, 4}, x};
    ortc_tensor out;
    run_session(lrn_model(LRN_OK), 1, &in, 1, &out, 1);
    expect_close(out.data, want, 144, 1e-5, "LRN vs PyTorch's formula");
    free(out.data);
    expect_same_results(lrn_model, LRN_OK, &in, 1, 1, 1e-5);
    free(x);
}
END_TEST

START_TEST(lrn_near_misses_are_left)
{
    for (int v = LRN_EVEN; v < LRN_VARIANTS; v++) {
        ortc_model *m = lrn_model(v);
        ortc_pass_stats s = run_all(m);
        ck_assert_msg(s.lrn == 0 && count_op(m->graph, "LRN") == 0 &&
                          count_op(m->graph, "Div") == 1,
                      "variant %d became an LRN", v);
        ck_assert_int_eq(s.lrn_kept, v == LRN_EVEN);
        ortc_model_free(m);
    }
}
END_TEST

START_TEST(lrn_even_size_keeps_pytorch_semantics)
{
    float *x = random_data(144, -2, 2);
    float want[144];
    torch_lrn(want, x, 2, 6, 12, 4, 1e-3, 0.75, 2.0);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {2, 6, 3, 4}, x};
    ortc_tensor out;
    run_session(lrn_model(LRN_EVEN), 1, &in, 1, &out, 1);
    expect_close(out.data, want, 144, 1e-5, "even-size decomposition vs PyTorch's formula");
    free(out.data);
    free(x);
}
END_TEST

/* ---- layer normalization ------------------------------------------------------- */

/* PyTorch's LayerNorm before opset 17 over x (last axis 6):
 * y = (x - mean) / sqrt(var + eps) * w + b. Replaced: 0 as exported (symbolic
 * batch), 1 operands swapped and no bias (y = w * n), 2 axes [2] on a static
 * rank-3 x. Kept: 3 axes [1], 4 Pow(d, 3), 5 d also a graph output, 6 eps
 * from a graph input, 7 keepdims 0 on the second ReduceMean. Replaced too:
 * 8 axes [2] on a symbolic batch (the rank known under the probes). */
static ortc_model *ln_model(int variant)
{
    rng_state = 31;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, variant == 2 ? "2,4,6" : "batch,4,6");
    int64_t axis = variant == 3 ? 1 : variant == 2 || variant == 8 ? 2 : -1;
    node_attr_ints(node(g, "ReduceMean", "mean", "x", "m"), "axes", &axis, 1);
    node(g, "Sub", "sub", "x,m", "d");
    cf32(g, "two", "", (float[]){variant == 4 ? 3.0f : 2.0f}, 0, 0);
    node(g, "Pow", "pow", "d,two", "p");
    ortc_node *var = node(g, "ReduceMean", "var", "p", "v");
    node_attr_ints(var, "axes", &axis, 1);
    if (variant == 7)
        node_attr_int(var, "keepdims", 0);
    if (variant == 6)
        input(g, "eps", ORTC_DTYPE_FLOAT, "");
    else
        cf32(g, "eps", "", (float[]){1e-5f}, 0, 0);
    node(g, "Add", "add_eps", variant == 1 ? "eps,v" : "v,eps", "ve");
    node(g, "Sqrt", "sqrt", "ve", "s");
    node(g, "Div", "div", "d,s", "n");
    cf32(g, "w", "6", NULL, 0.5f, 1.5f);
    cf32(g, "b", "6", NULL, -1, 1);
    if (variant == 1) {
        node(g, "Mul", "mul", "w,n", "y");
    } else {
        node(g, "Mul", "mul", "n,w", "wn");
        node(g, "Add", "add_b", "wn,b", "y");
    }
    output(g, "y");
    if (variant == 5)
        output(g, "d");
    return ready(m);
}

START_TEST(ln_pattern_becomes_one_layernorm)
{
    for (int v = 0; v <= 8; v++) {
        ortc_model *m = ln_model(v);
        int before = m->graph->n_nodes;
        ortc_pass_stats s = run_pass(m, ortc_pass_ln);
        bool replaced = v <= 2 || v == 8;
        ck_assert_msg(s.ln == (replaced ? 1 : 0), "variant %d: replaced %d", v, s.ln);
        if (!replaced) {
            ck_assert_int_eq(m->graph->n_nodes, before);
            ck_assert_int_eq(count_op(m->graph, "LayerNormalization"), 0);
            ortc_model_free(m);
            continue;
        }
        ck_assert_int_eq(m->graph->n_nodes, 1);
        const ortc_node *ln = m->graph->nodes[0];
        ck_assert_str_eq(ln->op_type, "LayerNormalization");
        ck_assert_int_eq(ortc_node_version(ln), 17);
        ck_assert_int_eq(ln->n_inputs, v == 1 ? 2 : 3);
        ck_assert_str_eq(ln->inputs[0]->name, "x");
        ck_assert_str_eq(ln->inputs[1]->name, "w");
        if (v != 1)
            ck_assert_str_eq(ln->inputs[2]->name, "b");
        ck_assert_str_eq(ln->outputs[0]->name, "y");
        ck_assert_int_eq(ortc_node_attr_int(ln, "axis", 0), -1);
        ck_assert(ortc_node_attr_float(ln, "epsilon", 0) == 1e-5f);
        ortc_model_free(m);
    }
    /* the same results (the decomposition's nodes are the oracle), at a
     * batch the probes never took */
    rng_state = 8;
    float *x = random_data(48, -2, 2);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 3, {2, 4, 6}, x};
    for (int v = 0; v <= 8; v = v == 2 ? 8 : v + 1)
        expect_same_results(ln_model, v, &in, 1, 1, 1e-5);
    free(x);
}
END_TEST

/* ---- fusion -------------------------------------------------------------------------------- */

/* Fails unless post-op i of n is exactly `want` (kind and the parameters'
 * bits: they travel as floats, never as text). */
static void expect_post_op(const ortc_node *n, int i, ortc_post_op want, const char *what)
{
    char have[96], exp[96];
    ck_assert_msg(i < n->n_post_ops, "%s: node '%s' has %d post-ops, no post-op %d", what, n->name,
                  n->n_post_ops, i);
    const ortc_post_op *po = &n->post_ops[i];
    ck_assert_msg(po->kind == want.kind && !memcmp(&po->alpha, &want.alpha, sizeof want.alpha) &&
                      !memcmp(&po->beta, &want.beta, sizeof want.beta),
                  "%s: post-op %d is %s (%.9g, %.9g), expected %s (%.9g, %.9g)", what, i,
                  ortc_post_op_str(have, sizeof have, po), (double)po->alpha, (double)po->beta,
                  ortc_post_op_str(exp, sizeof exp, &want), (double)want.alpha, (double)want.beta);
}

/* Conv (x:1,2,5,5) followed by one element-wise node `op` (with the
 * attribute/input setup of `variant`) */
enum {
    F_RELU,
    F_LEAKY,
    F_SIGMOID,
    F_TANH,
    F_ELU,
    F_HARDSIGMOID,
    F_CLIP6,
    F_CLIP13,
    F_ELTWISE_COUNT
};

static ortc_model *conv_eltwise_model(int variant)
{
    rng_state = 99;
    ortc_model *m = model_new(variant == F_CLIP6 ? 6 : 13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,2,5,5");
    cf32(g, "w", "3,2,3,3", NULL, -1, 1);
    cf32(g, "b", "3", NULL, -1, 1);
    node(g, "Conv", "conv", "x,w,b", "c");
    ortc_node *e = NULL;
    switch (variant) {
    case F_RELU: e = node(g, "Relu", "act", "c", "y"); break;
    case F_LEAKY:
        e = node(g, "LeakyRelu", "act", "c", "y");
        node_attr_float(e, "alpha", 0.1f);
        break;
    case F_SIGMOID: e = node(g, "Sigmoid", "act", "c", "y"); break;
    case F_TANH: e = node(g, "Tanh", "act", "c", "y"); break;
    case F_ELU: e = node(g, "Elu", "act", "c", "y"); break;
    case F_HARDSIGMOID: e = node(g, "HardSigmoid", "act", "c", "y"); break;
    case F_CLIP6:
        e = node(g, "Clip", "act", "c", "y");
        node_attr_float(e, "min", -0.5f);
        node_attr_float(e, "max", 0.7f);
        break;
    case F_CLIP13:
        cf32(g, "lo", "", (float[]){0}, 0, 0);
        cf32(g, "hi", "", (float[]){6}, 0, 0);
        e = node(g, "Clip", "act", "c,lo,hi", "y");
        break;
    }
    (void)e;
    output(g, "y");
    return ready(m);
}

START_TEST(fuse_eltwise_into_conv)
{
    /* the parameters are the model's floats, or the ONNX defaults (Elu's
     * alpha 1, HardSigmoid's 0.2 and 0.5, FLT_MAX-free Clip-13 bounds) */
    static const ortc_post_op want[F_ELTWISE_COUNT] = {
        {ORTC_POST_OP_RELU, 0.0f, 0.0f},    {ORTC_POST_OP_LEAKY_RELU, 0.1f, 0.0f},
        {ORTC_POST_OP_SIGMOID, 0.0f, 0.0f}, {ORTC_POST_OP_TANH, 0.0f, 0.0f},
        {ORTC_POST_OP_ELU, 1.0f, 0.0f},     {ORTC_POST_OP_HARD_SIGMOID, 0.2f, 0.5f},
        {ORTC_POST_OP_CLIP, -0.5f, 0.7f},   {ORTC_POST_OP_CLIP, 0.0f, 6.0f},
    };
    for (int v = 0; v < F_ELTWISE_COUNT; v++) {
        ortc_model *m = conv_eltwise_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_fuse);
        ck_assert_msg(s.fused == 1, "variant %d: fused %d", v, s.fused);
        ck_assert_int_eq(m->graph->n_nodes, 1);
        const ortc_node *conv = m->graph->nodes[0];
        ck_assert_str_eq(conv->op_type, "Conv");
        ck_assert_str_eq(conv->outputs[0]->name, "y");
        ck_assert_int_eq(conv->n_post_ops, 1);
        char what[32];
        snprintf(what, sizeof what, "variant %d", v);
        expect_post_op(conv, 0, want[v], what);
        ortc_model_free(m);
    }
}
END_TEST

/* Conv(+bias or not) -> Add(other) -> Relu; near misses: 2 the operand
 * broadcasts; 3 the Conv output has another reader; 4 the producer is a Gemm
 * (no sum); 5 Clip-13 with a min only known at run time; 6 the Conv output is
 * a graph output; 7 Clip min > max. Symbolic dims (shapes known only up to
 * a dim_param, as in exports with a dynamic batch): 8 and 9 fuse (x and the
 * operand share 'batch', and 'h' and 'w'); near misses: 10 the operand
 * broadcasts over the batch, 11 its batch is another symbol, 12 its spatial
 * dims are swapped (w, h). */
static const char *const conv_add_symbolic[][2] = {
    {"batch,2,5,5", "batch,3,5,5"}, {"batch,2,h,w", "batch,3,h,w"}, {"batch,2,5,5", "1,3,5,5"},
    {"batch,2,5,5", "n,3,5,5"},     {"batch,2,h,w", "batch,3,w,h"},
};

static ortc_model *conv_add_model(int variant)
{
    rng_state = 4242;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    if (variant >= 8) {
        input(g, "x", ORTC_DTYPE_FLOAT, conv_add_symbolic[variant - 8][0]);
        input(g, "other", ORTC_DTYPE_FLOAT, conv_add_symbolic[variant - 8][1]);
        cf32(g, "w", "3,2,3,3", NULL, -1, 1);
        cf32(g, "b", "3", NULL, -1, 1);
        ortc_node *c = node(g, "Conv", "conv", "x,w,b", "c");
        node_attr_ints(c, "pads", INTS(1, 1, 1, 1));
    } else if (variant == 4) {
        input(g, "x", ORTC_DTYPE_FLOAT, "2,8");
        input(g, "other", ORTC_DTYPE_FLOAT, "2,3");
        cf32(g, "w", "8,3", NULL, -1, 1);
        node(g, "Gemm", "gemm", "x,w", "c");
    } else {
        input(g, "x", ORTC_DTYPE_FLOAT, "1,2,5,5");
        input(g, "other", ORTC_DTYPE_FLOAT, variant == 2 ? "1,3,1,1" : "1,3,5,5");
        cf32(g, "w", "3,2,3,3", NULL, -1, 1);
        cf32(g, "b", "3", NULL, -1, 1);
        ortc_node *c = node(g, "Conv", "conv", variant == 1 ? "x,w" : "x,w,b", "c");
        node_attr_ints(c, "pads", INTS(1, 1, 1, 1));
    }
    if (variant == 5 || variant == 7) {
        if (variant == 5)
            input(g, "lo", ORTC_DTYPE_FLOAT, "");
        else
            cf32(g, "lo", "", (float[]){1}, 0, 0);
        cf32(g, "hi", "", (float[]){0.5f}, 0, 0);
        node(g, "Clip", "clip", "c,lo,hi", "y");
        output(g, "y");
        return ready(m);
    }
    node(g, "Add", "add", "c,other", "a");
    node(g, "Relu", "relu", "a", "y");
    output(g, "y");
    if (variant == 3) {
        node(g, "Sigmoid", "second_reader", "c", "z");
        output(g, "z");
    }
    if (variant == 6)
        output(g, "c");
    return ready(m);
}

START_TEST(fuse_conv_add_relu_as_sum)
{
    for (int v = 0; v <= 9; v = v == 1 ? 8 : v + 1) {
        ortc_model *m = conv_add_model(v);
        ortc_pass_stats s = run_pass(m, ortc_pass_fuse);
        ck_assert_int_eq(s.fused, 2);
        ck_assert_int_eq(m->graph->n_nodes, 1);
        const ortc_node *conv = m->graph->nodes[0];
        ck_assert_int_eq(conv->n_inputs, ORTC_FUSED_SUM_INPUT + 1);
        ck_assert_str_eq(conv->inputs[ORTC_FUSED_SUM_INPUT]->name, "other");
        if (v == 1)
            ck_assert_ptr_null(conv->inputs[2]);
        else
            ck_assert_str_eq(conv->inputs[2]->name, "b");
        ck_assert_int_eq(conv->n_post_ops, 2);
        expect_post_op(conv, 0, (ortc_post_op){ORTC_POST_OP_SUM, 0.0f, 0.0f}, "Conv+Add+Relu");
        expect_post_op(conv, 1, (ortc_post_op){ORTC_POST_OP_RELU, 0.0f, 0.0f}, "Conv+Add+Relu");
        ck_assert_str_eq(conv->outputs[0]->name, "y");
        ortc_model_free(m);
    }
}
END_TEST

START_TEST(fuse_near_misses_are_left)
{
    for (int v = 2; v <= 12; v = v == 7 ? 10 : v + 1) {
        ortc_model *m = conv_add_model(v);
        int before = m->graph->n_nodes;
        ortc_pass_stats s = run_pass(m, ortc_pass_fuse);
        /* variant 2/3/6/10/11/12: the Add is not fused (the Relu after it
         * has no producer to join); 4: Gemm+Add is not a sum; 5/7: the Clip
         * stays */
        ck_assert_msg(s.fused == 0 && m->graph->n_nodes == before,
                      "variant %d: fused %d, %d -> %d nodes", v, s.fused, before,
                      m->graph->n_nodes);
        for (int i = 0; i < m->graph->n_nodes; i++)
            ck_assert_int_eq(m->graph->nodes[i]->n_post_ops, 0);
        ortc_model_free(m);
    }
}
END_TEST

/* BatchNormalization (x:1,3,4,4) followed by `act`: its operator takes a
 * single Relu (oneDNN fuses only that into batch normalization), so a Relu
 * is fused and a Sigmoid, or a Clip after the fused Relu, is left alone. */
static ortc_model *bn_eltwise_model(int variant)
{
    rng_state = 17;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,3,4,4");
    cf32(g, "scale", "3", NULL, -1, 1);
    cf32(g, "bias", "3", NULL, -1, 1);
    cf32(g, "mean", "3", NULL, -1, 1);
    cf32(g, "var", "3", NULL, 0.5f, 2);
    node(g, "BatchNormalization", "bn", "x,scale,bias,mean,var", "n");
    if (variant == 0)
        node(g, "Relu", "act", "n", "y");
    else if (variant == 1)
        node(g, "Sigmoid", "act", "n", "y");
    else {
        node(g, "Relu", "act", "n", "r");
        cf32(g, "lo", "", (float[]){0}, 0, 0);
        cf32(g, "hi", "", (float[]){6}, 0, 0);
        node(g, "Clip", "clip", "r,lo,hi", "y");
    }
    output(g, "y");
    return ready(m);
}

START_TEST(fuse_relu_into_batchnorm_only)
{
    for (int v = 0; v < 3; v++) {
        ortc_model *m = bn_eltwise_model(v);
        int before = m->graph->n_nodes;
        ortc_pass_stats s = run_pass(m, ortc_pass_fuse);
        const ortc_node *bn = find_op(m->graph, "BatchNormalization");
        ck_assert_ptr_nonnull(bn);
        if (v == 1) {
            ck_assert_msg(s.fused == 0 && m->graph->n_nodes == before && bn->n_post_ops == 0,
                          "Sigmoid after BatchNormalization: fused %d", s.fused);
        } else {
            ck_assert_msg(s.fused == 1 && m->graph->n_nodes == before - 1,
                          "variant %d: fused %d, %d -> %d nodes", v, s.fused, before,
                          m->graph->n_nodes);
            ck_assert_int_eq(bn->n_post_ops, 1);
            expect_post_op(bn, 0, (ortc_post_op){ORTC_POST_OP_RELU, 0.0f, 0.0f}, "bn");
            ck_assert_str_eq(bn->outputs[0]->name, v == 0 ? "y" : "r");
        }
        ortc_model_free(m);
    }
    /* the fused graph computes what the unfused one does */
    rng_state = 5;
    float *x = random_data(48, -2, 2);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {1, 3, 4, 4}, x};
    expect_same_results(bn_eltwise_model, 0, &in, 1, 1, 1e-6);
    expect_same_results(bn_eltwise_model, 2, &in, 1, 1, 1e-6);
    free(x);
}
END_TEST

/* SiLU as exporters write it: c = Conv(x); y = Mul(c, Sigmoid(c)).
 * Variants: 0 Mul(c, s); 1 Mul(s, c); then near misses left alone: 2 c has
 * a third reader (Relu, also an output); 3 the Sigmoid's output is a graph
 * output too; 4 the producer is a MaxPool (takes no post-ops); 5 the Mul
 * multiplies by the Sigmoid of another value. Variant 6 is 0 followed by a
 * Relu, which chains onto the Conv after the swish. */
static ortc_model *silu_model(int variant)
{
    rng_state = 23;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,2,5,5");
    cf32(g, "w", "3,2,3,3", NULL, -1, 1);
    cf32(g, "b", "3", NULL, -1, 1);
    if (variant == 4) {
        ortc_node *p = node(g, "MaxPool", "pool", "x", "c");
        node_attr_ints(p, "kernel_shape", (int64_t[]){1, 1}, 2);
    } else
        node(g, "Conv", "conv", "x,w,b", "c");
    if (variant == 5) {
        node(g, "Sigmoid", "sig", "x", "s");
        node(g, "Mul", "mul", "x,s", "y");
        node(g, "Relu", "act", "c", "r");
        output(g, "r");
    } else {
        node(g, "Sigmoid", "sig", "c", "s");
        node(g, "Mul", "mul", variant == 1 ? "s,c" : "c,s", variant == 6 ? "m" : "y");
    }
    if (variant == 6)
        node(g, "Relu", "act", "m", "y");
    output(g, "y");
    if (variant == 2) {
        node(g, "Relu", "act", "c", "r");
        output(g, "r");
    }
    if (variant == 3)
        output(g, "s");
    return ready(m);
}

START_TEST(act_silu_into_producer)
{
    for (int v = 0; v <= 6; v++) {
        ortc_model *m = silu_model(v);
        int before = m->graph->n_nodes;
        ortc_pass_stats s = run_pass(m, ortc_pass_act);
        const ortc_node *p = m->graph->nodes[0];
        if (v >= 2 && v <= 5) {
            ck_assert_msg(s.swish == 0 && m->graph->n_nodes == before && p->n_post_ops == 0,
                          "near miss %d: swish %d, %d -> %d nodes", v, s.swish, before,
                          m->graph->n_nodes);
            ortc_model_free(m);
            continue;
        }
        ck_assert_msg(s.swish == 1 && m->graph->n_nodes == before - 2, "variant %d: %d -> %d", v,
                      before, m->graph->n_nodes);
        ck_assert_str_eq(p->op_type, "Conv");
        expect_post_op(p, 0, (ortc_post_op){ORTC_POST_OP_SWISH, 1.0f, 0.0f}, "silu");
        ck_assert_str_eq(p->outputs[0]->name, v == 6 ? "m" : "y");
        ortc_model_free(m);
    }
    /* the whole pipeline: the Relu after it joins, and results match the
     * unoptimised graph (one rounding of x * sigmoid(x) instead of two) */
    ortc_model *m = silu_model(6);
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.swish, 1);
    ck_assert_int_eq(m->graph->n_nodes, 1);
    ck_assert_int_eq(m->graph->nodes[0]->n_post_ops, 2);
    ortc_model_free(m);
    rng_state = 7;
    float *x = random_data(50, -3, 3);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {1, 2, 5, 5}, x};
    for (int v = 0; v <= 6; v++)
        if (v != 3)
            expect_same_results(silu_model, v, &in, 1, v == 2 || v == 5 ? 2 : 1, 1e-5);
    free(x);
}
END_TEST

/* Hard swish as PyTorch exports it before opset 14: c = Conv(x);
 * y = Mul(c, HardSigmoid(c; alpha 1/6)) (beta: the default 0.5).
 * Variants: 0 as exported, 1 Mul(h, c) with beta 0.5 written out; near
 * misses left alone: 2 alpha 0.2 (HardSigmoid's default: not hard swish),
 * 3 beta 0.4, 4 the HardSigmoid of another value (squeeze-excite's gate). */
static ortc_model *hard_swish_model(int variant)
{
    rng_state = 29;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,2,5,5");
    cf32(g, "w", "3,2,3,3", NULL, -1, 1);
    cf32(g, "b", "3", NULL, -1, 1);
    ortc_node *c = node(g, "Conv", "conv", "x,w,b", "c");
    node_attr_ints(c, "pads", INTS(1, 1, 1, 1));
    ortc_node *h = node(g, "HardSigmoid", "hsig", variant == 4 ? "g" : "c", "h");
    if (variant == 4) {
        cf32(g, "g", "1,3,1,1", NULL, -3, 3);
    }
    if (variant != 2)
        node_attr_float(h, "alpha", (float)(1.0 / 6.0));
    if (variant == 1)
        node_attr_float(h, "beta", 0.5f);
    if (variant == 3)
        node_attr_float(h, "beta", 0.4f);
    node(g, "Mul", "mul", variant == 1 ? "h,c" : "c,h", "y");
    output(g, "y");
    return ready(m);
}

START_TEST(act_hard_swish_into_producer)
{
    for (int v = 0; v <= 4; v++) {
        ortc_model *m = hard_swish_model(v);
        int before = m->graph->n_nodes;
        ortc_pass_stats s = run_pass(m, ortc_pass_act);
        const ortc_node *conv = find_op(m->graph, "Conv");
        if (v >= 2) {
            ck_assert_msg(s.hard_swish == 0 && s.swish == 0 && m->graph->n_nodes == before &&
                              conv->n_post_ops == 0,
                          "near miss %d: hard swish %d, %d -> %d nodes", v, s.hard_swish, before,
                          m->graph->n_nodes);
            ortc_model_free(m);
            continue;
        }
        ck_assert_msg(s.hard_swish == 1 && m->graph->n_nodes == 1, "variant %d: %d -> %d", v,
                      before, m->graph->n_nodes);
        expect_post_op(conv, 0, (ortc_post_op){ORTC_POST_OP_HARD_SWISH, 0.0f, 0.0f}, "hard swish");
        ck_assert_str_eq(conv->outputs[0]->name, "y");
        ortc_model_free(m);
    }
    /* against the unoptimised graph: x / 6 in the post-op, x * float(1/6)
     * in HardSigmoid */
    rng_state = 9;
    float *x = random_data(50, -6, 6);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {1, 2, 5, 5}, x};
    for (int v = 0; v <= 4; v++)
        expect_same_results(hard_swish_model, v, &in, 1, 1, 1e-5);
    free(x);
}
END_TEST

/* Producers are the nodes whose operator declares ORTC_OP_POST_OPS: a
 * ConvTranspose takes an Add as a sum and then its LeakyRelu (alpha:
 * LeakyRelu's own default, 0.01); a MaxPool (no such flag) keeps its Relu.
 * (A sum is fused only first: see ortc_post_ops_can_append.) */
static ortc_model *deconv_chain_model(int variant)
{
    (void)variant;
    rng_state = 77;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,2,4,4");
    input(g, "other", ORTC_DTYPE_FLOAT, "1,3,5,5");
    cf32(g, "w", "2,3,2,2", NULL, -1, 1);
    node(g, "ConvTranspose", "deconv", "x,w", "d");
    node(g, "Add", "add", "other,d", "a");
    node(g, "LeakyRelu", "lrelu", "a", "l");
    node_attr_ints(node(g, "MaxPool", "pool", "l", "p"), "kernel_shape", INTS(2, 2));
    node(g, "Relu", "relu", "p", "y");
    output(g, "y");
    return ready(m);
}

START_TEST(fuse_by_operator_flag)
{
    ortc_model *m = deconv_chain_model(0);
    ortc_graph *g = m->graph;
    ortc_pass_stats s = run_pass(m, ortc_pass_fuse);
    ck_assert_int_eq(s.fused, 2);
    ck_assert_int_eq(g->n_nodes, 3);
    const ortc_node *d = find_op(g, "ConvTranspose");
    ck_assert_int_eq(d->n_post_ops, 2);
    expect_post_op(d, 0, (ortc_post_op){ORTC_POST_OP_SUM, 0.0f, 0.0f}, "ConvTranspose");
    expect_post_op(d, 1, (ortc_post_op){ORTC_POST_OP_LEAKY_RELU, 0.01f, 0.0f}, "ConvTranspose");
    ck_assert_int_eq(d->n_inputs, ORTC_FUSED_SUM_INPUT + 1);
    ck_assert_str_eq(d->inputs[ORTC_FUSED_SUM_INPUT]->name, "other");
    ck_assert_str_eq(d->outputs[0]->name, "l");
    ck_assert_int_eq(find_op(g, "MaxPool")->n_post_ops, 0);
    ck_assert_ptr_nonnull(find_op(g, "Relu"));
    ortc_model_free(m);
    /* the fused session computes what the unfused one does */
    rng_state = 9;
    float *x = random_data(32, -2, 2), *o = random_data(75, -2, 2);
    ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 4, {1, 2, 4, 4}, x},
                         {ORTC_DTYPE_FLOAT, 4, {1, 3, 5, 5}, o}};
    expect_same_results(deconv_chain_model, 0, in, 2, 1, 1e-5);
    free(x);
    free(o);
}
END_TEST

/* ---- fc: input-major weights for fully connected layers fed by a ReLU ---- */

/* 0: Relu -> Gemm(transB=1, W 20x37 + bias): transposed by copy.
 * 1: Gemm(x, W1 37x37) + Relu fused as a post-op -> Gemm(W2 37x37): W2
 *    transposed in place (37: whole 16x16 blocks plus an edge strip); the
 *    first Gemm reads x, no ReLU, and is left.
 * 2: near misses: W shared by two Relu-fed Gemms; transA = 1; no transB. */
static ortc_model *fc_model(int variant)
{
    rng_state = 4242;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,37");
    if (variant == 0) {
        cf32(g, "w", "20,37", NULL, -1, 1);
        cf32(g, "b", "20", NULL, -1, 1);
        node(g, "Relu", "relu", "x", "r");
        node_attr_int(node(g, "Gemm", "fc", "r,w,b", "y"), "transB", 1);
        output(g, "y");
    } else if (variant == 1) {
        cf32(g, "w1", "37,37", NULL, -1, 1);
        cf32(g, "w2", "37,37", NULL, -1, 1);
        node_attr_int(node(g, "Gemm", "fc1", "x,w1", "h"), "transB", 1);
        node(g, "Relu", "relu", "h", "r");
        node_attr_int(node(g, "Gemm", "fc2", "r,w2", "y"), "transB", 1);
        output(g, "y");
    } else {
        cf32(g, "w", "37,37", NULL, -1, 1);
        cf32(g, "wa", "37,37", NULL, -1, 1);
        cf32(g, "wn", "37,37", NULL, -1, 1);
        node(g, "Relu", "relu", "x", "r");
        node_attr_int(node(g, "Gemm", "shared_a", "r,w", "ya"), "transB", 1);
        node_attr_int(node(g, "Gemm", "shared_b", "r,w", "yb"), "transB", 1);
        ortc_node *ta = node(g, "Gemm", "trans_a", "r,wa", "yc");
        node_attr_int(ta, "transA", 1);
        node_attr_int(ta, "transB", 1);
        node(g, "Gemm", "plain", "r,wn", "yd");
        node(g, "Sum", "sum", "ya,yb,yc,yd", "y");
        output(g, "y");
    }
    return ready(m);
}

static const ortc_node *node_named(const ortc_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i]->name, name))
            return g->nodes[i];
    ck_abort_msg("no node '%s'", name);
    return NULL;
}

START_TEST(fc_weights_transposed_after_relu)
{
    static const struct {
        const char *node, *w;
        int64_t n, k;
    } cases[2] = {{"fc", "w", 20, 37}, {"fc2", "w2", 37, 37}};
    for (int v = 0; v <= 1; v++) {
        ortc_model *m = fc_model(v);
        ortc_graph *g = m->graph;
        const int64_t n = cases[v].n, k = cases[v].k;
        float *orig = malloc((size_t)(n * k) * sizeof *orig);
        ck_assert_ptr_nonnull(orig);
        memcpy(orig, ortc_graph_find_local(g, cases[v].w)->constant->t.data,
               (size_t)(n * k) * sizeof *orig);
        ortc_pass_stats s = run_pass(m, ortc_pass_fuse);
        s = run_pass(m, ortc_pass_fc);
        ck_assert_int_eq(s.fc_transposed, 1);
        const ortc_node *fc = node_named(g, cases[v].node);
        ck_assert_int_eq(ortc_node_attr_int(fc, "transB", 1), 0);
        const ortc_tensor *t = &fc->inputs[1]->constant->t;
        ck_assert_int_eq(t->rank, 2);
        ck_assert_int_eq(t->dims[0], k);
        ck_assert_int_eq(t->dims[1], n);
        const float *wt = t->data;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < k; j++)
                ck_assert_msg(wt[j * n + i] == orig[i * k + j],
                              "variant %d: W^T[%lld][%lld] is %g, W[%lld][%lld] %g", v,
                              (long long)j, (long long)i, (double)wt[j * n + i], (long long)i,
                              (long long)j, (double)orig[i * k + j]);
        /* the (N, K) original is gone */
        ck_assert_ptr_null(ortc_graph_find_local(g, cases[v].w)->constant);
        if (v == 1)
            ck_assert_int_eq(ortc_node_attr_int(node_named(g, "fc1"), "transB", 0), 1);
        free(orig);
        ortc_model_free(m);
        float x[37];
        for (int i = 0; i < 37; i++)
            x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f; /* about half negative */
        ortc_tensor in = {ORTC_DTYPE_FLOAT, 2, {1, 37}, x};
        expect_same_results(fc_model, v, &in, 1, 1, 1e-5);
    }
}
END_TEST

START_TEST(fc_near_misses_are_left)
{
    ortc_model *m = fc_model(2);
    ortc_pass_stats s = run_pass(m, ortc_pass_fc);
    ck_assert_int_eq(s.fc_transposed, 0);
    static const char *names[] = {"shared_a", "shared_b", "trans_a"};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ortc_node_attr_int(node_named(m->graph, names[i]), "transB", 0), 1);
    ortc_model_free(m);
}
END_TEST

START_TEST(fuse_gemm_and_matmul_followers)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "2,8");
    cf32(g, "w", "8,4", NULL, -1, 1);
    node(g, "Gemm", "gemm", "x,w", "a");
    node(g, "Relu", "relu", "a", "b");
    cf32(g, "w2", "4,3", NULL, -1, 1);
    node(g, "MatMul", "mm", "b,w2", "c");
    ortc_node *lr = node(g, "LeakyRelu", "lrelu", "c", "y");
    node_attr_float(lr, "alpha", 0.25f);
    output(g, "y");
    ready(m);
    ortc_pass_stats s = run_pass(m, ortc_pass_fuse);
    ck_assert_int_eq(s.fused, 2);
    ck_assert_int_eq(g->n_nodes, 2);
    expect_post_op(find_op(g, "Gemm"), 0, (ortc_post_op){ORTC_POST_OP_RELU, 0.0f, 0.0f}, "Gemm");
    expect_post_op(find_op(g, "MatMul"), 0, (ortc_post_op){ORTC_POST_OP_LEAKY_RELU, 0.25f, 0.0f},
                   "MatMul");
    ck_assert_str_eq(find_op(g, "MatMul")->inputs[0]->name, "b");
    ortc_model_free(m);
}
END_TEST

/* ---- QDQ groups (pass_qdq.c) ---------------------------------------------------- */

/* A constant of any fixed-size dtype from raw values. */
static ortc_value *cvals(ortc_graph *g, const char *name, ortc_dtype dt, const char *dims,
                         const void *vals)
{
    ortc_const_tensor *t = tensor(dt, dims);
    memcpy(t->t.data, vals, ortc_tensor_bytes(&t->t));
    ortc_value *v = ortc_graph_get_value(g, name);
    ortc_value_set_constant(v, t);
    return v;
}

/* A Conv group as PyTorch's QDQ export writes it: xq (uint8) -> DQ ->
 * Conv(DQ(Q(float weights, per channel)), bias) -> Relu -> Q, every zero
 * point an int32 initializer through Cast, shared through Identity nodes
 * (y's zero point is Identity(x's Cast), the weights' Identity(Cast(...))).
 * variant 0: that; 1: x's zero point is Identity of a graph input (not a
 * constant: left in float32); 2: as 0 without the trailing Q (float32
 * output, for comparing results). */
static ortc_model *qdq_conv_model(int variant)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    rng_state = 1616;
    input(g, "xq", ORTC_DTYPE_UINT8, "1,3,6,6");
    cf32(g, "xs", "1", (float[]){0.02f}, 0, 0);
    cvals(g, "zp32", ORTC_DTYPE_INT32, "1", (int32_t[]){7});
    ortc_node *cast = node(g, "Cast", "zp_cast", "zp32", "zp8");
    node_attr_int(cast, "to", ORTC_DTYPE_UINT8);
    if (variant == 1) {
        input(g, "zin", ORTC_DTYPE_UINT8, "1");
        node(g, "Identity", "x_zp", "zin", "xz");
    } else {
        node(g, "Identity", "x_zp", "zp8", "xz");
    }
    node(g, "DequantizeLinear", "x_dq", "xq,xs,xz", "xd");
    cf32(g, "w", "4,3,3,3", NULL, -0.5f, 0.5f);
    cf32(g, "ws", "4", (float[]){0.004f, 0.0035f, 0.005f, 0.003f}, 0, 0);
    cvals(g, "wz32", ORTC_DTYPE_INT32, "4", (int32_t[]){0, 0, 0, 0});
    ortc_node *wcast = node(g, "Cast", "wz_cast", "wz32", "wz8");
    node_attr_int(wcast, "to", ORTC_DTYPE_INT8);
    node(g, "Identity", "w_zp", "wz8", "wz");
    node_attr_int(node(g, "QuantizeLinear", "w_q", "w,ws,wz", "wq"), "axis", 0);
    node_attr_int(node(g, "DequantizeLinear", "w_dq", "wq,ws,wz", "wd"), "axis", 0);
    cf32(g, "b", "4", NULL, -0.2f, 0.2f);
    ortc_node *c = node(g, "Conv", "conv", "xd,wd,b", "c");
    node_attr_ints(c, "pads", INTS(1, 1, 1, 1));
    node(g, "Relu", "relu", "c", variant == 2 ? "y" : "r");
    if (variant != 2) {
        cf32(g, "ys", "1", (float[]){0.01f}, 0, 0);
        node(g, "Identity", "y_zp", "zp8", "yz");
        node(g, "QuantizeLinear", "y_q", "r,ys,yz", "y");
    }
    output(g, "y");
    return ready(m);
}

START_TEST(qdq_conv_with_shared_zero_points)
{
    for (int v = 0; v < 3; v++) {
        ortc_model *m = qdq_conv_model(v);
        ortc_graph *g = m->graph;
        ortc_pass_stats s = run_pass(m, ortc_pass_qdq);
        ck_assert_msg(s.qdq_groups == (v == 1 ? 0 : 1), "variant %d: %d groups", v, s.qdq_groups);
        ck_assert_int_eq(count_op(g, "QLinearConv"), v == 1 ? 0 : 1);
        ck_assert_int_eq(count_op(g, "Conv"), v == 1 ? 1 : 0);
        const ortc_node *q = find_op(g, "QLinearConv");
        if (q) {
            /* reads the quantized input, its zero point the folded constant 7 */
            ck_assert_str_eq(q->inputs[0]->name, "xq");
            ck_assert_int_eq(q->inputs[2]->kind, ORTC_VALUE_CONSTANT);
            ck_assert_int_eq(*(const uint8_t *)q->inputs[2]->constant->t.data, 7);
            ck_assert_str_eq(q->outputs[0]->name, "y");
            ck_assert_int_eq(count_op(g, "Identity"), 0);
        }
        ortc_model_free(m);
    }
    uint8_t x[108];
    for (int i = 0; i < 108; i++)
        x[i] = (uint8_t)((i * 37) % 61);
    ortc_tensor in = {ORTC_DTYPE_UINT8, 4, {1, 3, 6, 6}, x};
    /* the fused int8 op against the graph's float32 arithmetic (float32
     * rounding of the scales times an exact integer accumulator) */
    expect_same_results(qdq_conv_model, 2, &in, 1, 1, 1e-5);
}
END_TEST

/* A Gemm group as PyTorch exports a Linear after a change of scale:
 * aq -> DQ -> Q (another scale) -> DQ -> Gemm(transB 1, weights DQ(Q(float
 * (N, K), per row)), bias C) -> Relu [-> Q]. variant 0 float output, 1
 * requantized, 2 transA 1 (oneDNN's matmul is not used: left alone). */
static ortc_model *qdq_gemm_model(int variant)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    rng_state = 1617;
    input(g, "aq", ORTC_DTYPE_UINT8, variant == 2 ? "16,1" : "1,16");
    cf32(g, "s1", "", (float[]){0.03f}, 0, 0);
    cvals(g, "z1", ORTC_DTYPE_UINT8, "", (uint8_t[]){100});
    node(g, "DequantizeLinear", "a_dq1", "aq,s1,z1", "a1");
    cf32(g, "s2", "", (float[]){0.05f}, 0, 0);
    cvals(g, "z2", ORTC_DTYPE_UINT8, "", (uint8_t[]){60});
    node(g, "QuantizeLinear", "a_q2", "a1,s2,z2", "aq2");
    node(g, "DequantizeLinear", "a_dq2", "aq2,s2,z2", "ad");
    cf32(g, "w", "8,16", NULL, -0.5f, 0.5f);
    float ws[8];
    for (int i = 0; i < 8; i++)
        ws[i] = 0.003f + 0.0005f * (float)i;
    cf32(g, "ws", "8", ws, 0, 0);
    cvals(g, "wz", ORTC_DTYPE_INT8, "8", (int8_t[]){0, 0, 0, 0, 0, 0, 0, 0});
    node_attr_int(node(g, "QuantizeLinear", "w_q", "w,ws,wz", "wq"), "axis", 0);
    node_attr_int(node(g, "DequantizeLinear", "w_dq", "wq,ws,wz", "wd"), "axis", 0);
    cf32(g, "bias", "8", NULL, -0.3f, 0.3f);
    ortc_node *gm = node(g, "Gemm", "fc", "ad,wd,bias", "c");
    node_attr_int(gm, "transB", 1);
    if (variant == 2)
        node_attr_int(gm, "transA", 1);
    node(g, "Relu", "relu", "c", variant == 1 ? "r" : "y");
    if (variant == 1) {
        cf32(g, "ys", "", (float[]){0.02f}, 0, 0);
        node(g, "QuantizeLinear", "y_q", "r,ys", "y");
    }
    output(g, "y");
    return ready(m);
}

START_TEST(qdq_gemm_trans_b_after_requantize)
{
    for (int v = 0; v < 3; v++) {
        ortc_model *m = qdq_gemm_model(v);
        ortc_graph *g = m->graph;
        ortc_pass_stats s = run_pass(m, ortc_pass_qdq);
        ck_assert_msg(s.qdq_groups == (v == 2 ? 0 : 1), "variant %d: %d groups", v, s.qdq_groups);
        const ortc_node *q = find_op(g, "QLinearMatMul");
        ck_assert_int_eq(q != NULL, v != 2);
        if (q) {
            /* reads the second quantization; weights (K, N) int8 */
            ck_assert_str_eq(q->inputs[0]->name, "aq2");
            const ortc_tensor *w = &q->inputs[3]->constant->t;
            ck_assert_int_eq(w->dtype, ORTC_DTYPE_INT8);
            ck_assert_int_eq(w->dims[0], 16);
            ck_assert_int_eq(w->dims[1], 8);
            ck_assert_int_eq(q->outputs[0]->name[0], 'y');
        }
        ortc_model_free(m);
    }
    uint8_t a[16];
    for (int i = 0; i < 16; i++)
        a[i] = (uint8_t)(40 + i * 11);
    ortc_tensor in = {ORTC_DTYPE_UINT8, 2, {1, 16}, a};
    expect_same_results(qdq_gemm_model, 0, &in, 1, 1, 1e-5);
}
END_TEST

/* aq (uint8) -> DQ -> Gemm(transB 1, weights DQ(int8 (N, K) initializer))
 * -> y (float32), N = 136 and K = 72: the pass's transpose to (K, N) runs
 * whole 64 x 64 tiles and edge tiles on both axes. */
enum { QT_N = 136, QT_K = 72 };
static int8_t qt_w[QT_N * QT_K];

static ortc_model *qdq_gemm_tiles_model(int variant)
{
    (void)variant;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "aq", ORTC_DTYPE_UINT8, "1,72");
    cf32(g, "as", "", (float[]){0.02f}, 0, 0);
    cvals(g, "az", ORTC_DTYPE_UINT8, "", (uint8_t[]){128});
    node(g, "DequantizeLinear", "a_dq", "aq,as,az", "ad");
    for (int i = 0; i < QT_N * QT_K; i++)
        qt_w[i] = (int8_t)((i * 131 + i / QT_K * 7) % 255 - 127);
    cvals(g, "wq", ORTC_DTYPE_INT8, "136,72", qt_w);
    cf32(g, "ws", "", (float[]){0.001f}, 0, 0);
    node(g, "DequantizeLinear", "w_dq", "wq,ws", "wd");
    node_attr_int(node(g, "Gemm", "fc", "ad,wd", "y"), "transB", 1);
    output(g, "y");
    return ready(m);
}

START_TEST(qdq_gemm_trans_b_tiles)
{
    ortc_model *m = qdq_gemm_tiles_model(0);
    ortc_pass_stats s = run_pass(m, ortc_pass_qdq);
    ck_assert_int_eq(s.qdq_groups, 1);
    const ortc_node *q = find_op(m->graph, "QLinearMatMul");
    ck_assert_ptr_nonnull(q);
    const ortc_tensor *w = &q->inputs[3]->constant->t;
    ck_assert_int_eq(w->dims[0], QT_K);
    ck_assert_int_eq(w->dims[1], QT_N);
    const int8_t *wt = w->data;
    for (int k = 0; k < QT_K; k++)
        for (int n = 0; n < QT_N; n++)
            ck_assert_msg(wt[k * QT_N + n] == qt_w[n * QT_K + k], "w[%d][%d] = %d, want %d", k, n,
                          wt[k * QT_N + n], qt_w[n * QT_K + k]);
    ortc_model_free(m);
    uint8_t a[QT_K];
    for (int i = 0; i < QT_K; i++)
        a[i] = (uint8_t)(30 + i * 3);
    ortc_tensor in = {ORTC_DTYPE_UINT8, 2, {1, QT_K}, a};
    expect_same_results(qdq_gemm_tiles_model, 0, &in, 1, 1, 1e-5);
}
END_TEST

/* a, b float32 -> Add -> Relu -> QuantizeLinear -> y (uint8). variant 0:
 * that; 1: the Relu's output is also a graph output (the fused node writes
 * it as output 1); 2: b broadcasts ([4,1,1]: the Add stays, the Relu folds);
 * 3: the scale is a graph input (not constant: left alone). */
static ortc_model *add_relu_q_model(int variant)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "a", ORTC_DTYPE_FLOAT, "1,4,3,3");
    input(g, "b", ORTC_DTYPE_FLOAT, variant == 2 ? "4,1,1" : "1,4,3,3");
    if (variant == 3)
        input(g, "s", ORTC_DTYPE_FLOAT, "");
    else
        cf32(g, "s", "", (float[]){0.03f}, 0, 0);
    cvals(g, "z", ORTC_DTYPE_UINT8, "", (uint8_t[]){5});
    node(g, "Add", "add", "a,b", "t");
    node(g, "Relu", "relu", "t", "r");
    node(g, "QuantizeLinear", "q", "r,s,z", "y");
    output(g, "y");
    if (variant == 1)
        output(g, "r");
    return ready(m);
}

START_TEST(qdq_add_relu_into_quantize)
{
    static const int folded[4] = {2, 2, 1, 0};
    for (int v = 0; v < 4; v++) {
        ortc_model *m = add_relu_q_model(v);
        ortc_graph *g = m->graph;
        ortc_pass_stats s = run_pass(m, ortc_pass_qdq);
        ck_assert_int_eq(s.qdq_quant, v == 3 ? 0 : 1);
        ck_assert_int_eq(count_op(g, "Relu"), v == 3);
        ck_assert_int_eq(count_op(g, "Add"), v >= 2);
        const ortc_node *q = find_op(g, "QuantizeLinear");
        ck_assert_int_eq(q->n_post_ops, folded[v]);
        if (v < 2) {
            ck_assert_int_eq(q->post_ops[0].kind, ORTC_POST_OP_SUM);
            ck_assert_int_eq(q->post_ops[1].kind, ORTC_POST_OP_RELU);
            ck_assert_str_eq(q->inputs[0]->name, "a");
            ck_assert_str_eq(q->inputs[ORTC_FUSED_SUM_INPUT]->name, "b");
        }
        ck_assert_int_eq(q->n_outputs, v == 1 ? 2 : 1);
        if (v == 1)
            ck_assert_str_eq(q->outputs[1]->name, "r");
        ortc_model_free(m);
    }
    /* the same bytes as the float32 ops one by one */
    float a[36], b[36];
    for (int i = 0; i < 36; i++) {
        a[i] = frand(-4, 4);
        b[i] = frand(-4, 4);
    }
    for (int v = 0; v < 3; v++) {
        ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 4, {1, 4, 3, 3}, a},
                             {ORTC_DTYPE_FLOAT, v == 2 ? 3 : 4, {1, 4, 3, 3}, b}};
        if (v == 2) {
            in[1].dims[0] = 4;
            in[1].dims[1] = in[1].dims[2] = 1;
        }
        int n_out = v == 1 ? 2 : 1;
        ortc_tensor r0[2], r1[2];
        run_session(add_relu_q_model(v), 0, in, 2, r0, n_out);
        run_session(add_relu_q_model(v), 1, in, 2, r1, n_out);
        for (int k = 0; k < n_out; k++) {
            ck_assert_int_eq(r0[k].dtype, r1[k].dtype);
            ck_assert_msg(!memcmp(r0[k].data, r1[k].data, ortc_tensor_bytes(&r0[k])),
                          "variant %d output %d differs from the unfused graph", v, k);
            free(r0[k].data);
            free(r1[k].data);
        }
    }
}
END_TEST

/* MaxPool between quantized values (pass_qdq.c try_hoist / try_cancel):
 * variant 0: xq (uint8, zero 7) -> DQ -> MaxPool(3x3, stride 2, pads 1) ->
 * Flatten -> Q (the same parameters) -> y: both ops run on xq, no DQ/Q
 * left; 1: the Q's scale differs (left in float32); 2: the MaxPool's
 * output is a graph output too (left alone); 3: x (float32) -> Relu ->
 * MaxPool -> Flatten -> Q: the Q moves onto the Relu's output (then folds
 * it); 4: x -> MaxPool -> Flatten -> Q, nothing before the pool (left
 * alone); 5: int8 xq (zero -3) -> DQ -> MaxPool(2x2, stride 2, ceil_mode)
 * -> Q, no Flatten. */
static ortc_model *qdq_pool_model(int variant)
{
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    const bool f32 = variant == 3 || variant == 4, s8 = variant == 5;
    input(g, "xq", f32 ? ORTC_DTYPE_FLOAT : s8 ? ORTC_DTYPE_INT8 : ORTC_DTYPE_UINT8, "1,4,7,7");
    cf32(g, "s", "", (float[]){0.05f}, 0, 0);
    cf32(g, "s2", "", (float[]){0.06f}, 0, 0);
    if (s8)
        cvals(g, "z", ORTC_DTYPE_INT8, "", (int8_t[]){-3});
    else
        cvals(g, "z", ORTC_DTYPE_UINT8, "", (uint8_t[]){7});
    if (variant == 3)
        node(g, "Relu", "relu", "xq", "xd");
    else if (variant != 4)
        node(g, "DequantizeLinear", "dq", "xq,s,z", "xd");
    ortc_node *mp = node(g, "MaxPool", "pool", variant == 4 ? "xq" : "xd", "p");
    if (s8) {
        node_attr_ints(mp, "kernel_shape", INTS(2, 2));
        node_attr_ints(mp, "strides", INTS(2, 2));
        node_attr_int(mp, "ceil_mode", 1);
        node(g, "QuantizeLinear", "q", "p,s,z", "y");
    } else {
        node_attr_ints(mp, "kernel_shape", INTS(3, 3));
        node_attr_ints(mp, "strides", INTS(2, 2));
        node_attr_ints(mp, "pads", INTS(1, 1, 1, 1));
        node_attr_int(node(g, "Flatten", "flat", "p", "f"), "axis", 1);
        node(g, "QuantizeLinear", "q", variant == 1 ? "f,s2,z" : "f,s,z", "y");
    }
    output(g, "y");
    if (variant == 2)
        output(g, "p");
    return ready(m);
}

START_TEST(qdq_maxpool_in_int8)
{
    static const int moved[6] = {2, 0, 0, 2, 0, 1};
    for (int v = 0; v < 6; v++) {
        ortc_model *m = qdq_pool_model(v);
        ortc_graph *g = m->graph;
        ortc_pass_stats s = run_pass(m, ortc_pass_qdq);
        ck_assert_msg(s.qdq_moved == moved[v], "variant %d: %d moves", v, s.qdq_moved);
        const ortc_node *mp = find_op(g, "MaxPool");
        const ortc_node *q = find_op(g, "QuantizeLinear");
        if (v == 0 || v == 5) { /* the pool reads xq; no DQ or Q left */
            ck_assert_str_eq(mp->inputs[0]->name, "xq");
            ck_assert_int_eq(count_op(g, "DequantizeLinear") + count_op(g, "QuantizeLinear"), 0);
        } else if (v == 3) { /* the pool reads the Q, which reads the Relu's input */
            ck_assert_ptr_eq(mp->inputs[0]->producer, q);
            ck_assert_str_eq(find_op(g, "Flatten")->outputs[0]->name, "y");
        } else { /* the pool reads float32 as before, the Q the Flatten */
            ck_assert_ptr_eq(q->inputs[0]->producer, find_op(g, "Flatten"));
            ck_assert_str_eq(mp->outputs[0]->name, "p");
        }
        ortc_model_free(m);
    }
    /* bit-identical to the graph evaluated as written (float32 pooling of
     * the dequantized values, then QuantizeLinear) */
    uint8_t xu[196];
    int8_t xs[196];
    float xf[196];
    for (int i = 0; i < 196; i++) {
        xu[i] = (uint8_t)((i * 37 + 11) % 251);
        xs[i] = (int8_t)((i * 53) % 256 - 128);
        xf[i] = frand(-3, 9);
    }
    for (int v = 0; v < 6; v++) {
        ortc_tensor in = {v == 3 || v == 4 ? ORTC_DTYPE_FLOAT
                          : v == 5         ? ORTC_DTYPE_INT8
                                           : ORTC_DTYPE_UINT8,
                          4,
                          {1, 4, 7, 7},
                          v == 3 || v == 4 ? (void *)xf
                          : v == 5         ? (void *)xs
                                           : (void *)xu};
        int n_out = v == 2 ? 2 : 1;
        ortc_tensor r0[2], r1[2];
        run_session(qdq_pool_model(v), 0, &in, 1, r0, n_out);
        run_session(qdq_pool_model(v), 1, &in, 1, r1, n_out);
        for (int k = 0; k < n_out; k++) {
            ck_assert_int_eq(r0[k].dtype, r1[k].dtype);
            ck_assert_int_eq(ortc_tensor_bytes(&r0[k]), ortc_tensor_bytes(&r1[k]));
            ck_assert_msg(!memcmp(r0[k].data, r1[k].data, ortc_tensor_bytes(&r0[k])),
                          "variant %d output %d differs from the graph as written", v, k);
            free(r0[k].data);
            free(r1[k].data);
        }
    }
}
END_TEST

/* A linear layer then GELU as PyTorch exports them (nn.Linear on a rank-3
 * input, nn.GELU): m = MatMul(x, w (8, 6)); a = Add(m, b (6));
 * y = Mul(Mul(a, Add(Erf(Div(a, sqrt 2)), 1)), 0.5). x is [batch, rows, 8]
 * (symbolic: the bias pass reads N from w). Variants: 0 as above; 1 Add(b,
 * m), Mul(a, 1/sqrt 2) for the Div, and the 0.5 on a first
 * (Mul(Mul(a, 0.5), Add(...))); 2 the residual r added after the bias
 * (no GELU); near misses: 3 the bias is a graph input; 4 the bias has one
 * element (broadcast); 5 the Div is by 1.5 (no GELU, the bias still
 * fuses); 6 the Erf's output is a graph output too (no GELU); 7 a Gemm
 * (rank 2, no ORTC_OP_POST_OP_BIAS) instead of the MatMul. */
static ortc_model *linear_gelu_model(int variant)
{
    rng_state = 31;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, variant == 7 ? "rows,8" : "batch,rows,8");
    cf32(g, "w", "8,6", NULL, -1, 1);
    if (variant == 3)
        input(g, "b", ORTC_DTYPE_FLOAT, "6");
    else
        cf32(g, "b", variant == 4 ? "1" : "6", NULL, -1, 1);
    node(g, variant == 7 ? "Gemm" : "MatMul", "mm", "x,w", "m");
    node(g, "Add", "bias", variant == 1 ? "b,m" : "m,b", "a");
    if (variant == 2) {
        input(g, "r", ORTC_DTYPE_FLOAT, "batch,rows,6");
        node(g, "Add", "res", "a,r", "y");
        output(g, "y");
        return ready(m);
    }
    cf32(g, "s2", "", (float[]){variant == 5 ? 1.5f : 1.41421356f}, 0, 0);
    cf32(g, "rs2", "", (float[]){0.70710678f}, 0, 0);
    cf32(g, "one", "", (float[]){1.0f}, 0, 0);
    cf32(g, "half", "", (float[]){0.5f}, 0, 0);
    node(g, variant == 1 ? "Mul" : "Div", "div", variant == 1 ? "a,rs2" : "a,s2", "d");
    node(g, "Erf", "erf", "d", "e");
    node(g, "Add", "add1", "e,one", "p");
    if (variant == 1) {
        node(g, "Mul", "mul", "a,half", "h");
        node(g, "Mul", "mul2", "h,p", "y");
    } else {
        node(g, "Mul", "mul", "a,p", "h");
        node(g, "Mul", "mul2", "h,half", "y");
    }
    output(g, "y");
    if (variant == 6)
        output(g, "e");
    return ready(m);
}

START_TEST(bias_and_gelu_into_matmul)
{
    for (int v = 0; v <= 7; v++) {
        ortc_model *m = linear_gelu_model(v);
        int before = m->graph->n_nodes;
        ortc_pass_stats sb = run_pass(m, ortc_pass_bias), sa = run_pass(m, ortc_pass_act);
        ortc_pass_stats sf = run_pass(m, ortc_pass_fuse);
        const ortc_node *p = m->graph->nodes[0];
        bool bias = v <= 2 || v == 5 || v == 6, gelu = v <= 1;
        ck_assert_msg(sb.bias == bias && sa.gelu == gelu, "variant %d: bias %d, gelu %d", v,
                      sb.bias, sa.gelu);
        ck_assert_int_eq(m->graph->n_nodes, before - bias - 5 * gelu - (v == 2));
        ck_assert_int_eq(p->n_post_ops, bias + gelu + (v == 2));
        if (bias) {
            expect_post_op(p, 0, (ortc_post_op){ORTC_POST_OP_BIAS, 0.0f, 0.0f}, "bias");
            ck_assert_str_eq(p->inputs[ORTC_FUSED_BIAS_INPUT]->name, "b");
        }
        if (gelu)
            expect_post_op(p, 1, (ortc_post_op){ORTC_POST_OP_GELU_ERF, 0.0f, 0.0f}, "gelu");
        if (v == 2) { /* the residual Add after the bias: a sum */
            ck_assert_int_eq(sf.fused, 1);
            expect_post_op(p, 1, (ortc_post_op){ORTC_POST_OP_SUM, 0.0f, 0.0f}, "sum");
        }
        if (bias || gelu)
            ck_assert_str_eq(p->outputs[0]->name, bias && !gelu && v != 2 ? "a" : "y");
        ortc_model_free(m);
    }
    /* the fused graph computes what the unfused one does: oneDNN's matmul
     * at 2 x 3 rows, the plain-C one-row path at 1 x 1 (bias and GELU
     * applied after it) */
    rng_state = 9;
    float *x = random_data(48, -3, 3), *r = random_data(36, -1, 1);
    ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 3, {2, 3, 8}, x}, {ORTC_DTYPE_FLOAT, 3, {2, 3, 6}, r}};
    ortc_tensor in1 = {ORTC_DTYPE_FLOAT, 3, {1, 1, 8}, x};
    for (int v = 0; v <= 5; v++)
        if (v != 3) {
            expect_same_results(linear_gelu_model, v, in, v == 2 ? 2 : 1, 1, 1e-5);
            if (v != 2)
                expect_same_results(linear_gelu_model, v, &in1, 1, 1, 1e-5);
        }
    free(x);
    free(r);
}
END_TEST

/* MatMul (x (batch, 4, 5, 8) by constant w (8, 6)) then a layer scale:
 * 0: + bias, Transpose (0,3,1,2), Mul by gamma (6,1,1) (ConvNeXt's block);
 * 1: no bias, Mul(gamma, t) (operand order swapped); 2: + bias, Mul by (6)
 * directly; 3: Transpose (0,2,3,1) and gamma (6,1) (the MatMul's axis lands
 * at axis 2); must not fold: 4: gamma (4,1) varies along another axis;
 * 5: gamma holds an Inf; 6: the Transpose's output is also read elsewhere;
 * 7: Mul opset 6 (legacy broadcast attributes). 8: as 0, with w also read
 * by a second MatMul (output z): folds into a scaled copy of w (the others
 * scale w in place, p being its only reader). */
static ortc_model *layer_scale_model(int variant)
{
    rng_state = 41;
    ortc_model *m = model_new(variant == 7 ? 6 : 13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "batch,4,5,8");
    cf32(g, "w", "8,6", NULL, -1, 1);
    cf32(g, "b", "6", NULL, -1, 1);
    static const char *gdims[9] = {"6,1,1", "6,1,1", "6",     "6,1",  "4,1",
                                   "6,1,1", "6,1,1", "6,1,1", "6,1,1"};
    float gv[6];
    for (int i = 0; i < 6; i++)
        gv[i] = 0.25f + 0.3f * (float)i;
    if (variant == 5)
        gv[2] = INFINITY;
    cf32(g, "gamma", gdims[variant], gv, 0, 0);
    node(g, "MatMul", "mm", "x,w", "m");
    const char *mm_out = "m";
    if (variant != 1) {
        node(g, "Add", "bias", "m,b", "a");
        mm_out = "a";
    }
    const char *t_out = mm_out;
    if (variant != 2) {
        char ins[8];
        snprintf(ins, sizeof ins, "%s", mm_out);
        ortc_node *t = node(g, "Transpose", "t", ins, "t");
        if (variant == 3)
            node_attr_ints(t, "perm", INTS(0, 2, 3, 1));
        else
            node_attr_ints(t, "perm", INTS(0, 3, 1, 2));
        t_out = "t";
    }
    char ins[16];
    snprintf(ins, sizeof ins, variant == 1 ? "gamma,%s" : "%s,gamma", t_out);
    node(g, "Mul", "scale", ins, "y");
    output(g, "y");
    if (variant == 6)
        output(g, "t");
    if (variant == 8) {
        node(g, "MatMul", "mm2", "x,w", "z");
        output(g, "z");
    }
    return ready(m);
}

START_TEST(layer_scale_into_matmul_weights)
{
    for (int v = 0; v <= 8; v++) {
        ortc_model *m = layer_scale_model(v);
        int before = m->graph->n_nodes;
        bool bias = v != 1, folds = v <= 3 || v == 8;
        const float w00_before = *(const float *)val(m->graph, "w")->constant->t.data;
        ortc_pass_stats sb = run_pass(m, ortc_pass_bias);
        ck_assert_msg(sb.scaled == folds && sb.bias == bias, "variant %d: scaled %d, bias %d", v,
                      sb.scaled, sb.bias);
        ck_assert_int_eq(m->graph->n_nodes, before - bias - folds);
        const ortc_node *mm = m->graph->nodes[0];
        ck_assert_str_eq(mm->name, "mm");
        ck_assert_str_eq(mm->inputs[1]->name, v == 8 ? "w_scaled" : "w");
        /* w[0][0] times gamma[0] (0.25) where scaled in place; as it was
         * where not folded or copied */
        const float w00 = *(const float *)val(m->graph, "w")->constant->t.data;
        ck_assert_float_eq(w00, folds && v != 8 ? w00_before * 0.25f : w00_before);
        if (folds && bias)
            ck_assert_str_eq(mm->inputs[ORTC_FUSED_BIAS_INPUT]->name, "b_scaled");
        if (folds) /* the graph's output now comes from the Transpose or the MatMul */
            ck_assert_str_eq(val(m->graph, "y")->producer->name, v == 2 ? "mm" : "t");
        ortc_model_free(m);
    }
    /* the folded graph computes what the unfolded one does (batch 2, and 1
     * row: the plain-C fc_axpy path) */
    rng_state = 3;
    float *x = random_data(2 * 4 * 5 * 8, -2, 2);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {2, 4, 5, 8}, x};
    for (int v = 0; v <= 4; v++)
        expect_same_results(layer_scale_model, v, &in, 1, 1, 1e-5);
    expect_same_results(layer_scale_model, 8, &in, 1, 2, 1e-5);
    free(x);
}
END_TEST

START_TEST(fuse_end_to_end_matches_unfused)
{
    /* sessions with and without the passes give the same results */
    rng_state = 5;
    float *x = random_data(50, -1, 1), *o = random_data(75, -1, 1);
    ortc_tensor in[2] = {{ORTC_DTYPE_FLOAT, 4, {1, 2, 5, 5}, x},
                         {ORTC_DTYPE_FLOAT, 4, {1, 3, 5, 5}, o}};
    expect_same_results(conv_add_model, 0, in, 2, 1, 1e-5);
    ortc_model *m = conv_add_model(0);
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.fused, 2);
    ortc_model_free(m);
    /* symbolic batch and spatial dims, fused on the probes, run at shapes
     * neither probe took (batch 2, h 5, w 4) */
    float *xs = random_data(80, -1, 1), *os = random_data(120, -1, 1);
    ortc_tensor ins[2] = {{ORTC_DTYPE_FLOAT, 4, {2, 2, 5, 4}, xs},
                          {ORTC_DTYPE_FLOAT, 4, {2, 3, 5, 4}, os}};
    expect_same_results(conv_add_model, 9, ins, 2, 1, 1e-5);
    m = conv_add_model(9);
    s = run_all(m);
    ck_assert_int_eq(s.fused, 2);
    ortc_model_free(m);
    free(xs);
    free(os);
    for (int v = 0; v < F_ELTWISE_COUNT; v++) {
        float *x1 = random_data(50, -3, 3);
        ortc_tensor in1 = {ORTC_DTYPE_FLOAT, 4, {1, 2, 5, 5}, x1};
        expect_same_results(conv_eltwise_model, v, &in1, 1, 1, 1e-5);
        free(x1);
    }
    free(x);
    free(o);
}
END_TEST

/* ---- the whole pipeline -------------------------------------------------------------------- */

/* Everything at once: Identity, Conv+BN, Relu, Dropout, a decomposed LRN,
 * a second Conv + Add(residual) + Relu, x.view(N, -1) by the Shape chain,
 * Gemm + Relu, an If on a constant. */
static ortc_model *mixed_model(int variant)
{
    (void)variant;
    rng_state = 2024;
    ortc_model *m = model_new(13);
    ortc_graph *g = m->graph;
    input(g, "x", ORTC_DTYPE_FLOAT, "1,3,6,4");
    node(g, "Identity", "id", "x", "x1");
    cf32(g, "w1", "6,3,3,3", NULL, -1, 1);
    node_attr_ints(node(g, "Conv", "conv1", "x1,w1", "c1"), "pads", INTS(1, 1, 1, 1));
    cf32(g, "scale", "6", NULL, 0.5f, 2);
    cf32(g, "beta", "6", NULL, -1, 1);
    cf32(g, "mean", "6", NULL, -1, 1);
    cf32(g, "var", "6", NULL, 0.1f, 3);
    node(g, "BatchNormalization", "bn", "c1,scale,beta,mean,var", "b1");
    node(g, "Relu", "relu1", "b1", "r1");
    node(g, "Dropout", "drop", "r1", "d1");
    /* LRN(size 3, alpha 1e-3, beta 0.75, k 2) as PyTorch decomposes it */
    node(g, "Mul", "sq", "d1,d1", "s");
    ci64(g, "axes1", "1", (int64_t[]){1});
    node(g, "Unsqueeze", "unsq", "s,axes1", "u");
    ci64(g, "pads", "10", (int64_t[]){0, 0, 1, 0, 0, 0, 0, 1, 0, 0});
    node(g, "Pad", "pad", "u,pads", "p");
    node_attr_ints(node(g, "AveragePool", "pool", "p", "q"), "kernel_shape", INTS(3, 1, 1));
    node(g, "Squeeze", "squeeze", "q,axes1", "r");
    cf32(g, "alpha", "", (float[]){1e-3f}, 0, 0);
    node(g, "Mul", "scl", "r,alpha", "ma");
    cf32(g, "k", "", (float[]){2}, 0, 0);
    node(g, "Add", "kadd", "k,ma", "a");
    cf32(g, "lbeta", "", (float[]){0.75f}, 0, 0);
    node(g, "Pow", "pow", "a,lbeta", "den");
    node(g, "Div", "div", "d1,den", "l1");
    cf32(g, "w2", "6,6,3,3", NULL, -0.3f, 0.3f);
    cf32(g, "b2", "6", NULL, -1, 1);
    node_attr_ints(node(g, "Conv", "conv2", "l1,w2,b2", "c2"), "pads", INTS(1, 1, 1, 1));
    node(g, "Add", "res", "c2,l1", "s2");
    node(g, "Relu", "relu2", "s2", "r2");
    /* If(true) { Identity(r2) } else { Neg(r2) } */
    cbool(g, "cond", true);
    ortc_node *iff = node(g, "If", "if", "cond", "r3");
    ortc_graph *tg = ortc_graph_new(m, g, "then");
    node(tg, "Identity", "pass", "r2", "t_out");
    output(tg, "t_out");
    ortc_graph *eg = ortc_graph_new(m, g, "else");
    node(eg, "Neg", "neg", "r2", "e_out");
    output(eg, "e_out");
    attr_g(iff, "then_branch", tg);
    attr_g(iff, "else_branch", eg);
    node(g, "Shape", "shape", "r3", "sh");
    ortc_const_tensor *zero = tensor(ORTC_DTYPE_INT64, "");
    ortc_value_set_constant(val(g, "i0"), zero);
    node_attr_int(node(g, "Gather", "gather", "sh,i0", "n"), "axis", 0);
    ci64(g, "axes0", "1", (int64_t[]){0});
    node(g, "Unsqueeze", "unsq0", "n,axes0", "n1");
    ci64(g, "m1", "1", (int64_t[]){-1});
    node_attr_int(node(g, "Concat", "cat", "n1,m1", "shp"), "axis", 0);
    node(g, "Reshape", "flat", "r3,shp", "f");
    cf32(g, "w3", "5,144", NULL, -0.1f, 0.1f);
    cf32(g, "b3", "5", NULL, -1, 1);
    ortc_node *gemm = node(g, "Gemm", "fc", "f,w3,b3", "fc");
    node_attr_int(gemm, "transB", 1);
    node(g, "Relu", "relu3", "fc", "y");
    output(g, "y");
    return ready(m);
}

START_TEST(pipeline_rewrites_and_keeps_results)
{
    ortc_model *m = mixed_model(0);
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.inlined, 1);
    ck_assert_int_ge(s.folded, 4);
    ck_assert_int_eq(s.bn_folded, 1);
    ck_assert_int_eq(s.lrn, 1);
    ck_assert_int_eq(s.dropouts, 1);
    ck_assert_int_ge(s.identities, 2);
    ortc_graph *g = m->graph;
    ck_assert_int_eq(count_op(g, "If"), 0);
    ck_assert_int_eq(count_op(g, "Shape"), 0);
    ck_assert_int_eq(count_op(g, "BatchNormalization"), 0);
    ck_assert_int_eq(count_op(g, "LRN"), 1);
    ck_assert_int_eq(count_op(g, "Identity"), 0);
    ortc_model_free(m);
    rng_state = 31;
    float *x = random_data(72, -1, 1);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {1, 3, 6, 4}, x};
    expect_same_results(mixed_model, 0, &in, 1, 1, 1e-5);
    free(x);
}
END_TEST

/* ---- logging and errors ------------------------------------------------------------------- */

typedef struct captured {
    int info, debug, before, after;
    char summary[2048];
} captured;

static void capture(void *user, ortc_log_level level, const char *msg)
{
    captured *c = user;
    if (strncmp(msg, "passes", 6))
        return;
    if (level == ORTC_LOG_INFO) {
        c->info++;
        snprintf(c->summary, sizeof c->summary, "%s", msg);
    }
    if (level == ORTC_LOG_DEBUG)
        c->debug++;
    c->before += strstr(msg, "graph before passes") != NULL;
    c->after += strstr(msg, "graph after passes") != NULL;
}

START_TEST(passes_log_summary_and_dumps)
{
    for (int lvl = ORTC_LOG_WARNING; lvl <= ORTC_LOG_DEBUG; lvl++) {
        captured c = {0};
        ortc_options o;
        ortc_options_init(&o);
        o.log = capture;
        o.log_user = &c;
        o.log_level = (ortc_log_level)lvl;
        ortc_session *s = NULL;
        ck_assert_int_eq(ortc_session_create_from_model(&s, view_chain_model(0), &o),
                         ORTC_STATUS_OK);
        ortc_session_destroy(s);
        ck_assert_int_eq(c.info, lvl >= ORTC_LOG_INFO);
        if (lvl >= ORTC_LOG_INFO)
            ck_assert_msg(strstr(c.summary, "folded 4 nodes") && strstr(c.summary, "6 -> 2 nodes"),
                          "%s", c.summary);
        ck_assert_int_eq(c.before, lvl == ORTC_LOG_DEBUG);
        ck_assert_int_eq(c.after, lvl == ORTC_LOG_DEBUG);
        if (lvl == ORTC_LOG_DEBUG)
            ck_assert_int_ge(c.debug, 2 + 6 + 2 + 4); /* dumps and one note per fold */
        else
            ck_assert_int_eq(c.debug, 0);
    }
}
END_TEST

START_TEST(passes_keep_the_callers_last_error)
{
    ortc_model *dummy = NULL;
    ck_assert_int_ne(ortc_model_load(&dummy, "/nonexistent/passes-test.onnx"), ORTC_STATUS_OK);
    char before[ORTC_ERR_MAX];
    snprintf(before, sizeof before, "%s", ortc_last_error());
    ortc_model *m = refusing_model(0); /* folding it fails inside the pass */
    ortc_pass_stats s = run_all(m);
    ck_assert_int_eq(s.folded, 0);
    ck_assert_str_eq(ortc_last_error(), before);
    ortc_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("passes");
    TCase *inf = tcase_create("infer");
    tcase_add_test(inf, infer_static_shapes);
    tcase_add_test(inf, infer_leaves_dynamic_dims_unknown);
    suite_add_tcase(s, inf);
    TCase *fold = tcase_create("fold");
    tcase_add_test(fold, fold_constant_nodes_into_initializers);
    tcase_add_test(fold, fold_view_chain_static_becomes_constant);
    tcase_add_test(fold, fold_view_chain_dynamic_left_for_plans);
    tcase_add_test(fold, fold_inlines_if_with_constant_condition);
    tcase_add_test(fold, fold_leaves_refused_nodes_to_compile);
    suite_add_tcase(s, fold);
    TCase *el = tcase_create("eliminate");
    tcase_add_test(el, eliminate_identity_and_dropout);
    tcase_add_test(el, eliminate_keeps_dropout_that_is_not_a_copy);
    tcase_add_test(el, eliminate_pad_that_pads_nothing);
    tcase_add_test(el, padfuse_merges_zero_pad_into_pool_and_conv);
    tcase_add_test(el, gap_replaces_spatial_reduce_mean);
    tcase_add_test(el, concat_reads_earlier_concat);
    tcase_add_test(el, dead_nodes_and_initializers_removed);
    suite_add_tcase(s, el);
    TCase *bn = tcase_create("bn");
    tcase_add_test(bn, bn_folds_into_conv_weights);
    tcase_add_test(bn, bn_shared_weights_survive_until_unused);
    tcase_add_test(bn, bn_near_misses_are_left);
    suite_add_tcase(s, bn);
    TCase *lrn = tcase_create("lrn");
    tcase_add_test(lrn, lrn_pattern_becomes_one_lrn);
    tcase_add_test(lrn, lrn_near_misses_are_left);
    tcase_add_test(lrn, lrn_even_size_keeps_pytorch_semantics);
    tcase_add_test(lrn, ln_pattern_becomes_one_layernorm);
    suite_add_tcase(s, lrn);
    TCase *fu = tcase_create("fuse");
    tcase_add_test(fu, fuse_eltwise_into_conv);
    tcase_add_test(fu, fuse_conv_add_relu_as_sum);
    tcase_add_test(fu, fuse_near_misses_are_left);
    tcase_add_test(fu, fuse_by_operator_flag);
    tcase_add_test(fu, fuse_relu_into_batchnorm_only);
    tcase_add_test(fu, act_silu_into_producer);
    tcase_add_test(fu, act_hard_swish_into_producer);
    tcase_add_test(fu, fuse_gemm_and_matmul_followers);
    tcase_add_test(fu, fc_weights_transposed_after_relu);
    tcase_add_test(fu, fc_near_misses_are_left);
    tcase_add_test(fu, bias_and_gelu_into_matmul);
    tcase_add_test(fu, layer_scale_into_matmul_weights);
    tcase_add_test(fu, fuse_end_to_end_matches_unfused);
    suite_add_tcase(s, fu);
    TCase *qdq = tcase_create("qdq");
    tcase_add_test(qdq, qdq_conv_with_shared_zero_points);
    tcase_add_test(qdq, qdq_gemm_trans_b_after_requantize);
    tcase_add_test(qdq, qdq_gemm_trans_b_tiles);
    tcase_add_test(qdq, qdq_add_relu_into_quantize);
    tcase_add_test(qdq, qdq_maxpool_in_int8);
    suite_add_tcase(s, qdq);
    TCase *pl = tcase_create("pipeline");
    tcase_add_test(pl, pipeline_rewrites_and_keeps_results);
    tcase_add_test(pl, passes_log_summary_and_dumps);
    tcase_add_test(pl, passes_keep_the_callers_last_error);
    suite_add_tcase(s, pl);
    return run_suite(s);
}
