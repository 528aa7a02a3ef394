/* ncnn_net.c — an ncnn model (.param + .bin, read by ncnn_param.c and
 * ncnn_bin.c) as a hirestyle layer list (net.h), so any ncnn super-resolution
 * model runs on OpenCL with the same engine as the built-in networks.
 *
 * Each ncnn layer type has a translation below that reads its parameters
 * (ids as in ncnn's docs/developer-guide/operation-param-weight-table.md),
 * takes its arrays from the .bin in the order ncnn's load_model reads them,
 * and appends the equivalent layers through the builder calls of net.h; the
 * layer table does the rest. Split only renames blobs. A type without a
 * translation, or a parameter we do not implement (dilation, asymmetric
 * padding, ...), is refused with the layer's name, type and file.
 *
 * Like realesrgan-ncnn-vulkan, the net takes RGB in [0,1] (pixel / 255) and
 * gives RGB in [0,1]; the scale is measured from the graph's shapes. A model
 * in a Real-CUGAN folder (models-se, ...) is padded by reflection, and its ×4
 * graph gets the input added back as realcugan-ncnn-vulkan adds it.
 */
#include "ncnn.h"
#include "net.h"
#include "engine.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TENSORS 2

typedef struct translator {
    const hs_ncnn_graph *g;
    hs_ncnn_bin bin;
    hs_net_builder b;
    hs_weights w;               /* the current layer's arrays, as named tensors */
    hs_weight tensors[MAX_TENSORS];
    char tensor_names[MAX_TENSORS][HS_NCNN_MAX_NAME + 16];
    int *producer;              /* per blob: the hirestyle layer that computes it */
    unsigned char *gated;       /* per blob: its sigmoid is left to its reader, a channel
                                   product (a ChannelGate) */
    char name[48];              /* the current layer's name, as the net keeps it */
} translator;

/* HS_ERR_WEIGHTS "FILE:LINE: layer NAME (TYPE): ..." */
static hs_status refuse(const hs_ncnn_graph *g, const hs_ncnn_layer *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static hs_status refuse(const hs_ncnn_graph *g, const hs_ncnn_layer *l, const char *fmt, ...)
{
    char what[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    return hs_fail(HS_ERR_WEIGHTS, "%s:%d: layer %s (%s): %s", g->path, l->line, l->name,
                   l->type, what);
}

/* ---- The current layer's arrays --------------------------------------------------- */

static void clear_arrays(translator *t)
{
    for (int i = 0; i < t->w.count; i++) free((void *)t->tensors[i].data);
    t->w.count = 0;
}

/* Read `count` floats (tagged: ncnn's type 0) as tensor "<name><suffix>" of
 * the given shape (ndim 1 or 4). */
static hs_status read_array(translator *t, const hs_ncnn_layer *l, const char *suffix,
                            size_t count, int tagged, int ndim, const int64_t *shape)
{
    hs_weight *tensor = &t->tensors[t->w.count];
    char what[HS_NCNN_MAX_NAME + 64];
    snprintf(what, sizeof what, "layer %s %s", l->name, suffix[0] ? suffix + 1 : "data");
    float *data = malloc(count * sizeof *data + 1);
    if (!data) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    hs_status st = hs_ncnn_bin_read(&t->bin, count, tagged, what, data);
    if (st != HS_OK) {
        free(data);
        return st;
    }
    snprintf(t->tensor_names[t->w.count], sizeof t->tensor_names[0], "%s%s", t->name, suffix);
    *tensor = (hs_weight){.name = t->tensor_names[t->w.count], .ndim = ndim, .count = count,
                          .data = data};
    memcpy(tensor->shape, shape, (size_t)ndim * sizeof *shape);
    t->w.count++;
    return HS_OK;
}

/* A bias of zeros, "<name>.bias", for layers without one: the layer table
 * loads a bias for every conv. */
static hs_status zero_bias(translator *t, int count)
{
    float *zeros = calloc((size_t)count, sizeof *zeros);
    if (!zeros) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    snprintf(t->tensor_names[t->w.count], sizeof t->tensor_names[0], "%s.bias", t->name);
    t->tensors[t->w.count] = (hs_weight){.name = t->tensor_names[t->w.count], .ndim = 1,
                                         .shape = {count}, .count = (size_t)count, .data = zeros};
    t->w.count++;
    return HS_OK;
}

/* ---- Blobs ------------------------------------------------------------------------- */

static int input_of(const translator *t, const hs_ncnn_layer *l, int k)
{
    return t->producer[l->bottoms[k]];
}

/* The layer just built computes every top of l. */
static hs_status set_tops(translator *t, const hs_ncnn_layer *l, int layer)
{
    if (layer < 0) return t->b.status;
    for (int k = 0; k < l->top_count; k++) t->producer[l->tops[k]] = layer;
    return HS_OK;
}

static hs_status expect_counts(const translator *t, const hs_ncnn_layer *l, int bottoms, int tops)
{
    if ((bottoms >= 0 && l->bottom_count != bottoms) || (tops >= 0 && l->top_count != tops))
        return refuse(t->g, l, "%d inputs and %d outputs; hirestyle takes %d and %d",
                      l->bottom_count, l->top_count, bottoms, tops);
    return HS_OK;
}

static int channels_of(const translator *t, int layer)
{
    return t->b.net->layers[layer].channels;
}

/* Append a layer of `kind` reading `inputs` (count of them), with the first
 * input's channels and parameters from proto (NULL: none); its index, or -1. */
static int append(translator *t, hs_layer_kind kind, const char *name, const int *inputs,
                  int count, const hs_layer *proto)
{
    hs_layer l = proto ? *proto : (hs_layer){0};
    l.kind = kind;
    snprintf(l.name, sizeof l.name, "%.*s", (int)sizeof l.name - 1, name);
    l.input_count = count;
    for (int k = 0; k < count; k++) l.inputs[k] = inputs[k];
    if (inputs[0] < 0) return -1;
    l.channels = channels_of(t, inputs[0]);
    return hs_build_layer(&t->b, &l);
}

static int unary(translator *t, hs_layer_kind kind, const char *name, int input)
{
    return append(t, kind, name, &input, 1, NULL);
}

/* Whether layer i gives one value per channel (N, C, 1, 1): a global mean,
 * and what InnerProduct layers and activations make of one. */
static int is_vector(const hs_net *net, int i)
{
    const hs_layer *l = &net->layers[i];
    switch (l->kind) {
    case HS_LAYER_GLOBAL_MEAN: return 1;
    case HS_LAYER_CONV:
    case HS_LAYER_RELU:
    case HS_LAYER_LEAKY_RELU:
    case HS_LAYER_SIGMOID: return is_vector(net, l->inputs[0]);
    default: return 0;
    }
}

/* ---- Translations, one per ncnn type ----------------------------------------------- */

static hs_status translate_input(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 0, 1));
    int c = hs_ncnn_int(l, 2, 3);
    if (t->b.net->count != 0 || c != 3)
        return refuse(t->g, l, "hirestyle takes one RGB input (3 channels) first in the graph");
    return set_tops(t, l, hs_build_input(&t->b, 3));
}

