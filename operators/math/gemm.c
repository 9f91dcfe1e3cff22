/* gemm.c — Gemm (opsets 1, 6, 7, 9, 11, 13) and MatMul (1, 9, 13), float32
 * on oneDNN with the plain-C reference kernels, and the fused post-ops of
 * operator.h (post_ops.h; "sum" reads input 3). Gemm: transA, transB,
 * alpha, beta, C broadcast one way to (M, N). MatMul: numpy rules (1-D
 * operands, batch broadcasting on both sides, rank up to 8).
 * A constant 2-D B is a fully connected layer (fc_build). With one row
 * (batch 1) it is a bandwidth-bound matrix-vector product over weights
 * stored (N, K) (PyTorch's nn.Linear, Gemm transB=1): fc_gemv reads the
 * model's own bytes once, split by rows over the threads, in plain C that
 * the compiler vectorises (measured 55-58 GB/s on 2 cores where oneDNN
 * 2.6's gemv inner product reached 38-53 and its packed layouts no more);
 * the weights are neither copied nor reordered. Weights stored (K, N)
 * (MatMul's B, or Gemm's after runtime/passes/pass_fc.c transposed them because
 * a ReLU feeds the layer) run fc_axpy at batch 1: the sum of the weight
 * rows scaled by the input, skipping the rows whose input is exactly zero
 * (when every weight is finite, so 0 * w is 0): after a ReLU about half
 * of them, and that half of the weights is never read. Otherwise oneDNN's matmul,
 * on the model's bytes through strides or on weights packed once in
 * prepare. A constant C that is one row becomes the bias (no per-run copy),
 * as does MatMul's fused post-op "bias" (input 2, runtime/passes/pass_fuse.c).
 * Other cases run oneDNN's matmul with C copied into the output and added
 * by a sum post-op. In bf16 mode (dnnl_util.h) every product is oneDNN's
 * matmul on bf16 operands: a constant B packed once, A (and a B fed at run)
 * converted into scratch at every run; bias and output fp32.
 * A fused GELU that ends the post-op list is not oneDNN's post-op but
 * eltwise_fast.c's pass over the output after the matmul: oneDNN 2.6's
 * gelu_erf costs about 30 cycles per 16 floats inside the kernel, which
 * made ConvNeXt's C -> 4C layers (K = 96..768) 15-60% slower than without
 * it; the separate pass costs less than half of that (see mm_gelu_last).
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_prim.h"
#include "dot4.h"
#include "eltwise_fast.h"
#include "gemm_ref.h"
#include "op_util.h"
#include "post_ops.h"
#include "plain_util.h"
#include "error.h"

/* Fully connected layers with at most this many rows (batch) and (N, K)
 * weights run fc_gemv; more rows use oneDNN's matmul, whose brgemm kernels
 * win once each weight row is reused several times (AlexNet's fc6-8, 2
 * cores). */
#define FC_GEMV_MAX_ROWS 1
/* Gemm's matmul for many rows: 1 = reorder constant weights into oneDNN's
 * packed layout (a second copy of the weights per compiled plan), 0 = read
 * the model's bytes in place, (N, K) through strides or (K, N) as they are.
 * Measured at batch 32 on the seed AlexNet (2 cores): packing the (K, N)
 * weights of fc7-8 (transposed by pass_fc.c) made them 6.2 + 1.6 ms
 * instead of 10-11.6 + 2.2-2.6 (about 3% of the batch) for 66 MB more
 * peak RSS; ortc stays lean there. */
#define FC_PACK_WEIGHTS 0
/* MatMul's constant (K, N) weights with many rows (transformers' linear
 * layers, rank-3 activations folded into rows) are packed from this N up,
 * or when they hold MATMUL_PACK_MIN_KN floats or more. Read in place,
 * oneDNN 2.6's brgemm walks B with a row stride of N floats: at N = 3072
 * (ViT's and ConvNeXt's MLP up-projection, 12 KiB rows, a multiple of
 * 4 KiB: every row in the same L1 sets) one (197, 768) x (768, 3072)
 * product took 18-44 ms where the packed weights took 3.3-14 ms (min of
 * 20-40 runs, 1 and 2 threads, a machine at load 6-19); and a tall B (the
 * down-projection, (3072, 768): 3072 rows 3 KiB apart, a panel over more
 * pages than the TLB holds) took 8.0 ms at (197, 3072) x (3072, 768) where
 * packed took 3.2-3.4 (min of 200 runs, 2 threads, 3 processes each; CPU
 * time per run on 1 thread 8.9-9.3 against 7.3-7.7 ms), at 49 rows
 * (ConvNeXt's last stage) 1.0 against 0.8 ms. Smaller weights gained
 * nothing: (768, 768), (384, 1536), (384, 96) and (96, 384) read in place
 * ran as fast as packed. The packed copy does not add to the peak: the
 * plain constant is released once packed (ortc_opctx.packed_inputs; ViT-B
 * with every MatMul packed: peak RSS 360.3 MiB against 360.1). */
