/* image.c — decodes PNG (libpng) and JPEG (libjpeg) into 8-bit RGB or gray
 * pixels exactly as Pillow 9's Image.open(f).convert('RGB'/'L'). No resizing,
 * no colour management (gAMA/iCCP ignored) and no EXIF orientation, as Pillow.
 */

/* Pillow's conversions, as measured (tests/unit/test_tools.c checks them):
 *  - RGB -> L: L = (19595 R + 38470 G + 7471 B + 32768) >> 16, i.e. ITU-R 601
 *    weights in 16-bit fixed point with rounding (identical for all 2^24
 *    colors; (299 R + 587 G + 114 B + 500) / 1000 differs on 9040 of them).
 *  - alpha (RGBA, gray+alpha, tRNS) is dropped, never composited.
 *  - gray 1/2/4-bit is scaled to 0..255 (x255, x85, x17).
 *  - gray 16-bit opens as mode 'I' and converts by clipping to 255;
 *    RGB/RGBA/gray+alpha 16-bit keep the high byte of each sample.
 *  - palette indices at or past the PLTE length map to gray (i, i, i).
 *  - PNG: a bad CRC before the image data is an error, IDAT's and later
 *    CRCs are not checked, and nothing after the image data is read.
 */
#include "image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "util.h"

/* Pillow's RGB -> L (see the top of this file). */
static uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 32768u) >> 16);
}

/* Checks the declared size before anything is allocated for pixels. */
static int check_size(unsigned long w, unsigned long h, const char *fmt, char *err, size_t errlen)
{
    if (w == 0 || h == 0) {
        ortc_tools_err(err, errlen, "%s image has zero size (%lux%lu)", fmt, w, h);
        return -1;
    }
    unsigned long long n = (unsigned long long)w * h;
    if (n > (unsigned long long)ORTC_IMAGE_MAX_PIXELS) {
        ortc_tools_err(err, errlen,
                       "%s image is %lux%lu (%llu pixels), above the limit of %lld pixels", fmt, w,
                       h, n, (long long)ORTC_IMAGE_MAX_PIXELS);
        return -1;
    }
    return 0;
}

/* ---- PNG ------------------------------------------------------------------ */

/* Everything the decoder allocates or reads after setjmp lives here, so
 * nothing the error path needs is a clobberable local. */
typedef struct png_ctx {
    const unsigned char *data;
    size_t size, pos;
    int truncated;
    int own_msg; /* msg is ours (out of memory...), not libpng's */
    char msg[160];
    png_structp png;
    png_infop info;
    unsigned char *raw; /* one row, or every row when interlaced */
    png_bytep *rows;    /* row pointers into raw (interlaced only) */
    uint8_t *pixels;
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings are not errors and the library never prints */
}

static void png_on_read(png_structp png, png_bytep out, size_t n)
{
    png_ctx *c = png_get_io_ptr(png);
    if (n > c->size - c->pos) {
        c->truncated = 1;
        png_error(png, "truncated");
    }
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

/* One row of raw samples (after png_set_packing) -> out, converted. */
static void png_convert_row(uint8_t *out, const unsigned char *in, int w, int color_type, int depth,
                            png_const_colorp pal, int n_pal, int channels)
{
    for (int x = 0; x < w; x++) {
        unsigned r, g, b;
        switch (color_type) {
        case PNG_COLOR_TYPE_GRAY:
            if (depth == 16) { /* mode 'I', clipped on conversion */
                unsigned v = (unsigned)in[2 * x] << 8 | in[2 * x + 1];
                g = v > 255 ? 255 : v;
            } else if (depth == 8) {
                g = in[x];
            } else {
                g = in[x] * (255u / ((1u << depth) - 1)); /* 1: x255, 2: x85, 4: x17 */
            }
            r = b = g;
            break;
        case PNG_COLOR_TYPE_GRAY_ALPHA: r = g = b = depth == 16 ? in[4 * x] : in[2 * x]; break;
        case PNG_COLOR_TYPE_RGB:
        case PNG_COLOR_TYPE_RGB_ALPHA: {
            /* 3 or 4 samples a pixel, of 1 or 2 bytes (16 bits: the high byte) */
            int bytes = depth == 16 ? 2 : 1;
            const unsigned char *px =
                in + (size_t)x * (color_type == PNG_COLOR_TYPE_RGB ? 3 : 4) * bytes;
            r = px[0], g = px[bytes], b = px[2 * bytes];
            break;
        }
        default: { /* palette */
            unsigned i = in[x];
            if ((int)i < n_pal) {
                r = pal[i].red, g = pal[i].green, b = pal[i].blue;
            } else {
                r = g = b = i;
            }
            break;
        }
        }
        if (channels == 3) {
            out[3 * x] = (uint8_t)r;
            out[3 * x + 1] = (uint8_t)g;
            out[3 * x + 2] = (uint8_t)b;
        } else if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
            out[x] = (uint8_t)g;
        } else {
            out[x] = luma(r, g, b);
        }
    }
}

