/* cli_test.c — `ortc test`: run ONNX backend test folders (model.onnx +
 * test_data_set_N/{input,output}_K.pb), each in its own child process so a
 * crash or hang still ends in a result line; compare outputs; summarise by
 * reason and operator; check results against a conformance manifest.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "manifest.h"

#define MAX_FILTERS 32
#define MAX_IO 64

typedef enum rkind {
    R_PASS = 0,
    R_WRONG,          /* fail: outputs differ */
    R_RUN_ERROR,      /* fail: run returned an error */
    R_LOAD_ERROR,     /* fail: the model or its data did not load/compile */
    R_CRASH,          /* fail: the child died */
    R_TIMEOUT,        /* fail: the child did not finish */
    R_UNSUPPORTED_OP, /* skip: operators ortc does not implement */
    R_UNSUPPORTED,    /* skip: another unsupported feature (type, dtype, attribute) */
    R_COUNT
} rkind;

static const char *const rkind_class[R_COUNT] = {
    "pass",  "wrong result", "run error",      "load error",
    "crash", "timeout",      "unsupported op", "unsupported feature"};

static bool is_skip(int k)
{
    return k == R_UNSUPPORTED_OP || k == R_UNSUPPORTED;
}

/* what a child reports through its pipe */
typedef struct wire_result {
    int kind;
    int n_sets;
    char detail[1536];
    char ops[768];   /* top-level op types, comma separated, unique */
    char unsup[768]; /* Op@opset, comma separated */
} wire_result;

typedef struct test_result {
    char *name;
    char *dir;
    wire_result w;
    double seconds;
} test_result;

typedef struct test_args {
    cli_common common;
    const char *paths[256];
    int n_paths;
    const char *filters[MAX_FILTERS];
    int n_filters;
    double rtol, atol;
    const char *manifest_path;
    const char *json_path;
    double timeout;
    bool quiet;
} test_args;

static void help(void)
{
    printf("usage: ortc test PATH... [options]\n"
           "\n"
           "Runs ONNX backend tests: each PATH is a test folder (model.onnx and\n"
           "test_data_set_N/input_K.pb, output_K.pb) or a folder of them. Every test runs in\n"
           "its own process and ends in one line: PASS, FAIL (wrong result, run error, load\n"
           "error, crash, timeout) or UNSUPPORTED (unsupported op@opset or feature).\n"
           "\n"
           "options:\n"
           "  --filter GLOB      run only tests whose name matches (repeatable)\n"
           "  --rtol R           relative tolerance (default 1e-3)\n"
           "  --atol A           absolute tolerance (default 1e-7)\n"
           "  --manifest FILE    expected results; exit 1 on a regression or on a test\n"
           "                     that now passes but is not marked pass. Entries with\n"
           "                     `check: bernoulli` (random outputs) are judged by their\n"
           "                     distribution over 2000 runs, not their values\n"
           "  --json FILE        write a machine-readable report\n"
           "  --timeout S        seconds per test before it counts as a hang (default 120)\n"
           "  --threads N        kernel threads per test\n"
           "  --precision P      fp32 (default) or bf16 (ortc run --help); bf16 rounds\n"
           "                     inputs and weights to 8 significant bits, so pass a\n"
           "                     tolerance to match (e.g. --rtol 2e-2 --atol 1e-3)\n"
           "  --quiet            print only failures and the summary\n");
}

/* ---- discovery ----------------------------------------------------------------- */

static bool is_test_dir(const char *dir)
{
    char p[4096];
    struct stat st;
    if (snprintf(p, sizeof p, "%s/model.onnx", dir) >= (int)sizeof p)
        return false;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *e = path + n;
    const char *s = e;
    while (s > path && s[-1] != '/')
        s--;
    static _Thread_local char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)(e - s), s);
    return buf;
}

static bool wanted(const test_args *a, const char *name)
{
    if (!a->n_filters)
        return true;
    for (int i = 0; i < a->n_filters; i++)
        if (fnmatch(a->filters[i], name, 0) == 0)
            return true;
    return false;
}

/* Appends test folders under path to *list. */
static int discover(const test_args *a, const char *path, char ***list, size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_error("%s: not a folder", path), -1;
    if (is_test_dir(path)) {
        if (wanted(a, base_name(path))) {
            char **nl = realloc(*list, (*n + 1) * sizeof *nl);
            if (!nl || !(nl[*n] = strdup(path)))
                return cli_error("out of memory"), -1;
            *list = nl;
            (*n)++;
        }
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return cli_error("%s: cannot list: %s", path, strerror(errno)), -1;
    char **found = NULL;
    size_t nf = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (!is_test_dir(sub) || !wanted(a, e->d_name))
            continue;
        char **nl = realloc(found, (nf + 1) * sizeof *nl);
        if (!nl || !(nl[nf] = strdup(sub))) {
            closedir(d);
            return cli_error("out of memory"), -1;
        }
        found = nl;
        nf++;
    }
    closedir(d);
    if (nf) /* found is NULL when nothing matched: qsort/memcpy must not see it */
        qsort(found, nf, sizeof *found, cmp_str);
    char **nl = realloc(*list, (*n + nf + 1) * sizeof *nl);
    if (!nl)
        return cli_error("out of memory"), -1;
    if (nf)
        memcpy(nl + *n, found, nf * sizeof *found);
    *list = nl;
    *n += nf;
    free(found);
    return 0;
}

/* ---- comparing tensors --------------------------------------------------------------- */

static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

