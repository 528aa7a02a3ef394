/* layers.c — the rows of the layer table (layers.h), one block per kind:
 * its shape, window, forward, backward, weights and graph parameters, then
 * the table itself and its lookups.
 */
#include "layers.h"
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int max_int(int a, int b) { return a > b ? a : b; }

/* ---- Graph arguments ------------------------------------------------------- */

const char *hs_graph_text(const hs_graph_args *a, const char *key)
{
    for (int i = 0; i < a->count; i++)
        if (strcmp(a->keys[i], key) == 0) return a->values[i];
    return NULL;
}

hs_status hs_graph_int(const hs_graph_args *a, const char *key, int def, int min, int max, int *out)
{
    const char *text = hs_graph_text(a, key);
    if (!text) {
        *out = def;
        return HS_OK;
    }
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return hs_fail(HS_ERR_WEIGHTS, "%s: %s=%s is not a whole number from %d to %d", a->where,
                       key, text, min, max);
    *out = (int)v;
    return HS_OK;
}

hs_status hs_graph_float(const hs_graph_args *a, const char *key, float def, float *out)
{
    const char *text = hs_graph_text(a, key);
    if (!text) {
        *out = def;
        return HS_OK;
    }
    char *end;
    errno = 0;
    float v = strtof(text, &end);
    if (errno || end == text || *end || !isfinite(v))
        return hs_fail(HS_ERR_WEIGHTS, "%s: %s=%s is not a finite number", a->where, key, text);
    *out = v;
    return HS_OK;
}

/* ---- Shared pieces ----------------------------------------------------------- */

/* Output shaped like the first input, with the layer's channels. */
static hs_status same_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    *out = (hs_tensor){.ctx = in[0]->ctx, .n = in[0]->n, .c = l->channels, .h = in[0]->h,
                       .w = in[0]->w};
    return HS_OK;
}

/* Output pixel q reads input pixel q. */
static hs_layer_window pointwise(const hs_layer *l)
{
    (void)l;
    return (hs_layer_window){1, 1, 0, 0};
}

/* The weights name after " weights=" when it is not the layer's own. */
static void print_tensor(const hs_layer *l, FILE *out)
{
    if (strcmp(l->tensor, l->name) != 0) fprintf(out, " weights=%s", l->tensor);
}

static hs_status parse_tensor(hs_layer *l, const hs_graph_args *a)
{
    const char *t = hs_graph_text(a, "weights");
    if (t && strlen(t) >= sizeof l->tensor)
        return hs_fail(HS_ERR_WEIGHTS, "%s: weights name '%s' is too long", a->where, t);
    snprintf(l->tensor, sizeof l->tensor, "%s", t ? t : l->name);
    return HS_OK;
}

/* Upload tensor `name` of the given shape into t, shaped (n, c, h, w). */
static hs_status upload(hs_context *ctx, const hs_weights *w, const char *arch, const char *name,
                        int ndim, const int64_t *shape, hs_tensor *t, int n, int c, int h, int wd)
{
    const hs_weight *found;
    HS_TRY(hs_weights_expect(w, arch, name, ndim, shape, &found));
    HS_TRY(hs_tensor_alloc(ctx, t, n, c, h, wd));
    return hs_tensor_write(t, found->data);
}

static hs_status parse_no_params(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    (void)a;
    l->channels = in_channels[0];
    return HS_OK;
}

static void print_no_params(const hs_layer *l, FILE *out)
{
    (void)l;
    (void)out;
}

/* ---- Input ------------------------------------------------------------------- */

static hs_status input_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    (void)in_channels;
    return hs_graph_int(a, "c", 3, 1, 4096, &l->channels);
}

static void input_print(const hs_layer *l, FILE *out) { fprintf(out, " c=%d", l->channels); }

/* ---- Convolution ------------------------------------------------------------- */

static hs_status conv_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    same_shape(l, in, out);
    out->h = hs_conv_out_size(in[0]->h, l->kernel_h, l->conv.stride, l->conv.pad_h);
    out->w = hs_conv_out_size(in[0]->w, l->kernel_w, l->conv.stride, l->conv.pad_w);
    return HS_OK;
}

static hs_layer_window conv_window(const hs_layer *l)
{
    const hs_conv_params *p = &l->conv;
    return (hs_layer_window){1, p->stride, max_int(p->pad_h, p->pad_w),
                             max_int(l->kernel_h - 1 - p->pad_h, l->kernel_w - 1 - p->pad_w)};
}

static hs_status conv_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_conv2d_forward(out, in[0], &l->weight, l->bias.buf ? &l->bias : NULL, l->conv);
}

