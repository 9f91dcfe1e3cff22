/* test_precision.c — the bf16 mode (ortc_options.precision): Conv and
 * MatMul/Gemm sessions in bf16 against the same models on the fp32
 * reference kernels, the steps and profile entries saying "bf16", the
 * options' checks, and the fallback to fp32 (with one warning) where oneDNN
 * cannot use bf16. The numeric cases need a CPU with AVX-512 BF16 (or AMX):
 * elsewhere they are skipped with a message (exit 77).
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper_cases.h"
#include "helper_common.h"
#include "helper_onnx_build.h"
#include "ortc/ortc.h"

/* bf16 keeps 8 significant bits: each input and weight is rounded with a
 * relative error of at most 2^-9 (about 2e-3), and the products are summed
 * in fp32. Over K products of random signs the rounding errors add like a
 * random walk, so an output is off by about 2 * 2^-9 * sqrt(K) typical
 * products: for K = 24 * 9 .. 64 (and the 5x5 conv reading the first one's
 * output) that is a few 1e-3 of the largest output. 1e-2 of max|reference|
 * allows that and still catches a wrong weight layout, a lost bias or a
 * skipped post-op (errors of the order of the output itself). */
#define BF16_TOL 1e-2
/* fp32 kernels agree with the reference to about 1e-6 of max|reference|;
 * bf16 rounding shows as more than this: the session did compute in bf16. */
#define BF16_MIN_ERR 1e-4

/* A constant of random floats in [-1, 1). */
static void add_const(Onnx__GraphProto *g, const char *name, const char *dims, int64_t n,
                      uint64_t *seed)
{
    float *v = rand_f32(n, -1.0f, 1.0f, seed);
    Onnx__TensorProto *t = pb_tensor_new(name, ORTC_DTYPE_FLOAT, dims);
    pb_tensor_raw(t, v, (size_t)n * sizeof *v);
    free(v);
    pb_add_init(g, t);
}

static uint8_t *pack(Onnx__ModelProto *m, size_t *len)
{
    uint8_t *bytes = pb_pack_model(m, len);
    onnx__model_proto__free_unpacked(m, NULL);
    return bytes;
}

/* x (2,24,15,15) -> Conv 3x3 (40 out, pads 1, bias) + Relu -> Conv 5x5 (32
 * out, pads 2, bias) -> y (2,32,15,15): two convolutions so a blocked fp32
 * value flows from one bf16 step into the next; 5x5 with these channels
 * would be this project's fp32 Winograd kernel in fp32 mode. And
 * x -> ConvTranspose 3x3 stride 2 (16 out, bias) -> t (2,16,31,31). */
static uint8_t *conv_model(size_t *len)
{
    uint64_t seed = 11;
    Onnx__ModelProto *m = pb_model_new(8, 13);
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "x", ORTC_DTYPE_FLOAT, "2,24,15,15");
    add_const(g, "w1", "40,24,3,3", 40 * 24 * 9, &seed);
    add_const(g, "b1", "40", 40, &seed);
    add_const(g, "w2", "32,40,5,5", 32 * 40 * 25, &seed);
    add_const(g, "b2", "32", 32, &seed);
    int64_t p1[4] = {1, 1, 1, 1}, p2[4] = {2, 2, 2, 2};
    pb_add_ints(pb_add_node(g, "Conv", "conv1", "x,w1,b1", "c1"), "pads", p1, 4);
    pb_add_node(g, "Relu", "relu1", "c1", "r1");
    pb_add_ints(pb_add_node(g, "Conv", "conv2", "r1,w2,b2", "y"), "pads", p2, 4);
    add_const(g, "wt", "24,16,3,3", 24 * 16 * 9, &seed);
    add_const(g, "bt", "16", 16, &seed);
    int64_t s2[2] = {2, 2};
    pb_add_ints(pb_add_node(g, "ConvTranspose", "deconv", "x,wt,bt", "t"), "strides", s2, 2);
    pb_add_output(g, "y", ORTC_DTYPE_FLOAT, "2,32,15,15");
    pb_add_output(g, "t", ORTC_DTYPE_FLOAT, "2,16,31,31");
    return pack(m, len);
}

