/* image_jpeg.c — JPEG decoding from memory and encoding to a file
 * (libjpeg-turbo), with the ICC profile (APP2) and EXIF (APP1).
 *
 * Decoding guards against files made to exhaust the machine: the pixel
 * budget is checked on the header, before any scan is decoded; libjpeg
 * scales by 1/2, 1/4 or 1/8 in its DCT when a smaller image will do; its
 * memory is capped (max_memory_to_use: what a progressive JPEG of the
 * budget's size needs); and a progressive JPEG of more than
 * HS_JPEG_MAX_SCANS scans is stopped from the progress monitor.
 *
 * libjpeg reports errors by longjmp; as in image_png.c, the library calls
 * sit in a function that calls setjmp first, and the caller frees.
 */
#include "image_codec.h"

#include <limits.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h> /* after jpeglib.h: the warning codes */

#define EXIF_MARKER (JPEG_APP0 + 1)
#define ICC_MARKER (JPEG_APP0 + 2)
static const char exif_prefix[6] = "Exif\0"; /* "Exif" and two NULs */

/* libjpeg's error manager, extended with where to jump and the message. */
struct jpeg_failure {
    struct jpeg_error_mgr mgr; /* first, so cinfo->err points at the whole struct */
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    int too_many_scans; /* set by the progress monitor before it jumps */
};

static void on_jpeg_error(j_common_ptr cinfo)
{
    struct jpeg_failure *failure = (struct jpeg_failure *)cinfo->err;
    cinfo->err->format_message(cinfo, failure->message);
    longjmp(failure->jump, 1);
}

/* libjpeg only warns about damaged data (a premature end of file among
 * them) and fills the damage with grey; we treat such warnings as errors.
 * These three leave the pixels intact and are ignored, as is trace output. */
static void on_jpeg_message(j_common_ptr cinfo, int level)
{
    int code = cinfo->err->msg_code;
    int harmless =
        code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR || code == JWRN_BOGUS_ICC;
    if (level < 0 && !harmless) on_jpeg_error(cinfo);
}

/* ---- Decoding ------------------------------------------------------------------ */

struct jpeg_load {
    const hs_decode_input *in;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure failure;
    struct jpeg_progress_mgr progress;
    hs_image image;
};

/* Called between (and within) scans: stop at scan HS_JPEG_MAX_SCANS + 1. */
static void on_jpeg_progress(j_common_ptr common)
{
    j_decompress_ptr cinfo = (j_decompress_ptr)common;
    if (cinfo->input_scan_number > HS_JPEG_MAX_SCANS) {
        struct jpeg_failure *failure = (struct jpeg_failure *)cinfo->err;
        failure->too_many_scans = 1;
        longjmp(failure->jump, 1);
    }
}

/* In place, 4 channels to 3. Adobe CMYK JPEGs (those with an Adobe marker,
 * nearly all of them) store inverted amounts of ink: 255 means none. */
static void cmyk_to_rgb(hs_image *img, int inverted)
{
    size_t count = (size_t)img->width * (size_t)img->height;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *cmyk = img->pixels + 4 * i;
        int light[4]; /* 255 = no ink */
        for (int c = 0; c < 4; c++)
            light[c] = inverted ? cmyk[c] : 255 - cmyk[c];
        uint8_t *rgb = img->pixels + 3 * i;
        for (int c = 0; c < 3; c++)
            rgb[c] = (uint8_t)((light[c] * light[3] + 127) / 255);
    }
    img->channels = 3;
}

/* The first APP1 "Exif" marker's contents after the prefix, and the ICC
 * profile (libjpeg joins its APP2 pieces). */
static hs_status keep_jpeg_meta(struct jpeg_load *s)
{
    for (jpeg_saved_marker_ptr m = s->cinfo.marker_list; m; m = m->next)
        if (m->marker == EXIF_MARKER && m->data_length > sizeof exif_prefix &&
            memcmp(m->data, exif_prefix, sizeof exif_prefix) == 0) {
            HS_TRY(hs_copy_blob(m->data + sizeof exif_prefix, m->data_length - sizeof exif_prefix,
                                &s->image.exif, &s->image.exif_size));
            break;
        }
    JOCTET *icc = NULL;
    unsigned int icc_size = 0;
    hs_status status = HS_OK;
    if (jpeg_read_icc_profile(&s->cinfo, &icc, &icc_size))
        status = hs_copy_blob(icc, icc_size, &s->image.icc, &s->image.icc_size);
    free(icc);
    return status;
}

/* The largest reduction 1/1, 1/2, 1/4 or 1/8 that keeps the longer side at
 * least `wanted` (libjpeg rounds the scaled sides up). */
static unsigned int scale_denominator(unsigned int width, unsigned int height, int wanted)
{
    unsigned int longer = width > height ? width : height, denominator = 1;
    while (wanted > 0 && denominator < 8 &&
           (longer + 2 * denominator - 1) / (2 * denominator) >= (unsigned int)wanted)
        denominator *= 2;
    return denominator;
}

/* libjpeg's memory for an image of the budget's size: progressive JPEGs keep
 * every DCT coefficient (2 bytes per sample, up to 4 samples a pixel),
 * plus room for its tables and row buffers. */
static long memory_cap(int64_t max_pixels)
{
    int64_t bytes = max_pixels * 8 + ((int64_t)64 << 20);
    return bytes > (int64_t)LONG_MAX ? LONG_MAX : (long)bytes;
}

