/* test_ops_text.c — Check runner for the string operators: StringNormalizer,
 * TfIdfVectorizer and Cast to and from strings, run through sessions (the
 * strings an operator makes live in its state, which a one-node harness
 * frees before the test could read them). Expected values are derived by
 * hand in the comments (Unicode's simple case mapping, the TfIdfVectorizer
 * spec's example); Cast's formatting is also checked by reading every
 * string back.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "helper_common.h"
#include "ir.h"
#include "ortc/ortc.h"

/* ---- building one-node models --------------------------------------------------- */

static void attr_strs(ortc_node *n, const char *name, const char *const *v, size_t count)
{
    ortc_attr *a = ortc_node_add_attr(n, name, ORTC_ATTR_STRINGS);
    a->strings = calloc(count + 1, sizeof *a->strings);
    for (size_t k = 0; k < count; k++)
        a->strings[k] = strdup(v[k]);
    a->n = count;
}

static void graph_input(ortc_graph *g, const char *name, ortc_dtype dt, int rank,
                        const int64_t *dims)
{
    ortc_value *v = ortc_graph_get_value(g, name);
    ortc_value_set_shape(v, dt, rank, dims);
    v->declared = true;
    ck_assert_int_eq(ortc_graph_add_input(g, v), 0);
}

/* A constant of strings (copied). */
static void const_strings(ortc_graph *g, const char *name, int rank, const int64_t *dims,
                          const char *const *v)
{
    ortc_const_tensor *t = ortc_const_tensor_new(ORTC_DTYPE_STRING, rank, dims);
    ck_assert_ptr_nonnull(t);
    int64_t n = ortc_tensor_numel(&t->t);
    for (int64_t i = 0; i < n; i++)
        ((char **)t->t.data)[i] = strdup(v[i]);
    ortc_value_set_constant(ortc_graph_get_value(g, name), t);
}

static ortc_session *session_of(ortc_model *m)
{
    ortc_graph_add_output(m->graph, ortc_graph_get_value(m->graph, "y"));
    finalize_ok(m->graph);
    ortc_session *s = NULL;
    ortc_status st = ortc_session_create_from_model(&s, m, NULL);
    ck_assert_msg(st == ORTC_STATUS_OK, "session: %s", ortc_last_error());
    return s;
}

/* Runs s on `inputs` (n_in); output 0's shape in *out and its data in a
 * malloc'd buffer out->data (free it). Returns the status. */
static ortc_status run1(ortc_session *s, const ortc_tensor *inputs, size_t n_in, ortc_tensor *out)
{
    memset(out, 0, sizeof *out);
    ORTC_TRY(ortc_session_output_shapes(s, inputs, n_in, out, 1));
    size_t bytes = ortc_tensor_bytes(out);
    out->data = calloc(1, bytes ? bytes : 1);
    ortc_status st = ortc_session_run(s, inputs, n_in, out, 1);
    if (st) {
        free(out->data);
        out->data = NULL;
    }
    return st;
}

/* Creating m's session (which compiles it when its input shapes are fixed)
 * or else running it on `inputs` must fail with `want`, the message
 * holding `needle`. Takes m. */
static void expect_model_error(ortc_model *m, const ortc_tensor *inputs, size_t n_in,
                               ortc_status want, const char *needle)
{
    ortc_graph_add_output(m->graph, ortc_graph_get_value(m->graph, "y"));
    finalize_ok(m->graph);
    ortc_session *s = NULL;
    ortc_status st = ortc_session_create_from_model(&s, m, NULL);
    if (st == ORTC_STATUS_OK) {
        ortc_tensor y;
        st = run1(s, inputs, n_in, &y);
        if (!st)
            free(y.data);
    }
    ck_assert_msg(st == want, "status %s, expected %s: %s", ortc_status_name(st),
                  ortc_status_name(want), ortc_last_error());
    ck_assert_msg(strstr(ortc_last_error(), needle), "'%s' not in: %s", needle, ortc_last_error());
    ortc_session_destroy(s);
}

