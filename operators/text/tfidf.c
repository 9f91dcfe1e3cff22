/* tfidf.c — TfIdfVectorizer (9): counts the n-grams of each row of an
 * integer or string tensor ([C] or [N, C]) that appear in the pool
 * (pool_int64s or pool_strings), with gaps of 0..max_skip_count items
 * between consecutive items of a gram (each start and gap counted once;
 * 1-grams once per position), for gram lengths min..max_gram_length, into
 * output column ngram_indexes[i] of pool gram i: the count (TF), the weight
 * when the count is positive (IDF), or count times weight (TFIDF); a gram
 * the pool repeats counts for each of its entries. The pool is hashed once
 * in prepare; a run allocates nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"

typedef enum { MODE_TF, MODE_IDF, MODE_TFIDF } tfidf_mode;

/* Gram i of the pool. */
typedef struct pool_entry {
    int64_t start;     /* offset of its first item in the pool */
    int64_t same_next; /* the next pool gram equal to it, or -1 */
    int len;
} pool_entry;

typedef struct tfidf_state {
    tfidf_mode mode;
    int64_t min_n, max_n, max_skip;
    bool strings;             /* pool_strings, else pool_int64s */
    const int64_t *pool_ints; /* the node's attributes (outlive the state) */
    char *const *pool_strs;
    size_t n_grams;
    pool_entry *grams; /* [n_grams] */
    const int64_t *out_index;
    const float *weights; /* NULL: all 1 */
    size_t mask;          /* hash table of 2^k slots */
    int64_t *slots;       /* gram id, or -1 for an empty slot */
} tfidf_state;

/* ---- hashing ----------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return mix64(h);
}

/* Items of one gram: `n` items at stride `step` from `at` in an int64,
 * int32 or string array. */
typedef struct gram_view {
    ortc_dtype dtype;
    const void *data;
    int64_t at, step;
    int n;
} gram_view;

static inline int64_t view_int(const gram_view *g, int k)
{
    int64_t i = g->at + (int64_t)k * g->step;
    return g->dtype == ORTC_DTYPE_INT32 ? ((const int32_t *)g->data)[i]
                                        : ((const int64_t *)g->data)[i];
}

static inline const char *view_str(const gram_view *g, int k)
{
    const char *s = ((char *const *)g->data)[g->at + (int64_t)k * g->step];
    return s ? s : "";
}

static uint64_t hash_gram(const gram_view *g)
{
    uint64_t h = mix64((uint64_t)g->n);
    for (int k = 0; k < g->n; k++)
        h = mix64(h ^ (g->dtype == ORTC_DTYPE_STRING ? hash_str(view_str(g, k))
                                                     : mix64((uint64_t)view_int(g, k))));
    return h;
}

/* The view of pool gram `id`. */
static gram_view pool_gram(const tfidf_state *s, size_t id)
{
    return (gram_view){s->strings ? ORTC_DTYPE_STRING : ORTC_DTYPE_INT64,
                       s->strings ? (const void *)s->pool_strs : (const void *)s->pool_ints,
                       s->grams[id].start, 1, s->grams[id].len};
}

static bool same_gram(const gram_view *a, const gram_view *b)
{
    if (a->n != b->n)
        return false;
    for (int k = 0; k < a->n; k++) {
        if (a->dtype == ORTC_DTYPE_STRING) {
            if (strcmp(view_str(a, k), view_str(b, k)))
                return false;
        } else if (view_int(a, k) != view_int(b, k)) {
            return false;
        }
    }
    return true;
}

/* Pool gram id equal to g, or -1. */
static int64_t find_gram(const tfidf_state *s, const gram_view *g)
{
    for (size_t h = hash_gram(g) & s->mask;; h = (h + 1) & s->mask) {
        int64_t id = s->slots[h];
        if (id < 0)
            return -1;
        gram_view p = pool_gram(s, (size_t)id);
        if (same_gram(&p, g))
            return id;
    }
}

/* ---- attributes ---------------------------------------------------------------- */

static void tfidf_free(tfidf_state *s)
{
    if (!s)
        return;
    free(s->grams);
    free(s->slots);
    free(s);
}

/* Reads and checks the attributes; with `tables`, also builds the pool's
 * hash table. */
