/* options.c — ortc_options: the public initializer and the defaults every
 * user of the options (session.c, the graph passes) fills in the same way.
 */
#include "options.h"

#include <string.h>
#include <unistd.h>

void ortc_options_init(ortc_options *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 0;
    o->reference = 0;
    o->optimize = 1;
    o->max_plans = 8;
    o->max_concurrent_runs = ORTC_DEFAULT_CONCURRENT_RUNS;
    o->log_level = ORTC_LOG_WARNING;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1024 ? (int)n : 1;
}

void ortc_options_complete(ortc_options *o)
{
    if (o->threads <= 0)
        o->threads = default_threads();
    if (o->max_plans <= 0)
        o->max_plans = 8;
    if (!o->max_tensor_bytes)
        o->max_tensor_bytes = ORTC_DEFAULT_MAX_TENSOR_BYTES;
    if (!o->max_arena_bytes)
        o->max_arena_bytes = ORTC_DEFAULT_MAX_ARENA_BYTES;
    if (o->max_loop_iterations <= 0)
        o->max_loop_iterations = ORTC_DEFAULT_MAX_LOOP_ITERATIONS;
    if (o->max_sequence_length <= 0)
        o->max_sequence_length = ORTC_DEFAULT_MAX_SEQUENCE_LENGTH;
    if (o->max_nms_boxes <= 0)
        o->max_nms_boxes = ORTC_DEFAULT_MAX_NMS_BOXES;
    if (!o->max_dynamic_bytes)
        o->max_dynamic_bytes = ORTC_DEFAULT_MAX_DYNAMIC_BYTES;
}
