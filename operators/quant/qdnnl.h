/* qdnnl.h — the oneDNN side of the int8 operators (QLinearConv,
 * ConvInteger, QLinearMatMul, MatMulInteger): memory descriptors of any
 * element type (dnnl_util.h's helpers describe float32), plain copies of
 * blocked int8 inputs for the plain-C kernels, and one int8 primitive with
 * its source reorder, destination layout and weights packed once. Blocked
 * int8 values flow only between operators of this family (other families'
 * blocked-layout code assumes float32). Private to operators/quant/.
 */
#ifndef ORTC_QDNNL_H
#define ORTC_QDNNL_H

#include "dnnl_util.h"

/* Whether oneDNN's int8 kernels are exact on this CPU: they need VNNI
 * (avx512_core_vnni, avx2_vnni or later, as oneDNN's effective ISA, which
 * ONEDNN_MAX_CPU_ISA can lower). Without it oneDNN 2.6 sums pairs of u8*s8
 * products in int16 with saturation (vpmaddubsw), a silent wrong answer for
 * large products, so the operators use their plain-C kernels instead. */
bool ortc_q_dnnl_exact(void);

/* oneDNN's element type for d (u8, s8, s32, f32); dnnl_data_type_undef for
 * the others. */
dnnl_data_type_t ortc_q_dnnl_type(ortc_dtype d);

/* A descriptor of (rank, dims) with element type d: dense row-major when
 * tag is dnnl_format_tag_undef, else by tag (dnnl_format_tag_any: the
 * primitive chooses). */
ortc_status ortc_q_md(ortc_opctx *c, dnnl_memory_desc_t *md, int rank, const int64_t *dims,
                      ortc_dtype d, dnnl_format_tag_t tag);
/* Input i as it arrives: the producer's descriptor when blocked, else dense
 * row-major with the input's own element type. */
ortc_status ortc_q_md_input(ortc_opctx *c, int i, dnnl_memory_desc_t *md);
/* Whether output k may be left blocked: every consumer accepts a blocked
 * layout and is an operator of this family. */
bool ortc_q_out_blocked_ok(const ortc_opctx *c, int k);

/* ---- plain copies of blocked inputs (for the plain-C kernels) ------------ */

#define ORTC_Q_MAX_UNBLOCK 2
#define ORTC_Q_MAX_IO 10

typedef struct ortc_q_unblock {
    int n;
    int input[ORTC_Q_MAX_UNBLOCK];
    size_t off[ORTC_Q_MAX_UNBLOCK];
    ortc_dnnl_reorder r[ORTC_Q_MAX_UNBLOCK];
} ortc_q_unblock;

/* Plans a reorder into plain scratch (after *used) for each blocked input. */
ortc_status ortc_q_unblock_init(ortc_opctx *c, ortc_q_unblock *u, size_t *used);
/* Runs them; *v becomes a copy of c whose blocked inputs point at the
 * copies (ins/ptrs: storage for c->n_in <= ORTC_Q_MAX_IO entries). */
ortc_status ortc_q_unblock_run(ortc_opctx *c, ortc_q_unblock *u, ortc_opctx *v, ortc_tensor *ins,
                               ortc_tensor **ptrs);
void ortc_q_unblock_free(ortc_q_unblock *u);

/* ---- one int8 primitive ---------------------------------------------------- */

typedef struct ortc_qprim {
    ortc_dnnl_step step;
    ortc_dnnl_mem src, dst, bias;
    ortc_dnnl_weights w;
    void *wbuf;       /* owned: the weights as bound when not packed */
    float *bias_data; /* owned: bias in accumulator units (NULL: none) */
    int input;        /* c->in slot of the source */
    bool reorder_in;  /* source reordered into scratch at in_off */
    size_t in_off;
    ortc_dnnl_reorder in_r;
    bool via_scratch; /* destination computed at out_off, reordered to plain */
    size_t out_off;
    ortc_dnnl_reorder out_r;
    dnnl_memory_desc_t dst_md; /* a blocked output's layout desc points here */
} ortc_qprim;

/* Binds q to primitive pd (which stays the caller's): source from input
 * `input`, which arrives as x_md (NULL: ortc_q_md_input; a matmul passes
 * the 2-D view of a plain input) and is reordered when the primitive
 * wants another layout, destination
 * output 0 (kept blocked only where ortc_q_out_blocked_ok), weights
 * `w_data` described by w_user (packed when the primitive wants another
 * layout; q takes ownership of w_data, a malloc'd buffer), q->bias_data
 * (when set) as the bias. Scratch is reserved after *used. */
ortc_status ortc_qprim_bind(ortc_opctx *c, ortc_qprim *q, const_dnnl_primitive_desc_t pd, int input,
                            const dnnl_memory_desc_t *x_md, const dnnl_memory_desc_t *w_user,
                            void *w_data, size_t *used);
/* Reorders, executes, reorders back. */
ortc_status ortc_qprim_run(ortc_opctx *c, ortc_qprim *q);
/* Frees what q owns (a zeroed q is a no-op). */
void ortc_qprim_free(ortc_qprim *q);

#endif /* ORTC_QDNNL_H */
