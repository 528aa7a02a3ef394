/* test_train.c — super-resolution training (host/train_sr.h):
 *   - safetensors files written by weights_write.c read back exactly;
 *   - three training steps (L1 loss, clipping, Adam, EMA) of a tiny srresnet
 *     and a tiny srvgg against tools/train_sr_torch.py (PyTorch autograd and
 *     torch.optim.Adam) on the same weights and batch;
 *   - a run stopped, saved and resumed gives bit-identical weights, moments
 *     and random state to one run straight through;
 *   - the relativistic average GAN loss's gradients against finite differences;
 *   - fitting a model to one picture raises its held-out PSNR;
 *   - PSNR and SSIM on Y against tools/reference/sr_metrics.py (numpy).
 */
#include "harness.h"
#include "reference.h"
#include "image_io.h"
#include "train_sr.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PYTHON "/usr/bin/python3"

/* ---- Writing safetensors ------------------------------------------------------------ */

START_TEST(test_weights_round_trip)
{
    hs_weights w = {0};
    float a[6] = {1, -2.5f, 3e-7f, 4, 5, 6}, b[1] = {-0.0f}, c[2 * 3 * 1 * 2];
    for (int i = 0; i < 12; i++) c[i] = (float)i / 7.0f;
    HS_CHECK(hs_weights_add(&w, "a", 2, (int64_t[]){2, 3}, a));
    HS_CHECK(hs_weights_add(&w, "b.\"quoted\"", 1, (int64_t[]){1}, b));
    HS_CHECK(hs_weights_add(&w, "c", 4, (int64_t[]){2, 3, 1, 2}, c));
    HS_CHECK(hs_weights_set_meta(&w, "architecture", "srresnet"));
    HS_CHECK(hs_weights_set_meta(&w, "note", "a \"quote\", a\nnewline"));
    HS_CHECK(hs_weights_set_meta(&w, "architecture", "srvgg")); /* replaced */
    const char *path = scratch_path("round.safetensors");
    HS_CHECK(hs_weights_save(path, &w));

    hs_weights r;
    HS_CHECK(hs_weights_load(path, &r));
    ck_assert_int_eq(r.count, 3);
    ck_assert_int_eq(r.meta_count, 2);
    ck_assert_str_eq(hs_weights_meta(&r, "architecture"), "srvgg");
    ck_assert_str_eq(hs_weights_meta(&r, "note"), "a \"quote\", a\nnewline");
    for (int i = 0; i < w.count; i++) {
        const hs_weight *got = hs_weights_find(&r, w.tensors[i].name);
        ck_assert_ptr_nonnull(got);
        ck_assert_int_eq(got->ndim, w.tensors[i].ndim);
        for (int d = 0; d < got->ndim; d++) ck_assert_int_eq(got->shape[d], w.tensors[i].shape[d]);
        ck_assert_mem_eq(got->data, w.tensors[i].data, got->count * sizeof(float));
    }
    hs_weights_free(&r);
    /* a missing folder: an error, no file */
    ck_assert_int_eq(hs_weights_save(scratch_path("none/x.safetensors"), &w), HS_ERR_IO);
    hs_weights_free(&w);
}
END_TEST

/* ---- Training steps against PyTorch ----------------------------------------------------- */


/* Three steps on one batch, here and in PyTorch; every weight and EMA tensor
 * within 1e-4 of PyTorch's (relative to the tensor's largest value). */
