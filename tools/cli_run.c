/* cli_run.c — `ortc run`: classify images (decode, preprocess per the model
 * card, run, print the top 5) or run on raw tensors from .npy/.pb files and
 * write the outputs as .npy. Knows files and people, not kernels.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "card.h"
#include "cli.h"
#include "npy.h"
#include "preprocess.h"

#define MAX_INPUT_ARGS 64

static void help(void)
{
    printf("usage: ortc run MODEL IMAGE... [options]\n"
           "       ortc run MODEL --input NAME=FILE... [--output-dir DIR] [options]\n"
           "\n"
           "Classify PNG/JPEG images: decode, preprocess per the model card (MODEL.yaml next\n"
           "to MODEL.onnx, or --card; without one, torchvision's ImageNet transform at the\n"
           "model's input size), run, print the top classes per image. Or run the model on\n"
           "tensors (.npy or ONNX TensorProto .pb) and write every output as DIR/<name>.npy.\n"
           "\n"
           "options:\n"
           "  --card FILE          model card (YAML) to use instead of MODEL.yaml\n"
           "  --top K              classes to print per image (default 5)\n"
           "  --dump-input FILE    write the preprocessed image batch as .npy\n"
           "  --input NAME=FILE    a model input from a .npy/.pb file (repeatable)\n"
           "  --output-dir DIR     write outputs as DIR/<output name>.npy\n"
           "  --threads N          kernel threads (default: all cores)\n"
           "  --reference          plain-C reference kernels (slow; for debugging)\n"
           "  --no-optimize        no graph passes (folding, fusion, ...; for debugging)\n"
           "  --max-tensor-bytes B refuse a computed tensor above B bytes (K/M/G/T\n"
           "                       suffixes; default 8G; see 'ortc info --limits')\n"
           "  --max-arena-bytes B  refuse a plan whose activations need more (default 16G)\n"
           "  --huge-pages         weights of 2 MB and more on transparent huge pages (a\n"
           "                       few percent faster fully connected layers at batch 1;\n"
           "                       slower start-up: for many images per process)\n"
           "  --json               print results as JSON\n"
           "  --verbose            log compilation details to stderr\n");
}

typedef struct run_args {
    cli_common common;
    const char *model;
    const char *card_path;
    const char *dump_input;
    const char *output_dir;
    int top;
    const char *images[4096];
    int n_images;
    const char *input_specs[MAX_INPUT_ARGS];
    int n_inputs;
} run_args;

static int parse_args(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->top = 5;
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
        const char *names[] = {"--card", "--top", "--dump-input", "--input", "--output-dir"};
        int matched = 0;
        for (int k = 0; k < 5 && !matched; k++) {
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
            }
        }
        if (matched)
            continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("run", "unknown option '%s'", argv[i]);
        if (!a->model)
            a->model = argv[i];
        else if (a->n_images < (int)(sizeof a->images / sizeof *a->images))
            a->images[a->n_images++] = argv[i];
        else
            return cli_usage_error("run", "too many images");
    }
    if (!a->model)
        return cli_usage_error("run", "missing MODEL");
    if (!a->n_images && !a->n_inputs)
        return cli_usage_error("run", "give IMAGE files or --input NAME=FILE");
    if (a->n_images && a->n_inputs)
        return cli_usage_error("run", "give either IMAGE files or --input, not both");
    if (a->n_images && a->output_dir)
        return cli_usage_error("run", "--output-dir is for --input runs");
    if (a->n_inputs && a->dump_input)
        return cli_usage_error("run", "--dump-input is for image runs");
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
    bool *given = calloc(ni + 1, sizeof *given);
    cJSON *json = NULL;
    if (!in || !out || !given) {
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
    if (ortc_session_output_shapes(s, in, ni, out, no)) {
        cli_error("%s", ortc_last_error());
        goto done;
    }
    for (size_t k = 0; k < no; k++) {
        size_t bytes = ortc_tensor_bytes(&out[k]);
        out[k].data = malloc(bytes ? bytes : 1);
        if (!out[k].data) {
            cli_error("out of memory for output %zu (%zu bytes)", k, bytes);
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
    for (size_t k = 0; out && k < no; k++)
        free(out[k].data);
    free(in);
    free(out);
    free(given);
    ortc_session_destroy(s);
    return rc;
}

/* ---- image mode --------------------------------------------------------------------- */

/* MODEL.onnx -> MODEL.yaml if it exists. */
static int sidecar_card(const char *model, char *buf, size_t len)
{
    const char *dot = strrchr(model, '.');
    const char *slash = strrchr(model, '/');
    size_t stem = (dot && (!slash || dot > slash)) ? (size_t)(dot - model) : strlen(model);
    if (stem + 6 > len)
        return 0;
    snprintf(buf, len, "%.*s.yaml", (int)stem, model);
    struct stat st;
    return stat(buf, &st) == 0;
}

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

