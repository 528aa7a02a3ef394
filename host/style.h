/* style.h — Gatys et al.'s style transfer on the device.
 *
 * The image x, (1,3,H,W) RGB in [0,1], is optimised so that the features of
 * a network match those of the content image at the content layers and the
 * Gram matrices match a blend of the style images' Grams at the style layers:
 *
 *   L = content_weight * Σ content terms + style_weight * Σ w_l * style term_l
 *       + tv_weight * TV(x)
 *
 * Two ways of measuring a term (per backbone defaults, see style_defaults):
 *   HS_LOSS_MSE        the paper's and neural-style's: mean((F-F̂)²) and
 *                      mean((G-T)²) with G = F·Fᵀ/(C·h·w)
 *   HS_LOSS_NORMALIZED each term relative to its target: ‖F-F̂‖²/‖F̂‖² and
 *                      ‖G-T‖²/‖T‖² with G = F·Fᵀ/(h·w) — balanced across
 *                      layers whatever their scale (used for ResNet50)
 * TV(x) = Σ over channels of the squared differences of neighbouring pixels.
 */
#ifndef HS_STYLE_H
#define HS_STYLE_H

#include "hirestyle.h"
#include "net.h"

#define HS_STYLE_MAX_LAYERS 8
#define HS_STYLE_MAX_IMAGES 8

#define HS_STYLE_BLOCK_AUTO (-1)

typedef enum hs_loss_mode { HS_LOSS_MSE, HS_LOSS_NORMALIZED } hs_loss_mode;
typedef enum hs_optimizer { HS_OPT_ADAM, HS_OPT_LBFGS } hs_optimizer;

typedef struct hs_style_layers {
    char content[HS_STYLE_MAX_LAYERS][48];
    int content_count;
    char style[HS_STYLE_MAX_LAYERS][48];
    float style_weight[HS_STYLE_MAX_LAYERS];
    int style_count;
} hs_style_layers;

typedef struct hs_style_params {
    hs_style_layers layers;
    hs_loss_mode mode;
    float content_weight, style_weight, tv_weight;
    hs_optimizer optimizer;
    float learning_rate;      /* Adam */
    int lbfgs_history;
    int jitter;               /* translate x by -2..+1 px each Adam step */
    int block;                /* inner block side of the block-wise loss (style_blocks.c):
                                 HS_STYLE_BLOCK_AUTO = only when the whole image does not
                                 fit, 0 = never, N = blocks of N px (rounded to the stride) */
    unsigned seed;
} hs_style_params;

/* The defaults for a backbone ("vgg19" or "resnet50"). */
hs_status hs_style_defaults(const char *arch, hs_style_params *p);

typedef struct hs_style_losses { float content, style, tv, total; } hs_style_losses;

typedef struct hs_style hs_style;

/* Targets from the content image (1,3,H,W) and the style images (each any
 * size), blended with weights normalised to sum 1. The net stays owned by the
 * caller and must outlive the style. */
hs_status hs_style_create(hs_net *net, const hs_style_params *p, const hs_tensor *content,
                          const hs_tensor *const *styles, const float *blend, int style_count,
                          hs_style **out);
void hs_style_destroy(hs_style *s);

/* The style targets alone, T_l = Σ_k w_k Gram_l(style_k) and the scale of
 * each term: they depend on the style images and the params, not on the
 * content, so a batch of photos painted with the same styles at the same
 * scale computes them once. */
typedef struct hs_style_targets {
    hs_tensor gram[HS_STYLE_MAX_LAYERS]; /* (1,1,C,C) per style layer */
    float scale[HS_STYLE_MAX_LAYERS];
} hs_style_targets;
hs_status hs_style_targets_make(hs_net *net, const hs_style_params *p,
                                const hs_tensor *const *styles, const float *blend,
                                int style_count, hs_style_targets *out);
void hs_style_targets_free(hs_style_targets *t);
/* hs_style_create with targets made before: they are borrowed, and must
 * outlive the style (and come from the same net and layers). */
hs_status hs_style_create_with(hs_net *net, const hs_style_params *p, const hs_tensor *content,
                               const hs_style_targets *targets, hs_style **out);

