/* style_blocks.c — the style objective of a large image, block by block,
 * exactly (Galerne et al., "Scaling Painting Style Transfer", EGSR 2024).
 *
 * The image is cut into inner blocks whose origins are multiples of the
 * deepest loss layer's stride; each is run through the network inside a crop
 * that adds a halo at least as wide as the layers' footprint, so the
 * features of the inner part equal the whole image's. Then:
 *   pass 1  forward every block; the Gram matrices of the inner parts add up
 *           to the whole image's (the Gram is a sum over positions);
 *   pass 2  forward every block again, seed each loss layer with the
 *           gradient of the whole-image loss at the block's inner positions
 *           (for a Gram term, scale·(D + Dᵀ)·F with D = dL/dG from pass 1),
 *           run the backward, and add the crop's input gradient into the
 *           whole image's: every feature position is seeded in exactly one
 *           block, and its gradient reaches the input only through the crop.
 * The sum is the whole-image loss and gradient up to float rounding. Only
 * activations are per block; the image, its gradient and the targets stay
 * whole. The same pass 1 computes the targets of content and style images.
 */
#include "style_internal.h"

#include <stdlib.h>

static int min_int(int a, int b) { return a < b ? a : b; }
static int max_int(int a, int b) { return a > b ? a : b; }

/* One block along one axis, in input pixels: the inner part [inner0, inner1)
 * and the crop [crop0, crop1) that surrounds it with the halo. */
typedef struct span { int inner0, inner1, crop0, crop1; } span;

/* Block `index` of an axis of `size` pixels cut every `block` pixels; a
 * block of 0 is one span over the whole axis. */
static span span_of(int halo, int index, int block, int size)
{
    if (block <= 0) return (span){0, size, 0, size};
    span a = {index * block, min_int(size, (index + 1) * block), 0, 0};
    a.crop0 = max_int(0, a.inner0 - halo);
    a.crop1 = min_int(size, a.inner1 + halo);
    return a;
}

static int span_count(int block, int size) { return block <= 0 ? 1 : (size + block - 1) / block; }

/* The inner part of a span at a layer of stride `stride` that is `length`
 * long for the whole image: where it starts in the whole layer and in the
 * crop's layer, and how long it is. The last block takes the layer's rest
 * (a padded layer can be one longer than size/stride). */
typedef struct layer_span { int whole, crop, count; } layer_span;

static layer_span span_at_layer(span a, int size, int stride, int length)
{
    int first = a.inner0 / stride, end = a.inner1 == size ? length : a.inner1 / stride;
    return (layer_span){first, first - a.crop0 / stride, end - first};
}

/* A block: the crop of the normalised input, forwarded to s->last (acts,
 * kept for a backward when keep). */
typedef struct image_block {
    span y, x;
    hs_tensor input;
} image_block;

static hs_status forward_block(hs_style *s, const hs_tensor *input, image_block *b, int keep)
{
    int h = b->y.crop1 - b->y.crop0, w = b->x.crop1 - b->x.crop0;
    HS_TRY(hs_tensor_alloc(s->ctx, &b->input, 1, 3, h, w));
    HS_TRY(hs_copy_region(&b->input, 0, 0, input, b->y.crop0, b->x.crop0, h, w, 0));
    return hs_net_forward(s->net, &b->input, s->last, keep, s->wanted, s->acts);
}

/* Where the inner part of block b lies at layer `index` (whole shapes
 * given), in *ly and *lx; 0 when it holds no positions there (a pooled
 * layer drops the image's last odd row). */
static int inner_span(const hs_style *s, const image_block *b, const hs_tensor *whole_shapes,
                      int index, int height, int width, layer_span *ly, layer_span *lx)
{
    const hs_tensor *whole = &whole_shapes[index];
    int stride = s->footprints[index].stride;
    *ly = span_at_layer(b->y, height, stride, whole->h);
    *lx = span_at_layer(b->x, width, stride, whole->w);
    return ly->count > 0 && lx->count > 0;
}

