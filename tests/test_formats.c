/* test_formats.c — Check tests for the image formats beyond 8-bit PNG and
 * JPEG loading (test_io.c has those): 16-bit PNG and TIFF, WebP, JPEG
 * writing, the ICC profile and EXIF carried through each format, EXIF and
 * TIFF orientation, and hostile input: decompression bombs refused from the
 * header, progressive JPEGs with too many scans, DCT scaling, pipes, and
 * the temporaries a killed writer leaves.
 *
 * Every input is made here, with hirestyle's writers where the test is a
 * round trip and with libjpeg, libtiff or by hand where the file must be
 * one hirestyle cannot write (orientation tags, scan scripts, bombs).
 */
#include "atomic_file.h"
#include "image_io.h"
#include "io_helpers.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jpeglib.h>
#include <tiffio.h>

/* ---- Images ------------------------------------------------------------------- */

/* A 16-bit pattern that differs in every sample and uses both bytes. */
static hs_image pattern16(int width, int height, int channels)
{
    hs_image img;
    ck_assert_int_eq(hs_image_alloc(&img, width, height, channels, 16), HS_OK);
    uint16_t *samples = hs_image_samples16(&img);
    for (size_t i = 0; i < (size_t)width * height * channels; i++)
        samples[i] = (uint16_t)(i * 40503u + 7);
    return img;
}

/* A smooth RGB gradient, which lossy formats keep within a few levels. */
static hs_image gradient(int width, int height)
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

static double mean_abs_difference(const hs_image *a, const hs_image *b)
{
    ck_assert_int_eq(a->width, b->width);
    ck_assert_int_eq(a->height, b->height);
    ck_assert_int_eq(a->channels, b->channels);
    size_t n = (size_t)a->width * a->height * a->channels;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += abs(a->pixels[i] - b->pixels[i]);
    return sum / n;
}

static void save_ok(const char *path, const hs_image *img, hs_save_options options)
{
    hs_status st = hs_image_save(path, img, &options);
    ck_assert_msg(st == HS_OK, "%s", hs_last_error());
}

static hs_image load_ok(const char *path, hs_load_options options)
{
    hs_image img;
    hs_status st = hs_image_load_with(path, &options, &img);
    ck_assert_msg(st == HS_OK, "%s", hs_last_error());
    return img;
}

/* ---- 16-bit PNG and TIFF, and TIFF at 8 bits ------------------------------------ */

START_TEST(test_png_16bit_round_trip)
{
    char path[PATH_SIZE];
    temp_file(path, "deep.png");
    hs_image original = pattern16(7, 5, _i + 1);
    save_ok(path, &original, (hs_save_options){0});
    hs_image deep = load_ok(path, (hs_load_options){.keep_16bit = 1});
    assert_same_image(&deep, &original);
    /* without keep_16bit: scaled to 8 bits as hs_image_convert_bits does */
    hs_image shallow = load_ok(path, (hs_load_options){0}), expected;
    ck_assert_int_eq(hs_image_convert_bits(&original, 8, &expected), HS_OK);
    assert_same_image(&shallow, &expected);
    hs_image_free(&original);
    hs_image_free(&deep);
    hs_image_free(&shallow);
    hs_image_free(&expected);
}
END_TEST

/* 8-bit written with --bits 16: every sample v becomes v * 257, exactly. */
START_TEST(test_png_8bit_written_as_16)
{
    char path[PATH_SIZE];
    temp_file(path, "up.png");
    hs_image original = pattern_image(6, 4, 3);
    save_ok(path, &original, (hs_save_options){.bits = 16});
    hs_image deep = load_ok(path, (hs_load_options){.keep_16bit = 1});
    ck_assert_int_eq(hs_image_bits(&deep), 16);
    for (int i = 0; i < 6 * 4 * 3; i++)
        ck_assert_int_eq(hs_image_samples16(&deep)[i], original.pixels[i] * 257);
    hs_image_free(&original);
    hs_image_free(&deep);
}
END_TEST

START_TEST(test_tiff_round_trip)
{
    char path[PATH_SIZE];
    temp_file(path, "round.tif");
    int channels = _i % 4 + 1, bits = _i < 4 ? 8 : 16;
    hs_image original = bits == 16 ? pattern16(9, 5, channels) : pattern_image(9, 5, channels);
    save_ok(path, &original, (hs_save_options){0});
    hs_image loaded = load_ok(path, (hs_load_options){.keep_16bit = 1});
    assert_same_image(&loaded, &original);
    hs_image_free(&original);
    hs_image_free(&loaded);
}
END_TEST

