/* values.c — helpers for operators that take or make values of data-
 * dependent size (operator.h, "values of data-dependent size"): their
 * types, dynamic outputs from the run's pool, sequences and optionals, and
 * the session's limits on them. The pool itself is runtime/pool.c's; no
 * kernels here.
 */
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "operator.h"

ortc_type ortc_op_in_type(const ortc_opctx *c, int i)
{
    if (i < 0 || i >= c->n_in || !c->in[i] || !c->in_layout || !c->in_layout[i])
        return ORTC_TYPE_TENSOR;
    return c->in_layout[i]->type;
}

bool ortc_op_in_dynamic(const ortc_opctx *c, int i)
{
    if (i < 0 || i >= c->n_in || !c->in[i] || !c->in_layout || !c->in_layout[i])
        return false;
    return c->in_layout[i]->dynamic;
}

const char *ortc_type_name(ortc_type t)
{
    switch (t) {
    case ORTC_TYPE_TENSOR: return "tensor";
    case ORTC_TYPE_SEQUENCE: return "sequence";
    case ORTC_TYPE_OPTIONAL_TENSOR: return "optional tensor";
    case ORTC_TYPE_OPTIONAL_SEQUENCE: return "optional sequence";
    case ORTC_TYPE_NONE: return "none";
    }
    return "unknown type";
}

void ortc_op_set_output_type(ortc_opctx *c, int k, ortc_type type, ortc_dtype elem_dtype)
{
    ortc_tensor *t = c->out[k];
    if (!t)
        return;
    t->dtype = elem_dtype;
    t->rank = -1;
    for (int d = 0; d < ORTC_MAX_RANK; d++)
        t->dims[d] = -1;
    t->data = NULL;
    if (c->out_layout && c->out_layout[k]) {
        c->out_layout[k]->type = type;
        c->out_layout[k]->dynamic = true;
    }
}

/* A dynamic tensor is a dynamic value of type tensor whose rank and dims
 * may be partly known. */
void ortc_op_set_output_dynamic(ortc_opctx *c, int k, ortc_dtype dtype, int rank,
                                const int64_t *dims)
{
    ortc_op_set_output_type(c, k, ORTC_TYPE_TENSOR, dtype);
    ortc_tensor *t = c->out[k];
    if (!t)
        return;
    t->rank = rank;
    for (int d = 0; dims && d < rank && d < ORTC_MAX_RANK; d++)
        t->dims[d] = dims[d];
}

/* ---- memory ------------------------------------------------------------------------ */

void *ortc_op_alloc(ortc_opctx *c, size_t bytes)
{
    if (!c->pool) {
        ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                      "makes a value of data-dependent size, which cannot be computed here "
                      "(outside a session run)");
        return NULL;
    }
    void *p = ortc_pool_alloc(c->pool, bytes);
    if (p)
        return p;
    size_t used = ortc_pool_used(c->pool), limit = ortc_pool_limit(c->pool);
    if (limit && (used > limit || bytes > limit - used))
        ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                      "needs %zu more bytes for values of data-dependent size; this run holds "
                      "%zu already, and the limit is %zu (session option max_dynamic_bytes)",
                      bytes, used, limit);
    else
        ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                      "out of memory: %zu bytes for a value of data-dependent size", bytes);
    return NULL;
}

static bool out_dynamic(const ortc_opctx *c, int k)
{
    return c->out_layout && c->out_layout[k] && c->out_layout[k]->dynamic;
}

static size_t max_tensor_bytes(const ortc_opctx *c)
{
    return c->options && c->options->max_tensor_bytes ? c->options->max_tensor_bytes
                                                      : ORTC_DEFAULT_MAX_TENSOR_BYTES;
}

