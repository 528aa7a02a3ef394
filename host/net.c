/* net.c — building, sizing and running the layer lists of net.h. Every
 * per-kind step (shape, window, forward, backward, scratch, weights) is a
 * column of the layer table (layers.c); this file only walks the list. */
#include "net.h"
#include "engine.h"
#include "net_plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Building ------------------------------------------------------------- */

/* Append a copy of `proto` (kind, name, tensor, inputs, parameters and
 * channels set) and load its weights; its index, or -1 after a failure. */
int hs_build_layer(hs_net_builder *b, const hs_layer *proto)
{
    if (b->status != HS_OK) return -1;
    hs_net *net = b->net;
    const hs_layer_type *type = hs_layer_type_of(proto);
    if (!type) {
        b->status = hs_fail_context(HS_ERR_INTERNAL, "%s", net->arch);
        return -1;
    }
    if (proto->input_count < type->min_inputs || proto->input_count > type->max_inputs) {
        b->status = hs_fail(HS_ERR_INTERNAL, "%s: %s layer '%s' has %d inputs; it takes %d to %d",
                            net->arch, type->name, proto->name, proto->input_count,
                            type->min_inputs, type->max_inputs);
        return -1;
    }
    for (int i = 0; i < proto->input_count; i++)
        if (proto->inputs[i] < 0 || proto->inputs[i] >= net->count) {
            b->status = hs_fail(HS_ERR_INTERNAL, "%s: layer '%s' reads a missing layer", net->arch,
                                proto->name);
            return -1;
        }
    if (net->count == net->capacity) {
        int cap = net->capacity ? 2 * net->capacity : 64;
        hs_layer *grown = realloc(net->layers, cap * sizeof *grown);
        if (!grown) {
            b->status = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
            return -1;
        }
        net->layers = grown;
        net->capacity = cap;
    }
    hs_layer *l = &net->layers[net->count];
    *l = *proto;
    l->weight = l->bias = (hs_tensor){0};
    if (!l->tensor[0]) snprintf(l->tensor, sizeof l->tensor, "%s", l->name);
    net->count++;
    if (type->load_weights && !b->weights) {
        b->status = hs_fail(HS_ERR_WEIGHTS, "%s: %s layer '%s' needs weights, and none are given",
                            net->arch, type->name, l->name);
        return -1;
    }
    if (type->load_weights) {
        int in_channels = l->input_count ? net->layers[l->inputs[0]].channels : 0;
        b->status = type->load_weights(net->ctx, b->weights, net->arch, l, in_channels);
        if (b->status != HS_OK) return -1;
    }
    return net->count - 1;
}

static int channels_of(const hs_net_builder *b, int layer)
{
    return layer >= 0 && layer < b->net->count ? b->net->layers[layer].channels : 0;
}

/* A layer of `kind` called name, reading `inputs`: what every builder fills first. */
static hs_layer layer_proto(hs_layer_kind kind, const char *name, const int *inputs, int count,
                            int channels)
{
    hs_layer l = {.kind = kind, .input_count = count, .channels = channels, .alpha = 1.0f,
                  .beta = 1.0f};
    snprintf(l.name, sizeof l.name, "%s", name);
    for (int i = 0; i < count && i < HS_NET_MAX_INPUTS; i++) l.inputs[i] = inputs[i];
    return l;
}

/* A layer reading one input, with the input's channels. */
static int build_unary(hs_net_builder *b, hs_layer_kind kind, const char *name, int input)
{
    hs_layer l = layer_proto(kind, name, &input, 1, channels_of(b, input));
    return hs_build_layer(b, &l);
}

int hs_build_input(hs_net_builder *b, int channels)
{
    hs_layer l = layer_proto(HS_LAYER_INPUT, "input", NULL, 0, channels);
    return hs_build_layer(b, &l);
}

int hs_build_conv(hs_net_builder *b, const char *name, int input, int out_channels, int k,
                  int stride, int pad)
{
    return hs_build_conv_named(b, name, name, input, out_channels, k, stride, pad);
}

int hs_build_conv_named(hs_net_builder *b, const char *name, const char *tensor, int input,
                        int out_channels, int k, int stride, int pad)
{
    hs_layer l = layer_proto(HS_LAYER_CONV, name, &input, 1, out_channels);
    snprintf(l.tensor, sizeof l.tensor, "%s", tensor);
    l.kernel_h = l.kernel_w = k;
    l.conv = (hs_conv_params){stride, pad, pad};
    return hs_build_layer(b, &l);
}