static hs_status translate_split(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, -1));
    return set_tops(t, l, input_of(t, l, 0));
}

/* Whether blob's one reader multiplies a feature map by it channel by
 * channel (a BinaryOp product or a Scale by a second blob, reading it
 * second): squeeze-excite's sigmoid, which that product can apply to its
 * factors as it scales (a ChannelGate), sparing the sigmoid a kernel of its
 * own. ncnn gives a blob read twice a Split, but a file may not. */
static int gates_a_product(const hs_ncnn_graph *g, int blob)
{
    const hs_ncnn_layer *reader = NULL;
    int readers = 0, second = 0;
    for (int i = 0; i < g->layer_count; i++)
        for (int k = 0; k < g->layers[i].bottom_count; k++)
            if (g->layers[i].bottoms[k] == blob) {
                reader = &g->layers[i];
                readers++;
                second = k == 1;
            }
    if (readers != 1 || !second || reader->bottom_count != 2) return 0;
    if (strcmp(reader->type, "BinaryOp") == 0)
        return hs_ncnn_int(reader, 0, 0) == 2 && !hs_ncnn_int(reader, 1, 0);
    return strcmp(reader->type, "Scale") == 0 && hs_ncnn_int(reader, 0, 0) == -233 &&
           !hs_ncnn_int(reader, 1, 0);
}

/* activation_type (9) and its parameters (10) after a conv: 0 none, 1 ReLU,
 * 2 LeakyReLU, 4 Sigmoid (left to the product reading it, when one does). */