static double bf16_to_double(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static bool is_float_dtype(ortc_dtype d)
{
    return d == ORTC_DTYPE_FLOAT || d == ORTC_DTYPE_DOUBLE || d == ORTC_DTYPE_FLOAT16 ||
           d == ORTC_DTYPE_BFLOAT16;
}

static double elem_double(const ortc_tensor *t, int64_t i)
{
    const void *p = t->data;
    switch (t->dtype) {
    case ORTC_DTYPE_FLOAT: return ((const float *)p)[i];
    case ORTC_DTYPE_DOUBLE: return ((const double *)p)[i];
    case ORTC_DTYPE_FLOAT16: return half_to_double(((const uint16_t *)p)[i]);
    case ORTC_DTYPE_BFLOAT16: return bf16_to_double(((const uint16_t *)p)[i]);
    default: return 0;
    }
}

static const char *index_str(char *buf, size_t len, const ortc_tensor *t, int64_t flat)
{
    int64_t idx[ORTC_MAX_RANK];
    for (int d = t->rank - 1; d >= 0; d--) {
        idx[d] = t->dims[d] ? flat % t->dims[d] : 0;
        flat = t->dims[d] ? flat / t->dims[d] : 0;
    }
    return cli_shape_str(buf, len, t->rank, idx);
}

static void elem_str(char *buf, size_t len, const ortc_tensor *t, int64_t i)
{
    const void *p = t->data;
    switch (t->dtype) {
    case ORTC_DTYPE_STRING: snprintf(buf, len, "\"%.40s\"", ((char *const *)p)[i]); break;
    case ORTC_DTYPE_INT64: snprintf(buf, len, "%lld", (long long)((const int64_t *)p)[i]); break;
    case ORTC_DTYPE_UINT64:
        snprintf(buf, len, "%llu", (unsigned long long)((const uint64_t *)p)[i]);
        break;
    case ORTC_DTYPE_INT32: snprintf(buf, len, "%d", ((const int32_t *)p)[i]); break;
    case ORTC_DTYPE_UINT32: snprintf(buf, len, "%u", ((const uint32_t *)p)[i]); break;
    case ORTC_DTYPE_INT16: snprintf(buf, len, "%d", ((const int16_t *)p)[i]); break;
    case ORTC_DTYPE_UINT16: snprintf(buf, len, "%u", ((const uint16_t *)p)[i]); break;
    case ORTC_DTYPE_INT8: snprintf(buf, len, "%d", ((const int8_t *)p)[i]); break;
    case ORTC_DTYPE_UINT8:
    case ORTC_DTYPE_BOOL: snprintf(buf, len, "%u", ((const uint8_t *)p)[i]); break;
    default: snprintf(buf, len, "%.9g", elem_double(t, i)); break;
    }
}

/* 0 when got has exp's dtype and shape; else 1 with a description in detail. */
static int compare_meta(const char *name, const ortc_tensor *got, const ortc_tensor *exp,
                        char *detail, size_t len)
{
    char gs[160], es[160];
    if (got->dtype != exp->dtype) {
        snprintf(detail, len, "output '%s' has dtype %s, expected %s", name,
                 ortc_dtype_name(got->dtype), ortc_dtype_name(exp->dtype));
        return 1;
    }
    bool same = got->rank == exp->rank;
    for (int d = 0; same && d < got->rank; d++)
        same = got->dims[d] == exp->dims[d];
    if (!same) {
        snprintf(detail, len, "output '%s' has shape %s, expected %s", name,
                 cli_shape_str(gs, sizeof gs, got->rank, got->dims),
                 cli_shape_str(es, sizeof es, exp->rank, exp->dims));
        return 1;
    }
    return 0;
}

/* 0 when equal within tolerance; else 1 with a description in detail. */
static int compare(const char *name, const ortc_tensor *got, const ortc_tensor *exp, double rtol,
                   double atol, char *detail, size_t len)
{
    char es[160];
    if (compare_meta(name, got, exp, detail, len))
        return 1;
    int64_t n = ortc_tensor_numel(exp), bad = 0, worst = -1;
    double worst_excess = -1;
    size_t es_size = ortc_dtype_size(exp->dtype);
    for (int64_t i = 0; i < n; i++) {
        double excess;
        if (is_float_dtype(exp->dtype)) {
            double g = elem_double(got, i), e = elem_double(exp, i);
            if (isnan(g) && isnan(e))
                continue;
            if (isinf(e) || isinf(g)) {
                if (g == e)
                    continue;
                excess = INFINITY;
            } else {
                double err = fabs(g - e), tol = atol + rtol * fabs(e);
                if (err <= tol)
                    continue;
                excess = isnan(err) ? INFINITY : err - tol;
            }
        } else if (exp->dtype == ORTC_DTYPE_STRING) {
            const char *g = ((char *const *)got->data)[i], *e = ((char *const *)exp->data)[i];
            if (g && e && !strcmp(g, e))
                continue;
            excess = 1;
        } else {
            if (!memcmp((const char *)got->data + (size_t)i * es_size,
                        (const char *)exp->data + (size_t)i * es_size, es_size))
                continue;
            excess = 1;
        }
        bad++;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (!bad)
        return 0;
    char idx[160], gv[64], ev[64];
    elem_str(gv, sizeof gv, got, worst);
    elem_str(ev, sizeof ev, exp, worst);
    snprintf(detail, len,
             "output '%s' %s: %lld of %lld elements differ; worst at %s: got %s expected %s "
             "(rtol %g atol %g)",
             name, cli_shape_str(es, sizeof es, exp->rank, exp->dims), (long long)bad, (long long)n,
             index_str(idx, sizeof idx, exp, worst), gv, ev, rtol, atol);
    return 1;
}

/* ---- statistical checks ---------------------------------------------------------------
 * For outputs drawn from a random generator (Bernoulli, Random*): the test
 * data's expected values come from numpy's generator, which no other
 * implementation reproduces, so a manifest entry may name a check instead
 * of the element-wise comparison (`check: NAME`, with a reason). A check
 * still requires the expected dtype and shape, and judges the values over
 * STAT_RUNS runs of the session on the same inputs. */

typedef enum stat_check {
    CHECK_VALUES = 0, /* element-wise comparison within rtol/atol */
    CHECK_BERNOULLI,  /* every output element is 0 or 1, 1 with probability input 0's element */
    CHECK_BERNOULLI_COMPLEMENT, /* the same with probability 1 - input 0's element */
} stat_check;

static const char *const stat_check_names[] = {"values", "bernoulli", "bernoulli_complement"};

/* 0 and the check called `name`, or -1 when there is none. */
static int stat_check_of(const char *name, stat_check *out)
{
    for (int k = 1; k < (int)(sizeof stat_check_names / sizeof *stat_check_names); k++)
        if (!strcmp(name, stat_check_names[k])) {
            *out = (stat_check)k;
            return 0;
        }
    return -1;
}

#define STAT_RUNS 2000
/* A rate farther than this many standard deviations from its expectation
 * fails: two-sided, about 6e-7 per element for a correct generator. */
#define STAT_SIGMAS 5.0

/* `check: bernoulli`: input 0 holds the probabilities p (numbers, the
 * outputs' shape); every element of every output of every run must be 0 or
 * 1, each element's rate of ones over STAT_RUNS runs within STAT_SIGMAS
 * sigma of p, and the total count within STAT_SIGMAS sigma of its
 * expectation. A constant output, values outside {0, 1}, a wrong rate, a
 * dtype or shape other than the test data's all fail. `complement`: the
 * probabilities are 1 - p (`check: bernoulli_complement`). 0: pass (detail
 * says how close), 1: fail (detail says why). */
static int check_bernoulli(ortc_session *s, const ortc_tensor *ins, size_t ni, ortc_tensor *outs,
                           size_t no, const ortc_value_info *oinfo, const ortc_tensor *const *exps,
                           bool complement, char *detail, size_t len)
{
    const char *cn = complement ? "bernoulli_complement" : "bernoulli";
    if (ni < 1 || !is_float_dtype(ins[0].dtype)) {
        snprintf(detail, len, "check %s: input 0 must hold the probabilities (a float tensor)", cn);
        return 1;
    }
    const ortc_tensor *p = &ins[0];
    int64_t n = ortc_tensor_numel(p);
    for (size_t o = 0; o < no; o++) {
        if (!exps[o])
            continue;
        if (compare_meta(oinfo[o].name, &outs[o], exps[o], detail, len))
            return 1;
        bool same = outs[o].rank == p->rank;
        for (int d = 0; same && d < p->rank; d++)
            same = outs[o].dims[d] == p->dims[d];
        if (!same) {
            snprintf(detail, len, "check %s: output '%s' must have input 0's shape", cn,
                     oinfo[o].name);
            return 1;
        }
    }
    double *ones = calloc((size_t)(n > 0 ? n : 1) * no, sizeof *ones);
    if (!ones) {
        snprintf(detail, len, "out of memory");
        return 1;
    }
    int rc = 0;
    for (int run = 0; run < STAT_RUNS && !rc; run++) {
        if (run > 0 && ortc_session_run(s, ins, ni, outs, no)) {
            snprintf(detail, len, "check %s: run %d: %s", cn, run, ortc_last_error());
            rc = 1;
        }
        for (size_t o = 0; o < no && !rc; o++)
            for (int64_t i = 0; i < n && exps[o]; i++) {
                double v = elem_double(&outs[o], i);
                if (v != 0 && v != 1) {
                    char idx[160];
                    snprintf(detail, len,
                             "check %s: output '%s' run %d: element %s is %g, not 0 or 1", cn,
                             oinfo[o].name, run + 1, index_str(idx, sizeof idx, p, i), v);
                    rc = 1;
                    break;
                }
                ones[o * (size_t)n + (size_t)i] += v;
            }
    }
    double worst = 0;
    for (size_t o = 0; o < no && !rc; o++) {
        if (!exps[o])
            continue;
        double total = 0, expect = 0, var = 0;
        for (int64_t i = 0; i < n && !rc; i++) {
            double pi = elem_double(p, i), k = ones[o * (size_t)n + (size_t)i];
            if (complement)
                pi = 1 - pi;
            double sd = sqrt(pi * (1 - pi) / STAT_RUNS), rate = k / STAT_RUNS;
            double dev = fabs(rate - pi);
            /* p of exactly 0 or 1 leaves no room: the rate must equal it */
            if (dev > STAT_SIGMAS * sd + 1e-12) {
                char idx[160];
                snprintf(detail, len,
                         "check %s: output '%s' element %s is 1 in %.0f of %d runs "
                         "(rate %.4f); its probability is %.4f (allowed +-%.4f, %g sigma)",
                         cn, oinfo[o].name, index_str(idx, sizeof idx, p, i), k, STAT_RUNS, rate,
                         pi, STAT_SIGMAS * sd, STAT_SIGMAS);
                rc = 1;
            }
            if (sd > 0 && dev / sd > worst)
                worst = dev / sd;
            total += k;
            expect += pi * STAT_RUNS;
            var += pi * (1 - pi) * STAT_RUNS;
        }
        if (!rc && fabs(total - expect) > STAT_SIGMAS * sqrt(var) + 1e-9) {
            snprintf(detail, len,
                     "check %s: output '%s' has %.0f ones in %d runs; %.1f expected "
                     "(allowed +-%.1f)",
                     cn, oinfo[o].name, total, STAT_RUNS, expect, STAT_SIGMAS * sqrt(var));
            rc = 1;
        }
    }
    if (!rc)
        snprintf(detail, len,
                 "check %s: %d runs, every element's rate of ones within %.2f sigma of its "
                 "probability",
                 cn, STAT_RUNS, worst);
    free(ones);
    return rc;
}

/* ---- one test, in the child ------------------------------------------------------------ */

static void set_result(wire_result *r, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_result(wire_result *r, int kind, const char *fmt, ...)
{
    r->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    for (char *p = r->detail; *p; p++) /* one line per test */
        if (*p == '\n')
            *p = ' ';
}

static void append_unique(char *list, size_t len, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; (p = strstr(p, item)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return;
    size_t used = strlen(list);
    if (used + n + 2 < len)
        snprintf(list + used, len - used, "%s%s", used ? "," : "", item);
}

/* Reads dir/prefix_K.pb for K = 0.. into v (up to MAX_IO), file K as the
 * type types[K] (a tensor past n_types); returns the count or -1. */
static int read_pbs(const char *dir, const char *prefix, const ortc_type *types, size_t n_types,
                    ortc_any *v, char **names, wire_result *r)
{
    int n = 0;
    for (; n < MAX_IO; n++) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s_%d.pb", dir, prefix, n);
        if (stat(p, &st) != 0)
            break;
        ortc_type ty = (size_t)n < n_types ? types[n] : ORTC_TYPE_TENSOR;
        ortc_status s = ortc_any_read_pb(p, ty, &v[n], &names[n]);
        if (s) {
            set_result(r, s == ORTC_STATUS_UNSUPPORTED ? R_UNSUPPORTED : R_LOAD_ERROR,
                       "%s_%d.pb: %s", prefix, n, ortc_last_error());
            return -1;
        }
    }
    return n;
}

/* Index of the file whose tensor is named `want`, else `pos` when all
 * files are unnamed or names don't match. */
static int match_io(char **names, int n, const char *want, int pos)
{
    for (int i = 0; i < n; i++)
        if (names[i] && names[i][0] && !strcmp(names[i], want))
            return i;
    return pos < n ? pos : -1;
}

static void free_pbs(ortc_any *v, char **names, int n)
{
    for (int i = 0; i < n; i++) {
        ortc_any_release(&v[i]);
        free(names[i]);
        names[i] = NULL;
    }
}

static int cmp_sets(const void *a, const void *b)
{
    /* test_data_set_2 < test_data_set_10 */
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static const char *type_word(ortc_type t)
{
    return t == ORTC_TYPE_SEQUENCE ? "a sequence" : t == ORTC_TYPE_NONE ? "nothing" : "a tensor";
}

/* 0 when the values are equal within tolerance (tensors as compare(),
 * sequences item by item); else 1 with a description in detail. */
static int compare_any(const char *name, const ortc_any *got, const ortc_any *exp, double rtol,
                       double atol, char *detail, size_t len)
{
    if (got->type != exp->type) {
        snprintf(detail, len, "output '%s' is %s, expected %s", name, type_word(got->type),
                 type_word(exp->type));
        return 1;
    }
    if (got->type == ORTC_TYPE_TENSOR)
        return compare(name, &got->tensor, &exp->tensor, rtol, atol, detail, len);
    if (got->type != ORTC_TYPE_SEQUENCE)
        return 0;
    if (got->length != exp->length) {
        snprintf(detail, len, "output '%s' is a sequence of %zu tensors, expected %zu", name,
                 got->length, exp->length);
        return 1;
    }
    for (size_t i = 0; i < got->length; i++) {
        char item[400];
        snprintf(item, sizeof item, "%s[%zu]", name, i);
        if (compare(item, &got->tensors[i], &exp->tensors[i], rtol, atol, detail, len))
            return 1;
    }
    return 0;
}

/* One data set through ortc_session_run (tensors only): outputs whose
 * shape depends on data are allocated by the run. */
static ortc_status run_tensors(ortc_session *s, const ortc_any *ins, size_t ni, ortc_any *outs,
                               size_t no)
{
    ortc_tensor in[MAX_IO], out[MAX_IO];
    bool dynamic[MAX_IO];
    for (size_t i = 0; i < ni; i++)
        in[i] = ins[i].tensor;
    memset(out, 0, sizeof out);
    ortc_status st = ortc_session_output_shapes(s, in, ni, out, no);
    for (size_t o = 0; !st && o < no; o++)
        if (cli_output_alloc(&out[o], &dynamic[o]))
            st = ORTC_STATUS_OUT_OF_MEMORY;
    if (!st)
        st = ortc_session_run(s, in, ni, out, no);
    for (size_t o = 0; o < no; o++) {
        if (st) {
            free(out[o].data);
            continue;
        }
        /* STRING outputs of a planned size point into the session: copy
         * them, so that every output is released the same way
         * (ortc_any_release; the run already copied a dynamic one's) */
        if (out[o].dtype == ORTC_DTYPE_STRING && !dynamic[o]) {
            char **sv = out[o].data;
            bool failed = false; /* after a failed copy the rest become NULL */
            for (int64_t i = 0; i < ortc_tensor_numel(&out[o]); i++)
                failed |= !(sv[i] = failed ? NULL : strdup(sv[i] ? sv[i] : ""));
            if (failed)
                st = ORTC_STATUS_OUT_OF_MEMORY;
        }
        outs[o].type = ORTC_TYPE_TENSOR;
        outs[o].tensor = out[o];
    }
    return st;
}

static void run_data_sets(const char *dir, ortc_session *s, const ortc_value_info *ins, size_t ni,
                          const ortc_value_info *outs, size_t no, const ortc_type *in_types,
                          const ortc_type *out_types, bool any_api, double rtol, double atol,
                          stat_check check, wire_result *r)
{
    DIR *d = opendir(dir);
    char **sets = NULL;
    size_t n_sets = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (!strncmp(e->d_name, "test_data_set_", 14)) {
            char **ns = realloc(sets, (n_sets + 1) * sizeof *ns);
            if (!ns)
                break;
            sets = ns;
            sets[n_sets++] = strdup(e->d_name);
        }
    if (d)
        closedir(d);
    qsort(sets, n_sets, sizeof *sets, cmp_sets);
    if (!n_sets)
        set_result(r, R_LOAD_ERROR, "no test_data_set_* folders");
    ortc_any in_files[MAX_IO], out_files[MAX_IO], ins_v[MAX_IO], outs_v[MAX_IO];
    char *in_names[MAX_IO] = {0}, *out_names[MAX_IO] = {0};
    for (size_t k = 0; k < n_sets && r->kind == R_PASS; k++) {
        char sd[4096];
        snprintf(sd, sizeof sd, "%s/%s", dir, sets[k]);
        memset(in_files, 0, sizeof in_files);
        memset(out_files, 0, sizeof out_files);
        memset(outs_v, 0, sizeof outs_v);
        int nin = read_pbs(sd, "input", in_types, ni, in_files, in_names, r);
        int nout = nin < 0 ? -1 : read_pbs(sd, "output", out_types, no, out_files, out_names, r);
        if (nin >= 0 && nout >= 0) {
            if ((size_t)nin != ni || ni > MAX_IO || no > MAX_IO) {
                set_result(r, R_LOAD_ERROR, "%s has %d input files; the model has %zu inputs",
                           sets[k], nin, ni);
            } else {
                for (size_t i = 0; i < ni; i++) {
                    int f = match_io(in_names, nin, ins[i].name, (int)i);
                    ins_v[i] = in_files[f];
                    /* ONNX 1.12 stores bfloat16 test tensors as uint16 */
                    if (ins[i].dtype == ORTC_DTYPE_BFLOAT16 &&
                        ins_v[i].tensor.dtype == ORTC_DTYPE_UINT16)
                        ins_v[i].tensor.dtype = ORTC_DTYPE_BFLOAT16;
                }
                ortc_status st = any_api ? ortc_session_run_any(s, ins_v, ni, outs_v, no)
                                         : run_tensors(s, ins_v, ni, outs_v, no);
                if (st) {
                    set_result(r, st == ORTC_STATUS_UNSUPPORTED ? R_UNSUPPORTED : R_RUN_ERROR,
                               "%s: %s", sets[k], ortc_last_error());
                } else {
                    const ortc_tensor *exps[MAX_IO] = {0};
                    for (size_t o = 0; o < no && r->kind == R_PASS; o++) {
                        int f = match_io(out_names, nout, outs[o].name, (int)o);
                        if (f < 0)
                            continue; /* no expected data for this output */
                        ortc_any *e = &out_files[f];
                        if (outs[o].dtype == ORTC_DTYPE_BFLOAT16 &&
                            e->tensor.dtype == ORTC_DTYPE_UINT16)
                            e->tensor.dtype = ORTC_DTYPE_BFLOAT16;
                        if (e->type == ORTC_TYPE_TENSOR)
                            exps[o] = &e->tensor;
                        char det[1024];
                        if (check == CHECK_VALUES &&
                            compare_any(outs[o].name, &outs_v[o], e, rtol, atol, det, sizeof det))
                            set_result(r, R_WRONG, "%s: %s", sets[k], det);
                    }
                    char det[1024];
                    if (check != CHECK_VALUES && r->kind == R_PASS && any_api) {
                        set_result(r, R_UNSUPPORTED, "%s: check %s needs tensor inputs and outputs",
                                   sets[k], stat_check_names[check]);
                    } else if (check != CHECK_VALUES && r->kind == R_PASS) {
                        ortc_tensor ins_t[MAX_IO], outs_t[MAX_IO];
                        for (size_t i = 0; i < ni; i++)
                            ins_t[i] = ins_v[i].tensor;
                        for (size_t o = 0; o < no; o++)
                            outs_t[o] = outs_v[o].tensor;
                        if (check_bernoulli(s, ins_t, ni, outs_t, no, outs, exps,
                                            check == CHECK_BERNOULLI_COMPLEMENT, det, sizeof det))
                            set_result(r, R_WRONG, "%s: %s", sets[k], det);
                        else
                            set_result(r, R_PASS, "%s: %s", sets[k], det);
                    }
                }
                for (size_t o = 0; o < no; o++)
                    ortc_any_release(&outs_v[o]);
            }
        }
        free_pbs(in_files, in_names, nin > 0 ? nin : 0);
        free_pbs(out_files, out_names, nout > 0 ? nout : 0);
        r->n_sets++;
        free(sets[k]);
        sets[k] = NULL;
    }
    for (size_t k = 0; k < n_sets; k++)
        free(sets[k]);
    free(sets);
}

static void run_one(const char *dir, int threads, int precision, double rtol, double atol,
                    stat_check check, wire_result *r)
{
    memset(r, 0, sizeof *r);
    r->kind = R_PASS;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ortc_model *m = NULL;
    ortc_status st = ortc_model_load(&m, path);
    if (st) {
        set_result(r, st == ORTC_STATUS_UNSUPPORTED ? R_UNSUPPORTED : R_LOAD_ERROR, "%s",
                   ortc_last_error());
        return;
    }
    ortc_model_info mi;
    ortc_model_get_info(m, &mi);
    for (size_t i = 0; i < mi.n_nodes; i++) {
        const char *op, *dom;
        ortc_model_node(m, i, &op, &dom, NULL);
        char item[160];
        snprintf(item, sizeof item, "%s%s%s", dom, dom[0] ? "." : "", op);
        append_unique(r->ops, sizeof r->ops, item);
    }
    ortc_unsupported un[64];
    size_t nu = ortc_model_unsupported(m, un, 64);
    if (nu) {
        for (size_t i = 0; i < nu && i < 64; i++) {
            char item[160];
            snprintf(item, sizeof item, "%s%s%s@%d", un[i].domain, un[i].domain[0] ? "." : "",
                     un[i].op_type, un[i].opset);
            append_unique(r->unsup, sizeof r->unsup, item);
        }
        set_result(r, R_UNSUPPORTED_OP, "unsupported op: %s", r->unsup);
        ortc_model_free(m);
        return;
    }
    size_t ni = ortc_model_input_count(m), no = ortc_model_output_count(m);
    if (ni > MAX_IO || no > MAX_IO) {
        set_result(r, R_UNSUPPORTED, "more than %d inputs or outputs", MAX_IO);
        ortc_model_free(m);
        return;
    }
    ortc_value_info ins[MAX_IO], outs[MAX_IO];
    ortc_type in_types[MAX_IO], out_types[MAX_IO];
    bool any_api = false; /* sequences or optionals: ortc_session_run_any */
    for (size_t i = 0; i < ni; i++) {
        ortc_model_input(m, i, &ins[i]);
        ortc_model_input_type(m, i, &in_types[i]);
        any_api |= in_types[i] != ORTC_TYPE_TENSOR;
    }
    for (size_t o = 0; o < no; o++) {
        ortc_model_output(m, o, &outs[o]);
        ortc_model_output_type(m, o, &out_types[o]);
        any_api |= out_types[o] != ORTC_TYPE_TENSOR;
    }
    ortc_options opt;
    ortc_options_init(&opt);
    opt.threads = threads;
    opt.precision = precision;
    ortc_session *s = NULL;
    /* the session owns the model from here; infos stay valid while it lives */
    st = ortc_session_create_from_model(&s, m, &opt);
    if (st) {
        set_result(r, st == ORTC_STATUS_UNSUPPORTED ? R_UNSUPPORTED : R_LOAD_ERROR, "%s",
                   ortc_last_error());
        return;
    }
    run_data_sets(dir, s, ins, ni, outs, no, in_types, out_types, any_api, rtol, atol, check, r);
    ortc_session_destroy(s);
}

/* ---- one test, from the parent: fork, wait with a timeout ---------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_isolated(const test_args *a, const char *dir, double rtol, double atol,
                         stat_check check, test_result *tr)
{
    int fds[2];
    wire_result *w = &tr->w;
    memset(w, 0, sizeof *w);
    double t0 = now();
    fflush(NULL);
    if (pipe(fds) != 0) {
        set_result(w, R_CRASH, "pipe: %s", strerror(errno));
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        set_result(w, R_CRASH, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        close(fds[0]);
        wire_result res;
        run_one(dir, a->common.threads, a->common.precision, rtol, atol, check, &res);
        const char *p = (const char *)&res;
        size_t left = sizeof res;
        while (left) {
            ssize_t k = write(fds[1], p, left);
            if (k <= 0)
                _exit(3);
            p += k;
            left -= (size_t)k;
        }
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    bool timed_out = false;
    while (got < sizeof *w) {
        double left = a->timeout - (now() - t0);
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pf = {fds[0], POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t k = read(fds[0], (char *)w + got, sizeof *w - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    tr->seconds = now() - t0;
    if (timed_out) {
        memset(w, 0, sizeof *w);
        set_result(w, R_TIMEOUT, "no result after %.0f s (killed)", a->timeout);
    } else if (got < sizeof *w) {
        memset(w, 0, sizeof *w);
        if (WIFSIGNALED(status))
            set_result(w, R_CRASH, "killed by signal %d (%s)", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
        else
            set_result(w, R_CRASH, "exited with status %d before reporting",
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    w->detail[sizeof w->detail - 1] = '\0';
    w->ops[sizeof w->ops - 1] = '\0';
    w->unsup[sizeof w->unsup - 1] = '\0';
}

/* ---- summary tables --------------------------------------------------------------------- */

typedef struct op_stat {
    char name[96];
    int tests, passed, failed, skipped;
} op_stat;

static op_stat *op_find(op_stat **arr, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*arr)[i].name, name))
            return &(*arr)[i];
    op_stat *na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na)
        return NULL;
    *arr = na;
    op_stat *o = &na[(*n)++];
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name);
    return o;
}

