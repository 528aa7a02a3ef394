/* ops_loss.c — MSE, L1 and total variation losses against double-precision
 * references; their backward passes against a reference gradient and
 * against finite differences of the reference loss. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct shape { int n, c, h, w, small; } shape;
/* 1 element; a single row and a single column (TV has one direction only);
 * odd; batch 2 with channels % 4 != 0; larger than several work-groups. */
static const shape shapes[] = {
    {1, 1, 1, 1, 1}, {1, 1, 1, 9, 1}, {1, 2, 6, 1, 1}, {1, 3, 5, 7, 1},
    {2, 5, 13, 11, 1}, {1, 7, 33, 65, 0},
};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

static size_t count(const shape *s) { return (size_t)s->n * s->c * s->h * s->w; }

typedef struct loss_params { shape s; double scale; const double *b; } loss_params;

/* y[0] = scale * sum((x - b)^2) */
static void mse_ref(const double *x, double *y, const void *params)
{
    const loss_params *p = params;
    double sum = 0;
    for (size_t i = 0; i < count(&p->s); i++) sum += (x[i] - p->b[i]) * (x[i] - p->b[i]);
    y[0] = p->scale * sum;
}

/* y[0] = scale * sum(|x - b|) */
static void l1_ref(const double *x, double *y, const void *params)
{
    const loss_params *p = params;
    double sum = 0;
    for (size_t i = 0; i < count(&p->s); i++) sum += fabs(x[i] - p->b[i]);
    y[0] = p->scale * sum;
}

/* y[0] = scale * sum of squared right and down differences, per plane */
static void tv_ref(const double *x, double *y, const void *params)
{
    const loss_params *p = params;
    int h = p->s.h, w = p->s.w;
    double sum = 0;
    for (int plane = 0; plane < p->s.n * p->s.c; plane++)
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                const double *v = x + ((size_t)plane * h + r) * w + c;
                if (c + 1 < w) sum += (v[1] - v[0]) * (v[1] - v[0]);
                if (r + 1 < h) sum += (v[w] - v[0]) * (v[w] - v[0]);
            }
    y[0] = p->scale * sum;
}

/* Each term d² with d = x[j] - x[i] adds 2*scale*d to dx[j] and takes it from dx[i]. */
static void tv_ref_backward(const loss_params *p, const double *x, double *dx)
{
    int h = p->s.h, w = p->s.w;
    for (int plane = 0; plane < p->s.n * p->s.c; plane++)
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                size_t i = ((size_t)plane * h + r) * w + c;
                if (c + 1 < w) {
                    dx[i + 1] += 2 * p->scale * (x[i + 1] - x[i]);
                    dx[i] -= 2 * p->scale * (x[i + 1] - x[i]);
                }
                if (r + 1 < h) {
                    dx[i + w] += 2 * p->scale * (x[i + w] - x[i]);
                    dx[i] -= 2 * p->scale * (x[i + w] - x[i]);
                }
            }
}

static float read_loss(const hs_tensor *loss)
{
    float v;
    HS_CHECK(hs_read_scalar(loss, &v));
    return v;
}

/* The device gradient against the reference one and finite differences. */
static void check_gradient(const char *what, const shape *s, const float *got, const double *want,
                           ref_forward f, const loss_params *p, const double *x)
{
    size_t n = count(s);
    assert_close(what, got, want, n, 1e-6);
    if (!s->small) return; /* finite differences cost n forward passes */
    double one = 1.0, *fd = host_doubles(n);
    finite_difference(f, p, x, n, &one, 1, 1e-3, fd);
    char fd_what[80];
    snprintf(fd_what, sizeof fd_what, "%s vs finite differences", what);
    assert_close(fd_what, got, fd, n, 1e-6);
    free(fd);
}

START_TEST(mse)
{
    test_setup();
    const shape *s = &shapes[_i];
    if (test_small_only() && !s->small) return;
    size_t n = count(s);
    float *a = host_floats(n), *b = host_floats(n);
    fill_random(a, n, 41 + _i, -1, 1);
    fill_random(b, n, 51 + _i, -1, 1);
    hs_tensor ta = upload(a, s->n, s->c, s->h, s->w), tb = upload(b, s->n, s->c, s->h, s->w);
    hs_tensor loss = poisoned(1, 1, 1, 1), da = poisoned(s->n, s->c, s->h, s->w);
    float scale = 1.0f / (float)n;
    HS_CHECK(hs_mse_loss(&loss, &ta, &tb, scale));
    HS_CHECK(hs_mse_backward(&da, &ta, &tb, scale));
    float got = read_loss(&loss), *gda = download(&da);

    double *xa = to_doubles(a, n), *xb = to_doubles(b, n), want, *want_da = host_doubles(n);
    loss_params p = {*s, scale, xb};
    mse_ref(xa, &want, &p);
    assert_close("mse loss", &got, &want, 1, 1e-6);
    for (size_t i = 0; i < n; i++) want_da[i] = 2.0 * scale * (xa[i] - xb[i]);
    check_gradient("mse backward", s, gda, want_da, mse_ref, &p, xa);

    free(a); free(b); free(gda); free(xa); free(xb); free(want_da);
    hs_tensor_free(&ta); hs_tensor_free(&tb); hs_tensor_free(&loss); hs_tensor_free(&da);
}
END_TEST

