/* card.c — parses model cards (YAML, via libyaml's document API) into
 * ortc_card, checking every key and type with file:line messages, and reads
 * label files. It does not apply a card (preprocess.c) or look at models.
 */
#include "card.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "resize.h"
#include "util.h"
#include "yaml_doc.h"

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

void ortc_card_default(ortc_card *card, int height, int width)
{
    if (!card)
        return;
    memset(card, 0, sizeof *card);
    card->height = height;
    card->width = width;
    card->resize = -1;
    card->center_crop = 1;
    card->interpolation = ORTC_RESAMPLE_BILINEAR;
    card->color = 3;
    card->scale = 1.0f / 255.0f;
    card->n_channels = 3;
    memcpy(card->mean, imagenet_mean, sizeof card->mean);
    memcpy(card->std, imagenet_std, sizeof card->std);
    card->output_logits = 1;
}

void ortc_card_free(ortc_card *card)
{
    if (!card)
        return;
    free(card->name);
    free(card->description);
    free(card->weights);
    free(card->input_name);
    free(card->output_name);
    free(card->labels_path);
    memset(card, 0, sizeof *card);
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct card_parser {
    ortc_yaml_doc y;
    int have_mean, have_std;
    int n_mean, n_std;
    float mean[3], std[3];
} card_parser;

/* A plain (unquoted) scalar spelling YAML's null. */
static int is_null(const yaml_node_t *n)
{
    const char *s = ortc_yaml_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int get_string(card_parser *p, const yaml_node_t *n, const char *key, char **out)
{
    const char *s = ortc_yaml_scalar(n);
    if (!s || is_null(n))
        return ortc_yaml_doc_fail(&p->y, n, "%s must be a string", key);
    char *copy = strdup(s);
    if (!copy)
        return ortc_yaml_doc_fail(&p->y, n, "out of memory");
    free(*out);
    *out = copy;
    return 0;
}

static int get_int(card_parser *p, const yaml_node_t *n, const char *key, long lo, long hi,
                   const char *what, int *out)
{
    const char *s = ortc_yaml_scalar(n);
    char *end = NULL;
    errno = 0;
    long v = s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? strtol(s, &end, 10) : 0;
    if (!s || !*s || !end || *end || errno || v < lo || v > hi)
        return ortc_yaml_doc_fail(&p->y, n, "%s must be %s", key, what);
    *out = (int)v;
    return 0;
}

static int parse_number(const yaml_node_t *n, float *out)
{
    const char *s = ortc_yaml_scalar(n);
    if (!s || !*s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v) || fabs(v) > 3.0e38)
        return -1;
    *out = (float)v;
    return 0;
}

/* One of `names`; returns its index in *out. */
static int get_choice(card_parser *p, const yaml_node_t *n, const char *key,
                      const char *const *names, int count, const char *list, int *out)
{
    const char *s = ortc_yaml_scalar(n);
    for (int i = 0; s && i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return ortc_yaml_doc_fail(&p->y, n, "%s must be one of %s", key, list);
}

/* A list of 1 or 3 numbers. */
static int get_triple(card_parser *p, const yaml_node_t *n, const char *key, float *vals,
                      int *count)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return ortc_yaml_doc_fail(&p->y, n, "%s must be a list of 1 or 3 numbers", key);
    int k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++, k++) {
        yaml_node_t *item = yaml_document_get_node(&p->y.doc, *it);
        if (k >= 3 || parse_number(item, &vals[k]) != 0)
            return ortc_yaml_doc_fail(&p->y, n, "%s must be a list of 1 or 3 numbers", key);
    }
    if (k != 1 && k != 3)
        return ortc_yaml_doc_fail(&p->y, n, "%s must be a list of 1 or 3 numbers", key);
    *count = k;
    return 0;
}

