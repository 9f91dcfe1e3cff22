/* cli_bench.c — `ortc bench`: measures a model through the public API:
 * session creation, first run, latency percentiles and throughput of timed
 * runs, memory; then a separate profiled pass for a per-node table and a
 * Chrome trace. It measures only: it never changes how the model runs.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define MAX_INPUT_ARGS 64
#define MAX_TIMED_RUNS 10000000L
#define AUTO_TIMED_MS 3000.0 /* default: timed runs worth about 3 s */
#define MIN_TIMED_RUNS 10
#define AUTO_PROFILE_MS 1000.0 /* default: profiled runs worth about 1 s */

static void help(void)
{
    printf("usage: ortc bench MODEL [options]\n"
           "\n"
           "Measure a model: session creation, the first run, latency percentiles and\n"
           "throughput over timed runs, memory, then a per-node profile. The profile comes\n"
           "from a separate pass of profiled runs after the timed ones: profiling is off\n"
           "while the latency figures are taken, so its clock reads and per-step waits do\n"
           "not skew them.\n"
           "\n"
           "options:\n"
           "  --batch N           bind the symbolic first dim of every input to N (models\n"
           "                      exported with a dynamic batch; an error when the model's\n"
           "                      batch is fixed to another size). Default: the model's, or 1\n"
           "  --threads N         kernel threads (default: all cores)\n"
           "  --warmup N          untimed runs after the first run (default 3)\n"
           "  --iterations N      timed runs (default: enough for about 3 s, at least 10)\n"
           "  --duration S        time runs for S seconds instead of a count\n"
           "  --input NAME=FILE   an input from a .npy/.pb file (repeatable)\n"
           "  --seed N            seed of the random inputs (default 0): inputs not given\n"
           "                      with --input are uniform [0,1) if float; other dtypes\n"
           "                      need --input\n"
           "  --profile-runs N    profiled runs (default: about 1 s worth, 3..100; 0: no\n"
           "                      profile)\n"
           "  --trace FILE.json   write the profiled runs as a Chrome trace (a JSON array\n"
           "                      for chrome://tracing or ui.perfetto.dev): one complete\n"
           "                      event per node per run, args {op, shapes}\n"
           "  --json              print the summary as JSON (keys below)\n"
           "  --reference         plain-C reference kernels (slow; for debugging)\n"
           "  --no-optimize       no graph passes (folding, fusion, ...; for debugging)\n"
           "  --precision P       fp32 (default) or bf16 (ortc run --help)\n"
           "  --max-tensor-bytes B, --max-arena-bytes B   memory limits (ortc run --help)\n"
           "  --huge-pages        weights on transparent huge pages (ortc run --help)\n"
           "  --verbose           log compilation details to stderr\n"
           "\n"
           "Times are wall clock (CLOCK_MONOTONIC). Session creation includes loading the\n"
           "file; plan compile is the extra time to compile for the benchmark's input\n"
           "shapes when they were not known at creation (dynamic dims). Percentiles\n"
           "interpolate linearly between sorted samples. Throughput is batch / mean\n"
           "latency. Peak RSS is the whole process's (getrusage), inputs included.\n"
           "The profile's ms are per run, averaged over the profiled runs; GFLOP/s is\n"
           "2*MACs/time for Conv, ConvTranspose, Gemm and MatMul. kernel (impl) is what\n"
           "the step ran: oneDNN's implementation (brgconv:avx512_core, jit:uni,\n"
           "ref:any for its slow reference ones, ...) or ortc:<kernel> (ortc:c plain C,\n"
           "ortc:reference a reference kernel); prec what it computed in: bf16 (bf16\n"
           "inputs and weights, fp32 accumulation; --precision bf16), fp32, or the\n"
           "element type of its output for other steps.\n"
           "\n"
           "--json keys: model, threads, batch, seed, inputs [{name, dtype, shape,\n"
           "  source}], session_create_ms, plan_compile_ms, first_run_ms, warmup_runs,\n"
           "  timed_runs, timed_seconds, latency_ms {min, p50, p90, p99, max, mean},\n"
           "  throughput_items_per_s, peak_rss_bytes, weights_bytes, arena_bytes,\n"
           "  scratch_bytes, steps, profile {runs, mean_run_ms, nodes [{node, op, ms,\n"
           "  share_percent, flops, gflops_per_s, impl, precision}]} (null when there are no "
           "profiled\n"
           "  runs), trace (the file, or null)\n");
}

