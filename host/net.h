/* net.h — networks as a list of layers, run forward and backward on the device.
 *
 * A network is built once from a weights file by an architecture's builder
 * (net_vgg19.c, net_resnet50.c, net_sr*.c) and is a topologically ordered
 * list of layers; layer 0 is the input. Each layer names the earlier layers
 * it reads. Spatial sizes are worked out when the net runs, so one net serves
 * any image size.
 *
 * What each kind of layer does is a row of the layer table (layers.h); this
 * file only walks the list. Forward can keep every activation (for the
 * backward pass: w.r.t. the input for style transfer, w.r.t. the weights for
 * training) or free each one after its last reader (inference, for
 * super-resolution).
 */
#ifndef HS_NET_H
#define HS_NET_H

#include "hirestyle.h"
#include "layers.h"
#include "weights.h"

#include <stdio.h>

typedef struct hs_net {
    hs_context *ctx;
    char arch[32];
    hs_layer *layers;
    int count, capacity;
    hs_normalize norm;      /* RGB8 -> network input */
    float output_range;     /* SR: the output value of white (1 or 255) */
    int scale;              /* SR: output size / input size */
    int border;             /* SR: input pixels per side the net trims (unpadded convs):
                               the output is scale * (input - 2 * border) */
    int pad_reflect;        /* SR nets that trim: pad the image by reflection (Real-CUGAN),
                               not by repeating its edge (waifu2x) */
    int frozen;             /* its weights do not change (hs_net_freeze) */
} hs_net;

/* Load a weights file and build the network its metadata names. */
hs_status hs_net_load(hs_context *ctx, const char *path, hs_net *net);
/* The same from weights already in memory (a file loaded, or assembled by
 * weights_write.c: a network trained from scratch). */
hs_status hs_net_build(hs_context *ctx, const hs_weights *w, hs_net *net);
void hs_net_free(hs_net *net);
/* The net's weights will not change until it is freed (inference, a loss's
 * feature net; never a net being trained): its convs may then keep their
 * weights transformed from call to call (host/weight_cache.c). */
hs_status hs_net_freeze(hs_net *net);
/* A net as inference runs it: upsampling folded (hs_net_fold_upsampling),
 * then frozen. */
hs_status hs_net_for_inference(hs_net *net);
/* Index of the layer called `name`, or -1. */
int hs_net_find(const hs_net *net, const char *name);

/* The output shape of every layer for an input of h×w (shapes[count]). */
hs_status hs_net_shapes(const hs_net *net, int h, int w, hs_tensor *shapes);
/* Where a layer's outputs come from, along either axis, in input pixels:
 * output position q depends only on input pixels
 * [stride*q - before, stride*q + after], and zero padding at the image edge
 * reaches no further. What the block-wise style loss needs to cut an image
 * into blocks whose inner outputs equal the whole image's. */
typedef struct hs_footprint { int stride, before, after; } hs_footprint;
/* The footprint of every layer 0..last (out[last + 1]), from the layer
 * table's windows; refused for layers that change resolution upwards (pixel
 * shuffle, upsample). */
hs_status hs_net_footprints(const hs_net *net, int last, hs_footprint *out);

/* Device bytes to run layers 0..last on h×w: with keep, every activation and
 * one gradient per layer (training-style backward); without, the peak of
 * live activations as the forward stores them for one image (activations
 * fused, concats filled in place: net_plan.h). Includes conv scratch, the
 * Winograd transforms a dense block's convs keep and, for a frozen net,
 * what its layers may keep beside their weights. SIZE_MAX when the
 * shapes cannot be worked out (an image too small for the net) or host
 * memory runs out: such a job fits nowhere. */
size_t hs_net_memory(const hs_net *net, int h, int w, int last, int keep);

/* acts[count] receives the outputs (zeroed structs on entry; free with
 * hs_net_release). Runs layers 1..last. keep = 0 frees every activation after
 * its last reader, except `last` and the layers flagged in `wanted`
 * (NULL = none), and stores as net_plan.h says: an activation computed by its
 * conv, a concat's parts written into it, so that only `last` and the wanted
 * outputs are left, each in a buffer of its own. */
hs_status hs_net_forward(hs_net *net, const hs_tensor *input, int last, int keep,
                         const unsigned char *wanted, hs_tensor *acts);
/* Backward w.r.t. the input (as given to hs_net_forward, with keep):
 * grads[i] (optional, zeroed struct when none) holds dL/d(output of layer i)
 * for the layers losses read; consumed. The result dL/dinput goes to dinput
 * (allocated by the caller). */
hs_status hs_net_backward(hs_net *net, const hs_tensor *input, hs_tensor *acts,
                          hs_tensor *grads, int last, hs_tensor *dinput);

/* Gradients w.r.t. the weights, one per layer: shaped like layers[i].weight
 * and .bias, empty for layers without. */
