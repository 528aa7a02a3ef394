/* winograd.cl — the transforms of a Winograd convolution (Lavin & Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016): 3×3 kernels,
 * stride 1, output tiles of m×m pixels, F(2×2,3×3) (m = 2, input tiles of
 * a×a = 4×4) and F(4×4,3×3) (m = 4, 6×6).
 *
 * A tile's m×m output from its a×a input d and a 3×3 kernel g is
 *   Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A,
 * summed over input channels. That sum of element-wise products is a² GEMMs
 * (host/op_winograd.c): M[t] (R x P) = U[t] (R x Q) · V[t] (Q x P) for each
 * of the a² positions t of a tile, with Q input channels, R output channels
 * and P tiles. These kernels make V (input tiles) and the matrix that turns
 * the weights into U by one more GEMM, and turn M into the output.
 *
 * Each 2-D transform X Z Xᵀ is one 1-D transform (multiplying by X) applied
 * to every row of Z with its results written down a column, twice: the
 * first pass gives X Zᵀ, the second X (X Zᵀ)ᵀ = X Z Xᵀ.
 */

/* out[i*s] = (Bᵀ d)_i, F(2,3). */
inline __attribute__((always_inline)) void wino2_input_1d(const float8 *d, float8 *out, int s)
{
    out[0] = d[0] - d[2];
    out[s] = d[1] + d[2];
    out[2 * s] = d[2] - d[1];
    out[3 * s] = d[1] - d[3];
}

/* out[i*s] = (Aᵀ m)_i, F(2,3). */
inline __attribute__((always_inline)) void wino2_output_1d(const float8 *m, float8 *out, int s)
{
    out[0] = m[0] + m[1] + m[2];
    out[s] = m[1] - m[2] - m[3];
}

