/* net_sr.c — the five super-resolution generators of weights/README.md
 * ("Architectures: tensor names and graphs") as layer lists (net.h):
 *   rrdn      esrgan-thick: residual-in-residual dense blocks, TF depth_to_space;
 *   rdn       esrgan-medium/-slim: residual dense blocks, nearest upsampling;
 *   srresnet  SRGAN generator: PReLU, torch pixel shuffle, (tanh + 1) / 2, or
 *             a linear output plus the input enlarged bicubically;
 *   rrdbnet   ESRGAN / Real-ESRGAN: LeakyReLU, nearest ×2 twice (x4 files only);
 *   srvgg     Real-ESRGAN's SRVGGNetCompact (realesr-general-x4v3): a chain of
 *             convs and PReLUs, torch pixel shuffle, plus the input upsampled.
 * Hyper-parameters come from the metadata; every tensor is checked against
 * the shape the README gives. Conv layers are named after their tensors,
 * the other layers after the tensor they follow plus a suffix (".relu",
 * ".cat", ".add"), so an error names a line of the README. Every conv has
 * stride 1 and padding k/2. upscale.c runs these nets tile by tile.
 */
#include "net_sr.h"
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NAME_SIZE 48

/* ---- Metadata -------------------------------------------------------------- */

/* The required integer `key`, within min..max; 0 after a failure. */
static int meta_int(hs_net_builder *b, const char *key, int min, int max)
{
    int value = 0;
    if (b->status != HS_OK) return 0;
    b->status = hs_weights_meta_int(b->weights, key, &value);
    if (b->status == HS_OK && (value < min || value > max))
        b->status = hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is %d; %s takes %d to %d",
                            b->weights->path, key, value, b->net->arch, min, max);
    return b->status == HS_OK ? value : 0;
}

static float meta_float(hs_net_builder *b, const char *key)
{
    float value = 0.0f;
    if (b->status == HS_OK) b->status = hs_weights_meta_float(b->weights, key, &value);
    return value;
}

/* The required text `key` must be `expected`: the one variant of the graph we build. */
static void meta_expect(hs_net_builder *b, const char *key, const char *expected)
{
    const char *value = hs_weights_meta(b->weights, key);
    if (b->status == HS_OK && (!value || strcmp(value, expected) != 0))
        b->status = hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is '%s'; %s supports only '%s'",
                            b->weights->path, key, value ? value : "(missing)", b->net->arch,
                            expected);
}

/* What every SR builder sets: scale (one of min..max) and output_range. */
static int read_sr_meta(hs_net_builder *b, int min_scale, int max_scale)
{
    hs_net *net = b->net;
    net->scale = meta_int(b, "scale", min_scale, max_scale);
    net->output_range = meta_float(b, "output_range");
    if (b->status == HS_OK && !(net->output_range > 0))
        b->status = hs_fail(HS_ERR_WEIGHTS, "%s: metadata 'output_range' must be positive",
                            b->weights->path);
    return net->scale;
}

/* ---- Layers with formatted names -------------------------------------------- */

static const char *vname(char name[NAME_SIZE], const char *format, va_list args)
{
    vsnprintf(name, NAME_SIZE, format, args);
    return name;
}

/* A k×k conv, stride 1, padding k/2, on the tensors named by format. */
static int conv(hs_net_builder *b, int input, int out_channels, int k, const char *format, ...)
    __attribute__((format(printf, 5, 6)));
static int conv(hs_net_builder *b, int input, int out_channels, int k, const char *format, ...)
{
    char name[NAME_SIZE];
    va_list args;
    va_start(args, format);
    vname(name, format, args);
    va_end(args);
    return hs_build_conv(b, name, input, out_channels, k, 1, k / 2);
}

/* alpha * a + beta * c */
static int add(hs_net_builder *b, int a, float alpha, int c, float beta, const char *format, ...)
    __attribute__((format(printf, 6, 7)));
static int add(hs_net_builder *b, int a, float alpha, int c, float beta, const char *format, ...)
{
    char name[NAME_SIZE];
    va_list args;
    va_start(args, format);
    vname(name, format, args);
    va_end(args);
    return hs_build_add(b, name, a, alpha, c, beta);
}

