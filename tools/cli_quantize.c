/* cli_quantize.c — `ortc quantize`: reads calibration samples (images
 * preprocessed per the model card, or .npy tensors), feeds them to the
 * library's quantizer (ortc.h, ortc_quantizer_*) twice — once to collect
 * ranges, once to measure each layer's error — writes the QDQ model and
 * prints the per-layer report. The quantization itself is the library's.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "card.h"
#include "cli.h"
#include "filelist.h"
#include "npy.h"
#include "ortc/ortc.h"
#include "preprocess.h"

#define QUANT_DEFAULT_BATCH 32 /* samples per run when the model's batch is dynamic */

static void help(void)
{
    printf("usage: ortc quantize MODEL -o OUT.onnx --calibrate PATH... [options]\n"
           "\n"
           "Static post-training quantization to the QDQ format. Runs the float32 model on\n"
           "the calibration samples, takes each quantized node's activation range from\n"
           "them, and writes OUT.onnx: every Conv, Gemm and MatMul with constant float32\n"
           "weights reads its activation input through QuantizeLinear -> DequantizeLinear\n"
           "(per tensor, asymmetric), its weights as int8 (symmetric, one scale per output\n"
           "channel) and its bias as int32 through DequantizeLinear. ortc runs such a\n"
           "model in int8; ONNX Runtime loads it too. Then runs both models on the\n"
           "samples again and prints, per quantized node, its input's parameters and its\n"
           "output's error against float32 (max abs, and RMS relative to the float32\n"
           "values' RMS).\n"
           "\n"
           "Each PATH is a PNG/JPEG image (preprocessed per the model card: MODEL.yaml next\n"
           "to MODEL.onnx, or --card), a .npy tensor shaped like the model's input (its\n"
           "first dim may hold many samples), or a folder of either (taken in name order).\n"
           "The model must have one float32 input.\n"
           "\n"
           "options:\n"
           "  -o, --output FILE    the quantized model to write (required)\n"
           "  --calibrate PATH...  calibration samples; any further non-option arguments\n"
           "                       are samples too\n"
           "  --method M           minmax (default): the whole range seen; percentile:\n"
           "                       |x| clipped at --percentile of its histogram; entropy:\n"
           "                       |x| clipped where the KL divergence of the quantized\n"
           "                       histogram is least\n"
           "  --percentile P       for --method percentile, in (0, 100] (default 99.99)\n"
           "  --activations T      uint8 (default) or int8, both asymmetric\n"
           "  --exclude N[,N...]   keep these nodes (by name, see 'ortc info') in float32\n"
           "                       (repeatable)\n"
           "  --card FILE          model card (YAML) for images instead of MODEL.yaml\n"
           "  --batch N            samples per run (default: the model's fixed batch, else\n"
           "                       %d)\n"
           "  --report FILE.json   also write the report as JSON\n"
           "  --no-report          skip the second pass (no per-layer errors)\n"
           "  --threads N          kernel threads (default: all cores)\n",
           QUANT_DEFAULT_BATCH);
}

typedef struct quant_args {
    int threads; /* 0: all cores */
    const char *model, *output, *card_path, *report;
    int method;
    double percentile;
    ortc_dtype activations;
    char **exclude;
    size_t n_exclude;
    const char **paths;
    int n_paths;
    int batch;
    int no_report;
} quant_args;

static int add_excludes(quant_args *a, const char *list)
{
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0)
            return cli_usage_error("quantize", "--exclude: empty node name in '%s'", list);
        char **x = realloc(a->exclude, (a->n_exclude + 1) * sizeof *x);
        if (!x)
            return cli_error("out of memory");
        a->exclude = x;
        if (!(x[a->n_exclude] = strndup(p, len)))
            return cli_error("out of memory");
        a->n_exclude++;
        p += len + (e ? 1 : 0);
        if (e && !*p)
            return cli_usage_error("quantize", "--exclude: empty node name in '%s'", list);
    }
    return CLI_OK;
}