static hs_status read_jpeg(struct jpeg_load *s)
{
    struct jpeg_decompress_struct *cinfo = &s->cinfo;
    const char *name = s->in->name;
    if (setjmp(s->failure.jump)) {
        if (s->failure.too_many_scans)
            return hs_fail(HS_ERR_IO, "%s: a progressive JPEG of more than %d scans (each a "
                           "pass over the whole image); refused", name, HS_JPEG_MAX_SCANS);
        return hs_fail(HS_ERR_IO, "%s: truncated or corrupt JPEG (libjpeg: %s)", name,
                       s->failure.message);
    }
    jpeg_create_decompress(cinfo);
    cinfo->mem->max_memory_to_use = memory_cap(s->in->max_pixels);
    s->progress.progress_monitor = on_jpeg_progress;
    cinfo->progress = &s->progress;
    jpeg_mem_src(cinfo, s->in->data, (unsigned long)s->in->size);
    jpeg_save_markers(cinfo, EXIF_MARKER, 0xFFFF);
    jpeg_save_markers(cinfo, ICC_MARKER, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_RGB:
    case JCS_YCbCr: cinfo->out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;
    default:
        return hs_fail(HS_ERR_IO, "%s: unsupported JPEG colour space (%d components)", name,
                       cinfo->num_components);
    }
    /* A progressive JPEG is held whole, whatever the output size. */
    hs_status status = HS_OK;
    if (cinfo->progressive_mode)
        status = hs_check_decode_size(s->in, cinfo->image_width, cinfo->image_height,
                                      cinfo->num_components, 8);
    cinfo->scale_num = 1;
    cinfo->scale_denom =
        scale_denominator(cinfo->image_width, cinfo->image_height, s->in->longest_side);
    jpeg_calc_output_dimensions(cinfo);
    if (status == HS_OK)
        status = hs_check_decode_size(s->in, cinfo->output_width, cinfo->output_height,
                                      cinfo->output_components, 8);
    if (status != HS_OK) return status;
    status = hs_image_alloc(&s->image, (int)cinfo->output_width, (int)cinfo->output_height,
                            cinfo->output_components, 8);
    if (status == HS_OK) status = keep_jpeg_meta(s);
    if (status != HS_OK) return hs_fail_context(status, "%s", name);

    jpeg_start_decompress(cinfo);
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = s->image.pixels + cinfo->output_scanline * hs_image_row_bytes(&s->image);
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);
    if (cinfo->out_color_space == JCS_CMYK) cmyk_to_rgb(&s->image, cinfo->saw_Adobe_marker);
    return HS_OK;
}

hs_status hs_decode_jpeg(const hs_decode_input *in, hs_image *out)
{
    struct jpeg_load s = {.in = in};
    s.cinfo.err = jpeg_std_error(&s.failure.mgr);
    s.failure.mgr.error_exit = on_jpeg_error;
    s.failure.mgr.emit_message = on_jpeg_message;
    hs_status status = read_jpeg(&s);
    jpeg_destroy_decompress(&s.cinfo);
    if (status == HS_OK) *out = s.image;
    else hs_image_free(&s.image);
    return status;
}

/* ---- Encoding ------------------------------------------------------------------ */

struct jpeg_save {
    struct jpeg_compress_struct cinfo;
    struct jpeg_failure failure;
    JOCTET *exif; /* the APP1 contents: prefix and EXIF */
};

/* The largest marker holds 65533 bytes of data. */
#define MARKER_MAX 65533

static hs_status write_jpeg(struct jpeg_save *s, FILE *fp, const char *path, const hs_image *img,
                            int quality)
{
    struct jpeg_compress_struct *cinfo = &s->cinfo;
    if (setjmp(s->failure.jump))
        return hs_fail(HS_ERR_IO, "%s: cannot write JPEG (libjpeg: %s)", path, s->failure.message);
    jpeg_create_compress(cinfo);
    jpeg_stdio_dest(cinfo, fp);
    cinfo->image_width = (JDIMENSION)img->width;
    cinfo->image_height = (JDIMENSION)img->height;
    cinfo->input_components = img->channels;
    cinfo->in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    int has_exif = img->exif && img->exif_size <= MARKER_MAX - sizeof exif_prefix;
    cinfo->write_JFIF_header = !has_exif; /* EXIF's APP1 comes first after SOI, instead */
    jpeg_start_compress(cinfo, TRUE);
    if (has_exif) {
        s->exif = malloc(sizeof exif_prefix + img->exif_size);
        if (!s->exif) return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
        memcpy(s->exif, exif_prefix, sizeof exif_prefix);
        memcpy(s->exif + sizeof exif_prefix, img->exif, img->exif_size);
        jpeg_write_marker(cinfo, EXIF_MARKER, s->exif,
                          (unsigned int)(sizeof exif_prefix + img->exif_size));
    }
    if (img->icc && img->icc_size <= UINT_MAX)
        jpeg_write_icc_profile(cinfo, img->icc, (unsigned int)img->icc_size);
    while (cinfo->next_scanline < cinfo->image_height) {
        JSAMPROW row = img->pixels + (size_t)cinfo->next_scanline * hs_image_row_bytes(img);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    return HS_OK;
}

hs_status hs_encode_jpeg(FILE *fp, const char *path, const hs_image *img, int quality)
{
    struct jpeg_save s = {0};
    s.cinfo.err = jpeg_std_error(&s.failure.mgr);
    s.failure.mgr.error_exit = on_jpeg_error;
    hs_status status = write_jpeg(&s, fp, path, img, quality);
    jpeg_destroy_compress(&s.cinfo);
    free(s.exif);
    return status;
}