#define MATMUL_PACK_MIN_N 2048
#define MATMUL_PACK_MIN_KN ((int64_t)1 << 20)

typedef struct mm_state {
    /* oneDNN's matmul; use_ref: an empty operand, or a case oneDNN cannot
     * fuse (plain C) */
    ortc_dnnl_prim prim;
    bool copy_c;            /* Gemm: Y = C broadcast first, then Y = alpha AB + beta Y */
    const float *bias_data; /* the bias: C itself, or bias_owned */
    float *bias_owned;      /* beta * C broadcast to N, made in prepare */
    /* fc_gemv: y (M, N) = alpha * a W^T + bias, then the post-ops */
    bool gemv;
    /* fc_axpy: y (1, N) = alpha * a W + bias, W (K, N); nz_off: scratch for
     * the indices of a's non-zero entries; skip_zeros: W is all finite */
    bool axpy, skip_zeros;
    size_t nz_off;
    int64_t m, n, k;
    float alpha;
    /* bf16 mode (dnnl_util.h): A, and B when it is not constant, converted
     * into scratch at every run (conv16[0]: A, [1]: B; at[i] their offsets);
     * a constant B is packed in bf16 once. no_bf16: oneDNN has no bf16
     * kernel for this product (but its reference one): fp32. */
    bool no_bf16;
    bool gelu_after; /* the last post-op (GELU) runs as ortc_fast_gelu_f32 */
    ortc_dnnl_reorder conv16[2];
    bool has16[2];
    size_t at16[2];
} mm_state;

/* Operands of one oneDNN matmul. Strides NULL: dense. */
typedef struct mm_desc {
    int rank;
    const int64_t *adims, *astr, *bdims, *bstr, *ydims;
    const void *bconst; /* B's contents when constant */
    bool pack_b;        /* constant B reordered into oneDNN's preferred layout */
    float alpha;        /* output scale (matmul only) */
    float first_sum;    /* 0, or beta: a sum post-op before the fused ones */
    const float *bias;  /* NULL: none; else (N) added before post-ops */
} mm_desc;

/* bf16 mode: operands (0: A, 1: B; from[i] NULL: not converted) whose
 * data lies as from[i] (f32) are read as the dense bf16 copies to[i] in
 * scratch: the buffers, then the conversions (their scratchpads after the
 * buffers), and args[i] reads scratch. */
static ortc_status mm_bf16_operands(ortc_opctx *c, mm_state *s, const dnnl_memory_desc_t *from[2],
                                    const dnnl_memory_desc_t *to[2], ortc_dnnl_arg *args[2])
{
    for (int i = 0; i < 2; i++)
        if (from[i])
            s->at16[i] = ortc_dnnl_prim_scratch(c, &s->prim, dnnl_memory_desc_get_size(to[i]));
    for (int i = 0; i < 2; i++) {
        if (!from[i])
            continue;
        ORTC_TRY(ortc_dnnl_reorder_init(c, &s->conv16[i], from[i], to[i], s->prim.used));
        s->has16[i] = true;
        *args[i] = ORTC_DNNL_SCRATCH(args[i]->arg, s->at16[i]);
    }
    return ORTC_STATUS_OK;
}

/* Runs the bf16 conversions of the operands (bf16 mode). */
static ortc_status mm_bf16_run(ortc_opctx *c, mm_state *s)
{
    for (int i = 0; i < 2; i++) {
        ortc_status st;
        if (s->has16[i] && (st = ortc_dnnl_reorder_run(c, &s->conv16[i], c->in[i]->data,
                                                       ortc_dnnl_scratch_at(c, s->at16[i]))))
            return st;
    }
    return ORTC_STATUS_OK;
}

static void mm_bf16_free(mm_state *s)
{
    for (int i = 0; i < 2; i++)
        ortc_dnnl_reorder_free(&s->conv16[i]);
}

/* Whether the node's post-op list ends with a GELU that this file applies
 * after oneDNN's matmul (ortc_fast_gelu_f32) rather than as oneDNN's
 * gelu_erf post-op. Measured on one core, (M, K) x (K, N) plus bias, min
 * of 60 runs: (3136, 96) x (96, 384) 1.41 ms bare, 2.12-2.38 with oneDNN's
 * GELU; (784, 192) x (192, 768) 1.40 / 1.72-1.75; (196, 384) x (384, 1536)
 * 1.40 / 1.57-1.78; a separate vectorised pass over the output of the
 * same order of work cost 0.27, 0.10 and 0.07 ms there. Below
 * MM_GELU_AFTER_MIN outputs the second pass's fixed cost wins: the small
 * transformer's (32, 128) x (128, 512) took 24-25 us instead of 22.5 (min
 * of 300 runs, 2 threads). */
#define MM_GELU_AFTER_MIN 65536

static bool mm_gelu_last(const ortc_opctx *c, int64_t outputs)
{
    const ortc_node *n = c->node;
    return outputs >= MM_GELU_AFTER_MIN && n->n_post_ops > 0 &&
           n->post_ops[n->n_post_ops - 1].kind == ORTC_POST_OP_GELU_ERF;
}

