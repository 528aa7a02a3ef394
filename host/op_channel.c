/* op_channel.c — host side of cl/channel.cl: channel sums and means, and
 * channel scaling by a (N, C, 1, 1) vector and its gradient: with the
 * sigmoid (op_elementwise.c), the pieces of a squeeze-excite block
 * (Real-CUGAN, waifu2x cunet). */
#include "engine.h"

static int planes(const hs_tensor *t) { return t->n * t->c; }

hs_status hs_channel_sum(hs_tensor *out, const hs_tensor *in, int y0, int x0, int h, int w,
                         float scale)
{
    HS_TRY(hs_check_shape("channel sum output", out, in->n, in->c, 1, 1));
    if (y0 < 0 || x0 < 0 || h < 0 || w < 0 || y0 + h > in->h || x0 + w > in->w)
        return hs_fail(HS_ERR_INTERNAL, "channel sum: %dx%d window at (%d,%d) of a %dx%d map", w,
                       h, x0, y0, in->w, in->h);
    return hs_launch_1d(in->ctx, "channel_sum", planes(in), ARG_MEM(out->buf), ARG_MEM(in->buf),
                        ARG_INT(in->h), ARG_INT(in->w), ARG_INT(y0), ARG_INT(x0), ARG_INT(h),
                        ARG_INT(w), ARG_FLOAT(scale), ARG_INT(planes(in)), ARG_END);
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

hs_status hs_channel_scale(hs_tensor *out, const hs_tensor *in, const hs_tensor *v)
{
    HS_TRY(hs_check_same("channel scale", out, in));
    HS_TRY(hs_check_shape("channel scale vector", v, in->n, in->c, 1, 1));
    size_t n = hs_tensor_count(in);
    return hs_launch_1d(in->ctx, "channel_scale", n, ARG_MEM(out->buf), ARG_MEM(in->buf),
                        ARG_MEM(v->buf), ARG_INT(in->h * in->w), ARG_INT(n), ARG_END);
}

hs_status hs_channel_scale_backward(hs_tensor *din, hs_tensor *dv, const hs_tensor *dout,
                                    const hs_tensor *in, const hs_tensor *v)
{
    HS_TRY(hs_check_same("channel scale backward", dout, in));
    if (din) HS_TRY(hs_channel_scale(din, dout, v));
    if (!dv) return HS_OK;
    HS_TRY(hs_check_shape("channel scale backward vector", dv, in->n, in->c, 1, 1));
    return hs_launch_1d(in->ctx, "channel_dot", planes(in), ARG_MEM(dv->buf), ARG_MEM(dout->buf),
                        ARG_MEM(in->buf), ARG_INT(in->h * in->w), ARG_INT(planes(in)), ARG_END);
}