typedef struct bench_args {
    cli_common common;
    const char *model;
    long batch; /* 0: not given */
    long warmup;
    long iterations;   /* 0: automatic */
    double duration_s; /* 0: not given */
    long profile_runs; /* -1: automatic */
    unsigned long long seed;
    const char *trace;
    const char *input_specs[MAX_INPUT_ARGS];
    int n_input_specs;
} bench_args;

/* ---- small helpers ------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* A count that may be 0 (--warmup 0, --profile-runs 0); -1 on error. */
static long parse_count0(const char *s)
{
    return !strcmp(s, "0") ? 0 : cli_parse_count(s);
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 86400)
        return -1;
    *out = v;
    return 0;
}

static int parse_seed(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (*s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* splitmix64: a small, seedable generator for the random inputs */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* q-th quantile (0..1) of sorted v[0..n-1], linear between samples. */
static double quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_shape(FILE *f, const ortc_tensor *t)
{
    if (!t) {
        fputs("null", f);
        return;
    }
    fputc('[', f);
    for (int d = 0; d < t->rank; d++)
        fprintf(f, "%s%lld", d ? "," : "", (long long)t->dims[d]);
    fputc(']', f);
}

static const char *mib(char *buf, size_t len, double bytes)
{
    snprintf(buf, len, "%.2f MiB", bytes / (1024.0 * 1024.0));
    return buf;
}

/* ---- progress line on a terminal ----------------------------------------------- */

typedef struct progress {
    bool tty;
    bool shown;
    double t_begin; /* of the benchmark: the line appears after a second */
    double t_last;
} progress;

static void progress_show(progress *pg, const char *phase, long done, long total, double elapsed_s,
                          double duration_s)
{
    double t = now_ms();
    if (!pg->tty || t - pg->t_begin < 1000 || t - pg->t_last < 200)
        return;
    pg->t_last = t;
    pg->shown = true;
    if (duration_s > 0)
        fprintf(stderr, "\rortc bench: %s %ld runs, %.1f of %.1f s\033[K", phase, done, elapsed_s,
                duration_s);
    else
        fprintf(stderr, "\rortc bench: %s %ld/%ld runs, %.1f s\033[K", phase, done, total,
                elapsed_s);
    fflush(stderr);
}

static void progress_clear(progress *pg)
{
    if (pg->shown)
        fputs("\r\033[K", stderr);
    pg->shown = false;
}

/* ---- arguments ------------------------------------------------------------------ */

static int parse_args(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->warmup = 3;
    a->profile_runs = -1;
    for (int i = 2; i < argc; i++) {
        int r = cli_standard_opt("bench", help, argc, argv, &i, &a->common);
        if (r == 1)
            continue;
        if (r)
            return r;
        static const char *const names[] = {"--batch", "--warmup", "--iterations",   "--duration",
                                            "--input", "--seed",   "--profile-runs", "--trace"};
        const char *val;
        int k = cli_opt_pick("bench", argc, argv, &i, names, 8, &val);
        if (k == -2)
            return CLI_USAGE;
        if (k < 0) {
            if (cli_operand("bench", argv[i], &a->model, NULL, NULL, 0))
                return CLI_USAGE;
            continue;
        }
        const char *bad = NULL; /* what val is not, when it is not */
        switch (k) {
        case 0: bad = (a->batch = cli_parse_count(val)) < 0 ? "a positive count" : NULL; break;
        case 1: bad = (a->warmup = parse_count0(val)) < 0 ? "a count" : NULL; break;
        case 2: bad = (a->iterations = cli_parse_count(val)) < 0 ? "a positive count" : NULL; break;
        case 3: bad = parse_seconds(val, &a->duration_s) ? "a time in seconds" : NULL; break;
        case 4:
            if (a->n_input_specs == MAX_INPUT_ARGS)
                return cli_usage_error("bench", "too many --input options");
            a->input_specs[a->n_input_specs++] = val;
            break;
        case 5: bad = parse_seed(val, &a->seed) ? "a non-negative integer" : NULL; break;
        case 6: bad = (a->profile_runs = parse_count0(val)) < 0 ? "a count" : NULL; break;
        case 7: a->trace = val; break;
        }
        if (bad)
            return cli_usage_error("bench", "%s: '%s' is not %s", names[k], val, bad);
    }
    if (!a->model)
        return cli_usage_error("bench", "missing MODEL");
    if (a->iterations && a->duration_s > 0)
        return cli_usage_error("bench", "give --iterations or --duration, not both");
    if (a->trace && a->profile_runs == 0)
        return cli_usage_error("bench", "--trace needs profiled runs (--profile-runs > 0)");
    return 0;
}

/* ---- inputs --------------------------------------------------------------------- */

typedef struct bench_input {
    ortc_tensor t;
    const char *file; /* NULL: random */
} bench_input;

static int read_given_inputs(const bench_args *a, ortc_session *s, bench_input *in, size_t ni)
{
    for (int k = 0; k < a->n_input_specs; k++) {
        const char *spec = a->input_specs[k], *eq = strchr(spec, '=');
        size_t idx = ni;
        const char *file = spec;
        if (eq) {
            file = eq + 1;
            for (size_t i = 0; i < ni; i++) {
                ortc_value_info vi;
                ortc_session_input_info(s, i, &vi);
                if (strlen(vi.name) == (size_t)(eq - spec) &&
                    !strncmp(vi.name, spec, (size_t)(eq - spec)))
                    idx = i;
            }
            char have[256];
            if (idx == ni)
                return cli_error("%s: the model has no input named '%.*s' (its inputs: %s)",
                                 a->model, (int)(eq - spec), spec,
                                 cli_input_names(s, have, sizeof have));
        } else if (ni == 1) {
            idx = 0;
        } else {
            return cli_error("%s: the model has %zu inputs; name them: --input NAME=FILE", a->model,
                             ni);
        }
        if (in[idx].file)
            return cli_error("%s: input %zu given twice", a->model, idx);
        if (cli_tensor_read(file, &in[idx].t))
            return CLI_ERROR;
        in[idx].file = file;
    }
    return 0;
}

/* Shapes and random contents of the inputs not given as files. */
static int make_random_inputs(const bench_args *a, ortc_session *s, bench_input *in, size_t ni)
{
    uint64_t state = a->seed;
    for (size_t i = 0; i < ni; i++) {
        ortc_value_info vi;
        ortc_session_input_info(s, i, &vi);
        if (in[i].file) {
            if (a->batch && in[i].t.rank > 0 && in[i].t.dims[0] != a->batch)
                return cli_error("%s: input '%s' from %s has batch %lld; --batch is %ld", a->model,
                                 vi.name, in[i].file, (long long)in[i].t.dims[0], a->batch);
            continue;
        }
        if (vi.rank < 0)
            return cli_error("%s: input '%s' has no declared shape; give --input %s=FILE", a->model,
                             vi.name, vi.name);
        ortc_tensor *t = &in[i].t;
        t->dtype = vi.dtype;
        t->rank = vi.rank;
        for (int d = 0; d < vi.rank; d++) {
            if (vi.dims[d] >= 0) {
                if (d == 0 && a->batch && vi.dims[0] != a->batch)
                    return cli_error("%s: input '%s' has a fixed batch of %lld; --batch %ld "
                                     "needs a model exported with a dynamic batch",
                                     a->model, vi.name, (long long)vi.dims[0], a->batch);
                t->dims[d] = vi.dims[d];
            } else if (d == 0) {
                t->dims[d] = a->batch ? a->batch : 1;
            } else {
                return cli_error("%s: input '%s' dim %d ('%s') is symbolic; give --input %s=FILE",
                                 a->model, vi.name, d, vi.dim_params[d] ? vi.dim_params[d] : "?",
                                 vi.name);
            }
        }
        int64_t n = ortc_tensor_numel(t);
        if (n < 0)
            return cli_error("%s: input '%s' is too large", a->model, vi.name);
        if (vi.dtype != ORTC_DTYPE_FLOAT && vi.dtype != ORTC_DTYPE_DOUBLE)
            return cli_error("%s: input '%s' is %s; random inputs are float only: give --input "
                             "%s=FILE",
                             a->model, vi.name, ortc_dtype_name(vi.dtype), vi.name);
        size_t bytes = ortc_tensor_bytes(t);
        t->data = ortc_tools_alloc_tensor(bytes);
        if (!t->data)
            return cli_error("out of memory for input '%s' (%zu bytes)", vi.name, bytes);
        for (int64_t e = 0; e < n; e++) {
            uint64_t r = next_random(&state);
            if (vi.dtype == ORTC_DTYPE_FLOAT)
                ((float *)t->data)[e] = (float)(r >> 40) * (1.0f / 16777216.0f);
            else
                ((double *)t->data)[e] = (double)(r >> 11) * (1.0 / 9007199254740992.0);
        }
    }
    return 0;
}

/* ---- the benchmark ------------------------------------------------------------- */

typedef struct bench_result {
    int threads;
    long batch;
    double create_ms, compile_ms, first_ms;
    long warmup, timed;
    double timed_s;
    double lat_min, lat_p50, lat_p90, lat_p99, lat_max, lat_mean;
    double throughput;
    long long peak_rss;
    long long weights, arena, scratch, steps;
    /* profile */
    long prof_runs;
    double prof_mean_run_ms;
    size_t n_nodes;
    ortc_profile_entry *nodes; /* last profiled run's entries (names, shapes, flops) */
    double *node_ms;           /* mean per node over the profiled runs */
} bench_result;

/* One run; CLI_ERROR after printing the library's message. */
static int run_once(ortc_session *s, ortc_tensor *in, size_t ni, ortc_tensor *out, size_t no)
{
    if (ortc_session_run(s, in, ni, out, no) != ORTC_STATUS_OK)
        return cli_error("%s", ortc_last_error());
    return 0;
}

static int timed_runs(const bench_args *a, ortc_session *s, ortc_tensor *in, size_t ni,
                      ortc_tensor *out, size_t no, double estimate_ms, progress *pg,
                      bench_result *r, double **lat_out)
{
    long n = a->iterations;
    if (!n && a->duration_s <= 0) {
        double want = ceil(AUTO_TIMED_MS / (estimate_ms > 1e-3 ? estimate_ms : 1e-3));
        n = want < MIN_TIMED_RUNS ? MIN_TIMED_RUNS : want > 1e6 ? 1000000 : (long)want;
    }
    size_t cap = n ? (size_t)n : 1024;
    double *lat = malloc(cap * sizeof *lat);
    if (!lat)
        return cli_error("out of memory for %zu latencies", cap);
    double t_begin = now_ms(), t_end_want = t_begin + a->duration_s * 1e3;
    long done = 0;
    for (;;) {
        if (n && done == n)
            break;
        if (!n && done > 0 && now_ms() >= t_end_want)
            break;
        if (!n && (size_t)done == cap) {
            if (cap >= MAX_TIMED_RUNS)
                break;
            double *g = realloc(lat, 2 * cap * sizeof *lat);
            if (!g) {
                free(lat);
                return cli_error("out of memory for %zu latencies", 2 * cap);
            }
            lat = g;
            cap *= 2;
        }
        double t0 = now_ms();
        if (run_once(s, in, ni, out, no)) {
            free(lat);
            return CLI_ERROR;
        }
        lat[done++] = now_ms() - t0;
        progress_show(pg, "timed", done, n, (now_ms() - t_begin) / 1e3, a->duration_s);
    }
    r->timed = done;
    r->timed_s = (now_ms() - t_begin) / 1e3;
    *lat_out = lat;
    return 0;
}

static int profiled_runs(const bench_args *a, ortc_session *s, ortc_tensor *in, size_t ni,
                         ortc_tensor *out, size_t no, progress *pg, bench_result *r)
{
    if (r->prof_runs == 0)
        return 0;
    if (ortc_session_set_profiling(s, 1) != ORTC_STATUS_OK)
        return cli_error("%s", ortc_last_error());
    int rc = CLI_ERROR;
    size_t n_nodes = 0;
    double *trace_start = NULL, *trace_ms = NULL, *run_offset = NULL;
    double pass_t0 = now_ms(), run_ms_sum = 0;
    for (long k = 0; k < r->prof_runs; k++) {
        double t0 = now_ms();
        if (run_once(s, in, ni, out, no))
            goto done;
        double t1 = now_ms();
        run_ms_sum += t1 - t0;
        size_t n = ortc_session_profile(s, NULL, 0);
        if (k == 0) {
            n_nodes = n;
            r->nodes = calloc(n + 1, sizeof *r->nodes);
            r->node_ms = calloc(n + 1, sizeof *r->node_ms);
            run_offset = calloc((size_t)r->prof_runs, sizeof *run_offset);
            if (a->trace) {
                trace_start = calloc(n * (size_t)r->prof_runs + 1, sizeof *trace_start);
                trace_ms = calloc(n * (size_t)r->prof_runs + 1, sizeof *trace_ms);
            }
            if (!r->nodes || !r->node_ms || !run_offset ||
                (a->trace && (!trace_start || !trace_ms))) {
                cli_error("out of memory for the profile of %zu steps x %ld runs", n, r->prof_runs);
                goto done;
            }
        } else if (n != n_nodes) {
            cli_error("internal: profiled run %ld has %zu steps, the first had %zu", k, n, n_nodes);
            goto done;
        }
        ortc_session_profile(s, r->nodes, n_nodes);
        run_offset[k] = t0 - pass_t0;
        for (size_t i = 0; i < n_nodes; i++) {
            r->node_ms[i] += r->nodes[i].ms;
            if (trace_start) {
                trace_start[(size_t)k * n_nodes + i] = r->nodes[i].start_ms;
                trace_ms[(size_t)k * n_nodes + i] = r->nodes[i].ms;
            }
        }
        progress_show(pg, "profiled", k + 1, r->prof_runs, (t1 - pass_t0) / 1e3, 0);
    }
    for (size_t i = 0; i < n_nodes; i++)
        r->node_ms[i] /= (double)r->prof_runs;
    r->n_nodes = n_nodes;
    r->prof_mean_run_ms = run_ms_sum / (double)r->prof_runs;

    if (a->trace) {
        FILE *f = fopen(a->trace, "w");
        if (!f) {
            cli_error("%s: cannot write: %s", a->trace, strerror(errno));
            goto done;
        }
        /* one complete event ("ph":"X") per node per run; ts/dur in microseconds
         * from the start of the profiled pass */
        fputs("[\n", f);
        long pid = (long)getpid();
        for (long k = 0; k < r->prof_runs; k++)
            for (size_t i = 0; i < n_nodes; i++) {
                const ortc_profile_entry *e = &r->nodes[i];
                size_t at = (size_t)k * n_nodes + i;
                fputs(k || i ? ",\n{\"name\":" : "{\"name\":", f);
                json_string(f, e->node_name[0] ? e->node_name : e->op_type);
                fputs(",\"cat\":", f);
                json_string(f, e->op_type);
                fprintf(f, ",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%ld,\"tid\":0,",
                        (run_offset[k] + trace_start[at]) * 1e3, trace_ms[at] * 1e3, pid);
                fputs("\"args\":{\"op\":", f);
                json_string(f, e->op_type);
                fputs(",\"impl\":", f);
                json_string(f, e->impl ? e->impl : "");
                fputs(",\"precision\":", f);
                json_string(f, e->precision ? e->precision : "");
                fprintf(f, ",\"run\":%ld,\"step\":%zu,\"shapes\":{\"inputs\":[", k, i);
                for (int j = 0; j < e->n_inputs; j++) {
                    if (j)
                        fputc(',', f);
                    json_shape(f, e->inputs[j]);
                }
                fputs("],\"outputs\":[", f);
                for (int j = 0; j < e->n_outputs; j++) {
                    if (j)
                        fputc(',', f);
                    json_shape(f, e->outputs[j]);
                }
                fputs("]}", f);
                if (e->flops > 0)
                    fprintf(f, ",\"flops\":%.0f", e->flops);
                fputs("}}", f);
            }
        fputs("\n]\n", f);
        int bad = ferror(f);
        if (fclose(f) != 0 || bad) {
            cli_error("%s: write failed: %s", a->trace, strerror(errno));
            goto done;
        }
    }
    rc = 0;
done:
    ortc_session_set_profiling(s, 0);
    free(trace_start);
    free(trace_ms);
    free(run_offset);
    return rc;
}

/* ---- output -------------------------------------------------------------------- */

static cJSON *shape_json(const ortc_tensor *t)
{
    cJSON *arr = cJSON_CreateArray();
    for (int d = 0; d < t->rank; d++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)t->dims[d]));
    return arr;
}