static ortc_status tfidf_build(ortc_opctx *c, bool tables, tfidf_state **out)
{
    *out = NULL;
    static const struct {
        const char *name;
        ortc_attr_type type;
    } attrs[] = {{"mode", ORTC_ATTR_STRING},         {"min_gram_length", ORTC_ATTR_INT},
                 {"max_gram_length", ORTC_ATTR_INT}, {"max_skip_count", ORTC_ATTR_INT},
                 {"ngram_counts", ORTC_ATTR_INTS},   {"ngram_indexes", ORTC_ATTR_INTS},
                 {"pool_int64s", ORTC_ATTR_INTS},    {"pool_strings", ORTC_ATTR_STRINGS},
                 {"weights", ORTC_ATTR_FLOATS}};
    for (size_t k = 0; k < sizeof attrs / sizeof *attrs; k++)
        ORTC_TRY(ortc_op_check_attr(c, attrs[k].name, attrs[k].type));
    for (size_t k = 0; k < 6; k++)
        if (!ortc_node_attr(c->node, attrs[k].name))
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "attribute '%s' is missing",
                                 attrs[k].name);
    const ortc_attr *pi = ortc_node_attr(c->node, "pool_int64s");
    const ortc_attr *ps = ortc_node_attr(c->node, "pool_strings");
    if (!pi == !ps)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "needs exactly one of the attributes pool_int64s and pool_strings");
    tfidf_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    const char *mode = ortc_node_attr_string(c->node, "mode", "");
    s->mode = !strcmp(mode, "TF") ? MODE_TF : !strcmp(mode, "IDF") ? MODE_IDF : MODE_TFIDF;
    s->min_n = ortc_node_attr_int(c->node, "min_gram_length", 0);
    s->max_n = ortc_node_attr_int(c->node, "max_gram_length", 0);
    s->max_skip = ortc_node_attr_int(c->node, "max_skip_count", 0);
    s->strings = ps != NULL;
    s->pool_ints = pi ? pi->ints : NULL;
    s->pool_strs = ps ? ps->strings : NULL;
    size_t pool_n = pi ? pi->n : ps->n, n_counts, n_index, n_w;
    const int64_t *counts = ortc_node_attr_ints(c->node, "ngram_counts", &n_counts);
    s->out_index = ortc_node_attr_ints(c->node, "ngram_indexes", &n_index);
    s->weights = ortc_node_attr_floats(c->node, "weights", &n_w);
    const char *bad = NULL;
    if (strcmp(mode, "TF") && strcmp(mode, "IDF") && strcmp(mode, "TFIDF"))
        bad = "attribute 'mode' must be TF, IDF or TFIDF";
    else if (s->min_n < 1 || s->max_n < s->min_n)
        bad = "needs 1 <= min_gram_length <= max_gram_length";
    else if (s->max_skip < 0)
        bad = "attribute 'max_skip_count' must be >= 0";
    else if ((int64_t)n_counts < s->max_n)
        bad = "attribute 'ngram_counts' needs an entry per gram length up to max_gram_length";
    else if (ortc_node_attr(c->node, "weights") && n_w != n_index)
        bad = "attribute 'weights' must have one weight per entry of ngram_indexes";
    if (bad) {
        tfidf_free(s);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL, "%s", bad);
    }
    if (!ortc_node_attr(c->node, "weights"))
        s->weights = NULL;
    /* the grams: ngram_counts[k] is where the (k+1)-grams start in the pool */
    size_t total = 0;
    for (size_t k = 0; k < n_counts; k++) {
        int64_t start = counts[k], end = k + 1 < n_counts ? counts[k + 1] : (int64_t)pool_n;
        if (start < 0 || end < start || end > (int64_t)pool_n || (end - start) % (int64_t)(k + 1)) {
            tfidf_free(s);
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'ngram_counts' entry %zu (%lld) does not start a "
                                 "whole number of %zu-grams in the pool of %zu items",
                                 k, (long long)start, k + 1, pool_n);
        }
        total += (size_t)(end - start) / (k + 1);
    }
    if (total != n_index) {
        tfidf_free(s);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "the pool holds %zu n-grams but 'ngram_indexes' has %zu entries",
                             total, n_index);
    }
    for (size_t i = 0; i < n_index; i++)
        if (s->out_index[i] < 0) {
            long long v = (long long)s->out_index[i];
            tfidf_free(s);
            return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                 "attribute 'ngram_indexes' has %lld at position %zu", v, i);
        }
    s->n_grams = total;
    if (!tables) {
        *out = s;
        return ORTC_STATUS_OK;
    }
    size_t cap = 2;
    while (cap < 2 * total)
        cap <<= 1;
    s->mask = cap - 1;
    s->grams = malloc((total + 1) * sizeof *s->grams);
    s->slots = malloc(cap * sizeof *s->slots);
    if (!s->grams || !s->slots) {
        tfidf_free(s);
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory hashing the pool");
    }
    memset(s->slots, 0xff, cap * sizeof *s->slots); /* -1 */
    size_t id = 0;
    for (size_t k = 0; k < n_counts; k++) {
        int64_t start = counts[k], end = k + 1 < n_counts ? counts[k + 1] : (int64_t)pool_n;
        for (int64_t at = start; at < end; at += (int64_t)(k + 1), id++) {
            s->grams[id] = (pool_entry){.start = at, .same_next = -1, .len = (int)(k + 1)};
            gram_view g = pool_gram(s, id);
            int64_t first = find_gram(s, &g);
            if (first >= 0) { /* a repeated gram: chained after the first */
                int64_t last = first;
                while (s->grams[last].same_next >= 0)
                    last = s->grams[last].same_next;
                s->grams[last].same_next = (int64_t)id;
                continue;
            }
            size_t h = hash_gram(&g) & s->mask;
            while (s->slots[h] >= 0)
                h = (h + 1) & s->mask;
            s->slots[h] = (int64_t)id;
        }
    }
    *out = s;
    return ORTC_STATUS_OK;
}

