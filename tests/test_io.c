/* test_io.c — Check tests for the host file code: image loading, saving,
 * resizing, converting and cropping (image_io.c) and the safetensors loader
 * (weights.c).
 *
 * Every input file is written by the test itself, with libpng, libjpeg or a
 * small safetensors writer, into a fresh temporary directory per test. The
 * one real photo, dog.jpg, is the one tools/examples/ ships (the directory
 * is $HIRESTYLE_IMAGES, set by tests/meson.build); the test fails without it.
 */
#include "image_io.h"
#include "io_helpers.h"
#include "weights.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

static void cut_file_in_half(const char *path)
{
    struct stat info;
    ck_assert_int_eq(stat(path, &info), 0);
    ck_assert_int_eq(truncate(path, info.st_size / 2), 0);
}

static hs_image constant_image(int width, int height, int channels, uint8_t value)
{
    hs_image img = new_image(width, height, channels);
    memset(img.pixels, value, (size_t)width * height * channels);
    return img;
}

static uint8_t sample(const hs_image *img, int x, int y, int c)
{
    return img->pixels[(y * img->width + x) * img->channels + c];
}

/* ---- Images: writing PNG and JPEG files with the libraries directly ------------- */

struct png_spec {
    int width, height, bit_depth, color_type, interlace; /* interlace 0: none */
    const png_color *palette;
    int palette_size;
    const png_byte *alpha; /* tRNS entries for a palette */
    int alpha_count;
};

/* `data` holds the rows packed as PNG stores them (16-bit samples big-endian). */
static void write_test_png(const char *path, const struct png_spec *spec, const uint8_t *data)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        ck_abort_msg("libpng failed writing %s", path);
    png_init_io(png, fp);
    png_set_IHDR(png, info, spec->width, spec->height, spec->bit_depth, spec->color_type,
                 spec->interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (spec->palette)
        png_set_PLTE(png, info, spec->palette, spec->palette_size);
    if (spec->alpha)
        png_set_tRNS(png, info, spec->alpha, spec->alpha_count, NULL);
    png_write_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    png_bytep *rows = malloc(spec->height * sizeof *rows);
    for (int y = 0; y < spec->height; y++)
        rows[y] = (png_bytep)data + y * row_bytes;
    png_write_image(png, rows); /* writes every Adam7 pass itself when interlaced */
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    ck_assert_int_eq(fclose(fp), 0);
}

static void write_test_jpeg(const char *path, const uint8_t *pixels, int width, int height,
                            int components, J_COLOR_SPACE space)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = components;
    cinfo.in_color_space = space;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 95, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)pixels + (size_t)cinfo.next_scanline * width * components;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    ck_assert_int_eq(fclose(fp), 0);
}

/* A smooth RGB gradient, which JPEG keeps within a few levels. */
static hs_image gradient_image(int width, int height)
{
    hs_image img = new_image(width, height, 3);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            uint8_t *p = img.pixels + (y * width + x) * 3;
            p[0] = (uint8_t)(40 + 160 * x / width);
            p[1] = (uint8_t)(200 - 150 * y / height);
            p[2] = 90;
        }
    return img;
}

static void assert_close_image(const hs_image *got, const hs_image *expected, int tolerance)
{
    ck_assert_int_eq(got->width, expected->width);
    ck_assert_int_eq(got->height, expected->height);
    ck_assert_int_eq(got->channels, expected->channels);
    size_t bytes = (size_t)got->width * got->height * got->channels;
    for (size_t i = 0; i < bytes; i++)
        ck_assert_msg(abs(got->pixels[i] - expected->pixels[i]) <= tolerance,
                      "sample %zu is %d, expected %d +- %d", i, got->pixels[i],
                      expected->pixels[i], tolerance);
}

/* ---- PNG loading ------------------------------------------------------------------- */

static const struct { int width, height, channels; } round_trip_cases[] = {
    { 1, 1, 1 }, { 3, 5, 1 }, { 17, 9, 1 }, { 1, 1, 2 }, { 3, 5, 2 }, { 17, 9, 2 },
    { 1, 1, 3 }, { 3, 5, 3 }, { 17, 9, 3 }, { 1, 1, 4 }, { 3, 5, 4 }, { 17, 9, 4 },
};
#define ROUND_TRIP_CASES ((int)(sizeof round_trip_cases / sizeof round_trip_cases[0]))

START_TEST(test_png_round_trip)
{
    char path[PATH_SIZE];
    temp_file(path, "round.png");
    hs_image original = pattern_image(round_trip_cases[_i].width, round_trip_cases[_i].height,
                                      round_trip_cases[_i].channels);
    ck_assert_int_eq(hs_image_save_png(path, &original, NULL), HS_OK);
    hs_image loaded;
    ck_assert_int_eq(hs_image_load(path, &loaded), HS_OK);
    assert_same_image(&loaded, &original);
    hs_image_free(&loaded);
    hs_image_free(&original);
}
END_TEST