static hs_status conv_forward_into(const hs_layer *l, hs_tensor *out, int channel0,
                                   const hs_tensor *const *in, const hs_residual *res,
                                   const hs_activation *act, hs_conv_reuse *reuse)
{
    return hs_conv2d_forward_into(out, channel0, in[0], &l->weight,
                                  l->bias.buf ? &l->bias : NULL, l->conv, res, act, reuse);
}

static size_t conv_reuse_bytes(const hs_context *ctx, const hs_layer *l, const hs_tensor *in,
                               int capacity)
{
    return hs_conv2d_reuse_bytes(ctx, in->c, in->h, in->w, l->channels, l->kernel_h,
                                 l->kernel_w, l->conv, capacity);
}

static hs_status conv_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                               const hs_tensor *const *in)
{
    return hs_conv2d_backward(din[0], NULL, NULL, dout, in[0], &l->weight, l->conv);
}

static hs_status conv_backward_into(const hs_layer *l, hs_tensor *sum, int add,
                                    const hs_activation *gate, const hs_tensor *dout,
                                    const hs_tensor *const *in)
{
    return hs_conv2d_backward_input(sum, add, gate, dout, in[0], &l->weight, l->conv);
}

static hs_status conv_backward_weights(const hs_layer *l, hs_tensor *dweight, hs_tensor *dbias,
                                       const hs_tensor *dout, const hs_tensor *const *in)
{
    return hs_conv2d_backward(NULL, dweight, l->bias.buf ? dbias : NULL, dout, in[0], &l->weight,
                              l->conv);
}

static size_t conv_kept_bytes(const hs_context *ctx, const hs_layer *l, int backward)
{
    return hs_conv2d_kept_bytes(ctx, l->weight.c, l->channels, l->kernel_h, l->kernel_w,
                                l->conv, backward);
}

/* One band of im2col columns (op_conv.c), at most the scratch limit. */
static size_t conv_scratch(const hs_context *ctx, const hs_layer *l, const hs_tensor *out)
{
    size_t bytes = (size_t)l->weight.c * l->kernel_h * l->kernel_w * out->h * out->w *
                   sizeof(float);
    return bytes < ctx->scratch_limit ? bytes : ctx->scratch_limit;
}

/* "<tensor>.weight" (OC, IC, KH, KW) and "<tensor>.bias" (OC). */
static hs_status conv_load(hs_context *ctx, const hs_weights *w, const char *arch, hs_layer *l,
                           int in_channels)
{
    char key[HS_LAYER_NAME_SIZE + 8];
    int64_t wshape[4] = {l->channels, in_channels, l->kernel_h, l->kernel_w};
    int64_t bshape[1] = {l->channels};
    snprintf(key, sizeof key, "%s.weight", l->tensor);
    HS_TRY(upload(ctx, w, arch, key, 4, wshape, &l->weight, l->channels, in_channels, l->kernel_h,
                  l->kernel_w));
    snprintf(key, sizeof key, "%s.bias", l->tensor);
    return upload(ctx, w, arch, key, 1, bshape, &l->bias, 1, l->channels, 1, 1);
}

static hs_status conv_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    (void)in_channels;
    int k, pad;
    HS_TRY(hs_graph_int(a, "c", 0, 1, 1 << 20, &l->channels));
    HS_TRY(hs_graph_int(a, "k", 1, 1, 1024, &k));
    HS_TRY(hs_graph_int(a, "kh", k, 1, 1024, &l->kernel_h));
    HS_TRY(hs_graph_int(a, "kw", k, 1, 1024, &l->kernel_w));
    HS_TRY(hs_graph_int(a, "stride", 1, 1, 1024, &l->conv.stride));
    HS_TRY(hs_graph_int(a, "pad", 0, 0, 1024, &pad));
    HS_TRY(hs_graph_int(a, "pad_h", pad, 0, 1024, &l->conv.pad_h));
    HS_TRY(hs_graph_int(a, "pad_w", pad, 0, 1024, &l->conv.pad_w));
    return parse_tensor(l, a);
}

static void conv_print(const hs_layer *l, FILE *out)
{
    fprintf(out, " c=%d", l->channels);
    if (l->kernel_h == l->kernel_w) fprintf(out, " k=%d", l->kernel_h);
    else fprintf(out, " kh=%d kw=%d", l->kernel_h, l->kernel_w);
    fprintf(out, " stride=%d", l->conv.stride);
    if (l->conv.pad_h == l->conv.pad_w) fprintf(out, " pad=%d", l->conv.pad_h);
    else fprintf(out, " pad_h=%d pad_w=%d", l->conv.pad_h, l->conv.pad_w);
    print_tensor(l, out);
}

/* ---- ReLU, LeakyReLU, PReLU ---------------------------------------------------- */

