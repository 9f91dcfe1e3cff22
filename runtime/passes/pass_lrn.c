/* pass_lrn.c — recognises PyTorch's export of nn.LocalResponseNorm /
 * F.local_response_norm on a 4-D input, after folding:
 *
 *   S = Mul(x, x)                                   (N,C,H,W)
 *   V = views of S (Unsqueeze/Reshape/...)          (N,1,C,H,W)
 *   Pd = Pad(V) [one or more, constant 0]           pads C by size//2 before, (size-1)//2 after
 *   Q = AveragePool(Pd) kernel (size,1,1), stride 1 (N,1,C,H,W)
 *   R = views of Q (Squeeze/Reshape/...)            (N,C,H,W)
 *   y = Div(x, Pow(Add(Mul(R, alpha), k), beta))
 *
 * i.e. y[c] = x[c] / (k + alpha/size * sum_{j=c-size//2}^{c+(size-1)//2} x[j]^2)^beta,
 * and replaces it by LRN(size, alpha, beta, bias=k) when every detail
 * matches. ONNX's LRN window is [c-floor((size-1)/2), c+ceil((size-1)/2)]:
 * the same for odd sizes only, so an even size is left decomposed. The views
 * only reinterpret the row-major buffer, so their output shapes are what is
 * checked. Needs static shapes (the If on the input rank folded away).
 */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

#define MAX_MATCH 64

typedef struct match {
    ortc_node *nodes[MAX_MATCH];
    int n;
} match;

static bool take(match *m, ortc_node *n)
{
    if (!n || m->n >= MAX_MATCH)
        return false;
    m->nodes[m->n++] = n;
    return true;
}

static bool shape_is(const ortc_pass_ctx *pc, const ortc_value *v, int rank, const int64_t *dims)
{
    const ortc_pass_info *in = ortc_pass_value(pc, v);
    if (!in || in->dtype != ORTC_DTYPE_FLOAT || in->rank != rank)
        return false;
    for (int d = 0; d < rank; d++)
        if (in->dims[d] != dims[d])
            return false;
    return true;
}

/* v's producer, when v's only reader is `reader` (not a graph output). */
static ortc_node *producer_for(const ortc_value *v, const ortc_node *reader)
{
    if (!v || v->kind != ORTC_VALUE_INTERMEDIATE || ortc_pass_single_user(v) != reader)
        return NULL;
    return v->producer;
}

static bool is_view(const ortc_node *n)
{
    return n && n->op &&
           (ortc_pass_is_op(n, "Reshape") || ortc_pass_is_op(n, "Squeeze") ||
            ortc_pass_is_op(n, "Unsqueeze") || ortc_pass_is_op(n, "Flatten"));
}

/* Walks back from v (read only by `reader`) through view nodes; returns the
 * first value not produced by a view, whose only reader is the last view
 * (or `reader`). NULL when a value on the way has another reader. */
static ortc_value *skip_views(match *m, ortc_value *v, const ortc_node *reader)
{
    for (;;) {
        ortc_node *p = producer_for(v, reader);
        if (!p)
            return NULL;
        if (!is_view(p))
            return v;
        if (!take(m, p) || p->n_inputs < 1 || !p->inputs[0])
            return NULL;
        reader = p;
        v = p->inputs[0];
    }
}

/* The operand of binary node b that is not the float scalar constant;
 * the constant's value in *c. */
static ortc_value *with_scalar(const ortc_node *b, float *c, bool commutative)
{
    if (b->n_inputs != 2 || b->n_outputs != 1 || !b->inputs[0] || !b->inputs[1])
        return NULL;
    if (ortc_pass_const_float(b->inputs[1], c))
        return b->inputs[0];
    if (commutative && ortc_pass_const_float(b->inputs[0], c))
        return b->inputs[1];
    return NULL;
}

static bool ints_all(const int64_t *v, size_t n, size_t want_n, int64_t value)
{
    if (n != want_n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] != value)
            return false;
    return true;
}

/* A Pad in constant mode with value 0 and non-negative pads (rank 5);
 * adds its pads to acc[10]. */
