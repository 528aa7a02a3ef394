/* ops_elementwise.c — activations, scaled sums and clamping against C
 * references; backward passes also against finite differences. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>

typedef struct shape { int n, c, h, w; } shape;
/* 1 element; odd; not a multiple of any work-group size; channels % 4 != 0. */
static const shape shapes[] = {{1, 1, 1, 1}, {1, 3, 5, 7}, {2, 5, 13, 11}, {1, 7, 33, 65}};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

typedef enum act_kind { ACT_RELU, ACT_LEAKY, ACT_PRELU } act_kind;
typedef struct act_params { act_kind kind; shape s; const double *slope; } act_params;

static double act_ref(const act_params *p, double x, size_t i)
{
    double a = p->kind == ACT_RELU ? 0.0
             : p->kind == ACT_LEAKY ? 0.2
                                    : p->slope[(i / (size_t)(p->s.h * p->s.w)) % p->s.c];
    return x > 0 ? x : a * x;
}

static void act_forward_ref(const double *x, double *y, const void *params)
{
    const act_params *p = params;
    size_t n = (size_t)p->s.n * p->s.c * p->s.h * p->s.w;
    for (size_t i = 0; i < n; i++) y[i] = act_ref(p, x[i], i);
}

/* PReLU as a function of its slopes, for the slope gradient. */
typedef struct slope_fd { shape s; const double *x; } slope_fd;
static void prelu_of_slope(const double *slope, double *y, const void *params)
{
    const slope_fd *f = params;
    act_params p = {ACT_PRELU, f->s, slope};
    act_forward_ref(f->x, y, &p);
}

static void check_activation(act_kind kind, int shape_index)
{
    test_setup();
    shape s = shapes[shape_index];
    size_t n = (size_t)s.n * s.c * s.h * s.w;
    float *x = host_floats(n), *dy = host_floats(n), *slope = host_floats(s.c);
    fill_random_away_from_zero(x, n, 7 + shape_index, 0.01f);
    fill_random(dy, n, 17 + shape_index, -1, 1);
    fill_random(slope, s.c, 27 + shape_index, 0.05f, 0.5f);
    hs_tensor tx = upload(x, s.n, s.c, s.h, s.w), tdy = upload(dy, s.n, s.c, s.h, s.w);
    hs_tensor tslope = upload(slope, 1, s.c, 1, 1), tdslope = poisoned(1, s.c, 1, 1);
    hs_tensor ty = poisoned(s.n, s.c, s.h, s.w), tdx = poisoned(s.n, s.c, s.h, s.w);

    if (kind == ACT_RELU) {
        HS_CHECK(hs_relu_forward(&ty, &tx));
        HS_CHECK(hs_relu_backward(&tdx, &tdy, &tx));
    } else if (kind == ACT_LEAKY) {
        HS_CHECK(hs_leaky_relu_forward(&ty, &tx, 0.2f));
        HS_CHECK(hs_leaky_relu_backward(&tdx, &tdy, &tx, 0.2f));
    } else {
        HS_CHECK(hs_prelu_forward(&ty, &tx, &tslope));
        HS_CHECK(hs_prelu_backward(&tdx, &tdslope, &tdy, &tx, &tslope));
    }
    float *y = download(&ty), *dx = download(&tdx);
    double *xd = to_doubles(x, n), *r = to_doubles(dy, n), *sd = to_doubles(slope, s.c);
    act_params p = {kind, s, sd};
    double *want = host_doubles(n), *grad = host_doubles(n);
    act_forward_ref(xd, want, &p);
    assert_close("activation forward", y, want, n, 1e-6);
    finite_difference(act_forward_ref, &p, xd, n, r, n, 1e-4, grad);
    assert_close("activation backward vs finite differences", dx, grad, n, 1e-5);

    if (kind == ACT_PRELU) {
        float *dslope = download(&tdslope);
        double *want_ds = host_doubles(s.c);
        slope_fd f = {s, xd};
        finite_difference(prelu_of_slope, &f, sd, s.c, r, n, 1e-4, want_ds);
        assert_close("prelu slope gradient vs finite differences", dslope, want_ds, s.c, 1e-5);
        free(dslope);
        free(want_ds);
    }
    free(x); free(dy); free(slope); free(y); free(dx); free(xd); free(r); free(sd);
    free(want); free(grad);
    hs_tensor_free(&tx); hs_tensor_free(&tdy); hs_tensor_free(&tslope);
    hs_tensor_free(&tdslope); hs_tensor_free(&ty); hs_tensor_free(&tdx);
}

