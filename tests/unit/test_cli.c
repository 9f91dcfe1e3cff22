/* test_cli.c — the `ortc` command's Check runner: exit codes (0 / 1 model,
 * input or runtime error / 2 usage) and that each error is one line naming
 * the problem; a --input/--output-dir round trip and `ortc info`'s plan.
 * Models are built here with protobuf-c and written to a temp folder.
 */
#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helper_common.h"
#include "helper_onnx_build.h"
#include "npy.h"

static char dir[256];
static char out_buf[1 << 16], err_buf[1 << 16];

static const char *cli(void)
{
    const char *p = getenv("ORTC_CLI");
    ck_assert_msg(p != NULL, "ORTC_CLI is not set (run through ctest)");
    return p;
}

/* Runs the CLI with args (NULL-terminated); returns its exit status and
 * leaves stdout/stderr in out_buf/err_buf. */
static int run_cli(const char *first, ...)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = cli();
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    char out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    read_text(out_path, out_buf, sizeof out_buf);
    read_text(err_path, err_buf, sizeof err_buf);
    ck_assert_msg(WIFEXITED(status), "ortc %s died with signal %d; stderr: %s", first,
                  WTERMSIG(status), err_buf);
    return WEXITSTATUS(status);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void expect_one_line_error(int rc, const char *must1, const char *must2)
{
    ck_assert_msg(rc == 1, "exit %d (want 1); stderr: %s", rc, err_buf);
    ck_assert_msg(count_lines(err_buf) == 1, "want one line on stderr, got: %s", err_buf);
    ck_assert_msg(strstr(err_buf, must1), "stderr lacks '%s': %s", must1, err_buf);
    if (must2)
        ck_assert_msg(strstr(err_buf, must2), "stderr lacks '%s': %s", must2, err_buf);
}