/* out must hold `n` strings equal to want[] and have shape (rank, dims). */
static void expect_strings(const ortc_tensor *out, int rank, const int64_t *dims,
                           const char *const *want, int64_t n, const char *what)
{
    ck_assert_msg(out->dtype == ORTC_DTYPE_STRING, "%s: dtype %s", what,
                  ortc_dtype_name(out->dtype));
    ck_assert_msg(out->rank == rank, "%s: rank %d, expected %d", what, out->rank, rank);
    for (int d = 0; d < rank; d++)
        ck_assert_msg(out->dims[d] == dims[d], "%s: dim %d is %lld, expected %lld", what, d,
                      (long long)out->dims[d], (long long)dims[d]);
    for (int64_t i = 0; i < n; i++) {
        const char *g = ((char *const *)out->data)[i];
        ck_assert_msg(g && !strcmp(g, want[i]), "%s: element %lld is \"%s\", expected \"%s\"", what,
                      (long long)i, g ? g : "(null)", want[i]);
    }
}

/* ---- StringNormalizer --------------------------------------------------------------- */

/* x (graph input [n] strings) -> StringNormalizer -> y */
static ortc_session *strnorm_session(int64_t n, const char *action, const char *locale)
{
    ortc_model *m = model_new(13);
    graph_input(m->graph, "x", ORTC_DTYPE_STRING, 1, &n);
    ortc_node *nd = add_node(m->graph, "StringNormalizer", "norm", "x", "y");
    if (action)
        node_attr_string(nd, "case_change_action", action);
    if (locale)
        node_attr_string(nd, "locale", locale);
    return session_of(m);
}

static void strnorm_check(const char *action, const char *locale, const char *const *in,
                          const char *const *want, int64_t n, const char *what)
{
    ortc_session *s = strnorm_session(n, action, locale);
    ortc_tensor x = {ORTC_DTYPE_STRING, 1, {n}, (void *)in}, y;
    ck_assert_msg(run1(s, &x, 1, &y) == ORTC_STATUS_OK, "%s: %s", what, ortc_last_error());
    expect_strings(&y, 1, &n, want, n, what);
    free(y.data);
    ortc_session_destroy(s);
}

START_TEST(test_strnorm_case)
{
    /* Unicode's simple case mapping (en_US, the default): ß has no
     * one-letter upper case and stays; É/é and the ASCII letters map; C
     * changes ASCII letters only */
    const char *in[] = {"Straße", "ÉCOLE", "été", "AbC 9!"};
    const char *up[] = {"STRAßE", "ÉCOLE", "ÉTÉ", "ABC 9!"};
    const char *lo[] = {"straße", "école", "été", "abc 9!"};
    const char *c_lo[] = {"straße", "École", "été", "abc 9!"};
    strnorm_check("UPPER", NULL, in, up, 4, "UPPER en_US");
    strnorm_check("LOWER", "en_US", in, lo, 4, "LOWER en_US");
    strnorm_check("LOWER", "en_US.UTF-8", in, lo, 4, "LOWER en_US.UTF-8");
    strnorm_check("LOWER", "C", in, c_lo, 4, "LOWER C");
    strnorm_check("NONE", NULL, in, in, 4, "NONE");
    /* mappings that change the byte length: U+0131 dotless i (2 bytes) ->
     * I (1 byte); U+023A (2 bytes) -> U+2C65 (3 bytes) */
    const char *grow[] = {"\xc4\xb1x", "\xc8\xba\xc8\xba"};
    const char *grow_up[] = {"IX", "\xc8\xba\xc8\xba"};
    const char *grow_lo[] = {"\xc4\xb1x", "\xe2\xb1\xa5\xe2\xb1\xa5"};
    strnorm_check("UPPER", NULL, grow, grow_up, 2, "dotless i");
    strnorm_check("LOWER", NULL, grow, grow_lo, 2, "U+023A");
}
END_TEST

