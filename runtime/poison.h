/* poison.h — AddressSanitizer poisoning of a plan's activation memory: at
 * each step only the arena buffers alive at that step (and the scratch the
 * step declared) are addressable, so a kernel that overruns its output or
 * reads a value whose buffer died is reported. Compiled out (empty inline
 * functions) when not built with ASan. Private to runtime/.
 */
#ifndef ORTC_POISON_H
#define ORTC_POISON_H

#include <stddef.h>

#include "ortc/ortc.h"
#include "planner.h"

#if defined(__SANITIZE_ADDRESS__)
#define ORTC_POISON 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ORTC_POISON 1
#endif
#endif
#ifndef ORTC_POISON
#define ORTC_POISON 0
#endif

struct ortc_session;
struct ortc_plan;
struct ortc_exec;
struct ortc_poison;

#if ORTC_POISON
/* Records p's schedule (p->poison) from its n arena buffers as the planner
 * placed them (offsets, sizes, live intervals [first, last] in steps; a
 * buffer shared by in-place and view values spans their union), once
 * offsets, p->stats.arena_bytes and p->stats.scratch_bytes are final.
 * Errors (out of memory) in s->err. */
ortc_status ortc_poison_plan(struct ortc_session *s, struct ortc_plan *p,
                             const ortc_plan_buffer *bufs, size_t n);
void ortc_poison_free(struct ortc_poison *z);
/* A run of p in context e (NULL: the plan's own) starts: its whole arena
 * and scratch become unaddressable. */
void ortc_poison_run_begin(const struct ortc_plan *p, const struct ortc_exec *e);
/* Before step i: the buffers it produces and its declared scratch become
 * addressable. After step i (also when it failed or was skipped): the
 * buffers whose last reader it was and the scratch become unaddressable. */
void ortc_poison_step_begin(const struct ortc_plan *p, const struct ortc_exec *e, int i);
void ortc_poison_step_end(const struct ortc_plan *p, const struct ortc_exec *e, int i);
#else
static inline ortc_status ortc_poison_plan(struct ortc_session *s, struct ortc_plan *p,
                                           const ortc_plan_buffer *bufs, size_t n)
{
    (void)s, (void)p, (void)bufs, (void)n;
    return ORTC_STATUS_OK;
}
static inline void ortc_poison_free(struct ortc_poison *z)
{
    (void)z;
}
static inline void ortc_poison_run_begin(const struct ortc_plan *p, const struct ortc_exec *e)
{
    (void)p, (void)e;
}
static inline void ortc_poison_step_begin(const struct ortc_plan *p, const struct ortc_exec *e,
                                          int i)
{
    (void)p, (void)e, (void)i;
}
static inline void ortc_poison_step_end(const struct ortc_plan *p, const struct ortc_exec *e, int i)
{
    (void)p, (void)e, (void)i;
}
#endif

#endif
