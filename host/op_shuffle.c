/* op_shuffle.c — host side of cl/shuffle.cl: pixel shuffle (PyTorch and
 * TensorFlow channel orders) and nearest-neighbour upsampling, forward and
 * backward. */
#include "engine.h"

/* The pixel_shuffle kernel, whose steps make it a shuffle or an upsampling
 * (cl/shuffle.cl); shapes checked by the caller. */
static hs_status launch_shuffle(hs_tensor *out, const hs_tensor *in, int r, int c_step,
                                int block_step)
{
    int rows = out->n * out->c * out->h;
    return hs_launch_1d(in->ctx, "pixel_shuffle", rows, ARG_MEM(out->buf), ARG_MEM(in->buf),
                        ARG_INT(out->c), ARG_INT(in->h), ARG_INT(in->w), ARG_INT(r),
                        ARG_INT(in->c), ARG_INT(c_step), ARG_INT(block_step), ARG_INT(rows),
                        ARG_END);
}

/* out (N, C, H*r, W*r) = pixel shuffle of in (N, C*r*r, H, W) */
hs_status hs_pixel_shuffle(hs_tensor *out, const hs_tensor *in, int r, hs_shuffle_order order)
{
    if (r < 1 || in->c % (r * r) != 0)
        return hs_fail(HS_ERR_INTERNAL, "pixel shuffle: %d channels do not split into %dx%d blocks",
                       in->c, r, r);
    int c = in->c / (r * r);
    HS_TRY(hs_check_shape("pixel shuffle output", out, in->n, c, in->h * r, in->w * r));
    int tf = order == HS_SHUFFLE_TF;
    return launch_shuffle(out, in, r, tf ? 1 : r * r, tf ? c : 1);
}

/* out (N, C, H*r, W*r) = in (N, C, H, W) with every pixel repeated r×r */
hs_status hs_upsample_nearest(hs_tensor *out, const hs_tensor *in, int r)
{
    if (r < 1) return hs_fail(HS_ERR_INTERNAL, "upsample: bad factor %d", r);
    HS_TRY(hs_check_shape("upsample output", out, in->n, in->c, in->h * r, in->w * r));
    return launch_shuffle(out, in, r, 1, 0);
}

/* din (N, C*r*r, H, W) from dout (N, C, H*r, W*r): the inverse permutation */
hs_status hs_pixel_shuffle_backward(hs_tensor *din, const hs_tensor *dout, int r,
                                    hs_shuffle_order order)
{
    if (r < 1 || din->c % (r * r) != 0)
        return hs_fail(HS_ERR_INTERNAL,
                       "pixel shuffle backward: %d channels do not split into %dx%d blocks",
                       din->c, r, r);
    int c = din->c / (r * r);
    HS_TRY(hs_check_shape("pixel shuffle backward dout", dout, din->n, c, din->h * r, din->w * r));
    int n = (int)hs_tensor_count(din);
    return hs_launch_1d(din->ctx, "pixel_shuffle_backward", n, ARG_MEM(din->buf),
                        ARG_MEM(dout->buf), ARG_INT(c), ARG_INT(din->h), ARG_INT(din->w),
                        ARG_INT(r), ARG_INT(order == HS_SHUFFLE_TF), ARG_INT(n), ARG_END);
}

/* din (N, C, H, W): each pixel the sum of its r×r block of dout */
hs_status hs_upsample_nearest_backward(hs_tensor *din, const hs_tensor *dout, int r)
{
    if (r < 1) return hs_fail(HS_ERR_INTERNAL, "upsample backward: bad factor %d", r);
    HS_TRY(hs_check_shape("upsample backward dout", dout, din->n, din->c, din->h * r, din->w * r));
    int n = (int)hs_tensor_count(din);
    return hs_launch_1d(din->ctx, "upsample_nearest_backward", n, ARG_MEM(din->buf),
                        ARG_MEM(dout->buf), ARG_INT(din->h), ARG_INT(din->w), ARG_INT(r),
                        ARG_INT(n), ARG_END);
}