START_TEST(test_strnorm_runs_reuse_the_store)
{
    /* successive runs with longer strings: each run's output is right when
     * read (the store grows; the strings of the run before are replaced) */
    ortc_session *s = strnorm_session(2, "UPPER", NULL);
    const char *a[] = {"ab", "c"}, *b[] = {"a much longer string than before", "é"};
    const char *wa[] = {"AB", "C"}, *wb[] = {"A MUCH LONGER STRING THAN BEFORE", "É"};
    int64_t n = 2;
    for (int r = 0; r < 3; r++) {
        ortc_tensor x = {ORTC_DTYPE_STRING, 1, {2}, (void *)(r == 1 ? b : a)}, y;
        ck_assert_int_eq(run1(s, &x, 1, &y), ORTC_STATUS_OK);
        expect_strings(&y, 1, &n, r == 1 ? wb : wa, 2, "run");
        free(y.data);
    }
    ortc_session_destroy(s);
}
END_TEST

/* StringNormalizer of a constant x (rank 1 or [1, C]) with stopwords */
static void strnorm_stop_check(int rank, const char *const *in, int64_t n, const char *const *stop,
                               size_t n_stop, int case_sensitive, const char *action,
                               const char *const *want, int64_t n_want, const char *what)
{
    ortc_model *m = model_new(13);
    int64_t dims[2] = {1, n};
    const_strings(m->graph, "x", rank, rank == 1 ? &dims[1] : dims, in);
    ortc_node *nd = add_node(m->graph, "StringNormalizer", "norm", "x", "y");
    attr_strs(nd, "stopwords", stop, n_stop);
    node_attr_int(nd, "is_case_sensitive", case_sensitive);
    if (action)
        node_attr_string(nd, "case_change_action", action);
    ortc_session *s = session_of(m);
    ortc_tensor y;
    ck_assert_msg(run1(s, NULL, 0, &y) == ORTC_STATUS_OK, "%s: %s", what, ortc_last_error());
    int64_t wd[2] = {1, n_want ? n_want : 1};
    const char *empty[] = {""};
    expect_strings(&y, rank, rank == 1 ? &wd[1] : wd, n_want ? want : empty, n_want ? n_want : 1,
                   what);
    free(y.data);
    ortc_session_destroy(s);
}

START_TEST(test_strnorm_stopwords)
{
    const char *in[] = {"Monday", "monday", "tuesday", "MONDAY"}, *stop[] = {"monday"};
    const char *insens[] = {"tuesday"}, *sens[] = {"Monday", "tuesday", "MONDAY"};
    const char *sens_up[] = {"MONDAY", "TUESDAY", "MONDAY"};
    strnorm_stop_check(1, in, 4, stop, 1, 0, NULL, insens, 1, "case-insensitive");
    strnorm_stop_check(1, in, 4, stop, 1, 1, NULL, sens, 3, "case-sensitive");
    strnorm_stop_check(2, in, 4, stop, 1, 1, "UPPER", sens_up, 3, "[1, C] upper");
    /* everything dropped: [""] of shape [1] ([1, 1] for [1, C]) */
    const char *mondays[] = {"monday", "Monday"};
    strnorm_stop_check(1, mondays, 2, stop, 1, 0, NULL, NULL, 0, "all dropped");
    strnorm_stop_check(2, mondays, 2, stop, 1, 0, "LOWER", NULL, 0, "all dropped [1, C]");
    /* case-insensitive matching folds Unicode letters too: ÉTÉ stops été */
    const char *fr[] = {"été", "hiver", "Été"}, *fr_stop[] = {"ÉTÉ", "automne"};
    const char *fr_left[] = {"hiver"};
    strnorm_stop_check(1, fr, 3, fr_stop, 2, 0, NULL, fr_left, 1, "Unicode stopword");
}
END_TEST

