/* net.c — building, sizing and running the layer lists of net.h. */
#include "net.h"
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Building ------------------------------------------------------------- */

static int append(hs_net_builder *b, hs_layer_kind kind, const char *name, const int *inputs,
                  int input_count, int channels)
{
    if (b->status != HS_OK) return -1;
    hs_net *net = b->net;
    for (int i = 0; i < input_count; i++)
        if (inputs[i] < 0 || inputs[i] >= net->count) {
            b->status = hs_fail(HS_ERR_INTERNAL, "%s: layer '%s' reads a missing layer", net->arch,
                                name);
            return -1;
        }
    if (net->count == net->capacity) {
        int cap = net->capacity ? 2 * net->capacity : 64;
        hs_layer *grown = realloc(net->layers, cap * sizeof *grown);
        if (!grown) {
            b->status = hs_fail(HS_ERR_INTERNAL, "out of host memory");
            return -1;
        }
        net->layers = grown;
        net->capacity = cap;
    }
    hs_layer *l = &net->layers[net->count];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    snprintf(l->name, sizeof l->name, "%s", name);
    if (input_count) memcpy(l->inputs, inputs, input_count * sizeof *inputs);
    l->input_count = input_count;
    l->channels = channels;
    l->alpha = l->beta = 1.0f;
    return net->count++;
}

static int channels_of(const hs_net_builder *b, int layer)
{
    return layer >= 0 && layer < b->net->count ? b->net->layers[layer].channels : 0;
}

/* Upload weights tensor `name` with the given shape (ndim from count of dims). */
static hs_status upload_weight(hs_net_builder *b, const char *name, int ndim, const int64_t *shape,
                               hs_tensor *t, int n, int c, int h, int w)
{
    const hs_weight *found;
    HS_TRY(hs_weights_expect(b->weights, b->net->arch, name, ndim, shape, &found));
    HS_TRY(hs_tensor_alloc(b->net->ctx, t, n, c, h, w));
    return hs_tensor_write(t, found->data);
}

int hs_build_input(hs_net_builder *b, int channels)
{
    return append(b, HS_LAYER_INPUT, "input", NULL, 0, channels);
}

int hs_build_conv(hs_net_builder *b, const char *name, int input, int out_channels, int k,
                  int stride, int pad)
{
    return hs_build_conv_named(b, name, name, input, out_channels, k, stride, pad);
}

int hs_build_conv_named(hs_net_builder *b, const char *name, const char *tensor, int input,
                        int out_channels, int k, int stride, int pad)
{
    int in_channels = channels_of(b, input);
    int i = append(b, HS_LAYER_CONV, name, &input, 1, out_channels);
    if (i < 0) return -1;
    hs_layer *l = &b->net->layers[i];
    l->conv = (hs_conv_params){stride, pad, pad};
    char key[96];
    int64_t wshape[4] = {out_channels, in_channels, k, k}, bshape[1] = {out_channels};
    snprintf(key, sizeof key, "%s.weight", tensor);
    b->status = upload_weight(b, key, 4, wshape, &l->weight, out_channels, in_channels, k, k);
    snprintf(key, sizeof key, "%s.bias", tensor);
    if (b->status == HS_OK)
        b->status = upload_weight(b, key, 1, bshape, &l->bias, 1, out_channels, 1, 1);
    return b->status == HS_OK ? i : -1;
}

int hs_build_relu(hs_net_builder *b, const char *name, int input)
{
    return append(b, HS_LAYER_RELU, name, &input, 1, channels_of(b, input));
}

int hs_build_leaky_relu(hs_net_builder *b, const char *name, int input, float slope)
{
    int i = append(b, HS_LAYER_LEAKY_RELU, name, &input, 1, channels_of(b, input));
    if (i >= 0) b->net->layers[i].alpha = slope;
    return i;
}

int hs_build_prelu(hs_net_builder *b, const char *name, int input)
{
    int c = channels_of(b, input);
    int i = append(b, HS_LAYER_PRELU, name, &input, 1, c);
    if (i < 0) return -1;
    int64_t shape[1] = {c};
    b->status = upload_weight(b, name, 1, shape, &b->net->layers[i].weight, 1, c, 1, 1);
    return b->status == HS_OK ? i : -1;
}