static hs_status fused_activation(translator *t, const hs_ncnn_layer *l, int layer)
{
    int type = hs_ncnn_int(l, 9, 0);
    char name[64];
    snprintf(name, sizeof name, "%s.act", t->name);
    if (type == 1) layer = hs_build_relu(&t->b, name, layer);
    else if (type == 2) {
        const hs_ncnn_value *slope = hs_ncnn_array(l, 10);
        if (!slope || slope->count != 1)
            return refuse(t->g, l, "LeakyReLU activation without its slope (-23310=1,SLOPE)");
        layer = hs_build_leaky_relu(&t->b, name, layer, slope->floats[0]);
    } else if (type == 4 && gates_a_product(t->g, l->tops[0]))
        t->gated[l->tops[0]] = 1;
    else if (type == 4) layer = unary(t, HS_LAYER_SIGMOID, name, layer);
    else if (type != 0)
        return refuse(t->g, l, "fused activation type %d is not supported (0 none, 1 ReLU, 2 "
                      "LeakyReLU, 4 Sigmoid)", type);
    return set_tops(t, l, layer);
}

static hs_status translate_convolution(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    int out = hs_ncnn_int(l, 0, 0), kw = hs_ncnn_int(l, 1, 0), kh = hs_ncnn_int(l, 11, kw);
    int dw = hs_ncnn_int(l, 2, 1), dh = hs_ncnn_int(l, 12, dw);
    int sw = hs_ncnn_int(l, 3, 1), sh = hs_ncnn_int(l, 13, sw);
    int pl = hs_ncnn_int(l, 4, 0), pr = hs_ncnn_int(l, 15, pl), pt = hs_ncnn_int(l, 14, pl),
        pb = hs_ncnn_int(l, 16, pt);
    int bias = hs_ncnn_int(l, 5, 0), size = hs_ncnn_int(l, 6, 0);
    int input = input_of(t, l, 0), in_channels = channels_of(t, input);
    if (out < 1 || out > 65536 || kw < 1 || kw > 64)
        return refuse(t->g, l, "%d outputs of kernel %dx%d is out of range", out, kw, kh);
    if (kh != kw || dw != 1 || dh != 1 || sw != sh || pl != pr || pt != pb || pl != pt || pl < 0)
        return refuse(t->g, l, "only square kernels, dilation 1, equal strides and equal "
                      "padding on every side are supported (kernel %dx%d, dilation %dx%d, "
                      "stride %dx%d, padding %d,%d,%d,%d)", kw, kh, dw, dh, sw, sh, pl, pr, pt, pb);
    if (hs_ncnn_int(l, 8, 0) || hs_ncnn_int(l, 19, 0))
        return refuse(t->g, l, "int8 and dynamic-weight convolutions are not supported");
    if ((int64_t)size != (int64_t)out * in_channels * kw * kh)
        return refuse(t->g, l, "weight_data_size %d is not %d outputs x %d inputs x %dx%d", size,
                      out, in_channels, kw, kh);
    int64_t wshape[4] = {out, in_channels, kh, kw}, bshape[1] = {out};
    HS_TRY(read_array(t, l, ".weight", (size_t)size, 1, 4, wshape));
    if (bias) HS_TRY(read_array(t, l, ".bias", (size_t)out, 0, 1, bshape));
    else HS_TRY(zero_bias(t, out));
    int layer = hs_build_conv_named(&t->b, t->name, t->name, input, out, kw, sw, pl);
    if (layer < 0) return t->b.status;
    return fused_activation(t, l, layer);
}

/* Deconvolution: the parameters of Convolution (output paddings 18/19 and
 * sizes 20/21 refused); ncnn stores its weights (OC, IC, k, k), the layer
 * takes them (IC, OC, k, k). */
