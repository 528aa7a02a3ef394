/* layers.h — the layer table: one row per kind of layer, holding everything
 * the engine knows about that kind.
 *
 * A row says how a kind is named in a graph description, how many inputs it
 * reads, the shape of its output, how its output pixels reach into its input
 * (for block and tile margins), its forward pass, its backward pass w.r.t.
 * the inputs and w.r.t. its weights, the scratch it needs, how its weights
 * are loaded and how it is parsed from and printed to a graph line. net.c
 * (forward, backward, memory), upscale.c (tile margin), the op tests and
 * `bench ops` all loop over this table, so a new kind is one row here plus
 * its kernels, its C reference and its test case; a kind without a row is
 * refused with an error naming it (hs_layer_type_of), never assumed.
 *
 * Buffers follow the ops' convention (hirestyle.h): outputs first, then
 * inputs, then parameters; `in` holds the layer's inputs in order.
 */
#ifndef HS_LAYERS_H
#define HS_LAYERS_H

#include "hirestyle.h"
#include "weights.h"

#include <stdio.h>

struct hs_activation; /* engine.h */
struct hs_conv_reuse; /* engine.h */
struct hs_residual;

#define HS_NET_MAX_INPUTS 8
#define HS_LAYER_NAME_SIZE 48

typedef enum hs_layer_kind {
    HS_LAYER_INPUT,
    HS_LAYER_CONV,          /* weight, bias; conv params */
    HS_LAYER_RELU,
    HS_LAYER_LEAKY_RELU,    /* alpha = slope */
    HS_LAYER_PRELU,         /* weight = slope (1,C,1,1) */
    HS_LAYER_MAXPOOL,       /* pool params */
    HS_LAYER_ADD,           /* alpha * in0 + beta * in1 */
    HS_LAYER_CONCAT,        /* channels of all inputs, in order */
    HS_LAYER_PIXEL_SHUFFLE, /* factor, order */
    HS_LAYER_UPSAMPLE,      /* nearest, factor */
    HS_LAYER_TANH_HALF,     /* (tanh(x) + 1) / 2 */
    HS_LAYER_INTERP,        /* resize by interp.up / interp.down (ncnn Interp) */
    HS_LAYER_DECONV,        /* transposed conv: weight (IC, OC, k, k), bias; conv params */
    HS_LAYER_GLOBAL_MEAN,   /* (N, C, 1, 1): the mean of every channel (or l->pinned) */
    HS_LAYER_CHANNEL_SCALE, /* in0 (N, C, H, W) times in1 (N, C, 1, 1), channel by channel */
    HS_LAYER_CHANNEL_GATE,  /* the same times sigmoid(in1): a squeeze-excite block's end */
    HS_LAYER_SIGMOID,       /* 1 / (1 + exp(-x)) */
    HS_LAYER_CROP,          /* a window of in0: crop params; with in1, in1's size */
    HS_LAYER_KIND_COUNT
} hs_layer_kind;

/* Interp: out = in * up / down on both axes (rounded down), resized by mode. */
typedef struct hs_interp_params { hs_interp_mode mode; int up, down; } hs_interp_params;

/* Crop: rows from `top`, columns from `left`; the window ends `bottom` rows
 * and `right` columns before the input's edge, or, when the layer has a
 * second input, is as large as that input (ncnn Crop with a reference blob). */
typedef struct hs_crop_params { int top, left, bottom, right; } hs_crop_params;

typedef struct hs_layer {
    hs_layer_kind kind;
    char name[HS_LAYER_NAME_SIZE];
    char tensor[HS_LAYER_NAME_SIZE]; /* its weights' name in the weights file ("" = none) */
    int inputs[HS_NET_MAX_INPUTS];
    int input_count;
    int channels;           /* of the output */
    hs_tensor weight, bias;
    int kernel_h, kernel_w;  /* conv */
    hs_conv_params conv;
    hs_pool_params pool;
    float alpha, beta;
    int factor;
    hs_shuffle_order order;
    hs_interp_params interp;
    hs_crop_params crop;
    /* GlobalMean: when set, forward gives this (N, C, 1, 1) tensor instead of
     * the input's own means: the whole image's, which the tiles of an image
     * share (upscale.c). Not owned by the layer. */
    const hs_tensor *pinned;
} hs_layer;

/* How output pixels read input pixels, the same along both axes: output
 * position q reads input positions p*stride - before .. p*stride + after,
 * p = floor(q / up); zero padding at the edge reaches no further. A conv:
 * up 1, its stride, before = pad, after = k - 1 - pad; nearest upsampling
 * and pixel shuffle ×r: up r; elementwise kinds: {1, 1, 0, 0}; a global
 * mean reads everything: before = after = HS_WINDOW_WHOLE. */
#define HS_WINDOW_WHOLE (1 << 20)
typedef struct hs_layer_window { int up, stride, before, after; } hs_layer_window;

/* The key=value pairs of one graph line (see hs_graph_print in net.h). */
#define HS_GRAPH_MAX_ARGS 16
typedef struct hs_graph_args {
    const char *keys[HS_GRAPH_MAX_ARGS], *values[HS_GRAPH_MAX_ARGS];
    int count;
    const char *where; /* "file:line" for messages */
} hs_graph_args;
/* The value of key as an int/float (def when absent); HS_ERR_WEIGHTS naming
 * the line when it does not parse or lies outside min..max. */
