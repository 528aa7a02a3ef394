/* op_channel.c — channel sums and means (the per-plane sums of
 * host/op_reduce.c), and channel scaling by a (N, C, 1, 1) vector, or by
 * its sigmoid (the gate), as bias_act passes (engine.h's hs_pass), and
 * their gradients: the pieces of a squeeze-excite block (Real-CUGAN,
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

/* out = in times v's value for each plane, or its sigmoid with `gate`: a
 * pass with a factor per row (plane) and nothing else. */
static hs_status scale_planes(hs_tensor *out, const hs_tensor *in, const hs_tensor *v, int gate)
{
    HS_TRY(hs_check_same(gate ? "channel gate" : "channel scale", out, in));
    HS_TRY(hs_check_shape(gate ? "channel gate vector" : "channel scale vector", v, in->n, in->c,
                          1, 1));
    hs_pass p = hs_pass_over_planes(out, in);
    p.row_scale = v->buf;
    p.row_sigmoid = gate;
    return hs_pass_run(in->ctx, &p);
}

hs_status hs_channel_scale(hs_tensor *out, const hs_tensor *in, const hs_tensor *v)
{
    return scale_planes(out, in, v, 0);
}

hs_status hs_channel_gate(hs_tensor *out, const hs_tensor *in, const hs_tensor *v)
{
    return scale_planes(out, in, v, 1);
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

/* The gate's: din = dout * sigmoid(v); dv = the sigmoid's backward of the
 * scale's, sum(dout * in) * s * (1 - s). */
hs_status hs_channel_gate_backward(hs_tensor *din, hs_tensor *dv, const hs_tensor *dout,
                                   const hs_tensor *in, const hs_tensor *v)
{
    HS_TRY(hs_check_same("channel gate backward", dout, in));
    if (din) HS_TRY(hs_channel_gate(din, dout, v));
    if (!dv) return HS_OK;
    HS_TRY(hs_channel_scale_backward(NULL, dv, dout, in, v));
    return hs_sigmoid_backward(dv, dv, v);
}