/* A palette TIFF, which goes through libtiff's RGBA reader; stored upright
 * (_i 0) and upside down (_i 1, Orientation 3), which must come out turned. */
START_TEST(test_tiff_palette)
{
    char path[PATH_SIZE];
    temp_file(path, "palette.tif");
    TIFF *tif = TIFFOpen(path, "w");
    ck_assert_ptr_nonnull(tif);
    uint16_t red[256] = {0}, green[256] = {0}, blue[256] = {0};
    red[1] = 65535;   /* entry 1: red */
    green[2] = 65535; /* entry 2: green */
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 3);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 2);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_PALETTE);
    TIFFSetField(tif, TIFFTAG_COLORMAP, red, green, blue);
    if (_i) TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_BOTRIGHT);
    uint8_t rows[2][3] = {{1, 2, 0}, {0, 0, 1}};
    ck_assert_int_eq(TIFFWriteScanline(tif, rows[0], 0, 0), 1);
    ck_assert_int_eq(TIFFWriteScanline(tif, rows[1], 1, 0), 1);
    TIFFClose(tif);
    hs_image img = load_ok(path, (hs_load_options){0});
    ck_assert_int_eq(img.channels, 3);
    static const uint8_t colours[3][3] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}};
    static const uint8_t shown[2][2][3] = {{{1, 2, 0}, {0, 0, 1}}, {{1, 0, 0}, {0, 2, 1}}};
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            ck_assert_mem_eq(img.pixels + (y * 3 + x) * 3, colours[shown[_i][y][x]], 3);
    hs_image_free(&img);
}
END_TEST

/* The Orientation tag (3: stored upside down) is applied. */
START_TEST(test_tiff_orientation)
{
    char path[PATH_SIZE];
    temp_file(path, "turned.tif");
    TIFF *tif = TIFFOpen(path, "w");
    ck_assert_ptr_nonnull(tif);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 3);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 2);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_BOTRIGHT);
    uint8_t rows[2][3] = {{1, 2, 3}, {4, 5, 6}};
    ck_assert_int_eq(TIFFWriteScanline(tif, rows[0], 0, 0), 1);
    ck_assert_int_eq(TIFFWriteScanline(tif, rows[1], 1, 0), 1);
    TIFFClose(tif);
    hs_image img = load_ok(path, (hs_load_options){0});
    static const uint8_t expected[6] = {6, 5, 4, 3, 2, 1};
    ck_assert_int_eq(img.width, 3);
    ck_assert_mem_eq(img.pixels, expected, 6);
    hs_image_free(&img);
}
END_TEST

/* ---- WebP and JPEG writing ------------------------------------------------------- */

/* Quality 100 is lossless: RGB and RGBA come back exactly. */
START_TEST(test_webp_lossless_round_trip)
{
    char path[PATH_SIZE];
    temp_file(path, "exact.webp");
    hs_image original = pattern_image(13, 7, 3 + _i);
    save_ok(path, &original, (hs_save_options){0});
    hs_image loaded = load_ok(path, (hs_load_options){0});
    assert_same_image(&loaded, &original);
    hs_image_free(&original);
    hs_image_free(&loaded);
}
END_TEST

START_TEST(test_webp_lossy_and_grey)
{
    char path[PATH_SIZE];
    temp_file(path, "lossy.webp");
    hs_image original = gradient(64, 48);
    save_ok(path, &original, (hs_save_options){.quality = 80});
    hs_image loaded = load_ok(path, (hs_load_options){0});
    ck_assert_double_lt(mean_abs_difference(&loaded, &original), 2.0);
    hs_image_free(&loaded);
    /* grey goes to WebP as RGB */
    hs_image grey, expected;
    ck_assert_int_eq(hs_image_convert(&original, 1, &grey), HS_OK);
    ck_assert_int_eq(hs_image_convert(&grey, 3, &expected), HS_OK);
    save_ok(path, &grey, (hs_save_options){0});
    loaded = load_ok(path, (hs_load_options){0});
    assert_same_image(&loaded, &expected);
    hs_image_free(&original);
    hs_image_free(&loaded);
    hs_image_free(&grey);
    hs_image_free(&expected);
}
END_TEST

