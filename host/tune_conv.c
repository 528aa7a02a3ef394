/* tune_conv.c — `hirestyle tune`'s conv part: times im2col + GEMM and
 * Winograd F(2×2,3×3) and F(4×4,3×3) on the 3×3 stride-1 convs of the
 * networks hirestyle runs, and stores the fastest per shape for the device
 * (host/conv_algorithm.c reads it).
 *
 * Shapes: VGG19's and ResNet50's 3×3 convs for a 512-px painting (forward,
 * and the backward-input conv, channels swapped, where they differ), the
 * ESRGAN generators' (64 features, dense blocks growing by 32) and
 * SRVGGNetCompact's (64) on a 148-px tile (128 and the 10-px pre-padding).
 */
#include "bench.h"
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct tune_conv_shape { int ic, oc, size; } tune_conv_shape;

static const tune_conv_shape shapes[] = {
    /* VGG19 at 512 px: conv1_2 .. conv5 (conv1_1 has 3 input channels) */
    {64, 64, 512}, {64, 128, 256}, {128, 128, 256}, {128, 256, 128}, {256, 256, 128},
    {256, 512, 64}, {512, 512, 64}, {512, 512, 32},
    /* ResNet50 at 512 px: the bottlenecks' 3×3 convs */
    {64, 64, 128}, {128, 128, 64}, {256, 256, 32}, {512, 512, 16},
    /* ESRGAN's dense blocks and trunk, SRVGGNetCompact, on a 148-px tile */
    {64, 32, 148}, {96, 32, 148}, {128, 32, 148}, {160, 32, 148}, {192, 32, 148},
    {64, 64, 148},
};
#define SHAPE_COUNT (int)(sizeof shapes / sizeof shapes[0])

typedef struct conv_run { hs_tensor in, weight, out; } conv_run;

static hs_status run_conv(void *arg)
{
    conv_run *r = arg;
    return hs_conv2d_forward(&r->out, &r->in, &r->weight, NULL, (hs_conv_params){1, 1, 1});
}

/* Seconds of each algorithm on a conv from ic to oc channels, size², as
 * the median of 3 runs after one; INFINITY where it does not apply. */
static hs_status time_shape(hs_context *ctx, int ic, int oc, int size, double seconds[3])
{
    conv_run r = {0};
    hs_status st = hs_tensor_alloc(ctx, &r.in, 1, ic, size, size);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &r.weight, oc, ic, 3, 3);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &r.out, 1, oc, size, size);
    if (st == HS_OK) st = hs_tensor_fill(&r.in, 0.5f);
    if (st == HS_OK) st = hs_tensor_fill(&r.weight, 0.01f);
    int keep = ctx->conv_force;
    for (int a = HS_CONV_IM2COL; st == HS_OK && a <= HS_CONV_WINOGRAD4; a++) {
        seconds[a] = INFINITY;
        int m = hs_conv_algorithm_tile(a);
        if (m && !hs_winograd_fits(ctx, m, ic, oc, size, size, 1, 1)) continue;
        ctx->conv_force = a;
        st = hs_bench_median(ctx, run_conv, &r, 1, 3, &seconds[a]);
    }
    ctx->conv_force = keep;
    hs_tensor_free(&r.in);
    hs_tensor_free(&r.weight);
    hs_tensor_free(&r.out);
    return st;
}

static hs_status store(const hs_context *ctx, const char *text)
{
    char path[4096];
    hs_conv_algorithm_path(&ctx->dev, path, sizeof path);
    const char *slash = strrchr(path, '/');
    if (!path[0] || !slash)
        return hs_fail(HS_ERR_IO, "no cache directory: set XDG_CACHE_HOME or HOME");
    hs_make_parent_dirs(path);
    hs_cache_write(slash + 1, text, strlen(text));
    printf("conv algorithms stored in %s\n", path);
    return HS_OK;
}

hs_status hs_tune_conv(hs_context *ctx, int quiet)
{
    static char text[8192];
    size_t used = 0;
    int count = 0;
    if (!quiet)
        printf("%5s %5s %5s  %9s %9s %9s  %s\n", "in", "out", "size", "im2col ms", "F2x2 ms",
               "F4x4 ms", "fastest");
    for (int s = 0; s < SHAPE_COUNT; s++)
        for (int swap = 0; swap < 2; swap++) {
            int ic = swap ? shapes[s].oc : shapes[s].ic, oc = swap ? shapes[s].ic : shapes[s].oc;
            if (swap && ic == oc) continue;
            double t[3];
            HS_TRY(time_shape(ctx, ic, oc, shapes[s].size, t));
            int best = HS_CONV_IM2COL;
            for (int a = HS_CONV_WINOGRAD2; a <= HS_CONV_WINOGRAD4; a++)
                if (t[a] < t[best]) best = a;
            if (!quiet)
                printf("%5d %5d %5d  %9.2f %9.2f %9.2f  %s\n", ic, oc, shapes[s].size, t[0] * 1e3,
                       t[1] * 1e3, t[2] * 1e3, hs_conv_algorithm_name(best));
            fflush(stdout);
            used += (size_t)snprintf(text + used, sizeof text - used, "conv3x3 %d %d %d %d %s\n",
                                     ic, oc, shapes[s].size, shapes[s].size,
                                     hs_conv_algorithm_name(best));
            if (count < HS_CONV_CHOICES)
                ctx->conv_choices[count++] = (hs_conv_choice){ic, oc, shapes[s].size,
                                                              shapes[s].size, best};
        }
    ctx->conv_choice_count = count;
    return store(ctx, text);
}
