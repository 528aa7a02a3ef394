/* gemm_kernel.c — SGEMM through our own kernel (cl/gemm.cl), which hs_gemm
 * uses on PoCL's CPU device (host/gemm.c), where it is 4-7x faster than CLBlast.
 *
 * C = alpha·op(A)·op(B) + beta·C is computed as X = op(A), Y = op(B). The
 * kernel copies Y's panels itself, whatever the strides, or from X's copy
 * when Y is X's own transpose (a Gram matrix F·Fᵀ); X it reads from a
 * copy into tiles (gemm_pack_x), also when A is stored transposed (the
 * backward-input GEMMs Wᵀ·dY), which the copy made up to 1.6x faster. The
 * copy of X is kept below HS_GEMM_PACK_BYTES by running K in chunks (beta
 * applies to the first only, the epilogue, a bias, residual and
 * activation, to the last only): A·Bᵀ of feature maps has a long K. A batch
 * of products of one shape (hs_gemm_batched: the a² products of a Winograd
 * conv) is one launch of each kernel, the batch in their third dimension.
 *
 * A conv's forward can skip im2col (host/op_conv.c): hs_gemm_kernel_conv
 * runs the same kernel with the im2col matrix as Y, read straight from the
 * conv's input as the panels are copied (HS_GEMM_Y_CONV).
 *
 * The tile shape and K chunk of local memory are chosen from the device's
 * preferred vector width and local memory size before the program is built
 * (hs_gemm_blocking_for) and passed as -D options.
 */
#include "engine.h"

#include <limits.h>

/* X = op(A) as stored: element (i, k) at buf[off + i*rs + k*cs], in tiles of
 * mr rows. */
typedef struct operand_x {
    cl_mem buf;
    size_t off, rs, cs;
    size_t rows, tiles;
} operand_x;

static operand_x operand_x_of(hs_matrix a, size_t m, size_t mr)
{
    return (operand_x){a.buf, a.offset, a.trans ? 1 : a.ld, a.trans ? a.ld : 1, m,
                       (m + mr - 1) / mr};
}

/* A batch of `count` products, each operand `step` floats after the one
 * before (hs_gemm_batched); count 1 for one product. */
typedef struct batch { size_t count, a_step, b_step, c_step; } batch;

static const batch one_product = {1, 0, 0, 0};

/* Floats of X's copies (the whole batch's) per step of K. */
static size_t copied(const operand_x *x, size_t mr, const batch *bt)
{
    return x->tiles * mr * bt->count;
}

hs_gemm_blocking hs_gemm_blocking_for(const hs_device_info *dev)
{
    cl_uint width = dev->float_vector_width;
    /* Accumulators plus the row of Y in registers. 16 floats a vector is
     * AVX-512 and its 32 registers: 8 x 32 takes 16 + 2. Narrower vectors
     * come with 16 registers (AVX2, SSE): 6 x 2 vectors takes 12 + 2. */
    hs_gemm_blocking b = width >= 16 ? (hs_gemm_blocking){8, 16, 2, 0}
                         : width >= 8 ? (hs_gemm_blocking){6, 8, 2, 0}
                                      : (hs_gemm_blocking){6, 4, 2, 0};
    /* A 64 KiB copy of Y's panel (measured best on an AVX-512 CPU, where
     * local memory is cached global memory), at most half the local memory. */
    size_t panel = (size_t)b.vw * b.nv * sizeof(float);
    size_t bytes = dev->local_mem / 2 < 65536 ? dev->local_mem / 2 : 65536;
    b.kc = (int)(bytes / panel);
    return b;
}

/* The copy of X, kept across calls. */
static hs_status pack_buffer(hs_context *ctx, size_t bytes, cl_mem *out)
{
    if (bytes > ctx->gemm_pack_bytes) {
        hs_buffer_free(ctx, ctx->gemm_pack, ctx->gemm_pack_bytes);
        ctx->gemm_pack = NULL;
        ctx->gemm_pack_bytes = 0;
        HS_TRY(hs_buffer_alloc(ctx, bytes, &ctx->gemm_pack));
        ctx->gemm_pack_bytes = bytes;
    }
    *out = ctx->gemm_pack;
    return HS_OK;
}

