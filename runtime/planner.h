/* planner.h — offsets for activation buffers in one arena, given each
 * buffer's size and live interval in execution steps: greedy by size
 * (Pisarchyk & Lee, 2020). Pure functions, no knowledge of graphs. Private.
 */
#ifndef ORTC_PLANNER_H
#define ORTC_PLANNER_H

#include <stddef.h>

#define ORTC_ARENA_ALIGN 64

typedef struct ortc_plan_buffer {
    size_t size;   /* bytes */
    int first;     /* step that writes it first */
    int last;      /* last step that reads it (>= first) */
    size_t offset; /* output: aligned to ORTC_ARENA_ALIGN */
} ortc_plan_buffer;

/* Assigns offsets so no two buffers whose intervals intersect overlap in
 * memory; returns the arena size (0 for no buffers). Largest buffers first,
 * each at the lowest-waste gap among buffers alive at the same time.
 * Returns (size_t)-1 if out of memory for the working arrays. */
size_t ortc_plan_assign(ortc_plan_buffer *bufs, size_t n);

/* Max over steps of the sum of aligned sizes alive at that step: no
 * arena can be smaller. */
size_t ortc_plan_lower_bound(const ortc_plan_buffer *bufs, size_t n);

/* 1 if two buffers alive at the same step overlap in memory, else 0. */
int ortc_plan_has_conflict(const ortc_plan_buffer *bufs, size_t n);

/* A value written by its own step into part of a buffer shared with other
 * such values (the slices of a Concat's output its inputs' producers write,
 * compile.c): bytes [offset, offset + size) of bufs[buffer]. */
typedef struct ortc_plan_slice {
    size_t buffer;
    size_t offset, size;
} ortc_plan_slice;

/* 1 if two slices of one buffer overlap or a slice reaches past its
 * buffer's size (each byte of a buffer has at most one writer), else 0. */
int ortc_plan_slices_conflict(const ortc_plan_slice *s, size_t n, const ortc_plan_buffer *bufs,
                              size_t n_bufs);

#endif