static int by_tests_desc(const void *a, const void *b)
{
    const op_stat *x = a, *y = b;
    return x->tests != y->tests ? y->tests - x->tests : strcmp(x->name, y->name);
}

/* Calls fn for each comma-separated item of list (in a copy). */
static void for_items(const char *list, void (*fn)(const char *, void *), void *ctx)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        fn(tok, ctx);
}

typedef struct tally_ctx {
    op_stat **arr;
    size_t *n;
    int kind;
    bool strip_opset;
} tally_ctx;

static void tally_op(const char *item, void *vctx)
{
    tally_ctx *c = vctx;
    char name[96];
    snprintf(name, sizeof name, "%s", item);
    if (c->strip_opset) {
        char *at = strchr(name, '@');
        if (at)
            *at = '\0';
    }
    op_stat *o = op_find(c->arr, c->n, name);
    if (!o)
        return;
    o->tests++;
    if (c->kind == R_PASS)
        o->passed++;
    else if (is_skip(c->kind))
        o->skipped++;
    else
        o->failed++;
}

static void print_op_line(const char *title, op_stat *arr, size_t n, int which)
{
    if (!n)
        return;
    qsort(arr, n, sizeof *arr, by_tests_desc);
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        int count = which == 0 ? arr[i].tests : arr[i].failed;
        if (!count)
            continue;
        if (!shown++)
            printf("%s:", title);
        printf(" %s %d%s", arr[i].name, count, shown % 8 == 0 ? "\n   " : "");
    }
    if (shown)
        printf("\n");
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static cJSON *split_json(const char *list)
{
    cJSON *arr = cJSON_CreateArray();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(tok));
    return arr;
}

