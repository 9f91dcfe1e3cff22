/* cli_run.c — `ortc run`: classify images and folders of images (decoded
 * and preprocessed per the model card on worker threads, run in batches, top
 * K printed or written as CSV/JSON Lines) or run on raw tensors from .npy/.pb
 * files and write the outputs as .npy. Knows files and people, not kernels.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "card.h"
#include "cli.h"
#include "filelist.h"
#include "npy.h"
#include "pipeline.h"
#include "preprocess.h"
#include "progress.h"
#include "results.h"
#include "util.h"

#define MAX_INPUT_ARGS 64
#define RUN_DEFAULT_BATCH 32 /* images per run when the model's batch is dynamic */
#define RUN_MAX_WORKERS 8    /* default decoding threads: cores, at most this */

static void help(void)
{
    printf("usage: ortc run MODEL PATH... [options]\n"
           "       ortc run MODEL --input NAME=FILE... [--output-dir DIR] [options]\n"
           "\n"
           "Classify PNG/JPEG images: decode, preprocess per the model card (MODEL.yaml next\n"
           "to MODEL.onnx, or --card; without one, torchvision's ImageNet transform at the\n"
           "model's input size), run, print the top classes per image. Or run the model on\n"
           "tensors (.npy or ONNX TensorProto .pb) and write every output as DIR/<name>.npy.\n"
           "\n"
           "Each PATH is an image file (decoded by content, whatever its name) or a folder,\n"
           "which adds its files named .png, .jpg or .jpeg (any case) in name order; names\n"
           "starting with '.' are skipped, other files are skipped and listed at the end.\n"
           "Images are decoded and preprocessed on worker threads while the previous batch\n"
           "runs. Each image is preprocessed exactly as when run alone; a batch changes\n"
           "only the kernels' summation order (--batch 1: the single-image numbers). On a\n"
           "terminal a progress bar (done/total, images/s, time left) is drawn on stderr.\n"
           "\n"
           "Images that cannot be read (missing, truncated, not a PNG/JPEG) are errors.\n"
           "With a folder among the PATHs ortc keeps going (--keep-going is the default):\n"
           "the other images are classified, the failed ones are listed with the reason at\n"
           "the end, and the exit code is 1. With image files only, the first failure\n"
           "stops the run (exit 1) unless --keep-going is given. A folder without images is\n"
           "an error.\n"
           "\n"
           "options:\n"
           "  --card FILE          model card (YAML) to use instead of MODEL.yaml\n"
           "  --top K              classes to report per image (default 5)\n"
           "  --batch N            images per run of the model (default: the model's batch\n"
           "                       when its input has a fixed one, else %d; never more than\n"
           "                       the number of images). A fixed batch cannot be changed;\n"
           "                       a last, partial batch is padded with zeros for a fixed-\n"
           "                       batch model and run at its size for a dynamic one\n"
           "  -r, --recursive      also take the images in the folders' subfolders\n"
           "                       (symbolic links to folders are not followed)\n"
           "  --output FILE        write the results to FILE instead of the terminal:\n"
           "                       FILE.csv (a header, then one row per image: path, and\n"
           "                       class_k,label_k,probability_k for k = 1..K) or\n"
           "                       FILE.jsonl (one JSON object per image: path, top)\n"
           "  --keep-going         go on after an image that cannot be read (the default\n"
           "                       when a PATH is a folder)\n"
           "  --fail-fast          stop at the first image that cannot be read\n"
           "  --workers N          decoding threads (default: one per core, at most %d)\n"
           "  --no-progress        no progress bar, even on a terminal\n"
           "  --dump-input FILE    write the preprocessed images (all of them) as .npy\n"
           "  --input NAME=FILE    a model input from a .npy/.pb file (repeatable)\n"
           "  --output-dir DIR     write outputs as DIR/<output name>.npy\n"
           "  --threads N          kernel threads (default: all cores)\n"
           "  --reference          plain-C reference kernels (slow; for debugging)\n"
           "  --no-optimize        no graph passes (folding, fusion, ...; for debugging)\n"
           "  --precision P        fp32 (default) or bf16: Conv, ConvTranspose, Gemm and\n"
           "                       MatMul read bf16 inputs and weights (converted once)\n"
           "                       and accumulate in fp32; everything else, the inputs\n"
           "                       and the outputs stay fp32. Needs AVX-512 BF16 or AMX\n"
           "                       (else a warning, and fp32)\n"
           "  --max-tensor-bytes B refuse a computed tensor above B bytes (K/M/G/T\n"
           "                       suffixes; default 8G; see 'ortc info --limits')\n"
           "  --max-arena-bytes B  refuse a plan whose activations need more (default 16G)\n"
           "  --max-loop-iterations N, --max-sequence-length N, --max-nms-boxes N,\n"
           "  --max-dynamic-bytes B  limits on what only a run reveals (trips of one Loop,\n"
           "                       tensors in a sequence, NonMaxSuppression boxes per batch\n"
           "                       item, bytes of a run's values of data-dependent size)\n"
           "  --huge-pages         weights of 2 MB and more on transparent huge pages (a\n"
           "                       few percent faster fully connected layers at batch 1;\n"
           "                       slower start-up: for many images per process)\n"
           "  --json               print results as JSON\n"
           "  --verbose            log compilation details to stderr\n",
           RUN_DEFAULT_BATCH, RUN_MAX_WORKERS);
}

