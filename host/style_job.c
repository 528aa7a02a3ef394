/* style_job.c — see style_job.h. */
#include "style_job.h"

#include "engine.h"
#include "job.h"
#include "progress.h"
#include "style_schedule.h"
#include "timer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hs_style_job_defaults(hs_style_job *job)
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
    job->output = "out.png";
}

hs_status hs_style_job_weights(const hs_style_job *job, char *path, size_t size)
{
    if (job->weights) return hs_resolve_weights(job->weights, path, size);
    if (hs_find_weights("vgg19.safetensors", path, size) == HS_OK) return HS_OK;
    return hs_find_weights("resnet50.safetensors", path, size);
}

/* RGB8 <-> the image x in [0,1] that the optimiser works on */
static const hs_normalize unit = {1.0f / 255.0f, {0, 0, 0}, {1, 1, 1}, 0};

/* "a,b:0.5,c" into layer names and weights (default weight 1). */
static hs_status parse_layers(const char *list, char (*names)[48], float *weights, int *count)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", list);
    *count = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        if (*count == HS_STYLE_MAX_LAYERS)
            return hs_fail(HS_ERR_USAGE, "at most %d layers, not '%s'", HS_STYLE_MAX_LAYERS, list);
        char *colon = strchr(item, ':');
        float w = 1.0f;
        if (colon) {
            *colon = '\0';
            char *end;
            w = strtof(colon + 1, &end);
            if (*end || !(w >= 0) || !isfinite(w))
                return hs_fail(HS_ERR_USAGE, "bad layer weight in '%s'", list);
        }
        snprintf(names[*count], 48, "%s", item);
        if (weights) weights[*count] = w;
        (*count)++;
    }
    return *count ? HS_OK : hs_fail(HS_ERR_USAGE, "empty layer list");
}

static hs_status job_params(const hs_style_job *job, const char *arch, hs_style_params *p)
{
    HS_TRY(hs_style_defaults(arch, p));
    if (job->content_layers)
        HS_TRY(parse_layers(job->content_layers, p->layers.content, NULL, &p->layers.content_count));
    if (job->style_layers)
        HS_TRY(parse_layers(job->style_layers, p->layers.style, p->layers.style_weight,
                            &p->layers.style_count));
    if (!isnan(job->content_weight)) p->content_weight = job->content_weight;
    if (!isnan(job->style_weight)) p->style_weight = job->style_weight;
    if (!isnan(job->tv_weight)) p->tv_weight = job->tv_weight;
    if (!isnan(job->learning_rate)) p->learning_rate = job->learning_rate;
    if (job->jitter >= 0) p->jitter = job->jitter;
    p->optimizer = job->optimizer;
    if (p->optimizer == HS_OPT_LBFGS) p->jitter = 0; /* L-BFGS needs a fixed objective */
    p->seed = job->seed;
    return HS_OK;
}

/* Load an image file as RGB8 on the host. Only a longer side of `needed`
 * pixels is ever used, so a big JPEG decodes at a fraction of its size. */
static hs_status load_rgb(const char *path, int needed, hs_image *rgb)
{
    hs_image img = {0};
    hs_load_options options = {.longest_side = needed};
    hs_status st = hs_image_load_with(path, &options, &img);
    if (st == HS_OK) st = hs_image_convert(&img, 3, rgb);
    if (st != HS_OK && st != HS_ERR_IO) st = hs_fail_context(st, "%s", path);
    hs_image_free(&img);
    return st;
}

/* rgb resized to w×h and uploaded in [0,1]; the resized RGB8 kept in
 * *keep when not NULL. */
static hs_status upload_sized(hs_context *ctx, const hs_image *rgb, int w, int h, hs_tensor *out,
                              hs_image *keep)
{
    hs_image sized = {0};
    hs_status st = hs_image_resize(rgb, w, h, &sized);
    if (st == HS_OK) st = hs_tensor_alloc(ctx, out, 1, 3, h, w);
    if (st == HS_OK) st = hs_image_to_tensor(out, sized.pixels, w, h, &unit);
    if (st == HS_OK && keep) {
        hs_image_free(keep);
        *keep = sized;
        sized = (hs_image){0};
    }
    hs_image_free(&sized);
    return st;
}

