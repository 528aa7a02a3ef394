/* ops_conv.c — conv2d forward (also into a channel slice, with a residual
 * added and activated, as its store fuses an Add and a ReLU) and
 * backward against a double-precision C reference, and the backward
 * against finite differences; every case by im2col through both GEMM
 * implementations (our kernel and CLBlast), by the implicit GEMM
 * (forward, and backward-input at stride 1; our kernel only), and the
 * forward by the direct conv_few where it applies (stride 1, at most 8
 * outputs: two launches from 5). Winograd's own tests: ops_winograd.c. */
#include "engine.h"
#include "harness.h"
#include "layer_reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct conv_case {
    int n, ic, h, w, oc, kh, kw, stride, pad, bias;
    int band_rows; /* >0: shrink the scratch so bands are this many rows */
    int small;     /* also run under oclgrind */
} conv_case;

static const conv_case cases[] = {
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1},   /* 1×1 image, 1×1 kernel */
    {1, 3, 5, 7, 4, 3, 3, 1, 1, 1, 0, 1},   /* odd sizes, 'same' */
    {2, 5, 9, 6, 3, 3, 3, 2, 1, 0, 0, 1},   /* batch 2, stride 2, odd input */
    {1, 6, 7, 7, 5, 1, 1, 1, 0, 1, 0, 1},   /* pointwise: straight GEMM */
    {2, 3, 8, 5, 7, 1, 1, 2, 0, 1, 0, 1},   /* 1×1 stride 2 (ResNet50 v1) */
    {1, 3, 13, 11, 4, 7, 7, 2, 3, 1, 0, 1}, /* ResNet50 conv1 shape */
    {1, 2, 9, 8, 3, 5, 5, 1, 2, 1, 0, 1},   /* 5×5 */
    {1, 4, 11, 9, 3, 3, 3, 1, 0, 1, 0, 1},  /* no padding */
    {1, 5, 10, 9, 6, 3, 3, 1, 1, 1, 3, 1},  /* banded: 3 output rows a band */
    {1, 3, 11, 13, 2, 3, 3, 2, 1, 1, 2, 1}, /* banded, stride 2 */
    {1, 2, 7, 9, 3, 3, 3, 2, 0, 1, 0, 1},   /* stride 2, no padding */
    {1, 3, 6, 5, 2, 3, 3, 1, 2, 1, 2, 1},   /* padding wider than the kernel reach, banded */
    {2, 2, 12, 10, 3, 5, 5, 2, 2, 1, 3, 1}, /* 5×5 stride 2, odd bands, batch 2 */
    {1, 2, 3, 2, 2, 5, 5, 1, 2, 0, 1, 1},   /* kernel wider than the input, 1-row bands */
    {1, 2, 5, 4, 2, 4, 4, 2, 1, 1, 0, 1},   /* even kernel, stride 2 */
    {2, 3, 17, 70, 4, 9, 9, 1, 4, 1, 0, 1}, /* 9×9, rows wider than a GEMM panel, batch 2 */
    {2, 5, 19, 71, 6, 3, 3, 2, 1, 1, 0, 1}, /* stride 2, rows wider than a panel */
    {1, 7, 9, 37, 9, 5, 5, 1, 2, 0, 0, 1},  /* 5×5, odd channels */
    {1, 70, 6, 35, 3, 3, 3, 1, 1, 0, 0, 1}, /* K = 630: two copies of a panel */
    {2, 6, 7, 33, 8, 3, 3, 1, 1, 1, 0, 1},  /* 8 outputs, batch 2, rows of 2 runs and 1 */
    {1, 37, 67, 33, 19, 3, 3, 1, 1, 1, 0, 0},
    {1, 64, 40, 40, 64, 3, 3, 1, 1, 1, 0, 0},
};

static void conv_ref(const conv_case *c, const double *in, const double *wt, const double *bias,
                     double *out)
{
    ref_conv_shape s = {c->n, c->ic, c->h, c->w, c->oc, c->kh, c->kw, c->stride, c->pad, c->pad};
    ref_conv2d(&s, in, wt, bias, out);
}

/* Reference backward: the forward loop with each product differentiated
 * (forward: out += in * w, so din += dout * w, dw += dout * in). */
