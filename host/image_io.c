/* image_io.c — loading and saving images (image_io.h): reading the file
 * into memory, telling the format from its first bytes or the file name,
 * the checks every decoder makes on the header, turning the result upright,
 * converting what a format cannot hold, and the atomic write. The formats
 * themselves are in image_png.c, image_jpeg.c, image_webp.c and
 * image_tiff.c; resize, convert and crop in image_ops.c.
 */
#include "image_codec.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Formats ------------------------------------------------------------------- */

hs_image_format hs_image_format_from_name(const char *name)
{
    static const struct { const char *name; hs_image_format format; } names[] = {
        {"png", HS_FORMAT_PNG},   {"jpg", HS_FORMAT_JPEG}, {"jpeg", HS_FORMAT_JPEG},
        {"webp", HS_FORMAT_WEBP}, {"tif", HS_FORMAT_TIFF}, {"tiff", HS_FORMAT_TIFF},
    };
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0) return names[i].format;
    return HS_FORMAT_AUTO;
}

hs_image_format hs_image_format_from_path(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) ? hs_image_format_from_name(dot + 1) : HS_FORMAT_AUTO;
}

const char *hs_image_format_label(hs_image_format format)
{
    switch (format) {
    case HS_FORMAT_PNG: return "PNG";
    case HS_FORMAT_JPEG: return "JPEG";
    case HS_FORMAT_WEBP: return "WebP";
    case HS_FORMAT_TIFF: return "TIFF";
    default: return "an image format told from the name";
    }
}

int hs_image_format_has_16bit(hs_image_format format)
{
    return format == HS_FORMAT_PNG || format == HS_FORMAT_TIFF;
}

static hs_image_format format_from_bytes(const uint8_t *data, size_t size)
{
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) return HS_FORMAT_PNG;
    if (size >= 3 && memcmp(data, "\xFF\xD8\xFF", 3) == 0) return HS_FORMAT_JPEG;
    if (size >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return HS_FORMAT_WEBP;
    if (size >= 4 && (memcmp(data, "II*\0", 4) == 0 || memcmp(data, "MM\0*", 4) == 0 ||
                      memcmp(data, "II+\0", 4) == 0 || memcmp(data, "MM\0+", 4) == 0))
        return HS_FORMAT_TIFF;
    return HS_FORMAT_AUTO;
}

/* ---- Image buffers --------------------------------------------------------------- */

int hs_image_bits(const hs_image *img) { return img->bits == 16 ? 16 : 8; }

size_t hs_image_sample_bytes(const hs_image *img) { return img->bits == 16 ? 2 : 1; }

size_t hs_image_row_bytes(const hs_image *img)
{
    return (size_t)img->width * (size_t)img->channels * hs_image_sample_bytes(img);
}

hs_status hs_image_alloc(hs_image *img, int width, int height, int channels, int bits)
{
    size_t bytes = (size_t)width * (size_t)height * (size_t)channels * (bits == 16 ? 2 : 1);
    uint8_t *pixels = malloc(bytes ? bytes : 1);
    if (!pixels)
        return hs_fail(HS_ERR_TOO_LARGE, "out of host memory for a %dx%d image (%zu bytes)",
                       width, height, bytes);
    *img = (hs_image){.width = width, .height = height, .channels = channels, .pixels = pixels,
                      .bits = bits};
    return HS_OK;
}

void hs_image_free(hs_image *img)
{
    if (!img) return;
    free(img->pixels);
    free(img->icc);
    free(img->exif);
    *img = (hs_image){0};
}

hs_status hs_copy_blob(const void *data, size_t size, uint8_t **out, size_t *out_size)
{
    uint8_t *copy = NULL;
    if (size > 0) {
        copy = malloc(size);
        if (!copy) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory for %zu bytes", size);
        memcpy(copy, data, size);
    }
    free(*out);
    *out = copy;
    *out_size = size;
    return HS_OK;
}

hs_status hs_image_copy_meta(hs_image *dst, const hs_image *src)
{
    HS_TRY(hs_copy_blob(src->icc, src->icc ? src->icc_size : 0, &dst->icc, &dst->icc_size));
    return hs_copy_blob(src->exif, src->exif ? src->exif_size : 0, &dst->exif, &dst->exif_size);
}

