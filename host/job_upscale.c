/* job_upscale.c — hs_job_upscale, the public API's `hirestyle upscale` of
 * one file (include/hirestyle.h): the model found as the CLI finds weights
 * (weights_path.c), the image enlarged by upscale.c's tiling and written
 * atomically in the format of the output's extension, keeping the input's
 * ICC profile and EXIF and its 16 bits. */
#include "hirestyle.h"
#include "image_io.h"
#include "net.h"
#include "upscale.h"

#include <stdio.h>

/* The model file: request->model by path or name, else esrgan-thick-x{scale}. */
static hs_status find_model(const hs_upscale_request *r, char *path, size_t size)
{
    if (r->model) return hs_resolve_weights(r->model, path, size);
    char name[64];
    snprintf(name, sizeof name, "esrgan-thick-x%d.safetensors", r->scale ? r->scale : 4);
    return hs_find_weights(name, path, size);
}

hs_status hs_job_upscale(hs_context *ctx, const hs_upscale_request *request)
{
    char model[4096];
    hs_image in = {0}, out = {0};
    hs_net net;
    hs_load_options load = {.keep_16bit = 1};
    hs_status st = find_model(request, model, sizeof model);
    if (st == HS_OK) st = hs_image_load_with(request->input, &load, &in);
    if (st == HS_OK) st = hs_net_load(ctx, model, &net);
    if (st == HS_OK && (st = hs_net_for_inference(&net)) != HS_OK) hs_net_free(&net);
    if (st != HS_OK) {
        hs_image_free(&in);
        return st;
    }
    if (net.scale < 1)
        st = hs_fail(HS_ERR_USAGE, "%s: a %s network, not a super-resolution one", model, net.arch);
    else if (request->scale && net.scale != request->scale)
        st = hs_fail(HS_ERR_USAGE, "%s upscales x%d, not x%d", model, net.scale, request->scale);
    hs_upscale_options opts = {.tile = request->tile, .progress = request->progress,
                               .progress_arg = request->user, .pre_pad = HS_UPSCALE_PRE_PAD,
                               .tta = request->tta};
    if (st == HS_OK) st = hs_upscale_image(&net, &in, &opts, &out);
    if (st == HS_OK) st = hs_image_copy_meta(&out, &in);
    if (st == HS_OK) st = hs_image_save(request->output, &out, NULL);
    hs_net_free(&net);
    hs_image_free(&in);
    hs_image_free(&out);
    return st;
}
