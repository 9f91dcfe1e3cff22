/* quantize.c — static post-training quantization (ortc.h, "ortc
 * quantize"): picks the quantizable nodes, observes their activation
 * inputs on calibration runs (the float32 model with those values added
 * as graph outputs, so normal sessions pay nothing), turns the ranges into
 * per-tensor parameters, rewrites a fresh copy of the model into the QDQ
 * format and measures each layer's output against float32. Writing the
 * file is onnx/writer.c's; int8 execution is the qdq pass's.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "session_impl.h"
#include "writer.h"

#define HIST_BINS 2048

/* One observed activation value: a quantized node's input. */
typedef struct observed {
    char *name;
    int graph_input; /* its index among the graph inputs, or -1 */
    int cal_output;  /* its index among the calibration session's outputs */
    bool seen;
    float min, max;
    /* histogram of |x| over [0, range) in HIST_BINS bins (percentile,
     * entropy); range doubles (merging bin pairs) when a value exceeds it */
    double range;
    double *hist;
    double zeros; /* exact zeros, kept out of hist: quantization keeps them exact */
    float scale;  /* the parameters (after quantize) */
    int zero_point;
    float lo, hi; /* the range they cover */
} observed;

typedef struct layer {
    int node; /* index in the top-level graph's node list (as loaded) */
    char *name, *op_type, *output;
    int input;       /* observed index of its activation input */
    int weight_axis; /* output channel axis of the weights */
    int64_t channels;
    int ref_output;  /* its output among the calibration session's outputs */
    int eval_output; /* ... and the evaluation session's */
    int64_t count;
    double max_abs, sum_sq_err, sum_sq_ref;
} layer;

struct ortc_quantizer {
    ortc_quantize_options opts;
    char **exclude;
    char *path;
    ortc_model *model; /* the float32 model as loaded (what callers inspect) */
    ortc_session *cal; /* float32 + observed values and layer outputs as outputs */
    size_t cal_outputs;
    ortc_session *eval; /* the QDQ model + layer outputs */
    size_t eval_outputs;
    ortc_model *qmodel; /* the QDQ model as written */
    observed *obs;
    int n_obs;
    layer *layers;
    int n_layers;
    bool quantized;
    int64_t calibrated; /* batches */
};

void ortc_quantize_options_init(ortc_quantize_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->method = ORTC_CALIB_MINMAX;
    o->percentile = 99.99;
    o->activations = ORTC_DTYPE_UINT8;
}

static ortc_status oom(void)
{
    return ortc_err_set(NULL, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
}

/* ---- choosing the layers ------------------------------------------------ */

static const ortc_tensor *float_const(const ortc_value *v)
{
    if (!v || v->kind != ORTC_VALUE_CONSTANT || !v->constant)
        return NULL;
    return v->constant->t.dtype == ORTC_DTYPE_FLOAT ? &v->constant->t : NULL;
}

/* The output-channel axis of n's weights when n is a node this quantizer
 * handles (what the qdq pass can run in int8), else -1. */
static int weight_axis(const ortc_node *n)
{
    if (*n->domain || n->n_inputs < 2 || n->n_outputs < 1 || !n->outputs[0] || !n->inputs[0])
        return -1;
    const ortc_tensor *w = float_const(n->inputs[1]);
    if (!w || ortc_tensor_numel(w) == 0 || float_const(n->inputs[0]))
        return -1;
    if (strcmp(n->op_type, "Conv") == 0)
        return w->rank >= 3 ? 0 : -1;
    if (strcmp(n->op_type, "Gemm") == 0) {
        if (ortc_node_attr_int(n, "transA", 0) || w->rank != 2)
            return -1;
        return ortc_node_attr_int(n, "transB", 0) ? 0 : 1;
    }
    if (strcmp(n->op_type, "MatMul") == 0)
        return w->rank == 2 ? 1 : -1;
    return -1;
}

static bool excluded(const ortc_quantizer *q, const ortc_node *n)
{
    for (size_t i = 0; i < q->opts.n_exclude; i++)
        if (strcmp(q->exclude[i], n->name) == 0)
            return true;
    return false;
}

static int find_observed(const ortc_quantizer *q, const char *name)
{
    for (int i = 0; i < q->n_obs; i++)
        if (strcmp(q->obs[i].name, name) == 0)
            return i;
    return -1;
}

static ortc_status add_observed(ortc_quantizer *q, const ortc_graph *g, const ortc_value *v,
                                int *index)
{
    *index = find_observed(q, v->name);
    if (*index >= 0)
        return ORTC_STATUS_OK;
    observed *o = realloc(q->obs, (size_t)(q->n_obs + 1) * sizeof *o);
    if (!o)
        return oom();
    q->obs = o;
    o = &q->obs[q->n_obs];
    memset(o, 0, sizeof *o);
    o->graph_input = -1;
    for (int i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] == v)
            o->graph_input = i;
    if (!(o->name = strdup(v->name)))
        return oom();
    if (q->opts.method != ORTC_CALIB_MINMAX && !(o->hist = calloc(HIST_BINS, sizeof *o->hist)))
        return oom();
    *index = q->n_obs++;
    return ORTC_STATUS_OK;
}