/* The matmul's attribute: the node's post-ops as oneDNN's, less a final
 * GELU (s->gelu_after: applied by mm_run_prim). */
static ortc_status mm_attr(ortc_opctx *c, mm_state *s, dnnl_primitive_attr_t *attr, float first_sum,
                           int64_t outputs)
{
    s->gelu_after = mm_gelu_last(c, outputs);
    if (!s->gelu_after)
        return ortc_dnnl_prim_attr(c, &s->prim, attr, first_sum);
    ORTC_TRY(ortc_dnnl_attr_new(c, attr));
    ortc_status st = ortc_post_ops_to_attr_first(c, *attr, first_sum, c->node->n_post_ops - 1);
    if (st) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
        return st;
    }
    s->prim.fused_sum = ortc_post_ops_has_sum(c->node);
    return ORTC_STATUS_OK;
}

/* Runs the oneDNN matmul, then the GELU it left out. */
static ortc_status mm_run_prim(ortc_opctx *c, mm_state *s)
{
    ORTC_TRY(ortc_dnnl_prim_run(c, &s->prim));
    if (s->gelu_after) {
        float *y = c->out[0]->data;
        ortc_fast_gelu_f32(y, y, ortc_tensor_numel(c->out[0]),
                           c->backend ? c->backend->threads : 1);
    }
    return ORTC_STATUS_OK;
}

/* Builds s->prim (a oneDNN matmul) from d plus the node's fused post-ops;
 * in bf16 mode with bf16 A and B where oneDNN has a bf16 kernel. */
static ortc_status mm_build(ortc_opctx *c, mm_state *s, const mm_desc *d)
{
    const int r = d->rank;
    const bool bf16 = ortc_dnnl_bf16_wanted(c) && !s->no_bf16;
    dnnl_memory_desc_t amd, bmd, bwant, ymd, biasmd;
    ortc_status st;
    int64_t n = d->ydims[r - 1];
    if ((st = d->astr ? ortc_dnnl_md_strided(c, &amd, r, d->adims, d->astr)
                      : ortc_dnnl_md_plain(c, &amd, r, d->adims)) ||
        (st = ortc_dnnl_md_plain(c, &ymd, r, d->ydims)))
        return st;
    int64_t bias_dims[ORTC_MAX_RANK + 2];
    for (int i = 0; i < r; i++)
        bias_dims[i] = 1;
    bias_dims[r - 1] = n; /* (1, ..., N): broadcast over rows */
    if ((st = d->bstr ? ortc_dnnl_md_strided(c, &bmd, r, d->bdims, d->bstr)
                      : ortc_dnnl_md_plain(c, &bmd, r, d->bdims)) ||
        (st = ortc_dnnl_md_plain(c, &biasmd, r, bias_dims)))
        return st;
    bwant = bmd;
    /* bf16: a constant B always packed (converted once), in bf16 */
    if (d->bconst && (d->pack_b || bf16) && (st = ortc_dnnl_md_any(c, &bwant, r, d->bdims)))
        return st;
    ortc_dnnl_arg args[] = {
        ORTC_DNNL_IN(DNNL_ARG_SRC, 0),
        ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
        ORTC_DNNL_WEIGHTS(DNNL_ARG_WEIGHTS, 1, &bmd),
        ORTC_DNNL_DATA(DNNL_ARG_BIAS, d->bias),
    };
    /* bf16: A and a B fed at run as dense bf16 copies; a constant B as
     * bwant in bf16 */
    dnnl_memory_desc_t a16 = amd, b16 = bwant;
    if (bf16 && ((st = ortc_dnnl_md_plain(c, &a16, r, d->adims)) ||
                 (!d->bconst && (st = ortc_dnnl_md_plain(c, &b16, r, d->bdims)))))
        return st;
    if (bf16) {
        ortc_dnnl_md_bf16(&a16);
        ortc_dnnl_md_bf16(&b16);
    }
    dnnl_matmul_desc_t desc;
    DNNL_CHECK(c, dnnl_matmul_desc_init(&desc, &a16, &b16, d->bias ? &biasmd : NULL, &ymd));
    dnnl_primitive_attr_t attr;
    int64_t outputs = 1;
    for (int i = 0; i < r; i++)
        outputs *= d->ydims[i];
    if ((st = mm_attr(c, s, &attr, d->first_sum, outputs)))
        return st;
    if (d->alpha != 1.0f)
        st = ortc_dnnl_attr_scale(c, attr, d->alpha);
    s->bias_data = d->bias;
    dnnl_primitive_desc_t pd = NULL;
    bool unimpl = false;
    if (!st)
        st = ortc_dnnl_pd_create(c, &pd, &desc, attr, &unimpl);
    dnnl_primitive_attr_destroy(attr);
    if (!st && bf16 && ortc_dnnl_pd_only_ref(&pd, unimpl)) {
        s->no_bf16 = true; /* no bf16 kernel but oneDNN's reference one */
        return mm_build(c, s, d);
    }
    if (st || unimpl)
        return st ? st : ortc_dnnl_prim_use_ref(c, &s->prim);
    /* the operands as the kernel reads them: dense bf16 copies in scratch
     * (a constant B is the packed weights instead) */
    if (bf16) {
        const dnnl_memory_desc_t *from[2] = {&amd, d->bconst ? NULL : &bmd}, *to[2] = {&a16, &b16};
        ortc_dnnl_arg *conv[2] = {&args[0], &args[2]};
        st = mm_bf16_operands(c, s, from, to, conv);
    }
    if (!st)
        st = ortc_dnnl_prim_bind(c, &s->prim, pd, args, d->bias ? 4 : 3);
    dnnl_primitive_desc_destroy(pd);
    c->bf16 = bf16 && !st;
    return st;
}