/* Stopwords on a graph input: the output's length is the data's, so
 * output_shapes reports it unknown (-1) and each run allocates an output of
 * the length that input keeps (owned copies of the strings). */
START_TEST(test_strnorm_stopwords_run_time_input)
{
    ortc_model *m = model_new(13);
    int64_t n = 3;
    graph_input(m->graph, "x", ORTC_DTYPE_STRING, 1, &n);
    const char *stop[] = {"a"};
    ortc_node *nd = add_node(m->graph, "StringNormalizer", "norm", "x", "y");
    attr_strs(nd, "stopwords", stop, 1);
    node_attr_string(nd, "case_change_action", "UPPER");
    ortc_session *s = session_of(m);
    const char *in1[] = {"a", "b", "A"}, *in2[] = {"c", "d", "e"}, *in3[] = {"a", "a", "a"};
    const char *want1[] = {"B"}, *want2[] = {"C", "D", "E"}, *want3[] = {""};
    const char *const *ins[] = {in1, in2, in3, in1};
    const char *const *wants[] = {want1, want2, want3, want1};
    int64_t lens[] = {1, 3, 1, 1};
    for (int r = 0; r < 4; r++) {
        ortc_tensor x = {ORTC_DTYPE_STRING, 1, {3}, (void *)ins[r]}, y;
        ck_assert_int_eq(ortc_session_output_shapes(s, &x, 1, &y, 1), ORTC_STATUS_OK);
        ck_assert_msg(y.rank == 1 && y.dims[0] == -1, "run %d: output_shapes gave rank %d dim %lld",
                      r, y.rank, (long long)y.dims[0]);
        y.data = NULL;
        ck_assert_msg(ortc_session_run(s, &x, 1, &y, 1) == ORTC_STATUS_OK, "run %d: %s", r,
                      ortc_last_error());
        expect_strings(&y, 1, &lens[r], wants[r], lens[r], "run-time stopwords");
        ortc_tensor_release(&y);
    }
    ortc_session_destroy(s);
}
END_TEST

START_TEST(test_strnorm_errors)
{
    int64_t n = 2;
    const char *in[] = {"a", "b"};
    ortc_tensor x = {ORTC_DTYPE_STRING, 1, {2}, (void *)in};
    ortc_model *m;
    /* a case change needs valid UTF-8 */
    ortc_session *s = strnorm_session(2, "LOWER", NULL);
    const char *bad[] = {"ok", "b\xff"};
    x.data = (void *)bad;
    ortc_tensor y;
    ck_assert_int_eq(run1(s, &x, 1, &y), ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(ortc_last_error(), "element 1 of input 0 'x' is not valid UTF-8"), "%s",
                  ortc_last_error());
    ortc_session_destroy(s);
    /* a locale this machine lacks */
    m = model_new(13);
    graph_input(m->graph, "x", ORTC_DTYPE_STRING, 1, &n);
    ortc_node *nd = add_node(m->graph, "StringNormalizer", "norm", "x", "y");
    node_attr_string(nd, "locale", "xx_NOWHERE");
    node_attr_string(nd, "case_change_action", "UPPER");
    x.data = (void *)in;
    expect_model_error(m, &x, 1, ORTC_STATUS_UNSUPPORTED,
                       "\"xx_NOWHERE\", which this machine does not have");
}
END_TEST

/* ---- TfIdfVectorizer -------------------------------------------------------------- */

typedef struct tfidf_spec {
    const char *mode;
    int64_t min_n, max_n, skip;
    const int64_t *counts;
    size_t n_counts;
    const int64_t *index;
    size_t n_index;
    const int64_t *pool;
    size_t n_pool;
    const char *const *spool;
    const float *weights;
} tfidf_spec;