/* K per chunk: as much as keeps the copy of X within HS_GEMM_PACK_BYTES,
 * and gemm_pack_x's grid (a work-item per step) within ctx->grid_side: a
 * Gram matrix of 64 channels at 512x384 took 65536 steps, PoCL's larger
 * grid class and one more compile. */
static size_t chunk_k(const hs_context *ctx, const operand_x *x, const batch *bt, size_t k)
{
    size_t kc = HS_GEMM_PACK_BYTES / (copied(x, (size_t)ctx->gemm_block.mr, bt) * sizeof(float));
    if (kc < 64) kc = 64;
    if (kc > ctx->grid_side) kc = ctx->grid_side;
    return kc < k ? kc : k;
}

/* Copy the tiles of X, steps k0 .. k0+kc-1 of K, of every product. */
static hs_status pack_x(hs_context *ctx, cl_mem dst, const operand_x *x, const batch *bt,
                        size_t k0, size_t kc)
{
    return hs_launch(ctx, "gemm_pack_x", 3, (size_t[]){kc, x->tiles, bt->count}, NULL,
                     ARG_MEM(dst), ARG_MEM(x->buf),
                     ARG_INT(x->off + k0 * x->cs), ARG_INT(x->rs), ARG_INT(x->cs),
                     ARG_INT(x->rows), ARG_INT(kc), ARG_INT(x->tiles), ARG_INT(bt->a_step),
                     ARG_INT(0), ARG_INT(0), ARG_END);
}

/* Work-items a group: a column of 8 tiles (fewer only when the kernel
 * allows fewer), whatever the shape. PoCL compiles the kernel once per
 * group size (0.4-0.6 s each on a 2-core CPU), so one size is one compile
 * of each GEMM kernel at a cold start. 16 for every shape took 1.2-1.9x the
 * time of 8 for products with few rows (VGG19's conv1_1, 64 -> 4 and
 * 64 -> 64 SR convs; `bench ops`, two alternated runs on a quiet 2-core
 * Zen 4); 16 for more than 8 tiles saved nothing measurable over 8
 * (ResNet50 `bench style` at 512, 1.082 s/iter against 1.097, medians of
 * 10 alternated runs at load 2-3; `bench upscale`'s esrgan-thick 2.21 s
 * against 2.63), and 32 or 64 nothing either (the quickstart's command,
 * gemm_tiles' CPU time 23.4 s with them, 21.0 s without). The tiles past
 * the last are idle (cl/gemm.cl). */
static size_t group_size(hs_context *ctx)
{
    if (!ctx->gemm_group_max) {
        cl_int err;
        cl_kernel k = clCreateKernel(ctx->program, "gemm_tiles", &err);
        size_t max = 1;
        if (err == CL_SUCCESS) {
            clGetKernelWorkGroupInfo(k, ctx->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max,
                                     &max, NULL);
            clReleaseKernel(k);
        }
        ctx->gemm_group_max = max;
    }
    return ctx->gemm_group_max < 8 ? ctx->gemm_group_max : 8;
}

/* X's steps k0 .. k0+kc-1 copied into tiles, of every product, in `packed`. */
static hs_status pack_chunk(hs_context *ctx, const operand_x *x, const batch *bt, size_t k0,
                            size_t kc, cl_mem *packed)
{
    HS_TRY(pack_buffer(ctx, copied(x, ctx->gemm_block.mr, bt) * kc * sizeof(float), packed));
    return pack_x(ctx, *packed, x, bt, k0, kc);
}

/* Column panels of n columns. */
static size_t panels_of(const hs_context *ctx, size_t n)
{
    size_t nr = (size_t)ctx->gemm_block.vw * ctx->gemm_block.nv;
    return (n + nr - 1) / nr;
}

/* Whether Y = op(B) is X = op(A)'s own transpose, the same matrix read the
 * other way (a Gram matrix F·Fᵀ), so the kernel can copy Y's panels from
 * X's tiles: whole tiles a panel (cl/gemm.cl, gemm_stage_xt). */
