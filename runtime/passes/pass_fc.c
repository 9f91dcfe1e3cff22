/* pass_fc.c — fully connected layers fed by a ReLU get their weights
 * stored input-major. Gemm(A, B[, C]) with transB = 1, transA = 0 and a
 * constant float B (N, K) that nothing else reads, whose A is a Relu's
 * output or that of a node whose fused post-ops end in relu, becomes the
 * same Gemm with transB = 0 over B^T (K, N). Why: at batch 1 the layer is
 * a matrix-vector product bound by reading the weights, and with B^T an
 * input that is exactly zero (half of them after a ReLU) skips a whole
 * contiguous row of weights (gemm.c's fc_axpy), where (N, K) rows would
 * still be read in full. Square weights are transposed in place; others
 * into a new buffer (the old one freed at once) only up to
 * FC_TRANSPOSE_MAX_COPY bytes, so loading never holds a large second copy.
 * Not in reference mode (its kernels read the model as written).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ir_edit.h"
#include "pass_impl.h"

#define FC_TRANSPOSE_MAX_COPY ((size_t)32 << 20)
#define FC_TILE 16

/* v is produced by a Relu, or by a node whose post-op list ends in relu. */
static bool after_relu(const ortc_value *v)
{
    const ortc_node *p = v ? v->producer : NULL;
    if (!p)
        return false;
    if (ortc_pass_is_op(p, "Relu"))
        return true;
    return p->n_post_ops > 0 && p->post_ops[p->n_post_ops - 1].kind == ORTC_POST_OP_RELU;
}

/* In place, n x n: pairs of FC_TILE x FC_TILE blocks go through small local
 * copies (both blocks' rows stay in L1; the direct swap ran 5x slower),
 * the edge past the last whole block element by element. */
static void transpose_square(float *a, int64_t n, int threads)
{
    const int64_t nb = n / FC_TILE, edge = nb * FC_TILE;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
    for (int64_t bi = 0; bi < nb; bi++)
        for (int64_t bj = bi; bj < nb; bj++) {
            float x[FC_TILE][FC_TILE], y[FC_TILE][FC_TILE];
            for (int i = 0; i < FC_TILE; i++) {
                memcpy(x[i], a + (bi * FC_TILE + i) * n + bj * FC_TILE, sizeof x[i]);
                memcpy(y[i], a + (bj * FC_TILE + i) * n + bi * FC_TILE, sizeof y[i]);
            }
            for (int i = 0; i < FC_TILE; i++) {
                float *r1 = a + (bi * FC_TILE + i) * n + bj * FC_TILE;
                float *r2 = a + (bj * FC_TILE + i) * n + bi * FC_TILE;
                for (int j = 0; j < FC_TILE; j++) {
                    r1[j] = y[j][i];
                    r2[j] = x[j][i];
                }
            }
        }
    for (int64_t i = 0; i < n; i++) /* the edge strip: pairs with a column >= edge */
        for (int64_t j = i + 1 > edge ? i + 1 : edge; j < n; j++) {
            float t = a[i * n + j];
            a[i * n + j] = a[j * n + i];
            a[j * n + i] = t;
        }
}

/* dst (c x r) = src (r x c) transposed, by FC_TILE x FC_TILE blocks. */
static void transpose_copy(float *dst, const float *src, int64_t r, int64_t c, int threads)
{
    const int64_t nbr = (r + FC_TILE - 1) / FC_TILE, nbc = (c + FC_TILE - 1) / FC_TILE;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t bj = 0; bj < nbc; bj++)
        for (int64_t bi = 0; bi < nbr; bi++) {
            int64_t i0 = bi * FC_TILE, j0 = bj * FC_TILE;
            int64_t ni = r - i0 < FC_TILE ? r - i0 : FC_TILE,
                    nj = c - j0 < FC_TILE ? c - j0 : FC_TILE;
            float x[FC_TILE][FC_TILE];
            for (int64_t i = 0; i < ni; i++)
                memcpy(x[i], src + (i0 + i) * c + j0, (size_t)nj * sizeof(float));
            for (int64_t j = 0; j < nj; j++)
                for (int64_t i = 0; i < ni; i++)
                    dst[(j0 + j) * r + i0 + i] = x[i][j];
        }
}

