/* channel.cl — per-channel operations, one value per plane (n, c): the
 * channel means of squeeze-excite blocks (ncnn Pooling with global average,
 * also over a window, for the tiles of a whole image) and the channel
 * scaling that applies them (ncnn BinaryOp mul by a vector, Scale by a blob);
 * the sigmoid between them is an activation (cl/elementwise.cl). */

/* out[p] = scale * sum of in[p][y0 + y][x0 + x], y < h, x < w, for every
 * plane p < planes of an in_h × in_w map; compensated (Kahan) summation, so
 * a plane of millions of values keeps float precision. */
__kernel void channel_sum(__global float *out, __global const float *in, int in_h, int in_w,
                          int y0, int x0, int h, int w, float scale, int planes)
{
    int p = item_id();
    if (p >= planes) return;
    float sum = 0.0f, lost = 0.0f;
    for (int y = 0; y < h; y++) {
        __global const float *row = in + ((size_t)p * in_h + y0 + y) * in_w + x0;
        for (int x = 0; x < w; x++) {
            float term = row[x] - lost;
            float next = sum + term;
            lost = (next - sum) - term;
            sum = next;
        }
    }
    out[p] = sum * scale;
}

/* out[p] = sum over the plane of a[p][i] * b[p][i] (plane_size values each):
 * the gradient of a channel scale w.r.t. its vector. */
__kernel void channel_dot(__global float *out, __global const float *a, __global const float *b,
                          int plane_size, int planes)
{
    int p = item_id();
    if (p >= planes) return;
    float sum = 0.0f, lost = 0.0f;
    size_t base = (size_t)p * plane_size;
    for (int i = 0; i < plane_size; i++) {
        float term = a[base + i] * b[base + i] - lost;
        float next = sum + term;
        lost = (next - sum) - term;
        sum = next;
    }
    out[p] = sum;
}

/* out[i] = in[i] * v[plane of i] (planes of plane_size values); out may be in. */
__kernel void channel_scale(__global float *out, __global const float *in,
                            __global const float *v, int plane_size, int n)
{
    int i = item_id();
    if (i < n) out[i] = in[i] * v[i / plane_size];
}
