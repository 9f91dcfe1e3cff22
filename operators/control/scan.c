/* scan.c — the Scan operator (ONNX 8, 9, 11, 16) on the runtime's subgraph
 * services (operator.h, "subgraphs"): the body is compiled once for the
 * states' shapes and one slice of each scan input, then run once per
 * position of the scan axis, reading the states and the slices and writing
 * the next states and one slice of each scan output. States ping-pong
 * between two scratch buffers. Scan-8 has a batch axis 0 (the body runs
 * per batch item), the scan axis 1, `directions` and optional per-item
 * sequence_lens (outputs zero-padded past them); Scan-9 on has no batch,
 * per-input and per-output axes (negative from 11) and directions. Every
 * shape is known at compile time: no values of data-dependent size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

/* A scanned input's or output's axis (in its dims) and direction. */
typedef struct scan_axis {
    int axis;
    bool rev;
} scan_axis;

typedef struct scan_state {
    struct ortc_subplan *body;
    int n_state, n_in, n_out; /* N states, M scan inputs, K scan outputs */
    bool batched;             /* Scan-8: batch axis 0, scan axis 1 */
    int first_in;             /* node input of state 0 (Scan-8: 1, after sequence_lens) */
    int64_t batch, len;       /* batch items (1 unless batched), scan length */
    scan_axis *in, *out;      /* [M], [K] (one allocation): scan inputs', outputs' axes */
    ortc_tensor *body_in;     /* [N + M]: the body's inputs (shapes) */
    ortc_tensor *body_out;    /* [N + K] (after body_in, one allocation): its outputs */
} scan_state;

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* Reads int list attribute `name` of n entries into out (default def);
 * error when it has another length. */
static ortc_status int_list(ortc_opctx *c, const char *name, int n, int64_t def, int64_t *out)
{
    size_t have;
    const int64_t *v = ortc_node_attr_ints(c->node, name, &have);
    if (ortc_node_attr(c->node, name) && (int)have != n)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute '%s' has %zu entries; %d expected", name, have, n);
    for (int i = 0; i < n; i++)
        out[i] = v && have ? v[i] : def;
    return ORTC_STATUS_OK;
}

static ortc_status scan_setup(ortc_opctx *c, scan_state *s, const ortc_graph *g)
{
    char sh[160];
    ortc_status st;
    int m = s->n_in, n = s->n_state, k = s->n_out;
    int64_t *tmp = calloc((size_t)(m + k) + 1, sizeof *tmp);
    if (!tmp)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    /* directions and axes */
    if (s->batched) {
        st = int_list(c, "directions", m, 0, tmp);
        for (int j = 0; !st && j < m; j++) {
            s->in[j].rev = tmp[j] != 0;
            s->in[j].axis = 1;
        }
        for (int j = 0; !st && j < k; j++)
            s->out[j].axis = 1;
    } else {
        int ver = ortc_op_version(c);
        st = int_list(c, "scan_input_directions", m, 0, tmp);
        for (int j = 0; !st && j < m; j++)
            s->in[j].rev = tmp[j] != 0;
        if (!st)
            st = int_list(c, "scan_output_directions", k, 0, tmp);
        for (int j = 0; !st && j < k; j++)
            s->out[j].rev = tmp[j] != 0;
        if (!st)
            st = int_list(c, "scan_input_axes", m, 0, tmp);
        for (int j = 0; !st && j < m; j++) {
            const ortc_tensor *x = c->in[s->first_in + n + j];
            if (ver < 11 && tmp[j] < 0)
                st = ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                   "scan_input_axes: negative axes from Scan-11 on");
            else
                st = ortc_op_axis(c, tmp[j], x->rank, &s->in[j].axis);
        }
        if (!st)
            st = int_list(c, "scan_output_axes", k, 0, tmp);
        for (int j = 0; !st && j < k; j++) {
            /* against the output's rank: the slice's + 1, known after compile */
            s->out[j].axis = (int)tmp[j];
            if (ver < 11 && tmp[j] < 0)
                st = ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                   "scan_output_axes: negative axes from Scan-11 on");
        }
    }
    free(tmp);
    if (st)
        return st;
    /* the body's inputs: states (without the batch axis), one slice each */
    s->len = -1;
    s->batch = 1;
    for (int j = 0; j < n + m; j++) {
        const ortc_tensor *x = c->in[s->first_in + j];
        if (!x)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is omitted",
                                 s->first_in + j);
        if (ortc_op_in_type(c, s->first_in + j) != ORTC_TYPE_TENSOR)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d must be a tensor",
                                 s->first_in + j);
        int drop = j < n ? (s->batched ? 0 : -1) : s->in[j - n].axis;
        if (s->batched && x->rank < (j < n ? 1 : 2))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d %s lacks the batch%s axis",
                                 s->first_in + j, ortc_shape_str(sh, sizeof sh, x->rank, x->dims),
                                 j < n ? "" : " and scan");
        ortc_tensor *b = &s->body_in[j];
        *b = (ortc_tensor){.dtype = x->dtype};
        for (int d = 0; d < x->rank; d++)
            if (d != drop && !(s->batched && d == 0))
                b->dims[b->rank++] = x->dims[d];
        if (s->batched) {
            if (j == 0)
                s->batch = x->dims[0];
            if (x->dims[0] != s->batch)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "input %d has batch %lld; input %d has %lld", s->first_in + j,
                                     (long long)x->dims[0], s->first_in, (long long)s->batch);
        }
        if (j >= n) {
            int64_t l = x->dims[drop];
            if (s->len >= 0 && l != s->len)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "scan input %d has %lld positions along its axis; the "
                                     "others %lld",
                                     j - n, (long long)l, (long long)s->len);
            s->len = l;
        }
    }
    if (m == 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "num_scan_inputs must be at least 1");
    (void)g;
    return ORTC_STATUS_OK;
}

