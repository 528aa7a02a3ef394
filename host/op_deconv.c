/* op_deconv.c — transposed convolution (ncnn's Deconvolution, PyTorch's
 * ConvTranspose2d) as the conv it transposes: its forward is the conv's
 * backward w.r.t. the input (GEMM, then col2im), its backward w.r.t. the
 * input is the conv's forward, and its weight gradient the conv's weight
 * gradient with input and output in swapped roles. The bias, an Add's
 * residual and the activation take one pass over the output after the
 * col2im (conv.cl's bias_act), which only then holds whole sums. No kernels
 * of its own beyond bias_act and bias_backward.
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

/* Channels channel0 .. of out's images (C channels each) from t's (the
 * deconv's own output): one contiguous run per image. */
static hs_status copy_into_channels(hs_tensor *out, int channel0, const hs_tensor *t)
{
    size_t plane = (size_t)t->h * t->w, run = (size_t)t->c * plane * sizeof(float);
    for (int b = 0; b < t->n; b++)
        HS_CL_CHECK(clEnqueueCopyBuffer(t->ctx->queue, t->buf, out->buf, b * run,
                                        ((size_t)b * out->c + channel0) * plane * sizeof(float),
                                        run, 0, NULL, NULL),
                    "copying a deconv's output into its channels");
    return HS_OK;
}

/* The epilogue pass over channels channel0 .. channel0 + OC - 1 of out's
 * images: one launch for all when they are the whole of out. */
static hs_status epilogue_into(hs_tensor *out, int channel0, int oc, hs_epilogue ep)
{
    size_t plane = (size_t)out->h * out->w;
    int whole = channel0 == 0 && out->c == oc;
    for (int b = 0; b < (whole ? 1 : out->n); b++) {
        ep.residual_offset = (size_t)b * oc * plane;
        HS_TRY(hs_epilogue_pass(out->ctx, out->buf, ((size_t)b * out->c + channel0) * plane,
                                plane, (size_t)(whole ? out->n : 1) * oc, plane, oc, &ep));
    }
    return HS_OK;
}

hs_status hs_deconv2d_forward_into(hs_tensor *out, int channel0, const hs_tensor *in,
                                   const hs_tensor *weight, const hs_tensor *bias,
                                   hs_conv_params p, const hs_residual *res,
                                   const hs_activation *act)
{
    int oc = weight->c, oh = hs_deconv_out_size(in->h, weight->h, p.stride, p.pad_h),
        ow = hs_deconv_out_size(in->w, weight->w, p.stride, p.pad_w);
    if (channel0 < 0 || out->c < channel0 + oc)
        return hs_fail(HS_ERR_INTERNAL, "deconv: channels %d..%d of a %d-channel output",
                       channel0, channel0 + oc - 1, out->c);
    HS_TRY(hs_check_shape("deconv output", out, in->n, out->c, oh, ow));
    if (bias) HS_TRY(hs_check_shape("deconv bias", bias, 1, oc, 1, 1));
    if (res) HS_TRY(hs_check_shape("deconv residual", res->tensor, in->n, oc, oh, ow));
    /* The conv's backward writes whole tensors: a slice of a larger output
     * is computed apart and copied in. */
    hs_tensor own = {0};
    if (channel0 != 0 || out->c != oc) HS_TRY(hs_tensor_alloc(in->ctx, &own, in->n, oc, oh, ow));
    hs_tensor *target = own.buf ? &own : out;
    /* target takes the conv input's place; only its shape is read as such */
    hs_status st = hs_conv2d_backward(target, NULL, NULL, in, target, weight, p);
    if (st == HS_OK && own.buf) st = copy_into_channels(out, channel0, &own);
    hs_tensor_free(&own);
    HS_TRY(st);
    if (!bias && !res && !act) return HS_OK;
    return epilogue_into(out, channel0, oc, hs_epilogue_of(bias, res, act));
}

hs_status hs_deconv2d_forward(hs_tensor *out, const hs_tensor *in, const hs_tensor *weight,
                              const hs_tensor *bias, hs_conv_params p)
{
    return hs_deconv2d_forward_into(out, 0, in, weight, bias, p, NULL, NULL);
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
