/* dnnl_util.c — oneDNN helpers for operators: checked calls, f32 memory
 * descriptors, primitive creation with a user-mode scratchpad, one-time
 * weight reorders, layouts between steps and run-time reorders into
 * scratch, and the fused post-op list of operator.h's fusion contract
 * (parsing, oneDNN attributes, plain-C application). No operator's own
 * semantics here.
 */
#include "dnnl_util.h"

#include <locale.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "math/eltwise_ref.h"

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
    return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "oneDNN call %s failed at %s:%d: %s", call,
                         base ? base + 1 : file, line, dnnl_status2str(s));
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

ortc_status ortc_dnnl_md_plain(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims)
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

ortc_status ortc_dnnl_md_any(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims)
{
    dnnl_dims_t d;
    int nd = md_dims(rank, dims, d);
    DNNL_CHECK(c, dnnl_memory_desc_init_by_tag(md, nd, d, dnnl_f32, dnnl_format_tag_any));
    return ORTC_STATUS_OK;
}

/* ---- layouts between steps ------------------------------------------------ */

bool ortc_dnnl_in_blocked(const ortc_opctx *c, int i)
{
    return c->in_layout && c->in_layout[i] && !c->in_layout[i]->plain;
}

ortc_status ortc_dnnl_md_input(ortc_opctx *c, int i, dnnl_memory_desc_t *md)
{
    if (ortc_dnnl_in_blocked(c, i)) {
        if (!c->in_layout[i]->desc)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: input %d is blocked but has no descriptor", i);
        *md = *(const dnnl_memory_desc_t *)c->in_layout[i]->desc;
        return ORTC_STATUS_OK;
    }
    return ortc_dnnl_md_plain(c, md, c->in[i]->rank, c->in[i]->dims);
}

bool ortc_dnnl_md_is_plain(const dnnl_memory_desc_t *md)
{
    dnnl_memory_desc_t plain;
    if (dnnl_memory_desc_init_by_strides(&plain, md->ndims, md->dims, md->data_type, NULL) !=
        dnnl_success)
        return false;
    return dnnl_memory_desc_equal(&plain, md) != 0;
}

ortc_status ortc_dnnl_set_out_layout(ortc_opctx *c, int k, const dnnl_memory_desc_t *md)
{
    ortc_layout *l = c->out_layout ? c->out_layout[k] : NULL;
    if (!l)
        return ORTC_STATUS_OK;
    if (ortc_dnnl_md_is_plain(md)) {
        *l = (ortc_layout){true, ortc_tensor_bytes(c->out[k]), NULL};
        return ORTC_STATUS_OK;
    }
    if (!c->out_blocked_ok || !c->out_blocked_ok[k])
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: blocked layout chosen for output %d, which must be plain",
                             k);
    *l = (ortc_layout){false, dnnl_memory_desc_get_size(md), (void *)md};
    return ORTC_STATUS_OK;
}

const char *ortc_dnnl_impl_name(const_dnnl_primitive_desc_t pd)
{
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name)
        return "";
    return name;
}

