/* image_io.h — images on the host: load PNG, JPEG, WebP and TIFF; save PNG,
 * JPEG, WebP and TIFF; resize, convert between channel counts and depths,
 * crop, turn upright.
 *
 * Pixels are interleaved, row-major, with no row padding: sample c of pixel
 * (x, y) is pixels[(y * width + x) * channels + c] for 8-bit images and
 * hs_image_samples16(img)[...] for 16-bit ones (host byte order). channels is 1 (grey),
 * 2 (grey + alpha), 3 (RGB) or 4 (RGBA). `bits` is 8 or 16; 0 means 8, so
 * an image written as { width, height, channels, pixels } is 8-bit.
 *
 * An image may carry the ICC profile and the EXIF block of the file it came
 * from, as opaque bytes; the savers write them where the format has room.
 * EXIF is kept from the TIFF header on ("II*\0" or "MM\0*"), without the
 * "Exif\0\0" that JPEG puts before it. Loading applies the EXIF orientation
 * to the pixels (and TIFF's own Orientation tag), and the kept EXIF then says
 * "upright" (1), so viewers do not turn the image a second time.
 *
 * Functions that produce an image fill *out on success (free it with
 * hs_image_free) and leave *out untouched on failure; `out` must not point
 * at the input image. Only loading and hs_image_copy_meta give an image
 * metadata; resize, convert, crop and depth changes make images without it.
 * Callers that build an image themselves should name the fields
 * ({.width = ..., .pixels = ...}): the rest are then 0 (8-bit, no metadata).
 */
#ifndef HS_IMAGE_IO_H
#define HS_IMAGE_IO_H

#include "hirestyle.h"

#include <stddef.h>
#include <stdint.h>

/* The largest image accepted anywhere: per side, and in bytes. */
#define HS_IMAGE_MAX_SIDE 65535
#define HS_IMAGE_MAX_BYTES ((size_t)1 << 31)
/* The pixel budget of a load that sets none: 2^28, about 268 megapixels. */
#define HS_IMAGE_DEFAULT_MAX_PIXELS ((int64_t)1 << 28)
/* A progressive JPEG with more scans than this is refused (each scan is a
 * pass over the whole image; libjpeg-turbo's djpeg offers -maxscans). */
#define HS_JPEG_MAX_SCANS 100
/* The largest file read, in bytes. */
#define HS_IMAGE_MAX_FILE_BYTES ((size_t)1 << 31)

typedef struct hs_image {
    int width, height, channels;
    uint8_t *pixels;          /* 16-bit samples: see hs_image_samples16 */
    int bits;                 /* 8 or 16 bits per sample; 0 means 8 */
    uint8_t *icc;             /* ICC profile or NULL */
    size_t icc_size;
    uint8_t *exif;            /* EXIF from its TIFF header on, or NULL */
    size_t exif_size;
} hs_image;

typedef enum hs_image_format {
    HS_FORMAT_AUTO = 0, /* loading: from the first bytes; saving: from the file name */
    HS_FORMAT_PNG,
    HS_FORMAT_JPEG,
    HS_FORMAT_WEBP,
    HS_FORMAT_TIFF,
} hs_image_format;

/* "png", "jpg"/"jpeg", "webp", "tif"/"tiff" in any case; AUTO for anything else. */
hs_image_format hs_image_format_from_name(const char *name);
/* From the extension of a file name; AUTO when it has none of those above. */
hs_image_format hs_image_format_from_path(const char *path);
/* "PNG", "JPEG", "WebP", "TIFF". */
const char *hs_image_format_label(hs_image_format format);
/* Whether the format stores 16-bit samples (PNG and TIFF). */
int hs_image_format_has_16bit(hs_image_format format);

typedef struct hs_load_options {
    /* Refuse, from the header and before decoding, an image of more pixels
     * than this (after any JPEG scaling; a progressive JPEG is counted at
     * full size, since libjpeg keeps all of it). 0: HS_IMAGE_DEFAULT_MAX_PIXELS. */
    int64_t max_pixels;
    /* Over 0: only an image whose longer side is this long is needed, so a
     * JPEG decodes at 1/2, 1/4 or 1/8 of its size while its longer side
     * stays at least this. The result may be larger; resize it after. */
    int longest_side;
    /* 16-bit samples stay 16-bit (bits 16); otherwise they scale to 8. */
    int keep_16bit;
    /* AUTO: told from the first bytes, not the name. */
    hs_image_format format;
} hs_load_options;

