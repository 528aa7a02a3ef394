/* cli_upscale.c — `hirestyle upscale`: enlarge an image, or a folder of them
 * (this shard's share: cli_batch.c), with a GAN
 * super-resolution network, in the manner of realesrgan-ncnn-vulkan
 * (-i -o -s -t -n -g -f -j -x; its -m, a folder, is --models-dir here). The tiling and the out-of-memory retry are
 * upscale.c's; this file reads the options, finds the weights file, shows
 * progress on a terminal and writes the result atomically (PNG, JPEG, WebP
 * or TIFF, with the input's ICC profile and EXIF; a PNG also gets the
 * command in a tEXt chunk). 16-bit input stays 16-bit where the output
 * format allows. Everything that can be checked before the slow part
 * (output name and directory, weights file, input image) is checked first.
 */
#include "cli.h"
#include "image_io.h"
#include "timer.h"
#include "upscale.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_SIZE 4096
#define DEFAULT_SCALE 4

typedef struct upscale_args {
    cli_common common;
    const char *input, *output, *model, *models_dir;
    int scale, scale_given, tile;
    int tta;              /* -x: the mean of the 8 flips and rotations */
    int adapt_steps;      /* --adapt: fine-tune the model on each image first */
    cli_batch_options batch; /* folders: --overwrite, --shard */
    hs_save_options save; /* -f, --quality, --bits */
    cli_progress progress; /* --json, --web */
} upscale_args;

static void upscale_help(void)
{
    printf("usage: hirestyle upscale -i IN -o OUT.png|.jpg|.webp|.tif [OPTIONS]\n\n"
           "Enlarge an image 2, 3, 4 or 8 times with a GAN super-resolution network\n"
           "(esrgan-thick from UpscalerJS by default). Any size works: the image is cut into\n"
           "overlapping tiles that give the same result as one piece. Grey images stay grey;\n"
           "alpha is enlarged bicubically.\n\n"
           "Options:\n"
           "  -i, --input FILE|DIR   PNG, JPEG, WebP or TIFF image to enlarge, or a folder\n"
           "                         of them: each is written to the folder -o names, as\n"
           "                         NAME.png (or -f's format) (required)\n"
           "  -o, --output FILE      image to write, replaced atomically, in the format of\n"
           "                         its extension; keeps the input's ICC profile and EXIF\n"
           "                         (required)\n"
           "  -f, --format FMT       png, jpg, webp or tif, whatever the extension\n"
           "  --quality N            JPEG and WebP quality, 1 to 100 (default: 90 for JPEG;\n"
           "                         100 for WebP, which is lossless)\n"
           "  --bits 8|16            bits per sample of a PNG or TIFF (default: the input's)\n"
           "  -s, --scale N          2, 3, 4 or 8 (default: %d; with -m, the model's scale)\n"
           "  -m, --model FILE|NAME  the model: a path to weights (.safetensors) or to an\n"
           "                         ncnn model (.param, its .bin beside it), or a name\n"
           "                         that `hirestyle models` lists, e.g. realesrgan-x4plus\n"
           "                         (default: esrgan-thick-x{scale}; NAME-x{scale} is\n"
           "                         tried after NAME, NAME-x4 without -s)\n"
           "  -n, --name NAME        the same as -m NAME (realesrgan-ncnn-vulkan's -n)\n"
           "      --models-dir DIR   look names up in DIR only (default: the weights folders\n"
           "                         and their ncnn/ subfolders)\n"
           "  -t, --tile N           tile side in input pixels; 0 = the largest that needs\n"
           "                         at most half the device memory (less under\n"
           "                         HIRESTYLE_MEMORY_LIMIT_MB) and no tensor over its\n"
           "                         largest allocation or 2^31 floats (default: 0). When\n"
           "                         the device runs out of memory the tile is halved and\n"
           "                         retried.\n"
           "  -x, --tta              test-time augmentation: the mean of the outputs for the\n"
           "                         8 flips and quarter turns of the image (8x the time)\n"
           "      --adapt [N]        first fine-tune the model (a .safetensors one) for N\n"
           "                         steps (default: %d) on crops of the image itself, so\n"
           "                         that it learns the image's own texture (internal\n"
           "                         learning; e.g. for paintings; see `hirestyle train-sr`)\n"
           "  -j, --jobs L:P:S       threads: L load (decode), P proc per device, S save\n"
           "                         (encode and write) (default: 1:1:2); each proc thread\n"
           "                         has its own context and copy of the net. Folders:\n"
           "                         images go to the proc threads of every -g device; one\n"
           "                         image: its tiles do (--adapt: on the first alone)\n"
           "Folders: the net is loaded once per proc thread; a bad image is reported and\n"
           "the others go on (the exit code is the first failure's, after a summary).\n"
           "      --overwrite        redo images whose output exists (default: skip them)\n"
           "      --shard I/N        upscale every N-th image from the I-th (from 0), by\n"
           "                         name: N processes or machines share a folder\n"
           "                         (default: from SLURM_ARRAY_TASK_ID/_MIN/_COUNT, or\n"
           "                         JOB_COMPLETION_INDEX of --shards N or\n"
           "                         $HIRESTYLE_SHARDS)\n"
           "      --shards N         the shard count for JOB_COMPLETION_INDEX (Kubernetes)\n",
           DEFAULT_SCALE, CLI_ADAPT_DEFAULT_STEPS);
    cli_progress_help(1);
    cli_common_help();
    printf("\n"
           "Options take --name=value too, each given once. The one-letter ones are\n"
           "realesrgan-ncnn-vulkan's; its -m is a folder of models: write --models-dir DIR.\n");
}

