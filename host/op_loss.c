/* op_loss.c — the mean squared error, L1 and total variation losses into a
 * one-element tensor (a deterministic sum, host/reduce.h), and their
 * gradients (cl/loss.cl, and hs_axpby for the mean squared error's). */
#include "reduce.h"

/* loss (1,1,1,1) = scale * sum((a - b)^2), a and b (N,C,H,W) */
hs_status hs_mse_loss(hs_tensor *loss, const hs_tensor *a, const hs_tensor *b, float scale)
{
    HS_TRY(hs_check_same("mse loss", b, a));
    return hs_reduce(HS_REDUCE_SQUARED_DIFF, a, b, scale, loss);
}

/* da (N,C,H,W) = 2*scale * (a - b) */
hs_status hs_mse_backward(hs_tensor *da, const hs_tensor *a, const hs_tensor *b, float scale)
{
    HS_TRY(hs_check_same("mse backward", b, a));
    HS_TRY(hs_check_same("mse backward", da, a));
    return hs_axpby(da, 2.0f * scale, a, -2.0f * scale, b);
}

/* loss (1,1,1,1) = scale * sum(|a - b|), a and b (N,C,H,W) */
hs_status hs_l1_loss(hs_tensor *loss, const hs_tensor *a, const hs_tensor *b, float scale)
{
    HS_TRY(hs_check_same("l1 loss", b, a));
    return hs_reduce(HS_REDUCE_ABS_DIFF, a, b, scale, loss);
}

/* da (N,C,H,W) = scale * sign(a - b) */
hs_status hs_l1_backward(hs_tensor *da, const hs_tensor *a, const hs_tensor *b, float scale)
{
    HS_TRY(hs_check_same("l1 backward", b, a));
    HS_TRY(hs_check_same("l1 backward", da, a));
    int n = (int)hs_tensor_count(a);
    return hs_launch_1d(a->ctx, "l1_backward", n, ARG_MEM(da->buf), ARG_MEM(a->buf),
                        ARG_MEM(b->buf), ARG_FLOAT(scale), ARG_INT(n), ARG_END);
}

/* loss (1,1,1,1) = scale * total variation of x (N,C,H,W), per plane */
hs_status hs_tv_loss(hs_tensor *loss, const hs_tensor *x, float scale)
{
    return hs_reduce(HS_REDUCE_TV, x, NULL, scale, loss);
}

/* dx (N,C,H,W) = d loss / dx; dx must not be x (neighbours are read) */
hs_status hs_tv_backward(hs_tensor *dx, const hs_tensor *x, float scale)
{
    HS_TRY(hs_check_same("tv backward", dx, x));
    int n = (int)hs_tensor_count(x);
    return hs_launch_1d(x->ctx, "tv_backward", n, ARG_MEM(dx->buf), ARG_MEM(x->buf),
                        ARG_FLOAT(2.0f * scale), ARG_INT(x->w), ARG_INT(x->h), ARG_INT(n),
                        ARG_END);
}
