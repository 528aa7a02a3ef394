/* buffer_pool.c — device buffers kept for reuse: tensors, reduction partials and
 * image bytes are taken from here and given back.
 *
 * Style iterations and upscale tiles free and allocate the same sizes again
 * and again, and on a CPU device a fresh buffer is fresh host memory, a page
 * fault per 4 KiB page. A buffer given back is kept, and the next request
 * takes the smallest kept buffer of its byte size up to half again as large:
 * the tiles of an image differ in size at its edges (a 512x256 image in
 * 128-pixel tiles of esrgan-thick runs regions 287 and 420 pixels wide by
 * turns), and with exact sizes every tile allocated again. Taking a larger
 * buffer only moves it from the kept to the live ones: the memory held
 * stays the same. Kept buffers are memory the context holds: they count in its peak (hs_memory_peak) and against
 * HIRESTYLE_MEMORY_LIMIT_MB, though not in hs_memory_in_use. What the pool
 * may hold is bounded by the peak of live buffers plus an eighth: with
 * exact sizes, a pool held to the live peak alone misses at each moment a
 * size's buffers are all in use elsewhere (40 buffers a ResNet50 iteration
 * at 512 px); the eighth makes a steady iteration allocate nothing.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* The most live and pooled buffers may hold together before the pool lets go. */
static size_t pool_bound(const hs_context *ctx, size_t live)
{
    size_t most = live > ctx->live_peak ? live : ctx->live_peak;
    return most + most / 8;
}

void hs_pool_release_oldest(hs_context *ctx)
{
    hs_pooled_buffer oldest = ctx->pool[0];
    memmove(ctx->pool, ctx->pool + 1, (size_t)--ctx->pool_count * sizeof *ctx->pool);
    ctx->pool_bytes -= oldest.bytes;
    clReleaseMemObject(oldest.buf);
}

void hs_pool_drain(hs_context *ctx)
{
    while (ctx->pool_count > 0) hs_pool_release_oldest(ctx);
}

void hs_memory_trim(hs_context *ctx)
{
    hs_pool_drain(ctx);
#ifdef __GLIBC__
    /* PoCL's CPU buffers are malloc'ed; the small ones live in the heap. */
    malloc_trim(0);
#endif
}

/* The smallest kept buffer of `bytes` to bytes * 3/2 (the most recently kept
 * of equals), taken out, with its size in *size; NULL when none. */
static cl_mem take_kept(hs_context *ctx, size_t bytes, size_t *size)
{
    int best = -1;
    for (int i = ctx->pool_count - 1; i >= 0; i--) {
        size_t have = ctx->pool[i].bytes;
        if (have >= bytes && have <= bytes + bytes / 2 &&
            (best < 0 || have < ctx->pool[best].bytes))
            best = i;
    }
    if (best < 0) return NULL;
    cl_mem buf = ctx->pool[best].buf;
    *size = ctx->pool[best].bytes;
    memmove(ctx->pool + best, ctx->pool + best + 1,
            (size_t)(ctx->pool_count - 1 - best) * sizeof *ctx->pool);
    ctx->pool_count--;
    ctx->pool_bytes -= *size;
    return buf;
}

hs_status hs_pool_take(hs_context *ctx, size_t bytes, cl_mem *out)
{
    if (bytes == 0) bytes = sizeof(float);
    size_t size = 0;
    cl_mem kept = take_kept(ctx, bytes, &size);
    if (kept) { /* held all along: only its side of the accounting changes */
        *out = kept;
        ctx->mem_in_use += size;
        if (ctx->mem_in_use > ctx->live_peak) ctx->live_peak = ctx->mem_in_use;
        return HS_OK;
    }
    size_t needed = ctx->mem_in_use + bytes, bound = pool_bound(ctx, needed);
    while (ctx->pool_count > 0 && needed + ctx->pool_bytes > bound) hs_pool_release_oldest(ctx);
    return hs_buffer_alloc(ctx, bytes, out);
}

void hs_pool_give(hs_context *ctx, cl_mem buf, size_t bytes)
{
    if (!buf) return;
    hs_weights_forget(ctx, buf);
    size_t size; /* the buffer's own: more than its user asked for when it was kept */
    if (clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof size, &size, NULL) == CL_SUCCESS) bytes = size;
    if (bytes == 0) bytes = sizeof(float);
    if (ctx->mem_in_use + ctx->pool_bytes > pool_bound(ctx, 0)) { /* the peak was reset */
        hs_buffer_free(ctx, buf, bytes);
        return;
    }
    if (ctx->pool_count == ctx->pool_capacity) {
        int cap = ctx->pool_capacity ? 2 * ctx->pool_capacity : 64;
        hs_pooled_buffer *grown = realloc(ctx->pool, (size_t)cap * sizeof *grown);
        if (!grown) {
            hs_buffer_free(ctx, buf, bytes);
            return;
        }
        ctx->pool = grown;
        ctx->pool_capacity = cap;
    }
    ctx->pool[ctx->pool_count++] = (hs_pooled_buffer){buf, bytes};
    ctx->pool_bytes += bytes;
    ctx->mem_in_use -= bytes;
}