/* Checks that `map` is a mapping without duplicate or non-string keys. */
static int check_mapping(card_parser *p, const yaml_node_t *map, const char *what)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return ortc_yaml_doc_fail(&p->y, map, "%s must be a mapping", what);
    for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
         a++) {
        yaml_node_t *ka = yaml_document_get_node(&p->y.doc, a->key);
        if (!ortc_yaml_scalar(ka))
            return ortc_yaml_doc_fail(&p->y, ka, "%s has a key that is not a string", what);
        for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
            yaml_node_t *kb = yaml_document_get_node(&p->y.doc, b->key);
            if (strcmp(ortc_yaml_scalar(ka), ortc_yaml_scalar(kb)) == 0)
                return ortc_yaml_doc_fail(&p->y, ka, "duplicate key '%s' in %s",
                                          ortc_yaml_scalar(ka), what);
        }
    }
    return 0;
}

/* Handles one key k (node kn, value v) of a mapping; 0 or -1 after fail_at. */
typedef int (*key_fn)(card_parser *p, const char *k, const yaml_node_t *kn, const yaml_node_t *v,
                      ortc_card *card, char **labels);

/* check_mapping, then fn on each key in document order; stops at an error. */
static int walk_mapping(card_parser *p, const yaml_node_t *map, const char *what, key_fn fn,
                        ortc_card *card, char **labels)
{
    if (check_mapping(p, map, what) != 0)
        return -1;
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *kn = yaml_document_get_node(&p->y.doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&p->y.doc, pr->value);
        if (fn(p, ortc_yaml_scalar(kn), kn, v, card, labels) != 0)
            return -1;
    }
    return 0;
}

static int input_key(card_parser *p, const char *k, const yaml_node_t *kn, const yaml_node_t *v,
                     ortc_card *card, char **labels)
{
    static const char *const layouts[] = {"NCHW", "NHWC"};
    static const char *const crops[] = {"none", "center"};
    static const char *const interps[] = {"nearest", "bilinear", "bicubic"};
    static const int interp_values[] = {ORTC_RESAMPLE_NEAREST, ORTC_RESAMPLE_BILINEAR,
                                        ORTC_RESAMPLE_BICUBIC};
    static const char *const colors[] = {"RGB", "BGR", "GRAY"};
    static const int color_values[] = {3, -3, 1};
    (void)labels;
    int i = 0, rc;
    if (!strcmp(k, "name")) {
        rc = get_string(p, v, "input.name", &card->input_name);
    } else if (!strcmp(k, "layout")) {
        rc = get_choice(p, v, "input.layout", layouts, 2, "NCHW, NHWC", &i);
        card->nhwc = i;
    } else if (!strcmp(k, "height")) {
        rc = get_int(p, v, "input.height", 1, 65535, "an integer in 1..65535", &card->height);
    } else if (!strcmp(k, "width")) {
        rc = get_int(p, v, "input.width", 1, 65535, "an integer in 1..65535", &card->width);
    } else if (!strcmp(k, "resize")) {
        rc = get_int(p, v, "input.resize", 0, 65535, "an integer in 0..65535", &card->resize);
    } else if (!strcmp(k, "crop")) {
        rc = get_choice(p, v, "input.crop", crops, 2, "center, none", &i);
        card->center_crop = i;
    } else if (!strcmp(k, "interpolation")) {
        rc = get_choice(p, v, "input.interpolation", interps, 3, "bilinear, nearest, bicubic", &i);
        if (rc == 0)
            card->interpolation = interp_values[i];
    } else if (!strcmp(k, "color")) {
        rc = get_choice(p, v, "input.color", colors, 3, "RGB, BGR, GRAY", &i);
        if (rc == 0)
            card->color = color_values[i];
    } else if (!strcmp(k, "scale")) {
        float s = 0;
        rc = parse_number(v, &s) == 0 && s != 0.0f
                 ? 0
                 : ortc_yaml_doc_fail(&p->y, v, "input.scale must be a non-zero number");
        card->scale = s;
    } else if (!strcmp(k, "mean")) {
        rc = get_triple(p, v, "input.mean", p->mean, &p->n_mean);
        p->have_mean = 1;
    } else if (!strcmp(k, "std")) {
        rc = get_triple(p, v, "input.std", p->std, &p->n_std);
        for (int c = 0; rc == 0 && c < p->n_std; c++)
            if (p->std[c] == 0.0f)
                rc = ortc_yaml_doc_fail(&p->y, v, "input.std must not contain 0");
        p->have_std = 1;
    } else {
        rc = ortc_yaml_doc_fail(&p->y, kn, "unknown key 'input.%s'", k);
    }
    return rc;
}

