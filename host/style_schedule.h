/* style_schedule.h — the scales of a coarse-to-fine painting and the
 * iterations at each (crowsonkb/style-transfer-pytorch; Gatys et al. 2017).
 *
 * The painting starts small, where a few hundred cheap iterations settle
 * the composition and the large strokes, and is enlarged step by step up to
 * the final size, each scale starting from the last one's result and
 * needing fewer iterations to add the finer strokes. */
#ifndef HS_STYLE_SCHEDULE_H
#define HS_STYLE_SCHEDULE_H

#include "hirestyle.h"

#define HS_SCHEDULE_MAX_SCALES 16
/* The fewest iterations a finer scale gets by default. */
#define HS_SCHEDULE_MIN_FINE 20

typedef struct hs_schedule {
    int count;
    int side[HS_SCHEDULE_MAX_SCALES];       /* longer side in pixels, ascending */
    int iterations[HS_SCHEDULE_MAX_SCALES];
} hs_schedule;

/* Scales size, size/step, size/step², … (rounded) down to the last that is
 * at least `start`; one scale when size <= start. Iterations: the list
 * iters[0..iters_count) gives scale k iters[min(k, count-1)] when it has
 * more than one entry; otherwise the first scale gets iters[0] and each
 * finer one `fine`, or, when fine is 0, a third of the scale before it but at
 * least HS_SCHEDULE_MIN_FINE (or as many as the scale before, if fewer). */
hs_status hs_schedule_make(int size, int start, double step, const int *iters, int iters_count,
                           int fine, hs_schedule *out);

/* The width and height of a scale for an image of w×h: its longer side
 * becomes `side`, the aspect ratio kept. */
void hs_schedule_fit(int w, int h, int side, int *out_w, int *out_h);

#endif
