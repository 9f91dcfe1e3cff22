/* einsum.c — Einsum (opset 12): parses the equation (explicit "->" or
 * implicit form, ellipsis broadcasting, repeated labels as diagonals,
 * spaces) and lowers what it can. Two float32 operands whose every label is
 * a batch label (in both and the output), a contracted one (in both, not
 * the output) or kept from one side become one oneDNN matmul (B, M, K) x
 * (B, K, N): the operands are transposed into that order in scratch unless
 * they already are, and the result transposed into the output unless its
 * order is (batch, M, N). One operand that is only permuted is a strided
 * copy. Everything else (three or more operands, diagonals, labels summed
 * on one side only, other dtypes) runs the general contraction of
 * einsum_ref.c, which is also the reference kernel.
 */
#include <stdio.h>
#include <string.h>

#include "dnnl_prim.h"
#include "einsum.h"
#include "error.h"
#include "plain_util.h"
#include "strided_copy.h"

/* ---- parsing ---------------------------------------------------------------- */

/* One side of the equation: its terms as label characters ('.' marks
 * where the ellipsis stands). */
typedef struct einsum_term {
    char chars[ORTC_MAX_RANK + 1];
    int n;      /* characters, the ellipsis as one */
    int ell_at; /* position of the ellipsis, -1: none */
} einsum_term;

static ortc_status eq_error(ortc_opctx *c, const char *eq, const char *what)
{
    return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "equation \"%s\": %s", eq, what);
}

/* Reads one term from s (up to ',' , '-' or the end); returns the
 * characters consumed or -1. */
static int read_term(const char *s, einsum_term *t)
{
    int i = 0;
    t->n = 0;
    t->ell_at = -1;
    while (s[i] && s[i] != ',' && s[i] != '-') {
        if (s[i] == ' ') {
            i++;
            continue;
        }
        if (s[i] == '.') {
            if (strncmp(s + i, "...", 3) || t->ell_at >= 0)
                return -1;
            t->ell_at = t->n;
            i += 3;
        } else if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) {
            i++;
        } else {
            return -1;
        }
        if (t->n == ORTC_MAX_RANK)
            return -1;
        t->chars[t->n++] = s[i - 1] == '.' ? '.' : s[i - 1];
    }
    t->chars[t->n] = '\0';
    return i;
}

/* The label number of letter ch, numbering it when new. */
static int letter_label(ortc_einsum *e, char ch)
{
    for (int l = e->ell_rank; l < e->n_labels; l++)
        if (e->name[l] == ch)
            return l;
    e->name[e->n_labels] = ch;
    e->size[e->n_labels] = -2; /* not seen yet */
    return e->n_labels++;
}

