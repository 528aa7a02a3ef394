/* op_conv.c — 2-D convolution, forward and backward, as im2col + GEMM.
 *
 * Per image and per band of output rows (the band is as tall as the scratch
 * limit allows, so memory stays bounded at any image size):
 *   forward:        out[:, band]  = W (OC x K) · col (K x npix)
 *   backward input: dcol          = Wᵀ (K x OC) · dout[:, band], then col2im
 *   backward weight dW           += dout[:, band] · colᵀ
 * with K = IC*KH*KW and npix = band rows * OW. A 1×1 stride-1 unpadded conv
 * needs no im2col: the image itself is the (IC x H*W) matrix. The bias, an
 * Add's other input and an activation are the GEMM's epilogue
 * (hs_gemm_epilogue), applied as it stores; the output may be a slice of
 * channels of a larger tensor (a concat's, net.c), each image's at its
 * place. A 3×3 stride-1 conv may go to Winograd instead (op_winograd.c),
 * forward and backward-input, any forward to the implicit GEMM (our GEMM
 * kernel reading the patches straight from the input, hs_gemm_kernel_conv),
 * and a stride-1 forward to a few channels to the direct conv_few kernel,
 * where host/conv_algorithm.c picks them.
 */
#include "engine.h"

#include <limits.h>

int hs_conv_out_size(int in, int k, int stride, int pad)
{
    return (in + 2 * pad - k) / stride + 1;
}

typedef struct conv_geometry {
    int batch, ic, h, w, oc, kh, kw, oh, ow, k; /* k = ic*kh*kw */
    hs_conv_params p;
    int pointwise; /* 1×1, stride 1, no padding */
    int band;      /* output rows per band */
} conv_geometry;

static hs_status conv_geometry_of(conv_geometry *g, const char *op, const hs_tensor *in,
                                  const hs_tensor *weight, hs_conv_params p)
{
    if (p.stride < 1 || p.pad_h < 0 || p.pad_w < 0)
        return hs_fail(HS_ERR_INTERNAL, "%s: bad stride %d or padding %d,%d", op, p.stride,
                       p.pad_h, p.pad_w);
    if (weight->c != in->c)
        return hs_fail(HS_ERR_INTERNAL, "%s: weights take %d channels, input has %d", op,
                       weight->c, in->c);
    *g = (conv_geometry){.batch = in->n, .ic = in->c, .h = in->h, .w = in->w, .oc = weight->n,
                         .kh = weight->h, .kw = weight->w, .p = p};
    g->oh = hs_conv_out_size(in->h, g->kh, p.stride, p.pad_h);
    g->ow = hs_conv_out_size(in->w, g->kw, p.stride, p.pad_w);
    if (g->oh < 1 || g->ow < 1)
        return hs_fail(HS_ERR_INTERNAL, "%s: a %dx%d kernel does not fit a %dx%d input", op,
                       g->kh, g->kw, in->h, in->w);
    g->k = g->ic * g->kh * g->kw;
    g->pointwise = g->kh == 1 && g->kw == 1 && p.stride == 1 && p.pad_h == 0 && p.pad_w == 0;
    size_t limit = in->ctx->scratch_limit / sizeof(float);
    size_t row_floats = (size_t)g->k * g->ow;
    g->band = (int)(limit / row_floats);
    if (g->band < 1) g->band = 1;
    if (g->band > g->oh) g->band = g->oh;
    return HS_OK;
}

static hs_status im2col_band(hs_context *ctx, cl_mem col, const hs_tensor *in, int b,
                             const conv_geometry *g, int oy0, int rows)
{
    return hs_launch(ctx, "im2col", 2, (size_t[]){(size_t)rows, (size_t)g->k}, NULL,
                     ARG_MEM(col), ARG_MEM(in->buf), ARG_INT(b * g->ic * g->h * g->w),
                     ARG_INT(g->ic), ARG_INT(g->h), ARG_INT(g->w), ARG_INT(g->kh), ARG_INT(g->kw),
                     ARG_INT(g->p.stride), ARG_INT(g->p.pad_h), ARG_INT(g->p.pad_w),
                     ARG_INT(g->oh), ARG_INT(g->ow), ARG_INT(oy0), ARG_INT(rows), ARG_INT(0),
                     ARG_INT(0), ARG_INT(0), ARG_END);
}