static ortc_status choose_layers(ortc_quantizer *q)
{
    const ortc_graph *g = q->model->graph;
    for (size_t i = 0; i < q->opts.n_exclude; i++) {
        bool found = false;
        for (int k = 0; k < g->n_nodes && !found; k++)
            found = strcmp(g->nodes[k]->name, q->exclude[i]) == 0;
        if (!found)
            return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                                "%s: --exclude names node '%s', which the model does not have",
                                q->path, q->exclude[i]);
    }
    for (int k = 0; k < g->n_nodes; k++) {
        const ortc_node *n = g->nodes[k];
        int axis = weight_axis(n);
        if (axis < 0 || excluded(q, n))
            continue;
        layer *l = realloc(q->layers, (size_t)(q->n_layers + 1) * sizeof *l);
        if (!l)
            return oom();
        q->layers = l;
        l = &q->layers[q->n_layers++];
        memset(l, 0, sizeof *l);
        l->node = k;
        l->weight_axis = axis;
        l->channels = n->inputs[1]->constant->t.dims[axis];
        l->name = strdup(n->name);
        l->op_type = strdup(n->op_type);
        l->output = strdup(n->outputs[0]->name);
        if (!l->name || !l->op_type || !l->output)
            return oom();
        ORTC_TRY(add_observed(q, g, n->inputs[0], &l->input));
    }
    if (q->n_layers == 0)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "%s: no node to quantize: ortc quantizes Conv, Gemm and MatMul nodes "
                            "with constant float32 weights%s",
                            q->path, q->opts.n_exclude ? " that --exclude does not name" : "");
    if (ortc_model_opset_version(q->model, "") < 13)
        return ortc_err_set(NULL, ORTC_STATUS_UNSUPPORTED,
                            "%s: imports opset %lld; per-channel QuantizeLinear/DequantizeLinear "
                            "need opset 13 or newer",
                            q->path, (long long)ortc_model_opset_version(q->model, ""));
    return ORTC_STATUS_OK;
}

/* A session running `m` with the named values of its top-level graph as
 * outputs: idx[i] is names[i]'s output index (one the graph already has,
 * or a new one after them); *n_outputs the session's outputs. Takes
 * ownership of m. */
static ortc_status session_with_outputs(ortc_quantizer *q, ortc_model *m, char *const *names, int n,
                                        int *idx, size_t *n_outputs, ortc_session **out)
{
    ortc_graph *g = m->graph;
    for (int i = 0; i < n; i++) {
        ortc_value *v = ortc_graph_find_local(g, names[i]);
        if (!v) {
            ortc_model_free(m);
            return ortc_err_set(NULL, ORTC_STATUS_RUNTIME_ERROR, "quantize: value '%s' vanished",
                                names[i]);
        }
        idx[i] = -1;
        for (int k = 0; k < g->n_outputs && idx[i] < 0; k++)
            if (g->outputs[k] == v)
                idx[i] = k;
        if (idx[i] >= 0)
            continue;
        if (ortc_graph_add_output(g, v)) {
            ortc_model_free(m);
            return oom();
        }
        idx[i] = g->n_outputs - 1;
    }
    *n_outputs = (size_t)g->n_outputs;
    ortc_options o;
    ortc_options_init(&o);
    o.threads = q->opts.threads;
    return ortc_session_create_from_model(out, m, &o);
}

/* ---- calibration ------------------------------------------------------------ */

static void hist_add(observed *o, const float *x, int64_t n)
{
    float amax = 0;
    for (int64_t i = 0; i < n; i++)
        amax = fmaxf(amax, fabsf(x[i]));
    if (o->range <= 0)
        o->range = amax > 0 ? amax : 1e-6;
    while (amax >= o->range) { /* double the range: merge bin pairs */
        for (int b = 0; b < HIST_BINS / 2; b++)
            o->hist[b] = o->hist[2 * b] + o->hist[2 * b + 1];
        memset(&o->hist[HIST_BINS / 2], 0, HIST_BINS / 2 * sizeof *o->hist);
        o->range *= 2;
    }
    double k = HIST_BINS / o->range;
    for (int64_t i = 0; i < n; i++) {
        if (x[i] == 0) {
            o->zeros += 1;
            continue;
        }
        int b = (int)(fabsf(x[i]) * k);
        o->hist[b < HIST_BINS ? b : HIST_BINS - 1] += 1;
    }
}