static hs_status download_image(const hs_tensor *x, hs_image *out)
{
    out->width = x->w;
    out->height = x->h;
    out->channels = 3;
    out->pixels = malloc((size_t)3 * x->w * x->h);
    if (!out->pixels) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    hs_status st = hs_tensor_to_image(out->pixels, x, &unit);
    if (st != HS_OK) hs_image_free(out);
    return st;
}

/* Luminance of the result, colour (Cb, Cr) of the content. */
static void keep_content_colors(hs_image *result, const hs_image *content)
{
    size_t n = (size_t)result->width * result->height;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *c = &content->pixels[3 * i];
        uint8_t *r = &result->pixels[3 * i];
        double y = 0.299 * r[0] + 0.587 * r[1] + 0.114 * r[2];
        double cb = -0.168736 * c[0] - 0.331264 * c[1] + 0.5 * c[2];
        double cr = 0.5 * c[0] - 0.418688 * c[1] - 0.081312 * c[2];
        double rgb[3] = {y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb};
        for (int k = 0; k < 3; k++) r[k] = (uint8_t)lround(fmin(255, fmax(0, rgb[k])));
    }
}

/* ---- The plan --------------------------------------------------------------- */

/* One scale of the run: its size, iterations, block side, memory and the
 * work of one iteration (hs_style_work). */
typedef struct scale_plan {
    int w, h, iterations, block;
    size_t memory;
    double work;
} scale_plan;

typedef struct job_plan {
    hs_schedule schedule;
    scale_plan scale[HS_SCHEDULE_MAX_SCALES];
    double work;             /* Σ work × iterations, for the ETA */
    double rate;             /* seconds per unit of work from an earlier run, or 0 */
} job_plan;

static hs_status make_plan(const hs_style_job *job, const hs_net *net, const hs_style_params *p,
                           const hs_image *content, job_plan *plan)
{
    const int *iters = job->iterations_count ? job->iterations : (const int[]){300};
    HS_TRY(hs_schedule_make(job->image_size, job->start_size, job->scale_step, iters,
                            job->iterations_count ? job->iterations_count : 1, job->iterations_fine,
                            &plan->schedule));
    /* what is left beside the weights, with a tenth to spare for the estimate */
    size_t available = hs_memory_available(net->ctx) - hs_memory_in_use(net->ctx);
    size_t budget = available / 10 * 9;
    plan->work = 0;
    for (int k = 0; k < plan->schedule.count; k++) {
        scale_plan *sp = &plan->scale[k];
        hs_schedule_fit(content->width, content->height, plan->schedule.side[k], &sp->w, &sp->h);
        sp->iterations = plan->schedule.iterations[k];
        if (job->block >= 0) {
            int halo, stride;
            HS_TRY(hs_style_halo(net, p, &halo, &stride));
            sp->block = job->block == 0 ? 0 : (job->block + stride - 1) / stride * stride;
        } else {
            hs_status st = hs_style_pick_block(net, p, sp->h, sp->w, budget, &sp->block);
            if (st != HS_OK) return hs_fail_context(st, "--image-size %d", plan->schedule.side[k]);
        }
        sp->memory = hs_style_memory(net, p, sp->h, sp->w, sp->block, NULL);
        sp->work = hs_style_work(net, p, sp->h, sp->w, sp->block);
        plan->work += sp->work * sp->iterations;
    }
    plan->rate = hs_style_rate_load(net);
    return HS_OK;
}

