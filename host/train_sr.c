/* train_sr.c — the trainer of train_sr.h: the generator's weight tensors
 * and their training state, one optimisation step (L1 loss, backward w.r.t.
 * the weights, global-norm clipping, Adam, EMA), checkpoints and resuming. */
#include "train_sr.h"
#include "engine.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Random numbers ------------------------------------------------------------ */

uint64_t hs_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int hs_rng_below(uint64_t *state, int n) { return (int)(hs_rng_next(state) % (uint64_t)n); }

double hs_rng_uniform(uint64_t *state) { return (double)(hs_rng_next(state) >> 11) * 0x1p-53; }

double hs_rng_normal(uint64_t *state)
{
    double u = 1.0 - hs_rng_uniform(state), v = hs_rng_uniform(state);
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/* ---- The weight tensors --------------------------------------------------------- */

/* One entry per weight tensor of the net, named as the layer's row loads
 * it (layers.c): conv and deconv "<tensor>.weight" and "<tensor>.bias",
 * PReLU "<tensor>" (one slope per channel). */
static hs_status list_params(hs_trainer *t)
{
    hs_net *net = &t->net;
    t->params = calloc((size_t)net->count * 2, sizeof *t->params);
    if (!t->params) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (int i = 0; i < net->count; i++) {
        hs_layer *l = &net->layers[i];
        if (!l->weight.buf) continue;
        hs_train_param *p = &t->params[t->param_count++];
        if (l->kind == HS_LAYER_PRELU) {
            snprintf(p->name, sizeof p->name, "%s", l->tensor);
            p->ndim = 1;
            p->shape[0] = l->weight.c;
        } else if (l->kind == HS_LAYER_CONV || l->kind == HS_LAYER_DECONV) {
            snprintf(p->name, sizeof p->name, "%s.weight", l->tensor);
            p->ndim = 4;
            const hs_tensor *w = &l->weight;
            p->shape[0] = w->n, p->shape[1] = w->c, p->shape[2] = w->h, p->shape[3] = w->w;
        } else {
            return hs_fail(HS_ERR_WEIGHTS, "%s: layer '%s' has weights of a kind training "
                           "does not know how to save", net->arch, l->name);
        }
        p->value = &l->weight;
        p->grad = &t->wgrads[i].weight;
        if (l->bias.buf) {
            hs_train_param *b = &t->params[t->param_count++];
            snprintf(b->name, sizeof b->name, "%s.bias", l->tensor);
            b->ndim = 1;
            b->shape[0] = l->bias.c;
            b->value = &l->bias;
            b->grad = &t->wgrads[i].bias;
        }
    }
    return HS_OK;
}

/* The tensor name of a parameter's training state: "train.<what>.<name>". */
static void state_name(char *out, size_t size, const char *what, const hs_train_param *p)
{
    snprintf(out, size, "train.%s.%s", what, p->name);
}

/* Upload checkpoint tensor train.<what>.<name> into dst. */
static hs_status load_state(const hs_weights *w, const char *what, const hs_train_param *p,
                            hs_tensor *dst)
{
    char name[sizeof p->name + 32];
    const hs_weight *found;
    state_name(name, sizeof name, what, p);
    HS_TRY(hs_weights_expect(w, "checkpoint", name, p->ndim, p->shape, &found));
    return hs_tensor_write(dst, found->data);
}

static hs_status meta_u64(const hs_weights *w, const char *key, uint64_t *out)
{
    const char *text = hs_weights_meta(w, key);
    char *end;
    if (!text || !*text) return hs_fail(HS_ERR_WEIGHTS, "%s: no '%s' in the metadata: not a "
                                        "train-sr checkpoint", w->path, key);
    *out = strtoull(text, &end, 10);
    if (*end) return hs_fail(HS_ERR_WEIGHTS, "%s: metadata '%s' is not a number", w->path, key);
    return HS_OK;
}

/* Keep the source's metadata, less any earlier training's. */
static hs_status copy_meta(const hs_weights *w, hs_weights *meta)
{
    HS_TRY(hs_weights_set_meta(meta, "format", "hirestyle"));
    for (int i = 0; i < w->meta_count; i++)
        if (strncmp(w->meta_keys[i], "train.", 6) != 0)
            HS_TRY(hs_weights_set_meta(meta, w->meta_keys[i], w->meta_values[i]));
    return HS_OK;
}

static hs_status create_state(hs_trainer *t, const hs_weights *w, int resume)
{
    if (resume) {
        uint64_t step = 0;
        HS_TRY(meta_u64(w, "train.step", &step));
        HS_TRY(meta_u64(w, "train.rng", &t->rng));
        if (step > INT32_MAX) return hs_fail(HS_ERR_WEIGHTS, "%s: train.step is too large", w->path);
        t->step = (int)step;
    }
    HS_TRY(hs_net_weight_grads_alloc(&t->net, &t->wgrads));
    HS_TRY(list_params(t));
    for (int i = 0; i < t->param_count; i++) {
        hs_train_param *p = &t->params[i];
        HS_TRY(hs_tensor_alloc_like(&p->m, p->value));
        HS_TRY(hs_tensor_alloc_like(&p->v, p->value));
        HS_TRY(hs_tensor_alloc_like(&p->ema, p->value));
        HS_TRY(hs_tensor_copy(&p->ema, p->value)); /* the file's weights: a checkpoint's EMA */
        if (resume) {
            HS_TRY(load_state(w, "param", p, p->value));
            HS_TRY(load_state(w, "adam_m", p, &p->m));
            HS_TRY(load_state(w, "adam_v", p, &p->v));
        } else {
            HS_TRY(hs_tensor_fill(&p->m, 0.0f));
            HS_TRY(hs_tensor_fill(&p->v, 0.0f));
        }
    }
    return HS_OK;
}

hs_status hs_trainer_create(hs_context *ctx, const hs_weights *w, const hs_train_config *config,
                            int resume, uint64_t seed, hs_trainer *out)
{
    memset(out, 0, sizeof *out);
    out->ctx = ctx;
    out->config = *config;
    out->rng = seed;
    out->meta.path = strdup(w->path ? w->path : "checkpoint");
    hs_status st = out->meta.path ? hs_net_build(ctx, w, &out->net)
                                  : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = copy_meta(w, &out->meta);
    if (st == HS_OK) st = create_state(out, w, resume);
    if (st != HS_OK) hs_trainer_free(out);
    return st;
}

/* Everything but the net: moments, EMA, gradients (with the net's own
 * weights swapped back in). */
static void free_state(hs_trainer *t)
{
    if (t->ema_swapped) hs_trainer_swap_ema(t);
    for (int i = 0; i < t->param_count; i++) {
        hs_tensor_free(&t->params[i].m);
        hs_tensor_free(&t->params[i].v);
        hs_tensor_free(&t->params[i].ema);
    }
    free(t->params);
    t->params = NULL;
    t->param_count = 0;
    if (t->wgrads) hs_net_weight_grads_free(&t->net, t->wgrads);
    t->wgrads = NULL;
}

void hs_trainer_free(hs_trainer *t)
{
    free_state(t);
    hs_net_free(&t->net);
    hs_weights_free(&t->meta);
    memset(t, 0, sizeof *t);
}

void hs_trainer_take_net(hs_trainer *t, hs_net *net)
{
    free_state(t);
    *net = t->net;
    memset(&t->net, 0, sizeof t->net);
}

/* Bytes of every layer's output for one h×w patch, plus three gradients of
 * the largest (hs_net_memory's estimate of a backward pass, without its
 * scratch): what grows with the batch. */
static size_t activation_bytes(const hs_net *net, int h, int w)
{
    hs_tensor *shapes = calloc((size_t)net->count, sizeof *shapes);
    size_t total = SIZE_MAX;
    if (shapes && hs_net_shapes(net, h, w, shapes) == HS_OK) {
        size_t biggest = 0;
        total = 0;
        for (int i = 1; i < net->count; i++) {
            size_t bytes = hs_tensor_count(&shapes[i]) * sizeof(float);
            total += bytes;
            if (bytes > biggest) biggest = bytes;
        }
        total += 3 * biggest;
    }
    free(shapes);
    return total;
}

size_t hs_trainer_memory(const hs_trainer *t, int batch, int h, int w)
{
    size_t whole = hs_net_memory(&t->net, h, w, t->net.count - 1, 1);
    size_t per_patch = activation_bytes(&t->net, h, w);
    if (whole == SIZE_MAX || per_patch == SIZE_MAX || (size_t)batch > SIZE_MAX / 4 / per_patch)
        return SIZE_MAX;
    size_t scratch = whole > per_patch ? whole - per_patch : 0; /* conv scratch, GEMM packing */
    size_t weights = 0;
    for (int i = 0; i < t->param_count; i++)
        weights += hs_tensor_count(t->params[i].value) * sizeof(float);
    /* the batch's activations and gradients, the shared scratch, and the
     * weights, their gradient, two moments and EMA */
    return (size_t)batch * per_patch + scratch + 5 * weights;
}

/* ---- One step -------------------------------------------------------------------- */

/* The L1 loss of the net's output against target, its gradient into
 * grads[last] (allocated here). */
static hs_status pixel_loss(hs_trainer *t, const hs_tensor *out, const hs_tensor *target,
                            hs_tensor *dout, float *loss)
{
    hs_tensor scaled = {0}, value = {0};
    float range = t->net.output_range;
    /* loss = mean |out / range - target| = scale * sum |out - range * target| */
    float scale = 1.0f / ((float)hs_tensor_count(out) * range);
    hs_status st = hs_tensor_alloc_like(&scaled, target);
    if (st == HS_OK) st = hs_scale(&scaled, target, range);
    if (st == HS_OK) st = hs_tensor_alloc(t->ctx, &value, 1, 1, 1, 1);
    if (st == HS_OK) st = hs_l1_loss(&value, out, &scaled, scale);
    if (st == HS_OK) st = hs_tensor_alloc_like(dout, out);
    if (st == HS_OK) st = hs_l1_backward(dout, out, &scaled, scale);
    if (st == HS_OK) st = hs_read_scalar(&value, loss);
    hs_tensor_free(&scaled);
    hs_tensor_free(&value);
    return st;
}

/* The global L2 norm of all gradients; scaled down to `clip` when above. */
static hs_status clip_gradients(hs_trainer *t, float *norm)
{
    hs_tensor dot = {0};
    HS_TRY(hs_tensor_alloc(t->ctx, &dot, 1, 1, 1, 1));
    double sum = 0.0;
    hs_status st = HS_OK;
    for (int i = 0; st == HS_OK && i < t->param_count; i++) {
        float part = 0.0f;
        st = hs_dot(&dot, t->params[i].grad, t->params[i].grad);
        if (st == HS_OK) st = hs_read_scalar(&dot, &part);
        sum += part;
    }
    hs_tensor_free(&dot);
    *norm = (float)sqrt(sum);
    if (st != HS_OK || t->config.clip <= 0 || !(*norm > t->config.clip)) return st;
    float factor = t->config.clip / *norm;
    for (int i = 0; st == HS_OK && i < t->param_count; i++)
        st = hs_scale(t->params[i].grad, t->params[i].grad, factor);
    return st;
}

hs_status hs_trainer_zero_grads(hs_trainer *t)
{
    for (int i = 0; i < t->param_count; i++) HS_TRY(hs_tensor_fill(t->params[i].grad, 0.0f));
    return HS_OK;
}

hs_status hs_trainer_apply(hs_trainer *t, float lr, float *grad_norm)
{
    HS_TRY(clip_gradients(t, grad_norm));
    hs_adam_params adam = {lr, t->config.beta1, t->config.beta2, t->config.eps, t->step + 1};
    /* the EMA's decay warms up, (1 + t) / (10 + t) until it reaches the
     * configured one, so a short run's average is not its initial weights */
    float decay = fminf(t->config.ema_decay, (1.0f + t->step) / (10.0f + t->step));
    for (int i = 0; i < t->param_count; i++) {
        hs_train_param *p = &t->params[i];
        HS_TRY(hs_adam_step(p->value, p->grad, &p->m, &p->v, adam));
        HS_TRY(hs_axpby(&p->ema, decay, &p->ema, 1.0f - decay, p->value));
    }
    t->step++;
    return HS_OK;
}

hs_status hs_trainer_step(hs_trainer *t, const hs_tensor *input, const hs_tensor *target, float lr,
                          float *loss, float *grad_norm)
{
    if (t->ema_swapped) return hs_fail(HS_ERR_INTERNAL, "training step on the EMA weights");
    hs_net *net = &t->net;
    int last = net->count - 1;
    hs_tensor *acts = calloc((size_t)net->count, sizeof *acts);
    hs_tensor *grads = calloc((size_t)net->count, sizeof *grads);
    hs_status st = acts && grads ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_net_forward(net, input, last, 1, NULL, acts);
    if (st == HS_OK && (acts[last].h != target->h || acts[last].w != target->w))
        st = hs_fail(HS_ERR_INTERNAL, "the net gives %dx%d for targets of %dx%d", acts[last].w,
                     acts[last].h, target->w, target->h);
    if (st == HS_OK) st = pixel_loss(t, &acts[last], target, &grads[last], loss);
    if (st == HS_OK && t->extra_loss)
        st = t->extra_loss(t->extra_arg, &acts[last], target, &grads[last]);
    if (st == HS_OK) st = hs_trainer_zero_grads(t);
    if (st == HS_OK) st = hs_net_backward_weights(net, input, acts, grads, last, NULL, t->wgrads);
    if (acts) hs_net_release(net, acts);
    if (grads) hs_net_release(net, grads);
    free(acts);
    free(grads);
    return st == HS_OK ? hs_trainer_apply(t, lr, grad_norm) : st;
}

void hs_trainer_swap_ema(hs_trainer *t)
{
    for (int i = 0; i < t->param_count; i++) {
        hs_tensor held = *t->params[i].value;
        *t->params[i].value = t->params[i].ema;
        t->params[i].ema = held;
    }
    t->ema_swapped = !t->ema_swapped;
}

/* ---- Checkpoints ------------------------------------------------------------------ */

/* Read tensor src and add it to w as `name`. */
static hs_status add_tensor(hs_weights *w, const char *name, const hs_train_param *p,
                            const hs_tensor *src, float *host)
{
    HS_TRY(hs_tensor_read(src, host));
    return hs_weights_add(w, name, p->ndim, p->shape, host);
}

static hs_status fill_checkpoint(hs_trainer *t, hs_weights *w, const char *const *keys,
                                 const char *const *values, int count)
{
    for (int i = 0; i < t->meta.meta_count; i++)
        HS_TRY(hs_weights_set_meta(w, t->meta.meta_keys[i], t->meta.meta_values[i]));
    char text[32];
    snprintf(text, sizeof text, "%d", t->step);
    HS_TRY(hs_weights_set_meta(w, "train.step", text));
    snprintf(text, sizeof text, "%" PRIu64, t->rng);
    HS_TRY(hs_weights_set_meta(w, "train.rng", text));
    for (int i = 0; i < count; i++) HS_TRY(hs_weights_set_meta(w, keys[i], values[i]));

    size_t largest = 1;
    for (int i = 0; i < t->param_count; i++)
        if (hs_tensor_count(t->params[i].value) > largest)
            largest = hs_tensor_count(t->params[i].value);
    float *host = malloc(largest * sizeof *host);
    if (!host) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = HS_OK;
    for (int i = 0; st == HS_OK && i < t->param_count; i++) /* the model: the EMA */
        st = add_tensor(w, t->params[i].name, &t->params[i], &t->params[i].ema, host);
    static const char *const what[] = {"param", "adam_m", "adam_v"};
    for (int k = 0; k < 3; k++)
        for (int i = 0; st == HS_OK && i < t->param_count; i++) {
            hs_train_param *p = &t->params[i];
            const hs_tensor *src = k == 0 ? p->value : k == 1 ? &p->m : &p->v;
            char name[sizeof p->name + 32];
            state_name(name, sizeof name, what[k], p);
            st = add_tensor(w, name, p, src, host);
        }
    free(host);
    return st;
}

hs_status hs_trainer_save(hs_trainer *t, const char *path, const char *const *meta_keys,
                          const char *const *meta_values, int count)
{
    if (t->ema_swapped) return hs_fail(HS_ERR_INTERNAL, "saving with the EMA swapped in");
    hs_weights w = {0};
    w.path = strdup(path);
    hs_status st = w.path ? fill_checkpoint(t, &w, meta_keys, meta_values, count)
                          : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_weights_save(path, &w);
    hs_weights_free(&w);
    return st;
}

/* ---- Running the net on an image ---------------------------------------------------- */

hs_status hs_sr_run_image(hs_net *net, const hs_image *in, hs_image *out)
{
    int w = in->width, h = in->height, s = net->scale;
    float *planes = malloc((size_t)w * h * 3 * s * s * sizeof *planes);
    if (!planes) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_rgb8_to_planes(in->pixels, w, h, &net->norm, planes);
    hs_tensor input = {0};
    hs_tensor *acts = calloc((size_t)net->count, sizeof *acts);
    int last = net->count - 1;
    hs_status st = acts ? hs_tensor_alloc(net->ctx, &input, 1, 3, h, w)
                        : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_tensor_write(&input, planes);
    if (st == HS_OK) st = hs_net_forward(net, &input, last, 0, NULL, acts);
    if (st == HS_OK) st = hs_tensor_read(&acts[last], planes);
    if (st == HS_OK) st = hs_image_alloc(out, w * s, h * s, 3, 8);
    if (st == HS_OK) {
        size_t plane = (size_t)w * s * h * s;
        for (size_t i = 0; i < plane; i++)
            for (int c = 0; c < 3; c++) {
                float v = planes[c * plane + i] / net->output_range * 255.0f;
                v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
                out->pixels[i * 3 + c] = (uint8_t)lrintf(v);
            }
    }
    if (acts) hs_net_release(net, acts);
    free(acts);
    hs_tensor_free(&input);
    free(planes);
    return st;
}
