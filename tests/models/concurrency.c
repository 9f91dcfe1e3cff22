/* concurrency.c — CALLERS threads each call ortc_session_run RUNS times on one
 * shared session, every run with its own input, and every output is compared
 * with the output of the same input run alone (single-threaded, before the
 * threads start). Meant to pass under ThreadSanitizer (-DORTC_SANITIZE=thread).
 *
 *   ortc_concurrency MODEL [--callers 4] [--runs 50] [--kernel-threads N]
 *
 * Inputs are pseudo-random in [-2, 2), seeded by (caller, run), for the
 * model's single float input at batch 1 (a symbolic dim is taken as 1).
 * Exit 0 when every output matches bit for bit, 1 otherwise (the worst
 * element is printed), 2 on usage errors.
 */
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ortc/ortc.h>

typedef struct job {
    ortc_session *s;
    int caller, runs;
    const ortc_tensor *in_shape;  /* dtype and dims of the input */
    const ortc_tensor *out_shape; /* dtype and dims of the output */
    float **inputs;               /* [caller * runs + r] */
    float **expected;             /* same indexing */
    double *t0, *t1;              /* start and end of each run (same indexing) */
    int mismatches, errors;
    char first_problem[512];
} job;

static void fill_input(float *x, int64_t n, uint64_t seed)
{
    uint64_t z = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        z ^= z << 13;
        z ^= z >> 7;
        z ^= z << 17;
        x[i] = (float)((double)(z >> 11) / (double)(1ull << 53) * 4.0 - 2.0);
    }
}

/* index of the first element where a and b differ bit-wise; -1 if none */
static int64_t first_diff(const float *a, const float *b, int64_t n, double *worst_abs)
{
    int64_t first = -1;
    *worst_abs = 0;
    for (int64_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof(float)) == 0)
            continue;
        if (first < 0)
            first = i;
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= *worst_abs))
            *worst_abs = d;
    }
    return first;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *caller_main(void *arg)
{
    job *j = arg;
    int64_t n_out = ortc_tensor_numel(j->out_shape);
    float *y = malloc((size_t)n_out * sizeof *y);
    if (!y) {
        j->errors++;
        snprintf(j->first_problem, sizeof j->first_problem, "caller %d: out of memory", j->caller);
        return NULL;
    }
    for (int r = 0; r < j->runs; r++) {
        int idx = j->caller * j->runs + r;
        ortc_tensor in = *j->in_shape;
        in.data = j->inputs[idx];
        ortc_tensor out = *j->out_shape;
        out.data = y;
        memset(y, 0xff, (size_t)n_out * sizeof *y); /* NaNs: an unwritten output fails */
        j->t0[idx] = now_s();
        ortc_status st = ortc_session_run(j->s, &in, 1, &out, 1);
        j->t1[idx] = now_s();
        if (st != ORTC_STATUS_OK) {
            if (!j->errors++)
                snprintf(j->first_problem, sizeof j->first_problem,
                         "caller %d run %d: ortc_session_run failed: %s", j->caller, r,
                         ortc_last_error());
            continue;
        }
        double worst;
        int64_t at = first_diff(y, j->expected[idx], n_out, &worst);
        if (at >= 0 && !j->mismatches++)
            snprintf(j->first_problem, sizeof j->first_problem,
                     "caller %d run %d: output differs from the single-threaded run; first at "
                     "element %lld: got %.9g, expected %.9g (worst |diff| %.3g)",
                     j->caller, r, (long long)at, y[at], j->expected[idx][at], worst);
    }
    free(y);
    return NULL;
}

