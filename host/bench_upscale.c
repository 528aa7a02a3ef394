/* bench_upscale.c — `hirestyle bench upscale`: output megapixels per second,
 * device buffers created per run, peak device memory and the process's peak
 * resident memory of the esrgan-{thick,medium,slim}-x4 generators
 * (upscale.c with the tile it picks) on a size×size image of random pixels.
 * The peak counts everything on the device: weights, conv scratch, tiles.
 * Each model gets one warm-up run on a 64×64 image (kernel builds), then
 * the median of --repeat timed runs. tools/bench_upscale_torch.py times
 * nets.py on the same weights and size; tools/bench.sh prints the ratio.
 */
#include "bench.h"
#include "engine.h"
#include "timer.h"
#include "upscale.h"

#include <stdio.h>
#include <stdlib.h>

#define WARM_UP_SIZE 64

static const char *const models[] = {
    "esrgan-thick-x4", "esrgan-medium-x4", "esrgan-slim-x4",
};

static hs_image random_rgb(int size)
{
    hs_image img = {.width = size, .height = size, .channels = 3,
                    .pixels = malloc((size_t)size * size * 3)};
    unsigned state = 12345u;
    for (size_t i = 0; img.pixels && i < (size_t)size * size * 3; i++) {
        state = state * 1103515245u + 12345u;
        img.pixels[i] = (uint8_t)(state >> 16);
    }
    return img;
}

typedef struct upscale_run { hs_net *net; const hs_image *img; } upscale_run;

static hs_status upscale_once(void *arg)
{
    const upscale_run *u = arg;
    hs_upscale_options opts = {0};
    hs_image out = {0};
    hs_status st = hs_upscale_image(u->net, u->img, &opts, &out);
    hs_image_free(&out);
    return st;
}

static hs_status warm_up(hs_net *net)
{
    hs_image small = random_rgb(WARM_UP_SIZE), out = {0};
    if (!small.pixels) return hs_fail(HS_ERR_TOO_LARGE, "bench upscale: out of host memory");
    hs_upscale_options opts = {0};
    hs_status st = hs_upscale_image(net, &small, &opts, &out);
    hs_image_free(&out);
    hs_image_free(&small);
    return st;
}

static size_t weight_bytes(const hs_net *net)
{
    size_t count = 0;
    for (int i = 0; i < net->count; i++)
        count += hs_tensor_count(&net->layers[i].weight) + hs_tensor_count(&net->layers[i].bias);
    return count * sizeof(float);
}

static hs_status bench_model(hs_context *ctx, const char *model, const hs_image *img, int repeat)
{
    char file[128], path[4096];
    snprintf(file, sizeof file, "%s.safetensors", model);
    HS_TRY(hs_find_weights(file, path, sizeof path));
    hs_net net;
    hs_memory_trim(ctx); /* the last network's buffers are not this one's */
    hs_scratch_release(ctx);
    hs_peak_rss_reset();
    HS_TRY(hs_net_load(ctx, path, &net));
    int tile = 0;
    double seconds = 0, buffers = 0;
    hs_status st = hs_net_for_inference(&net);
    if (st == HS_OK) st = warm_up(&net);
    if (st == HS_OK) st = hs_upscale_pick_tile(&net, img->width, img->height, &tile);
    if (st == HS_OK) {
        hs_memory_reset_peak(ctx);
        size_t created = ctx->buffers_created;
        hs_profile_pause(ctx, 0);
        st = hs_bench_median(ctx, upscale_once, &(upscale_run){&net, img}, 0, repeat, &seconds);
        hs_profile_pause(ctx, 1);
        buffers = (double)(ctx->buffers_created - created) / repeat;
    }
    if (st == HS_OK) {
        double megapixels = (double)img->width * img->height * net.scale * net.scale * 1e-6;
        printf("%-17s %5d %5d %9.2f %8.3f %8.0f %9.1f %9.1f %8.0f\n", model, img->width, tile,
               seconds, megapixels / seconds, buffers, hs_memory_peak(ctx) / 1048576.0,
               weight_bytes(&net) / 1048576.0, hs_peak_rss_mib());
        fflush(stdout);
    }
    hs_net_free(&net);
    return st;
}

hs_status hs_bench_upscale(hs_context *ctx, int size, int repeat)
{
    hs_image img = random_rgb(size);
    if (!img.pixels) return hs_fail(HS_ERR_TOO_LARGE, "bench upscale: out of host memory");
    printf("device: %s (%s)\n", ctx->dev.name, ctx->dev.platform_name);
    printf("%-17s %5s %5s %9s %8s %8s %9s %9s %8s\n", "model", "size", "tile", "seconds", "MP/s",
           "buffers", "peak MiB", "weights", "RSS MiB");
    hs_status st = HS_OK;
    for (size_t i = 0; st == HS_OK && i < sizeof models / sizeof models[0]; i++)
        st = bench_model(ctx, models[i], &img, repeat);
    hs_image_free(&img);
    return st;
}
