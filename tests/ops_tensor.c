/* ops_tensor.c — tensor allocation: freed buffers are pooled and reused for
 * tensors of the same size or a little smaller (host/buffer_pool.c), and the memory accounting
 * stays exact: hs_memory_in_use counts live tensors only, reuse never raises
 * the peak, a reused buffer holds what is written to it, and the buffers the
 * pool keeps count in the peak and against the memory limit. No tensor or
 * buffer holds more than 2^31-1 floats (the kernels index with int), whatever
 * the device's largest allocation. On a CPU device, large buffers live in
 * memory mapped in 2 MiB pages (host/huge_buffer.c). */
#include "engine.h"
#include "harness.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

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

static void assert_too_large(hs_status st, const char *words)
{
    ck_assert_msg(st == HS_ERR_TOO_LARGE, "not refused (status %d)", (int)st);
    ck_assert_msg(strstr(hs_last_error(), words) != NULL, "message '%s' lacks '%s'",
                  hs_last_error(), words);
}

/* On a device that takes 35 GiB in one allocation (an H200 reports a
 * quarter of its memory) a tensor of 2^31 floats is still refused, before
 * any allocation; 2^31-1 is the limit, not a product that wrapped. */
START_TEST(tensor_refuses_more_than_int_elements)
{
    test_setup();
    hs_device_info real = test_ctx->dev;
    test_ctx->dev.max_alloc = (cl_ulong)35 << 30;
    test_ctx->dev.global_mem = (cl_ulong)140 << 30;
    size_t before = hs_memory_in_use(test_ctx);
    ck_assert_uint_eq(hs_memory_largest_buffer(test_ctx), (size_t)2147483647 * 4);
    hs_tensor t;
    assert_too_large(hs_tensor_alloc(test_ctx, &t, 1, 64, 8192, 4096), "(1,64,8192,4096)");
    ck_assert_ptr_null(t.buf);
    assert_too_large(hs_tensor_alloc(test_ctx, &t, 2, 1, 32768, 32768), "2^31-1 floats");
    /* 65536^4 = 2^64 wraps a size_t to 0 */
    assert_too_large(hs_tensor_alloc(test_ctx, &t, 65536, 65536, 65536, 65536), "2^31-1");
    cl_mem buf = NULL;
    assert_too_large(hs_buffer_alloc(test_ctx, ((size_t)1 << 31) * sizeof(float), &buf),
                     "more than 2^31-1 floats");
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), before);
    /* a small largest allocation is the limit where it is smaller */
    test_ctx->dev.max_alloc = (cl_ulong)1 << 30;
    ck_assert_uint_eq(hs_memory_largest_buffer(test_ctx), (size_t)1 << 30);
    test_ctx->dev = real;
}
END_TEST

/* A smaller tensor takes a kept buffer up to half again its size (the
 * smallest that fits), counted at the buffer's size while it lives, and
 * gives it back whole; a buffer twice the size is left alone. */
START_TEST(tensor_pool_serves_smaller_sizes)
{
    test_setup();
    hs_memory_trim(test_ctx);
    hs_memory_reset_peak(test_ctx);
    size_t base = hs_memory_in_use(test_ctx), big = bytes_of(1, 1, 64, 64);
    hs_tensor a, b, c, d;
    HS_CHECK(hs_tensor_alloc(test_ctx, &a, 1, 1, 64, 64));
    HS_CHECK(hs_tensor_alloc(test_ctx, &b, 1, 1, 64, 56));
    cl_mem larger = a.buf, smaller = b.buf;
    hs_tensor_free(&a);
    hs_tensor_free(&b);
    HS_CHECK(hs_tensor_alloc(test_ctx, &c, 1, 1, 64, 48)); /* 3/4: b's 7/8 fits best */
    ck_assert_ptr_eq(c.buf, smaller);
    HS_CHECK(hs_tensor_alloc(test_ctx, &d, 1, 1, 64, 44)); /* 11/16: a's is 16/11 of it */
    ck_assert_ptr_eq(d.buf, larger);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base + big + bytes_of(1, 1, 64, 56));
    ck_assert_uint_eq(test_ctx->pool_bytes, 0);
    hs_tensor_free(&c);
    hs_tensor_free(&d);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base);
    ck_assert_uint_eq(test_ctx->pool_bytes, big + bytes_of(1, 1, 64, 56));
    HS_CHECK(hs_tensor_alloc(test_ctx, &c, 1, 1, 64, 32)); /* half: neither is kept for it */
    size_t c_size; /* a new buffer of its own size (a released handle's address may come back) */
    ck_assert_int_eq(clGetMemObjectInfo(c.buf, CL_MEM_SIZE, sizeof c_size, &c_size, NULL),
                     CL_SUCCESS);
    ck_assert_uint_eq(c_size, bytes_of(1, 1, 64, 32));
    hs_tensor_free(&c);
    hs_memory_trim(test_ctx);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base);
}
END_TEST

