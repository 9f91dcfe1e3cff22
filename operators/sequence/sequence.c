/* sequence.c — the sequence operators (ONNX 11): SequenceEmpty,
 * SequenceConstruct, SequenceInsert, SequenceErase, SequenceAt,
 * SequenceLength, SplitToSequence, ConcatFromSequence. Sequences are values
 * of data-dependent size (operator.h): they live in the run's pool, are
 * never written once made, and a new one may share an old one's storage
 * (appending in a loop costs one item, not a copy). SequenceMap, which runs
 * a graph, is in seqmap.c; Optional and its readers in optional.c.
 */
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

/* ---- shared ------------------------------------------------------------------------- */

static ortc_status check_tensor_input(ortc_opctx *c, int i)
{
    ortc_type t = ortc_op_in_type(c, i);
    if (t != ORTC_TYPE_TENSOR)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d must be a tensor; it is a %s",
                             i, ortc_type_name(t));
    return ORTC_STATUS_OK;
}

/* A sequence operator's n_min..n_max inputs (one output), input 0 a
 * sequence. */
static ortc_status check_seq_op(ortc_opctx *c, int n_min, int n_max)
{
    ORTC_TRY(ortc_op_check_arity(c, n_min, n_max, 1, 1));
    ortc_type t = ortc_op_in_type(c, 0);
    if (!c->in[0] || t != ORTC_TYPE_SEQUENCE)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input 0 must be a sequence; it is %s",
                             c->in[0] ? ortc_type_name(t) : "missing");
    return ORTC_STATUS_OK;
}

/* Optional input i, a position: int32 or int64 with one element. */
static ortc_status check_position(ortc_opctx *c, int i)
{
    if (i >= c->n_in || !c->in[i])
        return ORTC_STATUS_OK;
    ORTC_TRY(check_tensor_input(c, i));
    ORTC_TRY(ortc_op_check_dtype(c, i, ORTC_DTYPE_INT32, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    const ortc_tensor *t = c->in[i];
    if (t->rank > 1 || (t->rank == 1 && t->dims[0] >= 0 && t->dims[0] != 1))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input %d (position) must be a scalar; it has rank %d", i, t->rank);
    return ORTC_STATUS_OK;
}

/* The position input i holds, checked against [lo, hi] (lo < 0: counted
 * from the back of a sequence of n); `def` when omitted. */
static ortc_status read_position(ortc_opctx *c, int i, int64_t n, int64_t lo, int64_t hi,
                                 int64_t def, int64_t *pos)
{
    if (i >= c->n_in || !c->in[i]) {
        *pos = def;
        return ORTC_STATUS_OK;
    }
    if (ortc_tensor_numel(c->in[i]) != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "position must hold one value; it has %lld",
                             (long long)ortc_tensor_numel(c->in[i]));
    int64_t p = ortc_tensor_get_int(c->in[i], 0);
    if (p < lo || p > hi)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "position %lld is outside [%lld, %lld] for a sequence of %lld tensors",
                             (long long)p, (long long)lo, (long long)hi, (long long)n);
    *pos = p < 0 ? p + n : p;
    return ORTC_STATUS_OK;
}

/* The position of an item of the non-empty sequence s (input 1, in
 * [-n, n - 1]; `def` when omitted); `verb` names what the operator does
 * with it in the error about an empty sequence ("erases from"). */
static ortc_status item_position(ortc_opctx *c, const ortc_sequence *s, int64_t def,
                                 const char *verb, int64_t *pos)
{
    int64_t n = s->length;
    if (n == 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT, "%s an empty sequence", verb);
    return read_position(c, 1, n, -n, n - 1, def, pos);
}

/* *out = t with data that lives until the run ends (the pool's; a copy
 * unless it is there already). */
static ortc_status keep(ortc_opctx *c, const ortc_tensor *t, ortc_tensor *out)
{
    if (ortc_tensor_bytes(t) == 0 || ortc_pool_owns(c->pool, t->data)) {
        *out = *t;
        return ORTC_STATUS_OK;
    }
    ortc_tensor *copy = ortc_op_tensor_copy(c, t);
    if (!copy)
        return c->err->status;
    *out = *copy;
    return ORTC_STATUS_OK;
}

/* ---- SequenceEmpty ------------------------------------------------------------------ */

static ortc_status seq_empty_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 0, 0, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "dtype", ORTC_ATTR_INT));
    int64_t dt = ortc_node_attr_int(c->node, "dtype", ORTC_DTYPE_FLOAT);
    if (dt <= 0 || dt > ORTC_DTYPE_BFLOAT16 || ortc_dtype_size((ortc_dtype)dt) == 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'dtype' is %lld, no type",
                             (long long)dt);
    ortc_op_set_output_type(c, 0, ORTC_TYPE_SEQUENCE, (ortc_dtype)dt);
    return ORTC_STATUS_OK;
}

