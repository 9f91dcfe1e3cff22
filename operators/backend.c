/* backend.c — one oneDNN CPU engine and stream per session, and the thread
 * count kernels use. Operators reach the engine through dnnl_util.h.
 */
#include "backend.h"

#include <omp.h>
#include <stdlib.h>

#include "dnnl_util.h"

ortc_status ortc_backend_create(struct ortc_backend **out, int threads, ortc_errbuf *err)
{
    *out = NULL;
    struct ortc_backend *be = calloc(1, sizeof *be);
    if (!be)
        return ortc_err_set(err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory creating the backend");
    be->threads = threads > 0 ? threads : 1;
    dnnl_status_t s = dnnl_engine_create(&be->engine, dnnl_cpu, 0);
    if (s != dnnl_success) {
        free(be);
        return ortc_err_set(err, ORTC_STATUS_RUNTIME_ERROR,
                            "oneDNN: dnnl_engine_create failed with status %d", (int)s);
    }
    s = dnnl_stream_create(&be->stream, be->engine, dnnl_stream_default_flags);
    if (s != dnnl_success) {
        dnnl_engine_destroy(be->engine);
        free(be);
        return ortc_err_set(err, ORTC_STATUS_RUNTIME_ERROR,
                            "oneDNN: dnnl_stream_create failed with status %d", (int)s);
    }
    *out = be;
    return ORTC_STATUS_OK;
}

void ortc_backend_destroy(struct ortc_backend *be)
{
    if (!be)
        return;
    ortc_dnnl_pack_free(be);
    dnnl_stream_destroy(be->stream);
    for (int k = 1; k < ORTC_MAX_CONTEXTS; k++)
        if (be->streams[k])
            dnnl_stream_destroy(be->streams[k]);
    dnnl_engine_destroy(be->engine);
    free(be);
}

bool ortc_backend_has_bf16(void)
{
    /* ISA values are cumulative bit sets: avx512_core_amx contains
     * avx512_core_bf16's bits, avx2_vnni does not */
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    unsigned bf16 = (unsigned)dnnl_cpu_isa_avx512_core_bf16;
    return (isa & bf16) == bf16;
}

void ortc_backend_enter(struct ortc_backend *be)
{
    if (be && omp_get_max_threads() != be->threads)
        omp_set_num_threads(be->threads);
}

ortc_status ortc_backend_wait(struct ortc_backend *be, ortc_errbuf *err)
{
    dnnl_status_t s = dnnl_stream_wait(be->stream);
    if (s != dnnl_success)
        return ortc_err_set(err, ORTC_STATUS_RUNTIME_ERROR,
                            "oneDNN: dnnl_stream_wait failed with status %d", (int)s);
    return ORTC_STATUS_OK;
}

ortc_status ortc_backend_wait_context(struct ortc_backend *be, int k, ortc_errbuf *err)
{
    dnnl_stream_t st = k > 0 ? be->streams[k] : be->stream;
    dnnl_status_t s = st ? dnnl_stream_wait(st) : dnnl_success;
    if (s != dnnl_success)
        return ortc_err_set(err, ORTC_STATUS_RUNTIME_ERROR,
                            "oneDNN: dnnl_stream_wait failed with status %d", (int)s);
    return ORTC_STATUS_OK;
}

ortc_status ortc_backend_add_context(struct ortc_backend *be, int k, ortc_errbuf *err)
{
    if (k <= 0 || k >= ORTC_MAX_CONTEXTS || be->streams[k])
        return ORTC_STATUS_OK;
    dnnl_status_t s = dnnl_stream_create(&be->streams[k], be->engine, dnnl_stream_default_flags);
    if (s != dnnl_success) {
        be->streams[k] = NULL;
        return ortc_err_set(err, ORTC_STATUS_RUNTIME_ERROR,
                            "oneDNN: dnnl_stream_create failed with status %d", (int)s);
    }
    return ORTC_STATUS_OK;
}
