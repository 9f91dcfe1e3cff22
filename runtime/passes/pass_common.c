/* pass_common.c — the passes' shared machinery: context, static shape
 * inference over the top-level graph and evaluating one node at
 * optimisation time (both through eval.c, as compile.c does per plan),
 * logging and graph dumps. Rewrites live in pass_*.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "error.h"
#include "eval.h"
#include "ir_edit.h"
#include "options.h"
#include "pass_impl.h"
#include "post_ops.h"

void ortc_pass_ctx_init(ortc_pass_ctx *pc, ortc_model *m, const ortc_options *opts,
                        ortc_errbuf *err)
{
    memset(pc, 0, sizeof *pc);
    pc->model = m;
    pc->g = m->graph;
    if (opts)
        pc->opts = *opts;
    else
        ortc_options_init(&pc->opts);
    ortc_options_complete(&pc->opts);
    pc->backend = &pc->own_backend;
    pc->err = err;
    pc->verbose = pc->opts.log && pc->opts.log_level >= ORTC_LOG_DEBUG;
    ortc_err_clear(&pc->scratch);
}

void ortc_pass_ctx_free(ortc_pass_ctx *pc)
{
    ortc_backend_destroy(pc->own_backend);
    free(pc->info);
    free(pc->probe[0]);
    free(pc->probe[1]);
    pc->probe[0] = pc->probe[1] = NULL;
    pc->probe_cap = 0;
    pc->own_backend = NULL;
    pc->backend = NULL;
    pc->info = NULL;
    pc->info_cap = 0;
}

ortc_status ortc_pass_finalize(ortc_pass_ctx *pc, const char *pass)
{
    char msg[ORTC_ERR_MAX];
    ortc_status st = ortc_graph_finalize(pc->g, msg, sizeof msg);
    if (st)
        return ortc_err_set(pc->err, st, "graph pass '%s' left an invalid graph: %s", pass, msg);
    return ORTC_STATUS_OK;
}

ortc_status ortc_pass_refresh(ortc_pass_ctx *pc, const char *pass)
{
    ORTC_TRY(ortc_pass_finalize(pc, pass));
    return ortc_pass_infer(pc);
}

/* ---- logging ------------------------------------------------------------------ */

static void vlog(ortc_pass_ctx *pc, ortc_log_level level, const char *fmt, va_list ap)
{
    if (!pc->opts.log || level > pc->opts.log_level)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    pc->opts.log(pc->opts.log_user, level, msg);
}

void ortc_pass_log(ortc_pass_ctx *pc, ortc_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(pc, level, fmt, ap);
    va_end(ap);
}

