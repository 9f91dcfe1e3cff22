/* binary.c — elementwise arithmetic with numpy broadcasting: Add, Sub, Mul,
 * Div (opsets 1, 6, 7, 13, 14), Pow (1, 7, 12, 13, 15), Mod (10, 13), and
 * the variadic Sum, Mean (1, 6, 8, 13), Min, Max (1, 6, 8, 12, 13). Before
 * opset 7 two-input ops use the legacy `broadcast`/`axis` attributes; before
 * opset 8 the variadic ops need equal shapes.
 *
 * float32 Add/Sub/Mul/Div/Sum/Mean run on oneDNN's binary primitive, which
 * only broadcasts its second source: when only A broadcasts, Add/Mul swap
 * the operands and Sub computes -(B - A) (equal in value; a zero may come
 * out as -0); Div with a broadcast A, broadcasting on both sides, and
 * Sum/Mean where no input has the output's shape run plain C. Everything
 * else is plain C: Min/Max because oneDNN's max/min drop a NaN in the first
 * source (ONNX follows numpy: NaN wins), Pow and Mod because oneDNN has no
 * such binary algorithm. Integers wrap on overflow; x / 0 and x % 0 give 0.
 * float16 is computed in double and rounded once (exact for + - * / %).
 * Broadcasting itself (shapes, the row walker) is broadcast.c's.
 * An Add of two operands of one shape describes itself as a fused "sum"
 * post-op (binary_post_op, operator.h's fusion contract). Add, Sub, Mul and
 * Div take blocked inputs (a convolution's output: squeeze-excite's scale,
 * residual sums): the output keeps the full operand's layout
 * (blocked_bin_init); where that is not possible they run plain C on plain
 * copies.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "broadcast.h"
#include "dnnl_prim.h"
#include "error.h"
#include "plain_util.h"

/* ==== element kernels ======================================================= */

#define H2D(h) ((double)ortc_f16_to_float(h))
#define H_OP(op, x, w) ortc_f16_from_double(H2D(x) op H2D(w))

/* Integer + - * in uint64_t so overflow wraps instead of being undefined. */
#define ADD_U(T, x, w) (T)((uint64_t)(x) + (uint64_t)(w))
#define ADD_S ADD_U
#define ADD_F(T, x, w) (T)((x) + (w))
#define ADD_H(T, x, w) H_OP(+, x, w)
#define SUB_U(T, x, w) (T)((uint64_t)(x) - (uint64_t)(w))
#define SUB_S SUB_U
#define SUB_F(T, x, w) (T)((x) - (w))
#define SUB_H(T, x, w) H_OP(-, x, w)
#define MUL_U(T, x, w) (T)((uint64_t)(x) * (uint64_t)(w))
#define MUL_S MUL_U
#define MUL_F(T, x, w) (T)((x) * (w))
#define MUL_H(T, x, w) H_OP(*, x, w)
/* Integer division truncates toward zero; x / 0 is 0; MIN / -1 wraps. */
#define DIV_U(T, x, w) ((w) ? (T)((x) / (w)) : (T)0)
#define DIV_S(T, x, w) ((w) == 0 ? (T)0 : (w) == -1 ? (T)(0 - (uint64_t)(x)) : (T)((x) / (w)))
#define DIV_F(T, x, w) (T)((x) / (w))
#define DIV_H(T, x, w) H_OP(/, x, w)
/* Min/Max: a NaN operand wins, like numpy's minimum/maximum. */
#define MIN_U(T, x, w) ((x) < (w) ? (x) : (w))
#define MIN_S MIN_U
#define MIN_F(T, x, w) ((x) < (w) || isnan(x) ? (x) : (w))
#define MIN_H(T, x, w) (H2D(x) < H2D(w) || isnan(H2D(x)) ? (x) : (w))
#define MAX_U(T, x, w) ((x) > (w) ? (x) : (w))
#define MAX_S MAX_U
#define MAX_F(T, x, w) ((x) > (w) || isnan(x) ? (x) : (w))
#define MAX_H(T, x, w) (H2D(x) > H2D(w) || isnan(H2D(x)) ? (x) : (w))
/* Mod, fmod=1: C's remainder (sign of the dividend); x % 0 is 0. */
#define FMOD_U(T, x, w) ((w) ? (T)((x) % (w)) : (T)0)
#define FMOD_S(T, x, w) ((w) == 0 || (w) == -1 ? (T)0 : (T)((x) % (w)))
#define FMOD_F(T, x, w) (T) fmod((double)(x), (double)(w))
#define FMOD_H(T, x, w) ortc_f16_from_double(fmod(H2D(x), H2D(w)))
/* Mod, fmod=0 (integers only): Python's %, the sign of the divisor. */
#define PMOD_U FMOD_U
#define PMOD_S(T, x, w) (T) pymod((int64_t)(x), (int64_t)(w))

static int64_t pymod(int64_t x, int64_t w)
{
    if (w == 0 || w == -1)
        return 0;
    int64_t r = x % w;
    if (r != 0 && (r < 0) != (w < 0))
        r += w;
    return r;
}

