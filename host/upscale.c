/* upscale.c — tiled super-resolution (upscale.h): the receptive-field margin
 * from the layer table, the tile side from the device's memory, the loop over
 * tiles with its out-of-memory retry, and the channel handling around the
 * RGB-only nets (grey through the net as RGB; alpha enlarged bicubically).
 * 16-bit images go in and come out at 16 bits: their tiles are normalised
 * on the host instead of by the 8-bit image kernel.
 */
#include "upscale.h"
#include "engine.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rect { int x, y, w, h; } rect;

static int max_int(int a, int b) { return a > b ? a : b; }
static int min_int(int a, int b) { return a < b ? a : b; }

/* ---- Margin ------------------------------------------------------------------ */

/* How far (in its own pixels) zero padding at a tile edge reaches into the
 * output of layer l, given the reach into each earlier layer: the layer
 * table's window of l widens it, enlarging layers multiply it, strides
 * divide it. grid[i] is layer i's pixels per input pixel: a layer with a
 * stride is tiled exactly only where that stride divides its input's grid
 * (every tile then starts on its stride), e.g. a resize to 3/4 after ×4. */
static hs_status layer_reach(const hs_layer *l, const int *reach, const int *grid, int *out,
                             int *out_grid)
{
    const hs_layer_type *type = hs_layer_type_of(l);
    if (!type) return hs_fail_context(HS_ERR_INTERNAL, "upscale");
    hs_layer_window win = type->window(l);
    int g = grid[l->inputs[0]];
    if (g % win.stride != 0)
        return hs_fail(HS_ERR_INTERNAL, "upscale: %s layer '%s' has stride %d on a grid of %d "
                       "pixels per input pixel; it cannot be tiled", type->name, l->name,
                       win.stride, g);
    int r = 0;
    for (int k = 0; k < l->input_count; k++) r = max_int(r, reach[l->inputs[k]]);
    *out = (r + max_int(win.before, win.after) + win.stride - 1) / win.stride * win.up;
    *out_grid = g / win.stride * win.up;
    return HS_OK;
}

hs_status hs_upscale_margin(const hs_net *net, int *margin)
{
    if (net->scale < 1)
        return hs_fail(HS_ERR_USAGE, "upscale: %s is not a super-resolution network", net->arch);
    if (net->border > 0) { /* unpadded layers: the output lines up with the input's border */
        *margin = net->border;
        return HS_OK;
    }
    int *reach = calloc((size_t)net->count, sizeof *reach);
    int *grid = calloc((size_t)net->count, sizeof *grid);
    hs_status st = reach && grid ? HS_OK
                                 : hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory");
    if (st == HS_OK) grid[0] = 1;
    for (int i = 1; i < net->count && st == HS_OK; i++)
        st = layer_reach(&net->layers[i], reach, grid, &reach[i], &grid[i]);
    /* the last layer is at the output resolution: scale output pixels per input pixel */
    if (st == HS_OK) *margin = (reach[net->count - 1] + net->scale - 1) / net->scale;
    free(reach);
    free(grid);
    return st;
}

/* ---- Tile side ----------------------------------------------------------------- */

/* Device bytes to run one w×h region: activations and conv scratch, the
 * input tensor and the 8-bit output buffer. */
static size_t region_bytes(const hs_net *net, int w, int h)
{
    size_t pixels = (size_t)w * h, scale2 = (size_t)net->scale * net->scale;
    size_t activations = hs_net_memory(net, h, w, net->count - 1, 0);
    if (activations == SIZE_MAX) return SIZE_MAX;
    return activations + pixels * 3 * sizeof(float) + pixels * scale2 * 3;
}

/* The largest activation of a w×h region, in bytes (SIZE_MAX if unknown). */
static size_t largest_buffer(const hs_net *net, int w, int h)
{
    hs_tensor *shapes = calloc((size_t)net->count, sizeof *shapes);
    size_t most = SIZE_MAX;
    if (shapes && hs_net_shapes(net, h, w, shapes) == HS_OK) {
        most = 0;
        for (int i = 0; i < net->count; i++) {
            size_t bytes = hs_tensor_count(&shapes[i]) * sizeof(float);
            if (bytes > most) most = bytes;
        }
    }
    free(shapes);
    return most;
}

