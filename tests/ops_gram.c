/* ops_gram.c — Gram matrices, forward and backward, against a double-precision
 * reference; the backward also against finite differences; every case
 * through both GEMM implementations (our kernel and CLBlast). */
#include "harness.h"

#include <stdlib.h>

typedef struct gram_case { int n, c, h, w, small; } gram_case;
static const gram_case cases[] = {
    {1, 1, 1, 1, 1},   /* one channel, one pixel */
    {1, 3, 5, 7, 1},   /* odd */
    {2, 3, 5, 7, 1},   /* batch 2 */
    {2, 6, 1, 9, 1},   /* one row, channels % 4 != 0 */
    {1, 64, 13, 11, 0},
    {2, 37, 6, 5, 0},
    {1, 130, 3, 3, 1}, /* C > 128: whole work-groups of the GEMM above the diagonal */
    {1, 40, 200, 171, 0}, /* H*W > 32768: K in two chunks */
};

typedef struct gram_params { const gram_case *c; double scale; } gram_params;

static size_t in_count(const gram_case *c) { return (size_t)c->n * c->c * c->h * c->w; }
static size_t gram_count(const gram_case *c) { return (size_t)c->n * c->c * c->c; }

/* g[b][i][j] = scale * sum over p of x[b][i][p] * x[b][j][p] */
static void gram_ref(const double *x, double *g, const void *params)
{
    const gram_params *p = params;
    int C = p->c->c, plane = p->c->h * p->c->w;
    for (int b = 0; b < p->c->n; b++)
        for (int i = 0; i < C; i++)
            for (int j = 0; j < C; j++) {
                const double *fi = x + ((size_t)b * C + i) * plane;
                const double *fj = x + ((size_t)b * C + j) * plane;
                double s = 0;
                for (int k = 0; k < plane; k++) s += fi[k] * fj[k];
                g[((size_t)b * C + i) * C + j] = p->scale * s;
            }
}

/* The reference forward differentiated term by term (g[i][j] += x[i][k] * x[j][k]):
 * dx[i][k] += scale * dg[i][j] * x[j][k], dx[j][k] += scale * dg[i][j] * x[i][k]. */
static void gram_ref_backward(const gram_params *p, const double *x, const double *dg, double *dx)
{
    int C = p->c->c, plane = p->c->h * p->c->w;
    for (int b = 0; b < p->c->n; b++)
        for (int i = 0; i < C; i++)
            for (int j = 0; j < C; j++) {
                double d = p->scale * dg[((size_t)b * C + i) * C + j];
                size_t fi = ((size_t)b * C + i) * plane, fj = ((size_t)b * C + j) * plane;
                for (int k = 0; k < plane; k++) {
                    dx[fi + k] += d * x[fj + k];
                    dx[fj + k] += d * x[fi + k];
                }
            }
}

static int skip_case(const gram_case *c) { return test_small_only() && !c->small; }

START_TEST(gram_forward)
{
    test_setup();
    int index = _i / TEST_GEMMS;
    const gram_case *c = &cases[index];
    test_use_gemm(_i % TEST_GEMMS);
    if (skip_case(c)) return;
    size_t nin = in_count(c), ng = gram_count(c);
    float *x = host_floats(nin);
    fill_random(x, nin, 71 + index, -1, 1);
    hs_tensor tx = upload(x, c->n, c->c, c->h, c->w), tg = poisoned(c->n, 1, c->c, c->c);
    float scale = 1.0f / (float)(c->c * c->h * c->w);
    HS_CHECK(hs_gram_forward(&tg, &tx, scale));
    float *got = download(&tg);

    double *xd = to_doubles(x, nin), *want = host_doubles(ng);
    gram_params p = {c, scale};
    gram_ref(xd, want, &p);
    assert_close(with_gemm("gram forward"), got, want, ng, 1e-5);
    free(x); free(got); free(xd); free(want);
    hs_tensor_free(&tx); hs_tensor_free(&tg);
}
END_TEST

START_TEST(gram_backward)
{
    test_setup();
    int index = _i / TEST_GEMMS;
    const gram_case *c = &cases[index];
    test_use_gemm(_i % TEST_GEMMS);
    if (skip_case(c)) return;
    size_t nin = in_count(c), ng = gram_count(c);
    float *x = host_floats(nin), *dg = host_floats(ng);
    fill_random(x, nin, 81 + index, -1, 1);
    fill_random(dg, ng, 91 + index, -1, 1); /* not symmetric: dGᵀ matters */
    hs_tensor tx = upload(x, c->n, c->c, c->h, c->w), tdg = upload(dg, c->n, 1, c->c, c->c);
    hs_tensor tdx = poisoned(c->n, c->c, c->h, c->w);
    float scale = 1.0f / (float)(c->c * c->h * c->w);
    HS_CHECK(hs_gram_backward(&tdx, &tdg, &tx, scale));
    float *got = download(&tdx);

    double *xd = to_doubles(x, nin), *r = to_doubles(dg, ng), *want = host_doubles(nin);
    gram_params p = {c, scale};
    gram_ref_backward(&p, xd, r, want);
    assert_close(with_gemm("gram backward"), got, want, nin, 1e-5);
    if (c->small) {
        double *fd = host_doubles(nin);
        finite_difference(gram_ref, &p, xd, nin, r, ng, 1e-3, fd);
        assert_close(with_gemm("gram backward vs finite differences"), got, fd, nin, 1e-5);
        free(fd);
    }
    free(x); free(dg); free(got); free(xd); free(r); free(want);
    hs_tensor_free(&tx); hs_tensor_free(&tdg); hs_tensor_free(&tdx);
}
END_TEST

void add_gram_tests(Suite *s)
{
    TCase *tc = tcase_create("gram");
    tcase_add_checked_fixture(tc, NULL, test_default_gemm);
    int n = (int)(sizeof cases / sizeof cases[0]);
    tcase_add_loop_test(tc, gram_forward, 0, n * TEST_GEMMS);
    tcase_add_loop_test(tc, gram_backward, 0, n * TEST_GEMMS);
    suite_add_tcase(s, tc);
}
