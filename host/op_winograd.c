/* op_winograd.c — 3×3 stride-1 convolutions by Winograd's minimal filtering
 * (cl/winograd.cl): F(2×2,3×3) or F(4×4,3×3), m×m output pixels a tile
 * from (m+2)×(m+2) input pixels, a = m + 2. op_conv.c calls it for the
 * layer shapes host/conv_algorithm.c picks it for.
 *
 * Once per call, the transformed weights U[t] (R x Q) of all a² positions:
 * for our GEMM kernel, written as that kernel's copy of its X by the copy
 * kernel itself (gemm_pack_x transforming the weights as it copies), which
 * spares a copy and a pass over U: VGG19's weights are 20M floats, U 80M for F(4×4,3×3); frozen
 * weights keep that U from call to call (host/weight_cache.c). For
 * CLBlast, by one GEMM,
 *   U (a² x R·Q) = Gk (a² x 9) · gᵀ (9 x R·Q), U[t] its row t,
 * with g the weights as an (R·Q x 9) matrix and Gk the transform as a
 * matrix (cl/winograd.cl). Then per image and band of output rows (a
 * multiple of m, as tall as the scratch limit allows beside U):
 *   V[t] = (Bᵀ d B)_t        a² matrices Q x P, the band's P tiles
 *   M[t] = U[t] · V[t]       a² GEMMs, one batch (hs_gemm_batched)
 *   out  = Aᵀ M A, then the bias and activation (the epilogue)
 * with Q input and R output channels. U, Gk, V and M share the scratch.
 * V and M keep a channel's a² rows of P together (V[t]'s rows a²·P apart):
 * each work-item of the transforms then reads or writes one small region,
 * which took 25-30% less time on PoCL's CPU device than a² regions a
 * whole matrix apart.
 *
 * A dense block's convs read growing concats of the same channels: given
 * an hs_conv_reuse (engine.h), V goes to a buffer of its own that outlives
 * the call, and the next conv on a longer input transforms only the
 * channels past those it holds (V's rows for channels 0..k-1 are the same
 * whatever follows them). Only for one image whose output is one band:
 * V is then the whole image's, not a band's.
 *
 * The backward-input pass of a 3×3 stride-1 conv with padding p is itself a
 * 3×3 stride-1 conv: of dout, with padding 2 - p and the weights transposed
 * and turned by 180° (`flip`). The turn is Gk's (its columns reversed); the
 * transpose is U's: with the forward's weights (Q x R x 3 x 3 here), U's row
 * t is U[t]ᵀ, which the GEMMs read transposed.
 */
#include "engine.h"

typedef struct wino_plan {
    int m, a2;           /* tile side, positions per tile (a²) */
    int q, r;            /* input and output channels */
    int h, w, oh, ow;    /* input and output sides */
    int pad_h, pad_w;
    int tiles_x;         /* tiles a row of tiles: across the output, rounded up to 8 */
    int band_tiles;      /* rows of tiles per band */
    size_t u_floats;     /* U, a²·R·Q (R rounded up to whole GEMM tiles), then Gk's a²·9 */
} wino_plan;

/* Scratch floats of U and Gk, and of V and M for one row of tiles of an
 * output w wide. */
static size_t u_floats_of(const hs_context *ctx, int a2, int q, int r)
{
    size_t mr = (size_t)ctx->gemm_block.mr, rows = ((size_t)r + mr - 1) / mr * mr;
    return (size_t)a2 * rows * q + (size_t)a2 * 9;
}

static int tiles_x_of(int m, int ow)
{
    return ((ow + m - 1) / m + 7) / 8 * 8; /* the kernels take 8 tiles at once */
}

static size_t tile_row_floats(int m, int q, int r, int ow)
{
    return (size_t)(m + 2) * (m + 2) * (q + r) * tiles_x_of(m, ow);
}

/* The plan, or 0 when Winograd cannot do this conv: not a 3×3 stride-1
 * kernel, padding outside 0..2, or not even one row of tiles fits the
 * scratch limit beside U. */