enum upscale_option {
    U_INPUT = 1, U_OUTPUT, U_MODEL, U_MODELS_DIR, U_SCALE, U_TILE, U_FORMAT, U_QUALITY, U_BITS,
    U_TTA, U_ADAPT,
};

/* Named as realesrgan-ncnn-vulkan's where they mean the same. */
static const cli_option upscale_options[] = {
    {"input", 'i', NULL, CLI_VALUE, U_INPUT},
    {"output", 'o', NULL, CLI_VALUE, U_OUTPUT},
    {"model", 'm', NULL, CLI_VALUE, U_MODEL},
    {"name", 'n', NULL, CLI_VALUE, U_MODEL},
    {"models-dir", 0, NULL, CLI_VALUE, U_MODELS_DIR},
    {"scale", 's', NULL, CLI_VALUE, U_SCALE},
    {"tile", 't', NULL, CLI_VALUE, U_TILE},
    {"format", 'f', NULL, CLI_VALUE, U_FORMAT},
    {"quality", 0, NULL, CLI_VALUE, U_QUALITY},
    {"bits", 0, NULL, CLI_VALUE, U_BITS},
    {"tta", 'x', NULL, CLI_FLAG, U_TTA},
    {"adapt", 0, NULL, CLI_OPTIONAL_COUNT, U_ADAPT},
};

/* -s is realesrgan's scale here; a style image was meant for `style`. */
static int parse_scale(const char *spelling, const char *value, int *scale)
{
    if (strcmp(spelling, "-s") == 0 && strspn(value, "0123456789") != strlen(value)) {
        fprintf(stderr, "hirestyle: -s %s: -s is --scale here (realesrgan's), not neural-style's "
                "style image: write --scale N, or `hirestyle style --style FILE` to paint\n",
                value);
        return -1;
    }
    if (cli_parse_int(spelling, value, 2, 8, scale)) return -1;
    if (*scale == 2 || *scale == 3 || *scale == 4 || *scale == 8) return 0;
    fprintf(stderr, "hirestyle: %s takes 2, 3, 4 or 8, not %d\n", spelling, *scale);
    return -1;
}

