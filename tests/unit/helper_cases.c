/* helper_cases.c — the checks and data the operator case files share (see
 * helper_cases.h). Single operators only: sessions and whole graphs are
 * tested elsewhere.
 */
#include "helper_cases.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnnl_util.h"

double atol_sum(int64_t k)
{
    return 1.19e-7 * (double)(k > 1 ? k : 1);
}

/* ---- data ------------------------------------------------------------------- */

int64_t numel_of(int rank, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

float *rand_f32(int64_t n, float lo, float hi, uint64_t *seed)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    opc_fill_uniform(p, n, lo, hi, seed);
    return p;
}

void iota_f32(float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)i;
}

bool any_nonzero(const int64_t *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i])
            return true;
    return false;
}

/* ---- running ---------------------------------------------------------------- */

uint64_t run_checked(op_case *c, int reference, int path, const char *what)
{
    uint64_t before = ortc_dnnl_exec_count();
    ortc_status st = opc_run(c, reference, THREADS);
    ck_assert_msg(st == ORTC_STATUS_OK, "%s: %s", what, c->err.msg);
    uint64_t ran = ortc_dnnl_exec_count() - before;
    if (path == PATH_DNNL)
        ck_assert_msg(ran > 0, "%s: expected a oneDNN primitive, but the plain-C kernel ran", what);
    else if (path == PATH_PLAIN)
        ck_assert_msg(ran == 0, "%s: expected the plain-C kernel, but oneDNN ran", what);
    return ran;
}

int run_ok(op_case *c, int reference)
{
    ortc_status st = opc_run(c, reference, 1);
    ck_assert_msg(st == OK, "%s (reference=%d): %s", ortc_status_name(st), reference, c->err.msg);
    return 1;
}

void declared(op_case *c, int *view_out, int *inplace_out)
{
    ortc_node *n = c->node;
    n->op = ortc_registry_find("", n->op_type, n->opset);
    ck_assert_ptr_nonnull(n->op);
    ortc_tensor in_t[OPC_MAX_IO], out_t[OPC_MAX_IO];
    ortc_tensor *in[OPC_MAX_IO] = {0}, *out[OPC_MAX_IO] = {0};
    int view[OPC_MAX_IO], inplace[OPC_MAX_IO];
    memset(out_t, 0, sizeof out_t);
    for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i]) {
            in_t[i] = c->in[i];
            if (!c->in_const[i])
                in_t[i].data = NULL;
            in[i] = &in_t[i];
        }
    for (int k = 0; k < n->n_outputs; k++) {
        out[k] = n->outputs[k] ? &out_t[k] : NULL;
        view[k] = inplace[k] = -1;
    }
    ortc_opctx ctx = {.node = n,
                      .n_in = n->n_inputs,
                      .n_out = n->n_outputs,
                      .in = in,
                      .out = out,
                      .view = view,
                      .inplace = inplace,
                      .err = &c->err};
    ck_assert_msg(n->op->infer(&ctx) == OK, "infer: %s", c->err.msg);
    ck_assert_msg(ortc_op_prepare(n->op, &ctx) == OK, "prepare: %s", c->err.msg);
    *view_out = view[0];
    *inplace_out = inplace[0];
}

int declared_view(op_case *c)
{
    int view, inplace;
    declared(c, &view, &inplace);
    return view;
}

/* ---- checks ------------------------------------------------------------------ */

void check_shape(const op_case *c, int rank, const int64_t *dims, const char *what)
{
    ck_assert_msg(c->out[0].rank == rank, "%s: output rank %d, expected %d", what, c->out[0].rank,
                  rank);
    for (int i = 0; i < rank; i++)
        ck_assert_msg(c->out[0].dims[i] == dims[i], "%s: output dim %d is %lld, expected %lld",
                      what, i, (long long)c->out[0].dims[i], (long long)dims[i]);
}