static void conv_ref_backward(const conv_case *c, const double *in, const double *wt,
                              const double *dout, double *din, double *dw, double *db)
{
    int oh = hs_conv_out_size(c->h, c->kh, c->stride, c->pad);
    int ow = hs_conv_out_size(c->w, c->kw, c->stride, c->pad);
    for (int b = 0; b < c->n; b++)
        for (int o = 0; o < c->oc; o++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double d = dout[((b * c->oc + o) * oh + y) * ow + x];
                    db[o] += d;
                    for (int i = 0; i < c->ic; i++)
                        for (int ky = 0; ky < c->kh; ky++)
                            for (int kx = 0; kx < c->kw; kx++) {
                                int iy = y * c->stride - c->pad + ky;
                                int ix = x * c->stride - c->pad + kx;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                size_t ii = ((size_t)(b * c->ic + i) * c->h + iy) * c->w + ix;
                                size_t wi = ((size_t)(o * c->ic + i) * c->kh + ky) * c->kw + kx;
                                din[ii] += d * wt[wi];
                                dw[wi] += d * in[ii];
                            }
                }
}

/* For the finite differences: f(x) with x = input (weights fixed) ... */
typedef struct fd_params { const conv_case *c; const double *in, *wt; } fd_params;
static void fd_wrt_input(const double *x, double *y, const void *p)
{
    const fd_params *f = p;
    conv_ref(f->c, x, f->wt, NULL, y);
}
/* ... or x = weights (input fixed). */
static void fd_wrt_weight(const double *x, double *y, const void *p)
{
    const fd_params *f = p;
    conv_ref(f->c, f->in, x, NULL, y);
}

/* How a case runs: im2col through GEMM implementation v (v < TEST_GEMMS),
 * the implicit GEMM (v == TEST_GEMMS) or conv_few (FEW_VARIANT; forward only:
 * the backward has no such path, its cases run by the other variants). */
#define FEW_VARIANT (TEST_GEMMS + 1)
#define VARIANTS (TEST_GEMMS + 2)
static const char *algorithm = "im2col";

/* `what`, the algorithm and the GEMM, for a failure's message. */
static const char *by(const char *what)
{
    static char text[128];
    snprintf(text, sizeof text, "%s by %s", what, algorithm);
    return with_gemm(text);
}

static size_t limit_scratch(const conv_case *c, int ow)
{
    size_t keep = test_ctx->scratch_limit;
    if (c->band_rows)
        test_ctx->scratch_limit = (size_t)c->ic * c->kh * c->kw * ow * c->band_rows * sizeof(float);
    return keep;
}

/* Case i / VARIANTS by variant i % VARIANTS, and its output size; NULL
 * when the case is skipped. */
static const conv_case *start_case(int i, int *oh, int *ow)
{
    test_setup();
    const conv_case *c = &cases[i / VARIANTS];
    int v = i % VARIANTS, implicit = v == TEST_GEMMS, few = v == FEW_VARIANT;
    test_use_gemm(implicit || few ? 0 : v);
    if (test_small_only() && !c->small) return NULL;
    test_ctx->conv_force = implicit ? HS_CONV_IMPLICIT : few ? HS_CONV_FEW : HS_CONV_IM2COL;
    algorithm = hs_conv_algorithm_name(test_ctx->conv_force);
    hs_conv_params p = {c->stride, c->pad, c->pad};
    int pointwise = c->kh == 1 && c->kw == 1 && c->stride == 1 && c->pad == 0;
    if (few) /* it runs where it applies, im2col elsewhere */
        ck_assert_int_eq(
            hs_conv_algorithm_for(test_ctx, c->ic, c->oc, c->h, c->w, c->kh, c->kw, p),
            c->stride == 1 && c->oc <= HS_CONV_FEW_MAX && !pointwise ? HS_CONV_FEW
                                                                     : HS_CONV_IM2COL);
    *oh = hs_conv_out_size(c->h, c->kh, c->stride, c->pad);
    *ow = hs_conv_out_size(c->w, c->kw, c->stride, c->pad);
    return c;
}

