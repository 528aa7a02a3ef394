/* image_exif.c — the one EXIF field hirestyle reads and writes, the
 * orientation (tag 0x0112 in the first IFD), and turning pixels upright by
 * it (hs_image_orient).
 *
 * EXIF is a small TIFF file: "II" (little-endian) or "MM" (big-endian), the
 * number 42, the offset of the first IFD; an IFD is a 2-byte entry count
 * and 12-byte entries (tag, type, count, value or offset). Every offset
 * comes from the file and is checked against its size before use.
 */
#include "image_codec.h"

#include <stdlib.h>
#include <string.h>

#define ORIENTATION_TAG 0x0112
#define TYPE_SHORT 3

static unsigned read16(const uint8_t *p, int big_endian)
{
    return big_endian ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t read32(const uint8_t *p, int big_endian)
{
    return big_endian ? (uint32_t)read16(p, 1) << 16 | read16(p + 2, 1)
                      : (uint32_t)read16(p + 2, 0) << 16 | read16(p, 0);
}

/* The offset of the orientation's value (a SHORT inside its entry), or 0
 * when the block has none that can be read; *big_endian gets the order. */
static size_t orientation_offset(const uint8_t *exif, size_t size, int *big_endian)
{
    if (!exif || size < 8) return 0;
    if (memcmp(exif, "MM\0*", 4) == 0) *big_endian = 1;
    else if (memcmp(exif, "II*\0", 4) == 0) *big_endian = 0;
    else return 0;
    uint32_t ifd = read32(exif + 4, *big_endian);
    if (ifd < 8 || ifd > size - 2) return 0;
    unsigned entries = read16(exif + ifd, *big_endian);
    if (entries > (size - ifd - 2) / 12) return 0;
    for (unsigned i = 0; i < entries; i++) {
        const uint8_t *entry = exif + ifd + 2 + 12 * (size_t)i;
        if (read16(entry, *big_endian) == ORIENTATION_TAG &&
            read16(entry + 2, *big_endian) == TYPE_SHORT && read32(entry + 4, *big_endian) == 1)
            return (size_t)(entry + 8 - exif);
    }
    return 0;
}

int hs_exif_orientation(const uint8_t *exif, size_t size)
{
    int big_endian;
    size_t at = orientation_offset(exif, size, &big_endian);
    unsigned value = at ? read16(exif + at, big_endian) : 1;
    return value >= 1 && value <= 8 ? (int)value : 1;
}

void hs_exif_set_upright(uint8_t *exif, size_t size)
{
    int big_endian;
    size_t at = orientation_offset(exif, size, &big_endian);
    if (!at) return;
    exif[at] = big_endian ? 0 : 1;
    exif[at + 1] = big_endian ? 1 : 0;
}

/* ---- Turning the pixels ---------------------------------------------------------- */

/* For orientation o, the stored pixel shown at (x, y) of the upright
 * w × h image, the stored image being sw × sh. */
static void stored_position(int o, int x, int y, int sw, int sh, int *sx, int *sy)
{
    switch (o) {
    case 2: *sx = sw - 1 - x; *sy = y; break;          /* mirrored left-right */
    case 3: *sx = sw - 1 - x; *sy = sh - 1 - y; break; /* turned 180° */
    case 4: *sx = x; *sy = sh - 1 - y; break;          /* mirrored top-bottom */
    case 5: *sx = y; *sy = x; break;                   /* transposed */
    case 6: *sx = y; *sy = sh - 1 - x; break;          /* shown turned 90° clockwise */
    case 7: *sx = sw - 1 - y; *sy = sh - 1 - x; break; /* transversed */
    case 8: *sx = sw - 1 - y; *sy = x; break;          /* shown turned 90° anticlockwise */
    default: *sx = x; *sy = y; break;
    }
}

hs_status hs_image_orient(hs_image *img, int orientation)
{
    if (orientation < 2 || orientation > 8) return HS_OK;
    int swap = orientation >= 5;
    int w = swap ? img->height : img->width, h = swap ? img->width : img->height;
    hs_image upright;
    HS_TRY(hs_image_alloc(&upright, w, h, img->channels, hs_image_bits(img)));
    size_t pixel = hs_image_sample_bytes(img) * (size_t)img->channels;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx, sy;
            stored_position(orientation, x, y, img->width, img->height, &sx, &sy);
            memcpy(upright.pixels + ((size_t)y * w + x) * pixel,
                   img->pixels + ((size_t)sy * img->width + sx) * pixel, pixel);
        }
    free(img->pixels);
    img->pixels = upright.pixels;
    img->width = w;
    img->height = h;
    return HS_OK;
}