static void observe(observed *o, const ortc_tensor *t)
{
    int64_t n = ortc_tensor_numel(t);
    const float *x = t->data;
    for (int64_t i = 0; i < n; i++) {
        if (!o->seen || x[i] < o->min)
            o->min = x[i];
        if (!o->seen || x[i] > o->max)
            o->max = x[i];
        o->seen = true;
    }
    if (o->hist && n > 0)
        hist_add(o, x, n);
}

static ortc_status check_inputs(const ortc_quantizer *q, const ortc_tensor *inputs, size_t n)
{
    const ortc_graph *g = q->model->graph;
    if (!inputs || n != (size_t)g->n_inputs)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "quantize: the model takes %d input(s), %zu given", g->n_inputs, n);
    return ORTC_STATUS_OK;
}

static void release_all(ortc_any *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        ortc_any_release(&v[i]);
    free(v);
}

/* Runs s on the inputs; *outs (n_outs values) are the caller's to release. */
static ortc_status run_all(ortc_session *s, const ortc_tensor *inputs, size_t n_in, size_t n_outs,
                           ortc_any **outs)
{
    ortc_any *in = calloc(n_in ? n_in : 1, sizeof *in);
    *outs = calloc(n_outs, sizeof **outs);
    if (!in || !*outs) {
        free(in);
        free(*outs);
        *outs = NULL;
        return oom();
    }
    for (size_t i = 0; i < n_in; i++) {
        in[i].type = ORTC_TYPE_TENSOR;
        in[i].tensor = inputs[i];
    }
    ortc_status st = ortc_session_run_any(s, in, n_in, *outs, n_outs);
    free(in);
    if (st) {
        release_all(*outs, n_outs);
        *outs = NULL;
    }
    return st;
}

static const ortc_tensor *float_output(const ortc_any *v, const char *name, ortc_status *st)
{
    *st = ORTC_STATUS_OK;
    if (v->type == ORTC_TYPE_TENSOR && v->tensor.dtype == ORTC_DTYPE_FLOAT)
        return &v->tensor;
    *st = ortc_err_set(NULL, ORTC_STATUS_UNSUPPORTED,
                       "quantize: value '%s' is not a float32 tensor; only float32 activations "
                       "are quantized",
                       name);
    return NULL;
}

ortc_status ortc_quantizer_calibrate(ortc_quantizer *q, const ortc_tensor *inputs, size_t n)
{
    if (!q)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "quantize: NULL quantizer");
    if (q->quantized)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "quantize: calibrate after quantize");
    ortc_status st = check_inputs(q, inputs, n);
    ortc_any *outs = NULL;
    if (!st)
        st = run_all(q->cal, inputs, n, q->cal_outputs, &outs);
    for (int i = 0; !st && i < q->n_obs; i++) {
        observed *o = &q->obs[i];
        if (o->graph_input >= 0) {
            if (inputs[o->graph_input].dtype != ORTC_DTYPE_FLOAT)
                st = ortc_err_set(NULL, ORTC_STATUS_UNSUPPORTED,
                                  "quantize: input '%s' is not float32", o->name);
            else
                observe(o, &inputs[o->graph_input]);
            continue;
        }
        const ortc_tensor *t = float_output(&outs[o->cal_output], o->name, &st);
        if (t)
            observe(o, t);
    }
    release_all(outs, q->cal_outputs);
    if (!st)
        q->calibrated++;
    return st;
}

/* ---- parameters ------------------------------------------------------------- */

/* Smallest threshold t with at least `share` of the histogram's mass at
 * |x| <= t. */
static double hist_percentile(const observed *o, double share)
{
    double total = o->zeros, cum = o->zeros;
    for (int b = 0; b < HIST_BINS; b++)
        total += o->hist[b];
    for (int b = 0; b < HIST_BINS; b++) {
        cum += o->hist[b];
        if (cum >= share * total)
            return (b + 1) * o->range / HIST_BINS;
    }
    return o->range;
}

/* The threshold (in bins) minimising KL(P || Q), P the histogram clipped at
 * it (outliers added to its last bin), Q P merged into `levels` equal
 * groups and spread back uniformly over each group's non-empty bins. Exact
 * zeros (ReLU's) are not in the histogram: they stay exact whatever the
 * threshold, and their spike in the first bin would pull it down. */