static ortc_status scan_compile(ortc_opctx *c)
{
    char sh[160], s2[160];
    const ortc_attr *a = ortc_node_attr(c->node, "body");
    if (!a || a->type != ORTC_ATTR_GRAPH || !a->g)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'body' must be a graph");
    const ortc_graph *g = a->g;
    bool batched = ortc_op_version(c) < 9;
    int first = batched ? 1 : 0;
    int64_t m = ortc_node_attr_int(c->node, "num_scan_inputs", -1);
    int n_vals = c->n_in - first;
    if (m < 1 || m > n_vals)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "num_scan_inputs is %lld; the node has %d states and scan inputs",
                             (long long)m, n_vals);
    int n = n_vals - (int)m, k = c->n_out - n;
    if (k < 0 || g->n_inputs != n + (int)m || g->n_outputs != n + k)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "%d states, %lld scan inputs and %d outputs need a body of %lld "
                             "inputs and %d outputs; it has %d and %d",
                             n, (long long)m, c->n_out, (long long)(n + m), c->n_out, g->n_inputs,
                             g->n_outputs);
    scan_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    c->state = s;
    s->n_state = n;
    s->n_in = (int)m;
    s->n_out = k;
    s->batched = batched;
    s->first_in = first;
    s->in = calloc((size_t)(m + k) + 1, sizeof *s->in);
    s->body_in = calloc((size_t)(2 * n + m + k) + 1, sizeof *s->body_in);
    if (!s->in || !s->body_in)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    s->out = s->in + m;
    s->body_out = s->body_in + n + m;
    ortc_status st;
    if (batched && c->in[0] &&
        ((st = ortc_op_check_dtype(c, 0, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED))))
        return st;
    ORTC_TRY(scan_setup(c, s, g));
    if (batched && c->in[0] && (c->in[0]->rank != 1 || c->in[0]->dims[0] != s->batch))
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "sequence_lens has shape %s; the batch is %lld",
            ortc_shape_str(sh, sizeof sh, c->in[0]->rank, c->in[0]->dims), (long long)s->batch);
    ORTC_TRY(c->subgraphs->compile(c, g, "body", s->body_in, NULL, &s->body));
    for (int j = 0; j < n + k; j++) {
        s->body_out[j] = c->subgraphs->output(s->body, j);
        ortc_layout l = c->subgraphs->output_layout(s->body, j);
        if (l.dynamic || l.type != ORTC_TYPE_TENSOR)
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                                 "body output %d is of data-dependent size; Scan's outputs are "
                                 "tensors of one shape each iteration",
                                 j);
    }
    for (int j = 0; j < n; j++) {
        const ortc_tensor *x = &s->body_in[j], *y = &s->body_out[j];
        bool same = x->dtype == y->dtype && x->rank == y->rank;
        for (int d = 0; same && d < x->rank; d++)
            same = x->dims[d] == y->dims[d];
        if (!same)
            return ortc_op_error(
                c, ORTC_STATUS_INVALID_MODEL,
                "state %d goes into the body as %s %s and comes out as %s %s", j,
                ortc_dtype_name(x->dtype), ortc_shape_str(sh, sizeof sh, x->rank, x->dims),
                ortc_dtype_name(y->dtype), ortc_shape_str(s2, sizeof s2, y->rank, y->dims));
        ortc_op_set_output(c, j, x->dtype, c->in[first + j]->rank, c->in[first + j]->dims);
    }
    for (int j = 0; j < k; j++) {
        const ortc_tensor *y = &s->body_out[n + j];
        int rank = y->rank + 1 + (batched ? 1 : 0), axis = s->out[j].axis;
        if (rank > ORTC_MAX_RANK)
            return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "scan output %d would have rank %d", j,
                                 rank);
        if (!batched && (st = ortc_op_axis(c, axis, y->rank + 1, &s->out[j].axis)))
            return st;
        /* the slice's dims with the scan length inserted at the axis (after
         * the batch for Scan-8) */
        int64_t dims[ORTC_MAX_RANK];
        int r = 0, at = batched ? 0 : s->out[j].axis;
        if (batched)
            dims[r++] = s->batch;
        for (int d = 0; d <= y->rank; d++) {
            if (d == at)
                dims[r++] = s->len;
            if (d < y->rank)
                dims[r++] = y->dims[d];
        }
        ortc_op_set_output(c, n + j, y->dtype, rank, dims);
    }
    return ORTC_STATUS_OK;
}

