/* ops_reduce.c — sum and dot product against a double-precision reference,
 * and their determinism: the same input must give the same bits twice; the
 * element-wise add that gathers them; and the per-plane sums and dots over
 * windows (channel means, a channel scale's gradient). */
#include "harness.h"
#include "reduce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct reduce_case { int n, small; } reduce_case;
/* Around one work-group (256 on most devices); a prime past the pass-1 launch
 * (every group, items sum one or two elements; under oclgrind too, ~3 s); and
 * 2^20, where every pass-1 item sums a slice of 16 elements or more. */
static const reduce_case cases[] = {
    {1, 1}, {2, 1}, {255, 1}, {256, 1}, {257, 1}, {100003, 1}, {1 << 20, 0},
};

/* A fixed-order float sum of n terms may err by about depth * eps * sum |term|;
 * the tree keeps the depth small, so 1e-6 of sum |term| must hold. */
static void assert_sum_close(const char *what, float got, double want, double magnitude)
{
    double err = fabs((double)got - want) / (magnitude > 0 ? magnitude : 1e-30);
    ck_assert_msg(err <= 1e-6, "%s: error %.3g of sum |term| (got %.9g, want %.9g)", what, err,
                  got, want);
}

/* Runs the op twice into two results; both must hold the same bits. */
static float reduce_twice(const char *what, hs_tensor *a, hs_tensor *b)
{
    float first, second;
    hs_tensor r1 = poisoned(1, 1, 1, 1), r2 = poisoned(1, 1, 1, 1);
    HS_CHECK(b ? hs_dot(&r1, a, b) : hs_sum(&r1, a));
    HS_CHECK(b ? hs_dot(&r2, a, b) : hs_sum(&r2, a));
    HS_CHECK(hs_read_scalar(&r1, &first));
    HS_CHECK(hs_read_scalar(&r2, &second));
    ck_assert_msg(memcmp(&first, &second, sizeof first) == 0,
                  "%s is not deterministic: %.9g then %.9g", what, first, second);
    hs_tensor_free(&r1);
    hs_tensor_free(&r2);
    return first;
}

START_TEST(sum_and_dot)
{
    test_setup();
    const reduce_case *c = &cases[_i];
    if (test_small_only() && !c->small) return;
    float *x = host_floats(c->n), *y = host_floats(c->n);
    fill_random(x, c->n, 11 + _i, -0.5f, 1.5f);
    fill_random(y, c->n, 21 + _i, -1, 1);
    hs_tensor tx = upload(x, 1, 1, 1, c->n), ty = upload(y, 1, 1, 1, c->n);

    double sum = 0, sum_abs = 0, dot = 0, dot_abs = 0;
    for (int i = 0; i < c->n; i++) {
        sum += x[i];
        sum_abs += fabs(x[i]);
        dot += (double)x[i] * y[i];
        dot_abs += fabs((double)x[i] * y[i]);
    }
    assert_sum_close("sum", reduce_twice("sum", &tx, NULL), sum, sum_abs);
    assert_sum_close("dot", reduce_twice("dot", &tx, &ty), dot, dot_abs);

    free(x); free(y);
    hs_tensor_free(&tx); hs_tensor_free(&ty);
}
END_TEST

/* A 4-D tensor reduces over all its elements, batch included. */
START_TEST(sum_of_nchw)
{
    test_setup();
    int n = 2 * 5 * 13 * 11;
    float *x = host_floats(n);
    fill_random(x, n, 31, -1, 1);
    hs_tensor tx = upload(x, 2, 5, 13, 11);
    double sum = 0, sum_abs = 0;
    for (int i = 0; i < n; i++) {
        sum += x[i];
        sum_abs += fabs(x[i]);
    }
    assert_sum_close("sum of (2,5,13,11)", reduce_twice("sum", &tx, NULL), sum, sum_abs);
    free(x);
    hs_tensor_free(&tx);
}
END_TEST

/* hs_add_element adds into one element of a 4-D tensor and leaves the rest. */
START_TEST(add_element)
{
    test_setup();
    int n = 2 * 3 * 1 * 5;
    float *sums = host_floats(n), value = -0.375f;
    fill_random(sums, n, 41, -1, 1);
    hs_tensor tsums = upload(sums, 2, 3, 1, 5), tvalue = upload(&value, 1, 1, 1, 1);
    HS_CHECK(hs_add_element(&tsums, 17, &tvalue));
    HS_CHECK(hs_add_element(&tsums, 17, &tvalue));
    HS_CHECK(hs_add_element(&tsums, n - 1, &tvalue));
    float *got = download(&tsums);
    for (int i = 0; i < n; i++) {
        float want = sums[i] + (i == 17 ? 2 * value : i == n - 1 ? value : 0.0f);
        ck_assert_msg(fabsf(got[i] - want) <= 1e-6f, "element %d: got %.9g, want %.9g", i, got[i],
                      want);
    }
    ck_assert_int_eq(hs_add_element(&tsums, n, &tvalue), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_add_element(&tvalue, 0, &tsums), HS_ERR_INTERNAL);
    free(sums); free(got);
    hs_tensor_free(&tsums); hs_tensor_free(&tvalue);
}
END_TEST