/* The plain-C row kernels below are cloned per instruction set. The clones
 * dispatch through an ifunc whose resolver runs while the library is
 * relocated, before ThreadSanitizer's runtime is up; TSan builds (testing
 * concurrency, not speed) use the default version only. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define FC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FC_CLONES
#endif

/* ---- fc_gemv: few rows against (N, K) weights, plain C -------------------- */

// w: (N, K)  a: (M, K)  bias: (N) or NULL  y: (M, N); output columns
// [o0, o1): y[r][o] = alpha * dot(a[r], w[o]) + bias[o]. Four weight rows
// at a time, so each element of a is loaded once per four rows.
FC_CLONES static void gemv_rows(float *y, const float *a, const float *w, const float *bias,
                                float alpha, int64_t m, int64_t n, int64_t k, int64_t o0,
                                int64_t o1)
{
    for (int64_t r = 0; r < m; r++) {
        const float *x = a + r * k;
        float *yr = y + r * n;
        int64_t o = o0;
        for (; o + 4 <= o1; o += 4) {
            const float *w0 = w + o * k;
            float s[4];
            ortc_dot4_f32(w0, w0 + k, w0 + 2 * k, w0 + 3 * k, x, k, s);
            for (int j = 0; j < 4; j++)
                yr[o + j] = alpha * s[j] + (bias ? bias[o + j] : 0.0f);
        }
        for (; o < o1; o++) {
            const float *w0 = w + o * k;
            float s0 = 0.0f;
#pragma omp simd reduction(+ : s0)
            for (int64_t i = 0; i < k; i++)
                s0 += w0[i] * x[i];
            yr[o] = alpha * s0 + (bias ? bias[o] : 0.0f);
        }
    }
}

static ortc_status fc_gemv_run(ortc_opctx *c, mm_state *s)
{
    float *y = c->out[0]->data;
    const float *a = c->in[0]->data, *w = c->in[1]->data, *bias = s->bias_data;
    const float alpha = s->alpha;
    const int64_t m = s->m, n = s->n, k = s->k;
    int threads = c->backend ? c->backend->threads : 1;
    /* each thread streams its own contiguous block of weight rows */
#pragma omp parallel num_threads(threads)
    {
        int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t per = ((n + nt - 1) / nt + 3) & ~(int64_t)3;
        int64_t o0 = t * per, o1 = o0 + per < n ? o0 + per : n;
        if (o0 < o1)
            gemv_rows(y, a, w, bias, alpha, m, n, k, o0, o1);
    }
    ortc_post_ops_apply(c, y, m * n);
    return ORTC_STATUS_OK;
}

/* ---- fc_axpy: one row against (K, N) weights, plain C ------------------- */

/* y[j0, j1) = sum over t of a[nz[t]] * w[nz[t]][j0, j1), four rows of w at
 * a time (each thread's slice of y stays in L1). */
FC_CLONES static void axpy_rows(float *y, const float *a, const float *w, const int32_t *nz,
                                int64_t nnz, int64_t n, int64_t j0, int64_t j1)
{
    float *yy = y + j0;
    const int64_t len = j1 - j0;
    for (int64_t j = 0; j < len; j++)
        yy[j] = 0.0f;
    int64_t t = 0;
    for (; t + 4 <= nnz; t += 4) {
        const float *w0 = w + nz[t] * n + j0, *w1 = w + nz[t + 1] * n + j0,
                    *w2 = w + nz[t + 2] * n + j0, *w3 = w + nz[t + 3] * n + j0;
        const float a0 = a[nz[t]], a1 = a[nz[t + 1]], a2 = a[nz[t + 2]], a3 = a[nz[t + 3]];
#pragma omp simd
        for (int64_t j = 0; j < len; j++)
            yy[j] += a0 * w0[j] + a1 * w1[j] + a2 * w2[j] + a3 * w3[j];
    }
    for (; t < nnz; t++) {
        const float *w0 = w + nz[t] * n + j0;
        const float a0 = a[nz[t]];
#pragma omp simd
        for (int64_t j = 0; j < len; j++)
            yy[j] += a0 * w0[j];
    }
}