static hs_status relu_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    (void)l;
    return hs_relu_forward(out, in[0]);
}

static hs_status relu_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                               const hs_tensor *const *in)
{
    (void)l;
    return hs_relu_backward(din[0], dout, in[0]);
}

/* max(x, 0) is x > 0 ? x : 0 * x */
static void relu_activation(const hs_layer *l, hs_activation *act)
{
    (void)l;
    act->slope = 0.0f;
}

static hs_status leaky_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_leaky_relu_forward(out, in[0], l->alpha);
}

static hs_status leaky_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                                const hs_tensor *const *in)
{
    return hs_leaky_relu_backward(din[0], dout, in[0], l->alpha);
}

static void leaky_activation(const hs_layer *l, hs_activation *act) { act->slope = l->alpha; }

static hs_status leaky_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    l->channels = in_channels[0];
    return hs_graph_float(a, "slope", 0.01f, &l->alpha);
}

static void leaky_print(const hs_layer *l, FILE *out) { fprintf(out, " slope=%.9g", l->alpha); }

static hs_status prelu_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_prelu_forward(out, in[0], &l->weight);
}

static hs_status prelu_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                                const hs_tensor *const *in)
{
    return hs_prelu_backward(din[0], NULL, dout, in[0], &l->weight);
}

static hs_status prelu_backward_weights(const hs_layer *l, hs_tensor *dslope, hs_tensor *dbias,
                                        const hs_tensor *dout, const hs_tensor *const *in)
{
    (void)dbias;
    return dslope ? hs_prelu_backward(NULL, dslope, dout, in[0], &l->weight) : HS_OK;
}

/* "<tensor>" (C): one slope per channel. */
static hs_status prelu_load(hs_context *ctx, const hs_weights *w, const char *arch, hs_layer *l,
                            int in_channels)
{
    int64_t shape[1] = {in_channels};
    return upload(ctx, w, arch, l->tensor, 1, shape, &l->weight, 1, in_channels, 1, 1);
}

static hs_status prelu_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    l->channels = in_channels[0];
    return parse_tensor(l, a);
}

/* ---- MaxPool ------------------------------------------------------------------- */

static hs_status maxpool_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    same_shape(l, in, out);
    out->h = hs_conv_out_size(in[0]->h, l->pool.k, l->pool.stride, l->pool.pad);
    out->w = hs_conv_out_size(in[0]->w, l->pool.k, l->pool.stride, l->pool.pad);
    return HS_OK;
}

static hs_layer_window maxpool_window(const hs_layer *l)
{
    return (hs_layer_window){1, l->pool.stride, l->pool.pad, l->pool.k - 1 - l->pool.pad};
}

static hs_status maxpool_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_maxpool_forward(out, in[0], l->pool);
}

static hs_status maxpool_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                                  const hs_tensor *const *in)
{
    return hs_maxpool_backward(din[0], dout, in[0], l->pool);
}

static hs_status maxpool_backward_into(const hs_layer *l, hs_tensor *sum, int add,
                                       const hs_activation *gate, const hs_tensor *dout,
                                       const hs_tensor *const *in)
{
    return hs_maxpool_backward_input(sum, add, gate, dout, in[0], l->pool);
}

static hs_status maxpool_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    l->channels = in_channels[0];
    HS_TRY(hs_graph_int(a, "k", 2, 1, 1024, &l->pool.k));
    HS_TRY(hs_graph_int(a, "stride", l->pool.k, 1, 1024, &l->pool.stride));
    return hs_graph_int(a, "pad", 0, 0, l->pool.k - 1, &l->pool.pad);
}

static void maxpool_print(const hs_layer *l, FILE *out)
{
    fprintf(out, " k=%d stride=%d pad=%d", l->pool.k, l->pool.stride, l->pool.pad);
}

/* ---- Add: alpha * in0 + beta * in1 ------------------------------------------------ */

static hs_status add_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    if (in[1]->c != in[0]->c)
        return hs_fail(HS_ERR_INTERNAL, "layer '%s' adds %d and %d channels", l->name, in[0]->c,
                       in[1]->c);
    return same_shape(l, in, out);
}

static hs_status add_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_axpby(out, l->alpha, in[0], l->beta, in[1]);
}

static hs_status add_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                              const hs_tensor *const *in)
{
    (void)in;
    HS_TRY(hs_scale(din[0], dout, l->alpha));
    return hs_scale(din[1], dout, l->beta);
}

static hs_status add_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    l->channels = in_channels[0];
    HS_TRY(hs_graph_float(a, "alpha", 1.0f, &l->alpha));
    return hs_graph_float(a, "beta", 1.0f, &l->beta);
}

