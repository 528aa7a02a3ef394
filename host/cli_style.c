/* cli_style.c — `hirestyle style`: paint the content image in the style of
 * one or more style images. Flag names follow neural-style's where they
 * overlap (GNU long options: -style_weight becomes --style-weight). */
#include "cli.h"
#include "style_job.h"
#include "timer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void style_help(void)
{
    printf(
        "usage: hirestyle style --content C.jpg --style A.jpg[,B.jpg...] [OPTIONS] -o out.png\n\n"
        "Gatys et al.'s style transfer: optimise an image so that its deep features match the\n"
        "content image and its Gram matrices a blend of the style images.\n\n"
        "Images:\n"
        "  -c, --content FILE          content image, PNG, JPEG, WebP or TIFF (required)\n"
        "  -s, --style A[,B...]        style images, the same formats (required)\n"
        "      --style-blend-weights W[,W...]  weight per style image, normalised to sum 1\n"
        "                              (default: equal)\n"
        "  -o, --output FILE           .png, .jpg, .webp or .tif (default: out.png)\n"
        "      --image-size N          longer side of the output in pixels (default: 512)\n"
        "      --start-size N          longer side of the first, coarsest scale; the painting\n"
        "                              grows from it to --image-size (default: 256)\n"
        "      --scale-step F          each scale this much larger than the last (default: 2)\n"
        "      --style-scale F         style images' size relative to the output (default: 1.0)\n"
        "      --original-colors       keep the content's colours: transfer luminance only\n"
        "Optimisation:\n"
        "  -n, --iters N[,N...]        iterations of the first scale, or of every scale in\n"
        "                              turn (the last repeats) (default: 300)\n"
        "      --iters-fine N          iterations of every finer scale (default: a third of\n"
        "                              the scale before, at least 20)\n"
        "      --block N               evaluate the loss in blocks of N px (exact, for images\n"
        "                              beyond device memory; default: only when needed, 0 =\n"
        "                              never)\n"
        "      --optimizer adam|lbfgs  (default: adam)\n"
        "      --learning-rate F       Adam step on RGB in [0,1] (default: 0.02)\n"
        "      --init content|random|image  starting image (default: content)\n"
        "      --init-image FILE       the starting image for --init image\n"
        "      --seed N                random seed of --init random and the jitter (default: 1)\n"
        "      --jitter | --no-jitter  move the image by -2..+1 px each step, against the grid\n"
        "                              stride-2 layers print (default: on for resnet50, off for\n"
        "                              vgg19; always off with lbfgs)\n"
        "Losses (defaults per network: vgg19 | resnet50):\n"
        "      --weights FILE          network weights (default: weights/vgg19.safetensors if\n"
        "                              fetched, else weights/resnet50.safetensors)\n"
        "      --content-weight F      (default: 1 | 1)\n"
        "      --style-weight F        (default: 1e6 | 3; neural-style's 5 and 100 are for the\n"
        "                              caffe VGG19's 0..255 input, not torchvision's)\n"
        "      --tv-weight F           total-variation weight (default: 0.001 | 0)\n"
        "      --content-layers L,...  (default: relu4_2 | res3d)\n"
        "      --style-layers L[:W],...  layers with optional weights (default:\n"
        "                              relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 |\n"
        "                              conv1_relu,res2c,res3d,res4f)\n"
        "Output:\n"
        "      --print-every N         without a terminal, print the losses every N iterations\n"
        "                              (default: 50)\n"
        "      --save-every N          also save OUTPUT_<iter>.png every N iterations (default: 0,\n"
        "                              never)\n");
    cli_common_help();
}

void cli_style_job_defaults(hs_style_job *job)
{
    memset(job, 0, sizeof *job);
    job->image_size = 512;
    job->style_scale = 1.0f;
    job->start_size = 256;
    job->scale_step = 2.0f;
    job->block = -1;
    job->optimizer = HS_OPT_ADAM;
    job->learning_rate = job->content_weight = job->style_weight = job->tv_weight = NAN;
    job->jitter = -1;
    job->init = HS_INIT_CONTENT;
    job->seed = 1;
    job->print_every = 50;
}

