/* test_ncnn.c — Check tests for the ncnn model readers (host/ncnn*.c):
 * the .param parser on a small hand-written graph and on one broken file per
 * kind of error (tests/ncnn/bad/, seeds for a fuzzer), the .bin reader on
 * float32, float16 and untagged arrays written here byte by byte, and every
 * .param that tools/fetch_weights.sh ncnn brings.
 *
 * Environment: HIRESTYLE_SOURCE_ROOT, the source tree (for tests/ncnn and
 * weights/ncnn).
 */
#include "ncnn.h"

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_SIZE 1024

static void source_path(char out[PATH_SIZE], const char *relative)
{
    const char *root = getenv("HIRESTYLE_SOURCE_ROOT");
    ck_assert_msg(root != NULL, "HIRESTYLE_SOURCE_ROOT is not set");
    ck_assert_int_lt(snprintf(out, PATH_SIZE, "%s/%s", root, relative), PATH_SIZE);
}

/* ---- .param ------------------------------------------------------------------- */

static const hs_ncnn_layer *layer_named(const hs_ncnn_graph *g, const char *name)
{
    for (int i = 0; i < g->layer_count; i++)
        if (strcmp(g->layers[i].name, name) == 0) return &g->layers[i];
    ck_abort_msg("no layer %s", name);
    return NULL;
}

START_TEST(test_parse_tiny)
{
    char path[PATH_SIZE];
    source_path(path, "tests/ncnn/tiny.param");
    hs_ncnn_graph g;
    ck_assert_msg(hs_ncnn_parse(path, &g) == HS_OK, "%s", hs_last_error());
    ck_assert_int_eq(g.layer_count, 6);
    ck_assert_int_eq(g.blob_count, 7);
    ck_assert_str_eq(g.blob_names[0], "data");
    ck_assert_str_eq(g.blob_names[6], "out");

    const hs_ncnn_layer *split = layer_named(&g, "splitncnn_input0");
    ck_assert_str_eq(split->type, "Split");
    ck_assert_int_eq(split->bottom_count, 1);
    ck_assert_int_eq(split->top_count, 2);
    ck_assert_int_eq(split->bottoms[0], 0);
    ck_assert_str_eq(g.blob_names[split->tops[1]], "data_1");

    const hs_ncnn_layer *conv = layer_named(&g, "conv1");
    ck_assert_int_eq(conv->line, 5);
    ck_assert_int_eq(hs_ncnn_int(conv, 0, -1), 4);
    ck_assert_int_eq(hs_ncnn_int(conv, 6, -1), 108);
    ck_assert_int_eq(hs_ncnn_int(conv, 11, hs_ncnn_int(conv, 1, 0)), 3); /* absent: fallback */
    ck_assert_int_eq(hs_ncnn_int(conv, 10, -7), -7);                      /* array, not a scalar */
    const hs_ncnn_value *act = hs_ncnn_array(conv, 10);
    ck_assert_ptr_nonnull(act);
    ck_assert_int_eq(act->count, 1);
    ck_assert_float_eq_tol(act->floats[0], 0.2f, 1e-7f);
    ck_assert_ptr_null(hs_ncnn_array(conv, 0));

    const hs_ncnn_layer *up = layer_named(&g, "up");
    ck_assert_float_eq(hs_ncnn_float(up, 1, 0.0f), 2.0f);
    ck_assert_int_eq(up->params[1].kind, HS_NCNN_FLOAT);

    const hs_ncnn_layer *sum = layer_named(&g, "sum");
    const hs_ncnn_value *coeffs = hs_ncnn_array(sum, 1);
    ck_assert_ptr_nonnull(coeffs);
    ck_assert_int_eq(coeffs->count, 2);
    ck_assert_float_eq_tol(coeffs->floats[0], 0.2f, 1e-7f);
    ck_assert_int_eq(coeffs->ints[1], 1); /* "1": an int element */
    ck_assert_float_eq(coeffs->floats[1], 1.0f);
    ck_assert_str_eq(g.blob_names[sum->bottoms[1]], "u1");
    hs_ncnn_graph_free(&g);
    hs_ncnn_graph_free(&g); /* a freed graph is a zeroed one: no-op */
}
END_TEST