/* realesrgan-ncnn-vulkan's -m is a folder of models, hirestyle's the model. */
static int check_model(const char *spelling, const char *value)
{
    struct stat st;
    if (stat(value, &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
    fprintf(stderr, "hirestyle: %s %s is a folder: write --models-dir %s for a folder of models "
            "(realesrgan-ncnn-vulkan's -m), with -n NAME\n", spelling, value, value);
    return -1;
}

static int set_option(void *state, const cli_option *o, const char *spelling, const char *value)
{
    upscale_args *a = state;
    switch (o->id) {
    case U_INPUT: a->input = value; return 0;
    case U_OUTPUT: a->output = value; return 0;
    case U_MODEL: a->model = value; return check_model(spelling, value);
    case U_MODELS_DIR: a->models_dir = value; return 0;
    case U_SCALE: a->scale_given = 1; return parse_scale(spelling, value, &a->scale);
    case U_TILE: return cli_parse_int(spelling, value, 0, HS_IMAGE_MAX_SIDE, &a->tile);
    case U_QUALITY: return cli_parse_int(spelling, value, 1, 100, &a->save.quality);
    case U_TTA: a->tta = 1; return 0;
    case U_ADAPT: return cli_parse_adapt_steps(spelling, value, &a->adapt_steps);
    case U_BITS:
        if (!cli_parse_int(spelling, value, 8, 16, &a->save.bits) &&
            (a->save.bits == 8 || a->save.bits == 16))
            return 0;
        fprintf(stderr, "hirestyle: %s takes 8 or 16, not '%s'\n", spelling, value);
        return -1;
    case U_FORMAT:
        if ((a->save.format = hs_image_format_from_name(value))) return 0;
        fprintf(stderr, "hirestyle: %s takes png, jpg, webp or tif, not '%s'\n", spelling, value);
        return -1;
    }
    return -1;
}

static int parse_args(upscale_args *a, int argc, char **argv)
{
    *a = (upscale_args){.scale = DEFAULT_SCALE};
    cli_table tables[] = {CLI_TABLE(upscale_options, set_option, a),
                          cli_batch_table(&a->batch), cli_progress_table(&a->progress, 1),
                          cli_common_table(&a->common)};
    int rc = cli_parse("upscale", argc, argv, tables, 4);
    if (rc == CLI_HELP) upscale_help();
    if (rc) return rc;
    hs_status st = cli_progress_start(&a->progress, &a->common);
    if (st != HS_OK) return cli_report(st);
    if (!a->input || !a->output) {
        fprintf(stderr, "hirestyle upscale: -i IN and -o OUT are required (see --help)\n");
        return HS_ERR_USAGE;
    }
    return 0;
}

/* ---- Checks before the slow part ------------------------------------------------- */

/* The output's format, from its name unless `format` is given (the name
 * must then not say another), in a directory we can write to. */
hs_status cli_check_output_format(const char *output, hs_image_format format)
{
    const char *slash = strrchr(output, '/');
    hs_image_format named = hs_image_format_from_path(output);
    if (!format && !named)
        return hs_fail(HS_ERR_USAGE, "%s: name the output .png, .jpg, .webp or .tif", output);
    if (format && named && format != named)
        return hs_fail(HS_ERR_USAGE, "%s: the name says %s but the format asked for is %s",
                       output, hs_image_format_label(named), hs_image_format_label(format));
    char dir[PATH_SIZE];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - output) + 1 : 1, slash ? output : ".");
    if (access(dir, W_OK) != 0)
        return hs_fail(HS_ERR_IO, "%s: cannot write into directory %s: %s", output, dir,
                       strerror(errno));
    return HS_OK;
}


/* The model file: `model` as cli_find_model takes it (NAME-x4 tried after
 * NAME when no scale was asked for, as the upscalers' default is x4), by
 * default esrgan-thick-x{scale}. */
hs_status cli_find_sr_model(const char *model, const char *models_dir, int scale, char *path,
                            size_t size)
{
    if (model) return cli_find_model(model, models_dir, scale ? scale : 4, path, size);
    char name[64];
    snprintf(name, sizeof name, "esrgan-thick-x%d.safetensors", scale);
    return hs_find_weights(name, path, size);
}

/* The net must be a super-resolution net, of `scale` unless that is 0. */
hs_status cli_check_sr_model(const hs_net *net, const char *path, int scale)
{
    if (net->scale < 1)
        return hs_fail(HS_ERR_USAGE, "%s: a %s network, not a super-resolution one", path,
                       net->arch);
    if (scale && net->scale != scale)
        return hs_fail(HS_ERR_USAGE, "%s upscales x%d, not x%d: pick an x%d model", path,
                       net->scale, scale, scale);
    return HS_OK;
}

/* ---- The command --------------------------------------------------------------- */

/* The net, checked to be super-resolution of the scale asked for, ready
 * for inference. */
static hs_status load_upscaler(hs_context *ctx, const upscale_args *a, const char *model,
                               hs_net *net)
{
    hs_status st = hs_net_load(ctx, model, net);
    if (st != HS_OK) return st;
    st = cli_check_sr_model(net, model, a->scale_given ? a->scale : 0);
    if (st == HS_OK) st = hs_net_for_inference(net);
    if (st != HS_OK) hs_net_free(net);
    return st;
}

/* The output format can hold --bits. */
static hs_status check_bits(const upscale_args *a, const char *output)
{
    hs_image_format format = a->save.format ? a->save.format : hs_image_format_from_path(output);
    if (a->save.bits == 16 && !hs_image_format_has_16bit(format))
        return hs_fail(HS_ERR_USAGE, "%s: %s holds 8 bits per sample; --bits 16 needs PNG or TIFF",
                       output, hs_image_format_label(format));
    return HS_OK;
}

