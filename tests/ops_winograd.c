/* ops_winograd.c — 3×3 stride-1 convs by Winograd F(2×2,3×3) and
 * F(4×4,3×3) (host/op_winograd.c), forced through hs_conv2d_forward_into and
 * hs_conv2d_backward: forward (into a channel slice, with and without a
 * residual and an activation) and backward-input against a double-precision
 * C reference, the backward-input against finite differences; every case through both
 * tile sizes and both GEMM implementations. Transforms kept from one conv
 * for the next (hs_conv_reuse): used exactly where they apply. Transformed
 * weights kept for frozen weights (host/weight_cache.c): the same results,
 * and forgotten with their buffer. */
#include "engine.h"
#include "harness.h"
#include "layer_reference.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wino_case {
    int n, ic, h, w, oc, pad, bias;
    int band_tiles; /* >0: shrink the scratch so bands are this many rows of tiles */
    int small;      /* also run under oclgrind; checked against finite differences */
} wino_case;

static const wino_case cases[] = {
    {1, 1, 1, 1, 1, 1, 1, 0, 1},     /* one pixel: one tile, mostly padding */
    {1, 3, 5, 7, 4, 1, 1, 0, 1},     /* odd sizes, 'same' */
    {2, 5, 9, 6, 3, 0, 0, 0, 1},     /* batch 2, no padding, no bias */
    {1, 4, 11, 9, 3, 0, 1, 1, 1},    /* no padding, one row of tiles a band */
    {2, 3, 13, 7, 5, 1, 1, 2, 1},    /* batch 2, two rows of tiles a band */
    {1, 2, 3, 2, 3, 2, 1, 0, 1},     /* padding 2: the backward of padding 0 */
    {1, 37, 67, 33, 19, 1, 1, 0, 0}, /* odd channels, many tiles */
    {1, 64, 40, 40, 64, 1, 1, 3, 0}, /* an SR generator's layer, banded */
};
#define CASES (int)(sizeof cases / sizeof cases[0])
#define ALGORITHMS 2 /* F(2×2,3×3), F(4×4,3×3) */

static int out_side(int in, int pad) { return in + 2 * pad - 2; }

/* out = in * w (+ bias), 3×3, stride 1. */
static void conv3x3_ref(const wino_case *c, const double *in, const double *w, const double *bias,
                        double *out)
{
    ref_conv_shape s = {c->n, c->ic, c->h, c->w, c->oc, 3, 3, 1, c->pad, c->pad};
    ref_conv2d(&s, in, w, bias, out);
}

/* Backward-input of conv3x3_ref (forward: out += in * w, so din += dout * w). */
static void conv3x3_ref_backward(const wino_case *c, const double *w, const double *dout,
                                 double *din)
{
    int oh = out_side(c->h, c->pad), ow = out_side(c->w, c->pad);
    for (int b = 0; b < c->n; b++)
        for (int o = 0; o < c->oc; o++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++)
                    for (int i = 0; i < c->ic; i++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y - c->pad + ky, ix = x - c->pad + kx;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                din[((b * c->ic + i) * c->h + iy) * c->w + ix] +=
                                    dout[((b * c->oc + o) * oh + y) * ow + x] *
                                    w[((o * c->ic + i) * 3 + ky) * 3 + kx];
                            }
}

typedef struct fd_params { const wino_case *c; const double *w; } fd_params;
static void fd_wrt_input(const double *x, double *y, const void *p)
{
    const fd_params *f = p;
    conv3x3_ref(f->c, x, f->w, NULL, y);
}

/* Case, algorithm and GEMM of loop index i; the algorithm forced and the
 * scratch shrunk as the case asks, until the teardown (the op tests share
 * one context in one process). */
typedef struct wino_run { const wino_case *c; int m; char what[96]; } wino_run;
static size_t kept_limit, kept_cache_limit, kept_mem_limit;
static int mem_limit_changed;

