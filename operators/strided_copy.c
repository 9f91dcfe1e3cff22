/* strided_copy.c — ortc_strided_copy (see strided_copy.h): merge contiguous
 * dims, then walk the outer dims with an odometer and hand the innermost
 * one or two dims to a row copy or a tiled 2-D transpose. Bytes only; no
 * dtype knowledge beyond the element size, no threads.
 */
#include "strided_copy.h"

#include <string.h>

/* Tile edge of the 2-D transpose: a 32x32 tile of 4-byte elements is 4 KiB
 * each side, well inside L1. (Measured on NCHW <-> NHWC of (8,64,112,112)
 * float: 32 moves about 8 GB/s both ways; 16 was half as fast one way.) */
#define TILE 32

/* Element copies with a constant size so the compiler emits plain moves. */
#define MOVE(dst, src, size) memcpy((dst), (src), (size))

// out: (n) dense, in: (n) elements `s` apart
static void copy_row(char *out, const char *in, int64_t n, int64_t s, size_t elem)
{
    if (s == 1) {
        memcpy(out, in, (size_t)n * elem);
        return;
    }
    switch (elem) {
#define ROW(size)                                                                                  \
    for (int64_t i = 0; i < n; i++)                                                                \
        MOVE(out + i * (size), in + i * s * (int64_t)(size), size);                                \
    break
    case 1: ROW(1);
    case 2: ROW(2);
    case 4: ROW(4);
    case 8: ROW(8);
    case 16: ROW(16);
#undef ROW
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(out + i * (int64_t)elem, in + i * s * (int64_t)elem, elem);
    }
}

// out: (m, n) dense, in: element (i, j) at i + j*s (a transposed view)
static void transpose_tiles(char *out, const char *in, int64_t m, int64_t n, int64_t s, size_t elem)
{
    int64_t e = (int64_t)elem;
    for (int64_t i0 = 0; i0 < m; i0 += TILE) {
        int64_t i1 = i0 + TILE < m ? i0 + TILE : m;
        for (int64_t j0 = 0; j0 < n; j0 += TILE) {
            int64_t j1 = j0 + TILE < n ? j0 + TILE : n;
            switch (elem) {
#define TILE_LOOP(size)                                                                            \
    for (int64_t i = i0; i < i1; i++)                                                              \
        for (int64_t j = j0; j < j1; j++)                                                          \
            MOVE(out + (i * n + j) * (size), in + (i + j * s) * (size), size);                     \
    break
            case 1: TILE_LOOP(1);
            case 2: TILE_LOOP(2);
            case 4: TILE_LOOP(4);
            case 8: TILE_LOOP(8);
#undef TILE_LOOP
            default:
                for (int64_t i = i0; i < i1; i++)
                    for (int64_t j = j0; j < j1; j++)
                        memcpy(out + (i * n + j) * e, in + (i + j * s) * e, elem);
            }
        }
    }
}

void ortc_strided_copy(void *out, const void *in, int rank, const int64_t *dims,
                       const int64_t *strides, size_t elem)
{
    /* drop size-1 dims and merge a dim into its outer neighbour when the
     * two are contiguous in `in` (outer stride = inner stride * inner dim) */
    int64_t d[ORTC_STRIDED_MAX_RANK], s[ORTC_STRIDED_MAX_RANK];
    int r = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0)
            return;
        if (dims[i] == 1)
            continue;
        if (r > 0 && s[r - 1] == strides[i] * dims[i]) {
            d[r - 1] *= dims[i];
            s[r - 1] = strides[i];
            continue;
        }
        d[r] = dims[i];
        s[r] = strides[i];
        r++;
    }
    char *o = out;
    const char *x = in;
    if (r == 0) {
        memcpy(o, x, elem);
        return;
    }
    /* innermost kernel: a transposed pair or a (strided) row */
    int inner = r >= 2 && s[r - 1] != 1 && s[r - 2] == 1 ? 2 : 1;
    int64_t block = inner == 2 ? d[r - 2] * d[r - 1] : d[r - 1];
    int n_outer = r - inner;
    int64_t outer = 1;
    for (int k = 0; k < n_outer; k++)
        outer *= d[k];
    int64_t idx[ORTC_STRIDED_MAX_RANK] = {0};
    int64_t off = 0; /* input element offset of the current block */
    for (int64_t b = 0; b < outer; b++) {
        const char *src = x + off * (int64_t)elem;
        if (inner == 2)
            transpose_tiles(o, src, d[r - 2], d[r - 1], s[r - 1], elem);
        else
            copy_row(o, src, d[r - 1], s[r - 1], elem);
        o += block * (int64_t)elem;
        for (int k = n_outer - 1; k >= 0; k--) {
            off += s[k];
            if (++idx[k] < d[k])
                break;
            off -= s[k] * d[k];
            idx[k] = 0;
        }
    }
}
