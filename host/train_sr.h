/* train_sr.h — training super-resolution generators on the device.
 *
 * A trainer holds a generator (net.h) built from a weights file or from
 * scratch, and what training adds to it for every weight tensor: its
 * gradient, Adam's two moments and an exponential moving average (EMA, what
 * a checkpoint saves as the model). One step: forward a batch keeping every
 * activation, L1 pixel loss against the high-resolution targets, backward
 * w.r.t. the weights, clip the gradients' global norm, Adam, EMA.
 *
 * Data (train_data.c): random crops of a folder of photographs, flipped and
 * rotated, and their bicubic downsampling. Metrics (train_metrics.c): PSNR
 * and SSIM on the Y channel. Everything random draws from one 64-bit state
 * that checkpoints carry, so a run resumed from a checkpoint continues as if
 * never stopped.
 *
 * A checkpoint is a safetensors file that `upscale` loads like any model:
 * the EMA weights under the model's own tensor names and its metadata, plus
 * training state under "train.param.NAME" (the weights Adam updates),
 * "train.adam_m.NAME" and "train.adam_v.NAME", and metadata "train.*"
 * (step, rng, losses, recipe).
 */
#ifndef HS_TRAIN_SR_H
#define HS_TRAIN_SR_H

#include "hirestyle.h"
#include "image_io.h"
#include "net.h"
#include "progress.h"
#include "weights.h"

#include <stdint.h>

/* ---- Random numbers (splitmix64) ---------------------------------------------- */
uint64_t hs_rng_next(uint64_t *state);
/* Uniform in 0..n-1 (n >= 1). */
int hs_rng_below(uint64_t *state, int n);
/* Uniform in [0, 1). */
double hs_rng_uniform(uint64_t *state);
/* Standard normal (Box-Muller). */
double hs_rng_normal(uint64_t *state);

/* ---- From scratch (train_init.c) -------------------------------------------------- */
typedef struct hs_sr_shape {
    const char *arch; /* "srresnet" or "srvgg" */
    int blocks;       /* srresnet: residual blocks; srvgg: convs in the body */
    int features;
    int scale;        /* srresnet 2, 4, 8; srvgg 1..8 */
    int bicubic_skip; /* srresnet: a linear output added to the input's bicubic
                         enlargement, instead of SRGAN's (tanh + 1) / 2 */
} hs_sr_shape;
/* A weights file in memory for `shape`, He-initialised from seed (the
 * second conv of each residual block scaled by 0.1, biases 0, PReLU slopes
 * 0.25), with the metadata the architecture's builder reads. */
hs_status hs_sr_init_weights(const hs_sr_shape *shape, uint64_t seed, hs_weights *out);
/* The same for GAN training's discriminator (net_disc.c). */
hs_status hs_disc_init_weights(int features, int stages, uint64_t seed, hs_weights *out);

/* ---- The trainer --------------------------------------------------------------- */
typedef struct hs_train_config {
    float beta1, beta2, eps;  /* Adam */
    float clip;               /* the gradients' largest global L2 norm; 0: no clipping */
    float ema_decay;          /* ema = d * ema + (1 - d) * weights after step t (from 0),
                               * d = min(ema_decay, (1 + t) / (10 + t)); 0: ema = weights */
} hs_train_config;

/* One weight tensor of the generator and its training state. */
typedef struct hs_train_param {
    char name[HS_LAYER_NAME_SIZE + 8]; /* in the weights file */
    int ndim;
    int64_t shape[4];         /* in the weights file */
    hs_tensor *value;         /* the layer's tensor in the net */
    hs_tensor *grad;          /* its gradient, in wgrads */
    hs_tensor m, v, ema;
} hs_train_param;

typedef struct hs_trainer {
    hs_context *ctx;
    hs_net net;
    hs_weights meta;          /* the source's metadata, no tensors: what checkpoints carry */
    hs_weight_grad *wgrads;
    hs_train_param *params;
    int param_count;
    hs_train_config config;
    int step;                 /* optimiser steps done */
    uint64_t rng;
    int ema_swapped;          /* the net holds the EMA weights (hs_trainer_swap_ema) */
    /* Losses beyond L1 (train_gan.c), NULL: none. Called in each step with
     * the net's output, the target and dout = dL1/d(output), to which it adds
     * its own gradient (and in which it may weight the L1 term). */
    hs_status (*extra_loss)(void *arg, const hs_tensor *out, const hs_tensor *target,
                            hs_tensor *dout);
    void *extra_arg;
} hs_trainer;

/* Build the net from w (any architecture: the discriminator of train_gan.c
 * too) and the training state: zero moments, EMA = the weights. With resume, w must be a checkpoint: weights, moments, step and
 * rng continue from it. seed sets rng when not resuming. */
hs_status hs_trainer_create(hs_context *ctx, const hs_weights *w, const hs_train_config *config,
                            int resume, uint64_t seed, hs_trainer *out);
