/* dnnl_pack.c — work of a plan's compile done on other threads: packing
 * constant weights, and creating primitives (oneDNN's JIT) whose
 * descriptors the compiling thread chose. The compiling thread goes on
 * choosing the next steps' descriptors (layouts flow in graph order) while
 * workers fault in and fill the packed copies and generate the kernels,
 * one job per thread at a time, packing single-threaded (no OpenMP team
 * spinning beside the compiler); at the wait the compiling thread takes
 * jobs too. Not the packing itself (ortc_dnnl_pack_now, dnnl_util.c) nor
 * when constants may be freed (the compiler's, through the job counts).
 */
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "dnnl_util.h"

/* worker threads: the session's threads less the compiling one */
#define PACK_MAX_WORKERS 8

/* Bytes of packed copies queued but not yet filled above which the
 * compiling thread packs queued jobs itself before it goes on: while a job
 * waits, both its plain source and its packed copy are alive, so without
 * a bound a compile that creates primitives faster than the workers pack
 * (vit_b_16: 1.7x the weights' bytes at the peak) holds every plain weight
 * until the end instead of freeing each one soon after its packing. */
#define PACK_MAX_PENDING ((size_t)16 << 20)

typedef struct pack_job {
    dnnl_memory_desc_t dst_md, src_md;
    const void *src;
    void *dst;
    /* a primitive to create instead (pd set): from this copy of the
     * compiler's descriptor, with the compiler's thread count, into step
     * (NULL once settled: the step may be gone). The copy shares the
     * descriptor's state with the compiler's, which the compiler frees: the
     * compiling thread destroys it too, at the wait, so the last reference
     * never goes on another thread. */
    dnnl_primitive_desc_t pd;
    ortc_dnnl_step *step;
    int threads;
    const ortc_node *node; /* named by a failure */
    size_t bytes;          /* of dst */
    bool finished;
} pack_job;

typedef struct pack_worker {
    struct ortc_backend *be;
    pthread_t tid;
    dnnl_stream_t stream; /* its own: streams are not thread-safe */
} pack_worker;

struct ortc_pack_queue {
    pthread_mutex_t mu;
    pthread_cond_t more; /* a job queued, or stop */
    pthread_cond_t idle; /* a job finished */
    pack_job *jobs;
    size_t cap;
    size_t queued;  /* jobs[0, queued) */
    size_t claimed; /* jobs[0, claimed) taken by some thread */
    size_t done;    /* jobs[0, done) all finished */
    /* the packing jobs alone, for the compiler's counts: a slow primitive
     * creation must not hold back the freeing of constants packed after
     * it; those before jobs[cursor] are all finished */
    size_t packs_queued, packs_done, cursor;
    size_t pending; /* bytes of the queued jobs not finished */
    size_t failed;  /* index of the first job that failed (SIZE_MAX: none) */
    ortc_status status;
    ortc_errbuf err;
    bool stop;
    int n_workers, n_running;
    pack_worker workers[PACK_MAX_WORKERS];
};

/* Runs job j (claimed under the lock; called without it) and records it. */
static void run_job(struct ortc_backend *be, size_t j, dnnl_stream_t stream)
{
    struct ortc_pack_queue *q = be->pack;
    pthread_mutex_lock(&q->mu);
    pack_job job = q->jobs[j];
    bool skip = q->failed < j; /* the compile fails anyway */
    pthread_mutex_unlock(&q->mu);
    ortc_errbuf err = {0};
    ortc_status st = ORTC_STATUS_OK;
    ortc_opctx c = {.node = job.node, .backend = be, .err = &err};
    dnnl_primitive_t prim = NULL;
    if (!skip && job.pd) {
        /* oneDNN sizes some kernels by the creating thread's count: the
         * compiler's, as when it creates the primitive itself */
        int had = omp_get_max_threads();
        if (had != job.threads)
            omp_set_num_threads(job.threads);
        dnnl_status_t s = dnnl_primitive_create(&prim, job.pd);
        if (had != job.threads)
            omp_set_num_threads(had);
        if (s != dnnl_success)
            st = ortc_dnnl_error(&c, s, "dnnl_primitive_create(&st->prim, pd)", __FILE__, __LINE__);
    } else if (!skip) {
        st = ortc_dnnl_pack_now(&c, stream, &job.dst_md, &job.src_md, job.src, job.dst, 1);
    }
    pthread_mutex_lock(&q->mu);
    if (q->jobs[j].step)
        q->jobs[j].step->prim = prim;
    else if (prim)
        dnnl_primitive_destroy(prim);
    if (st && j < q->failed) {
        q->failed = j;
        q->status = st;
        q->err = err;
    }
    q->jobs[j].finished = true;
    q->pending -= q->jobs[j].bytes;
    while (q->done < q->queued && q->jobs[q->done].finished)
        q->done++;
    for (; q->cursor < q->queued && (q->jobs[q->cursor].pd || q->jobs[q->cursor].finished);
         q->cursor++)
        q->packs_done += !q->jobs[q->cursor].pd;
    pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->mu);
}