static int y_is_xt(const hs_context *ctx, size_t m, size_t n, hs_matrix a, hs_matrix b,
                   const batch *bt)
{
    size_t nr = (size_t)ctx->gemm_block.vw * ctx->gemm_block.nv;
    return m == n && a.trans != b.trans && a.buf == b.buf && a.offset == b.offset &&
           a.ld == b.ld && bt->a_step == bt->b_step && nr % (size_t)ctx->gemm_block.mr == 0;
}

/* gemm_tiles over steps k0 .. k0+kc-1 of K, X's tiles of those steps
 * already in `packed` (as gemm_pack_x lays them out); with `lower`, the
 * tiles wholly above C's diagonal are skipped; xt: Y is X's transpose
 * (y_is_xt); the epilogue NULL for none. */
static hs_status launch_tiles(hs_context *ctx, cl_mem packed, const operand_x *x, hs_matrix b,
                              size_t n, int xt, hs_matrix c, const batch *bt, size_t k0,
                              size_t kc, float alpha, float beta, int lower,
                              const hs_epilogue *ep)
{
    size_t y_rs = b.trans ? 1 : b.ld, y_cs = b.trans ? b.ld : 1;
    size_t panels = panels_of(ctx, n);
    size_t local[3] = {group_size(ctx), 1, 1};
    cl_mem bias = ep && ep->bias ? ep->bias : c.buf; /* any buffer when unread */
    cl_mem res = ep && ep->residual ? ep->residual : c.buf;
    hs_profile_flops(ctx, (lower ? 1.0 : 2.0) * (double)bt->count * (double)x->rows *
                              (double)n * (double)kc);
    return hs_launch(ctx, "gemm_tiles", 3, (size_t[]){x->tiles, panels, bt->count}, local,
                     ARG_MEM(packed), ARG_MEM(b.buf), ARG_INT(xt ? HS_GEMM_Y_XT : HS_GEMM_Y_MATRIX),
                     ARG_INT(b.offset + k0 * y_rs), ARG_INT(y_rs), ARG_INT(y_cs),
                     ARG_INT(bt->b_step), ARG_INT(0), ARG_INT(0), ARG_INT(0), ARG_INT(0),
                     ARG_INT(0), ARG_INT(0), ARG_INT(0), ARG_INT(0), /* no conv */
                     ARG_MEM(c.buf), ARG_INT(c.offset), ARG_INT(c.ld), ARG_INT(bt->c_step),
                     ARG_INT(x->rows), ARG_INT(n), ARG_INT(0), ARG_INT(kc), ARG_FLOAT(alpha),
                     ARG_FLOAT(beta), ARG_INT(lower), ARG_MEM(bias), ARG_INT(ep && ep->bias),
                     ARG_INT(ep ? ep->rectify : 0), ARG_FLOAT(ep ? ep->slope : 0.0f), ARG_MEM(res),
                     ARG_INT(ep && ep->residual ? ep->residual_offset : 0), ARG_INT(bt->c_step),
                     ARG_INT(ep && ep->residual), ARG_FLOAT(ep ? ep->scale : 1.0f),
                     ARG_FLOAT(ep ? ep->residual_scale : 0.0f), ARG_END);
}

/* One chunk of K, steps k0 .. k0+kc-1, X copied first; beta applies to the
 * first chunk only, the epilogue to the last only (launch_tiles). */
static hs_status run_chunk(hs_context *ctx, const operand_x *x, hs_matrix b, size_t n, int xt,
                           hs_matrix c, const batch *bt, size_t k0, size_t kc, float alpha,
                           float beta, int lower, const hs_epilogue *ep)
{
    cl_mem packed;
    HS_TRY(pack_chunk(ctx, x, bt, k0, kc, &packed));
    return launch_tiles(ctx, packed, x, b, n, xt, c, bt, k0, kc, alpha, beta, lower, ep);
}

/* The last element of a rows x cols matrix, and its strides, fit in an int
 * (the kernel's arguments). */
static int fits_int(hs_matrix a, size_t rows, size_t cols)
{
    if (a.trans) {
        size_t t = rows;
        rows = cols;
        cols = t;
    }
    return a.ld <= INT_MAX && a.offset + (rows - 1) * a.ld + cols - 1 <= INT_MAX;
}

