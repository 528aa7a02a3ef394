/* cli_style.c — `hirestyle style`: paint the content image in the style of
 * one or more style images. Flag names follow neural-style's where they
 * overlap (GNU long options: -style_weight becomes --style-weight). */
#include "cli.h"
#include "style_job.h"
#include "timer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void style_help(void)
{
    printf(
        "usage: hirestyle style -c C.jpg -s A.jpg[,B.jpg...] [OPTIONS] -o out.png\n"
        "       hirestyle style -c DIR -s A.jpg[,B.jpg...] [OPTIONS] -o DIR\n\n"
        "Gatys et al.'s style transfer: optimise an image so that its deep features\n"
        "match the content image and its Gram matrices a blend of the style images.\n\n"
        "Images:\n"
        "  -c, --content FILE|DIR      content image, PNG, JPEG, WebP or TIFF, or a\n"
        "                              folder of them, each painted to the folder -o\n"
        "                              names as NAME.png (required)\n"
        "  -s, --style A[,B...]        style images, the same formats (required); give\n"
        "                              it again to add more\n"
        "      --style-blend-weights W[,W...]\n"
        "                              weight per style image, normalised to sum 1\n"
        "                              (default: equal)\n"
        "  -o, --output FILE           .png, .jpg, .webp or .tif (default: out.png)\n"
        "      --image-size N          longer side of the output in pixels (default: 512)\n"
        "      --start-size N          longer side of the first, coarsest scale; the\n"
        "                              painting grows from it to --image-size\n"
        "                              (default: 256)\n"
        "      --scale-step F          each scale this much larger than the last\n"
        "                              (default: 2)\n"
        "      --style-scale F         style images' size relative to the output\n"
        "                              (default: 1.0)\n"
        "      --original-colors       keep the content's colours: transfer luminance\n"
        "                              only\n"
        "Optimisation:\n"
        "  -n, --iters N[,N...]        iterations of the first scale, or of every scale\n"
        "                              in turn (the last repeats) (default: 300)\n"
        "      --iters-fine N          iterations of every finer scale (default: a third\n"
        "                              of the scale before, at least 20)\n"
        "      --block N               evaluate the loss in blocks of N px (exact, for\n"
        "                              images beyond device memory; default: only when\n"
        "                              needed, 0 = never)\n"
        "      --optimizer adam|lbfgs  (default: adam)\n"
        "      --learning-rate F       Adam step on RGB in [0,1] (default: 0.02)\n"
        "      --init content|random|image  starting image: image is --init-image, or\n"
        "                              the content without it, as neural-style's\n"
        "                              (default: content)\n"
        "      --init-image FILE       the starting image for --init image\n"
        "      --seed N                random seed of --init random and the jitter\n"
        "                              (default: 1)\n"
        "      --jitter | --no-jitter  move the image by -2..+1 px each step, against\n"
        "                              the grid stride-2 layers print (default: on for\n"
        "                              resnet50, off for vgg19; always off with lbfgs)\n"
        "Losses (defaults per network: vgg19 | resnet50):\n"
        "      --weights FILE          network weights (default:\n"
        "                              weights/vgg19.safetensors if fetched, else\n"
        "                              weights/resnet50.safetensors)\n"
        "      --content-weight F      (default: 1 | 1)\n"
        "      --style-weight F        (default: 1e6 | 3; neural-style's 5 and 100 are\n"
        "                              for the caffe VGG19's 0..255 input, not\n"
        "                              torchvision's)\n"
        "      --tv-weight F           total-variation weight (default: 0.001 | 0)\n"
        "      --content-layers L,...  (default: relu4_2 | res3d)\n"
        "      --style-layers L[:W],...  layers with optional weights (default:\n"
        "                              relu1_1,relu2_1,relu3_1,relu4_1,relu5_1 |\n"
        "                              conv1_relu,res2c,res3d,res4f)\n"
        "Output:\n"
        "      --print-every N         without a terminal, print the losses every N\n"
        "                              iterations (default: 50)\n"
        "      --save-every N          also save OUTPUT_<iter>.png every N iterations\n"
        "                              (default: 0, never)\n");
    cli_style_batch_help();
    cli_progress_help(1);
    cli_common_help();
    printf("\n"
           "Options take --name=value too; each is given once, but --style adds to the\n"
           "list. neural-style's names work where they mean the same: -content_image,\n"
           "-style_image, -style_blend_weights, -output_image, -image_size,\n"
           "-num_iterations, -content_weight, -style_weight, -tv_weight, -init,\n"
           "-init_image, -original_colors 0|1, -save_iter, -print_iter, -seed,\n"
           "-optimizer, -style_scale, -content_layers, -style_layers and -gpu N (-1: the\n"
           "CPU). -s 4 is refused: here -s is --style, not a scale.\n");
}