static void print_plan(const job_plan *plan, const char *model, const char *arch,
                       const hs_style_params *p)
{
    fprintf(stderr, "hirestyle: painting with %s (%s), %s, %d scale%s:\n", model, arch,
            p->optimizer == HS_OPT_ADAM ? "Adam" : "L-BFGS", plan->schedule.count,
            plan->schedule.count > 1 ? "s" : "");
    fprintf(stderr, "  scale       size  iterations  evaluated in       device memory     time\n");
    for (int k = 0; k < plan->schedule.count; k++) {
        const scale_plan *sp = &plan->scale[k];
        char blocks[32] = "whole", size[24], time[24] = "?";
        if (sp->block) snprintf(blocks, sizeof blocks, "blocks of %d px", sp->block);
        snprintf(size, sizeof size, "%dx%d", sp->w, sp->h);
        if (plan->rate > 0) hs_progress_duration(plan->rate * sp->work * sp->iterations, time, sizeof time);
        fprintf(stderr, "  %4d. %11s  %10d  %-17s %9.0f MiB  %7s\n", k + 1, size, sp->iterations,
                blocks, sp->memory / 1048576.0, time);
    }
    if (plan->rate > 0) {
        char total[24];
        hs_progress_duration(plan->rate * plan->work, total, sizeof total);
        fprintf(stderr, "  about %s in all, at the speed of the last run on this device\n", total);
    } else {
        fprintf(stderr, "  time: first run of %s on this device, estimated as it goes\n", arch);
    }
}

/* A style image smaller than the painting needs is enlarged with it, and its
 * strokes come out soft at full size: say so, with what helps. */
static void note_small_styles(const hs_style_job *job, const job_plan *plan, const hs_image *styles)
{
    const scale_plan *last = &plan->scale[plan->schedule.count - 1];
    double side = (last->w > last->h ? last->w : last->h) * job->style_scale;
    for (int k = 0; k < job->style_count; k++) {
        int longest = styles[k].width > styles[k].height ? styles[k].width : styles[k].height;
        if (side > 2 * longest)
            fprintf(stderr, "  note: %s (%dx%d) is enlarged %.1fx at the last scale:\n"
                    "        its strokes will be soft (a larger scan or --style-scale below 1 "
                    "helps)\n", job->styles[k], styles[k].width, styles[k].height, side / longest);
    }
}

/* ---- Progress, snapshots, Ctrl-C ----------------------------------------------- */

typedef struct job_progress {
    const hs_style_job *job;
    const job_plan *plan;
    const hs_image *content_rgb; /* at the current scale, for --original-colors */
    const char *model;
    const char *output;          /* the painting's file, which names the snapshots */
    hs_terminal terminal;        /* unless quiet */
    int scale;                   /* index of the current scale */
    int iteration;               /* counted over all scales, for --save-every */
    double work_done, start;     /* Σ work × iterations finished, and when it began */
    hs_status save_status;       /* of a failed snapshot, which stops the run */
    char save_error[1024];       /* its message: stopping records one of its own */
} job_progress;

/* Iteration `it` of the current scale to the terminal (unless quiet) and
 * the job's listeners; the time left from the work done so far. */
static void report_step(job_progress *jp, int it, const hs_style_losses *l)
{
    const scale_plan *sp = &jp->plan->scale[jp->scale];
    double elapsed = hs_seconds() - jp->start, done = jp->work_done + sp->work * it;
    hs_progress_event e = hs_progress_event_of(HS_PHASE_STYLE);
    e.step = it;
    e.steps = sp->iterations;
    e.scale = jp->scale + 1;
    e.scales = jp->plan->schedule.count;
    e.width = sp->w;
    e.height = sp->h;
    e.loss = l->total;
    e.content = l->content;
    e.style = l->style;
    e.tv = l->tv;
    e.seconds_per_step = elapsed / done * sp->work;
    e.elapsed = elapsed;
    e.eta = elapsed / done * (jp->plan->work - done);
    e.fraction = done / jp->plan->work;
    if (!jp->job->quiet) hs_terminal_event(&jp->terminal, &e);
    hs_progress_emit(jp->job->progress, &e);
}

/* x as the RGB8 picture the output would be (with the content's colours on request). */
static hs_status picture(const job_progress *jp, const hs_tensor *x, hs_image *img)
{
    HS_TRY(download_image(x, img));
    if (jp->job->original_colors) keep_content_colors(img, jp->content_rgb);
    return HS_OK;
}

/* x written to `path` (with the content's colours on request). */
static hs_status save_image(const job_progress *jp, const char *path, const hs_tensor *x)
{
    hs_image img = {0};
    HS_TRY(picture(jp, x, &img));
    hs_status st = hs_job_save(path, &img, jp->model, jp->job->argc, jp->job->argv, NULL);
    hs_image_free(&img);
    return st;
}


