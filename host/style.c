/* style.c — the style-transfer objective: targets, L(x) and dL/dx.
 *
 * One evaluation: x (maybe translated by the jitter) is normalised into the
 * network's input, run forward to the deepest layer a loss reads keeping the
 * activations, each loss term adds its gradient at its layer, and one
 * backward pass carries the sum back to x. The optimisers live in
 * style_optimize.c.
 */
#include "style_internal.h"
#include "timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hs_status hs_style_defaults(const char *arch, hs_style_params *p)
{
    memset(p, 0, sizeof *p);
    p->optimizer = HS_OPT_ADAM;
    p->lbfgs_history = 100;
    p->seed = 1;
    p->block = HS_STYLE_BLOCK_AUTO;
    hs_style_layers *l = &p->layers;
    if (strcmp(arch, "vgg19") == 0) {
        /* neural-style's layers and definitions. Its weights 5 and 100 balance
         * features of the caffe VGG19, whose input is 0..255; torchvision's VGG19
         * takes [0,1] normalised by std, ~57x smaller, so the content term is
         * ~57² and the style term ~57⁴ smaller: style 1e6 to content 1 (the
         * PyTorch tutorial's balance for these weights) restores it. */
        static const char *style[] = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
        snprintf(l->content[0], sizeof l->content[0], "relu4_2");
        l->content_count = 1;
        for (int i = 0; i < 5; i++) {
            snprintf(l->style[i], sizeof l->style[i], "%s", style[i]);
            l->style_weight[i] = 1.0f;
        }
        l->style_count = 5;
        p->mode = HS_LOSS_MSE;
        p->content_weight = 1.0f;
        p->style_weight = 1e6f;
        p->tv_weight = 1e-3f;
        p->learning_rate = 0.02f;
        p->jitter = 0;
        return HS_OK;
    }
    if (strcmp(arch, "resnet50") == 0) {
        /* Measured with a PyTorch prototype: the ends of conv1 and stages 2–4,
         * terms normalised by their targets, and jitter against the grid the
         * stride-2 layers would print. */
        static const char *style[] = {"conv1_relu", "res2c", "res3d", "res4f"};
        snprintf(l->content[0], sizeof l->content[0], "res3d");
        l->content_count = 1;
        for (int i = 0; i < 4; i++) {
            snprintf(l->style[i], sizeof l->style[i], "%s", style[i]);
            l->style_weight[i] = 1.0f;
        }
        l->style_count = 4;
        p->mode = HS_LOSS_NORMALIZED;
        p->content_weight = 1.0f;
        p->style_weight = 3.0f;
        p->tv_weight = 0.0f;
        p->learning_rate = 0.02f;
        p->jitter = 1;
        return HS_OK;
    }
    return hs_fail(HS_ERR_WEIGHTS, "style transfer needs a vgg19 or resnet50 network, not %s", arch);
}

/* Gram scale for features (C, h, w) in the given mode. */
static float gram_scale(hs_loss_mode mode, const hs_tensor *f)
{
    double plane = (double)f->h * f->w;
    return (float)(1.0 / (mode == HS_LOSS_MSE ? plane * f->c : plane));
}

float hs_style_gram_scale(const hs_style *s, const hs_tensor *shape)
{
    return gram_scale(s->p.mode, shape);
}

/* The scale that turns sum((a - target)²) into the term: 1/N or 1/‖target‖². */
static hs_status term_scale(hs_loss_mode mode, const hs_tensor *target, hs_tensor *scalar,
                            float *scale)
{
    if (mode == HS_LOSS_MSE) {
        *scale = (float)(1.0 / (double)hs_tensor_count(target));
        return HS_OK;
    }
    float norm2;
    HS_TRY(hs_dot(scalar, target, target));
    HS_TRY(hs_read_scalar(scalar, &norm2));
    *scale = norm2 > 0 ? 1.0f / norm2 : 0.0f; /* an all-zero target cannot be matched better */
    return HS_OK;
}

