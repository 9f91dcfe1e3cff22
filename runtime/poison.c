/* poison.c — in AddressSanitizer builds, a plan's poisoning schedule (which
 * arena buffers become live before each step and die after it) and its
 * application to the arena and scratch of the execution context running.
 * Knows buffers, not values: the planner decided what shares a buffer.
 * Constants and folded values (always readable, outside the arena) and the
 * caller's inputs and outputs are not touched. Empty when not built with
 * ASan.
 */
#include "poison.h"

#if ORTC_POISON

#include <sanitizer/asan_interface.h>
#include <stdbool.h>
#include <stdlib.h>

#include "session_impl.h"

typedef struct region {
    size_t offset, bytes;
} region;

/* born[i] .. born[i + 1] - 1 index births of step i; the same for dies
 * (dies and deaths share born's and births' allocations) */
struct ortc_poison {
    int n_steps;
    size_t arena_bytes;   /* the arena allocation (a multiple of 64) */
    size_t scratch_alloc; /* the scratch allocation */
    size_t *born, *dies;
    region *births; /* exact sizes: the byte after a buffer stays poisoned */
    region *deaths; /* sizes with their alignment padding */
};

static size_t align_up(size_t x)
{
    return (x + ORTC_ARENA_ALIGN - 1) & ~(size_t)(ORTC_ARENA_ALIGN - 1);
}

void ortc_poison_free(struct ortc_poison *z)
{
    if (!z)
        return;
    free(z->born);
    free(z->births);
    free(z);
}

static int clamp_step(int i, int n_steps)
{
    return i < 0 ? 0 : i >= n_steps ? n_steps - 1 : i;
}

ortc_status ortc_poison_plan(struct ortc_session *s, struct ortc_plan *p,
                             const ortc_plan_buffer *bufs, size_t n)
{
    ortc_poison_free(p->poison);
    p->poison = NULL;
    int ns = p->n_steps;
    if (ns <= 0)
        return ORTC_STATUS_OK;
    struct ortc_poison *z = calloc(1, sizeof *z);
    if (z) {
        z->born = calloc(2 * ((size_t)ns + 1), sizeof *z->born);
        z->births = calloc(2 * n + 1, sizeof *z->births);
    }
    if (!z || !z->born || !z->births) {
        ortc_poison_free(z);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                            "out of memory for the arena's poisoning schedule");
    }
    z->dies = z->born + ns + 1;
    z->deaths = z->births + n;
    z->n_steps = ns;
    z->arena_bytes = p->stats.arena_bytes;
    z->scratch_alloc = align_up(p->stats.scratch_bytes);
    /* counting sort by step: counts, prefix sums, then placement */
    /* a buffer alive past the last step (what a continuation reads, its
     * graph outputs) never dies here: the next run's start poisons it */
    for (size_t b = 0; b < n; b++) {
        z->born[clamp_step(bufs[b].first, ns) + 1]++;
        if (bufs[b].last < ns)
            z->dies[clamp_step(bufs[b].last, ns) + 1]++;
    }
    for (int i = 0; i < ns; i++) {
        z->born[i + 1] += z->born[i];
        z->dies[i + 1] += z->dies[i];
    }
    size_t *pos = calloc(2 * (size_t)ns, sizeof *pos); /* filled so far: births, then deaths */
    if (!pos) {
        ortc_poison_free(z);
        return ortc_err_set(&s->err, ORTC_STATUS_OUT_OF_MEMORY,
                            "out of memory for the arena's poisoning schedule");
    }
    for (size_t b = 0; b < n; b++) {
        int f = clamp_step(bufs[b].first, ns), l = clamp_step(bufs[b].last, ns);
        z->births[z->born[f] + pos[f]++] = (region){bufs[b].offset, bufs[b].size};
        if (bufs[b].last < ns)
            z->deaths[z->dies[l] + pos[ns + l]++] =
                (region){bufs[b].offset, align_up(bufs[b].size)};
    }
    free(pos);
    p->poison = z;
    return ORTC_STATUS_OK;
}

static char *arena_of(const struct ortc_plan *p, const struct ortc_exec *e)
{
    return e ? e->arena : p->arena;
}

static char *scratch_of(const struct ortc_plan *p, const struct ortc_exec *e)
{
    return e ? e->scratch : p->scratch;
}

void ortc_poison_run_begin(const struct ortc_plan *p, const struct ortc_exec *e)
{
    const struct ortc_poison *z = p->poison;
    if (!z)
        return;
    if (arena_of(p, e))
        ASAN_POISON_MEMORY_REGION(arena_of(p, e), z->arena_bytes);
    if (scratch_of(p, e))
        ASAN_POISON_MEMORY_REGION(scratch_of(p, e), z->scratch_alloc);
}

static void mark(char *at, size_t bytes, bool live)
{
    if (live)
        ASAN_UNPOISON_MEMORY_REGION(at, bytes);
    else
        ASAN_POISON_MEMORY_REGION(at, bytes);
}

/* Step i's boundary: before it (live) its births and its scratch become
 * addressable; after it its deaths and the whole scratch are poisoned. */
static void step_mark(const struct ortc_plan *p, const struct ortc_exec *e, int i, bool live)
{
    const struct ortc_poison *z = p->poison;
    if (!z || i < 0 || i >= z->n_steps)
        return;
    const size_t *at = live ? z->born : z->dies;
    const region *r = live ? z->births : z->deaths;
    char *arena = arena_of(p, e), *scratch = scratch_of(p, e);
    for (size_t k = at[i]; arena && k < at[i + 1]; k++)
        mark(arena + r[k].offset, r[k].bytes, live);
    if (scratch)
        mark(scratch, live ? p->steps[i].ctx.scratch_bytes : z->scratch_alloc, live);
}

void ortc_poison_step_begin(const struct ortc_plan *p, const struct ortc_exec *e, int i)
{
    step_mark(p, e, i, true);
}

void ortc_poison_step_end(const struct ortc_plan *p, const struct ortc_exec *e, int i)
{
    step_mark(p, e, i, false);
}

#else
typedef int ortc_poison_not_built; /* not an ASan build: nothing here */
#endif
