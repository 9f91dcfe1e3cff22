/* planner.c — greedy-by-size offset assignment and its lower bound.
 * Buffers are sorted by size (largest first); each goes into the smallest
 * gap, among buffers already placed that are alive at the same time, that
 * fits it, else after the highest of them.
 */
#include "planner.h"

#include <stdint.h>
#include <stdlib.h>

static size_t align_up(size_t x)
{
    return (x + ORTC_ARENA_ALIGN - 1) & ~(size_t)(ORTC_ARENA_ALIGN - 1);
}

static int overlaps_in_time(const ortc_plan_buffer *a, const ortc_plan_buffer *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* sort key: qsort has no context argument, so the key carries what it needs */
typedef struct {
    size_t size;
    int first;
    size_t index;
} size_key;

static int by_size_desc(const void *pa, const void *pb)
{
    const size_key *a = pa, *b = pb;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->index < b->index ? -1 : 1;
}

static int by_offset(const void *pa, const void *pb)
{
    const ortc_plan_buffer *a = *(const ortc_plan_buffer *const *)pa;
    const ortc_plan_buffer *b = *(const ortc_plan_buffer *const *)pb;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

size_t ortc_plan_assign(ortc_plan_buffer *bufs, size_t n)
{
    if (n == 0)
        return 0;
    size_key *order = malloc(n * sizeof *order);
    const ortc_plan_buffer **placed = malloc(n * sizeof *placed);
    const ortc_plan_buffer **live = malloc(n * sizeof *live);
    if (!order || !placed || !live) {
        free(order);
        free(placed);
        free(live);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (size_key){bufs[i].size, bufs[i].first, i};
    qsort(order, n, sizeof *order, by_size_desc);

    size_t n_placed = 0, arena = 0;
    for (size_t k = 0; k < n; k++) {
        ortc_plan_buffer *b = &bufs[order[k].index];
        size_t need = align_up(b->size);
        size_t n_live = 0;
        for (size_t j = 0; j < n_placed; j++)
            if (overlaps_in_time(placed[j], b))
                live[n_live++] = placed[j];
        qsort(live, n_live, sizeof *live, by_offset);
        size_t prev_end = 0, best = SIZE_MAX, best_gap = SIZE_MAX;
        for (size_t j = 0; j < n_live; j++) {
            if (live[j]->offset > prev_end) {
                size_t gap = live[j]->offset - prev_end;
                if (gap >= need && gap < best_gap) {
                    best_gap = gap;
                    best = prev_end;
                }
            }
            size_t end = live[j]->offset + align_up(live[j]->size);
            if (end > prev_end)
                prev_end = end;
        }
        b->offset = best != SIZE_MAX ? best : prev_end;
        if (b->offset + need > arena)
            arena = b->offset + need;
        placed[n_placed++] = b;
    }
    free(order);
    free(placed);
    free(live);
    return arena;
}

size_t ortc_plan_lower_bound(const ortc_plan_buffer *bufs, size_t n)
{
    int last_step = -1;
    for (size_t i = 0; i < n; i++)
        if (bufs[i].last > last_step)
            last_step = bufs[i].last;
    if (last_step < 0)
        return 0;
    /* difference array over steps */
    size_t steps = (size_t)last_step + 2;
    long long *delta = calloc(steps, sizeof *delta);
    if (!delta)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int first = bufs[i].first < 0 ? 0 : bufs[i].first;
        delta[first] += (long long)align_up(bufs[i].size);
        delta[bufs[i].last + 1] -= (long long)align_up(bufs[i].size);
    }
    long long cur = 0, best = 0;
    for (size_t s = 0; s < steps; s++) {
        cur += delta[s];
        if (cur > best)
            best = cur;
    }
    free(delta);
    return (size_t)best;
}

int ortc_plan_has_conflict(const ortc_plan_buffer *bufs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (!overlaps_in_time(&bufs[i], &bufs[j]) || !bufs[i].size || !bufs[j].size)
                continue;
            size_t ai = bufs[i].offset, bi = ai + bufs[i].size;
            size_t aj = bufs[j].offset, bj = aj + bufs[j].size;
            if (ai < bj && aj < bi)
                return 1;
        }
    return 0;
}

int ortc_plan_slices_conflict(const ortc_plan_slice *s, size_t n, const ortc_plan_buffer *bufs,
                              size_t n_bufs)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].buffer >= n_bufs || s[i].offset > bufs[s[i].buffer].size ||
            s[i].size > bufs[s[i].buffer].size - s[i].offset)
            return 1;
        for (size_t j = i + 1; j < n; j++)
            if (s[j].buffer == s[i].buffer && s[i].size && s[j].size &&
                s[i].offset < s[j].offset + s[j].size && s[j].offset < s[i].offset + s[i].size)
                return 1;
    }
    return 0;
}