START_TEST(test_png_16_bit)
{
    char path[PATH_SIZE];
    temp_file(path, "deep.png");
    enum { W = 5, H = 3 };
    uint8_t data[H][W * 3 * 2];
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W * 3; i++) {
            int value = (i * 13 + y * 71) % 256 * 257; /* v * 257 scales back to exactly v */
            data[y][2 * i] = (uint8_t)(value >> 8);
            data[y][2 * i + 1] = (uint8_t)value;
        }
    struct png_spec spec = { .width = W, .height = H, .bit_depth = 16,
                             .color_type = PNG_COLOR_TYPE_RGB };
    write_test_png(path, &spec, &data[0][0]);
    hs_image img;
    ck_assert_int_eq(hs_image_load(path, &img), HS_OK);
    ck_assert_int_eq(img.channels, 3);
    for (int y = 0; y < H; y++)
        for (int i = 0; i < W * 3; i++)
            ck_assert_int_eq(img.pixels[y * W * 3 + i], (i * 13 + y * 71) % 256);
    hs_image_free(&img);
}
END_TEST

START_TEST(test_png_palette_with_transparency)
{
    char path[PATH_SIZE];
    temp_file(path, "palette.png");
    static const png_color palette[] = { { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 } };
    static const png_byte alpha[] = { 255, 128 }; /* entry 2 has no tRNS: opaque */
    static const uint8_t data[2][3] = { { 0, 1, 2 }, { 2, 1, 0 } };
    struct png_spec spec = { .width = 3, .height = 2, .bit_depth = 8,
                             .color_type = PNG_COLOR_TYPE_PALETTE, .palette = palette,
                             .palette_size = 3, .alpha = alpha, .alpha_count = 2 };
    write_test_png(path, &spec, &data[0][0]);
    hs_image img;
    ck_assert_int_eq(hs_image_load(path, &img), HS_OK);
    ck_assert_int_eq(img.channels, 4);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++) {
            int entry = data[y][x];
            ck_assert_int_eq(sample(&img, x, y, 0), palette[entry].red);
            ck_assert_int_eq(sample(&img, x, y, 1), palette[entry].green);
            ck_assert_int_eq(sample(&img, x, y, 2), palette[entry].blue);
            ck_assert_int_eq(sample(&img, x, y, 3), entry < 2 ? alpha[entry] : 255);
        }
    hs_image_free(&img);
}
END_TEST

START_TEST(test_png_grey_2_bit)
{
    char path[PATH_SIZE];
    temp_file(path, "grey2.png");
    static const uint8_t data[1] = { 0x1B }; /* four 2-bit pixels: 0, 1, 2, 3 */
    struct png_spec spec = { .width = 4, .height = 1, .bit_depth = 2,
                             .color_type = PNG_COLOR_TYPE_GRAY };
    write_test_png(path, &spec, data);
    hs_image img;
    ck_assert_int_eq(hs_image_load(path, &img), HS_OK);
    ck_assert_int_eq(img.channels, 1);
    static const uint8_t expected[4] = { 0, 85, 170, 255 };
    ck_assert_mem_eq(img.pixels, expected, 4);
    hs_image_free(&img);
}
END_TEST

START_TEST(test_png_interlaced)
{
    char path[PATH_SIZE];
    temp_file(path, "adam7.png");
    hs_image original = pattern_image(17, 9, 3);
    struct png_spec spec = { .width = 17, .height = 9, .bit_depth = 8,
                             .color_type = PNG_COLOR_TYPE_RGB, .interlace = PNG_INTERLACE_ADAM7 };
    write_test_png(path, &spec, original.pixels);
    hs_image loaded;
    ck_assert_int_eq(hs_image_load(path, &loaded), HS_OK);
    assert_same_image(&loaded, &original);
    hs_image_free(&loaded);
    hs_image_free(&original);
}
END_TEST

START_TEST(test_png_too_wide_is_refused)
{
    char path[PATH_SIZE];
    temp_file(path, "wide.png");
    enum { W = 70000 };
    uint8_t *row = calloc(W, 1);
    struct png_spec spec = { .width = W, .height = 1, .bit_depth = 8,
                             .color_type = PNG_COLOR_TYPE_GRAY };
    write_test_png(path, &spec, row);
    free(row);
    hs_image img;
    assert_failure(hs_image_load(path, &img), HS_ERR_IO, path,
                   "70000x1 pixels; each side must be 1 to 65535");
}
END_TEST

/* ---- JPEG loading ---------------------------------------------------------------------- */

START_TEST(test_jpeg_rgb)
{
    char path[PATH_SIZE];
    temp_file(path, "gradient.jpg");
    hs_image original = gradient_image(33, 17);
    write_test_jpeg(path, original.pixels, 33, 17, 3, JCS_RGB);
    hs_image loaded;
    ck_assert_int_eq(hs_image_load(path, &loaded), HS_OK);
    assert_close_image(&loaded, &original, 6);
    hs_image_free(&loaded);
    hs_image_free(&original);
}
END_TEST

START_TEST(test_jpeg_grey)
{
    char path[PATH_SIZE];
    temp_file(path, "grey.jpg");
    hs_image original = constant_image(9, 7, 1, 77);
    write_test_jpeg(path, original.pixels, 9, 7, 1, JCS_GRAYSCALE);
    hs_image loaded;
    ck_assert_int_eq(hs_image_load(path, &loaded), HS_OK);
    assert_close_image(&loaded, &original, 1);
    hs_image_free(&loaded);
    hs_image_free(&original);
}
END_TEST