/* x (graph input) -> TfIdfVectorizer as sp says -> y, not yet a session */
static ortc_model *tfidf_model(const tfidf_spec *sp, ortc_dtype dt, int rank, const int64_t *dims)
{
    ortc_model *m = model_new(13);
    graph_input(m->graph, "x", dt, rank, dims);
    ortc_node *n = add_node(m->graph, "TfIdfVectorizer", "tfidf", "x", "y");
    node_attr_string(n, "mode", sp->mode);
    node_attr_int(n, "min_gram_length", sp->min_n);
    node_attr_int(n, "max_gram_length", sp->max_n);
    node_attr_int(n, "max_skip_count", sp->skip);
    node_attr_ints(n, "ngram_counts", sp->counts, sp->n_counts);
    node_attr_ints(n, "ngram_indexes", sp->index, sp->n_index);
    if (sp->spool)
        attr_strs(n, "pool_strings", sp->spool, sp->n_pool);
    else
        node_attr_ints(n, "pool_int64s", sp->pool, sp->n_pool);
    if (sp->weights)
        node_attr_floats(n, "weights", sp->weights, sp->n_index);
    return m;
}

static ortc_session *tfidf_session(const tfidf_spec *sp, ortc_dtype dt, int rank,
                                   const int64_t *dims)
{
    return session_of(tfidf_model(sp, dt, rank, dims));
}

static void tfidf_check(const tfidf_spec *sp, ortc_dtype dt, int rank, const int64_t *dims,
                        const void *x, const float *want, int64_t n_want, const char *what)
{
    ortc_session *s = tfidf_session(sp, dt, rank, dims);
    ortc_tensor in = {dt, rank, {dims[0], rank > 1 ? dims[1] : 0}, (void *)x}, y;
    ck_assert_msg(run1(s, &in, 1, &y) == ORTC_STATUS_OK, "%s: %s", what, ortc_last_error());
    ck_assert_int_eq(y.dtype, ORTC_DTYPE_FLOAT);
    ck_assert_int_eq(ortc_tensor_numel(&y), n_want);
    for (int64_t i = 0; i < n_want; i++)
        ck_assert_msg(((float *)y.data)[i] == want[i], "%s: element %lld is %g, expected %g", what,
                      (long long)i, ((float *)y.data)[i], want[i]);
    free(y.data);
    ortc_session_destroy(s);
}

START_TEST(test_tfidf_spec_example)
{
    /* the spec's example: [94, 17, 36, 12, 28] with 2 skips has the 2-grams
     * [94, 12] (positions 0, 3) and [17, 28] (1, 4); [94, 17] needs no skip.
     * Pool: those three bigrams (ngram_counts [0, 0]: no 1-grams). */
    const int64_t x[] = {94, 17, 36, 12, 28}, d[] = {5};
    const int64_t counts[] = {0, 0}, index[] = {0, 1, 2}, pool[] = {94, 12, 17, 28, 94, 17};
    tfidf_spec sp = {"TF", 2, 2, 2, counts, 2, index, 3, pool, 6, NULL, NULL};
    const float all[] = {1, 1, 1}, one_skip[] = {0, 0, 1};
    tfidf_check(&sp, ORTC_DTYPE_INT64, 1, d, x, all, 3, "skip 2");
    sp.skip = 1;
    tfidf_check(&sp, ORTC_DTYPE_INT64, 1, d, x, one_skip, 3, "skip 1");
    /* int32 input works the same */
    const int32_t x32[] = {94, 17, 36, 12, 28};
    sp.skip = 2;
    tfidf_check(&sp, ORTC_DTYPE_INT32, 1, d, x32, all, 3, "int32");
}
END_TEST

