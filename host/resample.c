/* resample.c — see resample.h. */
#include "resample.h"

#include <math.h>
#include <stdlib.h>

void hs_axis_filter_free(hs_axis_filter *f)
{
    free(f->index);
    free(f->weight);
}

/* The Catmull-Rom kernel: Keys' cubic with a = -0.5. */
static double catmull_rom(double t)
{
    t = fabs(t);
    if (t < 1)
        return (1.5 * t - 2.5) * t * t + 1;
    if (t < 2)
        return ((-0.5 * t + 2.5) * t - 4) * t + 2;
    return 0;
}

/* Shrinking: output o covers input [o*in/out, (o+1)*in/out); each input
 * sample weighs as much as it overlaps that span. */
static void area_taps(int in, int out, int o, int taps, int *index, double *weight)
{
    double begin = (double)o * in / out, end = (double)(o + 1) * in / out;
    int first = (int)floor(begin);
    for (int k = 0; k < taps; k++) {
        int s = first + k;
        double overlap = fmin(end, s + 1) - fmax(begin, s);
        index[k] = s < in ? s : in - 1;
        weight[k] = overlap > 0 ? overlap : 0;
    }
}

/* Enlarging: the cubic through the 4 input samples around the output's
 * centre, mapped back to input coordinates; indices beyond the edge clamp. */
static void cubic_taps(int in, int out, int o, int *index, double *weight)
{
    double center = (o + 0.5) * in / out - 0.5;
    int first = (int)floor(center) - 1;
    for (int k = 0; k < 4; k++) {
        int s = first + k;
        index[k] = s < 0 ? 0 : s >= in ? in - 1 : s;
        weight[k] = catmull_rom(center - s);
    }
}

hs_status hs_axis_filter_build(hs_axis_filter *f, int in, int out)
{
    f->taps = out < in ? (int)ceil((double)in / out) + 1 : 4;
    size_t count = (size_t)out * (size_t)f->taps;
    f->index = malloc(count * sizeof *f->index);
    f->weight = malloc(count * sizeof *f->weight);
    double *weight = malloc(f->taps * sizeof *weight);
    if (!f->index || !f->weight || !weight) {
        free(weight);
        return hs_fail(HS_ERR_TOO_LARGE, "resize: out of host memory for the filter");
    }
    for (int o = 0; o < out; o++) {
        int *index = f->index + (size_t)o * f->taps;
        if (out < in)
            area_taps(in, out, o, f->taps, index, weight);
        else
            cubic_taps(in, out, o, index, weight);
        double sum = 0;
        for (int k = 0; k < f->taps; k++)
            sum += weight[k];
        for (int k = 0; k < f->taps; k++)
            f->weight[(size_t)o * f->taps + k] = (float)(weight[k] / sum);
    }
    free(weight);
    return HS_OK;
}

/* Rows first, then columns, as hs_image_resize does, in float. */
hs_status hs_resize_planes(const float *in, int planes, int h, int w, float *out, int oh, int ow)
{
    hs_axis_filter across = {0}, down = {0};
    float *rows = malloc((size_t)planes * h * ow * sizeof *rows);
    hs_status st = rows ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "resize: out of host memory");
    if (st == HS_OK) st = hs_axis_filter_build(&across, w, ow);
    if (st == HS_OK) st = hs_axis_filter_build(&down, h, oh);
    for (size_t r = 0; st == HS_OK && r < (size_t)planes * h; r++) /* rows to ow samples */
        for (int x = 0; x < ow; x++) {
            const int *index = across.index + (size_t)x * across.taps;
            const float *weight = across.weight + (size_t)x * across.taps;
            float sum = 0;
            for (int k = 0; k < across.taps; k++) sum += weight[k] * in[r * w + index[k]];
            rows[r * ow + x] = sum;
        }
    for (int p = 0; st == HS_OK && p < planes; p++) /* then columns to oh samples */
        for (int y = 0; y < oh; y++) {
            const int *index = down.index + (size_t)y * down.taps;
            const float *weight = down.weight + (size_t)y * down.taps;
            float *dst = out + ((size_t)p * oh + y) * ow;
            for (int x = 0; x < ow; x++) {
                float sum = 0;
                for (int k = 0; k < down.taps; k++)
                    sum += weight[k] * rows[((size_t)p * h + index[k]) * ow + x];
                dst[x] = sum;
            }
        }
    free(rows);
    hs_axis_filter_free(&across);
    hs_axis_filter_free(&down);
    return st;
}
