/* pipeline.h — loads items (decodes and preprocesses images) on worker
 * threads ahead of the consumer, which takes them one by one in their
 * original order. The consumer (the thread running the model) can thus run
 * one batch while the workers prepare the next. Knows nothing of images or
 * models: a load callback fills one item's floats.
 */
#ifndef ORTC_TOOLS_PIPELINE_H
#define ORTC_TOOLS_PIPELINE_H

#include <stddef.h>

/* Fills item `index`'s `n_floats` floats at `out`. Returns 0, or -1 with a
 * one-line reason in err. Called on worker threads, several at once (for
 * different items): it must be thread-safe. */
typedef int (*ortc_pipeline_load_fn)(void *user, size_t index, float *out, char *err,
                                     size_t errlen);

typedef struct ortc_pipeline ortc_pipeline;

#define ORTC_PIPELINE_ERR_LEN 512

/* Starts `workers` threads (>= 1) loading items 0..n_items-1 in order into a
 * ring of `ahead` item buffers (>= 1) of n_floats each: a worker runs at
 * most `ahead` items in front of the consumer. 0, or -1 with err set (out
 * of memory, or a thread could not be started). */
int ortc_pipeline_start(ortc_pipeline **out, size_t n_items, size_t n_floats, size_t ahead,
                        int workers, ortc_pipeline_load_fn load, void *user, char *err,
                        size_t errlen);

/* Waits for the next item in order. Returns its index and sets *data to its
 * floats (valid until ortc_pipeline_release) and *item_err to NULL; or, when
 * its load failed, sets *data to NULL and *item_err to the reason (valid
 * until release). Returns (size_t)-1 when every item has been taken. Call
 * ortc_pipeline_release on each item before taking the next. */
size_t ortc_pipeline_next(ortc_pipeline *p, const float **data, const char **item_err);
/* Gives the last item's buffer back to the workers. */
void ortc_pipeline_release(ortc_pipeline *p);

/* Stops the workers (items not yet loaded are not loaded), joins them and
 * frees everything. May be called at any point; NULL is a no-op. */
void ortc_pipeline_stop(ortc_pipeline *p);

#endif