static double hist_entropy(const observed *o, int levels)
{
    const double *h = o->hist;
    int last = HIST_BINS;
    while (last > 0 && h[last - 1] == 0)
        last--;
    if (last <= levels)
        return (double)last * o->range / HIST_BINS;
    double *p = malloc((size_t)last * sizeof *p), *qd = malloc((size_t)last * sizeof *qd);
    if (!p || !qd) {
        free(p);
        free(qd);
        return o->range;
    }
    double best = INFINITY;
    int best_i = last;
    for (int i = levels; i <= last; i++) {
        double outliers = 0;
        for (int b = i; b < last; b++)
            outliers += h[b];
        double psum = 0;
        for (int b = 0; b < i; b++)
            psum += (p[b] = h[b] + (b == i - 1 ? outliers : 0));
        for (int j = 0; j < levels; j++) { /* bins [s, e) form level j */
            int s = (int)((int64_t)j * i / levels), e = (int)((int64_t)(j + 1) * i / levels);
            double sum = 0;
            int nonzero = 0;
            for (int b = s; b < e; b++) {
                sum += h[b];
                nonzero += h[b] != 0;
            }
            for (int b = s; b < e; b++)
                qd[b] = h[b] != 0 ? sum / nonzero : 0;
        }
        double qsum = 0;
        for (int b = 0; b < i; b++)
            qsum += qd[b];
        double kl = 0;
        for (int b = 0; b < i && psum > 0 && qsum > 0; b++) {
            if (p[b] == 0)
                continue;
            double pp = p[b] / psum, qq = qd[b] / qsum;
            kl += qq > 0 ? pp * log(pp / qq) : pp * 30.0; /* Q empty where P is not */
        }
        if (kl < best) {
            best = kl;
            best_i = i;
        }
    }
    free(p);
    free(qd);
    return (double)best_i * o->range / HIST_BINS;
}

static void set_params(const ortc_quantizer *q, observed *o)
{
    double lo = o->min, hi = o->max;
    if (q->opts.method == ORTC_CALIB_PERCENTILE || q->opts.method == ORTC_CALIB_ENTROPY) {
        double t = q->opts.method == ORTC_CALIB_PERCENTILE
                       ? hist_percentile(o, q->opts.percentile / 100.0)
                       : hist_entropy(o, lo < 0 ? 128 : 256);
        lo = fmax(lo, -t);
        hi = fmin(hi, t);
    }
    lo = fmin(lo, 0);
    hi = fmax(hi, 0);
    bool u8 = q->opts.activations != ORTC_DTYPE_INT8;
    double qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    double scale = (hi - lo) / (qmax - qmin);
    if (!(scale > 0) || !isfinite(scale) || (float)scale < FLT_MIN) {
        scale = 1;
        lo = 0;
    }
    double zp = nearbyint(qmin - lo / scale);
    o->scale = (float)scale;
    o->zero_point = (int)fmin(fmax(zp, qmin), qmax);
    o->lo = (float)((qmin - o->zero_point) * scale);
    o->hi = (float)((qmax - o->zero_point) * scale);
}

/* ---- the QDQ rewrite -------------------------------------------------------- */

static ortc_value *scalar_const(ortc_graph *g, const char *base, ortc_dtype dt, double v)
{
    ortc_const_tensor *t = ortc_const_tensor_new(dt, 0, NULL);
    if (!t)
        return NULL;
    switch (dt) {
    case ORTC_DTYPE_FLOAT: *(float *)t->t.data = (float)v; break;
    case ORTC_DTYPE_UINT8: *(uint8_t *)t->t.data = (uint8_t)v; break;
    case ORTC_DTYPE_INT8: *(int8_t *)t->t.data = (int8_t)v; break;
    default: ortc_const_tensor_free(t); return NULL;
    }
    return ortc_ir_add_constant(g, base, t);
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb + 1);
    }
    return s;
}

/* A node `op` at pos reading (x, scale, zero) into a new value named after
 * base + suffix; its axis attribute when axis >= 0. NULL on OOM. */
static ortc_value *qdq_node(ortc_graph *g, int pos, const char *op, const char *base,
                            const char *suffix, ortc_value *x, ortc_value *scale, ortc_value *zero,
                            int axis)
{
    char *vname = join(base, suffix), *nname = vname ? join(vname, "_node") : NULL;
    ortc_value *y = nname ? ortc_ir_new_value(g, vname) : NULL;
    ortc_node *n = y ? ortc_ir_insert_node(g, pos, op, "", nname, 3, 1) : NULL;
    free(vname);
    free(nname);
    if (!n)
        return NULL;
    n->inputs[0] = x;
    n->inputs[1] = scale;
    n->inputs[2] = zero;
    n->outputs[0] = y;
    if (axis >= 0) {
        ortc_attr *a = ortc_node_add_attr(n, "axis", ORTC_ATTR_INT);
        if (!a)
            return NULL;
        a->i = axis;
    }
    return y;
}