/* One broken file per refusal, and words its message must contain. */
static const struct bad_case { const char *file, *expect; } bad_cases[] = {
    {"magic.param", "not an ncnn .param file"},
    {"no_layers.param", "layer count '0' is not a whole number in 1..100000"},
    {"blob_count.param", "blob count '999999999'"},
    {"truncated.param", "the header gives 3 layers and 3 blobs, the file has 2 and 2"},
    {"missing_blob.param", "layer r reads blob 'nothing', which no earlier layer produces"},
    {"twice.param", "blob 'data' is produced twice (again by layer r)"},
    {"param_twice.param", "parameter 0 is given twice"},
    {"param_id.param", "parameter id '32'"},
    {"param_value.param", "value '1x' is not an int or a float"},
    {"param_nan.param", "value 'nan.' is not a finite number"},
    {"array_short.param", "fewer elements than its length 3"},
    {"array_long.param", "more elements than its length 1"},
    {"array_huge.param", "array length '99999'"},
    {"bottom_count.param", "bottom count '9999'"},
    {"few_blobs.param", "layer r names fewer blobs than its counts say"},
    {"extra_layer.param", "more layers than the 2 the header gives"},
    {"nul.param", "not a text file (a NUL byte at offset"},
    {"long_name.param", "longer than 255 characters"},
};
#define BAD_CASES ((int)(sizeof bad_cases / sizeof *bad_cases))

START_TEST(test_parse_refuses)
{
    const struct bad_case *c = &bad_cases[_i];
    char relative[256], path[PATH_SIZE];
    snprintf(relative, sizeof relative, "tests/ncnn/bad/%s", c->file);
    source_path(path, relative);
    hs_ncnn_graph g;
    hs_status st = hs_ncnn_parse(path, &g);
    ck_assert_msg(st == HS_ERR_WEIGHTS, "%s: status %d (%s)", c->file, st, hs_last_error());
    ck_assert_msg(strstr(hs_last_error(), c->expect) && strstr(hs_last_error(), c->file),
                  "%s: message '%s' lacks '%s' or the file name", c->file, hs_last_error(),
                  c->expect);
    ck_assert_ptr_null(g.layers); /* nothing half-built is handed back */
}
END_TEST

START_TEST(test_parse_missing_file)
{
    hs_ncnn_graph g;
    ck_assert_int_eq(hs_ncnn_parse("/nonexistent/x.param", &g), HS_ERR_IO);
    ck_assert_ptr_nonnull(strstr(hs_last_error(), "/nonexistent/x.param: cannot open"));
}
END_TEST

/* Every model tools/fetch_weights.sh ncnn brings parses. */
START_TEST(test_parse_fetched_models)
{
    static const char *dirs[] = {"models-realesrgan", "models-se", "models-cunet",
                                 "models-upconv_7_anime_style_art_rgb"};
    int parsed = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        char relative[256], dir_path[PATH_SIZE];
        snprintf(relative, sizeof relative, "weights/ncnn/%s", dirs[d]);
        source_path(dir_path, relative);
        DIR *dir = opendir(dir_path);
        ck_assert_msg(dir != NULL, "%s is missing: run tools/fetch_weights.sh ncnn", dir_path);
        for (struct dirent *e; (e = readdir(dir));) {
            size_t n = strlen(e->d_name);
            if (n < 6 || strcmp(e->d_name + n - 6, ".param") != 0) continue;
            char path[2 * PATH_SIZE];
            snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
            hs_ncnn_graph g;
            ck_assert_msg(hs_ncnn_parse(path, &g) == HS_OK, "%s", hs_last_error());
            ck_assert_str_eq(g.layers[0].type, "Input");
            hs_ncnn_graph_free(&g);
            parsed++;
        }
        closedir(dir);
    }
    ck_assert_int_ge(parsed, 31);
}
END_TEST

/* A real graph cut short at many points, and with single bytes changed to
 * the characters the format gives meaning to: every result is a parsed
 * graph or HS_ERR_WEIGHTS naming the file, never a crash (a small fuzz run;
 * run it under valgrind to see invalid reads). */
