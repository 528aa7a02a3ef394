/* op_gram.c — Gram matrices (style losses), forward and backward, as GEMMs
 * per image (hs_gemm: our kernel or CLBlast). With F = in[b] viewed as the
 * row-major (C x H*W) matrix:
 *   forward:  gram[b] = scale * F·Fᵀ, symmetric: its lower triangle by
 *             hs_gemm_lower (half the work on our kernel), the upper
 *             mirrored from it (cl/gram.cl)
 *   backward: din[b]  = scale * S·F, S = dG[b] + dG[b]ᵀ (cl/gram.cl, in scratch)
 */
#include "engine.h"

/* gram (N,1,C,C) = scale * F·Fᵀ per image, in (N,C,H,W) */
hs_status hs_gram_forward(hs_tensor *gram, const hs_tensor *in, float scale)
{
    int C = in->c;
    HS_TRY(hs_check_shape("gram", gram, in->n, 1, C, C));
    size_t plane = (size_t)in->h * in->w, image = C * plane;
    for (int b = 0; b < in->n; b++) {
        hs_matrix f = {in->buf, b * image, plane, 0}, ft = {in->buf, b * image, plane, 1};
        size_t g0 = (size_t)b * C * C;
        HS_TRY(hs_gemm_lower(in->ctx, C, C, plane, scale, f, ft, 0.0f,
                             (hs_matrix){gram->buf, g0, C, 0}));
        HS_TRY(hs_launch(in->ctx, "gram_transpose", 2, (size_t[]){(size_t)C, (size_t)C}, NULL,
                         ARG_MEM(gram->buf), ARG_INT(g0), ARG_MEM(gram->buf), ARG_INT(g0),
                         ARG_INT(C), ARG_INT(0), ARG_END));
    }
    return HS_OK;
}

/* din (N,C,H,W) = scale * (dG + dGᵀ)·F per image, dgram (N,1,C,C) */
hs_status hs_gram_backward(hs_tensor *din, const hs_tensor *dgram, const hs_tensor *in,
                           float scale)
{
    hs_context *ctx = in->ctx;
    int C = in->c;
    HS_TRY(hs_check_same("gram backward", din, in));
    HS_TRY(hs_check_shape("gram backward dgram", dgram, in->n, 1, C, C));
    size_t plane = (size_t)in->h * in->w, image = C * plane;
    cl_mem s;
    HS_TRY(hs_scratch(ctx, (size_t)C * C * sizeof(float), &s));
    for (int b = 0; b < in->n; b++) {
        HS_TRY(hs_launch(ctx, "gram_transpose", 2, (size_t[]){(size_t)C, (size_t)C}, NULL,
                         ARG_MEM(s), ARG_INT(0), ARG_MEM(dgram->buf), ARG_INT(b * C * C),
                         ARG_INT(C), ARG_INT(1), ARG_END));
        HS_TRY(hs_gemm(ctx, C, plane, C, scale, (hs_matrix){s, 0, C, 0},
                       (hs_matrix){in->buf, b * image, plane, 0}, 0.0f,
                       (hs_matrix){din->buf, b * image, plane, 0}));
    }
    return HS_OK;
}
