/* style_job.c — see style_job.h. */
#include "style_job.h"

#include "cli.h"
#include "engine.h"
#include "timer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
            if (*end || !(w >= 0)) return hs_fail(HS_ERR_USAGE, "bad layer weight in '%s'", list);
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

/* The size with the longer side `longer`, keeping the aspect ratio. */
static void fit(int w, int h, int longer, int *out_w, int *out_h)
{
    double s = (double)longer / (w > h ? w : h);
    *out_w = (int)lround(w * s);
    *out_h = (int)lround(h * s);
    if (*out_w < 1) *out_w = 1;
    if (*out_h < 1) *out_h = 1;
}

/* Load, make RGB, resize so the longer side is `longer`, upload in [0,1]. */
static hs_status load_image(hs_context *ctx, const char *path, int longer, const int *exact_wh,
                            hs_tensor *out, hs_image *keep_rgb)
{
    hs_image img = {0}, rgb = {0}, sized = {0};
    hs_status st = hs_image_load(path, &img);
    if (st == HS_OK) st = hs_image_convert(&img, 3, &rgb);
    int w = 0, h = 0;
    if (st == HS_OK) {
        if (exact_wh) {
            w = exact_wh[0];
            h = exact_wh[1];
        } else {
            fit(rgb.width, rgb.height, longer, &w, &h);
        }
        st = hs_image_resize(&rgb, w, h, &sized);
    }
    if (st == HS_OK) st = hs_tensor_alloc(ctx, out, 1, 3, h, w);
    if (st == HS_OK) st = hs_image_to_tensor(out, sized.pixels, w, h, &unit);
    if (st == HS_OK && keep_rgb) {
        *keep_rgb = sized;
        sized.pixels = NULL;
    }
    if (st != HS_OK && st != HS_ERR_IO) st = hs_fail_context(st, "%s", path);
    hs_image_free(&img);
    hs_image_free(&rgb);
    hs_image_free(&sized);
    return st;
}

