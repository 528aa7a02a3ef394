/* job_style.c — hs_job_style and hs_job_run, the public API's `hirestyle
 * style` and `hirestyle run` of one photo (include/hirestyle.h): the
 * request turned into the CLI's style job (style_job.c), the painting
 * written, or enlarged by hs_job_upscale's path first. */
#include "hirestyle.h"
#include "job.h"
#include "net.h"
#include "style_job.h"
#include "upscale.h"

#include <stdio.h>

/* The CLI's job with the request's fields where they are set. */
static hs_status make_job(const hs_style_request *r, hs_style_job *job)
{
    hs_style_job_defaults(job);
    if (r->style_count < 1 || r->style_count > HS_STYLE_MAX_IMAGES)
        return hs_fail(HS_ERR_USAGE, "give 1 to %d style images, not %d", HS_STYLE_MAX_IMAGES,
                       r->style_count);
    job->content = r->content;
    job->output = r->output;
    job->style_count = r->style_count;
    for (int k = 0; k < r->style_count; k++) {
        job->styles[k] = r->styles[k];
        if (r->blend) job->blend[k] = r->blend[k];
    }
    job->blend_count = r->blend ? r->style_count : 0;
    job->weights = r->weights;
    if (r->image_size > 0) job->image_size = r->image_size;
    if (r->iterations > 0) {
        job->iterations[0] = r->iterations;
        job->iterations_count = 1;
    }
    job->quiet = r->quiet;
    return HS_OK;
}

/* The painting of the request into *painting, and the model that made it. */
static hs_status paint(hs_context *ctx, const hs_style_request *r, hs_image *painting,
                       char *model, size_t size)
{
    hs_style_job job;
    hs_status st = make_job(r, &job);
    if (st == HS_OK) st = hs_style_job_weights(&job, model, size);
    if (st == HS_OK) st = hs_style_job_run(ctx, &job, painting);
    return st;
}

hs_status hs_job_style(hs_context *ctx, const hs_style_request *request)
{
    char model[4096];
    hs_image painting = {0};
    hs_status st = paint(ctx, request, &painting, model, sizeof model);
    if (st == HS_OK) st = hs_job_save(request->output, &painting, model, 0, NULL, NULL);
    hs_image_free(&painting);
    return st;
}

hs_status hs_job_run(hs_context *ctx, const hs_style_request *request)
{
    int scale = request->upscale ? request->upscale : 4;
    char model[4096], sr_model[4096], name[64];
    snprintf(name, sizeof name, "esrgan-thick-x%d.safetensors", scale);
    /* the upscaler found and loaded before the minutes of painting */
    hs_status st = request->upscale_model
                       ? hs_resolve_weights(request->upscale_model, sr_model, sizeof sr_model)
                       : hs_find_weights(name, sr_model, sizeof sr_model);
    hs_net net;
    if (st == HS_OK) st = hs_net_load(ctx, sr_model, &net);
    if (st == HS_OK && (st = hs_net_for_inference(&net)) != HS_OK) hs_net_free(&net);
    if (st != HS_OK) return st;
    if (net.scale != scale)
        st = hs_fail(HS_ERR_USAGE, "%s upscales x%d, not x%d", sr_model, net.scale, scale);
    hs_image painting = {0}, result = {0};
    if (st == HS_OK) st = paint(ctx, request, &painting, model, sizeof model);
    hs_upscale_options opts = {.pre_pad = HS_UPSCALE_PRE_PAD};
    if (st == HS_OK) st = hs_upscale_image(&net, &painting, &opts, &result);
    if (st == HS_OK) st = hs_job_save(request->output, &result, sr_model, 0, NULL, NULL);
    hs_net_free(&net);
    hs_image_free(&painting);
    hs_image_free(&result);
    return st;
}
