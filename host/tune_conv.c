/* tune_conv.c — `hirestyle tune`'s conv part: times im2col + GEMM, the
 * implicit GEMM, for 3×3 stride-1 convs Winograd F(2×2,3×3) and
 * F(4×4,3×3), and for stride-1 convs to at most 8 channels conv_few, on
 * the convs of the networks hirestyle runs, and stores the
 * fastest per shape for the device (host/conv_algorithm.c reads it).
 *
 * Shapes: VGG19's and ResNet50's 3×3 convs for a 512-px painting (forward,
 * and the backward-input conv, channels swapped, where they differ), the
 * ESRGAN generators' (64 features, dense blocks growing by 32, esrgan-slim's
 * 4) and SRVGGNetCompact's (64) on a 148-px tile (128 and the 10-px
 * pre-padding), the SR generators' tails (5×5, 3×3 to 48 channels and
 * esrgan-medium's folded RGB conv), SRResNet's 9×9 head and tail, ResNet50's 7×7
 * stride-2 conv1 and 1×1 stride-2 convs. 'Same' padding (k / 2) throughout.
 */
#include "bench.h"
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct tune_conv_shape { int k, stride, ic, oc, size; } tune_conv_shape;

static const tune_conv_shape shapes[] = {
    /* VGG19 at 512 px: conv1_2 .. conv5 (conv1_1 has 3 input channels) */
    {3, 1, 64, 64, 512}, {3, 1, 64, 128, 256}, {3, 1, 128, 128, 256}, {3, 1, 128, 256, 128},
    {3, 1, 256, 256, 128}, {3, 1, 256, 512, 64}, {3, 1, 512, 512, 64}, {3, 1, 512, 512, 32},
    /* ResNet50 at 512 px: the bottlenecks' 3×3 convs, conv1, the 1×1 stride-2 convs */
    {3, 1, 64, 64, 128}, {3, 1, 128, 128, 64}, {3, 1, 256, 256, 32}, {3, 1, 512, 512, 16},
    {7, 2, 3, 64, 512}, {1, 2, 256, 128, 128}, {1, 2, 512, 256, 64}, {1, 2, 1024, 512, 32},
    /* ESRGAN's dense blocks and trunk, SRVGGNetCompact, on a 148-px tile */
    {3, 1, 64, 32, 148}, {3, 1, 96, 32, 148}, {3, 1, 128, 32, 148}, {3, 1, 160, 32, 148},
    {3, 1, 192, 32, 148}, {3, 1, 64, 64, 148}, {3, 1, 64, 4, 148}, {3, 1, 3, 64, 148},
    /* the SR tails: x4 to 48 channels, 5×5, the RGB conv after the upsampling as
     * inference folds it (host/net_fold.c); SRResNet's 9×9 */
    {3, 1, 64, 48, 148}, {3, 1, 32, 48, 148}, {5, 1, 64, 64, 148}, {3, 1, 48, 48, 148},
    {9, 1, 3, 64, 148}, {9, 1, 64, 3, 592},
};
#define SHAPE_COUNT (int)(sizeof shapes / sizeof shapes[0])

typedef struct conv_run { hs_tensor in, weight, out; hs_conv_params p; } conv_run;

static hs_status run_conv(void *arg)
{
    conv_run *r = arg;
    return hs_conv2d_forward(&r->out, &r->in, &r->weight, NULL, r->p);
}

/* Seconds of each algorithm on a k×k conv from ic to oc channels of a
 * size² input, as the median of 3 runs after one; INFINITY where it does
 * not apply. */
static hs_status time_shape(hs_context *ctx, int k, int stride, int ic, int oc, int size,
                            double seconds[HS_CONV_ALGORITHMS])
{
    conv_run r = {.p = {stride, k / 2, k / 2}};
    int out = hs_conv_out_size(size, k, stride, k / 2);
    hs_status st = hs_tensor_alloc(ctx, &r.in, 1, ic, size, size);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &r.weight, oc, ic, k, k);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, &r.out, 1, oc, out, out);
    if (st == HS_OK) st = hs_tensor_fill(&r.in, 0.5f);
    if (st == HS_OK) st = hs_tensor_fill(&r.weight, 0.01f);
    int keep = ctx->conv_force;
    for (int a = HS_CONV_IM2COL; st == HS_OK && a < HS_CONV_ALGORITHMS; a++) {
        seconds[a] = INFINITY;
        ctx->conv_force = a;
        /* what it would run instead (im2col) is timed already */
        hs_conv_algorithm runs = hs_conv_algorithm_for(ctx, ic, oc, size, size, k, k, r.p);
        if (a != HS_CONV_IM2COL && (int)runs != a) continue;
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
        printf("%-8s %5s %5s %5s  %9s %9s %9s %9s %9s  %s\n", "kernel", "in", "out", "size",
               "im2col ms", "F2x2 ms", "F4x4 ms", "impl. ms", "few ms", "fastest");
    for (int s = 0; s < SHAPE_COUNT; s++)
        for (int swap = 0; swap < 2; swap++) {
            const tune_conv_shape *sh = &shapes[s];
            int ic = swap ? sh->oc : sh->ic, oc = swap ? sh->ic : sh->oc;
            if (swap && (ic == oc || sh->stride != 1)) continue;
            double t[HS_CONV_ALGORITHMS];
            HS_TRY(time_shape(ctx, sh->k, sh->stride, ic, oc, sh->size, t));
            int best = HS_CONV_IM2COL;
            for (int a = HS_CONV_IM2COL + 1; a < HS_CONV_ALGORITHMS; a++)
                if (t[a] < t[best]) best = a;
            int out = hs_conv_out_size(sh->size, sh->k, sh->stride, sh->k / 2);
            hs_conv_choice c = {sh->k, sh->k, sh->stride, ic, oc, out, out, best};
            char line[128], kernel[16];
            hs_conv_algorithm_format(&c, line, sizeof line);
            snprintf(kernel, sizeof kernel, "%dx%d/%d", sh->k, sh->k, sh->stride);
            if (!quiet)
                printf("%-8s %5d %5d %5d  %9.2f %9.2f %9.2f %9.2f %9.2f  %s\n", kernel, ic, oc,
                       sh->size, t[0] * 1e3, t[1] * 1e3, t[2] * 1e3, t[3] * 1e3, t[4] * 1e3,
                       hs_conv_algorithm_name(best));
            fflush(stdout);
            used += (size_t)snprintf(text + used, sizeof text - used, "%s\n", line);
            if (count < HS_CONV_CHOICES) ctx->conv_choices[count++] = c;
        }
    ctx->conv_choice_count = count;
    return store(ctx, text);
}
