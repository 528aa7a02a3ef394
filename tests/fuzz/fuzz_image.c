/* fuzz_image.c — libFuzzer harness for one image decoder. Built once per
 * format with -DFUZZ_FORMAT=HS_FORMAT_PNG (JPEG, WebP, TIFF) by run.sh: the
 * decoder is forced, so inputs whose signature a mutation broke still reach
 * it. The input's size picks the options, so both depths and JPEG's DCT
 * scaling are covered; the pixel budget keeps valid giant images from
 * merely exhausting memory. A decoded image is checked for the invariants
 * its users rely on, then turned into every channel count and depth. */
#include "image_io.h"

#include <stdint.h>
#include <stdlib.h>

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
    hs_image_free(&img);
    return 0;
}