/* The indices of the loss layers of p (content first) and the deepest. */
static hs_status loss_layers(const hs_net *net, const hs_style_params *p, int *layers, int *last)
{
    const hs_style_layers *l = &p->layers;
    *last = 0;
    for (int i = 0; i < l->content_count + l->style_count; i++) {
        int content = i < l->content_count;
        const char *name = content ? l->content[i] : l->style[i - l->content_count];
        layers[i] = hs_net_find(net, name);
        if (layers[i] <= 0) return hs_fail(HS_ERR_USAGE, "%s has no layer '%s'", net->arch, name);
        if (layers[i] > *last) *last = layers[i];
    }
    return HS_OK;
}

static hs_status find_layers(hs_style *s)
{
    int layers[2 * HS_STYLE_MAX_LAYERS], content = s->p.layers.content_count;
    HS_TRY(loss_layers(s->net, &s->p, layers, &s->last));
    for (int i = 0; i < content + s->p.layers.style_count; i++) {
        if (i < content) s->content_index[i] = layers[i];
        else s->style_index[i - content] = layers[i];
    }
    return HS_OK;
}

static hs_status content_targets(hs_style *s, const hs_tensor *content)
{
    HS_TRY(hs_style_statistics(s, content, s->block, NULL, s->content_target));
    for (int i = 0; i < s->p.layers.content_count; i++)
        HS_TRY(term_scale(s->p.mode, &s->content_target[i], &s->scalar, &s->content_scale[i]));
    return HS_OK;
}

/* T_l = Σ_k w_k · Gram_l(style_k), weights normalised to sum 1, into *t. */
static hs_status style_targets(hs_style *s, const hs_tensor *const *styles, const float *blend,
                               int count, hs_style_targets *t)
{
    double total = 0;
    for (int k = 0; k < count; k++) total += blend ? blend[k] : 1.0;
    if (!(total > 0)) return hs_fail(HS_ERR_USAGE, "the style blend weights must sum to more than 0");
    hs_status st = HS_OK;
    for (int k = 0; st == HS_OK && k < count; k++) {
        float w = (float)((blend ? blend[k] : 1.0) / total);
        hs_tensor grams[HS_STYLE_MAX_LAYERS] = {{0}};
        st = hs_style_statistics(s, styles[k], s->block, grams, NULL);
        for (int i = 0; st == HS_OK && i < s->p.layers.style_count; i++) {
            hs_tensor *target = &t->gram[i];
            if (!target->buf) st = hs_tensor_alloc_like(target, &grams[i]);
            if (st == HS_OK && k == 0) st = hs_tensor_fill(target, 0.0f);
            if (st == HS_OK) st = hs_axpy(target, w, &grams[i]);
        }
        for (int i = 0; i < HS_STYLE_MAX_LAYERS; i++) hs_tensor_free(&grams[i]);
    }
    for (int i = 0; st == HS_OK && i < s->p.layers.style_count; i++)
        st = term_scale(s->p.mode, &t->gram[i], &s->scalar, &t->scale[i]);
    return st;
}

/* The halo and alignment from the loss layers' footprints (out[last + 1]). */
static hs_status halo_of(const hs_net *net, const int *layers, int count, int last,
                         hs_footprint *foot, int *halo, int *stride)
{
    HS_TRY(hs_net_footprints(net, last, foot));
    int reach = 0, most = 1;
    for (int i = 0; i < count; i++) {
        const hs_footprint *f = &foot[layers[i]];
        if (f->stride > most) most = f->stride;
        if (f->before > reach) reach = f->before;
        if (f->after > reach) reach = f->after;
    }
    for (int i = 0; i < count; i++)
        if (most % foot[layers[i]].stride)
            return hs_fail(HS_ERR_USAGE, "%s: the loss layers' strides do not divide %d; "
                           "the image cannot be cut into blocks", net->arch, most);
    *stride = most;
    *halo = (reach + most - 1) / most * most;
    return HS_OK;
}

hs_status hs_style_halo(const hs_net *net, const hs_style_params *p, int *halo, int *stride)
{
    int layers[2 * HS_STYLE_MAX_LAYERS], last;
    HS_TRY(loss_layers(net, p, layers, &last));
    hs_footprint *foot = malloc((size_t)(last + 1) * sizeof *foot);
    if (!foot) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = halo_of(net, layers, p->layers.content_count + p->layers.style_count, last,
                           foot, halo, stride);
    free(foot);
    return st;
}