/* Kept buffers are held memory: the peak counts them, the pool holds at most
 * an eighth past the live peak, a memory limit makes them give way, and
 * hs_memory_trim releases them. Rows of 64 floats, at least as many bytes
 * as the context holds already, so that those eighths are predictable. */
START_TEST(tensor_pool_counts_what_it_keeps)
{
    test_setup();
    hs_memory_trim(test_ctx);
    hs_memory_reset_peak(test_ctx);
    size_t base = hs_memory_in_use(test_ctx);
    int rows = 64;
    while (bytes_of(1, 1, rows, 64) < base) rows *= 2;
    size_t big = bytes_of(1, 1, rows, 64), half = big / 2;
    ck_assert_int_eq(test_ctx->pool_count, 0);
    hs_tensor a, b, c, d;
    HS_CHECK(hs_tensor_alloc(test_ctx, &a, 1, 1, rows, 64));
    HS_CHECK(hs_tensor_alloc(test_ctx, &b, 1, 1, rows, 64));
    hs_tensor_free(&a);
    hs_tensor_free(&b);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base);
    ck_assert_uint_eq(test_ctx->pool_bytes, 2 * big);
    ck_assert_uint_eq(hs_memory_peak(test_ctx), base + 2 * big);

    /* A new size while both are kept would pass the live peak by more than an
     * eighth: the oldest makes room, and the peak does not move. */
    HS_CHECK(hs_tensor_alloc(test_ctx, &c, 1, 1, rows, 32));
    ck_assert_uint_eq(test_ctx->pool_bytes, big);
    ck_assert_uint_eq(hs_memory_peak(test_ctx), base + 2 * big);
    hs_tensor_free(&c);
    ck_assert_uint_eq(test_ctx->pool_bytes, big + half);

    /* Under a limit the kept buffers would pass, the oldest gives way. */
    size_t limit = test_ctx->mem_limit;
    test_ctx->mem_limit = base + big + half;
    HS_CHECK(hs_tensor_alloc(test_ctx, &d, 1, 1, rows, 16));
    ck_assert_uint_eq(test_ctx->pool_bytes, half);
    ck_assert_uint_le(hs_memory_in_use(test_ctx) + test_ctx->pool_bytes, test_ctx->mem_limit);
    hs_tensor_free(&d);
    test_ctx->mem_limit = limit;

    hs_memory_trim(test_ctx);
    ck_assert_int_eq(test_ctx->pool_count, 0);
    ck_assert_uint_eq(test_ctx->pool_bytes, 0);
    ck_assert_uint_eq(hs_memory_in_use(test_ctx), base);
}
END_TEST

/* Filling a tensor sets its values and nothing past them in its buffer,
 * which the pool may have made for a larger tensor: by clEnqueueFillBuffer
 * (OpenCL 1.2 on) and by the `fill` kernel that OpenCL 1.1 devices use. */
START_TEST(tensor_fill_sets_its_values_only)
{
    test_setup();
    const size_t whole = 13 * 17;
    float *values = host_floats(whole), *back = host_floats(whole);
    fill_random(values, whole, 4, -1, 1);
    for (int by_kernel = 0; by_kernel < 2; by_kernel++) {
        hs_tensor big, t;
        HS_CHECK(hs_tensor_alloc(test_ctx, &big, 1, 1, 13, 17));
        HS_CHECK(hs_tensor_write(&big, values));
        cl_mem buf = big.buf;
        hs_tensor_free(&big);
        HS_CHECK(hs_tensor_alloc(test_ctx, &t, 1, 1, 11, 19)); /* 209 of the 221 */
        ck_assert_ptr_eq(t.buf, buf);
        size_t n = hs_tensor_count(&t);
        if (by_kernel)
            HS_CHECK(hs_launch_1d(test_ctx, "fill", n, ARG_MEM(t.buf), ARG_FLOAT(-2.5f),
                                  ARG_INT(n), ARG_END));
        else
            HS_CHECK(hs_tensor_fill(&t, -2.5f));
        ck_assert_int_eq(clEnqueueReadBuffer(test_ctx->queue, buf, CL_TRUE, 0,
                                             whole * sizeof(float), back, 0, NULL, NULL),
                         CL_SUCCESS);
        for (size_t i = 0; i < whole; i++) ck_assert_float_eq(back[i], i < n ? -2.5f : values[i]);
        hs_tensor_free(&t);
    }
    free(values);
    free(back);
}
END_TEST

/* A tensor of 2 MiB or more on a CPU device that shares the host's memory
 * lives in memory we mapped 2 MiB-aligned (host/huge_buffer.c): it holds
 * what is written to it and kernels see it. Elsewhere the same tensor is an
 * ordinary buffer. */
