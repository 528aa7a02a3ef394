/* image_codec.h — what the format files (image_png.c, image_jpeg.c,
 * image_webp.c, image_tiff.c) share with image_io.c, which chooses among
 * them: the decoders and encoders, the checks every decoder makes on the
 * header before it decodes, and the buffers.
 *
 * A decoder reads a whole file held in memory and fills an image with its
 * pixels and metadata (EXIF still as in the file: image_io.c turns the
 * image upright and rewrites the EXIF orientation). An encoder writes an
 * image it may assume fits the format (channels, depth) to an open file.
 */
#ifndef HS_IMAGE_CODEC_H
#define HS_IMAGE_CODEC_H

#include "engine.h" /* HS_TRY */
#include "image_io.h"

#include <stdio.h>

/* The decoders' view of a load: the bytes, the file's name for messages,
 * and the options with their defaults filled in. */
typedef struct hs_decode_input {
    const uint8_t *data;
    size_t size;
    const char *name;
    int64_t max_pixels;
    int longest_side;
    int keep_16bit;
} hs_decode_input;

hs_status hs_decode_png(const hs_decode_input *in, hs_image *out);
hs_status hs_decode_jpeg(const hs_decode_input *in, hs_image *out);
hs_status hs_decode_webp(const hs_decode_input *in, hs_image *out);
hs_status hs_decode_tiff(const hs_decode_input *in, hs_image *out);

/* The encoders. `path` is for messages; quality is 1 to 100. PNG: any
 * channels and depth; JPEG: 8-bit grey or RGB; WebP: 8-bit RGB or RGBA;
 * TIFF: any channels and depth. */
hs_status hs_encode_png(FILE *fp, const char *path, const hs_image *img,
                        const char *const *text);
hs_status hs_encode_jpeg(FILE *fp, const char *path, const hs_image *img, int quality);
hs_status hs_encode_webp(FILE *fp, const char *path, const hs_image *img, int quality);
hs_status hs_encode_tiff(FILE *fp, const char *path, const hs_image *img);

/* Sides and bytes within HS_IMAGE_MAX_SIDE and HS_IMAGE_MAX_BYTES (else
 * HS_ERR_IO: no file of ours can be that), and width × height within the
 * budget (else HS_ERR_TOO_LARGE). `what` names the file. */
hs_status hs_check_decode_size(const hs_decode_input *in, long long width, long long height,
                               int channels, int bits);

/* Bytes per sample (1 or 2), per row. */
size_t hs_image_sample_bytes(const hs_image *img);
size_t hs_image_row_bytes(const hs_image *img);

/* A malloc'ed copy of size bytes into *out and *out_size; HS_ERR_TOO_LARGE
 * when the memory is not there. size 0 leaves *out NULL. */
hs_status hs_copy_blob(const void *data, size_t size, uint8_t **out, size_t *out_size);

/* EXIF (from the TIFF header on): the orientation, 1 to 8, or 1 when it is
 * absent or the block cannot be read; and set it to 1 where it is stored. */
int hs_exif_orientation(const uint8_t *exif, size_t size);
void hs_exif_set_upright(uint8_t *exif, size_t size);

/* Room for one message from a codec library. */
#define HS_CODEC_MESSAGE_SIZE 200

#endif