static void print_json(const bench_args *a, ortc_session *s, const bench_input *in, size_t ni,
                       const bench_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", a->model);
    cJSON_AddNumberToObject(o, "threads", r->threads);
    cJSON_AddNumberToObject(o, "batch", (double)r->batch);
    cJSON_AddNumberToObject(o, "seed", (double)a->seed);
    cJSON *ins = cJSON_AddArrayToObject(o, "inputs");
    for (size_t i = 0; i < ni; i++) {
        ortc_value_info vi;
        ortc_session_input_info(s, i, &vi);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", vi.name);
        cJSON_AddStringToObject(x, "dtype", ortc_dtype_name(in[i].t.dtype));
        cJSON_AddItemToObject(x, "shape", shape_json(&in[i].t));
        cJSON_AddStringToObject(x, "source", in[i].file ? in[i].file : "random");
        cJSON_AddItemToArray(ins, x);
    }
    cJSON_AddNumberToObject(o, "session_create_ms", r->create_ms);
    cJSON_AddNumberToObject(o, "plan_compile_ms", r->compile_ms);
    cJSON_AddNumberToObject(o, "first_run_ms", r->first_ms);
    cJSON_AddNumberToObject(o, "warmup_runs", (double)r->warmup);
    cJSON_AddNumberToObject(o, "timed_runs", (double)r->timed);
    cJSON_AddNumberToObject(o, "timed_seconds", r->timed_s);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
    cJSON_AddNumberToObject(lat, "min", r->lat_min);
    cJSON_AddNumberToObject(lat, "p50", r->lat_p50);
    cJSON_AddNumberToObject(lat, "p90", r->lat_p90);
    cJSON_AddNumberToObject(lat, "p99", r->lat_p99);
    cJSON_AddNumberToObject(lat, "max", r->lat_max);
    cJSON_AddNumberToObject(lat, "mean", r->lat_mean);
    cJSON_AddNumberToObject(o, "throughput_items_per_s", r->throughput);
    cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)r->peak_rss);
    cJSON_AddNumberToObject(o, "weights_bytes", (double)r->weights);
    cJSON_AddNumberToObject(o, "arena_bytes", (double)r->arena);
    cJSON_AddNumberToObject(o, "scratch_bytes", (double)r->scratch);
    cJSON_AddNumberToObject(o, "steps", (double)r->steps);
    if (r->prof_runs > 0) {
        cJSON *p = cJSON_AddObjectToObject(o, "profile");
        cJSON_AddNumberToObject(p, "runs", (double)r->prof_runs);
        cJSON_AddNumberToObject(p, "mean_run_ms", r->prof_mean_run_ms);
        double total = 0;
        for (size_t i = 0; i < r->n_nodes; i++)
            total += r->node_ms[i];
        cJSON *nodes = cJSON_AddArrayToObject(p, "nodes");
        for (size_t i = 0; i < r->n_nodes; i++) {
            const ortc_profile_entry *e = &r->nodes[i];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "node", e->node_name);
            cJSON_AddStringToObject(x, "op", e->op_type);
            cJSON_AddNumberToObject(x, "ms", r->node_ms[i]);
            cJSON_AddNumberToObject(x, "share_percent",
                                    total > 0 ? 100 * r->node_ms[i] / total : 0);
            cJSON_AddNumberToObject(x, "flops", e->flops);
            cJSON_AddStringToObject(x, "impl", e->impl ? e->impl : "");
            cJSON_AddStringToObject(x, "precision", e->precision ? e->precision : "");
            if (e->flops > 0 && r->node_ms[i] > 0)
                cJSON_AddNumberToObject(x, "gflops_per_s", e->flops / r->node_ms[i] / 1e6);
            else
                cJSON_AddNullToObject(x, "gflops_per_s");
            cJSON_AddItemToArray(nodes, x);
        }
    } else {
        cJSON_AddNullToObject(o, "profile");
    }
    if (a->trace)
        cJSON_AddStringToObject(o, "trace", a->trace);
    else
        cJSON_AddNullToObject(o, "trace");
    cli_json_print(o);
    cJSON_Delete(o);
}

