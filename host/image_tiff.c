/* image_tiff.c — TIFF decoding from memory and encoding to a file
 * (libtiff), the first page, with the ICC profile.
 *
 * Grey and RGB of 8 or 16 bits per sample, with or without alpha, in strips
 * (the common case, and what hs_encode_tiff writes) are read as they are;
 * anything else libtiff knows (palettes, bilevel, CMYK, YCbCr, tiles, ...)
 * goes through its RGBA reader and comes out as 8-bit RGB(A). Both read the
 * rows as stored, and the Orientation tag is applied afterwards, as EXIF's
 * is for the other formats. Messages from libtiff go to the state of the
 * one file, never to stderr.
 */
#include "image_codec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <tiffio.h>

/* ---- Decoding ------------------------------------------------------------------ */

struct tiff_load {
    const hs_decode_input *in;
    toff_t offset; /* libtiff's position in in->data */
    char message[HS_CODEC_MESSAGE_SIZE];
};

static tmsize_t read_memory(thandle_t handle, void *buffer, tmsize_t length)
{
    struct tiff_load *s = handle;
    if (length < 0 || s->offset > s->in->size) return 0;
    size_t count = (size_t)length < s->in->size - s->offset ? (size_t)length
                                                             : s->in->size - s->offset;
    memcpy(buffer, s->in->data + s->offset, count);
    s->offset += count;
    return (tmsize_t)count;
}

static tmsize_t refuse_write(thandle_t handle, void *buffer, tmsize_t length)
{
    (void)handle;
    (void)buffer;
    (void)length;
    return -1;
}

static toff_t seek_memory(thandle_t handle, toff_t offset, int whence)
{
    struct tiff_load *s = handle;
    toff_t base = whence == SEEK_CUR ? s->offset : whence == SEEK_END ? s->in->size : 0;
    if (offset > UINT64_MAX - base) return (toff_t)-1;
    s->offset = base + offset;
    return s->offset;
}

static int close_nothing(thandle_t handle)
{
    (void)handle;
    return 0;
}

static toff_t memory_size(thandle_t handle) { return ((struct tiff_load *)handle)->in->size; }

static int map_nothing(thandle_t handle, void **base, toff_t *size)
{
    (void)handle;
    (void)base;
    (void)size;
    return 0;
}

static void unmap_nothing(thandle_t handle, void *base, toff_t size)
{
    (void)handle;
    (void)base;
    (void)size;
}

/* The first error is kept (the later ones tend to be its consequences). */
static int on_tiff_error(TIFF *tif, void *user, const char *module, const char *format,
                         va_list args)
{
    (void)tif;
    (void)module;
    char *message = user;
    if (!message[0]) vsnprintf(message, HS_CODEC_MESSAGE_SIZE, format, args);
    return 1;
}

static int on_tiff_warning(TIFF *tif, void *user, const char *module, const char *format,
                           va_list args)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)format;
    (void)args;
    return 1;
}

static hs_status tiff_failure(const struct tiff_load *s, const char *what)
{
    return hs_fail(HS_ERR_IO, "%s: %s TIFF (libtiff: %s)", s->in->name, what,
                   s->message[0] ? s->message : "no detail");
}

/* Grey or RGB, 8 or 16-bit unsigned samples, an optional alpha, contiguous, in strips. */
static int is_direct(TIFF *tif, int *channels, int *bits)
{
    uint16_t photometric, samples, bits_per_sample, format, planar;
    if (TIFFIsTiled(tif) || !TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric)) return 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits_per_sample);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    int colours = photometric == PHOTOMETRIC_MINISBLACK ? 1 : photometric == PHOTOMETRIC_RGB ? 3 : 0;
    if (!colours || (samples != colours && samples != colours + 1) || format != SAMPLEFORMAT_UINT ||
        (planar != PLANARCONFIG_CONTIG && samples > 1) || (bits_per_sample != 8 && bits_per_sample != 16))
        return 0;
    *channels = samples;
    *bits = bits_per_sample;
    return 1;
}