int hs_build_relu(hs_net_builder *b, const char *name, int input)
{
    return build_unary(b, HS_LAYER_RELU, name, input);
}

int hs_build_leaky_relu(hs_net_builder *b, const char *name, int input, float slope)
{
    hs_layer l = layer_proto(HS_LAYER_LEAKY_RELU, name, &input, 1, channels_of(b, input));
    l.alpha = slope;
    return hs_build_layer(b, &l);
}

int hs_build_prelu(hs_net_builder *b, const char *name, int input)
{
    return build_unary(b, HS_LAYER_PRELU, name, input);
}

int hs_build_maxpool(hs_net_builder *b, const char *name, int input, int k, int stride, int pad)
{
    hs_layer l = layer_proto(HS_LAYER_MAXPOOL, name, &input, 1, channels_of(b, input));
    l.pool = (hs_pool_params){k, stride, pad, 0};
    return hs_build_layer(b, &l);
}

int hs_build_add(hs_net_builder *b, const char *name, int a, float alpha, int c, float beta)
{
    if (b->status == HS_OK && channels_of(b, a) != channels_of(b, c))
        b->status = hs_fail(HS_ERR_INTERNAL, "%s: '%s' adds %d and %d channels", b->net->arch,
                            name, channels_of(b, a), channels_of(b, c));
    hs_layer l = layer_proto(HS_LAYER_ADD, name, (const int[]){a, c}, 2, channels_of(b, a));
    l.alpha = alpha;
    l.beta = beta;
    return hs_build_layer(b, &l);
}

int hs_build_concat(hs_net_builder *b, const char *name, const int *inputs, int count)
{
    int channels = 0;
    for (int k = 0; k < count && k < HS_NET_MAX_INPUTS; k++) channels += channels_of(b, inputs[k]);
    hs_layer l = layer_proto(HS_LAYER_CONCAT, name, inputs, count, channels);
    return hs_build_layer(b, &l);
}

int hs_build_pixel_shuffle(hs_net_builder *b, const char *name, int input, int factor,
                           hs_shuffle_order order)
{
    int c = channels_of(b, input);
    if (b->status == HS_OK && c % (factor * factor))
        b->status = hs_fail(HS_ERR_WEIGHTS, "%s: '%s' has %d channels, not a multiple of %d",
                            b->net->arch, name, c, factor * factor);
    hs_layer l = layer_proto(HS_LAYER_PIXEL_SHUFFLE, name, &input, 1, c / (factor * factor));
    l.factor = factor;
    l.order = order;
    return hs_build_layer(b, &l);
}

int hs_build_upsample(hs_net_builder *b, const char *name, int input, int factor)
{
    hs_layer l = layer_proto(HS_LAYER_UPSAMPLE, name, &input, 1, channels_of(b, input));
    l.factor = factor;
    return hs_build_layer(b, &l);
}

