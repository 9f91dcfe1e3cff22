/* binary.c — Add, Sub, Mul, Div (opsets 1, 6, 7, 13, 14) with numpy
 * broadcasting (opset >= 7) or the legacy `broadcast`/`axis` attributes
 * (opsets 1 and 6). float32 runs on oneDNN's binary primitive, which only
 * broadcasts its second source: when only A broadcasts, Add/Mul swap the
 * operands and Sub computes -(B - A) exactly; Div with a broadcast A, and
 * broadcasting on both sides, run the plain-C kernel. int32, int64 and
 * float64 always run plain C (they feed shape arithmetic); integer Div
 * truncates toward zero and x / 0 gives 0.
 */
#include <stdlib.h>
#include <string.h>

#include "dnnl_util.h"
#include "reference.h"

typedef struct binary_state {
    bool use_ref; /* not float32, or a broadcast oneDNN cannot do: plain C */
    bool swap;    /* src0 = B, src1 = A */
    ortc_dnnl_step step;
    dnnl_memory_t src0, src1, dst;
} binary_state;

/* A validated node: the op, dtype, output dims and both operands' dims
 * right-aligned (padded with 1s) to the output rank. */
typedef struct binary_info {
    ortc_binary_op op;
    ortc_dtype dtype;
    int rank;
    int64_t dims[ORTC_MAX_RANK], a_dims[ORTC_MAX_RANK], b_dims[ORTC_MAX_RANK];
} binary_info;

static ortc_binary_op op_of(const char *op_type)
{
    if (!strcmp(op_type, "Sub"))
        return ORTC_BINARY_SUB;
    if (!strcmp(op_type, "Mul"))
        return ORTC_BINARY_MUL;
    if (!strcmp(op_type, "Div"))
        return ORTC_BINARY_DIV;
    return ORTC_BINARY_ADD;
}

static void pad_dims(int rank, int64_t *out, int r, const int64_t *dims)
{
    for (int i = 0; i < rank; i++)
        out[i] = i < rank - r ? 1 : dims[i - (rank - r)];
}

/* Opsets 1 and 6: without broadcast=1 the shapes must match; with it, B's
 * shape lines up with A's starting at `axis` (default: A's trailing dims). */
static ortc_status legacy_shapes(ortc_opctx *c, binary_info *bi)
{
    const ortc_tensor *a = c->in[0], *b = c->in[1];
    ortc_status st;
    if ((st = ortc_op_check_attr(c, "broadcast", ORTC_ATTR_INT)) ||
        (st = ortc_op_check_attr(c, "axis", ORTC_ATTR_INT)))
        return st;
    char sa[128], sb[128];
    ortc_shape_str(sa, sizeof sa, a->rank, a->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    bi->rank = a->rank;
    for (int i = 0; i < a->rank; i++)
        bi->dims[i] = bi->a_dims[i] = a->dims[i];
    if (ortc_node_attr_int(c->node, "broadcast", 0) == 0) {
        bool same = a->rank == b->rank;
        for (int i = 0; same && i < a->rank; i++)
            same = a->dims[i] == b->dims[i];
        if (!same)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "shapes %s and %s differ and attribute 'broadcast' is 0", sa, sb);
        for (int i = 0; i < a->rank; i++)
            bi->b_dims[i] = b->dims[i];
        return ORTC_STATUS_OK;
    }
    int64_t axis = ortc_node_attr_int(c->node, "axis", a->rank - b->rank);
    if (b->rank > a->rank || axis < 0 || axis + b->rank > a->rank)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "B %s does not fit in A %s at axis %lld (legacy broadcast)", sb, sa,
                             (long long)axis);
    for (int i = 0; i < a->rank; i++)
        bi->b_dims[i] = 1;
    for (int i = 0; i < b->rank; i++) {
        int64_t da = a->dims[axis + i], db = b->dims[i];
        if (db != da && db != 1)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "B %s does not match A %s at axis %lld (dim %lld: %lld vs %lld)",
                                 sb, sa, (long long)axis, (long long)(axis + i), (long long)db,
                                 (long long)da);
        bi->b_dims[axis + i] = db;
    }
    return ORTC_STATUS_OK;
}

