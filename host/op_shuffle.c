/* op_shuffle.c — host side of cl/shuffle.cl: pixel shuffle (PyTorch and
 * TensorFlow channel orders) and nearest-neighbour upsampling. */
#include "engine.h"

/* out (N, C, H*r, W*r) = pixel shuffle of in (N, C*r*r, H, W) */
hs_status hs_pixel_shuffle(hs_tensor *out, const hs_tensor *in, int r, hs_shuffle_order order)
{
    if (r < 1 || in->c % (r * r) != 0)
        return hs_fail(HS_ERR_INTERNAL, "pixel shuffle: %d channels do not split into %dx%d blocks",
                       in->c, r, r);
    int c = in->c / (r * r);
    HS_TRY(hs_check_shape("pixel shuffle output", out, in->n, c, in->h * r, in->w * r));
    int n = (int)hs_tensor_count(out);
    return hs_launch_1d(in->ctx, "pixel_shuffle", n, ARG_MEM(out->buf), ARG_MEM(in->buf),
                        ARG_INT(c), ARG_INT(in->h), ARG_INT(in->w), ARG_INT(r),
                        ARG_INT(order == HS_SHUFFLE_TF), ARG_INT(n), ARG_END);
}

/* out (N, C, H*r, W*r) = in (N, C, H, W) with every pixel repeated r×r */
hs_status hs_upsample_nearest(hs_tensor *out, const hs_tensor *in, int r)
{
    if (r < 1) return hs_fail(HS_ERR_INTERNAL, "upsample: bad factor %d", r);
    HS_TRY(hs_check_shape("upsample output", out, in->n, in->c, in->h * r, in->w * r));
    int n = (int)hs_tensor_count(out);
    return hs_launch_1d(in->ctx, "upsample_nearest", n, ARG_MEM(out->buf), ARG_MEM(in->buf),
                        ARG_INT(in->h), ARG_INT(in->w), ARG_INT(r), ARG_INT(n), ARG_END);
}
