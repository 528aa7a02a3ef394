/* image_ops.c — the host-side image operations of image_io.h: resize,
 * convert between channel counts, change the depth, crop. Each works on 8
 * and 16-bit images alike, through the sample accessors below.
 */
#include "image_codec.h"
#include "resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hs_status check_image(const hs_image *img, const char *what)
{
    if (!img || !img->pixels || img->width < 1 || img->height < 1 || img->channels < 1 ||
        img->channels > 4 || (img->bits != 0 && img->bits != 8 && img->bits != 16))
        return hs_fail(HS_ERR_USAGE, "%s: invalid image (%dx%d pixels, %d channels)", what,
                       img ? img->width : 0, img ? img->height : 0, img ? img->channels : 0);
    return HS_OK;
}

static hs_status check_size(const char *what, int width, int height, int channels, int bits)
{
    if (width < 1 || height < 1 || width > HS_IMAGE_MAX_SIDE || height > HS_IMAGE_MAX_SIDE)
        return hs_fail(HS_ERR_USAGE, "%s: image is %dx%d pixels; each side must be 1 to %d",
                       what, width, height, HS_IMAGE_MAX_SIDE);
    if ((size_t)width * height * channels * (bits / 8) > HS_IMAGE_MAX_BYTES)
        return hs_fail(HS_ERR_USAGE, "%s: a %dx%d image with %d channels is larger than 2 GiB",
                       what, width, height, channels);
    return HS_OK;
}

/* Sample i (counting samples, not bytes) and the largest value. */
static unsigned get_sample(const hs_image *img, size_t i)
{
    return img->bits == 16 ? hs_image_samples16(img)[i] : img->pixels[i];
}

static void put_sample(hs_image *img, size_t i, unsigned value)
{
    if (img->bits == 16) hs_image_samples16(img)[i] = (uint16_t)value;
    else img->pixels[i] = (uint8_t)value;
}

static unsigned max_sample(const hs_image *img) { return img->bits == 16 ? 65535 : 255; }

/* ---- Resize ---------------------------------------------------------------------- */

/* First pass: every row of `in` resampled to out_width samples, as floats. */
static void resample_rows(const hs_image *in, const hs_axis_filter *f, int out_width, float *rows)
{
    int channels = in->channels;
    for (int y = 0; y < in->height; y++) {
        size_t src = (size_t)y * in->width * channels;
        float *dst = rows + (size_t)y * out_width * channels;
        for (int x = 0; x < out_width; x++) {
            const int *index = f->index + (size_t)x * f->taps;
            const float *weight = f->weight + (size_t)x * f->taps;
            for (int c = 0; c < channels; c++) {
                float sum = 0;
                for (int k = 0; k < f->taps; k++)
                    sum += weight[k] * (float)get_sample(in, src + (size_t)index[k] * channels + c);
                dst[x * channels + c] = sum;
            }
        }
    }
}

/* Second pass: the columns of `rows` resampled to out->height, rounded into out. */
static void resample_columns(const float *rows, const hs_axis_filter *f, hs_image *out)
{
    size_t row_length = (size_t)out->width * out->channels;
    float top = (float)max_sample(out);
    for (int y = 0; y < out->height; y++) {
        const int *index = f->index + (size_t)y * f->taps;
        const float *weight = f->weight + (size_t)y * f->taps;
        for (size_t i = 0; i < row_length; i++) {
            float sum = 0;
            for (int k = 0; k < f->taps; k++)
                sum += weight[k] * rows[(size_t)index[k] * row_length + i];
            put_sample(out, (size_t)y * row_length + i,
                       sum <= 0 ? 0 : sum >= top ? (unsigned)top : (unsigned)(sum + 0.5f));
        }
    }
}

hs_status hs_image_resize(const hs_image *in, int width, int height, hs_image *out)
{
    hs_status status = check_image(in, "resize");
    if (status == HS_OK)
        status = check_size("resize", width, height, in->channels, hs_image_bits(in));
    if (status != HS_OK) return status;

    hs_axis_filter across = {0}, down = {0};
    hs_image result = {0};
    float *rows = malloc((size_t)in->height * (size_t)width * (size_t)in->channels * sizeof *rows);
    if (!rows)
        status = hs_fail(HS_ERR_TOO_LARGE, "resize: out of host memory for %dx%d floats", width,
                         in->height);
    if (status == HS_OK) status = hs_axis_filter_build(&across, in->width, width);
    if (status == HS_OK) status = hs_axis_filter_build(&down, in->height, height);
    if (status == HS_OK)
        status = hs_image_alloc(&result, width, height, in->channels, hs_image_bits(in));
    if (status == HS_OK) {
        resample_rows(in, &across, width, rows);
        resample_columns(rows, &down, &result);
        *out = result;
    }
    free(rows);
    hs_axis_filter_free(&across);
    hs_axis_filter_free(&down);
    return status;
}