static int png_decode(png_ctx *c, ortc_image_mode mode, ortc_image *img, char *err, size_t errlen)
{
    c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, png_on_error, png_on_warning);
    if (!c->png) {
        ortc_tools_err(err, errlen, "out of memory");
        return -1;
    }
    c->info = png_create_info_struct(c->png);
    if (!c->info) {
        png_destroy_read_struct(&c->png, NULL, NULL);
        ortc_tools_err(err, errlen, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(c->png))) {
        /* Only c (never reassigned) and the parameters are used here. */
        if (c->truncated)
            ortc_tools_err(err, errlen, "truncated PNG data");
        else
            ortc_tools_err(err, errlen, "%s%s", c->own_msg ? "" : "bad PNG data: ", c->msg);
        png_destroy_read_struct(&c->png, &c->info, NULL);
        free(c->raw);
        free(c->rows);
        free(c->pixels);
        c->raw = NULL, c->rows = NULL, c->pixels = NULL;
        return -1;
    }
    png_set_read_fn(c->png, c, png_on_read);
    png_set_benign_errors(c->png, 1);
    /* Pillow maps out-of-range palette indices to gray; do not reject them. */
    png_set_check_for_invalid_index(c->png, 0);
    /* Pillow refuses a bad CRC in any chunk before the image data but never
     * checks IDAT's or later chunks' CRCs: the same here. */
    png_set_crc_action(c->png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_read_info(c->png, c->info);
    png_set_crc_action(c->png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);

    png_uint_32 w, h;
    int depth, color_type, interlace;
    png_get_IHDR(c->png, c->info, &w, &h, &depth, &color_type, &interlace, NULL, NULL);
    if (check_size(w, h, "PNG", err, errlen) != 0) {
        png_destroy_read_struct(&c->png, &c->info, NULL);
        return -1;
    }
    png_colorp pal = NULL;
    int n_pal = 0;
    if (color_type == PNG_COLOR_TYPE_PALETTE && !png_get_PLTE(c->png, c->info, &pal, &n_pal)) {
        png_destroy_read_struct(&c->png, &c->info, NULL);
        ortc_tools_err(err, errlen, "bad PNG data: palette image without PLTE");
        return -1;
    }
    if (depth < 8)
        png_set_packing(c->png); /* one byte per sample, values unscaled */
    int passes = png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    size_t rowbytes = png_get_rowbytes(c->png, c->info);
    int channels = mode == ORTC_IMAGE_GRAY ? 1 : 3;

    c->pixels = malloc((size_t)w * h * (size_t)channels);
    c->own_msg = 1; /* from here on, png_error carries our own messages */
    if (!c->pixels)
        png_error(c->png, "out of memory");
    if (passes > 1) {
        if (rowbytes > SIZE_MAX / h)
            png_error(c->png, "image too large");
        c->raw = malloc(rowbytes * h);
        c->rows = malloc(sizeof *c->rows * h);
        if (!c->raw || !c->rows)
            png_error(c->png, "out of memory");
        for (png_uint_32 y = 0; y < h; y++)
            c->rows[y] = c->raw + rowbytes * y;
        c->own_msg = 0;
        png_read_image(c->png, c->rows);
        for (png_uint_32 y = 0; y < h; y++)
            png_convert_row(c->pixels + (size_t)y * w * channels, c->rows[y], (int)w, color_type,
                            depth, pal, n_pal, channels);
    } else {
        c->raw = malloc(rowbytes);
        if (!c->raw)
            png_error(c->png, "out of memory");
        c->own_msg = 0;
        for (png_uint_32 y = 0; y < h; y++) {
            png_read_row(c->png, c->raw, NULL);
            png_convert_row(c->pixels + (size_t)y * w * channels, c->raw, (int)w, color_type, depth,
                            pal, n_pal, channels);
        }
    }
    /* No png_read_end: like Pillow, ignore what follows the image data
     * (text chunks, a missing IEND). */
    png_destroy_read_struct(&c->png, &c->info, NULL);
    free(c->raw);
    free(c->rows);
    img->width = (int)w;
    img->height = (int)h;
    img->channels = channels;
    img->pixels = c->pixels;
    c->raw = NULL, c->rows = NULL, c->pixels = NULL;
    return 0;
}