ortc_status ortc_einsum_parse(ortc_opctx *c, ortc_einsum *e)
{
    const char *eq = ortc_node_attr_string(c->node, "equation", NULL);
    if (!eq)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "required attribute 'equation' is missing");
    memset(e, 0, sizeof *e);
    e->n_in = c->n_in;
    if (c->n_in < 1 || c->n_in > ORTC_EINSUM_MAX_INPUTS)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "has %d inputs; ortc's Einsum takes 1 to %d", c->n_in,
                             ORTC_EINSUM_MAX_INPUTS);
    einsum_term terms[ORTC_EINSUM_MAX_INPUTS], rhs;
    const char *s = eq;
    int n_terms = 0;
    for (;;) {
        if (n_terms == ORTC_EINSUM_MAX_INPUTS)
            return eq_error(c, eq, "more terms than inputs");
        int used = read_term(s, &terms[n_terms]);
        if (used < 0)
            return eq_error(c, eq,
                            "a term has a character other than letters, spaces and one "
                            "'...', or more than 8 dims");
        n_terms++;
        s += used;
        if (*s != ',')
            break;
        s++;
    }
    bool explicit_out = false;
    if (*s == '-') {
        if (s[1] != '>')
            return eq_error(c, eq, "'-' not followed by '>'");
        int used = read_term(s + 2, &rhs);
        if (used < 0 || s[2 + used])
            return eq_error(c, eq, "the output term is not letters and at most one '...'");
        explicit_out = true;
    }
    if (n_terms != c->n_in) {
        char msg[96];
        snprintf(msg, sizeof msg, "%d input terms for %d inputs", n_terms, c->n_in);
        return eq_error(c, eq, msg);
    }
    /* the ellipsis' dims: the most any input gives it */
    for (int i = 0; i < n_terms; i++) {
        if (!c->in[i])
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "input %d is missing", i);
        int letters = terms[i].n - (terms[i].ell_at >= 0);
        int r = c->in[i]->rank, ell = r - letters;
        if (ell < 0 || (terms[i].ell_at < 0 && ell != 0)) {
            char msg[160], sh[128];
            snprintf(msg, sizeof msg, "term %d \"%s\" does not fit input %d '%s' of shape %s", i,
                     terms[i].chars, i, ortc_plain_input_name(c, i),
                     ortc_shape_str(sh, sizeof sh, r, c->in[i]->dims));
            return eq_error(c, eq, msg);
        }
        if (ell > e->ell_rank)
            e->ell_rank = ell;
    }
    for (int l = 0; l < e->ell_rank; l++) {
        e->name[l] = '.';
        e->size[l] = -2;
    }
    e->n_labels = e->ell_rank;
    /* labels of every axis, and their sizes (1 broadcasts; -1 is unknown) */
    int count[ORTC_EINSUM_MAX_LABELS] = {0};
    for (int i = 0; i < n_terms; i++) {
        const ortc_tensor *x = c->in[i];
        int letters = terms[i].n - (terms[i].ell_at >= 0), ell = x->rank - letters, a = 0;
        e->rank[i] = x->rank;
        for (int k = 0; k < terms[i].n; k++) {
            if (terms[i].chars[k] == '.') {
                for (int j = 0; j < ell; j++)
                    e->label[i][a++] = e->ell_rank - ell + j;
            } else {
                e->label[i][a++] = letter_label(e, terms[i].chars[k]);
            }
        }
        for (a = 0; a < x->rank; a++) {
            int l = e->label[i][a];
            int64_t d = x->dims[a];
            count[l]++;
            /* a repeated label within one term: equal dims (a diagonal) */
            for (int b = 0; b < a; b++)
                if (e->label[i][b] == l && d >= 0 && x->dims[b] >= 0 && x->dims[b] != d) {
                    char msg[160];
                    snprintf(msg, sizeof msg,
                             "label '%c' repeats in term %d over dims %d and %d of sizes %lld "
                             "and %lld",
                             e->name[l], i, b, a, (long long)x->dims[b], (long long)d);
                    return eq_error(c, eq, msg);
                }
            if (e->size[l] == -2 || e->size[l] == 1 || (e->size[l] == -1 && d != 1))
                e->size[l] = d;
            else if (d != 1 && d != -1 && d != e->size[l]) {
                char msg[160];
                snprintf(msg, sizeof msg, "label '%c' has size %lld in input %d but %lld before",
                         e->name[l], (long long)d, i, (long long)e->size[l]);
                return eq_error(c, eq, msg);
            }
        }
    }
    /* strides: dense strides summed per label, 0 where a dim of 1 broadcasts */
    for (int i = 0; i < n_terms; i++) {
        const ortc_tensor *x = c->in[i];
        int64_t str[ORTC_MAX_RANK];
        ortc_plain_dense_strides(x->rank, x->dims, str);
        for (int a = 0; a < x->rank; a++) {
            int l = e->label[i][a];
            if (x->dims[a] == e->size[l])
                e->stride[i][l] += str[a];
        }
    }
    /* the output */
    if (explicit_out) {
        for (int k = 0; k < rhs.n; k++) {
            if (rhs.chars[k] == '.') {
                for (int l = 0; l < e->ell_rank; l++)
                    e->out_label[e->out_rank++] = l;
                continue;
            }
            int l;
            for (l = e->ell_rank; l < e->n_labels; l++)
                if (e->name[l] == rhs.chars[k])
                    break;
            char msg[96];
            if (l == e->n_labels) {
                snprintf(msg, sizeof msg, "output label '%c' is in no input term", rhs.chars[k]);
                return eq_error(c, eq, msg);
            }
            if (e->in_out[l]) {
                snprintf(msg, sizeof msg, "output label '%c' repeats", rhs.chars[k]);
                return eq_error(c, eq, msg);
            }
            if (e->out_rank == ORTC_MAX_RANK)
                return ortc_plain_check_rank(c, ORTC_MAX_RANK + 1, "output");
            e->in_out[l] = true;
            e->out_label[e->out_rank++] = l;
        }
    } else {
        /* implicit: the ellipsis' dims, then letters seen once, sorted */
        for (int l = 0; l < e->ell_rank; l++)
            e->out_label[e->out_rank++] = l;
        for (int ch = 'A'; ch <= 'z'; ch++)
            for (int l = e->ell_rank; l < e->n_labels; l++)
                if (e->name[l] == ch && count[l] == 1) {
                    if (e->out_rank == ORTC_MAX_RANK)
                        return ortc_plain_check_rank(c, ORTC_MAX_RANK + 1, "output");
                    e->out_label[e->out_rank++] = l;
                }
    }
    for (int j = 0; j < e->out_rank; j++)
        e->in_out[e->out_label[j]] = true;
    return ORTC_STATUS_OK;
}