int hs_build_maxpool(hs_net_builder *b, const char *name, int input, int k, int stride, int pad)
{
    int i = append(b, HS_LAYER_MAXPOOL, name, &input, 1, channels_of(b, input));
    if (i >= 0) b->net->layers[i].pool = (hs_pool_params){k, stride, pad, 0};
    return i;
}

int hs_build_add(hs_net_builder *b, const char *name, int a, float alpha, int c, float beta)
{
    int inputs[2] = {a, c};
    if (b->status == HS_OK && channels_of(b, a) != channels_of(b, c))
        b->status = hs_fail(HS_ERR_INTERNAL, "%s: '%s' adds %d and %d channels", b->net->arch,
                            name, channels_of(b, a), channels_of(b, c));
    int i = append(b, HS_LAYER_ADD, name, inputs, 2, channels_of(b, a));
    if (i >= 0) {
        b->net->layers[i].alpha = alpha;
        b->net->layers[i].beta = beta;
    }
    return i;
}

int hs_build_concat(hs_net_builder *b, const char *name, const int *inputs, int count)
{
    int channels = 0;
    for (int k = 0; k < count; k++) channels += channels_of(b, inputs[k]);
    if (count > HS_NET_MAX_INPUTS && b->status == HS_OK)
        b->status = hs_fail(HS_ERR_INTERNAL, "%s: '%s' concatenates too many inputs",
                            b->net->arch, name);
    return append(b, HS_LAYER_CONCAT, name, inputs, count, channels);
}

int hs_build_pixel_shuffle(hs_net_builder *b, const char *name, int input, int factor,
                           hs_shuffle_order order)
{
    int c = channels_of(b, input);
    if (b->status == HS_OK && c % (factor * factor))
        b->status = hs_fail(HS_ERR_WEIGHTS, "%s: '%s' has %d channels, not a multiple of %d",
                            b->net->arch, name, c, factor * factor);
    int i = append(b, HS_LAYER_PIXEL_SHUFFLE, name, &input, 1, c / (factor * factor));
    if (i >= 0) {
        b->net->layers[i].factor = factor;
        b->net->layers[i].order = order;
    }
    return i;
}

int hs_build_upsample(hs_net_builder *b, const char *name, int input, int factor)
{
    int i = append(b, HS_LAYER_UPSAMPLE, name, &input, 1, channels_of(b, input));
    if (i >= 0) b->net->layers[i].factor = factor;
    return i;
}

int hs_build_tanh_half(hs_net_builder *b, const char *name, int input)
{
    return append(b, HS_LAYER_TANH_HALF, name, &input, 1, channels_of(b, input));
}

int hs_net_find(const hs_net *net, const char *name)
{
    for (int i = 0; i < net->count; i++)
        if (strcmp(net->layers[i].name, name) == 0) return i;
    return -1;
}

void hs_net_free(hs_net *net)
{
    for (int i = 0; i < net->count; i++) {
        hs_tensor_free(&net->layers[i].weight);
        hs_tensor_free(&net->layers[i].bias);
    }
    free(net->layers);
    memset(net, 0, sizeof *net);
}

/* ---- Shapes and memory ------------------------------------------------------ */

