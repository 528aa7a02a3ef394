/* resample.h — resizing sampled signals on the host, one axis at a time:
 * area averaging when an axis shrinks, Catmull-Rom bicubic (a = -0.5, edges
 * clamped) when it grows. hs_image_resize (8- and 16-bit images) and the
 * coarse-to-fine style transfer (float planes: the image, Adam's moments)
 * share these filters. */
#ifndef HS_RESAMPLE_H
#define HS_RESAMPLE_H

#include "hirestyle.h"

/* How each output sample along one axis is made from the input samples:
 * output o = sum over k < taps of weight[o*taps + k] * input[index[o*taps + k]].
 * Unused taps have weight 0; the weights of an output sum to 1. */
typedef struct hs_axis_filter {
    int taps;
    int *index;
    float *weight;
} hs_axis_filter;

hs_status hs_axis_filter_build(hs_axis_filter *f, int in, int out);
void hs_axis_filter_free(hs_axis_filter *f);

/* `planes` float planes of h×w (contiguous) resized to oh×ow into out. */
hs_status hs_resize_planes(const float *in, int planes, int h, int w, float *out, int oh, int ow);

#endif
