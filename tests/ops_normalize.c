/* ops_normalize.c — the image-to-network-input map against a C reference;
 * its backward against finite differences, with and without the BGR swap. */
#include "harness.h"

#include <stdlib.h>

typedef struct norm_case { int n, h, w, bgr; } norm_case;
static const norm_case cases[] = {{1, 1, 1, 0}, {1, 5, 7, 1}, {2, 13, 11, 1}, {1, 33, 65, 0}};

static void normalize_ref(const double *x, double *y, const void *params)
{
    const void *const *p = params;
    const norm_case *c = p[0];
    const hs_normalize *norm = p[1];
    size_t plane = (size_t)c->h * c->w;
    for (int b = 0; b < c->n; b++)
        for (int ch = 0; ch < 3; ch++) {
            int src = c->bgr ? 2 - ch : ch;
            for (size_t i = 0; i < plane; i++)
                y[(b * 3 + ch) * plane + i] =
                    (x[(b * 3 + src) * plane + i] * 255.0 * norm->scale - norm->mean[ch]) /
                    norm->std[ch];
        }
}

START_TEST(normalize)
{
    test_setup();
    const norm_case *c = &cases[_i];
    if (test_small_only() && _i > 1) return;
    /* Keras ResNet50 (BGR, 0..255 minus the mean) or torchvision (RGB, ImageNet std). */
    const hs_normalize caffe = {1.0f, {103.939f, 116.779f, 123.68f}, {1, 1, 1}, 1};
    const hs_normalize torch = {1.0f / 255.0f, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}, 0};
    hs_normalize norm = c->bgr ? caffe : torch;
    size_t count = (size_t)c->n * 3 * c->h * c->w;
    float *x = host_floats(count), *dy = host_floats(count);
    fill_random(x, count, 61 + _i, 0, 1);
    fill_random(dy, count, 71 + _i, -1, 1);
    hs_tensor tx = upload(x, c->n, 3, c->h, c->w), tdy = upload(dy, c->n, 3, c->h, c->w);
    hs_tensor ty = poisoned(c->n, 3, c->h, c->w), tdx = poisoned(c->n, 3, c->h, c->w);
    HS_CHECK(hs_normalize_forward(&ty, &tx, &norm));
    HS_CHECK(hs_normalize_backward(&tdx, &tdy, &norm));
    float *y = download(&ty), *dx = download(&tdx);

    const void *params[2] = {c, &norm};
    double *xd = to_doubles(x, count), *r = to_doubles(dy, count);
    double *want = host_doubles(count), *grad = host_doubles(count);
    normalize_ref(xd, want, params);
    assert_close("normalize forward", y, want, count, 1e-6);
    finite_difference(normalize_ref, params, xd, count, r, count, 1e-3, grad);
    assert_close("normalize backward vs finite differences", dx, grad, count, 1e-6);

    free(x); free(dy); free(y); free(dx); free(xd); free(r); free(want); free(grad);
    hs_tensor_free(&tx); hs_tensor_free(&tdy); hs_tensor_free(&ty); hs_tensor_free(&tdx);
}
END_TEST

void add_normalize_tests(Suite *s)
{
    TCase *tc = tcase_create("normalize");
    tcase_add_loop_test(tc, normalize, 0, (int)(sizeof cases / sizeof cases[0]));
    suite_add_tcase(s, tc);
}