/* x: float [1,4] -> Relu -> y */
static void write_relu_model(const char *path)
{
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "1,4");
    pb_add_output(m->graph, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "1,4");
    pb_add_node(m->graph, "Relu", "relu", "x", "y");
    size_t len;
    uint8_t *b = pb_pack_model(m, &len);
    onnx__model_proto__free_unpacked(m, NULL);
    write_file(path, b, len);
    free(b);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ortc_test_cli_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static const char *path_in(const char *name)
{
    static char buf[4][300];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

START_TEST(usage_errors_exit_2)
{
    ck_assert_int_eq(run_cli(NULL), 2);
    ck_assert_int_eq(run_cli("frobnicate", NULL), 2);
    ck_assert_msg(strstr(err_buf, "frobnicate"), "%s", err_buf);
    ck_assert_int_eq(run_cli("run", NULL), 2);
    ck_assert_int_eq(run_cli("run", "m.onnx", "--threads", "zero", NULL), 2);
    ck_assert_int_eq(run_cli("run", "m.onnx", "--bogus", NULL), 2);
    ck_assert_int_eq(run_cli("info", NULL), 2);
}
END_TEST

START_TEST(help_and_version_exit_0)
{
    ck_assert_int_eq(run_cli("--version", NULL), 0);
    ck_assert_msg(strstr(out_buf, "ortc "), "%s", out_buf);
    ck_assert_int_eq(run_cli("help", NULL), 0);
    ck_assert_int_eq(run_cli("run", "--help", NULL), 0);
    ck_assert_msg(strstr(out_buf, "--input"), "%s", out_buf);
    ck_assert_int_eq(run_cli("info", "--help", NULL), 0);
}
END_TEST

START_TEST(missing_model_file)
{
    int rc = run_cli("run", path_in("nope.onnx"), path_in("x.png"), NULL);
    expect_one_line_error(rc, "nope.onnx", "No such file");
}
END_TEST

START_TEST(truncated_model)
{
    write_relu_model(path_in("m.onnx"));
    FILE *f = fopen(path_in("m.onnx"), "rb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_file(path_in("t.onnx"), buf, n / 2);
    int rc = run_cli("run", path_in("t.onnx"), "--input", path_in("x.npy"), NULL);
    expect_one_line_error(rc, "t.onnx", NULL);
}
END_TEST

START_TEST(unsupported_ops_are_all_named_before_running)
{
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "1,4");
    pb_add_output(m->graph, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "1,4");
    pb_add_node(m->graph, "FancyOp", "first", "x", "a");
    pb_add_node(m->graph, "Relu", "fine", "a", "b");
    pb_add_node(m->graph, "OtherOp", "second", "b", "y");
    size_t len;
    uint8_t *b = pb_pack_model(m, &len);
    onnx__model_proto__free_unpacked(m, NULL);
    write_file(path_in("u.onnx"), b, len);
    free(b);
    /* no input file exists: the run must fail on the model, before inputs */
    int rc = run_cli("run", path_in("u.onnx"), "--input", path_in("absent.npy"), NULL);
    ck_assert_msg(rc == 1, "exit %d; stderr: %s", rc, err_buf);
    ck_assert_msg(strstr(err_buf, "FancyOp") && strstr(err_buf, "'first'") &&
                      strstr(err_buf, "OtherOp") && strstr(err_buf, "'second'") &&
                      !strstr(err_buf, "absent.npy"),
                  "%s", err_buf);
    /* info still describes the model and names them */
    ck_assert_int_eq(run_cli("info", path_in("u.onnx"), NULL), 0);
    ck_assert_msg(strstr(out_buf, "FancyOp") && strstr(out_buf, "OtherOp"), "%s", out_buf);
}
END_TEST

START_TEST(non_image_file)
{
    Onnx__ModelProto *m = pb_model_new(8, 13);
    pb_add_input(m->graph, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "1,3,8,8");
    pb_add_output(m->graph, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "1,3,1,1");
    pb_add_node(m->graph, "GlobalAveragePool", "gap", "x", "y");
    size_t len;
    uint8_t *b = pb_pack_model(m, &len);
    onnx__model_proto__free_unpacked(m, NULL);
    write_file(path_in("img.onnx"), b, len);
    free(b);
    write_file(path_in("notes.png"), "hello, I am text\n", 17);
    int rc = run_cli("run", path_in("img.onnx"), path_in("notes.png"), NULL);
    expect_one_line_error(rc, "notes.png", NULL);
}
END_TEST

START_TEST(wrong_input_shape)
{
    write_relu_model(path_in("m.onnx"));
    float data[6] = {1, -2, 3, -4, 5, -6};
    ortc_tensor t = {ORTC_DTYPE_FLOAT, 2, {2, 3}, data};
    char err[256];
    ck_assert_int_eq(ortc_npy_write(path_in("x.npy"), &t, err, sizeof err), 0);
    int rc = run_cli("run", path_in("m.onnx"), "--input", path_in("x.npy"), NULL);
    expect_one_line_error(rc, "'x'", "[2,3]");
    ck_assert_msg(strstr(err_buf, "[1,4]"), "%s", err_buf);
}
END_TEST

START_TEST(input_output_round_trip)
{
    write_relu_model(path_in("m.onnx"));
    float data[4] = {1.5f, -2, 0, -0.25f};
    ortc_tensor t = {ORTC_DTYPE_FLOAT, 2, {1, 4}, data};
    char err[256];
    ck_assert_int_eq(ortc_npy_write(path_in("x.npy"), &t, err, sizeof err), 0);
    char spec[400];
    snprintf(spec, sizeof spec, "x=%s", path_in("x.npy"));
    int rc =
        run_cli("run", path_in("m.onnx"), "--input", spec, "--output-dir", path_in("out"), NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err_buf);
    ortc_tensor y;
    ck_assert_msg(ortc_npy_read(path_in("out/y.npy"), &y, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(y.dtype, ORTC_DTYPE_FLOAT);
    ck_assert_int_eq(y.rank, 2);
    const float want[4] = {1.5f, 0, 0, 0};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(((float *)y.data)[i], want[i]);
    free(y.data);
    /* unknown input name */
    snprintf(spec, sizeof spec, "z=%s", path_in("x.npy"));
    rc = run_cli("run", path_in("m.onnx"), "--input", spec, NULL);
    expect_one_line_error(rc, "'z'", NULL);
}
END_TEST

START_TEST(info_prints_plan_numbers)
{
    write_relu_model(path_in("m.onnx"));
    ck_assert_int_eq(run_cli("info", path_in("m.onnx"), NULL), 0);
    ck_assert_msg(strstr(out_buf, "arena") && strstr(out_buf, "lower bound") &&
                      strstr(out_buf, "naive sum") && strstr(out_buf, "Relu 1"),
                  "%s", out_buf);
    ck_assert_int_eq(run_cli("info", path_in("m.onnx"), "--json", NULL), 0);
    ck_assert_msg(strstr(out_buf, "\"arena_bytes\"") && strstr(out_buf, "\"lower_bound_bytes\""),
                  "%s", out_buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, usage_errors_exit_2);
    tcase_add_test(tc, help_and_version_exit_0);
    tcase_add_test(tc, missing_model_file);
    tcase_add_test(tc, truncated_model);
    tcase_add_test(tc, unsupported_ops_are_all_named_before_running);
    tcase_add_test(tc, non_image_file);
    tcase_add_test(tc, wrong_input_shape);
    tcase_add_test(tc, input_output_round_trip);
    tcase_add_test(tc, info_prints_plan_numbers);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