START_TEST(test_jpeg_quality_and_alpha)
{
    char high[PATH_SIZE], low[PATH_SIZE];
    temp_file(high, "high.jpg");
    temp_file(low, "low.jpeg");
    hs_image original = gradient(64, 48), with_alpha;
    ck_assert_int_eq(hs_image_convert(&original, 4, &with_alpha), HS_OK);
    save_ok(high, &with_alpha, (hs_save_options){.quality = 95}); /* alpha dropped */
    save_ok(low, &original, (hs_save_options){.quality = 10});
    hs_image loaded = load_ok(high, (hs_load_options){0});
    ck_assert_double_lt(mean_abs_difference(&loaded, &original), 1.5);
    struct stat high_info, low_info;
    ck_assert_int_eq(stat(high, &high_info), 0);
    ck_assert_int_eq(stat(low, &low_info), 0);
    ck_assert_int_lt(low_info.st_size, high_info.st_size);
    hs_image_free(&original);
    hs_image_free(&with_alpha);
    hs_image_free(&loaded);
}
END_TEST

START_TEST(test_save_refusals)
{
    char path[PATH_SIZE];
    hs_image deep = pattern16(4, 4, 3);
    temp_file(path, "deep.jpg");
    assert_failure(hs_image_save(path, &deep, &(hs_save_options){.bits = 16}), HS_ERR_USAGE, path,
                   "JPEG holds 8 bits per sample");
    temp_file(path, "out.bmp");
    assert_failure(hs_image_save(path, &deep, NULL), HS_ERR_USAGE, path,
                   "cannot tell the format from the name");
    temp_file(path, "q.webp");
    assert_failure(hs_image_save(path, &deep, &(hs_save_options){.quality = 101}), HS_ERR_USAGE,
                   path, "quality 101 is not 1 to 100");
    ck_assert_int_eq(count_leftover_temporaries(), 0);
    /* a 16-bit image to JPEG without --bits: written at 8 */
    temp_file(path, "deep.jpg");
    save_ok(path, &deep, (hs_save_options){.quality = 100});
    hs_image loaded = load_ok(path, (hs_load_options){.keep_16bit = 1});
    ck_assert_int_eq(hs_image_bits(&loaded), 8);
    hs_image_free(&deep);
    hs_image_free(&loaded);
}
END_TEST

/* ---- ICC profile and EXIF ------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A display RGB profile with a valid header (libpng checks it), no tags
 * and 1 KiB of noise after the tag count (libpng's reader refuses an iCCP
 * chunk that compresses below ~90 bytes, as no real profile does). */
#define ICC_SIZE (132 + 1024)
static void make_icc(uint8_t icc[ICC_SIZE])
{
    memset(icc, 0, ICC_SIZE);
    put32(icc, ICC_SIZE);
    put32(icc + 8, 0x02100000);
    memcpy(icc + 12, "mntrRGB XYZ ", 12);
    memcpy(icc + 36, "acsp", 4);
    put32(icc + 68, 0x0000F6D6); /* D50 */
    put32(icc + 72, 0x00010000);
    put32(icc + 76, 0x0000D32D);
    uint32_t state = 1;
    for (int i = 132; i < ICC_SIZE; i++) {
        state = state * 1103515245u + 12345u;
        icc[i] = (uint8_t)(state >> 16);
    }
}

/* EXIF with one entry, the orientation, in the given byte order. */
#define EXIF_SIZE 26
static void make_exif(uint8_t exif[EXIF_SIZE], int orientation, int big_endian)
{
    static const uint8_t big[EXIF_SIZE] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3,
                                           0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t little[EXIF_SIZE] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0,
                                              1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(exif, big_endian ? big : little, EXIF_SIZE);
    exif[big_endian ? 19 : 18] = (uint8_t)orientation;
}

static const char *const meta_files[] = {"meta.png", "meta.jpg", "meta.webp", "meta.tif"};

