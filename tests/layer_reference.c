/* layer_reference.c — the double-precision references of layer_reference.h,
 * one function per kind, each the textbook definition of its layer. */
#include "layer_reference.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t ref_count(const ref_tensor *t) { return (size_t)t->n * t->c * t->h * t->w; }

ref_tensor ref_alloc(int n, int c, int h, int w)
{
    ref_tensor t = {n, c, h, w, calloc((size_t)n * c * h * w + 1, sizeof(double))};
    ck_assert_ptr_nonnull(t.data);
    return t;
}

void ref_free(ref_tensor *t)
{
    free(t->data);
    t->data = NULL;
}

/* Element (b, c, y, x) of t. */
static double *at(const ref_tensor *t, int b, int c, int y, int x)
{
    return &t->data[(((size_t)b * t->c + c) * t->h + y) * t->w + x];
}

static int out_size(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

/* out[o][y][x] = bias[o] + sum over i, ky, kx of
 *     in[i][y*s - pad_h + ky][x*s - pad_w + kx] * w[o][i][ky][kx] */
void ref_conv2d(const ref_conv_shape *c, const double *in, const double *weight,
                const double *bias, double *out)
{
    int s = c->stride;
    int oh = out_size(c->h, c->kh, s, c->pad_h), ow = out_size(c->w, c->kw, s, c->pad_w);
    for (int b = 0; b < c->n; b++)
        for (int o = 0; o < c->oc; o++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double sum = bias ? bias[o] : 0;
                    for (int i = 0; i < c->ic; i++)
                        for (int ky = 0; ky < c->kh; ky++)
                            for (int kx = 0; kx < c->kw; kx++) {
                                int iy = y * s - c->pad_h + ky;
                                int ix = x * s - c->pad_w + kx;
                                if (iy < 0 || iy >= c->h || ix < 0 || ix >= c->w) continue;
                                sum += in[(((size_t)b * c->ic + i) * c->h + iy) * c->w + ix] *
                                       weight[(((size_t)o * c->ic + i) * c->kh + ky) * c->kw + kx];
                            }
                    out[(((size_t)b * c->oc + o) * oh + y) * ow + x] = sum;
                }
}

static void ref_conv(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                     const double *bias, ref_tensor *out)
{
    const ref_tensor *x = in[0];
    ref_conv_shape c = {x->n,          x->c,          x->h,           x->w,
                        l->channels,   l->kernel_h,   l->kernel_w,    l->conv.stride,
                        l->conv.pad_h, l->conv.pad_w};
    *out = ref_alloc(x->n, l->channels, out_size(x->h, c.kh, c.stride, c.pad_h),
                     out_size(x->w, c.kw, c.stride, c.pad_w));
    ref_conv2d(&c, x->data, weight, bias, out->data);
}

/* Transposed conv, scattering each input pixel through the kernel:
 * out[o][y*s + ky - pad][x*s + kx - pad] += in[i][y][x] * weight[i][o][ky][kx]. */
static void ref_deconv(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                       const double *bias, ref_tensor *out)
{
    const ref_tensor *x = in[0];
    int kh = l->kernel_h, kw = l->kernel_w, s = l->conv.stride;
    *out = ref_alloc(x->n, l->channels, (x->h - 1) * s + kh - 2 * l->conv.pad_h,
                     (x->w - 1) * s + kw - 2 * l->conv.pad_w);
    for (int b = 0; b < out->n; b++)
        for (int o = 0; o < out->c; o++)
            for (size_t p = 0; p < (size_t)out->h * out->w; p++)
                *at(out, b, o, (int)(p / out->w), (int)(p % out->w)) = bias ? bias[o] : 0;
    for (int b = 0; b < x->n; b++)
        for (int i = 0; i < x->c; i++)
            for (int y = 0; y < x->h; y++)
                for (int xx = 0; xx < x->w; xx++)
                    for (int o = 0; o < out->c; o++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                int oy = y * s + ky - l->conv.pad_h;
                                int ox = xx * s + kx - l->conv.pad_w;
                                if (oy < 0 || oy >= out->h || ox < 0 || ox >= out->w) continue;
                                *at(out, b, o, oy, ox) +=
                                    *at(x, b, i, y, xx) *
                                    weight[(((size_t)i * out->c + o) * kh + ky) * kw + kx];
                            }
}

/* Elementwise kinds: out = f(in), with the channel for PReLU. */
static void ref_activation(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                           const double *bias, ref_tensor *out)
{
    (void)bias;
    const ref_tensor *x = in[0];
    *out = ref_alloc(x->n, x->c, x->h, x->w);
    size_t plane = (size_t)x->h * x->w;
    for (size_t i = 0; i < ref_count(x); i++) {
        double v = x->data[i];
        int c = (int)(i / plane % (size_t)x->c);
        switch (l->kind) {
        case HS_LAYER_RELU: v = v > 0 ? v : 0; break;
        case HS_LAYER_LEAKY_RELU: v = v > 0 ? v : l->alpha * v; break;
        case HS_LAYER_PRELU: v = v > 0 ? v : weight[c] * v; break;
        case HS_LAYER_TANH_HALF: v = (tanh(v) + 1) / 2; break;
        case HS_LAYER_SIGMOID: v = 1 / (1 + exp(-v)); break;
        default: ck_abort_msg("ref_activation: kind %d", (int)l->kind);
        }
        out->data[i] = v;
    }
}

/* out = the largest cell of each k×k window; padded cells never win. */
static void ref_maxpool(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                        const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    const ref_tensor *x = in[0];
    hs_pool_params p = l->pool;
    *out = ref_alloc(x->n, x->c, out_size(x->h, p.k, p.stride, p.pad),
                     out_size(x->w, p.k, p.stride, p.pad));
    for (int b = 0; b < out->n; b++)
        for (int c = 0; c < out->c; c++)
            for (int y = 0; y < out->h; y++)
                for (int xx = 0; xx < out->w; xx++) {
                    double best = -INFINITY;
                    for (int ky = 0; ky < p.k; ky++)
                        for (int kx = 0; kx < p.k; kx++) {
                            int iy = y * p.stride - p.pad + ky, ix = xx * p.stride - p.pad + kx;
                            if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) continue;
                            if (*at(x, b, c, iy, ix) > best) best = *at(x, b, c, iy, ix);
                        }
                    *at(out, b, c, y, xx) = best;
                }
}