hs_status hs_check_decode_size(const hs_decode_input *in, long long width, long long height,
                               int channels, int bits)
{
    if (width < 1 || height < 1 || width > HS_IMAGE_MAX_SIDE || height > HS_IMAGE_MAX_SIDE)
        return hs_fail(HS_ERR_IO, "%s: image is %lldx%lld pixels; each side must be 1 to %d",
                       in->name, width, height, HS_IMAGE_MAX_SIDE);
    if (width * height > in->max_pixels)
        return hs_fail(HS_ERR_TOO_LARGE,
                       "%s: image is %lldx%lld pixels (%.0f megapixels), over this command's "
                       "limit of %.0f megapixels; refused before decoding", in->name, width,
                       height, width * height / 1e6, in->max_pixels / 1e6);
    if ((size_t)(width * height) * (size_t)channels * (size_t)(bits / 8) > HS_IMAGE_MAX_BYTES)
        return hs_fail(HS_ERR_IO, "%s: a %lldx%lld image with %d channels is larger than 2 GiB",
                       in->name, width, height, channels);
    return HS_OK;
}

/* ---- Loading ---------------------------------------------------------------------- */

/* The whole file, read in one go whatever it is (a pipe cannot seek back to
 * the signature); *data is malloc'ed. */
static hs_status read_whole_file(const char *path, uint8_t **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hs_fail(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    size_t capacity = fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0
                          ? (size_t)info.st_size + 1 /* +1: sees the end at once */
                          : (size_t)1 << 16;
    hs_status status = HS_OK;
    uint8_t *buffer = NULL;
    size_t used = 0;
    for (;;) {
        if (used == capacity) capacity *= 2;
        if (capacity > HS_IMAGE_MAX_FILE_BYTES + 1) capacity = HS_IMAGE_MAX_FILE_BYTES + 1;
        if (used == capacity) {
            status = hs_fail(HS_ERR_IO, "%s: larger than %zu bytes; not an image we read", path,
                             HS_IMAGE_MAX_FILE_BYTES);
            break;
        }
        uint8_t *bigger = realloc(buffer, capacity);
        if (!bigger) {
            status = hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory to read it", path);
            break;
        }
        buffer = bigger;
        ssize_t got = read(fd, buffer + used, capacity - used);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            status = hs_fail(HS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
        if (got == 0) break;
        used += (size_t)got;
    }
    close(fd);
    if (status != HS_OK) {
        free(buffer);
        return status;
    }
    *data = buffer;
    *size = used;
    return HS_OK;
}

/* EXIF orientation onto the pixels, and the kept EXIF made to say so. */
static hs_status apply_exif_orientation(hs_image *img)
{
    if (!img->exif) return HS_OK;
    HS_TRY(hs_image_orient(img, hs_exif_orientation(img->exif, img->exif_size)));
    hs_exif_set_upright(img->exif, img->exif_size);
    return HS_OK;
}

hs_status hs_image_decode(const void *data, size_t size, const char *name,
                          const hs_load_options *options, hs_image *out)
{
    static const hs_load_options defaults = {0};
    if (!options) options = &defaults;
    hs_decode_input in = {
        .data = data,
        .size = size,
        .name = name,
        .max_pixels = options->max_pixels > 0 ? options->max_pixels : HS_IMAGE_DEFAULT_MAX_PIXELS,
        .longest_side = options->longest_side,
        .keep_16bit = options->keep_16bit,
    };
    hs_image_format format = options->format ? options->format : format_from_bytes(data, size);
    hs_image img = {0};
    hs_status status;
    switch (format) {
    case HS_FORMAT_PNG: status = hs_decode_png(&in, &img); break;
    case HS_FORMAT_JPEG: status = hs_decode_jpeg(&in, &img); break;
    case HS_FORMAT_WEBP: status = hs_decode_webp(&in, &img); break;
    case HS_FORMAT_TIFF: status = hs_decode_tiff(&in, &img); break;
    default:
        return hs_fail(HS_ERR_IO, "%s: %s", name,
                       size ? "not a PNG, JPEG, WebP or TIFF file" : "the file is empty");
    }
    if (status == HS_OK && (status = apply_exif_orientation(&img)) != HS_OK)
        hs_fail_context(status, "%s", name);
    if (status != HS_OK) {
        hs_image_free(&img);
        return status;
    }
    *out = img;
    return HS_OK;
}

hs_status hs_image_load_with(const char *path, const hs_load_options *options, hs_image *out)
{
    uint8_t *data = NULL;
    size_t size = 0;
    HS_TRY(read_whole_file(path, &data, &size));
    hs_status status = hs_image_decode(data, size, path, options, out);
    free(data);
    return status;
}

hs_status hs_image_load(const char *path, hs_image *out)
{
    return hs_image_load_with(path, NULL, out);
}

/* ---- Saving ------------------------------------------------------------------------ */

static hs_status check_image(const hs_image *img, const char *what)
{
    if (!img || !img->pixels || img->width < 1 || img->height < 1 || img->channels < 1 ||
        img->channels > 4 || (img->bits != 0 && img->bits != 8 && img->bits != 16))
        return hs_fail(HS_ERR_USAGE, "%s: invalid image (%dx%d pixels, %d channels, %d bits)",
                       what, img ? img->width : 0, img ? img->height : 0,
                       img ? img->channels : 0, img ? img->bits : 0);
    return HS_OK;
}

/* What the format can hold: JPEG grey or RGB, WebP RGB or RGBA. */
static int channels_for(hs_image_format format, int channels)
{
    if (format == HS_FORMAT_JPEG) return channels >= 3 ? 3 : 1;
    if (format == HS_FORMAT_WEBP) return channels % 2 == 0 ? 4 : 3;
    return channels;
}

/* img as the format takes it: *use is img itself or a converted copy in *copy. */
static hs_status fit_format(const char *path, const hs_image *img, hs_image_format format,
                            int bits, hs_image *copy, const hs_image **use)
{
    int channels = channels_for(format, img->channels);
    *use = img;
    if (bits == hs_image_bits(img) && channels == img->channels) return HS_OK;
    hs_image deep = {0};
    hs_status status = HS_OK;
    if (bits != hs_image_bits(img)) status = hs_image_convert_bits(img, bits, &deep);
    if (status == HS_OK && channels != img->channels)
        status = hs_image_convert(deep.pixels ? &deep : img, channels, copy);
    else if (status == HS_OK) {
        *copy = deep;
        deep = (hs_image){0};
    }
    hs_image_free(&deep);
    if (status == HS_OK) status = hs_image_copy_meta(copy, img);
    *use = copy;
    return status == HS_OK ? status : hs_fail_context(status, "%s", path);
}

static hs_status encode(FILE *fp, const char *path, const hs_image *img, hs_image_format format,
                        int quality, const char *const *text)
{
    switch (format) {
    case HS_FORMAT_PNG: return hs_encode_png(fp, path, img, text);
    case HS_FORMAT_JPEG: return hs_encode_jpeg(fp, path, img, quality ? quality : 90);
    case HS_FORMAT_WEBP: return hs_encode_webp(fp, path, img, quality ? quality : 100);
    default: return hs_encode_tiff(fp, path, img);
    }
}

hs_status hs_image_save(const char *path, const hs_image *img, const hs_save_options *options)
{
    static const hs_save_options defaults = {0};
    if (!options) options = &defaults;
    HS_TRY(check_image(img, path));
    hs_image_format format = options->format ? options->format : hs_image_format_from_path(path);
    if (format == HS_FORMAT_AUTO)
        return hs_fail(HS_ERR_USAGE, "%s: cannot tell the format from the name; end it in "
                       ".png, .jpg, .webp or .tif", path);
    if (options->quality < 0 || options->quality > 100)
        return hs_fail(HS_ERR_USAGE, "%s: quality %d is not 1 to 100", path, options->quality);
    if (options->text && format != HS_FORMAT_PNG)
        return hs_fail(HS_ERR_USAGE, "%s: text chunks need PNG", path);
    int bits = options->bits ? options->bits
                             : hs_image_format_has_16bit(format) ? hs_image_bits(img) : 8;
    if ((bits != 8 && bits != 16) || (bits == 16 && !hs_image_format_has_16bit(format)))
        return hs_fail(HS_ERR_USAGE, "%s: %s holds 8 bits per sample, not %d; 16 bits need PNG "
                       "or TIFF", path, hs_image_format_label(format), bits);
    hs_image copy = {0};
    const hs_image *use;
    hs_status status = fit_format(path, img, format, bits, &copy, &use);
    hs_atomic_file file = {0};
    if (status == HS_OK) status = hs_atomic_begin(path, &file);
    if (status == HS_OK) status = encode(file.fp, path, use, format, options->quality, options->text);
    if (status == HS_OK) status = hs_atomic_commit(&file);
    else hs_atomic_abort(&file);
    hs_image_free(&copy);
    return status;
}

hs_status hs_image_save_png(const char *path, const hs_image *img, const char *const *text)
{
    hs_save_options options = {.format = HS_FORMAT_PNG, .text = text};
    return hs_image_save(path, img, &options);
}