static ortc_status fc_axpy_run(ortc_opctx *c, mm_state *s)
{
    float *y = c->out[0]->data;
    const float *a = c->in[0]->data, *w = c->in[1]->data, *bias = s->bias_data;
    const int64_t n = s->n, k = s->k;
    int32_t *nz = ortc_dnnl_scratch_at(c, s->nz_off);
    int64_t nnz = 0;
    for (int64_t i = 0; i < k; i++)
        if (!s->skip_zeros || a[i] != 0.0f)
            nz[nnz++] = (int32_t)i;
    const float alpha = s->alpha;
    int threads = c->backend ? c->backend->threads : 1;
    /* each thread owns a slice of y (a multiple of 16 floats) */
#pragma omp parallel num_threads(threads)
    {
        int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t per = ((n + nt - 1) / nt + 15) & ~(int64_t)15;
        int64_t j0 = t * per, j1 = j0 + per < n ? j0 + per : n;
        if (j0 < j1) {
            axpy_rows(y, a, w, nz, nnz, n, j0, j1);
            for (int64_t j = j0; j < j1; j++)
                y[j] = alpha * y[j] + (bias ? bias[j] : 0.0f);
        }
    }
    ortc_post_ops_apply(c, y, n);
    return ORTC_STATUS_OK;
}

/* Every element is a finite number. */
static bool all_finite(const float *w, int64_t count)
{
    /* x - x is 0 for finite x and NaN for Inf/NaN: one sum tells */
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < count; i++)
        acc += w[i] - w[i];
    return acc == 0.0f;
}

/* A fully connected layer: y (M, N) = alpha a (M, K) W + bias, W constant.
 * W is given as B (K, N), stored (N, K) when b_is_nk (Gemm's transB=1,
 * PyTorch's nn.Linear). bias: NULL or (N), constant. Few rows over (N, K)
 * weights: fc_gemv; else a oneDNN matmul, on weights packed once when
 * `pack`. */
static ortc_status fc_build(ortc_opctx *c, mm_state *s, int64_t m, int64_t k, int64_t n,
                            bool b_is_nk, const float *bias, float alpha, bool pack)
{
    /* bf16 mode: oneDNN's bf16 matmul over weights packed in bf16 */
    bool bf16 = ortc_dnnl_bf16_wanted(c);
    s->gemv = !bf16 && b_is_nk && m <= FC_GEMV_MAX_ROWS;
    s->axpy = !bf16 && !b_is_nk && m == 1 && k <= INT32_MAX;
    if (s->gemv || s->axpy) { /* plain C over the model's bytes */
        c->impl = s->gemv ? "ortc:fc_gemv" : "ortc:fc_axpy";
        s->m = m;
        s->n = n;
        s->k = k;
        s->alpha = alpha;
        s->bias_data = bias;
    }
    if (s->axpy) {
        s->skip_zeros = all_finite(c->in[1]->data, k * n);
        s->nz_off = ortc_dnnl_prim_scratch(c, &s->prim, (size_t)k * sizeof(int32_t));
    }
    if (s->gemv || s->axpy)
        return ORTC_STATUS_OK;
    int64_t adims[2] = {m, k}, bdims[2] = {k, n}, ydims[2] = {m, n};
    int64_t bstr[2] = {1, k};
    mm_desc d = {
        .rank = 2,
        .adims = adims,
        .bdims = bdims,
        .bstr = b_is_nk ? bstr : NULL,
        .ydims = ydims,
        .bconst = c->in[1]->data,
        .pack_b = pack,
        .alpha = alpha,
        .bias = bias,
    };
    return mm_build(c, s, &d);
}

static void mm_release(ortc_opctx *c)
{
    mm_state *s = c->state;
    if (!s)
        return;
    ortc_dnnl_prim_free(&s->prim);
    mm_bf16_free(s);
    free(s->bias_owned);
    free(s);
    c->state = NULL;
}

/* ---- Gemm ------------------------------------------------------------------ */

typedef struct gemm_params {
    int64_t m, n, k;
    bool trans_a, trans_b;
    float alpha, beta;
    const ortc_tensor *cm; /* NULL when absent */
    int64_t c_stride[2];   /* element strides of C over (M, N); 0 broadcasts */
} gemm_params;