static int plan_of(wino_plan *pl, const hs_context *ctx, int m, int q, int r, int h, int w,
                   int pad_h, int pad_w)
{
    if ((m != 2 && m != 4) || pad_h < 0 || pad_h > 2 || pad_w < 0 || pad_w > 2) return 0;
    int a = m + 2;
    *pl = (wino_plan){.m = m, .a2 = a * a, .q = q, .r = r, .h = h, .w = w,
                      .oh = h + 2 * pad_h - 2, .ow = w + 2 * pad_w - 2, .pad_h = pad_h,
                      .pad_w = pad_w};
    if (pl->oh < 1 || pl->ow < 1) return 0;
    pl->tiles_x = tiles_x_of(m, pl->ow);
    pl->u_floats = u_floats_of(ctx, pl->a2, q, r);
    size_t limit = ctx->scratch_limit / sizeof(float);
    size_t tile_row = tile_row_floats(m, q, r, pl->ow);
    if (pl->u_floats >= limit) return 0;
    size_t tile_rows = (limit - pl->u_floats) / tile_row;
    int tiles_y = (pl->oh + m - 1) / m;
    if (tile_rows < 1) return 0;
    pl->band_tiles = tile_rows < (size_t)tiles_y ? (int)tile_rows : tiles_y;
    return 1;
}

int hs_winograd_fits(const hs_context *ctx, int m, int in_channels, int out_channels, int h,
                     int w, int pad_h, int pad_w)
{
    wino_plan pl;
    return plan_of(&pl, ctx, m, in_channels, out_channels, h, w, pad_h, pad_w);
}

size_t hs_winograd_scratch_bytes(const hs_context *ctx, int m, int in_channels,
                                 int out_channels, int out_w, int band_tiles)
{
    int a2 = (m + 2) * (m + 2);
    return (u_floats_of(ctx, a2, in_channels, out_channels) +
            tile_row_floats(m, in_channels, out_channels, out_w) * band_tiles) *
           sizeof(float);
}

size_t hs_winograd_weights_bytes(const hs_context *ctx, int m, int in_channels,
                                 int out_channels)
{
    int a2 = (m + 2) * (m + 2);
    return (u_floats_of(ctx, a2, in_channels, out_channels) - (size_t)a2 * 9) * sizeof(float);
}

/* V's floats for `channels` channels of the whole output, when it is one
 * band and V within the scratch limit; else 0: no reuse. */
static size_t reuse_floats(const hs_context *ctx, const wino_plan *pl, int channels)
{
    if ((size_t)pl->band_tiles * pl->m < (size_t)pl->oh) return 0;
    size_t floats = (size_t)pl->a2 * channels * pl->band_tiles * pl->tiles_x;
    return floats * sizeof(float) <= ctx->scratch_limit ? floats : 0;
}

size_t hs_winograd_reuse_bytes(const hs_context *ctx, int m, int capacity, int in_channels,
                               int out_channels, int h, int w, int pad_h, int pad_w)
{
    wino_plan pl;
    if (!plan_of(&pl, ctx, m, in_channels, out_channels, h, w, pad_h, pad_w)) return 0;
    return reuse_floats(ctx, &pl, capacity > in_channels ? capacity : in_channels) *
           sizeof(float);
}

/* Where V goes: buf from offset off (rows a²·P apart), its first `known`
 * channels already transformed; and M, in the scratch from m_off. */
typedef struct wino_v { cl_mem buf; size_t off, m_off; int known; } wino_v;

/* One band: output rows oy0 .. oy0+rows-1 of image b; `packed`: U is our
 * GEMM kernel's copy of X (pack_weights), in u_packed. */