static hs_status read_direct(struct tiff_load *s, TIFF *tif, int channels, int bits, hs_image *img)
{
    uint32_t width, height;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
    int kept_bits = bits == 16 && s->in->keep_16bit ? 16 : 8;
    HS_TRY(hs_check_decode_size(s->in, width, height, channels, bits));
    if ((size_t)TIFFScanlineSize(tif) != (size_t)width * channels * (bits / 8))
        return tiff_failure(s, "an inconsistent");
    hs_image raw = {0};
    hs_status status = hs_image_alloc(&raw, (int)width, (int)height, channels, bits);
    if (status != HS_OK) return hs_fail_context(status, "%s", s->in->name);
    for (uint32_t y = 0; y < height && status == HS_OK; y++)
        if (TIFFReadScanline(tif, raw.pixels + y * hs_image_row_bytes(&raw), y, 0) < 0)
            status = tiff_failure(s, "truncated or corrupt");
    if (status == HS_OK && kept_bits != bits) status = hs_image_convert_bits(&raw, 8, img);
    else if (status == HS_OK) *img = raw;
    if (status != HS_OK || kept_bits != bits) hs_image_free(&raw);
    return status;
}

/* Through libtiff's RGBA reader, rows as stored (req_orientation = orientation). */
static hs_status read_rgba(struct tiff_load *s, TIFF *tif, hs_image *img)
{
    char why[1024] = "";
    TIFFRGBAImage rgba;
    if (!TIFFRGBAImageOK(tif, why) || !TIFFRGBAImageBegin(&rgba, tif, 0, why))
        return hs_fail(HS_ERR_IO, "%s: unsupported TIFF (libtiff: %s)", s->in->name,
                       why[0] ? why : s->message);
    rgba.req_orientation = rgba.orientation;
    int channels = rgba.alpha ? 4 : 3;
    hs_image raster = {0};
    hs_status status = hs_check_decode_size(s->in, rgba.width, rgba.height, 4, 8);
    if (status != HS_OK) {
        TIFFRGBAImageEnd(&rgba);
        return status;
    }
    status = hs_image_alloc(&raster, (int)rgba.width, (int)rgba.height, 4, 8);
    if (status != HS_OK) status = hs_fail_context(status, "%s", s->in->name);
    else if (!TIFFRGBAImageGet(&rgba, (uint32_t *)raster.pixels, rgba.width, rgba.height))
        status = tiff_failure(s, "truncated or corrupt");
    TIFFRGBAImageEnd(&rgba);
    /* each uint32 is R, G, B, A from its low byte up: in memory, RGBA bytes */
    for (size_t i = 0; status == HS_OK && i < (size_t)raster.width * raster.height; i++) {
        uint32_t packed = ((uint32_t *)raster.pixels)[i];
        uint8_t *p = raster.pixels + 4 * i;
        p[0] = (uint8_t)TIFFGetR(packed);
        p[1] = (uint8_t)TIFFGetG(packed);
        p[2] = (uint8_t)TIFFGetB(packed);
        p[3] = (uint8_t)TIFFGetA(packed);
    }
    if (status == HS_OK && channels == 3) status = hs_image_convert(&raster, 3, img);
    else if (status == HS_OK) *img = raster;
    if (status != HS_OK || channels == 3) hs_image_free(&raster);
    return status;
}

static hs_status read_tiff(struct tiff_load *s, TIFF *tif, hs_image *img)
{
    int channels, bits;
    HS_TRY(is_direct(tif, &channels, &bits) ? read_direct(s, tif, channels, bits, img)
                                            : read_rgba(s, tif, img));
    uint16_t orientation;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
    uint32_t icc_size;
    void *icc;
    hs_status status = hs_image_orient(img, orientation);
    if (status == HS_OK && TIFFGetField(tif, TIFFTAG_ICCPROFILE, &icc_size, &icc))
        status = hs_copy_blob(icc, icc_size, &img->icc, &img->icc_size);
    if (status != HS_OK) {
        hs_image_free(img);
        hs_fail_context(status, "%s", s->in->name);
    }
    return status;
}