static int node_pos(const ortc_graph *g, const ortc_node *n)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i] == n)
            return i;
    return 0;
}

/* q (dtype dt, shape rank/dims) and its scale (float) and zero point (dt),
 * each c long: all three, or none and out of memory. */
static ortc_status new_qtensors(ortc_dtype dt, int rank, const int64_t *dims, int64_t c,
                                ortc_const_tensor **q, ortc_const_tensor **s, ortc_const_tensor **z)
{
    *q = ortc_const_tensor_new(dt, rank, dims);
    *s = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, 1, &c);
    *z = ortc_const_tensor_new(dt, 1, &c);
    if (*q && *s && *z)
        return ORTC_STATUS_OK;
    ortc_const_tensor_free(*q);
    ortc_const_tensor_free(*s);
    ortc_const_tensor_free(*z);
    return oom();
}

/* t (taken over) as the constant <name><suffix>; NULL: out of memory. */
static ortc_value *add_named(ortc_graph *g, const char *name, const char *suffix,
                             ortc_const_tensor *t)
{
    char *full = join(name, suffix);
    ortc_value *v = full ? ortc_ir_add_constant(g, full, t) : (ortc_const_tensor_free(t), NULL);
    free(full);
    return v;
}

/* <name>_dequantized = DequantizeLinear(q, s, z) before n, its inputs (taken
 * over) added as <name>_quantized, _scale and _zero_point; NULL: out of
 * memory. */
static ortc_value *add_dq(ortc_graph *g, ortc_node *n, const char *name, ortc_const_tensor *q,
                          ortc_const_tensor *s, ortc_const_tensor *z, int axis)
{
    ortc_value *vq = add_named(g, name, "_quantized", q);
    ortc_value *vs = add_named(g, name, "_scale", s);
    ortc_value *vz = add_named(g, name, "_zero_point", z);
    return vq && vs && vz ? qdq_node(g, node_pos(g, n), "DequantizeLinear", name, "_dequantized",
                                     vq, vs, vz, axis)
                          : NULL;
}

/* Weights -> DQ(int8 per channel); bias -> DQ(int32) when it is 1-D per
 * channel and the node adds it unscaled. */
static ortc_status quantize_weights(ortc_graph *g, ortc_node *n, const layer *l, const observed *in,
                                    float **wscale_out)
{
    const ortc_tensor *w = &n->inputs[1]->constant->t;
    int64_t c = l->channels, total = ortc_tensor_numel(w);
    int64_t inner = 1; /* elements after the channel axis */
    for (int d = l->weight_axis + 1; d < w->rank; d++)
        inner *= w->dims[d];
    float *keep = malloc((size_t)c * sizeof *keep); /* the scales, for the bias */
    ortc_const_tensor *wq, *ws, *wz;
    ortc_status st =
        keep ? new_qtensors(ORTC_DTYPE_INT8, w->rank, w->dims, c, &wq, &ws, &wz) : oom();
    if (st) {
        free(keep);
        return st;
    }
    float *scale = ws->t.data;
    const float *x = w->data;
    for (int64_t ch = 0; ch < c; ch++)
        scale[ch] = 0;
    for (int64_t i = 0; i < total; i++) {
        int64_t ch = (i / inner) % c;
        scale[ch] = fmaxf(scale[ch], fabsf(x[i]));
    }
    for (int64_t ch = 0; ch < c; ch++)
        scale[ch] = scale[ch] > 0 && isfinite(scale[ch]) ? scale[ch] / 127.0f : 1.0f;
    int8_t *dst = wq->t.data;
    for (int64_t i = 0; i < total; i++) {
        float v = nearbyintf(x[i] / scale[(i / inner) % c]);
        dst[i] = (int8_t)fminf(fmaxf(v, -127.0f), 127.0f);
    }
    memcpy(keep, scale, (size_t)c * sizeof *keep);
    ortc_value *wdq = add_dq(g, n, n->inputs[1]->name, wq, ws, wz, l->weight_axis);
    if (!wdq) {
        free(keep);
        return oom();
    }
    n->inputs[1] = wdq;
    *wscale_out = keep;

    /* bias */
    const ortc_tensor *b = n->n_inputs > 2 ? float_const(n->inputs[2]) : NULL;
    bool gemm = strcmp(n->op_type, "Gemm") == 0;
    if (!b || b->rank != 1 || b->dims[0] != c || strcmp(n->op_type, "MatMul") == 0 ||
        (gemm &&
         (ortc_node_attr_float(n, "alpha", 1) != 1 || ortc_node_attr_float(n, "beta", 1) != 1)))
        return ORTC_STATUS_OK;
    ortc_const_tensor *bq, *bs, *bz;
    ORTC_TRY(new_qtensors(ORTC_DTYPE_INT32, 1, &c, c, &bq, &bs, &bz));
    const float *bv = b->data;
    for (int64_t ch = 0; ch < c; ch++) {
        float s = in->scale * keep[ch];
        ((float *)bs->t.data)[ch] = s;
        double v = nearbyint((double)bv[ch] / s);
        ((int32_t *)bq->t.data)[ch] = (int32_t)fmin(fmax(v, -2147483647.0), 2147483647.0);
    }
    ortc_value *bdq = add_dq(g, n, n->inputs[2]->name, bq, bs, bz, 0);
    if (!bdq)
        return oom();
    n->inputs[2] = bdq;
    return ORTC_STATUS_OK;
}