void ortc_pass_note(ortc_pass_ctx *pc, const char *fmt, ...)
{
    if (!pc->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(pc, ORTC_LOG_DEBUG, fmt, ap);
    va_end(ap);
}

const char *ortc_pass_node_label(char *buf, size_t len, const ortc_node *n)
{
    snprintf(buf, len, "'%s' (%s%s%s)", n->name, n->domain[0] ? n->domain : "",
             n->domain[0] ? "." : "", n->op_type);
    return buf;
}

/* "name[1,3,224,224]", "w:const[64,3,11,11]", "x[batch,3,?,?]"; "-" for
 * an omitted input or output */
static void value_str(char *buf, size_t len, const ortc_pass_ctx *pc, const ortc_value *v)
{
    char sh[200];
    if (!v) {
        snprintf(buf, len, "-");
        return;
    }
    const ortc_pass_info *in = ortc_pass_value(pc, v);
    if (in && in->rank >= 0)
        ortc_shape_str(sh, sizeof sh, in->rank, in->dims);
    else
        ortc_value_shape_str(sh, sizeof sh, v);
    snprintf(buf, len, "%s%s%s", v->name, v->kind == ORTC_VALUE_CONSTANT ? ":const" : "",
             strcmp(sh, "?") ? sh : "");
}

void ortc_pass_dump(ortc_pass_ctx *pc, const char *title)
{
    if (!pc->verbose)
        return;
    const ortc_graph *g = pc->g;
    int n_const = 0;
    for (int i = 0; i < g->n_values; i++)
        n_const += g->values[i]->kind == ORTC_VALUE_CONSTANT && g->values[i]->constant;
    ortc_pass_log(pc, ORTC_LOG_DEBUG, "passes: graph %s: %d nodes, %d initializers", title,
                  g->n_nodes, n_const);
    for (int i = 0; i < g->n_nodes; i++) {
        const ortc_node *n = g->nodes[i];
        char line[4096], vs[400];
        snprintf(line, sizeof line, "passes:   %3d %-18s '%s' ", i, n->op_type, n->name);
        for (int k = 0; k < n->n_inputs; k++) {
            value_str(vs, sizeof vs, pc, n->inputs[k]);
            ortc_strbuf_append(line, sizeof line, "%s%s", k ? ", " : "", vs);
        }
        ortc_strbuf_append(line, sizeof line, " ->");
        for (int k = 0; k < n->n_outputs; k++) {
            value_str(vs, sizeof vs, pc, n->outputs[k]);
            ortc_strbuf_append(line, sizeof line, "%s %s", k ? "," : "", vs);
        }
        for (int j = 0; j < n->n_post_ops; j++)
            ortc_strbuf_append(line, sizeof line, "%s%s", j ? ", " : "  post_ops=",
                               ortc_post_op_str(vs, sizeof vs, &n->post_ops[j]));
        if (ortc_pass_is_op(n, "LRN"))
            ortc_strbuf_append(line, sizeof line, "  size=%lld alpha=%g beta=%g bias=%g",
                               (long long)ortc_node_attr_int(n, "size", 0),
                               (double)ortc_node_attr_float(n, "alpha", 1e-4f),
                               (double)ortc_node_attr_float(n, "beta", 0.75f),
                               (double)ortc_node_attr_float(n, "bias", 1.0f));
        ortc_pass_log(pc, ORTC_LOG_DEBUG, "%s", line);
    }
}

/* ---- matchers ------------------------------------------------------------------- */

bool ortc_pass_is_op(const ortc_node *n, const char *op_type)
{
    return ortc_node_is_onnx(n, op_type);
}

ortc_node *ortc_pass_single_user(const ortc_value *v)
{
    if (!v || v->is_output || v->n_uses != 1 || v->uses[0].input < 0)
        return NULL;
    return v->uses[0].node;
}

void ortc_pass_release_constant(ortc_pass_ctx *pc, ortc_value *v, const ortc_node *a,
                                const ortc_node *b)
{
    if (!v || v->graph != pc->g || v->kind != ORTC_VALUE_CONSTANT || !v->constant || v->is_output)
        return;
    for (int u = 0; u < v->n_uses; u++)
        if (v->uses[u].input < 0 || (v->uses[u].node != a && v->uses[u].node != b))
            return;
    ortc_pass_note(pc, "passes: dropped initializer '%s' (%zu bytes): nothing reads it any more",
                   v->name, ortc_tensor_bytes(&v->constant->t));
    if (v->index < pc->info_cap) {
        pc->info[v->index].data = NULL;
        pc->info[v->index].rank = -1;
    }
    ortc_ir_drop_value(v);
    pc->stats.dead_values++;
}

bool ortc_pass_const_float(const ortc_value *v, float *out)
{
    if (!v || v->kind != ORTC_VALUE_CONSTANT || !v->constant ||
        v->constant->t.dtype != ORTC_DTYPE_FLOAT || ortc_tensor_numel(&v->constant->t) != 1)
        return false;
    *out = *(const float *)v->constant->t.data;
    return true;
}

/* ---- shape inference ------------------------------------------------------------- */

const ortc_pass_info *ortc_pass_value(const ortc_pass_ctx *pc, const ortc_value *v)
{
    if (!v || v->graph != pc->g || v->index >= pc->info_cap)
        return NULL;
    return &pc->info[v->index];
}

bool ortc_pass_shape_known(const ortc_pass_ctx *pc, const ortc_value *v)
{
    const ortc_pass_info *in = ortc_pass_value(pc, v);
    return in && in->rank >= 0 && in->dtype != ORTC_DTYPE_UNDEFINED;
}

static void info_of_value(ortc_pass_info *in, const ortc_value *v)
{
    memset(in, 0, sizeof *in);
    in->dtype = ORTC_DTYPE_UNDEFINED;
    in->rank = -1;
    if (v->kind == ORTC_VALUE_CONSTANT && v->constant) {
        const ortc_tensor *t = &v->constant->t;
        in->dtype = t->dtype;
        in->rank = t->rank;
        memcpy(in->dims, t->dims, sizeof in->dims);
        in->data = t->data;
    } else if (v->kind == ORTC_VALUE_INPUT) {
        in->dtype = v->dtype;
        bool full = v->rank >= 0 && v->rank <= ORTC_MAX_RANK;
        for (int d = 0; full && d < v->rank; d++)
            full = v->dims[d].value >= 0;
        if (full) {
            in->rank = v->rank;
            for (int d = 0; d < v->rank; d++)
                in->dims[d] = v->dims[d].value;
        }
    }
}

static int ensure_info(ortc_pass_ctx *pc)
{
    int n = pc->g->n_values;
    if (n <= pc->info_cap)
        return 0;
    ortc_pass_info *p = realloc(pc->info, (size_t)n * sizeof *p);
    if (!p)
        return -1;
    for (int i = pc->info_cap; i < n; i++)
        info_of_value(&p[i], pc->g->values[i]);
    pc->info = p;
    pc->info_cap = n;
    return 0;
}

/* Entry of v in tab (pc->info or a probe table of cap entries): NULL for
 * values of other graphs and values made after the table. */
static const ortc_pass_info *tab_value(const ortc_pass_ctx *pc, const ortc_pass_info *tab, int cap,
                                       const ortc_value *v)
{
    if (!tab || !v || v->graph != pc->g || v->index >= cap)
        return NULL;
    return &tab[v->index];
}

/* A context for n with input tensors from tab (data of constants). -1 on
 * OOM. */
static int node_ctx_init(ortc_pass_ctx *pc, const ortc_pass_info *tab, int cap, ortc_node *n,
                         ortc_node_ctx *x)
{
    if (ortc_node_ctx_init(x, n, pc->opts.threads, &pc->scratch))
        return -1;
    for (int i = 0; i < n->n_inputs; i++) {
        const ortc_pass_info *in = tab_value(pc, tab, cap, n->inputs[i]);
        if (!in)
            continue;
        ortc_tensor *t = x->c.in[i];
        t->dtype = in->dtype;
        t->rank = in->rank;
        if (in->rank >= 0)
            memcpy(t->dims, in->dims, sizeof t->dims);
        t->data = (void *)in->data;
        x->c.in_layout[i]->bytes = in->rank >= 0 ? ortc_tensor_bytes(t) : 0;
    }
    return 0;
}

/* Evaluation as the passes do it: errors that are not the op's verdict go
 * to err (pc->err, or pc->scratch where inference is speculative). */
static ortc_eval_env pass_env(ortc_pass_ctx *pc, ortc_errbuf *err)
{
    return (ortc_eval_env){pc->opts.threads, pc->opts.reference != 0, pc->opts.max_tensor_bytes,
                           pc->backend, err};
}

/* Whether infer may run: every present input fully known, and the inputs
 * whose contents infer reads are known too. */
static bool inputs_ready(const ortc_pass_ctx *pc, const ortc_pass_info *tab, int cap,
                         const ortc_node *n)
{
    uint32_t data = n->op->data_inputs;
    for (int i = 0; i < n->n_inputs; i++) {
        if (!n->inputs[i])
            continue;
        const ortc_pass_info *in = tab_value(pc, tab, cap, n->inputs[i]);
        if (!in || in->rank < 0 || in->dtype == ORTC_DTYPE_UNDEFINED)
            return false;
        if (i < 32 && ((data >> i) & 1u) && !in->data)
            return false;
    }
    return true;
}

/* Ops whose output 0 has input 0's dtype (ONNX type constraint T -> T). */
static bool keeps_dtype(const ortc_node *n)
{
    static const char *ops[] = {"Identity",
                                "Dropout",
                                "Reshape",
                                "Flatten",
                                "Squeeze",
                                "Unsqueeze",
                                "Transpose",
                                "Expand",
                                "Tile",
                                "Slice",
                                "Pad",
                                "Relu",
                                "LeakyRelu",
                                "Sigmoid",
                                "Tanh",
                                "Elu",
                                "HardSigmoid",
                                "Clip",
                                "Softmax",
                                "LogSoftmax",
                                "MaxPool",
                                "AveragePool",
                                "GlobalAveragePool",
                                "GlobalMaxPool",
                                "LRN",
                                "Conv",
                                "ConvTranspose",
                                "Gemm",
                                "MatMul",
                                "BatchNormalization",
                                "Add",
                                "Sub",
                                "Mul",
                                "Div"};
    if (n->domain[0])
        return false;
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(n->op_type, ops[i]))
            return true;
    return false;
}

