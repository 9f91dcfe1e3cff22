/* cases_post_ops.c — the typed fusion contract from the operators' side,
 * and the single-primitive helper's per-context memory objects:
 * element-wise operators and Add describing themselves as post-ops (their
 * own parameters and defaults; refusals), a described post-op applied in
 * plain C against the operator's own kernel, post-op names as logged, and
 * one prepared oneDNN operator run from two execution contexts with
 * different data, each against the reference kernel on its own data.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cases.h"
#include "dnnl_prim.h"
#include "helper_cases.h"
#include "helper_ops.h"
#include "post_ops.h"

/* Asks c's operator to describe its node as a post-op on input `input`,
 * with the inputs as infer sees them (data of constant inputs only). */
static ortc_status describe(op_case *c, int input, ortc_post_op *po)
{
    ortc_node *n = c->node;
    n->op = ortc_registry_find(n->domain, n->op_type, n->opset);
    ck_assert_ptr_nonnull(n->op);
    ortc_tensor in[OPC_MAX_IO], out[OPC_MAX_IO] = {0};
    ortc_tensor *pin[OPC_MAX_IO] = {0}, *pout[OPC_MAX_IO];
    for (int k = 0; k < OPC_MAX_IO; k++)
        pout[k] = &out[k];
    for (int i = 0; i < n->n_inputs; i++) {
        if (!n->inputs[i])
            continue;
        in[i] = c->in[i];
        if (!c->in_const[i])
            in[i].data = NULL;
        pin[i] = &in[i];
    }
    ortc_opctx ctx = {.node = n,
                      .n_in = n->n_inputs,
                      .n_out = n->n_outputs,
                      .in = pin,
                      .out = pout,
                      .err = &c->err};
    ortc_err_clear(&c->err);
    if (!n->op->post_op)
        return ORTC_STATUS_UNSUPPORTED;
    return n->op->post_op(&ctx, input, po);
}

/* ==== element-wise operators as post-ops ===================================== */

static const int64_t x_dims[4] = {1, 2, 3, 5};
static float x_data[30];

enum { B_NONE, B_CONST, B_RUNTIME }; /* Clip-11+ bound inputs */

typedef struct eltwise_case {
    const char *op;
    int opset;
    const char *attr[2]; /* float attributes set, with values v[0], v[1] */
    float v[2];
    int lo, hi;     /* Clip-11+: how min (input 1) and max (input 2) are given */
    float bound[2]; /* their values when constant */
    bool f64;       /* x is float64 */
    int input;      /* the input asked about */
    bool ok;        /* described, as `want` */
    ortc_post_op want;
} eltwise_case;