/* L(x) and dL/dx (grad may be NULL), x translated by (dx, dy) first. */
hs_status hs_style_evaluate(hs_style *s, const hs_tensor *x, int dx, int dy,
                            hs_style_losses *losses, hs_tensor *grad);

/* Optimise x in place for `iterations` steps; `progress` (may be NULL) is
 * called after each step with the losses of that step and may return
 * nonzero to stop early (status HS_ERR_INTERRUPTED). */
typedef int (*hs_style_progress)(void *user, int iteration, const hs_style_losses *losses,
                                 const hs_tensor *x);
hs_status hs_style_optimize(hs_style *s, hs_tensor *x, int iterations, hs_style_progress progress,
                            void *user);

/* What Adam carries from one scale of a coarse-to-fine run to the next
 * (crowsonkb/style-transfer-pytorch): its moments and step count, and the
 * bias-corrected moving average of the iterates, which is the result. */
#define HS_STYLE_AVERAGE_DECAY 0.99
typedef struct hs_style_state {
    hs_tensor m, v;           /* Adam's moments, shaped like x */
    int step;                 /* Adam steps taken, for the bias correction */
    hs_tensor average;        /* Σ decay^(n-i) (1 - decay) x_i over this scale's iterates */
    double gathered;          /* 1 - decay^n: the weight the average holds */
} hs_style_state;

/* A fresh state for x: zero moments, step 0, an empty average. */
hs_status hs_style_state_init(hs_style_state *state, const hs_tensor *x);
/* Move the state to a new h×w scale: the moments resized (bicubic; v kept
 * non-negative), the step kept, the average emptied. */
hs_status hs_style_state_resize(hs_style_state *state, int h, int w);
/* x = the average (divided by the weight it holds), clamped to [0,1]. */
hs_status hs_style_state_result(const hs_style_state *state, hs_tensor *x);
void hs_style_state_free(hs_style_state *state);

/* Adam from a carried state, updating the average after every step
 * (L-BFGS: state is not used and may be NULL). */
hs_status hs_style_optimize_from(hs_style *s, hs_tensor *x, int iterations, hs_style_state *state,
                                 hs_style_progress progress, void *user);

/* Resize a (1,C,H,W) tensor to h×w through the host (resample.h filters). */
hs_status hs_tensor_resize(hs_tensor *out, const hs_tensor *in, int h, int w);

/* Where the time of evaluations and steps goes, for `hirestyle bench style`.
 * When set, every phase ends with a wait for the device, so the sum is a
 * little slower than an untimed run. */
typedef struct hs_style_timing { double forward, loss, backward, step; int steps; } hs_style_timing;
void hs_style_set_timing(hs_style *s, hs_style_timing *timing);

/* Device bytes a style transfer at h×w needs (network, targets, optimizer)
 * with blocks of `block` px (0: whole image), and the largest single buffer
 * in *largest (may be NULL). (size_t)-1 when the net cannot run at h×w. */
size_t hs_style_memory(const hs_net *net, const hs_style_params *p, int h, int w, int block,
                       size_t *largest);
/* The work of one iteration at h×w with blocks of `block` px, in pixels
 * through the network (a forward counts 1, a backward 2; blocks add their
 * halos and pass 1's forward): what times and ETAs scale with. */
double hs_style_work(const hs_net *net, const hs_style_params *p, int h, int w, int block);
/* Seconds per unit of that work for this net on this context's device, as
 * measured by an earlier run (style_rate.c); 0 when none is known. */
double hs_style_rate_load(const hs_net *net);
void hs_style_rate_store(const hs_net *net, double seconds_per_work);
/* The context each block needs on every side and the alignment of block
 * origins, in input pixels: from the loss layers' footprints. */
hs_status hs_style_halo(const hs_net *net, const hs_style_params *p, int *halo, int *stride);
/* The block side for an h×w image on this context's device: 0 when the
 * whole image fits in `budget` bytes and hs_memory_largest_buffer,
 * else the largest multiple of the stride that does; HS_ERR_TOO_LARGE when
 * not even the smallest block fits (the whole-image state alone is too big). */
hs_status hs_style_pick_block(const hs_net *net, const hs_style_params *p, int h, int w,
                              size_t budget, int *block);

#endif