static void add_print(const hs_layer *l, FILE *out)
{
    fprintf(out, " alpha=%.9g beta=%.9g", l->alpha, l->beta);
}

/* ---- Concat (channels) -------------------------------------------------------------- */

static hs_status concat_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    same_shape(l, in, out);
    out->c = 0;
    for (int k = 0; k < l->input_count; k++) out->c += in[k]->c;
    return HS_OK;
}

static hs_status concat_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_concat(out, in, l->input_count);
}

static hs_status concat_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                                 const hs_tensor *const *in)
{
    (void)in;
    return hs_split(din, l->input_count, dout);
}

static hs_status concat_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    (void)a;
    l->channels = 0;
    for (int k = 0; k < l->input_count; k++) l->channels += in_channels[k];
    return HS_OK;
}

/* ---- PixelShuffle and Upsample (nearest): up ×factor ------------------------------------ */

static hs_status enlarge_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    same_shape(l, in, out);
    out->h = in[0]->h * l->factor;
    out->w = in[0]->w * l->factor;
    return HS_OK;
}

static hs_layer_window enlarge_window(const hs_layer *l)
{
    return (hs_layer_window){l->factor, 1, 0, 0};
}

static hs_status shuffle_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_pixel_shuffle(out, in[0], l->factor, l->order);
}

static hs_status shuffle_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                                  const hs_tensor *const *in)
{
    (void)in;
    return hs_pixel_shuffle_backward(din[0], dout, l->factor, l->order);
}

static hs_status shuffle_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    HS_TRY(hs_graph_int(a, "factor", 2, 1, 64, &l->factor));
    const char *order = hs_graph_text(a, "order");
    if (order && strcmp(order, "torch") != 0 && strcmp(order, "tf") != 0)
        return hs_fail(HS_ERR_WEIGHTS, "%s: order=%s is neither torch nor tf", a->where, order);
    l->order = order && strcmp(order, "tf") == 0 ? HS_SHUFFLE_TF : HS_SHUFFLE_TORCH;
    if (in_channels[0] % (l->factor * l->factor))
        return hs_fail(HS_ERR_WEIGHTS, "%s: %d channels are not a multiple of %d", a->where,
                       in_channels[0], l->factor * l->factor);
    l->channels = in_channels[0] / (l->factor * l->factor);
    return HS_OK;
}

static void shuffle_print(const hs_layer *l, FILE *out)
{
    fprintf(out, " factor=%d order=%s", l->factor, l->order == HS_SHUFFLE_TF ? "tf" : "torch");
}

static hs_status upsample_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_upsample_nearest(out, in[0], l->factor);
}

static hs_status upsample_backward(const hs_layer *l, hs_tensor *const *din,
                                   const hs_tensor *dout, const hs_tensor *const *in)
{
    (void)in;
    return hs_upsample_nearest_backward(din[0], dout, l->factor);
}

static hs_status upsample_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    l->channels = in_channels[0];
    return hs_graph_int(a, "factor", 2, 1, 64, &l->factor);
}

static void upsample_print(const hs_layer *l, FILE *out) { fprintf(out, " factor=%d", l->factor); }

/* ---- TanhHalf: (tanh(x) + 1) / 2 ------------------------------------------------------- */

static hs_status tanh_half_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    (void)l;
    return hs_tanh_half(out, in[0]);
}

static hs_status tanh_half_backward(const hs_layer *l, hs_tensor *const *din,
                                    const hs_tensor *dout, const hs_tensor *const *in)
{
    (void)l;
    return hs_tanh_half_backward(din[0], dout, in[0]);
}

/* ---- Interp: resize by up / down -------------------------------------------------------- */

static hs_status interp_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    same_shape(l, in, out);
    out->h = (int)((int64_t)in[0]->h * l->interp.up / l->interp.down);
    out->w = (int)((int64_t)in[0]->w * l->interp.up / l->interp.down);
    if (out->h < 1 || out->w < 1)
        return hs_fail(HS_ERR_USAGE, "layer '%s' shrinks a %dx%d map to nothing", l->name,
                       in[0]->w, in[0]->h);
    return HS_OK;
}

/* Output q = up*p + j reads around input d*p .. d*p + d - 1 (d = down):
 * nearest exactly there, bilinear one more pixel each side, bicubic two
 * before and two after (see cl/interp.cl). */
static hs_layer_window interp_window(const hs_layer *l)
{
    int d = l->interp.down, reach = l->interp.mode == HS_INTERP_BICUBIC    ? 2
                                    : l->interp.mode == HS_INTERP_BILINEAR ? 1
                                                                           : 0;
    return (hs_layer_window){l->interp.up, d, reach, d - 1 + reach};
}