/* y1 = MatMul(a (3,20,64), w (64,48) constant): a fully connected layer;
 * y2 = MatMul(p (2,20,32), q (2,32,24)): both operands at run time;
 * y3 = Gemm(g (64,10) transA, h (64,16) constant, c (16)): A read
 * transposed. */
static uint8_t *matmul_model(size_t *len)
{
    uint64_t seed = 23;
    Onnx__ModelProto *m = pb_model_new(8, 13);
    Onnx__GraphProto *g = m->graph;
    pb_add_input(g, "a", ORTC_DTYPE_FLOAT, "3,20,64");
    pb_add_input(g, "p", ORTC_DTYPE_FLOAT, "2,20,32");
    pb_add_input(g, "q", ORTC_DTYPE_FLOAT, "2,32,24");
    pb_add_input(g, "g", ORTC_DTYPE_FLOAT, "64,10");
    add_const(g, "w", "64,48", 64 * 48, &seed);
    add_const(g, "h", "64,16", 64 * 16, &seed);
    add_const(g, "c", "16", 16, &seed);
    pb_add_node(g, "MatMul", "fc", "a,w", "y1");
    pb_add_node(g, "MatMul", "bmm", "p,q", "y2");
    pb_add_int(pb_add_node(g, "Gemm", "gemm", "g,h,c", "y3"), "transA", 1);
    pb_add_output(g, "y1", ORTC_DTYPE_FLOAT, "3,20,48");
    pb_add_output(g, "y2", ORTC_DTYPE_FLOAT, "2,20,24");
    pb_add_output(g, "y3", ORTC_DTYPE_FLOAT, "10,16");
    return pack(m, len);
}

static ortc_session *precision_session(const uint8_t *bytes, size_t len, int precision,
                                       int reference)
{
    ortc_options o;
    ortc_options_init(&o);
    o.threads = 2;
    o.precision = precision;
    o.reference = reference;
    ortc_session *s = NULL;
    ck_assert_msg(ortc_session_create_from_buffer(&s, bytes, len, NULL, &o) == ORTC_STATUS_OK, "%s",
                  ortc_last_error());
    return s;
}

enum { MAX_IO = 4 };

/* Inputs of the session's model: random [-1, 1), shapes as declared. */
typedef struct io_set {
    size_t n_in, n_out;
    ortc_tensor in[MAX_IO], out[MAX_IO];
} io_set;

static void io_make(io_set *io, ortc_session *s)
{
    const ortc_model *m = ortc_session_model(s);
    io->n_in = ortc_model_input_count(m);
    io->n_out = ortc_model_output_count(m);
    uint64_t seed = 5;
    for (size_t i = 0; i < io->n_in + io->n_out; i++) {
        ortc_value_info vi;
        bool is_in = i < io->n_in;
        ck_assert_int_eq(is_in ? ortc_model_input(m, i, &vi)
                               : ortc_model_output(m, i - io->n_in, &vi),
                         ORTC_STATUS_OK);
        ortc_tensor *t = is_in ? &io->in[i] : &io->out[i - io->n_in];
        t->dtype = ORTC_DTYPE_FLOAT;
        t->rank = vi.rank;
        for (int d = 0; d < vi.rank; d++)
            t->dims[d] = vi.dims[d];
        int64_t n = numel_of(t->rank, t->dims);
        t->data = is_in ? rand_f32(n, -1.0f, 1.0f, &seed) : calloc((size_t)n, sizeof(float));
        ck_assert_ptr_nonnull(t->data);
    }
}

static void io_free(io_set *io)
{
    for (size_t i = 0; i < io->n_in; i++)
        free(io->in[i].data);
    for (size_t k = 0; k < io->n_out; k++)
        free(io->out[k].data);
}

static void run(ortc_session *s, io_set *io)
{
    ck_assert_msg(ortc_session_run(s, io->in, io->n_in, io->out, io->n_out) == ORTC_STATUS_OK, "%s",
                  ortc_session_last_error(s));
}

/* Every step of op type `op` in s's plan and last (profiled) run says
 * `precision`, and none runs a oneDNN reference implementation. Returns
 * how many such steps there are. */