hs_status hs_graph_int(const hs_graph_args *a, const char *key, int def, int min, int max,
                       int *out);
hs_status hs_graph_float(const hs_graph_args *a, const char *key, float def, float *out);
/* The text of key, or NULL. */
const char *hs_graph_text(const hs_graph_args *a, const char *key);

typedef struct hs_layer_type {
    hs_layer_kind kind;
    const char *name;       /* in graph descriptions: "Convolution", "ReLU", ... */
    int min_inputs, max_inputs;
    int mixed_sizes;        /* inputs after the first may differ from it in height and
                               width (a vector, a size reference); shape checks them */
    /* out's shape (n, c, h, w; no buffer) from the inputs' shapes. */
    hs_status (*shape)(const hs_layer *l, const hs_tensor *const *in, hs_tensor *out);
    hs_layer_window (*window)(const hs_layer *l);
    /* out (allocated with the shape above) from in. */
    hs_status (*forward)(const hs_layer *l, hs_tensor *out, const hs_tensor *const *in);
    /* out's channels channel0 .. channel0 + l->channels - 1, out being larger
     * (a concat's output, its other channels left alone), with the residual
     * res (an Add reading it) and then the activation act (either NULL:
     * none) applied as they are stored; reuse (NULL: none) the transforms of
     * a dense chain's input to extend (engine.h's hs_conv_reuse). NULL: the
     * kind always writes an output of its own (net_plan.h). */
    hs_status (*forward_into)(const hs_layer *l, hs_tensor *out, int channel0,
                              const hs_tensor *const *in, const struct hs_residual *res,
                              const struct hs_activation *act, struct hs_conv_reuse *reuse);
    /* Device bytes of the reuse buffer forward_into takes for an input of
     * this shape whose chain reaches `capacity` channels; NULL: the kind
     * reuses nothing. */
    size_t (*reuse_bytes)(const hs_context *ctx, const hs_layer *l, const hs_tensor *in,
                          int capacity);
    /* Set *act to what the layer computes when it is an activation that a
     * producer's forward_into can apply as it stores; NULL: it is not. */
    void (*activation)(const hs_layer *l, struct hs_activation *act);
    /* din[k] (allocated like in[k]) = dL/d(in[k]) from dout = dL/dout,
     * overwritten. NULL: the kind has no backward pass. */
    hs_status (*backward)(const hs_layer *l, hs_tensor *const *din, const hs_tensor *dout,
                          const hs_tensor *const *in);
    /* dL/d(in[0]) into sum for a kind of one input that can finish it as it
     * stores (conv, max pool: hs_conv2d_backward_input,
     * hs_maxpool_backward_input): added to what sum holds
     * when `add` (another reader's part of it), then with gate (NULL: none)
     * passed back through the activation whose output in[0] is: the
     * gradient of that activation's input. NULL: backward into a temporary,
     * added after. */
    hs_status (*backward_into)(const hs_layer *l, hs_tensor *sum, int add,
                               const struct hs_activation *gate, const hs_tensor *dout,
                               const hs_tensor *const *in);
    /* dweight, dbias (shaped like l->weight, l->bias; either may be NULL)
     * = dL/d(weights) summed over the batch, overwritten. NULL: no weights. */
    hs_status (*backward_weights)(const hs_layer *l, hs_tensor *dweight, hs_tensor *dbias,
                                  const hs_tensor *dout, const hs_tensor *const *in);
    /* Device scratch bytes the forward or backward takes for an output of
     * this shape (capped by the context's scratch limit). NULL: none. */
    size_t (*scratch_bytes)(const hs_context *ctx, const hs_layer *l, const hs_tensor *out);
    /* Device bytes the layer may keep beside its weights once they are
     * frozen (hs_net_freeze): a conv's Winograd-transformed weights, also
     * the backward-input's with `backward`. NULL: none. */
    size_t (*kept_bytes)(const hs_context *ctx, const hs_layer *l, int backward);
    /* Upload l's weights from w (names from l->tensor, shapes checked), for
     * inputs of in_channels channels. NULL: no weights. */
    hs_status (*load_weights)(hs_context *ctx, const hs_weights *w, const char *arch, hs_layer *l,
                              int in_channels);
    /* Set l's parameters and output channels from a graph line's key=value
     * pairs; l->input_count is set and in_channels[k] holds input k's. */
    hs_status (*parse)(hs_layer *l, const hs_graph_args *args, const int *in_channels);
    /* Write l's parameters as " key=value" pairs, as parse reads them. */
    void (*print)(const hs_layer *l, FILE *out);
} hs_layer_type;

/* The row of kind, or NULL (with an error naming the layer) when the table
 * has none: every caller refuses such a layer. */
const hs_layer_type *hs_layer_type_of(const hs_layer *l);
/* The row called `name` in graph descriptions, or NULL. */
const hs_layer_type *hs_layer_type_named(const char *name);
/* Row i of the table, i in 0..HS_LAYER_KIND_COUNT-1 (NULL for a kind without
 * a row): how the tests and `bench ops` visit every kind. */
const hs_layer_type *hs_layer_type_at(int i);

#endif
