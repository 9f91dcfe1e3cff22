/* qdnnl.h — the oneDNN side of the int8 operators (QLinearConv,
 * ConvInteger, QLinearMatMul, MatMulInteger): input descriptors in the
 * input's own element type (dnnl_util.h: ortc_dnnl_md_typed), which
 * outputs may stay blocked, and one int8 primitive with its source
 * reorder, destination layout and weights packed once (plain copies of
 * blocked inputs: dnnl_util.h's ortc_dnnl_unblock). Blocked int8 values
 * flow only to operators flagged ORTC_OP_BLOCKED_INT8 (other
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

/* Input i as it arrives: the producer's descriptor when blocked, else dense
 * row-major with the input's own element type. */
ortc_status ortc_q_md_input(ortc_opctx *c, int i, dnnl_memory_desc_t *md);
/* Whether output k may be left blocked: every consumer takes blocked
 * int8 layouts (ORTC_OP_BLOCKED_INT8: this family's oneDNN operators,
 * MaxPool). */
bool ortc_q_out_blocked_ok(const ortc_opctx *c, int k);

/* ---- one int8 primitive ---------------------------------------------------- */

typedef struct ortc_qprim {
    ortc_dnnl_step step;
    ortc_dnnl_mem src, dst, bias;
    ortc_dnnl_weights w;
    void *wbuf;       /* the weights as bound when not packed */
    bool wbuf_owned;  /* wbuf is q's (else the weights input's own bytes) */
    float *bias_data; /* owned: bias in accumulator units (NULL: none) */
    ortc_dnnl_io io;  /* the source's reorder, the destination's layout */
} ortc_qprim;

/* Binds q to primitive pd (which stays the caller's): source from input
 * `input`, which arrives as x_md (NULL: ortc_q_md_input; a matmul passes
 * the 2-D view of a plain input) and is reordered when the primitive
 * wants another layout, destination
 * output 0 (kept blocked only where ortc_q_out_blocked_ok), weights
 * `w_data` described by w_user (packed when the primitive wants another
 * layout): either input w_input's own bytes (then packed on the compile's
 * packing thread when it has one, and the input marked free to release
 * once packed: ortc_opctx.packed_inputs) or a malloc'd buffer q takes
 * ownership of; q->bias_data (when set) as the bias. Scratch is reserved
 * after *used. */
ortc_status ortc_qprim_bind(ortc_opctx *c, ortc_qprim *q, const_dnnl_primitive_desc_t pd, int input,
                            const dnnl_memory_desc_t *x_md, int w_input,
                            const dnnl_memory_desc_t *w_user, void *w_data, size_t *used);
/* Reorders, executes, reorders back. */
ortc_status ortc_qprim_run(ortc_opctx *c, ortc_qprim *q);
/* Frees what q owns (a zeroed q is a no-op). */
void ortc_qprim_free(ortc_qprim *q);

#endif /* ORTC_QDNNL_H */