ortc_status ortc_pass_fold_into_producers(ortc_pass_ctx *pc,
                                          ortc_status (*fold)(ortc_pass_ctx *pc, ortc_node *p,
                                                              bool *done))
{
    ORTC_TRY(ortc_pass_infer(pc));
    for (int i = 0; i < pc->g->n_nodes; i++) {
        ortc_node *p = pc->g->nodes[i];
        if (!p->op || !(p->op->flags & ORTC_OP_POST_OPS))
            continue;
        bool done = true, any = false;
        while (done && ortc_pass_takes_post_op(pc, p)) {
            done = false;
            ORTC_TRY(fold(pc, p, &done));
            any |= done;
        }
        if (any)
            i = -1; /* finalize may have re-sorted: rescan */
    }
    return ORTC_STATUS_OK;
}

/* Infers n's outputs into tab (cap entries, pc->info or a probe table)
 * from tab's entries of its inputs. */
static void infer_node_into(ortc_pass_ctx *pc, ortc_pass_info *tab, int cap, ortc_node *n)
{
    for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] && n->outputs[k]->graph == pc->g && n->outputs[k]->index < cap)
            info_of_value(&tab[n->outputs[k]->index], n->outputs[k]);
    if (!n->op)
        return;
    bool done = false;
    ortc_node_ctx x;
    if (inputs_ready(pc, tab, cap, n) && !node_ctx_init(pc, tab, cap, n, &x)) {
        ortc_eval_env env = pass_env(pc, &pc->scratch); /* speculative: nothing is fatal */
        if (ortc_eval_infer(&x.c, &env, NULL) == ORTC_STATUS_OK) {
            done = true;
            for (int k = 0; k < n->n_outputs; k++) {
                const ortc_value *v = n->outputs[k];
                if (!v || v->graph != pc->g || v->index >= cap)
                    continue;
                ortc_pass_info *o = &tab[v->index];
                o->dtype = x.c.out[k]->dtype;
                o->rank = x.c.out[k]->rank;
                memcpy(o->dims, x.c.out[k]->dims, sizeof o->dims);
                /* a shape known only at run time (Unique's output): unknown
                 * here, so no reader infers from its -1 dims (Slice of it
                 * gave a static [0] and Shape folded to it) */
                if (x.c.out_layout[k] && x.c.out_layout[k]->dynamic)
                    o->rank = -1;
            }
        }
        ortc_err_clear(&pc->scratch);
        ortc_node_ctx_free(&x);
    }
    if (!done && keeps_dtype(n) && n->n_inputs > 0 && n->inputs[0] && n->n_outputs > 0 &&
        n->outputs[0] && n->outputs[0]->graph == pc->g && n->outputs[0]->index < cap) {
        const ortc_pass_info *in = tab_value(pc, tab, cap, n->inputs[0]);
        if (in)
            tab[n->outputs[0]->index].dtype = in->dtype;
    }
}