/* din's image b += im2col's backward of the band's col, into the input rows
 * iy0 .. iy0+in_rows-1 that the band reaches. */
static hs_status col2im_band(hs_context *ctx, hs_tensor *din, cl_mem col, int b,
                             const conv_geometry *g, int oy0, int rows, int iy0, int in_rows)
{
    return hs_launch(ctx, "im2col", 2, (size_t[]){(size_t)in_rows, (size_t)g->ic}, NULL,
                     ARG_MEM(col), ARG_MEM(din->buf), ARG_INT(b * g->ic * g->h * g->w),
                     ARG_INT(g->ic), ARG_INT(g->h), ARG_INT(g->w), ARG_INT(g->kh), ARG_INT(g->kw),
                     ARG_INT(g->p.stride), ARG_INT(g->p.pad_h), ARG_INT(g->p.pad_w),
                     ARG_INT(g->oh), ARG_INT(g->ow), ARG_INT(oy0), ARG_INT(rows), ARG_INT(iy0),
                     ARG_INT(in_rows), ARG_INT(1), ARG_END);
}

static hs_status band_scratch(hs_context *ctx, const conv_geometry *g, cl_mem *col)
{
    return hs_scratch(ctx, (size_t)g->k * g->band * g->ow * sizeof(float), col);
}

/* Channels channel0 .. channel0+g->oc-1 of out = the conv of in (g->ic
 * channels) by weight (g's shape), then the epilogue, by the implicit GEMM;
 * with `add`, added to what out holds there.
 * *done is 0 where it cannot run, for im2col to do the conv: the implicit
 * GEMM is our GEMM kernel's (not CLBlast's), and indexes with ints. */
static hs_status implicit_conv(hs_tensor *out, int channel0, const hs_tensor *in, cl_mem weight,
                               const conv_geometry *g, hs_conv_params p,
                               const hs_epilogue *ep, int add, int *done)
{
    hs_conv_gemm cg = {in->buf, weight, out->buf, g->batch, g->ic, g->h, g->w, g->oc, g->kh,
                       g->kw, p, g->oh, g->ow, out->c, channel0, add};
    int own = 0;
    HS_TRY(hs_gemm_choose(in->ctx, &own));
    *done = own && hs_gemm_kernel_conv_handles(&cg);
    return *done ? hs_gemm_kernel_conv(in->ctx, &cg, ep) : HS_OK;
}

/* The conv by conv_few (cl/conv_few.cl), stride 1: one launch for each 4
 * output channels. */
static hs_status few_conv(hs_tensor *out, int channel0, const hs_tensor *in, cl_mem weight,
                          const conv_geometry *g, const hs_epilogue *ep)
{
    enum { outputs_per_launch = 4, run = 16 }; /* CONV_FEW, CONV_RUN */
    size_t runs = ((size_t)g->ow + run - 1) / run;
    size_t items = runs * (size_t)g->oh * (size_t)g->batch;
    if (items > INT_MAX) return hs_fail(HS_ERR_TOO_LARGE, "conv2d: %zu runs of pixels", items);
    cl_mem bias = ep && ep->bias ? ep->bias : weight; /* any buffer when unread */
    cl_mem res = ep && ep->residual ? ep->residual : weight;
    for (int oc0 = 0; oc0 < g->oc; oc0 += outputs_per_launch)
        HS_TRY(hs_launch_1d(in->ctx, "conv_few", items, ARG_MEM(out->buf), ARG_INT(out->c),
                            ARG_INT(channel0), ARG_MEM(in->buf), ARG_INT(g->ic), ARG_INT(g->h),
                            ARG_INT(g->w), ARG_MEM(weight), ARG_INT(g->oc), ARG_INT(oc0),
                            ARG_INT(g->kh), ARG_INT(g->kw), ARG_INT(g->p.pad_h),
                            ARG_INT(g->p.pad_w), ARG_INT(g->oh), ARG_INT(g->ow), ARG_INT(runs),
                            ARG_INT(items), ARG_MEM(bias), ARG_INT(ep && ep->bias),
                            ARG_INT(ep ? ep->rectify : 0), ARG_FLOAT(ep ? ep->slope : 0.0f),
                            ARG_MEM(res), ARG_INT(ep && ep->residual),
                            ARG_FLOAT(ep ? ep->scale : 1.0f),
                            ARG_FLOAT(ep ? ep->residual_scale : 0.0f), ARG_END));
    return HS_OK;
}