/* The ICC profile survives every format; EXIF every one but TIFF. */
START_TEST(test_meta_round_trip)
{
    char path[PATH_SIZE];
    temp_file(path, meta_files[_i]);
    uint8_t icc[ICC_SIZE], exif[EXIF_SIZE];
    make_icc(icc);
    make_exif(exif, 1, _i % 2);
    hs_image img = gradient(16, 8);
    img.icc = malloc(ICC_SIZE);
    img.exif = malloc(EXIF_SIZE);
    memcpy(img.icc, icc, ICC_SIZE);
    memcpy(img.exif, exif, EXIF_SIZE);
    img.icc_size = ICC_SIZE;
    img.exif_size = EXIF_SIZE;
    save_ok(path, &img, (hs_save_options){0});
    hs_image loaded = load_ok(path, (hs_load_options){0});
    ck_assert_uint_eq(loaded.icc_size, ICC_SIZE);
    ck_assert_mem_eq(loaded.icc, icc, ICC_SIZE);
    if (strstr(path, ".tif")) {
        ck_assert_ptr_null(loaded.exif);
    } else {
        ck_assert_uint_eq(loaded.exif_size, EXIF_SIZE);
        ck_assert_mem_eq(loaded.exif, exif, EXIF_SIZE);
    }
    hs_image copy = {0};
    ck_assert_int_eq(hs_image_copy_meta(&copy, &loaded), HS_OK);
    ck_assert_mem_eq(copy.icc, icc, ICC_SIZE);
    hs_image_free(&copy);
    hs_image_free(&img);
    hs_image_free(&loaded);
}
END_TEST

/* The EXIF orientations, built from the standard's own words out of two
 * moves: "rotate 90° clockwise" and "mirror horizontally". */
static hs_image rotate_clockwise(const hs_image *in)
{
    hs_image out = new_image(in->height, in->width, in->channels);
    for (int y = 0; y < out.height; y++)
        for (int x = 0; x < out.width; x++) /* the left column, bottom up, becomes the top row */
            memcpy(out.pixels + (y * out.width + x) * in->channels,
                   in->pixels + ((in->height - 1 - x) * in->width + y) * in->channels,
                   in->channels);
    return out;
}

static hs_image mirror(const hs_image *in)
{
    hs_image out = new_image(in->width, in->height, in->channels);
    for (int y = 0; y < in->height; y++)
        for (int x = 0; x < in->width; x++)
            memcpy(out.pixels + (y * in->width + x) * in->channels,
                   in->pixels + (y * in->width + in->width - 1 - x) * in->channels, in->channels);
    return out;
}

/* How the stored image is shown for each orientation: mirrored or not,
 * then turned clockwise 0 to 3 times. */
static const struct { int mirrored, turns; } orientation_moves[9] = {
    {0, 0}, {0, 0}, {1, 0}, {0, 2}, {1, 2}, {1, 3}, {0, 1}, {1, 1}, {0, 3},
};

static hs_image shown(const hs_image *stored, int orientation)
{
    hs_image img = mirror(stored), next;
    if (!orientation_moves[orientation].mirrored) {
        hs_image_free(&img);
        img = mirror(stored);
        next = mirror(&img);
        hs_image_free(&img);
        img = next;
    }
    for (int t = 0; t < orientation_moves[orientation].turns; t++) {
        next = rotate_clockwise(&img);
        hs_image_free(&img);
        img = next;
    }
    return img;
}

/* Through PNG's eXIf (lossless, so exact); the kept EXIF then says 1. */
START_TEST(test_exif_orientation)
{
    int orientation = _i + 1;
    char path[PATH_SIZE];
    temp_file(path, "oriented.png");
    hs_image stored = pattern_image(5, 3, 3);
    stored.exif = malloc(EXIF_SIZE);
    stored.exif_size = EXIF_SIZE;
    make_exif(stored.exif, orientation, orientation % 2);
    save_ok(path, &stored, (hs_save_options){0});
    hs_image loaded = load_ok(path, (hs_load_options){0});
    hs_image expected = shown(&stored, orientation);
    assert_same_image(&loaded, &expected);
    uint8_t upright[EXIF_SIZE];
    make_exif(upright, 1, orientation % 2);
    ck_assert_mem_eq(loaded.exif, upright, EXIF_SIZE);
    hs_image_free(&stored);
    hs_image_free(&loaded);
    hs_image_free(&expected);
}
END_TEST

/* A JPEG as a camera writes it: APP1 "Exif" with orientation 6, written
 * with libjpeg. Four flat quadrants show where each corner went. */