void ortc_pass_infer_node(ortc_pass_ctx *pc, ortc_node *n)
{
    if (ensure_info(pc))
        return; /* stays unknown: never wrong, only less useful */
    infer_node_into(pc, pc->info, pc->info_cap, n);
}

/* ---- probes: shapes under two assignments of the symbolic dims ------------------
 * Each symbolic dim of the graph's inputs is a symbol (one per dim_param
 * name; an unnamed unknown dim is a symbol of its own) and takes a value
 * per probe: distinct values within a probe, odd in the first and even in
 * the second, none of them 0 or 1 (where broadcasting and empty tensors
 * behave differently). A decision taken alike under both probes does not
 * depend on the value of a symbol (for what shapes are computed from:
 * sums, products, divisions rounded either way); compile.c checks every
 * decision again on the real shapes (a fused 'sum' whose operand has
 * another shape is an error naming both, never a wrong result). */
#define PROBE_SYMBOLS 8
static const int64_t probe_dim[2][PROBE_SYMBOLS] = {{17, 19, 23, 29, 31, 37, 41, 43},
                                                    {24, 26, 28, 30, 32, 34, 36, 38}};

/* The symbol of a dim named `param` (NULL or "": a new one); -1 when
 * there are more than PROBE_SYMBOLS. */
