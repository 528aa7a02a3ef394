/* upscale_means.c — tiles of nets that trim their borders (waifu2x,
 * Real-CUGAN): the alignment their strides ask of a tile, and the whole
 * image's channel means for their squeeze-excite blocks.
 *
 * Such a net has no zero padding: every value a tile computes is the value
 * the whole (padded) image would give at the same place, shifted by the
 * tile's origin. Only a GlobalMean layer looks at everything, so its value
 * differs from tile to tile. The whole image's mean is the sum of disjoint
 * pieces: tile column i owns the feature columns its origin maps to, up to
 * the next tile's origin (the last tile: to the end), likewise rows. One
 * pass over the tiles per GlobalMean, in order, each pass with the means
 * found so far pinned (hs_layer.pinned), gives every mean exactly; the last
 * pass (upscale.c) then runs the tiles with all of them pinned.
 * realcugan-ncnn-vulkan's `-c 1` (cache) mode makes the same passes but
 * averages the tiles' own means, which counts their overlaps twice.
 */
#include "upscale.h"
#include "engine.h"

#include <stdlib.h>
#include <string.h>

typedef struct fraction { long num, den; } fraction;

static long gcd(long a, long b)
{
    while (b) {
        long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Pixels of every layer's output per input pixel (grids[count]); a
 * GlobalMean's is 0 (it has no pixels). */
static hs_status layer_grids(const hs_net *net, fraction *grids)
{
    grids[0] = (fraction){1, 1};
    for (int i = 1; i < net->count; i++) {
        const hs_layer *l = &net->layers[i];
        const hs_layer_type *type = hs_layer_type_of(l);
        if (!type) return hs_fail_context(HS_ERR_INTERNAL, "upscale");
        hs_layer_window win = type->window(l);
        fraction in = grids[l->inputs[0]];
        if (l->kind == HS_LAYER_GLOBAL_MEAN || in.num == 0) {
            grids[i] = (fraction){0, 1};
            continue;
        }
        long num = in.num * win.up, den = in.den * win.stride, d = gcd(num, den);
        grids[i] = (fraction){num / d, den / d};
    }
    return HS_OK;
}

int hs_upscale_alignment(const hs_net *net)
{
    fraction *grids = malloc((size_t)net->count * sizeof *grids);
    long align = 1;
    if (grids && layer_grids(net, grids) == HS_OK)
        for (int i = 0; i < net->count; i++)
            if (grids[i].num) align = align / gcd(align, grids[i].den) * grids[i].den;
    free(grids);
    return align > 64 ? 64 : (int)align;
}

/* Whether layer l computes in a tile what the whole image gives: no zero
 * padding (transposed convs: cropped to the outputs every input tap
 * reaches) and no resizing that blends across the tile's edge. */
static int exact_in_tiles(const hs_layer *l)
{
    switch (l->kind) {
    case HS_LAYER_CONV: return l->conv.pad_h == 0 && l->conv.pad_w == 0;
    case HS_LAYER_MAXPOOL: return l->pool.pad == 0;
    case HS_LAYER_DECONV:
        return l->conv.pad_h >= l->kernel_h - l->conv.stride &&
               l->conv.pad_w >= l->kernel_w - l->conv.stride;
    case HS_LAYER_INTERP: return 0;
    default: return 1;
    }
}

/* The next GlobalMean after layer `from`, or -1. */
static int next_mean(const hs_net *net, int from)
{
    for (int i = from + 1; i < net->count; i++)
        if (net->layers[i].kind == HS_LAYER_GLOBAL_MEAN) return i;
    return -1;
}

/* The geometry of the tile grid over the padded image (see upscale.h). */
typedef struct grid {
    int tile, border, width, height; /* aligned image size, without the border */
} grid;

/* Add the sums of the part of `features` (layer p's output in the tile at
 * column x0, row y0 of the grid) that the tile owns to sums[c]. */
static hs_status add_owned(const hs_tensor *features, fraction g, const grid *gr, int x0, int y0,
                           double *sums)
{
    int last_x = x0 + gr->tile >= gr->width, last_y = y0 + gr->tile >= gr->height;
    long step = (long)gr->tile * g.num;
    if (step % g.den)
        return hs_fail(HS_ERR_INTERNAL, "upscale: a %d-pixel tile is not aligned to the net's "
                       "strides", gr->tile);
    int own_w = last_x ? features->w : (int)(step / g.den);
    int own_h = last_y ? features->h : (int)(step / g.den);
    if (own_w > features->w || own_h > features->h)
        return hs_fail(HS_ERR_INTERNAL, "upscale: a tile's %dx%d features do not cover the "
                       "%dx%d it owns", features->w, features->h, own_w, own_h);
    hs_tensor part = {0};
    float *host = malloc((size_t)features->c * sizeof *host);
    hs_status st = host ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory");
    if (st == HS_OK) st = hs_tensor_alloc(features->ctx, &part, 1, features->c, 1, 1);
    if (st == HS_OK) st = hs_channel_sum(&part, features, 0, 0, own_h, own_w, 1.0f);
    if (st == HS_OK) st = hs_tensor_read(&part, host);
    for (int c = 0; st == HS_OK && c < features->c; c++) sums[c] += host[c];
    hs_tensor_free(&part);
    free(host);
    return st;
}

/* One pass: the whole image's means of GlobalMean layer m into means[m]. */
static hs_status mean_pass(hs_net *net, const hs_image *padded, const grid *gr, fraction g, int m,
                           const hs_tensor *whole, hs_tensor *mean)
{
    const hs_layer *l = &net->layers[m];
    int p = l->inputs[0], channels = net->layers[p].channels;
    double *sums = calloc((size_t)channels, sizeof *sums);
    unsigned char *wanted = calloc((size_t)net->count, 1);
    hs_tensor *acts = calloc((size_t)net->count, sizeof *acts);
    hs_status st = sums && wanted && acts ? HS_OK
                                          : hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory");
    if (wanted) wanted[p] = 1;
    for (int y = 0; st == HS_OK && y < gr->height; y += gr->tile)
        for (int x = 0; st == HS_OK && x < gr->width; x += gr->tile) {
            int w = (x + gr->tile < gr->width ? gr->tile : gr->width - x) + 2 * gr->border;
            int h = (y + gr->tile < gr->height ? gr->tile : gr->height - y) + 2 * gr->border;
            hs_tensor input = {0};
            st = hs_upscale_tile_input(net, padded, x, y, w, h, &input);
            if (st == HS_OK) st = hs_net_forward(net, &input, m, 0, wanted, acts);
            hs_tensor_free(&input);
            if (st == HS_OK) st = add_owned(&acts[p], g, gr, x, y, sums);
            hs_net_release(net, acts);
        }
    float *values = st == HS_OK ? malloc((size_t)channels * sizeof *values) : NULL;
    if (st == HS_OK && !values) st = hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory");
    double area = (double)whole->h * whole->w;
    for (int c = 0; st == HS_OK && c < channels; c++) values[c] = (float)(sums[c] / area);
    if (st == HS_OK) st = hs_tensor_alloc(net->ctx, mean, 1, channels, 1, 1);
    if (st == HS_OK) st = hs_tensor_write(mean, values);
    free(values);
    free(sums);
    free(wanted);
    free(acts);
    return st;
}

/* Refuse a net whose tiles would not give the whole image's features. */
static hs_status check_exact(const hs_net *net, int last_mean)
{
    for (int i = 1; i < last_mean; i++)
        if (!exact_in_tiles(&net->layers[i]))
            return hs_fail(HS_ERR_USAGE, "upscale: %s layer '%s' pads or blends across tile "
                           "edges, so the net's channel means cannot be computed tile by tile; "
                           "use a tile as large as the image",
                           hs_layer_type_of(&net->layers[i])->name, net->layers[i].name);
    return HS_OK;
}

hs_status hs_upscale_pin_means(hs_net *net, const hs_image *padded, int tile, hs_tensor *means)
{
    int first = next_mean(net, 0), last = first;
    if (first < 0) return HS_OK;
    for (int m = first; m >= 0; m = next_mean(net, m)) last = m;
    HS_TRY(check_exact(net, last));
    grid gr = {tile, net->border, padded->width - 2 * net->border,
               padded->height - 2 * net->border};
    fraction *grids = malloc((size_t)net->count * sizeof *grids);
    hs_tensor *whole = calloc((size_t)net->count, sizeof *whole);
    hs_status st = grids && whole ? HS_OK
                                  : hs_fail(HS_ERR_TOO_LARGE, "upscale: out of host memory");
    if (st == HS_OK) st = layer_grids(net, grids);
    if (st == HS_OK) st = hs_net_shapes(net, padded->height, padded->width, whole);
    for (int m = first; st == HS_OK && m >= 0; m = next_mean(net, m)) {
        int p = net->layers[m].inputs[0];
        st = mean_pass(net, padded, &gr, grids[p], m, &whole[p], &means[m]);
        if (st == HS_OK) net->layers[m].pinned = &means[m];
    }
    free(grids);
    free(whole);
    if (st != HS_OK) hs_upscale_unpin_means(net, means);
    return st;
}

void hs_upscale_unpin_means(hs_net *net, hs_tensor *means)
{
    for (int i = 0; i < net->count; i++) {
        net->layers[i].pinned = NULL;
        hs_tensor_free(&means[i]);
    }
}