static const eltwise_case eltwise_cases[] = {
    /* parameters and ONNX defaults as the operators read them */
    {"Relu", 14, {NULL, NULL}, {0, 0}, 0, 0, {0, 0}, false, 0, true, {ORTC_POST_OP_RELU, 0, 0}},
    {"LeakyRelu",
     16,
     {NULL, NULL},
     {0, 0},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_LEAKY_RELU, 0.01f, 0}},
    {"LeakyRelu",
     6,
     {"alpha", NULL},
     {0.3f, 0},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_LEAKY_RELU, 0.3f, 0}},
    {"Elu", 6, {NULL, NULL}, {0, 0}, 0, 0, {0, 0}, false, 0, true, {ORTC_POST_OP_ELU, 1.0f, 0}},
    {"Sigmoid",
     13,
     {NULL, NULL},
     {0, 0},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_SIGMOID, 0, 0}},
    {"Tanh", 13, {NULL, NULL}, {0, 0}, 0, 0, {0, 0}, false, 0, true, {ORTC_POST_OP_TANH, 0, 0}},
    {"HardSwish",
     14,
     {NULL, NULL},
     {0, 0},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_HARD_SWISH, 0, 0}},
    {"HardSigmoid",
     6,
     {NULL, NULL},
     {0, 0},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_HARD_SIGMOID, 0.2f, 0.5f}},
    {"HardSigmoid",
     6,
     {"alpha", NULL},
     {0.25f, 0},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_HARD_SIGMOID, 0.25f, 0.5f}},
    {"Clip",
     6,
     {"min", "max"},
     {-1.0f, 2.0f},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_CLIP, -1.0f, 2.0f}},
    {"Clip",
     6,
     {NULL, NULL},
     {0, 0},
     0,
     0,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_CLIP, -FLT_MAX, FLT_MAX}},
    {"Clip",
     13,
     {NULL, NULL},
     {0, 0},
     B_CONST,
     B_CONST,
     {0.0f, 6.0f},
     false,
     0,
     true,
     {ORTC_POST_OP_CLIP, 0.0f, 6.0f}},
    {"Clip",
     13,
     {NULL, NULL},
     {0, 0},
     B_CONST,
     B_NONE,
     {-0.5f, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_CLIP, -0.5f, FLT_MAX}},
    {"Clip",
     11,
     {NULL, NULL},
     {0, 0},
     B_NONE,
     B_NONE,
     {0, 0},
     false,
     0,
     true,
     {ORTC_POST_OP_CLIP, -FLT_MAX, FLT_MAX}},
    /* refusals: a bound known only at run, min > max (numpy's rule differs),
     * an attribute the post-op cannot carry, no post-op form, float64, the
     * wrong input */
    {"Clip", 13, {NULL, NULL}, {0, 0}, B_RUNTIME, B_CONST, {0, 6.0f}, false, 0, false, {0, 0, 0}},
    {"Clip", 13, {NULL, NULL}, {0, 0}, B_CONST, B_CONST, {2.0f, 1.0f}, false, 0, false, {0, 0, 0}},
    {"LeakyRelu", 16, {"alpha", "gamma"}, {0.1f, 1.0f}, 0, 0, {0, 0}, false, 0, false, {0, 0, 0}},
    {"Selu", 6, {NULL, NULL}, {0, 0}, 0, 0, {0, 0}, false, 0, false, {0, 0, 0}},
    {"Exp", 13, {NULL, NULL}, {0, 0}, 0, 0, {0, 0}, false, 0, false, {0, 0, 0}},
    {"Relu", 14, {NULL, NULL}, {0, 0}, 0, 0, {0, 0}, true, 0, false, {0, 0, 0}},
    {"Clip", 13, {NULL, NULL}, {0, 0}, B_CONST, B_CONST, {0.0f, 6.0f}, false, 1, false, {0, 0, 0}},
};

static op_case *eltwise_node(const eltwise_case *e, const void *x)
{
    bool bounds = e->lo || e->hi;
    op_case *c = opc_new(e->op, e->opset, bounds ? 3 : 1, 1);
    opc_input(c, 0, e->f64 ? ORTC_DTYPE_DOUBLE : F32, 4, x_dims, x, false);
    static const int64_t none[1] = {0};
    for (int b = 0; b < 2 && bounds; b++) {
        int how = b ? e->hi : e->lo;
        opc_input(c, 1 + b, how == B_NONE ? ORTC_DTYPE_UNDEFINED : F32, 0, none, &e->bound[b],
                  how == B_CONST);
    }
    for (int a = 0; a < 2; a++)
        if (e->attr[a])
            opc_attr_float(c, e->attr[a], e->v[a]);
    return c;
}

static bool same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

START_TEST(eltwise_ops_describe_themselves)
{
    static const double x64[30] = {0};
    for (int t = 0; t < N_OF(eltwise_cases); t++) {
        const eltwise_case *e = &eltwise_cases[t];
        op_case *c = eltwise_node(e, e->f64 ? (const void *)x64 : x_data);
        ortc_post_op po = {ORTC_POST_OP_KINDS, -7.0f, -7.0f};
        ortc_status st = describe(c, e->input, &po);
        char have[96], want[96];
        if (e->ok)
            ck_assert_msg(st == ORTC_STATUS_OK && po.kind == e->want.kind &&
                              same_bits(po.alpha, e->want.alpha) &&
                              same_bits(po.beta, e->want.beta),
                          "case %d %s-%d: got %s (status %s: %s), expected %s", t, e->op, e->opset,
                          ortc_post_op_str(have, sizeof have, &po), ortc_status_name(st),
                          c->err.msg, ortc_post_op_str(want, sizeof want, &e->want));
        else
            ck_assert_msg(st != ORTC_STATUS_OK,
                          "case %d %s-%d: described as %s, expected a refusal", t, e->op, e->opset,
                          ortc_post_op_str(have, sizeof have, &po));
        opc_free(c);
    }
}
END_TEST