typedef struct run_args {
    cli_common common;
    const char *model;
    const char *card_path;
    const char *dump_input;
    const char *output_dir;
    const char *output;
    int top;
    int batch;      /* 0: the default */
    int workers;    /* 0: the default */
    int recursive;  /* 1: descend into subfolders */
    int keep_going; /* -1: the default (on when a PATH is a folder), 0, 1 */
    int no_progress;
    const char **images; /* the PATH arguments, argc entries */
    int n_images;
    const char *input_specs[MAX_INPUT_ARGS];
    int n_inputs;
} run_args;

static int parse_args(int argc, char **argv, run_args *a)
{
    const char **images = a->images;
    memset(a, 0, sizeof *a);
    a->images = images;
    a->top = 5;
    a->keep_going = -1;
    int image_opts = 0; /* options that only make sense with images */
    for (int i = 2; i < argc; i++) {
        const char *val;
        int r = cli_common_opt("run", argc, argv, &i, &a->common);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help();
            return -1;
        }
        if (!strcmp(argv[i], "--recursive") || !strcmp(argv[i], "-r")) {
            a->recursive = 1;
            image_opts++;
            continue;
        }
        if (!strcmp(argv[i], "--keep-going") || !strcmp(argv[i], "--fail-fast")) {
            a->keep_going = argv[i][2] == 'k';
            image_opts++;
            continue;
        }
        if (!strcmp(argv[i], "--no-progress")) {
            a->no_progress = 1;
            continue;
        }
        const char *names[] = {"--card",       "--top",    "--dump-input", "--input",
                               "--output-dir", "--output", "--batch",      "--workers"};
        int matched = 0;
        for (int k = 0; k < 8 && !matched; k++) {
            r = cli_opt_value(argc, argv, &i, names[k], &val);
            if (r < 0)
                return cli_usage_error("run", "%s needs a value", names[k]);
            if (r == 0)
                continue;
            matched = 1;
            switch (k) {
            case 0: a->card_path = val; break;
            case 1: {
                long t = cli_parse_count(val);
                if (t < 0)
                    return cli_usage_error("run", "--top: '%s' is not a positive count", val);
                a->top = (int)t;
                break;
            }
            case 2: a->dump_input = val; break;
            case 3:
                if (a->n_inputs == MAX_INPUT_ARGS)
                    return cli_usage_error("run", "too many --input options");
                a->input_specs[a->n_inputs++] = val;
                break;
            case 4: a->output_dir = val; break;
            case 5: {
                ortc_results_format f;
                if (ortc_results_format_of(val, &f))
                    return cli_usage_error("run", "--output: '%s' must end in .csv or .jsonl", val);
                a->output = val;
                image_opts++;
                break;
            }
            case 6:
            case 7:
                if (cli_opt_count("run", names[k], val, k == 6 ? 65536 : RUN_MAX_WORKERS * 8,
                                  k == 6 ? &a->batch : &a->workers))
                    return CLI_USAGE;
                image_opts++;
                break;
            }
        }
        if (matched)
            continue;
        if (cli_operand("run", argv[i], &a->model, a->images, &a->n_images, argc))
            return CLI_USAGE;
    }
    if (!a->model)
        return cli_usage_error("run", "missing MODEL");
    if (!a->n_images && !a->n_inputs)
        return cli_usage_error("run", "give image files or folders, or --input NAME=FILE");
    if (a->n_images && a->n_inputs)
        return cli_usage_error("run", "give either images or --input, not both");
    if (a->n_images && a->output_dir)
        return cli_usage_error("run", "--output-dir is for --input runs (images: --output)");
    if (a->n_inputs && a->dump_input)
        return cli_usage_error("run", "--dump-input is for image runs");
    if (a->n_inputs && image_opts)
        return cli_usage_error("run", "--batch, --recursive, --output, --keep-going, "
                                      "--fail-fast and --workers are for image runs");
    return 0;
}

/* ---- tensor mode ------------------------------------------------------------------ */

static void sanitize_name(char *dst, size_t len, const char *name)
{
    size_t j = 0;
    for (size_t i = 0; name[i] && j + 1 < len; i++) {
        char ch = name[i];
        dst[j++] = (ch == '/' || ch == '\\' || (ch == '.' && i == 0)) ? '_' : ch;
    }
    dst[j] = '\0';
    if (!j)
        snprintf(dst, len, "output");
}