static void teardown(void)
{
    test_default_gemm();
    if (!test_ctx) return;
    test_ctx->conv_force = -1;
    if (kept_limit) test_ctx->scratch_limit = kept_limit;
    if (kept_cache_limit) test_ctx->weight_cache_limit = kept_cache_limit;
    if (mem_limit_changed) test_ctx->mem_limit = kept_mem_limit;
    kept_limit = kept_cache_limit = 0;
    mem_limit_changed = 0;
}

static int begin(int i, const char *op, wino_run *r)
{
    test_setup();
    r->c = &cases[i / (ALGORITHMS * TEST_GEMMS)];
    hs_conv_algorithm a = (i / TEST_GEMMS) % ALGORITHMS ? HS_CONV_WINOGRAD4 : HS_CONV_WINOGRAD2;
    r->m = hs_conv_algorithm_tile(a);
    test_use_gemm(i % TEST_GEMMS);
    snprintf(r->what, sizeof r->what, "%s F(%dx%d,3x3) case %d", op, r->m, r->m,
             i / (ALGORITHMS * TEST_GEMMS));
    if (test_small_only() && !r->c->small) return 0;
    test_ctx->conv_force = a;
    return 1;
}

/* Shrink the scratch to band_tiles rows of tiles for a conv of q -> rr
 * channels whose output is ow wide; then check that Winograd, not the
 * im2col it falls back to, takes the conv of an h x w input with padding
 * pad. */
static void limit_scratch(const wino_run *r, int q, int rr, int h, int w, int pad)
{
    int ow = out_side(w, pad);
    if (r->c->band_tiles) {
        kept_limit = test_ctx->scratch_limit;
        test_ctx->scratch_limit =
            hs_winograd_scratch_bytes(test_ctx, r->m, q, rr, ow, r->c->band_tiles);
    }
    hs_conv_algorithm a = hs_conv_algorithm_for(test_ctx, q, rr, h, w, 3, 3,
                                                (hs_conv_params){1, pad, pad});
    ck_assert_msg(hs_conv_algorithm_tile(a) == r->m, "%s: not run by Winograd", r->what);
}

/* Into a slice (one channel before it, two after, NaN: never written), with
 * LeakyReLU on odd cases and a residual a * (conv + bias) + b * r (an Add)
 * on half the runs, each tile size meeting all four mixes, as
 * hs_conv2d_forward_into gives them. */
START_TEST(winograd_forward)
{
    wino_run r;
    if (!begin(_i, "winograd forward", &r)) return;
    const wino_case *c = r.c;
    int oh = out_side(c->h, c->pad), ow = out_side(c->w, c->pad);
    int channels = c->oc + 3, channel0 = 1, index = _i / (ALGORITHMS * TEST_GEMMS);
    hs_activation act = {0.2f};
    int with_res = (_i / TEST_GEMMS + index / 2) % 2;
    size_t nin = (size_t)c->n * c->ic * c->h * c->w, nw = (size_t)c->oc * c->ic * 9;
    size_t plane = (size_t)oh * ow, nout = (size_t)c->n * c->oc * plane;
    float *in = host_floats(nin), *wt = host_floats(nw), *bias = host_floats(c->oc);
    float *res_in = host_floats(nout);
    fill_random(in, nin, 11 + _i, -1, 1);
    fill_random(wt, nw, 12 + _i, -0.5f, 0.5f);
    fill_random(bias, c->oc, 13 + _i, -1, 1);
    fill_random(res_in, nout, 14 + _i, -1, 1);
    hs_tensor tin = upload(in, c->n, c->ic, c->h, c->w), tw = upload(wt, c->oc, c->ic, 3, 3);
    hs_tensor tb = upload(bias, 1, c->oc, 1, 1), tout = poisoned(c->n, channels, oh, ow);
    hs_tensor tr = upload(res_in, c->n, c->oc, oh, ow);
    hs_residual res = {&tr, 1.5f, -0.5f};
    limit_scratch(&r, c->ic, c->oc, c->h, c->w, c->pad);
    HS_CHECK(hs_conv2d_forward_into(&tout, channel0, &tin, &tw, c->bias ? &tb : NULL,
                                    (hs_conv_params){1, c->pad, c->pad},
                                    with_res ? &res : NULL, index % 2 ? &act : NULL, NULL));
    float *got = download(&tout), *slice = host_floats(nout);
    for (int b = 0; b < c->n; b++)
        for (int ch = 0; ch < channels; ch++) {
            const float *p = got + ((size_t)b * channels + ch) * plane;
            int inside = ch >= channel0 && ch < channel0 + c->oc;
            if (inside)
                memcpy(slice + ((size_t)b * c->oc + ch - channel0) * plane, p,
                       plane * sizeof(float));
            for (size_t i = 0; !inside && i < plane; i++)
                ck_assert_msg(isnan(p[i]), "%s wrote channel %d, outside its slice",
                              with_gemm(r.what), ch);
        }

    double *xin = to_doubles(in, nin), *xw = to_doubles(wt, nw), *xb = to_doubles(bias, c->oc);
    double *want = host_doubles(nout);
    conv3x3_ref(c, xin, xw, c->bias ? xb : NULL, want);
    for (size_t i = 0; i < nout; i++) {
        if (with_res) want[i] = res.scale * want[i] + res.residual_scale * res_in[i];
        if (index % 2) want[i] = want[i] > 0 ? want[i] : act.slope * want[i];
    }
    assert_close(with_gemm(r.what), slice, want, nout, 1e-5);

    free(in); free(wt); free(bias); free(res_in); free(got); free(slice); free(xin); free(xw);
    free(xb); free(want);
    hs_tensor_free(&tin); hs_tensor_free(&tw); hs_tensor_free(&tb); hs_tensor_free(&tout);
    hs_tensor_free(&tr);
}
END_TEST