enum style_option {
    S_CONTENT = 1, S_STYLE, S_BLEND, S_OUTPUT, S_IMAGE_SIZE, S_START_SIZE, S_SCALE_STEP,
    S_STYLE_SCALE, S_ORIGINAL_COLORS, S_ITERS, S_ITERS_FINE, S_BLOCK, S_OPTIMIZER,
    S_LEARNING_RATE, S_INIT, S_INIT_IMAGE, S_SEED, S_JITTER, S_WEIGHTS, S_CONTENT_WEIGHT,
    S_STYLE_WEIGHT, S_TV_WEIGHT, S_CONTENT_LAYERS, S_STYLE_LAYERS, S_PRINT_EVERY, S_SAVE_EVERY,
};

/* The third column is neural-style's name where it means the same. */
static const cli_option style_options[] = {
    {"content", 'c', "content_image", CLI_VALUE, S_CONTENT},
    {"style", 's', "style_image", CLI_LIST, S_STYLE},
    {"style-blend-weights", 0, "style_blend_weights", CLI_VALUE, S_BLEND},
    {"output", 'o', "output_image", CLI_VALUE, S_OUTPUT},
    {"image-size", 0, "image_size", CLI_VALUE, S_IMAGE_SIZE},
    {"start-size", 0, NULL, CLI_VALUE, S_START_SIZE},
    {"scale-step", 0, NULL, CLI_VALUE, S_SCALE_STEP},
    {"style-scale", 0, "style_scale", CLI_VALUE, S_STYLE_SCALE},
    {"original-colors", 0, NULL, CLI_FLAG, S_ORIGINAL_COLORS},
    {NULL, 0, "original_colors", CLI_VALUE, S_ORIGINAL_COLORS}, /* -original_colors 0|1 */
    {"iters", 'n', "num_iterations", CLI_VALUE, S_ITERS},
    {"num-iterations", 0, NULL, CLI_VALUE, S_ITERS},
    {"iters-fine", 0, NULL, CLI_VALUE, S_ITERS_FINE},
    {"block", 0, NULL, CLI_VALUE, S_BLOCK},
    {"optimizer", 0, "optimizer", CLI_VALUE, S_OPTIMIZER},
    {"learning-rate", 0, NULL, CLI_VALUE, S_LEARNING_RATE}, /* neural-style's is for 0..255 */
    {"init", 0, "init", CLI_VALUE, S_INIT},
    {"init-image", 0, "init_image", CLI_VALUE, S_INIT_IMAGE},
    {"seed", 0, "seed", CLI_VALUE, S_SEED},
    {"jitter", 0, NULL, CLI_FLAG, S_JITTER},
    {"no-jitter", 0, NULL, CLI_FLAG, S_JITTER},
    {"weights", 0, NULL, CLI_VALUE, S_WEIGHTS},
    {"content-weight", 0, "content_weight", CLI_VALUE, S_CONTENT_WEIGHT},
    {"style-weight", 0, "style_weight", CLI_VALUE, S_STYLE_WEIGHT},
    {"tv-weight", 0, "tv_weight", CLI_VALUE, S_TV_WEIGHT},
    {"content-layers", 0, "content_layers", CLI_VALUE, S_CONTENT_LAYERS},
    {"style-layers", 0, "style_layers", CLI_VALUE, S_STYLE_LAYERS},
    {"print-every", 0, "print_iter", CLI_VALUE, S_PRINT_EVERY},
    {"save-every", 0, "save_iter", CLI_VALUE, S_SAVE_EVERY},
};

/* Add a comma list of file names to the style images (the list is split
 * in place: argv strings are writable). */
