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
} train_args;

static void defaults(train_args *a)
{
    memset(a, 0, sizeof *a);
    a->shape = (hs_sr_shape){"srresnet", 16, 64, 4};
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
           "  --val DIR             held-out photographs: PSNR and SSIM (Y channel, border of\n"
           "                        the scale shaved) of the model and of bicubic upscaling\n"
           "  -o, --output FILE     checkpoint (.safetensors), replaced atomically (required);\n"
           "                        validation writes FILE's name with .png: the model on the\n"
           "                        first validation image\n"
           "  -w, --weights FILE    fine-tune this model (a .safetensors file or a name)\n"
           "  --arch A              from scratch: srresnet or srvgg (default: srresnet)\n"
           "  --blocks N            residual blocks (srresnet) or body convs (srvgg) (16)\n"
           "  --features N          channels (64)\n"
           "  --scale N             2 or 4 (srvgg 1-8) (4)\n"
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
    cli_common_help();
}

/* 1 when argv[*i] was one of ours, 0 when not, -1 on a bad value (printed). */
static int used(int parse_result) { return parse_result < 0 ? -1 : 1; }

static int parse_option(train_args *a, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *v;
    hs_train_recipe *r = &a->recipe;
    hs_sr_shape *sh = &a->shape;
    /* options with a value: take it first */
    static const char *const with_value[] = {
        "--data", "--val", "--output", "-o", "--weights", "-w", "--resume", "--arch", "--blocks",
        "--features", "--scale", "-s", "--steps", "--batch", "--patch", "--lr", "--gamma",
        "--milestones", "--clip", "--ema", "--seed", "--save-every", "--val-every", "--val-size",
        "--max-side", "--blur", "--noise", "--jpeg", "--pixel", "--perceptual",
        "--perceptual-layers", "--gan", "--gan-start", "--lr-d", "--disc-features"};
    int known = 0;
    for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
        known |= strcmp(arg, with_value[k]) == 0;
    if (!known) return 0;
    if (!(v = cli_value(argc, argv, i))) return -1;
    if (cli_is(arg, "--data", NULL)) a->data = v;
    else if (cli_is(arg, "--val", NULL)) a->val = v;
    else if (cli_is(arg, "--output", "-o")) a->output = v;
    else if (cli_is(arg, "--weights", "-w")) a->weights = v;
    else if (cli_is(arg, "--resume", NULL)) a->resume = v;
    else if (cli_is(arg, "--arch", NULL)) sh->arch = v, a->arch_given = 1;
    else if (cli_is(arg, "--blocks", NULL))
        return a->arch_given = 1, used(cli_parse_int(arg, v, 0, 256, &sh->blocks));
    else if (cli_is(arg, "--features", NULL))
        return a->arch_given = 1, used(cli_parse_int(arg, v, 1, 1024, &sh->features));
    else if (cli_is(arg, "--scale", "-s"))
        return a->arch_given = 1, used(cli_parse_int(arg, v, 1, 8, &sh->scale));
    else if (cli_is(arg, "--steps", NULL)) return used(cli_parse_int(arg, v, 1, 100000000, &r->steps));
    else if (cli_is(arg, "--batch", NULL)) return used(cli_parse_int(arg, v, 1, 4096, &r->batch));
    else if (cli_is(arg, "--patch", NULL)) return used(cli_parse_int(arg, v, 8, 4096, &r->patch));
    else if (cli_is(arg, "--lr", NULL)) return used(cli_parse_float(arg, v, &r->lr));
    else if (cli_is(arg, "--gamma", NULL)) return used(cli_parse_float(arg, v, &r->gamma));
    else if (cli_is(arg, "--milestones", NULL)) {
        int n = cli_parse_int_list(arg, v, 1, 100000000, r->milestones, HS_TRAIN_MAX_MILESTONES);
        if (n < 0) return -1;
        r->milestone_count = n;
    }
    else if (cli_is(arg, "--clip", NULL)) return used(cli_parse_float(arg, v, &a->config.clip));
    else if (cli_is(arg, "--ema", NULL)) return used(cli_parse_float(arg, v, &a->config.ema_decay));
    else if (cli_is(arg, "--seed", NULL)) return used(cli_parse_int(arg, v, 0, 2147483647, &a->seed));
    else if (cli_is(arg, "--save-every", NULL))
        return used(cli_parse_int(arg, v, 0, 100000000, &r->save_every));
    else if (cli_is(arg, "--val-every", NULL))
        return used(cli_parse_int(arg, v, 0, 100000000, &r->val_every));
    else if (cli_is(arg, "--val-size", NULL)) return used(cli_parse_int(arg, v, 16, 4096, &r->val_size));
    else if (cli_is(arg, "--max-side", NULL)) return used(cli_parse_int(arg, v, 16, 65535, &a->max_side));
    else if (cli_is(arg, "--blur", NULL)) return used(cli_parse_float(arg, v, &r->degradation.blur));
    else if (cli_is(arg, "--noise", NULL)) return used(cli_parse_float(arg, v, &r->degradation.noise));
    else if (cli_is(arg, "--jpeg", NULL)) return used(cli_parse_int(arg, v, 1, 100, &r->degradation.jpeg_min));
    else if (cli_is(arg, "--pixel", NULL)) return used(cli_parse_float(arg, v, &a->gan.pixel));
    else if (cli_is(arg, "--perceptual", NULL)) return used(cli_parse_float(arg, v, &a->gan.perceptual));
    else if (cli_is(arg, "--perceptual-layers", NULL)) a->gan.layers = v;
    else if (cli_is(arg, "--gan", NULL)) return used(cli_parse_float(arg, v, &a->gan.adversarial));
    else if (cli_is(arg, "--gan-start", NULL))
        return used(cli_parse_int(arg, v, 0, 100000000, &a->gan.gan_start));
    else if (cli_is(arg, "--lr-d", NULL)) return used(cli_parse_float(arg, v, &a->gan.lr_d));
    else if (cli_is(arg, "--disc-features", NULL))
        return used(cli_parse_int(arg, v, 1, 512, &a->gan.disc_features));
    return 1;
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

/* 0 to go on, -1 after --help, else the exit code. */
static int parse_args(train_args *a, int argc, char **argv)
{
    defaults(a);
    for (int i = 1; i < argc; i++) {
        if (cli_is(argv[i], "--help", "-h")) {
            help();
            return -1;
        }
        int rc = cli_common_option(&a->common, argc, argv, &i);
        if (rc == 0) rc = parse_option(a, argc, argv, &i);
        if (rc < 0) return HS_ERR_USAGE;
        if (rc == 0) {
            fprintf(stderr, "hirestyle train-sr: unknown option '%s' (see --help)\n", argv[i]);
            return HS_ERR_USAGE;
        }
    }
    hs_status st = check_args(a);
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
    if (rc) return rc < 0 ? 0 : rc;
    char command[4096], sample[PATH_SIZE];
    cli_command_line(argc, argv, command, sizeof command);
    sample_path(a.output, sample, sizeof sample);
    hs_train_recipe *r = &a.recipe;
    r->checkpoint = a.output;
    r->sample = a.val ? sample : NULL;
    r->recipe_text = command;
    r->log = a.common.quiet ? NULL : stdout;
    r->progress = !a.common.quiet && isatty(STDERR_FILENO);
    r->stop = cli_interrupted;

    hs_train_images data = {0}, val = {0};
    hs_status st = check_folder(a.output);
    if (st == HS_OK) st = hs_train_images_load(a.data, a.max_side, r->patch, &data);
    if (st == HS_OK && a.val) st = hs_train_images_load(a.val, a.max_side, 16, &val);
    hs_context *ctx = NULL;
    if (st == HS_OK && (rc = cli_open_context(&a.common, &ctx))) {
        hs_train_images_free(&data);
        hs_train_images_free(&val);
        return rc;
    }
    cli_catch_interrupt();
    if (st == HS_OK) st = train(ctx, &a, &data, a.val ? &val : NULL);
    if (ctx) hs_context_destroy(ctx);
    hs_train_images_free(&data);
    hs_train_images_free(&val);
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

hs_status cli_adapt_upscaler(hs_context *ctx, const char *model, const hs_image *painting,
                             int steps, int quiet, hs_net *net)
{
    hs_adapt_options o = {.steps = steps, .batch = 4, .patch = 64, .lr = 1e-4f, .seed = 0,
                          .progress = !quiet && isatty(STDERR_FILENO), .stop = cli_interrupted};
    hs_adapt_report report;
    if (!quiet)
        fprintf(stderr, "hirestyle: adapting %s to the painting, %d steps\n", model, steps);
    hs_status st = hs_sr_adapt(ctx, model, painting, &o, net, &report);
    if (st == HS_OK && !quiet)
        fprintf(stderr, "hirestyle: adapted in %d steps (%.2f s/step): PSNR-Y on the held-out "
                "strip %.2f -> %.2f dB (bicubic %.2f)\n", report.steps, report.step_seconds,
                report.psnr_before, report.psnr_after, report.bicubic_psnr);
    return st == HS_OK ? st : hs_fail_context(st, "adapting the upscaler");
}
