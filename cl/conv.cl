/* conv.cl — the data movement around the GEMMs of a convolution.
 *
 * A conv is computed band by band over output rows: im2col writes the band's
 * patches as a (IC*KH*KW) x (rows*OW) matrix `col`, CLBlast multiplies it by
 * the (OC x IC*KH*KW) weights. The backward pass multiplies the other way
 * and col2im gathers the patch gradients back into the input gradient.
 */

/* col[k][p], k = (c*KH + ky)*KW + kx, p = (oy - oy0)*OW + ox, for the output
 * rows oy0 .. oy0+rows-1 of one image `in` (IC, H, W). Zero outside. */
__kernel void im2col(__global float *col, __global const float *in, int in_offset,
                     int H, int W, int KH, int KW, int stride, int pad_h, int pad_w,
                     int OW, int oy0, int npix, int K)
{
    int p = get_global_id(0);
    int k = get_global_id(1);
    if (p >= npix || k >= K) return;
    int kx = k % KW;
    int ky = (k / KW) % KH;
    int c = k / (KW * KH);
    int oy = oy0 + p / OW;
    int ox = p % OW;
    int iy = oy * stride - pad_h + ky;
    int ix = ox * stride - pad_w + kx;
    float v = 0.0f;
    if (iy >= 0 && iy < H && ix >= 0 && ix < W) v = in[in_offset + (c * H + iy) * W + ix];
    col[(size_t)k * npix + p] = v;
}

/* backward of im2col for one band: din[c][iy][ix] += sum of the col entries
 * that read it. One work-item per input pixel of rows iy0 .. iy0+rows-1,
 * gathering (no atomics), so the result does not depend on scheduling. */
__kernel void col2im_accumulate(__global float *din, int din_offset, __global const float *col,
                                int C, int H, int W, int KH, int KW, int stride, int pad_h,
                                int pad_w, int OH, int OW, int oy0, int band_rows, int iy0,
                                int in_rows)
{
    int ix = get_global_id(0);
    int r = get_global_id(1);
    int c = get_global_id(2);
    if (ix >= W || r >= in_rows || c >= C) return;
    int iy = iy0 + r;
    int npix = band_rows * OW;
    float sum = 0.0f;
    for (int ky = 0; ky < KH; ky++) {
        int ty = iy + pad_h - ky;
        if (ty < 0 || ty % stride) continue;
        int oy = ty / stride;
        if (oy < oy0 || oy >= oy0 + band_rows || oy >= OH) continue;
        for (int kx = 0; kx < KW; kx++) {
            int tx = ix + pad_w - kx;
            if (tx < 0 || tx % stride) continue;
            int ox = tx / stride;
            if (ox >= OW) continue;
            int k = (c * KH + ky) * KW + kx;
            sum += col[(size_t)k * npix + (oy - oy0) * OW + ox];
        }
    }
    din[din_offset + (c * H + iy) * W + ix] += sum;
}

/* out[b][c][p] += bias[c] */
__kernel void bias_add(__global float *out, __global const float *bias, int plane, int channels,
                       int n)
{
    int i = get_global_id(0);
    if (i < n) out[i] += bias[(i / plane) % channels];
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