/* Scratch: tensors and pointers for the body's inputs and outputs, two
 * buffers per state, a slice per scan input and per scan output. */
typedef struct scan_scratch {
    ortc_tensor *in_t, *out_t;
    ortc_tensor **in_p, **out_p;
    char *state[2];
    char *in_slice, *out_slice;
} scan_scratch;

static size_t scan_layout(const scan_state *s, char *base, scan_scratch *w)
{
    int n = s->n_state, m = s->n_in, k = s->n_out;
    size_t off = 0, in_t, out_t, in_p, out_p, st[2], is, os;
    in_t = off;
    off = align64(off + (size_t)(n + m) * sizeof(ortc_tensor));
    out_t = off;
    off = align64(off + (size_t)(n + k) * sizeof(ortc_tensor));
    in_p = off;
    off = align64(off + (size_t)(n + m) * sizeof(ortc_tensor *));
    out_p = off;
    off = align64(off + (size_t)(n + k) * sizeof(ortc_tensor *));
    for (int b = 0; b < 2; b++) {
        st[b] = off;
        for (int j = 0; j < n; j++)
            off += align64(ortc_tensor_bytes(&s->body_in[j]));
    }
    is = off;
    for (int j = 0; j < m; j++)
        off += align64(ortc_tensor_bytes(&s->body_in[n + j]));
    os = off;
    for (int j = 0; j < k; j++)
        off += align64(ortc_tensor_bytes(&s->body_out[n + j]));
    if (base) {
        w->in_t = (ortc_tensor *)(void *)(base + in_t);
        w->out_t = (ortc_tensor *)(void *)(base + out_t);
        w->in_p = (ortc_tensor **)(void *)(base + in_p);
        w->out_p = (ortc_tensor **)(void *)(base + out_p);
        w->state[0] = base + st[0];
        w->state[1] = base + st[1];
        w->in_slice = base + is;
        w->out_slice = base + os;
    }
    return off;
}

static ortc_status scan_prepare(ortc_opctx *c)
{
    c->scratch_bytes = scan_layout(c->state, NULL, NULL);
    return ORTC_STATUS_OK;
}

/* x viewed as [outer, len, inner] (elements of elem bytes): the slice at
 * position t of outer rows o0..o0+no into dst (or a pointer to it, when
 * it is one contiguous run). */
static const char *gather(const char *x, int64_t len, int64_t inner, size_t elem, int64_t o0,
                          int64_t no, int64_t t, char *dst)
{
    size_t row = (size_t)inner * elem;
    if (no == 1)
        return x + ((size_t)(o0 * len + t)) * row;
    for (int64_t o = 0; o < no; o++)
        memcpy(dst + (size_t)o * row, x + ((size_t)((o0 + o) * len + t)) * row, row);
    return dst;
}

static void scatter(char *y, int64_t len, int64_t inner, size_t elem, int64_t o0, int64_t no,
                    int64_t t, const char *src)
{
    size_t row = (size_t)inner * elem;
    for (int64_t o = 0; o < no; o++)
        memcpy(y + ((size_t)((o0 + o) * len + t)) * row, src + (size_t)o * row, row);
}

