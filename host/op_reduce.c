/* op_reduce.c — host side of cl/reduce.cl: sum and dot product into a
 * one-element tensor, with a fixed summation tree (see cl/reduce.cl),
 * reading that element back, and adding it into an element of another. */
#include "reduce.h"

/* Pass-1 groups: one per REDUCE_GROUP elements, at most this many. */
#define REDUCE_MAX_GROUPS 256

hs_status hs_reduce_begin(hs_context *ctx, size_t n, const hs_tensor *result, hs_reduction *r)
{
    HS_TRY(hs_check_shape("reduction result", result, 1, 1, 1, 1));
    /* Kernel indices are int and step by the launch size past n. */
    if (n > (size_t)INT32_MAX - REDUCE_MAX_GROUPS * ctx->reduce_group)
        return hs_fail(HS_ERR_TOO_LARGE, "a reduction over %zu elements is too long", n);
    size_t groups = (n + ctx->reduce_group - 1) / ctx->reduce_group;
    if (groups > REDUCE_MAX_GROUPS) groups = REDUCE_MAX_GROUPS;
    *r = (hs_reduction){NULL, groups, groups * ctx->reduce_group, ctx->reduce_group};
    return hs_pool_take(ctx, groups * sizeof(float), &r->partials);
}

hs_status hs_reduce_end(hs_context *ctx, hs_reduction *r, hs_status pass1, hs_tensor *result,
                        float scale)
{
    hs_status st = pass1;
    if (st == HS_OK)
        st = hs_launch(ctx, "sum_partials", 1, &r->local, &r->local, ARG_MEM(result->buf),
                       ARG_MEM(r->partials), ARG_FLOAT(scale), ARG_INT(r->groups), ARG_END);
    /* Given back now: the next user's kernels queue after these. */
    hs_pool_give(ctx, r->partials, r->groups * sizeof(float));
    r->partials = NULL;
    return st;
}

hs_status hs_sum(hs_tensor *result, const hs_tensor *in)
{
    hs_context *ctx = in->ctx;
    size_t n = hs_tensor_count(in);
    hs_reduction r;
    HS_TRY(hs_reduce_begin(ctx, n, result, &r));
    hs_status st = hs_launch(ctx, "sum_partials", 1, &r.global, &r.local, ARG_MEM(r.partials),
                             ARG_MEM(in->buf), ARG_FLOAT(1.0f), ARG_INT(n), ARG_END);
    return hs_reduce_end(ctx, &r, st, result, 1.0f);
}

hs_status hs_dot(hs_tensor *result, const hs_tensor *a, const hs_tensor *b)
{
    HS_TRY(hs_check_same("dot", b, a));
    hs_context *ctx = a->ctx;
    size_t n = hs_tensor_count(a);
    hs_reduction r;
    HS_TRY(hs_reduce_begin(ctx, n, result, &r));
    hs_status st = hs_launch(ctx, "dot_partials", 1, &r.global, &r.local, ARG_MEM(r.partials),
                             ARG_MEM(a->buf), ARG_MEM(b->buf), ARG_INT(n), ARG_END);
    return hs_reduce_end(ctx, &r, st, result, 1.0f);
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
    return hs_launch_1d(sums->ctx, "add_element", 1, ARG_MEM(sums->buf), ARG_INT(index),
                        ARG_MEM(value->buf), ARG_END);
}