/* Load an image file with default options (8-bit, the default budget).
 * The file is read whole first, so pipes (`-i <(cat x.png)`) work.
 * PNG: palettes and tRNS expand to RGB(A), grey below 8 bits to 8, Adam7 is
 * handled. JPEG: grey gives 1 channel, colour and CMYK give RGB. WebP:
 * still images, RGB or RGBA. TIFF: 8 and 16-bit grey and RGB (with alpha)
 * directly, everything else libtiff can read as 8-bit RGBA; the first page.
 * Failures: HS_ERR_IO for unreadable, truncated, corrupt or unsupported
 * files, HS_ERR_TOO_LARGE when the image is over the pixel budget. */
hs_status hs_image_load(const char *path, hs_image *out);
hs_status hs_image_load_with(const char *path, const hs_load_options *options, hs_image *out);
/* The same from bytes in memory; `name` is for the messages. */
hs_status hs_image_decode(const void *data, size_t size, const char *name,
                          const hs_load_options *options, hs_image *out);

/* A new image of the given shape, bits 8 or 16 (pixels uninitialised, no
 * metadata); HS_ERR_TOO_LARGE when the memory is not there. */
hs_status hs_image_alloc(hs_image *img, int width, int height, int channels, int bits);

/* Free the pixels and metadata and zero the struct; a zeroed struct is a no-op. */
void hs_image_free(hs_image *img);

/* 8 or 16. */
int hs_image_bits(const hs_image *img);
/* The samples of a 16-bit image. */
static inline uint16_t *hs_image_samples16(const hs_image *img)
{
    return (uint16_t *)(void *)img->pixels;
}

/* Replace dst's ICC profile and EXIF with copies of src's. */
hs_status hs_image_copy_meta(hs_image *dst, const hs_image *src);

typedef struct hs_save_options {
    hs_image_format format; /* AUTO: from the extension of the path */
    /* JPEG and WebP, 1 to 100; 0: 90 for JPEG, 100 for WebP. WebP at 100
     * is lossless. */
    int quality;
    /* 8 or 16 (16 for PNG and TIFF only); 0: the image's own depth where
     * the format has it, else 8. */
    int bits;
    /* PNG only: NULL or a NULL-terminated list key, value, key, value, ...
     * written as tEXt chunks (iTXt when a value is not plain ASCII); keys
     * are 1 to 79 printable ASCII characters. */
    const char *const *text;
} hs_save_options;

/* Save atomically: a temporary file beside `path` is written, flushed to
 * disk and renamed over it, so an existing file is either fully replaced or
 * left as it was (hs_atomic_begin). The ICC profile and EXIF go into PNG
 * (iCCP, eXIf), JPEG (APP2, APP1), WebP (ICCP, EXIF chunks) and TIFF (the
 * ICC profile only). JPEG has no alpha: it is dropped; grey goes to WebP as
 * RGB. options may be NULL (all defaults). */
hs_status hs_image_save(const char *path, const hs_image *img, const hs_save_options *options);

/* hs_image_save as PNG with text chunks (see hs_save_options.text). */
hs_status hs_image_save_png(const char *path, const hs_image *img, const char *const *text);

/* Resize to width x height, each axis on its own: area averaging when the
 * axis shrinks, Catmull-Rom bicubic (a = -0.5, edges clamped) when it grows.
 * The depth is kept. */
hs_status hs_image_resize(const hs_image *in, int width, int height, hs_image *out);

/* Change the channel count: grey -> RGB replicates, RGB -> grey is Rec.601
 * luma (0.299 R + 0.587 G + 0.114 B), added alpha is opaque, dropped alpha
 * is discarded. The depth is kept. */
hs_status hs_image_convert(const hs_image *in, int channels, hs_image *out);

/* Change the depth to 8 or 16 bits: v8 * 257 up, round(v16 * 255 / 65535) down. */
hs_status hs_image_convert_bits(const hs_image *in, int bits, hs_image *out);

/* Copy the w x h rectangle whose top-left pixel is (x, y); it must lie inside. */
hs_status hs_image_crop(const hs_image *in, int x, int y, int w, int h, hs_image *out);

/* Turn the pixels by an EXIF orientation (1 to 8; 1 and anything else
 * leave them as they are), in place: afterwards they show upright. */
hs_status hs_image_orient(hs_image *img, int orientation);

#endif