START_TEST(test_tfidf_modes)
{
    /* 1-grams 1, 2, 3 (weights .5, 2, 4) to columns 2, 0, 1; input
     * [1, 1, 2, 5]: counts 1 -> 2, 2 -> 1, 3 -> 0. TF: col2 = 2, col0 = 1,
     * col1 = 0; IDF: (count > 0) * w: .5, 2, 0 -> [2, 0, .5]; TFIDF: count *
     * w -> [2, 0, 1]. Skips do not multiply 1-grams. */
    const int64_t x[] = {1, 1, 2, 5}, d[] = {4};
    const int64_t counts[] = {0}, index[] = {2, 0, 1}, pool[] = {1, 2, 3};
    const float w[] = {0.5f, 2, 4};
    tfidf_spec sp = {"TF", 1, 1, 3, counts, 1, index, 3, pool, 3, NULL, w};
    const float tf[] = {1, 0, 2}, idf[] = {2, 0, 0.5f}, tfidf[] = {2, 0, 1};
    tfidf_check(&sp, ORTC_DTYPE_INT64, 1, d, x, tf, 3, "TF");
    sp.mode = "IDF";
    tfidf_check(&sp, ORTC_DTYPE_INT64, 1, d, x, idf, 3, "IDF");
    sp.mode = "TFIDF";
    tfidf_check(&sp, ORTC_DTYPE_INT64, 1, d, x, tfidf, 3, "TFIDF");
    /* a 3-gram [1, 2, 3] over [1, 9, 2, 9, 3]: only with one skip (step 2) */
    const int64_t x3[] = {1, 9, 2, 9, 3}, d3[] = {5}, c3[] = {0, 0, 0}, i3[] = {0};
    tfidf_spec sp3 = {"TF", 3, 3, 0, c3, 3, i3, 1, pool, 3, NULL, NULL};
    const float none[] = {0}, once[] = {1};
    tfidf_check(&sp3, ORTC_DTYPE_INT64, 1, d3, x3, none, 1, "3-gram, no skip");
    sp3.skip = 1;
    tfidf_check(&sp3, ORTC_DTYPE_INT64, 1, d3, x3, once, 1, "3-gram, skip 1");
}
END_TEST

START_TEST(test_tfidf_strings_batch)
{
    /* pool_strings: 1-grams hello, world and the 2-gram (hello, world);
     * rows [hello world hello] -> [2, 1, 1] and [world x world] -> [0, 2, 0] */
    const char *pool[] = {"hello", "world", "hello", "world"};
    const char *x[] = {"hello", "world", "hello", "world", "x", "world"};
    const int64_t counts[] = {0, 2}, index[] = {0, 1, 2}, d[] = {2, 3};
    tfidf_spec sp = {"TF", 1, 2, 0, counts, 2, index, 3, NULL, 4, pool, NULL};
    const float want[] = {2, 1, 1, 0, 2, 0};
    tfidf_check(&sp, ORTC_DTYPE_STRING, 2, d, x, want, 6, "strings");
}
END_TEST

START_TEST(test_tfidf_errors)
{
    const int64_t counts[] = {0, 3}, index[] = {0, 1}, pool[] = {1, 2, 3, 4}, d[] = {4};
    const int64_t x[] = {1, 2, 3, 4};
    ortc_tensor in = {ORTC_DTYPE_INT64, 1, {4}, (void *)x};
    /* ngram_counts [0, 3] leaves 1 item for 2-grams */
    tfidf_spec sp = {"TF", 1, 2, 0, counts, 2, index, 2, pool, 4, NULL, NULL};
    expect_model_error(tfidf_model(&sp, ORTC_DTYPE_INT64, 1, d), &in, 1, ORTC_STATUS_INVALID_MODEL,
                       "does not start a whole number of 2-grams");
    /* an integer pool with string input */
    const int64_t c1[] = {0}, i1[] = {0, 1, 2, 3};
    tfidf_spec sp1 = {"TF", 1, 1, 0, c1, 1, i1, 4, pool, 4, NULL, NULL};
    const char *xs[] = {"1", "2", "3", "4"};
    ortc_tensor ins = {ORTC_DTYPE_STRING, 1, {4}, (void *)xs};
    expect_model_error(tfidf_model(&sp1, ORTC_DTYPE_STRING, 1, d), &ins, 1,
                       ORTC_STATUS_INVALID_MODEL, "pool_strings needs string input");
    sp1.mode = "BM25";
    expect_model_error(tfidf_model(&sp1, ORTC_DTYPE_INT64, 1, d), &in, 1, ORTC_STATUS_INVALID_MODEL,
                       "must be TF, IDF or TFIDF");
}
END_TEST