/* out[i*s] = (Bᵀ d)_i, F(4,3). */
inline __attribute__((always_inline)) void wino4_input_1d(const float8 *d, float8 *out, int s)
{
    out[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    out[s] = -4.0f * (d[1] + d[2]) + d[3] + d[4];
    out[2 * s] = 4.0f * (d[1] - d[2]) - d[3] + d[4];
    out[3 * s] = 2.0f * (d[3] - d[1]) - d[2] + d[4];
    out[4 * s] = 2.0f * (d[1] - d[3]) - d[2] + d[4];
    out[5 * s] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}

/* out[i*s] = (Aᵀ m)_i, F(4,3). */
inline __attribute__((always_inline)) void wino4_output_1d(const float8 *m, float8 *out, int s)
{
    out[0] = m[0] + m[1] + m[2] + m[3] + m[4];
    out[s] = m[1] - m[2] + 2.0f * (m[3] - m[4]);
    out[2 * s] = m[1] + m[2] + 4.0f * (m[3] + m[4]);
    out[3 * s] = m[1] - m[2] + 8.0f * (m[3] - m[4]) + m[5];
}

/* The 2-D transforms of one tile for tile side m (2 or 4, a constant after
 * inlining, so the loops unroll and the arrays stay in registers). */
inline __attribute__((always_inline)) void wino_input_2d(int m, const float8 *d, float8 *v)
{
    float8 t[36];
    if (m == 4) {
#pragma unroll
        for (int i = 0; i < 6; i++) wino4_input_1d(d + 6 * i, t + i, 6);
#pragma unroll
        for (int i = 0; i < 6; i++) wino4_input_1d(t + 6 * i, v + i, 6);
    } else {
#pragma unroll
        for (int i = 0; i < 4; i++) wino2_input_1d(d + 4 * i, t + i, 4);
#pragma unroll
        for (int i = 0; i < 4; i++) wino2_input_1d(t + 4 * i, v + i, 4);
    }
}

inline __attribute__((always_inline)) void wino_output_2d(int m, const float8 *x, float8 *y)
{
    float8 t[24];
    if (m == 4) {
#pragma unroll
        for (int i = 0; i < 6; i++) wino4_output_1d(x + 6 * i, t + i, 6);
#pragma unroll
        for (int i = 0; i < 4; i++) wino4_output_1d(t + 6 * i, y + i, 4);
    } else {
#pragma unroll
        for (int i = 0; i < 4; i++) wino2_output_1d(x + 4 * i, t + i, 4);
#pragma unroll
        for (int i = 0; i < 2; i++) wino2_output_1d(t + 4 * i, y + i, 2);
    }
}

/* G of F(2,3) and of F(4,3): (G g)_i = sum over p of G[i][p] g[p]. */
__constant float wino_g2[4 * 3] = {1.0f, 0.0f, 0.0f, 0.5f, 0.5f, 0.5f, 0.5f, -0.5f, 0.5f,
                                   0.0f, 0.0f, 1.0f};
__constant float wino_g4[6 * 3] = {
    1.0f / 4,  0.0f,       0.0f,     -1.0f / 6, -1.0f / 6, -1.0f / 6,
    -1.0f / 6, 1.0f / 6,   -1.0f / 6, 1.0f / 24, 1.0f / 12, 1.0f / 6,
    1.0f / 24, -1.0f / 12, 1.0f / 6,  0.0f,      0.0f,      1.0f};

/* u (a x a) = G g Gᵀ for the 3×3 kernel g, G of F(m,3). The weights are
 * transformed once per set of weights (kept while they do not change), so
 * plain loops over the table: a fraction of the compile time of unrolled
 * code, for both m in one kernel. */
void wino_weight_2d(int m, const float *g, float *u)
{
    int a = m + 2;
    __constant float *G = m == 4 ? wino_g4 : wino_g2;
    float gg[6 * 3]; /* G g */
    for (int y = 0; y < a; y++)
        for (int x = 0; x < 3; x++)
            gg[y * 3 + x] = G[y * 3] * g[x] + G[y * 3 + 1] * g[3 + x] + G[y * 3 + 2] * g[6 + x];
    for (int y = 0; y < a; y++)
        for (int x = 0; x < a; x++)
            u[y * a + x] = gg[y * 3] * G[x * 3] + gg[y * 3 + 1] * G[x * 3 + 1] +
                           gg[y * 3 + 2] * G[x * 3 + 2];
}

/* The weight transform as a matrix, for F(m,3): column k of gk (a² x 9) is
 * G e Gᵀ for the 3×3 kernel e that is 1 at k = ky*3 + kx (with `flip`, at
 * 8 - k: the kernel turned by 180°) and 0 elsewhere, so that G g Gᵀ = gk · g
 * for any g read as a column of 9. gk[t*9 + k]; one work-item per k. */
__kernel void winograd_weight_matrix(__global float *restrict gk, int gk_off, int m, int flip)
{
    int k = get_global_id(0);
    if (k >= 9) return;
    float e[9], u[36];
    for (int i = 0; i < 9; i++) e[i] = i == (flip ? 8 - k : k) ? 1.0f : 0.0f;
    wino_weight_2d(m, e, u);
    for (int t = 0; t < (m + 2) * (m + 2); t++) gk[gk_off + t * 9 + k] = u[t];
}

/* The transformed weights U[t] = (G g Gᵀ)_t of F(m,3), written as the GEMM
 * kernel's copy of X (cl/gemm.cl, gemm_pack_x, which calls this) for the a²
 * products of a batch, so they read them without another copy: element
 * (i, k) of U[t] at u[((t*tiles + i/mr)*K + k)*mr + i%mr], zero past row
 * `rows`. g is the kernel weight[i][k] of weights (rows x K x 3 x 3), or
 * with `flip`, weight[k][i] (K x rows x 3 x 3) turned by 180°: the
 * backward-input conv (host/op_winograd.c). For step k of tile `tile`. */
void wino_pack_weights(__global float *u, __global const float *weight, int m, int rows, int K,
                       int tiles, int mr, int flip, int k, int tile)
{
    const int a2 = (m + 2) * (m + 2);
    __global float *dst = u + ((size_t)tile * K + k) * mr;
    size_t plane = (size_t)tiles * K * mr; /* floats of one U[t] */
    for (int r = 0; r < mr; r++) {
        int i = tile * mr + r;
        __global const float *w = weight + (flip ? (size_t)k * rows + i : (size_t)i * K + k) * 9;
        float g[9], x[36];
        for (int j = 0; j < 9; j++) g[j] = i < rows ? w[flip ? 8 - j : j] : 0.0f;
        wino_weight_2d(m, g, x);
        for (int t = 0; t < a2; t++) dst[t * plane + r] = x[t];
    }
}

/* The a columns of 8 tiles side by side in one input row of 8m + 2 pixels
 * (lo: pixels 0..15, hi: 16..31, tail: the last two): lane k of out[j] is
 * pixel k*m + j. By swizzles of whole vectors, which compile to shuffles
 * (element by element took a load each). */
inline __attribute__((always_inline)) void wino2_columns(float16 lo, float2 tail, float8 *out)
{
    out[0] = lo.s02468ace;
    out[1] = lo.s13579bdf;
    out[2] = (float8)(lo.s2468, lo.sace, tail.s0);
    out[3] = (float8)(lo.s3579, lo.sbdf, tail.s1);
}

inline __attribute__((always_inline)) void wino4_columns(float16 lo, float16 hi, float2 tail,
                                                         float8 *out)
{
    out[0] = (float8)(lo.s048c, hi.s048c);
    out[1] = (float8)(lo.s159d, hi.s159d);
    out[2] = (float8)(lo.s26ae, hi.s26ae);
    out[3] = (float8)(lo.s37bf, hi.s37bf);
    out[4] = (float8)(lo.s48c, hi.s048c, tail.s0);
    out[5] = (float8)(lo.s59d, hi.s159d, tail.s1);
}

/* The columns (as wino*_columns) of the 8m + 2 pixels of input row iy from
 * column ix0 of a plane (H, W), zero outside it. Rows wholly inside are
 * read as vectors straight from global memory. */
inline __attribute__((always_inline)) void wino_input_row(int m, __global const float *plane,
                                                          int H, int W, int iy, int ix0,
                                                          float8 *out)
{
    const int span = 8 * m + 2;
    float16 lo = 0.0f, hi = 0.0f; /* a row outside the image stays zero */
    float2 tail = 0.0f;
    int inside = iy >= 0 && iy < H;
    __global const float *src = plane + (size_t)iy * W + ix0;
    if (inside && ix0 >= 0 && ix0 + span <= W) {
        lo = vload16(0, src);
        if (m == 4) hi = vload16(1, src);
        tail = vload2(0, src + span - 2);
    } else if (inside) {
        float row[34]; /* span is at most 8*4 + 2 */
        for (int j = 0; j < span; j++) row[j] = ix0 + j >= 0 && ix0 + j < W ? src[j] : 0.0f;
        lo = vload16(0, row);
        if (m == 4) hi = vload16(1, row);
        tail = vload2(0, row + span - 2);
    }
    if (m == 4)
        wino4_columns(lo, hi, tail, out);
    else
        wino2_columns(lo, tail, out);
}

/* V[c][t][p] = (Bᵀ d B)_t for tile p = ty*tiles_x + tx of channel c of one
 * image `in` (C, H, W): d is the a×a input from row y0 + ty*m, column
 * tx*m - pad_w, zero outside the image. v[v_off + (c*a² + t)*P + p]: each
 * channel's a² planes together, so a work-item's stores stay close (V[t]
 * is a matrix with rows a²·P apart). tiles_x is a multiple of 8: one
 * work-item per 8 tiles of a row of tiles (group g = ty*tiles_x/8 + tx/8)
 * and channel, each lane of a float8 a tile. */
inline __attribute__((always_inline)) void wino_input(int m, __global float *v, int v_off,
                                               __global const float *in, int in_offset,
                                               int C, int H, int W, int pad_w, int y0,
                                               int tiles_x, int P)
{
    int g = get_global_id(0), c = get_global_id(1);
    int groups_x = tiles_x / 8;
    if (g >= P / 8 || c >= C) return;
    const int a = m + 2;
    int ty = g / groups_x, tx0 = (g - ty * groups_x) * 8;
    int iy0 = y0 + ty * m, ix0 = tx0 * m - pad_w;
    __global const float *plane = in + in_offset + (size_t)c * H * W;
    float8 d[36], x[36];
    /* Constant bounds (a and a² for m = 4) so the compiler can unroll even
     * the copy of this function that m is not a constant in. */
#pragma unroll
    for (int i = 0; i < 6; i++)
        if (i < a) wino_input_row(m, plane, H, W, iy0 + i, ix0, d + i * a);
    wino_input_2d(m, d, x);
    __global float *dst = v + v_off + (size_t)c * a * a * P + (size_t)ty * tiles_x + tx0;
#pragma unroll
    for (int i = 0; i < 36; i++)
        if (i < a * a) vstore8(x[i], 0, dst + i * P);
}

__kernel void winograd_input_f2(__global float *restrict v, int v_off,
                                __global const float *restrict in, int in_offset, int C, int H,
                                int W, int pad_w, int y0, int tiles_x, int P)
{
    wino_input(2, v, v_off, in, in_offset, C, H, W, pad_w, y0, tiles_x, P);
}

__kernel void winograd_input_f4(__global float *restrict v, int v_off,
                                __global const float *restrict in, int in_offset, int C, int H,
                                int W, int pad_w, int y0, int tiles_x, int P)
{
    wino_input(4, v, v_off, in, in_offset, C, H, W, pad_w, y0, tiles_x, P);
}

/* Stores n <= 8 output pixels x (+ what row holds when accumulate) through
 * epilogue8 (cl/common.cl) with their residuals res_row; fewer than 8 go
 * through private copies. */
inline __attribute__((always_inline)) void wino_store(__global float *row, const float *x,
                                                      __global const float *res_row, int n,
                                                      int accumulate, int rectify, float slope,
                                                      int has_res, float scale, float res_scale)
{
    float8 v = vload8(0, x), r = 0.0f;
    if (n == 8) {
        if (accumulate) v += vload8(0, row);
        if (has_res) r = vload8(0, res_row);
    } else {
        float held[8] = {0.0f}, res_part[8] = {0.0f};
        for (int j = 0; j < n; j++) {
            if (accumulate) held[j] = row[j];
            if (has_res) res_part[j] = res_row[j];
        }
        v += vload8(0, held);
        r = vload8(0, res_part);
    }
    v = epilogue8(v, r, rectify, slope, has_res, scale, res_scale);
    if (n == 8) {
        vstore8(v, 0, row);
        return;
    }
    float part[8];
    vstore8(v, 0, part);
    for (int j = 0; j < n; j++) row[j] = part[j];
}

/* out[o][oy][ox] = (Aᵀ M A) of tile p, + bias[o] when has_bias, + what out
 * holds there when accumulate, then the residual res[res_off + (o*OH + oy)*OW
 * + ox] and activation of epilogue8 (cl/common.cl). For the output rows
 * oy0 .. oy0+rows-1 of one image (OC, OH, OW): tile p = ty*tiles_x + tx
 * covers rows oy0 + ty*m.., columns tx*m..; its pixels past the band or the
 * image are not written. M[o][t][p] = mm[m_off + (o*a² + t)*P + p], as V.
 * One work-item per 8 tiles of a row of tiles and output channel, as
 * winograd_input. */
inline __attribute__((always_inline)) void wino_output(int m, __global float *out,
                                                int out_offset, __global const float *mm,
                                                int m_off, __global const float *bias,
                                                int has_bias, int rectify, float slope,
                                                __global const float *res, int res_off,
                                                int has_res, float scale, float res_scale,
                                                int accumulate, int OC, int OH, int OW,
                                                int oy0, int rows, int tiles_x, int P)
{
    int g = get_global_id(0), o = get_global_id(1);
    int groups_x = tiles_x / 8;
    if (g >= P / 8 || o >= OC) return;
    const int a = m + 2;
    int ty = g / groups_x, tx0 = (g - ty * groups_x) * 8;
    float8 x[36], y[16];
    __global const float *src = mm + m_off + (size_t)o * a * a * P + (size_t)ty * tiles_x + tx0;
    /* F(4x4)'s 36 loads in a rolled loop: unrolled, they took a quarter of the
     * kernel's compile time (PoCL compiles it at a cold start) for no
     * measurable speed (Real-CUGAN x4 of a 773x512 photo, medians of three).
     * F(2x2)'s 16 stay unrolled: rolled, it took 1.5x the time. */
    if (m == 4) {
#pragma nounroll
        for (int i = 0; i < 36; i++) x[i] = vload8(0, src + i * P);
    } else {
#pragma unroll
        for (int i = 0; i < 16; i++) x[i] = vload8(0, src + i * P);
    }
    wino_output_2d(m, x, y);
    float b = has_bias ? bias[o] : 0.0f;
    int oy = oy0 + ty * m, ox = tx0 * m;
    int band_end = min(oy0 + rows, OH);
    size_t at = (size_t)o * OH * OW + (size_t)oy * OW + ox;
    __global float *dst = out + out_offset + at;
    __global const float *res_dst = res + res_off + at;
    int width = min(8 * m, OW - ox); /* the row's pixels inside the image */
    for (int i = 0; i < m && oy + i < band_end; i++) {
        float line[32]; /* 8 tiles of m pixels */
        for (int j = 0; j < m; j++) {
            float8 v = y[i * m + j] + b;
            line[j] = v.s0; line[j + m] = v.s1; line[j + 2 * m] = v.s2; line[j + 3 * m] = v.s3;
            line[j + 4 * m] = v.s4; line[j + 5 * m] = v.s5; line[j + 6 * m] = v.s6;
            line[j + 7 * m] = v.s7;
        }
        __global float *row = dst + (size_t)i * OW;
        __global const float *res_row = res_dst + (size_t)i * OW;
        if (width == 8 * m) /* a constant count, so the stores unroll */
            for (int q = 0; q < 8 * m; q += 8)
                wino_store(row + q, line + q, res_row + q, 8, accumulate, rectify, slope,
                           has_res, scale, res_scale);
        else
            for (int q = 0; q < width; q += 8)
                wino_store(row + q, line + q, res_row + q, min(8, width - q), accumulate,
                           rectify, slope, has_res, scale, res_scale);
    }
}

__kernel void winograd_output_f2(__global float *restrict out, int out_offset,
                                 __global const float *restrict mm, int m_off,
                                 __global const float *restrict bias, int has_bias, int rectify,
                                 float slope, __global const float *res, int res_off,
                                 int has_res, float scale, float res_scale, int accumulate,
                                 int OC, int OH, int OW, int oy0, int rows, int tiles_x, int P)
{
    wino_output(2, out, out_offset, mm, m_off, bias, has_bias, rectify, slope, res, res_off,
                has_res, scale, res_scale, accumulate, OC, OH, OW, oy0, rows, tiles_x, P);
}

__kernel void winograd_output_f4(__global float *restrict out, int out_offset,
                                 __global const float *restrict mm, int m_off,
                                 __global const float *restrict bias, int has_bias, int rectify,
                                 float slope, __global const float *res, int res_off,
                                 int has_res, float scale, float res_scale, int accumulate,
                                 int OC, int OH, int OW, int oy0, int rows, int tiles_x, int P)
{
    wino_output(4, out, out_offset, mm, m_off, bias, has_bias, rectify, slope, res, res_off,
                has_res, scale, res_scale, accumulate, OC, OH, OW, oy0, rows, tiles_x, P);
}
