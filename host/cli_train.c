/* cli_train.c — `hirestyle train-sr`: train a super-resolution generator
 * on the device, fine-tuning a weights file or from scratch, on a folder of
 * photographs (train_sr.h). Options are checked before anything is loaded;
 * checkpoints are written atomically; Ctrl-C saves one and exits 9. */
#include "cli.h"
#include "train_sr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_SIZE 4096

typedef struct train_args {
    cli_common common;
    const char *weights, *resume, *data, *val, *output;
    hs_sr_shape shape;
    int arch_given, seed, max_side;
    hs_train_recipe recipe;
    hs_train_config config;
    hs_gan_config gan;
    cli_progress progress; /* --json, --web */
} train_args;

static void defaults(train_args *a)
{
    memset(a, 0, sizeof *a);
    a->shape = (hs_sr_shape){"srresnet", 16, 64, 4, 1};
    a->recipe = (hs_train_recipe){.steps = 1000, .batch = 4, .patch = 96, .lr = 2e-4f,
                                  .gamma = 0.5f, .save_every = 500, .val_every = 500,
                                  .val_size = 256};
    a->config = (hs_train_config){0.9f, 0.99f, 1e-8f, 0.0f, 0.999f};
    a->gan = (hs_gan_config){1.0f, 0.0f, 0.0f, "res2c.add,res3d.add,res4f.add", 0, 1e-4f, 64, 4};
}

static void help(void)
{
    printf("usage: hirestyle train-sr --data DIR -o CHECKPOINT.safetensors [OPTIONS]\n\n"
           "Train a super-resolution generator on the device with the L1 pixel loss and\n"
           "Adam: fine-tune a model (-w) or start from scratch (--arch). Patches are random\n"
           "crops of the photographs in --data, flipped and rotated; their inputs are\n"
           "bicubic downsamplings. The checkpoint holds the exponential moving average of\n"
           "the weights (load it with `hirestyle upscale -m CHECKPOINT`) and all the\n"
           "training state (--resume continues exactly).\n\n"
           "Options:\n"
           "  --data DIR            training photographs (PNG, JPEG, WebP, TIFF) (required)\n"
           "  --val DIR             held-out photographs: PSNR and SSIM (Y channel, border\n"
           "                        of the scale shaved) of the model and of bicubic\n"
           "                        upscaling\n"
           "  -o, --output FILE     checkpoint (.safetensors), replaced atomically\n"
           "                        (required); validation writes FILE's name with .png:\n"
           "                        the model on the first validation image\n"
           "  -w, --weights FILE    fine-tune this model (a .safetensors file or a name)\n"
           "  --arch A              from scratch: srresnet or srvgg (default: srresnet)\n"
           "  --blocks N            residual blocks (srresnet) or body convs (srvgg) (16)\n"
           "  --features N          channels (64)\n"
           "  --scale N             2 or 4 (srvgg 1-8) (4)\n"
           "  --global-skip S       srresnet: bicubic (the output is added to the input\n"
           "                        enlarged bicubically: learns fast) or none (SRGAN's\n"
           "                        (tanh + 1) / 2 output) (bicubic)\n"
           "  --resume CHECKPOINT   continue a run: weights, Adam, EMA and random state\n"
           "  --steps N             total steps, a resumed run's included (1000)\n"
           "  --batch N             patches per step (4)\n"
           "  --patch N             side of the high-resolution patches, a multiple of the\n"
           "                        scale (96)\n"
           "  --lr F                learning rate (2e-4)\n"
           "  --milestones A,B,..   steps at which the learning rate is multiplied by\n"
           "                        --gamma (none)\n"
           "  --gamma F             (0.5)\n"
           "  --clip F              largest global L2 norm of the gradients; 0 = none (0)\n"
           "  --ema F               decay of the weights' moving average (0.999)\n"
           "  --seed N              everything random follows from it (0)\n"
           "  --save-every N        checkpoint every N steps, and at the end (500)\n"
           "  --val-every N         validate every N steps, and at the end (500)\n"
           "  --val-size N          side of the validation centre crops (256)\n"
           "  --max-side N          downscale the photographs (training and validation) to\n"
           "                        this longer side (no)\n"
           "  --blur F              degradation: Gaussian blur of sigma up to F before\n"
           "                        downsampling (0)\n"
           "  --noise F             degradation: Gaussian noise of sigma up to F (0-255) (0)\n"
           "  --jpeg Q              degradation: JPEG re-encoding at quality Q-100 (off)\n"
           "  --pixel W             weight of the L1 pixel loss (1)\n"
           "  --perceptual W        weight of the perceptual loss: L1 between ResNet50\n"
           "                        features of the output and the target (0: off)\n"
           "  --perceptual-layers L ResNet50 layers, before their ReLU\n"
           "                        (res2c.add,res3d.add,res4f.add)\n"
           "  --gan W               weight of the adversarial loss (ESRGAN's relativistic\n"
           "                        average) with a discriminator trained alongside (0: off)\n"
           "  --gan-start N         no adversarial loss before step N: an L1 warm-up (0)\n"
           "  --lr-d F              the discriminator's learning rate (1e-4)\n"
           "  --disc-features N     the discriminator's first channels (64)\n");
    cli_progress_help(1);
    cli_common_help();
}

