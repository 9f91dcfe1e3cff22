/* dnnl_prim.h — a oneDNN primitive as (most of) an operator: the prepare,
 * run and release that single-primitive operators share. The operator
 * gives an op descriptor (or a primitive descriptor it chose) and says
 * where each argument's data comes from; the helper creates the memory
 * objects (per execution context, dnnl_util.h), binds them at every run,
 * falls back to the operator's plain-C reference kernel where oneDNN has no
 * implementation (on plain copies of blocked inputs), and handles layouts:
 * a format_tag_any source reordered into the primitive's layout, a blocked
 * destination kept where every consumer takes it or else computed in
 * scratch and reordered into the plain output, the summand of a fused sum
 * put into the destination first, constant weights packed once.
 *
 * A pooling-like operator needs only its descriptor:
 *
 *     static ortc_status mypool_build(ortc_opctx *c, void *state)
 *     {
 *         dnnl_memory_desc_t src, dst;  // src as x arrives, dst any
 *         ... ortc_dnnl_md_input(c, 0, &src), ortc_dnnl_md_any(c, &dst, ...)
 *         dnnl_pooling_v2_desc_t d;
 *         DNNL_CHECK(c, dnnl_pooling_v2_forward_desc_init(&d, ..., &src, &dst, ...));
 *         const ortc_dnnl_arg args[] = {ORTC_DNNL_IN(DNNL_ARG_SRC, 0),
 *                                       ORTC_DNNL_OUT(DNNL_ARG_DST, 0)};
 *         return ortc_dnnl_prim_create(c, state, &d, NULL, args, 2);
 *     }
 *     static ortc_status mypool_prepare(ortc_opctx *c)
 *     {
 *         return ortc_dnnl_prim_prepare(c, sizeof(ortc_dnnl_prim), mypool_build, NULL);
 *     }
 *     ... .prepare = mypool_prepare, .run = ortc_dnnl_prim_exec,
 *         .release = ortc_dnnl_prim_release, .reference = mypool_reference
 *
 * Private to operators/.
 */
#ifndef ORTC_DNNL_PRIM_H
#define ORTC_DNNL_PRIM_H

#include "dnnl_util.h"

/* Where an argument's data comes from at every run. */
typedef enum ortc_dnnl_from {
    ORTC_DNNL_FROM_IN,      /* c->in[at], described as in the op descriptor */
    ORTC_DNNL_FROM_IN_ANY,  /* c->in[at] as it arrives, reordered into scratch
                               when the primitive chose another layout (a
                               format_tag_any source); at most one */
    ORTC_DNNL_FROM_OUT,     /* c->out[at]; as DNNL_ARG_DST see the top */
    ORTC_DNNL_FROM_SCRATCH, /* c->scratch + at (reserved with ortc_dnnl_prim_scratch) */
    ORTC_DNNL_FROM_DATA,    /* `data`, fixed in prepare (op-owned or constant) */
    ORTC_DNNL_FROM_WEIGHTS, /* c->in[at] described by `user`: packed once into the
                               primitive's layout when constant (ortc_dnnl_weights);
                               at most one */
} ortc_dnnl_from;

typedef struct ortc_dnnl_arg {
    int arg; /* DNNL_ARG_SRC, DNNL_ARG_DST, ... */
    ortc_dnnl_from from;
    size_t at;                      /* input/output index, or scratch offset */
    const void *data;               /* FROM_DATA */
    const dnnl_memory_desc_t *user; /* FROM_WEIGHTS */
} ortc_dnnl_arg;

#define ORTC_DNNL_IN(arg, i) ((ortc_dnnl_arg){(arg), ORTC_DNNL_FROM_IN, (size_t)(i), NULL, NULL})
#define ORTC_DNNL_IN_ANY(arg, i)                                                                   \
    ((ortc_dnnl_arg){(arg), ORTC_DNNL_FROM_IN_ANY, (size_t)(i), NULL, NULL})
#define ORTC_DNNL_OUT(arg, k) ((ortc_dnnl_arg){(arg), ORTC_DNNL_FROM_OUT, (size_t)(k), NULL, NULL})
#define ORTC_DNNL_SCRATCH(arg, off)                                                                \
    ((ortc_dnnl_arg){(arg), ORTC_DNNL_FROM_SCRATCH, (off), NULL, NULL})