/* A described post-op applied in plain C computes what the operator's own
 * reference kernel computes, bit for bit, on ordinary and special values. */
START_TEST(post_op_equals_the_operator)
{
    uint64_t seed = 5;
    opc_fill_uniform(x_data, 30, -4, 4, &seed);
    const float special[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 1e-40f};
    memcpy(x_data, special, sizeof special);
    for (int t = 0; t < N_OF(eltwise_cases); t++) {
        const eltwise_case *e = &eltwise_cases[t];
        if (!e->ok)
            continue;
        op_case *c = eltwise_node(e, x_data);
        ortc_post_op po;
        ck_assert_int_eq(describe(c, 0, &po), ORTC_STATUS_OK);
        ortc_status st = opc_run(c, 1, 1);
        ck_assert_msg(st == ORTC_STATUS_OK, "case %d: %s", t, c->err.msg);
        float y[30];
        memcpy(y, x_data, sizeof y);
        ortc_node holder = {.n_post_ops = 1, .post_ops = {po}};
        ortc_opctx ctx = {.node = &holder};
        ortc_post_ops_apply(&ctx, y, 30);
        const float *want = c->out[0].data;
        for (int i = 0; i < 30; i++)
            ck_assert_msg(same_bits(y[i], want[i]) || (isnan(y[i]) && isnan(want[i])),
                          "case %d %s-%d, x[%d] = %g: post-op %.9g, operator %.9g", t, e->op,
                          e->opset, i, (double)x_data[i], (double)y[i], (double)want[i]);
        opc_free(c);
    }
}
END_TEST

/* ==== Add as a sum ============================================================= */

START_TEST(add_describes_a_sum)
{
    static const int64_t full[2] = {2, 3}, row[1] = {3};
    static const float a[6] = {0}, b[6] = {0};
    static const int32_t ia[6] = {0};
    static const struct {
        const char *op;
        const int64_t *bdims;
        int brank;
        bool ints;
        bool ok;
    } cases[] = {
        {"Add", full, 2, false, true},  {"Add", row, 1, false, false}, /* broadcasts */
        {"Add", full, 2, true, false},                                 /* int32 */
        {"Sub", full, 2, false, false}, {"Mul", full, 2, false, false},
    };
    for (int t = 0; t < N_OF(cases); t++)
        for (int input = 0; input < 2; input++) {
            op_case *c = opc_new(cases[t].op, 14, 2, 1);
            ortc_dtype dt = cases[t].ints ? ORTC_DTYPE_INT32 : F32;
            opc_input(c, 0, dt, 2, full, cases[t].ints ? (const void *)ia : a, false);
            opc_input(c, 1, dt, cases[t].brank, cases[t].bdims,
                      cases[t].ints ? (const void *)ia : b, false);
            ortc_post_op po = {ORTC_POST_OP_KINDS, 0, 0};
            ortc_status st = describe(c, input, &po);
            if (cases[t].ok)
                ck_assert_msg(st == ORTC_STATUS_OK && po.kind == ORTC_POST_OP_SUM,
                              "case %d input %d: %s", t, input, c->err.msg);
            else
                ck_assert_msg(st != ORTC_STATUS_OK, "case %d (%s) input %d was described", t,
                              cases[t].op, input);
            opc_free(c);
        }
}
END_TEST

/* ==== names and limits ========================================================= */

