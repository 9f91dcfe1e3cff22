/* concat_dnnl.c — the oneDNN side of Concat (movement.c): float32 inputs of
 * which at least one arrives in a blocked layout (a convolution's or a
 * pooling's output) are joined by oneDNN's concat primitive, reading every
 * input as it arrives; the output takes the layout oneDNN picks when every
 * consumer accepts a blocked one, else plain. No reorders to plain on the
 * way in: a plain output of blocked inputs is joined in the first blocked
 * input's layout in scratch and reordered once (oneDNN's concat into plain
 * from blocked sources is its reference one). Everything else (all inputs plain, other dtypes, the reference)
 * is movement.c's plain-C kernel, on plain copies of blocked inputs where
 * oneDNN has no implementation. Where the output is its sources' bytes one
 * after the other, prepare says so (joins_inputs) and the runtime may have
 * the producers write there instead of running the step.
 */
#include "concat_dnnl.h"

#include <stdio.h>
#include <stdlib.h>

#include "dnnl_util.h"
#include "error.h"

typedef struct concat_state {
    bool fallback; /* plain-C kernel on plain copies (unblock) */
    ortc_dnnl_unblock unblock;
    dnnl_primitive_t prim;
    int n_src;                 /* non-empty inputs: src[k] is c->in[input[k]] */
    int *input;                /* [n_src] */
    ortc_dnnl_mem *mem;        /* [n_src + 1]: the sources, then the output */
    ortc_dnnl_mem scratch;     /* the primitive's scratchpad (none: no objects) */
    dnnl_exec_arg_t *args;     /* [ORTC_MAX_CONTEXTS][n_src + 2] */
    dnnl_memory_desc_t dst_md; /* the output's layout (a blocked out_layout points here) */
    bool via_scratch;          /* plain output: joined blocked in scratch, then reordered */
    ortc_dnnl_io io;           /* that reorder (output side only) */
    char impl[48];             /* oneDNN's implementation name (c->impl) */
} concat_state;

void ortc_concat_dnnl_release(ortc_opctx *c)
{
    concat_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_unblock_free(&s->unblock);
    ortc_dnnl_io_free(&s->io);
    if (s->mem)
        for (int k = 0; k <= s->n_src; k++)
            ortc_dnnl_mem_free(&s->mem[k]);
    ortc_dnnl_mem_free(&s->scratch);
    if (s->prim)
        dnnl_primitive_destroy(s->prim);
    free(s->input);
    free(s->mem);
    free(s->args);
    free(s);
    c->state = NULL;
}

/* Channels-last, then channel-blocked by 16 and by 8, by rank 3, 4, 5. */
static const dnnl_format_tag_t concat_like_tags[][3] = {
    {dnnl_acb, dnnl_acdb, dnnl_acdeb},
    {dnnl_aBc16b, dnnl_aBcd16b, dnnl_aBcde16b},
    {dnnl_aBc8b, dnnl_aBcd8b, dnnl_aBcde8b},
};

/* *dst: the output's dims in the format of the first non-plain input whose
 * format is one of concat_like_tags' rows from `row` on (*found true), or
 * *found false when none is (or the output's rank is not 3 to 5). */
static ortc_status concat_first_format(ortc_opctx *c, const dnnl_memory_desc_t *src, int n,
                                       size_t row, dnnl_memory_desc_t *dst, bool *found)
{
    const ortc_tensor *y = c->out[0];
    *found = false;
    if (y->rank < 3 || y->rank > 5)
        return ORTC_STATUS_OK;
    size_t rows = sizeof concat_like_tags / sizeof *concat_like_tags;
    for (int k = 0; k < n && !*found; k++) {
        if (ortc_dnnl_md_is_plain(&src[k]))
            continue;
        for (size_t t = row; t < rows && !*found; t++) {
            dnnl_format_tag_t tag = concat_like_tags[t][y->rank - 3];
            dnnl_memory_desc_t like;
            ORTC_TRY(ortc_dnnl_md_tag(c, &like, src[k].ndims, src[k].dims, tag));
            if (!dnnl_memory_desc_equal(&like, &src[k]))
                continue;
            ORTC_TRY(ortc_dnnl_md_tag(c, dst, y->rank, y->dims, tag));
            *found = true;
        }
    }
    return ORTC_STATUS_OK;
}