/* libjpeg writes CMYK with an Adobe marker, so the reader takes the samples
 * as inverted ink (Photoshop's convention): (255, 0, 0, 255) is pure red. */
START_TEST(test_jpeg_cmyk_becomes_rgb)
{
    char path[PATH_SIZE];
    temp_file(path, "cmyk.jpg");
    hs_image cmyk = new_image(8, 8, 4);
    for (int i = 0; i < 64; i++)
        memcpy(cmyk.pixels + 4 * i, (const uint8_t[]){ 255, 0, 0, 255 }, 4);
    write_test_jpeg(path, cmyk.pixels, 8, 8, 4, JCS_CMYK);
    hs_image loaded;
    ck_assert_int_eq(hs_image_load(path, &loaded), HS_OK);
    hs_image red = new_image(8, 8, 3);
    for (int i = 0; i < 64; i++)
        memcpy(red.pixels + 3 * i, (const uint8_t[]){ 255, 0, 0 }, 3);
    assert_close_image(&loaded, &red, 3);
    hs_image_free(&loaded);
    hs_image_free(&red);
    hs_image_free(&cmyk);
}
END_TEST

START_TEST(test_jpeg_example_photo)
{
    const char *dir = getenv("HIRESTYLE_IMAGES") ? getenv("HIRESTYLE_IMAGES") : "tools/examples";
    char path[PATH_SIZE];
    snprintf(path, sizeof path, "%s/dog.jpg", dir);
    hs_image img;
    ck_assert_msg(hs_image_load(path, &img) == HS_OK, "%s", hs_last_error());
    ck_assert_int_eq(img.width, 768);
    ck_assert_int_eq(img.height, 576);
    ck_assert_int_eq(img.channels, 3);
    hs_image_free(&img);
}
END_TEST

/* ---- Bad image files ------------------------------------------------------------------ */

static void make_truncated_png(const char *path)
{
    hs_image img = pattern_image(64, 64, 3);
    ck_assert_int_eq(hs_image_save_png(path, &img, NULL), HS_OK);
    hs_image_free(&img);
    cut_file_in_half(path);
}

static void make_png_with_bad_crc(const char *path)
{
    hs_image img = pattern_image(16, 16, 3);
    ck_assert_int_eq(hs_image_save_png(path, &img, NULL), HS_OK);
    hs_image_free(&img);
    size_t length;
    unsigned char *bytes = read_bytes(path, &length);
    unsigned char *idat = memmem(bytes, length, "IDAT", 4); /* after the chunk's 4-byte length */
    ck_assert_ptr_nonnull(idat);
    size_t data_length = (size_t)idat[-4] << 24 | idat[-3] << 16 | idat[-2] << 8 | idat[-1];
    idat[4 + data_length] ^= 0x55; /* the first byte of the chunk's CRC */
    write_bytes(path, bytes, length);
    free(bytes);
}

static void make_truncated_jpeg(const char *path)
{
    hs_image img = pattern_image(64, 64, 3);
    write_test_jpeg(path, img.pixels, 64, 64, 3, JCS_RGB);
    hs_image_free(&img);
    cut_file_in_half(path);
}

static void make_text_file(const char *path)
{
    const char text[] = "this is not an image\n";
    write_bytes(path, text, sizeof text - 1);
}

static void make_empty_file(const char *path) { write_bytes(path, "", 0); }

static void make_nothing(const char *path) { (void)path; }

static const struct {
    const char *name;
    void (*make)(const char *path);
    const char *phrase;
} bad_image_cases[] = {
    { "half.png", make_truncated_png, "truncated or corrupt PNG (libpng: " },
    { "crc.png", make_png_with_bad_crc, "truncated or corrupt PNG (libpng: IDAT: CRC error)" },
    { "half.jpg", make_truncated_jpeg, "truncated or corrupt JPEG (libjpeg: Premature end" },
    { "text.png", make_text_file, "not a PNG, JPEG, WebP or TIFF file" },
    { "empty.jpg", make_empty_file, "the file is empty" },
    { "missing.jpg", make_nothing, "cannot open: No such file or directory" },
};
#define BAD_IMAGE_CASES ((int)(sizeof bad_image_cases / sizeof bad_image_cases[0]))

START_TEST(test_bad_image_files)
{
    char path[PATH_SIZE];
    temp_file(path, bad_image_cases[_i].name);
    bad_image_cases[_i].make(path);
    hs_image img = { 0 };
    assert_failure(hs_image_load(path, &img), HS_ERR_IO, path, bad_image_cases[_i].phrase);
    ck_assert_ptr_null(img.pixels);
}
END_TEST

/* ---- PNG saving ---------------------------------------------------------------------- */

START_TEST(test_save_replaces_existing_file)
{
    char path[PATH_SIZE];
    temp_file(path, "out.png");
    hs_image first = constant_image(4, 4, 3, 10), second = pattern_image(5, 3, 4);
    mode_t old_mask = umask(022);
    ck_assert_int_eq(hs_image_save_png(path, &first, NULL), HS_OK);
    ck_assert_int_eq(hs_image_save_png(path, &second, NULL), HS_OK);
    umask(old_mask);
    hs_image loaded;
    ck_assert_int_eq(hs_image_load(path, &loaded), HS_OK);
    assert_same_image(&loaded, &second);
    struct stat info;
    ck_assert_int_eq(stat(path, &info), 0);
    ck_assert_int_eq(info.st_mode & 0777, 0644);
    ck_assert_int_eq(count_leftover_temporaries(), 0);
    hs_image_free(&loaded);
    hs_image_free(&first);
    hs_image_free(&second);
}
END_TEST