/* That inner part of layer `index`'s activation, as a new tensor. */
static hs_status inner_features(hs_style *s, int index, const layer_span *ly,
                                const layer_span *lx, hs_tensor *out)
{
    const hs_tensor *f = &s->acts[index];
    HS_TRY(hs_tensor_alloc(s->ctx, out, 1, f->c, ly->count, lx->count));
    return hs_copy_region(out, 0, 0, f, ly->crop, lx->crop, ly->count, lx->count, 0);
}

static hs_status statistics_of_block(hs_style *s, const hs_tensor *input, image_block *b,
                                     const hs_tensor *shapes, hs_tensor *grams,
                                     hs_tensor *features)
{
    HS_TRY(forward_block(s, input, b, 0));
    const hs_style_layers *l = &s->p.layers;
    hs_status st = HS_OK;
    for (int i = 0; grams && st == HS_OK && i < l->style_count; i++) {
        hs_tensor inner = {0}, gram = {0};
        layer_span ly, lx;
        int index = s->style_index[i];
        if (!inner_span(s, b, shapes, index, input->h, input->w, &ly, &lx)) continue;
        st = inner_features(s, index, &ly, &lx, &inner);
        if (st == HS_OK) st = hs_tensor_alloc_like(&gram, &grams[i]);
        if (st == HS_OK) st = hs_gram_forward(&gram, &inner, hs_style_gram_scale(s, &shapes[index]));
        if (st == HS_OK) st = hs_axpy(&grams[i], 1.0f, &gram);
        hs_tensor_free(&inner);
        hs_tensor_free(&gram);
    }
    for (int i = 0; features && st == HS_OK && i < l->content_count; i++) {
        int index = s->content_index[i];
        layer_span ly, lx;
        if (!inner_span(s, b, shapes, index, input->h, input->w, &ly, &lx)) continue;
        st = hs_copy_region(&features[i], ly.whole, lx.whole, &s->acts[index], ly.crop, lx.crop,
                            ly.count, lx.count, 0);
    }
    return st;
}

hs_status hs_style_statistics(hs_style *s, const hs_tensor *image, int block, hs_tensor *grams,
                              hs_tensor *features)
{
    const hs_style_layers *l = &s->p.layers;
    hs_tensor *shapes = calloc((size_t)s->net->count, sizeof *shapes);
    hs_tensor input = {0};
    if (!shapes) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = hs_net_shapes(s->net, image->h, image->w, shapes);
    for (int i = 0; grams && st == HS_OK && i < l->style_count; i++) {
        int c = shapes[s->style_index[i]].c;
        st = hs_tensor_alloc(s->ctx, &grams[i], 1, 1, c, c);
        if (st == HS_OK) st = hs_tensor_fill(&grams[i], 0.0f);
    }
    for (int i = 0; features && st == HS_OK && i < l->content_count; i++)
        st = hs_tensor_alloc_like(&features[i], &shapes[s->content_index[i]]);
    if (st == HS_OK) st = hs_tensor_alloc_like(&input, image);
    if (st == HS_OK) st = hs_normalize_forward(&input, image, &s->net->norm);
    int rows = span_count(block, image->h), cols = span_count(block, image->w);
    for (int by = 0; st == HS_OK && by < rows; by++)
        for (int bx = 0; st == HS_OK && bx < cols; bx++) {
            image_block b = {span_of(s->halo, by, block, image->h), span_of(s->halo, bx, block, image->w), {0}};
            st = statistics_of_block(s, &input, &b, shapes, grams, features);
            hs_net_release(s->net, s->acts);
            hs_tensor_free(&b.input);
        }
    hs_tensor_free(&input);
    free(shapes);
    return st;
}

/* ---- Pass 2 ------------------------------------------------------------------- */

/* grads[index] += `inner` placed at its position in the block's layer (zero
 * elsewhere). */