static ortc_status gemm_check(ortc_opctx *c, gemm_params *p)
{
    int version = ortc_op_version(c);
    ORTC_TRY(ortc_post_ops_check_inputs(c, version >= 11 ? 2 : 3, 3));
    ORTC_TRY(ortc_op_check_attr(c, "transA", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "transB", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "alpha", ORTC_ATTR_FLOAT));
    ORTC_TRY(ortc_op_check_attr(c, "beta", ORTC_ATTR_FLOAT));
    const ortc_tensor *a = c->in[0], *b = c->in[1];
    char sa[128], sb[128], sc[128];
    ortc_shape_str(sa, sizeof sa, a->rank, a->dims);
    ortc_shape_str(sb, sizeof sb, b->rank, b->dims);
    for (int i = 0; i < 2; i++)
        if (c->in[i]->rank != 2)
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input '%s' has shape %s (rank %d); Gemm needs rank 2",
                                 ortc_plain_input_name(c, i), i ? sb : sa, c->in[i]->rank);
    p->trans_a = ortc_node_attr_int(c->node, "transA", 0) != 0;
    p->trans_b = ortc_node_attr_int(c->node, "transB", 0) != 0;
    p->alpha = ortc_node_attr_float(c->node, "alpha", 1.0f);
    p->beta = ortc_node_attr_float(c->node, "beta", 1.0f);
    p->m = a->dims[p->trans_a ? 1 : 0];
    p->k = a->dims[p->trans_a ? 0 : 1];
    int64_t kb = b->dims[p->trans_b ? 1 : 0];
    p->n = b->dims[p->trans_b ? 0 : 1];
    if (kb != p->k)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "inner dims differ: A '%s' %s%s gives K=%lld, B '%s' %s%s gives "
                             "K=%lld",
                             ortc_plain_input_name(c, 0), sa, p->trans_a ? " (transA)" : "",
                             (long long)p->k, ortc_plain_input_name(c, 1), sb,
                             p->trans_b ? " (transB)" : "", (long long)kb);
    p->cm = c->n_in > 2 ? c->in[2] : NULL;
    p->c_stride[0] = p->c_stride[1] = 0;
    if (p->cm) {
        const ortc_tensor *cm = p->cm;
        int64_t d0 = cm->rank == 2 ? cm->dims[0] : 1;
        int64_t d1 = cm->rank >= 1 ? cm->dims[cm->rank - 1] : 1;
        if (cm->rank > 2 || (d0 != 1 && d0 != p->m) || (d1 != 1 && d1 != p->n))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "input C '%s' has shape %s; it must broadcast to (M, N) = "
                                 "[%lld,%lld]",
                                 ortc_plain_input_name(c, 2),
                                 ortc_shape_str(sc, sizeof sc, cm->rank, cm->dims), (long long)p->m,
                                 (long long)p->n);
        p->c_stride[0] = d0 == 1 ? 0 : d1;
        p->c_stride[1] = d1 == 1 ? 0 : 1;
    }
    int64_t ydims[2] = {p->m, p->n};
    return ortc_post_ops_check(c, 2, ydims);
}

static ortc_status gemm_infer(ortc_opctx *c)
{
    gemm_params p;
    ORTC_TRY(gemm_check(c, &p));
    int64_t dims[2] = {p.m, p.n};
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, 2, dims);
    return ORTC_STATUS_OK;
}

static ortc_status gemm_reference(ortc_opctx *c)
{
    gemm_params p;
    ORTC_TRY(gemm_check(c, &p));
    float *y = c->out[0]->data;
    ortc_ref_gemm_forward(y, c->in[0]->data, c->in[1]->data, p.cm ? p.cm->data : NULL, p.c_stride,
                          p.m, p.n, p.k, p.trans_a, p.trans_b, p.alpha, p.beta);
    ortc_post_ops_apply(c, y, p.m * p.n);
    return ORTC_STATUS_OK;
}

/* Gemm as a fully connected layer: B constant, A not transposed, and C
 * (if it counts) constant, one row, with alpha 1 (oneDNN scales the bias
 * with alpha). The bias is C itself when beta is 1 and C has N elements,
 * else beta * C broadcast to N, computed once here. */
static ortc_status gemm_build_fc(ortc_opctx *c, mm_state *s, const gemm_params *p)
{
    const float *bias = NULL;
    if (p->cm && p->beta != 0.0f) {
        const float *cv = p->cm->data;
        if (p->beta == 1.0f && p->c_stride[1] == 1) {
            bias = cv;
        } else {
            s->bias_owned = malloc((size_t)p->n * sizeof *s->bias_owned);
            if (!s->bias_owned)
                return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY,
                                     "out of memory for a bias of %lld floats", (long long)p->n);
            for (int64_t j = 0; j < p->n; j++)
                s->bias_owned[j] = p->beta * cv[j * p->c_stride[1]];
            bias = s->bias_owned;
        }
    }
    return fc_build(c, s, p->m, p->k, p->n, p->trans_b, bias, p->alpha, FC_PACK_WEIGHTS);
}