static int add_styles(hs_style_job *job, const char *spelling, char *list)
{
    for (char *save = NULL, *item = strtok_r(list, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        if (job->style_count == HS_STYLE_MAX_IMAGES) {
            fprintf(stderr, "hirestyle: %s: at most %d style images\n", spelling,
                    HS_STYLE_MAX_IMAGES);
            return -1;
        }
        job->styles[job->style_count++] = item;
    }
    return 0;
}

/* -s is neural-style's style image here, and realesrgan's scale elsewhere:
 * a number that is no file was meant as a scale. */
static int check_not_scale(const char *spelling, const char *value)
{
    if (strcmp(spelling, "-s") != 0 || !value[0] || strspn(value, "0123456789") != strlen(value) ||
        access(value, F_OK) == 0)
        return 0;
    fprintf(stderr, "hirestyle: -s %s: -s is --style here (a style image), not realesrgan's "
            "scale: write --style FILE, or --upscale %s for the scale (`hirestyle run`; "
            "`hirestyle upscale --scale %s` for a photo)\n", value, value, value);
    return -1;
}

/* A choice among `names` (NULL-terminated): its index, or -1 after saying so. */
static int choice(const char *spelling, const char *value, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(value, names[i]) == 0) return i;
    fprintf(stderr, "hirestyle: %s is %s", spelling, names[0]);
    for (int i = 1; names[i]; i++) fprintf(stderr, "%s%s", names[i + 1] ? ", " : " or ", names[i]);
    fprintf(stderr, ", not '%s'\n", value);
    return -1;
}

static int in_range(const char *spelling, float v, float above, float most)
{
    if (v > above && v <= most) return 0;
    fprintf(stderr, "hirestyle: %s is above %g and at most %g\n", spelling, above, most);
    return -1;
}

static int set_style_option(void *state, const cli_option *o, const char *spelling,
                            const char *value)
{
    hs_style_job *job = state;
    const char *n = spelling;
    char *v = (char *)value; /* argv strings are writable */
    int k;
    switch (o->id) {
    case S_CONTENT: job->content = v; return 0;
    case S_STYLE: return check_not_scale(n, v) || add_styles(job, n, v) ? -1 : 0;
    case S_BLEND:
        job->blend_count = cli_parse_float_list(n, v, job->blend, HS_STYLE_MAX_IMAGES);
        return job->blend_count > 0 ? 0 : -1;
    case S_OUTPUT: job->output = v; return 0;
    case S_IMAGE_SIZE: return cli_parse_int(n, v, 16, 65536, &job->image_size);
    case S_START_SIZE: return cli_parse_int(n, v, 16, 65536, &job->start_size);
    case S_SCALE_STEP:
        return cli_parse_float(n, v, &job->scale_step) || in_range(n, job->scale_step, 1, 16);
    case S_STYLE_SCALE:
        return cli_parse_float(n, v, &job->style_scale) || in_range(n, job->style_scale, 0, 16);
    case S_ORIGINAL_COLORS: /* a flag, or neural-style's -original_colors 0|1 */
        job->original_colors = 1;
        return v ? cli_parse_int(n, v, 0, 1, &job->original_colors) : 0;
    case S_ITERS:
        job->iterations_count =
            cli_parse_int_list(n, v, 1, 1000000, job->iterations, HS_SCHEDULE_MAX_SCALES);
        return job->iterations_count > 0 ? 0 : -1;
    case S_ITERS_FINE: return cli_parse_int(n, v, 1, 1000000, &job->iterations_fine);
    case S_BLOCK: return cli_parse_int(n, v, 0, 65536, &job->block);
    case S_OPTIMIZER:
        if ((k = choice(n, v, (const char *const[]){"adam", "lbfgs", NULL})) < 0) return -1;
        job->optimizer = k ? HS_OPT_LBFGS : HS_OPT_ADAM;
        return 0;
    case S_LEARNING_RATE: return cli_parse_float(n, v, &job->learning_rate);
    case S_INIT:
        if ((k = choice(n, v, (const char *const[]){"content", "random", "image", NULL})) < 0)
            return -1;
        job->init = k == 0 ? HS_INIT_CONTENT : k == 1 ? HS_INIT_RANDOM : HS_INIT_IMAGE;
        return 0;
    case S_INIT_IMAGE: job->init_image = v; return 0;
    case S_SEED:
        if (cli_parse_int(n, v, 0, 2147483647, &k)) return -1;
        job->seed = (unsigned)k;
        return 0;
    case S_JITTER: job->jitter = strcmp(o->name, "jitter") == 0; return 0;
    case S_WEIGHTS: job->weights = v; return 0;
    case S_CONTENT_WEIGHT: return cli_parse_float(n, v, &job->content_weight);
    case S_STYLE_WEIGHT: return cli_parse_float(n, v, &job->style_weight);
    case S_TV_WEIGHT: return cli_parse_float(n, v, &job->tv_weight);
    case S_CONTENT_LAYERS: job->content_layers = v; return 0;
    case S_STYLE_LAYERS: job->style_layers = v; return 0;
    case S_PRINT_EVERY: return cli_parse_int(n, v, 0, 1000000, &job->print_every);
    case S_SAVE_EVERY: return cli_parse_int(n, v, 0, 1000000, &job->save_every);
    }
    return -1;
}