START_TEST(relu) { check_activation(ACT_RELU, _i); }
END_TEST
START_TEST(leaky_relu) { check_activation(ACT_LEAKY, _i); }
END_TEST
START_TEST(prelu) { check_activation(ACT_PRELU, _i); }
END_TEST

/* axpby, scale, add, axpy (in place), tanh_half and clamp on one set of inputs;
 * axpby with beta 0 leaves b unread: a NaN there stays out of the result. */
START_TEST(scaled_sums)
{
    test_setup();
    shape s = shapes[_i];
    size_t n = (size_t)s.n * s.c * s.h * s.w;
    float *a = host_floats(n), *b = host_floats(n);
    fill_random(a, n, 37 + _i, -2, 2);
    fill_random(b, n, 47 + _i, -2, 2);
    hs_tensor ta = upload(a, s.n, s.c, s.h, s.w), tb = upload(b, s.n, s.c, s.h, s.w);
    hs_tensor out = poisoned(s.n, s.c, s.h, s.w);
    double *want = host_doubles(n);

    HS_CHECK(hs_axpby(&out, 0.75f, &ta, -1.5f, &tb));
    float *got = download(&out);
    for (size_t i = 0; i < n; i++) want[i] = 0.75 * a[i] - 1.5 * b[i];
    assert_close("axpby", got, want, n, 1e-6);
    free(got);

    HS_CHECK(hs_scale(&out, &ta, -3.0f));
    got = download(&out);
    for (size_t i = 0; i < n; i++) want[i] = -3.0 * a[i];
    assert_close("scale", got, want, n, 1e-6);
    free(got);

    float *nan = host_floats(n);
    for (size_t i = 0; i < n; i++) nan[i] = NAN;
    hs_tensor tnan = upload(nan, s.n, s.c, s.h, s.w);
    HS_CHECK(hs_axpby(&out, 0.5f, &ta, 0.0f, &tnan));
    got = download(&out);
    for (size_t i = 0; i < n; i++) want[i] = 0.5 * a[i];
    assert_close("axpby, beta 0", got, want, n, 1e-6);
    free(got);
    hs_tensor_free(&tnan);
    free(nan);

    HS_CHECK(hs_add(&out, &ta, &tb));
    HS_CHECK(hs_axpy(&out, 2.0f, &tb)); /* out = a + 3b */
    got = download(&out);
    for (size_t i = 0; i < n; i++) want[i] = a[i] + 3.0 * b[i];
    assert_close("add then axpy", got, want, n, 1e-6);
    free(got);

    HS_CHECK(hs_tanh_half(&out, &ta));
    got = download(&out);
    for (size_t i = 0; i < n; i++) want[i] = 0.5 * (tanh((double)a[i]) + 1.0);
    assert_close("tanh_half", got, want, n, 1e-6);
    free(got);

    HS_CHECK(hs_clamp(&ta, -0.5f, 1.0f));
    got = download(&ta);
    for (size_t i = 0; i < n; i++) want[i] = a[i] < -0.5 ? -0.5 : a[i] > 1.0 ? 1.0 : a[i];
    assert_close("clamp", got, want, n, 0);
    free(got);

    free(a); free(b); free(want);
    hs_tensor_free(&ta); hs_tensor_free(&tb); hs_tensor_free(&out);
}
END_TEST

/* The clamp bounds infinities and leaves a NaN a NaN, for the caller's
 * finiteness checks to see. */
START_TEST(clamp_extremes)
{
    test_setup();
    float x[4] = {NAN, INFINITY, -INFINITY, 0.25f};
    hs_tensor t = upload(x, 1, 1, 1, 4);
    HS_CHECK(hs_clamp(&t, 0.0f, 1.0f));
    float *got = download(&t);
    ck_assert_msg(isnan(got[0]), "NaN clamped to %g", got[0]);
    ck_assert_float_eq(got[1], 1.0f);
    ck_assert_float_eq(got[2], 0.0f);
    ck_assert_float_eq(got[3], 0.25f);
    free(got);
    hs_tensor_free(&t);
}
END_TEST

void add_elementwise_tests(Suite *s)
{
    TCase *tc = tcase_create("elementwise");
    tcase_add_loop_test(tc, relu, 0, SHAPE_COUNT);
    tcase_add_test(tc, clamp_extremes);
    tcase_add_loop_test(tc, leaky_relu, 0, SHAPE_COUNT);
    tcase_add_loop_test(tc, prelu, 0, SHAPE_COUNT);
    tcase_add_loop_test(tc, scaled_sums, 0, SHAPE_COUNT);
    suite_add_tcase(s, tc);
}
