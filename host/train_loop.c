/* train_loop.c — the training loop of train_sr.h: batches, steps at the
 * scheduled learning rate, a progress line, validation against bicubic
 * upscaling, checkpoints every N steps, at the end and when stopped. */
#include "train_sr.h"
#include "engine.h"
#include "timer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

float hs_train_lr(const hs_train_recipe *r, int step)
{
    float lr = r->lr;
    for (int i = 0; i < r->milestone_count; i++)
        if (step >= r->milestones[i]) lr *= r->gamma;
    return lr;
}

/* ---- Validation ------------------------------------------------------------------- */

/* The centre crop of img, its side min(size, w, h) rounded down to a multiple of scale. */
static hs_status centre_crop(const hs_image *img, int size, int scale, hs_image *out)
{
    int side = size;
    if (img->width < side) side = img->width;
    if (img->height < side) side = img->height;
    side -= side % scale;
    return hs_image_crop(img, (img->width - side) / 2, (img->height - side) / 2, side, side, out);
}

/* PSNR and SSIM of the net and of bicubic on one image; *sample keeps the
 * net's result when not NULL. */
static hs_status validate_one(hs_trainer *t, const hs_image *img, int size, hs_train_scores *sc,
                              hs_image *sample)
{
    int s = t->net.scale;
    hs_image hr = {0}, lr = {0}, sr = {0}, bicubic = {0};
    hs_status st = centre_crop(img, size, s, &hr);
    if (st == HS_OK) st = hs_image_resize(&hr, hr.width / s, hr.height / s, &lr);
    if (st == HS_OK) st = hs_sr_run_image(&t->net, &lr, &sr);
    if (st == HS_OK) st = hs_image_resize(&lr, hr.width, hr.height, &bicubic);
    if (st == HS_OK) {
        sc->psnr += hs_psnr_y(&sr, &hr, s);
        sc->ssim += hs_ssim_y(&sr, &hr, s);
        sc->bicubic_psnr += hs_psnr_y(&bicubic, &hr, s);
        sc->bicubic_ssim += hs_ssim_y(&bicubic, &hr, s);
        sc->images++;
    }
    if (st == HS_OK && sample) {
        *sample = sr;
        sr = (hs_image){0};
    }
    hs_image_free(&hr);
    hs_image_free(&lr);
    hs_image_free(&sr);
    hs_image_free(&bicubic);
    return st;
}

hs_status hs_train_validate(hs_trainer *t, const hs_train_images *val, int size,
                            hs_train_scores *scores, hs_image *sample)
{
    memset(scores, 0, sizeof *scores);
    if (size < 16 * t->net.scale)
        return hs_fail(HS_ERR_USAGE, "validation crops of %d px are too small for x%d "
                       "(at least %d)", size, t->net.scale, 16 * t->net.scale);
    hs_trainer_swap_ema(t);
    hs_status st = HS_OK;
    for (int i = 0; st == HS_OK && i < val->count; i++) {
        st = validate_one(t, &val->images[i], size, scores, i == 0 ? sample : NULL);
        if (st != HS_OK) st = hs_fail_context(st, "validating on %s", val->paths[i]);
    }
    hs_trainer_swap_ema(t);
    if (st == HS_OK && scores->images) {
        scores->psnr /= scores->images;
        scores->ssim /= scores->images;
        scores->bicubic_psnr /= scores->images;
        scores->bicubic_ssim /= scores->images;
    }
    return st;
}

/* ---- The loop ----------------------------------------------------------------------- */

/* The device must hold a step of this batch; refused with the largest that fits. */
static hs_status check_memory(const hs_trainer *t, const hs_train_recipe *r)
{
    int small = r->patch / t->net.scale;
    size_t available = hs_memory_available(t->ctx) - hs_memory_in_use(t->ctx);
    size_t need = hs_trainer_memory(t, r->batch, small, small);
    if (need <= available) return HS_OK;
    int fits = 0;
    while (fits < r->batch && hs_trainer_memory(t, fits + 1, small, small) <= available) fits++;
    if (fits == 0)
        return hs_fail(HS_ERR_TOO_LARGE, "one %dx%d patch needs %.0f MB of device memory, "
                       "%.0f MB are free: use a smaller --patch", r->patch, r->patch,
                       (double)hs_trainer_memory(t, 1, small, small) / 1e6, (double)available / 1e6);
    return hs_fail(HS_ERR_TOO_LARGE, "a batch of %d patches of %dx%d needs %.0f MB of device "
                   "memory, %.0f MB are free: the largest batch that fits is %d", r->batch,
                   r->patch, r->patch, (double)need / 1e6, (double)available / 1e6, fits);
}

