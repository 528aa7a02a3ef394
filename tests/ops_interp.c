/* ops_interp.c — resizing (hs_interp_forward, cl/interp.cl) against the
 * double-precision reference of layer_reference.c, which follows ncnn's
 * Interp layer: nearest, bilinear and bicubic, enlarging and shrinking, by
 * whole and fractional factors, at odd sizes and down to a single pixel. */
#include "harness.h"
#include "layer_reference.h"

#include <stdlib.h>

typedef struct interp_case {
    int n, c, h, w, oh, ow;
    hs_interp_mode mode;
    int small; /* also run under oclgrind */
} interp_case;

static const interp_case cases[] = {
    {1, 1, 1, 1, 3, 2, HS_INTERP_BICUBIC, 1},    {2, 3, 5, 7, 10, 14, HS_INTERP_BICUBIC, 1},
    {1, 3, 8, 12, 6, 9, HS_INTERP_BICUBIC, 1},   {1, 2, 9, 13, 4, 5, HS_INTERP_BICUBIC, 1},
    {1, 3, 7, 5, 21, 15, HS_INTERP_BILINEAR, 1}, {2, 2, 8, 6, 6, 3, HS_INTERP_BILINEAR, 1},
    {1, 1, 2, 1, 5, 3, HS_INTERP_BILINEAR, 1},   {1, 3, 5, 7, 15, 21, HS_INTERP_NEAREST, 1},
    {1, 2, 12, 8, 9, 6, HS_INTERP_NEAREST, 1},   {1, 3, 37, 29, 111, 87, HS_INTERP_BICUBIC, 0},
    {1, 5, 64, 48, 48, 36, HS_INTERP_BICUBIC, 0},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static const char *mode_name(hs_interp_mode mode)
{
    return mode == HS_INTERP_NEAREST ? "nearest" : mode == HS_INTERP_BILINEAR ? "bilinear"
                                                                              : "bicubic";
}

START_TEST(interp_forward)
{
    test_setup();
    const interp_case *s = &cases[_i];
    if (test_small_only() && !s->small) return;
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = (size_t)s->n * s->c * s->oh * s->ow;
    float *in = host_floats(nin);
    fill_random(in, nin, 40 + _i, -1, 1);
    hs_tensor tin = upload(in, s->n, s->c, s->h, s->w), tout = poisoned(s->n, s->c, s->oh, s->ow);
    HS_CHECK(hs_interp_forward(&tout, &tin, s->mode));
    float *got = download(&tout);
    ref_tensor rin = ref_alloc(s->n, s->c, s->h, s->w), rout = ref_alloc(s->n, s->c, s->oh, s->ow);
    for (size_t i = 0; i < nin; i++) rin.data[i] = in[i];
    ref_interp(s->mode, &rin, &rout);
    char what[64];
    snprintf(what, sizeof what, "interp %s %dx%d -> %dx%d", mode_name(s->mode), s->w, s->h, s->ow,
             s->oh);
    assert_close(what, got, rout.data, nout, 1e-5);
    free(in);
    free(got);
    ref_free(&rin);
    ref_free(&rout);
    hs_tensor_free(&tin);
    hs_tensor_free(&tout);
}
END_TEST

void add_interp_tests(Suite *s)
{
    TCase *tc = tcase_create("interp");
    tcase_add_loop_test(tc, interp_forward, 0, CASE_COUNT);
    suite_add_tcase(s, tc);
}