static ortc_status gemm_build(ortc_opctx *c, void *state)
{
    mm_state *s = state;
    gemm_params p;
    ORTC_TRY(gemm_check(c, &p));
    if (p.m == 0 || p.n == 0 || p.k == 0 || (p.cm && ortc_tensor_numel(p.cm) == 0))
        return ortc_dnnl_prim_use_ref(c, &s->prim); /* nothing for oneDNN to multiply */
    bool c_counts = p.cm && p.beta != 0.0f;
    bool c_is_bias = c_counts && p.cm->data && p.c_stride[0] == 0 && p.alpha == 1.0f;
    if (c->in[1]->data && !p.trans_a && (!c_counts || c_is_bias))
        return gemm_build_fc(c, s, &p);

    int64_t adims[2] = {p.m, p.k}, bdims[2] = {p.k, p.n}, ydims[2] = {p.m, p.n};
    int64_t astr[2], bstr[2];
    astr[0] = p.trans_a ? 1 : p.k; /* A stored (K, M) when transposed */
    astr[1] = p.trans_a ? p.m : 1;
    bstr[0] = p.trans_b ? 1 : p.n; /* B stored (N, K) when transposed */
    bstr[1] = p.trans_b ? p.k : 1;
    s->copy_c = c_counts;
    if (s->copy_c && ortc_post_ops_has_sum(c->node)) /* two sum post-ops: plain C */
        return ortc_dnnl_prim_use_ref(c, &s->prim);
    mm_desc d = {
        .rank = 2,
        .adims = adims,
        .astr = astr,
        .bdims = bdims,
        .bstr = bstr,
        .ydims = ydims,
        .bconst = c->in[1]->data,
        .pack_b = true,
        .alpha = p.alpha,
        .first_sum = s->copy_c ? p.beta : 0.0f,
    };
    return mm_build(c, s, &d);
}

static ortc_status gemm_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(mm_state), gemm_build, mm_release);
}

/* The runs Gemm and MatMul share that are not their oneDNN matmul: the
 * reference (no plan, or a plan that chose it) and the gemv/axpy paths.
 * True, with *st, when one of them ran. */
static bool mm_run_other(ortc_opctx *c, mm_state *s, ortc_status (*reference)(ortc_opctx *),
                         ortc_status *st)
{
    if (!s || s->prim.use_ref)
        *st = reference(c);
    else if (s->gemv)
        *st = fc_gemv_run(c, s);
    else if (s->axpy)
        *st = fc_axpy_run(c, s);
    else
        return false;
    return true;
}

static ortc_status gemm_run(ortc_opctx *c)
{
    mm_state *s = c->state;
    ortc_status st;
    if (mm_run_other(c, s, gemm_reference, &st))
        return st;
    if (s->copy_c) {
        /* y: (M, N) = C broadcast; the matmul's sum post-op adds beta * y */
        const ortc_tensor *cm = c->in[2];
        const float *cv = cm->data;
        float *y = c->out[0]->data;
        int64_t m = c->out[0]->dims[0], n = c->out[0]->dims[1];
        int64_t d0 = cm->rank == 2 ? cm->dims[0] : 1;
        int64_t d1 = cm->rank >= 1 ? cm->dims[cm->rank - 1] : 1;
        int64_t s0 = d0 == 1 ? 0 : d1, s1 = d1 == 1 ? 0 : 1;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                y[i * n + j] = cv[i * s0 + j * s1];
    }
    ORTC_TRY(mm_bf16_run(c, s));
    return mm_run_prim(c, s);
}

/* ---- MatMul ---------------------------------------------------------------- */

static ortc_status matmul_check(ortc_opctx *c, ortc_matmul_shape *p)
{
    ORTC_TRY(ortc_post_ops_check_inputs(c, 2, 2));
    ORTC_TRY(ortc_matmul_shape_init(c, p, 0, 1));
    /* input 2: only a fused bias (post_ops.h checks it) */
    if (c->n_in > 2 && c->in[2] && !ortc_post_ops_has_bias(c->node))
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "MatMul has no input 2; '%s' is set",
                             ortc_plain_input_name(c, 2));
    return ortc_post_ops_check(c, p->out_rank, p->out_dims);
}

static ortc_status matmul_infer(ortc_opctx *c)
{
    ortc_matmul_shape p;
    ORTC_TRY(matmul_check(c, &p));
    ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, p.out_rank, p.out_dims);
    return ORTC_STATUS_OK;
}

static ortc_status matmul_reference(ortc_opctx *c)
{
    ortc_matmul_shape p;
    ORTC_TRY(matmul_check(c, &p));
    ortc_bcast bc;
    ortc_bcast_init(&bc, p.brank, p.batch, p.a_brank, p.a_batch, p.b_brank, p.b_batch);
    float *y = c->out[0]->data;
    ortc_ref_matmul_forward(y, c->in[0]->data, c->in[1]->data, &bc, p.m, p.k, p.n);
    ortc_post_ops_apply(c, y, ortc_tensor_numel(c->out[0]));
    return ORTC_STATUS_OK;
}