/* The footprints, halo and block side for an h×w image. */
static hs_status choose_blocks(hs_style *s, int h, int w)
{
    int layers[2 * HS_STYLE_MAX_LAYERS], count = s->p.layers.content_count + s->p.layers.style_count;
    HS_TRY(loss_layers(s->net, &s->p, layers, &s->last));
    s->footprints = malloc((size_t)(s->last + 1) * sizeof *s->footprints);
    if (!s->footprints) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    HS_TRY(halo_of(s->net, layers, count, s->last, s->footprints, &s->halo, &s->stride));
    if (s->p.block == HS_STYLE_BLOCK_AUTO) {
        size_t available = hs_memory_available(s->ctx) - hs_memory_in_use(s->ctx);
        return hs_style_pick_block(s->net, &s->p, h, w, available / 10 * 9, &s->block);
    }
    s->block = s->p.block <= 0 ? 0 : (s->p.block + s->stride - 1) / s->stride * s->stride;
    return HS_OK;
}

/* An objective without targets yet: its layers, and the blocks for h×w. */
static hs_status style_open(hs_net *net, const hs_style_params *p, int h, int w, hs_style **out)
{
    *out = NULL;
    hs_style *s = calloc(1, sizeof *s);
    if (!s) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    s->net = net;
    s->ctx = net->ctx;
    s->p = *p;
    s->rng = p->seed * 2654435761u + 1u;
    s->targets = &s->own_targets;
    s->acts = calloc(net->count, sizeof *s->acts);
    s->grads = calloc(net->count, sizeof *s->grads);
    s->wanted = calloc(net->count, 1);
    hs_status st = s->acts && s->grads && s->wanted ? HS_OK
                                                     : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_tensor_alloc(s->ctx, &s->scalar, 1, 1, 1, 1);
    if (st == HS_OK) st = hs_tensor_alloc(s->ctx, &s->terms, 1, 1, 1, HS_STYLE_SLOTS);
    if (st == HS_OK) st = find_layers(s);
    for (int i = 0; st == HS_OK && i < p->layers.content_count; i++) s->wanted[s->content_index[i]] = 1;
    for (int i = 0; st == HS_OK && i < p->layers.style_count; i++) s->wanted[s->style_index[i]] = 1;
    if (st == HS_OK) st = choose_blocks(s, h, w);
    if (st != HS_OK) {
        hs_style_destroy(s);
        return st;
    }
    *out = s;
    return HS_OK;
}

static hs_status check_style_count(int style_count)
{
    if (style_count < 1 || style_count > HS_STYLE_MAX_IMAGES)
        return hs_fail(HS_ERR_USAGE, "give 1 to %d style images", HS_STYLE_MAX_IMAGES);
    return HS_OK;
}

hs_status hs_style_create(hs_net *net, const hs_style_params *p, const hs_tensor *content,
                          const hs_tensor *const *styles, const float *blend, int style_count,
                          hs_style **out)
{
    *out = NULL;
    hs_style *s;
    HS_TRY(check_style_count(style_count));
    HS_TRY(style_open(net, p, content->h, content->w, &s));
    hs_status st = content_targets(s, content);
    if (st == HS_OK) st = style_targets(s, styles, blend, style_count, &s->own_targets);
    if (st != HS_OK) {
        hs_style_destroy(s);
        return st;
    }
    *out = s;
    return HS_OK;
}

hs_status hs_style_create_with(hs_net *net, const hs_style_params *p, const hs_tensor *content,
                               const hs_style_targets *targets, hs_style **out)
{
    hs_style *s;
    HS_TRY(style_open(net, p, content->h, content->w, &s));
    s->targets = targets;
    hs_status st = content_targets(s, content);
    if (st != HS_OK) {
        hs_style_destroy(s);
        return st;
    }
    *out = s;
    return HS_OK;
}

hs_status hs_style_targets_make(hs_net *net, const hs_style_params *p,
                                const hs_tensor *const *styles, const float *blend,
                                int style_count, hs_style_targets *out)
{
    *out = (hs_style_targets){0};
    HS_TRY(check_style_count(style_count));
    /* blocks as the largest style image needs them */
    int h = 1, w = 1;
    for (int k = 0; k < style_count; k++) {
        if (styles[k]->h > h) h = styles[k]->h;
        if (styles[k]->w > w) w = styles[k]->w;
    }
    hs_style *s;
    HS_TRY(style_open(net, p, h, w, &s));
    hs_status st = style_targets(s, styles, blend, style_count, out);
    hs_style_destroy(s);
    if (st != HS_OK) hs_style_targets_free(out);
    return st;
}