/* ---- Cast with strings ------------------------------------------------------------ */

/* x (graph input of dtype `from`, [n]) -> Cast(to) -> y */
static ortc_session *cast_session(ortc_dtype from, ortc_dtype to, int64_t n)
{
    ortc_model *m = model_new(13);
    graph_input(m->graph, "x", from, 1, &n);
    node_attr_int(add_node(m->graph, "Cast", "cast", "x", "y"), "to", to);
    return session_of(m);
}

static void cast_to_strings(ortc_dtype from, const void *x, const char *const *want, int64_t n,
                            const char *what)
{
    ortc_session *s = cast_session(from, ORTC_DTYPE_STRING, n);
    ortc_tensor in = {from, 1, {n}, (void *)x}, y;
    ck_assert_msg(run1(s, &in, 1, &y) == ORTC_STATUS_OK, "%s: %s", what, ortc_last_error());
    expect_strings(&y, 1, &n, want, n, what);
    free(y.data);
    ortc_session_destroy(s);
}

START_TEST(test_cast_to_string_formats)
{
    /* floats: the shortest %g that reads back (0.1f is "0.1"; 123456792 needs
     * 8 digits: 1.234568e+08 reads as 123456800), the reserved NaN/INF/-INF
     * literals; the largest float needs 8 digits too */
    const float f[] = {0.1f,     1e-5f,     123456792.0f, -0.0f,       NAN,
                       INFINITY, -INFINITY, 1.0f,         0.47892547f, 3.4028235e38f};
    const char *fw[] = {"0.1",  "1e-05", "1.2345679e+08", "-0",           "NaN", "INF",
                        "-INF", "1",     "0.47892547",    "3.4028235e+38"};
    cast_to_strings(ORTC_DTYPE_FLOAT, f, fw, 10, "float32");
    const double d[] = {0.1, 1.0 / 3, 1e300, 4.9406564584124654e-324};
    const char *dw[] = {"0.1", "0.3333333333333333", "1e+300", "5e-324"};
    cast_to_strings(ORTC_DTYPE_DOUBLE, d, dw, 4, "float64");
    const int64_t i[] = {INT64_MIN, 0, 42};
    const char *iw[] = {"-9223372036854775808", "0", "42"};
    cast_to_strings(ORTC_DTYPE_INT64, i, iw, 3, "int64");
    const uint64_t u[] = {UINT64_MAX};
    const char *uw[] = {"18446744073709551615"};
    cast_to_strings(ORTC_DTYPE_UINT64, u, uw, 1, "uint64");
    const int8_t i8[] = {-128, 127};
    const char *i8w[] = {"-128", "127"};
    cast_to_strings(ORTC_DTYPE_INT8, i8, i8w, 2, "int8");
    const uint8_t b[] = {1, 0};
    const char *bw[] = {"1", "0"};
    cast_to_strings(ORTC_DTYPE_BOOL, b, bw, 2, "bool");
    /* float16 0x2e66 = 0.0999755859375 and bfloat16 0x3dcd = 0.10009765625
     * are both what "0.1" reads as in their precision */
    const uint16_t h[] = {0x2e66, 0x3c00}, bf[] = {0x3dcd, 0xc2f7};
    const char *hw[] = {"0.1", "1"}, *bfw[] = {"0.1", "-123.5"};
    cast_to_strings(ORTC_DTYPE_FLOAT16, h, hw, 2, "float16");
    cast_to_strings(ORTC_DTYPE_BFLOAT16, bf, bfw, 2, "bfloat16");
}
END_TEST