static bool pad_ok(const ortc_node *p, int64_t *acc)
{
    const ortc_attr *mode = ortc_node_attr(p, "mode");
    if (mode && (mode->type != ORTC_ATTR_STRING || strcmp(mode->s, "constant")))
        return false;
    int version = p->op ? ortc_node_version(p) : 0;
    if (p->n_outputs != 1 || version < 2)
        return false;
    const int64_t *pads;
    size_t np;
    if (version < 11) {
        const ortc_attr *val = ortc_node_attr(p, "value");
        if (p->n_inputs != 1 || (val && (val->type != ORTC_ATTR_FLOAT || val->f != 0.0f)))
            return false;
        pads = ortc_node_attr_ints(p, "pads", &np);
    } else {
        if (p->n_inputs < 2 || p->n_inputs > 3)
            return false;
        const ortc_value *pv = p->inputs[1];
        if (!pv || pv->kind != ORTC_VALUE_CONSTANT || !pv->constant ||
            pv->constant->t.dtype != ORTC_DTYPE_INT64 || pv->constant->t.rank != 1)
            return false;
        pads = pv->constant->t.data;
        np = (size_t)pv->constant->t.dims[0];
        float zero;
        if (p->n_inputs == 3 && p->inputs[2] &&
            (!ortc_pass_const_float(p->inputs[2], &zero) || zero != 0.0f))
            return false;
    }
    if (!pads || np != 10)
        return false;
    for (size_t i = 0; i < np; i++) {
        if (pads[i] < 0)
            return false;
        acc[i] += pads[i];
    }
    return true;
}

/* AveragePool with kernel (size,1,1), unit strides, no padding of its own
 * (so count_include_pad changes nothing: the Pad's zeros are data) and no
 * dilation; the size in *size. */
static bool pool_ok(const ortc_node *q, int64_t *size)
{
    if (!ortc_pass_is_op(q, "AveragePool") || q->n_inputs != 1 || q->n_outputs != 1)
        return false;
    size_t n;
    const int64_t *ks = ortc_node_attr_ints(q, "kernel_shape", &n);
    if (!ks || n != 3 || ks[0] < 1 || ks[1] != 1 || ks[2] != 1)
        return false;
    *size = ks[0];
    const ortc_attr *a;
    if ((a = ortc_node_attr(q, "strides")) &&
        (a->type != ORTC_ATTR_INTS || !ints_all(a->ints, a->n, 3, 1)))
        return false;
    if ((a = ortc_node_attr(q, "pads")) &&
        (a->type != ORTC_ATTR_INTS || !ints_all(a->ints, a->n, 6, 0)))
        return false;
    if ((a = ortc_node_attr(q, "dilations")) &&
        (a->type != ORTC_ATTR_INTS || !ints_all(a->ints, a->n, 3, 1)))
        return false;
    if ((a = ortc_node_attr(q, "auto_pad")) &&
        (a->type != ORTC_ATTR_STRING || (strcmp(a->s, "NOTSET") && strcmp(a->s, "VALID"))))
        return false;
    if ((a = ortc_node_attr(q, "ceil_mode")) && (a->type != ORTC_ATTR_INT || a->i != 0))
        return false;
    if ((a = ortc_node_attr(q, "count_include_pad")) && a->type != ORTC_ATTR_INT)
        return false;
    return true;
}

typedef struct lrn_params {
    int64_t size;
    float alpha, beta, bias;
    ortc_value *x;
} lrn_params;

