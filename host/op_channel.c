/* op_channel.c — channel sums and means (the per-plane sums of
 * host/op_reduce.c), and channel scaling by a (N, C, 1, 1) vector (an
 * epilogue pass, hs_epilogue_pass_from) and its gradient: with the sigmoid
 * (op_elementwise.c), the pieces of a squeeze-excite block (Real-CUGAN,
 * waifu2x cunet). */
#include "reduce.h"

hs_status hs_channel_sum(hs_tensor *out, const hs_tensor *in, int y0, int x0, int h, int w,
                         float scale)
{
    return hs_reduce_planes(HS_REDUCE_SUM, in, NULL, y0, x0, h, w, scale, out);
}

hs_status hs_channel_mean(hs_tensor *out, const hs_tensor *in)
{
    return hs_channel_sum(out, in, 0, 0, in->h, in->w, 1.0f / ((float)in->h * (float)in->w));
}

hs_status hs_channel_mean_backward(hs_tensor *din, const hs_tensor *dout)
{
    HS_TRY(hs_check_shape("channel mean backward", dout, din->n, din->c, 1, 1));
    HS_TRY(hs_tensor_fill(din, 1.0f / ((float)din->h * (float)din->w)));
    return hs_channel_scale(din, din, dout);
}

/* An epilogue pass with a factor per row (plane) and nothing else. */
hs_status hs_channel_scale(hs_tensor *out, const hs_tensor *in, const hs_tensor *v)
{
    HS_TRY(hs_check_same("channel scale", out, in));
    HS_TRY(hs_check_shape("channel scale vector", v, in->n, in->c, 1, 1));
    size_t plane = (size_t)in->h * in->w;
    hs_epilogue none = {.scale = 1.0f};
    return hs_epilogue_pass_from(in->ctx, out->buf, in->buf, v->buf, 0, plane,
                                 (size_t)in->n * in->c, plane, in->c, &none);
}

hs_status hs_channel_scale_backward(hs_tensor *din, hs_tensor *dv, const hs_tensor *dout,
                                    const hs_tensor *in, const hs_tensor *v)
{
    HS_TRY(hs_check_same("channel scale backward", dout, in));
    if (din) HS_TRY(hs_channel_scale(din, dout, v));
    if (!dv) return HS_OK;
    HS_TRY(hs_check_shape("channel scale backward vector", dv, in->n, in->c, 1, 1));
    return hs_reduce_planes(HS_REDUCE_DOT, dout, in, 0, 0, in->h, in->w, 1.0f, dv);
}
