/* op_image.c — host side of cl/image.cl: RGB8 images to normalised planar
 * tensors and back (through a temporary byte buffer on the device), and the
 * reflect-padded translation of a tensor. */
#include "engine.h"

/* The kernel arguments scale, m0..m2, s0..s2, bgr of the normalisation. */
#define NORMALIZE_ARGS(norm)                                                               \
    ARG_FLOAT((norm)->scale), ARG_FLOAT((norm)->mean[0]), ARG_FLOAT((norm)->mean[1]),    \
        ARG_FLOAT((norm)->mean[2]), ARG_FLOAT((norm)->std[0]), ARG_FLOAT((norm)->std[1]), \
        ARG_FLOAT((norm)->std[2]), ARG_INT((norm)->bgr)

static hs_status upload_and_convert(hs_tensor *out, cl_mem bytes, const uint8_t *pixels,
                                    const hs_normalize *norm)
{
    int n = (int)hs_tensor_count(out);
    HS_CL_CHECK(clEnqueueWriteBuffer(out->ctx->queue, bytes, CL_TRUE, 0, (size_t)n, pixels, 0,
                                     NULL, NULL),
                "uploading an image");
    return hs_launch_1d(out->ctx, "image_tensor", n, ARG_MEM(out->buf), ARG_MEM(bytes),
                        ARG_INT(0), NORMALIZE_ARGS(norm), ARG_INT(n), ARG_END);
}

/* out (1,3,H,W) = normalised planar copy of pixels (H,W,3) */
hs_status hs_image_to_tensor(hs_tensor *out, const uint8_t *pixels, int width, int height,
                             const hs_normalize *norm)
{
    HS_TRY(hs_check_shape("image to tensor", out, 1, 3, height, width));
    size_t size = hs_tensor_count(out);
    cl_mem bytes;
    HS_TRY(hs_pool_take(out->ctx, size, &bytes));
    /* Given back right after enqueueing: the next user's kernels queue after these. */
    hs_status st = upload_and_convert(out, bytes, pixels, norm);
    hs_pool_give(out->ctx, bytes, size);
    return st;
}

static hs_status convert_and_download(uint8_t *pixels, cl_mem bytes, const hs_tensor *in,
                                      const hs_normalize *norm)
{
    int n = (int)hs_tensor_count(in);
    HS_TRY(hs_launch_1d(in->ctx, "image_tensor", n, ARG_MEM(in->buf), ARG_MEM(bytes),
                        ARG_INT(1), NORMALIZE_ARGS(norm), ARG_INT(n), ARG_END));
    HS_CL_CHECK_WAIT(clEnqueueReadBuffer(in->ctx->queue, bytes, CL_TRUE, 0, (size_t)n, pixels,
                                         0, NULL, NULL),
                     "downloading an image");
    return HS_OK;
}

/* pixels (H,W,3) = in (1,3,H,W) denormalised, rounded and clamped; waits */
hs_status hs_tensor_to_image(uint8_t *pixels, const hs_tensor *in, const hs_normalize *norm)
{
    HS_TRY(hs_check_shape("tensor to image", in, 1, 3, in->h, in->w));
    size_t size = hs_tensor_count(in);
    cl_mem bytes;
    HS_TRY(hs_pool_take(in->ctx, size, &bytes));
    hs_status st = convert_and_download(pixels, bytes, in, norm);
    hs_pool_give(in->ctx, bytes, size);
    return st;
}

/* A shift reduced to less than the reflection period 2(size-1), so that
 * index - shift cannot overflow in the kernel; the result is the same. */
static int reduce_shift(int shift, int size) { return size == 1 ? 0 : shift % (2 * (size - 1)); }

static hs_status shift(hs_tensor *dst, const hs_tensor *src, int dx, int dy, int backward,
                       int swap, const float mul[3], const float add[3])
{
    HS_TRY(hs_check_same("shift", dst, src));
    if (dst->buf == src->buf) return hs_fail(HS_ERR_INTERNAL, "shift: cannot work in place");
    if (swap && src->c != 3)
        return hs_fail(HS_ERR_INTERNAL, "shift: swaps the channels of 3, not %d", src->c);
    int rows = src->n * src->c * src->h;
    return hs_launch_1d(src->ctx, "shift_affine", rows, ARG_MEM(dst->buf), ARG_MEM(src->buf),
                        ARG_INT(src->h), ARG_INT(src->w), ARG_INT(reduce_shift(dx, src->w)),
                        ARG_INT(reduce_shift(dy, src->h)), ARG_INT(backward), ARG_INT(swap),
                        ARG_FLOAT(mul[0]), ARG_FLOAT(mul[1]), ARG_FLOAT(mul[2]),
                        ARG_FLOAT(add[0]), ARG_FLOAT(add[1]), ARG_FLOAT(add[2]), ARG_INT(rows),
                        ARG_END);
}

hs_status hs_shift_affine(hs_tensor *dst, const hs_tensor *src, int dx, int dy, int swap,
                          const float mul[3], const float add[3])
{
    return shift(dst, src, dx, dy, 0, swap, mul, add);
}

static const float ones[3] = {1.0f, 1.0f, 1.0f}, zeros[3] = {0.0f, 0.0f, 0.0f};

/* out (N,C,H,W) = in (N,C,H,W) moved by (dx, dy), borders reflected */
hs_status hs_translate_reflect(hs_tensor *out, const hs_tensor *in, int dx, int dy)
{
    return shift(out, in, dx, dy, 0, 0, ones, zeros);
}

/* din (N,C,H,W): the adjoint of hs_translate_reflect with the same shift */
hs_status hs_translate_reflect_backward(hs_tensor *din, const hs_tensor *dout, int dx, int dy)
{
    return shift(din, dout, dx, dy, 1, 0, ones, zeros);
}
