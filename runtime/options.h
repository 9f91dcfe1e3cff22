/* options.h — ortc_options defaults, shared by sessions and the graph
 * passes (which run without a session in tests and tools). Private.
 */
#ifndef ORTC_OPTIONS_H
#define ORTC_OPTIONS_H

#include "ortc/ortc.h"

/* Replaces every "0 = default" field of o by its value (threads: the
 * number of cores; plan, tensor, arena and data-dependent size limits). */
void ortc_options_complete(ortc_options *o);

#endif /* ORTC_OPTIONS_H */