static void print_text(const bench_args *a, ortc_session *s, const bench_input *in, size_t ni,
                       const bench_result *r)
{
    char b1[64], b2[64], b3[64], b4[64], shape[160];
    printf("model        %s\n", a->model);
    for (size_t i = 0; i < ni; i++) {
        ortc_value_info vi;
        ortc_session_input_info(s, i, &vi);
        cli_shape_str(shape, sizeof shape, in[i].t.rank, in[i].t.dims);
        if (in[i].file)
            printf("%-12s %s %s %s from %s\n", i ? "" : "inputs", vi.name,
                   ortc_dtype_name(in[i].t.dtype), shape, in[i].file);
        else
            printf("%-12s %s %s %s random uniform [0,1), seed %llu\n", i ? "" : "inputs", vi.name,
                   ortc_dtype_name(in[i].t.dtype), shape, a->seed);
    }
    printf("threads      %d\n", r->threads);
    printf("session      creation %.1f ms", r->create_ms);
    if (r->compile_ms >= 0.05)
        printf(" + plan compile for these shapes %.1f ms", r->compile_ms);
    printf(", first run %.2f ms\n", r->first_ms);
    printf("latency      %ld timed runs (%.1f s) after %ld warm-up: min %.3f  p50 %.3f  p90 %.3f"
           "  p99 %.3f  max %.3f  mean %.3f ms\n",
           r->timed, r->timed_s, r->warmup, r->lat_min, r->lat_p50, r->lat_p90, r->lat_p99,
           r->lat_max, r->lat_mean);
    printf("throughput   %.2f items/s (batch %ld / mean latency)\n", r->throughput, r->batch);
    printf("memory       peak RSS %s, weights %s, arena %s, scratch %s\n",
           mib(b1, sizeof b1, (double)r->peak_rss), mib(b2, sizeof b2, (double)r->weights),
           mib(b3, sizeof b3, (double)r->arena), mib(b4, sizeof b4, (double)r->scratch));
    if (r->prof_runs <= 0)
        return;
    double total = 0;
    int w = 4;
    for (size_t i = 0; i < r->n_nodes; i++) {
        total += r->node_ms[i];
        int len = (int)strlen(r->nodes[i].node_name);
        w = len > w ? len : w;
    }
    w = w > 40 ? 40 : w;
    printf("profile      %ld profiled runs after the timed ones: %.3f ms per run, of which "
           "%.3f ms in %zu steps\n",
           r->prof_runs, r->prof_mean_run_ms, total, r->n_nodes);
    printf("  %-*s  %-16s %10s %7s %9s  %-5s %s\n", w, "node", "op", "ms", "share", "GFLOP/s",
           "prec", "kernel");
    for (size_t i = 0; i < r->n_nodes; i++) {
        const ortc_profile_entry *e = &r->nodes[i];
        const char *name = e->node_name[0] ? e->node_name : "(unnamed)";
        int len = (int)strlen(name);
        if (len > w)
            printf("  ...%-*s", w - 3, name + len - (w - 3));
        else
            printf("  %-*s", w, name);
        printf("  %-16s %10.3f %6.1f%%", e->op_type, r->node_ms[i],
               total > 0 ? 100 * r->node_ms[i] / total : 0);
        if (e->flops > 0 && r->node_ms[i] > 0)
            printf(" %9.1f", e->flops / r->node_ms[i] / 1e6);
        else
            printf(" %9s", "");
        printf("  %-5s %s\n", e->precision ? e->precision : "", e->impl ? e->impl : "");
    }
    if (a->trace)
        printf("trace        %s (%ld runs x %zu events)\n", a->trace, r->prof_runs, r->n_nodes);
}