static void check_steps_against_torch(const hs_sr_shape *shape, float clip, int n, int h, int w)
{
    test_setup();
    const int steps = 3;
    const float lr = 1e-3f, ema = 0.9f;
    hs_weights init;
    HS_CHECK(hs_sr_init_weights(shape, 7, &init));
    char model[4096];
    snprintf(model, sizeof model, "%s", scratch_path("model.safetensors"));
    HS_CHECK(hs_weights_save(model, &init));

    hs_train_config config = {0.9f, 0.99f, 1e-8f, clip, ema};
    hs_trainer t;
    HS_CHECK(hs_trainer_create(test_ctx, &init, &config, 0, 1, &t));
    hs_weights_free(&init);
    int s = shape->scale;
    size_t in_count = (size_t)n * 3 * h * w, out_count = in_count * s * s;
    float *x = host_floats(in_count), *target = host_floats(out_count);
    fill_random(x, in_count, 3, 0, 1);
    fill_random(target, out_count, 4, 0, 1);
    hs_tensor tx = upload(x, n, 3, h, w), tt = upload(target, n, 3, h * s, w * s);
    float losses[3], norm;
    for (int i = 0; i < steps; i++) HS_CHECK(hs_trainer_step(&t, &tx, &tt, lr, &losses[i], &norm));

    char in_path[4096], target_path[4096], out_dir[4096];
    snprintf(in_path, sizeof in_path, "%s", scratch_path("x.f32"));
    snprintf(target_path, sizeof target_path, "%s", scratch_path("t.f32"));
    snprintf(out_dir, sizeof out_dir, "%s", scratch_path("torch"));
    write_floats(in_path, x, in_count);
    write_floats(target_path, target, out_count);
    run_command("%s '%s/tools/train_sr_torch.py' step '%s' '%s' '%s' %d %d %d %d %g %g %g '%s'",
                PYTHON, source_root(), model, in_path, target_path, n, h, w, steps, lr, clip, ema,
                out_dir);

    char path[4096 + 128];
    snprintf(path, sizeof path, "%s/loss.f32", out_dir);
    float *want_loss = read_floats(path, steps);
    double want_l[3] = {want_loss[0], want_loss[1], want_loss[2]};
    assert_close("losses", losses, want_l, 3, 1e-5);
    double worst = 0;
    for (int i = 0; i < t.param_count; i++) {
        hs_train_param *p = &t.params[i];
        size_t count = hs_tensor_count(p->value);
        for (int which = 0; which < 2; which++) {
            snprintf(path, sizeof path, "%s/%s%s.f32", out_dir, which ? "ema." : "", p->name);
            float *want = read_floats(path, count), *got = download(which ? &p->ema : p->value);
            double *want_d = to_doubles(want, count);
            double err = max_rel_error(got, want_d, count);
            if (err > worst) worst = err;
            char what[160];
            snprintf(what, sizeof what, "%s %s after %d steps", which ? "EMA" : "weights", p->name,
                     steps);
            assert_close(what, got, want_d, count, 1e-4);
            free(want);
            free(got);
            free(want_d);
        }
    }
    printf("%s: %d tensors and their EMA within %.2e of PyTorch after %d steps (losses %.5f %.5f "
           "%.5f)\n", shape->arch, t.param_count, worst, steps, losses[0], losses[1], losses[2]);
    free(want_loss);
    free(x);
    free(target);
    hs_tensor_free(&tx);
    hs_tensor_free(&tt);
    hs_trainer_free(&t);
}

/* Our GEMM kernel's backward products of srresnet's 9x9 convs are 0.2-2% off
 * (tests/test_upscale.c, test_srresnet_weight_gradients_match_torch): this
 * test, like that one, runs on CLBlast. */
START_TEST(test_srresnet_steps_match_torch)
{
    setenv("HIRESTYLE_GEMM", "clblast", 1);
    check_steps_against_torch(&(hs_sr_shape){"srresnet", 1, 8, 2, 0}, 0.0f, 2, 7, 6);
    unsetenv("HIRESTYLE_GEMM");
}
END_TEST

/* The from-scratch default: a linear output over the input's bicubic enlargement. */
START_TEST(test_srresnet_bicubic_skip_steps_match_torch)
{
    setenv("HIRESTYLE_GEMM", "clblast", 1);
    check_steps_against_torch(&(hs_sr_shape){"srresnet", 1, 8, 4, 1}, 0.0f, 2, 5, 7);
    unsetenv("HIRESTYLE_GEMM");
}
END_TEST

/* clip 1e-3: far below the gradients' norm, so every step is clipped. */
START_TEST(test_srvgg_clipped_steps_match_torch)
{
    check_steps_against_torch(&(hs_sr_shape){"srvgg", 2, 8, 2, 0}, 1e-3f, 2, 6, 7);
}
END_TEST

/* ---- Resuming ---------------------------------------------------------------------------- */