static int by_prob_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->p != y->p)
        return x->p > y->p ? -1 : 1;
    return x->k < y->k ? -1 : 1;
}

static int report_image(const char *image, const float *row, int64_t classes, const ortc_card *card,
                        char **labels, size_t n_labels, int top, cJSON *json)
{
    scored *sc = malloc((size_t)classes * sizeof *sc);
    if (!sc)
        return cli_error("out of memory");
    double mx = -INFINITY, sum = 0;
    for (int64_t k = 0; k < classes; k++)
        mx = row[k] > mx ? row[k] : mx;
    for (int64_t k = 0; k < classes; k++) {
        sc[k].k = k;
        sc[k].p = card->output_logits ? exp((double)row[k] - mx) : (double)row[k];
        sum += sc[k].p;
    }
    if (card->output_logits && sum > 0)
        for (int64_t k = 0; k < classes; k++)
            sc[k].p /= sum;
    qsort(sc, (size_t)classes, sizeof *sc, by_prob_desc);
    int shown = top < classes ? top : (int)classes;
    cJSON *ji = NULL, *jt = NULL;
    if (json) {
        ji = cJSON_CreateObject();
        cJSON_AddStringToObject(ji, "image", image);
        jt = cJSON_AddArrayToObject(ji, "top");
        cJSON_AddItemToArray(json, ji);
    } else {
        printf("%s\n", image);
    }
    for (int r = 0; r < shown; r++) {
        const char *label = (size_t)sc[r].k < n_labels ? labels[sc[r].k] : "";
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "rank", r + 1);
            cJSON_AddNumberToObject(o, "probability", sc[r].p);
            cJSON_AddNumberToObject(o, "class", (double)sc[r].k);
            cJSON_AddStringToObject(o, "label", label);
            cJSON_AddItemToArray(jt, o);
        } else {
            printf("  %d  %.4f  %4lld  %s\n", r + 1, sc[r].p, (long long)sc[r].k, label);
        }
    }
    free(sc);
    return 0;
}

