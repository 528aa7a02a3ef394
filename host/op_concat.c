/* op_concat.c — channel concatenation and its backward, split. Pure data
 * movement: one rectangular buffer copy per part, whose rows are the images
 * of the batch (so any batch size takes one copy, and no kernel). */
#include "engine.h"

#include <stdio.h>

/* Every part is (N, Ci, H, W) like whole, and whole has sum Ci channels. */
static hs_status check_parts(const char *op, const hs_tensor *const *parts, int count,
                             const hs_tensor *whole)
{
    if (count < 1) return hs_fail(HS_ERR_INTERNAL, "%s: no parts", op);
    int channels = 0;
    for (int i = 0; i < count; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s part %d", op, i);
        HS_TRY(hs_check_shape(what, parts[i], whole->n, parts[i]->c, whole->h, whole->w));
        channels += parts[i]->c;
    }
    return hs_check_shape(op, whole, whole->n, channels, whole->h, whole->w);
}

/* Copies `count` channels from channel src_c0 of src (N, src_c, plane) to
 * channel dst_c0 of dst (N, dst_c, plane), for every image. */
static hs_status copy_channels(hs_context *ctx, cl_mem dst, int dst_c, int dst_c0, cl_mem src,
                               int src_c, int src_c0, int count, int n, size_t plane)
{
    size_t bytes = plane * sizeof(float);
    size_t src_origin[3] = {src_c0 * bytes, 0, 0}, dst_origin[3] = {dst_c0 * bytes, 0, 0};
    size_t region[3] = {count * bytes, (size_t)n, 1};
    HS_CL_CHECK(clEnqueueCopyBufferRect(ctx->queue, src, dst, src_origin, dst_origin, region,
                                        src_c * bytes, 0, dst_c * bytes, 0, 0, NULL, NULL),
                "copying channels");
    return HS_OK;
}

/* out (N, sum Ci, H, W) = parts[0] (N, C0, H, W) ++ parts[1] ++ ... along channels */
hs_status hs_concat(hs_tensor *out, const hs_tensor *const *parts, int count)
{
    HS_TRY(check_parts("concat", parts, count, out));
    size_t plane = (size_t)out->h * out->w;
    for (int i = 0, c0 = 0; i < count; c0 += parts[i]->c, i++)
        HS_TRY(copy_channels(out->ctx, out->buf, out->c, c0, parts[i]->buf, parts[i]->c, 0,
                             parts[i]->c, out->n, plane));
    return HS_OK;
}

hs_status hs_concat_into(hs_tensor *out, int channel0, const hs_tensor *part)
{
    HS_TRY(hs_check_shape("concat into", part, out->n, part->c, out->h, out->w));
    if (channel0 < 0 || channel0 + part->c > out->c)
        return hs_fail(HS_ERR_INTERNAL, "concat into: channels %d..%d of %d", channel0,
                       channel0 + part->c - 1, out->c);
    return copy_channels(out->ctx, out->buf, out->c, channel0, part->buf, part->c, 0, part->c,
                         out->n, (size_t)out->h * out->w);
}

/* backward of concat: parts[i] (N, Ci, H, W) = channels c0 .. c0+Ci-1 of in */
hs_status hs_split(hs_tensor *const *parts, int count, const hs_tensor *in)
{
    HS_TRY(check_parts("split", (const hs_tensor *const *)parts, count, in));
    size_t plane = (size_t)in->h * in->w;
    for (int i = 0, c0 = 0; i < count; c0 += parts[i]->c, i++)
        HS_TRY(copy_channels(in->ctx, parts[i]->buf, parts[i]->c, 0, in->buf, in->c, c0,
                             parts[i]->c, in->n, plane));
    return HS_OK;
}
