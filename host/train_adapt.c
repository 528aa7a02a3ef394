/* train_adapt.c — an upscaler fitted to one picture (internal learning,
 * Shocher et al., "Zero-Shot Super-Resolution Using Deep Internal
 * Learning", CVPR 2018): the SR generator is fine-tuned on random crops of
 * the picture itself and their bicubic downsampling, with the training
 * loop of train_loop.c, so that it learns the picture's own strokes
 * rather than the textures of the photographs it was trained on. A strip
 * along the right edge (a fifth of the width) is held out: PSNR on its
 * crops, downsampled and restored, before and after says what adapting did. */
#include "train_sr.h"
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* The picture as two one-image sets: the left part to train on and the
 * right strip held out. */
static hs_status split(const hs_image *picture, int scale, hs_train_images *train,
                       hs_train_images *held_out)
{
    int strip = picture->width / 5;
    strip -= strip % scale;
    hs_train_images *sets[2] = {train, held_out};
    int x[2] = {0, picture->width - strip}, w[2] = {picture->width - strip, strip};
    for (int k = 0; k < 2; k++) {
        hs_train_images *set = sets[k];
        set->images = calloc(1, sizeof *set->images);
        set->paths = calloc(1, sizeof *set->paths);
        if (!set->images || !set->paths) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
        hs_image rgb = {0};
        HS_TRY(hs_image_convert(picture, 3, &rgb));
        hs_status st = hs_image_crop(&rgb, x[k], 0, w[k], picture->height, &set->images[0]);
        hs_image_free(&rgb);
        if (st != HS_OK) return st;
        set->paths[0] = strdup(k ? "the held-out strip" : "the painting");
        set->count = 1;
    }
    return HS_OK;
}

hs_status hs_sr_adapt(hs_context *ctx, const char *model, const hs_image *picture,
                      const hs_adapt_options *o, hs_net *net, hs_adapt_report *report)
{
    memset(report, 0, sizeof *report);
    size_t n = strlen(model);
    if (n > 6 && strcmp(model + n - 6, ".param") == 0)
        return hs_fail(HS_ERR_USAGE, "%s: only safetensors models can be adapted, not ncnn "
                       "models", model);
    hs_weights w;
    HS_TRY(hs_weights_load(model, &w));
    hs_train_config config = {0.9f, 0.99f, 1e-8f, 0.0f, 0.0f}; /* no EMA: the last weights */
    hs_trainer t;
    hs_status st = hs_trainer_create(ctx, &w, &config, 0, o->seed, &t);
    hs_weights_free(&w);
    if (st != HS_OK) return st;
    int s = t.net.scale, patch = o->patch - o->patch % s;
    hs_train_images train = {0}, held_out = {0};
    if (picture->width / 5 < 16 * s || picture->height < 16 * s || picture->width < 2 * patch ||
        picture->height < patch)
        st = hs_fail(HS_ERR_USAGE, "a %dx%d painting is too small to adapt the x%d upscaler on "
                     "(%d px crops)", picture->width, picture->height, s, patch);
    if (st == HS_OK) st = split(picture, s, &train, &held_out);
    hs_train_scores before, after;
    int size = held_out.count ? held_out.images[0].width : 0;
    if (st == HS_OK) st = hs_train_validate(&t, &held_out, size, &before, NULL);
    hs_train_recipe r = {.steps = o->steps, .batch = o->batch, .patch = patch, .lr = o->lr,
                         .gamma = 1.0f, .progress = o->progress, .stop = o->stop,
                         .events = o->events, .adapting = 1};
    hs_train_result result = {0};
    if (st == HS_OK) st = hs_train_run(&t, &r, &train, NULL, &result);
    if (st == HS_OK) st = hs_train_validate(&t, &held_out, size, &after, NULL);
    if (st == HS_OK) {
        *report = (hs_adapt_report){before.psnr, after.psnr, before.bicubic_psnr,
                                    result.step_seconds, t.step};
        hs_trainer_take_net(&t, net);
    }
    hs_trainer_free(&t);
    hs_train_images_free(&train);
    hs_train_images_free(&held_out);
    return st;
}
