/* dnnl_util.c — oneDNN helpers for operators: checked calls, f32 memory
 * descriptors, per-context memory objects, primitive creation with a
 * user-mode scratchpad, one-time weight reorders, layouts between steps and
 * run-time reorders into scratch, and the oneDNN side of the fusion
 * contract (post-op attributes, the fused sum's summand). No operator's own
 * semantics here.
 */
#include "dnnl_util.h"

#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "dnnl_wino.h"
#include "error.h"
#include "post_ops.h"

#include <oneapi/dnnl/dnnl_debug.h>

static atomic_uint_fast64_t exec_count;

uint64_t ortc_dnnl_exec_count(void)
{
    return (uint64_t)atomic_load(&exec_count);
}

bool ortc_f32_any_nan(const float *x, int64_t n)
{
    bool any = false;
    for (int64_t i = 0; i < n; i++)
        any |= x[i] != x[i];
    return any;
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

dnnl_data_type_t ortc_dnnl_type(ortc_dtype d)
{
    switch (d) {
    case ORTC_DTYPE_UINT8: return dnnl_u8;
    case ORTC_DTYPE_INT8: return dnnl_s8;
    case ORTC_DTYPE_INT32: return dnnl_s32;
    case ORTC_DTYPE_FLOAT: return dnnl_f32;
    default: return dnnl_data_type_undef;
    }
}

ortc_status ortc_dnnl_md_typed(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                               ortc_dtype d, dnnl_format_tag_t tag)
{
    dnnl_dims_t dd;
    int nd = md_dims(rank, dims, dd);
    dnnl_data_type_t t = ortc_dnnl_type(d);
    if (t == dnnl_data_type_undef)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: no oneDNN type for %s",
                             ortc_dtype_name(d));
    if (tag == dnnl_format_tag_undef)
        DNNL_CHECK(c, dnnl_memory_desc_init_by_strides(md, nd, dd, t, NULL));
    else
        DNNL_CHECK(c, dnnl_memory_desc_init_by_tag(md, nd, dd, t, tag));
    return ORTC_STATUS_OK;
}

/* Dense row-major descriptor of tensor t with its own element type
 * (float32 for the types oneDNN lacks, as the float operators assume). */
static ortc_status plain_of(ortc_opctx *c, dnnl_memory_desc_t *md, const ortc_tensor *t)
{
    if (ortc_dnnl_type(t->dtype) == dnnl_data_type_undef)
        return ortc_dnnl_md_plain(c, md, t->rank, t->dims);
    return ortc_dnnl_md_typed(c, md, t->rank, t->dims, t->dtype, dnnl_format_tag_undef);
}

ortc_status ortc_dnnl_md_plain(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims)
{
    return ortc_dnnl_md_strided(c, md, rank, dims, NULL);
}