START_TEST(winograd_backward_input)
{
    wino_run r;
    if (!begin(_i, "winograd backward input", &r)) return;
    const wino_case *c = r.c;
    int oh = out_side(c->h, c->pad), ow = out_side(c->w, c->pad);
    size_t nin = (size_t)c->n * c->ic * c->h * c->w, nw = (size_t)c->oc * c->ic * 9;
    size_t nout = (size_t)c->n * c->oc * oh * ow;
    float *in = host_floats(nin), *wt = host_floats(nw), *dout = host_floats(nout);
    fill_random(in, nin, 21 + _i, -1, 1);
    fill_random(wt, nw, 22 + _i, -0.5f, 0.5f);
    fill_random(dout, nout, 23 + _i, -1, 1);
    hs_tensor tin = upload(in, c->n, c->ic, c->h, c->w), tw = upload(wt, c->oc, c->ic, 3, 3);
    hs_tensor tdout = upload(dout, c->n, c->oc, oh, ow), tdin = poisoned(c->n, c->ic, c->h, c->w);
    /* the backward conv: oc -> ic channels from dout, padding 2 - pad */
    limit_scratch(&r, c->oc, c->ic, oh, ow, 2 - c->pad);
    HS_CHECK(hs_conv2d_backward(&tdin, NULL, NULL, &tdout, &tin, &tw,
                                (hs_conv_params){1, c->pad, c->pad}));
    float *got = download(&tdin);

    double *xw = to_doubles(wt, nw), *xd = to_doubles(dout, nout), *want = host_doubles(nin);
    conv3x3_ref_backward(c, xw, xd, want);
    assert_close(with_gemm(r.what), got, want, nin, 1e-5);
    check_conv_backward_input(with_gemm(r.what), &tdout, &tin, &tw,
                            (hs_conv_params){1, c->pad, c->pad}, want, 24 + _i, 1e-5);
    if (c->small) {
        double *xin = to_doubles(in, nin), *fd = host_doubles(nin);
        fd_params fp = {c, xw};
        finite_difference(fd_wrt_input, &fp, xin, nin, xd, nout, 1e-3, fd);
        assert_close(with_gemm("winograd backward input vs finite differences"), got, fd, nin,
                     1e-4);
        free(xin);
        free(fd);
    }
    free(in); free(wt); free(dout); free(got); free(xw); free(xd); free(want);
    hs_tensor_free(&tin); hs_tensor_free(&tw); hs_tensor_free(&tdout); hs_tensor_free(&tdin);
}
END_TEST