enum train_option {
    T_DATA = 1, T_VAL, T_OUTPUT, T_WEIGHTS, T_RESUME, T_ARCH, T_BLOCKS, T_FEATURES, T_SCALE,
    T_GLOBAL_SKIP,    T_STEPS, T_BATCH, T_PATCH, T_LR, T_GAMMA, T_MILESTONES, T_CLIP, T_EMA, T_SEED, T_SAVE_EVERY,
    T_VAL_EVERY, T_VAL_SIZE, T_MAX_SIDE, T_BLUR, T_NOISE, T_JPEG, T_PIXEL, T_PERCEPTUAL,
    T_PERCEPTUAL_LAYERS, T_GAN, T_GAN_START, T_LR_D, T_DISC_FEATURES,
};

static const cli_option train_options[] = {
    {"data", 0, NULL, CLI_VALUE, T_DATA},
    {"val", 0, NULL, CLI_VALUE, T_VAL},
    {"output", 'o', NULL, CLI_VALUE, T_OUTPUT},
    {"weights", 'w', NULL, CLI_VALUE, T_WEIGHTS},
    {"resume", 0, NULL, CLI_VALUE, T_RESUME},
    {"arch", 0, NULL, CLI_VALUE, T_ARCH},
    {"blocks", 0, NULL, CLI_VALUE, T_BLOCKS},
    {"features", 0, NULL, CLI_VALUE, T_FEATURES},
    {"scale", 's', NULL, CLI_VALUE, T_SCALE},
    {"global-skip", 0, NULL, CLI_VALUE, T_GLOBAL_SKIP},
    {"steps", 0, NULL, CLI_VALUE, T_STEPS},
    {"batch", 0, NULL, CLI_VALUE, T_BATCH},
    {"patch", 0, NULL, CLI_VALUE, T_PATCH},
    {"lr", 0, NULL, CLI_VALUE, T_LR},
    {"gamma", 0, NULL, CLI_VALUE, T_GAMMA},
    {"milestones", 0, NULL, CLI_VALUE, T_MILESTONES},
    {"clip", 0, NULL, CLI_VALUE, T_CLIP},
    {"ema", 0, NULL, CLI_VALUE, T_EMA},
    {"seed", 0, NULL, CLI_VALUE, T_SEED},
    {"save-every", 0, NULL, CLI_VALUE, T_SAVE_EVERY},
    {"val-every", 0, NULL, CLI_VALUE, T_VAL_EVERY},
    {"val-size", 0, NULL, CLI_VALUE, T_VAL_SIZE},
    {"max-side", 0, NULL, CLI_VALUE, T_MAX_SIDE},
    {"blur", 0, NULL, CLI_VALUE, T_BLUR},
    {"noise", 0, NULL, CLI_VALUE, T_NOISE},
    {"jpeg", 0, NULL, CLI_VALUE, T_JPEG},
    {"pixel", 0, NULL, CLI_VALUE, T_PIXEL},
    {"perceptual", 0, NULL, CLI_VALUE, T_PERCEPTUAL},
    {"perceptual-layers", 0, NULL, CLI_VALUE, T_PERCEPTUAL_LAYERS},
    {"gan", 0, NULL, CLI_VALUE, T_GAN},
    {"gan-start", 0, NULL, CLI_VALUE, T_GAN_START},
    {"lr-d", 0, NULL, CLI_VALUE, T_LR_D},
    {"disc-features", 0, NULL, CLI_VALUE, T_DISC_FEATURES},
};

