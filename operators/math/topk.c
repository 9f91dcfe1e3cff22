/* topk.c — TopK (opsets 1, 10, 11): the k largest (or smallest) elements
 * along an axis and their int64 indices, plain C, every dtype of the spec.
 * Ties go to the lower index (ONNX's rule); NaN ranks above every number,
 * as in numpy's and torch's orderings. k is an attribute (TopK-1) or input
 * 1, which must be known when the plan is compiled (a constant, or a graph
 * input keying the plan through data_inputs); a k computed at run time
 * needs the dynamic-shape runtime. Results are always sorted best first
 * (with sorted=0 the spec leaves the order open).
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "op_util.h"
#include "operator.h"
#include "plain_util.h"

/* TopK-1 and 10 take float types only; 11 adds the integers. */
#define TOPK_FLOAT_DTYPES (ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16))
#define TOPK_DTYPES (TOPK_FLOAT_DTYPES | ORTC_DTYPES_INT)

typedef struct topk_params {
    int axis;
    int64_t k;
    int64_t outer, n, inner; /* x viewed as (outer, n, inner), n along axis */
    bool largest;
} topk_params;

/* k from the attribute (TopK-1) or input 1; an error when unknown. */
static ortc_status topk_read_k(ortc_opctx *c, int64_t *k)
{
    if (ortc_op_version(c) < 10) {
        if (!ortc_node_attr(c->node, "k"))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "required attribute 'k' is missing");
        *k = ortc_node_attr_int(c->node, "k", 0);
        return ORTC_STATUS_OK;
    }
    const ortc_tensor *kt = c->in[1];
    if (kt->dtype != ORTC_DTYPE_INT64)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 1 '%s' (K) has dtype %s; expected int64",
                             ortc_plain_input_name(c, 1), ortc_dtype_name(kt->dtype));
    if (kt->rank > 1 || ortc_tensor_numel(kt) != 1)
        return ortc_op_shape_error(c, 1, "K", "expected one value (shape [1])");
    if (!kt->data)
        return ortc_plain_data_unknown(c, 1, "K");
    *k = ortc_tensor_get_int(kt, 0);
    return ORTC_STATUS_OK;
}

static ortc_status topk_check(ortc_opctx *c, topk_params *p)
{
    int version = ortc_op_version(c);
    int n_in = version < 10 ? 1 : 2;
    ORTC_TRY(ortc_op_check_arity(c, n_in, n_in, 2, 2));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_attr(c, "axis", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "k", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "largest", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "sorted", ORTC_ATTR_INT));
    if (version >= 10 && ortc_node_attr(c->node, "k"))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'k' exists only in TopK-1; from TopK-10 on k is input 1");
    if (version < 11 && (ortc_node_attr(c->node, "largest") || ortc_node_attr(c->node, "sorted")))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attributes 'largest' and 'sorted' exist from TopK-11 on");
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    const ortc_tensor *x = c->in[0];
    ORTC_TRY(ortc_op_axis(c, ortc_node_attr_int(c->node, "axis", -1), x->rank, &p->axis));
    ORTC_TRY(topk_read_k(c, &p->k));
    p->n = x->dims[p->axis];
    if (p->k < 0 || (p->n >= 0 && p->k > p->n))
        return ortc_op_error(c, ortc_plain_value_status(c, 1),
                             "k is %lld; it must lie in 0..%lld (dim %d of input 0 '%s')",
                             (long long)p->k, (long long)p->n, p->axis,
                             ortc_plain_input_name(c, 0));
    p->largest = ortc_node_attr_int(c->node, "largest", 1) != 0;
    p->outer = ortc_plain_span(x->dims, 0, p->axis);
    p->inner = ortc_plain_span(x->dims, p->axis + 1, x->rank);
    return ORTC_STATUS_OK;
}

