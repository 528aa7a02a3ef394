/* op_normalize.c — the affine map from a float RGB image in [0,1] to a
 * network's input, and its backward: the shift by 0 of cl/image.cl's
 * shift_affine, which the jitter compiles anyway. Per channel c:
 *   out[c] = in[src(c)] * mul[c] + add[c],  src(c) = bgr ? 2-c : c
 * Forward: mul = 255*scale/std, add = -mean/std. The backward is the same
 * map: din[s] = dout[src(s)] * mul[src(s)], src being its own inverse, so
 * it takes the factors reordered and adds nothing. */
#include "engine.h"

static hs_status check(const char *op, const hs_tensor *a, const hs_tensor *b)
{
    HS_TRY(hs_check_same(op, a, b));
    if (a->c != 3) return hs_fail(HS_ERR_INTERNAL, "%s: needs 3 channels, not %d", op, a->c);
    return HS_OK;
}

hs_status hs_normalize_forward(hs_tensor *out, const hs_tensor *in, const hs_normalize *norm)
{
    HS_TRY(check("normalize", out, in));
    float mul[3], add[3];
    for (int c = 0; c < 3; c++) {
        mul[c] = 255.0f * norm->scale / norm->std[c];
        add[c] = -norm->mean[c] / norm->std[c];
    }
    return hs_shift_affine(out, in, 0, 0, norm->bgr, mul, add);
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
    return hs_shift_affine(din, dout, 0, 0, norm->bgr, mul, add);
}
