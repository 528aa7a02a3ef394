/* conv.cl — the data movement around the GEMMs of a convolution.
 *
 * A conv is computed band by band over output rows: im2col writes the band's
 * patches as a (IC*KH*KW) x (rows*OW) matrix `col`, hs_gemm (our kernel in
 * gemm.cl or CLBlast, host/gemm.c) multiplies it by the (OC x IC*KH*KW)
 * weights. The backward pass multiplies the other way and im2col's backward
 * (col2im) gathers the patch gradients back into the input gradient.
 */

/* col[k][p], k = (c*KH + ky)*KW + kx, p = (oy - oy0)*OW + ox, for the output
 * rows oy0 .. oy0+rows-1 of one image `in` (IC, H, W). Zero outside.
 * For band row r and k: the contiguous run col[k][r*OW .. r*OW+OW-1], zeros
 * left and right of the input row and a straight copy (stride 1) or a
 * strided gather in between, with the bounds computed once, so the loops
 * carry no division and vectorise. */
void im2col_run(__global float *restrict col, __global const float *restrict in, int H, int W,
                int KH, int KW, int stride, int pad_h, int pad_w, int OW, int oy0, int rows,
                int r, int k)
{
    int t = k / KW;
    int kx = k - t * KW;
    int c = t / KH;
    int ky = t - c * KH;
    int iy = (oy0 + r) * stride - pad_h + ky;
    int x0 = kx - pad_w; /* ix = ox*stride + x0 */
    __global float *dst = col + (size_t)k * rows * OW + (size_t)r * OW;
    int lo = 0, hi = 0;  /* the ox whose ix is inside 0 .. W-1 */
    if (iy >= 0 && iy < H) {
        lo = x0 >= 0 ? 0 : (stride - 1 - x0) / stride;
        hi = W - 1 - x0 >= 0 ? (W - 1 - x0) / stride + 1 : 0;
        if (hi > OW) hi = OW;
        if (lo > hi) lo = hi;
    }
    for (int ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
    if (lo < hi) {
        __global const float *src = in + (size_t)(c * H + iy) * W;
        if (stride == 1)
            for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox + x0];
        else
            for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * stride + x0];
    }
    for (int ox = hi; ox < OW; ox++) dst[ox] = 0.0f;
}

/* backward of im2col for one band: din[c][iy][ix] += sum of the col entries
 * that read it, for the input row (c, iy = iy0 + r). For each (ky, kx) that
 * reaches the row from the band, the run of col[k][(oy - oy0)*OW + ox] over
 * the ox inside the row is added to din[c][iy][ox*stride + kx - pad_w]. */
void col2im_row(__global float *restrict din, __global const float *restrict col, int H, int W,
                int KH, int KW, int stride, int pad_h, int pad_w, int OH, int OW, int oy0,
                int band_rows, int iy0, int r, int c)
{
    int iy = iy0 + r;
    size_t npix = (size_t)band_rows * OW;
    int oy_end = min(oy0 + band_rows, OH);
    int ty = iy + pad_h; /* = oy*stride + ky */
    __global float *drow = din + (size_t)(c * H + iy) * W;
    __global const float *base = col + (size_t)c * KH * KW * npix;
    for (int ky = ty % stride; ky < KH; ky += stride) {
        int oy = (ty - ky) / stride; /* exact; falls as ky grows */
        if (oy < oy0) break;
        if (oy >= oy_end) continue;
        for (int kx = 0; kx < KW; kx++) {
            __global const float *src = base + (size_t)(ky * KW + kx) * npix + (oy - oy0) * OW;
            int x0 = kx - pad_w; /* ix = ox*stride + x0 */
            int lo = x0 >= 0 ? 0 : (stride - 1 - x0) / stride;
            int hi = W - 1 - x0 >= 0 ? (W - 1 - x0) / stride + 1 : 0;
            if (hi > OW) hi = OW;
            if (stride == 1)
                for (int ox = lo; ox < hi; ox++) drow[ox + x0] += src[ox];
            else
                for (int ox = lo; ox < hi; ox++) drow[ox * stride + x0] += src[ox];
        }
    }
}