static hs_status layer_shape(const hs_net *net, int i, const hs_tensor *shapes, hs_tensor *out)
{
    const hs_layer *l = &net->layers[i];
    const hs_tensor *in = &shapes[l->inputs[0]];
    *out = (hs_tensor){.ctx = net->ctx, .n = in->n, .c = l->channels, .h = in->h, .w = in->w};
    switch (l->kind) {
    case HS_LAYER_CONV:
        out->h = hs_conv_out_size(in->h, l->weight.h, l->conv.stride, l->conv.pad_h);
        out->w = hs_conv_out_size(in->w, l->weight.w, l->conv.stride, l->conv.pad_w);
        break;
    case HS_LAYER_MAXPOOL:
        out->h = (in->h + 2 * l->pool.pad - l->pool.k) / l->pool.stride + 1;
        out->w = (in->w + 2 * l->pool.pad - l->pool.k) / l->pool.stride + 1;
        break;
    case HS_LAYER_PIXEL_SHUFFLE:
    case HS_LAYER_UPSAMPLE:
        out->h = in->h * l->factor;
        out->w = in->w * l->factor;
        break;
    default:
        break;
    }
    for (int k = 1; k < l->input_count; k++) {
        const hs_tensor *other = &shapes[l->inputs[k]];
        if (other->h != in->h || other->w != in->w)
            return hs_fail(HS_ERR_USAGE,
                           "%s: layer '%s' combines %dx%d and %dx%d maps; the image size must "
                           "be a multiple of %d",
                           net->arch, l->name, in->w, in->h, other->w, other->h, net->stride);
    }
    if (out->h < 1 || out->w < 1)
        return hs_fail(HS_ERR_USAGE, "%s: the image is too small for layer '%s'", net->arch,
                       l->name);
    return HS_OK;
}

hs_status hs_net_shapes(const hs_net *net, int h, int w, hs_tensor *shapes)
{
    shapes[0] = (hs_tensor){.ctx = net->ctx, .n = 1, .c = net->layers[0].channels, .h = h, .w = w};
    for (int i = 1; i < net->count; i++) HS_TRY(layer_shape(net, i, shapes, &shapes[i]));
    return HS_OK;
}

static int max_int(int a, int b) { return a > b ? a : b; }

hs_status hs_net_footprints(const hs_net *net, int last, hs_footprint *out)
{
    out[0] = (hs_footprint){1, 0, 0};
    for (int i = 1; i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        hs_footprint f = out[l->inputs[0]];
        for (int k = 1; k < l->input_count; k++) { /* the union of what the inputs see */
            const hs_footprint *o = &out[l->inputs[k]];
            if (o->stride != f.stride)
                return hs_fail(HS_ERR_INTERNAL, "%s: layer '%s' mixes strides %d and %d",
                               net->arch, l->name, f.stride, o->stride);
            f.before = max_int(f.before, o->before);
            f.after = max_int(f.after, o->after);
        }
        int k_h = 1, k_w = 1, stride = 1, pad_h = 0, pad_w = 0;
        switch (l->kind) {
        case HS_LAYER_CONV:
            k_h = l->weight.h, k_w = l->weight.w, stride = l->conv.stride;
            pad_h = l->conv.pad_h, pad_w = l->conv.pad_w;
            break;
        case HS_LAYER_MAXPOOL:
            k_h = k_w = l->pool.k, stride = l->pool.stride, pad_h = pad_w = l->pool.pad;
            break;
        case HS_LAYER_PIXEL_SHUFFLE:
        case HS_LAYER_UPSAMPLE:
            return hs_fail(HS_ERR_INTERNAL, "%s: layer '%s' enlarges its input; its footprint "
                           "is not computed", net->arch, l->name);
        default:
            break;
        }
        /* output q reads input positions stride*q - pad .. stride*q - pad + k - 1 */
        f.before += f.stride * max_int(pad_h, pad_w);
        f.after += f.stride * max_int(k_h - 1 - pad_h, k_w - 1 - pad_w);
        f.stride *= stride;
        out[i] = f;
    }
    return HS_OK;
}

/* For every layer, the last layer (<= last) that reads it. */
static void last_readers(const hs_net *net, int last, int *reader)
{
    for (int i = 0; i < net->count; i++) reader[i] = -1;
    for (int i = 1; i <= last; i++)
        for (int k = 0; k < net->layers[i].input_count; k++) reader[net->layers[i].inputs[k]] = i;
}

static size_t conv_scratch_bytes(const hs_net *net, const hs_tensor *shapes, int last)
{
    size_t most = 0;
    for (int i = 1; i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        if (l->kind != HS_LAYER_CONV) continue;
        size_t bytes = (size_t)l->weight.c * l->weight.h * l->weight.w * shapes[i].h * shapes[i].w *
                       sizeof(float);
        if (bytes > net->ctx->scratch_limit) bytes = net->ctx->scratch_limit;
        if (bytes > most) most = bytes;
    }
    return most;
}