/* Two smooth random RGB images of 40x36 and 52x40. */
static void tiny_images(hs_train_images *set)
{
    set->count = 2;
    set->images = calloc(2, sizeof *set->images);
    set->paths = calloc(2, sizeof *set->paths);
    ck_assert(set->images && set->paths);
    for (int k = 0; k < 2; k++) {
        hs_image *img = &set->images[k];
        HS_CHECK(hs_image_alloc(img, 40 + 12 * k, 36 + 4 * k, 3, 8));
        for (int y = 0; y < img->height; y++)
            for (int x = 0; x < img->width; x++)
                for (int c = 0; c < 3; c++)
                    img->pixels[((size_t)y * img->width + x) * 3 + c] =
                        (uint8_t)(127.5 + 120 * sin(0.3 * x * (c + 1) + 0.2 * y + k));
        set->paths[k] = strdup("tiny");
    }
}

static hs_trainer new_trainer(const hs_weights *w, int resume)
{
    hs_train_config config = {0.9f, 0.99f, 1e-8f, 0.5f, 0.99f};
    hs_trainer t;
    HS_CHECK(hs_trainer_create(test_ctx, w, &config, resume, 11, &t));
    return t;
}

static void assert_same_tensor(const char *what, const char *name, const hs_tensor *a,
                               const hs_tensor *b)
{
    float *x = download(a), *y = download(b);
    if (memcmp(x, y, hs_tensor_count(a) * sizeof(float)) != 0)
        ck_abort_msg("%s of %s differ between the resumed and the straight run", what, name);
    free(x);
    free(y);
}

START_TEST(test_resume_is_exact)
{
    test_setup();
    hs_train_images data = {0};
    tiny_images(&data);
    hs_weights init;
    HS_CHECK(hs_sr_init_weights(&(hs_sr_shape){"srresnet", 1, 8, 2, 0}, 3, &init));
    hs_train_recipe r = {.steps = 5, .batch = 2, .patch = 16, .lr = 1e-3f, .gamma = 0.5f,
                         .milestones = {3}, .milestone_count = 1,
                         .degradation = {1.0f, 5.0f, 70}};
    hs_trainer straight = new_trainer(&init, 0);
    HS_CHECK(hs_train_run(&straight, &r, &data, NULL, NULL));

    char checkpoint[4096];
    snprintf(checkpoint, sizeof checkpoint, "%s", scratch_path("resume.safetensors"));
    hs_trainer first = new_trainer(&init, 0);
    hs_train_recipe part = r;
    part.steps = 2;
    part.checkpoint = checkpoint;
    HS_CHECK(hs_train_run(&first, &part, &data, NULL, NULL));
    hs_trainer_free(&first);
    hs_weights saved;
    HS_CHECK(hs_weights_load(checkpoint, &saved));
    ck_assert_str_eq(hs_weights_meta(&saved, "train.step"), "2");
    hs_trainer resumed = new_trainer(&saved, 1);
    hs_weights_free(&saved);
    ck_assert_int_eq(resumed.step, 2);
    HS_CHECK(hs_train_run(&resumed, &r, &data, NULL, NULL));

    ck_assert_int_eq(resumed.step, 5);
    ck_assert(resumed.rng == straight.rng);
    ck_assert_int_eq(resumed.param_count, straight.param_count);
    for (int i = 0; i < straight.param_count; i++) {
        const hs_train_param *a = &straight.params[i], *b = &resumed.params[i];
        assert_same_tensor("the weights", a->name, a->value, b->value);
        assert_same_tensor("the EMA", a->name, &a->ema, &b->ema);
        assert_same_tensor("Adam's m", a->name, &a->m, &b->m);
        assert_same_tensor("Adam's v", a->name, &a->v, &b->v);
    }
    hs_trainer_free(&straight);
    hs_trainer_free(&resumed);
    hs_weights_free(&init);
    hs_train_images_free(&data);
}
END_TEST

/* ---- The relativistic average GAN loss --------------------------------------------------- */

