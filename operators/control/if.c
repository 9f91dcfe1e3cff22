/* if.c — the If operator on the runtime's subgraph services (operator.h,
 * "subgraphs"): compile turns then_branch and else_branch into sub-plans —
 * only the one taken when the condition is known at compile time — and run
 * runs the branch the condition selects, its outputs written straight into
 * the If's. An output whose branches disagree on its shape, or that a
 * branch makes of data-dependent size (a sequence, an optional, NonZero's
 * output), is of data-dependent size. No kernel of its own.
 */
#include <stdint.h>
#include <stdlib.h>

#include "error.h"
#include "operator.h"

static const char *const branch_name[2] = {"then_branch", "else_branch"};

typedef struct if_state {
    struct ortc_subplan *branch[2]; /* NULL: compiled out (known condition) */
    bool spare;                     /* the node omits an output (see spare_outputs) */
} if_state;

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

/* Bytes of branch output k's buffer: 0 when the branch makes it itself
 * (of data-dependent size), its size otherwise. */
static size_t branch_bytes(ortc_opctx *c, struct ortc_subplan *sp, int k)
{
    if (!sp || c->subgraphs->output_layout(sp, k).dynamic)
        return 0;
    ortc_tensor shape = c->subgraphs->output(sp, k);
    return ortc_tensor_bytes(&shape);
}

/* The branch outputs' buffers: the If's outputs, or, for outputs the node
 * omits, spares in scratch laid out as a pointer per output, then a tensor
 * and its data (room for either branch's) per omitted output. Returns the
 * scratch bytes needed; with scratch (NULL: only measure) also lays them out
 * for branch b and returns the pointers in *out. */
static size_t spare_outputs(ortc_opctx *c, const if_state *s, int b, char *scratch,
                            ortc_tensor ***out)
{
    ortc_tensor **ptrs = (ortc_tensor **)(void *)scratch;
    size_t off = align64((size_t)c->n_out * sizeof *ptrs);
    for (int k = 0; k < c->n_out; k++) {
        if (c->out[k]) {
            if (scratch)
                ptrs[k] = c->out[k];
            continue;
        }
        ortc_tensor *t = (ortc_tensor *)(void *)(scratch + off);
        off = align64(off + sizeof *t);
        if (scratch) {
            *t = c->subgraphs->output(s->branch[b], k);
            t->data = scratch + off;
            ptrs[k] = t;
        }
        size_t a = branch_bytes(c, s->branch[0], k), e = branch_bytes(c, s->branch[1], k);
        off = align64(off + (a > e ? a : e));
    }
    if (out)
        *out = ptrs;
    return off;
}

