/* preprocess.c — image -> model input per a card: what torchvision 0.14's
 * Compose([Resize(r), CenterCrop((h, w)), ToTensor(), Normalize(mean, std)])
 * computes on a PIL image. Decoding is image.c's, resampling resize.c's.
 */
#include "preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resize.h"
#include "util.h"

/* Python 3's round(): to nearest, ties to even (the default FP mode). */
static long round_even(double v)
{
    return (long)nearbyint(v);
}

/* torchvision's Resize(size) for an int size: the shorter side becomes
 * `size`, the longer int(size * long / short) (truncated, in double). */
static void shorter_side_size(int w, int h, int size, int *out_w, int *out_h)
{
    int shorter = w <= h ? w : h, longer = w <= h ? h : w;
    int other = (int)((double)((long long)size * longer) / (double)shorter);
    *out_w = w <= h ? size : other;
    *out_h = w <= h ? other : size;
}

/* CenterCrop's offset along one axis: round((in - crop) / 2) with Python's
 * rounding when the crop fits; else torchvision pads (crop - in) // 2 zeros
 * before the image, i.e. the window starts that far before it. */
static int center_offset(int in, int crop)
{
    if (crop > in)
        return -((crop - in) / 2);
    return (int)round_even((in - crop) / 2.0);
}

int ortc_preprocess_image(const ortc_image *img, const ortc_card *card, float *out, char *err,
                          size_t errlen)
{
    if (!img || !img->pixels || !card || !out) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    int want_ch = card->color == 1 ? 1 : 3;
    if (card->color != 1 && card->color != 3 && card->color != -3) {
        ortc_tools_err(err, errlen, "card: invalid color %d", card->color);
        return -1;
    }
    if (img->channels != want_ch) {
        ortc_tools_err(err, errlen, "image has %d channels but the card wants %d", img->channels,
                       want_ch);
        return -1;
    }
    int H = card->height, W = card->width;
    if (H <= 0 || W <= 0) {
        ortc_tools_err(err, errlen, "card: no input size (height x width = %d x %d)", H, W);
        return -1;
    }
    for (int c = 0; c < want_ch; c++) {
        if (card->std[c] == 0.0f) {
            ortc_tools_err(err, errlen, "card: std[%d] is 0", c);
            return -1;
        }
    }

    /* 1. resize */
    int rw, rh;
    if (card->resize == 0) {
        rw = W, rh = H;
    } else {
        int size = card->resize;
        if (size < 0) /* the ImageNet rule: 256/224 of the crop */
            size = (int)round_even((double)(H < W ? H : W) * 256.0 / 224.0);
        shorter_side_size(img->width, img->height, size, &rw, &rh);
    }
    if (rw <= 0 || rh <= 0) {
        ortc_tools_err(err, errlen, "image %dx%d resizes to an empty %dx%d image", img->width,
                       img->height, rw, rh);
        return -1;
    }
    ortc_image resized = {0}, cropped = {0};
    const ortc_image *cur = img;
    if (rw != img->width || rh != img->height) {
        if (ortc_image_resize(img, rw, rh, (ortc_resample)card->interpolation, &resized, err,
                              errlen) != 0)
            return -1;
        cur = &resized;
    }

    /* 2. crop */
    if (cur->width != W || cur->height != H) {
        if (!card->center_crop) {
            ortc_tools_err(err, errlen,
                           "resized image is %dx%d but the input is %dx%d and the card has no crop "
                           "(use crop: center or resize: 0)",
                           cur->width, cur->height, W, H);
            ortc_image_free(&resized);
            return -1;
        }
        if (ortc_image_crop(cur, center_offset(cur->width, W), center_offset(cur->height, H), W, H,
                            &cropped, err, errlen) != 0) {
            ortc_image_free(&resized);
            return -1;
        }
        cur = &cropped;
    }

    /* 3. ToTensor + Normalize, in float32 as torch does: x / 255 (when the
     * scale is 1/255; else x * scale), then (x - mean) / std. */
    int exact255 = card->scale == 1.0f / 255.0f;
    size_t plane = (size_t)W * H;
    for (int c = 0; c < want_ch; c++) {
        int src_c = card->color == -3 ? 2 - c : c; /* BGR: tensor channel 0 is blue */
        float mean = card->mean[c], std = card->std[c];
        for (size_t i = 0; i < plane; i++) {
            float v = cur->pixels[i * (size_t)want_ch + (size_t)src_c];
            v = exact255 ? v / 255.0f : v * card->scale;
            v = (v - mean) / std;
            if (card->nhwc)
                out[i * (size_t)want_ch + (size_t)c] = v;
            else
                out[(size_t)c * plane + i] = v;
        }
    }
    ortc_image_free(&resized);
    ortc_image_free(&cropped);
    return 0;
}

int ortc_preprocess_file(const char *path, const ortc_card *card, float *out, char *err,
                         size_t errlen)
{
    if (!path || !card || !out) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    ortc_image img;
    if (ortc_image_load(path, card->color == 1 ? ORTC_IMAGE_GRAY : ORTC_IMAGE_RGB, &img, err,
                        errlen) != 0)
        return -1;
    char msg[256];
    int rc = ortc_preprocess_image(&img, card, out, msg, sizeof msg);
    if (rc != 0)
        ortc_tools_err(err, errlen, "%s: %s", path, msg);
    ortc_image_free(&img);
    return rc;
}