/* ReLU when slope is 0, else LeakyReLU, named "<after>.relu". */
static int activation(hs_net_builder *b, int input, float slope, const char *after)
{
    char name[NAME_SIZE + 8]; /* room for the suffix */
    snprintf(name, sizeof name, "%s.relu", after);
    return slope == 0.0f ? hs_build_relu(b, name, input)
                         : hs_build_leaky_relu(b, name, input, slope);
}

static int concat2(hs_net_builder *b, int first, int second, const char *after)
{
    char name[NAME_SIZE + 8]; /* room for the suffix */
    snprintf(name, sizeof name, "%s.cat", after);
    return hs_build_concat(b, name, (const int[]){first, second}, 2);
}

/* The dense part of a residual dense block: `count` times
 * x = cat(x, act(conv(x))), the convs named <prefix><separator><1..count>. */
typedef struct dense_spec {
    const char *separator;
    int count, growth;
    float slope; /* 0: ReLU */
} dense_spec;

static int dense_layers(hs_net_builder *b, int x, const char *prefix, const dense_spec *d)
{
    for (int c = 1; c <= d->count; c++) {
        char name[NAME_SIZE];
        snprintf(name, sizeof name, "%s%s%d", prefix, d->separator, c);
        int y = hs_build_conv(b, name, x, d->growth, 3, 1, 1);
        y = activation(b, y, d->slope, name);
        x = concat2(b, x, y, name);
    }
    return x;
}

/* ---- rrdn (esrgan-thick) ----------------------------------------------------- */

typedef struct rrdn_params { int C, D, G, G0, T; float beta; } rrdn_params;

/* h + beta * LFF_t_d(dense(h)) */
static int rrdn_dense_block(hs_net_builder *b, int h, int t, int d, const rrdn_params *p)
{
    char prefix[NAME_SIZE];
    snprintf(prefix, sizeof prefix, "F_%d_%d", t, d);
    int x = dense_layers(b, h, prefix, &(dense_spec){"_", p->C, p->G, 0.0f});
    int fused = conv(b, x, p->G0, 3, "LFF_%d_%d", t, d);
    return add(b, h, 1.0f, fused, p->beta, "LFF_%d_%d.add", t, d);
}

hs_status hs_build_rrdn(hs_net_builder *b)
{
    rrdn_params p = {meta_int(b, "C", 1, 64), meta_int(b, "D", 1, 64), meta_int(b, "G", 1, 4096),
                     meta_int(b, "G0", 1, 4096), meta_int(b, "T", 1, 256), meta_float(b, "beta")};
    meta_expect(b, "pixel_shuffle", "tf");
    int s = read_sr_meta(b, 1, 8);
    int pre = conv(b, 0, p.G0, 3, "Pre_blocks_conv");
    int h = pre;
    for (int t = 1; t <= p.T; t++) {
        int block_input = h;
        for (int d = 1; d <= p.D; d++) h = rrdn_dense_block(b, h, t, d, &p);
        h = add(b, block_input, 1.0f, h, p.beta, "rrdb_%d.add", t);
    }
    h = conv(b, h, p.G0, 3, "post_blocks_conv");
    h = add(b, h, 1.0f, pre, 1.0f, "post_blocks_conv.add");
    h = conv(b, h, 3 * s * s, 3, "PreShuffle");
    h = hs_build_pixel_shuffle(b, "PreShuffle.shuffle", h, s, HS_SHUFFLE_TF);
    conv(b, h, 3, 3, "SR");
    return b->status;
}

/* ---- rdn (esrgan-medium, esrgan-slim) ---------------------------------------- */

hs_status hs_build_rdn(hs_net_builder *b)
{
    int C = meta_int(b, "C", 1, 64), D = meta_int(b, "D", 1, 256), G = meta_int(b, "G", 1, 4096),
        G0 = meta_int(b, "G0", 1, 4096);
    meta_expect(b, "upsampling", "nearest");
    int s = read_sr_meta(b, 1, 8);
    int f1 = conv(b, 0, G0, 3, "F_m1");
    int h = conv(b, f1, G0, 3, "F_0");
    int all_blocks = -1; /* cat(L_1, ..., L_d), grown block by block */
    for (int d = 1; d <= D; d++) {
        char prefix[NAME_SIZE];
        snprintf(prefix, sizeof prefix, "F_%d", d);
        int x = dense_layers(b, h, prefix, &(dense_spec){"_", C, G, 0.0f});
        x = conv(b, x, G0, 1, "LFF_%d", d);
        h = add(b, x, 1.0f, h, 1.0f, "LFF_%d.add", d);
        all_blocks = d == 1 ? h : concat2(b, all_blocks, h, prefix);
    }
    int g = conv(b, all_blocks, G0, 1, "GFF_1");
    g = conv(b, g, G0, 3, "GFF_2");
    g = add(b, g, 1.0f, f1, 1.0f, "GFF_2.add");
    g = activation(b, conv(b, g, 64, 5, "UPN1"), 0.0f, "UPN1");
    g = activation(b, conv(b, g, 32, 3, "UPN2"), 0.0f, "UPN2");
    g = conv(b, g, 3 * s * s, 3, "UPN3");
    g = hs_build_upsample(b, "UPN3.upsample", g, s);
    conv(b, g, 3, 3, "SR");
    return b->status;
}