static hs_status translate_deconvolution(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    int out = hs_ncnn_int(l, 0, 0), kw = hs_ncnn_int(l, 1, 0), kh = hs_ncnn_int(l, 11, kw);
    int dw = hs_ncnn_int(l, 2, 1), dh = hs_ncnn_int(l, 12, dw);
    int sw = hs_ncnn_int(l, 3, 1), sh = hs_ncnn_int(l, 13, sw);
    int pl = hs_ncnn_int(l, 4, 0), pr = hs_ncnn_int(l, 15, pl), pt = hs_ncnn_int(l, 14, pl),
        pb = hs_ncnn_int(l, 16, pt);
    int bias = hs_ncnn_int(l, 5, 0), size = hs_ncnn_int(l, 6, 0);
    int input = input_of(t, l, 0), in_channels = channels_of(t, input);
    if (out < 1 || out > 65536 || kw < 1 || kw > 64 || sw < 1 || sw > 64)
        return refuse(t->g, l, "%d outputs of kernel %dx%d, stride %d is out of range", out, kw,
                      kh, sw);
    if (kh != kw || dw != 1 || dh != 1 || sw != sh || pl != pr || pt != pb || pl != pt || pl < 0 ||
        hs_ncnn_int(l, 18, 0) || hs_ncnn_int(l, 19, 0) || hs_ncnn_int(l, 20, 0) ||
        hs_ncnn_int(l, 21, 0) || hs_ncnn_int(l, 28, 0))
        return refuse(t->g, l, "only square kernels, dilation 1, equal strides, equal padding "
                      "on every side and no output padding or size are supported");
    if ((int64_t)size != (int64_t)out * in_channels * kw * kh)
        return refuse(t->g, l, "weight_data_size %d is not %d outputs x %d inputs x %dx%d", size,
                      out, in_channels, kw, kh);
    int64_t stored[4] = {out, in_channels, kh, kw}, bshape[1] = {out};
    HS_TRY(read_array(t, l, ".weight", (size_t)size, 1, 4, stored));
    hs_weight *w = &t->tensors[0];
    float *swapped = malloc((size_t)size * sizeof *swapped);
    if (!swapped) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    size_t k = (size_t)kh * kw;
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in_channels; i++)
            memcpy(swapped + ((size_t)i * out + o) * k, w->data + ((size_t)o * in_channels + i) * k,
                   k * sizeof *swapped);
    free((void *)w->data);
    w->data = swapped;
    w->shape[0] = in_channels;
    w->shape[1] = out;
    if (bias) HS_TRY(read_array(t, l, ".bias", (size_t)out, 0, 1, bshape));
    else HS_TRY(zero_bias(t, out));
    hs_layer proto = {.kind = HS_LAYER_DECONV, .input_count = 1, .channels = out,
                      .kernel_h = kh, .kernel_w = kw, .conv = {sw, pl, pl}};
    snprintf(proto.name, sizeof proto.name, "%s", t->name);
    proto.inputs[0] = input;
    int layer = hs_build_layer(&t->b, &proto);
    if (layer < 0) return t->b.status;
    return fused_activation(t, l, layer);
}

static hs_status translate_relu(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    float slope = hs_ncnn_float(l, 0, 0.0f);
    int input = input_of(t, l, 0);
    return set_tops(t, l, slope == 0.0f ? hs_build_relu(&t->b, t->name, input)
                                        : hs_build_leaky_relu(&t->b, t->name, input, slope));
}

static hs_status translate_prelu(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    int input = input_of(t, l, 0), c = channels_of(t, input), n = hs_ncnn_int(l, 0, 0);
    if (n != c && n != 1)
        return refuse(t->g, l, "%d slopes for %d channels", n, c);
    int64_t shape[1] = {c};
    HS_TRY(read_array(t, l, "", (size_t)n, 0, 1, shape));
    if (n == 1 && c > 1) { /* one slope for every channel */
        float *all = malloc((size_t)c * sizeof *all);
        if (!all) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
        for (int k = 0; k < c; k++) all[k] = t->tensors[0].data[0];
        free((void *)t->tensors[0].data);
        t->tensors[0].data = all;
        t->tensors[0].count = (size_t)c;
    }
    return set_tops(t, l, hs_build_prelu(&t->b, t->name, input));
}

/* Pooling: only the global average (pooling_type 1, global_pooling 1),
 * the mean of every channel. */
static hs_status translate_pooling(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    int type = hs_ncnn_int(l, 0, 0), global = hs_ncnn_int(l, 4, 0);
    if (type != 1 || !global)
        return refuse(t->g, l, "pooling type %d%s is not supported; only the global average "
                      "(0=1 4=1)", type, global ? " (global)" : "");
    return set_tops(t, l, unary(t, HS_LAYER_GLOBAL_MEAN, t->name, input_of(t, l, 0)));
}

/* InnerProduct on one value per channel (after a global mean): a 1x1
 * convolution, weights (out, in) as (out, in, 1, 1), its fused activation. */
static hs_status translate_inner_product(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    int out = hs_ncnn_int(l, 0, 0), bias = hs_ncnn_int(l, 1, 0), size = hs_ncnn_int(l, 2, 0);
    int input = input_of(t, l, 0), in_channels = channels_of(t, input);
    if (!is_vector(t->b.net, input))
        return refuse(t->g, l, "an inner product of a feature map; hirestyle takes it only of "
                      "one value per channel (after a global average pooling)");
    if (hs_ncnn_int(l, 8, 0))
        return refuse(t->g, l, "int8 inner products are not supported");
    if (out < 1 || out > 65536 || (int64_t)size != (int64_t)out * in_channels)
        return refuse(t->g, l, "weight_data_size %d is not %d outputs x %d inputs", size, out,
                      in_channels);
    int64_t wshape[4] = {out, in_channels, 1, 1}, bshape[1] = {out};
    HS_TRY(read_array(t, l, ".weight", (size_t)size, 1, 4, wshape));
    if (bias) HS_TRY(read_array(t, l, ".bias", (size_t)out, 0, 1, bshape));
    else HS_TRY(zero_bias(t, out));
    int layer = hs_build_conv_named(&t->b, t->name, t->name, input, out, 1, 1, 0);
    if (layer < 0) return t->b.status;
    return fused_activation(t, l, layer);
}

