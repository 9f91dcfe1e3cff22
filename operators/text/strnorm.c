/* strnorm.c — StringNormalizer (10): drops stopwords from a [C] or [1, C]
 * string tensor, then lower- or upper-cases what is left. Locales: "C" and
 * "POSIX" change the case of ASCII letters only; "en_US" (the default, with
 * or without an encoding suffix) uses Unicode's default simple case mapping
 * (glibc's en_US.UTF-8, or C.UTF-8, whose tables are the same, where
 * en_US.UTF-8 is not installed); any other name is used when the machine
 * has it (name, then name.UTF-8), else refused. Case-insensitive stopword
 * matching compares lower-cased code points. Strings are UTF-8; an invalid
 * sequence is an error naming the element when it has to be decoded.
 * Unchanged strings are the input's (borrowed); changed ones live in the
 * node's string store (string_store.h).
 *
 * With stopwords the output's length depends on the input's strings: it is
 * computed when compiling if the input is a constant, else the output is a
 * value of data-dependent size (operator.h) made in the run's pool.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "error.h"
#include "operator.h"
#include "plain_util.h"
#include "string_store.h"
#include "utf8.h"

typedef enum { CASE_NONE, CASE_LOWER, CASE_UPPER } case_action;

typedef struct strnorm_state {
    case_action action;
    bool case_sensitive;
    bool ascii;   /* C/POSIX: ASCII letters only */
    locale_t loc; /* otherwise (owned) */
    char **stop;  /* the stopwords (lower-cased unless case-sensitive), strcmp-sorted */
    size_t n_stop;
    ortc_string_store store;
} strnorm_state;

static uint32_t map_case(const strnorm_state *s, uint32_t cp, bool upper)
{
    if (s->ascii) {
        if (upper && cp >= 'a' && cp <= 'z')
            return cp - 'a' + 'A';
        if (!upper && cp >= 'A' && cp <= 'Z')
            return cp - 'A' + 'a';
        return cp;
    }
    wint_t w = upper ? towupper_l((wint_t)cp, s->loc) : towlower_l((wint_t)cp, s->loc);
    /* a mapping outside Unicode's scalar values would not encode: keep cp */
    return (w > 0x10ffff || (w >= 0xd800 && w <= 0xdfff)) ? cp : (uint32_t)w;
}

static void strnorm_free(strnorm_state *s)
{
    if (!s)
        return;
    if (s->loc)
        freelocale(s->loc);
    for (size_t k = 0; k < s->n_stop; k++)
        free(s->stop[k]);
    free(s->stop);
    ortc_string_store_free(&s->store);
    free(s);
}

/* The case mapping the `locale` attribute names (see the file comment). */
static ortc_status strnorm_locale(ortc_opctx *c, strnorm_state *s)
{
    const char *name = ortc_node_attr_string(c->node, "locale", "");
    if (!*name)
        name = "en_US";
    if (!strcmp(name, "C") || !strcmp(name, "POSIX")) {
        s->ascii = true;
        return ORTC_STATUS_OK;
    }
    s->loc = newlocale(LC_CTYPE_MASK, name, (locale_t)0);
    if (!s->loc && !strchr(name, '.')) {
        char with[256];
        snprintf(with, sizeof with, "%.200s.UTF-8", name);
        s->loc = newlocale(LC_CTYPE_MASK, with, (locale_t)0);
    }
    if (!s->loc && !strncmp(name, "en_US", 5) && (name[5] == '\0' || name[5] == '.'))
        s->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!s->loc)
        return ortc_op_error(c, ORTC_STATUS_UNSUPPORTED,
                             "attribute 'locale' is \"%s\", which this machine does not have; "
                             "ortc supports C and POSIX (ASCII case), en_US (Unicode's default "
                             "case mapping) and the locales installed here",
                             name);
    return ORTC_STATUS_OK;
}

/* A copy of UTF-8 string w with every code point lower-cased; NULL on a
 * bad sequence (*bad set) or out of memory. */
