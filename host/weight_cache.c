/* weight_cache.c — Winograd-transformed weights kept for weights that do not
 * change.
 *
 * A Winograd conv (op_winograd.c) first transforms its weights into U, the
 * a² matrices its GEMMs read: a pass over 1.8 (F(2×2)) or 4 (F(4×4)) times
 * the weights, the same every call while the weights stay the same. A net
 * whose weights never change (a style loss's feature net, a generator that
 * upscales) is frozen (hs_net_freeze), and each conv on it keeps its U per
 * direction (the forward's, and the backward-input's of turned weights)
 * instead of making it anew each call: 5 % of a VGG19 iteration at 512 px.
 *
 * Entries hold at most weight_cache_limit bytes in all, first come first
 * kept; the planners count what a frozen net's entries may take
 * (hs_net_memory). A weights buffer given back (hs_pool_give,
 * hs_buffer_free) loses its entries and its frozen state, so a buffer
 * reused for other data never meets a stale U.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static hs_frozen_weights *find(const hs_context *ctx, cl_mem weights)
{
    for (int i = 0; i < ctx->frozen_count; i++)
        if (ctx->frozen[i].weights == weights) return &ctx->frozen[i];
    return NULL;
}

static void drop_packed(hs_context *ctx, hs_frozen_weights *f, int flip)
{
    if (!f->packed[flip]) return;
    cl_mem buf = f->packed[flip];
    f->packed[flip] = NULL;
    ctx->frozen_bytes -= f->bytes[flip];
    hs_buffer_free(ctx, buf, f->bytes[flip]);
    f->bytes[flip] = 0;
    f->ready[flip] = 0;
}

hs_status hs_weights_freeze(hs_context *ctx, cl_mem weights)
{
    if (!weights || find(ctx, weights)) return HS_OK;
    if (ctx->frozen_count == ctx->frozen_capacity) {
        int cap = ctx->frozen_capacity ? 2 * ctx->frozen_capacity : 64;
        hs_frozen_weights *grown = realloc(ctx->frozen, (size_t)cap * sizeof *grown);
        if (!grown) return hs_fail(HS_ERR_TOO_LARGE, "out of host memory");
        ctx->frozen = grown;
        ctx->frozen_capacity = cap;
    }
    ctx->frozen[ctx->frozen_count++] = (hs_frozen_weights){.weights = weights};
    return HS_OK;
}

void hs_weights_forget(hs_context *ctx, cl_mem buf)
{
    hs_frozen_weights *f = ctx->frozen_count ? find(ctx, buf) : NULL;
    if (!f) return;
    hs_frozen_weights gone = *f;
    *f = ctx->frozen[--ctx->frozen_count]; /* the list has no order */
    drop_packed(ctx, &gone, 0);
    drop_packed(ctx, &gone, 1);
}

void hs_weights_forget_all(hs_context *ctx)
{
    while (ctx->frozen_count) hs_weights_forget(ctx, ctx->frozen[0].weights);
    free(ctx->frozen);
    ctx->frozen = NULL;
    ctx->frozen_capacity = 0;
}

void hs_weights_packed(hs_context *ctx, cl_mem weights, int flip, int m, size_t bytes,
                       cl_mem *packed, int *ready)
{
    *packed = NULL;
    *ready = 0;
    hs_frozen_weights *f = ctx->frozen_count ? find(ctx, weights) : NULL;
    if (!f) return;
    if (f->packed[flip] && f->m[flip] == m && f->bytes[flip] == bytes) {
        *packed = f->packed[flip];
        *ready = f->ready[flip];
        return;
    }
    drop_packed(ctx, f, flip); /* made for the other tile side */
    if (ctx->frozen_bytes + bytes > ctx->weight_cache_limit) return;
    /* no room on the device: the conv makes U in its scratch, as unfrozen */
    if (hs_buffer_alloc(ctx, bytes, &f->packed[flip]) != HS_OK) {
        f->packed[flip] = NULL;
        return;
    }
    ctx->frozen_bytes += bytes;
    f->bytes[flip] = bytes;
    f->m[flip] = m;
    *packed = f->packed[flip];
}

void hs_weights_packed_ready(hs_context *ctx, cl_mem weights, int flip)
{
    hs_frozen_weights *f = find(ctx, weights);
    if (f && f->packed[flip]) f->ready[flip] = 1;
}