static ortc_status try_transpose(ortc_pass_ctx *pc, ortc_node *n)
{
    if (n->n_inputs < 2 || n->n_inputs > 3 || n->n_outputs != 1 || !n->inputs[0] || !n->inputs[1] ||
        ortc_node_attr_int(n, "transA", 0) != 0 || ortc_node_attr_int(n, "transB", 0) != 1 ||
        !after_relu(n->inputs[0]))
        return ORTC_STATUS_OK;
    ortc_value *wv = n->inputs[1];
    if (wv->kind != ORTC_VALUE_CONSTANT || !wv->constant || !wv->constant->owned ||
        ortc_pass_single_user(wv) != n)
        return ORTC_STATUS_OK;
    const ortc_tensor *w = &wv->constant->t;
    if (w->dtype != ORTC_DTYPE_FLOAT || w->rank != 2 || w->dims[0] < 1 || w->dims[1] < 1)
        return ORTC_STATUS_OK;
    const int64_t rows = w->dims[0], cols = w->dims[1]; /* (N, K) */
    const bool square = rows == cols;
    if (!square && ortc_tensor_bytes(w) > FC_TRANSPOSE_MAX_COPY)
        return ORTC_STATUS_OK;
    int threads = pc->opts.threads > 0 ? pc->opts.threads : 1;
    int64_t tdims[2] = {cols, rows};
    ortc_const_tensor *nt;
    if (square) { /* the same bytes, transposed, move to a new constant */
        nt = calloc(1, sizeof *nt);
        if (!nt)
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY,
                                "out of memory transposing '%s'", wv->name);
        transpose_square(w->data, rows, threads);
        nt->t = *w;
        nt->owned = wv->constant->owned;
        wv->constant->owned = NULL; /* the old constant holds nothing now */
        wv->constant->t.data = NULL;
        wv->constant->t.rank = 1;
        wv->constant->t.dims[0] = 0;
    } else {
        nt = ortc_const_tensor_new(ORTC_DTYPE_FLOAT, 2, tdims);
        if (!nt)
            return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY,
                                "out of memory transposing '%s'", wv->name);
        transpose_copy(nt->t.data, w->data, rows, cols, threads);
    }
    nt->t.dims[0] = cols;
    nt->t.dims[1] = rows;
    char base[600];
    snprintf(base, sizeof base, "%s_t", wv->name);
    ortc_value *tv = ortc_ir_add_constant(pc->g, base, nt);
    if (!tv)
        return ortc_err_set(pc->err, ORTC_STATUS_OUT_OF_MEMORY, "out of memory transposing '%s'",
                            wv->name);
    ortc_attr *tb = (ortc_attr *)ortc_node_attr(n, "transB");
    tb->i = 0;
    n->inputs[1] = tv;
    char label[300];
    ortc_pass_note(pc, "passes: fc: %s reads '%s' (%lld x %lld), the transpose of '%s'",
                   ortc_pass_node_label(label, sizeof label, n), tv->name, (long long)cols,
                   (long long)rows, wv->name);
    ortc_pass_release_constant(pc, wv, n, NULL);
    pc->stats.fc_transposed++;
    return ortc_pass_finalize(pc, "fc");
}

ortc_status ortc_pass_fc(ortc_pass_ctx *pc)
{
    if (pc->opts.reference)
        return ORTC_STATUS_OK;
    for (int i = 0; i < pc->g->n_nodes; i++) {
        ortc_node *n = pc->g->nodes[i];
        if (!ortc_pass_is_op(n, "Gemm"))
            continue;
        ORTC_TRY(try_transpose(pc, n));
    }
    return ORTC_STATUS_OK;
}
