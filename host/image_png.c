/* image_png.c — PNG decoding from memory and encoding to a file (libpng),
 * 8 or 16 bits, with the ICC profile (iCCP) and EXIF (eXIf).
 *
 * libpng reports errors by longjmp. Each run of library calls sits in a
 * function of its own that calls setjmp first and keeps everything it
 * allocates in a state struct owned by its caller; the caller frees that
 * state the same way whether the run finished or jumped out.
 */
#include "image_codec.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

/* libpng's error_ptr is the message buffer of the read or write state. */
static void on_png_error(png_structp png, png_const_charp message)
{
    snprintf(png_get_error_ptr(png), HS_CODEC_MESSAGE_SIZE, "%s", message);
    png_longjmp(png, 1);
}

/* libpng warns about ancillary data only (a bad CRC in a text chunk, an
 * unknown chunk, an odd ICC profile); the pixels are intact, so warnings
 * are dropped. */
static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

/* ---- Decoding ------------------------------------------------------------------ */

struct png_load {
    const hs_decode_input *in;
    size_t offset; /* how much of in->data libpng has read */
    png_structp png;
    png_infop info;
    png_bytep *rows;
    hs_image image;
    char message[HS_CODEC_MESSAGE_SIZE];
};

static void read_from_memory(png_structp png, png_bytep out, size_t length)
{
    struct png_load *s = png_get_io_ptr(png);
    if (length > s->in->size - s->offset) png_error(png, "the file ends early");
    memcpy(out, s->in->data + s->offset, length);
    s->offset += length;
}

/* The ICC profile and EXIF, when present, as copies in s->image. */
static hs_status keep_png_meta(struct png_load *s)
{
    png_charp name;
    int compression;
    png_bytep profile, exif;
    png_uint_32 profile_size, exif_size;
    if (png_get_iCCP(s->png, s->info, &name, &compression, &profile, &profile_size))
        HS_TRY(hs_copy_blob(profile, profile_size, &s->image.icc, &s->image.icc_size));
    if (png_get_eXIf_1(s->png, s->info, &exif_size, &exif))
        HS_TRY(hs_copy_blob(exif, exif_size, &s->image.exif, &s->image.exif_size));
    return HS_OK;
}

static hs_status read_png(struct png_load *s)
{
    const char *name = s->in->name;
    if (setjmp(png_jmpbuf(s->png)))
        return hs_fail(HS_ERR_IO, "%s: truncated or corrupt PNG (libpng: %s)", name, s->message);
    png_set_read_fn(s->png, s, read_from_memory);
    png_read_info(s->png, s->info);
    int bits = png_get_bit_depth(s->png, s->info) == 16 && s->in->keep_16bit ? 16 : 8;
    hs_status status = hs_check_decode_size(s->in, png_get_image_width(s->png, s->info),
                                            png_get_image_height(s->png, s->info),
                                            png_get_channels(s->png, s->info), bits);
    if (status != HS_OK) return status;
    png_set_expand(s->png); /* palette -> RGB, tRNS -> alpha, grey below 8 bits -> 8 */
    if (bits == 16) png_set_swap(s->png); /* PNG is big-endian; we keep host order */
    else png_set_scale_16(s->png);
    png_set_interlace_handling(s->png);
    png_read_update_info(s->png, s->info);

    png_uint_32 width = png_get_image_width(s->png, s->info);
    png_uint_32 height = png_get_image_height(s->png, s->info);
    int channels = png_get_channels(s->png, s->info);
    HS_TRY(hs_check_decode_size(s->in, width, height, channels, bits));
    status = hs_image_alloc(&s->image, (int)width, (int)height, channels, bits);
    if (status != HS_OK) return hs_fail_context(status, "%s", name);
    s->rows = malloc(height * sizeof *s->rows);
    if (!s->rows) return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory for the row table", name);
    for (png_uint_32 y = 0; y < height; y++)
        s->rows[y] = s->image.pixels + y * hs_image_row_bytes(&s->image);
    png_read_image(s->png, s->rows);
    png_read_end(s->png, s->info); /* eXIf may follow the pixels */
    status = keep_png_meta(s);
    return status == HS_OK ? status : hs_fail_context(status, "%s", name);
}

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

