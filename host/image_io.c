/* image_io.c — PNG and JPEG loading (libpng, libjpeg), atomic PNG saving, and
 * the host-side image operations resize, convert and crop.
 *
 * libpng and libjpeg report errors by longjmp. Each run of library calls sits
 * in a function of its own that calls setjmp first and keeps everything it
 * allocates in a state struct owned by its caller; the caller frees that
 * state the same way whether the run finished or jumped out.
 */
#include "image_io.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h> /* after jpeglib.h: the warning codes */
#include <png.h>

/* Room for one message from libpng or libjpeg. */
#define LIB_MESSAGE_SIZE JMSG_LENGTH_MAX

/* ---- Image buffers --------------------------------------------------------- */

/* `what` names the file or the operation in the message. */
static hs_status check_image_size(hs_status status, const char *what, long long width,
                                  long long height, int channels)
{
    if (width < 1 || height < 1 || width > HS_IMAGE_MAX_SIDE || height > HS_IMAGE_MAX_SIDE)
        return hs_fail(status, "%s: image is %lldx%lld pixels; each side must be 1 to %d", what,
                       width, height, HS_IMAGE_MAX_SIDE);
    if ((size_t)width * (size_t)height * (size_t)channels > HS_IMAGE_MAX_BYTES)
        return hs_fail(status, "%s: a %lldx%lld image with %d channels is larger than 2 GiB", what,
                       width, height, channels);
    return HS_OK;
}

static hs_status check_image(const hs_image *img, const char *what)
{
    if (!img || !img->pixels || img->width < 1 || img->height < 1 || img->channels < 1 ||
        img->channels > 4)
        return hs_fail(HS_ERR_USAGE, "%s: invalid image (%dx%d pixels, %d channels)", what,
                       img ? img->width : 0, img ? img->height : 0, img ? img->channels : 0);
    return HS_OK;
}

static size_t image_row_bytes(const hs_image *img)
{
    return (size_t)img->width * (size_t)img->channels;
}

static hs_status image_alloc(hs_image *img, int width, int height, int channels)
{
    size_t bytes = (size_t)width * (size_t)height * (size_t)channels;
    uint8_t *pixels = malloc(bytes);
    if (!pixels)
        return hs_fail(HS_ERR_TOO_LARGE, "out of host memory for a %dx%d image (%zu bytes)",
                       width, height, bytes);
    *img = (hs_image){ .width = width, .height = height, .channels = channels, .pixels = pixels };
    return HS_OK;
}

void hs_image_free(hs_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    *img = (hs_image){ 0 };
}

/* ---- PNG loading ----------------------------------------------------------- */

/* libpng's error_ptr is the message buffer of the read or write state. */
static void on_png_error(png_structp png, png_const_charp message)
{
    snprintf(png_get_error_ptr(png), LIB_MESSAGE_SIZE, "%s", message);
    png_longjmp(png, 1);
}

/* libpng warns about ancillary data only (a bad CRC in a text chunk, an
 * unknown chunk); the pixels are intact, so warnings are dropped. */
static void on_png_warning(png_structp png, png_const_charp message)
{
    (void)png;
    (void)message;
}

struct png_load {
    const char *path;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    hs_image image;
    char message[LIB_MESSAGE_SIZE];
};

static hs_status read_png(struct png_load *s, FILE *fp)
{
    if (setjmp(png_jmpbuf(s->png)))
        return hs_fail(HS_ERR_IO, "%s: truncated or corrupt PNG (libpng: %s)", s->path, s->message);
    png_init_io(s->png, fp);
    png_read_info(s->png, s->info);
    png_set_expand(s->png); /* palette -> RGB, tRNS -> alpha, grey below 8 bits -> 8 */
    png_set_scale_16(s->png);
    png_set_interlace_handling(s->png);
    png_read_update_info(s->png, s->info);

    png_uint_32 width = png_get_image_width(s->png, s->info);
    png_uint_32 height = png_get_image_height(s->png, s->info);
    int channels = png_get_channels(s->png, s->info);
    hs_status status = check_image_size(HS_ERR_IO, s->path, width, height, channels);
    if (status != HS_OK)
        return status;
    status = image_alloc(&s->image, (int)width, (int)height, channels);
    if (status != HS_OK)
        return hs_fail_context(status, "%s", s->path);
    s->rows = malloc(height * sizeof *s->rows);
    if (!s->rows)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory for the row table", s->path);
    for (png_uint_32 y = 0; y < height; y++)
        s->rows[y] = s->image.pixels + y * image_row_bytes(&s->image);
    png_read_image(s->png, s->rows);
    png_read_end(s->png, NULL);
    return HS_OK;
}