int hs_build_tanh_half(hs_net_builder *b, const char *name, int input)
{
    return build_unary(b, HS_LAYER_TANH_HALF, name, input);
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

hs_status hs_net_freeze(hs_net *net)
{
    for (int i = 0; i < net->count; i++)
        HS_TRY(hs_weights_freeze(net->ctx, net->layers[i].weight.buf));
    net->frozen = 1;
    return HS_OK;
}

hs_status hs_net_for_inference(hs_net *net)
{
    HS_TRY(hs_net_fold_upsampling(net));
    return hs_net_freeze(net);
}

/* ---- Shapes and memory ------------------------------------------------------ */

/* The layer's inputs among `tensors` (one per layer; `first` stands for layer 0). */
static void inputs_of(const hs_layer *l, const hs_tensor *first, const hs_tensor *tensors,
                      const hs_tensor **in)
{
    for (int k = 0; k < l->input_count; k++)
        in[k] = l->inputs[k] == 0 ? first : &tensors[l->inputs[k]];
}

static hs_status layer_shape(const hs_net *net, int i, const hs_tensor *shapes, hs_tensor *out)
{
    const hs_layer *l = &net->layers[i];
    const hs_layer_type *type = hs_layer_type_of(l);
    if (!type || !type->shape) return hs_fail(HS_ERR_INTERNAL, "%s: layer '%s' has no shape",
                                              net->arch, l->name);
    const hs_tensor *in[HS_NET_MAX_INPUTS];
    inputs_of(l, &shapes[0], shapes, in);
    for (int k = 1; k < l->input_count && !type->mixed_sizes; k++)
        if (in[k]->h != in[0]->h || in[k]->w != in[0]->w)
            return hs_fail(HS_ERR_USAGE,
                           "%s: layer '%s' combines %dx%d and %dx%d maps; the image size does "
                           "not divide evenly through the net's strides",
                           net->arch, l->name, in[0]->w, in[0]->h, in[k]->w, in[k]->h);
    HS_TRY(type->shape(l, in, out));
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
        const hs_layer_type *type = hs_layer_type_of(l);
        if (!type) return hs_fail_context(HS_ERR_INTERNAL, "%s", net->arch);
        hs_footprint f = out[l->inputs[0]];
        for (int k = 1; k < l->input_count; k++) { /* the union of what the inputs see */
            const hs_footprint *o = &out[l->inputs[k]];
            if (o->stride != f.stride)
                return hs_fail(HS_ERR_INTERNAL, "%s: layer '%s' mixes strides %d and %d",
                               net->arch, l->name, f.stride, o->stride);
            f.before = max_int(f.before, o->before);
            f.after = max_int(f.after, o->after);
        }
        hs_layer_window win = type->window(l);
        if (win.up != 1)
            return hs_fail(HS_ERR_INTERNAL, "%s: layer '%s' enlarges its input; its footprint "
                           "is not computed", net->arch, l->name);
        /* output q reads input positions stride*q - before .. stride*q + after */
        f.before += f.stride * win.before;
        f.after += f.stride * win.after;
        f.stride *= win.stride;
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

/* The most scratch one layer takes (ops share one scratch buffer). */
static size_t scratch_bytes(const hs_net *net, const hs_tensor *shapes, int last)
{
    size_t most = 0;
    for (int i = 1; i <= last; i++) {
        const hs_layer_type *type = hs_layer_type_of(&net->layers[i]);
        size_t bytes = type && type->scratch_bytes
                           ? type->scratch_bytes(net->ctx, &net->layers[i], &shapes[i])
                           : 0;
        if (bytes > most) most = bytes;
    }
    return most;
}

/* The most bytes of activations live at once as hs_net_forward stores them
 * under `plan` (with keep none is freed), and the biggest single buffer. */
static void activation_peak(const hs_tensor *shapes, int last, int keep, const int *reader,
                            const hs_store_plan *plan, unsigned char *held, size_t *peak,
                            size_t *biggest)
{
    size_t live = 0;
    *peak = *biggest = 0;
    for (int i = 1; i <= last; i++) {
        if (plan->by_conv[i] < 0) { /* else its conv stored it */
            int target = hs_store_plan_target(plan, i);
            int at = plan->home[target] >= 0 ? plan->home[target] : target;
            size_t bytes = hs_tensor_count(&shapes[at]) * sizeof(float);
            if (!held[at]) live += bytes;
            held[at] = 1;
            if (bytes > *biggest) *biggest = bytes;
        }
        if (live > *peak) *peak = live;
        for (int j = 1; !keep && j < i; j++)
            if (reader[j] == i && held[j]) {
                live -= hs_tensor_count(&shapes[j]) * sizeof(float);
                held[j] = 0;
            }
    }
}

/* The largest buffer of transforms a forward's convs keep along a chain of
 * concats (net_plan.h), live beside everything else until the forward ends. */
static size_t reuse_bytes(const hs_net *net, const hs_tensor *shapes, int last,
                          const hs_store_plan *plan)
{
    size_t most = 0;
    for (int i = 1; i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        const hs_layer_type *type = hs_layer_type_of(l);
        int j = l->inputs[0];
        if (!type || !type->reuse_bytes || !plan->chain[j]) continue;
        size_t bytes = type->reuse_bytes(net->ctx, l, &shapes[j], plan->chain[j]);
        if (bytes > most) most = bytes;
    }
    return most;
}

/* What a frozen net's layers may keep beside their weights (the layer
 * table's kept_bytes), at most the context's cache limit. */
static size_t kept_bytes(const hs_net *net, int last, int keep)
{
    if (!net->frozen) return 0;
    size_t total = 0;
    for (int i = 1; i <= last; i++) {
        const hs_layer_type *type = hs_layer_type_of(&net->layers[i]);
        if (type && type->kept_bytes) total += type->kept_bytes(net->ctx, &net->layers[i], keep);
    }
    return total < net->ctx->weight_cache_limit ? total : net->ctx->weight_cache_limit;
}

size_t hs_net_memory(const hs_net *net, int h, int w, int last, int keep)
{
    hs_tensor *shapes = calloc(net->count, sizeof *shapes);
    int *reader = malloc(net->count * sizeof *reader);
    unsigned char *held = calloc(net->count, 1);
    hs_store_plan plan = {0};
    size_t total = SIZE_MAX;
    if (shapes && reader && held && hs_net_shapes(net, h, w, shapes) == HS_OK &&
        hs_store_plan_make(net, last, keep, 1, NULL, &plan) == HS_OK) {
        size_t peak, biggest;
        if (!keep) hs_store_plan_chains(net, shapes, last, &plan);
        last_readers(net, last, reader);
        activation_peak(shapes, last, keep, reader, &plan, held, &peak, &biggest);
        /* backward holds a few gradients at a time, each at most the biggest map */
        total = peak + (keep ? 3 * biggest : 0) + scratch_bytes(net, shapes, last) +
                reuse_bytes(net, shapes, last, &plan) + kept_bytes(net, last, keep) +
                HS_GEMM_PACK_BYTES;
    }
    hs_store_plan_free(&plan);
    free(shapes);
    free(reader);
    free(held);
    return total;
}

/* ---- Forward ---------------------------------------------------------------- */

/* Where layer i's output goes: its home concat's buffer (net_plan.h),
 * allocated by the first output placed there, or its own. */
static hs_status output_of(hs_net *net, const hs_store_plan *plan, const hs_tensor *shapes,
                           int batch, int i, hs_tensor *acts, hs_tensor **out, int *channel0)
{
    int at = plan->home[i] >= 0 ? plan->home[i] : i;
    const hs_tensor *s = &shapes[at];
    if (!acts[at].buf) HS_TRY(hs_tensor_alloc(net->ctx, &acts[at], batch, s->c, s->h, s->w));
    *out = &acts[at];
    *channel0 = plan->home[i] >= 0 ? plan->channel0[i] : 0;
    return HS_OK;
}

/* A concat: the inputs not written in place are copied into their channels;
 * one that is itself the first channels of a larger buffer is a view of them. */
static hs_status concat_in_place(hs_net *net, const hs_store_plan *plan, const hs_tensor *shapes,
                                 int batch, int i, const hs_tensor *const *in, hs_tensor *acts)
{
    const hs_layer *l = &net->layers[i];
    hs_tensor *out;
    int channel0;
    HS_TRY(output_of(net, plan, shapes, batch, i, acts, &out, &channel0));
    int home = plan->home[i] >= 0 ? plan->home[i] : i;
    for (int k = 0, c0 = channel0; k < l->input_count; c0 += shapes[l->inputs[k]].c, k++) {
        int j = l->inputs[k]; /* in[k] is empty when j is written in place */
        if (j != 0 && plan->home[j] == home && plan->channel0[j] == c0) continue;
        HS_TRY(hs_concat_into(out, c0, in[k]));
    }
    if (plan->home[i] >= 0) /* the first channels, for one image (net_plan.c) */
        acts[i] = (hs_tensor){net->ctx, out->buf, batch, shapes[i].c, shapes[i].h, shapes[i].w};
    return HS_OK;
}

/* Name what runs next for the profiler (profile.c): the layer's kind, a
 * conv's window and stride, and the pass. */
static void profile_step(hs_context *ctx, const hs_layer *l, const char *pass)
{
    const char *kind = hs_layer_type_of(l)->name;
    if (hs_profile_by_layer(ctx))
        hs_profile_step(ctx, "%s %s", l->name, pass);
    else if (l->kind == HS_LAYER_CONV || l->kind == HS_LAYER_DECONV)
        hs_profile_step(ctx, "%s %dx%d/%d %s", kind, l->kernel_h, l->kernel_w, l->conv.stride,
                        pass);
    else
        hs_profile_step(ctx, "%s %s", kind, pass);
}

/* The transforms a forward's convs extend along a chain of concats
 * (net_plan.h): reuse holds those of layer `held`'s output (-1: none).
 * Keyed by layer, not by buffer: buffers are recycled, but within one
 * forward a layer's output is computed once and never changes. */
typedef struct chain_state {
    hs_conv_reuse reuse;
    int held;
} chain_state;

/* Whether layer j's output begins with layer `held`'s: j is it, or a
 * concat whose first input is (or that one's first input, ...). */
static int begins_with(const hs_net *net, int j, int held)
{
    for (int k = j; held >= 0; k = net->layers[k].inputs[0]) {
        if (k == held) return 1;
        if (k == 0 || net->layers[k].kind != HS_LAYER_CONCAT) return 0;
    }
    return 0;
}

/* The transforms layer i may extend, NULL when its input is in no chain;
 * emptied when they are not of the first channels of its input. */
static hs_conv_reuse *reuse_for(const hs_net *net, const hs_store_plan *plan, int i,
                                chain_state *chain)
{
    const hs_layer *l = &net->layers[i];
    int j = l->inputs[0];
    if (!plan->chain[j] || !hs_layer_type_of(l)->reuse_bytes) return NULL;
    if (!begins_with(net, j, chain->held)) {
        chain->reuse.channels = 0;
        chain->held = -1;
    }
    chain->reuse.capacity = plan->chain[j];
    return &chain->reuse;
}

/* The residual of conv i's store: the other input of the Add it computes
 * (net_plan.h), `input` standing for layer 0, and the Add's weights. */
static hs_residual residual_of(const hs_net *net, const hs_store_plan *plan, int i,
                               const hs_tensor *input, const hs_tensor *acts)
{
    const hs_layer *add = &net->layers[plan->add[i]];
    int k = add->inputs[0] == i ? 0 : 1, other = add->inputs[1 - k];
    float a = k ? add->beta : add->alpha, b = k ? add->alpha : add->beta;
    return (hs_residual){other == 0 ? input : &acts[other], a, b};
}

/* Layer i's forward as the plan says. */
static hs_status forward_layer(hs_net *net, const hs_store_plan *plan, const hs_tensor *shapes,
                               const hs_tensor *input, int i, const hs_tensor *const *in,
                               hs_tensor *acts, chain_state *chain)
{
    const hs_layer *l = &net->layers[i];
    const hs_layer_type *type = hs_layer_type_of(l); /* known: hs_net_shapes checked */
    int batch = input->n;
    if (plan->by_conv[i] >= 0) return HS_OK; /* its conv computed it */
    profile_step(net->ctx, l, "forward");
    if (l->kind == HS_LAYER_CONCAT) return concat_in_place(net, plan, shapes, batch, i, in, acts);
    int target = hs_store_plan_target(plan, i); /* the output this layer computes */
    hs_conv_reuse *reuse = reuse_for(net, plan, i, chain);
    if (plan->home[target] < 0 && target == i && !reuse) {
        const hs_tensor *s = &shapes[i];
        HS_TRY(hs_tensor_alloc(net->ctx, &acts[i], batch, s->c, s->h, s->w));
        return type->forward(l, &acts[i], in);
    }
    hs_tensor *out;
    int channel0;
    HS_TRY(output_of(net, plan, shapes, batch, target, acts, &out, &channel0));
    hs_activation act;
    if (plan->act[i] >= 0) {
        const hs_layer *a = &net->layers[plan->act[i]];
        hs_layer_type_of(a)->activation(a, &act);
    }
    hs_residual res;
    if (plan->add[i] >= 0) res = residual_of(net, plan, i, input, acts);
    HS_TRY(type->forward_into(l, out, channel0, in, plan->add[i] >= 0 ? &res : NULL,
                              plan->act[i] >= 0 ? &act : NULL, reuse));
    if (reuse && reuse->channels == in[0]->c) chain->held = l->inputs[0];
    return HS_OK;
}

/* Outputs placed in a concat's buffer own nothing: forgotten, not freed. */
static void drop_output(const hs_store_plan *plan, int j, hs_tensor *acts)
{
    if (plan->home[j] >= 0) acts[j] = (hs_tensor){0};
    else hs_tensor_free(&acts[j]);
}

hs_status hs_net_forward(hs_net *net, const hs_tensor *input, int last, int keep,
                         const unsigned char *wanted, hs_tensor *acts)
{
    if (input->c != net->layers[0].channels)
        return hs_fail(HS_ERR_INTERNAL, "%s takes %d channels, not %d", net->arch,
                       net->layers[0].channels, input->c);
    int *reader = malloc(net->count * sizeof *reader);
    hs_tensor *shapes = calloc(net->count, sizeof *shapes);
    hs_store_plan plan = {0};
    chain_state chain = {.held = -1};
    hs_status st = reader && shapes ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_net_shapes(net, input->h, input->w, shapes);
    if (st == HS_OK) last_readers(net, last, reader);
    if (st == HS_OK) st = hs_store_plan_make(net, last, keep, input->n, wanted, &plan);
    if (st == HS_OK && !keep && input->n == 1) hs_store_plan_chains(net, shapes, last, &plan);
    for (int i = 1; st == HS_OK && i <= last; i++) {
        const hs_layer *l = &net->layers[i];
        const hs_tensor *in[HS_NET_MAX_INPUTS];
        inputs_of(l, input, acts, in);
        st = forward_layer(net, &plan, shapes, input, i, in, acts, &chain);
        if (st != HS_OK) st = hs_fail_context(st, "%s layer '%s'", net->arch, l->name);
        for (int j = 1; st == HS_OK && !keep && j < i; j++)
            if (reader[j] == i && j != last && !(wanted && wanted[j])) drop_output(&plan, j, acts);
    }
    hs_pool_give(net->ctx, chain.reuse.v, chain.reuse.bytes); /* not held past the forward */
    for (int j = 0; plan.home && j < net->count; j++)
        if (plan.home[j] >= 0) acts[j] = (hs_tensor){0}; /* views: their buffers are freed */
    hs_store_plan_free(&plan);
    free(reader);
    free(shapes);
    hs_profile_step(net->ctx, "other");
    return st;
}

void hs_net_release(const hs_net *net, hs_tensor *tensors)
{
    for (int i = 0; i < net->count; i++) hs_tensor_free(&tensors[i]);
}

/* ---- Backward ------------------------------------------------------------------ */

hs_status hs_net_weight_grads_alloc(const hs_net *net, hs_weight_grad **grads)
{
    *grads = calloc((size_t)net->count, sizeof **grads);
    if (!*grads) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = HS_OK;
    for (int i = 0; i < net->count && st == HS_OK; i++) {
        const hs_layer *l = &net->layers[i];
        hs_weight_grad *g = &(*grads)[i];
        if (l->weight.buf) st = hs_tensor_alloc_like(&g->weight, &l->weight);
        if (st == HS_OK && g->weight.buf) st = hs_tensor_fill(&g->weight, 0.0f);
        if (st == HS_OK && l->bias.buf) st = hs_tensor_alloc_like(&g->bias, &l->bias);
        if (st == HS_OK && g->bias.buf) st = hs_tensor_fill(&g->bias, 0.0f);
    }
    if (st != HS_OK) {
        hs_net_weight_grads_free(net, *grads);
        *grads = NULL;
    }
    return st;
}

void hs_net_weight_grads_free(const hs_net *net, hs_weight_grad *grads)
{
    if (!grads) return;
    for (int i = 0; i < net->count; i++) {
        hs_tensor_free(&grads[i].weight);
        hs_tensor_free(&grads[i].bias);
    }
    free(grads);
}

/* sum += dL/d(l's weights) (computed into temporaries, then added). */
static hs_status add_weight_grads(const hs_layer_type *type, const hs_layer *l,
                                  const hs_tensor *dout, const hs_tensor *const *in,
                                  hs_weight_grad *sum)
{
    hs_tensor dw = {0}, db = {0};
    hs_status st = HS_OK;
    if (sum->weight.buf) st = hs_tensor_alloc_like(&dw, &sum->weight);
    if (st == HS_OK && sum->bias.buf) st = hs_tensor_alloc_like(&db, &sum->bias);
    if (st == HS_OK)
        st = type->backward_weights(l, dw.buf ? &dw : NULL, db.buf ? &db : NULL, dout, in);
    if (st == HS_OK && dw.buf) st = hs_axpy(&sum->weight, 1.0f, &dw);
    if (st == HS_OK && db.buf) st = hs_axpy(&sum->bias, 1.0f, &db);
    hs_tensor_free(&dw);
    hs_tensor_free(&db);
    return st;
}

/* An Add's backward without its copies: input k's gradient is coef_k·dout,
 * added to the gradient the input has, and with coefficient 1 dout itself
 * becomes the gradient of an input that has none yet (ResNet's shortcuts:
 * one copy of dout instead of two scaled ones). dout is left empty when
 * moved. */
static hs_status pass_add_grads(const hs_layer *l, hs_tensor *dout, hs_tensor *grads,
                                int want_image)
{
    const float coef[2] = {l->alpha, l->beta};
    int taker = -1;
    for (int k = 0; k < 2; k++)
        if (coef[k] == 1.0f && (l->inputs[k] != 0 || want_image) && !grads[l->inputs[k]].buf)
            taker = k;
    hs_status st = HS_OK;
    for (int k = 0; k < 2 && st == HS_OK; k++) {
        hs_tensor *sum = &grads[l->inputs[k]];
        if (k == taker || (l->inputs[k] == 0 && !want_image)) continue;
        if (sum->buf) {
            st = hs_axpy(sum, coef[k], dout);
        } else {
            st = hs_tensor_alloc_like(sum, dout);
            if (st == HS_OK) st = hs_scale(sum, dout, coef[k]);
        }
    }
    /* an axpy when Add(x, x) gave the sum a gradient above */
    if (st == HS_OK && taker >= 0) st = hs_tensor_accumulate(&grads[l->inputs[taker]], dout);
    return st;
}

/* The activation whose backward l's (a conv's, a max pool's) can do as it
 * stores its input's gradient (layers.h, backward_into): l's input, when a
 * ReLU or a LeakyReLU of slope >= 0 (its output's sign is its input's) that
 * l reads first of all its readers (the last of them backward, so its
 * gradient is whole then), whose own input is not the image and has no
 * gradient yet. -1: none. */
static int gate_through(const hs_net *net, const hs_layer *l, int i, const int *first_reader,
                        const hs_tensor *grads, hs_activation *gate)
{
    int r = l->inputs[0];
    if (r <= 0 || first_reader[r] != i) return -1;
    const hs_layer *act = &net->layers[r];
    const hs_layer_type *type = hs_layer_type_of(act);
    if (!type || !type->activation || act->inputs[0] == 0 || grads[act->inputs[0]].buf)
        return -1;
    type->activation(act, gate);
    return gate->slope >= 0.0f ? r : -1;
}

/* l's input gradient by backward_into: into the gradient its input has
 * (added) or a new one, or passed through the activation l reads
 * (gate_through) into a new gradient of that activation's input, the
 * activation's own backward then skipped (its gradient moved on). */
static hs_status backward_into(const hs_net *net, const hs_layer_type *type, const hs_layer *l,
                               int i, const int *first_reader, hs_tensor *dout,
                               const hs_tensor *const *in, hs_tensor *grads)
{
    hs_activation gate;
    int through = gate_through(net, l, i, first_reader, grads, &gate);
    hs_tensor *part = &grads[l->inputs[0]];
    hs_tensor *sum = through >= 0 ? &grads[net->layers[through].inputs[0]] : part;
    int add = part->buf != NULL;
    if (add && sum != part) {
        *sum = *part;
        memset(part, 0, sizeof *part);
    }
    if (!add) HS_TRY(hs_tensor_alloc_like(sum, in[0]));
    return type->backward_into(l, sum, add, through >= 0 ? &gate : NULL, dout, in);
}

/* dL/d(inputs of l) from grads[i], added to the inputs' gradients; the
 * image's (layer 0) only when wanted. */
static hs_status add_input_grads(const hs_net *net, int i, const int *first_reader,
                                 hs_tensor *dout, const hs_tensor *const *in,
                                 hs_tensor *grads, int want_image)
{
    const hs_layer *l = &net->layers[i];
    const hs_layer_type *type = hs_layer_type_of(l);
    int wanted = 0;
    for (int k = 0; k < l->input_count; k++) wanted |= l->inputs[k] != 0 || want_image;
    if (!wanted) return HS_OK;
    if (l->kind == HS_LAYER_ADD) return pass_add_grads(l, dout, grads, want_image);
    if (type->backward_into)
        return backward_into(net, type, l, i, first_reader, dout, in, grads);
    if (!type->backward)
        return hs_fail(HS_ERR_INTERNAL, "%s layer '%s' has no backward pass", type->name, l->name);
    hs_tensor din[HS_NET_MAX_INPUTS] = {{0}};
    hs_tensor *ptrs[HS_NET_MAX_INPUTS];
    hs_status st = HS_OK;
    for (int k = 0; k < l->input_count && st == HS_OK; k++) {
        st = hs_tensor_alloc_like(&din[k], in[k]);
        ptrs[k] = &din[k];
    }
    if (st == HS_OK) st = type->backward(l, ptrs, dout, in);
    for (int k = 0; k < l->input_count; k++) {
        if (st == HS_OK && (l->inputs[k] != 0 || want_image))
            st = hs_tensor_accumulate(&grads[l->inputs[k]], &din[k]);
        hs_tensor_free(&din[k]);
    }
    return st;
}

/* first[j]: the lowest layer up to `last` reading layer j, -1 for none. */
static int *first_readers(const hs_net *net, int last)
{
    int *first = malloc((size_t)net->count * sizeof *first);
    if (!first) return NULL;
    for (int j = 0; j < net->count; j++) first[j] = -1;
    for (int j = 1; j <= last; j++)
        for (int k = 0; k < net->layers[j].input_count; k++)
            if (first[net->layers[j].inputs[k]] < 0) first[net->layers[j].inputs[k]] = j;
    return first;
}

hs_status hs_net_backward_weights(hs_net *net, const hs_tensor *input, hs_tensor *acts,
                                  hs_tensor *grads, int last, hs_tensor *dinput,
                                  hs_weight_grad *wgrads)
{
    int *first_reader = first_readers(net, last);
    if (!first_reader) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = HS_OK;
    for (int i = last; i >= 1 && st == HS_OK; i--) {
        if (!grads[i].buf) continue; /* nothing depends on it, or its reader passed it on */
        const hs_layer *l = &net->layers[i];
        const hs_layer_type *type = hs_layer_type_of(l);
        if (!type) {
            st = hs_fail_context(HS_ERR_INTERNAL, "%s", net->arch);
            break;
        }
        const hs_tensor *in[HS_NET_MAX_INPUTS];
        inputs_of(l, input, acts, in);
        /* An activation or Add its conv computed (net_plan.c) may have no
         * input: the activation's output tells where the input was positive,
         * all its backward asks; an Add's backward reads only dout, shaped
         * like each input. */
        if (type->activation && l->inputs[0] != 0 && !in[0]->buf) in[0] = &acts[i];
        for (int k = 0; l->kind == HS_LAYER_ADD && k < l->input_count; k++)
            if (l->inputs[k] != 0 && !in[k]->buf) in[k] = &grads[i];
        for (int k = 0; k < l->input_count && st == HS_OK; k++)
            if (!in[k]->buf)
                st = hs_fail(HS_ERR_INTERNAL, "backward of '%s' needs a freed activation",
                             l->name);
        if (st != HS_OK) break;
        profile_step(net->ctx, l, "backward-weights");
        if (wgrads && type->backward_weights)
            st = add_weight_grads(type, l, &grads[i], in, &wgrads[i]);
        profile_step(net->ctx, l, "backward-input");
        if (st == HS_OK)
            st = add_input_grads(net, i, first_reader, &grads[i], in, grads, dinput != NULL);
        if (st != HS_OK) st = hs_fail_context(st, "%s backward of '%s'", net->arch, l->name);
        hs_tensor_free(&grads[i]);
    }
    free(first_reader);
    hs_profile_step(net->ctx, "other");
    if (st != HS_OK || !dinput) {
        hs_tensor_free(&grads[0]);
        return st;
    }
    if (!grads[0].buf) return hs_tensor_fill(dinput, 0.0f); /* the losses do not depend on it */
    st = hs_tensor_copy(dinput, &grads[0]);
    hs_tensor_free(&grads[0]);
    return st;
}

hs_status hs_net_backward(hs_net *net, const hs_tensor *input, hs_tensor *acts,
                          hs_tensor *grads, int last, hs_tensor *dinput)
{
    return hs_net_backward_weights(net, input, acts, grads, last, dinput, NULL);
}
