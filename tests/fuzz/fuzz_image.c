/* fuzz_image.c — libFuzzer harness for one image decoder. Built once per
 * format with -DFUZZ_FORMAT=HS_FORMAT_PNG (JPEG, WebP, TIFF) by run.sh: the
 * decoder is forced, so inputs whose signature a mutation broke still reach
 * it. The input's size picks the options, so both depths and JPEG's DCT
 * scaling are covered; the pixel budget keeps valid giant images from
 * merely exhausting memory. A decoded image is checked for the invariants
 * its users rely on, turned into every channel count and depth, and (when
 * small) written by every encoder with the metadata it came with, which
 * hirestyle copies from input to output, and read back. */
#include "image_codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void fail(const char *what, hs_image_format format)
{
    fprintf(stderr, "%s %s: %s\n", what, hs_image_format_label(format), hs_last_error());
    abort();
}

/* img, fitted to the format as hs_image_save fits it, encoded and decoded
 * again: the same number of pixels must come back. */
static void round_trip(const hs_image *img, hs_image_format format)
{
    int channels = format == HS_FORMAT_JPEG ? (img->channels >= 3 ? 3 : 1)
                   : format == HS_FORMAT_WEBP ? (img->channels % 2 == 0 ? 4 : 3)
                                              : img->channels;
    int bits = hs_image_format_has_16bit(format) ? hs_image_bits(img) : 8;
    hs_image deep = {0}, fitted = {0};
    if (hs_image_convert_bits(img, bits, &deep) != HS_OK ||
        hs_image_convert(&deep, channels, &fitted) != HS_OK ||
        hs_image_copy_meta(&fitted, img) != HS_OK)
        abort();
    FILE *fp = tmpfile(); /* TIFF seeks back to its header: no memory stream keeps that */
    if (!fp) abort();
    hs_status st = format == HS_FORMAT_PNG    ? hs_encode_png(fp, "out", &fitted, NULL)
                   : format == HS_FORMAT_JPEG ? hs_encode_jpeg(fp, "out", &fitted, 50)
                   : format == HS_FORMAT_WEBP ? hs_encode_webp(fp, "out", &fitted, 100)
                                              : hs_encode_tiff(fp, "out", &fitted);
    if (st != HS_OK || fflush(fp) != 0 || fseek(fp, 0, SEEK_END) != 0) fail("encoding", format);
    size_t size = (size_t)ftell(fp);
    char *bytes = malloc(size + 1);
    rewind(fp);
    if (!bytes || fread(bytes, 1, size, fp) != size) abort();
    fclose(fp);
    hs_load_options options = {.keep_16bit = 1, .format = format};
    hs_image back = {0};
    if (hs_image_decode(bytes, size, "out", &options, &back) != HS_OK) fail("decoding", format);
    /* EXIF may turn it, which swaps the sides */
    if ((long)back.width * back.height != (long)img->width * img->height) abort();
    hs_image_free(&back);
    free(bytes);
    hs_image_free(&deep);
    hs_image_free(&fitted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hs_load_options options = {
        .max_pixels = (int64_t)1 << 22,
        .keep_16bit = size & 1,
        .longest_side = size & 2 ? 40 : 0,
        .format = FUZZ_FORMAT,
    };
    hs_image img = {0};
    if (hs_image_decode(data, size, "fuzz", &options, &img) != HS_OK) {
        if (img.pixels) abort(); /* a failure leaves the image untouched */
        return 0;
    }
    if (img.width < 1 || img.height < 1 || img.channels < 1 || img.channels > 4 ||
        (int64_t)img.width * img.height > options.max_pixels ||
        (hs_image_bits(&img) == 16 && !options.keep_16bit) || (img.icc && !img.icc_size) ||
        (img.exif && !img.exif_size))
        abort();
    /* every sample is read: uninitialised or short buffers show up under ASan/MSan */
    size_t bytes = (size_t)img.width * img.height * img.channels * (hs_image_bits(&img) / 8);
    volatile unsigned sum = 0;
    for (size_t i = 0; i < bytes; i++) sum += img.pixels[i];
    hs_image other = {0};
    if (hs_image_convert(&img, 5 - img.channels, &other) == HS_OK) hs_image_free(&other);
    if (hs_image_convert_bits(&img, 24 - hs_image_bits(&img), &other) == HS_OK)
        hs_image_free(&other);
    if ((int64_t)img.width * img.height <= 4096)
        for (hs_image_format format = HS_FORMAT_PNG; format <= HS_FORMAT_TIFF; format++)
            round_trip(&img, format);
    hs_image_free(&img);
    return 0;
}
