/* pool.c — the run's pool (pool.h): a bump allocator over kept chunks.
 * Under AddressSanitizer what a reset releases is poisoned, so a pointer
 * kept from an earlier run is reported when read.
 */
#include "pool.h"

#include <stdint.h>
#include <stdlib.h>

#include "operator.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN 64
#define MIN_CHUNK ((size_t)64 << 10)

struct ortc_pool_chunk {
    ortc_pool_chunk *next;
    size_t size; /* bytes of data */
    _Alignas(ALIGN) unsigned char data[];
};

void ortc_pool_init(ortc_pool *pool, size_t limit)
{
    *pool = (ortc_pool){.limit = limit};
}

void ortc_pool_free(ortc_pool *pool)
{
    for (ortc_pool_chunk *c = pool->chunks, *next; c; c = next) {
        next = c->next;
        UNPOISON(c->data, c->size);
        free(c);
    }
    pool->chunks = NULL;
    pool->off = 0;
    pool->used = 0;
}

void ortc_pool_reset(ortc_pool *pool)
{
    if (pool->used > pool->high)
        pool->high = pool->used;
    if (pool->chunks && pool->chunks->next)
        ortc_pool_free(pool); /* the next allocation makes one of `high` bytes */
    else if (pool->chunks)
        POISON(pool->chunks->data, pool->chunks->size);
    pool->off = 0;
    pool->used = 0;
}

void *ortc_pool_alloc(ortc_pool *pool, size_t bytes)
{
    if (!pool)
        return NULL;
    if (bytes > SIZE_MAX / 2)
        return NULL;
    size_t n = bytes ? (bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1) : ALIGN;
    if (pool->limit && (pool->used > pool->limit || n > pool->limit - pool->used))
        return NULL;
    ortc_pool_chunk *c = pool->chunks;
    if (!c || c->size - pool->off < n) {
        size_t size = n > MIN_CHUNK ? n : MIN_CHUNK;
        if (!c && pool->high > size)
            size = (pool->high + ALIGN - 1) & ~(size_t)(ALIGN - 1);
        if (c && c->size <= SIZE_MAX / 4 && 2 * c->size > size)
            size = 2 * c->size;
        ortc_pool_chunk *nc = aligned_alloc(ALIGN, sizeof *nc + size);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->size = size;
        POISON(nc->data, size);
        pool->chunks = c = nc;
        pool->off = 0;
        pool->n_chunks_made++;
    }
    void *p = c->data + pool->off;
    pool->off += n;
    pool->used += n;
    UNPOISON(p, bytes ? bytes : 1);
    return p;
}

size_t ortc_pool_used(const ortc_pool *pool)
{
    return pool ? pool->used : 0;
}

size_t ortc_pool_limit(const ortc_pool *pool)
{
    return pool ? pool->limit : 0;
}

bool ortc_pool_owns(const ortc_pool *pool, const void *p)
{
    if (!pool || !p)
        return false;
    for (const ortc_pool_chunk *c = pool->chunks; c; c = c->next)
        if ((const unsigned char *)p >= c->data && (const unsigned char *)p < c->data + c->size)
            return true;
    return false;
}