/* Rewrites m (a fresh load of the model) into the QDQ form. */
static ortc_status rewrite(const ortc_quantizer *q, ortc_model *m)
{
    ortc_graph *g = m->graph;
    ortc_status st = ORTC_STATUS_OK;
    int n_nodes = g->n_nodes;
    ortc_node **nodes = malloc((size_t)n_nodes * sizeof *nodes);
    ortc_value **old = calloc((size_t)q->n_layers * 2 + 1, sizeof *old);
    ortc_value **dq = calloc((size_t)q->n_obs + 1, sizeof *dq);
    if (!nodes || !old || !dq) {
        free(nodes);
        free(old);
        free(dq);
        return oom();
    }
    memcpy(nodes, g->nodes, (size_t)n_nodes * sizeof *nodes);
    ortc_dtype adt = q->opts.activations == ORTC_DTYPE_INT8 ? ORTC_DTYPE_INT8 : ORTC_DTYPE_UINT8;
    for (int i = 0; !st && i < q->n_layers; i++) {
        const layer *l = &q->layers[i];
        if (l->node >= n_nodes) {
            st = ortc_err_set(NULL, ORTC_STATUS_RUNTIME_ERROR, "quantize: the model changed");
            break;
        }
        ortc_node *n = nodes[l->node];
        const observed *o = &q->obs[l->input];
        if (!dq[l->input]) { /* Q -> DQ once per value, right before its first reader */
            ortc_value *x = n->inputs[0];
            char *sn = join(x->name, "_scale"), *zn = join(x->name, "_zero_point");
            ortc_value *s = sn ? scalar_const(g, sn, ORTC_DTYPE_FLOAT, o->scale) : NULL;
            ortc_value *z = zn ? scalar_const(g, zn, adt, o->zero_point) : NULL;
            free(sn);
            free(zn);
            int pos = node_pos(g, n);
            ortc_value *xq =
                s && z ? qdq_node(g, pos, "QuantizeLinear", x->name, "_quantized", x, s, z, -1)
                       : NULL;
            dq[l->input] =
                xq ? qdq_node(g, pos + 1, "DequantizeLinear", x->name, "_dequantized", xq, s, z, -1)
                   : NULL;
            if (!dq[l->input]) {
                st = oom();
                break;
            }
        }
        n->inputs[0] = dq[l->input];
        old[2 * i] = n->inputs[1];
        old[2 * i + 1] = n->n_inputs > 2 ? n->inputs[2] : NULL;
        float *wscale = NULL;
        st = quantize_weights(g, n, l, o, &wscale);
        free(wscale);
    }
    char err[512];
    if (!st && ortc_graph_finalize(g, err, sizeof err))
        st = ortc_err_set(NULL, ORTC_STATUS_RUNTIME_ERROR, "quantize: %s", err);
    /* the float weights and biases no node reads any more are dropped */
    for (int i = 0; !st && i < q->n_layers * 2; i++) {
        ortc_value *v = old[i];
        bool dup = false;
        for (int k = 0; k < i; k++)
            dup = dup || old[k] == v;
        if (v && !dup && v->kind == ORTC_VALUE_CONSTANT && v->n_uses == 0 && !v->is_output)
            ortc_ir_drop_value(v);
    }
    free(nodes);
    free(old);
    free(dq);
    return st;
}

/* ---- the public API ------------------------------------------------------------ */