/* Refuse a size that cannot fit, naming the largest that can. */
static hs_status check_memory(const hs_style_job *job, const hs_net *net, const hs_style_params *p,
                              int w, int h)
{
    const hs_device_info *dev = hs_context_device(net->ctx);
    /* what is left beside the weights, with a tenth to spare for the estimate */
    size_t available = hs_memory_available(net->ctx) - hs_memory_in_use(net->ctx);
    size_t budget = available / 10 * 9, need = hs_style_memory(net, p, h, w, 0, NULL);
    if (job->verbose)
        fprintf(stderr, "style: %dx%d needs about %.0f MiB of device memory (%.0f MiB usable)\n", w,
                h, need / 1048576.0, available / 1048576.0);
    if (need <= budget) return HS_OK;
    int lo = 16, hi = w > h ? w : h;
    while (lo < hi) { /* the largest longer side that fits */
        int mid = (lo + hi + 1) / 2, mw, mh;
        fit(w, h, mid, &mw, &mh);
        if (hs_style_memory(net, p, mh, mw, 0, NULL) <= budget) lo = mid;
        else hi = mid - 1;
    }
    return hs_fail(HS_ERR_TOO_LARGE,
                   "--image-size %d needs about %.2f GiB of device memory but %s has %.2f GiB "
                   "usable: the largest that fits is --image-size %d (upscale it afterwards)",
                   w > h ? w : h, need / 1073741824.0, dev->name, available / 1073741824.0, lo);
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

typedef struct job_progress {
    const hs_style_job *job;
    const hs_image *content_rgb;
    const char *model;
    int tty;
    double start;
    hs_status save_status;
} job_progress;

static void print_progress(const job_progress *jp, int it, const hs_style_losses *l)
{
    const hs_style_job *job = jp->job;
    double per = (hs_seconds() - jp->start) / it;
    double eta = per * (job->iterations - it);
    if (jp->tty) {
        int width = 24, filled = width * it / job->iterations;
        fprintf(stderr, "\r[%.*s%*s] %d/%d  loss %.4g (content %.3g style %.3g tv %.3g)  %.2f s/it  "
                "%d:%02d left ", filled, "########################", width - filled, "", it,
                job->iterations, l->total, l->content, l->style, l->tv, per, (int)eta / 60,
                (int)eta % 60);
        if (it == job->iterations) fputc('\n', stderr);
    } else if (job->print_every > 0 && (it % job->print_every == 0 || it == job->iterations)) {
        fprintf(stderr, "iteration %d/%d: loss %.6g (content %.4g, style %.4g, tv %.4g), %.2f s/it\n",
                it, job->iterations, l->total, l->content, l->style, l->tv, per);
    }
}

static hs_status save_intermediate(const job_progress *jp, int it, const hs_tensor *x)
{
    const hs_style_job *job = jp->job;
    hs_image img = {0};
    HS_TRY(download_image(x, &img));
    if (job->original_colors) keep_content_colors(&img, jp->content_rgb);
    char path[4096];
    snprintf(path, sizeof path, "%.*s_%d.png", (int)strlen(job->output) - 4, job->output, it);
    hs_status st = cli_save_png(path, &img, jp->model, job->argc, job->argv);
    hs_image_free(&img);
    return st;
}

static int on_step(void *user, int it, const hs_style_losses *l, const hs_tensor *x)
{
    job_progress *jp = user;
    if (!jp->job->quiet) print_progress(jp, it, l);
    if (jp->job->save_every > 0 && it % jp->job->save_every == 0 && it < jp->job->iterations) {
        jp->save_status = save_intermediate(jp, it, x);
        if (jp->save_status != HS_OK) return 1;
    }
    if (cli_interrupted()) {
        if (jp->tty && !jp->job->quiet) fputc('\n', stderr);
        return 1;
    }
    return 0;
}

static hs_status initial_image(hs_context *ctx, const hs_style_job *job, const hs_tensor *content,
                               hs_tensor *x)
{
    if (job->init == HS_INIT_IMAGE) {
        const int wh[2] = {content->w, content->h};
        return load_image(ctx, job->init_image, 0, wh, x, NULL);
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

hs_status hs_style_job_run(hs_context *ctx, const hs_style_job *job, hs_image *result)
{
    char model[4096];
    HS_TRY(hs_style_job_weights(job, model, sizeof model));
    hs_net net;
    HS_TRY(hs_net_load(ctx, model, &net));
    hs_style_params p;
    hs_status st = job_params(job, net.arch, &p);

    hs_tensor content = {0}, x = {0}, styles[HS_STYLE_MAX_IMAGES] = {{0}};
    hs_image content_rgb = {0};
    if (st == HS_OK) st = load_image(ctx, job->content, job->image_size, NULL, &content, &content_rgb);
    if (st == HS_OK) st = check_memory(job, &net, &p, content.w, content.h);
    int style_side = (int)lround(job->image_size * job->style_scale);
    for (int k = 0; st == HS_OK && k < job->style_count; k++)
        st = load_image(ctx, job->styles[k], style_side > 16 ? style_side : 16, NULL, &styles[k], NULL);
    if (st == HS_OK) st = initial_image(ctx, job, &content, &x);

    hs_style *s = NULL;
    const hs_tensor *style_ptrs[HS_STYLE_MAX_IMAGES];
    for (int k = 0; k < job->style_count; k++) style_ptrs[k] = &styles[k];
    if (st == HS_OK)
        st = hs_style_create(&net, &p, &content, style_ptrs, job->blend_count ? job->blend : NULL,
                             job->style_count, &s);
    if (st == HS_OK && !job->quiet)
        fprintf(stderr, "hirestyle: styling %dx%d with %s (%s), %d %s iterations\n", content.w,
                content.h, model, net.arch, job->iterations,
                p.optimizer == HS_OPT_ADAM ? "Adam" : "L-BFGS");
    job_progress jp = {job, &content_rgb, model, isatty(STDERR_FILENO), hs_seconds(), HS_OK};
    if (st == HS_OK) st = hs_style_optimize(s, &x, job->iterations, on_step, &jp);
    if (st == HS_ERR_INTERRUPTED && jp.save_status != HS_OK) st = jp.save_status;
    else if (st == HS_ERR_INTERRUPTED) st = hs_fail(HS_ERR_INTERRUPTED, "interrupted: nothing written");
    if (st == HS_OK) st = download_image(&x, result);
    if (st == HS_OK && job->original_colors) keep_content_colors(result, &content_rgb);

    hs_style_destroy(s);
    for (int k = 0; k < job->style_count; k++) hs_tensor_free(&styles[k]);
    hs_tensor_free(&content);
    hs_tensor_free(&x);
    hs_image_free(&content_rgb);
    hs_net_free(&net);
    return st;
}
