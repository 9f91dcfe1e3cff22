/* dnnl_util.c — oneDNN helpers for operators: checked calls, f32 memory
 * descriptors, primitive creation with a user-mode scratchpad, one-time
 * weight reorders. No operator semantics here.
 */
#include "dnnl_util.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl_debug.h>

static atomic_uint_fast64_t exec_count;

uint64_t ortc_dnnl_exec_count(void)
{
    return (uint64_t)atomic_load(&exec_count);
}

ortc_status ortc_dnnl_error(ortc_opctx *c, dnnl_status_t s, const char *call, const char *file,
                            int line)
{
    const char *base = strrchr(file, '/');
    return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "oneDNN call %s failed at %s:%d: %s",
                         call, base ? base + 1 : file, line, dnnl_status2str(s));
}

/* oneDNN describes a scalar as the 1-D shape [1]. */
static int md_dims(int rank, const int64_t *dims, dnnl_dims_t out)
{
    if (rank == 0) {
        out[0] = 1;
        return 1;
    }
    for (int i = 0; i < rank; i++)
        out[i] = dims[i];
    return rank;
}

ortc_status ortc_dnnl_md_plain(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                               const int64_t *dims)
{
    dnnl_dims_t d;
    int nd = md_dims(rank, dims, d);
    DNNL_CHECK(c, dnnl_memory_desc_init_by_strides(md, nd, d, dnnl_f32, NULL));
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_md_strided(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                                 const int64_t *dims, const int64_t *strides)
{
    dnnl_dims_t d, s;
    int nd = md_dims(rank, dims, d);
    for (int i = 0; i < nd; i++)
        s[i] = rank ? strides[i] : 1;
    DNNL_CHECK(c, dnnl_memory_desc_init_by_strides(md, nd, d, dnnl_f32, s));
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_md_any(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                             const int64_t *dims)
{
    dnnl_dims_t d;
    int nd = md_dims(rank, dims, d);
    DNNL_CHECK(c, dnnl_memory_desc_init_by_tag(md, nd, d, dnnl_f32, dnnl_format_tag_any));
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_attr_new(ortc_opctx *c, dnnl_primitive_attr_t *attr)
{
    DNNL_CHECK(c, dnnl_primitive_attr_create(attr));
    dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return ortc_dnnl_error(c, s, "dnnl_primitive_attr_set_scratchpad_mode(user)", __FILE__,
                               __LINE__);
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_pd_create(ortc_opctx *c, dnnl_primitive_desc_t *pd, const void *op_desc,
                                const_dnnl_primitive_attr_t attr, bool *unimplemented)
{
    *pd = NULL;
    if (unimplemented)
        *unimplemented = false;
    dnnl_primitive_attr_t own = NULL;
    if (!attr) {
        ortc_status st = ortc_dnnl_attr_new(c, &own);
        if (st)
            return st;
        attr = own;
    }
    dnnl_status_t s = dnnl_primitive_desc_create(pd, op_desc, attr, c->backend->engine, NULL);
    if (own)
        dnnl_primitive_attr_destroy(own);
    if (s == dnnl_unimplemented && unimplemented) {
        *pd = NULL;
        *unimplemented = true;
        return ORTC_STATUS_OK;
    }
    if (s != dnnl_success) {
        *pd = NULL;
        return ortc_dnnl_error(c, s, "dnnl_primitive_desc_create(pd, op_desc, attr, engine, NULL)",
                               __FILE__, __LINE__);
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_step_create(ortc_opctx *c, ortc_dnnl_step *st,
                                  const_dnnl_primitive_desc_t pd)
{
    DNNL_CHECK(c, dnnl_primitive_create(&st->prim, pd));
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (bytes > 0) {
        ortc_status s = ortc_dnnl_step_mem(c, st, DNNL_ARG_SCRATCHPAD, smd, &st->scratch);
        if (s)
            return s;
        if (bytes > c->scratch_bytes)
            c->scratch_bytes = bytes;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_step_mem(ortc_opctx *c, ortc_dnnl_step *st, int arg,
                               const dnnl_memory_desc_t *md, dnnl_memory_t *mem)
{
    if (st && st->n_args >= ORTC_DNNL_MAX_ARGS)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: more than %d oneDNN arguments", ORTC_DNNL_MAX_ARGS);
    DNNL_CHECK(c, dnnl_memory_create(mem, md, c->backend->engine, DNNL_MEMORY_NONE));
    if (st) {
        st->args[st->n_args].arg = arg;
        st->args[st->n_args].memory = *mem;
        st->n_args++;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_set(ortc_opctx *c, dnnl_memory_t mem, const void *data)
{
    DNNL_CHECK(c, dnnl_memory_set_data_handle(mem, (void *)data));
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_step_run(ortc_opctx *c, ortc_dnnl_step *st)
{
    if (st->scratch) {
        if (!c->scratch)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: no scratch buffer though %zu bytes were declared",
                                 c->scratch_bytes);
        DNNL_CHECK(c, dnnl_memory_set_data_handle(st->scratch, c->scratch));
    }
    atomic_fetch_add(&exec_count, 1);
    DNNL_CHECK(c, dnnl_primitive_execute(st->prim, c->backend->stream, st->n_args, st->args));
    return ORTC_STATUS_OK;
}

void ortc_dnnl_step_free(ortc_dnnl_step *st)
{
    if (!st)
        return;
    /* args[] hold memory objects owned by the op's state, except the
     * scratchpad, which the step owns. */
    if (st->scratch)
        dnnl_memory_destroy(st->scratch);
    if (st->prim)
        dnnl_primitive_destroy(st->prim);
    memset(st, 0, sizeof *st);
}

/* Runs a one-off reorder primitive (library-managed scratchpad) and waits. */
static ortc_status reorder_once(ortc_opctx *c, dnnl_memory_t src, dnnl_memory_t dst,
                                const dnnl_memory_desc_t *src_md,
                                const dnnl_memory_desc_t *dst_md)
{
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, src_md, c->backend->engine, dst_md,
                                                         c->backend->engine, NULL);
    const char *what = "dnnl_reorder_primitive_desc_create";
    if (s == dnnl_success) {
        s = dnnl_primitive_create(&prim, pd);
        what = "dnnl_primitive_create(reorder)";
    }
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        s = dnnl_primitive_execute(prim, c->backend->stream, 2, args);
        what = "dnnl_primitive_execute(reorder)";
    }
    if (s == dnnl_success) {
        s = dnnl_stream_wait(c->backend->stream);
        what = "dnnl_stream_wait";
    }
    if (prim)
        dnnl_primitive_destroy(prim);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success)
        return ortc_dnnl_error(c, s, what, __FILE__, __LINE__);
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_reorder_const(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                                    const dnnl_memory_desc_t *src_md, const void *src,
                                    void **buf, dnnl_memory_t *mem)
{
    *buf = NULL;
    *mem = NULL;
    size_t bytes = dnnl_memory_desc_get_size(dst_md);
    void *p = aligned_alloc(64, ((bytes ? bytes : 1) + 63) & ~(size_t)63);
    if (!p)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                             "out of memory reordering weights (%zu bytes)", bytes);
    dnnl_memory_t msrc = NULL, mdst = NULL;
    dnnl_status_t s = dnnl_memory_create(&msrc, src_md, c->backend->engine, (void *)src);
    if (s == dnnl_success)
        s = dnnl_memory_create(&mdst, dst_md, c->backend->engine, p);
    ortc_status st = ORTC_STATUS_OK;
    if (s != dnnl_success)
        st = ortc_dnnl_error(c, s, "dnnl_memory_create(weights)", __FILE__, __LINE__);
    else
        st = reorder_once(c, msrc, mdst, src_md, dst_md);
    if (msrc)
        dnnl_memory_destroy(msrc);
    if (st) {
        if (mdst)
            dnnl_memory_destroy(mdst);
        free(p);
        return st;
    }
    *buf = p;
    *mem = mdst;
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_weights_init(ortc_opctx *c, ortc_dnnl_step *st, int arg,
                                   ortc_dnnl_weights *w, const dnnl_memory_desc_t *want,
                                   const dnnl_memory_desc_t *user, const void *data)
{
    if (!want)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: oneDNN reported no weights descriptor");
    if (dnnl_memory_desc_equal(want, user) || !data) {
        if (!dnnl_memory_desc_equal(want, user))
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: oneDNN chose a weights layout for a non-constant input");
        return ortc_dnnl_step_mem(c, st, arg, user, &w->mem);
    }
    if (st->n_args >= ORTC_DNNL_MAX_ARGS)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: more than %d oneDNN arguments", ORTC_DNNL_MAX_ARGS);
    ortc_status s = ortc_dnnl_reorder_const(c, want, user, data, &w->packed, &w->mem);
    if (s)
        return s;
    st->args[st->n_args].arg = arg;
    st->args[st->n_args].memory = w->mem;
    st->n_args++;
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_weights_bind(ortc_opctx *c, ortc_dnnl_weights *w, const void *data)
{
    if (w->packed)
        return ORTC_STATUS_OK;
    return ortc_dnnl_set(c, w->mem, data);
}

void ortc_dnnl_weights_free(ortc_dnnl_weights *w)
{
    if (!w)
        return;
    if (w->mem)
        dnnl_memory_destroy(w->mem);
    free(w->packed);
    w->mem = NULL;
    w->packed = NULL;
}