void hs_trainer_free(hs_trainer *t);
/* Move the net (with its current weights) to *net and leave t without one;
 * free t afterwards as usual. */
void hs_trainer_take_net(hs_trainer *t, hs_net *net);
/* Device bytes one step of `batch` patches of h×w (low resolution) takes,
 * weights and training state included; SIZE_MAX when it cannot be worked out. */
size_t hs_trainer_memory(const hs_trainer *t, int batch, int h, int w);

/* One step at learning rate lr: input (N,3,h,w) in the net's input
 * normalisation, target (N,3,s*h,s*w) in [0,1]. *loss: the mean L1 distance
 * in [0,1] units before the step; *grad_norm: the global norm before clipping. */
hs_status hs_trainer_step(hs_trainer *t, const hs_tensor *input, const hs_tensor *target, float lr,
                          float *loss, float *grad_norm);
/* The parts of a step, for a net trained with other losses (the
 * discriminator): zero the weight gradients; after hs_net_backward_weights
 * has added to them (t->wgrads), clip, Adam and EMA, and count the step. */
hs_status hs_trainer_zero_grads(hs_trainer *t);
hs_status hs_trainer_apply(hs_trainer *t, float lr, float *grad_norm);
/* Exchange the net's weights and the EMA (call twice to undo): validation
 * and upscaling run on the EMA weights. */
void hs_trainer_swap_ema(hs_trainer *t);

/* Save a checkpoint atomically; meta_keys/values (count pairs) are added
 * to its metadata (train.step and train.rng are set here). */
hs_status hs_trainer_save(hs_trainer *t, const char *path, const char *const *meta_keys,
                          const char *const *meta_values, int count);

/* ---- Data (train_data.c) --------------------------------------------------------- */
typedef struct hs_train_images {
    hs_image *images;         /* RGB, 8-bit */
    char **paths;
    int count;
} hs_train_images;

/* Every image in dir (sorted by name, non-images refused with their name),
 * as RGB8; those whose longer side is over max_side (0: no limit) are
 * downscaled to it. Images smaller than min_side on either side are refused. */
hs_status hs_train_images_load(const char *dir, int max_side, int min_side, hs_train_images *out);
void hs_train_images_free(hs_train_images *set);

/* Degradations applied to the low-resolution input after the bicubic
 * downsampling (Real-ESRGAN's first-order model, simplified): Gaussian blur
 * of a random sigma in [0, blur] before downsampling, Gaussian noise of a
 * random sigma in [0, noise] (in 0..255 units), JPEG re-encoding at a random
 * quality in [jpeg_min, 100] when jpeg_min > 0. All 0: plain bicubic. */
typedef struct hs_degradation { float blur, noise; int jpeg_min; } hs_degradation;

/* A batch: `n` random patch×patch crops (high resolution) of random images,
 * each flipped and rotated by one of the 8 symmetries of the square, and
 * their bicubic downsampling by scale (degraded as `deg` says). input: host
 * (n,3,patch/scale,patch/scale) in norm; target: host (n,3,patch,patch) in [0,1]. */
hs_status hs_train_batch(const hs_train_images *set, int n, int patch, int scale,
                         const hs_degradation *deg, const hs_normalize *norm, uint64_t *rng,
                         float *input, float *target);

/* Pixels (RGB8 interleaved) to planar floats: the net's input normalisation,
 * or [0,1] when norm is NULL. */
void hs_rgb8_to_planes(const uint8_t *pixels, int w, int h, const hs_normalize *norm, float *out);

/* ---- Metrics (train_metrics.c) ------------------------------------------------------
 * On the Y channel (ITU-R BT.601, 16..235, as MATLAB's rgb2ycbcr and the SR
 * papers), `shave` pixels cut from every side. Both images RGB8, same size. */
double hs_psnr_y(const hs_image *a, const hs_image *b, int shave);
/* Gaussian window 11×11, sigma 1.5, K1 0.01, K2 0.03, L 255: the mean of the
 * SSIM map over the positions where the window fits (Wang et al. 2004). */
double hs_ssim_y(const hs_image *a, const hs_image *b, int shave);

/* ---- Running the net on an image ------------------------------------------------------ */
/* out = the net on `in` (RGB8, small enough for one tile), RGB8 scale× larger. */
hs_status hs_sr_run_image(hs_net *net, const hs_image *in, hs_image *out);

