/* cli_run.c — `hirestyle run`: style transfer at a working size, then
 * super-resolution to the final size, on one device, in one command. */
#include "cli.h"
#include "style_job.h"
#include "timer.h"
#include "upscale.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void run_help(void)
{
    printf("usage: hirestyle run --content C --style A[,B...] [OPTIONS] -o out.png\n\n"
           "Paint the content photo in the style of the style images, then enlarge the\n"
           "painting with a GAN super-resolution network: a high-resolution print in one\n"
           "command. Takes every `hirestyle style` option (see `hirestyle style --help`;\n"
           "here --image-size defaults to 1024, the size of the painting, about three\n"
           "minutes on a 2-core laptop CPU) and:\n\n"
           "      --upscale N            2, 3, 4 or 8, or 1 for none (default: 4)\n"
           "      --upscale-model FILE   super-resolution model (default: Real-CUGAN\n"
           "                             up{N}x-conservative for x2 to x4 when fetched,\n"
           "                             else, and with --adapt-upscaler, esrgan-thick-x{N})\n"
           "  -t, --tile N               upscale tile side; 0 = from device memory (default: 0)\n"
           "      --save-intermediate    keep the painting before upscaling as\n"
           "                             OUTPUT_styled.png (it is kept anyway when the\n"
           "                             upscaling fails or is interrupted)\n"
           "      --adapt-upscaler [N]   before enlarging, fine-tune the upscaler (a\n"
           "                             .safetensors model) for N steps (default: %d) on\n"
           "                             crops of the painting (see `hirestyle train-sr`)\n"
           "  -o, --output FILE          the result, .png, .jpg, .webp or .tif (default:\n"
           "                             out.png)\n", CLI_ADAPT_DEFAULT_STEPS);
    cli_common_help();
}

typedef struct run_args {
    hs_style_job job; /* the output is job.output */
    cli_common common;
    const char *model;
    int scale, tile, save_intermediate;
    int adapt_steps; /* --adapt-upscaler: fine-tune the upscaler on the painting first */
} run_args;

enum run_option { R_UPSCALE = 1, R_UPSCALE_MODEL, R_TILE, R_SAVE_INTERMEDIATE, R_ADAPT };

static const cli_option run_options[] = {
    {"upscale", 0, NULL, CLI_VALUE, R_UPSCALE},
    {"upscale-model", 0, NULL, CLI_VALUE, R_UPSCALE_MODEL},
    {"tile", 't', NULL, CLI_VALUE, R_TILE},
    {"save-intermediate", 0, NULL, CLI_FLAG, R_SAVE_INTERMEDIATE},
    {"adapt-upscaler", 0, NULL, CLI_OPTIONAL_COUNT, R_ADAPT},
};

static int set_run_option(void *state, const cli_option *o, const char *spelling,
                          const char *value)
{
    run_args *a = state;
    switch (o->id) {
    case R_UPSCALE_MODEL: a->model = value; return 0;
    case R_TILE: return cli_parse_int(spelling, value, 0, 65535, &a->tile);
    case R_SAVE_INTERMEDIATE: a->save_intermediate = 1; return 0;
    case R_ADAPT:
        a->adapt_steps = CLI_ADAPT_DEFAULT_STEPS;
        return value ? cli_parse_int(spelling, value, 1, 1000000, &a->adapt_steps) : 0;
    }
    if (cli_parse_int(spelling, value, 1, 8, &a->scale) || (a->scale >= 5 && a->scale <= 7)) {
        fprintf(stderr, "hirestyle: %s takes 1, 2, 3, 4 or 8\n", spelling);
        return -1;
    }
    return 0;
}

static int parse(run_args *a, int argc, char **argv)
{
    cli_style_job_defaults(&a->job);
    a->job.image_size = 1024;
    a->scale = 4;
    cli_table tables[] = {CLI_TABLE(run_options, set_run_option, a),
                          cli_style_table(&a->job), cli_common_table(&a->common)};
    int rc = cli_parse("run", argc, argv, tables, 3);
    if (rc == CLI_HELP) run_help();
    if (rc) return rc;
    return cli_style_check(&a->job) ? HS_ERR_USAGE : 0;
}

static int show_tiles(void *arg, int done, int total, int tile)
{
    const run_args *a = arg;
    return cli_tile_progress(!a->common.quiet && isatty(STDERR_FILENO), done, total, tile);
}

/* The super-resolution weights load and fit --upscale: checked before the
 * minutes of painting. */
static hs_status check_upscaler(hs_context *ctx, const run_args *a, const char *model)
{
    hs_net net;
    hs_status st = hs_net_load(ctx, model, &net);
    if (st != HS_OK) return st;
    st = cli_check_sr_model(&net, model, a->scale);
    hs_net_free(&net);
    return st;
}