void ortc_quantizer_free(ortc_quantizer *q)
{
    if (!q)
        return;
    for (size_t i = 0; q->exclude && i < q->opts.n_exclude; i++)
        free(q->exclude[i]);
    free(q->exclude);
    free(q->path);
    ortc_model_free(q->model);
    ortc_model_free(q->qmodel);
    ortc_session_destroy(q->cal);
    ortc_session_destroy(q->eval);
    for (int i = 0; i < q->n_obs; i++) {
        free(q->obs[i].name);
        free(q->obs[i].hist);
    }
    free(q->obs);
    for (int i = 0; i < q->n_layers; i++) {
        free(q->layers[i].name);
        free(q->layers[i].op_type);
        free(q->layers[i].output);
    }
    free(q->layers);
    free(q);
}

/* The calibration session: the float32 model with the observed values that
 * are not graph inputs, and the layer outputs, as outputs. */
static ortc_status cal_session(ortc_quantizer *q)
{
    ortc_model *m = NULL;
    ORTC_TRY(ortc_model_load(&m, q->path));
    size_t cap = (size_t)(q->n_obs + q->n_layers) + 1;
    char **names = calloc(cap, sizeof *names);
    int *idx = calloc(cap, sizeof *idx);
    if (!names || !idx) {
        free(names);
        free(idx);
        ortc_model_free(m);
        return oom();
    }
    int n = 0;
    for (int i = 0; i < q->n_obs; i++)
        if (q->obs[i].graph_input < 0)
            names[n++] = q->obs[i].name;
    for (int i = 0; i < q->n_layers; i++)
        names[n++] = q->layers[i].output;
    ortc_status st = session_with_outputs(q, m, names, n, idx, &q->cal_outputs, &q->cal);
    if (!st) {
        int k = 0;
        for (int i = 0; i < q->n_obs; i++)
            if (q->obs[i].graph_input < 0)
                q->obs[i].cal_output = idx[k++];
        for (int i = 0; i < q->n_layers; i++)
            q->layers[i].ref_output = idx[k++];
    }
    free(names);
    free(idx);
    return st;
}

ortc_status ortc_quantizer_create(ortc_quantizer **out, const char *path,
                                  const ortc_quantize_options *opts)
{
    if (!out || !path) {
        if (out)
            *out = NULL;
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "quantize: NULL argument");
    }
    *out = NULL;
    ortc_quantizer *q = calloc(1, sizeof *q);
    if (!q)
        return oom();
    if (opts)
        q->opts = *opts;
    else
        ortc_quantize_options_init(&q->opts);
    ortc_status st = ORTC_STATUS_OK;
    if (q->opts.method < ORTC_CALIB_MINMAX || q->opts.method > ORTC_CALIB_ENTROPY)
        st = ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "quantize: unknown method %d",
                          q->opts.method);
    else if (q->opts.method == ORTC_CALIB_PERCENTILE &&
             !(q->opts.percentile > 0 && q->opts.percentile <= 100))
        st = ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                          "quantize: percentile %g is not in (0, 100]", q->opts.percentile);
    else if (q->opts.activations != ORTC_DTYPE_UINT8 && q->opts.activations != ORTC_DTYPE_INT8)
        st = ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                          "quantize: activations must be uint8 or int8, not %s",
                          ortc_dtype_name(q->opts.activations));
    if (!st) {
        q->exclude = calloc(q->opts.n_exclude + 1, sizeof *q->exclude);
        q->path = strdup(path);
        if (!q->exclude || !q->path)
            st = oom();
        for (size_t i = 0; !st && i < q->opts.n_exclude; i++)
            if (!(q->exclude[i] = strdup(q->opts.exclude[i] ? q->opts.exclude[i] : "")))
                st = oom();
        q->opts.exclude = NULL;
    }
    if (!st)
        st = ortc_model_load(&q->model, path);
    if (!st)
        st = choose_layers(q);
    if (!st)
        st = cal_session(q);
    if (st) {
        ortc_quantizer_free(q);
        return st;
    }
    *out = q;
    return ORTC_STATUS_OK;
}

const ortc_model *ortc_quantizer_model(const ortc_quantizer *q)
{
    return q ? q->model : NULL;
}

