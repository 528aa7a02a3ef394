/* train_gan.c — the losses of ESRGAN beyond L1, added to each generator
 * step through the trainer's extra_loss hook (train_sr.h):
 *   - perceptual: the L1 distance of ResNet50 features of the output and
 *     of the target, taken before the ReLU (the residual sums "resNx.add")
 *     as ESRGAN takes VGG19's; its gradient by backpropagation through the
 *     feature net to the image;
 *   - adversarial: a discriminator (net_disc.c) trained on the device beside
 *     the generator with the relativistic average loss of ESRGAN; the
 *     generator's gradient through the discriminator to the image. None
 *     before step gan_start (an L1 warm-up).
 * The discriminator's logits are few (one per 16×16 region): the loss and
 * its gradient w.r.t. them are worked out on the host (hs_ragan). */
#include "train_sr.h"
#include "engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- The relativistic average loss ------------------------------------------------ */

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

void hs_ragan(const float *real, int n, const float *fake, int m, double *loss_d, double *loss_g,
              float *dd_real, float *dd_fake, float *dg_fake)
{
    double mr = 0, mf = 0;
    for (int i = 0; i < n; i++) mr += real[i];
    for (int j = 0; j < m; j++) mf += fake[j];
    mr /= n;
    mf /= m;
    /* L_D = (mean_i sp(-(r_i - mf)) + mean_j sp(f_j - mr)) / 2
     * L_G = (mean_i sp(r_i - mf) + mean_j sp(-(f_j - mr))) / 2, sp = softplus */
    double ld = 0, lg = 0, sum_d_real = 0, sum_d_fake = 0, sum_g_real = 0;
    for (int i = 0; i < n; i++) {
        double x = real[i] - mf;
        ld += softplus(-x) / n;
        lg += softplus(x) / n;
        sum_d_real += sigmoid(-x); /* d sp(-x)/dx = -sigmoid(-x) */
        sum_g_real += sigmoid(x);
    }
    for (int j = 0; j < m; j++) {
        double y = fake[j] - mr;
        ld += softplus(y) / m;
        lg += softplus(-y) / m;
        sum_d_fake += sigmoid(y);
    }
    *loss_d = ld / 2;
    *loss_g = lg / 2;
    /* each r_i enters its own term and, through mr, every fake term; likewise f_j */
    for (int i = 0; i < n; i++)
        dd_real[i] = (float)(0.5 * (-sigmoid(-(real[i] - mf)) / n - sum_d_fake / m / n));
    for (int j = 0; j < m; j++) {
        dd_fake[j] = (float)(0.5 * (sum_d_real / n / m + sigmoid(fake[j] - mr) / m));
        dg_fake[j] = (float)(0.5 * (-sum_g_real / n / m - sigmoid(-(fake[j] - mr)) / m));
    }
}

/* ---- Setting up ---------------------------------------------------------------------- */

static hs_status find_layers(hs_gan *gan, const char *list)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", list);
    gan->layer_count = 0;
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name;
         name = strtok_r(NULL, ",", &save)) {
        int index = hs_net_find(&gan->features, name);
        if (index < 0)
            return hs_fail(HS_ERR_USAGE, "--perceptual-layers: ResNet50 has no layer '%s' "
                           "(res2c.add, res3d.add, res4f.add, res5c.add: before their ReLU)", name);
        if (gan->layer_count == HS_GAN_MAX_LAYERS)
            return hs_fail(HS_ERR_USAGE, "--perceptual-layers: at most %d", HS_GAN_MAX_LAYERS);
        gan->layers[gan->layer_count++] = index;
        if (index > gan->last_layer) gan->last_layer = index;
    }
    return gan->layer_count ? HS_OK : hs_fail(HS_ERR_USAGE, "--perceptual-layers is empty");
}

static hs_status gan_loss(void *arg, const hs_tensor *out, const hs_tensor *target, hs_tensor *dout);

