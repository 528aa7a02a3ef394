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

static hs_status find_layers(hs_style *s)
{
    const hs_style_layers *l = &s->p.layers;
    s->last = 0;
    for (int i = 0; i < l->content_count + l->style_count; i++) {
        int content = i < l->content_count;
        const char *name = content ? l->content[i] : l->style[i - l->content_count];
        int index = hs_net_find(s->net, name);
        if (index <= 0)
            return hs_fail(HS_ERR_USAGE, "%s has no layer '%s'", s->net->arch, name);
        if (content) s->content_index[i] = index;
        else s->style_index[i - l->content_count] = index;
        if (index > s->last) s->last = index;
    }
    return HS_OK;
}

/* Forward `image` (1,3,H,W in [0,1]) to s->last keeping only the loss layers. */
static hs_status features_of(hs_style *s, const hs_tensor *image, hs_tensor *acts)
{
    hs_tensor input;
    HS_TRY(hs_tensor_alloc_like(&input, image));
    hs_status st = hs_normalize_forward(&input, image, &s->net->norm);
    if (st == HS_OK) st = hs_net_forward(s->net, &input, s->last, 0, s->wanted, acts);
    hs_tensor_free(&input);
    return st;
}

static hs_status content_targets(hs_style *s, const hs_tensor *content)
{
    hs_tensor *acts = calloc(s->net->count, sizeof *acts);
    if (!acts) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = features_of(s, content, acts);
    for (int i = 0; st == HS_OK && i < s->p.layers.content_count; i++) {
        const hs_tensor *f = &acts[s->content_index[i]];
        st = hs_tensor_alloc_like(&s->content_target[i], f);
        if (st == HS_OK) st = hs_tensor_copy(&s->content_target[i], f);
        if (st == HS_OK) st = term_scale(s->p.mode, f, &s->scalar, &s->content_scale[i]);
    }
    hs_net_release(s->net, acts);
    free(acts);
    return st;
}

/* T_l = Σ_k w_k · Gram_l(style_k), weights normalised to sum 1. */
static hs_status style_targets(hs_style *s, const hs_tensor *const *styles, const float *blend,
                               int count)
{
    double total = 0;
    for (int k = 0; k < count; k++) total += blend ? blend[k] : 1.0;
    if (!(total > 0)) return hs_fail(HS_ERR_USAGE, "the style blend weights must sum to more than 0");
    hs_tensor *acts = calloc(s->net->count, sizeof *acts);
    hs_tensor gram = {0};
    if (!acts) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = HS_OK;
    for (int k = 0; st == HS_OK && k < count; k++) {
        float w = (float)((blend ? blend[k] : 1.0) / total);
        st = features_of(s, styles[k], acts);
        for (int i = 0; st == HS_OK && i < s->p.layers.style_count; i++) {
            const hs_tensor *f = &acts[s->style_index[i]];
            hs_tensor *target = &s->style_target[i];
            if (!target->buf) {
                st = hs_tensor_alloc(s->ctx, target, 1, 1, f->c, f->c);
                if (st == HS_OK) st = hs_tensor_fill(target, 0.0f);
            }
            if (st == HS_OK) st = hs_tensor_alloc_like(&gram, target);
            if (st == HS_OK) st = hs_gram_forward(&gram, f, gram_scale(s->p.mode, f));
            if (st == HS_OK) st = hs_axpy(target, w, &gram);
            hs_tensor_free(&gram);
        }
        hs_net_release(s->net, acts);
    }
    for (int i = 0; st == HS_OK && i < s->p.layers.style_count; i++)
        st = term_scale(s->p.mode, &s->style_target[i], &s->scalar, &s->style_scale[i]);
    free(acts);
    return st;
}

