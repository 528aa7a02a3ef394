/* cli_run.c — `hirestyle run`: style transfer at a working size, then
 * super-resolution to the final size, in one command; for one photo, or a
 * folder of them spread over the devices (the style net, style targets and
 * the upscaler prepared once per device). */
#include "cli.h"
#include "style_job.h"
#include "timer.h"
#include "upscale.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_help(void)
{
    printf("usage: hirestyle run --content C --style A[,B...] [OPTIONS] -o out.png\n"
           "       hirestyle run --content DIR --style A[,B...] [OPTIONS] -o DIR\n\n"
           "Paint the content photo in the style of the style images, then enlarge the\n"
           "painting with a GAN super-resolution network: a high-resolution print in one\n"
           "command. Takes every `hirestyle style` option (see `hirestyle style --help`;\n"
           "here --image-size defaults to 1024, the size of the painting, about three\n"
           "minutes on a 2-core laptop CPU) and:\n\n"
           "      --upscale N            2, 3, 4 or 8, or 1 for none (default: 4)\n"
           "      --upscale-model FILE   super-resolution model (default: Real-CUGAN\n"
           "                             up{N}x-conservative for x2 to x4 when fetched,\n"
           "                             else, and with --adapt-upscaler, esrgan-thick-x{N})\n"
           "  -t, --tile N               upscale tile side; 0 = from device memory\n"
           "                             (default: 0)\n"
           "      --save-intermediate    keep the painting before upscaling as\n"
           "                             OUTPUT_styled.png (it is kept anyway when the\n"
           "                             upscaling fails or is interrupted)\n"
           "      --adapt-upscaler [N]   before enlarging, fine-tune the upscaler (a\n"
           "                             .safetensors model) for N steps (default: %d) on\n"
           "                             crops of the painting (see `hirestyle train-sr`)\n"
           "  -o, --output FILE          the result, .png, .jpg, .webp or .tif (default:\n"
           "                             out.png), or the folder of --content DIR's results\n",
           CLI_ADAPT_DEFAULT_STEPS);
    cli_style_batch_help();
    cli_progress_help(1);
    cli_common_help();
}

typedef struct run_args {
    hs_style_job job; /* the output is job.output */
    cli_common common;
    cli_batch_options batch; /* --content DIR: --overwrite, --shard */
    cli_progress progress;   /* --json, --web */
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
    case R_ADAPT: return cli_parse_adapt_steps(spelling, value, &a->adapt_steps);
    }
    if (cli_parse_int(spelling, value, 1, 8, &a->scale) || (a->scale >= 5 && a->scale <= 7)) {
        fprintf(stderr, "hirestyle: %s takes 1, 2, 3, 4 or 8\n", spelling);
        return -1;
    }
    return 0;
}