typedef enum ew_op { EW_ADD, EW_SUB, EW_MUL, EW_DIV, EW_MIN, EW_MAX, EW_FMOD, EW_PMOD } ew_op;

#define DEF_ROWS(name, T, K, DT)                                                                   \
    ORTC_EW_ROW2(add_##name, T, T, T, ADD_##K(T, x, w))                                            \
    ORTC_EW_ROW2(sub_##name, T, T, T, SUB_##K(T, x, w))                                            \
    ORTC_EW_ROW2(mul_##name, T, T, T, MUL_##K(T, x, w))                                            \
    ORTC_EW_ROW2(div_##name, T, T, T, DIV_##K(T, x, w))                                            \
    ORTC_EW_ROW2(min_##name, T, T, T, MIN_##K(T, x, w))                                            \
    ORTC_EW_ROW2(max_##name, T, T, T, MAX_##K(T, x, w))                                            \
    ORTC_EW_ROW2(fmod_##name, T, T, T, FMOD_##K(T, x, w))
ORTC_EW_NUMERIC(DEF_ROWS)
#define DEF_PMOD(name, T, K, DT) ORTC_EW_ROW2(pmod_##name, T, T, T, PMOD_##K(T, x, w))
ORTC_EW_INTS(DEF_PMOD)

/* The row kernel for op on dt; NULL when there is none. */
static ortc_ew_row2 ew_row(ew_op op, ortc_dtype dt)
{
    switch (dt) {
#define ROW_CASE(name, T, K, DT)                                                                   \
    case DT: {                                                                                     \
        static const ortc_ew_row2 rows[] = {add_##name, sub_##name, mul_##name, div_##name,        \
                                            min_##name, max_##name, fmod_##name};                  \
        return op < (int)(sizeof rows / sizeof rows[0]) ? rows[op] : NULL;                         \
    }
        ORTC_EW_NUMERIC(ROW_CASE)
    default: return NULL;
    }
}

static ortc_ew_row2 pmod_row(ortc_dtype dt)
{
    switch (dt) {
#define PMOD_CASE(name, T, K, DT)                                                                  \
    case DT: return pmod_##name;
        ORTC_EW_INTS(PMOD_CASE)
    default: return NULL;
    }
}

/* ---- Pow ---------------------------------------------------------------- */

/* base^e exactly, wrapping like repeated multiplication in int64. A
 * negative exponent gives 1/base^|e| truncated toward zero: 1 for base 1,
 * +-1 for base -1, 0 otherwise (also for base 0, where it is undefined). */
static int64_t ipow(int64_t base, bool neg, uint64_t mag)
{
    if (neg)
        return base == 1 ? 1 : base == -1 ? ((mag & 1) ? -1 : 1) : 0;
    uint64_t r = 1, b = (uint64_t)base;
    while (mag) {
        if (mag & 1)
            r *= b;
        b *= b;
        mag >>= 1;
    }
    return (int64_t)r;
}

/* A double result stored in a signed integer of `bytes` bytes: truncated
 * toward zero (as numpy's astype), saturated at the type's range, NaN -> 0. */
static int64_t pow_to_int(double v, size_t bytes)
{
    double hi = bytes == 4 ? 2147483647.0 : 9223372036854775807.0;
    if (isnan(v))
        return 0;
    if (v >= hi)
        return bytes == 4 ? INT32_MAX : INT64_MAX;
    if (v <= -hi - 1)
        return bytes == 4 ? INT32_MIN : INT64_MIN;
    return (int64_t)v;
}

/* POW_<base kind>_<exponent kind>. Integer base with integer exponent is
 * exact; otherwise pow() in double, rounded once to the base's type (a
 * float32 square is computed as x * x, which is exact in double). */
#define EXP_NEG(w) ((w) < 0)
#define EXP_MAG(w) ((w) < 0 ? 0 - (uint64_t)(w) : (uint64_t)(w))
#define POW_S_U(T, x, w) (T) ipow((int64_t)(x), false, (uint64_t)(w))
#define POW_S_S(T, x, w) (T) ipow((int64_t)(x), EXP_NEG(w), EXP_MAG(w))
#define POW_S_F(T, x, w) (T) pow_to_int(pow((double)(x), (double)(w)), sizeof(T))
#define POW_S_H(T, x, w) (T) pow_to_int(pow((double)(x), H2D(w)), sizeof(T))
#define POW_F_U(T, x, w) (T) pow((double)(x), (double)(w))
#define POW_F_S POW_F_U
#define POW_F_F(T, x, w)                                                                           \
    ((w) == 2 ? (T)((double)(x) * (double)(x)) : (T)pow((double)(x), (double)(w)))
#define POW_F_H(T, x, w) (T) pow((double)(x), H2D(w))
#define POW_H_U(T, x, w) ortc_f16_from_double(pow(H2D(x), (double)(w)))
#define POW_H_S POW_H_U
#define POW_H_F POW_H_U
#define POW_H_H(T, x, w) ortc_f16_from_double(pow(H2D(x), H2D(w)))

#define DEF_POW_I32(en, ET, EK, EDT)                                                               \
    ORTC_EW_ROW2(pow_i32_##en, int32_t, int32_t, ET, POW_S_##EK(int32_t, x, w))
#define DEF_POW_I64(en, ET, EK, EDT)                                                               \
    ORTC_EW_ROW2(pow_i64_##en, int64_t, int64_t, ET, POW_S_##EK(int64_t, x, w))
#define DEF_POW_F16(en, ET, EK, EDT)                                                               \
    ORTC_EW_ROW2(pow_f16_##en, uint16_t, uint16_t, ET, POW_H_##EK(uint16_t, x, w))
#define DEF_POW_F32(en, ET, EK, EDT)                                                               \
    ORTC_EW_ROW2(pow_f32_##en, float, float, ET, POW_F_##EK(float, x, w))
#define DEF_POW_F64(en, ET, EK, EDT)                                                               \
    ORTC_EW_ROW2(pow_f64_##en, double, double, ET, POW_F_##EK(double, x, w))
ORTC_EW_NUMERIC(DEF_POW_I32)
ORTC_EW_NUMERIC(DEF_POW_I64)
ORTC_EW_NUMERIC(DEF_POW_F16)
ORTC_EW_NUMERIC(DEF_POW_F32)
ORTC_EW_NUMERIC(DEF_POW_F64)

/* one-line macros expanding to case labels (clang-format-14 breaks them) */
// clang-format off
#define POW_CASE_I32(en, ET, EK, EDT) case EDT: return pow_i32_##en;
#define POW_CASE_I64(en, ET, EK, EDT) case EDT: return pow_i64_##en;
#define POW_CASE_F16(en, ET, EK, EDT) case EDT: return pow_f16_##en;
#define POW_CASE_F32(en, ET, EK, EDT) case EDT: return pow_f32_##en;
#define POW_CASE_F64(en, ET, EK, EDT) case EDT: return pow_f64_##en;
/* base dtype BDT: the row kernel for each exponent dtype */
#define POW_BASE(BDT, CASE) case BDT: switch (ex) { ORTC_EW_NUMERIC(CASE) default: return NULL; }
// clang-format on

/* The Pow row kernel for (base, exponent) dtypes; NULL when unsupported. */
static ortc_ew_row2 pow_row(ortc_dtype base, ortc_dtype ex)
{
    switch (base) {
        POW_BASE(ORTC_DTYPE_INT32, POW_CASE_I32)
        POW_BASE(ORTC_DTYPE_INT64, POW_CASE_I64)
        POW_BASE(ORTC_DTYPE_FLOAT16, POW_CASE_F16)
        POW_BASE(ORTC_DTYPE_FLOAT, POW_CASE_F32)
        POW_BASE(ORTC_DTYPE_DOUBLE, POW_CASE_F64)
    default: return NULL;
    }
}

// y: (n) of a float dtype; y /= count (Mean's last step)
static void mean_divide(void *y, ortc_dtype dt, int64_t n, int count)
{
    switch (dt) {
    case ORTC_DTYPE_FLOAT:
        for (int64_t i = 0; i < n; i++)
            ((float *)y)[i] /= (float)count;
        break;
    case ORTC_DTYPE_DOUBLE:
        for (int64_t i = 0; i < n; i++)
            ((double *)y)[i] /= count;
        break;
    case ORTC_DTYPE_FLOAT16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t *h = (uint16_t *)y + i;
            *h = ortc_f16_from_double(H2D(*h) / count);
        }
        break;
    default: /* infer allows float dtypes only */ break;
    }
}

/* ==== node checks =========================================================== */

/* Whether dt is among the dtypes the node's registry row declares. */
static bool declared(const ortc_opctx *c, ortc_dtype dt)
{
    return ortc_dtype_in(ortc_op_dtypes(c), dt);
}

static ortc_status dtype_error(ortc_opctx *c, ortc_dtype dt, const char *supported)
{
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "%s on dtype %s is not supported (%s)",
                         c->node->op_type, ortc_dtype_name(dt), supported);
}

#define NUMERIC_NAMES "uint8-64, int8-64, float16, float32, float64"
#define FLOAT_NAMES "float16, float32, float64"

static bool is_float(ortc_dtype dt)
{
    return dt == ORTC_DTYPE_FLOAT || dt == ORTC_DTYPE_DOUBLE || dt == ORTC_DTYPE_FLOAT16;
}

static bool dims_equal(int rank, const int64_t *x, const int64_t *y)
{
    for (int i = 0; i < rank; i++)
        if (x[i] != y[i])
            return false;
    return true;
}

static int64_t numel_of(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* A validated two-input node (Add..Div, Pow, Mod). */
typedef struct binary_info {
    ew_op op;
    ortc_dtype dtype; /* output */
    ortc_ew_row2 row;
    ortc_ew_shapes sh;
} binary_info;

static ew_op arith_op(const char *op_type)
{
    if (!strcmp(op_type, "Sub"))
        return EW_SUB;
    if (!strcmp(op_type, "Mul"))
        return EW_MUL;
    if (!strcmp(op_type, "Div"))
        return EW_DIV;
    return EW_ADD;
}

static ortc_status arith_check(ortc_opctx *c, binary_info *bi)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    bi->op = arith_op(c->node->op_type);
    bi->dtype = c->in[0]->dtype;
    bi->row = ew_row(bi->op, bi->dtype);
    if (!declared(c, bi->dtype) || !bi->row)
        return dtype_error(c, bi->dtype, NUMERIC_NAMES);
    ORTC_TRY(ortc_op_check_same_dtype(c, 0, 1));
    return ortc_ew_binary_shapes(c, ortc_op_version(c) < 7, &bi->sh);
}

static ortc_status pow_check(ortc_opctx *c, binary_info *bi)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    bi->dtype = c->in[0]->dtype;
    bi->row = pow_row(bi->dtype, c->in[1]->dtype);
    if (!declared(c, bi->dtype) || !pow_row(bi->dtype, ORTC_DTYPE_FLOAT))
        return dtype_error(c, bi->dtype, "base int32, int64, " FLOAT_NAMES);
    if (!bi->row)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "Pow exponent '%s' has dtype %s; supported: " NUMERIC_NAMES,
                             c->node->inputs[1]->name, ortc_dtype_name(c->in[1]->dtype));
    return ortc_ew_binary_shapes(c, ortc_op_version(c) < 7, &bi->sh);
}

static ortc_status mod_check(ortc_opctx *c, binary_info *bi)
{
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "fmod", ORTC_ATTR_INT));
    int64_t fmod_attr = ortc_node_attr_int(c->node, "fmod", 0);
    if (fmod_attr != 0 && fmod_attr != 1)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'fmod' is %lld; it must be 0 or 1", (long long)fmod_attr);
    bi->dtype = c->in[0]->dtype;
    bi->op = fmod_attr ? EW_FMOD : EW_PMOD;
    bi->row = fmod_attr ? ew_row(EW_FMOD, bi->dtype) : pmod_row(bi->dtype);
    if (!declared(c, bi->dtype) || !ew_row(EW_FMOD, bi->dtype))
        return dtype_error(c, bi->dtype, NUMERIC_NAMES);
    if (!bi->row)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "Mod on %s needs attribute fmod=1 (fmod=0 is for integers)",
                             ortc_dtype_name(bi->dtype));
    ORTC_TRY(ortc_op_check_same_dtype(c, 0, 1));
    return ortc_ew_binary_shapes(c, false, &bi->sh);
}

typedef ortc_status (*binary_check_fn)(ortc_opctx *c, binary_info *bi);

static binary_check_fn binary_checker(const ortc_opctx *c)
{
    const char *t = c->node->op_type;
    return !strcmp(t, "Pow") ? pow_check : !strcmp(t, "Mod") ? mod_check : arith_check;
}

/* A validated variadic node (Sum, Mean, Min, Max). */
typedef struct variadic_info {
    ew_op op;
    bool mean;
    ortc_dtype dtype;
    ortc_ew_row2 row;
    int n;     /* inputs */
    int first; /* an input with the output's shape, or -1 */
    int rank;
    int64_t dims[ORTC_MAX_RANK];
} variadic_info;

static ortc_status variadic_check(ortc_opctx *c, variadic_info *vi)
{
    ORTC_TRY(ortc_op_check_arity(c, 1, c->n_in > 1 ? c->n_in : 1, 1, 1));
    vi->n = c->n_in;
    while (vi->n > 0 && !c->in[vi->n - 1])
        vi->n--;
    for (int k = 0; k < vi->n; k++)
        if (!c->in[k])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is missing", k);
    const char *t = c->node->op_type;
    vi->mean = !strcmp(t, "Mean");
    vi->op = !strcmp(t, "Min") ? EW_MIN : !strcmp(t, "Max") ? EW_MAX : EW_ADD;
    vi->dtype = c->in[0]->dtype;
    vi->row = ew_row(vi->op, vi->dtype);
    if (vi->op == EW_ADD && (!declared(c, vi->dtype) || !is_float(vi->dtype)))
        return dtype_error(c, vi->dtype, FLOAT_NAMES);
    if (!declared(c, vi->dtype) || !vi->row)
        return dtype_error(c, vi->dtype, NUMERIC_NAMES);
    for (int k = 1; k < vi->n; k++)
        ORTC_TRY(ortc_op_check_same_dtype(c, 0, k));
    if (ortc_op_version(c) < 8) {
        for (int k = 1; k < vi->n; k++)
            if (c->in[k]->rank != c->in[0]->rank ||
                !dims_equal(c->in[0]->rank, c->in[k]->dims, c->in[0]->dims)) {
                char s0[128], sk[128];
                return ortc_op_error(
                    c, ORTC_STATUS_INVALID_MODEL,
                    "input shapes %s and %s differ; %s before opset 8 does not broadcast",
                    ortc_shape_str(s0, sizeof s0, c->in[0]->rank, c->in[0]->dims),
                    ortc_shape_str(sk, sizeof sk, c->in[k]->rank, c->in[k]->dims), t);
            }
    }
    ORTC_TRY(ortc_ew_broadcast_n(c, vi->n, (const ortc_tensor *const *)c->in, &vi->rank, vi->dims));
    vi->first = -1;
    for (int k = 0; k < vi->n && vi->first < 0; k++)
        if (c->in[k]->rank == vi->rank && dims_equal(vi->rank, c->in[k]->dims, vi->dims))
            vi->first = k;
    return ORTC_STATUS_OK;
}

/* ==== plain-C kernels over nodes ============================================= */

static ortc_status binary_reference(ortc_opctx *c)
{
    binary_info bi;
    ORTC_TRY(binary_checker(c)(c, &bi));
    ortc_ew it;
    ortc_ew_init_shapes(&it, &bi.sh);
    ortc_ew_apply2(&it, bi.row, NULL, c->out[0]->data, ortc_dtype_size(bi.dtype), c->in[0]->data,
                   ortc_dtype_size(c->in[0]->dtype), c->in[1]->data,
                   ortc_dtype_size(c->in[1]->dtype));
    return ORTC_STATUS_OK;
}

/* The order the variadic ops combine inputs in (both paths): the first
 * full-shape input (else input 0), then the lowest other index, then the
 * rest in index order. */
static int variadic_a(const variadic_info *vi)
{
    return vi->first >= 0 ? vi->first : 0;
}

static int variadic_b(const variadic_info *vi)
{
    return variadic_a(vi) == 0 ? 1 : 0;
}

static ortc_status variadic_reference(ortc_opctx *c)
{
    variadic_info vi;
    ORTC_TRY(variadic_check(c, &vi));
    void *y = c->out[0]->data;
    size_t es = ortc_dtype_size(vi.dtype);
    if (vi.n == 1) {
        ortc_plain_copy(y, c->in[0]->data, ortc_tensor_bytes(c->out[0]));
        return ORTC_STATUS_OK;
    }
    int a = variadic_a(&vi), b = variadic_b(&vi);
    ortc_ew it;
    int ranks[2] = {c->in[a]->rank, c->in[b]->rank};
    const int64_t *dims[2] = {c->in[a]->dims, c->in[b]->dims};
    ortc_ew_init(&it, vi.rank, vi.dims, 2, ranks, dims);
    ortc_ew_apply2(&it, vi.row, NULL, y, es, c->in[a]->data, es, c->in[b]->data, es);
    for (int k = 0; k < vi.n; k++) {
        if (k == a || k == b)
            continue;
        ranks[0] = vi.rank;
        dims[0] = vi.dims;
        ranks[1] = c->in[k]->rank;
        dims[1] = c->in[k]->dims;
        ortc_ew_init(&it, vi.rank, vi.dims, 2, ranks, dims);
        ortc_ew_apply2(&it, vi.row, NULL, y, es, y, es, c->in[k]->data, es);
    }
    if (vi.mean)
        mean_divide(y, vi.dtype, numel_of(vi.rank, vi.dims), vi.n);
    return ORTC_STATUS_OK;
}

/* ==== oneDNN ================================================================= */

typedef struct binary_state {
    bool use_ref; /* plain C for this node (see the top of the file) */
    /* use_ref with a blocked input: plain copies of it for the kernel */
    ortc_dnnl_prim ref;
    int n_steps;
    /* dst = alg(src0, src1), src1 broadcast; src0 is an input or (later
     * steps of Sum/Mean) the output itself. Run in order on the in-order
     * stream. */
    ortc_dnnl_prim steps[];
} binary_state;

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

/* desc: dst (md0's layout) = alg(md0, md1); attr: the scale alpha, or
 * none. On success the caller owns attr. */
/* Binds b to the binary primitive dst = alpha * alg(md0, md1) (dst like
 * md0) over args; sets b->use_ref instead when oneDNN has no implementation
 * or only its reference one. */
static ortc_status bin_bind(ortc_opctx *c, ortc_dnnl_prim *b, dnnl_alg_kind_t alg,
                            const dnnl_memory_desc_t *md0, const dnnl_memory_desc_t *md1,
                            float alpha, const ortc_dnnl_arg args[3])
{
    dnnl_binary_desc_t desc;
    dnnl_primitive_attr_t attr;
    DNNL_CHECK(c, dnnl_binary_desc_init(&desc, alg, md0, md1, md0));
    ortc_status st = ortc_dnnl_attr_new(c, &attr);
    if (!st && alpha != 1.0f && (st = ortc_dnnl_attr_linear(c, attr, alpha)))
        dnnl_primitive_attr_destroy(attr);
    if (st)
        return st;
    dnnl_primitive_desc_t pd = NULL;
    bool unimpl = false;
    st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    dnnl_primitive_attr_destroy(attr);
    if (!st && (unimpl || ortc_dnnl_impl_is_ref(pd)))
        b->use_ref = true;
    if (!st && !b->use_ref)
        st = ortc_dnnl_prim_bind(c, b, pd, args, 3);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return st;
}

/* Builds b: dst = alpha * alg(src0, src1) over dims, src1 (input in1) of
 * dims d1 (each equal to dims or 1), src0 input in0 or (-1) the output.
 * b->use_ref when oneDNN has no implementation but its reference one
 * (broadcasting over other than the trailing or channel dims, Swin's
 * attention mask [8,64,3,49,49] + [1,64,1,49,49]: 42% of its batch-8 run
 * on ref:any), for plain C's row walker instead. */
static ortc_status dnnl_bin_init(ortc_opctx *c, ortc_dnnl_prim *b, dnnl_alg_kind_t alg, int rank,
                                 const int64_t *dims, const int64_t *d1, float alpha, int in0,
                                 int in1)
{
    int64_t cd[ORTC_MAX_RANK], c1[ORTC_MAX_RANK];
    int r = collapse(rank, dims, d1, cd, c1);
    dnnl_memory_desc_t md0, md1;
    ORTC_TRY(ortc_dnnl_md_plain(c, &md0, r, cd));
    ORTC_TRY(ortc_dnnl_md_plain(c, &md1, r, c1));
    const ortc_dnnl_arg args[] = {
        in0 < 0 ? ORTC_DNNL_OUT(DNNL_ARG_SRC_0, 0) : ORTC_DNNL_IN(DNNL_ARG_SRC_0, in0),
        ORTC_DNNL_IN(DNNL_ARG_SRC_1, in1),
        ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
    };
    return bin_bind(c, b, alg, &md0, &md1, alpha, args);
}

static void binary_release(ortc_opctx *c)
{
    binary_state *s = c->state;
    if (!s)
        return;
    for (int i = 0; i < s->n_steps; i++)
        ortc_dnnl_prim_free(&s->steps[i]);
    ortc_dnnl_prim_free(&s->ref);
    free(s);
    c->state = NULL;
}

static ortc_status state_new(ortc_opctx *c, int n_steps)
{
    binary_state *s = calloc(1, sizeof *s + (size_t)n_steps * sizeof s->steps[0]);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing %s",
                             c->node->op_type);
    s->n_steps = n_steps;
    s->use_ref = n_steps == 0;
    c->state = s;
    return ORTC_STATUS_OK;
}

static bool any_blocked(ortc_opctx *c)
{
    for (int i = 0; i < c->n_in; i++)
        if (c->in[i] && ortc_dnnl_in_blocked(c, i))
            return true;
    return false;
}

/* Plain C from now on, on plain copies of blocked inputs. */
static ortc_status plain_c(ortc_opctx *c)
{
    ortc_status st = state_new(c, 0);
    if (st || !any_blocked(c))
        return st;
    binary_state *s = c->state;
    return ortc_dnnl_prim_use_ref(c, &s->ref);
}

/* After a failed or unimplemented build: drop the steps, keep plain C. */
static ortc_status fall_back(ortc_opctx *c, ortc_status st)
{
    binary_release(c);
    if (st)
        return st;
    return plain_c(c);
}

/* dst = alpha * alg(src0, src1) where an input arrives blocked (a
 * convolution's output: squeeze-excite's x * scale, a residual Add):
 * src0 (input in0, of the output's shape) and src1 (in1, dims d1, each the
 * output's or 1) as they arrive, src1 plain of the output's rank
 * otherwise; dst in src0's layout (the helper reorders it into a plain
 * output where a consumer needs one). oneDNN's reference implementation is
 * refused (b->use_ref: plain C on plain copies instead). */
static ortc_status blocked_bin_init(ortc_opctx *c, ortc_dnnl_prim *b, dnnl_alg_kind_t alg, int rank,
                                    const int64_t *dims, const int64_t *d1, float alpha, int in0,
                                    int in1)
{
    dnnl_memory_desc_t md0, md1;
    for (int k = 0; k < 2; k++) {
        int i = k ? in1 : in0;
        if (ortc_dnnl_in_blocked(c, i) && c->in[i]->rank != rank) {
            b->use_ref = true;
            return ORTC_STATUS_OK;
        }
    }
    ORTC_TRY(ortc_dnnl_in_blocked(c, in0) ? ortc_dnnl_md_input(c, in0, &md0)
                                          : ortc_dnnl_md_plain(c, &md0, rank, dims));
    ORTC_TRY(ortc_dnnl_in_blocked(c, in1) ? ortc_dnnl_md_input(c, in1, &md1)
                                          : ortc_dnnl_md_plain(c, &md1, rank, d1));
    const ortc_dnnl_arg args[] = {
        ORTC_DNNL_IN(DNNL_ARG_SRC_0, in0),
        ORTC_DNNL_IN(DNNL_ARG_SRC_1, in1),
        ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
    };
    return bin_bind(c, b, alg, &md0, &md1, alpha, args);
}

static ortc_status binary_prepare(ortc_opctx *c)
{
    binary_info bi;
    ORTC_TRY(binary_checker(c)(c, &bi));
    const ortc_ew_shapes *sh = &bi.sh;
    bool a_full = dims_equal(sh->rank, sh->a_dims, sh->dims);
    bool b_full = dims_equal(sh->rank, sh->b_dims, sh->dims);
    const bool blocked = any_blocked(c);
    /* y[i] is computed from a[i] before y[i] is written; a blocked a only
     * when y keeps its layout */
    if (a_full && c->inplace && ortc_dtype_size(c->in[0]->dtype) == ortc_dtype_size(bi.dtype) &&
        (!blocked || (ortc_dnnl_in_blocked(c, 0) && ortc_dnnl_out_blocked_ok(c, 0))))
        c->inplace[0] = 0;
    bool dnnl = binary_checker(c) == arith_check && bi.dtype == ORTC_DTYPE_FLOAT &&
                numel_of(sh->rank, sh->dims) > 0 && (a_full || b_full) &&
                (a_full || bi.op != EW_DIV);
    if (!dnnl)
        return plain_c(c);
    ortc_status st;
    if ((st = state_new(c, 1)))
        return st;
    static const dnnl_alg_kind_t algs[] = {
        [EW_ADD] = dnnl_binary_add,
        [EW_SUB] = dnnl_binary_sub,
        [EW_MUL] = dnnl_binary_mul,
        [EW_DIV] = dnnl_binary_div,
    };
    binary_state *s = c->state;
    bool swap = !a_full;
    /* swapped Sub: A - B computed as -(B - A) */
    float alpha = swap && bi.op == EW_SUB ? -1.0f : 1.0f;
    if (blocked)
        st = blocked_bin_init(c, &s->steps[0], algs[bi.op], sh->rank, sh->dims,
                              swap ? sh->a_dims : sh->b_dims, alpha, swap ? 1 : 0, swap ? 0 : 1);
    else
        st = dnnl_bin_init(c, &s->steps[0], algs[bi.op], sh->rank, sh->dims,
                           swap ? sh->a_dims : sh->b_dims, alpha, swap ? 1 : 0, swap ? 0 : 1);
    if (st || s->steps[0].use_ref)
        return fall_back(c, st);
    return ORTC_STATUS_OK;
}

static ortc_status variadic_prepare(ortc_opctx *c)
{
    variadic_info vi;
    ORTC_TRY(variadic_check(c, &vi));
    /* in place on the first full-shape input, unless the same value is
     * also another input (later steps would read the overwritten data) */
    bool dup = false;
    for (int k = 0; vi.first >= 0 && k < vi.n; k++)
        dup |= k != vi.first && c->node->inputs[k] == c->node->inputs[vi.first];
    if (vi.first >= 0 && !dup && c->inplace)
        c->inplace[0] = vi.first;
    bool dnnl = vi.op == EW_ADD && vi.dtype == ORTC_DTYPE_FLOAT && vi.n > 1 && vi.first >= 0 &&
                numel_of(vi.rank, vi.dims) > 0;
    ortc_status st;
    if ((st = state_new(c, dnnl ? vi.n - 1 : 0)) || !dnnl)
        return st;
    binary_state *s = c->state;
    int a = variadic_a(&vi), b = variadic_b(&vi);
    for (int i = 0, k = 0; i < s->n_steps; i++) {
        int in0 = a, in1 = b;
        if (i > 0) {
            while (k == a || k == b)
                k++;
            in0 = -1;
            in1 = k++;
        }
        int64_t d1[ORTC_MAX_RANK];
        const ortc_tensor *t = c->in[in1];
        ortc_ew_pad_dims(vi.rank, d1, t->rank, t->dims);
        float alpha = vi.mean && i == s->n_steps - 1 ? 1.0f / (float)vi.n : 1.0f;
        st = dnnl_bin_init(c, &s->steps[i], dnnl_binary_add, vi.rank, vi.dims, d1, alpha, in0, in1);
        if (st || s->steps[i].use_ref)
            return fall_back(c, st);
    }
    return ORTC_STATUS_OK;
}

static ortc_status steps_run(ortc_opctx *c, binary_state *s)
{
    for (int i = 0; i < s->n_steps; i++) {
        ORTC_TRY(ortc_dnnl_prim_run(c, &s->steps[i]));
    }
    return ORTC_STATUS_OK;
}

static ortc_status binary_run(ortc_opctx *c)
{
    binary_state *s = c->state;
    if (!s || s->use_ref)
        return ortc_dnnl_prim_fallback(c, s ? &s->ref : NULL, binary_reference);
    return steps_run(c, s);
}

static ortc_status variadic_run(ortc_opctx *c)
{
    binary_state *s = c->state;
    if (!s || s->use_ref)
        return variadic_reference(c);
    return steps_run(c, s);
}

/* ==== as a fused post-op (operator.h's fusion contract) ====================== */

/* Add of two float32 operands of one known shape is a "sum" post-op on
 * either of them (the other is the summand). */
static ortc_status binary_post_op(ortc_opctx *c, int input, ortc_post_op *po)
{
    const ortc_tensor *a = c->n_in == 2 ? c->in[0] : NULL, *b = c->n_in == 2 ? c->in[1] : NULL;
    bool same = strcmp(c->node->op_type, "Add") == 0 && a && b && (input == 0 || input == 1) &&
                a->dtype == ORTC_DTYPE_FLOAT && b->dtype == ORTC_DTYPE_FLOAT && a->rank >= 0 &&
                a->rank == b->rank;
    for (int d = 0; same && d < a->rank; d++)
        same = a->dims[d] == b->dims[d];
    if (!same)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "only an Add of two float32 operands of one known shape is a sum");
    *po = (ortc_post_op){ORTC_POST_OP_SUM, 0.0f, 0.0f};
    return ORTC_STATUS_OK;
}

/* ==== infer and registration ================================================= */

static ortc_status binary_infer(ortc_opctx *c)
{
    binary_info bi;
    ORTC_TRY(binary_checker(c)(c, &bi));
    ortc_op_set_output(c, 0, bi.dtype, bi.sh.rank, bi.sh.dims);
    return ORTC_STATUS_OK;
}

static ortc_status variadic_infer(ortc_opctx *c)
{
    variadic_info vi;
    ORTC_TRY(variadic_check(c, &vi));
    ortc_op_set_output(c, 0, vi.dtype, vi.rank, vi.dims);
    return ORTC_STATUS_OK;
}

/* oneDNN rows: prepare builds primitives, reference is the plain-C kernel.
 * Plain-C rows: prepare only declares in-place reuse; run is the reference.
 * Every row may write its output over an input of the same shape. */
#define BINARY_CALLBACKS                                                                           \
    .infer = binary_infer, .prepare = binary_prepare, .run = binary_run, .release = binary_release
#define VARIADIC_CALLBACKS                                                                         \
    .infer = variadic_infer, .prepare = variadic_prepare, .run = variadic_run,                     \
    .release = binary_release

const ortc_operator ortc_ops_binary[] = {
    ORTC_OP("Add", 1, 14, .versions = {1, 6, 7, 13, 14}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_NUMERIC, .flags = ORTC_OP_MAY_INPLACE | ORTC_OP_ACCEPTS_BLOCKED,
            BINARY_CALLBACKS, .reference = binary_reference, .post_op = binary_post_op),
    ORTC_OP("Sub", 1, 14, .versions = {1, 6, 7, 13, 14}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_NUMERIC, .flags = ORTC_OP_MAY_INPLACE | ORTC_OP_ACCEPTS_BLOCKED,
            BINARY_CALLBACKS, .reference = binary_reference),
    ORTC_OP("Mul", 1, 14, .versions = {1, 6, 7, 13, 14}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_NUMERIC, .flags = ORTC_OP_MAY_INPLACE | ORTC_OP_ACCEPTS_BLOCKED,
            BINARY_CALLBACKS, .reference = binary_reference),
    ORTC_OP("Div", 1, 14, .versions = {1, 6, 7, 13, 14}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_NUMERIC, .flags = ORTC_OP_MAY_INPLACE | ORTC_OP_ACCEPTS_BLOCKED,
            BINARY_CALLBACKS, .reference = binary_reference),
    /* Pow: the dtypes of the base (the exponent may be any numeric type) */
    ORTC_OP("Pow", 1, 15, .versions = {1, 7, 12, 13, 15},
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16) | ORTC_DT(INT32) | ORTC_DT(INT64),
            .flags = ORTC_OP_MAY_INPLACE, BINARY_CALLBACKS),
    ORTC_OP("Mod", 10, 13, .versions = {10, 13}, .dtypes = ORTC_DTYPES_NUMERIC,
            .flags = ORTC_OP_MAY_INPLACE, BINARY_CALLBACKS),
    ORTC_OP("Sum", 1, 13, .versions = {1, 6, 8, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16), .flags = ORTC_OP_MAY_INPLACE,
            VARIADIC_CALLBACKS, .reference = variadic_reference),
    ORTC_OP("Mean", 1, 13, .versions = {1, 6, 8, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DTYPES_FLOAT | ORTC_DT(FLOAT16), .flags = ORTC_OP_MAY_INPLACE,
            VARIADIC_CALLBACKS, .reference = variadic_reference),
    ORTC_OP("Min", 1, 13, .versions = {1, 6, 8, 12, 13}, .dtypes = ORTC_DTYPES_NUMERIC,
            .flags = ORTC_OP_MAY_INPLACE, VARIADIC_CALLBACKS),
    ORTC_OP("Max", 1, 13, .versions = {1, 6, 8, 12, 13}, .dtypes = ORTC_DTYPES_NUMERIC,
            .flags = ORTC_OP_MAY_INPLACE, VARIADIC_CALLBACKS),
};
ORTC_OP_TABLE_END(binary);