/* in0 times in1 channel by channel, in1 one value per channel (or its
 * sigmoid, when left to this product). */
static hs_status channel_scale(translator *t, const hs_ncnn_layer *l)
{
    int inputs[2] = {input_of(t, l, 0), input_of(t, l, 1)};
    if (is_vector(t->b.net, inputs[0]) || !is_vector(t->b.net, inputs[1]) ||
        channels_of(t, inputs[0]) != channels_of(t, inputs[1]))
        return refuse(t->g, l, "hirestyle multiplies a feature map only by one value per "
                      "channel (a global average's), given second and with as many channels");
    hs_layer_kind kind = t->gated[l->bottoms[1]] ? HS_LAYER_CHANNEL_GATE : HS_LAYER_CHANNEL_SCALE;
    return set_tops(t, l, append(t, kind, t->name, inputs, 2, NULL));
}

/* Scale by a second blob (scale_data_size -233, no bias): a channel scale. */
static hs_status translate_scale(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 2, 1));
    if (hs_ncnn_int(l, 0, 0) != -233 || hs_ncnn_int(l, 1, 0))
        return refuse(t->g, l, "only a scale by a second blob (0=-233) without bias is "
                      "supported");
    return channel_scale(t, l);
}

/* The rows or columns a Crop end (ncnn: negative counts from the end; a
 * huge one means the end) leaves out. -1: not expressible as a fixed count. */
static int trim_of_end(int end)
{
    if (end <= 0) return -end;
    return end >= (1 << 29) ? 0 : -1;
}

/* Crop: with a reference blob, that blob's size at offsets (0=w, 1=h);
 * alone, the starts/ends/axes arrays (-23309/-23310/-23311) on height and width. */
static hs_status translate_crop(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, -1, 1));
    hs_layer proto = {0};
    int inputs[2] = {input_of(t, l, 0), l->bottom_count > 1 ? input_of(t, l, 1) : -1};
    if (l->bottom_count == 2) {
        proto.crop = (hs_crop_params){hs_ncnn_int(l, 1, 0), hs_ncnn_int(l, 0, 0), 0, 0};
        if (hs_ncnn_int(l, 2, 0) || hs_ncnn_array(l, 9) || proto.crop.top < 0 ||
            proto.crop.left < 0)
            return refuse(t->g, l, "only crops of height and width to the second blob's size, "
                          "at offsets of 0 or more, are supported");
        return set_tops(t, l, append(t, HS_LAYER_CROP, t->name, inputs, 2, &proto));
    }
    if (l->bottom_count != 1) return refuse(t->g, l, "a crop of %d blobs", l->bottom_count);
    const hs_ncnn_value *starts = hs_ncnn_array(l, 9), *ends = hs_ncnn_array(l, 10),
                        *axes = hs_ncnn_array(l, 11);
    for (int id = 0; id <= 8; id++)
        if (hs_ncnn_int(l, id, 0))
            return refuse(t->g, l, "crop parameter %d is not supported; only the starts, ends "
                          "and axes arrays", id);
    if (!starts || !ends || !axes || starts->count != ends->count ||
        starts->count != axes->count)
        return refuse(t->g, l, "starts, ends and axes (-23309, -23310, -23311) of one length "
                      "are needed");
    for (int k = 0; k < axes->count; k++) {
        int axis = axes->ints[k], start = starts->ints[k], trim = trim_of_end(ends->ints[k]);
        if ((axis != -2 && axis != -1 && axis != 1 && axis != 2) || start < 0 || trim < 0)
            return refuse(t->g, l, "axis %d from %d to %d: only height and width (axes -2, -1), "
                          "from 0 or more to an end counted back from the edge", axis, start,
                          ends->ints[k]);
        if (axis == -2 || axis == 1) proto.crop.top = start, proto.crop.bottom = trim;
        else proto.crop.left = start, proto.crop.right = trim;
    }
    return set_tops(t, l, append(t, HS_LAYER_CROP, t->name, inputs, 1, &proto));
}