/* ---- infer and the reference ------------------------------------------------ */

static ortc_status einsum_check(ortc_opctx *c, ortc_einsum *e)
{
    ortc_status st;
    ORTC_TRY(ortc_op_check_arity(c, 1, ORTC_EINSUM_MAX_INPUTS, 1, 1));
    ORTC_TRY(ortc_op_check_attr(c, "equation", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_op_check_input(c, 0));
    for (int i = 1; i < c->n_in; i++)
        if ((st = ortc_op_check_input(c, i)) || (st = ortc_op_check_same_dtype(c, 0, i)))
            return st;
    return ortc_einsum_parse(c, e);
}

static ortc_status einsum_infer(ortc_opctx *c)
{
    ortc_einsum e;
    ORTC_TRY(einsum_check(c, &e));
    int64_t dims[ORTC_MAX_RANK];
    for (int j = 0; j < e.out_rank; j++)
        dims[j] = e.size[e.out_label[j]];
    ortc_op_set_output(c, 0, c->in[0]->dtype, e.out_rank, dims);
    return ortc_plain_check_numel(c, 0);
}

static ortc_status einsum_general(ortc_opctx *c, const ortc_einsum *e)
{
    const void *in[ORTC_EINSUM_MAX_INPUTS];
    for (int i = 0; i < e->n_in; i++)
        in[i] = c->in[i]->data;
    if (!ortc_einsum_contract(e, c->in[0]->dtype, c->out[0]->data, in))
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED, "Einsum on dtype %s",
                             ortc_dtype_name(c->in[0]->dtype));
    return ORTC_STATUS_OK;
}

static ortc_status einsum_reference(ortc_opctx *c)
{
    ortc_einsum e;
    ortc_status st = einsum_check(c, &e);
    return st ? st : einsum_general(c, &e);
}

/* ---- the lowerings ------------------------------------------------------------ */

/* A strided copy: dense out[dims] from in through strides (elements). */
typedef struct einsum_copy {
    bool on;
    int rank;
    int64_t dims[ORTC_STRIDED_MAX_RANK], strides[ORTC_STRIDED_MAX_RANK];
    size_t off; /* scratch offset of the dense side (when it is scratch) */
} einsum_copy;

typedef struct einsum_state {
    ortc_dnnl_prim prim; /* first: ortc_dnnl_prim_* see it; nothing else owned */
    enum { EINSUM_GENERAL, EINSUM_PERMUTE, EINSUM_MATMUL } path;
    ortc_einsum e;
    einsum_copy a, b; /* inputs into (batch, M, K) / (batch, K, N) order */
    einsum_copy y;    /* (batch, M, N) result into the output's order */
} einsum_state;

/* Input i read in label order ls[0..n): copy plan and whether it is
 * needed (the input is not already dense in that order). */
static void plan_input_copy(const ortc_einsum *e, int i, const int *ls, int n, einsum_copy *cp)
{
    cp->rank = n;
    int64_t dense = 1;
    cp->on = false;
    for (int j = n - 1; j >= 0; j--) {
        cp->dims[j] = e->size[ls[j]];
        cp->strides[j] = e->stride[i][ls[j]];
        if (cp->dims[j] != 1 && cp->strides[j] != dense)
            cp->on = true;
        dense *= cp->dims[j];
    }
}

/* Whether the labels of one operand are all distinct. */
static bool distinct_labels(const ortc_einsum *e, int i)
{
    for (int a = 0; a < e->rank[i]; a++)
        for (int b = 0; b < a; b++)
            if (e->label[i][a] == e->label[i][b])
                return false;
    return true;
}

