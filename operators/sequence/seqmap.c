/* seqmap.c — SequenceMap (ONNX 17) on the runtime's subgraph services: the
 * body runs once per item of the input sequence, reading that item (and
 * the same item of every other sequence input, and each tensor input as it
 * is), and each of its outputs becomes one item of an output sequence. The
 * items may differ in shape, so the body is compiled with them of unknown
 * shape (what follows them is compiled per shape seen, operator.h "values
 * of data-dependent size").
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "operator.h"

typedef struct seqmap_state {
    struct ortc_subplan *body;
    ortc_tensor *out_shape; /* [n_out] the body's outputs as compiled */
    ortc_layout *out_layout;
} seqmap_state;

static ortc_status seqmap_compile(ortc_opctx *c)
{
    const ortc_attr *a = ortc_node_attr(c->node, "body");
    if (!a || a->type != ORTC_ATTR_GRAPH || !a->g)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'body' must be a graph");
    const ortc_graph *g = a->g;
    ortc_status st;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1 << 20, 1, 1 << 20));
    if (g->n_inputs != c->n_in || g->n_outputs != c->n_out)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "has %d inputs and %d outputs; its body %d and %d", c->n_in, c->n_out,
                             g->n_inputs, g->n_outputs);
    if (ortc_op_in_type(c, 0) != ORTC_TYPE_SEQUENCE)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input 0 must be a sequence; it is a %s",
                             ortc_type_name(ortc_op_in_type(c, 0)));
    seqmap_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    c->state = s;
    ortc_tensor *in = calloc((size_t)c->n_in, sizeof *in);
    ortc_layout *lay = calloc((size_t)c->n_in, sizeof *lay);
    s->out_shape = calloc((size_t)c->n_out, sizeof *s->out_shape);
    s->out_layout = calloc((size_t)c->n_out, sizeof *s->out_layout);
    if (!in || !lay || !s->out_shape || !s->out_layout) {
        free(in);
        free(lay);
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < c->n_in; i++) {
        ortc_type t = ortc_op_in_type(c, i);
        if (!c->in[i] || (t != ORTC_TYPE_SEQUENCE && t != ORTC_TYPE_TENSOR)) {
            free(in);
            free(lay);
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d must be a sequence or a tensor", i);
        }
        in[i] = *c->in[i];
        in[i].data = NULL;
        if (t == ORTC_TYPE_SEQUENCE) {
            /* one item at a time, each of its own shape */
            in[i].rank = -1;
            lay[i] = (ortc_layout){.plain = true, .dynamic = true};
        } else {
            lay[i] = *c->in_layout[i];
        }
    }
    st = c->subgraphs->compile(c, g, "body", in, lay, &s->body);
    free(in);
    free(lay);
    if (st)
        return st;
    for (int k = 0; k < c->n_out; k++) {
        s->out_shape[k] = c->subgraphs->output(s->body, k);
        s->out_layout[k] = c->subgraphs->output_layout(s->body, k);
        if (s->out_layout[k].type != ORTC_TYPE_TENSOR)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "body output %d is a %s; it must be a tensor", k,
                                 ortc_type_name(s->out_layout[k].type));
        ortc_op_set_output_type(c, k, ORTC_TYPE_SEQUENCE, s->out_shape[k].dtype);
    }
    return ORTC_STATUS_OK;
}

static ortc_status seqmap_run(ortc_opctx *c)
{
    const seqmap_state *s = c->state;
    const ortc_sequence *first = ortc_op_in_seq(c, 0);
    int64_t n = first->length;
    for (int i = 1; i < c->n_in; i++) {
        const ortc_sequence *q = ortc_op_in_seq(c, i);
        if (q && q->length != n)
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "input %d is a sequence of %lld tensors; input 0 of %lld", i,
                                 (long long)q->length, (long long)n);
    }
    ortc_tensor *in = ortc_op_alloc(c, (size_t)c->n_in * sizeof *in);
    ortc_tensor *out = in ? ortc_op_alloc(c, (size_t)c->n_out * sizeof *out) : NULL;
    ortc_tensor **in_p = out ? ortc_op_alloc(c, (size_t)c->n_in * sizeof *in_p) : NULL;
    ortc_tensor **out_p = in_p ? ortc_op_alloc(c, (size_t)c->n_out * sizeof *out_p) : NULL;
    ortc_sequence **res = out_p ? ortc_op_alloc(c, (size_t)c->n_out * sizeof *res) : NULL;
    if (!res)
        return c->err->status;
    for (int k = 0; k < c->n_out; k++) {
        if (!(res[k] = ortc_op_seq_new(c, s->out_shape[k].dtype, n)))
            return c->err->status;
        out_p[k] = &out[k];
    }
    for (int i = 0; i < c->n_in; i++)
        in_p[i] = &in[i];
    for (int64_t t = 0; t < n; t++) {
        for (int i = 0; i < c->n_in; i++) {
            const ortc_sequence *q = ortc_op_in_seq(c, i);
            in[i] = q ? q->items[t] : *c->in[i];
        }
        for (int k = 0; k < c->n_out; k++) {
            out[k] = s->out_shape[k];
            /* a static output goes into a buffer of the run's */
            if (!s->out_layout[k].dynamic &&
                !(out[k].data = ortc_op_alloc(c, ortc_tensor_bytes(&out[k]))))
                return c->err->status;
        }
        ORTC_TRY(c->subgraphs->run(c, s->body, in_p, out_p));
        for (int k = 0; k < c->n_out; k++) {
            ortc_tensor kept = out[k];
            if (ortc_tensor_bytes(&kept) && !ortc_pool_owns(c->pool, kept.data)) {
                ortc_tensor *copy = ortc_op_tensor_copy(c, &kept);
                if (!copy)
                    return c->err->status;
                kept = *copy;
            }
            res[k]->items[t] = kept;
        }
    }
    for (int k = 0; k < c->n_out; k++) {
        res[k]->length = n;
        *res[k]->used = n;
        ortc_op_set_output_seq(c, k, res[k]);
    }
    return ORTC_STATUS_OK;
}

static void seqmap_release(ortc_opctx *c)
{
    seqmap_state *s = c->state;
    if (!s)
        return;
    c->subgraphs->free(s->body);
    free(s->out_shape);
    free(s->out_layout);
    free(s);
    c->state = NULL;
}

const ortc_operator ortc_ops_seqmap[] = {
    ORTC_OP("SequenceMap", 17, 17, .flags = ORTC_OP_DYNAMIC, .compile = seqmap_compile,
            .run = seqmap_run, .release = seqmap_release),
};
ORTC_OP_TABLE_END(seqmap);