START_TEST(post_op_names_and_limit)
{
    static const struct {
        ortc_post_op po;
        const char *text;
    } cases[] = {
        {{ORTC_POST_OP_RELU, 0, 0}, "relu"},
        {{ORTC_POST_OP_LEAKY_RELU, 0.1f, 0}, "leaky_relu(0.1)"},
        {{ORTC_POST_OP_CLIP, -1.0f, 6.0f}, "clip(-1, 6)"},
        {{ORTC_POST_OP_SIGMOID, 0, 0}, "sigmoid"},
        {{ORTC_POST_OP_TANH, 0, 0}, "tanh"},
        {{ORTC_POST_OP_ELU, 1.0f, 0}, "elu(1)"},
        {{ORTC_POST_OP_HARD_SIGMOID, 0.2f, 0.5f}, "hard_sigmoid(0.2, 0.5)"},
        {{ORTC_POST_OP_SUM, 0, 0}, "sum"},
        {{ORTC_POST_OP_HARD_SWISH, 0, 0}, "hard_swish"},
        {{ORTC_POST_OP_SWISH, 0, 0}, "swish"},
        {{ORTC_POST_OP_GELU_ERF, 0, 0}, "gelu_erf"},
        {{ORTC_POST_OP_BIAS, 0, 0}, "bias"},
        {{ORTC_POST_OP_KINDS, 0, 0}, "unknown(12)"},
    };
    for (int t = 0; t < N_OF(cases); t++) {
        char buf[64];
        ck_assert_str_eq(ortc_post_op_str(buf, sizeof buf, &cases[t].po), cases[t].text);
    }
    ck_assert_ptr_null(ortc_post_op_name(ORTC_POST_OP_KINDS));
    ortc_node n = {0};
    for (int i = 0; i < ORTC_MAX_POST_OPS; i++)
        ck_assert_int_eq(ortc_node_add_post_op(&n, cases[0].po), 0);
    ck_assert_int_eq(ortc_node_add_post_op(&n, cases[1].po), -1);
    ck_assert_int_eq(n.n_post_ops, ORTC_MAX_POST_OPS);
}
END_TEST

/* ==== one prepared operator, two execution contexts =========================== */

/* infer and prepare once (context 0, as compile.c does), then runs that
 * share the state from contexts 0 and 1, each with its own tensors. */
typedef struct shared_op {
    op_case *c;
    struct ortc_backend *be;
    ortc_opctx ctx[2];
    ortc_tensor in[2][OPC_MAX_IO], out[2][OPC_MAX_IO];
    ortc_tensor *pin[2][OPC_MAX_IO], *pout[2][OPC_MAX_IO];
    ortc_layout lin[OPC_MAX_IO], lout[OPC_MAX_IO];
    ortc_layout *plin[OPC_MAX_IO], *plout[OPC_MAX_IO];
    bool blocked_ok[OPC_MAX_IO];
    int inplace[OPC_MAX_IO], view[OPC_MAX_IO];
    void *scratch[2];
} shared_op;