/* Matches the pattern ending at Div node d; fills m and p. */
static bool match_lrn(const ortc_pass_ctx *pc, ortc_node *d, match *m, lrn_params *p)
{
    m->n = 0;
    if (!ortc_pass_is_op(d, "Div") || d->n_inputs != 2 || d->n_outputs != 1 || !d->inputs[0] ||
        !d->inputs[1] || !d->outputs[0])
        return false;
    ortc_value *x = d->inputs[0];
    const ortc_pass_info *xi = ortc_pass_value(pc, x);
    if (!xi || xi->dtype != ORTC_DTYPE_FLOAT || xi->rank != 4)
        return false;
    const int64_t *xd = xi->dims;
    int64_t d5[5] = {xd[0], 1, xd[1], xd[2], xd[3]};
    if (!shape_is(pc, d->outputs[0], 4, xd) || !take(m, d))
        return false;
    /* Pow(Add(Mul(R, alpha), k), beta) */
    ortc_node *pw = producer_for(d->inputs[1], d);
    if (!ortc_pass_is_op(pw, "Pow") || !take(m, pw) || !shape_is(pc, d->inputs[1], 4, xd))
        return false;
    ortc_value *a_out = with_scalar(pw, &p->beta, false);
    ortc_node *add = producer_for(a_out, pw);
    if (!ortc_pass_is_op(add, "Add") || !take(m, add) || !shape_is(pc, a_out, 4, xd))
        return false;
    ortc_value *m_out = with_scalar(add, &p->bias, true);
    ortc_node *mul = producer_for(m_out, add);
    if (!ortc_pass_is_op(mul, "Mul") || !take(m, mul) || !shape_is(pc, m_out, 4, xd))
        return false;
    ortc_value *r = with_scalar(mul, &p->alpha, true);
    if (!r || !shape_is(pc, r, 4, xd))
        return false;
    /* R = views of Q, Q = AveragePool(Pd) */
    ortc_value *q = skip_views(m, r, mul);
    if (!q || !shape_is(pc, q, 5, d5))
        return false;
    ortc_node *pool = q->producer;
    if (!pool_ok(pool, &p->size) || !take(m, pool))
        return false;
    /* Pd = Pad(...Pad(V)) */
    int64_t pads[10] = {0};
    ortc_value *v = pool->inputs[0];
    const ortc_node *reader = pool;
    int n_pads = 0;
    for (;;) {
        ortc_node *pd = producer_for(v, reader);
        if (!pd)
            return false;
        if (!ortc_pass_is_op(pd, "Pad"))
            break;
        if (!pad_ok(pd, pads) || !take(m, pd) || !pd->inputs[0])
            return false;
        n_pads++;
        reader = pd;
        v = pd->inputs[0];
    }
    int64_t want[10] = {0, 0, p->size / 2, 0, 0, 0, 0, (p->size - 1) / 2, 0, 0};
    if (!n_pads || memcmp(pads, want, sizeof want) || !shape_is(pc, v, 5, d5))
        return false;
    /* V = views of S, S = Mul(x, x) */
    ortc_value *s = skip_views(m, v, reader);
    if (!s || !shape_is(pc, s, 4, xd))
        return false;
    ortc_node *sq = s->producer;
    if (!ortc_pass_is_op(sq, "Mul") || sq->n_inputs != 2 || sq->inputs[0] != x ||
        sq->inputs[1] != x || !take(m, sq))
        return false;
    p->x = x;
    return true;
}

ortc_status ortc_pass_lrn(ortc_pass_ctx *pc)
{
    ortc_graph *g = pc->g;
    for (int i = 0; i < g->n_nodes; i++) {
        ortc_node *d = g->nodes[i];
        match m;
        lrn_params p;
        if (!match_lrn(pc, d, &m, &p))
            continue;
        char lab[300];
        if (p.size % 2 == 0) {
            ortc_pass_note(pc,
                           "passes: lrn: %s ends a decomposed LocalResponseNorm of even size "
                           "%lld: PyTorch's window differs from ONNX LRN's; left as is",
                           ortc_pass_node_label(lab, sizeof lab, d), (long long)p.size);
            pc->stats.lrn_kept++;
            continue;
        }
        char name[600];
        snprintf(name, sizeof name, "%s_lrn", d->name);
        ortc_node *lrn = ortc_ir_insert_node(g, d->index, "LRN", "", name, 1, 1);
        ortc_attr *a[4] = {NULL};
        if (lrn) {
            a[0] = ortc_node_add_attr(lrn, "size", ORTC_ATTR_INT);
            a[1] = a[0] ? ortc_node_add_attr(lrn, "alpha", ORTC_ATTR_FLOAT) : NULL;
            a[2] = a[1] ? ortc_node_add_attr(lrn, "beta", ORTC_ATTR_FLOAT) : NULL;
            a[3] = a[2] ? ortc_node_add_attr(lrn, "bias", ORTC_ATTR_FLOAT) : NULL;
        }
        if (!a[3])
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory adding LRN");
        /* re-fetch: adding attributes reallocates the array */
        lrn->attrs[0].i = p.size;
        lrn->attrs[1].f = p.alpha;
        lrn->attrs[2].f = p.beta;
        lrn->attrs[3].f = p.bias;
        if (!lrn->op) {
            ortc_ir_remove_node(g, lrn);
            continue;
        }
        lrn->inputs[0] = p.x;
        lrn->outputs[0] = d->outputs[0];
        ortc_pass_note(pc,
                       "passes: lrn: %d nodes from %s back to '%s' are LocalResponseNorm: "
                       "replaced by LRN '%s' size=%lld alpha=%g beta=%g bias=%g",
                       m.n, ortc_pass_node_label(lab, sizeof lab, d), p.x->name, lrn->name,
                       (long long)p.size, (double)p.alpha, (double)p.beta, (double)p.bias);
        for (int k = 0; k < m.n; k++)
            ortc_ir_remove_node(g, m.nodes[k]);
        pc->stats.lrn++;
        ORTC_TRY(ortc_pass_refresh(pc, "lrn"));
        i = -1;
    }
    return ORTC_STATUS_OK;
}
