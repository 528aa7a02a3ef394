/* op_image.c — RGB8 images to normalised planar tensors and back, on the
 * host (a few milliseconds for a photo, and no kernel for PoCL to compile
 * at a cold start); and the reflect-padded translation of a tensor with the
 * per-channel affine map of a network's input (cl/image.cl). */
#include "engine.h"

#include <math.h>
#include <stdlib.h>

/* out (1,3,H,W) = normalised planar copy of pixels (H,W,3) */
hs_status hs_image_to_tensor(hs_tensor *out, const uint8_t *pixels, int width, int height,
                             const hs_normalize *norm)
{
    HS_TRY(hs_check_shape("image to tensor", out, 1, 3, height, width));
    size_t plane = (size_t)width * height;
    float *planar = malloc(3 * plane * sizeof *planar);
    if (!planar) return hs_fail(HS_ERR_TOO_LARGE, "image to tensor: out of host memory");
    for (int c = 0; c < 3; c++) {
        const uint8_t *src = pixels + (norm->bgr ? 2 - c : c);
        float *dst = planar + c * plane, mean = norm->mean[c], std = norm->std[c];
        for (size_t p = 0; p < plane; p++) dst[p] = ((float)src[p * 3] * norm->scale - mean) / std;
    }
    hs_status st = hs_tensor_write(out, planar);
    free(planar);
    return st;
}

/* v rounded half away from zero and clamped to 0..255; NaN gives 0. */
static uint8_t to_byte(float v)
{
    float r = roundf(v);
    return !(r > 0.0f) ? 0 : r >= 255.0f ? 255 : (uint8_t)r;
}

/* pixels (H,W,3) = in (1,3,H,W) denormalised, rounded and clamped; waits */
hs_status hs_tensor_to_image(uint8_t *pixels, const hs_tensor *in, const hs_normalize *norm)
{
    HS_TRY(hs_check_shape("tensor to image", in, 1, 3, in->h, in->w));
    size_t plane = (size_t)in->h * in->w;
    float *planar = malloc(3 * plane * sizeof *planar);
    if (!planar) return hs_fail(HS_ERR_TOO_LARGE, "tensor to image: out of host memory");
    hs_status st = hs_tensor_read(in, planar);
    for (int c = 0; st == HS_OK && c < 3; c++) {
        uint8_t *dst = pixels + (norm->bgr ? 2 - c : c);
        const float *src = planar + c * plane;
        float mean = norm->mean[c], std = norm->std[c];
        for (size_t p = 0; p < plane; p++)
            dst[p * 3] = to_byte((src[p] * std + mean) / norm->scale);
    }
    free(planar);
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