static void shared_prepare(shared_op *s, op_case *c)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    ortc_node *n = c->node;
    n->op = ortc_registry_find(n->domain, n->op_type, n->opset);
    ck_assert_ptr_nonnull(n->op);
    ortc_err_clear(&c->err);
    ck_assert_int_eq(ortc_backend_create(&s->be, 2, &c->err), ORTC_STATUS_OK);
    ck_assert_int_eq(ortc_backend_add_context(s->be, 1, &c->err), ORTC_STATUS_OK);
    ortc_backend_enter(s->be);
    for (int i = 0; i < n->n_inputs; i++) {
        for (int k = 0; k < 2; k++) {
            s->in[k][i] = c->in[i];
            if (!c->in_const[i])
                s->in[k][i].data = NULL; /* infer and prepare see constants only */
            s->pin[k][i] = n->inputs[i] ? &s->in[k][i] : NULL;
        }
        s->lin[i] = (ortc_layout){.plain = true, .bytes = ortc_tensor_bytes(&c->in[i])};
        s->plin[i] = n->inputs[i] ? &s->lin[i] : NULL;
    }
    for (int k = 0; k < 2; k++) {
        for (int o = 0; o < n->n_outputs; o++) {
            s->pout[k][o] = &s->out[k][o];
            s->plout[o] = &s->lout[o];
            s->inplace[o] = s->view[o] = -1;
        }
        s->ctx[k] = (ortc_opctx){.node = n,
                                 .n_in = n->n_inputs,
                                 .n_out = n->n_outputs,
                                 .in = s->pin[k],
                                 .out = s->pout[k],
                                 .in_layout = s->plin,
                                 .out_layout = s->plout,
                                 .out_blocked_ok = s->blocked_ok,
                                 .backend = s->be,
                                 .threads = 2,
                                 .inplace = s->inplace,
                                 .view = s->view,
                                 .err = &c->err,
                                 .context = k};
    }
    ortc_opctx *c0 = &s->ctx[0];
    ck_assert_msg(n->op->infer(c0) == ORTC_STATUS_OK, "%s", c->err.msg);
    for (int o = 0; o < n->n_outputs; o++) {
        s->lout[o] = (ortc_layout){.plain = true, .bytes = ortc_tensor_bytes(c0->out[o])};
        s->out[1][o] = s->out[0][o];
    }
    ck_assert_msg(n->op->prepare(c0) == ORTC_STATUS_OK, "%s", c->err.msg);
    s->ctx[1].state = c0->state;
    s->ctx[1].scratch_bytes = c0->scratch_bytes;
    for (int k = 0; k < 2; k++) {
        if (c0->scratch_bytes)
            s->scratch[k] = aligned_alloc(64, (c0->scratch_bytes + 63) & ~(size_t)63);
        s->ctx[k].scratch = s->scratch[k];
        for (int o = 0; o < n->n_outputs; o++) {
            s->out[k][o].data = calloc(1, s->lout[o].bytes);
            ck_assert_ptr_nonnull(s->out[k][o].data);
        }
    }
}

/* Runs context k on inputs data[i] (NULL: the constant's own). */
static void shared_run(shared_op *s, int k, const void *const *data)
{
    const ortc_node *n = s->c->node;
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i])
            s->in[k][i].data = (void *)(data[i] ? data[i] : s->c->in[i].data);
    ortc_status st = n->op->run(&s->ctx[k]);
    if (!st)
        st = ortc_backend_wait_context(s->be, k, &s->c->err);
    ck_assert_msg(st == ORTC_STATUS_OK, "context %d: %s", k, s->c->err.msg);
}

static void shared_free(shared_op *s)
{
    s->c->node->op->release(&s->ctx[0]);
    for (int k = 0; k < 2; k++) {
        free(s->scratch[k]);
        for (int o = 0; o < s->c->node->n_outputs; o++)
            free(s->out[k][o].data);
    }
    ortc_backend_destroy(s->be);
}

/* The reference kernel's output 0 for c with input `i` replaced by data. */
static float *reference_with(op_case *c, int i, const void *data, int j, const void *data_j)
{
    const void *keep = c->in[i].data, *keep_j = j >= 0 ? c->in[j].data : NULL;
    c->in[i].data = (void *)data;
    if (j >= 0)
        c->in[j].data = (void *)data_j;
    ck_assert_msg(opc_run(c, 1, 1) == ORTC_STATUS_OK, "%s", c->err.msg);
    c->in[i].data = (void *)keep;
    if (j >= 0)
        c->in[j].data = (void *)keep_j;
    size_t bytes = ortc_tensor_bytes(&c->out[0]);
    float *y = malloc(bytes);
    ck_assert_ptr_nonnull(y);
    memcpy(y, c->out[0].data, bytes);
    return y;
}

/* Conv (format_tag_any source reordered, packed constant weights, a bias,
 * a fused relu then sum whose summand is fed at run): context 1 runs on
 * (x1, s1), context 0 on (x0, s0), context 1 again; every result equals the
 * reference on its own data, and context 0's memory objects still point at
 * context 0's tensors after context 1 ran. */