/* out (1, oc, h, w) = in (1, ic, h, w) * wt, 3×3, padding 1, through
 * hs_conv2d_forward_into with `reuse`; downloaded. */
static float *conv_same(const hs_tensor *in, const hs_tensor *wt, hs_conv_reuse *reuse)
{
    hs_tensor out = poisoned(1, wt->n, in->h, in->w);
    HS_CHECK(hs_conv2d_forward_into(&out, 0, in, wt, NULL, (hs_conv_params){1, 1, 1}, NULL,
                                    NULL, reuse));
    float *got = download(&out);
    hs_tensor_free(&out);
    return got;
}

static void assert_same(const char *what, const float *got, const float *want, size_t n)
{
    ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "%s: not bit for bit the same",
                  with_gemm(what));
}

/* A dense chain's transforms kept (hs_conv_reuse): a conv on x (5 channels)
 * keeps V; one on cat(x, y) (8 channels) transforms y's alone and gives
 * what it gives without reuse, bit for bit. The caller vouches for the
 * channels held: V claimed for other data is used as it is (here, x's V for
 * another x: the first result again). Nothing is reused for another
 * geometry, and V is not kept when the output takes more than one band. */
START_TEST(winograd_reuse)
{
    enum { X = 5, Y = 3, C = X + Y, H = 9, W = 11, OA = 4, OB = 6 };
    test_setup();
    hs_conv_algorithm a = (_i / TEST_GEMMS) % ALGORITHMS ? HS_CONV_WINOGRAD4 : HS_CONV_WINOGRAD2;
    int m = hs_conv_algorithm_tile(a);
    test_use_gemm(_i % TEST_GEMMS);
    test_ctx->conv_force = a;
    char what[64];
    size_t plane = (size_t)H * W;
    float *cat = host_floats(C * plane), *other = host_floats(C * plane);
    float *wa = host_floats(OA * X * 9), *wb = host_floats(OB * C * 9);
    fill_random(cat, C * plane, 41, -1, 1);
    memcpy(other, cat, C * plane * sizeof *cat);
    fill_random(other, X * plane, 42, -1, 1); /* another x, the same y */
    fill_random(wa, OA * X * 9, 43, -0.5f, 0.5f);
    fill_random(wb, OB * C * 9, 44, -0.5f, 0.5f);
    hs_tensor tx = upload(cat, 1, X, H, W), tcat = upload(cat, 1, C, H, W);
    hs_tensor tother = upload(other, 1, C, H, W), tshort = upload(cat, 1, C, H - 2, W);
    hs_tensor twa = upload(wa, OA, X, 3, 3), twb = upload(wb, OB, C, 3, 3);

    hs_conv_reuse reuse = {.capacity = C};
    float *on_x = conv_same(&tx, &twa, &reuse);
    ck_assert_int_eq(reuse.channels, X);
    ck_assert_ptr_nonnull(reuse.v);
    wino_case ref_case = {1, X, H, W, OA, 1, 0, 0, 0};
    double *xin = to_doubles(cat, C * plane), *xwa = to_doubles(wa, OA * X * 9);
    double *want = host_doubles(OA * plane);
    conv3x3_ref(&ref_case, xin, xwa, NULL, want);
    snprintf(what, sizeof what, "winograd F(%dx%d,3x3) keeping V", m, m);
    assert_close(with_gemm(what), on_x, want, OA * plane, 1e-5);

    float *extended = conv_same(&tcat, &twb, &reuse), *fresh = conv_same(&tcat, &twb, NULL);
    ck_assert_int_eq(reuse.channels, C);
    snprintf(what, sizeof what, "winograd F(%dx%d,3x3) extending V", m, m);
    assert_same(what, extended, fresh, OB * plane);

    reuse.channels = X; /* vouched for wrongly: x's V serves the other x */
    float *stale = conv_same(&tother, &twb, &reuse), *right = conv_same(&tother, &twb, NULL);
    snprintf(what, sizeof what, "winograd F(%dx%d,3x3) with V held", m, m);
    assert_same(what, stale, fresh, OB * plane);
    ck_assert_msg(memcmp(right, fresh, OB * plane * sizeof *right) != 0, "%s", what);

    /* another geometry: V held, all recomputed */
    float *shorter = conv_same(&tshort, &twb, &reuse);
    float *short_fresh = conv_same(&tshort, &twb, NULL);
    snprintf(what, sizeof what, "winograd F(%dx%d,3x3) V of another size", m, m);
    assert_same(what, shorter, short_fresh, OB * (plane - 2 * W));
    ck_assert_int_eq(reuse.h, H - 2);

    /* banded: V neither used nor kept */
    kept_limit = test_ctx->scratch_limit;
    test_ctx->scratch_limit = hs_winograd_scratch_bytes(test_ctx, m, C, OB, W, 1);
    hs_conv_reuse before = reuse;
    reuse.channels = X; /* wrong again, but never read */
    float *banded = conv_same(&tother, &twb, &reuse);
    double *right_d = to_doubles(right, OB * plane);
    snprintf(what, sizeof what, "winograd F(%dx%d,3x3) banded", m, m);
    assert_close(with_gemm(what), banded, right_d, OB * plane, 1e-6);
    ck_assert_int_eq(reuse.channels, X);
    ck_assert_int_eq(reuse.h, before.h);

    hs_pool_give(test_ctx, reuse.v, reuse.bytes);
    free(cat); free(other); free(wa); free(wb); free(on_x); free(xin); free(xwa); free(want);
    free(extended); free(fresh); free(stale); free(right); free(shorter); free(short_fresh);
    free(banded); free(right_d);
    hs_tensor_free(&tx); hs_tensor_free(&tcat); hs_tensor_free(&tother); hs_tensor_free(&tshort);
    hs_tensor_free(&twa); hs_tensor_free(&twb);
}
END_TEST