static int parse_args(int argc, char **argv, quant_args *a)
{
    a->method = ORTC_CALIB_MINMAX;
    a->percentile = 99.99;
    a->activations = ORTC_DTYPE_UINT8;
    int percentile_given = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return -1;
        }
        if (!strcmp(argv[i], "--no-report")) {
            a->no_report = 1;
            continue;
        }
        const char *names[] = {"--output",     "-o",      "--calibrate", "--method",
                               "--percentile", "--card",  "--exclude",   "--activations",
                               "--report",     "--batch", "--threads"};
        const char *val;
        int k = cli_opt_pick("quantize", argc, argv, &i, names, 11, &val);
        if (k == -2)
            return CLI_USAGE;
        switch (k) {
        case -1:
            if (cli_operand("quantize", argv[i], &a->model, a->paths, &a->n_paths, argc))
                return CLI_USAGE;
            break;
        case 0:
        case 1: a->output = val; break;
        case 2: a->paths[a->n_paths++] = val; break;
        case 3:
            if (!strcmp(val, "minmax"))
                a->method = ORTC_CALIB_MINMAX;
            else if (!strcmp(val, "percentile"))
                a->method = ORTC_CALIB_PERCENTILE;
            else if (!strcmp(val, "entropy"))
                a->method = ORTC_CALIB_ENTROPY;
            else
                return cli_usage_error("quantize",
                                       "--method: '%s' is not minmax, percentile or entropy", val);
            break;
        case 4: {
            char *end;
            errno = 0;
            a->percentile = strtod(val, &end);
            if (errno || end == val || *end || !(a->percentile > 0 && a->percentile <= 100))
                return cli_usage_error("quantize", "--percentile: '%s' is not in (0, 100]", val);
            percentile_given = 1;
            break;
        }
        case 5: a->card_path = val; break;
        case 6:
            if (add_excludes(a, val))
                return CLI_USAGE;
            break;
        case 7:
            if (!strcmp(val, "uint8"))
                a->activations = ORTC_DTYPE_UINT8;
            else if (!strcmp(val, "int8"))
                a->activations = ORTC_DTYPE_INT8;
            else
                return cli_usage_error("quantize", "--activations: '%s' is not uint8 or int8", val);
            break;
        case 8: a->report = val; break;
        case 9:
            if (cli_opt_count("quantize", "--batch", val, 65536, &a->batch))
                return CLI_USAGE;
            break;
        case 10:
            if (cli_opt_count("quantize", "--threads", val, 4096, &a->threads))
                return CLI_USAGE;
            break;
        }
    }
    if (!a->model)
        return cli_usage_error("quantize", "missing MODEL");
    if (!a->output)
        return cli_usage_error("quantize", "missing -o OUT.onnx");
    if (a->n_paths == 0)
        return cli_usage_error("quantize", "missing --calibrate PATH (images or .npy tensors)");
    if (percentile_given && a->method != ORTC_CALIB_PERCENTILE)
        return cli_usage_error("quantize", "--percentile needs --method percentile");
    if (a->report && a->no_report)
        return cli_usage_error("quantize", "--report and --no-report exclude each other");
    return CLI_OK;
}

/* ---- calibration samples ------------------------------------------------------- */

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The .npy files directly in `dir`, sorted, appended to list (*added:
 * how many). -1 on OOM or an unreadable folder (printed). */
static int add_npy_folder(ortc_filelist *list, const char *dir, size_t *added)
{
    DIR *d = opendir(dir);
    if (!d)
        return cli_error("%s: cannot read folder: %s", dir, strerror(errno)), -1;
    size_t first = list->n;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".npy"))
            continue;
        if (list->n == list->cap) {
            size_t cap = list->cap ? list->cap * 2 : 16;
            char **grown = realloc(list->paths, cap * sizeof *grown);
            if (!grown) {
                closedir(d);
                return cli_error("out of memory"), -1;
            }
            list->paths = grown;
            list->cap = cap;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) {
            closedir(d);
            return cli_error("out of memory"), -1;
        }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        list->paths[list->n++] = p;
    }
    closedir(d);
    if (list->n > first)
        qsort(list->paths + first, list->n - first, sizeof *list->paths, by_name);
    *added = list->n - first;
    return 0;
}

/* Every sample file: .npy files and images, folders expanded. */
static int list_samples(const quant_args *a, ortc_filelist *list)
{
    for (int i = 0; i < a->n_paths; i++) {
        const char *p = a->paths[i];
        struct stat st;
        if (stat(p, &st) != 0)
            return cli_error("%s: cannot read calibration file: %s", p, strerror(errno));
        if (S_ISDIR(st.st_mode)) {
            size_t npy = 0;
            if (add_npy_folder(list, p, &npy))
                return CLI_ERROR;
            if (npy)
                continue;
        }
        char err[1024];
        if (ortc_filelist_add(list, &p, 1, 0, err, sizeof err))
            return cli_error("%s", err);
    }
    if (list->n == 0)
        return cli_error("no calibration samples in the given paths");
    return CLI_OK;
}