hs_status hs_conv2d_forward(hs_tensor *out, const hs_tensor *in, const hs_tensor *weight,
                            const hs_tensor *bias, hs_conv_params p)
{
    return hs_conv2d_forward_into(out, 0, in, weight, bias, p, NULL, NULL, NULL);
}

size_t hs_conv2d_reuse_bytes(const hs_context *ctx, int ic, int h, int w, int oc, int kh, int kw,
                             hs_conv_params p, int capacity)
{
    int m = hs_conv_algorithm_tile(hs_conv_algorithm_for(ctx, ic, oc, h, w, kh, kw, p));
    return m ? hs_winograd_reuse_bytes(ctx, m, capacity, ic, oc, h, w, p.pad_h, p.pad_w) : 0;
}

size_t hs_conv2d_kept_bytes(const hs_context *ctx, int ic, int oc, int kh, int kw,
                            hs_conv_params p, int backward)
{
    if (kh != 3 || kw != 3 || p.stride != 1) return 0;
    return hs_winograd_weights_bytes(ctx, 4, ic, oc) +
           (backward ? hs_winograd_weights_bytes(ctx, 4, oc, ic) : 0);
}

hs_epilogue hs_epilogue_of(const hs_tensor *bias, const hs_residual *res,
                           const hs_activation *act)
{
    return (hs_epilogue){.bias = bias ? bias->buf : NULL,
                         .rectify = act ? HS_RECTIFY_ACTIVATE : 0,
                         .slope = act ? act->slope : 0.0f,
                         .residual = res ? res->tensor->buf : NULL,
                         .scale = res ? res->scale : 1.0f,
                         .residual_scale = res ? res->residual_scale : 0.0f};
}