static ortc_status scan_run(ortc_opctx *c)
{
    const scan_state *s = c->state;
    int n = s->n_state, m = s->n_in, k = s->n_out;
    scan_scratch w;
    scan_layout(s, c->scratch, &w);
    const ortc_tensor *lens = s->batched && c->in[0] ? c->in[0] : NULL;
    for (int j = 0; j < n + m; j++)
        w.in_p[j] = &w.in_t[j];
    for (int j = 0; j < n + k; j++)
        w.out_p[j] = &w.out_t[j];
    for (int64_t b = 0; b < s->batch; b++) {
        int64_t len = lens ? ((const int64_t *)lens->data)[b] : s->len;
        if (len < 0 || len > s->len)
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "sequence_lens[%lld] is %lld; the scan axis has %lld",
                                 (long long)b, (long long)len, (long long)s->len);
        /* states: batch item b's into buffer 0 */
        int cur = 0;
        size_t off = 0;
        for (int j = 0; j < n; j++) {
            size_t bytes = ortc_tensor_bytes(&s->body_in[j]);
            memcpy(w.state[0] + off, (const char *)c->in[s->first_in + j]->data + b * bytes, bytes);
            off += align64(bytes);
        }
        for (int64_t t = 0; t < len; t++) {
            size_t so[2] = {0, 0};
            for (int j = 0; j < n; j++) {
                w.in_t[j] = s->body_in[j];
                w.in_t[j].data = w.state[cur] + so[0];
                w.out_t[j] = s->body_out[j];
                w.out_t[j].data = w.state[1 - cur] + so[0];
                so[0] += align64(ortc_tensor_bytes(&s->body_in[j]));
            }
            char *slice = w.in_slice;
            for (int j = 0; j < m; j++) {
                const ortc_tensor *x = c->in[s->first_in + n + j];
                int a = s->in[j].axis;
                int64_t tt = s->in[j].rev ? len - 1 - t : t;
                int64_t outer = s->batched ? 1 : ortc_plain_span(x->dims, 0, a);
                int64_t o0 = s->batched ? b : 0;
                int64_t inner = ortc_plain_span(x->dims, a + 1, x->rank);
                w.in_t[n + j] = s->body_in[n + j];
                w.in_t[n + j].data = (void *)gather(
                    x->data, x->dims[a], inner, ortc_dtype_size(x->dtype), o0, outer, tt, slice);
                slice += align64(ortc_tensor_bytes(&s->body_in[n + j]));
            }
            slice = w.out_slice;
            for (int j = 0; j < k; j++) {
                w.out_t[n + j] = s->body_out[n + j];
                w.out_t[n + j].data = slice;
                slice += align64(ortc_tensor_bytes(&s->body_out[n + j]));
            }
            ORTC_TRY(c->subgraphs->run(c, s->body, w.in_p, w.out_p));
            cur = 1 - cur;
            for (int j = 0; j < k; j++) {
                ortc_tensor *y = c->out[n + j];
                if (!y)
                    continue;
                int a = s->out[j].axis;
                int64_t tt = s->out[j].rev ? len - 1 - t : t;
                int64_t outer = s->batched ? 1 : ortc_plain_span(y->dims, 0, a);
                int64_t o0 = s->batched ? b : 0;
                int64_t inner = ortc_plain_span(y->dims, a + 1, y->rank);
                scatter(y->data, y->dims[a], inner, ortc_dtype_size(y->dtype), o0, outer, tt,
                        w.out_t[n + j].data);
            }
        }
        /* final states, and zeros past a sequence's end (Scan-8) */
        off = 0;
        for (int j = 0; j < n; j++) {
            size_t bytes = ortc_tensor_bytes(&s->body_in[j]);
            if (c->out[j])
                memcpy((char *)c->out[j]->data + b * bytes, w.state[cur] + off, bytes);
            off += align64(bytes);
        }
        for (int j = 0; j < k && len < s->len; j++) {
            ortc_tensor *y = c->out[n + j];
            if (!y)
                continue;
            size_t row = ortc_tensor_bytes(&s->body_out[n + j]);
            memset((char *)y->data + ((size_t)(b * s->len + len)) * row, 0,
                   (size_t)(s->len - len) * row);
        }
    }
    return ORTC_STATUS_OK;
}

static void scan_release(ortc_opctx *c)
{
    scan_state *s = c->state;
    if (!s)
        return;
    c->subgraphs->free(s->body);
    free(s->in);
    free(s->body_in);
    free(s);
    c->state = NULL;
}

const ortc_operator ortc_ops_scan[] = {
    ORTC_OP("Scan", 8, 8, .compile = scan_compile, .prepare = scan_prepare, .run = scan_run,
            .release = scan_release),
    ORTC_OP("Scan", 9, 16, .versions = {9, 11, 16}, .compile = scan_compile,
            .prepare = scan_prepare, .run = scan_run, .release = scan_release),
};
ORTC_OP_TABLE_END(scan);