START_TEST(test_jpeg_exif_orientation)
{
    char path[PATH_SIZE];
    temp_file(path, "camera.jpg");
    enum { W = 32, H = 16 };
    static const uint8_t colours[4][3] = {{250, 0, 0}, {0, 250, 0}, {0, 0, 250}, {250, 250, 250}};
    hs_image stored = new_image(W, H, 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            memcpy(stored.pixels + (y * W + x) * 3, colours[(y >= H / 2) * 2 + (x >= W / 2)], 3);
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = W;
    cinfo.image_height = H;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 100, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    uint8_t app1[6 + EXIF_SIZE] = "Exif";
    make_exif(app1 + 6, 6, 1);
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1, sizeof app1);
    while (cinfo.next_scanline < H) {
        JSAMPROW row = stored.pixels + cinfo.next_scanline * W * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    fclose(fp);

    hs_image loaded = load_ok(path, (hs_load_options){0});
    ck_assert_int_eq(loaded.width, H);
    ck_assert_int_eq(loaded.height, W);
    /* turned clockwise: bottom-left (blue) is now top-left, top-left (red) top-right */
    static const struct { int x, y, colour; } probes[4] = {
        {4, 8, 2}, {12, 8, 0}, {4, 24, 3}, {12, 24, 1}};
    for (int p = 0; p < 4; p++)
        for (int c = 0; c < 3; c++)
            ck_assert_int_le(abs(loaded.pixels[(probes[p].y * H + probes[p].x) * 3 + c] -
                                 colours[probes[p].colour][c]), 12);
    ck_assert_int_eq(loaded.exif[19], 1); /* the kept EXIF says upright */
    hs_image_free(&stored);
    hs_image_free(&loaded);
}
END_TEST

/* ---- Hostile input ---------------------------------------------------------------- */

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint32_t crc32_of(const uint8_t *bytes, size_t length)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < length; i++) {
        crc ^= bytes[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

/* The head of a PNG bomb: a signature and the IHDR of a 65535x8192 grey
 * image, and nothing more. The header alone must get it refused. */
START_TEST(test_png_bomb_refused_from_header)
{
    char path[PATH_SIZE];
    temp_file(path, "bomb.png");
    uint8_t file[8 + 25] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                            'I', 'H', 'D', 'R'};
    put32(file + 16, 65535);
    put32(file + 20, 8192);
    file[24] = 8; /* bit depth; colour type 0 (grey), compression, filter, interlace 0 */
    put32(file + 29, crc32_of(file + 12, 17));
    write_bytes(path, file, sizeof file);
    hs_image img = {0};
    assert_failure(hs_image_load(path, &img), HS_ERR_TOO_LARGE, path,
                   "65535x8192 pixels (537 megapixels), over this command's limit of 268 "
                   "megapixels; refused before decoding");
    /* and a small image over a small budget */
    hs_image small = pattern_image(40, 30, 3);
    save_ok(path, &small, (hs_save_options){0});
    assert_failure(hs_image_load_with(path, &(hs_load_options){.max_pixels = 1199}, &img),
                   HS_ERR_TOO_LARGE, path, "over this command's limit");
    hs_image loaded = load_ok(path, (hs_load_options){.max_pixels = 1200});
    hs_image_free(&loaded);
    hs_image_free(&small);
}
END_TEST

/* A JPEG written by libjpeg with `scans` progressive scans (0: baseline;
 * 10: libjpeg's standard script; more: every AC coefficient of every
 * component on its own, then refined bit by bit, (1 + 63 * 4) a component). */
static void write_progressive_jpeg(const char *path, const hs_image *img, int many_scans,
                                   int progressive)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr errors;
    cinfo.err = jpeg_std_error(&errors);
    jpeg_create_compress(&cinfo);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = img->width;
    cinfo.image_height = img->height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_scan_info *script = NULL;
    if (many_scans) {
        int count = 3 * (1 + 63 * 4), n = 0;
        script = calloc(count, sizeof *script);
        for (int c = 0; c < 3; c++) {
            script[n++] = (jpeg_scan_info){1, {c}, 0, 0, 0, 0};
            for (int k = 1; k < 64; k++) {
                script[n++] = (jpeg_scan_info){1, {c}, k, k, 0, 3};
                for (int bit = 3; bit > 0; bit--)
                    script[n++] = (jpeg_scan_info){1, {c}, k, k, bit, bit - 1};
            }
        }
        cinfo.scan_info = script;
        cinfo.num_scans = count;
    } else if (progressive) {
        jpeg_simple_progression(&cinfo);
    }
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = img->pixels + (size_t)cinfo.next_scanline * img->width * 3;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    free(script);
    fclose(fp);
}

