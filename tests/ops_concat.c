/* ops_concat.c — channel concat and split (its backward) against a C
 * reference: concat places each part's channels, split takes them back out
 * (split of a random gradient checks the backward mapping, split of a concat
 * must give the parts again), and bad shapes are refused. */
#include "harness.h"

#include <stdlib.h>

#define MAX_PARTS 4
typedef struct concat_case {
    int n, h, w, count, channels[MAX_PARTS];
    int small; /* also run under oclgrind */
} concat_case;

static const concat_case cases[] = {
    {1, 1, 1, 1, {1}, 1},          {1, 1, 1, 2, {1, 1}, 1},
    {1, 5, 7, 3, {3, 1, 5}, 1},    {2, 5, 7, 3, {3, 1, 5}, 1},
    {2, 13, 11, 2, {7, 6}, 1},     {2, 33, 65, 4, {3, 7, 1, 2}, 0},
    {1, 64, 64, 2, {64, 32}, 0}, /* RRDB dense block */
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static int total_channels(const concat_case *c)
{
    int sum = 0;
    for (int i = 0; i < c->count; i++) sum += c->channels[i];
    return sum;
}

/* out[b][c0 + k] = part[b][k] for each part, c0 its first channel. */
static void concat_ref(const concat_case *c, float *const *parts, double *out)
{
    size_t plane = (size_t)c->h * c->w;
    int total = total_channels(c);
    for (int b = 0; b < c->n; b++)
        for (int i = 0, c0 = 0; i < c->count; c0 += c->channels[i], i++)
            for (int k = 0; k < c->channels[i]; k++)
                for (size_t p = 0; p < plane; p++)
                    out[((size_t)b * total + c0 + k) * plane + p] =
                        parts[i][((size_t)b * c->channels[i] + k) * plane + p];
}

/* backward of concat: part i gets channels c0 .. c0 + Ci - 1 of the gradient */
static void split_ref(const concat_case *c, const float *in, int part, double *out)
{
    size_t plane = (size_t)c->h * c->w;
    int total = total_channels(c), c0 = 0;
    for (int i = 0; i < part; i++) c0 += c->channels[i];
    for (int b = 0; b < c->n; b++)
        for (int k = 0; k < c->channels[part]; k++)
            for (size_t p = 0; p < plane; p++)
                out[((size_t)b * c->channels[part] + k) * plane + p] =
                    in[((size_t)b * total + c0 + k) * plane + p];
}

static size_t part_count(const concat_case *c, int i)
{
    return (size_t)c->n * c->channels[i] * c->h * c->w;
}

/* Splits `whole` into poisoned parts and checks each against split_ref,
 * and (when `parts` is given) against the parts themselves. */
static void check_split(const concat_case *c, const hs_tensor *whole, const float *host_whole,
                        float *const *parts, const char *what)
{
    hs_tensor t[MAX_PARTS];
    hs_tensor *ptr[MAX_PARTS];
    for (int i = 0; i < c->count; i++) {
        t[i] = poisoned(c->n, c->channels[i], c->h, c->w);
        ptr[i] = &t[i];
    }
    HS_CHECK(hs_split(ptr, c->count, whole));
    for (int i = 0; i < c->count; i++) {
        size_t n = part_count(c, i);
        float *got = download(&t[i]);
        double *want = host_doubles(n);
        split_ref(c, host_whole, i, want);
        assert_close(what, got, want, n, 0);
        if (parts) {
            double *original = to_doubles(parts[i], n);
            assert_close("split of concat gives the parts", got, original, n, 0);
            free(original);
        }
        free(got);
        free(want);
        hs_tensor_free(&t[i]);
    }
}

START_TEST(concat_and_split)
{
    test_setup();
    const concat_case *c = &cases[_i];
    if (test_small_only() && !c->small) return;
    int total = total_channels(c);
    size_t nout = (size_t)c->n * total * c->h * c->w;
    float *parts[MAX_PARTS] = {0};
    hs_tensor t[MAX_PARTS];
    const hs_tensor *ptr[MAX_PARTS];
    for (int i = 0; i < c->count; i++) {
        parts[i] = host_floats(part_count(c, i));
        fill_random(parts[i], part_count(c, i), 10 * _i + i, -1, 1);
        t[i] = upload(parts[i], c->n, c->channels[i], c->h, c->w);
        ptr[i] = &t[i];
    }
    hs_tensor tout = poisoned(c->n, total, c->h, c->w);
    HS_CHECK(hs_concat(&tout, ptr, c->count));
    float *got = download(&tout);
    double *want = host_doubles(nout);
    concat_ref(c, parts, want);
    assert_close("concat", got, want, nout, 0);
    check_split(c, &tout, got, parts, "split of concat");

    float *grad = host_floats(nout);
    fill_random(grad, nout, 1000 + _i, -1, 1);
    hs_tensor tgrad = upload(grad, c->n, total, c->h, c->w);
    check_split(c, &tgrad, grad, NULL, "split (concat backward)");

    for (int i = 0; i < c->count; i++) {
        free(parts[i]);
        hs_tensor_free(&t[i]);
    }
    free(got); free(want); free(grad);
    hs_tensor_free(&tout); hs_tensor_free(&tgrad);
}
END_TEST

/* Parts whose batch, height, width or channel sum do not match are refused. */
START_TEST(concat_rejects_bad_shapes)
{
    test_setup();
    hs_tensor a = upload(NULL, 1, 2, 3, 3), b = upload(NULL, 1, 1, 3, 4);
    hs_tensor c = upload(NULL, 2, 1, 3, 3), out = upload(NULL, 1, 3, 3, 3);
    ck_assert_int_eq(hs_concat(&out, (const hs_tensor *[]){&a, &b}, 2), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_concat(&out, (const hs_tensor *[]){&a, &c}, 2), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_concat(&out, (const hs_tensor *[]){&a}, 1), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_concat(&out, (const hs_tensor *[]){&a}, 0), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_split((hs_tensor *[]){&a, &a}, 2, &out), HS_ERR_INTERNAL);
    hs_tensor_free(&a); hs_tensor_free(&b); hs_tensor_free(&c); hs_tensor_free(&out);
}
END_TEST

void add_concat_tests(Suite *s)
{
    TCase *tc = tcase_create("concat");
    tcase_add_loop_test(tc, concat_and_split, 0, CASE_COUNT);
    tcase_add_test(tc, concat_rejects_bad_shapes);
    suite_add_tcase(s, tc);
}