/* ---- The loop (train_loop.c) -------------------------------------------------------- */
#define HS_TRAIN_MAX_MILESTONES 16
typedef struct hs_train_recipe {
    int steps;                /* total optimiser steps (a resumed run counts from its step) */
    int batch, patch;         /* patches per step, their high-resolution side */
    float lr, gamma;          /* learning rate, times gamma at each milestone */
    int milestones[HS_TRAIN_MAX_MILESTONES], milestone_count;
    hs_degradation degradation;
    int save_every, val_every; /* in steps; 0: only at the end */
    int val_size;             /* side of the centre crops validated (high resolution) */
    const char *checkpoint;   /* where to save; NULL: never */
    const char *sample;       /* the first validation image's result; NULL: none */
    const char *recipe_text;  /* the command, saved in the metadata */
    FILE *log;                /* validation lines; NULL: quiet */
    int progress;             /* a progress line on stderr */
    int (*stop)(void);        /* polled after every step (Ctrl-C); NULL: never */
    const struct hs_gan *gan; /* its losses shown beside L1; NULL: none */
    const hs_progress *events; /* told every step and validation, and given the
                                  validation sample; NULL: none */
    int adapting;             /* the steps are --adapt's: their events' phase is "adapt" */
} hs_train_recipe;

/* Validation: the mean PSNR and SSIM (Y, shaved by the scale) of the net
 * (EMA weights) and of bicubic upscaling over the centre crops. */
typedef struct hs_train_scores { double psnr, ssim, bicubic_psnr, bicubic_ssim; int images; } hs_train_scores;

/* The learning rate at `step` (0-based). */
float hs_train_lr(const hs_train_recipe *r, int step);
/* The centre crop of each validation image, its side at most size, a
 * multiple of scale. sample: the net's result on the first (NULL: none). */
hs_status hs_train_validate(hs_trainer *t, const hs_train_images *val, int size,
                            hs_train_scores *scores, hs_image *sample);
/* What a run did: the mean loss of its last 100 steps, and the seconds per
 * step (batch, upload, step; validation and saving excluded) over the steps
 * after its first (which builds the kernels), when there were any. */
typedef struct hs_train_result { float loss; double step_seconds; int timed_steps; } hs_train_result;
/* Train until r->steps (or r->stop), saving and validating as r says; an
 * interrupted run saves its checkpoint and returns HS_ERR_INTERRUPTED.
 * val and result may be NULL. */
hs_status hs_train_run(hs_trainer *t, const hs_train_recipe *r, const hs_train_images *train,
                       const hs_train_images *val, hs_train_result *result);

/* ---- Perceptual and adversarial losses (train_gan.c) ------------------------------------ */
#define HS_GAN_MAX_LAYERS 8
typedef struct hs_gan_config {
    float pixel, perceptual, adversarial; /* the weights of the losses */
    const char *layers;       /* ResNet50 layers of the perceptual loss, comma-separated */
    int gan_start;            /* no adversarial loss before this step */
    float lr_d;               /* the discriminator's learning rate */
    int disc_features, disc_stages;
} hs_gan_config;

struct hs_gan {
    hs_gan_config config;
    hs_trainer *generator;
    hs_net features;          /* ResNet50, when perceptual > 0 */
    int has_features, layers[HS_GAN_MAX_LAYERS], layer_count, last_layer;
    hs_trainer disc;          /* when adversarial > 0 */
    int has_disc;
    float loss_perceptual, loss_g, loss_d; /* of the last step (0 when off) */
};
typedef struct hs_gan hs_gan;

/* Hook the losses of config into the generator's steps (its extra_loss);
 * the discriminator starts from seeded He weights. */
hs_status hs_gan_create(hs_context *ctx, const hs_gan_config *config, uint64_t seed,
                        hs_trainer *generator, hs_gan *gan);
void hs_gan_free(hs_gan *gan);
/* ESRGAN's relativistic average loss on the discriminator's logits of n real
 * and m fake regions: loss_d = (mean sp(-(r - mean f)) + mean sp(f - mean r)) / 2,
 * loss_g = (mean sp(r - mean f) + mean sp(-(f - mean r))) / 2, sp = softplus
 * (binary cross-entropy on logits), and their exact gradients w.r.t. r and f. */
void hs_ragan(const float *real, int n, const float *fake, int m, double *loss_d, double *loss_g,
              float *dd_real, float *dd_fake, float *dg_fake);

/* ---- Fitting the upscaler to one picture (train_adapt.c) ----------------------------- */
typedef struct hs_adapt_options {
    int steps, batch, patch;  /* patch: high-resolution side */
    float lr;
    uint64_t seed;
    int progress;             /* a progress line on stderr */
    int (*stop)(void);        /* polled after every step (Ctrl-C); NULL: never */
    const hs_progress *events; /* told every step (phase "adapt"); NULL: none */
} hs_adapt_options;
/* PSNR-Y of the held-out strip downsampled and restored, before and after. */
typedef struct hs_adapt_report {
    double psnr_before, psnr_after, bicubic_psnr, step_seconds;
    int steps;
} hs_adapt_report;
/* Load the model (a safetensors file), fine-tune it on crops of picture
 * (all but a strip of a fifth of its width along the right edge, held out
 * for the report) and hand the adapted net to *net (free with hs_net_free). */
hs_status hs_sr_adapt(hs_context *ctx, const char *model, const hs_image *picture,
                      const hs_adapt_options *o, hs_net *net, hs_adapt_report *report);

#endif