/* The dimensions in the SOF marker (SOF0 baseline or SOF2 progressive) replaced. */
static void patch_jpeg_size(const char *path, int width, int height)
{
    size_t length;
    unsigned char *bytes = read_bytes(path, &length);
    size_t i = 2;
    while (i + 4 < length && !(bytes[i] == 0xFF && (bytes[i + 1] == 0xC0 || bytes[i + 1] == 0xC2)))
        i += 2 + (bytes[i + 2] << 8 | bytes[i + 3]);
    ck_assert_uint_lt(i + 9, length);
    bytes[i + 5] = (uint8_t)(height >> 8);
    bytes[i + 6] = (uint8_t)height;
    bytes[i + 7] = (uint8_t)(width >> 8);
    bytes[i + 8] = (uint8_t)width;
    write_bytes(path, bytes, length);
    free(bytes);
}

/* A progressive JPEG that says 40000x40000: libjpeg would keep all 1.6 G
 * pixels of coefficients, so it is refused from the header, even when only
 * a small image is asked for. */
START_TEST(test_progressive_jpeg_bomb_refused)
{
    char path[PATH_SIZE];
    temp_file(path, "huge.jpg");
    hs_image img = gradient(16, 16);
    write_progressive_jpeg(path, &img, 0, 1);
    patch_jpeg_size(path, 40000, 40000);
    hs_image out = {0};
    assert_failure(hs_image_load_with(path, &(hs_load_options){.longest_side = 512}, &out),
                   HS_ERR_TOO_LARGE, path, "40000x40000 pixels (1600 megapixels)");
    const char *message = hs_last_error();
    ck_assert_msg(!strstr(message + strlen(path), path), "'%s' names the file twice", message);
    hs_image_free(&img);
}
END_TEST

START_TEST(test_jpeg_with_too_many_scans_refused)
{
    char path[PATH_SIZE];
    temp_file(path, "scans.jpg");
    hs_image img = gradient(64, 64);
    write_progressive_jpeg(path, &img, 1, 1);
    hs_image out = {0};
    double start = seconds_now();
    assert_failure(hs_image_load(path, &out), HS_ERR_IO, path,
                   "a progressive JPEG of more than 100 scans");
    ck_assert_double_lt(seconds_now() - start, 5.0);
    /* libjpeg's standard progression (10 scans) loads */
    write_progressive_jpeg(path, &img, 0, 1);
    out = load_ok(path, (hs_load_options){0});
    ck_assert_double_lt(mean_abs_difference(&out, &img), 2.0);
    hs_image_free(&out);
    hs_image_free(&img);
}
END_TEST

/* Only a 100-pixel image is needed: a 512x256 baseline JPEG decodes at 1/4
 * (128x64; 1/8 would be 64 pixels wide, too few), close to the shrunk original. */
START_TEST(test_jpeg_dct_scaling)
{
    char path[PATH_SIZE];
    temp_file(path, "wide.jpg");
    hs_image img = gradient(512, 256), small;
    write_progressive_jpeg(path, &img, 0, 0);
    hs_image scaled = load_ok(path, (hs_load_options){.longest_side = 100});
    ck_assert_int_eq(scaled.width, 128);
    ck_assert_int_eq(scaled.height, 64);
    ck_assert_int_eq(hs_image_resize(&img, 128, 64, &small), HS_OK);
    ck_assert_double_lt(mean_abs_difference(&scaled, &small), 2.0);
    hs_image full = load_ok(path, (hs_load_options){0});
    ck_assert_int_eq(full.width, 512);
    hs_image_free(&img);
    hs_image_free(&small);
    hs_image_free(&scaled);
    hs_image_free(&full);
}
END_TEST

/* `-i <(cat x.png)`: the image comes through a pipe, which cannot seek. */
START_TEST(test_load_from_pipe)
{
    char path[PATH_SIZE], pipe_path[64];
    temp_file(path, "piped.png");
    hs_image original = pattern_image(300, 200, 3); /* larger than a pipe's buffer */
    save_ok(path, &original, (hs_save_options){0});
    size_t length;
    unsigned char *bytes = read_bytes(path, &length);
    int ends[2];
    ck_assert_int_eq(pipe(ends), 0);
    pid_t writer = fork();
    ck_assert_int_ge(writer, 0);
    if (writer == 0) {
        close(ends[0]);
        _exit(write(ends[1], bytes, length) == (ssize_t)length ? 0 : 1);
    }
    close(ends[1]);
    snprintf(pipe_path, sizeof pipe_path, "/dev/fd/%d", ends[0]);
    hs_image loaded = load_ok(pipe_path, (hs_load_options){0});
    close(ends[0]);
    int status;
    ck_assert_int_eq(waitpid(writer, &status, 0), writer);
    assert_same_image(&loaded, &original);
    free(bytes);
    hs_image_free(&original);
    hs_image_free(&loaded);
}
END_TEST

