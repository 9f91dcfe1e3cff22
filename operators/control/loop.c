/* loop.c — the Loop operator (ONNX 1, 11, 13, 16) on the runtime's subgraph
 * services (operator.h, "subgraphs"): the body is compiled once for the
 * carried values' types and shapes and run once per trip, reading the
 * iteration number, the condition and the carried values, writing the next
 * ones and the trip's scan slices. Carried tensors of a fixed shape live in
 * two buffers per value in scratch (read one, write the other, swap); a
 * carried value whose shape the body changes, a sequence or an optional is
 * of data-dependent size and handed from trip to trip as it is. Scan
 * outputs go straight into the output when the trip count is known at
 * compile time; otherwise (a condition may end the loop) they are gathered
 * in the run's pool and the output's size is known when the loop ends.
 * Trips are bounded by the session's max_loop_iterations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "operator.h"

typedef struct loop_state {
    struct ortc_subplan *body;
    int n_carried, n_scan;
    bool use_cond;       /* the node has a condition input: the body's ends the loop */
    int64_t trips;       /* known trip count (then scan outputs are static), else -1 */
    bool *dyn;           /* [n_carried]: carried value of data-dependent size */
    ortc_tensor *shapes; /* [1 + n_carried + n_scan]: the body's outputs as compiled */
    ortc_layout *layouts;
    ortc_tensor iter_shape, cond_shape; /* the body's iteration number and condition */
} loop_state;

/* Per-run buffers (scratch): tensors and pointers for the body's inputs
 * and outputs, the iteration number and conditions, then two buffers per
 * fixed-shape carried value and one slice per scan output of known shape. */
typedef struct loop_scratch {
    int64_t iter;
    uint8_t cond_in, cond_out;
    ortc_tensor *in_t, *out_t;   /* [2 + n_carried], [1 + n_carried + n_scan] */
    ortc_tensor **in_p, **out_p; /* pointers to them */
    ortc_tensor *carried[2];     /* [n_carried] each: the two buffers' tensors */
    char *slice;                 /* scan slices, by scan_off */
} loop_scratch;

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

static int64_t fixed_bytes(const ortc_tensor *t, const ortc_layout *l)
{
    return l->dynamic ? 0 : (int64_t)ortc_tensor_bytes(t);
}

/* Whether scan output k's slices go straight into the output (its shape
 * is known at compile time), rather than gathered in the pool. */
static bool direct(const loop_state *s, int k)
{
    return s->trips >= 0 && !s->layouts[1 + s->n_carried + k].dynamic;
}

/* The scratch layout; with base (NULL: only measure) also sets w's
 * pointers. Returns its size. */
static size_t layout(const ortc_opctx *c, const loop_state *s, char *base, loop_scratch **wp)
{
    int nc = s->n_carried, ns = s->n_scan;
    size_t off = align64(sizeof(loop_scratch));
    size_t in_t = off;
    off = align64(off + (size_t)(2 + nc) * sizeof(ortc_tensor));
    size_t out_t = off;
    off = align64(off + (size_t)(1 + nc + ns) * sizeof(ortc_tensor));
    size_t in_p = off;
    off = align64(off + (size_t)(2 + nc) * sizeof(ortc_tensor *));
    size_t out_p = off;
    off = align64(off + (size_t)(1 + nc + ns) * sizeof(ortc_tensor *));
    size_t car[2];
    for (int b = 0; b < 2; b++) {
        car[b] = off;
        off = align64(off + (size_t)nc * sizeof(ortc_tensor));
    }
    size_t bufs = off;
    for (int i = 0; i < nc; i++)
        if (!s->dyn[i])
            off += 2 * align64(ortc_tensor_bytes(c->in[2 + i]));
    size_t slice = off;
    for (int k = 0; k < ns; k++)
        if (!direct(s, k))
            off += align64((size_t)fixed_bytes(&s->shapes[1 + nc + k], &s->layouts[1 + nc + k]));
    if (!base)
        return off;
    loop_scratch *w = (loop_scratch *)(void *)base;
    w->in_t = (ortc_tensor *)(void *)(base + in_t);
    w->out_t = (ortc_tensor *)(void *)(base + out_t);
    w->in_p = (ortc_tensor **)(void *)(base + in_p);
    w->out_p = (ortc_tensor **)(void *)(base + out_p);
    char *p = base + bufs;
    for (int b = 0; b < 2; b++)
        w->carried[b] = (ortc_tensor *)(void *)(base + car[b]);
    for (int i = 0; i < nc; i++) {
        if (s->dyn[i])
            continue;
        size_t bytes = align64(ortc_tensor_bytes(c->in[2 + i]));
        for (int b = 0; b < 2; b++) {
            w->carried[b][i] = *c->in[2 + i];
            w->carried[b][i].data = p;
            p += bytes;
        }
    }
    w->slice = base + slice;
    *wp = w;
    return off;
}