static int set_option(void *state, const cli_option *o, const char *n, const char *v)
{
    train_args *a = state;
    hs_train_recipe *r = &a->recipe;
    hs_sr_shape *sh = &a->shape;
    switch (o->id) {
    case T_DATA: a->data = v; return 0;
    case T_VAL: a->val = v; return 0;
    case T_OUTPUT: a->output = v; return 0;
    case T_WEIGHTS: a->weights = v; return 0;
    case T_RESUME: a->resume = v; return 0;
    case T_ARCH: sh->arch = v, a->arch_given = 1; return 0;
    case T_BLOCKS: a->arch_given = 1; return cli_parse_int(n, v, 0, 256, &sh->blocks);
    case T_FEATURES: a->arch_given = 1; return cli_parse_int(n, v, 1, 1024, &sh->features);
    case T_SCALE: a->arch_given = 1; return cli_parse_int(n, v, 1, 8, &sh->scale);
    case T_GLOBAL_SKIP:
        a->arch_given = 1;
        if (strcmp(v, "bicubic") != 0 && strcmp(v, "none") != 0) {
            fprintf(stderr, "hirestyle: %s takes bicubic or none, not '%s'\n", n, v);
            return -1;
        }
        sh->bicubic_skip = strcmp(v, "bicubic") == 0;
        return 0;
    case T_STEPS: return cli_parse_int(n, v, 1, 100000000, &r->steps);
    case T_BATCH: return cli_parse_int(n, v, 1, 4096, &r->batch);
    case T_PATCH: return cli_parse_int(n, v, 8, 4096, &r->patch);
    case T_LR: return cli_parse_float(n, v, &r->lr);
    case T_GAMMA: return cli_parse_float(n, v, &r->gamma);
    case T_MILESTONES:
        r->milestone_count =
            cli_parse_int_list(n, v, 1, 100000000, r->milestones, HS_TRAIN_MAX_MILESTONES);
        return r->milestone_count < 0;
    case T_CLIP: return cli_parse_float(n, v, &a->config.clip);
    case T_EMA: return cli_parse_float(n, v, &a->config.ema_decay);
    case T_SEED: return cli_parse_int(n, v, 0, 2147483647, &a->seed);
    case T_SAVE_EVERY: return cli_parse_int(n, v, 0, 100000000, &r->save_every);
    case T_VAL_EVERY: return cli_parse_int(n, v, 0, 100000000, &r->val_every);
    case T_VAL_SIZE: return cli_parse_int(n, v, 16, 4096, &r->val_size);
    case T_MAX_SIDE: return cli_parse_int(n, v, 16, 65535, &a->max_side);
    case T_BLUR: return cli_parse_float(n, v, &r->degradation.blur);
    case T_NOISE: return cli_parse_float(n, v, &r->degradation.noise);
    case T_JPEG: return cli_parse_int(n, v, 1, 100, &r->degradation.jpeg_min);
    case T_PIXEL: return cli_parse_float(n, v, &a->gan.pixel);
    case T_PERCEPTUAL: return cli_parse_float(n, v, &a->gan.perceptual);
    case T_PERCEPTUAL_LAYERS: a->gan.layers = v; return 0;
    case T_GAN: return cli_parse_float(n, v, &a->gan.adversarial);
    case T_GAN_START: return cli_parse_int(n, v, 0, 100000000, &a->gan.gan_start);
    case T_LR_D: return cli_parse_float(n, v, &a->gan.lr_d);
    case T_DISC_FEATURES: return cli_parse_int(n, v, 1, 512, &a->gan.disc_features);
    }
    return -1;
}