ortc_status ortc_quantizer_quantize(ortc_quantizer *q)
{
    if (!q)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "quantize: NULL quantizer");
    if (q->quantized)
        return ORTC_STATUS_OK;
    for (int i = 0; i < q->n_obs; i++)
        if (!q->obs[i].seen)
            return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                                "quantize: no calibration data yet (value '%s' has no range)",
                                q->obs[i].name);
    for (int i = 0; i < q->n_obs; i++)
        set_params(q, &q->obs[i]);
    ortc_model *m = NULL, *e = NULL;
    ortc_status st = ortc_model_load(&m, q->path);
    if (!st)
        st = rewrite(q, m);
    if (!st)
        st = ortc_model_load(&e, q->path);
    if (!st)
        st = rewrite(q, e);
    if (st) {
        ortc_model_free(m);
        ortc_model_free(e);
        return st;
    }
    char **names = calloc((size_t)q->n_layers + 1, sizeof *names);
    int *idx = calloc((size_t)q->n_layers + 1, sizeof *idx);
    if (!names || !idx) {
        free(names);
        free(idx);
        ortc_model_free(m);
        ortc_model_free(e);
        return oom();
    }
    for (int i = 0; i < q->n_layers; i++)
        names[i] = q->layers[i].output;
    st = session_with_outputs(q, e, names, q->n_layers, idx, &q->eval_outputs, &q->eval);
    for (int i = 0; !st && i < q->n_layers; i++)
        q->layers[i].eval_output = idx[i];
    free(names);
    free(idx);
    if (st) {
        ortc_model_free(m);
        ortc_err_prefix(NULL, "quantize: the QDQ model does not compile: ");
        return st;
    }
    /* the file says who wrote it */
    char *pn = strdup("ortc quantize"), *pv = strdup(ORTC_VERSION_STRING);
    if (!pn || !pv) {
        free(pn);
        free(pv);
        ortc_model_free(m);
        return oom();
    }
    free(m->producer_name);
    free(m->producer_version);
    m->producer_name = pn;
    m->producer_version = pv;
    q->qmodel = m;
    q->quantized = true;
    return ORTC_STATUS_OK;
}

ortc_status ortc_model_save(const ortc_model *model, const char *path)
{
    ortc_errbuf err;
    if (!model || !path)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "ortc_model_save: NULL argument");
    if (ortc_onnx_save_file(model, path, &err))
        return ortc_err_publish(&err);
    return ORTC_STATUS_OK;
}

ortc_status ortc_quantizer_save(const ortc_quantizer *q, const char *path)
{
    if (!q || !q->quantized)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "quantize: save before quantize");
    return ortc_model_save(q->qmodel, path);
}

ortc_status ortc_quantizer_evaluate(ortc_quantizer *q, const ortc_tensor *inputs, size_t n)
{
    if (!q || !q->quantized)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT,
                            "quantize: evaluate before quantize");
    ortc_status st = check_inputs(q, inputs, n);
    ortc_any *ref = NULL, *got = NULL;
    if (!st)
        st = run_all(q->cal, inputs, n, q->cal_outputs, &ref);
    if (!st)
        st = run_all(q->eval, inputs, n, q->eval_outputs, &got);
    for (int i = 0; !st && i < q->n_layers; i++) {
        layer *l = &q->layers[i];
        const ortc_tensor *f = float_output(&ref[l->ref_output], l->output, &st);
        const ortc_tensor *g = f ? float_output(&got[l->eval_output], l->output, &st) : NULL;
        if (!g)
            break;
        int64_t cnt = ortc_tensor_numel(f);
        if (cnt != ortc_tensor_numel(g)) {
            st = ortc_err_set(NULL, ORTC_STATUS_RUNTIME_ERROR,
                              "quantize: value '%s' has %lld elements in float32 but %lld "
                              "quantized",
                              l->output, (long long)cnt, (long long)ortc_tensor_numel(g));
            break;
        }
        const float *a = f->data, *b = g->data;
        for (int64_t k = 0; k < cnt; k++) {
            double d = (double)b[k] - a[k];
            l->max_abs = fmax(l->max_abs, fabs(d));
            l->sum_sq_err += d * d;
            l->sum_sq_ref += (double)a[k] * a[k];
        }
        l->count += cnt;
    }
    release_all(ref, q->cal_outputs);
    release_all(got, q->eval_outputs);
    return st;
}

size_t ortc_quantizer_layer_count(const ortc_quantizer *q)
{
    return q ? (size_t)q->n_layers : 0;
}

ortc_status ortc_quantizer_layer(const ortc_quantizer *q, size_t i, ortc_quant_layer *out)
{
    if (!q || !out || i >= (size_t)q->n_layers)
        return ortc_err_set(NULL, ORTC_STATUS_INVALID_ARGUMENT, "quantize: no layer %zu", i);
    const layer *l = &q->layers[i];
    const observed *o = &q->obs[l->input];
    memset(out, 0, sizeof *out);
    out->node = l->name;
    out->op_type = l->op_type;
    out->input = o->name;
    out->input_scale = o->scale;
    out->input_zero_point = o->zero_point;
    out->input_min = o->lo;
    out->input_max = o->hi;
    out->channels = l->channels;
    out->output = l->output;
    out->count = l->count;
    out->max_abs = l->max_abs;
    out->rel_rms = l->sum_sq_ref > 0 ? sqrt(l->sum_sq_err / l->sum_sq_ref) : 0;
    return ORTC_STATUS_OK;
}
