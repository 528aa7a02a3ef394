/* upscale_tta.c — test-time augmentation (realesrgan-ncnn-vulkan's -x): the
 * image is upscaled in each of its 8 orientations (the flips and quarter
 * turns of a square), each output is turned back, and the 8 are averaged
 * before rounding. A net that is not quite symmetric loses some of its
 * directional artefacts, at 8 times the work. */
#include "upscale.h"
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ORIENTATIONS 8

/* Orientation t of an image: the pixel (x, y) of the oriented image, whose
 * size is w × h, comes from (*sx, *sy) of the original. Bit 0 of t mirrors
 * x, bit 1 mirrors y, bit 2 swaps the axes; the 8 values are the 8
 * symmetries of the square. */
static void source_of(int t, int w, int h, int x, int y, int *sx, int *sy)
{
    int u = t & 1 ? w - 1 - x : x, v = t & 2 ? h - 1 - y : y;
    *sx = t & 4 ? v : u;
    *sy = t & 4 ? u : v;
}

/* `in` in orientation t (any channels and depth). */
static hs_status orient(const hs_image *in, int t, hs_image *out)
{
    int w = t & 4 ? in->height : in->width, h = t & 4 ? in->width : in->height;
    HS_TRY(hs_image_alloc(out, w, h, in->channels, hs_image_bits(in)));
    size_t pixel = (size_t)in->channels * (hs_image_bits(in) / 8);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx, sy;
            source_of(t, w, h, x, y, &sx, &sy);
            memcpy(out->pixels + ((size_t)y * w + x) * pixel,
                   in->pixels + ((size_t)sy * in->width + sx) * pixel, pixel);
        }
    return HS_OK;
}

/* Progress over the 8 passes as one job: pass p's tiles count after those
 * of the passes before it (`finished`), and the passes to come are taken
 * to have as many tiles as this one (a turned image has as many square
 * tiles, unless running out of memory changed the tile side). */
typedef struct pass_progress {
    const hs_upscale_options *opts;
    int pass;
    int finished; /* tiles of the passes before */
    int total;    /* of this pass, as last reported */
} pass_progress;

static int report_pass(void *arg, int done, int total, int tile)
{
    pass_progress *p = arg;
    p->total = total;
    return p->opts->progress(p->opts->progress_arg, p->finished + done,
                             p->finished + (ORIENTATIONS - p->pass) * total, tile);
}

/* sum += planes (the net's output for orientation t, w × h), turned back. */
static void add_turned_back(float *sum, const float *planes, int t, int w, int h)
{
    size_t plane = (size_t)w * h;
    int out_w = t & 4 ? h : w; /* the original orientation's width */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx, sy;
            source_of(t, w, h, x, y, &sx, &sy);
            for (int c = 0; c < 3; c++)
                sum[c * plane + (size_t)sy * out_w + sx] += planes[c * plane + (size_t)y * w + x];
        }
}

/* The mean of the planes into out's pixels, rounded as the tiles' are. */
static void store_mean(const float *sum, float range, hs_image *out)
{
    size_t plane = (size_t)out->width * out->height;
    uint16_t *samples16 = hs_image_bits(out) == 16 ? hs_image_samples16(out) : NULL;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            float mean = sum[c * plane + i] / ORIENTATIONS;
            if (samples16) {
                float v = mean * (65535.0f / range);
                samples16[i * 3 + c] = v <= 0 ? 0 : v >= 65535 ? 65535 : (uint16_t)(v + 0.5f);
            } else {
                float v = roundf(mean / (range / 255.0f));
                out->pixels[i * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
            }
        }
}

hs_status hs_upscale_tta(hs_net *net, const hs_image *rgb, const hs_upscale_options *opts,
                         hs_image *out)
{
    int s = net->scale;
    size_t count = (size_t)3 * rgb->width * s * rgb->height * s;
    float *sum = calloc(count, sizeof *sum), *planes = malloc(count * sizeof *planes);
    hs_status st = sum && planes ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "upscale -x: out of host "
                                                   "memory for %zu output samples", count);
    pass_progress progress = {opts, 0, 0, 0};
    hs_upscale_options pass = *opts;
    pass.tta = 0;
    if (opts->progress) pass.progress = report_pass, pass.progress_arg = &progress;
    for (int t = 0; st == HS_OK && t < ORIENTATIONS; t++) {
        hs_image oriented = {0};
        progress.pass = t;
        st = orient(rgb, t, &oriented);
        if (st == HS_OK) st = hs_upscale_floats(net, &oriented, &pass, planes);
        if (st == HS_OK) add_turned_back(sum, planes, t, oriented.width * s, oriented.height * s);
        hs_image_free(&oriented);
        progress.finished += progress.total;
    }
    if (st == HS_OK) store_mean(sum, net->output_range, out);
    free(sum);
    free(planes);
    return st;
}