static hs_status band(hs_context *ctx, const wino_plan *pl, cl_mem scratch, cl_mem u_packed,
                      const wino_v *v, int packed, int flip, hs_tensor *out, int channel0,
                      const hs_tensor *in, const hs_epilogue *ep, int b, int oy0, int rows)
{
    int m = pl->m;
    int p = (rows + m - 1) / m * pl->tiles_x;
    size_t groups = (size_t)p / 8; /* tiles_x is a multiple of 8 */
    /* A work-group of neighbouring tiles of one channel, 16 where the kernels
     * take that many: the default 16x16, 16 channels, took 15-30% longer on
     * PoCL's CPU device (esrgan-thick). */
    const char *input = m == 4 ? "winograd_input_f4" : "winograd_input_f2";
    const char *output = m == 4 ? "winograd_output_f4" : "winograd_output_f2";
    size_t limit = hs_kernel_group_limit(ctx, input);
    size_t limit_out = hs_kernel_group_limit(ctx, output);
    if (limit_out < limit) limit = limit_out;
    const size_t group[2] = {limit < 16 ? limit : 16, 1};
    size_t plane = (size_t)pl->h * pl->w;
    if (v->known < pl->q)
        HS_TRY(hs_launch(ctx, input, 2, (size_t[]){groups, (size_t)(pl->q - v->known)}, group,
                         ARG_MEM(v->buf), ARG_INT(v->off + (size_t)v->known * pl->a2 * p),
                         ARG_MEM(in->buf), ARG_INT(((size_t)b * pl->q + v->known) * plane),
                         ARG_INT(pl->q - v->known), ARG_INT(pl->h), ARG_INT(pl->w),
                         ARG_INT(pl->pad_w), ARG_INT(oy0 - pl->pad_h), ARG_INT(pl->tiles_x),
                         ARG_INT(p), ARG_END));
    hs_matrix u = {scratch, 0, (size_t)(flip ? pl->r : pl->q), flip};
    hs_matrix vt = {v->buf, v->off, (size_t)pl->a2 * p, 0};
    hs_matrix mt = {scratch, v->m_off, (size_t)pl->a2 * p, 0};
    if (packed)
        HS_TRY(hs_gemm_kernel_batched_packed(ctx, (size_t)pl->a2, pl->r, p, pl->q, 1.0f,
                                             u_packed, vt, (size_t)p, 0.0f, mt, (size_t)p));
    else
        HS_TRY(hs_gemm_batched(ctx, (size_t)pl->a2, pl->r, p, pl->q, 1.0f, u,
                               (size_t)pl->r * pl->q, vt, (size_t)p, 0.0f, mt, (size_t)p));
    return hs_launch(ctx, output, 2,
                     (size_t[]){groups, (size_t)pl->r}, group, ARG_MEM(out->buf),
                     ARG_INT(((size_t)b * out->c + channel0) * pl->oh * pl->ow), ARG_MEM(scratch),
                     ARG_INT(v->m_off), ARG_MEM(ep && ep->bias ? ep->bias : scratch),
                     ARG_INT(ep && ep->bias), ARG_INT(ep ? ep->rectify : 0),
                     ARG_FLOAT(ep ? ep->slope : 0.0f),
                     ARG_MEM(ep && ep->residual ? ep->residual : scratch),
                     ARG_INT(ep && ep->residual
                                 ? ep->residual_offset + (size_t)b * pl->r * pl->oh * pl->ow
                                 : 0),
                     ARG_INT(ep && ep->residual), ARG_FLOAT(ep ? ep->scale : 1.0f),
                     ARG_FLOAT(ep ? ep->residual_scale : 0.0f), ARG_INT(ep && ep->add),
                     ARG_INT(pl->r), ARG_INT(pl->oh),
                     ARG_INT(pl->ow), ARG_INT(oy0), ARG_INT(rows), ARG_INT(pl->tiles_x), ARG_INT(p),
                     ARG_END);
}

/* The reuse buffer for this conv, taken anew when missing or too small;
 * *known: the input channels it holds already (0 for another geometry).
 * It holds none until the call ends well. */
static hs_status reuse_take(hs_context *ctx, const wino_plan *pl, hs_conv_reuse *reuse,
                            size_t bytes, int *known)
{
    int same = reuse->m == pl->m && reuse->h == pl->h && reuse->w == pl->w &&
               reuse->pad_h == pl->pad_h && reuse->pad_w == pl->pad_w;
    *known = same && reuse->channels <= pl->q ? reuse->channels : 0;
    reuse->channels = 0;
    if (reuse->v && reuse->bytes < bytes) {
        hs_pool_give(ctx, reuse->v, reuse->bytes);
        reuse->v = NULL;
        *known = 0;
    }
    if (!reuse->v) {
        HS_TRY(hs_pool_take(ctx, bytes, &reuse->v));
        reuse->bytes = bytes;
    }
    return HS_OK;
}

/* Whether our GEMM kernel can take the band products with U as its copy of
 * X (hs_gemm_kernel_batched_packed): the offsets of the largest band fit
 * its ints. */
static int packed_fits(const wino_plan *pl, const wino_v *v, size_t p_max)
{
    hs_matrix u = {NULL, 0, (size_t)pl->q, 0}; /* only the offsets matter */
    hs_matrix vt = {NULL, v->off, (size_t)pl->a2 * p_max, 0};
    hs_matrix mt = {NULL, v->m_off, (size_t)pl->a2 * p_max, 0};
    return hs_gemm_kernel_handles_batch((size_t)pl->a2, pl->r, p_max, pl->q, u,
                                        (size_t)pl->r * pl->q, vt, p_max, mt, p_max);
}

/* U as our GEMM kernel's copy of X, at the start of dst: the scratch, or
 * where frozen weights keep it (host/weight_cache.c). The copy kernel makes
 * it (cl/gemm.cl, gemm_pack_x with wino_m). */
