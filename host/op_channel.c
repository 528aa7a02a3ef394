/* op_channel.c — channel sums and means (the per-plane sums of
 * host/op_reduce.c), and channel scaling by a (N, C, 1, 1) vector (a pass
 * of cl/conv.cl's bias_act) and its gradient: with the sigmoid
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

/* cl/conv.cl's bias_act with a factor per row (plane) and nothing else. */
hs_status hs_channel_scale(hs_tensor *out, const hs_tensor *in, const hs_tensor *v)
{
    HS_TRY(hs_check_same("channel scale", out, in));
    HS_TRY(hs_check_shape("channel scale vector", v, in->n, in->c, 1, 1));
    const int chunk = 1024; /* values per work-item, as hs_epilogue_pass's */
    size_t plane = (size_t)in->h * in->w, rows = (size_t)in->n * in->c;
    if (plane * rows > HS_MAX_ELEMENTS)
        return hs_fail(HS_ERR_TOO_LARGE, "channel scale: %zu values are too many", plane * rows);
    size_t segs = (plane + chunk - 1) / chunk;
    return hs_launch(in->ctx, "bias_act", 2, (size_t[]){segs, rows}, NULL, ARG_MEM(out->buf),
                     ARG_INT(0), ARG_INT(plane), ARG_INT(rows), ARG_INT(plane), ARG_INT(in->c),
                     ARG_MEM(in->buf), ARG_MEM(v->buf), ARG_INT(1), ARG_MEM(in->buf), ARG_INT(0),
                     ARG_INT(0), ARG_FLOAT(0.0f), ARG_MEM(in->buf), ARG_INT(0), ARG_INT(0),
                     ARG_FLOAT(1.0f), ARG_FLOAT(0.0f), ARG_INT(chunk), ARG_END);
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