/* No input larger than an output of HS_IMAGE_MAX_BYTES (as RGBA) allows is
 * decoded; the scale is the smallest possible when only the model knows it. */
static int64_t input_pixel_budget(const upscale_args *a)
{
    int64_t scale = a->scale_given || !a->model ? a->scale : 2;
    return (int64_t)(HS_IMAGE_MAX_BYTES / 4) / (scale * scale);
}

/* The nets of the contexts, one each, *loaded of them: the same model on
 * every device and proc thread. */
static hs_status load_upscalers(hs_context **ctxs, int count, const upscale_args *a,
                                const char *model, hs_net *nets, int *loaded)
{
    for (*loaded = 0; *loaded < count; (*loaded)++) {
        hs_status st = load_upscaler(ctxs[*loaded], a, model, &nets[*loaded]);
        if (st != HS_OK) return st;
    }
    return HS_OK;
}

static void free_upscalers(hs_net *nets, int count)
{
    for (int k = 0; k < count; k++) hs_net_free(&nets[k]);
}

/* `in` (loaded from input) upscaled into *out, with its ICC profile and
 * EXIF: by net, helped by peers (the same model on other contexts) that
 * take tiles, or with --adapt by a copy of the model fitted to `in`, alone.
 * The tile events go to `events` (NULL: none). */
static hs_status upscale_to(hs_net *net, hs_net *const *peers, int peer_count,
                            const upscale_args *a, const char *model, const char *input,
                            const hs_image *in, const cli_progress *events, int show,
                            cli_tiles *progress, hs_image *out)
{
    hs_upscale_options opts = {.tile = a->tile, .progress = cli_tiles_progress,
                               .progress_arg = progress, .pre_pad = HS_UPSCALE_PRE_PAD,
                               .tta = a->tta, .peers = peers,
                               .peer_count = a->adapt_steps ? 0 : peer_count};
    hs_net adapted;
    hs_status st = a->adapt_steps ? cli_adapt_upscaler(net->ctx, model, in, a->adapt_steps,
                                                       a->common.quiet,
                                                       events ? &events->sinks : NULL, &adapted)
                                  : HS_OK;
    int use_adapted = a->adapt_steps && st == HS_OK;
    cli_tiles_begin(progress, events, !show, in, net->scale);
    if (st == HS_OK) st = hs_upscale_image(use_adapted ? &adapted : net, in, &opts, out);
    if (use_adapted) hs_net_free(&adapted);
    if (st != HS_OK) st = hs_fail_context(st, "%s", input);
    if (st == HS_OK) st = hs_image_copy_meta(out, in);
    return st;
}

/* -i FILE -o FILE: everything checked before the contexts are made; with
 * several (-g N,M, -j's proc count), they share the tiles. */
static int upscale_one(const upscale_args *a, int argc, char **argv)
{
    char model[PATH_SIZE];
    hs_image in = {0}, out = {0};
    hs_load_options load = {.max_pixels = input_pixel_budget(a), .keep_16bit = 1};
    hs_status st = cli_check_output_format(a->output, a->save.format);
    if (st == HS_OK) st = check_bits(a, a->output);
    if (st == HS_OK) st = cli_find_sr_model(a->model, a->models_dir, a->scale, model, sizeof model);
    if (st == HS_OK && a->adapt_steps) st = cli_check_adaptable(model);
    if (st == HS_OK) st = hs_image_load_with(a->input, &load, &in);
    if (st != HS_OK) return cli_report(st);
    hs_context *ctxs[HS_UPSCALE_MAX_NETS];
    int count, loaded = 0;
    int rc = cli_open_contexts(&a->common, a->batch.threads[1], ctxs, HS_UPSCALE_MAX_NETS, &count);
    if (rc) {
        hs_image_free(&in);
        return rc;
    }
    cli_tiles progress = {0};
    cli_catch_interrupt();
    double start = hs_seconds();
    hs_net nets[HS_UPSCALE_MAX_NETS], *peers[HS_UPSCALE_MAX_NETS];
    for (int k = 1; k < count; k++) peers[k - 1] = &nets[k];
    st = load_upscalers(ctxs, count, a, model, nets, &loaded);
    int scale = st == HS_OK ? nets[0].scale : 0;
    if (st == HS_OK)
        st = upscale_to(&nets[0], peers, count - 1, a, model, a->input, &in, &a->progress,
                        !a->common.quiet, &progress, &out);
    if (st == HS_OK) st = cli_save_image(a->output, &out, model, argc, argv, &a->save);
    free_upscalers(nets, loaded);
    cli_close_contexts(ctxs, count);
    if (st == HS_OK && !a->common.quiet)
        printf("wrote %s: %dx%d from %dx%d with %s, %d tile%s of %d px%s, %.1f s\n", a->output,
               in.width * scale, in.height * scale, in.width, in.height, model,
               progress.tiles, progress.tiles == 1 ? "" : "s", progress.tile,
               count > 1 && !a->adapt_steps ? " shared by the devices" : "",
               hs_seconds() - start);
    hs_image_free(&in);
    hs_image_free(&out);
    return cli_report(st);
}

