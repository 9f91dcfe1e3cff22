/* card.h — model cards: the YAML sidecar (MODEL.yaml next to MODEL.onnx)
 * saying how to turn an image into the model's input and how to read its
 * output; and label files. Parsing only; preprocess.h applies a card.
 *
 * Card format (every key optional except input.height/width when there is
 * no model to take them from):
 *
 *   name: seed-lrn
 *   description: AlexNet of the seed article with LRN
 *   weights: random            # random | pretrained | trained
 *   input:
 *     name: input
 *     layout: NCHW             # NCHW | NHWC
 *     height: 227
 *     width: 227
 *     resize: 259              # shorter side -> this; 0: straight to height x width
 *     crop: center             # center | none
 *     interpolation: bilinear  # bilinear | nearest | bicubic
 *     color: RGB               # RGB | BGR | GRAY
 *     scale: 0.00392156862745098
 *     mean: [0.485, 0.456, 0.406]
 *     std: [0.229, 0.224, 0.225]
 *   output:
 *     name: output
 *     kind: logits             # logits | probabilities
 *     labels: imagenet_labels.txt   # relative to the card's folder
 *
 * Without input.resize the ImageNet rule applies (round(S*256/224), S the
 * smaller of height/width). With crop: none the resized image must already
 * be height x width (resize: 0 does that), else preprocessing fails.
 * mean/std are in the tensor's channel order (B, G, R for a BGR card); one
 * entry applies to every channel. Neither given: ImageNet's for RGB/BGR,
 * mean 0 / std 1 for GRAY; only one given: the other is the identity.
 * An empty card is all defaults.
 */
#ifndef ORTC_TOOLS_CARD_H
#define ORTC_TOOLS_CARD_H

#include <stddef.h>

typedef struct ortc_card {
    char *name; /* NULL when absent */
    char *description;
    char *weights;     /* "random", "pretrained", "trained" or NULL */
    char *input_name;  /* NULL: the model's first input */
    int nhwc;          /* 0: NCHW */
    int height, width; /* 0: take from the model */
    int resize;        /* shorter side target; -1: default round(S*256/224); 0: none */
    int center_crop;   /* 1: center crop to height x width */
    int interpolation; /* ortc_resample value */
    int color;         /* 3: RGB, -3: BGR, 1: GRAY */
    float scale;       /* pixel multiplier, default 1/255 */
    int n_channels;    /* entries in mean/std (1 or 3) */
    float mean[3], std[3];
    char *output_name; /* NULL: the model's first output */
    int output_logits; /* 1: apply softmax before printing probabilities */
    char *labels_path; /* resolved against the card's folder; NULL when absent */
} ortc_card;

/* torchvision's ImageNet transform (Resize(round(S*256/224)), CenterCrop(S),
 * ToTensor, Normalize(ImageNet mean/std)), RGB, NCHW, logits, no labels. */
void ortc_card_default(ortc_card *card, int height, int width);
/* Parses a YAML card; unknown keys and wrong types are errors naming the key
 * and line ("card.yaml:7: input.mean must be a list of 1 or 3 numbers").
 * 0 / -1. */
int ortc_card_load(const char *path, ortc_card *card, char *err, size_t errlen);
int ortc_card_parse(const char *yaml, size_t len, const char *base_dir, ortc_card *card, char *err,
                    size_t errlen);
void ortc_card_free(ortc_card *card);

/* One label per line (trailing whitespace trimmed). *labels is an array of
 * *n malloc'd strings; free with ortc_labels_free. 0 / -1. */
int ortc_labels_load(const char *path, char ***labels, size_t *n, char *err, size_t errlen);
void ortc_labels_free(char **labels, size_t n);

#endif