ortc_status ortc_dnnl_md_strided(ortc_opctx *c, dnnl_memory_desc_t *md, int rank,
                                 const int64_t *dims, const int64_t *strides)
{
    dnnl_dims_t d, s;
    int nd = md_dims(rank, dims, d);
    for (int i = 0; strides && i < nd; i++)
        s[i] = rank ? strides[i] : 1;
    DNNL_CHECK(c, dnnl_memory_desc_init_by_strides(md, nd, d, dnnl_f32, strides ? s : NULL));
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_md_tag(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                             dnnl_format_tag_t tag)
{
    dnnl_dims_t d;
    int nd = md_dims(rank, dims, d);
    DNNL_CHECK(c, dnnl_memory_desc_init_by_tag(md, nd, d, dnnl_f32, tag));
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_md_any(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims)
{
    return ortc_dnnl_md_tag(c, md, rank, dims, dnnl_format_tag_any);
}

const dnnl_memory_desc_t *ortc_dnnl_pd_md(const_dnnl_primitive_desc_t pd, int arg)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    return md && md->ndims > 0 ? md : NULL;
}

/* ---- layouts between steps ------------------------------------------------ */

bool ortc_dnnl_in_blocked(const ortc_opctx *c, int i)
{
    return c->in_layout && c->in_layout[i] && !c->in_layout[i]->plain;
}

bool ortc_dnnl_out_blocked_ok(const ortc_opctx *c, int k)
{
    if (!c->out_blocked_ok || !c->out_blocked_ok[k])
        return false;
    const ortc_tensor *y = c->out ? c->out[k] : NULL;
    if (!y || (y->dtype != ORTC_DTYPE_UINT8 && y->dtype != ORTC_DTYPE_INT8))
        return true;
    return ortc_dnnl_consumers_take_int8(c, k);
}

bool ortc_dnnl_consumers_take_int8(const ortc_opctx *c, int k)
{
    const ortc_value *v = k < c->node->n_outputs ? c->node->outputs[k] : NULL;
    if (!v || !v->n_uses)
        return false;
    for (int u = 0; u < v->n_uses; u++) {
        const ortc_operator *op = v->uses[u].node->op;
        if (!op || !(op->flags & ORTC_OP_BLOCKED_INT8))
            return false;
    }
    return true;
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
    return plain_of(c, md, c->in[i]);
}

bool ortc_dnnl_md_is_plain(const dnnl_memory_desc_t *md)
{
    dnnl_memory_desc_t plain;
    if (dnnl_memory_desc_init_by_strides(&plain, md->ndims, md->dims, md->data_type, NULL) !=
        dnnl_success)
        return false;
    return dnnl_memory_desc_equal(&plain, md) != 0;
}

const char *ortc_backend_layout_str(const ortc_layout *layout, char *buf, size_t len)
{
    if (!len)
        return buf;
    buf[0] = '\0';
    const dnnl_memory_desc_t *md = layout ? layout->desc : NULL;
    if (!layout || layout->plain || !md) {
        snprintf(buf, len, "plain");
        return buf;
    }
    if (md->format_kind != dnnl_blocked || md->ndims < 1 || md->ndims > 26) {
        snprintf(buf, len, "%s", dnnl_fmt_kind2str(md->format_kind));
        return buf;
    }
    const dnnl_blocking_desc_t *bd = &md->format_desc.blocking;
    int order[26];
    bool blocked[26] = {false};
    for (int i = 0; i < bd->inner_nblks; i++)
        if (bd->inner_idxs[i] >= 0 && bd->inner_idxs[i] < md->ndims)
            blocked[bd->inner_idxs[i]] = true;
    /* outer dims by decreasing stride (insertion sort; ties keep dim order) */
    for (int i = 0; i < md->ndims; i++) {
        int j = i;
        while (j > 0 && bd->strides[order[j - 1]] < bd->strides[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int i = 0; i < md->ndims; i++)
        ortc_strbuf_append(buf, len, "%c", (blocked[order[i]] ? 'A' : 'a') + order[i]);
    for (int i = 0; i < bd->inner_nblks; i++)
        ortc_strbuf_append(buf, len, "%lld%c", (long long)bd->inner_blks[i],
                           'a' + (int)bd->inner_idxs[i]);
    if (md->data_type == dnnl_bf16)
        ortc_strbuf_append(buf, len, " bf16");
    return buf;
}

ortc_status ortc_dnnl_set_out_layout(ortc_opctx *c, int k, const dnnl_memory_desc_t *md)
{
    ortc_layout *l = c->out_layout ? c->out_layout[k] : NULL;
    if (!l)
        return ORTC_STATUS_OK;
    /* bf16 data for a float32 tensor (bf16 mode) is never plain: plain is
     * the tensor's own element type */
    bool bf16_of_f32 = md->data_type == dnnl_bf16 && c->out[k]->dtype == ORTC_DTYPE_FLOAT;
    if (!bf16_of_f32 && ortc_dnnl_md_is_plain(md)) {
        *l = (ortc_layout){.plain = true, .bytes = ortc_tensor_bytes(c->out[k])};
        return ORTC_STATUS_OK;
    }
    if (!ortc_dnnl_out_blocked_ok(c, k))
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: blocked layout chosen for output %d, which must be plain",
                             k);
    *l = (ortc_layout){.plain = false, .bytes = dnnl_memory_desc_get_size(md), .desc = (void *)md};
    return ORTC_STATUS_OK;
}

bool ortc_dnnl_bf16_wanted(const ortc_opctx *c)
{
    return c->precision == ORTC_PRECISION_BF16 && c->backend;
}

void ortc_dnnl_md_bf16(dnnl_memory_desc_t *md)
{
    /* oneDNN 2.x: strides and blocks count elements, so the element type
     * alone changes (in 3.x: dnnl_memory_desc_create_with_... again) */
    md->data_type = dnnl_bf16;
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

bool ortc_dnnl_pd_only_ref(dnnl_primitive_desc_t *pd, bool unimpl)
{
    if (!unimpl && !ortc_dnnl_impl_is_ref(*pd))
        return false;
    if (*pd)
        dnnl_primitive_desc_destroy(*pd);
    *pd = NULL;
    return true;
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

ortc_status ortc_dnnl_attr_scale(ortc_opctx *c, dnnl_primitive_attr_t attr, float scale)
{
    DNNL_CHECK(c, dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale));
    return ORTC_STATUS_OK;
}

/* oneDNN 2.x: an eltwise post-op with scale 1 (3.x drops the scale). */
static dnnl_status_t append_eltwise(dnnl_post_ops_t ops, dnnl_alg_kind_t alg, float a, float b)
{
    return dnnl_post_ops_append_eltwise(ops, 1.0f, alg, a, b);
}

/* Puts ops (built with status s) on attr and destroys ops; an error naming
 * `what` when building or setting failed. */
static ortc_status attr_set_post_ops(ortc_opctx *c, dnnl_primitive_attr_t attr, dnnl_post_ops_t ops,
                                     dnnl_status_t s, const char *what)
{
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    if (s != dnnl_success)
        return ortc_dnnl_error(c, s, what, __FILE__, __LINE__);
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_attr_linear(ortc_opctx *c, dnnl_primitive_attr_t attr, float alpha)
{
    dnnl_post_ops_t ops;
    DNNL_CHECK(c, dnnl_post_ops_create(&ops));
    dnnl_status_t s = append_eltwise(ops, dnnl_eltwise_linear, alpha, 0.0f);
    return attr_set_post_ops(c, attr, ops, s, "a linear post-op");
}

/* A copy of attr whose relu post-ops (alpha 0) are clip_v2 from 0 to
 * infinity, or NULL when it has none. oneDNN's reference post-ops (used by
 * its gemm-based and ref implementations) compute relu as alpha * x below
 * zero, NaN for -inf where Relu gives 0 (ref-mismatch-Conv-Relu-s146458);
 * its JIT kernels take max(x, 0). Not everywhere: Winograd convolution
 * supports relu and not clip. */
static dnnl_primitive_attr_t exact_relu_attr(const_dnnl_primitive_attr_t attr)
{
    const_dnnl_post_ops_t ops = NULL;
    if (!attr || dnnl_primitive_attr_get_post_ops(attr, &ops) != dnnl_success || !ops)
        return NULL;
    int n = dnnl_post_ops_len(ops);
    bool any = false;
    for (int i = 0; i < n && !any; i++) {
        float scale, alpha, beta;
        dnnl_alg_kind_t alg;
        any =
            dnnl_post_ops_get_kind(ops, i) == dnnl_eltwise &&
            dnnl_post_ops_get_params_eltwise(ops, i, &scale, &alg, &alpha, &beta) == dnnl_success &&
            alg == dnnl_eltwise_relu && alpha == 0.0f;
    }
    dnnl_post_ops_t out = NULL;
    dnnl_primitive_attr_t copy = NULL;
    dnnl_status_t s = any ? dnnl_post_ops_create(&out) : dnnl_unimplemented;
    for (int i = 0; s == dnnl_success && i < n; i++) {
        float scale, alpha, beta;
        dnnl_alg_kind_t alg;
        if (dnnl_post_ops_get_kind(ops, i) == dnnl_sum) {
            dnnl_data_type_t dt;
            s = dnnl_post_ops_get_params_sum_v2(ops, i, &scale, &dt);
            if (s == dnnl_success)
                s = dnnl_post_ops_append_sum_v2(out, scale, dt);
            continue;
        }
        s = dnnl_post_ops_get_kind(ops, i) == dnnl_eltwise
                ? dnnl_post_ops_get_params_eltwise(ops, i, &scale, &alg, &alpha, &beta)
                : dnnl_unimplemented; /* ortc appends only sums and eltwises */
        if (s == dnnl_success && alg == dnnl_eltwise_relu && alpha == 0.0f)
            alg = dnnl_eltwise_clip_v2, beta = INFINITY;
        if (s == dnnl_success)
            s = dnnl_post_ops_append_eltwise(out, scale, alg, alpha, beta);
    }
    if (s == dnnl_success)
        s = dnnl_primitive_attr_clone(&copy, attr);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_post_ops(copy, out);
    if (out)
        dnnl_post_ops_destroy(out);
    if (s != dnnl_success && copy) {
        dnnl_primitive_attr_destroy(copy);
        copy = NULL;
    }
    return copy;
}

/* Whether pd is one of oneDNN's implementations whose post-ops are its
 * reference ones (impl names "gemm:...", "ref:...", maybe after "x64:"). */
static bool ref_post_ops(const_dnnl_primitive_desc_t pd)
{
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
        return false;
    if (!strncmp(impl, "x64:", 4))
        impl += 4;
    return !strncmp(impl, "gemm", 4) || !strncmp(impl, "ref", 3);
}

ortc_status ortc_dnnl_pd_create(ortc_opctx *c, dnnl_primitive_desc_t *pd, const void *op_desc,
                                const_dnnl_primitive_attr_t attr, bool *unimplemented)
{
    *pd = NULL;
    if (unimplemented)
        *unimplemented = false;
    dnnl_primitive_attr_t own = NULL;
    if (!attr) {
        ORTC_TRY(ortc_dnnl_attr_new(c, &own));
        attr = own;
    }
    dnnl_status_t s = dnnl_primitive_desc_create(pd, op_desc, attr, c->backend->engine, NULL);
    if (s == dnnl_success && ref_post_ops(*pd)) {
        dnnl_primitive_attr_t exact = exact_relu_attr(attr);
        dnnl_primitive_desc_t again = NULL;
        if (exact && dnnl_primitive_desc_create(&again, op_desc, exact, c->backend->engine, NULL) ==
                         dnnl_success) {
            dnnl_primitive_desc_destroy(*pd);
            *pd = again;
        }
        if (exact)
            dnnl_primitive_attr_destroy(exact);
    }
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

/* Steps whose output is below this size run on the calling thread alone
 * (ortc_dnnl_step.serial): a parallel region costs a microsecond or two when
 * the other threads spin idle, and a whole time slice when another process
 * holds their core, which made a Loop of 1-element steps take over 100 us
 * per trip on a busy machine. Only kinds whose every output element is
 * computed the same way whatever the thread count qualify, so the results
 * stay bit-identical. */
#define SERIAL_STEP_MAX ((size_t)32 << 10)

bool ortc_dnnl_pd_runs_serial(const_dnnl_primitive_desc_t pd)
{
    dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
    if (dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind) != dnnl_success)
        return false;
    switch (kind) {
    case dnnl_eltwise:
    case dnnl_binary:
    case dnnl_softmax:
    case dnnl_softmax_v2:
    case dnnl_logsoftmax:
    case dnnl_layer_normalization:
    case dnnl_batch_normalization:
    case dnnl_pooling:
    case dnnl_pooling_v2:
    case dnnl_reorder:
    case dnnl_concat:
    case dnnl_sum:
    case dnnl_shuffle:
    case dnnl_prelu: break;
    default: return false;
    }
    const dnnl_memory_desc_t *dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    return dst && dnnl_memory_desc_get_size(dst) < SERIAL_STEP_MAX;
}

ortc_status ortc_dnnl_step_create(ortc_opctx *c, ortc_dnnl_step *st, const_dnnl_primitive_desc_t pd)
{
    /* the kernel's code is generated on another thread while this one goes
     * on with the next steps, when the compile has one (dnnl_pack.c) */
    if (!ortc_dnnl_create_later(c, st, pd))
        DNNL_CHECK(c, dnnl_primitive_create(&st->prim, pd));
    snprintf(st->impl, sizeof st->impl, "%s", ortc_dnnl_impl_name(pd));
    dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
    if (dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind) != dnnl_success ||
        kind != dnnl_reorder || !c->impl)
        c->impl = st->impl;
    st->serial = ortc_dnnl_pd_runs_serial(pd);
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (bytes > 0) {
        ORTC_TRY(ortc_dnnl_step_mem(c, st, DNNL_ARG_SCRATCHPAD, smd, &st->scratch));
        if (st->scratch_off + bytes > c->scratch_bytes)
            c->scratch_bytes = st->scratch_off + bytes;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_step_mem(ortc_opctx *c, ortc_dnnl_step *st, int arg,
                               const dnnl_memory_desc_t *md, ortc_dnnl_mem *mem)
{
    if (st && st->n_args >= ORTC_DNNL_MAX_ARGS)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: more than %d oneDNN arguments", ORTC_DNNL_MAX_ARGS);
    DNNL_CHECK(c, dnnl_memory_create(&mem->m[0], md, c->backend->engine, DNNL_MEMORY_NONE));
    if (st) {
        st->args[st->n_args].arg = arg;
        st->args[st->n_args].mem = mem;
        st->n_args++;
    }
    return ORTC_STATUS_OK;
}

dnnl_stream_t ortc_dnnl_stream(const ortc_opctx *c)
{
    return c->context > 0 ? c->backend->streams[c->context] : c->backend->stream;
}

/* The object of the context running c, made from [0] on first use with
 * `data` (or, when data is NULL and !have_data, [0]'s own handle). */
static ortc_status context_mem(ortc_opctx *c, ortc_dnnl_mem *mem, bool have_data, void *data,
                               dnnl_memory_t *out)
{
    dnnl_memory_t *slot = &mem->m[c->context > 0 ? c->context : 0];
    if (!*slot) {
        const dnnl_memory_desc_t *md;
        DNNL_CHECK(c, dnnl_memory_get_memory_desc(mem->m[0], &md));
        if (!have_data)
            DNNL_CHECK(c, dnnl_memory_get_data_handle(mem->m[0], &data));
        DNNL_CHECK(c, dnnl_memory_create(slot, md, c->backend->engine, data));
    } else if (have_data) {
        DNNL_CHECK(c, dnnl_memory_set_data_handle(*slot, data));
    }
    *out = *slot;
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_set(ortc_opctx *c, ortc_dnnl_mem *mem, const void *data)
{
    dnnl_memory_t m;
    return context_mem(c, mem, true, (void *)data, &m);
}

void ortc_dnnl_mem_free(ortc_dnnl_mem *mem)
{
    if (!mem)
        return;
    for (int k = 0; k < ORTC_MAX_CONTEXTS; k++)
        if (mem->m[k]) {
            dnnl_memory_destroy(mem->m[k]);
            mem->m[k] = NULL;
        }
}

ortc_status ortc_dnnl_step_run(ortc_opctx *c, ortc_dnnl_step *st)
{
    if (st->scratch.m[0] && !c->scratch)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: no scratch buffer though %zu bytes were declared",
                             c->scratch_bytes);
    if (st->later) /* run while its plan compiles: the kernel first */
        ortc_dnnl_create_settle(st);
    atomic_fetch_add(&exec_count, 1);
    if (st->scratch.m[0]) {
        ORTC_TRY(ortc_dnnl_set(c, &st->scratch, (char *)c->scratch + st->scratch_off));
    }
    dnnl_exec_arg_t args[ORTC_DNNL_MAX_ARGS];
    for (int i = 0; i < st->n_args; i++) {
        args[i].arg = st->args[i].arg;
        ORTC_TRY(context_mem(c, st->args[i].mem, false, NULL, &args[i].memory));
    }
    int had = st->serial ? omp_get_max_threads() : 1;
    if (had != 1)
        omp_set_num_threads(1);
    dnnl_status_t s = dnnl_primitive_execute(st->prim, ortc_dnnl_stream(c), st->n_args, args);
    if (had != 1)
        omp_set_num_threads(had);
    DNNL_CHECK(c, s);
    return ORTC_STATUS_OK;
}

void ortc_dnnl_step_free(ortc_dnnl_step *st)
{
    if (!st)
        return;
    if (st->later) /* not while a worker writes prim */
        ortc_dnnl_create_settle(st);
    /* args[] are the op state's memory objects, except the scratchpad */
    ortc_dnnl_mem_free(&st->scratch);
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
    ORTC_TRY(ortc_dnnl_attr_new(c, &attr));
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, c->backend->engine, to,
                                                         c->backend->engine, attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success)
        return ortc_dnnl_error(c, s, "dnnl_reorder_primitive_desc_create(from, to)", __FILE__,
                               __LINE__);
    r->step.scratch_off = scratch_off;
    ortc_status st = ortc_dnnl_step_create(c, &r->step, pd);
    if (!st)
        st = ortc_dnnl_step_mem(c, &r->step, DNNL_ARG_FROM, from, &r->from);
    if (!st)
        st = ortc_dnnl_step_mem(c, &r->step, DNNL_ARG_TO, to, &r->to);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

ortc_status ortc_dnnl_reorder_run(ortc_opctx *c, ortc_dnnl_reorder *r, const void *from, void *to)
{
    ORTC_TRY(ortc_dnnl_set(c, &r->from, from));
    ORTC_TRY(ortc_dnnl_set(c, &r->to, to));
    return ortc_dnnl_step_run(c, &r->step);
}

void ortc_dnnl_reorder_free(ortc_dnnl_reorder *r)
{
    if (!r)
        return;
    ortc_dnnl_step_free(&r->step);
    ortc_dnnl_mem_free(&r->from);
    ortc_dnnl_mem_free(&r->to);
}

ortc_status ortc_dnnl_unblock_init(ortc_opctx *c, ortc_dnnl_unblock *u, size_t *used)
{
    u->n = 0;
    /* buffers first, then the reorders' scratchpads after all of them */
    for (int i = 0; i < c->n_in; i++) {
        if (!c->in[i] || !ortc_dnnl_in_blocked(c, i))
            continue;
        if (u->n == ORTC_DNNL_MAX_UNBLOCK || c->n_in > ORTC_DNNL_MAX_IO)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: more than %d blocked inputs or %d inputs to unblock",
                                 ORTC_DNNL_MAX_UNBLOCK, ORTC_DNNL_MAX_IO);
        u->input[u->n] = i;
        u->off[u->n] = ortc_dnnl_scratch_take(c, used, ortc_tensor_bytes(c->in[i]));
        u->n++;
    }
    for (int k = 0; k < u->n; k++) {
        int i = u->input[k];
        dnnl_memory_desc_t from, to;
        ORTC_TRY(ortc_dnnl_md_input(c, i, &from));
        ORTC_TRY(plain_of(c, &to, c->in[i]));
        ORTC_TRY(ortc_dnnl_reorder_init(c, &u->r[k], &from, &to, *used));
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
        ORTC_TRY(ortc_dnnl_reorder_run(c, &u->r[k], c->in[i]->data, plain));
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

ortc_status ortc_dnnl_unblock_call(ortc_opctx *c, ortc_dnnl_unblock *u,
                                   ortc_status (*reference)(ortc_opctx *c))
{
    if (!u || u->n == 0)
        return reference(c);
    ortc_opctx v;
    ortc_tensor ins[ORTC_DNNL_MAX_IO];
    ortc_tensor *ptrs[ORTC_DNNL_MAX_IO];
    ortc_status st = ortc_dnnl_unblock_run(c, u, &v, ins, ptrs);
    return st ? st : reference(&v);
}

ortc_status ortc_dnnl_io_init(ortc_opctx *c, ortc_dnnl_io *io, int input,
                              const dnnl_memory_desc_t *x_md, const dnnl_memory_desc_t *src,
                              int output, const dnnl_memory_desc_t *dst,
                              bool (*blocked_ok)(const ortc_opctx *c, int k), size_t *used)
{
    dnnl_memory_desc_t x_in, plain;
    ortc_status st;
    io->input = input;
    io->output = output;
    if (input >= 0) {
        if (x_md)
            x_in = *x_md;
        else
            ORTC_TRY(ortc_dnnl_md_input(c, input, &x_in));
        io->reorder_in = !dnnl_memory_desc_equal(src, &x_in);
        if (io->reorder_in)
            io->in_off = ortc_dnnl_scratch_take(c, used, dnnl_memory_desc_get_size(src));
    }
    if (output >= 0) {
        io->dst_md = *dst;
        io->via_scratch = !ortc_dnnl_md_is_plain(dst) &&
                          !(blocked_ok ? blocked_ok : ortc_dnnl_out_blocked_ok)(c, output);
        if (io->via_scratch)
            io->out_off = ortc_dnnl_scratch_take(c, used, dnnl_memory_desc_get_size(dst));
    }
    if (io->reorder_in && (st = ortc_dnnl_reorder_init(c, &io->in_r, &x_in, src, *used)))
        return st;
    if (io->via_scratch) {
        const ortc_tensor *y = c->out[output];
        ORTC_TRY(plain_of(c, &plain, y));
        ORTC_TRY(ortc_dnnl_reorder_init(c, &io->out_r, dst, &plain, *used));
        return ORTC_STATUS_OK;
    }
    return output >= 0 ? ortc_dnnl_set_out_layout(c, output, &io->dst_md) : ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_io_begin(ortc_opctx *c, ortc_dnnl_io *io, const void *x, const void **src,
                               void **dst)
{
    *src = x;
    if (io->reorder_in) {
        void *xs = ortc_dnnl_scratch_at(c, io->in_off);
        ORTC_TRY(ortc_dnnl_reorder_run(c, &io->in_r, x, xs));
        *src = xs;
    }
    if (io->output >= 0)
        *dst = io->via_scratch ? ortc_dnnl_scratch_at(c, io->out_off) : c->out[io->output]->data;
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_io_end(ortc_opctx *c, ortc_dnnl_io *io, void *dst)
{
    if (!io->via_scratch)
        return ORTC_STATUS_OK;
    return ortc_dnnl_reorder_run(c, &io->out_r, dst, c->out[io->output]->data);
}

void ortc_dnnl_io_free(ortc_dnnl_io *io)
{
    if (!io)
        return;
    ortc_dnnl_reorder_free(&io->in_r);
    ortc_dnnl_reorder_free(&io->out_r);
}

/* Runs a one-off reorder primitive (library-managed scratchpad) and waits. */
static ortc_status reorder_once(ortc_opctx *c, dnnl_stream_t stream, dnnl_memory_t src,
                                dnnl_memory_t dst, const dnnl_memory_desc_t *src_md,
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
        s = dnnl_primitive_execute(prim, stream, 2, args);
        what = "dnnl_primitive_execute(reorder)";
    }
    if (s == dnnl_success) {
        s = dnnl_stream_wait(stream);
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

/* Faults in the whole pages of a fresh buffer of at least this size with
 * one call rather than one exception per page, which costs more under
 * virtualization (resnet18's packed weights: ~19000 faults, about as long
 * as the packing itself). Advice only: older kernels refuse it. */
#define POPULATE_MIN ((size_t)64 << 10)

/* Weights below this size are packed by one thread: mobilenet_v3_large's 60
 * reorders are mostly a few KiB to a few hundred, where forking the kernel
 * threads costs more than the copy (or the Winograd transform). */
#define SERIAL_REORDER_MAX ((size_t)1 << 20)

static void populate(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    if (bytes < POPULATE_MIN)
        return;
    uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)bytes;
#endif
}

ortc_status ortc_dnnl_pack_now(ortc_opctx *c, dnnl_stream_t stream,
                               const dnnl_memory_desc_t *dst_md, const dnnl_memory_desc_t *src_md,
                               const void *src, void *dst, int threads)
{
    size_t bytes = dnnl_memory_desc_get_size(dst_md);
    /* a small one-off copy is quicker than waking the other threads */
    if (bytes < SERIAL_REORDER_MAX)
        threads = 1;
    populate(dst, bytes);
    if (ortc_dnnl_wino_pack(dst_md, src_md, src, dst, threads))
        return ORTC_STATUS_OK;
    dnnl_memory_t msrc = NULL, mdst = NULL;
    dnnl_status_t s = dnnl_memory_create(&msrc, src_md, c->backend->engine, (void *)src);
    if (s == dnnl_success)
        s = dnnl_memory_create(&mdst, dst_md, c->backend->engine, dst);
    ortc_status st = ORTC_STATUS_OK;
    if (s != dnnl_success) {
        st = ortc_dnnl_error(c, s, "dnnl_memory_create(weights)", __FILE__, __LINE__);
    } else {
        int had = omp_get_max_threads();
        if (had != threads)
            omp_set_num_threads(threads);
        st = reorder_once(c, stream, msrc, mdst, src_md, dst_md);
        if (had != threads)
            omp_set_num_threads(had);
    }
    if (msrc)
        dnnl_memory_destroy(msrc);
    if (mdst)
        dnnl_memory_destroy(mdst);
    return st;
}

/* Packs into a fresh buffer; with `later`, on the packing thread when the
 * compiler has it on (dnnl_pack.c): the buffer is then filled by the time
 * ortc_backend_pack_wait returns, and src must stay until then. */
static ortc_status reorder_const(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                                 const dnnl_memory_desc_t *src_md, const void *src, void **buf,
                                 dnnl_memory_t *mem, bool later)
{
    *buf = NULL;
    *mem = NULL;
    size_t bytes = dnnl_memory_desc_get_size(dst_md);
    void *p = aligned_alloc(64, ((bytes ? bytes : 1) + 63) & ~(size_t)63);
    if (!p)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                             "out of memory reordering weights (%zu bytes)", bytes);
    dnnl_memory_t mdst = NULL;
    dnnl_status_t s = dnnl_memory_create(&mdst, dst_md, c->backend->engine, p);
    ortc_status st = ORTC_STATUS_OK;
    if (s != dnnl_success)
        st = ortc_dnnl_error(c, s, "dnnl_memory_create(weights)", __FILE__, __LINE__);
    else if (!later || !ortc_dnnl_pack_later(c, dst_md, src_md, src, p))
        st =
            ortc_dnnl_pack_now(c, ortc_dnnl_stream(c), dst_md, src_md, src, p, c->backend->threads);
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

ortc_status ortc_dnnl_reorder_const(ortc_opctx *c, const dnnl_memory_desc_t *dst_md,
                                    const dnnl_memory_desc_t *src_md, const void *src, void **buf,
                                    dnnl_memory_t *mem)
{
    return reorder_const(c, dst_md, src_md, src, buf, mem, false);
}

/* Whether data is the bytes of one of c's inputs (a constant or a value
 * the plan computed at compile time): those outlive the packing thread's
 * job, since the compiler frees constants only after waiting for it. */
static bool input_bytes(const ortc_opctx *c, const void *data)
{
    for (int i = 0; i < c->n_in; i++)
        if (c->in[i] && c->in[i]->data == data)
            return true;
    return false;
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
    ORTC_TRY(reorder_const(c, want, user, data, &w->packed, &w->mem.m[0], input_bytes(c, data)));
    st->args[st->n_args].arg = arg;
    st->args[st->n_args].mem = &w->mem;
    st->n_args++;
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_weights_bind(ortc_opctx *c, ortc_dnnl_weights *w, const void *data)
{
    if (w->packed)
        return ORTC_STATUS_OK;
    return ortc_dnnl_set(c, &w->mem, data);
}

void ortc_dnnl_weights_free(ortc_dnnl_weights *w)
{
    if (!w)
        return;
    ortc_dnnl_mem_free(&w->mem);
    free(w->packed);
    w->packed = NULL;
}

/* ---- fused post-ops ----------------------------------------------------------- */

/* One fused post-op as oneDNN post-ops, with ONNX's formula. */
static dnnl_status_t append_post_op(dnnl_post_ops_t ops, const ortc_post_op *po)
{
    float a = po->alpha, b = po->beta;
    dnnl_status_t s;
    switch (po->kind) {
    case ORTC_POST_OP_RELU: return append_eltwise(ops, dnnl_eltwise_relu, 0, 0);
    case ORTC_POST_OP_LEAKY_RELU: return append_eltwise(ops, dnnl_eltwise_relu, a, 0);
    case ORTC_POST_OP_SIGMOID: return append_eltwise(ops, dnnl_eltwise_logistic, 0, 0);
    case ORTC_POST_OP_TANH: return append_eltwise(ops, dnnl_eltwise_tanh, 0, 0);
    case ORTC_POST_OP_ELU: return append_eltwise(ops, dnnl_eltwise_elu, a, 0);
    case ORTC_POST_OP_CLIP:
        /* numpy's clip with min > max gives max everywhere; clip_v2 would not */
        return a <= b ? append_eltwise(ops, dnnl_eltwise_clip_v2, a, b)
                      : append_eltwise(ops, dnnl_eltwise_linear, 0, b);
    case ORTC_POST_OP_HARD_SIGMOID:
        s = append_eltwise(ops, dnnl_eltwise_linear, a, b);
        return s == dnnl_success ? append_eltwise(ops, dnnl_eltwise_clip_v2, 0.0f, 1.0f) : s;
    case ORTC_POST_OP_HARD_SWISH: return append_eltwise(ops, dnnl_eltwise_hardswish, 0, 0);
    case ORTC_POST_OP_SWISH: return append_eltwise(ops, dnnl_eltwise_swish, 1.0f, 0);
    case ORTC_POST_OP_GELU_ERF: return append_eltwise(ops, dnnl_eltwise_gelu_erf, 0, 0);
    /* the primitive's own bias argument (ops with ORTC_OP_POST_OP_BIAS bind it) */
    case ORTC_POST_OP_BIAS: return dnnl_success;
    case ORTC_POST_OP_SUM: return dnnl_post_ops_append_sum(ops, 1.0f);
    default: return dnnl_invalid_arguments; /* ortc_post_ops_check refuses it */
    }
}

ortc_status ortc_post_ops_to_attr(ortc_opctx *c, dnnl_primitive_attr_t attr, float first_sum)
{
    return ortc_post_ops_to_attr_first(c, attr, first_sum, c->node->n_post_ops);
}

ortc_status ortc_post_ops_to_attr_first(ortc_opctx *c, dnnl_primitive_attr_t attr, float first_sum,
                                        int count)
{
    const ortc_node *n = c->node;
    if (first_sum == 0.0f && count == 0)
        return ORTC_STATUS_OK;
    dnnl_post_ops_t ops;
    DNNL_CHECK(c, dnnl_post_ops_create(&ops));
    dnnl_status_t s = dnnl_success;
    if (first_sum != 0.0f)
        s = dnnl_post_ops_append_sum(ops, first_sum);
    for (int i = 0; s == dnnl_success && i < count && i < n->n_post_ops; i++)
        s = append_post_op(ops, &n->post_ops[i]);
    return attr_set_post_ops(c, attr, ops, s, "building the fused post-ops");
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

ortc_status ortc_dnnl_sum_init(ortc_opctx *c, ortc_dnnl_sum_src *ss, const dnnl_memory_desc_t *dst,
                               size_t scratch_off, bool may_inplace)
{
    memset(ss, 0, sizeof *ss);
    if (!ortc_post_ops_has_sum(c->node))
        return ORTC_STATUS_OK;
    const int k = ORTC_FUSED_SUM_INPUT;
    ss->active = true;
    ss->bytes = dnnl_memory_desc_get_size(dst);
    dnnl_memory_desc_t md;
    ORTC_TRY(ortc_dnnl_md_input(c, k, &md));
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