hs_status hs_conv2d_forward_into(hs_tensor *out, int channel0, const hs_tensor *in,
                                 const hs_tensor *weight, const hs_tensor *bias,
                                 hs_conv_params p, const hs_residual *res,
                                 const hs_activation *act, hs_conv_reuse *reuse)
{
    hs_context *ctx = in->ctx;
    conv_geometry g;
    HS_TRY(conv_geometry_of(&g, "conv2d", in, weight, p));
    if (channel0 < 0 || out->c < channel0 + g.oc)
        return hs_fail(HS_ERR_INTERNAL, "conv2d: channels %d..%d of a %d-channel output",
                       channel0, channel0 + g.oc - 1, out->c);
    HS_TRY(hs_check_shape("conv2d output", out, g.batch, out->c, g.oh, g.ow));
    if (bias) HS_TRY(hs_check_shape("conv2d bias", bias, 1, g.oc, 1, 1));
    if (res) HS_TRY(hs_check_shape("conv2d residual", res->tensor, g.batch, g.oc, g.oh, g.ow));

    hs_epilogue ep = hs_epilogue_of(bias, res, act);
    const hs_epilogue *epilogue = bias || act || res ? &ep : NULL;
    hs_conv_algorithm a = hs_conv_algorithm_for(ctx, g.ic, g.oc, g.h, g.w, g.kh, g.kw, p);
    int m = hs_conv_algorithm_tile(a);
    if (m)
        return hs_winograd_conv(out, channel0, in, weight, 0, epilogue, m, p.pad_h, p.pad_w,
                                reuse);
    if (a == HS_CONV_FEW) return few_conv(out, channel0, in, weight->buf, &g, epilogue);
    if (a == HS_CONV_IMPLICIT) {
        int done = 0;
        HS_TRY(implicit_conv(out, channel0, in, weight->buf, &g, p, epilogue, 0, &done));
        if (done) return HS_OK;
    }

    size_t in_image = (size_t)g.ic * g.h * g.w, out_plane = (size_t)g.oh * g.ow;
    hs_matrix w = {weight->buf, 0, (size_t)g.k, 0};
    cl_mem col = NULL;
    if (!g.pointwise) HS_TRY(band_scratch(ctx, &g, &col));
    for (int b = 0; b < g.batch; b++) {
        size_t out_base = ((size_t)b * out->c + channel0) * out_plane;
        size_t res_base = (size_t)b * g.oc * out_plane; /* the residual's image b */
        if (g.pointwise) {
            ep.residual_offset = res_base;
            hs_matrix x = {in->buf, b * in_image, out_plane, 0};
            HS_TRY(hs_gemm_epilogue(ctx, g.oc, out_plane, g.k, 1.0f, w, x, 0.0f,
                                    (hs_matrix){out->buf, out_base, out_plane, 0}, epilogue));
            continue;
        }
        for (int oy0 = 0; oy0 < g.oh; oy0 += g.band) {
            int rows = g.oh - oy0 < g.band ? g.oh - oy0 : g.band;
            size_t npix = (size_t)rows * g.ow;
            ep.residual_offset = res_base + (size_t)oy0 * g.ow;
            HS_TRY(im2col_band(ctx, col, in, b, &g, oy0, rows));
            HS_TRY(hs_gemm_epilogue(
                ctx, g.oc, npix, g.k, 1.0f, w, (hs_matrix){col, 0, npix, 0}, 0.0f,
                (hs_matrix){out->buf, out_base + (size_t)oy0 * g.ow, out_plane, 0}, epilogue));
        }
    }
    return HS_OK;
}

/* The input rows that output rows oy0 .. oy0+rows-1 read. */
static void band_input_rows(const conv_geometry *g, int oy0, int rows, int *iy0, int *count)
{
    int first = oy0 * g->p.stride - g->p.pad_h;
    int last = (oy0 + rows - 1) * g->p.stride - g->p.pad_h + g->kh - 1;
    if (first < 0) first = 0;
    if (last > g->h - 1) last = g->h - 1;
    *iy0 = first;
    *count = last >= first ? last - first + 1 : 0;
}

/* din by the implicit GEMM where the algorithm choice takes it, for a
 * stride-1 conv with padding p < k: the conv of dout (OC channels) by the
 * weights transposed and turned by 180° (IC x OC x KH x KW, made by
 * conv_weights_turn), padding k - 1 - p. *done as implicit_conv's. Not for
 * a din of few channels (an image's gradient): as a conv its GEMM has IC
 * rows, where im2col's Wᵀ·dout has K = IC·KH·KW (VGG19's conv1_1 at 256²:
 * 16.8 ms against 4.3). With `add`, din's part added to what it holds,
 * from the first chunk of K on; then the epilogue. */