/* im2col of a band of output rows oy0 .. oy0+rows-1 of one image (C, H, W)
 * at image + offset into col, one work-item per (band row, k < C*KH*KW);
 * or with `backward`, its backward: col's sums added into the image's
 * input rows iy0 .. iy0+in_rows-1 (those the band reaches), one work-item
 * per (input row, channel), so no two write the same element (no atomics)
 * and the result does not depend on scheduling. One kernel for both ways,
 * so a run compiles it once. */
__kernel void im2col(__global float *restrict col, __global float *restrict image, int offset,
                     int C, int H, int W, int KH, int KW, int stride, int pad_h, int pad_w,
                     int OH, int OW, int oy0, int rows, int iy0, int in_rows, int backward)
{
    int r = get_global_id(0), k = get_global_id(1);
    if (backward) {
        if (r < in_rows && k < C)
            col2im_row(image + offset, col, H, W, KH, KW, stride, pad_h, pad_w, OH, OW, oy0,
                       rows, iy0, r, k);
    } else if (r < rows && k < C * KH * KW) {
        im2col_run(col, image + offset, H, W, KH, KW, stride, pad_h, pad_w, OW, oy0, rows, r, k);
    }
}

/* The weights of a stride-1 conv's backward-input conv (host/op_conv.c):
 * turned[i][o][t] = w[o][i][taps-1-t] for w (OC x IC x taps), taps = KH*KW:
 * transposed, and turned by 180° (t = ky*KW + kx read backwards). One
 * work-item per element of turned. */
__kernel void conv_weights_turn(__global float *turned, __global const float *w, int OC, int IC,
                                int taps)
{
    int e = item_id();
    if (e >= OC * IC * taps) return;
    int t = e % taps, io = e / taps;
    int o = io % OC, i = io / OC;
    turned[e] = w[((size_t)o * IC + i) * taps + taps - 1 - t];
}

/* A product's epilogue as a pass of its own (host/gemm.c: after CLBlast;
 * deconv's), channel scaling and squeeze-excite's gate (host/op_channel.c)
 * and the scaled sums and clamp (host/op_elementwise.c): for rows x cols
 * values at offset + r*ld + p, out = epilogue1 (cl/common.cl) of in * f
 * + bias[r % channels] (when has_bias), with the residual
 * res[res_off + r*ld + p], then clamped to [lo, hi] (a NaN stays NaN); in
 * and res may be out. f is row_scale[r] when has_row_scale, its sigmoid
 * with row_sigmoid, else 1. One work-item per run of up to `chunk` values
 * of one row, no division per element. */
__kernel void bias_act(__global float *out, int offset, int ld, int rows, int cols, int channels,
                       __global const float *in, __global const float *row_scale,
                       int has_row_scale, int row_sigmoid, __global const float *bias,
                       int has_bias, int rectify, float slope, __global const float *res,
                       int res_off, int has_res, float scale, float res_scale, float lo, float hi,
                       int chunk)
{
    int seg = get_global_id(0);
    int r = get_global_id(1);
    int p0 = seg * chunk;
    if (p0 >= cols || r >= rows) return;
    int p1 = min(p0 + chunk, cols);
    size_t at = offset + (size_t)r * ld;
    __global float *o = out + at;
    __global const float *v = in + at;
    float f = has_row_scale ? row_scale[r] : 1.0f;
    if (row_sigmoid) f = 1.0f / (1.0f + exp(-f));
    float b = has_bias ? bias[r % channels] : 0.0f;
    __global const float *x = res + res_off + (size_t)r * ld;
    for (int p = p0; p < p1; p++) {
        float y = epilogue1(v[p] * f + b, has_res ? x[p] : 0.0f, rectify, slope, has_res, scale,
                            res_scale);
        o[p] = y < lo ? lo : y > hi ? hi : y;
    }
}

/* dbias[c] = sum over b and p of dout[b][c][p], one work-item per channel,
 * in a fixed order. */
__kernel void bias_backward(__global float *dbias, __global const float *dout, int plane,
                            int channels, int batch)
{
    int c = get_global_id(0);
    if (c >= channels) return;
    float sum = 0.0f;
    for (int b = 0; b < batch; b++) {
        __global const float *p = dout + (size_t)(b * channels + c) * plane;
        for (int i = 0; i < plane; i++) sum += p[i];
    }
    dbias[c] = sum;
}