void hs_style_targets_free(hs_style_targets *t)
{
    for (int i = 0; i < HS_STYLE_MAX_LAYERS; i++) hs_tensor_free(&t->gram[i]);
}

void hs_style_destroy(hs_style *s)
{
    if (!s) return;
    for (int i = 0; i < HS_STYLE_MAX_LAYERS; i++) hs_tensor_free(&s->content_target[i]);
    hs_style_targets_free(&s->own_targets);
    hs_tensor_free(&s->scalar);
    hs_tensor_free(&s->terms);
    free(s->acts);
    free(s->grads);
    free(s->wanted);
    free(s->footprints);
    free(s);
}

hs_status hs_style_gather(hs_style *s, int slot)
{
    return hs_add_element(&s->terms, slot, &s->scalar);
}

/* The term into its slot; with grad, grads[layer] += weight * dterm/dF. */
static hs_status content_term(hs_style *s, int i, int want_grad)
{
    const hs_tensor *f = &s->acts[s->content_index[i]];
    float scale = s->content_scale[i];
    HS_TRY(hs_mse_loss(&s->scalar, f, &s->content_target[i], scale));
    HS_TRY(hs_style_gather(s, HS_STYLE_CONTENT_SLOT(i)));
    if (!want_grad) return HS_OK;
    hs_tensor g;
    HS_TRY(hs_tensor_alloc_like(&g, f));
    hs_status st = hs_mse_backward(&g, f, &s->content_target[i], scale * s->p.content_weight);
    if (st == HS_OK) st = hs_tensor_accumulate(&s->grads[s->content_index[i]], &g);
    hs_tensor_free(&g);
    return st;
}

static hs_status style_term(hs_style *s, int i, int want_grad)
{
    const hs_tensor *f = &s->acts[s->style_index[i]];
    const hs_tensor *target = &s->targets->gram[i];
    float gs = gram_scale(s->p.mode, f), scale = s->targets->scale[i];
    float weight = s->p.layers.style_weight[i];
    hs_tensor gram = {0}, dgram = {0}, df = {0};
    hs_status st = hs_tensor_alloc_like(&gram, target);
    if (st == HS_OK) st = hs_gram_forward(&gram, f, gs);
    if (st == HS_OK) st = hs_mse_loss(&s->scalar, &gram, target, scale);
    if (st == HS_OK) st = hs_style_gather(s, HS_STYLE_STYLE_SLOT(i));
    if (st == HS_OK && want_grad) {
        st = hs_tensor_alloc_like(&dgram, target);
        if (st == HS_OK) st = hs_mse_backward(&dgram, &gram, target, scale * weight * s->p.style_weight);
        if (st == HS_OK) st = hs_tensor_alloc_like(&df, f);
        if (st == HS_OK) st = hs_gram_backward(&df, &dgram, f, gs);
        if (st == HS_OK) st = hs_tensor_accumulate(&s->grads[s->style_index[i]], &df);
    }
    hs_tensor_free(&gram);
    hs_tensor_free(&dgram);
    hs_tensor_free(&df);
    return st;
}

void hs_style_set_timing(hs_style *s, hs_style_timing *timing) { s->timing = timing; }

hs_status hs_style_lap(hs_style *s, double *phase, double *since)
{
    if (!s->timing) return HS_OK;
    HS_TRY(hs_finish(s->ctx));
    double now = hs_seconds();
    *phase += now - *since;
    *since = now;
    return HS_OK;
}