static hs_status seed_inner(hs_style *s, int index, const layer_span *ly, const layer_span *lx,
                            const hs_tensor *inner)
{
    hs_tensor full = {0};
    hs_status st = hs_tensor_alloc_like(&full, &s->acts[index]);
    if (st == HS_OK) st = hs_tensor_fill(&full, 0.0f);
    if (st == HS_OK) st = hs_copy_region(&full, ly->crop, lx->crop, inner, 0, 0, ly->count, lx->count, 0);
    if (st == HS_OK) st = hs_tensor_accumulate(&s->grads[index], &full);
    hs_tensor_free(&full);
    return st;
}

/* The content terms on the block's inner part: their value into their slots
 * and, with want_grad, their seeds. */
static hs_status content_terms(hs_style *s, const image_block *b, const hs_tensor *shapes, int height,
                               int width, int want_grad)
{
    for (int i = 0; i < s->p.layers.content_count; i++) {
        int index = s->content_index[i];
        hs_tensor inner = {0}, target = {0}, g = {0};
        layer_span ly, lx;
        float scale = s->content_scale[i];
        if (!inner_span(s, b, shapes, index, height, width, &ly, &lx)) continue;
        hs_status st = inner_features(s, index, &ly, &lx, &inner);
        if (st == HS_OK) st = hs_tensor_alloc_like(&target, &inner);
        if (st == HS_OK)
            st = hs_copy_region(&target, 0, 0, &s->content_target[i], ly.whole, lx.whole,
                                ly.count, lx.count, 0);
        if (st == HS_OK) st = hs_mse_loss(&s->scalar, &inner, &target, scale);
        if (st == HS_OK) st = hs_style_gather(s, HS_STYLE_CONTENT_SLOT(i));
        if (st == HS_OK && want_grad) st = hs_tensor_alloc_like(&g, &inner);
        if (st == HS_OK && want_grad)
            st = hs_mse_backward(&g, &inner, &target, scale * s->p.content_weight);
        if (st == HS_OK && want_grad) st = seed_inner(s, index, &ly, &lx, &g);
        hs_tensor_free(&inner);
        hs_tensor_free(&target);
        hs_tensor_free(&g);
        HS_TRY(st);
    }
    return HS_OK;
}

/* The style seeds of the block: gram_backward of dgram[i] on the inner part. */
static hs_status style_seeds(hs_style *s, const image_block *b, const hs_tensor *shapes, int height,
                             int width, const hs_tensor *dgrams)
{
    for (int i = 0; i < s->p.layers.style_count; i++) {
        int index = s->style_index[i];
        hs_tensor inner = {0}, g = {0};
        layer_span ly, lx;
        if (!inner_span(s, b, shapes, index, height, width, &ly, &lx)) continue;
        hs_status st = inner_features(s, index, &ly, &lx, &inner);
        if (st == HS_OK) st = hs_tensor_alloc_like(&g, &inner);
        if (st == HS_OK)
            st = hs_gram_backward(&g, &dgrams[i], &inner, hs_style_gram_scale(s, &shapes[index]));
        if (st == HS_OK) st = seed_inner(s, index, &ly, &lx, &g);
        hs_tensor_free(&inner);
        hs_tensor_free(&g);
        HS_TRY(st);
    }
    return HS_OK;
}

static hs_status backward_block(hs_style *s, const hs_tensor *input, image_block *b,
                                 const hs_tensor *shapes, const hs_tensor *dgrams,
                                 hs_tensor *dinput)
{
    hs_tensor dcrop = {0};
    HS_TRY(forward_block(s, input, b, 1));
    HS_TRY(content_terms(s, b, shapes, input->h, input->w, 1));
    HS_TRY(style_seeds(s, b, shapes, input->h, input->w, dgrams));
    hs_status st = hs_tensor_alloc_like(&dcrop, &b->input);
    if (st == HS_OK) st = hs_net_backward(s->net, &b->input, s->acts, s->grads, s->last, &dcrop);
    if (st == HS_OK)
        st = hs_copy_region(dinput, b->y.crop0, b->x.crop0, &dcrop, 0, 0, dcrop.h, dcrop.w, 1);
    hs_tensor_free(&dcrop);
    return st;
}