/* out = c0 * in0 + c1 * in1 + ..., as a chain of two-input adds. */
static hs_status weighted_sum(translator *t, const hs_ncnn_layer *l, const float *coeffs)
{
    int sum = input_of(t, l, 0);
    float first = coeffs ? coeffs[0] : 1.0f;
    for (int k = 1; k < l->bottom_count; k++) {
        char name[64];
        snprintf(name, sizeof name, k == l->bottom_count - 1 ? "%s" : "%s.%d", t->name, k);
        sum = hs_build_add(&t->b, name, sum, k == 1 ? first : 1.0f, input_of(t, l, k),
                           coeffs ? coeffs[k] : 1.0f);
    }
    return set_tops(t, l, sum);
}

static hs_status translate_eltwise(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, -1, 1));
    int op = hs_ncnn_int(l, 0, 1);
    const hs_ncnn_value *coeffs = hs_ncnn_array(l, 1);
    if (op != 1) return refuse(t->g, l, "operation %d is not supported (only 1, sum)", op);
    if (l->bottom_count < 2) return refuse(t->g, l, "a sum of fewer than two inputs");
    if (coeffs && coeffs->count != l->bottom_count)
        return refuse(t->g, l, "%d coefficients for %d inputs", coeffs->count, l->bottom_count);
    return weighted_sum(t, l, coeffs ? coeffs->floats : NULL);
}

/* BinaryOp: the sum or difference of two blobs of one shape, or the product
 * of a feature map and one value per channel. */
static hs_status translate_binary_op(translator *t, const hs_ncnn_layer *l)
{
    int op = hs_ncnn_int(l, 0, 0);
    if (hs_ncnn_int(l, 1, 0) || l->bottom_count != 2 || op < 0 || op > 2)
        return refuse(t->g, l, "only the sum, difference and channel product of two blobs are "
                      "supported (operation %d, %d inputs%s)", op, l->bottom_count,
                      hs_ncnn_int(l, 1, 0) ? ", with a scalar" : "");
    HS_TRY(expect_counts(t, l, 2, 1));
    if (op == 2) return channel_scale(t, l);
    float coeffs[2] = {1.0f, op == 1 ? -1.0f : 1.0f};
    return weighted_sum(t, l, coeffs);
}

static hs_status translate_concat(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, -1, 1));
    if (hs_ncnn_int(l, 0, 0) != 0)
        return refuse(t->g, l, "concatenation along axis %d; only channels (0) are supported",
                      hs_ncnn_int(l, 0, 0));
    if (l->bottom_count < 1 || l->bottom_count > HS_NET_MAX_INPUTS)
        return refuse(t->g, l, "%d inputs; hirestyle concatenates 1 to %d", l->bottom_count,
                      HS_NET_MAX_INPUTS);
    int inputs[HS_NET_MAX_INPUTS];
    for (int k = 0; k < l->bottom_count; k++) inputs[k] = input_of(t, l, k);
    return set_tops(t, l, hs_build_concat(&t->b, t->name, inputs, l->bottom_count));
}

static hs_status translate_pixel_shuffle(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    int r = hs_ncnn_int(l, 0, 1), mode = hs_ncnn_int(l, 1, 0);
    if (r < 1 || r > 16 || (mode != 0 && mode != 1))
        return refuse(t->g, l, "factor %d, mode %d: hirestyle takes factors 1 to 16, modes 0 "
                      "and 1", r, mode);
    return set_tops(t, l, hs_build_pixel_shuffle(&t->b, t->name, input_of(t, l, 0), r,
                                                 mode ? HS_SHUFFLE_TF : HS_SHUFFLE_TORCH));
}

/* The fraction up/down (both 1..64) closest to scale, within 1e-6 of it; 0 if none. */
static int as_fraction(float scale, int *up, int *down)
{
    for (int d = 1; d <= 64; d++) {
        int u = (int)(scale * d + 0.5f);
        if (u >= 1 && u <= 64 && fabsf((float)u / (float)d - scale) <= 1e-6f * scale) {
            *up = u;
            *down = d;
            return 1;
        }
    }
    return 0;
}

/* Interp by a scale factor: nearest by a whole factor is an Upsample (which
 * has a backward pass), anything else an Interp layer. */
