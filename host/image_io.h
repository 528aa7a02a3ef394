/* image_io.h — 8-bit images on the host: load PNG/JPEG, save PNG, resize,
 * convert between channel counts, crop.
 *
 * Pixels are interleaved, row-major, 8 bits per sample, with no row padding:
 * sample c of pixel (x, y) is pixels[(y * width + x) * channels + c].
 * channels is 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
 * Functions that produce an image fill *out with new pixels on success (free
 * them with hs_image_free) and leave *out untouched on failure; `out` must
 * not point at the input image.
 */
#ifndef HS_IMAGE_IO_H
#define HS_IMAGE_IO_H

#include "hirestyle.h"

#include <stdint.h>

/* The largest image accepted anywhere: per side, and in bytes. */
#define HS_IMAGE_MAX_SIDE 65535
#define HS_IMAGE_MAX_BYTES ((size_t)1 << 31)

typedef struct hs_image {
    int width, height, channels;
    uint8_t *pixels;
} hs_image;

/* Load a PNG or JPEG file (told apart by its first bytes, not its name).
 * PNG: palettes and tRNS expand to RGB(A), 16-bit scales to 8, grey below
 * 8 bits expands to 8; interlacing is handled. JPEG: grey gives 1 channel,
 * colour and CMYK give RGB. Truncated or corrupt files fail with HS_ERR_IO. */
hs_status hs_image_load(const char *path, hs_image *out);

/* Free the pixels and zero the struct; a zeroed struct is a no-op. */
void hs_image_free(hs_image *img);

/* Save as PNG, atomically: a temporary file beside `path` is renamed over it,
 * so an existing file is either fully replaced or left as it was.
 * `text` is NULL or a NULL-terminated list key, value, key, value, ...
 * written as tEXt chunks (iTXt when a value is not plain ASCII); keys are 1
 * to 79 printable ASCII characters. */
hs_status hs_image_save_png(const char *path, const hs_image *img, const char *const *text);

/* Resize to width x height, each axis on its own: area averaging when the
 * axis shrinks, Catmull-Rom bicubic (a = -0.5, edges clamped) when it grows. */
hs_status hs_image_resize(const hs_image *in, int width, int height, hs_image *out);

/* Change the channel count: grey -> RGB replicates, RGB -> grey is Rec.601
 * luma (0.299 R + 0.587 G + 0.114 B), added alpha is 255, dropped alpha is
 * discarded. */
hs_status hs_image_convert(const hs_image *in, int channels, hs_image *out);

/* Copy the w x h rectangle whose top-left pixel is (x, y); it must lie inside. */
hs_status hs_image_crop(const hs_image *in, int x, int y, int w, int h, hs_image *out);

#endif
