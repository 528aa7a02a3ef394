/* harness.c — shared helpers of the op tests (see harness.h). */
#include "harness.h"

#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hs_context *test_ctx;

int test_small_only(void)
{
    const char *s = getenv("HIRESTYLE_TEST_SMALL");
    return s && *s && strcmp(s, "0") != 0;
}

void test_setup(void)
{
    if (test_ctx) return;
    hs_context_options opts = {getenv("HIRESTYLE_TEST_DEVICE"), HS_DEVICE_ANY, 0};
    hs_status st = hs_context_create(&opts, &test_ctx);
    ck_assert_msg(st == HS_OK, "cannot create an OpenCL context: %s", hs_last_error());
    /* The op tests' ranges are short: those past 4 groups run folded
     * (hs_launch), so each kernel that folds is checked folded too. */
    test_ctx->fold_width = 4 * 256;
}

void test_teardown(void)
{
    /* Kept for the process: building kernels per test would be slow. */
}

static const char *const gemm_names[TEST_GEMMS] = {"own", "clblast"};
static const char *current_gemm = "default";

const char *test_use_gemm(int which)
{
    current_gemm = gemm_names[which % TEST_GEMMS];
    setenv("HIRESTYLE_GEMM", current_gemm, 1);
    return current_gemm;
}

void test_default_gemm(void)
{
    unsetenv("HIRESTYLE_GEMM");
    current_gemm = "default";
}

const char *with_gemm(const char *what)
{
    static char texts[4][160];
    static int next;
    char *out = texts[next++ % 4];
    snprintf(out, sizeof texts[0], "%s (GEMM: %s)", what, current_gemm);
    return out;
}

/* xorshift32: small, reproducible across platforms. */
static unsigned next_random(unsigned *state)
{
    unsigned x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

void fill_random(float *x, size_t n, unsigned seed, float lo, float hi)
{
    unsigned state = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)((next_random(&state) >> 8) / 16777216.0);
}

void fill_random_away_from_zero(float *x, size_t n, unsigned seed, float gap)
{
    fill_random(x, n, seed, -1.0f, 1.0f);
    for (size_t i = 0; i < n; i++) x[i] = x[i] < 0 ? x[i] - gap : x[i] + gap;
}

float *host_floats(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

double *host_doubles(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

double *to_doubles(const float *x, size_t n)
{
    double *d = host_doubles(n);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

hs_tensor upload(const float *host, int n, int c, int h, int w)
{
    hs_tensor t;
    HS_CHECK(hs_tensor_alloc(test_ctx, &t, n, c, h, w));
    if (host) HS_CHECK(hs_tensor_write(&t, host));
    return t;
}

float *download(const hs_tensor *t)
{
    float *host = host_floats(hs_tensor_count(t));
    HS_CHECK(hs_tensor_read(t, host));
    return host;
}

hs_tensor poisoned(int n, int c, int h, int w)
{
    hs_tensor t = upload(NULL, n, c, h, w);
    HS_CHECK(hs_tensor_fill(&t, NAN));
    return t;
}

void check_conv_backward_input(const char *what, const hs_tensor *dout, const hs_tensor *in,
                               const hs_tensor *weight, hs_conv_params p, const double *want,
                               unsigned seed, double tol)
{
    static const struct { int add, gated; float slope; const char *how; } ways[] = {
        {1, 0, 0.0f, "added to a part"},
        {0, 1, 0.0f, "through a ReLU"},
        {1, 1, 0.25f, "added to a part, through a LeakyReLU"},
    };
    size_t n = hs_tensor_count(in);
    float *prior = host_floats(n), *x = download(in);
    fill_random(prior, n, seed, -1, 1);
    double *expect = host_doubles(n);
    /* under oclgrind the last way alone: it reads and writes all the others do */
    for (size_t w = test_small_only() ? 2 : 0; w < sizeof ways / sizeof ways[0]; w++) {
        hs_tensor sum = ways[w].add ? upload(prior, in->n, in->c, in->h, in->w)
                                    : poisoned(in->n, in->c, in->h, in->w);
        hs_activation gate = {ways[w].slope};
        HS_CHECK(hs_conv2d_backward_input(&sum, ways[w].add, ways[w].gated ? &gate : NULL, dout,
                                          in, weight, p));
        float *got = download(&sum);
        for (size_t i = 0; i < n; i++) {
            double v = want[i] + (ways[w].add ? prior[i] : 0.0);
            expect[i] = ways[w].gated && !(x[i] > 0.0f) ? ways[w].slope * v : v;
        }
        char text[200];
        snprintf(text, sizeof text, "%s, %s", what, ways[w].how);
        assert_close(text, got, expect, n, tol);
        free(got);
        hs_tensor_free(&sum);
    }
    free(prior);
    free(x);
    free(expect);
}

double max_rel_error(const float *got, const double *want, size_t n)
{
    double scale = 1e-6, worst = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(want[i]) > scale) scale = fabs(want[i]);
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (isnan(got[i]) || isnan(e)) return INFINITY;
        if (e > worst) worst = e;
    }
    return worst / scale;
}

void assert_close(const char *what, const float *got, const double *want, size_t n, double tol)
{
    double err = max_rel_error(got, want, n);
    ck_assert_msg(err <= tol, "%s: normalised error %.3g exceeds %.3g", what, err, tol);
}

void finite_difference(ref_forward f, const void *params, const double *x, size_t nx,
                       const double *r, size_t ny, double step, double *grad)
{
    double *xp = host_doubles(nx), *y = host_doubles(ny);
    memcpy(xp, x, nx * sizeof *x);
    for (size_t i = 0; i < nx; i++) {
        double keep = xp[i], lplus = 0, lminus = 0;
        xp[i] = keep + step;
        f(xp, y, params);
        for (size_t j = 0; j < ny; j++) lplus += r[j] * y[j];
        xp[i] = keep - step;
        f(xp, y, params);
        for (size_t j = 0; j < ny; j++) lminus += r[j] * y[j];
        xp[i] = keep;
        grad[i] = (lplus - lminus) / (2 * step);
    }
    free(xp);
    free(y);
}