static void print_summary(const char *name, const ortc_tensor *t, cJSON *json_arr)
{
    char shape[160];
    cli_shape_str(shape, sizeof shape, t->rank, t->dims);
    int64_t n = ortc_tensor_numel(t);
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    bool numeric = t->dtype == ORTC_DTYPE_FLOAT || t->dtype == ORTC_DTYPE_DOUBLE ||
                   t->dtype == ORTC_DTYPE_INT64 || t->dtype == ORTC_DTYPE_INT32;
    for (int64_t i = 0; numeric && i < n; i++) {
        double x = t->dtype == ORTC_DTYPE_FLOAT    ? ((float *)t->data)[i]
                   : t->dtype == ORTC_DTYPE_DOUBLE ? ((double *)t->data)[i]
                   : t->dtype == ORTC_DTYPE_INT64  ? (double)((int64_t *)t->data)[i]
                                                   : ((int32_t *)t->data)[i];
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
        sum += x;
    }
    if (json_arr) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "dtype", ortc_dtype_name(t->dtype));
        cJSON *dims = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < t->rank; d++)
            cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)t->dims[d]));
        if (numeric && n > 0) {
            cJSON_AddNumberToObject(o, "min", mn);
            cJSON_AddNumberToObject(o, "max", mx);
            cJSON_AddNumberToObject(o, "mean", sum / (double)n);
        }
        cJSON_AddItemToArray(json_arr, o);
        return;
    }
    printf("%s: %s %s", name, ortc_dtype_name(t->dtype), shape);
    if (numeric && n > 0)
        printf("  min %.6g  max %.6g  mean %.6g", mn, mx, sum / (double)n);
    printf("\n");
}

static int run_tensors(run_args *a)
{
    ortc_session *s = cli_session_create(a->model, &a->common);
    if (!s)
        return CLI_ERROR;
    int rc = CLI_ERROR;
    size_t ni = ortc_session_input_count(s), no = ortc_session_output_count(s);
    ortc_tensor *in = calloc(ni + 1, sizeof *in), *out = calloc(no + 1, sizeof *out);
    bool *given = calloc(ni + 1, sizeof *given), *dyn = calloc(no + 1, sizeof *dyn);
    cJSON *json = NULL;
    if (!in || !out || !given || !dyn) {
        cli_error("out of memory");
        goto done;
    }
    for (int k = 0; k < a->n_inputs; k++) {
        const char *spec = a->input_specs[k], *eq = strchr(spec, '=');
        char name[512];
        const char *file;
        size_t idx = ni;
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
            file = eq + 1;
            for (size_t i = 0; i < ni; i++) {
                ortc_value_info vi;
                ortc_session_input_info(s, i, &vi);
                if (!strcmp(vi.name, name))
                    idx = i;
            }
            if (idx == ni) {
                char have[256];
                cli_error("%s: the model has no input named '%s' (its inputs: %s)", a->model, name,
                          cli_input_names(s, have, sizeof have));
                goto done;
            }
        } else {
            if (ni != 1) {
                cli_error("%s: the model has %zu inputs; name them: --input NAME=FILE", a->model,
                          ni);
                goto done;
            }
            idx = 0;
            file = spec;
        }
        if (given[idx]) {
            cli_error("input %zu given twice", idx);
            goto done;
        }
        if (cli_tensor_read(file, &in[idx]))
            goto done;
        given[idx] = true;
    }
    for (size_t i = 0; i < ni; i++)
        if (!given[i]) {
            ortc_value_info vi;
            ortc_session_input_info(s, i, &vi);
            cli_error("%s: missing input '%s' (give --input %s=FILE)", a->model, vi.name, vi.name);
            goto done;
        }
    for (size_t i = 0; i < ni + no; i++) {
        ortc_type ty;
        ortc_value_info vi;
        if (i < ni)
            ortc_model_input_type(ortc_session_model(s), i, &ty);
        else
            ortc_model_output_type(ortc_session_model(s), i - ni, &ty);
        if (ty == ORTC_TYPE_TENSOR)
            continue;
        if (i < ni)
            ortc_session_input_info(s, i, &vi);
        else
            ortc_session_output_info(s, i - ni, &vi);
        cli_error("%s: %s '%s' is a %s; ortc run takes and writes tensors only (the C API's "
                  "ortc_session_run_any and the Python package take any value)",
                  a->model, i < ni ? "input" : "output", vi.name,
                  ty == ORTC_TYPE_SEQUENCE ? "sequence" : "optional");
        goto done;
    }
    if (ortc_session_output_shapes(s, in, ni, out, no)) {
        cli_error("%s", ortc_last_error());
        goto done;
    }
    for (size_t k = 0; k < no; k++) {
        if (cli_output_alloc(&out[k], &dyn[k])) {
            cli_error("out of memory for output %zu (%zu bytes)", k, ortc_tensor_bytes(&out[k]));
            goto done;
        }
    }
    if (ortc_session_run(s, in, ni, out, no)) {
        cli_error("%s", ortc_last_error());
        goto done;
    }
    if (a->output_dir && mkdir(a->output_dir, 0777) && errno != EEXIST) {
        cli_error("%s: cannot create folder: %s", a->output_dir, strerror(errno));
        goto done;
    }
    json = a->common.json ? cJSON_CreateArray() : NULL;
    for (size_t k = 0; k < no; k++) {
        ortc_value_info vi;
        ortc_session_output_info(s, k, &vi);
        if (a->output_dir) {
            char fname[512], path[4096], err[512];
            sanitize_name(fname, sizeof fname, vi.name);
            snprintf(path, sizeof path, "%s/%s.npy", a->output_dir, fname);
            if (ortc_npy_write(path, &out[k], err, sizeof err)) {
                cli_error("%s", err);
                goto done;
            }
        }
        print_summary(vi.name, &out[k], json);
    }
    if (json) {
        char *txt = cJSON_Print(json);
        if (txt)
            puts(txt);
        free(txt);
    }
    rc = CLI_OK;