typedef struct hs_weight_grad { hs_tensor weight, bias; } hs_weight_grad;
/* grads[count], allocated and zero-filled; free with hs_net_weight_grads_free. */
hs_status hs_net_weight_grads_alloc(const hs_net *net, hs_weight_grad **grads);
void hs_net_weight_grads_free(const hs_net *net, hs_weight_grad *grads);
/* hs_net_backward that also adds dL/d(weights), summed over the batch, to
 * wgrads (so calls over several batches accumulate; zero them to start
 * afresh). dinput may be NULL: the gradient w.r.t. the input is then not
 * computed. */
hs_status hs_net_backward_weights(hs_net *net, const hs_tensor *input, hs_tensor *acts,
                                  hs_tensor *grads, int last, hs_tensor *dinput,
                                  hs_weight_grad *wgrads);
void hs_net_release(const hs_net *net, hs_tensor *tensors);

/* ---- For inference only (net_fold.c) -----------------------------------------
 * Rewrite every conv on a nearest ×r upsample, Conv(Upsample_r(x)), as one
 * conv on x with r² times the output channels and a pixel shuffle ×r: the
 * same output without the r²-times larger upsampled map and its im2col.
 * Done where the upsample's one reader is a conv of stride 1, odd sides and
 * same padding; an activation reading the conv alone moves before the
 * shuffle, so that the conv applies it (net_plan.h). Layer indices stay:
 * the upsample's place holds the new conv and, when an activation moves,
 * the conv's place holds it; every other layer gives what it gave.
 * The rewritten layers no longer match the weights file: training
 * (train-sr, --adapt) and `hirestyle graph` use nets as built. */
hs_status hs_net_fold_upsampling(hs_net *net);

/* ---- Graph text (net_graph.c) ------------------------------------------------
 * A network as text, modelled on ncnn's .param:
 *     hirestyle-graph 1
 *     ARCH LAYER_COUNT input_scale=S mean=A,B,C std=A,B,C order=rgb|bgr [scale=N output_range=R]
 *     KIND NAME INPUT_COUNT 1 INPUTS... OUTPUT key=value...      (one line per layer)
 * KIND is a row's name in the layer table (Convolution, ReLU, ...), INPUTS
 * name earlier OUTPUTs, the key=value pairs are the row's parameters (its
 * parse and print columns) and a layer with weights finds them in the weights
 * file under its name or weights=NAME. Blank lines and # comments are skipped.
 * Print writes what parse reads back into the same net. */
hs_status hs_graph_print(const hs_net *net, FILE *out);
/* Build net from graph text (`path` names it in messages), its weights from
 * `weights` (NULL: a layer that has weights is refused). HS_ERR_WEIGHTS
 * naming path:line and the problem when the text is wrong. */
hs_status hs_graph_parse(hs_context *ctx, const char *path, const char *text,
                         const hs_weights *weights, hs_net *net);

/* ---- For the builders (net_*.c) --------------------------------------------
 * Each call appends one layer and returns its index; after the first failure
 * b->status holds it and every later call returns -1, so a builder reads as
 * a straight list of layers and checks the status once at the end. */
typedef struct hs_net_builder {
    hs_net *net;
    const hs_weights *weights;
    hs_status status;
} hs_net_builder;

/* Append a copy of `proto` (kind, name, inputs, channels and parameters set;
 * tensor = the weights' name, "" for the layer's name) and load its weights
 * as its row of the layer table says. What the other calls below wrap. */
int hs_build_layer(hs_net_builder *b, const hs_layer *proto);
/* Layer 0: the image, with this many channels. */
int hs_build_input(hs_net_builder *b, int channels);
/* Conv with weights "<name>.weight" (OC,IC,k,k) and "<name>.bias" (OC). */
int hs_build_conv(hs_net_builder *b, const char *name, int input, int out_channels, int k,
                  int stride, int pad);
/* The same with the weights under another name than the layer's. */
int hs_build_conv_named(hs_net_builder *b, const char *name, const char *tensor, int input,
                        int out_channels, int k, int stride, int pad);
int hs_build_relu(hs_net_builder *b, const char *name, int input);
int hs_build_leaky_relu(hs_net_builder *b, const char *name, int input, float slope);
int hs_build_prelu(hs_net_builder *b, const char *name, int input); /* slope from "<name>" */
int hs_build_maxpool(hs_net_builder *b, const char *name, int input, int k, int stride, int pad);
int hs_build_add(hs_net_builder *b, const char *name, int a, float alpha, int c, float beta);
int hs_build_concat(hs_net_builder *b, const char *name, const int *inputs, int count);
int hs_build_pixel_shuffle(hs_net_builder *b, const char *name, int input, int factor,
                           hs_shuffle_order order);
int hs_build_upsample(hs_net_builder *b, const char *name, int input, int factor);
int hs_build_tanh_half(hs_net_builder *b, const char *name, int input);

/* The architectures, each in its own file. */
hs_status hs_build_vgg19(hs_net_builder *b);
hs_status hs_build_resnet50(hs_net_builder *b);
hs_status hs_build_discriminator(hs_net_builder *b); /* GAN training's (net_disc.c) */

#endif