typedef struct loop_state {
    hs_tensor input, target;
    float *host_input, *host_target;
    float recent[100];        /* the last losses */
    int recent_count;
    double started;
    int first_step;
    double step_seconds;      /* spent in steps after the first */
    int timed_steps;
    hs_terminal terminal;     /* when r->progress */
} loop_state;

static float mean_recent(const loop_state *s)
{
    double sum = 0;
    int n = s->recent_count < 100 ? s->recent_count : 100;
    for (int i = 0; i < n; i++) sum += s->recent[i];
    return n ? (float)(sum / n) : NAN;
}

static hs_status save(hs_trainer *t, const hs_train_recipe *r, const loop_state *s,
                      const hs_train_scores *scores)
{
    if (!r->checkpoint) return HS_OK;
    char loss[32], psnr[64], ssim[64];
    snprintf(loss, sizeof loss, "%.6g", mean_recent(s));
    const char *keys[5] = {"train.loss_l1", "train.recipe"};
    const char *values[5] = {loss, r->recipe_text ? r->recipe_text : ""};
    int count = 2;
    if (scores && scores->images) {
        snprintf(psnr, sizeof psnr, "%.4f (bicubic %.4f)", scores->psnr, scores->bicubic_psnr);
        snprintf(ssim, sizeof ssim, "%.5f (bicubic %.5f)", scores->ssim, scores->bicubic_ssim);
        keys[count] = "train.val_psnr_y", values[count++] = psnr;
        keys[count] = "train.val_ssim_y", values[count++] = ssim;
    }
    return hs_trainer_save(t, r->checkpoint, keys, values, count);
}

static hs_status validate(hs_trainer *t, const hs_train_recipe *r, const hs_train_images *val,
                          loop_state *s, hs_train_scores *scores)
{
    hs_image sample = {0};
    int keep = r->sample || (r->events && r->events->count);
    HS_TRY(hs_train_validate(t, val, r->val_size, scores, keep ? &sample : NULL));
    hs_status st = r->sample && sample.pixels ? hs_image_save(r->sample, &sample, NULL) : HS_OK;
    hs_progress_event e = hs_progress_event_of(HS_PHASE_VALIDATE);
    e.step = t->step;
    e.steps = r->steps;
    e.psnr = scores->psnr;
    e.ssim = scores->ssim;
    e.bicubic_psnr = scores->bicubic_psnr;
    e.bicubic_ssim = scores->bicubic_ssim;
    e.elapsed = hs_seconds() - s->started;
    if (r->progress) hs_terminal_event(&s->terminal, &e);
    hs_progress_emit(r->events, &e);
    if (sample.pixels) hs_progress_image(r->events, &sample);
    hs_image_free(&sample);
    if (r->log)
        fprintf(r->log, "step %6d  loss %.5f  val PSNR-Y %.3f dB (bicubic %.3f)  SSIM-Y %.4f "
                "(bicubic %.4f)  %.0f s\n", t->step, mean_recent(s), scores->psnr,
                scores->bicubic_psnr, scores->ssim, scores->bicubic_ssim,
                hs_seconds() - s->started);
    if (r->log) fflush(r->log);
    return st;
}

/* The step just done to the terminal line and the listeners. */
static void report_step(const hs_trainer *t, const hs_train_recipe *r, loop_state *s, float lr)
{
    double spent = hs_seconds() - s->started;
    int done = t->step - s->first_step;
    hs_progress_event e = hs_progress_event_of(r->adapting ? HS_PHASE_ADAPT : HS_PHASE_TRAIN);
    e.step = t->step;
    e.steps = r->steps;
    e.loss = mean_recent(s);
    if (r->gan) {
        e.perceptual = r->gan->loss_perceptual;
        e.generator = r->gan->loss_g;
        e.discriminator = r->gan->loss_d;
    }
    e.learning_rate = lr;
    e.seconds_per_step = done ? spent / done : 0;
    e.elapsed = spent;
    e.eta = e.seconds_per_step * (r->steps - t->step);
    e.fraction = (double)t->step / r->steps;
    if (r->progress) hs_terminal_event(&s->terminal, &e);
    hs_progress_emit(r->events, &e);
}