/* Forward, the loss terms, and (with grad) the backward to dL/d(shifted x). */
static hs_status evaluate_network(hs_style *s, const hs_tensor *xs, hs_tensor *dxs)
{
    hs_tensor input = {0}, dinput = {0};
    double lap = hs_seconds();
    hs_style_timing unused = {0}, *t = s->timing ? s->timing : &unused;
    hs_status st = hs_tensor_alloc_like(&input, xs);
    if (st == HS_OK) st = hs_normalize_forward(&input, xs, &s->net->norm);
    if (st == HS_OK) st = hs_net_forward(s->net, &input, s->last, dxs != NULL, s->wanted, s->acts);
    if (st == HS_OK) st = hs_style_lap(s, &t->forward, &lap);
    hs_profile_step(s->ctx, "content and style losses");
    for (int i = 0; st == HS_OK && i < s->p.layers.content_count; i++)
        st = content_term(s, i, dxs != NULL);
    for (int i = 0; st == HS_OK && i < s->p.layers.style_count; i++)
        st = style_term(s, i, dxs != NULL);
    if (st == HS_OK) st = hs_style_lap(s, &t->loss, &lap);
    hs_profile_step(s->ctx, "other");
    if (st == HS_OK && dxs) {
        st = hs_tensor_alloc_like(&dinput, xs);
        if (st == HS_OK) st = hs_net_backward(s->net, &input, s->acts, s->grads, s->last, &dinput);
        if (st == HS_OK) st = hs_normalize_backward(dxs, &dinput, &s->net->norm);
        if (st == HS_OK) st = hs_style_lap(s, &t->backward, &lap);
    }
    hs_net_release(s->net, s->acts);
    hs_net_release(s->net, s->grads);
    hs_tensor_free(&input);
    hs_tensor_free(&dinput);
    return st;
}

/* The losses from the terms gathered on the device: one read. */
static hs_status read_losses(hs_style *s, hs_style_losses *losses)
{
    float terms[HS_STYLE_SLOTS];
    HS_TRY(hs_tensor_read(&s->terms, terms));
    double content = 0, style = 0;
    for (int i = 0; i < s->p.layers.content_count; i++) content += terms[HS_STYLE_CONTENT_SLOT(i)];
    for (int i = 0; i < s->p.layers.style_count; i++)
        style += s->p.layers.style_weight[i] * terms[HS_STYLE_STYLE_SLOT(i)];
    losses->content = (float)(s->p.content_weight * content);
    losses->style = (float)(s->p.style_weight * style);
    losses->tv = terms[HS_STYLE_TV_SLOT];
    losses->total = losses->content + losses->style + losses->tv;
    return HS_OK;
}

hs_status hs_style_evaluate(hs_style *s, const hs_tensor *x, int dx, int dy,
                            hs_style_losses *losses, hs_tensor *grad)
{
    hs_tensor shifted = {0}, dshifted = {0}, dtv = {0};
    int moved = dx != 0 || dy != 0;
    const hs_tensor *xs = x;
    hs_status st = hs_tensor_fill(&s->terms, 0.0f);
    if (st == HS_OK && moved) {
        st = hs_tensor_alloc_like(&shifted, x);
        if (st == HS_OK) st = hs_translate_reflect(&shifted, x, dx, dy);
        xs = &shifted;
    }
    if (st == HS_OK && grad && moved) st = hs_tensor_alloc_like(&dshifted, x);
    hs_tensor *dxs = grad ? (moved ? &dshifted : grad) : NULL;
    int whole = s->block == 0 || (x->h <= s->block && x->w <= s->block);
    if (st == HS_OK && whole) st = evaluate_network(s, xs, dxs);
    else if (st == HS_OK) st = hs_style_evaluate_blocks(s, xs, dxs);
    if (st == HS_OK && grad && moved) st = hs_translate_reflect_backward(grad, &dshifted, dx, dy);

    if (st == HS_OK && s->p.tv_weight != 0) {
        st = hs_tv_loss(&s->scalar, x, s->p.tv_weight);
        if (st == HS_OK) st = hs_style_gather(s, HS_STYLE_TV_SLOT);
        if (st == HS_OK && grad) st = hs_tensor_alloc_like(&dtv, x);
        if (st == HS_OK && grad) st = hs_tv_backward(&dtv, x, s->p.tv_weight);
        if (st == HS_OK && grad) st = hs_axpy(grad, 1.0f, &dtv);
    }
    if (st == HS_OK) st = read_losses(s, losses);
    hs_tensor_free(&shifted);
    hs_tensor_free(&dshifted);
    hs_tensor_free(&dtv);
    return st;
}

