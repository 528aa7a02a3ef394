/* train_init.c — generators to train from scratch: the tensors and metadata
 * of a weights file (the names and shapes weights/README.md gives for
 * srresnet and srvgg), filled with seeded random weights. The network is then
 * built from it by the architecture's own builder (net_sr.c), which checks
 * every tensor, so this list and the builder cannot drift apart unnoticed. */
#include "train_sr.h"
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct init_state {
    hs_weights *w;
    uint64_t rng;
    hs_status status;
} init_state;

/* A conv k×k from in to out channels: weights normal(0, gain * sqrt(2 / fan_in))
 * (He, fan in), bias 0. */
static void conv(init_state *s, const char *name, int out, int in, int k, float gain)
{
    if (s->status != HS_OK) return;
    size_t count = (size_t)out * in * k * k;
    float *data = malloc((count + (size_t)out) * sizeof *data);
    if (!data) {
        s->status = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
        return;
    }
    double sigma = gain * sqrt(2.0 / ((double)in * k * k));
    for (size_t i = 0; i < count; i++) data[i] = (float)(sigma * hs_rng_normal(&s->rng));
    memset(data + count, 0, (size_t)out * sizeof *data);
    char key[96];
    snprintf(key, sizeof key, "%s.weight", name);
    s->status = hs_weights_add(s->w, key, 4, (int64_t[]){out, in, k, k}, data);
    snprintf(key, sizeof key, "%s.bias", name);
    if (s->status == HS_OK) s->status = hs_weights_add(s->w, key, 1, (int64_t[]){out}, data + count);
    free(data);
}

/* PReLU slopes, 0.25 each (PyTorch's default). */
static void prelu(init_state *s, const char *name, int channels)
{
    if (s->status != HS_OK) return;
    float *data = malloc((size_t)channels * sizeof *data);
    if (!data) {
        s->status = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
        return;
    }
    for (int i = 0; i < channels; i++) data[i] = 0.25f;
    s->status = hs_weights_add(s->w, name, 1, (int64_t[]){channels}, data);
    free(data);
}

static void meta(init_state *s, const char *key, const char *value)
{
    if (s->status == HS_OK) s->status = hs_weights_set_meta(s->w, key, value);
}

static void meta_int(init_state *s, const char *key, int value)
{
    char text[16];
    snprintf(text, sizeof text, "%d", value);
    meta(s, key, text);
}

/* SRGAN's generator as net_sr.c builds it (no batch norm); with bicubic_skip
 * its output is added to the input enlarged bicubically, so training starts
 * from bicubic upscaling and learns what it misses. */
static void srresnet(init_state *s, int blocks, int f, int scale, int bicubic_skip)
{
    char name[64];
    meta(s, "pixel_shuffle", "torch");
    meta(s, "output_activation", bicubic_skip ? "none" : "tanh_half");
    meta(s, "global_skip", bicubic_skip ? "bicubic" : "none");
    meta_int(s, "num_blocks", blocks);
    conv(s, "head", f, 3, 9, 1.0f);
    prelu(s, "head.prelu", f);
    for (int i = 0; i < blocks; i++) {
        snprintf(name, sizeof name, "body.%d.conv1", i);
        conv(s, name, f, f, 3, 1.0f);
        snprintf(name, sizeof name, "body.%d.prelu", i);
        prelu(s, name, f);
        snprintf(name, sizeof name, "body.%d.conv2", i);
        conv(s, name, f, f, 3, 0.1f); /* residual branches start small (BasicSR) */
    }
    conv(s, "body_end", f, f, 3, 0.1f);
    for (int j = 0; (1 << j) < scale; j++) {
        snprintf(name, sizeof name, "up.%d", j);
        conv(s, name, 4 * f, f, 3, 1.0f);
        snprintf(name, sizeof name, "up.%d.prelu", j);
        prelu(s, name, f);
    }
    conv(s, "tail", 3, f, 9, 0.1f); /* near tanh's linear middle, or near bicubic */
}