static int output_key(card_parser *p, const char *k, const yaml_node_t *kn, const yaml_node_t *v,
                      ortc_card *card, char **labels)
{
    static const char *const kinds[] = {"probabilities", "logits"};
    if (!strcmp(k, "name"))
        return get_string(p, v, "output.name", &card->output_name);
    if (!strcmp(k, "kind"))
        return get_choice(p, v, "output.kind", kinds, 2, "logits, probabilities",
                          &card->output_logits);
    if (!strcmp(k, "labels"))
        return get_string(p, v, "output.labels", labels);
    return ortc_yaml_doc_fail(&p->y, kn, "unknown key 'output.%s'", k);
}

static int root_key(card_parser *p, const char *k, const yaml_node_t *kn, const yaml_node_t *v,
                    ortc_card *card, char **labels)
{
    static const char *const weights[] = {"random", "pretrained", "trained"};
    int rc, i = 0;
    if (!strcmp(k, "name")) {
        rc = get_string(p, v, "name", &card->name);
    } else if (!strcmp(k, "description")) {
        rc = get_string(p, v, "description", &card->description);
    } else if (!strcmp(k, "weights")) {
        rc = get_choice(p, v, "weights", weights, 3, "random, pretrained, trained", &i);
        if (rc == 0)
            rc = get_string(p, v, "weights", &card->weights);
    } else if (!strcmp(k, "input")) {
        rc = walk_mapping(p, v, "input", input_key, card, labels);
    } else if (!strcmp(k, "output")) {
        rc = walk_mapping(p, v, "output", output_key, card, labels);
    } else {
        rc = ortc_yaml_doc_fail(&p->y, kn, "unknown key '%s'", k);
    }
    return rc;
}

/* mean/std after all keys are known: defaults, counts, channels. */
static int finish_norm(card_parser *p, const yaml_node_t *root, ortc_card *card)
{
    int gray = card->color == 1;
    if (!p->have_mean && !p->have_std) {
        if (gray) { /* no ImageNet statistics for one channel: identity */
            card->n_channels = 1;
            card->mean[0] = card->mean[1] = card->mean[2] = 0.0f;
            card->std[0] = card->std[1] = card->std[2] = 1.0f;
        }
        return 0;
    }
    /* Only one given: the other is the identity, with matching length. */
    if (!p->have_mean) {
        p->n_mean = p->n_std;
        p->mean[0] = p->mean[1] = p->mean[2] = 0.0f;
    }
    if (!p->have_std) {
        p->n_std = p->n_mean;
        p->std[0] = p->std[1] = p->std[2] = 1.0f;
    }
    if (p->n_mean != p->n_std)
        return ortc_yaml_doc_fail(&p->y, root, "input.mean has %d entries but input.std has %d",
                                  p->n_mean, p->n_std);
    if (gray && p->n_mean != 1)
        return ortc_yaml_doc_fail(&p->y, root, "input.mean/std must have 1 entry for color GRAY");
    card->n_channels = p->n_mean;
    for (int c = 0; c < 3; c++) {
        card->mean[c] = p->mean[p->n_mean == 1 ? 0 : c];
        card->std[c] = p->std[p->n_std == 1 ? 0 : c];
    }
    return 0;
}

static char *join_path(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir || !dir[0])
        return strdup(rel);
    size_t a = strlen(dir), b = strlen(rel);
    char *s = malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    size_t n = a;
    if (a && dir[a - 1] != '/')
        s[n++] = '/';
    memcpy(s + n, rel, b + 1);
    return s;
}

