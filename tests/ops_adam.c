/* ops_adam.c — five Adam steps against a double-precision reference, from
 * zero moments (as an optimisation starts) and from arbitrary ones. */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct shape { int n, c, h, w; } shape;
static const shape shapes[] = {{1, 1, 1, 1}, {1, 3, 5, 7}, {2, 5, 13, 11}};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

static const hs_adam_params params = {0.05f, 0.9f, 0.999f, 1e-8f, 0};

/* One step of the header's formula, in double. */
static void adam_ref(double *x, const float *g, double *m, double *v, size_t n, int t)
{
    double b1 = params.beta1, b2 = params.beta2;
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * (double)g[i] * g[i];
        double mhat = m[i] / (1 - pow(b1, t)), vhat = v[i] / (1 - pow(b2, t));
        x[i] -= params.lr * mhat / (sqrt(vhat) + params.eps);
    }
}

static void check_tensor(const char *what, int t, const hs_tensor *got, const double *want)
{
    size_t n = hs_tensor_count(got);
    float *host = download(got);
    char name[64];
    snprintf(name, sizeof name, "adam %s after step %d", what, t);
    assert_close(name, host, want, n, 2e-6);
    free(host);
}

/* _i = shape index * 2 + (moments start at zero ? 0 : 1) */
START_TEST(adam_steps)
{
    test_setup();
    shape s = shapes[_i / 2];
    int zero_start = _i % 2 == 0;
    size_t n = (size_t)s.n * s.c * s.h * s.w;
    float *x = host_floats(n), *g = host_floats(n), *m = host_floats(n), *v = host_floats(n);
    fill_random(x, n, 101 + _i, -0.1f, 0.1f); /* small: errors show against the updates */
    fill_random(m, n, 111 + _i, -0.5f, 0.5f);
    fill_random(v, n, 121 + _i, 0, 0.3f);
    if (zero_start) {
        memset(m, 0, n * sizeof *m);
        memset(v, 0, n * sizeof *v);
    }
    hs_tensor tx = upload(x, s.n, s.c, s.h, s.w), tg = upload(NULL, s.n, s.c, s.h, s.w);
    hs_tensor tm = upload(m, s.n, s.c, s.h, s.w), tv = upload(v, s.n, s.c, s.h, s.w);
    double *rx = to_doubles(x, n), *rm = to_doubles(m, n), *rv = to_doubles(v, n);

    for (int t = 1; t <= 5; t++) {
        fill_random(g, n, 131 + 10 * _i + t, -1, 1);
        if (t == 1) g[0] = 0; /* with zero moments: an update of 0 / (0 + eps) */
        HS_CHECK(hs_tensor_write(&tg, g));
        hs_adam_params p = params;
        p.step = t;
        HS_CHECK(hs_adam_step(&tx, &tg, &tm, &tv, p));
        adam_ref(rx, g, rm, rv, n, t);
        check_tensor("param", t, &tx, rx);
        check_tensor("m", t, &tm, rm);
        check_tensor("v", t, &tv, rv);
    }
    free(x); free(g); free(m); free(v); free(rx); free(rm); free(rv);
    hs_tensor_free(&tx); hs_tensor_free(&tg); hs_tensor_free(&tm); hs_tensor_free(&tv);
}
END_TEST

void add_adam_tests(Suite *s)
{
    TCase *tc = tcase_create("adam");
    tcase_add_loop_test(tc, adam_steps, 0, 2 * SHAPE_COUNT);
    suite_add_tcase(s, tc);
}