static hs_status upscale(hs_context *ctx, run_args *a, const char *model, const hs_image *in,
                         hs_image *out)
{
    hs_net net;
    hs_status st = a->adapt_steps ? cli_adapt_upscaler(ctx, model, in, a->adapt_steps,
                                                       a->common.quiet, &net)
                                  : hs_net_load(ctx, model, &net);
    if (st != HS_OK) return st;
    st = cli_check_sr_model(&net, model, a->scale);
    if (st == HS_OK && !a->common.quiet)
        fprintf(stderr, "hirestyle: upscaling %dx%d x%d with %s\n", in->width, in->height,
                net.scale, model);
    hs_upscale_options opts = {a->tile, show_tiles, a, HS_UPSCALE_PRE_PAD, 0};
    if (st == HS_OK) st = hs_upscale_image(&net, in, &opts, out);
    hs_net_free(&net);
    return st;
}

/* The upscaler of paintings unless --upscale-model names one (or
 * --adapt-upscaler asks for a model it can fine-tune): Real-CUGAN
 * up{scale}x-conservative (x2 to x4) when `tools/fetch_weights.sh ncnn` has
 * fetched it, else esrgan-thick-x{scale}. README.md says why. */
static hs_status default_upscaler(int scale, char *path, size_t size)
{
    char name[64];
    snprintf(name, sizeof name, "up%dx-conservative", scale);
    if (scale <= 4 && cli_find_model(name, NULL, 0, path, size) == HS_OK) return HS_OK;
    return cli_find_sr_model(NULL, NULL, scale, path, size);
}

int cli_run(int argc, char **argv)
{
    run_args a = {0};
    int rc = parse(&a, argc, argv);
    if (rc) return rc == CLI_HELP ? 0 : rc;
    a.job.quiet = a.common.quiet;
    a.job.verbose = a.common.context.verbose;
    a.job.argc = argc;
    a.job.argv = argv;
    char styled[4096], style_model[4096], sr_model[4096];
    /* everything that can fail early, before minutes of work */
    hs_status st = cli_check_output_format(a.job.output, 0);
    cli_output_with(a.job.output, "styled", styled, sizeof styled);
    if (st == HS_OK) st = hs_style_job_weights(&a.job, style_model, sizeof style_model);
    if (st == HS_OK && a.scale > 1)
        st = a.model || a.adapt_steps /* an ncnn model cannot be adapted */
                 ? cli_find_sr_model(a.model, NULL, a.scale, sr_model, sizeof sr_model)
                 : default_upscaler(a.scale, sr_model, sizeof sr_model);
    if (st == HS_OK && a.scale > 1 && a.adapt_steps) st = cli_check_adaptable(sr_model);
    if (st != HS_OK) return cli_report(st);
    hs_context *ctx;
    if ((rc = cli_open_context(&a.common, &ctx))) return rc;
    cli_catch_interrupt();

    double start = hs_seconds();
    hs_image painting = {0}, result = {0};
    st = a.scale > 1 ? check_upscaler(ctx, &a, sr_model) : HS_OK;
    if (st == HS_OK) st = hs_style_job_run(ctx, &a.job, &painting);
    /* the painting is written before upscaling, so that no failure loses it */
    const char *painted = a.scale == 1 ? a.job.output : styled;
    hs_status saved =
        painting.pixels ? cli_save_image(painted, &painting, style_model, argc, argv, NULL) : st;
    if (st == HS_ERR_INTERRUPTED && saved == HS_OK)
        st = hs_fail(HS_ERR_INTERRUPTED, "interrupted: wrote the painting so far to %s", painted);
    else if (st == HS_OK)
        st = saved;
    int painted_whole = st == HS_OK && a.scale > 1;
    if (painted_whole && cli_interrupted())
        st = hs_fail(HS_ERR_INTERRUPTED, "interrupted before upscaling");
    if (st == HS_OK && a.scale > 1) st = upscale(ctx, &a, sr_model, &painting, &result);
    if (st == HS_OK && a.scale > 1)
        st = cli_save_image(a.job.output, &result, sr_model, argc, argv, NULL);
    if (st == HS_OK && a.scale > 1 && !a.save_intermediate) unlink(styled);
    if (st != HS_OK && painted_whole)
        st = hs_fail_context(st, "the painting is kept in %s; upscaling", styled);
    hs_context_destroy(ctx);
    if (st == HS_OK && !a.common.quiet)
        printf("wrote %s (%dx%d)%s%s in %.0f s\n", a.job.output,
               a.scale > 1 ? result.width : painting.width,
               a.scale > 1 ? result.height : painting.height,
               a.save_intermediate && a.scale > 1 ? " and " : "",
               a.save_intermediate && a.scale > 1 ? styled : "", hs_seconds() - start);
    hs_image_free(&painting);
    hs_image_free(&result);
    return cli_report(st);
}