void assert_close_x(const float *got, const float *exp, const float *x, int64_t n, double rtol,
                    double atol, const char *what)
{
    int64_t worst = -1, bad = 0;
    double worst_excess = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], e = exp[i];
        if ((isnan(g) && isnan(e)) || g == e)
            continue;
        double err = fabs(g - e), tol = atol + rtol * fabs(e);
        if (err <= tol)
            continue;
        bad++;
        double excess = isnan(err) ? INFINITY : err - tol;
        if (worst < 0 || excess > worst_excess) {
            worst = i;
            worst_excess = excess;
        }
    }
    char xs[64] = "";
    if (worst >= 0 && x)
        snprintf(xs, sizeof xs, "x %.9g ", x[worst]);
    ck_assert_msg(worst < 0,
                  "%s: %lld of %lld elements differ, worst at %lld: %sgot %.9g expected %.9g "
                  "(rtol %g atol %g)",
                  what, (long long)bad, (long long)n, (long long)worst, xs, got[worst], exp[worst],
                  rtol, atol);
}

void expect_both(op_case *c, const float *exp, int rank, const int64_t *dims, double tol, int path,
                 const char *what)
{
    for (int reference = 1; reference >= 0; reference--) {
        char name[200];
        snprintf(name, sizeof name, "%s (%s)", what, reference ? "reference" : "prepare+run");
        run_checked(c, reference, reference ? PATH_PLAIN : path, name);
        check_shape(c, rank, dims, name);
        opc_assert_close(c->out[0].data, exp, numel_of(rank, dims), tol, tol, name);
    }
}

void compare_paths_n(op_case *c, int n_out, double rtol, double atol, int path, const char *what)
{
    char name[200];
    snprintf(name, sizeof name, "%s (reference)", what);
    run_checked(c, 1, PATH_PLAIN, name);
    float *exp[OPC_MAX_IO] = {0};
    ortc_tensor ref[OPC_MAX_IO]; /* shapes only: the next run frees the data */
    for (int k = 0; k < n_out; k++) {
        ref[k] = c->out[k];
        size_t bytes = ortc_tensor_bytes(&ref[k]);
        exp[k] = malloc(bytes ? bytes : 1);
        ck_assert_ptr_nonnull(exp[k]);
        memcpy(exp[k], ref[k].data, bytes);
    }
    snprintf(name, sizeof name, "%s (oneDNN path)", what);
    run_checked(c, 0, path, name);
    for (int k = 0; k < n_out; k++) {
        char s1[128], s2[128];
        if (n_out > 1)
            snprintf(name, sizeof name, "%s, output %d", what, k);
        else
            snprintf(name, sizeof name, "%s", what);
        ortc_shape_str(s1, sizeof s1, c->out[k].rank, c->out[k].dims);
        ortc_shape_str(s2, sizeof s2, ref[k].rank, ref[k].dims);
        ck_assert_msg(strcmp(s1, s2) == 0, "%s: oneDNN output shape %s, reference %s", name, s1,
                      s2);
        /* an element-wise op's input, shown next to the worst element */
        int64_t n = ortc_tensor_numel(&ref[k]);
        const float *x =
            c->in[0].dtype == F32 && ortc_tensor_numel(&c->in[0]) == n ? c->in[0].data : NULL;
        assert_close_x(c->out[k].data, exp[k], x, n, rtol, atol, name);
        free(exp[k]);
    }
}

void compare_paths(op_case *c, double rtol, double atol, int path, const char *what)
{
    compare_paths_n(c, 1, rtol, atol, path, what);
}

void expect_error(op_case *c, ortc_status want, const char *needle, const char *what)
{
    ortc_status st = opc_run(c, 1, 1);
    ck_assert_msg(st == want, "%s: status %s, expected %s (message: %s)", what,
                  ortc_status_name(st), ortc_status_name(want), c->err.msg);
    ck_assert_msg(strstr(c->err.msg, "'n0'") != NULL, "%s: message does not name node 'n0': %s",
                  what, c->err.msg);
    if (needle)
        ck_assert_msg(strstr(c->err.msg, needle) != NULL, "%s: message lacks \"%s\": %s", what,
                      needle, c->err.msg);
}