START_TEST(test_parse_damaged_graphs)
{
    char path[PATH_SIZE];
    source_path(path, "weights/ncnn/models-realesrgan/realesrgan-x4fast.param");
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s is missing: run tools/fetch_weights.sh ncnn", path);
    static char text[1 << 16];
    size_t size = fread(text, 1, sizeof text, f);
    fclose(f);
    ck_assert_uint_gt(size, 1000);
    static char copy[1 << 16];
    int refused = 0, parsed = 0;
    for (size_t cut = 0; cut < size; cut += 7) {
        hs_ncnn_graph g;
        hs_status st = hs_ncnn_parse_text("cut.param", text, cut, &g);
        ck_assert_msg(st == HS_OK || (st == HS_ERR_WEIGHTS && strstr(hs_last_error(), "cut.param")),
                      "cut at %zu: status %d, %s", cut, st, hs_last_error());
        refused += st != HS_OK;
        hs_ncnn_graph_free(&g);
    }
    static const char marks[] = "=, \n-9.e\t";
    for (size_t at = 0; at < size; at += 5) {
        memcpy(copy, text, size);
        copy[at] = marks[at % (sizeof marks - 1)];
        hs_ncnn_graph g;
        hs_status st = hs_ncnn_parse_text("flip.param", copy, size, &g);
        ck_assert_msg(st == HS_OK || (st == HS_ERR_WEIGHTS && strstr(hs_last_error(), "flip.param")),
                      "byte %zu: status %d, %s", at, st, hs_last_error());
        parsed += st == HS_OK;
        hs_ncnn_graph_free(&g);
    }
    ck_assert_int_gt(refused, 0);
    ck_assert_int_gt(parsed, 0); /* some changes (in a name, a value) still parse */
}
END_TEST

/* ---- .bin ------------------------------------------------------------------------- */

/* A file of the given bytes in a fresh temporary name; path receives it. */
static void write_temp(char path[PATH_SIZE], const void *bytes, size_t size)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, PATH_SIZE, "%s/hirestyle-test-ncnn-XXXXXX", base);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, size), (ssize_t)size);
    close(fd);
}

/* Little-endian appenders. */
static size_t put_u32(unsigned char *b, size_t at, uint32_t v)
{
    for (int k = 0; k < 4; k++) b[at + k] = (unsigned char)(v >> (8 * k));
    return at + 4;
}

static size_t put_f32(unsigned char *b, size_t at, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return put_u32(b, at, bits);
}

static size_t put_u16(unsigned char *b, size_t at, unsigned v)
{
    b[at] = (unsigned char)v;
    b[at + 1] = (unsigned char)(v >> 8);
    return at + 2;
}

START_TEST(test_bin_formats)
{
    unsigned char b[64] = {0};
    size_t at = put_u32(b, 0, 0);                 /* tagged float32: 2 values */
    at = put_f32(b, at, 1.5f);
    at = put_f32(b, at, -3.25f);
    at = put_u32(b, at, 0x01306B47);              /* tagged float16: 3 values, 2 bytes padding */
    at = put_u16(b, at, 0x3C00);                  /* 1 */
    at = put_u16(b, at, 0xC100);                  /* -2.5 */
    at = put_u16(b, at, 0x0001);                  /* 2^-24, the smallest subnormal */
    at += 2;
    at = put_f32(b, at, 0.125f);                  /* untagged: 1 value */
    at = put_u32(b, at, 0x0002C056);              /* tagged float32, "scaled": 1 value */
    at = put_f32(b, at, 7.0f);
    char path[PATH_SIZE];
    write_temp(path, b, at);
    hs_ncnn_bin bin;
    ck_assert_msg(hs_ncnn_bin_open(path, &bin) == HS_OK, "%s", hs_last_error());
    float v[3];
    ck_assert_int_eq(hs_ncnn_bin_read(&bin, 2, 1, "a", v), HS_OK);
    ck_assert_float_eq(v[0], 1.5f);
    ck_assert_float_eq(v[1], -3.25f);
    ck_assert_int_eq(hs_ncnn_bin_read(&bin, 3, 1, "b", v), HS_OK);
    ck_assert_float_eq(v[0], 1.0f);
    ck_assert_float_eq(v[1], -2.5f);
    ck_assert_float_eq(v[2], ldexpf(1.0f, -24));
    ck_assert_int_eq(hs_ncnn_bin_read(&bin, 1, 0, "c", v), HS_OK);
    ck_assert_float_eq(v[0], 0.125f);
    ck_assert_int_eq(hs_ncnn_bin_read(&bin, 1, 1, "d", v), HS_OK);
    ck_assert_float_eq(v[0], 7.0f);
    ck_assert_uint_eq(bin.offset, at);
    ck_assert_int_eq(hs_ncnn_bin_read(&bin, 1, 0, "layer x bias", v), HS_ERR_WEIGHTS);
    ck_assert_msg(strstr(hs_last_error(), "truncated: layer x bias need 1 values") &&
                  strstr(hs_last_error(), path), "%s", hs_last_error());
    hs_ncnn_bin_close(&bin);
    unlink(path);
}
END_TEST