/* din (1, ic, h, w) of the conv of conv_same, from dout; downloaded. */
static float *backward_same(const hs_tensor *dout, const hs_tensor *in, const hs_tensor *wt)
{
    hs_tensor din = poisoned(1, in->c, in->h, in->w);
    HS_CHECK(hs_conv2d_backward_input(&din, 0, NULL, dout, in, wt, (hs_conv_params){1, 1, 1}));
    float *got = download(&din);
    hs_tensor_free(&din);
    return got;
}

/* Frozen weights (hs_weights_freeze): forward and backward-input give what
 * they give unfrozen, bit for bit, on first and later calls and as the tile
 * side changes back and forth; our GEMM kernel's U is kept for both
 * directions (CLBlast's path keeps none). Giving the buffer back forgets its
 * U, so new weights in a buffer that may be the same one give their own
 * result; and with no room in the cache, or on the device, nothing is kept
 * and the results are the same. */
START_TEST(winograd_frozen)
{
    enum { C = 5, O = 7, H = 9, W = 11 };
    test_setup();
    test_use_gemm(_i);
    int own = 0;
    HS_CHECK(hs_gemm_choose(test_ctx, &own));
    size_t plane = (size_t)H * W, nw = (size_t)O * C * 9;
    float *in = host_floats(C * plane), *wt = host_floats(nw), *dout = host_floats(O * plane);
    fill_random(in, C * plane, 51, -1, 1);
    fill_random(wt, nw, 52, -0.5f, 0.5f);
    fill_random(dout, O * plane, 53, -1, 1);
    hs_tensor tin = upload(in, 1, C, H, W), tw = upload(wt, O, C, 3, 3);
    hs_tensor tdout = upload(dout, 1, O, H, W);
    const hs_conv_algorithm tiles[ALGORITHMS] = {HS_CONV_WINOGRAD2, HS_CONV_WINOGRAD4};
    float *fwd[ALGORITHMS], *bwd[ALGORITHMS];
    for (int k = 0; k < ALGORITHMS; k++) {
        test_ctx->conv_force = tiles[k];
        fwd[k] = conv_same(&tin, &tw, NULL);
        bwd[k] = backward_same(&tdout, &tin, &tw);
    }

    size_t held = test_ctx->frozen_bytes;
    HS_CHECK(hs_weights_freeze(test_ctx, tw.buf));
    for (int call = 0; call < 6; call++) { /* F(2×2) twice, F(4×4) twice, F(2×2) twice */
        int k = call / 2 % 2;
        test_ctx->conv_force = tiles[k];
        float *f = conv_same(&tin, &tw, NULL), *b = backward_same(&tdout, &tin, &tw);
        assert_same("winograd forward on frozen weights", f, fwd[k], O * plane);
        assert_same("winograd backward input on frozen weights", b, bwd[k], C * plane);
        free(f);
        free(b);
    }
    if (own)
        ck_assert_uint_eq(test_ctx->frozen_bytes,
                          held + hs_winograd_weights_bytes(test_ctx, 2, C, O) +
                              hs_winograd_weights_bytes(test_ctx, 2, O, C));
    hs_tensor_free(&tw); /* given back: U forgotten */
    ck_assert_uint_eq(test_ctx->frozen_bytes, held);

    fill_random(wt, nw, 54, -0.5f, 0.5f);
    tw = upload(wt, O, C, 3, 3);
    wino_case ref_case = {1, C, H, W, O, 1, 0, 0, 0};
    double *xin = to_doubles(in, C * plane), *xw = to_doubles(wt, nw);
    double *want = host_doubles(O * plane);
    conv3x3_ref(&ref_case, xin, xw, NULL, want);
    test_ctx->conv_force = tiles[0];
    float *renewed = conv_same(&tin, &tw, NULL);
    assert_close(with_gemm("winograd forward on new weights in a given-back buffer"), renewed,
                 want, O * plane, 1e-5);

    kept_cache_limit = test_ctx->weight_cache_limit;
    test_ctx->weight_cache_limit = 0;
    HS_CHECK(hs_weights_freeze(test_ctx, tw.buf));
    float *uncached = conv_same(&tin, &tw, NULL);
    assert_same("winograd forward on frozen weights, no room to keep U", uncached, renewed,
                O * plane);
    ck_assert_uint_eq(test_ctx->frozen_bytes, held);

    test_ctx->weight_cache_limit = kept_cache_limit;
    kept_mem_limit = test_ctx->mem_limit;
    mem_limit_changed = 1;
    hs_tensor crowded_out = poisoned(1, O, H, W);
    test_ctx->mem_limit = test_ctx->mem_in_use + 1; /* no room for U, the pool let go */
    HS_CHECK(hs_conv2d_forward_into(&crowded_out, 0, &tin, &tw, NULL, (hs_conv_params){1, 1, 1},
                                    NULL, NULL, NULL));
    test_ctx->mem_limit = kept_mem_limit;
    float *crowded = download(&crowded_out);
    assert_same("winograd forward on frozen weights, no room on the device", crowded, renewed,
                O * plane);
    ck_assert_uint_eq(test_ctx->frozen_bytes, held);

    for (int k = 0; k < ALGORITHMS; k++) {
        free(fwd[k]);
        free(bwd[k]);
    }
    free(in); free(wt); free(dout); free(xin); free(xw); free(want); free(renewed);
    free(uncached); free(crowded);
    hs_tensor_free(&tin); hs_tensor_free(&tw); hs_tensor_free(&tdout); hs_tensor_free(&crowded_out);
}
END_TEST

void add_winograd_tests(Suite *s)
{
    TCase *tc = tcase_create("winograd");
    tcase_set_tags(tc, "winograd"); /* oclgrind runs them apart (tests/meson.build) */
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, winograd_forward, 0, CASES * ALGORITHMS * TEST_GEMMS);
    tcase_add_loop_test(tc, winograd_backward_input, 0, CASES * ALGORITHMS * TEST_GEMMS);
    tcase_add_loop_test(tc, winograd_reuse, 0, ALGORITHMS * TEST_GEMMS);
    tcase_add_loop_test(tc, winograd_frozen, 0, TEST_GEMMS);
    suite_add_tcase(s, tc);
}