static int probe_symbol(const char **names, int *n_names, const char *param)
{
    for (int k = 0; param && param[0] && k < *n_names; k++)
        if (names[k] && !strcmp(names[k], param))
            return k;
    if (*n_names >= PROBE_SYMBOLS)
        return -1;
    names[*n_names] = param && param[0] ? param : NULL;
    return (*n_names)++;
}

static int probes_compute(ortc_pass_ctx *pc)
{
    if (pc->probe[0])
        return 0;
    if (ensure_info(pc))
        return -1;
    ortc_graph *g = pc->g;
    int n = g->n_values;
    for (int j = 0; j < 2; j++) {
        pc->probe[j] = malloc((size_t)(n ? n : 1) * sizeof *pc->probe[j]);
        if (!pc->probe[j]) {
            free(pc->probe[0]);
            pc->probe[0] = NULL;
            return -1;
        }
    }
    pc->probe_cap = n;
    const char *names[PROBE_SYMBOLS];
    int n_names = 0;
    for (int i = 0; i < n; i++) {
        const ortc_value *v = g->values[i];
        info_of_value(&pc->probe[0][i], v);
        info_of_value(&pc->probe[1][i], v);
        if (v->kind != ORTC_VALUE_INPUT || pc->probe[0][i].rank >= 0 || v->rank < 0 ||
            v->rank > ORTC_MAX_RANK)
            continue;
        int sym[ORTC_MAX_RANK];
        bool all = true;
        for (int d = 0; all && d < v->rank; d++) {
            sym[d] = v->dims[d].value >= 0 ? -1 : probe_symbol(names, &n_names, v->dims[d].param);
            all = v->dims[d].value >= 0 || sym[d] >= 0;
        }
        for (int j = 0; all && j < 2; j++) {
            ortc_pass_info *in = &pc->probe[j][i];
            in->rank = v->rank;
            for (int d = 0; d < v->rank; d++)
                in->dims[d] = sym[d] < 0 ? v->dims[d].value : probe_dim[j][sym[d]];
        }
    }
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < g->n_nodes; i++)
            infer_node_into(pc, pc->probe[j], pc->probe_cap, g->nodes[i]);
    return 0;
}

const ortc_pass_info *ortc_pass_probe(ortc_pass_ctx *pc, const ortc_value *v, int j)
{
    if (j < 0 || j > 1 || probes_compute(pc))
        return NULL;
    const ortc_pass_info *in = tab_value(pc, pc->probe[j], pc->probe_cap, v);
    return in && in->rank >= 0 && in->dtype != ORTC_DTYPE_UNDEFINED ? in : NULL;
}