/* ---- Convert --------------------------------------------------------------------- */

/* Channel counts 2 and 4 carry alpha in their last channel. */
static int has_alpha(int channels) { return channels % 2 == 0; }

static void read_rgba(const hs_image *img, size_t pixel, unsigned rgba[4])
{
    size_t i = pixel * img->channels;
    int colour = img->channels >= 3;
    rgba[0] = get_sample(img, i);
    rgba[1] = get_sample(img, i + (colour ? 1 : 0));
    rgba[2] = get_sample(img, i + (colour ? 2 : 0));
    rgba[3] = has_alpha(img->channels) ? get_sample(img, i + img->channels - 1) : max_sample(img);
}

static void write_rgba(hs_image *img, size_t pixel, const unsigned rgba[4])
{
    size_t i = pixel * img->channels;
    if (img->channels >= 3) {
        for (int c = 0; c < 3; c++)
            put_sample(img, i + c, rgba[c]);
    } else {
        put_sample(img, i, (299 * rgba[0] + 587 * rgba[1] + 114 * rgba[2] + 500) / 1000);
    }
    if (has_alpha(img->channels)) put_sample(img, i + img->channels - 1, rgba[3]);
}

hs_status hs_image_convert(const hs_image *in, int channels, hs_image *out)
{
    HS_TRY(check_image(in, "convert"));
    if (channels < 1 || channels > 4)
        return hs_fail(HS_ERR_USAGE, "convert: %d channels asked for; 1 to 4 are possible",
                       channels);
    hs_image result;
    HS_TRY(hs_image_alloc(&result, in->width, in->height, channels, hs_image_bits(in)));
    size_t count = (size_t)in->width * (size_t)in->height;
    for (size_t i = 0; i < count; i++) {
        unsigned rgba[4];
        read_rgba(in, i, rgba);
        write_rgba(&result, i, rgba);
    }
    *out = result;
    return HS_OK;
}

hs_status hs_image_convert_bits(const hs_image *in, int bits, hs_image *out)
{
    HS_TRY(check_image(in, "convert depth"));
    if (bits != 8 && bits != 16)
        return hs_fail(HS_ERR_USAGE, "convert depth: %d bits asked for; 8 or 16 are possible",
                       bits);
    hs_image result;
    HS_TRY(hs_image_alloc(&result, in->width, in->height, in->channels, bits));
    size_t count = (size_t)in->width * in->height * in->channels;
    int from = hs_image_bits(in);
    for (size_t i = 0; i < count; i++) {
        unsigned v = get_sample(in, i);
        put_sample(&result, i, from == bits ? v : bits == 16 ? v * 257 : (v * 255 + 32767) / 65535);
    }
    *out = result;
    return HS_OK;
}

/* ---- Crop ------------------------------------------------------------------------ */

hs_status hs_image_crop(const hs_image *in, int x, int y, int w, int h, hs_image *out)
{
    HS_TRY(check_image(in, "crop"));
    if (w < 1 || h < 1 || x < 0 || y < 0 || x > in->width - w || y > in->height - h)
        return hs_fail(HS_ERR_USAGE,
                       "crop: the %dx%d rectangle at (%d,%d) is not inside the %dx%d image", w, h,
                       x, y, in->width, in->height);
    hs_image result;
    HS_TRY(hs_image_alloc(&result, w, h, in->channels, hs_image_bits(in)));
    size_t row_length = hs_image_row_bytes(&result), pixel = hs_image_sample_bytes(in) * in->channels;
    for (int row = 0; row < h; row++)
        memcpy(result.pixels + (size_t)row * row_length,
               in->pixels + (size_t)(y + row) * hs_image_row_bytes(in) + (size_t)x * pixel,
               row_length);
    *out = result;
    return HS_OK;
}