cli_table cli_style_table(hs_style_job *job)
{
    return CLI_TABLE(style_options, set_style_option, job);
}

/* Checks that need all options: required files, consistent counts. */
int cli_style_check(hs_style_job *job)
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
    /* as neural-style's -init image: the content image unless another is given */
    if (job->init == HS_INIT_IMAGE && !job->init_image) job->init = HS_INIT_CONTENT;
    return 0;
}

void cli_style_batch_help(void)
{
    printf("Folders (--content DIR -o DIR): the network, the style images and their\n"
           "targets are prepared once per painter; a bad image is reported and the others\n"
           "go on (the exit code is the first failure's, after a summary); Ctrl-C writes\n"
           "no half-painted image.\n"
           "      --overwrite             redo the images whose output exists (default:\n"
           "                              skip them)\n"
           "      --shard I/N             paint every N-th image from the I-th (from 0), by\n"
           "                              name, so N processes share a folder (default: from\n"
           "                              SLURM_ARRAY_TASK_ID/_MIN/_COUNT, or\n"
           "                              JOB_COMPLETION_INDEX of --shards N or\n"
           "                              $HIRESTYLE_SHARDS)\n"
           "      --shards N              the shard count for JOB_COMPLETION_INDEX\n"
           "  -j, --jobs L:P:S            threads: P painters per device, each with its\n"
           "                              own context, S writers; L is unused (each\n"
           "                              painter reads its photo) (default: 1:1:2);\n"
           "                              -g N,M,... spreads the photos over the devices\n");
}

#define MAX_PAINTERS 64

/* What every photo of a folder shares: a painter per context, each with
 * its copy of the job (only the first prints its plan and reports progress). */
typedef struct folder_state {
    hs_style_batch *painters[MAX_PAINTERS];
    hs_style_job jobs[MAX_PAINTERS];
    int count;
    int argc;
    char **argv;
} folder_state;

/* One photo of a folder, painted by the worker's painter (cli_batch_run's
 * proc stage); interrupted, nothing is written, so that a rerun paints it
 * again. */
static hs_status paint_entry(void *state, int worker, const char *input, const char *output,
                             const hs_image *in, hs_image *painting)
{
    (void)in; /* the painter reads the photo itself */
    const folder_state *f = state;
    return hs_style_batch_paint(f->painters[worker], input, output, painting);
}

static hs_status save_entry(void *state, const char *output, const hs_image *painting)
{
    const folder_state *f = state;
    return cli_save_image(output, painting, hs_style_batch_model(f->painters[0]), f->argc,
                          f->argv, NULL);
}

/* --content DIR -o DIR: every photo of this shard with the same styles,
 * spread over the contexts (-g N,M and -j's proc count). */