static int write_json(const char *path, const test_args *a, test_result *res, size_t n,
                      const int *counts, const ortc_manifest *man)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "ortc_version", ORTC_VERSION_STRING);
    cJSON *paths = cJSON_AddArrayToObject(root, "paths");
    for (int i = 0; i < a->n_paths; i++)
        cJSON_AddItemToArray(paths, cJSON_CreateString(a->paths[i]));
    if (man) {
        cJSON_AddStringToObject(root, "manifest", man->path);
        if (man->suite)
            cJSON_AddStringToObject(root, "suite", man->suite);
        if (man->data_version)
            cJSON_AddStringToObject(root, "data_version", man->data_version);
    }
    cJSON_AddNumberToObject(root, "rtol", a->rtol);
    cJSON_AddNumberToObject(root, "atol", a->atol);
    cJSON *tests = cJSON_AddArrayToObject(root, "tests");
    for (size_t i = 0; i < n; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", res[i].name);
        int k = res[i].w.kind;
        cJSON_AddStringToObject(t, "result",
                                k == R_PASS  ? "pass"
                                : is_skip(k) ? "unsupported"
                                             : "fail");
        cJSON_AddStringToObject(t, "class", rkind_class[k]);
        cJSON_AddStringToObject(t, "detail", res[i].w.detail);
        cJSON_AddItemToObject(t, "ops", split_json(res[i].w.ops));
        cJSON_AddItemToObject(t, "unsupported_ops", split_json(res[i].w.unsup));
        cJSON_AddNumberToObject(t, "data_sets", res[i].w.n_sets);
        cJSON_AddNumberToObject(t, "seconds", res[i].seconds);
        cJSON_AddItemToArray(tests, t);
    }
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    int passed = counts[R_PASS], skipped = counts[R_UNSUPPORTED_OP] + counts[R_UNSUPPORTED];
    cJSON_AddNumberToObject(sum, "total", (double)n);
    cJSON_AddNumberToObject(sum, "passed", passed);
    cJSON_AddNumberToObject(sum, "failed", (int)n - passed - skipped);
    cJSON_AddNumberToObject(sum, "skipped", skipped);
    cJSON *by = cJSON_AddObjectToObject(sum, "by_class");
    for (int k = 0; k < R_COUNT; k++)
        cJSON_AddNumberToObject(by, rkind_class[k], counts[k]);
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *f = fopen(path, "w");
    if (!f || !txt || fputs(txt, f) < 0 || fputc('\n', f) < 0) {
        if (f)
            fclose(f);
        free(txt);
        return cli_error("%s: cannot write: %s", path, strerror(errno)), -1;
    }
    free(txt);
    if (fclose(f) != 0)
        return cli_error("%s: cannot write: %s", path, strerror(errno)), -1;
    return 0;
}