/* Real-ESRGAN's SRVGGNetCompact (body.N names). */
static void srvgg(init_state *s, int convs, int f, int scale)
{
    char name[64];
    meta(s, "activation", "prelu");
    meta_int(s, "num_conv", convs);
    conv(s, "body.0", f, 3, 3, 1.0f);
    prelu(s, "body.1.weight", f);
    for (int k = 1; k <= convs; k++) {
        snprintf(name, sizeof name, "body.%d", 2 * k);
        conv(s, name, f, f, 3, 1.0f);
        snprintf(name, sizeof name, "body.%d.weight", 2 * k + 1);
        prelu(s, name, f);
    }
    snprintf(name, sizeof name, "body.%d", 2 * convs + 2);
    conv(s, name, 3 * scale * scale, f, 3, 0.1f); /* starts near nearest upsampling */
}

hs_status hs_sr_init_weights(const hs_sr_shape *shape, uint64_t seed, hs_weights *out)
{
    int is_srresnet = strcmp(shape->arch, "srresnet") == 0;
    if (!is_srresnet && strcmp(shape->arch, "srvgg") != 0)
        return hs_fail(HS_ERR_USAGE, "--arch must be srresnet or srvgg, not '%s'", shape->arch);
    if (is_srresnet && shape->scale != 2 && shape->scale != 4 && shape->scale != 8)
        return hs_fail(HS_ERR_USAGE, "srresnet takes --scale 2, 4 or 8, not %d", shape->scale);
    if (shape->scale < 1 || shape->scale > 8)
        return hs_fail(HS_ERR_USAGE, "--scale must be 1 to 8, not %d", shape->scale);
    memset(out, 0, sizeof *out);
    init_state s = {out, seed, HS_OK};
    char path[64];
    snprintf(path, sizeof path, "%s (from scratch)", shape->arch);
    out->path = strdup(path);
    if (!out->path) s.status = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    meta(&s, "format", "hirestyle");
    meta(&s, "architecture", shape->arch);
    meta(&s, "source", "hirestyle train-sr, from scratch");
    meta(&s, "input_range", "1");
    meta(&s, "output_range", "1");
    meta(&s, "channel_order", "rgb");
    meta(&s, "mean", "0,0,0");
    meta(&s, "std", "1,1,1");
    meta_int(&s, "scale", shape->scale);
    meta_int(&s, "num_feat", shape->features);
    if (is_srresnet) srresnet(&s, shape->blocks, shape->features, shape->scale, shape->bicubic_skip);
    else srvgg(&s, shape->blocks, shape->features, shape->scale);
    if (s.status != HS_OK) hs_weights_free(out);
    return s.status;
}

hs_status hs_disc_init_weights(int features, int stages, uint64_t seed, hs_weights *out)
{
    memset(out, 0, sizeof *out);
    init_state s = {out, seed, HS_OK};
    out->path = strdup("discriminator (from scratch)");
    if (!out->path) s.status = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    meta(&s, "format", "hirestyle");
    meta(&s, "architecture", "discriminator");
    meta(&s, "input_range", "1");
    meta(&s, "channel_order", "rgb");
    meta(&s, "mean", "0,0,0");
    meta(&s, "std", "1,1,1");
    meta(&s, "leaky_slope", "0.2");
    meta_int(&s, "num_feat", features);
    meta_int(&s, "num_stages", stages);
    int in = 3;
    for (int k = 0; k < stages; k++) {
        int channels = features << (k < 3 ? k : 3);
        char name[32];
        snprintf(name, sizeof name, "conv%d_0", k);
        conv(&s, name, channels, in, 3, 1.0f);
        snprintf(name, sizeof name, "conv%d_1", k);
        conv(&s, name, channels, channels, 4, 1.0f);
        in = channels;
    }
    conv(&s, "out", 1, in, 3, 1.0f);
    if (s.status != HS_OK) hs_weights_free(out);
    return s.status;
}
