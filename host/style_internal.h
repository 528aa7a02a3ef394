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
    hs_tensor style_target[HS_STYLE_MAX_LAYERS];   /* T = Σ w_k G_k, (1,1,C,C) */
    float content_scale[HS_STYLE_MAX_LAYERS], style_scale[HS_STYLE_MAX_LAYERS];
    unsigned char *wanted;                      /* layers the losses read */
    hs_tensor *acts, *grads;                    /* per layer, during an evaluation */
    hs_tensor scalar;                           /* (1,1,1,1) for loss values */
    unsigned rng;                               /* jitter */
    hs_style_timing *timing;                    /* NULL unless benchmarking */
};

/* With timing on: wait for the device and add the seconds since *since to
 * *phase, then restart *since. */
hs_status hs_style_lap(hs_style *s, double *phase, double *since);

#endif