static int on_step(void *user, int it, const hs_style_losses *l, const hs_tensor *x)
{
    job_progress *jp = user;
    const hs_style_job *job = jp->job;
    jp->iteration++;
    report_step(jp, it, l);
    if (hs_progress_wants_image(job->progress)) {
        hs_image img = {0};
        /* a picture for the web page is no reason to stop the run */
        if (picture(jp, x, &img) == HS_OK) hs_progress_image(job->progress, &img);
        hs_image_free(&img);
    }
    int final = jp->scale == jp->plan->schedule.count - 1 && it == jp->plan->scale[jp->scale].iterations;
    if (job->save_every > 0 && jp->iteration % job->save_every == 0 && !final) {
        char path[4096], suffix[16];
        snprintf(suffix, sizeof suffix, "%d", jp->iteration);
        hs_job_output_with(jp->output, suffix, path, sizeof path);
        jp->save_status = save_image(jp, path, x);
        if (jp->save_status != HS_OK) {
            snprintf(jp->save_error, sizeof jp->save_error, "%s", hs_last_error());
            return 1;
        }
    }
    if (hs_stop_requested()) {
        hs_terminal_break(&jp->terminal);
        return 1;
    }
    return 0;
}

/* ---- The run -------------------------------------------------------------------- */

static hs_status initial_image(hs_context *ctx, const hs_style_job *job, const hs_tensor *content,
                               hs_tensor *x)
{
    if (job->init == HS_INIT_IMAGE) {
        hs_image rgb = {0};
        hs_status st = load_rgb(job->init_image, job->image_size, &rgb);
        if (st == HS_OK) st = upload_sized(ctx, &rgb, content->w, content->h, x, NULL);
        hs_image_free(&rgb);
        return st;
    }
    HS_TRY(hs_tensor_alloc_like(x, content));
    if (job->init == HS_INIT_CONTENT) return hs_tensor_copy(x, content);
    size_t n = hs_tensor_count(x);
    float *noise = malloc(n * sizeof *noise);
    if (!noise) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    unsigned state = job->seed * 2654435761u + 7u;
    for (size_t i = 0; i < n; i++) {
        state = state * 1103515245u + 12345u;
        noise[i] = (float)((state >> 8) & 0xffff) / 65535.0f;
    }
    hs_status st = hs_tensor_write(x, noise);
    free(noise);
    return st;
}

/* ---- A batch: what photos painted with the same styles share ------------------
 *
 * The net, the params, the style images (decoded once) and the style
 * targets. The targets of a scale depend only on the side the style images
 * are fitted to, which is the scale's longer side times --style-scale:
 * every photo's scale k has the same longer side (the schedule's), whatever
 * its aspect, so each scale's targets are made for the first photo and
 * reused by all the others. */

typedef struct cached_targets {
    int side;                    /* the style images' longer side they were made at */
    hs_style_targets targets;
} cached_targets;

struct hs_style_batch {
    const hs_style_job *job;
    char model[4096];
    hs_net net;
    hs_style_params p;
    hs_image styles[HS_STYLE_MAX_IMAGES]; /* the originals, RGB8 on the host */
    cached_targets cache[HS_SCHEDULE_MAX_SCALES];
    int cached;                  /* entries of cache filled */
    int planned;                 /* the plan was printed (for the first photo) */
};

/* One photo's images: the original and at the current scale. */
typedef struct photo_images {
    hs_image content, content_sized;
} photo_images;