static int parse(run_args *a, int argc, char **argv)
{
    hs_style_job_defaults(&a->job);
    a->job.image_size = 1024;
    a->scale = 4;
    cli_table tables[] = {CLI_TABLE(run_options, set_run_option, a), cli_style_table(&a->job),
                          cli_batch_table(&a->batch), cli_progress_table(&a->progress, 1),
                          cli_common_table(&a->common)};
    int rc = cli_parse("run", argc, argv, tables, 5);
    if (rc == CLI_HELP) run_help();
    if (rc) return rc;
    return cli_style_check(&a->job) ? HS_ERR_USAGE : 0;
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

/* What the photos of a run share: the painter, the upscaler (loaded once,
 * unless --adapt-upscaler fine-tunes one per painting) and the names of
 * their weights. */
typedef struct run_session {
    run_args *a;
    hs_style_job job; /* a->job; quiet and without progress but for the first context's */
    hs_context *ctx;
    hs_style_batch *painter;
    hs_net upscaler;
    int has_upscaler;
    char sr_model[4096];
    int folder; /* an interrupted painting is not written: a rerun paints it again */
    int argc;
    char **argv;
    int width, height; /* of the last result */
} run_session;

/* The painter, and the upscaler loaded and checked to fit --upscale before
 * the minutes of painting. */
static hs_status session_open(run_session *s)
{
    run_args *a = s->a;
    hs_status st = HS_OK;
    if (a->scale > 1) {
        st = hs_net_load(s->ctx, s->sr_model, &s->upscaler);
        s->has_upscaler = st == HS_OK;
        if (st == HS_OK) st = cli_check_sr_model(&s->upscaler, s->sr_model, a->scale);
        if (st == HS_OK) st = hs_net_for_inference(&s->upscaler);
        if (s->has_upscaler && a->adapt_steps) { /* checked only: each painting adapts its own */
            hs_net_free(&s->upscaler);
            s->has_upscaler = 0;
        }
    }
    return st == HS_OK ? hs_style_batch_open(s->ctx, &s->job, &s->painter) : st;
}

static void session_close(run_session *s)
{
    hs_style_batch_close(s->painter);
    if (s->has_upscaler) hs_net_free(&s->upscaler);
}

static hs_status enlarge(run_session *s, const hs_image *in, hs_image *out)
{
    run_args *a = s->a;
    hs_net adapted, *net = a->adapt_steps ? &adapted : &s->upscaler;
    const hs_progress *events = s->job.progress; /* NULL but for the first context's */
    hs_status st = a->adapt_steps ? cli_adapt_upscaler(s->ctx, s->sr_model, in, a->adapt_steps,
                                                       s->job.quiet, events, &adapted)
                                  : HS_OK;
    if (st != HS_OK) return st;
    st = cli_check_sr_model(net, s->sr_model, a->scale);
    if (st == HS_OK && !s->job.quiet)
        fprintf(stderr, "hirestyle: upscaling %dx%d x%d with %s\n", in->width, in->height,
                net->scale, s->sr_model);
    cli_tiles tiles;
    cli_tiles_begin(&tiles, events ? &a->progress : NULL, s->job.quiet, in, net->scale);
    hs_upscale_options opts = {.tile = a->tile, .progress = cli_tiles_progress,
                               .progress_arg = &tiles, .pre_pad = HS_UPSCALE_PRE_PAD};
    if (st == HS_OK) st = hs_upscale_image(net, in, &opts, out);
    if (a->adapt_steps) hs_net_free(&adapted);
    return st;
}

/* One photo: painted, the painting written (before upscaling, so that no
 * failure loses it), enlarged and written to output. */
static hs_status run_photo(run_session *s, const char *content, const char *output)
{
    run_args *a = s->a;
    const char *style_model = hs_style_batch_model(s->painter);
    char styled[4096];
    cli_output_with(output, "styled", styled, sizeof styled);
    const char *painted = a->scale == 1 ? output : styled;
    hs_image painting = {0}, result = {0};
    hs_status st = hs_style_batch_paint(s->painter, content, output, &painting);
    if (st == HS_ERR_INTERRUPTED && painting.pixels && !s->folder) {
        hs_status saved = cli_save_image(painted, &painting, style_model, s->argc, s->argv, NULL);
        if (saved == HS_OK)
            st = hs_fail(HS_ERR_INTERRUPTED, "interrupted: wrote the painting so far to %s",
                         painted);
    } else if (st == HS_OK) {
        st = cli_save_image(painted, &painting, style_model, s->argc, s->argv, NULL);
    }
    int painted_whole = st == HS_OK && a->scale > 1;
    if (painted_whole && cli_interrupted())
        st = hs_fail(HS_ERR_INTERRUPTED, "interrupted before upscaling");
    if (st == HS_OK && a->scale > 1) st = enlarge(s, &painting, &result);
    if (st == HS_OK && a->scale > 1)
        st = cli_save_image(output, &result, s->sr_model, s->argc, s->argv, NULL);
    if (st == HS_OK && a->scale > 1 && !a->save_intermediate) unlink(styled);
    if (st != HS_OK && painted_whole)
        st = hs_fail_context(st, "the painting is kept in %s; upscaling", styled);
    const hs_image *last = a->scale > 1 ? &result : &painting;
    s->width = last->width;
    s->height = last->height;
    hs_image_free(&painting);
    hs_image_free(&result);
    return st;
}

/* The proc stage of cli_batch_run: the photo painted, enlarged and
 * written by the worker's session. */
static hs_status run_entry(void *state, int worker, const char *input, const char *output,
                           const hs_image *in, hs_image *out)
{
    (void)in, (void)out; /* the painter reads the photo, run_photo writes the results */
    run_session *sessions = state;
    return run_photo(&sessions[worker], input, output);
}

/* The weights of both nets, and the output (a file, or for a folder of
 * photos a folder and this shard's list), checked before the context. */
static hs_status check_first(run_args *a, run_session *s, int folder, cli_batch *batch)
{
    char style_model[4096], probe[4096];
    hs_status st = folder ? cli_batch_prepare(a->job.content, a->job.output, 0, &a->batch, batch,
                                              probe, sizeof probe)
                          : cli_check_output_format(a->job.output, 0);
    if (st == HS_OK) st = hs_style_job_weights(&a->job, style_model, sizeof style_model);
    if (st == HS_OK && a->scale > 1)
        st = a->model || a->adapt_steps /* an ncnn model cannot be adapted */
                 ? cli_find_sr_model(a->model, NULL, a->scale, s->sr_model, sizeof s->sr_model)
                 : default_upscaler(a->scale, s->sr_model, sizeof s->sr_model);
    if (st == HS_OK && a->scale > 1 && a->adapt_steps) st = cli_check_adaptable(s->sr_model);
    return st;
}

#define MAX_SESSIONS 64

static void close_sessions(run_session *sessions, int count)
{
    for (int k = 0; k < count; k++) session_close(&sessions[k]);
}

/* The command, after parsing; a->progress started. A folder gets a session
 * per context (-g N,M, -j's proc count), a photo one. */
static int run_command(run_args *a, int argc, char **argv)
{
    a->job.quiet = a->common.quiet;
    a->job.progress = &a->progress.sinks;
    a->job.verbose = a->common.context.verbose;
    a->job.argc = argc;
    a->job.argv = argv;
    run_session first = {.a = a, .job = a->job, .folder = cli_is_folder(a->job.content),
                         .argc = argc, .argv = argv};
    cli_batch batch = {0};
    /* everything that can fail early, before minutes of work */
    hs_status st = check_first(a, &first, first.folder, &batch);
    if (st != HS_OK) {
        cli_batch_free(&batch);
        return cli_report(st);
    }
    if (first.folder && !a->common.quiet)
        cli_batch_header("painting and enlarging", &batch, &a->batch, a->job.content,
                         a->job.output);
    hs_context *ctxs[MAX_SESSIONS];
    int count = 1, opened = 0;
    int rc = first.folder ? cli_open_contexts(&a->common, a->batch.threads[1], ctxs,
                                              MAX_SESSIONS, &count)
                          : cli_open_context(&a->common, &ctxs[0]);
    if (rc) {
        cli_batch_free(&batch);
        return rc;
    }
    run_session *sessions = calloc((size_t)count, sizeof *sessions);
    if (!sessions) {
        cli_close_contexts(ctxs, count);
        cli_batch_free(&batch);
        return cli_report(hs_fail(HS_ERR_TOO_LARGE, "out of host memory"));
    }
    cli_catch_interrupt();
    double start = hs_seconds();
    for (; st == HS_OK && opened < count; opened++) {
        sessions[opened] = first;
        sessions[opened].ctx = ctxs[opened];
        if (opened > 0) { /* one session's progress: sinks are not called from two threads */
            sessions[opened].job.quiet = 1;
            sessions[opened].job.progress = NULL;
        }
        st = session_open(&sessions[opened]);
    }
    if (st == HS_OK && first.folder) {
        cli_batch_job job = {&batch, a->job.content, a->job.output, 0, &a->batch, a->common.quiet,
                             "painted and enlarged", &a->progress.sinks};
        cli_batch_stages stages = {NULL, run_entry, NULL, count, ctxs};
        rc = cli_batch_run(&job, &stages, sessions);
    } else if (st == HS_OK) {
        st = run_photo(&sessions[0], a->job.content, a->job.output);
    }
    int width = sessions[0].width, height = sessions[0].height;
    close_sessions(sessions, opened);
    free(sessions);
    cli_close_contexts(ctxs, count);
    cli_batch_free(&batch);
    if (first.folder && st == HS_OK) return rc;
    if (st == HS_OK && !a->common.quiet) {
        char styled[4096];
        cli_output_with(a->job.output, "styled", styled, sizeof styled);
        int kept = a->save_intermediate && a->scale > 1;
        printf("wrote %s (%dx%d)%s%s in %.0f s\n", a->job.output, width, height,
               kept ? " and " : "", kept ? styled : "", hs_seconds() - start);
    }
    return cli_report(st);
}

int cli_run(int argc, char **argv)
{
    run_args a = {0};
    int rc = parse(&a, argc, argv);
    if (rc) return rc == CLI_HELP ? 0 : rc;
    hs_status st = cli_progress_start(&a.progress, &a.common);
    if (st != HS_OK) {
        cli_progress_stop(&a.progress);
        return cli_report(st);
    }
    rc = run_command(&a, argc, argv);
    cli_progress_stop(&a.progress);
    return rc;
}