static int usage(void)
{
    fprintf(stderr, "usage: ortc_concurrency MODEL [--callers N] [--runs N] "
                    "[--kernel-threads N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int callers = 4, runs = 50, kernel_threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--callers") && i + 1 < argc)
            callers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--kernel-threads") && i + 1 < argc)
            kernel_threads = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            return usage();
    }
    if (!path || callers < 1 || callers > 64 || runs < 1)
        return usage();

    ortc_options opt;
    ortc_options_init(&opt);
    opt.threads = kernel_threads;
    opt.max_concurrent_runs = callers;
    ortc_session *s = NULL;
    if (ortc_session_create(&s, path, &opt) != ORTC_STATUS_OK) {
        fprintf(stderr, "ortc_concurrency: %s\n", ortc_last_error());
        return 1;
    }
    ortc_value_info vi;
    if (ortc_session_input_count(s) != 1 || ortc_session_output_count(s) != 1 ||
        ortc_session_input_info(s, 0, &vi) != ORTC_STATUS_OK || vi.dtype != ORTC_DTYPE_FLOAT) {
        fprintf(stderr, "ortc_concurrency: %s: expected one float input and one output\n", path);
        ortc_session_destroy(s);
        return 1;
    }
    ortc_tensor in_shape = {.dtype = ORTC_DTYPE_FLOAT, .rank = vi.rank};
    for (int d = 0; d < vi.rank; d++)
        in_shape.dims[d] = vi.dims[d] > 0 ? vi.dims[d] : 1;
    ortc_tensor out_shape = {0};
    if (ortc_session_output_shapes(s, &in_shape, 1, &out_shape, 1) != ORTC_STATUS_OK ||
        out_shape.dtype != ORTC_DTYPE_FLOAT) {
        fprintf(stderr, "ortc_concurrency: %s: %s\n", path, ortc_last_error());
        ortc_session_destroy(s);
        return 1;
    }
    int64_t n_in = ortc_tensor_numel(&in_shape), n_out = ortc_tensor_numel(&out_shape);
    int total = callers * runs;
    float **inputs = calloc((size_t)total, sizeof *inputs);
    float **expected = calloc((size_t)total, sizeof *expected);
    double *t0 = calloc((size_t)total, sizeof *t0), *t1 = calloc((size_t)total, sizeof *t1);
    int rc = 0;
    for (int i = 0; inputs && expected && i < total; i++) {
        inputs[i] = malloc((size_t)n_in * sizeof(float));
        expected[i] = malloc((size_t)n_out * sizeof(float));
        if (!inputs[i] || !expected[i]) {
            fprintf(stderr, "ortc_concurrency: out of memory\n");
            rc = 1;
            break;
        }
        fill_input(inputs[i], n_in, (uint64_t)i + 1);
    }
    if (!inputs || !expected || !t0 || !t1)
        rc = 1;
    /* the oracle: every input run alone, one after another */
    for (int i = 0; !rc && i < total; i++) {
        ortc_tensor in = in_shape, out = out_shape;
        in.data = inputs[i];
        out.data = expected[i];
        if (ortc_session_run(s, &in, 1, &out, 1) != ORTC_STATUS_OK) {
            fprintf(stderr, "ortc_concurrency: single-threaded run %d: %s\n", i, ortc_last_error());
            rc = 1;
        }
    }
    /* different inputs must give different outputs, or the check is empty */
    double spread = 0;
    if (!rc && total > 1 && first_diff(expected[0], expected[1], n_out, &spread) < 0) {
        fprintf(stderr, "ortc_concurrency: two different inputs gave identical outputs; "
                        "the comparison would not detect mixed-up runs\n");
        rc = 1;
    }
    int mismatches = 0, errors = 0;
    if (!rc) {
        job *jobs = calloc((size_t)callers, sizeof *jobs);
        pthread_t *tid = calloc((size_t)callers, sizeof *tid);
        int started = 0;
        for (int c = 0; jobs && tid && c < callers; c++) {
            jobs[c] = (job){s, c, runs, &in_shape, &out_shape, inputs, expected, t0, t1, 0, 0, ""};
            if (pthread_create(&tid[c], NULL, caller_main, &jobs[c]) != 0)
                break;
            started++;
        }
        for (int c = 0; c < started; c++) {
            pthread_join(tid[c], NULL);
            mismatches += jobs[c].mismatches;
            errors += jobs[c].errors;
            if (jobs[c].first_problem[0])
                fprintf(stderr, "ortc_concurrency: %s\n", jobs[c].first_problem);
        }
        if (started != callers) {
            fprintf(stderr, "ortc_concurrency: could only start %d of %d threads\n", started,
                    callers);
            rc = 1;
        }
        free(jobs);
        free(tid);
        /* runs of different callers that overlapped in time: without any,
         * nothing concurrent was tested */
        long overlaps = 0;
        for (int a = 0; a < total; a++)
            for (int b = a + 1; b < total; b++)
                if (a / runs != b / runs && t0[a] < t1[b] && t0[b] < t1[a])
                    overlaps++;
        printf("%d callers x %d runs on one session (%s): %ld overlapping pairs of runs, %d "
               "mismatching outputs, %d failed runs; outputs of %lld floats compared bit for "
               "bit with single-threaded runs\n",
               callers, runs, path, overlaps, mismatches, errors, (long long)n_out);
        if (mismatches || errors)
            rc = 1;
        if (callers > 1 && overlaps == 0) {
            fprintf(stderr, "ortc_concurrency: no two runs overlapped in time\n");
            rc = 1;
        }
    }
    for (int i = 0; i < total; i++) {
        if (inputs)
            free(inputs[i]);
        if (expected)
            free(expected[i]);
    }
    free(inputs);
    free(expected);
    free(t0);
    free(t1);
    ortc_session_destroy(s);
    return rc;
}