/* rename() fails when the target is a directory: nothing may be left behind. */
START_TEST(test_save_over_directory_fails_cleanly)
{
    char path[PATH_SIZE];
    temp_file(path, "taken.png");
    ck_assert_int_eq(mkdir(path, 0755), 0);
    hs_image img = pattern_image(3, 3, 3);
    assert_failure(hs_image_save_png(path, &img, NULL), HS_ERR_IO, path, "cannot replace it");
    struct stat info;
    ck_assert_int_eq(stat(path, &info), 0);
    ck_assert(S_ISDIR(info.st_mode));
    ck_assert_int_eq(count_leftover_temporaries(), 0);
    hs_image_free(&img);
}
END_TEST

START_TEST(test_save_into_missing_directory_fails)
{
    char path[PATH_SIZE];
    temp_file(path, "no-such-dir/out.png");
    hs_image img = pattern_image(3, 3, 3);
    assert_failure(hs_image_save_png(path, &img, NULL), HS_ERR_IO, path,
                   "cannot create a temporary file beside it");
    hs_image_free(&img);
}
END_TEST

/* The value of text chunk `key` in the PNG at `path`, or NULL; *international
 * tells whether it came from an iTXt chunk. The result is malloc'ed. */
static char *read_png_text(const char *path, const char *key, int *international)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        ck_abort_msg("libpng failed reading %s", path);
    png_init_io(png, fp);
    png_read_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_textp texts;
    int count = png_get_text(png, info, &texts, NULL);
    char *value = NULL;
    for (int i = 0; i < count && !value; i++)
        if (strcmp(texts[i].key, key) == 0) {
            value = strdup(texts[i].text);
            *international = texts[i].compression == PNG_ITXT_COMPRESSION_NONE;
        }
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    return value;
}

START_TEST(test_save_text_chunks)
{
    char path[PATH_SIZE];
    temp_file(path, "text.png");
    hs_image img = pattern_image(2, 2, 3);
    const char *text[] = { "Software", "hirestyle 0.1", "Title", "caf\xc3\xa9 na\xc3\xafve", NULL };
    ck_assert_int_eq(hs_image_save_png(path, &img, text), HS_OK);
    int international;
    char *software = read_png_text(path, "Software", &international);
    ck_assert_str_eq(software, "hirestyle 0.1");
    ck_assert(!international);
    char *title = read_png_text(path, "Title", &international);
    ck_assert_str_eq(title, "caf\xc3\xa9 na\xc3\xafve");
    ck_assert(international);
    free(software);
    free(title);
    hs_image_free(&img);
}
END_TEST

START_TEST(test_save_rejects_bad_text_key)
{
    char path[PATH_SIZE];
    temp_file(path, "key.png");
    hs_image img = pattern_image(2, 2, 3);
    const char *empty_key[] = { "", "value", NULL };
    assert_failure(hs_image_save_png(path, &img, empty_key), HS_ERR_USAGE, path,
                   "must be 1 to 79 printable ASCII characters");
    const char *no_value[] = { "Comment", NULL };
    assert_failure(hs_image_save_png(path, &img, no_value), HS_ERR_USAGE, path, "has no value");
    ck_assert_int_eq(access(path, F_OK), -1);
    hs_image_free(&img);
}
END_TEST

/* ---- Resize --------------------------------------------------------------------------- */

static const struct { int in_w, in_h, out_w, out_h; } resize_sizes[] = {
    { 7, 5, 3, 2 }, { 7, 5, 20, 13 }, { 7, 5, 1, 1 }, { 1, 1, 5, 3 },
    { 1, 1, 1, 1 }, { 9, 4, 4, 11 }, { 10, 10, 10, 10 }, { 3, 8, 64, 3 },
};
#define RESIZE_SIZES ((int)(sizeof resize_sizes / sizeof resize_sizes[0]))

START_TEST(test_resize_keeps_constant_image_constant)
{
    hs_image in = constant_image(resize_sizes[_i].in_w, resize_sizes[_i].in_h, 3, 173);
    hs_image out;
    ck_assert_int_eq(hs_image_resize(&in, resize_sizes[_i].out_w, resize_sizes[_i].out_h, &out),
                     HS_OK);
    hs_image expected = constant_image(resize_sizes[_i].out_w, resize_sizes[_i].out_h, 3, 173);
    assert_same_image(&out, &expected);
    hs_image_free(&in);
    hs_image_free(&out);
    hs_image_free(&expected);
}
END_TEST