int cli_bench(int argc, char **argv)
{
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? CLI_OK : rc;

    progress pg = {.tty = isatty(2) == 1, .t_begin = now_ms()};
    bench_result r = {0};
    r.threads = a.common.threads;
    if (r.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        r.threads = n > 0 ? (int)n : 1;
    }
    double t0 = now_ms();
    ortc_session *s = cli_session_create(a.model, &a.common);
    if (!s)
        return CLI_ERROR;
    r.create_ms = now_ms() - t0;

    rc = CLI_ERROR;
    double *lat = NULL;
    size_t ni = ortc_session_input_count(s), no = ortc_session_output_count(s);
    bench_input *in = calloc(ni + 1, sizeof *in);
    ortc_tensor *tin = calloc(ni + 1, sizeof *tin), *out = calloc(no + 1, sizeof *out);
    if (!in || !tin || !out) {
        cli_error("out of memory");
        goto done;
    }
    if (read_given_inputs(&a, s, in, ni) || make_random_inputs(&a, s, in, ni))
        goto done;
    for (size_t i = 0; i < ni; i++)
        tin[i] = in[i].t;
    r.batch = a.batch ? a.batch : (ni && tin[0].rank > 0 ? (long)tin[0].dims[0] : 1);

    t0 = now_ms();
    if (ortc_session_output_shapes(s, tin, ni, out, no) != ORTC_STATUS_OK) {
        cli_error("%s", ortc_last_error());
        goto done;
    }
    r.compile_ms = now_ms() - t0;
    for (size_t k = 0; k < no; k++) {
        size_t bytes = ortc_tensor_bytes(&out[k]);
        out[k].data = ortc_tools_alloc_tensor(bytes);
        if (!out[k].data) {
            cli_error("out of memory for output %zu (%zu bytes)", k, bytes);
            goto done;
        }
    }

    t0 = now_ms();
    if (run_once(s, tin, ni, out, no))
        goto done;
    r.first_ms = now_ms() - t0;
    double warm_sum = 0;
    for (long k = 0; k < a.warmup; k++) {
        t0 = now_ms();
        if (run_once(s, tin, ni, out, no))
            goto done;
        warm_sum += now_ms() - t0;
        progress_show(&pg, "warm-up", k + 1, a.warmup, warm_sum / 1e3, 0);
    }
    r.warmup = a.warmup;
    double estimate = a.warmup ? warm_sum / (double)a.warmup : r.first_ms;

    if (timed_runs(&a, s, tin, ni, out, no, estimate, &pg, &r, &lat))
        goto done;
    qsort(lat, (size_t)r.timed, sizeof *lat, cmp_double);
    double sum = 0;
    for (long k = 0; k < r.timed; k++)
        sum += lat[k];
    r.lat_min = lat[0];
    r.lat_max = lat[r.timed - 1];
    r.lat_p50 = quantile(lat, (size_t)r.timed, 0.50);
    r.lat_p90 = quantile(lat, (size_t)r.timed, 0.90);
    r.lat_p99 = quantile(lat, (size_t)r.timed, 0.99);
    r.lat_mean = sum / (double)r.timed;
    r.throughput = r.lat_mean > 0 ? (double)r.batch * 1e3 / r.lat_mean : 0;

    if (a.profile_runs >= 0) {
        r.prof_runs = a.profile_runs;
    } else {
        double want = ceil(AUTO_PROFILE_MS / (r.lat_mean > 1e-3 ? r.lat_mean : 1e-3));
        r.prof_runs = want < 3 ? 3 : want > 100 ? 100 : (long)want;
    }
    if (profiled_runs(&a, s, tin, ni, out, no, &pg, &r))
        goto done;
    progress_clear(&pg);

    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        r.peak_rss = (long long)ru.ru_maxrss * 1024; /* Linux: KiB */
    ortc_model_info mi;
    ortc_model_get_info(ortc_session_model(s), &mi);
    r.weights = mi.parameter_bytes;
    ortc_plan_stats ps;
    if (ortc_session_plan_stats(s, &ps) == ORTC_STATUS_OK) {
        r.arena = (long long)ps.arena_bytes;
        r.scratch = (long long)ps.scratch_bytes;
        r.steps = (long long)ps.n_steps;
    }
    if (a.common.json)
        print_json(&a, s, in, ni, &r);
    else
        print_text(&a, s, in, ni, &r);
    rc = CLI_OK;
done:
    progress_clear(&pg);
    free(lat);
    free(r.nodes);
    free(r.node_ms);
    for (size_t i = 0; in && i < ni; i++) {
        if (in[i].file)
            cli_tensor_free(&in[i].t);
        else
            free(in[i].t.data);
    }
    for (size_t k = 0; out && k < no; k++)
        free(out[k].data);
    free(in);
    free(tin);
    free(out);
    ortc_session_destroy(s);
    return rc;
}
