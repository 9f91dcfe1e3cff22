/* strided_copy.h — the strided element copy behind the data-movement ops
 * (tensor/movement.c: Transpose, Slice, Expand, Tile, DepthToSpace,
 * SpaceToDepth): out is written densely in row-major order while in is read
 * through arbitrary (also zero or negative) element strides. Moves bytes
 * only, so it serves every dtype; no shape checks, no allocation.
 */
#ifndef ORTC_STRIDED_COPY_H
#define ORTC_STRIDED_COPY_H

#include <stddef.h>
#include <stdint.h>

/* Enough for Tile's (repeat, dim) pairs over ORTC_MAX_RANK dims. */
#define ORTC_STRIDED_MAX_RANK 16

/* out[i0,...,ir-1] = in[sum_d i_d * strides[d]] for the dense row-major
 * output of shape dims[0..rank). Strides count elements of `elem` bytes and
 * may be 0 (broadcast) or negative (`in` then points at the element reached
 * by all-zero indices, not at the lowest address). rank <= 16; rank 0 copies
 * one element; any dim of 0 copies nothing (the pointers may then be NULL).
 * Adjacent dims that are contiguous in `in` are merged first; a dense
 * innermost run is copied with memcpy and a transposed innermost pair
 * (out[i][j] = in[j][i], as NCHW <-> NHWC) goes through cache tiles. */
void ortc_strided_copy(void *out, const void *in, int rank, const int64_t *dims,
                       const int64_t *strides, size_t elem);
/* The same; a large transposed innermost pair splits its tiles over up to
 * `threads` OpenMP threads (1: none). */
void ortc_strided_copy_threads(void *out, const void *in, int rank, const int64_t *dims,
                               const int64_t *strides, size_t elem, int threads);

#endif /* ORTC_STRIDED_COPY_H */