hs_status hs_decode_tiff(const hs_decode_input *in, hs_image *out)
{
    struct tiff_load s = {.in = in};
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (!options) return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", in->name);
    TIFFOpenOptionsSetErrorHandlerExtR(options, on_tiff_error, s.message);
    TIFFOpenOptionsSetWarningHandlerExtR(options, on_tiff_warning, NULL);
    /* no one allocation beyond what an image of the budget needs */
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)(in->max_pixels * 8 + (64 << 20)));
    TIFF *tif = TIFFClientOpenExt(in->name, "rm", &s, read_memory, refuse_write, seek_memory,
                                  close_nothing, memory_size, map_nothing, unmap_nothing, options);
    TIFFOpenOptionsFree(options);
    hs_image img = {0};
    hs_status status = tif ? read_tiff(&s, tif, &img) : tiff_failure(&s, "truncated or corrupt");
    if (tif) TIFFClose(tif);
    if (status == HS_OK) *out = img;
    return status;
}

/* ---- Encoding ------------------------------------------------------------------ */

static tmsize_t read_file(thandle_t handle, void *buffer, tmsize_t length)
{
    return (tmsize_t)fread(buffer, 1, (size_t)length, handle);
}

static tmsize_t write_file(thandle_t handle, void *buffer, tmsize_t length)
{
    return fwrite(buffer, 1, (size_t)length, handle) == (size_t)length ? length : -1;
}

static toff_t seek_file(thandle_t handle, toff_t offset, int whence)
{
    if (fseeko(handle, (off_t)offset, whence) != 0) return (toff_t)-1;
    return (toff_t)ftello(handle);
}

static toff_t file_size(thandle_t handle)
{
    struct stat info;
    fflush(handle);
    return fstat(fileno(handle), &info) == 0 ? (toff_t)info.st_size : 0;
}

static hs_status write_tiff(TIFF *tif, const char *path, const hs_image *img, uint8_t *row)
{
    int bits = hs_image_bits(img);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (uint16_t)bits);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)img->channels);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC,
                 img->channels >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    if (img->channels % 2 == 0) {
        uint16_t alpha = EXTRASAMPLE_UNASSALPHA;
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &alpha);
    }
    if (img->icc && img->icc_size <= UINT32_MAX)
        TIFFSetField(tif, TIFFTAG_ICCPROFILE, (uint32_t)img->icc_size, img->icc);
    size_t row_bytes = hs_image_row_bytes(img);
    for (int y = 0; y < img->height; y++) {
        /* the predictor works in place: give it a copy */
        memcpy(row, img->pixels + (size_t)y * row_bytes, row_bytes);
        if (TIFFWriteScanline(tif, row, (uint32_t)y, 0) < 0)
            return hs_fail(HS_ERR_IO, "%s: cannot write TIFF", path);
    }
    return TIFFWriteDirectory(tif) ? HS_OK : hs_fail(HS_ERR_IO, "%s: cannot write TIFF", path);
}

hs_status hs_encode_tiff(FILE *fp, const char *path, const hs_image *img)
{
    char message[HS_CODEC_MESSAGE_SIZE] = "";
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    uint8_t *row = malloc(hs_image_row_bytes(img));
    if (!options || !row) {
        TIFFOpenOptionsFree(options);
        free(row);
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    }
    TIFFOpenOptionsSetErrorHandlerExtR(options, on_tiff_error, message);
    TIFFOpenOptionsSetWarningHandlerExtR(options, on_tiff_warning, NULL);
    TIFF *tif = TIFFClientOpenExt(path, "w", fp, read_file, write_file, seek_file, close_nothing,
                                  file_size, map_nothing, unmap_nothing, options);
    TIFFOpenOptionsFree(options);
    hs_status status = tif ? write_tiff(tif, path, img, row)
                           : hs_fail(HS_ERR_IO, "%s: cannot start libtiff (%s)", path, message);
    if (tif) TIFFClose(tif);
    free(row);
    if (status != HS_OK && message[0])
        status = hs_fail(status, "%s: cannot write TIFF (libtiff: %s)", path, message);
    return status;
}