/* What the model takes and how samples become batches. */
typedef struct feeder {
    const quant_args *a;
    ortc_quantizer *q;
    ortc_value_info in;
    ortc_card card;
    int have_card, nhwc;
    int image_ok;      /* the card's images fill the input exactly (rank 4, same dims) */
    int64_t batch;     /* samples per run */
    int fixed_batch;   /* the input's first dim is fixed */
    size_t per_sample; /* floats */
    float *buf;        /* batch being built */
    int64_t filled;
    int64_t samples; /* fed in this pass */
    int evaluate;    /* 0: calibrate, 1: evaluate */
} feeder;

static int flush(feeder *f)
{
    if (f->filled == 0)
        return CLI_OK;
    ortc_tensor t = {.dtype = ORTC_DTYPE_FLOAT, .rank = f->in.rank, .data = f->buf};
    for (int d = 0; d < f->in.rank; d++)
        t.dims[d] = f->in.dims[d];
    if (f->fixed_batch && f->filled < f->batch) /* pad a last partial batch with zeros */
        memset(f->buf + (size_t)f->filled * f->per_sample, 0,
               (size_t)(f->batch - f->filled) * f->per_sample * sizeof(float));
    t.dims[0] = f->fixed_batch ? f->batch : f->filled;
    ortc_status st =
        f->evaluate ? ortc_quantizer_evaluate(f->q, &t, 1) : ortc_quantizer_calibrate(f->q, &t, 1);
    if (st)
        return cli_error("%s", ortc_last_error());
    f->samples += f->filled;
    f->filled = 0;
    return CLI_OK;
}

static int feed(feeder *f, const float *sample)
{
    memcpy(f->buf + (size_t)f->filled * f->per_sample, sample, f->per_sample * sizeof(float));
    if (++f->filled == f->batch)
        return flush(f);
    return CLI_OK;
}

static int feed_npy(feeder *f, const char *path)
{
    ortc_tensor t;
    char err[1024];
    if (ortc_npy_read(path, &t, err, sizeof err))
        return cli_error("%s", err);
    int rc = CLI_OK;
    char want[200], got[200];
    int fits = t.rank == f->in.rank && t.dtype == ORTC_DTYPE_FLOAT;
    for (int d = 1; fits && d < t.rank; d++)
        fits = f->in.dims[d] < 0 || t.dims[d] == f->in.dims[d];
    if (!fits) {
        cli_info_shape_str(want, sizeof want, &f->in);
        rc = cli_error("%s: %s %s does not fit the model's input '%s' (float32 %s; the first "
                       "dim may hold any number of samples)",
                       path, ortc_dtype_name(t.dtype),
                       cli_shape_str(got, sizeof got, t.rank, t.dims), f->in.name, want);
    }
    const float *x = t.data;
    for (int64_t s = 0; rc == CLI_OK && s < (t.rank ? t.dims[0] : 0); s++)
        rc = feed(f, x + (size_t)s * f->per_sample);
    ortc_tensor_release(&t);
    return rc;
}

static int feed_image(feeder *f, const char *path, float *tmp)
{
    char err[1024];
    if (!f->have_card)
        return cli_error("%s: an image, but the model has no card (MODEL.yaml or --card) "
                         "saying how to preprocess it",
                         path);
    if (!f->image_ok)
        return cli_error("%s: an image, but the model's input '%s' is not a rank-4 image tensor",
                         path, f->in.name);
    if (ortc_preprocess_file(path, &f->card, tmp, err, sizeof err))
        return cli_error("%s", err);
    return feed(f, tmp);
}

static int run_pass(feeder *f, const ortc_filelist *list, int evaluate)
{
    f->evaluate = evaluate;
    f->samples = 0;
    f->filled = 0;
    float *tmp = malloc(f->per_sample * sizeof *tmp);
    if (!tmp)
        return cli_error("out of memory");
    int rc = CLI_OK;
    for (size_t i = 0; rc == CLI_OK && i < list->n; i++)
        rc = has_suffix(list->paths[i], ".npy") ? feed_npy(f, list->paths[i])
                                                : feed_image(f, list->paths[i], tmp);
    if (rc == CLI_OK)
        rc = flush(f);
    free(tmp);
    return rc;
}