size_t hs_net_memory(const hs_net *net, int h, int w, int last, int keep)
{
    hs_tensor *shapes = calloc(net->count, sizeof *shapes);
    int *reader = malloc(net->count * sizeof *reader);
    size_t total = 0;
    if (shapes && reader && hs_net_shapes(net, h, w, shapes) == HS_OK) {
        size_t live = 0, peak = 0, biggest = 0;
        last_readers(net, last, reader);
        for (int i = 1; i <= last; i++) {
            size_t bytes = hs_tensor_count(&shapes[i]) * sizeof(float);
            live += bytes;
            if (bytes > biggest) biggest = bytes;
            if (live > peak) peak = live;
            if (keep) continue;
            for (int j = 1; j < i; j++)
                if (reader[j] == i) live -= hs_tensor_count(&shapes[j]) * sizeof(float);
        }
        /* backward holds a few gradients at a time, each at most the biggest map */
        total = peak + (keep ? 3 * biggest : 0) + conv_scratch_bytes(net, shapes, last) +
                HS_GEMM_PACK_BYTES;
    }
    free(shapes);
    free(reader);
    return total;
}

/* ---- Forward ---------------------------------------------------------------- */

static hs_status run_layer(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in)
{
    switch (l->kind) {
    case HS_LAYER_CONV: return hs_conv2d_forward(out, in[0], &l->weight, &l->bias, l->conv);
    case HS_LAYER_RELU: return hs_relu_forward(out, in[0]);
    case HS_LAYER_LEAKY_RELU: return hs_leaky_relu_forward(out, in[0], l->alpha);
    case HS_LAYER_PRELU: return hs_prelu_forward(out, in[0], &l->weight);
    case HS_LAYER_MAXPOOL: return hs_maxpool_forward(out, in[0], l->pool);
    case HS_LAYER_ADD: return hs_axpby(out, l->alpha, in[0], l->beta, in[1]);
    case HS_LAYER_CONCAT: return hs_concat(out, in, l->input_count);
    case HS_LAYER_PIXEL_SHUFFLE: return hs_pixel_shuffle(out, in[0], l->factor, l->order);
    case HS_LAYER_UPSAMPLE: return hs_upsample_nearest(out, in[0], l->factor);
    case HS_LAYER_TANH_HALF: return hs_tanh_half(out, in[0]);
    case HS_LAYER_INPUT: break;
    }
    return hs_fail(HS_ERR_INTERNAL, "layer '%s' cannot run", l->name);
}

/* The tensor layer i produced: the caller's input for layer 0. */
static const hs_tensor *output_of(int i, const hs_tensor *input, const hs_tensor *acts)
{
    return i == 0 ? input : &acts[i];
}

hs_status hs_net_forward(hs_net *net, const hs_tensor *input, int last, int keep,
                         const unsigned char *wanted, hs_tensor *acts)
{
    if (input->c != net->layers[0].channels)
        return hs_fail(HS_ERR_INTERNAL, "%s takes %d channels, not %d", net->arch,
                       net->layers[0].channels, input->c);
    int *reader = malloc(net->count * sizeof *reader);
    hs_tensor *shapes = calloc(net->count, sizeof *shapes);
    hs_status st = reader && shapes ? HS_OK : hs_fail(HS_ERR_INTERNAL, "out of host memory");
    if (st == HS_OK) st = hs_net_shapes(net, input->h, input->w, shapes);
    if (st == HS_OK) last_readers(net, last, reader);
    for (int i = 1; st == HS_OK && i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        const hs_tensor *in[HS_NET_MAX_INPUTS];
        for (int k = 0; k < l->input_count; k++) in[k] = output_of(l->inputs[k], input, acts);
        const hs_tensor *s = &shapes[i];
        st = hs_tensor_alloc(net->ctx, &acts[i], input->n, s->c, s->h, s->w);
        if (st == HS_OK) st = run_layer(l, &acts[i], in);
        if (st != HS_OK) st = hs_fail_context(st, "%s layer '%s'", net->arch, l->name);
        for (int j = 1; st == HS_OK && !keep && j < i; j++)
            if (reader[j] == i && j != last && !(wanted && wanted[j])) hs_tensor_free(&acts[j]);
    }
    free(reader);
    free(shapes);
    return st;
}