/* ---- srresnet (SRGAN generator) ---------------------------------------------- */

/* PReLU with its slopes from the tensor named by format. */
static int prelu(hs_net_builder *b, int input, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int prelu(hs_net_builder *b, int input, const char *format, ...)
{
    char name[NAME_SIZE];
    va_list args;
    va_start(args, format);
    vname(name, format, args);
    va_end(args);
    return hs_build_prelu(b, name, input);
}

hs_status hs_build_srresnet(hs_net_builder *b)
{
    int blocks = meta_int(b, "num_blocks", 1, 256), features = meta_int(b, "num_feat", 1, 4096);
    meta_expect(b, "pixel_shuffle", "torch");
    const char *skip = hs_weights_meta(b->weights, "global_skip");
    int bicubic_skip = skip && strcmp(skip, "none") != 0;
    if (bicubic_skip) meta_expect(b, "global_skip", "bicubic");
    meta_expect(b, "output_activation", bicubic_skip ? "none" : "tanh_half");
    int s = read_sr_meta(b, 2, 8);
    if (b->status == HS_OK && s != 2 && s != 4 && s != 8)
        b->status = hs_fail(HS_ERR_WEIGHTS, "%s: metadata 'scale' is %d; srresnet takes 2, 4 or 8",
                            b->weights->path, s);
    int f = prelu(b, conv(b, 0, features, 9, "head"), "head.prelu");
    int h = f;
    for (int i = 0; i < blocks; i++) {
        int y = conv(b, h, features, 3, "body.%d.conv1", i);
        y = prelu(b, y, "body.%d.prelu", i);
        y = conv(b, y, features, 3, "body.%d.conv2", i);
        h = add(b, h, 1.0f, y, 1.0f, "body.%d.add", i);
    }
    h = add(b, f, 1.0f, conv(b, h, features, 3, "body_end"), 1.0f, "body_end.add");
    for (int j = 0; (1 << j) < s; j++) {
        char name[NAME_SIZE];
        snprintf(name, sizeof name, "up.%d.shuffle", j);
        h = conv(b, h, 4 * features, 3, "up.%d", j);
        h = hs_build_pixel_shuffle(b, name, h, 2, HS_SHUFFLE_TORCH);
        h = prelu(b, h, "up.%d.prelu", j);
    }
    h = conv(b, h, 3, 9, "tail");
    if (!bicubic_skip) {
        hs_build_tanh_half(b, "tail.tanh_half", h);
        return b->status;
    }
    hs_layer base = {.kind = HS_LAYER_INTERP, .name = "base", .input_count = 1, .channels = 3,
                     .interp = {HS_INTERP_BICUBIC, s, 1}};
    add(b, h, 1.0f, hs_build_layer(b, &base), 1.0f, "tail.add");
    return b->status;
}

/* ---- rrdbnet (ESRGAN, Real-ESRGAN x4) ---------------------------------------- */

typedef struct rrdb_params { int features, growth; float slope, residual; } rrdb_params;

/* h + residual * conv5(dense(h)): one of the three dense blocks of an RRDB */
static int rrdb_dense_block(hs_net_builder *b, int h, int block, int k, const rrdb_params *p)
{
    char prefix[NAME_SIZE];
    snprintf(prefix, sizeof prefix, "body.%d.rdb%d", block, k);
    int x = dense_layers(b, h, prefix, &(dense_spec){".conv", 4, p->growth, p->slope});
    x = conv(b, x, p->features, 3, "%s.conv5", prefix);
    return add(b, h, 1.0f, x, p->residual, "%s.add", prefix);
}

/* lrelu(conv(upsample_nearest(x, 2))) */
static int rrdb_upsample(hs_net_builder *b, int x, const char *name, const rrdb_params *p)
{
    char upsample[NAME_SIZE];
    snprintf(upsample, sizeof upsample, "%s.upsample", name);
    x = hs_build_upsample(b, upsample, x, 2);
    return activation(b, conv(b, x, p->features, 3, "%s", name), p->slope, name);
}

/* pixel_unshuffle 2 and 4 (the x2 and x1 files) would need a pixel-unshuffle op. */
static void refuse_pixel_unshuffle(hs_net_builder *b)
{
    int factor = meta_int(b, "pixel_unshuffle", 1, 4);
    if (b->status == HS_OK && factor != 1)
        b->status = hs_fail(HS_ERR_WEIGHTS,
                            "%s: an x%d RRDBNet (pixel_unshuffle %d) is not supported: hirestyle "
                            "has no pixel-unshuffle op yet, only x4 RRDBNet files work",
                            b->weights->path, 4 / factor, factor);
}

hs_status hs_build_rrdbnet(hs_net_builder *b)
{
    rrdb_params p = {meta_int(b, "num_feat", 1, 4096), meta_int(b, "num_grow_ch", 1, 4096),
                     meta_float(b, "leaky_slope"), meta_float(b, "residual_scale")};
    int blocks = meta_int(b, "num_block", 1, 256);
    meta_expect(b, "upsampling", "nearest x2, twice");
    refuse_pixel_unshuffle(b);
    read_sr_meta(b, 4, 4);
    int first = conv(b, 0, p.features, 3, "conv_first");
    int h = first;
    for (int i = 0; i < blocks; i++) {
        int block_input = h;
        for (int k = 1; k <= 3; k++) h = rrdb_dense_block(b, h, i, k, &p);
        h = add(b, block_input, 1.0f, h, p.residual, "body.%d.add", i);
    }
    h = add(b, first, 1.0f, conv(b, h, p.features, 3, "conv_body"), 1.0f, "conv_body.add");
    h = rrdb_upsample(b, h, "conv_up1", &p);
    h = rrdb_upsample(b, h, "conv_up2", &p);
    h = activation(b, conv(b, h, p.features, 3, "conv_hr"), p.slope, "conv_hr");
    conv(b, h, 3, 3, "conv_last");
    return b->status;
}

/* ---- srvgg (SRVGGNetCompact) --------------------------------------------------- */

/* PReLU whose slopes are "<name>.weight" (Real-ESRGAN's nn.PReLU key). */
static int prelu_module(hs_net_builder *b, int input, int index)
{
    hs_layer l = {.kind = HS_LAYER_PRELU, .inputs = {input}, .input_count = 1};
    snprintf(l.name, sizeof l.name, "body.%d", index);
    snprintf(l.tensor, sizeof l.tensor, "body.%d.weight", index);
    l.channels = input >= 0 && input < b->net->count ? b->net->layers[input].channels : 0;
    return hs_build_layer(b, &l);
}

/* Tensors as the state dict of Real-ESRGAN's SRVGGNetCompact: body.0 conv,
 * body.1 PReLU, then body.2k conv and body.2k+1 PReLU for k = 1..num_conv,
 * body.2*num_conv+2 the last conv; out = shuffle(last) + nearest(input). */
hs_status hs_build_srvgg(hs_net_builder *b)
{
    int features = meta_int(b, "num_feat", 1, 4096), convs = meta_int(b, "num_conv", 0, 256);
    meta_expect(b, "activation", "prelu");
    int s = read_sr_meta(b, 1, 8);
    int h = prelu_module(b, conv(b, 0, features, 3, "body.0"), 1);
    for (int k = 1; k <= convs; k++)
        h = prelu_module(b, conv(b, h, features, 3, "body.%d", 2 * k), 2 * k + 1);
    h = conv(b, h, 3 * s * s, 3, "body.%d", 2 * convs + 2);
    h = hs_build_pixel_shuffle(b, "upsampler", h, s, HS_SHUFFLE_TORCH);
    int base = hs_build_upsample(b, "base", 0, s);
    add(b, h, 1.0f, base, 1.0f, "output");
    return b->status;
}