static int setup_feeder(feeder *f, const quant_args *a)
{
    const ortc_model *m = ortc_quantizer_model(f->q);
    if (ortc_model_input_count(m) != 1)
        return cli_error("%s: the model has %zu inputs; ortc quantize calibrates models with one",
                         a->model, ortc_model_input_count(m));
    ortc_model_input(m, 0, &f->in);
    char sh[200];
    if (f->in.dtype != ORTC_DTYPE_FLOAT || f->in.rank < 1)
        return cli_error("%s: input '%s' is %s %s; ortc quantize needs a float32 input with a "
                         "batch dim",
                         a->model, f->in.name, ortc_dtype_name(f->in.dtype),
                         cli_info_shape_str(sh, sizeof sh, &f->in));
    char card_buf[4096], err[1024];
    const char *card_path = a->card_path;
    if (!card_path && cli_sidecar_card(a->model, card_buf, sizeof card_buf))
        card_path = card_buf;
    if (card_path) {
        if (ortc_card_load(card_path, &f->card, err, sizeof err))
            return cli_error("%s", err);
        f->have_card = 1;
        f->nhwc = f->card.nhwc;
        if (f->in.rank == 4) { /* the card's size where the model's is dynamic */
            int c = f->card.color == 1 ? 1 : 3;
            int64_t *d = f->in.dims;
            int64_t want[3] = {c, f->card.height, f->card.width};
            int64_t *have[3] = {f->nhwc ? &d[3] : &d[1], f->nhwc ? &d[1] : &d[2],
                                f->nhwc ? &d[2] : &d[3]};
            if (f->card.height <= 0)
                f->card.height = (int)*have[1], want[1] = *have[1];
            if (f->card.width <= 0)
                f->card.width = (int)*have[2], want[2] = *have[2];
            for (int k = 0; k < 3; k++)
                if (*have[k] < 0)
                    *have[k] = want[k];
            if (*have[0] != want[0] || *have[1] != want[1] || *have[2] != want[2])
                return cli_error("%s: input '%s' is %s but the card preprocesses to %d "
                                 "channel%s of %dx%d",
                                 card_path, f->in.name, cli_info_shape_str(sh, sizeof sh, &f->in),
                                 c, c == 1 ? "" : "s", f->card.height, f->card.width);
            f->image_ok = 1;
        }
    }
    f->per_sample = 1;
    for (int d = 1; d < f->in.rank; d++) {
        if (f->in.dims[d] < 0)
            return cli_error("%s: input '%s' is %s: every dim but the first must be fixed (or "
                             "set by the model card)",
                             a->model, f->in.name, cli_info_shape_str(sh, sizeof sh, &f->in));
        f->per_sample *= (size_t)f->in.dims[d];
    }
    f->fixed_batch = f->in.dims[0] > 0;
    if (f->fixed_batch && a->batch && a->batch != f->in.dims[0])
        return cli_error("%s: input '%s' has a fixed batch of %lld; --batch %d cannot change it",
                         a->model, f->in.name, (long long)f->in.dims[0], a->batch);
    f->batch = f->fixed_batch ? f->in.dims[0] : a->batch ? a->batch : QUANT_DEFAULT_BATCH;
    f->buf = malloc((size_t)f->batch * f->per_sample * sizeof *f->buf);
    if (!f->buf)
        return cli_error("out of memory");
    return CLI_OK;
}

/* ---- the report ------------------------------------------------------------------ */

static const char *method_name(int m)
{
    switch (m) {
    case ORTC_CALIB_PERCENTILE: return "percentile";
    case ORTC_CALIB_ENTROPY: return "entropy";
    default: return "minmax";
    }
}

static void print_report(const quant_args *a, ortc_quantizer *q, int64_t samples, int evaluated)
{
    size_t n = ortc_quantizer_layer_count(q);
    printf("%-36s %-6s %10s %5s %22s", "node", "op", "in scale", "zp", "in range");
    if (evaluated)
        printf(" %10s %9s", "max abs", "rel rms");
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        ortc_quant_layer l;
        ortc_quantizer_layer(q, i, &l);
        char range[64];
        snprintf(range, sizeof range, "[%.4g, %.4g]", l.input_min, l.input_max);
        printf("%-36s %-6s %10.4g %5d %22s", l.node, l.op_type, l.input_scale, l.input_zero_point,
               range);
        if (evaluated)
            printf(" %10.4g %8.3f%%", l.max_abs, 100.0 * l.rel_rms);
        printf("\n");
    }
    printf("wrote %s: %zu node%s quantized (int8 weights per output channel, %s activations, "
           "%s over %lld sample%s)%s\n",
           a->output, n, n == 1 ? "" : "s", a->activations == ORTC_DTYPE_INT8 ? "int8" : "uint8",
           method_name(a->method), (long long)samples, samples == 1 ? "" : "s",
           evaluated ? "; errors: each node's output, quantized model against float32" : "");
}