/* The output's layout when it may be blocked: the first blocked input's
 * format (channels-last or channel-blocked, from its tag) over the output's
 * dims, so a plain first input (a pooling's) does not make oneDNN pick
 * plain for the rest; *found false when that input's format is none of
 * these (oneDNN then picks). With prefer_blocked, a channel-blocked input's
 * format before a channels-last one's, wherever the inputs stand: only a
 * channel-blocked output can hold its inputs without copying them
 * (concat_joins), so a chain of Concats (DenseNet's) whose first link
 * reads a channels-last value still joins from the second link on. */
static ortc_status concat_dst_like(ortc_opctx *c, const dnnl_memory_desc_t *src, int n,
                                   bool prefer_blocked, dnnl_memory_desc_t *dst, bool *found)
{
    *found = false;
    /* prefer_blocked: channel-blocked tags (rows 1..) over all inputs first */
    if (prefer_blocked)
        ORTC_TRY(concat_first_format(c, src, n, 1, dst, found));
    if (!*found)
        ORTC_TRY(concat_first_format(c, src, n, 0, dst, found));
    return ORTC_STATUS_OK;
}

/* Whether the output's bytes are the sources' bytes one after the other
 * (ortc_opctx.joins_inputs): one source in the output's layout; or the
 * output and every source in one format (plain, or channel-blocked by 8 or
 * 16), nothing before the axis but a batch of one, and along a blocked
 * channel axis every source but the last a whole number of blocks.
 * Channels-last only with one source (the channels of a pixel are not one
 * source's; oneDNN 2.6 runs its reference convolution, pooling and batch
 * normalization on strided slices, so a producer cannot write into them). */
static ortc_status concat_joins(ortc_opctx *c, const dnnl_memory_desc_t *src, int n, int axis,
                                const dnnl_memory_desc_t *dst, bool *joins)
{
    static const struct {
        dnnl_format_tag_t tag[5]; /* by rank 1..5 */
        int block;                /* over dim 1; 0: plain */
    } formats[] = {
        {{dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde}, 0},
        {{dnnl_format_tag_undef, dnnl_format_tag_undef, dnnl_aBc16b, dnnl_aBcd16b, dnnl_aBcde16b},
         16},
        {{dnnl_format_tag_undef, dnnl_format_tag_undef, dnnl_aBc8b, dnnl_aBcd8b, dnnl_aBcde8b}, 8},
    };
    *joins = n == 1 && dnnl_memory_desc_equal(&src[0], dst);
    int rank = dst->ndims;
    if (*joins)
        return ORTC_STATUS_OK;
    if (rank < 1 || rank > 5)
        return ORTC_STATUS_OK;
    for (size_t f = 0; f < sizeof formats / sizeof *formats; f++) {
        dnnl_format_tag_t tag = formats[f].tag[rank - 1];
        if (tag == dnnl_format_tag_undef)
            continue;
        dnnl_memory_desc_t like;
        ORTC_TRY(ortc_dnnl_md_tag(c, &like, rank, dst->dims, tag));
        if (!dnnl_memory_desc_equal(&like, dst))
            continue;
        int block = formats[f].block;
        if (block && axis > 1)
            return ORTC_STATUS_OK; /* a block holds several sources' channels */
        for (int d = 0; d < axis; d++)
            if (dst->dims[d] != 1)
                return ORTC_STATUS_OK;
        size_t bytes = 0;
        for (int k = 0; k < n; k++) {
            ORTC_TRY(ortc_dnnl_md_tag(c, &like, rank, src[k].dims, tag));
            if (!dnnl_memory_desc_equal(&like, &src[k]))
                return ORTC_STATUS_OK;
            if (block && axis == 1 && k < n - 1 && src[k].dims[1] % block)
                return ORTC_STATUS_OK;
            bytes += dnnl_memory_desc_get_size(&src[k]);
        }
        *joins = bytes == dnnl_memory_desc_get_size(dst);
        return ORTC_STATUS_OK;
    }
    return ORTC_STATUS_OK;
}

