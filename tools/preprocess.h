/* preprocess.h — image -> input tensor per a model card: color conversion,
 * resize of the shorter side, center crop, scaling, mean/std, layout.
 * Matches torchvision.transforms on PIL images.
 */
#ifndef ORTC_TOOLS_PREPROCESS_H
#define ORTC_TOOLS_PREPROCESS_H

#include <stddef.h>

#include "card.h"
#include "image.h"

/* Loads the image at `path` and writes card->height x card->width floats
 * per channel into out (C*H*W for NCHW, H*W*C for NHWC; C = 1 for GRAY
 * else 3). 0, or -1 with a message naming the file. */
int ortc_preprocess_file(const char *path, const ortc_card *card, float *out, char *err,
                         size_t errlen);
/* Same from a decoded image (already in the card's color mode, RGB for BGR). */
int ortc_preprocess_image(const ortc_image *img, const ortc_card *card, float *out, char *err,
                          size_t errlen);

#endif