void hs_net_release(const hs_net *net, hs_tensor *tensors)
{
    for (int i = 0; i < net->count; i++) hs_tensor_free(&tensors[i]);
}

/* ---- Backward w.r.t. the input ---------------------------------------------- */


/* dL/d(input k of layer l) from dout, into a new tensor shaped like that input. */
static hs_status layer_backward(const hs_layer *l, int k, const hs_tensor *dout,
                                const hs_tensor *const *in, hs_tensor *din)
{
    switch (l->kind) {
    case HS_LAYER_CONV:
        return hs_conv2d_backward(din, NULL, NULL, dout, in[0], &l->weight, l->conv);
    case HS_LAYER_RELU: return hs_relu_backward(din, dout, in[0]);
    case HS_LAYER_LEAKY_RELU: return hs_leaky_relu_backward(din, dout, in[0], l->alpha);
    case HS_LAYER_PRELU: return hs_prelu_backward(din, NULL, dout, in[0], &l->weight);
    case HS_LAYER_MAXPOOL: return hs_maxpool_backward(din, dout, in[0], l->pool);
    case HS_LAYER_ADD: return hs_scale(din, dout, k == 0 ? l->alpha : l->beta);
    default: break;
    }
    return hs_fail(HS_ERR_INTERNAL, "layer '%s' has no backward pass", l->name);
}

static hs_status concat_backward(const hs_layer *l, const hs_tensor *dout,
                                 const hs_tensor *const *in, hs_tensor *grads)
{
    hs_tensor parts[HS_NET_MAX_INPUTS] = {{0}};
    hs_tensor *ptrs[HS_NET_MAX_INPUTS];
    hs_status st = HS_OK;
    for (int k = 0; k < l->input_count && st == HS_OK; k++) {
        st = hs_tensor_alloc_like(&parts[k], in[k]);
        ptrs[k] = &parts[k];
    }
    if (st == HS_OK) st = hs_split(ptrs, l->input_count, dout);
    for (int k = 0; k < l->input_count; k++) {
        if (st == HS_OK) st = hs_tensor_accumulate(&grads[l->inputs[k]], &parts[k]);
        hs_tensor_free(&parts[k]);
    }
    return st;
}

hs_status hs_net_backward(hs_net *net, const hs_tensor *input, hs_tensor *acts,
                          hs_tensor *grads, int last, hs_tensor *dinput)
{
    hs_status st = HS_OK;
    for (int i = last; i >= 1 && st == HS_OK; i--) {
        if (!grads[i].buf) continue;
        const hs_layer *l = &net->layers[i];
        const hs_tensor *in[HS_NET_MAX_INPUTS];
        for (int k = 0; k < l->input_count; k++) {
            int j = l->inputs[k];
            in[k] = j == 0 ? input : &acts[j];
            if (j != 0 && !acts[j].buf)
                return hs_fail(HS_ERR_INTERNAL, "backward of '%s' needs a freed activation",
                               l->name);
        }
        if (l->kind == HS_LAYER_CONCAT) {
            st = concat_backward(l, &grads[i], in, grads);
        } else {
            for (int k = 0; k < l->input_count && st == HS_OK; k++) {
                hs_tensor din;
                st = hs_tensor_alloc_like(&din, in[k]);
                if (st == HS_OK) st = layer_backward(l, k, &grads[i], in, &din);
                if (st == HS_OK) st = hs_tensor_accumulate(&grads[l->inputs[k]], &din);
                hs_tensor_free(&din);
            }
        }
        if (st != HS_OK) st = hs_fail_context(st, "%s backward of '%s'", net->arch, l->name);
        hs_tensor_free(&grads[i]);
    }
    if (st == HS_OK && !grads[0].buf)
        return hs_tensor_fill(dinput, 0.0f); /* the losses do not depend on the input */
    if (st == HS_OK) st = hs_tensor_copy(dinput, &grads[0]);
    hs_tensor_free(&grads[0]);
    return st;
}