int hs_gemm_kernel_handles(size_t m, size_t n, size_t k, hs_matrix a, hs_matrix b, hs_matrix c)
{
    if (m == 0 || n == 0) return 1;
    return k > 0 && k <= INT_MAX && fits_int(a, m, k) && fits_int(b, k, n) && fits_int(c, m, n);
}

/* The last product of a batch, and the steps, fit in the kernel's ints. */
static int batch_fits_int(size_t m, size_t n, size_t k, hs_matrix a, hs_matrix b, hs_matrix c,
                          const batch *bt)
{
    size_t last = bt->count - 1;
    if (bt->a_step > INT_MAX || bt->b_step > INT_MAX || bt->c_step > INT_MAX) return 0;
    a.offset += last * bt->a_step;
    b.offset += last * bt->b_step;
    c.offset += last * bt->c_step;
    return hs_gemm_kernel_handles(m, n, k, a, b, c);
}

int hs_gemm_kernel_handles_batch(size_t count, size_t m, size_t n, size_t k, hs_matrix a,
                                 size_t a_step, hs_matrix b, size_t b_step, hs_matrix c,
                                 size_t c_step)
{
    batch bt = {count, a_step, b_step, c_step};
    return count == 0 || batch_fits_int(m, n, k, a, b, c, &bt);
}

static hs_status gemm_in_chunks(hs_context *ctx, size_t m, size_t n, size_t k, float alpha,
                                hs_matrix a, hs_matrix b, float beta, hs_matrix c, int lower,
                                const hs_epilogue *ep, const batch *bt)
{
    if (m == 0 || n == 0 || bt->count == 0) return HS_OK;
    size_t mr = (size_t)ctx->gemm_block.mr;
    operand_x x = operand_x_of(a, m, mr);
    size_t kc = chunk_k(ctx, &x, bt, k);
    int xt = y_is_xt(ctx, m, n, a, b, bt);
    for (size_t k0 = 0; k0 < k; k0 += kc)
        HS_TRY(run_chunk(ctx, &x, b, n, xt, c, bt, k0, k - k0 < kc ? k - k0 : kc, alpha,
                         k0 == 0 ? beta : 1.0f, lower, k0 + kc >= k ? ep : NULL));
    return HS_OK;
}

hs_status hs_gemm_kernel(hs_context *ctx, size_t m, size_t n, size_t k, float alpha, hs_matrix a,
                         hs_matrix b, float beta, hs_matrix c)
{
    return gemm_in_chunks(ctx, m, n, k, alpha, a, b, beta, c, 0, NULL, &one_product);
}

hs_status hs_gemm_kernel_epilogue(hs_context *ctx, size_t m, size_t n, size_t k, float alpha,
                                  hs_matrix a, hs_matrix b, float beta, hs_matrix c,
                                  const hs_epilogue *ep)
{
    return gemm_in_chunks(ctx, m, n, k, alpha, a, b, beta, c, 0, ep, &one_product);
}

hs_status hs_gemm_kernel_lower(hs_context *ctx, size_t m, size_t n, size_t k, float alpha,
                               hs_matrix a, hs_matrix b, float beta, hs_matrix c)
{
    return gemm_in_chunks(ctx, m, n, k, alpha, a, b, beta, c, 1, NULL, &one_product);
}

hs_status hs_gemm_kernel_batched(hs_context *ctx, size_t count, size_t m, size_t n, size_t k,
                                 float alpha, hs_matrix a, size_t a_step, hs_matrix b,
                                 size_t b_step, float beta, hs_matrix c, size_t c_step)
{
    batch bt = {count, a_step, b_step, c_step};
    return gemm_in_chunks(ctx, m, n, k, alpha, a, b, beta, c, 0, NULL, &bt);
}

hs_status hs_gemm_kernel_batched_packed(hs_context *ctx, size_t count, size_t m, size_t n,
                                        size_t k, float alpha, cl_mem packed_a, hs_matrix b,
                                        size_t b_step, float beta, hs_matrix c, size_t c_step)
{
    if (m == 0 || n == 0 || count == 0) return HS_OK;
    batch bt = {count, 0, b_step, c_step};
    size_t mr = (size_t)ctx->gemm_block.mr;
    operand_x x = {.rows = m, .tiles = (m + mr - 1) / mr}; /* its copy is packed_a */
    return launch_tiles(ctx, packed_a, &x, b, n, 0, c, &bt, 0, k, alpha, beta, 0, NULL);
}