static int align_up(int side, int align) { return (side + align - 1) / align * align; }

/* The input side a tile of `tile` pixels runs at in an image `side` pixels
 * across: with its margin, clipped to the image; for a net that trims
 * borders, the tile aligned and its borders around it. */
static int region_side(const hs_net *net, int tile, int margin, int side)
{
    if (net->border > 0)
        return align_up(min_int(tile, side), hs_upscale_alignment(net)) + 2 * net->border;
    return min_int(side, tile + 2 * margin);
}

/* Bytes for one tile of `tile` input pixels: all of it, and its largest buffer. */
static void tile_memory(const hs_net *net, int tile, int margin, int width, int height,
                        size_t *total, size_t *largest)
{
    int w = region_side(net, tile, margin, width), h = region_side(net, tile, margin, height);
    *total = region_bytes(net, w, h);
    *largest = largest_buffer(net, w, h);
}

size_t hs_upscale_tile_budget(const hs_context *ctx)
{
    size_t half = hs_context_device(ctx)->global_mem / 2;
    size_t available = hs_memory_available(ctx), in_use = hs_memory_in_use(ctx);
    size_t left = available > in_use ? (available - in_use) / 10 * 9 : 0;
    return left < half ? left : half;
}

static int tile_fits(const hs_net *net, int tile, int margin, int width, int height)
{
    size_t total, largest;
    tile_memory(net, tile, margin, width, height, &total, &largest);
    return total <= hs_upscale_tile_budget(net->ctx) &&
           largest <= hs_memory_largest_buffer(net->ctx);
}

/* The smallest tile passes the budget: refused (HS_ERR_TOO_LARGE) when it
 * cannot run at all, past the memory left or the largest buffer, rather
 * than failing after minutes of tiles; else it is tried. */
static hs_status smallest_tile_possible(const hs_net *net, int margin, int width, int height)
{
    size_t total, largest;
    tile_memory(net, HS_UPSCALE_MIN_TILE, margin, width, height, &total, &largest);
    size_t available = hs_memory_available(net->ctx), in_use = hs_memory_in_use(net->ctx);
    size_t left = available > in_use ? available - in_use : 0;
    size_t cap = hs_memory_largest_buffer(net->ctx);
    if (largest > cap)
        return hs_fail(HS_ERR_TOO_LARGE, "upscale: even tiles of %d px need a buffer of %.0f MiB "
                       "(the net sees %d px around each tile), the device's largest is %.0f MiB: "
                       "use a smaller model", HS_UPSCALE_MIN_TILE, largest / 1048576.0, margin,
                       cap / 1048576.0);
    if (total > left)
        return hs_fail(HS_ERR_TOO_LARGE, "upscale: even tiles of %d px need %.0f MiB of device "
                       "memory (the net sees %d px around each tile), %.0f MiB are left: %s",
                       HS_UPSCALE_MIN_TILE, total / 1048576.0, margin, left / 1048576.0,
                       net->ctx->mem_limit ? "raise HIRESTYLE_MEMORY_LIMIT_MB or use a smaller model"
                                           : "use a smaller model");
    return HS_OK;
}

hs_status hs_upscale_tile_memory(const hs_net *net, int tile, int width, int height,
                                 size_t *total, size_t *largest)
{
    int margin;
    HS_TRY(hs_upscale_margin(net, &margin));
    tile_memory(net, tile, margin, width, height, total, largest);
    return HS_OK;
}

