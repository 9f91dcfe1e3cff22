/* logic.c — comparisons Equal (opsets 1, 7, 11, 13), Less, Greater (1, 7,
 * 9, 13), LessOrEqual, GreaterOrEqual (12, 16) with bool outputs; the bool
 * ops Not (1), And, Or, Xor (1, 7); Where (9, 16) on any fixed-size dtype;
 * BitShift (11) on uint8..uint64. numpy broadcasting (the legacy
 * `broadcast`/`axis` attributes at opset 1) through broadcast.h.
 *
 * All plain C. oneDNN 2.6's binary has eq/lt/le/gt/ge, but with a u8
 * destination (ONNX bool) only its generic reference implementation runs,
 * measured ~60x slower than this loop; with an f32 destination it would
 * need a second conversion pass. Comparisons follow IEEE: anything against
 * NaN is false. Shifts by the bit width or more give 0. Strings are refused.
 */
#include <string.h>

#include "broadcast.h"
#include "error.h"
#include "op_util.h"
#include "plain_util.h"

#define H2F(h) ortc_f16_to_float(h)

/* ==== row kernels ============================================================ */

#define CMP_U(op, x, w) (uint8_t)((x)op(w))
#define CMP_S CMP_U
#define CMP_F CMP_U
#define CMP_H(op, x, w) (uint8_t)(H2F(x) op H2F(w))

typedef enum cmp_op { CMP_EQ, CMP_LT, CMP_GT, CMP_LE, CMP_GE } cmp_op;