static ortc_status binary_check(ortc_opctx *c, binary_info *bi)
{
    ortc_status st;
    if ((st = ortc_op_check_arity(c, 2, 2, 1, 1)))
        return st;
    const ortc_tensor *a = c->in[0], *b = c->in[1];
    bi->op = op_of(c->node->op_type);
    bi->dtype = a->dtype;
    switch (a->dtype) {
    case ORTC_DTYPE_FLOAT:
    case ORTC_DTYPE_DOUBLE:
    case ORTC_DTYPE_INT32:
    case ORTC_DTYPE_INT64:
        break;
    default:
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "%s on dtype %s is not supported (float32, float64, int32, int64)",
                             c->node->op_type, ortc_dtype_name(a->dtype));
    }
    if (b->dtype != a->dtype)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inputs '%s' (%s) and '%s' (%s) have different dtypes",
                             c->node->inputs[0]->name, ortc_dtype_name(a->dtype),
                             c->node->inputs[1]->name, ortc_dtype_name(b->dtype));
    int version = c->node->op ? c->node->op->since_version : c->node->opset;
    if (version < 7)
        return legacy_shapes(c, bi);
    if ((st = ortc_op_broadcast(c, a, b, &bi->rank, bi->dims)))
        return st;
    pad_dims(bi->rank, bi->a_dims, a->rank, a->dims);
    pad_dims(bi->rank, bi->b_dims, b->rank, b->dims);
    return ORTC_STATUS_OK;
}

static ortc_status binary_infer(ortc_opctx *c)
{
    binary_info bi;
    ortc_status st = binary_check(c, &bi);
    if (st)
        return st;
    ortc_op_set_output(c, 0, bi.dtype, bi.rank, bi.dims);
    return ORTC_STATUS_OK;
}

static ortc_status binary_reference(ortc_opctx *c)
{
    binary_info bi;
    ortc_status st = binary_check(c, &bi);
    if (st)
        return st;
    ortc_bcast bc;
    ortc_bcast_init(&bc, bi.rank, bi.dims, bi.rank, bi.a_dims, bi.rank, bi.b_dims);
    void *y = c->out[0]->data;
    const void *a = c->in[0]->data, *b = c->in[1]->data;
    switch (bi.dtype) {
    case ORTC_DTYPE_FLOAT: ortc_ref_binary_f32(y, a, b, bi.op, &bc); break;
    case ORTC_DTYPE_DOUBLE: ortc_ref_binary_f64(y, a, b, bi.op, &bc); break;
    case ORTC_DTYPE_INT32: ortc_ref_binary_i32(y, a, b, bi.op, &bc); break;
    case ORTC_DTYPE_INT64: ortc_ref_binary_i64(y, a, b, bi.op, &bc); break;
    default:
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "%s on dtype %s is not supported",
                             c->node->op_type, ortc_dtype_name(bi.dtype));
    }
    return ORTC_STATUS_OK;
}

static bool dims_equal(int rank, const int64_t *x, const int64_t *y)
{
    for (int i = 0; i < rank; i++)
        if (x[i] != y[i])
            return false;
    return true;
}

/* Shortest equivalent shapes for oneDNN: output dims of 1 dropped, and
 * neighbours merged when src1 broadcasts both or neither. */
static int collapse(int rank, const int64_t *dims, const int64_t *s1, int64_t *out_dims,
                    int64_t *out_s1)
{
    int r = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 1)
            continue;
        bool bc = s1[i] == 1;
        if (r > 0 && (out_s1[r - 1] == 1) == bc) {
            out_dims[r - 1] *= dims[i];
            out_s1[r - 1] = bc ? 1 : out_s1[r - 1] * s1[i];
        } else {
            out_dims[r] = dims[i];
            out_s1[r] = s1[i];
            r++;
        }
    }
    if (r == 0) {
        out_dims[0] = out_s1[0] = 1;
        r = 1;
    }
    return r;
}