done:
    cJSON_Delete(json);
    for (size_t i = 0; in && i < ni; i++)
        cli_tensor_free(&in[i]);
    for (size_t k = 0; out && k < no; k++) {
        if (dyn && dyn[k]) /* the run's (strings and all) */
            ortc_tensor_release(&out[k]);
        else
            free(out[k].data);
    }
    free(in);
    free(out);
    free(given);
    free(dyn);
    ortc_session_destroy(s);
    return rc;
}

/* ---- image mode --------------------------------------------------------------------- */

static int find_io(ortc_session *s, const char *want, bool input, size_t *idx, ortc_value_info *vi,
                   const char *model)
{
    size_t n = input ? ortc_session_input_count(s) : ortc_session_output_count(s);
    for (size_t i = 0; i < n; i++) {
        if (input)
            ortc_session_input_info(s, i, vi);
        else
            ortc_session_output_info(s, i, vi);
        if (!want || !strcmp(vi->name, want)) {
            *idx = i;
            return 0;
        }
    }
    if (want)
        return cli_error("%s: the model card names %s '%s', which the model does not have", model,
                         input ? "input" : "output", want),
               -1;
    return cli_error("%s: the model has no %ss", model, input ? "input" : "output"), -1;
}

typedef struct scored {
    double p;
    int64_t k;
} scored;

/* One `ortc run` over images: the model's facts, the batch being built, the
 * outputs and where results go. */
typedef struct image_run {
    run_args *a;
    ortc_session *s;
    ortc_card card;
    bool have_card;
    const char *card_path;
    char card_buf[4096];
    char **labels;
    size_t n_labels;
    size_t out_idx;
    ortc_value_info in_vi, out_vi;
    int nhwc, channels;
    size_t per_image; /* floats per preprocessed image */
    int64_t batch;    /* images per run of the model */
    bool fixed_batch; /* the model's input has a fixed first dim */
    ortc_tensor in;
    float *batch_buf;
    const char **batch_paths; /* the image of each batch position */
    ortc_tensor *out;
    size_t no;
    size_t *out_cap;    /* bytes allocated per output */
    int64_t shaped_for; /* batch size the output shapes are for (0: none yet) */
    int64_t classes;
    scored *sc;
    int64_t *top_cls;
    const char **top_lbl;
    double *top_p;
    cJSON *json; /* --json: the results array */
    ortc_results results;
    bool have_results;
    bool text; /* per-image text on stdout */
    ortc_progress progress;
    float *dump; /* --dump-input: every preprocessed image */
    size_t n_dump, dump_cap;
    size_t n_ok;
} image_run;

/* Loads the card and labels and checks the model takes one float32 image
 * tensor and gives float32 scores. CLI_OK or CLI_ERROR (printed). */