hs_status hs_upscale_pick_tile(const hs_net *net, int width, int height, int *tile)
{
    int margin;
    HS_TRY(hs_upscale_margin(net, &margin));
    int whole = max_int(width, height);
    if (whole <= HS_UPSCALE_MIN_TILE || tile_fits(net, whole, margin, width, height)) {
        *tile = whole;
        return HS_OK;
    }
    /* fits(low) or low is the minimum; never fits(high): bisect */
    int low = HS_UPSCALE_MIN_TILE, high = whole;
    if (!tile_fits(net, low, margin, width, height)) {
        HS_TRY(smallest_tile_possible(net, margin, width, height));
        high = low + 1;
    }
    while (high - low > 1) {
        int middle = low + (high - low) / 2;
        if (tile_fits(net, middle, margin, width, height)) low = middle;
        else high = middle;
    }
    *tile = low;
    return HS_OK;
}

/* ---- One tile ------------------------------------------------------------------- */

/* Where the output goes: RGB8 pixels, RGB16 samples or planar floats, width×height. */
typedef struct output_sink {
    uint8_t *pixels;
    uint16_t *samples16;
    float *planes;
    int width, height;
} output_sink;

/* Copy `part` of a tile's output (its pixels) to (x, y) of the sink, as bytes. */
static hs_status store_bytes(const hs_net *net, const hs_tensor *out, rect part, int x, int y,
                             output_sink *sink)
{
    hs_normalize to_8bit = {net->output_range / 255.0f, {0, 0, 0}, {1, 1, 1}, 0};
    uint8_t *bytes = malloc(hs_tensor_count(out));
    if (!bytes) return hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory for a tile");
    hs_status st = hs_tensor_to_image(bytes, out, &to_8bit);
    for (int row = 0; st == HS_OK && row < part.h; row++)
        memcpy(sink->pixels + ((size_t)(y + row) * sink->width + x) * 3,
               bytes + ((size_t)(part.y + row) * out->w + part.x) * 3, (size_t)part.w * 3);
    free(bytes);
    return st;
}

/* The same as 16-bit samples: white (net->output_range) is 65535. */
static hs_status store_samples16(const hs_net *net, const hs_tensor *out, rect part, int x,
                                 int y, output_sink *sink)
{
    float *floats = malloc(hs_tensor_count(out) * sizeof *floats);
    if (!floats) return hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory for a tile");
    hs_status st = hs_tensor_read(out, floats);
    size_t plane = (size_t)out->w * out->h;
    float to_16bit = 65535.0f / net->output_range;
    for (int row = 0; st == HS_OK && row < part.h; row++)
        for (int column = 0; column < part.w; column++)
            for (int c = 0; c < 3; c++) {
                float v = floats[c * plane + (size_t)(part.y + row) * out->w + part.x + column];
                v *= to_16bit;
                sink->samples16[((size_t)(y + row) * sink->width + x + column) * 3 + c] =
                    v <= 0 ? 0 : v >= 65535 ? 65535 : (uint16_t)(v + 0.5f);
            }
    free(floats);
    return st;
}

/* The same as floats, plane by plane. */
static hs_status store_floats(const hs_tensor *out, rect part, int x, int y, output_sink *sink)
{
    float *floats = malloc(hs_tensor_count(out) * sizeof *floats);
    if (!floats) return hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory for a tile");
    hs_status st = hs_tensor_read(out, floats);
    size_t plane = (size_t)out->w * out->h, sink_plane = (size_t)sink->width * sink->height;
    for (int c = 0; st == HS_OK && c < 3; c++)
        for (int row = 0; row < part.h; row++)
            memcpy(sink->planes + c * sink_plane + (size_t)(y + row) * sink->width + x,
                   floats + c * plane + (size_t)(part.y + row) * out->w + part.x,
                   (size_t)part.w * sizeof *floats);
    free(floats);
    return st;
}

/* Store the output of `core` from the output of `region` (both in input
 * pixels) at core's place relative to `origin`, the sink's top left. */