typedef struct plane_case { int n, c, h, w, y0, x0, wh, ww; } plane_case;
/* One value; a window inside odd planes; whole planes; whole rows longer
 * than a work-group; a window of one column of a tall plane. */
static const plane_case plane_cases[] = {
    {1, 1, 1, 1, 0, 0, 1, 1},   {2, 3, 7, 5, 1, 2, 4, 3},   {1, 5, 13, 17, 0, 0, 13, 17},
    {1, 2, 9, 300, 2, 0, 5, 300}, {1, 3, 601, 3, 5, 1, 590, 1},
};

START_TEST(plane_sums_and_dots)
{
    test_setup();
    const plane_case *c = &plane_cases[_i];
    int planes = c->n * c->c, plane = c->h * c->w, n = planes * plane;
    float *x = host_floats(n), *y = host_floats(n);
    fill_random(x, n, 51 + _i, -0.5f, 1.5f);
    fill_random(y, n, 61 + _i, -1, 1);
    hs_tensor tx = upload(x, c->n, c->c, c->h, c->w), ty = upload(y, c->n, c->c, c->h, c->w);
    hs_tensor sums = poisoned(c->n, c->c, 1, 1), dots = poisoned(c->n, c->c, 1, 1);
    HS_CHECK(hs_reduce_planes(HS_REDUCE_SUM, &tx, NULL, c->y0, c->x0, c->wh, c->ww, 0.5f, &sums));
    HS_CHECK(hs_reduce_planes(HS_REDUCE_DOT, &tx, &ty, c->y0, c->x0, c->wh, c->ww, 1.0f, &dots));
    float *got_sums = download(&sums), *got_dots = download(&dots);
    for (int p = 0; p < planes; p++) {
        double sum = 0, sum_abs = 0, dot = 0, dot_abs = 0;
        for (int i = c->y0; i < c->y0 + c->wh; i++)
            for (int j = c->x0; j < c->x0 + c->ww; j++) {
                size_t at = (size_t)p * plane + (size_t)i * c->w + j;
                sum += 0.5 * x[at];
                sum_abs += 0.5 * fabs(x[at]);
                dot += (double)x[at] * y[at];
                dot_abs += fabs((double)x[at] * y[at]);
            }
        assert_sum_close("plane sum", got_sums[p], sum, sum_abs);
        assert_sum_close("plane dot", got_dots[p], dot, dot_abs);
    }
    ck_assert_int_eq(hs_reduce_planes(HS_REDUCE_SUM, &tx, NULL, c->y0 + 1, c->x0, c->wh, c->ww,
                                      1.0f, &sums),
                     c->y0 + c->wh < c->h ? HS_OK : HS_ERR_INTERNAL);
    free(x); free(y); free(got_sums); free(got_dots);
    hs_tensor_free(&tx); hs_tensor_free(&ty); hs_tensor_free(&sums); hs_tensor_free(&dots);
}
END_TEST

/* A result that is not (1,1,1,1), or dot operands of different shapes, fail. */
START_TEST(bad_shapes)
{
    test_setup();
    hs_tensor a = poisoned(1, 1, 2, 3), b = poisoned(1, 1, 3, 2), two = poisoned(1, 1, 1, 2);
    hs_tensor one = poisoned(1, 1, 1, 1);
    float v;
    ck_assert_int_eq(hs_sum(&two, &a), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_dot(&one, &a, &b), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_read_scalar(&two, &v), HS_ERR_INTERNAL);
    hs_tensor_free(&a); hs_tensor_free(&b); hs_tensor_free(&two); hs_tensor_free(&one);
}
END_TEST

void add_reduce_tests(Suite *s)
{
    TCase *tc = tcase_create("reduce");
    tcase_add_loop_test(tc, sum_and_dot, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, sum_of_nchw);
    tcase_add_test(tc, add_element);
    tcase_add_loop_test(tc, plane_sums_and_dots, 0,
                        (int)(sizeof plane_cases / sizeof plane_cases[0]));
    tcase_add_test(tc, bad_shapes);
    suite_add_tcase(s, tc);
}