/* The style targets at a style side: from the cache, or made and kept. */
static hs_status targets_at(hs_style_batch *b, int side, const hs_style_targets **out)
{
    for (int i = 0; i < b->cached; i++) {
        if (b->cache[i].side == side) {
            *out = &b->cache[i].targets;
            return HS_OK;
        }
    }
    const hs_style_job *job = b->job;
    hs_tensor styles[HS_STYLE_MAX_IMAGES] = {{0}};
    const hs_tensor *style_ptrs[HS_STYLE_MAX_IMAGES];
    hs_status st = HS_OK;
    for (int k = 0; st == HS_OK && k < job->style_count; k++) {
        int w, h;
        hs_schedule_fit(b->styles[k].width, b->styles[k].height, side, &w, &h);
        st = upload_sized(b->net.ctx, &b->styles[k], w, h, &styles[k], NULL);
        style_ptrs[k] = &styles[k];
    }
    /* a schedule has at most HS_SCHEDULE_MAX_SCALES sides: the cache never
     * needs to drop one, but it would drop the oldest */
    cached_targets *slot = &b->cache[b->cached < HS_SCHEDULE_MAX_SCALES ? b->cached++ : 0];
    hs_style_targets_free(&slot->targets);
    slot->side = side;
    if (st == HS_OK)
        st = hs_style_targets_make(&b->net, &b->p, style_ptrs, job->blend_count ? job->blend : NULL,
                                   job->style_count, &slot->targets);
    if (st != HS_OK) slot->side = -1;
    for (int k = 0; k < job->style_count; k++) hs_tensor_free(&styles[k]);
    *out = &slot->targets;
    return st;
}

/* The objective at one scale: the content resized, the styles' targets. */
static hs_status scale_objective(hs_style_batch *b, const scale_plan *sp, photo_images *im,
                                 hs_tensor *content, hs_style **s)
{
    int side = (int)lround((sp->w > sp->h ? sp->w : sp->h) * b->job->style_scale);
    const hs_style_targets *targets;
    HS_TRY(targets_at(b, side > 16 ? side : 16, &targets));
    HS_TRY(upload_sized(b->net.ctx, &im->content, sp->w, sp->h, content, &im->content_sized));
    hs_style_params p = b->p;
    p.block = sp->block;
    return hs_style_create_with(&b->net, &p, content, targets, s);
}

/* x and the optimiser state for scale k: the first from the init, the
 * others enlarged from the last scale's result. */
static hs_status start_scale(hs_context *ctx, const hs_style_job *job, const hs_style_params *p,
                             const scale_plan *sp, int k, const hs_tensor *content, hs_tensor *x,
                             hs_style_state *state)
{
    if (k == 0) {
        HS_TRY(initial_image(ctx, job, content, x));
        return p->optimizer == HS_OPT_ADAM ? hs_style_state_init(state, x) : HS_OK;
    }
    hs_tensor larger = {0};
    HS_TRY(hs_tensor_resize(&larger, x, sp->h, sp->w));
    hs_tensor_free(x);
    *x = larger;
    HS_TRY(hs_clamp(x, 0.0f, 1.0f));
    return p->optimizer == HS_OPT_ADAM ? hs_style_state_resize(state, sp->h, sp->w) : HS_OK;
}

/* The scales one after another; x ends as the result. */
static hs_status run_scales(hs_style_batch *b, const job_plan *plan, photo_images *im,
                            job_progress *jp, hs_tensor *x)
{
    const hs_style_job *job = b->job;
    hs_style_state state = {0};
    hs_status st = HS_OK;
    for (int k = 0; st == HS_OK && k < plan->schedule.count; k++) {
        const scale_plan *sp = &plan->scale[k];
        hs_tensor content = {0};
        hs_style *s = NULL;
        jp->scale = k;
        double scale_start = hs_seconds();
        st = scale_objective(b, sp, im, &content, &s);
        if (st == HS_OK) st = start_scale(b->net.ctx, job, &b->p, sp, k, &content, x, &state);
        if (st == HS_OK) st = hs_style_optimize_from(s, x, sp->iterations, &state, on_step, jp);
        /* the result of a scale, also when interrupted: the average of its iterates */
        if ((st == HS_OK || st == HS_ERR_INTERRUPTED) && state.average.buf) {
            hs_status averaged = hs_style_state_result(&state, x);
            if (averaged != HS_OK) st = averaged;
        }
        jp->work_done += sp->work * sp->iterations;
        if (st == HS_OK)
            hs_style_rate_store(&b->net, (hs_seconds() - scale_start) / (sp->work * sp->iterations));
        if (st == HS_OK && job->save_every > 0 && k + 1 < plan->schedule.count) {
            char path[4096], suffix[16];
            snprintf(suffix, sizeof suffix, "%dpx", plan->schedule.side[k]);
            hs_job_output_with(jp->output, suffix, path, sizeof path);
            st = save_image(jp, path, x);
        }
        hs_style_destroy(s);
        hs_tensor_free(&content);
    }
    hs_style_state_free(&state);
    return st;
}

