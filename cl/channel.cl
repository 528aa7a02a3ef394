/* channel.cl — channel scaling, one factor per plane (n, c): how a
 * squeeze-excite block applies its channel weights (ncnn BinaryOp mul by a
 * vector, Scale by a blob). The channel means before it are per-plane sums
 * (cl/reduce.cl), the sigmoid between them an activation
 * (cl/elementwise.cl). */

/* out[i] = in[i] * v[plane of i] (planes of plane_size values); out may be in. */
__kernel void channel_scale(__global float *out, __global const float *in,
                            __global const float *v, int plane_size, int n)
{
    int i = item_id();
    if (i < n) out[i] = in[i] * v[i / plane_size];
}