/* Split a comma list of file names in place (argv strings are writable). */
static int split_files(char *list, const char **out, int capacity)
{
    int n = 0;
    for (char *save = NULL, *item = strtok_r(list, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        if (n == capacity) return -1;
        out[n++] = item;
    }
    return n;
}

/* One option at argv[*i]; 1 used, 0 not ours, -1 bad. */
int cli_style_option(hs_style_job *job, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    char *v;
    int seed;
#define VALUE() ((v = (char *)cli_value(argc, argv, i)) != NULL)
    if (cli_is(a, "--content", "-c")) return VALUE() ? (job->content = v, 1) : -1;
    if (cli_is(a, "--style", "-s")) {
        if (!VALUE()) return -1;
        job->style_count = split_files(v, job->styles, HS_STYLE_MAX_IMAGES);
        if (job->style_count < 1)
            fprintf(stderr, "hirestyle: --style takes 1 to %d files\n", HS_STYLE_MAX_IMAGES);
        return job->style_count < 1 ? -1 : 1;
    }
    if (cli_is(a, "--style-blend-weights", NULL))
        return VALUE() && (job->blend_count = cli_parse_float_list(a, v, job->blend,
                                                                    HS_STYLE_MAX_IMAGES)) > 0 ? 1 : -1;
    if (cli_is(a, "--image-size", NULL))
        return VALUE() && !cli_parse_int(a, v, 16, 65536, &job->image_size) ? 1 : -1;
    if (cli_is(a, "--style-scale", NULL)) {
        if (!VALUE() || cli_parse_float(a, v, &job->style_scale)) return -1;
        if (job->style_scale > 0 && job->style_scale <= 16) return 1;
        return fprintf(stderr, "hirestyle: --style-scale is above 0 and at most 16\n"), -1;
    }
    if (cli_is(a, "--original-colors", NULL)) return job->original_colors = 1;
    if (cli_is(a, "--iters", "-n") || cli_is(a, "--num-iterations", NULL))
        return VALUE() && (job->iterations_count = cli_parse_int_list(
                               a, v, 1, 1000000, job->iterations, HS_SCHEDULE_MAX_SCALES)) > 0
                   ? 1
                   : -1;
    if (cli_is(a, "--iters-fine", NULL))
        return VALUE() && !cli_parse_int(a, v, 1, 1000000, &job->iterations_fine) ? 1 : -1;
    if (cli_is(a, "--start-size", NULL))
        return VALUE() && !cli_parse_int(a, v, 16, 65536, &job->start_size) ? 1 : -1;
    if (cli_is(a, "--scale-step", NULL)) {
        if (!VALUE() || cli_parse_float(a, v, &job->scale_step)) return -1;
        if (job->scale_step > 1 && job->scale_step <= 16) return 1;
        return fprintf(stderr, "hirestyle: --scale-step is above 1 and at most 16\n"), -1;
    }
    if (cli_is(a, "--block", NULL))
        return VALUE() && !cli_parse_int(a, v, 0, 65536, &job->block) ? 1 : -1;
    if (cli_is(a, "--optimizer", NULL)) {
        if (!VALUE()) return -1;
        if (strcmp(v, "adam") == 0) job->optimizer = HS_OPT_ADAM;
        else if (strcmp(v, "lbfgs") == 0) job->optimizer = HS_OPT_LBFGS;
        else return fprintf(stderr, "hirestyle: --optimizer is adam or lbfgs, not '%s'\n", v), -1;
        return 1;
    }
    if (cli_is(a, "--learning-rate", NULL)) return VALUE() && !cli_parse_float(a, v, &job->learning_rate) ? 1 : -1;
    if (cli_is(a, "--init", NULL)) {
        if (!VALUE()) return -1;
        if (strcmp(v, "content") == 0) job->init = HS_INIT_CONTENT;
        else if (strcmp(v, "random") == 0) job->init = HS_INIT_RANDOM;
        else if (strcmp(v, "image") == 0) job->init = HS_INIT_IMAGE;
        else return fprintf(stderr, "hirestyle: --init is content, random or image, not '%s'\n", v), -1;
        return 1;
    }
    if (cli_is(a, "--init-image", NULL)) return VALUE() ? (job->init_image = v, 1) : -1;
    if (cli_is(a, "--seed", NULL)) {
        if (!VALUE() || cli_parse_int(a, v, 0, 2147483647, &seed)) return -1;
        job->seed = (unsigned)seed;
        return 1;
    }
    if (cli_is(a, "--jitter", NULL)) return job->jitter = 1;
    if (cli_is(a, "--no-jitter", NULL)) return (job->jitter = 0), 1;
    if (cli_is(a, "--weights", NULL)) return VALUE() ? (job->weights = v, 1) : -1;
    if (cli_is(a, "--content-weight", NULL)) return VALUE() && !cli_parse_float(a, v, &job->content_weight) ? 1 : -1;
    if (cli_is(a, "--style-weight", NULL)) return VALUE() && !cli_parse_float(a, v, &job->style_weight) ? 1 : -1;
    if (cli_is(a, "--tv-weight", NULL)) return VALUE() && !cli_parse_float(a, v, &job->tv_weight) ? 1 : -1;
    if (cli_is(a, "--content-layers", NULL)) return VALUE() ? (job->content_layers = v, 1) : -1;
    if (cli_is(a, "--style-layers", NULL)) return VALUE() ? (job->style_layers = v, 1) : -1;
    if (cli_is(a, "--print-every", NULL)) return VALUE() && !cli_parse_int(a, v, 0, 1000000, &job->print_every) ? 1 : -1;
    if (cli_is(a, "--save-every", NULL)) return VALUE() && !cli_parse_int(a, v, 0, 1000000, &job->save_every) ? 1 : -1;
#undef VALUE
    return 0;
}

/* Checks that need all options: required files, consistent counts. */
int cli_style_check(const hs_style_job *job)
{
    if (!job->content || job->style_count == 0) {
        fprintf(stderr, "hirestyle: --content and --style are required (see --help)\n");
        return -1;
    }
    if (job->blend_count && job->blend_count != job->style_count) {
        fprintf(stderr, "hirestyle: %d style images but %d --style-blend-weights\n",
                job->style_count, job->blend_count);
        return -1;
    }
    if (job->init == HS_INIT_IMAGE && !job->init_image) {
        fprintf(stderr, "hirestyle: --init image needs --init-image FILE\n");
        return -1;
    }
    return 0;
}

int cli_style(int argc, char **argv)
{
    hs_style_job job;
    cli_style_job_defaults(&job);
    cli_common common = {0};
    const char *output = "out.png";
    for (int i = 1; i < argc; i++) {
        int used = cli_common_option(&common, argc, argv, &i);
        if (!used) used = cli_style_option(&job, argc, argv, &i);
        if (!used && cli_is(argv[i], "--output", "-o")) {
            output = cli_value(argc, argv, &i);
            used = output ? 1 : -1;
        }
        if (!used && cli_is(argv[i], "--help", "-h")) {
            style_help();
            return 0;
        }
        if (!used) fprintf(stderr, "hirestyle style: unknown option '%s' (see --help)\n", argv[i]);
        if (used <= 0) return HS_ERR_USAGE;
    }
    if (cli_style_check(&job)) return HS_ERR_USAGE;
    job.output = output;
    job.quiet = common.quiet;
    job.verbose = common.context.verbose;
    job.argc = argc;
    job.argv = argv;

    char model[4096];
    hs_status st = cli_check_output_format(output, 0);
    if (st == HS_OK) st = hs_style_job_weights(&job, model, sizeof model);
    if (st != HS_OK) return cli_report(st);
    hs_context *ctx;
    int rc = cli_open_context(&common, &ctx);
    if (rc) return rc;
    cli_catch_interrupt();
    double start = hs_seconds();
    hs_image result = {0};
    st = hs_style_job_run(ctx, &job, &result);
    size_t peak = hs_memory_peak(ctx);
    hs_context_destroy(ctx);
    /* interrupted, the image so far is written too, and the exit code says so */
    hs_status saved = result.pixels ? cli_save_image(output, &result, model, argc, argv, NULL) : st;
    if (st == HS_ERR_INTERRUPTED && saved == HS_OK)
        st = hs_fail(HS_ERR_INTERRUPTED, "interrupted: wrote the painting so far to %s", output);
    else if (st == HS_OK)
        st = saved;
    if (st == HS_OK && !common.quiet)
        printf("wrote %s (%dx%d) in %.1f s, peak device memory %.0f MiB\n", output, result.width,
               result.height, hs_seconds() - start, peak / 1048576.0);
    hs_image_free(&result);
    return cli_report(st);
}