static void make_file_aged(const char *path, time_t age)
{
    write_bytes(path, "partial", 7);
    struct timeval times[2];
    gettimeofday(&times[0], NULL);
    times[0].tv_sec -= age;
    times[1] = times[0];
    ck_assert_int_eq(utimes(path, times), 0);
}

/* A killed writer's temporary is removed by the next write beside it once
 * it is stale; a fresh one (a writer at work) and other files are left. */
START_TEST(test_stale_temporaries_removed)
{
    char out[PATH_SIZE], stale[PATH_SIZE], fresh[PATH_SIZE], foreign[PATH_SIZE];
    temp_file(out, "out.png");
    temp_file(stale, "old.png.tmp-hs-a1B2c3");
    temp_file(fresh, "new.png.tmp-hs-d4E5f6");
    temp_file(foreign, "notes.txt.tmp-a1B2c3");
    make_file_aged(stale, HS_ATOMIC_STALE_SECONDS + 60);
    make_file_aged(fresh, 10);
    make_file_aged(foreign, HS_ATOMIC_STALE_SECONDS + 60);
    hs_image img = pattern_image(4, 4, 3);
    save_ok(out, &img, (hs_save_options){0});
    ck_assert_int_eq(access(stale, F_OK), -1);
    ck_assert_int_eq(access(fresh, F_OK), 0);
    ck_assert_int_eq(access(foreign, F_OK), 0);
    ck_assert(hs_atomic_is_temp_name("a.png.tmp-hs-Zz09aB"));
    ck_assert(!hs_atomic_is_temp_name(".tmp-hs-Zz09aB"));
    ck_assert(!hs_atomic_is_temp_name("a.png.tmp-hs-Zz09a"));
    ck_assert(!hs_atomic_is_temp_name("a.png.tmp-hs-Zz09a!"));
    hs_image_free(&img);
}
END_TEST

/* ---- The suite ---------------------------------------------------------------------- */

static TCase *fixture_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, make_temp_dir, remove_temp_dir);
    return tc;
}

static Suite *formats_suite(void)
{
    Suite *s = suite_create("formats");
    TCase *depth = fixture_case("16bit_tiff");
    tcase_add_loop_test(depth, test_png_16bit_round_trip, 0, 4);
    tcase_add_test(depth, test_png_8bit_written_as_16);
    tcase_add_loop_test(depth, test_tiff_round_trip, 0, 8);
    tcase_add_loop_test(depth, test_tiff_palette, 0, 2);
    tcase_add_test(depth, test_tiff_orientation);
    suite_add_tcase(s, depth);

    TCase *lossy = fixture_case("webp_jpeg");
    tcase_add_loop_test(lossy, test_webp_lossless_round_trip, 0, 2);
    tcase_add_test(lossy, test_webp_lossy_and_grey);
    tcase_add_test(lossy, test_jpeg_quality_and_alpha);
    tcase_add_test(lossy, test_save_refusals);
    suite_add_tcase(s, lossy);

    TCase *meta = fixture_case("metadata");
    tcase_add_loop_test(meta, test_meta_round_trip, 0, 4);
    tcase_add_loop_test(meta, test_exif_orientation, 0, 8);
    tcase_add_test(meta, test_jpeg_exif_orientation);
    suite_add_tcase(s, meta);

    TCase *hostile = fixture_case("hostile");
    tcase_add_test(hostile, test_png_bomb_refused_from_header);
    tcase_add_test(hostile, test_progressive_jpeg_bomb_refused);
    tcase_add_test(hostile, test_jpeg_with_too_many_scans_refused);
    tcase_add_test(hostile, test_jpeg_dct_scaling);
    tcase_add_test(hostile, test_load_from_pipe);
    tcase_add_test(hostile, test_stale_temporaries_removed);
    suite_add_tcase(s, hostile);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(formats_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