static ortc_status binary_build(ortc_opctx *c, binary_state *s)
{
    binary_info bi;
    ortc_status st = binary_check(c, &bi);
    if (st)
        return st;
    bool a_full = dims_equal(bi.rank, bi.a_dims, bi.dims);
    bool b_full = dims_equal(bi.rank, bi.b_dims, bi.dims);
    if (a_full && c->inplace)
        c->inplace[0] = 0; /* y[i] depends on a[i] alone: y may overwrite A */
    int64_t numel = 1;
    for (int i = 0; i < bi.rank; i++)
        numel *= bi.dims[i];
    if (bi.dtype != ORTC_DTYPE_FLOAT || numel == 0 || (!a_full && !b_full) ||
        (!a_full && bi.op == ORTC_BINARY_DIV)) {
        s->use_ref = true; /* see the note at the top of the file */
        return ORTC_STATUS_OK;
    }
    s->swap = !a_full;
    const int64_t *s1 = s->swap ? bi.a_dims : bi.b_dims;
    int64_t dims[ORTC_MAX_RANK], d1[ORTC_MAX_RANK];
    int r = collapse(bi.rank, bi.dims, s1, dims, d1);

    dnnl_memory_desc_t md0, md1, mdy;
    if ((st = ortc_dnnl_md_plain(c, &md0, r, dims)) ||
        (st = ortc_dnnl_md_plain(c, &md1, r, d1)) || (st = ortc_dnnl_md_plain(c, &mdy, r, dims)))
        return st;
    static const dnnl_alg_kind_t algs[] = {
        [ORTC_BINARY_ADD] = dnnl_binary_add,
        [ORTC_BINARY_SUB] = dnnl_binary_sub,
        [ORTC_BINARY_MUL] = dnnl_binary_mul,
        [ORTC_BINARY_DIV] = dnnl_binary_div,
    };
    dnnl_binary_desc_t desc;
    DNNL_CHECK(c, dnnl_binary_desc_init(&desc, algs[bi.op], &md0, &md1, &mdy));

    dnnl_primitive_attr_t attr;
    if ((st = ortc_dnnl_attr_new(c, &attr)))
        return st;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t ds = dnnl_success;
    if (s->swap && bi.op == ORTC_BINARY_SUB) {
        /* A - B == -(B - A) exactly in IEEE arithmetic */
        ds = dnnl_post_ops_create(&po);
        if (ds == dnnl_success)
            ds = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear, -1.0f, 0.0f);
        if (ds == dnnl_success)
            ds = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    dnnl_primitive_desc_t pd = NULL;
    bool unimpl = false;
    if (ds == dnnl_success)
        st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    if (po)
        dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    if (ds != dnnl_success)
        return ortc_dnnl_error(c, ds, "negating post-op for swapped Sub", __FILE__, __LINE__);
    if (st)
        return st;
    if (unimpl) {
        s->use_ref = true;
        return ORTC_STATUS_OK;
    }
    st = ortc_dnnl_step_create(c, &s->step, pd);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_SRC_0, &md0, &s->src0);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_SRC_1, &md1, &s->src1);
    if (!st)
        st = ortc_dnnl_step_mem(c, &s->step, DNNL_ARG_DST, &mdy, &s->dst);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static void binary_release(ortc_opctx *c)
{
    binary_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_step_free(&s->step);
    if (s->src0)
        dnnl_memory_destroy(s->src0);
    if (s->src1)
        dnnl_memory_destroy(s->src1);
    if (s->dst)
        dnnl_memory_destroy(s->dst);
    free(s);
    c->state = NULL;
}

static ortc_status binary_prepare(ortc_opctx *c)
{
    binary_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing %s",
                             c->node->op_type);
    c->state = s;
    ortc_status st = binary_build(c, s);
    if (st)
        binary_release(c);
    return st;
}

static ortc_status binary_run(ortc_opctx *c)
{
    binary_state *s = c->state;
    if (!s || s->use_ref)
        return binary_reference(c);
    ortc_status st;
    if ((st = ortc_dnnl_set(c, s->src0, c->in[s->swap ? 1 : 0]->data)) ||
        (st = ortc_dnnl_set(c, s->src1, c->in[s->swap ? 0 : 1]->data)) ||
        (st = ortc_dnnl_set(c, s->dst, c->out[0]->data)))
        return st;
    return ortc_dnnl_step_run(c, &s->step);
}

#define BINARY_OP(name, version)                                                             \
    {                                                                                        \
        .domain = "", .op_type = (name), .since_version = (version), .infer = binary_infer,  \
        .prepare = binary_prepare, .run = binary_run, .release = binary_release,             \
        .reference = binary_reference,                                                       \
    }

#define BINARY_VERSIONS(name)                                                                \
    BINARY_OP(name, 1), BINARY_OP(name, 6), BINARY_OP(name, 7), BINARY_OP(name, 13),         \
        BINARY_OP(name, 14)

const ortc_operator ortc_ops_binary[] = {
    BINARY_VERSIONS("Add"),
    BINARY_VERSIONS("Sub"),
    BINARY_VERSIONS("Mul"),
    BINARY_VERSIONS("Div"),
};
const size_t ortc_ops_binary_count = sizeof ortc_ops_binary / sizeof ortc_ops_binary[0];