static int style_folder(hs_style_job *job, cli_common *common, cli_batch_options *options,
                        const cli_progress *progress, int argc, char **argv)
{
    char model[4096], probe[4096];
    cli_batch batch = {0};
    hs_status st = cli_batch_prepare(job->content, job->output, 0, options, &batch, probe,
                                     sizeof probe);
    if (st == HS_OK) st = hs_style_job_weights(job, model, sizeof model);
    if (st != HS_OK) {
        cli_batch_free(&batch);
        return cli_report(st);
    }
    if (!common->quiet)
        cli_batch_header("painting", &batch, options, job->content, job->output);
    hs_context *ctxs[MAX_PAINTERS];
    int count;
    int rc = cli_open_contexts(common, options->threads[1], ctxs, MAX_PAINTERS, &count);
    if (rc) {
        cli_batch_free(&batch);
        return rc;
    }
    cli_catch_interrupt();
    folder_state *f = calloc(1, sizeof *f);
    st = f ? HS_OK : hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    for (; st == HS_OK && f->count < count; f->count++) {
        f->jobs[f->count] = *job;
        if (f->count > 0) { /* one painter's progress: sinks are not called from two threads */
            f->jobs[f->count].quiet = 1;
            f->jobs[f->count].progress = NULL;
        }
        st = hs_style_batch_open(ctxs[f->count], &f->jobs[f->count], &f->painters[f->count]);
        if (st != HS_OK) break;
    }
    if (st == HS_OK) {
        f->argc = argc;
        f->argv = argv;
        cli_batch_job run = {&batch, job->content, job->output, 0, options, common->quiet,
                             "painted", &progress->sinks};
        cli_batch_stages stages = {NULL, paint_entry, save_entry, count, ctxs};
        rc = cli_batch_run(&run, &stages, f);
    } else {
        rc = cli_report(st);
    }
    for (int k = 0; f && k < f->count; k++) hs_style_batch_close(f->painters[k]);
    free(f);
    cli_close_contexts(ctxs, count);
    cli_batch_free(&batch);
    return rc;
}

/* --content FILE: one painting. */
static int style_one(hs_style_job *job, const cli_common *common, int argc, char **argv)
{
    const char *output = job->output;
    char model[4096];
    hs_status st = cli_check_output_format(output, 0);
    if (st == HS_OK) st = hs_style_job_weights(job, model, sizeof model);
    if (st != HS_OK) return cli_report(st);
    hs_context *ctx;
    int rc = cli_open_context(common, &ctx);
    if (rc) return rc;
    cli_catch_interrupt();
    double start = hs_seconds();
    hs_image result = {0};
    st = hs_style_job_run(ctx, job, &result);
    size_t peak = hs_memory_peak(ctx);
    hs_context_destroy(ctx);
    /* interrupted, the image so far is written too, and the exit code says so */
    hs_status saved = result.pixels ? cli_save_image(output, &result, model, argc, argv, NULL) : st;
    if (st == HS_ERR_INTERRUPTED && saved == HS_OK)
        st = hs_fail(HS_ERR_INTERRUPTED, "interrupted: wrote the painting so far to %s", output);
    else if (st == HS_OK)
        st = saved;
    if (st == HS_OK && !common->quiet)
        printf("wrote %s (%dx%d) in %.1f s, peak device memory %.0f MiB\n", output, result.width,
               result.height, hs_seconds() - start, peak / 1048576.0);
    hs_image_free(&result);
    return cli_report(st);
}

int cli_style(int argc, char **argv)
{
    hs_style_job job;
    hs_style_job_defaults(&job);
    cli_common common = {0};
    cli_batch_options options;
    cli_progress progress;
    cli_table tables[] = {cli_style_table(&job), cli_batch_table(&options),
                          cli_progress_table(&progress, 1), cli_common_table(&common)};
    int rc = cli_parse("style", argc, argv, tables, 4);
    if (rc == CLI_HELP) style_help();
    if (rc) return rc == CLI_HELP ? 0 : rc;
    if (cli_style_check(&job)) return HS_ERR_USAGE;
    hs_status st = cli_progress_start(&progress, &common);
    if (st != HS_OK) {
        cli_progress_stop(&progress);
        return cli_report(st);
    }
    job.quiet = common.quiet;
    job.verbose = common.context.verbose;
    job.argc = argc;
    job.argv = argv;
    job.progress = &progress.sinks;
    rc = cli_is_folder(job.content)
             ? style_folder(&job, &common, &options, &progress, argc, argv)
             : style_one(&job, &common, argc, argv);
    cli_progress_stop(&progress);
    return rc;
}