/* The options together; HS_ERR_USAGE with a message when they disagree. */
static hs_status check_args(const train_args *a)
{
    const hs_train_recipe *r = &a->recipe;
    if (!a->data) return hs_fail(HS_ERR_USAGE, "train-sr needs --data DIR");
    if (!a->output) return hs_fail(HS_ERR_USAGE, "train-sr needs -o CHECKPOINT.safetensors");
    size_t n = strlen(a->output);
    if (n < 12 || strcmp(a->output + n - 12, ".safetensors") != 0)
        return hs_fail(HS_ERR_USAGE, "%s: name the checkpoint .safetensors", a->output);
    if ((a->weights != NULL) + (a->resume != NULL) + (a->arch_given != 0) > 1)
        return hs_fail(HS_ERR_USAGE, "give one of -w (fine-tune), --resume, and --arch/--blocks/"
                       "--features/--scale (from scratch)");
    if (!(r->lr > 0) || !(r->gamma > 0))
        return hs_fail(HS_ERR_USAGE, "--lr and --gamma must be positive");
    if (!(a->config.clip >= 0)) return hs_fail(HS_ERR_USAGE, "--clip must be 0 or positive");
    if (!(a->config.ema_decay >= 0 && a->config.ema_decay < 1))
        return hs_fail(HS_ERR_USAGE, "--ema must be at least 0 and below 1");
    if (!(r->degradation.blur >= 0 && r->degradation.blur <= 10) ||
        !(r->degradation.noise >= 0 && r->degradation.noise <= 100))
        return hs_fail(HS_ERR_USAGE, "--blur must be 0 to 10 and --noise 0 to 100");
    if (!(a->gan.pixel >= 0) || !(a->gan.perceptual >= 0) || !(a->gan.adversarial >= 0) ||
        !(a->gan.lr_d > 0))
        return hs_fail(HS_ERR_USAGE, "--pixel, --perceptual and --gan must be 0 or more, --lr-d "
                       "positive");
    if (a->resume && (a->gan.perceptual > 0 || a->gan.adversarial > 0))
        return hs_fail(HS_ERR_USAGE, "--resume continues L1 training only: a checkpoint does not "
                       "hold the discriminator yet");
    return HS_OK;
}

/* 0 to go on, CLI_HELP after --help, else the exit code. */
static int parse_args(train_args *a, int argc, char **argv)
{
    defaults(a);
    cli_table tables[] = {CLI_TABLE(train_options, set_option, a),
                          cli_progress_table(&a->progress, 1), cli_common_table(&a->common)};
    int rc = cli_parse("train-sr", argc, argv, tables, 3);
    if (rc == CLI_HELP) help();
    if (rc) return rc;
    hs_status st = check_args(a);
    if (st == HS_OK) st = cli_progress_start(&a->progress, &a->common);
    return st == HS_OK ? 0 : cli_report(st);
}

/* "DIR/NAME.safetensors" -> "DIR/NAME.png" */
static void sample_path(const char *checkpoint, char *out, size_t size)
{
    snprintf(out, size, "%.*s.png", (int)(strlen(checkpoint) - 12), checkpoint);
}

/* The checkpoint's folder exists and can be written. */
static hs_status check_folder(const char *output)
{
    const char *slash = strrchr(output, '/');
    char dir[PATH_SIZE];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - output) + 1 : 1, slash ? output : ".");
    if (access(dir, W_OK) != 0)
        return hs_fail(HS_ERR_IO, "%s: cannot write into the folder %s: %s", output, dir,
                       strerror(errno));
    return HS_OK;
}

/* The weights to start from: the checkpoint, the model, or new ones. */
static hs_status starting_weights(const train_args *a, hs_weights *w)
{
    if (a->resume) return hs_weights_load(a->resume, w);
    if (!a->weights) return hs_sr_init_weights(&a->shape, (uint64_t)a->seed, w);
    char path[PATH_SIZE];
    hs_status st = hs_resolve_weights(a->weights, path, sizeof path);
    if (st != HS_OK) return st;
    size_t n = strlen(path);
    if (n > 6 && strcmp(path + n - 6, ".param") == 0)
        return hs_fail(HS_ERR_USAGE, "%s: train-sr fine-tunes safetensors models; ncnn models "
                       "cannot be trained yet", path);
    return hs_weights_load(path, w);
}

