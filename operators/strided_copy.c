/* strided_copy.c — ortc_strided_copy (see strided_copy.h): merge contiguous
 * dims, then walk the outer dims with an odometer and hand the innermost
 * one or two dims to a row copy or a tiled 2-D transpose; large transposes
 * split their tile rows over threads (ortc_strided_copy_threads). Bytes
 * only; no dtype knowledge beyond the element size.
 */
#include "strided_copy.h"

#include <omp.h>
#include <string.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

/* Tile edge of the 2-D transpose: a 32x32 tile of 4-byte elements is 4 KiB
 * each side, well inside L1. (Measured on NCHW <-> NHWC of (8,64,112,112)
 * float: 32 moves about 8 GB/s both ways; 16 was half as fast one way.) */
#define TILE 32
/* Transposes of at least this many elements use the threads asked for:
 * ConvNeXt's NCHW <-> NHWC of (96, 3136) floats took 0.19-0.21 ms on one
 * thread (2 cores); below this a parallel region costs more than it saves. */
#define THREADED_MIN_ELEMS ((int64_t)1 << 15)

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

#if defined(__SSE2__)
// One tile of 4-byte elements, rows [i0, i1) and columns [j0, j1) of out
// (m, n) = in transposed (element (i, j) at i + j*s): 4x4 blocks through
// SSE registers (four loads, a shuffle transpose, four stores instead of
// sixteen single moves), the ragged edges one by one.
static void tile4(char *out, const char *in, int64_t n, int64_t s, int64_t i0, int64_t i1,
                  int64_t j0, int64_t j1)
{
    /* byte addresses: the data need not be 4-byte aligned */
#define AT_IN(i, j) (in + ((i) + (j)*s) * 4)
#define AT_OUT(i, j) (out + ((i)*n + (j)) * 4)
    int64_t i = i0;
    for (; i + 4 <= i1; i += 4) {
        int64_t j = j0;
        for (; j + 4 <= j1; j += 4) {
            __m128 r0 = _mm_loadu_ps((const float *)AT_IN(i, j));
            __m128 r1 = _mm_loadu_ps((const float *)AT_IN(i, j + 1));
            __m128 r2 = _mm_loadu_ps((const float *)AT_IN(i, j + 2));
            __m128 r3 = _mm_loadu_ps((const float *)AT_IN(i, j + 3));
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps((float *)AT_OUT(i, j), r0);
            _mm_storeu_ps((float *)AT_OUT(i + 1, j), r1);
            _mm_storeu_ps((float *)AT_OUT(i + 2, j), r2);
            _mm_storeu_ps((float *)AT_OUT(i + 3, j), r3);
        }
        for (; j < j1; j++)
            for (int64_t k = 0; k < 4; k++)
                MOVE(AT_OUT(i + k, j), AT_IN(i + k, j), 4);
    }
    for (; i < i1; i++)
        for (int64_t j = j0; j < j1; j++)
            MOVE(AT_OUT(i, j), AT_IN(i, j), 4);
#undef AT_IN
#undef AT_OUT
}
#endif

// out: (m, n) dense, in: element (i, j) at i + j*s (a transposed view);
// the tile rows starting at rows [r0, r1) only
static void transpose_tiles(char *out, const char *in, int64_t m, int64_t n, int64_t s, size_t elem,
                            int64_t r0, int64_t r1)
{
    int64_t e = (int64_t)elem;
    for (int64_t i0 = r0; i0 < r1; i0 += TILE) {
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
#if defined(__SSE2__)
            case 4: tile4(out, in, n, s, i0, i1, j0, j1); break;
#else
            case 4: TILE_LOOP(4);
#endif
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

/* The outer blocks' transposes (dims d[0..r), strides s, innermost pair
 * transposed) with their tile rows shared out over `threads`. */
static void transpose_threaded(char *o, const char *x, int r, const int64_t *d, const int64_t *s,
                               int64_t outer, size_t elem, int threads)
{
    const int64_t m = d[r - 2], n = d[r - 1], rows = (m + TILE - 1) / TILE;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t job = 0; job < outer * rows; job++) {
        int64_t b = job / rows, i0 = job % rows * TILE, off = 0, rest = b;
        for (int k = r - 3; k >= 0; k--) { /* block b's input offset */
            off += rest % d[k] * s[k];
            rest /= d[k];
        }
        transpose_tiles(o + b * m * n * (int64_t)elem, x + off * (int64_t)elem, m, n, s[r - 1],
                        elem, i0, i0 + TILE < m ? i0 + TILE : m);
    }
}

void ortc_strided_copy(void *out, const void *in, int rank, const int64_t *dims,
                       const int64_t *strides, size_t elem)
{
    ortc_strided_copy_threads(out, in, rank, dims, strides, elem, 1);
}

void ortc_strided_copy_threads(void *out, const void *in, int rank, const int64_t *dims,
                               const int64_t *strides, size_t elem, int threads)
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
    if (inner == 2 && threads > 1 && outer * block >= THREADED_MIN_ELEMS) {
        transpose_threaded(o, x, r, d, s, outer, elem, threads);
        return;
    }
    int64_t idx[ORTC_STRIDED_MAX_RANK] = {0};
    int64_t off = 0; /* input element offset of the current block */
    for (int64_t b = 0; b < outer; b++) {
        const char *src = x + off * (int64_t)elem;
        if (inner == 2)
            transpose_tiles(o, src, d[r - 2], d[r - 1], s[r - 1], elem, 0, d[r - 2]);
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