/* dL/dG for every style term, and the terms, from the whole Grams. */
static hs_status style_from_grams(hs_style *s, const hs_tensor *grams, hs_tensor *dgrams)
{
    for (int i = 0; i < s->p.layers.style_count; i++) {
        float scale = s->targets->scale[i], weight = s->p.layers.style_weight[i];
        HS_TRY(hs_mse_loss(&s->scalar, &grams[i], &s->targets->gram[i], scale));
        HS_TRY(hs_style_gather(s, HS_STYLE_STYLE_SLOT(i)));
        if (!dgrams) continue;
        HS_TRY(hs_tensor_alloc_like(&dgrams[i], &grams[i]));
        HS_TRY(hs_mse_backward(&dgrams[i], &grams[i], &s->targets->gram[i],
                               scale * weight * s->p.style_weight));
    }
    return HS_OK;
}

hs_status hs_style_evaluate_blocks(hs_style *s, const hs_tensor *xs, hs_tensor *dxs)
{
    hs_tensor grams[HS_STYLE_MAX_LAYERS] = {{0}}, dgrams[HS_STYLE_MAX_LAYERS] = {{0}};
    hs_tensor input = {0}, dinput = {0};
    hs_tensor *shapes = calloc((size_t)s->net->count, sizeof *shapes);
    if (!shapes) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = hs_net_shapes(s->net, xs->h, xs->w, shapes);
    if (st == HS_OK) st = hs_style_statistics(s, xs, s->block, grams, NULL);
    if (st == HS_OK) st = style_from_grams(s, grams, dxs ? dgrams : NULL);
    if (st == HS_OK) st = hs_tensor_alloc_like(&input, xs);
    if (st == HS_OK) st = hs_normalize_forward(&input, xs, &s->net->norm);
    if (st == HS_OK && dxs) st = hs_tensor_alloc_like(&dinput, xs);
    if (st == HS_OK && dxs) st = hs_tensor_fill(&dinput, 0.0f);
    int rows = span_count(s->block, xs->h), cols = span_count(s->block, xs->w);
    for (int by = 0; st == HS_OK && by < rows; by++)
        for (int bx = 0; st == HS_OK && bx < cols; bx++) {
            image_block b = {span_of(s->halo, by, s->block, xs->h), span_of(s->halo, bx, s->block, xs->w), {0}};
            if (dxs) {
                st = backward_block(s, &input, &b, shapes, dgrams, &dinput);
            } else { /* the content terms need only the forward */
                st = forward_block(s, &input, &b, 0);
                if (st == HS_OK) st = content_terms(s, &b, shapes, xs->h, xs->w, 0);
            }
            hs_net_release(s->net, s->acts);
            hs_net_release(s->net, s->grads);
            hs_tensor_free(&b.input);
        }
    if (st == HS_OK && dxs) st = hs_normalize_backward(dxs, &dinput, &s->net->norm);
    for (int i = 0; i < HS_STYLE_MAX_LAYERS; i++) {
        hs_tensor_free(&grams[i]);
        hs_tensor_free(&dgrams[i]);
    }
    hs_tensor_free(&input);
    hs_tensor_free(&dinput);
    free(shapes);
    return st;
}

double hs_style_work(const hs_net *net, const hs_style_params *p, int h, int w, int block)
{
    if (block <= 0) return 3.0 * h * w; /* a forward, and a backward of about twice its cost */
    int halo, stride;
    if (hs_style_halo(net, p, &halo, &stride) != HS_OK) return 3.0 * h * w;
    double rows = 0, cols = 0; /* the crops' lengths along each axis, summed */
    for (int i = 0; i < span_count(block, h); i++) {
        span a = span_of(halo, i, block, h);
        rows += a.crop1 - a.crop0;
    }
    for (int i = 0; i < span_count(block, w); i++) {
        span a = span_of(halo, i, block, w);
        cols += a.crop1 - a.crop0;
    }
    return 4.0 * rows * cols; /* pass 1 forwards every crop, pass 2 forwards and backwards */
}