static int write_json_report(const quant_args *a, ortc_quantizer *q, int64_t samples)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *layers = cJSON_CreateArray();
    if (!o || !layers) {
        cJSON_Delete(o);
        cJSON_Delete(layers);
        return cli_error("out of memory");
    }
    cJSON_AddStringToObject(o, "model", a->model);
    cJSON_AddStringToObject(o, "output", a->output);
    cJSON_AddStringToObject(o, "method", method_name(a->method));
    if (a->method == ORTC_CALIB_PERCENTILE)
        cJSON_AddNumberToObject(o, "percentile", a->percentile);
    cJSON_AddStringToObject(o, "activations", ortc_dtype_name(a->activations));
    cJSON_AddNumberToObject(o, "samples", (double)samples);
    cJSON_AddItemToObject(o, "layers", layers);
    for (size_t i = 0; i < ortc_quantizer_layer_count(q); i++) {
        ortc_quant_layer l;
        ortc_quantizer_layer(q, i, &l);
        cJSON *j = cJSON_CreateObject();
        if (!j)
            break;
        cJSON_AddStringToObject(j, "node", l.node);
        cJSON_AddStringToObject(j, "op_type", l.op_type);
        cJSON_AddStringToObject(j, "input", l.input);
        cJSON_AddNumberToObject(j, "input_scale", l.input_scale);
        cJSON_AddNumberToObject(j, "input_zero_point", l.input_zero_point);
        cJSON_AddNumberToObject(j, "input_min", l.input_min);
        cJSON_AddNumberToObject(j, "input_max", l.input_max);
        cJSON_AddNumberToObject(j, "weight_channels", (double)l.channels);
        cJSON_AddStringToObject(j, "output", l.output);
        cJSON_AddNumberToObject(j, "compared", (double)l.count);
        cJSON_AddNumberToObject(j, "max_abs", l.max_abs);
        cJSON_AddNumberToObject(j, "rel_rms", l.rel_rms);
        cJSON_AddItemToArray(layers, j);
    }
    char *txt = cJSON_Print(o);
    cJSON_Delete(o);
    if (!txt)
        return cli_error("out of memory");
    FILE *f = fopen(a->report, "w");
    int ok = f && fputs(txt, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    free(txt);
    if (!ok)
        return cli_error("%s: cannot write the report: %s", a->report, strerror(errno));
    return CLI_OK;
}

int cli_quantize(int argc, char **argv)
{
    quant_args a;
    memset(&a, 0, sizeof a);
    a.paths = calloc((size_t)argc, sizeof *a.paths);
    if (!a.paths)
        return cli_error("out of memory");
    int rc = parse_args(argc, argv, &a);
    feeder f;
    memset(&f, 0, sizeof f);
    ortc_filelist list;
    memset(&list, 0, sizeof list);
    ortc_quantizer *q = NULL;
    if (rc) {
        rc = rc < 0 ? CLI_OK : rc;
        goto done;
    }
    ortc_quantize_options o;
    ortc_quantize_options_init(&o);
    o.method = a.method;
    o.percentile = a.percentile;
    o.activations = a.activations;
    o.exclude = (const char *const *)a.exclude;
    o.n_exclude = a.n_exclude;
    o.threads = a.threads;
    if ((rc = list_samples(&a, &list)))
        goto done;
    if (ortc_quantizer_create(&q, a.model, &o)) {
        rc = cli_error("%s", ortc_last_error());
        goto done;
    }
    f.a = &a;
    f.q = q;
    if ((rc = setup_feeder(&f, &a)) || (rc = run_pass(&f, &list, 0)))
        goto done;
    int64_t samples = f.samples;
    if (ortc_quantizer_quantize(q) || ortc_quantizer_save(q, a.output)) {
        rc = cli_error("%s", ortc_last_error());
        goto done;
    }
    if (!a.no_report && (rc = run_pass(&f, &list, 1)))
        goto done;
    print_report(&a, q, samples, !a.no_report);
    if (a.report)
        rc = write_json_report(&a, q, samples);
done:
    ortc_quantizer_free(q);
    if (f.have_card)
        ortc_card_free(&f.card);
    free(f.buf);
    ortc_filelist_free(&list);
    for (size_t i = 0; i < a.n_exclude; i++)
        free(a.exclude[i]);
    free(a.exclude);
    free(a.paths);
    return rc;
}