int ortc_pass_probe_rank(ortc_pass_ctx *pc, const ortc_value *v)
{
    const ortc_pass_info *a = ortc_pass_probe(pc, v, 0), *b = ortc_pass_probe(pc, v, 1);
    return a && b && a->rank == b->rank ? a->rank : -1;
}

ortc_status ortc_pass_infer(ortc_pass_ctx *pc)
{
    ortc_graph *g = pc->g;
    free(pc->info);
    pc->info = NULL;
    pc->info_cap = 0;
    free(pc->probe[0]);
    free(pc->probe[1]);
    pc->probe[0] = pc->probe[1] = NULL;
    pc->probe_cap = 0;
    if (ensure_info(pc))
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory in shape inference");
    for (int i = 0; i < g->n_nodes; i++)
        ortc_pass_infer_node(pc, g->nodes[i]);
    /* annotate undeclared intermediates (display only: compile.c infers
     * per plan and reads declared shapes of inputs and outputs only) */
    for (int i = 0; i < g->n_values && i < pc->info_cap; i++) {
        ortc_value *v = g->values[i];
        const ortc_pass_info *in = &pc->info[i];
        if (v->declared || v->is_output || v->kind != ORTC_VALUE_INTERMEDIATE || !v->producer)
            continue;
        if (in->rank >= 0)
            ortc_value_set_shape(v, in->dtype, in->rank, in->dims);
        else if (in->dtype != ORTC_DTYPE_UNDEFINED)
            v->dtype = in->dtype;
    }
    return ORTC_STATUS_OK;
}

bool ortc_pass_takes_post_op(const ortc_pass_ctx *pc, const ortc_node *p)
{
    return p->n_outputs == 1 && p->outputs[0] && p->n_post_ops < ORTC_MAX_POST_OPS &&
           ortc_pass_node_dtype(pc, p) == ORTC_DTYPE_FLOAT;
}

bool ortc_pass_accepts_post_op(const ortc_node *p, const ortc_post_op *po)
{
    return ortc_post_ops_can_append(p, po) && (!p->op->post_op_ok || p->op->post_op_ok(p, po));
}

ortc_dtype ortc_pass_node_dtype(const ortc_pass_ctx *pc, const ortc_node *p)
{
    const ortc_pass_info *o = ortc_pass_value(pc, p->outputs[0]);
    if (o && o->dtype != ORTC_DTYPE_UNDEFINED)
        return o->dtype;
    for (int i = 0; i < p->n_inputs; i++) {
        const ortc_pass_info *in = ortc_pass_value(pc, p->inputs[i]);
        if (in && in->dtype != ORTC_DTYPE_UNDEFINED)
            return in->dtype;
    }
    return ORTC_DTYPE_UNDEFINED;
}

/* n's post_op callback with its inputs from tab; false when it refuses. */
static bool post_op_from(ortc_pass_ctx *pc, const ortc_pass_info *tab, int cap, ortc_node *n,
                         int input, ortc_dtype dtype, ortc_post_op *out)
{
    ortc_node_ctx x;
    if (node_ctx_init(pc, tab, cap, n, &x))
        return false;
    if (x.c.in[input]->dtype == ORTC_DTYPE_UNDEFINED)
        x.c.in[input]->dtype = dtype;
    bool ok = n->op->post_op(&x.c, input, out) == ORTC_STATUS_OK;
    ortc_err_clear(&pc->scratch);
    ortc_node_ctx_free(&x);
    return ok;
}

static bool post_op_same(const ortc_post_op *a, const ortc_post_op *b)
{
    return a->kind == b->kind && a->alpha == b->alpha && a->beta == b->beta;
}