static hs_status implicit_backward_input(hs_tensor *din, int add, const hs_epilogue *ep,
                                         const hs_tensor *dout, const hs_tensor *weight,
                                         const conv_geometry *g, int *done)
{
    hs_context *ctx = din->ctx;
    hs_conv_params back = {1, g->kh - 1 - g->p.pad_h, g->kw - 1 - g->p.pad_w};
    *done = 0;
    if (g->ic < 16 || hs_conv_algorithm_for(ctx, g->oc, g->ic, g->oh, g->ow, g->kh, g->kw,
                                             back) != HS_CONV_IMPLICIT)
        return HS_OK;
    conv_geometry bg = {.batch = g->batch, .ic = g->oc, .h = g->oh, .w = g->ow, .oc = g->ic,
                        .kh = g->kh, .kw = g->kw, .oh = g->h, .ow = g->w, .p = back};
    size_t count = (size_t)g->oc * g->k, bytes = count * sizeof(float);
    cl_mem turned;
    HS_TRY(hs_pool_take(ctx, bytes, &turned));
    hs_status st = hs_launch_1d(ctx, "conv_weights_turn", count, ARG_MEM(turned),
                                ARG_MEM(weight->buf), ARG_INT(g->oc), ARG_INT(g->ic),
                                ARG_INT(g->kh * g->kw), ARG_END);
    if (st == HS_OK) st = implicit_conv(din, 0, dout, turned, &bg, back, ep, add, done);
    hs_pool_give(ctx, turned, bytes);
    return st;
}

/* din, or with `add` din plus it, then ep's gate, by Winograd or the
 * implicit GEMM where the algorithm choice takes them: *done then set. */
static hs_status backward_input_conv(hs_tensor *din, int add, const hs_epilogue *ep,
                                     const hs_tensor *dout, const hs_tensor *weight,
                                     const conv_geometry *g, int *done)
{
    *done = 0;
    if (g->kh == 3 && g->kw == 3 && g->p.stride == 1) {
        hs_conv_params back = {1, 2 - g->p.pad_h, 2 - g->p.pad_w};
        int m = hs_conv_algorithm_tile(
            hs_conv_algorithm_for(din->ctx, g->oc, g->ic, g->oh, g->ow, 3, 3, back));
        if (m) {
            hs_epilogue sum = *ep;
            sum.add = add;
            *done = 1;
            return hs_winograd_conv(din, 0, dout, weight, 1, &sum, m, back.pad_h, back.pad_w,
                                    NULL);
        }
    }
    if (g->p.stride == 1 && g->p.pad_h < g->kh && g->p.pad_w < g->kw)
        return implicit_backward_input(din, add, ep, dout, weight, g, done);
    return HS_OK;
}

/* hs_conv2d_backward, with `add` adding din's part to what din holds, then
 * din gated by `gate` (NULL: none): hs_conv2d_backward_input. */