static int setup_model(image_run *r)
{
    run_args *a = r->a;
    char err[1024];
    r->card_path = a->card_path;
    if (!r->card_path && cli_sidecar_card(a->model, r->card_buf, sizeof r->card_buf))
        r->card_path = r->card_buf;
    if (r->card_path) {
        if (ortc_card_load(r->card_path, &r->card, err, sizeof err))
            return cli_error("%s", err);
        r->have_card = true;
    }
    if (ortc_session_input_count(r->s) != 1)
        return cli_error("%s: the model has %zu inputs; image mode needs exactly one (use --input)",
                         a->model, ortc_session_input_count(r->s));
    size_t in_idx;
    if (find_io(r->s, r->have_card ? r->card.input_name : NULL, true, &in_idx, &r->in_vi,
                a->model) ||
        find_io(r->s, r->have_card ? r->card.output_name : NULL, false, &r->out_idx, &r->out_vi,
                a->model))
        return CLI_ERROR;
    const ortc_value_info *vi = &r->in_vi;
    if (vi->rank != 4 || (vi->dtype != ORTC_DTYPE_FLOAT)) {
        char sh[160];
        return cli_error("%s: input '%s' is %s %s; image mode needs a float32 rank-4 image tensor",
                         a->model, vi->name, ortc_dtype_name(vi->dtype),
                         cli_info_shape_str(sh, sizeof sh, vi));
    }
    r->nhwc = r->have_card && r->card.nhwc;
    int64_t mh = vi->dims[r->nhwc ? 1 : 2], mw = vi->dims[r->nhwc ? 2 : 3];
    int64_t mc = vi->dims[r->nhwc ? 3 : 1];
    if (!r->have_card) {
        if (mh <= 0 || mw <= 0)
            return cli_error("%s: input '%s' has dynamic height/width; give a model card (--card) "
                             "with input.height and input.width",
                             a->model, vi->name);
        ortc_card_default(&r->card, (int)mh, (int)mw);
    } else {
        if (r->card.height <= 0)
            r->card.height = (int)mh;
        if (r->card.width <= 0)
            r->card.width = (int)mw;
        if (r->card.height <= 0 || r->card.width <= 0)
            return cli_error("%s: the model's input size is dynamic and the card gives no "
                             "input.height/width",
                             r->card_path);
    }
    r->channels = r->card.color == 1 ? 1 : 3;
    if ((mc > 0 && mc != r->channels) || (mh > 0 && mh != r->card.height) ||
        (mw > 0 && mw != r->card.width)) {
        char sh[160];
        return cli_error("%s: input '%s' is %s but the card preprocesses to %d channel%s of %dx%d",
                         a->model, vi->name, cli_info_shape_str(sh, sizeof sh, vi), r->channels,
                         r->channels == 1 ? "" : "s", r->card.height, r->card.width);
    }
    if (r->card.labels_path &&
        ortc_labels_load(r->card.labels_path, &r->labels, &r->n_labels, err, sizeof err))
        return cli_error("%s", err);
    r->per_image = (size_t)r->channels * (size_t)r->card.height * (size_t)r->card.width;
    return CLI_OK;
}

/* Shapes the input for n images, and the outputs for it (buffers grown as
 * needed). CLI_OK or CLI_ERROR (printed). */
static int shape_outputs(image_run *r, int64_t n)
{
    r->in.dims[0] = n;
    if (r->shaped_for == n)
        return CLI_OK;
    if (ortc_session_output_shapes(r->s, &r->in, 1, r->out, r->no))
        return cli_error("%s", ortc_last_error());
    const ortc_tensor *o = &r->out[r->out_idx];
    int64_t total = ortc_tensor_numel(o);
    if (o->dtype != ORTC_DTYPE_FLOAT || o->rank < 1 || o->dims[0] != n || total <= 0) {
        char sh[160];
        return cli_error("%s: output '%s' is %s %s; image mode needs float32 scores shaped [batch, "
                         "classes]",
                         r->a->model, r->out_vi.name, ortc_dtype_name(o->dtype),
                         cli_shape_str(sh, sizeof sh, o->rank, o->dims));
    }
    int64_t classes = total / n;
    if (r->classes && classes != r->classes)
        return cli_error("%s: output '%s' has %lld scores per image at batch %lld but %lld at "
                         "another batch size",
                         r->a->model, r->out_vi.name, (long long)classes, (long long)n,
                         (long long)r->classes);
    if (!r->classes) {
        r->classes = classes;
        /* the top K only: a segmentation model has a score per pixel */
        size_t k = (size_t)(r->a->top < classes ? r->a->top : classes) + 1;
        r->sc = malloc(k * sizeof *r->sc);
        r->top_cls = malloc(k * sizeof *r->top_cls);
        r->top_lbl = malloc(k * sizeof *r->top_lbl);
        r->top_p = malloc(k * sizeof *r->top_p);
        if (!r->sc || !r->top_cls || !r->top_lbl || !r->top_p)
            return cli_error("out of memory for %lld classes", (long long)classes);
    }
    for (size_t k = 0; k < r->no; k++) {
        size_t bytes = ortc_tensor_bytes(&r->out[k]) + 1;
        if (bytes > r->out_cap[k]) {
            free(r->out[k].data);
            r->out[k].data = ortc_tools_alloc_tensor(bytes);
            r->out_cap[k] = r->out[k].data ? bytes : 0;
            if (!r->out[k].data)
                return cli_error("out of memory for output %zu (%zu bytes)", k, bytes);
        }
    }
    r->shaped_for = n;
    return CLI_OK;
}

/* Ranks one image's scores (softmax first for logits) and sends its top K to
 * the terminal, the --json array and the results file. */