static int check_steps(ortc_session *s, const char *op, const char *precision)
{
    ortc_plan_stats ps;
    ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
    int found = 0;
    for (size_t i = 0; i < ps.n_steps; i++) {
        ortc_plan_step_info si;
        ck_assert_int_eq(ortc_session_plan_step(s, i, &si), ORTC_STATUS_OK);
        ck_assert_ptr_nonnull(si.precision);
        if (strcmp(si.op_type, op))
            continue;
        found++;
        ck_assert_msg(!strcmp(si.precision, precision), "step '%s' (%s) computes in %s, want %s",
                      si.node_name, op, si.precision, precision);
    }
    ortc_profile_entry e[16];
    size_t n = ortc_session_profile(s, e, 16);
    ck_assert_msg(n > 0 && n <= 16, "profile of %zu entries", n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e[i].op_type, op))
            continue;
        ck_assert_msg(e[i].precision && !strcmp(e[i].precision, precision),
                      "profile: '%s' ran %s, want %s", e[i].node_name,
                      e[i].precision ? e[i].precision : "(null)", precision);
        ck_assert_msg(e[i].impl && strncmp(e[i].impl, "ref", 3) && !strstr(e[i].impl, "ref:"),
                      "profile: '%s' ran oneDNN's reference kernel %s", e[i].node_name,
                      e[i].impl ? e[i].impl : "(null)");
    }
    return found;
}

/* max|got - want| <= BF16_TOL * max|want| for every output, and above
 * BF16_MIN_ERR * max|want| for at least one (bf16 rounding shows). */
static void compare_bf16(const io_set *got, const io_set *want, const char *what)
{
    double worst_rel = 0;
    for (size_t k = 0; k < got->n_out; k++) {
        const float *g = got->out[k].data, *w = want->out[k].data;
        int64_t n = numel_of(got->out[k].rank, got->out[k].dims), at = 0;
        double max_ref = 0, max_err = 0;
        for (int64_t i = 0; i < n; i++) {
            max_ref = fmax(max_ref, fabs(w[i]));
            double e = fabs((double)g[i] - w[i]);
            if (e > max_err || e != e) {
                max_err = e;
                at = i;
            }
        }
        ck_assert_msg(max_ref > 0, "%s: output %zu is all zeros", what, k);
        double rel = max_err / max_ref;
        printf("%s: output %zu: max|bf16 - fp32 reference| = %.3e = %.2e x max|reference| "
               "(element %lld: %.6g vs %.6g)\n",
               what, k, max_err, rel, (long long)at, g[at], w[at]);
        ck_assert_msg(rel <= BF16_TOL,
                      "%s: output %zu: max|bf16 - reference| %.3e > %g x max|reference| %.3e "
                      "(element %lld: %.6g vs %.6g)",
                      what, k, max_err, BF16_TOL, max_ref, (long long)at, g[at], w[at]);
        worst_rel = fmax(worst_rel, rel);
    }
    ck_assert_msg(worst_rel > BF16_MIN_ERR,
                  "%s: bf16 results within %.2e of fp32: no sign of bf16 rounding", what,
                  worst_rel);
}

/* The model in bf16 against the fp32 reference kernels; `ops` must report
 * bf16 (at least `min_steps` steps in all). */
static void check_model_bf16(const uint8_t *bytes, size_t len, const char *const *ops, int n_ops,
                             int min_steps, const char *what)
{
    ortc_session *ref = precision_session(bytes, len, ORTC_PRECISION_FP32, 1);
    ortc_session *s = precision_session(bytes, len, ORTC_PRECISION_BF16, 0);
    io_set want, got;
    io_make(&want, ref);
    io_make(&got, s);
    run(ref, &want);
    ck_assert_int_eq(ortc_session_set_profiling(s, 1), ORTC_STATUS_OK);
    run(s, &got);
    compare_bf16(&got, &want, what);
    int steps = 0;
    for (int k = 0; k < n_ops; k++)
        steps += check_steps(s, ops[k], "bf16");
    ck_assert_int_ge(steps, min_steps);
    io_free(&want);
    io_free(&got);
    ortc_session_destroy(s);
    ortc_session_destroy(ref);
}

