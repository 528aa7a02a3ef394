/* op_reduce.c — host side of cl/reduce.cl: sums of the terms of a kind
 * (hs_reduce_kind) into a one-element tensor, with a fixed summation tree
 * (see cl/reduce.cl), reading that element back, and adding it into an
 * element of another. */
#include "reduce.h"

/* Pass-1 groups: one per REDUCE_GROUP elements, at most this many. */
#define REDUCE_MAX_GROUPS 256

/* out[out_index + group] (+= with add) = scale * the sum of the group's
 * terms of `kind` over n elements, in `groups` groups; with plane > 0, group
 * g's over the h rows of w elements from a[g*plane + start], rows pitch
 * apart (cl/reduce.cl). */
static hs_status launch(hs_context *ctx, size_t groups, cl_mem out, int out_index, int add,
                        float scale, hs_reduce_kind kind, cl_mem a, cl_mem b, int w, int h,
                        size_t n, int plane, int start, int pitch)
{
    size_t global = groups * ctx->reduce_group, local = ctx->reduce_group;
    return hs_launch(ctx, "reduce", 1, &global, &local, ARG_MEM(out), ARG_INT(out_index),
                     ARG_INT(add), ARG_FLOAT(scale), ARG_INT(kind), ARG_MEM(a), ARG_MEM(b),
                     ARG_INT(w), ARG_INT(h), ARG_INT((int)n), ARG_INT(plane), ARG_INT(start),
                     ARG_INT(pitch), ARG_END);
}

hs_status hs_reduce_planes(hs_reduce_kind kind, const hs_tensor *a, const hs_tensor *b, int y0,
                           int x0, int h, int w, float scale, hs_tensor *out)
{
    HS_TRY(hs_check_shape("plane sums", out, a->n, a->c, 1, 1));
    if (b) HS_TRY(hs_check_same("plane dots", b, a));
    if (y0 < 0 || x0 < 0 || h < 0 || w < 0 || y0 + h > a->h || x0 + w > a->w)
        return hs_fail(HS_ERR_INTERNAL, "plane sums: %dx%d window at (%d,%d) of a %dx%d map", w,
                       h, x0, y0, a->w, a->h);
    size_t plane = (size_t)a->h * a->w, planes = (size_t)a->n * a->c;
    if (plane > INT32_MAX || planes * plane > HS_MAX_ELEMENTS)
        return hs_fail(HS_ERR_TOO_LARGE, "plane sums over %zu planes of %zu are too long",
                       planes, plane);
    /* A window of whole rows is one run: every item of the group busy. */
    if (w == a->w) {
        w *= h;
        h = 1;
    }
    return launch(a->ctx, planes, out->buf, 0, 0, scale, kind, a->buf, b ? b->buf : a->buf, w, h,
                  0, (int)plane, y0 * a->w + x0, a->w);
}

hs_status hs_reduce(hs_reduce_kind kind, const hs_tensor *a, const hs_tensor *b, float scale,
                    hs_tensor *result)
{
    HS_TRY(hs_check_shape("reduction result", result, 1, 1, 1, 1));
    hs_context *ctx = a->ctx;
    size_t n = hs_tensor_count(a);
    /* Kernel indices are int and step by the launch size past n. */
    if (n > (size_t)INT32_MAX - REDUCE_MAX_GROUPS * ctx->reduce_group)
        return hs_fail(HS_ERR_TOO_LARGE, "a reduction over %zu elements is too long", n);
    size_t groups = (n + ctx->reduce_group - 1) / ctx->reduce_group;
    if (groups > REDUCE_MAX_GROUPS) groups = REDUCE_MAX_GROUPS;
    cl_mem partials;
    HS_TRY(hs_pool_take(ctx, groups * sizeof(float), &partials));
    hs_status st = launch(ctx, groups, partials, 0, 0, 1.0f, kind, a->buf, b ? b->buf : a->buf,
                          a->w, a->h, n, 0, 0, 0);
    if (st == HS_OK)
        st = launch(ctx, 1, result->buf, 0, 0, scale, HS_REDUCE_SUM, partials, partials, 1, 1,
                    groups, 0, 0, 0);
    /* Given back now: the next user's kernels queue after these. */
    hs_pool_give(ctx, partials, groups * sizeof(float));
    return st;
}

hs_status hs_sum(hs_tensor *result, const hs_tensor *in)
{
    return hs_reduce(HS_REDUCE_SUM, in, NULL, 1.0f, result);
}

hs_status hs_dot(hs_tensor *result, const hs_tensor *a, const hs_tensor *b)
{
    HS_TRY(hs_check_same("dot", b, a));
    return hs_reduce(HS_REDUCE_DOT, a, b, 1.0f, result);
}

hs_status hs_read_scalar(const hs_tensor *t, float *value)
{
    HS_TRY(hs_check_shape("read scalar", t, 1, 1, 1, 1));
    return hs_tensor_read(t, value);
}

hs_status hs_add_element(hs_tensor *sums, int index, const hs_tensor *value)
{
    HS_TRY(hs_check_shape("add element", value, 1, 1, 1, 1));
    if (index < 0 || (size_t)index >= hs_tensor_count(sums))
        return hs_fail(HS_ERR_INTERNAL, "add element: index %d outside %zu elements", index,
                       hs_tensor_count(sums));
    return launch(sums->ctx, 1, sums->buf, index, 1, 1.0f, HS_REDUCE_SUM, value->buf, value->buf,
                  1, 1, 1, 0, 0, 0);
}