static hs_status interp_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_interp_forward(out, in[0], l->interp.mode);
}

static const char *const interp_modes[] = {"nearest", "bilinear", "bicubic"};

static hs_status interp_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    l->channels = in_channels[0];
    const char *mode = hs_graph_text(a, "mode");
    l->interp.mode = HS_INTERP_BICUBIC + 1;
    for (int m = 0; m < 3; m++)
        if (mode && strcmp(mode, interp_modes[m]) == 0) l->interp.mode = (hs_interp_mode)m;
    if (l->interp.mode > HS_INTERP_BICUBIC)
        return hs_fail(HS_ERR_WEIGHTS, "%s: mode=%s is not nearest, bilinear or bicubic",
                       a->where, mode ? mode : "(missing)");
    HS_TRY(hs_graph_int(a, "up", 1, 1, 64, &l->interp.up));
    return hs_graph_int(a, "down", 1, 1, 64, &l->interp.down);
}

static void interp_print(const hs_layer *l, FILE *out)
{
    fprintf(out, " mode=%s up=%d down=%d", interp_modes[l->interp.mode], l->interp.up,
            l->interp.down);
}

/* ---- Deconvolution: the transpose of a conv --------------------------------------------- */

static hs_status deconv_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    same_shape(l, in, out);
    out->h = hs_deconv_out_size(in[0]->h, l->kernel_h, l->conv.stride, l->conv.pad_h);
    out->w = hs_deconv_out_size(in[0]->w, l->kernel_w, l->conv.stride, l->conv.pad_w);
    if (out->h < 1 || out->w < 1)
        return hs_fail(HS_ERR_USAGE, "layer '%s': a %dx%d map is too small for its padding",
                       l->name, in[0]->w, in[0]->h);
    return HS_OK;
}

/* Output q = stride*p + j gets input i when q = i*stride + k - pad for a tap
 * k: i from p - (K-1-pad)/stride to p + (stride-1+pad)/stride. */
static hs_layer_window deconv_window(const hs_layer *l)
{
    int s = l->conv.stride;
    int k = max_int(l->kernel_h - 1 - l->conv.pad_h, l->kernel_w - 1 - l->conv.pad_w);
    int pad = max_int(l->conv.pad_h, l->conv.pad_w);
    return (hs_layer_window){s, 1, max_int(0, k) / s, (s - 1 + pad) / s};
}

static hs_status deconv_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_deconv2d_forward(out, in[0], &l->weight, l->bias.buf ? &l->bias : NULL, l->conv);
}

static hs_status deconv_forward_into(const hs_layer *l, hs_tensor *out, int channel0,
                                     const hs_tensor *const *in, const hs_residual *res,
                                     const hs_activation *act, hs_conv_reuse *reuse)
{
    (void)reuse; /* deconvs have no reuse_bytes: never given one */
    return hs_deconv2d_forward_into(out, channel0, in[0], &l->weight,
                                    l->bias.buf ? &l->bias : NULL, l->conv, res, act);
}

static hs_status deconv_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                                 const hs_tensor *const *in)
{
    return hs_deconv2d_backward(din[0], NULL, NULL, dout, in[0], &l->weight, l->conv);
}

static hs_status deconv_backward_weights(const hs_layer *l, hs_tensor *dweight, hs_tensor *dbias,
                                         const hs_tensor *dout, const hs_tensor *const *in)
{
    return hs_deconv2d_backward(NULL, dweight, l->bias.buf ? dbias : NULL, dout, in[0],
                                &l->weight, l->conv);
}

/* The columns of the conv it transposes, over the input's pixels. */
static size_t deconv_scratch(const hs_context *ctx, const hs_layer *l, const hs_tensor *out)
{
    size_t in_pixels = (size_t)(out->h + 2 * l->conv.pad_h) * (out->w + 2 * l->conv.pad_w) /
                       ((size_t)l->conv.stride * l->conv.stride) + 1;
    size_t bytes = (size_t)l->channels * l->kernel_h * l->kernel_w * in_pixels * sizeof(float);
    return bytes < ctx->scratch_limit ? bytes : ctx->scratch_limit;
}

/* "<tensor>.weight" (IC, OC, KH, KW) and "<tensor>.bias" (OC). */
static hs_status deconv_load(hs_context *ctx, const hs_weights *w, const char *arch, hs_layer *l,
                             int in_channels)
{
    char key[HS_LAYER_NAME_SIZE + 8];
    int64_t wshape[4] = {in_channels, l->channels, l->kernel_h, l->kernel_w};
    int64_t bshape[1] = {l->channels};
    snprintf(key, sizeof key, "%s.weight", l->tensor);
    HS_TRY(upload(ctx, w, arch, key, 4, wshape, &l->weight, in_channels, l->channels,
                  l->kernel_h, l->kernel_w));
    snprintf(key, sizeof key, "%s.bias", l->tensor);
    return upload(ctx, w, arch, key, 1, bshape, &l->bias, 1, l->channels, 1, 1);
}

