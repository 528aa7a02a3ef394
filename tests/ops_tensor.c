/* ops_tensor.c — tensor allocation: freed buffers are pooled and reused for
 * tensors of the same size (host/tensor.c), and the memory accounting stays
 * exact: hs_memory_in_use counts live tensors only, reuse never raises the
 * peak, and a reused buffer holds what is written to it. */
#include "harness.h"

#include <stdlib.h>

static size_t bytes_of(int n, int c, int h, int w) { return (size_t)n * c * h * w * sizeof(float); }

START_TEST(tensor_pool_keeps_accounting_exact)
{
    test_setup();
    hs_memory_reset_peak(test_ctx);
    size_t base = hs_memory_in_use(test_ctx);
    ck_assert_uint_eq(hs_memory_peak(test_ctx), base);
    size_t a_bytes = bytes_of(1, 3, 5, 7), b_bytes = bytes_of(2, 2, 3, 4);

    hs_tensor a, b, c, d;
    HS_CHECK(hs_tensor_alloc(test_ctx, &a, 1, 3, 5, 7));
    HS_CHECK(hs_tensor_alloc(test_ctx, &b, 2, 2, 3, 4));
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base + a_bytes + b_bytes);
    ck_assert_uint_eq(hs_memory_peak(test_ctx), base + a_bytes + b_bytes);
    HS_CHECK(hs_tensor_fill(&a, 3.0f));
    cl_mem freed = a.buf;
    hs_tensor_free(&a);
    ck_assert_ptr_null(a.buf);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base + b_bytes);

    /* Same size: the freed buffer comes back, the peak does not move. */
    HS_CHECK(hs_tensor_alloc(test_ctx, &c, 1, 5, 7, 3));
    ck_assert_ptr_eq(c.buf, freed);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base + a_bytes + b_bytes);
    ck_assert_uint_eq(hs_memory_peak(test_ctx), base + a_bytes + b_bytes);
    size_t n = hs_tensor_count(&c);
    float *values = host_floats(n);
    fill_random(values, n, 5, -1, 1);
    HS_CHECK(hs_tensor_write(&c, values));
    float *back = download(&c);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(back[i], values[i]);

    /* A new size: allocated, the peak rises by exactly its bytes. */
    size_t d_bytes = bytes_of(1, 1, 9, 11);
    HS_CHECK(hs_tensor_alloc(test_ctx, &d, 1, 1, 9, 11));
    ck_assert_uint_eq(hs_memory_peak(test_ctx), base + a_bytes + b_bytes + d_bytes);

    hs_tensor_free(&b);
    hs_tensor_free(&c);
    hs_tensor_free(&d);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base);
    hs_memory_reset_peak(test_ctx);
    ck_assert_uint_eq(hs_memory_peak(test_ctx), base);
    free(values);
    free(back);
}
END_TEST

void add_tensor_tests(Suite *s)
{
    TCase *tc = tcase_create("tensor");
    tcase_add_test(tc, tensor_pool_keeps_accounting_exact);
    suite_add_tcase(s, tc);
}