static char *fold_copy(const strnorm_state *s, const char *w, bool *bad)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)w;
    for (int len; *p; p += len) {
        uint32_t cp;
        if (!(len = ortc_utf8_decode(p, &cp))) {
            *bad = true;
            return NULL;
        }
        n += (size_t)ortc_utf8_length(map_case(s, cp, false));
    }
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    p = (const unsigned char *)w;
    for (int len; *p; p += len) {
        uint32_t cp = 0;
        len = ortc_utf8_decode(p, &cp);
        o += ortc_utf8_encode(map_case(s, cp, false), o);
    }
    *o = '\0';
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads the attributes into a new state (no string store yet). */
static ortc_status strnorm_build(ortc_opctx *c, strnorm_state **out)
{
    ortc_status st;
    *out = NULL;
    ORTC_TRY(ortc_op_check_attr(c, "case_change_action", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_op_check_attr(c, "is_case_sensitive", ORTC_ATTR_INT));
    ORTC_TRY(ortc_op_check_attr(c, "locale", ORTC_ATTR_STRING));
    ORTC_TRY(ortc_op_check_attr(c, "stopwords", ORTC_ATTR_STRINGS));
    strnorm_state *s = calloc(1, sizeof *s);
    if (!s)
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    const char *act = ortc_node_attr_string(c->node, "case_change_action", "NONE");
    if (!strcmp(act, "NONE")) {
        s->action = CASE_NONE;
    } else if (!strcmp(act, "LOWER")) {
        s->action = CASE_LOWER;
    } else if (!strcmp(act, "UPPER")) {
        s->action = CASE_UPPER;
    } else {
        strnorm_free(s);
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "attribute 'case_change_action' is \"%s\"; it must be NONE, LOWER "
                             "or UPPER",
                             act);
    }
    s->case_sensitive = ortc_node_attr_int(c->node, "is_case_sensitive", 0) != 0;
    if ((st = strnorm_locale(c, s))) {
        strnorm_free(s);
        return st;
    }
    const ortc_attr *a = ortc_node_attr(c->node, "stopwords");
    size_t n = a ? a->n : 0;
    s->stop = calloc(n + 1, sizeof *s->stop);
    if (!s->stop) {
        strnorm_free(s);
        return ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
    }
    for (size_t k = 0; k < n; k++) {
        bool bad = false;
        s->stop[k] = s->case_sensitive ? strdup(a->strings[k]) : fold_copy(s, a->strings[k], &bad);
        s->n_stop = k + 1;
        if (!s->stop[k]) {
            strnorm_free(s);
            return bad ? ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                                       "stopword %zu is not valid UTF-8", k)
                       : ortc_op_error(c, ORTC_STATUS_OUT_OF_MEMORY, "out of memory");
        }
    }
    qsort(s->stop, s->n_stop, sizeof *s->stop, cmp_str);
    *out = s;
    return ORTC_STATUS_OK;
}

/* Compares w, lower-cased, with a folded stopword in code point order
 * (which is strcmp's order on UTF-8). w must be valid UTF-8. */
static int cmp_folded(const strnorm_state *s, const char *w, const char *stop)
{
    const unsigned char *p = (const unsigned char *)w, *q = (const unsigned char *)stop;
    for (;;) {
        uint32_t a = 0, b = 0;
        int la = *p ? ortc_utf8_decode(p, &a) : 0, lb = *q ? ortc_utf8_decode(q, &b) : 0;
        if (!la || !lb)
            return la ? 1 : lb ? -1 : 0; /* one ended (or both) */
        a = map_case(s, a, false);
        if (a != b)
            return a < b ? -1 : 1;
        p += la;
        q += lb;
    }
}

/* Whether w is valid UTF-8. */
static bool valid_utf8(const char *w)
{
    const unsigned char *p = (const unsigned char *)w;
    for (int len; *p; p += len) {
        uint32_t cp;
        if (!(len = ortc_utf8_decode(p, &cp)))
            return false;
    }
    return true;
}

/* Whether w is a stopword. */
static bool is_stopword(const strnorm_state *s, const char *w)
{
    size_t lo = 0, hi = s->n_stop;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = s->case_sensitive ? strcmp(w, s->stop[mid]) : cmp_folded(s, w, s->stop[mid]);
        if (!r)
            return true;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

static const char *elem(const ortc_tensor *x, int64_t i)
{
    const char *w = ((char *const *)x->data)[i];
    return w ? w : "";
}

/* Checks the elements that will be decoded and counts those kept. */
static ortc_status count_kept(ortc_opctx *c, const strnorm_state *s, const ortc_tensor *x,
                              int64_t *kept)
{
    int64_t n = ortc_tensor_numel(x);
    *kept = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *w = elem(x, i);
        if ((!s->case_sensitive && s->n_stop) || s->action != CASE_NONE) {
            if (!valid_utf8(w))
                return ortc_op_error(c, ortc_plain_value_status(c, 0),
                                     "element %lld of input 0 '%s' is not valid UTF-8",
                                     (long long)i, ortc_plain_input_name(c, 0));
        }
        if (!s->n_stop || !is_stopword(s, w))
            (*kept)++;
    }
    return ORTC_STATUS_OK;
}

/* Output shape: the input's with C replaced by the number of words kept
 * ([1] / [1, 1] holding "" when none is). */
