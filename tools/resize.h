/* resize.h — Pillow-compatible resampling of 8-bit images (Image.resize
 * with BILINEAR, which in Pillow >= 7 is antialiased: the filter support
 * scales with the downscale factor) and cropping. Results match Pillow's
 * fixed-point arithmetic including its rounding of the intermediate pass.
 */
#ifndef ORTC_TOOLS_RESIZE_H
#define ORTC_TOOLS_RESIZE_H

#include "image.h"

typedef enum ortc_resample {
    ORTC_RESAMPLE_NEAREST = 0,
    ORTC_RESAMPLE_BILINEAR = 2,
    ORTC_RESAMPLE_BICUBIC = 3
} ortc_resample;

/* dst gets a new image of out_w x out_h with src's channels. 0 / -1. */
int ortc_image_resize(const ortc_image *src, int out_w, int out_h, ortc_resample filter,
                      ortc_image *dst, char *err, size_t errlen);
/* Copies the window [left, left+w) x [top, top+h); parts outside src are 0
 * (as Pillow's crop). */
int ortc_image_crop(const ortc_image *src, int left, int top, int w, int h, ortc_image *dst,
                    char *err, size_t errlen);

#endif
