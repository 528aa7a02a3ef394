/* op_elementwise.c — host side of cl/elementwise.cl: activations; and the
 * rectifiers, scaled sums (add, multiply by a constant, axpy) and clamping
 * by epilogue passes (cl/conv.cl's bias_act). */
#include "engine.h"

static int count(const hs_tensor *t) { return (int)hs_tensor_count(t); }

/* The activate kernel's kind of activation over x and gate, shapes checked
 * (cl/elementwise.cl). */
static hs_status activate(hs_tensor *out, const hs_tensor *x, const hs_tensor *gate,
                          hs_act_kind kind)
{
    return hs_launch_1d(x->ctx, "activate", count(x), ARG_MEM(out->buf), ARG_MEM(x->buf),
                        ARG_MEM(gate->buf), ARG_INT(kind), ARG_INT(count(x)), ARG_END);
}

/* out = gate > 0 ? x : slope * x: an epilogue pass (cl/conv.cl's bias_act,
 * which the convs' passes compile anyway) */
static hs_status rectify(hs_tensor *out, const hs_tensor *x, const hs_tensor *gate, float slope)
{
    hs_epilogue ep = {.rectify = HS_RECTIFY_GATE, .slope = slope, .residual = gate->buf,
                      .scale = 1.0f};
    hs_pass p = hs_pass_over_planes(out, x);
    p.ep = &ep;
    return hs_pass_run(x->ctx, &p);
}

hs_status hs_relu_forward(hs_tensor *out, const hs_tensor *in)
{
    HS_TRY(hs_check_same("relu", out, in));
    return rectify(out, in, in, 0.0f);
}

hs_status hs_relu_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in)
{
    HS_TRY(hs_check_same("relu backward", din, in));
    HS_TRY(hs_check_same("relu backward", dout, in));
    return rectify(din, dout, in, 0.0f);
}

hs_status hs_leaky_relu_forward(hs_tensor *out, const hs_tensor *in, float slope)
{
    HS_TRY(hs_check_same("leaky relu", out, in));
    return rectify(out, in, in, slope);
}

hs_status hs_leaky_relu_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in,
                                 float slope)
{
    HS_TRY(hs_check_same("leaky relu backward", din, in));
    HS_TRY(hs_check_same("leaky relu backward", dout, in));
    return rectify(din, dout, in, slope);
}

hs_status hs_prelu_forward(hs_tensor *out, const hs_tensor *in, const hs_tensor *slope)
{
    HS_TRY(hs_check_same("prelu", out, in));
    HS_TRY(hs_check_shape("prelu slope", slope, 1, in->c, 1, 1));
    return hs_launch_1d(in->ctx, "prelu_forward", count(in), ARG_MEM(out->buf), ARG_MEM(in->buf),
                        ARG_MEM(slope->buf), ARG_INT(in->h * in->w), ARG_INT(in->c),
                        ARG_INT(count(in)), ARG_END);
}

hs_status hs_prelu_backward(hs_tensor *din, hs_tensor *dslope, const hs_tensor *dout,
                            const hs_tensor *in, const hs_tensor *slope)
{
    HS_TRY(hs_check_same("prelu backward", dout, in));
    HS_TRY(hs_check_shape("prelu backward slope", slope, 1, in->c, 1, 1));
    if (dslope) {
        HS_TRY(hs_check_same("prelu backward dslope", dslope, slope));
        HS_TRY(hs_launch_1d(in->ctx, "prelu_backward_slope", in->c, ARG_MEM(dslope->buf),
                            ARG_MEM(dout->buf), ARG_MEM(in->buf), ARG_INT(in->h * in->w),
                            ARG_INT(in->c), ARG_INT(in->n), ARG_END));
    }
    if (!din) return HS_OK;
    HS_TRY(hs_check_same("prelu backward", din, in));
    return hs_launch_1d(in->ctx, "prelu_backward", count(in), ARG_MEM(din->buf),
                        ARG_MEM(dout->buf), ARG_MEM(in->buf), ARG_MEM(slope->buf),
                        ARG_INT(in->h * in->w), ARG_INT(in->c), ARG_INT(count(in)), ARG_END);
}

/* out = alpha * a + beta * b: b is the pass's residual. beta 0 reads a in
 * b's place, so b may hold anything (an infinite a then gives NaN, 0 × inf:
 * the values scaled are finite). Shapes checked. */
static hs_status scaled(hs_tensor *out, float alpha, const hs_tensor *a, float beta,
                        const hs_tensor *b)
{
    hs_epilogue ep = {.residual = beta == 0.0f ? a->buf : b->buf, .scale = alpha,
                      .residual_scale = beta};
    hs_pass p = hs_pass_over_planes(out, a);
    p.ep = &ep;
    return hs_pass_run(a->ctx, &p);
}

hs_status hs_axpby(hs_tensor *out, float alpha, const hs_tensor *a, float beta, const hs_tensor *b)
{
    HS_TRY(hs_check_same("axpby", out, a));
    if (!b) return hs_scale(out, a, alpha);
    HS_TRY(hs_check_same("axpby", b, a));
    return scaled(out, alpha, a, beta, b);
}

hs_status hs_scale(hs_tensor *out, const hs_tensor *in, float alpha)
{
    HS_TRY(hs_check_same("scale", out, in));
    return scaled(out, alpha, in, 0.0f, in);
}

hs_status hs_add(hs_tensor *out, const hs_tensor *a, const hs_tensor *b)
{
    return hs_axpby(out, 1.0f, a, 1.0f, b);
}

hs_status hs_axpy(hs_tensor *y, float alpha, const hs_tensor *x)
{
    HS_TRY(hs_check_same("axpy", y, x));
    return scaled(y, alpha, x, 1.0f, y);
}

hs_status hs_tanh_half(hs_tensor *out, const hs_tensor *in)
{
    HS_TRY(hs_check_same("tanh_half", out, in));
    return activate(out, in, in, HS_ACT_TANH_HALF);
}

hs_status hs_tanh_half_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in)
{
    HS_TRY(hs_check_same("tanh_half backward", din, in));
    HS_TRY(hs_check_same("tanh_half backward", dout, in));
    return activate(din, dout, in, HS_ACT_TANH_HALF_BACKWARD);
}

hs_status hs_clamp(hs_tensor *t, float lo, float hi)
{
    hs_pass p = hs_pass_over_planes(t, t);
    p.clamped = 1;
    p.lo = lo;
    p.hi = hi;
    return hs_pass_run(t->ctx, &p);
}

hs_status hs_sigmoid_forward(hs_tensor *out, const hs_tensor *in)
{
    HS_TRY(hs_check_same("sigmoid", out, in));
    return activate(out, in, in, HS_ACT_SIGMOID);
}

hs_status hs_sigmoid_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in)
{
    HS_TRY(hs_check_same("sigmoid backward", din, in));
    HS_TRY(hs_check_same("sigmoid backward", dout, in));
    return activate(din, dout, in, HS_ACT_SIGMOID_BACKWARD);
}
