/* ops_shuffle.c — pixel shuffle in both channel orders and nearest-neighbour
 * upsampling against C references. The TensorFlow reference is written the
 * way TensorFlow defines it, depth_to_space on an NHWC copy, rather than from
 * the NCHW formula of the header, so a mix-up of the two orders fails. */
#include "harness.h"

#include <stdlib.h>

typedef struct shuffle_case {
    int n, c, h, w, r; /* c: output channels; the input has c*r*r */
    int small;         /* also run under oclgrind */
} shuffle_case;

static const shuffle_case cases[] = {
    {1, 1, 1, 1, 2, 1},   {1, 3, 1, 1, 2, 1},   {2, 3, 5, 7, 2, 1},  {1, 5, 13, 11, 3, 1},
    {2, 3, 4, 3, 4, 1},   {1, 3, 2, 3, 8, 1},   {1, 7, 33, 65, 2, 0}, {2, 3, 17, 9, 8, 0},
    {1, 64, 33, 65, 2, 0}, /* Real-ESRGAN-like: 256 channels in */
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static size_t count_of(const shuffle_case *s)
{
    return (size_t)s->n * s->c * s->h * s->w * s->r * s->r;
}
static int skip_case(const shuffle_case *s) { return test_small_only() && !s->small; }

/* torch.nn.functional.pixel_shuffle: input channel c*r*r + i*r + j feeds
 * output pixel (y*r + i, x*r + j) of channel c. */
static void torch_ref(const shuffle_case *s, const double *in, double *out)
{
    int r = s->r, oh = s->h * r, ow = s->w * r, ic = s->c * r * r;
    for (int b = 0; b < s->n; b++)
        for (int c = 0; c < s->c; c++)
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++) {
                    int k = c * r * r + i * r + j;
                    for (int y = 0; y < s->h; y++)
                        for (int x = 0; x < s->w; x++)
                            out[(((size_t)b * s->c + c) * oh + y * r + i) * ow + x * r + j] =
                                in[(((size_t)b * ic + k) * s->h + y) * s->w + x];
                }
}

/* tf.nn.depth_to_space on NHWC (TF's definition): out[b][y*r+i][x*r+j][c] =
 * in[b][y][x][(i*r + j)*C + c]. The NCHW tensors are transposed to NHWC and back. */
static void tf_ref(const shuffle_case *s, const double *in, double *out)
{
    int r = s->r, oh = s->h * r, ow = s->w * r, ic = s->c * r * r;
    size_t total = count_of(s);
    double *nhwc_in = host_doubles(total), *nhwc_out = host_doubles(total);
    for (int b = 0; b < s->n; b++)
        for (int k = 0; k < ic; k++)
            for (int y = 0; y < s->h; y++)
                for (int x = 0; x < s->w; x++)
                    nhwc_in[(((size_t)b * s->h + y) * s->w + x) * ic + k] =
                        in[(((size_t)b * ic + k) * s->h + y) * s->w + x];
    for (int b = 0; b < s->n; b++)
        for (int y = 0; y < s->h; y++)
            for (int x = 0; x < s->w; x++)
                for (int d = 0; d < ic; d++) { /* d = (i*r + j)*C + c */
                    int c = d % s->c, j = d / s->c % r, i = d / s->c / r;
                    nhwc_out[(((size_t)b * oh + y * r + i) * ow + x * r + j) * s->c + c] =
                        nhwc_in[(((size_t)b * s->h + y) * s->w + x) * ic + d];
                }
    for (int b = 0; b < s->n; b++)
        for (int c = 0; c < s->c; c++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    out[(((size_t)b * s->c + c) * oh + y) * ow + x] =
                        nhwc_out[(((size_t)b * oh + y) * ow + x) * s->c + c];
    free(nhwc_in);
    free(nhwc_out);
}

static void check_shuffle(hs_shuffle_order order, int index)
{
    test_setup();
    const shuffle_case *s = &cases[index];
    if (skip_case(s)) return;
    size_t total = count_of(s);
    float *in = host_floats(total);
    fill_random(in, total, 10 + index, -1, 1);
    hs_tensor tin = upload(in, s->n, s->c * s->r * s->r, s->h, s->w);
    hs_tensor tout = poisoned(s->n, s->c, s->h * s->r, s->w * s->r);
    HS_CHECK(hs_pixel_shuffle(&tout, &tin, s->r, order));
    float *got = download(&tout);
    double *x = to_doubles(in, total), *want = host_doubles(total);
    if (order == HS_SHUFFLE_TORCH) torch_ref(s, x, want);
    else tf_ref(s, x, want);
    assert_close(order == HS_SHUFFLE_TORCH ? "pixel shuffle (torch)" : "pixel shuffle (tf)", got,
                 want, total, 0);
    free(in); free(got); free(x); free(want);
    hs_tensor_free(&tin); hs_tensor_free(&tout);
}

START_TEST(pixel_shuffle_torch) { check_shuffle(HS_SHUFFLE_TORCH, _i); }
END_TEST
START_TEST(pixel_shuffle_tf) { check_shuffle(HS_SHUFFLE_TF, _i); }
END_TEST

START_TEST(upsample_nearest)
{
    test_setup();
    const shuffle_case *s = &cases[_i];
    if (skip_case(s)) return;
    int oh = s->h * s->r, ow = s->w * s->r;
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = count_of(s);
    float *in = host_floats(nin);
    fill_random(in, nin, 20 + _i, -1, 1);
    hs_tensor tin = upload(in, s->n, s->c, s->h, s->w), tout = poisoned(s->n, s->c, oh, ow);
    HS_CHECK(hs_upsample_nearest(&tout, &tin, s->r));
    float *got = download(&tout);
    double *want = host_doubles(nout);
    for (int p = 0; p < s->n * s->c; p++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                want[((size_t)p * oh + y) * ow + x] =
                    in[((size_t)p * s->h + y / s->r) * s->w + x / s->r];
    assert_close("upsample nearest", got, want, nout, 0);
    free(in); free(got); free(want);
    hs_tensor_free(&tin); hs_tensor_free(&tout);
}
END_TEST

/* Channels that are not a multiple of r*r, or a wrong output shape, are refused. */
START_TEST(shuffle_rejects_bad_shapes)
{
    test_setup();
    hs_tensor in = upload(NULL, 1, 6, 2, 2), out = upload(NULL, 1, 2, 4, 4);
    ck_assert_int_eq(hs_pixel_shuffle(&out, &in, 2, HS_SHUFFLE_TORCH), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_upsample_nearest(&out, &in, 2), HS_ERR_INTERNAL);
    hs_tensor_free(&in);
    hs_tensor_free(&out);
}
END_TEST

void add_shuffle_tests(Suite *s)
{
    TCase *tc = tcase_create("shuffle");
    tcase_add_loop_test(tc, pixel_shuffle_torch, 0, CASE_COUNT);
    tcase_add_loop_test(tc, pixel_shuffle_tf, 0, CASE_COUNT);
    tcase_add_loop_test(tc, upsample_nearest, 0, CASE_COUNT);
    tcase_add_test(tc, shuffle_rejects_bad_shapes);
    suite_add_tcase(s, tc);
}