static hs_status conv_backward(hs_tensor *din, int add, const hs_activation *gate,
                               hs_tensor *dweight, hs_tensor *dbias, const hs_tensor *dout,
                               const hs_tensor *in, const hs_tensor *weight, hs_conv_params p)
{
    hs_context *ctx = in->ctx;
    conv_geometry g;
    HS_TRY(conv_geometry_of(&g, "conv2d backward", in, weight, p));
    HS_TRY(hs_check_shape("conv2d backward dout", dout, g.batch, g.oc, g.oh, g.ow));
    if (din) HS_TRY(hs_check_same("conv2d backward din", din, in));
    if (dweight) HS_TRY(hs_check_same("conv2d backward dweight", dweight, weight));
    if (dbias) HS_TRY(hs_check_shape("conv2d backward dbias", dbias, 1, g.oc, 1, 1));
    /* the gate's residual is the input: its sign tells where the activation passed */
    hs_epilogue ep = {.rectify = gate ? HS_RECTIFY_GATE : 0, .slope = gate ? gate->slope : 0.0f,
                      .residual = gate ? in->buf : NULL};

    /* din by Winograd (the 3×3 conv of dout with the weights transposed and
     * turned, padding 2 - p, op_winograd.c) or the implicit GEMM; then the
     * bands below do dW only. */
    if (din) {
        int done = 0;
        HS_TRY(backward_input_conv(din, add, &ep, dout, weight, &g, &done));
        if (done) din = NULL;
    }
    size_t in_image = (size_t)g.ic * g.h * g.w, out_plane = (size_t)g.oh * g.ow;
    hs_matrix wt = {weight->buf, 0, (size_t)g.k, 1}; /* Wᵀ */
    if (din && !g.pointwise && !add) HS_TRY(hs_tensor_fill(din, 0.0f)); /* col2im adds */
    cl_mem col = NULL;
    if (!g.pointwise && (din || dweight)) HS_TRY(band_scratch(ctx, &g, &col));
    for (int b = 0; b < g.batch; b++) {
        size_t out_base = (size_t)b * g.oc * out_plane;
        float accumulate = b > 0 ? 1.0f : 0.0f;
        if (g.pointwise) {
            hs_matrix d = {dout->buf, out_base, out_plane, 0};
            ep.residual_offset = b * in_image;
            if (din)
                HS_TRY(hs_gemm_epilogue(ctx, g.k, out_plane, g.oc, 1.0f, wt, d, add ? 1.0f : 0.0f,
                                        (hs_matrix){din->buf, b * in_image, out_plane, 0},
                                        gate ? &ep : NULL));
            if (dweight)
                HS_TRY(hs_gemm(ctx, g.oc, g.k, out_plane, 1.0f, d,
                               (hs_matrix){in->buf, b * in_image, out_plane, 1}, accumulate,
                               (hs_matrix){dweight->buf, 0, (size_t)g.k, 0}));
            continue;
        }
        for (int oy0 = 0; oy0 < g.oh; oy0 += g.band) {
            int rows = g.oh - oy0 < g.band ? g.oh - oy0 : g.band;
            size_t npix = (size_t)rows * g.ow;
            hs_matrix d = {dout->buf, out_base + (size_t)oy0 * g.ow, out_plane, 0};
            if (dweight) {
                HS_TRY(im2col_band(ctx, col, in, b, &g, oy0, rows));
                HS_TRY(hs_gemm(ctx, g.oc, g.k, npix, 1.0f, d, (hs_matrix){col, 0, npix, 1},
                               oy0 > 0 ? 1.0f : accumulate,
                               (hs_matrix){dweight->buf, 0, (size_t)g.k, 0}));
            }
            if (din) {
                int iy0, in_rows;
                band_input_rows(&g, oy0, rows, &iy0, &in_rows);
                HS_TRY(hs_gemm(ctx, g.k, npix, g.oc, 1.0f, wt, d, 0.0f,
                               (hs_matrix){col, 0, npix, 0}));
                HS_TRY(col2im_band(ctx, din, col, b, &g, oy0, rows, iy0, in_rows));
            }
        }
        if (din && gate) { /* col2im's sums are whole only now */
            size_t plane = (size_t)g.h * g.w;
            ep.residual_offset = b * in_image;
            HS_TRY(hs_epilogue_pass(ctx, din->buf, b * in_image, plane, (size_t)g.ic, plane, g.ic,
                                    &ep));
        }
    }
    if (!dbias) return HS_OK;
    return hs_launch_1d(ctx, "bias_backward", g.oc, ARG_MEM(dbias->buf), ARG_MEM(dout->buf),
                        ARG_INT(out_plane), ARG_INT(g.oc), ARG_INT(g.batch), ARG_END);
}

hs_status hs_conv2d_backward(hs_tensor *din, hs_tensor *dweight, hs_tensor *dbias,
                             const hs_tensor *dout, const hs_tensor *in,
                             const hs_tensor *weight, hs_conv_params p)
{
    return conv_backward(din, 0, NULL, dweight, dbias, dout, in, weight, p);
}

hs_status hs_conv2d_backward_input(hs_tensor *din, int add, const hs_activation *gate,
                                   const hs_tensor *dout, const hs_tensor *in,
                                   const hs_tensor *weight, hs_conv_params p)
{
    return conv_backward(din, add, gate, NULL, NULL, dout, in, weight, p);
}