START_TEST(test_resize_halving_averages_2x2_blocks)
{
    hs_image in = new_image(10, 6, 4);
    unsigned seed = 12345;
    for (int i = 0; i < 10 * 6 * 4; i++) {
        seed = seed * 1103515245u + 12345u;
        in.pixels[i] = (uint8_t)(seed >> 16);
    }
    hs_image out;
    ck_assert_int_eq(hs_image_resize(&in, 5, 3, &out), HS_OK);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 5; x++)
            for (int c = 0; c < 4; c++) {
                int sum = sample(&in, 2 * x, 2 * y, c) + sample(&in, 2 * x + 1, 2 * y, c) +
                          sample(&in, 2 * x, 2 * y + 1, c) + sample(&in, 2 * x + 1, 2 * y + 1, c);
                ck_assert_int_eq(sample(&out, x, y, c), (sum + 2) / 4); /* halves round up */
            }
    hs_image_free(&in);
    hs_image_free(&out);
}
END_TEST

/* Catmull-Rom reproduces straight lines wherever its 4 taps lie inside the image. */
START_TEST(test_resize_enlarged_ramp_stays_linear)
{
    enum { IN = 8, OUT = 29 };
    hs_image in = new_image(IN, 2, 1);
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < IN; x++)
            in.pixels[y * IN + x] = (uint8_t)(10 + 30 * x);
    hs_image out;
    ck_assert_int_eq(hs_image_resize(&in, OUT, 2, &out), HS_OK);
    int checked = 0;
    for (int x = 0; x < OUT; x++) {
        double source_x = (x + 0.5) * IN / OUT - 0.5;
        if (source_x < 1 || source_x > IN - 2)
            continue;
        double expected = 10 + 30 * source_x;
        ck_assert_msg(fabs(sample(&out, x, 0, 0) - expected) <= 0.5 + 1e-3,
                      "x=%d: %d, expected %.2f", x, sample(&out, x, 0, 0), expected);
        checked++;
    }
    ck_assert_int_gt(checked, OUT / 2);
    hs_image_free(&in);
    hs_image_free(&out);
}
END_TEST

START_TEST(test_resize_to_one_pixel_is_the_mean)
{
    hs_image in = new_image(2, 2, 1);
    memcpy(in.pixels, (const uint8_t[]){ 0, 100, 200, 100 }, 4);
    hs_image out;
    ck_assert_int_eq(hs_image_resize(&in, 1, 1, &out), HS_OK);
    ck_assert_int_eq(out.pixels[0], 100);
    hs_image_free(&in);
    hs_image_free(&out);
}
END_TEST

START_TEST(test_resize_refuses_bad_sizes)
{
    hs_image in = constant_image(2, 2, 3, 0), out = { 0 };
    assert_failure(hs_image_resize(&in, 0, 5, &out), HS_ERR_USAGE, "resize", "each side must be");
    assert_failure(hs_image_resize(&in, 70000, 5, &out), HS_ERR_USAGE, "resize",
                   "each side must be");
    assert_failure(hs_image_resize(&in, 65535, 65535, &out), HS_ERR_USAGE, "resize",
                   "larger than 2 GiB");
    ck_assert_ptr_null(out.pixels);
    hs_image_free(&in);
}
END_TEST

/* ---- Convert and crop ------------------------------------------------------------------ */

static const struct {
    int in_channels;
    uint8_t in[4];
    int out_channels;
    uint8_t out[4];
} convert_cases[] = {
    { 1, { 90 }, 3, { 90, 90, 90 } },            /* grey -> RGB replicates */
    { 1, { 90 }, 4, { 90, 90, 90, 255 } },       /* added alpha is opaque */
    { 2, { 90, 7 }, 4, { 90, 90, 90, 7 } },
    { 3, { 255, 0, 0 }, 1, { 76 } },             /* Rec.601: 0.299 * 255 = 76.2 */
    { 3, { 0, 255, 0 }, 1, { 150 } },            /* 0.587 * 255 = 149.7 */
    { 3, { 10, 200, 30 }, 2, { 124, 255 } },     /* 2.99 + 117.4 + 3.42 = 123.81 */
    { 4, { 10, 20, 30, 40 }, 3, { 10, 20, 30 } }, /* dropped alpha is dropped */
    { 4, { 0, 0, 255, 40 }, 2, { 29, 40 } },     /* 0.114 * 255 = 29.07 */
    { 2, { 90, 7 }, 1, { 90 } },
    { 3, { 1, 2, 3 }, 3, { 1, 2, 3 } },
};
#define CONVERT_CASES ((int)(sizeof convert_cases / sizeof convert_cases[0]))

START_TEST(test_convert)
{
    hs_image in = new_image(1, 1, convert_cases[_i].in_channels), out;
    memcpy(in.pixels, convert_cases[_i].in, (size_t)in.channels);
    ck_assert_int_eq(hs_image_convert(&in, convert_cases[_i].out_channels, &out), HS_OK);
    ck_assert_int_eq(out.channels, convert_cases[_i].out_channels);
    ck_assert_mem_eq(out.pixels, convert_cases[_i].out, (size_t)out.channels);
    hs_image_free(&in);
    hs_image_free(&out);
}
END_TEST

START_TEST(test_convert_refuses_bad_channel_count)
{
    hs_image in = constant_image(2, 2, 3, 0), out = { 0 };
    assert_failure(hs_image_convert(&in, 5, &out), HS_ERR_USAGE, "convert", "5 channels");
    hs_image_free(&in);
}
END_TEST