bool ortc_dnnl_impl_is_ref(const_dnnl_primitive_desc_t pd)
{
    const char *name = ortc_dnnl_impl_name(pd);
    return !strncmp(name, "ref", 3) || strstr(name, "_ref") != NULL;
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

ortc_status ortc_dnnl_step_create(ortc_opctx *c, ortc_dnnl_step *st, const_dnnl_primitive_desc_t pd)
{
    DNNL_CHECK(c, dnnl_primitive_create(&st->prim, pd));
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (bytes > 0) {
        ortc_status s = ortc_dnnl_step_mem(c, st, DNNL_ARG_SCRATCHPAD, smd, &st->scratch);
        if (s)
            return s;
        if (st->scratch_off + bytes > c->scratch_bytes)
            c->scratch_bytes = st->scratch_off + bytes;
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

dnnl_stream_t ortc_dnnl_stream(const ortc_opctx *c)
{
    return c->context > 0 ? c->backend->streams[c->context] : c->backend->stream;
}

ortc_status ortc_dnnl_set(ortc_opctx *c, dnnl_memory_t mem, const void *data)
{
    if (c->context <= 0) {
        DNNL_CHECK(c, dnnl_memory_set_data_handle(mem, (void *)data));
        return ORTC_STATUS_OK;
    }
    for (int i = 0; i < c->n_bind; i++)
        if (c->bind[i].mem == (void *)mem) {
            c->bind[i].data = (void *)data;
            return ORTC_STATUS_OK;
        }
    if (c->n_bind == ORTC_OPCTX_MAX_BINDS)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: more than %d oneDNN data handles in one run",
                             ORTC_OPCTX_MAX_BINDS);
    c->bind[c->n_bind].mem = mem;
    c->bind[c->n_bind].data = (void *)data;
    c->n_bind++;
    return ORTC_STATUS_OK;
}

/* Context k's memory object for `orig` (slot i of the step), pointing at
 * `data`; created on first use (in that context's first run). */
static ortc_status context_mem(ortc_opctx *c, ortc_dnnl_step *st, int i, dnnl_memory_t orig,
                               void *data, dnnl_memory_t *out)
{
    dnnl_memory_t *slot = &st->clone[c->context][i];
    if (!*slot) {
        const dnnl_memory_desc_t *md;
        DNNL_CHECK(c, dnnl_memory_get_memory_desc(orig, &md));
        DNNL_CHECK(c, dnnl_memory_create(slot, md, c->backend->engine, data));
    } else {
        DNNL_CHECK(c, dnnl_memory_set_data_handle(*slot, data));
    }
    *out = *slot;
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_step_run(ortc_opctx *c, ortc_dnnl_step *st)
{
    if (st->scratch && !c->scratch)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: no scratch buffer though %zu bytes were declared",
                             c->scratch_bytes);
    atomic_fetch_add(&exec_count, 1);
    if (c->context <= 0) {
        if (st->scratch)
            DNNL_CHECK(
                c, dnnl_memory_set_data_handle(st->scratch, (char *)c->scratch + st->scratch_off));
        DNNL_CHECK(c, dnnl_primitive_execute(st->prim, c->backend->stream, st->n_args, st->args));
        return ORTC_STATUS_OK;
    }
    /* another context: its own memory objects, with the handles this run set
     * (or, for handles set once in prepare, the shared object's) */
    dnnl_exec_arg_t args[ORTC_DNNL_MAX_ARGS];
    ortc_status rs;
    for (int i = 0; i < st->n_args; i++) {
        dnnl_memory_t orig = st->args[i].memory;
        void *data = NULL;
        bool found = orig == st->scratch; /* in args since step_create */
        if (found)
            data = (char *)c->scratch + st->scratch_off;
        for (int b = 0; b < c->n_bind && !found; b++)
            if (c->bind[b].mem == (void *)orig) {
                data = c->bind[b].data;
                found = true;
            }
        if (!found)
            DNNL_CHECK(c, dnnl_memory_get_data_handle(orig, &data));
        args[i].arg = st->args[i].arg;
        if ((rs = context_mem(c, st, i, orig, data, &args[i].memory)))
            return rs;
    }
    DNNL_CHECK(c, dnnl_primitive_execute(st->prim, ortc_dnnl_stream(c), st->n_args, args));
    return ORTC_STATUS_OK;
}

void ortc_dnnl_step_free(ortc_dnnl_step *st)
{
    if (!st)
        return;
    /* args[] hold memory objects owned by the op's state, except the
     * scratchpad and the per-context copies, which the step owns. */
    if (st->scratch)
        dnnl_memory_destroy(st->scratch);
    for (int k = 0; k < ORTC_MAX_CONTEXTS; k++)
        for (int i = 0; i < ORTC_DNNL_MAX_ARGS; i++)
            if (st->clone[k][i]) {
                dnnl_memory_destroy(st->clone[k][i]);
                st->clone[k][i] = NULL;
            }
    if (st->prim)
        dnnl_primitive_destroy(st->prim);
    memset(st, 0, sizeof *st);
}

/* ---- scratch buffers and run-time reorders ---------------------------------- */

size_t ortc_dnnl_scratch_take(ortc_opctx *c, size_t *used, size_t bytes)
{
    size_t off = (*used + 63) & ~(size_t)63;
    *used = off + ((bytes + 63) & ~(size_t)63);
    if (*used > c->scratch_bytes)
        c->scratch_bytes = *used;
    return off;
}

void *ortc_dnnl_scratch_at(const ortc_opctx *c, size_t off)
{
    return (char *)c->scratch + off;
}

ortc_status ortc_dnnl_reorder_init(ortc_opctx *c, ortc_dnnl_reorder *r,
                                   const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                                   size_t scratch_off)
{
    dnnl_primitive_attr_t attr;
    ortc_status st = ortc_dnnl_attr_new(c, &attr);
    if (st)
        return st;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, c->backend->engine, to,
                                                         c->backend->engine, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return ortc_dnnl_error(c, s, "dnnl_reorder_primitive_desc_create(from, to)", __FILE__,
                               __LINE__);
    r->step.scratch_off = scratch_off;
    st = ortc_dnnl_step_create(c, &r->step, pd);
    if (!st)
        st = ortc_dnnl_step_mem(c, &r->step, DNNL_ARG_FROM, from, &r->from);
    if (!st)
        st = ortc_dnnl_step_mem(c, &r->step, DNNL_ARG_TO, to, &r->to);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

ortc_status ortc_dnnl_reorder_run(ortc_opctx *c, ortc_dnnl_reorder *r, const void *from, void *to)
{
    ortc_status st;
    if ((st = ortc_dnnl_set(c, r->from, from)) || (st = ortc_dnnl_set(c, r->to, to)))
        return st;
    return ortc_dnnl_step_run(c, &r->step);
}

void ortc_dnnl_reorder_free(ortc_dnnl_reorder *r)
{
    if (!r)
        return;
    ortc_dnnl_step_free(&r->step);
    if (r->from)
        dnnl_memory_destroy(r->from);
    if (r->to)
        dnnl_memory_destroy(r->to);
    r->from = r->to = NULL;
}

ortc_status ortc_dnnl_unblock_init(ortc_opctx *c, ortc_dnnl_unblock *u, size_t *used)
{
    u->n = 0;
    if (c->n_in > ORTC_DNNL_MAX_IO)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: more than %d inputs to unblock", ORTC_DNNL_MAX_IO);
    /* buffers first, then the reorders' scratchpads after all of them */
    for (int i = 0; i < c->n_in; i++) {
        if (!c->in[i] || !ortc_dnnl_in_blocked(c, i))
            continue;
        if (u->n == ORTC_DNNL_MAX_UNBLOCK)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: more than %d blocked inputs", ORTC_DNNL_MAX_UNBLOCK);
        u->input[u->n] = i;
        u->off[u->n] = ortc_dnnl_scratch_take(c, used, ortc_tensor_bytes(c->in[i]));
        u->n++;
    }
    for (int k = 0; k < u->n; k++) {
        int i = u->input[k];
        dnnl_memory_desc_t from, to;
        ortc_status st;
        if ((st = ortc_dnnl_md_input(c, i, &from)) ||
            (st = ortc_dnnl_md_plain(c, &to, c->in[i]->rank, c->in[i]->dims)) ||
            (st = ortc_dnnl_reorder_init(c, &u->r[k], &from, &to, *used)))
            return st;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_unblock_run(ortc_opctx *c, ortc_dnnl_unblock *u, ortc_opctx *v,
                                  ortc_tensor *ins, ortc_tensor **ptrs)
{
    *v = *c;
    for (int i = 0; i < c->n_in && i < ORTC_DNNL_MAX_IO; i++)
        ptrs[i] = c->in[i];
    for (int k = 0; k < u->n; k++) {
        int i = u->input[k];
        void *plain = ortc_dnnl_scratch_at(c, u->off[k]);
        ortc_status st = ortc_dnnl_reorder_run(c, &u->r[k], c->in[i]->data, plain);
        if (st)
            return st;
        ins[i] = *c->in[i];
        ins[i].data = plain;
        ptrs[i] = &ins[i];
    }
    v->in = ptrs;
    if (u->n && c->backend)
        return ortc_backend_wait(c->backend, c->err);
    return ORTC_STATUS_OK;
}

void ortc_dnnl_unblock_free(ortc_dnnl_unblock *u)
{
    if (!u)
        return;
    for (int k = 0; k < u->n; k++)
        ortc_dnnl_reorder_free(&u->r[k]);
    u->n = 0;
}

/* Runs a one-off reorder primitive (library-managed scratchpad) and waits. */
static ortc_status reorder_once(ortc_opctx *c, dnnl_memory_t src, dnnl_memory_t dst,
                                const dnnl_memory_desc_t *src_md, const dnnl_memory_desc_t *dst_md)
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
        s = dnnl_primitive_execute(prim, ortc_dnnl_stream(c), 2, args);
        what = "dnnl_primitive_execute(reorder)";
    }
    if (s == dnnl_success) {
        s = dnnl_stream_wait(ortc_dnnl_stream(c));
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
                                    const dnnl_memory_desc_t *src_md, const void *src, void **buf,
                                    dnnl_memory_t *mem)
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

ortc_status ortc_dnnl_weights_init(ortc_opctx *c, ortc_dnnl_step *st, int arg, ortc_dnnl_weights *w,
                                   const dnnl_memory_desc_t *want, const dnnl_memory_desc_t *user,
                                   const void *data)
{
    if (!want)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: oneDNN reported no weights descriptor");
    if (dnnl_memory_desc_equal(want, user) || !data) {
        if (!dnnl_memory_desc_equal(want, user))
            return ortc_op_error(
                c, ORTC_STATUS_RUNTIME_ERROR,
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

/* ---- fused post-ops ----------------------------------------------------------- */

static const struct {
    const char *name;
    ortc_post_op_kind kind;
    int n_args;
} post_op_names[] = {
    {"relu", ORTC_PO_RELU, 0},
    {"leaky_relu", ORTC_PO_LEAKY_RELU, 1},
    {"clip", ORTC_PO_CLIP, 2},
    {"sigmoid", ORTC_PO_SIGMOID, 0},
    {"tanh", ORTC_PO_TANH, 0},
    {"elu", ORTC_PO_ELU, 1},
    {"hard_sigmoid", ORTC_PO_HARD_SIGMOID, 2},
    {"sum", ORTC_PO_SUM, 0},
};

/* A C-locale float from s[0..len): strtod reads the current locale's
 * decimal point, so '.' is swapped for it first. */
static bool parse_float(const char *s, size_t len, float *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    const char *dp = localeconv()->decimal_point;
    char point = dp && dp[0] && !dp[1] ? dp[0] : '.';
    for (size_t i = 0; i < len; i++)
        buf[i] = s[i] == '.' ? point : s[i];
    buf[len] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + len || isnan(v))
        return false;
    *out = (float)v;
    return true;
}

ortc_status ortc_post_ops_parse(ortc_opctx *c, ortc_post_ops *po)
{
    memset(po, 0, sizeof *po);
    const ortc_attr *a = ortc_node_attr(c->node, ORTC_ATTR_POST_OPS);
    if (!a)
        return ORTC_STATUS_OK;
    if (a->type != ORTC_ATTR_STRINGS)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute '%s' has type %s; expected STRINGS", ORTC_ATTR_POST_OPS,
                             ortc_attr_type_name(a->type));
    if (a->n > ORTC_MAX_POST_OPS)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute '%s' lists %zu post-ops; at most %d are supported",
                             ORTC_ATTR_POST_OPS, a->n, ORTC_MAX_POST_OPS);
    for (size_t e = 0; e < a->n; e++) {
        const char *entry = a->strings[e] ? a->strings[e] : "";
        const char *colon = strchr(entry, ':');
        size_t name_len = colon ? (size_t)(colon - entry) : strlen(entry);
        int k = -1;
        for (size_t j = 0; j < sizeof post_op_names / sizeof *post_op_names; j++)
            if (strlen(post_op_names[j].name) == name_len &&
                !strncmp(post_op_names[j].name, entry, name_len))
                k = (int)j;
        if (k < 0)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute '%s' entry %zu '%s': unknown post-op (known: relu, "
                                 "leaky_relu, clip, sigmoid, tanh, elu, hard_sigmoid, sum)",
                                 ORTC_ATTR_POST_OPS, e, entry);
        float args[2] = {0.0f, 0.0f};
        int n_args = 0;
        const char *p = colon;
        while (p) {
            const char *arg = p + 1;
            const char *next = strchr(arg, ':');
            size_t len = next ? (size_t)(next - arg) : strlen(arg);
            if (n_args == 2 || !parse_float(arg, len, &args[n_args]))
                return ortc_op_error(
                    c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' entry %zu '%s': %s",
                    ORTC_ATTR_POST_OPS, e, entry,
                    n_args == 2 ? "too many arguments" : "argument is not a number");
            n_args++;
            p = next;
        }
        if (n_args != post_op_names[k].n_args)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute '%s' entry %zu '%s': %s takes %d argument%s, got %d",
                                 ORTC_ATTR_POST_OPS, e, entry, post_op_names[k].name,
                                 post_op_names[k].n_args, post_op_names[k].n_args == 1 ? "" : "s",
                                 n_args);
        if (post_op_names[k].kind == ORTC_PO_SUM) {
            if (po->has_sum)
                return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                     "attribute '%s' entry %zu: 'sum' appears twice",
                                     ORTC_ATTR_POST_OPS, e);
            po->has_sum = true;
        }
        po->op[po->n].kind = post_op_names[k].kind;
        po->op[po->n].a = args[0];
        po->op[po->n].b = args[1];
        po->n++;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_post_ops_check_sum(ortc_opctx *c, const ortc_post_ops *po, int rank,
                                    const int64_t *dims)
{
    const int k = ORTC_FUSED_SUM_INPUT;
    const ortc_tensor *s = c->n_in > k ? c->in[k] : NULL;
    if (!po->has_sum) {
        if (s)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input %d is set but attribute '%s' has no 'sum'", k,
                                 ORTC_ATTR_POST_OPS);
        return ORTC_STATUS_OK;
    }
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "post-op 'sum' needs input %d (the summand); it is missing", k);
    char have[128], want[128];
    bool same = s->dtype == ORTC_DTYPE_FLOAT && s->rank == rank;
    for (int d = 0; same && d < rank; d++)
        same = s->dims[d] == dims[d];
    if (!same)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "post-op 'sum' input %d '%s' is %s %s; the output is float32 %s", k,
                             c->node->inputs[k] ? c->node->inputs[k]->name : "",
                             ortc_dtype_name(s->dtype),
                             ortc_shape_str(have, sizeof have, s->rank, s->dims),
                             ortc_shape_str(want, sizeof want, rank, dims));
    return ORTC_STATUS_OK;
}

void ortc_post_ops_apply_ref(float *y, const float *sum, int64_t n, const ortc_post_ops *po)
{
    for (int i = 0; i < po->n; i++) {
        ortc_unary_params p = {po->op[i].a, po->op[i].b, 0.0f};
        switch (po->op[i].kind) {
        case ORTC_PO_RELU: ortc_ref_unary_f32(y, y, n, ORTC_UNARY_RELU, &p); break;
        case ORTC_PO_LEAKY_RELU: ortc_ref_unary_f32(y, y, n, ORTC_UNARY_LEAKY_RELU, &p); break;
        case ORTC_PO_SIGMOID: ortc_ref_unary_f32(y, y, n, ORTC_UNARY_SIGMOID, &p); break;
        case ORTC_PO_TANH: ortc_ref_unary_f32(y, y, n, ORTC_UNARY_TANH, &p); break;
        case ORTC_PO_ELU: ortc_ref_unary_f32(y, y, n, ORTC_UNARY_ELU, &p); break;
        case ORTC_PO_HARD_SIGMOID: ortc_ref_unary_f32(y, y, n, ORTC_UNARY_HARD_SIGMOID, &p); break;
        case ORTC_PO_CLIP: {
            float lo = po->op[i].a, hi = po->op[i].b;
            ortc_ref_clip(y, y, n, ORTC_DTYPE_FLOAT, &lo, &hi);
            break;
        }
        case ORTC_PO_SUM:
            for (int64_t j = 0; j < n; j++)
                y[j] += sum[j];
            break;
        }
    }
}

ortc_status ortc_post_ops_to_attr(ortc_opctx *c, dnnl_primitive_attr_t attr, float first_sum,
                                  const ortc_post_ops *po)
{
    if (first_sum == 0.0f && po->n == 0)
        return ORTC_STATUS_OK;
    dnnl_post_ops_t ops;
    DNNL_CHECK(c, dnnl_post_ops_create(&ops));
    dnnl_status_t s = dnnl_success;
    if (first_sum != 0.0f)
        s = dnnl_post_ops_append_sum(ops, first_sum);
    for (int i = 0; s == dnnl_success && i < po->n; i++) {
        float a = po->op[i].a, b = po->op[i].b;
        switch (po->op[i].kind) {
        case ORTC_PO_RELU:
            s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0, 0);
            break;
        case ORTC_PO_LEAKY_RELU:
            s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, a, 0);
            break;
        case ORTC_PO_CLIP:
            /* numpy's clip with min > max gives max everywhere; clip_v2 would not */
            s = a <= b ? dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_clip_v2, a, b)
                       : dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_linear, 0, b);
            break;
        case ORTC_PO_SIGMOID:
            s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_logistic, 0, 0);
            break;
        case ORTC_PO_TANH:
            s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_tanh, 0, 0);
            break;
        case ORTC_PO_ELU:
            s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_elu, a, 0);
            break;
        case ORTC_PO_HARD_SIGMOID:
            s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_linear, a, b);
            if (s == dnnl_success)
                s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_clip_v2, 0.0f, 1.0f);
            break;
        case ORTC_PO_SUM: s = dnnl_post_ops_append_sum(ops, 1.0f); break;
        }
    }
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    if (s != dnnl_success)
        return ortc_dnnl_error(c, s, "building post-ops from attribute " ORTC_ATTR_POST_OPS,
                               __FILE__, __LINE__);
    return ORTC_STATUS_OK;
}