static void set_kept_shape(ortc_opctx *c, int64_t kept)
{
    const ortc_tensor *x = c->in[0];
    int64_t dims[2] = {1, kept ? kept : 1};
    if (x->rank == 1)
        ortc_op_set_output(c, 0, ORTC_DTYPE_STRING, 1, &dims[1]);
    else
        ortc_op_set_output(c, 0, ORTC_DTYPE_STRING, 2, dims);
}

static ortc_status strnorm_infer(ortc_opctx *c)
{
    ortc_status st;
    ORTC_TRY(ortc_op_check_arity(c, 1, 1, 1, 1));
    ORTC_TRY(ortc_op_check_input(c, 0));
    const ortc_tensor *x = c->in[0];
    if (!(x->rank == 1 || (x->rank == 2 && x->dims[0] == 1))) {
        char sh[160];
        return ortc_op_error(c, ORTC_STATUS_INVALID_MODEL,
                             "input 0 '%s' has shape %s; StringNormalizer takes [C] or [1, C]",
                             ortc_plain_input_name(c, 0),
                             ortc_shape_str(sh, sizeof sh, x->rank, x->dims));
    }
    strnorm_state *s;
    ORTC_TRY(strnorm_build(c, &s));
    if (!s->n_stop) {
        strnorm_free(s);
        ortc_op_set_output(c, 0, ORTC_DTYPE_STRING, x->rank, x->dims);
        return ORTC_STATUS_OK;
    }
    if (!x->data) { /* the length is the data's */
        strnorm_free(s);
        int64_t dims[2] = {x->rank == 1 ? -1 : 1, -1};
        ortc_op_set_output_dynamic(c, 0, ORTC_DTYPE_STRING, x->rank, &dims[2 - x->rank]);
        return ORTC_STATUS_OK;
    }
    int64_t kept;
    st = count_kept(c, s, x, &kept);
    strnorm_free(s);
    if (!st)
        set_kept_shape(c, kept);
    return st;
}

static ortc_status strnorm_prepare(ortc_opctx *c)
{
    strnorm_state *s;
    ortc_status st = strnorm_build(c, &s);
    if (!st)
        c->state = s;
    return st;
}

static void strnorm_release(ortc_opctx *c)
{
    strnorm_free(c->state);
    c->state = NULL;
}

// y: (kept) or (1, kept) strings; x: (C) or (1, C)
static ortc_status strnorm_run(ortc_opctx *c)
{
    strnorm_state *s = c->state;
    const ortc_tensor *x = c->in[0];
    int64_t n = ortc_tensor_numel(x), kept;
    ORTC_TRY(count_kept(c, s, x, &kept));
    int64_t dims[2] = {1, kept ? kept : 1};
    char **out = ortc_op_output(c, 0, x->rank, &dims[2 - x->rank]); /* checks a static one */
    if (!out)
        return c->err->status;
    if (!kept) {
        out[0] = (char *)"";
        return ORTC_STATUS_OK;
    }
    if (s->action == CASE_NONE) { /* the input's own strings */
        for (int64_t i = 0, k = 0; i < n; i++)
            if (!s->n_stop || !is_stopword(s, elem(x, i)))
                out[k++] = (char *)elem(x, i);
        return ORTC_STATUS_OK;
    }
    /* case changed: measure, then write into the store */
    bool upper = s->action == CASE_UPPER;
    size_t bytes = 0;
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)elem(x, i);
        if (s->n_stop && is_stopword(s, (const char *)p))
            continue;
        for (int len; *p; p += len) {
            uint32_t cp = 0;
            len = ortc_utf8_decode(p, &cp); /* valid: count_kept checked */
            bytes += (size_t)ortc_utf8_length(map_case(s, cp, upper));
        }
        bytes++;
    }
    char *o;
    ORTC_TRY(ortc_string_store_reserve(c, &s->store, bytes, &o));
    for (int64_t i = 0, k = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)elem(x, i);
        if (s->n_stop && is_stopword(s, (const char *)p))
            continue;
        out[k++] = o;
        for (int len; *p; p += len) {
            uint32_t cp = 0;
            len = ortc_utf8_decode(p, &cp);
            o += ortc_utf8_encode(map_case(s, cp, upper), o);
        }
        *o++ = '\0';
    }
    return ORTC_STATUS_OK;
}

/* ---- table ------------------------------------------------------------------ */

const ortc_operator ortc_ops_strnorm[] = {
    ORTC_OP("StringNormalizer", 10, 10, .dtypes = ORTC_DT(STRING), .infer = strnorm_infer,
            .prepare = strnorm_prepare, .run = strnorm_run, .release = strnorm_release),
};
ORTC_OP_TABLE_END(strnorm);