START_TEST(test_crop)
{
    hs_image in = pattern_image(17, 9, 3), out;
    ck_assert_int_eq(hs_image_crop(&in, 4, 2, 5, 6, &out), HS_OK);
    ck_assert_int_eq(out.width, 5);
    ck_assert_int_eq(out.height, 6);
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 5; x++)
            for (int c = 0; c < 3; c++)
                ck_assert_int_eq(sample(&out, x, y, c), sample(&in, x + 4, y + 2, c));
    hs_image_free(&out);
    ck_assert_int_eq(hs_image_crop(&in, 0, 0, 17, 9, &out), HS_OK);
    assert_same_image(&out, &in);
    hs_image_free(&out);
    hs_image_free(&in);
}
END_TEST

START_TEST(test_crop_refuses_outside_rectangle)
{
    hs_image in = pattern_image(17, 9, 3), out = { 0 };
    assert_failure(hs_image_crop(&in, 13, 0, 5, 9, &out), HS_ERR_USAGE, "crop", "is not inside");
    assert_failure(hs_image_crop(&in, -1, 0, 5, 5, &out), HS_ERR_USAGE, "crop", "is not inside");
    assert_failure(hs_image_crop(&in, 0, 0, 0, 5, &out), HS_ERR_USAGE, "crop", "is not inside");
    ck_assert_ptr_null(out.pixels);
    hs_image_free(&in);
}
END_TEST

/* ---- Weights: writing safetensors files ---------------------------------------------- */

/* The 8-byte little-endian size `header_size`, then `header`, then `data`. */
static void write_safetensors_raw(const char *path, uint64_t header_size, const char *header,
                                  const void *data, size_t data_length)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    for (int i = 0; i < 8; i++)
        fputc((int)(header_size >> (8 * i)) & 0xff, fp);
    fputs(header, fp);
    fwrite(data, 1, data_length, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

/* `floats` floats 0, 1, 2, ... follow the header. */
static void write_safetensors(const char *path, const char *header, int floats)
{
    float *data = malloc((size_t)(floats + 1) * sizeof *data);
    for (int i = 0; i < floats; i++)
        data[i] = (float)i;
    write_safetensors_raw(path, strlen(header), header, data, (size_t)floats * sizeof *data);
    free(data);
}

/* Two tensors and metadata; the trailing space makes 8 + N odd, so the data
 * area would be misaligned if it were used where it lies in the file. */
static const char good_header[] =
    "{\"__metadata__\":{\"arch\":\"vgg19\",\"mean\":\"0.485,0.456,0.406\",\"layers\":\"16\","
    "\"scale\":\"255\",\"bad_int\":\"12x\",\"pair\":\"1,2\"},"
    "\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"conv.bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[24,40]},"
    "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[40,40]}} ";

static void load_good_weights(hs_weights *w, char path[PATH_SIZE])
{
    temp_file(path, "good.safetensors");
    write_safetensors(path, good_header, 10);
    ck_assert_msg(hs_weights_load(path, w) == HS_OK, "%s", hs_last_error());
}

