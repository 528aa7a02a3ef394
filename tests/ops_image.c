/* ops_image.c — images to tensors and back, and the reflect-padded
 * translation, against C references. Each normalisation is tried in RGB and
 * BGR order: bytes -> tensor must match the formula, bytes -> tensor -> bytes
 * must be exact, and tensor -> bytes must round and clamp. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct image_case { int w, h, small; } image_case;
static const image_case images[] = {{1, 1, 1}, {7, 5, 1}, {13, 11, 1}, {65, 33, 1}, {257, 129, 0}};
#define IMAGE_COUNT ((int)(sizeof images / sizeof images[0]))

static const hs_normalize norms[] = {
    {1.0f / 255, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, 0}, /* ImageNet */
    {1.0f / 255, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, 1},
    {1.0f, {103.939f, 116.779f, 123.68f}, {1, 1, 1}, 1},                 /* Caffe VGG */
    {1.0f / 255, {0, 0, 0}, {1, 1, 1}, 0},                               /* plain 0..1 */
};
#define NORM_COUNT ((int)(sizeof norms / sizeof norms[0]))

/* The pixel channel that planar channel c reads. */
static int source_channel(const hs_normalize *m, int c) { return m->bgr ? 2 - c : c; }

/* planar[c][p] = (pixel[p][c'] * scale - mean[c]) / std[c], from byte values v. */
static void normalize_ref(const hs_normalize *m, const double *v, size_t plane, double *planar)
{
    for (int c = 0; c < 3; c++)
        for (size_t p = 0; p < plane; p++)
            planar[c * plane + p] =
                (v[p * 3 + source_channel(m, c)] * m->scale - m->mean[c]) / m->std[c];
}

static int skip_image(const image_case *im) { return test_small_only() && !im->small; }

/* Random bytes -> tensor matches the formula; -> bytes again is exact. */
START_TEST(image_round_trip)
{
    test_setup();
    const image_case *im = &images[_i];
    if (skip_image(im)) return;
    size_t plane = (size_t)im->w * im->h, n = 3 * plane;
    float *r = host_floats(n);
    uint8_t *bytes = malloc(n), *back = malloc(n);
    ck_assert(bytes && back);
    fill_random(r, n, 50 + _i, 0, 256);
    for (size_t i = 0; i < n; i++) bytes[i] = (uint8_t)r[i];
    double *v = host_doubles(n), *want = host_doubles(n);
    for (size_t i = 0; i < n; i++) v[i] = bytes[i];
    hs_tensor t = poisoned(1, 3, im->h, im->w);
    for (int k = 0; k < NORM_COUNT; k++) {
        HS_CHECK(hs_image_to_tensor(&t, bytes, im->w, im->h, &norms[k]));
        float *got = download(&t);
        normalize_ref(&norms[k], v, plane, want);
        assert_close("image to tensor", got, want, n, 1e-6);
        memset(back, 0, n);
        HS_CHECK(hs_tensor_to_image(back, &t, &norms[k]));
        ck_assert_msg(memcmp(back, bytes, n) == 0, "image round trip not exact (norm %d)", k);
        free(got);
    }
    free(r); free(bytes); free(back); free(v); free(want);
    hs_tensor_free(&t);
}
END_TEST

/* Tensors made from byte values k + u (k an integer in -20..275, |u| <= 0.4)
 * must give bytes k clamped to 0..255: rounding and clamping. */
START_TEST(tensor_to_image_rounds_and_clamps)
{
    test_setup();
    const image_case *im = &images[_i];
    if (skip_image(im)) return;
    size_t plane = (size_t)im->w * im->h, n = 3 * plane;
    float *r = host_floats(2 * n), *planar = host_floats(n);
    fill_random(r, 2 * n, 60 + _i, 0, 1);
    double *v = host_doubles(n), *want_planar = host_doubles(n);
    uint8_t *want = malloc(n), *got = malloc(n);
    ck_assert(want && got);
    for (size_t i = 0; i < n; i++) {
        int k = (int)(r[i] * 296) - 20;
        v[i] = k + 0.8 * (r[n + i] - 0.5);
        want[i] = (uint8_t)(k < 0 ? 0 : k > 255 ? 255 : k);
    }
    hs_tensor t = upload(NULL, 1, 3, im->h, im->w);
    for (int k = 0; k < NORM_COUNT; k++) {
        normalize_ref(&norms[k], v, plane, want_planar);
        for (size_t i = 0; i < n; i++) planar[i] = (float)want_planar[i];
        HS_CHECK(hs_tensor_write(&t, planar));
        HS_CHECK(hs_tensor_to_image(got, &t, &norms[k]));
        ck_assert_msg(memcmp(got, want, n) == 0, "tensor to image: wrong bytes (norm %d)", k);
    }
    free(r); free(planar); free(v); free(want_planar); free(want); free(got);
    hs_tensor_free(&t);
}
END_TEST