static int run_images(run_args *a)
{
    ortc_session *s = cli_session_create(a->model, &a->common);
    if (!s)
        return CLI_ERROR;
    int rc = CLI_ERROR;
    ortc_card card;
    bool have_card = false;
    char card_buf[4096], err[1024];
    char **labels = NULL;
    size_t n_labels = 0;
    float *pixels = NULL, *batch_buf = NULL;
    ortc_tensor *out = NULL;
    cJSON *json = NULL;
    size_t no = ortc_session_output_count(s);
    memset(&card, 0, sizeof card);

    const char *card_path = a->card_path;
    if (!card_path && sidecar_card(a->model, card_buf, sizeof card_buf))
        card_path = card_buf;
    if (card_path) {
        if (ortc_card_load(card_path, &card, err, sizeof err)) {
            cli_error("%s", err);
            goto done;
        }
        have_card = true;
    }
    if (ortc_session_input_count(s) != 1) {
        cli_error("%s: the model has %zu inputs; image mode needs exactly one (use --input)",
                  a->model, ortc_session_input_count(s));
        goto done;
    }
    size_t in_idx, out_idx;
    ortc_value_info in_vi, out_vi;
    if (find_io(s, have_card ? card.input_name : NULL, true, &in_idx, &in_vi, a->model) ||
        find_io(s, have_card ? card.output_name : NULL, false, &out_idx, &out_vi, a->model))
        goto done;
    if (in_vi.rank != 4 || (in_vi.dtype != ORTC_DTYPE_FLOAT)) {
        char sh[160];
        cli_error("%s: input '%s' is %s %s; image mode needs a float32 rank-4 image tensor",
                  a->model, in_vi.name, ortc_dtype_name(in_vi.dtype),
                  cli_info_shape_str(sh, sizeof sh, &in_vi));
        goto done;
    }
    int nhwc = have_card && card.nhwc;
    int64_t mh = in_vi.dims[nhwc ? 1 : 2], mw = in_vi.dims[nhwc ? 2 : 3];
    int64_t mc = in_vi.dims[nhwc ? 3 : 1];
    if (!have_card) {
        if (mh <= 0 || mw <= 0) {
            cli_error("%s: input '%s' has dynamic height/width; give a model card (--card) with "
                      "input.height and input.width",
                      a->model, in_vi.name);
            goto done;
        }
        ortc_card_default(&card, (int)mh, (int)mw);
    } else {
        if (card.height <= 0)
            card.height = (int)mh;
        if (card.width <= 0)
            card.width = (int)mw;
        if (card.height <= 0 || card.width <= 0) {
            cli_error("%s: the model's input size is dynamic and the card gives no "
                      "input.height/width",
                      card_path);
            goto done;
        }
    }
    int channels = card.color == 1 ? 1 : 3;
    if ((mc > 0 && mc != channels) || (mh > 0 && mh != card.height) ||
        (mw > 0 && mw != card.width)) {
        char sh[160];
        cli_error("%s: input '%s' is %s but the card preprocesses to %d channel%s of %dx%d",
                  a->model, in_vi.name, cli_info_shape_str(sh, sizeof sh, &in_vi), channels,
                  channels == 1 ? "" : "s", card.height, card.width);
        goto done;
    }
    if (card.labels_path &&
        ortc_labels_load(card.labels_path, &labels, &n_labels, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }

    /* preprocess every image up front */
    size_t per_image = (size_t)channels * (size_t)card.height * (size_t)card.width;
    pixels = malloc(per_image * sizeof(float) * (size_t)a->n_images);
    if (!pixels) {
        cli_error("out of memory for %d images", a->n_images);
        goto done;
    }
    for (int i = 0; i < a->n_images; i++)
        if (ortc_preprocess_file(a->images[i], &card, pixels + per_image * (size_t)i, err,
                                 sizeof err)) {
            cli_error("%s", err);
            goto done;
        }
    if (a->dump_input) {
        ortc_tensor d = {ORTC_DTYPE_FLOAT,
                         4,
                         {a->n_images, nhwc ? card.height : channels,
                          nhwc ? card.width : card.height, nhwc ? channels : card.width},
                         pixels};
        if (ortc_npy_write(a->dump_input, &d, err, sizeof err)) {
            cli_error("%s", err);
            goto done;
        }
    }

    /* batch: the model's fixed batch, or all images at once when dynamic */
    int64_t batch = in_vi.dims[0] > 0 ? in_vi.dims[0] : a->n_images;
    batch_buf = calloc((size_t)batch * per_image, sizeof(float));
    out = calloc(no + 1, sizeof *out);
    if (!batch_buf || !out) {
        cli_error("out of memory");
        goto done;
    }
    ortc_tensor in = {ORTC_DTYPE_FLOAT, 4, {batch, 0, 0, 0}, batch_buf};
    in.dims[1] = nhwc ? card.height : channels;
    in.dims[2] = nhwc ? card.width : card.height;
    in.dims[3] = nhwc ? channels : card.width;
    if (ortc_session_output_shapes(s, &in, 1, out, no)) {
        cli_error("%s", ortc_last_error());
        goto done;
    }
    const ortc_tensor *o = &out[out_idx];
    int64_t total = ortc_tensor_numel(o);
    if (o->dtype != ORTC_DTYPE_FLOAT || o->rank < 1 || o->dims[0] != batch || total <= 0) {
        char sh[160];
        cli_error("%s: output '%s' is %s %s; image mode needs float32 scores shaped [batch, "
                  "classes]",
                  a->model, out_vi.name, ortc_dtype_name(o->dtype),
                  cli_shape_str(sh, sizeof sh, o->rank, o->dims));
        goto done;
    }
    int64_t classes = total / batch;
    for (size_t k = 0; k < no; k++) {
        out[k].data = malloc(ortc_tensor_bytes(&out[k]) + 1);
        if (!out[k].data) {
            cli_error("out of memory");
            goto done;
        }
    }
    if (have_card && card.weights && !strcmp(card.weights, "random") && !a->common.json)
        printf("note: %s has random weights (its model card says so): the labels below are "
               "not meaningful\n",
               a->model);
    json = a->common.json ? cJSON_CreateArray() : NULL;
    for (int first = 0; first < a->n_images; first += (int)batch) {
        int count = a->n_images - first < batch ? a->n_images - first : (int)batch;
        memset(batch_buf, 0, (size_t)batch * per_image * sizeof(float));
        memcpy(batch_buf, pixels + per_image * (size_t)first,
               (size_t)count * per_image * sizeof(float));
        if (ortc_session_run(s, &in, 1, out, no)) {
            cli_error("%s", ortc_last_error());
            goto done;
        }
        for (int i = 0; i < count; i++)
            if (report_image(a->images[first + i], (const float *)o->data + classes * i, classes,
                             &card, labels, n_labels, a->top, json))
                goto done;
    }
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "model", a->model);
        if (have_card && card.weights)
            cJSON_AddStringToObject(root, "weights", card.weights);
        cJSON_AddItemToObject(root, "results", json);
        json = root;
        char *txt = cJSON_Print(root);
        if (txt)
            puts(txt);
        free(txt);
    }
    rc = CLI_OK;
done:
    cJSON_Delete(json);
    for (size_t k = 0; out && k < no; k++)
        free(out[k].data);
    free(out);
    free(batch_buf);
    free(pixels);
    ortc_labels_free(labels, n_labels);
    ortc_card_free(&card);
    ortc_session_destroy(s);
    return rc;
}

int cli_run(int argc, char **argv)
{
    run_args *a = malloc(sizeof *a);
    if (!a)
        return cli_error("out of memory");
    int r = parse_args(argc, argv, a);
    if (r) {
        free(a);
        return r < 0 ? CLI_OK : r;
    }
    int rc = a->n_images ? run_images(a) : run_tensors(a);
    free(a);
    return rc;
}