START_TEST(test_weights_good_file)
{
    char path[PATH_SIZE];
    hs_weights w;
    load_good_weights(&w, path);
    ck_assert_int_eq(w.count, 3);
    ck_assert_int_eq(w.meta_count, 6);
    ck_assert_str_eq(w.path, path);

    const hs_weight *conv = hs_weights_find(&w, "conv.weight");
    ck_assert_ptr_nonnull(conv);
    ck_assert_int_eq(conv->ndim, 2);
    ck_assert_int_eq(conv->shape[0], 2);
    ck_assert_int_eq(conv->shape[1], 3);
    ck_assert_uint_eq(conv->count, 6);
    ck_assert_uint_eq((uintptr_t)conv->data % 4, 0);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(conv->data[i], (float)i);

    const hs_weight *bias = hs_weights_find(&w, "conv.bias");
    ck_assert_ptr_nonnull(bias);
    ck_assert_uint_eq(bias->count, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(bias->data[i], (float)(6 + i));
    ck_assert_uint_eq(hs_weights_find(&w, "empty")->count, 0);
    ck_assert_ptr_null(hs_weights_find(&w, "nope"));

    ck_assert_str_eq(hs_weights_meta(&w, "arch"), "vgg19");
    ck_assert_ptr_null(hs_weights_meta(&w, "nope"));
    hs_weights_free(&w);
    ck_assert_ptr_null(w.tensors);
}
END_TEST

START_TEST(test_weights_empty_header)
{
    char path[PATH_SIZE];
    temp_file(path, "empty.safetensors");
    write_safetensors(path, "{}", 0);
    hs_weights w;
    ck_assert_int_eq(hs_weights_load(path, &w), HS_OK);
    ck_assert_int_eq(w.count, 0);
    ck_assert_int_eq(w.meta_count, 0);
    hs_weights_free(&w);
}
END_TEST

START_TEST(test_weights_expect)
{
    char path[PATH_SIZE];
    hs_weights w;
    load_good_weights(&w, path);
    const hs_weight *t = NULL;
    const int64_t conv_shape[] = { 2, 3 };
    ck_assert_int_eq(hs_weights_expect(&w, "vgg19", "conv.weight", 2, conv_shape, &t), HS_OK);
    ck_assert_ptr_eq(t, hs_weights_find(&w, "conv.weight"));
    assert_failure(hs_weights_expect(&w, "resnet50", "conv1.weight", 4,
                                     (const int64_t[]){ 64, 3, 3, 3 }, &t),
                   HS_ERR_WEIGHTS, path,
                   "tensor 'conv1.weight' is missing (is this a resnet50 weights file?)");
    assert_failure(hs_weights_expect(&w, "resnet50", "conv.weight", 4,
                                     (const int64_t[]){ 64, 3, 3, 3 }, &t),
                   HS_ERR_WEIGHTS, path,
                   "tensor 'conv.weight' has shape [2,3], "
                   "the resnet50 architecture needs [64,3,3,3]");
    assert_failure(hs_weights_expect(&w, "vgg19", "conv.bias", 1, (const int64_t[]){ 5 }, &t),
                   HS_ERR_WEIGHTS, path, "has shape [4], the vgg19 architecture needs [5]");
    hs_weights_free(&w);
}
END_TEST

START_TEST(test_weights_metadata_values)
{
    char path[PATH_SIZE];
    hs_weights w;
    load_good_weights(&w, path);
    int layers;
    ck_assert_int_eq(hs_weights_meta_int(&w, "layers", &layers), HS_OK);
    ck_assert_int_eq(layers, 16);
    float scale, mean[3];
    ck_assert_int_eq(hs_weights_meta_float(&w, "scale", &scale), HS_OK);
    ck_assert_float_eq(scale, 255.0f);
    ck_assert_int_eq(hs_weights_meta_floats(&w, "mean", mean, 3), HS_OK);
    ck_assert_float_eq(mean[0], 0.485f);
    ck_assert_float_eq(mean[1], 0.456f);
    ck_assert_float_eq(mean[2], 0.406f);

    assert_failure(hs_weights_meta_int(&w, "depth", &layers), HS_ERR_WEIGHTS, path,
                   "metadata 'depth' is missing");
    assert_failure(hs_weights_meta_int(&w, "bad_int", &layers), HS_ERR_WEIGHTS, path,
                   "metadata 'bad_int' is '12x', not an integer");
    assert_failure(hs_weights_meta_float(&w, "arch", &scale), HS_ERR_WEIGHTS, path,
                   "metadata 'arch' is 'vgg19', not a number");
    assert_failure(hs_weights_meta_floats(&w, "pair", mean, 3), HS_ERR_WEIGHTS, path,
                   "metadata 'pair' is '1,2', not 3 comma-separated numbers");
    assert_failure(hs_weights_meta_floats(&w, "mean", mean, 2), HS_ERR_WEIGHTS, path,
                   "not 2 comma-separated numbers");
    hs_weights_free(&w);
}
END_TEST

/* ---- Weights: malformed files --------------------------------------------------------- */

#define TENSOR(fields) "{\"a\":{" fields "}}"
#define F32_2 "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"

enum poison { CLEAN, POISON_NAN, POISON_INF };

static const struct {
    const char *header;
    enum poison poison; /* written into float 1 of the data */
    const char *phrase;
} bad_weights_cases[] = {
    { "{\"a\": ", CLEAN, "header is not valid JSON" },
    { "[1,2]", CLEAN, "header is not a JSON object" },
    { TENSOR("\"shape\":[2],\"data_offsets\":[0,8]"), CLEAN, "tensor 'a' has no 'dtype'" },
    { TENSOR("\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]"), CLEAN,
      "'dtype' is not a string" },
    { TENSOR("\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]"), CLEAN,
      "tensor 'a': dtype F16 is not supported, convert to F32" },
    { TENSOR("\"dtype\":\"F32\",\"data_offsets\":[0,8]"), CLEAN, "tensor 'a' has no 'shape'" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]"), CLEAN,
      "'shape' is not a list of integers" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]"), CLEAN,
      "'shape' is not a list of integers" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]"), CLEAN,
      "tensor 'a' has 5 dimensions; at most 4 are supported" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]"), CLEAN,
      "tensor 'a' has a negative dimension (-2)" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]"), CLEAN,
      "impossibly large shape" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[2]"), CLEAN, "tensor 'a' has no 'data_offsets'" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]"), CLEAN,
      "'data_offsets' is not a pair of non-negative integers" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":\"0,8\""), CLEAN,
      "'data_offsets' is not a pair of non-negative integers" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]"), CLEAN,
      "data_offsets [8,0] end before they begin" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[20],\"data_offsets\":[0,80]"), CLEAN,
      "data_offsets [0,80] go beyond the end of the file (the data area is 40 bytes)" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]"), CLEAN,
      "tensor 'a' has shape [3] (12 bytes of F32) but its data_offsets span 8 bytes" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[2,10]"), CLEAN,
      "tensor 'a' starts at data offset 2, not a multiple of 4" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}",
      CLEAN, "tensors 'a' and 'b' overlap" },
    { "{\"a\":{" F32_2 "},\"a\":{" F32_2 "}}", CLEAN, "'a' appears twice in the header" },
    { "{\"a\":5}", CLEAN, "tensor 'a' is not an object" },
    { "{\"__metadata__\":{\"k\":1}}", CLEAN, "metadata 'k' is not a string" },
    { "{\"__metadata__\":\"x\"}", CLEAN, "'__metadata__' is not an object" },
    { "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", CLEAN, "'k' appears twice in the header" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[0,40]"), POISON_NAN,
      "tensor 'a' contains NaN at element 1" },
    { TENSOR("\"dtype\":\"F32\",\"shape\":[10],\"data_offsets\":[0,40]"), POISON_INF,
      "tensor 'a' contains infinity at element 1" },
};
#define BAD_WEIGHTS_CASES ((int)(sizeof bad_weights_cases / sizeof bad_weights_cases[0]))