static hs_status store_core(const hs_net *net, const hs_tensor *out, rect region, rect core,
                            rect origin, output_sink *sink)
{
    int s = net->scale, b = net->border; /* the output starts b input pixels in */
    if (out->c != 3 || out->h != (region.h - 2 * b) * s || out->w != (region.w - 2 * b) * s)
        return hs_fail(HS_ERR_INTERNAL, "upscale: %s gave a %dx%dx%d output for a %dx%d tile",
                       net->arch, out->c, out->w, out->h, region.w, region.h);
    rect part = {(core.x - region.x - b) * s, (core.y - region.y - b) * s, core.w * s, core.h * s};
    int x = (core.x - origin.x) * s, y = (core.y - origin.y) * s;
    if (sink->pixels) return store_bytes(net, out, part, x, y, sink);
    if (sink->samples16) return store_samples16(net, out, part, x, y, sink);
    return store_floats(out, part, x, y, sink);
}

/* input = the 16-bit RGB crop normalised as net->norm does 8-bit pixels,
 * a 16-bit sample v counting as v / 257 of an 8-bit one. */
static hs_status upload_samples16(const hs_net *net, const hs_image *crop, hs_tensor *input)
{
    const hs_normalize *norm = &net->norm;
    size_t plane = (size_t)crop->width * crop->height;
    float *floats = malloc(plane * 3 * sizeof *floats);
    if (!floats) return hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory for a tile");
    const uint16_t *samples = hs_image_samples16(crop);
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++) {
            float v = samples[i * 3 + (norm->bgr ? 2 - c : c)] / 257.0f;
            floats[c * plane + i] = (v * norm->scale - norm->mean[c]) / norm->std[c];
        }
    hs_status st = hs_tensor_write(input, floats);
    free(floats);
    return st;
}

hs_status hs_upscale_tile_input(const hs_net *net, const hs_image *rgb, int x, int y, int w,
                                int h, hs_tensor *input)
{
    hs_image crop = {0};
    hs_status st = hs_image_crop(rgb, x, y, w, h, &crop);
    if (st == HS_OK) st = hs_tensor_alloc(net->ctx, input, 1, 3, h, w);
    if (st == HS_OK && hs_image_bits(rgb) == 16) st = upload_samples16(net, &crop, input);
    else if (st == HS_OK) st = hs_image_to_tensor(input, crop.pixels, w, h, &net->norm);
    if (st != HS_OK) hs_tensor_free(input);
    hs_image_free(&crop);
    return st;
}

/* Run the net on `region` of rgb and store the output of `core`. */
static hs_status run_tile(hs_net *net, const hs_image *rgb, rect region, rect core, rect origin,
                          output_sink *sink)
{
    hs_tensor input = {0};
    hs_tensor *acts = calloc((size_t)net->count, sizeof *acts);
    hs_status st = acts ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory");
    if (st == HS_OK)
        st = hs_upscale_tile_input(net, rgb, region.x, region.y, region.w, region.h, &input);
    if (st == HS_OK) st = hs_net_forward(net, &input, net->count - 1, 0, NULL, acts);
    hs_tensor_free(&input);
    if (st == HS_OK) st = store_core(net, &acts[net->count - 1], region, core, origin, sink);
    if (acts) hs_net_release(net, acts);
    free(acts);
    return st;
}

/* ---- The tile loop ----------------------------------------------------------------- */

/* core grown by margin on every side, clipped to the width×height image;
 * for a net that trims borders, its border around the aligned core. */
static rect around(const hs_net *net, rect core, int margin, int width, int height)
{
    if (net->border > 0) {
        int align = hs_upscale_alignment(net), b = net->border;
        return (rect){core.x - b, core.y - b, align_up(core.w, align) + 2 * b,
                      align_up(core.h, align) + 2 * b};
    }
    int x0 = max_int(0, core.x - margin), y0 = max_int(0, core.y - margin);
    int x1 = min_int(width, core.x + core.w + margin);
    int y1 = min_int(height, core.y + core.h + margin);
    return (rect){x0, y0, x1 - x0, y1 - y0};
}

