/* op_region.c — host side of cl/region.cl: one rectangle of every plane
 * copied (or added) between two tensors, as the block-wise style loss cuts
 * blocks out of whole images and puts their gradients back. */
#include "engine.h"

hs_status hs_copy_region(hs_tensor *dst, int dy, int dx, const hs_tensor *src, int sy, int sx,
                         int h, int w, int accumulate)
{
    if (dst->n != src->n || dst->c != src->c)
        return hs_fail(HS_ERR_INTERNAL, "copy region: %dx%d planes into %dx%d", src->n, src->c,
                       dst->n, dst->c);
    if (h < 0 || w < 0 || dy < 0 || dx < 0 || sy < 0 || sx < 0 || dy + h > dst->h ||
        dx + w > dst->w || sy + h > src->h || sx + w > src->w)
        return hs_fail(HS_ERR_INTERNAL,
                       "copy region: %dx%d window at (%d,%d) of %dx%d into (%d,%d) of %dx%d", w,
                       h, sx, sy, src->w, src->h, dx, dy, dst->w, dst->h);
    if (w == 0) return HS_OK;
    int rows = src->n * src->c * h;
    return hs_launch_1d(dst->ctx, "copy_region", rows, ARG_MEM(dst->buf), ARG_INT(dst->h),
                        ARG_INT(dst->w), ARG_INT(dy), ARG_INT(dx), ARG_MEM(src->buf),
                        ARG_INT(src->h), ARG_INT(src->w), ARG_INT(sy), ARG_INT(sx), ARG_INT(h),
                        ARG_INT(w), ARG_INT(accumulate), ARG_INT(rows), ARG_END);
}