void *ortc_op_output(ortc_opctx *c, int k, int rank, const int64_t *dims)
{
    char sh[160], want[160];
    ortc_tensor *t = k >= 0 && k < c->n_out ? c->out[k] : NULL;
    if (!t) {
        ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: output %d is omitted", k);
        return NULL;
    }
    if (rank < 0 || rank > ORTC_MAX_RANK) {
        ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: output %d of rank %d", k, rank);
        return NULL;
    }
    if (!out_dynamic(c, k)) {
        bool same = t->rank == rank;
        for (int d = 0; same && d < rank; d++)
            same = t->dims[d] == dims[d];
        if (!same) {
            ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                          "internal: output %d has shape %s at run time; inference gave %s", k,
                          ortc_shape_str(sh, sizeof sh, rank, dims),
                          ortc_shape_str(want, sizeof want, t->rank, t->dims));
            return NULL;
        }
        return t->data ? t->data : (void *)t;
    }
    ortc_tensor shape = {.dtype = t->dtype, .rank = rank};
    for (int d = 0; d < rank; d++)
        shape.dims[d] = dims[d];
    int64_t numel = ortc_tensor_numel(&shape);
    size_t bytes = ortc_tensor_bytes(&shape);
    const char *name = c->node->outputs[k] ? c->node->outputs[k]->name : "";
    if (numel < 0 || (numel > 0 && bytes == 0) || bytes > max_tensor_bytes(c)) {
        ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                      "output '%s' %s %s would need %s%zu bytes, above the limit of %zu bytes per "
                      "tensor (session option max_tensor_bytes)",
                      name, ortc_dtype_name(t->dtype), ortc_shape_str(sh, sizeof sh, rank, dims),
                      numel < 0 || bytes == 0 ? "more than " : "", numel < 0 ? SIZE_MAX : bytes,
                      max_tensor_bytes(c));
        return NULL;
    }
    void *p = ortc_op_alloc(c, bytes);
    if (!p)
        return NULL;
    t->rank = rank;
    for (int d = 0; d < ORTC_MAX_RANK; d++)
        t->dims[d] = d < rank ? dims[d] : 0;
    t->data = p;
    return p;
}

ortc_status ortc_op_output_ref(ortc_opctx *c, int k, const ortc_tensor *src)
{
    ortc_tensor *t = k >= 0 && k < c->n_out ? c->out[k] : NULL;
    if (!t)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: output %d is omitted", k);
    if (out_dynamic(c, k)) {
        ortc_dtype dt = t->dtype;
        if (dt != ORTC_DTYPE_UNDEFINED && src->dtype != dt)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: output %d is %s; got %s",
                                 k, ortc_dtype_name(dt), ortc_dtype_name(src->dtype));
        /* memory outside the pool (the arena, an input) may be reused
         * before the run ends: keep a copy */
        if (ortc_tensor_bytes(src) && !ortc_pool_owns(c->pool, src->data)) {
            ortc_tensor *copy = ortc_op_tensor_copy(c, src);
            if (!copy)
                return c->err && c->err->status ? c->err->status : ORTC_STATUS_RUNTIME_ERROR;
            src = copy;
        }
        *t = *src;
        return ORTC_STATUS_OK;
    }
    void *dst = ortc_op_output(c, k, src->rank, src->dims);
    if (!dst)
        return c->err && c->err->status ? c->err->status : ORTC_STATUS_RUNTIME_ERROR;
    size_t bytes = ortc_tensor_bytes(src);
    if (bytes && dst != src->data)
        memmove(dst, src->data, bytes);
    return ORTC_STATUS_OK;
}

ortc_tensor *ortc_op_tensor_copy(ortc_opctx *c, const ortc_tensor *t)
{
    size_t bytes = ortc_tensor_bytes(t);
    ortc_tensor *copy = ortc_op_alloc(c, sizeof *copy);
    void *data = copy ? ortc_op_alloc(c, bytes) : NULL;
    if (!data)
        return NULL;
    *copy = *t;
    copy->data = data;
    if (bytes)
        memcpy(data, t->data, bytes);
    return copy;
}

/* ---- sequences and optionals --------------------------------------------------------- */

bool ortc_op_in_none(const ortc_opctx *c, int i)
{
    if (i < 0 || i >= c->n_in || !c->in[i])
        return true;
    switch (ortc_op_in_type(c, i)) {
    case ORTC_TYPE_OPTIONAL_TENSOR: return c->in[i]->rank < 0;
    case ORTC_TYPE_OPTIONAL_SEQUENCE: return c->in[i]->data == NULL;
    default: return false;
    }
}

void ortc_op_set_output_none(ortc_opctx *c, int k)
{
    ortc_tensor *t = c->out[k];
    if (!t)
        return;
    t->rank = -1;
    t->data = NULL;
}