/* The tiles of one image, shared by the threads that run them: one per net
 * (hs_upscale_options' peers), each taking the next tile until none is
 * left or one failed. Tiles are independent and each lands on its own
 * pixels of the sink, so which net runs which changes nothing. */
typedef struct tile_share {
    pthread_mutex_t lock;
    const hs_image *rgb;
    rect area;
    int tile, margin, columns, total;
    const hs_upscale_options *opts;
    output_sink *sink;
    int next, done;     /* the next tile to take; tiles finished */
    hs_status failure;  /* the first, with its message: the others stop */
    char message[2048];
} tile_share;

typedef struct tile_worker {
    tile_share *share;
    hs_net *net;
} tile_worker;

/* Record the first failure (under the lock), so no more tiles are taken. */
static void share_fail(tile_share *s, hs_status st, const char *message)
{
    if (s->failure != HS_OK) return;
    s->failure = st;
    snprintf(s->message, sizeof s->message, "%s", message);
}

/* One net's loop: take a tile, run it, count it and report progress (under
 * the lock, so the callback is never called from two threads at once). */
static void *take_tiles(void *arg)
{
    tile_worker *w = arg;
    tile_share *s = w->share;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int i = s->failure == HS_OK && s->next < s->total ? s->next++ : -1;
        pthread_mutex_unlock(&s->lock);
        if (i < 0) return NULL;
        int x = i % s->columns * s->tile, y = i / s->columns * s->tile;
        rect core = {s->area.x + x, s->area.y + y, min_int(s->tile, s->area.w - x),
                     min_int(s->tile, s->area.h - y)};
        rect region = around(w->net, core, s->margin, s->rgb->width, s->rgb->height);
        hs_status st = run_tile(w->net, s->rgb, region, core, s->area, s->sink);
        pthread_mutex_lock(&s->lock);
        if (st != HS_OK) {
            share_fail(s, st, hs_last_error());
        } else if (s->failure == HS_OK) { /* after a stop, no more progress */
            s->done++;
            const hs_upscale_options *o = s->opts;
            if (o->progress && o->progress(o->progress_arg, s->done, s->total, s->tile)) {
                char why[64];
                snprintf(why, sizeof why, "interrupted after %d of %d tiles", s->done, s->total);
                share_fail(s, HS_ERR_INTERRUPTED, why);
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
}

/* The output of `area` of rgb, tile by tile (the context around each tile
 * may reach beyond area, up to the edges of rgb), on nets[0] in this thread
 * and on each other net in a thread of its own. */
static hs_status run_tiles(hs_net *const *nets, int net_count, const hs_image *rgb, rect area,
                           int tile, int margin, const hs_upscale_options *opts,
                           output_sink *sink)
{
    int columns = (area.w + tile - 1) / tile, rows = (area.h + tile - 1) / tile;
    tile_share share = {.rgb = rgb, .area = area, .tile = tile, .margin = margin,
                        .columns = columns, .total = rows * columns, .opts = opts,
                        .sink = sink, .failure = HS_OK};
    if (pthread_mutex_init(&share.lock, NULL) != 0)
        return hs_fail(HS_ERR_INTERNAL, "upscale: pthread_mutex_init failed");
    tile_worker workers[HS_UPSCALE_MAX_NETS];
    pthread_t threads[HS_UPSCALE_MAX_NETS];
    int started = 1; /* workers[0] is this thread */
    for (int k = 0; k < net_count; k++) workers[k] = (tile_worker){&share, nets[k]};
    while (started < net_count && started < share.total &&
           pthread_create(&threads[started], NULL, take_tiles, &workers[started]) == 0)
        started++; /* a thread that cannot start leaves its tiles to the others */
    take_tiles(&workers[0]);
    for (int k = 1; k < started; k++) pthread_join(threads[k], NULL);
    pthread_mutex_destroy(&share.lock);
    return share.failure == HS_OK ? HS_OK : hs_fail(share.failure, "%s", share.message);
}

static hs_status check_sizes(const hs_net *net, const hs_image *in)
{
    if (in->channels < 1 || in->channels > 4 || !in->pixels || in->width < 1 || in->height < 1)
        return hs_fail(HS_ERR_USAGE, "upscale: not an image of 1 to 4 channels");
    if (net->scale < 1)
        return hs_fail(HS_ERR_USAGE, "upscale: %s is not a super-resolution network", net->arch);
    size_t w = (size_t)in->width * net->scale, h = (size_t)in->height * net->scale;
    size_t bytes = w * h * 4 * (size_t)(hs_image_bits(in) / 8);
    if (w > HS_IMAGE_MAX_SIDE || h > HS_IMAGE_MAX_SIDE || bytes > HS_IMAGE_MAX_BYTES)
        return hs_fail(HS_ERR_TOO_LARGE, "upscale: %dx%d ×%d would be %zux%zu, over the limit "
                       "of %d pixels a side or %zu bytes", in->width, in->height, net->scale, w,
                       h, HS_IMAGE_MAX_SIDE, (size_t)HS_IMAGE_MAX_BYTES);
    return HS_OK;
}

/* The failures a smaller tile can cure: device memory, an allocation over the limit. */
static int out_of_memory(hs_status st)
{
    return st == HS_ERR_DEVICE_MEMORY || st == HS_ERR_TOO_LARGE;
}

/* ---- Pre-padding ----------------------------------------------------------------- */

/* Index i mirrored into 0..n-1 without repeating the edge (numpy 'reflect'),
 * as the preproc shaders of realesrgan- and realcugan-ncnn-vulkan do (they
 * fold once; this folds on, for pads wider than the image); or, with
 * replicate, clamped to the edge, as waifu2x-ncnn-vulkan does. */
static int pad_index(int i, int n, int replicate)
{
    if (replicate) return i < 0 ? 0 : i > n - 1 ? n - 1 : i;
    if (n == 1) return 0;
    int period = 2 * (n - 1);
    i = (i % period + period) % period;
    return i > n - 1 ? period - i : i;
}

/* in with `pad` pixels on the left and top, `pad` plus right / bottom on
 * the other sides. */
static hs_status pad_image(const hs_image *in, int pad, int right, int bottom, int replicate,
                           hs_image *out)
{
    int w = in->width + 2 * pad + right, h = in->height + 2 * pad + bottom;
    size_t pixel = (size_t)in->channels * (hs_image_bits(in) / 8); /* bytes */
    *out = (hs_image){.width = w, .height = h, .channels = in->channels, .bits = in->bits,
                      .pixels = malloc((size_t)w * h * pixel)};
    if (!out->pixels) return hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory to pad");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(out->pixels + ((size_t)y * w + x) * pixel,
                   in->pixels + ((size_t)pad_index(y - pad, in->height, replicate) * in->width +
                                 pad_index(x - pad, in->width, replicate)) * pixel, pixel);
    return HS_OK;
}

/* The tile side as the net takes it: a multiple of its alignment (for nets
 * that trim borders), at most the image. */
static int usable_tile(const hs_net *net, int tile, const hs_image *rgb)
{
    int whole = max_int(rgb->width, rgb->height);
    if (net->border == 0) return min_int(tile, whole);
    int align = hs_upscale_alignment(net);
    return tile >= whole ? align_up(whole, align) : max_int(align, tile / align * align);
}

/* net and opts' peers: the same model on other contexts, which share the tiles. */
static hs_status gather_nets(hs_net *net, const hs_upscale_options *opts, hs_net **nets,
                             int *count)
{
    if (opts->peer_count < 0 || opts->peer_count >= HS_UPSCALE_MAX_NETS)
        return hs_fail(HS_ERR_USAGE, "upscale: %d peer nets; at most %d", opts->peer_count,
                       HS_UPSCALE_MAX_NETS - 1);
    nets[0] = net;
    for (int k = 0; k < opts->peer_count; k++) {
        hs_net *peer = opts->peers[k];
        if (peer->count != net->count || peer->scale != net->scale ||
            peer->border != net->border || strcmp(peer->arch, net->arch) != 0)
            return hs_fail(HS_ERR_INTERNAL, "upscale: peer net %d is not the same model", k + 1);
        nets[k + 1] = peer;
    }
    *count = opts->peer_count + 1;
    return HS_OK;
}

/* The tile side from device memory: the smallest any of the nets' devices allows. */
static hs_status pick_tile_for_all(hs_net *const *nets, int count, int width, int height,
                                   int *tile)
{
    for (int k = 0; k < count; k++) {
        int side;
        HS_TRY(hs_upscale_pick_tile(nets[k], width, height, &side));
        if (k == 0 || side < *tile) *tile = side;
    }
    return HS_OK;
}

/* The whole RGB image, retried with halved tiles while the memory runs out.
 * Pre-padded as opts says, by reflection; a net that trims borders is padded
 * as its tool pads it (see hs_upscale_options), and a net with global means
 * cut into several tiles gets the whole image's means first (each net its
 * own copy, on its own device). */
static hs_status upscale_rgb(hs_net *net, const hs_image *rgb, const hs_upscale_options *opts,
                             output_sink *sink)
{
    int margin, tile = opts->tile, count = 1;
    hs_net *nets[HS_UPSCALE_MAX_NETS];
    HS_TRY(gather_nets(net, opts, nets, &count));
    HS_TRY(hs_upscale_margin(net, &margin));
    if (rgb->channels != 3)
        return hs_fail(HS_ERR_INTERNAL, "upscale: the net takes RGB, not %d channels",
                       rgb->channels);
    if (tile < 0 || opts->pre_pad < 0)
        return hs_fail(HS_ERR_USAGE, "upscale: tile side %d or pre-padding %d is negative", tile,
                       opts->pre_pad);
    int trims = net->border > 0, align = hs_upscale_alignment(net);
    int pad = trims ? net->border : min_int(opts->pre_pad, min_int(rgb->width, rgb->height) - 1);
    int right = trims ? align_up(rgb->width, align) - rgb->width : 0;
    int bottom = trims ? align_up(rgb->height, align) - rgb->height : 0;
    hs_image padded = {0};
    if (pad > 0)
        HS_TRY(pad_image(rgb, pad, right, bottom, trims && !net->pad_reflect, &padded));
    const hs_image *source = pad > 0 ? &padded : rgb;
    rect area = {pad, pad, rgb->width, rgb->height};
    hs_status st = HS_OK;
    hs_tensor *means = calloc((size_t)count * net->count, sizeof *means);
    if (!means) st = hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory");
    if (st == HS_OK && tile == 0)
        st = trims ? pick_tile_for_all(nets, count, rgb->width, rgb->height, &tile)
                   : pick_tile_for_all(nets, count, source->width, source->height, &tile);
    tile = usable_tile(net, tile, rgb);
    int pinned = 0;
    while (st == HS_OK) {
        if (!pinned && trims && tile < max_int(rgb->width, rgb->height)) { /* several tiles */
            for (int k = 0; k < count && st == HS_OK; k++)
                st = hs_upscale_pin_means(nets[k], source, tile, means + k * net->count);
            pinned = st == HS_OK;
        }
        if (st == HS_OK) st = run_tiles(nets, count, source, area, tile, margin, opts, sink);
        if (!out_of_memory(st)) break;
        if (tile <= HS_UPSCALE_MIN_TILE) {
            st = hs_fail_context(st, "upscale with %d-pixel tiles", tile);
            break;
        }
        int smaller = usable_tile(net, max_int(tile / 2, HS_UPSCALE_MIN_TILE), rgb);
        if (net->ctx->verbose)
            fprintf(stderr, "hirestyle: %s; retrying with %d-pixel tiles\n", hs_last_error(),
                    smaller);
        tile = smaller;
        st = HS_OK;
    }
    for (int k = 0; means && k < count; k++)
        hs_upscale_unpin_means(nets[k], means + k * net->count);
    free(means);
    hs_image_free(&padded);
    return st;
}

hs_status hs_upscale_floats(hs_net *net, const hs_image *rgb, const hs_upscale_options *opts,
                            float *planes)
{
    HS_TRY(check_sizes(net, rgb));
    output_sink sink = {.planes = planes, .width = rgb->width * net->scale,
                        .height = rgb->height * net->scale};
    return upscale_rgb(net, rgb, opts, &sink);
}

/* ---- Channels ------------------------------------------------------------------------ */

/* The colour of `in` (grey replicated to RGB, alpha dropped) through the net. */
static hs_status upscale_colour(hs_net *net, const hs_image *in, const hs_upscale_options *opts,
                                hs_image *out)
{
    hs_image rgb = {0};
    if (in->channels != 3) HS_TRY(hs_image_convert(in, 3, &rgb));
    const hs_image *source = in->channels == 3 ? in : &rgb;
    hs_image big = {0};
    hs_status st = hs_image_alloc(&big, in->width * net->scale, in->height * net->scale, 3,
                                  hs_image_bits(in));
    if (st != HS_OK) st = hs_fail_context(st, "upscale");
    int deep = hs_image_bits(in) == 16;
    output_sink sink = {.pixels = deep ? NULL : big.pixels,
                        .samples16 = deep ? hs_image_samples16(&big) : NULL,
                        .width = big.width, .height = big.height};
    if (st == HS_OK)
        st = opts->tta ? hs_upscale_tta(net, source, opts, &big) : upscale_rgb(net, source, opts, &sink);
    hs_image_free(&rgb);
    if (st == HS_OK) *out = big;
    else hs_image_free(&big);
    return st;
}

/* The last channel of `in`, enlarged scale times with bicubic hs_image_resize. */
static hs_status upscale_alpha(const hs_image *in, int scale, hs_image *out)
{
    hs_image alpha;
    size_t count = (size_t)in->width * in->height, bytes = hs_image_bits(in) / 8;
    HS_TRY(hs_image_alloc(&alpha, in->width, in->height, 1, hs_image_bits(in)));
    for (size_t i = 0; i < count; i++)
        memcpy(alpha.pixels + i * bytes, in->pixels + (i * in->channels + in->channels - 1) * bytes,
               bytes);
    hs_status st = hs_image_resize(&alpha, in->width * scale, in->height * scale, out);
    hs_image_free(&alpha);
    return st;
}

/* Overwrite the last channel of img with the grey image alpha (same size). */
static void put_alpha(hs_image *img, const hs_image *alpha)
{
    size_t count = (size_t)img->width * img->height, bytes = hs_image_bits(img) / 8;
    for (size_t i = 0; i < count; i++)
        memcpy(img->pixels + (i * img->channels + img->channels - 1) * bytes,
               alpha->pixels + i * bytes, bytes);
}

hs_status hs_upscale_image(hs_net *net, const hs_image *in, const hs_upscale_options *opts,
                           hs_image *out)
{
    HS_TRY(check_sizes(net, in));
    hs_image colour = {0}, alpha = {0}, result = {0};
    hs_status colour_st = upscale_colour(net, in, opts, &colour);
    hs_memory_trim(net->ctx); /* the tiles' buffers */
    for (int k = 0; k < opts->peer_count; k++) hs_memory_trim(opts->peers[k]->ctx);
    HS_TRY(colour_st);
    if (in->channels == 3) {
        *out = colour;
        return HS_OK;
    }
    /* RGB -> grey (luma) for 1 and 2 channels; alpha added as 255, then replaced */
    hs_status st = hs_image_convert(&colour, in->channels, &result);
    if (st == HS_OK && in->channels % 2 == 0) st = upscale_alpha(in, net->scale, &alpha);
    if (st == HS_OK && alpha.pixels) put_alpha(&result, &alpha);
    hs_image_free(&colour);
    hs_image_free(&alpha);
    if (st == HS_OK) *out = result;
    else hs_image_free(&result);
    return st;
}
