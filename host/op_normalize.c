/* op_normalize.c — host side of cl/normalize.cl: the affine map from a float
 * RGB image in [0,1] to a network's input (and its backward). */
#include "engine.h"

static hs_status check(const char *op, const hs_tensor *a, const hs_tensor *b)
{
    HS_TRY(hs_check_same(op, a, b));
    if (a->c != 3) return hs_fail(HS_ERR_INTERNAL, "%s: needs 3 channels, not %d", op, a->c);
    return HS_OK;
}

/* out[c] = in[src(c)] * mul[c] + add[c], src(c) = swap ? 2-c : c */
static hs_status launch(hs_tensor *out, const hs_tensor *in, const float *mul, const float *add,
                        int swap)
{
    int n = (int)hs_tensor_count(in);
    return hs_launch_1d(in->ctx, "normalize_rgb", n, ARG_MEM(out->buf), ARG_MEM(in->buf),
                        ARG_FLOAT(mul[0]), ARG_FLOAT(mul[1]), ARG_FLOAT(mul[2]),
                        ARG_FLOAT(add[0]), ARG_FLOAT(add[1]), ARG_FLOAT(add[2]), ARG_INT(swap),
                        ARG_INT(in->h * in->w), ARG_INT(n), ARG_END);
}

hs_status hs_normalize_forward(hs_tensor *out, const hs_tensor *in, const hs_normalize *norm)
{
    HS_TRY(check("normalize", out, in));
    float mul[3], add[3];
    for (int c = 0; c < 3; c++) {
        mul[c] = 255.0f * norm->scale / norm->std[c];
        add[c] = -norm->mean[c] / norm->std[c];
    }
    return launch(out, in, mul, add, norm->bgr);
}

/* din[s] = dout[src(s)] * mul[src(s)]: the forward's map with its factors
 * reordered by src (its own inverse) and nothing added. */
hs_status hs_normalize_backward(hs_tensor *din, const hs_tensor *dout, const hs_normalize *norm)
{
    HS_TRY(check("normalize backward", din, dout));
    float mul[3], add[3] = {0.0f, 0.0f, 0.0f};
    for (int s = 0; s < 3; s++) {
        int src = norm->bgr ? 2 - s : s;
        mul[s] = 255.0f * norm->scale / norm->std[src];
    }
    return launch(din, dout, mul, add, norm->bgr);
}