/* A body input's shape: the one its graph declares for the iteration
 * number and condition (a scalar or [1]), rank 0 when it declares none. */
static ortc_tensor counter_shape(const ortc_graph *g, int i, ortc_dtype dtype)
{
    ortc_tensor t = {.dtype = dtype};
    const ortc_value *v = i < g->n_inputs ? g->inputs[i] : NULL;
    if (v && v->rank == 1) {
        t.rank = 1;
        t.dims[0] = 1;
    }
    return t;
}

static ortc_status check_scalar(ortc_opctx *c, int i, ortc_dtype dtype, const char *what)
{
    char sh[160];
    const ortc_tensor *t = c->in[i];
    if (!t)
        return ORTC_STATUS_OK;
    if (ortc_op_in_type(c, i) != ORTC_TYPE_TENSOR || t->dtype != dtype ||
        (t->rank >= 0 && ortc_tensor_numel(t) != 1 && !ortc_op_in_dynamic(c, i)))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "%s must be one %s; got %s %s", what,
                             ortc_dtype_name(dtype), ortc_dtype_name(t->dtype),
                             ortc_shape_str(sh, sizeof sh, t->rank, t->dims));
    return ORTC_STATUS_OK;
}

/* Compiles the body for the carried values as they are typed now. */
static ortc_status compile_body(ortc_opctx *c, loop_state *s, const ortc_graph *g)
{
    int nc = s->n_carried;
    ortc_tensor in[2 + 64];
    ortc_layout lay[2 + 64];
    ortc_tensor *inp = nc + 2 <= 66 ? in : calloc((size_t)nc + 2, sizeof *inp);
    ortc_layout *layp = nc + 2 <= 66 ? lay : calloc((size_t)nc + 2, sizeof *layp);
    if (!inp || !layp) {
        if (inp != in)
            free(inp);
        if (layp != lay)
            free(layp);
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    inp[0] = s->iter_shape;
    inp[1] = s->cond_shape;
    layp[0] = layp[1] = (ortc_layout){.plain = true};
    for (int i = 0; i < nc; i++) {
        const ortc_tensor *x = c->in[2 + i];
        inp[2 + i] = *x;
        inp[2 + i].data = NULL;
        layp[2 + i] = (ortc_layout){.plain = true,
                                    .bytes = ortc_tensor_bytes(x),
                                    .type = ortc_op_in_type(c, 2 + i),
                                    .dynamic = s->dyn[i]};
        if (s->dyn[i] && layp[2 + i].type == ORTC_TYPE_TENSOR) {
            /* its shape changes from trip to trip: the body sees it unknown */
            for (int d = 0; d < x->rank; d++)
                inp[2 + i].dims[d] = -1;
            layp[2 + i].bytes = 0;
        }
    }
    c->subgraphs->free(s->body);
    s->body = NULL;
    ortc_status st = c->subgraphs->compile(c, g, "body", inp, layp, &s->body);
    if (inp != in)
        free(inp);
    if (layp != lay)
        free(layp);
    return st;
}

/* Optional and plain types carry the same value when it is present. */
static ortc_type plain_type(ortc_type t)
{
    return t == ORTC_TYPE_OPTIONAL_TENSOR     ? ORTC_TYPE_TENSOR
           : t == ORTC_TYPE_OPTIONAL_SEQUENCE ? ORTC_TYPE_SEQUENCE
                                              : t;
}

static ortc_status loop_compile(ortc_opctx *c)
{
    char sh[160], s2[160];
    const ortc_attr *a = ortc_node_attr(c->node, "body");
    if (!a || a->type != ORTC_ATTR_GRAPH || !a->g)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'body' must be a graph");
    const ortc_graph *g = a->g;
    if (c->n_in < 2)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "has %d inputs; Loop takes M, cond and the carried values", c->n_in);
    int nc = c->n_in - 2, ns = c->n_out - nc;
    if (ns < 0 || g->n_inputs != 2 + nc || g->n_outputs != 1 + nc + ns)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "%d carried values and %d outputs need a body of %d inputs and %d "
                             "outputs; it has %d and %d",
                             nc, c->n_out, 2 + nc, 1 + c->n_out, g->n_inputs, g->n_outputs);
    ORTC_TRY(check_scalar(c, 0, ORTC_DTYPE_INT64, "M (the trip count)"));
    ORTC_TRY(check_scalar(c, 1, ORTC_DTYPE_BOOL, "cond"));
    for (int i = 0; i < nc; i++)
        if (!c->in[2 + i])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "carried value %d is omitted", i);
    loop_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    c->state = s; /* release frees what is compiled, also after a failure */
    s->n_carried = nc;
    s->n_scan = ns;
    s->use_cond = c->in[1] != NULL;
    s->dyn = calloc((size_t)nc + 1, sizeof *s->dyn);
    s->shapes = calloc((size_t)(1 + nc + ns), sizeof *s->shapes);
    s->layouts = calloc((size_t)(1 + nc + ns), sizeof *s->layouts);
    if (!s->dyn || !s->shapes || !s->layouts)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    s->iter_shape = counter_shape(g, 0, ORTC_DTYPE_INT64);
    s->cond_shape = counter_shape(g, 1, ORTC_DTYPE_BOOL);
    for (int i = 0; i < nc; i++)
        s->dyn[i] = ortc_op_in_dynamic(c, 2 + i) || ortc_op_in_type(c, 2 + i) != ORTC_TYPE_TENSOR;

    /* compile; a carried tensor whose shape the body changes (or makes only
     * at run time) is carried as a value of data-dependent size, and the
     * body compiled again, until nothing changes */
    for (int round = 0;; round++) {
        ORTC_TRY(compile_body(c, s, g));
        bool again = false;
        for (int k = 0; k < 1 + nc + ns; k++) {
            s->shapes[k] = c->subgraphs->output(s->body, k);
            s->layouts[k] = c->subgraphs->output_layout(s->body, k);
        }
        for (int i = 0; i < nc; i++) {
            const ortc_tensor *x = c->in[2 + i], *y = &s->shapes[1 + i];
            const ortc_layout *ly = &s->layouts[1 + i];
            ortc_type tx = plain_type(ortc_op_in_type(c, 2 + i)), ty = plain_type(ly->type);
            if (tx != ty || (x->dtype != y->dtype && y->dtype != ORTC_DTYPE_UNDEFINED &&
                             x->dtype != ORTC_DTYPE_UNDEFINED))
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "carried value %d goes in as a %s of %s and comes out of the "
                                     "body as a %s of %s",
                                     i, ortc_type_name(ortc_op_in_type(c, 2 + i)),
                                     ortc_dtype_name(x->dtype), ortc_type_name(ly->type),
                                     ortc_dtype_name(y->dtype));
            if (s->dyn[i])
                continue;
            bool same = !ly->dynamic && x->rank == y->rank;
            for (int d = 0; same && d < x->rank; d++)
                same = x->dims[d] == y->dims[d];
            if (!same) {
                s->dyn[i] = true;
                again = true;
            }
        }
        if (!again)
            break;
        if (round > nc)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: carried value types do not settle");
    }
    /* the condition: one bool (of a shape only a run may tell: checked then) */
    const ortc_tensor *cond_out = &s->shapes[0];
    if (cond_out->dtype != ORTC_DTYPE_BOOL || s->layouts[0].type != ORTC_TYPE_TENSOR ||
        (!s->layouts[0].dynamic && ortc_tensor_numel(cond_out) != 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "the body's output 0 (the condition) is %s %s; it must be one bool",
                             ortc_dtype_name(cond_out->dtype),
                             ortc_shape_str(sh, sizeof sh, cond_out->rank, cond_out->dims));

    /* a trip count known now (no condition, or one that stays true) gives
     * scan outputs a static shape */
    s->trips = -1;
    const ortc_tensor *m = c->in[0], *cond = c->in[1];
    if (m && m->data) {
        bool stays_true = !s->use_cond;
        if (s->use_cond && cond->data && *(const uint8_t *)cond->data) {
            const void *k = c->subgraphs->output_constant(s->body, 0);
            stays_true = g->outputs[0] == g->inputs[1] || (k && *(const uint8_t *)k);
        }
        int64_t mv = ortc_tensor_get_int(m, 0);
        if (stays_true)
            s->trips = mv < 0 ? 0 : mv;
        if (s->use_cond && cond->data && !*(const uint8_t *)cond->data)
            s->trips = 0;
    }

    for (int i = 0; i < nc; i++) {
        const ortc_tensor *y = &s->shapes[1 + i];
        ortc_type ty = s->layouts[1 + i].type;
        if (ty != ORTC_TYPE_TENSOR)
            ortc_op_set_output_type(c, i, ty, y->dtype);
        else if (s->dyn[i])
            ortc_op_set_output_dynamic(c, i, y->dtype, y->rank, y->dims);
        else
            ortc_op_set_output(c, i, y->dtype, y->rank, y->dims);
    }
    for (int k = 0; k < ns; k++) {
        const ortc_tensor *y = &s->shapes[1 + nc + k];
        const ortc_layout *ly = &s->layouts[1 + nc + k];
        if (ly->type != ORTC_TYPE_TENSOR)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "scan output %d is a %s; scan outputs are tensors", k,
                                 ortc_type_name(ly->type));
        if (y->rank >= ORTC_MAX_RANK)
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                 "scan output %d stacks slices of %s: rank above %d", k,
                                 ortc_shape_str(s2, sizeof s2, y->rank, y->dims), ORTC_MAX_RANK);
        int64_t dims[ORTC_MAX_RANK] = {s->trips};
        if (y->rank > 0)
            memcpy(dims + 1, y->dims, (size_t)y->rank * sizeof *dims);
        int rank = y->rank < 0 ? -1 : y->rank + 1;
        if (direct(s, k))
            ortc_op_set_output(c, nc + k, y->dtype, rank, dims);
        else
            ortc_op_set_output_dynamic(c, nc + k, y->dtype, rank, dims);
    }
    return ORTC_STATUS_OK;
}

