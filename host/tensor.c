/* tensor.c — device tensors: allocation, host transfers, fills and copies,
 * and the shape checks every op starts with. No tensor holds more than
 * HS_MAX_ELEMENTS floats, so every op may pass counts and index as int.
 *
 * Freed tensor buffers go to a pool, and a tensor of the same byte size
 * takes one back instead of allocating: style iterations and tiles free
 * and allocate the same shapes again and again, and on a CPU device a
 * fresh buffer costs a page fault per 4 KiB page (PoCL's buffers are host
 * memory, which the CLI returns to the system on free). The pool holds at
 * most the peak less what is in use, so what the context holds never
 * passes the peak it reports; hs_memory_in_use counts live tensors only.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Releases the oldest pooled buffer. */
static void pool_release_oldest(hs_context *ctx)
{
    hs_pooled_buffer oldest = ctx->pool[0];
    memmove(ctx->pool, ctx->pool + 1, (size_t)--ctx->pool_count * sizeof *ctx->pool);
    ctx->pool_bytes -= oldest.bytes;
    clReleaseMemObject(oldest.buf);
}

void hs_pool_drain(hs_context *ctx)
{
    while (ctx->pool_count > 0) pool_release_oldest(ctx);
}

/* The most recently pooled buffer of exactly `bytes`, taken out, or NULL. */
static cl_mem pool_take(hs_context *ctx, size_t bytes)
{
    for (int i = ctx->pool_count - 1; i >= 0; i--) {
        if (ctx->pool[i].bytes != bytes) continue;
        cl_mem buf = ctx->pool[i].buf;
        size_t after = (size_t)(--ctx->pool_count - i);
        memmove(ctx->pool + i, ctx->pool + i + 1, after * sizeof *ctx->pool);
        ctx->pool_bytes -= bytes;
        return buf;
    }
    return NULL;
}

/* Keeps a freed buffer still counted in use; 0 when the pool cannot. */
static int pool_keep(hs_context *ctx, cl_mem buf, size_t bytes)
{
    if (ctx->mem_in_use + ctx->pool_bytes > ctx->mem_peak) return 0; /* peak was reset */
    if (ctx->pool_count == ctx->pool_capacity) {
        int cap = ctx->pool_capacity ? 2 * ctx->pool_capacity : 64;
        hs_pooled_buffer *grown = realloc(ctx->pool, (size_t)cap * sizeof *grown);
        if (!grown) return 0;
        ctx->pool = grown;
        ctx->pool_capacity = cap;
    }
    ctx->pool[ctx->pool_count++] = (hs_pooled_buffer){buf, bytes};
    ctx->pool_bytes += bytes;
    return 1;
}

/* A buffer of `bytes` for a tensor: from the pool, else allocated after
 * releasing what the pool holds past the peak (or all of it, should the
 * device run out of memory). */
static hs_status tensor_buffer(hs_context *ctx, size_t bytes, cl_mem *out)
{
    cl_mem pooled = pool_take(ctx, bytes);
    if (pooled) {
        hs_status st = hs_memory_claim(ctx, bytes);
        if (st == HS_OK) *out = pooled;
        else clReleaseMemObject(pooled);
        return st;
    }
    size_t needed = ctx->mem_in_use + bytes;
    size_t peak = needed > ctx->mem_peak ? needed : ctx->mem_peak;
    while (ctx->pool_count > 0 && needed + ctx->pool_bytes > peak)
        pool_release_oldest(ctx);
    hs_status st = hs_buffer_alloc(ctx, bytes, out);
    if (st == HS_ERR_DEVICE_MEMORY && ctx->pool_count > 0) {
        hs_pool_drain(ctx);
        st = hs_buffer_alloc(ctx, bytes, out);
    }
    return st;
}

size_t hs_tensor_count(const hs_tensor *t)
{
    return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}

