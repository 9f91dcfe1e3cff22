/* pipeline.c — an ordered producer/consumer ring: worker threads claim item
 * indices in increasing order and load each into ring slot index % ahead;
 * the consumer takes items strictly in order and frees their slots. One
 * mutex and two condition variables; no item is loaded twice or skipped.
 * Workers that find the ring full sleep until half of it is free again, then
 * refill it in a burst: one wake-up per half ring rather than one per item,
 * so a consumer running multi-threaded kernels is not preempted by a worker
 * waking for every image (each wake-up is a futex call on the consumer's
 * thread and a context switch on a busy core).
 */
#include "pipeline.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    int done;   /* loaded (successfully or not), waiting for the consumer */
    int failed; /* load returned an error; err says why */
    char err[ORTC_PIPELINE_ERR_LEN];
} slot;

struct ortc_pipeline {
    pthread_mutex_t mu;
    pthread_cond_t item_ready; /* a slot became done (the consumer waits) */
    pthread_cond_t slot_free;  /* the consumer released a slot, or stop (workers wait) */
    size_t n_items, n_floats, ahead;
    float *bufs;       /* ahead * n_floats */
    slot *slots;       /* ahead */
    size_t next_claim; /* next index a worker will load */
    size_t consumed;   /* items released by the consumer */
    size_t refill;     /* free slots that wake sleeping workers (1..ahead) */
    int sleeping;      /* workers waiting for free slots */
    int stop;
    ortc_pipeline_load_fn load;
    void *user;
    pthread_t *threads;
    int n_threads;
};

static void *worker_main(void *arg)
{
    ortc_pipeline *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->next_claim < p->n_items) {
        size_t i = p->next_claim;
        if (i >= p->consumed + p->ahead) { /* its slot still holds item i - ahead */
            p->sleeping++;
            pthread_cond_wait(&p->slot_free, &p->mu);
            p->sleeping--;
            continue;
        }
        p->next_claim++;
        slot *s = &p->slots[i % p->ahead];
        float *buf = p->bufs + (i % p->ahead) * p->n_floats;
        pthread_mutex_unlock(&p->mu);
        /* The slot is this worker's until `done` is set under the mutex. */
        s->err[0] = '\0';
        int rc = p->load(p->user, i, buf, s->err, sizeof s->err);
        if (rc && !s->err[0])
            snprintf(s->err, sizeof s->err, "item %zu could not be loaded", i);
        pthread_mutex_lock(&p->mu);
        s->failed = rc != 0;
        s->done = 1;
        pthread_cond_broadcast(&p->item_ready);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int ortc_pipeline_start(ortc_pipeline **out, size_t n_items, size_t n_floats, size_t ahead,
                        int workers, ortc_pipeline_load_fn load, void *user, char *err,
                        size_t errlen)
{
    *out = NULL;
    if (ahead < 1 || workers < 1 || !load || n_floats == 0) {
        ortc_tools_err(err, errlen, "pipeline: invalid arguments");
        return -1;
    }
    if (ahead > SIZE_MAX / sizeof(float) / n_floats) {
        ortc_tools_err(err, errlen, "pipeline: %zu items of %zu floats overflow memory", ahead,
                       n_floats);
        return -1;
    }
    ortc_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        ortc_tools_err(err, errlen, "out of memory");
        return -1;
    }
    p->n_items = n_items;
    p->n_floats = n_floats;
    p->ahead = ahead;
    p->refill = ahead / 2 > 1 ? ahead / 2 : 1;
    p->load = load;
    p->user = user;
    p->bufs = malloc(ahead * n_floats * sizeof(float));
    p->slots = calloc(ahead, sizeof *p->slots);
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    if (!p->bufs || !p->slots || !p->threads) {
        free(p->bufs);
        free(p->slots);
        free(p->threads);
        free(p);
        ortc_tools_err(err, errlen, "out of memory for %zu preprocessed images (%zu bytes)", ahead,
                       ahead * n_floats * sizeof(float));
        return -1;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->item_ready, NULL);
    pthread_cond_init(&p->slot_free, NULL);
    for (int t = 0; t < workers; t++) {
        int rc = pthread_create(&p->threads[t], NULL, worker_main, p);
        if (rc) {
            ortc_tools_err(err, errlen, "cannot start a preprocessing thread: %s", strerror(rc));
            ortc_pipeline_stop(p);
            return -1;
        }
        p->n_threads++;
    }
    *out = p;
    return 0;
}

size_t ortc_pipeline_next(ortc_pipeline *p, const float **data, const char **item_err)
{
    *data = NULL;
    *item_err = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->consumed >= p->n_items) {
        pthread_mutex_unlock(&p->mu);
        return (size_t)-1;
    }
    size_t i = p->consumed;
    slot *s = &p->slots[i % p->ahead];
    while (!s->done)
        pthread_cond_wait(&p->item_ready, &p->mu);
    if (s->failed)
        *item_err = s->err;
    else
        *data = p->bufs + (i % p->ahead) * p->n_floats;
    pthread_mutex_unlock(&p->mu);
    return i;
}

void ortc_pipeline_release(ortc_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->consumed < p->n_items) {
        slot *s = &p->slots[p->consumed % p->ahead];
        s->done = 0;
        s->failed = 0;
        p->consumed++;
        /* free slots: consumed + ahead - next_claim; a sleeping worker's
         * next item is next_claim, so waking at `refill` free slots can
         * never leave the consumer waiting on an unclaimed item (then
         * next_claim == consumed: all `ahead` slots are free) */
        if (p->sleeping && p->consumed + p->ahead - p->next_claim >= p->refill)
            pthread_cond_broadcast(&p->slot_free);
    }
    pthread_mutex_unlock(&p->mu);
}

void ortc_pipeline_stop(ortc_pipeline *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->slot_free);
    pthread_mutex_unlock(&p->mu);
    for (int t = 0; t < p->n_threads; t++)
        pthread_join(p->threads[t], NULL);
    pthread_cond_destroy(&p->slot_free);
    pthread_cond_destroy(&p->item_ready);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->slots);
    free(p->bufs);
    free(p);
}