const ortc_sequence *ortc_op_in_seq(const ortc_opctx *c, int i)
{
    ortc_type ty = ortc_op_in_type(c, i);
    if (ty != ORTC_TYPE_SEQUENCE && ty != ORTC_TYPE_OPTIONAL_SEQUENCE)
        return NULL;
    return c->in[i]->data;
}

void ortc_op_set_output_seq(ortc_opctx *c, int k, const ortc_sequence *s)
{
    ortc_tensor *t = c->out[k];
    if (!t)
        return;
    t->dtype = s->dtype;
    t->rank = -1;
    t->data = (void *)s;
}

int64_t ortc_op_max_loop_iterations(const ortc_opctx *c)
{
    return c->options && c->options->max_loop_iterations > 0 ? c->options->max_loop_iterations
                                                             : ORTC_DEFAULT_MAX_LOOP_ITERATIONS;
}

int64_t ortc_op_max_sequence_length(const ortc_opctx *c)
{
    return c->options && c->options->max_sequence_length > 0 ? c->options->max_sequence_length
                                                             : ORTC_DEFAULT_MAX_SEQUENCE_LENGTH;
}

int64_t ortc_op_max_nms_boxes(const ortc_opctx *c)
{
    return c->options && c->options->max_nms_boxes > 0 ? c->options->max_nms_boxes
                                                       : ORTC_DEFAULT_MAX_NMS_BOXES;
}

static ortc_status check_length(ortc_opctx *c, int64_t n)
{
    int64_t max = ortc_op_max_sequence_length(c);
    if (n > max)
        return ortc_op_error(c, ORTC_STATUS_LIMIT_EXCEEDED,
                             "a sequence of %lld tensors, above the limit of %lld (session option "
                             "max_sequence_length)",
                             (long long)n, (long long)max);
    return ORTC_STATUS_OK;
}

/* A sequence header and storage for cap items (used = length = 0). */
static ortc_sequence *seq_make(ortc_opctx *c, ortc_dtype dtype, int64_t cap)
{
    ortc_sequence *s = ortc_op_alloc(c, sizeof *s);
    int64_t *used = s ? ortc_op_alloc(c, sizeof *used) : NULL;
    ortc_tensor *items = used ? ortc_op_alloc(c, (size_t)cap * sizeof *items) : NULL;
    if (!items)
        return NULL;
    *used = 0;
    *s = (ortc_sequence){.dtype = dtype, .length = 0, .items = items, .used = used, .cap = cap};
    return s;
}

ortc_sequence *ortc_op_seq_new(ortc_opctx *c, ortc_dtype dtype, int64_t cap)
{
    if (cap < 0 || check_length(c, cap))
        return NULL;
    return seq_make(c, dtype, cap);
}

ortc_sequence *ortc_op_seq_insert(ortc_opctx *c, const ortc_sequence *s, int64_t pos,
                                  const ortc_tensor *t)
{
    int64_t n = s->length;
    if (pos < 0 || pos > n) {
        ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: insert at %lld into %lld",
                      (long long)pos, (long long)n);
        return NULL;
    }
    if (check_length(c, n + 1))
        return NULL;
    ortc_sequence *r = ortc_op_alloc(c, sizeof *r);
    if (!r)
        return NULL;
    if (pos == n && s->used && *s->used == n && n < s->cap) {
        /* append into the shared storage: s still sees only its n items */
        s->items[n] = *t;
        (*s->used)++;
        *r = *s;
        r->length = n + 1;
        return r;
    }
    int64_t max = ortc_op_max_sequence_length(c);
    int64_t cap = n + 1 < 4 ? 4 : (n + 1) * 2;
    if (cap > max)
        cap = max;
    ortc_sequence *ns = seq_make(c, s->dtype, cap);
    if (!ns)
        return NULL;
    if (pos)
        memcpy(ns->items, s->items, (size_t)pos * sizeof *ns->items);
    ns->items[pos] = *t;
    if (n > pos)
        memcpy(ns->items + pos + 1, s->items + pos, (size_t)(n - pos) * sizeof *ns->items);
    ns->length = n + 1;
    *ns->used = n + 1;
    *r = *ns;
    return r;
}