#define DEF_CMP(name, T, K, DT)                                                                    \
    ORTC_EW_ROW2(eq_##name, uint8_t, T, T, CMP_##K(==, x, w))                                      \
    ORTC_EW_ROW2(lt_##name, uint8_t, T, T, CMP_##K(<, x, w))                                       \
    ORTC_EW_ROW2(gt_##name, uint8_t, T, T, CMP_##K(>, x, w))                                       \
    ORTC_EW_ROW2(le_##name, uint8_t, T, T, CMP_##K(<=, x, w))                                      \
    ORTC_EW_ROW2(ge_##name, uint8_t, T, T, CMP_##K(>=, x, w))
ORTC_EW_NUMERIC(DEF_CMP)

/* bool: any nonzero byte is true */
#define TRUTH(v) ((v) != 0)
ORTC_EW_ROW2(eq_bool, uint8_t, uint8_t, uint8_t, (uint8_t)(TRUTH(x) == TRUTH(w)))
ORTC_EW_ROW2(and_bool, uint8_t, uint8_t, uint8_t, (uint8_t)(TRUTH(x) && TRUTH(w)))
ORTC_EW_ROW2(or_bool, uint8_t, uint8_t, uint8_t, (uint8_t)(TRUTH(x) || TRUTH(w)))
ORTC_EW_ROW2(xor_bool, uint8_t, uint8_t, uint8_t, (uint8_t)(TRUTH(x) != TRUTH(w)))

static ortc_ew_row2 cmp_row(cmp_op op, ortc_dtype dt)
{
    switch (dt) {
#define CMP_CASE(name, T, K, DT)                                                                   \
    case DT: {                                                                                     \
        static const ortc_ew_row2 rows[] = {eq_##name, lt_##name, gt_##name, le_##name,            \
                                            ge_##name};                                            \
        return rows[op];                                                                           \
    }
        ORTC_EW_NUMERIC(CMP_CASE)
    case ORTC_DTYPE_BOOL: return op == CMP_EQ ? eq_bool : NULL;
    default: return NULL;
    }
}

/* BitShift: the shift count is the second operand's element. */
#define SHL(T, x, w) ((w) >= 8 * sizeof(T) ? (T)0 : (T)((uint64_t)(x) << (w)))
#define SHR(T, x, w) ((w) >= 8 * sizeof(T) ? (T)0 : (T)((x) >> (w)))
#define DEF_SHIFT(name, T, K, DT)                                                                  \
    ORTC_EW_ROW2(shl_##name, T, T, T, SHL(T, x, w))                                                \
    ORTC_EW_ROW2(shr_##name, T, T, T, SHR(T, x, w))
#define ORTC_EW_UNSIGNED(X)                                                                        \
    X(u8, uint8_t, U, ORTC_DTYPE_UINT8)                                                            \
    X(u16, uint16_t, U, ORTC_DTYPE_UINT16)                                                         \
    X(u32, uint32_t, U, ORTC_DTYPE_UINT32)                                                         \
    X(u64, uint64_t, U, ORTC_DTYPE_UINT64)
ORTC_EW_UNSIGNED(DEF_SHIFT)

static ortc_ew_row2 shift_row(bool left, ortc_dtype dt)
{
    switch (dt) {
#define SHIFT_CASE(name, T, K, DT)                                                                 \
    case DT: return left ? shl_##name : shr_##name;
        ORTC_EW_UNSIGNED(SHIFT_CASE)
    default: return NULL;
    }
}

/* Where: y[i] = cond[i] ? x[i] : z[i], by element size. */
typedef struct bytes16 {
    uint64_t lo, hi;
} bytes16;

#define DEF_WHERE(name, T)                                                                         \
    static void where_##name(void *y_, const void *c_, int64_t sc, const void *x_, int64_t sx,     \
                             const void *z_, int64_t sz, int64_t n, const void *arg)               \
    {                                                                                              \
        T *y = y_;                                                                                 \
        const uint8_t *cond = c_;                                                                  \
        const T *x = x_, *z = z_;                                                                  \
        (void)arg;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            y[i] = cond[i * sc] ? x[i * sx] : z[i * sz];                                           \
    }
DEF_WHERE(1, uint8_t)
DEF_WHERE(2, uint16_t)
DEF_WHERE(4, uint32_t)
DEF_WHERE(8, uint64_t)
DEF_WHERE(16, bytes16)

static ortc_ew_row3 where_row(ortc_dtype dt)
{
    if (dt == ORTC_DTYPE_STRING || dt == ORTC_DTYPE_UNDEFINED)
        return NULL;
    switch (ortc_dtype_size(dt)) {
    case 1: return where_1;
    case 2: return where_2;
    case 4: return where_4;
    case 8: return where_8;
    case 16: return where_16;
    default: return NULL;
    }
}

// x, y: (n) bool
static void not_forward(uint8_t *y, const uint8_t *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        y[i] = !x[i];
}

/* ==== node checks ============================================================ */

typedef enum logic_kind { K_CMP, K_BOOL2, K_NOT, K_WHERE, K_SHIFT } logic_kind;

/* A validated node. Two-operand kinds fill sh and row; Where fills rank,
 * dims and row3; Not only out_dtype. */
typedef struct logic_info {
    logic_kind kind;
    ortc_dtype out_dtype;
    ortc_ew_row2 row;
    ortc_ew_row3 row3;
    ortc_ew_shapes sh;
    int rank;
    int64_t dims[ORTC_MAX_RANK];
} logic_info;

static const struct {
    const char *op_type;
    logic_kind kind;
    int sub; /* cmp_op, or 0/1/2 for And/Or/Xor */
} kinds[] = {
    {"Equal", K_CMP, CMP_EQ},
    {"Less", K_CMP, CMP_LT},
    {"Greater", K_CMP, CMP_GT},
    {"LessOrEqual", K_CMP, CMP_LE},
    {"GreaterOrEqual", K_CMP, CMP_GE},
    {"And", K_BOOL2, 0},
    {"Or", K_BOOL2, 1},
    {"Xor", K_BOOL2, 2},
    {"Not", K_NOT, 0},
    {"Where", K_WHERE, 0},
    {"BitShift", K_SHIFT, 0},
};

static ortc_status unsupported(ortc_opctx *c, int i, const char *supported)
{
    return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "%s input %d '%s' has dtype %s; supported: %s",
                         c->node->op_type, i, c->node->inputs[i]->name,
                         ortc_dtype_name(c->in[i]->dtype), supported);
}

static ortc_status shift_direction(ortc_opctx *c, bool *left)
{
    static const char *const names[] = {"LEFT", "RIGHT", NULL};
    int i;
    ortc_status st = ortc_op_attr_choice(c, "direction", names, -1, &i);
    if (!st)
        *left = i == 0;
    return st;
}

static ortc_status logic_check(ortc_opctx *c, logic_info *li)
{
    int sub = 0;
    li->kind = K_CMP;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(c->node->op_type, kinds[i].op_type)) {
            li->kind = kinds[i].kind;
            sub = kinds[i].sub;
        }
    int version = ortc_op_version(c);
    uint32_t declared = ortc_op_dtypes(c); /* of input 0 (Where: inputs 1, 2) */
    switch (li->kind) {
    case K_NOT:
        ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
        if (!ortc_dtype_in(declared, c->in[0]->dtype))
            return unsupported(c, 0, "bool");
        li->out_dtype = ORTC_DTYPE_BOOL;
        return ORTC_STATUS_OK;
    case K_WHERE: {
        ORTC_TRY(ortc_op_check_arity(c, 3, 3, 1, 1));
        if (c->in[0]->dtype != ORTC_DTYPE_BOOL)
            return unsupported(c, 0, "bool");
        li->row3 = where_row(c->in[1]->dtype);
        if (!ortc_dtype_in(declared, c->in[1]->dtype) || !li->row3)
            return unsupported(c, 1, "any numeric, bool or complex dtype");
        ORTC_TRY(ortc_op_check_same_dtype(c, 1, 2));
        li->out_dtype = c->in[1]->dtype;
        return ortc_ew_broadcast_n(c, 3, (const ortc_tensor *const *)c->in, &li->rank, li->dims);
    }
    case K_CMP:
    case K_BOOL2:
    case K_SHIFT: break;
    }
    ORTC_TRY(ortc_op_check_arity(c, 2, 2, 1, 1));
    ortc_dtype dt = c->in[0]->dtype;
    if (li->kind == K_CMP) {
        li->row = cmp_row((cmp_op)sub, dt);
        li->out_dtype = ORTC_DTYPE_BOOL;
        if (!ortc_dtype_in(declared, dt) || !li->row)
            return unsupported(c, 0,
                               sub == CMP_EQ ? "bool, uint8-64, int8-64, float16, float32, float64"
                                             : "uint8-64, int8-64, float16, float32, float64");
    } else if (li->kind == K_BOOL2) {
        static const ortc_ew_row2 rows[] = {and_bool, or_bool, xor_bool};
        li->row = rows[sub];
        li->out_dtype = ORTC_DTYPE_BOOL;
        if (!ortc_dtype_in(declared, dt))
            return unsupported(c, 0, "bool");
    } else {
        bool left = false;
        ORTC_TRY(shift_direction(c, &left));
        li->row = shift_row(left, dt);
        li->out_dtype = dt;
        if (!ortc_dtype_in(declared, dt) || !li->row)
            return unsupported(c, 0, "uint8, uint16, uint32, uint64");
    }
    ORTC_TRY(ortc_op_check_same_dtype(c, 0, 1));
    return ortc_ew_binary_shapes(c, li->kind != K_SHIFT && version < 7, &li->sh);
}

/* ==== operator callbacks ===================================================== */

static ortc_status logic_infer(ortc_opctx *c)
{
    logic_info li;
    ORTC_TRY(logic_check(c, &li));
    if (li.kind == K_NOT)
        ortc_op_set_output(c, 0, li.out_dtype, c->in[0]->rank, c->in[0]->dims);
    else if (li.kind == K_WHERE)
        ortc_op_set_output(c, 0, li.out_dtype, li.rank, li.dims);
    else
        ortc_op_set_output(c, 0, li.out_dtype, li.sh.rank, li.sh.dims);
    return ORTC_STATUS_OK;
}

/* Declares that the output may reuse the first input that has the output's
 * shape and element size (each kernel reads element i before writing it). */
static ortc_status logic_prepare(ortc_opctx *c)
{
    logic_info li;
    ortc_status st = logic_check(c, &li);
    if (st || !c->inplace)
        return st;
    const ortc_tensor *y = c->out[0];
    for (int j = 0; j < c->n_in; j++) {
        const ortc_tensor *x = c->in[j];
        if (!x || ortc_dtype_size(x->dtype) != ortc_dtype_size(y->dtype) || x->rank != y->rank ||
            memcmp(x->dims, y->dims, (size_t)y->rank * sizeof y->dims[0]))
            continue;
        c->inplace[0] = j;
        break;
    }
    return ORTC_STATUS_OK;
}

static ortc_status logic_run(ortc_opctx *c)
{
    logic_info li;
    ORTC_TRY(logic_check(c, &li));
    void *y = c->out[0]->data;
    size_t ey = ortc_dtype_size(li.out_dtype);
    ortc_ew it;
    switch (li.kind) {
    case K_NOT: not_forward(y, c->in[0]->data, ortc_tensor_numel(c->in[0])); break;
    case K_WHERE: {
        int ranks[3];
        const int64_t *dims[3];
        for (int k = 0; k < 3; k++) {
            ranks[k] = c->in[k]->rank;
            dims[k] = c->in[k]->dims;
        }
        ortc_ew_init(&it, li.rank, li.dims, 3, ranks, dims);
        ortc_ew_apply3(&it, li.row3, NULL, y, ey, c->in[0]->data, 1, c->in[1]->data, ey,
                       c->in[2]->data, ey);
        break;
    }
    default: {
        size_t ex = ortc_dtype_size(c->in[0]->dtype);
        ortc_ew_init_shapes(&it, &li.sh);
        ortc_ew_apply2(&it, li.row, NULL, y, ey, c->in[0]->data, ex, c->in[1]->data, ex);
        break;
    }
    }
    return ORTC_STATUS_OK;
}

/* Every row may write its output over an input of the same shape and
 * element size. Comparisons take every numeric dtype at every version (and
 * Equal bool too); Where's dtypes are those of inputs 1 and 2. */
#define LOGIC_CALLBACKS .infer = logic_infer, .prepare = logic_prepare, .run = logic_run

const ortc_operator ortc_ops_logic[] = {
    ORTC_OP("Equal", 1, 13, .versions = {1, 7, 11, 13},
            .dtypes = ORTC_DTYPES_NUMERIC | ORTC_DT(BOOL), .flags = ORTC_OP_MAY_INPLACE,
            LOGIC_CALLBACKS),
    ORTC_OP("Less", 1, 13, .versions = {1, 7, 9, 13}, .dtypes = ORTC_DTYPES_NUMERIC,
            .flags = ORTC_OP_MAY_INPLACE, LOGIC_CALLBACKS),
    ORTC_OP("Greater", 1, 13, .versions = {1, 7, 9, 13}, .dtypes = ORTC_DTYPES_NUMERIC,
            .flags = ORTC_OP_MAY_INPLACE, LOGIC_CALLBACKS),
    ORTC_OP("LessOrEqual", 12, 16, .versions = {12, 16}, .dtypes = ORTC_DTYPES_NUMERIC,
            .flags = ORTC_OP_MAY_INPLACE, LOGIC_CALLBACKS),
    ORTC_OP("GreaterOrEqual", 12, 16, .versions = {12, 16}, .dtypes = ORTC_DTYPES_NUMERIC,
            .flags = ORTC_OP_MAY_INPLACE, LOGIC_CALLBACKS),
    ORTC_OP("Not", 1, 1, .dtypes = ORTC_DT(BOOL), .flags = ORTC_OP_MAY_INPLACE, LOGIC_CALLBACKS),
    ORTC_OP("And", 1, 7, .versions = {1, 7}, .dtypes = ORTC_DT(BOOL), .flags = ORTC_OP_MAY_INPLACE,
            LOGIC_CALLBACKS),
    ORTC_OP("Or", 1, 7, .versions = {1, 7}, .dtypes = ORTC_DT(BOOL), .flags = ORTC_OP_MAY_INPLACE,
            LOGIC_CALLBACKS),
    ORTC_OP("Xor", 1, 7, .versions = {1, 7}, .dtypes = ORTC_DT(BOOL), .flags = ORTC_OP_MAY_INPLACE,
            LOGIC_CALLBACKS),
    ORTC_OP("Where", 9, 16, .versions = {9, 16}, .dtypes = ORTC_DTYPES_ALL & ~ORTC_DT(STRING),
            .flags = ORTC_OP_MAY_INPLACE, LOGIC_CALLBACKS),
    ORTC_OP("BitShift", 11, 11, .dtypes = ORTC_DTYPES_UNSIGNED, .flags = ORTC_OP_MAY_INPLACE,
            LOGIC_CALLBACKS),
};
ORTC_OP_TABLE_END(logic);