static int report_image(image_run *r, const char *image, const float *row)
{
    const ortc_card *card = &r->card;
    int64_t classes = r->classes;
    scored *sc = r->sc;
    double mx = -INFINITY, sum = 0;
    for (int64_t k = 0; k < classes; k++)
        mx = row[k] > mx ? row[k] : mx;
    for (int64_t k = 0; k < classes; k++)
        sum += card->output_logits ? exp((double)row[k] - mx) : (double)row[k];
    /* the `shown` best, most probable first and the lower class first
     * among equals, kept sorted by insertion (a later class only displaces
     * a strictly more probable one) */
    int shown = r->a->top < classes ? r->a->top : (int)classes, kept = 0;
    for (int64_t k = 0; k < classes && shown > 0; k++) {
        double pk = card->output_logits ? exp((double)row[k] - mx) : (double)row[k];
        if (card->output_logits && sum > 0)
            pk /= sum;
        if (kept == shown && !(pk > sc[kept - 1].p))
            continue;
        int at = kept < shown ? kept++ : kept - 1;
        while (at > 0 && pk > sc[at - 1].p) {
            sc[at] = sc[at - 1];
            at--;
        }
        sc[at] = (scored){pk, k};
    }
    for (int i = 0; i < shown; i++) {
        r->top_cls[i] = sc[i].k;
        r->top_lbl[i] = (size_t)sc[i].k < r->n_labels ? r->labels[sc[i].k] : "";
        r->top_p[i] = sc[i].p;
    }
    if (r->json) {
        cJSON *ji = cJSON_CreateObject();
        cJSON_AddStringToObject(ji, "image", image);
        cJSON *jt = cJSON_AddArrayToObject(ji, "top");
        cJSON_AddItemToArray(r->json, ji);
        for (int i = 0; i < shown; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "rank", i + 1);
            cJSON_AddNumberToObject(o, "probability", r->top_p[i]);
            cJSON_AddNumberToObject(o, "class", (double)r->top_cls[i]);
            cJSON_AddStringToObject(o, "label", r->top_lbl[i]);
            cJSON_AddItemToArray(jt, o);
        }
    }
    if (r->text) {
        printf("%s\n", image);
        for (int i = 0; i < shown; i++)
            printf("  %d  %.4f  %4lld  %s\n", i + 1, r->top_p[i], (long long)r->top_cls[i],
                   r->top_lbl[i]);
    }
    if (r->have_results) {
        char err[1024];
        if (ortc_results_write(&r->results, image, shown, r->top_cls, r->top_lbl, r->top_p, err,
                               sizeof err))
            return cli_error("%s", err);
    }
    return 0;
}

/* Runs the model on the `count` images in batch_buf and reports them. */
static int run_batch(image_run *r, int64_t count)
{
    int64_t n = r->fixed_batch ? r->batch : count;
    if (count < n) /* a fixed-batch model's last batch: zeros after the images */
        memset(r->batch_buf + (size_t)count * r->per_image, 0,
               (size_t)(n - count) * r->per_image * sizeof(float));
    if (shape_outputs(r, n))
        return CLI_ERROR;
    if (ortc_session_run(r->s, &r->in, 1, r->out, r->no)) {
        ortc_progress_clear(&r->progress);
        return cli_error("%s", ortc_last_error());
    }
    ortc_progress_clear(&r->progress);
    const float *scores = r->out[r->out_idx].data;
    for (int64_t i = 0; i < count; i++)
        if (report_image(r, r->batch_paths[i], scores + r->classes * i))
            return CLI_ERROR;
    if (r->text)
        fflush(stdout);
    r->n_ok += (size_t)count;
    return CLI_OK;
}

static int keep_for_dump(image_run *r, const float *img)
{
    if (r->n_dump == r->dump_cap) {
        size_t cap = r->dump_cap ? r->dump_cap * 2 : 64;
        float *d = realloc(r->dump, cap * r->per_image * sizeof(float));
        if (!d)
            return cli_error("out of memory for --dump-input (%zu images)", cap);
        r->dump = d;
        r->dump_cap = cap;
    }
    memcpy(r->dump + r->n_dump++ * r->per_image, img, r->per_image * sizeof(float));
    return CLI_OK;
}

typedef struct load_ctx {
    const ortc_card *card;
    char **paths;
} load_ctx;

/* Worker threads: decode and preprocess one image (tools/preprocess.c). */
static int load_image(void *user, size_t index, float *out, char *err, size_t errlen)
{
    const load_ctx *c = user;
    return ortc_preprocess_file(c->paths[index], c->card, out, err, errlen);
}

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > RUN_MAX_WORKERS ? RUN_MAX_WORKERS : (int)n;
}