/* b = a + d with |d| in [0.05, 1): no element near the kink of |a - b|, so
 * finite differences do not straddle it; one element equal (gradient 0). */
START_TEST(l1)
{
    test_setup();
    const shape *s = &shapes[_i];
    if (test_small_only() && !s->small) return;
    size_t n = count(s);
    float *a = host_floats(n), *b = host_floats(n);
    fill_random(a, n, 71 + _i, -1, 1);
    fill_random_away_from_zero(b, n, 81 + _i, 0.05f);
    for (size_t i = 0; i < n; i++) b[i] += a[i];
    b[n / 2] = a[n / 2];
    hs_tensor ta = upload(a, s->n, s->c, s->h, s->w), tb = upload(b, s->n, s->c, s->h, s->w);
    hs_tensor loss = poisoned(1, 1, 1, 1), da = poisoned(s->n, s->c, s->h, s->w);
    float scale = 1.0f / (float)n;
    HS_CHECK(hs_l1_loss(&loss, &ta, &tb, scale));
    HS_CHECK(hs_l1_backward(&da, &ta, &tb, scale));
    float got = read_loss(&loss), *gda = download(&da);

    double *xa = to_doubles(a, n), *xb = to_doubles(b, n), want, *want_da = host_doubles(n);
    loss_params p = {*s, scale, xb};
    l1_ref(xa, &want, &p);
    assert_close("l1 loss", &got, &want, 1, 1e-6);
    for (size_t i = 0; i < n; i++)
        want_da[i] = xa[i] > xb[i] ? scale : (xa[i] < xb[i] ? -(double)scale : 0.0);
    assert_close("l1 backward", gda, want_da, n, 1e-6);
    if (s->small && n > 1) { /* finite differences, the tie excluded (no derivative there) */
        double one = 1.0, *fd = host_doubles(n);
        finite_difference(l1_ref, &p, xa, n, &one, 1, 1e-3, fd);
        fd[n / 2] = 0.0;
        assert_close("l1 backward vs finite differences", gda, fd, n, 1e-6);
        free(fd);
    }

    free(a); free(b); free(gda); free(xa); free(xb); free(want_da);
    hs_tensor_free(&ta); hs_tensor_free(&tb); hs_tensor_free(&loss); hs_tensor_free(&da);
}
END_TEST

START_TEST(tv)
{
    test_setup();
    const shape *s = &shapes[_i];
    if (test_small_only() && !s->small) return;
    size_t n = count(s);
    float *x = host_floats(n);
    fill_random(x, n, 61 + _i, -1, 1);
    hs_tensor tx = upload(x, s->n, s->c, s->h, s->w);
    hs_tensor loss = poisoned(1, 1, 1, 1), dx = poisoned(s->n, s->c, s->h, s->w);
    float scale = 0.75f / (float)n;
    HS_CHECK(hs_tv_loss(&loss, &tx, scale));
    HS_CHECK(hs_tv_backward(&dx, &tx, scale));
    float got = read_loss(&loss), *gdx = download(&dx);

    double *xd = to_doubles(x, n), want, *want_dx = host_doubles(n);
    loss_params p = {*s, scale, NULL};
    tv_ref(xd, &want, &p);
    assert_close("tv loss", &got, &want, 1, 1e-6);
    tv_ref_backward(&p, xd, want_dx);
    check_gradient("tv backward", s, gdx, want_dx, tv_ref, &p, xd);

    free(x); free(gdx); free(xd); free(want_dx);
    hs_tensor_free(&tx); hs_tensor_free(&loss); hs_tensor_free(&dx);
}
END_TEST

void add_loss_tests(Suite *s)
{
    TCase *tc = tcase_create("loss");
    tcase_add_loop_test(tc, mse, 0, SHAPE_COUNT);
    tcase_add_loop_test(tc, l1, 0, SHAPE_COUNT);
    tcase_add_loop_test(tc, tv, 0, SHAPE_COUNT);
    suite_add_tcase(s, tc);
}