/* hs_ragan's gradients against central differences of its own losses. */
START_TEST(test_ragan_gradients)
{
    enum { N = 7, M = 5 };
    float real[N], fake[M], dd_real[N], dd_fake[M], dg_fake[M], scratch[N + 2 * M];
    fill_random(real, N, 21, -3, 3);
    fill_random(fake, M, 22, -3, 3);
    double ld, lg;
    hs_ragan(real, N, fake, M, &ld, &lg, dd_real, dd_fake, dg_fake);
    ck_assert(ld > 0 && lg > 0);
    const float h = 1e-2f;
    for (int k = 0; k < N + M; k++) {
        float *x = k < N ? &real[k] : &fake[k - N], keep = *x;
        double ld_plus, lg_plus, ld_minus, lg_minus;
        *x = keep + h;
        hs_ragan(real, N, fake, M, &ld_plus, &lg_plus, scratch, scratch + N, scratch + N + M);
        *x = keep - h;
        hs_ragan(real, N, fake, M, &ld_minus, &lg_minus, scratch, scratch + N, scratch + N + M);
        *x = keep;
        double fd_d = (ld_plus - ld_minus) / (2 * h), fd_g = (lg_plus - lg_minus) / (2 * h);
        double got_d = k < N ? dd_real[k] : dd_fake[k - N];
        ck_assert_msg(fabs(got_d - fd_d) < 1e-4, "dL_D/d%s[%d] %g, differences %g",
                      k < N ? "real" : "fake", k < N ? k : k - N, got_d, fd_d);
        if (k >= N)
            ck_assert_msg(fabs(dg_fake[k - N] - fd_g) < 1e-4, "dL_G/dfake[%d] %g, differences %g",
                          k - N, dg_fake[k - N], fd_g);
    }
}
END_TEST

/* ---- Fitting to one picture -------------------------------------------------------------- */

/* Adapting's step events: phase "adapt", steps 1..40 in order, a loss, and
 * the time left reaching 0. */
typedef struct adapt_events { int count, in_order; double last_eta; } adapt_events;
static void hear_adapt(void *user, const hs_progress_event *e)
{
    adapt_events *a = user;
    a->count++;
    a->in_order = a->in_order && e->phase == HS_PHASE_ADAPT && e->step == a->count &&
                  e->steps == 40 && isfinite(e->loss) && e->eta >= 0;
    a->last_eta = e->eta;
}

/* A tiny srresnet from scratch adapted to a striped picture: the held-out
 * strip, downsampled and restored, gets closer to the original; every step
 * is told to the listeners. */
START_TEST(test_adapt_improves_held_out_psnr)
{
    test_setup();
    hs_weights init;
    HS_CHECK(hs_sr_init_weights(&(hs_sr_shape){"srresnet", 1, 8, 2, 0}, 5, &init));
    char model[4096];
    snprintf(model, sizeof model, "%s", scratch_path("adapt.safetensors"));
    HS_CHECK(hs_weights_save(model, &init));
    hs_weights_free(&init);
    hs_image picture;
    HS_CHECK(hs_image_alloc(&picture, 200, 72, 3, 8));
    for (int y = 0; y < 72; y++)
        for (int x = 0; x < 200; x++)
            for (int c = 0; c < 3; c++)
                picture.pixels[((size_t)y * 200 + x) * 3 + c] =
                    (uint8_t)(127.5 + 100 * sin(0.4 * x + 0.25 * y + c));
    adapt_events heard = {0, 1, NAN};
    hs_progress events = {0};
    HS_CHECK(hs_progress_add(&events, (hs_progress_sink){hear_adapt, NULL, NULL, &heard}));
    hs_adapt_options o = {.steps = 40, .batch = 2, .patch = 32, .lr = 2e-3f, .seed = 1,
                          .events = &events};
    hs_net net;
    hs_adapt_report report;
    HS_CHECK(hs_sr_adapt(test_ctx, model, &picture, &o, &net, &report));
    printf("adapt: held-out PSNR-Y %.2f -> %.2f dB (bicubic %.2f) in %d steps\n",
           report.psnr_before, report.psnr_after, report.bicubic_psnr, report.steps);
    ck_assert_int_eq(report.steps, 40);
    ck_assert_int_eq(heard.count, 40);
    ck_assert(heard.in_order);
    ck_assert_double_eq(heard.last_eta, 0);
    ck_assert_msg(report.psnr_after > report.psnr_before + 1.0, "PSNR %.2f -> %.2f",
                  report.psnr_before, report.psnr_after);
    ck_assert_int_eq(net.scale, 2);
    hs_net_free(&net);
    hs_image_free(&picture);
}
END_TEST