static ortc_status topk_infer(ortc_opctx *c)
{
    topk_params p;
    ORTC_TRY(topk_check(c, &p));
    const ortc_tensor *x = c->in[0];
    int64_t dims[ORTC_MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[p.axis] = p.k;
    ortc_op_set_output(c, 0, x->dtype, x->rank, dims);
    ortc_op_set_output(c, 1, ORTC_DTYPE_INT64, x->rank, dims);
    return ORTC_STATUS_OK;
}

/* scratch: the selection heap of one row, k indices */
static ortc_status topk_prepare(ortc_opctx *c)
{
    topk_params p;
    ORTC_TRY(topk_check(c, &p));
    c->scratch_bytes = (size_t)p.k * sizeof(int64_t);
    return ORTC_STATUS_OK;
}

/* ---- the selection ----------------------------------------------------------
 * One row: n elements x[i * s]. A heap of the best k indices seen so far
 * keeps the worst of them at its root; an element better than the root
 * replaces it. Sorting the heap in place then leaves heap[0..k) best first.
 * BEFORE(a, b): element a ranks before element b. */

/* float keys: NaN above everything, NaNs equal among themselves */
static inline bool key_gt(double a, double b)
{
    return isnan(a) ? !isnan(b) : a > b;
}

static inline bool key_eq(double a, double b)
{
    return isnan(a) ? isnan(b) : a == b;
}

#define DEFINE_TOPK_ROW(NAME, T, KEY_T, KEY, GT, EQ)                                               \
    static inline bool NAME##_before(const T *x, int64_t s, bool largest, int64_t a, int64_t b)    \
    {                                                                                              \
        KEY_T va = KEY(x[a * s]), vb = KEY(x[b * s]);                                              \
        if (EQ(va, vb))                                                                            \
            return a < b;                                                                          \
        return largest ? GT(va, vb) : GT(vb, va);                                                  \
    }                                                                                              \
    /* heap[0..len): every parent ranks after its children (the worst at 0) */                     \
    static void NAME##_sift(int64_t *heap, int64_t len, int64_t at, const T *x, int64_t s,         \
                            bool largest)                                                          \
    {                                                                                              \
        for (;;) {                                                                                 \
            int64_t l = 2 * at + 1, r = l + 1, w = at;                                             \
            if (l < len && NAME##_before(x, s, largest, heap[w], heap[l]))                         \
                w = l;                                                                             \
            if (r < len && NAME##_before(x, s, largest, heap[w], heap[r]))                         \
                w = r;                                                                             \
            if (w == at)                                                                           \
                return;                                                                            \
            int64_t t = heap[at];                                                                  \
            heap[at] = heap[w];                                                                    \
            heap[w] = t;                                                                           \
            at = w;                                                                                \
        }                                                                                          \
    }                                                                                              \
    /* x: (n) with stride s; vals, idx: (k) with stride s */                                       \
    static void NAME(T *vals, int64_t *idx, const T *x, int64_t n, int64_t k, int64_t s,           \
                     bool largest, int64_t *heap)                                                  \
    {                                                                                              \
        for (int64_t i = 0; i < k; i++)                                                            \
            heap[i] = i;                                                                           \
        for (int64_t i = k / 2 - 1; i >= 0; i--)                                                   \
            NAME##_sift(heap, k, i, x, s, largest);                                                \
        for (int64_t i = k; i < n; i++)                                                            \
            if (NAME##_before(x, s, largest, i, heap[0])) {                                        \
                heap[0] = i;                                                                       \
                NAME##_sift(heap, k, 0, x, s, largest);                                            \
            }                                                                                      \
        for (int64_t len = k; len > 1; len--) {                                                    \
            int64_t t = heap[0];                                                                   \
            heap[0] = heap[len - 1];                                                               \
            heap[len - 1] = t;                                                                     \
            NAME##_sift(heap, len - 1, 0, x, s, largest);                                          \
        }                                                                                          \
        for (int64_t j = 0; j < k; j++) {                                                          \
            vals[j * s] = x[heap[j] * s];                                                          \
            idx[j * s] = heap[j];                                                                  \
        }                                                                                          \
    }

#define KEY_SAME(v) (v)
#define KEY_F16(v) ((double)ortc_f16_to_float(v))
#define INT_GT(a, b) ((a) > (b))
#define INT_EQ(a, b) ((a) == (b))

DEFINE_TOPK_ROW(topk_f32, float, double, KEY_SAME, key_gt, key_eq)
DEFINE_TOPK_ROW(topk_f64, double, double, KEY_SAME, key_gt, key_eq)
DEFINE_TOPK_ROW(topk_f16, uint16_t, double, KEY_F16, key_gt, key_eq)
DEFINE_TOPK_ROW(topk_i8, int8_t, int8_t, KEY_SAME, INT_GT, INT_EQ)
DEFINE_TOPK_ROW(topk_i16, int16_t, int16_t, KEY_SAME, INT_GT, INT_EQ)
DEFINE_TOPK_ROW(topk_i32, int32_t, int32_t, KEY_SAME, INT_GT, INT_EQ)
DEFINE_TOPK_ROW(topk_i64, int64_t, int64_t, KEY_SAME, INT_GT, INT_EQ)
DEFINE_TOPK_ROW(topk_u8, uint8_t, uint8_t, KEY_SAME, INT_GT, INT_EQ)
DEFINE_TOPK_ROW(topk_u16, uint16_t, uint16_t, KEY_SAME, INT_GT, INT_EQ)
DEFINE_TOPK_ROW(topk_u32, uint32_t, uint32_t, KEY_SAME, INT_GT, INT_EQ)
DEFINE_TOPK_ROW(topk_u64, uint64_t, uint64_t, KEY_SAME, INT_GT, INT_EQ)

static ortc_status topk_run(ortc_opctx *c)
{
    topk_params p;
    ORTC_TRY(topk_check(c, &p));
    const ortc_tensor *x = c->in[0];
    if (c->out[0]->dims[p.axis] != p.k)
        return ortc_op_error(c, ORTC_STATUS_INVALID_ARGUMENT,
                             "k is %lld at run time but the plan was compiled for k = %lld",
                             (long long)p.k, (long long)c->out[0]->dims[p.axis]);
    if (p.k == 0 || p.outer == 0 || p.inner == 0)
        return ORTC_STATUS_OK; /* empty outputs */
    int64_t *heap = c->scratch, *idx = c->out[1]->data;
    size_t elem = ortc_dtype_size(x->dtype);
    for (int64_t o = 0; o < p.outer; o++)
        for (int64_t i = 0; i < p.inner; i++) {
            int64_t in_off = o * p.n * p.inner + i, out_off = o * p.k * p.inner + i;
            const char *xr = (const char *)x->data + in_off * (int64_t)elem;
            char *vr = (char *)c->out[0]->data + out_off * (int64_t)elem;
            int64_t *ir = idx + out_off;
            switch (x->dtype) {
#define ROW(T, fn)                                                                                 \
    fn((T *)vr, ir, (const T *)xr, p.n, p.k, p.inner, p.largest, heap);                            \
    break
            case ORTC_DTYPE_FLOAT: ROW(float, topk_f32);
            case ORTC_DTYPE_DOUBLE: ROW(double, topk_f64);
            case ORTC_DTYPE_FLOAT16: ROW(uint16_t, topk_f16);
            case ORTC_DTYPE_INT8: ROW(int8_t, topk_i8);
            case ORTC_DTYPE_INT16: ROW(int16_t, topk_i16);
            case ORTC_DTYPE_INT32: ROW(int32_t, topk_i32);
            case ORTC_DTYPE_INT64: ROW(int64_t, topk_i64);
            case ORTC_DTYPE_UINT8: ROW(uint8_t, topk_u8);
            case ORTC_DTYPE_UINT16: ROW(uint16_t, topk_u16);
            case ORTC_DTYPE_UINT32: ROW(uint32_t, topk_u32);
            case ORTC_DTYPE_UINT64: ROW(uint64_t, topk_u64);
#undef ROW
            default:
                return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "TopK on dtype %s",
                                     ortc_dtype_name(x->dtype));
            }
        }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

#define TOPK_CALLBACKS .infer = topk_infer, .prepare = topk_prepare, .run = topk_run

const ortc_operator ortc_ops_topk[] = {
    ORTC_OP("TopK", 1, 1, .dtypes = TOPK_FLOAT_DTYPES, TOPK_CALLBACKS),
    /* k is input 1: needed at compile time */
    ORTC_OP("TopK", 10, 10, .dtypes = TOPK_FLOAT_DTYPES, .data_inputs = 1u << 1, TOPK_CALLBACKS),
    ORTC_OP("TopK", 11, 11, .dtypes = TOPK_DTYPES, .data_inputs = 1u << 1, TOPK_CALLBACKS),
};
ORTC_OP_TABLE_END(topk);
