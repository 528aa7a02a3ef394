/* style_internal.h — the state shared by style.c (the objective) and
 * style_optimize.c (Adam, L-BFGS). Not installed. */
#ifndef HS_STYLE_INTERNAL_H
#define HS_STYLE_INTERNAL_H

#include "engine.h"
#include "style.h"

struct hs_style {
    hs_net *net;
    hs_context *ctx;
    hs_style_params p;
    int last;                                   /* deepest layer a loss reads */
    int content_index[HS_STYLE_MAX_LAYERS], style_index[HS_STYLE_MAX_LAYERS];
    hs_tensor content_target[HS_STYLE_MAX_LAYERS]; /* F̂ */
    float content_scale[HS_STYLE_MAX_LAYERS];
    hs_style_targets own_targets;               /* made by hs_style_create */
    const hs_style_targets *targets;            /* &own_targets, or borrowed */
    unsigned char *wanted;                      /* layers the losses read */
    hs_tensor *acts, *grads;                    /* per layer, during an evaluation */
    hs_tensor scalar;                           /* (1,1,1,1) for loss values */
    hs_tensor terms;                            /* (1,1,1,HS_STYLE_SLOTS), see below */
    unsigned rng;                               /* jitter */
    /* Block-wise evaluation (style_blocks.c) */
    int block;                                  /* inner block side; 0: whole images */
    int halo, stride;                           /* context around a block; its alignment */
    hs_footprint *footprints;                   /* of layers 0..last */
    hs_style_timing *timing;                    /* NULL unless benchmarking */
};

/* The loss terms of an evaluation add up on the device in s->terms, read
 * back once at its end: a read waits for the queue, and one per term held
 * the host back five times an iteration. Slot of content term i, style
 * term i (unweighted), and the total variation. */
#define HS_STYLE_CONTENT_SLOT(i) (i)
#define HS_STYLE_STYLE_SLOT(i) (HS_STYLE_MAX_LAYERS + (i))
#define HS_STYLE_TV_SLOT (2 * HS_STYLE_MAX_LAYERS)
#define HS_STYLE_SLOTS (2 * HS_STYLE_MAX_LAYERS + 1)
/* terms[slot] += the value in s->scalar */
hs_status hs_style_gather(hs_style *s, int slot);

/* The Gram scale of a loss layer with the given (whole-image) shape. */
float hs_style_gram_scale(const hs_style *s, const hs_tensor *shape);

/* Pass 1 over the blocks of `image` ((1,3,H,W) in [0,1]; block 0: whole):
 * grams[style_count] (may be NULL) receive the Gram of every style layer,
 * features[content_count] (may be NULL) every content layer, whole. */
hs_status hs_style_statistics(hs_style *s, const hs_tensor *image, int block, hs_tensor *grams,
                              hs_tensor *features);
/* The loss terms of xs into s->terms and (dxs not NULL) its gradient, block
 * by block. */
hs_status hs_style_evaluate_blocks(hs_style *s, const hs_tensor *xs, hs_tensor *dxs);

/* With timing on: wait for the device and add the seconds since *since to
 * *phase, then restart *since. */
hs_status hs_style_lap(hs_style *s, double *phase, double *since);

#endif