#define ORTC_DNNL_DATA(arg, p) ((ortc_dnnl_arg){(arg), ORTC_DNNL_FROM_DATA, 0, (p), NULL})
#define ORTC_DNNL_WEIGHTS(arg, i, user_md)                                                         \
    ((ortc_dnnl_arg){(arg), ORTC_DNNL_FROM_WEIGHTS, (size_t)(i), NULL, (user_md)})

typedef struct ortc_dnnl_prim {
    /* Run the plain-C reference kernel instead (set by the operator, or
     * where oneDNN has no implementation), on plain copies of blocked
     * inputs. */
    bool use_ref;
    /* Plain copies of blocked inputs: for use_ref, and for a primitive the
     * operator built over plain descriptors of a blocked input (then
     * FROM_IN reads the copies). */
    ortc_dnnl_unblock unblock;
    size_t used; /* scratch reserved so far (op buffers, unblock, io) */
    ortc_dnnl_step step;
    int n_args;
    struct {
        ortc_dnnl_from from;
        size_t at;
        int arg;
        ortc_dnnl_mem mem;
    } args[ORTC_DNNL_MAX_ARGS];
    ortc_dnnl_weights w;
    ortc_dnnl_io io;       /* FROM_IN_ANY source and DNNL_ARG_DST output */
    bool fused_sum;        /* the attribute carries the node's post-ops */
    ortc_dnnl_sum_src sum; /* ... with a sum: the summand into dst first */
} ortc_dnnl_prim;

/* prepare for an op whose state is, or begins with, an ortc_dnnl_prim
 * (any state when `release` is given): `size` zeroed bytes become
 * c->state, then build(c, c->state). On error the state is released with
 * `release` (NULL: ortc_dnnl_prim_release). */
ortc_status ortc_dnnl_prim_prepare(ortc_opctx *c, size_t size,
                                   ortc_status (*build)(ortc_opctx *c, void *state),
                                   void (*release)(ortc_opctx *c));
/* release for such a state: ortc_dnnl_prim_free, then the state. */
void ortc_dnnl_prim_release(ortc_opctx *c);
/* Frees what p owns (memory objects, steps, reorders, packed weights), not
 * p itself; a zeroed p is a no-op. */
void ortc_dnnl_prim_free(ortc_dnnl_prim *p);

/* Reserves op-owned scratch (before the primitive is bound); returns its
 * offset. */
size_t ortc_dnnl_prim_scratch(ortc_opctx *c, ortc_dnnl_prim *p, size_t bytes);
/* From now on the plain-C reference kernel: use_ref, blocked inputs
 * planned for plain copies. */
ortc_status ortc_dnnl_prim_use_ref(ortc_opctx *c, ortc_dnnl_prim *p);
/* A new attribute (user scratchpad) with c->node's fused post-ops after a
 * leading sum of scale first_sum when not 0; the caller destroys it. */
ortc_status ortc_dnnl_prim_attr(ortc_opctx *c, ortc_dnnl_prim *p, dnnl_primitive_attr_t *attr,
                                float first_sum);

/* The primitive for op_desc (dnnl_*_desc_t) with attr (NULL: a plain one)
 * and its arguments, or use_ref where oneDNN has no implementation. */
ortc_status ortc_dnnl_prim_create(ortc_opctx *c, ortc_dnnl_prim *p, const void *op_desc,
                                  const_dnnl_primitive_attr_t attr, const ortc_dnnl_arg *args,
                                  int n_args);
/* The same for a primitive descriptor the op chose (it stays the
 * caller's). Descriptors of the arguments are the pd's. */
ortc_status ortc_dnnl_prim_bind(ortc_opctx *c, ortc_dnnl_prim *p, const_dnnl_primitive_desc_t pd,
                                const ortc_dnnl_arg *args, int n_args);

/* Runs the primitive: plain copies, source reorder, summand, handles,
 * execution, output reorder. */
ortc_status ortc_dnnl_prim_run(ortc_opctx *c, ortc_dnnl_prim *p);
/* reference(c), or on plain copies of the blocked inputs. */
ortc_status ortc_dnnl_prim_fallback(ortc_opctx *c, ortc_dnnl_prim *p,
                                    ortc_status (*reference)(ortc_opctx *c));
/* run (ortc_operator.run) for an op whose state begins with an
 * ortc_dnnl_prim: its reference kernel (ortc_operator.reference) without
 * state or with use_ref, else the primitive. */
ortc_status ortc_dnnl_prim_exec(ortc_opctx *c);

#endif