/* Case i / VARIANTS forward by variant i % VARIANTS. */
static void forward_case(int i)
{
    int index = i / VARIANTS, oh, ow;
    const conv_case *c = start_case(i, &oh, &ow);
    if (!c) return;
    size_t nin = (size_t)c->n * c->ic * c->h * c->w, nw = (size_t)c->oc * c->ic * c->kh * c->kw;
    size_t nout = (size_t)c->n * c->oc * oh * ow;
    float *in = host_floats(nin), *wt = host_floats(nw), *bias = host_floats(c->oc);
    fill_random(in, nin, 1 + index, -1, 1);
    fill_random(wt, nw, 100 + index, -0.5f, 0.5f);
    fill_random(bias, c->oc, 200 + index, -1, 1);

    hs_tensor tin = upload(in, c->n, c->ic, c->h, c->w), tw = upload(wt, c->oc, c->ic, c->kh, c->kw);
    hs_tensor tb = upload(bias, 1, c->oc, 1, 1), tout = poisoned(c->n, c->oc, oh, ow);
    size_t keep = limit_scratch(c, ow);
    HS_CHECK(hs_conv2d_forward(&tout, &tin, &tw, c->bias ? &tb : NULL,
                               (hs_conv_params){c->stride, c->pad, c->pad}));
    test_ctx->scratch_limit = keep;
    float *got = download(&tout);

    double *din = to_doubles(in, nin), *dw = to_doubles(wt, nw), *db = to_doubles(bias, c->oc);
    double *want = host_doubles(nout);
    conv_ref(c, din, dw, c->bias ? db : NULL, want);
    assert_close(by("conv2d forward"), got, want, nout, 1e-5);

    free(in); free(wt); free(bias); free(got); free(din); free(dw); free(db); free(want);
    hs_tensor_free(&tin); hs_tensor_free(&tw); hs_tensor_free(&tb); hs_tensor_free(&tout);
}

START_TEST(conv_forward)
{
    forward_case(_i);
}
END_TEST

/* The implicit GEMM with grids of at most 3 on a side (ctx->grid_side): K
 * in chunks of 3 steps, the column panels in launches of 3. */
START_TEST(conv_forward_cut)
{
    test_setup();
    test_ctx->grid_side = 3;
    forward_case(_i * VARIANTS + TEST_GEMMS);
    test_ctx->grid_side = HS_GRID_SIDE;
}
END_TEST

/* Into a slice (one channel before it, two after, NaN: never written),
 * fused into the GEMM's store: a residual a * (conv + bias) + b * r (an
 * Add) on every other run of three cases, and ReLU, LeakyReLU or no
 * activation by turns. */
START_TEST(conv_forward_into)
{
    int index = _i / VARIANTS, oh, ow;
    const conv_case *c = start_case(_i, &oh, &ow);
    if (!c) return;
    int channels = c->oc + 3, channel0 = 1, activated = index % 3 != 2;
    int with_res = index / 3 % 2 == 0;
    hs_activation act = {index % 3 ? 0.2f : 0.0f};
    size_t nin = (size_t)c->n * c->ic * c->h * c->w, nw = (size_t)c->oc * c->ic * c->kh * c->kw;
    size_t plane = (size_t)oh * ow, nout = (size_t)c->n * c->oc * plane;
    float *in = host_floats(nin), *wt = host_floats(nw), *bias = host_floats(c->oc);
    float *r = host_floats(nout);
    fill_random(in, nin, 600 + index, -1, 1);
    fill_random(wt, nw, 700 + index, -0.5f, 0.5f);
    fill_random(bias, c->oc, 800 + index, -1, 1);
    fill_random(r, nout, 900 + index, -1, 1);

    hs_tensor tin = upload(in, c->n, c->ic, c->h, c->w), tw = upload(wt, c->oc, c->ic, c->kh, c->kw);
    hs_tensor tb = upload(bias, 1, c->oc, 1, 1), tout = poisoned(c->n, channels, oh, ow);
    hs_tensor tr = upload(r, c->n, c->oc, oh, ow);
    hs_residual res = {&tr, 0.75f, -1.25f};
    size_t keep = limit_scratch(c, ow);
    HS_CHECK(hs_conv2d_forward_into(&tout, channel0, &tin, &tw, c->bias ? &tb : NULL,
                                    (hs_conv_params){c->stride, c->pad, c->pad},
                                    with_res ? &res : NULL, activated ? &act : NULL, NULL));
    test_ctx->scratch_limit = keep;
    float *got = download(&tout), *slice = host_floats(nout);
    for (int b = 0; b < c->n; b++)
        for (int ch = 0; ch < channels; ch++) {
            const float *p = got + ((size_t)b * channels + ch) * plane;
            int inside = ch >= channel0 && ch < channel0 + c->oc;
            if (inside) memcpy(slice + ((size_t)b * c->oc + ch - channel0) * plane, p,
                               plane * sizeof(float));
            for (size_t i = 0; !inside && i < plane; i++)
                ck_assert_msg(isnan(p[i]), "%s wrote channel %d, outside its slice",
                              by("conv2d forward into"), ch);
        }

    double *din = to_doubles(in, nin), *dw = to_doubles(wt, nw), *db = to_doubles(bias, c->oc);
    double *want = host_doubles(nout);
    conv_ref(c, din, dw, c->bias ? db : NULL, want);
    for (size_t i = 0; i < nout; i++) {
        if (with_res) want[i] = res.scale * want[i] + res.residual_scale * r[i];
        if (activated) want[i] = want[i] > 0 ? want[i] : act.slope * want[i];
    }
    assert_close(by(with_res ? "conv2d forward into a slice, a residual added"
                             : "conv2d forward into a slice"),
                 slice, want, nout, 1e-5);

    free(in); free(wt); free(bias); free(r); free(got); free(slice); free(din); free(dw);
    free(db); free(want);
    hs_tensor_free(&tin); hs_tensor_free(&tw); hs_tensor_free(&tb); hs_tensor_free(&tout);
    hs_tensor_free(&tr);
}
END_TEST

