/* op_pool.c — host side of cl/pool.cl: max and average pooling, forward and
 * backward, over a k×k window with stride and zero padding. */
#include "engine.h"

/* Checks the parameters against in (N,C,H,W) and gives OH, OW. */
static hs_status pool_output_size(const char *op, const hs_tensor *in, hs_pool_params p, int *oh,
                                  int *ow)
{
    if (p.k < 1 || p.stride < 1 || p.pad < 0 || p.pad >= p.k)
        return hs_fail(HS_ERR_INTERNAL, "%s: bad window %d, stride %d or padding %d", op, p.k,
                       p.stride, p.pad);
    *oh = hs_conv_out_size(in->h, p.k, p.stride, p.pad);
    *ow = hs_conv_out_size(in->w, p.k, p.stride, p.pad);
    if (*oh < 1 || *ow < 1)
        return hs_fail(HS_ERR_INTERNAL, "%s: a %dx%d window does not fit a %dx%d input", op, p.k,
                       p.k, in->h, in->w);
    return HS_OK;
}

/* The kernel arguments H, W, OH, OW, k, stride, pad that every pool kernel takes. */
#define POOL_GEOMETRY(in, oh, ow, p)                                                    \
    ARG_INT((in)->h), ARG_INT((in)->w), ARG_INT(oh), ARG_INT(ow), ARG_INT((p).k),      \
        ARG_INT((p).stride), ARG_INT((p).pad)

/* The passes of cl/pool.cl's maxpool kernel. */
enum { MAXPOOL_VALUES, MAXPOOL_ARGMAX, MAXPOOL_BACKWARD };

/* out (N,C,OH,OW) = max over each window of in (N,C,H,W) */
hs_status hs_maxpool_forward(hs_tensor *out, const hs_tensor *in, hs_pool_params p)
{
    int oh = 0, ow = 0; /* set by pool_output_size when it succeeds */
    HS_TRY(pool_output_size("maxpool", in, p, &oh, &ow));
    HS_TRY(hs_check_shape("maxpool output", out, in->n, in->c, oh, ow));
    int rows = in->n * in->c * oh;
    return hs_launch_1d(in->ctx, "maxpool", rows, ARG_MEM(out->buf), ARG_MEM(out->buf),
                        ARG_INT(MAXPOOL_VALUES), ARG_MEM(in->buf), ARG_MEM(in->buf),
                        POOL_GEOMETRY(in, oh, ow, p), ARG_INT(rows), ARG_INT(0), ARG_INT(0),
                        ARG_FLOAT(0.0f), ARG_END);
}

/* din (N,C,H,W) from dout (N,C,OH,OW): each window's gradient goes to its max.
 * Each window's argmax is found once, into scratch (one int per window), and
 * every input row gathers the windows that chose one of its cells. */
hs_status hs_maxpool_backward(hs_tensor *din, const hs_tensor *dout, const hs_tensor *in,
                              hs_pool_params p)
{
    return hs_maxpool_backward_input(din, 0, NULL, dout, in, p);
}

hs_status hs_maxpool_backward_input(hs_tensor *din, int add, const hs_activation *gate,
                                    const hs_tensor *dout, const hs_tensor *in, hs_pool_params p)
{
    int oh = 0, ow = 0; /* set by pool_output_size when it succeeds */
    HS_TRY(pool_output_size("maxpool backward", in, p, &oh, &ow));
    HS_TRY(hs_check_shape("maxpool backward dout", dout, in->n, in->c, oh, ow));
    HS_TRY(hs_check_same("maxpool backward din", din, in));
    int out_rows = in->n * in->c * oh, in_rows = in->n * in->c * in->h;
    cl_mem argmax;
    HS_TRY(hs_scratch(in->ctx, hs_tensor_count(dout) * sizeof(cl_int), &argmax));
    HS_TRY(hs_launch_1d(in->ctx, "maxpool", out_rows, ARG_MEM(argmax), ARG_MEM(argmax),
                        ARG_INT(MAXPOOL_ARGMAX), ARG_MEM(in->buf), ARG_MEM(in->buf),
                        POOL_GEOMETRY(in, oh, ow, p), ARG_INT(out_rows), ARG_INT(0), ARG_INT(0),
                        ARG_FLOAT(0.0f), ARG_END));
    return hs_launch_1d(in->ctx, "maxpool", in_rows, ARG_MEM(din->buf), ARG_MEM(argmax),
                        ARG_INT(MAXPOOL_BACKWARD), ARG_MEM(in->buf), ARG_MEM(dout->buf),
                        POOL_GEOMETRY(in, oh, ow, p), ARG_INT(in_rows), ARG_INT(add),
                        ARG_INT(gate != NULL), ARG_FLOAT(gate ? gate->slope : 0.0f), ARG_END);
}

/* out (N,C,OH,OW) = mean over each window of in (N,C,H,W) */
hs_status hs_avgpool_forward(hs_tensor *out, const hs_tensor *in, hs_pool_params p)
{
    int oh = 0, ow = 0; /* set by pool_output_size when it succeeds */
    HS_TRY(pool_output_size("avgpool", in, p, &oh, &ow));
    HS_TRY(hs_check_shape("avgpool output", out, in->n, in->c, oh, ow));
    int n = (int)hs_tensor_count(out);
    return hs_launch_1d(in->ctx, "avgpool_forward", n, ARG_MEM(out->buf), ARG_MEM(in->buf),
                        POOL_GEOMETRY(in, oh, ow, p), ARG_INT(p.count_pad), ARG_INT(n), ARG_END);
}

/* din (N,C,H,W) from dout (N,C,OH,OW): each window's gradient shared by its cells */
hs_status hs_avgpool_backward(hs_tensor *din, const hs_tensor *dout, hs_pool_params p)
{
    int oh = 0, ow = 0; /* set by pool_output_size when it succeeds */
    HS_TRY(pool_output_size("avgpool backward", din, p, &oh, &ow));
    HS_TRY(hs_check_shape("avgpool backward dout", dout, din->n, din->c, oh, ow));
    int n = (int)hs_tensor_count(din);
    return hs_launch_1d(din->ctx, "avgpool_backward", n, ARG_MEM(din->buf), ARG_MEM(dout->buf),
                        POOL_GEOMETRY(din, oh, ow, p), ARG_INT(p.count_pad), ARG_INT(n), ARG_END);
}