/* What every image of a folder shares: a net per context. */
typedef struct folder_state {
    hs_net *nets;
    int workers;
    const upscale_args *a;
    const char *model;
    int argc;
    char **argv;
} folder_state;

/* The stages of cli_batch_run: decode, upscale on the worker's net, write. */
static hs_status load_entry(void *state, const char *input, hs_image *in)
{
    const folder_state *f = state;
    hs_load_options load = {.max_pixels = input_pixel_budget(f->a), .keep_16bit = 1};
    return hs_image_load_with(input, &load, in);
}

static hs_status upscale_entry(void *state, int worker, const char *input, const char *output,
                               const hs_image *in, hs_image *out)
{
    (void)output;
    const folder_state *f = state;
    /* the tile bar and events only when one image is upscaled at a time */
    int one = f->workers == 1;
    cli_tiles progress;
    return upscale_to(&f->nets[worker], NULL, 0, f->a, f->model, input, in,
                      one ? &f->a->progress : NULL, one && !f->a->common.quiet, &progress, out);
}

static hs_status save_entry(void *state, const char *output, const hs_image *out)
{
    const folder_state *f = state;
    return cli_save_image(output, out, f->model, f->argc, f->argv, &f->a->save);
}

/* -i DIR -o DIR: every image of this shard, the net loaded once per
 * context, the images spread over the contexts. */
static int upscale_folder(upscale_args *a, int argc, char **argv)
{
    char model[PATH_SIZE], probe[PATH_SIZE];
    cli_batch batch = {0};
    hs_status st = cli_batch_prepare(a->input, a->output, a->save.format, &a->batch, &batch, probe,
                                     sizeof probe);
    if (st == HS_OK) st = check_bits(a, probe);
    if (st == HS_OK) st = cli_find_sr_model(a->model, a->models_dir, a->scale, model, sizeof model);
    if (st == HS_OK && a->adapt_steps) st = cli_check_adaptable(model);
    if (st != HS_OK) {
        cli_batch_free(&batch);
        return cli_report(st);
    }
    if (!a->common.quiet)
        cli_batch_header("upscaling", &batch, &a->batch, a->input, a->output);
    hs_context *ctxs[HS_UPSCALE_MAX_NETS];
    int count, loaded = 0;
    int rc = cli_open_contexts(&a->common, a->batch.threads[1], ctxs, HS_UPSCALE_MAX_NETS, &count);
    if (rc) {
        cli_batch_free(&batch);
        return rc;
    }
    cli_catch_interrupt();
    hs_net nets[HS_UPSCALE_MAX_NETS];
    st = load_upscalers(ctxs, count, a, model, nets, &loaded);
    if (st == HS_OK) {
        folder_state f = {nets, count, a, model, argc, argv};
        cli_batch_job job = {&batch, a->input, a->output, a->save.format, &a->batch,
                             a->common.quiet, "upscaled", &a->progress.sinks};
        cli_batch_stages stages = {load_entry, upscale_entry, save_entry, count, ctxs};
        rc = cli_batch_run(&job, &stages, &f);
    } else {
        rc = cli_report(st);
    }
    free_upscalers(nets, loaded);
    cli_close_contexts(ctxs, count);
    cli_batch_free(&batch);
    return rc;
}

int cli_upscale(int argc, char **argv)
{
    upscale_args a;
    int rc = parse_args(&a, argc, argv);
    if (rc) {
        cli_progress_stop(&a.progress);
        return rc == CLI_HELP ? 0 : rc;
    }
    rc = cli_is_folder(a.input) ? upscale_folder(&a, argc, argv) : upscale_one(&a, argc, argv);
    cli_progress_stop(&a.progress);
    return rc;
}
