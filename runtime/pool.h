/* pool.h — the run's pool: memory for values whose size only a run tells
 * (sequences, optionals, NonZero's output, ...), one per execution context
 * of a top-level plan. A bump allocator over chunks that it keeps across
 * runs: a run that fits in what the previous ones needed allocates
 * nothing. Not thread-safe (one context runs in one thread). Private.
 */
#ifndef ORTC_POOL_H
#define ORTC_POOL_H

#include <stddef.h>

typedef struct ortc_pool_chunk ortc_pool_chunk;

typedef struct ortc_pool {
    ortc_pool_chunk *chunks; /* newest first; the newest is being filled */
    size_t off;              /* bytes used of the newest chunk */
    size_t used;             /* bytes handed out since the last reset */
    size_t high;             /* most bytes one run has used */
    size_t limit;            /* refuse beyond this (0: no limit) */
    size_t n_chunks_made;    /* chunks allocated over the pool's life */
} ortc_pool;

/* A zeroed pool is empty and valid; limit may be set directly. */
void ortc_pool_init(ortc_pool *pool, size_t limit);
/* Starts a run: everything handed out before is released (not freed). When
 * the last run needed several chunks they are freed, and the next
 * allocation makes one chunk as large as the most any run used, so the
 * runs after it fit in one. */
void ortc_pool_reset(ortc_pool *pool);
/* Frees every chunk (the pool stays valid and empty). */
void ortc_pool_free(ortc_pool *pool);

#endif