static ortc_status seq_empty_run(ortc_opctx *c)
{
    ortc_sequence *s = ortc_op_seq_new(c, c->out[0]->dtype, 0);
    if (!s)
        return c->err->status;
    ortc_op_set_output_seq(c, 0, s);
    return ORTC_STATUS_OK;
}

/* ---- SequenceConstruct ---------------------------------------------------------------- */

static ortc_status seq_construct_infer(ortc_opctx *c)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, 1 << 20, 1, 1));
    for (int i = 0; i < c->n_in; i++) {
        if (!c->in[i])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is omitted", i);
        ORTC_TRY(check_tensor_input(c, i));
        ORTC_TRY(ortc_op_check_same_dtype(c, 0, i));
    }
    ortc_op_set_output_type(c, 0, ORTC_TYPE_SEQUENCE, c->in[0]->dtype);
    return ORTC_STATUS_OK;
}

static ortc_status seq_construct_run(ortc_opctx *c)
{
    ortc_sequence *s = ortc_op_seq_new(c, c->in[0]->dtype, c->n_in);
    if (!s)
        return c->err->status;
    for (int i = 0; i < c->n_in; i++) {
        ORTC_TRY(keep(c, c->in[i], &s->items[i]));
    }
    s->length = c->n_in;
    *s->used = c->n_in;
    ortc_op_set_output_seq(c, 0, s);
    return ORTC_STATUS_OK;
}

/* ---- SequenceInsert, SequenceErase ------------------------------------------------------ */

static ortc_status seq_insert_infer(ortc_opctx *c)
{
    ORTC_TRY(check_seq_op(c, 2, 3));
    ORTC_TRY(check_tensor_input(c, 1));
    ORTC_TRY(check_position(c, 2));
    if (c->in[1]->dtype != c->in[0]->dtype && c->in[0]->dtype != ORTC_DTYPE_UNDEFINED)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inserts a %s tensor into a sequence of %s",
                             ortc_dtype_name(c->in[1]->dtype), ortc_dtype_name(c->in[0]->dtype));
    ortc_op_set_output_type(c, 0, ORTC_TYPE_SEQUENCE, c->in[1]->dtype);
    return ORTC_STATUS_OK;
}

static ortc_status seq_insert_run(ortc_opctx *c)
{
    const ortc_sequence *s = ortc_op_in_seq(c, 0);
    if (s->dtype != c->in[1]->dtype)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "inserts a %s tensor into a sequence of %s",
                             ortc_dtype_name(c->in[1]->dtype), ortc_dtype_name(s->dtype));
    int64_t n = s->length, pos;
    ortc_tensor t;
    ORTC_TRY(read_position(c, 2, n, -n, n, n, &pos));
    ORTC_TRY(keep(c, c->in[1], &t));
    ortc_sequence *r = ortc_op_seq_insert(c, s, pos, &t);
    if (!r)
        return c->err->status;
    ortc_op_set_output_seq(c, 0, r);
    return ORTC_STATUS_OK;
}

static ortc_status seq_erase_infer(ortc_opctx *c)
{
    ORTC_TRY(check_seq_op(c, 1, 2));
    ORTC_TRY(check_position(c, 1));
    ortc_op_set_output_type(c, 0, ORTC_TYPE_SEQUENCE, c->in[0]->dtype);
    return ORTC_STATUS_OK;
}

static ortc_status seq_erase_run(ortc_opctx *c)
{
    const ortc_sequence *s = ortc_op_in_seq(c, 0);
    int64_t n = s->length, pos;
    ORTC_TRY(item_position(c, s, n - 1, "erases from", &pos));
    ortc_sequence *r = ortc_op_alloc(c, sizeof *r);
    if (!r)
        return c->err->status;
    if (pos == n - 1) { /* the first n - 1 items of the same storage */
        *r = *s;
        r->length = n - 1;
    } else {
        ortc_sequence *ns = ortc_op_seq_new(c, s->dtype, n - 1);
        if (!ns)
            return c->err->status;
        memcpy(ns->items, s->items, (size_t)pos * sizeof *ns->items);
        memcpy(ns->items + pos, s->items + pos + 1, (size_t)(n - 1 - pos) * sizeof *ns->items);
        ns->length = n - 1;
        *ns->used = n - 1;
        *r = *ns;
    }
    ortc_op_set_output_seq(c, 0, r);
    return ORTC_STATUS_OK;
}