static void ref_add(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                    const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    *out = ref_alloc(in[0]->n, in[0]->c, in[0]->h, in[0]->w);
    for (size_t i = 0; i < ref_count(out); i++)
        out->data[i] = l->alpha * in[0]->data[i] + l->beta * in[1]->data[i];
}

static void ref_concat(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                       const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    int channels = 0;
    for (int k = 0; k < l->input_count; k++) channels += in[k]->c;
    *out = ref_alloc(in[0]->n, channels, in[0]->h, in[0]->w);
    for (int b = 0; b < out->n; b++)
        for (int k = 0, c0 = 0; k < l->input_count; c0 += in[k]->c, k++)
            for (int c = 0; c < in[k]->c; c++)
                for (int y = 0; y < out->h; y++)
                    for (int x = 0; x < out->w; x++)
                        *at(out, b, c0 + c, y, x) = *at(in[k], b, c, y, x);
}

/* torch.pixel_shuffle: out[c][y*r+i][x*r+j] = in[c*r*r + i*r + j][y][x];
 * tf.nn.depth_to_space (NCHW view): in[(i*r + j)*C + c][y][x]. */
static void ref_pixel_shuffle(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                              const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    const ref_tensor *x = in[0];
    int r = l->factor, C = x->c / (r * r);
    *out = ref_alloc(x->n, C, x->h * r, x->w * r);
    for (int b = 0; b < x->n; b++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++) {
                    int ic = l->order == HS_SHUFFLE_TF ? (i * r + j) * C + c
                                                       : c * r * r + i * r + j;
                    for (int y = 0; y < x->h; y++)
                        for (int xx = 0; xx < x->w; xx++)
                            *at(out, b, c, y * r + i, xx * r + j) = *at(x, b, ic, y, xx);
                }
}

static void ref_upsample(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                         const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    const ref_tensor *x = in[0];
    int r = l->factor;
    *out = ref_alloc(x->n, x->c, x->h * r, x->w * r);
    for (int b = 0; b < out->n; b++)
        for (int c = 0; c < out->c; c++)
            for (int y = 0; y < out->h; y++)
                for (int xx = 0; xx < out->w; xx++)
                    *at(out, b, c, y, xx) = *at(x, b, c, y / r, xx / r);
}

/* ncnn's Interp (src/layer/interp.cpp) along one axis: the taps of output o
 * and their weights, taps clamped to 0..size-1. Returns the tap count. */
static int interp_taps(hs_interp_mode mode, int o, int size, int out_size, int *tap,
                       double *weight)
{
    double scale = (double)size / out_size, f = (o + 0.5) * scale - 0.5;
    if (mode == HS_INTERP_NEAREST) { /* ncnn computes this one in float */
        int s = (int)((float)o * ((float)size / (float)out_size));
        tap[0] = s < size - 1 ? s : size - 1;
        weight[0] = 1;
        return 1;
    }
    if (mode == HS_INTERP_BILINEAR) {
        if (f < 0) f = 0;
        int s = (int)floor(f);
        double t = f - s;
        if (s >= size - 1) s = size - 1, t = 0;
        tap[0] = s, tap[1] = s + 1 < size ? s + 1 : size - 1;
        weight[0] = 1 - t, weight[1] = t;
        return 2;
    }
    /* bicubic: Keys' kernel with a = -0.75 at distances 1+t, t, 1-t, 2-t */
    int s = (int)floor(f);
    double t = f - s, a = -0.75, d[4] = {1 + t, t, 1 - t, 2 - t};
    for (int k = 0; k < 4; k++) {
        double x = d[k];
        weight[k] = x <= 1 ? (a + 2) * x * x * x - (a + 3) * x * x + 1
                           : a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
        int i = s - 1 + k;
        tap[k] = i < 0 ? 0 : i >= size ? size - 1 : i;
    }
    return 4;
}

