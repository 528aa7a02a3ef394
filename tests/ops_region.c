/* ops_region.c — copy_region against a C reference: windows at the corners
 * and in the middle of tensors of odd sizes, copy and accumulate, and
 * windows that stick out refused. Cells outside the window must keep their
 * old value (checked with a known destination, not a poisoned one). */
#include "harness.h"

#include <stdlib.h>

typedef struct region_case {
    int n, c, src_h, src_w, dst_h, dst_w, sy, sx, dy, dx, h, w, accumulate;
} region_case;

static const region_case cases[] = {
    {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0},        {1, 3, 7, 5, 9, 11, 2, 1, 3, 4, 5, 4, 0},
    {2, 3, 7, 5, 9, 11, 2, 1, 3, 4, 5, 4, 1},       {1, 5, 13, 17, 5, 7, 8, 10, 0, 0, 5, 7, 0},
    {1, 5, 13, 17, 5, 7, 8, 10, 0, 0, 5, 7, 1},     {1, 64, 33, 65, 31, 63, 1, 2, 0, 0, 31, 63, 1},
    {2, 7, 10, 10, 10, 10, 0, 0, 0, 0, 10, 10, 0},  {1, 2, 6, 6, 6, 6, 3, 3, 3, 3, 0, 2, 1},
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

START_TEST(copy_region_matches_reference)
{
    test_setup();
    const region_case *r = &cases[_i];
    size_t planes = (size_t)r->n * r->c, ns = planes * r->src_h * r->src_w,
           nd = planes * r->dst_h * r->dst_w;
    float *src = host_floats(ns), *dst = host_floats(nd);
    fill_random(src, ns, 30 + _i, -1, 1);
    fill_random(dst, nd, 60 + _i, -1, 1);
    double *want = to_doubles(dst, nd);
    for (size_t p = 0; p < planes; p++)
        for (int y = 0; y < r->h; y++)
            for (int x = 0; x < r->w; x++) {
                size_t o = (p * r->dst_h + r->dy + y) * r->dst_w + r->dx + x;
                double v = src[(p * r->src_h + r->sy + y) * r->src_w + r->sx + x];
                want[o] = r->accumulate ? want[o] + v : v;
            }
    hs_tensor ts = upload(src, r->n, r->c, r->src_h, r->src_w);
    hs_tensor td = upload(dst, r->n, r->c, r->dst_h, r->dst_w);
    HS_CHECK(hs_copy_region(&td, r->dy, r->dx, &ts, r->sy, r->sx, r->h, r->w, r->accumulate));
    float *got = download(&td);
    assert_close("copy region", got, want, nd, 1e-7);
    free(src); free(dst); free(want); free(got);
    hs_tensor_free(&ts); hs_tensor_free(&td);
}
END_TEST

START_TEST(copy_region_rejects_windows_outside)
{
    test_setup();
    hs_tensor a = upload(NULL, 1, 3, 5, 6), b = upload(NULL, 1, 3, 4, 4),
              c = upload(NULL, 1, 2, 4, 4);
    ck_assert_int_eq(hs_copy_region(&b, 0, 0, &a, 2, 0, 4, 4, 0), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_copy_region(&b, 1, 0, &a, 0, 0, 4, 4, 0), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_copy_region(&b, 0, -1, &a, 0, 0, 2, 2, 0), HS_ERR_INTERNAL);
    ck_assert_int_eq(hs_copy_region(&c, 0, 0, &a, 0, 0, 2, 2, 0), HS_ERR_INTERNAL);
    hs_tensor_free(&a); hs_tensor_free(&b); hs_tensor_free(&c);
}
END_TEST

void add_region_tests(Suite *s)
{
    TCase *tc = tcase_create("region");
    tcase_add_loop_test(tc, copy_region_matches_reference, 0, CASE_COUNT);
    tcase_add_test(tc, copy_region_rejects_windows_outside);
    suite_add_tcase(s, tc);
}