/* The failures, then the skipped files, on stderr. */
static void list_failures(char **failed, size_t n_failed, size_t n_total, const ortc_filelist *fl)
{
    if (fl->n_ignored) {
        fprintf(stderr,
                "ortc: note: %zu file%s in the folders %s not named .png, .jpg or .jpeg "
                "and %s skipped:\n",
                fl->n_ignored, fl->n_ignored == 1 ? "" : "s", fl->n_ignored == 1 ? "is" : "are",
                fl->n_ignored == 1 ? "was" : "were");
        size_t kept =
            fl->n_ignored < ORTC_FILELIST_IGNORED_KEPT ? fl->n_ignored : ORTC_FILELIST_IGNORED_KEPT;
        for (size_t i = 0; i < kept; i++)
            fprintf(stderr, "  %s\n", fl->ignored[i]);
        if (fl->n_ignored > kept)
            fprintf(stderr, "  ... and %zu more\n", fl->n_ignored - kept);
    }
    if (!n_failed)
        return;
    fprintf(stderr, "ortc: %zu of %zu image%s could not be classified:\n", n_failed, n_total,
            n_total == 1 ? "" : "s");
    for (size_t i = 0; i < n_failed; i++)
        fprintf(stderr, "  %s\n", failed[i]);
}

static int run_images(run_args *a)
{
    ortc_session *s = cli_session_create(a->model, &a->common);
    if (!s)
        return CLI_ERROR;
    image_run *r = calloc(1, sizeof *r);
    ortc_filelist fl;
    memset(&fl, 0, sizeof fl);
    ortc_pipeline *pipe = NULL;
    char **failed = NULL;
    size_t n_failed = 0;
    int rc = CLI_ERROR;
    char err[1024];
    if (!r) {
        cli_error("out of memory");
        goto done;
    }
    r->a = a;
    r->s = s;
    r->no = ortc_session_output_count(s);
    if (setup_model(r))
        goto done;

    if (ortc_filelist_add(&fl, a->images, (size_t)a->n_images, a->recursive, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    size_t n_images = fl.n;
    if (!n_images) {
        cli_error("no images to classify");
        goto done;
    }
    bool keep_going = a->keep_going >= 0 ? a->keep_going : fl.n_folders > 0;

    /* the batch: the model's fixed one, else --batch or the default */
    r->fixed_batch = r->in_vi.dims[0] > 0;
    if (r->fixed_batch) {
        r->batch = r->in_vi.dims[0];
        if (a->batch && a->batch != r->batch) {
            cli_error("%s: input '%s' has a fixed batch of %lld; --batch %d cannot be used",
                      a->model, r->in_vi.name, (long long)r->batch, a->batch);
            goto done;
        }
    } else {
        r->batch = a->batch ? a->batch : RUN_DEFAULT_BATCH;
        if ((size_t)r->batch > n_images)
            r->batch = (int64_t)n_images;
    }
    if ((size_t)r->batch > SIZE_MAX / sizeof(float) / r->per_image) {
        cli_error("--batch %lld: too large", (long long)r->batch);
        goto done;
    }
    size_t batch_bytes = (size_t)r->batch * r->per_image * sizeof(float);
    if ((r->batch_buf = ortc_tools_alloc_tensor(batch_bytes)))
        memset(r->batch_buf, 0, batch_bytes);
    r->batch_paths = calloc((size_t)r->batch, sizeof *r->batch_paths);
    r->out = calloc(r->no + 1, sizeof *r->out);
    r->out_cap = calloc(r->no + 1, sizeof *r->out_cap);
    failed = calloc(n_images + fl.n_unreadable + 1, sizeof *failed);
    if (!r->batch_buf || !r->batch_paths || !r->out || !r->out_cap || !failed) {
        cli_error("out of memory for a batch of %lld images", (long long)r->batch);
        goto done;
    }
    r->in = (ortc_tensor){ORTC_DTYPE_FLOAT, 4, {r->batch, 0, 0, 0}, r->batch_buf};
    r->in.dims[1] = r->nhwc ? r->card.height : r->channels;
    r->in.dims[2] = r->nhwc ? r->card.width : r->card.height;
    r->in.dims[3] = r->nhwc ? r->channels : r->card.width;
    /* the model must give scores before any image is read */
    if (shape_outputs(r, r->batch))
        goto done;

    if (a->output) {
        if (ortc_results_open(&r->results, a->output,
                              a->top < r->classes ? a->top : (int)r->classes, err, sizeof err)) {
            cli_error("%s", err);
            goto done;
        }
        r->have_results = true;
    }
    r->json = a->common.json ? cJSON_CreateArray() : NULL;
    r->text = !a->common.json && !a->output;
    if (r->have_card && r->card.weights && !strcmp(r->card.weights, "random") && !a->common.json)
        fprintf(r->text ? stdout : stderr,
                "note: %s has random weights (its model card says so): the labels below are "
                "not meaningful\n",
                a->model);
    if (r->text)
        fflush(stdout);
    for (size_t i = 0; i < fl.n_unreadable; i++)
        failed[n_failed++] = strdup(fl.unreadable[i]);
    if (n_failed && !keep_going) {
        cli_error("%s", fl.unreadable[0]);
        goto done;
    }

    /* decode ahead on workers while the model runs; take images in order */
    int workers = a->workers ? a->workers : default_workers();
    if ((size_t)workers > n_images)
        workers = (int)n_images;
    /* a ring of two batches lets the workers fill the next batch while this
     * one runs; one batch (plus a slot per worker) when two take over 1 GiB */
    size_t ahead = 2 * (size_t)r->batch + (size_t)workers;
    if (ahead > ((size_t)1 << 30) / sizeof(float) / r->per_image)
        ahead = (size_t)r->batch + (size_t)workers;
    load_ctx lc = {&r->card, fl.paths};
    if (ortc_pipeline_start(&pipe, n_images, r->per_image, ahead < n_images ? ahead : n_images,
                            workers, load_image, &lc, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    ortc_progress_start(&r->progress, stderr, n_images, !a->no_progress && n_images > 1);
    int64_t filled = 0;
    size_t seen = 0;
    for (;;) {
        const float *img;
        const char *ierr;
        size_t idx = ortc_pipeline_next(pipe, &img, &ierr);
        if (idx == (size_t)-1)
            break;
        seen++;
        if (ierr) {
            if (!keep_going) {
                ortc_progress_clear(&r->progress);
                cli_error("%s", ierr);
                goto done;
            }
            failed[n_failed++] = strdup(ierr);
        } else {
            memcpy(r->batch_buf + (size_t)filled * r->per_image, img, r->per_image * sizeof(float));
            r->batch_paths[filled++] = fl.paths[idx];
            if (a->dump_input && keep_for_dump(r, img))
                goto done;
        }
        ortc_pipeline_release(pipe);
        if (filled == r->batch) {
            if (run_batch(r, filled))
                goto done;
            filled = 0;
            ortc_progress_update(&r->progress, seen, 1);
        } else {
            ortc_progress_update(&r->progress, seen, 0);
        }
    }
    if (filled && run_batch(r, filled))
        goto done;
    ortc_pipeline_stop(pipe);
    pipe = NULL;
    ortc_progress_finish(&r->progress, seen);

    if (a->dump_input) {
        ortc_tensor d = {ORTC_DTYPE_FLOAT,
                         4,
                         {(int64_t)r->n_dump, r->in.dims[1], r->in.dims[2], r->in.dims[3]},
                         r->dump};
        if (ortc_npy_write(a->dump_input, &d, err, sizeof err)) {
            cli_error("%s", err);
            goto done;
        }
    }
    if (r->have_results) {
        r->have_results = false;
        if (ortc_results_close(&r->results, err, sizeof err)) {
            cli_error("%s", err);
            goto done;
        }
    }
    if (r->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", a->model);
        if (r->have_card && r->card.weights)
            cJSON_AddStringToObject(root, "weights", r->card.weights);
        cJSON_AddItemToObject(root, "results", r->json);
        r->json = root;
        if (n_failed) {
            cJSON *jf = cJSON_AddArrayToObject(root, "failed");
            for (size_t i = 0; i < n_failed; i++)
                cJSON_AddItemToArray(jf, cJSON_CreateString(failed[i] ? failed[i] : "?"));
        }
        char *txt = cJSON_Print(root);
        if (txt)
            puts(txt);
        free(txt);
    }
    fflush(stdout);
    list_failures(failed, n_failed, n_images + fl.n_unreadable, &fl);
    rc = n_failed ? CLI_ERROR : CLI_OK;
done:
    ortc_pipeline_stop(pipe);
    if (r) {
        ortc_progress_clear(&r->progress);
        if (r->have_results)
            ortc_results_close(&r->results, NULL, 0);
        cJSON_Delete(r->json);
        for (size_t k = 0; r->out && k < r->no; k++)
            free(r->out[k].data);
        free(r->out);
        free(r->out_cap);
        free(r->batch_buf);
        free(r->batch_paths);
        free(r->sc);
        free(r->top_cls);
        free(r->top_lbl);
        free(r->top_p);
        free(r->dump);
        ortc_labels_free(r->labels, r->n_labels);
        ortc_card_free(&r->card);
        free(r);
    }
    for (size_t i = 0; i < n_failed; i++)
        free(failed[i]);
    free(failed);
    ortc_filelist_free(&fl);
    ortc_session_destroy(s);
    return rc;
}

int cli_run(int argc, char **argv)
{
    run_args *a = malloc(sizeof *a);
    const char **images = calloc((size_t)argc + 1, sizeof *images);
    if (!a || !images) {
        free(a);
        free(images);
        return cli_error("out of memory");
    }
    a->images = images;
    int r = parse_args(argc, argv, a);
    int rc = r ? (r < 0 ? CLI_OK : r) : a->n_images ? run_images(a) : run_tensors(a);
    free(images);
    free(a);
    return rc;
}