START_TEST(conv_backward)
{
    int index = _i / VARIANTS, oh, ow;
    if (_i % VARIANTS == FEW_VARIANT) return;
    const conv_case *c = start_case(_i, &oh, &ow);
    if (!c) return;
    size_t nin = (size_t)c->n * c->ic * c->h * c->w, nw = (size_t)c->oc * c->ic * c->kh * c->kw;
    size_t nout = (size_t)c->n * c->oc * oh * ow;
    float *in = host_floats(nin), *wt = host_floats(nw), *dout = host_floats(nout);
    fill_random(in, nin, 300 + index, -1, 1);
    fill_random(wt, nw, 400 + index, -0.5f, 0.5f);
    fill_random(dout, nout, 500 + index, -1, 1);

    hs_tensor tin = upload(in, c->n, c->ic, c->h, c->w), tw = upload(wt, c->oc, c->ic, c->kh, c->kw);
    hs_tensor tdout = upload(dout, c->n, c->oc, oh, ow);
    hs_tensor tdin = poisoned(c->n, c->ic, c->h, c->w), tdw = poisoned(c->oc, c->ic, c->kh, c->kw);
    hs_tensor tdb = poisoned(1, c->oc, 1, 1);
    size_t keep = limit_scratch(c, ow);
    HS_CHECK(hs_conv2d_backward(&tdin, &tdw, &tdb, &tdout, &tin, &tw,
                                (hs_conv_params){c->stride, c->pad, c->pad}));
    test_ctx->scratch_limit = keep;
    float *gdin = download(&tdin), *gdw = download(&tdw), *gdb = download(&tdb);

    double *xin = to_doubles(in, nin), *xw = to_doubles(wt, nw), *r = to_doubles(dout, nout);
    double *want_din = host_doubles(nin), *want_dw = host_doubles(nw), *want_db = host_doubles(c->oc);
    conv_ref_backward(c, xin, xw, r, want_din, want_dw, want_db);
    assert_close(by("conv2d backward input"), gdin, want_din, nin, 1e-5);
    keep = limit_scratch(c, ow);
    check_conv_backward_input(by("conv2d backward input"), &tdout, &tin, &tw,
                            (hs_conv_params){c->stride, c->pad, c->pad}, want_din, 600 + index,
                            1e-5);
    test_ctx->scratch_limit = keep;
    assert_close(by("conv2d backward weight"), gdw, want_dw, nw, 1e-5);
    assert_close(by("conv2d backward bias"), gdb, want_db, c->oc, 1e-5);

    if (c->small) { /* finite differences of the reference forward */
        fd_params fp = {c, xin, xw};
        double *fd = host_doubles(nin > nw ? nin : nw);
        finite_difference(fd_wrt_input, &fp, xin, nin, r, nout, 1e-3, fd);
        assert_close(by("conv2d backward input vs finite differences"), gdin, fd, nin,
                     1e-4);
        finite_difference(fd_wrt_weight, &fp, xw, nw, r, nout, 1e-3, fd);
        assert_close(by("conv2d backward weight vs finite differences"), gdw, fd, nw,
                     1e-4);
        free(fd);
    }
    free(in); free(wt); free(dout); free(gdin); free(gdw); free(gdb);
    free(xin); free(xw); free(r); free(want_din); free(want_dw); free(want_db);
    hs_tensor_free(&tin); hs_tensor_free(&tw); hs_tensor_free(&tdout);
    hs_tensor_free(&tdin); hs_tensor_free(&tdw); hs_tensor_free(&tdb);
}
END_TEST

/* The GEMM and the conv algorithm back to their defaults (the op tests
 * share one context in one process). */
