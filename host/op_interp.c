/* op_interp.c — host side of cl/interp.cl: resizing by any factor, nearest,
 * bilinear or bicubic, as ncnn's Interp layer. Forward only. */
#include "engine.h"

#include <limits.h>

/* out (N, C, OH, OW) = in (N, C, H, W) resized; the factors are OH/H and OW/W. */
hs_status hs_interp_forward(hs_tensor *out, const hs_tensor *in, hs_interp_mode mode)
{
    if (mode != HS_INTERP_NEAREST && mode != HS_INTERP_BILINEAR && mode != HS_INTERP_BICUBIC)
        return hs_fail(HS_ERR_INTERNAL, "interp: unknown mode %d", (int)mode);
    HS_TRY(hs_check_shape("interp output", out, in->n, in->c, out->h, out->w));
    size_t n = hs_tensor_count(out);
    if (n > INT_MAX || hs_tensor_count(in) > INT_MAX)
        return hs_fail(HS_ERR_TOO_LARGE, "interp: %zu elements are more than one launch indexes",
                       n);
    return hs_launch_1d(in->ctx, "interp", n, ARG_MEM(out->buf), ARG_MEM(in->buf), ARG_INT(in->h),
                        ARG_INT(in->w), ARG_INT(out->h), ARG_INT(out->w), ARG_INT(mode),
                        ARG_INT(n), ARG_END);
}
