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

/* out[i*s] = (G g)_i, F(2,3). */
inline __attribute__((always_inline)) void wino2_weight_1d(const float *g, float *out, int s)
{
    out[0] = g[0];
    out[s] = 0.5f * (g[0] + g[1] + g[2]);
    out[2 * s] = 0.5f * (g[0] - g[1] + g[2]);
    out[3 * s] = g[2];
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

/* out[i*s] = (G g)_i, F(4,3). */
inline __attribute__((always_inline)) void wino4_weight_1d(const float *g, float *out, int s)
{
    out[0] = 0.25f * g[0];
    out[s] = -(g[0] + g[1] + g[2]) / 6.0f;
    out[2 * s] = -(g[0] - g[1] + g[2]) / 6.0f;
    out[3 * s] = g[0] / 24.0f + g[1] / 12.0f + g[2] / 6.0f;
    out[4 * s] = g[0] / 24.0f - g[1] / 12.0f + g[2] / 6.0f;
    out[5 * s] = g[2];
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
inline __attribute__((always_inline)) void wino_weight_2d(int m, const float *g, float *u)
{
    float t[18];
    if (m == 4) {
#pragma unroll
        for (int i = 0; i < 3; i++) wino4_weight_1d(g + 3 * i, t + i, 3);
#pragma unroll
        for (int i = 0; i < 6; i++) wino4_weight_1d(t + 3 * i, u + i, 6);
    } else {
#pragma unroll
        for (int i = 0; i < 3; i++) wino2_weight_1d(g + 3 * i, t + i, 3);
#pragma unroll
        for (int i = 0; i < 4; i++) wino2_weight_1d(t + 3 * i, u + i, 4);
    }
}

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

/* The weight transform as a matrix: column k of gk (a² x 9) is G e Gᵀ for
 * the 3×3 kernel e that is 1 at k = ky*3 + kx (with `flip`, at 8 - k: the
 * kernel turned by 180°) and 0 elsewhere, so that G g Gᵀ = gk · g for any g
 * read as a column of 9. gk[t*9 + k]; one work-item per k. */
inline __attribute__((always_inline)) void wino_weight_matrix(int m, __global float *gk,
                                                       int gk_off, int flip)
{
    int k = get_global_id(0);
    if (k >= 9) return;
    float e[9], u[36];
#pragma unroll
    for (int i = 0; i < 9; i++) e[i] = i == (flip ? 8 - k : k) ? 1.0f : 0.0f;
    wino_weight_2d(m, e, u);
    for (int t = 0; t < (m + 2) * (m + 2); t++) gk[gk_off + t * 9 + k] = u[t];
}

__kernel void winograd_weight_matrix_f2(__global float *restrict gk, int gk_off, int flip)
{
    wino_weight_matrix(2, gk, gk_off, flip);
}

__kernel void winograd_weight_matrix_f4(__global float *restrict gk, int gk_off, int flip)
{
    wino_weight_matrix(4, gk, gk_off, flip);
}

/* V[t][c][p] = (Bᵀ d B)_t for tile p = ty*tiles_x + tx of channel c of one
 * image `in` (C, H, W): d is the a×a input from row y0 + ty*m, column
 * tx*m - pad_w, zero outside the image. v[v_off + (t*C + c)*P + p].
 * tiles_x is a multiple of 8: one work-item per 8 tiles of a row of tiles
 * (group g = ty*tiles_x/8 + tx/8) and channel, each lane of a float8 a tile. */
inline __attribute__((always_inline)) void wino_input(int m, __global float *v, int v_off,
                                               __global const float *in, int in_offset,
                                               int C, int H, int W, int pad_w, int y0,
                                               int tiles_x, int P)
{
    int g = get_global_id(0), c = get_global_id(1);
    int groups_x = tiles_x / 8;
    if (g >= P / 8 || c >= C) return;
    const int a = m + 2, span = 7 * m + a; /* input columns of 8 tiles */
    int ty = g / groups_x, tx0 = (g - ty * groups_x) * 8;
    int iy0 = y0 + ty * m, ix0 = tx0 * m - pad_w;
    __global const float *plane = in + in_offset + (size_t)c * H * W;
    float8 d[36], x[36];
    for (int i = 0; i < a; i++) {
        int iy = iy0 + i;
        float row[34]; /* span is at most 7*4 + 6 */
        __global const float *src = plane + (size_t)iy * W + ix0;
        if (iy < 0 || iy >= H) {
            for (int j = 0; j < span; j++) row[j] = 0.0f;
        } else if (ix0 >= 0 && ix0 + span <= W) {
            for (int j = 0; j < span; j++) row[j] = src[j];
        } else {
            for (int j = 0; j < span; j++)
                row[j] = ix0 + j >= 0 && ix0 + j < W ? src[j] : 0.0f;
        }
        for (int j = 0; j < a; j++)
            d[i * a + j] = (float8)(row[j], row[j + m], row[j + 2 * m], row[j + 3 * m],
                                    row[j + 4 * m], row[j + 5 * m], row[j + 6 * m],
                                    row[j + 7 * m]);
    }
    wino_input_2d(m, d, x);
    size_t stride = (size_t)C * P;
    __global float *dst = v + v_off + (size_t)c * P + (size_t)ty * tiles_x + tx0;
    for (int i = 0; i < a * a; i++) vstore8(x[i], 0, dst + i * stride);
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

/* out[o][oy][ox] = (Aᵀ M A) of tile p, + bias[o] when has_bias, then when
 * rectify x > 0 ? x : slope * x (ReLU: slope 0; LeakyReLU), for the
 * output rows oy0 .. oy0+rows-1 of one image (OC, OH, OW): tile p = ty*tiles_x
 * + tx covers rows oy0 + ty*m.., columns tx*m..; its pixels past the band
 * or the image are not written. M[t][o][p] = mm[m_off + (t*OC + o)*P + p].
 * One work-item per 8 tiles of a row of tiles and output channel, as
 * winograd_input. */
inline __attribute__((always_inline)) void wino_output(int m, __global float *out,
                                                int out_offset, __global const float *mm,
                                                int m_off, __global const float *bias,
                                                int has_bias, int rectify, float slope, int OC,
                                                int OH, int OW, int oy0, int rows, int tiles_x,
                                                int P)
{
    int g = get_global_id(0), o = get_global_id(1);
    int groups_x = tiles_x / 8;
    if (g >= P / 8 || o >= OC) return;
    const int a = m + 2;
    int ty = g / groups_x, tx0 = (g - ty * groups_x) * 8;
    float8 x[36], y[16];
    size_t stride = (size_t)OC * P;
    __global const float *src = mm + m_off + (size_t)o * P + (size_t)ty * tiles_x + tx0;
    for (int i = 0; i < a * a; i++) x[i] = vload8(0, src + i * stride);
    wino_output_2d(m, x, y);
    float b = has_bias ? bias[o] : 0.0f;
    int oy = oy0 + ty * m, ox = tx0 * m;
    int band_end = min(oy0 + rows, OH);
    __global float *dst = out + out_offset + (size_t)o * OH * OW + (size_t)oy * OW + ox;
    for (int i = 0; i < m; i++) {
        float line[32]; /* 8 tiles of m pixels */
        for (int j = 0; j < m; j++) {
            float8 v = y[i * m + j] + b;
            if (rectify) v = select(slope * v, v, v > (float8)(0.0f));
            line[j] = v.s0; line[j + m] = v.s1; line[j + 2 * m] = v.s2; line[j + 3 * m] = v.s3;
            line[j + 4 * m] = v.s4; line[j + 5 * m] = v.s5; line[j + 6 * m] = v.s6;
            line[j + 7 * m] = v.s7;
        }
        __global float *row = dst + (size_t)i * OW;
        if (oy + i >= band_end) break;
        if (ox + 8 * m <= OW) {
            for (int j = 0; j < 8 * m; j++) row[j] = line[j];
        } else {
            for (int j = 0; j < 8 * m; j++)
                if (ox + j < OW) row[j] = line[j];
        }
    }
}

__kernel void winograd_output_f2(__global float *restrict out, int out_offset,
                                 __global const float *restrict mm, int m_off,
                                 __global const float *restrict bias, int has_bias, int rectify,
                                 float slope, int OC, int OH, int OW, int oy0, int rows,
                                 int tiles_x, int P)
{
    wino_output(2, out, out_offset, mm, m_off, bias, has_bias, rectify, slope, OC, OH, OW, oy0,
                rows, tiles_x, P);
}

__kernel void winograd_output_f4(__global float *restrict out, int out_offset,
                                 __global const float *restrict mm, int m_off,
                                 __global const float *restrict bias, int has_bias, int rectify,
                                 float slope, int OC, int OH, int OW, int oy0, int rows,
                                 int tiles_x, int P)
{
    wino_output(4, out, out_offset, mm, m_off, bias, has_bias, rectify, slope, OC, OH, OW, oy0,
                rows, tiles_x, P);
}