/* ---- Metrics ------------------------------------------------------------------------------ */

START_TEST(test_metrics_match_numpy)
{
    hs_image a, b;
    HS_CHECK(hs_image_alloc(&a, 45, 38, 3, 8));
    HS_CHECK(hs_image_alloc(&b, 45, 38, 3, 8));
    float *noise = host_floats((size_t)45 * 38 * 3);
    fill_random(noise, (size_t)45 * 38 * 3, 9, -20, 20);
    for (size_t i = 0; i < (size_t)45 * 38 * 3; i++) {
        int v = (int)(128 + 100 * sin(0.05 * (double)i));
        a.pixels[i] = (uint8_t)v;
        int w = v + (int)noise[i];
        b.pixels[i] = (uint8_t)(w < 0 ? 0 : w > 255 ? 255 : w);
    }
    char pa[4096], pb[4096], out[4096];
    snprintf(pa, sizeof pa, "%s", scratch_path("a.png"));
    snprintf(pb, sizeof pb, "%s", scratch_path("b.png"));
    snprintf(out, sizeof out, "%s", scratch_path("metrics.txt"));
    HS_CHECK(hs_image_save(pa, &a, NULL));
    HS_CHECK(hs_image_save(pb, &b, NULL));
    for (int shave = 0; shave <= 4; shave += 4) {
        run_command("%s '%s/tools/reference/sr_metrics.py' '%s' '%s' %d > '%s'", PYTHON,
                    source_root(), pa, pb, shave, out);
        FILE *fp = fopen(out, "r");
        double psnr, ssim;
        ck_assert(fp && fscanf(fp, "%lf %lf", &psnr, &ssim) == 2);
        fclose(fp);
        double got_psnr = hs_psnr_y(&a, &b, shave), got_ssim = hs_ssim_y(&a, &b, shave);
        ck_assert_msg(fabs(got_psnr - psnr) < 1e-9 * psnr, "PSNR %.12g, numpy %.12g", got_psnr, psnr);
        ck_assert_msg(fabs(got_ssim - ssim) < 1e-9, "SSIM %.12g, numpy %.12g", got_ssim, ssim);
        printf("shave %d: PSNR-Y %.4f dB, SSIM-Y %.5f, as numpy\n", shave, psnr, ssim);
    }
    ck_assert(isinf(hs_psnr_y(&a, &a, 0)));
    ck_assert(fabs(hs_ssim_y(&a, &a, 0) - 1.0) < 1e-12);
    free(noise);
    hs_image_free(&a);
    hs_image_free(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *io = tcase_create("checkpoints");
    tcase_add_test(io, test_weights_round_trip);
    suite_add_tcase(s, io);
    TCase *torch = tcase_create("torch");
    tcase_add_test(torch, test_srresnet_steps_match_torch);
    tcase_add_test(torch, test_srresnet_bicubic_skip_steps_match_torch);
    tcase_add_test(torch, test_srvgg_clipped_steps_match_torch);
    suite_add_tcase(s, torch);
    TCase *resume = tcase_create("resume");
    tcase_add_test(resume, test_resume_is_exact);
    suite_add_tcase(s, resume);
    TCase *gan = tcase_create("gan");
    tcase_add_test(gan, test_ragan_gradients);
    suite_add_tcase(s, gan);
    TCase *adapt = tcase_create("adapt");
    tcase_add_test(adapt, test_adapt_improves_held_out_psnr);
    tcase_set_timeout(adapt, 600);
    suite_add_tcase(s, adapt);
    TCase *metrics = tcase_create("metrics");
    tcase_add_test(metrics, test_metrics_match_numpy);
    suite_add_tcase(s, metrics);
    tcase_set_timeout(torch, 600);
    tcase_set_timeout(resume, 600);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? 1 : 0;
}
