/* dnnl_prim.c — single-primitive operators (dnnl_prim.h): state
 * allocation, the primitive and its arguments from a descriptor, the run
 * with its reorders and fused summand, the plain-C fallback. No operator's
 * own semantics here.
 */
#include "dnnl_prim.h"

#include <stdlib.h>

#include "error.h"
#include "post_ops.h"

ortc_status ortc_dnnl_prim_prepare(ortc_opctx *c, size_t size,
                                   ortc_status (*build)(ortc_opctx *c, void *state),
                                   void (*release)(ortc_opctx *c))
{
    void *s = calloc(1, size);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory preparing %s",
                             c->node->op_type);
    c->state = s;
    ortc_status st = build(c, s);
    if (st)
        (release ? release : ortc_dnnl_prim_release)(c);
    return st;
}

void ortc_dnnl_prim_free(ortc_dnnl_prim *p)
{
    if (!p)
        return;
    ortc_dnnl_step_free(&p->step);
    ortc_dnnl_unblock_free(&p->unblock);
    ortc_dnnl_io_free(&p->io);
    ortc_dnnl_sum_free(&p->sum);
    for (int i = 0; i < p->n_args; i++)
        ortc_dnnl_mem_free(&p->args[i].mem);
    ortc_dnnl_weights_free(&p->w);
    p->n_args = 0;
}

void ortc_dnnl_prim_release(ortc_opctx *c)
{
    ortc_dnnl_prim *p = c->state;
    if (!p)
        return;
    ortc_dnnl_prim_free(p);
    free(p);
    c->state = NULL;
}

size_t ortc_dnnl_prim_scratch(ortc_opctx *c, ortc_dnnl_prim *p, size_t bytes)
{
    return ortc_dnnl_scratch_take(c, &p->used, bytes);
}

ortc_status ortc_dnnl_prim_use_ref(ortc_opctx *c, ortc_dnnl_prim *p)
{
    ortc_dnnl_unblock_free(&p->unblock);
    /* the reference kernel reads the weights' own bytes */
    for (int i = 0; i < p->n_args; i++)
        if (p->args[i].from == ORTC_DNNL_FROM_WEIGHTS && p->args[i].at < 32)
            c->packed_inputs &= ~((uint32_t)1 << p->args[i].at);
    p->use_ref = true;
    c->impl = "ortc:reference";
    return ortc_dnnl_unblock_init(c, &p->unblock, &p->used);
}

ortc_status ortc_dnnl_prim_attr(ortc_opctx *c, ortc_dnnl_prim *p, dnnl_primitive_attr_t *attr,
                                float first_sum)
{
    ORTC_TRY(ortc_dnnl_attr_new(c, attr));
    ortc_status st;
    if ((st = ortc_post_ops_to_attr(c, *attr, first_sum))) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return st;
    }
    p->fused_sum = ortc_post_ops_has_sum(c->node);
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_prim_create(ortc_opctx *c, ortc_dnnl_prim *p, const void *op_desc,
                                  const_dnnl_primitive_attr_t attr, const ortc_dnnl_arg *args,
                                  int n_args)
{
    dnnl_primitive_desc_t pd;
    bool unimpl;
    ORTC_TRY(ortc_dnnl_pd_create(c, &pd, op_desc, attr, &unimpl));
    if (unimpl)
        return ortc_dnnl_prim_use_ref(c, p);
    ortc_status st = ortc_dnnl_prim_bind(c, p, pd, args, n_args);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/* The memory objects of the arguments, in the order given. */
static ortc_status bind_args(ortc_opctx *c, ortc_dnnl_prim *p, const_dnnl_primitive_desc_t pd,
                             const ortc_dnnl_arg *args, int n_args)
{
    for (int i = 0; i < n_args; i++) {
        const ortc_dnnl_arg *a = &args[i];
        const dnnl_memory_desc_t *md = ortc_dnnl_pd_md(pd, a->arg);
        p->args[i].from = a->from;
        p->args[i].at = a->at;
        p->args[i].arg = a->arg;
        p->n_args = i + 1;
        ortc_status st;
        if (a->from == ORTC_DNNL_FROM_WEIGHTS) {
            st =
                ortc_dnnl_weights_init(c, &p->step, a->arg, &p->w, md, a->user, c->in[a->at]->data);
            /* run binds the packed copy only: the constant's bytes may go */
            if (a->at < 32) {
                c->packed_inputs &= ~((uint32_t)1 << a->at);
                if (!st && p->w.packed)
                    c->packed_inputs |= (uint32_t)1 << a->at;
            }
        } else {
            st = ortc_dnnl_step_mem(c, &p->step, a->arg, md, &p->args[i].mem);
            if (!st && a->from == ORTC_DNNL_FROM_DATA)
                st = ortc_dnnl_set(c, &p->args[i].mem, a->data);
        }
        if (st)
            return st;
    }
    return ORTC_STATUS_OK;
}

ortc_status ortc_dnnl_prim_bind(ortc_opctx *c, ortc_dnnl_prim *p, const_dnnl_primitive_desc_t pd,
                                const ortc_dnnl_arg *args, int n_args)
{
    if (n_args > ORTC_DNNL_MAX_ARGS)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: more than %d oneDNN arguments", ORTC_DNNL_MAX_ARGS);
    int in_any = -1, out = -1;
    const dnnl_memory_desc_t *src = NULL, *dst = NULL;
    for (int i = 0; i < n_args; i++) {
        const dnnl_memory_desc_t *md = ortc_dnnl_pd_md(pd, args[i].arg);
        if (!md)
            return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                                 "internal: oneDNN reported no descriptor for argument %d",
                                 args[i].arg);
        if (args[i].from == ORTC_DNNL_FROM_IN_ANY) {
            in_any = (int)args[i].at;
            src = md;
        } else if (args[i].from == ORTC_DNNL_FROM_OUT && args[i].arg == DNNL_ARG_DST) {
            out = (int)args[i].at;
            dst = md;
        }
    }
    if (p->fused_sum && out < 0)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR,
                             "internal: a fused sum needs the destination to be an output");
    /* scratch: [op buffers][reordered source][destination][scratchpads] */
    ortc_status st = ortc_dnnl_io_init(c, &p->io, in_any, NULL, src, out, dst, NULL, &p->used);
    if (!st && p->fused_sum)
        st = ortc_dnnl_sum_init(c, &p->sum, &p->io.dst_md, p->used, !p->io.via_scratch);
    p->step.scratch_off = p->used;
    if (!st)
        st = ortc_dnnl_step_create(c, &p->step, pd);
    return st ? st : bind_args(c, p, pd, args, n_args);
}

