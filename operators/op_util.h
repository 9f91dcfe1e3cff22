/* op_util.h — helpers shared by several operator families beyond the basic
 * checks operator.h declares: scatter reductions, auto_pad, shape and index
 * checks, a stable sort of index lists. Implemented in op_util.c; no kernels of a single operator here.
 */
#ifndef ORTC_OP_UTIL_H
#define ORTC_OP_UTIL_H

#include <stdbool.h>
#include <string.h>

#include "operator.h"

/* Error (INVALID_MODEL) about input i's shape: "input 2 'w' (window) has
 * shape [3,4]; " followed by the formatted rest; role may be NULL. */
ortc_status ortc_op_shape_error(ortc_opctx *c, int i, const char *role, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reads string attribute `attr` as an index into `names` (NULL-terminated):
 * *out = i where names[i] is its value; when it is absent *out = def, or an
 * error when def < 0 (the attribute is required). Errors name the value and
 * the choices: "attribute 'mode' is \"x\"; it must be avg or max". */
ortc_status ortc_op_attr_choice(ortc_opctx *c, const char *attr, const char *const *names, int def,
                                int *out);

/* ScatterElements-16 and ScatterND-16's `reduction` attribute. */
typedef enum { ORTC_SCATTER_NONE, ORTC_SCATTER_ADD, ORTC_SCATTER_MUL } ortc_scatter_reduction;

/* Checks updates (input 2) against data (input 0): the same dtype; reads
 * `reduction` into *red (none before version 16, where the attribute is an
 * error; `op` names the operator in messages) and refuses add/mul on a
 * non-numeric dtype. */
ortc_status ortc_op_scatter_check(ortc_opctx *c, const char *op, ortc_scatter_reduction *red);
/* y[0..n) (add or mul)= u[0..n) for numeric dtype t (others: no-op, refused
 * by ortc_op_scatter_check). */
void ortc_op_scatter_combine(ortc_dtype t, void *y, const void *u, int64_t n,
                             ortc_scatter_reduction red);

/* Error (INVALID_MODEL) unless inputs i and j have the same shape: "input 2
 * 'u' (updates) has shape [2,3] but input 1 'i' (indices) has [3,2]; they
 * must match"; a role may be NULL. */
ortc_status ortc_op_check_same_shape(ortc_opctx *c, int i, const char *role_i, int j,
                                     const char *role_j);

/* Error (INVALID_MODEL) unless input i, a bias, is omitted or has shape
 * [m]: "bias 'b' has shape [3]; with 4 output channels it must be [4]"
 * (Conv, ConvTranspose, QLinearConv). */
ortc_status ortc_op_check_bias(ortc_opctx *c, int i, int64_t m);

/* numpy matmul shapes (MatMul, QLinearMatMul, MatMulInteger): a 1-D A is
 * (1, K), a 1-D B is (K, 1), and that unit dim is dropped from the
 * result; the batch dims (all but the last two) broadcast. */
typedef struct ortc_matmul_shape {
    int64_t m, k, n;
    int brank; /* batch rank of the output */
    int64_t batch[ORTC_MAX_RANK];
    int a_brank, b_brank; /* batch ranks of the operands */
    int64_t a_batch[ORTC_MAX_RANK], b_batch[ORTC_MAX_RANK];
    int out_rank;
    int64_t out_dims[ORTC_MAX_RANK];
} ortc_matmul_shape;

/* Reads the shapes of A (input ia) and B (input ib), both present; errors
 * (INVALID_MODEL) name both inputs and their shapes. */
ortc_status ortc_matmul_shape_init(ortc_opctx *c, ortc_matmul_shape *s, int ia, int ib);

/* Conv, ConvTranspose and pooling's `auto_pad` attribute. */
typedef enum {
    ORTC_AUTO_PAD_NOTSET,
    ORTC_AUTO_PAD_VALID,
    ORTC_AUTO_PAD_SAME_UPPER,
    ORTC_AUTO_PAD_SAME_LOWER
} ortc_auto_pad;

/* Reads `auto_pad` (default NOTSET) into *mode; error naming the value when
 * it is none of the four, or not a string. */
ortc_status ortc_op_auto_pad(ortc_opctx *c, ortc_auto_pad *mode);

/* Dims of a tensor split by a mask into kept dims (one output each) and
 * reduced dims (the elements behind an output), each with its element
 * strides, outermost first (Reduce*, MeanVarianceNormalization). */
typedef struct ortc_axes_split {
    int nk, nr;
    int64_t kdim[ORTC_MAX_RANK], kstride[ORTC_MAX_RANK];
    int64_t rdim[ORTC_MAX_RANK], rstride[ORTC_MAX_RANK];
    int64_t n_kept, n_red; /* products of kdim and rdim */
} ortc_axes_split;

void ortc_axes_split_init(ortc_axes_split *s, int n, const int64_t *dims, const int64_t *strides,
                          const bool *reduced);

/* Element i of p (dtype t) as int64: integers by value (uint64 as its bit
 * pattern), bool as 0/1, float/double truncated; 0 for other dtypes. The
 * body of ortc_tensor_get_int, inline for kernels. */
static inline int64_t ortc_load_int(const void *p, ortc_dtype t, int64_t i)
{
    switch (t) {
    case ORTC_DTYPE_INT64: return ((const int64_t *)p)[i];
    case ORTC_DTYPE_INT32: return ((const int32_t *)p)[i];
    case ORTC_DTYPE_INT16: return ((const int16_t *)p)[i];
    case ORTC_DTYPE_INT8: return ((const int8_t *)p)[i];
    case ORTC_DTYPE_UINT8: return ((const uint8_t *)p)[i];
    case ORTC_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case ORTC_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case ORTC_DTYPE_UINT64: return (int64_t)((const uint64_t *)p)[i];
    case ORTC_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
    case ORTC_DTYPE_FLOAT: return (int64_t)((const float *)p)[i];
    case ORTC_DTYPE_DOUBLE: return (int64_t)((const double *)p)[i];
    default: return 0;
    }
}

/* Element offset of flat index i over n dims of the given sizes and strides
 * (the last varying fastest). */
static inline int64_t ortc_axes_offset(int64_t i, int n, const int64_t *dims,
                                       const int64_t *strides)
{
    int64_t off = 0;
    for (int d = n - 1; d >= 0; d--) {
        off += (i % dims[d]) * strides[d];
        i /= dims[d];
    }
    return off;
}

/* Sorts the index list idx[0..n) stably (a bottom-up merge sort; equal
 * elements keep their order): element j moves before element i only where
 * before(ctx, j, i). tmp[n] is room. Inline so that a constant `before` is
 * inlined into the merge loop. */
static inline void ortc_sort_index(int64_t *idx, int64_t *tmp, int64_t n,
                                   bool (*before)(const void *ctx, int64_t j, int64_t i),
                                   const void *ctx)
{
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] = before(ctx, idx[b], idx[a]) ? idx[b++] : idx[a++];
            while (a < mid)
                tmp[k++] = idx[a++];
            while (b < hi)
                tmp[k++] = idx[b++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
}

#endif /* ORTC_OP_UTIL_H */