static hs_status translate_interp(translator *t, const hs_ncnn_layer *l)
{
    HS_TRY(expect_counts(t, l, 1, 1));
    int type = hs_ncnn_int(l, 0, 0), up, down;
    float sh = hs_ncnn_float(l, 1, 1.0f), sw = hs_ncnn_float(l, 2, 1.0f);
    if (type < 1 || type > 3)
        return refuse(t->g, l, "resize type %d is not nearest (1), bilinear (2) or bicubic (3)",
                      type);
    if (hs_ncnn_int(l, 3, 0) || hs_ncnn_int(l, 4, 0) || hs_ncnn_int(l, 6, 0) ||
        hs_ncnn_array(l, 9))
        return refuse(t->g, l, "fixed output sizes, size expressions and align_corner are "
                      "not supported; only a scale factor");
    if (sh != sw || !as_fraction(sw, &up, &down))
        return refuse(t->g, l, "scale %gx%g: only the same factor on both axes, a fraction of "
                      "whole numbers up to 64, is supported", sw, sh);
    if (type == 1 && down == 1)
        return set_tops(t, l, hs_build_upsample(&t->b, t->name, input_of(t, l, 0), up));
    hs_layer proto = {.kind = HS_LAYER_INTERP, .input_count = 1,
                      .channels = channels_of(t, input_of(t, l, 0)),
                      .interp = {(hs_interp_mode)(type - 1), up, down}};
    snprintf(proto.name, sizeof proto.name, "%s", t->name);
    proto.inputs[0] = input_of(t, l, 0);
    return set_tops(t, l, hs_build_layer(&t->b, &proto));
}

typedef struct translation {
    const char *type;
    hs_status (*translate)(translator *t, const hs_ncnn_layer *l);
} translation;

static const translation translations[] = {
    {"Input", translate_input},
    {"Split", translate_split},
    {"Convolution", translate_convolution},
    {"Deconvolution", translate_deconvolution},
    {"ReLU", translate_relu},
    {"PReLU", translate_prelu},
    {"Eltwise", translate_eltwise},
    {"BinaryOp", translate_binary_op},
    {"Concat", translate_concat},
    {"PixelShuffle", translate_pixel_shuffle},
    {"Interp", translate_interp},
    {"Pooling", translate_pooling},
    {"InnerProduct", translate_inner_product},
    {"Scale", translate_scale},
    {"Crop", translate_crop},
};

int hs_ncnn_type_supported(const char *type)
{
    for (size_t i = 0; i < sizeof translations / sizeof *translations; i++)
        if (strcmp(type, translations[i].type) == 0) return 1;
    return 0;
}

/* ---- The whole graph --------------------------------------------------------------- */

static hs_status translate_layer(translator *t, const hs_ncnn_layer *l)
{
    snprintf(t->name, sizeof t->name, "%s", l->name);
    for (int k = 0; k < l->bottom_count; k++)
        if (t->producer[l->bottoms[k]] < 0)
            return refuse(t->g, l, "reads blob '%s' before the input layer",
                          t->g->blob_names[l->bottoms[k]]);
    for (size_t i = 0; i < sizeof translations / sizeof *translations; i++) {
        if (strcmp(l->type, translations[i].type) != 0) continue;
        hs_status st = translations[i].translate(t, l);
        clear_arrays(t);
        if (st != HS_OK && !strstr(hs_last_error(), t->g->path))
            st = hs_fail_context(st, "%s:%d: layer %s (%s)", t->g->path, l->line, l->name,
                                 l->type);
        return st;
    }
    return hs_fail(HS_ERR_WEIGHTS, "unsupported layer type %s (layer %s) in %s (line %d)",
                   l->type, l->name, t->g->path, l->line);
}

/* The net's output is blob "output" (what the ncnn tools extract), else the
 * last layer's first output; it must be the last layer built. */
static hs_status check_output(const translator *t)
{
    const hs_ncnn_graph *g = t->g;
    int blob = g->layers[g->layer_count - 1].tops[0];
    for (int i = 0; i < g->blob_count; i++)
        if (strcmp(g->blob_names[i], "output") == 0) blob = i;
    if (t->producer[blob] != t->b.net->count - 1)
        return hs_fail(HS_ERR_WEIGHTS, "%s: the output blob '%s' is not computed last; "
                       "hirestyle runs graphs with one output", g->path, g->blob_names[blob]);
    return HS_OK;
}

/* The output side for a side×side input, or -1 when the net cannot take it. */
static int output_side(hs_net *net, int side, hs_tensor *shapes, int *channels)
{
    if (hs_net_shapes(net, side, side, shapes) != HS_OK) return -1;
    const hs_tensor *out = &shapes[net->count - 1];
    *channels = out->c;
    return out->w == out->h ? out->w : -1;
}

/* The upscaling factor and the border the net trims, from the output sides
 * for 64×64 and 96×96 inputs: scale * (side - 2 * border), 3 channels. */