/* ---- SequenceAt, SequenceLength ---------------------------------------------------------- */

static ortc_status seq_at_infer(ortc_opctx *c)
{
    ORTC_TRY(check_seq_op(c, 2, 2));
    ORTC_TRY(check_position(c, 1));
    ortc_op_set_output_dynamic(c, 0, c->in[0]->dtype, -1, NULL);
    return ORTC_STATUS_OK;
}

static ortc_status seq_at_run(ortc_opctx *c)
{
    const ortc_sequence *s = ortc_op_in_seq(c, 0);
    int64_t pos;
    ORTC_TRY(item_position(c, s, 0, "reads from", &pos));
    return ortc_op_output_ref(c, 0, &s->items[pos]);
}

static ortc_status seq_length_infer(ortc_opctx *c)
{
    ORTC_TRY(check_seq_op(c, 1, 1));
    ortc_op_set_output(c, 0, ORTC_DTYPE_INT64, 0, NULL);
    return ORTC_STATUS_OK;
}

static ortc_status seq_length_run(ortc_opctx *c)
{
    *(int64_t *)c->out[0]->data = ortc_op_in_seq(c, 0)->length;
    return ORTC_STATUS_OK;
}

/* ---- SplitToSequence ------------------------------------------------------------------------ */

static ortc_status split_infer(ortc_opctx *c)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 1, 2, 1, 1)) || (st = check_tensor_input(c, 0)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "keepdims", ORTC_ATTR_INT)))
        return st;
    if (c->n_in > 1 && c->in[1] &&
        ((st = check_tensor_input(c, 1)) ||
         (st =
              ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT32, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED))))
        return st;
    const ortc_tensor *x = c->in[0];
    int axis;
    if (x->rank >= 0 &&
        (st = ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis)))
        return st;
    ortc_op_set_output_type(c, 0, ORTC_TYPE_SEQUENCE, x->dtype);
    return ORTC_STATUS_OK;
}

static ortc_status split_run(ortc_opctx *c)
{
    const ortc_tensor *x = c->in[0];
    int axis;
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), x->rank, &axis));
    int64_t len = x->dims[axis];
    const ortc_tensor *sp = c->n_in > 1 ? c->in[1] : NULL;
    bool keepdims = sp || ortc_node_attr_int(c->node, "keepdims", 1) != 0;
    /* pieces: given sizes, chunks of one size (the last smaller), or ones */
    int64_t n_split = sp ? ortc_tensor_numel(sp) : 0, chunk = 1, n;
    if (sp && sp->rank == 0) {
        chunk = ortc_tensor_get_int(sp, 0);
        if (chunk <= 0)
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "split is %lld; it must be positive", (long long)chunk);
        n = len ? (len + chunk - 1) / chunk : 0;
    } else if (sp) {
        int64_t sum = 0;
        for (int64_t i = 0; i < n_split; i++) {
            int64_t v = ortc_tensor_get_int(sp, i);
            if (v < 0 || v > len - sum)
                return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                     "split sizes do not add up to %lld (dim %d of the input)",
                                     (long long)len, axis);
            sum += v;
        }
        if (sum != len)
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "split sizes add up to %lld; dim %d of the input is %lld",
                                 (long long)sum, axis, (long long)len);
        n = n_split;
    } else {
        n = len;
    }
    ortc_sequence *s = ortc_op_seq_new(c, x->dtype, n);
    if (!s)
        return c->err->status;
    size_t elem = ortc_dtype_size(x->dtype);
    int64_t outer = ortc_plain_span(x->dims, 0, axis);
    int64_t inner = ortc_plain_span(x->dims, axis + 1, x->rank);
    int64_t start = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t size = sp && sp->rank == 1   ? ortc_tensor_get_int(sp, i)
                       : start + chunk > len ? len - start
                                             : chunk;
        ortc_tensor t = {.dtype = x->dtype, .rank = x->rank};
        memcpy(t.dims, x->dims, sizeof t.dims);
        t.dims[axis] = size;
        if (!keepdims) { /* pieces of one: the axis goes */
            memmove(t.dims + axis, t.dims + axis + 1,
                    (size_t)(x->rank - axis - 1) * sizeof *t.dims);
            t.rank--;
        }
        size_t row = (size_t)(size * inner) * elem;
        t.data = ortc_op_alloc(c, (size_t)outer * row);
        if (!t.data)
            return c->err->status;
        for (int64_t o = 0; o < outer; o++)
            if (row)
                memcpy((char *)t.data + (size_t)o * row,
                       (const char *)x->data + ((size_t)(o * len + start) * (size_t)inner) * elem,
                       row);
        s->items[i] = t;
        start += size;
    }
    s->length = n;
    *s->used = n;
    ortc_op_set_output_seq(c, 0, s);
    return ORTC_STATUS_OK;
}