static ortc_status loop_prepare(ortc_opctx *c)
{
    c->scratch_bytes = layout(c, c->state, NULL, NULL);
    return ORTC_STATUS_OK;
}

/* A growing buffer of scan slices in the pool. */
typedef struct gather {
    char *data;
    size_t used, cap;
    ortc_tensor first; /* the first slice's shape: every one must have it */
} gather;

static ortc_status gather_add(ortc_opctx *c, gather *g, int k, const ortc_tensor *slice)
{
    char a[160], b[160];
    size_t bytes = ortc_tensor_bytes(slice);
    if (g->used == 0 && !g->data) {
        g->first = *slice;
    } else {
        bool same = slice->rank == g->first.rank;
        for (int d = 0; same && d < slice->rank; d++)
            same = slice->dims[d] == g->first.dims[d];
        if (!same)
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "scan output %d: a trip gives %s after %s; every trip's slice "
                                 "must have one shape",
                                 k, ortc_shape_str(a, sizeof a, slice->rank, slice->dims),
                                 ortc_shape_str(b, sizeof b, g->first.rank, g->first.dims));
    }
    if (g->used + bytes > g->cap || !g->data) {
        size_t cap = g->cap ? 2 * g->cap : 4 * (bytes ? bytes : 64);
        while (cap < g->used + bytes)
            cap *= 2;
        char *nd = ortc_op_alloc(c, cap);
        if (!nd)
            return c->err->status;
        if (g->used)
            memcpy(nd, g->data, g->used);
        g->data = nd;
        g->cap = cap;
    }
    if (bytes)
        memcpy(g->data + g->used, slice->data, bytes);
    g->used += bytes;
    return ORTC_STATUS_OK;
}