/* ---- JPEG ----------------------------------------------------------------- */

typedef struct jpeg_ctx {
    struct jpeg_error_mgr mgr; /* first: libjpeg hands us a pointer to it */
    jmp_buf jb;
    int truncated;
    int own_msg;
    char msg[JMSG_LENGTH_MAX];
    struct jpeg_decompress_struct cinfo;
    unsigned char *row;
    uint8_t *pixels;
} jpeg_ctx;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    cinfo->err->format_message(cinfo, c->msg);
    longjmp(c->jb, 1);
}

/* Warnings are ignored (as Pillow does), except running out of data: libjpeg
 * would pad the image with gray, Pillow refuses a truncated file. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        c->truncated = 1;
        longjmp(c->jb, 1);
    }
}

static void jpeg_on_output(j_common_ptr cinfo)
{
    (void)cinfo; /* never print */
}

static int jpeg_decode(jpeg_ctx *c, const unsigned char *data, size_t size, ortc_image_mode mode,
                       ortc_image *img, char *err, size_t errlen)
{
    c->cinfo.err = jpeg_std_error(&c->mgr);
    c->mgr.error_exit = jpeg_on_error;
    c->mgr.emit_message = jpeg_on_message;
    c->mgr.output_message = jpeg_on_output;
    if (setjmp(c->jb)) {
        /* A header cut off after SOF still reports an oversized image as such. */
        if (c->cinfo.image_width > 0 && c->cinfo.image_height > 0 &&
            check_size(c->cinfo.image_width, c->cinfo.image_height, "JPEG", err, errlen) != 0)
            ; /* err says the size */
        else if (c->truncated)
            ortc_tools_err(err, errlen, "truncated JPEG data");
        else
            ortc_tools_err(err, errlen, "%s%s", c->own_msg ? "" : "bad JPEG data: ", c->msg);
        jpeg_destroy_decompress(&c->cinfo);
        free(c->row);
        free(c->pixels);
        c->row = NULL, c->pixels = NULL;
        return -1;
    }
    jpeg_create_decompress(&c->cinfo);
    jpeg_mem_src(&c->cinfo, data, (unsigned long)size);
    jpeg_read_header(&c->cinfo, TRUE);

    J_COLOR_SPACE cs = c->cinfo.jpeg_color_space;
    if (cs == JCS_CMYK || cs == JCS_YCCK || c->cinfo.num_components == 4) {
        ortc_tools_err(err, errlen,
                       "%s JPEG images are not supported (only RGB/YCbCr and grayscale)",
                       cs == JCS_YCCK ? "YCCK" : "CMYK");
        jpeg_destroy_decompress(&c->cinfo);
        return -1;
    }
    if (c->cinfo.num_components != 1 && c->cinfo.num_components != 3) {
        ortc_tools_err(err, errlen, "JPEG images with %d components are not supported",
                       c->cinfo.num_components);
        jpeg_destroy_decompress(&c->cinfo);
        return -1;
    }
    if (check_size(c->cinfo.image_width, c->cinfo.image_height, "JPEG", err, errlen) != 0) {
        jpeg_destroy_decompress(&c->cinfo);
        return -1;
    }
    /* libjpeg's defaults, as Pillow uses them: accurate integer IDCT, fancy
     * (smooth) chroma upsampling, full scale. Decode to RGB or gray; a color
     * image's gray value is computed from RGB below, as Pillow's convert('L'). */
    c->cinfo.out_color_space = c->cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    c->cinfo.dct_method = JDCT_ISLOW;
    c->cinfo.do_fancy_upsampling = TRUE;
    c->cinfo.scale_num = c->cinfo.scale_denom = 1;
    jpeg_start_decompress(&c->cinfo);

    size_t w = c->cinfo.output_width, h = c->cinfo.output_height;
    int in_ch = c->cinfo.output_components;
    int channels = mode == ORTC_IMAGE_GRAY ? 1 : 3;
    c->pixels = malloc(w * h * (size_t)channels);
    c->row = malloc(w * (size_t)in_ch);
    if (!c->pixels || !c->row) {
        c->own_msg = 1;
        snprintf(c->msg, sizeof c->msg, "out of memory");
        longjmp(c->jb, 1);
    }
    while (c->cinfo.output_scanline < h) {
        size_t y = c->cinfo.output_scanline;
        JSAMPROW rows[1] = {c->row};
        if (jpeg_read_scanlines(&c->cinfo, rows, 1) != 1) {
            c->truncated = 1;
            longjmp(c->jb, 1);
        }
        uint8_t *out = c->pixels + y * w * (size_t)channels;
        const unsigned char *in = c->row;
        for (size_t x = 0; x < w; x++) {
            if (in_ch == 1 && channels == 1)
                out[x] = in[x];
            else if (in_ch == 1)
                out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = in[x];
            else if (channels == 3)
                memcpy(out + 3 * x, in + 3 * x, 3);
            else
                out[x] = luma(in[3 * x], in[3 * x + 1], in[3 * x + 2]);
        }
    }
    jpeg_finish_decompress(&c->cinfo);
    jpeg_destroy_decompress(&c->cinfo);
    free(c->row);
    img->width = (int)w;
    img->height = (int)h;
    img->channels = channels;
    img->pixels = c->pixels;
    c->row = NULL, c->pixels = NULL;
    return 0;
}

