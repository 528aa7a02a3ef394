/* image.cl — between 8-bit images and network tensors: normalisation of
 * interleaved RGB8 into planar floats and back, and the reflect-padded
 * translation (jitter) applied to images during style transfer.
 *
 * Normalisation: planar[c] = (pixel[c'] * scale - mean[c]) / std[c], with
 * c' = c, or 2-c when bgr; the six constants come as scalars m0..m2, s0..s2.
 */

/* pixels (H,W,3) uchar -> out (1,3,H,W); n = 3*H*W */
__kernel void image_to_tensor(__global float *out, __global const uchar *pixels, float scale,
                              float m0, float m1, float m2, float s0, float s1, float s2, int bgr,
                              int n)
{
    int o = item_id();
    if (o >= n) return;
    const float mean[3] = {m0, m1, m2}, std[3] = {s0, s1, s2};
    int plane = n / 3, c = o / plane, p = o % plane;
    float v = pixels[p * 3 + (bgr ? 2 - c : c)];
    out[o] = (v * scale - mean[c]) / std[c];
}

/* in (1,3,H,W) -> pixels (H,W,3) uchar, the inverse of image_to_tensor,
 * rounded half away from zero and clamped to 0..255; n = 3*H*W */
__kernel void tensor_to_image(__global uchar *pixels, __global const float *in, float scale,
                              float m0, float m1, float m2, float s0, float s1, float s2, int bgr,
                              int n)
{
    int q = item_id();
    if (q >= n) return;
    const float mean[3] = {m0, m1, m2}, std[3] = {s0, s1, s2};
    int plane = n / 3, p = q / 3, c = bgr ? 2 - q % 3 : q % 3;
    float v = (in[c * plane + p] * std[c] + mean[c]) / scale;
    pixels[q] = convert_uchar_sat(round(v));
}

/* Index i folded into 0..size-1 by reflection about the edges without
 * repeating them (numpy 'reflect'): -1 -> 1, size -> size-2; period 2(size-1). */
int reflect_index(int i, int size)
{
    if (size == 1) return 0;
    int period = 2 * (size - 1);
    int m = i % period;
    if (m < 0) m += period;
    return m < size ? m : period - m;
}

/* out (N,C,H,W): out[y][x] = in[reflect(y - dy)][reflect(x - dx)]; n = N*C*H*W */
__kernel void translate_reflect(__global float *out, __global const float *in, int H, int W,
                                int dx, int dy, int n)
{
    int o = item_id();
    if (o >= n) return;
    int x = o % W, y = (o / W) % H, plane = o / (W * H);
    int sy = reflect_index(y - dy, H), sx = reflect_index(x - dx, W);
    out[o] = in[((size_t)plane * H + sy) * W + sx];
}

/* The source rows (or columns) q in [0, size) with reflect_index(q - shift) == p:
 * q ≡ ±p + shift (mod 2(size-1)); at most two, one when p is an edge. */
int reflect_sources(int p, int shift, int size, int *q)
{
    if (size == 1) {
        q[0] = 0;
        return 1;
    }
    int period = 2 * (size - 1), count = 0;
    int r1 = (p + shift) % period, r2 = (period - p + shift) % period;
    if (r1 < 0) r1 += period;
    if (r2 < 0) r2 += period;
    if (r1 < size) q[count++] = r1;
    if (r2 < size && r2 != r1) q[count++] = r2;
    return count;
}

/* backward of out[y][x] = in[reflect(y - dy)][reflect(x - dx)]:
 * din[py][px] = sum of dout[qy][qx] over the sources of py and of px. */
__kernel void translate_reflect_backward(__global float *din, __global const float *dout, int H,
                                         int W, int dx, int dy, int n)
{
    int o = item_id();
    if (o >= n) return;
    int px = o % W, py = (o / W) % H, plane = o / (W * H);
    int qy[2], qx[2];
    int ny = reflect_sources(py, dy, H, qy), nx = reflect_sources(px, dx, W, qx);
    float sum = 0.0f;
    for (int a = 0; a < ny; a++)
        for (int b = 0; b < nx; b++) sum += dout[((size_t)plane * H + qy[a]) * W + qx[b]];
    din[o] = sum;
}