/* ---- GlobalMean: the mean of every channel ------------------------------------------------ */

static hs_status global_mean_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    same_shape(l, in, out);
    out->h = out->w = 1;
    return HS_OK;
}

static hs_layer_window whole(const hs_layer *l)
{
    (void)l;
    return (hs_layer_window){1, 1, HS_WINDOW_WHOLE, HS_WINDOW_WHOLE};
}

static hs_status global_mean_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    if (!l->pinned) return hs_channel_mean(out, in[0]);
    HS_TRY(hs_check_shape("pinned channel means", l->pinned, out->n, out->c, 1, 1));
    return hs_tensor_copy(out, l->pinned);
}

static hs_status global_mean_backward(const hs_layer *l, hs_tensor *const *din,
                                      const hs_tensor *dout, const hs_tensor *const *in)
{
    (void)l;
    (void)in;
    return hs_channel_mean_backward(din[0], dout);
}

/* ---- ChannelScale: in0 times the vector in1 ---------------------------------------------- */

static hs_status channel_scale_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    if (in[1]->n != in[0]->n || in[1]->c != in[0]->c || in[1]->h != 1 || in[1]->w != 1)
        return hs_fail(HS_ERR_INTERNAL, "layer '%s' scales %dx%d channels by a %dx%dx%dx%d "
                       "tensor, not one value per channel", l->name, in[0]->n, in[0]->c,
                       in[1]->n, in[1]->c, in[1]->h, in[1]->w);
    return same_shape(l, in, out);
}

static hs_status channel_scale_forward(const hs_layer *l, hs_tensor *out,
                                       const hs_tensor *const *in)
{
    (void)l;
    return hs_channel_scale(out, in[0], in[1]);
}

static hs_status channel_scale_backward(const hs_layer *l, hs_tensor *const *din,
                                        const hs_tensor *dout, const hs_tensor *const *in)
{
    (void)l;
    return hs_channel_scale_backward(din[0], din[1], dout, in[0], in[1]);
}

static hs_status channel_scale_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    if (in_channels[1] != in_channels[0])
        return hs_fail(HS_ERR_WEIGHTS, "%s: scales %d channels by %d values", a->where,
                       in_channels[0], in_channels[1]);
    l->channels = in_channels[0];
    return HS_OK;
}

/* ---- ChannelGate: in0 times the sigmoid of the vector in1 ---------------------------------- */

static hs_status channel_gate_forward(const hs_layer *l, hs_tensor *out,
                                      const hs_tensor *const *in)
{
    (void)l;
    return hs_channel_gate(out, in[0], in[1]);
}

static hs_status channel_gate_backward(const hs_layer *l, hs_tensor *const *din,
                                       const hs_tensor *dout, const hs_tensor *const *in)
{
    (void)l;
    return hs_channel_gate_backward(din[0], din[1], dout, in[0], in[1]);
}

/* ---- Sigmoid ------------------------------------------------------------------------------ */

static hs_status sigmoid_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    (void)l;
    return hs_sigmoid_forward(out, in[0]);
}

static hs_status sigmoid_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                                  const hs_tensor *const *in)
{
    (void)l;
    return hs_sigmoid_backward(din[0], dout, in[0]);
}

/* ---- Crop: a window of the input ---------------------------------------------------------- */

static hs_status crop_shape(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out)
{
    const hs_crop_params *p = &l->crop;
    same_shape(l, in, out);
    out->h = l->input_count > 1 ? in[1]->h : in[0]->h - p->top - p->bottom;
    out->w = l->input_count > 1 ? in[1]->w : in[0]->w - p->left - p->right;
    if (out->h < 1 || out->w < 1 || p->top + out->h > in[0]->h || p->left + out->w > in[0]->w)
        return hs_fail(HS_ERR_USAGE, "layer '%s' crops a %dx%d window at (%d,%d) out of a %dx%d "
                       "map", l->name, out->w, out->h, p->left, p->top, in[0]->w, in[0]->h);
    return HS_OK;
}

/* Output q reads input q + top (rows) or q + left (columns). */
static hs_layer_window crop_window(const hs_layer *l)
{
    int near = l->crop.top < l->crop.left ? l->crop.top : l->crop.left;
    return (hs_layer_window){1, 1, -near, max_int(l->crop.top, l->crop.left)};
}

static hs_status crop_forward(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    return hs_copy_region(out, 0, 0, in[0], l->crop.top, l->crop.left, out->h, out->w, 0);
}