bool ortc_pass_post_op(ortc_pass_ctx *pc, ortc_node *n, int input, ortc_dtype dtype,
                       ortc_post_op *out)
{
    if (!n->op || !n->op->post_op || input < 0 || input >= n->n_inputs || !n->inputs[input] ||
        ensure_info(pc))
        return false;
    if (post_op_from(pc, pc->info, pc->info_cap, n, input, dtype, out))
        return true;
    /* refused on what is known statically: a decision alike under both
     * probes of the symbolic dims (an Add of two [batch, C, H, W]) */
    bool partial = false;
    for (int i = 0; i < n->n_inputs; i++)
        partial |= n->inputs[i] && !ortc_pass_shape_known(pc, n->inputs[i]) &&
                   ortc_pass_probe_rank(pc, n->inputs[i]) >= 0;
    ortc_post_op a, b;
    if (!partial || !post_op_from(pc, pc->probe[0], pc->probe_cap, n, input, dtype, &a) ||
        !post_op_from(pc, pc->probe[1], pc->probe_cap, n, input, dtype, &b) ||
        !post_op_same(&a, &b))
        return false;
    *out = a;
    return true;
}

/* ---- evaluation ------------------------------------------------------------------- */

static bool is_string(ortc_dtype t)
{
    return t == ORTC_DTYPE_STRING;
}

static bool value_constant(const void *arg, const ortc_value *v)
{
    (void)arg;
    return v->kind == ORTC_VALUE_CONSTANT && v->constant;
}

bool ortc_pass_foldable(const ortc_pass_ctx *pc, const ortc_node *n)
{
    if (!ortc_eval_foldable(n, value_constant, NULL))
        return false;
    /* what replaces the node: initializers of known shape, never strings
     * (a constant's strings are its own) */
    bool any_out = false;
    for (int k = 0; k < n->n_outputs; k++)
        any_out |= n->outputs[k] != NULL;
    for (int i = 0; i < n->n_inputs; i++) {
        const ortc_pass_info *in = n->inputs[i] ? ortc_pass_value(pc, n->inputs[i]) : NULL;
        if (n->inputs[i] &&
            (!in || in->rank < 0 || in->dtype == ORTC_DTYPE_UNDEFINED || is_string(in->dtype)))
            return false;
        /* a dim known only at run time (a value of data-dependent size):
         * Size/Shape of it are not constants (Size(Unique(w)) folded to -1) */
        for (int d = 0; in && d < in->rank; d++)
            if (in->dims[d] < 0)
                return false;
    }
    return any_out;
}

ortc_status ortc_pass_evaluate(ortc_pass_ctx *pc, ortc_node *n, ortc_const_tensor **out, bool *ok)
{
    *ok = false;
    for (int k = 0; k < n->n_outputs; k++)
        out[k] = NULL;
    if (ensure_info(pc) || !ortc_pass_foldable(pc, n))
        return ORTC_STATUS_OK;
    ortc_node_ctx x;
    if (node_ctx_init(pc, pc->info, pc->info_cap, n, &x))
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory folding a node");
    ortc_opctx *c = &x.c;
    ortc_eval_env env = pass_env(pc, pc->err);
    bool fatal = false;
    ortc_status st = ortc_eval_infer(c, &env, &fatal);
    for (int k = 0; !st && k < n->n_outputs; k++) {
        if (!c->out[k])
            continue;
        if (is_string(c->out[k]->dtype) || c->out_layout[k]->dynamic) {
            st = ORTC_STATUS_UNSUPPORTED; /* refused: see ortc_pass_foldable */
            break;
        }
        out[k] = ortc_const_tensor_new(c->out[k]->dtype, c->out[k]->rank, c->out[k]->dims);
        if (!out[k]) {
            fatal = true;
            st = ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY,
                              "out of memory folding node '%s' (output %d, %zu bytes)", n->name, k,
                              ortc_tensor_bytes(c->out[k]));
            break;
        }
        c->out[k]->data = out[k]->t.data;
    }
    if (!st)
        st = ortc_eval_run(c, &env, &fatal);
    *ok = !st;
    if (st)
        for (int k = 0; k < n->n_outputs; k++) {
            ortc_const_tensor_free(out[k]);
            out[k] = NULL;
        }
    ortc_err_clear(&pc->scratch);
    ortc_node_ctx_free(&x);
    return fatal ? st : ORTC_STATUS_OK;
}