static hs_status measure_scale(hs_net *net, const char *path)
{
    hs_tensor *shapes = calloc((size_t)net->count, sizeof *shapes);
    if (!shapes) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    int c64 = 0, c96 = 0, o64 = output_side(net, 64, shapes, &c64),
        o96 = output_side(net, 96, shapes, &c96);
    free(shapes);
    int scale = (o96 - o64) / 32, trimmed = scale * 64 - o64;
    if (o64 < 1 || o96 < 1 || c64 != 3 || c96 != 3 || scale < 1 || o96 - o64 != 32 * scale ||
        trimmed < 0 || trimmed % (2 * scale) != 0)
        return hs_fail(HS_ERR_WEIGHTS, "%s: 64x64 and 96x96 inputs give %dx%d and %dx%d outputs "
                       "of %d channels: not an RGB upscaler by a whole factor", path, o64, o64,
                       o96, o96, c64);
    net->scale = scale;
    net->border = trimmed / (2 * scale);
    return HS_OK;
}

/* Whether the model sits in a Real-CUGAN folder (models-se, models-nose,
 * models-pro), which is how realcugan-ncnn-vulkan knows its models. */
static int is_realcugan(const char *param_path)
{
    const char *folders[] = {"models-se/", "models-nose/", "models-pro/"};
    for (int i = 0; i < 3; i++)
        if (strstr(param_path, folders[i])) return 1;
    return 0;
}

/* Real-CUGAN's ×4 graphs end before the original network's last step, the
 * input enlarged ×4 by nearest neighbour added to the output (the tool's
 * postproc shader does it): added here, the input cropped by the border
 * the net trims so that it lines up with the output. */
static hs_status add_input_back(translator *t)
{
    hs_net *net = t->b.net;
    int input = 0, output = net->count - 1, b = net->border;
    hs_layer crop = {.crop = {b, b, b, b}};
    int cropped = append(t, HS_LAYER_CROP, "input.crop", &input, 1, &crop);
    int enlarged = cropped < 0 ? -1 : hs_build_upsample(&t->b, "input.nearest", cropped, 4);
    int sum = enlarged < 0 ? -1 : hs_build_add(&t->b, "output.plus_input", output, 1.0f,
                                               enlarged, 1.0f);
    return sum < 0 ? t->b.status : HS_OK;
}

static hs_status translate_graph(translator *t, const char *param_path)
{
    char bin_path[4096];
    size_t n = strlen(param_path);
    snprintf(bin_path, sizeof bin_path, "%.*s.bin", (int)(n - strlen(".param")), param_path);
    HS_TRY(hs_ncnn_bin_open(bin_path, &t->bin));
    t->w.path = t->bin.path;
    t->w.tensors = t->tensors;
    t->producer = malloc((size_t)t->g->blob_count * sizeof *t->producer);
    t->gated = calloc((size_t)t->g->blob_count, 1);
    if (!t->producer || !t->gated) return hs_fail(HS_ERR_INTERNAL, "out of host memory");
    for (int i = 0; i < t->g->blob_count; i++) t->producer[i] = -1;
    for (int i = 0; i < t->g->layer_count; i++) HS_TRY(translate_layer(t, &t->g->layers[i]));
    if (t->bin.offset != t->bin.size)
        return hs_fail(HS_ERR_WEIGHTS, "%s: %zu bytes left over after the last layer's weights: "
                       "the .bin does not belong to %s", t->bin.path, t->bin.size - t->bin.offset,
                       param_path);
    HS_TRY(check_output(t));
    HS_TRY(measure_scale(t->b.net, param_path));
    if (!is_realcugan(param_path)) return HS_OK;
    t->b.net->pad_reflect = 1;
    return t->b.net->scale == 4 ? add_input_back(t) : HS_OK;
}

hs_status hs_ncnn_net_load(hs_context *ctx, const char *param_path, hs_net *net)
{
    memset(net, 0, sizeof *net);
    size_t n = strlen(param_path);
    if (n < 6 || strcmp(param_path + n - 6, ".param") != 0)
        return hs_fail(HS_ERR_USAGE, "%s: an ncnn model is named .param", param_path);
    hs_ncnn_graph g;
    HS_TRY(hs_ncnn_parse(param_path, &g));
    net->ctx = ctx;
    snprintf(net->arch, sizeof net->arch, "ncnn");
    net->norm = (hs_normalize){1.0f / 255.0f, {0, 0, 0}, {1, 1, 1}, 0};
    net->output_range = 1.0f;
    translator t = {.g = &g};
    t.b = (hs_net_builder){net, &t.w, HS_OK};
    hs_status st = translate_graph(&t, param_path);
    clear_arrays(&t);
    free(t.producer);
    free(t.gated);
    hs_ncnn_bin_close(&t.bin);
    hs_ncnn_graph_free(&g);
    if (st != HS_OK) hs_net_free(net);
    return st;
}