START_TEST(test_cast_string_round_trip)
{
    /* float -> string -> float is the identity on every float (bits; NaN
     * stays NaN) over 20000 patterns: normals of every exponent, subnormals,
     * zeros, infinities */
    enum { N = 20000 };
    static float x[N], back[N];
    uint64_t seed = 3;
    for (int k = 0; k < N; k++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t bits = (uint32_t)(seed >> 32);
        memcpy(&x[k], &bits, sizeof bits);
    }
    x[0] = 0.0f;
    x[1] = -0.0f;
    x[2] = INFINITY;
    x[3] = 1.4e-45f; /* the smallest subnormal */
    ortc_model *m = model_new(13);
    int64_t n = N;
    graph_input(m->graph, "x", ORTC_DTYPE_FLOAT, 1, &n);
    node_attr_int(add_node(m->graph, "Cast", "to_s", "x", "s"), "to", ORTC_DTYPE_STRING);
    node_attr_int(add_node(m->graph, "Cast", "to_f", "s", "y"), "to", ORTC_DTYPE_FLOAT);
    ortc_session *s = session_of(m);
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 1, {N}, x}, y = {0};
    y.data = back;
    ck_assert_msg(ortc_session_run(s, &in, 1, &y, 1) == ORTC_STATUS_OK, "%s", ortc_last_error());
    for (int k = 0; k < N; k++)
        ck_assert_msg(isnan(x[k]) ? isnan(back[k]) : !memcmp(&x[k], &back[k], sizeof x[k]),
                      "%a came back as %a", x[k], back[k]);
    ortc_session_destroy(s);
}
END_TEST

START_TEST(test_cast_from_string)
{
    /* the spec's literals: "+INF", "INF", "-INF", "NaN" any case; plain and
     * scientific numbers; to an integer type */
    const char *in[] = {"3.14", "1e-5", "+INF", "-inf", "nan", "1000"};
    ortc_session *s = cast_session(ORTC_DTYPE_STRING, ORTC_DTYPE_DOUBLE, 6);
    ortc_tensor x = {ORTC_DTYPE_STRING, 1, {6}, (void *)in}, y;
    ck_assert_int_eq(run1(s, &x, 1, &y), ORTC_STATUS_OK);
    const double *v = y.data;
    ck_assert(v[0] == 3.14 && v[1] == 1e-5 && isinf(v[2]) && v[2] > 0 && isinf(v[3]) && v[3] < 0 &&
              isnan(v[4]) && v[5] == 1000);
    free(y.data);
    ortc_session_destroy(s);
    const char *ints[] = {"-7", "12"};
    s = cast_session(ORTC_DTYPE_STRING, ORTC_DTYPE_INT32, 2);
    x.dims[0] = 2;
    x.data = (void *)ints;
    ck_assert_int_eq(run1(s, &x, 1, &y), ORTC_STATUS_OK);
    ck_assert(((int32_t *)y.data)[0] == -7 && ((int32_t *)y.data)[1] == 12);
    free(y.data);
    ortc_session_destroy(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_text");
    TCase *tc = tcase_create("strnorm");
    tcase_add_test(tc, test_strnorm_case);
    tcase_add_test(tc, test_strnorm_runs_reuse_the_store);
    tcase_add_test(tc, test_strnorm_stopwords);
    tcase_add_test(tc, test_strnorm_stopwords_run_time_input);
    tcase_add_test(tc, test_strnorm_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("tfidf");
    tcase_add_test(tc, test_tfidf_spec_example);
    tcase_add_test(tc, test_tfidf_modes);
    tcase_add_test(tc, test_tfidf_strings_batch);
    tcase_add_test(tc, test_tfidf_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("cast");
    tcase_add_test(tc, test_cast_to_string_formats);
    tcase_add_test(tc, test_cast_string_round_trip);
    tcase_add_test(tc, test_cast_from_string);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