static void teardown(void)
{
    test_default_gemm();
    if (test_ctx) {
        test_ctx->conv_force = -1;
        test_ctx->grid_side = HS_GRID_SIDE;
    }
}

/* The stored choices' lines (host/conv_algorithm.c): written and read back,
 * the older lines without a stride read as stride 1; a choice is taken for
 * shapes near it of its kernel and stride only. */
START_TEST(conv_choices)
{
    test_setup();
    hs_conv_choice c = {7, 7, 2, 3, 64, 256, 256, HS_CONV_IMPLICIT}, back;
    char line[128];
    hs_conv_algorithm_format(&c, line, sizeof line);
    ck_assert_str_eq(line, "conv7x7s2 3 64 256 256 implicit");
    ck_assert(hs_conv_algorithm_parse(line, &back));
    ck_assert_mem_eq(&back, &c, sizeof c);
    ck_assert(hs_conv_algorithm_parse("conv3x3 64 32 148 148 winograd4", &back));
    ck_assert_int_eq(back.stride, 1);
    ck_assert_int_eq(back.algorithm, HS_CONV_WINOGRAD4);
    ck_assert(!hs_conv_algorithm_parse("conv3x3 64 32 148 148 fft", &back));
    ck_assert(!hs_conv_algorithm_parse("conv3x3x 64 32 148 148 im2col", &back));

    int keep = test_ctx->conv_choice_count;
    hs_conv_choice kept = test_ctx->conv_choices[0];
    test_ctx->conv_choices[0] = (hs_conv_choice){5, 5, 1, 64, 64, 128, 128, HS_CONV_IM2COL};
    test_ctx->conv_choice_count = 1;
    hs_conv_params same5 = {1, 2, 2}, strided5 = {2, 2, 2};
    /* the default for a 5×5, measured or not: implicit where our GEMM kernel runs */
    int untuned = hs_gemm_own_known_good(&test_ctx->dev) ? HS_CONV_IMPLICIT : HS_CONV_IM2COL;
    ck_assert_int_eq(hs_conv_algorithm_for(test_ctx, 60, 70, 130, 130, 5, 5, same5),
                     HS_CONV_IM2COL);
    ck_assert_int_eq(hs_conv_algorithm_for(test_ctx, 60, 70, 130, 130, 5, 5, strided5), untuned);
    ck_assert_int_eq(hs_conv_algorithm_for(test_ctx, 16, 16, 130, 130, 5, 5, same5), untuned);
    /* to at most 4 channels at stride 1: the direct conv, also where a 5×5 was measured */
    int few = untuned == HS_CONV_IMPLICIT ? HS_CONV_FEW : HS_CONV_IM2COL;
    hs_conv_params same3 = {1, 1, 1}, same9 = {1, 4, 4};
    ck_assert_int_eq(hs_conv_algorithm_for(test_ctx, 64, 4, 130, 130, 3, 3, same3), few);
    ck_assert_int_eq(hs_conv_algorithm_for(test_ctx, 3, 3, 40, 40, 9, 9, same9), few);
    ck_assert_int_eq(hs_conv_algorithm_for(test_ctx, 64, 8, 130, 130, 3, 3, same3), untuned);
    ck_assert(hs_conv_algorithm_parse("conv3x3 64 4 148 148 few", &back));
    ck_assert_int_eq(back.algorithm, HS_CONV_FEW);
    test_ctx->conv_choices[0] = kept;
    test_ctx->conv_choice_count = keep;
}
END_TEST

void add_conv_tests(Suite *s)
{
    TCase *tc = tcase_create("conv2d");
    tcase_set_tags(tc, "conv"); /* oclgrind runs them apart (tests/meson.build) */
    tcase_add_checked_fixture(tc, NULL, teardown);
    int n = (int)(sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, conv_forward, 0, n * VARIANTS);
    tcase_add_loop_test(tc, conv_forward_into, 0, n * VARIANTS);
    tcase_add_loop_test(tc, conv_backward, 0, n * VARIANTS);
    tcase_add_test(tc, conv_choices);
    suite_add_tcase(s, tc);
    /* A case of its own, to run alone under oclgrind (CK_RUN_CASE). */
    TCase *cut = tcase_create("conv2d-cut");
    tcase_set_tags(cut, "conv");
    tcase_add_checked_fixture(cut, NULL, teardown);
    tcase_add_loop_test(cut, conv_forward_cut, 0, n);
    suite_add_tcase(s, cut);
}