static void *worker_main(void *arg)
{
    pack_worker *w = arg;
    struct ortc_pack_queue *q = w->be->pack;
    omp_set_num_threads(1);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->claimed == q->queued && !q->stop)
            pthread_cond_wait(&q->more, &q->mu);
        if (q->claimed == q->queued)
            break;
        size_t j = q->claimed++;
        pthread_mutex_unlock(&q->mu);
        run_job(w->be, j, w->stream);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static struct ortc_pack_queue *queue_get(struct ortc_backend *be)
{
    if (be->pack)
        return be->pack;
    struct ortc_pack_queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->n_workers = be->threads - 1 < 1                  ? 1
                   : be->threads - 1 > PACK_MAX_WORKERS ? PACK_MAX_WORKERS
                                                        : be->threads - 1;
    for (int i = 0; i < q->n_workers; i++) {
        q->workers[i].be = be;
        if (dnnl_stream_create(&q->workers[i].stream, be->engine, dnnl_stream_default_flags) !=
            dnnl_success) {
            for (int k = 0; k < i; k++)
                dnnl_stream_destroy(q->workers[k].stream);
            free(q);
            return NULL;
        }
    }
    q->failed = SIZE_MAX;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->more, NULL);
    pthread_cond_init(&q->idle, NULL);
    be->pack = q;
    return q;
}

/* The backend whose compile on this thread has packing on: another
 * thread's compile (a run's sub-plan, while the session's lock holder
 * compiles a new shape) packs at once, and never on this queue. */
static _Thread_local const struct ortc_backend *packing_for;

bool ortc_backend_pack_async(struct ortc_backend *be, bool on)
{
    if (!be)
        return false;
    bool was = packing_for == be;
    if (on && queue_get(be))
        packing_for = be;
    else if (!on && was)
        packing_for = NULL;
    return was;
}

/* Queues job (taking its pd), starting the workers if none run; false:
 * not queued (the caller does the work now). */