START_TEST(bf16_conv)
{
    size_t len;
    uint8_t *bytes = conv_model(&len);
    static const char *const ops[] = {"Conv", "ConvTranspose"};
    check_model_bf16(bytes, len, ops, 2, 3, "Conv 3x3 + Relu, Conv 5x5; ConvTranspose");
    /* conv1's output feeds only conv2, which reads it in bf16: conv1 writes
     * it in bf16 (conv.c, conv_dst_bf16_ok); the graph's outputs stay fp32 */
    ortc_session *s = precision_session(bytes, len, ORTC_PRECISION_BF16, 0);
    io_set io;
    io_make(&io, s);
    run(s, &io);
    ortc_plan_stats ps;
    ck_assert_int_eq(ortc_session_plan_stats(s, &ps), ORTC_STATUS_OK);
    int bf16_values = 0;
    for (size_t i = 0; i < ps.n_steps; i++) {
        ortc_plan_step_info si;
        ortc_plan_value_info vi;
        ck_assert_int_eq(ortc_session_plan_step(s, i, &si), ORTC_STATUS_OK);
        ck_assert_int_eq(ortc_session_plan_step_value(s, i, 1, 0, &vi), ORTC_STATUS_OK);
        bool is_bf16 = strstr(vi.layout, "bf16") != NULL;
        bf16_values += is_bf16;
        if (!strcmp(si.node_name, "conv1"))
            ck_assert_msg(is_bf16, "conv1's output is %s, want a bf16 layout", vi.layout);
        if (vi.place == ORTC_PLACE_OUTPUT)
            ck_assert_msg(!strcmp(vi.layout, "plain"), "graph output '%s' is %s", vi.name,
                          vi.layout);
    }
    ck_assert_int_eq(bf16_values, 1);
    io_free(&io);
    ortc_session_destroy(s);
    free(bytes);
}
END_TEST

START_TEST(bf16_matmul)
{
    size_t len;
    uint8_t *bytes = matmul_model(&len);
    static const char *const ops[] = {"MatMul", "Gemm"};
    check_model_bf16(bytes, len, ops, 2, 3, "MatMul (constant B, run-time B), Gemm transA");
    free(bytes);
}
END_TEST

/* The default stays fp32: same steps, and they say so. */
START_TEST(fp32_default_steps)
{
    size_t len;
    uint8_t *bytes = conv_model(&len);
    ortc_session *s = precision_session(bytes, len, ORTC_PRECISION_FP32, 0);
    io_set io;
    io_make(&io, s);
    ck_assert_int_eq(ortc_session_set_profiling(s, 1), ORTC_STATUS_OK);
    run(s, &io);
    ck_assert_int_eq(check_steps(s, "Conv", "fp32"), 2);
    io_free(&io);
    ortc_session_destroy(s);
    free(bytes);
}
END_TEST

/* Reference kernels are fp32 whatever the option says: bit for bit the
 * reference session's results. */
START_TEST(bf16_ignored_in_reference_mode)
{
    size_t len;
    uint8_t *bytes = matmul_model(&len);
    ortc_session *a = precision_session(bytes, len, ORTC_PRECISION_FP32, 1);
    ortc_session *b = precision_session(bytes, len, ORTC_PRECISION_BF16, 1);
    io_set x, y;
    io_make(&x, a);
    io_make(&y, b);
    run(a, &x);
    ck_assert_int_eq(ortc_session_set_profiling(b, 1), ORTC_STATUS_OK);
    run(b, &y);
    for (size_t k = 0; k < x.n_out; k++)
        ck_assert_msg(!memcmp(x.out[k].data, y.out[k].data,
                              (size_t)numel_of(x.out[k].rank, x.out[k].dims) * sizeof(float)),
                      "output %zu differs from the fp32 reference", k);
    check_steps(b, "MatMul", "fp32");
    io_free(&x);
    io_free(&y);
    ortc_session_destroy(a);
    ortc_session_destroy(b);
    free(bytes);
}
END_TEST