/* Whether output 0's bytes may overlap those of input i (not the summand). */
static bool overlaps(const ortc_opctx *c, int i, size_t out_bytes)
{
    const ortc_tensor *t = c->in[i];
    if (!t || !t->data)
        return false;
    size_t in_bytes =
        c->in_layout && c->in_layout[i] ? c->in_layout[i]->bytes : ortc_tensor_bytes(t);
    const char *a = t->data, *o = c->out[0]->data;
    return a < o + out_bytes && o < a + in_bytes;
}

ortc_status ortc_dnnl_sum_init(ortc_opctx *c, ortc_dnnl_sum_src *ss, const ortc_post_ops *po,
                               const dnnl_memory_desc_t *dst, size_t scratch_off, bool may_inplace)
{
    memset(ss, 0, sizeof *ss);
    if (!po->has_sum)
        return ORTC_STATUS_OK;
    const int k = ORTC_FUSED_SUM_INPUT;
    ss->active = true;
    ss->bytes = dnnl_memory_desc_get_size(dst);
    dnnl_memory_desc_t md;
    ortc_status st = ortc_dnnl_md_input(c, k, &md);
    if (st)
        return st;
    /* plain and plain: the same bytes, whatever dims the primitive uses
     * (MatMul folds batch dims into rows) */
    bool same = dnnl_memory_desc_equal(&md, dst) ||
                (!ortc_dnnl_in_blocked(c, k) && ortc_dnnl_md_is_plain(dst) &&
                 dnnl_memory_desc_get_size(&md) == dnnl_memory_desc_get_size(dst));
    if (!same) {
        ss->reorder = true;
        return ortc_dnnl_reorder_init(c, &ss->r, &md, dst, scratch_off);
    }
    /* in place over the summand, unless another input is the same value (the
     * primitive would read it while writing the output) */
    bool alone = may_inplace;
    for (int i = 0; i < c->n_in; i++)
        if (i != k && c->node->inputs[i] == c->node->inputs[k])
            alone = false;
    if (alone && c->inplace)
        c->inplace[0] = k;
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_sum_run(ortc_opctx *c, ortc_dnnl_sum_src *ss, void *dst)
{
    if (!ss->active)
        return ORTC_STATUS_OK;
    const int k = ORTC_FUSED_SUM_INPUT;
    for (int i = 0; dst == c->out[0]->data && i < c->n_in; i++)
        if (i != k && overlaps(c, i, ss->bytes))
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: the output shares memory with input %d, which the "
                                 "fused sum still has to read",
                                 i);
    if (ss->reorder)
        return ortc_dnnl_reorder_run(c, &ss->r, c->in[k]->data, dst);
    if (dst != c->in[k]->data)
        memcpy(dst, c->in[k]->data, ss->bytes);
    return ORTC_STATUS_OK;
}

void ortc_dnnl_sum_free(ortc_dnnl_sum_src *ss)
{
    if (ss && ss->reorder)
        ortc_dnnl_reorder_free(&ss->r);
}
