/* bench_style.c — `hirestyle bench style`: seconds per style-transfer
 * iteration and where they go (forward, loss terms, backward, Adam step),
 * the device buffers created per iteration, the peak device memory and the
 * process's peak resident memory, per feature network at a given image
 * size, with the loss evaluated on the whole image or in blocks of given
 * sides (what blocks cost).
 * The images are random: the time does not depend on what they show.
 * tools/bench_style_torch.py times the same iteration in PyTorch. */
#include "bench.h"
#include "engine.h"
#include "net.h"
#include "style.h"
#include "timer.h"

#include <stdio.h>
#include <stdlib.h>

static hs_status random_image(hs_context *ctx, int h, int w, unsigned seed, hs_tensor *t)
{
    size_t n = (size_t)3 * h * w;
    float *x = malloc(n * sizeof *x);
    if (!x) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 65535.0f;
    }
    hs_status st = hs_tensor_alloc(ctx, t, 1, 3, h, w);
    if (st == HS_OK) st = hs_tensor_write(t, x);
    free(x);
    return st;
}

static hs_status bench_network(hs_context *ctx, const char *weights, int size, int block,
                               int iterations)
{
    hs_net net;
    hs_profile_pause(ctx, 1);
    hs_memory_trim(ctx); /* the last network's buffers are not this one's */
    hs_scratch_release(ctx);
    hs_peak_rss_reset();
    HS_TRY(hs_net_load(ctx, weights, &net));
    hs_style_params p;
    hs_tensor content = {0}, style = {0}, x = {0};
    hs_style *s = NULL;
    hs_memory_reset_peak(ctx);
    int h = size * 3 / 4; /* a 4:3 photo */
    hs_status st = hs_net_freeze(&net);
    if (st == HS_OK) st = hs_style_defaults(net.arch, &p);
    p.block = block;
    if (st == HS_OK) st = random_image(ctx, h, size, 1, &content);
    if (st == HS_OK) st = random_image(ctx, size, size, 2, &style);
    if (st == HS_OK) st = random_image(ctx, h, size, 3, &x);
    const hs_tensor *styles[1] = {&style};
    if (st == HS_OK) st = hs_style_create(&net, &p, &content, styles, NULL, 1, &s);
    if (st == HS_OK) st = hs_style_optimize(s, &x, 2, NULL, NULL); /* warm up */
    hs_style_timing timing = {0};
    size_t created = ctx->buffers_created;
    double start = hs_seconds();
    if (st == HS_OK) {
        hs_style_set_timing(s, &timing);
        hs_profile_pause(ctx, 0);
        st = hs_style_optimize(s, &x, iterations, NULL, NULL);
        hs_profile_pause(ctx, 1);
    }
    double per = (hs_seconds() - start) / iterations;
    double buffers = (double)(ctx->buffers_created - created) / iterations;
    char blocks[16] = "whole";
    if (block == HS_STYLE_BLOCK_AUTO) snprintf(blocks, sizeof blocks, "auto");
    else if (block) snprintf(blocks, sizeof blocks, "%d px", block);
    /* the phases of an evaluation in blocks interleave: only its total is timed */
    char phases[40] = "       -        -        -";
    if (timing.forward > 0)
        snprintf(phases, sizeof phases, "%8.3f %8.3f %8.3f", timing.forward / iterations,
                 timing.backward / iterations, timing.loss / iterations);
    if (st == HS_OK)
        printf("%-9s %5dx%-5d %-8s %8.3f %s %8.3f %9.1f %9.0f %8.0f\n", net.arch, size, h,
               blocks, per, phases, timing.step / iterations, buffers,
               hs_memory_peak(ctx) / 1048576.0, hs_peak_rss_mib());
    fflush(stdout);
    hs_style_destroy(s);
    hs_tensor_free(&content);
    hs_tensor_free(&style);
    hs_tensor_free(&x);
    hs_net_free(&net);
    return st;
}

hs_status hs_bench_style(hs_context *ctx, const char *const *weights, int count, int size,
                         const int *blocks, int block_count, int iterations)
{
    printf("device: %s (%s)\n", ctx->dev.name, ctx->dev.platform_name);
    printf("%-9s %-11s %-8s %8s %8s %8s %8s %8s %9s %9s %8s\n", "network", "image", "blocks",
           "s/iter", "forward", "backward", "loss", "step", "buffers", "peak MiB", "RSS MiB");
    for (int i = 0; i < count; i++)
        for (int b = 0; b < block_count; b++)
            HS_TRY(bench_network(ctx, weights[i], size, blocks[b], iterations));
    return HS_OK;
}