hs_status hs_style_batch_open(hs_context *ctx, const hs_style_job *job, hs_style_batch **out)
{
    *out = NULL;
    hs_style_batch *b = calloc(1, sizeof *b);
    if (!b) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
    b->job = job;
    hs_status st = hs_style_job_weights(job, b->model, sizeof b->model);
    if (st == HS_OK) st = hs_net_load(ctx, b->model, &b->net);
    if (st == HS_OK && (st = hs_net_freeze(&b->net)) != HS_OK) hs_net_free(&b->net);
    if (st != HS_OK) {
        free(b);
        return st;
    }
    st = job_params(job, b->net.arch, &b->p);
    int style_side = (int)lround(job->image_size * job->style_scale);
    for (int k = 0; st == HS_OK && k < job->style_count; k++)
        st = load_rgb(job->styles[k], style_side > 16 ? style_side : 16, &b->styles[k]);
    if (st != HS_OK) {
        hs_style_batch_close(b);
        return st;
    }
    *out = b;
    return HS_OK;
}

void hs_style_batch_close(hs_style_batch *b)
{
    if (!b) return;
    for (int i = 0; i < b->cached; i++) hs_style_targets_free(&b->cache[i].targets);
    for (int k = 0; k < HS_STYLE_MAX_IMAGES; k++) hs_image_free(&b->styles[k]);
    hs_context *ctx = b->net.ctx;
    hs_net_free(&b->net);
    hs_memory_trim(ctx);
    free(b);
}

hs_status hs_style_batch_paint(hs_style_batch *b, const char *content, const char *output,
                               hs_image *result)
{
    const hs_style_job *job = b->job;
    job_plan plan;
    photo_images im = {0};
    hs_tensor x = {0};
    hs_status st = load_rgb(content, job->image_size, &im.content);
    if (st == HS_OK) st = make_plan(job, &b->net, &b->p, &im.content, &plan);
    if (st == HS_OK && !job->quiet && !b->planned) {
        print_plan(&plan, b->model, b->net.arch, &b->p);
        note_small_styles(job, &plan, b->styles);
        b->planned = 1;
    }
    job_progress jp = {job, &plan, &im.content_sized, b->model, output, {0}, 0, 0, 0,
                       hs_seconds(), HS_OK, ""};
    hs_terminal_init(&jp.terminal, job->print_every);
    if (st == HS_OK) st = run_scales(b, &plan, &im, &jp, &x);
    if (st == HS_ERR_INTERRUPTED && jp.save_status != HS_OK) {
        st = hs_fail(jp.save_status, "snapshot after iteration %d: %s", jp.iteration,
                     jp.save_error);
    } else if ((st == HS_OK || st == HS_ERR_INTERRUPTED) && x.buf) {
        /* interrupted: the result so far is still the caller's to write */
        hs_status interrupted = st;
        st = download_image(&x, result);
        if (st == HS_OK && job->original_colors) keep_content_colors(result, &im.content_sized);
        if (st == HS_OK && interrupted != HS_OK)
            st = hs_fail(HS_ERR_INTERRUPTED, "interrupted at scale %d of %d", jp.scale + 1,
                         plan.schedule.count);
    }
    hs_tensor_free(&x);
    hs_image_free(&im.content);
    hs_image_free(&im.content_sized);
    return st;
}

const char *hs_style_batch_model(const hs_style_batch *b)
{
    return b->model;
}

hs_status hs_style_job_run(hs_context *ctx, const hs_style_job *job, hs_image *result)
{
    hs_style_batch *b;
    HS_TRY(hs_style_batch_open(ctx, job, &b));
    hs_status st = hs_style_batch_paint(b, job->content, job->output, result);
    hs_style_batch_close(b);
    return st;
}