ortc_status ortc_dnnl_prim_run(ortc_opctx *c, ortc_dnnl_prim *p)
{
    ortc_opctx v;
    ortc_tensor ins[ORTC_DNNL_MAX_IO];
    ortc_tensor *ptrs[ORTC_DNNL_MAX_IO];
    const ortc_opctx *x = c; /* inputs as the primitive reads them */
    if (p->unblock.n) {
        ORTC_TRY(ortc_dnnl_unblock_run(c, &p->unblock, &v, ins, ptrs));
        x = &v;
    }
    const void *src = NULL;
    void *dst = NULL;
    const void *any = p->io.input >= 0 ? x->in[p->io.input]->data : NULL;
    ORTC_TRY(ortc_dnnl_io_begin(c, &p->io, any, &src, &dst));
    ORTC_TRY(ortc_dnnl_sum_run(c, &p->sum, dst));
    for (int i = 0; i < p->n_args; i++) {
        size_t at = p->args[i].at;
        const void *data = NULL;
        switch (p->args[i].from) {
        case ORTC_DNNL_FROM_IN: data = x->in[at]->data; break;
        case ORTC_DNNL_FROM_IN_ANY: data = src; break;
        case ORTC_DNNL_FROM_OUT:
            data = p->args[i].arg == DNNL_ARG_DST ? dst : c->out[at]->data;
            break;
        case ORTC_DNNL_FROM_SCRATCH: data = ortc_dnnl_scratch_at(c, at); break;
        case ORTC_DNNL_FROM_DATA: continue; /* set in prepare */
        case ORTC_DNNL_FROM_WEIGHTS:
            ORTC_TRY(ortc_dnnl_weights_bind(c, &p->w, c->in[at]->data));
            continue;
        }
        ORTC_TRY(ortc_dnnl_set(c, &p->args[i].mem, data));
    }
    ORTC_TRY(ortc_dnnl_step_run(c, &p->step));
    return ortc_dnnl_io_end(c, &p->io, dst);
}

ortc_status ortc_dnnl_prim_fallback(ortc_opctx *c, ortc_dnnl_prim *p,
                                    ortc_status (*reference)(ortc_opctx *c))
{
    return ortc_dnnl_unblock_call(c, p ? &p->unblock : NULL, reference);
}

ortc_status ortc_dnnl_prim_exec(ortc_opctx *c)
{
    ortc_dnnl_prim *p = c->state;
    const ortc_operator *op = c->node->op;
    if (p && !p->use_ref)
        return ortc_dnnl_prim_run(c, p);
    if (!op || !op->reference)
        return ortc_op_error(c, ORTC_STATUS_RUNTIME_ERROR, "internal: no reference kernel");
    return ortc_dnnl_prim_fallback(c, p, op->reference);
}
