/* cumsum.c — CumSum (opsets 11 and 14; 14 adds float16 and bfloat16),
 * plain C: running sums along the axis given by input 1 (an int32/int64
 * scalar or one-element vector, read at run time: the output's shape does
 * not depend on it), inclusive or exclusive, forward or reverse. Floating
 * sums are carried in double and rounded once per output element (as
 * PyTorch's CPU kernel accumulates float32 in double); integer sums wrap
 * modulo 2^bits, as numpy's do.
 */
#include <stdbool.h>
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

#define CUMSUM_DTYPES                                                                              \
    (ORTC_DTYPES_FLOAT | ORTC_DT(INT32) | ORTC_DT(INT64) | ORTC_DT(UINT32) | ORTC_DT(UINT64))

/* The axis from input 1 when its value is known; -1 otherwise. */
static ortc_status cumsum_axis(ortc_opctx *c, int *axis)
{
    const ortc_tensor *a = c->in[1], *x = c->in[0];
    char s[128];
    if (a->rank > 1 || (a->rank == 1 && a->dims[0] != 1))
        return ortc_op_error(
            c, ORTC_STATUS_INVALID_MODEL, "input 1 '%s' (axis) has shape %s; expected a scalar",
            ortc_plain_input_name(c, 1), ortc_shape_str(s, sizeof s, a->rank, a->dims));
    *axis = -1;
    if (!a->data)
        return ORTC_STATUS_OK;
    int64_t v = ortc_tensor_get_int(a, 0);
    if (v < -x->rank || v >= x->rank)
        return ortc_op_error(c, ortc_plain_value_status(c, 1),
                             "axis %lld (input 1 '%s') is out of range for input 0 '%s' of rank "
                             "%d (valid: %d..%d)",
                             (long long)v, ortc_plain_input_name(c, 1), ortc_plain_input_name(c, 0),
                             x->rank, -x->rank, x->rank - 1);
    *axis = (int)(v < 0 ? v + x->rank : v);
    return ORTC_STATUS_OK;
}

/* The checks, then *axis as cumsum_axis gives it. */
static ortc_status cumsum_check(ortc_opctx *c, int *axis)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(ortc_op_check_dtype(c, 1, ORTC_DTYPE_INT32, ORTC_DTYPE_INT64, ORTC_DTYPE_UNDEFINED));
    ORTC_TRY(ortc_op_check_attr(c, "exclusive", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "reverse", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_min_rank(c, 0, 1, NULL));
    return cumsum_axis(c, axis);
}

static ortc_status cumsum_infer(ortc_opctx *c)
{
    int axis;
    ortc_status st = cumsum_check(c, &axis);
    if (!st)
        ortc_op_set_output(c, 0, c->in[0]->dtype, c->in[0]->rank, c->in[0]->dims);
    return st;
}

// x, y: (outer, n, inner); along n: y[j] = sum of x[i] for i before j
// (exclusive) or up to j (inclusive), counted from the end when reversed.
#define DEFINE_CUMSUM(NAME, T, ACC_T, LOAD, STORE)                                                 \
    static void NAME(void *yv, const void *xv, int64_t outer, int64_t n, int64_t inner,            \
                     bool exclusive, bool reverse)                                                 \
    {                                                                                              \
        T *y = yv;                                                                                 \
        const T *x = xv;                                                                           \
        for (int64_t o = 0; o < outer; o++)                                                        \
            for (int64_t i = 0; i < inner; i++) {                                                  \
                int64_t base = o * n * inner + i;                                                  \
                ACC_T acc = 0;                                                                     \
                for (int64_t j = 0; j < n; j++) {                                                  \
                    int64_t at = base + (reverse ? n - 1 - j : j) * inner;                         \
                    ACC_T v = LOAD(x[at]);                                                         \
                    if (exclusive) {                                                               \
                        y[at] = STORE(acc);                                                        \
                        acc += v;                                                                  \
                    } else {                                                                       \
                        acc += v;                                                                  \
                        y[at] = STORE(acc);                                                        \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    }

#define LOAD_PLAIN(v) (v)
#define LOAD_U64(v) ((uint64_t)(v)) /* wrap-around sums: unsigned arithmetic */
#define LOAD_F16(v) ((double)ortc_f16_to_float(v))
#define LOAD_BF16(v) ((double)ortc_bf16_to_float(v))
#define STORE_F32(a) ((float)(a))
#define STORE_F64(a) (a)
#define STORE_I32(a) ((int32_t)(uint32_t)(a))
#define STORE_I64(a) ((int64_t)(a))
#define STORE_U32(a) ((uint32_t)(a))
#define STORE_U64(a) (a)
#define STORE_F16(a) ortc_f16_from_double(a)
#define STORE_BF16(a) ortc_bf16_from_double(a)

DEFINE_CUMSUM(cumsum_f32, float, double, LOAD_PLAIN, STORE_F32)
DEFINE_CUMSUM(cumsum_f64, double, double, LOAD_PLAIN, STORE_F64)
DEFINE_CUMSUM(cumsum_f16, uint16_t, double, LOAD_F16, STORE_F16)
DEFINE_CUMSUM(cumsum_bf16, uint16_t, double, LOAD_BF16, STORE_BF16)
DEFINE_CUMSUM(cumsum_i32, int32_t, uint64_t, LOAD_U64, STORE_I32)
DEFINE_CUMSUM(cumsum_i64, int64_t, uint64_t, LOAD_U64, STORE_I64)
DEFINE_CUMSUM(cumsum_u32, uint32_t, uint64_t, LOAD_U64, STORE_U32)
DEFINE_CUMSUM(cumsum_u64, uint64_t, uint64_t, LOAD_U64, STORE_U64)

static ortc_status cumsum_run(ortc_opctx *c)
{
    int axis;
    ORTC_TRY(cumsum_check(c, &axis));
    const ortc_tensor *x = c->in[0];
    int64_t outer = ortc_plain_span(x->dims, 0, axis), n = x->dims[axis],
            inner = ortc_plain_span(x->dims, axis + 1, x->rank);
    bool exclusive = ortc_node_attr_int(c->node, "exclusive", 0) != 0,
         reverse = ortc_node_attr_int(c->node, "reverse", 0) != 0;
    if (outer * n * inner == 0)
        return ORTC_STATUS_OK;
    void *y = c->out[0]->data;
    switch (x->dtype) {
#define CASE(D, fn)                                                                                \
    case ORTC_DTYPE_##D: fn(y, x->data, outer, n, inner, exclusive, reverse); break
        CASE(FLOAT, cumsum_f32);
        CASE(DOUBLE, cumsum_f64);
        CASE(FLOAT16, cumsum_f16);
        CASE(BFLOAT16, cumsum_bf16);
        CASE(INT32, cumsum_i32);
        CASE(INT64, cumsum_i64);
        CASE(UINT32, cumsum_u32);
        CASE(UINT64, cumsum_u64);
#undef CASE
    default:
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "CumSum on dtype %s",
                             ortc_dtype_name(x->dtype));
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_cumsum[] = {
    ORTC_OP("CumSum", 11, 11, .dtypes = CUMSUM_DTYPES, .infer = cumsum_infer, .run = cumsum_run),
    ORTC_OP("CumSum", 14, 14, .dtypes = CUMSUM_DTYPES | ORTC_DT(FLOAT16) | ORTC_DT(BFLOAT16),
            .infer = cumsum_infer, .run = cumsum_run),
};
ORTC_OP_TABLE_END(cumsum);
