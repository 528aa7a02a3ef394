/* harness.h — what the op tests share: one context on the chosen device,
 * host/device transfers, random data, error measures and a finite-difference
 * gradient check.
 *
 * The op tests follow ggml's test-backend-ops: each op file has a table of
 * cases (shapes and parameters, including 1×1, odd sizes, sizes that are not
 * multiples of a work-group, channels not multiples of 4), runs each case on
 * the device and compares with a plain C reference in double precision.
 * Every backward is compared with its reference and checked against central
 * finite differences of the reference forward.
 *
 * Environment: HIRESTYLE_TEST_DEVICE picks the device (as --device);
 * HIRESTYLE_TEST_SMALL=1 keeps only the small cases (used under oclgrind).
 */
#ifndef HS_TEST_HARNESS_H
#define HS_TEST_HARNESS_H

#include <check.h>
#include <stddef.h>

#include "hirestyle.h"

extern hs_context *test_ctx;
/* Nonzero when only small cases should run (oclgrind is slow). */
int test_small_only(void);
/* Creates test_ctx (once per process; Check forks per test by default). */
void test_setup(void);
void test_teardown(void);

/* Uniform random floats in [lo, hi), reproducible from seed. */
void fill_random(float *x, size_t n, unsigned seed, float lo, float hi);
/* Random values kept at least `gap` away from 0: for ops with a kink at 0
 * (ReLU, max), so finite differences never straddle it. */
void fill_random_away_from_zero(float *x, size_t n, unsigned seed, float gap);
float *host_floats(size_t n);            /* malloc or fail the test */
double *host_doubles(size_t n);
double *to_doubles(const float *x, size_t n);

/* A device tensor holding `host` (which may be NULL: uninitialised). */
hs_tensor upload(const float *host, int n, int c, int h, int w);
/* A malloc'ed copy of a device tensor. */
float *download(const hs_tensor *t);
/* Tensor filled with a value that no op output should equal (NaN), so an
 * element the op forgot to write is caught. */
hs_tensor poisoned(int n, int c, int h, int w);

/* max |got - want| / max(max |want|, floor): a normalised error. */
double max_rel_error(const float *got, const double *want, size_t n);
/* Fail the test with the op/case name when the error exceeds tol. */
void assert_close(const char *what, const float *got, const double *want, size_t n, double tol);

/* hs_conv2d_backward_input adding to a gradient of random values (from
 * seed), gating by the input's sign (ReLU, LeakyReLU of slope 0.25), and
 * both: fails the test unless each gives what want, the input gradient
 * alone, makes that way (within tol). */
void check_conv_backward_input(const char *what, const hs_tensor *dout, const hs_tensor *in,
                               const hs_tensor *weight, hs_conv_params p, const double *want,
                               unsigned seed, double tol);

/* Central finite differences of L(x) = sum_i r[i] * f(x)[i] for a reference
 * forward f in double; grad gets dL/dx. `f` writes ny outputs from nx inputs. */
typedef void (*ref_forward)(const double *x, double *y, const void *params);
void finite_difference(ref_forward f, const void *params, const double *x, size_t nx,
                       const double *r, size_t ny, double step, double *grad);

/* The two GEMM implementations (host/gemm.c): the tests of ops that multiply
 * matrices (conv, Gram) run every case through both, case i / TEST_GEMMS
 * through implementation i % TEST_GEMMS. test_use_gemm sets it (by
 * $HIRESTYLE_GEMM, cleared by test_default_gemm, a teardown fixture) and
 * returns its name; with_gemm(what) appends it to a message. */
#define TEST_GEMMS 2
const char *test_use_gemm(int which);
void test_default_gemm(void);
const char *with_gemm(const char *what);

/* Run `expr` (an hs_status) and fail the test with hs_last_error() if not OK. */
#define HS_CHECK(expr)                                                              \
    do {                                                                            \
        hs_status st_ = (expr);                                                     \
        ck_assert_msg(st_ == HS_OK, "%s failed: %s", #expr, hs_last_error());      \
    } while (0)

/* Each op file adds its test cases to the suite. */
void add_conv_tests(Suite *s);
void add_winograd_tests(Suite *s);
void add_elementwise_tests(Suite *s);
void add_pool_tests(Suite *s);
void add_shuffle_tests(Suite *s);
void add_interp_tests(Suite *s);
void add_concat_tests(Suite *s);
void add_image_tests(Suite *s);
void add_reduce_tests(Suite *s);
void add_loss_tests(Suite *s);
void add_gram_tests(Suite *s);
void add_adam_tests(Suite *s);
void add_normalize_tests(Suite *s);
void add_gemm_tests(Suite *s);
void add_layer_tests(Suite *s);
void add_net_grad_tests(Suite *s);
void add_net_plan_tests(Suite *s);
void add_net_fold_tests(Suite *s);
void add_launch_tests(Suite *s);
void add_region_tests(Suite *s);
void add_tensor_tests(Suite *s);

#endif