void expect_status(op_case *c, ortc_status got, ortc_status want, const char *fact)
{
    ck_assert_msg(got == want, "status %s, expected %s (message: %s)", ortc_status_name(got),
                  ortc_status_name(want), c->err.msg);
    ck_assert_msg(strstr(c->err.msg, "'n0'"), "message does not name the node: %s", c->err.msg);
    ck_assert_msg(strstr(c->err.msg, fact), "message lacks \"%s\": %s", fact, c->err.msg);
}

void expect_shape(const ortc_tensor *t, ortc_dtype dtype, int rank, const int64_t *dims,
                  const char *what)
{
    char got[160], exp[160];
    ortc_shape_str(got, sizeof got, t->rank, t->dims);
    ortc_shape_str(exp, sizeof exp, rank, dims);
    ck_assert_msg(t->dtype == dtype && t->rank == rank && strcmp(got, exp) == 0,
                  "%s: output is %s %s, expected %s %s", what, ortc_dtype_name(t->dtype), got,
                  ortc_dtype_name(dtype), exp);
}

/* Element i of p (of dtype dt) as text, for messages. */
static void fmt_elem(char *buf, size_t len, ortc_dtype dt, const void *p, int64_t i)
{
    switch (dt) {
    case F32: snprintf(buf, len, "%.9g", ((const float *)p)[i]); break;
    case F64: snprintf(buf, len, "%.17g", ((const double *)p)[i]); break;
    case F16:
    case BF16: snprintf(buf, len, "0x%04x", ((const uint16_t *)p)[i]); break;
    case I8: snprintf(buf, len, "%d", ((const int8_t *)p)[i]); break;
    case I16: snprintf(buf, len, "%d", ((const int16_t *)p)[i]); break;
    case I32: snprintf(buf, len, "%d", ((const int32_t *)p)[i]); break;
    case I64: snprintf(buf, len, "%lld", (long long)((const int64_t *)p)[i]); break;
    case U8:
    case BOOL: snprintf(buf, len, "%u", ((const uint8_t *)p)[i]); break;
    case U16: snprintf(buf, len, "%u", ((const uint16_t *)p)[i]); break;
    case U32: snprintf(buf, len, "%u", ((const uint32_t *)p)[i]); break;
    case U64: snprintf(buf, len, "%llu", (unsigned long long)((const uint64_t *)p)[i]); break;
    case STR: {
        const char *s = ((char *const *)p)[i];
        snprintf(buf, len, s ? "\"%s\"" : "NULL", s);
        break;
    }
    default: {
        /* raw bytes, first 8 */
        size_t es = ortc_dtype_size(dt), n = es < 8 ? es : 8;
        buf[0] = 0;
        for (size_t b = 0; b < n && 3 * b + 3 < len; b++)
            snprintf(buf + 3 * b, len - 3 * b, "%02x ", ((const unsigned char *)p)[i * es + b]);
    }
    }
}

void expect_data(const ortc_tensor *t, ortc_dtype dtype, const void *exp, int64_t n,
                 const char *what)
{
    ck_assert_msg(t->dtype == dtype, "%s: dtype %s, expected %s", what, ortc_dtype_name(t->dtype),
                  ortc_dtype_name(dtype));
    ck_assert_msg(ortc_tensor_numel(t) == n, "%s: %lld elements, expected %lld", what,
                  (long long)ortc_tensor_numel(t), (long long)n);
    size_t es = ortc_dtype_size(dtype);
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++) {
        int differ;
        if (dtype == STR) {
            const char *g = ((char *const *)t->data)[i], *e = ((char *const *)exp)[i];
            differ = !g || !e ? g != e : strcmp(g, e) != 0;
        } else {
            differ = memcmp((const char *)t->data + i * es, (const char *)exp + i * es, es) != 0;
        }
        if (differ) {
            if (first < 0)
                first = i;
            bad++;
        }
    }
    char g[64] = "", e[64] = "";
    if (first >= 0) {
        fmt_elem(g, sizeof g, dtype, t->data, first);
        fmt_elem(e, sizeof e, dtype, exp, first);
    }
    ck_assert_msg(bad == 0, "%s: %lld of %lld elements differ; first at %lld: got %s expected %s",
                  what, (long long)bad, (long long)n, (long long)first, g, e);
}