START_TEST(test_weights_bad_header)
{
    char path[PATH_SIZE];
    temp_file(path, "bad.safetensors");
    float data[10];
    for (int i = 0; i < 10; i++)
        data[i] = (float)i;
    if (bad_weights_cases[_i].poison != CLEAN)
        data[1] = bad_weights_cases[_i].poison == POISON_NAN ? NAN : INFINITY;
    const char *header = bad_weights_cases[_i].header;
    write_safetensors_raw(path, strlen(header), header, data, sizeof data);
    hs_weights w = { 0 };
    assert_failure(hs_weights_load(path, &w), HS_ERR_WEIGHTS, path, bad_weights_cases[_i].phrase);
    ck_assert_ptr_null(w.path);
}
END_TEST

START_TEST(test_weights_bad_sizes)
{
    char path[PATH_SIZE];
    temp_file(path, "sizes.safetensors");
    hs_weights w;
    write_bytes(path, "\x02\0\0\0\0", 5);
    assert_failure(hs_weights_load(path, &w), HS_ERR_WEIGHTS, path,
                   "file is 5 bytes, too short for a safetensors header");
    write_safetensors_raw(path, 1000, "{}", "", 0);
    assert_failure(hs_weights_load(path, &w), HS_ERR_WEIGHTS, path,
                   "header size 1000 is larger than the file (10 bytes)");
    write_safetensors_raw(path, (uint64_t)1 << 40, "{}", "", 0);
    assert_failure(hs_weights_load(path, &w), HS_ERR_WEIGHTS, path, "is absurd (over 100 MB)");
    temp_file(path, "missing.safetensors");
    assert_failure(hs_weights_load(path, &w), HS_ERR_IO, path, "cannot open: No such file");
}
END_TEST

/* ---- The suite -------------------------------------------------------------------------- */

static TCase *fixture_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, make_temp_dir, remove_temp_dir);
    return tc;
}

static Suite *io_suite(void)
{
    Suite *s = suite_create("io");

    TCase *png = fixture_case("png");
    tcase_add_loop_test(png, test_png_round_trip, 0, ROUND_TRIP_CASES);
    tcase_add_test(png, test_png_16_bit);
    tcase_add_test(png, test_png_palette_with_transparency);
    tcase_add_test(png, test_png_grey_2_bit);
    tcase_add_test(png, test_png_interlaced);
    tcase_add_test(png, test_png_too_wide_is_refused);
    suite_add_tcase(s, png);

    TCase *jpeg = fixture_case("jpeg");
    tcase_add_test(jpeg, test_jpeg_rgb);
    tcase_add_test(jpeg, test_jpeg_grey);
    tcase_add_test(jpeg, test_jpeg_cmyk_becomes_rgb);
    tcase_add_test(jpeg, test_jpeg_example_photo);
    suite_add_tcase(s, jpeg);

    TCase *bad = fixture_case("bad_images");
    tcase_add_loop_test(bad, test_bad_image_files, 0, BAD_IMAGE_CASES);
    suite_add_tcase(s, bad);

    TCase *save = fixture_case("save");
    tcase_add_test(save, test_save_replaces_existing_file);
    tcase_add_test(save, test_save_over_directory_fails_cleanly);
    tcase_add_test(save, test_save_into_missing_directory_fails);
    tcase_add_test(save, test_save_text_chunks);
    tcase_add_test(save, test_save_rejects_bad_text_key);
    suite_add_tcase(s, save);

    TCase *ops = tcase_create("resize_convert_crop");
    tcase_add_loop_test(ops, test_resize_keeps_constant_image_constant, 0, RESIZE_SIZES);
    tcase_add_test(ops, test_resize_halving_averages_2x2_blocks);
    tcase_add_test(ops, test_resize_enlarged_ramp_stays_linear);
    tcase_add_test(ops, test_resize_to_one_pixel_is_the_mean);
    tcase_add_test(ops, test_resize_refuses_bad_sizes);
    tcase_add_loop_test(ops, test_convert, 0, CONVERT_CASES);
    tcase_add_test(ops, test_convert_refuses_bad_channel_count);
    tcase_add_test(ops, test_crop);
    tcase_add_test(ops, test_crop_refuses_outside_rectangle);
    suite_add_tcase(s, ops);

    TCase *weights = fixture_case("weights");
    tcase_add_test(weights, test_weights_good_file);
    tcase_add_test(weights, test_weights_empty_header);
    tcase_add_test(weights, test_weights_expect);
    tcase_add_test(weights, test_weights_metadata_values);
    tcase_add_loop_test(weights, test_weights_bad_header, 0, BAD_WEIGHTS_CASES);
    tcase_add_test(weights, test_weights_bad_sizes);
    suite_add_tcase(s, weights);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(io_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