static hs_status load_png(FILE *fp, const char *path, hs_image *out)
{
    struct png_load s = { .path = path };
    s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s.message, on_png_error, on_png_warning);
    s.info = s.png ? png_create_info_struct(s.png) : NULL;
    hs_status status = s.info ? read_png(&s, fp)
                              : hs_fail(HS_ERR_INTERNAL, "%s: cannot start libpng", path);
    png_destroy_read_struct(&s.png, &s.info, NULL);
    free(s.rows);
    if (status == HS_OK)
        *out = s.image;
    else
        hs_image_free(&s.image);
    return status;
}

/* ---- JPEG loading ---------------------------------------------------------- */

/* libjpeg's error manager, extended with where to jump and the message. */
struct jpeg_failure {
    struct jpeg_error_mgr mgr; /* first, so cinfo->err points at the whole struct */
    jmp_buf jump;
    char message[LIB_MESSAGE_SIZE];
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
    if (level < 0 && !harmless)
        on_jpeg_error(cinfo);
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

struct jpeg_load {
    const char *path;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure failure;
    hs_image image;
};

static hs_status read_jpeg(struct jpeg_load *s, FILE *fp)
{
    struct jpeg_decompress_struct *cinfo = &s->cinfo;
    if (setjmp(s->failure.jump))
        return hs_fail(HS_ERR_IO, "%s: truncated or corrupt JPEG (libjpeg: %s)", s->path,
                       s->failure.message);
    jpeg_create_decompress(cinfo);
    jpeg_stdio_src(cinfo, fp);
    jpeg_read_header(cinfo, TRUE);
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_RGB:
    case JCS_YCbCr: cinfo->out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; break;
    default:
        return hs_fail(HS_ERR_IO, "%s: unsupported JPEG colour space (%d components)", s->path,
                       cinfo->num_components);
    }
    jpeg_calc_output_dimensions(cinfo);
    hs_status status = check_image_size(HS_ERR_IO, s->path, cinfo->output_width,
                                        cinfo->output_height, cinfo->output_components);
    if (status != HS_OK)
        return status;
    status = image_alloc(&s->image, (int)cinfo->output_width, (int)cinfo->output_height,
                         cinfo->output_components);
    if (status != HS_OK)
        return hs_fail_context(status, "%s", s->path);

    jpeg_start_decompress(cinfo);
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = s->image.pixels + cinfo->output_scanline * image_row_bytes(&s->image);
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);
    if (cinfo->out_color_space == JCS_CMYK)
        cmyk_to_rgb(&s->image, cinfo->saw_Adobe_marker);
    return HS_OK;
}

static hs_status load_jpeg(FILE *fp, const char *path, hs_image *out)
{
    struct jpeg_load s = { .path = path };
    s.cinfo.err = jpeg_std_error(&s.failure.mgr);
    s.failure.mgr.error_exit = on_jpeg_error;
    s.failure.mgr.emit_message = on_jpeg_message;
    hs_status status = read_jpeg(&s, fp);
    jpeg_destroy_decompress(&s.cinfo);
    if (status == HS_OK)
        *out = s.image;
    else
        hs_image_free(&s.image);
    return status;
}

/* ---- Loading: format detection ---------------------------------------------- */

static int is_jpeg_signature(const unsigned char *magic, size_t length)
{
    return length >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF;
}