/* Parses into `card`; `file` names the card in messages (NULL: "line N"). */
static int card_parse_named(const char *yaml, size_t len, const char *base_dir, const char *file,
                            ortc_card *card, char *err, size_t errlen)
{
    ortc_card_default(card, 0, 0);
    card_parser p;
    memset(&p, 0, sizeof p);
    if (ortc_yaml_doc_open(&p.y, yaml, len, file, err, errlen))
        return -1;
    char *labels = NULL;
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&p.y.doc);
    if (root && !is_null(root)) /* an empty card means all defaults */
        rc = walk_mapping(&p, root, "the card", root_key, card, &labels);
    if (rc == 0)
        rc = finish_norm(&p, root, card);
    if (rc == 0 && labels) {
        card->labels_path = join_path(base_dir, labels);
        if (!card->labels_path)
            rc = ortc_yaml_doc_fail(&p.y, root, "out of memory");
    }
    free(labels);
    ortc_yaml_doc_close(&p.y);
    if (rc != 0)
        ortc_card_free(card);
    return rc;
}

int ortc_card_parse(const char *yaml, size_t len, const char *base_dir, ortc_card *card, char *err,
                    size_t errlen)
{
    if (!yaml || !card) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    return card_parse_named(yaml, len, base_dir, NULL, card, err, errlen);
}

/* Cards and label files larger than this are refused as they are read. */
#define TEXT_MAX ((size_t)1 << 30)

int ortc_card_load(const char *path, ortc_card *card, char *err, size_t errlen)
{
    if (!path || !card) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    memset(card, 0, sizeof *card);
    size_t len = 0;
    char *text;
    if (ortc_tools_read_file(path, TEXT_MAX, &text, &len, err, errlen))
        return -1;
    char *dir = strdup(path);
    if (!dir) {
        free(text);
        ortc_tools_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else
        strcpy(dir, ".");
    int rc = card_parse_named(text, len, dir, path, card, err, errlen);
    free(dir);
    free(text);
    return rc;
}

/* ---- labels -------------------------------------------------------------- */

void ortc_labels_free(char **labels, size_t n)
{
    if (!labels)
        return;
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
}

int ortc_labels_load(const char *path, char ***labels, size_t *n, char *err, size_t errlen)
{
    if (!path || !labels || !n) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    *labels = NULL;
    *n = 0;
    size_t len = 0;
    char *text;
    if (ortc_tools_read_file(path, TEXT_MAX, &text, &len, err, errlen))
        return -1;
    const char *p = text, *end = text + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 byte order mark */
        p += 3;
    size_t count = 0, cap = 0;
    char **out = NULL;
    int rc = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *e = eol;
        while (e > p &&
               (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\v' || e[-1] == '\f'))
            e--;
        if (memchr(p, '\0', (size_t)(eol - p))) {
            ortc_tools_err(err, errlen, "%s:%zu: NUL byte in a label file", path, count + 1);
            rc = -1;
            break;
        }
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nb = realloc(out, ncap * sizeof *nb);
            if (!nb) {
                ortc_tools_err(err, errlen, "%s: out of memory", path);
                rc = -1;
                break;
            }
            out = nb;
            cap = ncap;
        }
        out[count] = malloc((size_t)(e - p) + 1);
        if (!out[count]) {
            ortc_tools_err(err, errlen, "%s: out of memory", path);
            rc = -1;
            break;
        }
        memcpy(out[count], p, (size_t)(e - p));
        out[count][e - p] = '\0';
        count++;
        p = nl ? nl + 1 : end;
    }
    free(text);
    if (rc == 0 && count == 0) {
        ortc_tools_err(err, errlen, "%s: no labels (empty file)", path);
        rc = -1;
    }
    if (rc != 0) {
        ortc_labels_free(out, count);
        return -1;
    }
    *labels = out;
    *n = count;
    return 0;
}
