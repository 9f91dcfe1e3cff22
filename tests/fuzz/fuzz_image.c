/* fuzz_image.c — PNG/JPEG decoding in both colour modes and, for images
 * that decode, the default (torchvision ImageNet) preprocessing at 32x32.
 */
#include <stdlib.h>

#include "card.h"
#include "fuzz.h"
#include "image.h"
#include "preprocess.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ortc_image_mode modes[2] = {ORTC_IMAGE_RGB, ORTC_IMAGE_GRAY};
    char err[256];
    for (int m = 0; m < 2; m++) {
        ortc_image img;
        if (ortc_image_decode(data, size, modes[m], &img, err, sizeof err))
            continue;
        if ((long long)img.width * img.height <= 4096 * 4096) {
            ortc_card card;
            ortc_card_default(&card, 32, 32);
            if (m == 1)
                card.color = 1;
            float out[3 * 32 * 32];
            (void)ortc_preprocess_image(&img, &card, out, err, sizeof err);
            ortc_card_free(&card);
        }
        ortc_image_free(&img);
    }
    return 0;
}