START_TEST(precision_value_checked)
{
    size_t len;
    uint8_t *bytes = matmul_model(&len);
    ortc_options o;
    ortc_options_init(&o);
    ck_assert_int_eq(o.precision, ORTC_PRECISION_FP32);
    o.precision = 7;
    ortc_session *s = NULL;
    ck_assert_int_eq(ortc_session_create_from_buffer(&s, bytes, len, NULL, &o),
                     ORTC_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(s);
    ck_assert_msg(strstr(ortc_last_error(), "precision 7"), "message: %s", ortc_last_error());
    ck_assert_int_eq(ortc_precision_available(ORTC_PRECISION_FP32), 1);
    ck_assert_int_eq(ortc_precision_available(7), 0);
    free(bytes);
}
END_TEST

/* Where oneDNN may not use bf16 (ONEDNN_MAX_CPU_ISA below avx512_core_bf16,
 * which every CPU honours), `ortc info --precision bf16` warns once and
 * every step computes in fp32. */
START_TEST(bf16_unavailable_falls_back)
{
    const char *cli = getenv("ORTC_CLI");
    ck_assert_msg(cli != NULL, "ORTC_CLI is not set (run through ctest)");
    char dir[] = "/tmp/ortc_prec_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char model[300], out[300], err[300];
    snprintf(model, sizeof model, "%s/conv.onnx", dir);
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    size_t len;
    uint8_t *bytes = conv_model(&len);
    write_file(model, bytes, len);
    free(bytes);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI", 1);
        execl(cli, cli, "info", model, "--precision", "bf16", (char *)NULL);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    static char so[1 << 16], se[1 << 16];
    read_text(out, so, sizeof so);
    read_text(err, se, sizeof se);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ortc info failed: %s", se);
    const char *warn = strstr(se, "no bfloat16 support");
    ck_assert_msg(warn, "no warning; stderr: %s", se);
    ck_assert_msg(!strstr(warn + 1, "no bfloat16 support"), "warned more than once: %s", se);
    ck_assert_msg(strstr(so, "precision: requested bf16; steps: fp32 3\n"), "stdout: %s", so);
    unlink(model);
    unlink(out);
    unlink(err);
    rmdir(dir);
}
END_TEST

/* Whether /proc/cpuinfo lists a bf16 dot-product flag (AVX-512 BF16 or AMX
 * BF16); -1 when it cannot be read. */
static int cpuinfo_has_bf16(void)
{
    static char buf[1 << 18];
    read_text("/proc/cpuinfo", buf, sizeof buf);
    if (!buf[0])
        return -1;
    return strstr(buf, " avx512_bf16") || strstr(buf, " amx_bf16");
}

int main(void)
{
    Suite *s = suite_create("precision");
    TCase *tc = tcase_create("precision");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fp32_default_steps);
    tcase_add_test(tc, bf16_ignored_in_reference_mode);
    tcase_add_test(tc, precision_value_checked);
    tcase_add_test(tc, bf16_unavailable_falls_back);
    bool bf16 = ortc_precision_available(ORTC_PRECISION_BF16);
    int flag = cpuinfo_has_bf16();
    bool limited = getenv("ONEDNN_MAX_CPU_ISA") || getenv("DNNL_MAX_CPU_ISA");
    if (bf16) {
        tcase_add_test(tc, bf16_conv);
        tcase_add_test(tc, bf16_matmul);
    }
    suite_add_tcase(s, tc);
    int rc = run_suite(s);
    if (flag == 1 && !limited && !bf16) {
        fprintf(stderr, "FAIL: /proc/cpuinfo lists avx512_bf16/amx_bf16 but "
                        "ortc_precision_available(BF16) is 0\n");
        return EXIT_FAILURE;
    }
    if (rc == EXIT_SUCCESS && !bf16) {
        printf("SKIP: bf16 numerics (bf16_conv, bf16_matmul): oneDNN has no bfloat16 kernels "
               "for this CPU (no AVX-512 BF16 or AMX%s); the other cases passed\n",
               limited ? ", or ONEDNN_MAX_CPU_ISA limits it" : "");
        return 77;
    }
    return rc;
}
