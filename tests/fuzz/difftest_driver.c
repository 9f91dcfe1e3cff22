/* difftest_driver.c — the ortc side of the differential tests
 * (tests/fuzz/graphgen): one process runs many generated models, so a
 * campaign pays process start-up and oneDNN initialisation once. It reads
 * one command per line on stdin and answers one line on stdout:
 *
 *   run DIR TAG REFERENCE OPTIMIZE THREADS
 *       DIR/model.onnx on DIR/in_<i>.npy (graph-input order); writes
 *       DIR/<TAG>_out_<k>.npy and answers "ok N" (N outputs), or
 *       "refused STATUS message" (session creation failed),
 *       "shape_error STATUS message", "run_error STATUS message",
 *       "io_error message", "nondeterministic K" (a second run on the same
 *       session wrote different bytes to output K), "input_modified I" (a
 *       run wrote into the caller's input I).
 *   probe MODEL
 *       one "unsupported OP OPSET" line per node no operator implements at
 *       the model's opset, then "done"; "refused STATUS message" when the
 *       model does not load.
 *   quit
 *
 * It compares nothing itself; the Python harness does. A crash, hang or
 * sanitizer report is the harness's finding, so the driver frees everything.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "ortc/ortc.h"

#define MAX_IO 64
#define LINE_MAX_LEN 8192

/* The message with newlines folded, so the answer stays one line. */
static void answer(const char *kind, ortc_status st, const char *msg)
{
    printf("%s %s ", kind, ortc_status_name(st));
    for (const char *p = msg; *p; p++)
        putchar(*p == '\n' || *p == '\r' ? '|' : *p);
    putchar('\n');
}

static void free_tensors(ortc_tensor *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].data);
        t[i].data = NULL;
    }
}

static void cmd_run(const char *dir, const char *tag, int reference, int optimize, int threads)
{
    char path[LINE_MAX_LEN + 320], err[512];
    ortc_options opt;
    ortc_options_init(&opt);
    opt.reference = reference;
    opt.optimize = optimize;
    opt.threads = threads;
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    ortc_session *s = NULL;
    ortc_status st = ortc_session_create(&s, path, &opt);
    if (st != ORTC_STATUS_OK) {
        answer("refused", st, ortc_last_error());
        return;
    }
    size_t ni = ortc_session_input_count(s), no = ortc_session_output_count(s);
    ortc_tensor in[MAX_IO], keep[MAX_IO], out[MAX_IO], again[MAX_IO];
    memset(in, 0, sizeof in);
    memset(keep, 0, sizeof keep);
    memset(out, 0, sizeof out);
    memset(again, 0, sizeof again);
    if (ni > MAX_IO || no > MAX_IO) {
        printf("io_error more than %d inputs or outputs\n", MAX_IO);
        goto done;
    }
    for (size_t i = 0; i < ni; i++) {
        snprintf(path, sizeof path, "%s/in_%zu.npy", dir, i);
        if (ortc_npy_read(path, &in[i], err, sizeof err)) {
            printf("io_error %s\n", err);
            goto done;
        }
        size_t bytes = ortc_tensor_bytes(&in[i]);
        keep[i] = in[i];
        keep[i].data = malloc(bytes ? bytes : 1);
        if (!keep[i].data) {
            printf("io_error out of memory\n");
            goto done;
        }
        memcpy(keep[i].data, in[i].data, bytes);
    }
    st = ortc_session_output_shapes(s, in, ni, out, no);
    if (st != ORTC_STATUS_OK) {
        answer("shape_error", st, ortc_last_error());
        goto done;
    }
    for (size_t k = 0; k < no; k++) {
        /* a shape that depends on the data (unknown dims): the run
         * allocates the output (data NULL) */
        bool dyn = out[k].rank < 0;
        for (int d = 0; d < out[k].rank; d++)
            dyn = dyn || out[k].dims[d] < 0;
        if (dyn) {
            again[k] = out[k];
            continue;
        }
        size_t bytes = ortc_tensor_bytes(&out[k]);
        again[k] = out[k];
        out[k].data = calloc(1, bytes ? bytes : 1);
        again[k].data = malloc(bytes ? bytes : 1);
        if (!out[k].data || !again[k].data) {
            printf("io_error out of memory for output %zu\n", k);
            goto done;
        }
        memset(again[k].data, 0xA5, bytes); /* differs from the first run's zeros */
    }
    st = ortc_session_run(s, in, ni, out, no);
    if (st != ORTC_STATUS_OK) {
        answer("run_error", st, ortc_last_error());
        goto done;
    }
    for (size_t i = 0; i < ni; i++)
        if (memcmp(in[i].data, keep[i].data, ortc_tensor_bytes(&in[i]))) {
            printf("input_modified %zu\n", i);
            goto done;
        }
    /* a second run of the same plan must write the same bytes: catches
     * state left over from the first run (arena reuse, in-place updates) */
    st = ortc_session_run(s, in, ni, again, no);
    if (st != ORTC_STATUS_OK) {
        answer("run_error", st, ortc_last_error());
        goto done;
    }
    for (size_t k = 0; k < no; k++)
        if (out[k].rank != again[k].rank ||
            memcmp(out[k].dims, again[k].dims, sizeof(out[k].dims[0]) * (size_t)out[k].rank) ||
            (ortc_tensor_bytes(&out[k]) &&
             memcmp(out[k].data, again[k].data, ortc_tensor_bytes(&out[k])))) {
            printf("nondeterministic %zu\n", k);
            goto done;
        }
    for (size_t k = 0; k < no; k++) {
        snprintf(path, sizeof path, "%s/%s_out_%zu.npy", dir, tag, k);
        if (ortc_npy_write(path, &out[k], err, sizeof err)) {
            printf("io_error %s\n", err);
            goto done;
        }
    }
    printf("ok %zu\n", no);
done:
    free_tensors(in, MAX_IO);
    free_tensors(keep, MAX_IO);
    free_tensors(out, MAX_IO);
    free_tensors(again, MAX_IO);
    ortc_session_destroy(s);
}

static void cmd_probe(const char *path)
{
    ortc_model *m = NULL;
    ortc_status st = ortc_model_load(&m, path);
    if (st != ORTC_STATUS_OK) {
        answer("refused", st, ortc_last_error());
        return;
    }
    ortc_unsupported u[256];
    size_t n = ortc_model_unsupported(m, u, 256);
    for (size_t i = 0; i < n && i < 256; i++)
        printf("unsupported %s %d\n", u[i].op_type, u[i].opset);
    printf("done\n");
    ortc_model_free(m);
}

int main(void)
{
    static char line[LINE_MAX_LEN];
    while (fgets(line, sizeof line, stdin)) {
        char a[LINE_MAX_LEN], b[256];
        int ref, optz, threads;
        line[strcspn(line, "\r\n")] = '\0';
        if (!strcmp(line, "quit"))
            break;
        if (sscanf(line, "run %8191s %255s %d %d %d", a, b, &ref, &optz, &threads) == 5)
            cmd_run(a, b, ref, optz, threads);
        else if (sscanf(line, "probe %8191s", a) == 1)
            cmd_probe(a);
        else
            printf("usage_error unknown command: %s\n", line);
        fflush(stdout);
    }
    return 0;
}