/* ---- public --------------------------------------------------------------- */

int ortc_image_decode(const void *data, size_t size, ortc_image_mode mode, ortc_image *img,
                      char *err, size_t errlen)
{
    if (img)
        memset(img, 0, sizeof *img);
    if (err && errlen)
        err[0] = '\0';
    if (!data || !img || (mode != ORTC_IMAGE_RGB && mode != ORTC_IMAGE_GRAY)) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    const unsigned char *b = data;
    if (size >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) {
        /* Size checks straight from IHDR: libpng reports a zero size only
         * as "Invalid IHDR data", and reads on past IHDR before returning
         * it, so a header-only file would otherwise say "truncated". */
        if (size >= 24 && memcmp(b + 12, "IHDR", 4) == 0) {
            unsigned long w = (unsigned long)b[16] << 24 | (unsigned long)b[17] << 16 |
                              (unsigned long)b[18] << 8 | b[19];
            unsigned long h = (unsigned long)b[20] << 24 | (unsigned long)b[21] << 16 |
                              (unsigned long)b[22] << 8 | b[23];
            if (check_size(w, h, "PNG", err, errlen) != 0)
                return -1;
        }
        png_ctx c;
        memset(&c, 0, sizeof c);
        c.data = b;
        c.size = size;
        return png_decode(&c, mode, img, err, errlen);
    }
    if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
        jpeg_ctx *c = calloc(1, sizeof *c); /* jmp_buf + libjpeg state: keep off the stack */
        if (!c) {
            ortc_tools_err(err, errlen, "out of memory");
            return -1;
        }
        int rc = jpeg_decode(c, b, size, mode, img, err, errlen);
        free(c);
        return rc;
    }
    ortc_tools_err(err, errlen, "not a PNG or JPEG file");
    return -1;
}

int ortc_image_load(const char *path, ortc_image_mode mode, ortc_image *img, char *err,
                    size_t errlen)
{
    if (img)
        memset(img, 0, sizeof *img);
    if (!path || !img) {
        ortc_tools_err(err, errlen, "invalid argument");
        return -1;
    }
    char *buf;
    size_t n;
    if (ortc_tools_read_file(path, 0, &buf, &n, err, errlen))
        return -1;
    char msg[256];
    int rc = ortc_image_decode(buf, n, mode, img, msg, sizeof msg);
    if (rc != 0)
        ortc_tools_err(err, errlen, "%s: %s", path, msg);
    free(buf);
    return rc;
}

void ortc_image_free(ortc_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}