static ortc_status if_compile(ortc_opctx *c)
{
    const ortc_node *n = c->node;
    char sh[160], s2[160];
    const ortc_attr *br[2] = {ortc_node_attr(n, branch_name[0]), ortc_node_attr(n, branch_name[1])};
    for (int b = 0; b < 2; b++)
        if (!br[b] || br[b]->type != ORTC_ATTR_GRAPH || !br[b]->g)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' must be a graph",
                                 branch_name[b]);
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 0, 4096));
    const ortc_tensor *cond = c->in[0];
    if (cond->dtype != ORTC_DTYPE_BOOL || ortc_tensor_numel(cond) != 1)
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "condition must be one bool element; got %s %s",
            ortc_dtype_name(cond->dtype), ortc_shape_str(sh, sizeof sh, cond->rank, cond->dims));
    for (int b = 0; b < 2; b++)
        if (br[b]->g->n_outputs != n->n_outputs)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "%s has %d outputs; the If node has %d", branch_name[b],
                                 br[b]->g->n_outputs, n->n_outputs);
    if_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    c->state = s; /* release frees what is compiled, also after a failure */
    /* a condition known now selects one branch for good */
    int only = cond->data ? (*(const uint8_t *)cond->data ? 0 : 1) : -1;
    for (int b = 0; b < 2; b++) {
        if (only >= 0 && b != only)
            continue;
        ORTC_TRY(c->subgraphs->compile(c, br[b]->g, branch_name[b], NULL, NULL, &s->branch[b]));
    }
    /* the outputs take the branches' type and dtype, which must agree, and
     * their shape: where it differs (or a branch knows it only at run
     * time), it is of data-dependent size */
    for (int k = 0; k < n->n_outputs; k++) {
        ortc_tensor shape[2];
        ortc_layout lay[2];
        int nb = 0;
        for (int b = 0; b < 2; b++)
            if (s->branch[b]) {
                shape[nb] = c->subgraphs->output(s->branch[b], k);
                lay[nb++] = c->subgraphs->output_layout(s->branch[b], k);
            }
        bool dynamic = lay[0].dynamic || (nb == 2 && lay[1].dynamic);
        if (nb == 2) {
            bool same_dtype = shape[0].dtype == shape[1].dtype ||
                              shape[0].dtype == ORTC_DTYPE_UNDEFINED ||
                              shape[1].dtype == ORTC_DTYPE_UNDEFINED;
            if (lay[0].type != lay[1].type || !same_dtype)
                return ortc_op_error(
                    c, ORTC_STATUS_INVALID_MODEL,
                    "output %d: then_branch gives a %s of %s %s, else_branch a %s of %s %s", k,
                    ortc_type_name(lay[0].type), ortc_dtype_name(shape[0].dtype),
                    ortc_shape_str(sh, sizeof sh, shape[0].rank, shape[0].dims),
                    ortc_type_name(lay[1].type), ortc_dtype_name(shape[1].dtype),
                    ortc_shape_str(s2, sizeof s2, shape[1].rank, shape[1].dims));
            if (shape[0].dtype == ORTC_DTYPE_UNDEFINED)
                shape[0].dtype = shape[1].dtype;
            /* dims both branches agree on stay known */
            if (shape[0].rank != shape[1].rank) {
                shape[0].rank = -1;
                dynamic = true;
            }
            for (int d = 0; d < shape[0].rank; d++)
                if (shape[0].dims[d] != shape[1].dims[d]) {
                    shape[0].dims[d] = -1;
                    dynamic = true;
                }
        }
        if (!c->out[k])
            continue;
        if (lay[0].type != ORTC_TYPE_TENSOR)
            ortc_op_set_output_type(c, k, lay[0].type, shape[0].dtype);
        else if (dynamic)
            ortc_op_set_output_dynamic(c, k, shape[0].dtype, shape[0].rank, shape[0].dims);
        else
            ortc_op_set_output(c, k, shape[0].dtype, shape[0].rank, shape[0].dims);
    }
    return ORTC_STATUS_OK;
}

static ortc_status if_prepare(ortc_opctx *c)
{
    if_state *s = c->state;
    for (int k = 0; k < c->n_out; k++)
        if (!c->out[k])
            s->spare = true;
    if (s->spare)
        c->scratch_bytes = spare_outputs(c, s, 0, NULL, NULL);
    return ORTC_STATUS_OK;
}

static ortc_status if_run(ortc_opctx *c)
{
    const if_state *s = c->state;
    int b = *(const uint8_t *)c->in[0]->data ? 0 : 1;
    if (!s->branch[b])
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: took %s, compiled out",
                             branch_name[b]);
    ortc_tensor **out = c->out;
    if (s->spare)
        spare_outputs(c, s, b, c->scratch, &out);
    /* an output of data-dependent size that this branch computes into a
     * buffer (its size is known to the branch) gets one from the pool */
    for (int k = 0; k < c->n_out; k++) {
        if (!c->out[k] || !c->out_layout[k]->dynamic ||
            c->subgraphs->output_layout(s->branch[b], k).dynamic)
            continue;
        ortc_tensor shape = c->subgraphs->output(s->branch[b], k);
        if (!ortc_op_output(c, k, shape.rank, shape.dims))
            return c->err->status;
    }
    return c->subgraphs->run(c, s->branch[b], NULL, out);
}

static void if_release(ortc_opctx *c)
{
    if_state *s = c->state;
    if (!s)
        return;
    for (int b = 0; b < 2; b++)
        c->subgraphs->free(s->branch[b]);
    free(s);
    c->state = NULL;
}

const ortc_operator ortc_ops_if[] = {
    ORTC_OP("If", 1, 16, .versions = {1, 11, 13, 16}, .compile = if_compile, .prepare = if_prepare,
            .run = if_run, .release = if_release),
};
ORTC_OP_TABLE_END(if);
