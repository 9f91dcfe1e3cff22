/* broadcast.h — numpy broadcasting for the element-wise families (binary.c,
 * logic.c): output shapes (two inputs, legacy opset-1/6 `broadcast`/`axis`,
 * or N inputs), a plain-C walker that visits the output row by row with each
 * operand's offset, and the macros that stamp out typed row kernels; plus
 * the plain per-dim strides the reference kernels use (MatMul's batch dims,
 * PRelu's slope). No oneDNN. Private to operators/.
 */
#ifndef ORTC_BROADCAST_H
#define ORTC_BROADCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "operator.h"

/* Two operands validated against each other: output dims and both
 * operands' dims padded with 1s to the output rank (right-aligned for
 * numpy broadcasting; at `axis` for the legacy rule). */
typedef struct ortc_ew_shapes {
    int rank;
    int64_t dims[ORTC_MAX_RANK], a_dims[ORTC_MAX_RANK], b_dims[ORTC_MAX_RANK];
} ortc_ew_shapes;

/* Inputs 0 and 1 of c. legacy (opsets 1 and 6 of Add, Pow, Equal, And...):
 * without attribute broadcast=1 the shapes must match; with it B lines up
 * with A at `axis` (default: A's trailing dims). Otherwise numpy
 * broadcasting. Errors name both shapes. */
ortc_status ortc_ew_binary_shapes(ortc_opctx *c, bool legacy, ortc_ew_shapes *sh);

/* dims[0..r) right-aligned into out[0..rank), leading dims 1. */
void ortc_ew_pad_dims(int rank, int64_t *out, int r, const int64_t *dims);

/* numpy broadcasting of the n present inputs in[0..n) (NULL entries are
 * skipped) into rank/dims; the error names every shape. */
ortc_status ortc_ew_broadcast_n(ortc_opctx *c, int n, const ortc_tensor *const *in, int *rank,
                                int64_t *dims);

/* ---- the walker -------------------------------------------------------- */

#define ORTC_EW_MAX_IN 3

/* Output dims and element strides of up to three operands (0 where an
 * operand is broadcast). Neighbouring dims are merged where every operand
 * allows it, so same-shape operands become one long row. */
typedef struct ortc_ew {
    int rank; /* >= 1 */
    int n_in;
    int64_t dims[ORTC_MAX_RANK];
    int64_t stride[ORTC_EW_MAX_IN][ORTC_MAX_RANK];
    int64_t numel;
} ortc_ew;

/* Operand k has in_rank[k] dims in_dims[k], right-aligned against the
 * output's `rank` dims; each must equal the output's dim or be 1. */
void ortc_ew_init(ortc_ew *it, int rank, const int64_t *dims, int n_in, const int *in_rank,
                  const int64_t *const *in_dims);

/* A row kernel: y[i] = f(a[i * sa], b[i * sb]) for i < n. Strides are in
 * elements of each operand's own type. */
typedef void (*ortc_ew_row2)(void *y, const void *a, int64_t sa, const void *b, int64_t sb,
                             int64_t n, const void *arg);
/* Three operands (Where): y[i] = f(a[i*sa], b[i*sb], d[i*sd]). */
typedef void (*ortc_ew_row3)(void *y, const void *a, int64_t sa, const void *b, int64_t sb,
                             const void *d, int64_t sd, int64_t n, const void *arg);

/* Runs fn over every output row of a 2-operand walker. size_y/size_a/
 * size_b: element sizes in bytes. y may equal a or b only where that
 * operand is not broadcast (each element is read before it is written). */
void ortc_ew_apply2(const ortc_ew *it, ortc_ew_row2 fn, const void *arg, void *y, size_t size_y,
                    const void *a, size_t size_a, const void *b, size_t size_b);
void ortc_ew_apply3(const ortc_ew *it, ortc_ew_row3 fn, const void *arg, void *y, size_t size_y,
                    const void *a, size_t size_a, const void *b, size_t size_b, const void *d,
                    size_t size_d);

