/* image_webp.c — WebP decoding from memory and encoding to a file
 * (libwebp), still images only, with the ICC profile and EXIF chunks
 * (libwebpdemux to read them, libwebpmux to write them). */
#include "image_codec.h"

#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

/* ---- Decoding ------------------------------------------------------------------ */

/* Some writers put JPEG's "Exif\0\0" before the TIFF header; it is dropped. */
static hs_status keep_exif(const WebPChunkIterator *chunk, hs_image *img)
{
    const uint8_t *bytes = chunk->chunk.bytes;
    size_t size = chunk->chunk.size;
    if (size >= 6 && memcmp(bytes, "Exif\0\0", 6) == 0) {
        bytes += 6;
        size -= 6;
    }
    return hs_copy_blob(bytes, size, &img->exif, &img->exif_size);
}

static hs_status keep_webp_meta(const hs_decode_input *in, hs_image *img)
{
    WebPData data = {in->data, in->size};
    WebPDemuxer *demux = WebPDemux(&data);
    if (!demux) return hs_fail(HS_ERR_IO, "%s: corrupt WebP container", in->name);
    WebPChunkIterator chunk;
    hs_status status = HS_OK;
    if (WebPDemuxGetChunk(demux, "ICCP", 1, &chunk)) {
        status = hs_copy_blob(chunk.chunk.bytes, chunk.chunk.size, &img->icc, &img->icc_size);
        WebPDemuxReleaseChunkIterator(&chunk);
    }
    if (status == HS_OK && WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
        status = keep_exif(&chunk, img);
        WebPDemuxReleaseChunkIterator(&chunk);
    }
    WebPDemuxDelete(demux);
    return status;
}

hs_status hs_decode_webp(const hs_decode_input *in, hs_image *out)
{
    WebPBitstreamFeatures features;
    if (WebPGetFeatures(in->data, in->size, &features) != VP8_STATUS_OK)
        return hs_fail(HS_ERR_IO, "%s: truncated or corrupt WebP", in->name);
    if (features.has_animation)
        return hs_fail(HS_ERR_IO, "%s: an animated WebP; only still images are read", in->name);
    int channels = features.has_alpha ? 4 : 3;
    HS_TRY(hs_check_decode_size(in, features.width, features.height, channels, 8));
    hs_image img;
    hs_status status = hs_image_alloc(&img, features.width, features.height, channels, 8);
    if (status != HS_OK) return hs_fail_context(status, "%s", in->name);
    size_t size = (size_t)img.width * img.height * channels, stride = hs_image_row_bytes(&img);
    uint8_t *done = channels == 4 ? WebPDecodeRGBAInto(in->data, in->size, img.pixels, size, (int)stride)
                                  : WebPDecodeRGBInto(in->data, in->size, img.pixels, size, (int)stride);
    status = done ? keep_webp_meta(in, &img)
                  : hs_fail(HS_ERR_IO, "%s: truncated or corrupt WebP", in->name);
    if (status == HS_OK) *out = img;
    else hs_image_free(&img);
    return status;
}

/* ---- Encoding ------------------------------------------------------------------ */

/* The bare image into *encoded (quality 100: lossless). */
static hs_status encode_bitstream(const char *path, const hs_image *img, int quality,
                                  WebPMemoryWriter *encoded)
{
    WebPConfig config;
    WebPPicture picture;
    if (!WebPConfigPreset(&config, WEBP_PRESET_PHOTO, (float)quality) || !WebPPictureInit(&picture))
        return hs_fail(HS_ERR_INTERNAL, "%s: cannot start libwebp", path);
    config.lossless = quality == 100;
    if (config.lossless) {
        config.quality = 75; /* lossless: the effort, cwebp's default (100 is several times slower) */
        config.exact = 1;    /* keep the colour under transparent pixels */
    }
    picture.use_argb = config.lossless;
    picture.width = img->width;
    picture.height = img->height;
    picture.writer = WebPMemoryWrite;
    picture.custom_ptr = encoded;
    int stride = (int)hs_image_row_bytes(img);
    int imported = img->channels == 4 ? WebPPictureImportRGBA(&picture, img->pixels, stride)
                                      : WebPPictureImportRGB(&picture, img->pixels, stride);
    int ok = imported && WebPEncode(&config, &picture);
    hs_status status = ok ? HS_OK
                          : hs_fail(imported ? HS_ERR_IO : HS_ERR_TOO_LARGE,
                                    "%s: cannot encode WebP (libwebp error %d)", path,
                                    picture.error_code);
    WebPPictureFree(&picture);
    return status;
}

/* The bitstream with the ICC profile and EXIF chunks around it, into *file. */
static hs_status add_meta(const char *path, const hs_image *img, const WebPMemoryWriter *encoded,
                          WebPData *file)
{
    WebPMux *mux = WebPMuxNew();
    if (!mux) return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    WebPData image = {encoded->mem, encoded->size};
    WebPData icc = {img->icc, img->icc_size}, exif = {img->exif, img->exif_size};
    int ok = WebPMuxSetImage(mux, &image, 0) == WEBP_MUX_OK &&
             (!img->icc || WebPMuxSetChunk(mux, "ICCP", &icc, 0) == WEBP_MUX_OK) &&
             (!img->exif || WebPMuxSetChunk(mux, "EXIF", &exif, 0) == WEBP_MUX_OK) &&
             WebPMuxAssemble(mux, file) == WEBP_MUX_OK;
    WebPMuxDelete(mux);
    return ok ? HS_OK : hs_fail(HS_ERR_IO, "%s: cannot assemble the WebP file", path);
}

hs_status hs_encode_webp(FILE *fp, const char *path, const hs_image *img, int quality)
{
    if (img->width > WEBP_MAX_DIMENSION || img->height > WEBP_MAX_DIMENSION)
        return hs_fail(HS_ERR_USAGE, "%s: WebP holds at most %dx%d pixels, not %dx%d", path,
                       WEBP_MAX_DIMENSION, WEBP_MAX_DIMENSION, img->width, img->height);
    WebPMemoryWriter encoded;
    WebPMemoryWriterInit(&encoded);
    WebPData file = {NULL, 0};
    hs_status status = encode_bitstream(path, img, quality, &encoded);
    if (status == HS_OK) status = add_meta(path, img, &encoded, &file);
    if (status == HS_OK && fwrite(file.bytes, 1, file.size, fp) != file.size)
        status = hs_fail(HS_ERR_IO, "%s: cannot write", path);
    WebPDataClear(&file);
    WebPMemoryWriterClear(&encoded);
    return status;
}
