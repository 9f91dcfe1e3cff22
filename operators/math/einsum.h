/* einsum.h — Einsum's equation after parsing against its inputs' shapes,
 * shared by the operator (einsum.c: parsing, the oneDNN matmul lowering)
 * and the general plain-C contraction (einsum_ref.c, the reference
 * kernel). Labels are numbered: ellipsis dims first, then letters in order
 * of appearance. No kernels here.
 */
#ifndef ORTC_EINSUM_H
#define ORTC_EINSUM_H

#include <stdbool.h>
#include <stdint.h>

#include "operator.h"

#define ORTC_EINSUM_MAX_INPUTS 16
/* 52 letters and the ellipsis dims */
#define ORTC_EINSUM_MAX_LABELS (52 + ORTC_MAX_RANK)

typedef struct ortc_einsum {
    int n_in;
    int n_labels;
    int ell_rank;                                     /* dims the ellipsis stands for */
    char name[ORTC_EINSUM_MAX_LABELS];                /* the letter, or '.' */
    int64_t size[ORTC_EINSUM_MAX_LABELS];             /* extent (-1: unknown at infer) */
    int rank[ORTC_EINSUM_MAX_INPUTS];                 /* of each input */
    int label[ORTC_EINSUM_MAX_INPUTS][ORTC_MAX_RANK]; /* label of each axis */
    /* input i's element stride along label l: the sum over its axes with
     * that label (a repeated label walks the diagonal); 0 where the input
     * lacks the label or broadcasts a dim of 1 */
    int64_t stride[ORTC_EINSUM_MAX_INPUTS][ORTC_EINSUM_MAX_LABELS];
    int out_rank;
    int out_label[ORTC_MAX_RANK];
    bool in_out[ORTC_EINSUM_MAX_LABELS]; /* label l appears in the output */
} ortc_einsum;

/* Parses c's equation against the shapes of its inputs (unknown dims
 * allowed at infer: sizes and strides are then partly -1/meaningless).
 * Errors name the equation and what is wrong with it. */
ortc_status ortc_einsum_parse(ortc_opctx *c, ortc_einsum *e);

/* The general contraction: out[out labels] = sum over the other labels of
 * the product of every input's element, accumulated in double (floating
 * dtypes) or in 64-bit wrap-around integers; `t` is the common dtype.
 * Returns false for a dtype it does not handle. */
bool ortc_einsum_contract(const ortc_einsum *e, ortc_dtype t, void *out, const void *const *in);

#endif /* ORTC_EINSUM_H */
