/* op_deconv.c — transposed convolution (ncnn's Deconvolution, PyTorch's
 * ConvTranspose2d) as the conv it transposes: its forward is the conv's
 * backward w.r.t. the input (GEMM, then col2im), its backward w.r.t. the
 * input is the conv's forward, and its weight gradient the conv's weight
 * gradient with input and output in swapped roles. No kernels of its own
 * beyond conv.cl's bias_act and bias_backward.
 *
 * weight (IC, OC, KH, KW): the weights of the conv from OC to IC channels.
 * out (N, OC, OH, OW), OH = (H - 1)*stride + KH - 2*pad_h, likewise OW:
 *   out[o][y*stride + ky - pad_h][x*stride + kx - pad_w] += in[i][y][x] * weight[i][o][ky][kx]
 */
#include "engine.h"

int hs_deconv_out_size(int in, int k, int stride, int pad)
{
    return (in - 1) * stride + k - 2 * pad;
}

/* bias (1, C, 1, 1) added to every plane of t */
static hs_status add_bias(hs_tensor *t, const hs_tensor *bias)
{
    HS_TRY(hs_check_shape("deconv bias", bias, 1, t->c, 1, 1));
    hs_epilogue ep = {.bias = bias->buf};
    return hs_epilogue_pass(t->ctx, t->buf, 0, (size_t)t->h * t->w, (size_t)t->n * t->c,
                            (size_t)t->h * t->w, t->c, &ep);
}

hs_status hs_deconv2d_forward(hs_tensor *out, const hs_tensor *in, const hs_tensor *weight,
                              const hs_tensor *bias, hs_conv_params p)
{
    HS_TRY(hs_check_shape("deconv output", out, in->n, weight->c,
                          hs_deconv_out_size(in->h, weight->h, p.stride, p.pad_h),
                          hs_deconv_out_size(in->w, weight->w, p.stride, p.pad_w)));
    /* out takes the conv input's place; only its shape is read as such */
    HS_TRY(hs_conv2d_backward(out, NULL, NULL, in, out, weight, p));
    return bias ? add_bias(out, bias) : HS_OK;
}

hs_status hs_deconv2d_backward(hs_tensor *din, hs_tensor *dweight, hs_tensor *dbias,
                               const hs_tensor *dout, const hs_tensor *in,
                               const hs_tensor *weight, hs_conv_params p)
{
    if (din) HS_TRY(hs_conv2d_forward(din, dout, weight, NULL, p));
    if (dweight) HS_TRY(hs_conv2d_backward(NULL, dweight, NULL, in, dout, weight, p));
    if (!dbias) return HS_OK;
    HS_TRY(hs_check_shape("deconv backward dbias", dbias, 1, dout->c, 1, 1));
    return hs_launch_1d(dout->ctx, "bias_backward", dout->c, ARG_MEM(dbias->buf),
                        ARG_MEM(dout->buf), ARG_INT((size_t)dout->h * dout->w), ARG_INT(dout->c),
                        ARG_INT(dout->n), ARG_END);
}