/* The primitive over the non-empty inputs; *unimpl where oneDNN has none. */
static ortc_status concat_build(ortc_opctx *c, concat_state *s, int axis, bool *unimpl)
{
    *unimpl = false;
    int n = 0;
    for (int i = 0; i < c->n_in; i++)
        n += ortc_tensor_numel(c->in[i]) > 0;
    s->input = malloc((size_t)(n ? n : 1) * sizeof *s->input);
    s->mem = calloc((size_t)n + 1, sizeof *s->mem);
    s->args = calloc((size_t)ORTC_MAX_CONTEXTS * ((size_t)n + 2), sizeof *s->args);
    dnnl_memory_desc_t *src = calloc((size_t)(n ? n : 1), sizeof *src);
    if (!s->input || !s->mem || !s->args || !src) {
        free(src);
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing Concat");
    }
    ortc_status st = ORTC_STATUS_OK;
    for (int i = 0; i < c->n_in && !st; i++)
        if (ortc_tensor_numel(c->in[i]) > 0) {
            s->input[s->n_src] = i;
            st = ortc_dnnl_md_input(c, i, &src[s->n_src++]);
        }
    dnnl_memory_desc_t want;
    const ortc_tensor *y = c->out[0];
    bool like = false;
    if (!st && ortc_dnnl_out_blocked_ok(c, 0))
        st = concat_dst_like(c, src, s->n_src, true, &want, &like);
    /* A plain output of blocked inputs: oneDNN's only concat writing plain
     * from blocked sources is its reference one, a strided reorder per
     * input (inception_v3, where a Pad read each block's output: ~19% of
     * the run at batch 1). Joined instead in the first blocked input's
     * layout into scratch, then one reorder to plain, where oneDNN has more
     * than its reference concat for that (the sources in one layout): with
     * mixed sources (shufflenet_v2's plain and channels-last halves) the
     * direct reference concat into plain took ~8% less (1 thread, CPU time). */
    if (!st && !ortc_dnnl_out_blocked_ok(c, 0))
        st = concat_dst_like(c, src, s->n_src, false, &want, &s->via_scratch);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    if (!st)
        st = ortc_dnnl_attr_new(c, &attr);
    for (int pass = 0; pass < 2 && !st && !pd && !*unimpl; pass++) {
        if (pass == 1 && !s->via_scratch)
            break;
        if (pass == 1 || (!ortc_dnnl_out_blocked_ok(c, 0) && !s->via_scratch)) {
            s->via_scratch = false;
            if ((st = ortc_dnnl_md_plain(c, &want, y->rank, y->dims)))
                break;
        }
        /* NULL destination: oneDNN picks (the sources' layout) */
        bool pick = ortc_dnnl_out_blocked_ok(c, 0) && !like;
        dnnl_status_t ds = dnnl_concat_primitive_desc_create(&pd, pick ? NULL : &want, s->n_src,
                                                             axis, src, attr, c->backend->engine);
        if (ds == dnnl_unimplemented)
            *unimpl = true;
        else if (ds != dnnl_success)
            st = ortc_dnnl_error(c, ds, "dnnl_concat_primitive_desc_create", __FILE__, __LINE__);
        if (!st && pd && s->via_scratch && ortc_dnnl_impl_is_ref(pd)) {
            dnnl_primitive_desc_destroy(pd); /* no better than into plain: do that */
            pd = NULL;
        }
        if (*unimpl && s->via_scratch) {
            *unimpl = false; /* the plain destination may still have one */
            pd = NULL;
        }
    }
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (!st && !*unimpl) {
        s->dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        snprintf(s->impl, sizeof s->impl, "%s", ortc_dnnl_impl_name(pd));
        c->impl = s->impl;
        dnnl_status_t ds = dnnl_primitive_create(&s->prim, pd);
        if (ds != dnnl_success)
            st = ortc_dnnl_error(c, ds, "dnnl_primitive_create(concat)", __FILE__, __LINE__);
        const dnnl_memory_desc_t *smd =
            dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        size_t bytes = smd ? dnnl_memory_desc_get_size(smd) : 0;
        if (!st && bytes > 0) {
            st = ortc_dnnl_step_mem(c, NULL, DNNL_ARG_SCRATCHPAD, smd, &s->scratch);
            if (bytes > c->scratch_bytes)
                c->scratch_bytes = bytes;
        }
        for (int k = 0; k < s->n_src && !st; k++)
            st = ortc_dnnl_step_mem(c, NULL, DNNL_ARG_MULTIPLE_SRC + k, &src[k], &s->mem[k]);
        if (!st)
            st = ortc_dnnl_step_mem(c, NULL, DNNL_ARG_DST, &s->dst_md, &s->mem[s->n_src]);
        if (!st && s->via_scratch) {
            size_t used = bytes;
            st = ortc_dnnl_io_init(c, &s->io, -1, NULL, NULL, 0, &s->dst_md, NULL, &used);
        } else if (!st)
            st = ortc_dnnl_set_out_layout(c, 0, &s->dst_md);
        if (!st && !s->via_scratch)
            st = concat_joins(c, src, s->n_src, axis, &s->dst_md, &c->joins_inputs);
    }
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    free(src);
    return st;
}