hs_status hs_gan_create(hs_context *ctx, const hs_gan_config *config, uint64_t seed,
                        hs_trainer *generator, hs_gan *gan)
{
    memset(gan, 0, sizeof *gan);
    gan->config = *config;
    gan->generator = generator;
    hs_status st = HS_OK;
    if (config->perceptual > 0) {
        char path[4096];
        st = hs_find_weights("resnet50.safetensors", path, sizeof path);
        if (st == HS_OK) st = hs_net_load(ctx, path, &gan->features);
        if (st == HS_OK) gan->has_features = 1;
        if (st == HS_OK) st = hs_net_freeze(&gan->features);
        if (st == HS_OK) st = find_layers(gan, config->layers);
    }
    if (st == HS_OK && config->adversarial > 0) {
        hs_weights w;
        st = hs_disc_init_weights(config->disc_features, config->disc_stages, seed ^ 0xd15c, &w);
        hs_train_config adam = {0.9f, 0.99f, 1e-8f, 0.0f, 0.0f};
        if (st == HS_OK) {
            st = hs_trainer_create(ctx, &w, &adam, 0, seed, &gan->disc);
            hs_weights_free(&w);
        }
        if (st == HS_OK) gan->has_disc = 1;
    }
    if (st != HS_OK) {
        hs_gan_free(gan);
        return st;
    }
    generator->extra_loss = gan_loss;
    generator->extra_arg = gan;
    return HS_OK;
}

void hs_gan_free(hs_gan *gan)
{
    if (gan->generator && gan->generator->extra_arg == gan) {
        gan->generator->extra_loss = NULL;
        gan->generator->extra_arg = NULL;
    }
    if (gan->has_features) hs_net_free(&gan->features);
    if (gan->has_disc) hs_trainer_free(&gan->disc);
    memset(gan, 0, sizeof *gan);
}

/* ---- Perceptual ------------------------------------------------------------------------- */

/* image in [0,1] -> the feature net's input */
static hs_status normalized(const hs_net *net, const hs_tensor *image, hs_tensor *out)
{
    HS_TRY(hs_tensor_alloc_like(out, image));
    return hs_normalize_forward(out, image, &net->norm);
}

/* loss = weight * mean over layers of mean |F(x) - F(target)|; d01 += dloss/dx */
static hs_status perceptual(hs_gan *gan, const hs_tensor *x, const hs_tensor *target,
                            hs_tensor *d01)
{
    hs_net *net = &gan->features;
    int last = gan->last_layer;
    unsigned char *wanted = calloc((size_t)net->count, 1);
    hs_tensor *ax = calloc((size_t)net->count, sizeof *ax), *at = calloc((size_t)net->count, sizeof *at);
    hs_tensor *grads = calloc((size_t)net->count, sizeof *grads);
    hs_tensor fx = {0}, ft = {0}, dfx = {0}, dx = {0}, value = {0};
    hs_status st = wanted && ax && at && grads ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (int k = 0; st == HS_OK && k < gan->layer_count; k++) wanted[gan->layers[k]] = 1;
    if (st == HS_OK) st = normalized(net, x, &fx);
    if (st == HS_OK) st = normalized(net, target, &ft);
    if (st == HS_OK) st = hs_net_forward(net, &fx, last, 1, wanted, ax);
    if (st == HS_OK) st = hs_net_forward(net, &ft, last, 0, wanted, at);
    if (st == HS_OK) st = hs_tensor_alloc(net->ctx, &value, 1, 1, 1, 1);
    double total = 0;
    for (int k = 0; st == HS_OK && k < gan->layer_count; k++) {
        int i = gan->layers[k];
        float scale = gan->config.perceptual / ((float)hs_tensor_count(&ax[i]) * gan->layer_count);
        float part = 0;
        st = hs_l1_loss(&value, &ax[i], &at[i], scale);
        if (st == HS_OK) st = hs_read_scalar(&value, &part);
        if (st == HS_OK) st = hs_tensor_alloc_like(&grads[i], &ax[i]);
        if (st == HS_OK) st = hs_l1_backward(&grads[i], &ax[i], &at[i], scale);
        total += part;
    }
    gan->loss_perceptual = (float)total;
    if (st == HS_OK) st = hs_tensor_alloc_like(&dfx, &fx);
    if (st == HS_OK) st = hs_net_backward(net, &fx, ax, grads, last, &dfx);
    if (st == HS_OK) st = hs_tensor_alloc_like(&dx, x);
    if (st == HS_OK) st = hs_normalize_backward(&dx, &dfx, &net->norm);
    if (st == HS_OK) st = hs_axpy(d01, 1.0f, &dx);
    if (ax) hs_net_release(net, ax);
    if (at) hs_net_release(net, at);
    if (grads) hs_net_release(net, grads);
    free(ax);
    free(at);
    free(grads);
    free(wanted);
    hs_tensor_free(&fx);
    hs_tensor_free(&ft);
    hs_tensor_free(&dfx);
    hs_tensor_free(&dx);
    hs_tensor_free(&value);
    return st;
}

/* ---- Adversarial ------------------------------------------------------------------------ */