typedef struct translate_case { int n, c, h, w, dx, dy, small; } translate_case;
static const translate_case moves[] = {
    {1, 1, 1, 1, 3, -2, 1},     /* 1×1: every index reflects to 0 */
    {1, 3, 1, 7, 2, 5, 1},      /* one row */
    {2, 5, 5, 1, -1, 9, 1},     /* one column, batch 2 */
    {1, 3, 2, 2, 1, -1, 1},     /* period 2 */
    {1, 3, 13, 11, 4, -3, 1},   /* odd, within the size */
    {2, 3, 17, 23, -3, 2, 1},   /* a shift to the left: inner columns read to their right */
    {2, 3, 13, 11, -30, 27, 1}, /* shifts beyond the size: repeated reflection */
    {1, 3, 5, 7, 0, 0, 1},      /* identity */
    {1, 3, 33, 65, 100, -77, 0},
    {1, 3, 256, 256, 17, -9, 0},
};
#define MOVE_COUNT ((int)(sizeof moves / sizeof moves[0]))

/* Fold i into 0..n-1 by reflecting at the edges, one reflection at a time. */
static int reflect_ref(int i, int n)
{
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

START_TEST(translate_reflect)
{
    test_setup();
    const translate_case *m = &moves[_i];
    if (test_small_only() && !m->small) return;
    size_t n = (size_t)m->n * m->c * m->h * m->w;
    float *in = host_floats(n);
    fill_random(in, n, 70 + _i, -1, 1);
    hs_tensor tin = upload(in, m->n, m->c, m->h, m->w), tout = poisoned(m->n, m->c, m->h, m->w);
    HS_CHECK(hs_translate_reflect(&tout, &tin, m->dx, m->dy));
    float *got = download(&tout);
    double *want = host_doubles(n);
    for (int p = 0; p < m->n * m->c; p++)
        for (int y = 0; y < m->h; y++)
            for (int x = 0; x < m->w; x++)
                want[((size_t)p * m->h + y) * m->w + x] =
                    in[((size_t)p * m->h + reflect_ref(y - m->dy, m->h)) * m->w +
                       reflect_ref(x - m->dx, m->w)];
    assert_close("translate reflect", got, want, n, 0);
    ck_assert_int_eq(hs_translate_reflect(&tin, &tin, 1, 1), HS_ERR_INTERNAL); /* not in place */
    free(in); free(got); free(want);
    hs_tensor_free(&tin); hs_tensor_free(&tout);
}
END_TEST

/* The backward is the adjoint: din[p] = Σ dout[q] over the q that read p,
 * built here by scattering through the same reference map. */
START_TEST(translate_reflect_backward)
{
    test_setup();
    const translate_case *m = &moves[_i];
    if (test_small_only() && !m->small) return;
    size_t n = (size_t)m->n * m->c * m->h * m->w;
    float *dout = host_floats(n);
    fill_random(dout, n, 90 + _i, -1, 1);
    hs_tensor tdout = upload(dout, m->n, m->c, m->h, m->w), tdin = poisoned(m->n, m->c, m->h, m->w);
    HS_CHECK(hs_translate_reflect_backward(&tdin, &tdout, m->dx, m->dy));
    float *got = download(&tdin);
    double *want = host_doubles(n);
    for (int p = 0; p < m->n * m->c; p++)
        for (int y = 0; y < m->h; y++)
            for (int x = 0; x < m->w; x++)
                want[((size_t)p * m->h + reflect_ref(y - m->dy, m->h)) * m->w +
                     reflect_ref(x - m->dx, m->w)] += dout[((size_t)p * m->h + y) * m->w + x];
    assert_close("translate reflect backward", got, want, n, 1e-6);
    free(dout); free(got); free(want);
    hs_tensor_free(&tdout); hs_tensor_free(&tdin);
}
END_TEST

void add_image_tests(Suite *s)
{
    TCase *tc = tcase_create("image");
    tcase_add_loop_test(tc, image_round_trip, 0, IMAGE_COUNT);
    tcase_add_loop_test(tc, tensor_to_image_rounds_and_clamps, 0, IMAGE_COUNT);
    tcase_add_loop_test(tc, translate_reflect, 0, MOVE_COUNT);
    tcase_add_loop_test(tc, translate_reflect_backward, 0, MOVE_COUNT);
    suite_add_tcase(s, tc);
}