START_TEST(test_half_to_float)
{
    static const struct { unsigned short h; float f; } cases[] = {
        {0x0000, 0.0f},   {0x3C00, 1.0f},      {0xC000, -2.0f},      {0x3555, 0.333251953125f},
        {0x7BFF, 65504.0f}, {0x0400, 6.103515625e-05f}, {0x03FF, 6.097555160522461e-05f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_float_eq(hs_half_to_float(cases[i].h), cases[i].f);
    ck_assert(isinf(hs_half_to_float(0x7C00)) && hs_half_to_float(0xFC00) < 0);
    ck_assert(isnan(hs_half_to_float(0x7E00)));
    ck_assert(signbit(hs_half_to_float(0x8000)));
}
END_TEST

/* One bad .bin per refusal: the bytes and words of the message. */
static const struct bad_bin { uint32_t tag; int count; const char *expect; } bad_bins[] = {
    {0x000D4B38, 4, "are int8 (tag 0x000D4B38 at offset 0)"},
    {0x00000101, 4, "storage tag 0x00000101 at offset 0: quantised"},
    {0x01306B47, 9, "truncated: w need 9 values of 2 bytes"},  /* 16 bytes: 8 halves */
    {0x00000000, 5, "truncated: w need 5 values of 4 bytes"},
    {0x7FC00000, 1, "storage tag 0x7FC00000"},
};

START_TEST(test_bin_refuses)
{
    const struct bad_bin *c = &bad_bins[_i];
    unsigned char b[20] = {0};
    put_u32(b, 0, c->tag);
    char path[PATH_SIZE];
    write_temp(path, b, sizeof b);
    hs_ncnn_bin bin;
    ck_assert_int_eq(hs_ncnn_bin_open(path, &bin), HS_OK);
    float v[16];
    ck_assert_int_eq(hs_ncnn_bin_read(&bin, (size_t)c->count, 1, "w", v), HS_ERR_WEIGHTS);
    ck_assert_msg(strstr(hs_last_error(), c->expect) && strstr(hs_last_error(), path),
                  "'%s' lacks '%s'", hs_last_error(), c->expect);
    hs_ncnn_bin_close(&bin);
    unlink(path);
}
END_TEST

START_TEST(test_bin_non_finite)
{
    unsigned char b[12];
    size_t at = put_u32(b, 0, 0);
    at = put_f32(b, at, 1.0f);
    put_u32(b, at, 0x7F800000); /* +inf */
    char path[PATH_SIZE];
    write_temp(path, b, sizeof b);
    hs_ncnn_bin bin;
    ck_assert_int_eq(hs_ncnn_bin_open(path, &bin), HS_OK);
    float v[2];
    ck_assert_int_eq(hs_ncnn_bin_read(&bin, 2, 1, "layer c weights", v), HS_ERR_WEIGHTS);
    ck_assert_msg(strstr(hs_last_error(), "layer c weights hold a non-finite value (element 1"),
                  "%s", hs_last_error());
    hs_ncnn_bin_close(&bin);
    unlink(path);
    ck_assert_int_eq(hs_ncnn_bin_open("/nonexistent/x.bin", &bin), HS_ERR_IO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ncnn");
    TCase *param = tcase_create("param");
    tcase_set_timeout(param, 60); /* parsing every fetched model, on a busy machine */
    tcase_add_test(param, test_parse_tiny);
    tcase_add_loop_test(param, test_parse_refuses, 0, BAD_CASES);
    tcase_add_test(param, test_parse_missing_file);
    tcase_add_test(param, test_parse_fetched_models);
    tcase_add_test(param, test_parse_damaged_graphs);
    suite_add_tcase(s, param);
    TCase *bin = tcase_create("bin");
    tcase_add_test(bin, test_bin_formats);
    tcase_add_test(bin, test_half_to_float);
    tcase_add_loop_test(bin, test_bin_refuses, 0, (int)(sizeof bad_bins / sizeof *bad_bins));
    tcase_add_test(bin, test_bin_non_finite);
    suite_add_tcase(s, bin);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