/* A host array as a tensor shaped like `like`, into grads[last] (allocated). */
static hs_status upload_like(const float *host, const hs_tensor *like, hs_tensor *out)
{
    HS_TRY(hs_tensor_alloc_like(out, like));
    return hs_tensor_write(out, host);
}

/* The generator's adversarial gradient into d01 (with the discriminator as
 * it is), then one step of the discriminator on this real and fake batch. */
static hs_status adversarial(hs_gan *gan, const hs_tensor *fake, const hs_tensor *real,
                             hs_tensor *d01)
{
    hs_trainer *d = &gan->disc;
    hs_net *net = &d->net;
    int last = net->count - 1;
    hs_tensor *af = calloc((size_t)net->count, sizeof *af), *ar = calloc((size_t)net->count, sizeof *ar);
    hs_tensor *grads = calloc((size_t)net->count, sizeof *grads);
    hs_tensor dx = {0};
    float *host = NULL;
    hs_status st = af && ar && grads ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_net_forward(net, fake, last, 1, NULL, af);
    if (st == HS_OK) st = hs_net_forward(net, real, last, 1, NULL, ar);
    size_t n = st == HS_OK ? hs_tensor_count(&af[last]) : 0;
    if (st == HS_OK && !(host = malloc(5 * n * sizeof *host)))
        st = hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    float *lf = host, *lr = host + n, *dd_real = host + 2 * n, *dd_fake = host + 3 * n,
          *dg_fake = host + 4 * n;
    if (st == HS_OK) st = hs_tensor_read(&af[last], lf);
    if (st == HS_OK) st = hs_tensor_read(&ar[last], lr);
    if (st == HS_OK) {
        double ld, lg;
        hs_ragan(lr, (int)n, lf, (int)n, &ld, &lg, dd_real, dd_fake, dg_fake);
        gan->loss_d = (float)ld;
        gan->loss_g = (float)lg;
        for (size_t j = 0; j < n; j++) dg_fake[j] *= gan->config.adversarial;
    }
    /* the generator's gradient through the discriminator */
    if (st == HS_OK) st = upload_like(dg_fake, &af[last], &grads[last]);
    if (st == HS_OK) st = hs_tensor_alloc_like(&dx, fake);
    if (st == HS_OK) st = hs_net_backward(net, fake, af, grads, last, &dx);
    if (st == HS_OK) st = hs_axpy(d01, 1.0f, &dx);
    /* the discriminator's step */
    if (st == HS_OK) st = hs_trainer_zero_grads(d);
    if (st == HS_OK) st = upload_like(dd_fake, &af[last], &grads[last]);
    if (st == HS_OK) st = hs_net_backward_weights(net, fake, af, grads, last, NULL, d->wgrads);
    if (st == HS_OK) st = upload_like(dd_real, &ar[last], &grads[last]);
    if (st == HS_OK) st = hs_net_backward_weights(net, real, ar, grads, last, NULL, d->wgrads);
    float norm;
    if (st == HS_OK) st = hs_trainer_apply(d, gan->config.lr_d, &norm);
    if (af) hs_net_release(net, af);
    if (ar) hs_net_release(net, ar);
    if (grads) hs_net_release(net, grads);
    free(af);
    free(ar);
    free(grads);
    free(host);
    hs_tensor_free(&dx);
    return st;
}

/* ---- The hook ------------------------------------------------------------------------------- */

static hs_status gan_loss(void *arg, const hs_tensor *out, const hs_tensor *target, hs_tensor *dout)
{
    hs_gan *gan = arg;
    float range = gan->generator->net.output_range;
    int adversarial_on = gan->has_disc && gan->generator->step >= gan->config.gan_start;
    gan->loss_perceptual = gan->loss_g = gan->loss_d = 0;
    HS_TRY(hs_scale(dout, dout, gan->config.pixel));
    if (!gan->has_features && !adversarial_on) return HS_OK;
    hs_tensor x = {0}, d01 = {0};
    hs_status st = hs_tensor_alloc_like(&x, out); /* the output in [0,1] */
    if (st == HS_OK) st = hs_scale(&x, out, 1.0f / range);
    if (st == HS_OK) st = hs_tensor_alloc_like(&d01, out);
    if (st == HS_OK) st = hs_tensor_fill(&d01, 0.0f);
    if (st == HS_OK && gan->has_features) st = perceptual(gan, &x, target, &d01);
    if (st == HS_OK && adversarial_on) st = adversarial(gan, &x, target, &d01);
    if (st == HS_OK) st = hs_axpy(dout, 1.0f / range, &d01);
    hs_tensor_free(&x);
    hs_tensor_free(&d01);
    return st;
}
