/* backend.h — the kernel backend as the runtime sees it: one oneDNN engine
 * and stream per session, created and destroyed here. Everything else about
 * oneDNN stays inside operators/. Private.
 */
#ifndef ORTC_BACKEND_H
#define ORTC_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "ortc/ortc.h"

struct ortc_backend;

/* Creates the CPU engine and an in-order stream. threads > 0. */
ortc_status ortc_backend_create(struct ortc_backend **out, int threads, ortc_errbuf *err);
void ortc_backend_destroy(struct ortc_backend *be); /* NULL is a no-op */
/* Makes kernels started from the calling thread use the backend's thread
 * count (OpenMP's setting is per calling thread). */
void ortc_backend_enter(struct ortc_backend *be);
/* Waits for queued work of context 0 / of context k. */
ortc_status ortc_backend_wait(struct ortc_backend *be, ortc_errbuf *err);
ortc_status ortc_backend_wait_context(struct ortc_backend *be, int k, ortc_errbuf *err);
/* Creates the stream of execution context k (1 <= k < ORTC_MAX_CONTEXTS) if
 * it has none; call under the session's lock. */
ortc_status ortc_backend_add_context(struct ortc_backend *be, int k, ortc_errbuf *err);

/* Packing constant weights (and creating primitives) on other threads
 * while a plan compiles: pack_async turns it on or off for the kernels the
 * calling thread prepares from now on and returns the previous setting (of
 * this thread). Jobs run in the order queued; pack_queued and pack_done
 * count the packing ones (a constant read by packing may be freed once
 * pack_done reaches the pack_queued seen after its last consumer's
 * prepare). pack_wait waits for all, stops the thread, and returns the
 * first job's failure (its message names the node) into err. */
bool ortc_backend_pack_async(struct ortc_backend *be, bool on);
size_t ortc_backend_pack_queued(struct ortc_backend *be);
size_t ortc_backend_pack_done(struct ortc_backend *be);
ortc_status ortc_backend_pack_wait(struct ortc_backend *be, ortc_errbuf *err);

/* Whether oneDNN can run bfloat16 kernels on this CPU (its effective ISA
 * has AVX-512 BF16, or AMX; ONEDNN_MAX_CPU_ISA may lower it). */
bool ortc_backend_has_bf16(void);

/* The name of a value's layout for display: "plain", or a blocked layout in
 * oneDNN's notation (outer dims by decreasing stride, a blocked dim in
 * capitals, then the inner blocks: "aBcd16b"; " bf16" after it when the
 * value holds bfloat16). Returns buf. */
struct ortc_layout;
const char *ortc_backend_layout_str(const struct ortc_layout *layout, char *buf, size_t len);

#endif /* ORTC_BACKEND_H */