hs_status hs_style_create(hs_net *net, const hs_style_params *p, const hs_tensor *content,
                          const hs_tensor *const *styles, const float *blend, int style_count,
                          hs_style **out)
{
    *out = NULL;
    if (style_count < 1 || style_count > HS_STYLE_MAX_IMAGES)
        return hs_fail(HS_ERR_USAGE, "give 1 to %d style images", HS_STYLE_MAX_IMAGES);
    hs_style *s = calloc(1, sizeof *s);
    if (!s) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    s->net = net;
    s->ctx = net->ctx;
    s->p = *p;
    s->rng = p->seed * 2654435761u + 1u;
    s->acts = calloc(net->count, sizeof *s->acts);
    s->grads = calloc(net->count, sizeof *s->grads);
    s->wanted = calloc(net->count, 1);
    hs_status st = s->acts && s->grads && s->wanted ? HS_OK
                                                     : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_tensor_alloc(s->ctx, &s->scalar, 1, 1, 1, 1);
    if (st == HS_OK) st = find_layers(s);
    for (int i = 0; st == HS_OK && i < p->layers.content_count; i++) s->wanted[s->content_index[i]] = 1;
    for (int i = 0; st == HS_OK && i < p->layers.style_count; i++) s->wanted[s->style_index[i]] = 1;
    if (st == HS_OK) st = content_targets(s, content);
    if (st == HS_OK) st = style_targets(s, styles, blend, style_count);
    if (st != HS_OK) {
        hs_style_destroy(s);
        return st;
    }
    *out = s;
    return HS_OK;
}

void hs_style_destroy(hs_style *s)
{
    if (!s) return;
    for (int i = 0; i < HS_STYLE_MAX_LAYERS; i++) {
        hs_tensor_free(&s->content_target[i]);
        hs_tensor_free(&s->style_target[i]);
    }
    hs_tensor_free(&s->scalar);
    free(s->acts);
    free(s->grads);
    free(s->wanted);
    free(s);
}


/* loss += weight * term; with grad, grads[layer] += weight * dterm/dF. */
static hs_status content_term(hs_style *s, int i, int want_grad, double *loss)
{
    const hs_tensor *f = &s->acts[s->content_index[i]];
    float scale = s->content_scale[i], value;
    HS_TRY(hs_mse_loss(&s->scalar, f, &s->content_target[i], scale));
    HS_TRY(hs_read_scalar(&s->scalar, &value));
    *loss += value;
    if (!want_grad) return HS_OK;
    hs_tensor g;
    HS_TRY(hs_tensor_alloc_like(&g, f));
    hs_status st = hs_mse_backward(&g, f, &s->content_target[i], scale * s->p.content_weight);
    if (st == HS_OK) st = hs_tensor_accumulate(&s->grads[s->content_index[i]], &g);
    hs_tensor_free(&g);
    return st;
}