static bool enqueue(ortc_opctx *c, const pack_job *job)
{
    struct ortc_pack_queue *q = c->backend->pack;
    pthread_mutex_lock(&q->mu);
    bool ok = true;
    if (q->queued == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        pack_job *jobs = realloc(q->jobs, cap * sizeof *jobs);
        if (jobs) {
            q->jobs = jobs;
            q->cap = cap;
        } else {
            ok = false; /* packed now instead */
        }
    }
    if (ok && q->n_running == 0) {
        q->stop = false;
        for (int i = 0; i < q->n_workers; i++)
            if (pthread_create(&q->workers[q->n_running].tid, NULL, worker_main,
                               &q->workers[q->n_running]) == 0)
                q->n_running++;
        ok = q->n_running > 0;
    }
    if (ok) {
        q->jobs[q->queued++] = *job;
        q->packs_queued += !job->pd;
        q->pending += job->bytes;
        pthread_cond_signal(&q->more);
    }
    /* too much waiting: this thread packs the oldest unclaimed jobs (on the
     * context-0 stream it owns, as at the wait) */
    while (ok && q->pending > PACK_MAX_PENDING && q->claimed < q->queued) {
        size_t j = q->claimed++;
        pthread_mutex_unlock(&q->mu);
        run_job(c->backend, j, c->backend->stream);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

bool ortc_dnnl_pack_later(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                          const dnnl_memory_desc_t *src_md, const void *src, void *dst)
{
    struct ortc_pack_queue *q = c->backend ? c->backend->pack : NULL;
    if (!q || packing_for != c->backend)
        return false;
    pack_job job = {.dst_md = *dst_md,
                    .src_md = *src_md,
                    .src = src,
                    .dst = dst,
                    .node = c->node,
                    .bytes = dnnl_memory_desc_get_size(dst_md)};
    return enqueue(c, &job);
}

bool ortc_dnnl_create_later(ortc_opctx *c, ortc_dnnl_step *st, const_dnnl_primitive_desc_t pd)
{
    struct ortc_pack_queue *q = c->backend ? c->backend->pack : NULL;
    if (!q || packing_for != c->backend)
        return false;
    pack_job job = {.step = st, .threads = omp_get_max_threads(), .node = c->node};
    if (dnnl_primitive_desc_clone(&job.pd, pd) != dnnl_success)
        return false;
    st->later = c->backend;
    if (enqueue(c, &job))
        return true;
    st->later = NULL;
    dnnl_primitive_desc_destroy(job.pd);
    return false;
}

void ortc_dnnl_create_settle(ortc_dnnl_step *st)
{
    struct ortc_backend *be = st->later;
    struct ortc_pack_queue *q = be ? be->pack : NULL;
    st->later = NULL;
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    size_t j = q->queued;
    while (j > 0 && q->jobs[j - 1].step != st)
        j--;
    if (j > 0) {
        j--;
        /* jobs are claimed in order: take those up to st's, as at the wait */
        while (q->claimed <= j) {
            size_t k = q->claimed++;
            pthread_mutex_unlock(&q->mu);
            run_job(be, k, be->stream);
            pthread_mutex_lock(&q->mu);
        }
        while (!q->jobs[j].finished)
            pthread_cond_wait(&q->idle, &q->mu);
        q->jobs[j].step = NULL;
    }
    pthread_mutex_unlock(&q->mu);
}

/* The queue's count of queued (or of finished) packing jobs, read under
 * its lock (0 without a queue). */
static size_t count_read(struct ortc_backend *be, bool finished)
{
    struct ortc_pack_queue *q = be ? be->pack : NULL;
    if (!q)
        return 0;
    pthread_mutex_lock(&q->mu);
    size_t n = finished ? q->packs_done : q->packs_queued;
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t ortc_backend_pack_queued(struct ortc_backend *be)
{
    return count_read(be, false);
}

size_t ortc_backend_pack_done(struct ortc_backend *be)
{
    return count_read(be, true);
}

ortc_status ortc_backend_pack_wait(struct ortc_backend *be, ortc_errbuf *err)
{
    struct ortc_pack_queue *q = be ? be->pack : NULL;
    if (!q)
        return ORTC_STATUS_OK;
    pthread_mutex_lock(&q->mu);
    /* this thread takes jobs too, on the context-0 stream it owns */
    while (q->claimed < q->queued) {
        size_t j = q->claimed++;
        pthread_mutex_unlock(&q->mu);
        run_job(be, j, be->stream);
        pthread_mutex_lock(&q->mu);
    }
    while (q->done < q->queued)
        pthread_cond_wait(&q->idle, &q->mu);
    for (size_t j = 0; j < q->queued; j++) {
        if (q->jobs[j].step)
            q->jobs[j].step->later = NULL;
        if (q->jobs[j].pd)
            dnnl_primitive_desc_destroy(q->jobs[j].pd);
    }
    int n = q->n_running;
    q->stop = true;
    q->n_running = 0;
    pthread_cond_broadcast(&q->more);
    ortc_status st = q->status;
    if (st && err)
        ortc_err_set(err, st, "%s", q->err.msg);
    q->status = ORTC_STATUS_OK;
    q->failed = SIZE_MAX;
    q->queued = q->claimed = q->done = 0;
    q->packs_queued = q->packs_done = q->cursor = 0;
    q->pending = 0;
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; i < n; i++)
        pthread_join(q->workers[i].tid, NULL);
    return st;
}

void ortc_dnnl_pack_free(struct ortc_backend *be)
{
    struct ortc_pack_queue *q = be->pack;
    if (!q)
        return;
    ortc_backend_pack_wait(be, NULL);
    for (int i = 0; i < q->n_workers; i++)
        dnnl_stream_destroy(q->workers[i].stream);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->more);
    pthread_cond_destroy(&q->idle);
    free(q->jobs);
    free(q);
    be->pack = NULL;
}