START_TEST(tensor_large_buffer_in_huge_pages)
{
    test_setup();
    hs_tensor t;
    HS_CHECK(hs_tensor_alloc(test_ctx, &t, 1, 3, 523, 419));
    size_t n = hs_tensor_count(&t);
    ck_assert_uint_ge(n * sizeof(float), (size_t)2 << 20);
    float *values = host_floats(n);
    fill_random(values, n, 9, -1, 1);
    HS_CHECK(hs_tensor_write(&t, values));
    float *back = download(&t);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(back[i], values[i]);
    HS_CHECK(hs_tensor_fill(&t, 0.5f));
    free(back);
    back = download(&t);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(back[i], 0.5f);

    cl_mem_flags flags;
    void *host_ptr;
    ck_assert_int_eq(clGetMemObjectInfo(t.buf, CL_MEM_FLAGS, sizeof flags, &flags, NULL),
                     CL_SUCCESS);
    ck_assert_int_eq(clGetMemObjectInfo(t.buf, CL_MEM_HOST_PTR, sizeof host_ptr, &host_ptr, NULL),
                     CL_SUCCESS);
    int huge = (test_ctx->dev.type & CL_DEVICE_TYPE_CPU) && test_ctx->dev.unified_memory;
#if !defined(__linux__) || !defined(MADV_HUGEPAGE)
    huge = 0;
#endif
    ck_assert_int_eq(!!(flags & CL_MEM_USE_HOST_PTR), huge);
    if (huge) ck_assert_uint_eq((uintptr_t)host_ptr % ((size_t)2 << 20), 0);
    hs_tensor_free(&t);
    free(values);
    free(back);
}
END_TEST

#if defined(__linux__) && defined(MADV_HUGEPAGE)
/* The mapping goes when the implementation destroys the buffer. (Released
 * here straight after a copy: rusticl keeps a buffer alive as long as a
 * kernel still has it as an argument.) */
START_TEST(huge_buffer_unmapped_with_its_buffer)
{
    test_setup();
    size_t bytes = ((size_t)3 << 20) + 4;
    cl_mem buf = hs_huge_buffer_create(test_ctx, bytes);
    if (!(test_ctx->dev.type & CL_DEVICE_TYPE_CPU) || !test_ctx->dev.unified_memory) {
        ck_assert_ptr_null(buf);
        return;
    }
    ck_assert_ptr_nonnull(buf);
    void *host_ptr;
    ck_assert_int_eq(clGetMemObjectInfo(buf, CL_MEM_HOST_PTR, sizeof host_ptr, &host_ptr, NULL),
                     CL_SUCCESS);
    size_t n = bytes / sizeof(float);
    float *values = host_floats(n), *back = host_floats(n);
    fill_random(values, n, 11, -1, 1);
    ck_assert_int_eq(clEnqueueWriteBuffer(test_ctx->queue, buf, CL_TRUE, 0, bytes, values, 0,
                                          NULL, NULL), CL_SUCCESS);
    ck_assert_int_eq(clEnqueueReadBuffer(test_ctx->queue, buf, CL_TRUE, 0, bytes, back, 0, NULL,
                                         NULL), CL_SUCCESS);
    ck_assert_mem_eq(back, values, bytes);
    ck_assert_mem_eq(host_ptr, values, bytes); /* in place */
    ck_assert_int_eq(msync(host_ptr, 4096, MS_ASYNC), 0); /* mapped */
    ck_assert_int_eq(clReleaseMemObject(buf), CL_SUCCESS);
    ck_assert_int_eq(clFinish(test_ctx->queue), CL_SUCCESS);
    /* rusticl runs the destructor callback on a thread of its own, a little
     * after the release: up to 2 s for the mapping to go. */
    int mapped = 1;
    for (int wait = 0; wait < 200 && mapped; wait++) {
        errno = 0;
        mapped = msync(host_ptr, 4096, MS_ASYNC) == 0;
        if (mapped) nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    ck_assert_msg(!mapped, "the buffer's mapping outlived it");
    ck_assert_int_eq(errno, ENOMEM); /* unmapped */
    free(values);
    free(back);
}
END_TEST
#endif

void add_tensor_tests(Suite *s)
{
    TCase *tc = tcase_create("tensor");
    tcase_add_test(tc, tensor_pool_keeps_accounting_exact);
    tcase_add_test(tc, tensor_refuses_more_than_int_elements);
    tcase_add_test(tc, tensor_pool_counts_what_it_keeps);
    tcase_add_test(tc, tensor_pool_serves_smaller_sizes);
    tcase_add_test(tc, tensor_fill_sets_its_values_only);
    tcase_add_test(tc, tensor_large_buffer_in_huge_pages);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    tcase_add_test(tc, huge_buffer_unmapped_with_its_buffer);
#endif
    suite_add_tcase(s, tc);
}