static bool has_label(const ortc_einsum *e, int i, int l)
{
    for (int a = 0; a < e->rank[i]; a++)
        if (e->label[i][a] == l)
            return true;
    return false;
}

static ortc_status plan_matmul(ortc_opctx *c, einsum_state *s)
{
    const ortc_einsum *e = &s->e;
    int bl[ORTC_EINSUM_MAX_LABELS], ml[ORTC_EINSUM_MAX_LABELS], nl[ORTC_EINSUM_MAX_LABELS],
        kl[ORTC_EINSUM_MAX_LABELS];
    int nb = 0, nm = 0, nn = 0, nk = 0;
    int64_t B = 1, M = 1, N = 1, K = 1;
    /* batch, M and N labels in output order; K labels in A's order */
    for (int j = 0; j < e->out_rank; j++) {
        int l = e->out_label[j];
        bool in_a = has_label(e, 0, l), in_b = has_label(e, 1, l);
        if (in_a && in_b) {
            bl[nb++] = l;
            B *= e->size[l];
        } else if (in_a) {
            ml[nm++] = l;
            M *= e->size[l];
        } else {
            nl[nn++] = l;
            N *= e->size[l];
        }
    }
    for (int a = 0; a < e->rank[0]; a++) {
        int l = e->label[0][a];
        if (e->in_out[l])
            continue;
        if (!has_label(e, 1, l))
            return ORTC_STATUS_OK; /* summed on one side only: general */
        kl[nk++] = l;
        K *= e->size[l];
    }
    for (int a = 0; a < e->rank[1]; a++)
        if (!e->in_out[e->label[1][a]] && !has_label(e, 0, e->label[1][a]))
            return ORTC_STATUS_OK;
    if (B * M * N * K == 0)
        return ORTC_STATUS_OK; /* nothing for oneDNN to multiply */
    int la[ORTC_EINSUM_MAX_LABELS], lb[ORTC_EINSUM_MAX_LABELS], ly[ORTC_EINSUM_MAX_LABELS];
    int na = 0, nbb = 0, ny = 0;
    for (int j = 0; j < nb; j++)
        la[na++] = lb[nbb++] = ly[ny++] = bl[j];
    for (int j = 0; j < nm; j++)
        la[na++] = ly[ny++] = ml[j];
    for (int j = 0; j < nk; j++)
        la[na++] = lb[nbb++] = kl[j];
    for (int j = 0; j < nn; j++)
        lb[nbb++] = ly[ny++] = nl[j];
    plan_input_copy(e, 0, la, na, &s->a);
    plan_input_copy(e, 1, lb, nbb, &s->b);
    /* the result: out[j] walks Y' (dense over ly) with the stride of its label */
    int64_t ystr[ORTC_EINSUM_MAX_LABELS], dense = 1;
    for (int j = ny - 1; j >= 0; j--) {
        ystr[j] = dense;
        dense *= e->size[ly[j]];
    }
    s->y.rank = e->out_rank;
    s->y.on = false;
    for (int j = 0; j < e->out_rank; j++) {
        int p = 0;
        while (ly[p] != e->out_label[j])
            p++;
        s->y.dims[j] = e->size[e->out_label[j]];
        s->y.strides[j] = ystr[p];
        if (p != j && s->y.dims[j] != 1)
            s->y.on = true;
    }
    ortc_dnnl_prim *p = &s->prim;
    size_t fsz = sizeof(float);
    if (s->a.on)
        s->a.off = ortc_dnnl_prim_scratch(c, p, (size_t)(B * M * K) * fsz);
    if (s->b.on)
        s->b.off = ortc_dnnl_prim_scratch(c, p, (size_t)(B * K * N) * fsz);
    if (s->y.on)
        s->y.off = ortc_dnnl_prim_scratch(c, p, (size_t)(B * M * N) * fsz);
    int64_t adims[3] = {B, M, K}, bdims[3] = {B, K, N}, ydims[3] = {B, M, N};
    dnnl_memory_desc_t amd, bmd, ymd;
    ortc_status st;
    ORTC_TRY(ortc_dnnl_md_plain(c, &amd, 3, adims));
    ORTC_TRY(ortc_dnnl_md_plain(c, &bmd, 3, bdims));
    ORTC_TRY(ortc_dnnl_md_plain(c, &ymd, 3, ydims));
    dnnl_matmul_desc_t desc;
    DNNL_CHECK(c, dnnl_matmul_desc_init(&desc, &amd, &bmd, NULL, &ymd));
    const ortc_dnnl_arg args[] = {
        s->a.on ? ORTC_DNNL_SCRATCH(DNNL_ARG_SRC, s->a.off) : ORTC_DNNL_IN(DNNL_ARG_SRC, 0),
        s->b.on ? ORTC_DNNL_SCRATCH(DNNL_ARG_WEIGHTS, s->b.off) : ORTC_DNNL_IN(DNNL_ARG_WEIGHTS, 1),
        s->y.on ? ORTC_DNNL_SCRATCH(DNNL_ARG_DST, s->y.off) : ORTC_DNNL_OUT(DNNL_ARG_DST, 0),
    };
    dnnl_primitive_attr_t attr; /* a user scratchpad: run allocates nothing */
    ORTC_TRY(ortc_dnnl_prim_attr(c, p, &attr, 0.0f));
    st = ortc_dnnl_prim_create(c, p, &desc, attr, args, 3);
    dnnl_primitive_attr_destroy(attr);
    if (st)
        return st;
    if (!p->use_ref)
        s->path = EINSUM_MATMUL;
    return ORTC_STATUS_OK;
}