static hs_status train(hs_context *ctx, train_args *a, const hs_train_images *data,
                       const hs_train_images *val)
{
    hs_weights w;
    hs_status st = starting_weights(a, &w);
    if (st != HS_OK) return st;
    hs_trainer t;
    st = hs_trainer_create(ctx, &w, &a->config, a->resume != NULL, (uint64_t)a->seed, &t);
    hs_weights_free(&w);
    if (st != HS_OK) return st;
    if (!a->common.quiet)
        printf("training %s x%d (%d weight tensors) from step %d to %d, batch %d of %dx%d\n",
               t.net.arch, t.net.scale, t.param_count, t.step, a->recipe.steps, a->recipe.batch,
               a->recipe.patch, a->recipe.patch);
    fflush(stdout);
    hs_gan gan = {0};
    int with_gan = a->gan.perceptual > 0 || a->gan.adversarial > 0 || a->gan.pixel != 1.0f;
    if (with_gan) st = hs_gan_create(ctx, &a->gan, (uint64_t)a->seed, &t, &gan);
    a->recipe.gan = with_gan ? &gan : NULL;
    hs_train_result result = {0};
    if (st == HS_OK) st = hs_train_run(&t, &a->recipe, data, val, &result);
    if (st == HS_OK && !a->common.quiet) {
        printf("wrote %s: step %d, L1 %.5f", a->output, t.step, result.loss);
        if (result.timed_steps)
            printf(", %.3f s/step (%d steps timed)", result.step_seconds, result.timed_steps);
        printf("\n");
    }
    if (with_gan) hs_gan_free(&gan);
    hs_trainer_free(&t);
    return st;
}

int cli_train_sr(int argc, char **argv)
{
    train_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc) return rc == CLI_HELP ? 0 : rc;
    char command[4096], sample[PATH_SIZE];
    hs_job_command_line(argc, argv, command, sizeof command);
    sample_path(a.output, sample, sizeof sample);
    hs_train_recipe *r = &a.recipe;
    r->checkpoint = a.output;
    r->sample = a.val ? sample : NULL;
    r->recipe_text = command;
    r->log = a.common.quiet ? NULL : stdout;
    r->progress = !a.common.quiet && isatty(STDERR_FILENO);
    r->stop = cli_interrupted;
    r->events = &a.progress.sinks;

    hs_train_images data = {0}, val = {0};
    hs_status st = check_folder(a.output);
    if (st == HS_OK) st = hs_train_images_load(a.data, a.max_side, r->patch, &data);
    if (st == HS_OK && a.val) st = hs_train_images_load(a.val, a.max_side, 16, &val);
    hs_context *ctx = NULL;
    if (st == HS_OK && (rc = cli_open_context(&a.common, &ctx))) {
        hs_train_images_free(&data);
        hs_train_images_free(&val);
        cli_progress_stop(&a.progress);
        return rc;
    }
    cli_catch_interrupt();
    if (st == HS_OK) st = train(ctx, &a, &data, a.val ? &val : NULL);
    if (ctx) hs_context_destroy(ctx);
    hs_train_images_free(&data);
    hs_train_images_free(&val);
    cli_progress_stop(&a.progress);
    return cli_report(st);
}

/* ---- run --adapt-upscaler ------------------------------------------------------------ */

hs_status cli_check_adaptable(const char *model)
{
    size_t n = strlen(model);
    if (n > 6 && strcmp(model + n - 6, ".param") == 0)
        return hs_fail(HS_ERR_USAGE, "%s: only safetensors models can be adapted "
                       "(--adapt-upscaler), not ncnn models", model);
    return HS_OK;
}

int cli_parse_adapt_steps(const char *spelling, const char *value, int *steps)
{
    *steps = CLI_ADAPT_DEFAULT_STEPS;
    return value ? cli_parse_int(spelling, value, 1, 1000000, steps) : 0;
}

hs_status cli_adapt_upscaler(hs_context *ctx, const char *model, const hs_image *painting,
                             int steps, int quiet, const hs_progress *events, hs_net *net)
{
    hs_adapt_options o = {.steps = steps, .batch = 4, .patch = 64, .lr = 1e-4f, .seed = 0,
                          .progress = !quiet && isatty(STDERR_FILENO), .stop = cli_interrupted,
                          .events = events};
    hs_adapt_report report;
    if (!quiet)
        fprintf(stderr, "hirestyle: adapting %s to the picture, %d steps\n", model, steps);
    hs_status st = hs_sr_adapt(ctx, model, painting, &o, net, &report);
    if (st == HS_OK && !quiet)
        fprintf(stderr, "hirestyle: adapted in %d steps (%.2f s/step): PSNR-Y on the held-out "
                "strip %.2f -> %.2f dB (bicubic %.2f)\n", report.steps, report.step_seconds,
                report.psnr_before, report.psnr_after, report.bicubic_psnr);
    if (st == HS_OK && (st = hs_net_for_inference(net)) != HS_OK) hs_net_free(net);
    return st == HS_OK ? st : hs_fail_context(st, "adapting the upscaler");
}
