/* tensor.c — device tensors: allocation (buffers from host/buffer_pool.c),
 * host transfers, fills and copies, and the shape checks every op starts
 * with. No tensor holds more than HS_MAX_ELEMENTS floats, so every op may
 * pass counts and index as int. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    hs_status st = hs_pool_take(ctx, count * sizeof(float), &t->buf);
    if (st != HS_OK) memset(t, 0, sizeof *t);
    return st;
}

hs_status hs_tensor_alloc_like(hs_tensor *t, const hs_tensor *like)
{
    return hs_tensor_alloc(like->ctx, t, like->n, like->c, like->h, like->w);
}

void hs_tensor_free(hs_tensor *t)
{
    if (t->buf) hs_pool_give(t->ctx, t->buf, hs_tensor_count(t) * sizeof(float));
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

/* clEnqueueFillBuffer where the device has it (OpenCL 1.2): on PoCL it is
 * the driver's own loop, where the `fill` kernel is one more compile at a
 * cold start (~0.1 s). */
hs_status hs_tensor_fill(hs_tensor *t, float value)
{
    if (hs_device_c_version(&t->ctx->dev) >= 12) {
        HS_CL_CHECK(clEnqueueFillBuffer(t->ctx->queue, t->buf, &value, sizeof value, 0,
                                        hs_tensor_count(t) * sizeof(float), 0, NULL, NULL),
                    "filling a tensor");
        return HS_OK;
    }
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