static ortc_status einsum_build(ortc_opctx *c, void *state)
{
    einsum_state *s = state;
    ORTC_TRY(einsum_check(c, &s->e));
    ortc_status st = ORTC_STATUS_OK;
    const ortc_einsum *e = &s->e;
    s->path = EINSUM_GENERAL;
    if (e->n_in == 1 && distinct_labels(e, 0) && e->out_rank == e->rank[0]) {
        /* a transpose: out[j] walks the input with its label's stride */
        s->path = EINSUM_PERMUTE;
        s->y.rank = e->out_rank;
        for (int j = 0; j < e->out_rank; j++) {
            s->y.dims[j] = e->size[e->out_label[j]];
            s->y.strides[j] = e->stride[0][e->out_label[j]];
        }
    } else if (e->n_in == 2 && c->in[0]->dtype == ORTC_DTYPE_FLOAT && c->backend &&
               distinct_labels(e, 0) && distinct_labels(e, 1)) {
        st = plan_matmul(c, s);
    }
    return st;
}

static ortc_status einsum_prepare(ortc_opctx *c)
{
    return ortc_dnnl_prim_prepare(c, sizeof(einsum_state), einsum_build, NULL);
}

static ortc_status einsum_run(ortc_opctx *c)
{
    einsum_state *s = c->state;
    if (!s || s->path == EINSUM_GENERAL)
        return einsum_reference(c);
    size_t elem = ortc_dtype_size(c->in[0]->dtype);
    if (s->path == EINSUM_PERMUTE) {
        ortc_strided_copy(c->out[0]->data, c->in[0]->data, s->y.rank, s->y.dims, s->y.strides,
                          elem);
        return ORTC_STATUS_OK;
    }
    if (s->a.on)
        ortc_strided_copy(ortc_dnnl_scratch_at(c, s->a.off), c->in[0]->data, s->a.rank, s->a.dims,
                          s->a.strides, elem);
    if (s->b.on)
        ortc_strided_copy(ortc_dnnl_scratch_at(c, s->b.off), c->in[1]->data, s->b.rank, s->b.dims,
                          s->b.strides, elem);
    ortc_status st = ortc_dnnl_prim_run(c, &s->prim);
    if (st || !s->y.on)
        return st;
    DNNL_CHECK(c, dnnl_stream_wait(ortc_dnnl_stream(c)));
    ortc_strided_copy(c->out[0]->data, ortc_dnnl_scratch_at(c, s->y.off), s->y.rank, s->y.dims,
                      s->y.strides, elem);
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------- */

const ortc_operator ortc_ops_einsum[] = {
    ORTC_OP("Einsum", 12, 12, .backend = ORTC_BACKEND_ONEDNN, .dtypes = ORTC_DTYPES_NUMERIC,
            .infer = einsum_infer, .prepare = einsum_prepare, .run = einsum_run,
            .release = ortc_dnnl_prim_release, .reference = einsum_reference),
};
ORTC_OP_TABLE_END(einsum);
