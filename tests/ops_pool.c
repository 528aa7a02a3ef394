/* ops_pool.c — max and average pooling, forward and backward, against a
 * double-precision C reference; backward passes also against finite
 * differences, and max pooling's tie rule on inputs full of ties. */
#include "engine.h"
#include "harness.h"

#include <stdlib.h>

typedef struct pool_case {
    int n, c, h, w;
    hs_pool_params p;
    int small; /* also run under oclgrind */
} pool_case;

static const pool_case cases[] = {
    {1, 1, 1, 1, {1, 1, 0, 0}, 1},    /* 1×1 input, 1×1 window */
    {1, 3, 2, 2, {2, 2, 0, 0}, 1},    /* 1×1 output */
    {2, 3, 13, 11, {2, 2, 0, 0}, 1},  /* VGG 2×2/2, odd input: last row and column dropped */
    {2, 3, 9, 7, {3, 2, 1, 0}, 1},    /* ResNet 3×3/2 pad 1, odd input */
    {1, 3, 9, 7, {3, 2, 1, 1}, 1},    /* ... with padding counted in the average */
    {1, 3, 8, 10, {3, 1, 1, 0}, 1},   /* overlapping windows, stride 1 */
    {1, 2, 7, 9, {2, 3, 0, 0}, 1},    /* stride > window: uncovered cells */
    {1, 1, 3, 3, {3, 1, 2, 1}, 1},    /* padding k-1: corner windows hold one cell */
    {2, 2, 10, 12, {4, 3, 2, 0}, 1},  /* 4×4/3 pad 2: overlaps of one row, rows in 1-2 windows */
    {1, 7, 33, 65, {2, 2, 0, 0}, 0},
    {2, 13, 33, 65, {3, 2, 1, 0}, 0},
    {1, 64, 112, 112, {3, 2, 1, 0}, 0}, /* ResNet50 pool1 */
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static int out_size(int in, hs_pool_params p) { return (in + 2 * p.pad - p.k) / p.stride + 1; }
static size_t in_count(const pool_case *c) { return (size_t)c->n * c->c * c->h * c->w; }
static size_t out_count(const pool_case *c)
{
    return (size_t)c->n * c->c * out_size(c->h, c->p) * out_size(c->w, c->p);
}

/* The position of output element o: its plane (n*C + c) and row, column. */
static void out_position(const pool_case *c, size_t o, int *plane, int *oy, int *ox)
{
    int oh = out_size(c->h, c->p), ow = out_size(c->w, c->p);
    *ox = (int)(o % ow);
    *oy = (int)(o / ow % oh);
    *plane = (int)(o / ow / oh);
}

/* The input indices of the real (unpadded) cells of output o's window, in
 * row-major scan order; returns how many. */
#define MAX_CELLS 64
static int window_cells(const pool_case *c, size_t o, size_t cells[MAX_CELLS])
{
    int plane, oy, ox, count = 0;
    out_position(c, o, &plane, &oy, &ox);
    ck_assert_int_le(c->p.k * c->p.k, MAX_CELLS);
    for (int ky = 0; ky < c->p.k; ky++)
        for (int kx = 0; kx < c->p.k; kx++) {
            int iy = oy * c->p.stride - c->p.pad + ky, ix = ox * c->p.stride - c->p.pad + kx;
            if (iy >= 0 && iy < c->h && ix >= 0 && ix < c->w)
                cells[count++] = ((size_t)plane * c->h + iy) * c->w + ix;
        }
    return count;
}

/* The input index of the max of output o's window: the first one on ties. */
static size_t max_index(const pool_case *c, const double *in, size_t o)
{
    size_t cells[MAX_CELLS];
    int count = window_cells(c, o, cells);
    size_t best = cells[0];
    for (int i = 1; i < count; i++)
        if (in[cells[i]] > in[best]) best = cells[i];
    return best;
}

static void maxpool_ref(const double *in, double *out, const void *params)
{
    const pool_case *c = params;
    for (size_t o = 0; o < out_count(c); o++) out[o] = in[max_index(c, in, o)];
}

/* backward of out[o] = in[max_index(c, in, o)] */
static void maxpool_ref_backward(const pool_case *c, const double *in, const double *dout,
                                 double *din)
{
    for (size_t o = 0; o < out_count(c); o++) din[max_index(c, in, o)] += dout[o];
}

static void avgpool_ref(const double *in, double *out, const void *params)
{
    const pool_case *c = params;
    size_t cells[MAX_CELLS];
    for (size_t o = 0; o < out_count(c); o++) {
        int count = window_cells(c, o, cells);
        double s = 0;
        for (int i = 0; i < count; i++) s += in[cells[i]];
        out[o] = s / (c->p.count_pad ? c->p.k * c->p.k : count);
    }
}

/* backward of out[o] = s / (c->p.count_pad ? c->p.k * c->p.k : count) */
static void avgpool_ref_backward(const pool_case *c, const double *dout, double *din)
{
    size_t cells[MAX_CELLS];
    for (size_t o = 0; o < out_count(c); o++) {
        int count = window_cells(c, o, cells);
        for (int i = 0; i < count; i++)
            din[cells[i]] += dout[o] / (c->p.count_pad ? c->p.k * c->p.k : count);
    }
}

/* Distinct values in [-1, 1) in random order (a shuffled ramp), so that no
 * window has a tie and finite differences with a small step stay valid. */
static void fill_distinct(float *x, size_t n, unsigned seed)
{
    float *r = host_floats(n);
    fill_random(r, n, seed, 0, 1);
    for (size_t i = 0; i < n; i++) x[i] = -1.0f + 2.0f * (float)i / (float)n;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(r[i - 1] * (float)i);
        if (j >= i) j = i - 1;
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
    free(r);
}

/* Negative values from {-3, -2, -1} only: windows full of ties, and a padded
 * zero would win if padding took part. */
static void fill_ties(float *x, size_t n, unsigned seed)
{
    fill_random(x, n, seed, 0, 3);
    for (size_t i = 0; i < n; i++) x[i] = -1.0f - (float)(int)x[i];
}

static int skip_case(const pool_case *c) { return test_small_only() && !c->small; }

/* hs_maxpool_backward_input added to a gradient of random values and gated
 * by the input's sign (a LeakyReLU of slope 0.25), and gated alone (ReLU):
 * din, the gradient alone, made that way. */
static void check_gated(const pool_case *c, const hs_tensor *in, const hs_tensor *dout,
                        const double *x, const double *din)
{
    size_t n = in_count(c);
    float *prior = host_floats(n);
    fill_random(prior, n, 7, -1, 1);
    double *want = host_doubles(n);
    for (int add = 0; add < 2; add++) {
        hs_activation gate = {add ? 0.25f : 0.0f};
        hs_tensor sum = add ? upload(prior, c->n, c->c, c->h, c->w)
                            : poisoned(c->n, c->c, c->h, c->w);
        HS_CHECK(hs_maxpool_backward_input(&sum, add, &gate, dout, in, c->p));
        for (size_t i = 0; i < n; i++) {
            double v = din[i] + (add ? prior[i] : 0.0);
            want[i] = x[i] > 0 ? v : gate.slope * v;
        }
        float *got = download(&sum);
        assert_close(add ? "maxpool backward added to a part, through a LeakyReLU"
                         : "maxpool backward through a ReLU",
                     got, want, n, 1e-6);
        free(got);
        hs_tensor_free(&sum);
    }
    free(prior);
    free(want);
}

/* Runs max pooling forward and backward on `in`; checks against the
 * reference, and against finite differences when fd is set. */
static void check_maxpool(const pool_case *c, const float *in, const float *dout, int fd)
{
    size_t nin = in_count(c), nout = out_count(c);
    int oh = out_size(c->h, c->p), ow = out_size(c->w, c->p);
    hs_tensor tin = upload(in, c->n, c->c, c->h, c->w), tdout = upload(dout, c->n, c->c, oh, ow);
    hs_tensor tout = poisoned(c->n, c->c, oh, ow), tdin = poisoned(c->n, c->c, c->h, c->w);
    HS_CHECK(hs_maxpool_forward(&tout, &tin, c->p));
    HS_CHECK(hs_maxpool_backward(&tdin, &tdout, &tin, c->p));
    float *got = download(&tout), *gdin = download(&tdin);

    double *x = to_doubles(in, nin), *r = to_doubles(dout, nout);
    double *want = host_doubles(nout), *want_din = host_doubles(nin);
    maxpool_ref(x, want, c);
    maxpool_ref_backward(c, x, r, want_din);
    assert_close("maxpool forward", got, want, nout, 0);
    assert_close("maxpool backward", gdin, want_din, nin, 1e-6);
    check_gated(c, &tin, &tdout, x, want_din);
    if (fd) {
        double *grad = host_doubles(nin);
        finite_difference(maxpool_ref, c, x, nin, r, nout, 1e-5, grad);
        assert_close("maxpool backward vs finite differences", gdin, grad, nin, 1e-6);
        free(grad);
    }
    free(got); free(gdin); free(x); free(r); free(want); free(want_din);
    hs_tensor_free(&tin); hs_tensor_free(&tdout); hs_tensor_free(&tout); hs_tensor_free(&tdin);
}

START_TEST(maxpool)
{
    test_setup();
    const pool_case *c = &cases[_i];
    if (skip_case(c)) return;
    float *in = host_floats(in_count(c)), *dout = host_floats(out_count(c));
    fill_distinct(in, in_count(c), 1 + _i);
    fill_random(dout, out_count(c), 100 + _i, -1, 1);
    check_maxpool(c, in, dout, c->small);
    free(in);
    free(dout);
}
END_TEST

START_TEST(maxpool_ties)
{
    test_setup();
    const pool_case *c = &cases[_i];
    if (skip_case(c)) return;
    float *in = host_floats(in_count(c)), *dout = host_floats(out_count(c));
    fill_ties(in, in_count(c), 200 + _i);
    fill_random(dout, out_count(c), 300 + _i, -1, 1);
    check_maxpool(c, in, dout, 0);
    free(in);
    free(dout);
}
END_TEST

START_TEST(avgpool)
{
    test_setup();
    const pool_case *c = &cases[_i];
    if (skip_case(c)) return;
    size_t nin = in_count(c), nout = out_count(c);
    int oh = out_size(c->h, c->p), ow = out_size(c->w, c->p);
    float *in = host_floats(nin), *dout = host_floats(nout);
    fill_random(in, nin, 400 + _i, -1, 1);
    fill_random(dout, nout, 500 + _i, -1, 1);
    hs_tensor tin = upload(in, c->n, c->c, c->h, c->w), tdout = upload(dout, c->n, c->c, oh, ow);
    hs_tensor tout = poisoned(c->n, c->c, oh, ow), tdin = poisoned(c->n, c->c, c->h, c->w);
    HS_CHECK(hs_avgpool_forward(&tout, &tin, c->p));
    HS_CHECK(hs_avgpool_backward(&tdin, &tdout, c->p));
    float *got = download(&tout), *gdin = download(&tdin);

    double *x = to_doubles(in, nin), *r = to_doubles(dout, nout);
    double *want = host_doubles(nout), *want_din = host_doubles(nin);
    avgpool_ref(x, want, c);
    avgpool_ref_backward(c, r, want_din);
    assert_close("avgpool forward", got, want, nout, 1e-6);
    assert_close("avgpool backward", gdin, want_din, nin, 1e-6);
    if (c->small) {
        double *grad = host_doubles(nin);
        finite_difference(avgpool_ref, c, x, nin, r, nout, 1e-3, grad);
        assert_close("avgpool backward vs finite differences", gdin, grad, nin, 1e-6);
        free(grad);
    }
    free(in); free(dout); free(got); free(gdin); free(x); free(r); free(want); free(want_din);
    hs_tensor_free(&tin); hs_tensor_free(&tdout); hs_tensor_free(&tout); hs_tensor_free(&tdin);
}
END_TEST

/* A window that could lie wholly in the padding, or no window at all, is refused. */
START_TEST(pool_rejects_bad_params)
{
    test_setup();
    hs_tensor in = upload(NULL, 1, 1, 4, 4), out = upload(NULL, 1, 1, 3, 3);
    ck_assert_int_eq(hs_maxpool_forward(&out, &in, (hs_pool_params){2, 2, 2, 0}), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_avgpool_forward(&out, &in, (hs_pool_params){5, 1, 0, 0}), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_maxpool_forward(&out, &in, (hs_pool_params){2, 2, 0, 0}), HS_ERR_INTERNAL);
    hs_tensor_free(&in);
    hs_tensor_free(&out);
}
END_TEST

void add_pool_tests(Suite *s)
{
    TCase *tc = tcase_create("pool");
    tcase_add_loop_test(tc, maxpool, 0, CASE_COUNT);
    tcase_add_loop_test(tc, maxpool_ties, 0, CASE_COUNT);
    tcase_add_loop_test(tc, avgpool, 0, CASE_COUNT);
    tcase_add_test(tc, pool_rejects_bad_params);
    suite_add_tcase(s, tc);
}