static ortc_status loop_run(ortc_opctx *c)
{
    const loop_state *s = c->state;
    int nc = s->n_carried, ns = s->n_scan;
    loop_scratch *w;
    layout(c, s, c->scratch, &w);
    const ortc_tensor *m = c->in[0], *cond = c->in[1];
    if ((m && ortc_tensor_numel(m) != 1) || (cond && ortc_tensor_numel(cond) != 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT, "M and cond must be one value each");
    int64_t max_trips = m ? ortc_tensor_get_int(m, 0) : INT64_MAX;
    w->cond_in = cond ? *(const uint8_t *)cond->data != 0 : 1;
    int64_t limit = ortc_op_max_loop_iterations(c);
    gather *gat = NULL;
    if (ns && !(gat = ortc_op_alloc(c, (size_t)ns * sizeof *gat)))
        return c->err->status;
    for (int k = 0; k < ns; k++)
        gat[k] = (gather){0};

    /* trip 0 reads the initial values: fixed-shape ones copied into buffer 0 */
    ortc_tensor *cur = w->carried[0], *next = w->carried[1];
    for (int i = 0; i < nc; i++) {
        if (s->dyn[i])
            cur[i] = *c->in[2 + i];
        else if (ortc_tensor_bytes(c->in[2 + i]))
            memcpy(cur[i].data, c->in[2 + i]->data, ortc_tensor_bytes(c->in[2 + i]));
    }
    w->in_t[0] = s->iter_shape;
    w->in_t[0].data = &w->iter;
    w->in_t[1] = s->cond_shape;
    w->in_t[1].data = &w->cond_in;
    w->out_t[0] = s->cond_shape;
    w->out_t[0].data = &w->cond_out;
    for (int j = 0; j < 2 + nc; j++)
        w->in_p[j] = &w->in_t[j];
    for (int j = 0; j < 1 + nc + ns; j++)
        w->out_p[j] = &w->out_t[j];

    int64_t t = 0;
    for (; t < max_trips && w->cond_in; t++) {
        if (t >= limit)
            return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                                 "more than %lld iterations (session option max_loop_iterations)",
                                 (long long)limit);
        w->iter = t;
        for (int i = 0; i < nc; i++) {
            w->in_t[2 + i] = cur[i];
            ortc_tensor *o = &w->out_t[1 + i];
            *o = s->dyn[i] ? s->shapes[1 + i] : next[i];
            /* the body makes a value of data-dependent size itself; one it
             * computes into a buffer of a size it knows gets one */
            if (s->dyn[i] && !s->layouts[1 + i].dynamic &&
                !(o->data = ortc_op_alloc(c, ortc_tensor_bytes(o))))
                return c->err->status;
        }
        char *slice = w->slice;
        for (int k = 0; k < ns; k++) {
            ortc_tensor *o = &w->out_t[1 + nc + k];
            *o = s->shapes[1 + nc + k];
            size_t bytes = (size_t)fixed_bytes(o, &s->layouts[1 + nc + k]);
            if (direct(s, k)) { /* straight into the output (a spare when omitted) */
                o->data = c->out[nc + k] ? (char *)c->out[nc + k]->data + (size_t)t * bytes : NULL;
                if (!c->out[nc + k] && !(o->data = ortc_op_alloc(c, bytes)))
                    return c->err->status;
            } else if (!s->layouts[1 + nc + k].dynamic) {
                o->data = slice;
                slice += align64(bytes);
            }
        }
        if (s->layouts[0].dynamic) /* the body makes it */
            w->out_t[0] = s->shapes[0];
        ORTC_TRY(c->subgraphs->run(c, s->body, w->in_p, w->out_p));
        ortc_status st = ORTC_STATUS_OK;
        if (s->layouts[0].dynamic) {
            const ortc_tensor *k = &w->out_t[0];
            if (k->dtype != ORTC_DTYPE_BOOL || ortc_tensor_numel(k) != 1)
                return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                     "trip %lld: the body's condition has %lld elements; it must "
                                     "be one bool",
                                     (long long)t, (long long)ortc_tensor_numel(k));
            w->cond_out = *(const uint8_t *)k->data;
        }
        if (s->use_cond)
            w->cond_in = w->cond_out;
        for (int i = 0; i < nc; i++)
            if (s->dyn[i])
                cur[i] = w->out_t[1 + i];
        /* fixed-shape values: the buffer written is next trip's input */
        for (int i = 0; i < nc; i++)
            if (!s->dyn[i]) {
                ortc_tensor keep = cur[i];
                cur[i] = next[i];
                next[i] = keep;
            }
        for (int k = 0; k < ns; k++)
            if (!direct(s, k) && (st = gather_add(c, &gat[k], k, &w->out_t[1 + nc + k])))
                return st;
    }
    if (s->trips >= 0 && t != s->trips)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: %lld trips, compiled for %lld", (long long)t,
                             (long long)s->trips);

    for (int i = 0; i < nc; i++) {
        ortc_status st = ORTC_STATUS_OK;
        ortc_type ty = c->out_layout[i]->type;
        if (!s->dyn[i]) {
            size_t bytes = ortc_tensor_bytes(&cur[i]);
            if (bytes && c->out[i])
                memcpy(c->out[i]->data, cur[i].data, bytes);
            continue;
        }
        if (!c->out[i])
            continue;
        bool none = cur[i].rank < 0 && (cur[i].data == NULL || ty != ORTC_TYPE_SEQUENCE);
        if (ty == ORTC_TYPE_SEQUENCE || ty == ORTC_TYPE_OPTIONAL_SEQUENCE) {
            if (!cur[i].data && ty == ORTC_TYPE_SEQUENCE)
                return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                     "carried value %d is an empty optional after %lld trips; "
                                     "output %d is a sequence",
                                     i, (long long)t, i);
            *c->out[i] = cur[i];
        } else if (ty == ORTC_TYPE_OPTIONAL_TENSOR && none) {
            ortc_op_set_output_none(c, i);
        } else if (none) {
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "carried value %d is an empty optional after %lld trips; "
                                 "output %d is a tensor",
                                 i, (long long)t, i);
        } else {
            st = ortc_op_output_ref(c, i, &cur[i]);
        }
        if (st)
            return st;
    }
    for (int k = 0; k < ns; k++) {
        if (direct(s, k) || !c->out[nc + k])
            continue;
        /* the slices' shape: the first trip's, or (no trip) as compiled with
         * unknown dims 0 */
        ortc_tensor first = gat[k].data ? gat[k].first : s->shapes[1 + nc + k];
        ortc_tensor all = {.dtype = first.dtype, .rank = first.rank < 0 ? 1 : first.rank + 1};
        all.dims[0] = t;
        for (int d = 0; d < first.rank; d++)
            all.dims[1 + d] = first.dims[d] < 0 ? 0 : first.dims[d];
        all.data = gat[k].data;
        ortc_status st;
        if (gat[k].data)
            st = ortc_op_output_ref(c, nc + k, &all); /* the pool's: handed over */
        else
            st = ortc_op_output(c, nc + k, all.rank, all.dims) ? ORTC_STATUS_OK : c->err->status;
        if (st)
            return st;
    }
    return ORTC_STATUS_OK;
}

static void loop_release(ortc_opctx *c)
{
    loop_state *s = c->state;
    if (!s)
        return;
    c->subgraphs->free(s->body);
    free(s->dyn);
    free(s->shapes);
    free(s->layouts);
    free(s);
    c->state = NULL;
}

const ortc_operator ortc_ops_loop[] = {
    ORTC_OP("Loop", 1, 16, .versions = {1, 11, 13, 16}, .flags = ORTC_OP_DYNAMIC,
            .compile = loop_compile, .prepare = loop_prepare, .run = loop_run,
            .release = loop_release),
};
ORTC_OP_TABLE_END(loop);