/* Convenience: walker for inputs 0 and 1 of validated shapes. */
void ortc_ew_init_shapes(ortc_ew *it, const ortc_ew_shapes *sh);

/* ---- typed row kernels ---------------------------------------------------
 * X(name, C type, kind, ORTC dtype) for each element type; kind: U unsigned
 * and S signed integers, F float/double, H float16 (uint16_t bits). */
#define ORTC_EW_INTS(X)                                                                            \
    X(u8, uint8_t, U, ORTC_DTYPE_UINT8)                                                            \
    X(u16, uint16_t, U, ORTC_DTYPE_UINT16)                                                         \
    X(u32, uint32_t, U, ORTC_DTYPE_UINT32)                                                         \
    X(u64, uint64_t, U, ORTC_DTYPE_UINT64)                                                         \
    X(i8, int8_t, S, ORTC_DTYPE_INT8)                                                              \
    X(i16, int16_t, S, ORTC_DTYPE_INT16)                                                           \
    X(i32, int32_t, S, ORTC_DTYPE_INT32)                                                           \
    X(i64, int64_t, S, ORTC_DTYPE_INT64)
#define ORTC_EW_FLOATS(X)                                                                          \
    X(f16, uint16_t, H, ORTC_DTYPE_FLOAT16)                                                        \
    X(f32, float, F, ORTC_DTYPE_FLOAT)                                                             \
    X(f64, double, F, ORTC_DTYPE_DOUBLE)
#define ORTC_EW_NUMERIC(X) ORTC_EW_INTS(X) ORTC_EW_FLOATS(X)

/* Defines `static void fname(...)`, an ortc_ew_row2 computing y[i] = EXPR
 * where EXPR reads x (a's element, type TA) and w (b's element, type TB).
 * Contiguous and scalar-b rows get their own loops so they vectorise. */
#define ORTC_EW_ROW2(fname, TY, TA, TB, EXPR)                                                      \
    static void fname(void *y_, const void *a_, int64_t sa, const void *b_, int64_t sb, int64_t n, \
                      const void *arg)                                                             \
    {                                                                                              \
        TY *y = y_;                                                                                \
        const TA *a = a_;                                                                          \
        const TB *b = b_;                                                                          \
        (void)arg;                                                                                 \
        if (sa == 1 && sb == 1) {                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA x = a[i];                                                                       \
                TB w = b[i];                                                                       \
                y[i] = EXPR;                                                                       \
            }                                                                                      \
        } else if (sa == 1 && sb == 0) {                                                           \
            TB w = b[0];                                                                           \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA x = a[i];                                                                       \
                y[i] = EXPR;                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < n; i++) {                                                      \
                TA x = a[i * sa];                                                                  \
                TB w = b[i * sb];                                                                  \
                y[i] = EXPR;                                                                       \
            }                                                                                      \
        }                                                                                          \
    }

/* ---- numpy broadcasting --------------------------------------------------
 * Output dims plus element strides of two operands (0 where broadcast). */
typedef struct ortc_bcast {
    int rank;
    int64_t dims[ORTC_MAX_RANK];
    int64_t a_stride[ORTC_MAX_RANK], b_stride[ORTC_MAX_RANK];
} ortc_bcast;

/* a_dims/b_dims are right-aligned against out_dims (rank >= both ranks);
 * each dim must equal the output's or be 1. */
void ortc_bcast_init(ortc_bcast *bc, int rank, const int64_t *out_dims, int a_rank,
                     const int64_t *a_dims, int b_rank, const int64_t *b_dims);
int64_t ortc_bcast_numel(const ortc_bcast *bc);
/* Offsets into a and b of the first element of output row `row` (a row
 * runs along the last dim). */
void ortc_bcast_row(const ortc_bcast *bc, int64_t row, int64_t *oa, int64_t *ob);

#endif /* ORTC_BROADCAST_H */