/* One chunk of K of an implicit-GEMM conv, as run_chunk: every image at
 * once, in the third dimension; the column panels in launches of at most
 * ctx->grid_side (the last conv of a x4 upscale has 100k). */
static hs_status run_conv_chunk(hs_context *ctx, const operand_x *x, const hs_conv_gemm *g,
                                size_t k0, size_t kc, float beta, const hs_epilogue *ep)
{
    cl_mem packed;
    HS_TRY(pack_chunk(ctx, x, &one_product, k0, kc, &packed));
    size_t cols = (size_t)g->oh * g->ow, panels = panels_of(ctx, cols);
    size_t image = (size_t)g->c * g->h * g->w; /* floats of an input image */
    size_t nr = (size_t)ctx->gemm_block.vw * ctx->gemm_block.nv;
    size_t local[3] = {group_size(ctx), 1, 1};
    cl_mem bias = ep && ep->bias ? ep->bias : g->out; /* any buffer when unread */
    cl_mem res = ep && ep->residual ? ep->residual : g->out;
    hs_profile_flops(ctx, 2.0 * (double)g->batch * (double)x->rows * (double)cols * (double)kc);
    for (size_t p0 = 0; p0 < panels; p0 += ctx->grid_side) {
        size_t count = panels - p0 < ctx->grid_side ? panels - p0 : ctx->grid_side;
        HS_TRY(hs_launch(ctx, "gemm_tiles", 3, (size_t[]){x->tiles, count, (size_t)g->batch},
                         local, ARG_MEM(packed), ARG_MEM(g->in), ARG_INT(HS_GEMM_Y_CONV),
                         ARG_INT(k0), ARG_INT(0), ARG_INT(0), ARG_INT(image), ARG_INT(g->h),
                         ARG_INT(g->w), ARG_INT(g->kh), ARG_INT(g->kw), ARG_INT(g->p.stride),
                         ARG_INT(g->p.pad_h), ARG_INT(g->p.pad_w), ARG_INT(g->ow),
                         ARG_MEM(g->out), ARG_INT((size_t)g->channel0 * cols), ARG_INT(cols),
                         ARG_INT((size_t)g->out_channels * cols), ARG_INT(g->oc), ARG_INT(cols),
                         ARG_INT(p0 * nr), ARG_INT(kc), ARG_FLOAT(1.0f), ARG_FLOAT(beta),
                         ARG_INT(0), ARG_MEM(bias), ARG_INT(ep && ep->bias),
                         ARG_INT(ep ? ep->rectify : 0), ARG_FLOAT(ep ? ep->slope : 0.0f),
                         ARG_MEM(res), ARG_INT(0), ARG_INT((size_t)g->oc * cols),
                         ARG_INT(ep && ep->residual), ARG_FLOAT(ep ? ep->scale : 1.0f),
                         ARG_FLOAT(ep ? ep->residual_scale : 0.0f), ARG_END));
    }
    return HS_OK;
}

int hs_gemm_kernel_conv_handles(const hs_conv_gemm *g)
{
    size_t k = (size_t)g->c * g->kh * g->kw;
    return k <= INT_MAX && (size_t)g->oh * g->ow <= INT_MAX;
}

hs_status hs_gemm_kernel_conv(hs_context *ctx, const hs_conv_gemm *g, const hs_epilogue *ep)
{
    if (ep && ep->residual && ep->residual_offset)
        return hs_fail(HS_ERR_INTERNAL, "implicit conv: a residual must start its buffer");
    size_t mr = (size_t)ctx->gemm_block.mr, k = (size_t)g->c * g->kh * g->kw;
    operand_x x = operand_x_of((hs_matrix){g->weight, 0, k, 0}, (size_t)g->oc, mr);
    size_t kc = chunk_k(ctx, &x, &one_product, k);
    for (size_t k0 = 0; k0 < k; k0 += kc)
        HS_TRY(run_conv_chunk(ctx, &x, g, k0, k - k0 < kc ? k - k0 : kc,
                              k0 == 0 && !g->add ? 0.0f : 1.0f, k0 + kc >= k ? ep : NULL));
    return HS_OK;
}