/* ---- main ------------------------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, test_args *a)
{
    memset(a, 0, sizeof *a);
    a->rtol = 1e-3;
    a->atol = 1e-7;
    a->timeout = 120;
    a->common.threads = 1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            a->quiet = true;
            continue;
        }
        /* before the common options: here --json takes a FILE */
        static const char *const names[] = {"--filter",   "--rtol", "--atol",
                                            "--manifest", "--json", "--timeout"};
        const char *val;
        int k = cli_opt_pick("test", argc, argv, &i, names, 6, &val);
        if (k == -2)
            return CLI_USAGE;
        if (k >= 0) {
            char *end;
            double x;
            switch (k) {
            case 0:
                if (a->n_filters == MAX_FILTERS)
                    return cli_usage_error("test", "too many --filter options");
                a->filters[a->n_filters++] = val;
                break;
            case 1:
            case 2:
            case 5:
                errno = 0;
                x = strtod(val, &end);
                if (errno || end == val || *end || !(x >= 0) || (k == 5 && x <= 0))
                    return cli_usage_error("test", "%s: '%s' is not a valid number", names[k], val);
                *(k == 1 ? &a->rtol : k == 2 ? &a->atol : &a->timeout) = x;
                break;
            case 3: a->manifest_path = val; break;
            case 4: a->json_path = val; break;
            }
            continue;
        }
        int r = cli_standard_opt("test", help, argc, argv, &i, &a->common);
        if (r == 1)
            continue;
        if (r)
            return r;
        if (cli_operand("test", argv[i], NULL, a->paths, &a->n_paths,
                        (int)(sizeof a->paths / sizeof *a->paths)))
            return CLI_USAGE;
    }
    if (!a->n_paths)
        return cli_usage_error("test", "give at least one test folder");
    return 0;
}