ortc_status ortc_concat_dnnl_prepare(ortc_opctx *c, int axis)
{
    bool blocked = false;
    for (int i = 0; i < c->n_in; i++)
        blocked = blocked || ortc_dnnl_in_blocked(c, i);
    if (!c->backend || !blocked)
        return ORTC_STATUS_OK; /* plain C, no state */
    concat_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing Concat");
    c->state = s;
    bool unimpl = c->out[0]->dtype != ORTC_DTYPE_FLOAT;
    ortc_status st = unimpl ? ORTC_STATUS_OK : concat_build(c, s, axis, &unimpl);
    if (!st && unimpl) {
        s->fallback = true;
        c->impl = "ortc:c"; /* the plain-C kernel on plain copies */
        size_t used = 0;
        st = ortc_dnnl_unblock_init(c, &s->unblock, &used);
    }
    if (st)
        ortc_concat_dnnl_release(c);
    return st;
}

ortc_status ortc_concat_dnnl_run(ortc_opctx *c, ortc_status (*plain)(ortc_opctx *c))
{
    concat_state *s = c->state;
    if (!s)
        return plain(c);
    ortc_status st;
    if (s->fallback) {
        ortc_opctx v;
        ortc_tensor ins[ORTC_DNNL_MAX_IO];
        ortc_tensor *ptrs[ORTC_DNNL_MAX_IO];
        ORTC_TRY(ortc_dnnl_unblock_run(c, &s->unblock, &v, ins, ptrs));
        return plain(&v);
    }
    int ctx = c->context > 0 ? c->context : 0, n = s->n_src;
    dnnl_exec_arg_t *args = s->args + (size_t)ctx * ((size_t)n + 2);
    int na = 0;
    void *dst = c->out[0]->data;
    const void *unused;
    if (s->via_scratch && (st = ortc_dnnl_io_begin(c, &s->io, NULL, &unused, &dst)))
        return st;
    for (int k = 0; k <= n; k++) {
        void *data = k < n ? c->in[s->input[k]]->data : dst;
        ORTC_TRY(ortc_dnnl_set(c, &s->mem[k], data));
        args[na++] =
            (dnnl_exec_arg_t){k < n ? DNNL_ARG_MULTIPLE_SRC + k : DNNL_ARG_DST, s->mem[k].m[ctx]};
    }
    if (s->scratch.m[0]) {
        if (!c->scratch)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: no scratch buffer for Concat's scratchpad");
        ORTC_TRY(ortc_dnnl_set(c, &s->scratch, c->scratch));
        args[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, s->scratch.m[ctx]};
    }
    DNNL_CHECK(c, dnnl_primitive_execute(s->prim, ortc_dnnl_stream(c), na, args));
    return s->via_scratch ? ortc_dnnl_io_end(c, &s->io, dst) : ORTC_STATUS_OK;
}