/* din[0] is dout in its window, zero elsewhere; the size reference gets nothing. */
static hs_status crop_backward(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                               const hs_tensor *const *in)
{
    (void)in;
    if (l->input_count > 1) HS_TRY(hs_tensor_fill(din[1], 0.0f));
    HS_TRY(hs_tensor_fill(din[0], 0.0f));
    return hs_copy_region(din[0], l->crop.top, l->crop.left, dout, 0, 0, dout->h, dout->w, 0);
}

static hs_status crop_parse(hs_layer *l, const hs_graph_args *a, const int *in_channels)
{
    l->channels = in_channels[0];
    HS_TRY(hs_graph_int(a, "top", 0, 0, 1 << 20, &l->crop.top));
    HS_TRY(hs_graph_int(a, "left", 0, 0, 1 << 20, &l->crop.left));
    HS_TRY(hs_graph_int(a, "bottom", 0, 0, 1 << 20, &l->crop.bottom));
    return hs_graph_int(a, "right", 0, 0, 1 << 20, &l->crop.right);
}

static void crop_print(const hs_layer *l, FILE *out)
{
    fprintf(out, " top=%d left=%d", l->crop.top, l->crop.left);
    if (l->input_count == 1)
        fprintf(out, " bottom=%d right=%d", l->crop.bottom, l->crop.right);
}

/* ---- The table ------------------------------------------------------------------------- */

/* Indexed by kind. Columns left out are NULL: no backward, no weights, no
 * scratch (see layers.h). */