int cli_test(int argc, char **argv)
{
    test_args a;
    int r = parse_args(argc, argv, &a);
    if (r)
        return r < 0 ? CLI_OK : r;
    ortc_manifest man;
    bool have_man = false;
    char err[1024];
    if (a.manifest_path) {
        if (ortc_manifest_load(a.manifest_path, &man, err, sizeof err))
            return cli_error("%s", err);
        have_man = true;
        for (size_t i = 0; i < man.n; i++) {
            stat_check k;
            const ortc_manifest_entry *e = &man.entries[i];
            if (e->check && stat_check_of(e->check, &k)) {
                cli_error("%s:%d: %s: unknown check '%s' (known: bernoulli, bernoulli_complement)",
                          man.path, e->line, e->name, e->check);
                ortc_manifest_free(&man);
                return CLI_ERROR;
            }
        }
    }
    char **dirs = NULL;
    size_t n = 0;
    for (int i = 0; i < a.n_paths; i++)
        if (discover(&a, a.paths[i], &dirs, &n)) {
            if (have_man)
                ortc_manifest_free(&man);
            return CLI_ERROR;
        }
    if (!n) {
        if (have_man)
            ortc_manifest_free(&man);
        free(dirs);
        return cli_error("no tests found%s", a.n_filters ? " (check --filter)" : "");
    }
    if (a.common.precision && !ortc_precision_available(a.common.precision))
        fprintf(stderr, "ortc: warning: precision bf16: this CPU has no bfloat16 support oneDNN "
                        "can use (AVX-512 BF16 or AMX); the tests run fp32\n");
    test_result *res = calloc(n, sizeof *res);
    if (!res)
        return cli_error("out of memory");
    bool tty = isatty(2);
    int counts[R_COUNT] = {0};
    double t_start = now();
    for (size_t i = 0; i < n; i++) {
        res[i].dir = dirs[i];
        res[i].name = strdup(base_name(dirs[i]));
        const ortc_manifest_entry *e = have_man ? ortc_manifest_find(&man, res[i].name) : NULL;
        double rtol = e && e->rtol >= 0 ? e->rtol : a.rtol;
        double atol = e && e->atol >= 0 ? e->atol : a.atol;
        stat_check check = CHECK_VALUES;
        if (e && e->check)
            stat_check_of(e->check, &check); /* known: checked after loading */
        if (tty)
            fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, n, res[i].name);
        run_isolated(&a, dirs[i], rtol, atol, check, &res[i]);
        int k = res[i].w.kind;
        counts[k]++;
        if (tty)
            fprintf(stderr, "\r\033[K");
        if (k == R_PASS) {
            if (!a.quiet)
                printf("PASS         %s%s%s\n", res[i].name, res[i].w.detail[0] ? ": " : "",
                       res[i].w.detail); /* a statistical check says how it passed */
        } else {
            if (!a.quiet || !is_skip(k))
                printf("%-12s %s: %s%s%s\n", is_skip(k) ? "UNSUPPORTED" : "FAIL", res[i].name,
                       k == R_UNSUPPORTED_OP ? "" : rkind_class[k],
                       k == R_UNSUPPORTED_OP ? "" : ": ", res[i].w.detail);
        }
        fflush(stdout);
    }
    double elapsed = now() - t_start;

    /* by reason, by operator */
    printf("\nby reason:");
    for (int k = 0, first = 1; k < R_COUNT; k++)
        if (counts[k]) {
            printf("%s %s %d", first ? "" : ",", rkind_class[k], counts[k]);
            first = 0;
        }
    printf("\n");
    op_stat *unsup = NULL, *ops = NULL;
    size_t n_unsup = 0, n_ops = 0;
    for (size_t i = 0; i < n; i++) {
        tally_ctx cu = {&unsup, &n_unsup, res[i].w.kind, true};
        for_items(res[i].w.unsup, tally_op, &cu);
        tally_ctx co = {&ops, &n_ops, res[i].w.kind, false};
        for_items(res[i].w.ops, tally_op, &co);
    }
    print_op_line("ops unsupported (tests)", unsup, n_unsup, 0);
    print_op_line("ops in failing tests (tests)", ops, n_ops, 1);

    int rc = CLI_OK;
    int passed = counts[R_PASS], skipped = counts[R_UNSUPPORTED_OP] + counts[R_UNSUPPORTED];
    int failed = (int)n - passed - skipped;
    if (have_man) {
        int regress = 0, newly = 0, unlisted = 0;
        for (size_t i = 0; i < n; i++) {
            const ortc_manifest_entry *e = ortc_manifest_find(&man, res[i].name);
            int k = res[i].w.kind;
            if (!e) {
                if (!unlisted++)
                    printf("\nnot in %s:\n", man.path);
                printf("  %s (%s)\n", res[i].name, rkind_class[k]);
            } else if (e->expect == ORTC_EXPECT_PASS && k != R_PASS) {
                if (!regress++)
                    printf("\nREGRESSIONS (expected pass in %s):\n", man.path);
                printf("  %s: %s: %s\n", res[i].name, rkind_class[k], res[i].w.detail);
            }
        }
        for (size_t i = 0; i < n; i++) {
            const ortc_manifest_entry *e = ortc_manifest_find(&man, res[i].name);
            if (e && e->expect != ORTC_EXPECT_PASS && res[i].w.kind == R_PASS) {
                if (!newly++)
                    printf("\nnow passing but marked otherwise in %s (mark them pass):\n",
                           man.path);
                printf("  %s (was %s: %s)\n", res[i].name, ortc_expect_name(e->expect), e->reason);
            }
        }
        printf("\nmanifest %s: %d regression%s, %d newly passing, %d not listed\n", man.path,
               regress, regress == 1 ? "" : "s", newly, unlisted);
        if (regress || newly || unlisted)
            rc = CLI_ERROR;
    } else if (failed) {
        rc = CLI_ERROR;
    }
    if (a.json_path && write_json(a.json_path, &a, res, n, counts, have_man ? &man : NULL))
        rc = CLI_ERROR;
    printf("%zu tests in %.1f s\n", n, elapsed);
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    for (size_t i = 0; i < n; i++) {
        free(res[i].name);
        free(res[i].dir);
    }
    free(res);
    free(dirs);
    free(unsup);
    free(ops);
    if (have_man)
        ortc_manifest_free(&man);
    return rc;
}