static hs_status style_term(hs_style *s, int i, int want_grad, double *loss)
{
    const hs_tensor *f = &s->acts[s->style_index[i]];
    const hs_tensor *target = &s->style_target[i];
    float gs = gram_scale(s->p.mode, f), scale = s->style_scale[i], value;
    float weight = s->p.layers.style_weight[i];
    hs_tensor gram = {0}, dgram = {0}, df = {0};
    hs_status st = hs_tensor_alloc_like(&gram, target);
    if (st == HS_OK) st = hs_gram_forward(&gram, f, gs);
    if (st == HS_OK) st = hs_mse_loss(&s->scalar, &gram, target, scale);
    if (st == HS_OK) st = hs_read_scalar(&s->scalar, &value);
    if (st == HS_OK) *loss += weight * value;
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
static hs_status evaluate_network(hs_style *s, const hs_tensor *xs, hs_style_losses *losses,
                                  hs_tensor *dxs)
{
    hs_tensor input = {0}, dinput = {0};
    double content = 0, style = 0, lap = hs_seconds();
    hs_style_timing unused = {0}, *t = s->timing ? s->timing : &unused;
    hs_status st = hs_tensor_alloc_like(&input, xs);
    if (st == HS_OK) st = hs_normalize_forward(&input, xs, &s->net->norm);
    if (st == HS_OK) st = hs_net_forward(s->net, &input, s->last, dxs != NULL, s->wanted, s->acts);
    if (st == HS_OK) st = hs_style_lap(s, &t->forward, &lap);
    for (int i = 0; st == HS_OK && i < s->p.layers.content_count; i++)
        st = content_term(s, i, dxs != NULL, &content);
    for (int i = 0; st == HS_OK && i < s->p.layers.style_count; i++)
        st = style_term(s, i, dxs != NULL, &style);
    if (st == HS_OK) st = hs_style_lap(s, &t->loss, &lap);
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
    losses->content = (float)(s->p.content_weight * content);
    losses->style = (float)(s->p.style_weight * style);
    return st;
}

hs_status hs_style_evaluate(hs_style *s, const hs_tensor *x, int dx, int dy,
                            hs_style_losses *losses, hs_tensor *grad)
{
    hs_tensor shifted = {0}, dshifted = {0}, dtv = {0};
    int moved = dx != 0 || dy != 0;
    const hs_tensor *xs = x;
    hs_status st = HS_OK;
    if (moved) {
        st = hs_tensor_alloc_like(&shifted, x);
        if (st == HS_OK) st = hs_translate_reflect(&shifted, x, dx, dy);
        xs = &shifted;
    }
    if (st == HS_OK && grad && moved) st = hs_tensor_alloc_like(&dshifted, x);
    if (st == HS_OK)
        st = evaluate_network(s, xs, losses, grad ? (moved ? &dshifted : grad) : NULL);
    if (st == HS_OK && grad && moved) st = hs_translate_reflect_backward(grad, &dshifted, dx, dy);

    losses->tv = 0;
    if (st == HS_OK && s->p.tv_weight != 0) {
        st = hs_tv_loss(&s->scalar, x, s->p.tv_weight);
        if (st == HS_OK) st = hs_read_scalar(&s->scalar, &losses->tv);
        if (st == HS_OK && grad) st = hs_tensor_alloc_like(&dtv, x);
        if (st == HS_OK && grad) st = hs_tv_backward(&dtv, x, s->p.tv_weight);
        if (st == HS_OK && grad) st = hs_axpy(grad, 1.0f, &dtv);
    }
    losses->total = losses->content + losses->style + losses->tv;
    hs_tensor_free(&shifted);
    hs_tensor_free(&dshifted);
    hs_tensor_free(&dtv);
    return st;
}

size_t hs_style_memory(const hs_net *net, const hs_style_params *p, int h, int w)
{
    int last = 0;
    size_t targets = 0;
    hs_tensor *shapes = calloc(net->count, sizeof *shapes);
    if (!shapes || hs_net_shapes(net, h, w, shapes) != HS_OK) {
        free(shapes);
        return (size_t)-1;
    }
    for (int i = 0; i < p->layers.content_count + p->layers.style_count; i++) {
        int content = i < p->layers.content_count;
        int index = hs_net_find(net, content ? p->layers.content[i]
                                             : p->layers.style[i - p->layers.content_count]);
        if (index > last) last = index;
        size_t c = index > 0 ? (size_t)shapes[index].c : 0;
        targets += (content ? hs_tensor_count(&shapes[index > 0 ? index : 0]) : 3 * c * c) *
                   sizeof(float); /* target, Gram and its gradient */
    }
    free(shapes);
    size_t image = (size_t)3 * h * w * sizeof(float);
    size_t optimizer = p->optimizer == HS_OPT_LBFGS ? (size_t)(2 * p->lbfgs_history + 4) * image
                                                    : 4 * image;
    size_t activations = hs_net_memory(net, h, w, last, 1);
    if (activations == (size_t)-1) return activations;
    /* x, its shifted copy and gradient, the network input and its gradient */
    return activations + targets + optimizer + 5 * image;
}