static ortc_status matmul_build(ortc_opctx *c, void *state)
{
    mm_state *s = state;
    ortc_matmul_shape p;
    ORTC_TRY(matmul_check(c, &p));
    ortc_status st = ORTC_STATUS_OK;
    int64_t nbatch = 1, b_nbatch = 1;
    for (int i = 0; i < p.brank; i++)
        nbatch *= p.batch[i];
    for (int i = 0; i < p.b_brank; i++)
        b_nbatch *= p.b_batch[i];
    /* a fused bias: oneDNN's bias argument, so constant (fixed in prepare) */
    const float *bias = ortc_post_ops_has_bias(c->node) ? c->in[ORTC_FUSED_BIAS_INPUT]->data : NULL;
    if (p.m == 0 || p.n == 0 || p.k == 0 || nbatch == 0 ||
        (ortc_post_ops_has_bias(c->node) && !bias))
        return ortc_dnnl_prim_use_ref(c, &s->prim); /* nothing to multiply, or a bias fed at run */
    const void *bconst = c->in[1]->data;
    if (b_nbatch == 1 && bconst) { /* a fully connected layer: A's batch folds into rows */
        bool pack = p.n >= MATMUL_PACK_MIN_N || p.k * p.n >= MATMUL_PACK_MIN_KN;
        st = fc_build(c, s, nbatch * p.m, p.k, p.n, false, bias, 1.0f, pack);
        if (s->gemv || s->axpy)
            s->bias_data = NULL; /* plain C: ortc_post_ops_apply adds the bias */
        return st;
    }
    if (b_nbatch == 1) {
        /* B is one matrix: A's batch folds into its rows, (batch*M, K) */
        int64_t adims[2] = {nbatch * p.m, p.k}, bdims[2] = {p.k, p.n};
        int64_t ydims[2] = {nbatch * p.m, p.n};
        mm_desc d = {
            .rank = 2, .adims = adims, .bdims = bdims, .ydims = ydims, .alpha = 1.0f, .bias = bias};
        return mm_build(c, s, &d);
    }
    /* Full rank with batch broadcasting on either side (oneDNN's matmul
     * broadcasts unit batch dims of both operands, up to 12 dims). */
    int r = p.brank + 2;
    int64_t adims[ORTC_MAX_RANK + 2], bdims[ORTC_MAX_RANK + 2], ydims[ORTC_MAX_RANK + 2];
    for (int i = 0; i < p.brank; i++) {
        int ia = i - (p.brank - p.a_brank), ib = i - (p.brank - p.b_brank);
        adims[i] = ia >= 0 ? p.a_batch[ia] : 1;
        bdims[i] = ib >= 0 ? p.b_batch[ib] : 1;
        ydims[i] = p.batch[i];
    }
    adims[r - 2] = p.m;
    adims[r - 1] = p.k;
    bdims[r - 2] = p.k;
    bdims[r - 1] = p.n;
    ydims[r - 2] = p.m;
    ydims[r - 1] = p.n;
    mm_desc d = {.rank = r,
                 .adims = adims,
                 .bdims = bdims,
                 .ydims = ydims,
                 .bconst = bconst,
                 .pack_b = true,
                 .alpha = 1.0f,
                 .bias = bias};
    return mm_build(c, s, &d);
}

static ortc_status matmul_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(mm_state), matmul_build, mm_release);
}

static ortc_status matmul_run(ortc_opctx *c)
{
    mm_state *s = c->state;
    ortc_status st;
    if (mm_run_other(c, s, matmul_reference, &st))
        return st;
    ORTC_TRY(mm_bf16_run(c, s));
    return mm_run_prim(c, s);
}

/* Gemm: every output element sums over K. */
static double gemm_flops(const ortc_opctx *c)
{
    const ortc_tensor *a = c->n_in > 1 && c->in[1] ? c->in[0] : NULL;
    if (!a || a->rank != 2 || c->n_out < 1)
        return 0;
    int64_t k = ortc_node_attr_int(c->node, "transA", 0) ? a->dims[0] : a->dims[1];
    return ortc_op_flops(c->out[0], (double)k);
}

/* MatMul: every output element sums over A's last dim. */
static double matmul_flops(const ortc_opctx *c)
{
    const ortc_tensor *a = c->n_in > 1 && c->in[1] ? c->in[0] : NULL;
    if (!a || a->rank < 1 || c->n_out < 1)
        return 0;
    return ortc_op_flops(c->out[0], (double)a->dims[a->rank - 1]);
}

const ortc_operator ortc_ops_gemm[] = {
    ORTC_OP("Gemm", 1, 13, .versions = {1, 6, 7, 9, 11, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT), .flags = ORTC_OP_POST_OPS | ORTC_OP_MAY_INPLACE,
            .infer = gemm_infer, .prepare = gemm_prepare, .run = gemm_run, .release = mm_release,
            .flops = gemm_flops, .reference = gemm_reference),
    ORTC_OP("MatMul", 1, 13, .versions = {1, 9, 13}, .backend = ORTC_BACKEND_ONEDNN,
            .dtypes = ORTC_DT(FLOAT),
            .flags =
                ORTC_OP_POST_OPS | ORTC_OP_POST_OP_BIAS | ORTC_OP_POST_OP_SUM | ORTC_OP_MAY_INPLACE,
            .infer = matmul_infer, .prepare = matmul_prepare, .run = matmul_run,
            .release = mm_release, .flops = matmul_flops, .reference = matmul_reference),
};
ORTC_OP_TABLE_END(gemm);