static const hs_layer_type table[HS_LAYER_KIND_COUNT] = {
    [HS_LAYER_INPUT] = {.kind = HS_LAYER_INPUT, .name = "Input", .parse = input_parse,
                        .print = input_print},
    [HS_LAYER_CONV] = {.kind = HS_LAYER_CONV, .name = "Convolution", .min_inputs = 1,
                       .max_inputs = 1, .shape = conv_shape, .window = conv_window,
                       .forward = conv_forward, .forward_into = conv_forward_into,
                       .reuse_bytes = conv_reuse_bytes, .backward = conv_backward,
                       .backward_into = conv_backward_into,
                       .backward_weights = conv_backward_weights, .scratch_bytes = conv_scratch,
                       .kept_bytes = conv_kept_bytes,
                       .load_weights = conv_load, .parse = conv_parse, .print = conv_print},
    [HS_LAYER_RELU] = {.kind = HS_LAYER_RELU, .name = "ReLU", .min_inputs = 1, .max_inputs = 1,
                       .shape = same_shape, .window = pointwise, .forward = relu_forward,
                       .activation = relu_activation, .backward = relu_backward,
                       .parse = parse_no_params, .print = print_no_params},
    [HS_LAYER_LEAKY_RELU] = {.kind = HS_LAYER_LEAKY_RELU, .name = "LeakyReLU", .min_inputs = 1,
                             .max_inputs = 1, .shape = same_shape, .window = pointwise,
                             .forward = leaky_forward, .activation = leaky_activation,
                             .backward = leaky_backward,
                             .parse = leaky_parse, .print = leaky_print},
    [HS_LAYER_PRELU] = {.kind = HS_LAYER_PRELU, .name = "PReLU", .min_inputs = 1,
                        .max_inputs = 1, .shape = same_shape, .window = pointwise,
                        .forward = prelu_forward, .backward = prelu_backward,
                        .backward_weights = prelu_backward_weights, .load_weights = prelu_load,
                        .parse = prelu_parse, .print = print_tensor},
    [HS_LAYER_MAXPOOL] = {.kind = HS_LAYER_MAXPOOL, .name = "MaxPool", .min_inputs = 1,
                          .max_inputs = 1, .shape = maxpool_shape, .window = maxpool_window,
                          .forward = maxpool_forward, .backward = maxpool_backward,
                          .backward_into = maxpool_backward_into,
                          .parse = maxpool_parse, .print = maxpool_print},
    [HS_LAYER_ADD] = {.kind = HS_LAYER_ADD, .name = "Add", .min_inputs = 2, .max_inputs = 2,
                      .shape = add_shape, .window = pointwise, .forward = add_forward,
                      .backward = add_backward, .parse = add_parse, .print = add_print},
    [HS_LAYER_CONCAT] = {.kind = HS_LAYER_CONCAT, .name = "Concat", .min_inputs = 1,
                         .max_inputs = HS_NET_MAX_INPUTS, .shape = concat_shape,
                         .window = pointwise, .forward = concat_forward,
                         .backward = concat_backward, .parse = concat_parse,
                         .print = print_no_params},
    [HS_LAYER_PIXEL_SHUFFLE] = {.kind = HS_LAYER_PIXEL_SHUFFLE, .name = "PixelShuffle",
                                .min_inputs = 1, .max_inputs = 1, .shape = enlarge_shape,
                                .window = enlarge_window, .forward = shuffle_forward,
                                .backward = shuffle_backward, .parse = shuffle_parse,
                                .print = shuffle_print},
    [HS_LAYER_UPSAMPLE] = {.kind = HS_LAYER_UPSAMPLE, .name = "Upsample", .min_inputs = 1,
                           .max_inputs = 1, .shape = enlarge_shape, .window = enlarge_window,
                           .forward = upsample_forward, .backward = upsample_backward,
                           .parse = upsample_parse, .print = upsample_print},
    [HS_LAYER_TANH_HALF] = {.kind = HS_LAYER_TANH_HALF, .name = "TanhHalf", .min_inputs = 1,
                            .max_inputs = 1, .shape = same_shape, .window = pointwise,
                            .forward = tanh_half_forward, .backward = tanh_half_backward,
                            .parse = parse_no_params, .print = print_no_params},
    [HS_LAYER_INTERP] = {.kind = HS_LAYER_INTERP, .name = "Interp", .min_inputs = 1,
                         .max_inputs = 1, .shape = interp_shape, .window = interp_window,
                         .forward = interp_forward, .parse = interp_parse, .print = interp_print},
    [HS_LAYER_DECONV] = {.kind = HS_LAYER_DECONV, .name = "Deconvolution", .min_inputs = 1,
                         .max_inputs = 1, .shape = deconv_shape, .window = deconv_window,
                         .forward = deconv_forward, .forward_into = deconv_forward_into,
                         .backward = deconv_backward,
                         .backward_weights = deconv_backward_weights,
                         .scratch_bytes = deconv_scratch, .load_weights = deconv_load,
                         .parse = conv_parse, .print = conv_print},
    [HS_LAYER_GLOBAL_MEAN] = {.kind = HS_LAYER_GLOBAL_MEAN, .name = "GlobalMean",
                              .min_inputs = 1, .max_inputs = 1, .shape = global_mean_shape,
                              .window = whole, .forward = global_mean_forward,
                              .backward = global_mean_backward, .parse = parse_no_params,
                              .print = print_no_params},
    [HS_LAYER_CHANNEL_SCALE] = {.kind = HS_LAYER_CHANNEL_SCALE, .name = "ChannelScale",
                                .min_inputs = 2, .max_inputs = 2, .mixed_sizes = 1,
                                .shape = channel_scale_shape,
                                .window = pointwise, .forward = channel_scale_forward,
                                .backward = channel_scale_backward,
                                .parse = channel_scale_parse, .print = print_no_params},
    [HS_LAYER_CHANNEL_GATE] = {.kind = HS_LAYER_CHANNEL_GATE, .name = "ChannelGate",
                               .min_inputs = 2, .max_inputs = 2, .mixed_sizes = 1,
                               .shape = channel_scale_shape,
                               .window = pointwise, .forward = channel_gate_forward,
                               .backward = channel_gate_backward,
                               .parse = channel_scale_parse, .print = print_no_params},
    [HS_LAYER_SIGMOID] = {.kind = HS_LAYER_SIGMOID, .name = "Sigmoid", .min_inputs = 1,
                          .max_inputs = 1, .shape = same_shape, .window = pointwise,
                          .forward = sigmoid_forward, .backward = sigmoid_backward,
                          .parse = parse_no_params, .print = print_no_params},
    [HS_LAYER_CROP] = {.kind = HS_LAYER_CROP, .name = "Crop", .min_inputs = 1, .max_inputs = 2,
                       .mixed_sizes = 1, .shape = crop_shape, .window = crop_window,
                       .forward = crop_forward, .backward = crop_backward, .parse = crop_parse,
                       .print = crop_print},
};

const hs_layer_type *hs_layer_type_at(int i)
{
    if (i < 0 || i >= HS_LAYER_KIND_COUNT || !table[i].name) return NULL;
    return &table[i];
}

const hs_layer_type *hs_layer_type_of(const hs_layer *l)
{
    const hs_layer_type *t = hs_layer_type_at((int)l->kind);
    if (!t) hs_fail(HS_ERR_INTERNAL, "layer '%s' has kind %d, which the layer table lacks",
                    l->name, (int)l->kind);
    return t;
}

const hs_layer_type *hs_layer_type_named(const char *name)
{
    for (int i = 0; i < HS_LAYER_KIND_COUNT; i++)
        if (table[i].name && strcmp(table[i].name, name) == 0) return &table[i];
    return NULL;
}
