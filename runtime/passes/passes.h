/* passes.h — graph passes run at session creation (options.optimize): they
 * rewrite the model's IR before any plan is compiled. Each pass is a small
 * unit with its own tests; ortc_passes_run applies them in order. Private.
 */
#ifndef ORTC_PASSES_H
#define ORTC_PASSES_H

#include "error.h"
#include "ir.h"
#include "ortc/ortc.h"

struct ortc_backend;

/* Applies every pass to m's top-level graph (operators already resolved).
 * Nodes folded on oneDNN kernels use *backend, created there on first need
 * (the session's; NULL: the passes make and destroy their own). On error
 * err says which pass and node. */
ortc_status ortc_passes_run(ortc_model *m, const ortc_options *opts, struct ortc_backend **backend,
                            ortc_errbuf *err);

#endif