hs_status hs_image_load(const char *path, hs_image *out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return hs_fail(HS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char magic[8];
    size_t length = fread(magic, 1, sizeof magic, fp);
    int is_png = length == sizeof magic && png_sig_cmp(magic, 0, sizeof magic) == 0;
    int is_jpeg = is_jpeg_signature(magic, length);
    hs_status status;
    if (ferror(fp)) {
        status = hs_fail(HS_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    } else if (!is_png && !is_jpeg) {
        status = hs_fail(HS_ERR_IO, "%s: not a PNG or JPEG file", path);
    } else {
        rewind(fp);
        status = is_png ? load_png(fp, path, out) : load_jpeg(fp, path, out);
    }
    fclose(fp);
    return status;
}

/* ---- PNG saving -------------------------------------------------------------- */

static int is_valid_text_key(const char *key)
{
    size_t length = strlen(key);
    if (length < 1 || length > 79)
        return 0;
    for (size_t i = 0; i < length; i++)
        if (key[i] < 0x20 || key[i] > 0x7e)
            return 0;
    return 1;
}

static int is_ascii(const char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text > 0x7f)
            return 0;
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
    png_structp png;
    png_infop info;
    png_bytep *rows;
    png_text *texts;
    int text_count;
    char message[LIB_MESSAGE_SIZE];
};

static hs_status write_png(struct png_save *s, FILE *fp, const hs_image *img, const char *path)
{
    static const int color_types[] = { 0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA };
    if (setjmp(png_jmpbuf(s->png)))
        return hs_fail(HS_ERR_IO, "%s: cannot write PNG (libpng: %s)", path, s->message);
    png_init_io(s->png, fp);
    png_set_IHDR(s->png, s->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 color_types[img->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (s->text_count > 0)
        png_set_text(s->png, s->info, s->texts, s->text_count);
    png_write_info(s->png, s->info);
    png_write_image(s->png, s->rows);
    png_write_end(s->png, NULL);
    return HS_OK;
}

/* Fill s->rows and s->texts; they point into the image and the text list. */
static hs_status prepare_png_save(struct png_save *s, const hs_image *img,
                                  const char *const *text, const char *path)
{
    s->rows = malloc((size_t)img->height * sizeof *s->rows);
    s->texts = calloc((size_t)s->text_count + 1, sizeof *s->texts);
    if (!s->rows || !s->texts)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    for (int y = 0; y < img->height; y++)
        s->rows[y] = img->pixels + (size_t)y * image_row_bytes(img);
    for (int i = 0; i < s->text_count; i++) {
        png_text *t = &s->texts[i];
        t->key = (png_charp)text[2 * i];
        t->text = (png_charp)text[2 * i + 1];
        /* tEXt holds Latin-1; anything beyond ASCII is taken to be UTF-8 and goes in iTXt. */
        t->compression = is_ascii(t->text) ? PNG_TEXT_COMPRESSION_NONE : PNG_ITXT_COMPRESSION_NONE;
    }
    return HS_OK;
}

static hs_status encode_png(FILE *fp, const char *path, const hs_image *img,
                            const char *const *text, int text_count)
{
    struct png_save s = { .text_count = text_count };
    s.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s.message, on_png_error, on_png_warning);
    s.info = s.png ? png_create_info_struct(s.png) : NULL;
    hs_status status = s.info ? prepare_png_save(&s, img, text, path)
                              : hs_fail(HS_ERR_INTERNAL, "%s: cannot start libpng", path);
    if (status == HS_OK)
        status = write_png(&s, fp, img, path);
    png_destroy_write_struct(&s.png, &s.info);
    free(s.rows);
    free(s.texts);
    return status;
}

/* mkstemp creates the file with mode 0600; give the image the mode a plain
 * fopen would: 0666 less the umask (which can only be read by setting it). */
static mode_t new_file_mode(void)
{
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

/* Write the PNG to the open temporary file `fd`, and close it. */
static hs_status write_png_file(int fd, const char *path, const hs_image *img,
                                const char *const *text, int text_count)
{
    FILE *fp = NULL;
    if (fchmod(fd, new_file_mode()) != 0 || !(fp = fdopen(fd, "wb"))) {
        hs_status status = hs_fail(HS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        return status;
    }
    hs_status status = encode_png(fp, path, img, text, text_count);
    if (fclose(fp) != 0 && status == HS_OK)
        status = hs_fail(HS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return status;
}

hs_status hs_image_save_png(const char *path, const hs_image *img, const char *const *text)
{
    int text_count;
    hs_status status = check_image(img, path);
    if (status == HS_OK)
        status = count_text_pairs(path, text, &text_count);
    if (status != HS_OK)
        return status;

    size_t temp_size = strlen(path) + sizeof ".tmp-XXXXXX";
    char *temp_path = malloc(temp_size);
    if (!temp_path)
        return hs_fail(HS_ERR_TOO_LARGE, "%s: out of host memory", path);
    snprintf(temp_path, temp_size, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(temp_path);
    if (fd < 0) {
        status = hs_fail(HS_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                         strerror(errno));
        free(temp_path);
        return status;
    }
    status = write_png_file(fd, path, img, text, text_count);
    if (status == HS_OK && rename(temp_path, path) != 0)
        status = hs_fail(HS_ERR_IO, "%s: cannot replace it: %s", path, strerror(errno));
    if (status != HS_OK)
        unlink(temp_path);
    free(temp_path);
    return status;
}

/* ---- Resize ---------------------------------------------------------------- */

/* How each output sample along one axis is made from the input samples:
 * output o = sum over k < taps of weight[o*taps + k] * input[index[o*taps + k]].
 * Unused taps have weight 0. */
typedef struct axis_filter {
    int taps;
    int *index;
    float *weight;
} axis_filter;

static void free_filter(axis_filter *f)
{
    free(f->index);
    free(f->weight);
}

/* The Catmull-Rom kernel: Keys' cubic with a = -0.5. */
static double catmull_rom(double t)
{
    t = fabs(t);
    if (t < 1)
        return (1.5 * t - 2.5) * t * t + 1;
    if (t < 2)
        return ((-0.5 * t + 2.5) * t - 4) * t + 2;
    return 0;
}

/* Shrinking: output o covers input [o*in/out, (o+1)*in/out); each input
 * sample weighs as much as it overlaps that span. */
static void area_taps(int in, int out, int o, int taps, int *index, double *weight)
{
    double begin = (double)o * in / out, end = (double)(o + 1) * in / out;
    int first = (int)floor(begin);
    for (int k = 0; k < taps; k++) {
        int s = first + k;
        double overlap = fmin(end, s + 1) - fmax(begin, s);
        index[k] = s < in ? s : in - 1;
        weight[k] = overlap > 0 ? overlap : 0;
    }
}

/* Enlarging: the cubic through the 4 input samples around the output's
 * centre, mapped back to input coordinates; indices beyond the edge clamp. */
static void cubic_taps(int in, int out, int o, int *index, double *weight)
{
    double center = (o + 0.5) * in / out - 0.5;
    int first = (int)floor(center) - 1;
    for (int k = 0; k < 4; k++) {
        int s = first + k;
        index[k] = s < 0 ? 0 : s >= in ? in - 1 : s;
        weight[k] = catmull_rom(center - s);
    }
}

static hs_status build_filter(axis_filter *f, int in, int out)
{
    f->taps = out < in ? (int)ceil((double)in / out) + 1 : 4;
    size_t count = (size_t)out * (size_t)f->taps;
    f->index = malloc(count * sizeof *f->index);
    f->weight = malloc(count * sizeof *f->weight);
    double *weight = malloc(f->taps * sizeof *weight);
    if (!f->index || !f->weight || !weight) {
        free(weight);
        return hs_fail(HS_ERR_TOO_LARGE, "resize: out of host memory for the filter");
    }
    for (int o = 0; o < out; o++) {
        int *index = f->index + (size_t)o * f->taps;
        if (out < in)
            area_taps(in, out, o, f->taps, index, weight);
        else
            cubic_taps(in, out, o, index, weight);
        double sum = 0;
        for (int k = 0; k < f->taps; k++)
            sum += weight[k];
        for (int k = 0; k < f->taps; k++)
            f->weight[(size_t)o * f->taps + k] = (float)(weight[k] / sum);
    }
    free(weight);
    return HS_OK;
}

/* First pass: every row of `in` resampled to out_width samples, as floats. */
static void resample_rows(const hs_image *in, const axis_filter *f, int out_width, float *rows)
{
    int channels = in->channels;
    for (int y = 0; y < in->height; y++) {
        const uint8_t *src = in->pixels + (size_t)y * image_row_bytes(in);
        float *dst = rows + (size_t)y * out_width * channels;
        for (int x = 0; x < out_width; x++) {
            const int *index = f->index + (size_t)x * f->taps;
            const float *weight = f->weight + (size_t)x * f->taps;
            for (int c = 0; c < channels; c++) {
                float sum = 0;
                for (int k = 0; k < f->taps; k++)
                    sum += weight[k] * src[index[k] * channels + c];
                dst[x * channels + c] = sum;
            }
        }
    }
}

static uint8_t round_to_byte(float v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
}

/* Second pass: the columns of `rows` resampled to out->height, rounded into out. */
static void resample_columns(const float *rows, const axis_filter *f, hs_image *out)
{
    size_t row_length = image_row_bytes(out);
    for (int y = 0; y < out->height; y++) {
        const int *index = f->index + (size_t)y * f->taps;
        const float *weight = f->weight + (size_t)y * f->taps;
        uint8_t *dst = out->pixels + (size_t)y * row_length;
        for (size_t i = 0; i < row_length; i++) {
            float sum = 0;
            for (int k = 0; k < f->taps; k++)
                sum += weight[k] * rows[(size_t)index[k] * row_length + i];
            dst[i] = round_to_byte(sum);
        }
    }
}

hs_status hs_image_resize(const hs_image *in, int width, int height, hs_image *out)
{
    hs_status status = check_image(in, "resize");
    if (status == HS_OK)
        status = check_image_size(HS_ERR_USAGE, "resize", width, height, in->channels);
    if (status != HS_OK)
        return status;

    axis_filter across = { 0 }, down = { 0 };
    hs_image result = { 0 };
    float *rows = malloc((size_t)in->height * (size_t)width * (size_t)in->channels * sizeof *rows);
    if (!rows)
        status = hs_fail(HS_ERR_TOO_LARGE, "resize: out of host memory for %dx%d floats", width,
                         in->height);
    if (status == HS_OK)
        status = build_filter(&across, in->width, width);
    if (status == HS_OK)
        status = build_filter(&down, in->height, height);
    if (status == HS_OK)
        status = image_alloc(&result, width, height, in->channels);
    if (status == HS_OK) {
        resample_rows(in, &across, width, rows);
        resample_columns(rows, &down, &result);
        *out = result;
    }
    free(rows);
    free_filter(&across);
    free_filter(&down);
    return status;
}

/* ---- Convert and crop -------------------------------------------------------- */

/* Channel counts 2 and 4 carry alpha in their last channel. */
static int has_alpha(int channels) { return channels % 2 == 0; }

static void read_rgba(const uint8_t *pixel, int channels, int rgba[4])
{
    int colour = channels >= 3;
    rgba[0] = pixel[0];
    rgba[1] = pixel[colour ? 1 : 0];
    rgba[2] = pixel[colour ? 2 : 0];
    rgba[3] = has_alpha(channels) ? pixel[channels - 1] : 255;
}

static void write_rgba(uint8_t *pixel, int channels, const int rgba[4])
{
    if (channels >= 3) {
        for (int c = 0; c < 3; c++)
            pixel[c] = (uint8_t)rgba[c];
    } else {
        pixel[0] = (uint8_t)((299 * rgba[0] + 587 * rgba[1] + 114 * rgba[2] + 500) / 1000);
    }
    if (has_alpha(channels))
        pixel[channels - 1] = (uint8_t)rgba[3];
}

hs_status hs_image_convert(const hs_image *in, int channels, hs_image *out)
{
    hs_status status = check_image(in, "convert");
    if (status != HS_OK)
        return status;
    if (channels < 1 || channels > 4)
        return hs_fail(HS_ERR_USAGE, "convert: %d channels asked for; 1 to 4 are possible",
                       channels);
    hs_image result;
    status = image_alloc(&result, in->width, in->height, channels);
    if (status != HS_OK)
        return status;
    size_t count = (size_t)in->width * (size_t)in->height;
    for (size_t i = 0; i < count; i++) {
        int rgba[4];
        read_rgba(in->pixels + i * in->channels, in->channels, rgba);
        write_rgba(result.pixels + i * channels, channels, rgba);
    }
    *out = result;
    return HS_OK;
}

hs_status hs_image_crop(const hs_image *in, int x, int y, int w, int h, hs_image *out)
{
    hs_status status = check_image(in, "crop");
    if (status != HS_OK)
        return status;
    if (w < 1 || h < 1 || x < 0 || y < 0 || x > in->width - w || y > in->height - h)
        return hs_fail(HS_ERR_USAGE,
                       "crop: the %dx%d rectangle at (%d,%d) is not inside the %dx%d image", w, h,
                       x, y, in->width, in->height);
    hs_image result;
    status = image_alloc(&result, w, h, in->channels);
    if (status != HS_OK)
        return status;
    size_t row_length = image_row_bytes(&result);
    for (int row = 0; row < h; row++)
        memcpy(result.pixels + (size_t)row * row_length,
               in->pixels + (size_t)(y + row) * image_row_bytes(in) + (size_t)x * in->channels,
               row_length);
    *out = result;
    return HS_OK;
}