START_TEST(prim_runs_in_two_contexts)
{
    uint64_t seed = 17;
    const int64_t xd[4] = {2, 8, 7, 7}, wd[4] = {16, 8, 3, 3}, bd[1] = {16};
    const int64_t yd[4] = {2, 16, 7, 7};
    const int64_t nx = 2 * 8 * 49, ny = 2 * 16 * 49;
    float *x[2], *sum[2], w[16 * 8 * 9], b[16];
    opc_fill_uniform(w, 16 * 8 * 9, -0.3f, 0.3f, &seed);
    opc_fill_uniform(b, 16, -1, 1, &seed);
    for (int k = 0; k < 2; k++) {
        x[k] = malloc((size_t)nx * sizeof(float));
        sum[k] = malloc((size_t)ny * sizeof(float));
        opc_fill_uniform(x[k], nx, -1, 1, &seed);
        opc_fill_uniform(sum[k], ny, -1, 1, &seed);
    }
    op_case *c = opc_new("Conv", 11, 4, 1);
    opc_input(c, 0, F32, 4, xd, x[0], false);
    opc_input(c, 1, F32, 4, wd, w, true);
    opc_input(c, 2, F32, 1, bd, b, true);
    opc_input(c, 3, F32, 4, yd, sum[0], false);
    int64_t pads[4] = {1, 1, 1, 1};
    opc_attr_ints(c, "pads", pads, 4);
    ck_assert_int_eq(ortc_node_add_post_op(c->node, (ortc_post_op){ORTC_POST_OP_RELU, 0, 0}), 0);
    ck_assert_int_eq(ortc_node_add_post_op(c->node, (ortc_post_op){ORTC_POST_OP_SUM, 0, 0}), 0);
    float *want[2];
    for (int k = 0; k < 2; k++)
        want[k] = reference_with(c, 0, x[k], 3, sum[k]);

    shared_op s;
    shared_prepare(&s, c);
    /* 72 terms of |x w| <= 0.3 each: float sums agree to ~1e-5 */
    const double tol = 1e-5;
    const void *in1[4] = {x[1], NULL, NULL, sum[1]}, *in0[4] = {x[0], NULL, NULL, sum[0]};
    shared_run(&s, 1, in1);
    opc_assert_close(s.out[1][0].data, want[1], ny, tol, tol, "context 1, first run");
    shared_run(&s, 0, in0);
    opc_assert_close(s.out[0][0].data, want[0], ny, tol, tol, "context 0");
    memset(s.out[1][0].data, 0, (size_t)ny * sizeof(float));
    shared_run(&s, 1, in1);
    opc_assert_close(s.out[1][0].data, want[1], ny, tol, tol, "context 1, second run");
    /* context 0's objects still hold context 0's handles */
    const ortc_dnnl_prim *p = s.ctx[0].state;
    for (int a = 0; a < p->n_args; a++) {
        void *h0 = NULL, *h1 = NULL;
        if (p->args[a].from == ORTC_DNNL_FROM_WEIGHTS)
            continue; /* packed once, in p->w: constant for all contexts */
        ck_assert_ptr_nonnull(p->args[a].mem.m[0]);
        ck_assert_ptr_nonnull(p->args[a].mem.m[1]);
        dnnl_memory_get_data_handle(p->args[a].mem.m[0], &h0);
        dnnl_memory_get_data_handle(p->args[a].mem.m[1], &h1);
        if (p->args[a].arg == DNNL_ARG_BIAS) {
            ck_assert_ptr_eq(h0, b); /* a constant: the same bytes for all */
            ck_assert_ptr_eq(h1, b);
        } else {
            ck_assert_msg(h0 != h1, "argument %d: contexts 0 and 1 share a data handle",
                          p->args[a].arg);
        }
    }
    shared_free(&s);
    opc_free(c);
    for (int k = 0; k < 2; k++) {
        free(x[k]);
        free(sum[k]);
        free(want[k]);
    }
}
END_TEST

void ortc_cases_post_ops(Suite *s)
{
    TCase *tc = tcase_create("post_ops_typed");
    tcase_add_test(tc, eltwise_ops_describe_themselves);
    tcase_add_test(tc, post_op_equals_the_operator);
    tcase_add_test(tc, add_describes_a_sum);
    tcase_add_test(tc, post_op_names_and_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("dnnl_prim_contexts");
    tcase_add_test(tc, prim_runs_in_two_contexts);
    suite_add_tcase(s, tc);
}