/* ---- ConcatFromSequence ------------------------------------------------------------------ */

static ortc_status concat_infer(ortc_opctx *c)
{
    ORTC_TRY(check_seq_op(c, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "new_axis", ORTC_ATTR_INT));
    if (!ortc_node_attr(c->node, "axis"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute 'axis' is required");
    ortc_op_set_output_dynamic(c, 0, c->in[0]->dtype, -1, NULL);
    return ORTC_STATUS_OK;
}

static ortc_status concat_run(ortc_opctx *c)
{
    char a[160], b[160];
    const ortc_sequence *s = ortc_op_in_seq(c, 0);
    if (s->length == 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT, "concatenates an empty sequence");
    bool new_axis = ortc_node_attr_int(c->node, "new_axis", 0) != 0;
    const ortc_tensor *first = &s->items[0];
    int rank = first->rank + (new_axis ? 1 : 0), axis;
    if (rank > ORTC_MAX_RANK)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "the result would have rank %d", rank);
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", 0), rank, &axis));
    if (!new_axis && first->rank == 0)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "concatenates scalars without new_axis");
    int64_t dims[ORTC_MAX_RANK], total = 0;
    for (int64_t i = 0; i < s->length; i++) {
        const ortc_tensor *t = &s->items[i];
        bool same = t->rank == first->rank;
        for (int d = 0; same && d < t->rank; d++)
            same = t->dims[d] == first->dims[d] || (!new_axis && d == axis);
        if (!same)
            return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                                 "sequence items 0 %s and %lld %s differ beyond axis %d",
                                 ortc_shape_str(a, sizeof a, first->rank, first->dims),
                                 (long long)i, ortc_shape_str(b, sizeof b, t->rank, t->dims), axis);
        total += new_axis ? 1 : t->dims[axis];
    }
    /* the items' dims, the axis replaced by the total (new_axis: inserted) */
    for (int d = 0, j = 0; d < rank; d++) {
        if (d != axis) {
            dims[d] = first->dims[j++];
        } else {
            dims[d] = total;
            j += new_axis ? 0 : 1;
        }
    }
    char *out = ortc_op_output(c, 0, rank, dims);
    if (!out)
        return c->err->status;
    size_t elem = ortc_dtype_size(first->dtype);
    int64_t outer = ortc_plain_span(dims, 0, axis);
    int64_t inner = ortc_plain_span(dims, axis + 1, rank);
    size_t out_row = (size_t)(total * inner) * elem, off = 0;
    for (int64_t i = 0; i < s->length; i++) {
        const ortc_tensor *t = &s->items[i];
        int64_t len = new_axis ? 1 : t->dims[axis];
        size_t row = (size_t)(len * inner) * elem;
        for (int64_t o = 0; o < outer && row; o++)
            memcpy(out + (size_t)o * out_row + off, (const char *)t->data + (size_t)o * row, row);
        off += row;
    }
    return ORTC_STATUS_OK;
}

/* ---- the table ------------------------------------------------------------------------ */

#define SEQ_FACTS .dtypes = ORTC_DTYPES_ALL, .flags = ORTC_OP_DYNAMIC

const ortc_operator ortc_ops_sequence[] = {
    ORTC_OP("SequenceEmpty", 11, 11, SEQ_FACTS, .infer = seq_empty_infer, .run = seq_empty_run),
    ORTC_OP("SequenceConstruct", 11, 11, SEQ_FACTS, .infer = seq_construct_infer,
            .run = seq_construct_run),
    ORTC_OP("SequenceInsert", 11, 11, SEQ_FACTS, .infer = seq_insert_infer, .run = seq_insert_run),
    ORTC_OP("SequenceErase", 11, 11, SEQ_FACTS, .infer = seq_erase_infer, .run = seq_erase_run),
    ORTC_OP("SequenceAt", 11, 11, SEQ_FACTS, .infer = seq_at_infer, .run = seq_at_run),
    ORTC_OP("SequenceLength", 11, 11, SEQ_FACTS, .infer = seq_length_infer, .run = seq_length_run),
    ORTC_OP("SplitToSequence", 11, 11, SEQ_FACTS, .infer = split_infer, .run = split_run),
    ORTC_OP("ConcatFromSequence", 11, 11, SEQ_FACTS, .infer = concat_infer, .run = concat_run),
};
ORTC_OP_TABLE_END(sequence);