void ref_interp(hs_interp_mode mode, const ref_tensor *in, ref_tensor *out)
{
    for (int b = 0; b < out->n; b++)
        for (int c = 0; c < out->c; c++)
            for (int y = 0; y < out->h; y++)
                for (int x = 0; x < out->w; x++) {
                    int ty[4], tx[4];
                    double wy[4], wx[4], v = 0;
                    int ny = interp_taps(mode, y, in->h, out->h, ty, wy);
                    int nx = interp_taps(mode, x, in->w, out->w, tx, wx);
                    for (int i = 0; i < ny; i++)
                        for (int j = 0; j < nx; j++)
                            v += wy[i] * wx[j] * *at(in, b, c, ty[i], tx[j]);
                    *at(out, b, c, y, x) = v;
                }
}

static void ref_interp_layer(const hs_layer *l, const ref_tensor *const *in,
                             const double *weight, const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    const ref_tensor *x = in[0];
    *out = ref_alloc(x->n, x->c, x->h * l->interp.up / l->interp.down,
                     x->w * l->interp.up / l->interp.down);
    ref_interp(l->interp.mode, x, out);
}

/* out (N, C, 1, 1) = the mean of every plane of in. */
static void ref_global_mean(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                            const double *bias, ref_tensor *out)
{
    (void)l, (void)weight, (void)bias;
    const ref_tensor *x = in[0];
    *out = ref_alloc(x->n, x->c, 1, 1);
    for (int b = 0; b < x->n; b++)
        for (int c = 0; c < x->c; c++) {
            double sum = 0;
            for (int y = 0; y < x->h; y++)
                for (int xx = 0; xx < x->w; xx++) sum += *at(x, b, c, y, xx);
            *at(out, b, c, 0, 0) = sum / ((double)x->h * x->w);
        }
}

/* out = in0 with plane (n, c) times in1[n][c], or (ChannelGate) times its
 * sigmoid. */
static void ref_channel_scale(const hs_layer *l, const ref_tensor *const *in,
                              const double *weight, const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    const ref_tensor *x = in[0];
    *out = ref_alloc(x->n, x->c, x->h, x->w);
    for (int b = 0; b < x->n; b++)
        for (int c = 0; c < x->c; c++) {
            double v = *at(in[1], b, c, 0, 0);
            if (l->kind == HS_LAYER_CHANNEL_GATE) v = 1 / (1 + exp(-v));
            for (int y = 0; y < x->h; y++)
                for (int xx = 0; xx < x->w; xx++)
                    *at(out, b, c, y, xx) = *at(x, b, c, y, xx) * v;
        }
}

/* out = the window of in0 from (top, left): bottom/right short of its edge,
 * or as large as in1 when there is one. */
static void ref_crop(const hs_layer *l, const ref_tensor *const *in, const double *weight,
                     const double *bias, ref_tensor *out)
{
    (void)weight, (void)bias;
    const ref_tensor *x = in[0];
    const hs_crop_params *p = &l->crop;
    int h = l->input_count > 1 ? in[1]->h : x->h - p->top - p->bottom;
    int w = l->input_count > 1 ? in[1]->w : x->w - p->left - p->right;
    *out = ref_alloc(x->n, x->c, h, w);
    for (int b = 0; b < x->n; b++)
        for (int c = 0; c < x->c; c++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    *at(out, b, c, y, xx) = *at(x, b, c, y + p->top, xx + p->left);
}

ref_layer_fn ref_layer_named(const char *kind)
{
    static const struct { const char *kind; ref_layer_fn fn; } refs[] = {
        {"Convolution", ref_conv},   {"ReLU", ref_activation},   {"LeakyReLU", ref_activation},
        {"PReLU", ref_activation},   {"TanhHalf", ref_activation}, {"MaxPool", ref_maxpool},
        {"Add", ref_add},            {"Concat", ref_concat},
        {"PixelShuffle", ref_pixel_shuffle}, {"Upsample", ref_upsample},
        {"Interp", ref_interp_layer}, {"Deconvolution", ref_deconv},
        {"Sigmoid", ref_activation}, {"GlobalMean", ref_global_mean},
        {"ChannelScale", ref_channel_scale}, {"ChannelGate", ref_channel_scale},
        {"Crop", ref_crop},
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        if (strcmp(refs[i].kind, kind) == 0) return refs[i].fn;
    return NULL;
}