static hs_status pack_weights(hs_context *ctx, const wino_plan *pl, cl_mem dst,
                              const hs_tensor *weight, int flip)
{
    int tiles = (pl->r + ctx->gemm_block.mr - 1) / ctx->gemm_block.mr;
    return hs_launch(ctx, "gemm_pack_x", 3, (size_t[]){(size_t)pl->q, (size_t)tiles, 1}, NULL,
                     ARG_MEM(dst), ARG_MEM(weight->buf), ARG_INT(0), ARG_INT(0), ARG_INT(0),
                     ARG_INT(pl->r), ARG_INT(pl->q), ARG_INT(tiles), ARG_INT(0), ARG_INT(pl->m),
                     ARG_INT(flip), ARG_END);
}

/* U (a² x R·Q) = Gk · gᵀ by one GEMM, Gk after U in the scratch. */
static hs_status weight_gemm(hs_context *ctx, const wino_plan *pl, cl_mem scratch,
                             const hs_tensor *weight, int flip)
{
    size_t taps = (size_t)pl->r * pl->q, gk = pl->u_floats - (size_t)pl->a2 * 9;
    HS_TRY(hs_launch_1d(ctx, "winograd_weight_matrix", 9, ARG_MEM(scratch), ARG_INT(gk),
                        ARG_INT(pl->m), ARG_INT(flip), ARG_END));
    return hs_gemm(ctx, pl->a2, taps, 9, 1.0f, (hs_matrix){scratch, gk, 9, 0},
                   (hs_matrix){weight->buf, 0, 9, 1}, 0.0f, (hs_matrix){scratch, 0, taps, 0});
}

hs_status hs_winograd_conv(hs_tensor *out, int channel0, const hs_tensor *in,
                           const hs_tensor *weight, int flip, const hs_epilogue *ep, int m,
                           int pad_h, int pad_w, hs_conv_reuse *reuse)
{
    hs_context *ctx = in->ctx;
    int channels = flip ? weight->c : weight->n;
    wino_plan pl;
    if (!plan_of(&pl, ctx, m, in->c, channels, in->h, in->w, pad_h, pad_w) || out->n != in->n ||
        out->h != pl.oh || out->w != pl.ow || channel0 < 0 || out->c < channel0 + channels)
        return hs_fail(HS_ERR_INTERNAL,
                       "winograd F(%dx%d,3x3): cannot take %dx%dx%d -> channels %d.. of %dx%dx%d",
                       m, m, in->c, in->h, in->w, channel0, out->c, out->h, out->w);
    int band_rows = pl.band_tiles * m;
    size_t p_max = (size_t)pl.band_tiles * pl.tiles_x;
    size_t v_floats = (size_t)pl.a2 * pl.q * p_max, m_floats = (size_t)pl.a2 * pl.r * p_max;
    size_t reuse_bytes = 0;
    int known = 0;
    if (reuse && !flip && in->n == 1)
        reuse_bytes = reuse_floats(ctx, &pl, reuse->capacity > pl.q ? reuse->capacity : pl.q) *
                      sizeof(float);
    if (reuse_bytes) {
        HS_TRY(reuse_take(ctx, &pl, reuse, reuse_bytes, &known));
        v_floats = 0; /* V is not in the scratch */
    }
    cl_mem scratch;
    HS_TRY(hs_scratch(ctx, (pl.u_floats + v_floats + m_floats) * sizeof(float), &scratch));
    wino_v v = {scratch, pl.u_floats, pl.u_floats + v_floats, 0};
    if (reuse_bytes) v = (wino_v){reuse->v, 0, pl.u_floats, known};
    int own;
    HS_TRY(hs_gemm_choose(ctx, &own));
    int packed = own && packed_fits(&pl, &v, p_max);
    cl_mem u = scratch, kept = NULL;
    int ready = 0;
    if (packed) {
        hs_weights_packed(ctx, weight->buf, flip, m, hs_winograd_weights_bytes(ctx, m, pl.q, pl.r),
                          &kept, &ready);
        if (kept) u = kept;
    }
    if (!ready) {
        HS_TRY(packed ? pack_weights(ctx, &pl, u, weight, flip)
                      : weight_gemm(ctx, &pl, scratch, weight, flip));
        if (kept) hs_weights_packed_ready(ctx, weight->buf, flip);
    }
    for (int b = 0; b < in->n; b++)
        for (int oy0 = 0; oy0 < pl.oh; oy0 += band_rows) {
            int rows = pl.oh - oy0 < band_rows ? pl.oh - oy0 : band_rows;
            HS_TRY(band(ctx, &pl, scratch, u, &v, packed, flip, out, channel0, in, ep, b, oy0,
                        rows));
        }
    if (reuse_bytes)
        *reuse = (hs_conv_reuse){reuse->capacity, pl.q, m, pl.h, pl.w, pl.pad_h, pl.pad_w,
                                 reuse->v, reuse->bytes};
    return HS_OK;
}