static int min_int(int a, int b) { return a < b ? a : b; }

size_t hs_style_memory(const hs_net *net, const hs_style_params *p, int h, int w, int block,
                       size_t *largest)
{
    int layers[2 * HS_STYLE_MAX_LAYERS], last, halo = 0, stride = 1;
    if (loss_layers(net, p, layers, &last) != HS_OK) return (size_t)-1;
    if (block > 0 && hs_style_halo(net, p, &halo, &stride) != HS_OK) return (size_t)-1;
    int crop_h = block > 0 ? min_int(h, block + 2 * halo) : h;
    int crop_w = block > 0 ? min_int(w, block + 2 * halo) : w;
    hs_tensor *whole = calloc(net->count, sizeof *whole), *crop = calloc(net->count, sizeof *crop);
    size_t total = (size_t)-1;
    if (!whole || !crop || hs_net_shapes(net, h, w, whole) != HS_OK ||
        hs_net_shapes(net, crop_h, crop_w, crop) != HS_OK)
        goto done;
    size_t image = (size_t)3 * h * w * sizeof(float), most = image, targets = 0, seeds = 0;
    for (int i = 0; i < p->layers.content_count + p->layers.style_count; i++) {
        size_t c = (size_t)whole[layers[i]].c, at_crop = hs_tensor_count(&crop[layers[i]]) * sizeof(float);
        if (i < p->layers.content_count) {
            size_t target = hs_tensor_count(&whole[layers[i]]) * sizeof(float);
            targets += target;
            if (target > most) most = target;
        } else { /* target, Gram and its gradient */
            targets += 3 * c * c * sizeof(float);
        }
        if (3 * at_crop > seeds) seeds = 3 * at_crop; /* a block's inner part, target, seed */
    }
    for (int i = 1; i <= last; i++) {
        size_t bytes = hs_tensor_count(&crop[i]) * sizeof(float);
        if (bytes > most) most = bytes;
    }
    size_t optimizer = p->optimizer == HS_OPT_LBFGS ? (size_t)(2 * p->lbfgs_history + 4) * image
                                                    : 4 * image; /* Adam's m and v, the average, the shifted gradient */
    /* x, its shifted copy and gradient, the network input and its gradient */
    total = hs_net_memory(net, crop_h, crop_w, last, 1) + targets + optimizer + 5 * image;
    if (block > 0) /* the crop, its gradient, the Grams of pass 1 and their gradients */
        total += (size_t)6 * crop_h * crop_w * sizeof(float) + seeds + targets;
    if (largest) *largest = most;
done:
    free(whole);
    free(crop);
    return total;
}

/* Whether blocks of `block` px fit in budget and the largest buffer (the
 * device's largest allocation, 2^31-1 floats). */
static int blocks_fit(const hs_net *net, const hs_style_params *p, int h, int w, int block,
                      size_t budget)
{
    size_t largest, need = hs_style_memory(net, p, h, w, block, &largest);
    return need <= budget && largest <= hs_memory_largest_buffer(net->ctx);
}

hs_status hs_style_pick_block(const hs_net *net, const hs_style_params *p, int h, int w,
                              size_t budget, int *block)
{
    *block = 0;
    if (blocks_fit(net, p, h, w, 0, budget)) return HS_OK;
    int halo, stride;
    HS_TRY(hs_style_halo(net, p, &halo, &stride));
    /* the largest k with blocks of k*stride px that fit: fits(low) or low = 0 */
    int low = 0, high = ((h > w ? h : w) + stride - 1) / stride;
    while (low < high) {
        int middle = (low + high + 1) / 2;
        if (blocks_fit(net, p, h, w, middle * stride, budget)) low = middle;
        else high = middle - 1;
    }
    if (low == 0)
        return hs_fail(HS_ERR_TOO_LARGE,
                       "a %dx%d painting needs about %.2f GiB of device memory even in blocks of "
                       "%d px (the image, its optimiser state and the targets stay whole); "
                       "%.2f GiB are usable", w, h,
                       hs_style_memory(net, p, h, w, stride, NULL) / 1073741824.0, stride,
                       budget / 1073741824.0);
    *block = low * stride;
    return HS_OK;
}
