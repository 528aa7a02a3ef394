/* upscale.h — super-resolution of an image of any size with a generator from
 * net_sr.c, tile by tile so that device memory stays bounded.
 *
 * Each tile is a square "core" of the input, run through the net together
 * with a margin of context on every side (clipped at the image border) and
 * cropped back to the core's output. The margin is the net's receptive field
 * (hs_upscale_margin), so the tiled result equals the untiled one up to float
 * rounding: a border tile sees exactly the zero padding the whole image sees
 * (beyond the reflected pre-padding, when there is some).
 * The CLI (cli_upscale.c), the benchmark (bench_upscale.c) and the tests
 * (tests/test_upscale.c) use this.
 */
#ifndef HS_UPSCALE_H
#define HS_UPSCALE_H

#include "image_io.h"
#include "net.h"

/* The smallest tile side tried when the device runs out of memory. */
#define HS_UPSCALE_MIN_TILE 16

/* Called after each tile: `done` of `total` tiles, each `tile` input pixels
 * wide. After an out-of-memory retry, done restarts from 1 with a new total.
 * Nonzero stops the upscaling with HS_ERR_INTERRUPTED (Ctrl-C). */
typedef int (*hs_upscale_progress)(void *arg, int done, int total, int tile);

/* The pre-padding the CLI uses: as realesrgan-ncnn-vulkan and Real-ESRGAN's
 * pre_pad, 10 pixels of reflection around the image. */
#define HS_UPSCALE_PRE_PAD 10

typedef struct hs_upscale_options {
    int tile;                     /* core side in input pixels; 0 = the largest that fits */
    hs_upscale_progress progress; /* NULL: none */
    void *progress_arg;
    /* Pixels of reflection (numpy 'reflect') added around the image before
     * the net and cut from its output, at most a side - 1: the nets' zero
     * padding then falls outside the picture instead of framing it. 0: none.
     * Not for a net that trims borders (net->border): as waifu2x- and
     * realcugan-ncnn-vulkan, the image is padded by exactly that border
     * (replicating the edge, or reflecting it when net->pad_reflect), plus
     * on the right and bottom up to a multiple of hs_upscale_alignment, and
     * its tiles are multiples of that alignment. */
    int pre_pad;
    /* Test-time augmentation (realesrgan-ncnn-vulkan's -x): the mean of the
     * outputs for the 8 flips and quarter turns of the image, each turned
     * back (upscale_tta.c). 8 times the work. */
    int tta;
    /* The same model loaded on other contexts (devices, or more queues on
     * one), peer_count of them, at most HS_UPSCALE_MAX_NETS - 1: their
     * threads take tiles beside the calling one. Tiles are independent, so
     * the result is the one net's, bit for bit when every context is on
     * the same device; the tile side from memory is the smallest any
     * device allows. NULL, 0: the net alone. */
    hs_net *const *peers;
    int peer_count;
} hs_upscale_options;

#define HS_UPSCALE_MAX_NETS 64

/* How many input pixels of context a tile needs on each side: the receptive
 * field of the layer list in input pixels, rounded up; a net that trims
 * borders needs just those. */
hs_status hs_upscale_margin(const hs_net *net, int *margin);

/* The largest tile side for a width×height input whose tile (core plus
 * margin) needs at most hs_upscale_tile_budget and no buffer over
 * hs_memory_largest_buffer (the device's largest allocation, 2^31-1 floats);
 * HS_UPSCALE_MIN_TILE when not even that fits the budget but may run, and
 * HS_ERR_TOO_LARGE when it cannot (past the memory left or that buffer). */
hs_status hs_upscale_pick_tile(const hs_net *net, int width, int height, int *tile);
/* Device memory a tile may take: half the device's global memory, and at
 * most nine tenths of what HIRESTYLE_MEMORY_LIMIT_MB leaves beside the
 * memory in use (the weights). */
size_t hs_upscale_tile_budget(const hs_context *ctx);
/* The planner's estimate for a tile of `tile` input pixels in a
 * width×height input: all its device memory and its largest buffer, in
 * bytes (SIZE_MAX when unknown). */
hs_status hs_upscale_tile_memory(const hs_net *net, int tile, int width, int height,
                                 size_t *total, size_t *largest);

/* Upscale an image of 1 to 4 channels by net->scale. Colour goes through the
 * net (grey as RGB, turned back into grey at the end); alpha is enlarged
 * with bicubic hs_image_resize, not by the net, which knows only RGB. When
 * the device runs out of memory the tile side is halved and the image
 * restarted, down to HS_UPSCALE_MIN_TILE. */
hs_status hs_upscale_image(hs_net *net, const hs_image *in, const hs_upscale_options *opts,
                           hs_image *out);

/* The colour of an RGB image with opts->tta: into `out`, allocated as
 * out->width = scale·width etc. with the image's depth (upscale_tta.c). */
hs_status hs_upscale_tta(hs_net *net, const hs_image *rgb, const hs_upscale_options *opts,
                         hs_image *out);

/* The raw output of the net for an RGB image, before rounding: planes
 * holds 3 × (scale·height) × (scale·width) floats (planar RGB, white =
 * net->output_range), tiled in the same way. For tests and comparisons. */
hs_status hs_upscale_floats(hs_net *net, const hs_image *rgb, const hs_upscale_options *opts,
                            float *planes);

/* ---- Nets that trim borders (upscale_means.c) ----
 * The multiple of input pixels a tile of the net must start on and span:
 * every layer's pixels per input pixel times it is whole. */
int hs_upscale_alignment(const hs_net *net);
/* For a net with GlobalMean layers (squeeze-excite blocks), cut into tiles
 * of `tile` pixels (a multiple of the alignment): compute every GlobalMean's
 * value for the whole of `padded` (the image with the net's border around it
 * and aligned), as an untiled run gives it, one pass over the tiles per
 * mean, and pin the layers to them: means[count] holds them (zeroed on
 * entry; hs_upscale_unpin_means frees them and unpins the layers). */
hs_status hs_upscale_pin_means(hs_net *net, const hs_image *padded, int tile, hs_tensor *means);
void hs_upscale_unpin_means(hs_net *net, hs_tensor *means);
/* The net's input tensor for the w×h region at (x, y) of rgb (upscale.c). */
hs_status hs_upscale_tile_input(const hs_net *net, const hs_image *rgb, int x, int y, int w,
                                int h, hs_tensor *input);

#endif