static hs_status one_step(hs_trainer *t, const hs_train_recipe *r, const hs_train_images *train,
                          loop_state *s, float lr)
{
    float loss, norm;
    HS_TRY(hs_train_batch(train, r->batch, r->patch, t->net.scale, &r->degradation, &t->net.norm,
                          &t->rng, s->host_input, s->host_target));
    HS_TRY(hs_tensor_write(&s->input, s->host_input));
    HS_TRY(hs_tensor_write(&s->target, s->host_target));
    HS_TRY(hs_trainer_step(t, &s->input, &s->target, lr, &loss, &norm));
    if (!isfinite(loss))
        return hs_fail(HS_ERR_NOT_FINITE, "the loss became %g at step %d: lower --lr or set --clip",
                       loss, t->step);
    s->recent[s->recent_count++ % 100] = loss;
    return HS_OK;
}

static hs_status loop(hs_trainer *t, const hs_train_recipe *r, const hs_train_images *train,
                      const hs_train_images *val, loop_state *s)
{
    hs_train_scores scores = {0};
    while (t->step < r->steps) {
        float lr = hs_train_lr(r, t->step);
        double start = hs_seconds();
        HS_TRY(one_step(t, r, train, s, lr));
        if (t->step - 1 > s->first_step) {
            s->step_seconds += hs_seconds() - start;
            s->timed_steps++;
        }
        report_step(t, r, s, lr);
        int last = t->step == r->steps;
        if (val && val->count && (last || (r->val_every && t->step % r->val_every == 0)))
            HS_TRY(validate(t, r, val, s, &scores));
        if (last || (r->save_every && t->step % r->save_every == 0))
            HS_TRY(save(t, r, s, val ? &scores : NULL));
        if (!last && r->stop && r->stop()) {
            hs_terminal_break(&s->terminal);
            HS_TRY(save(t, r, s, NULL));
            return hs_fail(HS_ERR_INTERRUPTED, "interrupted at step %d%s%s", t->step,
                           r->checkpoint ? ": saved " : "", r->checkpoint ? r->checkpoint : "");
        }
    }
    hs_terminal_break(&s->terminal);
    return HS_OK;
}

hs_status hs_train_run(hs_trainer *t, const hs_train_recipe *r, const hs_train_images *train,
                       const hs_train_images *val, hs_train_result *result)
{
    int s = t->net.scale, small = s ? r->patch / s : 0;
    if (!s)
        return hs_fail(HS_ERR_WEIGHTS, "%s: a %s is not a super-resolution network",
                       t->meta.path, t->net.arch);
    if (r->patch % s || small < 1)
        return hs_fail(HS_ERR_USAGE, "--patch %d must be a multiple of the scale (%d)", r->patch, s);
    HS_TRY(check_memory(t, r));
    loop_state state = {.started = hs_seconds(), .first_step = t->step};
    hs_terminal_init(&state.terminal, 0);
    size_t in_count = (size_t)r->batch * 3 * small * small, out_count = in_count * s * s;
    state.host_input = malloc(in_count * sizeof(float));
    state.host_target = malloc(out_count * sizeof(float));
    hs_status st = state.host_input && state.host_target
                       ? hs_tensor_alloc(t->ctx, &state.input, r->batch, 3, small, small)
                       : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    if (st == HS_OK) st = hs_tensor_alloc(t->ctx, &state.target, r->batch, 3, r->patch, r->patch);
    if (st == HS_OK) st = loop(t, r, train, val, &state);
    if (result)
        *result = (hs_train_result){mean_recent(&state),
                                    state.timed_steps ? state.step_seconds / state.timed_steps : 0,
                                    state.timed_steps};
    hs_tensor_free(&state.input);
    hs_tensor_free(&state.target);
    free(state.host_input);
    free(state.host_target);
    return st;
}