hs_status hs_tensor_alloc(hs_context *ctx, hs_tensor *t, int n, int c, int h, int w)
{
    memset(t, 0, sizeof *t);
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return hs_fail(HS_ERR_INTERNAL, "tensor shape (%d,%d,%d,%d) is empty", n, c, h, w);
    /* step by step, so that no product can wrap */
    size_t count = (size_t)n * (size_t)c;
    if (count > HS_MAX_ELEMENTS || (count *= (size_t)h) > HS_MAX_ELEMENTS ||
        (count *= (size_t)w) > HS_MAX_ELEMENTS)
        return hs_fail(HS_ERR_TOO_LARGE, "a tensor of shape (%d,%d,%d,%d) holds more than "
                       "2^31-1 floats, the most the kernels index", n, c, h, w);
    t->ctx = ctx;
    t->n = n;
    t->c = c;
    t->h = h;
    t->w = w;
    hs_status st = tensor_buffer(ctx, count * sizeof(float), &t->buf);
    if (st != HS_OK) memset(t, 0, sizeof *t);
    return st;
}

hs_status hs_tensor_alloc_like(hs_tensor *t, const hs_tensor *like)
{
    return hs_tensor_alloc(like->ctx, t, like->n, like->c, like->h, like->w);
}

void hs_tensor_free(hs_tensor *t)
{
    size_t bytes = hs_tensor_count(t) * sizeof(float);
    if (t->buf && pool_keep(t->ctx, t->buf, bytes)) hs_memory_release(t->ctx, bytes);
    else if (t->buf) hs_buffer_free(t->ctx, t->buf, bytes);
    memset(t, 0, sizeof *t);
}

hs_status hs_tensor_write(hs_tensor *t, const float *host)
{
    HS_CL_CHECK_WAIT(clEnqueueWriteBuffer(t->ctx->queue, t->buf, CL_TRUE, 0,
                                          hs_tensor_count(t) * sizeof(float), host, 0, NULL, NULL),
                     "writing a tensor to the device");
    return HS_OK;
}

hs_status hs_tensor_read(const hs_tensor *t, float *host)
{
    HS_CL_CHECK_WAIT(clEnqueueReadBuffer(t->ctx->queue, t->buf, CL_TRUE, 0,
                                         hs_tensor_count(t) * sizeof(float), host, 0, NULL, NULL),
                     "reading a tensor from the device");
    return HS_OK;
}

hs_status hs_tensor_fill(hs_tensor *t, float value)
{
    return hs_launch_1d(t->ctx, "fill", hs_tensor_count(t), ARG_MEM(t->buf), ARG_FLOAT(value),
                        ARG_INT(hs_tensor_count(t)), ARG_END);
}

hs_status hs_tensor_copy(hs_tensor *dst, const hs_tensor *src)
{
    HS_TRY(hs_check_same("copy", dst, src));
    HS_CL_CHECK(clEnqueueCopyBuffer(src->ctx->queue, src->buf, dst->buf, 0, 0,
                                    hs_tensor_count(src) * sizeof(float), 0, NULL, NULL),
                "copying a tensor");
    return HS_OK;
}

hs_status hs_tensor_accumulate(hs_tensor *sum, hs_tensor *g)
{
    if (!sum->buf) {
        *sum = *g;
        memset(g, 0, sizeof *g);
        return HS_OK;
    }
    hs_status st = hs_axpy(sum, 1.0f, g);
    hs_tensor_free(g);
    return st;
}

hs_status hs_check_shape(const char *op, const hs_tensor *t, int n, int c, int h, int w)
{
    if (!t->buf || t->n != n || t->c != c || t->h != h || t->w != w)
        return hs_fail(HS_ERR_INTERNAL, "%s: tensor is (%d,%d,%d,%d), expected (%d,%d,%d,%d)", op,
                       t->n, t->c, t->h, t->w, n, c, h, w);
    return HS_OK;
}

hs_status hs_check_same(const char *op, const hs_tensor *a, const hs_tensor *b)
{
    return hs_check_shape(op, a, b->n, b->c, b->h, b->w);
}