/* ---- the operator ------------------------------------------------------------------ */

static ortc_status tfidf_infer(ortc_opctx *c)
{
    tfidf_state *s;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    ORTC_TRY(tfidf_build(c, false, &s));
    const ortc_tensor *x = c->in[0];
    bool str_in = x->dtype == ORTC_DTYPE_STRING, str_pool = s->strings;
    int64_t width = 0;
    for (size_t i = 0; i < s->n_grams; i++)
        if (s->out_index[i] + 1 > width)
            width = s->out_index[i] + 1;
    tfidf_free(s);
    if (str_in != str_pool)
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' is %s but the pool is %s: pool_strings needs string "
                             "input, pool_int64s integers",
                             ortc_plain_input_name(c, 0), ortc_dtype_name(x->dtype),
                             str_pool ? "pool_strings" : "pool_int64s");
    if (x->rank != 1 && x->rank != 2) {
        char sh[160];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' has shape %s; TfIdfVectorizer takes [C] or [N, C]",
                             ortc_plain_input_name(c, 0),
                             ortc_shape_str(sh, sizeof sh, x->rank, x->dims));
    }
    int64_t dims[2] = {x->dims[0], width};
    if (x->rank == 1)
        ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, 1, &dims[1]);
    else
        ortc_op_set_output(c, 0, ORTC_DTYPE_FLOAT, 2, dims);
    return ortc_plain_check_numel(c, 0);
}

static ortc_status tfidf_prepare(ortc_opctx *c)
{
    tfidf_state *s;
    ortc_status st = tfidf_build(c, true, &s);
    if (!st)
        c->state = s;
    return st;
}

static void tfidf_release(ortc_opctx *c)
{
    tfidf_free(c->state);
    c->state = NULL;
}

// y: (N, width) or (width); x: (N, C) or (C)
static ortc_status tfidf_run(ortc_opctx *c)
{
    const tfidf_state *s = c->state;
    const ortc_tensor *x = c->in[0];
    ortc_tensor *y = c->out[0];
    int64_t rows = x->rank == 2 ? x->dims[0] : 1, len = x->dims[x->rank - 1];
    int64_t width = y->dims[y->rank - 1];
    float *out = y->data;
    memset(out, 0, (size_t)(rows * width) * sizeof *out);
    for (int64_t r = 0; r < rows; r++) {
        float *row = out + r * width;
        for (int64_t skip = 0; skip <= s->max_skip; skip++) {
            int64_t step = skip + 1;
            for (int64_t start = 0; start < len; start++)
                for (int64_t n = s->min_n; n <= s->max_n; n++) {
                    if (n == 1 && skip > 0) /* a 1-gram has no gaps: once per position */
                        continue;
                    if (start + (n - 1) * step >= len)
                        break; /* longer grams do not fit either */
                    gram_view g = {x->dtype, x->data, r * len + start, step, (int)n};
                    /* every pool entry of this gram (a pool may repeat one) */
                    for (int64_t id = find_gram(s, &g); id >= 0; id = s->grams[id].same_next) {
                        float w = s->weights ? s->weights[id] : 1.0f;
                        float *cell = &row[s->out_index[id]];
                        switch (s->mode) {
                        case MODE_TF: *cell += 1.0f; break;
                        case MODE_IDF: *cell = w; break;
                        case MODE_TFIDF: *cell += w; break;
                        }
                    }
                }
        }
    }
    return ORTC_STATUS_OK;
}

/* ---- table --------------------------------------------------------------------------- */

/* dtypes: the input (T) */
const ortc_operator ortc_ops_tfidf[] = {
    ORTC_OP("TfIdfVectorizer", 9, 9, .dtypes = ORTC_DT(STRING) | ORTC_DT(INT32) | ORTC_DT(INT64),
            .infer = tfidf_infer, .prepare = tfidf_prepare, .run = tfidf_run,
            .release = tfidf_release),
};
ORTC_OP_TABLE_END(tfidf);