hs_status hs_decode_png(const hs_decode_input *in, hs_image *out)
{
    /* The first chunk is IHDR, which starts with the width and height: the
     * budget is checked on them before libpng reads any further. */
    if (in->size >= 24 && memcmp(in->data + 12, "IHDR", 4) == 0)
        HS_TRY(hs_check_decode_size(in, read_be32(in->data + 16), read_be32(in->data + 20), 1, 8));
    struct png_load s = {.in = in};
    s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s.message, on_png_error, on_png_warning);
    s.info = s.png ? png_create_info_struct(s.png) : NULL;
    hs_status status = s.info ? read_png(&s)
                              : hs_fail(HS_ERR_INTERNAL, "%s: cannot start libpng", in->name);
    png_destroy_read_struct(&s.png, &s.info, NULL);
    free(s.rows);
    if (status == HS_OK) *out = s.image;
    else hs_image_free(&s.image);
    return status;
}

/* ---- Encoding ------------------------------------------------------------------ */

static int is_valid_text_key(const char *key)
{
    size_t length = strlen(key);
    if (length < 1 || length > 79) return 0;
    for (size_t i = 0; i < length; i++)
        if (key[i] < 0x20 || key[i] > 0x7e) return 0;
    return 1;
}

static int is_ascii(const char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text > 0x7f) return 0;
    return 1;
}

/* Count the key/value pairs of `text`, checking each key has a valid name and a value. */
static hs_status count_text_pairs(const char *path, const char *const *text, int *pairs)
{
    *pairs = 0;
    for (int i = 0; text && text[i]; i += 2) {
        if (!is_valid_text_key(text[i]))
            return hs_fail(HS_ERR_USAGE,
                           "%s: PNG text key '%s' must be 1 to 79 printable ASCII characters",
                           path, text[i]);
        if (!text[i + 1])
            return hs_fail(HS_ERR_USAGE, "%s: PNG text key '%s' has no value", path, text[i]);
        (*pairs)++;
    }
    return HS_OK;
}

struct png_save {
    const hs_image *img;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    png_text *texts;
    int text_count;
    char message[HS_CODEC_MESSAGE_SIZE];
};

static hs_status write_png(struct png_save *s, FILE *fp, const char *path)
{
    static const int color_types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                      PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    const hs_image *img = s->img;
    if (setjmp(png_jmpbuf(s->png)))
        return hs_fail(HS_ERR_IO, "%s: cannot write PNG (libpng: %s)", path, s->message);
    png_init_io(s->png, fp);
    png_set_benign_errors(s->png, 1); /* an ICC profile libpng dislikes is left out, not fatal */
    png_set_IHDR(s->png, s->info, (png_uint_32)img->width, (png_uint_32)img->height,
                 hs_image_bits(img), color_types[img->channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (img->icc && img->icc_size <= PNG_UINT_31_MAX)
        png_set_iCCP(s->png, s->info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, img->icc,
                     (png_uint_32)img->icc_size);
    if (img->exif && img->exif_size <= PNG_UINT_31_MAX)
        png_set_eXIf_1(s->png, s->info, (png_uint_32)img->exif_size, img->exif);
    if (s->text_count > 0) png_set_text(s->png, s->info, s->texts, s->text_count);
    png_write_info(s->png, s->info);
    if (hs_image_bits(img) == 16) png_set_swap(s->png);
    png_write_image(s->png, s->rows);
    png_write_end(s->png, NULL);
    return HS_OK;
}

/* Fill s->rows and s->texts; they point into the image and the text list. */
static hs_status prepare_png_save(struct png_save *s, const char *const *text, const char *path)
{
    s->rows = malloc((size_t)s->img->height * sizeof *s->rows);
    s->texts = calloc((size_t)s->text_count + 1, sizeof *s->texts);
    if (!s->rows || !s->texts) return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    for (int y = 0; y < s->img->height; y++)
        s->rows[y] = s->img->pixels + (size_t)y * hs_image_row_bytes(s->img);
    for (int i = 0; i < s->text_count; i++) {
        png_text *t = &s->texts[i];
        t->key = (png_charp)text[2 * i];
        t->text = (png_charp)text[2 * i + 1];
        /* tEXt holds Latin-1; anything beyond ASCII is taken to be UTF-8 and goes in iTXt. */
        t->compression = is_ascii(t->text) ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
    }
    return HS_OK;
}

hs_status hs_encode_png(FILE *fp, const char *path, const hs_image *img, const char *const *text)
{
    struct png_save s = {.img = img};
    HS_TRY(count_text_pairs(path, text, &s.text_count));
    s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s.message, on_png_error, on_png_warning);
    s.info = s.png ? png_create_info_struct(s.png) : NULL;
    hs_status status = s.info ? prepare_png_save(&s, text, path)
                              : hs_fail(HS_ERR_INTERNAL, "%s: cannot start libpng", path);
    if (status == HS_OK) status = write_png(&s, fp, path);
    png_destroy_write_struct(&s.png, &s.info);
    free(s.rows);
    free(s.texts);
    return status;
}
