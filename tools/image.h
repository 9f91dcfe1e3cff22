/* image.h — decode PNG and JPEG files into 8-bit RGB or grayscale pixels,
 * converting the way Pillow's Image.convert('RGB') / convert('L') does, so
 * ortc's preprocessing matches torchvision's. No resizing here (resize.h).
 */
#ifndef ORTC_TOOLS_IMAGE_H
#define ORTC_TOOLS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef enum ortc_image_mode {
    ORTC_IMAGE_RGB = 3, /* interleaved R,G,B */
    ORTC_IMAGE_GRAY = 1 /* Pillow's 'L' */
} ortc_image_mode;

typedef struct ortc_image {
    int width, height;
    int channels;    /* 3 or 1, equal to the requested mode */
    uint8_t *pixels; /* height * width * channels bytes, row-major; owned */
} ortc_image;

/* Largest accepted width*height (refused before any pixel allocation). */
#define ORTC_IMAGE_MAX_PIXELS (64ll * 1024 * 1024)

/* Decodes PNG (all color types and bit depths, tRNS, interlaced) or JPEG
 * (baseline, progressive, grayscale; CMYK is refused with a message),
 * detected by content not by file name, and converts to `mode` as Pillow
 * does (alpha dropped, 16-bit RGB keeps the high byte, 16-bit gray clips
 * at 255; image.c lists the rules). Truncated files are refused, as Pillow
 * does by default; decoder warnings are ignored and never printed.
 * Returns 0, or -1 with one line in err ("<path>: not a PNG or JPEG
 * file", "<path>: truncated PNG data", ...); ortc_image_decode's messages
 * have no path. On failure img is zeroed. */
int ortc_image_load(const char *path, ortc_image_mode mode, ortc_image *img, char *err,
                    size_t errlen);
int ortc_image_decode(const void *data, size_t size, ortc_image_mode mode, ortc_image *img,
                      char *err, size_t errlen);
void ortc_image_free(ortc_image *img); /* frees pixels, zeroes img */

#endif
